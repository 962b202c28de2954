/*
 * dnnl.c - the oneDNN backend: the ops of LFR_NN_OP_LIST on oneDNN's C API
 * (Debian's libdnnl-dev 2.6), f32, single-threaded, on our NHWC buffers in
 * place (no activation reorders).
 *
 * Life cycle (see nn_int.h):
 *   init     one CPU engine and one in-order stream per ctx; the XNNPACK
 *            backend's state too (see HYBRID below).
 *   prepare  after every plan: one primitive per node for the planned
 *            shapes, memory objects wrapping the planned buffers (ours, no
 *            copies), conv/FC weights reordered ONCE into the layout the
 *            primitive asked for (kept across replans while that layout
 *            does not change), one scratchpad for all primitives (user
 *            scratchpad mode: oneDNN allocates none of its own at run time).
 *   run_node dnnl_primitive_execute with the prepared arguments, or a copy
 *            (CONCAT, RESHAPE), or the delegate backend.  Our code allocates
 *            nothing here (oneDNN itself builds a small std::unordered_map
 *            of the arguments per execute, which we cannot avoid through
 *            its API).
 *   release  destroys everything.
 *
 * Fallback: when oneDNN refuses a configuration (primitive descriptor
 * creation fails for a reason other than memory) the node runs on the
 * reference backend; counted by lfr_nn_dnnl_fallback_count() for tests.
 *
 * Threads: Debian builds oneDNN with OpenMP (libdnnl.so.2 needs libgomp).
 * Its parallel() runs the kernel inline, without an OpenMP region, when
 * omp_get_max_threads() is 1, so we set that (a per-thread OpenMP setting,
 * libgomp's nthreads-var of the calling thread) before creating primitives
 * (oneDNN picks its blocking for the thread count at creation) and before
 * each execute: each ctx stays on the thread that runs it, as the product
 * wants (one ctx per camera thread).  Side effect: OpenMP code run later on
 * that same thread also gets one thread.  oneDNN's verbose mode is forced
 * off (DNNL_VERBOSE in the environment would otherwise print per call).
 *
 * HYBRID: some nodes run better on our XNNPACK backend than on oneDNN 2.6's
 * AVX2 kernels; delegate_to_xnn() below picks them by op and shape (the
 * measurements are there).  The XNNPACK backend's state lives in our state
 * and is swapped into ctx->backend_state around its calls.
 * OPENLFR_NN_DNNL_PURE=1 in the environment, or lfr_nn_dnnl_set_pure(),
 * turns delegation off (tests of oneDNN itself, A/B measurements).
 */
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "nn/nn_int.h"

typedef enum dmode {
    DM_NOP = 0,   /* nothing to do (aliased reshape) */
    DM_PRIM,      /* execute the oneDNN primitive */
    DM_REF,       /* reference backend */
    DM_XNN,       /* XNNPACK backend (hybrid) */
    DM_CONCAT,    /* strided copies */
    DM_COPY       /* one memmove (reshape) */
} dmode;

#define DN_MAX_ARGS 6

/* A band step's rows of a CONV2D node (band.c): input rows, output rows,
 * zero rows above and below. */
typedef struct band_geom {
    int ih, oh, pt, pb;
} band_geom;

typedef struct dnode {
    dmode mode;
    int refuse;                 /* oneDNN refused it once: ref from now on */
    int slow;                   /* oneDNN has no JIT kernel for it */
    dnnl_primitive_t prim;
    dnnl_memory_t mem[DN_MAX_ARGS];
    dnnl_exec_arg_t args[DN_MAX_ARGS];
    int nargs;
    int scratch_arg;            /* index in args of the scratchpad, or -1 */
    dnnl_memory_desc_t scratch_md;
    /* Reordered weights (CONV2D, FC): their layout and buffer, kept across
     * replans while the primitive wants the same layout. */
    dnnl_memory_desc_t w_md;
    float *w_buf;
    /* CONCAT: outer count, output inner size, each input's inner size;
     * RESHAPE: bytes. */
    size_t outer, inner_out, inner_in[LFR_MAX_NODE_INPUTS];
    size_t copy_bytes;
    /* Band variant: node, geometry, and where its src/dst args are. */
    int band_node;
    band_geom band;
    int src_arg, dst_arg;
} dnode;

typedef struct dstate {
    dnnl_engine_t eng;
    dnnl_stream_t strm;
    int n;
    dnode *nodes;
    void *scratch;              /* shared scratchpad, 64-byte aligned */
    size_t scratch_bytes;
    void *xnn;                  /* XNNPACK backend state (hybrid), or NULL */
    /* Row bands (band.c): one primitive per distinct band geometry of a
     * node (first, middle and last bands differ), shared by the steps. */
    dnode *vars;                /* [n_vars] band primitives */
    int n_vars;
    int *step_var;              /* [bands.n_steps] index into vars, -1: ref */
} dstate;

/* Process-wide ------------------------------------------------------------ */

static pthread_once_t dnnl_once = PTHREAD_ONCE_INIT;
static _Atomic long dnnl_fallbacks;
static _Atomic int dnnl_pure = -1; /* -1: read OPENLFR_NN_DNNL_PURE */

