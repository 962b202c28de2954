/*
 * bench_pipeline.c - the live pipeline with 1..4 cameras played in real
 * time, and the decode cost of a clip (issue 13's pipeline table).
 *
 *   bench_pipeline MODELS_DIR --clip FILE [--label L] [--cameras 1,2,3,4]
 *                  [--duration S] [--warmup S] [--photos DIR] [--src-fps F]
 *                  [--threads T] [--workload FILE] [--json]
 *   bench_pipeline --decode FILE [--decode FILE]... [--json]
 *
 * Pipeline mode.  A temporary store (deleted at the end) gets a deployment
 * in the product's default model set (LFR_DEPLOY_DEFAULT_MODEL_SET) at that
 * set's default threshold, whose watchlist is the faces of
 * PHOTOS/sample1.jpg (default MODELS_DIR/photos: each detected face cropped
 * with a margin and enrolled with lfr_enrol_add, warnings accepted); it is
 * authorised and started.  Then, for each camera count N, an lfr_pipeline
 * (default parameters except cooldown_s = 0: every new track of a listed
 * person alerts, so that there are alerts to time) gets N cameras that all
 * play FILE looping in real time (lfr_video_opts realtime = 1, loop = 1,
 * at the source size, as `openlfr scan --realtime --loop` does).  After
 * WARMUP seconds (default 3) and once every camera has had WARM_FRAMES
 * frames analysed (the first frames plan the networks, a one-time cost;
 * at most WARM_MAX_S), the counters are read, and again DURATION
 * seconds later (env BENCH_DURATION_S or --duration, default 20); every
 * figure is over that window:
 *   decoded      frames out of the decoders (video stats), all cameras;
 *                playback = decoded / (N x src fps x window): 1.00 when the
 *                decoders kept real time (pacing never skips: a decoder
 *                that cannot keep up plays slower)
 *   dropped      frames replaced in the camera's mailbox before analysis
 *                (newest frame wins), % of decoded
 *   analysed     frames detected on, per camera per second
 *   alerts       "alert" events in the window; latency = the event's
 *                latency_ms (frame decoded -> alert queued), median / p95
 *                over those alerts (also the pipeline's own rolling metric)
 *   CPU          process CPU (getrusage user + sys) / window = cores used,
 *                and per camera (/ N); analysis CPU = the cameras' cpu_s
 *                (the pipeline's CPU time of each camera's analysis);
 *                decode + convert + rest = process - analysis (the video
 *                workers: demux, decode, YUV -> RGB; plus this program's
 *                main loop, which only waits for events)
 *   stages       the pipeline's median detect / track / embed / match /
 *                frame times (rolling windows, mean over the cameras)
 *   networks     every network run of the face contexts is recorded
 *                (the binary is linked with -Wl,--wrap=lfr_nn_ctx_run, as
 *                bench_face is): its input shape, which network (RFB,
 *                O-Net, MobileFaceNet 192-d, 512-d) and the thread CPU time
 *                it took (CLOCK_THREAD_CPUTIME_ID around the run).  Runs
 *                are grouped into frames per thread (an RFB run starts a
 *                frame: one analysis is detect then embed on one worker).
 *   calls        the same for the pipeline's calls into other modules
 *                (BENCH_PIPELINE_WRAP in the Makefile): thread CPU time of
 *                lfr_face_detect (detect: networks + resize, normalise,
 *                boxes, NMS, crops), lfr_face_embed_set (embed: alignment
 *                + embedders), lfr_match_search_batch, alert storing
 *                (lfr_deploy_alert_record/_update, lfr_image_encode_jpeg)
 *                and the liveness checks (lfr_deploy_require_live, _get,
 *                _watchlist_verify, _templates_load); analysis CPU not in
 *                any of them is "rest" (tracking, gate, templates, events).
 * With --workload FILE the recorded frames of each run are written as the
 * workload of bench/ort_face.js (one "sizes" entry per run, distinct frame
 * patterns with their "count"), with our CPU time per network, so that ONNX
 * Runtime replays exactly the same network calls (networks only).
 *
 * Decode mode.  Each FILE is played by one lfr_camera as fast as possible
 * (realtime 0, wait_consumer 1: every frame is decoded, converted to RGB at
 * the source size and taken); process CPU / frames = the video module's
 * decode + conversion cost per frame (its decoder runs one thread).
 *
 * Output: a summary per run on stderr; with --json one JSON object on
 * stdout.  The machine is whatever runs it: on a shared machine the
 * figures move with the other load (bench/run.sh measures ORT in the same
 * run for a ratio).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "core/limits.h"
#include "deploy/deploy.h"
#include "enrol/enrol.h"
#include "face/face.h"
#include "image/image.h"
#include "match/match.h"
#include "nn/nn.h"
#include "pipeline/pipeline.h"
#include "store/store.h"
#include "video/video.h"

#define MAX_RUNS 8
#define MAX_FRAME_CALLS 48   /* network runs of one analysed frame, recorded */
#define MAX_PATTERNS 4096    /* distinct frame patterns written per run */
#define MAX_ALERTS 100000    /* alert latencies kept per run */
#define MAX_DECODE 8
#define WARM_FRAMES 10       /* frames analysed per camera before measuring */
#define WARM_MAX_S 60        /* ... or this long at most */

/* Network recording (--wrap=lfr_nn_ctx_run) ------------------------------ */

enum { K_RFB, K_ONET, K_MFN, K_MFN512, K_LM68, K_OTHER, N_KINDS };
static const char *kind_name[N_KINDS] = {"rfb", "onet", "mfn", "mfn512", "lm68", "other"};

