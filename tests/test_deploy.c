/*
 * test_deploy.c - the deployment lifecycle and its rules (each forbidden
 * move fails with its sentence), locks and amendments, watchlist checks,
 * retention on a fake clock, crash safety under kill -9.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/core.h"
#include "deploy/deploy.h"
#include "harness.h"
#include "face/face.h"
#include "match/match.h"
#include "store/store.h"

static int64_t fake_now = 1750000000;
static int64_t fake_clock(void *ctx) { (void)ctx; return fake_now; }
static char dir[256], dbp[300];

static void tmp_begin(void) {
    snprintf(dir, sizeof dir, "/tmp/lfr_deploy_XXXXXX");
    if (!mkdtemp(dir)) perror("mkdtemp");
    snprintf(dbp, sizeof dbp, "%s/openlfr.db", dir);
}

static void tmp_end(void) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
}

static lfr_store *open_store(void) {
    lfr_store_config cfg = {.db_path = dbp, .now = fake_clock};
    lfr_store *s = NULL;
    lfr_err err = {{0}};
    lfr_status st = lfr_store_open(&cfg, &s, &err);
    if (st != LFR_OK) fprintf(stderr, "  open: %s: %s\n", lfr_status_str(st), err.msg);
    return s;
}

static int64_t count(lfr_store *s, const char *sql) {
    int64_t v = -1;
    lfr_store_query_int64(s, sql, 0, 0, -1, &v, NULL);
    return v;
}

static const lfr_actor ALICE = {"PC 101 Alice", LFR_ROLE_OPERATOR};
static const lfr_actor BOB = {"Supt Bob", LFR_ROLE_AUTHORISER};
static const lfr_actor CAROL = {"Insp Carol", LFR_ROLE_AUTHORISER};
static const lfr_actor CAM = {"camera:north", LFR_ROLE_SYSTEM};

static uint8_t IMG[200];
static float TMPL[192];

static int64_t create(lfr_store *s) {
    lfr_deploy_params p = {"Match day", "Stadium north gate", "locate wanted offenders",
                           "common law + PACE", fake_now - 60, fake_now + 8 * 3600, 0.6f,
                           "north,south", 0};
    int64_t id = 0;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_deploy_create(s, &p, &ALICE, &id, &err), LFR_OK);
    return id;
}

static int64_t add(lfr_store *s, int64_t dep, const char *ref, lfr_status want) {
    lfr_watchlist_entry e = {ref, "Subject", LFR_WATCHLIST_WANTED_FOR_OFFENCE, NULL, "burglary",
                             "custody image", "2024-03-04", 0, NULL};
    int64_t id = 0;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_deploy_entry_add(s, dep, &e, IMG, sizeof IMG, TMPL, 192, &ALICE, &id, &err), want);
    return id;
}

/* Expects `st` to be LFR_ERR_STATE with `phrase` in the message. */
#define CHECK_REFUSED(expr, phrase)                                             \
    do {                                                                        \
        memset(&err, 0, sizeof err);                                            \
        CHECK_STATUS((expr), LFR_ERR_STATE);                                    \
        if (!strstr(err.msg, phrase)) fprintf(stderr, "  message: %s\n", err.msg); \
        CHECK(strstr(err.msg, phrase) != NULL);                                 \
    } while (0)

static void test_lifecycle(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t d = create(s);
    /* draft */
    CHECK_REFUSED(lfr_deploy_start(s, d, &BOB, &err), "not authorised");
    CHECK_REFUSED(lfr_deploy_require_live(s, d, &err), "only while a deployment is live");
    CHECK_REFUSED(lfr_deploy_authorise(s, d, &BOB, &err), "no watchlist entries");
    int64_t e1 = add(s, d, "REF-1", LFR_OK);
    add(s, d, "REF-2", LFR_OK);
    CHECK_REFUSED(lfr_deploy_authorise(s, d, &ALICE, &err), "must be someone else");
    CHECK_STATUS(lfr_deploy_set_threshold(s, d, 0.62f, 0, &ALICE, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_set_threshold(s, d, 1.5f, 0, &ALICE, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_authorise(s, d, &BOB, &err), LFR_OK);
    /* authorised: locked */
    CHECK_REFUSED(lfr_deploy_authorise(s, d, &CAROL, &err), "only a draft");
    CHECK_REFUSED(lfr_deploy_set_threshold(s, d, 0.58f, 0, &ALICE, &err), "threshold is locked");
    lfr_watchlist_entry e = {"REF-3", "X", LFR_WATCHLIST_MISSING, NULL, "r", "s", "2024", 0, NULL};
    CHECK_REFUSED(lfr_deploy_entry_add(s, d, &e, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, &err),
                  "watchlist is locked");
    CHECK_REFUSED(lfr_deploy_entry_image_add(s, e1, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, &err),
                  "watchlist is locked");
    CHECK_REFUSED(lfr_deploy_entry_remove(s, e1, &ALICE, "changed mind", &err), "watchlist is locked");
    lfr_deploy_templates t;
    CHECK_REFUSED(lfr_deploy_templates_load(s, d, &t, &err), "is authorised");
    lfr_photo_check pc = {"suspected", 0, 0, 0, NULL, 0, 0, 0};
    CHECK_REFUSED(lfr_deploy_photo_check_record(s, d, &pc, &ALICE, NULL, &err), "only while");
    lfr_deploy_info info;
    CHECK_STATUS(lfr_deploy_get(s, d, &info, &err), LFR_OK);
    CHECK_EQ_INT(info.state, LFR_DEPLOY_AUTHORISED);
    CHECK(strcmp(info.authorised_by, "Supt Bob") == 0);
    CHECK_EQ_INT(info.entries_authorised, 2);
    CHECK_EQ_INT(strlen(info.watchlist_digest), 64);
    CHECK_NEAR(info.threshold, 0.62, 1e-6);
    /* live */
    CHECK_STATUS(lfr_deploy_start(s, d, &BOB, &err), LFR_OK);
    CHECK_REFUSED(lfr_deploy_start(s, d, &BOB, &err), "already live");
    CHECK_STATUS(lfr_deploy_require_live(s, d, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_templates_load(s, d, &t, &err), LFR_OK);
    CHECK_EQ_INT(t.n, 2);
    CHECK_EQ_INT(t.dim, 192);
    CHECK_NEAR(t.threshold, 0.62, 1e-6);
    CHECK(t.data && memcmp(t.data + 192, TMPL, sizeof TMPL) == 0);
    CHECK_EQ_INT(t.entry_ids[0], e1);
    lfr_deploy_templates_free(&t);
    /* photo checks: no image kept unless matched */
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &pc, &ALICE, NULL, &err), LFR_OK);
    lfr_photo_check pm = {"matches description", 1, e1, 0.71f, IMG, sizeof IMG, 0, 0};
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &pm, &ALICE, NULL, &err), LFR_OK);
    pc.image = IMG;
    pc.image_len = sizeof IMG;
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &pc, &ALICE, NULL, &err), LFR_OK);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM photo_checks"), 3);
    CHECK_EQ_INT(count(s, "SELECT count(image) FROM photo_checks"), 1);
    lfr_photo_check noreason = {"", 0, 0, 0, NULL, 0, 0, 0};
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &noreason, &ALICE, NULL, &err), LFR_ERR_INVALID_ARG);
    /* alerts: at or above the threshold only */
    lfr_alert low = {"north", e1, 0.55f, IMG, sizeof IMG, 0, NULL, 0, 0}, hi = {"north", e1, 0.8f, IMG, sizeof IMG, 0, NULL, 0, 0};
    int64_t al;
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &low, &CAM, &al, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &hi, &CAM, &al, &err), LFR_OK);
    /* a better shot of the same track replaces score and crop; a worse one
     * is refused; after the decision nothing changes */
    CHECK_STATUS(lfr_deploy_alert_update(s, al, 0.85f, IMG, sizeof IMG, NULL, 0, 0, &CAM, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_update(s, al, 0.82f, IMG, sizeof IMG, NULL, 0, 0, &CAM, &err), LFR_ERR_INVALID_ARG);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM alerts WHERE score > 0.84"), 1);
    CHECK_STATUS(lfr_deploy_alert_decide(s, al, 1, "stopped, arrested", &ALICE, &err), LFR_OK);
    CHECK_REFUSED(lfr_deploy_alert_update(s, al, 0.9f, NULL, 0, NULL, 0, 0, &CAM, &err), "decided");
    CHECK_REFUSED(lfr_deploy_alert_decide(s, al, 0, NULL, &ALICE, &err), "already been decided");
    /* ended */
    CHECK_STATUS(lfr_deploy_end(s, d, &BOB, "operation complete", &err), LFR_OK);
    CHECK_REFUSED(lfr_deploy_end(s, d, &BOB, NULL, &err), "already ended");
    CHECK_REFUSED(lfr_deploy_start(s, d, &BOB, &err), "cannot go live again");
    CHECK_REFUSED(lfr_deploy_require_live(s, d, &err), "is ended");
    CHECK_REFUSED(lfr_deploy_templates_load(s, d, &t, &err), "is ended");
    CHECK_REFUSED(lfr_deploy_alert_record(s, d, &hi, &CAM, &al, &err), "is ended");
    CHECK_REFUSED(lfr_deploy_photo_check_record(s, d, &pm, &ALICE, NULL, &err), "is ended");
    CHECK_REFUSED(lfr_deploy_authorise(s, d, &CAROL, &err), "only a draft");
    lfr_deploy_amendment am = {"raise", 1, 0.7f, 0, 0};
    int64_t amid;
    CHECK_REFUSED(lfr_deploy_amend_propose(s, d, &am, &ALICE, &amid, &err), "can no longer be amended");
    /* every transition is in the audit log, in order */
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action IN ('deployment.create',"
                          "'deployment.authorise','deployment.start','deployment.end')"), 4);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM deployment_events"), 4);
    lfr_audit_report rep;
    CHECK_STATUS(lfr_audit_verify(s, &rep, &err), LFR_OK);
    /* cancelling a draft is allowed; nothing after */
    int64_t d2 = create(s);
    CHECK_STATUS(lfr_deploy_end(s, d2, &ALICE, "cancelled", &err), LFR_OK);
    CHECK_REFUSED(lfr_deploy_authorise(s, d2, &BOB, &err), "only a draft");
    CHECK_STATUS(lfr_deploy_require_live(s, 9999, &err), LFR_ERR_NOT_FOUND);
    lfr_store_close(s);
    tmp_end();
}

static void test_start_outside_window(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t d = create(s);
    add(s, d, "R", LFR_OK);
    CHECK_STATUS(lfr_deploy_authorise(s, d, &BOB, &err), LFR_OK);
    int64_t saved = fake_now;
    fake_now += 9 * 3600;
    CHECK_REFUSED(lfr_deploy_start(s, d, &BOB, &err), "outside its authorised window");
    fake_now = saved;
    lfr_store_close(s);
    tmp_end();
}

