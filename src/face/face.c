/*
 * face.c - detection (RFB + O-Net), alignment, embedding and quality.
 * See face.h for the pipeline; the constants of each network come from the
 * model file's metadata (input.mean, input.scale, input.transpose), the
 * detector priors from the RFB paper's configuration.
 */
#include "face.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn/nn.h"

const lfr_face_params lfr_face_params_default = {
    .det_long_side = 960,
    .det_thresh = 0.6f,
    .nms_iou = 0.3f,
    .onet_thresh = 0.7f,
    .min_face = 20.0f,
    .max_faces = 64,
    .use_onet = 1,
    .pad_policy = LFR_FACE_PAD_AT_EDGE,
    .pad = 0.25f,
    .pad_grey = 128,
    .crop_fill = 0,
    .pad_near = 0.05f,
    .pad_min_face = 0.2f,
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
    net_info mfn512;   /* optional: m NULL when mfn512.lfrm is absent */
    net_info lm68;     /* optional: m NULL when lm68.lfrm is absent */
};

/* The 512-d embedder's output width (model set FUSED704). */
#define MFN512_DIM 512

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
    lfr_nn_ctx *mfn512[MFN_BATCH + 1];                     /* by batch size */
    lfr_nn_ctx *lm68[MFN_BATCH + 1];                       /* by batch size */
    lfr_image work;    /* the frame at the detector's working size */
    float sx, sy;      /* working -> frame scale */
    lfr_face *faces;   /* capacity MAX_CANDIDATES */
    lfr_face *faces2;  /* the padded pass's faces, capacity MAX_CANDIDATES */
    lfr_image padded;  /* the padded frame of the last padded pass */
    lfr_image canvas;  /* embedding: the frame on a constant border */
    long padded_runs;  /* padded passes made (lfr_face_ctx_padded_runs) */
    long near_runs;    /* windowed detections (lfr_face_ctx_near_runs) */
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

static lfr_status load_optional(const char *dir, const char *arch, net_info *ni,
                                lfr_err *err) {
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s.lfrm", dir, arch);
    if (stat(path, &sb) != 0)
        return errno == ENOENT ? LFR_OK
                               : lfr_err_set(err, LFR_ERR_IO, "%s: %s", path, strerror(errno));
    lfr_status st = load_net(dir, arch, ni, err);
    const char *a = st == LFR_OK ? lfr_nn_model_meta(ni->m, "arch") : NULL;
    if (st == LFR_OK && (!a || strcmp(a, arch) != 0))
        st = lfr_err_set(err, LFR_ERR_BAD_MODEL, "%s: arch is '%s', not %s", path,
                         a ? a : "(none)", arch);
    return st;
}

lfr_status lfr_face_engine_load(const char *dir, lfr_face_engine **out, lfr_err *err) {
    *out = NULL;
    lfr_face_engine *e = lfr_calloc(1, sizeof *e);
    if (!e) return LFR_ERR_NOMEM;
    lfr_status st = load_net(dir, "rfb", &e->rfb, err);
    if (st == LFR_OK) st = load_net(dir, "onet", &e->onet, err);
    if (st == LFR_OK) st = load_net(dir, "mobilefacenet", &e->mfn, err);
    /* mfn512.lfrm and lm68.lfrm are optional (model sets FUSED704*): absent
     * is fine, present but unreadable or another network is an error. */
    if (st == LFR_OK) st = load_optional(dir, "mfn512", &e->mfn512, err);
    if (st == LFR_OK) st = load_optional(dir, "lm68", &e->lm68, err);
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
    lfr_nn_model_destroy(e->mfn512.m);
    lfr_nn_model_destroy(e->lm68.m);
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
        c->faces2 = lfr_calloc(MAX_CANDIDATES, sizeof *c->faces2);
        c->cand = lfr_calloc(MAX_CANDIDATES * 5, sizeof *c->cand);
        if (!c->faces || !c->faces2 || !c->cand) st = LFR_ERR_NOMEM;
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
    for (int i = 0; i <= MFN_BATCH; i++) lfr_nn_ctx_destroy(c->mfn512[i]);
    for (int i = 0; i <= MFN_BATCH; i++) lfr_nn_ctx_destroy(c->lm68[i]);
    lfr_free(c->faces);
    lfr_free(c->faces2);
    lfr_free(c->cand);
    lfr_image_free(&c->work);
    lfr_image_free(&c->padded);
    lfr_image_free(&c->canvas);
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

long lfr_face_ctx_padded_runs(const lfr_face_ctx *c) { return c->padded_runs; }

long lfr_face_ctx_near_runs(const lfr_face_ctx *c) { return c->near_runs; }

/* The frame at the detector's working size (long side p->det_long_side,
 * each side a multiple of 8, never upscaled) into c->work, kept between
 * frames of the same size; c->sx, c->sy map working to frame pixels. */
static void work_size(const lfr_image *im, const lfr_face_params *p, int *w, int *h) {
    float s = (float)p->det_long_side / (float)(im->w > im->h ? im->w : im->h);
    if (s > 1) s = 1;
    int dw = (int)floorf(im->w * s / 8) * 8, dh = (int)floorf(im->h * s / 8) * 8;
    *w = dw < 16 ? 16 : dw;
    *h = dh < 16 ? 16 : dh;
}

static lfr_status rfb_prepare(lfr_face_ctx *c, const lfr_image *im, const lfr_face_params *p) {
    int dw, dh;
    work_size(im, p, &dw, &dh);
    if (c->work.w != dw || c->work.h != dh) {
        lfr_image_free(&c->work);
        lfr_status st = lfr_image_alloc(&c->work, dw, dh);
        if (st != LFR_OK) return st;
    }
    c->sx = (float)im->w / dw;
    c->sy = (float)im->h / dh;
    return lfr_image_resize_into(im, &c->work);
}

/* Runs RFB on the window (x0, y0, dw, dh) of src (the working image c->work,
 * the whole of it for a full detection), priors generated for the window's
 * size, and appends the candidates above p->det_thresh to c->cand[n..] in
 * working-image pixels.  Returns the new count, or -1 with *st set. */
static int rfb_window(lfr_face_ctx *c, const lfr_face_params *p, const lfr_image *src, int x0,
                      int y0, int dw, int dh, int n, lfr_err *err, lfr_status *st) {
    const net_info *ni = &c->e->rfb;
    lfr_nn_ctx *net = rfb_for(c, dw, dh, err, st);
    if (!net) return -1;
    float *x = lfr_nn_ctx_input(net, 0, NULL);
    for (int y = 0; y < dh; y++) {
        const uint8_t *row = src->px + ((size_t)(y0 + y) * src->w + x0) * 3;
        float *xr = x + (size_t)y * dw * 3;
        for (int i = 0; i < dw * 3; i++) xr[i] = ((float)row[i] - ni->mean) * ni->scale;
    }
    *st = lfr_nn_ctx_run(net);
    if (*st != LFR_OK) return -1;
    lfr_nn_shape ss, bs;
    const float *scores = lfr_nn_ctx_output(net, 0, &ss);
    const float *boxes = lfr_nn_ctx_output(net, 1, &bs);
    /* Priors in the same order as the heads: level, row, column, size. */
    int a = 0;
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
                    cd[0] = (cx - w / 2) * dw + x0;
                    cd[1] = (cy - h / 2) * dh + y0;
                    cd[2] = (cx + w / 2) * dw + x0;
                    cd[3] = (cy + h / 2) * dh + y0;
                    cd[4] = prob;
                    n++;
                }
    }
    if (a != ss.d[1] || bs.d[1] != ss.d[1]) {
        *st = lfr_err_set(err, LFR_ERR_BAD_MODEL,
                          "detector produced %d anchors, priors expect %d", ss.d[1], a);
        return -1;
    }
    return n;
}

