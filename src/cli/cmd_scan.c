/*
 * cmd_scan.c - `openlfr scan`: the live pipeline without the server.
 *
 *   openlfr scan --deployment D --camera URL [--camera URL]... [--fps F]
 *                [--width W] [--loop] [--realtime] [--duration S] [--json]
 *                [--analysis-threads N] [--db PATH] [--key-file PATH]
 *                [--config FILE]
 *
 * Alerts go to stdout, one JSON object per line ("alert" and
 * "alert.update"; no face image: the crop is stored, sealed, with the
 * alert).  Every few seconds a status line per camera goes to stderr
 * (state, analysed fps, faces, tracks, alerts, latency median/p95, dropped
 * frames); with --json the status and the final summary are JSON lines.
 * Runs until every (non-looping) camera has ended, --duration S has passed,
 * or SIGINT/SIGTERM.  The deployment must be live for matching to happen;
 * while it is not, frames are counted and discarded.
 * Best-shot policy (defaults: lfr_pipeline_params_default): --max-embeds K
 * embeddings per track at most, --improve-margin Q (re-embed a track when
 * its quality score beats the best so far by Q), --min-eye-dist PX (quality
 * gate), --cooldown S (per entry per camera), --max-yaw DEG (quality gate,
 * 3D head pose).  Track templates (pipeline.h): --template-k K embeddings
 * per track template, --no-track-template (best shots only); tracking:
 * --max-dist X (second association stage, face widths; 0: IoU only).
 * Each alert event says what matched ("source": best_shot or
 * track_template).  With --json the summary also lists, per (camera,
 * track, entry) that raised an alert, the best cosine and its source
 * ("tracks"; at most SCAN_MAX_TRACK_ROWS rows).
 * --analysis-threads N: analysis workers shared by the cameras (pipeline.h;
 * default 0: one per online CPU, at most one per camera; -1: one per
 * camera, the former scheduling).
 * --detect-every N: detect each camera's frames in full every N analysed
 * frames, only near its tracks in between (pipeline.h, detect; default
 * LFR_PIPELINE_DETECT_EVERY; 1: every frame in full).
 * --embed-per-frame E: at most E faces embedded per camera per frame, new
 * tracks first (pipeline.h, embed; default LFR_PIPELINE_EMBED_PER_FRAME).
 * --defer-behind D: when D frames still wait for a camera, its due full
 * detection waits, at most detect_every analysed frames (pipeline.h,
 * detect, behind; default LFR_PIPELINE_DEFER_BEHIND; 0: never, as
 * `openlfr serve --defer-behind 0`).  Offline scans (files without
 * --realtime) wait for the analysis, so they are never behind.
 * --camera-queue Q: frames that may wait per camera (1..LFR_VIDEO_MAX_QUEUE;
 * default LFR_PIPELINE_CAMERA_QUEUE; 1: newest frame wins).
 * --camera-file FILE: a camera whose URL is the file's first line (a URL
 * with user:password@ on the command line can be read by every user of the
 * machine with ps).
 * --rtsp-transport tcp|udp: how rtsp:// cameras send RTP (default tcp,
 * interleaved in the RTSP connection: video.h).
 * Options are read by the command line's one parser (opt.h): `openlfr
 * scan --help` prints the table, and a bad value is named.  The database
 * and its key come from --db, --key-file and --config as for every other
 * command (lfr_cli_config: the configuration file, then OPENLFR_<KEY>, then
 * the flags); the --camera cameras come first, then the --camera-file ones.
 *
 * Each camera's state changes (connecting, running, stalled, ended,
 * failed) are printed to stderr with the reason as they happen.  Exit
 * status 1 when no camera ever delivered a frame (each one named with its
 * state and reason) or when an alert could not be stored (the store stayed
 * busy or failing: each such alert is logged at ERROR level); 0 otherwise.
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opt.h"
#include "pipeline/pipeline.h"

static volatile sig_atomic_t scan_stop;

static void on_signal(int sig) {
    (void)sig;
    scan_stop = 1;
}

/* Best score per (camera, track, entry) that alerted, for the summary. */
#define SCAN_MAX_TRACK_ROWS 4096
typedef struct track_row {
    int camera;
    uint64_t track;
    int64_t entry;
    char subject_ref[LFR_MAX_ACTOR];
    float cosine;
    lfr_pipeline_source source;
} track_row;

