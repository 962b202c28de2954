/*
 * xnn.c - the XNNPACK backend: every op of LFR_NN_OP_LIST on XNNPACK's
 * operator API (the 2022 API of Debian's libxnnpack-dev), single-threaded.
 *
 * Life cycle (see nn_int.h):
 *   init     xnn_initialize once per process; one operator per node whose
 *            configuration does not depend on the input size: CONV2D and FC
 *            (weights packed here, once per ctx), PRELU (slopes packed),
 *            ADD, RELU.
 *   prepare  after every plan: MAXPOOL and SOFTMAX operators are (re)made
 *            when their channel count changes (they pack nothing), then
 *            xnn_setup_* binds every operator to the planned shapes and
 *            buffers.  CONCAT and RESHAPE are plain copies computed here.
 *   run_node xnn_run_operator, or the copies; no allocation.
 *   release  deletes the operators.
 *
 * Fallback: when XNNPACK refuses a configuration (create or setup fails for
 * a reason other than memory, or its output size for a conv/pool differs
 * from the planned one), the node runs on the reference backend, which
 * reads the same ctx fields (shapes, buf, pads); this is logged once per
 * node at debug level.  The hot ops of our networks (conv, depthwise conv,
 * FC, PRELU, ADD, max-pool) are expected to stay on XNNPACK; the tests
 * check that with lfr_nn_xnn_fallback_count().
 *
 * Diagnostic, off by default: OPENLFR_NN_XNN_GEMM=1 runs 1x1 convolutions
 * and FC on a plain AVX2 GEMM kernel below instead of XNNPACK's.  It exists
 * to show that Debian's XNNPACK build (2022 snapshot) is ~2x slower than it
 * should be on these shapes (3136x64x128: 1.5 vs 0.65 ms), which is why
 * the product's default backend is oneDNN (dnnl.c).  The product never
 * runs it: kernels come from the libraries.
 *
 * XNNPACK may read up to XNN_EXTRA_BYTES past the end of an input; the
 * planner's arena must leave that much slack after its last buffer.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include <stdlib.h>

#include <xnnpack.h>

#include "nn/nn_int.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define XNN_OWN_GEMM 1
#else
#define XNN_OWN_GEMM 0
#endif

typedef enum xmode {
    XM_NOP = 0,      /* nothing to do (empty tensor, aliased reshape) */
    XM_OP,           /* run the XNNPACK operator */
    XM_REF,          /* run the reference backend */
    XM_CONCAT,       /* strided copies */
    XM_COPY,         /* one memcpy (reshape) */
    XM_GEMM          /* own AVX2 GEMM (1x1 conv, FC) */
} xmode;

typedef struct xnode {
    xnn_operator_t op;
    int refuse;          /* XNNPACK refused this node at create: always ref */
    int logged;          /* the fallback was logged */
    xmode mode;          /* for the current plan */
    size_t op_channels;  /* channels of a lazily made op (maxpool, softmax) */
    /* CONCAT: outer count, output inner size, each input's inner size. */
    size_t outer, inner_out, inner_in[LFR_MAX_NODE_INPUTS];
    size_t copy_bytes;   /* RESHAPE */
    /* Own GEMM (1x1 conv, FC): weights packed [ceil(n/16)][k][16], bias
     * padded to a multiple of 16; rows for the current plan. */
    float *gw, *gb;
    size_t gk, gn, gm;
    int grelu;
} xnode;

typedef struct xstate {
    int n;
    xnode *nodes;
} xstate;

/* XNNPACK initialisation, once per process ----------------------------- */

static pthread_once_t xnn_once = PTHREAD_ONCE_INIT;
static enum xnn_status xnn_init_status = xnn_status_uninitialized;

static void own_gemm_detect(void);

static void xnn_init_once(void) {
    xnn_init_status = xnn_initialize(NULL);
    own_gemm_detect();
}

/* Fallback counter for tests and benchmarks (all ctxs of the process). */
static _Atomic long xnn_fallbacks;

