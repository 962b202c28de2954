/*
 * deploy_alerts.c - alerts: raised, updated, decided, dispatched,
 * acknowledged, outcome.  See deploy.h.
 */
#include "deploy_int.h"
#include "match/match.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What matched (lfr_alert's source and template_n), checked; *n is 1 for a
 * best shot given 0. */
static lfr_status match_source_ok(const char *name, int template_n, lfr_alert_source *src,
                                  int *n, lfr_err *err) {
    *src = LFR_ALERT_FROM_BEST_SHOT;
    *n = template_n;
    if (name && (lfr_alert_source_parse(name, src) != LFR_OK || *src == LFR_ALERT_FROM_UNKNOWN))
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "alert source \"%.32s\" is not \"best_shot\" or \"track_template\"",
                           name);
    if (*src == LFR_ALERT_FROM_BEST_SHOT) {
        if (*n == 0) *n = 1;
        if (*n != 1)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "alert template_n %d: a best shot is one embedding", template_n);
    } else if (*n < 2 || *n > LFR_PIPELINE_MAX_TEMPLATE_K) {
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "alert template_n %d: a track template holds 2 to %d embeddings",
                           template_n, LFR_PIPELINE_MAX_TEMPLATE_K);
    }
    return LFR_OK;
}

/* An alert's entry_photos, checked; *k is 1 given 0. */
static lfr_status entry_photos_ok(int photos, int *k, lfr_err *err) {
    *k = photos ? photos : 1;
    if (*k < 1 || *k > LFR_MAX_ENTRY_IMAGES)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "alert entry_photos %d: an entry holds 1 to %d photos", photos,
                           LFR_MAX_ENTRY_IMAGES);
    return LFR_OK;
}

double lfr_alert_likeness(const lfr_alert_info *a) {
    return lfr_match_cal_entry_likeness(lfr_match_calibration_named(a->model_set), a->score,
                                        a->entry_photos > 1 ? a->entry_photos : 1);
}

lfr_status lfr_deploy_alert_record(lfr_store *s, int64_t deployment_id, const lfr_alert *a,
                                   const lfr_actor *by, int64_t *alert_id, lfr_err *err) {
    if (alert_id) *alert_id = 0;
    lfr_status st = dp_actor_ok(by, err);
    if (st == LFR_OK) st = dp_text_ok(a->camera, LFR_MAX_ACTOR, "camera", 1, err);
    if (st == LFR_OK && a->face_image && a->face_image_len > LFR_MAX_IMAGE_BYTES)
        st = lfr_err_set(err, LFR_ERR_TOO_LARGE, "alert image exceeds %u bytes", LFR_MAX_IMAGE_BYTES);
    if (st == LFR_OK && !isfinite(a->score))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "alert score is not finite");
    lfr_alert_source src = LFR_ALERT_FROM_BEST_SHOT;
    int tn = 1, kp = 1;
    if (st == LFR_OK) st = match_source_ok(a->source, a->template_n, &src, &tn, err);
    if (st == LFR_OK) st = entry_photos_ok(a->entry_photos, &kp, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    st = lfr_deploy_require_live(s, deployment_id, err);
    char ref[LFR_MAX_ACTOR] = "";
    if (st == LFR_OK) st = dp_entry_ref(s, deployment_id, a->entry_id, ref, err);
    lfr_store_stmt *q;
    int row;
    double thr = 0;
    if (st == LFR_OK) {
        st = lfr_store_stmt_prepare(s, "SELECT threshold FROM deployments WHERE id = ?", &q, err);
        if (st == LFR_OK) {
            lfr_store_stmt_bind_int64(q, 1, deployment_id);
            st = lfr_store_stmt_step(q, &row, err);
            thr = lfr_store_stmt_double(q, 0);
            lfr_store_stmt_finalize(q);
        }
    }
    if (st == LFR_OK && (double)a->score < (double)(float)thr)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG,
                         "alert score %.4f is below the authorised threshold %.4f",
                         (double)a->score, thr);
    uint8_t *sealed = NULL;
    size_t nsealed = 0;
    if (st == LFR_OK && a->face_image && a->face_image_len)
        st = lfr_store_seal(s, a->face_image, a->face_image_len, &sealed, &nsealed);
    int64_t id = 0;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "INSERT INTO alerts(deployment_id, entry_id, subject_ref, "
                                    "camera, at, score, threshold, face_image, image_id, "
                                    "match_source, template_n, entry_photos) "
                                    "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                                    &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, deployment_id);
        lfr_store_stmt_bind_int64(q, 2, a->entry_id);
        lfr_store_stmt_bind_text(q, 3, ref);
        lfr_store_stmt_bind_text(q, 4, a->camera);
        lfr_store_stmt_bind_int64(q, 5, lfr_store_now(s));
        lfr_store_stmt_bind_double(q, 6, a->score);
        lfr_store_stmt_bind_double(q, 7, thr);
        lfr_store_stmt_bind_blob(q, 8, sealed, nsealed);
        if (a->image_id > 0) lfr_store_stmt_bind_int64(q, 9, a->image_id);
        else lfr_store_stmt_bind_null(q, 9);
        lfr_store_stmt_bind_text(q, 10, lfr_alert_source_name(src));
        lfr_store_stmt_bind_int64(q, 11, tn);
        lfr_store_stmt_bind_int64(q, 12, kp);
        st = lfr_store_stmt_step(q, &row, err);
        id = lfr_store_last_id(s);
        lfr_store_stmt_finalize(q);
    }
    lfr_free(sealed);
    if (st == LFR_OK)
        st = dp_audit(s, by, LFR_AUDIT_ALERT_RAISE, deployment_id,
                   json_pack("{s:I, s:I, s:s, s:s, s:f, s:f, s:s, s:i, s:i}", "alert",
                             (json_int_t)id, "entry", (json_int_t)a->entry_id, "subject_ref",
                             ref, "camera", a->camera, "score", dp_dec6(a->score), "threshold",
                             dp_dec6(thr), "source", lfr_alert_source_name(src), "template_n",
                             tn, "entry_photos", kp),
                   err);
    st = dp_finish(s, st);
    if (st == LFR_OK && alert_id) *alert_id = id;
    return st;
}