typedef struct track_rows {
    track_row *r;
    int n;
} track_rows;

static void track_rows_add(track_rows *t, const lfr_pipeline_event *ev) {
    for (int i = 0; i < t->n; i++) {
        track_row *r = &t->r[i];
        if (r->camera != ev->camera_index || r->track != ev->track_id || r->entry != ev->entry_id)
            continue;
        if (ev->cosine > r->cosine) {
            r->cosine = ev->cosine;
            r->source = ev->source;
        }
        return;
    }
    if (!t->r || t->n == SCAN_MAX_TRACK_ROWS) return;
    track_row *r = &t->r[t->n++];
    r->camera = ev->camera_index;
    r->track = ev->track_id;
    r->entry = ev->entry_id;
    snprintf(r->subject_ref, sizeof r->subject_ref, "%s", ev->subject_ref);
    r->cosine = ev->cosine;
    r->source = ev->source;
}

static json_t *track_rows_json(const track_rows *t) {
    json_t *a = json_array();
    for (int i = 0; i < t->n; i++) {
        const track_row *r = &t->r[i];
        json_array_append_new(a, json_pack("{s:i, s:I, s:I, s:s, s:f, s:s}", "camera", r->camera,
                                           "track", (json_int_t)r->track, "entry",
                                           (json_int_t)r->entry, "subject_ref", r->subject_ref,
                                           "cosine", (double)r->cosine, "source",
                                           lfr_pipeline_source_name(r->source)));
    }
    return a;
}

static void print_event(const lfr_pipeline_event *ev) {
    json_t *o = json_pack(
        "{s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:f, s:f, s:f, s:s, s:i, s:i, s:f,"
        " s:[f,f,f,f], s:{s:f, s:f, s:f, s:f, s:f, s:i}, s:f, s:I}",
        "event", lfr_pipeline_event_name(ev->type), "alert", (json_int_t)ev->alert_id,
        "deployment", (json_int_t)ev->deployment_id, "camera", ev->camera,
        "at", (json_int_t)ev->at, "track", (json_int_t)ev->track_id,
        "entry", (json_int_t)ev->entry_id, "image", (json_int_t)ev->image_id,
        "subject_ref", ev->subject_ref, "name", ev->display_name, "cosine", (double)ev->cosine,
        "threshold", (double)ev->threshold, "likeness", ev->likeness,
        "source", lfr_pipeline_source_name(ev->source), "template_n", ev->template_n,
        "entry_photos", ev->entry_photos, "latency_ms", ev->latency_ms, "box", (double)ev->box[0], (double)ev->box[1],
        (double)ev->box[2], (double)ev->box[3], "quality_measures", "eye_dist",
        (double)ev->q.eye_dist, "yaw", (double)ev->q.yaw, "roll", (double)ev->q.roll,
        "sharpness", (double)ev->q.sharpness, "onet", (double)ev->onet_score, "at_edge",
        ev->q.at_edge, "quality", (double)ev->quality, "face_jpeg_bytes",
        (json_int_t)ev->face_jpeg_len);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(5)) : NULL;
    if (s) {
        puts(s);
        fflush(stdout);
    }
    free(s);
    json_decref(o);
}

static const char *state_name(int st) {
    return st < 0 ? "injected" : lfr_cam_state_name((lfr_cam_state)st);
}

static json_t *metric_json(const lfr_pipeline_metric *m) {
    return json_pack("{s:I, s:f, s:f}", "n", (json_int_t)m->n, "median_ms", m->median_ms,
                     "p95_ms", m->p95_ms);
}