/* Sorts the n candidates of c->cand by score and keeps those that survive
 * non-maximum suppression; returns how many. */
static int rfb_nms(lfr_face_ctx *c, const lfr_face_params *p, int n) {
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

/* Full detection: RFB on the whole working image; up to MAX_CANDIDATES
 * boxes (working px) after NMS in c->cand, their count or -1 (*st set). */
static int run_rfb(lfr_face_ctx *c, const lfr_image *im, const lfr_face_params *p,
                   lfr_err *err, lfr_status *st) {
    *st = rfb_prepare(c, im, p);
    if (*st != LFR_OK) return -1;
    int n = rfb_window(c, p, &c->work, 0, 0, c->work.w, c->work.h, 0, err, st);
    return n < 0 ? -1 : rfb_nms(c, p, n);
}

/* Head pose ------------------------------------------------------------------ */

/* The mean 5-point 3D face (face.h): x and y are the ArcFace template made
 * left-right symmetric (the 2D mean of frontal faces as the 5-point
 * detectors place their points), origin at the eyes' midpoint; z is the
 * depth of the same points in the mean Multi-PIE 68-point 3D face (eye
 * centre = mean of its 6 eye contour points, nose tip = point 30, mouth
 * corners = 48 and 54), scaled by the ratio of the two inter-eye distances
 * and measured from the eyes' plane, towards the camera. */
const float lfr_face_mean_shape[5][3] = {
    {-17.6186f, 0.0f, 0.0f},       {17.6186f, 0.0f, 0.0f},     {0.0f, 20.1377f, 19.1861f},
    {-14.5903f, 40.6859f, -0.7458f}, {14.5903f, 40.6859f, -0.7458f}};

#define DEG ((double)M_PI / 180.0)

/* R = Rz(roll) Rx(pitch) Ry(yaw), angles in radians; x right, y down, z
 * towards the camera. */
static void pose_rotation(double yaw, double pitch, double roll, double r[3][3]) {
    double cy = cos(yaw), sy = sin(yaw), cp = cos(pitch), sp = sin(pitch);
    double cr = cos(roll), sr = sin(roll);
    double ry[3][3] = {{cy, 0, sy}, {0, 1, 0}, {-sy, 0, cy}};
    double rx[3][3] = {{1, 0, 0}, {0, cp, -sp}, {0, sp, cp}};
    double rz[3][3] = {{cr, -sr, 0}, {sr, cr, 0}, {0, 0, 1}};
    double t[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            t[i][j] = 0;
            for (int k = 0; k < 3; k++) t[i][j] += rx[i][k] * ry[k][j];
        }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            r[i][j] = 0;
            for (int k = 0; k < 3; k++) r[i][j] += rz[i][k] * t[k][j];
        }
}

void lfr_face_pose_project(float yaw, float pitch, float roll, float scale, float cx, float cy,
                           float lm[5][2]) {
    double r[3][3];
    pose_rotation(yaw * DEG, pitch * DEG, roll * DEG, r);
    for (int i = 0; i < 5; i++) {
        const float *X = lfr_face_mean_shape[i];
        lm[i][0] = (float)(cx + scale * (r[0][0] * X[0] + r[0][1] * X[1] + r[0][2] * X[2]));
        lm[i][1] = (float)(cy + scale * (r[1][0] * X[0] + r[1][1] * X[1] + r[1][2] * X[2]));
    }
}

/* Sum of squared residuals of the scaled orthographic projection of the
 * centred mean shape (xc) with parameters q = {scale, yaw, pitch, roll}
 * against the centred landmarks (uc); residuals into res[10] if not NULL. */
static double pose_cost(const double q[4], const double xc[5][3], const double uc[5][2],
                        double *res) {
    double r[3][3], c = 0;
    pose_rotation(q[1], q[2], q[3], r);
    for (int i = 0; i < 5; i++)
        for (int a = 0; a < 2; a++) {
            double v = uc[i][a] - q[0] * (r[a][0] * xc[i][0] + r[a][1] * xc[i][1] + r[a][2] * xc[i][2]);
            if (res) res[i * 2 + a] = v;
            c += v * v;
        }
    return c;
}

/* Solves the 4x4 system a x = b (Gaussian elimination, partial pivoting);
 * returns 0 if singular. */
