/*
 * graph.c - the graph builder, structural validation and the .lfrm writer.
 *
 * Validation is shared with the loader (model.c): a graph that passes it can
 * be planned without further trust in the file (the planner still checks
 * shapes, which depend on the input size).
 */
#define _POSIX_C_SOURCE 200809L
#include "nn.h"
#include "nn_int.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *name;
    int min_in, max_in;
} op_table[LFR_NN_OP_COUNT] = {
#define LFR_NN_OP_ROW(n, lo, hi) [LFR_NN_OP_##n] = {#n, lo, hi},
    LFR_NN_OP_LIST(LFR_NN_OP_ROW)
#undef LFR_NN_OP_ROW
};

const char *lfr_nn_op_name(lfr_nn_op op) {
    if ((unsigned)op >= LFR_NN_OP_COUNT) return "UNKNOWN";
    return op_table[op].name;
}

size_t lfr_nn_shape_elems(const lfr_nn_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++) {
        if (s->d[i] <= 0) return 0;
        if (lfr_mul_size(n, (size_t)s->d[i], &n) != 0) return 0;
        if (n > LFR_MAX_TENSOR_ELEMS) return 0;
    }
    return n;
}

void lfr_nn_same_pad(int in, int k, int stride, int dilation, int32_t *before,
                     int32_t *after) {
    int eff = (k - 1) * dilation + 1;
    int out = (in + stride - 1) / stride;
    int total = (out - 1) * stride + eff - in;
    if (total < 0) total = 0;
    *before = total / 2;
    *after = total - total / 2;
}

/* Builder ------------------------------------------------------------------ */

/* Arrays grow by one element per call: O(n^2) copying, but n < 4096 and
 * conversion runs once per model. */
lfr_status lfr_nn_graph_init(lfr_nn_graph *g) {
    memset(g, 0, sizeof *g);
    return LFR_OK;
}

void lfr_nn_graph_free(lfr_nn_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_tensors; i++)
        lfr_free((void *)g->tensors[i].data);
    lfr_free(g->tensors);
    lfr_free(g->nodes);
    lfr_free(g->meta);
    memset(g, 0, sizeof *g);
}

static void copy_name(char *dst, size_t cap, const char *src) {
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = 0;
}

lfr_status lfr_nn_graph_add_tensor(lfr_nn_graph *g, const char *name,
                                   const lfr_nn_shape *shape,
                                   const float *data, int32_t *id) {
    if (g->n_tensors >= LFR_MAX_MODEL_TENSORS) return LFR_ERR_TOO_LARGE;
    if (!shape || shape->ndim < 1 || shape->ndim > LFR_NN_MAX_DIMS)
        return LFR_ERR_INVALID_ARG;
    float *copy = NULL;
    if (data) {
        size_t n = lfr_nn_shape_elems(shape);
        if (n == 0) return LFR_ERR_INVALID_ARG;
        copy = lfr_malloc(n * sizeof(float));
        if (!copy) return LFR_ERR_NOMEM;
        memcpy(copy, data, n * sizeof(float));
    }
    lfr_nn_tensor *t =
        lfr_realloc(g->tensors, (size_t)(g->n_tensors + 1) * sizeof *t);
    if (!t) {
        lfr_free(copy);
        return LFR_ERR_NOMEM;
    }
    g->tensors = t;
    lfr_nn_tensor *nt = &t[g->n_tensors];
    memset(nt, 0, sizeof *nt);
    copy_name(nt->name, sizeof nt->name, name);
    nt->shape = *shape;
    nt->is_const = data != NULL;
    nt->data = copy;
    if (id) *id = g->n_tensors;
    g->n_tensors++;
    return LFR_OK;
}

lfr_status lfr_nn_graph_add_node(lfr_nn_graph *g, const lfr_nn_node *node) {
    if (g->n_nodes >= LFR_MAX_MODEL_NODES) return LFR_ERR_TOO_LARGE;
    lfr_nn_node *n = lfr_realloc(g->nodes, (size_t)(g->n_nodes + 1) * sizeof *n);
    if (!n) return LFR_ERR_NOMEM;
    g->nodes = n;
    n[g->n_nodes++] = *node;
    return LFR_OK;
}

