/*
 * ref.c - the reference backend: every op as plain, obviously correct C.
 * It defines what each op means; the fast backend is tested against it.
 * Accumulation is in double where it is cheap to do so, so that the
 * reference is, if anything, more accurate than what it checks.
 */
#include "nn.h"
#include "nn_int.h"

#include <float.h>
#include <math.h>
#include <string.h>

static float act(float v, int a) { return (a == LFR_NN_ACT_RELU && v < 0) ? 0 : v; }

/* Output rows [oy0, oy1) of CONV2D node i into y (row oy0 first), reading
 * input rows from x, whose first row is input row x_row0 (rows outside
 * the tensor are zero padding).  Whole node: oy0 = 0, oy1 = OH, x_row0 = 0.
 * Batch: whole node only (band steps have batch 1). */
static void conv2d_rows(const lfr_nn_ctx *c, int i, const float *x, int x_row0, float *y,
                        int oy0, int oy1) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    const lfr_nn_shape *xs = &c->shapes[nd->in[0]], *ys = &c->shapes[nd->out];
    const lfr_nn_shape *ws = &c->g->tensors[nd->in[1]].shape;
    const float *w = c->buf[nd->in[1]], *b = c->buf[nd->in[2]];
    const int32_t *p = nd->p, *pad = c->pads[i];
    int N = xs->d[0], H = xs->d[1], W = xs->d[2], CI = xs->d[3];
    int OH = oy1 - oy0, OW = ys->d[2], CO = ys->d[3];
    int KH = ws->d[1], KW = ws->d[2], CG = ws->d[3];
    int G = p[LFR_NN_P_GROUPS], COG = CO / G;
    for (int n = 0; n < N; n++)
        for (int oy = oy0; oy < oy1; oy++)
            for (int ox = 0; ox < OW; ox++) {
                float *yo = y + (((size_t)n * OH + (oy - oy0)) * OW + ox) * CO;
                for (int co = 0; co < CO; co++) {
                    int gi = co / COG;
                    double s = b[co];
                    const float *wc = w + (size_t)co * KH * KW * CG;
                    for (int ky = 0; ky < KH; ky++) {
                        int iy = oy * p[LFR_NN_P_SH] - pad[0] + ky * p[LFR_NN_P_DH];
                        if (iy < 0 || iy >= H) continue;
                        for (int kx = 0; kx < KW; kx++) {
                            int ix = ox * p[LFR_NN_P_SW] - pad[1] + kx * p[LFR_NN_P_DW];
                            if (ix < 0 || ix >= W) continue;
                            const float *xi =
                                x + (((size_t)n * H + (iy - x_row0)) * W + ix) * CI + (size_t)gi * CG;
                            const float *wk = wc + ((size_t)ky * KW + kx) * CG;
                            for (int ci = 0; ci < CG; ci++) s += (double)xi[ci] * wk[ci];
                        }
                    }
                    yo[co] = act((float)s, p[LFR_NN_P_ACT]);
                }
            }
}

static void conv2d(const lfr_nn_ctx *c, int i) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    conv2d_rows(c, i, c->buf[nd->in[0]], 0, c->buf[nd->out], 0, c->shapes[nd->out].d[1]);
}

/* Band step k (see nn_int.h): also the oneDNN backend's fallback. */
lfr_status lfr_nn_ref_run_step(lfr_nn_ctx *c, int k) {
    const lfr_nn_band_step *st = &c->bands.steps[k];
    const lfr_nn_node *nd = &c->g->nodes[st->node];
    if (nd->op != LFR_NN_OP_CONV2D || c->shapes[nd->in[0]].d[0] != 1) return LFR_ERR_INTERNAL;
    conv2d_rows(c, st->node, c->buf[nd->in[0]] + st->in_off, st->in_row0,
                c->buf[nd->out] + st->out_off, st->out_row0, st->out_row0 + st->out_rows);
    return LFR_OK;
}

static void maxpool(const lfr_nn_ctx *c, int i) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    const lfr_nn_shape *xs = &c->shapes[nd->in[0]], *ys = &c->shapes[nd->out];
    const float *x = c->buf[nd->in[0]];
    float *y = c->buf[nd->out];
    const int32_t *p = nd->p, *pad = c->pads[i];
    int N = xs->d[0], H = xs->d[1], W = xs->d[2], C = xs->d[3];
    int OH = ys->d[1], OW = ys->d[2];
    for (int n = 0; n < N; n++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int ch = 0; ch < C; ch++) {
                    float m = -FLT_MAX;
                    for (int ky = 0; ky < p[LFR_NN_P_KH]; ky++) {
                        int iy = oy * p[LFR_NN_P_SH] - pad[0] + ky;
                        if (iy < 0 || iy >= H) continue;
                        for (int kx = 0; kx < p[LFR_NN_P_KW]; kx++) {
                            int ix = ox * p[LFR_NN_P_SW] - pad[1] + kx;
                            if (ix < 0 || ix >= W) continue;
                            float v = x[(((size_t)n * H + iy) * W + ix) * C + ch];
                            if (v > m) m = v;
                        }
                    }
                    y[(((size_t)n * OH + oy) * OW + ox) * C + ch] = m;
                }
}