static int solve4(double a[4][4], double b[4], double x[4]) {
    for (int k = 0; k < 4; k++) {
        int piv = k;
        for (int i = k + 1; i < 4; i++)
            if (fabs(a[i][k]) > fabs(a[piv][k])) piv = i;
        if (fabs(a[piv][k]) < 1e-15) return 0;
        for (int j = 0; j < 4; j++) {
            double t = a[k][j];
            a[k][j] = a[piv][j];
            a[piv][j] = t;
        }
        double t = b[k];
        b[k] = b[piv];
        b[piv] = t;
        for (int i = k + 1; i < 4; i++) {
            double f = a[i][k] / a[k][k];
            for (int j = k; j < 4; j++) a[i][j] -= f * a[k][j];
            b[i] -= f * b[k];
        }
    }
    for (int k = 3; k >= 0; k--) {
        double s = b[k];
        for (int j = k + 1; j < 4; j++) s -= a[k][j] * x[j];
        x[k] = s / a[k][k];
    }
    return 1;
}

/* Levenberg-Marquardt on {scale, yaw, pitch, roll}; the translation is
 * eliminated by centring both point sets (its least-squares value). */
lfr_status lfr_face_pose(const float lm[5][2], float *yaw, float *pitch, float *roll) {
    *yaw = *pitch = *roll = 0;
    double xc[5][3], uc[5][2], mx[3] = {0}, mu[2] = {0};
    for (int i = 0; i < 5; i++) {
        if (!isfinite(lm[i][0]) || !isfinite(lm[i][1])) return LFR_ERR_INVALID_ARG;
        for (int a = 0; a < 3; a++) mx[a] += lfr_face_mean_shape[i][a] / 5.0;
        for (int a = 0; a < 2; a++) mu[a] += lm[i][a] / 5.0;
    }
    for (int i = 0; i < 5; i++) {
        for (int a = 0; a < 3; a++) xc[i][a] = lfr_face_mean_shape[i][a] - mx[a];
        for (int a = 0; a < 2; a++) uc[i][a] = lm[i][a] - mu[a];
    }
    double ex = lm[1][0] - lm[0][0], ey = lm[1][1] - lm[0][1];
    double d = sqrt(ex * ex + ey * ey);
    if (!(d > 1e-6)) return LFR_ERR_INVALID_ARG;
    /* Start: the eye line's angle, the nose's offset along it (scaled to
     * the mean shape: offset / half eye distance = (z_nose / x_eye) tan yaw),
     * level head, scale from the eye distance. */
    double t = ((lm[2][0] - (lm[0][0] + lm[1][0]) / 2) * ex +
                (lm[2][1] - (lm[0][1] + lm[1][1]) / 2) * ey) / (d * d / 2);
    double q[4] = {d / (2 * lfr_face_mean_shape[1][0]),
                   atan(t * lfr_face_mean_shape[1][0] / lfr_face_mean_shape[2][2]), 0, atan2(ey, ex)};
    double lambda = 1e-3, cost = pose_cost(q, xc, uc, NULL);
    const double lim = 89 * DEG;
    for (int it = 0; it < 50; it++) {
        double res[10], jac[10][4], h = 1e-6;
        pose_cost(q, xc, uc, res);
        for (int k = 0; k < 4; k++) {
            double qp[4], qm[4], rp[10], rm[10], step = k == 0 ? h * fmax(q[0], 1e-3) : h;
            memcpy(qp, q, sizeof qp);
            memcpy(qm, q, sizeof qm);
            qp[k] += step;
            qm[k] -= step;
            pose_cost(qp, xc, uc, rp);
            pose_cost(qm, xc, uc, rm);
            for (int r = 0; r < 10; r++) jac[r][k] = (rp[r] - rm[r]) / (2 * step);
        }
        double jtj[4][4] = {{0}}, jtr[4] = {0};
        for (int r = 0; r < 10; r++)
            for (int a = 0; a < 4; a++) {
                jtr[a] -= jac[r][a] * res[r];
                for (int b = 0; b < 4; b++) jtj[a][b] += jac[r][a] * jac[r][b];
            }
        int improved = 0;
        for (int tries = 0; tries < 10 && !improved; tries++) {
            double a[4][4], b[4], dq[4];
            memcpy(a, jtj, sizeof a);
            memcpy(b, jtr, sizeof b);
            for (int k = 0; k < 4; k++) a[k][k] += lambda * (jtj[k][k] + 1e-12);
            if (!solve4(a, b, dq)) {
                lambda *= 10;
                continue;
            }
            double qn[4];
            for (int k = 0; k < 4; k++) qn[k] = q[k] + dq[k];
            qn[1] = fmax(-lim, fmin(lim, qn[1]));
            qn[2] = fmax(-lim, fmin(lim, qn[2]));
            double cn = pose_cost(qn, xc, uc, NULL);
            if (cn < cost) {
                double rel = (cost - cn) / (cost + 1e-30);
                memcpy(q, qn, sizeof q);
                cost = cn;
                lambda = fmax(lambda / 10, 1e-9);
                improved = 1;
                if (rel < 1e-10) it = 50;
            } else {
                lambda *= 10;
            }
        }
        if (!improved) break;
    }
    *yaw = (float)(q[1] / DEG);
    *pitch = (float)(q[2] / DEG);
    *roll = (float)(remainder(q[3], 2 * M_PI) / DEG);
    return LFR_OK;
}

static void fill_quality(lfr_face *f, const lfr_image *im) {
    float ex = f->lm[1][0] - f->lm[0][0], ey = f->lm[1][1] - f->lm[0][1];
    f->q.eye_dist = sqrtf(ex * ex + ey * ey);
    /* A local copy: GCC 12's -Wstringop-overflow misreads the face array
     * behind f->lm when fill_quality is inlined (-O1, sanitizers). */
    float lm[5][2], yaw, pitch, roll;
    memcpy(lm, f->lm, sizeof lm);
    if (lfr_face_pose(lm, &yaw, &pitch, &roll) == LFR_OK)
        f->q.yaw = yaw, f->q.pitch = pitch, f->q.roll = roll;
    else
        f->q.yaw = f->q.pitch = 0, f->q.roll = atan2f(ey, ex) * 180.0f / (float)M_PI;
    f->q.at_edge = f->box[0] <= 0 || f->box[1] <= 0 || f->box[0] + f->box[2] >= im->w ||
                   f->box[1] + f->box[3] >= im->h;
}

