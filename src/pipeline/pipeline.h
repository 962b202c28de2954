/*
 * pipeline.h - live recognition: camera -> detect -> track -> quality gate
 * -> embed (best shots only) -> match -> alert.
 *
 * OVERVIEW
 *   One lfr_pipeline serves ONE deployment.  Its cameras share a pool of
 *   analysis workers (params.analysis_threads; 0: one per online CPU, never
 *   more than there are cameras), each a thread with its own lfr_face_ctx.
 *   Scheduling: a camera's video worker wakes the pool when it publishes a
 *   frame (lfr_video_opts.notify); a free worker takes the camera whose
 *   frame has waited longest and that no other worker is analysing, and
 *   analyses the oldest frame waiting for it.  At most
 *   params.camera_queue (LFR_PIPELINE_CAMERA_QUEUE, 4) frames of a camera
 *   wait (lfr_video_opts queue, unless the caller set one): analyses
 *   slower than a frame interval (frames with new faces to embed, several
 *   cameras' at once) do not cost the next frames, latency grows by three
 *   frame intervals at most, and when the workers fall further behind
 *   video drops the oldest and counts it.  One camera is analysed by
 *   at most one worker at a time (its tracks, templates, cooldowns and
 *   waiting alerts are the camera's), claimed under the pool's lock; so
 *   four cameras on two workers take turns, none starved, and a worker with
 *   nothing to do sleeps on the pool's condition variable (waking every
 *   LFR_PIPELINE_SWEEP_MS to retry waiting alerts and notice ended
 *   cameras).  analysis_threads = LFR_PIPELINE_THREAD_PER_CAMERA keeps the
 *   former scheduling, one worker per camera, for comparison.  The CPU
 *   time each camera's analysis took, whichever worker ran it, is in its
 *   stats (cpu_s).  Per frame:
 *     detect    lfr_face_detect on the frame, in full on every
 *               params.detect_every-th analysed frame of the camera.  On
 *               the frames between, lfr_face_detect_near looks only around
 *               the predicted boxes of the camera's SMALL tracks (under 96
 *               px in a 1080p frame): windows of the working image with a
 *               face's width of context on each side, on the detector's
 *               grid.  Big faces are not looked for there (the tracker
 *               keeps them; the next full detection finds them again):
 *               they are seen in full every detect_every frames, and the
 *               small faces, the ones that need every chance of a good
 *               shot, are detected on every frame.  Windows that would
 *               cover half the frame give a full detection instead.  A
 *               face that just came into view waits at most
 *               detect_every - 1 frames (40 ms at 25 fps for 2).  The live
 *               view gets frames detected in full only.  Behind: when
 *               params.defer_behind frames (LFR_PIPELINE_DEFER_BEHIND)
 *               still wait for the camera after the one taken, a full
 *               detection that is due waits too (that frame is detected
 *               near the tracks), for at most detect_every analysed
 *               frames: when the cores are short, a camera that drops
 *               frames no longer has every analysed frame due in full
 *               (a dropped frame counts towards the next full detection),
 *               and new faces are found up to detect_every analysed
 *               frames later, instead of more frames being dropped (not with
 *               detect_every 1, nor for a camera whose video waits for
 *               its consumer: wait_consumer drops nothing).  Counted per camera
 *               (lfr_pipeline_cam_stats.detect_full/_near/_none/_deferred);
 *               measured in docs/pipeline.md.
 *     track     greedy IoU matching of the detections with the tracks'
 *               constant-velocity predictions (lfr_tracker below), then a
 *               second stage for what is left: a detection joins a track it
 *               did not overlap when its centre lies within a gate of the
 *               prediction (params.track.max_dist face widths, wider for a
 *               track missed for a few frames or seen only once) and its
 *               size is within params.track.max_size_ratio, nearest first:
 *               a face moving fast, or missed by the detector for a few
 *               frames, keeps its track.  Track ids count from 1 per
 *               camera; a track unseen for params.track.max_unseen analysed
 *               frames expires.
 *     gate      lfr_pipeline_quality (eye distance, yaw, roll, detector
 *               scores, frame edge) gives each face a score in [0, 1] or
 *               rejects it.
 *     embed     only the best shots: a track's first face that passes the
 *               gate, then again only when the score beats the best embedded
 *               so far by the fraction params.gate.improve_margin, at most
 *               params.gate.max_embeds per track.  Never every face.  While
 *               a track's template (below) holds fewer than params.tmpl.k
 *               embeddings, a face at least params.tmpl.fill_rel as good as
 *               its best, params.tmpl.fill_gap analysed frames after its
 *               last embedding, is embedded too (still within max_embeds).
 *               At most params.embed_per_frame faces per frame, the first
 *               shots of new tracks before better shots and fills; the
 *               others wait for a later frame (counted: embeds_deferred).
 *               When a crowd walks in, the embeddings spread over a few
 *               frames instead of one frame taking them all, which cost the
 *               frames behind it (measured in docs/pipeline.md).
 *     template  each track keeps its params.tmpl.k best embeddings (by
 *               quality score) in memory; their quality-weighted mean,
 *               re-normalised, is the track template.  A new embedding that
 *               scores below params.tmpl.same_min against the template is
 *               somebody else (the tracker followed the box across a scene
 *               cut or a crossing): the track restarts under a new id
 *               (lfr_tracker_restart) and its template with it.
 *     match     lfr_match_search_batch against the deployment's snapshot
 *               (refcounted, shared by the cameras) at the deployment's
 *               authorised threshold: each embedded best shot, and the
 *               track template whenever it changed and holds at least two
 *               embeddings.
 *     alert     one alert per (track, watchlist entry): raised at the first
 *               match of a best shot or of the track template, then
 *               "alert.update" when a later shot or template of the same
 *               track scores higher.  The event says which matched
 *               (lfr_pipeline_event.source; the crop is the face of the
 *               frame that completed the template), and so do the log
 *               line and the stored alert (lfr_alert.source/template_n,
 *               by lfr_pipeline_source_name).  Cooldown: after an alert for entry E
 *               on camera C, a NEW track matching E on C within
 *               params.cooldown_s is suppressed (counted, not stored).
 *               A raised alert is stored with lfr_deploy_alert_record (its
 *               padded face crop sealed as JPEG) and put on the event queue.
 *   Snapshot: lfr_pipeline_snapshot (refcounted) = the matcher's snapshot,
 *   the threshold and what an alert says about an entry, built only by
 *   lfr_pipeline_snapshot_load through lfr_deploy_templates_load (which
 *   verifies the watchlist digest recorded at authorisation).  The owner of
 *   the pipeline pushes a new one with lfr_pipeline_set_snapshot right
 *   after a change it made (start, end, authorised amendment): the next
 *   frame uses it.
 *   Liveness (the safety net for changes made by another process): at most
 *   every params.live_check_ms the pipeline calls lfr_deploy_require_live
 *   and lfr_deploy_get.  When the deployment is not live the snapshot is
 *   dropped and frames are counted and discarded without detection
 *   (matching STOPS).  When its state, threshold or recorded watchlist
 *   digest differs from the snapshot's (a removal changes the digest even
 *   when an addition keeps the count) the snapshot is rebuilt.  Every
 *   LFR_PIPELINE_VERIFY_S the watchlist itself is verified against the
 *   recorded digest (lfr_deploy_watchlist_verify): an entry moved in behind
 *   the software's back stops matching, logged at ERROR level.
 *
 *   Alerts are never dropped because the store is busy: an alert the store
 *   refuses for a transient reason (LFR_ERR_BUSY, LFR_ERR_IO, LFR_ERR_NOMEM:
 *   another process holds the write lock, a full disk) waits in the
 *   camera's queue (LFR_PIPELINE_MAX_PENDING_ALERTS) and is retried by the
 *   worker serving the camera with backoff (LFR_PIPELINE_ALERT_RETRY_MIN_MS
 *   doubling to _MAX_MS), logged at WARN level with the reason when queued and at ERROR
 *   level when still waiting after LFR_PIPELINE_ALERT_ERROR_AFTER_S; its
 *   event goes out when it is stored.  A full queue pauses the camera's
 *   analysis (frames are dropped, newest wins) until one is stored; a
 *   worker whose frame fills the queue waits for the store before it
 *   serves any other camera.
 *   lfr_pipeline_halt flushes the queue (for params.alert_flush_ms)
 *   and logs each alert that could still not be stored at ERROR level
 *   (counted as alerts_lost).  A refusal that retrying cannot change (the
 *   deployment ended) is counted in alert_errors and logged at WARN level.
 *
 *   PRIVACY.  Nothing about a face that did not match leaves the frame it
 *   came from: no crop, embedding, box or frame is written, logged, queued
 *   or kept, except what a track holds in memory while it is followed: its
 *   box and the embeddings of its template (at most params.tmpl.k), wiped
 *   when the track expires or restarts and when the camera stops.  Other
 *   embedding buffers (shots, template probes) are wiped after matching.  What remains of
 *   non-matches is counters only (lfr_pipeline_stats).  Debug logging
 *   prints counters and states, never boxes, crops or vectors.
 *
 *   Events: a bounded queue (params.event_queue); when full the OLDEST
 *   event is dropped and counted (events_dropped): a slow consumer never
 *   blocks a camera.  An optional callback sees each event first (from the
 *   analysis worker; it must not block).
 *
 *   Metrics: rolling windows (LFR_PIPELINE_METRIC_WINDOW samples) of the
 *   time per stage (detect, track, embed, match), per analysed frame, and
 *   frame-to-alert latency (the frame's capture_ns to the event), reported
 *   as median and p95.
 *
 * OWNERSHIP
 *   The store passed in is used only by the pipeline, under its own lock,
 *   from lfr_pipeline_start until lfr_pipeline_stop returns; the caller
 *   must not use it meanwhile (a store is single-threaded), except through
 *   lfr_pipeline_with_store.  The face engine must outlive the pipeline.
 *   Events from lfr_pipeline_next_event are the caller's: release with
 *   lfr_pipeline_event_free (which wipes the face crop).  Stats are
 *   caller-owned fixed-size structs.
 */
