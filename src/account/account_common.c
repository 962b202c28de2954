/*
 * account_common.c - helpers shared by src/account: tokens and their
 * hashes, login folding, roles, audit records, settings.  See account.h.
 */
#include "account_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/deploy.h"

lfr_status ac_token_new(char **text, uint8_t hash[AC_HASH_BYTES]) {
    *text = NULL;
    if (sodium_init() < 0) return LFR_ERR_INTERNAL;
    char *t = lfr_malloc(AC_TOKEN_CHARS + 1);
    if (!t) return LFR_ERR_NOMEM;
    uint8_t raw[AC_TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(t, AC_TOKEN_CHARS + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    ac_hash(raw, sizeof raw, hash);
    sodium_memzero(raw, sizeof raw);
    *text = t;
    return LFR_OK;
}

int ac_token_hash(const char *token, uint8_t hash[AC_HASH_BYTES]) {
    if (!token || strnlen(token, AC_TOKEN_CHARS + 1) != AC_TOKEN_CHARS) return -1;
    uint8_t raw[AC_TOKEN_BYTES];
    size_t n = 0;
    const char *end = NULL;
    /* libsodium refuses characters outside the alphabet and non-zero
     * trailing bits, so one token has exactly one spelling */
    if (sodium_base642bin(raw, sizeof raw, token, AC_TOKEN_CHARS, NULL, &n, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n != AC_TOKEN_BYTES || end != token + AC_TOKEN_CHARS) {
        sodium_memzero(raw, sizeof raw);
        return -1;
    }
    ac_hash(raw, sizeof raw, hash);
    sodium_memzero(raw, sizeof raw);
    return 0;
}

void ac_hash(const void *data, size_t n, uint8_t hash[AC_HASH_BYTES]) {
    crypto_generichash(hash, AC_HASH_BYTES, data, n, NULL, 0);
}

lfr_status ac_login_fold(const char *login, char folded[LFR_MAX_ACTOR], char key[LFR_MAX_ACTOR],
                         lfr_err *err) {
    if (!login || !login[0])
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "login name is required");
    lfr_status st = lfr_text_check(login, LFR_MAX_ACTOR, "login name", err);
    if (st == LFR_OK) st = lfr_name_fold(login, folded, LFR_MAX_ACTOR, err);
    if (st != LFR_OK) return st;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)folded; *p; p++)
        if (*p >= 0x80 || isalnum(*p)) key[o++] = (char)*p;
    key[o] = '\0';
    if (o == 0)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "login name \"%s\" has no letter or digit", login);
    return LFR_OK;
}

/* Most powerful first: the role named for sign-in and sign-out records. */
static const lfr_role role_rank[] = {LFR_ROLE_ADMIN, LFR_ROLE_AUTHORISER, LFR_ROLE_OPERATOR,
                                     LFR_ROLE_AUDITOR, LFR_ROLE_OFFICER};

lfr_role ac_primary_role(unsigned roles) {
    for (size_t i = 0; i < sizeof role_rank / sizeof role_rank[0]; i++)
        if (roles & LFR_ROLE_BIT(role_rank[i])) return role_rank[i];
    return LFR_ROLE_SYSTEM;
}

json_t *ac_roles_json(unsigned roles) {
    json_t *a = json_array();
    for (int r = 0; a && r < LFR_ROLE_COUNT; r++)
        if (roles & LFR_ROLE_BIT(r)) json_array_append_new(a, json_string(lfr_role_name(r)));
    return a;
}

lfr_status ac_audit(lfr_store *s, const char *actor, lfr_role role, lfr_audit_action a,
                    int64_t dep, json_t *details, lfr_err *err) {
    if (!details) return LFR_ERR_NOMEM;
    char *txt = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(details);
    if (!txt) return LFR_ERR_NOMEM;
    lfr_actor by = {.name = actor, .role = role};
    lfr_status st = lfr_audit_append(s, &by, a, dep, txt, NULL, err);
    free(txt);
    return st;
}

int64_t ac_setting_s(lfr_store *s, const char *key, int64_t dflt) {
    int64_t v = dflt;
    if (lfr_store_setting_get_int(s, key, dflt, &v) != LFR_OK || v <= 0) v = dflt;
    return v;
}

lfr_status ac_finish(lfr_store *s, lfr_status st) {
    if (st == LFR_OK) st = lfr_store_tx_commit(s);
    if (st != LFR_OK) lfr_store_tx_rollback(s);
    return st;
}

lfr_status ac_exec_n(lfr_store *s, const char *sql, int np, int64_t a, int64_t b, int64_t c,
                     lfr_err *err) {
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, sql, &q, err);
    if (st != LFR_OK) return st;
    const int64_t v[3] = {a, b, c};
    for (int i = 0; i < np && i < 3; i++) lfr_store_stmt_bind_int64(q, i + 1, v[i]);
    int row;
    st = lfr_store_stmt_step(q, &row, err);
    lfr_store_stmt_finalize(q);
    return st;
}

lfr_status ac_deployment_state(lfr_store *s, int64_t id, char state[16], lfr_err *err) {
    lfr_store_stmt *q;
    state[0] = '\0';
    lfr_status st =
        lfr_store_stmt_prepare(s, "SELECT state FROM deployments WHERE id = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, id);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && row) snprintf(state, 16, "%s", lfr_store_stmt_text(q, 0));
    lfr_store_stmt_finalize(q);
    if (st == LFR_OK && !row)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no deployment %lld", (long long)id);
    return st;
}

lfr_status ac_actor_ok(const lfr_actor *by, lfr_err *err) {
    lfr_status st = lfr_actor_check(by, err);
    char folded[LFR_MAX_ACTOR];
    if (st == LFR_OK) st = lfr_name_fold(by->name, folded, sizeof folded, err);
    return st;
}

void ac_copy(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src ? src : ""); }
