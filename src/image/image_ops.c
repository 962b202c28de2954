/*
 * image_ops.c - allocation, orientation, crop, resize and affine sampling.
 * See image.h for the conventions (OpenCV INTER_LINEAR, inverse maps).
 */
#include "image/image.h"

#include <math.h>
#include <string.h>

/* Memory ---------------------------------------------------------------- */

lfr_status lfr_image_alloc(lfr_image *im, int w, int h) {
    if (!im) return LFR_ERR_INVALID_ARG;
    memset(im, 0, sizeof *im);
    if (w <= 0 || h <= 0) return LFR_ERR_INVALID_ARG;
    if (w > LFR_MAX_IMAGE_SIDE || h > LFR_MAX_IMAGE_SIDE ||
        (unsigned long long)w * (unsigned long long)h > LFR_MAX_IMAGE_PIXELS)
        return LFR_ERR_TOO_LARGE;
    size_t n;
    if (lfr_mul_size((size_t)w * 3, (size_t)h, &n)) return LFR_ERR_TOO_LARGE;
    im->px = lfr_calloc(n, 1);
    if (!im->px) return LFR_ERR_NOMEM;
    im->w = w;
    im->h = h;
    return LFR_OK;
}

void lfr_image_free(lfr_image *im) {
    if (!im) return;
    lfr_free(im->px);
    memset(im, 0, sizeof *im);
}

static int valid(const lfr_image *im) {
    return im && im->px && im->w > 0 && im->h > 0;
}

lfr_status lfr_image_clone(const lfr_image *src, lfr_image *dst) {
    if (!dst) return LFR_ERR_INVALID_ARG;
    memset(dst, 0, sizeof *dst);
    if (!valid(src)) return LFR_ERR_INVALID_ARG;
    lfr_status s = lfr_image_alloc(dst, src->w, src->h);
    if (s != LFR_OK) return s;
    memcpy(dst->px, src->px, (size_t)src->w * 3 * (size_t)src->h);
    return LFR_OK;
}

/* Orientation ------------------------------------------------------------- */

lfr_status lfr_image_orient(const lfr_image *src, int o, lfr_image *dst) {
    if (!dst) return LFR_ERR_INVALID_ARG;
    memset(dst, 0, sizeof *dst);
    if (!valid(src) || o < 1 || o > 8) return LFR_ERR_INVALID_ARG;
    /* Source pixel of dst (0,0), and the source step per dst x and per dst
     * y, as (dx, dy) pairs.  dst(x,y) = src(ox + x*xx + y*yx,
     * oy + x*xy + y*yy). */
    static const signed char tab[9][6] = {
        /* ox, oy: 0 = 0, 1 = last;  xx, xy;  yx, yy */
        {0, 0, 0, 0, 0, 0},
        {0, 0, 1, 0, 0, 1},   /* 1 */
        {1, 0, -1, 0, 0, 1},  /* 2 mirror */
        {1, 1, -1, 0, 0, -1}, /* 3 rotate 180 */
        {0, 1, 1, 0, 0, -1},  /* 4 flip */
        {0, 0, 0, 1, 1, 0},   /* 5 transpose */
        {0, 1, 0, -1, 1, 0},  /* 6 rotate 90 cw */
        {1, 1, 0, -1, -1, 0}, /* 7 transverse */
        {1, 0, 0, 1, -1, 0},  /* 8 rotate 90 ccw */
    };
    const signed char *t = tab[o];
    int sw = src->w, sh = src->h;
    int dw = o >= 5 ? sh : sw, dh = o >= 5 ? sw : sh;
    lfr_status s = lfr_image_alloc(dst, dw, dh);
    if (s != LFR_OK) return s;
    ptrdiff_t ox = t[0] ? sw - 1 : 0, oy = t[1] ? sh - 1 : 0;
    ptrdiff_t stepx = ((ptrdiff_t)t[2] + (ptrdiff_t)t[3] * sw) * 3;
    ptrdiff_t stepy = ((ptrdiff_t)t[4] + (ptrdiff_t)t[5] * sw) * 3;
    const uint8_t *origin = src->px + (oy * sw + ox) * 3;
    uint8_t *d = dst->px;
    for (int y = 0; y < dh; y++) {
        const uint8_t *p = origin + stepy * y;
        for (int x = 0; x < dw; x++, p += stepx, d += 3) {
            d[0] = p[0];
            d[1] = p[1];
            d[2] = p[2];
        }
    }
    return LFR_OK;
}