long lfr_nn_xnn_fallback_count(void);
long lfr_nn_xnn_fallback_count(void) { return xnn_fallbacks; }

static void note_fallback(lfr_nn_ctx *c, int i, const char *what,
                          enum xnn_status st) {
    xnode *x = &((xstate *)c->backend_state)->nodes[i];
    if (x->logged) return;
    x->logged = 1;
    xnn_fallbacks++;
    lfr_log(LFR_LOG_DEBUG,
            "nn/xnnpack: node %d (%s) runs on the reference backend: %s "
            "(xnn status %d)",
            i, lfr_nn_op_name((lfr_nn_op)c->g->nodes[i].op), what, (int)st);
}

/* Helpers ---------------------------------------------------------------- */

static size_t elems(const lfr_nn_shape *s) {
    size_t n = 1;
    for (int k = 0; k < s->ndim; k++) n *= (size_t)(s->d[k] > 0 ? s->d[k] : 0);
    return n;
}

static float act_min(const lfr_nn_node *nd) {
    return nd->p[LFR_NN_P_ACT] == LFR_NN_ACT_RELU ? 0.0f : -INFINITY;
}

/* Output size of a window op as XNNPACK computes it. */
static size_t win_out(size_t in, size_t k, size_t s, size_t d, size_t pb,
                      size_t pa, int same) {
    if (same) return (in + s - 1) / s;
    size_t eff = (k - 1) * d + 1, padded = in + pb + pa;
    if (padded < eff) return 0;
    return (padded - eff) / s + 1;
}

static int conv_same_flag(const lfr_nn_node *nd) {
    if (!nd->p[LFR_NN_P_SAME]) return 0;
    /* A 1x1 kernel never pads under SAME; without the flag XNNPACK can take
     * its GEMM path. */
    return !(nd->p[LFR_NN_P_KH] == 1 && nd->p[LFR_NN_P_KW] == 1);
}

/* Maps a create/setup failure: memory is an error, anything else makes the
 * node fall back to the reference backend. */
static lfr_status refused(lfr_nn_ctx *c, int i, const char *what,
                          enum xnn_status st) {
    if (st == xnn_status_out_of_memory) return LFR_ERR_NOMEM;
    note_fallback(c, i, what, st);
    return LFR_OK;
}


/* Own GEMM for 1x1 convolutions and FC ----------------------------------
 *
 * Debian's libXNNPACK (0.0~git20220216) is built so that its AVX2/FMA f32
 * GEMM micro-kernel spills an accumulator to the stack in its inner loop;
 * a plain 4x16 FMA kernel runs 2-2.5x faster on the 1x1 convolutions that
 * dominate our networks (measured: 3136x64x128 1.5 ms vs 0.65 ms).  So on
 * x86-64 with AVX2+FMA, 1x1 stride-1 unpadded ungrouped convolutions and FC
 * run here; everything else stays on XNNPACK.  OPENLFR_NN_XNN_GEMM=0 in the
 * environment turns this off (benchmarks, A/B checks). */

#if XNN_OWN_GEMM
#define GEMM_MB 64 /* rows per block: the A block stays in L1 */