#ifndef LFR_PIPELINE_H
#define LFR_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "deploy/deploy.h"
#include "face/face.h"
#include "image/image.h"
#include "video/video.h"

/* Parameters ------------------------------------------------------------- */

typedef struct lfr_track_params {
    float iou_min;     /* least IoU of prediction and detection to continue a track (0.3) */
    int max_unseen;    /* analysed frames a track survives unseen (10) */
    float max_dist;    /* second stage: a detection within this many face widths
                          of a track's predicted centre continues it (1.0); the
                          gate grows by a quarter per missed frame and doubles
                          for a track seen once (no velocity yet), at most to
                          twice this; 0: no second stage (IoU only) */
    float max_size_ratio; /* ... and only when the sizes differ by at most this
                             factor (1.5) */
} lfr_track_params;

typedef struct lfr_quality_gate {
    float min_eye_dist;   /* px between the eyes in the frame (16) */
    float max_yaw;        /* degrees (35) */
    float max_roll;       /* degrees (30) */
    float min_onet;       /* O-Net probability (0.9) */
    int reject_edge;      /* 1: faces touching the frame edge are not embedded */
    float good_eye_dist;  /* eye distance at which size stops adding to the score (60) */
    float improve_margin; /* re-embed when the score beats the best so far by this
                             fraction of it (0.10: 10 % better) */
    int max_embeds;       /* embeddings per track, at most (5) */
} lfr_quality_gate;

