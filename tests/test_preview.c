/*
 * test_preview.c - the operator's live view of a camera (src/pipeline/
 * preview.c, lfr_pipeline_preview).
 *
 *  - nothing is kept while nobody watches; the first request arms it and
 *    is told "no frame yet"; the next analysed frame is kept;
 *  - the frame is downscaled to LFR_MAX_PREVIEW_SIDE, faces are boxed,
 *    a face whose track matched in the second colour;
 *  - at most one new frame per preview_ms (older requests get the same
 *    one), a new one afterwards;
 *  - when nobody has asked for LFR_PREVIEW_WATCH_S the kept frame is wiped;
 *  - through the pipeline (injected camera, live deployment, synthetic
 *    embeddings): lfr_pipeline_preview shows the matched face red, the
 *    other green; an unknown camera is LFR_ERR_NOT_FOUND.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "pipeline/pipeline.h"
#include "pipeline/preview_int.h"

enum { D = LFR_FACE_EMB_DIM };
static const uint64_t MS = 1000000ull;

static lfr_face face_at(float x, float y, float side) {
    lfr_face f;
    memset(&f, 0, sizeof f);
    f.box[0] = x, f.box[1] = y, f.box[2] = side, f.box[3] = side;
    float eye = side / 2.5f, cx = x + side / 2, cy = y + side * 0.44f;
    f.score = f.onet_score = 0.99f;
    f.q.eye_dist = eye;
    float lm[5][2] = {{cx - eye / 2, cy}, {cx + eye / 2, cy}, {cx, cy + eye * 0.5f},
                      {cx - eye * 0.4f, cy + eye}, {cx + eye * 0.4f, cy + eye}};
    memcpy(f.lm, lm, sizeof lm);
    return f;
}

/* Pixel (x, y) of a decoded JPEG is near colour c (JPEG noise allowed). */
static int near_colour(const lfr_image *im, int x, int y, const int c[3]) {
    const uint8_t *p = im->px + ((size_t)y * im->w + x) * 3;
    for (int k = 0; k < 3; k++)
        if (abs((int)p[k] - c[k]) > 60) return 0;
    return 1;
}
static const int GREEN[3] = {0, 220, 0}, RED[3] = {255, 30, 30}, GREY[3] = {128, 128, 128};

static void grey_frame(lfr_image *f, int w, int h) {
    lfr_image_alloc(f, w, h);
    memset(f->px, 128, (size_t)w * h * 3);
}

static void test_keeps_only_while_watched(void) {
    lfr_preview *v = lfr_preview_new(500);
    CHECK(v != NULL);
    if (!v) return;
    lfr_image f = {0};
    grey_frame(&f, 1920, 1080);
    lfr_face faces[2] = {face_at(200, 200, 200), face_at(1200, 400, 300)};
    unsigned char hit[2] = {0, 1};
    uint64_t t = 1000 * MS;
    lfr_err err = {{0}};
    uint8_t *jpeg = NULL;
    size_t len = 0;
    /* nobody watches: nothing kept, nothing to do */
    CHECK_EQ_INT(lfr_preview_wanted(v, t), 0);
    lfr_preview_offer(v, t, &f, faces, 2, hit);
    CHECK_STATUS(lfr_preview_get(v, t, &jpeg, &len, &err), LFR_ERR_NOT_FOUND);
    CHECK(strstr(err.msg, "no frame") != NULL);
    CHECK(jpeg == NULL);
    /* the request armed it: the next frame is kept */
    CHECK_EQ_INT(lfr_preview_wanted(v, t + 100 * MS), 1);
    lfr_preview_offer(v, t + 100 * MS, &f, faces, 2, hit);
    CHECK_STATUS(lfr_preview_get(v, t + 200 * MS, &jpeg, &len, &err), LFR_OK);
    lfr_image im = {0};
    if (jpeg) CHECK_STATUS(lfr_image_decode(jpeg, len, &im, &err), LFR_OK);
    CHECK_EQ_INT(im.w, LFR_MAX_PREVIEW_SIDE);
    CHECK_EQ_INT(im.h, 360);
    if (im.px) {
        /* scale 1/3: face 0 at (66.7, 66.7) 66.7 px, green; face 1 at
         * (400, 133.3) 100 px, red; middle of a box is the frame's grey */
        CHECK(near_colour(&im, 68, 100, GREEN));
        CHECK(near_colour(&im, 401, 180, RED));
        CHECK(near_colour(&im, 450, 183, GREY));
        CHECK(near_colour(&im, 20, 20, GREY));
    }
    lfr_image_free(&im);
    lfr_free(jpeg);
    /* within preview_ms: the same frame again (a moved face is not drawn) */
    lfr_face moved[1] = {face_at(900, 600, 150)};
    lfr_preview_offer(v, t + 300 * MS, &f, moved, 1, NULL);
    uint8_t *j2 = NULL;
    size_t l2 = 0;
    CHECK_STATUS(lfr_preview_get(v, t + 350 * MS, &j2, &l2, &err), LFR_OK);
    uint8_t *j1 = NULL;
    size_t l1 = 0;
    CHECK_STATUS(lfr_preview_get(v, t + 360 * MS, &j1, &l1, &err), LFR_OK);
    CHECK(l1 == l2 && j1 && j2 && memcmp(j1, j2, l1) == 0);
    lfr_free(j1);
    /* after preview_ms: the new frame */
    lfr_preview_offer(v, t + 700 * MS, &f, moved, 1, NULL);
    CHECK_STATUS(lfr_preview_get(v, t + 710 * MS, &j1, &l1, &err), LFR_OK);
    CHECK(!(l1 == l2 && j1 && j2 && memcmp(j1, j2, l1) == 0));
    if (j1 && lfr_image_decode(j1, l1, &im, &err) == LFR_OK) {
        CHECK(near_colour(&im, 301, 230, GREEN));   /* (900, 690)/3 */
        CHECK(near_colour(&im, 68, 100, GREY));     /* the old box is gone */
        lfr_image_free(&im);
    }
    lfr_free(j1);
    lfr_free(j2);
    /* nobody asks for LFR_PREVIEW_WATCH_S: the next offer wipes it */
    uint64_t later = t + 710 * MS + (uint64_t)LFR_PREVIEW_WATCH_S * 1000 * MS + MS;
    CHECK_EQ_INT(lfr_preview_wanted(v, later), 1);   /* a frame to wipe */
    lfr_preview_offer(v, later, &f, faces, 2, hit);
    CHECK_EQ_INT(lfr_preview_wanted(v, later + MS), 0);
    CHECK_STATUS(lfr_preview_get(v, later + 2 * MS, &jpeg, &len, &err), LFR_ERR_NOT_FOUND);
    lfr_image_free(&f);
    lfr_preview_free(v);
    lfr_preview_free(NULL);
}

