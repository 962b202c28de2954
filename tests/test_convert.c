/*
 * test_convert.c - the model converter: tiny hand-built ONNX (protobuf) and
 * TFLite (flatbuffer) models, pattern folds, corrupt input, and the five
 * real networks when their source files are present.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/convert.h"
#include "harness.h"

/* A growable byte buffer ---------------------------------------------------- */
typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void put8(buf *b, uint8_t v) { put(b, &v, 1); }
static void bfree(buf *b) { free(b->p); memset(b, 0, sizeof *b); }

/* Protobuf encoder ------------------------------------------------------------ */
static void pv(buf *b, uint64_t v) {
    while (v >= 0x80) { put8(b, (uint8_t)(v | 0x80)); v >>= 7; }
    put8(b, (uint8_t)v);
}
static void pkey(buf *b, int f, int wt) { pv(b, (uint64_t)f << 3 | (uint64_t)wt); }
static void pint(buf *b, int f, int64_t v) { pkey(b, f, 0); pv(b, (uint64_t)v); }
static void pbytes(buf *b, int f, const void *d, size_t n) { pkey(b, f, 2); pv(b, n); put(b, d, n); }
static void pstr(buf *b, int f, const char *s) { pbytes(b, f, s, strlen(s)); }
static void pmsg(buf *b, int f, buf *m) { pbytes(b, f, m->p, m->n); bfree(m); }

static void onnx_tensor_f(buf *g, int field, const char *name, int nd,
                          const int64_t *dims, const float *v, int raw) {
    buf t = {0};
    size_t n = 1;
    for (int i = 0; i < nd; i++) { pint(&t, 1, dims[i]); n *= (size_t)dims[i]; }
    pint(&t, 2, 1);
    pstr(&t, 8, name);
    if (raw) pbytes(&t, 9, v, 4 * n);
    else pbytes(&t, 4, v, 4 * n);  /* packed float_data */
    pmsg(g, field, &t);
}
static void onnx_tensor_i64(buf *g, int field, const char *name, int nd,
                            const int64_t *dims, const int64_t *v, size_t n) {
    buf t = {0};
    for (int i = 0; i < nd; i++) pint(&t, 1, dims[i]);
    pint(&t, 2, 7);
    pstr(&t, 8, name);
    buf pk = {0};
    for (size_t i = 0; i < n; i++) pv(&pk, (uint64_t)v[i]);
    pmsg(&t, 7, &pk);
    pmsg(g, field, &t);
}
static void attr_ints(buf *node, const char *name, int n, const int64_t *v) {
    buf a = {0};
    pstr(&a, 1, name);
    for (int i = 0; i < n; i++) pint(&a, 8, v[i]);
    pint(&a, 20, 7);
    pmsg(node, 5, &a);
}
static void attr_int(buf *node, const char *name, int64_t v) {
    buf a = {0};
    pstr(&a, 1, name);
    pint(&a, 3, v);
    pint(&a, 20, 2);
    pmsg(node, 5, &a);
}
/* node(op, inputs..., NULL, outputs..., NULL) -> returns the node buffer */
static buf node(const char *op, const char *const *in, const char *const *out) {
    buf n = {0};
    for (; *in; in++) pstr(&n, 1, *in);
    for (; *out; out++) pstr(&n, 2, *out);
    pstr(&n, 4, op);
    return n;
}
static void value_info(buf *g, int field, const char *name, int nd, const int64_t *dims) {
    buf vi = {0}, ty = {0}, tt = {0}, sh = {0};
    for (int i = 0; i < nd; i++) {
        buf d = {0};
        pint(&d, 1, dims[i]);
        pmsg(&sh, 1, &d);
    }
    pint(&tt, 1, 1);
    pmsg(&tt, 2, &sh);
    pmsg(&ty, 1, &tt);
    pstr(&vi, 1, name);
    pmsg(&vi, 2, &ty);
    pmsg(g, field, &vi);
}
static buf onnx_model(buf *graph) {
    buf m = {0}, os = {0};
    pint(&m, 1, 6);
    pint(&os, 2, 9);
    pmsg(&m, 8, &os);
    pmsg(&m, 7, graph);
    return m;
}

#define L(...) (const char *const[]){__VA_ARGS__, NULL}

/* Conv(2->3, 3x3, pad 1) + Relu on x [1,2,5,6]. */
static float conv_w[3 * 2 * 3 * 3], conv_b[3];
static buf onnx_conv_relu(void) {
    for (int i = 0; i < 54; i++) conv_w[i] = (float)((i * 7) % 11) * 0.1f - 0.5f;
    conv_b[0] = 0.1f; conv_b[1] = -0.2f; conv_b[2] = 0.3f;
    buf g = {0};
    buf n1 = node("Conv", L("x", "w", "b"), L("c"));
    attr_ints(&n1, "kernel_shape", 2, (int64_t[]){3, 3});
    attr_ints(&n1, "pads", 4, (int64_t[]){1, 1, 1, 1});
    attr_ints(&n1, "strides", 2, (int64_t[]){1, 1});
    attr_int(&n1, "group", 1);
    pmsg(&g, 1, &n1);
    buf n2 = node("Relu", L("c"), L("y"));
    pmsg(&g, 1, &n2);
    pstr(&g, 2, "g");
    onnx_tensor_f(&g, 5, "w", 4, (int64_t[]){3, 2, 3, 3}, conv_w, 0);
    onnx_tensor_f(&g, 5, "b", 1, (int64_t[]){3}, conv_b, 1);
    value_info(&g, 11, "x", 4, (int64_t[]){1, 2, 5, 6});
    value_info(&g, 11, "w", 4, (int64_t[]){3, 2, 3, 3});
    value_info(&g, 12, "y", 0, NULL);
    return onnx_model(&g);
}

static const lfr_cv_arch test_onnx_arch = {
    "test", LFR_CV_ONNX, "0", "1", "NHWC RGB", "0", 6, 5, 0, 1,
    {"out"}, {NULL}, {0}};

static lfr_nn_model *to_model(const lfr_nn_graph *g) {
    uint8_t *b = NULL;
    size_t n = 0;
    lfr_err err = {{0}};
    lfr_nn_model *m = NULL;
    if (lfr_nn_graph_serialize(g, &b, &n, &err) != LFR_OK) {
        fprintf(stderr, "  serialize: %s\n", err.msg);
        return NULL;
    }
    if (lfr_nn_model_load_mem(b, n, &m, &err) != LFR_OK) {
        fprintf(stderr, "  load: %s\n", err.msg);
        m = NULL;
    }
    lfr_free(b);
    return m;
}

