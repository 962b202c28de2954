/*
 * registry.c - the registry of live deployments (live_int.h): one entry per
 * live deployment with its own store connection, its watchlist snapshot
 * and (in a server) its camera pipeline; a monitor thread turns camera
 * state changes into "camera.state" events and drains the pipelines'
 * queues (their alerts were published from the camera threads).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app/live_int.h"

/* How often the monitor looks at camera states (ms). */
#define REGISTRY_MONITOR_MS 250

typedef struct reg_entry {
    int64_t dep;
    lfr_store *store;                 /* this entry's own connection */
    lfr_pipeline *p;                  /* NULL: no cameras run */
    lfr_pipeline_snapshot *snap;      /* for photo checks; under r->mu */
    int n_cams;
    int64_t cam_ids[LFR_PIPELINE_MAX_CAMERAS];   /* pipeline index -> camera id */
    const char *cam_rtsp[LFR_PIPELINE_MAX_CAMERAS];  /* its RTSP transport ("tcp", "udp";
                                                       static), NULL: not an rtsp:// camera */
    int last_state[LFR_PIPELINE_MAX_CAMERAS];    /* monitor thread only */
    struct reg_entry *next;
} reg_entry;

struct lfr_registry {
    lfr_registry_config cfg;
    char db_path[LFR_MAX_CONFIG_VALUE], key_path[LFR_MAX_CONFIG_VALUE];
    lfr_pipeline_params params;       /* cfg.params points here */
    char *passphrase;
    pthread_mutex_t change_mu;        /* serialises lfr_registry_changed */
    pthread_mutex_t mu;               /* the list and each entry's snap */
    reg_entry *head;
    pthread_t monitor;
    int has_monitor;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    int stop;
    uint64_t alerts_lost;             /* of pipelines already stopped */
};

static void publish(lfr_registry *r, const char *type, int64_t dep, int64_t alert, json_t *data) {
    if (r->cfg.publish) r->cfg.publish(r->cfg.publish_ctx, type, dep, alert, data);
    else json_decref(data);
}

/* Pipeline alerts -> app events (camera thread; must not block). */
static void on_pipeline_event(void *ctx, const lfr_pipeline_event *ev) {
    lfr_registry *r = ctx;
    json_t *d = json_pack("{s:I, s:I, s:s, s:I, s:I, s:I, s:s, s:s, s:f, s:f, s:f, s:I, s:f, "
                          "s:s, s:i, s:i}",
                          "alert", (json_int_t)ev->alert_id, "deployment",
                          (json_int_t)ev->deployment_id, "camera", ev->camera, "track",
                          (json_int_t)ev->track_id, "entry", (json_int_t)ev->entry_id, "image",
                          (json_int_t)ev->image_id, "subject_ref", ev->subject_ref, "name",
                          ev->display_name, "cosine", (double)ev->cosine, "threshold",
                          (double)ev->threshold, "likeness", ev->likeness, "at",
                          (json_int_t)ev->at, "latency_ms", ev->latency_ms, "source",
                          lfr_pipeline_source_name(ev->source), "template_n", ev->template_n,
                          "entry_photos", ev->entry_photos);
    publish(r, ev->type == LFR_PIPELINE_ALERT_UPDATE ? "alert.update" : "alert.new",
            ev->deployment_id, ev->alert_id, d);
}

static const char *cam_state_text(int st) {
    return st < 0 ? "injected" : lfr_cam_state_name((lfr_cam_state)st);
}

static void entry_stop_pipeline(lfr_registry *r, reg_entry *e) {
    if (!e->p) return;
    lfr_err err = {{0}};
    if (lfr_pipeline_halt(e->p, &err) != LFR_OK)
        lfr_log(LFR_LOG_ERROR, "registry: deployment %lld: %s", (long long)e->dep, err.msg);
    lfr_pipeline_stats *s = lfr_malloc(sizeof *s);
    if (s) {
        lfr_pipeline_stats_get(e->p, s);
        pthread_mutex_lock(&r->mu);
        r->alerts_lost += s->total.alerts_lost;
        pthread_mutex_unlock(&r->mu);
        lfr_free(s);
    }
    lfr_pipeline *p = e->p;
    pthread_mutex_lock(&r->mu);
    e->p = NULL;          /* the monitor no longer sees it */
    e->n_cams = 0;
    pthread_mutex_unlock(&r->mu);
    lfr_pipeline_stop(p);
}

