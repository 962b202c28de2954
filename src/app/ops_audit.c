/*
 * ops_audit.c - the audit log (verify, show, anchor) and retention (purge
 * now, and lfr_app_tick's periodic purge).
 */
#include <stdio.h>
#include <string.h>

#include "account/account.h"
#include "app_int.h"

lfr_status app_op_AUDIT_VERIFY(app_call *c) {
    lfr_audit_report rep;
    lfr_status st = lfr_audit_verify(c->s, &rep, c->err);
    if (st != LFR_OK && st != LFR_ERR_INTEGRITY) return st;
    /* the chain holds: do the deployment rows agree with it? */
    if (st == LFR_OK) {
        lfr_audit_report rows;
        st = lfr_deploy_verify_rows(c->s, &rows, c->err);
        if (st != LFR_OK && st != LFR_ERR_INTEGRITY) return st;
        if (st == LFR_ERR_INTEGRITY) {
            rep.ok = 0;
            rep.bad_seq = rows.bad_seq;
            snprintf(rep.reason, sizeof rep.reason, "%s", rows.reason);
        }
    }
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
    char pk[65];
    lfr_audit_pubkey_hex(c->app->sign.pk, pk);
    if (o) json_object_set_new(o, "pubkey", json_string(pk));
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

/* Signed checkpoints ----------------------------------------------------------- */
static json_t *checkpoint_json(lfr_store *s, const lfr_audit_checkpoint *cp, lfr_err *err,
                               lfr_status *st) {
    char *full = NULL, *compact = NULL;
    size_t nf = 0, nc = 0;
    *st = lfr_audit_checkpoint_export(s, cp, 0, &full, &nf, err);
    if (*st == LFR_OK) *st = lfr_audit_checkpoint_export(s, cp, 1, &compact, &nc, err);
    json_t *o = NULL;
    if (*st == LFR_OK) {
        char head[65], pk[65];
        lfr_audit_hash_hex(cp->head, head);
        lfr_audit_pubkey_hex(cp->pk, pk);
        o = json_pack("{s:I, s:I, s:s, s:o, s:s, s:I, s:s, s:s%, s:s%}", "record",
                      (json_int_t)cp->record_seq, "seq", (json_int_t)cp->seq, "head", head, "at",
                      lfr_json_time(cp->at), "reason", cp->reason, "deployment",
                      (json_int_t)cp->deployment_id, "pubkey", pk, "text", full, nf, "compact",
                      compact, nc);
        if (!o) *st = LFR_ERR_NOMEM;
    }
    lfr_free(full);
    lfr_free(compact);
    return o;
}

lfr_status app_checkpoint(lfr_app *app, lfr_store *s, const lfr_actor *by, const char *reason,
                          int64_t deployment_id, json_t **out, lfr_err *err) {
    if (out) *out = NULL;
    lfr_audit_checkpoint cp;
    lfr_status st = lfr_audit_checkpoint_make(s, &app->sign, by, reason, deployment_id, &cp, err);
    if (st == LFR_OK && out) *out = checkpoint_json(s, &cp, err, &st);
    return st;
}

lfr_status app_op_AUDIT_CHECKPOINT(app_call *c) {
    json_t *o = NULL;
    lfr_status st = app_checkpoint(c->app, c->s, &c->by, "on_demand", 0, &o, c->err);
    return st == LFR_OK ? app_answer(c, json_pack("{s:o}", "checkpoint", o)) : st;
}

lfr_status app_op_AUDIT_CHECKPOINT_GET(app_call *c) {
    lfr_audit_checkpoint cp;
    lfr_status st = lfr_audit_checkpoint_get(c->s, app_arg_id(c, "record"), &cp, c->err);
    json_t *o = st == LFR_OK ? checkpoint_json(c->s, &cp, c->err, &st) : NULL;
    return st == LFR_OK ? app_answer(c, json_pack("{s:o}", "checkpoint", o)) : st;
}

/* The compact checkpoint (no record lines) as a QR code, made on the van
 * (libqrencode) for an oversight officer to photograph. */
lfr_status app_op_AUDIT_CHECKPOINT_QR(app_call *c) {
    lfr_audit_checkpoint cp;
    lfr_status st = lfr_audit_checkpoint_get(c->s, app_arg_id(c, "record"), &cp, c->err);
    char *compact = NULL, *svg = NULL;
    size_t n = 0;
    if (st == LFR_OK) st = lfr_audit_checkpoint_export(c->s, &cp, 1, &compact, &n, c->err);
    if (st == LFR_OK) st = lfr_qr_svg(compact, &svg, c->err);
    json_t *o = NULL;
    if (st == LFR_OK) {
        o = json_pack("{s:I, s:I, s:s, s:s}", "record", (json_int_t)cp.record_seq, "seq",
                      (json_int_t)cp.seq, "compact", compact, "qr_svg", svg);
        if (!o) st = LFR_ERR_NOMEM;
    }
    lfr_free(compact);
    lfr_free(svg);
    return st == LFR_OK ? app_answer(c, o) : st;
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
    if (due && st == LFR_OK && rep.receipts > 0) {
        const lfr_actor sys = {"openlfr-retention", LFR_ROLE_SYSTEM};
        lfr_err e = {{0}};
        if (app_checkpoint(app, s, &sys, "retention.purge", 0, NULL, &e) != LFR_OK)
            lfr_log(LFR_LOG_ERROR, "checkpoint after retention: %s", e.msg);
    }
    app_store_give(app, s);
    if (due && st == LFR_OK && rep.receipts > 0)
        lfr_log(LFR_LOG_INFO, "retention: %lld receipts (%lld alerts, %lld checks, %lld watchlists)",
                (long long)rep.receipts, (long long)rep.alerts, (long long)rep.photo_checks,
                (long long)rep.watchlists);
    return st;
}
