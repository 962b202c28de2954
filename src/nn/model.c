/*
 * model.c - the .lfrm loader.  Trusts nothing in the file: every count is
 * checked against limits.h, every string and table read through a bounded
 * cursor, every constant's extent checked against the data section, and the
 * graph validated (graph.c) before the model is handed out.
 */
#include "nn.h"
#include "nn_int.h"

#include <string.h>

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    int bad;
} rd;

static uint32_t r_u32(rd *r) {
    if (r->bad || r->len - r->pos < 4) {
        r->bad = 1;
        return 0;
    }
    const uint8_t *q = r->p + r->pos;
    r->pos += 4;
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
           (uint32_t)q[3] << 24;
}

static uint64_t r_u64(rd *r) {
    uint64_t lo = r_u32(r);
    uint64_t hi = r_u32(r);
    return lo | hi << 32;
}

/* Reads a length-prefixed string into dst (cap bytes incl. terminator). */
static void r_str(rd *r, char *dst, size_t cap) {
    uint32_t n = r_u32(r);
    if (r->bad || n >= cap || r->len - r->pos < n) {
        r->bad = 1;
        dst[0] = 0;
        return;
    }
    memcpy(dst, r->p + r->pos, n);
    dst[n] = 0;
    r->pos += n;
}

void lfr_nn_model_destroy(lfr_nn_model *m) {
    if (!m) return;
    lfr_free(m->graph.meta);
    lfr_free(m->graph.tensors);
    lfr_free(m->graph.nodes);
    lfr_free_aligned(m->file);
    lfr_free(m);
}

