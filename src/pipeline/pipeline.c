/*
 * pipeline.c - camera -> detect -> track -> gate -> embed -> match -> alert.
 * See pipeline.h for the rules; the privacy rule is the one to keep in mind
 * when editing: nothing about a face that did not match may leave
 * analyse_faces() except counters.
 */
#define _POSIX_C_SOURCE 200809L
#include "pipeline/pipeline.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "match/match.h"
#include "pipeline/preview_int.h"

const lfr_pipeline_params lfr_pipeline_params_default = {
    .track = {.iou_min = 0.3f, .max_unseen = 10, .max_dist = 1.0f, .max_size_ratio = 1.5f},
    .gate = {.min_eye_dist = 16.0f, .max_yaw = 35.0f, .max_roll = 30.0f, .min_onet = 0.9f,
             .reject_edge = 1, .good_eye_dist = 60.0f, .improve_margin = 0.10f, .max_embeds = 5},
    .tmpl = {.k = 4, .fill_rel = 0.8f, .fill_gap = 5, .same_min = 0.35f},
    .cooldown_s = 30.0,
    .live_check_ms = 1000,
    .event_queue = 256,
    .crop_jpeg_quality = 90,
    .crop_pad = 0.4f,
    .alert_flush_ms = LFR_PIPELINE_ALERT_FLUSH_MS,
    .preview_ms = LFR_PIPELINE_PREVIEW_MS,
    .analysis_threads = 0,
    .detect_every = LFR_PIPELINE_DETECT_EVERY,
    .embed_per_frame = LFR_PIPELINE_EMBED_PER_FRAME,
    .camera_queue = LFR_PIPELINE_CAMERA_QUEUE,
    .defer_behind = LFR_PIPELINE_DEFER_BEHIND,
};

static const lfr_actor default_actor = {"openlfr-pipeline", LFR_ROLE_SYSTEM};

const char *lfr_pipeline_event_name(lfr_pipeline_event_type t) {
    return t == LFR_PIPELINE_ALERT_UPDATE ? "alert.update" : "alert";
}

const char *lfr_pipeline_source_name(lfr_pipeline_source s) {
    static const char *const names[] = {
#define LFR_PIPELINE_SOURCE_NAME(id, name, what) name,
        LFR_PIPELINE_SOURCE_LIST(LFR_PIPELINE_SOURCE_NAME)
#undef LFR_PIPELINE_SOURCE_NAME
    };
    return (unsigned)s < LFR_PIPELINE_SOURCE_COUNT ? names[s] : "unknown";
}

/* Quality gate ------------------------------------------------------------ */

float lfr_pipeline_quality(const lfr_quality_gate *g, const lfr_face *f) {
    const lfr_face_quality *q = &f->q;
    if (!(q->eye_dist >= g->min_eye_dist)) return -1;
    if (!(fabsf(q->yaw) <= g->max_yaw) || !(fabsf(q->roll) <= g->max_roll)) return -1;
    if (f->onet_score > 0 && f->onet_score < g->min_onet) return -1;
    if (g->reject_edge && q->at_edge) return -1;
    float size = g->good_eye_dist > 0 ? fminf(q->eye_dist / g->good_eye_dist, 1.0f) : 1.0f;
    float yaw = 1.0f - fabsf(q->yaw) / 90.0f, roll = 1.0f - fabsf(q->roll) / 90.0f;
    float conf = f->onet_score > 0 ? f->onet_score : f->score;
    return size * yaw * roll * conf;
}

/* Tracker ----------------------------------------------------------------- */

float lfr_box_iou(const float a[4], const float b[4]) {
    float x0 = fmaxf(a[0], b[0]), y0 = fmaxf(a[1], b[1]);
    float x1 = fminf(a[0] + a[2], b[0] + b[2]), y1 = fminf(a[1] + a[3], b[1] + b[3]);
    float iw = x1 - x0, ih = y1 - y0;
    if (!(iw > 0) || !(ih > 0)) return 0;
    float inter = iw * ih, uni = a[2] * a[3] + b[2] * b[3] - inter;
    return uni > 0 ? inter / uni : 0;
}

void lfr_tracker_init(lfr_tracker *tr, const lfr_track_params *p) {
    memset(tr, 0, sizeof *tr);
    tr->p = p ? *p : lfr_pipeline_params_default.track;
    tr->next_id = 1;
}

typedef struct pair {
    float iou;
    short trk, det;
} pair;

static int pair_cmp(const void *a, const void *b) {
    const pair *x = a, *y = b;
    if (x->iou != y->iou) return x->iou > y->iou ? -1 : 1;
    if (x->trk != y->trk) return x->trk - y->trk;
    return x->det - y->det;
}

/* Track t continues with box b: velocity, box, counters. */
static void track_hit(lfr_track *t, const float b[4]) {
    float gap = (float)(t->unseen + 1);
    float vx = (b[0] + b[2] / 2 - (t->box[0] + t->box[2] / 2)) / gap;
    float vy = (b[1] + b[3] / 2 - (t->box[1] + t->box[3] / 2)) / gap;
    if (t->hits <= 1) {
        t->vel[0] = vx;
        t->vel[1] = vy;
    } else {
        t->vel[0] = 0.5f * t->vel[0] + 0.5f * vx;
        t->vel[1] = 0.5f * t->vel[1] + 0.5f * vy;
    }
    /* The centre moves with the detection; the size too. */
    memcpy(t->box, b, sizeof t->box);
    t->unseen = 0;
    t->hits++;
}

/* Second stage: centre distance from the prediction in face widths (the
 * larger of the two boxes), or -1 when outside the gate.  The gate is
 * max_dist at one frame, a quarter wider per missed frame, twice as wide
 * for a track seen once (its velocity is unknown), at most 2 max_dist;
 * sizes must agree within max_size_ratio. */
static float gate_dist(const lfr_track_params *p, const lfr_track *t, const float pred[4],
                       const float b[4]) {
    float w = fmaxf(pred[2], b[2]);
    if (!(w > 0) || !(pred[2] > 0) || !(b[2] > 0)) return -1;
    float r = b[2] > pred[2] ? b[2] / pred[2] : pred[2] / b[2];
    if (!(r <= p->max_size_ratio)) return -1;
    float dx = b[0] + b[2] / 2 - (pred[0] + pred[2] / 2);
    float dy = b[1] + b[3] / 2 - (pred[1] + pred[3] / 2);
    float d = sqrtf(dx * dx + dy * dy) / w;
    float g = 1.0f + 0.25f * (float)t->unseen + (t->hits <= 1 ? 1.0f : 0.0f);
    if (g > 2.0f) g = 2.0f;
    return d <= p->max_dist * g ? d : -1;
}

uint64_t lfr_tracker_restart(lfr_tracker *tr, int i) {
    if (i < 0 || i >= LFR_PIPELINE_MAX_TRACKS || !tr->t[i].id) return 0;
    tr->t[i].id = tr->next_id++;
    tr->created++;
    return tr->t[i].id;
}

void lfr_tracker_update(lfr_tracker *tr, const float (*boxes)[4], int n, int *assign,
                        uint64_t *removed, int *n_removed) {
    enum { T = LFR_PIPELINE_MAX_TRACKS };
    if (n < 0) n = 0;
    int nd = n < T ? n : T;
    for (int i = 0; i < n; i++) assign[i] = -1;
    if (n_removed) *n_removed = 0;
    /* Predicted boxes: centre moved by velocity x frames since last seen. */
    float pred[T][4];
    for (int j = 0; j < T; j++) {
        const lfr_track *t = &tr->t[j];
        if (!t->id) continue;
        float k = (float)(t->unseen + 1);
        pred[j][0] = t->box[0] + t->vel[0] * k;
        pred[j][1] = t->box[1] + t->vel[1] * k;
        pred[j][2] = t->box[2];
        pred[j][3] = t->box[3];
    }
    /* Greedy: best IoU pair first.  T x nd <= 128 x 128 pairs of 8 bytes:
     * too big for a thread's stack, so one array per thread. */
    static _Thread_local pair pairs[T * T];
    int np = 0;
    for (int j = 0; j < T; j++) {
        if (!tr->t[j].id) continue;
        for (int i = 0; i < nd; i++) {
            float iou = lfr_box_iou(pred[j], boxes[i]);
            if (iou >= tr->p.iou_min) pairs[np++] = (pair){iou, (short)j, (short)i};
        }
    }
    qsort(pairs, (size_t)np, sizeof *pairs, pair_cmp);
    unsigned char trk_used[T] = {0};
    for (int k = 0; k < np; k++) {
        int j = pairs[k].trk, i = pairs[k].det;
        if (trk_used[j] || assign[i] >= 0) continue;
        trk_used[j] = 1;
        assign[i] = j;
    }
    /* Second stage: what the IoU stage left, by centre distance within
     * the gate, nearest first (a fast face, or one the detector missed for
     * a few frames). */
    if (tr->p.max_dist > 0) {
        int n2 = 0;
        for (int j = 0; j < T; j++) {
            if (!tr->t[j].id || trk_used[j]) continue;
            for (int i = 0; i < nd; i++) {
                if (assign[i] >= 0) continue;
                float d = gate_dist(&tr->p, &tr->t[j], pred[j], boxes[i]);
                if (d >= 0) pairs[n2++] = (pair){-d, (short)j, (short)i};
            }
        }
        qsort(pairs, (size_t)n2, sizeof *pairs, pair_cmp);
        for (int k = 0; k < n2; k++) {
            int j = pairs[k].trk, i = pairs[k].det;
            if (trk_used[j] || assign[i] >= 0) continue;
            trk_used[j] = 1;
            assign[i] = j;
        }
    }
    for (int i = 0; i < nd; i++)
        if (assign[i] >= 0) track_hit(&tr->t[assign[i]], boxes[i]);
    /* Unseen tracks age and expire. */
    for (int j = 0; j < T; j++) {
        lfr_track *t = &tr->t[j];
        if (!t->id || trk_used[j]) continue;
        if (++t->unseen > tr->p.max_unseen) {
            if (removed) removed[*n_removed] = t->id;
            if (n_removed) (*n_removed)++;
            memset(t, 0, sizeof *t);
            tr->expired++;
            tr->n--;
        }
    }
    /* New tracks for unmatched detections. */
    int free_slot = 0;
    for (int i = 0; i < nd; i++) {
        if (assign[i] >= 0) continue;
        while (free_slot < T && tr->t[free_slot].id) free_slot++;
        if (free_slot == T) break;
        lfr_track *t = &tr->t[free_slot];
        memset(t, 0, sizeof *t);
        t->id = tr->next_id++;
        memcpy(t->box, boxes[i], sizeof t->box);
        t->hits = 1;
        assign[i] = free_slot;
        tr->n++;
        tr->created++;
    }
}

/* Metrics ----------------------------------------------------------------- */

typedef struct metric {
    double v[LFR_PIPELINE_METRIC_WINDOW];
    uint64_t n;
} metric;

static void metric_add(metric *m, double ms) {
    m->v[m->n % LFR_PIPELINE_METRIC_WINDOW] = ms;
    m->n++;
}

static int dbl_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void metric_get(const metric *m, lfr_pipeline_metric *out) {
    out->n = m->n;
    out->median_ms = out->p95_ms = 0;
    size_t k = m->n < LFR_PIPELINE_METRIC_WINDOW ? (size_t)m->n : LFR_PIPELINE_METRIC_WINDOW;
    if (!k) return;
    double tmp[LFR_PIPELINE_METRIC_WINDOW];
    memcpy(tmp, m->v, k * sizeof *tmp);
    qsort(tmp, k, sizeof *tmp, dbl_cmp);
    out->median_ms = k % 2 ? tmp[k / 2] : 0.5 * (tmp[k / 2 - 1] + tmp[k / 2]);
    size_t i95 = (size_t)ceil(0.95 * (double)k);
    out->p95_ms = tmp[(i95 ? i95 : 1) - 1];
}

static double ms_since(uint64_t t0) { return (double)(lfr_now_ns() - t0) / 1e6; }

/* Snapshot: the public struct first, the refcount and the arrays behind
 * it.  Cameras hold a reference for one frame. */
