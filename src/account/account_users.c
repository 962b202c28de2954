/*
 * account_users.c - accounts: add, disable, new password, read; and the
 * credential check behind sign-in and device pairing (argon2id, backoff,
 * lockout).  See account.h.
 *
 * DESIGN
 *   A wrong password, an unknown name and an unreadable name all cost one
 *   argon2id verification (unknown names are checked against DUMMY_HASH,
 *   made with the same interactive limits) and get one sentence, so
 *   neither the answer nor its timing says whether an account exists.
 *   The hash runs before any transaction; the failure count is then
 *   raised with failures = failures + 1 in one statement, so two wrong
 *   guesses at once both count.
 */
#include "account_int.h"

#include <stdio.h>
#include <string.h>

/* argon2id of a random password nobody knows, with crypto_pwhash's
 * interactive limits (t=2, m=64 MiB): verifying against it costs what a
 * real account's verification costs.  Its result is never used. */
static const char DUMMY_HASH[crypto_pwhash_STRBYTES] =
    "$argon2id$v=19$m=65536,t=2,p=1$DEG7ocKqGI2jA6YS6AF/Hg$"
    "3Q48e+fKNikWLxAEXLVG5tfdp0ZBoLCL5Fp9Sy9VCSM";

static const char WRONG[] = "login name or password is wrong";

#define USER_COLS                                                                              \
    "id, login, login_folded, display_name, roles, disabled, created_at, last_login_at, "      \
    "failures, locked_until"

static void read_user(lfr_store_stmt *q, lfr_user_info *u) {
    memset(u, 0, sizeof *u);
    u->id = lfr_store_stmt_int64(q, 0);
    AC_COPY(u->login, lfr_store_stmt_text(q, 1));
    AC_COPY(u->login_folded, lfr_store_stmt_text(q, 2));
    AC_COPY(u->display_name, lfr_store_stmt_text(q, 3));
    u->roles = (unsigned)lfr_store_stmt_int64(q, 4);
    u->disabled = (int)lfr_store_stmt_int64(q, 5);
    u->created_at = lfr_store_stmt_int64(q, 6);
    u->last_login_at = lfr_store_stmt_int64(q, 7);
    u->failures = (int)lfr_store_stmt_int64(q, 8);
    u->locked_until = lfr_store_stmt_int64(q, 9);
}

/* One user by id (key == NULL) or by login_key; *hash (optional, cap
 * crypto_pwhash_STRBYTES) gets the password hash. */
static lfr_status user_load(lfr_store *s, int64_t id, const char *key, lfr_user_info *u,
                            char *hash, lfr_err *err) {
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, key ? "SELECT " USER_COLS ", pw_hash FROM users WHERE login_key = ?"
               : "SELECT " USER_COLS ", pw_hash FROM users WHERE id = ?",
        &q, err);
    if (st != LFR_OK) return st;
    if (key) lfr_store_stmt_bind_text(q, 1, key);
    else lfr_store_stmt_bind_int64(q, 1, id);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && row) {
        read_user(q, u);
        if (hash) snprintf(hash, crypto_pwhash_STRBYTES, "%s", lfr_store_stmt_text(q, 10));
    }
    lfr_store_stmt_finalize(q);
    if (st == LFR_OK && !row)
        st = key ? lfr_err_set(err, LFR_ERR_NOT_FOUND, "no account with login name \"%s\"", key)
                 : lfr_err_set(err, LFR_ERR_NOT_FOUND, "no account %lld", (long long)id);
    return st;
}

static lfr_status password_ok(const char *pw, lfr_err *err) {
    if (!pw) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "password is required");
    size_t n = strnlen(pw, LFR_MAX_PASSWORD + 1);
    if (n < LFR_MIN_PASSWORD)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "password has %zu characters: at least %d are needed (three random "
                           "words make a good one)", n, LFR_MIN_PASSWORD);
    if (n > LFR_MAX_PASSWORD)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "password is longer than %d bytes",
                           LFR_MAX_PASSWORD);
    return LFR_OK;
}