static void dnnl_init_once(void) { (void)dnnl_set_verbose(0); }

long lfr_nn_dnnl_fallback_count(void) { return dnnl_fallbacks; }

void lfr_nn_dnnl_set_pure(int pure) { dnnl_pure = pure ? 1 : 0; }

static int pure_mode(void) {
    int p = dnnl_pure;
    if (p < 0) {
        const char *e = getenv("OPENLFR_NN_DNNL_PURE");
        p = e && *e && strcmp(e, "0") != 0;
        dnnl_pure = p;
    }
    return p;
}

static void one_thread(void) {
    if (omp_get_max_threads() != 1) omp_set_num_threads(1);
}

static lfr_status map_status(dnnl_status_t s) {
    switch (s) {
    case dnnl_success: return LFR_OK;
    case dnnl_out_of_memory: return LFR_ERR_NOMEM;
    default: return LFR_ERR_BACKEND;
    }
}

/* Helpers ----------------------------------------------------------------- */

static size_t elems(const lfr_nn_shape *s) {
    size_t n = 1;
    for (int k = 0; k < s->ndim; k++) n *= (size_t)(s->d[k] > 0 ? s->d[k] : 0);
    return n;
}

/* Runs `fn` of another backend with its state in ctx->backend_state. */
#define WITH_STATE(c, st, expr)                                                 \
    do {                                                                        \
        void *mine_ = (c)->backend_state;                                       \
        (c)->backend_state = (st);                                              \
        expr;                                                                   \
        (c)->backend_state = mine_;                                             \
    } while (0)

static void node_clear(dnode *d) {
    if (d->prim) dnnl_primitive_destroy(d->prim);
    d->prim = NULL;
    for (int k = 0; k < DN_MAX_ARGS; k++) {
        if (d->mem[k]) dnnl_memory_destroy(d->mem[k]);
        d->mem[k] = NULL;
    }
    d->nargs = 0;
    d->scratch_arg = -1;
    d->mode = DM_REF;
}

/* Adds an argument wrapping `data` (our buffer, not copied). */
static dnnl_status_t add_arg(dstate *s, dnode *d, int arg,
                             const dnnl_memory_desc_t *md, const void *data) {
    if (d->nargs >= DN_MAX_ARGS) return dnnl_runtime_error;
    dnnl_memory_t m = NULL;
    dnnl_status_t st = dnnl_memory_create(&m, md, s->eng, (void *)data);
    if (st != dnnl_success) return st;
    d->mem[d->nargs] = m;
    d->args[d->nargs].arg = arg;
    d->args[d->nargs].memory = m;
    d->nargs++;
    return dnnl_success;
}

/* Plain row-major (our layout) memory desc of the given dims. */
static dnnl_status_t plain_md(dnnl_memory_desc_t *md, int nd, const dnnl_dims_t dims) {
    dnnl_dims_t strides;
    dnnl_dim_t acc = 1;
    for (int k = nd - 1; k >= 0; k--) {
        strides[k] = acc;
        acc *= dims[k];
    }
    return dnnl_memory_desc_init_by_strides(md, nd, dims, dnnl_f32, strides);
}

/* Post-op ReLU attribute (or none), user scratchpad. */
static dnnl_status_t make_attr(dnnl_primitive_attr_t *attr, int relu) {
    dnnl_status_t st = dnnl_primitive_attr_create(attr);
    if (st != dnnl_success) return st;
    st = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    if (st == dnnl_success && relu) {
        dnnl_post_ops_t po = NULL;
        st = dnnl_post_ops_create(&po);
        if (st == dnnl_success)
            st = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
        if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(*attr, po);
        if (po) dnnl_post_ops_destroy(po);
    }
    if (st != dnnl_success) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
    }
    return st;
}

static int needs_xnn(const_dnnl_primitive_desc_t pd);

/* Makes the primitive of `pd` (consumed), records its scratchpad need. */
static dnnl_status_t make_prim(dnode *d, dnnl_primitive_desc_t pd) {
    d->slow = needs_xnn(pd);
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (smd) d->scratch_md = *smd;
    else memset(&d->scratch_md, 0, sizeof d->scratch_md);
    dnnl_status_t st = dnnl_primitive_create(&d->prim, pd);
    if (st != dnnl_success) d->prim = NULL;
    return st;
}

/* Puts the constant weights `src` (layout `src_md`) into the layout `want`
 * of the primitive, once: kept while `want` stays the same. */
