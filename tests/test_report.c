/*
 * test_report.c - the transparency report against a deployment of KNOWN
 * events, made through the deploy API with synthetic templates: every
 * number of the JSON is checked; the report is the same after retention
 * has deleted the rows (the log is the source); HTML and PDF are made and
 * hold the figures and the charts and nothing of the people; tampering
 * shows in the integrity section.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/core.h"
#include "deploy/deploy.h"
#include "harness.h"
#include "match/match.h"
#include "report/report.h"
#include "store/store.h"

static int64_t fake_now = 1750000000;
static int64_t fake_clock(void *ctx) { (void)ctx; return fake_now; }
static char dir[256], dbp[300], keyp[300];

static const lfr_actor ALICE = {"PC 101 Alice", LFR_ROLE_OPERATOR};
static const lfr_actor BOB = {"Supt Bob", LFR_ROLE_AUTHORISER};
static const lfr_actor CAROL = {"Insp Carol", LFR_ROLE_AUTHORISER};
static const lfr_actor DANA = {"PC 7 Dana", LFR_ROLE_OFFICER};
static const lfr_actor EVE = {"PC 8 Eve", LFR_ROLE_OFFICER};
static const lfr_actor CAM = {"camera:north", LFR_ROLE_SYSTEM};

/* Image bytes with a marker that must never reach a report. */
#define IMG_MARKER "BIOMETRIC-IMAGE-BYTES-0123"
static uint8_t IMG[200];
static float TMPL[192];

/* Names and free text that must not appear in the report. */
static const char *const SECRETS[] = {
    "Zed Alpha", "Yan Beta", "Xia Gamma", "Wu Delta", "Vic Epsilon", "REF-1", "REF-3",
    "John Bystander", "Jane Public", "secret@", "looks like him", "rtsp://", "custody image",
    "burglary", "at the gate", IMG_MARKER,
};

static void tmp_begin(void) {
    snprintf(dir, sizeof dir, "/tmp/lfr_report_XXXXXX");
    if (!mkdtemp(dir)) perror("mkdtemp");
    snprintf(dbp, sizeof dbp, "%s/openlfr.db", dir);
    snprintf(keyp, sizeof keyp, "%s/openlfr.sign", dir);
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

/* "a.b.c" of a JSON object */
static json_t *J(json_t *root, const char *path) {
    json_t *v = root;
    char key[64];
    const char *p = path;
    while (v && *p) {
        size_t n = strcspn(p, ".");
        memcpy(key, p, n);
        key[n] = 0;
        v = isdigit((unsigned char)key[0]) && json_is_array(v) ? json_array_get(v, (size_t)atoi(key))
                                                                 : json_object_get(v, key);
        p += n + (p[n] == '.');
    }
    if (!v) fprintf(stderr, "  no field %s\n", path);
    return v;
}
#define CHECK_J_INT(root, path, want)                                          \
    do {                                                                       \
        json_t *v_ = J(root, path);                                            \
        CHECK(json_is_integer(v_));                                            \
        if (json_is_integer(v_)) CHECK_EQ_INT(json_integer_value(v_), want);   \
    } while (0)
#define CHECK_J_NUM(root, path, want, tol)                                     \
    do {                                                                       \
        json_t *v_ = J(root, path);                                            \
        CHECK(json_is_number(v_));                                             \
        if (json_is_number(v_)) CHECK_NEAR(json_number_value(v_), want, tol);  \
    } while (0)
#define CHECK_J_STR(root, path, want)                                          \
    do {                                                                       \
        json_t *v_ = J(root, path);                                            \
        const char *s_ = json_string_value(v_);                                \
        if (!s_ || strcmp(s_, want)) fprintf(stderr, "  %s = %s, want %s\n", path, s_ ? s_ : "(not a string)", want); \
        CHECK(s_ && !strcmp(s_, want));                                        \
    } while (0)
#define CHECK_J_NULL(root, path) CHECK(json_is_null(J(root, path)))
#define CHECK_J_BOOL(root, path, want) CHECK(json_is_boolean(J(root, path)) && json_is_true(J(root, path)) == (want))

static int contains(const uint8_t *buf, size_t n, const char *needle) {
    size_t m = strlen(needle);
    for (size_t i = 0; m && i + m <= n; i++)
        if (!memcmp(buf + i, needle, m)) return 1;
    return 0;
}

static size_t count_of(const uint8_t *buf, size_t n, const char *needle) {
    size_t m = strlen(needle), c = 0;
    for (size_t i = 0; m && i + m <= n; i++)
        if (!memcmp(buf + i, needle, m)) c++;
    return c;
}

typedef struct world {
    int64_t d, e[6], alerts[7];
    int64_t t0, t_end;
    lfr_audit_sign_key key;
} world;

static int64_t entry(lfr_store *s, int64_t d, const char *ref, const char *name,
                     lfr_watchlist_category cat, int under18, const char *warnings) {
    lfr_watchlist_entry e = {ref, name, cat, cat == LFR_WATCHLIST_OTHER ? "witness" : NULL,
                             "burglary", "custody image", "2024-03-04", under18,
                             under18 ? "missing child at risk, authorised by the duty inspector" : NULL};
    lfr_entry_warnings w = {warnings, "only recent photo"};
    int64_t id = 0;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_deploy_entry_add_warned(s, d, &e, warnings ? &w : NULL, IMG, sizeof IMG, TMPL,
                                             192, &ALICE, &id, &err), LFR_OK);
    if (err.msg[0]) fprintf(stderr, "  entry: %s\n", err.msg);
    return id;
}