/* One detection pass over `im`: RFB, then O-Net, faces in `im`'s pixels
 * written to out[] (capacity MAX_CANDIDATES), quality not filled.  Returns
 * the count, or -1 with *st set.  Faces smaller than min_side are dropped.
 * edge (may be NULL) receives up to EDGE_CANDS RFB candidates (x1 y1 x2
 * y2, frame pixels) at least p->pad_min_face of the image's short side
 * that come within p->pad_near of their own side of an edge: faces that
 * may be cut by the frame (the padding trigger), *n_edge their count. */
#define EDGE_CANDS 8
static int refine(lfr_face_ctx *c, const lfr_image *im, const lfr_face_params *p, int n,
                  float min_side, lfr_face *outf, float edge[][4], int *n_edge, lfr_err *err,
                  lfr_status *st);
static int detect_pass(lfr_face_ctx *c, const lfr_image *im, const lfr_face_params *p,
                       float min_side, lfr_face *outf, float edge[][4], int *n_edge,
                       lfr_err *err, lfr_status *st) {
    int n = run_rfb(c, im, p, err, st);
    if (n < 0) return -1;
    return refine(c, im, p, n, min_side, outf, edge, n_edge, err, st);
}

/* detect_pass after RFB: the n candidates in c->cand (working px). */
static int refine(lfr_face_ctx *c, const lfr_image *im, const lfr_face_params *p, int n,
                  float min_side, lfr_face *outf, float edge[][4], int *n_edge, lfr_err *err,
                  lfr_status *st) {
    if (edge) {
        *n_edge = 0;
        float shortest = (float)(im->w < im->h ? im->w : im->h);
        for (int i = 0; i < n && *n_edge < EDGE_CANDS; i++) {
            const float *cd = c->cand + i * 5;
            float x1 = cd[0] * c->sx, y1 = cd[1] * c->sy, x2 = cd[2] * c->sx, y2 = cd[3] * c->sy;
            float side = fmaxf(x2 - x1, y2 - y1), m = p->pad_near * side;
            if (side >= p->pad_min_face * shortest &&
                (x1 <= m || y1 <= m || x2 >= im->w - m || y2 >= im->h - m)) {
                float *e = edge[(*n_edge)++];
                e[0] = x1, e[1] = y1, e[2] = x2, e[3] = y2;
            }
        }
    }
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
            *st = batch_ctx(&c->onet[bn], on->m, bn, 48, &onet, err);
            if (*st != LFR_OK) return -1;
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
            *st = lfr_nn_ctx_run(onet);
            if (*st != LFR_OK) return -1;
            prob = lfr_nn_ctx_output(onet, 0, NULL);
            reg = lfr_nn_ctx_output(onet, 1, NULL);
            lm = lfr_nn_ctx_output(onet, 2, NULL);
        }
        for (int k = 0; k < bn; k++) {
            const float *cd = c->cand + (b0 + k) * 5;
            lfr_face *f = &outf[out];
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
            if (fmaxf(f->box[2], f->box[3]) < min_side) continue;
            out++;
        }
    }
    return out;
}

/* The padded frame for the second pass, at the first pass's working size
 * (c->work: the detector plan is reused, never a new size planned): `im`
 * resized to 1 / (1 + 2 pad) of it, centred, on a border of grey level
 * p->pad_grey (edge pixels replicated when < 0), into c->padded.  Frame
 * pixel = (padded pixel - o) * k, per axis. */
static lfr_status make_padded(lfr_face_ctx *c, const lfr_image *im, const lfr_face_params *p,
                              float k[2], float o[2]) {
    int dw = c->work.w, dh = c->work.h;
    int iw = (int)lroundf((float)dw / (1 + 2 * p->pad)), ih = (int)lroundf((float)dh / (1 + 2 * p->pad));
    if (iw < 1) iw = 1;
    if (ih < 1) ih = 1;
    int ox = (dw - iw) / 2, oy = (dh - ih) / 2;
    lfr_image small = {0};
    lfr_status st = lfr_image_resize(im, iw, ih, &small);
    if (st != LFR_OK) return st;
    lfr_image_free(&c->padded);
    if (p->pad_grey < 0) {
        st = lfr_image_crop(&small, -ox, -oy, dw, dh, &c->padded);
    } else {
        st = lfr_image_alloc(&c->padded, dw, dh);
        if (st == LFR_OK) {
            memset(c->padded.px, p->pad_grey > 255 ? 255 : p->pad_grey, (size_t)dw * dh * 3);
            for (int y = 0; y < ih; y++)
                memcpy(c->padded.px + ((size_t)(y + oy) * dw + ox) * 3,
                       small.px + (size_t)y * iw * 3, (size_t)iw * 3);
        }
    }
    lfr_image_free(&small);
    k[0] = (float)im->w / (float)iw;
    k[1] = (float)im->h / (float)ih;
    o[0] = (float)ox;
    o[1] = (float)oy;
    return st;
}

/* Quality and border of the out faces in c->faces, sorted largest first,
 * at most p->max_faces: their count. */