static dnnl_status_t reorder_weights(dstate *s, dnode *d, const dnnl_memory_desc_t *src_md,
                                     const float *src, const dnnl_memory_desc_t *want) {
    if (d->w_buf && dnnl_memory_desc_equal(&d->w_md, want)) return dnnl_success;
    lfr_free_aligned(d->w_buf);
    d->w_buf = NULL;
    size_t bytes = dnnl_memory_desc_get_size(want);
    float *buf = lfr_malloc_aligned(bytes ? bytes : 64);
    if (!buf) return dnnl_out_of_memory;
    dnnl_memory_t m_src = NULL, m_dst = NULL;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t r = NULL;
    dnnl_status_t st = dnnl_memory_create(&m_src, src_md, s->eng, (void *)src);
    if (st == dnnl_success) st = dnnl_memory_create(&m_dst, want, s->eng, buf);
    if (st == dnnl_success)
        st = dnnl_reorder_primitive_desc_create(&rpd, src_md, s->eng, want, s->eng, NULL);
    if (st == dnnl_success) st = dnnl_primitive_create(&r, rpd);
    if (st == dnnl_success) {
        dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, m_src}, {DNNL_ARG_TO, m_dst}};
        st = dnnl_primitive_execute(r, s->strm, 2, a);
        if (st == dnnl_success) st = dnnl_stream_wait(s->strm);
    }
    if (r) dnnl_primitive_destroy(r);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (m_src) dnnl_memory_destroy(m_src);
    if (m_dst) dnnl_memory_destroy(m_dst);
    if (st != dnnl_success) {
        lfr_free_aligned(buf);
        return st;
    }
    d->w_buf = buf;
    d->w_md = *want;
    return dnnl_success;
}

/* Hybrid choice --------------------------------------------------------- */

/* Nodes that run faster on our XNNPACK backend (XNNPACK plus its own AVX2
 * GEMM for 1x1 convolutions and FC) than on oneDNN 2.6 (AVX2 kernels).
 * Per node, median of 21-51 runs of lfr_nn_ctx_run_node, taskset -c 0,
 * EPYC (AVX2+FMA, 2 cores shared with other jobs: +-15%), ms:
 *
 *                                            xnnpack   oneDNN
 *   RFB 540x960  3x3 s2 conv 3->16             4.0-4.5  1.8-1.9 (jit:avx2)
 *                depthwise 3x3 @270x480x16     3.06     1.40  (jit_dw)
 *                1x1 conv 16->32 @270x480      3.0-3.6  2.4-2.6 (jit_1x1)
 *                depthwise 3x3 s2 @270x480x32  1.57-1.8 1.51-1.86
 *                other 1x1 convs (13)        0.1-1.4  40% less
 *                3x3 conv dilation 2, 3        1.18     0.55  (jit:avx2)
 *                3x3 conv dilation 5 pad 5     1.16     2.67  (gemm: no JIT)
 *                ADD 8160x64                   0.27     0.25
 *                SOFTMAX 29985x2               1.0-1.3  1.0-1.3
 *                whole net (sum of nodes)      37-43    26.5-27.9
 *   O-Net 48x48  MAXPOOL 3x3 s2 @46x46x32      0.016    0.068
 *                PRELU 46x46x32                0.014    0.033
 *                FC 64->4 .. 256->10           0.001    0.002
 *                whole net                     0.83     0.58
 *   MFN 112x112  PRELU (26 nodes)              ~0.02    +20-50%
 *                ADD (12 nodes)                ~0.01    +20-40%
 *                whole net                     11.2     7.15
 *
 * So: oneDNN for convolutions where it has a JIT kernel, for large FC and
 * SOFTMAX; XNNPACK for convolutions oneDNN has no JIT kernel for (it would
 * use its im2col "gemm" or a "ref" kernel; see needs_xnn()), for MAXPOOL,
 * PRELU, ADD, RELU (oneDNN's per-call overhead, 1-3 us, dominates these
 * small ops) and for small FC. */
static int delegate_to_xnn(const lfr_nn_ctx *c, int i) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    switch ((lfr_nn_op)nd->op) {
    case LFR_NN_OP_FC:
        return elems(&c->g->tensors[nd->in[1]].shape) < 65536;
    case LFR_NN_OP_MAXPOOL:
    case LFR_NN_OP_PRELU:
    case LFR_NN_OP_ADD:
    case LFR_NN_OP_RELU:
        return 1;
    default:
        return 0;
    }
}

/* oneDNN chose a non-JIT implementation (its "gemm" im2col convolution or
 * a "ref" kernel): slower than XNNPACK's, measured above. */
static int needs_xnn(const_dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success ||
        !impl)
        return 0;
    return strncmp(impl, "gemm", 4) == 0 || strncmp(impl, "ref", 3) == 0 ||
           strstr(impl, ":gemm") != NULL;
}

/* prepare --------------------------------------------------------------- */

/* CONV2D or MAXPOOL node i as one primitive in d: the whole node, or with
 * `bg` a band of its rows (batch 1; its src/dst pointers are set per step,
 * its weights are node `wn`'s when the layout matches). */