static lfr_status password_hash(const char *pw, char out[crypto_pwhash_STRBYTES], lfr_err *err) {
    if (sodium_init() < 0) return lfr_err_set(err, LFR_ERR_INTERNAL, "libsodium did not start");
    if (crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return lfr_err_set(err, LFR_ERR_NOMEM, "password hash needs %zu MiB of memory",
                           (size_t)crypto_pwhash_MEMLIMIT_INTERACTIVE >> 20);
    return LFR_OK;
}

static lfr_status roles_ok(unsigned roles, lfr_err *err) {
    if (roles == 0)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "roles: an account needs at least one role");
    if (roles >> LFR_ROLE_COUNT)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "roles 0x%x name an unknown role", roles);
    if (roles & LFR_ROLE_BIT(LFR_ROLE_SYSTEM))
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "roles: \"system\" is the software's own role, not a person's");
    return LFR_OK;
}

/* Sessions (and with `devices`, device tokens) of an account, revoked now. */
static lfr_status revoke_all(lfr_store *s, int64_t user_id, const char *by, int devices,
                             int64_t *n_sessions, int64_t *n_devices, lfr_err *err) {
    int64_t now = lfr_store_now(s);
    lfr_status st = ac_exec_n(s, "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND "
                                 "revoked_at IS NULL AND expires_at > ?",
                              3, now, user_id, now, err);
    *n_sessions = st == LFR_OK ? lfr_store_changes(s) : 0;
    *n_devices = 0;
    if (st != LFR_OK || !devices) return st;
    lfr_store_stmt *q;
    st = lfr_store_stmt_prepare(s, "UPDATE devices SET revoked_at = ?, revoked_by = ? WHERE "
                                   "user_id = ? AND revoked_at IS NULL", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, now);
    lfr_store_stmt_bind_text(q, 2, by);
    lfr_store_stmt_bind_int64(q, 3, user_id);
    int row;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK) *n_devices = lfr_store_changes(s);
    lfr_store_stmt_finalize(q);
    return st;
}

lfr_status lfr_account_add(lfr_store *s, const char *login, const char *display_name,
                           unsigned roles, const char *password, const lfr_actor *by,
                           int64_t *user_id, lfr_err *err) {
    if (user_id) *user_id = 0;
    char folded[LFR_MAX_ACTOR], key[LFR_MAX_ACTOR];
    lfr_status st = ac_actor_ok(by, err);
    if (st == LFR_OK) st = ac_login_fold(login, folded, key, err);
    if (st == LFR_OK && display_name && display_name[0])
        st = lfr_text_check(display_name, LFR_MAX_ACTOR, "display name", err);
    if (st == LFR_OK) st = roles_ok(roles, err);
    if (st == LFR_OK) st = password_ok(password, err);
    char hash[crypto_pwhash_STRBYTES];
    if (st == LFR_OK) st = password_hash(password, hash, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_user_info other;
    lfr_status found = user_load(s, 0, key, &other, NULL, NULL);
    if (found == LFR_OK)
        st = lfr_err_set(err, LFR_ERR_EXISTS,
                         "login name \"%s\" reads as the existing account \"%s\" (names are "
                         "compared ignoring case, spaces and punctuation)", login, other.login);
    else if (found != LFR_ERR_NOT_FOUND)
        st = lfr_err_set(err, found, "accounts could not be read");
    lfr_store_stmt *q;
    int row;
    int64_t id = 0;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s, "INSERT INTO users(login, login_folded, login_key, "
                                       "display_name, roles, pw_hash, created_by, created_at) "
                                       "VALUES(?,?,?,?,?,?,?,?)", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_text(q, 1, login);
        lfr_store_stmt_bind_text(q, 2, folded);
        lfr_store_stmt_bind_text(q, 3, key);
        lfr_store_stmt_bind_text(q, 4, display_name && display_name[0] ? display_name : login);
        lfr_store_stmt_bind_int64(q, 5, roles);
        lfr_store_stmt_bind_text(q, 6, hash);
        lfr_store_stmt_bind_text(q, 7, by->name);
        lfr_store_stmt_bind_int64(q, 8, lfr_store_now(s));
        st = lfr_store_stmt_step(q, &row, err);
        id = lfr_store_last_id(s);
        lfr_store_stmt_finalize(q);
    }
    sodium_memzero(hash, sizeof hash);
    if (st == LFR_OK) {
        json_t *d = json_pack("{s:I, s:s, s:o}", "user_id", (json_int_t)id, "login", login,
                              "roles", ac_roles_json(roles));
        st = ac_audit(s, by->name, by->role, LFR_AUDIT_USER_ADD, 0, d, err);
    }
    st = ac_finish(s, st);
    if (st == LFR_OK && user_id) *user_id = id;
    return st;
}