static void print_status(const lfr_pipeline_stats *s, int json, const char *type,
                         const track_rows *rows) {
    if (!json) {
        for (int i = 0; i < s->n_cameras; i++) {
            const lfr_pipeline_cam_stats *c = &s->cam[i];
            fprintf(stderr,
                    "scan: [%d] %s: %s, %.1f fps analysed, %llu frames, %llu faces, %llu tracks, "
                    "%llu embedded, %llu alerts (%llu suppressed), latency %.0f/%.0f ms "
                    "(median/p95), dropped %llu, analysis cpu %.0f %%, detected in full/near/"
                    "not %llu/%llu/%llu (%llu full deferred: behind)%s\n",
                    i, c->name, state_name(c->state), c->analysed_fps,
                    (unsigned long long)c->c.frames_analysed, (unsigned long long)c->c.faces,
                    (unsigned long long)c->c.tracks, (unsigned long long)c->c.embeddings,
                    (unsigned long long)c->c.alerts, (unsigned long long)c->c.alerts_suppressed,
                    c->latency.median_ms, c->latency.p95_ms,
                    (unsigned long long)c->c.frames_dropped,
                    c->wall_s > 0 ? 100.0 * c->cpu_s / c->wall_s : 0.0,
                    (unsigned long long)c->detect_full, (unsigned long long)c->detect_near,
                    (unsigned long long)c->detect_none, (unsigned long long)c->detect_deferred,
                    s->live ? "" : " [deployment not live]");
        }
        return;
    }
    json_t *cams = json_array();
    for (int i = 0; i < s->n_cameras; i++) {
        const lfr_pipeline_cam_stats *c = &s->cam[i];
        const lfr_pipeline_counters *k = &c->c;
        json_array_append_new(
            cams,
            json_pack("{s:s, s:s, s:b, s:f, s:f, s:f, s:i, s:i, s:{s:I, s:I, s:I, s:I, s:I, s:I,"
                      " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:o, s:o, s:o,"
                      " s:o, s:o, s:o, s:o, s:s, s:{s:I, s:I, s:I, s:I}, s:I}",
                      "name", c->name, "state", state_name(c->state), "running", c->running,
                      "analysed_fps", c->analysed_fps, "cpu_s", c->cpu_s, "wall_s", c->wall_s,
                      "src_w", c->src_w, "src_h", c->src_h, "counters", "frames",
                      (json_int_t)k->frames, "analysed", (json_int_t)k->frames_analysed,
                      "not_live", (json_int_t)k->frames_not_live, "dropped",
                      (json_int_t)k->frames_dropped, "faces", (json_int_t)k->faces, "gated",
                      (json_int_t)k->faces_gated, "tracks", (json_int_t)k->tracks, "embeddings",
                      (json_int_t)k->embeddings, "matches", (json_int_t)k->matches,
                      "template_matches", (json_int_t)k->template_matches, "template_hits",
                      (json_int_t)k->template_hits, "track_restarts",
                      (json_int_t)k->track_restarts, "alerts",
                      (json_int_t)k->alerts, "updates", (json_int_t)k->alert_updates,
                      "suppressed", (json_int_t)k->alerts_suppressed, "alert_errors",
                      (json_int_t)k->alert_errors, "alerts_delayed", (json_int_t)k->alerts_delayed,
                      "alerts_lost", (json_int_t)k->alerts_lost, "latency", metric_json(&c->latency),
                      "detect", metric_json(&c->detect), "track", metric_json(&c->track),
                      "embed", metric_json(&c->embed), "match", metric_json(&c->match),
                      "frame", metric_json(&c->frame), "wait", metric_json(&c->wait),
                      "reason", c->last_error, "detection", "full", (json_int_t)c->detect_full,
                      "near", (json_int_t)c->detect_near, "none", (json_int_t)c->detect_none,
                      "deferred", (json_int_t)c->detect_deferred,
                      "embeds_deferred", (json_int_t)c->embeds_deferred));
    }
    json_t *o = json_pack("{s:s, s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:o, s:i, s:o}", "type", type,
                          "deployment", (json_int_t)s->deployment_id, "live", s->live,
                          "templates", (json_int_t)s->templates, "alerts",
                          (json_int_t)s->total.alerts, "suppressed",
                          (json_int_t)s->total.alerts_suppressed, "events_dropped",
                          (json_int_t)s->events_dropped, "faces", (json_int_t)s->total.faces,
                          "latency", metric_json(&s->latency), "analysis_threads",
                          s->analysis_threads, "cameras", cams);
    if (o && rows) json_object_set_new(o, "tracks", track_rows_json(rows));
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(5)) : NULL;
    if (t) fprintf(stderr, "%s\n", t);
    free(t);
    json_decref(o);
}

