/*
 * face.c - detection (RFB + O-Net), alignment, embedding and quality.
 * See face.h for the pipeline; the constants of each network come from the
 * model file's metadata (input.mean, input.scale, input.transpose), the
 * detector priors from the RFB paper's configuration.
 */
#include "face.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

const lfr_face_params lfr_face_params_default = {
    .det_long_side = 960,
    .det_thresh = 0.6f,
    .nms_iou = 0.3f,
    .onet_thresh = 0.7f,
    .min_face = 20.0f,
    .max_faces = 64,
    .use_onet = 1,
};

/* ArcFace 112x112 5-point template. */
static const float arcface_template[5][2] = {
    {38.2946f, 51.6963f}, {73.5318f, 51.5014f}, {56.0252f, 71.7366f},
    {41.5493f, 92.3655f}, {70.7299f, 92.2041f}};

/* RFB prior configuration: per stride, the prior box sizes (detector px). */
static const struct {
    int stride, n;
    float sizes[3];
} rfb_levels[4] = {
    {8, 3, {10, 16, 24}}, {16, 2, {32, 48}}, {32, 2, {64, 96}}, {64, 3, {128, 192, 256}}};
#define RFB_CENTER_VAR 0.1f
#define RFB_SIZE_VAR 0.2f
#define MAX_CANDIDATES 4096

typedef struct net_info {
    lfr_nn_model *m;
    float mean, scale;
    int transpose;
} net_info;

struct lfr_face_engine {
    net_info rfb, onet, mfn;
};

/* O-Net and MobileFaceNet run in batches of up to ONET_BATCH / MFN_BATCH
 * faces, with one planned network context per batch size, created when
 * first needed: re-planning for every new face count would rebuild the
 * backend's operators on every frame. */
#define ONET_BATCH 8
#define MFN_BATCH 4
/* The detector keeps planned contexts for this many working sizes, the
 * least recently used replaced: a camera has one size, but photo checks
 * alternate between a few (landscape 4:3 and 16:9, portrait), and
 * planning a new size costs 70-100 ms (bench_nn prints "plan").  Each
 * size held costs about 50 MB (RSS of a 960x640 plan after a run: the
 * 16 MB arena, oneDNN's primitives and weights), created on first use. */
#define RFB_SIZES 3

typedef struct rfb_slot {
    lfr_nn_ctx *ctx;
    int w, h;          /* planned working size, 0 = none */
    uint64_t used;     /* tick of the last use */
} rfb_slot;

struct lfr_face_ctx {
    const lfr_face_engine *e;
    rfb_slot rfb[RFB_SIZES];
    uint64_t tick;
    long rfb_plans;    /* working-size plans made (lfr_face_ctx_rfb_plans) */
    lfr_nn_ctx *onet[ONET_BATCH + 1], *mfn[MFN_BATCH + 1]; /* by batch size */
    lfr_image work;    /* the frame at the detector's working size */
    float sx, sy;      /* working -> frame scale */
    lfr_face *faces;   /* capacity MAX_CANDIDATES */
    float *cand;       /* MAX_CANDIDATES x 5: x1 y1 x2 y2 score */
};

static lfr_status load_net(const char *dir, const char *arch, net_info *ni,
                           lfr_err *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.lfrm", dir, arch);
    lfr_status st = lfr_nn_model_load(path, &ni->m, err);
    if (st != LFR_OK) return st;
    const char *mean = lfr_nn_model_meta(ni->m, "input.mean");
    const char *scale = lfr_nn_model_meta(ni->m, "input.scale");
    const char *tr = lfr_nn_model_meta(ni->m, "input.transpose");
    if (!mean || !scale)
        return lfr_err_set(err, LFR_ERR_BAD_MODEL, "%s: no input normalisation metadata", path);
    ni->mean = strtof(mean, NULL);
    ni->scale = strtof(scale, NULL);
    ni->transpose = tr && strcmp(tr, "1") == 0;
    return LFR_OK;
}

lfr_status lfr_face_engine_load(const char *dir, lfr_face_engine **out, lfr_err *err) {
    *out = NULL;
    lfr_face_engine *e = lfr_calloc(1, sizeof *e);
    if (!e) return LFR_ERR_NOMEM;
    lfr_status st = load_net(dir, "rfb", &e->rfb, err);
    if (st == LFR_OK) st = load_net(dir, "onet", &e->onet, err);
    if (st == LFR_OK) st = load_net(dir, "mobilefacenet", &e->mfn, err);
    if (st != LFR_OK) {
        lfr_face_engine_destroy(e);
        return st;
    }
    *out = e;
    return LFR_OK;
}