static void entry_free(lfr_registry *r, reg_entry *e) {
    entry_stop_pipeline(r, e);
    lfr_pipeline_snapshot_unref(e->snap);
    lfr_store_close(e->store);
    lfr_free(e);
}

/* Caller holds change_mu. */
static reg_entry *entry_find(lfr_registry *r, int64_t dep) {
    pthread_mutex_lock(&r->mu);
    reg_entry *e = r->head;
    while (e && e->dep != dep) e = e->next;
    pthread_mutex_unlock(&r->mu);
    return e;
}

static void entry_unlink(lfr_registry *r, reg_entry *e) {
    pthread_mutex_lock(&r->mu);
    for (reg_entry **pp = &r->head; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    pthread_mutex_unlock(&r->mu);
}

typedef struct load_ctx {
    int64_t dep;
    lfr_pipeline_snapshot *snap;
    lfr_camera_info *cams;
    size_t n_cams;
    lfr_err *err;
    lfr_status cam_st;
} load_ctx;

static lfr_status load_fn(lfr_store *s, void *arg) {
    load_ctx *c = arg;
    lfr_status st = lfr_pipeline_snapshot_load(s, c->dep, &c->snap, c->err);
    if (st == LFR_OK) c->cam_st = lfr_deploy_camera_list(s, c->dep, &c->cams, &c->n_cams, c->err);
    return st;
}

static int same_cameras(const reg_entry *e, const lfr_camera_info *cams, size_t n) {
    if ((size_t)e->n_cams != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (e->cam_ids[i] != cams[i].id) return 0;
    return 1;
}

/* Starts e's pipeline with cameras cams (e->p NULL on entry). */
static lfr_status entry_start_pipeline(lfr_registry *r, reg_entry *e, lfr_pipeline_snapshot *snap,
                                       const lfr_camera_info *cams, size_t n, lfr_err *err) {
    lfr_pipeline_config pc = {.store = e->store, .deployment_id = e->dep, .engine = r->cfg.engine,
                              .params = r->cfg.params, .on_event = on_pipeline_event,
                              .on_event_ctx = r};
    lfr_pipeline *p = NULL;
    lfr_status st = lfr_pipeline_start(&pc, &p, err);
    if (st != LFR_OK) return st;
    lfr_pipeline_set_snapshot(p, snap);
    int k = 0;
    for (size_t i = 0; i < n && k < LFR_PIPELINE_MAX_CAMERAS; i++) {
        char *url = NULL;
        const char *rtsp = NULL;
        lfr_err cerr = {{0}};
        lfr_status cs = lfr_deploy_camera_url(e->store, cams[i].id, &url, &cerr);
        if (cs == LFR_OK) {
            lfr_video_opts vo;
            memset(&vo, 0, sizeof vo);
            vo.url = url;
            vo.realtime = 1;          /* a file camera plays at its own pace */
            vo.read_timeout_ms = 5000;
            vo.rtsp_tcp = cams[i].rtsp_transport != LFR_RTSP_UDP;   /* the camera's own */
            /* what camera.stats reports: rtsps:// is always TCP (TLS) */
            if (strncasecmp(url, "rtsp://", 7) == 0)
                rtsp = lfr_rtsp_transport_name(cams[i].rtsp_transport);
            else if (strncasecmp(url, "rtsps://", 8) == 0)
                rtsp = lfr_rtsp_transport_name(LFR_RTSP_TCP);
            cs = lfr_pipeline_add_camera(p, cams[i].name, &vo, NULL, &cerr);
            sodium_memzero(url, strlen(url));
            lfr_free(url);
        }
        if (cs != LFR_OK) {
            lfr_log(LFR_LOG_ERROR, "registry: deployment %lld: camera %s not started: %s",
                    (long long)e->dep, cams[i].name, cerr.msg);
            publish(r, "camera.state", e->dep, 0,
                    json_pack("{s:s, s:s, s:s}", "camera", cams[i].name, "state", "failed",
                              "reason", cerr.msg));
            continue;
        }
        e->cam_ids[k] = cams[i].id;
        e->cam_rtsp[k] = rtsp;
        e->last_state[k] = -2;
        k++;
    }
    pthread_mutex_lock(&r->mu);
    e->p = p;
    e->n_cams = k;
    pthread_mutex_unlock(&r->mu);
    return LFR_OK;
}

lfr_status lfr_registry_changed(lfr_registry *r, int64_t dep, lfr_err *err) {
    pthread_mutex_lock(&r->change_mu);
    reg_entry *e = entry_find(r, dep);
    int fresh = 0;
    lfr_status st = LFR_OK;
    if (!e) {
        e = lfr_calloc(1, sizeof *e);
        if (!e) {
            pthread_mutex_unlock(&r->change_mu);
            return LFR_ERR_NOMEM;
        }
        e->dep = dep;
        st = lfr_store_open(&r->cfg.store, &e->store, err);
        if (st != LFR_OK) {
            lfr_free(e);
            pthread_mutex_unlock(&r->change_mu);
            return st;
        }
        fresh = 1;
    }
    load_ctx lc = {.dep = dep, .err = err};
    st = e->p ? lfr_pipeline_with_store(e->p, load_fn, &lc) : load_fn(e->store, &lc);
    if (st == LFR_ERR_STATE || st == LFR_ERR_NOT_FOUND || st == LFR_ERR_INTEGRITY) {
        if (st == LFR_ERR_INTEGRITY)
            lfr_log(LFR_LOG_ERROR, "registry: deployment %lld: WATCHLIST REFUSED, NOTHING WILL BE "
                    "MATCHED: %s", (long long)dep, err ? err->msg : "digest mismatch");
        else
            st = LFR_OK;   /* not live (any more): nothing to run */
        if (!fresh) entry_unlink(r, e);
        entry_free(r, e);
        pthread_mutex_unlock(&r->change_mu);
        return st;
    }
    if (st != LFR_OK) { /* e.g. busy: keep what runs */
        if (fresh) entry_free(r, e);
        pthread_mutex_unlock(&r->change_mu);
        return st;
    }
    if (lc.cam_st != LFR_OK)
        lfr_log(LFR_LOG_WARN, "registry: deployment %lld: cameras not listed: %s", (long long)dep,
                err ? err->msg : "");
    pthread_mutex_lock(&r->mu);
    lfr_pipeline_snapshot *old = e->snap;
    e->snap = lc.snap;
    if (fresh) {
        e->next = r->head;
        r->head = e;
    }
    pthread_mutex_unlock(&r->mu);
    lfr_pipeline_snapshot_unref(old);
    if (r->cfg.engine && !r->cfg.no_pipelines) {
        if (e->p && !same_cameras(e, lc.cams, lc.n_cams)) entry_stop_pipeline(r, e);
        if (e->p) lfr_pipeline_set_snapshot(e->p, lc.snap);
        else st = entry_start_pipeline(r, e, lc.snap, lc.cams, lc.n_cams, err);
    }
    lfr_free(lc.cams);
    pthread_mutex_unlock(&r->change_mu);
    return st;
}

lfr_status lfr_registry_sync(lfr_registry *r, lfr_store *s, lfr_err *err) {
    lfr_deploy_info *list = NULL;
    size_t n = 0;
    lfr_status st = lfr_deploy_list(s, &list, &n, err);
    if (st != LFR_OK) return st;
    lfr_status first = LFR_OK;
    for (size_t i = 0; i < n; i++) {
        if (list[i].state != LFR_DEPLOY_LIVE) continue;
        lfr_err e2 = {{0}};
        st = lfr_registry_changed(r, list[i].id, &e2);
        if (st != LFR_OK && first == LFR_OK) {
            first = st;
            if (err) *err = e2;
        }
    }
    lfr_free(list);
    return first;
}

lfr_status lfr_registry_snapshot_get(lfr_registry *r, int64_t dep, lfr_pipeline_snapshot **out,
                                     lfr_err *err) {
    *out = NULL;
    pthread_mutex_lock(&r->mu);
    reg_entry *e = r->head;
    while (e && e->dep != dep) e = e->next;
    if (e) *out = lfr_pipeline_snapshot_ref(e->snap);
    pthread_mutex_unlock(&r->mu);
    if (!*out)
        return lfr_err_set(err, LFR_ERR_NOT_FOUND, "deployment %lld is not live", (long long)dep);
    return LFR_OK;
}

size_t lfr_registry_cameras(lfr_registry *r, lfr_app_camera_stats *out, size_t cap) {
    size_t n = 0;
    lfr_pipeline_stats *s = lfr_malloc(sizeof *s);
    if (!s) return 0;
    pthread_mutex_lock(&r->mu);
    for (reg_entry *e = r->head; e; e = e->next) {
        if (!e->p) continue;
        lfr_pipeline_stats_get(e->p, s);
        for (int i = 0; i < s->n_cameras; i++, n++) {
            if (n >= cap || !out) continue;
            const lfr_pipeline_cam_stats *c = &s->cam[i];
            lfr_app_camera_stats *o = &out[n];
            memset(o, 0, sizeof *o);
            o->deployment_id = e->dep;
            snprintf(o->name, sizeof o->name, "%s", c->name);
            o->state = cam_state_text(c->state);
            o->analysed_fps = c->analysed_fps;
            o->frames = c->c.frames;
            o->frames_dropped = c->c.frames_dropped;
            o->faces = c->c.faces;
            o->alerts = c->c.alerts;
            o->latency_p50_ms = c->latency.median_ms;
            o->latency_p95_ms = c->latency.p95_ms;
        }
    }
    pthread_mutex_unlock(&r->mu);
    lfr_free(s);
    return n;
}

uint64_t lfr_registry_alerts_lost(lfr_registry *r) {
    lfr_pipeline_stats *s = lfr_malloc(sizeof *s);
    pthread_mutex_lock(&r->mu);
    uint64_t n = r->alerts_lost;
    for (reg_entry *e = r->head; s && e; e = e->next) {
        if (!e->p) continue;
        lfr_pipeline_stats_get(e->p, s);
        n += s->total.alerts_lost;
    }
    pthread_mutex_unlock(&r->mu);
    lfr_free(s);
    return n;
}

static json_t *metric_ms(const lfr_pipeline_metric *m, int p95) {
    return m->n ? json_real(p95 ? m->p95_ms : m->median_ms) : json_null();
}

/* One camera's figures for the console (camera.stats). */
static json_t *cam_json(int64_t camera_id, const char *rtsp, const lfr_pipeline_cam_stats *c) {
    json_t *o = json_object();
    if (!o) return NULL;
    const lfr_pipeline_counters *k = &c->c;
    struct {
        const char *key;
        json_t *v;
    } f[] = {
        {"camera_id", camera_id > 0 ? json_integer(camera_id) : json_null()},
        {"name", json_string(c->name)},
        {"state", json_string(cam_state_text(c->state))},
        {"rtsp_transport", rtsp ? json_string(rtsp) : json_null()},
        {"reason", c->last_error[0] ? json_string(c->last_error) : json_null()},
        {"running", json_boolean(c->running)},
        {"analysed_fps", json_real(c->analysed_fps)},
        {"frames", json_integer((json_int_t)k->frames)},
        {"frames_analysed", json_integer((json_int_t)k->frames_analysed)},
        {"frames_dropped", json_integer((json_int_t)k->frames_dropped)},
        {"frames_not_live", json_integer((json_int_t)k->frames_not_live)},
        {"detect_full", json_integer((json_int_t)c->detect_full)},
        {"detect_near", json_integer((json_int_t)c->detect_near)},
        {"detect_none", json_integer((json_int_t)c->detect_none)},
        {"detect_deferred", json_integer((json_int_t)c->detect_deferred)},
        {"decoded", json_integer((json_int_t)c->decoded)},
        {"faces", json_integer((json_int_t)k->faces)},
        {"faces_gated", json_integer((json_int_t)k->faces_gated)},
        {"tracks", json_integer((json_int_t)k->tracks)},
        {"embeddings", json_integer((json_int_t)k->embeddings)},
        {"matches", json_integer((json_int_t)k->matches)},
        {"alerts", json_integer((json_int_t)k->alerts)},
        {"alert_updates", json_integer((json_int_t)k->alert_updates)},
        {"alerts_suppressed", json_integer((json_int_t)k->alerts_suppressed)},
        {"alerts_pending", json_integer((json_int_t)k->alerts_pending)},
        {"alerts_lost", json_integer((json_int_t)k->alerts_lost)},
        {"latency_p50_ms", metric_ms(&c->latency, 0)},
        {"latency_p95_ms", metric_ms(&c->latency, 1)},
        {"frame_p50_ms", metric_ms(&c->frame, 0)},
        {"frame_p95_ms", metric_ms(&c->frame, 1)},
        {"cpu_s", json_real(c->cpu_s)},
        {"wall_s", json_real(c->wall_s)},
        {"width", json_integer(c->src_w)},
        {"height", json_integer(c->src_h)},
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (!f[i].v || json_object_set_new(o, f[i].key, f[i].v)) ok = 0;
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The settings object of camera.stats; workers from the same reading. */
static json_t *settings_json(const lfr_pipeline_params *q, int workers) {
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:f}", "detect_every",
                     q->detect_every ? q->detect_every : LFR_PIPELINE_DETECT_EVERY,
                     "defer_behind",
                     q->defer_behind > 0 ? q->defer_behind
                                         : q->defer_behind ? 0 : LFR_PIPELINE_DEFER_BEHIND,
                     "embed_per_frame",
                     q->embed_per_frame ? q->embed_per_frame : LFR_PIPELINE_EMBED_PER_FRAME,
                     "camera_queue", q->camera_queue ? q->camera_queue : LFR_PIPELINE_CAMERA_QUEUE,
                     "analysis_threads", q->analysis_threads, "analysis_workers", workers,
                     "alert_cooldown_s", q->cooldown_s);
}

lfr_status lfr_registry_camera_stats(lfr_registry *r, int64_t dep, json_t **cams,
                                     json_t **settings) {
    json_t *arr = json_array();
    lfr_pipeline_stats *s = lfr_malloc(sizeof *s);
    int workers = 0;
    *cams = *settings = NULL;
    if (!arr || !s) {
        json_decref(arr);
        lfr_free(s);
        return LFR_ERR_NOMEM;
    }
    pthread_mutex_lock(&r->mu);
    reg_entry *e = r->head;
    while (e && e->dep != dep) e = e->next;
    if (e && e->p) {
        lfr_pipeline_stats_get(e->p, s);
        workers = s->analysis_threads;
        for (int i = 0; i < s->n_cameras; i++)
            if (json_array_append_new(arr, cam_json(i < e->n_cams ? e->cam_ids[i] : 0,
                                                  i < e->n_cams ? e->cam_rtsp[i] : NULL, &s->cam[i]))) {
                json_decref(arr);
                arr = NULL;
                break;
            }
    }
    pthread_mutex_unlock(&r->mu);
    lfr_free(s);
    json_t *set = arr ? settings_json(&r->params, workers) : NULL;
    if (!arr || !set) {
        json_decref(arr);
        return LFR_ERR_NOMEM;
    }
    *cams = arr;
    *settings = set;
    return LFR_OK;
}

lfr_status lfr_registry_preview(lfr_registry *r, int64_t dep, int64_t camera_id, uint8_t **jpeg,
                                size_t *len, lfr_err *err) {
    *jpeg = NULL;
    *len = 0;
    lfr_status st;
    /* under mu: the pipeline is not stopped meanwhile (entry_stop_pipeline
     * unhooks it under mu first) */
    pthread_mutex_lock(&r->mu);
    reg_entry *e = r->head;
    while (e && e->dep != dep) e = e->next;
    int cam = -1;
    for (int i = 0; e && e->p && i < e->n_cams; i++)
        if (e->cam_ids[i] == camera_id) cam = i;
    if (!e || !e->p)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "deployment %lld runs no cameras now",
                         (long long)dep);
    else if (cam < 0)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "camera %lld is not running", (long long)camera_id);
    else
        st = lfr_pipeline_preview(e->p, cam, jpeg, len, err);
    pthread_mutex_unlock(&r->mu);
    return st;
}

