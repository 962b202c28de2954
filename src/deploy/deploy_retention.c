/*
 * deploy_retention.c - retention: deletion of what is due, receipts,
 * compaction.  See deploy.h.
 */
#include "deploy_int.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Retention ----------------------------------------------------------------- */
static const lfr_actor retention_actor = {"openlfr-retention", LFR_ROLE_SYSTEM};

typedef struct due {
    int64_t dep, a, b;
} due;

/* Runs `sql` (one int64 parameter) and collects (col0, col1, col2) rows. */
static lfr_status collect(lfr_store *s, const char *sql, int64_t p, due **out, size_t *n,
                          lfr_err *err) {
    *out = NULL;
    *n = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, sql, &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, p);
    size_t cap = 0;
    for (;;) {
        int row = 0;
        st = lfr_store_stmt_step(q, &row, err);
        if (st != LFR_OK || !row) break;
        if ((st = dp_grow(out, &cap, *n, sizeof **out)) != LFR_OK) break;
        (*out)[*n].dep = lfr_store_stmt_int64(q, 0);
        (*out)[*n].a = lfr_store_stmt_int64(q, 1);
        (*out)[*n].b = lfr_store_stmt_int64(q, 2);
        (*n)++;
    }
    lfr_store_stmt_finalize(q);
    if (st != LFR_OK) {
        lfr_free(*out);
        *out = NULL;
        *n = 0;
    }
    return st;
}

/* Data kept for a period after it was made (alerts, photo checks): the
 * rows, their sealed images and the receipt's wording, one row each. */
typedef struct aged_rule {
    const char *table, *image_col, *data_class, *rule;
} aged_rule;

static const aged_rule aged_rules[] = {
    {"alerts", "face_image", "alerts", "alert_retention"},
    {"photo_checks", "image", "photo_checks", "photo_check_retention"},
};

/* Deletes the rows of `ar` made at or before now - period, per deployment,
 * each deletion with its receipt; adds to the report counters. */
static lfr_status purge_aged(lfr_store *s, const aged_rule *ar, int64_t period, int64_t now,
                             int64_t *rows, int64_t *images, int64_t *receipts, lfr_err *err) {
    char sel[256], del[160];
    snprintf(sel, sizeof sel,
             "SELECT deployment_id, count(*), count(%s) FROM %s WHERE at <= ? "
             "GROUP BY deployment_id ORDER BY deployment_id", ar->image_col, ar->table);
    snprintf(del, sizeof del, "DELETE FROM %s WHERE deployment_id = ? AND at <= ?", ar->table);
    due *d;
    size_t n;
    lfr_status st = collect(s, sel, now - period, &d, &n, err);
    for (size_t i = 0; st == LFR_OK && i < n; i++) {
        st = dp_exec_n(s, del, 2, d[i].dep, now - period, err);
        if (st == LFR_OK)
            st = dp_audit(s, &retention_actor, LFR_AUDIT_RETENTION_DELETE, d[i].dep,
                       json_pack("{s:s, s:I, s:I, s:s, s:I, s:I}", "data_class", ar->data_class,
                                 "count", (json_int_t)d[i].a, "image_count", (json_int_t)d[i].b,
                                 "rule", ar->rule, "rule_seconds", (json_int_t)period,
                                 "deleted_at", (json_int_t)now),
                       err);
        if (st == LFR_OK) {
            *rows += d[i].a;
            *images += d[i].b;
            (*receipts)++;
        }
    }
    lfr_free(d);
    return st;
}