void lfr_face_engine_destroy(lfr_face_engine *e) {
    if (!e) return;
    lfr_nn_model_destroy(e->rfb.m);
    lfr_nn_model_destroy(e->onet.m);
    lfr_nn_model_destroy(e->mfn.m);
    lfr_free(e);
}

lfr_status lfr_face_ctx_new(const lfr_face_engine *e, lfr_face_ctx **out) {
    *out = NULL;
    lfr_face_ctx *c = lfr_calloc(1, sizeof *c);
    if (!c) return LFR_ERR_NOMEM;
    c->e = e;
    lfr_status st = lfr_nn_ctx_new(e->rfb.m, LFR_NN_BACKEND_DNNL, &c->rfb[0].ctx);
    if (st == LFR_OK) {
        c->faces = lfr_calloc(MAX_CANDIDATES, sizeof *c->faces);
        c->cand = lfr_calloc(MAX_CANDIDATES * 5, sizeof *c->cand);
        if (!c->faces || !c->cand) st = LFR_ERR_NOMEM;
    }
    if (st != LFR_OK) {
        lfr_face_ctx_destroy(c);
        return st;
    }
    *out = c;
    return LFR_OK;
}

void lfr_face_ctx_destroy(lfr_face_ctx *c) {
    if (!c) return;
    for (int i = 0; i < RFB_SIZES; i++) lfr_nn_ctx_destroy(c->rfb[i].ctx);
    for (int i = 0; i <= ONET_BATCH; i++) lfr_nn_ctx_destroy(c->onet[i]);
    for (int i = 0; i <= MFN_BATCH; i++) lfr_nn_ctx_destroy(c->mfn[i]);
    lfr_free(c->faces);
    lfr_free(c->cand);
    lfr_image_free(&c->work);
    lfr_free(c);
}

/* The context for `n` faces of network `slot` (created and planned once). */
static lfr_status batch_ctx(lfr_nn_ctx **slot, const lfr_nn_model *m, int n, int side,
                            lfr_nn_ctx **out, lfr_err *err) {
    if (!*slot) {
        lfr_status st = lfr_nn_ctx_new(m, LFR_NN_BACKEND_DNNL, slot);
        if (st != LFR_OK) return lfr_err_set(err, st, "cannot create a network context");
    }
    *out = *slot;
    return lfr_nn_ctx_plan(*slot, n, side, side, err);
}

/* Detection ----------------------------------------------------------------- */

static float iou(const float *a, const float *b) {
    float ix = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
    float iy = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    if (ix <= 0 || iy <= 0) return 0;
    float inter = ix * iy;
    float ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return ua > 0 ? inter / ua : 0;
}

static int cmp_cand(const void *a, const void *b) {
    float x = ((const float *)a)[4], y = ((const float *)b)[4];
    return (x < y) - (x > y);
}

static int cmp_face_area(const void *a, const void *b) {
    const lfr_face *x = a, *y = b;
    float ax = x->box[2] * x->box[3], ay = y->box[2] * y->box[3];
    return (ax < ay) - (ax > ay);
}

/* The detector context planned for dw x dh: a cached one, else the least
 * recently used slot (created when empty), planned now. */
static lfr_nn_ctx *rfb_for(lfr_face_ctx *c, int dw, int dh, lfr_err *err, lfr_status *st) {
    rfb_slot *pick = &c->rfb[0];
    for (int i = 0; i < RFB_SIZES; i++) {
        rfb_slot *r = &c->rfb[i];
        if (r->ctx && r->w == dw && r->h == dh) {
            r->used = ++c->tick;
            return r->ctx;
        }
        if (r->used < pick->used) pick = r;
    }
    if (!pick->ctx) {
        *st = lfr_nn_ctx_new(c->e->rfb.m, LFR_NN_BACKEND_DNNL, &pick->ctx);
        if (*st != LFR_OK) {
            lfr_err_set(err, *st, "cannot create a detector context");
            return NULL;
        }
    }
    pick->w = pick->h = 0;
    *st = lfr_nn_ctx_plan(pick->ctx, 1, dh, dw, err);
    if (*st != LFR_OK) return NULL;
    c->rfb_plans++;
    pick->w = dw;
    pick->h = dh;
    pick->used = ++c->tick;
    return pick->ctx;
}

