/*
 * test_account.c - accounts, sign-in with backoff and lockout, sessions,
 * device pairing and tokens, their audit records and the pairing QR code.
 * Passwords are hashed with the real argon2id interactive limits (about
 * 0.2 s each here), so the tests count their sign-ins.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account/account.h"
#include "audit/audit.h"
#include "core/core.h"
#include "deploy/deploy.h"
#include "harness.h"
#include "store/store.h"

static int64_t fake_now = 1750000000;
static int64_t fake_clock(void *ctx) { (void)ctx; return fake_now; }
static char dir[256], dbp[300];

static const char PW[] = "correct horse battery";
static const char PW2[] = "staple gun lighthouse";
static const lfr_actor ADMIN = {"root admin", LFR_ROLE_ADMIN};
static const lfr_actor OPR = {"PC 7 Operator", LFR_ROLE_OPERATOR};
static const lfr_actor AUTH = {"Supt Auth", LFR_ROLE_AUTHORISER};

#define R(x) LFR_ROLE_BIT(LFR_ROLE_##x)

static lfr_store *begin(void) {
    fake_now = 1750000000;
    snprintf(dir, sizeof dir, "/tmp/lfr_account_XXXXXX");
    if (!mkdtemp(dir)) perror("mkdtemp");
    snprintf(dbp, sizeof dbp, "%s/openlfr.db", dir);
    lfr_store_config cfg = {.db_path = dbp, .now = fake_clock};
    lfr_store *s = NULL;
    lfr_err err = {{0}};
    lfr_status st = lfr_store_open(&cfg, &s, &err);
    if (st != LFR_OK) fprintf(stderr, "  open: %s: %s\n", lfr_status_str(st), err.msg);
    return s;
}

static void end(lfr_store *s) {
    if (s) lfr_store_close(s);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
}

static int64_t add_user(lfr_store *s, const char *login, unsigned roles, const char *pw) {
    int64_t id = 0;
    lfr_err err = {{0}};
    lfr_status st = lfr_account_add(s, login, NULL, roles, pw, &ADMIN, &id, &err);
    if (st != LFR_OK) fprintf(stderr, "  add %s: %s: %s\n", login, lfr_status_str(st), err.msg);
    CHECK_STATUS(st, LFR_OK);
    return id;
}

static void drop(char **token) {
    if (*token) {
        sodium_memzero(*token, strlen(*token));
        lfr_free(*token);
        *token = NULL;
    }
}

/* A deployment moved to `state` (draft, authorised, live or ended). */
static int64_t deployment(lfr_store *s, lfr_deploy_state state) {
    static uint8_t img[200];
    static float tmpl[192];
    lfr_err err = {{0}};
    lfr_deploy_params p = {"Match day", "Stadium north gate", "locate wanted offenders",
                           "common law + PACE", fake_now - 60, fake_now + 8 * 3600, 0.6f,
                           "north", 0};
    int64_t id = 0;
    CHECK_STATUS(lfr_deploy_create(s, &p, &OPR, &id, &err), LFR_OK);
    if (state == LFR_DEPLOY_DRAFT) return id;
    lfr_watchlist_entry e = {"REF-1", "Subject", LFR_WATCHLIST_WANTED_FOR_OFFENCE, NULL,
                             "burglary", "custody image", "2024-03-04", 0, NULL};
    tmpl[0] = 1.0f;
    CHECK_STATUS(lfr_deploy_entry_add(s, id, &e, img, sizeof img, tmpl, 192, &OPR, NULL, &err),
                 LFR_OK);
    CHECK_STATUS(lfr_deploy_authorise(s, id, &AUTH, &err), LFR_OK);
    if (state == LFR_DEPLOY_AUTHORISED) return id;
    CHECK_STATUS(lfr_deploy_start(s, id, &OPR, &err), LFR_OK);
    if (state == LFR_DEPLOY_LIVE) return id;
    CHECK_STATUS(lfr_deploy_end(s, id, &OPR, NULL, &err), LFR_OK);
    return id;
}

static double ms_since(struct timespec a) {
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
}

