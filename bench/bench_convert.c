/*
 * bench_convert.c - the detector-size frame of a 1080p camera: what the
 * pipeline does today against letting swscale produce it from the YUV
 * frame (issue 13: "let swscale produce the detector-size frame during the
 * YUV-to-RGB conversion it already does").
 *
 *   bench_convert [--runs N] [--width W --height H]
 *
 * The frame is 4:2:0 YUV of random bytes (the kernels' cost does not
 * depend on the picture).  Paths, each timed best of N runs (default 50)
 * on one thread, CLOCK_THREAD_CPUTIME_ID:
 *   today      sws_scale YUV420P -> RGB24 at the full size (what
 *              src/video does for every published frame: the crops of
 *              detected faces need it), then lfr_image_resize_into to half
 *              size (the exact 2x2 path src/face takes for a 1080p frame)
 *   full only  the first step alone (it is needed whatever the detector's
 *              input comes from)
 *   half only  the second step alone
 *   sws half   sws_scale YUV420P -> RGB24 at half size directly, with
 *              SWS_BILINEAR, SWS_AREA and SWS_FAST_BILINEAR
 * and prints, for each sws path, the extra time it would cost the pipeline
 * per detected frame against the half step it replaces (the full-size
 * frame is still needed for the crops).  A ratio above 1 means swscale's
 * scaler is slower than our halving.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>

#include "core/core.h"
#include "image/image.h"

static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct frame {
    int w, h;
    uint8_t *plane[3];
    int stride[3];
} frame;

static void die(const char *what) {
    fprintf(stderr, "bench_convert: %s\n", what);
    exit(1);
}

/* Best of runs of sws_scale of f into an RGB24 image of dw x dh. */
static double time_sws(const frame *f, int dw, int dh, int flags, int runs) {
    struct SwsContext *c = sws_getContext(f->w, f->h, AV_PIX_FMT_YUV420P, dw, dh,
                                          AV_PIX_FMT_RGB24, flags, NULL, NULL, NULL);
    lfr_image out = {0};
    if (!c || lfr_image_alloc(&out, dw, dh) != LFR_OK) die("no memory for the sws context");
    uint8_t *dst[4] = {out.px, NULL, NULL, NULL};
    int ds[4] = {dw * 3, 0, 0, 0};
    double best = 1e30;
    for (int r = 0; r < runs; r++) {
        double t = cpu_ms();
        sws_scale(c, (const uint8_t *const *)f->plane, f->stride, 0, f->h, dst, ds);
        t = cpu_ms() - t;
        if (t < best) best = t;
    }
    sws_freeContext(c);
    lfr_image_free(&out);
    return best;
}

static double time_half(int w, int h, int runs) {
    lfr_image src = {0}, dst = {0};
    if (lfr_image_alloc(&src, w, h) != LFR_OK || lfr_image_alloc(&dst, w / 2, h / 2) != LFR_OK)
        die("no memory for the images");
    for (size_t i = 0; i < (size_t)w * h * 3; i++) src.px[i] = (uint8_t)rand();
    double best = 1e30;
    for (int r = 0; r < runs; r++) {
        double t = cpu_ms();
        if (lfr_image_resize_into(&src, &dst) != LFR_OK) die("lfr_image_resize_into failed");
        t = cpu_ms() - t;
        if (t < best) best = t;
    }
    lfr_image_free(&src);
    lfr_image_free(&dst);
    return best;
}

int main(int argc, char **argv) {
    int runs = 50, w = 1920, h = 1080;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--runs") && v) runs = atoi(v), i++;
        else if (!strcmp(argv[i], "--width") && v) w = atoi(v), i++;
        else if (!strcmp(argv[i], "--height") && v) h = atoi(v), i++;
        else {
            fprintf(stderr, "usage: bench_convert [--runs N] [--width W --height H]\n");
            return 2;
        }
    }
    if (runs < 1 || w < 16 || h < 16 || w % 4 || h % 4 || w > 8192 || h > 8192) {
        fprintf(stderr, "bench_convert: runs >= 1, sides 16..8192 and multiples of 4\n");
        return 2;
    }
    frame f = {w, h, {NULL, NULL, NULL}, {w, w / 2, w / 2}};
    size_t n[3] = {(size_t)w * h, (size_t)w / 2 * (h / 2), (size_t)w / 2 * (h / 2)};
    for (int p = 0; p < 3; p++) {
        f.plane[p] = malloc(n[p]);
        if (!f.plane[p]) die("no memory for the frame");
        for (size_t i = 0; i < n[p]; i++) f.plane[p][i] = (uint8_t)rand();
    }
    double full = time_sws(&f, w, h, SWS_BILINEAR, runs);
    double half = time_half(w, h, runs);
    static const struct {
        const char *name;
        int flags;
    } sws[] = {{"SWS_BILINEAR", SWS_BILINEAR},
               {"SWS_AREA", SWS_AREA},
               {"SWS_FAST_BILINEAR", SWS_FAST_BILINEAR}};
    printf("| path (%dx%d 4:2:0 -> RGB at %dx%d) | ms, best of %d | against our halving |\n", w, h,
           w / 2, h / 2, runs);
    printf("|---|---:|---:|\n");
    printf("| today: full-size RGB (sws) + exact halving | %.3f | |\n", full + half);
    printf("| full-size RGB alone (needed for the crops) | %.3f | |\n", full);
    printf("| exact halving alone (lfr_image_resize_into) | %.3f | 1.00 |\n", half);
    for (size_t k = 0; k < sizeof sws / sizeof sws[0]; k++) {
        double t = time_sws(&f, w / 2, h / 2, sws[k].flags, runs);
        printf("| sws straight to half size, %s | %.3f | %.2f |\n", sws[k].name, t, t / half);
    }
    for (int p = 0; p < 3; p++) free(f.plane[p]);
    return 0;
}