long lfr_face_ctx_rfb_plans(const lfr_face_ctx *c) { return c->rfb_plans; }

/* Runs RFB; writes up to MAX_CANDIDATES boxes (frame px) after NMS into
 * c->cand, returns their count or a negative status. */
static int run_rfb(lfr_face_ctx *c, const lfr_image *im, const lfr_face_params *p,
                   lfr_err *err, lfr_status *st) {
    const net_info *ni = &c->e->rfb;
    float s = (float)p->det_long_side / (float)(im->w > im->h ? im->w : im->h);
    if (s > 1) s = 1;
    int dw = (int)floorf(im->w * s / 8) * 8, dh = (int)floorf(im->h * s / 8) * 8;
    if (dw < 16) dw = 16;
    if (dh < 16) dh = 16;
    lfr_nn_ctx *net = rfb_for(c, dw, dh, err, st);
    if (!net) return -1;
    float *x = lfr_nn_ctx_input(net, 0, NULL);
    /* The working image is kept between frames of the same size. */
    if (c->work.w != dw || c->work.h != dh) {
        lfr_image_free(&c->work);
        *st = lfr_image_alloc(&c->work, dw, dh);
        if (*st != LFR_OK) return -1;
    }
    *st = lfr_image_resize_into(im, &c->work);
    if (*st != LFR_OK) return -1;
    for (size_t i = 0; i < (size_t)dw * dh * 3; i++)
        x[i] = ((float)c->work.px[i] - ni->mean) * ni->scale;
    c->sx = (float)im->w / dw;
    c->sy = (float)im->h / dh;
    *st = lfr_nn_ctx_run(net);
    if (*st != LFR_OK) return -1;
    lfr_nn_shape ss, bs;
    const float *scores = lfr_nn_ctx_output(net, 0, &ss);
    const float *boxes = lfr_nn_ctx_output(net, 1, &bs);
    /* Priors in the same order as the heads: level, row, column, size. */
    int n = 0, a = 0;
    /* Candidates stay in working-image pixels; detect() scales results. */
    for (int l = 0; l < 4; l++) {
        int st_ = rfb_levels[l].stride;
        int fw = (dw + st_ - 1) / st_, fh = (dh + st_ - 1) / st_;
        for (int j = 0; j < fh; j++)
            for (int i = 0; i < fw; i++)
                for (int k = 0; k < rfb_levels[l].n; k++, a++) {
                    if (a >= ss.d[1]) break;
                    float prob = scores[a * 2 + 1];
                    if (!(prob > p->det_thresh)) continue;
                    float pcx = fminf(fmaxf((i + 0.5f) * st_ / dw, 0), 1);
                    float pcy = fminf(fmaxf((j + 0.5f) * st_ / dh, 0), 1);
                    float pw = fminf(rfb_levels[l].sizes[k] / dw, 1);
                    float ph = fminf(rfb_levels[l].sizes[k] / dh, 1);
                    const float *r = boxes + (size_t)a * 4;
                    float cx = pcx + r[0] * RFB_CENTER_VAR * pw;
                    float cy = pcy + r[1] * RFB_CENTER_VAR * ph;
                    float w = pw * expf(r[2] * RFB_SIZE_VAR);
                    float h = ph * expf(r[3] * RFB_SIZE_VAR);
                    if (n >= MAX_CANDIDATES) continue; /* bounded; see limits */
                    float *cd = c->cand + n * 5;
                    cd[0] = (cx - w / 2) * dw;
                    cd[1] = (cy - h / 2) * dh;
                    cd[2] = (cx + w / 2) * dw;
                    cd[3] = (cy + h / 2) * dh;
                    cd[4] = prob;
                    n++;
                }
    }
    if (a != ss.d[1] || bs.d[1] != ss.d[1]) {
        *st = lfr_err_set(err, LFR_ERR_BAD_MODEL,
                          "detector produced %d anchors, priors expect %d", ss.d[1], a);
        return -1;
    }
    qsort(c->cand, (size_t)n, 5 * sizeof(float), cmp_cand);
    int kept = 0;
    for (int i = 0; i < n; i++) {
        float *ci = c->cand + i * 5;
        int keep = 1;
        for (int k = 0; k < kept && keep; k++)
            if (iou(c->cand + k * 5, ci) > p->nms_iou) keep = 0;
        if (keep) memmove(c->cand + kept++ * 5, ci, 5 * sizeof(float));
    }
    return kept;
}

