/*
 * test_nn_ops.c - per-op tests of the NN engine: the reference backend
 * against values computed by hand, and each fast backend against the
 * reference on small random graphs (every op, the padding/stride/dilation/
 * group variants our networks use, replanning, batch 2), plus allocation
 * fault injection around ctx_new + plan.  The fast backends: XNNPACK,
 * oneDNN alone (every node it accepts) and oneDNN as used by default
 * (delegating some nodes to XNNPACK); main() runs every test for each.
 */
#include "harness.h"

#include "nn/nn.h"
#include "nn/nn_int.h"

/* The fast backend under test ------------------------------------------ */

typedef struct fast_cfg {
    const char *name;
    lfr_nn_backend be;
    int pure; /* DNNL: no delegation to XNNPACK (lfr_nn_dnnl_set_pure) */
} fast_cfg;

static const fast_cfg fast_cfgs[] = {
    {"xnnpack", LFR_NN_BACKEND_XNNPACK, 0},
    {"dnnl", LFR_NN_BACKEND_DNNL, 1},
    {"dnnl+xnnpack", LFR_NN_BACKEND_DNNL, 0},
};

static const fast_cfg *fast = &fast_cfgs[0];

/* Nodes a fast backend handed to the reference backend, process-wide. */
static long fallbacks(void) {
    return lfr_nn_xnn_fallback_count() + lfr_nn_dnnl_fallback_count();
}

/* Deterministic PRNG ----------------------------------------------------- */

static uint32_t rng_state = 12345u;

static void rng_seed(uint32_t s) { rng_state = s ? s : 1u; }