/* Prints each camera whose state changed since the last call. */
static void print_states(const lfr_pipeline_stats *s, int *last, int json) {
    for (int i = 0; i < s->n_cameras; i++) {
        const lfr_pipeline_cam_stats *c = &s->cam[i];
        if (c->state == last[i]) continue;
        last[i] = c->state;
        /* last_error is the most recent problem: once frames flow again it
         * is history, not the reason for "live". */
        const char *why = c->state == LFR_CAM_LIVE ? "" : c->last_error;
        if (json) {
            json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:s}", "type", "camera", "index", i,
                                  "name", c->name, "state", state_name(c->state), "reason",
                                  why);
            char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
            if (t) fprintf(stderr, "%s\n", t);
            free(t);
            json_decref(o);
        } else {
            fprintf(stderr, "scan: camera [%d] %s: %s%s%s\n", i, c->name, state_name(c->state),
                    why[0] ? ": " : "", why);
        }
    }
}

/* A real option's value outside its range: the option and the value named,
 * as the parser names a bad integer. */
typedef struct real_check {
    const char *name;
    double v, min, max; /* min <= v <= max; max < min: no upper bound */
    int open_min;       /* v > min rather than v >= min */
} real_check;

int lfr_cmd_scan(int argc, char **argv) {
    const char *urls[LFR_PIPELINE_MAX_CAMERAS];
    char url_files[LFR_PIPELINE_MAX_CAMERAS][LFR_VIDEO_MAX_URL]; /* --camera-file (32 KB) */
    int n_urls = 0, loop = 0, realtime = 0, no_template = 0;
    double fps = 0, duration = 0, every = 5;
    lfr_pipeline_params prm = lfr_pipeline_params_default;
    double improve = prm.gate.improve_margin, eye = prm.gate.min_eye_dist,
           yaw = prm.gate.max_yaw, max_dist = prm.track.max_dist, cooldown = prm.cooldown_s;
    int64_t dep = 0, width = 0, max_embeds = prm.gate.max_embeds, tk = prm.tmpl.k,
            threads = prm.analysis_threads, per_frame = prm.embed_per_frame,
            detect_every = prm.detect_every, camera_queue = prm.camera_queue,
            defer = prm.defer_behind < 0 ? 0 : prm.defer_behind;
    const char *transport = "tcp";
    cli_list cams = {0}, cam_files = {0};
    lfr_cli_common c = {0};
    const cli_opt opts[] = {
        {"deployment", CLI_INT, 1, "ID", "the live deployment whose watchlist is matched", &dep,
         1, INT64_MAX},
        {"camera", CLI_LIST, 0, "URL", "a camera or video file", &cams, 0, 0},
        {"camera-file", CLI_LIST, 0, "FILE",
         "a camera whose URL is FILE's first line: a URL with a password on the command line can "
         "be read by every user of the machine with ps",
         &cam_files, 0, 0},
        {"fps", CLI_REAL, 0, "F", "frames analysed per second per camera (0: every frame) [0..1000]",
         &fps, 0, 0},
        {"width", CLI_INT, 0, "W", "scale frames to W pixels wide (0: as sent)", &width, 0,
         LFR_MAX_IMAGE_SIDE},
        {"loop", CLI_FLAG, 0, NULL, "play files again from the start when they end", &loop, 0, 0},
        {"realtime", CLI_FLAG, 0, NULL,
         "pace files as a camera would (frames may be dropped); otherwise every frame is analysed",
         &realtime, 0, 0},
        {"duration", CLI_REAL, 0, "S", "stop after S seconds (0: when the cameras end)", &duration,
         0, 0},
        {"status-every", CLI_REAL, 0, "S", "a status line every S seconds (default 5)", &every, 0,
         0},
        {"rtsp-transport", CLI_STR, 0, "tcp|udp", "how rtsp:// cameras send RTP (default tcp)",
         &transport, 0, 0},
        {"max-embeds", CLI_INT, 0, "K", "best-shot policy: embeddings per track at most",
         &max_embeds, 1, 1000},
        {"improve-margin", CLI_REAL, 0, "Q",
         "best-shot policy: embed a track again when its quality beats the best so far by Q",
         &improve, 0, 0},
        {"min-eye-dist", CLI_REAL, 0, "PX", "best-shot policy: eyes at least PX pixels apart",
         &eye, 0, 0},
        {"max-yaw", CLI_REAL, 0, "DEG", "best-shot policy: head turned at most DEG degrees [0..90]",
         &yaw, 0, 0},
        {"cooldown", CLI_REAL, 0, "S", "no second alert for an entry on a camera within S seconds",
         &cooldown, 0, 0},
        {"template-k", CLI_INT, 0, "K", "embeddings in a track's template (0: none)", &tk, 0,
         LFR_PIPELINE_MAX_TEMPLATE_K},
        {"no-track-template", CLI_FLAG, 0, NULL, "match best shots only (as --template-k 0)",
         &no_template, 0, 0},
        {"max-dist", CLI_REAL, 0, "X",
         "tracking: second association stage, in face widths (0: overlap only) [0..10]",
         &max_dist, 0, 0},
        {"analysis-threads", CLI_INT, 0, "N",
         "analysis workers shared by the cameras (0: one per CPU; -1: one per camera)", &threads,
         LFR_PIPELINE_THREAD_PER_CAMERA, LFR_PIPELINE_MAX_ANALYSIS_THREADS},
        {"detect-every", CLI_INT, 0, "N",
         "detect in full every N frames, near the tracks between (1: every frame)",
         &detect_every, 1, LFR_PIPELINE_MAX_DETECT_EVERY},
        {"embed-per-frame", CLI_INT, 0, "E", "faces embedded per camera per frame, at most",
         &per_frame, 1, LFR_MAX_NET_BATCH},
        {"defer-behind", CLI_INT, 0, "D",
         "with D frames waiting, a due full detection waits (0: never)", &defer, 0,
         LFR_VIDEO_MAX_QUEUE},
        {"camera-queue", CLI_INT, 0, "Q", "frames that may wait per camera (1: newest wins)",
         &camera_queue, 1, LFR_VIDEO_MAX_QUEUE},
        {"json", CLI_FLAG, 0, NULL, "status lines and the summary as JSON", &c.json, 0, 0},
        CLI_OPTS_DB(&c),
        CLI_END};
    const cli_cmd cmd = {
        "scan", "live recognition on cameras or files for one live deployment (JSON alerts)", opts,
        NULL,
        "Alerts go to standard output, one JSON object per line; camera states and a status line "
        "per camera every few seconds go to standard error.  Runs until every camera that does "
        "not loop has ended, --duration has passed, or SIGINT/SIGTERM.  While the deployment is "
        "not live, frames are counted and discarded.  Exit status 1 when no camera ever "
        "delivered a frame or an alert could not be stored."};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    const real_check reals[] = {
        {"--fps", fps, 0, 1000, 0},          {"--duration", duration, 0, -1, 0},
        {"--status-every", every, 0, -1, 1}, {"--improve-margin", improve, 0, -1, 0},
        {"--min-eye-dist", eye, 0, -1, 0},   {"--max-yaw", yaw, 0, 90, 0},
        {"--max-dist", max_dist, 0, 10, 0},  {"--cooldown", cooldown, 0, -1, 0}};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        const real_check *k = &reals[i];
        int above = k->open_min ? k->v > k->min : k->v >= k->min;
        if (above && (k->max < k->min || k->v <= k->max)) continue;
        if (k->max >= k->min)   /* as the parser words an integer's range */
            return cli_usage_error(&cmd, "%s: %g is out of range (%g to %g)", k->name, k->v,
                                   k->min, k->max);
        return cli_usage_error(&cmd, "%s: %g must be %s %g", k->name, k->v,
                               k->open_min ? "over" : "at least", k->min);
    }
    if (strcmp(transport, "tcp") && strcmp(transport, "udp"))
        return cli_usage_error(&cmd, "--rtsp-transport: '%s' is neither tcp nor udp", transport);
    if (cams.n + cam_files.n == 0)
        return cli_usage_error(&cmd, "give --camera URL or --camera-file FILE");
    if (cams.n + cam_files.n > LFR_PIPELINE_MAX_CAMERAS)
        return cli_usage_error(&cmd, "%d cameras: at most %d", cams.n + cam_files.n,
                               LFR_PIPELINE_MAX_CAMERAS);
    for (int i = 0; i < cams.n; i++) urls[n_urls++] = cams.v[i];
    for (int i = 0; i < cam_files.n; i++) {   /* the first line: no password in ps */
        char *buf = url_files[n_urls];
        FILE *f = fopen(cam_files.v[i], "r");
        char *got = f ? fgets(buf, LFR_VIDEO_MAX_URL, f) : NULL;
        if (f) fclose(f);
        if (got) buf[strcspn(buf, "\r\n")] = 0;
        if (!got || !buf[0]) {
            fprintf(stderr, "openlfr: scan: --camera-file %s: %s\n", cam_files.v[i],
                    f ? "empty first line" : "cannot open it");
            return 2;
        }
        urls[n_urls++] = buf;
    }
    int json = c.json, rtsp_tcp = !strcmp(transport, "tcp");
    prm.gate.improve_margin = (float)improve;
    prm.gate.min_eye_dist = (float)eye;
    prm.gate.max_yaw = (float)yaw;
    prm.gate.max_embeds = (int)max_embeds;
    prm.track.max_dist = (float)max_dist;
    prm.cooldown_s = cooldown;
    prm.tmpl.k = no_template ? 0 : (int)tk;
    prm.analysis_threads = (int)threads;
    prm.embed_per_frame = (int)per_frame;
    prm.detect_every = (int)detect_every;
    prm.defer_behind = defer ? (int)defer : -1;   /* 0: never (as serve's option) */
    prm.camera_queue = (int)camera_queue;

    lfr_config cfg;
    if ((r = lfr_cli_config(&c, &cfg))) return r;
    lfr_err err = {{0}};
    lfr_store *store = NULL;
    if (lfr_cli_store_open(&cfg, &store)) return 1;
    lfr_face_engine *engine = NULL;
    lfr_status st = lfr_face_engine_load(cfg.models, &engine, &err);
    if (st != LFR_OK) {
        lfr_store_close(store);
        fprintf(stderr, "openlfr: scan: cannot load the face models from %s (run `make setup`)\n",
                cfg.models);
        return lfr_cli_fail("loading the face models", st, &err);
    }
    lfr_deploy_info *info = lfr_malloc(sizeof *info);
    st = info ? lfr_deploy_get(store, dep, info, &err) : LFR_ERR_NOMEM;
    if (st != LFR_OK) {
        lfr_free(info);
        lfr_face_engine_destroy(engine);
        lfr_store_close(store);
        return lfr_cli_fail("deployment", st, &err);
    }
    if (info->state != LFR_DEPLOY_LIVE)
        fprintf(stderr, "openlfr: scan: deployment %lld is %s, not live: nothing will be matched "
                        "until it is started\n", (long long)dep, lfr_deploy_state_name(info->state));
    lfr_free(info);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    static const lfr_actor scan_actor = {"openlfr-scan", LFR_ROLE_SYSTEM};
    lfr_pipeline_config pc = {.store = store, .deployment_id = dep, .engine = engine,
                              .actor = &scan_actor, .params = &prm};
    lfr_pipeline *p = NULL;
    st = lfr_pipeline_start(&pc, &p, &err);
    int rc = 0;
    track_rows rows = {lfr_calloc(SCAN_MAX_TRACK_ROWS, sizeof(track_row)), 0};
    if (st != LFR_OK) rc = lfr_cli_fail("pipeline", st, &err);
    for (int i = 0; rc == 0 && i < n_urls; i++) {
        lfr_video_opts vo;
        memset(&vo, 0, sizeof vo);
        vo.url = urls[i];
        vo.loop = loop;
        vo.realtime = realtime;
        vo.width = width;
        vo.fps = fps;
        vo.read_timeout_ms = 5000;
        vo.rtsp_tcp = rtsp_tcp;
        vo.max_reconnects = 0;
        vo.wait_consumer = !realtime; /* files not paced: analyse every frame */
        char name[LFR_MAX_ACTOR];
        /* stored with alerts: the URL without its credentials */
        lfr_video_url_redact(urls[i], name, sizeof name);
        st = lfr_pipeline_add_camera(p, name, &vo, NULL, &err);
        if (st != LFR_OK) rc = lfr_cli_fail(name, st, &err);
    }
    uint64_t t0 = lfr_now_ns(), last_status = t0, last_states = t0;
    int last_state[LFR_PIPELINE_MAX_CAMERAS];
    for (int i = 0; i < LFR_PIPELINE_MAX_CAMERAS; i++) last_state[i] = -2;
    while (rc == 0 && !scan_stop) {
        lfr_pipeline_event ev;
        if (lfr_pipeline_next_event(p, &ev, 200) == LFR_OK) {
            print_event(&ev);
            track_rows_add(&rows, &ev);
            lfr_pipeline_event_free(&ev);
            continue;
        }
        uint64_t now = lfr_now_ns();
        if (now - last_states >= 200000000ull) {
            lfr_pipeline_stats *s = lfr_malloc(sizeof *s);
            if (s) {
                lfr_pipeline_stats_get(p, s);
                print_states(s, last_state, json);
                lfr_free(s);
            }
            last_states = now;
        }
        if (duration > 0 && (double)(now - t0) / 1e9 >= duration) break;
        if (lfr_pipeline_running(p) == 0) break;
        if ((double)(now - last_status) / 1e9 >= every) {
            lfr_pipeline_stats *s = lfr_malloc(sizeof *s);
            if (s) {
                lfr_pipeline_stats_get(p, s);
                print_status(s, json, "status", NULL);
                lfr_free(s);
            }
            last_status = now;
        }
    }
    if (p) {
        /* Stop the cameras; alerts still waiting for a busy store are
         * retried for a while, then reported lost. */
        lfr_err herr = {{0}};
        lfr_status hst = lfr_pipeline_halt(p, &herr);
        /* Events still queued when the cameras ended. */
        lfr_pipeline_event ev;
        while (lfr_pipeline_next_event(p, &ev, 0) == LFR_OK) {
            print_event(&ev);
            track_rows_add(&rows, &ev);
            lfr_pipeline_event_free(&ev);
        }
        lfr_pipeline_stats *s = lfr_malloc(sizeof *s);
        if (s) {
            lfr_pipeline_stats_get(p, s);
            print_states(s, last_state, json);
            print_status(s, json, "summary", &rows);
            int worked = 0;
            for (int i = 0; i < s->n_cameras; i++) {
                const lfr_pipeline_cam_stats *c = &s->cam[i];
                if (c->c.frames > 0 || c->decoded > 0) {
                    worked++;
                    continue;
                }
                fprintf(stderr, "openlfr: scan: camera [%d] %s never delivered a frame: %s%s%s\n",
                        i, c->name, state_name(c->state), c->last_error[0] ? ": " : "",
                        c->last_error[0] ? c->last_error : " (no error reported yet)");
            }
            if (rc == 0 && s->n_cameras > 0 && worked == 0) {
                fprintf(stderr, "openlfr: scan: no camera worked: nothing was analysed\n");
                rc = 1;
            }
            if (s->total.alerts_delayed)
                fprintf(stderr, "openlfr: scan: %llu alert(s) had to wait for a busy store\n",
                        (unsigned long long)s->total.alerts_delayed);
            if (s->total.alert_errors)
                fprintf(stderr, "openlfr: scan: %llu alert(s) refused by the store (deployment no "
                        "longer live)\n", (unsigned long long)s->total.alert_errors);
            lfr_free(s);
        }
        if (hst != LFR_OK) {
            fprintf(stderr, "openlfr: scan: ALERTS NOT STORED: %s\n", herr.msg);
            rc = 1;
        }
        lfr_pipeline_stop(p);
    }
    lfr_free(rows.r);
    if (scan_stop) fprintf(stderr, "scan: stopped by signal\n");
    lfr_face_engine_destroy(engine);
    lfr_store_close(store);
    return rc;
}