typedef struct snap_impl {
    lfr_pipeline_snapshot pub;
    atomic_int ref;
    int64_t *entry_ids, *image_ids;
    lfr_pipeline_entry *entries;
} snap_impl;

lfr_pipeline_snapshot *lfr_pipeline_snapshot_ref(lfr_pipeline_snapshot *s) {
    if (s) atomic_fetch_add(&((snap_impl *)s)->ref, 1);
    return s;
}

void lfr_pipeline_snapshot_unref(lfr_pipeline_snapshot *s) {
    snap_impl *b = (snap_impl *)s;
    if (!b || atomic_fetch_sub(&b->ref, 1) != 1) return;
    lfr_match_snapshot_unref(b->pub.snap);
    lfr_free(b->entry_ids);
    lfr_free(b->image_ids);
    lfr_free(b->entries);
    lfr_free(b);
}

static int entry_cmp(const void *a, const void *b) {
    int64_t x = ((const lfr_pipeline_entry *)a)->id, y = ((const lfr_pipeline_entry *)b)->id;
    return x < y ? -1 : x > y;
}

const lfr_pipeline_entry *lfr_pipeline_snapshot_entry(const lfr_pipeline_snapshot *s, int64_t id) {
    lfr_pipeline_entry key = {.id = id};
    return s && s->n_entries ? bsearch(&key, s->entries, s->n_entries, sizeof key, entry_cmp) : NULL;
}

static int64_t *dup_ids(const int64_t *v, size_t n) {
    int64_t *d = n ? lfr_malloc(n * sizeof *d) : NULL;
    if (d) memcpy(d, v, n * sizeof *d);
    return d;
}

lfr_status lfr_pipeline_snapshot_load(lfr_store *s, int64_t deployment_id,
                                      lfr_pipeline_snapshot **out, lfr_err *err) {
    *out = NULL;
    lfr_deploy_info *info = lfr_malloc(sizeof *info);
    if (!info) return LFR_ERR_NOMEM;
    lfr_status st = lfr_deploy_get(s, deployment_id, info, err);
    if (st == LFR_OK && info->state != LFR_DEPLOY_LIVE)
        st = lfr_err_set(err, LFR_ERR_STATE, "deployment %lld is %s, not live",
                         (long long)deployment_id, lfr_deploy_state_name(info->state));
    lfr_deploy_templates t;
    memset(&t, 0, sizeof t);
    if (st == LFR_OK) st = lfr_deploy_templates_load(s, deployment_id, &t, err);
    lfr_face_model_set set = LFR_FACE_MODEL_MFN192;
    if (st == LFR_OK && (lfr_face_model_set_parse(t.model_set, &set) != LFR_OK ||
                         lfr_face_model_set_dim(set) != t.dim))
        st = lfr_err_set(err, LFR_ERR_UNSUPPORTED,
                         "deployment %lld uses model set \"%s\" (%d values), which this engine "
                         "does not know", (long long)deployment_id, t.model_set, t.dim);
    snap_impl *b = st == LFR_OK ? lfr_calloc(1, sizeof *b) : NULL;
    if (st == LFR_OK && !b) st = LFR_ERR_NOMEM;
    if (st == LFR_OK) {
        atomic_init(&b->ref, 1);
        b->pub.deployment_id = deployment_id;
        b->pub.threshold = t.threshold;
        b->pub.state = info->state;
        snprintf(b->pub.digest, sizeof b->pub.digest, "%s", info->watchlist_digest);
        b->pub.n = t.n;
        b->pub.model_set = set;
        b->pub.dim = t.dim;
        /* An entry with several images is matched by its entry template
         * (match.h, docs/accuracy.md); hits still name a real image, row i
         * of t.  pub.n counts the images (rows of image_ids). */
        st = lfr_match_snapshot_build_entries(t.dim, t.n, t.data, t.entry_ids, NULL,
                                              LFR_MATCH_ENTRY_TEMPLATE_DEFAULT, &b->pub.snap);
        if (st == LFR_OK && t.n) {
            b->entry_ids = dup_ids(t.entry_ids, t.n);
            b->image_ids = dup_ids(t.image_ids, t.n);
            if (!b->entry_ids || !b->image_ids) st = LFR_ERR_NOMEM;
        }
        b->pub.entry_ids = b->entry_ids;
        b->pub.image_ids = b->image_ids;
    }
    lfr_deploy_templates_free(&t);
    lfr_free(info);
    lfr_watchlist_entry_info *ents = NULL;
    size_t ne = 0;
    if (st == LFR_OK) st = lfr_deploy_entry_list(s, deployment_id, &ents, &ne, err);
    if (st == LFR_OK && ne) {
        b->entries = lfr_calloc(ne, sizeof *b->entries);
        if (!b->entries) st = LFR_ERR_NOMEM;
        for (size_t i = 0; st == LFR_OK && i < ne; i++) {
            b->entries[i].id = ents[i].id;
            snprintf(b->entries[i].subject_ref, LFR_MAX_ACTOR, "%s", ents[i].subject_ref);
            snprintf(b->entries[i].display_name, LFR_MAX_ACTOR, "%s", ents[i].display_name);
        }
        if (st == LFR_OK) {
            qsort(b->entries, ne, sizeof *b->entries, entry_cmp);
            b->pub.n_entries = ne;
            b->pub.entries = b->entries;
        }
    }
    lfr_free(ents);
    if (st != LFR_OK) {
        lfr_pipeline_snapshot_unref(b ? &b->pub : NULL);
        return st;
    }
    *out = &b->pub;
    return LFR_OK;
}

/* Cameras ----------------------------------------------------------------- */

typedef struct track_alert {
    int64_t entry_id, alert_id;
    float best;
    int suppressed;       /* cooldown: this track never alerts on this entry */
    int pending;          /* raised, waiting in the camera's queue for the store */
} track_alert;

typedef struct track_state {
    uint64_t id;          /* the tracker's id for this slot (reset on change) */
    int n_emb;
    float best_q;
    uint64_t last_emb;    /* cam.n_frames at the track's last embedding */
    int n_alerts;
    track_alert a[LFR_PIPELINE_MAX_TRACK_ALERTS];
    /* The template: the track's best embeddings by quality, in memory
     * only, wiped with the track (ts_wipe). */
    int n_tpl;
    float tpl_q[LFR_PIPELINE_MAX_TEMPLATE_K];
    int dim;              /* floats per embedding in tpl (the snapshot's dim) */
    float tpl[LFR_PIPELINE_MAX_TEMPLATE_K * LFR_FACE_EMB_MAX_DIM];
} track_state;

static void ts_wipe(track_state *ts) { sodium_memzero(ts, sizeof *ts); }

/* Quality-weighted mean of the template's embeddings, re-normalised, to
 * out (ts->dim floats); zeros when empty. */
static void tpl_mean(const track_state *ts, float *out) {
    const int D = ts->dim;
    memset(out, 0, D * sizeof *out);
    for (int i = 0; i < ts->n_tpl; i++) {
        float w = ts->tpl_q[i] > 0 ? ts->tpl_q[i] : 1e-6f;
        for (int d = 0; d < D; d++) out[d] += w * ts->tpl[(size_t)i * D + d];
    }
    double ss = 0;
    for (int d = 0; d < D; d++) ss += (double)out[d] * out[d];
    if (ss > 0) {
        float inv = (float)(1.0 / sqrt(ss));
        for (int d = 0; d < D; d++) out[d] *= inv;
    }
}

/* Keeps embedding e of quality q when the template has room or q beats
 * its worst member (replaced).  1 when the template changed. */
static int tpl_add(track_state *ts, int k, const float *e, float q) {
    const int D = ts->dim;
    int i = ts->n_tpl;
    if (i >= k) {
        i = 0;
        for (int j = 1; j < ts->n_tpl; j++)
            if (ts->tpl_q[j] < ts->tpl_q[i]) i = j;
        if (!(q > ts->tpl_q[i])) return 0;
    } else {
        ts->n_tpl++;
    }
    ts->tpl_q[i] = q;
    memcpy(ts->tpl + (size_t)i * D, e, D * sizeof *e);
    return 1;
}

typedef struct cooldown {
    int64_t entry_id;
    uint64_t at_ns;
} cooldown;

#define FPS_RING 64

/* An alert the store could not take yet (the worker serving the camera only). */
typedef struct pending_alert {
    lfr_pipeline_event ev;    /* filled in, crop owned; alert_id 0 until stored */
    uint64_t capture_ns;
    int slot;                 /* track slot and id, to give the track its alert id */
    uint64_t track_id;
    uint64_t first_ns, next_ns;
    int attempts, escalated;
    lfr_status last_st;
    char reason[LFR_ERRBUF_SIZE];
} pending_alert;

typedef struct cam {
    lfr_pipeline *p;
    int index;
    char name[LFR_MAX_ACTOR];
    lfr_camera *vc;       /* NULL: injected, or a video camera after halt */
    int video;            /* 1: a video camera (vc, until halted) */
    lfr_cam_stats final_vs;   /* video stats at halt */
    atomic_int running;   /* a video camera not yet ended, failed or halted */
    uint64_t start_ns;
    /* scheduling: under the pipeline's sched_mu */
    int claimed;          /* a worker is serving this camera */
    int ready;            /* a frame was published (or a sweep is due) since ... */
    uint64_t ready_ns;    /* ... this time: the oldest waiting camera goes first */
    int swept;            /* ready only because of a sweep (no frame yet) */
    int done;             /* the camera ended: no worker serves it any more */
    /* analysis state: only the worker that claimed the camera touches these */
    lfr_tracker tr;
    track_state ts[LFR_PIPELINE_MAX_TRACKS];
    cooldown cd[LFR_PIPELINE_MAX_COOLDOWN];
    int n_cd;
    lfr_face sel[LFR_MAX_NET_BATCH];
    int sel_face[LFR_MAX_NET_BATCH], sel_slot[LFR_MAX_NET_BATCH];
    float sel_q[LFR_MAX_NET_BATCH];
    float emb[LFR_MAX_NET_BATCH * LFR_FACE_EMB_MAX_DIM];
    float tpl_probe[LFR_MAX_NET_BATCH * LFR_FACE_EMB_MAX_DIM]; /* templates to match */
    int tpl_sel[LFR_MAX_NET_BATCH];   /* ... each for selected shot j */
    uint64_t n_frames;    /* frames analysed */
    pending_alert pend[LFR_PIPELINE_MAX_PENDING_ALERTS];   /* FIFO, pend[0] oldest */
    int n_pend;
    /* stats: under mu */
    pthread_mutex_t mu;
    lfr_pipeline_counters c;
    metric m_lat, m_det, m_trk, m_emb, m_match, m_frame, m_wait;
    uint64_t fps_t[FPS_RING];
    uint64_t fps_n;
    double cpu_s;         /* analysis CPU time spent on this camera */
    uint64_t det_full, det_near, det_none; /* OVERVIEW: detect (under mu) */
    uint64_t det_deferred;                 /* OVERVIEW: detect, behind (under mu) */
    int deferred_run;                      /* due full detections deferred in a row */
    int lossless;                          /* video waits for the consumer (wait_consumer):
                                              a full queue is not falling behind */
    uint64_t embeds_deferred;  /* OVERVIEW: embed (under mu) */
    uint64_t full_seq;    /* frame seq of the last full detection (OVERVIEW: detect) */
    int had_full;         /* ... 0: none yet */
    int last_full;        /* 1: the frame being analysed was detected in full */
    int src_w, src_h;
    lfr_preview *pv;      /* the operator's live view (preview.c); NULL: none */
} cam;

/* One analysis worker: a thread and its face context. */
typedef struct worker {
    lfr_pipeline *p;
    int only_cam;         /* -1: any camera (the pool); else only this one */
    lfr_face_ctx *fc;
    pthread_t th;
} worker;

typedef struct event_queue {
    lfr_pipeline_event *ev;
    int cap, head, n;
    uint64_t dropped;
} event_queue;