__attribute__((target("avx2,fma"))) static void
gemm_avx2(size_t M, size_t N, size_t K, const float *A, const float *Bp,
          const float *bias, float *C, int relu) {
    const __m256 zero = _mm256_setzero_ps();
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (size_t mb = 0; mb < M; mb += GEMM_MB) {
        size_t me = mb + GEMM_MB < M ? mb + GEMM_MB : M;
        for (size_t n0 = 0; n0 < N; n0 += 16) {
            const float *B = Bp + n0 * K;
            size_t nr = N - n0 < 16 ? N - n0 : 16;
            __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nr), idx);
            __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nr - 8), idx);
            __m256 b0 = _mm256_load_ps(bias + n0), b1 = _mm256_load_ps(bias + n0 + 8);
            size_t m = mb;
            for (; m + 4 <= me; m += 4) {
                const float *a0 = A + m * K, *a1 = a0 + K, *a2 = a1 + K, *a3 = a2 + K;
                __m256 c00 = b0, c01 = b1, c10 = b0, c11 = b1;
                __m256 c20 = b0, c21 = b1, c30 = b0, c31 = b1;
                const float *bk = B;
                for (size_t k = 0; k < K; k++, bk += 16) {
                    __m256 w0 = _mm256_load_ps(bk), w1 = _mm256_load_ps(bk + 8), x;
                    x = _mm256_broadcast_ss(a0 + k);
                    c00 = _mm256_fmadd_ps(x, w0, c00);
                    c01 = _mm256_fmadd_ps(x, w1, c01);
                    x = _mm256_broadcast_ss(a1 + k);
                    c10 = _mm256_fmadd_ps(x, w0, c10);
                    c11 = _mm256_fmadd_ps(x, w1, c11);
                    x = _mm256_broadcast_ss(a2 + k);
                    c20 = _mm256_fmadd_ps(x, w0, c20);
                    c21 = _mm256_fmadd_ps(x, w1, c21);
                    x = _mm256_broadcast_ss(a3 + k);
                    c30 = _mm256_fmadd_ps(x, w0, c30);
                    c31 = _mm256_fmadd_ps(x, w1, c31);
                }
                if (relu) {
                    c00 = _mm256_max_ps(c00, zero), c01 = _mm256_max_ps(c01, zero);
                    c10 = _mm256_max_ps(c10, zero), c11 = _mm256_max_ps(c11, zero);
                    c20 = _mm256_max_ps(c20, zero), c21 = _mm256_max_ps(c21, zero);
                    c30 = _mm256_max_ps(c30, zero), c31 = _mm256_max_ps(c31, zero);
                }
                float *c = C + m * N + n0;
                if (nr == 16) {
                    _mm256_storeu_ps(c, c00), _mm256_storeu_ps(c + 8, c01), c += N;
                    _mm256_storeu_ps(c, c10), _mm256_storeu_ps(c + 8, c11), c += N;
                    _mm256_storeu_ps(c, c20), _mm256_storeu_ps(c + 8, c21), c += N;
                    _mm256_storeu_ps(c, c30), _mm256_storeu_ps(c + 8, c31);
                } else {
                    _mm256_maskstore_ps(c, m0, c00), _mm256_maskstore_ps(c + 8, m1, c01), c += N;
                    _mm256_maskstore_ps(c, m0, c10), _mm256_maskstore_ps(c + 8, m1, c11), c += N;
                    _mm256_maskstore_ps(c, m0, c20), _mm256_maskstore_ps(c + 8, m1, c21), c += N;
                    _mm256_maskstore_ps(c, m0, c30), _mm256_maskstore_ps(c + 8, m1, c31);
                }
            }
            for (; m < me; m++) {
                const float *a = A + m * K, *bk = B;
                __m256 c0 = b0, c1 = b1;
                for (size_t k = 0; k < K; k++, bk += 16) {
                    __m256 x = _mm256_broadcast_ss(a + k);
                    c0 = _mm256_fmadd_ps(x, _mm256_load_ps(bk), c0);
                    c1 = _mm256_fmadd_ps(x, _mm256_load_ps(bk + 8), c1);
                }
                if (relu) c0 = _mm256_max_ps(c0, zero), c1 = _mm256_max_ps(c1, zero);
                _mm256_maskstore_ps(C + m * N + n0, m0, c0);
                _mm256_maskstore_ps(C + m * N + n0 + 8, m1, c1);
            }
        }
    }
}

static int own_gemm_avail; /* set once, in xnn_init_once */

static void own_gemm_detect(void) {
    const char *e = getenv("OPENLFR_NN_XNN_GEMM");
    __builtin_cpu_init();
    own_gemm_avail = e && e[0] == '1' && __builtin_cpu_supports("avx2") &&
                     __builtin_cpu_supports("fma");
}

static int own_gemm_available(void) { return own_gemm_avail; }
#else
static void own_gemm_detect(void) {}
static int own_gemm_available(void) { return 0; }
#endif