lfr_status lfr_deploy_alert_update(lfr_store *s, int64_t alert_id, float score,
                                   const uint8_t *face_image, size_t face_image_len,
                                   const char *source, int template_n, int entry_photos,
                                   const lfr_actor *by, lfr_err *err) {
    lfr_status st = dp_actor_ok(by, err);
    if (st == LFR_OK && !isfinite(score))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "alert score is not finite");
    lfr_alert_source src = LFR_ALERT_FROM_BEST_SHOT;
    int tn = 1, kp = 1;
    if (st == LFR_OK) st = match_source_ok(source, template_n, &src, &tn, err);
    if (st == LFR_OK) st = entry_photos_ok(entry_photos, &kp, err);
    if (st == LFR_OK && face_image && face_image_len > LFR_MAX_IMAGE_BYTES)
        st = lfr_err_set(err, LFR_ERR_TOO_LARGE, "alert image exceeds %u bytes", LFR_MAX_IMAGE_BYTES);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    int64_t dep = 0;
    st = lfr_store_query_int64(s, "SELECT deployment_id FROM alerts WHERE id = ?", 1, alert_id, 0,
                               &dep, err);
    if (st == LFR_OK && dep == 0)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no alert %lld", (long long)alert_id);
    if (st == LFR_OK) st = lfr_deploy_require_live(s, dep, err);
    lfr_store_stmt *q = NULL;
    int row = 0;
    double old = 0;
    int64_t decided = 0, old_n = 0;
    char old_src[16] = "";
    if (st == LFR_OK) {
        st = lfr_store_stmt_prepare(s, "SELECT score, decided_at IS NOT NULL, match_source, "
                                       "template_n FROM alerts WHERE id = ?", &q, err);
        if (st == LFR_OK) {
            lfr_store_stmt_bind_int64(q, 1, alert_id);
            st = lfr_store_stmt_step(q, &row, err);
            old = lfr_store_stmt_double(q, 0);
            decided = lfr_store_stmt_int64(q, 1);
            COPY(old_src, lfr_store_stmt_text(q, 2));
            old_n = lfr_store_stmt_int64(q, 3);
            lfr_store_stmt_finalize(q);
        }
    }
    if (st == LFR_OK && decided)
        st = lfr_err_set(err, LFR_ERR_STATE, "alert %lld has been decided; it is not changed",
                         (long long)alert_id);
    if (st == LFR_OK && !((double)score > old))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "an update must score higher than %.4f", old);
    uint8_t *sealed = NULL;
    size_t nsealed = 0;
    if (st == LFR_OK && face_image && face_image_len)
        st = lfr_store_seal(s, face_image, face_image_len, &sealed, &nsealed);
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s, "UPDATE alerts SET score = ?, face_image = COALESCE(?, face_image), "
                                       "match_source = ?, template_n = ?, entry_photos = ? "
                                       "WHERE id = ?", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_double(q, 1, score);
        if (sealed) lfr_store_stmt_bind_blob(q, 2, sealed, nsealed);
        else lfr_store_stmt_bind_null(q, 2);
        lfr_store_stmt_bind_text(q, 3, lfr_alert_source_name(src));
        lfr_store_stmt_bind_int64(q, 4, tn);
        lfr_store_stmt_bind_int64(q, 5, kp);
        lfr_store_stmt_bind_int64(q, 6, alert_id);
        st = lfr_store_stmt_step(q, &row, err);
        lfr_store_stmt_finalize(q);
    }
    lfr_free(sealed);
    if (st == LFR_OK)
        st = dp_audit(s, by, LFR_AUDIT_ALERT_UPDATE, dep,
                   json_pack("{s:I, s:f, s:f, s:s, s:i, s:i, s:s, s:I}", "alert",
                             (json_int_t)alert_id, "score", dp_dec6(score), "previous_score",
                             dp_dec6(old), "source", lfr_alert_source_name(src), "template_n",
                             tn, "entry_photos", kp, "previous_source",
                             old_src[0] ? old_src : "unknown", "previous_template_n",
                             (json_int_t)old_n),
                   err);
    return dp_finish(s, st);
}

