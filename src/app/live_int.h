/*
 * live_int.h - private API of the event hub (events.c) and the registry of
 * live deployments (registry.c), for src/app only (app.c and the
 * operations).  Front ends use app.h.
 *
 * OVERVIEW
 *   lfr_events: numbered events (from 1, no gaps) in a bounded ring of
 *   `cap` events; any number of threads wait for ids after the last they
 *   saw.  Data is copied in and copied out: a reader owns what it got.
 *   A reader that fell further behind than the ring gets *gap = 1 and
 *   resumes at the oldest event kept.  lfr_events_close wakes every
 *   waiter (a stopping server) and makes further waits return at once.
 *
 *   lfr_registry: one entry per live deployment.  Each entry owns an
 *   lfr_pipeline with its own store connection (opened from the app's
 *   store configuration: a store is single-threaded) and the cameras
 *   listed by lfr_deploy_camera_list.  The watchlist snapshot (matcher
 *   snapshot + threshold + row -> entry/image ids) is built only through
 *   lfr_deploy_templates_load, which verifies the watchlist digest
 *   recorded at authorisation; a refusal is logged at ERROR level and the
 *   deployment is not matched (lfr_registry_changed returns
 *   LFR_ERR_INTEGRITY).  The same snapshot is pushed into the pipeline
 *   (lfr_pipeline_set_snapshot) and handed to photo checks
 *   (lfr_registry_snapshot_get), so an authorised amendment takes effect
 *   on the next frame and the next check.  A change of the camera list
 *   restarts the deployment's pipeline (tracks and cooldowns start over).  Pipeline alerts become app
 *   events "alert.new" / "alert.update"; camera state changes become
 *   "camera.state" (all through cfg.publish).
 *
 * THREADS
 *   Every function is safe from any thread.  lfr_registry_changed
 *   serialises with itself; a camera thread never waits for it.
 *
 * OWNERSHIP
 *   lfr_events_new / lfr_registry_new give the object; _free stops and
 *   frees it (NULL ok).  Events copied out by lfr_events_wait are the
 *   caller's (lfr_event_clear).  A snapshot from lfr_registry_snapshot_get
 *   holds a reference: lfr_pipeline_snapshot_unref when done.
 */
#ifndef LFR_LIVE_INT_H
#define LFR_LIVE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

/* Event hub ---------------------------------------------------------------- */
typedef struct lfr_events lfr_events;

/* cap = 0: LFR_EVENT_HISTORY.  NULL when out of memory. */
lfr_events *lfr_events_new(size_t cap);
void lfr_events_free(lfr_events *h);   /* no waiter may remain; NULL ok */
/* Copies type (at most 31 bytes kept) and data (JSON text; NULL = "{}").
 * Returns the event's id, 0 when out of memory (nothing published). */
uint64_t lfr_events_publish(lfr_events *h, const char *type, int64_t deployment_id,
                            int64_t alert_id, int64_t device_id, const char *data);
/* As lfr_app_events_wait (app.h): events with id > after, at most cap,
 * waiting up to timeout_ms (0: do not wait) for the first one.  after =
 * UINT64_MAX: from the newest now.  after > head (ids of an earlier run of
 * the server): *gap = 1 and the oldest kept are returned.  Returns 0 at
 * once after lfr_events_close. */
size_t lfr_events_wait(lfr_events *h, uint64_t after, lfr_event *out, size_t cap, int *gap,
                       int timeout_ms);
uint64_t lfr_events_head(lfr_events *h);      /* newest id, 0 = none yet */
uint64_t lfr_events_oldest(lfr_events *h);    /* oldest id kept, 0 = none */
void lfr_events_close(lfr_events *h);         /* wakes every waiter */

/* Accessors app.c defines (struct lfr_app is app.c's) for the app.h
 * functions implemented in events.c and registry.c: lfr_app_publish,
 * lfr_app_events_wait, lfr_app_events_head, lfr_app_cameras. */
lfr_events *lfr_app_events(lfr_app *app);
struct lfr_registry *lfr_app_registry(lfr_app *app);   /* NULL: no pipelines */

/* The watchlist snapshot cameras and photo checks share: the pipeline's
 * (pipeline.h), refcounted and immutable: deployment_id, threshold, snap
 * (frozen matcher snapshot), n templates, entry_ids[i] / image_ids[i] of
 * row i, digest, and the entries (lfr_pipeline_snapshot_entry: subject_ref,
 * display_name). */