/* Accounts ----------------------------------------------------------------- */
static void test_add_find_folded(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    int64_t n = -1;
    CHECK_STATUS(lfr_account_count(s, &n, &err), LFR_OK);
    CHECK_EQ_INT(n, 0);
    int64_t id = add_user(s, "PC 1", R(OFFICER) | R(OPERATOR), PW);
    CHECK(id > 0);
    const char *same[] = {"pc 1", "PC 1 ", "PC\xc2\xa0" "1", "\xef\xbc\xb0\xef\xbc\xa3\xef\xbc\x91",
                          "P\xe2\x80\x8b" "C 1", "pc-1"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        lfr_user_info u;
        CHECK_STATUS(lfr_account_find(s, same[i], &u, &err), LFR_OK);
        CHECK_EQ_INT(u.id, id);
        CHECK(strcmp(u.login, "PC 1") == 0);
        CHECK(strcmp(u.login_folded, "pc 1") == 0);
        CHECK_EQ_INT(u.roles, R(OFFICER) | R(OPERATOR));
    }
    /* one person, one account: the same name typed differently is refused */
    int64_t other = 0;
    CHECK_STATUS(lfr_account_add(s, "pc 1", NULL, R(OFFICER), PW, &ADMIN, &other, &err),
                 LFR_ERR_EXISTS);
    CHECK(strstr(err.msg, "PC 1") != NULL);
    CHECK_STATUS(lfr_account_add(s, "PC1", NULL, R(OFFICER), PW, &ADMIN, &other, &err),
                 LFR_ERR_EXISTS);
    /* Cyrillic look-alike "РС 1" */
    CHECK_STATUS(lfr_account_add(s, "\xd0\xa0\xd0\xa1 1", NULL, R(OFFICER), PW, &ADMIN, &other,
                                 &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_account_add(s, "P\xd0\xa1 1", NULL, R(OFFICER), PW, &ADMIN, &other, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_account_add(s, "PC\x1b[31m 2", NULL, R(OFFICER), PW, &ADMIN, &other, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_account_add(s, "   ", NULL, R(OFFICER), PW, &ADMIN, &other, &err),
                 LFR_ERR_INVALID_ARG);
    /* roles and passwords */
    CHECK_STATUS(lfr_account_add(s, "PC 2", NULL, 0, PW, &ADMIN, &other, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_account_add(s, "PC 2", NULL, R(SYSTEM), PW, &ADMIN, &other, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_account_add(s, "PC 2", NULL, 1u << 20, PW, &ADMIN, &other, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_account_add(s, "PC 2", NULL, R(OFFICER), "short", &ADMIN, &other, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "at least 12") != NULL);
    char longpw[LFR_MAX_PASSWORD + 2];
    memset(longpw, 'x', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = '\0';
    CHECK_STATUS(lfr_account_add(s, "PC 2", NULL, R(OFFICER), longpw, &ADMIN, &other, &err),
                 LFR_ERR_TOO_LARGE);
    CHECK_STATUS(lfr_account_add(s, "PC 2", NULL, R(OFFICER), NULL, &ADMIN, &other, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_EQ_INT(other, 0);
    lfr_user_info u;
    CHECK_STATUS(lfr_account_find(s, "nobody", &u, &err), LFR_ERR_NOT_FOUND);
    CHECK_STATUS(lfr_account_get(s, 999, &u, &err), LFR_ERR_NOT_FOUND);
    int64_t id2 = add_user(s, "Insp Two", R(AUTHORISER), PW);
    lfr_user_info *list = NULL;
    size_t k = 0;
    CHECK_STATUS(lfr_account_list(s, &list, &k, &err), LFR_OK);
    CHECK_EQ_INT(k, 2);
    if (k == 2) {
        CHECK_EQ_INT(list[0].id, id);
        CHECK_EQ_INT(list[1].id, id2);
        CHECK(strcmp(list[1].display_name, "Insp Two") == 0);
    }
    lfr_free(list);
    CHECK_STATUS(lfr_account_count(s, &n, &err), LFR_OK);
    CHECK_EQ_INT(n, 2);
    end(s);
}

static void test_login_wrong_password(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    int64_t id = add_user(s, "PC 1", R(OFFICER) | R(OPERATOR), PW);
    char *tok = NULL;
    lfr_principal who;
    CHECK_STATUS(lfr_account_login(s, "pc 1", PW, &tok, &who, &err), LFR_OK);
    CHECK(tok && strlen(tok) == 43);
    CHECK_EQ_INT(who.user_id, id);
    CHECK(who.session_id > 0);
    CHECK_EQ_INT(who.device_id, 0);
    CHECK_EQ_INT(who.roles, R(OFFICER) | R(OPERATOR));
    CHECK(strcmp(who.login, "PC 1") == 0);
    lfr_principal a;
    CHECK_STATUS(lfr_account_authenticate(s, tok, &a, &err), LFR_OK);
    CHECK_EQ_INT(a.user_id, id);
    CHECK_EQ_INT(a.session_id, who.session_id);
    CHECK_EQ_INT(a.roles, who.roles);
    drop(&tok);

    /* wrong password and unknown name: one status, one sentence */
    char wrong_msg[LFR_ERRBUF_SIZE];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_STATUS(lfr_account_login(s, "PC 1", "wrong password!", &tok, &who, &err),
                 LFR_ERR_UNAUTHENTICATED);
    double known_ms = ms_since(t0);
    CHECK(tok == NULL);
    CHECK_EQ_INT(who.user_id, 0);
    snprintf(wrong_msg, sizeof wrong_msg, "%s", err.msg);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_STATUS(lfr_account_login(s, "PC 99", "wrong password!", &tok, &who, &err),
                 LFR_ERR_UNAUTHENTICATED);
    double unknown_ms = ms_since(t0);
    CHECK(strcmp(err.msg, wrong_msg) == 0);
    /* an unknown name costs an argon2id verification too (no enumeration
     * by timing): at least half the time of a known one */
    fprintf(stderr, "  wrong password %.0f ms, unknown name %.0f ms\n", known_ms, unknown_ms);
    CHECK(unknown_ms > 0.5 * known_ms);
    CHECK_STATUS(lfr_account_login(s, "\x01garbage", "wrong password!", &tok, &who, &err),
                 LFR_ERR_UNAUTHENTICATED);
    CHECK(strcmp(err.msg, wrong_msg) == 0);
    CHECK_STATUS(lfr_account_login(s, "PC 1", NULL, &tok, &who, &err), LFR_ERR_UNAUTHENTICATED);
    lfr_user_info u;
    CHECK_STATUS(lfr_account_get(s, id, &u, &err), LFR_OK);
    CHECK_EQ_INT(u.failures, 2);
    CHECK(u.last_login_at == fake_now);
    /* success resets the count */
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &tok, NULL, &err), LFR_OK);
    drop(&tok);
    CHECK_STATUS(lfr_account_get(s, id, &u, &err), LFR_OK);
    CHECK_EQ_INT(u.failures, 0);
    end(s);
}

static void test_backoff_lockout(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    int64_t id = add_user(s, "PC 1", R(OFFICER), PW);
    char *tok = NULL;
    lfr_user_info u;
    for (int i = 1; i < LFR_LOGIN_FREE_FAILURES; i++) {
        CHECK_STATUS(lfr_account_login(s, "PC 1", "wrong password!", &tok, NULL, &err),
                     LFR_ERR_UNAUTHENTICATED);
        CHECK_STATUS(lfr_account_get(s, id, &u, &err), LFR_OK);
        CHECK_EQ_INT(u.locked_until, 0);                  /* free failures */
    }
    int64_t want = LFR_LOGIN_BACKOFF_MIN_S;
    int waits = 0;
    for (;;) {
        CHECK_STATUS(lfr_account_login(s, "PC 1", "wrong password!", &tok, NULL, &err),
                     LFR_ERR_UNAUTHENTICATED);
        CHECK_STATUS(lfr_account_get(s, id, &u, &err), LFR_OK);
        CHECK_EQ_INT(u.locked_until - fake_now, want);
        /* while waiting even the right password is refused, unchecked */
        CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &tok, NULL, &err), LFR_ERR_RATE_LIMITED);
        CHECK(tok == NULL);
        CHECK(strstr(err.msg, "must wait") != NULL);
        fake_now += want - 1;
        CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &tok, NULL, &err), LFR_ERR_RATE_LIMITED);
        fake_now += 1;
        waits++;
        if (want == LFR_LOGIN_LOCKOUT_S || waits > 20) break;
        want = want * 2 < LFR_LOGIN_LOCKOUT_S ? want * 2 : LFR_LOGIN_LOCKOUT_S;
    }
    CHECK_EQ_INT(want, LFR_LOGIN_LOCKOUT_S);
    /* the lockout stays at its cap */
    CHECK_STATUS(lfr_account_login(s, "PC 1", "wrong password!", &tok, NULL, &err),
                 LFR_ERR_UNAUTHENTICATED);
    CHECK_STATUS(lfr_account_get(s, id, &u, &err), LFR_OK);
    CHECK_EQ_INT(u.locked_until - fake_now, LFR_LOGIN_LOCKOUT_S);
    fake_now += LFR_LOGIN_LOCKOUT_S;
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &tok, NULL, &err), LFR_OK);
    drop(&tok);
    CHECK_STATUS(lfr_account_get(s, id, &u, &err), LFR_OK);
    CHECK_EQ_INT(u.failures, 0);
    CHECK_EQ_INT(u.locked_until, 0);
    end(s);
}

static void test_disabled_account(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    int64_t adm = add_user(s, "root admin", R(ADMIN), PW);
    int64_t id = add_user(s, "PC 1", R(OFFICER), PW);
    int64_t dep = deployment(s, LFR_DEPLOY_LIVE);
    char *tok = NULL, *code = NULL, *dtok = NULL;
    lfr_principal who;
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &tok, &who, &err), LFR_OK);
    CHECK_STATUS(lfr_device_pair_code(s, dep, &OPR, &code, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_device_pair(s, code, "phone", "PC 1", PW, &dtok, &who, &err), LFR_OK);
    int64_t dev = who.device_id;
    CHECK_STATUS(lfr_account_disable(s, id, &ADMIN, &err), LFR_OK);
    /* its session and device token stop at once */
    CHECK_STATUS(lfr_account_authenticate(s, tok, &who, &err), LFR_ERR_UNAUTHENTICATED);
    CHECK_STATUS(lfr_account_authenticate(s, dtok, &who, &err), LFR_ERR_UNAUTHENTICATED);
    drop(&tok);
    /* the right password: disabled; a wrong one: just wrong */
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &tok, &who, &err), LFR_ERR_PERMISSION);
    CHECK(strstr(err.msg, "disabled") != NULL);
    CHECK(tok == NULL);
    CHECK_STATUS(lfr_account_login(s, "PC 1", "wrong password!", &tok, &who, &err),
                 LFR_ERR_UNAUTHENTICATED);
    CHECK_STATUS(lfr_account_disable(s, id, &ADMIN, &err), LFR_ERR_STATE);
    lfr_user_info u;
    CHECK_STATUS(lfr_account_get(s, id, &u, &err), LFR_OK);
    CHECK_EQ_INT(u.disabled, 1);
    lfr_device_info d;
    CHECK_STATUS(lfr_device_get(s, dev, &d, &err), LFR_OK);
    CHECK(d.revoked_at == fake_now);
    CHECK(strcmp(d.revoked_by, ADMIN.name) == 0);
    /* the last enabled admin stays */
    CHECK_STATUS(lfr_account_disable(s, adm, &ADMIN, &err), LFR_ERR_STATE);
    CHECK(strstr(err.msg, "last enabled admin") != NULL);
    CHECK_STATUS(lfr_account_disable(s, 999, &ADMIN, &err), LFR_ERR_NOT_FOUND);
    drop(&code);
    drop(&dtok);
    end(s);
}

