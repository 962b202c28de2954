/*
 * ops_check.c - officers' photo checks: a photo and the stated reason
 * against one live deployment's watchlist, and the list of checks made.
 */
#include <math.h>
#include <string.h>

#include "app_int.h"

/* The reasons an officer picks from (the officers' app offers them):
 * matches_description, intelligence, behaviour, other; anything else is
 * free text.  "other" needs reason_other, stored as "other: <text>". */

static json_t *candidate_json(const lfr_check_candidate *k) {
    json_t *o = json_pack("{s:I, s:f, s:f, s:i, s:o}", "entry_id", (json_int_t)k->entry_id,
                          "score", round((double)k->score * 1e6) / 1e6, "likeness",
                          round(k->likeness * 10) / 10, "entry_photos", k->entry_photos,
                          "entry", lfr_json_entry(&k->entry));
    if (o) json_object_set_new(o, "image", k->image_id > 0 ? json_integer(k->image_id) : json_null());
    return o;
}

lfr_status app_op_CHECK_PHOTO(app_call *c) {
    const char *reason = app_arg_str(c, "reason"), *other = app_arg_str(c, "reason_other");
    char text[LFR_MAX_TEXT];
    if (!strcmp(reason, "other")) {
        if (!other)
            return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                               "check.photo: reason_other is required when the reason is other");
        snprintf(text, sizeof text, "other: %s", other);
        reason = text;
    } else if (other) {
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                           "check.photo: reason_other goes with reason \"other\" only");
    }
    lfr_face_ctx *fc;
    lfr_status st = app_face_take(c->app, &fc, c->err);
    if (st != LFR_OK) return st;
    lfr_check_result *r = lfr_calloc(1, sizeof *r);
    int64_t device = c->who && c->who->device_id > 0 ? c->who->device_id : 0;
    if (!r) st = LFR_ERR_NOMEM;
    /* the registry's snapshot of the live deployment: nothing decrypted
     * per check; without one (the CLI, no registry entry) load it */
    lfr_live_snapshot *live = NULL;
    lfr_err e = {{0}};
    if (st == LFR_OK && app_live_snapshot(c->app, c->deployment_id, &live, &e) != LFR_OK)
        live = NULL;
    if (st == LFR_OK && live) {
        lfr_check_watchlist wl = {.snap = live->snap, .threshold = live->threshold,
                                  .image_ids = live->image_ids, .n_image_ids = live->n};
        st = lfr_check_photo_snapshot(c->s, fc, c->deployment_id, &wl, c->req->blob,
                                      c->req->blob_len, reason, device, &c->by, r, c->err);
    } else if (st == LFR_OK) {
        st = lfr_deploy_require_live(c->s, c->deployment_id, c->err);
        if (st == LFR_OK) st = lfr_live_snapshot_load(c->s, c->deployment_id, &live, c->err);
        if (st == LFR_OK) {
            lfr_check_watchlist wl = {.snap = live->snap, .threshold = live->threshold,
                                      .image_ids = live->image_ids, .n_image_ids = live->n};
            st = lfr_check_photo_snapshot(c->s, fc, c->deployment_id, &wl, c->req->blob,
                                          c->req->blob_len, reason, device, &c->by, r, c->err);
        }
    }
    lfr_live_snapshot_unref(live);
    app_face_give(c->app, fc);
    if (r && r->check_id > 0) /* recorded, even when the photo was unreadable */
        app_after_event(c, "check.done", c->deployment_id, 0, device,
                        json_pack("{s:I, s:s, s:s, s:i}", "check", (json_int_t)r->check_id,
                                  "result", lfr_photo_check_result_name(r->result), "officer",
                                  c->by.name, "candidates", r->n));
    if (st == LFR_OK) {
        json_t *arr = json_array();
        for (int i = 0; arr && i < r->n; i++) json_array_append_new(arr, candidate_json(&r->c[i]));
        const char *msg = !r->face_found ? "no face found in the photo"
                          : r->n ? "possible match: a person must compare the images before acting"
                                 : "no match on this deployment's watchlist";
        st = app_answer(c, arr ? json_pack("{s:I, s:I, s:s, s:b, s:f, s:i, s:o, s:s}", "check",
                                           (json_int_t)r->check_id, "deployment",
                                           (json_int_t)c->deployment_id, "result",
                                           lfr_photo_check_result_name(r->result), "face_found",
                                           r->face_found, "threshold",
                                           round((double)r->threshold * 1e6) / 1e6,
                                           "decode_reduction", r->decode_reduction, "candidates",
                                           arr, "message", msg)
                               : NULL);
    }
    lfr_free(r);
    return st;
}

lfr_status app_op_CHECK_LIST(app_call *c) {
    int64_t limit = app_arg_has(c, "limit") ? app_arg_id(c, "limit") : LFR_APP_DEFAULT_LIST;
    if (limit <= 0 || limit > LFR_APP_DEFAULT_LIST * 10) limit = LFR_APP_DEFAULT_LIST;
    lfr_check_info *list = NULL;
    size_t n = 0;
    lfr_status st = lfr_deploy_check_list(c->s, c->deployment_id, app_arg_id(c, "before"),
                                          (size_t)limit, &list, &n, c->err);
    json_t *arr = st == LFR_OK ? json_array() : NULL;
    for (size_t i = 0; arr && i < n; i++) json_array_append_new(arr, lfr_json_check(&list[i]));
    lfr_free(list);
    if (st != LFR_OK) return st;
    return app_answer(c, arr ? json_pack("{s:I, s:o}", "deployment", (json_int_t)c->deployment_id,
                                         "checks", arr)
                             : NULL);
}
