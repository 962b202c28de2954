/*
 * video.c - camera workers: open, demux, decode, convert, publish.
 *
 * DESIGN
 *   lfr_camera_start copies the options and starts one worker thread.  The
 *   worker runs sessions: a session opens the source (avformat_open_input +
 *   avformat_find_stream_info + a decoder for the best video stream), reads
 *   packets until the source ends or fails, and closes everything again.
 *   Between sessions the worker decides, from what ended the session, whether
 *   to start another one at once (a looping file), after a backoff (a network
 *   source that dropped or could not be opened), or never (FAILED, ENDED,
 *   stop).  All FFmpeg state lives in the worker; other threads only touch
 *   the mailbox, the stats and the stop flag, under `mu`.
 *
 *   Blocking: every FFmpeg call that may block on I/O runs with an
 *   AVIOInterruptCB that returns 1 once the stop flag is set or the current
 *   deadline has passed.  The deadline is set before each call: the read
 *   timeout for av_read_frame, read timeout + analyse time for opening.  The
 *   worker's own waits (backoff, realtime pacing, a full mailbox with
 *   wait_consumer) are condition-variable waits that lfr_camera_stop wakes.
 *
 *   Mailbox: a ring of opts.queue frames (one by default).  Publishing into
 *   a full ring drops the OLDEST frame waiting (dropped++), and the dropped
 *   frame's buffer becomes the worker's next conversion buffer, so a camera
 *   whose consumer is slower than it allocates nothing per frame.  The
 *   consumer takes the oldest frame waiting.  A taken frame's buffer leaves
 *   with the consumer.
 *
 *   Stream time (lfr_frame.pts_us) starts at 0 with the camera's first frame
 *   and keeps increasing across loops and reconnects: each new session
 *   continues one frame interval after the last frame of the previous one
 *   (the wall-clock gap of a reconnect is in capture_ns, not in pts_us).
 *   A timestamp that goes backwards inside a session (MPEG-TS wrap, a camera
 *   restarting its clock) is treated the same way; a missing one (raw
 *   .h264 streams) is the previous one plus one frame interval.
 *
 * CAVEATS
 *   - V4L2 (/dev/videoN): FFmpeg's video4linux2 input from libavdevice,
 *     registered once on first use of a /dev/video source.  The device is
 *     opened non-blocking so that stop and the read timeout work.  Untested
 *     here (no camera on the build machine): it works by construction.
 *   - Name resolution (getaddrinfo) inside FFmpeg cannot be interrupted: a
 *     stop while a host name is being resolved waits for the resolver
 *     (seconds).  Cameras are addressed by IP in a van.
 *   - last_error never contains the URL; user:password@ in a URL is replaced
 *     by *** in FFmpeg messages copied there.
 */
#include "video/video.h"

#include <libavdevice/avdevice.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/cpu.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

/* Socket receive buffer for RTSP over UDP: a 1080p key frame is ~200-500 KB
 * arriving in one burst; the kernel default (~200 KB) loses part of it. */
#define VIDEO_UDP_BUFFER_BYTES (4 * 1024 * 1024)

/* Spare bytes after every frame buffer: SIMD converters may store a whole
 * vector at the end of a row. */
#define VIDEO_BUF_SLACK 64

/* Frame interval assumed when the stream does not say (25 fps). */
#define VIDEO_DEFAULT_FRAME_US 40000

/* Realtime pacing restarts from the current frame when the pace is off by
 * more than this (a timestamp jump, or decoding far behind). */
#define VIDEO_PACE_RESYNC_US 2000000

/* Poll interval for sources that answer EAGAIN (V4L2 non-blocking). */
#define VIDEO_EAGAIN_SLEEP_MS 5

typedef enum src_kind { SRC_FILE, SRC_NET, SRC_V4L2 } src_kind;

/* How a session (or an attempt to open one) ended. */
typedef enum sess_end {
    END_EOF,     /* a file reached its end (or a read error in a file) */
    END_RETRY,   /* network failure / drop: reconnect after backoff */
    END_FATAL,   /* permanent: FAILED */
    END_STOP     /* lfr_camera_stop */
} sess_end;

struct lfr_camera {
    lfr_video_opts o;      /* o.url == url */
    char *url;
    char *userinfo;        /* "user:pass" part of url, redacted in messages */
    src_kind kind;
    int read_timeout_ms;

    pthread_t thread;
    atomic_int stop;

    pthread_mutex_t mu;
    pthread_cond_t cv_frame;   /* consumer waits: frame published / terminal */
    pthread_cond_t cv_worker;  /* worker waits: stop / frame taken */
    /* under mu */
    lfr_cam_stats st;
    lfr_frame q[LFR_VIDEO_MAX_QUEUE];  /* waiting frames, q[q_head] the oldest */
    int q_head, q_n, q_cap;            /* q_cap: opts.queue (>= 1) */
    lfr_image pool[LFR_VIDEO_MAX_QUEUE + 1]; /* recycled buffers (lfr_camera_recycle) */
    int n_pool;

