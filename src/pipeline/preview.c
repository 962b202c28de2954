/*
 * preview.c - the operator's live view of a camera (lfr_pipeline_preview,
 * pipeline.h; the rules are in preview_int.h): the newest analysed frame,
 * small, faces boxed, kept in memory only while somebody watches.
 */
#define _POSIX_C_SOURCE 200809L
#include "pipeline/preview_int.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

struct lfr_preview {
    uint64_t every_ns;               /* preview_ms */
    atomic_uint_least64_t watch_until_ns;  /* somebody asked: keep frames until then */
    atomic_int has_frame;            /* img holds a frame (a hint for offer's wipe) */
    pthread_mutex_t mu;              /* everything below */
    lfr_image img;                   /* the kept frame, downscaled and boxed */
    uint64_t kept_ns;                /* when it was kept (0: none) */
    uint64_t gen;                    /* +1 per kept frame */
    uint8_t *jpeg;                   /* img encoded, for generation jpeg_gen */
    size_t jpeg_len;
    uint64_t jpeg_gen;
};

/* Box colours: a detected face, and a face whose track matched an entry. */
static const uint8_t COLOUR_FACE[3] = {0, 220, 0};
static const uint8_t COLOUR_MATCH[3] = {255, 30, 30};

lfr_preview *lfr_preview_new(int preview_ms) {
    lfr_preview *v = lfr_calloc(1, sizeof *v);
    if (!v) return NULL;
    if (preview_ms <= 0) preview_ms = LFR_PIPELINE_PREVIEW_MS;
    v->every_ns = (uint64_t)preview_ms * 1000000u;
    atomic_init(&v->watch_until_ns, 0);
    atomic_init(&v->has_frame, 0);
    pthread_mutex_init(&v->mu, NULL);
    return v;
}

static void image_wipe(lfr_image *im) {
    if (im->px) sodium_memzero(im->px, (size_t)im->w * (size_t)im->h * 3);
    lfr_image_free(im);
}

/* Caller holds mu. */
static void wipe_locked(lfr_preview *v) {
    image_wipe(&v->img);
    if (v->jpeg) sodium_memzero(v->jpeg, v->jpeg_len);
    lfr_free(v->jpeg);
    v->jpeg = NULL;
    v->jpeg_len = 0;
    v->kept_ns = 0;
    atomic_store(&v->has_frame, 0);
}

void lfr_preview_free(lfr_preview *v) {
    if (!v) return;
    pthread_mutex_lock(&v->mu);
    wipe_locked(v);
    pthread_mutex_unlock(&v->mu);
    pthread_mutex_destroy(&v->mu);
    lfr_free(v);
}

static int watching(lfr_preview *v, uint64_t now_ns) {
    return now_ns < atomic_load(&v->watch_until_ns);
}

int lfr_preview_wanted(lfr_preview *v, uint64_t now_ns) {
    return v && (watching(v, now_ns) || atomic_load(&v->has_frame));
}

/* The frame scaled so its long side is at most LFR_MAX_PREVIEW_SIDE. */
static lfr_status shrink(const lfr_image *f, lfr_image *out, float *scale) {
    int side = f->w > f->h ? f->w : f->h;
    if (side <= LFR_MAX_PREVIEW_SIDE) {
        *scale = 1.0f;
        return lfr_image_clone(f, out);
    }
    float s = (float)LFR_MAX_PREVIEW_SIDE / (float)side;
    int w = (int)lroundf((float)f->w * s), h = (int)lroundf((float)f->h * s);
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    *scale = (float)w / (float)f->w;
    return lfr_image_resize(f, w, h, out);
}

void lfr_preview_offer(lfr_preview *v, uint64_t now_ns, const lfr_image *frame,
                       const lfr_face *faces, int n, const unsigned char *matched) {
    if (!v) return;
    if (!watching(v, now_ns)) {
        if (atomic_load(&v->has_frame)) { /* nobody watches any more */
            pthread_mutex_lock(&v->mu);
            wipe_locked(v);
            pthread_mutex_unlock(&v->mu);
        }
        return;
    }
    if (!frame || !frame->px || frame->w < 1 || frame->h < 1) return;
    pthread_mutex_lock(&v->mu);
    int due = !v->kept_ns || now_ns - v->kept_ns >= v->every_ns;
    pthread_mutex_unlock(&v->mu);   /* only the camera's analysis sets kept_ns */
    if (!due) return;
    lfr_image small = {0};
    float s = 1.0f;
    if (shrink(frame, &small, &s) != LFR_OK) return;
    int thick = small.w >= 480 ? 3 : 2;
    /* matched faces last, so their colour wins where boxes overlap */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            int hit = matched && matched[i];
            if (hit != pass) continue;
            const float *b = faces[i].box;
            const uint8_t *c = hit ? COLOUR_MATCH : COLOUR_FACE;
            lfr_image_draw_rect(&small, (int)lroundf(b[0] * s), (int)lroundf(b[1] * s),
                                (int)lroundf(b[2] * s), (int)lroundf(b[3] * s), c[0], c[1], c[2],
                                thick);
        }
    pthread_mutex_lock(&v->mu);
    lfr_image old = v->img;
    v->img = small;
    v->kept_ns = now_ns ? now_ns : 1;
    v->gen++;
    atomic_store(&v->has_frame, 1);
    pthread_mutex_unlock(&v->mu);
    image_wipe(&old);
}

lfr_status lfr_preview_get(lfr_preview *v, uint64_t now_ns, uint8_t **jpeg, size_t *len,
                           lfr_err *err) {
    *jpeg = NULL;
    *len = 0;
    if (!v) return lfr_err_set(err, LFR_ERR_NOT_FOUND, "this camera has no live view");
    atomic_store(&v->watch_until_ns, now_ns + (uint64_t)LFR_PREVIEW_WATCH_S * 1000000000u);
    pthread_mutex_lock(&v->mu);
    lfr_status st = LFR_OK;
    if (!v->img.px) {
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND,
                         "no frame analysed yet for the live view: the next one will be shown");
    } else if (!v->jpeg || v->jpeg_gen != v->gen) {
        uint8_t *b = NULL;
        size_t n = 0;
        st = lfr_image_encode_jpeg(&v->img, LFR_PREVIEW_JPEG_QUALITY, &b, &n);
        if (st != LFR_OK) {
            lfr_err_set(err, st, "the live view could not be encoded");
        } else {
            if (v->jpeg) sodium_memzero(v->jpeg, v->jpeg_len);
            lfr_free(v->jpeg);
            v->jpeg = b;
            v->jpeg_len = n;
            v->jpeg_gen = v->gen;
        }
    }
    if (st == LFR_OK) {
        *jpeg = lfr_malloc(v->jpeg_len);
        if (!*jpeg) st = lfr_err_set(err, LFR_ERR_NOMEM, "no memory for the live view");
        else {
            memcpy(*jpeg, v->jpeg, v->jpeg_len);
            *len = v->jpeg_len;
        }
    }
    pthread_mutex_unlock(&v->mu);
    return st;
}

lfr_status lfr_pipeline_preview(lfr_pipeline *p, int cam, uint8_t **jpeg, size_t *len,
                                lfr_err *err) {
    *jpeg = NULL;
    *len = 0;
    lfr_preview *v = p ? lfr_pipeline_cam_preview(p, cam) : NULL;
    if (!v)
        return lfr_err_set(err, LFR_ERR_NOT_FOUND, "camera %d: no such camera in this pipeline",
                           cam);
    return lfr_preview_get(v, lfr_now_ns(), jpeg, len, err);
}