static void test_amendment(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t d = create(s);
    add(s, d, "R1", LFR_OK);
    int64_t e2 = add(s, d, "R2", LFR_OK);
    lfr_deploy_amendment am = {"fewer false alerts", 1, 0.7f, 0, 0};
    int64_t amid;
    CHECK_REFUSED(lfr_deploy_amend_propose(s, d, &am, &ALICE, &amid, &err), "is a draft");
    CHECK_STATUS(lfr_deploy_authorise(s, d, &BOB, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_start(s, d, &BOB, &err), LFR_OK);
    lfr_deploy_amendment empty = {"nothing", 0, 0, 0, 0};
    CHECK_STATUS(lfr_deploy_amend_propose(s, d, &empty, &ALICE, &amid, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_amend_propose(s, d, &am, &ALICE, &amid, &err), LFR_OK);
    lfr_deploy_info info;
    lfr_deploy_get(s, d, &info, &err);
    CHECK_NEAR(info.threshold, 0.6, 1e-6); /* not applied until authorised */
    CHECK_REFUSED(lfr_deploy_amend_authorise(s, amid, &ALICE, &err), "cannot also authorise");
    CHECK_STATUS(lfr_deploy_amend_authorise(s, amid, &CAROL, &err), LFR_OK);
    lfr_deploy_get(s, d, &info, &err);
    CHECK_NEAR(info.threshold, 0.7, 1e-6);
    CHECK_REFUSED(lfr_deploy_amend_authorise(s, amid, &BOB, &err), "not awaiting");
    /* removing an entry from a live watchlist */
    lfr_deploy_amendment rm = {"arrested this morning", 0, 0, e2, 0};
    CHECK_STATUS(lfr_deploy_amend_propose(s, d, &rm, &ALICE, &amid, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_amend_authorise(s, amid, &BOB, &err), LFR_OK);
    lfr_deploy_templates t;
    CHECK_STATUS(lfr_deploy_templates_load(s, d, &t, &err), LFR_OK);
    CHECK_EQ_INT(t.n, 1);
    lfr_deploy_templates_free(&t);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'deployment.amend.propose'"), 2);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'deployment.amend'"), 2);
    lfr_audit_report rep;
    CHECK_STATUS(lfr_audit_verify(s, &rep, &err), LFR_OK);
    lfr_store_close(s);
    tmp_end();
}

static void test_entry_rules(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err = {{0}};
    int64_t d = create(s);
    lfr_watchlist_entry child = {"R", "C", LFR_WATCHLIST_VULNERABLE, NULL, "at risk", "family",
                                 "2024", 1, NULL};
    CHECK_STATUS(lfr_deploy_entry_add(s, d, &child, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "under 18") != NULL);
    child.under_18_justification = "missing child, parents' request";
    CHECK_STATUS(lfr_deploy_entry_add(s, d, &child, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, &err), LFR_OK);
    lfr_watchlist_entry other = {"R2", "O", LFR_WATCHLIST_OTHER, NULL, "r", "s", "2024", 0, NULL};
    CHECK_STATUS(lfr_deploy_entry_add(s, d, &other, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, &err),
                 LFR_ERR_INVALID_ARG);
    other.category_other = "witness";
    int64_t eo;
    CHECK_STATUS(lfr_deploy_entry_add(s, d, &other, IMG, sizeof IMG, TMPL, 192, &ALICE, &eo, &err), LFR_OK);
    lfr_watchlist_entry noreason = {"R3", "N", LFR_WATCHLIST_MISSING, NULL, "", "s", "2024", 0, NULL};
    CHECK_STATUS(lfr_deploy_entry_add(s, d, &noreason, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, &err),
                 LFR_ERR_INVALID_ARG);
    float nan_t[4] = {0, 0, NAN, 0};
    CHECK_STATUS(lfr_deploy_entry_add(s, d, &other, IMG, sizeof IMG, nan_t, 4, &ALICE, NULL, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_entry_add(s, d, &other, IMG, sizeof IMG, TMPL, LFR_MAX_TEMPLATE_DIM + 1,
                                      &ALICE, NULL, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_entry_add(s, d, &other, IMG, LFR_MAX_IMAGE_BYTES + 1u, TMPL, 192, &ALICE,
                                      NULL, &err), LFR_ERR_TOO_LARGE);
    /* images per entry */
    for (int i = 1; i < LFR_MAX_ENTRY_IMAGES; i++)
        CHECK_STATUS(lfr_deploy_entry_image_add(s, eo, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_entry_image_add(s, eo, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, &err),
                 LFR_ERR_TOO_LARGE);
    /* cap per installation */
    CHECK_STATUS(lfr_deploy_watchlist_cap_set(s, LFR_MAX_WATCHLIST_ENTRIES + 1, &ALICE, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_watchlist_cap_set(s, 3, &ALICE, &err), LFR_OK);
    add(s, d, "R4", LFR_OK);
    add(s, d, "R5", LFR_ERR_TOO_LARGE);
    /* listing and removal in draft */
    lfr_watchlist_entry_info *list;
    size_t n;
    CHECK_STATUS(lfr_deploy_entry_list(s, d, &list, &n, &err), LFR_OK);
    CHECK_EQ_INT(n, 3);
    if (n == 3) {
        CHECK_EQ_INT(list[0].under_18, 1);
        CHECK(strcmp(list[1].category_other, "witness") == 0);
        CHECK_EQ_INT(list[1].images, LFR_MAX_ENTRY_IMAGES);
        CHECK(strcmp(list[0].added_by, ALICE.name) == 0);
    }
    lfr_free(list);
    CHECK_STATUS(lfr_deploy_entry_remove(s, eo, &ALICE, "", &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_entry_remove(s, eo, &ALICE, "duplicate", &err), LFR_OK);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM entry_images"), 2);
    CHECK_STATUS(lfr_deploy_entry_remove(s, eo, &ALICE, "duplicate", &err), LFR_ERR_NOT_FOUND);
    /* no biometric data reached the audit log */
    CHECK_EQ_INT(count(s, "SELECT max(length(details)) < 1024 FROM audit_log"), 1);
    lfr_store_close(s);
    tmp_end();
}

static const void *find(const void *hay, size_t n, const void *needle, size_t m) {
    const uint8_t *h = hay;
    for (size_t i = 0; m && i + m <= n; i++)
        if (memcmp(h + i, needle, m) == 0) return h + i;
    return NULL;
}

static int on_disk(const void *needle, size_t m) {
    char wal[330];
    snprintf(wal, sizeof wal, "%s-wal", dbp);
    const char *files[2] = {dbp, wal};
    int found = 0;
    for (int f = 0; f < 2; f++) {
        uint8_t *buf;
        size_t len;
        if (lfr_read_file(files[f], 1u << 30, &buf, &len) != LFR_OK) continue;
        if (find(buf, len, needle, m)) found = 1;
        lfr_free(buf);
    }
    return found;
}

static void test_retention(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err = {{0}};
    int64_t d = create(s);
    int64_t e1 = add(s, d, "R1", LFR_OK);
    add(s, d, "R2", LFR_OK);
    CHECK_STATUS(lfr_deploy_authorise(s, d, &BOB, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_start(s, d, &BOB, &err), LFR_OK);
    lfr_alert a = {"north", e1, 0.9f, IMG, sizeof IMG, 0, NULL, 0, 0};
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &a, &CAM, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &a, &CAM, NULL, &err), LFR_OK);
    lfr_photo_check pm = {"seen", 1, e1, 0.8f, IMG, sizeof IMG, 0, 0}, pn = {"seen", 0, 0, 0, NULL, 0, 0, 0};
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &pm, &ALICE, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &pn, &ALICE, NULL, &err), LFR_OK);
    /* a sealed blob's bytes, to look for on disk after deletion */
    uint8_t probe[32];
    lfr_store_stmt *q;
    int row = 0;
    size_t bn = 0;
    lfr_store_stmt_prepare(s, "SELECT image FROM entry_images LIMIT 1", &q, NULL);
    lfr_store_stmt_step(q, &row, NULL);
    memcpy(probe, (const uint8_t *)lfr_store_stmt_blob(q, 0, &bn) + 40, sizeof probe);
    lfr_store_stmt_finalize(q);
    lfr_store_close(s);
    s = open_store(); /* checkpoints on close: the blob is in the .db file */
    CHECK(on_disk(probe, sizeof probe));

    int64_t t_end = fake_now;
    CHECK_STATUS(lfr_deploy_end(s, d, &BOB, NULL, &err), LFR_OK);
    lfr_retention_rules r;
    lfr_retention_rules_default(&r);
    lfr_purge_report rep;
    /* 23 h after the end: nothing is due */
    CHECK_STATUS(lfr_deploy_purge(s, t_end + 23 * 3600, &r, &rep, &err), LFR_OK);
    CHECK_EQ_INT(rep.entries + rep.alerts + rep.photo_checks, 0);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM watchlist_entries"), 2);
    /* 25 h: the watchlist is gone, alerts and checks stay */
    fake_now = t_end + 25 * 3600;
    CHECK_STATUS(lfr_deploy_purge(s, fake_now, &r, &rep, &err), LFR_OK);
    CHECK_EQ_INT(rep.watchlists, 1);
    CHECK_EQ_INT(rep.entries, 2);
    CHECK_EQ_INT(rep.images, 2);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM watchlist_entries"), 0);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM entry_images"), 0);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM alerts"), 2);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM alerts WHERE entry_id IS NULL AND subject_ref = 'R1'"), 2);
    CHECK(!on_disk(probe, sizeof probe));
    lfr_deploy_info info;
    lfr_deploy_get(s, d, &info, &err);
    CHECK_EQ_INT(info.state, LFR_DEPLOY_ENDED);
    /* 32 days: alerts and checks gone, deployment purged */
    fake_now = t_end + 32 * 24 * 3600;
    CHECK_STATUS(lfr_deploy_purge(s, fake_now, &r, &rep, &err), LFR_OK);
    CHECK_EQ_INT(rep.alerts, 2);
    CHECK_EQ_INT(rep.alert_images, 2);
    CHECK_EQ_INT(rep.photo_checks, 2);
    CHECK_EQ_INT(rep.photo_check_images, 1);
    CHECK_EQ_INT(rep.deployments_purged, 1);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM alerts"), 0);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM photo_checks"), 0);
    lfr_deploy_get(s, d, &info, &err);
    CHECK_EQ_INT(info.state, LFR_DEPLOY_PURGED);
    CHECK(strcmp(info.name, "Match day") == 0); /* the transparency record remains */
    /* receipts */
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'retention.delete'"), 3);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'retention.delete' AND "
                          "json_extract(details, '$.data_class') = 'watchlist' AND "
                          "json_extract(details, '$.count') = 2 AND "
                          "json_extract(details, '$.rule') = 'watchlist_after_end'"), 1);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'deployment.purge'"), 1);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE actor = 'openlfr-retention' AND "
                          "role = 'system'"), 4);
    /* purged is terminal */
    CHECK_REFUSED(lfr_deploy_start(s, d, &BOB, &err), "purged");
    CHECK_REFUSED(lfr_deploy_end(s, d, &BOB, NULL, &err), "purged");
    CHECK_REFUSED(lfr_deploy_set_threshold(s, d, 0.58f, 0, &ALICE, &err), "purged");
    lfr_audit_report ar;
    CHECK_STATUS(lfr_audit_verify(s, &ar, &err), LFR_OK);
    CHECK_STATUS(lfr_store_integrity_check(s, &err), LFR_OK);
    /* running again deletes nothing and writes no receipt */
    int64_t before = count(s, "SELECT count(*) FROM audit_log");
    CHECK_STATUS(lfr_deploy_purge(s, fake_now + 1000, &r, &rep, &err), LFR_OK);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log"), before);
    lfr_store_close(s);
    tmp_end();
    fake_now = 1750000000;
}