lfr_status lfr_deploy_alert_decide(lfr_store *s, int64_t alert_id, int confirmed,
                                   const char *note, const lfr_actor *by, lfr_err *err) {
    if (note && !note[0]) note = NULL;
    lfr_status st = dp_actor_ok(by, err);
    if (st == LFR_OK) st = dp_text_ok(note, LFR_MAX_TEXT, "note", 0, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    int64_t dep = 0, decided = 0;
    st = lfr_store_query_int64(s, "SELECT deployment_id FROM alerts WHERE id = ?", 1, alert_id, 0,
                               &dep, err);
    if (st == LFR_OK && dep == 0)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no alert %lld", (long long)alert_id);
    if (st == LFR_OK)
        st = lfr_store_query_int64(s, "SELECT decision IS NOT NULL FROM alerts WHERE id = ?", 1,
                                   alert_id, 0, &decided, err);
    if (st == LFR_OK && decided)
        st = lfr_err_set(err, LFR_ERR_STATE, "alert %lld has already been decided", (long long)alert_id);
    lfr_store_stmt *q;
    int row;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "UPDATE alerts SET decision = ?, decided_by = ?, decided_at = ?, "
                                    "note = ? WHERE id = ?", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_text(q, 1, confirmed ? "confirmed" : "rejected");
        lfr_store_stmt_bind_text(q, 2, by->name);
        lfr_store_stmt_bind_int64(q, 3, lfr_store_now(s));
        lfr_store_stmt_bind_text(q, 4, note);
        lfr_store_stmt_bind_int64(q, 5, alert_id);
        st = lfr_store_stmt_step(q, &row, err);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK)
        st = dp_audit(s, by, LFR_AUDIT_ALERT_DECISION, dep,
                   json_pack("{s:I, s:s, s:s?}", "alert", (json_int_t)alert_id, "decision",
                             confirmed ? "confirmed" : "rejected", "note", note),
                   err);
    return dp_finish(s, st);
}


/* Reading ------------------------------------------------------------------- */
#define ALERT_COLS                                                                       \
    "id, deployment_id, entry_id, image_id, subject_ref, camera, at, score, threshold, "  \
    "face_image IS NOT NULL, decision, decided_by, decided_at, note, dispatched_at, "     \
    "dispatched_all, outcome, outcome_by, outcome_at, outcome_note, "                    \
    "(SELECT d.model_set FROM deployments d WHERE d.id = alerts.deployment_id), "         \
    "match_source, template_n, entry_photos"