static void test_onnx_conv_relu(void) {
    buf m = onnx_conv_relu();
    lfr_nn_graph g;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_convert_with(&test_onnx_arch, m.p, m.n, &g, &err), LFR_OK);
    if (err.msg[0]) fprintf(stderr, "  err: %s\n", err.msg);
    CHECK_EQ_INT(g.n_nodes, 1);
    if (g.n_nodes == 1) {
        const lfr_nn_node *n = &g.nodes[0];
        CHECK_EQ_INT(n->op, LFR_NN_OP_CONV2D);
        CHECK_EQ_INT(n->p[LFR_NN_P_ACT], LFR_NN_ACT_RELU);
        CHECK_EQ_INT(n->p[LFR_NN_P_PT], 1);
        CHECK_EQ_INT(n->p[LFR_NN_P_PR], 1);
        CHECK_EQ_INT(n->p[LFR_NN_P_GROUPS], 1);
        CHECK_EQ_INT(n->p[LFR_NN_P_SAME], 0);
        const lfr_nn_tensor *w = &g.tensors[n->in[1]];
        CHECK_EQ_INT(w->shape.d[0], 3);
        CHECK_EQ_INT(w->shape.d[1], 3);
        CHECK_EQ_INT(w->shape.d[2], 3);
        CHECK_EQ_INT(w->shape.d[3], 2);
        int bad = 0;
        for (int o = 0; o < 3; o++)
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < 3; y++)
                    for (int x = 0; x < 3; x++)
                        if (w->data[((o * 3 + y) * 3 + x) * 2 + c] !=
                            conv_w[((o * 2 + c) * 3 + y) * 3 + x])
                            bad++;
        CHECK_EQ_INT(bad, 0);
        CHECK(strcmp(g.tensors[n->out].name, "out") == 0);
        CHECK(strcmp(g.tensors[g.inputs[0]].name, "x") == 0);
        CHECK_EQ_INT(g.tensors[g.inputs[0]].shape.d[3], 2);
    }
    CHECK(lfr_nn_graph_get_meta(&g, "converter") != NULL);

    /* Run it and compare with a direct NCHW convolution. */
    lfr_nn_model *mod = to_model(&g);
    CHECK(mod != NULL);
    lfr_nn_ctx *c = NULL;
    if (mod && lfr_nn_ctx_new(mod, LFR_NN_BACKEND_REF, &c) == LFR_OK &&
        lfr_nn_ctx_plan(c, 1, 5, 6, &err) == LFR_OK) {
        lfr_nn_shape s;
        float *in = lfr_nn_ctx_input(c, 0, &s);
        float xin[2][5][6];
        for (int ch = 0; ch < 2; ch++)
            for (int y = 0; y < 5; y++)
                for (int x = 0; x < 6; x++) {
                    xin[ch][y][x] = (float)((ch * 31 + y * 7 + x * 3) % 13) * 0.1f - 0.6f;
                    in[(y * 6 + x) * 2 + ch] = xin[ch][y][x];
                }
        CHECK_STATUS(lfr_nn_ctx_run(c), LFR_OK);
        const float *out = lfr_nn_ctx_output(c, 0, &s);
        CHECK_EQ_INT(s.d[3], 3);
        double maxe = 0;
        for (int o = 0; o < 3; o++)
            for (int y = 0; y < 5; y++)
                for (int x = 0; x < 6; x++) {
                    double acc = conv_b[o];
                    for (int ch = 0; ch < 2; ch++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = y + ky - 1, ix = x + kx - 1;
                                if (iy < 0 || iy >= 5 || ix < 0 || ix >= 6) continue;
                                acc += xin[ch][iy][ix] * conv_w[((o * 2 + ch) * 3 + ky) * 3 + kx];
                            }
                    if (acc < 0) acc = 0;
                    double e = fabs(acc - out[(y * 6 + x) * 3 + o]);
                    if (e > maxe) maxe = e;
                }
        CHECK_NEAR(maxe, 0.0, 1e-5);
    } else {
        CHECK(0);
    }
    lfr_nn_ctx_destroy(c);
    lfr_nn_model_destroy(mod);
    lfr_nn_graph_free(&g);
    bfree(&m);
}

/* The RFB head: Conv -> Mul(1.0) -> Transpose(0,2,3,1) -> Reshape(shape from
 * Shape/Gather/Unsqueeze/Concat) -> Softmax.  mul = the scalar constant. */
static buf onnx_head_named(float mul, int rfb_names);
static buf onnx_head(float mul) { return onnx_head_named(mul, 0); }
static buf onnx_head_named(float mul, int rfb_names) {
    static float w[4 * 4], b[4];
    for (int i = 0; i < 16; i++) w[i] = (float)(i % 5) * 0.25f;
    buf g = {0};
    buf n = node("Conv", L("x", "w", "b"), L("h"));
    attr_ints(&n, "kernel_shape", 2, (int64_t[]){1, 1});
    pmsg(&g, 1, &n);
    buf cst = {0}, a = {0};
    onnx_tensor_f(&cst, 5, "", 0, NULL, &mul, 1);   /* field 5 = tensor t */
    pstr(&a, 1, "value");
    put(&a, cst.p, cst.n);
    bfree(&cst);
    pint(&a, 20, 4);
    n = node("Constant", L(NULL), L("one"));
    pmsg(&n, 5, &a);
    pmsg(&g, 1, &n);
    n = node("Mul", L("h", "one"), L("m"));
    pmsg(&g, 1, &n);
    n = node("Transpose", L("m"), L("t"));
    attr_ints(&n, "perm", 4, (int64_t[]){0, 2, 3, 1});
    pmsg(&g, 1, &n);
    n = node("Shape", L("t"), L("s"));
    pmsg(&g, 1, &n);
    buf cz = {0}, az = {0};
    onnx_tensor_i64(&cz, 5, "", 0, NULL, (int64_t[]){0}, 1);
    pstr(&az, 1, "value");
    put(&az, cz.p, cz.n);
    bfree(&cz);
    pint(&az, 20, 4);
    n = node("Constant", L(NULL), L("zero"));
    pmsg(&n, 5, &az);
    pmsg(&g, 1, &n);
    n = node("Gather", L("s", "zero"), L("gt"));
    attr_int(&n, "axis", 0);
    pmsg(&g, 1, &n);
    n = node("Unsqueeze", L("gt"), L("u"));
    attr_ints(&n, "axes", 1, (int64_t[]){0});
    pmsg(&g, 1, &n);
    n = node("Concat", L("u", "m1", "k"), L("shp"));
    attr_int(&n, "axis", 0);
    pmsg(&g, 1, &n);
    n = node("Reshape", L("t", "shp"), L("r"));
    pmsg(&g, 1, &n);
    n = node("Softmax", L("r"), L(rfb_names ? "scores" : "sm"));
    attr_int(&n, "axis", 2);
    pmsg(&g, 1, &n);
    if (rfb_names) {          /* a second output for the rfb cut points */
        n = node("Relu", L("r"), L("462"));
        pmsg(&g, 1, &n);
    }
    onnx_tensor_f(&g, 5, "w", 4, (int64_t[]){4, 4, 1, 1}, w, 1);
    onnx_tensor_f(&g, 5, "b", 1, (int64_t[]){4}, b, 1);
    onnx_tensor_i64(&g, 5, "m1", 1, (int64_t[]){1}, (int64_t[]){-1}, 1);
    onnx_tensor_i64(&g, 5, "k", 1, (int64_t[]){1}, (int64_t[]){2}, 1);
    value_info(&g, 11, "x", 4, (int64_t[]){1, 4, 3, 3});
    value_info(&g, 12, rfb_names ? "scores" : "sm", 0, NULL);
    return onnx_model(&g);
}

static void test_onnx_head(void) {
    buf m = onnx_head(1.0f);
    lfr_nn_graph g;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_convert_with(&test_onnx_arch, m.p, m.n, &g, &err), LFR_OK);
    if (err.msg[0]) fprintf(stderr, "  err: %s\n", err.msg);
    CHECK_EQ_INT(g.n_nodes, 3);
    if (g.n_nodes == 3) {
        CHECK_EQ_INT(g.nodes[0].op, LFR_NN_OP_CONV2D);
        CHECK_EQ_INT(g.nodes[1].op, LFR_NN_OP_RESHAPE);
        CHECK_EQ_INT(g.nodes[1].p[0], 3);
        CHECK_EQ_INT(g.nodes[1].p[1], 0);
        CHECK_EQ_INT(g.nodes[1].p[2], -1);
        CHECK_EQ_INT(g.nodes[1].p[3], 2);
        CHECK_EQ_INT(g.nodes[2].op, LFR_NN_OP_SOFTMAX);
    }
    lfr_nn_model *mod = to_model(&g);
    lfr_nn_ctx *c = NULL;
    if (mod && lfr_nn_ctx_new(mod, LFR_NN_BACKEND_REF, &c) == LFR_OK &&
        lfr_nn_ctx_plan(c, 1, 3, 3, &err) == LFR_OK) {
        lfr_nn_shape s;
        lfr_nn_ctx_output(c, 0, &s);
        CHECK_EQ_INT(s.ndim, 3);
        CHECK_EQ_INT(s.d[1], 18);
        CHECK_EQ_INT(s.d[2], 2);
    } else {
        CHECK(0);
    }
    lfr_nn_ctx_destroy(c);
    lfr_nn_model_destroy(mod);
    lfr_nn_graph_free(&g);
    bfree(&m);

    /* Mul by anything but 1.0 is refused, not silently dropped. */
    m = onnx_head(2.0f);
    CHECK_STATUS(lfr_convert_with(&test_onnx_arch, m.p, m.n, &g, &err),
                 LFR_ERR_UNSUPPORTED);
    CHECK_EQ_INT(g.n_nodes, 0);
    lfr_nn_graph_free(&g);
    bfree(&m);
}

