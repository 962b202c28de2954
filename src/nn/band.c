/*
 * band.c - row-band execution of a network's first, large layers.
 *
 * WHY
 *   A detector at 960x540 starts with a few convolutions on 270x480 and
 *   135x240 maps of 16-32 channels: 4-17 MB per tensor.  Run one node after
 *   the other, each such tensor is written to memory and read back by the
 *   next node, and those layers are limited by memory bandwidth, not
 *   arithmetic (bench_nn --profile: the first 1x1 conv reaches half the
 *   GFLOP/s of the same conv on a map that fits in cache).  Run instead in
 *   bands of rows (a few output rows of the last node of the chain at a
 *   time, each node producing just the rows the next one needs), the
 *   intermediate rows are consumed while still in cache, and each
 *   intermediate tensor needs only a window of rows, not its full size.
 *
 * WHAT IS BANDED
 *   The chain: the longest run of CONV2D nodes from node 0 where each node
 *   reads the previous node's output, that output has no other reader and
 *   is not a graph output, the batch is 1 (NHWC rows of one image are
 *   contiguous), and each node's input is at least BAND_MIN_BYTES.  At
 *   least two nodes.  Only backends with a run_step (oneDNN, reference).
 *
 * SCHEDULE (fixed at plan time, so a run allocates and decides nothing)
 *   For each band, the last node's target row advances by band_rows; going
 *   backwards, node j must have produced the input rows node j+1 needs for
 *   its new rows; going forwards, each node computes its missing rows: one
 *   step (node, output rows [a,b), input rows [lo,hi) with the zero rows
 *   of padding that fall inside [a,b)'s receptive field).  Intermediate
 *   tensors live in a window of win_rows rows; before a step writes past
 *   the window's end, the rows its consumer still needs are moved to the
 *   window's start (a few rows: the kernel's overlap).  The chain's input
 *   and last output are ordinary whole tensors.
 *
 *   Every output row is computed exactly once from the same input rows as
 *   in whole-node execution, so the reference backend gives bit-identical
 *   results banded or not (tests/test_nn_ops.c checks this).
 */
#include "nn.h"
#include "nn_int.h"

#include <string.h>

/* A node joins the chain only if its input is at least this large: below
 * ~2 MB a tensor already stays in a core's L2/L3 between nodes, and bands
 * would add per-call overhead for nothing. */
#define BAND_MIN_BYTES ((size_t)2 << 20)
/* Auto band height: rows of the last node per band such that one band's
 * rows of all chain tensors take about this much.  RFB 960x540 (chain of
 * nodes 0-7, ~840 KB per row of node 7's output), bench_nn --band-rows R,
 * median of 40, ms, AVX-512 EPYC with 1 MB L2 a core: R=0 (off) 8.60,
 * 1 7.74, 2 7.68, 4 7.58, 8 7.78, 16 8.57, 32 9.66; with oneDNN limited
 * to AVX2 (DNNL_MAX_CPU_ISA=AVX2): off 14.39, 1 13.59, 2 13.50, 4 13.41.
 * Small bands pay oneDNN's fixed cost per call more often, big ones
 * leave the cache.  3 MB gives R = 3. */
#define BAND_TARGET_BYTES ((size_t)3 << 20)
/* Longest chain considered (nodes). */
#define BAND_MAX_CHAIN 64

static _Atomic size_t band_min_bytes = BAND_MIN_BYTES;

void lfr_nn_bands_set_min_bytes(size_t bytes) { band_min_bytes = bytes ? bytes : BAND_MIN_BYTES; }

static size_t row_floats(const lfr_nn_shape *s) { return (size_t)s->d[2] * (size_t)s->d[3]; }

void lfr_nn_ctx_set_band_rows(lfr_nn_ctx *c, int rows) {
    if (rows < -1) rows = -1;
    if (c->bands.band_rows != rows) c->planned = 0;
    c->bands.band_rows = rows;
}

void lfr_nn_bands_free(lfr_nn_bands *b) {
    lfr_free(b->steps);
    lfr_free(b->win_rows);
    int rows = b->band_rows;
    memset(b, 0, sizeof *b);
    b->band_rows = rows;
    b->first = b->last = -1;
}