typedef struct call {
    uint8_t kind;
    int n, h, w;
} call;

typedef struct frec {
    int ncalls, overflow;
    call c[MAX_FRAME_CALLS];
    uint64_t cpu_ns[N_KINDS];
} frec;

/* The recorder: frames are appended under g_mu while g_gen != 0; a thread's
 * current frame is valid only for the generation it was started in. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static frec *g_frames;
static int g_nframes, g_cap, g_full;
static atomic_int g_gen;
static atomic_ullong g_orphan_ns;  /* runs outside a recorded frame */
static _Thread_local frec *t_cur;
static _Thread_local int t_gen;

lfr_status __real_lfr_nn_ctx_run(lfr_nn_ctx *c);
lfr_status __wrap_lfr_nn_ctx_run(lfr_nn_ctx *c);

static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

lfr_status __wrap_lfr_nn_ctx_run(lfr_nn_ctx *c) {
    int gen = atomic_load(&g_gen);
    if (!gen) return __real_lfr_nn_ctx_run(c);
    lfr_nn_shape in;
    lfr_nn_ctx_input(c, 0, &in);
    int kind = K_OTHER;
    if (in.ndim == 4 && in.d[1] == 48 && in.d[2] == 48) kind = K_ONET;
    else if (in.ndim == 4 && in.d[1] == 64 && in.d[2] == 64 && in.d[3] == 1)
        kind = K_LM68;   /* fused704v3's 68-point landmarks, before the embedders */
    else if (in.ndim == 4 && in.d[1] == LFR_FACE_ALIGN_SIZE && in.d[2] == LFR_FACE_ALIGN_SIZE)
        kind = K_MFN;
    else if (in.ndim == 4 && in.d[0] == 1) kind = K_RFB;
    if (kind == K_RFB) {
        pthread_mutex_lock(&g_mu);
        if (g_nframes < g_cap) {
            t_cur = &g_frames[g_nframes++];
            memset(t_cur, 0, sizeof *t_cur);
            t_gen = gen;
        } else {
            t_cur = NULL;
            g_full = 1;
        }
        pthread_mutex_unlock(&g_mu);
    }
    uint64_t t0 = thread_cpu_ns();
    lfr_status st = __real_lfr_nn_ctx_run(c);
    uint64_t dt = thread_cpu_ns() - t0;
    if (kind == K_MFN) {
        lfr_nn_shape o;
        lfr_nn_ctx_output(c, 0, &o);
        if (o.ndim == 2 && o.d[1] == 512) kind = K_MFN512;
    }
    if (t_cur && t_gen == gen) {
        if (t_cur->ncalls < MAX_FRAME_CALLS)
            t_cur->c[t_cur->ncalls++] = (call){(uint8_t)kind, in.d[0], in.d[1], in.d[2]};
        else t_cur->overflow = 1;
        t_cur->cpu_ns[kind] += dt;
    } else {
        atomic_fetch_add(&g_orphan_ns, dt);
    }
    return st;
}

/* Where the analysis CPU goes: the calls the pipeline makes into other
 * modules, wrapped too (-Wl,--wrap=NAME for each, see the Makefile), thread
 * CPU time of the outermost wrapped call only (a wrapped call made inside
 * another one is counted in the outer one's category). */
enum { C_DETECT, C_EMBED, C_MATCH, C_ALERT, C_LIVE, N_CATS };
static const char *cat_name[N_CATS] = {"detect", "embed", "match", "alert_store", "liveness"};
static atomic_ullong g_cat_ns[N_CATS], g_cat_calls[N_CATS];
static _Thread_local int t_depth;

#define WRAP(cat, name, params, args)                                                \
    lfr_status __real_##name params;                                                 \
    lfr_status __wrap_##name params;                                                 \
    lfr_status __wrap_##name params {                                                \
        if (!atomic_load(&g_gen) || t_depth) return __real_##name args;              \
        t_depth++;                                                                   \
        uint64_t t0_ = thread_cpu_ns();                                              \
        lfr_status r_ = __real_##name args;                                          \
        atomic_fetch_add(&g_cat_ns[cat], thread_cpu_ns() - t0_);                     \
        atomic_fetch_add(&g_cat_calls[cat], 1);                                      \
        t_depth--;                                                                   \
        return r_;                                                                   \
    }

WRAP(C_DETECT, lfr_face_detect,
     (lfr_face_ctx * c, const lfr_image *im, const lfr_face_params *p, lfr_face **faces, int *n,
      lfr_err *err),
     (c, im, p, faces, n, err))
WRAP(C_EMBED, lfr_face_embed_set,
     (lfr_face_ctx * c, const lfr_image *im, lfr_face *faces, int n, lfr_face_model_set m,
      float *emb, lfr_err *err),
     (c, im, faces, n, m, emb, err))
WRAP(C_MATCH, lfr_match_search_batch,
     (const lfr_match_snapshot *s, const float *probes, int n_probes, float threshold,
      lfr_match_hit *hits, int max_hits, int *n_hits),
     (s, probes, n_probes, threshold, hits, max_hits, n_hits))
WRAP(C_ALERT, lfr_deploy_alert_record,
     (lfr_store * s, int64_t dep, const lfr_alert *a, const lfr_actor *by, int64_t *id,
      lfr_err *err),
     (s, dep, a, by, id, err))
