/*
 * convert.c - ONNX/TFLite graphs -> lfr_nn_graph: the arch table, the
 * rewrites and pattern folds.  See convert.h.
 */
#include "convert.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The arch table ---------------------------------------------------------- */

static const lfr_cv_arch arch_table[] = {
    /* RFB-320 (faceplugin fr_detect.onnx): cut at the raw heads; 'scores'
     * is the Softmax of '461' (class Concat), '462' the box Concat. */
    {"rfb", LFR_CV_ONNX, "127", "0.0078125", "NHWC RGB", "0", 320, 240, 0, 2,
     {"scores", "boxes"}, {"scores", "462"}, {0}},
    /* MTCNN: Caffe weights, so the image is transposed (x <-> y). */
    {"onet", LFR_CV_TFLITE, "127.5", "0.0078125", "NHWC RGB", "1", 48, 48, 1, 3,
     {"prob", "reg", "landmarks"}, {NULL}, {2, 4, 10}},
    {"mobilefacenet", LFR_CV_TFLITE, "127.5", "0.0078125", "NHWC RGB", "0",
     112, 112, 1, 1, {"embeddings"}, {NULL}, {192}},
    {"pnet", LFR_CV_TFLITE, "127.5", "0.0078125", "NHWC RGB", "1", 12, 12, 0, 2,
     {"prob", "reg"}, {NULL}, {2, 4}},
    {"rnet", LFR_CV_TFLITE, "127.5", "0.0078125", "NHWC RGB", "1", 24, 24, 1, 2,
     {"prob", "reg"}, {NULL}, {2, 4}},
    /* MobileFaceNet 512-d (faceplugin fr_feature.onnx): BatchNorm already
     * folded into the convolutions; Conv/PRelu/Add, a 7x7 depthwise GDC,
     * a 1x1 Conv to 512 and Reshape [1,-1].  Normalised (x - 127) / 128
     * (lib/fr_feature.js), ArcFace template; BGR, the order it was trained
     * on (lib/fr_feature.js feeds RGB, which model set fused704 keeps;
     * docs/embedders.md "Channel order"). */
    {"mfn512", LFR_CV_ONNX, "127", "0.0078125", "NHWC BGR", "0", 112, 112, 1, 1,
     {"embeddings"}, {NULL}, {0}},
    /* 68-point landmarks (faceplugin fr_landmark.onnx): a 64x64 grey crop
     * of the detector's box scaled to [0, 1) (x / 256, lib/fr_landmark.js),
     * Conv/Relu/Add, Flatten, Gemm and a BatchNormalization folded into
     * it; out [N,136]: x0, y0, x1, y1... as fractions of the crop. */
    {"lm68", LFR_CV_ONNX, "0", "0.00390625", "NHWC GREY", "0", 64, 64, 1, 1,
     {"landmarks"}, {NULL}, {0}},
};
#define N_ARCH ((int)(sizeof arch_table / sizeof arch_table[0]))

const lfr_cv_arch *lfr_cv_arch_find(const char *arch) {
    if (!arch) return NULL;
    for (int i = 0; i < N_ARCH; i++)
        if (strcmp(arch_table[i].name, arch) == 0) return &arch_table[i];
    return NULL;
}

const lfr_cv_arch *lfr_cv_arch_at(int i) {
    return i >= 0 && i < N_ARCH ? &arch_table[i] : NULL;
}

/* Shared emission helpers ------------------------------------------------- */

typedef struct cv {
    lfr_nn_graph *g;
    lfr_err *err;
    const lfr_cv_arch *arch;
    int src_ops, fused_relu, dropped, prelu_neg, prelu_abs, softmax;
} cv;

static lfr_status gfail(cv *c, lfr_status st, const char *what) {
    return lfr_err_set(c->err, st, "convert: graph builder refused %s (%s)",
                       what, lfr_status_message(st));
}

static void make_name(char *dst, lfr_cv_str s, const char *fallback, int idx) {
    lfr_cv_str_copy(dst, LFR_MAX_NAME, s);
    if (dst[0] == '\0') snprintf(dst, LFR_MAX_NAME, "%s_%d", fallback, idx);
}

static lfr_status add_value(cv *c, const char *name, int32_t ndim,
                            const int32_t *dims, int32_t *id) {
    lfr_nn_shape sh;
    memset(&sh, 0, sizeof sh);
    sh.ndim = ndim;
    for (int i = 0; i < ndim && i < LFR_NN_MAX_DIMS; i++)
        sh.d[i] = dims ? dims[i] : 0;
    lfr_status st = lfr_nn_graph_add_tensor(c->g, name, &sh, NULL, id);
    return st == LFR_OK ? st : gfail(c, st, "a value tensor");
}

static lfr_status add_const(cv *c, const char *name, int32_t ndim,
                            const int32_t *dims, const float *data,
                            int32_t *id) {
    lfr_nn_shape sh;
    memset(&sh, 0, sizeof sh);
    sh.ndim = ndim;
    for (int i = 0; i < ndim; i++) sh.d[i] = dims[i];
    lfr_status st = lfr_nn_graph_add_tensor(c->g, name, &sh, data, id);
    return st == LFR_OK ? st : gfail(c, st, "a constant tensor");
}

static lfr_status add_node(cv *c, int32_t op, const int32_t *in, int32_t n_in,
                           int32_t out, const int32_t *p) {
    lfr_nn_node n;
    memset(&n, 0, sizeof n);
    n.op = op;
    n.n_in = n_in;
    for (int i = 0; i < n_in; i++) n.in[i] = in[i];
    n.out = out;
    if (p) memcpy(n.p, p, sizeof n.p);
    lfr_status st = lfr_nn_graph_add_node(c->g, &n);
    return st == LFR_OK ? st : gfail(c, st, "a node");
}

static int fits_param(int64_t v, int64_t lo, int64_t hi) {
    return v >= lo && v <= hi;
}

/* Bias of `n` zeros (for convolutions and FCs without one). */
static lfr_status zero_bias(cv *c, const char *base, int32_t n, int32_t *id) {
    float *z = lfr_calloc((size_t)n, sizeof *z);
    if (!z) return lfr_err_set(c->err, LFR_ERR_NOMEM, "convert: out of memory");
    char name[LFR_MAX_NAME];
    snprintf(name, sizeof name, "%.100s.zero_bias", base);
    int32_t dims[1] = {n};
    lfr_status st = add_const(c, name, 1, dims, z, id);
    lfr_free(z);
    return st;
}

/* ======================================================================= */
/* ONNX                                                                    */
/* ======================================================================= */

enum { OV_NONE = 0, OV_ACT, OV_CONST, OV_SHAPE };

typedef struct oval {
    lfr_cv_str name;
    int32_t kind;
    int32_t gid;            /* OV_ACT: graph tensor */
    int32_t rank;           /* ONNX rank */
    int32_t nchw;           /* rank 4 in ONNX NCHW, stored NHWC */
    int32_t chans;          /* channels (ONNX dim 1 / our last), 0 unknown */
    int32_t hw[2];          /* rank 4: spatial size at the arch's nominal
                               input size (fixed_size rows), 0 unknown */
    int32_t flat;           /* 1: ONNX Flatten of an NCHW value, stored as
                               it was (NHWC element order, chans and hw
                               kept); only ox_gemm may read it */
    const lfr_onnx_tensor *t;       /* OV_CONST */
    int32_t n_sv;                   /* OV_SHAPE: element count */
    int64_t sv[LFR_MAX_CONVERT_DIMS];   /* value, or axis when symbolic */
    int32_t ssrc[LFR_MAX_CONVERT_DIMS]; /* -1 concrete, else source gid */
    int32_t snchw[LFR_MAX_CONVERT_DIMS];/* source was NCHW-stored */
    int32_t producer;
    int32_t uses, last_user;
    int32_t out_idx;
} oval;

typedef struct ox {
    cv *c;
    const lfr_onnx_model *m;
    oval *v;
    int32_t nv, capv;
    int32_t *hash;          /* value ids, -1 empty */
    uint32_t hmask;
    uint8_t *needed, *done;
    int64_t in_batch;       /* the source input's declared batch, 0 unknown */
} ox;

static uint32_t str_hash(lfr_cv_str s) {
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < s.len; i++) h = (h ^ (uint8_t)s.p[i]) * 16777619u;
    return h;
}