static dnnl_status_t prep_conv_rows(lfr_nn_ctx *c, int i, dstate *s, dnode *d,
                                    const band_geom *bg, dnode *wn) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    const lfr_nn_shape *xs = &c->shapes[nd->in[0]], *ys = &c->shapes[nd->out];
    const lfr_nn_shape *ws = &c->g->tensors[nd->in[1]].shape;
    const int32_t *p = nd->p, *pad = c->pads[i];
    int conv = nd->op == LFR_NN_OP_CONV2D;
    dnnl_dim_t N = xs->d[0], H = xs->d[1], W = xs->d[2], C = xs->d[3];
    dnnl_dim_t OH = ys->d[1], OW = ys->d[2], OC = ys->d[3];
    dnnl_dims_t pl = {pad[0], pad[1]}, pr = {pad[2], pad[3]};
    if (bg) {
        N = 1;
        H = bg->ih;
        OH = bg->oh;
        pl[0] = bg->pt;
        pr[0] = bg->pb;
    }
    dnnl_memory_desc_t src_md, dst_md;
    dnnl_dims_t sdims = {N, C, H, W}, ddims = {N, OC, OH, OW};
    dnnl_dims_t strides = {p[LFR_NN_P_SH], p[LFR_NN_P_SW]};
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(&src_md, 4, sdims, dnnl_f32, dnnl_nhwc);
    if (st == dnnl_success)
        st = dnnl_memory_desc_init_by_tag(&dst_md, 4, ddims, dnnl_f32, dnnl_nhwc);
    if (st != dnnl_success) return st;
    dnnl_primitive_attr_t attr = NULL;
    st = make_attr(&attr, conv && p[LFR_NN_P_ACT] == LFR_NN_ACT_RELU);
    if (st != dnnl_success) return st;
    dnnl_primitive_desc_t pd = NULL;
    if (!conv) {
        dnnl_pooling_v2_desc_t pdesc;
        dnnl_dims_t kernel = {p[LFR_NN_P_KH], p[LFR_NN_P_KW]}, dil = {0, 0};
        st = dnnl_pooling_v2_forward_desc_init(&pdesc, dnnl_forward_inference,
                                               dnnl_pooling_max, &src_md, &dst_md,
                                               strides, kernel, dil, pl, pr);
        if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &pdesc, attr, s->eng, NULL);
        dnnl_primitive_attr_destroy(attr);
        if (st != dnnl_success) return st;
        st = make_prim(d, pd);
        dnnl_primitive_desc_destroy(pd);
        if (st == dnnl_success) st = add_arg(s, d, DNNL_ARG_SRC, &src_md, c->buf[nd->in[0]]);
        if (st == dnnl_success) st = add_arg(s, d, DNNL_ARG_DST, &dst_md, c->buf[nd->out]);
        return st;
    }
    /* Our weights [Co,KH,KW,Ci/G] as oneDNN's [(G,) O, I, KH, KW]. */
    dnnl_dim_t G = p[LFR_NN_P_GROUPS] > 0 ? p[LFR_NN_P_GROUPS] : 1;
    dnnl_dim_t KH = ws->d[1], KW = ws->d[2], CIG = ws->d[3], COG = OC / G;
    dnnl_memory_desc_t w_user, w_any, b_md;
    if (G == 1) {
        dnnl_dims_t wd = {OC, CIG, KH, KW}, wst = {KH * KW * CIG, 1, KW * CIG, CIG};
        st = dnnl_memory_desc_init_by_strides(&w_user, 4, wd, dnnl_f32, wst);
        if (st == dnnl_success)
            st = dnnl_memory_desc_init_by_tag(&w_any, 4, wd, dnnl_f32, dnnl_format_tag_any);
    } else {
        dnnl_dims_t wd = {G, COG, CIG, KH, KW};
        dnnl_dims_t wst = {COG * KH * KW * CIG, KH * KW * CIG, 1, KW * CIG, CIG};
        st = dnnl_memory_desc_init_by_strides(&w_user, 5, wd, dnnl_f32, wst);
        if (st == dnnl_success)
            st = dnnl_memory_desc_init_by_tag(&w_any, 5, wd, dnnl_f32, dnnl_format_tag_any);
    }
    dnnl_dims_t bd = {OC};
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_tag(&b_md, 1, bd, dnnl_f32, dnnl_a);
    dnnl_convolution_desc_t cdesc;
    /* oneDNN counts dilation from 0 (0 = dense). */
    dnnl_dims_t dil = {p[LFR_NN_P_DH] - 1, p[LFR_NN_P_DW] - 1};
    if (st == dnnl_success)
        st = dnnl_dilated_convolution_forward_desc_init(
            &cdesc, dnnl_forward_inference, dnnl_convolution_direct, &src_md, &w_any,
            &b_md, &dst_md, strides, dil, pl, pr);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &cdesc, attr, s->eng, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) return st;
    const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnode *wd = d;
    if (!want) st = dnnl_runtime_error;
    else if (wn && wn->w_buf && dnnl_memory_desc_equal(&wn->w_md, want)) wd = wn;
    else st = reorder_weights(s, d, &w_user, c->buf[nd->in[1]], want);
    if (st == dnnl_success) st = make_prim(d, pd);
    dnnl_primitive_desc_destroy(pd);
    d->src_arg = d->nargs;
    if (st == dnnl_success) st = add_arg(s, d, DNNL_ARG_SRC, &src_md, c->buf[nd->in[0]]);
    if (st == dnnl_success) st = add_arg(s, d, DNNL_ARG_WEIGHTS, &wd->w_md, wd->w_buf);
    if (st == dnnl_success) st = add_arg(s, d, DNNL_ARG_BIAS, &b_md, c->buf[nd->in[2]]);
    d->dst_arg = d->nargs;
    if (st == dnnl_success) st = add_arg(s, d, DNNL_ARG_DST, &dst_md, c->buf[nd->out]);
    return st;
}