static void fill_quality(lfr_face *f, const lfr_image *im) {
    float ex = f->lm[1][0] - f->lm[0][0], ey = f->lm[1][1] - f->lm[0][1];
    float d = sqrtf(ex * ex + ey * ey);
    f->q.eye_dist = d;
    f->q.roll = atan2f(ey, ex) * 180.0f / (float)M_PI;
    if (d > 0) {
        /* Nose offset along the eye axis from the eyes' midpoint, in half
         * eye distances: 0 frontal, +-1 nose in line with an eye. */
        float mx = (f->lm[0][0] + f->lm[1][0]) / 2, my = (f->lm[0][1] + f->lm[1][1]) / 2;
        float t = ((f->lm[2][0] - mx) * ex + (f->lm[2][1] - my) * ey) / (d * d / 2);
        t = fmaxf(-1, fminf(1, t));
        f->q.yaw = asinf(t) * 180.0f / (float)M_PI;
    }
    f->q.at_edge = f->box[0] <= 0 || f->box[1] <= 0 || f->box[0] + f->box[2] >= im->w ||
                   f->box[1] + f->box[3] >= im->h;
}

lfr_status lfr_face_detect(lfr_face_ctx *c, const lfr_image *im,
                           const lfr_face_params *p, lfr_face **faces, int *nfaces,
                           lfr_err *err) {
    *faces = c->faces;
    *nfaces = 0;
    if (!p) p = &lfr_face_params_default;
    if (!im || !im->px || im->w < 1 || im->h < 1)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "empty image");
    lfr_status st = LFR_OK;
    int n = run_rfb(c, im, p, err, &st);
    if (n < 0) return st;
    int out = 0;
    const net_info *on = &c->e->onet;
    /* O-Net in batches of up to LFR_MAX_NET_BATCH squared boxes. */
    for (int b0 = 0; b0 < n; b0 += ONET_BATCH) {
        int bn = n - b0 < ONET_BATCH ? n - b0 : ONET_BATCH;
        float sq[ONET_BATCH][3];
        for (int k = 0; k < bn; k++) {
            const float *cd = c->cand + (b0 + k) * 5;
            float w = cd[2] - cd[0], h = cd[3] - cd[1], side = fmaxf(w, h);
            sq[k][0] = cd[0] + w / 2 - side / 2;
            sq[k][1] = cd[1] + h / 2 - side / 2;
            sq[k][2] = side;
        }
        const float *prob = NULL, *reg = NULL, *lm = NULL;
        lfr_nn_ctx *onet = NULL;
        if (p->use_onet) {
            st = batch_ctx(&c->onet[bn], on->m, bn, 48, &onet, err);
            if (st != LFR_OK) return st;
            float *x = lfr_nn_ctx_input(onet, 0, NULL);
            /* O-Net's crop samples the square at x0 + i * side / 48 (corner
             * aligned, no half-pixel offset), as the reference
             * implementation does: resize_f32 uses half-pixel centres, so
             * its origin is moved by 0.5 - 0.5 * side / 48.  Measured on
             * the demo photos against the reference: landmarks within
             * 2.8 px instead of 6.4 px (tests/test_face.c). */
            for (int k = 0; k < bn; k++) {
                float o = 0.5f - 0.5f * sq[k][2] / 48.0f;
                lfr_image_resize_f32(&c->work, sq[k][0] + o, sq[k][1] + o, sq[k][2], sq[k][2],
                                     48, 48, on->mean, on->scale, on->transpose,
                                     x + (size_t)k * 48 * 48 * 3);
            }
            st = lfr_nn_ctx_run(onet);
            if (st != LFR_OK) return st;
            prob = lfr_nn_ctx_output(onet, 0, NULL);
            reg = lfr_nn_ctx_output(onet, 1, NULL);
            lm = lfr_nn_ctx_output(onet, 2, NULL);
        }
        for (int k = 0; k < bn; k++) {
            const float *cd = c->cand + (b0 + k) * 5;
            lfr_face *f = &c->faces[out];
            memset(f, 0, sizeof *f);
            f->score = cd[4];
            if (p->use_onet) {
                f->onet_score = prob[k * 2 + 1];
                if (!(f->onet_score > p->onet_thresh)) continue;
                float x1 = sq[k][0], y1 = sq[k][1], s = sq[k][2];
                const float *r = reg + k * 4;
                float bx1 = x1 + r[0] * s, by1 = y1 + r[1] * s;
                float bx2 = x1 + s + r[2] * s, by2 = y1 + s + r[3] * s;
                f->box[0] = bx1;
                f->box[1] = by1;
                f->box[2] = bx2 - bx1;
                f->box[3] = by2 - by1;
                for (int q = 0; q < 5; q++) {
                    f->lm[q][0] = x1 + lm[k * 10 + q] * s;
                    f->lm[q][1] = y1 + lm[k * 10 + 5 + q] * s;
                }
            } else {
                f->box[0] = cd[0];
                f->box[1] = cd[1];
                f->box[2] = cd[2] - cd[0];
                f->box[3] = cd[3] - cd[1];
            }
            /* Working-image pixels -> frame pixels. */
            f->box[0] *= c->sx, f->box[2] *= c->sx;
            f->box[1] *= c->sy, f->box[3] *= c->sy;
            for (int q = 0; q < 5; q++) f->lm[q][0] *= c->sx, f->lm[q][1] *= c->sy;
            if (fmaxf(f->box[2], f->box[3]) < p->min_face) continue;
            fill_quality(f, im);
            out++;
        }
    }
    qsort(c->faces, (size_t)out, sizeof *c->faces, cmp_face_area);
    if (out > p->max_faces) out = p->max_faces;
    *nfaces = out;
    return LFR_OK;
}

