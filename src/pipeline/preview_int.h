/*
 * preview_int.h - private to src/pipeline: the operator's live view of one
 * camera (preview.c), fed by the camera's analysis (pipeline.c).
 *
 * OVERVIEW
 *   One lfr_preview per camera.  The analysis calls lfr_preview_offer after
 *   each analysed frame; while nobody watches (no lfr_preview_get within
 *   LFR_PREVIEW_WATCH_S) that is one atomic load and nothing is kept.
 *   While somebody watches, at most once per preview_ms it keeps a copy of
 *   the frame downscaled to LFR_MAX_PREVIEW_SIDE with every detected face
 *   boxed (faces of tracks that matched an entry in a second colour).
 *   lfr_preview_get encodes the kept frame as JPEG once and hands out
 *   copies; when the watching stops the kept frame and JPEG are wiped.
 *
 *   PRIVACY.  The only thing kept is the newest small frame (and its JPEG)
 *   while an operator is looking, in memory: never written, logged or
 *   queued, wiped when replaced, when watching stops and when the camera
 *   goes.  The boxes are drawn into it; no box list is kept.
 *
 * THREADS
 *   offer: the camera's analysis only (one worker of the pipeline's pool
 *   at a time, handed over under the pool's lock).  get: any thread.  Both
 *   take the preview's own lock only for the swap or the copy.
 *
 * OWNERSHIP
 *   lfr_preview_new / lfr_preview_free (NULL ok).  The JPEG from
 *   lfr_preview_get is the caller's (lfr_free).
 */
#ifndef LFR_PIPELINE_PREVIEW_INT_H
#define LFR_PIPELINE_PREVIEW_INT_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/pipeline.h"

typedef struct lfr_preview lfr_preview;

/* preview_ms <= 0: LFR_PIPELINE_PREVIEW_MS.  NULL when out of memory (the
 * camera then has no live view; nothing else changes). */
lfr_preview *lfr_preview_new(int preview_ms);
void lfr_preview_free(lfr_preview *v);

/* 1 when lfr_preview_offer has work: somebody watched within
 * LFR_PREVIEW_WATCH_S of now_ns, or a kept frame is to be wiped (cheap:
 * the caller skips building the matched flags otherwise). */
int lfr_preview_wanted(lfr_preview *v, uint64_t now_ns);
/* One analysed frame and its n faces; matched[i] = 1 for a face whose
 * track matched a watchlist entry.  Keeps it when wanted and the kept one
 * is at least preview_ms old; wipes the kept one when nobody watches. */
void lfr_preview_offer(lfr_preview *v, uint64_t now_ns, const lfr_image *frame,
                       const lfr_face *faces, int n, const unsigned char *matched);
/* A copy of the newest kept frame as JPEG; records that somebody watches
 * (until now_ns + LFR_PREVIEW_WATCH_S).  LFR_ERR_NOT_FOUND when no frame
 * is kept yet (the next analysed frame will be). */
lfr_status lfr_preview_get(lfr_preview *v, uint64_t now_ns, uint8_t **jpeg, size_t *len,
                           lfr_err *err);

/* pipeline.c: camera cam's preview, NULL when out of range (or none). */
lfr_preview *lfr_pipeline_cam_preview(lfr_pipeline *p, int cam);

#endif