static int finish(lfr_face_ctx *c, const lfr_image *im, const lfr_face_params *p, int out) {
    for (int i = 0; i < out; i++) {
        fill_quality(&c->faces[i], im);
        c->faces[i].on_border = p->crop_fill >= 0;
        c->faces[i].border_grey = p->crop_fill > 255 ? 255 : p->crop_fill;
    }
    qsort(c->faces, (size_t)out, sizeof *c->faces, cmp_face_area);
    return out > p->max_faces ? p->max_faces : out;
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
    float edge[EDGE_CANDS][4];
    int n_edge = 0, trigger = 0;
    int out = detect_pass(c, im, p, p->min_face, c->faces, edge, &n_edge, err, &st);
    if (out < 0) return st;
    /* The trigger: a big candidate at the edge that the first pass did not
     * turn into a face (O-Net rejected what it saw of it). */
    for (int e = 0; e < n_edge && !trigger; e++) {
        int seen = 0;
        for (int i = 0; i < out && !seen; i++) {
            const float *b = c->faces[i].box;
            float fb[4] = {b[0], b[1], b[0] + b[2], b[1] + b[3]};
            seen = iou(fb, edge[e]) > p->nms_iou;
        }
        trigger = !seen;
    }
    if (p->pad > 0 && (p->pad_policy == LFR_FACE_PAD_ALWAYS ||
                       (p->pad_policy == LFR_FACE_PAD_AT_EDGE && trigger))) {
        /* Second pass on the padded frame (docs/quality.md). */
        float k[2], o[2];
        st = make_padded(c, im, p, k, o);
        if (st != LFR_OK) return lfr_err_set(err, st, "cannot pad the %dx%d image", im->w, im->h);
        int n2 = detect_pass(c, &c->padded, p, 0, c->faces2, NULL, NULL, err, &st);
        if (n2 < 0) return st;
        c->padded_runs++;
        for (int j = 0; j < n2; j++) {
            lfr_face *f = &c->faces2[j];
            f->box[0] = (f->box[0] - o[0]) * k[0], f->box[1] = (f->box[1] - o[1]) * k[1];
            f->box[2] *= k[0], f->box[3] *= k[1];
            for (int q = 0; q < 5; q++)
                f->lm[q][0] = (f->lm[q][0] - o[0]) * k[0], f->lm[q][1] = (f->lm[q][1] - o[1]) * k[1];
        }
        /* Merge: the padded pass adds the faces the first pass did not
         * find; a face both found keeps the first pass's landmarks (full
         * resolution; on tight LFW crops they are as close or closer to
         * the uncropped photo's: docs/quality.md). */
        int n1 = out;
        for (int j = 0; j < n2 && out < MAX_CANDIDATES; j++) {
            const lfr_face *g = &c->faces2[j];
            float gb[4] = {g->box[0], g->box[1], g->box[0] + g->box[2], g->box[1] + g->box[3]};
            int dup = fmaxf(g->box[2], g->box[3]) < p->min_face;
            for (int i = 0; i < n1 && !dup; i++) {
                const float *b = c->faces[i].box;
                float fb[4] = {b[0], b[1], b[0] + b[2], b[1] + b[3]};
                dup = iou(fb, gb) > p->nms_iou;
            }
            if (!dup) c->faces[out++] = *g;
        }
    }
    *nfaces = finish(c, im, p, out);
    return LFR_OK;
}

/* Windows of the working image that detection near known faces may use,
 * smallest first (working px, square).  Two sizes, so with the full frame
 * a camera's ctx holds three plans (RFB_SIZES).  A box needs a window of
 * at least NEAR_CONTEXT times its side: a face's width of context on each
 * side, for the detector's receptive field and the motion until the next
 * full detection.  Windows stop paying when their area passes
 * NEAR_MAX_SHARE of the working image (RFB's time grows with the pixels;
 * each run also has a fixed cost): then the frame is detected in full.
 * Measured in docs/pipeline.md (detect near tracks). */
static const int near_sides[] = {192, 320};
/* Windows start on multiples of the detector's largest stride, so their
 * feature maps and priors fall on the full frame's grid: a window offset
 * by a few pixels sees its faces through differently placed priors, and
 * on small faces that alone changed which ones were found (measured in
 * docs/pipeline.md). */
#define NEAR_ALIGN 64
#define NEAR_CONTEXT 3.0f
/* Boxes at least this big (working px; 96 px in a 1080p frame) are not
 * looked for: windows around them would cost most of a full detection
 * (a 48 px face needs 144 px of window), and a detector run on a smaller
 * image instead placed them differently enough to change the quality
 * gate's decision on 14 % of faces against 1.9 % between two consecutive
 * full detections (docs/pipeline.md).  Such faces are found again by the
 * next full detection; the tracker keeps them meanwhile. */
#define NEAR_BIG 48.0f
#define NEAR_MAX_SHARE 0.5f

/* The window of `side` for a box centred on (cx, cy) whose context is the
 * rectangle l..h (working px): the grid position nearest centred, inside
 * the dw x dh image; 0 when it cannot hold the context. */
static int near_place(int side, float cx, float cy, const float l[2], const float h[2], int dw,
                      int dh, int *x0, int *y0) {
    if (side > dw || side > dh) return 0;
    int xmax = (dw - side) / NEAR_ALIGN * NEAR_ALIGN, ymax = (dh - side) / NEAR_ALIGN * NEAR_ALIGN;
    int x = (int)lroundf((cx - side / 2.0f) / NEAR_ALIGN) * NEAR_ALIGN;
    int y = (int)lroundf((cy - side / 2.0f) / NEAR_ALIGN) * NEAR_ALIGN;
    *x0 = x = x < 0 ? 0 : x > xmax ? xmax : x;
    *y0 = y = y < 0 ? 0 : y > ymax ? ymax : y;
    return l[0] >= x && l[1] >= y && h[0] <= x + side && h[1] <= y + side;
}

