/*
 * ops_user.c - health, sessions (sign in and out, who am I) and accounts
 * (add, list, disable, new password).
 */
#include <sodium.h>
#include <string.h>

#include "app_int.h"

static void wipe_free(char *s) {
    if (!s) return;
    sodium_memzero(s, strlen(s));
    lfr_free(s);
}

/* Sessions and accounts ------------------------------------------------------------- */
/* Health, and what a client needs before it creates a deployment: the
 * model set new deployments get and that set's default threshold and sane
 * range (a console must not propose mfn192's 0.70 for fused704v3). */
lfr_status app_op_HEALTH(app_call *c) {
    float def = 0, lo = 0, hi = 0;
    lfr_status st = lfr_deploy_model_set_thresholds(LFR_DEPLOY_DEFAULT_MODEL_SET, &def, &lo, &hi,
                                                    c->err);
    if (st != LFR_OK) return st;
    return app_answer(c, json_pack("{s:s, s:i, s:i, s:b, s:{s:s, s:f, s:f, s:f}}", "status", "ok",
                                   "schema", lfr_store_schema_version(c->s), "schema_latest",
                                   lfr_store_schema_latest(), "face", c->app->face != NULL,
                                   "new_deployment", "model_set", LFR_DEPLOY_DEFAULT_MODEL_SET,
                                   "threshold", (double)def, "sane_min", (double)lo, "sane_max",
                                   (double)hi));
}

lfr_status app_op_SESSION_LOGIN(app_call *c) {
    char *token = NULL;
    lfr_principal who;
    lfr_status st = lfr_account_login(c->s, app_arg_str(c, "login"), app_arg_str(c, "password"),
                                      &token, &who, c->err);
    if (st != LFR_OK) return st;
    st = app_answer(c, json_pack("{s:s, s:o}", "token", token, "user", app_principal_json(&who)));
    wipe_free(token);
    return st;
}

lfr_status app_op_SESSION_LOGOUT(app_call *c) {
    if (!c->req->token || !c->who || c->who->session_id <= 0)
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                           "session.logout: only a signed-in session can sign out");
    lfr_status st = lfr_account_logout(c->s, c->req->token, c->err);
    return st == LFR_OK ? app_answer(c, json_pack("{s:b}", "signed_out", 1)) : st;
}

lfr_status app_op_SESSION_WHOAMI(app_call *c) { return app_answer(c, app_principal_json(c->who)); }

static lfr_status roles_of(app_call *c, unsigned *roles) {
    json_t *arr = json_object_get(c->args, "roles");
    *roles = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *w = json_string_value(json_array_get(arr, i));
        lfr_role r;
        if (lfr_role_parse(w, &r) != LFR_OK || r == LFR_ROLE_SYSTEM)
            return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                               "user.add: role '%.40s' is not one of operator, officer, "
                               "authorising_officer, auditor, admin", w);
        *roles |= LFR_ROLE_BIT(r);
    }
    if (!*roles) return lfr_err_set(c->err, LFR_ERR_INVALID_ARG, "user.add: roles: give at least one");
    return LFR_OK;
}

static lfr_status answer_user(app_call *c, int64_t id) {
    lfr_user_info u;
    lfr_status st = lfr_account_get(c->s, id, &u, c->err);
    return st == LFR_OK ? app_answer(c, lfr_json_user(&u)) : st;
}

lfr_status app_op_USER_ADD(app_call *c) {
    unsigned roles;
    lfr_status st = roles_of(c, &roles);
    int64_t id = 0;
    if (st == LFR_OK)
        st = lfr_account_add(c->s, app_arg_str(c, "login"), app_arg_str(c, "display_name"), roles,
                             app_arg_str(c, "password"), &c->by, &id, c->err);
    return st == LFR_OK ? answer_user(c, id) : st;
}

lfr_status app_op_USER_LIST(app_call *c) {
    lfr_user_info *list = NULL;
    size_t n = 0;
    lfr_status st = lfr_account_list(c->s, &list, &n, c->err);
    json_t *arr = st == LFR_OK ? json_array() : NULL;
    for (size_t i = 0; arr && i < n; i++) json_array_append_new(arr, lfr_json_user(&list[i]));
    lfr_free(list);
    if (st != LFR_OK) return st;
    return app_answer(c, arr ? json_pack("{s:o}", "users", arr) : NULL);
}

/* The account named by id or login. */
static lfr_status user_id_of(app_call *c, int64_t *id) {
    *id = app_arg_id(c, "id");
    const char *login = app_arg_str(c, "login");
    if ((*id > 0) == (login != NULL))
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG, "%s: give the account's id or its login",
                           c->op->name);
    if (*id > 0) return LFR_OK;
    lfr_user_info u;
    lfr_status st = lfr_account_find(c->s, login, &u, c->err);
    if (st == LFR_OK) *id = u.id;
    return st;
}

lfr_status app_op_USER_DISABLE(app_call *c) {
    int64_t id;
    lfr_status st = user_id_of(c, &id);
    if (st == LFR_OK) st = lfr_account_disable(c->s, id, &c->by, c->err);
    return st == LFR_OK ? answer_user(c, id) : st;
}

lfr_status app_op_USER_PASSWD(app_call *c) {
    int64_t id;
    lfr_status st = user_id_of(c, &id);
    if (st == LFR_OK) st = lfr_account_passwd(c->s, id, app_arg_str(c, "password"), &c->by, c->err);
    return st == LFR_OK ? answer_user(c, id) : st;
}