WRAP(C_ALERT, lfr_deploy_alert_update,
     (lfr_store * s, int64_t id, float score, const uint8_t *img, size_t len,
      const char *source, int template_n, const lfr_actor *by, lfr_err *err),
     (s, id, score, img, len, source, template_n, by, err))
WRAP(C_ALERT, lfr_image_encode_jpeg, (const lfr_image *im, int q, uint8_t **buf, size_t *len),
     (im, q, buf, len))
WRAP(C_LIVE, lfr_deploy_require_live, (lfr_store * s, int64_t id, lfr_err *err), (s, id, err))
WRAP(C_LIVE, lfr_deploy_get, (lfr_store * s, int64_t id, lfr_deploy_info *out, lfr_err *err),
     (s, id, out, err))
WRAP(C_LIVE, lfr_deploy_watchlist_verify, (lfr_store * s, int64_t id, lfr_err *err), (s, id, err))
WRAP(C_LIVE, lfr_deploy_templates_load,
     (lfr_store * s, int64_t id, lfr_deploy_templates *out, lfr_err *err), (s, id, out, err))

/* Helpers ------------------------------------------------------------------ */

static void die(const char *what, lfr_status st, const lfr_err *err) {
    fprintf(stderr, "bench_pipeline: %s: %s%s%s\n", what, lfr_status_message(st),
            err && err->msg[0] ? ": " : "", err ? err->msg : "");
    exit(1);
}

static double proc_cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank quantile of sorted v[0..n). */
static double quantile(const double *v, int n, double q) {
    if (n <= 0) return NAN;
    int k = (int)ceil(q * n) - 1;
    if (k < 0) k = 0;
    if (k >= n) k = n - 1;
    return v[k];
}

static void jnum(const char *key, double v, int comma) {
    if (isfinite(v)) printf("\"%s\":%.4g%s", key, v, comma ? "," : "");
    else printf("\"%s\":null%s", key, comma ? "," : "");
}

/* Decode mode ---------------------------------------------------------------- */

static int decode_mode(const char **files, int n, int json) {
    if (json) printf("{\"decode\":[");
    for (int i = 0; i < n; i++) {
        lfr_video_opts o;
        memset(&o, 0, sizeof o);
        o.url = files[i];
        o.wait_consumer = 1;
        o.rtsp_tcp = 1;
        lfr_err err = {{0}};
        lfr_camera *cam = NULL;
        double c0 = proc_cpu_s();
        uint64_t w0 = lfr_now_ns();
        lfr_status st = lfr_camera_start(&o, &cam, &err);
        if (st != LFR_OK) die(files[i], st, &err);
        uint64_t frames = 0;
        for (;;) {
            lfr_frame f;
            st = lfr_camera_next(cam, &f, 10000);
            if (st == LFR_ERR_STATE) break;
            if (st != LFR_OK) {
                fprintf(stderr, "bench_pipeline: %s: no frame for 10 s\n", files[i]);
                return 1;
            }
            frames++;
            lfr_image_free(&f.img);
        }
        double wall = (double)(lfr_now_ns() - w0) / 1e9, cpu = proc_cpu_s() - c0;
        lfr_cam_stats s;
        lfr_camera_stats_get(cam, &s);
        lfr_camera_stop(cam);
        if (s.state != LFR_CAM_ENDED || !frames) {
            fprintf(stderr, "bench_pipeline: %s: %s after %llu frames: %s\n", files[i],
                    lfr_cam_state_name(s.state), (unsigned long long)frames, s.last_error);
            return 1;
        }
        double ms = cpu * 1e3 / (double)frames;
        fprintf(stderr,
                "bench_pipeline: decode %s: %s %dx%d, %llu frames, %.2f ms CPU per frame "
                "(decode + RGB conversion, one decoder thread), %.0f fps wall\n",
                files[i], s.codec, s.src_w, s.src_h, (unsigned long long)frames, ms,
                (double)frames / wall);
        if (json) {
            printf("%s{\"file\":\"%s\",\"codec\":\"%s\",\"w\":%d,\"h\":%d,\"frames\":%llu,", i ? "," : "",
                   files[i], s.codec, s.src_w, s.src_h, (unsigned long long)frames);
            jnum("cpu_ms_per_frame", ms, 1);
            jnum("wall_fps", (double)frames / wall, 0);
            printf("}");
        }
    }
    if (json) printf("]}\n");
    return 0;
}

/* The deployment ------------------------------------------------------------ */

static const lfr_actor CREATOR = {"PC 1 Bench", LFR_ROLE_OPERATOR};
static const lfr_actor AUTH = {"Supt 2 Bench", LFR_ROLE_AUTHORISER};

/* Enrols the faces of `photo` (each cropped with a margin): returns how
 * many were added. */