static void test_small_frame_not_upscaled(void) {
    lfr_preview *v = lfr_preview_new(0);   /* default period */
    lfr_image f = {0};
    grey_frame(&f, 320, 240);
    lfr_err err = {{0}};
    uint8_t *jpeg = NULL;
    size_t len = 0;
    CHECK_STATUS(lfr_preview_get(v, 1, &jpeg, &len, &err), LFR_ERR_NOT_FOUND);
    lfr_preview_offer(v, 2, &f, NULL, 0, NULL);
    CHECK_STATUS(lfr_preview_get(v, 3, &jpeg, &len, &err), LFR_OK);
    lfr_image im = {0};
    if (jpeg && lfr_image_decode(jpeg, len, &im, &err) == LFR_OK) {
        CHECK_EQ_INT(im.w, 320);
        CHECK_EQ_INT(im.h, 240);
        lfr_image_free(&im);
    }
    lfr_free(jpeg);
    lfr_image_free(&f);
    lfr_preview_free(v);
}

/* The camera thread offers frames while request threads take previews
 * (ThreadSanitizer: make SANITIZE=thread). */
typedef struct race {
    lfr_preview *v;
    const lfr_image *f;
    atomic_int *stop;
    int ok;
} race;

static void *offer_thread(void *arg) {
    race *r = arg;
    lfr_face faces[1] = {face_at(100, 100, 200)};
    unsigned char hit[1] = {1};
    for (int i = 0; i < 400; i++) lfr_preview_offer(r->v, lfr_now_ns(), r->f, faces, 1, hit);
    atomic_store(r->stop, 1);
    return NULL;
}

static void *get_thread(void *arg) {
    race *r = arg;
    lfr_err err = {{0}};
    const struct timespec pause = {0, 200000};
    while (!atomic_load(r->stop)) {
        nanosleep(&pause, NULL);
        uint8_t *j = NULL;
        size_t n = 0;
        if (lfr_preview_get(r->v, lfr_now_ns(), &j, &n, &err) == LFR_OK && n > 0) r->ok++;
        lfr_free(j);
    }
    return NULL;
}

static void test_threads(void) {
    lfr_preview *v = lfr_preview_new(1);
    lfr_image f = {0};
    grey_frame(&f, 800, 600);
    atomic_int stop;
    atomic_init(&stop, 0);
    race r = {.v = v, .f = &f, .stop = &stop};
    uint8_t *j = NULL;
    size_t n = 0;
    lfr_err err = {{0}};
    lfr_preview_get(v, lfr_now_ns(), &j, &n, &err);   /* somebody watches */
    pthread_t a, b, c;
    race r2 = r;
    pthread_create(&a, NULL, offer_thread, &r);
    pthread_create(&b, NULL, get_thread, &r);
    pthread_create(&c, NULL, get_thread, &r2);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    pthread_join(c, NULL);
    CHECK(r.ok + r2.ok > 0);
    lfr_image_free(&f);
    lfr_preview_free(v);
}