/* Number of readers of each non-constant tensor. */
static int readers(const lfr_nn_graph *g, int t) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++) n += g->nodes[i].in[k] == t;
    return n;
}

static int is_output(const lfr_nn_graph *g, int t) {
    for (int k = 0; k < g->n_outputs; k++)
        if (g->outputs[k] == t) return 1;
    return 0;
}

/* Last node of the chain from node 0, or -1. */
static int find_chain(const lfr_nn_ctx *c) {
    const lfr_nn_graph *g = c->g;
    int last = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const lfr_nn_node *nd = &g->nodes[i];
        const lfr_nn_shape *xs = &c->shapes[nd->in[0]];
        if (nd->op != LFR_NN_OP_CONV2D || xs->ndim != 4 || xs->d[0] != 1) break;
        if (lfr_nn_shape_elems(xs) * sizeof(float) < band_min_bytes) break;
        if (i > 0) {
            int t = nd->in[0];
            if (t != g->nodes[i - 1].out || readers(g, t) != 1 || is_output(g, t)) break;
        }
        last = i;
    }
    return last >= 1 ? last : -1;
}

/* Node i's output rows [a,b) read its input rows [row_lo(a), row_hi(b)),
 * unclipped: rows outside the tensor are the conv's zero padding. */
static int row_lo(const lfr_nn_ctx *c, int i, int a) {
    return a * c->g->nodes[i].p[LFR_NN_P_SH] - c->pads[i][0];
}

static int row_hi(const lfr_nn_ctx *c, int i, int b) {
    const int32_t *p = c->g->nodes[i].p;
    return row_lo(c, i, b - 1) + (p[LFR_NN_P_KH] - 1) * p[LFR_NN_P_DH] + 1;
}

/* Walks the schedule for `rows` rows per band.  Pass 0 (emit == 0): counts
 * steps and finds, per intermediate tensor, the most rows alive at once
 * (into held[]).  Pass 1: fills b->steps with offsets into windows of
 * b->win_rows rows. */
static int walk(lfr_nn_ctx *c, int first, int last, int rows, int emit, int *held) {
    const lfr_nn_graph *g = c->g;
    lfr_nn_bands *bd = &c->bands;
    int done[BAND_MAX_CHAIN], base[BAND_MAX_CHAIN], need[BAND_MAX_CHAIN];
    int m = last - first + 1, n = 0;
    if (m > BAND_MAX_CHAIN) return -1;
    for (int j = 0; j < m; j++) done[j] = base[j] = 0;
    int oh_last = c->shapes[g->nodes[last].out].d[1];
    for (int target = rows; done[m - 1] < oh_last; target += rows) {
        need[m - 1] = target < oh_last ? target : oh_last;
        for (int j = m - 1; j > 0; j--) {
            int hi = row_hi(c, first + j, need[j]), h = c->shapes[g->nodes[first + j].in[0]].d[1];
            need[j - 1] = hi < h ? hi : h;
            if (need[j - 1] < done[j - 1]) need[j - 1] = done[j - 1];
        }
        for (int j = 0; j < m; j++) {
            if (need[j] <= done[j]) continue;
            int i = first + j, a = done[j], b = need[j];
            const lfr_nn_node *nd = &g->nodes[i];
            int lo = row_lo(c, i, a), hi = row_hi(c, i, b), h = c->shapes[nd->in[0]].d[1];
            int in0 = lo > 0 ? lo : 0, in1 = hi < h ? hi : h;
            if (in1 <= in0) return -1; /* rows of padding only: not banded */
            /* Rows of this node's output its reader still needs. */
            int keep = a;
            if (j < m - 1) {
                int klo = row_lo(c, i + 1, done[j + 1]);
                if (klo < 0) klo = 0;
                if (klo < keep) keep = klo;
                if (!emit && b - keep > held[j]) held[j] = b - keep;
            }
            if (emit) {
                lfr_nn_band_step *st = &bd->steps[n];
                memset(st, 0, sizeof *st);
                st->node = i;
                st->out_row0 = a;
                st->out_rows = b - a;
                st->in_row0 = in0;
                st->in_rows = in1 - in0;
                st->pad_top = in0 - lo;
                st->pad_bottom = hi - in1;
                size_t rin = row_floats(&c->shapes[nd->in[0]]);
                size_t rout = row_floats(&c->shapes[nd->out]);
                int win = j < m - 1 ? bd->win_rows[nd->out] : 0;
                if (win && b - base[j] > win) {
                    st->move_src = (size_t)(keep - base[j]) * rout;
                    st->move_floats = (size_t)(a - keep) * rout;
                    base[j] = keep;
                    if (b - base[j] > win) return -1; /* cannot happen: win >= held */
                }
                st->in_off = (size_t)(in0 - (j > 0 ? base[j - 1] : 0)) * rin;
                st->out_off = (size_t)(a - base[j]) * rout;
            }
            n++;
            done[j] = b;
        }
    }
    return n;
}