static void fill_alert(lfr_store_stmt *q, void *elem) {
    lfr_alert_info *a = elem;
    memset(a, 0, sizeof *a);
    a->id = lfr_store_stmt_int64(q, 0);
    a->deployment_id = lfr_store_stmt_int64(q, 1);
    a->entry_id = lfr_store_stmt_int64(q, 2);
    a->image_id = lfr_store_stmt_int64(q, 3);
    COPY(a->subject_ref, lfr_store_stmt_text(q, 4));
    COPY(a->camera, lfr_store_stmt_text(q, 5));
    a->at = lfr_store_stmt_int64(q, 6);
    a->score = (float)lfr_store_stmt_double(q, 7);
    a->threshold = (float)lfr_store_stmt_double(q, 8);
    a->has_face_image = (int)lfr_store_stmt_int64(q, 9);
    COPY(a->decision, lfr_store_stmt_text(q, 10));
    COPY(a->decided_by, lfr_store_stmt_text(q, 11));
    a->decided_at = lfr_store_stmt_int64(q, 12);
    COPY(a->note, lfr_store_stmt_text(q, 13));
    a->dispatched_at = lfr_store_stmt_int64(q, 14);
    a->dispatched_all = (int)lfr_store_stmt_int64(q, 15);
    COPY(a->outcome, lfr_store_stmt_text(q, 16));
    COPY(a->outcome_by, lfr_store_stmt_text(q, 17));
    a->outcome_at = lfr_store_stmt_int64(q, 18);
    COPY(a->outcome_note, lfr_store_stmt_text(q, 19));
    COPY(a->model_set, lfr_store_stmt_text(q, 20));
    if (lfr_alert_source_parse(lfr_store_stmt_text(q, 21), &a->source) != LFR_OK)
        a->source = LFR_ALERT_FROM_UNKNOWN;
    a->template_n = (int)lfr_store_stmt_int64(q, 22);
    a->entry_photos = (int)lfr_store_stmt_int64(q, 23);
}

lfr_status lfr_deploy_alert_get(lfr_store *s, int64_t alert_id, lfr_alert_info *out,
                                lfr_err *err) {
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT " ALERT_COLS " FROM alerts WHERE id = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, alert_id);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && !row) st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no alert %lld", (long long)alert_id);
    if (st == LFR_OK) fill_alert(q, out);
    lfr_store_stmt_finalize(q);
    return st;
}

lfr_status lfr_deploy_alert_list(lfr_store *s, int64_t deployment_id, int64_t before_id,
                                 size_t limit, lfr_alert_info **out, size_t *n, lfr_err *err) {
    *out = NULL;
    *n = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "SELECT " ALERT_COLS " FROM alerts WHERE deployment_id = ? AND (? = 0 OR id < ?) "
           "ORDER BY id DESC LIMIT ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, deployment_id);
    lfr_store_stmt_bind_int64(q, 2, before_id);
    lfr_store_stmt_bind_int64(q, 3, before_id);
    lfr_store_stmt_bind_int64(q, 4, limit ? (int64_t)limit : -1);
    void *arr = NULL;
    st = dp_rows(q, sizeof(lfr_alert_info), fill_alert, &arr, n, err);
    *out = arr;
    return st;
}

lfr_status lfr_deploy_alert_image_load(lfr_store *s, int64_t alert_id, uint8_t **image,
                                       size_t *len, lfr_err *err) {
    *image = NULL;
    *len = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT face_image FROM alerts WHERE id = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, alert_id);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && !row) st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no alert %lld", (long long)alert_id);
    if (st == LFR_OK && lfr_store_stmt_is_null(q, 0))
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "alert %lld has no face image", (long long)alert_id);
    if (st == LFR_OK) {
        size_t n = 0;
        const void *b = lfr_store_stmt_blob(q, 0, &n);
        st = lfr_store_unseal(s, b, n, image, len);
        if (st == LFR_ERR_INTEGRITY)
            lfr_err_set(err, st, "face image of alert %lld does not decrypt: altered or wrong key",
                        (long long)alert_id);
    }
    lfr_store_stmt_finalize(q);
    return st;
}

/* Dispatch, acknowledgement, outcome ------------------------------------------ */
/* The alert's deployment, decision and whether (and to all) it went out. */
typedef struct alert_row {
    int64_t dep, dispatched_at, all;
    char decision[16], outcome[32];
} alert_row;

static lfr_status alert_row_get(lfr_store *s, int64_t alert_id, alert_row *r, lfr_err *err) {
    memset(r, 0, sizeof *r);
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "SELECT deployment_id, decision, dispatched_at, dispatched_all, outcome FROM alerts "
           "WHERE id = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, alert_id);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && !row) st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no alert %lld", (long long)alert_id);
    if (st == LFR_OK) {
        r->dep = lfr_store_stmt_int64(q, 0);
        COPY(r->decision, lfr_store_stmt_text(q, 1));
        r->dispatched_at = lfr_store_stmt_int64(q, 2);
        r->all = lfr_store_stmt_int64(q, 3);
        COPY(r->outcome, lfr_store_stmt_text(q, 4));
    }
    lfr_store_stmt_finalize(q);
    return st;
}