static int str_same(lfr_cv_str a, lfr_cv_str b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static int32_t ox_find(const ox *o, lfr_cv_str s) {
    for (uint32_t h = str_hash(s) & o->hmask;; h = (h + 1) & o->hmask) {
        int32_t id = o->hash[h];
        if (id < 0) return -1;
        if (str_same(o->v[id].name, s)) return id;
    }
}

/* Finds or creates the value named s (never fails: capacity is exact). */
static int32_t ox_get(ox *o, lfr_cv_str s) {
    uint32_t h = str_hash(s) & o->hmask;
    for (;; h = (h + 1) & o->hmask) {
        int32_t id = o->hash[h];
        if (id < 0) break;
        if (str_same(o->v[id].name, s)) return id;
    }
    int32_t id = o->nv++;
    oval *v = &o->v[id];
    memset(v, 0, sizeof *v);
    v->name = s;
    v->gid = -1;
    v->producer = -1;
    v->last_user = -1;
    v->out_idx = -1;
    o->hash[h] = id;
    return id;
}

static lfr_status ox_unsupported(ox *o, const lfr_onnx_node *n, const char *why) {
    char op[48], name[64];
    lfr_cv_str_copy(op, sizeof op, n->op_type);
    lfr_cv_str_copy(name, sizeof name, n->name.len ? n->name : n->out[0]);
    return lfr_err_set(o->c->err, LFR_ERR_UNSUPPORTED,
                       "ONNX: %s node '%s': %s", op, name, why);
}

/* Input k of node n as a value, or NULL if absent. */
static oval *ox_in(ox *o, const lfr_onnx_node *n, int k) {
    if (k >= n->n_in || n->in[k].len == 0) return NULL;
    int32_t id = ox_find(o, n->in[k]);
    return id < 0 ? NULL : &o->v[id];
}

static int64_t attr_int(const ox *o, const lfr_onnx_node *n, const char *name,
                        int64_t def, int *bad) {
    const lfr_onnx_attr *a = lfr_onnx_attr_find(o->m, n, name);
    if (!a) return def;
    if (a->type != LFR_ONNX_ATTR_INT) *bad = 1;
    return a->i;
}

/* An INTS attribute of exactly `want` values into out (default if absent). */
static int attr_ints(const ox *o, const lfr_onnx_node *n, const char *name,
                     int want, int64_t *out) {
    const lfr_onnx_attr *a = lfr_onnx_attr_find(o->m, n, name);
    if (!a) return 0;
    if (a->type != LFR_ONNX_ATTR_INTS || a->n_ints != want) return -1;
    for (int i = 0; i < want; i++) out[i] = a->ints[i];
    return 1;
}

/* Creates the graph tensor for a node output value (as activation). */
static lfr_status ox_define(ox *o, oval *out, int32_t rank, int32_t nchw,
                            int32_t chans) {
    char name[LFR_MAX_NAME];
    if (out->out_idx >= 0)
        snprintf(name, sizeof name, "%s", o->c->arch->out_names[out->out_idx]);
    else
        make_name(name, out->name, "onnx", (int)(out - o->v));
    int32_t id;
    int32_t r = rank > LFR_NN_MAX_DIMS ? LFR_NN_MAX_DIMS : rank;
    lfr_status st = add_value(o->c, name, r, NULL, &id);
    if (st != LFR_OK) return st;
    out->kind = OV_ACT;
    out->gid = id;
    out->rank = rank;
    out->nchw = nchw;
    out->chans = chans;
    return LFR_OK;
}

static lfr_status ox_alias(ox *o, const lfr_onnx_node *n, oval *out,
                           const oval *x, int32_t nchw) {
    if (out->out_idx >= 0)
        return ox_unsupported(o, n, "a graph output may not be an identity");
    out->kind = OV_ACT;
    out->gid = x->gid;
    out->rank = x->rank;
    out->nchw = nchw;
    out->chans = x->chans;
    out->hw[0] = x->hw[0];
    out->hw[1] = x->hw[1];
    o->c->dropped++;
    return LFR_OK;
}

/* The nominal output side of a window op, 0 when the input's is unknown. */
static int32_t win_out(int32_t in, int64_t k, int64_t s, int64_t d, int64_t p0,
                       int64_t p1) {
    if (in <= 0) return 0;
    int64_t span = in + p0 + p1 - d * (k - 1) - 1;
    return span < 0 ? 0 : (int32_t)(span / s + 1);
}

/* If the only user of `out` is a Relu, returns that node's index. */
static int32_t ox_sole_relu(ox *o, const oval *out) {
    if (out->uses != 1 || out->out_idx >= 0 || out->last_user < 0) return -1;
    const lfr_onnx_node *u = &o->m->nodes[out->last_user];
    if (!lfr_cv_str_eq(u->op_type, "Relu") || u->n_out != 1) return -1;
    return out->last_user;
}

/* The value a node writes, fusing a following Relu: returns the value to
 * define and sets *act. */
static oval *ox_fuse_out(ox *o, const lfr_onnx_node *n, int32_t *act) {
    oval *out = &o->v[ox_find(o, n->out[0])];
    *act = LFR_NN_ACT_NONE;
    int32_t r = ox_sole_relu(o, out);
    if (r < 0) return out;
    o->done[r] = 1;
    o->c->fused_relu++;
    out->kind = OV_ACT;       /* the pre-activation value is never read */
    *act = LFR_NN_ACT_RELU;
    return &o->v[ox_find(o, o->m->nodes[r].out[0])];
}

static lfr_status ox_conv(ox *o, const lfr_onnx_node *n) {
    oval *x = ox_in(o, n, 0), *w = ox_in(o, n, 1), *b = ox_in(o, n, 2);
    if (!x || x->kind != OV_ACT || x->rank != 4 || !x->nchw)
        return ox_unsupported(o, n, "input is not an NCHW activation");
    if (!w || w->kind != OV_CONST || w->t->data_type != LFR_ONNX_FLOAT ||
        w->t->ndim != 4)
        return ox_unsupported(o, n, "weights are not a rank-4 float constant");
    const lfr_onnx_tensor *wt = w->t;
    int64_t co = wt->dims[0], cg = wt->dims[1], kh = wt->dims[2], kw = wt->dims[3];
    int bad = 0;
    int64_t group = attr_int(o, n, "group", 1, &bad);
    int64_t ks[2] = {kh, kw}, st2[2] = {1, 1}, dl[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
    if (bad || attr_ints(o, n, "kernel_shape", 2, ks) < 0 ||
        attr_ints(o, n, "strides", 2, st2) < 0 ||
        attr_ints(o, n, "dilations", 2, dl) < 0 ||
        attr_ints(o, n, "pads", 4, pads) < 0)
        return ox_unsupported(o, n, "malformed attributes");
    const lfr_onnx_attr *ap = lfr_onnx_attr_find(o->m, n, "auto_pad");
    if (ap && !lfr_cv_str_eq(ap->s, "NOTSET"))
        return ox_unsupported(o, n, "auto_pad is not supported");
    if (ks[0] != kh || ks[1] != kw)
        return ox_unsupported(o, n, "kernel_shape does not match the weights");
    if (!fits_param(co, 1, LFR_MAX_TENSOR_ELEMS) || !fits_param(cg, 1, 1 << 20) ||
        !fits_param(kh, 1, LFR_MAX_NET_SIDE) || !fits_param(kw, 1, LFR_MAX_NET_SIDE) ||
        !fits_param(group, 1, 1 << 20) || co % group != 0)
        return ox_unsupported(o, n, "weights/group out of range");
    if (x->chans && cg * group != x->chans)
        return ox_unsupported(o, n, "weights do not match the input channels");
    for (int i = 0; i < 2; i++)
        if (!fits_param(st2[i], 1, LFR_MAX_NET_SIDE) ||
            !fits_param(dl[i], 1, LFR_MAX_NET_SIDE))
            return ox_unsupported(o, n, "stride or dilation out of range");
    for (int i = 0; i < 4; i++)
        if (!fits_param(pads[i], 0, LFR_MAX_NET_SIDE))
            return ox_unsupported(o, n, "pad out of range");
    if (b && (b->kind != OV_CONST || b->t->data_type != LFR_ONNX_FLOAT ||
              b->t->count != (size_t)co))
        return ox_unsupported(o, n, "bias is not a float constant [Co]");
    if (!b && n->n_in > 2 && n->in[2].len)
        return ox_unsupported(o, n, "bias is not defined");

    /* [Co, Cg, kh, kw] -> [Co, kh, kw, Cg] */
    float *tw = lfr_malloc(wt->count * sizeof *tw);
    if (!tw) return lfr_err_set(o->c->err, LFR_ERR_NOMEM, "convert: out of memory");
    for (int64_t oc = 0; oc < co; oc++)
        for (int64_t ci = 0; ci < cg; ci++)
            for (int64_t y = 0; y < kh; y++)
                for (int64_t xx = 0; xx < kw; xx++)
                    tw[((oc * kh + y) * kw + xx) * cg + ci] =
                        wt->f[((oc * cg + ci) * kh + y) * kw + xx];
    char name[LFR_MAX_NAME];
    make_name(name, wt->name, "conv_w", (int)(w - o->v));
    int32_t wd[4] = {(int32_t)co, (int32_t)kh, (int32_t)kw, (int32_t)cg};
    int32_t ids[3];
    lfr_status st = add_const(o->c, name, 4, wd, tw, &ids[1]);
    lfr_free(tw);
    if (st != LFR_OK) return st;
    if (b) {
        make_name(name, b->t->name, "conv_b", (int)(b - o->v));
        int32_t bd[1] = {(int32_t)co};
        st = add_const(o->c, name, 1, bd, b->t->f, &ids[2]);
    } else {
        st = zero_bias(o->c, name, (int32_t)co, &ids[2]);
    }
    if (st != LFR_OK) return st;
    int32_t act;
    oval *out = ox_fuse_out(o, n, &act);
    if ((st = ox_define(o, out, 4, 1, (int32_t)co)) != LFR_OK) return st;
    out->hw[0] = win_out(x->hw[0], kh, st2[0], dl[0], pads[0], pads[2]);
    out->hw[1] = win_out(x->hw[1], kw, st2[1], dl[1], pads[1], pads[3]);
    ids[0] = x->gid;
    int32_t p[LFR_NN_NPARAMS] = {0};
    p[LFR_NN_P_KH] = (int32_t)kh;
    p[LFR_NN_P_KW] = (int32_t)kw;
    p[LFR_NN_P_SH] = (int32_t)st2[0];
    p[LFR_NN_P_SW] = (int32_t)st2[1];
    p[LFR_NN_P_DH] = (int32_t)dl[0];
    p[LFR_NN_P_DW] = (int32_t)dl[1];
    p[LFR_NN_P_PT] = (int32_t)pads[0];
    p[LFR_NN_P_PL] = (int32_t)pads[1];
    p[LFR_NN_P_PB] = (int32_t)pads[2];
    p[LFR_NN_P_PR] = (int32_t)pads[3];
    p[LFR_NN_P_GROUPS] = (int32_t)group;
    p[LFR_NN_P_ACT] = act;
    return add_node(o->c, LFR_NN_OP_CONV2D, ids, 3, out->gid, p);
}

static lfr_status ox_maxpool(ox *o, const lfr_onnx_node *n) {
    oval *x = ox_in(o, n, 0);
    if (!x || x->kind != OV_ACT || x->rank != 4 || !x->nchw)
        return ox_unsupported(o, n, "input is not an NCHW activation");
    if (n->n_out > 1 && n->out[1].len)
        return ox_unsupported(o, n, "the Indices output is not supported");
    int bad = 0;
    int64_t ks[2] = {0, 0}, st2[2] = {1, 1}, dl[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
    int64_t ceil_mode = attr_int(o, n, "ceil_mode", 0, &bad);
    int64_t order = attr_int(o, n, "storage_order", 0, &bad);
    if (bad || attr_ints(o, n, "kernel_shape", 2, ks) <= 0 ||
        attr_ints(o, n, "strides", 2, st2) < 0 ||
        attr_ints(o, n, "dilations", 2, dl) < 0 ||
        attr_ints(o, n, "pads", 4, pads) < 0 || ceil_mode != 0 || order != 0 ||
        dl[0] != 1 || dl[1] != 1 || lfr_onnx_attr_find(o->m, n, "auto_pad"))
        return ox_unsupported(o, n, "unsupported attributes");
    for (int i = 0; i < 2; i++)
        if (!fits_param(ks[i], 1, LFR_MAX_NET_SIDE) ||
            !fits_param(st2[i], 1, LFR_MAX_NET_SIDE))
            return ox_unsupported(o, n, "kernel or stride out of range");
    for (int i = 0; i < 4; i++)
        if (!fits_param(pads[i], 0, LFR_MAX_NET_SIDE))
            return ox_unsupported(o, n, "pad out of range");
    oval *out = &o->v[ox_find(o, n->out[0])];
    lfr_status st = ox_define(o, out, 4, 1, x->chans);
    if (st != LFR_OK) return st;
    out->hw[0] = win_out(x->hw[0], ks[0], st2[0], 1, pads[0], pads[2]);
    out->hw[1] = win_out(x->hw[1], ks[1], st2[1], 1, pads[1], pads[3]);
    int32_t p[LFR_NN_NPARAMS] = {0};
    p[LFR_NN_P_KH] = (int32_t)ks[0];
    p[LFR_NN_P_KW] = (int32_t)ks[1];
    p[LFR_NN_P_SH] = (int32_t)st2[0];
    p[LFR_NN_P_SW] = (int32_t)st2[1];
    p[LFR_NN_P_PT] = (int32_t)pads[0];
    p[LFR_NN_P_PL] = (int32_t)pads[1];
    p[LFR_NN_P_PB] = (int32_t)pads[2];
    p[LFR_NN_P_PR] = (int32_t)pads[3];
    return add_node(o->c, LFR_NN_OP_MAXPOOL, &x->gid, 1, out->gid, p);
}

/* Reads a value as a shape vector (OV_SHAPE or an int64 constant). */
static int ox_as_shape(const oval *v, oval *tmp) {
    if (!v) return -1;
    if (v->kind == OV_SHAPE) {
        *tmp = *v;
        return 0;
    }
    if (v->kind == OV_CONST && v->t->data_type == LFR_ONNX_INT64 &&
        v->t->ndim <= 1 && v->t->count <= LFR_MAX_CONVERT_DIMS) {
        memset(tmp, 0, sizeof *tmp);
        tmp->kind = OV_SHAPE;
        tmp->rank = v->t->ndim;
        tmp->n_sv = (int32_t)v->t->count;
        for (int32_t i = 0; i < tmp->n_sv; i++) {
            tmp->sv[i] = v->t->i[i];
            tmp->ssrc[i] = -1;
        }
        return 0;
    }
    return -1;
}

static lfr_status ox_shape_ops(ox *o, const lfr_onnx_node *n, int kind) {
    oval *out = &o->v[ox_find(o, n->out[0])];
    oval r;
    memset(&r, 0, sizeof r);
    r.kind = OV_SHAPE;
    if (kind == 0) {                    /* Shape */
        oval *x = ox_in(o, n, 0);
        if (!x || x->kind != OV_ACT || x->rank < 1 || x->rank > LFR_MAX_CONVERT_DIMS)
            return ox_unsupported(o, n, "input is not an activation");
        if (lfr_onnx_attr_find(o->m, n, "start") || lfr_onnx_attr_find(o->m, n, "end"))
            return ox_unsupported(o, n, "start/end are not supported");
        r.rank = 1;
        r.n_sv = x->rank;
        for (int32_t i = 0; i < x->rank; i++) {
            r.sv[i] = i;
            r.ssrc[i] = x->gid;
            r.snchw[i] = x->nchw;
        }
    } else if (kind == 1) {             /* Gather(shape, index), axis 0 */
        oval d, ix;
        int bad = 0;
        if (ox_as_shape(ox_in(o, n, 0), &d) != 0 || d.rank != 1 ||
            ox_as_shape(ox_in(o, n, 1), &ix) != 0 || ix.n_sv != 1 ||
            ix.ssrc[0] != -1 || attr_int(o, n, "axis", 0, &bad) != 0 || bad)
            return ox_unsupported(o, n, "only a constant index into a shape "
                                        "is supported");
        int64_t k = ix.sv[0] < 0 ? ix.sv[0] + d.n_sv : ix.sv[0];
        if (k < 0 || k >= d.n_sv) return ox_unsupported(o, n, "index out of range");
        r.rank = ix.rank;
        r.n_sv = 1;
        r.sv[0] = d.sv[k];
        r.ssrc[0] = d.ssrc[k];
        r.snchw[0] = d.snchw[k];
    } else if (kind == 2) {             /* Unsqueeze(scalar, axes=[0]) */
        oval d, ax;
        int64_t axes[1] = {-1};
        int got = attr_ints(o, n, "axes", 1, axes);
        if (got == 0 && ox_as_shape(ox_in(o, n, 1), &ax) == 0 && ax.n_sv == 1 &&
            ax.ssrc[0] == -1)
            axes[0] = ax.sv[0];
        if (ox_as_shape(ox_in(o, n, 0), &d) != 0 || d.rank != 0 || axes[0] != 0)
            return ox_unsupported(o, n, "only Unsqueeze(scalar, [0]) of a shape "
                                        "value is supported");
        r = d;
        r.rank = 1;
    } else {                            /* Concat of shapes, axis 0 */
        int bad = 0;
        if (attr_int(o, n, "axis", 0, &bad) != 0 || bad)
            return ox_unsupported(o, n, "shape Concat must be on axis 0");
        r.rank = 1;
        for (int32_t k = 0; k < n->n_in; k++) {
            oval d;
            if (ox_as_shape(ox_in(o, n, k), &d) != 0 || d.rank != 1)
                return ox_unsupported(o, n, "mixes shape values and activations");
            if (r.n_sv + d.n_sv > LFR_MAX_CONVERT_DIMS)
                return ox_unsupported(o, n, "shape too long");
            for (int32_t i = 0; i < d.n_sv; i++) {
                r.sv[r.n_sv] = d.sv[i];
                r.ssrc[r.n_sv] = d.ssrc[i];
                r.snchw[r.n_sv] = d.snchw[i];
                r.n_sv++;
            }
        }
    }
    if (out->out_idx >= 0) return ox_unsupported(o, n, "a graph output is a shape");
    r.name = out->name;
    r.producer = out->producer;
    r.uses = out->uses;
    r.last_user = out->last_user;
    r.out_idx = -1;
    r.gid = -1;
    *out = r;
    o->c->dropped++;
    return LFR_OK;
}

/* Reshape of an NCHW [N,C,1,1] value to [N,C] (the embedding head of
 * mfn512): NCHW and NHWC hold the same bytes when the spatial size is 1x1,
 * so this is RESHAPE [0,-1] (the batch copied).  Only when the nominal
 * spatial size is known to be 1x1 (fixed_size arch rows), the shape has two
 * elements, the first copying the batch (Shape of the input, or the source
 * input's declared batch as a literal, as TFLite's reshape rule) and the
 * second -1 or C. */
static lfr_status ox_flatten_1x1(ox *o, const lfr_onnx_node *n, const oval *x,
                                 const oval *s) {
    if (x->hw[0] != 1 || x->hw[1] != 1)
        return ox_unsupported(o, n, "reshaping an NCHW tensor needs a transpose "
                                    "(only a known 1x1 spatial size is taken)");
    int batch_ok = s->n_sv == 2 &&
        ((s->ssrc[0] == x->gid && s->sv[0] == 0) ||
         (s->ssrc[0] == -1 && o->in_batch > 0 && s->sv[0] == o->in_batch));
    int rest_ok = s->n_sv == 2 && s->ssrc[1] == -1 &&
        (s->sv[1] == -1 || (x->chans > 0 && s->sv[1] == x->chans));
    if (!batch_ok || !rest_ok)
        return ox_unsupported(o, n, "only [batch, -1 or C] of an NCHW [N,C,1,1] "
                                    "tensor is supported");
    int32_t p[LFR_NN_NPARAMS] = {0};
    p[LFR_NN_P_NDIM] = 2;
    p[1] = 0;
    p[2] = -1;
    oval *out = &o->v[ox_find(o, n->out[0])];
    lfr_status st = ox_define(o, out, 2, 0, x->chans);
    if (st != LFR_OK) return st;
    return add_node(o->c, LFR_NN_OP_RESHAPE, &x->gid, 1, out->gid, p);
}

static lfr_status ox_reshape(ox *o, const lfr_onnx_node *n) {
    oval *x = ox_in(o, n, 0);
    oval s;
    int bad = 0;
    if (!x || x->kind != OV_ACT)
        return ox_unsupported(o, n, "data is not an activation");
    if (ox_as_shape(ox_in(o, n, 1), &s) != 0 || s.rank != 1 || s.n_sv < 1 ||
        s.n_sv > LFR_NN_MAX_DIMS)
        return ox_unsupported(o, n, "the shape is not computable at conversion "
                                    "time");
    if (attr_int(o, n, "allowzero", 0, &bad) != 0 || bad)
        return ox_unsupported(o, n, "allowzero is not supported");
    if (x->nchw && x->rank == 4) return ox_flatten_1x1(o, n, x, &s);
    int32_t p[LFR_NN_NPARAMS] = {0};
    int neg = 0;
    p[LFR_NN_P_NDIM] = s.n_sv;
    for (int32_t i = 0; i < s.n_sv; i++) {
        if (s.ssrc[i] >= 0) {
            if (s.ssrc[i] != x->gid || s.sv[i] != i || (s.snchw[i] && i != 0))
                return ox_unsupported(o, n, "a shape element depends on the "
                                            "input other than copying a dim");
            p[1 + i] = 0;
        } else {
            if (s.sv[i] < -1 || s.sv[i] > LFR_MAX_TENSOR_ELEMS)
                return ox_unsupported(o, n, "shape element out of range");
            if (s.sv[i] == -1 && neg++)
                return ox_unsupported(o, n, "more than one -1 in the shape");
            p[1 + i] = (int32_t)s.sv[i];
        }
    }
    oval *out = &o->v[ox_find(o, n->out[0])];
    int32_t last = p[s.n_sv] > 0 ? p[s.n_sv] : 0;
    lfr_status st = ox_define(o, out, s.n_sv, 0, last);
    if (st != LFR_OK) return st;
    return add_node(o->c, LFR_NN_OP_RESHAPE, &x->gid, 1, out->gid, p);
}

/* PRelu with a constant per-channel slope: [C], [C,1,1] (NCHW, broadcast
 * over the spatial dims) or [1,C,1,1]; a single slope is repeated. */
static lfr_status ox_prelu(ox *o, const lfr_onnx_node *n) {
    oval *x = ox_in(o, n, 0), *a = ox_in(o, n, 1);
    if (!x || x->kind != OV_ACT || x->chans < 1)
        return ox_unsupported(o, n, "input is not an activation with known "
                                    "channels");
    if (!a || a->kind != OV_CONST || a->t->data_type != LFR_ONNX_FLOAT)
        return ox_unsupported(o, n, "slope is not a float constant");
    const lfr_onnx_tensor *t = a->t;
    int shape_ok = t->count == 1;
    if (t->count == (size_t)x->chans) {
        /* Every dim but the channel dim is 1; the channel dim is the last
         * for a non-NCHW value, dim ndim-3 (ONNX broadcasting from the
         * right over C,H,W) for an NCHW one. */
        int cdim = x->nchw && x->rank == 4 ? t->ndim - 3 : t->ndim - 1;
        shape_ok = cdim >= 0 || (t->ndim == 1 && x->chans == 1);
        for (int32_t k = 0; k < t->ndim && shape_ok; k++)
            if (k != cdim && t->dims[k] != 1) shape_ok = 0;
        if (x->nchw && x->rank == 4 && t->ndim == 1 && x->chans != 1)
            shape_ok = 0;   /* [C] broadcasts over W in NCHW, not C */
    }
    if (!shape_ok)
        return ox_unsupported(o, n, "slope is not per channel ([C,1,1]) or a "
                                    "scalar");
    float *s = lfr_malloc((size_t)x->chans * sizeof *s);
    if (!s) return lfr_err_set(o->c->err, LFR_ERR_NOMEM, "convert: out of memory");
    for (int32_t k = 0; k < x->chans; k++) s[k] = t->f[t->count == 1 ? 0 : k];
    char name[LFR_MAX_NAME];
    make_name(name, t->name, "prelu_slope", (int)(a - o->v));
    int32_t ids[2], d[1] = {x->chans};
    lfr_status st = add_const(o->c, name, 1, d, s, &ids[1]);
    lfr_free(s);
    if (st != LFR_OK) return st;
    oval *out = &o->v[ox_find(o, n->out[0])];
    if ((st = ox_define(o, out, x->rank, x->nchw, x->chans)) != LFR_OK) return st;
    out->hw[0] = x->hw[0];
    out->hw[1] = x->hw[1];
    ids[0] = x->gid;
    return add_node(o->c, LFR_NN_OP_PRELU, ids, 2, out->gid, NULL);
}

static float attr_float(const ox *o, const lfr_onnx_node *n, const char *name,
                        float def, int *bad) {
    const lfr_onnx_attr *a = lfr_onnx_attr_find(o->m, n, name);
    if (!a) return def;
    if (a->type != LFR_ONNX_ATTR_FLOAT) *bad = 1;
    return a->f;
}

/* A float constant input k of node n with `count` elements, or NULL. */
static const lfr_onnx_tensor *ox_const_f(ox *o, const lfr_onnx_node *n, int k,
                                         size_t count) {
    oval *v = ox_in(o, n, k);
    if (!v || v->kind != OV_CONST || v->t->data_type != LFR_ONNX_FLOAT ||
        v->t->count != count)
        return NULL;
    return v->t;
}

/* Flatten (axis 1) of an NCHW [N,C,H,W] value: ONNX orders the flattened
 * elements (c, y, x), our NHWC storage (y, x, c).  The value is kept as it
 * is and marked flat; its one user must be a Gemm, which permutes its
 * weight columns to match (the nominal spatial size must be known).  Any
 * other user would read the elements in the wrong order: refused. */
static lfr_status ox_flatten(ox *o, const lfr_onnx_node *n) {
    oval *x = ox_in(o, n, 0);
    int bad = 0;
    if (!x || x->kind != OV_ACT)
        return ox_unsupported(o, n, "input is not an activation");
    if (attr_int(o, n, "axis", 1, &bad) != 1 || bad)
        return ox_unsupported(o, n, "only axis 1 is supported");
    if (x->rank != 4 || !x->nchw || x->chans < 1 || x->hw[0] < 1 || x->hw[1] < 1)
        return ox_unsupported(o, n, "only an NCHW tensor of known channels and "
                                    "nominal spatial size is supported");
    oval *out = &o->v[ox_find(o, n->out[0])];
    if (out->uses != 1 || out->out_idx >= 0 ||
        !lfr_cv_str_eq(o->m->nodes[out->last_user].op_type, "Gemm"))
        return ox_unsupported(o, n, "the flattened tensor must feed exactly one "
                                    "Gemm (NHWC stores its elements in another "
                                    "order)");
    lfr_status st = ox_alias(o, n, out, x, 0);
    if (st != LFR_OK) return st;
    out->rank = 2;
    out->flat = 1;
    return LFR_OK;
}

/* Gemm Y = A B^T + C (alpha = beta = 1, transA 0, transB 1: PyTorch's
 * Linear) with constant B [Co,K] and C [Co] -> FC.  A flat input (above)
 * gets B's columns permuted from (c, y, x) to (y, x, c).  A
 * BatchNormalization (inference form, constant [Co] parameters) that is the
 * Gemm's only user is folded into B and C: s = gamma / sqrt(var + eps),
 * B' = s B, C' = s (C - mean) + beta. */
static lfr_status ox_gemm(ox *o, const lfr_onnx_node *n) {
    oval *x = ox_in(o, n, 0), *w = ox_in(o, n, 1);
    int bad = 0;
    if (!x || x->kind != OV_ACT || x->rank != 2 || x->chans < 1)
        return ox_unsupported(o, n, "A is not a rank-2 activation of known size");
    float alpha = attr_float(o, n, "alpha", 1.0f, &bad);
    float beta = attr_float(o, n, "beta", 1.0f, &bad);
    if (bad || alpha != 1.0f || beta != 1.0f ||
        attr_int(o, n, "transA", 0, &bad) != 0 ||
        attr_int(o, n, "transB", 0, &bad) != 1 || bad)
        return ox_unsupported(o, n, "only alpha = beta = 1, transA 0, transB 1 "
                                    "is supported");
    int64_t k = x->flat ? (int64_t)x->chans * x->hw[0] * x->hw[1] : x->chans;
    if (!w || w->kind != OV_CONST || w->t->data_type != LFR_ONNX_FLOAT ||
        w->t->ndim != 2 || w->t->dims[1] != k ||
        !fits_param(w->t->dims[0], 1, LFR_MAX_TENSOR_ELEMS))
        return ox_unsupported(o, n, "B is not a float constant [Co, K] matching A");
    int64_t co = w->t->dims[0];
    const lfr_onnx_tensor *bt = ox_const_f(o, n, 2, (size_t)co);
    if (!bt && n->n_in > 2 && n->in[2].len)
        return ox_unsupported(o, n, "C is not a float constant [Co]");
    oval *out = &o->v[ox_find(o, n->out[0])];
    const lfr_onnx_tensor *bn[4] = {NULL, NULL, NULL, NULL};
    float eps = 1e-5f;
    int32_t bn_node = -1;
    if (out->uses == 1 && out->out_idx < 0 &&
        lfr_cv_str_eq(o->m->nodes[out->last_user].op_type, "BatchNormalization")) {
        const lfr_onnx_node *u = &o->m->nodes[out->last_user];
        for (int q = 0; q < 4; q++) bn[q] = ox_const_f(o, u, 1 + q, (size_t)co);
        eps = attr_float(o, u, "epsilon", 1e-5f, &bad);
        int training = (int)attr_int(o, u, "training_mode", 0, &bad);
        if (!bn[0] || !bn[1] || !bn[2] || !bn[3] || bad || training ||
            !(eps >= 0) || (u->n_out > 1 && u->out[1].len))
            return ox_unsupported(o, n, "the BatchNormalization after it is not "
                                        "an inference one with constant [Co] "
                                        "parameters");
        bn_node = out->last_user;
    }
    float *tw = lfr_malloc((size_t)(co * k) * sizeof *tw);
    float *tb = lfr_malloc((size_t)co * sizeof *tb);
    if (!tw || !tb) {
        lfr_free(tw);
        lfr_free(tb);
        return lfr_err_set(o->c->err, LFR_ERR_NOMEM, "convert: out of memory");
    }
    int64_t ch = x->flat ? x->chans : k, hh = x->flat ? x->hw[0] : 1,
            ww = x->flat ? x->hw[1] : 1;
    for (int64_t oc = 0; oc < co; oc++) {
        float s = 1.0f;
        tb[oc] = bt ? bt->f[oc] : 0.0f;
        if (bn_node >= 0) {
            s = bn[0]->f[oc] / sqrtf(bn[3]->f[oc] + eps);
            tb[oc] = s * (tb[oc] - bn[2]->f[oc]) + bn[1]->f[oc];
        }
        const float *src = w->t->f + oc * k;
        float *dst = tw + oc * k;
        for (int64_t ci = 0; ci < ch; ci++)
            for (int64_t y = 0; y < hh; y++)
                for (int64_t xx = 0; xx < ww; xx++)
                    dst[(y * ww + xx) * ch + ci] = s * src[(ci * hh + y) * ww + xx];
    }
    char name[LFR_MAX_NAME];
    int32_t ids[3], wd[2] = {(int32_t)co, (int32_t)k}, bd[1] = {(int32_t)co};
    make_name(name, w->t->name, "fc_w", (int)(w - o->v));
    lfr_status st = add_const(o->c, name, 2, wd, tw, &ids[1]);
    if (st == LFR_OK) {
        make_name(name, w->t->name, "fc_b", (int)(w - o->v));
        st = add_const(o->c, name, 1, bd, tb, &ids[2]);
    }
    lfr_free(tw);
    lfr_free(tb);
    if (st != LFR_OK) return st;
    if (bn_node >= 0) {
        o->done[bn_node] = 1;
        out->kind = OV_ACT;   /* the pre-normalisation value is never read */
        out = &o->v[ox_find(o, o->m->nodes[bn_node].out[0])];
    }
    if ((st = ox_define(o, out, 2, 0, (int32_t)co)) != LFR_OK) return st;
    ids[0] = x->gid;
    return add_node(o->c, LFR_NN_OP_FC, ids, 3, out->gid, NULL);
}

static lfr_status ox_node(ox *o, int32_t ni) {
    const lfr_onnx_node *n = &o->m->nodes[ni];
    if (n->domain.len && !lfr_cv_str_eq(n->domain, "ai.onnx"))
        return ox_unsupported(o, n, "operator domain is not ai.onnx");
    if (n->n_out < 1 || n->out[0].len == 0)
        return ox_unsupported(o, n, "node has no output");
    for (int32_t k = 0; k < n->n_in; k++) {
        if (n->in[k].len == 0) continue;
        int32_t id = ox_find(o, n->in[k]);
        if (id < 0 || (o->v[id].kind == OV_NONE &&
                       !(lfr_cv_str_eq(n->op_type, "Shape") && k == 0)))
            return lfr_err_set(o->c->err, LFR_ERR_CORRUPT,
                               "ONNX: a node input is used before it is "
                               "defined");
    }
    lfr_cv_str op = n->op_type;
    oval *out = &o->v[ox_find(o, n->out[0])];
    lfr_status st;
    if (lfr_cv_str_eq(op, "Conv")) return ox_conv(o, n);
    if (lfr_cv_str_eq(op, "MaxPool")) return ox_maxpool(o, n);
    if (lfr_cv_str_eq(op, "Shape")) return ox_shape_ops(o, n, 0);
    if (lfr_cv_str_eq(op, "Gather")) return ox_shape_ops(o, n, 1);
    if (lfr_cv_str_eq(op, "Unsqueeze")) return ox_shape_ops(o, n, 2);
    if (lfr_cv_str_eq(op, "Reshape")) return ox_reshape(o, n);
    if (lfr_cv_str_eq(op, "Flatten")) return ox_flatten(o, n);
    if (lfr_cv_str_eq(op, "Gemm")) return ox_gemm(o, n);
    if (lfr_cv_str_eq(op, "Constant")) {
        const lfr_onnx_attr *a = lfr_onnx_attr_find(o->m, n, "value");
        if (!a || a->type != LFR_ONNX_ATTR_TENSOR || a->tensor < 0 ||
            n->n_attrs != 1)
            return ox_unsupported(o, n, "only a 'value' tensor is supported");
        if (out->out_idx >= 0) return ox_unsupported(o, n, "a graph output is constant");
        out->kind = OV_CONST;
        out->t = &o->m->tensors[a->tensor];
        o->c->dropped++;
        return LFR_OK;
    }
    if (lfr_cv_str_eq(op, "Concat")) {
        oval *a0 = ox_in(o, n, 0);
        if (a0 && a0->kind != OV_ACT) return ox_shape_ops(o, n, 3);
        int bad = 0;
        int64_t axis = attr_int(o, n, "axis", 0x7fffffff, &bad);
        if (!lfr_onnx_attr_find(o->m, n, "axis") || bad)
            return ox_unsupported(o, n, "axis missing");
        if (n->n_in < 2 || n->n_in > LFR_MAX_NODE_INPUTS)
            return ox_unsupported(o, n, "needs 2..8 inputs");
        int32_t ids[LFR_MAX_NODE_INPUTS], chans = 0, known = 1;
        for (int32_t k = 0; k < n->n_in; k++) {
            oval *v = ox_in(o, n, k);
            if (!v || v->kind != OV_ACT || v->rank != a0->rank ||
                v->nchw != a0->nchw)
                return ox_unsupported(o, n, "inputs differ in kind, rank or layout");
            ids[k] = v->gid;
            chans += v->chans;
            if (!v->chans) known = 0;
        }
        int32_t rank = a0->rank;
        if (rank < 1 || rank > LFR_NN_MAX_DIMS) return ox_unsupported(o, n, "bad rank");
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) return ox_unsupported(o, n, "axis out of range");
        static const int32_t nchw_to_nhwc[4] = {0, 3, 1, 2};
        int32_t our = a0->nchw ? nchw_to_nhwc[axis] : (int32_t)axis;
        int32_t oc = our == rank - 1 ? (known ? chans : 0) : a0->chans;
        if ((st = ox_define(o, out, rank, a0->nchw, oc)) != LFR_OK) return st;
        if (a0->nchw && rank == 4 && our == 3) {
            out->hw[0] = a0->hw[0];
            out->hw[1] = a0->hw[1];
        }
        int32_t p[LFR_NN_NPARAMS] = {0};
        p[LFR_NN_P_AXIS] = our;
        return add_node(o->c, LFR_NN_OP_CONCAT, ids, n->n_in, out->gid, p);
    }
    if (lfr_cv_str_eq(op, "Transpose")) {
        oval *x = ox_in(o, n, 0);
        int64_t perm[4];
        if (!x || x->kind != OV_ACT)
            return ox_unsupported(o, n, "input is not an activation");
        if (x->rank == 4 && x->nchw && attr_ints(o, n, "perm", 4, perm) == 1 &&
            perm[0] == 0 && perm[1] == 2 && perm[2] == 3 && perm[3] == 1)
            return ox_alias(o, n, out, x, 0);
        return ox_unsupported(o, n, "only perm (0,2,3,1) of an NCHW tensor "
                                    "(an identity in NHWC) is supported");
    }
    if (lfr_cv_str_eq(op, "Identity") || lfr_cv_str_eq(op, "Dropout")) {
        oval *x = ox_in(o, n, 0);
        if (!x || x->kind != OV_ACT || (n->n_out > 1 && n->out[1].len))
            return ox_unsupported(o, n, "input is not an activation");
        return ox_alias(o, n, out, x, x->nchw);
    }
    if (lfr_cv_str_eq(op, "Mul")) {
        oval *a = ox_in(o, n, 0), *b = ox_in(o, n, 1);
        if (a && b && a->kind == OV_CONST) { oval *t = a; a = b; b = t; }
        if (!a || !b || a->kind != OV_ACT || b->kind != OV_CONST ||
            b->t->data_type != LFR_ONNX_FLOAT || b->t->count != 1 ||
            b->t->f[0] != 1.0f)
            return ox_unsupported(o, n, "only multiplication by the scalar "
                                        "constant 1.0 is supported");
        return ox_alias(o, n, out, a, a->nchw);
    }
    if (lfr_cv_str_eq(op, "Add")) {
        oval *a = ox_in(o, n, 0), *b = ox_in(o, n, 1);
        if (!a || !b || a->kind != OV_ACT || b->kind != OV_ACT ||
            a->rank != b->rank || a->nchw != b->nchw)
            return ox_unsupported(o, n, "only the sum of two activations of "
                                        "one layout is supported");
        int32_t act;
        oval *o2 = ox_fuse_out(o, n, &act);
        if ((st = ox_define(o, o2, a->rank, a->nchw, a->chans)) != LFR_OK) return st;
        o2->hw[0] = a->hw[0] == b->hw[0] ? a->hw[0] : 0;
        o2->hw[1] = a->hw[1] == b->hw[1] ? a->hw[1] : 0;
        int32_t ids[2] = {a->gid, b->gid};
        int32_t p[LFR_NN_NPARAMS] = {0};
        p[LFR_NN_P_ACT] = act;
        return add_node(o->c, LFR_NN_OP_ADD, ids, 2, o2->gid, p);
    }
    if (lfr_cv_str_eq(op, "Relu")) {
        oval *x = ox_in(o, n, 0);
        if (!x || x->kind != OV_ACT)
            return ox_unsupported(o, n, "input is not an activation");
        if ((st = ox_define(o, out, x->rank, x->nchw, x->chans)) != LFR_OK) return st;
        out->hw[0] = x->hw[0];
        out->hw[1] = x->hw[1];
        return add_node(o->c, LFR_NN_OP_RELU, &x->gid, 1, out->gid, NULL);
    }
    if (lfr_cv_str_eq(op, "PRelu")) return ox_prelu(o, n);
    if (lfr_cv_str_eq(op, "Softmax")) {
        oval *x = ox_in(o, n, 0);
        int bad = 0;
        if (!x || x->kind != OV_ACT)
            return ox_unsupported(o, n, "input is not an activation");
        int64_t axis = attr_int(o, n, "axis", o->m->opset >= 13 ? -1 : 1, &bad);
        if (axis < 0) axis += x->rank;
        if (bad || axis != x->rank - 1 || (x->nchw && x->rank == 4))
            return ox_unsupported(o, n, "only a softmax over the last axis of a "
                                        "non-NCHW tensor is supported");
        if ((st = ox_define(o, out, x->rank, 0, x->chans)) != LFR_OK) return st;
        return add_node(o->c, LFR_NN_OP_SOFTMAX, &x->gid, 1, out->gid, NULL);
    }
    return ox_unsupported(o, n, "operator not supported");
}

static lfr_status convert_onnx(cv *c, const uint8_t *src, size_t len) {
    lfr_onnx_model m;
    lfr_status st = lfr_onnx_parse(src, len, &m, c->err);
    if (st != LFR_OK) return st;
    ox o;
    memset(&o, 0, sizeof o);
    o.c = c;
    o.m = &m;
    c->src_ops = m.n_nodes;

    size_t total = (size_t)m.n_tensors + (size_t)m.n_inputs + 8;
    for (int32_t i = 0; i < m.n_nodes; i++)
        total += (size_t)m.nodes[i].n_in + (size_t)m.nodes[i].n_out;
    size_t hsize = 16;
    while (hsize < 2 * total) hsize *= 2;
    o.v = lfr_malloc(total * sizeof *o.v);
    o.hash = lfr_malloc(hsize * sizeof *o.hash);
    o.needed = lfr_calloc((size_t)m.n_nodes + 1, 1);
    o.done = lfr_calloc((size_t)m.n_nodes + 1, 1);
    if (!o.v || !o.hash || !o.needed || !o.done) {
        st = lfr_err_set(c->err, LFR_ERR_NOMEM, "convert: out of memory");
        goto out;
    }
    memset(o.hash, 0xff, hsize * sizeof *o.hash);
    o.hmask = (uint32_t)(hsize - 1);
    o.capv = (int32_t)total;

    /* Initializers, then the network input, then node outputs. */
    for (int32_t i = 0; i < m.n_tensors; i++) {
        if (!m.is_initializer[i]) continue;
        oval *v = &o.v[ox_get(&o, m.tensors[i].name)];
        if (v->kind == OV_NONE) {
            v->kind = OV_CONST;
            v->t = &m.tensors[i];
        }
    }
    oval *input = NULL;
    const lfr_onnx_value_info *in_info = NULL;
    for (int32_t i = 0; i < m.n_inputs; i++) {
        oval *v = &o.v[ox_get(&o, m.inputs[i].name)];
        if (v->kind != OV_NONE) continue;       /* an initializer */
        if (input) {
            st = lfr_err_set(c->err, LFR_ERR_UNSUPPORTED,
                             "ONNX: the graph has more than one input");
            goto out;
        }
        input = v;
        in_info = &m.inputs[i];
    }
    if (!input || in_info->ndim != 4 || in_info->dims[1] < 1 ||
        in_info->dims[1] > 64 || in_info->elem_type != LFR_ONNX_FLOAT) {
        st = lfr_err_set(c->err, LFR_ERR_UNSUPPORTED,
                         "ONNX: the graph needs one float NCHW input with a "
                         "known channel count");
        goto out;
    }
    for (int32_t i = 0; i < m.n_nodes; i++) {
        for (int32_t k = 0; k < m.nodes[i].n_out; k++) {
            if (m.nodes[i].out[k].len == 0) continue;
            oval *v = &o.v[ox_get(&o, m.nodes[i].out[k])];
            if (v->producer >= 0 || v->kind != OV_NONE || v == input) {
                st = lfr_err_set(c->err, LFR_ERR_CORRUPT,
                                 "ONNX: a value is defined twice");
                goto out;
            }
            v->producer = i;
        }
        for (int32_t k = 0; k < m.nodes[i].n_in; k++)
            if (m.nodes[i].in[k].len) (void)ox_get(&o, m.nodes[i].in[k]);
    }

    /* Outputs: the arch's cut points, else the graph outputs. */
    int32_t outs[LFR_CV_MAX_OUTPUTS];
    int32_t n_out = c->arch->n_outputs;
    for (int32_t k = 0; k < n_out; k++) {
        lfr_cv_str want;
        if (c->arch->out_src[k]) {
            want.p = c->arch->out_src[k];
            want.len = (uint32_t)strlen(want.p);
        } else if (k < m.n_outputs) {
            want = m.outputs[k].name;
        } else {
            st = lfr_err_set(c->err, LFR_ERR_UNSUPPORTED,
                             "ONNX: the graph has %d outputs, %s needs %d",
                             (int)m.n_outputs, c->arch->name, (int)n_out);
            goto out;
        }
        int32_t id = ox_find(&o, want);
        if (id < 0 || o.v[id].producer < 0 || o.v[id].out_idx >= 0) {
            char nm[64];
            lfr_cv_str_copy(nm, sizeof nm, want);
            st = lfr_err_set(c->err, LFR_ERR_UNSUPPORTED,
                             "ONNX: no node computes the output '%s' of %s",
                             nm, c->arch->name);
            goto out;
        }
        outs[k] = id;
        o.v[id].out_idx = k;
        o.v[id].uses++;
    }

    /* Liveness: walk back from the outputs.  Shape() reads only the rank of
     * its input, so it does not keep that input alive. */
    uint8_t *live = lfr_calloc(total, 1);
    if (!live) {
        st = lfr_err_set(c->err, LFR_ERR_NOMEM, "convert: out of memory");
        goto out;
    }
    for (int32_t k = 0; k < n_out; k++) live[outs[k]] = 1;
    for (int32_t i = m.n_nodes - 1; i >= 0; i--) {
        const lfr_onnx_node *n = &m.nodes[i];
        int need = 0;
        for (int32_t k = 0; k < n->n_out; k++)
            if (n->out[k].len && live[ox_find(&o, n->out[k])]) need = 1;
        if (!need) continue;
        o.needed[i] = 1;
        int is_shape = lfr_cv_str_eq(n->op_type, "Shape");
        for (int32_t k = is_shape ? 1 : 0; k < n->n_in; k++)
            if (n->in[k].len) live[ox_find(&o, n->in[k])] = 1;
    }
    lfr_free(live);
    for (int32_t i = 0; i < m.n_nodes; i++) {
        if (!o.needed[i]) {
            c->dropped++;
            continue;
        }
        for (int32_t k = 0; k < m.nodes[i].n_in; k++) {
            if (!m.nodes[i].in[k].len) continue;
            oval *v = &o.v[ox_find(&o, m.nodes[i].in[k])];
            v->uses++;
            v->last_user = i;
        }
    }

    /* The network input: [n, 0, 0, C] (any size), or [0, h, w, C] for a
     * fixed_size row (any batch: the source's batch, kept as o.in_batch,
     * only reaches a Reshape, which must copy it). */
    o.in_batch = in_info->dims[0] > 0 ? in_info->dims[0] : 0;
    {
        int32_t d[4] = {!c->arch->fixed_size && in_info->dims[0] > 0 &&
                                in_info->dims[0] <= LFR_MAX_NET_BATCH
                            ? (int32_t)in_info->dims[0] : 0,
                        c->arch->fixed_size ? c->arch->height : 0,
                        c->arch->fixed_size ? c->arch->width : 0,
                        (int32_t)in_info->dims[1]};
        char name[LFR_MAX_NAME];
        make_name(name, input->name, "input", 0);
        st = add_value(c, name, 4, d, &input->gid);
        if (st != LFR_OK) goto out;
        input->kind = OV_ACT;
        input->rank = 4;
        input->nchw = 1;
        input->chans = d[3];
        input->hw[0] = d[1];
        input->hw[1] = d[2];
        c->g->inputs[0] = input->gid;
        c->g->n_inputs = 1;
    }

    for (int32_t i = 0; i < m.n_nodes; i++) {
        if (!o.needed[i] || o.done[i]) continue;
        st = ox_node(&o, i);
        if (st != LFR_OK) goto out;
    }
    for (int32_t k = 0; k < n_out; k++) {
        if (o.v[outs[k]].kind != OV_ACT || o.v[outs[k]].gid < 0) {
            st = lfr_err_set(c->err, LFR_ERR_UNSUPPORTED,
                             "ONNX: output %d is not an activation", (int)k);
            goto out;
        }
        c->g->outputs[k] = o.v[outs[k]].gid;
    }
    c->g->n_outputs = n_out;
out:
    lfr_free(o.v);
    lfr_free(o.hash);
    lfr_free(o.needed);
    lfr_free(o.done);
    lfr_onnx_free(&m);
    return st;
}

/* ======================================================================= */
/* TFLite                                                                  */
/* ======================================================================= */

enum { FOLD_NONE = 0, FOLD_PRELU_NEG, FOLD_PRELU_ABS, FOLD_SOFTMAX };

typedef struct tx {
    cv *c;
    const lfr_tfl_model *m;
    int32_t *gid, *uses, *prod, *out_idx;   /* per tensor */
    int32_t (*hw)[2];                       /* nominal spatial size */
    uint8_t *member;                        /* per op: folded into another */
    int32_t *fold, *fold_x, *fold_c;        /* per anchor op */
} tx;

static const char *tfl_op_name(int32_t code) {
    switch (code) {
    case LFR_TFL_ADD: return "ADD";
    case 1: return "AVERAGE_POOL_2D";
    case LFR_TFL_CONCATENATION: return "CONCATENATION";
    case LFR_TFL_CONV_2D: return "CONV_2D";
    case LFR_TFL_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
    case LFR_TFL_FULLY_CONNECTED: return "FULLY_CONNECTED";
    case LFR_TFL_MAX_POOL_2D: return "MAX_POOL_2D";
    case LFR_TFL_MUL: return "MUL";
    case LFR_TFL_RELU: return "RELU";
    case LFR_TFL_RESHAPE: return "RESHAPE";
    case LFR_TFL_SOFTMAX: return "SOFTMAX";
    case LFR_TFL_SUB: return "SUB";
    case LFR_TFL_DIV: return "DIV";
    case LFR_TFL_EXP: return "EXP";
    case LFR_TFL_PRELU: return "PRELU";
    case LFR_TFL_NEG: return "NEG";
    case LFR_TFL_SUM: return "SUM";
    case LFR_TFL_REDUCE_MAX: return "REDUCE_MAX";
    case LFR_TFL_ABS: return "ABS";
    default: return "?";
    }
}

static lfr_status tx_unsupported(tx *t, int32_t i, const char *why) {
    const lfr_tfl_op *op = &t->m->ops[i];
    char name[64] = "";
    if (op->n_out > 0) lfr_cv_str_copy(name, sizeof name, t->m->tensors[op->out[0]].name);
    return lfr_err_set(t->c->err, LFR_ERR_UNSUPPORTED,
                       "TFLite: operator %d (%s, code %d, output '%s'): %s",
                       (int)i, tfl_op_name(op->code), (int)op->code, name, why);
}

static int is_const(const tx *t, int32_t ti) {
    return ti >= 0 && t->m->tensors[ti].data != NULL;
}

/* Element count of tensor ti from its shape, 0 if bad. */
static size_t tfl_count(const lfr_tfl_tensor *tt) {
    size_t n = 1;
    for (int32_t i = 0; i < tt->ndim; i++) {
        if (tt->dims[i] < 1 || lfr_mul_size(n, (size_t)tt->dims[i], &n) != 0 ||
            n > LFR_MAX_TENSOR_ELEMS)
            return 0;
    }
    return n;
}

/* Decodes a FLOAT32 constant; *out is lfr_free'd by the caller. */
static int tfl_floats(const tx *t, int32_t ti, float **out, size_t *count) {
    *out = NULL;
    if (!is_const(t, ti)) return -1;
    const lfr_tfl_tensor *tt = &t->m->tensors[ti];
    size_t n = tfl_count(tt);
    if (tt->type != LFR_TFL_FLOAT32 || n == 0 || tt->data_len != 4 * n) return -1;
    float *f = lfr_malloc(n * sizeof *f);
    if (!f) return -2;
    for (size_t k = 0; k < n; k++) {
        const uint8_t *p = tt->data + 4 * k;
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24;
        memcpy(&f[k], &u, 4);
    }
    *out = f;
    *count = n;
    return 0;
}

/* Reads an INT32 constant of at most cap elements. */
static int tfl_ints(const tx *t, int32_t ti, int32_t *out, int32_t cap,
                    int32_t *n) {
    if (!is_const(t, ti)) return -1;
    const lfr_tfl_tensor *tt = &t->m->tensors[ti];
    if (tt->type != LFR_TFL_INT32 || tt->data_len % 4 || tt->data_len / 4 > (size_t)cap)
        return -1;
    if (tt->ndim > 1 || (tt->ndim == 1 && (size_t)tt->dims[0] != tt->data_len / 4))
        return -1;
    *n = (int32_t)(tt->data_len / 4);
    for (int32_t k = 0; k < *n; k++) {
        const uint8_t *p = tt->data + 4 * k;
        out[k] = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                           (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    }
    return 0;
}

/* The op producing tensor ti if it has `code`, n_in inputs, one output and
 * no fused activation, and is not folded yet; else -1. */
static int32_t producer_is(const tx *t, int32_t ti, int32_t code, int32_t n_in) {
    if (ti < 0) return -1;
    int32_t p = t->prod[ti];
    if (p < 0 || t->member[p] || t->fold[p]) return -1;
    const lfr_tfl_op *op = &t->m->ops[p];
    if (op->code != code || op->n_in != n_in || op->n_out != 1 ||
        op->opt.act != LFR_TFL_ACT_NONE)
        return -1;
    return p;
}

/* The channel count a per-channel constant must have for activation x. */
static int slope_ok(const tx *t, int32_t x, int32_t cst) {
    const lfr_tfl_tensor *xt = &t->m->tensors[x], *ct = &t->m->tensors[cst];
    if (xt->ndim < 1 || xt->dims[xt->ndim - 1] < 1) return 0;
    size_t n = tfl_count(ct);
    if (ct->type != LFR_TFL_FLOAT32 || n != (size_t)xt->dims[xt->ndim - 1]) return 0;
    for (int32_t i = 0; i + 1 < ct->ndim; i++)
        if (ct->dims[i] != 1) return 0;
    return 1;
}

static void claim(tx *t, int32_t anchor, int kind, int32_t x, int32_t cst,
                  const int32_t *members, int n) {
    t->fold[anchor] = kind;
    t->fold_x[anchor] = x;
    t->fold_c[anchor] = cst;
    for (int i = 0; i < n; i++) t->member[members[i]] = 1;
}

/* relu(x) - a*relu(-x) == ADD(RELU(x), MUL(a, NEG(RELU(NEG(x))))). */
static int match_prelu_neg(tx *t, int32_t i) {
    const lfr_tfl_op *add = &t->m->ops[i];
    for (int ord = 0; ord < 2; ord++) {
        int32_t r = add->in[ord], mm = add->in[1 - ord];
        int32_t pr = producer_is(t, r, LFR_TFL_RELU, 1);
        int32_t pm = producer_is(t, mm, LFR_TFL_MUL, 2);
        if (pr < 0 || pm < 0 || t->uses[r] != 1 || t->uses[mm] != 1) continue;
        int32_t x = t->m->ops[pr].in[0];
        const lfr_tfl_op *mul = &t->m->ops[pm];
        int ci = is_const(t, mul->in[0]) ? 0 : 1;
        int32_t cst = mul->in[ci], n2 = mul->in[1 - ci];
        if (!is_const(t, cst) || is_const(t, n2) || x < 0 || is_const(t, x)) continue;
        int32_t pn2 = producer_is(t, n2, LFR_TFL_NEG, 1);
        if (pn2 < 0 || t->uses[n2] != 1) continue;
        int32_t r2 = t->m->ops[pn2].in[0];
        int32_t pr2 = producer_is(t, r2, LFR_TFL_RELU, 1);
        if (pr2 < 0 || t->uses[r2] != 1) continue;
        int32_t nn = t->m->ops[pr2].in[0];
        int32_t pn = producer_is(t, nn, LFR_TFL_NEG, 1);
        if (pn < 0 || t->uses[nn] != 1 || t->m->ops[pn].in[0] != x) continue;
        if (!slope_ok(t, x, cst)) continue;
        int32_t mem[5] = {pr, pm, pn2, pr2, pn};
        claim(t, i, FOLD_PRELU_NEG, x, cst, mem, 5);
        return 1;
    }
    return 0;
}

/* relu(x) + m*(x - |x|) == ADD(RELU(x), MUL(m, SUB(x, ABS(x)))). */
static int match_prelu_abs(tx *t, int32_t i) {
    const lfr_tfl_op *add = &t->m->ops[i];
    for (int ord = 0; ord < 2; ord++) {
        int32_t r = add->in[ord], mm = add->in[1 - ord];
        int32_t pr = producer_is(t, r, LFR_TFL_RELU, 1);
        int32_t pm = producer_is(t, mm, LFR_TFL_MUL, 2);
        if (pr < 0 || pm < 0 || t->uses[r] != 1 || t->uses[mm] != 1) continue;
        int32_t x = t->m->ops[pr].in[0];
        const lfr_tfl_op *mul = &t->m->ops[pm];
        int ci = is_const(t, mul->in[0]) ? 0 : 1;
        int32_t cst = mul->in[ci], s = mul->in[1 - ci];
        if (!is_const(t, cst) || is_const(t, s) || x < 0 || is_const(t, x)) continue;
        int32_t ps = producer_is(t, s, LFR_TFL_SUB, 2);
        if (ps < 0 || t->uses[s] != 1 || t->m->ops[ps].in[0] != x) continue;
        int32_t ab = t->m->ops[ps].in[1];
        int32_t pa = producer_is(t, ab, LFR_TFL_ABS, 1);
        if (pa < 0 || t->uses[ab] != 1 || t->m->ops[pa].in[0] != x) continue;
        if (!slope_ok(t, x, cst)) continue;
        int32_t mem[4] = {pr, pm, ps, pa};
        claim(t, i, FOLD_PRELU_ABS, x, cst, mem, 4);
        return 1;
    }
    return 0;
}

static int last_axis(const tx *t, int32_t x, int32_t axes_tensor) {
    int32_t ax[2], n;
    if (tfl_ints(t, axes_tensor, ax, 1, &n) != 0 || n != 1) return 0;
    int32_t rank = t->m->tensors[x].ndim;
    return ax[0] == -1 || (rank > 0 && ax[0] == rank - 1);
}

/* DIV(EXP(SUB(x, REDUCE_MAX(x))), SUM(EXP(...))) over the last axis. */
static int match_softmax(tx *t, int32_t i) {
    const lfr_tfl_op *div = &t->m->ops[i];
    int32_t e = div->in[0], s = div->in[1];
    int32_t pe = producer_is(t, e, LFR_TFL_EXP, 1);
    int32_t ps = producer_is(t, s, LFR_TFL_SUM, 2);
    if (pe < 0 || ps < 0 || t->uses[e] != 2 || t->uses[s] != 1) return 0;
    const lfr_tfl_op *sum = &t->m->ops[ps];
    if (sum->in[0] != e || !sum->opt.keep_dims) return 0;
    int32_t d = t->m->ops[pe].in[0];
    int32_t pd = producer_is(t, d, LFR_TFL_SUB, 2);
    if (pd < 0 || t->uses[d] != 1) return 0;
    int32_t x = t->m->ops[pd].in[0], mx = t->m->ops[pd].in[1];
    int32_t pm = producer_is(t, mx, LFR_TFL_REDUCE_MAX, 2);
    if (pm < 0 || t->uses[mx] != 1 || x < 0 || is_const(t, x)) return 0;
    const lfr_tfl_op *rmax = &t->m->ops[pm];
    if (rmax->in[0] != x || !rmax->opt.keep_dims) return 0;
    if (!last_axis(t, x, rmax->in[1]) || !last_axis(t, x, sum->in[1])) return 0;
    int32_t mem[4] = {pe, ps, pd, pm};
    claim(t, i, FOLD_SOFTMAX, x, -1, mem, 4);
    return 1;
}

/* Graph tensor for a TFLite activation tensor (must be defined). */
static lfr_status tx_act(tx *t, int32_t i, int32_t ti, int32_t *gid) {
    *gid = -1;
    if (ti < 0 || is_const(t, ti) || t->gid[ti] < 0)
        return tx_unsupported(t, i, "an input is not a computed activation");
    *gid = t->gid[ti];
    return LFR_OK;
}

static lfr_status tx_define(tx *t, int32_t i, int32_t ti, int32_t *gid) {
    if (t->gid[ti] >= 0 || is_const(t, ti))
        return tx_unsupported(t, i, "output written twice or is a constant");
    const lfr_tfl_tensor *tt = &t->m->tensors[ti];
    char name[LFR_MAX_NAME];
    if (t->out_idx[ti] >= 0)
        snprintf(name, sizeof name, "%s", t->c->arch->out_names[t->out_idx[ti]]);
    else
        make_name(name, tt->name, "tflite", ti);
    int32_t nd = tt->ndim;
    if (nd < 1 || nd > LFR_NN_MAX_DIMS)
        return tx_unsupported(t, i, "output rank is not 1..4");
    lfr_status st = add_value(t->c, name, nd, NULL, &t->gid[ti]);
    *gid = t->gid[ti];
    return st;
}

static lfr_status tx_const(tx *t, int32_t i, int32_t ti, const char *suffix,
                           const float *data, int32_t nd, const int32_t *dims,
                           int32_t *gid) {
    char name[LFR_MAX_NAME], base[LFR_MAX_NAME];
    make_name(base, t->m->tensors[ti].name, "const", ti);
    snprintf(name, sizeof name, "%.100s%s", base, suffix);
    (void)i;
    return add_const(t->c, name, nd, dims, data, gid);
}

static void same_pad(int32_t in, int32_t k, int32_t s, int32_t d, int32_t *b,
                     int32_t *a) {
    int32_t out = (in + s - 1) / s;
    int64_t need = (int64_t)(out - 1) * s + (int64_t)(k - 1) * d + 1 - in;
    if (need < 0) need = 0;
    *b = (int32_t)(need / 2);
    *a = (int32_t)(need - need / 2);
}

/* Spatial geometry (conv/pool): fills pads and the output's nominal size. */
static lfr_status tx_window(tx *t, int32_t i, int32_t x, int32_t y, int32_t kh,
                            int32_t kw, int32_t *p) {
    const lfr_tfl_options *o = &t->m->ops[i].opt;
    if (!fits_param(o->stride_h, 1, LFR_MAX_NET_SIDE) ||
        !fits_param(o->stride_w, 1, LFR_MAX_NET_SIDE) ||
        !fits_param(o->dilation_h, 1, LFR_MAX_NET_SIDE) ||
        !fits_param(o->dilation_w, 1, LFR_MAX_NET_SIDE) ||
        !fits_param(kh, 1, LFR_MAX_NET_SIDE) || !fits_param(kw, 1, LFR_MAX_NET_SIDE))
        return tx_unsupported(t, i, "kernel, stride or dilation out of range");
    if (o->padding != LFR_TFL_PAD_SAME && o->padding != LFR_TFL_PAD_VALID)
        return tx_unsupported(t, i, "unknown padding");
    p[LFR_NN_P_KH] = kh;
    p[LFR_NN_P_KW] = kw;
    p[LFR_NN_P_SH] = o->stride_h;
    p[LFR_NN_P_SW] = o->stride_w;
    p[LFR_NN_P_DH] = o->dilation_h;
    p[LFR_NN_P_DW] = o->dilation_w;
    int32_t h = t->hw[x][0], w = t->hw[x][1], oh, ow;
    int32_t eh = (kh - 1) * o->dilation_h + 1, ew = (kw - 1) * o->dilation_w + 1;
    if (o->padding == LFR_TFL_PAD_SAME) {
        p[LFR_NN_P_SAME] = 1;
        same_pad(h, kh, o->stride_h, o->dilation_h, &p[LFR_NN_P_PT], &p[LFR_NN_P_PB]);
        same_pad(w, kw, o->stride_w, o->dilation_w, &p[LFR_NN_P_PL], &p[LFR_NN_P_PR]);
        oh = (h + o->stride_h - 1) / o->stride_h;
        ow = (w + o->stride_w - 1) / o->stride_w;
    } else {
        oh = h >= eh ? (h - eh) / o->stride_h + 1 : 0;
        ow = w >= ew ? (w - ew) / o->stride_w + 1 : 0;
    }
    if (oh < 1 || ow < 1)
        return tx_unsupported(t, i, "the nominal input size is too small for "
                                    "this window");
    t->hw[y][0] = oh;
    t->hw[y][1] = ow;
    return LFR_OK;
}

static int32_t chans_of(const tx *t, int32_t ti) {
    const lfr_tfl_tensor *tt = &t->m->tensors[ti];
    return tt->ndim >= 1 ? tt->dims[tt->ndim - 1] : 0;
}

static lfr_status tx_conv(tx *t, int32_t i, int dw) {
    const lfr_tfl_op *op = &t->m->ops[i];
    if (op->n_in < 2 || op->n_in > 3 || op->n_out != 1)
        return tx_unsupported(t, i, "needs 2..3 inputs and one output");
    int32_t x = -1, y = -1, ids[3] = {0, 0, 0};
    lfr_status st = tx_act(t, i, op->in[0], &x);
    if (st != LFR_OK) return st;
    const lfr_tfl_tensor *wt = &t->m->tensors[op->in[1] >= 0 ? op->in[1] : 0];
    float *w = NULL, *b = NULL;
    size_t wn, bn = 0;
    int r = op->in[1] >= 0 ? tfl_floats(t, op->in[1], &w, &wn) : -1;
    if (r == -2) return lfr_err_set(t->c->err, LFR_ERR_NOMEM, "convert: out of memory");
    if (r != 0 || wt->ndim != 4)
        return tx_unsupported(t, i, "weights are not a rank-4 float constant");
    int32_t co = wt->dims[0], kh = wt->dims[1], kw = wt->dims[2], ci = wt->dims[3];
    int32_t cin = chans_of(t, op->in[0]);
    int32_t groups = 1, act = op->opt.act;
    int32_t p[LFR_NN_NPARAMS] = {0};
    if (act != LFR_TFL_ACT_NONE && act != LFR_TFL_ACT_RELU) {
        st = tx_unsupported(t, i, "fused activation other than RELU");
        goto done;
    }
    if (dw) {
        /* [1,kh,kw,C] -> [C,kh,kw,1], groups = C */
        if (co != 1 || ci != cin ||
            (op->opt.depth_multiplier != 1 && op->opt.depth_multiplier != 0)) {
            st = tx_unsupported(t, i, "only depth multiplier 1 is supported");
            goto done;
        }
        float *tw = lfr_malloc(wn * sizeof *tw);
        if (!tw) {
            st = lfr_err_set(t->c->err, LFR_ERR_NOMEM, "convert: out of memory");
            goto done;
        }
        for (int32_t c = 0; c < ci; c++)
            for (int32_t k = 0; k < kh * kw; k++)
                tw[(size_t)c * kh * kw + k] = w[(size_t)k * ci + c];
        lfr_free(w);
        w = tw;
        co = ci;
        groups = ci;
        ci = 1;
    } else if (cin != ci) {
        st = tx_unsupported(t, i, "weights do not match the input channels");
        goto done;
    }
    int32_t wd[4] = {co, kh, kw, ci};
    if ((st = tx_const(t, i, op->in[1], dw ? ".dw" : "", w, 4, wd, &ids[1])) != LFR_OK)
        goto done;
    if (op->n_in == 3 && op->in[2] >= 0) {
        r = tfl_floats(t, op->in[2], &b, &bn);
        if (r == -2) { st = lfr_err_set(t->c->err, LFR_ERR_NOMEM, "convert: out of memory"); goto done; }
        if (r != 0 || bn != (size_t)co) {
            st = tx_unsupported(t, i, "bias is not a float constant [Co]");
            goto done;
        }
        int32_t bd[1] = {co};
        st = tx_const(t, i, op->in[2], "", b, 1, bd, &ids[2]);
    } else {
        char base[LFR_MAX_NAME];
        make_name(base, t->m->tensors[op->out[0]].name, "conv", i);
        st = zero_bias(t->c, base, co, &ids[2]);
    }
    if (st != LFR_OK) goto done;
    if ((st = tx_window(t, i, op->in[0], op->out[0], kh, kw, p)) != LFR_OK) goto done;
    p[LFR_NN_P_GROUPS] = groups;
    p[LFR_NN_P_ACT] = act == LFR_TFL_ACT_RELU ? LFR_NN_ACT_RELU : LFR_NN_ACT_NONE;
    if ((st = tx_define(t, i, op->out[0], &y)) != LFR_OK) goto done;
    ids[0] = x;
    st = add_node(t->c, LFR_NN_OP_CONV2D, ids, 3, y, p);
done:
    lfr_free(w);
    lfr_free(b);
    return st;
}

static lfr_status tx_fc(tx *t, int32_t i) {
    const lfr_tfl_op *op = &t->m->ops[i];
    if (op->n_in < 2 || op->n_in > 3 || op->n_out != 1)
        return tx_unsupported(t, i, "needs 2..3 inputs and one output");
    if (op->opt.keep_num_dims || op->opt.weights_format ||
        (op->opt.act != LFR_TFL_ACT_NONE && op->opt.act != LFR_TFL_ACT_RELU))
        return tx_unsupported(t, i, "unsupported options");
    int32_t x = -1, y = -1, ids[3] = {0, 0, 0};
    lfr_status st = tx_act(t, i, op->in[0], &x);
    if (st != LFR_OK) return st;
    float *w = NULL, *b = NULL;
    size_t wn, bn;
    int r = op->in[1] >= 0 ? tfl_floats(t, op->in[1], &w, &wn) : -1;
    if (r == -2) return lfr_err_set(t->c->err, LFR_ERR_NOMEM, "convert: out of memory");
    const lfr_tfl_tensor *wt = &t->m->tensors[op->in[1] >= 0 ? op->in[1] : 0];
    if (r != 0 || wt->ndim != 2) {
        lfr_free(w);
        return tx_unsupported(t, i, "weights are not a rank-2 float constant");
    }
    int32_t wd[2] = {wt->dims[0], wt->dims[1]};
    st = tx_const(t, i, op->in[1], "", w, 2, wd, &ids[1]);
    lfr_free(w);
    if (st != LFR_OK) return st;
    if (op->n_in == 3 && op->in[2] >= 0) {
        r = tfl_floats(t, op->in[2], &b, &bn);
        if (r == -2) return lfr_err_set(t->c->err, LFR_ERR_NOMEM, "convert: out of memory");
        if (r != 0 || bn != (size_t)wd[0]) {
            lfr_free(b);
            return tx_unsupported(t, i, "bias is not a float constant [Co]");
        }
        int32_t bd[1] = {wd[0]};
        st = tx_const(t, i, op->in[2], "", b, 1, bd, &ids[2]);
        lfr_free(b);
    } else {
        char base[LFR_MAX_NAME];
        make_name(base, t->m->tensors[op->out[0]].name, "fc", i);
        st = zero_bias(t->c, base, wd[0], &ids[2]);
    }
    if (st != LFR_OK) return st;
    if ((st = tx_define(t, i, op->out[0], &y)) != LFR_OK) return st;
    ids[0] = x;
    int32_t p[LFR_NN_NPARAMS] = {0};
    p[LFR_NN_P_ACT] = op->opt.act == LFR_TFL_ACT_RELU ? LFR_NN_ACT_RELU : 0;
    return add_node(t->c, LFR_NN_OP_FC, ids, 3, y, p);
}

static lfr_status tx_prelu(tx *t, int32_t i, int32_t x, int32_t cst,
                           float scale) {
    const lfr_tfl_op *op = &t->m->ops[i];
    int32_t gx, y, ids[2];
    lfr_status st = tx_act(t, i, x, &gx);
    if (st != LFR_OK) return st;
    float *a;
    size_t n;
    int r = tfl_floats(t, cst, &a, &n);
    if (r == -2) return lfr_err_set(t->c->err, LFR_ERR_NOMEM, "convert: out of memory");
    if (r != 0 || !slope_ok(t, x, cst)) {
        lfr_free(a);
        return tx_unsupported(t, i, "slope is not a float constant [C]");
    }
    for (size_t k = 0; k < n; k++) a[k] *= scale;
    int32_t d[1] = {(int32_t)n};
    st = tx_const(t, i, cst, scale == 1.0f ? "" : ".x2", a, 1, d, &ids[1]);
    lfr_free(a);
    if (st != LFR_OK) return st;
    if ((st = tx_define(t, i, op->out[0], &y)) != LFR_OK) return st;
    ids[0] = gx;
    t->hw[op->out[0]][0] = t->hw[x][0];
    t->hw[op->out[0]][1] = t->hw[x][1];
    return add_node(t->c, LFR_NN_OP_PRELU, ids, 2, y, NULL);
}

static lfr_status tx_reshape(tx *t, int32_t i) {
    const lfr_tfl_op *op = &t->m->ops[i];
    if (op->n_in < 1 || op->n_in > 2 || op->n_out != 1)
        return tx_unsupported(t, i, "needs 1..2 inputs and one output");
    int32_t x, y;
    lfr_status st = tx_act(t, i, op->in[0], &x);
    if (st != LFR_OK) return st;
    int32_t shp[LFR_MAX_CONVERT_DIMS], n = -1;
    if (op->n_in == 2 && op->in[1] >= 0) {
        if (tfl_ints(t, op->in[1], shp, LFR_MAX_CONVERT_DIMS, &n) != 0)
            return tx_unsupported(t, i, "the shape is not an int32 constant");
    } else if (op->opt.n_new_shape >= 0) {
        n = op->opt.n_new_shape;
        memcpy(shp, op->opt.new_shape, sizeof shp);
    }
    if (n < 1 || n > LFR_NN_MAX_DIMS)
        return tx_unsupported(t, i, "the new shape has no or too many dims");
    const lfr_tfl_tensor *xt = &t->m->tensors[op->in[0]];
    if (xt->ndim < 1) return tx_unsupported(t, i, "input rank unknown");
    int64_t rest_in = 1, rest_out = 1;
    int neg_rest = 0;
    for (int32_t k = 1; k < xt->ndim; k++) rest_in *= xt->dims[k] > 0 ? xt->dims[k] : 0;
    for (int32_t k = 1; k < n; k++) {
        if (shp[k] == -1) neg_rest++;
        else if (shp[k] < 1 || shp[k] > (int32_t)LFR_MAX_TENSOR_ELEMS)
            return tx_unsupported(t, i, "shape element out of range");
        else rest_out *= shp[k];
        if (rest_out > LFR_MAX_TENSOR_ELEMS)
            return tx_unsupported(t, i, "shape too large");
    }
    if (neg_rest > 1) return tx_unsupported(t, i, "more than one -1 in the shape");
    /* The batch becomes 0 (copy): only when the reshape keeps it. */
    if ((shp[0] == -1 && !neg_rest && rest_out == rest_in) ||
        (shp[0] == xt->dims[0] && (neg_rest || rest_out == rest_in)))
        shp[0] = 0;
    else
        return tx_unsupported(t, i, "the reshape does not keep the batch");
    int32_t p[LFR_NN_NPARAMS] = {0};
    p[LFR_NN_P_NDIM] = n;
    for (int32_t k = 0; k < n; k++) p[1 + k] = shp[k];
    if ((st = tx_define(t, i, op->out[0], &y)) != LFR_OK) return st;
    return add_node(t->c, LFR_NN_OP_RESHAPE, &x, 1, y, p);
}

static lfr_status tx_op(tx *t, int32_t i) {
    const lfr_tfl_op *op = &t->m->ops[i];
    int32_t p[LFR_NN_NPARAMS] = {0};
    int32_t x, y;
    lfr_status st;
    if (op->n_out != 1) return tx_unsupported(t, i, "needs one output");
    int32_t out = op->out[0];
    switch (t->fold[i]) {
    case FOLD_PRELU_NEG:
        t->c->prelu_neg++;
        return tx_prelu(t, i, t->fold_x[i], t->fold_c[i], 1.0f);
    case FOLD_PRELU_ABS:
        t->c->prelu_abs++;
        return tx_prelu(t, i, t->fold_x[i], t->fold_c[i], 2.0f);
    case FOLD_SOFTMAX:
        t->c->softmax++;
        if ((st = tx_act(t, i, t->fold_x[i], &x)) != LFR_OK) return st;
        if ((st = tx_define(t, i, out, &y)) != LFR_OK) return st;
        t->hw[out][0] = t->hw[t->fold_x[i]][0];
        t->hw[out][1] = t->hw[t->fold_x[i]][1];
        return add_node(t->c, LFR_NN_OP_SOFTMAX, &x, 1, y, NULL);
    default:
        break;
    }
    /* Element-wise ops keep the nominal spatial size of input 0. */
    if (op->n_in >= 1 && op->in[0] >= 0) {
        t->hw[out][0] = t->hw[op->in[0]][0];
        t->hw[out][1] = t->hw[op->in[0]][1];
    }
    switch (op->code) {
    case LFR_TFL_CONV_2D: return tx_conv(t, i, 0);
    case LFR_TFL_DEPTHWISE_CONV_2D: return tx_conv(t, i, 1);
    case LFR_TFL_FULLY_CONNECTED: return tx_fc(t, i);
    case LFR_TFL_RESHAPE: return tx_reshape(t, i);
    case LFR_TFL_MAX_POOL_2D:
        if (op->n_in != 1 || op->opt.act != LFR_TFL_ACT_NONE)
            return tx_unsupported(t, i, "needs one input and no activation");
        if ((st = tx_act(t, i, op->in[0], &x)) != LFR_OK) return st;
        if ((st = tx_window(t, i, op->in[0], out, op->opt.filter_h,
                            op->opt.filter_w, p)) != LFR_OK)
            return st;
        p[LFR_NN_P_DH] = p[LFR_NN_P_DW] = 0;   /* MAXPOOL has no dilation */
        if ((st = tx_define(t, i, out, &y)) != LFR_OK) return st;
        return add_node(t->c, LFR_NN_OP_MAXPOOL, &x, 1, y, p);
    case LFR_TFL_RELU:
        if (op->n_in != 1) return tx_unsupported(t, i, "needs one input");
        if ((st = tx_act(t, i, op->in[0], &x)) != LFR_OK) return st;
        if ((st = tx_define(t, i, out, &y)) != LFR_OK) return st;
        return add_node(t->c, LFR_NN_OP_RELU, &x, 1, y, NULL);
    case LFR_TFL_SOFTMAX:
        if (op->n_in != 1 || op->opt.beta != 1.0f)
            return tx_unsupported(t, i, "needs one input and beta 1");
        if ((st = tx_act(t, i, op->in[0], &x)) != LFR_OK) return st;
        if ((st = tx_define(t, i, out, &y)) != LFR_OK) return st;
        return add_node(t->c, LFR_NN_OP_SOFTMAX, &x, 1, y, NULL);
    case LFR_TFL_PRELU:
        if (op->n_in != 2 || !is_const(t, op->in[1]))
            return tx_unsupported(t, i, "slope must be a constant");
        return tx_prelu(t, i, op->in[0], op->in[1], 1.0f);
    case LFR_TFL_ADD: {
        int32_t ids[2];
        if (op->n_in != 2 || (op->opt.act != LFR_TFL_ACT_NONE &&
                              op->opt.act != LFR_TFL_ACT_RELU))
            return tx_unsupported(t, i, "needs two inputs and at most RELU");
        if ((st = tx_act(t, i, op->in[0], &ids[0])) != LFR_OK) return st;
        if ((st = tx_act(t, i, op->in[1], &ids[1])) != LFR_OK) return st;
        const lfr_tfl_tensor *a = &t->m->tensors[op->in[0]], *b = &t->m->tensors[op->in[1]];
        if (a->ndim != b->ndim ||
            memcmp(a->dims, b->dims, sizeof a->dims[0] * (size_t)a->ndim) != 0)
            return tx_unsupported(t, i, "broadcasting is not supported");
        if ((st = tx_define(t, i, out, &y)) != LFR_OK) return st;
        p[LFR_NN_P_ACT] = op->opt.act == LFR_TFL_ACT_RELU ? LFR_NN_ACT_RELU : 0;
        return add_node(t->c, LFR_NN_OP_ADD, ids, 2, y, p);
    }
    case LFR_TFL_CONCATENATION: {
        int32_t ids[LFR_MAX_NODE_INPUTS];
        if (op->n_in < 2 || op->n_in > LFR_MAX_NODE_INPUTS ||
            op->opt.act != LFR_TFL_ACT_NONE)
            return tx_unsupported(t, i, "needs 2..8 inputs and no activation");
        for (int32_t k = 0; k < op->n_in; k++)
            if ((st = tx_act(t, i, op->in[k], &ids[k])) != LFR_OK) return st;
        int32_t rank = t->m->tensors[out].ndim, axis = op->opt.axis;
        if (axis < 0) axis += rank;
        if (rank < 1 || rank > LFR_NN_MAX_DIMS || axis < 0 || axis >= rank)
            return tx_unsupported(t, i, "axis out of range");
        if ((st = tx_define(t, i, out, &y)) != LFR_OK) return st;
        p[LFR_NN_P_AXIS] = axis;
        return add_node(t->c, LFR_NN_OP_CONCAT, ids, op->n_in, y, p);
    }
    default:
        return tx_unsupported(t, i, "operator not supported (or part of a "
                                    "pattern that did not match exactly)");
    }
}

static lfr_status convert_tflite(cv *c, const uint8_t *src, size_t len) {
    lfr_tfl_model m;
    lfr_status st = lfr_tfl_parse(src, len, &m, c->err);
    if (st != LFR_OK) return st;
    tx t;
    memset(&t, 0, sizeof t);
    t.c = c;
    t.m = &m;
    c->src_ops = m.n_ops;
    size_t nt = (size_t)m.n_tensors + 1, no = (size_t)m.n_ops + 1;
    t.gid = lfr_malloc(nt * sizeof *t.gid);
    t.uses = lfr_calloc(nt, sizeof *t.uses);
    t.prod = lfr_malloc(nt * sizeof *t.prod);
    t.out_idx = lfr_malloc(nt * sizeof *t.out_idx);
    t.hw = lfr_calloc(nt, sizeof *t.hw);
    t.member = lfr_calloc(no, 1);
    t.fold = lfr_calloc(no, sizeof *t.fold);
    t.fold_x = lfr_calloc(no, sizeof *t.fold_x);
    t.fold_c = lfr_calloc(no, sizeof *t.fold_c);
    if (!t.gid || !t.uses || !t.prod || !t.out_idx || !t.hw || !t.member ||
        !t.fold || !t.fold_x || !t.fold_c) {
        st = lfr_err_set(c->err, LFR_ERR_NOMEM, "convert: out of memory");
        goto out;
    }
    for (size_t k = 0; k < nt; k++) t.gid[k] = t.prod[k] = t.out_idx[k] = -1;
    for (int32_t i = 0; i < m.n_ops; i++) {
        const lfr_tfl_op *op = &m.ops[i];
        for (int32_t k = 0; k < op->n_in; k++)
            if (op->in[k] >= 0) t.uses[op->in[k]]++;
        for (int32_t k = 0; k < op->n_out; k++) {
            if (t.prod[op->out[k]] >= 0) {
                st = lfr_err_set(c->err, LFR_ERR_CORRUPT,
                                 "TFLite: a tensor is written by two operators");
                goto out;
            }
            t.prod[op->out[k]] = i;
        }
    }

    /* Outputs: matched to the arch's by their last dimension. */
    const lfr_cv_arch *a = c->arch;
    if (m.n_outputs != a->n_outputs) {
        st = lfr_err_set(c->err, LFR_ERR_UNSUPPORTED,
                         "TFLite: the graph has %d outputs, %s has %d",
                         (int)m.n_outputs, a->name, (int)a->n_outputs);
        goto out;
    }
    for (int32_t k = 0; k < a->n_outputs; k++) {
        int32_t found = -1;
        for (int32_t j = 0; j < m.n_outputs && found < 0; j++) {
            int32_t ti = m.outputs[j];
            if (t.out_idx[ti] >= 0) continue;
            if (a->out_last_dim[k] == 0 || chans_of(&t, ti) == a->out_last_dim[k])
                found = ti;
        }
        if (found < 0) {
            st = lfr_err_set(c->err, LFR_ERR_UNSUPPORTED,
                             "TFLite: no graph output has %d channels for "
                             "'%s'", (int)a->out_last_dim[k], a->out_names[k]);
            goto out;
        }
        t.out_idx[found] = k;
        t.uses[found]++;
    }

    /* The input: [0, h, w, C]; batch 0 = any (MobileFaceNet's file says 2). */
    if (m.n_inputs != 1) {
        st = lfr_err_set(c->err, LFR_ERR_UNSUPPORTED,
                         "TFLite: the graph needs exactly one input");
        goto out;
    }
    {
        int32_t ti = m.inputs[0];
        const lfr_tfl_tensor *it = &m.tensors[ti];
        if (it->ndim != 4 || it->type != LFR_TFL_FLOAT32 || it->dims[3] < 1 ||
            it->dims[3] > 64 || is_const(&t, ti) || t.prod[ti] >= 0) {
            st = lfr_err_set(c->err, LFR_ERR_UNSUPPORTED,
                             "TFLite: the input must be a float NHWC tensor");
            goto out;
        }
        int32_t d[4] = {0, a->fixed_size ? a->height : 0,
                        a->fixed_size ? a->width : 0, it->dims[3]};
        char name[LFR_MAX_NAME];
        make_name(name, it->name, "input", ti);
        if ((st = add_value(c, name, 4, d, &t.gid[ti])) != LFR_OK) goto out;
        t.hw[ti][0] = a->height;
        t.hw[ti][1] = a->width;
        c->g->inputs[0] = t.gid[ti];
        c->g->n_inputs = 1;
    }

    /* Pass 1: fold patterns; pass 2: emit. */
    for (int32_t i = 0; i < m.n_ops; i++) {
        const lfr_tfl_op *op = &m.ops[i];
        if (op->n_out != 1 || op->opt.act != LFR_TFL_ACT_NONE) continue;
        if (op->code == LFR_TFL_ADD && op->n_in == 2) {
            if (!match_prelu_neg(&t, i)) (void)match_prelu_abs(&t, i);
        } else if (op->code == LFR_TFL_DIV && op->n_in == 2) {
            (void)match_softmax(&t, i);
        }
    }
    /* A member claimed by an anchor that is itself a member of a later
     * pattern would be emitted wrongly; the uses == 1 checks rule that out
     * for every intermediate, so no further check is needed here. */
    for (int32_t i = 0; i < m.n_ops; i++) {
        if (t.member[i]) {
            c->dropped++;
            continue;
        }
        if ((st = tx_op(&t, i)) != LFR_OK) goto out;
    }
    for (int32_t k = 0; k < m.n_outputs; k++) {
        for (int32_t j = 0; j < m.n_outputs; j++) {
            int32_t ti = m.outputs[j];
            if (t.out_idx[ti] != k) continue;
            if (t.gid[ti] < 0 || is_const(&t, ti)) {
                st = lfr_err_set(c->err, LFR_ERR_UNSUPPORTED,
                                 "TFLite: output '%s' is not computed",
                                 a->out_names[k]);
                goto out;
            }
            c->g->outputs[k] = t.gid[ti];
        }
    }
    c->g->n_outputs = a->n_outputs;
out:
    lfr_free(t.gid);
    lfr_free(t.uses);
    lfr_free(t.prod);
    lfr_free(t.out_idx);
    lfr_free(t.hw);
    lfr_free(t.member);
    lfr_free(t.fold);
    lfr_free(t.fold_x);
    lfr_free(t.fold_c);
    lfr_tfl_free(&m);
    return st;
}

/* ======================================================================= */

lfr_status lfr_convert(const char *arch, const uint8_t *src, size_t len,
                       lfr_nn_graph *out, lfr_err *err) {
    const lfr_cv_arch *a = lfr_cv_arch_find(arch);
    if (!a) {
        (void)lfr_nn_graph_init(out);
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "convert: unknown arch '%s' (rfb, onet, "
                           "mobilefacenet, pnet, rnet, mfn512, lm68)", arch ? arch : "(null)");
    }
    return lfr_convert_with(a, src, len, out, err);
}

lfr_status lfr_convert_with(const lfr_cv_arch *a, const uint8_t *src,
                            size_t len, lfr_nn_graph *out, lfr_err *err) {
    lfr_status st = lfr_nn_graph_init(out);
    if (st != LFR_OK) return lfr_err_set(err, st, "convert: cannot start a graph");
    if (!a || a->n_outputs < 1 || a->n_outputs > LFR_CV_MAX_OUTPUTS)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "convert: bad arch row");
    if (!src && len) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "convert: no input");
    cv c;
    memset(&c, 0, sizeof c);
    c.g = out;
    c.err = err;
    c.arch = a;
    st = a->format == LFR_CV_ONNX ? convert_onnx(&c, src, len)
                                  : convert_tflite(&c, src, len);
    struct { const char *k, *v; } meta[] = {
        {"arch", a->name}, {"converter", "openlfr-convert 1"},
        {"input.layout", a->layout}, {"input.mean", a->mean},
        {"input.scale", a->scale}, {"input.transpose", a->transpose},
        {"input.width", NULL}, {"input.height", NULL}};
    for (size_t k = 0; st == LFR_OK && k < sizeof meta / sizeof meta[0]; k++) {
        char v[32];
        const char *val = meta[k].v;
        if (!val) {
            snprintf(v, sizeof v, "%d",
                     (int)(strcmp(meta[k].k, "input.width") == 0 ? a->width : a->height));
            val = v;
        }
        st = lfr_nn_graph_set_meta(out, meta[k].k, val);
        if (st != LFR_OK) st = gfail(&c, st, "metadata");
    }
    if (st == LFR_OK) {
        lfr_log(LFR_LOG_DEBUG,
                "convert %s: %d source ops -> %d nodes, %d tensors; folded "
                "%d PReLU relu/neg, %d PReLU relu/abs, %d softmax; fused %d "
                "relu; dropped %d ops",
                a->name, c.src_ops, (int)out->n_nodes, (int)out->n_tensors,
                c.prelu_neg, c.prelu_abs, c.softmax, c.fused_relu, c.dropped);
        st = lfr_nn_graph_validate(out, err);
    }
    if (st != LFR_OK) {
        lfr_nn_graph_free(out);
        (void)lfr_nn_graph_init(out);
    }
    return st;
}