static void fc(const lfr_nn_ctx *c, int i) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    const lfr_nn_shape *ys = &c->shapes[nd->out];
    const lfr_nn_shape *ws = &c->g->tensors[nd->in[1]].shape;
    const float *x = c->buf[nd->in[0]], *w = c->buf[nd->in[1]], *b = c->buf[nd->in[2]];
    float *y = c->buf[nd->out];
    int N = ys->d[0], CO = ws->d[0], K = ws->d[1];
    for (int n = 0; n < N; n++)
        for (int co = 0; co < CO; co++) {
            double s = b[co];
            for (int k = 0; k < K; k++)
                s += (double)x[(size_t)n * K + k] * w[(size_t)co * K + k];
            y[(size_t)n * CO + co] = act((float)s, nd->p[LFR_NN_P_ACT]);
        }
}

static void softmax(const lfr_nn_ctx *c, int i) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    const lfr_nn_shape *xs = &c->shapes[nd->in[0]];
    const float *x = c->buf[nd->in[0]];
    float *y = c->buf[nd->out];
    size_t C = (size_t)xs->d[xs->ndim - 1], rows = lfr_nn_shape_elems(xs) / C;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * C;
        float *yr = y + r * C;
        float m = xr[0];
        for (size_t k = 1; k < C; k++) m = xr[k] > m ? xr[k] : m;
        /* One exp per element (float: within 1e-7 of the double result
         * for the probabilities this produces); sum in double. */
        double s = 0;
        for (size_t k = 0; k < C; k++) {
            yr[k] = expf(xr[k] - m);
            s += yr[k];
        }
        float inv = (float)(1.0 / s);
        for (size_t k = 0; k < C; k++) yr[k] *= inv;
    }
}

static void concat(const lfr_nn_ctx *c, int i) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    const lfr_nn_shape *ys = &c->shapes[nd->out];
    int axis = nd->p[LFR_NN_P_AXIS];
    size_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= (size_t)ys->d[d];
    for (int d = axis + 1; d < ys->ndim; d++) inner *= (size_t)ys->d[d];
    size_t yrow = (size_t)ys->d[axis] * inner, at = 0;
    float *y = c->buf[nd->out];
    for (int k = 0; k < nd->n_in; k++) {
        size_t row = (size_t)c->shapes[nd->in[k]].d[axis] * inner;
        const float *x = c->buf[nd->in[k]];
        for (size_t o = 0; o < outer; o++)
            memcpy(y + o * yrow + at, x + o * row, row * sizeof(float));
        at += row;
    }
}

static lfr_status ref_run_node(lfr_nn_ctx *c, int i) {
    const lfr_nn_node *nd = &c->g->nodes[i];
    size_t n = lfr_nn_shape_elems(&c->shapes[nd->out]);
    const float *x = c->buf[nd->in[0]];
    float *y = c->buf[nd->out];
    switch ((lfr_nn_op)nd->op) {
    case LFR_NN_OP_CONV2D: conv2d(c, i); break;
    case LFR_NN_OP_MAXPOOL: maxpool(c, i); break;
    case LFR_NN_OP_FC: fc(c, i); break;
    case LFR_NN_OP_ADD: {
        const float *b = c->buf[nd->in[1]];
        for (size_t k = 0; k < n; k++) y[k] = act(x[k] + b[k], nd->p[LFR_NN_P_ACT]);
        break;
    }
    case LFR_NN_OP_PRELU: {
        const float *s = c->buf[nd->in[1]];
        size_t C = (size_t)c->shapes[nd->out].d[c->shapes[nd->out].ndim - 1];
        for (size_t k = 0; k < n; k++) y[k] = x[k] > 0 ? x[k] : x[k] * s[k % C];
        break;
    }
    case LFR_NN_OP_RELU:
        for (size_t k = 0; k < n; k++) y[k] = x[k] > 0 ? x[k] : 0;
        break;
    case LFR_NN_OP_CONCAT: concat(c, i); break;
    case LFR_NN_OP_RESHAPE: memmove(y, x, n * sizeof(float)); break;
    case LFR_NN_OP_SOFTMAX: softmax(c, i); break;
    case LFR_NN_OP_COUNT: return LFR_ERR_INTERNAL;
    }
    return LFR_OK;
}

const lfr_nn_backend_ops lfr_nn_backend_ref = {
    .name = "ref",
    .init = NULL,
    .prepare = NULL,
    .run_node = ref_run_node,
    .run_step = lfr_nn_ref_run_step,
    .release = NULL,
};