static void test_passwd(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    int64_t id = add_user(s, "PC 1", R(OFFICER), PW);
    char *tok = NULL;
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &tok, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_account_passwd(s, id, "short", &ADMIN, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_account_passwd(s, 999, PW2, &ADMIN, &err), LFR_ERR_NOT_FOUND);
    CHECK_STATUS(lfr_account_passwd(s, id, PW2, &ADMIN, &err), LFR_OK);
    lfr_principal who;
    /* the session signed in with the old password ends */
    CHECK_STATUS(lfr_account_authenticate(s, tok, &who, &err), LFR_ERR_UNAUTHENTICATED);
    drop(&tok);
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &tok, NULL, &err), LFR_ERR_UNAUTHENTICATED);
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW2, &tok, NULL, &err), LFR_OK);
    drop(&tok);
    end(s);
}

/* Sessions ------------------------------------------------------------------ */
static void test_session_expiry(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    add_user(s, "PC 1", R(OPERATOR), PW);
    char *tok = NULL;
    lfr_principal who;
    /* default: LFR_SESSION_TTL_S */
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &tok, NULL, &err), LFR_OK);
    fake_now += LFR_SESSION_TTL_S - 1;
    CHECK_STATUS(lfr_account_authenticate(s, tok, &who, &err), LFR_OK);
    fake_now += 1;
    CHECK_STATUS(lfr_account_authenticate(s, tok, &who, &err), LFR_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.msg, "expired") != NULL);
    CHECK_STATUS(lfr_account_logout(s, tok, &err), LFR_ERR_UNAUTHENTICATED);
    drop(&tok);
    /* the setting the app writes */
    CHECK_STATUS(lfr_store_setting_set_int(s, LFR_SETTING_SESSION_TTL, 600), LFR_OK);
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &tok, NULL, &err), LFR_OK);
    fake_now += 599;
    CHECK_STATUS(lfr_account_authenticate(s, tok, &who, &err), LFR_OK);
    fake_now += 1;
    CHECK_STATUS(lfr_account_authenticate(s, tok, &who, &err), LFR_ERR_UNAUTHENTICATED);
    drop(&tok);
    /* used-up sessions are dropped at the next sign-in */
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &tok, NULL, &err), LFR_OK);
    int64_t n = -1;
    lfr_store_query_int64(s, "SELECT count(*) FROM sessions", 0, 0, -1, &n, NULL);
    CHECK_EQ_INT(n, 1);
    drop(&tok);
    end(s);
}