/* FlatBuffer (forward) encoder ------------------------------------------------ */
/* Layout: every table is [vtable][soffset][4-byte slots]; references are
 * patched once their target is written (targets always come later). */
static void align4(buf *b) { while (b->n % 4) put8(b, 0); }
static void set32(buf *b, size_t at, uint32_t v) { memcpy(b->p + at, &v, 4); }
/* Writes a table with nf 4-byte fields; present[i] = 0 absent, 1 scalar,
 * 2 reference (slot returned in slot[i]).  Returns the table position. */
static size_t fbt(buf *b, int nf, const int *present, const uint32_t *val, size_t *slot) {
    align4(b);
    int npres = 0;
    for (int i = 0; i < nf; i++) npres += present[i] != 0;
    uint16_t vs = (uint16_t)(4 + 2 * nf), ts = (uint16_t)(4 + 4 * npres);
    size_t vt = b->n;
    put(b, &vs, 2);
    put(b, &ts, 2);
    uint16_t off = 4;
    for (int i = 0; i < nf; i++) {
        uint16_t o = present[i] ? off : 0;
        if (present[i]) off += 4;
        put(b, &o, 2);
    }
    align4(b);
    size_t t = b->n;
    int32_t so = (int32_t)(t - vt);
    put(b, &so, 4);
    for (int i = 0; i < nf; i++) {
        if (!present[i]) continue;
        if (slot) slot[i] = b->n;
        uint32_t v = present[i] == 1 ? val[i] : 0;
        put(b, &v, 4);
    }
    return t;
}
static void patch(buf *b, size_t slot, size_t target) { set32(b, slot, (uint32_t)(target - slot)); }
static size_t fb_ints(buf *b, const int32_t *v, int n) {
    align4(b);
    size_t at = b->n;
    uint32_t nn = (uint32_t)n;
    put(b, &nn, 4);
    put(b, v, 4 * (size_t)n);
    return at;
}
static size_t fb_bytes(buf *b, const void *d, size_t n, int nul) {
    align4(b);
    size_t at = b->n;
    uint32_t nn = (uint32_t)n;
    put(b, &nn, 4);
    put(b, d, n);
    if (nul) put8(b, 0);
    return at;
}
static size_t fb_refvec(buf *b, int n) {
    align4(b);
    size_t at = b->n;
    uint32_t nn = (uint32_t)n;
    put(b, &nn, 4);
    for (int i = 0; i < n; i++) { uint32_t z = 0; put(b, &z, 4); }
    return at;
}

typedef struct ttensor {
    const char *name;
    int nd, dims[4];
    int type;
    const void *data;
    size_t nbytes;
} ttensor;
typedef struct top {
    int code, nin, in[4], nout, out[4];
    int otype, nopt;
    uint32_t opt[8];
} top;

static buf tflite(const ttensor *T, int nt, const top *O, int no, int in, const int *outs, int nouts) {
    buf b = {0};
    uint32_t z = 0;
    put(&b, &z, 4);
    put(&b, "TFL3", 4);
    size_t ms[5];
    size_t model = fbt(&b, 5, (int[]){1, 2, 2, 0, 2}, (uint32_t[]){3, 0, 0, 0, 0}, ms);
    set32(&b, 0, (uint32_t)model);
    /* operator codes: one per op */
    size_t cv = fb_refvec(&b, no);
    patch(&b, ms[1], cv);
    for (int i = 0; i < no; i++) {
        size_t s[4];
        size_t t = fbt(&b, 4, (int[]){1, 0, 0, 1},
                       (uint32_t[]){(uint32_t)(O[i].code < 127 ? O[i].code : 127), 0, 0,
                                    (uint32_t)O[i].code}, s);
        patch(&b, cv + 4 + 4 * (size_t)i, t);
    }
    /* buffers: 0 empty, then one per tensor */
    size_t bv = fb_refvec(&b, nt + 1);
    patch(&b, ms[4], bv);
    for (int i = 0; i <= nt; i++) {
        size_t s[1];
        int has = i > 0 && T[i - 1].data;
        size_t t = fbt(&b, 1, (int[]){has ? 2 : 0}, (uint32_t[]){0}, s);
        patch(&b, bv + 4 + 4 * (size_t)i, t);
        if (has) patch(&b, s[0], fb_bytes(&b, T[i - 1].data, T[i - 1].nbytes, 0));
    }
    /* one subgraph */
    size_t sv = fb_refvec(&b, 1);
    patch(&b, ms[2], sv);
    size_t ss[4];
    size_t sg = fbt(&b, 4, (int[]){2, 2, 2, 2}, NULL, ss);
    patch(&b, sv + 4, sg);
    size_t tv = fb_refvec(&b, nt);
    patch(&b, ss[0], tv);
    for (int i = 0; i < nt; i++) {
        size_t s[4];
        size_t t = fbt(&b, 4, (int[]){2, T[i].type ? 1 : 0, T[i].data ? 1 : 0, 2},
                       (uint32_t[]){0, (uint32_t)T[i].type, (uint32_t)(i + 1), 0}, s);
        patch(&b, tv + 4 + 4 * (size_t)i, t);
        patch(&b, s[0], fb_ints(&b, T[i].dims, T[i].nd));
        patch(&b, s[3], fb_bytes(&b, T[i].name, strlen(T[i].name), 1));
    }
    patch(&b, ss[1], fb_ints(&b, &in, 1));
    patch(&b, ss[2], fb_ints(&b, outs, nouts));
    size_t ov = fb_refvec(&b, no);
    patch(&b, ss[3], ov);
    for (int i = 0; i < no; i++) {
        size_t s[5];
        int hasopt = O[i].otype != 0;
        size_t t = fbt(&b, 5, (int[]){i ? 1 : 0, 2, 2, hasopt, hasopt ? 2 : 0},
                       (uint32_t[]){(uint32_t)i, 0, 0, (uint32_t)O[i].otype, 0}, s);
        patch(&b, ov + 4 + 4 * (size_t)i, t);
        patch(&b, s[1], fb_ints(&b, O[i].in, O[i].nin));
        patch(&b, s[2], fb_ints(&b, O[i].out, O[i].nout));
        if (hasopt) {
            int pres[8];
            for (int k = 0; k < 8; k++)    /* UINT32_MAX = field absent */
                pres[k] = k < O[i].nopt && O[i].opt[k] != UINT32_MAX;
            patch(&b, s[4], fbt(&b, O[i].nopt, pres, O[i].opt, NULL));
        }
    }
    return b;
}

static const lfr_cv_arch test_tfl_arch = {
    "test", LFR_CV_TFLITE, "0", "1", "NHWC RGB", "0", 4, 4, 0, 1,
    {"out"}, {NULL}, {0}};

