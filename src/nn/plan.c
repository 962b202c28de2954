/*
 * plan.c - execution contexts: shape inference for one input size, buffer
 * planning, and the run loop.
 *
 * DESIGN
 *   Planning happens once per input size.  Shapes flow forward through the
 *   nodes; each activation gets an interval [first node that writes it, last
 *   node that reads it] and is placed in one arena at the lowest offset that
 *   does not overlap any already placed tensor whose interval intersects its
 *   own (greedy first fit, largest-lifetime conflicts resolved by order of
 *   definition).  A node's output never shares memory with its inputs,
 *   because their intervals intersect at that node.  After planning, running
 *   the network allocates nothing.
 */
#include "nn.h"
#include "nn_int.h"

#include <string.h>

static const lfr_nn_backend_ops *backend_ops(lfr_nn_backend b) {
    switch (b) {
    case LFR_NN_BACKEND_REF: return &lfr_nn_backend_ref;
    case LFR_NN_BACKEND_XNNPACK: return &lfr_nn_backend_xnnpack;
    case LFR_NN_BACKEND_DNNL: return &lfr_nn_backend_dnnl;
    }
    return NULL;
}

lfr_status lfr_nn_ctx_new(const lfr_nn_model *m, lfr_nn_backend backend,
                          lfr_nn_ctx **out) {
    *out = NULL;
    const lfr_nn_backend_ops *ops = backend_ops(backend);
    if (!ops) return LFR_ERR_INVALID_ARG;
    lfr_nn_ctx *c = lfr_calloc(1, sizeof *c);
    if (!c) return LFR_ERR_NOMEM;
    c->model = m;
    c->g = &m->graph;
    c->bands.band_rows = -1;
    c->bands.first = c->bands.last = -1;
    c->ops = ops;
    size_t nt = (size_t)c->g->n_tensors, nn = (size_t)c->g->n_nodes;
    c->shapes = lfr_calloc(nt, sizeof *c->shapes);
    c->buf = lfr_calloc(nt, sizeof *c->buf);
    c->pads = lfr_calloc(nn, sizeof *c->pads);
    if (!c->shapes || !c->buf || !c->pads) {
        lfr_nn_ctx_destroy(c);
        return LFR_ERR_NOMEM;
    }
    lfr_status st = ops->init ? ops->init(c) : LFR_OK;
    if (st != LFR_OK) {
        lfr_nn_ctx_destroy(c);
        return st;
    }
    *out = c;
    return LFR_OK;
}

void lfr_nn_ctx_destroy(lfr_nn_ctx *c) {
    if (!c) return;
    if (c->ops && c->ops->release) c->ops->release(c);
    lfr_nn_bands_free(&c->bands);
    lfr_free(c->shapes);
    lfr_free(c->buf);
    lfr_free(c->pads);
    lfr_free_aligned(c->arena);
    lfr_free(c);
}

void lfr_nn_ctx_keep_all(lfr_nn_ctx *c, int keep) {
    if (c->keep_all != keep) c->planned = 0;
    c->keep_all = keep;
}

/* Shape inference ------------------------------------------------------- */

static int conv_out(int in, int k, int s, int d, int pb, int pa) {
    int eff = (k - 1) * d + 1;
    int span = in + pb + pa - eff;
    if (span < 0) return 0;
    return span / s + 1;
}