lfr_status lfr_nn_graph_set_meta(lfr_nn_graph *g, const char *key,
                                 const char *value) {
    if (strlen(key) >= LFR_MAX_NAME || strlen(value) >= LFR_MAX_META_VALUE)
        return LFR_ERR_TOO_LARGE;
    for (int i = 0; i < g->n_meta; i++) {
        if (strcmp(g->meta[i].key, key) == 0) {
            copy_name(g->meta[i].value, sizeof g->meta[i].value, value);
            return LFR_OK;
        }
    }
    if (g->n_meta >= LFR_MAX_MODEL_META) return LFR_ERR_TOO_LARGE;
    lfr_nn_meta *m = lfr_realloc(g->meta, (size_t)(g->n_meta + 1) * sizeof *m);
    if (!m) return LFR_ERR_NOMEM;
    g->meta = m;
    copy_name(m[g->n_meta].key, sizeof m[g->n_meta].key, key);
    copy_name(m[g->n_meta].value, sizeof m[g->n_meta].value, value);
    g->n_meta++;
    return LFR_OK;
}

const char *lfr_nn_graph_get_meta(const lfr_nn_graph *g, const char *key) {
    for (int i = 0; i < g->n_meta; i++)
        if (strcmp(g->meta[i].key, key) == 0) return g->meta[i].value;
    return NULL;
}

/* Validation --------------------------------------------------------------- */

static int in_range(int32_t v, int32_t lo, int32_t hi) { return v >= lo && v <= hi; }