static dnnl_status_t prep_conv(lfr_nn_ctx *c, int i, dstate *s, dnode *d) {
    return prep_conv_rows(c, i, s, d, NULL, NULL);
}

static dnnl_status_t prep_fc(lfr_nn_ctx *c, int i, dstate *s, dnode *d) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    const lfr_nn_shape *ws = &c->g->tensors[nd->in[1]].shape;
    dnnl_dim_t N = c->shapes[nd->out].d[0], CO = ws->d[0], K = ws->d[1];
    dnnl_memory_desc_t src_md, w_user, w_any, b_md, dst_md;
    dnnl_dims_t sd = {N, K}, wd = {CO, K}, bd = {CO}, dd = {N, CO};
    dnnl_status_t st = plain_md(&src_md, 2, sd);
    if (st == dnnl_success) st = plain_md(&w_user, 2, wd);
    if (st == dnnl_success)
        st = dnnl_memory_desc_init_by_tag(&w_any, 2, wd, dnnl_f32, dnnl_format_tag_any);
    if (st == dnnl_success) st = plain_md(&b_md, 1, bd);
    if (st == dnnl_success) st = plain_md(&dst_md, 2, dd);
    if (st != dnnl_success) return st;
    dnnl_inner_product_desc_t idesc;
    st = dnnl_inner_product_forward_desc_init(&idesc, dnnl_forward_inference, &src_md,
                                              &w_any, &b_md, &dst_md);
    if (st != dnnl_success) return st;
    dnnl_primitive_attr_t attr = NULL;
    st = make_attr(&attr, nd->p[LFR_NN_P_ACT] == LFR_NN_ACT_RELU);
    if (st != dnnl_success) return st;
    dnnl_primitive_desc_t pd = NULL;
    st = dnnl_primitive_desc_create(&pd, &idesc, attr, s->eng, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) return st;
    const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    st = want ? reorder_weights(s, d, &w_user, c->buf[nd->in[1]], want) : dnnl_runtime_error;
    if (st == dnnl_success) st = make_prim(d, pd);
    dnnl_primitive_desc_destroy(pd);
    if (st == dnnl_success) st = add_arg(s, d, DNNL_ARG_SRC, &src_md, c->buf[nd->in[0]]);
    if (st == dnnl_success) st = add_arg(s, d, DNNL_ARG_WEIGHTS, &d->w_md, d->w_buf);
    if (st == dnnl_success) st = add_arg(s, d, DNNL_ARG_BIAS, &b_md, c->buf[nd->in[2]]);
    if (st == dnnl_success) st = add_arg(s, d, DNNL_ARG_DST, &dst_md, c->buf[nd->out]);
    return st;
}

/* ADD, PRELU, RELU, SOFTMAX: on the data as [rows, C] (C = last dim). */
static dnnl_status_t prep_elementwise(lfr_nn_ctx *c, int i, dstate *s, dnode *d) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    const lfr_nn_shape *ys = &c->shapes[nd->out];
    dnnl_dim_t n = (dnnl_dim_t)elems(ys), C = ys->d[ys->ndim - 1];
    dnnl_dims_t dims = {n / C, C};
    dnnl_memory_desc_t md;
    dnnl_status_t st = plain_md(&md, 2, dims);
    if (st != dnnl_success) return st;
    dnnl_primitive_attr_t attr = NULL;
    st = make_attr(&attr, nd->op == LFR_NN_OP_ADD && nd->p[LFR_NN_P_ACT] == LFR_NN_ACT_RELU);
    if (st != dnnl_success) return st;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_memory_desc_t w_md;
    switch ((lfr_nn_op)nd->op) {
    case LFR_NN_OP_ADD: {
        dnnl_binary_desc_t bdesc;
        st = dnnl_binary_desc_init(&bdesc, dnnl_binary_add, &md, &md, &md);
        if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &bdesc, attr, s->eng, NULL);
        break;
    }
    case LFR_NN_OP_PRELU: {
        dnnl_dims_t wd = {1, C};
        dnnl_prelu_desc_t pdesc;
        st = plain_md(&w_md, 2, wd);
        if (st == dnnl_success)
            st = dnnl_prelu_forward_desc_init(&pdesc, dnnl_forward_inference, &md, &w_md);
        if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &pdesc, attr, s->eng, NULL);
        break;
    }
    case LFR_NN_OP_RELU: {
        dnnl_eltwise_desc_t edesc;
        st = dnnl_eltwise_forward_desc_init(&edesc, dnnl_forward_inference,
                                            dnnl_eltwise_relu, &md, 0.0f, 0.0f);
        if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &edesc, attr, s->eng, NULL);
        break;
    }
    case LFR_NN_OP_SOFTMAX: {
        dnnl_softmax_v2_desc_t sdesc;
        st = dnnl_softmax_v2_forward_desc_init(&sdesc, dnnl_forward_inference,
                                               dnnl_softmax_accurate, &md, &md, 1);
        if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &sdesc, attr, s->eng, NULL);
        break;
    }
    default:
        st = dnnl_runtime_error;
    }
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) return st;
    st = make_prim(d, pd);
    dnnl_primitive_desc_destroy(pd);
    if (nd->op == LFR_NN_OP_ADD) {
        if (st == dnnl_success) st = add_arg(s, d, DNNL_ARG_SRC_0, &md, c->buf[nd->in[0]]);
        if (st == dnnl_success) st = add_arg(s, d, DNNL_ARG_SRC_1, &md, c->buf[nd->in[1]]);
    } else {
        if (st == dnnl_success) st = add_arg(s, d, DNNL_ARG_SRC, &md, c->buf[nd->in[0]]);
        if (st == dnnl_success && nd->op == LFR_NN_OP_PRELU)
            st = add_arg(s, d, DNNL_ARG_WEIGHTS, &w_md, c->buf[nd->in[1]]);
    }
    if (st == dnnl_success) st = add_arg(s, d, DNNL_ARG_DST, &md, c->buf[nd->out]);
    return st;
}