lfr_status lfr_convert_file(const char *arch, const char *in_path,
                            const char *out_path, const char *const *meta_kv,
                            lfr_err *err) {
    uint8_t *buf = NULL;
    size_t len = 0;
    lfr_status st = lfr_read_file(in_path, LFR_MAX_SOURCE_MODEL_BYTES, &buf, &len);
    if (st != LFR_OK)
        return lfr_err_set(err, st, "convert: cannot read %s (%s)", in_path,
                           lfr_status_message(st));
    lfr_nn_graph g;
    st = lfr_convert(arch, buf, len, &g, err);
    lfr_free(buf);
    for (int k = 0; st == LFR_OK && meta_kv && meta_kv[k]; k += 2) {
        if (!meta_kv[k + 1]) {
            st = lfr_err_set(err, LFR_ERR_INVALID_ARG,
                             "convert: metadata key '%s' has no value", meta_kv[k]);
            break;
        }
        st = lfr_nn_graph_set_meta(&g, meta_kv[k], meta_kv[k + 1]);
        if (st != LFR_OK)
            st = lfr_err_set(err, st, "convert: cannot set metadata '%s'", meta_kv[k]);
    }
    if (st == LFR_OK) st = lfr_nn_graph_write(&g, out_path, err);
    lfr_nn_graph_free(&g);
    return st;
}