static int64_t alert(lfr_store *s, world *w, int64_t at, int64_t e, const char *cam, int image) {
    fake_now = w->t0 + at;
    /* REF-1 holds two photos: its alerts come from their mean */
    lfr_alert a = {cam, e, 0.9f, image ? IMG : NULL, image ? sizeof IMG : 0, 0, NULL, 0,
                   e == w->e[1] ? 2 : 1};
    int64_t id = 0;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_deploy_alert_record(s, w->d, &a, &CAM, &id, &err), LFR_OK);
    return id;
}

static void follow(lfr_store *s, int64_t al, int confirm, int outcome) {
    lfr_err err = {{0}};
    fake_now += 30;
    CHECK_STATUS(lfr_deploy_alert_decide(s, al, confirm, "looks like him", &ALICE, &err), LFR_OK);
    if (!confirm || outcome < 0) return;
    int64_t dev = 11;
    CHECK_STATUS(lfr_deploy_alert_dispatch(s, al, &dev, 1, 0, &ALICE, &err), LFR_OK);
    fake_now += 60;
    CHECK_STATUS(lfr_deploy_alert_outcome(s, al, (lfr_alert_outcome)outcome, "at the gate", &DANA,
                                          &err), LFR_OK);
}

static void check(lfr_store *s, world *w, int64_t at, const char *reason, int64_t e,
                  lfr_photo_check_result res, int64_t device, const lfr_actor *by) {
    fake_now = w->t0 + at;
    lfr_photo_check c = {reason, e > 0, e, e > 0 ? 0.8f : 0, e > 0 ? IMG : NULL,
                         e > 0 ? sizeof IMG : 0, device, e > 0 ? LFR_PHOTO_CHECK_NO_MATCH : res};
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_deploy_photo_check_record(s, w->d, &c, by, NULL, &err), LFR_OK);
    if (err.msg[0]) fprintf(stderr, "  check: %s\n", err.msg);
}

static void checkpoint(lfr_store *s, world *w, const char *why) {
    lfr_audit_checkpoint c;
    lfr_err err = {{0}};
    lfr_actor a = {"Ada Auditor", LFR_ROLE_AUDITOR};
    CHECK_STATUS(lfr_audit_checkpoint_make(s, &w->key, &a, why, w->d, &c, &err), LFR_OK);
    if (err.msg[0]) fprintf(stderr, "  checkpoint: %s\n", err.msg);
}

static void amend(lfr_store *s, int64_t d, float thr, int64_t remove, const lfr_actor *auth) {
    lfr_deploy_amendment am = {"fewer false alerts overall", thr > 0, thr, remove, 0};
    if (remove) am.reason = "arrested this morning";
    int64_t id = 0;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_deploy_amend_propose(s, d, &am, &ALICE, &id, &err), LFR_OK);
    fake_now += 120;
    if (auth) CHECK_STATUS(lfr_deploy_amend_authorise(s, id, auth, &err), LFR_OK);
}