static lfr_status prep_copy(lfr_nn_ctx *c, int i, dnode *d) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    const lfr_nn_shape *so = &c->shapes[nd->out];
    size_t n_out = elems(so);
    if (nd->op == LFR_NN_OP_RESHAPE) {
        if (elems(&c->shapes[nd->in[0]]) != n_out) return LFR_ERR_INTERNAL;
        d->copy_bytes = n_out * sizeof(float);
        d->mode = c->buf[nd->out] == c->buf[nd->in[0]] ? DM_NOP : DM_COPY;
        return LFR_OK;
    }
    int axis = nd->p[LFR_NN_P_AXIS];
    if (axis < 0 || axis >= so->ndim || nd->n_in > LFR_MAX_NODE_INPUTS)
        return LFR_ERR_INTERNAL;
    size_t outer = 1, inner = 1, sum = 0;
    for (int k = 0; k < axis; k++) outer *= (size_t)so->d[k];
    for (int k = axis + 1; k < so->ndim; k++) inner *= (size_t)so->d[k];
    for (int j = 0; j < nd->n_in; j++) {
        d->inner_in[j] = inner * (size_t)c->shapes[nd->in[j]].d[axis];
        sum += d->inner_in[j];
    }
    d->outer = outer;
    d->inner_out = inner * (size_t)so->d[axis];
    if (sum != d->inner_out || outer * d->inner_out != n_out) return LFR_ERR_INTERNAL;
    d->mode = DM_CONCAT;
    return LFR_OK;
}

static lfr_status prepare_node(lfr_nn_ctx *c, int i, dstate *s, dnode *d) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    node_clear(d);
    if (nd->op == LFR_NN_OP_CONCAT || nd->op == LFR_NN_OP_RESHAPE)
        return prep_copy(c, i, d);
    if (s->xnn && delegate_to_xnn(c, i)) {
        d->mode = DM_XNN;
        return LFR_OK;
    }
    /* A softmax over a handful of classes (the detector's 2, on ~30,000
     * anchors at 960x540): both libraries spend ~35 ns a row on it (1.0-1.3
     * ms), the plain loop of ref.c ~0.3 ms.  Not a fallback: chosen. */
    if (nd->op == LFR_NN_OP_SOFTMAX &&
        c->shapes[nd->out].d[c->shapes[nd->out].ndim - 1] <= 4) {
        d->mode = DM_REF;
        return LFR_OK;
    }
    if (d->refuse) return LFR_OK;
    dnnl_status_t st;
    switch ((lfr_nn_op)nd->op) {
    case LFR_NN_OP_CONV2D:
    case LFR_NN_OP_MAXPOOL: st = prep_conv(c, i, s, d); break;
    case LFR_NN_OP_FC: st = prep_fc(c, i, s, d); break;
    case LFR_NN_OP_ADD:
    case LFR_NN_OP_PRELU:
    case LFR_NN_OP_RELU:
    case LFR_NN_OP_SOFTMAX: st = prep_elementwise(c, i, s, d); break;
    default: return LFR_ERR_INTERNAL;
    }
    if (st == dnnl_success && d->slow && s->xnn) {
        node_clear(d);
        d->mode = DM_XNN;
        return LFR_OK;
    }
    if (st == dnnl_success) {
        d->mode = DM_PRIM;
        return LFR_OK;
    }
    node_clear(d);
    if (st == dnnl_out_of_memory) return LFR_ERR_NOMEM;
    /* Refused (unimplemented, invalid arguments, ...): reference. */
    d->refuse = 1;
    dnnl_fallbacks++;
    lfr_log(LFR_LOG_DEBUG, "nn/dnnl: node %d (%s) runs on the reference backend (dnnl status %d)",
            i, lfr_nn_op_name((lfr_nn_op)nd->op), (int)st);
    return LFR_OK;
}

/* The shared scratchpad: one buffer, the largest any primitive asked for. */
static lfr_status scratch_arg(dstate *s, dnode *d) {
    if (d->mode != DM_PRIM || dnnl_memory_desc_get_size(&d->scratch_md) == 0) return LFR_OK;
    d->scratch_arg = d->nargs;
    return map_status(add_arg(s, d, DNNL_ARG_SCRATCHPAD, &d->scratch_md, s->scratch));
}