typedef lfr_pipeline_snapshot lfr_live_snapshot;

/* Builds a snapshot from the store (lfr_deploy_templates_load: live
 * deployments only, digest verified: LFR_ERR_INTEGRITY).  One reference.
 * (= lfr_pipeline_snapshot_load / _ref / _unref.) */
lfr_status lfr_live_snapshot_load(lfr_store *s, int64_t deployment_id, lfr_live_snapshot **out,
                                  lfr_err *err);
lfr_live_snapshot *lfr_live_snapshot_ref(lfr_live_snapshot *s);   /* returns s */
void lfr_live_snapshot_unref(lfr_live_snapshot *s);               /* NULL ok */

/* Registry of live deployments ------------------------------------------------ */
typedef struct lfr_registry lfr_registry;

/* Receives app events (type as in app.h; data stolen). Called from camera
 * threads and from lfr_registry_changed; must not block. */
typedef void (*lfr_registry_publish_fn)(void *ctx, const char *type, int64_t deployment_id,
                                        int64_t alert_id, json_t *data);

typedef struct lfr_registry_config {
    lfr_store_config store;       /* copied (strings too): each entry opens its own connection */
    const lfr_face_engine *engine;/* NULL: no cameras run (snapshots still serve photo checks) */
    int no_pipelines;             /* 1: build snapshots, start no cameras */
    const lfr_pipeline_params *params;  /* NULL: defaults */
    lfr_registry_publish_fn publish;    /* optional */
    void *publish_ctx;
} lfr_registry_config;

lfr_status lfr_registry_new(const lfr_registry_config *cfg, lfr_registry **out, lfr_err *err);
/* Stops every pipeline; NULL ok. */
void lfr_registry_free(lfr_registry *r);

/* Call after anything that may change what deployment `id` matches or
 * where: start, end, authorised amendment, camera add/remove (and once per
 * live deployment at server start-up).  Live: builds the snapshot now and
 * pushes it to the pipeline (starting the pipeline and any camera added;
 * stopping removed ones).  Not live: stops the pipeline and drops the
 * entry.  LFR_ERR_INTEGRITY: digest mismatch, logged at ERROR level, the
 * deployment's entry is dropped (nothing is matched). */
lfr_status lfr_registry_changed(lfr_registry *r, int64_t deployment_id, lfr_err *err);
/* Every live deployment of the store (server start-up). */
lfr_status lfr_registry_sync(lfr_registry *r, lfr_store *s, lfr_err *err);

/* The snapshot photo checks use (one reference: lfr_pipeline_snapshot_unref).
 * LFR_ERR_NOT_FOUND: the deployment is not live in the registry (call
 * lfr_registry_changed first if it just started). */
lfr_status lfr_registry_snapshot_get(lfr_registry *r, int64_t deployment_id,
                                     lfr_live_snapshot **out, lfr_err *err);

/* Camera stats of every live deployment (as lfr_app_cameras). */
size_t lfr_registry_cameras(lfr_registry *r, lfr_app_camera_stats *out, size_t cap);
/* Alerts that could not be stored after every retry, all pipelines. */
uint64_t lfr_registry_alerts_lost(lfr_registry *r);

/* Deployment dep's running cameras for the console (camera.stats), from
 * one reading of the pipeline's figures: *cams a JSON array of objects
 * (camera_id, name, state, reason, running, analysed_fps, frames,
 * frames_analysed, frames_dropped, faces, alerts, latency ...), empty when
 * the deployment runs no pipeline; *settings the camera settings the
 * server runs it with (serve's options detect_every, defer_behind (0:
 * never), embed_per_frame, camera_queue, analysis_threads,
 * alert_cooldown_s) and the analysis workers started (0: no pipeline
 * runs), from the same reading.  LFR_ERR_NOMEM: out of memory (both NULL). */
lfr_status lfr_registry_camera_stats(lfr_registry *r, int64_t dep, json_t **cams,
                                     json_t **settings);
/* The operator's live view of camera camera_id of deployment dep
 * (lfr_pipeline_preview; *jpeg is the caller's, lfr_free).
 * LFR_ERR_NOT_FOUND: the deployment runs no pipeline, the camera is not
 * running, or no frame was analysed yet. */
lfr_status lfr_registry_preview(lfr_registry *r, int64_t dep, int64_t camera_id, uint8_t **jpeg,
                                size_t *len, lfr_err *err);

#endif
