/*
 * account_devices.c - pairing codes and officers' devices.  See account.h.
 *
 * DESIGN
 *   A pairing code is 8 characters from CODE_ALPHABET (31 symbols, no 0/O,
 *   1/I/L: about 40 bits), drawn with randombytes_uniform.  Only its
 *   BLAKE2b-256 hash is stored.  Typed codes are read leniently: lower
 *   case, spaces and dashes are accepted.  Redeeming marks the code used
 *   with "UPDATE ... WHERE used_at IS NULL AND expires_at > now" inside the
 *   transaction that creates the device, so two devices racing for one code
 *   cannot both win.  The officer's password is checked (argon2id) before
 *   that transaction; a wrong password does not use up the code.
 */
#include "account_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "deploy/deploy.h"

static const char CODE_ALPHABET[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
#define CODE_SYMBOLS (sizeof CODE_ALPHABET - 1)

static const char BAD_CODE[] =
    "pairing code is wrong, already used or expired: ask the operator for a new one";

/* Typed code -> canonical 8 characters; -1 when it cannot be a code. */
static int code_normalise(const char *typed, char out[AC_CODE_CHARS + 1]) {
    size_t n = 0;
    if (!typed) return -1;
    for (const char *p = typed; *p; p++) {
        if (*p == ' ' || *p == '-') continue;
        char c = (char)toupper((unsigned char)*p);
        if (!memchr(CODE_ALPHABET, c, CODE_SYMBOLS) || c == '\0' || n == AC_CODE_CHARS) return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == AC_CODE_CHARS ? 0 : -1;
}

static lfr_status deployment_open(lfr_store *s, int64_t dep, lfr_err *err) {
    char state[16];
    lfr_status st = ac_deployment_state(s, dep, state, err);
    if (st == LFR_OK && !ac_deployment_open(state))
        st = lfr_err_set(err, LFR_ERR_STATE,
                         "deployment %lld is %s: devices pair only with an authorised or live "
                         "deployment", (long long)dep, state);
    return st;
}

lfr_status lfr_device_pair_code(lfr_store *s, int64_t deployment_id, const lfr_actor *by,
                                char **code, int64_t *expires_at, lfr_err *err) {
    *code = NULL;
    if (expires_at) *expires_at = 0;
    lfr_status st = ac_actor_ok(by, err);
    if (st != LFR_OK) return st;
    if (sodium_init() < 0) return lfr_err_set(err, LFR_ERR_INTERNAL, "libsodium did not start");
    char *c = lfr_malloc(AC_CODE_CHARS + 1);
    if (!c) return LFR_ERR_NOMEM;
    int64_t now = lfr_store_now(s);
    int64_t exp = now + ac_setting_s(s, LFR_SETTING_PAIR_CODE_TTL, LFR_PAIR_CODE_TTL_S);
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) {
        lfr_free(c);
        return st;
    }
    st = deployment_open(s, deployment_id, err);
    /* codes nobody redeemed in time are worth nothing: drop them */
    if (st == LFR_OK)
        st = ac_exec_n(s, "DELETE FROM pair_codes WHERE used_at IS NULL AND expires_at <= ?", 1,
                       now, 0, 0, err);
    uint8_t hash[AC_HASH_BYTES];
    int64_t id = 0;
    /* a collision with a stored code (1 in 8.5e11) just draws again */
    for (int attempt = 0; st == LFR_OK && id == 0 && attempt < 4; attempt++) {
        for (int i = 0; i < AC_CODE_CHARS; i++)
            c[i] = CODE_ALPHABET[randombytes_uniform((uint32_t)CODE_SYMBOLS)];
        c[AC_CODE_CHARS] = '\0';
        ac_hash(c, AC_CODE_CHARS, hash);
        lfr_store_stmt *q;
        st = lfr_store_stmt_prepare(s, "INSERT INTO pair_codes(deployment_id, code_hash, "
                                       "created_by, created_at, expires_at) VALUES(?,?,?,?,?) "
                                       "ON CONFLICT(code_hash) DO NOTHING", &q, err);
        if (st != LFR_OK) break;
        lfr_store_stmt_bind_int64(q, 1, deployment_id);
        lfr_store_stmt_bind_blob(q, 2, hash, sizeof hash);
        lfr_store_stmt_bind_text(q, 3, by->name);
        lfr_store_stmt_bind_int64(q, 4, now);
        lfr_store_stmt_bind_int64(q, 5, exp);
        int row;
        st = lfr_store_stmt_step(q, &row, err);
        if (st == LFR_OK && lfr_store_changes(s) == 1) id = lfr_store_last_id(s);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK && id == 0)
        st = lfr_err_set(err, LFR_ERR_INTERNAL, "no unused pairing code could be drawn");
    if (st == LFR_OK) {
        json_t *d = json_pack("{s:I, s:I}", "code_id", (json_int_t)id, "expires_at",
                              (json_int_t)exp);
        st = ac_audit(s, by->name, by->role, LFR_AUDIT_DEVICE_PAIR_CODE, deployment_id, d, err);
    }
    st = ac_finish(s, st);
    if (st != LFR_OK) {
        sodium_memzero(c, AC_CODE_CHARS);
        lfr_free(c);
        return st;
    }
    *code = c;
    if (expires_at) *expires_at = exp;
    return LFR_OK;
}

lfr_status lfr_device_pair(lfr_store *s, const char *code, const char *device_name,
                           const char *login, const char *password, char **token,
                           lfr_principal *who, lfr_err *err) {
    *token = NULL;
    if (who) memset(who, 0, sizeof *who);
    if (!device_name || !device_name[0])
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "device name is required");
    lfr_status st = lfr_text_check(device_name, LFR_MAX_ACTOR, "device name", err);
    if (st != LFR_OK) return st;
    char canon[AC_CODE_CHARS + 1];
    if (code_normalise(code, canon) != 0)
        return lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "%s", BAD_CODE);
    uint8_t chash[AC_HASH_BYTES];
    ac_hash(canon, AC_CODE_CHARS, chash);
    sodium_memzero(canon, sizeof canon);
    int64_t now = lfr_store_now(s);
    int64_t code_id = 0, dep = 0;
    int64_t ok = 0;
    lfr_store_stmt *q;
    st = lfr_store_stmt_prepare(s, "SELECT id, deployment_id, used_at IS NULL AND expires_at > ? "
                                   "FROM pair_codes WHERE code_hash = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, now);
    lfr_store_stmt_bind_blob(q, 2, chash, sizeof chash);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && row) {
        code_id = lfr_store_stmt_int64(q, 0);
        dep = lfr_store_stmt_int64(q, 1);
        ok = lfr_store_stmt_int64(q, 2);
    }
    lfr_store_stmt_finalize(q);
    if (st != LFR_OK) return st;
    if (!ok) return lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "%s", BAD_CODE);

    lfr_user_info u;
    if ((st = ac_check_credentials(s, login, password, &u, err)) != LFR_OK) return st;
    if (!(u.roles & LFR_ROLE_BIT(LFR_ROLE_OFFICER)))
        return lfr_err_set(err, LFR_ERR_PERMISSION,
                           "account \"%s\" does not hold the officer role: only an officer "
                           "signs in on a device", u.login);

    char *t = NULL;
    uint8_t thash[AC_HASH_BYTES];
    if ((st = ac_token_new(&t, thash)) != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) {
        sodium_memzero(t, AC_TOKEN_CHARS);
        lfr_free(t);
        return st;
    }
    now = lfr_store_now(s);
    st = ac_exec_n(s, "UPDATE pair_codes SET used_at = ? WHERE id = ? AND used_at IS NULL AND "
                      "expires_at > ?", 3, now, code_id, now, err);
    if (st == LFR_OK && lfr_store_changes(s) != 1)
        st = lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "%s", BAD_CODE);
    if (st == LFR_OK) st = deployment_open(s, dep, err);
    if (st == LFR_OK) st = ac_login_ok(s, u.id, err);
    int64_t did = 0;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s, "INSERT INTO devices(deployment_id, user_id, name, "
                                       "token_hash, paired_at, last_seen_at) VALUES(?,?,?,?,?,?)",
                                    &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, dep);
        lfr_store_stmt_bind_int64(q, 2, u.id);
        lfr_store_stmt_bind_text(q, 3, device_name);
        lfr_store_stmt_bind_blob(q, 4, thash, sizeof thash);
        lfr_store_stmt_bind_int64(q, 5, now);
        lfr_store_stmt_bind_int64(q, 6, now);
        st = lfr_store_stmt_step(q, &row, err);
        did = lfr_store_last_id(s);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK)
        st = ac_exec_n(s, "UPDATE pair_codes SET device_id = ? WHERE id = ?", 2, did, code_id, 0,
                       err);
    if (st == LFR_OK) {
        json_t *d = json_pack("{s:I, s:s, s:I, s:I}", "device_id", (json_int_t)did, "device_name",
                              device_name, "user_id", (json_int_t)u.id, "code_id",
                              (json_int_t)code_id);
        st = ac_audit(s, u.login, LFR_ROLE_OFFICER, LFR_AUDIT_DEVICE_PAIR, dep, d, err);
    }
    st = ac_finish(s, st);
    if (st != LFR_OK) {
        sodium_memzero(t, AC_TOKEN_CHARS);
        lfr_free(t);
        return st;
    }
    *token = t;
    if (who) {
        who->user_id = u.id;
        AC_COPY(who->login, u.login);
        who->roles = LFR_ROLE_BIT(LFR_ROLE_OFFICER);
        who->device_id = did;
        who->deployment_id = dep;
    }
    return LFR_OK;
}