/* The deployment of the known events (the comments give each count). */
static lfr_store *build(world *w) {
    memset(w, 0, sizeof *w);
    fake_now = 1750000000;
    lfr_store *s = open_store();
    if (!s) return NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_audit_sign_key_load(keyp, 1, &w->key, NULL, &err), LFR_OK);
    lfr_deploy_params p = {.name = "Match day", .location = "Stadium north gate",
                           .purpose = "locate wanted offenders", .legal_basis = "common law + PACE",
                           .planned_start = fake_now - 60, .planned_end = fake_now + 8 * 3600,
                           .threshold = 0.62f, .cameras = "north, south"};
    CHECK_STATUS(lfr_deploy_create(s, &p, &ALICE, &w->d, &err), LFR_OK);
    int64_t d = w->d;
    /* 5 entries added, one removed in draft; E1 has a second image */
    w->e[1] = entry(s, d, "REF-1", "Zed Alpha", LFR_WATCHLIST_WANTED_ON_WARRANT, 0, NULL);
    w->e[2] = entry(s, d, "REF-2", "Yan Beta", LFR_WATCHLIST_WANTED_FOR_OFFENCE, 0, NULL);
    w->e[3] = entry(s, d, "REF-3", "Xia Gamma", LFR_WATCHLIST_MISSING, 1, NULL);
    w->e[4] = entry(s, d, "REF-4", "Wu Delta", LFR_WATCHLIST_VULNERABLE, 0,
                    "[{\"kind\":\"blur\",\"value\":40.1,\"cutoff\":60},"
                    "{\"kind\":\"yaw\",\"value\":31.2,\"cutoff\":25}]");
    w->e[5] = entry(s, d, "REF-5", "Vic Epsilon", LFR_WATCHLIST_OTHER, 0, NULL);
    CHECK_STATUS(lfr_deploy_entry_image_add(s, w->e[1], IMG, sizeof IMG, TMPL, 192, &ALICE, NULL,
                                            &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_entry_remove(s, w->e[5], &ALICE, "not needed", &err), LFR_OK);
    int64_t cam = 0;
    CHECK_STATUS(lfr_deploy_camera_add(s, d, "north", "rtsp://user:secret@10.0.0.1/s", &ALICE,
                                       &cam, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_camera_add(s, d, "south", "rtsp://user:secret@10.0.0.2/s", &ALICE,
                                       &cam, &err), LFR_OK);
    fake_now += 600;
    CHECK_STATUS(lfr_deploy_authorise(s, d, &BOB, &err), LFR_OK);
    checkpoint(s, w, "deployment.authorise");
    fake_now += 600;
    w->t0 = fake_now;
    CHECK_STATUS(lfr_deploy_start(s, d, &BOB, &err), LFR_OK);
    /* checks: c1 matched E3 before any alert on E3 (not alerted) */
    check(s, w, 5 * 60, "matches_description", w->e[3], 0, 11, &DANA);
    /* 6 alerts: north 4, south 2; confirmed 4, rejected 1, undecided 1 */
    w->alerts[1] = alert(s, w, 10 * 60, w->e[1], "north", 1);
    follow(s, w->alerts[1], 1, LFR_ALERT_OUTCOME_ARRESTED);
    w->alerts[2] = alert(s, w, 20 * 60, w->e[1], "north", 1);
    follow(s, w->alerts[2], 1, LFR_ALERT_OUTCOME_ENGAGED);
    /* c2 matched E1, already alerted on; c3 no match; c4, c5 not searched */
    check(s, w, 30 * 60, "intelligence", w->e[1], 0, 11, &DANA);
    check(s, w, 40 * 60, "behaviour", 0, LFR_PHOTO_CHECK_NO_MATCH, 12, &EVE);
    check(s, w, 50 * 60, "other: looked like John Bystander", 0, LFR_PHOTO_CHECK_NO_FACE, 0, &ALICE);
    check(s, w, 60 * 60, "Suspicious near Jane Public", 0, LFR_PHOTO_CHECK_UNREADABLE, 12, &EVE);
    w->alerts[3] = alert(s, w, 70 * 60, w->e[3], "south", 1);
    follow(s, w->alerts[3], 1, LFR_ALERT_OUTCOME_MISTAKEN_IDENTITY);
    w->alerts[4] = alert(s, w, 80 * 60, w->e[4], "south", 0);
    follow(s, w->alerts[4], 0, -1);
    /* amendments: threshold 0.66 (Carol), remove E2 (Bob), one left pending */
    fake_now = w->t0 + 90 * 60;
    amend(s, d, 0.66f, 0, &CAROL);
    amend(s, d, 0, w->e[2], &BOB);
    amend(s, d, 0.70f, 0, NULL);
    w->alerts[5] = alert(s, w, 130 * 60, w->e[1], "north", 0);
    follow(s, w->alerts[5], 1, LFR_ALERT_OUTCOME_NO_FURTHER_ACTION);
    w->alerts[6] = alert(s, w, 140 * 60, w->e[4], "north", 0);
    fake_now = w->t_end = w->t0 + 240 * 60;
    CHECK_STATUS(lfr_deploy_end(s, d, &BOB, NULL, &err), LFR_OK);
    checkpoint(s, w, "deployment.end");
    return s;
}

/* Every number of the activity, checks and threshold sections (the same
 * before and after retention). */
static void check_activity(json_t *r, const world *w) {
    CHECK_J_NULL(r, "activity.faces_seen");
    CHECK_J_NULL(r, "activity.tracks");
    CHECK(json_is_string(J(r, "activity.faces_seen_note")));
    CHECK_J_INT(r, "activity.alerts", 6);
    CHECK_J_INT(r, "activity.confirmed", 4);
    CHECK_J_INT(r, "activity.rejected", 1);
    CHECK_J_INT(r, "activity.undecided", 1);
    CHECK_J_INT(r, "activity.dispatched", 4);
    CHECK_J_INT(r, "activity.outcomes.engaged", 1);
    CHECK_J_INT(r, "activity.outcomes.arrested", 1);
    CHECK_J_INT(r, "activity.outcomes.no_further_action", 1);
    CHECK_J_INT(r, "activity.outcomes.mistaken_identity", 1);
    CHECK_J_INT(r, "activity.false_alerts", 2);
    CHECK_J_NUM(r, "activity.false_alerts_per_alert", 2.0 / 6, 1e-6);
    CHECK_J_NULL(r, "activity.false_alerts_per_face_seen");
    CHECK_EQ_INT(json_object_size(J(r, "activity.alerts_by_camera")), 2);
    CHECK_J_INT(r, "activity.alerts_by_camera.north", 4);
    CHECK_J_INT(r, "activity.alerts_by_camera.south", 2);
    /* REF-1's three alerts (all confirmed, no mistaken identity) came from
     * the mean of its two photos; the other three from one photo, two of
     * them false (rejected; mistaken identity) */
    CHECK_J_INT(r, "activity.alerts_by_watchlist_template.mean_of_photos.alerts", 3);
    CHECK_J_INT(r, "activity.alerts_by_watchlist_template.mean_of_photos.false_alerts", 0);
    CHECK_J_INT(r, "activity.alerts_by_watchlist_template.one_photo.alerts", 3);
    CHECK_J_INT(r, "activity.alerts_by_watchlist_template.one_photo.false_alerts", 2);
    CHECK_J_INT(r, "activity.alerts_by_watchlist_template.not_recorded.alerts", 0);
    /* 4 hours: 48 bars of 5 minutes from the start; alerts at 10, 20, 70,
     * 80, 130 and 140 minutes */
    CHECK_J_INT(r, "activity.alerts_over_time.start", w->t0);
    CHECK_J_INT(r, "activity.alerts_over_time.bucket_seconds", 300);
    json_t *c = J(r, "activity.alerts_over_time.counts");
    CHECK_EQ_INT(json_array_size(c), 48);
    int64_t want[48] = {0};
    want[2] = want[4] = want[14] = want[16] = want[26] = want[28] = 1;
    for (size_t i = 0; i < json_array_size(c) && i < 48; i++)
        CHECK_EQ_INT(json_integer_value(json_array_get(c, i)), want[i]);

    CHECK_J_INT(r, "photo_checks.checks", 5);
    CHECK_J_INT(r, "photo_checks.by_reason.matches_description", 1);
    CHECK_J_INT(r, "photo_checks.by_reason.intelligence", 1);
    CHECK_J_INT(r, "photo_checks.by_reason.behaviour", 1);
    CHECK_J_INT(r, "photo_checks.by_reason.other", 2);
    CHECK_EQ_INT(json_object_size(J(r, "photo_checks.by_reason")), 4);
    CHECK_J_INT(r, "photo_checks.by_result.match", 2);
    CHECK_J_INT(r, "photo_checks.by_result.no_match", 1);
    CHECK_J_INT(r, "photo_checks.by_result.no_face", 1);
    CHECK_J_INT(r, "photo_checks.by_result.unreadable", 1);
    CHECK_J_INT(r, "photo_checks.matched", 2);
    CHECK_J_INT(r, "photo_checks.matched_not_alerted_by_camera", 1);
    CHECK_J_INT(r, "photo_checks.officers", 3);
    CHECK_J_INT(r, "photo_checks.devices", 2);
    CHECK_J_INT(r, "photo_checks.from_cli", 1);

    /* threshold: 0.66 after the amendment, for the 3 templates a face is
     * compared with (3 entries left, one normalised mean each; 4 images),
     * the entry of two photos counted as its mean's weight (docs/likeness.md,
     * "Entries with several photos") */
    lfr_match_threshold_meaning m;
    double w2 = lfr_match_cal_entry_weight(lfr_match_calibration_named("mfn192"), 2);
    size_t counted = (size_t)ceil(2 + w2 - 1e-9);
    CHECK(w2 > 1.5 && counted > 3);
    lfr_match_threshold_info(0.66f, counted, &m);
    CHECK_J_NUM(r, "threshold.value", 0.66, 1e-6);
    CHECK_J_INT(r, "threshold.templates", 3);
    CHECK_J_INT(r, "watchlist.entries_with_several_photos", 1);
    CHECK_J_INT(r, "threshold.comparisons_counted", (long long)counted);
    CHECK_J_NUM(r, "threshold.likeness", m.likeness, 0.051);
    CHECK_J_NUM(r, "threshold.false_match_rate", m.fmr, m.fmr * 1e-5);
    CHECK_J_NUM(r, "threshold.fpir", m.fpir, m.fpir * 1e-5);
    CHECK_J_NUM(r, "threshold.expected_false_alerts_per_10k_faces", m.false_alerts_per_10k,
                m.false_alerts_per_10k * 1e-5);
    CHECK_J_NUM(r, "threshold.share_found_lfw", m.tar, 1e-6);
    CHECK_J_BOOL(r, "threshold.extrapolated", m.extrapolated != 0);
    if (m.worst_name) {
        CHECK_J_STR(r, "threshold.worst_group", m.worst_name);
        CHECK_J_NUM(r, "threshold.worst_group_false_alerts_per_10k_faces",
                    m.worst_false_alerts_per_10k, m.worst_false_alerts_per_10k * 1e-5);
    }
    CHECK_J_NUM(r, "threshold.at_authorisation", 0.62, 1e-6);
    CHECK_J_NULL(r, "threshold.target_false_alerts_per_10k_faces");
    json_t *am = J(r, "threshold.amendments");
    CHECK_EQ_INT(json_array_size(am), 3);
    CHECK_J_NUM(r, "threshold.amendments.0.new_threshold", 0.66, 1e-6);
    CHECK_J_STR(r, "threshold.amendments.0.proposed_by", "PC 101 Alice");
    CHECK_J_STR(r, "threshold.amendments.0.authorised_by", "Insp Carol");
    CHECK_J_STR(r, "threshold.amendments.0.reason", "fewer false alerts overall");
    CHECK_J_INT(r, "threshold.amendments.0.proposed_at", w->t0 + 90 * 60);
    CHECK_J_INT(r, "threshold.amendments.0.authorised_at", w->t0 + 90 * 60 + 120);
    CHECK_J_NULL(r, "threshold.amendments.0.removes_entry_of_category");
    lfr_match_threshold_info(0.66f, 4, &m);
    CHECK_J_NUM(r, "threshold.amendments.0.new_threshold_meaning.likeness", m.likeness, 0.051);
    CHECK_J_NULL(r, "threshold.amendments.1.new_threshold");
    CHECK_J_STR(r, "threshold.amendments.1.removes_entry_of_category", "wanted_for_offence");
    CHECK_J_STR(r, "threshold.amendments.1.authorised_by", "Supt Bob");
    CHECK_J_NUM(r, "threshold.amendments.2.new_threshold", 0.70, 1e-6);
    CHECK_J_NULL(r, "threshold.amendments.2.authorised_by");
    CHECK_J_NULL(r, "threshold.amendments.2.authorised_at");
}

static void check_deployment(json_t *r, const world *w, const char *state) {
    CHECK_J_STR(r, "schema", LFR_REPORT_SCHEMA);
    CHECK_J_INT(r, "deployment.id", w->d);
    CHECK_J_STR(r, "deployment.name", "Match day");
    CHECK_J_STR(r, "deployment.location", "Stadium north gate");
    CHECK_J_STR(r, "deployment.purpose", "locate wanted offenders");
    CHECK_J_STR(r, "deployment.legal_basis", "common law + PACE");
    CHECK_J_STR(r, "deployment.state", state);
    CHECK_J_INT(r, "deployment.planned_start", 1750000000 - 60);
    CHECK_J_INT(r, "deployment.planned_end", 1750000000 + 8 * 3600);
    CHECK_J_INT(r, "deployment.started_at", w->t0);
    CHECK_J_INT(r, "deployment.ended_at", w->t_end);
    CHECK_J_STR(r, "deployment.created_by", "PC 101 Alice");
    CHECK_J_INT(r, "deployment.created_at", 1750000000);
    CHECK_J_STR(r, "deployment.authorised_by", "Supt Bob");
    CHECK_J_INT(r, "deployment.authorised_at", w->t0 - 600);
    CHECK_J_STR(r, "deployment.started_by", "Supt Bob");
    CHECK_J_STR(r, "deployment.ended_by", "Supt Bob");
    CHECK_EQ_INT(json_array_size(J(r, "deployment.cameras_planned")), 2);
    CHECK_J_STR(r, "deployment.cameras_planned.1", "south");
    CHECK_EQ_INT(json_array_size(J(r, "deployment.cameras_added")), 2);
    CHECK_J_STR(r, "deployment.cameras_added.0", "north");
    CHECK_J_INT(r, "deployment.cameras_removed", 0);

    CHECK_J_INT(r, "watchlist.entries", 3);
    CHECK_J_INT(r, "watchlist.images", 4);
    CHECK_J_INT(r, "watchlist.entries_added", 5);
    CHECK_J_INT(r, "watchlist.entries_removed_in_draft", 1);
    CHECK_J_INT(r, "watchlist.entries_removed_by_amendment", 1);
    CHECK_EQ_INT(json_object_size(J(r, "watchlist.by_category")), 5);
    CHECK_J_INT(r, "watchlist.by_category.wanted_on_warrant", 1);
    CHECK_J_INT(r, "watchlist.by_category.wanted_for_offence", 0);
    CHECK_J_INT(r, "watchlist.by_category.missing", 1);
    CHECK_J_INT(r, "watchlist.by_category.vulnerable", 1);
    CHECK_J_INT(r, "watchlist.by_category.other", 0);
    CHECK_J_INT(r, "watchlist.under_18", 1);
    CHECK_J_INT(r, "watchlist.under_18_with_justification", 1);
    CHECK_J_INT(r, "watchlist.with_quality_warnings", 1);
    CHECK_EQ_INT(json_object_size(J(r, "watchlist.quality_warnings_by_kind")), 2);
    CHECK_J_INT(r, "watchlist.quality_warnings_by_kind.blur", 1);
    CHECK_J_INT(r, "watchlist.quality_warnings_by_kind.yaw", 1);
    CHECK_EQ_INT(strlen(json_string_value(J(r, "watchlist.digest_at_authorisation"))), 64);
    CHECK_J_INT(r, "watchlist.entries_authorised", 3); /* after the removal by amendment */
}

static void check_no_secrets(const uint8_t *buf, size_t n, const char *what) {
    for (size_t i = 0; i < sizeof SECRETS / sizeof SECRETS[0]; i++) {
        if (contains(buf, n, SECRETS[i])) fprintf(stderr, "  %s holds \"%s\"\n", what, SECRETS[i]);
        CHECK(!contains(buf, n, SECRETS[i]));
    }
}

static json_t *build_report(lfr_store *s, const world *w, const uint8_t *pk) {
    lfr_report_params p = {.deployment_id = w->d, .pubkey = pk, .pubkey_source = "test key"};
    json_t *r = NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_report_build(s, &p, &r, &err), LFR_OK);
    if (err.msg[0]) fprintf(stderr, "  report: %s\n", err.msg);
    return r;
}

