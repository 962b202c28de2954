/*
 * ops_deployment.c - deployments (create, authorise, start, end, amend,
 * show, list) and their cameras.
 */
#include <string.h>

#include "app_int.h"

/* The deployment as the answer (and the deployment.state event when
 * `event` is set). */
lfr_status app_answer_deployment(app_call *c, int64_t id, int event) {
    lfr_deploy_info *d = lfr_malloc(sizeof *d);
    if (!d) return LFR_ERR_NOMEM;
    lfr_status st = lfr_deploy_get(c->s, id, d, c->err);
    if (st == LFR_OK) st = app_answer(c, lfr_json_deployment(d));
    if (st == LFR_OK && event)
        app_after_event(c, "deployment.state", id, 0, 0,
                        json_pack("{s:I, s:s}", "id", (json_int_t)id, "state",
                                  lfr_deploy_state_name(d->state)));
    lfr_free(d);
    return st;
}

lfr_status app_op_DEPLOYMENT_CREATE(app_call *c) {
    lfr_deploy_params p = {
        .name = app_arg_str(c, "name"),
        .location = app_arg_str(c, "location"),
        .purpose = app_arg_str(c, "purpose"),
        .legal_basis = app_arg_str(c, "legal_basis"),
        .planned_start = app_arg_time(c, "start"),
        .planned_end = app_arg_time(c, "end"),
        .threshold = (float)app_arg_real(c, "threshold", 0),
        .cameras = app_arg_str(c, "cameras"),
        .unusual_threshold_ok = app_arg_bool(c, "unusual_threshold_ok"),
    };
    lfr_deploy_target tg = {app_arg_real(c, "target_false_alerts", 0),
                            app_arg_id(c, "watchlist_size")};
    if (!app_arg_has(c, "threshold") && !app_arg_has(c, "target_false_alerts"))
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                           "deployment.create: give threshold or target_false_alerts");
    if (app_arg_has(c, "threshold") && app_arg_has(c, "target_false_alerts"))
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                           "deployment.create: give threshold or target_false_alerts, not both "
                           "(the threshold follows from the target)");
    if (app_arg_has(c, "watchlist_size") && !app_arg_has(c, "target_false_alerts"))
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                           "deployment.create: watchlist_size only goes with target_false_alerts");
    int64_t id = 0;
    const char *set = app_arg_str(c, "model_set");
    lfr_status st = lfr_deploy_create_in_set(
        c->s, &p, app_arg_has(c, "target_false_alerts") ? &tg : NULL,
        set ? set : LFR_DEPLOY_DEFAULT_MODEL_SET, &c->by, &id, c->err);
    if (st == LFR_OK) st = app_answer_deployment(c, id, 1);
    return st;
}

lfr_status app_op_DEPLOYMENT_AUTHORISE(app_call *c) {
    lfr_status st = lfr_deploy_authorise(c->s, c->deployment_id, &c->by, c->err);
    return st == LFR_OK ? app_answer_deployment(c, c->deployment_id, 1) : st;
}

lfr_status app_op_DEPLOYMENT_START(app_call *c) {
    lfr_status st = lfr_deploy_start(c->s, c->deployment_id, &c->by, c->err);
    if (st != LFR_OK) return st;
    app_after_live(c, APP_LIVE_START, c->deployment_id, 0);
    return app_answer_deployment(c, c->deployment_id, 1);
}

lfr_status app_op_DEPLOYMENT_END(app_call *c) {
    lfr_status st = lfr_deploy_end(c->s, c->deployment_id, &c->by, app_arg_str(c, "reason"), c->err);
    if (st != LFR_OK) return st;
    app_after_live(c, APP_LIVE_END, c->deployment_id, 0);
    return app_answer_deployment(c, c->deployment_id, 1);
}

lfr_status app_op_DEPLOYMENT_AMEND(app_call *c) {
    int has_thr = app_arg_has(c, "threshold"), has_rm = app_arg_has(c, "remove_entry");
    if (has_thr == has_rm)
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                           "deployment.amend: give either threshold or remove_entry (one change "
                           "per amendment)");
    lfr_deploy_amendment a = {
        .reason = app_arg_str(c, "reason"),
        .set_threshold = has_thr,
        .threshold = (float)app_arg_real(c, "threshold", 0),
        .remove_entry_id = app_arg_id(c, "remove_entry"),
        .unusual_threshold_ok = app_arg_bool(c, "unusual_threshold_ok"),
    };
    if (has_rm) {
        int64_t dep = 0;
        lfr_status st = app_scope_resolve(c->s, APP_SCOPE_ENTRY, a.remove_entry_id, &dep, c->err);
        if (st != LFR_OK) return st;
        if (dep != c->deployment_id)
            return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                               "deployment.amend: remove_entry %lld is on deployment %lld's "
                               "list, not %lld's", (long long)a.remove_entry_id, (long long)dep,
                               (long long)c->deployment_id);
    }
    int64_t am = 0;
    lfr_status st = lfr_deploy_amend_propose(c->s, c->deployment_id, &a, &c->by, &am, c->err);
    if (st != LFR_OK) return st;
    return app_answer(c, json_pack("{s:I, s:I, s:s}", "amendment", (json_int_t)am, "deployment",
                                   (json_int_t)c->deployment_id, "state", "proposed"));
}