/* kill -9 a child in the middle of bulk adds (single and multi-entry
 * transactions): the database opens, is intact, the chain verifies, and
 * every entry has its audit record (no more, no less). */
static void test_crash_safety(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    int64_t d = create(s);
    lfr_store_close(s);
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        lfr_store *c = open_store();
        if (!c) _exit(3);
        char ref[32];
        for (int i = 0;; i++) {
            int bulk = (i % 2) == 1;
            if (bulk && lfr_store_tx_begin(c) != LFR_OK) _exit(4);
            for (int k = 0; k < (bulk ? 25 : 1); k++) {
                snprintf(ref, sizeof ref, "C-%d-%d", i, k);
                lfr_watchlist_entry e = {ref, "S", LFR_WATCHLIST_MISSING, NULL, "r", "s", "2024", 0, NULL};
                if (lfr_deploy_entry_add(c, d, &e, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, NULL) != LFR_OK)
                    _exit(5);
            }
            if (bulk && lfr_store_tx_commit(c) != LFR_OK) _exit(6);
            if (i == 4) {
                if (write(pfd[1], "x", 1) != 1) _exit(7);
            }
        }
    }
    close(pfd[1]);
    char ch;
    CHECK(read(pfd[0], &ch, 1) == 1); /* the child is well into its work */
    close(pfd[0]);
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_store_integrity_check(s, &err), LFR_OK);
    lfr_audit_report rep;
    CHECK_STATUS(lfr_audit_verify(s, &rep, &err), LFR_OK);
    int64_t entries = count(s, "SELECT count(*) FROM watchlist_entries");
    CHECK(entries >= 5);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'watchlist.add'"), entries);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM entry_images"), entries);
    /* bulk transactions are whole: the C-i-* groups have 1 or 25 */
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM (SELECT substr(subject_ref, 1, instr(substr(subject_ref, 3), '-') + 1) g, "
                          "count(*) n FROM watchlist_entries GROUP BY g) WHERE n NOT IN (1, 25)"), 0);
    fprintf(stderr, "  %lld entries survived the kill\n", (long long)entries);
    /* and work goes on */
    add(s, d, "AFTER", LFR_OK);
    lfr_store_close(s);
    tmp_end();
}

/* Expects `st` to be `want` with `phrase` in the message. */
#define CHECK_ERR(expr, want, phrase)                                           \
    do {                                                                        \
        memset(&err, 0, sizeof err);                                            \
        CHECK_STATUS((expr), (want));                                           \
        if (!strstr(err.msg, phrase)) fprintf(stderr, "  message: %s\n", err.msg); \
        CHECK(strstr(err.msg, phrase) != NULL);                                 \
    } while (0)

/* A live deployment with entries REF-1, REF-2 (ids in *e1, *e2). */
static int64_t live(lfr_store *s, int64_t *e1, int64_t *e2) {
    lfr_err err = {{0}};
    int64_t d = create(s);
    int64_t a = add(s, d, "REF-1", LFR_OK), b = add(s, d, "REF-2", LFR_OK);
    if (e1) *e1 = a;
    if (e2) *e2 = b;
    CHECK_STATUS(lfr_deploy_authorise(s, d, &BOB, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_start(s, d, &BOB, &err), LFR_OK);
    return d;
}

/* "pc 1" could authorise what "PC 1" created: every spelling of the same
 * name is the same person now, look-alike letters are refused. */
static void test_separation_folded(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    lfr_deploy_params p = {"Match day", "Gate", "locate wanted offenders", "PACE",
                           fake_now - 60, fake_now + 3600, 0.6f, "", 0};
    lfr_actor pc1 = {"PC 1", LFR_ROLE_OPERATOR};
    int64_t d = 0;
    CHECK_STATUS(lfr_deploy_create(s, &p, &pc1, &d, &err), LFR_OK);
    add(s, d, "REF-1", LFR_OK);
    const char *same[] = {"pc 1", "PC 1 ", "PC\xc2\xa0" "1", "PC\xe2\x80\x8b 1", "pc1", "P.C. 1",
                          "\xef\xbc\xb0\xef\xbc\xa3\xef\xbc\x91", "  Pc   1", "\xef\xbb\xbfPC 1"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        lfr_actor a = {same[i], LFR_ROLE_AUTHORISER};
        CHECK_REFUSED(lfr_deploy_authorise(s, d, &a, &err), "must be someone else");
    }
    /* Cyrillic look-alikes are not a different person: they are refused */
    lfr_actor cyr = {"\xd0\xa0\xd0\xa1 1", LFR_ROLE_AUTHORISER};
    CHECK_ERR(lfr_deploy_authorise(s, d, &cyr, &err), LFR_ERR_INVALID_ARG, "look like Latin");
    lfr_actor mixed = {"P\xd0\xa1 1", LFR_ROLE_AUTHORISER};
    CHECK_ERR(lfr_deploy_authorise(s, d, &mixed, &err), LFR_ERR_INVALID_ARG, "mixes");
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM deployments WHERE state = 'draft'"), 1);
    lfr_actor pc2 = {"PC 2", LFR_ROLE_AUTHORISER};
    CHECK_STATUS(lfr_deploy_authorise(s, d, &pc2, &err), LFR_OK);
    /* amendments: the second officer the same way */
    lfr_deploy_amendment am = {"fewer false alerts", 1, 0.7f, 0, 0};
    lfr_actor bob = {"Supt Bob", LFR_ROLE_AUTHORISER};
    int64_t amid = 0;
    CHECK_STATUS(lfr_deploy_amend_propose(s, d, &am, &bob, &amid, &err), LFR_OK);
    const char *bobs[] = {"supt bob", "SUPT\xc2\xa0" "BOB", "Supt  Bob ", "Supt\xe2\x80\x8c Bob",
                          "\xef\xbc\xb3upt Bob"};
    for (size_t i = 0; i < sizeof bobs / sizeof bobs[0]; i++) {
        lfr_actor a = {bobs[i], LFR_ROLE_AUTHORISER};
        CHECK_REFUSED(lfr_deploy_amend_authorise(s, amid, &a, &err), "cannot also authorise");
    }
    CHECK_STATUS(lfr_deploy_amend_authorise(s, amid, &CAROL, &err), LFR_OK);
    lfr_store_close(s);
    tmp_end();
}

/* The authorising officer checks a list someone else built: whoever added
 * an entry or a photo of the draft's watchlist (names folded as above)
 * cannot authorise it; another officer can. */
static void test_authoriser_did_not_build_list(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t d = create(s);
    int64_t e1 = add(s, d, "REF-1", LFR_OK);
    CHECK_STATUS(lfr_deploy_entry_image_add(s, e1, IMG, sizeof IMG, TMPL, 192, &BOB, NULL, &err),
                 LFR_OK);
    lfr_actor bob_typed = {"SUPT  bob ", LFR_ROLE_AUTHORISER};
    CHECK_REFUSED(lfr_deploy_authorise(s, d, &bob_typed, &err), "someone else built");
    CHECK(strstr(err.msg, "added 1 of deployment") != NULL);
    /* an entry of his own as well: both counted */
    lfr_watchlist_entry e = {"REF-2", "Other", LFR_WATCHLIST_MISSING, NULL, "missing",
                             "family photo", "2024-03-04", 0, NULL};
    CHECK_STATUS(lfr_deploy_entry_add(s, d, &e, IMG, sizeof IMG, TMPL, 192, &BOB, NULL, &err),
                 LFR_OK);
    CHECK_REFUSED(lfr_deploy_authorise(s, d, &BOB, &err), "added 2 of deployment");
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM deployments WHERE state = 'draft'"), 1);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'deployment.authorise'"),
                 0);
    /* an officer who built none of it authorises */
    CHECK_STATUS(lfr_deploy_authorise(s, d, &CAROL, &err), LFR_OK);
    lfr_store_close(s);
    tmp_end();
}

/* Control characters (ANSI escapes, BEL) and blank text are refused in
 * every free-text field. */
static void test_free_text_checked(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t d = 0;
    lfr_deploy_params p = {"Match \x1b[31mday", "Gate", "purpose", "PACE", fake_now - 60,
                           fake_now + 3600, 0.6f, "", 0};
    CHECK_ERR(lfr_deploy_create(s, &p, &ALICE, &d, &err), LFR_ERR_INVALID_ARG, "name contains");
    p.name = "Match day";
    p.purpose = "   ";
    CHECK_ERR(lfr_deploy_create(s, &p, &ALICE, &d, &err), LFR_ERR_INVALID_ARG, "purpose is blank");
    p.purpose = "locate";
    p.legal_basis = "PACE\x07";
    CHECK_ERR(lfr_deploy_create(s, &p, &ALICE, &d, &err), LFR_ERR_INVALID_ARG, "legal basis contains");
    p.legal_basis = "PACE";
    lfr_actor bell = {"PC 9\x07", LFR_ROLE_OPERATOR};
    CHECK_STATUS(lfr_deploy_create(s, &p, &bell, &d, &err), LFR_ERR_INVALID_ARG);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM deployments"), 0);
    d = create(s);
    lfr_watchlist_entry e = {"REF-9", "Sub\x1b]0;x\x07ject", LFR_WATCHLIST_MISSING, NULL, "r", "s",
                             "2024", 0, NULL};
    CHECK_ERR(lfr_deploy_entry_add(s, d, &e, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, &err),
              LFR_ERR_INVALID_ARG, "display name contains");
    e.display_name = "Subject";
    e.reason = " \xc2\xa0 ";
    CHECK_ERR(lfr_deploy_entry_add(s, d, &e, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, &err),
              LFR_ERR_INVALID_ARG, "reason for inclusion is blank");
    e.reason = "missing";
    e.category = LFR_WATCHLIST_OTHER;
    e.category_other = "\x1b[2J";
    CHECK_STATUS(lfr_deploy_entry_add(s, d, &e, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM watchlist_entries"), 0);
    int64_t e1 = add(s, d, "REF-1", LFR_OK);
    CHECK_ERR(lfr_deploy_entry_remove(s, e1, &ALICE, "    ", &err), LFR_ERR_INVALID_ARG, "blank");
    CHECK_STATUS(lfr_deploy_end(s, d, &BOB, "done\x1b[0m", &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_end(s, d, &BOB, "  ", &err), LFR_ERR_INVALID_ARG);
    lfr_store_close(s);
    tmp_end();

    tmp_begin();
    s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    int64_t x1 = 0;
    d = live(s, &x1, NULL);
    lfr_alert a = {"north", x1, 0.9f, IMG, sizeof IMG, 0, NULL, 0, 0};
    int64_t al = 0;
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &a, &CAM, &al, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_decide(s, al, 1, "ok\x07", &ALICE, &err), LFR_ERR_INVALID_ARG);
    lfr_photo_check pc = {"\t", 0, 0, 0, NULL, 0, 0, 0};
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &pc, &ALICE, NULL, &err), LFR_ERR_INVALID_ARG);
    lfr_deploy_amendment am = {"   ", 1, 0.7f, 0, 0};
    int64_t amid;
    CHECK_ERR(lfr_deploy_amend_propose(s, d, &am, &ALICE, &amid, &err), LFR_ERR_INVALID_ARG,
              "amendment reason is blank");
    lfr_store_close(s);
    tmp_end();
}

