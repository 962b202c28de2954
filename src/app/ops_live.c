/*
 * ops_live.c - what the console shows of a running deployment besides its
 * alerts: the cameras' live figures (camera.stats), the operator's live
 * view of one camera (camera.preview), and the deployment's amendments
 * with the proposed ones still to authorise (deployment.amendments).
 *
 * The live view is for the van's staff only: operators and admins, never
 * an officer's device (refused here as well as by the role table), and its
 * JPEG is answered with Cache-Control: no-store like every image; the
 * frame exists in memory only (src/pipeline/preview.c).
 */
#include <string.h>

#include "app_int.h"

lfr_status app_op_CAMERA_STATS(app_call *c) {
    lfr_registry *r = lfr_app_registry(c->app);
    json_t *cams = NULL, *set = NULL;
    if (r) (void)lfr_registry_camera_stats(r, c->deployment_id, &cams, &set);
    else cams = json_array(), set = json_null();
    if (!cams || !set) {
        json_decref(cams);
        json_decref(set);
        return lfr_err_set(c->err, LFR_ERR_NOMEM, "camera.stats: out of memory");
    }
    return app_answer(c, json_pack("{s:I, s:b, s:o, s:o}", "deployment",
                                   (json_int_t)c->deployment_id, "running",
                                   json_array_size(cams) > 0, "cameras", cams, "settings", set));
}

lfr_status app_op_CAMERA_PREVIEW(app_call *c) {
    if (c->who && c->who->device_id > 0)
        return lfr_err_set(c->err, LFR_ERR_PERMISSION,
                           "camera.preview: the live view is for the van's operators, not "
                           "officers' devices");
    lfr_registry *r = lfr_app_registry(c->app);
    if (!r)
        return lfr_err_set(c->err, LFR_ERR_NOT_FOUND, "camera.preview: this server runs no cameras");
    int64_t id = app_arg_id(c, "id");
    lfr_status st = lfr_registry_preview(r, c->deployment_id, id, &c->res->blob,
                                         &c->res->blob_len, c->err);
    if (st != LFR_OK) return st;
    c->res->blob_type = "image/jpeg";
    return app_answer(c, json_pack("{s:I, s:s}", "camera", (json_int_t)id, "type", "image/jpeg"));
}

/* Read straight from the amendments table (the deploy layer has no list
 * call); entries removed by an authorised amendment are gone, so their
 * name is null then. */
lfr_status app_op_DEPLOYMENT_AMENDMENTS(app_call *c) {
    lfr_store_stmt *q = NULL;
    lfr_status st = lfr_store_stmt_prepare(
        c->s,
        "SELECT a.id, a.state, a.reason, a.new_threshold, a.remove_entry_id, a.proposed_by, "
        "a.proposed_at, a.authorised_by, a.authorised_at, e.display_name, e.subject_ref "
        "FROM amendments a LEFT JOIN watchlist_entries e "
        "ON e.id = a.remove_entry_id AND e.deployment_id = a.deployment_id "
        "WHERE a.deployment_id = ? ORDER BY a.id DESC LIMIT ?",
        &q, c->err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, c->deployment_id);
    lfr_store_stmt_bind_int64(q, 2, LFR_APP_DEFAULT_LIST);
    json_t *arr = json_array();
    int pending = 0;
    for (;;) {
        int row = 0;
        st = lfr_store_stmt_step(q, &row, c->err);
        if (st != LFR_OK || !row || !arr) break;
        const char *state = lfr_store_stmt_text(q, 1);
        if (!strcmp(state, "proposed")) pending++;
        json_t *o = json_pack(
            "{s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:o}", "id",
            (json_int_t)lfr_store_stmt_int64(q, 0), "deployment", (json_int_t)c->deployment_id,
            "state", state, "reason", lfr_store_stmt_text(q, 2), "threshold",
            lfr_store_stmt_is_null(q, 3) ? json_null() : json_real(lfr_store_stmt_double(q, 3)),
            "remove_entry",
            lfr_store_stmt_is_null(q, 4) ? json_null() : json_integer(lfr_store_stmt_int64(q, 4)),
            "remove_entry_name",
            lfr_store_stmt_is_null(q, 9) ? json_null() : json_string(lfr_store_stmt_text(q, 9)),
            "proposed_by", lfr_store_stmt_text(q, 5), "proposed_at",
            lfr_json_time(lfr_store_stmt_int64(q, 6)), "authorised_by",
            lfr_store_stmt_is_null(q, 7) ? json_null() : json_string(lfr_store_stmt_text(q, 7)),
            "authorised_at", lfr_json_time(lfr_store_stmt_int64(q, 8)));
        if (!o || json_array_append_new(arr, o)) {
            json_decref(arr);
            arr = NULL;
        }
    }
    lfr_store_stmt_finalize(q);
    if (st != LFR_OK) {
        json_decref(arr);
        return st;
    }
    if (!arr) return lfr_err_set(c->err, LFR_ERR_NOMEM, "deployment.amendments: out of memory");
    return app_answer(c, json_pack("{s:I, s:i, s:o}", "deployment", (json_int_t)c->deployment_id,
                                   "pending", pending, "amendments", arr));
}