static lfr_status purge_in_tx(lfr_store *s, int64_t now, const lfr_retention_rules *r,
                              lfr_purge_report *rep, lfr_err *err) {
    due *d = NULL;
    size_t n = 0;
    /* 1. watchlists of deployments ended longer ago than the window */
    lfr_status st = collect(s,
                            "SELECT id, ended_at, 0 FROM deployments WHERE state = 'ended' AND "
                            "watchlist_deleted_at IS NULL AND ended_at <= ? ORDER BY id",
                            now - r->watchlist_after_end_s, &d, &n, err);
    for (size_t i = 0; st == LFR_OK && i < n; i++) {
        int64_t entries = 0, images = 0;
        st = lfr_store_query_int64(s, "SELECT count(*) FROM watchlist_entries WHERE deployment_id = ?",
                                   1, d[i].dep, 0, &entries, err);
        if (st == LFR_OK)
            st = lfr_store_query_int64(s, "SELECT count(*) FROM entry_images WHERE entry_id IN "
                                          "(SELECT id FROM watchlist_entries WHERE deployment_id = ?)",
                                       1, d[i].dep, 0, &images, err);
        if (st == LFR_OK)
            st = dp_exec_n(s, "DELETE FROM entry_images WHERE entry_id IN (SELECT id FROM "
                          "watchlist_entries WHERE deployment_id = ?)", 1, d[i].dep, 0, err);
        if (st == LFR_OK)
            st = dp_exec_n(s, "DELETE FROM watchlist_entries WHERE deployment_id = ?", 1, d[i].dep, 0, err);
        if (st == LFR_OK)
            st = dp_exec_n(s, "UPDATE deployments SET watchlist_deleted_at = ? WHERE id = ?", 2, now, d[i].dep, err);
        if (st == LFR_OK)
            st = dp_audit(s, &retention_actor, LFR_AUDIT_RETENTION_DELETE, d[i].dep,
                       json_pack("{s:s, s:I, s:I, s:s, s:I, s:I, s:I}", "data_class", "watchlist",
                                 "count", (json_int_t)entries, "image_count", (json_int_t)images, "rule",
                                 "watchlist_after_end", "rule_seconds",
                                 (json_int_t)r->watchlist_after_end_s, "ended_at",
                                 (json_int_t)d[i].a, "deleted_at", (json_int_t)now),
                       err);
        if (st == LFR_OK) {
            rep->watchlists++;
            rep->entries += entries;
            rep->images += images;
            rep->receipts++;
        }
    }
    lfr_free(d);
    if (st != LFR_OK) return st;

    /* 2, 3. alerts and photo checks older than their retention period,
     * per deployment (one row of aged_rules each). */
    const int64_t periods[] = {r->alerts_s, r->photo_checks_s};
    int64_t *counts[][2] = {{&rep->alerts, &rep->alert_images},
                            {&rep->photo_checks, &rep->photo_check_images}};
    for (size_t k = 0; k < sizeof aged_rules / sizeof aged_rules[0]; k++) {
        st = purge_aged(s, &aged_rules[k], periods[k], now, counts[k][0], counts[k][1],
                        &rep->receipts, err);
        if (st != LFR_OK) return st;
    }

    /* 4. ended deployments with nothing left move to purged */
    st = collect(s,
                 "SELECT id, 0, 0 FROM deployments d WHERE state = 'ended' AND "
                 "watchlist_deleted_at IS NOT NULL AND "
                 "NOT EXISTS (SELECT 1 FROM alerts a WHERE a.deployment_id = d.id) AND "
                 "NOT EXISTS (SELECT 1 FROM photo_checks c WHERE c.deployment_id = d.id) AND "
                 "NOT EXISTS (SELECT 1 FROM watchlist_entries e WHERE e.deployment_id = d.id) "
                 "AND ? IS NOT NULL ORDER BY id",
                 0, &d, &n, err);
    for (size_t i = 0; st == LFR_OK && i < n; i++) {
        st = dp_exec_n(s, "UPDATE deployments SET state = 'purged', purged_at = ? WHERE id = ?", 2, now,
                   d[i].dep, err);
        if (st == LFR_OK) st = dp_event(s, d[i].dep, &retention_actor, "purge", err);
        if (st == LFR_OK)
            st = dp_audit(s, &retention_actor, LFR_AUDIT_DEPLOYMENT_PURGE, d[i].dep,
                       json_pack("{s:I}", "purged_at", (json_int_t)now), err);
        if (st == LFR_OK) rep->deployments_purged++;
    }
    lfr_free(d);
    return st;
}

lfr_status lfr_deploy_purge(lfr_store *s, int64_t now, const lfr_retention_rules *rules,
                            lfr_purge_report *report, lfr_err *err) {
    lfr_retention_rules def;
    if (!rules) {
        lfr_retention_rules_default(&def);
        rules = &def;
    }
    memset(report, 0, sizeof *report);
    if (rules->watchlist_after_end_s < 0 || rules->alerts_s < 0 || rules->photo_checks_s < 0)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "retention periods must not be negative");
    lfr_status st = lfr_store_tx_begin(s);
    if (st != LFR_OK) return st;
    st = dp_finish(s, purge_in_tx(s, now, rules, report, err));
    if (st != LFR_OK) {
        memset(report, 0, sizeof *report);
        return st;
    }
    if (lfr_store_tx_depth(s) == 0) st = lfr_store_compact(s, err);
    return st;
}