static void test_logout_revokes(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    add_user(s, "PC 1", R(OPERATOR), PW);
    char *t1 = NULL, *t2 = NULL;
    lfr_principal who;
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &t1, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &t2, NULL, &err), LFR_OK);
    CHECK(strcmp(t1, t2) != 0);
    CHECK_STATUS(lfr_account_logout(s, t1, &err), LFR_OK);
    CHECK_STATUS(lfr_account_authenticate(s, t1, &who, &err), LFR_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.msg, "signed out") != NULL);
    CHECK_STATUS(lfr_account_logout(s, t1, &err), LFR_ERR_UNAUTHENTICATED);
    /* the other session is untouched */
    CHECK_STATUS(lfr_account_authenticate(s, t2, &who, &err), LFR_OK);
    drop(&t1);
    drop(&t2);
    end(s);
}

static void test_forged_tokens(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    add_user(s, "PC 1", R(OPERATOR), PW);
    char *tok = NULL;
    lfr_principal who;
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &tok, NULL, &err), LFR_OK);
    char buf[128];
    /* one character changed */
    snprintf(buf, sizeof buf, "%s", tok);
    buf[10] = buf[10] == 'A' ? 'B' : 'A';
    CHECK_STATUS(lfr_account_authenticate(s, buf, &who, &err), LFR_ERR_UNAUTHENTICATED);
    CHECK_EQ_INT(who.user_id, 0);
    /* a well-formed token nobody was given */
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(buf, sizeof buf, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    CHECK_STATUS(lfr_account_authenticate(s, buf, &who, &err), LFR_ERR_UNAUTHENTICATED);
    /* the real one with something around it */
    snprintf(buf, sizeof buf, "%s\n", tok);
    CHECK_STATUS(lfr_account_authenticate(s, buf, &who, &err), LFR_ERR_UNAUTHENTICATED);
    snprintf(buf, sizeof buf, " %s", tok);
    CHECK_STATUS(lfr_account_authenticate(s, buf, &who, &err), LFR_ERR_UNAUTHENTICATED);
    snprintf(buf, sizeof buf, "%.42s", tok);
    CHECK_STATUS(lfr_account_authenticate(s, buf, &who, &err), LFR_ERR_UNAUTHENTICATED);
    /* standard base64 instead of base64url, garbage, empty, NULL */
    snprintf(buf, sizeof buf, "%s", tok);
    for (char *p = buf; *p; p++) if (*p == '-' || *p == '_') *p = '+';
    if (strcmp(buf, tok) != 0)
        CHECK_STATUS(lfr_account_authenticate(s, buf, &who, &err), LFR_ERR_UNAUTHENTICATED);
    memset(buf, '!', 43);
    buf[43] = '\0';
    CHECK_STATUS(lfr_account_authenticate(s, buf, &who, &err), LFR_ERR_UNAUTHENTICATED);
    CHECK_STATUS(lfr_account_authenticate(s, "' OR 1=1 --", &who, &err), LFR_ERR_UNAUTHENTICATED);
    CHECK_STATUS(lfr_account_authenticate(s, "", &who, &err), LFR_ERR_UNAUTHENTICATED);
    CHECK_STATUS(lfr_account_authenticate(s, NULL, &who, &err), LFR_ERR_UNAUTHENTICATED);
    CHECK_STATUS(lfr_account_logout(s, "garbage", &err), LFR_ERR_UNAUTHENTICATED);
    /* and the real one still works */
    CHECK_STATUS(lfr_account_authenticate(s, tok, &who, &err), LFR_OK);
    drop(&tok);
    end(s);
}

/* 1 when `needle` occurs in any of the database's files. */
static int in_db_files(const void *needle, size_t n) {
    const char *suffix[] = {"", "-wal", "-journal"};
    for (size_t i = 0; i < 3; i++) {
        char p[400];
        snprintf(p, sizeof p, "%s%s", dbp, suffix[i]);
        uint8_t *data = NULL;
        size_t len = 0;
        if (lfr_read_file(p, 1u << 30, &data, &len) != LFR_OK) continue;
        int hit = 0;
        for (size_t k = 0; !hit && len >= n && k <= len - n; k++)
            hit = memcmp(data + k, needle, n) == 0;
        lfr_free(data);
        if (hit) return 1;
    }
    return 0;
}