static lfr_status check_node(const lfr_nn_graph *g, int i, lfr_err *err) {
    const lfr_nn_node *nd = &g->nodes[i];
    const lfr_nn_tensor *T = g->tensors;
#define BAD(...) lfr_err_set(err, LFR_ERR_BAD_MODEL, __VA_ARGS__)
    const char *on = lfr_nn_op_name((lfr_nn_op)nd->op);
    switch ((lfr_nn_op)nd->op) {
    case LFR_NN_OP_CONV2D: {
        const lfr_nn_tensor *w = &T[nd->in[1]], *b = &T[nd->in[2]];
        const int32_t *p = nd->p;
        if (!w->is_const || !b->is_const || w->shape.ndim != 4 ||
            b->shape.ndim != 1 || b->shape.d[0] != w->shape.d[0])
            return BAD("node %d (%s): weights must be constant [Co,KH,KW,Ci/g] "
                       "and bias [Co]", i, on);
        if (p[LFR_NN_P_KH] != w->shape.d[1] || p[LFR_NN_P_KW] != w->shape.d[2])
            return BAD("node %d (%s): kernel size does not match weights", i, on);
        if (!in_range(p[LFR_NN_P_SH], 1, 16) || !in_range(p[LFR_NN_P_SW], 1, 16) ||
            !in_range(p[LFR_NN_P_DH], 1, 16) || !in_range(p[LFR_NN_P_DW], 1, 16))
            return BAD("node %d (%s): stride/dilation out of range", i, on);
        for (int k = LFR_NN_P_PT; k <= LFR_NN_P_PR; k++)
            if (!in_range(p[k], 0, 64))
                return BAD("node %d (%s): padding out of range", i, on);
        if (p[LFR_NN_P_GROUPS] < 1 || w->shape.d[0] % p[LFR_NN_P_GROUPS] != 0)
            return BAD("node %d (%s): groups must divide output channels", i, on);
        if (!in_range(p[LFR_NN_P_ACT], 0, 1) || !in_range(p[LFR_NN_P_SAME], 0, 1))
            return BAD("node %d (%s): bad activation or padding mode", i, on);
        break;
    }
    case LFR_NN_OP_MAXPOOL: {
        const int32_t *p = nd->p;
        if (!in_range(p[LFR_NN_P_KH], 1, 16) || !in_range(p[LFR_NN_P_KW], 1, 16) ||
            !in_range(p[LFR_NN_P_SH], 1, 16) || !in_range(p[LFR_NN_P_SW], 1, 16) ||
            !in_range(p[LFR_NN_P_SAME], 0, 1))
            return BAD("node %d (%s): kernel/stride out of range", i, on);
        for (int k = LFR_NN_P_PT; k <= LFR_NN_P_PR; k++)
            if (!in_range(p[k], 0, 16))
                return BAD("node %d (%s): padding out of range", i, on);
        break;
    }
    case LFR_NN_OP_FC: {
        const lfr_nn_tensor *w = &T[nd->in[1]], *b = &T[nd->in[2]];
        if (!w->is_const || !b->is_const || w->shape.ndim != 2 ||
            b->shape.ndim != 1 || b->shape.d[0] != w->shape.d[0])
            return BAD("node %d (%s): weights must be constant [Co,K], bias [Co]",
                       i, on);
        if (!in_range(nd->p[LFR_NN_P_ACT], 0, 1))
            return BAD("node %d (%s): bad activation", i, on);
        break;
    }
    case LFR_NN_OP_ADD:
        if (!in_range(nd->p[LFR_NN_P_ACT], 0, 1))
            return BAD("node %d (%s): bad activation", i, on);
        break;
    case LFR_NN_OP_PRELU: {
        const lfr_nn_tensor *s = &T[nd->in[1]];
        if (!s->is_const || s->shape.ndim != 1)
            return BAD("node %d (%s): slope must be a constant vector", i, on);
        break;
    }
    case LFR_NN_OP_RELU:
    case LFR_NN_OP_SOFTMAX:
        break;
    case LFR_NN_OP_CONCAT:
        if (!in_range(nd->p[LFR_NN_P_AXIS], 0, LFR_NN_MAX_DIMS - 1))
            return BAD("node %d (%s): axis out of range", i, on);
        break;
    case LFR_NN_OP_RESHAPE: {
        int nd_ = nd->p[LFR_NN_P_NDIM], infer = 0;
        if (!in_range(nd_, 1, LFR_NN_MAX_DIMS))
            return BAD("node %d (%s): rank out of range", i, on);
        for (int k = 0; k < nd_; k++) {
            if (nd->p[1 + k] < -1 || nd->p[1 + k] > (int32_t)LFR_MAX_TENSOR_ELEMS)
                return BAD("node %d (%s): bad dimension", i, on);
            infer += nd->p[1 + k] == -1;
        }
        if (infer > 1) return BAD("node %d (%s): more than one -1", i, on);
        break;
    }
    case LFR_NN_OP_COUNT:
        return BAD("node %d: unknown op", i);
    }
    /* Value inputs may not be constants for ops that only read activations
     * in input 0. */
    if (T[nd->in[0]].is_const)
        return BAD("node %d (%s): first input must be an activation", i, on);
    return LFR_OK;
#undef BAD
}