static void test_threshold_rules(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t d = 0;
    lfr_deploy_params p = {"Match day", "Gate", "purpose", "PACE", fake_now - 60, fake_now + 3600,
                           0, "", 1};
    const float impossible[] = {0.0f, -0.16f, 1.0f, 1.5f, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof impossible / sizeof impossible[0]; i++) {
        p.threshold = impossible[i];
        CHECK_ERR(lfr_deploy_create(s, &p, &ALICE, &d, &err), LFR_ERR_INVALID_ARG, "impossible");
    }
    p.unusual_threshold_ok = 0;
    const float unusual[] = {0.01f, 0.3f, 0.54f, 0.86f, 0.99f};
    for (size_t i = 0; i < sizeof unusual / sizeof unusual[0]; i++) {
        p.threshold = unusual[i];
        CHECK_ERR(lfr_deploy_create(s, &p, &ALICE, &d, &err), LFR_ERR_INVALID_ARG, "sane range");
    }
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM deployments"), 0);
    p.threshold = 0.3f;
    p.unusual_threshold_ok = 1;
    CHECK_STATUS(lfr_deploy_create(s, &p, &ALICE, &d, &err), LFR_OK);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'deployment.create' "
                          "AND details LIKE '%\"unusual_threshold_ok\":true%'"), 1);
    p.threshold = LFR_THRESHOLD_SANE_MIN;
    p.unusual_threshold_ok = 0;
    CHECK_STATUS(lfr_deploy_create(s, &p, &ALICE, &d, &err), LFR_OK);
    /* set_threshold: the same rules */
    CHECK_ERR(lfr_deploy_set_threshold(s, d, 0.0f, 1, &ALICE, &err), LFR_ERR_INVALID_ARG, "impossible");
    CHECK_ERR(lfr_deploy_set_threshold(s, d, 0.4f, 0, &ALICE, &err), LFR_ERR_INVALID_ARG, "sane range");
    CHECK_STATUS(lfr_deploy_set_threshold(s, d, 0.4f, 1, &ALICE, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_set_threshold(s, d, 0.7f, 0, &ALICE, &err), LFR_OK);
    add(s, d, "REF-1", LFR_OK);
    CHECK_STATUS(lfr_deploy_authorise(s, d, &BOB, &err), LFR_OK);
    /* amendments: the same rules, checked again at authorisation */
    lfr_deploy_amendment am = {"more alerts", 1, -0.2f, 0, 1};
    int64_t amid = 0;
    CHECK_ERR(lfr_deploy_amend_propose(s, d, &am, &ALICE, &amid, &err), LFR_ERR_INVALID_ARG, "impossible");
    am.threshold = 0.5f;
    am.unusual_threshold_ok = 0;
    CHECK_ERR(lfr_deploy_amend_propose(s, d, &am, &ALICE, &amid, &err), LFR_ERR_INVALID_ARG, "sane range");
    am.unusual_threshold_ok = 1;
    CHECK_STATUS(lfr_deploy_amend_propose(s, d, &am, &ALICE, &amid, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_amend_authorise(s, amid, &CAROL, &err), LFR_OK);
    lfr_deploy_info info;
    CHECK_STATUS(lfr_deploy_get(s, d, &info, &err), LFR_OK);
    CHECK_NEAR(info.threshold, 0.5, 1e-6);
    /* a threshold stored before these rules is not authorised */
    int64_t d2 = create(s);
    add(s, d2, "REF-1", LFR_OK);
    CHECK_STATUS(lfr_store_exec(s, "UPDATE deployments SET threshold = -0.2 WHERE state = 'draft'",
                                &err), LFR_OK);
    CHECK_REFUSED(lfr_deploy_authorise(s, d2, &BOB, &err), "would match different people");
    lfr_store_close(s);
    tmp_end();
}

static void test_planned_window(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t d = 0;
    lfr_deploy_params p = {"Match day", "Gate", "purpose", "PACE", fake_now - 7200,
                           fake_now - 3600, 0.6f, "", 0};
    CHECK_ERR(lfr_deploy_create(s, &p, &ALICE, &d, &err), LFR_ERR_INVALID_ARG, "already past");
    p.planned_end = fake_now;
    CHECK_ERR(lfr_deploy_create(s, &p, &ALICE, &d, &err), LFR_ERR_INVALID_ARG, "already past");
    p.planned_start = fake_now + 7200;
    p.planned_end = fake_now + 3600;
    CHECK_ERR(lfr_deploy_create(s, &p, &ALICE, &d, &err), LFR_ERR_INVALID_ARG, "must be after");
    p.planned_end = p.planned_start;
    CHECK_ERR(lfr_deploy_create(s, &p, &ALICE, &d, &err), LFR_ERR_INVALID_ARG, "must be after");
    p.planned_end = fake_now + 10800;
    CHECK_STATUS(lfr_deploy_create(s, &p, &ALICE, &d, &err), LFR_OK);
    lfr_store_close(s);
    tmp_end();
}

static lfr_status add_dated(lfr_store *s, int64_t d, const char *ref, const char *date,
                            lfr_err *err) {
    lfr_watchlist_entry e = {ref, "Subject", LFR_WATCHLIST_MISSING, NULL, "missing", "family",
                             date, 0, NULL};
    return lfr_deploy_entry_add(s, d, &e, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, err);
}

/* fake_now is 2025-06-15 */
static void test_image_date(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t d = create(s);
    const char *bad[] = {"2024-02-30", "2023-02-29", "notadate", "2024-13", "2024-00-10",
                         "2024-1-01", "24-01-01", "2024/01/01", "2024-01-01T10:00",
                         "'; DROP TABLE deployments; --", "2024-01-01' OR '1'='1", "1850",
                         "2024-04-31", " 2024-01-01", NULL, ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char ref[32];
        snprintf(ref, sizeof ref, "BAD-%zu", i);
        lfr_status st = add_dated(s, d, ref, bad[i], &err);
        if (st != LFR_ERR_INVALID_ARG) fprintf(stderr, "  accepted date \"%s\"\n", bad[i]);
        CHECK_STATUS(st, LFR_ERR_INVALID_ARG);
    }
    /* in the future (store clock) */
    CHECK_ERR(add_dated(s, d, "F1", "2025-06-16", &err), LFR_ERR_INVALID_ARG, "in the future");
    CHECK_ERR(add_dated(s, d, "F2", "2025-07", &err), LFR_ERR_INVALID_ARG, "in the future");
    CHECK_ERR(add_dated(s, d, "F3", "2026", &err), LFR_ERR_INVALID_ARG, "in the future");
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM watchlist_entries"), 0);
    const char *good[] = {"2024-02-29", "2000-02-29", "2024-02", "2024", "2025-06-15", "2025-06",
                          "2025"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char ref[32];
        snprintf(ref, sizeof ref, "OK-%zu", i);
        CHECK_STATUS(add_dated(s, d, ref, good[i], &err), LFR_OK);
    }
    lfr_store_close(s);
    tmp_end();
}

/* A rerun import adds nothing twice; ids are never reissued. */
static void test_unique_subject_and_ids(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t d = create(s), d2 = create(s);
    int64_t e1 = add(s, d, "REF-1", LFR_OK);
    int64_t e2 = add(s, d, "REF-2", LFR_OK);
    CHECK_ERR(add_dated(s, d, "REF-1", "2024", &err), LFR_ERR_EXISTS, "already on the list");
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM watchlist_entries"), 2);
    /* another deployment may list the same subject */
    add(s, d2, "REF-1", LFR_OK);
    /* removal, then a new entry: its id was never used before */
    CHECK_STATUS(lfr_deploy_entry_remove(s, e2, &ALICE, "wrong person", &err), LFR_OK);
    int64_t e3 = add(s, d, "REF-3", LFR_OK);
    CHECK(e3 > e2 && e3 > e1);
    int64_t img_max = count(s, "SELECT max(id) FROM entry_images");
    CHECK_STATUS(lfr_deploy_entry_remove(s, e3, &ALICE, "wrong person", &err), LFR_OK);
    add(s, d, "REF-4", LFR_OK);
    CHECK(count(s, "SELECT max(id) FROM entry_images") > img_max);
    /* the subject removed may be added again */
    add(s, d, "REF-2", LFR_OK);
    /* alerts, checks, cameras, amendments of these tables: AUTOINCREMENT */
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                          "('watchlist_entries','entry_images','alerts','photo_checks','cameras') "
                          "AND sql LIKE '%AUTOINCREMENT%'"), 5);
    lfr_store_close(s);
    tmp_end();
}

/* An entry moved into an authorised deployment behind the software's back
 * is noticed at start and when the matcher's snapshot is loaded. */