lfr_status lfr_face_detect_near(lfr_face_ctx *c, const lfr_image *im, const lfr_face_params *p,
                                const float (*near)[4], int n_near, lfr_face **faces,
                                int *nfaces, int *how, lfr_err *err) {
    *faces = c->faces;
    *nfaces = 0;
    *how = LFR_FACE_NEAR_NONE;
    if (!p) p = &lfr_face_params_default;
    if (!im || !im->px || im->w < 1 || im->h < 1)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "empty image");
    if (n_near <= 0 || !near) return LFR_OK;
    if (n_near > LFR_FACE_MAX_NEAR) {
        *how = LFR_FACE_NEAR_FULL;
        return lfr_face_detect(c, im, p, faces, nfaces, err);
    }
    int dw, dh;
    work_size(im, p, &dw, &dh);
    const float sx = (float)im->w / dw, sy = (float)im->h / dh;
    enum { NS = sizeof near_sides / sizeof near_sides[0] };
    int win[LFR_FACE_MAX_NEAR][3]; /* x0, y0, side */
    int nw = 0, ok = 1;
    long area = 0;
    for (int i = 0; i < n_near && ok; i++) {
        const float *b = near[i];
        float bx = b[0] / sx, by = b[1] / sy, bw = b[2] / sx, bh = b[3] / sy;
        if (!(bw > 0 && bh > 0) || !isfinite(bx) || !isfinite(by) || !isfinite(bw) ||
            !isfinite(bh))
            continue;
        if (fmaxf(bw, bh) >= NEAR_BIG) continue; /* left to the next full detection */
        float need = NEAR_CONTEXT * fmaxf(bw, bh), cx = bx + bw / 2, cy = by + bh / 2;
        /* The box with its context, within the image. */
        float l[2] = {fmaxf(cx - need / 2, 0), fmaxf(cy - need / 2, 0)};
        float h[2] = {fminf(cx + need / 2, (float)dw), fminf(cy + need / 2, (float)dh)};
        int inside = 0;
        for (int k = 0; k < nw && !inside; k++)
            inside = l[0] >= win[k][0] && l[1] >= win[k][1] && h[0] <= win[k][0] + win[k][2] &&
                     h[1] <= win[k][1] + win[k][2];
        if (inside) continue;
        /* The smallest window that holds it (the grid can shift it by up
         * to half NEAR_ALIGN); none: a full detection. */
        int placed = 0, x0 = 0, y0 = 0, side = 0;
        for (int k = 0; k < NS && !placed; k++) {
            side = near_sides[k];
            placed = (float)side >= need && near_place(side, cx, cy, l, h, dw, dh, &x0, &y0);
        }
        if (!placed) {
            ok = 0;
            break;
        }
        win[nw][0] = x0, win[nw][1] = y0, win[nw][2] = side;
        nw++;
        area += (long)side * side;
        if ((float)area > NEAR_MAX_SHARE * (float)dw * (float)dh) ok = 0;
    }
    if (!ok) {
        *how = LFR_FACE_NEAR_FULL;
        return lfr_face_detect(c, im, p, faces, nfaces, err);
    }
    if (!nw) return LFR_OK;
    lfr_status st = rfb_prepare(c, im, p);
    if (st != LFR_OK) return lfr_err_set(err, st, "cannot resize the %dx%d frame", im->w, im->h);
    *how = LFR_FACE_NEAR_WINDOWS;
    int n = 0;
    for (int k = 0; k < nw; k++) {
        n = rfb_window(c, p, &c->work, win[k][0], win[k][1], win[k][2], win[k][2], n, err, &st);
        if (n < 0) return st;
    }
    n = rfb_nms(c, p, n);
    int out = refine(c, im, p, n, p->min_face, c->faces, NULL, NULL, err, &st);
    if (out < 0) return st;
    c->near_runs++;
    *nfaces = finish(c, im, p, out);
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

/* The image the aligned crop of `f` is sampled from.  When the crop reaches
 * past the frame and f->on_border is set (every face lfr_face_detect
 * returns, unless params.crop_fill < 0): the part of the frame under the
 * crop on a constant border of f->border_grey (*canvas, reallocated), m
 * moved to its origin; the embedder was trained on crops whose outside is
 * constant (docs/quality.md: replicated edges raise impostor scores).
 * Otherwise, or if the canvas cannot be made, the frame itself (edges
 * replicate). */
static const lfr_image *on_border(lfr_image *canvas, const lfr_image *im, const lfr_face *f,
                                  float m[6]) {
    enum { S = LFR_FACE_ALIGN_SIZE };
    if (!f->on_border) return im;
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int k = 0; k < 4; k++) {
        float u = (k & 1) ? S : 0, v = (k & 2) ? S : 0;
        float px = m[0] * u + m[1] * v + m[2], py = m[3] * u + m[4] * v + m[5];
        x0 = fminf(x0, px), x1 = fmaxf(x1, px), y0 = fminf(y0, py), y1 = fmaxf(y1, py);
    }
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1)) return im;
    if (x0 >= 0 && y0 >= 0 && x1 <= im->w - 1 && y1 <= im->h - 1) return im;
    /* The canvas spans the crop's footprint, 2 px more for bilinear. */
    float lim = 4.0f * (float)(im->w > im->h ? im->w : im->h);
    if (x1 - x0 > lim || y1 - y0 > lim) return im;
    int cx = (int)floorf(x0) - 2, cy = (int)floorf(y0) - 2;
    int cw = (int)ceilf(x1) + 3 - cx, ch = (int)ceilf(y1) + 3 - cy;
    lfr_image_free(canvas);
    if (lfr_image_alloc(canvas, cw, ch) != LFR_OK) return im;
    memset(canvas->px, f->border_grey & 255, (size_t)cw * ch * 3);
    int ix0 = cx > 0 ? cx : 0, iy0 = cy > 0 ? cy : 0;
    int ix1 = cx + cw < im->w ? cx + cw : im->w, iy1 = cy + ch < im->h ? cy + ch : im->h;
    for (int y = iy0; y < iy1 && ix1 > ix0; y++)
        memcpy(canvas->px + ((size_t)(y - cy) * cw + (ix0 - cx)) * 3,
               im->px + ((size_t)y * im->w + ix0) * 3, (size_t)(ix1 - ix0) * 3);
    m[2] -= (float)cx;
    m[5] -= (float)cy;
    return canvas;
}