struct lfr_pipeline {
    lfr_pipeline_config cfg;
    lfr_pipeline_params prm;
    lfr_actor actor;
    char actor_name[LFR_MAX_ACTOR];
    pthread_mutex_t store_mu;   /* the store, and refresh */
    pthread_mutex_t snap_mu;    /* cur, live, sig, gen, snapshot_loads */
    lfr_pipeline_snapshot *cur;
    int live;
    uint64_t snapshot_loads;
    uint64_t gen;               /* +1 per snapshot installed */
    struct {                    /* what the snapshot in use was built at */
        int state;              /* -1: none */
        float threshold;
        char digest[65];
        int refused;            /* the digest did not verify: not matched */
    } sig;
    atomic_uint_least64_t last_check_ns;
    uint64_t last_verify_ns;    /* under store_mu */
    atomic_int stop;
    int halted;
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;
    event_queue q;
    pthread_mutex_t cams_mu;    /* adding cameras and workers (then sched_mu) */
    int n_cams;                 /* written under cams_mu and sched_mu */
    cam *cams[LFR_PIPELINE_MAX_CAMERAS];
    metric m_lat;               /* all cameras, under q_mu */
    /* The analysis pool (OVERVIEW: scheduling). */
    pthread_mutex_t sched_mu;   /* cams' claimed/ready/done, sweep_ns, n_workers */
    pthread_cond_t sched_cv;    /* a frame was published, a camera released, stop */
    uint64_t sweep_ns;
    int n_workers;              /* written under cams_mu and sched_mu */
    worker *workers[LFR_PIPELINE_MAX_CAMERAS];
};

static lfr_pipeline_snapshot *snap_acquire(lfr_pipeline *p) {
    pthread_mutex_lock(&p->snap_mu);
    lfr_pipeline_snapshot *b = lfr_pipeline_snapshot_ref(p->cur);
    pthread_mutex_unlock(&p->snap_mu);
    return b;
}

/* Installs b (reference taken over) unless another snapshot was installed
 * since generation `gen` (then b was built from older data: dropped).
 * gen = UINT64_MAX: always.  snap_mu must NOT be held. */
static int snap_install(lfr_pipeline *p, lfr_pipeline_snapshot *b, uint64_t gen, int refused) {
    pthread_mutex_lock(&p->snap_mu);
    if (gen != UINT64_MAX && gen != p->gen) {
        pthread_mutex_unlock(&p->snap_mu);
        lfr_pipeline_snapshot_unref(b);
        return 0;
    }
    lfr_pipeline_snapshot *old = p->cur;
    p->cur = b;
    p->live = b != NULL;
    p->gen++;
    p->sig.refused = refused;
    if (b) {
        p->sig.state = (int)b->state;
        p->sig.threshold = b->threshold;
        snprintf(p->sig.digest, sizeof p->sig.digest, "%s", b->digest);
        p->snapshot_loads++;
    } else if (!refused) {
        p->sig.state = -1;
    }
    pthread_mutex_unlock(&p->snap_mu);
    lfr_pipeline_snapshot_unref(old);
    return 1;
}

void lfr_pipeline_set_snapshot(lfr_pipeline *p, lfr_pipeline_snapshot *s) {
    if (s && s->deployment_id != p->cfg.deployment_id) {
        lfr_log(LFR_LOG_ERROR, "pipeline: snapshot of deployment %lld pushed to deployment %lld's "
                "pipeline: ignored", (long long)s->deployment_id, (long long)p->cfg.deployment_id);
        return;
    }
    snap_install(p, lfr_pipeline_snapshot_ref(s), UINT64_MAX, 0);
    if (s)
        lfr_log(LFR_LOG_INFO, "pipeline: deployment %lld: snapshot pushed: %zu templates, "
                "threshold %.3f", (long long)p->cfg.deployment_id, s->n, (double)s->threshold);
    else
        lfr_log(LFR_LOG_INFO, "pipeline: deployment %lld: matching stopped",
                (long long)p->cfg.deployment_id);
}

lfr_pipeline_snapshot *lfr_pipeline_snapshot_get(lfr_pipeline *p) { return snap_acquire(p); }

static lfr_status refresh(lfr_pipeline *p, int force, lfr_err *err) {
    uint64_t now = lfr_now_ns();
    uint64_t period = (uint64_t)p->prm.live_check_ms * 1000000u;
    if (!force && now - atomic_load(&p->last_check_ns) < period) return LFR_OK;
    pthread_mutex_lock(&p->store_mu);
    now = lfr_now_ns();
    if (!force && now - atomic_load(&p->last_check_ns) < period) {
        pthread_mutex_unlock(&p->store_mu);
        return LFR_OK;
    }
    atomic_store(&p->last_check_ns, now);
    pthread_mutex_lock(&p->snap_mu);
    uint64_t gen = p->gen;
    int had = p->sig.state != -1, refused = p->sig.refused;
    float thr = p->sig.threshold;
    char digest[65];
    snprintf(digest, sizeof digest, "%s", p->sig.digest);
    pthread_mutex_unlock(&p->snap_mu);
    const long long dep = (long long)p->cfg.deployment_id;
    lfr_err e2 = {{0}};
    lfr_status st = lfr_deploy_require_live(p->cfg.store, p->cfg.deployment_id, &e2);
    if (st != LFR_OK) {
        pthread_mutex_unlock(&p->store_mu);
        if (st != LFR_ERR_STATE && st != LFR_ERR_NOT_FOUND) /* busy: keep what we have */
            return lfr_err_set(err, st, "%s", e2.msg);
        if (snap_install(p, NULL, gen, 0) && had)
            lfr_log(LFR_LOG_INFO, "pipeline: deployment %lld is not live: matching stopped", dep);
        return LFR_OK;
    }
    lfr_deploy_info *info = lfr_malloc(sizeof *info);
    if (!info) {
        pthread_mutex_unlock(&p->store_mu);
        return LFR_ERR_NOMEM;
    }
    st = lfr_deploy_get(p->cfg.store, p->cfg.deployment_id, info, err);
    int changed = force || (st == LFR_OK && (!had || thr != info->threshold ||
                                             strcmp(digest, info->watchlist_digest) != 0));
    if (st == LFR_OK && !changed && now - p->last_verify_ns >= LFR_PIPELINE_VERIFY_S * 1000000000ull) {
        /* Safety net: the watchlist itself against the recorded digest. */
        p->last_verify_ns = now;
        lfr_err ve = {{0}};
        lfr_status vs = lfr_deploy_watchlist_verify(p->cfg.store, p->cfg.deployment_id, &ve);
        if (vs == LFR_ERR_INTEGRITY && !refused) {
            lfr_log(LFR_LOG_ERROR, "pipeline: deployment %lld: WATCHLIST CHANGED BEHIND THE "
                    "SOFTWARE'S BACK: %s: matching stopped", dep, ve.msg);
            snap_install(p, NULL, gen, 1);
            st = lfr_err_set(err, vs, "%s", ve.msg);
        } else if (vs == LFR_OK && refused) {
            changed = 1;   /* put right: load again */
        }
    }
    if (changed) {
        p->last_verify_ns = now;   /* loading verifies */
        lfr_pipeline_snapshot *b = NULL;
        st = lfr_pipeline_snapshot_load(p->cfg.store, p->cfg.deployment_id, &b, err);
        if (st == LFR_OK) {
            if (snap_install(p, b, gen, 0))
                lfr_log(LFR_LOG_INFO, "pipeline: deployment %lld live: %zu templates, threshold %.3f",
                        dep, b->n, (double)b->threshold);
        } else if (st == LFR_ERR_INTEGRITY) {
            if (!refused)
                lfr_log(LFR_LOG_ERROR, "pipeline: deployment %lld: WATCHLIST REFUSED, NOT MATCHED: "
                        "%s", dep, err ? err->msg : "digest mismatch");
            if (snap_install(p, NULL, gen, 1)) {
                pthread_mutex_lock(&p->snap_mu);
                p->sig.state = (int)info->state;
                p->sig.threshold = info->threshold;
                snprintf(p->sig.digest, sizeof p->sig.digest, "%s", info->watchlist_digest);
                pthread_mutex_unlock(&p->snap_mu);
            }
        }
    }
    lfr_free(info);
    pthread_mutex_unlock(&p->store_mu);
    return st;
}

lfr_status lfr_pipeline_refresh(lfr_pipeline *p, lfr_err *err) { return refresh(p, 1, err); }

lfr_status lfr_pipeline_with_store(lfr_pipeline *p, lfr_status (*fn)(lfr_store *s, void *ctx),
                                   void *ctx) {
    pthread_mutex_lock(&p->store_mu);
    lfr_status st = fn(p->cfg.store, ctx);
    pthread_mutex_unlock(&p->store_mu);
    return st;
}

/* Events ------------------------------------------------------------------ */

void lfr_pipeline_event_free(lfr_pipeline_event *ev) {
    if (!ev) return;
    if (ev->face_jpeg) {
        sodium_memzero(ev->face_jpeg, ev->face_jpeg_len);
        lfr_free(ev->face_jpeg);
    }
    ev->face_jpeg = NULL;
    ev->face_jpeg_len = 0;
}

/* Takes ownership of ev's crop. */
static void event_push(lfr_pipeline *p, lfr_pipeline_event *ev) {
    if (p->cfg.on_event) p->cfg.on_event(p->cfg.on_event_ctx, ev);
    pthread_mutex_lock(&p->q_mu);
    event_queue *q = &p->q;
    if (q->n == q->cap) { /* drop the oldest: never block the camera */
        lfr_pipeline_event_free(&q->ev[q->head]);
        q->head = (q->head + 1) % q->cap;
        q->n--;
        q->dropped++;
    }
    q->ev[(q->head + q->n) % q->cap] = *ev;
    q->n++;
    if (ev->latency_ms >= 0) metric_add(&p->m_lat, ev->latency_ms);
    pthread_cond_signal(&p->q_cv);
    pthread_mutex_unlock(&p->q_mu);
    ev->face_jpeg = NULL;
}

lfr_status lfr_pipeline_next_event(lfr_pipeline *p, lfr_pipeline_event *ev, int timeout_ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->q_mu);
    while (p->q.n == 0 && timeout_ms > 0)
        if (pthread_cond_timedwait(&p->q_cv, &p->q_mu, &ts)) break;
    lfr_status st = LFR_ERR_NOT_FOUND;
    if (p->q.n) {
        *ev = p->q.ev[p->q.head];
        memset(&p->q.ev[p->q.head], 0, sizeof *ev);
        p->q.head = (p->q.head + 1) % p->q.cap;
        p->q.n--;
        st = LFR_OK;
    }
    pthread_mutex_unlock(&p->q_mu);
    return st;
}

/* Alerts ------------------------------------------------------------------ */

static uint8_t *face_crop_jpeg(const lfr_pipeline *p, const lfr_image *frame, const float box[4],
                               size_t *len) {
    *len = 0;
    if (!frame || !frame->px) return NULL;
    float pad = p->prm.crop_pad;
    int x = (int)floorf(box[0] - pad * box[2]), y = (int)floorf(box[1] - pad * box[3]);
    int w = (int)ceilf(box[2] * (1 + 2 * pad)), h = (int)ceilf(box[3] * (1 + 2 * pad));
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    /* Past the frame's edge the crop is black, not the edge pixels
     * repeated (which smear into stripes beside the face the operator
     * compares). */
    lfr_image crop = {0};
    uint8_t *buf = NULL;
    if (lfr_image_alloc(&crop, w, h) == LFR_OK) {
        memset(crop.px, 0, (size_t)w * h * 3);
        int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
        int x1 = x + w > frame->w ? frame->w : x + w, y1 = y + h > frame->h ? frame->h : y + h;
        for (int r = y0; r < y1 && x0 < x1; r++)
            memcpy(crop.px + ((size_t)(r - y) * w + (x0 - x)) * 3,
                   frame->px + ((size_t)r * frame->w + x0) * 3, (size_t)(x1 - x0) * 3);
        lfr_image_encode_jpeg(&crop, p->prm.crop_jpeg_quality, &buf, len);
    }
    if (crop.px) sodium_memzero(crop.px, (size_t)crop.w * crop.h * 3);
    lfr_image_free(&crop);
    if (!buf) *len = 0;
    return buf;
}