static void test_tokens_never_stored(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    add_user(s, "PC 1", R(OFFICER), PW);
    int64_t dep = deployment(s, LFR_DEPLOY_AUTHORISED);
    char *tok = NULL, *code = NULL, *dtok = NULL;
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &tok, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_device_pair_code(s, dep, &OPR, &code, NULL, &err), LFR_OK);
    char code_copy[16];
    snprintf(code_copy, sizeof code_copy, "%s", code ? code : "");
    CHECK_STATUS(lfr_device_pair(s, code, "phone", "PC 1", PW, &dtok, NULL, &err), LFR_OK);
    lfr_store_close(s);
    s = NULL;
    uint8_t raw[32];
    size_t rn = 0;
    const char *secrets[] = {tok, dtok};
    for (int i = 0; i < 2; i++) {
        if (!secrets[i]) { CHECK(0); continue; }
        CHECK(!in_db_files(secrets[i], strlen(secrets[i])));
        CHECK(sodium_base642bin(raw, sizeof raw, secrets[i], strlen(secrets[i]), NULL, &rn, NULL,
                                sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0);
        CHECK_EQ_INT(rn, 32);
        CHECK(!in_db_files(raw, sizeof raw));
        /* sanity: the hash IS there, so the scan can see the files */
        uint8_t h[32];
        crypto_generichash(h, sizeof h, raw, sizeof raw, NULL, 0);
        CHECK(in_db_files(h, sizeof h));
    }
    CHECK(!in_db_files(code_copy, strlen(code_copy)));
    CHECK(!in_db_files(PW, strlen(PW)));
    CHECK(in_db_files("$argon2id$", 10));
    drop(&tok);
    drop(&code);
    drop(&dtok);
    end(s);
}