lfr_status lfr_nn_model_load_mem(const uint8_t *buf, size_t len,
                                 lfr_nn_model **out, lfr_err *err) {
#define BAD(...) (st = lfr_err_set(err, LFR_ERR_BAD_MODEL, __VA_ARGS__))
    *out = NULL;
    if (len > LFR_MAX_MODEL_BYTES)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "model file over %u bytes",
                           LFR_MAX_MODEL_BYTES);
    if (len < 48 || memcmp(buf, LFR_NN_MAGIC, 4) != 0)
        return lfr_err_set(err, LFR_ERR_BAD_MODEL, "not an openlfr model (magic)");
    lfr_nn_model *m = lfr_calloc(1, sizeof *m);
    if (!m) return LFR_ERR_NOMEM;
    lfr_status st = LFR_OK;
    m->file = lfr_malloc_aligned(len);
    if (!m->file) {
        lfr_free(m);
        return LFR_ERR_NOMEM;
    }
    memcpy(m->file, buf, len);
    m->file_len = len;
    lfr_nn_graph *g = &m->graph;
    rd r = {m->file, len, 4, 0};
    uint32_t version = r_u32(&r);
    uint32_t n_meta = r_u32(&r), n_tensors = r_u32(&r), n_nodes = r_u32(&r);
    uint32_t n_inputs = r_u32(&r), n_outputs = r_u32(&r), align = r_u32(&r);
    uint64_t data_offset = r_u64(&r), data_size = r_u64(&r);
    if (version != LFR_NN_VERSION) {
        BAD("unsupported model version %u (this build reads %d)", version,
            LFR_NN_VERSION);
        goto fail;
    }
    if (n_meta > LFR_MAX_MODEL_META || n_tensors < 1 ||
        n_tensors > LFR_MAX_MODEL_TENSORS || n_nodes < 1 ||
        n_nodes > LFR_MAX_MODEL_NODES || n_inputs < 1 ||
        n_inputs > LFR_NN_MAX_IO || n_outputs < 1 || n_outputs > LFR_NN_MAX_IO) {
        BAD("table counts out of range");
        goto fail;
    }
    if (align < 16 || align > 4096 || (align & (align - 1)) != 0 ||
        data_offset % align != 0 || data_offset > len ||
        data_size != len - data_offset) {
        BAD("data section out of bounds or misaligned");
        goto fail;
    }
    g->n_meta = (int32_t)n_meta;
    g->n_tensors = (int32_t)n_tensors;
    g->n_nodes = (int32_t)n_nodes;
    g->n_inputs = (int32_t)n_inputs;
    g->n_outputs = (int32_t)n_outputs;
    g->meta = lfr_calloc(n_meta ? n_meta : 1, sizeof *g->meta);
    g->tensors = lfr_calloc(n_tensors, sizeof *g->tensors);
    g->nodes = lfr_calloc(n_nodes, sizeof *g->nodes);
    if (!g->meta || !g->tensors || !g->nodes) {
        st = LFR_ERR_NOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < n_meta && !r.bad; i++) {
        r_str(&r, g->meta[i].key, sizeof g->meta[i].key);
        r_str(&r, g->meta[i].value, sizeof g->meta[i].value);
    }
    for (uint32_t i = 0; i < n_tensors && !r.bad; i++) {
        lfr_nn_tensor *t = &g->tensors[i];
        r_str(&r, t->name, sizeof t->name);
        uint32_t kind = r_u32(&r), ndim = r_u32(&r);
        if (r.bad) break;
        if (kind > 1 || ndim < 1 || ndim > LFR_NN_MAX_DIMS) {
            BAD("tensor %u: bad kind or rank", i);
            goto fail;
        }
        t->is_const = (int32_t)kind;
        t->shape.ndim = (int32_t)ndim;
        for (uint32_t k = 0; k < ndim; k++) {
            uint32_t d = r_u32(&r);
            if (d > LFR_MAX_TENSOR_ELEMS) {
                BAD("tensor %u: dimension %u too large", i, d);
                goto fail;
            }
            t->shape.d[k] = (int32_t)d;
        }
        uint64_t off = r_u64(&r), nbytes = r_u64(&r);
        if (r.bad) break;
        if (kind == 1) {
            size_t elems = lfr_nn_shape_elems(&t->shape);
            if (elems == 0 || nbytes != 4 * (uint64_t)elems || off % align != 0 ||
                off > data_size || nbytes > data_size - off) {
                BAD("tensor %u ('%s'): data out of bounds", i, t->name);
                goto fail;
            }
            t->data = (const float *)(m->file + data_offset + off);
        } else if (off != 0 || nbytes != 0) {
            BAD("tensor %u: activation with data", i);
            goto fail;
        }
    }
    for (uint32_t i = 0; i < n_nodes && !r.bad; i++) {
        lfr_nn_node *nd = &g->nodes[i];
        nd->op = (int32_t)r_u32(&r);
        uint32_t n_in = r_u32(&r);
        if (r.bad) break;
        if (n_in < 1 || n_in > LFR_MAX_NODE_INPUTS) {
            BAD("node %u: %u inputs", i, n_in);
            goto fail;
        }
        nd->n_in = (int32_t)n_in;
        for (uint32_t k = 0; k < n_in; k++) nd->in[k] = (int32_t)r_u32(&r);
        nd->out = (int32_t)r_u32(&r);
        for (int k = 0; k < LFR_NN_NPARAMS; k++) nd->p[k] = (int32_t)r_u32(&r);
    }
    for (uint32_t i = 0; i < n_inputs; i++) g->inputs[i] = (int32_t)r_u32(&r);
    for (uint32_t i = 0; i < n_outputs; i++) g->outputs[i] = (int32_t)r_u32(&r);
    if (r.bad) {
        BAD("file truncated inside its tables");
        goto fail;
    }
    if (r.pos > data_offset) {
        BAD("tables overlap the data section");
        goto fail;
    }
    st = lfr_nn_graph_validate(g, err);
    if (st != LFR_OK) goto fail;
    *out = m;
    return LFR_OK;
fail:
    lfr_nn_model_destroy(m);
    return st;
#undef BAD
}

lfr_status lfr_nn_model_load(const char *path, lfr_nn_model **out,
                             lfr_err *err) {
    uint8_t *buf;
    size_t len;
    *out = NULL;
    lfr_status st = lfr_read_file(path, LFR_MAX_MODEL_BYTES, &buf, &len);
    if (st != LFR_OK)
        return lfr_err_set(err, st, "cannot read model %s: %s", path,
                           lfr_status_message(st));
    st = lfr_nn_model_load_mem(buf, len, out, err);
    lfr_free(buf);
    return st;
}

const lfr_nn_graph *lfr_nn_model_graph(const lfr_nn_model *m) { return &m->graph; }

const char *lfr_nn_model_meta(const lfr_nn_model *m, const char *key) {
    return lfr_nn_graph_get_meta(&m->graph, key);
}