static lfr_status infer_node(lfr_nn_ctx *c, int i, lfr_err *err) {
    const lfr_nn_graph *g = c->g;
    const lfr_nn_node *nd = &g->nodes[i];
    const lfr_nn_shape *x = &c->shapes[nd->in[0]];
    lfr_nn_shape *y = &c->shapes[nd->out];
    const char *on = lfr_nn_op_name((lfr_nn_op)nd->op);
    int32_t *pad = c->pads[i];
#define BAD(...) lfr_err_set(err, LFR_ERR_INVALID_ARG, __VA_ARGS__)
    memset(y, 0, sizeof *y);
    switch ((lfr_nn_op)nd->op) {
    case LFR_NN_OP_CONV2D:
    case LFR_NN_OP_MAXPOOL: {
        const int32_t *p = nd->p;
        int conv = nd->op == LFR_NN_OP_CONV2D;
        if (x->ndim != 4) return BAD("node %d (%s): input must be rank 4", i, on);
        int dh = conv ? p[LFR_NN_P_DH] : 1, dw = conv ? p[LFR_NN_P_DW] : 1;
        int co = x->d[3];
        if (conv) {
            const lfr_nn_shape *w = &g->tensors[nd->in[1]].shape;
            if ((int64_t)w->d[3] * p[LFR_NN_P_GROUPS] != x->d[3] ||
                (p[LFR_NN_P_GROUPS] > 1 && w->d[0] % p[LFR_NN_P_GROUPS]))
                return BAD("node %d (%s): %d input channels, weights expect %d",
                           i, on, x->d[3], w->d[3] * p[LFR_NN_P_GROUPS]);
            co = w->d[0];
        }
        if (p[LFR_NN_P_SAME]) {
            lfr_nn_same_pad(x->d[1], p[LFR_NN_P_KH], p[LFR_NN_P_SH], dh, &pad[0], &pad[2]);
            lfr_nn_same_pad(x->d[2], p[LFR_NN_P_KW], p[LFR_NN_P_SW], dw, &pad[1], &pad[3]);
        } else {
            pad[0] = p[LFR_NN_P_PT];
            pad[1] = p[LFR_NN_P_PL];
            pad[2] = p[LFR_NN_P_PB];
            pad[3] = p[LFR_NN_P_PR];
        }
        int oh = conv_out(x->d[1], p[LFR_NN_P_KH], p[LFR_NN_P_SH], dh, pad[0], pad[2]);
        int ow = conv_out(x->d[2], p[LFR_NN_P_KW], p[LFR_NN_P_SW], dw, pad[1], pad[3]);
        if (oh < 1 || ow < 1)
            return BAD("node %d (%s): input %dx%d is smaller than the kernel", i,
                       on, x->d[2], x->d[1]);
        *y = (lfr_nn_shape){4, {x->d[0], oh, ow, co}};
        break;
    }
    case LFR_NN_OP_FC: {
        const lfr_nn_shape *w = &g->tensors[nd->in[1]].shape;
        size_t k = lfr_nn_shape_elems(x) / (size_t)x->d[0];
        if ((size_t)w->d[1] != k)
            return BAD("node %d (%s): %zu inputs per item, weights expect %d", i,
                       on, k, w->d[1]);
        *y = (lfr_nn_shape){2, {x->d[0], w->d[0], 0, 0}};
        break;
    }
    case LFR_NN_OP_ADD: {
        const lfr_nn_shape *b = &c->shapes[nd->in[1]];
        if (memcmp(x, b, sizeof *x) != 0)
            return BAD("node %d (%s): operand shapes differ", i, on);
        *y = *x;
        break;
    }
    case LFR_NN_OP_PRELU: {
        const lfr_nn_shape *s = &g->tensors[nd->in[1]].shape;
        if (x->d[x->ndim - 1] != s->d[0])
            return BAD("node %d (%s): %d channels, %d slopes", i, on,
                       x->d[x->ndim - 1], s->d[0]);
        *y = *x;
        break;
    }
    case LFR_NN_OP_RELU:
    case LFR_NN_OP_SOFTMAX:
        *y = *x;
        break;
    case LFR_NN_OP_CONCAT: {
        int axis = nd->p[LFR_NN_P_AXIS];
        if (axis >= x->ndim) return BAD("node %d (%s): axis beyond rank", i, on);
        *y = *x;
        int64_t total = 0;
        for (int k = 0; k < nd->n_in; k++) {
            const lfr_nn_shape *s = &c->shapes[nd->in[k]];
            if (s->ndim != x->ndim)
                return BAD("node %d (%s): ranks differ", i, on);
            for (int d = 0; d < s->ndim; d++)
                if (d != axis && s->d[d] != x->d[d])
                    return BAD("node %d (%s): dimension %d differs", i, on, d);
            total += s->d[axis];
        }
        if (total > (int64_t)LFR_MAX_TENSOR_ELEMS)
            return BAD("node %d (%s): too large", i, on);
        y->d[axis] = (int32_t)total;
        break;
    }
    case LFR_NN_OP_RESHAPE: {
        int r = nd->p[LFR_NN_P_NDIM], infer = -1;
        size_t known = 1, total = lfr_nn_shape_elems(x);
        y->ndim = r;
        for (int k = 0; k < r; k++) {
            int v = nd->p[1 + k];
            if (v == 0) {
                if (k >= x->ndim) return BAD("node %d (%s): 0 beyond rank", i, on);
                v = x->d[k];
            }
            if (v == -1) {
                infer = k;
                continue;
            }
            y->d[k] = v;
            known *= (size_t)v;
        }
        if (infer >= 0) {
            if (known == 0 || total % known)
                return BAD("node %d (%s): cannot infer dimension", i, on);
            y->d[infer] = (int32_t)(total / known);
        } else if (known != total) {
            return BAD("node %d (%s): %zu elements into %zu", i, on, total, known);
        }
        break;
    }
    case LFR_NN_OP_COUNT:
        return BAD("node %d: unknown op", i);
    }
    if (lfr_nn_shape_elems(y) == 0)
        return BAD("node %d (%s): output too large or empty", i, on);
    return LFR_OK;
#undef BAD
}