/* Track templates (OVERVIEW: template). */
typedef struct lfr_template_params {
    int k;             /* embeddings in a track's template, the best by quality
                          (4; at most LFR_PIPELINE_MAX_TEMPLATE_K; < 2: no
                          templates, best shots only) */
    float fill_rel;    /* fill the template with faces at least this fraction
                          of the track's best quality score (0.8) */
    int fill_gap;      /* ... at least this many analysed frames after the
                          track's last embedding (5) */
    float same_min;    /* a new embedding below this cosine with its track's
                          template is another person: the track restarts (0.35;
                          <= -1: never) */
} lfr_template_params;

typedef struct lfr_pipeline_params {
    lfr_track_params track;
    lfr_quality_gate gate;
    lfr_template_params tmpl;
    double cooldown_s;    /* per entry per camera (30) */
    int live_check_ms;    /* liveness / snapshot refresh period (1000) */
    int event_queue;      /* events held for a slow consumer (256) */
    int crop_jpeg_quality;/* alert face crop (90) */
    float crop_pad;       /* crop = box grown by this fraction on each side (0.4);
                             black where it reaches past the frame */
    int alert_flush_ms;   /* halt: how long waiting alerts are retried
                             (LFR_PIPELINE_ALERT_FLUSH_MS) */
    int preview_ms;       /* live view: a new frame at most this often per
                             camera (LFR_PIPELINE_PREVIEW_MS; <= 0: that) */
    /* Appended after the contract; zero keeps the default (the pool). */
    int analysis_threads; /* analysis workers shared by the cameras (OVERVIEW):
                             1..LFR_PIPELINE_MAX_ANALYSIS_THREADS, at most one
                             per camera; 0: one per online CPU;
                             LFR_PIPELINE_THREAD_PER_CAMERA: one per camera,
                             each serving only its own (the former scheduling) */
    int detect_every;     /* OVERVIEW: detect.  A camera's frames are searched
                             for NEW faces in full every this many analysed
                             frames; in between the detector looks only near
                             its tracks (lfr_face_detect_near).  1: every
                             frame in full; 0: LFR_PIPELINE_DETECT_EVERY */
    int embed_per_frame;  /* OVERVIEW: embed.  Most faces a camera embeds in one
                             frame (1..LFR_MAX_NET_BATCH); 0:
                             LFR_PIPELINE_EMBED_PER_FRAME */
    int camera_queue;     /* frames that may wait for analysis per video camera
                             (lfr_video_opts.queue, 1..LFR_VIDEO_MAX_QUEUE) when
                             the camera's own options leave it 0; 0:
                             LFR_PIPELINE_CAMERA_QUEUE */
    int defer_behind;     /* OVERVIEW: detect, behind.  Frames still waiting for
                             a camera at which its due full detection waits
                             (1..LFR_VIDEO_MAX_QUEUE); 0: LFR_PIPELINE_DEFER_BEHIND;
                             -1: never */
} lfr_pipeline_params;

