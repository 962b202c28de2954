/*
 * text.c - text people type (names, reasons, notes): the check every free
 * text goes through before it is stored, and the folded form in which
 * people's names are compared (separation of duties).  See core.h.
 *
 * DESIGN
 *   libunistring does the Unicode work: u8_check (valid UTF-8),
 *   u8_normalize (NFKC: full-width letters, ligatures, NBSP -> their plain
 *   forms), u8_casefold, the character properties (white space, default
 *   ignorable code points: zero-width space and joiners, soft hyphen, BOM,
 *   word joiner, ...) and uc_script.
 *
 *   Refused anywhere in a text: C0 controls (tab and newline too: every
 *   field is one line), DEL, C1 controls (ESC of an ANSI sequence, BEL),
 *   and the bidirectional embedding/override/isolate controls, which make a
 *   printed name read differently from what is stored.
 *
 *   Look-alike names: a name mixing Latin with Cyrillic or Greek letters is
 *   refused; so is a Cyrillic or Greek name whose every letter has a Latin
 *   twin ("РС 1" in Cyrillic reads as "PC 1"): it can only be meant to read
 *   as Latin.  A Russian or Greek name with letters that have no Latin twin
 *   is accepted and folds to itself.
 */
#include "core.h"

#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

/* Controls that may not appear in any text, as [lo, hi] ranges. */
static const struct {
    ucs4_t lo, hi;
    const char *what;
} refused_ranges[] = {
    {0x00, 0x1F, "a control character"},
    {0x7F, 0x9F, "a control character"},
    {0x202A, 0x202E, "a bidirectional override"},
    {0x2066, 0x2069, "a bidirectional isolate"},
};

static const char *refused(ucs4_t c) {
    for (size_t i = 0; i < sizeof refused_ranges / sizeof refused_ranges[0]; i++)
        if (c >= refused_ranges[i].lo && c <= refused_ranges[i].hi) return refused_ranges[i].what;
    return NULL;
}

static int invisible(ucs4_t c) {
    return uc_is_property_default_ignorable_code_point(c) ||
           uc_is_general_category(c, UC_CATEGORY_Cf);
}

static int space(ucs4_t c) { return uc_is_property_white_space(c); }

lfr_status lfr_text_check(const char *s, size_t cap, const char *what, lfr_err *err) {
    if (!what) what = "text";
    if (!s) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s is required", what);
    size_t n = strnlen(s, cap);
    if (n >= cap)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "%s is longer than %zu bytes", what,
                           cap ? cap - 1 : 0);
    const uint8_t *u = (const uint8_t *)s;
    const uint8_t *bad = u8_check(u, n);
    if (bad)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "%s is not valid UTF-8 (bad byte 0x%02x at offset %zu)", what, *bad,
                           (size_t)(bad - u));
    int visible = 0;
    for (size_t i = 0; i < n;) {
        ucs4_t c;
        int k = u8_mbtouc(&c, u + i, n - i);
        const char *r = refused(c);
        if (r)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "%s contains %s (U+%04X at offset %zu); type plain text", what, r,
                               (unsigned)c, i);
        if (!space(c) && !invisible(c)) visible = 1;
        i += (size_t)k;
    }
    if (!visible)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s is blank", what);
    return LFR_OK;
}

/* Cyrillic and Greek letters with a Latin twin (upper and lower case). */
static const ucs4_t latin_twins[] = {
    /* Cyrillic */
    0x0405, 0x0406, 0x0408, 0x0410, 0x0412, 0x0415, 0x041A, 0x041C, 0x041D, 0x041E, 0x0420,
    0x0421, 0x0422, 0x0423, 0x0425, 0x0430, 0x0435, 0x043A, 0x043E, 0x0440, 0x0441, 0x0443,
    0x0445, 0x0455, 0x0456, 0x0458, 0x04AE, 0x04AF, 0x04BB, 0x04C0, 0x04CF, 0x0501, 0x051A,
    0x051B, 0x051C, 0x051D,
    /* Greek */
    0x0391, 0x0392, 0x0395, 0x0396, 0x0397, 0x0399, 0x039A, 0x039C, 0x039D, 0x039F, 0x03A1,
    0x03A4, 0x03A5, 0x03A7, 0x03B1, 0x03B9, 0x03BA, 0x03BD, 0x03BF, 0x03C1, 0x03C5,
};

