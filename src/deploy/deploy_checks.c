/*
 * deploy_checks.c - photo checks: recorded with their result, read back.  See deploy.h.
 */
#include "deploy_int.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Photo checks and alerts ---------------------------------------------------- */
lfr_status dp_entry_ref(lfr_store *s, int64_t dep, int64_t entry_id, char ref[LFR_MAX_ACTOR],
                            lfr_err *err) {
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "SELECT subject_ref FROM watchlist_entries WHERE id = ? AND deployment_id = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, entry_id);
    lfr_store_stmt_bind_int64(q, 2, dep);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && !row)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "deployment %lld has no watchlist entry %lld",
                         (long long)dep, (long long)entry_id);
    if (st == LFR_OK) dp_copy(ref, LFR_MAX_ACTOR, lfr_store_stmt_text(q, 0));
    lfr_store_stmt_finalize(q);
    return st;
}

lfr_status lfr_deploy_photo_check_record(lfr_store *s, int64_t deployment_id,
                                         const lfr_photo_check *c, const lfr_actor *officer,
                                         int64_t *check_id, lfr_err *err) {
    if (check_id) *check_id = 0;
    lfr_status st = dp_actor_ok(officer, err);
    if (st == LFR_OK) st = dp_text_ok(c->reason, LFR_MAX_TEXT, "reason for the check", 1, err);
    if (st == LFR_OK && (unsigned)c->result >= LFR_PHOTO_CHECK_RESULT_COUNT)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "unknown photo check result %d", (int)c->result);
    if (st == LFR_OK && c->matched &&
        (c->result == LFR_PHOTO_CHECK_NO_FACE || c->result == LFR_PHOTO_CHECK_UNREADABLE))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "a photo check with result %s cannot match",
                         lfr_photo_check_result_name(c->result));
    if (st == LFR_OK && c->device_id < 0)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "device id %lld is negative",
                         (long long)c->device_id);
    if (st == LFR_OK && c->matched && !isfinite(c->score))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "photo check score is not finite");
    if (st == LFR_OK && c->matched && c->image && c->image_len > LFR_MAX_IMAGE_BYTES)
        st = lfr_err_set(err, LFR_ERR_TOO_LARGE, "check image exceeds %u bytes", LFR_MAX_IMAGE_BYTES);
    if (st != LFR_OK) return st;
    lfr_photo_check_result result = c->matched ? LFR_PHOTO_CHECK_MATCH
                              : (c->result == LFR_PHOTO_CHECK_NO_FACE || c->result == LFR_PHOTO_CHECK_UNREADABLE)
                                  ? c->result
                                  : LFR_PHOTO_CHECK_NO_MATCH;
    const char *rname = lfr_photo_check_result_name(result);
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    st = lfr_deploy_require_live(s, deployment_id, err);
    char ref[LFR_MAX_ACTOR] = "";
    double thr = 0;
    if (st == LFR_OK && c->matched) st = dp_entry_ref(s, deployment_id, c->entry_id, ref, err);
    if (st == LFR_OK && c->matched) st = dp_threshold_of(s, deployment_id, &thr, err);
    /* a face below the threshold is not a match, and its photo is never kept */
    if (st == LFR_OK && c->matched && !((double)c->score >= (double)(float)thr && thr > 0))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG,
                         "photo check score %.4f is below the authorised threshold %.4f: it is "
                         "not a match", (double)c->score, thr);
    uint8_t *sealed = NULL;
    size_t nsealed = 0;
    if (st == LFR_OK && c->matched && c->image && c->image_len)
        st = lfr_store_seal(s, c->image, c->image_len, &sealed, &nsealed);
    lfr_store_stmt *q;
    int row;
    int64_t id = 0;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "INSERT INTO photo_checks(deployment_id, officer, device_id, "
                                    "at, reason, result, entry_id, subject_ref, score, image) "
                                    "VALUES(?,?,?,?,?,?,?,?,?,?)", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, deployment_id);
        lfr_store_stmt_bind_text(q, 2, officer->name);
        lfr_store_stmt_bind_int64(q, 3, c->device_id);
        lfr_store_stmt_bind_int64(q, 4, lfr_store_now(s));
        lfr_store_stmt_bind_text(q, 5, c->reason);
        lfr_store_stmt_bind_text(q, 6, rname);
        if (c->matched) {
            lfr_store_stmt_bind_int64(q, 7, c->entry_id);
            lfr_store_stmt_bind_text(q, 8, ref);
            lfr_store_stmt_bind_double(q, 9, c->score);
        }
        lfr_store_stmt_bind_blob(q, 10, sealed, nsealed);
        st = lfr_store_stmt_step(q, &row, err);
        id = lfr_store_last_id(s);
        lfr_store_stmt_finalize(q);
    }
    lfr_free(sealed);
    if (st == LFR_OK) {
        json_t *j = json_pack("{s:I, s:s, s:s}", "check", (json_int_t)id, "reason", c->reason,
                              "result", rname);
        if (j && c->device_id) json_object_set_new(j, "device", json_integer(c->device_id));
        if (j && c->matched) {
            json_object_set_new(j, "entry", json_integer(c->entry_id));
            json_object_set_new(j, "subject_ref", json_string(ref));
            json_object_set_new(j, "score", json_real(dp_dec6(c->score)));
            json_object_set_new(j, "image_kept", json_boolean(nsealed > 0));
        }
        st = dp_audit(s, officer, LFR_AUDIT_CHECK_PHOTO, deployment_id, j, err);
    }
    st = dp_finish(s, st);
    if (st == LFR_OK && check_id) *check_id = id;
    return st;
}

static void fill_check(lfr_store_stmt *q, void *elem) {
    lfr_check_info *c = elem;
    c->id = lfr_store_stmt_int64(q, 0);
    c->deployment_id = lfr_store_stmt_int64(q, 1);
    COPY(c->officer, lfr_store_stmt_text(q, 2));
    c->device_id = lfr_store_stmt_int64(q, 3);
    c->at = lfr_store_stmt_int64(q, 4);
    COPY(c->reason, lfr_store_stmt_text(q, 5));
    COPY(c->result, lfr_store_stmt_text(q, 6));
    c->entry_id = lfr_store_stmt_int64(q, 7);
    COPY(c->subject_ref, lfr_store_stmt_text(q, 8));
    c->score = (float)lfr_store_stmt_double(q, 9);
}

lfr_status lfr_deploy_check_list(lfr_store *s, int64_t deployment_id, int64_t before_id,
                                 size_t limit, lfr_check_info **out, size_t *n, lfr_err *err) {
    *out = NULL;
    *n = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "SELECT id, deployment_id, officer, device_id, at, reason, result, entry_id, "
           "subject_ref, score FROM photo_checks WHERE deployment_id = ? AND (? = 0 OR id < ?) "
           "ORDER BY id DESC LIMIT ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, deployment_id);
    lfr_store_stmt_bind_int64(q, 2, before_id);
    lfr_store_stmt_bind_int64(q, 3, before_id);
    lfr_store_stmt_bind_int64(q, 4, limit ? (int64_t)limit : -1);
    void *arr = NULL;
    st = dp_rows(q, sizeof(lfr_check_info), fill_check, &arr, n, err);
    *out = arr;
    return st;
}