lfr_status lfr_deploy_alert_dispatch(lfr_store *s, int64_t alert_id, const int64_t *device_ids,
                                     size_t n, int all, const lfr_actor *by, lfr_err *err) {
    lfr_status st = dp_actor_ok(by, err);
    if (st == LFR_OK && all && n)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG,
                         "dispatch to all devices or to a list of devices, not both");
    if (st == LFR_OK && !all && (n == 0 || !device_ids))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "dispatch to which devices? none given");
    if (st == LFR_OK && n > LFR_MAX_DISPATCH_DEVICES)
        st = lfr_err_set(err, LFR_ERR_TOO_LARGE,
                         "%zu devices named: at most %d in one dispatch (or dispatch to all)", n,
                         LFR_MAX_DISPATCH_DEVICES);
    for (size_t i = 0; st == LFR_OK && i < n; i++)
        if (device_ids[i] <= 0)
            st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "device id %lld is not valid",
                             (long long)device_ids[i]);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    alert_row r;
    st = alert_row_get(s, alert_id, &r, err);
    if (st == LFR_OK && strcmp(r.decision, "confirmed") != 0)
        st = lfr_err_set(err, LFR_ERR_STATE,
                         r.decision[0] ? "alert %lld was rejected by the operator: it is not "
                                         "dispatched"
                                       : "alert %lld has not been confirmed by an operator: "
                                         "nothing is dispatched before a human decision",
                         (long long)alert_id);
    if (st == LFR_OK) st = lfr_deploy_require_live(s, r.dep, err);
    lfr_store_stmt *q = NULL;
    int row;
    if (st == LFR_OK && n)
        st = lfr_store_stmt_prepare(s, "INSERT OR IGNORE INTO alert_dispatches(alert_id, device_id) "
                                       "VALUES(?, ?)", &q, err);
    for (size_t i = 0; st == LFR_OK && i < n; i++) {
        lfr_store_stmt_bind_int64(q, 1, alert_id);
        lfr_store_stmt_bind_int64(q, 2, device_ids[i]);
        st = lfr_store_stmt_step(q, &row, err);
        if (st == LFR_OK) st = lfr_store_stmt_reset(q);
    }
    lfr_store_stmt_finalize(q);
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s, "UPDATE alerts SET dispatched_at = COALESCE(dispatched_at, ?), "
                                       "dispatched_by = COALESCE(dispatched_by, ?), "
                                       "dispatched_all = MAX(dispatched_all, ?) WHERE id = ?",
                                    &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, lfr_store_now(s));
        lfr_store_stmt_bind_text(q, 2, by->name);
        lfr_store_stmt_bind_int64(q, 3, all ? 1 : 0);
        lfr_store_stmt_bind_int64(q, 4, alert_id);
        st = lfr_store_stmt_step(q, &row, err);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK) {
        json_t *ids = json_array();
        for (size_t i = 0; ids && i < n; i++) json_array_append_new(ids, json_integer(device_ids[i]));
        json_t *j = ids ? json_pack("{s:I, s:b, s:o}", "alert", (json_int_t)alert_id, "all",
                                    all != 0, "devices", ids)
                        : NULL;
        st = dp_audit(s, by, LFR_AUDIT_ALERT_DISPATCH, r.dep, j, err);
    }
    return dp_finish(s, st);
}

static lfr_status dispatched_to(lfr_store *s, int64_t alert_id, const alert_row *r,
                                int64_t device_id, int *yes, lfr_err *err) {
    *yes = 0;
    if (!r->dispatched_at) return LFR_OK;
    if (r->all) {
        *yes = 1;
        return LFR_OK;
    }
    int64_t v = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "SELECT count(*) FROM alert_dispatches WHERE alert_id = ? AND device_id = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, alert_id);
    lfr_store_stmt_bind_int64(q, 2, device_id);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && row) v = lfr_store_stmt_int64(q, 0);
    lfr_store_stmt_finalize(q);
    *yes = v > 0;
    return st;
}

lfr_status lfr_deploy_alert_dispatched_to(lfr_store *s, int64_t alert_id, int64_t device_id,
                                          int *yes, lfr_err *err) {
    *yes = 0;
    alert_row r;
    lfr_status st = alert_row_get(s, alert_id, &r, err);
    if (st == LFR_OK) st = dispatched_to(s, alert_id, &r, device_id, yes, err);
    return st;
}

