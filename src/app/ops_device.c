/*
 * ops_device.c - officers' devices: a pairing code (with its QR code), the
 * pairing itself, the list and revocation.
 */
#include <sodium.h>
#include <string.h>

#include "app_int.h"

static void wipe_free(char *s) {
    if (!s) return;
    sodium_memzero(s, strlen(s));
    lfr_free(s);
}

lfr_status app_op_DEVICE_PAIR_CODE(app_call *c) {
    char *code = NULL, *svg = NULL;
    int64_t expires = 0;
    lfr_status st = lfr_device_pair_code(c->s, c->deployment_id, &c->by, &code, &expires, c->err);
    if (st != LFR_OK) return st;
    char url[LFR_PAIR_MAX_URL], fp[LFR_PAIR_MAX_FINGERPRINT];
    pthread_mutex_lock(&c->app->mu);
    snprintf(url, sizeof url, "%s", c->app->server_url);
    snprintf(fp, sizeof fp, "%s", c->app->ca_fingerprint);
    pthread_mutex_unlock(&c->app->mu);
    if (url[0] && fp[0]) st = lfr_device_pair_qr_svg(url, fp, code, &svg, c->err);
    if (st == LFR_OK)
        st = app_answer(c, json_pack("{s:s, s:o, s:I, s:o, s:o, s:o}", "code", code, "expires_at",
                                     lfr_json_time(expires), "deployment",
                                     (json_int_t)c->deployment_id, "server_url",
                                     url[0] ? json_string(url) : json_null(), "ca_fingerprint",
                                     fp[0] ? json_string(fp) : json_null(), "qr_svg",
                                     svg ? json_string(svg) : json_null()));
    wipe_free(code);
    lfr_free(svg);
    return st;
}

json_t *app_principal_json(const lfr_principal *w) {
    json_t *roles = json_array();
    for (int r = 0; roles && r < LFR_ROLE_COUNT; r++)
        if (w->roles & LFR_ROLE_BIT(r)) json_array_append_new(roles, json_string(lfr_role_name((lfr_role)r)));
    return json_pack("{s:o, s:s, s:o, s:o, s:o}", "id", w->user_id > 0 ? json_integer(w->user_id) : json_null(),
                     "login", w->login, "roles", roles ? roles : json_null(), "device",
                     w->device_id > 0 ? json_integer(w->device_id) : json_null(), "deployment",
                     w->deployment_id > 0 ? json_integer(w->deployment_id) : json_null());
}

lfr_status app_op_DEVICE_PAIR(app_call *c) {
    char *token = NULL;
    lfr_principal who;
    lfr_status st = lfr_device_pair(c->s, app_arg_str(c, "code"), app_arg_str(c, "device_name"),
                                    app_arg_str(c, "login"), app_arg_str(c, "password"), &token,
                                    &who, c->err);
    if (st != LFR_OK) return st;
    st = app_answer(c, json_pack("{s:s, s:o}", "token", token, "user", app_principal_json(&who)));
    wipe_free(token);
    return st;
}

lfr_status app_op_DEVICE_LIST(app_call *c) {
    lfr_device_info *list = NULL;
    size_t n = 0;
    lfr_status st = lfr_device_list(c->s, c->deployment_id, &list, &n, c->err);
    json_t *arr = st == LFR_OK ? json_array() : NULL;
    for (size_t i = 0; arr && i < n; i++) json_array_append_new(arr, lfr_json_device(&list[i]));
    lfr_free(list);
    if (st != LFR_OK) return st;
    return app_answer(c, arr ? json_pack("{s:o}", "devices", arr) : NULL);
}

lfr_status app_op_DEVICE_REVOKE(app_call *c) {
    int64_t id = app_arg_id(c, "id");
    lfr_status st = lfr_device_revoke(c->s, id, &c->by, c->err);
    if (st != LFR_OK) return st;
    app_after_event(c, "device.revoked", c->deployment_id, 0, id,
                    json_pack("{s:I}", "device", (json_int_t)id));
    lfr_device_info d;
    st = lfr_device_get(c->s, id, &d, c->err);
    return st == LFR_OK ? app_answer(c, lfr_json_device(&d)) : st;
}