/* params.analysis_threads: one worker per camera. */
#define LFR_PIPELINE_THREAD_PER_CAMERA (-1)

extern const lfr_pipeline_params lfr_pipeline_params_default;

/* Quality score of a face in [0, 1], or -1 when the gate rejects it.
 * Size (eye distance up to good_eye_dist), frontality (yaw, roll) and the
 * O-Net probability each contribute a factor. */
float lfr_pipeline_quality(const lfr_quality_gate *g, const lfr_face *f);

/* Tracker (one per camera; exposed for tests) ----------------------------- */

typedef struct lfr_track {
    uint64_t id;           /* from 1, per camera */
    float box[4];          /* last seen x, y, w, h */
    float vel[2];          /* centre motion per analysed frame */
    int unseen;            /* analysed frames since last seen */
    int hits;              /* frames seen */
} lfr_track;

typedef struct lfr_tracker {
    lfr_track_params p;
    lfr_track t[LFR_PIPELINE_MAX_TRACKS];
    int n;
    uint64_t next_id;
    uint64_t created, expired;   /* counters */
} lfr_tracker;

void lfr_tracker_init(lfr_tracker *tr, const lfr_track_params *p);
/* One analysed frame: boxes[i] (x, y, w, h), n of them.  assign[i] gets the
 * index into tr->t of the track box i belongs to (a new track when none
 * matched; -1 only when LFR_PIPELINE_MAX_TRACKS tracks are live).  Tracks
 * unseen too long are removed; removed[] (may be NULL, room for
 * LFR_PIPELINE_MAX_TRACKS) receives their ids and *n_removed their number.
 * Indices into tr->t are valid until the next update. */
void lfr_tracker_update(lfr_tracker *tr, const float (*boxes)[4], int n, int *assign,
                        uint64_t *removed, int *n_removed);
/* The track at index i is somebody else from now on (its box and motion
 * stay): it gets a new id (counted in created).  Returns the new id, 0 when
 * i is not a live track. */
uint64_t lfr_tracker_restart(lfr_tracker *tr, int i);
float lfr_box_iou(const float a[4], const float b[4]);

/* Events ----------------------------------------------------------------- */

typedef enum lfr_pipeline_event_type {
    LFR_PIPELINE_ALERT,         /* "alert": a new alert (stored) */
    LFR_PIPELINE_ALERT_UPDATE   /* "alert.update": a better shot of the same track */
} lfr_pipeline_event_type;

const char *lfr_pipeline_event_name(lfr_pipeline_event_type t);

/* What matched: one embedded face (the best shot) or the track template. */
#define LFR_PIPELINE_SOURCE_LIST(X)                                                   \
    X(SHOT, "best_shot", "one embedded face of the track")                            \
    X(TEMPLATE, "track_template", "the quality-weighted mean of the track's best embeddings")