lfr_status lfr_image_flip_h(const lfr_image *src, lfr_image *dst) {
    return lfr_image_orient(src, 2, dst);
}

/* Crop ------------------------------------------------------------------- */

lfr_status lfr_image_crop(const lfr_image *src, int x, int y, int w, int h,
                          lfr_image *dst) {
    if (!dst) return LFR_ERR_INVALID_ARG;
    memset(dst, 0, sizeof *dst);
    if (!valid(src)) return LFR_ERR_INVALID_ARG;
    lfr_status s = lfr_image_alloc(dst, w, h);
    if (s != LFR_OK) return s;
    long long sw = src->w, sh = src->h, X = x;
    /* dst columns [in0, in1) read source columns inside the image */
    long long in0 = -X, in1 = sw - X;
    if (in0 < 0) in0 = 0;
    if (in0 > w) in0 = w;
    if (in1 > w) in1 = w;
    if (in1 < in0) in1 = in0;
    size_t stride = (size_t)src->w * 3;
    for (int r = 0; r < h; r++) {
        long long sy = (long long)y + r;
        sy = sy < 0 ? 0 : sy >= sh ? sh - 1 : sy;
        const uint8_t *row = src->px + (size_t)sy * stride;
        uint8_t *d = dst->px + (size_t)r * w * 3;
        const uint8_t *left = row, *right = row + (sw - 1) * 3;
        /* Columns left of the image copy its first pixel, right of it its
         * last; a region entirely outside uses whichever side it is on. */
        long long c = 0;
        for (; c < in0; c++) memcpy(d + c * 3, X + c < 0 ? left : right, 3);
        if (in1 > in0) {
            memcpy(d + in0 * 3, row + (X + in0) * 3, (size_t)(in1 - in0) * 3);
            c = in1;
        }
        for (; c < w; c++) memcpy(d + c * 3, right, 3);
    }
    return LFR_OK;
}

/* Resize ------------------------------------------------------------------ */

/* OpenCV's fixed point: weights scaled by 2^11, rows by 2^11 again. */
#define RESIZE_BITS 11
#define RESIZE_ONE (1 << RESIZE_BITS)

/* Tap of one output coordinate: first source index, its weight pair. */
static void linear_tap(int d, double scale, int n, int *i0, int *i1, short *a0,
                       short *a1) {
    float f = (float)((d + 0.5) * scale - 0.5);
    int i = (int)floorf(f);
    f -= (float)i;
    if (i < 0) {
        i = 0;
        f = 0;
    }
    if (i >= n - 1) {
        i = n - 1;
        f = 0;
    }
    *i0 = i;
    *i1 = i + 1 < n ? i + 1 : i;
    *a0 = (short)lrintf((1.0f - f) * RESIZE_ONE);
    *a1 = (short)lrintf(f * RESIZE_ONE);
}

/* v = s0 * b0 + s1 * b1 over one row.  restrict parameters and fixed-size
 * blocks let GCC vectorise this at -O2. */
static void vblend(const uint8_t *restrict s0, const uint8_t *restrict s1,
                   int b0, int b1, int *restrict v, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) v[i + k] = s0[i + k] * b0 + s1[i + k] * b1;
    for (; i < n; i++) v[i] = s0[i] * b0 + s1[i] * b1;
}

lfr_status lfr_image_resize(const lfr_image *src, int w, int h,
                            lfr_image *dst) {
    if (!dst) return LFR_ERR_INVALID_ARG;
    memset(dst, 0, sizeof *dst);
    if (!valid(src)) return LFR_ERR_INVALID_ARG;
    lfr_image out;
    lfr_status s = lfr_image_alloc(&out, w, h);
    if (s != LFR_OK) return s;
    s = lfr_image_resize_into(src, &out);
    if (s != LFR_OK) {
        lfr_image_free(&out);
        return s;
    }
    *dst = out;
    return LFR_OK;
}

/* Exact halving (1920x1080 -> 960x540, the detector's size for a 1080p
 * camera).  At scale 2 every output pixel's source point is
 * (2x + 0.5, 2y + 0.5): both taps weigh RESIZE_ONE / 2 each way, so the
 * general path computes ((a + b + c + d) * 2^20 + 2^21) >> 22, which is
 * (a + b + c + d + 2) >> 2: this box average, bit for bit (test_image:
 * test_resize_half_exact), in a quarter of the time. */