static void test_known_events(void) {
    tmp_begin();
    world w;
    lfr_store *s = build(&w);
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err = {{0}};
    /* the report on the day (rows still held) */
    json_t *r1 = build_report(s, &w, w.key.pk);
    if (r1) {
        check_deployment(r1, &w, "ended");
        check_activity(r1, &w);
        CHECK_J_NULL(r1, "watchlist.deleted_at");
        CHECK_J_NULL(r1, "watchlist.deletion_receipt");
        CHECK_EQ_INT(json_array_size(J(r1, "deletions")), 0);
        CHECK_EQ_INT(json_array_size(J(r1, "integrity.checkpoints")), 2);
    }
    /* retention: the watchlist after 25 h, alerts and checks after 32 days */
    lfr_retention_rules rules;
    lfr_retention_rules_default(&rules);
    lfr_purge_report pr;
    fake_now = w.t_end + 25 * 3600;
    int64_t t_wl = fake_now;
    CHECK_STATUS(lfr_deploy_purge(s, fake_now, &rules, &pr, &err), LFR_OK);
    fake_now = w.t_end + 32 * 86400;
    int64_t t_rows = fake_now;
    CHECK_STATUS(lfr_deploy_purge(s, fake_now, &rules, &pr, &err), LFR_OK);
    checkpoint(s, &w, "on_demand");
    fake_now += 3600;
    json_t *r = build_report(s, &w, w.key.pk);
    if (!r) { json_decref(r1); lfr_store_close(s); tmp_end(); return; }
    check_deployment(r, &w, "purged");
    check_activity(r, &w);
    CHECK_J_INT(r, "generated_at", fake_now);
    /* the same numbers as on the day: the log is the source */
    if (r1) {
        CHECK(json_equal(J(r, "activity"), J(r1, "activity")));
        CHECK(json_equal(J(r, "photo_checks"), J(r1, "photo_checks")));
        CHECK(json_equal(J(r, "threshold"), J(r1, "threshold")));
    }
    CHECK_J_INT(r, "watchlist.deleted_at", t_wl);
    CHECK_J_STR(r, "watchlist.deletion_receipt.data_class", "watchlist");
    CHECK_J_INT(r, "watchlist.deletion_receipt.count", 3);
    CHECK_J_INT(r, "watchlist.deletion_receipt.image_count", 4);
    /* deletions: every receipt */
    json_t *del = J(r, "deletions");
    CHECK_EQ_INT(json_array_size(del), 3);
    CHECK_J_STR(r, "deletions.0.data_class", "watchlist");
    CHECK_J_INT(r, "deletions.0.count", 3);
    CHECK_J_INT(r, "deletions.0.image_count", 4);
    CHECK_J_STR(r, "deletions.0.rule", "watchlist_after_end");
    CHECK_J_INT(r, "deletions.0.rule_seconds", 24 * 3600);
    CHECK_J_INT(r, "deletions.0.at", t_wl);
    CHECK_J_STR(r, "deletions.1.data_class", "alerts");
    CHECK_J_INT(r, "deletions.1.count", 6);
    CHECK_J_INT(r, "deletions.1.image_count", 3);
    CHECK_J_STR(r, "deletions.1.rule", "alert_retention");
    CHECK_J_INT(r, "deletions.1.rule_seconds", 31 * 86400);
    CHECK_J_INT(r, "deletions.1.at", t_rows);
    CHECK_J_STR(r, "deletions.2.data_class", "photo_checks");
    CHECK_J_INT(r, "deletions.2.count", 5);
    CHECK_J_INT(r, "deletions.2.image_count", 2);
    CHECK_J_STR(r, "deletions.2.rule", "photo_check_retention");
    CHECK(json_integer_value(J(r, "deletions.0.seq")) < json_integer_value(J(r, "deletions.1.seq")));
    /* integrity */
    CHECK_J_BOOL(r, "integrity.chain.ok", 1);
    int64_t records = 0;
    lfr_store_query_int64(s, "SELECT count(*) FROM audit_log", 0, 0, 0, &records, NULL);
    CHECK_J_INT(r, "integrity.chain.records", records);
    CHECK_J_INT(r, "integrity.chain.head_seq", records);
    CHECK_J_NULL(r, "integrity.chain.bad_seq");
    CHECK_J_BOOL(r, "integrity.deployment_rows.ok", 1);
    char pk[65];
    lfr_audit_pubkey_hex(w.key.pk, pk);
    CHECK_J_STR(r, "integrity.pubkey", pk);
    CHECK_J_STR(r, "integrity.pubkey_source", "test key");
    json_t *cps = J(r, "integrity.checkpoints");
    CHECK_EQ_INT(json_array_size(cps), 3);
    CHECK_J_STR(r, "integrity.checkpoints.0.reason_made", "deployment.authorise");
    CHECK_J_STR(r, "integrity.checkpoints.1.reason_made", "deployment.end");
    CHECK_J_STR(r, "integrity.checkpoints.2.reason_made", "on_demand");
    for (size_t i = 0; i < json_array_size(cps); i++) {
        json_t *cp = json_array_get(cps, i);
        CHECK(json_is_true(json_object_get(cp, "ok")));
        CHECK(!strcmp(json_string_value(json_object_get(cp, "pubkey")), pk));
        /* the record that made it follows the last one it vouches for */
        CHECK_EQ_INT(json_integer_value(json_object_get(cp, "record_seq")),
                     json_integer_value(json_object_get(cp, "seq")) + 1);
    }
    CHECK_J_INT(r, "integrity.checkpoints_not_verified", 0);
    /* nothing of the people in the JSON */
    uint8_t *out = NULL;
    size_t n = 0;
    CHECK_STATUS(lfr_report_render(r, LFR_REPORT_FORMAT_JSON, &out, &n, &err), LFR_OK);
    if (out) {
        check_no_secrets(out, n, "JSON");
        /* the JSON rendering reads back as the same object */
        json_t *back = json_loadb((const char *)out, n, 0, NULL);
        CHECK(back && json_equal(back, r));
        json_decref(back);
        if (getenv("REPORT_OUT")) { /* tests/test_report.sh checks it against the schema */
            char p[512];
            snprintf(p, sizeof p, "%s/report.json", getenv("REPORT_OUT"));
            FILE *f = fopen(p, "wb");
            if (f) { fwrite(out, 1, n, f); fclose(f); }
        }
    }
    lfr_free(out);
    json_decref(r1);
    json_decref(r);
    lfr_audit_sign_key_wipe(&w.key);
    lfr_store_close(s);
    tmp_end();
}