    /* worker only */
    _Atomic uint64_t deadline_ns;   /* read by the interrupt callback */
    atomic_int timed_out;           /* set by the interrupt callback */
    char av_msg[256];               /* last FFmpeg error line (worker thread) */
    lfr_image spare;                /* next conversion buffer */
    uint64_t seq;
    struct SwsContext *sws;         /* to RGB (from the source or from mid) */
    struct SwsContext *sws_mid;     /* source -> mid (two-stage only) */
    int sws_key[7];                 /* src w,h,fmt,cs,range; dst w,h */
    uint8_t *mid[4];                /* YUV 4:2:0 at the working size */
    int mid_ls[4], mid_w, mid_h;
    /* stream time */
    int have_pts;
    int64_t last_pts_us;            /* last frame's pts_us */
    int64_t sess_base_us;           /* pts_us of the session's first frame */
    int64_t sess_first_us;          /* its raw timestamp, in us */
    int sess_has_first;
    int64_t frame_us;               /* current frame interval estimate */
    /* analysis-rate sampling */
    int have_next_pub;
    int64_t next_pub_us;
    /* realtime pacing */
    int pace_valid;
    uint64_t pace_wall0_ns;
    int64_t pace_pts0_us;
};

/* Everything FFmpeg that one session opens. */
typedef struct session {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frm;
    int vidx;
    AVRational tb;
    int frames;          /* decoded in this session */
} session;

/* ------------------------------------------------------------------------ */

const char *lfr_cam_state_name(lfr_cam_state s) {
    switch (s) {
    case LFR_CAM_CONNECTING: return "connecting";
    case LFR_CAM_LIVE: return "live";
    case LFR_CAM_STALLED: return "stalled";
    case LFR_CAM_FAILED: return "failed";
    case LFR_CAM_ENDED: return "ended";
    case LFR_CAM_STOPPED: return "stopped";
    }
    return "unknown";
}

static int is_terminal(lfr_cam_state s) {
    return s == LFR_CAM_FAILED || s == LFR_CAM_ENDED || s == LFR_CAM_STOPPED;
}

static void abs_time(uint64_t ns, struct timespec *ts) {
    ts->tv_sec = (time_t)(ns / 1000000000ull);
    ts->tv_nsec = (long)(ns % 1000000000ull);
}

/* FFmpeg logging -------------------------------------------------------- */

static _Thread_local lfr_camera *tl_cam; /* the camera this worker thread runs */

static void redact(const lfr_camera *c, char *s, size_t cap) {
    if (!c || !c->userinfo || !*c->userinfo) return;
    size_t ul = strlen(c->userinfo);
    char *p;
    while ((p = strstr(s, c->userinfo)) != NULL) {
        size_t tail = strlen(p + ul);
        if ((size_t)(p - s) + 3 + tail + 1 > cap) { *p = '\0'; return; }
        memmove(p + 3, p + ul, tail + 1);
        memcpy(p, "***", 3);
    }
}

static void av_log_cb(void *avcl, int level, const char *fmt, va_list vl) {
    if (level > AV_LOG_WARNING) return;
    char line[512];
    int prefix = 1;
    va_list cp;
    va_copy(cp, vl);
    av_log_format_line2(avcl, level, fmt, cp, line, (int)sizeof line, &prefix);
    va_end(cp);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    if (!n) return;
    /* "[tcp @ 0x55d0c0] Connection ..." -> "tcp: Connection ..." */
    char *at = line[0] == '[' ? strstr(line, " @ 0x") : NULL;
    char *close = at ? strstr(at, "] ") : NULL;
    if (at && close && !memchr(line, ']', (size_t)(at - line))) {
        memmove(at, ":", 1);
        memmove(at + 1, close + 1, strlen(close + 1) + 1);
        memmove(line, line + 1, strlen(line + 1) + 1);
    }
    lfr_camera *c = tl_cam;
    redact(c, line, sizeof line);
    if (c && level <= AV_LOG_ERROR) {   /* truncated to fit */
        size_t k = strnlen(line, sizeof c->av_msg - 1);
        memcpy(c->av_msg, line, k);
        c->av_msg[k] = '\0';
    }
    lfr_log(LFR_LOG_DEBUG, "ffmpeg: %s", line);
}

static pthread_once_t ff_once = PTHREAD_ONCE_INIT;
static void ff_init(void) {
    av_log_set_callback(av_log_cb);
    avformat_network_init();
    /* Detects the CPU's features now, once: FFmpeg does it lazily on first
     * use, and workers starting together would all write the cached value. */
    av_get_cpu_flags();
}

static pthread_once_t avdev_once = PTHREAD_ONCE_INIT;
static void avdev_load(void) { avdevice_register_all(); }

/* State and errors -------------------------------------------------------- */