/* Memory planning ----------------------------------------------------- */

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Floats tensor t takes in the arena: a window of rows when banded. */
static size_t tensor_floats(const lfr_nn_ctx *c, int t) {
    const lfr_nn_shape *s = &c->shapes[t];
    if (c->bands.win_rows && c->bands.win_rows[t])
        return (size_t)c->bands.win_rows[t] * (size_t)s->d[2] * (size_t)s->d[3];
    return lfr_nn_shape_elems(s);
}

static lfr_status place_buffers(lfr_nn_ctx *c) {
    const lfr_nn_graph *g = c->g;
    int nt = g->n_tensors, nn = g->n_nodes;
    int *first = lfr_malloc((size_t)nt * sizeof(int));
    int *last = lfr_malloc((size_t)nt * sizeof(int));
    size_t *off = lfr_malloc((size_t)nt * sizeof(size_t));
    int *order = lfr_malloc((size_t)nt * sizeof(int));
    if (!first || !last || !off || !order) {
        lfr_free(first);
        lfr_free(last);
        lfr_free(off);
        lfr_free(order);
        return LFR_ERR_NOMEM;
    }
    for (int t = 0; t < nt; t++) first[t] = last[t] = -2;
    for (int k = 0; k < g->n_inputs; k++) first[g->inputs[k]] = last[g->inputs[k]] = -1;
    for (int i = 0; i < nn; i++) {
        const lfr_nn_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->n_in; k++)
            if (!g->tensors[nd->in[k]].is_const) last[nd->in[k]] = i;
        first[nd->out] = i;
        if (last[nd->out] < i) last[nd->out] = i;
    }
    /* Graph inputs and outputs live for the whole run: the caller may run
     * again on the same input, and reads outputs afterwards. */
    for (int k = 0; k < g->n_outputs; k++) last[g->outputs[k]] = nn;
    for (int k = 0; k < g->n_inputs; k++) last[g->inputs[k]] = nn;
    /* Banded nodes run interleaved: every tensor they read or write is
     * alive from the first of them to the last. */
    if (c->bands.last >= 0) {
        const lfr_nn_bands *bd = &c->bands;
        for (int i = bd->first; i <= bd->last; i++) {
            int ts[2] = {g->nodes[i].in[0], g->nodes[i].out};
            for (int k = 0; k < 2; k++) {
                if (first[ts[k]] > bd->first) first[ts[k]] = bd->first;
                if (last[ts[k]] < bd->last) last[ts[k]] = bd->last;
            }
        }
    }
    int n_order = 0;
    for (int t = 0; t < nt; t++)
        if (!g->tensors[t].is_const && first[t] != -2) order[n_order++] = t;
    /* order[] is by tensor index; sort by definition time for first fit. */
    for (int a = 1; a < n_order; a++) {
        int v = order[a], b = a - 1;
        while (b >= 0 && first[order[b]] > first[v]) {
            order[b + 1] = order[b];
            b--;
        }
        order[b + 1] = v;
    }
    size_t total = 0;
    for (int a = 0; a < n_order; a++) {
        int t = order[a];
        size_t sz = round16(tensor_floats(c, t));
        size_t o = 0;
        if (!c->keep_all) {
            /* Lowest offset with no conflict among placed, overlapping-in-time
             * tensors: retry after each collision (placed count is small). */
            int moved = 1;
            while (moved) {
                moved = 0;
                for (int b = 0; b < a; b++) {
                    int u = order[b];
                    if (last[u] < first[t] || last[t] < first[u]) continue;
                    size_t usz = round16(tensor_floats(c, u));
                    if (o < off[u] + usz && off[u] < o + sz) {
                        o = off[u] + usz;
                        moved = 1;
                    }
                }
            }
        } else {
            o = total;
        }
        off[t] = o;
        if (o + sz > total) total = o + sz;
    }
    /* Slack after the last buffer: XNNPACK kernels may read up to
     * XNN_EXTRA_BYTES (16) past the end of an input. */
    total += 16;
    lfr_status st = LFR_OK;
    if (total > c->arena_floats) {
        lfr_free_aligned(c->arena);
        c->arena = lfr_malloc_aligned(total * sizeof(float));
        c->arena_floats = c->arena ? total : 0;
        if (!c->arena) st = LFR_ERR_NOMEM;
    }
    if (st == LFR_OK) {
        for (int t = 0; t < nt; t++)
            c->buf[t] = g->tensors[t].is_const ? (float *)g->tensors[t].data : NULL;
        for (int a = 0; a < n_order; a++) c->buf[order[a]] = c->arena + off[order[a]];
    }
    lfr_free(first);
    lfr_free(last);
    lfr_free(off);
    lfr_free(order);
    return st;
}