typedef enum lfr_pipeline_source {
#define LFR_PIPELINE_SOURCE_ENUM(id, name, what) LFR_PIPELINE_FROM_##id,
    LFR_PIPELINE_SOURCE_LIST(LFR_PIPELINE_SOURCE_ENUM)
#undef LFR_PIPELINE_SOURCE_ENUM
    LFR_PIPELINE_SOURCE_COUNT
} lfr_pipeline_source;

const char *lfr_pipeline_source_name(lfr_pipeline_source s);

typedef struct lfr_pipeline_event {
    lfr_pipeline_event_type type;
    int64_t alert_id;          /* the stored alert (updates refer to it) */
    int64_t deployment_id;
    char camera[LFR_MAX_ACTOR];
    int camera_index;
    int64_t at;                /* UTC seconds (the store's clock) */
    uint64_t frame_seq;
    uint64_t track_id;
    int64_t entry_id;          /* watchlist entry ... */
    int64_t image_id;          /* ... and the watchlist image that matched best */
    char subject_ref[LFR_MAX_ACTOR];
    char display_name[LFR_MAX_ACTOR];
    float cosine;
    float threshold;
    double likeness;           /* lfr_match_cal_entry_likeness(the model set's,
                                  cosine, entry_photos) */
    int entry_photos;          /* photos averaged into the watchlist template
                                  that matched (lfr_match_hit.entry_images) */
    lfr_pipeline_source source;/* what reached `cosine`: best shot or track template */
    int template_n;            /* embeddings in the template (source TEMPLATE), else 1 */
    float box[4];              /* face box in the frame */
    lfr_face_quality q;        /* incl. sharpness */
    float quality;             /* lfr_pipeline_quality */
    float det_score, onet_score;
    int frame_w, frame_h;
    double latency_ms;         /* frame capture to this event */
    uint8_t *face_jpeg;        /* padded live crop; owned by the event */
    size_t face_jpeg_len;
} lfr_pipeline_event;

void lfr_pipeline_event_free(lfr_pipeline_event *ev);

typedef void (*lfr_pipeline_event_fn)(void *ctx, const lfr_pipeline_event *ev);

/* Stats ------------------------------------------------------------------ */

typedef struct lfr_pipeline_metric {
    uint64_t n;            /* samples ever */
    double median_ms, p95_ms;  /* over the last LFR_PIPELINE_METRIC_WINDOW */
} lfr_pipeline_metric;

typedef struct lfr_pipeline_counters {
    uint64_t frames;            /* frames taken from the camera */
    uint64_t frames_analysed;   /* ... detected on (deployment live) */
    uint64_t frames_not_live;   /* ... discarded because the deployment was not live */
    uint64_t frames_dropped;    /* never analysed: replaced by a newer one (video) */
    uint64_t faces;             /* faces detected */
    uint64_t faces_gated;       /* ... rejected by the quality gate */
    uint64_t tracks;            /* tracks started */
    uint64_t embeddings;        /* faces embedded */
    uint64_t matches;           /* embeddings at or above the threshold */
    uint64_t template_matches;  /* track templates matched against the watchlist ... */
    uint64_t template_hits;     /* ... of them at or above the threshold */
    uint64_t track_restarts;    /* tracks restarted: the embedding said somebody else */
    uint64_t alerts;            /* raised (stored) */
    uint64_t alert_updates;     /* alert.update events */
    uint64_t alerts_suppressed; /* cooldown */
    uint64_t alert_errors;      /* alerts refused for good (e.g. the deployment ended) */
    uint64_t alerts_delayed;    /* alerts the store was too busy to take at once (queued) */
    uint64_t alerts_pending;    /* ... waiting now (a level, not a count of events) */
    uint64_t alerts_lost;       /* ... never stored: still refused when the pipeline halted */
} lfr_pipeline_counters;