/* x[1,4,4,2] -> decomposed PReLU (form: 0 relu/neg, 1 relu/abs) -> out */
static float slope[2] = {0.25f, -0.5f};
static buf tfl_prelu(int form) {
    ttensor T[8] = {
        {"x", 4, {1, 4, 4, 2}, 0, NULL, 0},
        {"alpha", 1, {2}, 0, slope, 8},
        {"r", 4, {1, 4, 4, 2}, 0, NULL, 0},
        {"n", 4, {1, 4, 4, 2}, 0, NULL, 0},
        {"r2", 4, {1, 4, 4, 2}, 0, NULL, 0},
        {"n2", 4, {1, 4, 4, 2}, 0, NULL, 0},
        {"m", 4, {1, 4, 4, 2}, 0, NULL, 0},
        {"y", 4, {1, 4, 4, 2}, 0, NULL, 0},
    };
    if (form == 0) {
        top O[6] = {
            {LFR_TFL_RELU, 1, {0}, 1, {2}, 0, 0, {0}},
            {LFR_TFL_NEG, 1, {0}, 1, {3}, 0, 0, {0}},
            {LFR_TFL_RELU, 1, {3}, 1, {4}, 0, 0, {0}},
            {LFR_TFL_NEG, 1, {4}, 1, {5}, 0, 0, {0}},
            {LFR_TFL_MUL, 2, {1, 5}, 1, {6}, 21, 0, {0}},
            {LFR_TFL_ADD, 2, {2, 6}, 1, {7}, 11, 0, {0}},
        };
        return tflite(T, 8, O, 6, 0, (int[]){7}, 1);
    }
    /* relu(x) + m * (x - |x|): n = |x|, n2 = x - |x| */
    top O[5] = {
        {LFR_TFL_RELU, 1, {0}, 1, {2}, 0, 0, {0}},
        {LFR_TFL_ABS, 1, {0}, 1, {3}, 0, 0, {0}},
        {LFR_TFL_SUB, 2, {0, 3}, 1, {5}, 28, 0, {0}},
        {LFR_TFL_MUL, 2, {1, 5}, 1, {6}, 21, 0, {0}},
        {LFR_TFL_ADD, 2, {2, 6}, 1, {7}, 11, 0, {0}},
    };
    return tflite(T, 8, O, 5, 0, (int[]){7}, 1);
}

static void check_prelu(int form) {
    buf m = tfl_prelu(form);
    lfr_nn_graph g;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_convert_with(&test_tfl_arch, m.p, m.n, &g, &err), LFR_OK);
    if (err.msg[0]) fprintf(stderr, "  err: %s\n", err.msg);
    CHECK_EQ_INT(g.n_nodes, 1);
    if (g.n_nodes == 1) {
        CHECK_EQ_INT(g.nodes[0].op, LFR_NN_OP_PRELU);
        const lfr_nn_tensor *s = &g.tensors[g.nodes[0].in[1]];
        float k = form == 0 ? 1.0f : 2.0f;
        CHECK_EQ_INT(s->shape.ndim, 1);
        CHECK_NEAR(s->data[0], k * slope[0], 0);
        CHECK_NEAR(s->data[1], k * slope[1], 0);
        CHECK(g.nodes[0].in[0] == g.inputs[0]);
    }
    lfr_nn_graph_free(&g);

    /* Every prefix of the file is an error, never a crash. */
    int ok = 0;
    for (size_t n = 0; n < m.n; n++) {
        uint8_t *cp = malloc(n + 1);
        memcpy(cp, m.p, n);
        if (lfr_convert_with(&test_tfl_arch, cp, n, &g, &err) == LFR_OK) ok++;
        lfr_nn_graph_free(&g);
        free(cp);
    }
    CHECK_EQ_INT(ok, 0);
    /* Every single-byte corruption: any status, no crash (ASan run). */
    for (size_t i = 0; i < m.n; i++) {
        uint8_t save = m.p[i];
        m.p[i] ^= 0xA5;
        (void)lfr_convert_with(&test_tfl_arch, m.p, m.n, &g, &err);
        lfr_nn_graph_free(&g);
        m.p[i] = save;
    }
    bfree(&m);
}

static void test_tflite_prelu_neg(void) { check_prelu(0); }
static void test_tflite_prelu_abs(void) { check_prelu(1); }

/* A pattern that does not match exactly is refused (MUL by a constant
 * outside the PReLU shape: relu(x) + a*relu(x)). */
static buf tfl_mismatch(void) {
    ttensor T[5] = {
        {"x", 4, {1, 4, 4, 2}, 0, NULL, 0},
        {"alpha", 1, {2}, 0, slope, 8},
        {"r", 4, {1, 4, 4, 2}, 0, NULL, 0},
        {"m", 4, {1, 4, 4, 2}, 0, NULL, 0},
        {"y", 4, {1, 4, 4, 2}, 0, NULL, 0},
    };
    top O[3] = {
        {LFR_TFL_RELU, 1, {0}, 1, {2}, 0, 0, {0}},
        {LFR_TFL_MUL, 2, {1, 0}, 1, {3}, 21, 0, {0}},
        {LFR_TFL_ADD, 2, {2, 3}, 1, {4}, 11, 0, {0}},
    };
    return tflite(T, 5, O, 3, 0, (int[]){4}, 1);
}

static void test_tflite_pattern_mismatch(void) {
    buf m = tfl_mismatch();
    lfr_nn_graph g;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_convert_with(&test_tfl_arch, m.p, m.n, &g, &err),
                 LFR_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "MUL") != NULL);
    lfr_nn_graph_free(&g);
    bfree(&m);
}

/* Softmax decomposed: REDUCE_MAX, SUB, EXP, SUM, DIV over the last axis,
 * after a SAME 3x3 stride-2 conv (absent padding field = SAME). */
static buf tfl_softmax(void) {
    static float w[2 * 3 * 3 * 2], b[2];
    for (int i = 0; i < 18 * 2; i++) w[i] = (float)(i % 3) * 0.1f;
    static int32_t axis = -1;
    ttensor T[10] = {
        {"x", 4, {1, 4, 4, 2}, 0, NULL, 0},
        {"w", 4, {2, 3, 3, 2}, 0, w, sizeof w},
        {"b", 1, {2}, 0, b, sizeof b},
        {"c", 4, {1, 2, 2, 2}, 0, NULL, 0},
        {"ax", 0, {0}, LFR_TFL_INT32, &axis, 4},
        {"mx", 4, {1, 2, 2, 1}, 0, NULL, 0},
        {"d", 4, {1, 2, 2, 2}, 0, NULL, 0},
        {"e", 4, {1, 2, 2, 2}, 0, NULL, 0},
        {"s", 4, {1, 2, 2, 1}, 0, NULL, 0},
        {"p", 4, {1, 2, 2, 2}, 0, NULL, 0},
    };
    top O[6] = {
        /* Conv2DOptions: padding absent (SAME), stride_w 2, stride_h 2 */
        {LFR_TFL_CONV_2D, 3, {0, 1, 2}, 1, {3}, 1, 3, {UINT32_MAX, 2, 2}},
        {LFR_TFL_REDUCE_MAX, 2, {3, 4}, 1, {5}, 27, 1, {1}},
        {LFR_TFL_SUB, 2, {3, 5}, 1, {6}, 28, 0, {0}},
        {LFR_TFL_EXP, 1, {6}, 1, {7}, 0, 0, {0}},
        {LFR_TFL_SUM, 2, {7, 4}, 1, {8}, 27, 1, {1}},
        {LFR_TFL_DIV, 2, {7, 8}, 1, {9}, 29, 0, {0}},
    };
    return tflite(T, 10, O, 6, 0, (int[]){9}, 1);
}

static void test_tflite_softmax_and_same(void) {
    buf m = tfl_softmax();
    lfr_nn_graph g;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_convert_with(&test_tfl_arch, m.p, m.n, &g, &err), LFR_OK);
    if (err.msg[0]) fprintf(stderr, "  err: %s\n", err.msg);
    CHECK_EQ_INT(g.n_nodes, 2);
    if (g.n_nodes == 2) {
        const lfr_nn_node *c = &g.nodes[0];
        CHECK_EQ_INT(c->op, LFR_NN_OP_CONV2D);
        CHECK_EQ_INT(c->p[LFR_NN_P_SAME], 1);     /* padding 0 = SAME */
        CHECK_EQ_INT(c->p[LFR_NN_P_SH], 2);
        /* nominal 4x4, k3 s2 SAME: total pad 1 -> top 0, bottom 1 */
        CHECK_EQ_INT(c->p[LFR_NN_P_PT], 0);
        CHECK_EQ_INT(c->p[LFR_NN_P_PB], 1);
        CHECK_EQ_INT(c->p[LFR_NN_P_DH], 1);       /* absent dilation = 1 */
        CHECK_EQ_INT(g.nodes[1].op, LFR_NN_OP_SOFTMAX);
    }
    lfr_nn_graph_free(&g);
    bfree(&m);
}