lfr_status lfr_deploy_alert_ack(lfr_store *s, int64_t alert_id, int64_t device_id,
                                const lfr_actor *by, lfr_err *err) {
    lfr_status st = dp_actor_ok(by, err);
    if (st == LFR_OK && device_id <= 0)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "device id %lld is not valid", (long long)device_id);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    alert_row r;
    int yes = 0;
    int64_t acked = 0;
    st = alert_row_get(s, alert_id, &r, err);
    if (st == LFR_OK) st = dispatched_to(s, alert_id, &r, device_id, &yes, err);
    if (st == LFR_OK && !yes)
        st = lfr_err_set(err, LFR_ERR_STATE, "alert %lld was not dispatched to device %lld",
                         (long long)alert_id, (long long)device_id);
    lfr_store_stmt *q;
    int row = 0;
    if (st == LFR_OK) {
        st = lfr_store_stmt_prepare(s, "SELECT count(*) FROM alert_acks WHERE alert_id = ? AND "
                                       "device_id = ?", &q, err);
        if (st == LFR_OK) {
            lfr_store_stmt_bind_int64(q, 1, alert_id);
            lfr_store_stmt_bind_int64(q, 2, device_id);
            st = lfr_store_stmt_step(q, &row, err);
            if (st == LFR_OK && row) acked = lfr_store_stmt_int64(q, 0);
            lfr_store_stmt_finalize(q);
        }
    }
    if (st == LFR_OK && acked)
        st = lfr_err_set(err, LFR_ERR_STATE, "alert %lld was already acknowledged on device %lld",
                         (long long)alert_id, (long long)device_id);
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s, "INSERT INTO alert_acks(alert_id, device_id, acked_by, "
                                       "acked_at) VALUES(?,?,?,?)", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, alert_id);
        lfr_store_stmt_bind_int64(q, 2, device_id);
        lfr_store_stmt_bind_text(q, 3, by->name);
        lfr_store_stmt_bind_int64(q, 4, lfr_store_now(s));
        st = lfr_store_stmt_step(q, &row, err);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK)
        st = dp_audit(s, by, LFR_AUDIT_ALERT_ACK, r.dep,
                      json_pack("{s:I, s:I}", "alert", (json_int_t)alert_id, "device",
                                (json_int_t)device_id), err);
    return dp_finish(s, st);
}

lfr_status lfr_deploy_alert_outcome(lfr_store *s, int64_t alert_id, lfr_alert_outcome o,
                                    const char *note, const lfr_actor *by, lfr_err *err) {
    if (note && !note[0]) note = NULL;
    lfr_status st = dp_actor_ok(by, err);
    if (st == LFR_OK && (unsigned)o >= LFR_ALERT_OUTCOME_COUNT)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "unknown alert outcome %d", (int)o);
    if (st == LFR_OK) st = dp_text_ok(note, LFR_MAX_TEXT, "outcome note", 0, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    alert_row r;
    st = alert_row_get(s, alert_id, &r, err);
    if (st == LFR_OK && !r.dispatched_at)
        st = lfr_err_set(err, LFR_ERR_STATE,
                         "alert %lld has not been dispatched: an outcome is recorded for a "
                         "dispatched alert", (long long)alert_id);
    if (st == LFR_OK && r.outcome[0])
        st = lfr_err_set(err, LFR_ERR_STATE, "alert %lld already has its outcome (%s)",
                         (long long)alert_id, r.outcome);
    lfr_store_stmt *q;
    int row;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s, "UPDATE alerts SET outcome = ?, outcome_by = ?, "
                                       "outcome_at = ?, outcome_note = ? WHERE id = ?", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_text(q, 1, lfr_alert_outcome_name(o));
        lfr_store_stmt_bind_text(q, 2, by->name);
        lfr_store_stmt_bind_int64(q, 3, lfr_store_now(s));
        lfr_store_stmt_bind_text(q, 4, note);
        lfr_store_stmt_bind_int64(q, 5, alert_id);
        st = lfr_store_stmt_step(q, &row, err);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK)
        st = dp_audit(s, by, LFR_AUDIT_ALERT_OUTCOME, r.dep,
                      json_pack("{s:I, s:s, s:s?}", "alert", (json_int_t)alert_id, "outcome",
                                lfr_alert_outcome_name(o), "note", note), err);
    return dp_finish(s, st);
}