lfr_status lfr_nn_ctx_plan(lfr_nn_ctx *c, int n, int h, int w, lfr_err *err) {
    if (c->planned && c->plan_n == n && c->plan_h == h && c->plan_w == w)
        return LFR_OK;
    c->planned = 0;
    const lfr_nn_graph *g = c->g;
    if (n < 1 || n > LFR_MAX_NET_BATCH || h < 1 || w < 1 ||
        h > LFR_MAX_NET_SIDE || w > LFR_MAX_NET_SIDE)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "input %dx%dx%d outside 1..%d batch, 1..%d side", n, h,
                           w, LFR_MAX_NET_BATCH, LFR_MAX_NET_SIDE);
    for (int t = 0; t < g->n_tensors; t++) c->shapes[t] = g->tensors[t].shape;
    for (int k = 0; k < g->n_inputs; k++) {
        const lfr_nn_shape *decl = &g->tensors[g->inputs[k]].shape;
        if ((decl->d[1] && decl->d[1] != h) || (decl->d[2] && decl->d[2] != w))
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "this network takes %dx%d input, not %dx%d",
                               decl->d[2], decl->d[1], w, h);
        c->shapes[g->inputs[k]] = (lfr_nn_shape){4, {n, h, w, decl->d[3]}};
    }
    for (int i = 0; i < g->n_nodes; i++) {
        lfr_status st = infer_node(c, i, err);
        if (st != LFR_OK) return st;
    }
    lfr_status st = lfr_nn_bands_plan(c);
    if (st == LFR_OK) st = place_buffers(c);
    if (st != LFR_OK) return st;
    if (c->ops->prepare) {
        st = c->ops->prepare(c);
        if (st != LFR_OK)
            return lfr_err_set(err, st, "backend %s could not prepare", c->ops->name);
    }
    c->planned = 1;
    c->plan_n = n;
    c->plan_h = h;
    c->plan_w = w;
    return LFR_OK;
}

float *lfr_nn_ctx_input(lfr_nn_ctx *c, int i, lfr_nn_shape *shape) {
    if (!c->planned || i < 0 || i >= c->g->n_inputs) return NULL;
    int t = c->g->inputs[i];
    if (shape) *shape = c->shapes[t];
    return c->buf[t];
}

const float *lfr_nn_ctx_output(lfr_nn_ctx *c, int i, lfr_nn_shape *shape) {
    if (!c->planned || i < 0 || i >= c->g->n_outputs) return NULL;
    int t = c->g->outputs[i];
    if (shape) *shape = c->shapes[t];
    return c->buf[t];
}

static int banded_node(const lfr_nn_ctx *c, int i) {
    return c->bands.last >= 0 && i >= c->bands.first && i <= c->bands.last;
}

int lfr_nn_ctx_band_rows(const lfr_nn_ctx *c) { return c->bands.last >= 0 ? c->bands.rows : 0; }

size_t lfr_nn_ctx_arena_bytes(const lfr_nn_ctx *c) { return c->arena_floats * sizeof(float); }

const float *lfr_nn_ctx_tensor(lfr_nn_ctx *c, int t, lfr_nn_shape *shape) {
    if (!c->planned || t < 0 || t >= c->g->n_tensors) return NULL;
    if (shape) *shape = c->shapes[t];
    if (c->bands.win_rows && c->bands.win_rows[t]) return NULL; /* a window of rows */
    return c->buf[t];
}

lfr_status lfr_nn_ctx_run_node(lfr_nn_ctx *c, int i) {
    if (!c->planned) return LFR_ERR_STATE;
    if (i < 0 || i >= c->g->n_nodes) return LFR_ERR_INVALID_ARG;
    if (banded_node(c, i)) return LFR_ERR_STATE;
    return c->ops->run_node(c, i);
}

lfr_status lfr_nn_ctx_run(lfr_nn_ctx *c) {
    if (!c->planned) return LFR_ERR_STATE;
    for (int i = 0; i < c->g->n_nodes; i++) {
        if (banded_node(c, i)) {
            if (i == c->bands.first) {
                lfr_status st = lfr_nn_bands_run(c);
                if (st != LFR_OK) return st;
            }
            continue;
        }
        lfr_status st = c->ops->run_node(c, i);
        if (st != LFR_OK) return st;
    }
    return LFR_OK;
}