/* Devices ------------------------------------------------------------------- */
static void test_pair_code_single_use_expiry(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    int64_t off = add_user(s, "PC 1", R(OFFICER), PW);
    int64_t dep = deployment(s, LFR_DEPLOY_AUTHORISED);
    char *code = NULL, *tok = NULL;
    int64_t exp = 0;
    lfr_principal who;
    CHECK_STATUS(lfr_device_pair_code(s, dep, &OPR, &code, &exp, &err), LFR_OK);
    CHECK_EQ_INT(exp, fake_now + LFR_PAIR_CODE_TTL_S);
    CHECK(code && strlen(code) == 8);
    CHECK(code && strpbrk(code, "01OILaeiou") == NULL);
    /* typed in lower case with a dash */
    char typed[16];
    snprintf(typed, sizeof typed, "%.4s-%s", code, code + 4);
    for (char *p = typed; *p; p++) *p = (char)tolower((unsigned char)*p);
    CHECK_STATUS(lfr_device_pair(s, typed, "Phone of PC 1", "pc 1", PW, &tok, &who, &err), LFR_OK);
    CHECK(tok && strlen(tok) == 43);
    CHECK(who.device_id > 0);
    CHECK_EQ_INT(who.deployment_id, dep);
    CHECK_EQ_INT(who.user_id, off);
    CHECK_EQ_INT(who.roles, R(OFFICER));
    drop(&tok);
    /* single use */
    CHECK_STATUS(lfr_device_pair(s, code, "second phone", "PC 1", PW, &tok, &who, &err),
                 LFR_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.msg, "pairing code") != NULL);
    CHECK(tok == NULL);
    drop(&code);
    /* expiry, from the setting the app writes */
    CHECK_STATUS(lfr_store_setting_set_int(s, LFR_SETTING_PAIR_CODE_TTL, 120), LFR_OK);
    CHECK_STATUS(lfr_device_pair_code(s, dep, &OPR, &code, &exp, &err), LFR_OK);
    CHECK_EQ_INT(exp, fake_now + 120);
    fake_now += 120;
    CHECK_STATUS(lfr_device_pair(s, code, "late phone", "PC 1", PW, &tok, &who, &err),
                 LFR_ERR_UNAUTHENTICATED);
    drop(&code);
    /* malformed codes */
    CHECK_STATUS(lfr_device_pair(s, "ABC", "x", "PC 1", PW, &tok, &who, &err),
                 LFR_ERR_UNAUTHENTICATED);
    CHECK_STATUS(lfr_device_pair(s, "0OI1L000", "x", "PC 1", PW, &tok, &who, &err),
                 LFR_ERR_UNAUTHENTICATED);
    CHECK_STATUS(lfr_device_pair(s, NULL, "x", "PC 1", PW, &tok, &who, &err),
                 LFR_ERR_UNAUTHENTICATED);
    /* a device name is required and checked */
    CHECK_STATUS(lfr_device_pair_code(s, dep, &OPR, &code, &exp, &err), LFR_OK);
    CHECK_STATUS(lfr_device_pair(s, code, "", "PC 1", PW, &tok, &who, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_device_pair(s, code, "bad\x07name", "PC 1", PW, &tok, &who, &err),
                 LFR_ERR_INVALID_ARG);
    drop(&code);
    /* deployments that are not authorised or live */
    int64_t draft = deployment(s, LFR_DEPLOY_DRAFT);
    CHECK_STATUS(lfr_device_pair_code(s, draft, &OPR, &code, &exp, &err), LFR_ERR_STATE);
    CHECK(code == NULL);
    CHECK_STATUS(lfr_device_pair_code(s, 999, &OPR, &code, &exp, &err), LFR_ERR_NOT_FOUND);
    int64_t ended = deployment(s, LFR_DEPLOY_ENDED);
    CHECK_STATUS(lfr_device_pair_code(s, ended, &OPR, &code, &exp, &err), LFR_ERR_STATE);
    /* a code made while live, redeemed after the end */
    int64_t live = deployment(s, LFR_DEPLOY_LIVE);
    CHECK_STATUS(lfr_device_pair_code(s, live, &OPR, &code, &exp, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_end(s, live, &OPR, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_device_pair(s, code, "phone", "PC 1", PW, &tok, &who, &err), LFR_ERR_STATE);
    drop(&code);
    end(s);
}

static void test_pair_refused_for_non_officer(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    add_user(s, "Op 1", R(OPERATOR) | R(AUTHORISER), PW);
    add_user(s, "PC 1", R(OFFICER), PW);
    int64_t dep = deployment(s, LFR_DEPLOY_LIVE);
    char *code = NULL, *tok = NULL;
    lfr_principal who;
    CHECK_STATUS(lfr_device_pair_code(s, dep, &OPR, &code, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_device_pair(s, code, "phone", "Op 1", PW, &tok, &who, &err),
                 LFR_ERR_PERMISSION);
    CHECK(strstr(err.msg, "officer") != NULL);
    CHECK(tok == NULL);
    /* a wrong password is refused and does not use up the code */
    CHECK_STATUS(lfr_device_pair(s, code, "phone", "PC 1", "wrong password!", &tok, &who, &err),
                 LFR_ERR_UNAUTHENTICATED);
    CHECK_STATUS(lfr_device_pair(s, code, "phone", "PC 1", PW, &tok, &who, &err), LFR_OK);
    drop(&tok);
    drop(&code);
    end(s);
}

static void test_device_revoke_at_once(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    add_user(s, "PC 1", R(OFFICER) | R(OPERATOR), PW);
    int64_t dep = deployment(s, LFR_DEPLOY_LIVE);
    char *code = NULL, *tok = NULL, *tok2 = NULL;
    lfr_principal who, a;
    CHECK_STATUS(lfr_device_pair_code(s, dep, &OPR, &code, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_device_pair(s, code, "phone", "PC 1", PW, &tok, &who, &err), LFR_OK);
    drop(&code);
    CHECK_STATUS(lfr_device_pair_code(s, dep, &OPR, &code, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_device_pair(s, code, "tablet", "PC 1", PW, &tok2, NULL, &err), LFR_OK);
    drop(&code);
    /* a device acts as an officer only, in its deployment */
    CHECK_STATUS(lfr_account_authenticate(s, tok, &a, &err), LFR_OK);
    CHECK_EQ_INT(a.roles, R(OFFICER));
    CHECK_EQ_INT(a.device_id, who.device_id);
    CHECK_EQ_INT(a.deployment_id, dep);
    CHECK_EQ_INT(a.session_id, 0);
    /* last seen: written when a minute has passed */
    fake_now += LFR_DEVICE_SEEN_EVERY_S;
    CHECK_STATUS(lfr_account_authenticate(s, tok, &a, &err), LFR_OK);
    lfr_device_info d;
    CHECK_STATUS(lfr_device_get(s, who.device_id, &d, &err), LFR_OK);
    CHECK_EQ_INT(d.last_seen_at, fake_now);
    CHECK_EQ_INT(d.paired_at, fake_now - LFR_DEVICE_SEEN_EVERY_S);
    CHECK(strcmp(d.name, "phone") == 0);
    CHECK(strcmp(d.officer, "PC 1") == 0);
    lfr_device_info *list = NULL;
    size_t n = 0;
    CHECK_STATUS(lfr_device_list(s, dep, &list, &n, &err), LFR_OK);
    CHECK_EQ_INT(n, 2);
    lfr_free(list);
    CHECK_STATUS(lfr_device_list(s, 0, &list, &n, &err), LFR_OK);
    CHECK_EQ_INT(n, 2);
    lfr_free(list);
    CHECK_STATUS(lfr_device_list(s, 999, &list, &n, &err), LFR_OK);
    CHECK_EQ_INT(n, 0);
    lfr_free(list);
    /* revoked: refused at the very next request */
    CHECK_STATUS(lfr_device_revoke(s, who.device_id, &OPR, &err), LFR_OK);
    CHECK_STATUS(lfr_account_authenticate(s, tok, &a, &err), LFR_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.msg, "revoked") != NULL);
    CHECK_STATUS(lfr_device_revoke(s, who.device_id, &OPR, &err), LFR_ERR_STATE);
    CHECK_STATUS(lfr_device_revoke(s, 999, &OPR, &err), LFR_ERR_NOT_FOUND);
    CHECK_STATUS(lfr_device_get(s, who.device_id, &d, &err), LFR_OK);
    CHECK(d.revoked_at == fake_now);
    CHECK(strcmp(d.revoked_by, OPR.name) == 0);
    /* the other device still works; signing out on it revokes it */
    CHECK_STATUS(lfr_account_authenticate(s, tok2, &a, &err), LFR_OK);
    CHECK_STATUS(lfr_account_logout(s, tok2, &err), LFR_OK);
    CHECK_STATUS(lfr_account_authenticate(s, tok2, &a, &err), LFR_ERR_UNAUTHENTICATED);
    drop(&tok);
    drop(&tok2);
    end(s);
}

static void test_device_refused_after_end(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    add_user(s, "PC 1", R(OFFICER), PW);
    int64_t dep = deployment(s, LFR_DEPLOY_AUTHORISED);
    char *code = NULL, *tok = NULL;
    lfr_principal a;
    CHECK_STATUS(lfr_device_pair_code(s, dep, &OPR, &code, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_device_pair(s, code, "phone", "PC 1", PW, &tok, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_account_authenticate(s, tok, &a, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_start(s, dep, &OPR, &err), LFR_OK);
    CHECK_STATUS(lfr_account_authenticate(s, tok, &a, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_end(s, dep, &OPR, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_account_authenticate(s, tok, &a, &err), LFR_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.msg, "ended") != NULL);
    CHECK_EQ_INT(a.device_id, 0);
    drop(&code);
    drop(&tok);
    end(s);
}

/* Audit --------------------------------------------------------------------- */
typedef struct audit_scan {
    int count[LFR_AUDIT_ACTION_COUNT];
    int leaks;
    const char *secrets[4];
} audit_scan;

static int scan_record(const lfr_audit_record *r, void *ctx) {
    audit_scan *a = ctx;
    for (int i = 0; i < LFR_AUDIT_ACTION_COUNT; i++)
        if (strcmp(r->action, lfr_audit_action_name((lfr_audit_action)i)) == 0) a->count[i]++;
    for (int i = 0; i < 4; i++)
        if (a->secrets[i] && (strstr(r->details, a->secrets[i]) || strstr(r->actor, a->secrets[i])))
            a->leaks++;
    return 0;
}

static void test_audit_records(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    add_user(s, "root admin", R(ADMIN), PW);
    int64_t id = add_user(s, "PC 1", R(OFFICER), PW);
    int64_t dep = deployment(s, LFR_DEPLOY_LIVE);
    char *tok = NULL, *code = NULL, *dtok = NULL;
    lfr_principal who;
    CHECK_STATUS(lfr_account_login(s, "PC 1", "wrong password!", &tok, NULL, &err),
                 LFR_ERR_UNAUTHENTICATED);
    CHECK_STATUS(lfr_account_login(s, "nobody", "wrong password!", &tok, NULL, &err),
                 LFR_ERR_UNAUTHENTICATED);
    CHECK_STATUS(lfr_account_login(s, "PC 1", PW, &tok, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_account_logout(s, tok, &err), LFR_OK);
    CHECK_STATUS(lfr_device_pair_code(s, dep, &OPR, &code, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_device_pair(s, code, "phone", "PC 1", PW, &dtok, &who, &err), LFR_OK);
    CHECK_STATUS(lfr_device_revoke(s, who.device_id, &OPR, &err), LFR_OK);
    CHECK_STATUS(lfr_account_passwd(s, id, PW2, &ADMIN, &err), LFR_OK);
    CHECK_STATUS(lfr_account_disable(s, id, &ADMIN, &err), LFR_OK);
    audit_scan a;
    memset(&a, 0, sizeof a);
    a.secrets[0] = PW;
    a.secrets[1] = PW2;
    a.secrets[2] = tok;
    a.secrets[3] = dtok;
    CHECK_STATUS(lfr_audit_each(s, 0, 1, 0, scan_record, &a, &err), LFR_OK);
    CHECK_EQ_INT(a.count[LFR_AUDIT_USER_ADD], 2);
    CHECK_EQ_INT(a.count[LFR_AUDIT_USER_DISABLE], 1);
    CHECK_EQ_INT(a.count[LFR_AUDIT_USER_PASSWD], 1);
    CHECK_EQ_INT(a.count[LFR_AUDIT_SESSION_LOGIN], 1);
    CHECK_EQ_INT(a.count[LFR_AUDIT_SESSION_LOGIN_FAIL], 2);
    CHECK_EQ_INT(a.count[LFR_AUDIT_SESSION_LOGOUT], 1);
    CHECK_EQ_INT(a.count[LFR_AUDIT_DEVICE_PAIR_CODE], 1);
    CHECK_EQ_INT(a.count[LFR_AUDIT_DEVICE_PAIR], 1);
    CHECK_EQ_INT(a.count[LFR_AUDIT_DEVICE_REVOKE], 1);
    CHECK_EQ_INT(a.leaks, 0);
    /* and the pairing code is not in the log either */
    audit_scan b;
    memset(&b, 0, sizeof b);
    b.secrets[0] = code;
    CHECK_STATUS(lfr_audit_each(s, 0, 1, 0, scan_record, &b, &err), LFR_OK);
    CHECK_EQ_INT(b.leaks, 0);
    /* device records are filed under their deployment */
    audit_scan c;
    memset(&c, 0, sizeof c);
    CHECK_STATUS(lfr_audit_each(s, dep, 1, 0, scan_record, &c, &err), LFR_OK);
    CHECK_EQ_INT(c.count[LFR_AUDIT_DEVICE_PAIR], 1);
    CHECK_EQ_INT(c.count[LFR_AUDIT_DEVICE_PAIR_CODE], 1);
    lfr_audit_report rep;
    CHECK_STATUS(lfr_audit_verify(s, &rep, &err), LFR_OK);
    CHECK_EQ_INT(rep.ok, 1);
    /* a change whose audit record cannot be written does not happen */
    int64_t users = 0, users_after = 0;
    lfr_store_query_int64(s, "SELECT count(*) FROM users", 0, 0, 0, &users, NULL);
    lfr_actor bad = {"bad\x1b[0m", LFR_ROLE_ADMIN};
    CHECK_STATUS(lfr_account_add(s, "PC 3", NULL, R(OFFICER), PW, &bad, NULL, &err),
                 LFR_ERR_INVALID_ARG);
    lfr_store_query_int64(s, "SELECT count(*) FROM users", 0, 0, 0, &users_after, NULL);
    CHECK_EQ_INT(users_after, users);
    drop(&tok);
    drop(&code);
    drop(&dtok);
    end(s);
}

/* Faults: a store that fails at every step in turn leaves either the whole
 * change with its audit record or nothing, and never hands out a token or
 * code that was not stored (LeakSanitizer checks nothing is lost). */
static void test_store_faults(void) {
    lfr_store *s = begin();
    if (!s) { CHECK(0); return; }
    lfr_err err = {{0}};
    add_user(s, "PC 1", R(OFFICER), PW);
    int64_t dep = deployment(s, LFR_DEPLOY_LIVE);
    int ok_code = 0, ok_login = 0;
    for (long n = 0; n < 16 && !ok_code; n++) {
        int64_t before = 0, after = 0;
        lfr_store_query_int64(s, "SELECT count(*) FROM pair_codes", 0, 0, 0, &before, NULL);
        char *code = NULL;
        lfr_store_fail_after(s, n);
        lfr_status st = lfr_device_pair_code(s, dep, &OPR, &code, NULL, &err);
        lfr_store_fail_after(s, -1);
        lfr_store_query_int64(s, "SELECT count(*) FROM pair_codes", 0, 0, 0, &after, NULL);
        if (st == LFR_OK) {
            ok_code = 1;
            CHECK(code != NULL);
            CHECK_EQ_INT(after, before + 1);
        } else {
            CHECK(code == NULL);
            CHECK_EQ_INT(after, before);
        }
        drop(&code);
    }
    CHECK(ok_code);
    for (long n = 0; n < 16 && !ok_login; n++) {
        int64_t before = 0, after = 0;
        lfr_store_query_int64(s, "SELECT count(*) FROM sessions", 0, 0, 0, &before, NULL);
        char *tok = NULL;
        lfr_store_fail_after(s, n);
        lfr_status st = lfr_account_login(s, "PC 1", PW, &tok, NULL, &err);
        lfr_store_fail_after(s, -1);
        lfr_store_query_int64(s, "SELECT count(*) FROM sessions", 0, 0, 0, &after, NULL);
        if (st == LFR_OK) {
            ok_login = 1;
            CHECK(tok != NULL);
            CHECK_EQ_INT(after, 1);
        } else {
            CHECK(tok == NULL);
            CHECK_EQ_INT(after, before);
        }
        drop(&tok);
    }
    CHECK(ok_login);
    lfr_audit_report rep;
    CHECK_STATUS(lfr_audit_verify(s, &rep, &err), LFR_OK);
    end(s);
    /* allocation failures in the QR code */
    int ok_qr = 0;
    for (long n = 0; n < 8 && !ok_qr; n++) {
        char *svg = NULL;
        lfr_alloc_fail_after(n);
        lfr_status st = lfr_device_pair_qr_svg("https://10.0.0.1:8443", "AB:CD", "ABCD2345", &svg,
                                               &err);
        lfr_alloc_fail_after(-1);
        if (st == LFR_OK) ok_qr = 1;
        else CHECK(svg == NULL);
        lfr_free(svg);
    }
    CHECK(ok_qr);
}

/* QR code ------------------------------------------------------------------- */
static void test_qr_svg(void) {
    lfr_err err = {{0}};
    char *svg = NULL;
    const char *url = "https://192.168.7.1:8443";
    const char *ca = "SHA256:AB:CD:EF:01:23:45:67:89";
    CHECK_STATUS(lfr_device_pair_qr_svg(url, ca, "ABCD2345", &svg, &err), LFR_OK);
    CHECK(svg != NULL);
    if (!svg) return;
    CHECK(strncmp(svg, "<svg ", 5) == 0);
    CHECK(strstr(svg, "</svg>") != NULL);
    /* one path of dark modules */
    const char *d = strstr(svg, "<path");
    CHECK(d != NULL);
    CHECK(d && strstr(d + 1, "<path") == NULL);
    /* the modules drawn are exactly the QR code of the payload */
    QRcode *qr = QRcode_encodeString(
        "{\"v\":1,\"url\":\"https://192.168.7.1:8443\",\"ca\":\"SHA256:AB:CD:EF:01:23:45:67:89\","
        "\"code\":\"ABCD2345\"}", 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    CHECK(qr != NULL);
    if (qr && d) {
        int w = qr->width, full = 0;
        CHECK(sscanf(strstr(svg, "viewBox"), "viewBox=\"0 0 %d", &full) == 1);
        CHECK_EQ_INT(full, w + 8);
        unsigned char *grid = calloc((size_t)w * (size_t)w, 1);
        const char *p = strstr(d, " d=\"") + 4;
        int x, y, run, run2, bad = 0, consumed = 0;
        while (grid && sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &run, &run2, &consumed) == 4) {
            p += consumed;
            x -= 4;
            y -= 4;
            if (x < 0 || y < 0 || y >= w || x + run > w || run != run2) { bad++; break; }
            for (int i = 0; i < run; i++) grid[y * w + x + i] = 1;
        }
        CHECK_EQ_INT(bad, 0);
        CHECK(*p == '"');
        int diff = 0, dark = 0;
        for (int i = 0; grid && i < w * w; i++) {
            diff += grid[i] != (qr->data[i] & 1);
            dark += grid[i];
        }
        CHECK_EQ_INT(diff, 0);
        CHECK(dark > 0);
        free(grid);
        QRcode_free(qr);
    }
    lfr_free(svg);
    svg = NULL;
    CHECK_STATUS(lfr_device_pair_qr_svg("http://x", ca, "ABCD2345", &svg, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_device_pair_qr_svg(url, "", "ABCD2345", &svg, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_device_pair_qr_svg(url, ca, NULL, &svg, &err), LFR_ERR_INVALID_ARG);
    CHECK(svg == NULL);
}

int main(void) {
    if (sodium_init() < 0) return 1;
    lfr_log_set_level(LFR_LOG_ERROR);
    RUN(test_add_find_folded);
    RUN(test_login_wrong_password);
    RUN(test_backoff_lockout);
    RUN(test_disabled_account);
    RUN(test_passwd);
    RUN(test_session_expiry);
    RUN(test_logout_revokes);
    RUN(test_forged_tokens);
    RUN(test_tokens_never_stored);
    RUN(test_pair_code_single_use_expiry);
    RUN(test_pair_refused_for_non_officer);
    RUN(test_device_revoke_at_once);
    RUN(test_device_refused_after_end);
    RUN(test_audit_records);
    RUN(test_store_faults);
    RUN(test_qr_svg);
    return harness_done("account");
}