lfr_status lfr_account_disable(lfr_store *s, int64_t user_id, const lfr_actor *by, lfr_err *err) {
    lfr_status st = ac_actor_ok(by, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_user_info u;
    st = user_load(s, user_id, NULL, &u, NULL, err);
    if (st == LFR_OK && u.disabled)
        st = lfr_err_set(err, LFR_ERR_STATE, "account \"%s\" is already disabled", u.login);
    unsigned admin = LFR_ROLE_BIT(LFR_ROLE_ADMIN);
    int64_t admins = 0;
    if (st == LFR_OK && (u.roles & admin)) {
        st = lfr_store_query_int64(s, "SELECT count(*) FROM users WHERE disabled = 0 AND "
                                      "(roles & ?) != 0", 1, admin, 0, &admins, err);
        if (st == LFR_OK && admins <= 1)
            st = lfr_err_set(err, LFR_ERR_STATE,
                             "account \"%s\" is the last enabled admin: add another admin "
                             "before disabling it", u.login);
    }
    int64_t ns = 0, nd = 0;
    if (st == LFR_OK) {
        lfr_store_stmt *q;
        st = lfr_store_stmt_prepare(s, "UPDATE users SET disabled = 1, disabled_at = ?, "
                                       "disabled_by = ? WHERE id = ?", &q, err);
        if (st == LFR_OK) {
            int row;
            lfr_store_stmt_bind_int64(q, 1, lfr_store_now(s));
            lfr_store_stmt_bind_text(q, 2, by->name);
            lfr_store_stmt_bind_int64(q, 3, user_id);
            st = lfr_store_stmt_step(q, &row, err);
            lfr_store_stmt_finalize(q);
        }
    }
    if (st == LFR_OK) st = revoke_all(s, user_id, by->name, 1, &ns, &nd, err);
    if (st == LFR_OK) {
        json_t *d = json_pack("{s:I, s:s, s:I, s:I}", "user_id", (json_int_t)user_id, "login",
                              u.login, "sessions_revoked", (json_int_t)ns, "devices_revoked",
                              (json_int_t)nd);
        st = ac_audit(s, by->name, by->role, LFR_AUDIT_USER_DISABLE, 0, d, err);
    }
    return ac_finish(s, st);
}

lfr_status lfr_account_passwd(lfr_store *s, int64_t user_id, const char *password,
                              const lfr_actor *by, lfr_err *err) {
    lfr_status st = ac_actor_ok(by, err);
    if (st == LFR_OK) st = password_ok(password, err);
    lfr_user_info u;
    if (st == LFR_OK) st = user_load(s, user_id, NULL, &u, NULL, err);
    char hash[crypto_pwhash_STRBYTES];
    if (st == LFR_OK) st = password_hash(password, hash, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) {
        sodium_memzero(hash, sizeof hash);
        return st;
    }
    lfr_store_stmt *q;
    st = lfr_store_stmt_prepare(s, "UPDATE users SET pw_hash = ?, failures = 0, locked_until = 0 "
                                   "WHERE id = ?", &q, err);
    if (st == LFR_OK) {
        int row;
        lfr_store_stmt_bind_text(q, 1, hash);
        lfr_store_stmt_bind_int64(q, 2, user_id);
        st = lfr_store_stmt_step(q, &row, err);
        if (st == LFR_OK && lfr_store_changes(s) != 1)
            st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no account %lld", (long long)user_id);
        lfr_store_stmt_finalize(q);
    }
    sodium_memzero(hash, sizeof hash);
    int64_t ns = 0, nd = 0;
    /* a new password ends the sessions signed in with the old one */
    if (st == LFR_OK) st = revoke_all(s, user_id, by->name, 0, &ns, &nd, err);
    if (st == LFR_OK) {
        json_t *d = json_pack("{s:I, s:s, s:I}", "user_id", (json_int_t)user_id, "login",
                              u.login, "sessions_revoked", (json_int_t)ns);
        st = ac_audit(s, by->name, by->role, LFR_AUDIT_USER_PASSWD, 0, d, err);
    }
    return ac_finish(s, st);
}

lfr_status lfr_account_get(lfr_store *s, int64_t user_id, lfr_user_info *out, lfr_err *err) {
    return user_load(s, user_id, NULL, out, NULL, err);
}

lfr_status lfr_account_find(lfr_store *s, const char *login, lfr_user_info *out, lfr_err *err) {
    char folded[LFR_MAX_ACTOR], key[LFR_MAX_ACTOR];
    lfr_status st = ac_login_fold(login, folded, key, err);
    if (st != LFR_OK) return st;
    st = user_load(s, 0, key, out, NULL, NULL);
    if (st == LFR_ERR_NOT_FOUND)
        return lfr_err_set(err, st, "no account with login name \"%s\"", login);
    if (st != LFR_OK) return lfr_err_set(err, st, "accounts could not be read");
    return st;
}

lfr_status lfr_account_list(lfr_store *s, lfr_user_info **out, size_t *n, lfr_err *err) {
    *out = NULL;
    *n = 0;
    int64_t count = 0;
    lfr_status st = lfr_store_query_int64(s, "SELECT count(*) FROM users", 0, 0, 0, &count, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt *q;
    st = lfr_store_stmt_prepare(s, "SELECT " USER_COLS " FROM users ORDER BY id", &q, err);
    if (st != LFR_OK) return st;
    lfr_user_info *arr = lfr_calloc(count > 0 ? (size_t)count : 1, sizeof *arr);
    if (!arr) {
        lfr_store_stmt_finalize(q);
        return LFR_ERR_NOMEM;
    }
    size_t k = 0;
    int row = 1;
    while (st == LFR_OK && (int64_t)k < count) {
        st = lfr_store_stmt_step(q, &row, err);
        if (st != LFR_OK || !row) break;
        read_user(q, &arr[k++]);
    }
    lfr_store_stmt_finalize(q);
    if (st != LFR_OK) {
        lfr_free(arr);
        return st;
    }
    *out = arr;
    *n = k;
    return LFR_OK;
}

lfr_status lfr_account_count(lfr_store *s, int64_t *n, lfr_err *err) {
    return lfr_store_query_int64(s, "SELECT count(*) FROM users", 0, 0, 0, n, err);
}

/* Credentials ------------------------------------------------------------- */
/* Seconds an account must wait after `failures` wrong passwords in a row. */
static int64_t backoff_s(int64_t failures) {
    if (failures < LFR_LOGIN_FREE_FAILURES) return 0;
    int64_t w = LFR_LOGIN_BACKOFF_MIN_S;
    for (int64_t i = LFR_LOGIN_FREE_FAILURES; i < failures && w < LFR_LOGIN_LOCKOUT_S; i++) w *= 2;
    return w < LFR_LOGIN_LOCKOUT_S ? w : LFR_LOGIN_LOCKOUT_S;
}

static lfr_status fail_audit(lfr_store *s, const char *actor, lfr_role role, json_t *d,
                             lfr_err *err) {
    lfr_status st = lfr_store_tx_begin(s);
    if (st != LFR_OK) {
        json_decref(d);
        return st;
    }
    return ac_finish(s, ac_audit(s, actor, role, LFR_AUDIT_SESSION_LOGIN_FAIL, 0, d, err));
}

lfr_status ac_check_credentials(lfr_store *s, const char *login, const char *password,
                                lfr_user_info *user, lfr_err *err) {
    memset(user, 0, sizeof *user);
    if (sodium_init() < 0) return lfr_err_set(err, LFR_ERR_INTERNAL, "libsodium did not start");
    char folded[LFR_MAX_ACTOR], key[LFR_MAX_ACTOR];
    int readable = ac_login_fold(login, folded, key, NULL) == LFR_OK;
    size_t plen = password ? strnlen(password, LFR_MAX_PASSWORD + 1) : 0;
    int pw_fits = password && plen <= LFR_MAX_PASSWORD;
    char hash[crypto_pwhash_STRBYTES];
    lfr_status st = readable ? user_load(s, 0, key, user, hash, NULL) : LFR_ERR_NOT_FOUND;
    if (st != LFR_OK && st != LFR_ERR_NOT_FOUND)
        return lfr_err_set(err, st, "accounts could not be read");
    if (st == LFR_ERR_NOT_FOUND) {
        /* the same work as for a real account, and its result ignored */
        if (pw_fits) {
            volatile int ignored = crypto_pwhash_str_verify(DUMMY_HASH, password, plen);
            (void)ignored;
        }
        json_t *d = json_pack("{s:s?, s:s}", "login", readable ? folded : NULL, "reason",
                              readable ? "unknown login name" : "unreadable login name");
        st = fail_audit(s, readable ? folded : "(unreadable login name)", LFR_ROLE_SYSTEM, d, err);
        memset(user, 0, sizeof *user);
        return st != LFR_OK ? st : lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "%s", WRONG);
    }
    int64_t now = lfr_store_now(s);
    lfr_role role = ac_primary_role(user->roles);
    if (user->locked_until > now) {
        json_t *d = json_pack("{s:I, s:s, s:I}", "user_id", (json_int_t)user->id, "reason",
                              "waiting after wrong passwords", "locked_until",
                              (json_int_t)user->locked_until);
        st = fail_audit(s, user->login, role, d, err);
        sodium_memzero(hash, sizeof hash);
        if (st != LFR_OK) return st;
        return lfr_err_set(err, LFR_ERR_RATE_LIMITED,
                           "account \"%s\" must wait %lld s more after %d wrong passwords in a "
                           "row", user->login, (long long)(user->locked_until - now),
                           user->failures);
    }
    int ok = pw_fits && crypto_pwhash_str_verify(hash, password, plen) == 0;
    sodium_memzero(hash, sizeof hash);
    if (!ok) {
        if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
        int64_t failures = 0;
        st = ac_exec_n(s, "UPDATE users SET failures = failures + 1 WHERE id = ?", 1, user->id, 0,
                       0, err);
        if (st == LFR_OK)
            st = lfr_store_query_int64(s, "SELECT failures FROM users WHERE id = ?", 1, user->id,
                                       0, &failures, err);
        int64_t wait = backoff_s(failures);
        if (st == LFR_OK && wait > 0)
            st = ac_exec_n(s, "UPDATE users SET locked_until = ? WHERE id = ?", 2, now + wait,
                           user->id, 0, err);
        if (st == LFR_OK) {
            json_t *d = json_pack("{s:I, s:s, s:I, s:I}", "user_id", (json_int_t)user->id,
                                  "reason", "wrong password", "failures", (json_int_t)failures,
                                  "wait_s", (json_int_t)wait);
            st = ac_audit(s, user->login, role, LFR_AUDIT_SESSION_LOGIN_FAIL, 0, d, err);
        }
        st = ac_finish(s, st);
        memset(user, 0, sizeof *user);
        return st != LFR_OK ? st : lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "%s", WRONG);
    }
    if (user->disabled) {
        json_t *d = json_pack("{s:I, s:s}", "user_id", (json_int_t)user->id, "reason",
                              "account disabled");
        st = fail_audit(s, user->login, role, d, err);
        char name[LFR_MAX_ACTOR];
        AC_COPY(name, user->login);
        memset(user, 0, sizeof *user);
        return st != LFR_OK ? st
                            : lfr_err_set(err, LFR_ERR_PERMISSION, "account \"%s\" is disabled",
                                          name);
    }
    return LFR_OK;
}

lfr_status ac_login_ok(lfr_store *s, int64_t user_id, lfr_err *err) {
    return ac_exec_n(s, "UPDATE users SET failures = 0, locked_until = 0, last_login_at = ? "
                        "WHERE id = ?", 2, lfr_store_now(s), user_id, 0, err);
}