/* A live deployment with one entry (template on axis 0); an injected
 * camera sees two faces, one of them the entry. */
static void test_pipeline_preview(void) {
    char dir[] = "/tmp/lfr_preview_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char db[300], cmd[400];
    snprintf(db, sizeof db, "%s/openlfr.db", dir);
    lfr_store_config cfg = {.db_path = db};
    lfr_store *s = NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_store_open(&cfg, &s, &err), LFR_OK);
    if (!s) return;
    const lfr_actor creator = {"PC 1 Smith", LFR_ROLE_OPERATOR};
    const lfr_actor auth = {"Supt 2 Jones", LFR_ROLE_AUTHORISER};
    lfr_deploy_params dp = {.name = "preview", .location = "lab", .purpose = "test",
                            .legal_basis = "test", .planned_start = 1000,
                            .planned_end = 4000000000, .threshold = 0.70f, .cameras = "cam"};
    int64_t dep = 0, e0 = 0;
    CHECK_STATUS(lfr_deploy_create(s, &dp, &creator, &dep, &err), LFR_OK);
    lfr_image px = {0};
    lfr_image_alloc(&px, 8, 8);
    uint8_t *png = NULL;
    size_t png_len = 0;
    lfr_image_encode_png(&px, &png, &png_len);
    lfr_image_free(&px);
    static float t0[D], emb[2 * D];
    t0[0] = 1.0f;
    lfr_watchlist_entry we = {.subject_ref = "REF-0", .display_name = "Zero",
                              .category = LFR_WATCHLIST_WANTED_ON_WARRANT, .reason = "test",
                              .image_source = "test", .image_date = "2025-01-01"};
    CHECK_STATUS(lfr_deploy_entry_add(s, dep, &we, png, png_len, t0, D, &creator, &e0, &err), LFR_OK);
    lfr_free(png);
    CHECK_STATUS(lfr_deploy_authorise(s, dep, &auth, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_start(s, dep, &auth, &err), LFR_OK);
    lfr_pipeline_config pc = {.store = s, .deployment_id = dep};
    lfr_pipeline *p = NULL;
    CHECK_STATUS(lfr_pipeline_start(&pc, &p, &err), LFR_OK);
    if (!p) fprintf(stderr, "  pipeline: %s\n", err.msg);
    int cam = -1;
    if (p) CHECK_STATUS(lfr_pipeline_add_camera(p, "inject-1", NULL, &cam, &err), LFR_OK);
    if (!p || cam < 0) goto out;
    uint8_t *jpeg = NULL;
    size_t len = 0;
    CHECK_STATUS(lfr_pipeline_preview(p, 7, &jpeg, &len, &err), LFR_ERR_NOT_FOUND);
    CHECK_STATUS(lfr_pipeline_preview(p, cam, &jpeg, &len, &err), LFR_ERR_NOT_FOUND);
    lfr_image frame = {0};
    grey_frame(&frame, 1280, 720);
    lfr_face faces[2] = {face_at(100, 100, 150), face_at(800, 300, 150)};
    emb[0] = 0.9f, emb[1] = sqrtf(1 - 0.81f);   /* face 0: the entry (0.9) */
    emb[D + 2] = 1.0f;                           /* face 1: nobody */
    CHECK_STATUS(lfr_pipeline_inject(p, cam, &frame, 1000 * MS, faces, 2, emb, &err), LFR_OK);
    CHECK_STATUS(lfr_pipeline_preview(p, cam, &jpeg, &len, &err), LFR_OK);
    lfr_image im = {0};
    if (jpeg && lfr_image_decode(jpeg, len, &im, &err) == LFR_OK) {
        CHECK_EQ_INT(im.w, 640);
        CHECK(near_colour(&im, 51, 80, RED));      /* (100, 100) / 2, left edge */
        CHECK(near_colour(&im, 401, 190, GREEN));  /* (800, 300) / 2 */
        lfr_image_free(&im);
    }
    lfr_free(jpeg);
    lfr_pipeline_stats st;
    lfr_pipeline_stats_get(p, &st);
    CHECK_EQ_INT(st.total.alerts, 1);
    lfr_image_free(&frame);
out:
    lfr_pipeline_stop(p);
    lfr_store_close(s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int main(void) {
    lfr_log_set_level(LFR_LOG_WARN);
    RUN(test_keeps_only_while_watched);
    RUN(test_small_frame_not_upscaled);
    RUN(test_threads);
    RUN(test_pipeline_preview);
    return harness_done("preview");
}