static void test_watchlist_tamper(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t d = create(s), other = create(s);
    int64_t e1 = add(s, d, "REF-1", LFR_OK);
    int64_t e2 = add(s, d, "REF-2", LFR_OK);
    int64_t stray = add(s, other, "STRAY", LFR_OK);
    CHECK_REFUSED(lfr_deploy_watchlist_verify(s, d, &err), "no watchlist digest");
    CHECK_STATUS(lfr_deploy_authorise(s, d, &BOB, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_watchlist_verify(s, d, &err), LFR_OK);
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE watchlist_entries SET deployment_id = %lld WHERE id = %lld",
             (long long)d, (long long)stray);
    CHECK_STATUS(lfr_store_exec(s, sql, &err), LFR_OK);
    CHECK_ERR(lfr_deploy_watchlist_verify(s, d, &err), LFR_ERR_INTEGRITY, "not the one authorised");
    CHECK_ERR(lfr_deploy_start(s, d, &BOB, &err), LFR_ERR_INTEGRITY, "not the one authorised");
    CHECK_REFUSED(lfr_deploy_require_live(s, d, &err), "authorised");
    /* put it back: the watchlist is the authorised one again */
    snprintf(sql, sizeof sql, "UPDATE watchlist_entries SET deployment_id = %lld WHERE id = %lld",
             (long long)other, (long long)stray);
    CHECK_STATUS(lfr_store_exec(s, sql, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_start(s, d, &BOB, &err), LFR_OK);
    lfr_deploy_templates t;
    CHECK_STATUS(lfr_deploy_templates_load(s, d, &t, &err), LFR_OK);
    CHECK_EQ_INT(t.n, 2);
    lfr_deploy_templates_free(&t);
    /* an authorised amendment changes the recorded digest with the list */
    lfr_deploy_amendment rm = {"arrested", 0, 0, e2, 0};
    int64_t amid = 0;
    CHECK_STATUS(lfr_deploy_amend_propose(s, d, &rm, &ALICE, &amid, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_amend_authorise(s, amid, &BOB, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_watchlist_verify(s, d, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_templates_load(s, d, &t, &err), LFR_OK);
    CHECK_EQ_INT(t.n, 1);
    CHECK_EQ_INT(t.entry_ids[0], e1);
    lfr_deploy_templates_free(&t);
    /* tampering while live: a template row changed under the snapshot */
    CHECK_STATUS(lfr_store_exec(s, "UPDATE entry_images SET template = (SELECT template FROM "
                                   "entry_images ORDER BY id DESC LIMIT 1) WHERE id = "
                                   "(SELECT min(id) FROM entry_images)", &err), LFR_OK);
    CHECK_ERR(lfr_deploy_templates_load(s, d, &t, &err), LFR_ERR_INTEGRITY, "not the one authorised");
    CHECK(t.n == 0 && t.data == NULL);
    lfr_store_close(s);
    tmp_end();
}

static void test_alert_dispatch_flow(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t e1 = 0;
    int64_t d = live(s, &e1, NULL);
    int64_t img = count(s, "SELECT min(id) FROM entry_images");
    lfr_alert a = {"north", e1, 0.9f, IMG, sizeof IMG, img, NULL, 0, 0};
    int64_t al = 0, al2 = 0, al3 = 0;
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &a, &CAM, &al, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &a, &CAM, &al2, &err), LFR_OK);
    a.face_image = NULL;
    a.face_image_len = 0;
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &a, &CAM, &al3, &err), LFR_OK);
    lfr_alert_info ai;
    CHECK_STATUS(lfr_deploy_alert_get(s, al, &ai, &err), LFR_OK);
    CHECK_EQ_INT(ai.deployment_id, d);
    CHECK_EQ_INT(ai.entry_id, e1);
    CHECK_EQ_INT(ai.image_id, img);
    CHECK(strcmp(ai.subject_ref, "REF-1") == 0 && strcmp(ai.camera, "north") == 0);
    CHECK(ai.has_face_image && ai.decision[0] == '\0' && ai.dispatched_at == 0);
    CHECK_STATUS(lfr_deploy_alert_get(s, 999, &ai, &err), LFR_ERR_NOT_FOUND);
    uint8_t *im = NULL;
    size_t n = 0;
    CHECK_STATUS(lfr_deploy_alert_image_load(s, al, &im, &n, &err), LFR_OK);
    CHECK(n == sizeof IMG && im && memcmp(im, IMG, n) == 0);
    lfr_free(im);
    CHECK_STATUS(lfr_deploy_alert_image_load(s, al3, &im, &n, &err), LFR_ERR_NOT_FOUND);
    /* list: newest first, paged */
    lfr_alert_info *list = NULL;
    size_t ln = 0;
    CHECK_STATUS(lfr_deploy_alert_list(s, d, 0, 0, &list, &ln, &err), LFR_OK);
    CHECK_EQ_INT(ln, 3);
    if (ln == 3) CHECK(list[0].id == al3 && list[2].id == al);
    lfr_free(list);
    CHECK_STATUS(lfr_deploy_alert_list(s, d, al3, 1, &list, &ln, &err), LFR_OK);
    CHECK_EQ_INT(ln, 1);
    if (ln == 1) CHECK_EQ_INT(list[0].id, al2);
    lfr_free(list);
    /* nothing is dispatched before a human decision */
    int64_t devs[] = {3, 5};
    CHECK_REFUSED(lfr_deploy_alert_dispatch(s, al, devs, 2, 0, &ALICE, &err), "human decision");
    CHECK_STATUS(lfr_deploy_alert_decide(s, al2, 0, "not him", &ALICE, &err), LFR_OK);
    CHECK_REFUSED(lfr_deploy_alert_dispatch(s, al2, devs, 2, 0, &ALICE, &err), "rejected");
    CHECK_STATUS(lfr_deploy_alert_decide(s, al, 1, "looks like him", &ALICE, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_get(s, al, &ai, &err), LFR_OK);
    CHECK(strcmp(ai.decision, "confirmed") == 0 && strcmp(ai.note, "looks like him") == 0);
    /* outcome before dispatch: refused */
    CHECK_REFUSED(lfr_deploy_alert_outcome(s, al, LFR_ALERT_OUTCOME_ARRESTED, NULL, &ALICE, &err),
                  "not been dispatched");
    CHECK_STATUS(lfr_deploy_alert_dispatch(s, al, devs, 0, 0, &ALICE, &err), LFR_ERR_INVALID_ARG);
    int64_t zero = 0;
    CHECK_STATUS(lfr_deploy_alert_dispatch(s, al, &zero, 1, 0, &ALICE, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_alert_dispatch(s, al, devs, 2, 0, &ALICE, &err), LFR_OK);
    int yes = -1;
    CHECK_STATUS(lfr_deploy_alert_dispatched_to(s, al, 3, &yes, &err), LFR_OK);
    CHECK_EQ_INT(yes, 1);
    CHECK_STATUS(lfr_deploy_alert_dispatched_to(s, al, 4, &yes, &err), LFR_OK);
    CHECK_EQ_INT(yes, 0);
    CHECK_STATUS(lfr_deploy_alert_dispatched_to(s, al2, 3, &yes, &err), LFR_OK);
    CHECK_EQ_INT(yes, 0);
    /* acknowledgement: only where it went, once per device */
    lfr_actor officer = {"PC 7 Dana", LFR_ROLE_OFFICER};
    CHECK_REFUSED(lfr_deploy_alert_ack(s, al, 4, &officer, &err), "not dispatched to device 4");
    CHECK_STATUS(lfr_deploy_alert_ack(s, al, 3, &officer, &err), LFR_OK);
    CHECK_REFUSED(lfr_deploy_alert_ack(s, al, 3, &officer, &err), "already acknowledged");
    CHECK_STATUS(lfr_deploy_alert_ack(s, al, 5, &officer, &err), LFR_OK);
    /* outcome, once */
    CHECK_STATUS(lfr_deploy_alert_outcome(s, al, LFR_ALERT_OUTCOME_COUNT, NULL, &officer, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_alert_outcome(s, al, LFR_ALERT_OUTCOME_ARRESTED, "at the gate",
                                          &officer, &err), LFR_OK);
    CHECK_REFUSED(lfr_deploy_alert_outcome(s, al, LFR_ALERT_OUTCOME_ENGAGED, NULL, &officer, &err),
                  "already has its outcome");
    CHECK_STATUS(lfr_deploy_alert_get(s, al, &ai, &err), LFR_OK);
    CHECK(ai.dispatched_at == fake_now && ai.dispatched_all == 0);
    CHECK(strcmp(ai.outcome, "arrested") == 0 && strcmp(ai.outcome_by, "PC 7 Dana") == 0);
    CHECK(strcmp(ai.outcome_note, "at the gate") == 0 && ai.outcome_at == fake_now);
    /* to every device */
    lfr_alert a4 = {"south", e1, 0.8f, NULL, 0, 0, NULL, 0, 0};
    int64_t al4 = 0;
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &a4, &CAM, &al4, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_decide(s, al4, 1, NULL, &ALICE, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_dispatch(s, al4, devs, 2, 1, &ALICE, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_alert_dispatch(s, al4, NULL, 0, 1, &ALICE, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_dispatched_to(s, al4, 42, &yes, &err), LFR_OK);
    CHECK_EQ_INT(yes, 1);
    CHECK_STATUS(lfr_deploy_alert_ack(s, al4, 42, &officer, &err), LFR_OK);
    /* each step left its audit record; the outcome names are a table */
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'alert.dispatch'"), 2);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'alert.ack'"), 3);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'alert.outcome'"), 1);
    lfr_alert_outcome o;
    CHECK_STATUS(lfr_alert_outcome_parse("mistaken_identity", &o), LFR_OK);
    CHECK_EQ_INT(o, LFR_ALERT_OUTCOME_MISTAKEN_IDENTITY);
    CHECK_STATUS(lfr_alert_outcome_parse("shot", &o), LFR_ERR_INVALID_ARG);
    /* after the end nothing more is dispatched; retention takes dispatches too */
    CHECK_STATUS(lfr_deploy_end(s, d, &BOB, NULL, &err), LFR_OK);
    CHECK_REFUSED(lfr_deploy_alert_dispatch(s, al, devs, 1, 0, &ALICE, &err), "ended");
    lfr_retention_rules r;
    lfr_retention_rules_default(&r);
    lfr_purge_report rep;
    CHECK_STATUS(lfr_deploy_purge(s, fake_now + r.alerts_s + 1, &r, &rep, &err), LFR_OK);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM alert_dispatches"), 0);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM alert_acks"), 0);
    lfr_audit_report ar;
    CHECK_STATUS(lfr_audit_verify(s, &ar, &err), LFR_OK);
    CHECK_STATUS(lfr_store_integrity_check(s, &err), LFR_OK);
    lfr_store_close(s);
    tmp_end();
}

static void test_cameras(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t d = create(s);
    const char *url = "rtsp://admin:hunter2secret@10.0.0.7/stream1";
    int64_t c1 = 0, c2 = 0;
    CHECK_STATUS(lfr_deploy_camera_add(s, d, "north-gate", url, &ALICE, &c1, &err), LFR_OK);
    CHECK_ERR(lfr_deploy_camera_add(s, d, "north-gate", url, &ALICE, &c2, &err), LFR_ERR_EXISTS,
              "already has a camera");
    CHECK_STATUS(lfr_deploy_camera_add(s, d, "van\x1b[2J", url, &ALICE, &c2, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_camera_add(s, d, "van-roof", "rtsp://x/\x07", &ALICE, &c2, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "rtsp") == NULL);
    CHECK_STATUS(lfr_deploy_camera_add(s, d, "van-roof", "/dev/video0", &ALICE, &c2, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_camera_add(s, 999, "x", "/dev/video0", &ALICE, NULL, &err), LFR_ERR_NOT_FOUND);
    /* the URL is sealed: not in the table, not in the audit log */
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM cameras WHERE instr(url, CAST('hunter2' AS BLOB)) > 0"), 0);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE details LIKE '%hunter2%' OR "
                          "details LIKE '%rtsp:%' OR details LIKE '%10.0.0.7%'"), 0);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'camera.add'"), 2);
    char *u = NULL;
    CHECK_STATUS(lfr_deploy_camera_url(s, c1, &u, &err), LFR_OK);
    CHECK(u && strcmp(u, url) == 0);
    lfr_free(u);
    lfr_camera_info *list = NULL;
    size_t n = 0;
    CHECK_STATUS(lfr_deploy_camera_list(s, d, &list, &n, &err), LFR_OK);
    CHECK_EQ_INT(n, 2);
    if (n == 2) CHECK(strcmp(list[0].name, "north-gate") == 0 && list[0].added_at == fake_now);
    lfr_free(list);
    CHECK_STATUS(lfr_deploy_camera_remove(s, c1, &ALICE, &err), LFR_OK);
    CHECK_REFUSED(lfr_deploy_camera_remove(s, c1, &ALICE, &err), "already removed");
    CHECK_REFUSED(lfr_deploy_camera_url(s, c1, &u, &err), "removed");
    CHECK_STATUS(lfr_deploy_camera_list(s, d, &list, &n, &err), LFR_OK);
    CHECK_EQ_INT(n, 1);
    lfr_free(list);
    /* the name is free again; the new camera has a new id */
    int64_t c3 = 0;
    CHECK_STATUS(lfr_deploy_camera_add(s, d, "north-gate", url, &ALICE, &c3, &err), LFR_OK);
    CHECK(c3 > c2);
    CHECK_STATUS(lfr_deploy_end(s, d, &BOB, NULL, &err), LFR_OK);
    CHECK_REFUSED(lfr_deploy_camera_add(s, d, "late", url, &ALICE, NULL, &err), "no longer be added");
    lfr_store_close(s);
    tmp_end();
}

/* A camera's RTSP transport: tcp unless told, udp stored, listed and
 * audited; other values, and udp for a URL that is not rtsp://, refused
 * with a sentence naming the field; rows from before the column are tcp. */
static void test_camera_transport(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err = {{0}};
    int64_t d = create(s);
    const char *url = "rtsp://admin:hunter2secret@10.0.0.7/stream1";
    int64_t c_def = 0, c_tcp = 0, c_udp = 0, c_up = 0, c_file = 0, x = 0;
    CHECK_STATUS(lfr_deploy_camera_add(s, d, "default", url, &ALICE, &c_def, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_camera_add_transport(s, d, "tcp", url, "tcp", &ALICE, &c_tcp, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_camera_add_transport(s, d, "udp", url, "udp", &ALICE, &c_udp, &err), LFR_OK);
    /* the scheme is case-insensitive, as FFmpeg's */
    CHECK_STATUS(lfr_deploy_camera_add_transport(s, d, "upper", "RTSP://10.0.0.8/s", "udp", &ALICE,
                                                 &c_up, &err), LFR_OK);
    /* tcp, the default, is every camera's: accepted for a file too */
    CHECK_STATUS(lfr_deploy_camera_add_transport(s, d, "file", "/tmp/clip.mp4", "tcp", &ALICE,
                                                 &c_file, &err), LFR_OK);
    /* refused: unknown values (named when printable), and udp without RTP over UDP */
    static const struct {
        const char *url, *tr, *phrase, *absent;
    } bad[] = {
        {"rtsp://10.0.0.9/s", "quic", "camera rtsp_transport \"quic\": must be tcp", NULL},
        {"rtsp://10.0.0.9/s", "UDP", "\"UDP\": must be tcp (the default) or udp", NULL},
        {"rtsp://10.0.0.9/s", "udp ", "must be tcp", NULL},
        {"rtsp://10.0.0.9/s", "u\x1b[2Jdp", "camera rtsp_transport: must be tcp", "\x1b"},
        {"/dev/video0", "udp", "camera rtsp_transport udp: only an rtsp:// camera", NULL},
        {"http://10.0.0.9/mjpeg", "udp", "URL is not rtsp://", "10.0.0.9"},
        {"rtsps://u:hunter2@10.0.0.9/s", "udp", "rtsps:// always carries RTP in its TLS", "hunter2"},
        {"/tmp/clip.mp4", "udp", "files, HTTP and webcams have no RTP", "clip"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        CHECK_STATUS(lfr_deploy_camera_add_transport(s, d, "refused", bad[i].url, bad[i].tr, &ALICE,
                                                     &x, &err), LFR_ERR_INVALID_ARG);
        if (!strstr(err.msg, bad[i].phrase)) fprintf(stderr, "  [%zu] message: %s\n", i, err.msg);
        CHECK(strstr(err.msg, bad[i].phrase) != NULL);
        if (bad[i].absent) CHECK(strstr(err.msg, bad[i].absent) == NULL);
        CHECK(x == 0);
    }
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM cameras WHERE name = 'refused'"), 0);
    /* stored as text, tcp unless udp was asked */
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM cameras WHERE rtsp_transport = 'udp'"), 2);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM cameras WHERE rtsp_transport = 'tcp'"), 3);
    /* a row written before the column existed (no value given) is tcp, and
     * the column takes no other value */
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO cameras(deployment_id, name, url, added_by, added_at) "
                              "VALUES(%lld, 'old', x'00', 'alice', 1)", (long long)d);
    CHECK_STATUS(lfr_store_exec(s, sql, &err), LFR_OK);
    CHECK(lfr_store_exec(s, "UPDATE cameras SET rtsp_transport = 'sctp' WHERE name = 'old'", &err) != LFR_OK);
    lfr_camera_info *list = NULL;
    size_t n = 0;
    CHECK_STATUS(lfr_deploy_camera_list(s, d, &list, &n, &err), LFR_OK);
    CHECK_EQ_INT(n, 6);
    static const struct {
        const char *name;
        lfr_rtsp_transport tr;
    } want[] = {{"default", LFR_RTSP_TCP}, {"tcp", LFR_RTSP_TCP}, {"udp", LFR_RTSP_UDP},
                {"upper", LFR_RTSP_UDP}, {"file", LFR_RTSP_TCP}, {"old", LFR_RTSP_TCP}};
    for (size_t i = 0; i < n && i < 6; i++) {
        CHECK(strcmp(list[i].name, want[i].name) == 0);
        CHECK_EQ_INT(list[i].rtsp_transport, want[i].tr);
    }
    lfr_free(list);
    /* audited: camera.add says which, never the URL */
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'camera.add' AND "
                          "json_extract(details, '$.rtsp_transport') = 'udp'"), 2);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'camera.add' AND "
                          "json_extract(details, '$.rtsp_transport') = 'tcp'"), 3);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE details LIKE '%hunter2%' OR "
                          "details LIKE '%rtsp:%' OR details LIKE '%10.0.0.%'"), 0);
    CHECK(strcmp(lfr_rtsp_transport_name(LFR_RTSP_UDP), "udp") == 0);
    CHECK(strcmp(lfr_rtsp_transport_name(LFR_RTSP_TRANSPORT_COUNT), "?") == 0);
    lfr_store_close(s);
    tmp_end();
}