static cooldown *cooldown_find(cam *c, int64_t entry) {
    for (int i = 0; i < c->n_cd; i++)
        if (c->cd[i].entry_id == entry) return &c->cd[i];
    return NULL;
}

static void cooldown_set(cam *c, int64_t entry, uint64_t at) {
    cooldown *d = cooldown_find(c, entry);
    if (!d) {
        if (c->n_cd < LFR_PIPELINE_MAX_COOLDOWN) d = &c->cd[c->n_cd++];
        else { /* forget the oldest */
            d = &c->cd[0];
            for (int i = 1; i < c->n_cd; i++)
                if (c->cd[i].at_ns < d->at_ns) d = &c->cd[i];
        }
    }
    d->entry_id = entry;
    d->at_ns = at;
}

typedef struct shot {
    const lfr_image *frame;
    uint64_t seq, capture_ns;
    const lfr_face *face;  /* with sharpness */
    float quality;
    uint64_t track_id;
    lfr_pipeline_source source;
    int template_n;
} shot;

static void fill_event(lfr_pipeline *p, cam *c, const lfr_pipeline_snapshot *b, const shot *s,
                       const lfr_match_hit *h, lfr_pipeline_event *ev) {
    memset(ev, 0, sizeof *ev);
    ev->deployment_id = p->cfg.deployment_id;
    snprintf(ev->camera, sizeof ev->camera, "%s", c->name);
    ev->camera_index = c->index;
    ev->frame_seq = s->seq;
    ev->track_id = s->track_id;
    ev->entry_id = h->entry_id;
    ev->image_id = h->image_index >= 0 && (size_t)h->image_index < b->n ? b->image_ids[h->image_index] : 0;
    const lfr_pipeline_entry *e = lfr_pipeline_snapshot_entry(b, h->entry_id);
    if (e) {
        snprintf(ev->subject_ref, sizeof ev->subject_ref, "%s", e->subject_ref);
        snprintf(ev->display_name, sizeof ev->display_name, "%s", e->display_name);
    }
    ev->cosine = h->score;
    ev->threshold = b->threshold;
    ev->entry_photos = h->entry_images; /* 1, or 2+ for an entry's mean */
    ev->likeness = lfr_match_cal_entry_likeness(
        lfr_match_calibration_named(lfr_face_model_set_name(b->model_set)), h->score,
        ev->entry_photos);
    ev->source = s->source;
    ev->template_n = s->template_n;
    memcpy(ev->box, s->face->box, sizeof ev->box);
    ev->q = s->face->q;
    ev->quality = s->quality;
    ev->det_score = s->face->score;
    ev->onet_score = s->face->onet_score;
    ev->frame_w = s->frame ? s->frame->w : 0;
    ev->frame_h = s->frame ? s->frame->h : 0;
}

static void emit(lfr_pipeline *p, cam *c, lfr_pipeline_event *ev, uint64_t capture_ns) {
    uint64_t now = lfr_now_ns();
    ev->latency_ms = capture_ns && now >= capture_ns ? (double)(now - capture_ns) / 1e6 : -1;
    if (ev->latency_ms >= 0) {
        pthread_mutex_lock(&c->mu);
        metric_add(&c->m_lat, ev->latency_ms);
        pthread_mutex_unlock(&c->mu);
    }
    event_push(p, ev);
    lfr_pipeline_event_free(ev);
}

static void count(cam *c, uint64_t *field, uint64_t n) {
    pthread_mutex_lock(&c->mu);
    *field += n;
    pthread_mutex_unlock(&c->mu);
}

/* Store refusals that retrying can cure. */
static int transient(lfr_status st) {
    return st == LFR_ERR_BUSY || st == LFR_ERR_IO || st == LFR_ERR_NOMEM;
}

/* Never an empty reason in a log line. */
static const char *reason_text(lfr_status st, const lfr_err *err) {
    static _Thread_local char buf[LFR_ERRBUF_SIZE + 64];
    if (err && err->msg[0]) snprintf(buf, sizeof buf, "%s: %s", lfr_status_message(st), err->msg);
    else snprintf(buf, sizeof buf, "%s (the store gave no detail)", lfr_status_message(st));
    return buf;
}

static lfr_status store_alert(lfr_pipeline *p, cam *c, lfr_pipeline_event *ev, lfr_err *err) {
    lfr_alert a = {.camera = c->name, .entry_id = ev->entry_id, .score = ev->cosine,
                   .face_image = ev->face_jpeg, .face_image_len = ev->face_jpeg_len,
                   .image_id = ev->image_id, .source = lfr_pipeline_source_name(ev->source),
                   .template_n = ev->template_n, .entry_photos = ev->entry_photos};
    pthread_mutex_lock(&p->store_mu);
    lfr_status st = lfr_deploy_alert_record(p->cfg.store, p->cfg.deployment_id, &a, &p->actor,
                                            &ev->alert_id, err);
    ev->at = lfr_store_now(p->cfg.store);
    pthread_mutex_unlock(&p->store_mu);
    return st;
}

static pending_alert *pending_find(cam *c, uint64_t track_id, int64_t entry_id) {
    for (int i = 0; i < c->n_pend; i++)
        if (c->pend[i].track_id == track_id && c->pend[i].ev.entry_id == entry_id) return &c->pend[i];
    return NULL;
}

static uint64_t backoff_ns(int attempts) {
    uint64_t ms = LFR_PIPELINE_ALERT_RETRY_MIN_MS;
    for (int i = 1; i < attempts && ms < LFR_PIPELINE_ALERT_RETRY_MAX_MS; i++) ms *= 2;
    if (ms > LFR_PIPELINE_ALERT_RETRY_MAX_MS) ms = LFR_PIPELINE_ALERT_RETRY_MAX_MS;
    return ms * 1000000ull;
}

static void pending_remove(cam *c, int i) {
    memmove(&c->pend[i], &c->pend[i + 1], (size_t)(c->n_pend - i - 1) * sizeof c->pend[0]);
    c->n_pend--;
    memset(&c->pend[c->n_pend], 0, sizeof c->pend[0]);
    pthread_mutex_lock(&c->mu);
    c->c.alerts_pending = (uint64_t)c->n_pend;
    pthread_mutex_unlock(&c->mu);
}

static void alert_lost(cam *c, pending_alert *pa, const char *why) {
    count(c, &c->c.alerts_lost, 1);
    lfr_log(LFR_LOG_ERROR, "pipeline: camera %s: ALERT LOST: entry %lld (%s, cosine %.3f, track "
            "%llu) could not be stored after %d attempts over %.1f s: %s", c->name,
            (long long)pa->ev.entry_id, pa->ev.subject_ref, (double)pa->ev.cosine,
            (unsigned long long)pa->track_id, pa->attempts,
            (double)(lfr_now_ns() - pa->first_ns) / 1e9, why);
    lfr_pipeline_event_free(&pa->ev);
}

/* Tries the waiting alerts (all of them when force, else those due), oldest
 * first; stops at the first transient failure (the others would wait for
 * the same lock).  Analysis thread only (or after the threads joined). */
static void retry_pending(lfr_pipeline *p, cam *c, int force) {
    uint64_t now = lfr_now_ns();
    for (int i = 0; i < c->n_pend;) {
        pending_alert *pa = &c->pend[i];
        if (!force && now < pa->next_ns) {
            i++;
            continue;
        }
        lfr_err err = {{0}};
        pa->attempts++;
        lfr_status st = store_alert(p, c, &pa->ev, &err);
        now = lfr_now_ns();
        if (st == LFR_OK) {
            lfr_log(LFR_LOG_WARN, "pipeline: camera %s: alert %lld (entry %lld) stored after %d "
                    "attempts, %.1f s late", c->name, (long long)pa->ev.alert_id,
                    (long long)pa->ev.entry_id, pa->attempts, (double)(now - pa->first_ns) / 1e9);
            track_state *ts = pa->slot >= 0 ? &c->ts[pa->slot] : NULL;
            if (ts && ts->id == pa->track_id)
                for (int k = 0; k < ts->n_alerts; k++)
                    if (ts->a[k].entry_id == pa->ev.entry_id && ts->a[k].pending) {
                        ts->a[k].pending = 0;
                        ts->a[k].alert_id = pa->ev.alert_id;
                    }
            count(c, &c->c.alerts, 1);
            emit(p, c, &pa->ev, pa->capture_ns);
            pending_remove(c, i);
            continue;
        }
        if (!transient(st)) { /* e.g. the deployment ended while it waited */
            alert_lost(c, pa, reason_text(st, &err));
            pending_remove(c, i);
            continue;
        }
        pa->last_st = st;
        snprintf(pa->reason, sizeof pa->reason, "%s", reason_text(st, &err));
        pa->next_ns = now + backoff_ns(pa->attempts);
        if (!pa->escalated &&
            now - pa->first_ns >= LFR_PIPELINE_ALERT_ERROR_AFTER_S * 1000000000ull) {
            pa->escalated = 1;
            lfr_log(LFR_LOG_ERROR, "pipeline: camera %s: alert for entry %lld (%s) STILL NOT "
                    "STORED after %d attempts over %.0f s, operators are not seeing it: %s",
                    c->name, (long long)pa->ev.entry_id, pa->ev.subject_ref, pa->attempts,
                    (double)(now - pa->first_ns) / 1e9, pa->reason);
        }
        break;
    }
}

/* Queues a raised alert the store refused for a transient reason (takes
 * over ev's crop).  A full queue pauses this camera until one is stored. */
static void queue_alert(lfr_pipeline *p, cam *c, lfr_pipeline_event *ev, const shot *s,
                        lfr_status st, const lfr_err *err) {
    while (c->n_pend == LFR_PIPELINE_MAX_PENDING_ALERTS && !atomic_load(&p->stop)) {
        lfr_log(LFR_LOG_ERROR, "pipeline: camera %s: %d alerts waiting for the store: analysis "
                "paused until one is stored", c->name, c->n_pend);
        retry_pending(p, c, 1);
        if (c->n_pend == LFR_PIPELINE_MAX_PENDING_ALERTS) {
            struct timespec d = {0, LFR_PIPELINE_ALERT_RETRY_MIN_MS * 1000000L};
            nanosleep(&d, NULL);
        }
    }
    uint64_t now = lfr_now_ns();
    pending_alert tmp = {.ev = *ev, .capture_ns = s->capture_ns, .slot = -1,
                         .track_id = s->track_id, .first_ns = now,
                         .next_ns = now + backoff_ns(1), .attempts = 1, .last_st = st};
    snprintf(tmp.reason, sizeof tmp.reason, "%s", reason_text(st, err));
    for (int i = 0; i < LFR_PIPELINE_MAX_TRACKS; i++)
        if (c->ts[i].id == s->track_id) tmp.slot = i;
    tmp.ev.alert_id = 0;
    ev->face_jpeg = NULL;
    ev->face_jpeg_len = 0;
    count(c, &c->c.alerts_delayed, 1);
    if (c->n_pend == LFR_PIPELINE_MAX_PENDING_ALERTS) { /* stopping with a full queue */
        alert_lost(c, &tmp, "the queue of alerts waiting for the store was full at stop");
        return;
    }
    c->pend[c->n_pend++] = tmp;
    pthread_mutex_lock(&c->mu);
    c->c.alerts_pending = (uint64_t)c->n_pend;
    pthread_mutex_unlock(&c->mu);
    lfr_log(LFR_LOG_WARN, "pipeline: camera %s: alert for entry %lld (%s, cosine %.3f) not "
            "stored yet: %s; queued (%d waiting), retrying", c->name, (long long)tmp.ev.entry_id,
            tmp.ev.subject_ref, (double)tmp.ev.cosine, tmp.reason, c->n_pend);
}

/* One match of a track's shot against one entry: raise, upgrade, suppress
 * or nothing. */