static int enrol_photo(lfr_store *s, lfr_face_ctx *fc, int64_t dep, const char *photo) {
    lfr_err err = {{0}};
    lfr_image im = {0};
    lfr_status st = lfr_image_load(photo, &im, &err);
    if (st != LFR_OK) die(photo, st, &err);
    lfr_face *fs = NULL;
    int nf = 0;
    st = lfr_face_detect(fc, &im, NULL, &fs, &nf, &err);
    if (st != LFR_OK) die("detect (watchlist photo)", st, &err);
    lfr_face *faces = malloc(sizeof *faces * (size_t)(nf ? nf : 1));
    if (!faces) die("malloc", LFR_ERR_NOMEM, NULL);
    memcpy(faces, fs, sizeof *faces * (size_t)nf);
    int added = 0;
    for (int i = 0; i < nf; i++) {
        const float *b = faces[i].box;
        int x = (int)(b[0] - 0.6f * b[2]), y = (int)(b[1] - 0.6f * b[3]);
        int w = (int)(2.2f * b[2]), h = (int)(2.2f * b[3]);
        if (x < 0) w += x, x = 0;
        if (y < 0) h += y, y = 0;
        if (x + w > im.w) w = im.w - x;
        if (y + h > im.h) h = im.h - y;
        lfr_image crop = {0};
        uint8_t *jpg = NULL;
        size_t len = 0;
        if (lfr_image_crop(&im, x, y, w, h, &crop) != LFR_OK ||
            lfr_image_encode_jpeg(&crop, 92, &jpg, &len) != LFR_OK) {
            lfr_image_free(&crop);
            continue;
        }
        char ref[32], name[64];
        snprintf(ref, sizeof ref, "BENCH-%d", i + 1);
        snprintf(name, sizeof name, "Bench Person %d", i + 1);
        lfr_watchlist_entry we = {.subject_ref = ref, .display_name = name,
                                  .category = LFR_WATCHLIST_MISSING,
                                  .reason = "benchmark: a face of the face-api demo photo sample1.jpg",
                                  .image_source = "face-api demo photo sample1.jpg (npm)",
                                  .image_date = "2020"};
        lfr_enrol_result r;
        int64_t eid = 0;
        lfr_err e2 = {{0}};
        st = lfr_enrol_add(s, fc, dep, &we, jpg, len, NULL, "benchmark: demo photo", &CREATOR,
                           &eid, &r, &e2);
        if (st == LFR_OK) added++;
        else fprintf(stderr, "bench_pipeline: face %d of %s not enrolled: %s\n", i + 1, photo,
                     e2.msg[0] ? e2.msg : lfr_status_message(st));
        lfr_free(jpg);
        lfr_image_free(&crop);
    }
    free(faces);
    lfr_image_free(&im);
    return added;
}

/* One run ----------------------------------------------------------------------- */

typedef struct run_result {
    int cams;
    double window_s;
    uint64_t decoded, dropped, taken, analysed;
    double proc_cpu, an_cpu;             /* seconds over the window */
    int alerts, updates;
    double lat_med, lat_p95;             /* ours, from the events */
    double plat_med, plat_p95;           /* the pipeline's rolling metric */
    double st_med[6], st_p95[6];         /* detect track embed match frame wait */
    double faces, embeddings;
    uint64_t nn_ns[N_KINDS], orphan_ns;
    uint64_t cat_ns[N_CATS], cat_calls[N_CATS];
    int nn_calls[N_KINDS];
    int frames_rec, full, overflow;
    int threads;
    uint64_t det_full, det_near, det_none; /* analysed frames by detection (pipeline.h) */
    uint64_t det_deferred;                 /* ... full detections deferred: behind */
    double warmup_s;
} run_result;

static const char *stage_name[5] = {"detect", "track", "embed", "match", "frame"};

static void stats_of(lfr_pipeline *p, lfr_pipeline_stats *s) { lfr_pipeline_stats_get(p, s); }

static int g_defer; /* --defer-behind: params.defer_behind (0: the default, -1 never) */