/* Alignment ------------------------------------------------------------------ */

void lfr_face_align_matrix(const float lm[5][2], float m[6]) {
    double msx = 0, msy = 0, mdx = 0, mdy = 0;
    for (int i = 0; i < 5; i++) {
        msx += lm[i][0];
        msy += lm[i][1];
        mdx += arcface_template[i][0];
        mdy += arcface_template[i][1];
    }
    msx /= 5, msy /= 5, mdx /= 5, mdy /= 5;
    double a = 0, b = 0, var = 0;
    for (int i = 0; i < 5; i++) {
        double sx = lm[i][0] - msx, sy = lm[i][1] - msy;
        double dx = arcface_template[i][0] - mdx, dy = arcface_template[i][1] - mdy;
        a += sx * dx + sy * dy;
        b += sx * dy - sy * dx;
        var += sx * sx + sy * sy;
    }
    if (var <= 1e-12) var = 1e-12;
    /* Forward: q = [c -s; s c] p + t  (frame -> template). */
    double cs = a / var, sn = b / var;
    double tx = mdx - (cs * msx - sn * msy), ty = mdy - (sn * msx + cs * msy);
    /* Inverse: p = R^-1 (q - t), R^-1 = [c s; -s c] / (c^2 + s^2). */
    double k = cs * cs + sn * sn;
    if (k <= 1e-24) k = 1e-24;
    double ia = cs / k, ib = sn / k;
    m[0] = (float)ia;
    m[1] = (float)ib;
    m[2] = (float)(-(ia * tx + ib * ty));
    m[3] = (float)-ib;
    m[4] = (float)ia;
    m[5] = (float)(-(-ib * tx + ia * ty));
}

lfr_status lfr_face_align(const lfr_image *im, const lfr_face *f, lfr_image *out) {
    lfr_status st = lfr_image_alloc(out, LFR_FACE_ALIGN_SIZE, LFR_FACE_ALIGN_SIZE);
    if (st != LFR_OK) return st;
    float m[6];
    lfr_face_align_matrix(f->lm, m);
    lfr_image_warp_affine(im, m, out);
    return LFR_OK;
}

/* Embedding ------------------------------------------------------------------ */

/* Variance of the 4-neighbour Laplacian of the grey version of an NHWC
 * normalised crop (undoing the normalisation is unnecessary up to a scale,
 * so it is computed on grey levels recovered from the input). */