lfr_status lfr_face_align(const lfr_image *im, const lfr_face *f, lfr_image *out) {
    lfr_status st = lfr_image_alloc(out, LFR_FACE_ALIGN_SIZE, LFR_FACE_ALIGN_SIZE);
    if (st != LFR_OK) return st;
    float m[6];
    lfr_face_align_matrix(f->lm, m);
    lfr_image canvas = {0};
    lfr_image_warp_affine(on_border(&canvas, im, f, m), m, out);
    lfr_image_free(&canvas);
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

/* Runs an embedder on its planned batch of n and writes each output row
 * (dim wide) L2-normalised, times `gain`, to emb + k * stride. */
static lfr_status run_embedder(lfr_nn_ctx *net, int n, int dim, float gain, float *emb,
                               int stride, lfr_err *err) {
    lfr_status st = lfr_nn_ctx_run(net);
    if (st != LFR_OK) return lfr_err_set(err, st, "embedder failed");
    lfr_nn_shape s;
    const float *o = lfr_nn_ctx_output(net, 0, &s);
    if (s.ndim != 2 || s.d[0] != n || s.d[1] != dim)
        return lfr_err_set(err, LFR_ERR_BAD_MODEL, "embedder output is not [%d,%d]", n, dim);
    for (int k = 0; k < n; k++) {
        const float *ok = o + (size_t)k * dim;
        double ss = 0;
        for (int d = 0; d < dim; d++) ss += (double)ok[d] * ok[d];
        float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0;
        for (int d = 0; d < dim; d++) emb[(size_t)k * stride + d] = ok[d] * inv * gain;
    }
    return LFR_OK;
}

static lfr_status run_mfn(lfr_nn_ctx *mfn, int n, float *emb, lfr_err *err) {
    return run_embedder(mfn, n, LFR_FACE_EMB_DIM, 1.0f, emb, LFR_FACE_EMB_DIM, err);
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
            const lfr_image *src = on_border(&c->canvas, im, &faces[b0 + k], m);
            lfr_image_warp_affine_f32(src, m, S, S, ni->mean, ni->scale, 0, xi);
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

/* Model sets ----------------------------------------------------------------- */

static const struct {
    const char *name;
    int dim;
} model_sets[LFR_FACE_MODEL_SET_COUNT] = {
#define LFR_FACE_MODEL_SET_ROW(id, name, dim, what) {name, dim},
    LFR_FACE_MODEL_SET_LIST(LFR_FACE_MODEL_SET_ROW)
#undef LFR_FACE_MODEL_SET_ROW
};

const char *lfr_face_model_set_name(lfr_face_model_set m) {
    return (unsigned)m < LFR_FACE_MODEL_SET_COUNT ? model_sets[m].name : NULL;
}

int lfr_face_model_set_dim(lfr_face_model_set m) {
    return (unsigned)m < LFR_FACE_MODEL_SET_COUNT ? model_sets[m].dim : 0;
}

lfr_status lfr_face_model_set_parse(const char *name, lfr_face_model_set *out) {
    for (int i = 0; name && i < LFR_FACE_MODEL_SET_COUNT; i++)
        if (strcmp(name, model_sets[i].name) == 0) {
            *out = (lfr_face_model_set)i;
            return LFR_OK;
        }
    return LFR_ERR_INVALID_ARG;
}

int lfr_face_engine_has_model_set(const lfr_face_engine *e, lfr_face_model_set m) {
    switch (m) {
    case LFR_FACE_MODEL_MFN192: return e && e->mfn.m != NULL;
    case LFR_FACE_MODEL_FUSED704:
    case LFR_FACE_MODEL_FUSED704V2: return e && e->mfn.m != NULL && e->mfn512.m != NULL;
    case LFR_FACE_MODEL_FUSED704V3:
        return e && e->mfn.m != NULL && e->mfn512.m != NULL && e->lm68.m != NULL;
    default: return 0;
    }
}

/* FUSED704V3's landmarks (docs/embedders.md, "Landmarks"): the 68-point
 * network (lm68.lfrm, faceplugin fr_landmark.onnx) on the grey 64x64 resize
 * of the detector's box scaled LM68_BOX about its centre and clipped to the
 * frame; its five points (below) averaged with O-Net's.  A face whose
 * clipped box is under LM68_MIN_SIDE pixels keeps O-Net's. */
#define LM68_BOX 1.1f
#define LM68_SIDE 64
#define LM68_MIN_SIDE 8.0f

/* The five points of the 68 (faceplugin's convert68pts5pts), in the order
 * of lfr_face.lm: each eye's centre is the mean of its four lid points,
 * the nose tip, each mouth corner the mean of the outer and inner lip
 * corner. */
static const struct {
    int n, idx[4];
} lm68_five[5] = {{4, {37, 38, 40, 41}}, {4, {43, 44, 46, 47}}, {1, {30, 0, 0, 0}},
                  {2, {48, 60, 0, 0}},   {2, {54, 64, 0, 0}}};

static lfr_status refine_landmarks(lfr_face_ctx *c, const lfr_image *im, lfr_face *f, int n,
                                   lfr_err *err) {
    enum { S = LM68_SIDE };
    const net_info *ni = &c->e->lm68;
    lfr_nn_ctx *net;
    lfr_status st = batch_ctx(&c->lm68[n], ni->m, n, S, &net, err);
    if (st != LFR_OK) return st;
    float *x = lfr_nn_ctx_input(net, 0, NULL);
    float r[MFN_BATCH][4], rgb[S * S * 3];
    for (int k = 0; k < n; k++) {
        float w = f[k].box[2] * LM68_BOX, h = f[k].box[3] * LM68_BOX;
        float cx = f[k].box[0] + f[k].box[2] / 2, cy = f[k].box[1] + f[k].box[3] / 2;
        float x0 = fmaxf(0.0f, cx - w / 2), y0 = fmaxf(0.0f, cy - h / 2);
        float x1 = fminf((float)im->w - 1, cx + w / 2), y1 = fminf((float)im->h - 1, cy + h / 2);
        r[k][0] = x0, r[k][1] = y0, r[k][2] = x1 - x0, r[k][3] = y1 - y0;
        float *xk = x + (size_t)k * S * S;
        if (!(r[k][2] >= LM68_MIN_SIDE && r[k][3] >= LM68_MIN_SIDE)) {
            memset(xk, 0, (size_t)S * S * sizeof *xk);
            continue;
        }
        lfr_image_resize_f32(im, x0, y0, r[k][2], r[k][3], S, S, 0.0f, 1.0f, 0, rgb);
        for (int i = 0; i < S * S; i++)
            xk[i] = (0.299f * rgb[3 * i] + 0.587f * rgb[3 * i + 1] + 0.114f * rgb[3 * i + 2] -
                     ni->mean) * ni->scale;
    }
    if ((st = lfr_nn_ctx_run(net)) != LFR_OK) return lfr_err_set(err, st, "landmark network failed");
    lfr_nn_shape sh;
    const float *o = lfr_nn_ctx_output(net, 0, &sh);
    if (sh.ndim != 2 || sh.d[0] != n || sh.d[1] != 136)
        return lfr_err_set(err, LFR_ERR_BAD_MODEL, "landmark output is not [%d,136]", n);
    for (int k = 0; k < n; k++) {
        if (!(r[k][2] >= LM68_MIN_SIDE && r[k][3] >= LM68_MIN_SIDE)) continue;
        const float *ok = o + (size_t)k * 136;
        for (int q = 0; q < 5; q++) {
            float px = 0, py = 0;
            for (int j = 0; j < lm68_five[q].n; j++) {
                px += ok[2 * lm68_five[q].idx[j]];
                py += ok[2 * lm68_five[q].idx[j] + 1];
            }
            px = r[k][0] + px / lm68_five[q].n * r[k][2];
            py = r[k][1] + py / lm68_five[q].n * r[k][3];
            if (!isfinite(px) || !isfinite(py)) continue;
            f[k].lm[q][0] = 0.5f * (f[k].lm[q][0] + px);
            f[k].lm[q][1] = 0.5f * (f[k].lm[q][1] + py);
        }
    }
    return LFR_OK;
}

/* FUSED704 and FUSED704V2: per batch of MFN_BATCH faces, the 192 part is
 * lfr_face_embed on the same batch (so the same plan and the same
 * numbers), the 512 part the 512-d network on the same aligned crop (same
 * matrix, same on_border fill), normalised as that network wants, its
 * channels in RGB order (FUSED704, as faceplugin's JS) or BGR (bgr: as the
 * network was trained, FUSED704V2); each part L2-normalised and scaled by
 * 1/sqrt(2). */
static lfr_status embed_fused(lfr_face_ctx *c, const lfr_image *im, lfr_face *faces, int n,
                              int bgr, int refine, float *emb, lfr_err *err) {
    enum { S = LFR_FACE_ALIGN_SIZE, D = LFR_FACE_EMB_DIM + MFN512_DIM };
    const net_info *ni = &c->e->mfn512;
    const float gain = (float)(1.0 / sqrt(2.0));
    float e192[MFN_BATCH * LFR_FACE_EMB_DIM];
    for (int b0 = 0; b0 < n; b0 += MFN_BATCH) {
        int bn = n - b0 < MFN_BATCH ? n - b0 : MFN_BATCH;
        lfr_face own[MFN_BATCH], *fb = faces + b0;
        lfr_status st;
        if (refine) {   /* the batch's faces with FUSED704V3's landmarks */
            memcpy(own, fb, (size_t)bn * sizeof *own);
            if ((st = refine_landmarks(c, im, own, bn, err)) != LFR_OK) return st;
            fb = own;
        }
        if ((st = lfr_face_embed(c, im, fb, bn, e192, err)) != LFR_OK) return st;
        for (int k = 0; refine && k < bn; k++) faces[b0 + k].q.sharpness = own[k].q.sharpness;
        for (int k = 0; k < bn; k++)
            for (int d = 0; d < LFR_FACE_EMB_DIM; d++)
                emb[(size_t)(b0 + k) * D + d] = e192[k * LFR_FACE_EMB_DIM + d] * gain;
        lfr_nn_ctx *net;
        if ((st = batch_ctx(&c->mfn512[bn], ni->m, bn, S, &net, err)) != LFR_OK) return st;
        float *x = lfr_nn_ctx_input(net, 0, NULL);
        for (int k = 0; k < bn; k++) {
            float m[6];
            lfr_face_align_matrix(fb[k].lm, m);
            const lfr_image *src = on_border(&c->canvas, im, &fb[k], m);
            float *xk = x + (size_t)k * S * S * 3;
            lfr_image_warp_affine_f32(src, m, S, S, ni->mean, ni->scale, 0, xk);
            for (int i = 0; bgr && i < S * S; i++) {
                float r = xk[3 * i];
                xk[3 * i] = xk[3 * i + 2], xk[3 * i + 2] = r;
            }
        }
        st = run_embedder(net, bn, MFN512_DIM, gain, emb + (size_t)b0 * D + LFR_FACE_EMB_DIM, D,
                          err);
        if (st != LFR_OK) return st;
    }
    return LFR_OK;
}

lfr_status lfr_face_embed_set(lfr_face_ctx *c, const lfr_image *im, lfr_face *faces, int n,
                              lfr_face_model_set m, float *emb, lfr_err *err) {
    if ((unsigned)m >= LFR_FACE_MODEL_SET_COUNT)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "model set %d is not one of %d",
                           (int)m, (int)LFR_FACE_MODEL_SET_COUNT);
    if (!lfr_face_engine_has_model_set(c->e, m))
        return lfr_err_set(err, LFR_ERR_UNSUPPORTED,
                           "model set %s: the engine has no %s (run tools/setup.sh models)",
                           lfr_face_model_set_name(m),
                           m == LFR_FACE_MODEL_FUSED704V3 ? "mfn512.lfrm or lm68.lfrm"
                           : m != LFR_FACE_MODEL_MFN192  ? "mfn512.lfrm"
                                                         : "embedder");
    if (m == LFR_FACE_MODEL_MFN192) return lfr_face_embed(c, im, faces, n, emb, err);
    return embed_fused(c, im, faces, n, m != LFR_FACE_MODEL_FUSED704,
                       m == LFR_FACE_MODEL_FUSED704V3, emb, err);
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