static void alert_rule(lfr_pipeline *p, cam *c, const lfr_pipeline_snapshot *b, track_state *ts, const shot *s,
                       const lfr_match_hit *h) {
    track_alert *ta = NULL;
    for (int i = 0; i < ts->n_alerts; i++)
        if (ts->a[i].entry_id == h->entry_id) ta = &ts->a[i];
    lfr_pipeline_event ev;
    if (ta) {
        if (ta->suppressed || !(h->score > ta->best)) return;
        ta->best = h->score;
        cooldown_set(c, h->entry_id, s->capture_ns);
        if (ta->pending) { /* not stored yet: it will be stored with this better shot */
            pending_alert *pa = pending_find(c, s->track_id, h->entry_id);
            if (pa) {
                fill_event(p, c, b, s, h, &ev);
                ev.type = LFR_PIPELINE_ALERT;
                ev.face_jpeg = face_crop_jpeg(p, s->frame, s->face->box, &ev.face_jpeg_len);
                lfr_pipeline_event_free(&pa->ev);
                pa->ev = ev;
                pa->capture_ns = s->capture_ns;
            }
            return;
        }
        fill_event(p, c, b, s, h, &ev);
        ev.type = LFR_PIPELINE_ALERT_UPDATE;
        ev.alert_id = ta->alert_id;
        pthread_mutex_lock(&p->store_mu);
        ev.at = lfr_store_now(p->cfg.store);
        pthread_mutex_unlock(&p->store_mu);
        ev.face_jpeg = face_crop_jpeg(p, s->frame, s->face->box, &ev.face_jpeg_len);
        lfr_err uerr = {{0}};
        pthread_mutex_lock(&p->store_mu);
        lfr_status ust = lfr_deploy_alert_update(p->cfg.store, ta->alert_id, h->score, ev.face_jpeg,
                                                 ev.face_jpeg_len, lfr_pipeline_source_name(ev.source),
                                                 ev.template_n, ev.entry_photos, &p->actor, &uerr);
        pthread_mutex_unlock(&p->store_mu);
        if (ust != LFR_OK) {
            /* Decided already, or the deployment ended: the stored alert
             * stays as it is, and so does what operators were shown. */
            lfr_log(LFR_LOG_INFO, "pipeline: camera %s: alert %lld not updated: %s", c->name,
                    (long long)ta->alert_id, uerr.msg);
            lfr_pipeline_event_free(&ev);
            return;
        }
        count(c, &c->c.alert_updates, 1);
        lfr_log(LFR_LOG_INFO, "pipeline: camera %s: alert %lld updated: cosine %.3f from the %s "
                "(%d embedding%s)", c->name, (long long)ta->alert_id, (double)h->score,
                lfr_pipeline_source_name(s->source), s->template_n, s->template_n == 1 ? "" : "s");
        emit(p, c, &ev, s->capture_ns);
        return;
    }
    if (ts->n_alerts == LFR_PIPELINE_MAX_TRACK_ALERTS) return;
    ta = &ts->a[ts->n_alerts++];
    memset(ta, 0, sizeof *ta);
    ta->entry_id = h->entry_id;
    ta->best = h->score;
    const cooldown *d = cooldown_find(c, h->entry_id);
    if (d && s->capture_ns >= d->at_ns &&
        (double)(s->capture_ns - d->at_ns) < p->prm.cooldown_s * 1e9) {
        ta->suppressed = 1;
        count(c, &c->c.alerts_suppressed, 1);
        return;
    }
    fill_event(p, c, b, s, h, &ev);
    ev.type = LFR_PIPELINE_ALERT;
    ev.face_jpeg = face_crop_jpeg(p, s->frame, s->face->box, &ev.face_jpeg_len);
    lfr_err err = {{0}};
    lfr_status st = store_alert(p, c, &ev, &err);
    if (st == LFR_OK) {
        ta->alert_id = ev.alert_id;
        cooldown_set(c, h->entry_id, s->capture_ns);
        count(c, &c->c.alerts, 1);
        lfr_log(LFR_LOG_INFO, "pipeline: camera %s: alert %lld: entry %lld, track %llu, cosine "
                "%.3f from the %s (%d embedding%s) against %s, likeness %.1f", c->name,
                (long long)ev.alert_id, (long long)h->entry_id, (unsigned long long)s->track_id,
                (double)h->score, lfr_pipeline_source_name(s->source), s->template_n,
                s->template_n == 1 ? "" : "s",
                ev.entry_photos > 1 ? "the mean of the entry's photos" : "the entry's photo",
                ev.likeness);
        emit(p, c, &ev, s->capture_ns);
        return;
    }
    if (transient(st)) {
        /* The store is busy (another process holds the write lock) or
         * failing for now: the alert waits and is retried, never dropped. */
        ta->pending = 1;
        cooldown_set(c, h->entry_id, s->capture_ns);
        queue_alert(p, c, &ev, s, st, &err);
        return;
    }
    /* Refused for good (e.g. the deployment just ended): no event either,
     * and this track does not try again. */
    ta->suppressed = 1;
    count(c, &c->c.alert_errors, 1);
    lfr_log(LFR_LOG_WARN, "pipeline: camera %s: alert for entry %lld not recorded: %s",
            c->name, (long long)h->entry_id, reason_text(st, &err));
    lfr_pipeline_event_free(&ev);
}

/* The analysis of one frame after detection.  inj_emb: synthetic
 * embeddings (test hook), else the embedder runs on fc (the worker's). */
static lfr_status analyse_faces(lfr_pipeline *p, cam *c, lfr_face_ctx *fc,
                                const lfr_pipeline_snapshot *b, const lfr_image *frame,
                                uint64_t seq, uint64_t capture_ns, const lfr_face *faces, int n,
                                const float *inj_emb, lfr_err *err) {
    enum { NB = LFR_MAX_MATCH_BATCH };
    /* Embeddings of the snapshot's model set (the deployment's). */
    const int D = b->dim > 0 ? b->dim : LFR_FACE_EMB_DIM;
    lfr_status st = LFR_OK;
    if (n > LFR_PIPELINE_MAX_TRACKS) n = LFR_PIPELINE_MAX_TRACKS;
    /* Track. */
    uint64_t t0 = lfr_now_ns();
    float boxes[LFR_PIPELINE_MAX_TRACKS][4];
    int assign[LFR_PIPELINE_MAX_TRACKS];
    for (int i = 0; i < n; i++) memcpy(boxes[i], faces[i].box, sizeof boxes[i]);
    uint64_t created0 = c->tr.created;
    lfr_tracker_update(&c->tr, (const float(*)[4])boxes, n, assign, NULL, NULL);
    sodium_memzero(boxes, sizeof boxes);
    c->n_frames++;
    /* A track that expired takes its template with it, at once. */
    for (int j = 0; j < LFR_PIPELINE_MAX_TRACKS; j++)
        if (c->ts[j].id && c->ts[j].id != c->tr.t[j].id) ts_wipe(&c->ts[j]);
    double t_track = ms_since(t0);
    /* Gate and best-shot selection. */
    const lfr_template_params *tp = &p->prm.tmpl;
    const int K = tp->k;   /* >= 2: templates (clamped at start) */
    int k = 0, gated = 0, deferred = 0;
    /* Candidates: tracks never embedded first (a new face's first match),
     * then better shots and template fills, at most embed_per_frame of
     * them this frame; the others are candidates again next frame. */
    int cand[2][LFR_MAX_NET_BATCH], nc[2] = {0, 0};
    float cq[2][LFR_MAX_NET_BATCH];
    for (int i = 0; i < n && nc[0] + nc[1] < LFR_MAX_NET_BATCH; i++) {
        if (assign[i] < 0) continue;
        const lfr_track *t = &c->tr.t[assign[i]];
        track_state *ts = &c->ts[assign[i]];
        if (ts->id != t->id || (ts->dim && ts->dim != D)) {
            uint64_t id = t->id;
            ts_wipe(ts);
            ts->id = id;
        }
        ts->dim = D;
        float q = lfr_pipeline_quality(&p->prm.gate, &faces[i]);
        if (q < 0) {
            gated++;
            continue;
        }
        if (ts->n_emb >= p->prm.gate.max_embeds) continue;
        int better = ts->n_emb == 0 || q > ts->best_q * (1.0f + p->prm.gate.improve_margin);
        int fill = K >= 2 && ts->n_tpl < K && q >= tp->fill_rel * ts->best_q &&
                   c->n_frames - ts->last_emb >= (uint64_t)tp->fill_gap;
        if (!better && !fill) continue;
        int pr = ts->n_emb == 0 ? 0 : 1;
        cand[pr][nc[pr]] = i;
        cq[pr][nc[pr]++] = q;
    }
    for (int pr = 0; pr < 2; pr++)
        for (int j = 0; j < nc[pr]; j++) {
            if (k == p->prm.embed_per_frame) {
                deferred++;
                continue;
            }
            int i = cand[pr][j];
            c->sel[k] = faces[i];
            c->sel_face[k] = i;
            c->sel_slot[k] = assign[i];
            c->sel_q[k] = cq[pr][j];
            k++;
        }
    /* Embed the selected shots. */
    double t_embed = 0, t_match = 0;
    int matched = 0, nt = 0, tpl_hit = 0, restarts = 0;
    if (k) {
        t0 = lfr_now_ns();
        if (inj_emb) {
            for (int j = 0; j < k; j++)
                memcpy(c->emb + (size_t)j * D, inj_emb + (size_t)c->sel_face[j] * D, D * sizeof(float));
        } else {
            st = lfr_face_embed_set(fc, frame, c->sel, k, b->model_set, c->emb, err);
        }
        t_embed = ms_since(t0);
        if (st == LFR_OK) {
            for (int j = 0; j < k; j++) {
                int slot = c->sel_slot[j];
                track_state *ts = &c->ts[slot];
                const float *e = c->emb + (size_t)j * D;
                /* Somebody else behind the same box (a scene cut, two
                 * faces crossing): the track restarts under a new id. */
                if (K >= 2 && ts->n_tpl > 0 && tp->same_min > -1.0f) {
                    float m[LFR_FACE_EMB_MAX_DIM];
                    tpl_mean(ts, m);
                    float cs = 0;
                    for (int d = 0; d < D; d++) cs += m[d] * e[d];
                    sodium_memzero(m, sizeof m);
                    if (cs < tp->same_min) {
                        uint64_t id = lfr_tracker_restart(&c->tr, slot);
                        ts_wipe(ts);
                        ts->id = id;
                        ts->dim = D;
                        restarts++;
                        lfr_log(LFR_LOG_DEBUG, "pipeline: camera %s: a track restarted as track "
                                "%llu (its face changed)", c->name, (unsigned long long)id);
                    }
                }
                ts->n_emb++;
                ts->last_emb = c->n_frames;
                if (c->sel_q[j] > ts->best_q) ts->best_q = c->sel_q[j];
                if (p->cfg.embed_hook) p->cfg.embed_hook(p->cfg.embed_hook_ctx, e, D);
                if (K >= 2 && tpl_add(ts, K, e, c->sel_q[j]) && ts->n_tpl >= 2) {
                    float *m = c->tpl_probe + (size_t)nt * D;
                    tpl_mean(ts, m);
                    if (p->cfg.embed_hook) p->cfg.embed_hook(p->cfg.embed_hook_ctx, m, D);
                    c->tpl_sel[nt++] = j;
                }
            }
            /* Match, LFR_MAX_MATCH_BATCH probes per pass: the shots, then
             * the templates that changed. */
            t0 = lfr_now_ns();
            lfr_match_hit hits[NB * LFR_PIPELINE_MAX_TRACK_ALERTS];
            int nh[NB];
            for (int pass = 0; pass < 2 && st == LFR_OK; pass++) {
                const int np = pass ? nt : k;
                const float *probes = pass ? c->tpl_probe : c->emb;
                for (int j0 = 0; j0 < np && st == LFR_OK; j0 += NB) {
                    int nb = np - j0 < NB ? np - j0 : NB;
                    lfr_status ms = lfr_match_search_batch(b->snap, probes + (size_t)j0 * D, nb,
                                                           b->threshold, hits,
                                                           LFR_PIPELINE_MAX_TRACK_ALERTS, nh);
                    if (ms != LFR_OK && ms != LFR_ERR_TOO_LARGE) {
                        st = lfr_err_set(err, ms, "matching failed");
                        break;
                    }
                    double tm = ms_since(t0);
                    for (int r = j0; r < j0 + nb; r++) {
                        int q = r - j0;
                        if (!nh[q]) continue;
                        int j = pass ? c->tpl_sel[r] : r;
                        track_state *ts = &c->ts[c->sel_slot[j]];
                        if (pass) tpl_hit++;
                        else matched++;
                        shot s = {.frame = frame, .seq = seq, .capture_ns = capture_ns,
                                  .face = &c->sel[j], .quality = c->sel_q[j],
                                  .track_id = c->tr.t[c->sel_slot[j]].id,
                                  .source = pass ? LFR_PIPELINE_FROM_TEMPLATE : LFR_PIPELINE_FROM_SHOT,
                                  .template_n = pass ? ts->n_tpl : 1};
                        for (int h = 0; h < nh[q]; h++)
                            alert_rule(p, c, b, ts, &s, &hits[q * LFR_PIPELINE_MAX_TRACK_ALERTS + h]);
                    }
                    t_match += tm;
                    t0 = lfr_now_ns();
                }
            }
            sodium_memzero(hits, sizeof hits);
        }
        /* Nothing of these faces survives the frame (but the templates of
         * their tracks, in memory, until the tracks end). */
        sodium_memzero(c->emb, (size_t)k * D * sizeof(float));
        sodium_memzero(c->tpl_probe, (size_t)nt * D * sizeof(float));
        sodium_memzero(c->sel, (size_t)k * sizeof c->sel[0]);
    }
    /* The operator's live view (preview.c), from frames detected in full
     * only: between them big faces are not looked for (OVERVIEW: detect)
     * and their boxes would blink. */
    if (c->last_full && lfr_preview_wanted(c->pv, lfr_now_ns())) {
        unsigned char hit[LFR_PIPELINE_MAX_TRACKS];
        for (int i = 0; i < n; i++) hit[i] = assign[i] >= 0 && c->ts[assign[i]].n_alerts > 0;
        lfr_preview_offer(c->pv, lfr_now_ns(), frame, faces, n, hit);
    }
    pthread_mutex_lock(&c->mu);
    c->c.frames_analysed++;
    c->c.faces += (uint64_t)n;
    c->c.faces_gated += (uint64_t)gated;
    c->c.tracks += c->tr.created - created0;
    if (st == LFR_OK) c->c.embeddings += (uint64_t)k;
    c->c.matches += (uint64_t)matched;
    c->c.template_matches += (uint64_t)nt;
    c->c.template_hits += (uint64_t)tpl_hit;
    c->c.track_restarts += (uint64_t)restarts;
    c->embeds_deferred += (uint64_t)deferred;
    metric_add(&c->m_trk, t_track);
    if (k) {
        metric_add(&c->m_emb, t_embed);
        metric_add(&c->m_match, t_match);
    }
    c->fps_t[c->fps_n++ % FPS_RING] = lfr_now_ns();
    pthread_mutex_unlock(&c->mu);
    lfr_log(LFR_LOG_DEBUG, "pipeline: camera %s frame %llu: %d faces, %d embedded, %d matched",
            c->name, (unsigned long long)seq, n, k, matched);
    return st;
}