#define DEVICE_COLS                                                                            \
    "d.id, d.deployment_id, d.user_id, d.name, u.login, d.paired_at, d.last_seen_at, "         \
    "coalesce(d.revoked_at, 0), coalesce(d.revoked_by, '') FROM devices d JOIN users u ON "    \
    "u.id = d.user_id"

static void read_device(lfr_store_stmt *q, lfr_device_info *d) {
    memset(d, 0, sizeof *d);
    d->id = lfr_store_stmt_int64(q, 0);
    d->deployment_id = lfr_store_stmt_int64(q, 1);
    d->user_id = lfr_store_stmt_int64(q, 2);
    AC_COPY(d->name, lfr_store_stmt_text(q, 3));
    AC_COPY(d->officer, lfr_store_stmt_text(q, 4));
    d->paired_at = lfr_store_stmt_int64(q, 5);
    d->last_seen_at = lfr_store_stmt_int64(q, 6);
    d->revoked_at = lfr_store_stmt_int64(q, 7);
    AC_COPY(d->revoked_by, lfr_store_stmt_text(q, 8));
}

lfr_status lfr_device_get(lfr_store *s, int64_t device_id, lfr_device_info *out, lfr_err *err) {
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT " DEVICE_COLS " WHERE d.id = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, device_id);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && row) read_device(q, out);
    lfr_store_stmt_finalize(q);
    if (st == LFR_OK && !row)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no device %lld", (long long)device_id);
    return st;
}