/* The mfn512 head: Conv(2->4, 3x3, no pad) -> PRelu -> Reshape to [b, d1].
 * slope_form: 0 [C,1,1], 1 [1,C,1,1], 2 scalar [1], 3 [C] (refused on NCHW),
 * 4 [C,1,2] (refused).  side: the input's spatial size (3 gives 1x1). */
static float fl_w[4 * 2 * 3 * 3], fl_b[4], fl_slope[4] = {0.25f, -0.5f, 0.125f, 2.0f};
static buf onnx_flat(int slope_form, int64_t b0, int64_t d1, int side) {
    for (int i = 0; i < 72; i++) fl_w[i] = (float)((i * 5) % 13) * 0.1f - 0.6f;
    for (int i = 0; i < 4; i++) fl_b[i] = 0.05f * (float)i - 0.3f;
    buf g = {0};
    buf n1 = node("Conv", L("x", "w", "b"), L("c"));
    attr_ints(&n1, "kernel_shape", 2, (int64_t[]){3, 3});
    attr_int(&n1, "group", 1);
    pmsg(&g, 1, &n1);
    buf n2 = node("PRelu", L("c", "slope"), L("p"));
    pmsg(&g, 1, &n2);
    buf n3 = node("Reshape", L("p", "shape"), L("y"));
    pmsg(&g, 1, &n3);
    pstr(&g, 2, "g");
    onnx_tensor_f(&g, 5, "w", 4, (int64_t[]){4, 2, 3, 3}, fl_w, 1);
    onnx_tensor_f(&g, 5, "b", 1, (int64_t[]){4}, fl_b, 1);
    static const int64_t sd[5][4] = {{4, 1, 1}, {1, 4, 1, 1}, {1}, {4}, {4, 1, 2}};
    static const int snd[5] = {3, 4, 1, 1, 3};
    float sl[8];
    for (int i = 0; i < 8; i++) sl[i] = fl_slope[i % 4];
    onnx_tensor_f(&g, 5, "slope", snd[slope_form], sd[slope_form], sl, 1);
    onnx_tensor_i64(&g, 5, "shape", 1, (int64_t[]){2}, (int64_t[]){b0, d1}, 2);
    value_info(&g, 11, "x", 4, (int64_t[]){1, 2, side, side});
    value_info(&g, 12, "y", 2, (int64_t[]){1, 4});
    return onnx_model(&g);
}

static const lfr_cv_arch test_fixed_arch = {
    "test", LFR_CV_ONNX, "0", "1", "NHWC RGB", "0", 3, 3, 1, 1, {"emb"}, {NULL}, {0}};

static lfr_status convert_flat(const lfr_cv_arch *a, int form, int64_t b0, int64_t d1,
                               int side, lfr_nn_graph *g, lfr_err *err) {
    buf m = onnx_flat(form, b0, d1, side);
    lfr_status st = lfr_convert_with(a, m.p, m.n, g, err);
    bfree(&m);
    return st;
}

/* PRelu [C,1,1] / [1,C,1,1] / scalar -> PRELU [C]; Reshape of a 1x1 NCHW
 * value -> RESHAPE [0,-1] (batch copied, so batch 2 runs); the result
 * equals a direct computation for each face. */
static void test_onnx_prelu_flatten(void) {
    for (int form = 0; form < 3; form++) {
        lfr_nn_graph g;
        lfr_err err = {{0}};
        CHECK_STATUS(convert_flat(&test_fixed_arch, form, 1, form == 1 ? 4 : -1, 3, &g, &err),
                     LFR_OK);
        if (err.msg[0]) fprintf(stderr, "  err: %s\n", err.msg);
        CHECK_EQ_INT(g.n_nodes, 3);
        if (g.n_nodes != 3) {
            lfr_nn_graph_free(&g);
            continue;
        }
        CHECK_EQ_INT(g.nodes[1].op, LFR_NN_OP_PRELU);
        CHECK_EQ_INT(g.tensors[g.nodes[1].in[1]].shape.ndim, 1);
        CHECK_EQ_INT(g.tensors[g.nodes[1].in[1]].shape.d[0], 4);
        CHECK_EQ_INT(g.nodes[2].op, LFR_NN_OP_RESHAPE);
        CHECK_EQ_INT(g.nodes[2].p[LFR_NN_P_NDIM], 2);
        CHECK_EQ_INT(g.nodes[2].p[1], 0);
        CHECK_EQ_INT(g.nodes[2].p[2], -1);
        CHECK_EQ_INT(g.tensors[g.inputs[0]].shape.d[0], 0);   /* any batch */
        CHECK(strcmp(g.tensors[g.outputs[0]].name, "emb") == 0);
        lfr_nn_model *mod = to_model(&g);
        lfr_nn_ctx *c = NULL;
        CHECK(mod != NULL);
        if (mod && lfr_nn_ctx_new(mod, LFR_NN_BACKEND_REF, &c) == LFR_OK &&
            lfr_nn_ctx_plan(c, 2, 3, 3, &err) == LFR_OK) {
            float *in = lfr_nn_ctx_input(c, 0, NULL);
            float xin[2][2][3][3];
            for (int f = 0; f < 2; f++)
                for (int ch = 0; ch < 2; ch++)
                    for (int y = 0; y < 3; y++)
                        for (int x = 0; x < 3; x++) {
                            xin[f][ch][y][x] = (float)((f * 17 + ch * 31 + y * 7 + x * 3) % 13) * 0.1f - 0.6f;
                            in[((f * 3 + y) * 3 + x) * 2 + ch] = xin[f][ch][y][x];
                        }
            CHECK_STATUS(lfr_nn_ctx_run(c), LFR_OK);
            lfr_nn_shape s;
            const float *out = lfr_nn_ctx_output(c, 0, &s);
            CHECK_EQ_INT(s.ndim, 2);
            CHECK_EQ_INT(s.d[0], 2);
            CHECK_EQ_INT(s.d[1], 4);
            double maxe = 0;
            int neg = 0;
            for (int f = 0; f < 2; f++)
                for (int o = 0; o < 4; o++) {
                    double acc = fl_b[o];
                    for (int ch = 0; ch < 2; ch++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++)
                                acc += xin[f][ch][ky][kx] * fl_w[((o * 2 + ch) * 3 + ky) * 3 + kx];
                    if (acc < 0) {
                        neg++;
                        acc *= fl_slope[form == 2 ? 0 : o];
                    }
                    double e = fabs(acc - out[f * 4 + o]);
                    if (e > maxe) maxe = e;
                }
            CHECK(neg > 0);   /* the slope was exercised */
            CHECK_NEAR(maxe, 0.0, 1e-5);
        } else {
            fprintf(stderr, "  plan: %s\n", err.msg);
            CHECK(0);
        }
        lfr_nn_ctx_destroy(c);
        lfr_nn_model_destroy(mod);
        lfr_nn_graph_free(&g);
    }
}