/* Camera states -> "camera.state"; pipelines' own queues drained. */
static void *monitor_thread(void *arg) {
    lfr_registry *r = arg;
    lfr_pipeline_stats *s = lfr_malloc(sizeof *s);
    for (;;) {
        pthread_mutex_lock(&r->stop_mu);
        if (!r->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += REGISTRY_MONITOR_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&r->stop_cv, &r->stop_mu, &ts);
        }
        int stop = r->stop;
        pthread_mutex_unlock(&r->stop_mu);
        if (stop) break;
        if (!s) continue;
        pthread_mutex_lock(&r->mu);
        for (reg_entry *e = r->head; e; e = e->next) {
            if (!e->p) continue;
            lfr_pipeline_event ev;
            while (lfr_pipeline_next_event(e->p, &ev, 0) == LFR_OK) lfr_pipeline_event_free(&ev);
            lfr_pipeline_stats_get(e->p, s);
            for (int i = 0; i < s->n_cameras && i < e->n_cams; i++) {
                const lfr_pipeline_cam_stats *c = &s->cam[i];
                if (c->state == e->last_state[i]) continue;
                e->last_state[i] = c->state;
                publish(r, "camera.state", e->dep, 0,
                        json_pack("{s:I, s:s, s:s, s:s}", "camera_id", (json_int_t)e->cam_ids[i],
                                  "camera", c->name, "state", cam_state_text(c->state), "reason",
                                  c->last_error));
            }
        }
        pthread_mutex_unlock(&r->mu);
    }
    lfr_free(s);
    return NULL;
}

