/*
 * ops_alert.c - alerts: list, get, the live crop, the operator's decision,
 * dispatch to officers' devices, an officer's acknowledgement, outcome.
 * Officers' devices see only alerts dispatched to them (or every
 * dispatched alert with config dispatch_all_alerts).
 */
#include <stdlib.h>
#include <string.h>

#include "app_int.h"

/* The alert of the call's id, refused (as not found) for a device it was
 * not dispatched to. */
static lfr_status alert_of(app_call *c, lfr_alert_info *a) {
    int64_t id = app_arg_id(c, "id");
    lfr_status st = lfr_deploy_alert_get(c->s, id, a, c->err);
    int yes = 0;
    if (st == LFR_OK) st = app_alert_visible(c, a, &yes);
    if (st == LFR_OK && !yes)
        st = lfr_err_set(c->err, LFR_ERR_NOT_FOUND, "%s: no alert %lld was sent to this device",
                         c->op->name, (long long)id);
    return st;
}

/* The alert's JSON form (json.c) with what an officer needs on the card
 * besides the stored alert: the entry's display name, category and reason
 * for inclusion, and where both images are (routes that check the
 * caller's deployment and, for a device, the dispatch).  The entry is read
 * by its id AND the alert's own deployment, so no other deployment's entry
 * can ever be joined in; once the watchlist is deleted (retention) those
 * fields are null. */
static json_t *alert_json(app_call *c, const lfr_alert_info *a) {
    json_t *o = lfr_json_alert(a);
    if (!o) return NULL;
    json_t *name = json_null(), *cat = json_null(), *cat_other = json_null(), *why = json_null();
    lfr_store_stmt *q = NULL;
    lfr_err e = {{0}};
    if (a->entry_id > 0 &&
        lfr_store_stmt_prepare(c->s,
                               "SELECT display_name, category, category_other, reason "
                               "FROM watchlist_entries WHERE id = ? AND deployment_id = ?",
                               &q, &e) == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, a->entry_id);
        lfr_store_stmt_bind_int64(q, 2, a->deployment_id);
        int row = 0;
        if (lfr_store_stmt_step(q, &row, &e) == LFR_OK && row) {
            name = json_string(lfr_store_stmt_text(q, 0));
            cat = json_string(lfr_store_stmt_text(q, 1));
            if (!lfr_store_stmt_is_null(q, 2) && lfr_store_stmt_text(q, 2)[0])
                cat_other = json_string(lfr_store_stmt_text(q, 2));
            why = json_string(lfr_store_stmt_text(q, 3));
        }
    }
    lfr_store_stmt_finalize(q);
    char face[64], wl[64];
    snprintf(face, sizeof face, "/api/alerts/%lld/image", (long long)a->id);
    snprintf(wl, sizeof wl, "/api/watchlist/images/%lld", (long long)a->image_id);
    json_object_set_new(o, "display_name", name ? name : json_null());
    json_object_set_new(o, "category", cat ? cat : json_null());
    json_object_set_new(o, "category_other", cat_other ? cat_other : json_null());
    json_object_set_new(o, "reason", why ? why : json_null());
    json_object_set_new(o, "face_image_url", a->has_face_image ? json_string(face) : json_null());
    json_object_set_new(o, "watchlist_image_url", a->image_id > 0 ? json_string(wl) : json_null());
    return o;
}

/* The alert as it is now: the answer, and an event of `type` (NULL: none). */
static lfr_status answer_alert(app_call *c, int64_t id, const char *type) {
    lfr_alert_info a;
    lfr_status st = lfr_deploy_alert_get(c->s, id, &a, c->err);
    if (st != LFR_OK) return st;
    st = app_answer(c, alert_json(c, &a));
    if (st == LFR_OK && type)
        app_after_event(c, type, a.deployment_id, a.id, c->who ? c->who->device_id : 0,
                        alert_json(c, &a));
    return st;
}

lfr_status app_op_ALERT_LIST(app_call *c) {
    int64_t limit = app_arg_has(c, "limit") ? app_arg_id(c, "limit") : LFR_APP_DEFAULT_LIST;
    if (limit <= 0 || limit > LFR_APP_DEFAULT_LIST * 10) limit = LFR_APP_DEFAULT_LIST;
    lfr_alert_info *list = NULL;
    size_t n = 0;
    lfr_status st = lfr_deploy_alert_list(c->s, c->deployment_id, app_arg_id(c, "before"),
                                          (size_t)limit, &list, &n, c->err);
    json_t *arr = st == LFR_OK ? json_array() : NULL;
    for (size_t i = 0; arr && st == LFR_OK && i < n; i++) {
        int yes = 1;
        st = app_alert_visible(c, &list[i], &yes);
        if (st == LFR_OK && yes) json_array_append_new(arr, alert_json(c, &list[i]));
    }
    lfr_free(list);
    if (st != LFR_OK) {
        json_decref(arr);
        return st;
    }
    return app_answer(c, arr ? json_pack("{s:I, s:o}", "deployment", (json_int_t)c->deployment_id,
                                         "alerts", arr)
                             : NULL);
}