/* Packs w[n][k] and bias for gemm_avx2. */
static lfr_status gemm_pack(xnode *x, const float *w, const float *b, size_t n,
                            size_t k, int relu) {
    size_t np = (n + 15) / 16 * 16;
    x->gw = lfr_malloc_aligned(np * k * sizeof(float));
    x->gb = lfr_malloc_aligned(np * sizeof(float));
    if (!x->gw || !x->gb) {
        lfr_free_aligned(x->gw);
        lfr_free_aligned(x->gb);
        x->gw = x->gb = NULL;
        return LFR_ERR_NOMEM;
    }
    memset(x->gw, 0, np * k * sizeof(float));
    memset(x->gb, 0, np * sizeof(float));
    for (size_t j = 0; j < n; j++) {
        x->gb[j] = b[j];
        for (size_t i = 0; i < k; i++)
            x->gw[(j / 16) * 16 * k + i * 16 + j % 16] = w[j * k + i];
    }
    x->gn = n;
    x->gk = k;
    x->grelu = relu;
    return LFR_OK;
}

static int conv_is_gemm(const lfr_nn_node *nd) {
    const int32_t *p = nd->p;
    return p[LFR_NN_P_KH] == 1 && p[LFR_NN_P_KW] == 1 && p[LFR_NN_P_SH] == 1 &&
           p[LFR_NN_P_SW] == 1 && p[LFR_NN_P_GROUPS] == 1 &&
           (p[LFR_NN_P_SAME] ||
            (p[LFR_NN_P_PT] | p[LFR_NN_P_PL] | p[LFR_NN_P_PB] | p[LFR_NN_P_PR]) == 0);
}

/* init -------------------------------------------------------------------- */

static lfr_status create_conv(lfr_nn_ctx *c, int i, xnode *x) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    const lfr_nn_tensor *w = &c->g->tensors[nd->in[1]];
    const lfr_nn_tensor *b = &c->g->tensors[nd->in[2]];
    const int32_t *p = nd->p;
    uint32_t groups = p[LFR_NN_P_GROUPS] > 0 ? (uint32_t)p[LFR_NN_P_GROUPS] : 1;
    size_t co = (size_t)w->shape.d[0], cig = (size_t)w->shape.d[3];
    if (co % groups != 0) return LFR_ERR_BAD_MODEL;
    size_t cog = co / groups, ci = cig * groups;
    int same = conv_same_flag(nd), zero = p[LFR_NN_P_SAME] != 0;
    uint32_t pt = zero ? 0 : (uint32_t)p[LFR_NN_P_PT];
    uint32_t pl = zero ? 0 : (uint32_t)p[LFR_NN_P_PL];
    uint32_t pbm = zero ? 0 : (uint32_t)p[LFR_NN_P_PB];
    uint32_t pr = zero ? 0 : (uint32_t)p[LFR_NN_P_PR];
    uint32_t dh = p[LFR_NN_P_DH] > 0 ? (uint32_t)p[LFR_NN_P_DH] : 1;
    uint32_t dw = p[LFR_NN_P_DW] > 0 ? (uint32_t)p[LFR_NN_P_DW] : 1;
    enum xnn_status st = xnn_create_convolution2d_nhwc_f32(
        pt, pr, pbm, pl, (uint32_t)p[LFR_NN_P_KH], (uint32_t)p[LFR_NN_P_KW],
        (uint32_t)p[LFR_NN_P_SH], (uint32_t)p[LFR_NN_P_SW], dh, dw, groups, cig,
        cog, ci, co, w->data, b->data, act_min(nd), INFINITY,
        same ? XNN_FLAG_TENSORFLOW_SAME_PADDING : 0, &x->op);
    if (st != xnn_status_success) {
        x->op = NULL;
        x->refuse = 1;
        return refused(c, i, "convolution refused", st);
    }
    return LFR_OK;
}