lfr_status lfr_registry_new(const lfr_registry_config *cfg, lfr_registry **out, lfr_err *err) {
    *out = NULL;
    if (!cfg || !cfg->store.db_path)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "the registry needs the store configuration");
    lfr_registry *r = lfr_calloc(1, sizeof *r);
    if (!r) return LFR_ERR_NOMEM;
    r->cfg = *cfg;
    r->params = cfg->params ? *cfg->params : lfr_pipeline_params_default;
    r->cfg.params = &r->params;
    snprintf(r->db_path, sizeof r->db_path, "%s", cfg->store.db_path);
    r->cfg.store.db_path = r->db_path;
    if (cfg->store.key_path) {
        snprintf(r->key_path, sizeof r->key_path, "%s", cfg->store.key_path);
        r->cfg.store.key_path = r->key_path;
    }
    if (cfg->store.passphrase) {
        r->passphrase = strdup(cfg->store.passphrase);
        if (!r->passphrase) {
            lfr_free(r);
            return LFR_ERR_NOMEM;
        }
        r->cfg.store.passphrase = r->passphrase;
    }
    pthread_mutex_init(&r->change_mu, NULL);
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->stop_mu, NULL);
    pthread_cond_init(&r->stop_cv, NULL);
    if (pthread_create(&r->monitor, NULL, monitor_thread, r) == 0) r->has_monitor = 1;
    else {
        lfr_registry_free(r);
        return lfr_err_set(err, LFR_ERR_INTERNAL, "cannot start the registry's monitor thread");
    }
    *out = r;
    return LFR_OK;
}