static void test_render(void) {
    tmp_begin();
    world w;
    lfr_store *s = build(&w);
    if (!s) { CHECK(0); tmp_end(); return; }
    json_t *r = build_report(s, &w, w.key.pk);
    lfr_err err = {{0}};
    uint8_t *html = NULL, *pdf = NULL;
    size_t hn = 0, pn = 0;
    CHECK_STATUS(lfr_report_render(r, LFR_REPORT_FORMAT_HTML, &html, &hn, &err), LFR_OK);
    if (err.msg[0]) fprintf(stderr, "  html: %s\n", err.msg);
    if (html) {
        CHECK(hn > 1000 && !memcmp(html, "<!DOCTYPE html>", 15));
        CHECK_EQ_INT(count_of(html, hn, "<svg"), 3);
        CHECK_EQ_INT(count_of(html, hn, "role=\"img\""), 3);
        CHECK(contains(html, hn, "<title id=\"alerts-over-time-title\">Bar chart, Alerts over time"));
        CHECK(contains(html, hn, "<title id=\"outcomes-title\">Bar chart, Outcomes of dispatched "
                                 "alerts: engaged 1; arrested 1; no further action 1; mistaken "
                                 "identity 1"));
        CHECK(contains(html, hn, "<title id=\"checks-by-reason-title\">Bar chart, Photo checks by "
                                 "reason: matches description 1; intelligence 1; behaviour 1; "
                                 "other 2"));
        CHECK(contains(html, hn, "@media print"));
        CHECK(contains(html, hn, "<caption>Composition by category</caption>"));
        CHECK(contains(html, hn, "<th scope=\"row\">Alerts</th><td class=\"num\">6</td>"));
        CHECK(contains(html, hn, "<th scope=\"row\">False alerts per alert</th><td class=\"num\">0.333333</td>"));
        CHECK(contains(html, hn, "<th scope=\"row\">Alerts against the mean of an entry&#39;s photos</th>"
                                 "<td>3 (0 false)</td>"));
        CHECK(contains(html, hn, "<th scope=\"row\">Alerts against an entry&#39;s one photo</th>"
                                 "<td>3 (2 false)</td>"));
        CHECK(!contains(html, hn, "not recorded</th>")); /* no such alerts: no row */
        CHECK(contains(html, hn, "<th scope=\"row\">Authorising officer</th><td>Supt Bob</td>"));
        CHECK(contains(html, hn, "<th scope=\"row\">Matched someone no camera had alerted on before "
                                 "the check</th><td class=\"num\">1</td>"));
        CHECK(contains(html, hn, "PASS"));
        CHECK(!contains(html, hn, "FAIL"));
        CHECK(!contains(html, hn, "<script"));
        CHECK(!contains(html, hn, "<img"));
        check_no_secrets(html, hn, "HTML");
        if (getenv("REPORT_OUT")) {
            char p[512];
            snprintf(p, sizeof p, "%s/report.html", getenv("REPORT_OUT"));
            FILE *f = fopen(p, "wb");
            if (f) { fwrite(html, 1, hn, f); fclose(f); }
        }
    }
    CHECK_STATUS(lfr_report_render(r, LFR_REPORT_FORMAT_PDF, &pdf, &pn, &err), LFR_OK);
    if (err.msg[0]) fprintf(stderr, "  pdf: %s\n", err.msg);
    if (pdf) {
        CHECK(pn > 5000 && !memcmp(pdf, "%PDF-", 5));
        size_t pages = count_of(pdf, pn, "/Type /Page") - count_of(pdf, pn, "/Type /Pages");
        if (pages < 3) fprintf(stderr, "  %zu pages\n", pages);
        CHECK(pages >= 3);
        CHECK(contains(pdf, pn, "%%EOF"));
        check_no_secrets(pdf, pn, "PDF");
        if (getenv("REPORT_OUT")) {
            char p[512];
            snprintf(p, sizeof p, "%s/report.pdf", getenv("REPORT_OUT"));
            FILE *f = fopen(p, "wb");
            if (f) { fwrite(pdf, 1, pn, f); fclose(f); }
        }
    }
    lfr_free(html);
    lfr_free(pdf);
    /* not a report: refused, naming the field */
    json_t *bad = json_pack("{s:s}", "schema", LFR_REPORT_SCHEMA);
    uint8_t *o = NULL;
    size_t on = 0;
    memset(&err, 0, sizeof err);
    CHECK_STATUS(lfr_report_render(bad, LFR_REPORT_FORMAT_HTML, &o, &on, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "deployment.name") != NULL);
    json_object_set_new(bad, "schema", json_string("something else"));
    CHECK_STATUS(lfr_report_render(bad, LFR_REPORT_FORMAT_PDF, &o, &on, &err), LFR_ERR_INVALID_ARG);
    CHECK(o == NULL);
    json_decref(bad);
    lfr_report_format f;
    CHECK_STATUS(lfr_report_format_parse("pdf", &f, &err), LFR_OK);
    CHECK_EQ_INT(f, LFR_REPORT_FORMAT_PDF);
    CHECK_STATUS(lfr_report_format_parse("docx", &f, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "docx") != NULL);
    json_decref(r);
    lfr_audit_sign_key_wipe(&w.key);
    lfr_store_close(s);
    tmp_end();
}