/* What the new patterns refuse, with the reason in err. */
static void test_onnx_prelu_flatten_refused(void) {
    static const struct {
        int fixed, form;
        int64_t b0, d1;
        int side;
        const char *why;
    } R[] = {
        {1, 3, 1, -1, 3, "slope"},        /* [C] broadcasts over W in NCHW */
        {1, 4, 1, -1, 3, "slope"},        /* [C,1,2] */
        {1, 0, 1, -1, 5, "1x1"},          /* spatial 3x3: would need a transpose */
        {0, 0, 1, -1, 3, "1x1"},          /* spatial size unknown */
        {1, 0, 2, -1, 3, "batch"},        /* literal batch 2 != the source's 1 */
        {1, 0, 1, 3, 3, "batch"},         /* 3 is neither -1 nor C */
    };
    for (size_t k = 0; k < sizeof R / sizeof R[0]; k++) {
        lfr_nn_graph g;
        lfr_err err = {{0}};
        lfr_cv_arch a = test_fixed_arch;
        a.fixed_size = R[k].fixed;
        if (R[k].side != 3) a.width = a.height = R[k].side;
        CHECK_STATUS(convert_flat(&a, R[k].form, R[k].b0, R[k].d1, R[k].side, &g, &err),
                     LFR_ERR_UNSUPPORTED);
        CHECK(strstr(err.msg, R[k].why) != NULL);
        if (!strstr(err.msg, R[k].why)) fprintf(stderr, "  case %zu: %s\n", k, err.msg);
        CHECK_EQ_INT(g.n_nodes, 0);
        lfr_nn_graph_free(&g);
    }
}

/* The lm68 head: Conv(2->3, 1x1) on a 2x3 input -> Flatten -> Gemm (B
 * [4,18], transB 1) -> BatchNormalization.  variant 0: as said; 1: without
 * the BatchNormalization; 2: a Relu between Flatten and Gemm (refused);
 * 3: transB 0 (refused). */
static float gm_cw[3 * 2], gm_cb[3], gm_w[4 * 18], gm_b[4];
static float gm_bn[4][4] = {{1.5f, 0.5f, -2.0f, 1.0f},   /* scale */
                            {0.1f, -0.2f, 0.3f, 0.0f},   /* bias */
                            {0.2f, -0.1f, 0.0f, 0.4f},   /* mean */
                            {0.5f, 2.0f, 1.0f, 0.25f}};  /* var */
static void attr_f(buf *node, const char *name, float v) {
    buf a = {0};
    pstr(&a, 1, name);
    pkey(&a, 2, 5);
    put(&a, &v, 4);
    pint(&a, 20, 1);
    pmsg(node, 5, &a);
}
static buf onnx_gemm(int variant) {
    for (int i = 0; i < 6; i++) gm_cw[i] = 0.3f * (float)(i % 4) - 0.4f;
    for (int i = 0; i < 3; i++) gm_cb[i] = 0.1f * (float)i - 0.1f;
    for (int i = 0; i < 72; i++) gm_w[i] = (float)((i * 7) % 11) * 0.1f - 0.5f;
    for (int i = 0; i < 4; i++) gm_b[i] = 0.2f * (float)i - 0.3f;
    buf g = {0};
    buf n1 = node("Conv", L("x", "cw", "cb"), L("c"));
    attr_ints(&n1, "kernel_shape", 2, (int64_t[]){1, 1});
    pmsg(&g, 1, &n1);
    buf n2 = node("Flatten", L("c"), L(variant == 2 ? "f0" : "f"));
    attr_int(&n2, "axis", 1);
    pmsg(&g, 1, &n2);
    if (variant == 2) {
        buf nr = node("Relu", L("f0"), L("f"));
        pmsg(&g, 1, &nr);
    }
    buf n3 = node("Gemm", L("f", "w", "b"), L(variant == 1 ? "y" : "gm"));
    attr_f(&n3, "alpha", 1.0f);
    attr_f(&n3, "beta", 1.0f);
    attr_int(&n3, "transB", variant == 3 ? 0 : 1);
    pmsg(&g, 1, &n3);
    if (variant != 1) {
        buf n4 = node("BatchNormalization", L("gm", "bs", "bb", "bm", "bv"), L("y"));
        attr_f(&n4, "epsilon", 1e-5f);
        attr_f(&n4, "momentum", 0.9f);
        pmsg(&g, 1, &n4);
    }
    pstr(&g, 2, "g");
    onnx_tensor_f(&g, 5, "cw", 4, (int64_t[]){3, 2, 1, 1}, gm_cw, 1);
    onnx_tensor_f(&g, 5, "cb", 1, (int64_t[]){3}, gm_cb, 1);
    onnx_tensor_f(&g, 5, "w", 2, (int64_t[]){4, 18}, gm_w, 1);
    onnx_tensor_f(&g, 5, "b", 1, (int64_t[]){4}, gm_b, 0);
    static const char *const bn_names[4] = {"bs", "bb", "bm", "bv"};
    for (int q = 0; q < 4; q++) onnx_tensor_f(&g, 5, bn_names[q], 1, (int64_t[]){4}, gm_bn[q], 1);
    value_info(&g, 11, "x", 4, (int64_t[]){1, 2, 2, 3});
    value_info(&g, 12, "y", 2, (int64_t[]){1, 4});
    return onnx_model(&g);
}

/* Flatten + Gemm + BatchNormalization -> one FC whose weight columns are in
 * NHWC order and which has the normalisation folded in: the result equals
 * the ONNX computation in NCHW order, for a batch of 2; and what is
 * refused. */
static void test_onnx_gemm(void) {
    static const lfr_cv_arch arch = {"test", LFR_CV_ONNX, "0", "1", "NHWC GREY", "0",
                                     3, 2, 1, 1, {"out"}, {NULL}, {0}};
    for (int variant = 0; variant < 2; variant++) {
        buf m = onnx_gemm(variant);
        lfr_nn_graph g;
        lfr_err err = {{0}};
        CHECK_STATUS(lfr_convert_with(&arch, m.p, m.n, &g, &err), LFR_OK);
        bfree(&m);
        if (err.msg[0]) fprintf(stderr, "  err: %s\n", err.msg);
        CHECK_EQ_INT(g.n_nodes, 2);
        if (g.n_nodes != 2) {
            lfr_nn_graph_free(&g);
            continue;
        }
        CHECK_EQ_INT(g.nodes[1].op, LFR_NN_OP_FC);
        CHECK(strcmp(g.tensors[g.outputs[0]].name, "out") == 0);
        lfr_nn_model *mod = to_model(&g);
        lfr_nn_ctx *c = NULL;
        CHECK(mod != NULL);
        if (mod && lfr_nn_ctx_new(mod, LFR_NN_BACKEND_REF, &c) == LFR_OK &&
            lfr_nn_ctx_plan(c, 2, 2, 3, &err) == LFR_OK) {
            float *in = lfr_nn_ctx_input(c, 0, NULL), xin[2][2][2][3];
            for (int f = 0; f < 2; f++)
                for (int ch = 0; ch < 2; ch++)
                    for (int y = 0; y < 2; y++)
                        for (int x = 0; x < 3; x++) {
                            xin[f][ch][y][x] = (float)((f * 5 + ch * 3 + y * 7 + x * 2) % 9) * 0.2f - 0.7f;
                            in[((f * 2 + y) * 3 + x) * 2 + ch] = xin[f][ch][y][x];
                        }
            CHECK_STATUS(lfr_nn_ctx_run(c), LFR_OK);
            lfr_nn_shape s;
            const float *out = lfr_nn_ctx_output(c, 0, &s);
            CHECK_EQ_INT(s.d[0], 2);
            CHECK_EQ_INT(s.d[s.ndim - 1], 4);
            double maxe = 0;
            for (int f = 0; f < 2; f++)
                for (int o = 0; o < 4; o++) {
                    double acc = gm_b[o];
                    for (int co = 0; co < 3; co++)        /* ONNX flattens (c, y, x) */
                        for (int y = 0; y < 2; y++)
                            for (int x = 0; x < 3; x++) {
                                double v = gm_cb[co];
                                for (int ci = 0; ci < 2; ci++) v += gm_cw[co * 2 + ci] * xin[f][ci][y][x];
                                acc += v * gm_w[o * 18 + (co * 2 + y) * 3 + x];
                            }
                    if (variant == 0)
                        acc = (acc - gm_bn[2][o]) / sqrt(gm_bn[3][o] + 1e-5) * gm_bn[0][o] + gm_bn[1][o];
                    double e = fabs(acc - out[f * 4 + o]);
                    if (e > maxe) maxe = e;
                }
            CHECK_NEAR(maxe, 0.0, 1e-5);
        } else {
            fprintf(stderr, "  plan: %s\n", err.msg);
            CHECK(0);
        }
        lfr_nn_ctx_destroy(c);
        lfr_nn_model_destroy(mod);
        lfr_nn_graph_free(&g);
    }
    static const struct {
        int variant, fixed;
        const char *why;
    } R[] = {
        {2, 1, "Gemm"},      /* Flatten feeds a Relu: NHWC order would leak */
        {3, 1, "transB"},    /* B not transposed */
        {0, 0, "nominal"},   /* spatial size unknown: no column permutation */
    };
    for (size_t k = 0; k < sizeof R / sizeof R[0]; k++) {
        lfr_cv_arch a = arch;
        a.fixed_size = R[k].fixed;
        buf m = onnx_gemm(R[k].variant);
        lfr_nn_graph g;
        lfr_err err = {{0}};
        CHECK_STATUS(lfr_convert_with(&a, m.p, m.n, &g, &err), LFR_ERR_UNSUPPORTED);
        bfree(&m);
        CHECK(strstr(err.msg, R[k].why) != NULL);
        if (!strstr(err.msg, R[k].why)) fprintf(stderr, "  case %zu: %s\n", k, err.msg);
        lfr_nn_graph_free(&g);
    }
}