static void resize_half(const lfr_image *src, lfr_image *dst) {
    size_t sn = (size_t)src->w * 3, dn = (size_t)dst->w * 3;
    for (int y = 0; y < dst->h; y++) {
        const uint8_t *restrict r0 = src->px + (size_t)(2 * y) * sn;
        const uint8_t *restrict r1 = r0 + sn;
        uint8_t *restrict d = dst->px + (size_t)y * dn;
        for (size_t x = 0; x < dn; x += 3, r0 += 6, r1 += 6, d += 3)
            for (int c = 0; c < 3; c++)
                d[c] = (uint8_t)((r0[c] + r0[c + 3] + r1[c] + r1[c + 3] + 2) >> 2);
    }
}

lfr_status lfr_image_resize_into(const lfr_image *src, lfr_image *dst) {
    if (!valid(src) || !dst || !valid(dst)) return LFR_ERR_INVALID_ARG;
    lfr_image out = *dst;
    int w = out.w, h = out.h;
    if (src->w == 2 * w && src->h == 2 * h) {
        resize_half(src, dst);
        return LFR_OK;
    }

    /* Scratch: x offsets (2 per column), x weights (2 per column), and one
     * vertically blended source row.  All sums are exact integers, so
     * blending rows first gives the same result as OpenCV's horizontal-first
     * order, with the inner loop over contiguous memory. */
    size_t srow_n = (size_t)src->w * 3, bytes = 0, t;
    int ok = !lfr_mul_size((size_t)w, 2 * sizeof(int), &bytes) &&
             !lfr_mul_size(srow_n, sizeof(int), &t) &&
             !lfr_add_size(bytes, t, &bytes) &&
             !lfr_mul_size((size_t)w, 2 * sizeof(short), &t) &&
             !lfr_add_size(bytes, t, &bytes);
    void *scratch = ok ? lfr_malloc(bytes) : NULL;
    if (!scratch) return ok ? LFR_ERR_NOMEM : LFR_ERR_TOO_LARGE;
    int *xo = scratch;
    int *vrow = xo + 2 * (size_t)w;
    short *xa = (short *)(vrow + srow_n);

    /* OpenCV: scale = 1 / (dst / src), in double */
    double sx = 1.0 / ((double)w / src->w), sy = 1.0 / ((double)h / src->h);
    for (int x = 0; x < w; x++) {
        int i0, i1;
        linear_tap(x, sx, src->w, &i0, &i1, &xa[2 * x], &xa[2 * x + 1]);
        xo[2 * x] = i0 * 3;
        xo[2 * x + 1] = i1 * 3;
    }
    const int rnd = 1 << (2 * RESIZE_BITS - 1);
    for (int y = 0; y < h; y++) {
        int r0, r1;
        short b0s, b1s;
        linear_tap(y, sy, src->h, &r0, &r1, &b0s, &b1s);
        vblend(src->px + (size_t)r0 * srow_n, src->px + (size_t)r1 * srow_n,
               b0s, b1s, vrow, srow_n);
        const int *v = vrow;
        uint8_t *restrict d = out.px + (size_t)y * w * 3;
        for (int x = 0; x < w; x++, d += 3) {
            const int *p0 = v + xo[2 * x], *p1 = v + xo[2 * x + 1];
            int a0 = xa[2 * x], a1 = xa[2 * x + 1];
            /* weights sum to 2^11 each way: the result is within 0..255 */
            d[0] = (uint8_t)((p0[0] * a0 + p1[0] * a1 + rnd) >> (2 * RESIZE_BITS));
            d[1] = (uint8_t)((p0[1] * a0 + p1[1] * a1 + rnd) >> (2 * RESIZE_BITS));
            d[2] = (uint8_t)((p0[2] * a0 + p1[2] * a1 + rnd) >> (2 * RESIZE_BITS));
        }
    }
    lfr_free(scratch);
    return LFR_OK;
}

/* Affine and rectangle sampling ------------------------------------------- */