static int has_latin_twin(ucs4_t c) {
    for (size_t i = 0; i < sizeof latin_twins / sizeof latin_twins[0]; i++)
        if (latin_twins[i] == c) return 1;
    return 0;
}

/* The scripts a name's letters come from; Common and Inherited (digits,
 * spaces, punctuation, combining marks) belong to none. */
enum { SCRIPT_LATIN = 1, SCRIPT_GREEK = 2, SCRIPT_CYRILLIC = 4 };

static lfr_status script_check(const uint8_t *u, size_t n, const char *orig, lfr_err *err) {
    const uc_script_t *latin = uc_script_byname("Latin");
    const uc_script_t *greek = uc_script_byname("Greek");
    const uc_script_t *cyr = uc_script_byname("Cyrillic");
    unsigned seen = 0;
    int foreign_letters = 0, foreign_twins = 0;
    for (size_t i = 0; i < n;) {
        ucs4_t c;
        i += (size_t)u8_mbtouc(&c, u + i, n - i);
        const uc_script_t *sc = uc_script(c);
        if (!sc) continue;
        if (sc == latin) seen |= SCRIPT_LATIN;
        else if (sc == greek) seen |= SCRIPT_GREEK;
        else if (sc == cyr) seen |= SCRIPT_CYRILLIC;
        else continue;
        if (sc != latin && uc_is_alpha(c)) {
            foreign_letters++;
            foreign_twins += has_latin_twin(c);
        }
    }
    if ((seen & (seen - 1)) != 0)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "name \"%s\" mixes Latin, Greek or Cyrillic letters: type it in one "
                           "script", orig);
    if (foreign_letters > 0 && foreign_twins == foreign_letters)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "name \"%s\" is written in %s letters that all look like Latin "
                           "ones: type it in Latin letters",
                           orig, seen == SCRIPT_GREEK ? "Greek" : "Cyrillic");
    return LFR_OK;
}

lfr_status lfr_name_fold(const char *s, char *out, size_t cap, lfr_err *err) {
    if (out && cap) out[0] = '\0';
    if (!out || cap == 0) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "no room for the name");
    lfr_status st = lfr_text_check(s, LFR_MAX_TEXT, "name", err);
    if (st != LFR_OK) return st;
    size_t n = strlen(s);
    size_t nn = 0, nf = 0;
    uint8_t *norm = u8_normalize(UNINORM_NFKC, (const uint8_t *)s, n, NULL, &nn);
    if (!norm) return lfr_err_set(err, LFR_ERR_NOMEM, "cannot normalise name");
    st = script_check(norm, nn, s, err);
    uint8_t *fold = NULL;
    if (st == LFR_OK) {
        fold = u8_casefold(norm, nn, NULL, UNINORM_NFKC, NULL, &nf);
        if (!fold) st = lfr_err_set(err, LFR_ERR_NOMEM, "cannot case-fold name");
    }
    free(norm);
    if (st != LFR_OK) return st;
    /* Drop invisibles, one space per run of white space, trimmed. */
    size_t o = 0;
    int pending_space = 0;
    for (size_t i = 0; i < nf && st == LFR_OK;) {
        ucs4_t c;
        int k = u8_mbtouc(&c, fold + i, nf - i);
        if (space(c)) {
            pending_space = o > 0;
        } else if (!invisible(c)) {
            size_t need = (size_t)k + (pending_space ? 1 : 0);
            if (o + need >= cap) {
                st = lfr_err_set(err, LFR_ERR_TOO_LARGE, "name folds to more than %zu bytes",
                                 cap - 1);
                break;
            }
            if (pending_space) out[o++] = ' ';
            pending_space = 0;
            memcpy(out + o, fold + i, (size_t)k);
            o += (size_t)k;
        }
        i += (size_t)k;
    }
    free(fold);
    out[st == LFR_OK ? o : 0] = '\0';
    if (st == LFR_OK && o == 0) st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "name is blank");
    return st;
}
