/*
 * account_sessions.c - sign-in, sign-out and bearer tokens to principals.
 * See account.h.
 *
 * DESIGN
 *   A token is looked up by its BLAKE2b-256 hash (the UNIQUE index of
 *   sessions and of devices), first among sessions, then among devices.
 *   Every check that can refuse it (revoked, expired, account disabled,
 *   deployment over) is read in the same statement, so authenticating is
 *   one indexed read; a device's last_seen_at is written at most once per
 *   LFR_DEVICE_SEEN_EVERY_S, and a failure to write it never refuses a
 *   valid token.
 */
#include "account_int.h"

#include <string.h>

#include "deploy/deploy.h"

static const char BAD_TOKEN[] = "token is not valid: sign in again";

lfr_status lfr_account_login(lfr_store *s, const char *login, const char *password,
                             char **token, lfr_principal *who, lfr_err *err) {
    *token = NULL;
    if (who) memset(who, 0, sizeof *who);
    lfr_user_info u;
    lfr_status st = ac_check_credentials(s, login, password, &u, err);
    if (st != LFR_OK) return st;
    int64_t now = lfr_store_now(s);
    int64_t ttl = ac_setting_s(s, LFR_SETTING_SESSION_TTL, LFR_SESSION_TTL_S);
    char *t = NULL;
    uint8_t hash[AC_HASH_BYTES];
    if ((st = ac_token_new(&t, hash)) != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) {
        sodium_memzero(t, AC_TOKEN_CHARS);
        lfr_free(t);
        return st;
    }
    /* sessions that can never be used again go; the audit log keeps them */
    st = ac_exec_n(s, "DELETE FROM sessions WHERE expires_at <= ? OR revoked_at IS NOT NULL", 1,
                   now, 0, 0, err);
    if (st == LFR_OK) st = ac_login_ok(s, u.id, err);
    lfr_store_stmt *q;
    int64_t sid = 0;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s, "INSERT INTO sessions(user_id, token_hash, created_at, "
                                       "expires_at) VALUES(?,?,?,?)", &q, err);
    if (st == LFR_OK) {
        int row;
        lfr_store_stmt_bind_int64(q, 1, u.id);
        lfr_store_stmt_bind_blob(q, 2, hash, sizeof hash);
        lfr_store_stmt_bind_int64(q, 3, now);
        lfr_store_stmt_bind_int64(q, 4, now + ttl);
        st = lfr_store_stmt_step(q, &row, err);
        sid = lfr_store_last_id(s);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK) {
        json_t *d = json_pack("{s:I, s:I, s:I, s:o}", "user_id", (json_int_t)u.id, "session_id",
                              (json_int_t)sid, "expires_at", (json_int_t)(now + ttl), "roles",
                              ac_roles_json(u.roles));
        st = ac_audit(s, u.login, ac_primary_role(u.roles), LFR_AUDIT_SESSION_LOGIN, 0, d, err);
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
        who->roles = u.roles;
        who->session_id = sid;
    }
    return LFR_OK;
}

/* The session of a token hash: 1 found (fields set), 0 none. */
typedef struct session_row {
    int64_t id, user_id, expires_at, revoked_at;
    int disabled;
    unsigned roles;
    char login[LFR_MAX_ACTOR];
} session_row;

static lfr_status session_by_hash(lfr_store *s, const uint8_t *hash, session_row *r, int *found,
                                  lfr_err *err) {
    memset(r, 0, sizeof *r);
    *found = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "SELECT s.id, s.user_id, s.expires_at, coalesce(s.revoked_at, 0), u.login, u.roles, "
           "u.disabled FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_blob(q, 1, hash, AC_HASH_BYTES);
    st = lfr_store_stmt_step(q, found, err);
    if (st == LFR_OK && *found) {
        r->id = lfr_store_stmt_int64(q, 0);
        r->user_id = lfr_store_stmt_int64(q, 1);
        r->expires_at = lfr_store_stmt_int64(q, 2);
        r->revoked_at = lfr_store_stmt_int64(q, 3);
        AC_COPY(r->login, lfr_store_stmt_text(q, 4));
        r->roles = (unsigned)lfr_store_stmt_int64(q, 5);
        r->disabled = (int)lfr_store_stmt_int64(q, 6);
    }
    lfr_store_stmt_finalize(q);
    return st;
}

typedef struct device_row {
    int64_t id, user_id, deployment_id, revoked_at, last_seen_at;
    int disabled;
    char login[LFR_MAX_ACTOR];
    char state[16];
} device_row;

static lfr_status device_by_hash(lfr_store *s, const uint8_t *hash, device_row *r, int *found,
                                 lfr_err *err) {
    memset(r, 0, sizeof *r);
    *found = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "SELECT d.id, d.user_id, d.deployment_id, coalesce(d.revoked_at, 0), d.last_seen_at, "
           "u.login, u.disabled, p.state FROM devices d JOIN users u ON u.id = d.user_id "
           "JOIN deployments p ON p.id = d.deployment_id WHERE d.token_hash = ?",
        &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_blob(q, 1, hash, AC_HASH_BYTES);
    st = lfr_store_stmt_step(q, found, err);
    if (st == LFR_OK && *found) {
        r->id = lfr_store_stmt_int64(q, 0);
        r->user_id = lfr_store_stmt_int64(q, 1);
        r->deployment_id = lfr_store_stmt_int64(q, 2);
        r->revoked_at = lfr_store_stmt_int64(q, 3);
        r->last_seen_at = lfr_store_stmt_int64(q, 4);
        AC_COPY(r->login, lfr_store_stmt_text(q, 5));
        r->disabled = (int)lfr_store_stmt_int64(q, 6);
        AC_COPY(r->state, lfr_store_stmt_text(q, 7));
    }
    lfr_store_stmt_finalize(q);
    return st;
}