/* Bilinear sample at (fx, fy), border replicate; out[3] in 0..255. */
static inline void sample(const lfr_image *s, float fx, float fy, float out[3]) {
    /* Keep the coordinate where floor() and int conversion are defined; the
     * comparisons are written so that NaN lands on the low edge. */
    if (!(fx >= -1.0f)) fx = -1.0f;
    if (!(fx <= (float)s->w)) fx = (float)s->w;
    if (!(fy >= -1.0f)) fy = -1.0f;
    if (!(fy <= (float)s->h)) fy = (float)s->h;
    float flx = floorf(fx), fly = floorf(fy);
    int x0 = (int)flx, y0 = (int)fly;
    float ax = fx - flx, ay = fy - fly;
    int x1 = x0 + 1, y1 = y0 + 1;
    int mx = s->w - 1, my = s->h - 1;
    x0 = x0 < 0 ? 0 : x0 > mx ? mx : x0;
    x1 = x1 < 0 ? 0 : x1 > mx ? mx : x1;
    y0 = y0 < 0 ? 0 : y0 > my ? my : y0;
    y1 = y1 < 0 ? 0 : y1 > my ? my : y1;
    size_t st = (size_t)s->w * 3;
    const uint8_t *p00 = s->px + (size_t)y0 * st + (size_t)x0 * 3;
    const uint8_t *p01 = s->px + (size_t)y0 * st + (size_t)x1 * 3;
    const uint8_t *p10 = s->px + (size_t)y1 * st + (size_t)x0 * 3;
    const uint8_t *p11 = s->px + (size_t)y1 * st + (size_t)x1 * 3;
    for (int c = 0; c < 3; c++) {
        float top = p00[c] + (p01[c] - p00[c]) * ax;
        float bot = p10[c] + (p11[c] - p10[c]) * ax;
        out[c] = top + (bot - top) * ay;
    }
}

void lfr_image_warp_affine(const lfr_image *src, const float m[6],
                           lfr_image *dst) {
    if (!valid(src) || !valid(dst) || !m) return;
    uint8_t *d = dst->px;
    for (int y = 0; y < dst->h; y++) {
        for (int x = 0; x < dst->w; x++, d += 3) {
            float v[3];
            sample(src, m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5], v);
            for (int c = 0; c < 3; c++) {
                float r = v[c] + 0.5f;
                d[c] = (uint8_t)(r < 0 ? 0 : r >= 255.0f ? 255 : (int)r);
            }
        }
    }
}

static inline float *out_at(float *out, int x, int y, int dw, int dh,
                            int transpose) {
    return out + (transpose ? (size_t)x * dh + y : (size_t)y * dw + x) * 3;
}

void lfr_image_warp_affine_f32(const lfr_image *src, const float m[6], int dw,
                               int dh, float mean, float scale, int transpose,
                               float *out) {
    if (!valid(src) || !m || !out || dw <= 0 || dh <= 0) return;
    for (int y = 0; y < dh; y++) {
        for (int x = 0; x < dw; x++) {
            float v[3];
            sample(src, m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5], v);
            float *o = out_at(out, x, y, dw, dh, transpose);
            o[0] = (v[0] - mean) * scale;
            o[1] = (v[1] - mean) * scale;
            o[2] = (v[2] - mean) * scale;
        }
    }
}

/* Sample coordinate of output index d over the source span [x0, x0 + len). */
static inline float rect_coord(int d, double x0, double len, int n) {
    double s = x0 + (d + 0.5) * len / n - 0.5;
    double hi = x0 + len - 1.0;
    if (hi < x0) hi = x0;
    if (s > hi) s = hi;
    if (s < x0) s = x0;
    return (float)s;
}

void lfr_image_resize_f32(const lfr_image *src, float x0, float y0, float w,
                          float h, int dw, int dh, float mean, float scale,
                          int transpose, float *out) {
    if (!valid(src) || !out || dw <= 0 || dh <= 0) return;
    if (!(w > 0 && h > 0 && isfinite(x0) && isfinite(y0) && isfinite(w) &&
          isfinite(h)))
        return;
    for (int y = 0; y < dh; y++) {
        float fy = rect_coord(y, y0, h, dh);
        for (int x = 0; x < dw; x++) {
            float v[3];
            sample(src, rect_coord(x, x0, w, dw), fy, v);
            float *o = out_at(out, x, y, dw, dh, transpose);
            o[0] = (v[0] - mean) * scale;
            o[1] = (v[1] - mean) * scale;
            o[2] = (v[2] - mean) * scale;
        }
    }
}