lfr_status app_op_ALERT_GET(app_call *c) {
    lfr_alert_info a;
    lfr_status st = alert_of(c, &a);
    return st == LFR_OK ? app_answer(c, alert_json(c, &a)) : st;
}

lfr_status app_op_ALERT_IMAGE(app_call *c) {
    lfr_alert_info a;
    lfr_status st = alert_of(c, &a);
    if (st == LFR_OK && !a.has_face_image)
        st = lfr_err_set(c->err, LFR_ERR_NOT_FOUND, "alert %lld has no face image", (long long)a.id);
    if (st == LFR_OK)
        st = lfr_deploy_alert_image_load(c->s, a.id, &c->res->blob, &c->res->blob_len, c->err);
    if (st != LFR_OK) return st;
    c->res->blob_type = "image/jpeg";
    return app_answer(c, json_pack("{s:I, s:s}", "alert", (json_int_t)a.id, "type", "image/jpeg"));
}

lfr_status app_op_ALERT_DECIDE(app_call *c) {
    const char *d = app_arg_str(c, "decision");
    int confirmed;
    if (!strcmp(d, "confirm") || !strcmp(d, "confirmed")) confirmed = 1;
    else if (!strcmp(d, "reject") || !strcmp(d, "rejected")) confirmed = 0;
    else
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                           "alert.decide: decision must be confirm or reject, not '%.40s'", d);
    int64_t id = app_arg_id(c, "id");
    lfr_status st = lfr_deploy_alert_decide(c->s, id, confirmed, app_arg_str(c, "note"), &c->by, c->err);
    return st == LFR_OK ? answer_alert(c, id, "alert.decided") : st;
}

lfr_status app_op_ALERT_DISPATCH(app_call *c) {
    int64_t id = app_arg_id(c, "id");
    json_t *devs = json_object_get(c->args, "devices");
    int all = app_arg_bool(c, "all");
    size_t n = json_is_array(devs) ? json_array_size(devs) : 0;
    if (all == (n > 0))
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                           "alert.dispatch: give either devices (a list of ids) or all: true");
    if (n > LFR_MAX_DISPATCH_DEVICES)
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                           "alert.dispatch: at most %d devices; use all: true for more",
                           LFR_MAX_DISPATCH_DEVICES);
    int64_t ids[LFR_MAX_DISPATCH_DEVICES];
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(devs, i);
        ids[i] = json_is_integer(v) ? json_integer_value(v) : strtoll(json_string_value(v), NULL, 10);
        /* the device must belong to this alert's deployment */
        lfr_device_info dev;
        lfr_status st = lfr_device_get(c->s, ids[i], &dev, c->err);
        if (st == LFR_ERR_NOT_FOUND)
            return lfr_err_set(c->err, LFR_ERR_INVALID_ARG, "alert.dispatch: no device %lld",
                               (long long)ids[i]);
        if (st != LFR_OK) return st;
        if (dev.deployment_id != c->deployment_id)
            return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                               "alert.dispatch: device %lld serves deployment %lld, not this "
                               "alert's (%lld)", (long long)ids[i], (long long)dev.deployment_id,
                               (long long)c->deployment_id);
        if (dev.revoked_at)
            return lfr_err_set(c->err, LFR_ERR_STATE, "alert.dispatch: device %lld was revoked",
                               (long long)ids[i]);
    }
    lfr_status st = lfr_deploy_alert_dispatch(c->s, id, ids, n, all, &c->by, c->err);
    if (st != LFR_OK) return st;
    st = answer_alert(c, id, NULL);
    if (st == LFR_OK) {
        json_t *data = json_pack("{s:O, s:b}", "alert", c->res->body, "all", all);
        json_t *list = json_array();
        for (size_t i = 0; list && i < n; i++) json_array_append_new(list, json_integer(ids[i]));
        if (data && list) json_object_set_new(data, "devices", list);
        else json_decref(list);
        app_after_event(c, "alert.dispatched", c->deployment_id, id, 0, data);
    }
    return st;
}

lfr_status app_op_ALERT_ACK(app_call *c) {
    if (!c->who || c->who->device_id <= 0)
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                           "alert.ack: an acknowledgement comes from an officer's device");
    lfr_alert_info a;
    lfr_status st = alert_of(c, &a);
    if (st == LFR_OK) st = lfr_deploy_alert_ack(c->s, a.id, c->who->device_id, &c->by, c->err);
    return st == LFR_OK ? answer_alert(c, a.id, "alert.ack") : st;
}

lfr_status app_op_ALERT_OUTCOME(app_call *c) {
    lfr_alert_outcome o;
    const char *w = app_arg_str(c, "outcome");
    if (lfr_alert_outcome_parse(w, &o) != LFR_OK)
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                           "alert.outcome: outcome must be engaged, arrested, no_further_action "
                           "or mistaken_identity, not '%.40s'", w);
    lfr_alert_info a;
    lfr_status st = alert_of(c, &a);
    if (st == LFR_OK) st = lfr_deploy_alert_outcome(c->s, a.id, o, app_arg_str(c, "note"), &c->by, c->err);
    return st == LFR_OK ? answer_alert(c, a.id, "alert.outcome") : st;
}