static void one_run(lfr_store *store, const lfr_face_engine *eng, int64_t dep, const char *clip,
                    int ncams, double warmup, double duration, int threads, int every,
                    double stagger, int queue, int epf, run_result *r,
                    FILE *wl, const char *label, int run_index) {
    memset(r, 0, sizeof *r);
    r->cams = ncams;
    lfr_pipeline_params prm = lfr_pipeline_params_default;
    prm.cooldown_s = 0;
    prm.detect_every = every;
    prm.embed_per_frame = epf;
    prm.defer_behind = g_defer;
#ifdef LFR_PIPELINE_THREAD_PER_CAMERA
    prm.analysis_threads = threads;
#else
    (void)threads;
#endif
    lfr_pipeline_config pc = {.store = store, .deployment_id = dep, .engine = eng, .params = &prm};
    lfr_pipeline *p = NULL;
    lfr_err err = {{0}};
    lfr_status st = lfr_pipeline_start(&pc, &p, &err);
    if (st != LFR_OK) die("lfr_pipeline_start", st, &err);
    for (int i = 0; i < ncams; i++) {
        lfr_video_opts vo;
        memset(&vo, 0, sizeof vo);
        vo.url = clip;
        vo.loop = 1;
        vo.realtime = 1;
        vo.rtsp_tcp = 1;
        vo.read_timeout_ms = 5000;
        vo.queue = queue; /* 0: the pipeline's default */
        char name[32];
        snprintf(name, sizeof name, "bench-cam-%d", i + 1);
        if (i && stagger > 0) { /* cameras that do not see the same moment */
            struct timespec ts = {(time_t)stagger, (long)((stagger - (double)(time_t)stagger) * 1e9)};
            nanosleep(&ts, NULL);
        }
        st = lfr_pipeline_add_camera(p, name, &vo, NULL, &err);
        if (st != LFR_OK) die("lfr_pipeline_add_camera", st, &err);
    }
    lfr_pipeline_stats *s0 = malloc(sizeof *s0), *s1 = malloc(sizeof *s1);
    double *lat = malloc(sizeof(double) * MAX_ALERTS);
    if (!s0 || !s1 || !lat) die("malloc", LFR_ERR_NOMEM, NULL);
    int nlat = 0;
    /* warm-up: at least `warmup` seconds and until every camera has had
     * WARM_FRAMES frames analysed (the first ones plan the networks: a
     * one-time cost), at most WARM_MAX_S; events are consumed, not counted */
    uint64_t t = lfr_now_ns();
    for (;;) {
        lfr_pipeline_event ev;
        if (lfr_pipeline_next_event(p, &ev, 100) == LFR_OK) lfr_pipeline_event_free(&ev);
        double el = (double)(lfr_now_ns() - t) / 1e9;
        if (el < warmup) continue;
        if (el > WARM_MAX_S) {
            fprintf(stderr, "bench_pipeline: warm-up: not every camera analysed %d frames in "
                            "%d s; measuring anyway\n", WARM_FRAMES, WARM_MAX_S);
            break;
        }
        stats_of(p, s0);
        int warm = 1;
        for (int i = 0; i < ncams; i++) warm &= s0->cam[i].c.frames_analysed >= WARM_FRAMES;
        if (warm) break;
    }
    r->warmup_s = (double)(lfr_now_ns() - t) / 1e9;
    pthread_mutex_lock(&g_mu);
    g_nframes = 0;
    g_full = 0;
    pthread_mutex_unlock(&g_mu);
    atomic_store(&g_orphan_ns, 0);
    for (int k = 0; k < N_CATS; k++) atomic_store(&g_cat_ns[k], 0), atomic_store(&g_cat_calls[k], 0);
    stats_of(p, s0);
    double c0 = proc_cpu_s();
    uint64_t w0 = lfr_now_ns();
    atomic_store(&g_gen, run_index + 1);
    while ((double)(lfr_now_ns() - w0) / 1e9 < duration) {
        lfr_pipeline_event ev;
        if (lfr_pipeline_next_event(p, &ev, 100) != LFR_OK) continue;
        if (ev.type == LFR_PIPELINE_ALERT) {
            r->alerts++;
            if (nlat < MAX_ALERTS) lat[nlat++] = ev.latency_ms;
        } else {
            r->updates++;
        }
        lfr_pipeline_event_free(&ev);
    }
    atomic_store(&g_gen, 0);
    stats_of(p, s1);
    for (int k = 0; k < N_CATS; k++)
        r->cat_ns[k] = atomic_load(&g_cat_ns[k]), r->cat_calls[k] = atomic_load(&g_cat_calls[k]);
    r->proc_cpu = proc_cpu_s() - c0;
    r->window_s = (double)(lfr_now_ns() - w0) / 1e9;
    for (int i = 0; i < ncams; i++) {
        const lfr_pipeline_cam_stats *a = &s0->cam[i], *b = &s1->cam[i];
        r->decoded += b->decoded - a->decoded;
        r->dropped += b->c.frames_dropped - a->c.frames_dropped;
        r->taken += b->c.frames - a->c.frames;
        r->analysed += b->c.frames_analysed - a->c.frames_analysed;
        r->det_full += b->detect_full - a->detect_full;
        r->det_near += b->detect_near - a->detect_near;
        r->det_none += b->detect_none - a->detect_none;
        r->det_deferred += b->detect_deferred - a->detect_deferred;
        r->an_cpu += b->cpu_s - a->cpu_s;
        r->faces += (double)(b->c.faces - a->c.faces);
        r->embeddings += (double)(b->c.embeddings - a->c.embeddings);
        const lfr_pipeline_metric *m[5] = {&b->detect, &b->track, &b->embed, &b->match,
                                           &b->frame};
        for (int k = 0; k < 5; k++) {
            r->st_med[k] += m[k]->median_ms / ncams;
            r->st_p95[k] += m[k]->p95_ms / ncams;
        }
        if (b->state != LFR_CAM_LIVE)
            fprintf(stderr, "bench_pipeline: camera %d is %s: %s\n", i,
                    lfr_cam_state_name((lfr_cam_state)b->state), b->last_error);
    }
#ifdef LFR_PIPELINE_THREAD_PER_CAMERA
    r->threads = s1->analysis_threads;
#else
    r->threads = ncams;
#endif
    r->plat_med = s1->latency.median_ms;
    r->plat_p95 = s1->latency.p95_ms;
    qsort(lat, (size_t)nlat, sizeof lat[0], cmp_d);
    r->lat_med = nlat ? (nlat % 2 ? lat[nlat / 2] : (lat[nlat / 2 - 1] + lat[nlat / 2]) / 2) : NAN;
    r->lat_p95 = quantile(lat, nlat, 0.95);
    lfr_pipeline_stop(p);

    /* what the networks did in the window */
    pthread_mutex_lock(&g_mu);
    r->frames_rec = g_nframes;
    r->full = g_full;
    r->orphan_ns = atomic_load(&g_orphan_ns);
    for (int i = 0; i < g_nframes; i++) {
        const frec *f = &g_frames[i];
        r->overflow |= f->overflow;
        for (int k = 0; k < N_KINDS; k++) r->nn_ns[k] += f->cpu_ns[k];
        for (int j = 0; j < f->ncalls; j++) r->nn_calls[f->c[j].kind]++;
    }
    if (wl) {
        /* distinct frame patterns (same calls in the same order) with counts */
        int *pat = malloc(sizeof(int) * (size_t)(g_nframes ? g_nframes : 1));
        int *cnt = calloc((size_t)(g_nframes ? g_nframes : 1), sizeof(int));
        int np = 0;
        if (!pat || !cnt) die("malloc", LFR_ERR_NOMEM, NULL);
        for (int i = 0; i < g_nframes; i++) {
            const frec *f = &g_frames[i];
            int k;
            for (k = 0; k < np; k++) {
                const frec *g = &g_frames[pat[k]];
                if (g->ncalls == f->ncalls && !memcmp(g->c, f->c, sizeof(call) * (size_t)f->ncalls))
                    break;
            }
            if (k == np) {
                if (np == MAX_PATTERNS) continue;
                pat[np++] = i;
            }
            cnt[k]++;
        }
        fprintf(wl, "%s\n {\"label\":\"%s\",\"cameras\":%d,\"w\":%d,\"h\":%d,\"recorded_frames\":%d,"
                    "\"ours_cpu_ms\":{",
                run_index ? "," : "", label, ncams, s1->cam[0].src_w, s1->cam[0].src_h,
                g_nframes);
        for (int k = 0; k < N_KINDS; k++)
            fprintf(wl, "%s\"%s\":%.3f", k ? "," : "", kind_name[k], r->nn_ns[k] / 1e6);
        fprintf(wl, "},\"frames\":[");
        for (int k = 0; k < np; k++) {
            const frec *f = &g_frames[pat[k]];
            int h = 0, w = 0;
            for (int j = 0; j < f->ncalls; j++)
                if (f->c[j].kind == K_RFB) h = f->c[j].h, w = f->c[j].w;
            fprintf(wl, "%s\n  {\"count\":%d,\"rfb\":[1,%d,%d,3]", k ? "," : "", cnt[k], h, w);
            for (int kind = K_ONET; kind <= K_LM68; kind++) {
                fprintf(wl, ",\"%s\":[", kind_name[kind]);
                for (int j = 0, m = 0; j < f->ncalls; j++)
                    if (f->c[j].kind == kind) fprintf(wl, "%s%d", m++ ? "," : "", f->c[j].n);
                fprintf(wl, "]");
            }
            fprintf(wl, "}");
        }
        fprintf(wl, "]}");
        free(pat);
        free(cnt);
    }
    pthread_mutex_unlock(&g_mu);
    free(lat);
    free(s0);
    free(s1);
}