static lfr_status create_node(lfr_nn_ctx *c, int i, xnode *x) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    enum xnn_status st = xnn_status_success;
    const char *what = "";
    if ((nd->op == LFR_NN_OP_FC ||
         (nd->op == LFR_NN_OP_CONV2D && conv_is_gemm(nd))) &&
        own_gemm_available()) {
        const lfr_nn_tensor *w = &c->g->tensors[nd->in[1]];
        const lfr_nn_tensor *b = &c->g->tensors[nd->in[2]];
        size_t n = (size_t)w->shape.d[0], k = elems(&w->shape) / n;
        return gemm_pack(x, w->data, b->data, n, k,
                         nd->p[LFR_NN_P_ACT] == LFR_NN_ACT_RELU);
    }
    switch ((lfr_nn_op)nd->op) {
    case LFR_NN_OP_CONV2D:
        return create_conv(c, i, x);
    case LFR_NN_OP_FC: {
        const lfr_nn_tensor *w = &c->g->tensors[nd->in[1]];
        const lfr_nn_tensor *b = &c->g->tensors[nd->in[2]];
        size_t co = (size_t)w->shape.d[0], k = (size_t)w->shape.d[1];
        st = xnn_create_fully_connected_nc_f32(k, co, k, co, w->data, b->data,
                                               act_min(nd), INFINITY, 0, &x->op);
        what = "fully connected refused";
        break;
    }
    case LFR_NN_OP_PRELU: {
        const lfr_nn_tensor *s = &c->g->tensors[nd->in[1]];
        size_t ch = elems(&s->shape);
        st = xnn_create_prelu_nc_f32(ch, ch, ch, s->data, 0, &x->op);
        what = "prelu refused";
        break;
    }
    case LFR_NN_OP_ADD:
        st = xnn_create_add_nd_f32(act_min(nd), INFINITY, 0, &x->op);
        what = "add refused";
        break;
    case LFR_NN_OP_RELU:
        /* channels 1, stride 1: XNNPACK treats the batch as one vector. */
        st = xnn_create_clamp_nc_f32(1, 1, 1, 0.0f, INFINITY, 0, &x->op);
        what = "clamp refused";
        break;
    default:
        return LFR_OK;  /* made in prepare, or no operator at all */
    }
    if (st != xnn_status_success) {
        x->op = NULL;
        x->refuse = 1;
        return refused(c, i, what, st);
    }
    return LFR_OK;
}

static void xnn_release(lfr_nn_ctx *c);

static lfr_status xnn_init(lfr_nn_ctx *c) {
    pthread_once(&xnn_once, xnn_init_once);
    if (xnn_init_status != xnn_status_success) {
        lfr_log(LFR_LOG_ERROR, "nn/xnnpack: xnn_initialize failed (status %d)",
                (int)xnn_init_status);
        return xnn_init_status == xnn_status_out_of_memory ? LFR_ERR_NOMEM
                                                           : LFR_ERR_BACKEND;
    }
    xstate *s = lfr_calloc(1, sizeof *s);
    if (!s) return LFR_ERR_NOMEM;
    s->n = c->g->n_nodes;
    s->nodes = lfr_calloc(s->n > 0 ? (size_t)s->n : 1, sizeof *s->nodes);
    if (!s->nodes) {
        lfr_free(s);
        return LFR_ERR_NOMEM;
    }
    c->backend_state = s;
    for (int i = 0; i < s->n; i++) {
        lfr_status r = create_node(c, i, &s->nodes[i]);
        if (r != LFR_OK) {
            xnn_release(c);
            return r;
        }
    }
    return LFR_OK;
}

/* prepare ----------------------------------------------------------------- */