/* Every check is recorded: a photo that could not be decoded or had no
 * face too, with the device it came from. */
static void test_check_results(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t e1 = 0;
    int64_t d = live(s, &e1, NULL);
    int64_t c1 = 0, c2 = 0, c3 = 0, c4 = 0;
    lfr_photo_check un = {"suspected", 0, 0, 0, NULL, 0, 7, LFR_PHOTO_CHECK_UNREADABLE};
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &un, &ALICE, &c1, &err), LFR_OK);
    lfr_photo_check nf = {"suspected", 0, 0, 0, NULL, 0, 7, LFR_PHOTO_CHECK_NO_FACE};
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &nf, &ALICE, &c2, &err), LFR_OK);
    lfr_photo_check nm = {"suspected", 0, 0, 0, NULL, 0, 0, 0};
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &nm, &ALICE, &c3, &err), LFR_OK);
    lfr_photo_check m = {"suspected", 1, e1, 0.8f, IMG, sizeof IMG, 9, 0};
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &m, &ALICE, &c4, &err), LFR_OK);
    /* refused: a match below the threshold (its photo would be kept), a
     * "match" that was never searched, an unknown result */
    lfr_photo_check low = {"suspected", 1, e1, -0.16f, IMG, sizeof IMG, 9, 0};
    CHECK_ERR(lfr_deploy_photo_check_record(s, d, &low, &ALICE, NULL, &err), LFR_ERR_INVALID_ARG,
              "below the authorised threshold");
    lfr_photo_check bad = {"suspected", 1, e1, 0.9f, IMG, sizeof IMG, 9, LFR_PHOTO_CHECK_NO_FACE};
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &bad, &ALICE, NULL, &err), LFR_ERR_INVALID_ARG);
    bad.matched = 0;
    bad.result = LFR_PHOTO_CHECK_RESULT_COUNT;
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &bad, &ALICE, NULL, &err), LFR_ERR_INVALID_ARG);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM photo_checks WHERE image IS NOT NULL"), 1);
    lfr_check_info *list = NULL;
    size_t n = 0;
    CHECK_STATUS(lfr_deploy_check_list(s, d, 0, 0, &list, &n, &err), LFR_OK);
    CHECK_EQ_INT(n, 4);
    if (n == 4) {
        CHECK(list[0].id == c4 && strcmp(list[0].result, "match") == 0);
        CHECK(list[0].device_id == 9 && list[0].entry_id == e1);
        CHECK(strcmp(list[0].subject_ref, "REF-1") == 0);
        CHECK(strcmp(list[1].result, "no_match") == 0 && list[1].device_id == 0);
        CHECK(strcmp(list[2].result, "no_face") == 0 && list[2].device_id == 7);
        CHECK(list[3].id == c1 && strcmp(list[3].result, "unreadable") == 0);
        CHECK(strcmp(list[3].officer, ALICE.name) == 0 && strcmp(list[3].reason, "suspected") == 0);
    }
    lfr_free(list);
    CHECK_STATUS(lfr_deploy_check_list(s, d, c3, 1, &list, &n, &err), LFR_OK);
    CHECK_EQ_INT(n, 1);
    if (n == 1) CHECK_EQ_INT(list[0].id, c2);
    lfr_free(list);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'check.photo' AND "
                          "details LIKE '%\"result\":\"unreadable\"%'"), 1);
    CHECK(strcmp(lfr_photo_check_result_name(LFR_PHOTO_CHECK_NO_FACE), "no_face") == 0);
    lfr_store_close(s);
    tmp_end();
}

/* --target-false-alerts: stored, the threshold derived for the planned size
 * at creation and again for the real size at authorisation (audited);
 * exclusive with a threshold; a direct threshold ends the target. */