/* The detection of camera c's frame number seq (OVERVIEW: detect): *how 0
 * in full, 1 near the tracks, 2 none; *deferred 1 when a full detection
 * was due but `waiting` frames still wait for the camera (behind). */
static lfr_status detect(lfr_pipeline *p, cam *c, lfr_face_ctx *fc, const lfr_image *im,
                         uint64_t seq, int waiting, const lfr_face_params *fp, lfr_face **faces,
                         int *n, int *how, int *deferred, lfr_err *err) {
    *n = 0;
    *how = 0;
    *deferred = 0;
    c->last_full = 1;
    const uint64_t every = (uint64_t)p->prm.detect_every;
    if (every <= 1) return lfr_face_detect(fc, im, fp, faces, n, err);
    /* Due in full every `every` frames of the stream (a dropped frame
     * counts: the next one analysed is due).  The first full detection
     * of camera i counts as made i % every frames earlier, so the
     * cameras of a pipeline take their full detections in turn, not all
     * on the same frame (unsigned arithmetic: seq - full_seq wraps).
     * Behind, a due detection waits, for up to `every` analysed frames
     * (counted in analysed frames: when frames are being dropped, every
     * analysed frame is due by stream time, and detecting each in full is
     * what made the camera fall further behind). */
    int behind = p->prm.defer_behind > 0 && waiting >= p->prm.defer_behind;
    int due = !c->had_full || seq - c->full_seq >= every;
    if (due && c->had_full && behind && c->deferred_run < (int)every) {
        *deferred = 1;
        c->deferred_run++;
    } else if (due) {
        c->deferred_run = 0;
        c->full_seq = c->had_full ? seq : seq - (uint64_t)c->index % every;
        c->had_full = 1;
        return lfr_face_detect(fc, im, fp, faces, n, err);
    }
    c->last_full = 0;
    /* The live tracks' predicted boxes, as lfr_tracker_update predicts. */
    float near[LFR_FACE_MAX_NEAR][4];
    int nn = 0;
    for (int j = 0; j < LFR_PIPELINE_MAX_TRACKS; j++) {
        const lfr_track *t = &c->tr.t[j];
        if (!t->id) continue;
        if (nn == LFR_FACE_MAX_NEAR) { /* lfr_face_detect_near: in full */
            nn++;
            break;
        }
        float k = (float)(t->unseen + 1);
        near[nn][0] = t->box[0] + t->vel[0] * k;
        near[nn][1] = t->box[1] + t->vel[1] * k;
        near[nn][2] = t->box[2];
        near[nn][3] = t->box[3];
        nn++;
    }
    int mode = LFR_FACE_NEAR_NONE;
    lfr_status st = lfr_face_detect_near(fc, im, fp, (const float(*)[4])near, nn, faces, n,
                                         &mode, err);
    sodium_memzero(near, sizeof near);
    if (mode == LFR_FACE_NEAR_FULL) {
        c->full_seq = seq;
        c->last_full = 1;
        *deferred = 0;
        c->deferred_run = 0;
    }
    *how = mode == LFR_FACE_NEAR_FULL ? 0 : mode == LFR_FACE_NEAR_WINDOWS ? 1 : 2;
    return st;
}

static double thread_cpu_s(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)) return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One turn of worker w on camera c (claimed): due alert retries, the
 * deployment check, then the camera's newest frame if it has one.  1 when
 * the camera ended (nothing more will come). */
static int serve(worker *w, cam *c, const lfr_face_params *fp, uint64_t *more_ns) {
    lfr_pipeline *p = w->p;
    double cpu0 = thread_cpu_s();
    lfr_err err = {{0}};
    if (c->n_pend) retry_pending(p, c, 0);
    lfr_status st = refresh(p, 0, &err);
    if (st != LFR_OK)
        lfr_log(LFR_LOG_WARN, "pipeline: deployment check failed: %s: %s",
                lfr_status_message(st), err.msg);
    int ended = 0;
    lfr_frame f;
    memset(&f, 0, sizeof f);
    /* A full queue of waiting alerts pauses the camera: its frames stay
     * with video (newest wins, the others counted as dropped). */
    st = c->n_pend < LFR_PIPELINE_MAX_PENDING_ALERTS ? lfr_camera_next(c->vc, &f, 0)
                                                     : LFR_ERR_TIMEOUT;
    if (st == LFR_ERR_STATE) ended = 1;   /* ended, failed or stopped */
    if (st == LFR_OK) {
        uint64_t t_frame = lfr_now_ns();
        double waited = f.capture_ns && t_frame >= f.capture_ns
                            ? (double)(t_frame - f.capture_ns) / 1e6 : -1;
        pthread_mutex_lock(&c->mu);
        c->c.frames++;
        if (waited >= 0) metric_add(&c->m_wait, waited);
        pthread_mutex_unlock(&c->mu);
        lfr_pipeline_snapshot *b = snap_acquire(p);
        if (!b) { /* not live: no detection at all */
            count(c, &c->c.frames_not_live, 1);
        } else {
            if (!c->src_w) {
                pthread_mutex_lock(&c->mu);
                c->src_w = f.img.w;
                c->src_h = f.img.h;
                pthread_mutex_unlock(&c->mu);
            }
            lfr_face *faces = NULL;
            int n = 0, how = 0, deferred = 0; /* how: 0 full, 1 near the tracks, 2 none */
            int waiting = c->lossless ? 0 : lfr_camera_waiting(c->vc, NULL);
            uint64_t t0 = lfr_now_ns();
            st = detect(p, c, w->fc, &f.img, f.seq, waiting, fp, &faces, &n, &how, &deferred,
                        &err);
            double t_det = ms_since(t0);
            if (st == LFR_OK) {
                pthread_mutex_lock(&c->mu);
                if (how != 2) metric_add(&c->m_det, t_det);
                uint64_t *ctr[] = {&c->det_full, &c->det_near, &c->det_none};
                (*ctr[how])++;
                c->det_deferred += (uint64_t)deferred;
                pthread_mutex_unlock(&c->mu);
                st = analyse_faces(p, c, w->fc, b, &f.img, f.seq, f.capture_ns, faces, n, NULL,
                                   &err);
            }
            if (st != LFR_OK)
                lfr_log(LFR_LOG_WARN, "pipeline: camera %s: analysis failed: %s: %s", c->name,
                        lfr_status_message(st), err.msg);
            lfr_pipeline_snapshot_unref(b);
            pthread_mutex_lock(&c->mu);
            metric_add(&c->m_frame, ms_since(t_frame));
            pthread_mutex_unlock(&c->mu);
        }
        lfr_camera_recycle(c->vc, &f.img); /* its buffer serves a later frame */
    }
    /* Another frame waiting (the camera's queue): the camera stays ready,
     * as from that frame's capture. */
    *more_ns = 0;
    if (!ended && c->n_pend < LFR_PIPELINE_MAX_PENDING_ALERTS &&
        lfr_camera_waiting(c->vc, more_ns) == 0)
        *more_ns = 0;
    double cpu = thread_cpu_s() - cpu0;
    pthread_mutex_lock(&c->mu);
    if (cpu > 0) c->cpu_s += cpu;
    pthread_mutex_unlock(&c->mu);
    return ended;
}

/* The camera worker w should serve next (sched_mu held): ready, not
 * claimed, not ended, the one whose frame has waited longest.  NULL: none. */
static cam *pick(lfr_pipeline *p, const worker *w) {
    cam *best = NULL;
    for (int i = 0; i < p->n_cams; i++) {
        cam *c = p->cams[i];
        if (!c->video || c->done || c->claimed || !c->ready) continue;
        if (w->only_cam >= 0 && i != w->only_cam) continue;
        if (!best || c->ready_ns < best->ready_ns) best = c;
    }
    return best;
}

/* Video's notify: camera c published a frame. */
static void cam_notify(void *ctx) {
    cam *c = ctx;
    lfr_pipeline *p = c->p;
    pthread_mutex_lock(&p->sched_mu);
    if (!c->ready || c->swept) { /* a frame waits from now */
        c->ready = 1;
        c->swept = 0;
        c->ready_ns = lfr_now_ns();
    }
    pthread_cond_broadcast(&p->sched_cv);
    pthread_mutex_unlock(&p->sched_mu);
}