void lfr_registry_free(lfr_registry *r) {
    if (!r) return;
    pthread_mutex_lock(&r->stop_mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->stop_cv);
    pthread_mutex_unlock(&r->stop_mu);
    if (r->has_monitor) pthread_join(r->monitor, NULL);
    pthread_mutex_lock(&r->change_mu);
    while (r->head) {
        reg_entry *e = r->head;
        r->head = e->next;
        entry_free(r, e);
    }
    pthread_mutex_unlock(&r->change_mu);
    if (r->passphrase) {
        sodium_memzero(r->passphrase, strlen(r->passphrase));
        free(r->passphrase);
    }
    pthread_mutex_destroy(&r->change_mu);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->stop_mu);
    pthread_cond_destroy(&r->stop_cv);
    lfr_free(r);
}

lfr_status lfr_live_snapshot_load(lfr_store *s, int64_t deployment_id, lfr_live_snapshot **out,
                                  lfr_err *err) {
    return lfr_pipeline_snapshot_load(s, deployment_id, out, err);
}

lfr_live_snapshot *lfr_live_snapshot_ref(lfr_live_snapshot *s) {
    return lfr_pipeline_snapshot_ref(s);
}

void lfr_live_snapshot_unref(lfr_live_snapshot *s) { lfr_pipeline_snapshot_unref(s); }

/* app.h ------------------------------------------------------------------- */

size_t lfr_app_cameras(lfr_app *app, lfr_app_camera_stats *out, size_t cap) {
    lfr_registry *r = app ? lfr_app_registry(app) : NULL;
    return r ? lfr_registry_cameras(r, out, cap) : 0;
}