lfr_status app_op_DEPLOYMENT_AMEND_AUTHORISE(app_call *c) {
    int64_t am = app_arg_id(c, "amendment");
    lfr_status st = lfr_deploy_amend_authorise(c->s, am, &c->by, c->err);
    if (st != LFR_OK) return st;
    app_after_live(c, APP_LIVE_AMEND, c->deployment_id, am);
    st = app_answer_deployment(c, c->deployment_id, 1);
    if (st == LFR_OK) {
        json_t *body = json_pack("{s:I, s:I, s:s, s:O}", "amendment", (json_int_t)am, "deployment_id",
                                 (json_int_t)c->deployment_id, "state", "authorised",
                                 "deployment", c->res->body);
        st = app_answer(c, body);
    }
    return st;
}

lfr_status app_op_DEPLOYMENT_SHOW(app_call *c) {
    lfr_status st = app_answer_deployment(c, c->deployment_id, 0);
    if (st != LFR_OK) return st;
    /* cameras in use, without their URLs */
    lfr_camera_info *cams = NULL;
    size_t n = 0;
    st = lfr_deploy_camera_list(c->s, c->deployment_id, &cams, &n, c->err);
    json_t *arr = st == LFR_OK ? json_array() : NULL;
    for (size_t i = 0; arr && i < n; i++) json_array_append_new(arr, lfr_json_camera(&cams[i]));
    lfr_free(cams);
    if (st == LFR_OK && (!arr || json_object_set_new(c->res->body, "camera_list", arr)))
        st = LFR_ERR_NOMEM;
    return st;
}

lfr_status app_op_DEPLOYMENT_LIST(app_call *c) {
    lfr_deploy_info *list = NULL;
    size_t n = 0;
    lfr_status st = lfr_deploy_list(c->s, &list, &n, c->err);
    json_t *arr = st == LFR_OK ? json_array() : NULL;
    for (size_t i = 0; arr && i < n; i++) {
        /* a device sees its own deployment only */
        if (c->who && c->who->device_id > 0 && list[i].id != c->who->deployment_id) continue;
        json_array_append_new(arr, lfr_json_deployment(&list[i]));
    }
    lfr_free(list);
    if (st != LFR_OK) return st;
    return app_answer(c, arr ? json_pack("{s:o}", "deployments", arr) : NULL);
}

/* Cameras ------------------------------------------------------------------------ */
lfr_status app_op_CAMERA_ADD(app_call *c) {
    int64_t id = 0;
    lfr_rtsp_transport tr = LFR_RTSP_TCP;
    lfr_status st = lfr_rtsp_transport_parse(app_arg_str(c, "rtsp_transport"), &tr, c->err);
    if (st == LFR_OK)
        st = lfr_deploy_camera_add_transport(c->s, c->deployment_id, app_arg_str(c, "name"),
                                             app_arg_str(c, "url"), lfr_rtsp_transport_name(tr),
                                             &c->by, &id, c->err);
    if (st != LFR_OK) return st;
    app_after_live(c, APP_LIVE_CAMERA_ADD, c->deployment_id, id);
    return app_answer(c, json_pack("{s:I, s:I, s:s, s:s}", "id", (json_int_t)id, "deployment",
                                   (json_int_t)c->deployment_id, "name", app_arg_str(c, "name"),
                                   "rtsp_transport", lfr_rtsp_transport_name(tr)));
}

lfr_status app_op_CAMERA_REMOVE(app_call *c) {
    int64_t id = app_arg_id(c, "id");
    lfr_status st = lfr_deploy_camera_remove(c->s, id, &c->by, c->err);
    if (st != LFR_OK) return st;
    app_after_live(c, APP_LIVE_CAMERA_REMOVE, c->deployment_id, id);
    return app_answer(c, json_pack("{s:I, s:b}", "id", (json_int_t)id, "removed", 1));
}

lfr_status app_op_CAMERA_LIST(app_call *c) {
    lfr_camera_info *cams = NULL;
    size_t n = 0;
    lfr_status st = lfr_deploy_camera_list(c->s, c->deployment_id, &cams, &n, c->err);
    json_t *arr = st == LFR_OK ? json_array() : NULL;
    for (size_t i = 0; arr && i < n; i++) json_array_append_new(arr, lfr_json_camera(&cams[i]));
    lfr_free(cams);
    if (st != LFR_OK) return st;
    return app_answer(c, arr ? json_pack("{s:o}", "cameras", arr) : NULL);
}
