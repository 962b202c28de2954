/*
 * video.h - camera sources of the live pipeline: RTSP, HTTP(S), files and
 * V4L2 webcams through FFmpeg (libavformat, libavcodec, libswscale).
 *
 * OVERVIEW
 *   One camera = one worker thread.  The worker opens the source, demuxes,
 *   decodes the best video stream (one decoder thread: frame threading would
 *   add a frame of latency per thread, and a van runs several cameras),
 *   converts the frames it publishes to packed RGB at the working size
 *   (sws_scale, bilinear; a resize is done in YUV first, then one SIMD
 *   YUV -> RGB pass; BT.601/709 and full/limited range from the stream,
 *   untagged streams BT.709 from 720 lines up, else BT.601) and publishes
 *   them into a single-slot mailbox: NEWEST FRAME WINS.
 *   A frame still in the slot when the next one is published is replaced and
 *   counted as dropped; the consumer always gets the most recent frame, never
 *   a queue, so latency cannot grow when analysis is slower than the camera.
 *   opts.queue > 1 turns the slot into a ring of that many frames, for a
 *   consumer whose analysis time varies (the live pipeline): one slow frame
 *   no longer costs the next one; the consumer takes the oldest waiting
 *   frame, a full ring drops its oldest, and latency grows by at most
 *   queue - 1 frame intervals.
 *
 *     lfr_camera *cam;
 *     lfr_video_opts o = {.url = "rtsp://10.0.0.5/s1", .rtsp_tcp = 1, .fps = 10};
 *     if (lfr_camera_start(&o, &cam, &err) != LFR_OK) ...;
 *     for (;;) {
 *         lfr_frame f;
 *         lfr_status s = lfr_camera_next(cam, &f, 1000);
 *         if (s == LFR_ERR_TIMEOUT) continue;   // stalled/reconnecting: state in stats
 *         if (s != LFR_OK) break;               // ENDED, FAILED or STOPPED
 *         analyse(&f.img);
 *         lfr_image_free(&f.img);
 *     }
 *     lfr_camera_stop(cam);
 *
 *   Sources (o.url):
 *     rtsp://, rtsps://  RTSP; rtsp_tcp = 1 interleaves RTP in the TCP
 *                        connection, 0 uses UDP.
 *     http://, https://  any stream FFmpeg can demux: MPEG-TS, MJPEG
 *                        (multipart/x-mixed-replace, "mpjpeg"), FLV, ...
 *     /dev/videoN        V4L2 webcam (FFmpeg's video4linux2 input; see
 *                        CAVEATS in video.c: libavdevice is loaded at run time).
 *     anything else      a local file (or a file: URL); raw .h264/.h265
 *                        elementary streams are probed like any file.
 *   Files are decoded as fast as possible unless `realtime` is set, which
 *   paces them at their native rate as a live camera would; `loop` starts
 *   them again at the end (stream time keeps increasing across passes).
 *   Live sources never end: end of stream from a network source means the
 *   camera dropped, and the worker reconnects.
 *
 *   Stream time (lfr_frame.pts_us) is 0 at the camera's first frame and
 *   only increases, across loops and reconnects too (a new session continues
 *   one frame interval after the last frame; the wall-clock gap shows in
 *   capture_ns).  Streams without timestamps (raw .h264) get one frame
 *   interval per frame.
 *
 *   Analysis rate: fps > 0 publishes at most fps frames per second of STREAM
 *   time (frames in between are decoded, needed for the next ones, but not
 *   converted: they are counted in `skipped`, not `dropped`).
 *
 *   States (lfr_cam_stats.state):
 *     CONNECTING  opening the source, or waiting to retry after a failed open
 *                 (last_error says why the last attempt failed).
 *     LIVE        frames are arriving.
 *     STALLED     the stream was live and then stopped: no data for
 *                 read_timeout_ms, end of a network stream, or a read error.
 *                 The worker waits its backoff, then goes CONNECTING.
 *     FAILED      permanent; the worker has exited.  Errors that retrying
 *                 cannot fix: a local file that is missing, unreadable,
 *                 not a video or has no decodable frames; an unknown protocol;
 *                 HTTP 400/401/403/404 or RTSP 401/403/404; no decoder for the
 *                 codec; a frame over the image limits; or max_reconnects
 *                 attempts in a row that brought no frame.
 *     ENDED       a file (not looping) was decoded to its end; the last
 *                 frame can still be taken.
 *     STOPPED     lfr_camera_stop was called.
 *   Every other failure (connection refused, timeouts, garbage data from a
 *   network source, a /dev/videoN that is absent - a USB webcam may be
 *   plugged in later) is retried, after a backoff of LFR_VIDEO_BACKOFF_MIN_MS
 *   doubling to LFR_VIDEO_BACKOFF_MAX_MS (reset once frames flow again),
 *   forever or until max_reconnects attempts in a row have failed.  A wrong
 *   network URL is therefore CONNECTING with a clear last_error (FAILED with
 *   max_reconnects).  A file that is truncated or damaged part-way plays what
 *   it can and ENDS (loops), with the read error in last_error.
 *
 *   Timeouts: every blocking FFmpeg call runs under an AVIOInterruptCB with
 *   a deadline - read_timeout_ms per packet read, read_timeout_ms +
 *   LFR_VIDEO_ANALYZE_US to open a source - and the same callback makes
 *   lfr_camera_stop interrupt any of them at once.
 *
 *   Thread safety: lfr_camera_next and lfr_camera_stats_get may be called
 *   from any thread, concurrently with the worker; one consumer per camera
 *   (two would steal frames from each other, harmlessly).  lfr_camera_stop
 *   must not race with other calls on the same camera.  Different cameras are
 *   independent.  FFmpeg's log output is routed to lfr_log (debug level);
 *   its last error line is kept in last_error.
 *
 * OWNERSHIP
 *   lfr_camera_start copies the options (url included): the caller's opts
 *   may be freed at once.  The camera handle is the caller's until
 *   lfr_camera_stop, which joins the worker and frees everything, including
 *   a frame still in the mailbox.  A frame returned by lfr_camera_next is
 *   MOVED to the caller: f->img is the caller's, released with
 *   lfr_image_free (whatever *f held before is overwritten, not freed).
 *   No per-frame allocation while frames are being dropped: the worker
 *   reuses the buffer of a frame it replaced; nor while they are taken,
 *   when the consumer gives each buffer back with lfr_camera_recycle.
 */
