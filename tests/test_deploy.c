/*
 * test_deploy.c - the deployment lifecycle and its rules (each forbidden
 * move fails with its sentence), locks and amendments, watchlist checks,
 * retention on a fake clock, crash safety under kill -9.
 */
#define _POSIX_C_SOURCE 200809L
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
                           "north,south"};
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
    CHECK_STATUS(lfr_deploy_set_threshold(s, d, 0.62f, &ALICE, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_set_threshold(s, d, 1.5f, &ALICE, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_authorise(s, d, &BOB, &err), LFR_OK);
    /* authorised: locked */
    CHECK_REFUSED(lfr_deploy_authorise(s, d, &CAROL, &err), "only a draft");
    CHECK_REFUSED(lfr_deploy_set_threshold(s, d, 0.5f, &ALICE, &err), "threshold is locked");
    lfr_watchlist_entry e = {"REF-3", "X", LFR_WATCHLIST_MISSING, NULL, "r", "s", "2024", 0, NULL};
    CHECK_REFUSED(lfr_deploy_entry_add(s, d, &e, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, &err),
                  "watchlist is locked");
    CHECK_REFUSED(lfr_deploy_entry_image_add(s, e1, IMG, sizeof IMG, TMPL, 192, &ALICE, NULL, &err),
                  "watchlist is locked");
    CHECK_REFUSED(lfr_deploy_entry_remove(s, e1, &ALICE, "changed mind", &err), "watchlist is locked");
    lfr_deploy_templates t;
    CHECK_REFUSED(lfr_deploy_templates_load(s, d, &t, &err), "is authorised");
    lfr_photo_check pc = {"suspected", 0, 0, 0, NULL, 0};
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
    lfr_photo_check pm = {"matches description", 1, e1, 0.71f, IMG, sizeof IMG};
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &pm, &ALICE, NULL, &err), LFR_OK);
    pc.image = IMG;
    pc.image_len = sizeof IMG;
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &pc, &ALICE, NULL, &err), LFR_OK);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM photo_checks"), 3);
    CHECK_EQ_INT(count(s, "SELECT count(image) FROM photo_checks"), 1);
    lfr_photo_check noreason = {"", 0, 0, 0, NULL, 0};
    CHECK_STATUS(lfr_deploy_photo_check_record(s, d, &noreason, &ALICE, NULL, &err), LFR_ERR_INVALID_ARG);
    /* alerts: at or above the threshold only */
    lfr_alert low = {"north", e1, 0.55f, IMG, sizeof IMG}, hi = {"north", e1, 0.8f, IMG, sizeof IMG};
    int64_t al;
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &low, &CAM, &al, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &hi, &CAM, &al, &err), LFR_OK);
    /* a better shot of the same track replaces score and crop; a worse one
     * is refused; after the decision nothing changes */
    CHECK_STATUS(lfr_deploy_alert_update(s, al, 0.85f, IMG, sizeof IMG, &CAM, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_update(s, al, 0.82f, IMG, sizeof IMG, &CAM, &err), LFR_ERR_INVALID_ARG);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM alerts WHERE score > 0.84"), 1);
    CHECK_STATUS(lfr_deploy_alert_decide(s, al, 1, "stopped, arrested", &ALICE, &err), LFR_OK);
    CHECK_REFUSED(lfr_deploy_alert_update(s, al, 0.9f, NULL, 0, &CAM, &err), "decided");
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
    lfr_deploy_amendment am = {"raise", 1, 0.7f, 0};
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
    lfr_deploy_amendment am = {"fewer false alerts", 1, 0.7f, 0};
    int64_t amid;
    CHECK_REFUSED(lfr_deploy_amend_propose(s, d, &am, &ALICE, &amid, &err), "is a draft");
    CHECK_STATUS(lfr_deploy_authorise(s, d, &BOB, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_start(s, d, &BOB, &err), LFR_OK);
    lfr_deploy_amendment empty = {"nothing", 0, 0, 0};
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
    lfr_deploy_amendment rm = {"arrested this morning", 0, 0, e2};
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
    lfr_alert a = {"north", e1, 0.9f, IMG, sizeof IMG};
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &a, &CAM, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_alert_record(s, d, &a, &CAM, NULL, &err), LFR_OK);
    lfr_photo_check pm = {"seen", 1, e1, 0.8f, IMG, sizeof IMG}, pn = {"seen", 0, 0, 0, NULL, 0};
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
    CHECK_REFUSED(lfr_deploy_set_threshold(s, d, 0.5f, &ALICE, &err), "purged");
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
    return harness_done("deploy");
}