lfr_status lfr_nn_bands_plan(lfr_nn_ctx *c) {
    lfr_nn_bands *bd = &c->bands;
    lfr_nn_bands_free(bd);
    if (bd->band_rows == 0 || c->keep_all || !c->ops->run_step) return LFR_OK;
    int last = find_chain(c);
    if (last < 0) return LFR_OK;
    if (last >= BAND_MAX_CHAIN) last = BAND_MAX_CHAIN - 1;
    const lfr_nn_graph *g = c->g;
    int rows = bd->band_rows;
    int oh_last = c->shapes[g->nodes[last].out].d[1];
    if (rows < 0) {
        /* Bytes of all chain tensors per row of the last node's output. */
        double per = 0;
        for (int i = 0; i <= last; i++) {
            const lfr_nn_shape *ys = &c->shapes[g->nodes[i].out];
            per += (double)row_floats(ys) * sizeof(float) * ys->d[1] / oh_last;
        }
        const lfr_nn_shape *xs = &c->shapes[g->nodes[0].in[0]];
        per += (double)row_floats(xs) * sizeof(float) * xs->d[1] / oh_last;
        rows = (int)((double)BAND_TARGET_BYTES / per);
        if (rows < 1) rows = 1;
    }
    if (rows >= oh_last) return LFR_OK; /* one band: nothing to gain */
    int held[BAND_MAX_CHAIN] = {0};
    int n = walk(c, 0, last, rows, 0, held);
    if (n < 0) return LFR_OK; /* a shape bands cannot serve: run whole nodes */
    bd->win_rows = lfr_calloc((size_t)g->n_tensors, sizeof *bd->win_rows);
    bd->steps = lfr_calloc((size_t)n, sizeof *bd->steps);
    if (!bd->win_rows || !bd->steps) {
        lfr_nn_bands_free(bd);
        return LFR_ERR_NOMEM;
    }
    for (int j = 0; j < last; j++) {
        int t = g->nodes[j].out, h = c->shapes[t].d[1];
        /* Twice the rows alive at once: the window slides every other band. */
        int win = 2 * held[j];
        bd->win_rows[t] = win < h ? win : 0;
    }
    if (walk(c, 0, last, rows, 1, held) != n) {
        lfr_nn_bands_free(bd);
        return LFR_ERR_INTERNAL;
    }
    bd->first = 0;
    bd->last = last;
    bd->n_steps = n;
    bd->rows = rows;
    return LFR_OK;
}

lfr_status lfr_nn_bands_run(lfr_nn_ctx *c) {
    const lfr_nn_bands *bd = &c->bands;
    for (int k = 0; k < bd->n_steps; k++) {
        const lfr_nn_band_step *st = &bd->steps[k];
        if (st->move_floats) {
            float *y = c->buf[c->g->nodes[st->node].out];
            memmove(y, y + st->move_src, st->move_floats * sizeof(float));
        }
        lfr_status r = c->ops->run_step(c, k);
        if (r != LFR_OK) return r;
    }
    return LFR_OK;
}