lfr_status lfr_nn_graph_validate(const lfr_nn_graph *g, lfr_err *err) {
#define BAD(...) lfr_err_set(err, LFR_ERR_BAD_MODEL, __VA_ARGS__)
    if (g->n_tensors < 1 || g->n_tensors > LFR_MAX_MODEL_TENSORS)
        return BAD("tensor count %d out of range", g->n_tensors);
    if (g->n_nodes < 1 || g->n_nodes > LFR_MAX_MODEL_NODES)
        return BAD("node count %d out of range", g->n_nodes);
    if (g->n_meta < 0 || g->n_meta > LFR_MAX_MODEL_META)
        return BAD("metadata count out of range");
    if (g->n_inputs < 1 || g->n_inputs > LFR_NN_MAX_IO || g->n_outputs < 1 ||
        g->n_outputs > LFR_NN_MAX_IO)
        return BAD("input/output count out of range");
    for (int i = 0; i < g->n_tensors; i++) {
        const lfr_nn_tensor *t = &g->tensors[i];
        if (t->shape.ndim < 1 || t->shape.ndim > LFR_NN_MAX_DIMS)
            return BAD("tensor %d: rank %d out of range", i, t->shape.ndim);
        for (int k = 0; k < t->shape.ndim; k++) {
            if (t->shape.d[k] < 0 || t->shape.d[k] > (int32_t)LFR_MAX_TENSOR_ELEMS)
                return BAD("tensor %d: dimension out of range", i);
            if (t->is_const && t->shape.d[k] == 0)
                return BAD("tensor %d: constant with an empty dimension", i);
        }
        if (t->is_const && (lfr_nn_shape_elems(&t->shape) == 0 || !t->data))
            return BAD("tensor %d: constant too large or without data", i);
    }
    /* defined[t]: 1 once a value is produced (graph input or node output). */
    uint8_t *defined = lfr_calloc((size_t)g->n_tensors, 1);
    if (!defined) return LFR_ERR_NOMEM;
    lfr_status st = LFR_OK;
    for (int i = 0; i < g->n_inputs && st == LFR_OK; i++) {
        int t = g->inputs[i];
        if (t < 0 || t >= g->n_tensors || g->tensors[t].is_const || defined[t])
            st = BAD("graph input %d is not a distinct activation tensor", i);
        else if (g->tensors[t].shape.ndim != 4 || g->tensors[t].shape.d[3] <= 0)
            st = BAD("graph input %d must be [N,H,W,C] with C known", i);
        else
            defined[t] = 1;
    }
    for (int i = 0; i < g->n_nodes && st == LFR_OK; i++) {
        const lfr_nn_node *nd = &g->nodes[i];
        if ((unsigned)nd->op >= LFR_NN_OP_COUNT) {
            st = BAD("node %d: unknown op %d", i, nd->op);
            break;
        }
        if (nd->n_in < op_table[nd->op].min_in || nd->n_in > op_table[nd->op].max_in) {
            st = BAD("node %d (%s): %d inputs", i, op_table[nd->op].name, nd->n_in);
            break;
        }
        for (int k = 0; k < nd->n_in; k++) {
            int t = nd->in[k];
            if (t < 0 || t >= g->n_tensors) {
                st = BAD("node %d: input %d refers to no tensor", i, k);
                break;
            }
            if (!g->tensors[t].is_const && !defined[t]) {
                st = BAD("node %d: input '%s' used before it is computed", i,
                         g->tensors[t].name);
                break;
            }
        }
        if (st != LFR_OK) break;
        if (nd->out < 0 || nd->out >= g->n_tensors ||
            g->tensors[nd->out].is_const || defined[nd->out]) {
            st = BAD("node %d: output must be a new activation tensor", i);
            break;
        }
        st = check_node(g, i, err);
        defined[nd->out] = 1;
    }
    for (int i = 0; i < g->n_outputs && st == LFR_OK; i++) {
        int t = g->outputs[i];
        if (t < 0 || t >= g->n_tensors || !defined[t] || g->tensors[t].is_const)
            st = BAD("graph output %d is not a computed tensor", i);
    }
    lfr_free(defined);
    return st;
#undef BAD
}