static void print_run(const run_result *r, double src_fps, const char *label) {
    double n = r->cams, win = r->window_s;
    fprintf(stderr,
            "bench_pipeline: %s x%d (%d analysis threads): %.1f s, playback %.2f, dropped %.1f %%, "
            "%.1f fps analysed per camera, %d alerts, latency %.0f / %.0f ms (median / p95), "
            "CPU %.2f cores (%.2f per camera; analysis %.2f, decode+rest %.2f per camera); "
            "detection full/near/none %llu/%llu/%llu, %llu full deferred (behind)\n",
            label, r->cams, r->threads, win, (double)r->decoded / (n * src_fps * win),
            r->decoded ? 100.0 * (double)r->dropped / (double)r->decoded : 0,
            (double)r->analysed / n / win, r->alerts, r->lat_med, r->lat_p95, r->proc_cpu / win,
            r->proc_cpu / win / n, r->an_cpu / win / n, (r->proc_cpu - r->an_cpu) / win / n,
            (unsigned long long)r->det_full, (unsigned long long)r->det_near,
            (unsigned long long)r->det_none, (unsigned long long)r->det_deferred);
    double nn = 0;
    for (int k = 0; k < N_KINDS; k++) nn += r->nn_ns[k] / 1e6;
    if (r->analysed)
        fprintf(stderr,
                "  per analysed frame: analysis %.1f ms CPU, networks %.1f ms (RFB %.1f, O-Net %.2f, "
                "MFN %.2f, MFN512 %.2f, LM68 %.2f), decode+convert %.1f ms per decoded frame; stages (median "
                "ms): detect %.1f track %.2f embed %.1f match %.2f frame %.1f\n",
                r->an_cpu * 1e3 / (double)r->analysed, nn / (double)r->analysed,
                r->nn_ns[K_RFB] / 1e6 / (double)r->analysed,
                r->nn_ns[K_ONET] / 1e6 / (double)r->analysed,
                r->nn_ns[K_MFN] / 1e6 / (double)r->analysed,
                r->nn_ns[K_MFN512] / 1e6 / (double)r->analysed,
                r->nn_ns[K_LM68] / 1e6 / (double)r->analysed,
                r->decoded ? (r->proc_cpu - r->an_cpu) * 1e3 / (double)r->decoded : 0,
                r->st_med[0], r->st_med[1], r->st_med[2], r->st_med[3], r->st_med[4]);
    if (r->analysed) {
        double known = 0;
        fprintf(stderr, "  analysis CPU per analysed frame:");
        for (int k = 0; k < N_CATS; k++) {
            known += r->cat_ns[k] / 1e6;
            fprintf(stderr, " %s %.2f ms (%llu calls),", cat_name[k],
                    r->cat_ns[k] / 1e6 / (double)r->analysed, (unsigned long long)r->cat_calls[k]);
        }
        fprintf(stderr, " rest %.2f ms\n", (r->an_cpu * 1e3 - known) / (double)r->analysed);
    }
}