/* An edited deployment row and a checkpoint signed by another key show in
 * the report's integrity section; an unknown deployment is refused. */
static void test_tamper(void) {
    tmp_begin();
    world w;
    lfr_store *s = build(&w);
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_store_exec(s, "UPDATE deployments SET authorised_by = 'Someone Else'", &err),
                 LFR_OK);
    uint8_t other[LFR_AUDIT_SIGN_PK_BYTES];
    memcpy(other, w.key.pk, sizeof other);
    other[0] ^= 1;
    json_t *r = build_report(s, &w, other);
    if (r) {
        CHECK_J_BOOL(r, "integrity.chain.ok", 1);
        CHECK_J_BOOL(r, "integrity.deployment_rows.ok", 0);
        CHECK(strstr(json_string_value(J(r, "integrity.deployment_rows.reason")), "authorised_by") != NULL);
        CHECK(json_is_integer(J(r, "integrity.deployment_rows.bad_seq")));
        CHECK_J_BOOL(r, "integrity.checkpoints.0.ok", 0);
        CHECK_J_STR(r, "integrity.checkpoints.0.status", "ERR_CORRUPT");
        uint8_t *html = NULL;
        size_t hn = 0;
        CHECK_STATUS(lfr_report_render(r, LFR_REPORT_FORMAT_HTML, &html, &hn, &err), LFR_OK);
        if (html) CHECK(contains(html, hn, "FAIL"));
        lfr_free(html);
    }
    json_decref(r);
    /* without a pinned key: each checkpoint's own, said so */
    r = build_report(s, &w, NULL);
    if (r) {
        CHECK_J_NULL(r, "integrity.pubkey");
        CHECK(strstr(json_string_value(J(r, "integrity.pubkey_source")), "not pinned") != NULL);
        CHECK_J_BOOL(r, "integrity.checkpoints.0.ok", 1);
    }
    json_decref(r);
    lfr_report_params p = {.deployment_id = w.d + 100};
    r = NULL;
    CHECK_STATUS(lfr_report_build(s, &p, &r, &err), LFR_ERR_NOT_FOUND);
    CHECK(r == NULL);
    lfr_audit_sign_key_wipe(&w.key);
    lfr_store_close(s);
    tmp_end();
}