static lfr_status prepare_scratch(dstate *s) {
    size_t need = 0;
    for (int i = 0; i < s->n + s->n_vars; i++) {
        const dnode *d = i < s->n ? &s->nodes[i] : &s->vars[i - s->n];
        if (d->mode == DM_PRIM) {
            size_t b = dnnl_memory_desc_get_size(&d->scratch_md);
            if (b > need) need = b;
        }
    }
    lfr_log(LFR_LOG_DEBUG, "nn/dnnl: shared scratchpad %zu bytes", need);
    if (need > s->scratch_bytes) {
        lfr_free_aligned(s->scratch);
        s->scratch = lfr_malloc_aligned(need);
        s->scratch_bytes = s->scratch ? need : 0;
        if (!s->scratch) return LFR_ERR_NOMEM;
    }
    lfr_status r = LFR_OK;
    for (int i = 0; i < s->n && r == LFR_OK; i++) r = scratch_arg(s, &s->nodes[i]);
    for (int i = 0; i < s->n_vars && r == LFR_OK; i++) r = scratch_arg(s, &s->vars[i]);
    return r;
}

/* Row bands ----------------------------------------------------------- */

static void free_bands(dstate *s) {
    for (int v = 0; v < s->n_vars; v++) {
        node_clear(&s->vars[v]);
        lfr_free_aligned(s->vars[v].w_buf);
    }
    lfr_free(s->vars);
    lfr_free(s->step_var);
    s->vars = NULL;
    s->step_var = NULL;
    s->n_vars = 0;
}

/* One primitive per distinct (node, band geometry) among the plan's band
 * steps.  A geometry oneDNN refuses runs on the reference backend. */
static lfr_status prepare_bands(lfr_nn_ctx *c, dstate *s) {
    free_bands(s);
    const lfr_nn_bands *bd = &c->bands;
    if (bd->n_steps == 0) return LFR_OK;
    s->vars = lfr_calloc((size_t)bd->n_steps, sizeof *s->vars);
    s->step_var = lfr_calloc((size_t)bd->n_steps, sizeof *s->step_var);
    if (!s->vars || !s->step_var) return LFR_ERR_NOMEM;
    for (int k = 0; k < bd->n_steps; k++) {
        const lfr_nn_band_step *st = &bd->steps[k];
        band_geom bg = {st->in_rows, st->out_rows, st->pad_top, st->pad_bottom};
        int v = 0;
        while (v < s->n_vars && !(s->vars[v].band_node == st->node &&
                                  memcmp(&s->vars[v].band, &bg, sizeof bg) == 0))
            v++;
        if (v == s->n_vars) {
            dnode *d = &s->vars[s->n_vars++];
            d->scratch_arg = -1;
            d->band_node = st->node;
            d->band = bg;
            dnode *main = &s->nodes[st->node];
            dnnl_status_t ds = main->refuse ? dnnl_unimplemented
                                            : prep_conv_rows(c, st->node, s, d, &bg, main);
            if (ds == dnnl_success) {
                d->mode = DM_PRIM;
            } else {
                node_clear(d);
                if (ds == dnnl_out_of_memory) return LFR_ERR_NOMEM;
                lfr_log(LFR_LOG_DEBUG, "nn/dnnl: node %d band %dx%d rows on the reference backend",
                        st->node, bg.ih, bg.oh);
            }
        }
        s->step_var[k] = s->vars[v].mode == DM_PRIM ? v : -1;
    }
    return LFR_OK;
}

static lfr_status dn_prepare(lfr_nn_ctx *c) {
    dstate *s = c->backend_state;
    if (!s) return LFR_ERR_STATE;
    one_thread();
    lfr_status r = LFR_OK;
    int need_xnn = 0, need_ref = 0;
    for (int i = 0; i < s->n && r == LFR_OK; i++) {
        r = prepare_node(c, i, s, &s->nodes[i]);
        need_xnn |= s->nodes[i].mode == DM_XNN;
        need_ref |= s->nodes[i].mode == DM_REF;
    }
    if (r == LFR_OK) r = prepare_bands(c, s);
    if (r == LFR_OK) r = prepare_scratch(s);
    if (r == LFR_OK && need_xnn) WITH_STATE(c, s->xnn, r = lfr_nn_backend_xnnpack.prepare(c));
    if (r == LFR_OK && need_ref && lfr_nn_backend_ref.prepare)
        WITH_STATE(c, NULL, r = lfr_nn_backend_ref.prepare(c));
    if (r != LFR_OK && r != LFR_ERR_NOMEM)
        lfr_log(LFR_LOG_ERROR, "nn/dnnl: prepare: %s", lfr_status_str(r));
    return r;
}

/* init / release ------------------------------------------------------- */

static void dn_release(lfr_nn_ctx *c) {
    dstate *s = c->backend_state;
    if (!s) return;
    if (s->nodes)
        for (int i = 0; i < s->n; i++) {
            node_clear(&s->nodes[i]);
            lfr_free_aligned(s->nodes[i].w_buf);
        }
    free_bands(s);
    if (s->xnn) WITH_STATE(c, s->xnn, lfr_nn_backend_xnnpack.release(c));
    if (s->strm) dnnl_stream_destroy(s->strm);
    if (s->eng) dnnl_engine_destroy(s->eng);
    lfr_free_aligned(s->scratch);
    lfr_free(s->nodes);
    lfr_free(s);
    c->backend_state = NULL;
}