/* Corrupt protobuf ------------------------------------------------------------ */
static void test_onnx_corrupt(void) {
    lfr_nn_graph g;
    lfr_err err = {{0}};
    lfr_onnx_model om;
    /* an 11-byte varint */
    uint8_t bad_varint[12];
    memset(bad_varint, 0xff, sizeof bad_varint);
    CHECK_STATUS(lfr_onnx_parse(bad_varint, sizeof bad_varint, &om, &err), LFR_ERR_CORRUPT);
    /* graph field whose length runs past the end */
    uint8_t bad_len[] = {0x3a, 0xff, 0xff, 0x03, 0x0a};
    CHECK_STATUS(lfr_onnx_parse(bad_len, sizeof bad_len, &om, &err), LFR_ERR_CORRUPT);
    /* a group wire type */
    uint8_t group[] = {0x3b, 0x00};
    CHECK_STATUS(lfr_onnx_parse(group, sizeof group, &om, &err), LFR_ERR_CORRUPT);
    /* empty: no graph */
    CHECK_STATUS(lfr_onnx_parse((const uint8_t *)"", 0, &om, &err), LFR_ERR_CORRUPT);
    /* raw_data with the wrong size for its dims */
    buf gr = {0}, t = {0};
    pint(&t, 1, 4);
    pint(&t, 2, 1);
    pstr(&t, 8, "w");
    pbytes(&t, 9, "abcdefgh", 8);
    pmsg(&gr, 5, &t);
    buf m = onnx_model(&gr);
    CHECK_STATUS(lfr_onnx_parse(m.p, m.n, &om, &err), LFR_ERR_CORRUPT);
    bfree(&m);
    /* Every prefix of a valid model fails cleanly or parses; a conversion
     * of a strict prefix never succeeds. */
    m = onnx_conv_relu();
    int ok = 0;
    for (size_t n = 0; n < m.n; n++) {
        uint8_t *cp = malloc(n + 1);
        memcpy(cp, m.p, n);
        if (lfr_convert_with(&test_onnx_arch, cp, n, &g, &err) == LFR_OK) ok++;
        lfr_nn_graph_free(&g);
        free(cp);
    }
    CHECK_EQ_INT(ok, 0);
    for (size_t i = 0; i < m.n; i++) {
        uint8_t save = m.p[i];
        m.p[i] ^= 0x5A;
        (void)lfr_convert_with(&test_onnx_arch, m.p, m.n, &g, &err);
        lfr_nn_graph_free(&g);
        m.p[i] = save;
    }
    bfree(&m);
}

static void test_tflite_corrupt(void) {
    lfr_tfl_model tm;
    lfr_err err = {{0}};
    uint8_t root_far[16] = {0xf0, 0xff, 0xff, 0xff, 'T', 'F', 'L', '3'};
    CHECK_STATUS(lfr_tfl_parse(root_far, sizeof root_far, &tm, &err), LFR_ERR_CORRUPT);
    uint8_t no_ident[16] = {8, 0, 0, 0, 'X', 'X', 'X', 'X'};
    CHECK_STATUS(lfr_tfl_parse(no_ident, sizeof no_ident, &tm, &err), LFR_ERR_UNSUPPORTED);
    /* root table whose vtable lies before the file start */
    uint8_t vt_neg[16] = {8, 0, 0, 0, 'T', 'F', 'L', '3', 0x40, 0, 0, 0};
    CHECK_STATUS(lfr_tfl_parse(vt_neg, sizeof vt_neg, &tm, &err), LFR_ERR_CORRUPT);
    CHECK_STATUS(lfr_tfl_parse(root_far, 3, &tm, &err), LFR_ERR_CORRUPT);
    /* a vector length far past the end */
    buf m = tfl_prelu(0);
    lfr_nn_graph g;
    CHECK_STATUS(lfr_convert_with(&test_tfl_arch, m.p, m.n, &g, &err), LFR_OK);
    lfr_nn_graph_free(&g);
    size_t hits = 0;
    for (size_t i = 8; i + 4 <= m.n; i += 4) {
        uint32_t v;
        memcpy(&v, m.p + i, 4);
        if (v != 1) continue;                 /* a length-1 vector */
        uint32_t big = 0x7ffffff0u;
        memcpy(m.p + i, &big, 4);
        (void)lfr_convert_with(&test_tfl_arch, m.p, m.n, &g, &err);
        lfr_nn_graph_free(&g);
        memcpy(m.p + i, &v, 4);
        hits++;
    }
    CHECK(hits > 0);
    bfree(&m);
}

/* Allocation failures at every point free everything (ASan leak check). */
static void test_alloc_failures(void) {
    buf m = onnx_conv_relu(), t = tfl_prelu(1);
    lfr_nn_graph g;
    lfr_err err = {{0}};
    for (long n = 0; n < 200; n++) {
        lfr_alloc_fail_after(n);
        lfr_status a = lfr_convert_with(&test_onnx_arch, m.p, m.n, &g, &err);
        lfr_nn_graph_free(&g);
        lfr_status b = lfr_convert_with(&test_tfl_arch, t.p, t.n, &g, &err);
        lfr_nn_graph_free(&g);
        lfr_alloc_fail_after(-1);
        if (a == LFR_OK && b == LFR_OK) break;
    }
    lfr_alloc_fail_after(-1);
    CHECK_STATUS(lfr_convert_with(&test_onnx_arch, m.p, m.n, &g, &err), LFR_OK);
    lfr_nn_graph_free(&g);
    bfree(&m);
    bfree(&t);
}

static void test_arch_table(void) {
    const char *names[] = {"rfb", "onet", "mobilefacenet", "pnet", "rnet", "mfn512", "lm68"};
    for (int i = 0; i < 7; i++) CHECK(lfr_cv_arch_find(names[i]) != NULL);
    CHECK(lfr_cv_arch_find("yolo") == NULL);
    CHECK(lfr_cv_arch_at(7) == NULL);
    CHECK(strcmp(lfr_cv_arch_find("mfn512")->mean, "127") == 0);
    CHECK(lfr_cv_arch_find("mfn512")->format == LFR_CV_ONNX);
    CHECK(strcmp(lfr_cv_arch_find("onet")->transpose, "1") == 0);
    CHECK(strcmp(lfr_cv_arch_find("mobilefacenet")->transpose, "0") == 0);
    lfr_nn_graph g;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_convert("yolo", (const uint8_t *)"x", 1, &g, &err),
                 LFR_ERR_INVALID_ARG);
    lfr_nn_graph_free(&g);
    /* the wrong format for an arch is an error */
    buf m = onnx_conv_relu();
    CHECK(lfr_convert("onet", m.p, m.n, &g, &err) != LFR_OK);
    lfr_nn_graph_free(&g);
    CHECK(lfr_convert("rfb", m.p, m.n, &g, &err) != LFR_OK);   /* no cut points */
    lfr_nn_graph_free(&g);
    bfree(&m);
}

