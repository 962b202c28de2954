/*
 * test_events.c - the event hub (src/app/events.c, live_int.h).
 *
 *  - ids from 1 without gaps, data copied in and out;
 *  - 100 reader threads and one writer: every reader sees every id exactly
 *    once, in order, with the data that was published under it;
 *  - a reader that fell behind the ring is told (gap) and resumes at the
 *    oldest event kept; after = UINT64_MAX waits for new events only; ids
 *    of an earlier run (after > head) give a gap and the history;
 *  - wait times out with nothing; close wakes a blocked waiter at once;
 *  - the app.h wrappers (lfr_app_publish steals and serialises its JSON)
 *    through a stand-in for app.c's accessor;
 *  - the registry of live deployments (src/app/registry.c, no cameras):
 *    snapshot built at start, an authorised amendment (removal, threshold)
 *    visible to the next photo check at once, a watchlist changed behind
 *    the software's back refused (LFR_ERR_INTEGRITY, nothing served), an
 *    ended deployment dropped.
 * Run under ThreadSanitizer: make SANITIZE=thread build-tsan/tests/test_events
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "app/live_int.h"
#include "harness.h"

/* Stand-in for app.c: this binary links no app.o, so the accessor the
 * app.h wrappers call is defined here over a test hub. */
struct lfr_app {
    lfr_events *ev;
};
lfr_events *lfr_app_events(lfr_app *app) { return app->ev; }
struct lfr_registry *lfr_app_registry(lfr_app *app) { (void)app; return NULL; }

static double ms_since(uint64_t t0) { return (double)(lfr_now_ns() - t0) / 1e6; }