lfr_status lfr_device_list(lfr_store *s, int64_t deployment_id, lfr_device_info **out, size_t *n,
                           lfr_err *err) {
    *out = NULL;
    *n = 0;
    int64_t count = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT count(*) FROM devices WHERE ?1 <= 0 OR "
                                   "deployment_id = ?1", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, deployment_id);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    count = st == LFR_OK && row ? lfr_store_stmt_int64(q, 0) : 0;
    lfr_store_stmt_finalize(q);
    if (st != LFR_OK) return st;
    st = lfr_store_stmt_prepare(s, "SELECT " DEVICE_COLS " WHERE ?1 <= 0 OR "
                                   "d.deployment_id = ?1 ORDER BY d.id", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, deployment_id);
    lfr_device_info *arr = lfr_calloc(count > 0 ? (size_t)count : 1, sizeof *arr);
    if (!arr) {
        lfr_store_stmt_finalize(q);
        return LFR_ERR_NOMEM;
    }
    size_t k = 0;
    while ((int64_t)k < count) {
        st = lfr_store_stmt_step(q, &row, err);
        if (st != LFR_OK || !row) break;
        read_device(q, &arr[k++]);
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

lfr_status lfr_device_revoke(lfr_store *s, int64_t device_id, const lfr_actor *by, lfr_err *err) {
    lfr_status st = ac_actor_ok(by, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_device_info d;
    st = lfr_device_get(s, device_id, &d, err);
    if (st == LFR_OK && d.revoked_at)
        st = lfr_err_set(err, LFR_ERR_STATE, "device %lld was already revoked by %s",
                         (long long)device_id, d.revoked_by);
    if (st == LFR_OK) {
        lfr_store_stmt *q;
        st = lfr_store_stmt_prepare(s, "UPDATE devices SET revoked_at = ?, revoked_by = ? "
                                       "WHERE id = ?", &q, err);
        if (st == LFR_OK) {
            int row;
            lfr_store_stmt_bind_int64(q, 1, lfr_store_now(s));
            lfr_store_stmt_bind_text(q, 2, by->name);
            lfr_store_stmt_bind_int64(q, 3, device_id);
            st = lfr_store_stmt_step(q, &row, err);
            lfr_store_stmt_finalize(q);
        }
    }
    if (st == LFR_OK) {
        json_t *j = json_pack("{s:I, s:s, s:s}", "device_id", (json_int_t)device_id,
                              "device_name", d.name, "officer", d.officer);
        st = ac_audit(s, by->name, by->role, LFR_AUDIT_DEVICE_REVOKE, d.deployment_id, j, err);
    }
    return ac_finish(s, st);
}