/* Makes (or remakes for a new channel count) a maxpool/softmax operator. */
static lfr_status lazy_op(lfr_nn_ctx *c, int i, xnode *x, size_t ch) {
    if (x->op && x->op_channels == ch) return LFR_OK;
    if (x->op) {
        xnn_delete_operator(x->op);
        x->op = NULL;
    }
    const lfr_nn_node *nd = &c->g->nodes[i];
    const int32_t *p = nd->p;
    enum xnn_status st;
    if (nd->op == LFR_NN_OP_MAXPOOL) {
        int same = p[LFR_NN_P_SAME] != 0;
        st = xnn_create_max_pooling2d_nhwc_f32(
            same ? 0 : (uint32_t)p[LFR_NN_P_PT], same ? 0 : (uint32_t)p[LFR_NN_P_PR],
            same ? 0 : (uint32_t)p[LFR_NN_P_PB], same ? 0 : (uint32_t)p[LFR_NN_P_PL],
            (uint32_t)p[LFR_NN_P_KH], (uint32_t)p[LFR_NN_P_KW],
            (uint32_t)p[LFR_NN_P_SH], (uint32_t)p[LFR_NN_P_SW], 1, 1, ch, ch, ch,
            -INFINITY, INFINITY, same ? XNN_FLAG_TENSORFLOW_SAME_PADDING : 0,
            &x->op);
    } else {
        st = xnn_create_softmax_nc_f32(ch, ch, ch, 0, &x->op);
    }
    if (st != xnn_status_success) {
        x->op = NULL;
        x->mode = XM_REF;
        return refused(c, i, "operator refused", st);
    }
    x->op_channels = ch;
    return LFR_OK;
}