static uint32_t rng_u32(void) {
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* Uniform in [-1, 1). */
static float rng_f(void) { return (float)(rng_u32() >> 8) / 8388608.0f - 1.0f; }

/* Graph builder helpers -------------------------------------------------- */

typedef struct tb {
    lfr_nn_graph g;
    int ok;
    int n_vals;
} tb;

static void tb_init(tb *b) {
    CHECK_STATUS(lfr_nn_graph_init(&b->g), LFR_OK);
    b->ok = 1;
    b->n_vals = 0;
}

static int32_t tb_tensor(tb *b, const lfr_nn_shape *s, const float *data) {
    char name[32];
    snprintf(name, sizeof name, "t%d", b->g.n_tensors);
    int32_t id = -1;
    lfr_status st = lfr_nn_graph_add_tensor(&b->g, name, s, data, &id);
    if (st != LFR_OK) b->ok = 0;
    CHECK_STATUS(st, LFR_OK);
    return id;
}

static int32_t tb_input(tb *b, int c) {
    lfr_nn_shape s = {4, {0, 0, 0, c}};
    int32_t id = tb_tensor(b, &s, NULL);
    b->g.inputs[b->g.n_inputs++] = id;
    return id;
}

static int32_t tb_const(tb *b, const lfr_nn_shape *s, const float *data) {
    return tb_tensor(b, s, data);
}

/* A random constant, values in [-scale, scale). */
static int32_t tb_rand(tb *b, lfr_nn_shape s, float scale) {
    size_t n = lfr_nn_shape_elems(&s);
    float *d = malloc(n * sizeof *d);
    for (size_t k = 0; k < n; k++) d[k] = scale * rng_f();
    int32_t id = tb_const(b, &s, d);
    free(d);
    return id;
}

static int32_t tb_node(tb *b, lfr_nn_op op, int n_in, const int32_t *in,
                       const int32_t *p) {
    lfr_nn_shape vs = {1, {0}};
    int32_t out = tb_tensor(b, &vs, NULL);
    lfr_nn_node nd;
    memset(&nd, 0, sizeof nd);
    nd.op = op;
    nd.n_in = n_in;
    for (int k = 0; k < n_in; k++) nd.in[k] = in[k];
    nd.out = out;
    if (p) memcpy(nd.p, p, sizeof nd.p);
    lfr_status st = lfr_nn_graph_add_node(&b->g, &nd);
    if (st != LFR_OK) b->ok = 0;
    CHECK_STATUS(st, LFR_OK);
    return out;
}

static void tb_output(tb *b, int32_t t) { b->g.outputs[b->g.n_outputs++] = t; }

/* Serialises, loads, frees the builder graph. */
static lfr_nn_model *tb_finish(tb *b) {
    lfr_nn_model *m = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    lfr_err err = {{0}};
    if (b->ok) {
        lfr_status st = lfr_nn_graph_serialize(&b->g, &buf, &len, &err);
        CHECK_STATUS(st, LFR_OK);
        if (st == LFR_OK) {
            st = lfr_nn_model_load_mem(buf, len, &m, &err);
            CHECK_STATUS(st, LFR_OK);
            if (st != LFR_OK) fprintf(stderr, "  load: %s\n", err.msg);
        } else {
            fprintf(stderr, "  serialize: %s\n", err.msg);
        }
    }
    lfr_free(buf);
    lfr_nn_graph_free(&b->g);
    return m;
}

typedef struct conv_cfg {
    int ci, co, kh, kw, sh, sw, dh, dw, groups, act, same;
    int pt, pl, pb, pr;
} conv_cfg;

static int32_t tb_conv(tb *b, int32_t x, const conv_cfg *k) {
    int32_t in[3];
    int groups = k->groups ? k->groups : 1;
    in[0] = x;
    in[1] = tb_rand(b, (lfr_nn_shape){4, {k->co, k->kh, k->kw, k->ci / groups}},
                    1.0f);
    in[2] = tb_rand(b, (lfr_nn_shape){1, {k->co}}, 0.5f);
    int32_t p[LFR_NN_NPARAMS] = {0};
    p[LFR_NN_P_KH] = k->kh;
    p[LFR_NN_P_KW] = k->kw;
    p[LFR_NN_P_SH] = k->sh ? k->sh : 1;
    p[LFR_NN_P_SW] = k->sw ? k->sw : 1;
    p[LFR_NN_P_DH] = k->dh ? k->dh : 1;
    p[LFR_NN_P_DW] = k->dw ? k->dw : 1;
    p[LFR_NN_P_PT] = k->pt;
    p[LFR_NN_P_PL] = k->pl;
    p[LFR_NN_P_PB] = k->pb;
    p[LFR_NN_P_PR] = k->pr;
    p[LFR_NN_P_GROUPS] = groups;
    p[LFR_NN_P_ACT] = k->act;
    p[LFR_NN_P_SAME] = k->same;
    return tb_node(b, LFR_NN_OP_CONV2D, 3, in, p);
}

static int32_t tb_maxpool(tb *b, int32_t x, int k, int s, int same, int pad) {
    int32_t p[LFR_NN_NPARAMS] = {0};
    p[LFR_NN_P_KH] = p[LFR_NN_P_KW] = k;
    p[LFR_NN_P_SH] = p[LFR_NN_P_SW] = s;
    p[LFR_NN_P_PT] = p[LFR_NN_P_PL] = p[LFR_NN_P_PB] = p[LFR_NN_P_PR] = pad;
    p[LFR_NN_P_SAME] = same;
    return tb_node(b, LFR_NN_OP_MAXPOOL, 1, &x, p);
}

static int32_t tb_fc(tb *b, int32_t x, int k, int co, int act) {
    int32_t in[3] = {x, tb_rand(b, (lfr_nn_shape){2, {co, k}}, 1.0f),
                     tb_rand(b, (lfr_nn_shape){1, {co}}, 0.5f)};
    int32_t p[LFR_NN_NPARAMS] = {0};
    p[LFR_NN_P_ACT] = act;
    return tb_node(b, LFR_NN_OP_FC, 3, in, p);
}

static int32_t tb_prelu(tb *b, int32_t x, int c) {
    int32_t in[2] = {x, tb_rand(b, (lfr_nn_shape){1, {c}}, 0.5f)};
    return tb_node(b, LFR_NN_OP_PRELU, 2, in, NULL);
}

static int32_t tb_unary(tb *b, lfr_nn_op op, int32_t x) {
    return tb_node(b, op, 1, &x, NULL);
}

static int32_t tb_add(tb *b, int32_t x, int32_t y, int act) {
    int32_t in[2] = {x, y};
    int32_t p[LFR_NN_NPARAMS] = {0};
    p[LFR_NN_P_ACT] = act;
    return tb_node(b, LFR_NN_OP_ADD, 2, in, p);
}

static int32_t tb_concat(tb *b, int n, const int32_t *in, int axis) {
    int32_t p[LFR_NN_NPARAMS] = {0};
    p[LFR_NN_P_AXIS] = axis;
    return tb_node(b, LFR_NN_OP_CONCAT, n, in, p);
}

static int32_t tb_reshape(tb *b, int32_t x, int nd, const int32_t *dims) {
    int32_t p[LFR_NN_NPARAMS] = {0};
    p[LFR_NN_P_NDIM] = nd;
    for (int k = 0; k < nd; k++) p[1 + k] = dims[k];
    return tb_node(b, LFR_NN_OP_RESHAPE, 1, &x, p);
}

/* Running and comparing ------------------------------------------------- */

static int n_compared;

/* Fills every graph input of both contexts with the same random values. */
static void fill_inputs(lfr_nn_ctx *a, lfr_nn_ctx *x, const lfr_nn_model *m) {
    const lfr_nn_graph *g = lfr_nn_model_graph(m);
    for (int i = 0; i < g->n_inputs; i++) {
        lfr_nn_shape s;
        float *pa = lfr_nn_ctx_input(a, i, &s);
        float *px = lfr_nn_ctx_input(x, i, NULL);
        CHECK(pa != NULL && px != NULL);
        if (!pa || !px) return;
        size_t n = lfr_nn_shape_elems(&s);
        for (size_t k = 0; k < n; k++) pa[k] = px[k] = 2.0f * rng_f();
    }
}

/* Compares every node output of the two contexts (both kept all). */
static void compare_all(lfr_nn_ctx *r, lfr_nn_ctx *x, const lfr_nn_model *m,
                        const char *what) {
    const lfr_nn_graph *g = lfr_nn_model_graph(m);
    for (int i = 0; i < g->n_nodes; i++) {
        int t = g->nodes[i].out;
        lfr_nn_shape sr, sx;
        const float *pr = lfr_nn_ctx_tensor(r, t, &sr);
        const float *px = lfr_nn_ctx_tensor(x, t, &sx);
        CHECK(pr != NULL && px != NULL);
        if (!pr || !px) return;
        CHECK(memcmp(&sr, &sx, sizeof sr) == 0);
        size_t n = lfr_nn_shape_elems(&sr);
        double maxref = 0, maxdiff = 0;
        size_t at = 0;
        for (size_t k = 0; k < n; k++) {
            double d = fabs((double)pr[k] - px[k]);
            if (fabs(pr[k]) > maxref) maxref = fabs(pr[k]);
            if (!(d <= maxdiff)) {  /* also catches NaN */
                maxdiff = isnan(d) ? INFINITY : d;
                at = k;
            }
        }
        double tol = 1e-4 * (1.0 + maxref);
        if (!(maxdiff <= tol))
            fprintf(stderr,
                    "  %s: node %d (%s) differs: max |diff| %g at %zu "
                    "(ref %g, %s %g), tol %g\n",
                    what, i, lfr_nn_op_name((lfr_nn_op)g->nodes[i].op), maxdiff,
                    at, (double)pr[at], fast->name, (double)px[at], tol);
        CHECK(maxdiff <= tol);
        n_compared++;
    }
}

/* Plans both backends at n x h x w, runs, compares.  The contexts are
 * passed in so replanning can be tested. */
static void run_pair(lfr_nn_ctx *r, lfr_nn_ctx *x, const lfr_nn_model *m, int n,
                     int h, int w, const char *what) {
    lfr_err err = {{0}};
    lfr_status st = lfr_nn_ctx_plan(r, n, h, w, &err);
    CHECK_STATUS(st, LFR_OK);
    if (st != LFR_OK) {
        fprintf(stderr, "  %s: plan ref %dx%dx%d: %s\n", what, n, h, w, err.msg);
        return;
    }
    st = lfr_nn_ctx_plan(x, n, h, w, &err);
    CHECK_STATUS(st, LFR_OK);
    if (st != LFR_OK) {
        fprintf(stderr, "  %s: plan %s %dx%dx%d: %s\n", what, fast->name, n, h, w,
                err.msg);
        return;
    }
    fill_inputs(r, x, m);
    CHECK_STATUS(lfr_nn_ctx_run(r), LFR_OK);
    CHECK_STATUS(lfr_nn_ctx_run(x), LFR_OK);
    compare_all(r, x, m, what);
}

/* Builds contexts for the reference and the fast backend, runs at one
 * size, compares.  With `no_fallback` set, the fast backend must not have
 * fallen back to the reference for any node. */
static void check_model(lfr_nn_model *m, int n, int h, int w, int no_fallback,
                        const char *what) {
    CHECK(m != NULL);
    if (!m) return;
    long fb0 = fallbacks();
    lfr_nn_ctx *r = NULL, *x = NULL;
    CHECK_STATUS(lfr_nn_ctx_new(m, LFR_NN_BACKEND_REF, &r), LFR_OK);
    CHECK_STATUS(lfr_nn_ctx_new(m, fast->be, &x), LFR_OK);
    if (r && x) {
        lfr_nn_ctx_keep_all(r, 1);
        lfr_nn_ctx_keep_all(x, 1);
        run_pair(r, x, m, n, h, w, what);
    }
    if (no_fallback) {
        long fb = fallbacks() - fb0;
        if (fb) fprintf(stderr, "  %s: %ld node(s) fell back to ref\n", what, fb);
        CHECK_EQ_INT(fb, 0);
    }
    lfr_nn_ctx_destroy(r);
    lfr_nn_ctx_destroy(x);
    lfr_nn_model_destroy(m);
}

/* One conv node on a [n,h,w,ci] input. */
static void check_conv(const conv_cfg *k, int n, int h, int w, const char *what) {
    tb b;
    tb_init(&b);
    int32_t x = tb_input(&b, k->ci);
    tb_output(&b, tb_conv(&b, x, k));
    check_model(tb_finish(&b), n, h, w, 1, what);
}

/* Hand-checked reference values ----------------------------------------- */

/* Builds a ctx on `backend`, plans, copies `in` to input 0, runs, and
 * compares output 0 against `want`. */
static void run_expect(lfr_nn_model *m, lfr_nn_backend be, int h, int w,
                       const float *in, const float *want, size_t n_want,
                       const char *what) {
    lfr_nn_ctx *c = NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_nn_ctx_new(m, be, &c), LFR_OK);
    if (!c) return;
    lfr_status st = lfr_nn_ctx_plan(c, 1, h, w, &err);
    CHECK_STATUS(st, LFR_OK);
    if (st == LFR_OK) {
        lfr_nn_shape s, so;
        float *pi = lfr_nn_ctx_input(c, 0, &s);
        memcpy(pi, in, lfr_nn_shape_elems(&s) * sizeof(float));
        CHECK_STATUS(lfr_nn_ctx_run(c), LFR_OK);
        const float *po = lfr_nn_ctx_output(c, 0, &so);
        CHECK_EQ_INT(lfr_nn_shape_elems(&so), n_want);
        for (size_t k = 0; k < n_want && k < lfr_nn_shape_elems(&so); k++) {
            if (fabs(po[k] - want[k]) > 1e-5 * (1 + fabs(want[k])))
                fprintf(stderr, "  %s (%s): [%zu] = %g, want %g\n", what,
                        be == LFR_NN_BACKEND_REF ? "ref" : fast->name, k, (double)po[k],
                        (double)want[k]);
            CHECK_NEAR(po[k], want[k], 1e-5 * (1 + fabs(want[k])));
        }
    }
    lfr_nn_ctx_destroy(c);
}