static float sharpness(const float *x, float mean, float scale) {
    enum { S = LFR_FACE_ALIGN_SIZE };
    float g[S * S];
    for (int i = 0; i < S * S; i++)
        g[i] = (0.299f * x[i * 3] + 0.587f * x[i * 3 + 1] + 0.114f * x[i * 3 + 2]) / scale + mean;
    double s = 0, s2 = 0;
    int n = 0;
    for (int y = 1; y < S - 1; y++)
        for (int xx = 1; xx < S - 1; xx++) {
            float l = g[(y - 1) * S + xx] + g[(y + 1) * S + xx] + g[y * S + xx - 1] +
                      g[y * S + xx + 1] - 4 * g[y * S + xx];
            s += l;
            s2 += (double)l * l;
            n++;
        }
    double mu = s / n;
    return (float)(s2 / n - mu * mu);
}

static lfr_status run_mfn(lfr_nn_ctx *mfn, int n, float *emb, lfr_err *err) {
    lfr_status st = lfr_nn_ctx_run(mfn);
    if (st != LFR_OK) return lfr_err_set(err, st, "embedder failed");
    const float *o = lfr_nn_ctx_output(mfn, 0, NULL);
    for (int k = 0; k < n; k++) {
        double ss = 0;
        for (int d = 0; d < LFR_FACE_EMB_DIM; d++) ss += (double)o[k * LFR_FACE_EMB_DIM + d] * o[k * LFR_FACE_EMB_DIM + d];
        float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0;
        for (int d = 0; d < LFR_FACE_EMB_DIM; d++)
            emb[k * LFR_FACE_EMB_DIM + d] = o[k * LFR_FACE_EMB_DIM + d] * inv;
    }
    return LFR_OK;
}

lfr_status lfr_face_embed(lfr_face_ctx *c, const lfr_image *im, lfr_face *faces, int n,
                          float *emb, lfr_err *err) {
    const net_info *ni = &c->e->mfn;
    enum { S = LFR_FACE_ALIGN_SIZE };
    for (int b0 = 0; b0 < n; b0 += MFN_BATCH) {
        int bn = n - b0 < MFN_BATCH ? n - b0 : MFN_BATCH;
        lfr_nn_ctx *mfn;
        lfr_status st = batch_ctx(&c->mfn[bn], ni->m, bn, S, &mfn, err);
        if (st != LFR_OK) return st;
        float *x = lfr_nn_ctx_input(mfn, 0, NULL);
        for (int k = 0; k < bn; k++) {
            float m[6];
            lfr_face_align_matrix(faces[b0 + k].lm, m);
            float *xi = x + (size_t)k * S * S * 3;
            lfr_image_warp_affine_f32(im, m, S, S, ni->mean, ni->scale, 0, xi);
            faces[b0 + k].q.sharpness = sharpness(xi, ni->mean, ni->scale);
        }
        st = run_mfn(mfn, bn, emb + (size_t)b0 * LFR_FACE_EMB_DIM, err);
        if (st != LFR_OK) return st;
    }
    return LFR_OK;
}

lfr_status lfr_face_embed_aligned(lfr_face_ctx *c, const lfr_image *crop, float *emb,
                                  lfr_err *err) {
    enum { S = LFR_FACE_ALIGN_SIZE };
    if (crop->w != S || crop->h != S)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "aligned crop must be 112x112");
    const net_info *ni = &c->e->mfn;
    lfr_nn_ctx *mfn;
    lfr_status st = batch_ctx(&c->mfn[1], ni->m, 1, S, &mfn, err);
    if (st != LFR_OK) return st;
    float *x = lfr_nn_ctx_input(mfn, 0, NULL);
    for (int i = 0; i < S * S * 3; i++) x[i] = ((float)crop->px[i] - ni->mean) * ni->scale;
    return run_mfn(mfn, 1, emb, err);
}

float lfr_face_similarity(const float *a, const float *b) {
    double s = 0;
    for (int i = 0; i < LFR_FACE_EMB_DIM; i++) s += (double)a[i] * b[i];
    return (float)s;
}

int lfr_face_pick_central(const lfr_face *faces, int n, int w, int h) {
    int best = -1;
    float bd = 0;
    for (int i = 0; i < n; i++) {
        float cx = faces[i].box[0] + faces[i].box[2] / 2 - w / 2.0f;
        float cy = faces[i].box[1] + faces[i].box[3] / 2 - h / 2.0f;
        float d = cx * cx + cy * cy;
        if (best < 0 || d < bd) bd = d, best = i;
    }
    return best;
}