static lfr_status prepare_node(lfr_nn_ctx *c, int i, xnode *x) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    const lfr_nn_shape *si = &c->shapes[nd->in[0]];
    const lfr_nn_shape *so = &c->shapes[nd->out];
    const float *in = c->buf[nd->in[0]];
    float *out = c->buf[nd->out];
    size_t n_in = elems(si), n_out = elems(so);
    enum xnn_status st = xnn_status_success;
    const int32_t *p = nd->p;

    x->mode = XM_REF;
    if (x->refuse) return LFR_OK;
    if (n_out == 0) {
        x->mode = XM_NOP;
        return LFR_OK;
    }
    if (x->gw) {
        if (n_in % x->gk != 0 || n_out != n_in / x->gk * x->gn)
            return LFR_ERR_INTERNAL;
        x->gm = n_in / x->gk;
        x->mode = XM_GEMM;
        return LFR_OK;
    }
    switch ((lfr_nn_op)nd->op) {
    case LFR_NN_OP_CONV2D:
    case LFR_NN_OP_MAXPOOL: {
        if (si->ndim != 4 || so->ndim != 4) return LFR_ERR_INTERNAL;
        int conv = nd->op == LFR_NN_OP_CONV2D;
        int same = p[LFR_NN_P_SAME] != 0;
        size_t dh = conv && p[LFR_NN_P_DH] > 0 ? (size_t)p[LFR_NN_P_DH] : 1;
        size_t dw = conv && p[LFR_NN_P_DW] > 0 ? (size_t)p[LFR_NN_P_DW] : 1;
        size_t oh = win_out((size_t)si->d[1], (size_t)p[LFR_NN_P_KH],
                            (size_t)p[LFR_NN_P_SH], dh, (size_t)p[LFR_NN_P_PT],
                            (size_t)p[LFR_NN_P_PB], same);
        size_t ow = win_out((size_t)si->d[2], (size_t)p[LFR_NN_P_KW],
                            (size_t)p[LFR_NN_P_SW], dw, (size_t)p[LFR_NN_P_PL],
                            (size_t)p[LFR_NN_P_PR], same);
        if (oh != (size_t)so->d[1] || ow != (size_t)so->d[2] ||
            so->d[0] != si->d[0]) {
            note_fallback(c, i, "planned output size differs from XNNPACK's",
                          xnn_status_success);
            return LFR_OK;
        }
        if (conv) {
            const lfr_nn_shape *ws = &c->g->tensors[nd->in[1]].shape;
            int32_t groups = p[LFR_NN_P_GROUPS] > 0 ? p[LFR_NN_P_GROUPS] : 1;
            if (si->d[3] != ws->d[3] * groups || so->d[3] != ws->d[0])
                return LFR_ERR_INTERNAL;
            st = xnn_setup_convolution2d_nhwc_f32(
                x->op, (size_t)si->d[0], (size_t)si->d[1], (size_t)si->d[2], in,
                out, NULL);
        } else {
            if (so->d[3] != si->d[3]) return LFR_ERR_INTERNAL;
            lfr_status r = lazy_op(c, i, x, (size_t)si->d[3]);
            if (r != LFR_OK || !x->op) return r;
            st = xnn_setup_max_pooling2d_nhwc_f32(
                x->op, (size_t)si->d[0], (size_t)si->d[1], (size_t)si->d[2], in,
                out, NULL);
        }
        break;
    }
    case LFR_NN_OP_FC: {
        const lfr_nn_shape *ws = &c->g->tensors[nd->in[1]].shape;
        size_t nb = (size_t)si->d[0];
        if (nb == 0 || n_in != nb * (size_t)ws->d[1] ||
            n_out != nb * (size_t)ws->d[0])
            return LFR_ERR_INTERNAL;
        st = xnn_setup_fully_connected_nc_f32(x->op, nb, in, out, NULL);
        break;
    }
    case LFR_NN_OP_ADD: {
        size_t shape[1] = {n_out};
        if (elems(&c->shapes[nd->in[1]]) != n_out || n_in != n_out)
            return LFR_ERR_INTERNAL;
        st = xnn_setup_add_nd_f32(x->op, 1, shape, 1, shape, in,
                                  c->buf[nd->in[1]], out, NULL);
        break;
    }
    case LFR_NN_OP_PRELU: {
        size_t ch = elems(&c->g->tensors[nd->in[1]].shape);
        if (ch == 0 || n_in % ch != 0 || n_in != n_out) return LFR_ERR_INTERNAL;
        st = xnn_setup_prelu_nc_f32(x->op, n_in / ch, in, out, NULL);
        break;
    }
    case LFR_NN_OP_RELU:
        if (n_in != n_out) return LFR_ERR_INTERNAL;
        st = xnn_setup_clamp_nc_f32(x->op, n_in, in, out, NULL);
        break;
    case LFR_NN_OP_SOFTMAX: {
        size_t ch = si->ndim > 0 ? (size_t)si->d[si->ndim - 1] : 0;
        if (ch == 0 || n_in != n_out) return LFR_ERR_INTERNAL;
        lfr_status r = lazy_op(c, i, x, ch);
        if (r != LFR_OK || !x->op) return r;
        st = xnn_setup_softmax_nc_f32(x->op, n_in / ch, in, out, NULL);
        break;
    }
    case LFR_NN_OP_CONCAT: {
        int axis = p[LFR_NN_P_AXIS];
        if (axis < 0) axis += so->ndim;
        if (axis < 0 || axis >= so->ndim || nd->n_in > LFR_MAX_NODE_INPUTS)
            return LFR_ERR_INTERNAL;
        size_t outer = 1, inner = 1, sum = 0;
        for (int k = 0; k < axis; k++) outer *= (size_t)so->d[k];
        for (int k = axis + 1; k < so->ndim; k++) inner *= (size_t)so->d[k];
        for (int j = 0; j < nd->n_in; j++) {
            const lfr_nn_shape *sj = &c->shapes[nd->in[j]];
            if (sj->ndim != so->ndim) return LFR_ERR_INTERNAL;
            x->inner_in[j] = inner * (size_t)sj->d[axis];
            sum += x->inner_in[j];
        }
        x->outer = outer;
        x->inner_out = inner * (size_t)so->d[axis];
        if (sum != x->inner_out || outer * x->inner_out != n_out)
            return LFR_ERR_INTERNAL;
        x->mode = XM_CONCAT;
        return LFR_OK;
    }
    case LFR_NN_OP_RESHAPE:
        if (n_in != n_out) return LFR_ERR_INTERNAL;
        x->copy_bytes = n_out * sizeof(float);
        x->mode = (const float *)out == in ? XM_NOP : XM_COPY;
        return LFR_OK;
    default:
        return LFR_ERR_INTERNAL;
    }
    if (st != xnn_status_success) return refused(c, i, "setup refused", st);
    x->mode = XM_OP;
    return LFR_OK;
}