static void json_run(const run_result *r, double src_fps, int comma) {
    double n = r->cams, win = r->window_s, a = r->analysed ? (double)r->analysed : NAN;
    printf("{\"cameras\":%d,\"analysis_threads\":%d,\"decoded\":%llu,\"dropped\":%llu,"
           "\"taken\":%llu,\"analysed\":%llu,\"alerts\":%d,\"updates\":%d,\"recorded_frames\":%d,"
           "\"recorder_full\":%d,\"recorder_overflow\":%d,",
           r->cams, r->threads, (unsigned long long)r->decoded, (unsigned long long)r->dropped,
           (unsigned long long)r->taken, (unsigned long long)r->analysed, r->alerts, r->updates,
           r->frames_rec, r->full, r->overflow);
    jnum("window_s", win, 1);
    jnum("warmup_s", r->warmup_s, 1);
    jnum("playback", (double)r->decoded / (n * src_fps * win), 1);
    jnum("dropped_pct", r->decoded ? 100.0 * (double)r->dropped / (double)r->decoded : NAN, 1);
    jnum("analysed_fps_per_camera", (double)r->analysed / n / win, 1);
    jnum("latency_median_ms", r->lat_med, 1);
    jnum("latency_p95_ms", r->lat_p95, 1);
    jnum("pipeline_latency_median_ms", r->plat_med, 1);
    jnum("pipeline_latency_p95_ms", r->plat_p95, 1);
    jnum("cpu_cores", r->proc_cpu / win, 1);
    jnum("cpu_per_camera", r->proc_cpu / win / n, 1);
    jnum("analysis_cpu_per_camera", r->an_cpu / win / n, 1);
    jnum("decode_rest_cpu_per_camera", (r->proc_cpu - r->an_cpu) / win / n, 1);
    jnum("analysis_ms_per_analysed_frame", r->an_cpu * 1e3 / a, 1);
    jnum("decode_rest_ms_per_decoded_frame",
         r->decoded ? (r->proc_cpu - r->an_cpu) * 1e3 / (double)r->decoded : NAN, 1);
    jnum("faces_per_analysed_frame", r->faces / a, 1);
    printf("\"detection\":{\"full\":%llu,\"near\":%llu,\"none\":%llu,\"deferred\":%llu},",
           (unsigned long long)r->det_full, (unsigned long long)r->det_near,
           (unsigned long long)r->det_none, (unsigned long long)r->det_deferred);
    jnum("embeddings", r->embeddings, 1);
    printf("\"nn_ms_per_analysed_frame\":{");
    for (int k = 0; k < N_KINDS; k++) {
        jnum(kind_name[k], r->nn_ns[k] / 1e6 / a, 1);
        printf("\"%s_calls\":%d,", kind_name[k], r->nn_calls[k]);
    }
    jnum("outside_frames_ms", r->orphan_ns / 1e6, 0);
    printf("},\"cpu_ms_per_analysed_frame\":{");
    double known = 0;
    for (int k = 0; k < N_CATS; k++) {
        known += r->cat_ns[k] / 1e6;
        jnum(cat_name[k], r->cat_ns[k] / 1e6 / a, 1);
        printf("\"%s_calls\":%llu,", cat_name[k], (unsigned long long)r->cat_calls[k]);
    }
    jnum("rest", (r->an_cpu * 1e3 - known) / a, 0);
    printf("},\"stages\":{");
    for (int k = 0; k < 5; k++)
        printf("%s\"%s\":{\"median_ms\":%.4g,\"p95_ms\":%.4g}", k ? "," : "", stage_name[k],
               r->st_med[k], r->st_p95[k]);
    printf("}}%s", comma ? "," : "");
}