static void test_numbering_and_copies(void) {
    lfr_events *h = lfr_events_new(8);
    CHECK(h != NULL);
    CHECK_EQ_INT(lfr_events_head(h), 0);
    CHECK_EQ_INT(lfr_events_oldest(h), 0);
    char buf[32];
    snprintf(buf, sizeof buf, "{\"n\":1}");
    CHECK_EQ_INT(lfr_events_publish(h, "alert.new", 3, 7, 0, buf), 1);
    buf[5] = '9';   /* the hub kept its own copy */
    CHECK_EQ_INT(lfr_events_publish(h, "camera.state", 3, 0, 0, NULL), 2);
    CHECK_EQ_INT(lfr_events_head(h), 2);
    lfr_event ev[4];
    int gap = -1;
    size_t n = lfr_events_wait(h, 0, ev, 4, &gap, 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(gap, 0);
    CHECK_EQ_INT(ev[0].id, 1);
    CHECK(!strcmp(ev[0].type, "alert.new"));
    CHECK_EQ_INT(ev[0].deployment_id, 3);
    CHECK_EQ_INT(ev[0].alert_id, 7);
    CHECK(!strcmp(ev[0].data, "{\"n\":1}"));
    CHECK_EQ_INT(ev[1].id, 2);
    CHECK(!strcmp(ev[1].data, "{}"));
    /* A reader's copy outlives the hub's. */
    for (int i = 0; i < 20; i++) lfr_events_publish(h, "x", 0, 0, 0, "{\"big\":true}");
    CHECK(!strcmp(ev[0].data, "{\"n\":1}"));
    lfr_event_clear(&ev[0]);
    lfr_event_clear(&ev[1]);
    CHECK(ev[0].data == NULL);
    /* cap limits what one call returns. */
    n = lfr_events_wait(h, 20, ev, 2, &gap, 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(ev[0].id, 21);
    CHECK_EQ_INT(ev[1].id, 22);
    for (size_t i = 0; i < n; i++) lfr_event_clear(&ev[i]);
    lfr_events_free(h);
}

static void test_gap_after_overflow(void) {
    lfr_events *h = lfr_events_new(16);
    for (int i = 1; i <= 40; i++) {
        char d[32];
        snprintf(d, sizeof d, "{\"i\":%d}", i);
        CHECK_EQ_INT(lfr_events_publish(h, "t", 0, 0, 0, d), (uint64_t)i);
    }
    CHECK_EQ_INT(lfr_events_oldest(h), 25);
    lfr_event ev[64];
    int gap = 0;
    /* A reader at 10 missed 11..24. */
    size_t n = lfr_events_wait(h, 10, ev, 64, &gap, 0);
    CHECK_EQ_INT(gap, 1);
    CHECK_EQ_INT(n, 16);
    CHECK_EQ_INT(ev[0].id, 25);
    CHECK(!strcmp(ev[0].data, "{\"i\":25}"));
    CHECK_EQ_INT(ev[15].id, 40);
    for (size_t i = 0; i < n; i++) lfr_event_clear(&ev[i]);
    /* Exactly at the edge: 24 seen, 25 is the oldest kept: no gap. */
    n = lfr_events_wait(h, 24, ev, 64, &gap, 0);
    CHECK_EQ_INT(gap, 0);
    CHECK_EQ_INT(n, 16);
    for (size_t i = 0; i < n; i++) lfr_event_clear(&ev[i]);
    /* Ids of an earlier run of the server: a gap and the history. */
    n = lfr_events_wait(h, 1000, ev, 64, &gap, 0);
    CHECK_EQ_INT(gap, 1);
    CHECK_EQ_INT(n, 16);
    CHECK_EQ_INT(ev[0].id, 25);
    for (size_t i = 0; i < n; i++) lfr_event_clear(&ev[i]);
    lfr_events_free(h);
}

static void test_timeout_and_from_now(void) {
    lfr_events *h = lfr_events_new(0);
    lfr_events_publish(h, "old", 0, 0, 0, NULL);
    lfr_event ev[4];
    int gap = 0;
    uint64_t t0 = lfr_now_ns();
    size_t n = lfr_events_wait(h, UINT64_MAX, ev, 4, &gap, 150);   /* "old" is not new */
    double ms = ms_since(t0);
    CHECK_EQ_INT(n, 0);
    CHECK(ms >= 140 && ms < 2000);
    t0 = lfr_now_ns();
    n = lfr_events_wait(h, 1, ev, 4, &gap, 0);   /* 0: do not wait */
    CHECK_EQ_INT(n, 0);
    CHECK(ms_since(t0) < 50);
    lfr_events_free(h);
}

typedef struct reader_arg {
    lfr_events *h;
    uint64_t total;
    uint64_t seen, dup_or_lost, bad_data, gaps;
} reader_arg;

static void *reader(void *p) {
    reader_arg *a = p;
    uint64_t last = 0;
    lfr_event ev[32];
    while (last < a->total) {
        int gap = 0;
        size_t n = lfr_events_wait(a->h, last, ev, 32, &gap, 5000);
        if (gap) a->gaps++;
        if (!n) break;   /* 5 s without an event: the writer is done or stuck */
        for (size_t i = 0; i < n; i++) {
            if (ev[i].id != last + 1) a->dup_or_lost++;
            char want[48];
            snprintf(want, sizeof want, "{\"seq\":%llu}", (unsigned long long)ev[i].id);
            if (strcmp(ev[i].data, want) || ev[i].alert_id != (int64_t)ev[i].id) a->bad_data++;
            last = ev[i].id;
            a->seen++;
            lfr_event_clear(&ev[i]);
        }
    }
    return NULL;
}

/* The ring holds every event, so a reader never has an excuse to miss one. */
static void test_many_readers(void) {
    enum { READERS = 100, EVENTS = 2000 };
    lfr_events *h = lfr_events_new(EVENTS);
    pthread_t th[READERS];
    reader_arg *a = calloc(READERS, sizeof *a);
    for (int i = 0; i < READERS; i++) {
        a[i].h = h;
        a[i].total = EVENTS;
        CHECK(pthread_create(&th[i], NULL, reader, &a[i]) == 0);
    }
    for (uint64_t id = 1; id <= EVENTS; id++) {
        char d[48];
        snprintf(d, sizeof d, "{\"seq\":%llu}", (unsigned long long)id);
        CHECK_EQ_INT(lfr_events_publish(h, "alert.new", 1, (int64_t)id, 0, d), id);
        if (id % 100 == 0) sched_yield();
    }
    uint64_t seen = 0, bad = 0, gaps = 0;
    for (int i = 0; i < READERS; i++) {
        pthread_join(th[i], NULL);
        seen += a[i].seen;
        bad += a[i].dup_or_lost + a[i].bad_data;
        gaps += a[i].gaps;
    }
    fprintf(stderr, "  %d readers x %d events: %llu seen, %llu wrong, %llu gaps\n", READERS,
            EVENTS, (unsigned long long)seen, (unsigned long long)bad, (unsigned long long)gaps);
    CHECK_EQ_INT(seen, (uint64_t)READERS * EVENTS);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(gaps, 0);
    free(a);
    lfr_events_free(h);
}

/* A ring smaller than the burst: readers that fall behind are told, and
 * what they do get is still in order, never duplicated. */
static void test_readers_behind_small_ring(void) {
    enum { READERS = 20, EVENTS = 3000 };
    lfr_events *h = lfr_events_new(64);
    pthread_t th[READERS];
    reader_arg a[READERS];
    memset(a, 0, sizeof a);
    for (int i = 0; i < READERS; i++) {
        a[i].h = h;
        a[i].total = EVENTS;
        pthread_create(&th[i], NULL, reader, &a[i]);
    }
    for (uint64_t id = 1; id <= EVENTS; id++) {
        char d[48];
        snprintf(d, sizeof d, "{\"seq\":%llu}", (unsigned long long)id);
        lfr_events_publish(h, "t", 0, (int64_t)id, 0, d);
    }
    int ok = 1;
    for (int i = 0; i < READERS; i++) {
        pthread_join(th[i], NULL);
        /* Every break in the sequence was announced as a gap. */
        if (a[i].dup_or_lost > a[i].gaps || a[i].bad_data) ok = 0;
        if (a[i].seen == 0) ok = 0;
    }
    CHECK(ok);
    lfr_events_free(h);
}

typedef struct closer_arg {
    lfr_events *h;
    size_t n;
    double ms;
} closer_arg;

static void *blocked_reader(void *p) {
    closer_arg *a = p;
    lfr_event ev[1];
    uint64_t t0 = lfr_now_ns();
    a->n = lfr_events_wait(a->h, UINT64_MAX, ev, 1, NULL, 10000);
    a->ms = ms_since(t0);
    return NULL;
}

static void test_close_wakes_waiters(void) {
    lfr_events *h = lfr_events_new(4);
    closer_arg a = {.h = h};
    pthread_t t;
    pthread_create(&t, NULL, blocked_reader, &a);
    struct timespec d = {0, 100 * 1000000L};
    nanosleep(&d, NULL);
    lfr_events_close(h);
    pthread_join(t, NULL);
    CHECK_EQ_INT(a.n, 0);
    CHECK(a.ms < 5000);
    lfr_events_publish(h, "late", 0, 0, 0, NULL);
    lfr_event ev[1];
    CHECK_EQ_INT(lfr_events_wait(h, 0, ev, 1, NULL, 1000), 0);
    lfr_events_free(h);
}

static void test_app_wrappers(void) {
    struct lfr_app app = {.ev = lfr_events_new(4)};
    CHECK_EQ_INT(lfr_app_events_head(&app), 0);
    lfr_app_publish(&app, "alert.decided", 5, 9, 0, json_pack("{s:s}", "decision", "confirmed"));
    lfr_app_publish(&app, "device.revoked", 5, 0, 12, NULL);
    CHECK_EQ_INT(lfr_app_events_head(&app), 2);
    lfr_event ev[2];
    int gap = 0;
    CHECK_EQ_INT(lfr_app_events_wait(&app, 0, ev, 2, &gap, 0), 2);
    CHECK(!strcmp(ev[0].data, "{\"decision\":\"confirmed\"}"));
    CHECK_EQ_INT(ev[1].device_id, 12);
    CHECK(!strcmp(ev[1].data, "{}"));
    lfr_event_clear(&ev[0]);
    lfr_event_clear(&ev[1]);
    lfr_events_free(app.ev);
}

/* Registry ------------------------------------------------------------------ */

static const lfr_actor CREATOR = {"PC 1 Smith", LFR_ROLE_OPERATOR};
static const lfr_actor AUTH = {"Supt 2 Jones", LFR_ROLE_AUTHORISER};

static void axis(float *v, int i) {
    memset(v, 0, LFR_FACE_EMB_DIM * sizeof(float));
    v[i] = 1;
}

static lfr_status amend(lfr_store *s, int64_t dep, int64_t remove_entry, float threshold) {
    lfr_deploy_amendment a = {.reason = "intelligence update", .remove_entry_id = remove_entry,
                              .set_threshold = threshold > 0, .threshold = threshold};
    int64_t aid = 0;
    lfr_err err = {{0}};
    lfr_status st = lfr_deploy_amend_propose(s, dep, &a, &CREATOR, &aid, &err);
    if (st == LFR_OK) st = lfr_deploy_amend_authorise(s, aid, &AUTH, &err);
    if (st != LFR_OK) fprintf(stderr, "  amend: %s\n", err.msg);
    return st;
}

typedef struct pub_log {
    pthread_mutex_t mu;
    int n;
} pub_log;

static void count_publish(void *ctx, const char *type, int64_t dep, int64_t alert, json_t *data) {
    (void)type, (void)dep, (void)alert;
    pub_log *l = ctx;
    pthread_mutex_lock(&l->mu);
    l->n++;
    pthread_mutex_unlock(&l->mu);
    json_decref(data);
}

static void test_registry_snapshots(void) {
    char dir[] = "/tmp/lfr_reg_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char db[300], cmd[400];
    snprintf(db, sizeof db, "%s/openlfr.db", dir);
    lfr_store_config sc = {.db_path = db};
    lfr_store *s = NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_store_open(&sc, &s, &err), LFR_OK);
    if (!s) return;
    lfr_deploy_params dp = {.name = "reg", .location = "lab", .purpose = "test",
                            .legal_basis = "test", .planned_start = 1000,
                            .planned_end = 4000000000, .threshold = 0.70f, .cameras = "cam"};
    int64_t dep = 0, e[3] = {0};
    CHECK_STATUS(lfr_deploy_create(s, &dp, &CREATOR, &dep, &err), LFR_OK);
    lfr_image px = {0};
    lfr_image_alloc(&px, 8, 8);
    uint8_t *png = NULL;
    size_t png_len = 0;
    lfr_image_encode_png(&px, &png, &png_len);
    lfr_image_free(&px);
    for (int i = 0; i < 3; i++) {
        float t[LFR_FACE_EMB_DIM];
        axis(t, i);
        char ref[16];
        snprintf(ref, sizeof ref, "REF-%d", i);
        lfr_watchlist_entry we = {.subject_ref = ref, .display_name = "Someone",
                                  .category = LFR_WATCHLIST_WANTED_ON_WARRANT, .reason = "test",
                                  .image_source = "test", .image_date = "2025-01-01"};
        CHECK_STATUS(lfr_deploy_entry_add(s, dep, &we, png, png_len, t, LFR_FACE_EMB_DIM, &CREATOR,
                                          &e[i], &err), LFR_OK);
    }
    lfr_free(png);
    CHECK_STATUS(lfr_deploy_authorise(s, dep, &AUTH, &err), LFR_OK);
    pub_log pl = {.n = 0};
    pthread_mutex_init(&pl.mu, NULL);
    lfr_registry_config rc = {.store = sc, .publish = count_publish, .publish_ctx = &pl};
    lfr_registry *r = NULL;
    CHECK_STATUS(lfr_registry_new(&rc, &r, &err), LFR_OK);
    lfr_pipeline_snapshot *snap = NULL;
    /* Authorised, not live: nothing to serve. */
    CHECK_STATUS(lfr_registry_changed(r, dep, &err), LFR_OK);
    CHECK_STATUS(lfr_registry_snapshot_get(r, dep, &snap, &err), LFR_ERR_NOT_FOUND);
    CHECK_STATUS(lfr_deploy_start(s, dep, &AUTH, &err), LFR_OK);
    CHECK_STATUS(lfr_registry_sync(r, s, &err), LFR_OK);
    CHECK_STATUS(lfr_registry_snapshot_get(r, dep, &snap, &err), LFR_OK);
    CHECK(snap && snap->n == 3 && snap->n_entries == 3);
    CHECK_NEAR(snap ? snap->threshold : 0, 0.70, 1e-6);
    lfr_pipeline_snapshot *held = snap;   /* a check in progress keeps its snapshot */
    /* Amendment: entry 0 removed, threshold 0.8: the next check sees it. */
    CHECK_STATUS(amend(s, dep, e[0], 0), LFR_OK);
    CHECK_STATUS(amend(s, dep, 0, 0.80f), LFR_OK);
    CHECK_STATUS(lfr_registry_changed(r, dep, &err), LFR_OK);
    CHECK_STATUS(lfr_registry_snapshot_get(r, dep, &snap, &err), LFR_OK);
    CHECK(snap && snap->n == 2 && !lfr_pipeline_snapshot_entry(snap, e[0]) &&
          lfr_pipeline_snapshot_entry(snap, e[1]));
    CHECK_NEAR(snap ? snap->threshold : 0, 0.80, 1e-6);
    CHECK(held->n == 3);
    lfr_pipeline_snapshot_unref(held);
    lfr_pipeline_snapshot_unref(snap);
    /* Behind the software's back: an image row copied in SQL. */
    snprintf(cmd, sizeof cmd, "%s", db);
    sqlite3 *h = NULL;
    sqlite3_open(cmd, &h);
    CHECK_EQ_INT(sqlite3_exec(h, "INSERT INTO entry_images(entry_id, image, template, template_dim,"
                              " added_at) SELECT entry_id, image, template, template_dim, added_at"
                              " FROM entry_images ORDER BY id DESC LIMIT 1", NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(h);
    CHECK_STATUS(lfr_registry_changed(r, dep, &err), LFR_ERR_INTEGRITY);
    CHECK_STATUS(lfr_registry_snapshot_get(r, dep, &snap, &err), LFR_ERR_NOT_FOUND);
    /* Ended: dropped (and stays dropped). */
    CHECK_STATUS(lfr_deploy_end(s, dep, &AUTH, "over", &err), LFR_OK);
    CHECK_STATUS(lfr_registry_changed(r, dep, &err), LFR_OK);
    CHECK_STATUS(lfr_registry_snapshot_get(r, dep, &snap, &err), LFR_ERR_NOT_FOUND);
    lfr_app_camera_stats cs[2];
    CHECK_EQ_INT(lfr_registry_cameras(r, cs, 2), 0);
    CHECK_EQ_INT(lfr_registry_alerts_lost(r), 0);
    lfr_registry_free(r);
    pthread_mutex_destroy(&pl.mu);
    lfr_store_close(s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "  cleanup failed\n");
}

int main(void) {
    RUN(test_numbering_and_copies);
    RUN(test_gap_after_overflow);
    RUN(test_timeout_and_from_now);
    RUN(test_many_readers);
    RUN(test_readers_behind_small_ring);
    RUN(test_close_wakes_waiters);
    RUN(test_app_wrappers);
    RUN(test_registry_snapshots);
    return harness_done("events");
}