#ifndef LFR_VIDEO_H
#define LFR_VIDEO_H

#include <stdint.h>

#include "core/core.h"
#include "image/image.h"

typedef enum lfr_cam_state {
    LFR_CAM_CONNECTING,
    LFR_CAM_LIVE,
    LFR_CAM_STALLED,
    LFR_CAM_FAILED,
    LFR_CAM_ENDED,
    LFR_CAM_STOPPED
} lfr_cam_state;

/* "connecting", "live", "stalled", "failed", "ended", "stopped". */
const char *lfr_cam_state_name(lfr_cam_state s);

/* url without its credentials, for names and logs: scheme://user:pass@host/p
 * -> scheme://host/p (the credentials end at the last '@' before the path,
 * as FFmpeg reads them); other URLs unchanged.  Truncated to cap - 1. */
void lfr_video_url_redact(const char *url, char *out, size_t cap);

typedef struct lfr_video_opts {
    const char *url;          /* rtsp://, http(s)://, file path, /dev/videoN */
    int loop;                 /* files: start again at the end */
    int realtime;             /* files: pace at the native frame rate */
    int width, height;        /* working size; 0 = source (aspect kept if one is 0) */
    double fps;               /* analysed frames per second; 0 = every frame */
    int read_timeout_ms;      /* stall detection; 0 = LFR_VIDEO_READ_TIMEOUT_MS */
    int rtsp_tcp;             /* 1 = RTSP over TCP (default), 0 = UDP: see below */
    int max_reconnects;       /* 0 = forever; else FAILED after this many
                                 reconnects in a row without a frame */
    /* Appended after the contract; zero keeps the contract's behaviour. */
    int wait_consumer;        /* files only: never overwrite a frame; the worker
                                 waits until the consumer took it (offline scans
                                 of every frame).  Ignored for live sources. */
    /* Appended for consumers that serve several cameras (the pipeline's
     * analysis pool); NULL: nothing is called. */
    void (*notify)(void *ctx);   /* called by the worker right after each frame it
                                    publishes, outside the camera's lock; it must
                                    return at once and must not call
                                    lfr_camera_stop */
    void *notify_ctx;
    int queue;                /* frames that may wait for the consumer: 0 or 1 =
                                 one, newest wins (OVERVIEW); 2..LFR_VIDEO_MAX_QUEUE:
                                 a short queue that rides out one slow analysis
                                 (the consumer takes the oldest; when full, the
                                 oldest is dropped), adding at most queue - 1
                                 frame intervals of latency, never more */
} lfr_video_opts;
/* rtsp_tcp: "default" is the default of the CLI and of callers, who should
 * set it to 1: TCP is what works through the NAT and firewalls of a van's
 * network and loses no packets.  The field itself means exactly what it
 * says, so a zero-initialised struct asks for UDP. */

