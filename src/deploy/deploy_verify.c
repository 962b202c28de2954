/*
 * deploy_verify.c - the deployments table checked against the audit log
 * (deploy.h, "Rows against the log").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy_int.h"

/* The lifecycle facts a deployment row holds, each with the audit action
 * that records it: one table, walked for every row. */
typedef struct row_fact {
    lfr_audit_action action;
    const char *field;              /* the column, for messages */
    size_t at_off;                  /* offsetof the time in lfr_deploy_info; 0: none */
    size_t by_off;                  /* offsetof the actor; 0: none */
} row_fact;

#define OFF(f) offsetof(lfr_deploy_info, f)
static const row_fact facts[] = {
    {LFR_AUDIT_DEPLOYMENT_CREATE, "created_by/created_at", OFF(created_at), OFF(created_by)},
    {LFR_AUDIT_DEPLOYMENT_AUTHORISE, "authorised_by/authorised_at", OFF(authorised_at),
     OFF(authorised_by)},
    {LFR_AUDIT_DEPLOYMENT_START, "started_at", OFF(started_at), 0},
    {LFR_AUDIT_DEPLOYMENT_END, "ended_by/ended_at", OFF(ended_at), OFF(ended_by)},
    {LFR_AUDIT_DEPLOYMENT_PURGE, "purged_at", OFF(purged_at), 0},
};
#undef OFF
enum { N_FACTS = sizeof facts / sizeof facts[0] };

typedef struct seen {
    int64_t seq[N_FACTS], at[N_FACTS];
    char actor[N_FACTS][LFR_MAX_ACTOR];
} seen;

static int collect(const lfr_audit_record *r, void *ctx) {
    seen *sn = ctx;
    for (int i = 0; i < N_FACTS; i++)
        if (strcmp(r->action, lfr_audit_action_name(facts[i].action)) == 0) {
            sn->seq[i] = r->seq;   /* records come oldest first: keep the newest */
            sn->at[i] = r->at;
            snprintf(sn->actor[i], sizeof sn->actor[i], "%s", r->actor);
        }
    return 0;
}

static lfr_status contradict(lfr_audit_report *rep, int64_t seq, lfr_err *err, const char *fmt,
                             ...) __attribute__((format(printf, 4, 5)));
static lfr_status contradict(lfr_audit_report *rep, int64_t seq, lfr_err *err, const char *fmt,
                             ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->reason, sizeof rep->reason, fmt, ap);
    va_end(ap);
    rep->ok = 0;
    rep->bad_seq = seq;
    return lfr_err_set(err, LFR_ERR_INTEGRITY, "%s", rep->reason);
}

lfr_status lfr_deploy_verify_rows(lfr_store *s, lfr_audit_report *rep, lfr_err *err) {
    memset(rep, 0, sizeof *rep);
    lfr_deploy_info *d = NULL;
    size_t n = 0;
    lfr_status st = lfr_deploy_list(s, &d, &n, err);
    if (st != LFR_OK) return st;
    for (size_t k = 0; k < n && st == LFR_OK; k++) {
        seen sn;
        memset(&sn, 0, sizeof sn);
        st = lfr_audit_each(s, d[k].id, 1, 0, collect, &sn, err);
        if (st != LFR_OK) break;
        const char *row = (const char *)&d[k];
        for (int i = 0; i < N_FACTS && st == LFR_OK; i++) {
            int64_t at = *(const int64_t *)(row + facts[i].at_off);
            const char *by = facts[i].by_off ? row + facts[i].by_off : NULL;
            const char *act = lfr_audit_action_name(facts[i].action);
            if (!sn.seq[i] && at)
                st = contradict(rep, 0, err,
                                "deployment %lld: its row has %s %lld, but the log has no %s "
                                "record for it: the row was edited",
                                (long long)d[k].id, facts[i].field, (long long)at, act);
            else if (sn.seq[i] && !at)
                st = contradict(rep, sn.seq[i], err,
                                "deployment %lld: record %lld (%s by %s) is not reflected in "
                                "its row (%s empty): the row was edited",
                                (long long)d[k].id, (long long)sn.seq[i], act, sn.actor[i],
                                facts[i].field);
            else if (sn.seq[i] && llabs(at - sn.at[i]) > LFR_AUDIT_ROW_CLOCK_SLACK_S)
                st = contradict(rep, sn.seq[i], err,
                                "deployment %lld: its row says %s at %lld, record %lld (%s) "
                                "says %lld: the row was edited",
                                (long long)d[k].id, facts[i].field, (long long)at,
                                (long long)sn.seq[i], act, (long long)sn.at[i]);
            else if (sn.seq[i] && by && strcmp(by, sn.actor[i]) != 0)
                st = contradict(rep, sn.seq[i], err,
                                "deployment %lld: its row says %s \"%s\", record %lld (%s) "
                                "says \"%s\": the row was edited",
                                (long long)d[k].id, facts[i].field, by, (long long)sn.seq[i],
                                act, sn.actor[i]);
        }
        if (st == LFR_OK) rep->records++;
    }
    lfr_free(d);
    if (st == LFR_OK) rep->ok = 1;
    return st;
}