/* The real networks ----------------------------------------------------------- */
static const char *src_path(const char *file, char *out, size_t cap) {
    const char *d = getenv("OPENLFR_MODEL_SOURCES");
    if (!d || !*d) return NULL;
    snprintf(out, cap, "%s/%s", d, file);
    FILE *f = fopen(out, "rb");
    if (!f) return NULL;
    fclose(f);
    return out;
}

static void test_real_models(void) {
    static const struct {
        const char *arch, *file;
        int nodes, n, h, w, nout;
        int shapes[3][4];   /* ndim, d1, d2, d3 (d0 = n) */
    } R[] = {
        {"rfb", "fr_detect.onnx", 65, 1, 240, 320, 2, {{3, 4420, 2}, {3, 4420, 4}}},
        {"onet", "onet.tflite", 17, 4, 48, 48, 3, {{2, 2}, {2, 4}, {2, 10}}},
        {"rnet", "rnet.tflite", 13, 3, 24, 24, 2, {{2, 2}, {2, 4}}},
        {"pnet", "pnet.tflite", 10, 1, 12, 12, 2, {{4, 1, 1, 2}, {4, 1, 1, 4}}},
        {"mobilefacenet", "MobileFaceNet.tflite", 98, 3, 112, 112, 1, {{2, 192}}},
        {"mfn512", "fr_feature.onnx", 96, 3, 112, 112, 1, {{2, 512}}},
        {"lm68", "fr_landmark.onnx", 50, 3, 64, 64, 1, {{2, 136}}},
    };
    int found = 0;
    for (size_t k = 0; k < sizeof R / sizeof R[0]; k++) {
        char path[1024];
        if (!src_path(R[k].file, path, sizeof path)) {
            fprintf(stderr, "  (missing %s)\n", R[k].file);
            continue;
        }
        found++;
        uint8_t *data;
        size_t len;
        CHECK_STATUS(lfr_read_file(path, LFR_MAX_SOURCE_MODEL_BYTES, &data, &len), LFR_OK);
        lfr_nn_graph g;
        lfr_err err = {{0}};
        lfr_status st = lfr_convert(R[k].arch, data, len, &g, &err);
        lfr_free(data);
        CHECK_STATUS(st, LFR_OK);
        if (st != LFR_OK) {
            fprintf(stderr, "  %s: %s\n", R[k].arch, err.msg);
            lfr_nn_graph_free(&g);
            continue;
        }
        fprintf(stderr, "  %s: %d nodes, %d tensors\n", R[k].arch, g.n_nodes, g.n_tensors);
        CHECK_EQ_INT(g.n_nodes, R[k].nodes);
        CHECK_EQ_INT(g.n_outputs, R[k].nout);
        CHECK(strcmp(lfr_nn_graph_get_meta(&g, "arch"), R[k].arch) == 0);
        lfr_nn_model *mod = to_model(&g);
        lfr_nn_ctx *c = NULL;
        if (mod && lfr_nn_ctx_new(mod, LFR_NN_BACKEND_REF, &c) == LFR_OK &&
            lfr_nn_ctx_plan(c, R[k].n, R[k].h, R[k].w, &err) == LFR_OK) {
            for (int o = 0; o < R[k].nout; o++) {
                lfr_nn_shape s;
                lfr_nn_ctx_output(c, o, &s);
                CHECK_EQ_INT(s.ndim, R[k].shapes[o][0]);
                CHECK_EQ_INT(s.d[0], R[k].n);
                for (int d = 1; d < s.ndim; d++) CHECK_EQ_INT(s.d[d], R[k].shapes[o][d]);
            }
        } else {
            fprintf(stderr, "  %s: plan failed: %s\n", R[k].arch, err.msg);
            CHECK(0);
        }
        lfr_nn_ctx_destroy(c);
        lfr_nn_model_destroy(mod);
        lfr_nn_graph_free(&g);
    }
    if (!found)
        SKIP("no source models: set OPENLFR_MODEL_SOURCES to a directory with "
             "fr_detect.onnx, onet.tflite, rnet.tflite, pnet.tflite, "
             "MobileFaceNet.tflite, fr_feature.onnx, fr_landmark.onnx (tools/run-tests.sh does, from the tarballs "
             "tools/setup.sh models cached)");
}

/* OPENLFR_WRITE_SEEDS=DIR writes the fuzz seed corpus (files in DIR/onnx
 * and DIR/tflite) from the encoders above: how fuzz/corpus was made. */
static void write_seed(const char *dir, const char *sub, const char *name, buf m) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(m.p, 1, m.n, f);
        fclose(f);
    } else {
        fprintf(stderr, "cannot write %s\n", path);
    }
    bfree(&m);
}

static void write_seeds(const char *dir) {
    write_seed(dir, "onnx", "conv_relu.onnx", onnx_conv_relu());
    write_seed(dir, "onnx", "head.onnx", onnx_head(1.0f));
    write_seed(dir, "onnx", "head_mul2.onnx", onnx_head(2.0f));
    write_seed(dir, "onnx", "rfb_cut.onnx", onnx_head_named(1.0f, 1));
    write_seed(dir, "onnx", "prelu_flatten.onnx", onnx_flat(0, 1, -1, 3));
    write_seed(dir, "tflite", "prelu_neg.tflite", tfl_prelu(0));
    write_seed(dir, "tflite", "prelu_abs.tflite", tfl_prelu(1));
    write_seed(dir, "tflite", "softmax_same.tflite", tfl_softmax());
    write_seed(dir, "tflite", "mismatch.tflite", tfl_mismatch());
}

static void test_rfb_cut(void) {
    buf m = onnx_head_named(1.0f, 1);
    lfr_nn_graph g;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_convert("rfb", m.p, m.n, &g, &err), LFR_OK);
    if (err.msg[0]) fprintf(stderr, "  err: %s\n", err.msg);
    CHECK_EQ_INT(g.n_outputs, 2);
    if (g.n_outputs == 2) {
        CHECK(strcmp(g.tensors[g.outputs[0]].name, "scores") == 0);
        CHECK(strcmp(g.tensors[g.outputs[1]].name, "boxes") == 0);
    }
    CHECK(strcmp(lfr_nn_graph_get_meta(&g, "input.mean"), "127") == 0);
    lfr_nn_graph_free(&g);
    bfree(&m);
}

int main(void) {
    lfr_log_set_level(LFR_LOG_SILENT);
    const char *seeds = getenv("OPENLFR_WRITE_SEEDS");
    if (seeds && *seeds) {
        write_seeds(seeds);
        return 0;
    }
    RUN(test_rfb_cut);
    RUN(test_onnx_conv_relu);
    RUN(test_onnx_head);
    RUN(test_onnx_prelu_flatten);
    RUN(test_onnx_prelu_flatten_refused);
    RUN(test_onnx_gemm);
    RUN(test_tflite_prelu_neg);
    RUN(test_tflite_prelu_abs);
    RUN(test_tflite_pattern_mismatch);
    RUN(test_tflite_softmax_and_same);
    RUN(test_onnx_corrupt);
    RUN(test_tflite_corrupt);
    RUN(test_alloc_failures);
    RUN(test_arch_table);
    RUN(test_real_models);
    return harness_done("convert");
}