static void usage(void) {
    fprintf(stderr,
            "usage: bench_pipeline MODELS_DIR --clip FILE [--label L] [--cameras 1,2,3,4]\n"
            "                      [--duration S] [--warmup S] [--photos DIR] [--src-fps F]\n"
            "                      [--threads T] [--detect-every N] [--stagger S] [--queue Q]\n"
            "                      [--defer-behind D] (-1: never)\n"
            "                      [--embed-per-frame E]\n"
            "                      [--workload FILE] [--json]\n"
            "       bench_pipeline --decode FILE [--decode FILE]... [--json]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *models = NULL, *clip = NULL, *label = "clip", *photos = NULL, *wl_path = NULL;
    const char *cams_arg = "1,2,3,4", *dec[MAX_DECODE];
    const char *env_d = getenv("BENCH_DURATION_S");
    double duration = env_d && *env_d ? atof(env_d) : 20, warmup = 3, src_fps = 25, stagger = 0;
    int queue = 0, epf = 0;
    int json = 0, ndec = 0, threads = 0, every = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) { json = 1; continue; }
        if (a[0] != '-') {
            if (models) usage();
            models = a;
            continue;
        }
        if (!v) usage();
        i++;
        if (!strcmp(a, "--clip")) clip = v;
        else if (!strcmp(a, "--label")) label = v;
        else if (!strcmp(a, "--cameras")) cams_arg = v;
        else if (!strcmp(a, "--duration")) duration = atof(v);
        else if (!strcmp(a, "--warmup")) warmup = atof(v);
        else if (!strcmp(a, "--photos")) photos = v;
        else if (!strcmp(a, "--src-fps")) src_fps = atof(v);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--detect-every")) every = atoi(v);
        else if (!strcmp(a, "--stagger")) stagger = atof(v);
        else if (!strcmp(a, "--queue")) queue = atoi(v);
        else if (!strcmp(a, "--defer-behind")) g_defer = atoi(v);
        else if (!strcmp(a, "--embed-per-frame")) epf = atoi(v);
        else if (!strcmp(a, "--workload")) wl_path = v;
        else if (!strcmp(a, "--decode") && ndec < MAX_DECODE) dec[ndec++] = v;
        else usage();
    }
    lfr_log_set_level(LFR_LOG_ERROR);
    if (ndec) return decode_mode(dec, ndec, json);
    if (!models || !clip || !(duration > 0) || !(warmup >= 0) || !(src_fps > 0)) usage();
    int cams[MAX_RUNS], nruns = 0, maxc = 0;
    for (const char *s = cams_arg; *s;) {
        char *end;
        long c = strtol(s, &end, 10);
        if (end == s || c < 1 || c > LFR_PIPELINE_MAX_CAMERAS || nruns == MAX_RUNS) usage();
        cams[nruns++] = (int)c;
        if (c > maxc) maxc = (int)c;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') usage();
    }
    if (access(clip, R_OK)) {
        perror(clip);
        return 1;
    }
    char photo[4200];
    if (photos) snprintf(photo, sizeof photo, "%s/sample1.jpg", photos);
    else snprintf(photo, sizeof photo, "%s/photos/sample1.jpg", models);

    /* recorder: room for every frame of the longest run, at twice real time */
    g_cap = (int)((warmup + duration + 5) * src_fps * 2 * maxc) + 64;
    g_frames = calloc((size_t)g_cap, sizeof *g_frames);
    if (!g_frames) die("malloc (recorder)", LFR_ERR_NOMEM, NULL);

    lfr_err err = {{0}};
    lfr_face_engine *eng = NULL;
    lfr_status st = lfr_face_engine_load(models, &eng, &err);
    if (st != LFR_OK) die(models, st, &err);
    lfr_face_ctx *fc = NULL;
    st = lfr_face_ctx_new(eng, &fc);
    if (st != LFR_OK) die("lfr_face_ctx_new", st, NULL);

    char dir[] = "/tmp/lfr_bench_pipeline_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char db[300];
    snprintf(db, sizeof db, "%s/openlfr.db", dir);
    lfr_store_config scfg = {.db_path = db};
    lfr_store *store = NULL;
    st = lfr_store_open(&scfg, &store, &err);
    if (st != LFR_OK) die(db, st, &err);
    float thr = 0;
    st = lfr_deploy_model_set_thresholds(LFR_DEPLOY_DEFAULT_MODEL_SET, &thr, NULL, NULL, &err);
    if (st != LFR_OK) die("model set threshold", st, &err);
    time_t now = time(NULL);
    lfr_deploy_params dp = {.name = "bench", .location = "bench", .purpose = "benchmark",
                            .legal_basis = "none: benchmark with demo photos",
                            .planned_start = (int64_t)now - 60, .planned_end = (int64_t)now + 86400,
                            .threshold = thr};
    int64_t dep = 0;
    st = lfr_deploy_create_in_set(store, &dp, NULL, LFR_DEPLOY_DEFAULT_MODEL_SET, &CREATOR, &dep,
                                  &err);
    if (st != LFR_OK) die("deployment", st, &err);
    int enrolled = enrol_photo(store, fc, dep, photo);
    if (!enrolled) {
        fprintf(stderr, "bench_pipeline: no face of %s could be enrolled\n", photo);
        return 1;
    }
    if ((st = lfr_deploy_authorise(store, dep, &AUTH, &err)) != LFR_OK ||
        (st = lfr_deploy_start(store, dep, &AUTH, &err)) != LFR_OK)
        die("authorise/start", st, &err);
    lfr_face_ctx_destroy(fc);
    fprintf(stderr, "bench_pipeline: deployment %lld (%s, threshold %.3f), %d watchlist entries "
                    "from %s; clip %s\n",
            (long long)dep, LFR_DEPLOY_DEFAULT_MODEL_SET, (double)thr, enrolled, photo, clip);

    FILE *wl = NULL;
    if (wl_path) {
        wl = fopen(wl_path, "w");
        if (!wl) {
            perror(wl_path);
            return 1;
        }
        fprintf(wl, "{\"source\":\"bench_pipeline\",\"clip\":\"%s\",\"sizes\":[", clip);
    }
    run_result *res = calloc((size_t)nruns, sizeof *res);
    if (!res) die("malloc", LFR_ERR_NOMEM, NULL);
    for (int i = 0; i < nruns; i++) {
        one_run(store, eng, dep, clip, cams[i], warmup, duration, threads, every, stagger, queue, epf, &res[i], wl,
                label, i);
        print_run(&res[i], src_fps, label);
        if (res[i].full || res[i].overflow)
            fprintf(stderr, "bench_pipeline: WARNING: the network recorder was full or a frame "
                            "made more than %d network runs: the workload is incomplete\n",
                    MAX_FRAME_CALLS);
    }
    if (wl) {
        fprintf(wl, "\n]}\n");
        if (fclose(wl)) {
            perror(wl_path);
            return 1;
        }
    }
    if (json) {
        printf("{\"label\":\"%s\",\"clip\":\"%s\",\"model_set\":\"%s\",\"threshold\":%.4f,"
               "\"watchlist_entries\":%d,\"src_fps\":%g,\"warmup_s\":%g,\"duration_s\":%g,"
               "\"cooldown_s\":0,\"runs\":[",
               label, clip, LFR_DEPLOY_DEFAULT_MODEL_SET, (double)thr, enrolled, src_fps, warmup,
               duration);
        for (int i = 0; i < nruns; i++) json_run(&res[i], src_fps, i + 1 < nruns);
        printf("]}\n");
    }
    free(res);
    lfr_store_close(store);
    lfr_face_engine_destroy(eng);
    free(g_frames);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench_pipeline: could not remove %s\n", dir);
    return 0;
}
