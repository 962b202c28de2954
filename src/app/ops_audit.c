/*
 * ops_audit.c - the audit log (verify, show, anchor) and retention (purge
 * now, and lfr_app_tick's periodic purge).
 */
#include <string.h>

#include "app_int.h"

lfr_status app_op_AUDIT_VERIFY(app_call *c) {
    lfr_audit_report rep;
    lfr_status st = lfr_audit_verify(c->s, &rep, c->err);
    if (st != LFR_OK && st != LFR_ERR_INTEGRITY) return st;
    /* a broken chain is the answer, not a failure of the call */
    c->err->msg[0] = 0;
    char h[2 * LFR_AUDIT_HASH_BYTES + 1];
    lfr_audit_hash_hex(rep.head_hash, h);
    json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:o}", "ok", rep.ok, "records",
                          (json_int_t)rep.records, "anchors", (json_int_t)rep.anchors, "head_seq",
                          (json_int_t)rep.head_seq, "head_hash",
                          rep.head_seq ? json_string(h) : json_null());
    if (o && !rep.ok) {
        json_object_set_new(o, "first_bad_seq", json_integer(rep.bad_seq));
        json_object_set_new(o, "reason", json_string(rep.reason));
    }
    return app_answer(c, o);
}

static int show_fn(const lfr_audit_record *r, void *ctx) {
    json_t *o = lfr_json_audit_record(r);
    if (o) json_array_append_new(ctx, o);
    return 0;
}

lfr_status app_op_AUDIT_SHOW(app_call *c) {
    int64_t from = app_arg_has(c, "from") ? app_arg_id(c, "from") : 1;
    int64_t limit = app_arg_has(c, "limit") ? app_arg_id(c, "limit") : LFR_APP_DEFAULT_AUDIT_LIST;
    if (limit <= 0) limit = LFR_APP_DEFAULT_AUDIT_LIST;
    json_t *arr = json_array();
    if (!arr) return LFR_ERR_NOMEM;
    lfr_status st = lfr_audit_each(c->s, c->deployment_id, from, limit, show_fn, arr, c->err);
    if (st != LFR_OK) {
        json_decref(arr);
        return st;
    }
    return app_answer(c, json_pack("{s:o}", "records", arr));
}

lfr_status app_op_AUDIT_ANCHOR(app_call *c) {
    lfr_audit_anchor_info an;
    lfr_status st = lfr_audit_anchor(c->s, &an, c->err);
    if (st != LFR_OK) return st;
    char h[2 * LFR_AUDIT_HASH_BYTES + 1];
    lfr_audit_hash_hex(an.hash, h);
    return app_answer(c, json_pack("{s:I, s:o, s:I, s:s}", "anchor", (json_int_t)an.id, "at",
                                   lfr_json_time(an.at), "seq", (json_int_t)an.seq, "hash", h));
}

/* Retention ------------------------------------------------------------------- */
static lfr_status purge(lfr_app *app, lfr_store *s, lfr_purge_report *rep, lfr_err *err) {
    lfr_retention_rules r = {.watchlist_after_end_s = app->cfg.watchlist_after_end_s,
                             .alerts_s = app->cfg.alerts_keep_s,
                             .photo_checks_s = app->cfg.checks_keep_s};
    return lfr_deploy_purge(s, lfr_store_now(s), &r, rep, err);
}

static json_t *report_json(const lfr_purge_report *r) {
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "watchlists",
                     (json_int_t)r->watchlists, "entries", (json_int_t)r->entries, "images",
                     (json_int_t)r->images, "alerts", (json_int_t)r->alerts, "alert_images",
                     (json_int_t)r->alert_images, "photo_checks", (json_int_t)r->photo_checks,
                     "photo_check_images", (json_int_t)r->photo_check_images,
                     "deployments_purged", (json_int_t)r->deployments_purged, "receipts",
                     (json_int_t)r->receipts);
}

lfr_status app_op_RETENTION_PURGE(app_call *c) {
    lfr_purge_report rep;
    lfr_status st = purge(c->app, c->s, &rep, c->err);
    return st == LFR_OK ? app_answer(c, report_json(&rep)) : st;
}

lfr_status lfr_app_tick(lfr_app *app, lfr_err *err) {
    lfr_store *s;
    lfr_status st = app_store_take(app, &s, err);
    if (st != LFR_OK) return st;
    int64_t now = lfr_store_now(s);
    pthread_mutex_lock(&app->mu);
    int due = app->last_purge == 0 || now - app->last_purge >= app->cfg.retention_check_s;
    if (due) app->last_purge = now;
    pthread_mutex_unlock(&app->mu);
    lfr_purge_report rep;
    if (due) st = purge(app, s, &rep, err);
    app_store_give(app, s);
    if (due && st == LFR_OK && rep.receipts > 0)
        lfr_log(LFR_LOG_INFO, "retention: %lld receipts (%lld alerts, %lld checks, %lld watchlists)",
                (long long)rep.receipts, (long long)rep.alerts, (long long)rep.photo_checks,
                (long long)rep.watchlists);
    return st;
}
