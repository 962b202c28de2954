/*
 * test_core.c - src/core: text people type (lfr_text_check) and the folded
 * form of names compared for separation of duties (lfr_name_fold).
 */
#include <string.h>

#include "core/core.h"
#include "harness.h"

static lfr_status fold(const char *s, char *out) {
    lfr_err err = {{0}};
    return lfr_name_fold(s, out, LFR_MAX_ACTOR, &err);
}

/* Every spelling an operator might type for the same officer folds alike. */
static void test_fold_same_person(void) {
    const char *same[] = {
        "PC 1",
        "pc 1",
        "PC 1 ",
        "  PC   1",
        "PC\xc2\xa0" "1",                 /* NBSP */
        "PC\xe2\x80\x8b 1",              /* zero-width space before the space */
        "P\xe2\x80\x8d" "C 1",            /* zero-width joiner inside */
        "\xef\xbb\xbfPC 1",               /* BOM in front */
        "P\xc2\xad" "C 1",                /* soft hyphen */
        "PC\xe2\x80\x83" "1",             /* em space */
        "\xef\xbc\xb0\xef\xbc\xa3\xe3\x80\x80\xef\xbc\x91", /* full-width "ＰＣ　１" */
        "\xef\xbc\xb0\xef\xbc\xa3 1",     /* full-width letters, ASCII digit */
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        char out[LFR_MAX_ACTOR] = "x";
        CHECK_STATUS(fold(same[i], out), LFR_OK);
        if (strcmp(out, "pc 1") != 0) fprintf(stderr, "  case %zu folded to \"%s\"\n", i, out);
        CHECK(strcmp(out, "pc 1") == 0);
    }
    char out[LFR_MAX_ACTOR];
    CHECK_STATUS(fold("Straße", out), LFR_OK);
    CHECK(strcmp(out, "strasse") == 0);
    CHECK_STATUS(fold("PC 2", out), LFR_OK);
    CHECK(strcmp(out, "pc 2") == 0);
}

/* Look-alike letters from other scripts are refused, not folded. */
static void test_fold_lookalikes_refused(void) {
    char out[LFR_MAX_ACTOR] = "x";
    /* "РС 1" with Cyrillic Er and Es: every letter has a Latin twin */
    CHECK_STATUS(fold("\xd0\xa0\xd0\xa1 1", out), LFR_ERR_INVALID_ARG);
    CHECK(out[0] == '\0');
    /* mixed: Latin P, Cyrillic Es */
    CHECK_STATUS(fold("P\xd0\xa1 1", out), LFR_ERR_INVALID_ARG);
    /* Greek Alpha in "Alice" */
    CHECK_STATUS(fold("\xce\x91lice", out), LFR_ERR_INVALID_ARG);
    /* Greek capitals that all read as Latin: "ΡΟ 7" */
    CHECK_STATUS(fold("\xce\xa1\xce\x9f 7", out), LFR_ERR_INVALID_ARG);
    /* a real Russian name (letters without a Latin twin) is fine */
    CHECK_STATUS(fold("\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd", out), LFR_OK); /* Иван */
    CHECK(strcmp(out, "\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xbd") == 0);         /* иван */
    /* Latin with accents and combining marks (Inherited) is one script */
    CHECK_STATUS(fold("Zo\xc3\xab Le\xcc\x81on", out), LFR_OK);
    CHECK(strcmp(out, "zo\xc3\xab l\xc3\xa9on") == 0);
}

static void test_fold_refusals(void) {
    char out[LFR_MAX_ACTOR];
    CHECK_STATUS(fold("", out), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(fold("   ", out), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(fold("\xe2\x80\x8b", out), LFR_ERR_INVALID_ARG);   /* only a ZWSP */
    CHECK_STATUS(fold("\xc2\xa0\xc2\xa0", out), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(fold("PC\x1b[31m 1", out), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(fold("PC 1\x07", out), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(fold("PC \xff", out), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(fold(NULL, out), LFR_ERR_INVALID_ARG);
    /* does not fit the output */
    char small[4];
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_name_fold("PC 100", small, sizeof small, &err), LFR_ERR_TOO_LARGE);
    CHECK(small[0] == '\0');
    CHECK_STATUS(lfr_name_fold("PC", small, sizeof small, &err), LFR_OK);
    CHECK(strcmp(small, "pc") == 0);
}

static void test_text_check(void) {
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_text_check("burglary, 3 counts", 64, "reason", &err), LFR_OK);
    CHECK_STATUS(lfr_text_check("Caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac", 64, "reason", &err), LFR_OK);
    CHECK_STATUS(lfr_text_check("", 64, "reason", &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "reason is blank") != NULL);
    CHECK_STATUS(lfr_text_check("     ", 64, "reason", &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "reason is blank") != NULL);
    CHECK_STATUS(lfr_text_check(" \xe2\x80\x8b\xc2\xa0 ", 64, "reason", &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_text_check(NULL, 64, "reason", &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "reason is required") != NULL);
    /* ANSI escape, BEL, DEL, a C1 control, newline, tab, bidi override */
    const char *bad[] = {"red \x1b[31mX", "ring\x07", "del\x7f", "c1 \xc2\x9b" "31m",
                         "two\nlines", "tab\there", "abc\xe2\x80\xae" "cba"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(lfr_text_check(bad[i], 64, "reason", &err), LFR_ERR_INVALID_ARG);
        CHECK(strstr(err.msg, "reason contains") != NULL);
    }
    /* invalid UTF-8: a stray continuation byte, an overlong '/', a surrogate */
    const char *inval[] = {"a\x80", "\xc0\xaf", "\xed\xa0\x80", "cut \xe2\x82"};
    for (size_t i = 0; i < sizeof inval / sizeof inval[0]; i++) {
        CHECK_STATUS(lfr_text_check(inval[i], 64, "name", &err), LFR_ERR_INVALID_ARG);
        CHECK(strstr(err.msg, "not valid UTF-8") != NULL);
    }
    /* too long: cap counts the terminator */
    char big[65];
    memset(big, 'a', 64);
    big[64] = '\0';
    CHECK_STATUS(lfr_text_check(big, 64, "purpose", &err), LFR_ERR_TOO_LARGE);
    CHECK(strstr(err.msg, "purpose is longer than 63 bytes") != NULL);
    big[63] = '\0';
    CHECK_STATUS(lfr_text_check(big, 64, "purpose", &err), LFR_OK);
}

int main(void) {
    RUN(test_fold_same_person);
    RUN(test_fold_lookalikes_refused);
    RUN(test_fold_refusals);
    RUN(test_text_check);
    return harness_done("core");
}