static void set_state(lfr_camera *c, lfr_cam_state s) {
    pthread_mutex_lock(&c->mu);
    c->st.state = s;
    pthread_cond_broadcast(&c->cv_frame);
    pthread_mutex_unlock(&c->mu);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void set_error(lfr_camera *c, const char *fmt, ...) {
    char msg[sizeof c->st.last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    redact(c, msg, sizeof msg);
    pthread_mutex_lock(&c->mu);
    memcpy(c->st.last_error, msg, sizeof msg);
    pthread_mutex_unlock(&c->mu);
    lfr_log(LFR_LOG_DEBUG, "camera: %s", msg);
}

/* "what: Connection refused (tcp: Connection to tcp://... failed)" */
static void set_av_error(lfr_camera *c, const char *what, int averr) {
    char e[128];
    if (atomic_load(&c->timed_out)) {
        set_error(c, "%s: no data for %d ms", what, c->read_timeout_ms);
        return;
    }
    av_strerror(averr, e, sizeof e);
    if (c->av_msg[0]) set_error(c, "%s: %s (%s)", what, e, c->av_msg);
    else set_error(c, "%s: %s", what, e);
}

/* Waits (interruptibly) until lfr_now_ns() >= until.  1 if stopped. */
static int worker_sleep_until(lfr_camera *c, uint64_t until) {
    struct timespec ts;
    abs_time(until, &ts);
    pthread_mutex_lock(&c->mu);
    while (!atomic_load(&c->stop) && lfr_now_ns() < until)
        pthread_cond_timedwait(&c->cv_worker, &c->mu, &ts);
    pthread_mutex_unlock(&c->mu);
    return atomic_load(&c->stop);
}

static int interrupt_cb(void *arg) {
    lfr_camera *c = arg;
    if (atomic_load(&c->stop)) return 1;
    if (lfr_now_ns() > atomic_load(&c->deadline_ns)) {
        atomic_store(&c->timed_out, 1);
        return 1;
    }
    return 0;
}

/* timed_out is not cleared here but when a session opens: after a timeout
 * FFmpeg may still return buffered packets, then the stored AVERROR_EXIT
 * from a later call; that error is still the timeout. */
static void arm_deadline(lfr_camera *c, uint64_t ms) {
    c->av_msg[0] = '\0';
    atomic_store(&c->deadline_ns, lfr_now_ns() + ms * 1000000ull);
}

/* Session open/close ---------------------------------------------------- */

static void sess_close(session *s) {
    av_packet_free(&s->pkt);
    av_frame_free(&s->frm);
    avcodec_free_context(&s->dec);
    avformat_close_input(&s->fmt);
}

/* Errors that retrying cannot fix, whatever the source. */
static int permanent_averr(int e) {
    return e == AVERROR_PROTOCOL_NOT_FOUND || e == AVERROR_HTTP_BAD_REQUEST ||
           e == AVERROR_HTTP_UNAUTHORIZED || e == AVERROR_HTTP_FORBIDDEN ||
           e == AVERROR_HTTP_NOT_FOUND || e == AVERROR_DECODER_NOT_FOUND ||
           e == AVERROR_DEMUXER_NOT_FOUND || e == AVERROR_OPTION_NOT_FOUND;
}

static sess_end open_fail(lfr_camera *c, const char *what, int e) {
    if (atomic_load(&c->stop)) return END_STOP;
    if (e == AVERROR_HTTP_UNAUTHORIZED && c->kind == SRC_NET && !atomic_load(&c->timed_out)) {
        /* FFmpeg's own words ("Server returned 401 Unauthorized
         * (authorization failed)") do not say what to do about it. */
        const char *m = c->userinfo
            ? "authentication failed: the camera refused the user name or password in its URL"
            : "authentication required: the camera wants a user name and password "
              "(scheme://user:password@host/...)";
        if (c->av_msg[0]) set_error(c, "%s (401 Unauthorized; %s)", m, c->av_msg);
        else set_error(c, "%s (401 Unauthorized)", m);
        return END_FATAL;
    }
    set_av_error(c, what, e);
    if (c->kind == SRC_FILE || permanent_averr(e)) return END_FATAL;
    return END_RETRY;
}

static sess_end sess_open(lfr_camera *c, session *s) {
    memset(s, 0, sizeof *s);
    s->vidx = -1;
    const AVInputFormat *ifmt = NULL;
    AVDictionary *d = NULL;
    int e;

    if (c->kind == SRC_V4L2) {
        pthread_once(&avdev_once, avdev_load);
        ifmt = av_find_input_format("video4linux2");
        if (!ifmt) {
            set_error(c, "V4L2 input not available in this FFmpeg build");
            return END_FATAL;
        }
    }
    s->fmt = avformat_alloc_context();
    if (!s->fmt) { set_error(c, "out of memory"); return END_FATAL; }
    s->fmt->interrupt_callback.callback = interrupt_cb;
    s->fmt->interrupt_callback.opaque = c;
    s->fmt->probesize = LFR_VIDEO_PROBE_BYTES;
    s->fmt->max_analyze_duration = LFR_VIDEO_ANALYZE_US;
    if (c->kind == SRC_V4L2) s->fmt->flags |= AVFMT_FLAG_NONBLOCK;
    if (!strncmp(c->url, "rtsp://", 7) || !strncmp(c->url, "rtsps://", 8)) {
        av_dict_set(&d, "rtsp_transport", c->o.rtsp_tcp ? "tcp" : "udp", 0);
        /* No frame-rate probing: RTP carries a timestamp on every frame, and
         * avformat_find_stream_info would otherwise read 20 frames before
         * the first one is decoded - 2 s of a 10 fps camera at every
         * connect and reconnect, then delivered late in one burst (measured
         * in tests/test_rtsp.sh: 2.4 s to the first frame, 0.9 s without). */
        s->fmt->fps_probe_size = 0;
        if (!c->o.rtsp_tcp) av_dict_set_int(&d, "buffer_size", VIDEO_UDP_BUFFER_BYTES, 0);
    }

    /* A local path with a ':' (e.g. "cam:1.mp4") would be taken as a
     * protocol name; "file:" makes it a path. */
    char *path = c->url;
    char *tmp = NULL;
    if (c->kind == SRC_FILE && strncmp(c->url, "file:", 5) && strchr(c->url, ':')) {
        size_t n = strlen(c->url) + 6;
        tmp = av_malloc(n);
        if (!tmp) { av_dict_free(&d); sess_close(s); set_error(c, "out of memory"); return END_FATAL; }
        snprintf(tmp, n, "file:%s", c->url);
        path = tmp;
    }
    atomic_store(&c->timed_out, 0);
    arm_deadline(c, (uint64_t)c->read_timeout_ms + LFR_VIDEO_ANALYZE_US / 1000);
    e = avformat_open_input(&s->fmt, path, ifmt, &d);   /* frees fmt on failure */
    av_free(tmp);
    av_dict_free(&d);
    if (e < 0) return open_fail(c, "cannot open source", e);

    e = avformat_find_stream_info(s->fmt, NULL);
    if (e < 0) { sess_end r = open_fail(c, "cannot read stream information", e); sess_close(s); return r; }

    const AVCodec *codec = NULL;
    e = av_find_best_stream(s->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (e < 0) {
        sess_end r;
        if (e == AVERROR_DECODER_NOT_FOUND) {
            /* the stream is there, we cannot decode it */
            int vi = av_find_best_stream(s->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
            const char *cn = vi >= 0 ? avcodec_get_name(s->fmt->streams[vi]->codecpar->codec_id) : "?";
            set_error(c, "no decoder for the video codec %s", cn);
            r = END_FATAL;
        } else {
            r = open_fail(c, "no video stream in the source", e);
        }
        sess_close(s);
        return r;
    }
    s->vidx = e;
    AVStream *st = s->fmt->streams[s->vidx];
    for (unsigned i = 0; i < s->fmt->nb_streams; i++)
        if ((int)i != s->vidx) s->fmt->streams[i]->discard = AVDISCARD_ALL;
    s->tb = st->time_base;

    s->dec = avcodec_alloc_context3(codec);
    s->pkt = av_packet_alloc();
    s->frm = av_frame_alloc();
    if (!s->dec || !s->pkt || !s->frm) { sess_close(s); set_error(c, "out of memory"); return END_FATAL; }
    e = avcodec_parameters_to_context(s->dec, st->codecpar);
    if (e < 0) { sess_end r = open_fail(c, "bad codec parameters", e); sess_close(s); return r; }
    s->dec->thread_count = 1;               /* see video.h OVERVIEW */
    s->dec->max_pixels = LFR_MAX_IMAGE_PIXELS;
    s->dec->pkt_timebase = st->time_base;
    e = avcodec_open2(s->dec, codec, NULL);
    if (e < 0) { sess_end r = open_fail(c, "cannot open the decoder", e); sess_close(s); return r; }

    AVRational fr = av_guess_frame_rate(s->fmt, st, NULL);
    double fps = (fr.num > 0 && fr.den > 0) ? av_q2d(fr) : 0.0;
    if (fps > 0.5 && fps < 1000) c->frame_us = (int64_t)llround(1e6 / fps);
    else { c->frame_us = VIDEO_DEFAULT_FRAME_US; fps = 0; }

    pthread_mutex_lock(&c->mu);
    snprintf(c->st.codec, sizeof c->st.codec, "%s", codec->name);
    c->st.src_w = st->codecpar->width;
    c->st.src_h = st->codecpar->height;
    c->st.src_fps = fps;
    pthread_mutex_unlock(&c->mu);
    c->sess_has_first = 0;
    c->pace_valid = 0;
    return END_EOF; /* = opened */
}

/* Frames -------------------------------------------------------------------- */

static void out_size(const lfr_camera *c, int sw, int sh, int *ow, int *oh) {
    int w = c->o.width, h = c->o.height;
    if (!w && !h) { w = sw; h = sh; }
    else if (!h) h = (int)llround((double)sh * w / sw);
    else if (!w) w = (int)llround((double)sw * h / sh);
    *ow = w < 1 ? 1 : w;
    *oh = h < 1 ? 1 : h;
}

static enum AVPixelFormat unjpeg(enum AVPixelFormat f, int *full) {
    switch (f) {
    case AV_PIX_FMT_YUVJ420P: *full = 1; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: *full = 1; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: *full = 1; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: *full = 1; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: *full = 1; return AV_PIX_FMT_YUV411P;
    default: return f;
    }
}

/* Converts frm into c->spare (ow x oh RGB).  0 ok, -1 fatal (error set).
 *
 * A YUV source that must be resized goes through two swscale passes: resize
 * in YUV 4:2:0, then YUV -> RGB at the working size.  swscale's direct
 * resize-to-RGB24 path is scalar and ~3x slower (1080p -> 640x360: 3.3 ms
 * against 1.2 ms on one core); the unscaled YUV -> RGB pass is SIMD.  The
 * first pass keeps the values as they are (same range, same matrix), the
 * second applies the stream's matrix and range. */
static int convert(lfr_camera *c, const AVFrame *frm, int ow, int oh) {
    int full = frm->color_range == AVCOL_RANGE_JPEG;
    enum AVPixelFormat sf = unjpeg((enum AVPixelFormat)frm->format, &full);
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(sf);
    int cs = frm->colorspace;
    if (cs == AVCOL_SPC_UNSPECIFIED || cs == AVCOL_SPC_RGB)
        cs = frm->height >= 720 ? SWS_CS_ITU709 : SWS_CS_DEFAULT;
    int two = (frm->width != ow || frm->height != oh) && desc && desc->nb_components >= 3 &&
              !(desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL));
    int key[7] = {frm->width, frm->height, (int)sf, cs, full, ow, oh};
    if (!c->sws || memcmp(key, c->sws_key, sizeof key)) {
        int ok = 1;
        if (two && (c->mid_w != ow || c->mid_h != oh)) {
            av_freep(&c->mid[0]);
            c->mid_w = c->mid_h = 0;
            if (av_image_alloc(c->mid, c->mid_ls, ow, oh, AV_PIX_FMT_YUV420P, 32) < 0) ok = 0;
            else { c->mid_w = ow; c->mid_h = oh; }
        }
        if (ok && two) {
            c->sws_mid = sws_getCachedContext(c->sws_mid, frm->width, frm->height, sf, ow, oh,
                                              AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
            c->sws = sws_getCachedContext(c->sws, ow, oh, AV_PIX_FMT_YUV420P, ow, oh,
                                          AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
            ok = c->sws_mid && c->sws;
        } else if (ok) {
            c->sws = sws_getCachedContext(c->sws, frm->width, frm->height, sf, ow, oh,
                                          AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
            ok = c->sws != NULL;
        }
        if (!ok) {
            memset(c->sws_key, 0, sizeof c->sws_key);
            set_error(c, "cannot convert %s %dx%d to RGB %dx%d",
                      desc ? desc->name : "?", frm->width, frm->height, ow, oh);
            return -1;
        }
        sws_setColorspaceDetails(c->sws, sws_getCoefficients(cs), full,
                                 sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
        memcpy(c->sws_key, key, sizeof key);
    }
    if (!c->spare.px) { /* a buffer the consumer gave back, if any */
        pthread_mutex_lock(&c->mu);
        if (c->n_pool) {
            c->spare = c->pool[--c->n_pool];
            memset(&c->pool[c->n_pool], 0, sizeof c->pool[0]);
        }
        pthread_mutex_unlock(&c->mu);
    }
    if (!c->spare.px || c->spare.w != ow || c->spare.h != oh) {
        lfr_image_free(&c->spare);
        c->spare.px = lfr_malloc((size_t)ow * (size_t)oh * 3 + VIDEO_BUF_SLACK);
        if (!c->spare.px) { set_error(c, "out of memory for a %dx%d frame", ow, oh); return -1; }
        c->spare.w = ow;
        c->spare.h = oh;
        pthread_mutex_lock(&c->mu);
        c->st.buffers++;
        pthread_mutex_unlock(&c->mu);
    }
    uint8_t *dst[4] = {c->spare.px, NULL, NULL, NULL};
    int dstride[4] = {ow * 3, 0, 0, 0};
    if (two) {
        sws_scale(c->sws_mid, (const uint8_t *const *)frm->data, frm->linesize, 0, frm->height,
                  c->mid, c->mid_ls);
        sws_scale(c->sws, (const uint8_t *const *)c->mid, c->mid_ls, 0, oh, dst, dstride);
    } else {
        sws_scale(c->sws, (const uint8_t *const *)frm->data, frm->linesize, 0, frm->height, dst, dstride);
    }
    return 0;
}

/* Stream time of frm in us on the camera's continuous timeline. */
static int64_t frame_time(lfr_camera *c, session *s, const AVFrame *frm) {
    int64_t ts = frm->best_effort_timestamp;
    int have = ts != AV_NOPTS_VALUE && s->tb.num > 0 && s->tb.den > 0;
    int64_t us = have ? av_rescale_q(ts, s->tb, AV_TIME_BASE_Q) : 0;
    int64_t out;
    if (!c->have_pts) {                      /* the camera's first frame: 0 */
        c->sess_base_us = 0;
        c->sess_first_us = us;
        c->sess_has_first = have;
        out = 0;
    } else if (!have || !c->sess_has_first) {
        out = c->last_pts_us + c->frame_us;
        if (have) { c->sess_base_us = out; c->sess_first_us = us; c->sess_has_first = 1; }
    } else {
        out = c->sess_base_us + (us - c->sess_first_us);
        if (out <= c->last_pts_us) {         /* backwards: continue after the last */
            out = c->last_pts_us + c->frame_us;
            c->sess_base_us = out;
            c->sess_first_us = us;
        }
    }
    c->have_pts = 1;
    c->last_pts_us = out;
    return out;
}

/* Handles one decoded frame.  END_EOF = carry on (name reused), END_FATAL,
 * END_STOP. */
static sess_end on_frame(lfr_camera *c, session *s, const AVFrame *frm) {
    s->frames++;
    if (frm->width < 1 || frm->height < 1 || frm->width > LFR_MAX_IMAGE_SIDE ||
        frm->height > LFR_MAX_IMAGE_SIDE ||
        (uint64_t)frm->width * (uint64_t)frm->height > LFR_MAX_IMAGE_PIXELS) {
        set_error(c, "frame of %dx%d is over the image limits", frm->width, frm->height);
        return END_FATAL;
    }
    int ow, oh;
    out_size(c, frm->width, frm->height, &ow, &oh);
    if (ow > LFR_MAX_IMAGE_SIDE || oh > LFR_MAX_IMAGE_SIDE ||
        (uint64_t)ow * (uint64_t)oh > LFR_MAX_IMAGE_PIXELS) {
        set_error(c, "working size %dx%d is over the image limits", ow, oh);
        return END_FATAL;
    }
    int64_t pts = frame_time(c, s, frm);

    pthread_mutex_lock(&c->mu);
    c->st.decoded++;
    c->st.src_w = frm->width;
    c->st.src_h = frm->height;
    if (c->st.state != LFR_CAM_LIVE) {
        c->st.state = LFR_CAM_LIVE;
        pthread_cond_broadcast(&c->cv_frame);
    }
    pthread_mutex_unlock(&c->mu);

    /* analysis rate */
    if (c->o.fps > 0) {
        int64_t iv = (int64_t)llround(1e6 / c->o.fps);
        int64_t tol = c->frame_us / 2;
        if (c->have_next_pub && pts + tol < c->next_pub_us) {
            pthread_mutex_lock(&c->mu);
            c->st.skipped++;
            pthread_mutex_unlock(&c->mu);
            return END_EOF;
        }
        if (c->have_next_pub && pts - c->next_pub_us < iv) c->next_pub_us += iv;
        else c->next_pub_us = pts + iv;
        c->have_next_pub = 1;
    }

    /* realtime pacing of files */
    if (c->o.realtime && c->kind == SRC_FILE) {
        uint64_t now = lfr_now_ns();
        int64_t ahead_us = c->pace_valid
            ? (pts - c->pace_pts0_us) - (int64_t)((now - c->pace_wall0_ns) / 1000)
            : 0;
        if (!c->pace_valid || ahead_us > VIDEO_PACE_RESYNC_US || ahead_us < -VIDEO_PACE_RESYNC_US) {
            c->pace_valid = 1;
            c->pace_wall0_ns = now;
            c->pace_pts0_us = pts;
        } else if (ahead_us > 0) {
            if (worker_sleep_until(c, now + (uint64_t)ahead_us * 1000)) return END_STOP;
        }
    }

    if (convert(c, frm, ow, oh)) return END_FATAL;
    uint64_t cap = lfr_now_ns();

    pthread_mutex_lock(&c->mu);
    if (c->o.wait_consumer && c->kind == SRC_FILE)
        while (c->q_n == c->q_cap && !atomic_load(&c->stop))
            pthread_cond_wait(&c->cv_worker, &c->mu);
    if (atomic_load(&c->stop)) { pthread_mutex_unlock(&c->mu); return END_STOP; }
    lfr_image old = {0};
    if (c->q_n == c->q_cap) { /* full: the oldest waiting frame is dropped */
        c->st.dropped++;
        old = c->q[c->q_head].img;
        memset(&c->q[c->q_head], 0, sizeof c->q[0]);
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_n--;
    }
    lfr_frame *slot = &c->q[(c->q_head + c->q_n) % c->q_cap];
    slot->img = c->spare;
    slot->seq = ++c->seq;
    slot->pts_us = pts;
    slot->capture_ns = cap;
    c->q_n++;
    c->st.published++;
    c->st.out_w = ow;
    c->st.out_h = oh;
    pthread_cond_broadcast(&c->cv_frame);
    pthread_mutex_unlock(&c->mu);
    if (c->o.notify) c->o.notify(c->o.notify_ctx);
    c->spare = old;   /* the replaced frame's buffer, or {0} */
    return END_EOF;
}

static sess_end drain(lfr_camera *c, session *s) {
    for (;;) {
        int e = avcodec_receive_frame(s->dec, s->frm);
        if (e < 0) return END_EOF;   /* EAGAIN or EOF: nothing more now */
        sess_end r = on_frame(c, s, s->frm);
        av_frame_unref(s->frm);
        if (r != END_EOF) return r;
    }
}

/* Reads and decodes until the session ends. */
static sess_end sess_run(lfr_camera *c, session *s) {
    int bad = 0;            /* packets since the last frame */
    uint64_t last_data = lfr_now_ns();
    for (;;) {
        if (atomic_load(&c->stop)) return END_STOP;
        arm_deadline(c, (uint64_t)c->read_timeout_ms);
        int e = av_read_frame(s->fmt, s->pkt);
        if (e == AVERROR(EAGAIN)) {
            if (lfr_now_ns() - last_data > (uint64_t)c->read_timeout_ms * 1000000ull) {
                set_error(c, "stream stalled: no data for %d ms", c->read_timeout_ms);
                return END_RETRY;
            }
            if (worker_sleep_until(c, lfr_now_ns() + VIDEO_EAGAIN_SLEEP_MS * 1000000ull))
                return END_STOP;
            continue;
        }
        if (e < 0) {
            if (atomic_load(&c->stop)) return END_STOP;
            int eof = e == AVERROR_EOF;
            if (!eof) set_av_error(c, c->kind == SRC_FILE ? "read error" : "stream lost", e);
            else if (c->kind != SRC_FILE) set_error(c, "stream lost: the source closed it");
            /* decode what the decoder still holds */
            avcodec_send_packet(s->dec, NULL);
            sess_end r = drain(c, s);
            if (r != END_EOF) return r;
            return c->kind == SRC_FILE ? END_EOF : END_RETRY;
        }
        last_data = lfr_now_ns();
        if (s->pkt->stream_index != s->vidx) { av_packet_unref(s->pkt); continue; }
        e = avcodec_send_packet(s->dec, s->pkt);
        av_packet_unref(s->pkt);
        if (e < 0 && e != AVERROR(EAGAIN)) set_av_error(c, "decoder", e);
        int before = s->frames;
        sess_end r = drain(c, s);
        if (r != END_EOF) return r;
        if (s->frames != before) bad = 0;
        else if (++bad > LFR_VIDEO_MAX_BAD_PACKETS) {
            set_error(c, "%d packets in a row without a decodable frame%s%s",
                      LFR_VIDEO_MAX_BAD_PACKETS, c->av_msg[0] ? ": " : "", c->av_msg);
            return c->kind == SRC_FILE ? END_FATAL : END_RETRY;
        }
    }
}

/* The worker ------------------------------------------------------------ */

static void *worker(void *arg) {
    lfr_camera *c = arg;
    tl_cam = c;
    uint64_t backoff = LFR_VIDEO_BACKOFF_MIN_MS;
    int retry = 0;            /* next session is a reconnect */
    int tries = 0;            /* reconnects since frames last flowed */
    lfr_cam_state final = LFR_CAM_STOPPED;
    for (;;) {
        if (atomic_load(&c->stop)) break;
        if (retry) {
            if (c->o.max_reconnects > 0 && tries >= c->o.max_reconnects) {
                char last[sizeof c->st.last_error];
                pthread_mutex_lock(&c->mu);
                memcpy(last, c->st.last_error, sizeof last);
                pthread_mutex_unlock(&c->mu);
                set_error(c, "gave up after %d reconnects; last: %s", c->o.max_reconnects, last);
                final = LFR_CAM_FAILED;
                break;
            }
            if (worker_sleep_until(c, lfr_now_ns() + backoff * 1000000ull)) break;
            backoff = backoff * 2 > LFR_VIDEO_BACKOFF_MAX_MS ? LFR_VIDEO_BACKOFF_MAX_MS : backoff * 2;
            tries++;
            pthread_mutex_lock(&c->mu);
            c->st.reconnects++;
            pthread_mutex_unlock(&c->mu);
        }
        set_state(c, LFR_CAM_CONNECTING);
        session s;
        sess_end r = sess_open(c, &s);
        if (r == END_EOF) {
            r = sess_run(c, &s);
            int frames = s.frames;
            sess_close(&s);
            if (frames > 0) { backoff = LFR_VIDEO_BACKOFF_MIN_MS; tries = 0; }
            if (r == END_EOF) {            /* end of a file */
                if (frames == 0) {
                    pthread_mutex_lock(&c->mu);
                    int none = c->st.last_error[0] == '\0';
                    pthread_mutex_unlock(&c->mu);
                    if (none) set_error(c, "no decodable video frame in the file");
                    final = LFR_CAM_FAILED;
                    break;
                }
                if (c->o.loop) { retry = 0; continue; }
                final = LFR_CAM_ENDED;
                break;
            }
            if (r == END_RETRY && frames > 0) set_state(c, LFR_CAM_STALLED);
        }
        if (r == END_STOP) break;
        if (r == END_FATAL) { final = LFR_CAM_FAILED; break; }
        retry = 1;                          /* END_RETRY */
    }
    if (atomic_load(&c->stop)) final = LFR_CAM_STOPPED;
    sws_freeContext(c->sws);
    sws_freeContext(c->sws_mid);
    c->sws = c->sws_mid = NULL;
    av_freep(&c->mid[0]);
    lfr_image_free(&c->spare);
    set_state(c, final);
    tl_cam = NULL;
    return NULL;
}

/* Public API ---------------------------------------------------------------- */

static src_kind kind_of(const char *url) {
    if (!strncmp(url, "/dev/video", 10) || !strncmp(url, "v4l2:", 5)) return SRC_V4L2;
    if (!strncmp(url, "file:", 5)) return SRC_FILE;
    const char *p = url;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           *p == '+' || *p == '-' || *p == '.')
        p++;
    if (p != url && p[0] == ':' && p[1] == '/' && p[2] == '/') return SRC_NET;
    return SRC_FILE;
}

/* The '@' that ends the credentials of scheme://user:pass@host/..., or
 * NULL; *s: where they start.  The LAST '@' before the path, as FFmpeg
 * reads them (av_url_split): a password may hold a raw '@'. */
static const char *userinfo_end(const char *url, const char **s) {
    const char *h = strstr(url, "://");
    if (!h) return NULL;
    *s = h += 3;
    size_t hl = strcspn(h, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < hl; i++)
        if (h[i] == '@') at = h + i;
    return at;
}

void lfr_video_url_redact(const char *url, char *out, size_t cap) {
    const char *s = NULL, *at = userinfo_end(url, &s);
    if (at) snprintf(out, cap, "%.*s%s", (int)(s - url), url, at + 1);
    else snprintf(out, cap, "%s", url);
}

/* "user:pass" of scheme://user:pass@host/..., or NULL. */
static char *userinfo_of(const char *url) {
    const char *s = NULL, *at = userinfo_end(url, &s);
    if (!at || at == s) return NULL;
    size_t n = (size_t)(at - s);
    char *u = lfr_malloc(n + 1);
    if (!u) return NULL;
    memcpy(u, s, n);
    u[n] = '\0';
    return u;
}

lfr_status lfr_camera_start(const lfr_video_opts *o, lfr_camera **out, lfr_err *err) {
    if (out) *out = NULL;
    if (!o || !out) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "no options or no result pointer");
    if (!o->url || !o->url[0]) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "camera url is empty");
    size_t ul = strnlen(o->url, LFR_VIDEO_MAX_URL);
    if (ul >= LFR_VIDEO_MAX_URL)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "camera url longer than %d bytes", LFR_VIDEO_MAX_URL - 1);
    if (o->width < 0 || o->height < 0)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "negative working size %dx%d", o->width, o->height);
    if (o->width > LFR_MAX_IMAGE_SIDE || o->height > LFR_MAX_IMAGE_SIDE ||
        (uint64_t)o->width * (uint64_t)o->height > LFR_MAX_IMAGE_PIXELS)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "working size %dx%d over the image limits", o->width, o->height);
    if (!(o->fps >= 0 && o->fps <= LFR_VIDEO_MAX_FPS))
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "fps must be in [0, %g]", LFR_VIDEO_MAX_FPS);
    if (o->read_timeout_ms != 0 && (o->read_timeout_ms < LFR_VIDEO_MIN_READ_TIMEOUT_MS ||
                                    o->read_timeout_ms > LFR_VIDEO_MAX_READ_TIMEOUT_MS))
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "read_timeout_ms must be 0 or in [%d, %d]",
                           LFR_VIDEO_MIN_READ_TIMEOUT_MS, LFR_VIDEO_MAX_READ_TIMEOUT_MS);
    if (o->max_reconnects < 0)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "max_reconnects must be >= 0");
    if (o->queue < 0 || o->queue > LFR_VIDEO_MAX_QUEUE)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "queue is %d: it must be 0..%d (0 and 1: "
                           "one frame, newest wins)", o->queue, LFR_VIDEO_MAX_QUEUE);

    pthread_once(&ff_once, ff_init);
    lfr_camera *c = lfr_calloc(1, sizeof *c);
    if (!c) return lfr_err_set(err, LFR_ERR_NOMEM, "out of memory");
    c->url = lfr_strdup(o->url);
    if (!c->url) { lfr_free(c); return lfr_err_set(err, LFR_ERR_NOMEM, "out of memory"); }
    c->o = *o;
    c->o.url = c->url;
    c->q_cap = o->queue > 1 ? o->queue : 1;
    c->kind = kind_of(c->url);
    if (c->kind == SRC_V4L2 && !strncmp(c->url, "v4l2:", 5))
        memmove(c->url, c->url + 5, strlen(c->url + 5) + 1);
    c->userinfo = c->kind == SRC_NET ? userinfo_of(c->url) : NULL;
    c->read_timeout_ms = o->read_timeout_ms ? o->read_timeout_ms : LFR_VIDEO_READ_TIMEOUT_MS;
    c->frame_us = VIDEO_DEFAULT_FRAME_US;
    c->st.state = LFR_CAM_CONNECTING;
    atomic_init(&c->stop, 0);
    atomic_init(&c->timed_out, 0);
    atomic_init(&c->deadline_ns, UINT64_MAX);

    int ok = 0;
    pthread_condattr_t ca;
    if (pthread_mutex_init(&c->mu, NULL) == 0) {
        ok = 1;
        if (pthread_condattr_init(&ca) == 0) {
            pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
            if (pthread_cond_init(&c->cv_frame, &ca) == 0) {
                ok = 2;
                if (pthread_cond_init(&c->cv_worker, &ca) == 0) ok = 3;
            }
            pthread_condattr_destroy(&ca);
        }
    }
    if (ok == 3 && pthread_create(&c->thread, NULL, worker, c) == 0) {
        *out = c;
        return LFR_OK;
    }
    if (ok >= 3) pthread_cond_destroy(&c->cv_worker);
    if (ok >= 2) pthread_cond_destroy(&c->cv_frame);
    if (ok >= 1) pthread_mutex_destroy(&c->mu);
    lfr_free(c->userinfo);
    lfr_free(c->url);
    lfr_free(c);
    return lfr_err_set(err, LFR_ERR_INTERNAL, "cannot start the camera thread");
}