static void test_target_false_alerts(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t d = 0;
    /* 100 false alerts per 10,000 with 100 templates planned: a threshold
     * in the sane range on today's calibration (docs/likeness.md) */
    lfr_deploy_params p = {"Match day", "Gate", "purpose", "PACE", fake_now - 60, fake_now + 3600,
                           0.7f, "", 0};
    lfr_deploy_target tg = {100.0, 100};
    /* both: refused, nothing stored */
    CHECK_ERR(lfr_deploy_create_for_target(s, &p, &tg, &ALICE, &d, &err), LFR_ERR_INVALID_ARG, "not both");
    p.threshold = 0;
    tg.false_alerts_per_10k = -1;
    CHECK_ERR(lfr_deploy_create_for_target(s, &p, &tg, &ALICE, &d, &err), LFR_ERR_INVALID_ARG, "not possible");
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM deployments"), 0);
    /* the expected thresholds, from the matcher */
    float t100 = 0, t3 = 0;
    CHECK_STATUS(lfr_deploy_threshold_for_target(100.0, 100, 0, &t100, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_threshold_for_target(100.0, 3, 0, &t3, &err), LFR_OK);
    float raw = 0;
    CHECK_STATUS(lfr_match_threshold_for_false_alerts(100.0, 100, &raw), LFR_OK);
    CHECK_NEAR(t100, raw < LFR_THRESHOLD_SANE_MIN ? LFR_THRESHOLD_SANE_MIN : raw, 0);
    CHECK(t3 < t100);
    /* a target no threshold below 1 meets for the worst group: refused,
     * naming the group */
    CHECK_ERR(lfr_deploy_threshold_for_target(1.0, 10000, 1, &raw, &err), LFR_ERR_INVALID_ARG,
              "no threshold below 1");
    tg.false_alerts_per_10k = 100.0;
    CHECK_STATUS(lfr_deploy_create_for_target(s, &p, &tg, &ALICE, &d, &err), LFR_OK);
    lfr_deploy_info info;
    CHECK_STATUS(lfr_deploy_get(s, d, &info, &err), LFR_OK);
    CHECK_NEAR(info.target_false_alerts, 100.0, 0);
    CHECK_EQ_INT(info.target_templates, 100);
    CHECK_NEAR(info.threshold, t100, 0);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'deployment.create' "
                          "AND details LIKE '%\"target_false_alerts\":100%' "
                          "AND details LIKE '%\"worst_group\":%'"), 1);
    /* three entries, one with three images: at authorisation the threshold
     * follows the templates a face is compared with, one mean per entry
     * (3), not the 5 images, each weighted by what its false matches count
     * for: the mean of three photos resembles strangers more often than one
     * photo (lfr_match_cal_entry_weight), so 2 + w(3) comparisons */
    int64_t e1 = add(s, d, "REF-1", LFR_OK);
    add(s, d, "REF-2", LFR_OK);
    add(s, d, "REF-3", LFR_OK);
    for (int i = 0; i < 2; i++)
        CHECK_STATUS(lfr_deploy_entry_image_add(s, e1, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, &err),
                     LFR_OK);
    CHECK_STATUS(lfr_deploy_get(s, d, &info, &err), LFR_OK);
    CHECK_EQ_INT(info.images, 5);
    CHECK_EQ_INT(info.searched, 3);
    double w3 = lfr_match_cal_entry_weight(lfr_match_calibration_named("mfn192"), 3);
    CHECK(w3 > 1.5);
    int64_t counted = (int64_t)ceil(2 + w3 - 1e-9);
    CHECK_EQ_INT(info.counted, counted);
    int64_t by_images[LFR_MAX_ENTRY_IMAGES + 1] = {0};
    by_images[1] = 2, by_images[3] = 1;
    CHECK_EQ_INT(lfr_deploy_counted_comparisons("mfn192", by_images), counted);
    by_images[3] = 0, by_images[1] = 3;
    CHECK_EQ_INT(lfr_deploy_counted_comparisons("mfn192", by_images), 3);
    CHECK_EQ_INT(lfr_deploy_searched_templates(3, 5, 1), 3);
    CHECK_EQ_INT(lfr_deploy_searched_templates(0, 0, 0), 0);
    float tc = 0;
    CHECK_STATUS(lfr_deploy_threshold_for_target(100.0, counted, 0, &tc, &err), LFR_OK);
    CHECK(tc > t3); /* more comparisons counted: a stricter threshold */
    CHECK_STATUS(lfr_deploy_authorise(s, d, &BOB, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_get(s, d, &info, &err), LFR_OK);
    CHECK_NEAR(info.threshold, tc, 0);
    CHECK_EQ_INT(info.target_templates, counted);
    char like[512];
    snprintf(like, sizeof like,
             "SELECT count(*) FROM audit_log WHERE action = 'deployment.authorise' "
             "AND details LIKE '%%\"threshold_before\":%%' "
             "AND details LIKE '%%\"derived_for_watchlist_size\":%lld%%' "
             "AND details LIKE '%%\"templates_searched\":3%%' "
             "AND details LIKE '%%\"worst_false_alerts_per_10k_faces\":%%'",
             (long long)counted);
    CHECK_EQ_INT(count(s, like), 1);
    /* the worst group meets the target at the derived threshold */
    lfr_match_threshold_meaning m;
    lfr_match_threshold_info(info.threshold, (size_t)counted, &m);
    CHECK(m.worst_name != NULL);
    CHECK(m.worst_false_alerts_per_10k <= 100.0 * (1 + 1e-9));
    /* a direct threshold on a draft ends the target (audited) */
    int64_t d2 = 0;
    CHECK_STATUS(lfr_deploy_create_for_target(s, &p, &tg, &ALICE, &d2, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_set_threshold(s, d2, 0.7f, 0, &ALICE, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_get(s, d2, &info, &err), LFR_OK);
    CHECK_NEAR(info.target_false_alerts, 0, 0);
    CHECK_NEAR(info.threshold, 0.7, 1e-6);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'deployment.update' "
                          "AND details LIKE '%\"target_false_alerts\":null%'"), 1);
    add(s, d2, "REF-1", LFR_OK);
    CHECK_STATUS(lfr_deploy_authorise(s, d2, &BOB, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_get(s, d2, &info, &err), LFR_OK);
    CHECK_NEAR(info.threshold, 0.7, 1e-6); /* not re-derived */
    /* a target the real size cannot meet in the sane range: authorisation
     * is refused (1 per 10,000 holds for 1 image at ~0.82, not for 2) */
    int64_t d3 = 0;
    lfr_deploy_target one = {1.0, 1};
    CHECK_STATUS(lfr_deploy_create_for_target(s, &p, &one, &ALICE, &d3, &err), LFR_OK);
    add(s, d3, "REF-1", LFR_OK);
    add(s, d3, "REF-2", LFR_OK);
    float need = 0;
    if (lfr_deploy_threshold_for_target(1.0, 2, 0, &need, &err) != LFR_OK) {
        CHECK_REFUSED(lfr_deploy_authorise(s, d3, &BOB, &err), "cannot be authorised with its target");
        CHECK_STATUS(lfr_deploy_get(s, d3, &info, &err), LFR_OK);
        CHECK_EQ_INT(info.state, LFR_DEPLOY_DRAFT);
    }
    lfr_store_close(s);
    tmp_end();
}

/* Model sets (issue 11 section 3): a deployment records its set, a
 * template of another set is refused, templates_load returns the set and
 * its dim, the digest covers the set, thresholds follow the set's
 * calibration, and rows made before model sets are mfn192. */
static void test_model_sets(void) {
    /* match's list of calibrations agrees with the face engine's sets */
    CHECK_EQ_INT(lfr_match_calibration_count(), LFR_FACE_MODEL_SET_COUNT);
    for (int m = 0; m < LFR_FACE_MODEL_SET_COUNT; m++) {
        const lfr_match_calibration *c =
            lfr_match_calibration_named(lfr_face_model_set_name((lfr_face_model_set)m));
        CHECK(c != NULL);
        CHECK(c == lfr_match_calibration_at(m));
        CHECK_EQ_INT(lfr_match_calibration_dim(c), lfr_face_model_set_dim((lfr_face_model_set)m));
    }
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err = {{0}};
    lfr_deploy_params p = {"Fused", "Gate", "purpose", "PACE", fake_now - 60, fake_now + 3600,
                           0.62f, "cam", 0};
    int64_t d = 0, old = create(s);
    CHECK_STATUS(lfr_deploy_create_in_set(s, &p, NULL, "mfn999", &ALICE, &d, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "mfn999") && strstr(err.msg, "fused704"));
    /* the sane range is the set's: fused704's equivalent of 0.85 is lower */
    float def = 0, lo = 0, hi = 0;
    CHECK_STATUS(lfr_deploy_model_set_thresholds("fused704", &def, &lo, &hi, &err), LFR_OK);
    CHECK(lo < def && def < hi && hi < LFR_THRESHOLD_SANE_MAX);
    CHECK(def > 0.59f && def < 0.65f);
    p.threshold = hi + 0.02f;
    CHECK_STATUS(lfr_deploy_create_in_set(s, &p, NULL, "fused704", &ALICE, &d, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "fused704") != NULL);
    p.threshold = def;
    CHECK_STATUS(lfr_deploy_create_in_set(s, &p, NULL, "fused704", &ALICE, &d, &err), LFR_OK);
    lfr_deploy_info info;
    CHECK_STATUS(lfr_deploy_get(s, d, &info, &err), LFR_OK);
    CHECK(!strcmp(info.model_set, "fused704"));
    CHECK_STATUS(lfr_deploy_get(s, old, &info, &err), LFR_OK);
    CHECK(!strcmp(info.model_set, "mfn192"));
    /* a row written without the column (as before the migration) is mfn192 */
    CHECK_STATUS(lfr_store_exec(s, "INSERT INTO deployments(name, location, purpose, legal_basis, "
                                   "planned_start, planned_end, threshold, cameras, created_by, "
                                   "created_at) SELECT name, location, purpose, legal_basis, "
                                   "planned_start, planned_end, threshold, cameras, created_by, "
                                   "created_at FROM deployments WHERE id = 1", &err), LFR_OK);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM deployments WHERE model_set = 'mfn192'"), 2);
    /* templates of another set are refused, the set's are recorded */
    static float T704[704];
    for (int i = 0; i < 704; i++) T704[i] = (float)((i * 13) % 29) / 29.0f - 0.5f;
    lfr_watchlist_entry e = {"F-1", "Subject", LFR_WATCHLIST_MISSING, NULL, "r", "custody image",
                             "2024-03-04", 0, NULL};
    int64_t eid = 0, iid = 0;
    CHECK_STATUS(lfr_deploy_entry_add(s, d, &e, IMG, sizeof IMG, TMPL, 192, &ALICE, &eid, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "mfn192") && strstr(err.msg, "fused704"));
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM watchlist_entries WHERE subject_ref = 'F-1'"), 0);
    CHECK_STATUS(lfr_deploy_entry_add(s, d, &e, IMG, sizeof IMG, T704, 704, &ALICE, &eid, &err),
                 LFR_OK);
    CHECK_STATUS(lfr_deploy_entry_image_add(s, eid, IMG, sizeof IMG, TMPL, 192, &ALICE, &iid, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_entry_image_add(s, eid, IMG, sizeof IMG, T704, 704, &ALICE, &iid, &err),
                 LFR_OK);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM entry_images WHERE model_set = 'fused704'"), 2);
    /* an mfn192 deployment refuses a fused template */
    e.subject_ref = "F-2";
    CHECK_STATUS(lfr_deploy_entry_add(s, old, &e, IMG, sizeof IMG, T704, 704, &ALICE, &iid, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_authorise(s, d, &BOB, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_start(s, d, &BOB, &err), LFR_OK);
    lfr_deploy_templates t;
    CHECK_STATUS(lfr_deploy_templates_load(s, d, &t, &err), LFR_OK);
    CHECK(!strcmp(t.model_set, "fused704"));
    CHECK_EQ_INT(t.dim, 704);
    CHECK_EQ_INT((int)t.n, 2);
    lfr_deploy_templates_free(&t);
    /* the digest covers the set: relabelling a template (or the
     * deployment) is seen */
    CHECK_STATUS(lfr_deploy_watchlist_verify(s, d, &err), LFR_OK);
    CHECK_STATUS(lfr_store_exec(s, "UPDATE entry_images SET model_set = 'mfn192' WHERE id = "
                                   "(SELECT min(id) FROM entry_images WHERE model_set = "
                                   "'fused704')", &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_watchlist_verify(s, d, &err), LFR_ERR_INTEGRITY);
    CHECK_STATUS(lfr_store_exec(s, "UPDATE entry_images SET model_set = 'fused704'", &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_watchlist_verify(s, d, &err), LFR_OK);
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE deployments SET model_set = 'mfn192' WHERE id = %lld",
             (long long)d);
    CHECK_STATUS(lfr_store_exec(s, sql, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_watchlist_verify(s, d, &err), LFR_ERR_INTEGRITY);
    CHECK_STATUS(lfr_deploy_templates_load(s, d, &t, &err), LFR_ERR_INTEGRITY);
    lfr_store_close(s);
    tmp_end();
}

/* What matched (best shot or track template) is stored with the alert, in
 * its audit details, and changed by an update from the other source; rows
 * stored before the columns existed read "unknown". */
static void test_alert_source(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t e1 = 0, e2 = 0;
    int64_t d = live(s, &e1, &e2);
    lfr_alert a = {"north", e1, 0.9f, IMG, sizeof IMG, 0, NULL, 0, 0};
    int64_t shot = 0, tpl = 0, id = 0;
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &a, &CAM, &shot, &err), LFR_OK);
    lfr_alert_info ai;
    CHECK_STATUS(lfr_deploy_alert_get(s, shot, &ai, &err), LFR_OK);
    CHECK_EQ_INT(ai.source, LFR_ALERT_FROM_BEST_SHOT);
    CHECK_EQ_INT(ai.template_n, 1);
    a.source = "track_template";
    a.template_n = 3;
    a.entry_id = e2;
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &a, &CAM, &tpl, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_get(s, tpl, &ai, &err), LFR_OK);
    CHECK_EQ_INT(ai.source, LFR_ALERT_FROM_TRACK_TEMPLATE);
    CHECK_EQ_INT(ai.template_n, 3);
    CHECK(!strcmp(lfr_alert_source_name(ai.source), "track_template"));
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'alert.raise' AND "
                          "json_extract(details, '$.source') = 'track_template' AND "
                          "json_extract(details, '$.template_n') = 3"), 1);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'alert.raise' AND "
                          "json_extract(details, '$.source') = 'best_shot' AND "
                          "json_extract(details, '$.template_n') = 1"), 1);
    /* refused: a name not on the list, "unknown", counts that cannot be */
    const struct { const char *src; int n; const char *says; } bad[] = {
        {"template", 3, "\"template\""}, {"unknown", 0, "\"unknown\""},
        {"track_template", 1, "2 to 8"}, {"track_template", 9, "2 to 8"},
        {"best_shot", 2, "one embedding"}, {NULL, -1, "one embedding"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a.source = bad[i].src;
        a.template_n = bad[i].n;
        memset(&err, 0, sizeof err);
        CHECK_STATUS(lfr_deploy_alert_record(s, d, &a, &CAM, &id, &err), LFR_ERR_INVALID_ARG);
        if (!strstr(err.msg, bad[i].says)) fprintf(stderr, "  message: %s\n", err.msg);
        CHECK(strstr(err.msg, bad[i].says) != NULL);
        CHECK_STATUS(lfr_deploy_alert_update(s, shot, 0.95f, NULL, 0, bad[i].src, bad[i].n, 0, &CAM,
                                             &err), LFR_ERR_INVALID_ARG);
    }
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM alerts"), 2);
    /* the better match came from the track template: the alert says so */
    CHECK_STATUS(lfr_deploy_alert_update(s, shot, 0.93f, IMG, sizeof IMG, "track_template", 4, 0,
                                         &CAM, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_get(s, shot, &ai, &err), LFR_OK);
    CHECK_EQ_INT(ai.source, LFR_ALERT_FROM_TRACK_TEMPLATE);
    CHECK_EQ_INT(ai.template_n, 4);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'alert.update' AND "
                          "json_extract(details, '$.source') = 'track_template' AND "
                          "json_extract(details, '$.template_n') = 4 AND "
                          "json_extract(details, '$.previous_source') = 'best_shot' AND "
                          "json_extract(details, '$.previous_template_n') = 1"), 1);
    /* and back: a later best shot beats the template */
    CHECK_STATUS(lfr_deploy_alert_update(s, shot, 0.96f, NULL, 0, "best_shot", 1, 0, &CAM, &err),
                 LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_get(s, shot, &ai, &err), LFR_OK);
    CHECK_EQ_INT(ai.source, LFR_ALERT_FROM_BEST_SHOT);
    CHECK_EQ_INT(ai.template_n, 1);
    /* a row written without the columns (as before the migration) */
    CHECK_STATUS(lfr_store_exec(s, "INSERT INTO alerts(deployment_id, entry_id, subject_ref, "
                                   "camera, at, score, threshold) SELECT deployment_id, entry_id, "
                                   "subject_ref, camera, at, score, threshold FROM alerts "
                                   "WHERE id = 1", &err), LFR_OK);
    lfr_alert_info *list = NULL;
    size_t n = 0;
    CHECK_STATUS(lfr_deploy_alert_list(s, d, 0, 1, &list, &n, &err), LFR_OK);
    CHECK(n == 1 && list[0].source == LFR_ALERT_FROM_UNKNOWN && list[0].template_n == 0);
    if (n == 1) CHECK(!strcmp(lfr_alert_source_name(list[0].source), "unknown"));
    lfr_free(list);
    int64_t old_id = count(s, "SELECT max(id) FROM alerts");
    /* an update of such an alert says what it was */
    CHECK_STATUS(lfr_deploy_alert_update(s, old_id, 0.97f, NULL, 0, "track_template", 2, 0, &CAM,
                                         &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_get(s, old_id, &ai, &err), LFR_OK);
    CHECK_EQ_INT(ai.source, LFR_ALERT_FROM_TRACK_TEMPLATE);
    CHECK_EQ_INT(ai.template_n, 2);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'alert.update' AND "
                          "json_extract(details, '$.previous_source') = 'unknown' AND "
                          "json_extract(details, '$.previous_template_n') = 0"), 1);
    lfr_store_close(s);
    tmp_end();
}