static void expect_both(lfr_nn_model *m, int h, int w, const float *in,
                        const float *want, size_t n_want, const char *what) {
    CHECK(m != NULL);
    if (!m) return;
    run_expect(m, LFR_NN_BACKEND_REF, h, w, in, want, n_want, what);
    run_expect(m, fast->be, h, w, in, want, n_want, what);
    lfr_nn_model_destroy(m);
}

static void test_hand_conv_2x2(void) {
    /* 3x3 input 1..9, kernel [[1,2],[3,4]], bias 0.5, VALID. */
    tb b;
    tb_init(&b);
    int32_t x = tb_input(&b, 1);
    float wv[4] = {1, 2, 3, 4}, bv[1] = {0.5f};
    int32_t in[3] = {x, tb_const(&b, &(lfr_nn_shape){4, {1, 2, 2, 1}}, wv),
                     tb_const(&b, &(lfr_nn_shape){1, {1}}, bv)};
    int32_t p[LFR_NN_NPARAMS] = {0};
    p[LFR_NN_P_KH] = p[LFR_NN_P_KW] = 2;
    p[LFR_NN_P_SH] = p[LFR_NN_P_SW] = p[LFR_NN_P_DH] = p[LFR_NN_P_DW] = 1;
    p[LFR_NN_P_GROUPS] = 1;
    tb_output(&b, tb_node(&b, LFR_NN_OP_CONV2D, 3, in, p));
    float xin[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float want[4] = {37.5f, 47.5f, 67.5f, 77.5f};
    expect_both(tb_finish(&b), 3, 3, xin, want, 4, "conv 2x2");
}

static void test_hand_conv_same_asym(void) {
    /* 4x4 input x[r][c] = 4r + c, 3x3 ones kernel, stride 2, SAME: total
     * padding 1 per axis, all of it after (bottom/right). */
    tb b;
    tb_init(&b);
    int32_t x = tb_input(&b, 1);
    float wv[9], bv[1] = {0};
    for (int k = 0; k < 9; k++) wv[k] = 1;
    int32_t in[3] = {x, tb_const(&b, &(lfr_nn_shape){4, {1, 3, 3, 1}}, wv),
                     tb_const(&b, &(lfr_nn_shape){1, {1}}, bv)};
    int32_t p[LFR_NN_NPARAMS] = {0};
    p[LFR_NN_P_KH] = p[LFR_NN_P_KW] = 3;
    p[LFR_NN_P_SH] = p[LFR_NN_P_SW] = 2;
    p[LFR_NN_P_DH] = p[LFR_NN_P_DW] = 1;
    p[LFR_NN_P_GROUPS] = 1;
    p[LFR_NN_P_SAME] = 1;
    tb_output(&b, tb_node(&b, LFR_NN_OP_CONV2D, 3, in, p));
    float xin[16];
    for (int k = 0; k < 16; k++) xin[k] = (float)k;
    float want[4] = {45, 39, 66, 50};
    expect_both(tb_finish(&b), 4, 4, xin, want, 4, "conv same");
}

static void test_hand_depthwise_relu(void) {
    /* 2x2 input, 2 channels, depthwise 2x2 VALID + relu: one pixel. */
    tb b;
    tb_init(&b);
    int32_t x = tb_input(&b, 2);
    float wv[8] = {1, 1, 1, 1, 1, -1, 2, -2}, bv[2] = {0.25f, -1};
    int32_t in[3] = {x, tb_const(&b, &(lfr_nn_shape){4, {2, 2, 2, 1}}, wv),
                     tb_const(&b, &(lfr_nn_shape){1, {2}}, bv)};
    int32_t p[LFR_NN_NPARAMS] = {0};
    p[LFR_NN_P_KH] = p[LFR_NN_P_KW] = 2;
    p[LFR_NN_P_SH] = p[LFR_NN_P_SW] = p[LFR_NN_P_DH] = p[LFR_NN_P_DW] = 1;
    p[LFR_NN_P_GROUPS] = 2;
    p[LFR_NN_P_ACT] = LFR_NN_ACT_RELU;
    tb_output(&b, tb_node(&b, LFR_NN_OP_CONV2D, 3, in, p));
    /* pixels (c0,c1): (1,10) (2,20) (3,30) (4,40) */
    float xin[8] = {1, 10, 2, 20, 3, 30, 4, 40};
    /* c0: 1+2+3+4+0.25 = 10.25; c1: 10-20+60-80-1 = -31 -> relu 0 */
    float want[2] = {10.25f, 0};
    expect_both(tb_finish(&b), 2, 2, xin, want, 2, "depthwise");
}

static void test_hand_maxpool_fc(void) {
    /* 4x4 input -> maxpool 2x2 s2 -> [1,2,2,1] -> FC [2,4] */
    tb b;
    tb_init(&b);
    int32_t x = tb_input(&b, 1);
    int32_t mp = tb_maxpool(&b, x, 2, 2, 0, 0);
    float wv[8] = {1, 0, 0, 0, 1, -1, 1, -1}, bv[2] = {0, 100};
    int32_t in[3] = {mp, tb_const(&b, &(lfr_nn_shape){2, {2, 4}}, wv),
                     tb_const(&b, &(lfr_nn_shape){1, {2}}, bv)};
    tb_output(&b, tb_node(&b, LFR_NN_OP_FC, 3, in, NULL));
    float xin[16] = {1, 5, 2, 0, -3, 4, 9, 1, 0, 0, -1, -2, 7, -8, -3, -4};
    /* maxes: 5, 9, 7, -1 ; fc0 = 5 ; fc1 = 5-9+7+1+100 = 104 */
    float want[2] = {5, 104};
    expect_both(tb_finish(&b), 4, 4, xin, want, 2, "maxpool+fc");
}

static void test_hand_maxpool_same_padding_never_wins(void) {
    /* all-negative 3x3 input, 3x3 s2 SAME: pads never win the max. */
    tb b;
    tb_init(&b);
    int32_t x = tb_input(&b, 1);
    tb_output(&b, tb_maxpool(&b, x, 3, 2, 1, 0));
    float xin[9] = {-9, -8, -7, -6, -5, -4, -3, -2, -1};
    /* in 3, out 2, total pad (1*2+3-3)=2: 1 before, 1 after. */
    float want[4] = {-5, -4, -2, -1};
    expect_both(tb_finish(&b), 3, 3, xin, want, 4, "maxpool same");
}

static void test_hand_prelu_softmax_concat(void) {
    /* [1,1,2,2] -> prelu slopes (0.5, 2) -> concat with input on axis 3 ->
     * softmax over 4 channels */
    tb b;
    tb_init(&b);
    int32_t x = tb_input(&b, 2);
    float sv[2] = {0.5f, 2};
    int32_t in[2] = {x, tb_const(&b, &(lfr_nn_shape){1, {2}}, sv)};
    int32_t pr = tb_node(&b, LFR_NN_OP_PRELU, 2, in, NULL);
    int32_t cin[2] = {pr, x};
    int32_t cc = tb_concat(&b, 2, cin, 3);
    tb_output(&b, tb_unary(&b, LFR_NN_OP_SOFTMAX, cc));
    float xin[4] = {-2, -1, 3, 0};
    /* pixel 0: prelu (-1, -2), concat (-1,-2,-2,-1)
     * pixel 1: prelu (3, 0), concat (3, 0, 3, 0) */
    double e1 = exp(-1.0), e2 = exp(-2.0), s0 = 2 * e1 + 2 * e2;
    double f3 = exp(3.0), s1 = 2 * f3 + 2;
    float want[8] = {(float)(e1 / s0), (float)(e2 / s0), (float)(e2 / s0),
                     (float)(e1 / s0), (float)(f3 / s1), (float)(1 / s1),
                     (float)(f3 / s1), (float)(1 / s1)};
    expect_both(tb_finish(&b), 1, 2, xin, want, 8, "prelu+concat+softmax");
}

/* The fast backend against the reference ------------------------------ */

static void test_conv3x3_rgb(void) {
    rng_seed(1);
    conv_cfg k = {.ci = 3, .co = 16, .kh = 3, .kw = 3, .sh = 1, .sw = 1,
                  .pt = 1, .pl = 1, .pb = 1, .pr = 1};
    check_conv(&k, 1, 13, 17, "conv3x3 s1 rgb");
    k.sh = k.sw = 2;
    check_conv(&k, 1, 13, 17, "conv3x3 s2 rgb");
    k.pt = k.pl = k.pb = k.pr = 0;
    check_conv(&k, 1, 12, 16, "conv3x3 s2 rgb valid");
}

static void test_conv1x1(void) {
    rng_seed(2);
    conv_cfg k = {.ci = 24, .co = 40, .kh = 1, .kw = 1};
    check_conv(&k, 1, 9, 11, "conv1x1");
    k.act = LFR_NN_ACT_RELU;
    check_conv(&k, 1, 9, 11, "conv1x1 relu");
    k.same = 1;  /* SAME on 1x1 is no padding */
    k.act = 0;
    check_conv(&k, 1, 9, 11, "conv1x1 same");
    conv_cfg big = {.ci = 64, .co = 128, .kh = 1, .kw = 1};
    check_conv(&big, 1, 14, 14, "conv1x1 64->128");
}

static void test_depthwise(void) {
    rng_seed(3);
    conv_cfg k = {.ci = 24, .co = 24, .kh = 3, .kw = 3, .groups = 24,
                  .pt = 1, .pl = 1, .pb = 1, .pr = 1};
    check_conv(&k, 1, 15, 13, "dw3x3 s1");
    k.sh = k.sw = 2;
    check_conv(&k, 1, 15, 13, "dw3x3 s2");
    k.same = 1;
    k.pt = k.pl = k.pb = k.pr = 0;
    check_conv(&k, 1, 16, 14, "dw3x3 s2 same even");
    k.act = 1;
    check_conv(&k, 1, 15, 13, "dw3x3 s2 same odd relu");
    conv_cfg k7 = {.ci = 13, .co = 13, .kh = 7, .kw = 7, .groups = 13};
    check_conv(&k7, 1, 7, 7, "dw7x7 global");
}

static void test_grouped(void) {
    rng_seed(4);
    conv_cfg k = {.ci = 16, .co = 24, .kh = 3, .kw = 3, .groups = 4,
                  .pt = 1, .pl = 1, .pb = 1, .pr = 1};
    check_conv(&k, 1, 10, 9, "grouped 4");
    conv_cfg k2 = {.ci = 8, .co = 16, .kh = 1, .kw = 1, .groups = 2};
    check_conv(&k2, 1, 5, 6, "grouped 1x1");
}

static void test_dilated(void) {
    rng_seed(5);
    conv_cfg k = {.ci = 8, .co = 8, .kh = 3, .kw = 3, .dh = 2, .dw = 2,
                  .pt = 2, .pl = 2, .pb = 2, .pr = 2};
    check_conv(&k, 1, 15, 12, "dilation 2");
    k.dh = k.dw = 3;
    k.pt = k.pl = k.pb = k.pr = 3;
    check_conv(&k, 1, 15, 12, "dilation 3");
    k.groups = 8;
    check_conv(&k, 1, 15, 12, "dw dilation 3");
    k.groups = 1;
    k.dh = k.dw = 2;
    k.same = 1;
    k.pt = k.pl = k.pb = k.pr = 0;
    check_conv(&k, 1, 11, 10, "dilation 2 same");
}

static void test_same_asymmetric(void) {
    rng_seed(6);
    conv_cfg k = {.ci = 5, .co = 7, .kh = 3, .kw = 3, .sh = 2, .sw = 2,
                  .same = 1};
    check_conv(&k, 1, 11, 11, "same 3x3 s2 odd");
    check_conv(&k, 1, 10, 12, "same 3x3 s2 even");
    k.kh = k.kw = 2;
    k.sh = k.sw = 1;
    check_conv(&k, 1, 9, 8, "same 2x2 s1 (pad after)");
    k.kh = 5;
    k.kw = 4;
    check_conv(&k, 1, 9, 8, "same 5x4 s1");
    conv_cfg e = {.ci = 3, .co = 8, .kh = 3, .kw = 3, .pt = 0, .pl = 1, .pb = 1,
                  .pr = 0, .sh = 2, .sw = 2};
    check_conv(&e, 1, 10, 10, "explicit asymmetric pads");
}

static void test_maxpool(void) {
    rng_seed(7);
    struct { int k, s, same, pad, h, w; const char *what; } cases[] = {
        {3, 2, 1, 0, 15, 15, "maxpool 3x3 s2 same odd"},
        {3, 2, 1, 0, 16, 14, "maxpool 3x3 s2 same even"},
        {2, 2, 0, 0, 16, 14, "maxpool 2x2 s2 valid"},
        {2, 2, 0, 0, 15, 13, "maxpool 2x2 s2 valid odd"},
        {3, 1, 0, 1, 9, 10, "maxpool 3x3 s1 pad 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tb b;
        tb_init(&b);
        int32_t x = tb_input(&b, 10);
        tb_output(&b, tb_maxpool(&b, x, cases[i].k, cases[i].s, cases[i].same,
                                 cases[i].pad));
        check_model(tb_finish(&b), 1, cases[i].h, cases[i].w, 1, cases[i].what);
    }
}

static void test_fc(void) {
    rng_seed(8);
    tb b;
    tb_init(&b);
    int32_t x = tb_input(&b, 6);
    tb_output(&b, tb_fc(&b, x, 5 * 4 * 6, 10, 0));
    check_model(tb_finish(&b), 1, 5, 4, 1, "fc from rank 4");
    tb_init(&b);
    x = tb_input(&b, 6);
    tb_output(&b, tb_fc(&b, x, 3 * 3 * 6, 7, 1));
    check_model(tb_finish(&b), 2, 3, 3, 1, "fc relu batch 2");
}

static void test_prelu_add_relu(void) {
    rng_seed(9);
    tb b;
    tb_init(&b);
    int32_t x = tb_input(&b, 12);
    int32_t y = tb_prelu(&b, x, 12);
    tb_output(&b, y);
    check_model(tb_finish(&b), 1, 7, 5, 1, "prelu");

    tb_init(&b);
    x = tb_input(&b, 9);
    conv_cfg k = {.ci = 9, .co = 9, .kh = 1, .kw = 1};
    int32_t c1 = tb_conv(&b, x, &k);
    tb_output(&b, tb_add(&b, c1, x, 1));
    check_model(tb_finish(&b), 1, 6, 7, 1, "add relu");

    tb_init(&b);
    x = tb_input(&b, 9);
    c1 = tb_conv(&b, x, &k);
    int32_t a = tb_add(&b, x, c1, 0);
    tb_output(&b, tb_unary(&b, LFR_NN_OP_RELU, a));
    check_model(tb_finish(&b), 1, 6, 7, 1, "add + relu node");
}

static void test_concat(void) {
    rng_seed(10);
    /* channels: three branches of different widths */
    tb b;
    tb_init(&b);
    int32_t x = tb_input(&b, 4);
    conv_cfg k1 = {.ci = 4, .co = 3, .kh = 1, .kw = 1};
    conv_cfg k2 = {.ci = 4, .co = 5, .kh = 3, .kw = 3, .pt = 1, .pl = 1,
                   .pb = 1, .pr = 1};
    int32_t in[3] = {tb_conv(&b, x, &k1), tb_conv(&b, x, &k2), x};
    tb_output(&b, tb_concat(&b, 3, in, 3));
    check_model(tb_finish(&b), 1, 6, 5, 1, "concat axis 3");

    /* rank 3 along axis 1, as the detector's heads: two inputs reshaped to
     * [N,-1,2] and [N,-1,2] */
    tb_init(&b);
    int32_t xa = tb_input(&b, 4);
    int32_t xb = tb_input(&b, 6);
    int32_t dims[3] = {0, -1, 2};
    int32_t ra = tb_reshape(&b, xa, 3, dims);
    int32_t rb = tb_reshape(&b, xb, 3, dims);
    int32_t ins[2] = {ra, rb};
    tb_output(&b, tb_concat(&b, 2, ins, 1));
    check_model(tb_finish(&b), 2, 3, 5, 1, "concat axis 1 rank 3");

    /* along H (axis 1) of rank 4 */
    tb_init(&b);
    x = tb_input(&b, 3);
    int32_t two[2] = {x, x};
    tb_output(&b, tb_concat(&b, 2, two, 1));
    check_model(tb_finish(&b), 2, 4, 3, 1, "concat axis 1 rank 4");
}

static void test_reshape_softmax(void) {
    rng_seed(11);
    tb b;
    tb_init(&b);
    int32_t x = tb_input(&b, 4);
    int32_t dims[3] = {0, -1, 2};
    int32_t r = tb_reshape(&b, x, 3, dims);
    tb_output(&b, tb_unary(&b, LFR_NN_OP_SOFTMAX, r));
    check_model(tb_finish(&b), 1, 5, 7, 1, "reshape + softmax (2)");

    tb_init(&b);
    x = tb_input(&b, 10);
    tb_output(&b, tb_unary(&b, LFR_NN_OP_SOFTMAX, x));
    check_model(tb_finish(&b), 2, 3, 3, 1, "softmax 10");

    tb_init(&b);
    x = tb_input(&b, 3);
    tb_output(&b, tb_unary(&b, LFR_NN_OP_RELU, x));
    check_model(tb_finish(&b), 1, 5, 5, 1, "relu");
}

/* A small network in the style of ours: conv s2 + prelu, dw + pw, residual
 * add, maxpool, branch concat, heads reshaped and concatenated, softmax,
 * and an FC head on a second output. */
static lfr_nn_model *tiny_net(void) {
    tb b;
    tb_init(&b);
    int32_t x = tb_input(&b, 3);
    conv_cfg c1 = {.ci = 3, .co = 16, .kh = 3, .kw = 3, .sh = 2, .sw = 2,
                   .pt = 1, .pl = 1, .pb = 1, .pr = 1};
    int32_t t = tb_prelu(&b, tb_conv(&b, x, &c1), 16);
    conv_cfg dw = {.ci = 16, .co = 16, .kh = 3, .kw = 3, .groups = 16,
                   .pt = 1, .pl = 1, .pb = 1, .pr = 1, .act = 1};
    conv_cfg pw = {.ci = 16, .co = 16, .kh = 1, .kw = 1};
    int32_t u = tb_conv(&b, tb_conv(&b, t, &dw), &pw);
    t = tb_add(&b, t, u, 0);
    t = tb_maxpool(&b, t, 3, 2, 1, 0);
    conv_cfg br1 = {.ci = 16, .co = 8, .kh = 1, .kw = 1, .act = 1};
    conv_cfg br2 = {.ci = 16, .co = 8, .kh = 3, .kw = 3, .dh = 2, .dw = 2,
                    .pt = 2, .pl = 2, .pb = 2, .pr = 2, .act = 1};
    int32_t br[2] = {tb_conv(&b, t, &br1), tb_conv(&b, t, &br2)};
    t = tb_concat(&b, 2, br, 3);
    conv_cfg h1 = {.ci = 16, .co = 4, .kh = 3, .kw = 3, .pt = 1, .pl = 1,
                   .pb = 1, .pr = 1};
    conv_cfg h2 = {.ci = 16, .co = 6, .kh = 3, .kw = 3, .pt = 1, .pl = 1,
                   .pb = 1, .pr = 1};
    int32_t dims[3] = {0, -1, 2};
    int32_t hs[2] = {tb_reshape(&b, tb_conv(&b, t, &h1), 3, dims),
                     tb_reshape(&b, tb_conv(&b, t, &h2), 3, dims)};
    int32_t scores = tb_unary(&b, LFR_NN_OP_SOFTMAX, tb_concat(&b, 2, hs, 1));
    tb_output(&b, scores);
    conv_cfg gd = {.ci = 16, .co = 16, .kh = 4, .kw = 4, .groups = 16};
    int32_t emb = tb_fc(&b, tb_conv(&b, t, &gd), 16, 8, 0);
    tb_output(&b, emb);
    return tb_finish(&b);
}

static void test_tiny_net(void) {
    rng_seed(12);
    check_model(tiny_net(), 1, 16, 16, 1, "tiny net 16x16");
}

static void test_tiny_net_batch2(void) {
    rng_seed(13);
    check_model(tiny_net(), 2, 16, 16, 1, "tiny net batch 2");
}

static void test_replan(void) {
    rng_seed(14);
    /* fully convolutional part only (the FC fixes the size): rebuild
     * without it */
    tb b;
    tb_init(&b);
    int32_t x = tb_input(&b, 3);
    conv_cfg c1 = {.ci = 3, .co = 8, .kh = 3, .kw = 3, .sh = 2, .sw = 2,
                   .same = 1};
    int32_t t = tb_prelu(&b, tb_conv(&b, x, &c1), 8);
    conv_cfg dw = {.ci = 8, .co = 8, .kh = 3, .kw = 3, .groups = 8,
                   .same = 1, .sh = 2, .sw = 2};
    t = tb_conv(&b, t, &dw);
    t = tb_maxpool(&b, t, 3, 2, 1, 0);
    int32_t dims[3] = {0, -1, 2};
    t = tb_unary(&b, LFR_NN_OP_SOFTMAX, tb_reshape(&b, t, 3, dims));
    tb_output(&b, t);
    lfr_nn_model *m = tb_finish(&b);
    CHECK(m != NULL);
    if (!m) return;
    long fb0 = fallbacks();
    /* once with private buffers, once with the shared arena */
    for (int keep = 0; keep <= 1; keep++) {
        lfr_nn_ctx *r = NULL, *xc = NULL;
        CHECK_STATUS(lfr_nn_ctx_new(m, LFR_NN_BACKEND_REF, &r), LFR_OK);
        CHECK_STATUS(lfr_nn_ctx_new(m, fast->be, &xc), LFR_OK);
        if (r && xc) {
            lfr_nn_ctx_keep_all(r, 1);
            lfr_nn_ctx_keep_all(xc, keep);
            int sizes[][3] = {{1, 21, 34}, {1, 40, 31}, {2, 9, 12}, {1, 21, 34}};
            for (size_t s = 0; s < 4; s++) {
                lfr_err err = {{0}};
                int n = sizes[s][0], h = sizes[s][1], w = sizes[s][2];
                CHECK_STATUS(lfr_nn_ctx_plan(r, n, h, w, &err), LFR_OK);
                CHECK_STATUS(lfr_nn_ctx_plan(xc, n, h, w, &err), LFR_OK);
                fill_inputs(r, xc, m);
                CHECK_STATUS(lfr_nn_ctx_run(r), LFR_OK);
                CHECK_STATUS(lfr_nn_ctx_run(xc), LFR_OK);
                if (keep) {
                    compare_all(r, xc, m, "replan");
                } else {
                    /* only outputs are valid in the shared arena */
                    lfr_nn_shape sr, sx;
                    const float *pr = lfr_nn_ctx_output(r, 0, &sr);
                    const float *px = lfr_nn_ctx_output(xc, 0, &sx);
                    CHECK(memcmp(&sr, &sx, sizeof sr) == 0);
                    double md = 0;
                    for (size_t k = 0; k < lfr_nn_shape_elems(&sr); k++)
                        md = fmax(md, fabs(pr[k] - px[k]));
                    CHECK(md <= 2e-4);
                }
            }
        }
        lfr_nn_ctx_destroy(r);
        lfr_nn_ctx_destroy(xc);
    }
    CHECK_EQ_INT(fallbacks() - fb0, 0);
    lfr_nn_model_destroy(m);
}

static void test_run_node_by_node(void) {
    rng_seed(15);
    lfr_nn_model *m = tiny_net();
    CHECK(m != NULL);
    if (!m) return;
    lfr_nn_ctx *r = NULL, *x = NULL;
    CHECK_STATUS(lfr_nn_ctx_new(m, LFR_NN_BACKEND_REF, &r), LFR_OK);
    CHECK_STATUS(lfr_nn_ctx_new(m, fast->be, &x), LFR_OK);
    if (r && x) {
        lfr_nn_ctx_keep_all(r, 1);
        lfr_nn_ctx_keep_all(x, 1);
        lfr_err err = {{0}};
        CHECK_STATUS(lfr_nn_ctx_plan(r, 1, 16, 16, &err), LFR_OK);
        CHECK_STATUS(lfr_nn_ctx_plan(x, 1, 16, 16, &err), LFR_OK);
        fill_inputs(r, x, m);
        const lfr_nn_graph *g = lfr_nn_model_graph(m);
        for (int i = 0; i < g->n_nodes; i++) {
            CHECK_STATUS(lfr_nn_ctx_run_node(r, i), LFR_OK);
            CHECK_STATUS(lfr_nn_ctx_run_node(x, i), LFR_OK);
        }
        compare_all(r, x, m, "node by node");
        /* Run twice: a second run gives the same result (no state). */
        CHECK_STATUS(lfr_nn_ctx_run(x), LFR_OK);
        compare_all(r, x, m, "second run");
        CHECK_STATUS(lfr_nn_ctx_run_node(x, g->n_nodes), LFR_ERR_INVALID_ARG);
    }
    lfr_nn_ctx_destroy(r);
    lfr_nn_ctx_destroy(x);
    lfr_nn_model_destroy(m);
}

/* Row bands (src/nn/band.c) ---------------------------------------------- */

/* A chain like a detector's stem, with what makes bands hard: stride 2,
 * dilation, a tall kernel with asymmetric SAME padding, then a node
 * outside the chain (its input is below the chain threshold). */
static lfr_nn_model *band_net(void) {
    tb b;
    tb_init(&b);
    int32_t x = tb_input(&b, 3);
    conv_cfg c0 = {.ci = 3, .co = 8, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .act = 1};
    conv_cfg c1 = {.ci = 8, .co = 8, .kh = 3, .kw = 3, .dh = 2, .dw = 2, .groups = 8, .pt = 2, .pl = 2, .pb = 2, .pr = 2};
    conv_cfg c2 = {.ci = 8, .co = 12, .kh = 1, .kw = 1, .act = 1};
    conv_cfg c3 = {.ci = 12, .co = 6, .kh = 5, .kw = 3, .sh = 2, .sw = 1, .same = 1};
    conv_cfg c4 = {.ci = 6, .co = 4, .kh = 3, .kw = 3, .pt = 1, .pl = 1, .pb = 1, .pr = 1};
    int32_t t = tb_conv(&b, x, &c0);
    t = tb_conv(&b, t, &c1);
    t = tb_conv(&b, t, &c2);
    t = tb_conv(&b, t, &c3);
    /* Node 3's output is read by node 4 and is a graph output: the chain
     * ends at node 3. */
    tb_output(&b, tb_conv(&b, t, &c4));
    tb_output(&b, t);
    return tb_finish(&b);
}

/* Output 0 after one run of a fresh ctx on `be` with `rows` per band. */
static float *band_run(lfr_nn_model *m, lfr_nn_backend be, int rows, int h, int w,
                       const float *in, int *planned_rows, size_t *n_out) {
    lfr_nn_ctx *c = NULL;
    lfr_err err = {{0}};
    float *out = NULL;
    CHECK_STATUS(lfr_nn_ctx_new(m, be, &c), LFR_OK);
    if (!c) return NULL;
    lfr_nn_ctx_set_band_rows(c, rows);
    lfr_status st = lfr_nn_ctx_plan(c, 1, h, w, &err);
    CHECK_STATUS(st, LFR_OK);
    if (st == LFR_OK) {
        lfr_nn_shape s;
        float *x = lfr_nn_ctx_input(c, 0, &s);
        memcpy(x, in, lfr_nn_shape_elems(&s) * sizeof(float));
        CHECK_STATUS(lfr_nn_ctx_run(c), LFR_OK);
        *planned_rows = lfr_nn_ctx_band_rows(c);
        const float *o = lfr_nn_ctx_output(c, 0, &s);
        *n_out = lfr_nn_shape_elems(&s);
        out = malloc(*n_out * sizeof(float));
        if (out) memcpy(out, o, *n_out * sizeof(float));
        if (*planned_rows > 0) {
            /* Banded nodes refuse node-by-node runs; windows are no tensors. */
            CHECK_STATUS(lfr_nn_ctx_run_node(c, 0), LFR_ERR_STATE);
            if (h >= 37 && rows == 1)
                CHECK(lfr_nn_ctx_tensor(c, lfr_nn_model_graph(m)->nodes[0].out, NULL) == NULL);
            CHECK_STATUS(lfr_nn_ctx_run_node(c, 4), LFR_OK);
        }
    }
    lfr_nn_ctx_destroy(c);
    return out;
}

static void test_bands(void) {
    rng_seed(17);
    lfr_nn_model *m = band_net();
    CHECK(m != NULL);
    if (!m) return;
    lfr_nn_bands_set_min_bytes(1); /* band these small maps */
    static const int hs[] = {1, 2, 3, 7, 16, 37}, ws[] = {5, 1, 9, 6, 11, 23};
    static const int rows[] = {1, 2, 3, 5, -1};
    int banded = 0;
    for (size_t k = 0; k < sizeof hs / sizeof hs[0]; k++) {
        int h = hs[k], w = ws[k], pr = 0;
        size_t n_in = (size_t)h * w * 3, n_ref = 0, n = 0;
        float *in = malloc(n_in * sizeof(float));
        if (!in) break;
        for (size_t i = 0; i < n_in; i++) in[i] = 2.0f * rng_f();
        float *ref = band_run(m, LFR_NN_BACKEND_REF, 0, h, w, in, &pr, &n_ref);
        CHECK_EQ_INT(pr, 0);
        for (size_t r = 0; ref && r < sizeof rows / sizeof rows[0]; r++) {
            /* Reference, banded: bit-identical to whole nodes. */
            float *o = band_run(m, LFR_NN_BACKEND_REF, rows[r], h, w, in, &pr, &n);
            int same = o && n == n_ref && memcmp(o, ref, n * sizeof(float)) == 0;
            if (!same) fprintf(stderr, "  ref bands %dx%d rows %d (%d) differ\n", h, w, rows[r], pr);
            CHECK(same);
            free(o);
            banded += pr > 0;
            /* The fast backend, banded, against the reference. */
            o = band_run(m, fast->be, rows[r], h, w, in, &pr, &n);
            CHECK(o && n == n_ref);
            double maxref = 0, maxdiff = 0;
            for (size_t i = 0; o && i < n; i++) {
                double d = fabs((double)o[i] - ref[i]);
                if (fabs(ref[i]) > maxref) maxref = fabs(ref[i]);
                if (!(d <= maxdiff)) maxdiff = isnan(d) ? INFINITY : d;
            }
            if (!(maxdiff <= 1e-4 * (1 + maxref)))
                fprintf(stderr, "  bands %dx%d rows %d (%d): max |diff| %g\n", h, w, rows[r], pr, maxdiff);
            CHECK(maxdiff <= 1e-4 * (1 + maxref));
            free(o);
            n_compared++;
        }
        free(ref);
        free(in);
    }
    /* Tall inputs were banded (1 row per band and more), short ones not. */
    CHECK(banded >= 8);
    lfr_nn_bands_set_min_bytes(0);
    lfr_nn_model_destroy(m);
}

/* Fault injection -------------------------------------------------------- */

static void fault_backend(lfr_nn_model *m, lfr_nn_backend be, int band_rows) {
    int ok_run = 0;
    for (long n = 0; n < 200 && ok_run < 3; n++) {
        lfr_nn_ctx *c = NULL;
        lfr_err err = {{0}};
        lfr_alloc_fail_after(n);
        lfr_status st = lfr_nn_ctx_new(m, be, &c);
        if (st == LFR_OK) {
            lfr_nn_ctx_set_band_rows(c, band_rows);
            lfr_nn_ctx_keep_all(c, (int)(n & 1) && band_rows < 0);
            st = lfr_nn_ctx_plan(c, 1, 16, 16, &err);
            if (st == LFR_OK) st = lfr_nn_ctx_plan(c, 2, 16, 16, &err);
        } else {
            CHECK(c == NULL);
        }
        lfr_alloc_fail_after(-1);
        CHECK(st == LFR_OK || st == LFR_ERR_NOMEM);
        if (st != LFR_OK && st != LFR_ERR_NOMEM)
            fprintf(stderr, "  n=%ld: %s (%s)\n", n, lfr_status_str(st), err.msg);
        if (c) {
            /* Whatever happened, the ctx must still plan and run. */
            CHECK_STATUS(lfr_nn_ctx_plan(c, 1, 16, 16, &err), LFR_OK);
            float *in = lfr_nn_ctx_input(c, 0, NULL);
            if (in) memset(in, 0, 16 * 16 * 3 * sizeof(float));
            CHECK_STATUS(lfr_nn_ctx_run(c), LFR_OK);
        }
        lfr_nn_ctx_destroy(c);
        ok_run = st == LFR_OK ? ok_run + 1 : 0;
    }
    CHECK(ok_run >= 3);
}

static void test_fault_injection(void) {
    rng_seed(16);
    lfr_nn_model *m = tiny_net();
    CHECK(m != NULL);
    if (!m) return;
    fault_backend(m, fast->be, -1);
    if (fast == &fast_cfgs[0]) fault_backend(m, LFR_NN_BACKEND_REF, -1);
    lfr_nn_model_destroy(m);
    /* The same with a banded chain (band plan, windows, band primitives). */
    m = band_net();
    CHECK(m != NULL);
    if (!m) return;
    lfr_nn_bands_set_min_bytes(1);
    fault_backend(m, fast->be, 2);
    lfr_nn_bands_set_min_bytes(0);
    lfr_nn_model_destroy(m);
}

int main(void) {
    lfr_log_set_level(LFR_LOG_WARN);
    for (size_t f = 0; f < sizeof fast_cfgs / sizeof fast_cfgs[0]; f++) {
        fast = &fast_cfgs[f];
        lfr_nn_dnnl_set_pure(fast->pure);
        fprintf(stderr, "== fast backend: %s\n", fast->name);
        RUN(test_hand_conv_2x2);
        RUN(test_hand_conv_same_asym);
        RUN(test_hand_depthwise_relu);
        RUN(test_hand_maxpool_fc);
        RUN(test_hand_maxpool_same_padding_never_wins);
        RUN(test_hand_prelu_softmax_concat);
        RUN(test_conv3x3_rgb);
        RUN(test_conv1x1);
        RUN(test_depthwise);
        RUN(test_grouped);
        RUN(test_dilated);
        RUN(test_same_asymmetric);
        RUN(test_maxpool);
        RUN(test_fc);
        RUN(test_prelu_add_relu);
        RUN(test_concat);
        RUN(test_reshape_softmax);
        RUN(test_tiny_net);
        RUN(test_tiny_net_batch2);
        RUN(test_replan);
        RUN(test_run_node_by_node);
        RUN(test_bands);
        RUN(test_fault_injection);
    }
    lfr_nn_dnnl_set_pure(0);
    fprintf(stderr, "compared %d node outputs\n", n_compared);
    return harness_done("nn_ops");
}