/* Writer ------------------------------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
    int oom;
} wbuf;

static void w_bytes(wbuf *b, const void *src, size_t n) {
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n) nc *= 2;
        uint8_t *np = lfr_realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}
static void w_u32(wbuf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    w_bytes(b, x, 4);
}
static void w_u64(wbuf *b, uint64_t v) {
    w_u32(b, (uint32_t)v);
    w_u32(b, (uint32_t)(v >> 32));
}
static void w_str(wbuf *b, const char *s) {
    size_t n = strlen(s);
    w_u32(b, (uint32_t)n);
    w_bytes(b, s, n);
}
static void w_pad(wbuf *b, size_t align) {
    static const uint8_t zero[64];
    while (!b->oom && b->len % align) w_bytes(b, zero, 1);
    (void)zero;
}

#define LFR_NN_ALIGN 64

lfr_status lfr_nn_graph_serialize(const lfr_nn_graph *g, uint8_t **out,
                                  size_t *out_len, lfr_err *err) {
    *out = NULL;
    *out_len = 0;
    lfr_status st = lfr_nn_graph_validate(g, err);
    if (st != LFR_OK) return st;
    /* Data layout first: offsets of each constant inside the data section. */
    uint64_t data_size = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        if (!g->tensors[i].is_const) continue;
        data_size = (data_size + LFR_NN_ALIGN - 1) / LFR_NN_ALIGN * LFR_NN_ALIGN;
        data_size += 4 * (uint64_t)lfr_nn_shape_elems(&g->tensors[i].shape);
    }
    wbuf b = {0};
    w_bytes(&b, LFR_NN_MAGIC, 4);
    w_u32(&b, LFR_NN_VERSION);
    w_u32(&b, (uint32_t)g->n_meta);
    w_u32(&b, (uint32_t)g->n_tensors);
    w_u32(&b, (uint32_t)g->n_nodes);
    w_u32(&b, (uint32_t)g->n_inputs);
    w_u32(&b, (uint32_t)g->n_outputs);
    w_u32(&b, LFR_NN_ALIGN);
    size_t data_off_pos = b.len;
    w_u64(&b, 0);
    w_u64(&b, data_size);
    for (int i = 0; i < g->n_meta; i++) {
        w_str(&b, g->meta[i].key);
        w_str(&b, g->meta[i].value);
    }
    uint64_t off = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        const lfr_nn_tensor *t = &g->tensors[i];
        w_str(&b, t->name);
        w_u32(&b, (uint32_t)t->is_const);
        w_u32(&b, (uint32_t)t->shape.ndim);
        for (int k = 0; k < t->shape.ndim; k++) w_u32(&b, (uint32_t)t->shape.d[k]);
        if (t->is_const) {
            off = (off + LFR_NN_ALIGN - 1) / LFR_NN_ALIGN * LFR_NN_ALIGN;
            uint64_t nb = 4 * (uint64_t)lfr_nn_shape_elems(&t->shape);
            w_u64(&b, off);
            w_u64(&b, nb);
            off += nb;
        } else {
            w_u64(&b, 0);
            w_u64(&b, 0);
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const lfr_nn_node *nd = &g->nodes[i];
        w_u32(&b, (uint32_t)nd->op);
        w_u32(&b, (uint32_t)nd->n_in);
        for (int k = 0; k < nd->n_in; k++) w_u32(&b, (uint32_t)nd->in[k]);
        w_u32(&b, (uint32_t)nd->out);
        for (int k = 0; k < LFR_NN_NPARAMS; k++) w_u32(&b, (uint32_t)nd->p[k]);
    }
    for (int i = 0; i < g->n_inputs; i++) w_u32(&b, (uint32_t)g->inputs[i]);
    for (int i = 0; i < g->n_outputs; i++) w_u32(&b, (uint32_t)g->outputs[i]);
    w_pad(&b, LFR_NN_ALIGN);
    uint64_t data_offset = b.len;
    size_t base = b.len;
    for (int i = 0; i < g->n_tensors; i++) {
        const lfr_nn_tensor *t = &g->tensors[i];
        if (!t->is_const) continue;
        while (!b.oom && (b.len - base) % LFR_NN_ALIGN) w_bytes(&b, "", 1);
        size_t n = lfr_nn_shape_elems(&t->shape);
        for (size_t k = 0; k < n; k++) {
            uint32_t u;
            memcpy(&u, &t->data[k], 4);
            w_u32(&b, u);
        }
    }
    if (b.oom) {
        lfr_free(b.p);
        return LFR_ERR_NOMEM;
    }
    for (int k = 0; k < 8; k++)
        b.p[data_off_pos + k] = (uint8_t)(data_offset >> (8 * k));
    *out = b.p;
    *out_len = b.len;
    return LFR_OK;
}

lfr_status lfr_nn_graph_write(const lfr_nn_graph *g, const char *path,
                              lfr_err *err) {
    uint8_t *buf;
    size_t len;
    lfr_status st = lfr_nn_graph_serialize(g, &buf, &len, err);
    if (st != LFR_OK) return st;
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >=
        sizeof tmp) {
        lfr_free(buf);
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "path too long");
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        lfr_free(buf);
        return lfr_err_set(err, LFR_ERR_IO, "cannot create %s", tmp);
    }
    size_t wrote = fwrite(buf, 1, len, f);
    int bad = wrote != len || fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    lfr_free(buf);
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return lfr_err_set(err, LFR_ERR_IO, "cannot write %s", path);
    }
    return LFR_OK;
}