/* How many photos the watchlist template that matched averaged is stored
 * with the alert and audited, and the alert's likeness is read for it: the
 * mean of k photos reaches a cosine against strangers weight(k) times as
 * often as one photo, so the same score is less telling.  Rows stored
 * before the column read 0 and keep the one-photo reading. */
static void test_alert_entry_photos(void) {
    tmp_begin();
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err;
    int64_t e1 = 0, e2 = 0;
    int64_t d = live(s, &e1, &e2);
    lfr_alert a = {"north", e1, 0.72f, IMG, sizeof IMG, 0, NULL, 0, 0};
    int64_t one = 0, mean = 0, id = 0;
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &a, &CAM, &one, &err), LFR_OK);
    a.entry_id = e2;
    a.entry_photos = 2;
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &a, &CAM, &mean, &err), LFR_OK);
    lfr_alert_info ai, bi;
    CHECK_STATUS(lfr_deploy_alert_get(s, one, &ai, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_get(s, mean, &bi, &err), LFR_OK);
    CHECK_EQ_INT(ai.entry_photos, 1); /* 0 given: one photo */
    CHECK_EQ_INT(bi.entry_photos, 2);
    const lfr_match_calibration *cal = lfr_match_calibration_named(ai.model_set);
    CHECK(cal != NULL);
    CHECK_NEAR(lfr_alert_likeness(&ai), lfr_match_cal_likeness(cal, 0.72f), 1e-12);
    CHECK_NEAR(lfr_alert_likeness(&bi), lfr_match_cal_entry_likeness(cal, 0.72f, 2), 1e-12);
    /* the same score from a mean of two photos reads about 6 points lower */
    CHECK(lfr_alert_likeness(&bi) < lfr_alert_likeness(&ai) - 5.0);
    printf("  score 0.72 (%s): likeness %.1f from one photo, %.1f from the mean of 2\n",
           ai.model_set, lfr_alert_likeness(&ai), lfr_alert_likeness(&bi));
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'alert.raise' AND "
                          "json_extract(details, '$.entry_photos') = 2"), 1);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'alert.raise' AND "
                          "json_extract(details, '$.entry_photos') = 1"), 1);
    /* counts an entry cannot hold are refused, naming the limit */
    const int bad[] = {-1, LFR_MAX_ENTRY_IMAGES + 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a.entry_photos = bad[i];
        memset(&err, 0, sizeof err);
        char says[48];
        snprintf(says, sizeof says, "1 to %d photos", LFR_MAX_ENTRY_IMAGES);
        CHECK_STATUS(lfr_deploy_alert_record(s, d, &a, &CAM, &id, &err), LFR_ERR_INVALID_ARG);
        CHECK(strstr(err.msg, says) != NULL);
        memset(&err, 0, sizeof err);
        CHECK_STATUS(lfr_deploy_alert_update(s, mean, 0.95f, NULL, 0, NULL, 0, bad[i], &CAM, &err),
                     LFR_ERR_INVALID_ARG);
        CHECK(strstr(err.msg, says) != NULL);
    }
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM alerts"), 2);
    /* an update carries the count of what matched and audits it */
    CHECK_STATUS(lfr_deploy_alert_update(s, mean, 0.80f, NULL, 0, NULL, 0, 3, &CAM, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_get(s, mean, &bi, &err), LFR_OK);
    CHECK_EQ_INT(bi.entry_photos, 3);
    CHECK_NEAR(lfr_alert_likeness(&bi), lfr_match_cal_entry_likeness(cal, 0.80f, 3), 1e-12);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE action = 'alert.update' AND "
                          "json_extract(details, '$.entry_photos') = 3"), 1);
    /* a row written without the column (as before the migration) */
    CHECK_STATUS(lfr_store_exec(s, "INSERT INTO alerts(deployment_id, entry_id, subject_ref, "
                                   "camera, at, score, threshold) SELECT deployment_id, entry_id, "
                                   "subject_ref, camera, at, score, threshold FROM alerts "
                                   "WHERE id = 1", &err), LFR_OK);
    int64_t old_id = count(s, "SELECT max(id) FROM alerts");
    CHECK_STATUS(lfr_deploy_alert_get(s, old_id, &ai, &err), LFR_OK);
    CHECK_EQ_INT(ai.entry_photos, 0);
    CHECK_NEAR(lfr_alert_likeness(&ai), lfr_match_cal_likeness(cal, ai.score), 1e-12);
    lfr_store_close(s);
    tmp_end();
}

int main(void) {
    lfr_log_set_level(LFR_LOG_WARN);
    for (size_t i = 0; i < sizeof IMG; i++) IMG[i] = (uint8_t)(i * 7 + 3);
    for (int i = 0; i < 192; i++) TMPL[i] = (float)(i % 17) / 17.0f - 0.5f;
    RUN(test_lifecycle);
    RUN(test_start_outside_window);
    RUN(test_amendment);
    RUN(test_entry_rules);
    RUN(test_retention);
    RUN(test_crash_safety);
    RUN(test_separation_folded);
    RUN(test_authoriser_did_not_build_list);
    RUN(test_free_text_checked);
    RUN(test_threshold_rules);
    RUN(test_planned_window);
    RUN(test_image_date);
    RUN(test_unique_subject_and_ids);
    RUN(test_watchlist_tamper);
    RUN(test_alert_dispatch_flow);
    RUN(test_cameras);
    RUN(test_camera_transport);
    RUN(test_check_results);
    RUN(test_target_false_alerts);
    RUN(test_model_sets);
    RUN(test_alert_source);
    RUN(test_alert_entry_photos);
    return harness_done("deploy");
}