int ac_deployment_open(const char *state) {
    return strcmp(state, lfr_deploy_state_name(LFR_DEPLOY_AUTHORISED)) == 0 ||
           strcmp(state, lfr_deploy_state_name(LFR_DEPLOY_LIVE)) == 0;
}

lfr_status lfr_account_authenticate(lfr_store *s, const char *token, lfr_principal *who,
                                    lfr_err *err) {
    memset(who, 0, sizeof *who);
    uint8_t hash[AC_HASH_BYTES];
    if (ac_token_hash(token, hash) != 0)
        return lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "%s", BAD_TOKEN);
    int64_t now = lfr_store_now(s);
    session_row sr;
    int found = 0;
    lfr_status st = session_by_hash(s, hash, &sr, &found, err);
    if (st != LFR_OK) return st;
    if (found) {
        if (sr.revoked_at)
            return lfr_err_set(err, LFR_ERR_UNAUTHENTICATED,
                               "session was signed out: sign in again");
        if (sr.expires_at <= now)
            return lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "session has expired: sign in again");
        if (sr.disabled)
            return lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "account \"%s\" is disabled",
                               sr.login);
        who->user_id = sr.user_id;
        AC_COPY(who->login, sr.login);
        who->roles = sr.roles;
        who->session_id = sr.id;
        return LFR_OK;
    }
    device_row dr;
    if ((st = device_by_hash(s, hash, &dr, &found, err)) != LFR_OK) return st;
    if (!found) return lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "%s", BAD_TOKEN);
    if (dr.revoked_at)
        return lfr_err_set(err, LFR_ERR_UNAUTHENTICATED,
                           "device %lld was revoked: pair it again with a new code",
                           (long long)dr.id);
    if (dr.disabled)
        return lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "account \"%s\" is disabled", dr.login);
    if (!ac_deployment_open(dr.state))
        return lfr_err_set(err, LFR_ERR_UNAUTHENTICATED,
                           "deployment %lld is %s: its device tokens no longer work",
                           (long long)dr.deployment_id, dr.state);
    if (now - dr.last_seen_at >= LFR_DEVICE_SEEN_EVERY_S &&
        ac_exec_n(s, "UPDATE devices SET last_seen_at = ? WHERE id = ?", 2, now, dr.id, 0, NULL) !=
            LFR_OK)
        lfr_log(LFR_LOG_DEBUG, "device %lld: last seen time not written (database busy)",
                (long long)dr.id);
    who->user_id = dr.user_id;
    AC_COPY(who->login, dr.login);
    who->roles = LFR_ROLE_BIT(LFR_ROLE_OFFICER); /* a device acts as its officer, nothing more */
    who->device_id = dr.id;
    who->deployment_id = dr.deployment_id;
    return LFR_OK;
}

lfr_status lfr_account_logout(lfr_store *s, const char *token, lfr_err *err) {
    uint8_t hash[AC_HASH_BYTES];
    if (ac_token_hash(token, hash) != 0)
        return lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "%s", BAD_TOKEN);
    int64_t now = lfr_store_now(s);
    lfr_status st = lfr_store_tx_begin(s);
    if (st != LFR_OK) return st;
    session_row sr;
    device_row dr;
    int found = 0, dev = 0;
    st = session_by_hash(s, hash, &sr, &found, err);
    if (st == LFR_OK && found && (sr.revoked_at || sr.expires_at <= now))
        st = lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "session has already ended");
    if (st == LFR_OK && !found) {
        st = device_by_hash(s, hash, &dr, &dev, err);
        if (st == LFR_OK && !dev) st = lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "%s", BAD_TOKEN);
        if (st == LFR_OK && dr.revoked_at)
            st = lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "device %lld was already revoked",
                             (long long)dr.id);
    }
    if (st == LFR_OK && found) {
        st = ac_exec_n(s, "UPDATE sessions SET revoked_at = ? WHERE id = ?", 2, now, sr.id, 0,
                       err);
        if (st == LFR_OK) {
            json_t *d = json_pack("{s:I, s:I}", "user_id", (json_int_t)sr.user_id, "session_id",
                                  (json_int_t)sr.id);
            st = ac_audit(s, sr.login, ac_primary_role(sr.roles), LFR_AUDIT_SESSION_LOGOUT, 0, d,
                          err);
        }
    } else if (st == LFR_OK && dev) {
        /* signing out on a device ends its token: the device is revoked */
        lfr_actor by = {.name = dr.login, .role = LFR_ROLE_OFFICER};
        st = lfr_device_revoke(s, dr.id, &by, err);
    }
    return ac_finish(s, st);
}