typedef struct lfr_pipeline_cam_stats {
    char name[LFR_MAX_ACTOR];
    int state;                  /* lfr_cam_state; -1 for an injected camera */
    int running;                /* still analysed: not ended, failed or halted */
    lfr_pipeline_counters c;
    double analysed_fps;        /* over the last few seconds */
    double cpu_s;               /* CPU time the analysis of this camera took, on
                                   whichever worker (CLOCK_THREAD_CPUTIME_ID around
                                   each turn); decoding is the video worker's */
    double wall_s;              /* since the camera started */
    int src_w, src_h;
    lfr_pipeline_metric latency, detect, track, embed, match, frame;
    uint64_t decoded;           /* frames out of the camera's decoder (video) */
    char last_error[256];       /* the camera's most recent problem (video), "" none */
    /* Appended after the contract. */
    lfr_pipeline_metric wait;   /* frame capture to the start of its analysis: time
                                   spent waiting for a free worker */
    uint64_t detect_full;       /* analysed frames detected in full ... */
    uint64_t detect_near;       /* ... only near the camera's tracks (OVERVIEW: detect) */
    uint64_t detect_none;       /* ... not detected (no track to look near) */
    uint64_t detect_deferred;   /* of detect_near + detect_none: a full detection
                                   was due but the camera was behind (OVERVIEW) */
    uint64_t embeds_deferred;   /* faces due an embedding left to a later frame
                                   (params.embed_per_frame; OVERVIEW: embed) */
} lfr_pipeline_cam_stats;

typedef struct lfr_pipeline_stats {
    int64_t deployment_id;
    int live;                   /* 1 while matching */
    uint64_t snapshot_loads;
    size_t templates;
    uint64_t events_dropped;    /* oldest events dropped, consumer too slow */
    lfr_pipeline_counters total;/* sum over cameras */
    lfr_pipeline_metric latency;/* over all cameras */
    int n_cameras;
    lfr_pipeline_cam_stats cam[LFR_PIPELINE_MAX_CAMERAS];
    /* Appended after the contract. */
    int analysis_threads;       /* analysis workers started (OVERVIEW) */
} lfr_pipeline_stats;

/* Snapshot --------------------------------------------------------------- */

typedef struct lfr_pipeline_entry {
    int64_t id;
    char subject_ref[LFR_MAX_ACTOR];
    char display_name[LFR_MAX_ACTOR];
} lfr_pipeline_entry;

/* Immutable once loaded; shared by cameras (and the server's photo checks)
 * through references. */
typedef struct lfr_pipeline_snapshot {
    int64_t deployment_id;
    float threshold;                 /* authorised (or amended) threshold */
    lfr_deploy_state state;          /* at load: LFR_DEPLOY_LIVE */
    char digest[65];                 /* recorded watchlist digest at load */
    struct lfr_match_snapshot *snap; /* frozen; row i = template i */
    size_t n;                        /* templates */
    const int64_t *entry_ids;        /* row -> watchlist entry */
    const int64_t *image_ids;        /* row -> watchlist image */
    size_t n_entries;
    const lfr_pipeline_entry *entries;  /* sorted by id */
    lfr_face_model_set model_set;    /* the deployment's: best shots and track
                                        templates are embedded with it
                                        (lfr_face_embed_set) */
    int dim;                         /* lfr_face_model_set_dim(model_set) */
} lfr_pipeline_snapshot;

/* Builds the snapshot of a LIVE deployment (LFR_ERR_STATE otherwise;
 * LFR_ERR_INTEGRITY when the watchlist lost its recorded digest).  One
 * reference. */
lfr_status lfr_pipeline_snapshot_load(lfr_store *s, int64_t deployment_id,
                                      lfr_pipeline_snapshot **out, lfr_err *err);
lfr_pipeline_snapshot *lfr_pipeline_snapshot_ref(lfr_pipeline_snapshot *s);  /* returns s */
void lfr_pipeline_snapshot_unref(lfr_pipeline_snapshot *s);                  /* NULL ok */
/* The entry of id, or NULL. */
const lfr_pipeline_entry *lfr_pipeline_snapshot_entry(const lfr_pipeline_snapshot *s, int64_t id);

/* Pipeline --------------------------------------------------------------- */

/* TEST ONLY: sees every embedding the pipeline computes, before matching,
 * track templates included (tests/test_pipeline.c proves none of them
 * reaches any file). */
typedef void (*lfr_pipeline_embed_fn)(void *ctx, const float *emb, int dim);

typedef struct lfr_pipeline_config {
    lfr_store *store;
    int64_t deployment_id;
    const lfr_face_engine *engine;   /* may be NULL when only injected cameras are used */
    const lfr_pipeline_params *params;  /* NULL: defaults */
    const lfr_actor *actor;          /* who records alerts; NULL: "openlfr-pipeline" system */
    lfr_pipeline_event_fn on_event;  /* optional */
    void *on_event_ctx;
    lfr_pipeline_embed_fn embed_hook;/* TEST ONLY; NULL in the product */
    void *embed_hook_ctx;
} lfr_pipeline_config;

typedef struct lfr_pipeline lfr_pipeline;