/* A draft with nothing yet: a report all the same, with its nulls. */
static void test_empty(void) {
    tmp_begin();
    fake_now = 1750000000;
    lfr_store *s = open_store();
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_deploy_params p = {.name = "Empty", .location = "Nowhere", .purpose = "a test",
                           .legal_basis = "none", .planned_start = fake_now,
                           .planned_end = fake_now + 3600, .threshold = 0.7f, .cameras = ""};
    int64_t d = 0;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_deploy_create(s, &p, &ALICE, &d, &err), LFR_OK);
    lfr_report_params rp = {.deployment_id = d};
    json_t *r = NULL;
    CHECK_STATUS(lfr_report_build(s, &rp, &r, &err), LFR_OK);
    if (r) {
        CHECK_J_STR(r, "deployment.state", "draft");
        CHECK_J_NULL(r, "deployment.authorised_by");
        CHECK_J_NULL(r, "deployment.started_at");
        CHECK_J_INT(r, "watchlist.entries", 0);
        CHECK_J_INT(r, "activity.alerts", 0);
        CHECK_J_NULL(r, "activity.false_alerts_per_alert");
        CHECK_J_NULL(r, "activity.alerts_over_time.start");
        CHECK_EQ_INT(json_array_size(J(r, "activity.alerts_over_time.counts")), 0);
        CHECK_J_NULL(r, "threshold.at_authorisation");
        CHECK_EQ_INT(json_array_size(J(r, "deployment.cameras_planned")), 0);
        uint8_t *o = NULL;
        size_t n = 0;
        CHECK_STATUS(lfr_report_render(r, LFR_REPORT_FORMAT_HTML, &o, &n, &err), LFR_OK);
        if (o) CHECK(contains(o, n, "no data") && contains(o, n, "No amendment was proposed."));
        lfr_free(o);
        CHECK_STATUS(lfr_report_render(r, LFR_REPORT_FORMAT_PDF, &o, &n, &err), LFR_OK);
        lfr_free(o);
    }
    json_decref(r);
    lfr_store_close(s);
    tmp_end();
}