static void *worker_main(void *arg) {
    worker *w = arg;
    lfr_pipeline *p = w->p;
    lfr_face_params fp = lfr_face_params_default;
    const uint64_t sweep = (uint64_t)LFR_PIPELINE_SWEEP_MS * 1000000ull;
    pthread_mutex_lock(&p->sched_mu);
    while (!atomic_load(&p->stop)) {
        uint64_t now = lfr_now_ns();
        if (now - p->sweep_ns >= sweep) {
            /* Cameras that published nothing get a turn too (alert
             * retries, the end of a file), after those with frames. */
            p->sweep_ns = now;
            for (int i = 0; i < p->n_cams; i++) {
                cam *c = p->cams[i];
                if (c->video && !c->done && !c->ready && !c->claimed) {
                    c->ready = 1;
                    c->swept = 1;
                    c->ready_ns = now;
                }
            }
        }
        cam *c = pick(p, w);
        if (!c) {
            if (w->only_cam >= 0 && w->only_cam < p->n_cams && p->cams[w->only_cam]->done)
                break;   /* one worker per camera: its camera ended */
            struct timespec ts;
            uint64_t until = p->sweep_ns + sweep;
            ts.tv_sec = (time_t)(until / 1000000000ull);
            ts.tv_nsec = (long)(until % 1000000000ull);
            pthread_cond_timedwait(&p->sched_cv, &p->sched_mu, &ts);
            continue;
        }
        c->claimed = 1;
        c->ready = 0;
        c->swept = 0;
        pthread_mutex_unlock(&p->sched_mu);
        uint64_t more_ns = 0;
        int ended = serve(w, c, &fp, &more_ns);
        pthread_mutex_lock(&p->sched_mu);
        c->claimed = 0;
        if (ended) {
            c->done = 1;
            atomic_store(&c->running, 0);
        } else if (more_ns && (!c->ready || c->swept || more_ns < c->ready_ns)) {
            c->ready = 1;
            c->swept = 0;
            c->ready_ns = more_ns;
        }
        if (c->ready) pthread_cond_broadcast(&p->sched_cv);   /* for another worker */
    }
    pthread_mutex_unlock(&p->sched_mu);
    return NULL;
}

/* Lifecycle --------------------------------------------------------------- */

/* The engine must have every network of the deployment's model set: an
 * engine without models/mfn512.lfrm runs mfn192 deployments only. */
static lfr_status engine_has_set(const lfr_pipeline_config *cfg, lfr_err *err) {
    if (!cfg->engine) return LFR_OK; /* injected cameras only */
    lfr_deploy_info *d = lfr_malloc(sizeof *d);
    if (!d) return LFR_ERR_NOMEM;
    lfr_face_model_set set;
    lfr_status st = lfr_deploy_get(cfg->store, cfg->deployment_id, d, err);
    if (st == LFR_OK && lfr_face_model_set_parse(d->model_set, &set) != LFR_OK)
        st = lfr_err_set(err, LFR_ERR_UNSUPPORTED,
                         "deployment %lld uses model set \"%s\", which this engine does not know",
                         (long long)cfg->deployment_id, d->model_set);
    else if (st == LFR_OK && !lfr_face_engine_has_model_set(cfg->engine, set))
        st = lfr_err_set(err, LFR_ERR_UNSUPPORTED,
                         "deployment %lld uses model set %s, but this engine's models folder "
                         "lacks a network of it (fused704 needs mfn512.lfrm: tools/setup.sh "
                         "models)", (long long)cfg->deployment_id, d->model_set);
    lfr_free(d);
    return st;
}

lfr_status lfr_pipeline_start(const lfr_pipeline_config *cfg, lfr_pipeline **out, lfr_err *err) {
    *out = NULL;
    if (!cfg || !cfg->store)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "pipeline needs a store");
    int at = cfg->params ? cfg->params->analysis_threads : 0;
    int de = cfg->params ? cfg->params->detect_every : 0;
    int epf = cfg->params ? cfg->params->embed_per_frame : 0;
    if (epf < 0 || epf > LFR_MAX_NET_BATCH)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "params.embed_per_frame is %d: it must be 1..%d or 0 (the default, %d)",
                           epf, LFR_MAX_NET_BATCH, LFR_PIPELINE_EMBED_PER_FRAME);
    if (de < 0 || de > LFR_PIPELINE_MAX_DETECT_EVERY)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "params.detect_every is %d: it must be 1..%d (1: every frame in "
                           "full) or 0 (the default, %d)", de, LFR_PIPELINE_MAX_DETECT_EVERY,
                           LFR_PIPELINE_DETECT_EVERY);
    int cq = cfg->params ? cfg->params->camera_queue : 0;
    if (cq < 0 || cq > LFR_VIDEO_MAX_QUEUE)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "params.camera_queue is %d: it must be 1..%d (1: newest frame wins) or "
                           "0 (the default, %d)", cq, LFR_VIDEO_MAX_QUEUE, LFR_PIPELINE_CAMERA_QUEUE);
    int db = cfg->params ? cfg->params->defer_behind : 0;
    if (db < -1 || db > LFR_VIDEO_MAX_QUEUE)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "params.defer_behind is %d: it must be 1..%d, -1 (never) or 0 (the "
                           "default, %d)", db, LFR_VIDEO_MAX_QUEUE, LFR_PIPELINE_DEFER_BEHIND);
    if (at != LFR_PIPELINE_THREAD_PER_CAMERA && (at < 0 || at > LFR_PIPELINE_MAX_ANALYSIS_THREADS))
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "params.analysis_threads is %d: it must be 1..%d, 0 (one per CPU) or "
                           "%d (one per camera)", at, LFR_PIPELINE_MAX_ANALYSIS_THREADS,
                           LFR_PIPELINE_THREAD_PER_CAMERA);
    lfr_pipeline *p = lfr_calloc(1, sizeof *p);
    if (!p) return LFR_ERR_NOMEM;
    p->cfg = *cfg;
    p->prm = cfg->params ? *cfg->params : lfr_pipeline_params_default;
    if (p->prm.event_queue < 1) p->prm.event_queue = 1;
    if (p->prm.event_queue > LFR_PIPELINE_MAX_EVENT_QUEUE) p->prm.event_queue = LFR_PIPELINE_MAX_EVENT_QUEUE;
    if (p->prm.gate.max_embeds < 1) p->prm.gate.max_embeds = 1;
    if (p->prm.tmpl.k > LFR_PIPELINE_MAX_TEMPLATE_K) p->prm.tmpl.k = LFR_PIPELINE_MAX_TEMPLATE_K;
    if (p->prm.tmpl.k < 2) p->prm.tmpl.k = 0;   /* best shots only */
    if (p->prm.tmpl.fill_gap < 0) p->prm.tmpl.fill_gap = 0;
    if (p->prm.detect_every == 0) p->prm.detect_every = LFR_PIPELINE_DETECT_EVERY;
    if (p->prm.embed_per_frame == 0) p->prm.embed_per_frame = LFR_PIPELINE_EMBED_PER_FRAME;
    if (p->prm.camera_queue == 0) p->prm.camera_queue = LFR_PIPELINE_CAMERA_QUEUE;
    if (p->prm.defer_behind == 0) p->prm.defer_behind = LFR_PIPELINE_DEFER_BEHIND;
    const lfr_actor *a = cfg->actor ? cfg->actor : &default_actor;
    snprintf(p->actor_name, sizeof p->actor_name, "%s", a->name ? a->name : "");
    p->actor.name = p->actor_name;
    p->actor.role = a->role;
    p->sig.state = -1;
    p->q.cap = p->prm.event_queue;
    p->q.ev = lfr_calloc((size_t)p->q.cap, sizeof *p->q.ev);
    if (!p->q.ev) {
        lfr_free(p);
        return LFR_ERR_NOMEM;
    }
    pthread_mutex_init(&p->store_mu, NULL);
    pthread_mutex_init(&p->snap_mu, NULL);
    pthread_mutex_init(&p->q_mu, NULL);
    pthread_cond_init(&p->q_cv, NULL);
    pthread_mutex_init(&p->cams_mu, NULL);
    pthread_mutex_init(&p->sched_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* lfr_now_ns's clock */
    pthread_cond_init(&p->sched_cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&p->stop, 0);
    atomic_init(&p->last_check_ns, 0);
    lfr_status st = engine_has_set(cfg, err);
    if (st == LFR_OK) st = refresh(p, 1, err);
    if (st != LFR_OK) {
        lfr_pipeline_stop(p);
        return st;
    }
    *out = p;
    return LFR_OK;
}

/* Workers the pool should have with n_video video cameras (OVERVIEW). */
static int workers_wanted(const lfr_pipeline *p, int n_video) {
    int at = p->prm.analysis_threads;
    if (at == LFR_PIPELINE_THREAD_PER_CAMERA) return n_video;
    if (at == 0) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        at = ncpu < 1 ? 1 : ncpu > LFR_PIPELINE_MAX_ANALYSIS_THREADS
                                ? LFR_PIPELINE_MAX_ANALYSIS_THREADS : (int)ncpu;
    }
    return at < n_video ? at : n_video;
}

/* Starts one more worker (cams_mu held), serving camera only_cam or, -1,
 * any.  The worker is in p->workers once this returns LFR_OK. */
static lfr_status worker_start(lfr_pipeline *p, int only_cam, lfr_err *err) {
    worker *w = lfr_calloc(1, sizeof *w);
    if (!w) return LFR_ERR_NOMEM;
    w->p = p;
    w->only_cam = only_cam;
    lfr_status st = lfr_face_ctx_new(p->cfg.engine, &w->fc);
    if (st != LFR_OK) {
        lfr_free(w);
        return lfr_err_set(err, st, "face context for analysis worker %d", p->n_workers + 1);
    }
    if (pthread_create(&w->th, NULL, worker_main, w)) {
        lfr_face_ctx_destroy(w->fc);
        lfr_free(w);
        return lfr_err_set(err, LFR_ERR_INTERNAL, "cannot start analysis worker %d",
                           p->n_workers + 1);
    }
    pthread_mutex_lock(&p->sched_mu);
    p->workers[p->n_workers++] = w;
    pthread_mutex_unlock(&p->sched_mu);
    return LFR_OK;
}

static void cam_free(cam *c) {
    lfr_preview_free(c->pv);
    pthread_mutex_destroy(&c->mu);
    sodium_memzero(c, sizeof *c);
    lfr_free(c);
}

lfr_status lfr_pipeline_add_camera(lfr_pipeline *p, const char *name, const lfr_video_opts *o,
                                   int *index, lfr_err *err) {
    if (index) *index = -1;
    if (!name || !*name || strlen(name) >= LFR_MAX_ACTOR)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "camera name must be 1..%d bytes",
                           LFR_MAX_ACTOR - 1);
    if (o && !p->cfg.engine)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "a video camera needs the face engine");
    if (p->halted) return lfr_err_set(err, LFR_ERR_STATE, "the pipeline has halted");
    pthread_mutex_lock(&p->cams_mu);
    if (p->n_cams == LFR_PIPELINE_MAX_CAMERAS) {
        pthread_mutex_unlock(&p->cams_mu);
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "at most %d cameras per pipeline",
                           LFR_PIPELINE_MAX_CAMERAS);
    }
    cam *c = lfr_calloc(1, sizeof *c);
    if (!c) {
        pthread_mutex_unlock(&p->cams_mu);
        return LFR_ERR_NOMEM;
    }
    c->p = p;
    c->index = p->n_cams;
    snprintf(c->name, sizeof c->name, "%s", name);
    lfr_tracker_init(&c->tr, &p->prm.track);
    pthread_mutex_init(&c->mu, NULL);
    c->start_ns = lfr_now_ns();
    c->pv = lfr_preview_new(p->prm.preview_ms);
    atomic_init(&c->running, 0);
    if (o) {
        lfr_video_opts vo = *o;
        vo.notify = cam_notify;
        vo.notify_ctx = c;
        if (!vo.queue) vo.queue = p->prm.camera_queue;
        c->video = 1;
        c->lossless = vo.wait_consumer;   /* never behind: nothing is dropped */
        atomic_store(&c->running, 1);
        lfr_status st = lfr_camera_start(&vo, &c->vc, err);
        if (st != LFR_OK) {
            cam_free(c);
            pthread_mutex_unlock(&p->cams_mu);
            return st;
        }
    }
    pthread_mutex_lock(&p->sched_mu);
    p->cams[p->n_cams++] = c;
    int n_video = 0;
    for (int i = 0; i < p->n_cams; i++) n_video += p->cams[i]->video;
    pthread_mutex_unlock(&p->sched_mu);
    lfr_status st = LFR_OK;
    if (o) {
        int want = workers_wanted(p, n_video);
        while (st == LFR_OK && p->n_workers < want)
            st = worker_start(p, p->prm.analysis_threads == LFR_PIPELINE_THREAD_PER_CAMERA
                                     ? c->index : -1, err);
        /* A camera nobody serves is taken out again; a pool that could not
         * grow serves it with the workers it has. */
        int served = p->prm.analysis_threads == LFR_PIPELINE_THREAD_PER_CAMERA
                         ? st == LFR_OK : p->n_workers > 0;
        if (st != LFR_OK && served)
            lfr_log(LFR_LOG_WARN, "pipeline: camera %s: %s; %d analysis workers serve %d cameras",
                    name, err ? err->msg : lfr_status_message(st), p->n_workers, n_video);
        if (!served) {
            pthread_mutex_lock(&p->sched_mu);   /* no worker has seen it */
            p->n_cams--;
            p->cams[p->n_cams] = NULL;
            pthread_mutex_unlock(&p->sched_mu);
            lfr_camera_stop(c->vc);
            cam_free(c);
            pthread_mutex_unlock(&p->cams_mu);
            return st;
        }
    }
    if (index) *index = c->index;
    pthread_mutex_unlock(&p->cams_mu);
    return LFR_OK;
}