typedef struct lfr_frame {
    lfr_image img;            /* RGB at the working size; owned by the frame */
    uint64_t seq;             /* 1, 2, ... per camera (gaps = dropped frames) */
    int64_t pts_us;           /* stream time, 0 at the first frame (OVERVIEW) */
    uint64_t capture_ns;      /* lfr_now_ns() when the frame was decoded: latency is measured from here */
} lfr_frame;

typedef struct lfr_cam_stats {
    lfr_cam_state state;
    uint64_t decoded;         /* frames out of the decoder */
    uint64_t published;       /* frames put in the mailbox */
    uint64_t dropped;         /* published frames replaced before being taken */
    uint64_t reconnects;      /* re-open attempts after a failure or a drop */
    int src_w, src_h;         /* source frame size (0 until known) */
    double src_fps;           /* source frame rate as FFmpeg guesses it (0 unknown) */
    char codec[32];           /* decoder name, e.g. "h264" */
    char last_error[256];     /* most recent problem, "" if none yet */
    /* Appended after the contract. */
    uint64_t skipped;         /* decoded frames not published because of fps */
    uint64_t taken;           /* frames handed to the consumer */
    int out_w, out_h;         /* working size of the last published frame */
    uint64_t buffers;         /* frame buffers allocated (lfr_camera_recycle keeps
                                 this at a few; lfr_image_free: one per frame) */
} lfr_cam_stats;

typedef struct lfr_camera lfr_camera;

/* Validates the options, copies them and starts the worker; returns at once
 * (the source is opened by the worker: a wrong URL shows in the stats).
 * LFR_ERR_INVALID_ARG for a NULL/empty url, negative sizes, fps out of
 * [0, LFR_VIDEO_MAX_FPS], read_timeout_ms out of range, negative
 * max_reconnects; LFR_ERR_TOO_LARGE for a url over LFR_VIDEO_MAX_URL or a
 * working size over the image limits; LFR_ERR_NOMEM; LFR_ERR_INTERNAL if
 * the thread cannot be created.  *out is NULL on failure. */
lfr_status lfr_camera_start(const lfr_video_opts *o, lfr_camera **out,
                            lfr_err *err);

/* Waits up to timeout_ms (< 0: without limit; 0: just looks) for a frame
 * newer than the last one taken and moves it into *f (the caller owns f->img
 * afterwards: lfr_image_free).
 *   LFR_OK           a frame
 *   LFR_ERR_TIMEOUT  none arrived in time (the camera may be connecting,
 *                    stalled or reconnecting: see lfr_camera_stats_get)
 *   LFR_ERR_STATE    the camera is ENDED, FAILED or STOPPED and no frame is
 *                    pending: nothing more will come (state and last_error
 *                    in the stats say which)
 *   LFR_ERR_INVALID_ARG  c or f is NULL
 * On any status but LFR_OK *f is left as {0}. */
lfr_status lfr_camera_next(lfr_camera *c, lfr_frame *f, int timeout_ms);
/* Gives a taken frame's buffer back to the camera for a later frame
 * (instead of lfr_image_free): a camera then allocates nothing per frame,
 * which on a busy van machine spares a 6 MB allocation and its page faults
 * per 1080p frame.  The camera keeps at most LFR_VIDEO_MAX_QUEUE + 1 such
 * buffers of its current working size and frees the others; the content
 * is overwritten by the next frame converted into it (it stays in process
 * memory until then, as a freed buffer would).  *img is emptied.  c NULL:
 * lfr_image_free.  Safe from any thread, as lfr_camera_next. */
void lfr_camera_recycle(lfr_camera *c, lfr_image *img);

/* Frames waiting in the mailbox now (0..opts.queue), and the capture_ns
 * of the oldest of them in *oldest_ns (may be NULL; untouched when 0). */
int lfr_camera_waiting(lfr_camera *c, uint64_t *oldest_ns);

/* A consistent snapshot of the camera's counters and state. */
void lfr_camera_stats_get(lfr_camera *c, lfr_cam_stats *s);

/* Stops and joins the worker (promptly: blocking reads are interrupted),
 * frees everything; NULL ok. */
void lfr_camera_stop(lfr_camera *c);

#endif