/* The console's operation report.deployment: the same report through the
 * app (auditor, admin), as JSON or as a file; other roles refused. */
static void test_console_op(void) {
    tmp_begin();
    world w;
    lfr_store *s = build(&w);
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_store_close(s);
    lfr_config cfg;
    lfr_config_defaults(&cfg);
    snprintf(cfg.db, sizeof cfg.db, "%s", dbp);
    cfg.store_connections = 1;
    cfg.face_contexts = 1;
    lfr_app_options o = {.no_face = 1, .no_pipelines = 1, .now = fake_clock};
    lfr_app *app = NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_app_open(&cfg, &o, &app, &err), LFR_OK);
    if (!app) { fprintf(stderr, "  app: %s\n", err.msg); lfr_audit_sign_key_wipe(&w.key); tmp_end(); return; }
    lfr_principal aud = {.login = "Ada Auditor", .roles = 1u << LFR_ROLE_AUDITOR};
    lfr_principal opr = {.login = "PC 101 Alice", .roles = 1u << LFR_ROLE_OPERATOR};
    json_t *args = json_pack("{s:I}", "deployment", (json_int_t)w.d);
    lfr_app_req req = {.op = LFR_OP_REPORT_DEPLOYMENT, .who = &aud, .args = args};
    lfr_app_res res = {0};
    CHECK_STATUS(lfr_app_call(app, &req, &res, &err), LFR_OK);
    if (res.body) {
        CHECK_J_STR(res.body, "schema", LFR_REPORT_SCHEMA);
        CHECK_J_INT(res.body, "activity.alerts", 6);
        char pk[65];
        lfr_audit_pubkey_hex(w.key.pk, pk);
        CHECK_J_STR(res.body, "integrity.pubkey", pk); /* the van's own key */
        CHECK_J_BOOL(res.body, "integrity.checkpoints.1.ok", 1);
    }
    CHECK(res.blob == NULL && res.audit_seq == 0);
    lfr_app_res_clear(&res);
    const char *fmts[] = {"html", "pdf"}, *types[] = {"text/html; charset=utf-8", "application/pdf"};
    for (int i = 0; i < 2; i++) {
        json_object_set_new(args, "format", json_string(fmts[i]));
        memset(&res, 0, sizeof res);
        CHECK_STATUS(lfr_app_call(app, &req, &res, &err), LFR_OK);
        CHECK(res.blob && res.blob_len > 1000);
        CHECK(res.blob_type && !strcmp(res.blob_type, types[i]));
        if (res.blob) check_no_secrets(res.blob, res.blob_len, fmts[i]);
        lfr_app_res_clear(&res);
    }
    json_object_set_new(args, "format", json_string("docx"));
    memset(&res, 0, sizeof res);
    CHECK_STATUS(lfr_app_call(app, &req, &res, &err), LFR_ERR_INVALID_ARG);
    lfr_app_res_clear(&res);
    json_object_del(args, "format");
    req.who = &opr;
    memset(&res, 0, sizeof res);
    CHECK_STATUS(lfr_app_call(app, &req, &res, &err), LFR_ERR_PERMISSION);
    lfr_app_res_clear(&res);
    json_decref(args);
    lfr_app_close(app);
    lfr_audit_sign_key_wipe(&w.key);
    tmp_end();
}

/* LeakSanitizer: fontconfig keeps the fonts pango matched in caches for the
 * life of the process (pango's default font map).  They are made once, not
 * per report: 76.6 kB after one PDF and HTML, 76.6 kB after five (measured
 * on this build), so they are not a leak of ours; only allocations made by
 * fontconfig itself are left out. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }

int main(void) {
    memset(IMG, 0x5a, sizeof IMG);
    IMG[0] = 0xff, IMG[1] = 0xd8, IMG[2] = 0xff;
    memcpy(IMG + 20, IMG_MARKER, strlen(IMG_MARKER));
    for (int i = 0; i < 192; i++) TMPL[i] = (i % 2 ? 1.0f : -1.0f) / 13.856406f;
    RUN(test_known_events);
    RUN(test_render);
    RUN(test_tamper);
    RUN(test_empty);
    RUN(test_console_op);
    return harness_done("report");
}