static lfr_status dn_init(lfr_nn_ctx *c) {
    pthread_once(&dnnl_once, dnnl_init_once);
    one_thread();
    dstate *s = lfr_calloc(1, sizeof *s);
    if (!s) return LFR_ERR_NOMEM;
    c->backend_state = s;
    s->n = c->g->n_nodes;
    s->nodes = lfr_calloc(s->n > 0 ? (size_t)s->n : 1, sizeof *s->nodes);
    lfr_status r = s->nodes ? LFR_OK : LFR_ERR_NOMEM;
    for (int i = 0; r == LFR_OK && i < s->n; i++) s->nodes[i].scratch_arg = -1;
    if (r == LFR_OK) r = map_status(dnnl_engine_create(&s->eng, dnnl_cpu, 0));
    if (r == LFR_OK)
        r = map_status(dnnl_stream_create(&s->strm, s->eng, dnnl_stream_default_flags));
    if (r == LFR_OK && !pure_mode()) {
        void *x = NULL;
        WITH_STATE(c, NULL, r = lfr_nn_backend_xnnpack.init(c); x = c->backend_state);
        if (r == LFR_OK) {
            s->xnn = x;
        } else if (r != LFR_ERR_NOMEM) {
            lfr_log(LFR_LOG_WARN, "nn/dnnl: XNNPACK unavailable (%s): oneDNN only",
                    lfr_status_str(r));
            r = LFR_OK;
        }
    }
    if (r != LFR_OK) {
        if (r == LFR_ERR_BACKEND) lfr_log(LFR_LOG_ERROR, "nn/dnnl: cannot create the CPU engine");
        dn_release(c);
    }
    return r;
}

/* run ----------------------------------------------------------------- */

static lfr_status dn_run_node(lfr_nn_ctx *c, int i) {
    dstate *s = c->backend_state;
    if (!s || i < 0 || i >= s->n) return LFR_ERR_INVALID_ARG;
    dnode *d = &s->nodes[i];
    const lfr_nn_node *nd = &c->g->nodes[i];
    lfr_status r = LFR_OK;
    switch (d->mode) {
    case DM_NOP:
        return LFR_OK;
    case DM_PRIM: {
        one_thread();
        dnnl_status_t st = dnnl_primitive_execute(d->prim, s->strm, d->nargs, d->args);
        if (st == dnnl_success) st = dnnl_stream_wait(s->strm);
        return st == dnnl_success ? LFR_OK : LFR_ERR_BACKEND;
    }
    case DM_XNN:
        WITH_STATE(c, s->xnn, r = lfr_nn_backend_xnnpack.run_node(c, i));
        return r;
    case DM_COPY:
        memmove(c->buf[nd->out], c->buf[nd->in[0]], d->copy_bytes);
        return LFR_OK;
    case DM_CONCAT: {
        float *out = c->buf[nd->out];
        size_t off = 0;
        for (int j = 0; j < nd->n_in; j++) {
            const float *src = c->buf[nd->in[j]];
            size_t w = d->inner_in[j];
            float *dst = out + off;
            for (size_t o = 0; o < d->outer; o++) {
                memcpy(dst, src, w * sizeof(float));
                dst += d->inner_out;
                src += w;
            }
            off += w;
        }
        return LFR_OK;
    }
    case DM_REF:
    default:
        WITH_STATE(c, NULL, r = lfr_nn_backend_ref.run_node(c, i));
        return r;
    }
}

static lfr_status dn_run_step(lfr_nn_ctx *c, int k) {
    dstate *s = c->backend_state;
    if (!s || k < 0 || k >= c->bands.n_steps || !s->step_var) return LFR_ERR_INVALID_ARG;
    lfr_status r = LFR_OK;
    if (s->step_var[k] < 0) {
        WITH_STATE(c, NULL, r = lfr_nn_ref_run_step(c, k));
        return r;
    }
    const lfr_nn_band_step *st = &c->bands.steps[k];
    const lfr_nn_node *nd = &c->g->nodes[st->node];
    dnode *d = &s->vars[s->step_var[k]];
    one_thread();
    dnnl_status_t ds = dnnl_memory_set_data_handle_v2(d->mem[d->src_arg],
                                                      c->buf[nd->in[0]] + st->in_off, s->strm);
    if (ds == dnnl_success)
        ds = dnnl_memory_set_data_handle_v2(d->mem[d->dst_arg], c->buf[nd->out] + st->out_off,
                                            s->strm);
    if (ds == dnnl_success) ds = dnnl_primitive_execute(d->prim, s->strm, d->nargs, d->args);
    if (ds == dnnl_success) ds = dnnl_stream_wait(s->strm);
    return ds == dnnl_success ? LFR_OK : LFR_ERR_BACKEND;
}

const lfr_nn_backend_ops lfr_nn_backend_dnnl = {
    .name = "dnnl",
    .init = dn_init,
    .prepare = dn_prepare,
    .run_node = dn_run_node,
    .run_step = dn_run_step,
    .release = dn_release,
};