lfr_preview *lfr_pipeline_cam_preview(lfr_pipeline *p, int cam) {
    pthread_mutex_lock(&p->cams_mu);
    lfr_preview *v = cam >= 0 && cam < p->n_cams ? p->cams[cam]->pv : NULL;
    pthread_mutex_unlock(&p->cams_mu);
    return v;
}

int lfr_pipeline_running(lfr_pipeline *p) {
    int n = 0;
    pthread_mutex_lock(&p->cams_mu);
    for (int i = 0; i < p->n_cams; i++) n += atomic_load(&p->cams[i]->running);
    pthread_mutex_unlock(&p->cams_mu);
    return n;
}

lfr_status lfr_pipeline_inject(lfr_pipeline *p, int cam_index, const lfr_image *frame,
                               uint64_t capture_ns, const lfr_face *faces, int n,
                               const float *emb, lfr_err *err) {
    if (cam_index < 0 || cam_index >= p->n_cams || p->cams[cam_index]->video)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "not an injected camera");
    if (p->halted) return lfr_err_set(err, LFR_ERR_STATE, "the pipeline has halted");
    if (n < 0 || (n && (!faces || !emb)))
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "faces and embeddings required");
    cam *c = p->cams[cam_index];
    if (c->n_pend) retry_pending(p, c, 0);
    lfr_status st = refresh(p, 0, err);
    if (st != LFR_OK) return st;
    count(c, &c->c.frames, 1);
    lfr_pipeline_snapshot *b = snap_acquire(p);
    if (!b) {
        count(c, &c->c.frames_not_live, 1);
        return LFR_OK;
    }
    pthread_mutex_lock(&c->mu);
    if (frame && !c->src_w) {
        c->src_w = frame->w;
        c->src_h = frame->h;
    }
    uint64_t seq = c->c.frames;
    pthread_mutex_unlock(&c->mu);
    c->last_full = 1; /* the caller's faces stand for a full detection */
    st = analyse_faces(p, c, NULL, b, frame, seq, capture_ns, faces, n, emb, err);
    lfr_pipeline_snapshot_unref(b);
    return st;
}

static void counters_add(lfr_pipeline_counters *t, const lfr_pipeline_counters *c) {
    t->frames += c->frames;
    t->frames_analysed += c->frames_analysed;
    t->frames_not_live += c->frames_not_live;
    t->frames_dropped += c->frames_dropped;
    t->faces += c->faces;
    t->faces_gated += c->faces_gated;
    t->tracks += c->tracks;
    t->embeddings += c->embeddings;
    t->matches += c->matches;
    t->template_matches += c->template_matches;
    t->template_hits += c->template_hits;
    t->track_restarts += c->track_restarts;
    t->alerts += c->alerts;
    t->alert_updates += c->alert_updates;
    t->alerts_suppressed += c->alerts_suppressed;
    t->alert_errors += c->alert_errors;
    t->alerts_delayed += c->alerts_delayed;
    t->alerts_pending += c->alerts_pending;
    t->alerts_lost += c->alerts_lost;
}

void lfr_pipeline_stats_get(lfr_pipeline *p, lfr_pipeline_stats *out) {
    memset(out, 0, sizeof *out);
    out->deployment_id = p->cfg.deployment_id;
    pthread_mutex_lock(&p->snap_mu);
    out->live = p->live;
    out->templates = p->cur ? p->cur->n : 0;
    pthread_mutex_unlock(&p->snap_mu);
    pthread_mutex_lock(&p->store_mu);
    out->snapshot_loads = p->snapshot_loads;
    pthread_mutex_unlock(&p->store_mu);
    pthread_mutex_lock(&p->q_mu);
    out->events_dropped = p->q.dropped;
    metric_get(&p->m_lat, &out->latency);
    pthread_mutex_unlock(&p->q_mu);
    uint64_t now = lfr_now_ns();
    pthread_mutex_lock(&p->cams_mu);
    out->n_cameras = p->n_cams;
    for (int i = 0; i < p->n_cams; i++) {
        cam *c = p->cams[i];
        lfr_pipeline_cam_stats *s = &out->cam[i];
        snprintf(s->name, sizeof s->name, "%s", c->name);
        s->state = -1;
        if (c->video) {
            lfr_cam_stats vs = c->final_vs;
            if (c->vc) {
                memset(&vs, 0, sizeof vs);
                lfr_camera_stats_get(c->vc, &vs);
            }
            s->state = (int)vs.state;
            s->decoded = vs.decoded;
            snprintf(s->last_error, sizeof s->last_error, "%s", vs.last_error);
            s->src_w = vs.src_w;
            s->src_h = vs.src_h;
        }
        s->running = atomic_load(&c->running);
        pthread_mutex_lock(&c->mu);
        s->c = c->c;
        if (c->video) {
            lfr_cam_stats vs = c->final_vs;
            if (c->vc) {
                memset(&vs, 0, sizeof vs);
                lfr_camera_stats_get(c->vc, &vs);
            }
            s->c.frames_dropped = vs.dropped;
        }
        if (!s->src_w) {
            s->src_w = c->src_w;
            s->src_h = c->src_h;
        }
        s->cpu_s = c->cpu_s;
        s->detect_full = c->det_full;
        s->detect_near = c->det_near;
        s->detect_deferred = c->det_deferred;
        s->detect_none = c->det_none;
        s->embeds_deferred = c->embeds_deferred;
        s->wall_s = (double)(now - c->start_ns) / 1e9;
        metric_get(&c->m_lat, &s->latency);
        metric_get(&c->m_det, &s->detect);
        metric_get(&c->m_trk, &s->track);
        metric_get(&c->m_emb, &s->embed);
        metric_get(&c->m_match, &s->match);
        metric_get(&c->m_frame, &s->frame);
        metric_get(&c->m_wait, &s->wait);
        /* Analysed fps over the frames of the last 5 s in the ring. */
        uint64_t k = c->fps_n < FPS_RING ? c->fps_n : FPS_RING;
        if (k >= 2) {
            uint64_t newest = c->fps_t[(c->fps_n - 1) % FPS_RING], oldest = newest;
            uint64_t m = 1;
            for (uint64_t j = 2; j <= k; j++) {
                uint64_t t = c->fps_t[(c->fps_n - j) % FPS_RING];
                if (newest - t > 5000000000ull) break;
                oldest = t;
                m = j;
            }
            if (m >= 2 && newest > oldest && (!s->running || now - newest < 2000000000ull))
                s->analysed_fps = (double)(m - 1) / ((double)(newest - oldest) / 1e9);
        }
        pthread_mutex_unlock(&c->mu);
        counters_add(&out->total, &s->c);
    }
    pthread_mutex_lock(&p->sched_mu);
    out->analysis_threads = p->n_workers;
    pthread_mutex_unlock(&p->sched_mu);
    pthread_mutex_unlock(&p->cams_mu);
}

lfr_status lfr_pipeline_halt(lfr_pipeline *p, lfr_err *err) {
    if (!p) return LFR_OK;
    if (p->halted) return LFR_OK;
    p->halted = 1;
    pthread_mutex_lock(&p->sched_mu);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->sched_cv);
    pthread_mutex_unlock(&p->sched_mu);
    /* cams_mu keeps add_camera from starting a worker meanwhile. */
    pthread_mutex_lock(&p->cams_mu);
    for (int i = 0; i < p->n_workers; i++) pthread_join(p->workers[i]->th, NULL);
    for (int i = 0; i < p->n_cams; i++) atomic_store(&p->cams[i]->running, 0);
    pthread_mutex_unlock(&p->cams_mu);
    for (int i = 0; i < p->n_cams; i++) {
        cam *c = p->cams[i];
        if (!c->vc) continue;
        lfr_cam_stats vs;
        memset(&vs, 0, sizeof vs);
        lfr_camera_stats_get(c->vc, &vs);
        pthread_mutex_lock(&p->cams_mu);
        c->final_vs = vs;
        lfr_camera_stop(c->vc);
        c->vc = NULL;
        pthread_mutex_unlock(&p->cams_mu);
    }
    /* Alerts still waiting for the store: keep trying for a while. */
    uint64_t t0 = lfr_now_ns(), limit = (uint64_t)p->prm.alert_flush_ms * 1000000ull;
    int waiting = 0;
    for (int i = 0; i < p->n_cams; i++) waiting += p->cams[i]->n_pend;
    if (waiting)
        lfr_log(LFR_LOG_WARN, "pipeline: deployment %lld: %d alerts still waiting for the store; "
                "trying for up to %.1f s", (long long)p->cfg.deployment_id, waiting,
                p->prm.alert_flush_ms / 1000.0);
    while (waiting && lfr_now_ns() - t0 < limit) {
        waiting = 0;
        for (int i = 0; i < p->n_cams; i++) {
            if (p->cams[i]->n_pend) retry_pending(p, p->cams[i], 1);
            waiting += p->cams[i]->n_pend;
        }
        if (waiting) {
            struct timespec d = {0, LFR_PIPELINE_ALERT_RETRY_MIN_MS * 1000000L};
            nanosleep(&d, NULL);
        }
    }
    int lost = 0;
    for (int i = 0; i < p->n_cams; i++) {
        cam *c = p->cams[i];
        while (c->n_pend) {
            char why[LFR_ERRBUF_SIZE + 80];
            snprintf(why, sizeof why, "still refused when the pipeline stopped: %s", c->pend[0].reason);
            alert_lost(c, &c->pend[0], why);
            pending_remove(c, 0);
            lost++;
        }
    }
    if (lost)
        return lfr_err_set(err, LFR_ERR_BUSY, "%d alert(s) of deployment %lld could not be stored "
                           "(the store stayed busy or failing for %.1f s)", lost,
                           (long long)p->cfg.deployment_id, p->prm.alert_flush_ms / 1000.0);
    return LFR_OK;
}

void lfr_pipeline_stop(lfr_pipeline *p) {
    if (!p) return;
    lfr_err err = {{0}};
    if (lfr_pipeline_halt(p, &err) != LFR_OK) lfr_log(LFR_LOG_ERROR, "pipeline: %s", err.msg);
    for (int i = 0; i < p->n_cams; i++) cam_free(p->cams[i]);
    for (int i = 0; i < p->n_workers; i++) {
        lfr_face_ctx_destroy(p->workers[i]->fc);
        lfr_free(p->workers[i]);
    }
    snap_install(p, NULL, UINT64_MAX, 0);
    while (p->q.n) {
        lfr_pipeline_event_free(&p->q.ev[p->q.head]);
        p->q.head = (p->q.head + 1) % p->q.cap;
        p->q.n--;
    }
    lfr_free(p->q.ev);
    pthread_mutex_destroy(&p->store_mu);
    pthread_mutex_destroy(&p->snap_mu);
    pthread_mutex_destroy(&p->q_mu);
    pthread_cond_destroy(&p->q_cv);
    pthread_mutex_destroy(&p->cams_mu);
    pthread_mutex_destroy(&p->sched_mu);
    pthread_cond_destroy(&p->sched_cv);
    lfr_free(p);
}