lfr_status lfr_camera_next(lfr_camera *c, lfr_frame *f, int timeout_ms) {
    if (f) memset(f, 0, sizeof *f);
    if (!c || !f) return LFR_ERR_INVALID_ARG;
    uint64_t until = timeout_ms > 0 ? lfr_now_ns() + (uint64_t)timeout_ms * 1000000ull : 0;
    struct timespec ts;
    abs_time(until, &ts);
    lfr_status r;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        if (c->q_n) {
            *f = c->q[c->q_head];
            memset(&c->q[c->q_head], 0, sizeof c->q[0]);
            c->q_head = (c->q_head + 1) % c->q_cap;
            c->q_n--;
            c->st.taken++;
            pthread_cond_broadcast(&c->cv_worker);
            r = LFR_OK;
            break;
        }
        if (is_terminal(c->st.state)) { r = LFR_ERR_STATE; break; }
        if (timeout_ms < 0) {
            pthread_cond_wait(&c->cv_frame, &c->mu);
        } else {
            if (timeout_ms == 0 || lfr_now_ns() >= until) { r = LFR_ERR_TIMEOUT; break; }
            pthread_cond_timedwait(&c->cv_frame, &c->mu, &ts);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return r;
}

void lfr_camera_recycle(lfr_camera *c, lfr_image *img) {
    if (!img) return;
    if (!c || !img->px) {
        lfr_image_free(img);
        return;
    }
    pthread_mutex_lock(&c->mu);
    int keep = c->n_pool < LFR_VIDEO_MAX_QUEUE + 1 && img->w == c->st.out_w &&
               img->h == c->st.out_h;
    if (keep) c->pool[c->n_pool++] = *img;
    pthread_mutex_unlock(&c->mu);
    if (keep) memset(img, 0, sizeof *img);
    else lfr_image_free(img);
}

int lfr_camera_waiting(lfr_camera *c, uint64_t *oldest_ns) {
    if (!c) return 0;
    pthread_mutex_lock(&c->mu);
    int n = c->q_n;
    if (n && oldest_ns) *oldest_ns = c->q[c->q_head].capture_ns;
    pthread_mutex_unlock(&c->mu);
    return n;
}

void lfr_camera_stats_get(lfr_camera *c, lfr_cam_stats *s) {
    if (!s) return;
    if (!c) { memset(s, 0, sizeof *s); s->state = LFR_CAM_STOPPED; return; }
    pthread_mutex_lock(&c->mu);
    *s = c->st;
    pthread_mutex_unlock(&c->mu);
}

void lfr_camera_stop(lfr_camera *c) {
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    atomic_store(&c->stop, 1);
    pthread_cond_broadcast(&c->cv_worker);
    pthread_cond_broadcast(&c->cv_frame);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    for (int i = 0; i < LFR_VIDEO_MAX_QUEUE; i++) lfr_image_free(&c->q[i].img);
    for (int i = 0; i < c->n_pool; i++) lfr_image_free(&c->pool[i]);
    pthread_cond_destroy(&c->cv_worker);
    pthread_cond_destroy(&c->cv_frame);
    pthread_mutex_destroy(&c->mu);
    lfr_free(c->userinfo);
    lfr_free(c->url);
    lfr_free(c);
}