/* Loads the deployment's snapshot if it is live (it need not be yet). */
lfr_status lfr_pipeline_start(const lfr_pipeline_config *cfg, lfr_pipeline **out, lfr_err *err);

/* Starts camera `name` (at most LFR_MAX_ACTOR - 1 bytes, no credentials:
 * it is stored with alerts) from video options `o` (their notify and
 * notify_ctx are the pipeline's: whatever the caller put there is
 * replaced), starting another analysis worker when the pool is smaller
 * than params.analysis_threads allows.  o == NULL adds an INJECTED camera
 * (never served by the workers), fed by lfr_pipeline_inject (tests).
 * *index (may be NULL) gets its index. */
lfr_status lfr_pipeline_add_camera(lfr_pipeline *p, const char *name, const lfr_video_opts *o,
                                   int *index, lfr_err *err);

/* Video cameras still analysed (not ended, failed or halted). */
int lfr_pipeline_running(lfr_pipeline *p);

/* Oldest queued event; LFR_ERR_NOT_FOUND when none arrived within
 * timeout_ms (0: do not wait). */
lfr_status lfr_pipeline_next_event(lfr_pipeline *p, lfr_pipeline_event *ev, int timeout_ms);

void lfr_pipeline_stats_get(lfr_pipeline *p, lfr_pipeline_stats *out);

/* Checks liveness and rebuilds the snapshot now, whether or not anything
 * seems to have changed (otherwise checked every params.live_check_ms by
 * the analysis workers).  LFR_ERR_INTEGRITY: the watchlist lost its digest;
 * matching stopped. */
lfr_status lfr_pipeline_refresh(lfr_pipeline *p, lfr_err *err);

/* Pushes snapshot s (the pipeline takes a reference; it must be this
 * deployment's): the next frame of every camera matches against it.
 * NULL: the deployment is no longer live, matching stops at once. */
void lfr_pipeline_set_snapshot(lfr_pipeline *p, lfr_pipeline_snapshot *s);
/* The snapshot in use (one reference for the caller), NULL when not live. */
lfr_pipeline_snapshot *lfr_pipeline_snapshot_get(lfr_pipeline *p);

/* The operator's live view (issue 10): the newest analysed frame of
 * camera `cam`, downscaled to at most LFR_MAX_PREVIEW_SIDE px on its long
 * side, with every detected face boxed (matched faces in a second colour),
 * encoded as JPEG into *jpeg (malloc'd; the caller frees) at most once per
 * params.preview_ms per camera (older calls get the same frame again).
 * Built in memory from frames the analysis already holds; never
 * stored, never logged.  LFR_ERR_NOT_FOUND when no frame was analysed
 * yet or `cam` is out of range. */
lfr_status lfr_pipeline_preview(lfr_pipeline *p, int cam, uint8_t **jpeg, size_t *len,
                                lfr_err *err);

/* Stops every camera and joins the analysis workers, then tries to store the alerts
 * still waiting for the store for up to params.alert_flush_ms.  Each
 * one that still cannot be stored is logged at ERROR level and counted
 * (alerts_lost); LFR_ERR_BUSY then says how many.  Stats and queued events
 * stay readable until lfr_pipeline_stop.  Idempotent. */
lfr_status lfr_pipeline_halt(lfr_pipeline *p, lfr_err *err);

/* Runs fn(store, ctx) under the pipeline's store lock (e.g. the server
 * recording an operator's decision while cameras run). */
lfr_status lfr_pipeline_with_store(lfr_pipeline *p, lfr_status (*fn)(lfr_store *s, void *ctx),
                                   void *ctx);

/* lfr_pipeline_halt if not done yet, then drops the snapshot and the
 * queue and frees the pipeline.  The store is the caller's again
 * afterwards.  NULL ok. */
void lfr_pipeline_stop(lfr_pipeline *p);

/* TEST HOOK: runs the analysis of one frame on injected camera `cam` with
 * the caller's detections and one synthetic embedding per face (row i of
 * emb, dim floats, unit length) instead of the networks: tracking, gate,
 * best-shot selection, matching, alert rules, storing, events and counters
 * are the product's.  `frame` supplies the crop for alerts. */
lfr_status lfr_pipeline_inject(lfr_pipeline *p, int cam, const lfr_image *frame,
                               uint64_t capture_ns, const lfr_face *faces, int n,
                               const float *emb, lfr_err *err);

#endif