static lfr_status xnn_prepare(lfr_nn_ctx *c) {
    xstate *s = c->backend_state;
    if (!s) return LFR_ERR_STATE;
    for (int i = 0; i < s->n; i++) {
        lfr_status r = prepare_node(c, i, &s->nodes[i]);
        if (r != LFR_OK) {
            lfr_log(LFR_LOG_ERROR, "nn/xnnpack: prepare node %d (%s): %s", i,
                    lfr_nn_op_name((lfr_nn_op)c->g->nodes[i].op),
                    lfr_status_str(r));
            return r;
        }
    }
    /* Nodes on the reference backend need its preparation too. */
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].mode == XM_REF) {
            if (lfr_nn_backend_ref.prepare) {
                void *mine = c->backend_state;
                c->backend_state = NULL;
                lfr_status r = lfr_nn_backend_ref.prepare(c);
                c->backend_state = mine;
                if (r != LFR_OK) return r;
            }
            break;
        }
    return LFR_OK;
}

/* run --------------------------------------------------------------------- */

static lfr_status xnn_run_node(lfr_nn_ctx *c, int i) {
    xstate *s = c->backend_state;
    if (!s || i < 0 || i >= s->n) return LFR_ERR_INVALID_ARG;
    xnode *x = &s->nodes[i];
    switch (x->mode) {
    case XM_NOP:
        return LFR_OK;
    case XM_OP:
        return xnn_run_operator(x->op, NULL) == xnn_status_success
                   ? LFR_OK
                   : LFR_ERR_BACKEND;
#if XNN_OWN_GEMM
    case XM_GEMM: {
        const lfr_nn_node *nd = &c->g->nodes[i];
        gemm_avx2(x->gm, x->gn, x->gk, c->buf[nd->in[0]], x->gw, x->gb,
                  c->buf[nd->out], x->grelu);
        return LFR_OK;
    }
#endif
    case XM_COPY: {
        const lfr_nn_node *nd = &c->g->nodes[i];
        memmove(c->buf[nd->out], c->buf[nd->in[0]], x->copy_bytes);
        return LFR_OK;
    }
    case XM_CONCAT: {
        const lfr_nn_node *nd = &c->g->nodes[i];
        float *out = c->buf[nd->out];
        size_t off = 0;
        for (int j = 0; j < nd->n_in; j++) {
            const float *src = c->buf[nd->in[j]];
            size_t w = x->inner_in[j];
            if (x->outer == 1) {
                memcpy(out + off, src, w * sizeof(float));
            } else {
                float *dst = out + off;
                for (size_t o = 0; o < x->outer; o++) {
                    memcpy(dst, src, w * sizeof(float));
                    dst += x->inner_out;
                    src += w;
                }
            }
            off += w;
        }
        return LFR_OK;
    }
    case XM_REF:
    default: {
        void *mine = c->backend_state;
        c->backend_state = NULL;
        lfr_status r = lfr_nn_backend_ref.run_node(c, i);
        c->backend_state = mine;
        return r;
    }
    }
}

/* release ----------------------------------------------------------------- */

static void xnn_release(lfr_nn_ctx *c) {
    xstate *s = c->backend_state;
    if (!s) return;
    for (int i = 0; i < s->n; i++) {
        if (s->nodes[i].op) xnn_delete_operator(s->nodes[i].op);
        lfr_free_aligned(s->nodes[i].gw);
        lfr_free_aligned(s->nodes[i].gb);
    }
    lfr_free(s->nodes);
    lfr_free(s);
    c->backend_state = NULL;
}

const lfr_nn_backend_ops lfr_nn_backend_xnnpack = {
    .name = "xnnpack",
    .init = xnn_init,
    .prepare = xnn_prepare,
    .run_node = xnn_run_node,
    .release = xnn_release,
};
