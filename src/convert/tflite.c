/*
 * tflite.c - a minimal, bounded FlatBuffers reader for the subset of the
 * TFLite schema the converter needs.  See convert.h.
 *
 * FlatBuffers in brief: the file starts with a u32 offset to the root table
 * (then the 4-byte identifier "TFL3").  A table starts with an i32 soffset;
 * its vtable is at table - soffset: u16 vtable size, u16 table size, then
 * one u16 per field giving the field's offset inside the table (0 = absent:
 * the field has its schema default).  Reference fields (tables, vectors,
 * strings) hold a u32 offset relative to the field itself.  A vector is a
 * u32 element count followed by the elements; a string is a vector of
 * bytes.  All little-endian.  Everything is read with bounds checks, byte
 * by byte, so alignment does not matter.
 */
#include "convert.h"

#include <string.h>

typedef struct fb {
    const uint8_t *b;
    uint64_t len;
    lfr_err *err;
} fb;

typedef struct fbt {          /* a table */
    uint64_t pos, vt;
    uint32_t vsize, tsize;
} fbt;

static uint32_t ld32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}
static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static lfr_status bad(fb *f, const char *what) {
    return lfr_err_set(f->err, LFR_ERR_CORRUPT, "TFLite: %s", what);
}

static int in_range(const fb *f, uint64_t pos, uint64_t n) {
    return pos <= f->len && n <= f->len - pos;
}

static lfr_status fb_table(fb *f, uint64_t pos, fbt *t) {
    if (!in_range(f, pos, 4)) return bad(f, "table offset out of range");
    int32_t so = (int32_t)ld32(f->b + pos);
    int64_t vt = (int64_t)pos - (int64_t)so;
    if (vt < 0 || !in_range(f, (uint64_t)vt, 4))
        return bad(f, "vtable out of range");
    t->pos = pos;
    t->vt = (uint64_t)vt;
    t->vsize = ld16(f->b + vt);
    t->tsize = ld16(f->b + vt + 2);
    if (t->vsize < 4 || (t->vsize & 1) || !in_range(f, t->vt, t->vsize))
        return bad(f, "bad vtable size");
    if (t->tsize < 4 || !in_range(f, pos, t->tsize))
        return bad(f, "bad table size");
    return LFR_OK;
}

/* Position of field `i` holding `n` bytes, 0 if absent, UINT64_MAX if bad. */
static uint64_t fb_field(const fbt *t, const fb *f, int i, uint32_t n) {
    uint64_t e = 4 + 2 * (uint64_t)i;
    if (e + 2 > t->vsize) return 0;
    uint16_t off = ld16(f->b + t->vt + e);
    if (off == 0) return 0;
    if (off < 4 || (uint64_t)off + n > t->tsize) return UINT64_MAX;
    return t->pos + off;
}

static lfr_status get_u8(fb *f, const fbt *t, int i, int32_t def, int32_t *v) {
    uint64_t p = fb_field(t, f, i, 1);
    if (p == UINT64_MAX) return bad(f, "field out of its table");
    *v = p ? (int32_t)f->b[p] : def;
    return LFR_OK;
}

static lfr_status get_i8(fb *f, const fbt *t, int i, int32_t def, int32_t *v) {
    uint64_t p = fb_field(t, f, i, 1);
    if (p == UINT64_MAX) return bad(f, "field out of its table");
    *v = p ? (int32_t)(int8_t)f->b[p] : def;
    return LFR_OK;
}

static lfr_status get_i32(fb *f, const fbt *t, int i, int32_t def, int32_t *v) {
    uint64_t p = fb_field(t, f, i, 4);
    if (p == UINT64_MAX) return bad(f, "field out of its table");
    *v = p ? (int32_t)ld32(f->b + p) : def;
    return LFR_OK;
}

static lfr_status get_f32(fb *f, const fbt *t, int i, float def, float *v) {
    uint64_t p = fb_field(t, f, i, 4);
    if (p == UINT64_MAX) return bad(f, "field out of its table");
    if (!p) {
        *v = def;
    } else {
        uint32_t u = ld32(f->b + p);
        memcpy(v, &u, 4);
    }
    return LFR_OK;
}

/* Follows the reference field i; *pos = 0 when absent. */
static lfr_status get_ref(fb *f, const fbt *t, int i, uint64_t *pos) {
    uint64_t p = fb_field(t, f, i, 4);
    if (p == UINT64_MAX) return bad(f, "field out of its table");
    if (!p) {
        *pos = 0;
        return LFR_OK;
    }
    uint64_t target = p + ld32(f->b + p);
    if (!in_range(f, target, 4)) return bad(f, "offset out of range");
    *pos = target;
    return LFR_OK;
}

/* A vector of `esz`-byte elements at field i: *n elements starting at
 * *data (n = 0 when absent). */
static lfr_status get_vec(fb *f, const fbt *t, int i, uint32_t esz,
                          uint32_t max, const char *what, uint64_t *data,
                          uint32_t *n) {
    uint64_t v;
    lfr_status st = get_ref(f, t, i, &v);
    if (st != LFR_OK) return st;
    *n = 0;
    *data = 0;
    if (!v) return LFR_OK;
    uint32_t cnt = ld32(f->b + v);
    if (!in_range(f, v + 4, (uint64_t)cnt * esz))
        return bad(f, "vector runs past the end of the file");
    if (cnt > max)
        return lfr_err_set(f->err, LFR_ERR_TOO_LARGE,
                           "TFLite: more than %u %s", max, what);
    *n = cnt;
    *data = v + 4;
    return LFR_OK;
}

/* Element k of a vector of tables. */
static lfr_status vec_table(fb *f, uint64_t data, uint32_t k, fbt *t) {
    uint64_t p = data + 4 * (uint64_t)k;
    return fb_table(f, p + ld32(f->b + p), t);
}

static lfr_status get_string(fb *f, const fbt *t, int i, lfr_cv_str *s) {
    uint64_t d;
    uint32_t n;
    lfr_status st = get_vec(f, t, i, 1, 0x7fffffff, "string bytes", &d, &n);
    if (st != LFR_OK) return st;
    s->p = d ? (const char *)f->b + d : "";
    s->len = n;
    return LFR_OK;
}

/* A vector of int32 into out[], at most cap elements. */
static lfr_status get_ints(fb *f, const fbt *t, int i, int32_t *out,
                           int32_t cap, const char *what, int32_t *n) {
    uint64_t d;
    uint32_t cnt;
    lfr_status st = get_vec(f, t, i, 4, (uint32_t)cap, what, &d, &cnt);
    if (st != LFR_OK) return st;
    for (uint32_t k = 0; k < cnt; k++) out[k] = (int32_t)ld32(f->b + d + 4 * k);
    *n = (int32_t)cnt;
    return LFR_OK;
}

/* Options ----------------------------------------------------------------- */

/* BuiltinOptions union type expected for each op we read options of. */
static int32_t expected_options(int32_t code) {
    switch (code) {
    case LFR_TFL_CONV_2D: return 1;
    case LFR_TFL_DEPTHWISE_CONV_2D: return 2;
    case LFR_TFL_MAX_POOL_2D: case 1 /* AVERAGE_POOL_2D */: return 5;
    case LFR_TFL_FULLY_CONNECTED: return 8;
    case LFR_TFL_SOFTMAX: return 9;
    case LFR_TFL_CONCATENATION: return 10;
    case LFR_TFL_ADD: return 11;
    case LFR_TFL_RESHAPE: return 17;
    case LFR_TFL_MUL: return 21;
    case LFR_TFL_SUM: case LFR_TFL_REDUCE_MAX: return 27;
    case LFR_TFL_SUB: return 28;
    case LFR_TFL_DIV: return 29;
    default: return 0;
    }
}

static lfr_status parse_options(fb *f, const fbt *ot, int32_t code,
                                lfr_tfl_options *o) {
    lfr_status st = LFR_OK;
#define TRY(x) do { if ((st = (x)) != LFR_OK) return st; } while (0)
    switch (code) {
    case LFR_TFL_CONV_2D:
        TRY(get_i8(f, ot, 0, 0, &o->padding));
        TRY(get_i32(f, ot, 1, 0, &o->stride_w));
        TRY(get_i32(f, ot, 2, 0, &o->stride_h));
        TRY(get_i8(f, ot, 3, 0, &o->act));
        TRY(get_i32(f, ot, 4, 1, &o->dilation_w));
        TRY(get_i32(f, ot, 5, 1, &o->dilation_h));
        break;
    case LFR_TFL_DEPTHWISE_CONV_2D:
        TRY(get_i8(f, ot, 0, 0, &o->padding));
        TRY(get_i32(f, ot, 1, 0, &o->stride_w));
        TRY(get_i32(f, ot, 2, 0, &o->stride_h));
        TRY(get_i32(f, ot, 3, 0, &o->depth_multiplier));
        TRY(get_i8(f, ot, 4, 0, &o->act));
        TRY(get_i32(f, ot, 5, 1, &o->dilation_w));
        TRY(get_i32(f, ot, 6, 1, &o->dilation_h));
        break;
    case LFR_TFL_MAX_POOL_2D: case 1:
        TRY(get_i8(f, ot, 0, 0, &o->padding));
        TRY(get_i32(f, ot, 1, 0, &o->stride_w));
        TRY(get_i32(f, ot, 2, 0, &o->stride_h));
        TRY(get_i32(f, ot, 3, 0, &o->filter_w));
        TRY(get_i32(f, ot, 4, 0, &o->filter_h));
        TRY(get_i8(f, ot, 5, 0, &o->act));
        break;
    case LFR_TFL_FULLY_CONNECTED:
        TRY(get_i8(f, ot, 0, 0, &o->act));
        TRY(get_i8(f, ot, 1, 0, &o->weights_format));
        TRY(get_u8(f, ot, 2, 0, &o->keep_num_dims));
        break;
    case LFR_TFL_SOFTMAX:
        TRY(get_f32(f, ot, 0, 0.0f, &o->beta));
        break;
    case LFR_TFL_CONCATENATION:
        TRY(get_i32(f, ot, 0, 0, &o->axis));
        TRY(get_i8(f, ot, 1, 0, &o->act));
        break;
    case LFR_TFL_ADD: case LFR_TFL_MUL: case LFR_TFL_SUB: case LFR_TFL_DIV:
        TRY(get_i8(f, ot, 0, 0, &o->act));
        break;
    case LFR_TFL_RESHAPE:
        TRY(get_ints(f, ot, 0, o->new_shape, LFR_MAX_CONVERT_DIMS,
                     "reshape dims", &o->n_new_shape));
        break;
    case LFR_TFL_SUM: case LFR_TFL_REDUCE_MAX:
        TRY(get_u8(f, ot, 0, 0, &o->keep_dims));
        break;
    default:
        break;
    }
#undef TRY
    return st;
}

/* Model --------------------------------------------------------------------- */

typedef struct span {
    const uint8_t *p;
    size_t n;
} span;

static lfr_status parse(fb *f, lfr_tfl_model *m, span **bufs_out) {
    lfr_status st;
#define TRY(x) do { if ((st = (x)) != LFR_OK) return st; } while (0)
    if (f->len < 8) return bad(f, "file shorter than its header");
    if (memcmp(f->b + 4, "TFL3", 4) != 0)
        return lfr_err_set(f->err, LFR_ERR_UNSUPPORTED,
                           "TFLite: no \"TFL3\" file identifier");
    fbt model;
    TRY(fb_table(f, ld32(f->b), &model));

    /* Operator codes: builtin = max(deprecated_builtin_code, builtin_code). */
    uint64_t cd;
    uint32_t n_codes;
    TRY(get_vec(f, &model, 1, 4, LFR_MAX_CONVERT_NODES, "operator codes", &cd,
                &n_codes));
    int32_t *codes = lfr_calloc(n_codes ? n_codes : 1, sizeof *codes);
    if (!codes) return lfr_err_set(f->err, LFR_ERR_NOMEM, "TFLite: out of memory");
    /* codes is freed through bufs_out's owner below; keep it simple. */
    st = LFR_OK;
    for (uint32_t k = 0; k < n_codes && st == LFR_OK; k++) {
        fbt oc;
        int32_t dep = 0, code = 0;
        st = vec_table(f, cd, k, &oc);
        if (st == LFR_OK) st = get_i8(f, &oc, 0, 0, &dep);
        if (st == LFR_OK) st = get_i32(f, &oc, 3, 0, &code);
        codes[k] = dep > code ? dep : code;
    }

    /* Buffers. */
    uint64_t bd = 0;
    uint32_t n_bufs = 0;
    if (st == LFR_OK)
        st = get_vec(f, &model, 4, 4, LFR_MAX_CONVERT_TENSORS, "buffers", &bd,
                     &n_bufs);
    span *bufs = NULL;
    if (st == LFR_OK) {
        bufs = lfr_calloc(n_bufs ? n_bufs : 1, sizeof *bufs);
        if (!bufs) st = lfr_err_set(f->err, LFR_ERR_NOMEM, "TFLite: out of memory");
    }
    *bufs_out = bufs;
    for (uint32_t k = 0; k < n_bufs && st == LFR_OK; k++) {
        fbt bt;
        uint64_t d;
        uint32_t n;
        st = vec_table(f, bd, k, &bt);
        if (st == LFR_OK) st = get_vec(f, &bt, 0, 1, 0xffffffffu, "bytes", &d, &n);
        if (st == LFR_OK && fb_field(&bt, f, 1, 8) != 0)
            st = lfr_err_set(f->err, LFR_ERR_UNSUPPORTED,
                             "TFLite: buffers stored outside the flatbuffer "
                             "are not supported");
        if (st == LFR_OK) {
            bufs[k].p = d ? f->b + d : NULL;
            bufs[k].n = n;
        }
    }

    /* The first subgraph. */
    uint64_t sd = 0;
    uint32_t n_sub = 0;
    fbt sg;
    if (st == LFR_OK)
        st = get_vec(f, &model, 2, 4, LFR_MAX_CONVERT_NODES, "subgraphs", &sd,
                     &n_sub);
    if (st == LFR_OK && n_sub == 0) st = bad(f, "the model has no subgraph");
    if (st == LFR_OK) st = vec_table(f, sd, 0, &sg);

    /* Tensors. */
    uint64_t td = 0;
    uint32_t n_t = 0;
    if (st == LFR_OK)
        st = get_vec(f, &sg, 0, 4, LFR_MAX_CONVERT_TENSORS, "tensors", &td, &n_t);
    if (st == LFR_OK) {
        m->tensors = lfr_calloc(n_t ? n_t : 1, sizeof *m->tensors);
        if (!m->tensors) st = lfr_err_set(f->err, LFR_ERR_NOMEM, "TFLite: out of memory");
        else m->n_tensors = (int32_t)n_t;
    }
    for (uint32_t k = 0; k < n_t && st == LFR_OK; k++) {
        fbt tt;
        lfr_tfl_tensor *t = &m->tensors[k];
        int32_t buffer = 0;
        st = vec_table(f, td, k, &tt);
        if (st == LFR_OK)
            st = get_ints(f, &tt, 0, t->dims, LFR_MAX_CONVERT_DIMS,
                          "tensor dims", &t->ndim);
        if (st == LFR_OK) st = get_u8(f, &tt, 1, LFR_TFL_FLOAT32, &t->type);
        if (st == LFR_OK) st = get_i32(f, &tt, 2, 0, &buffer);
        if (st == LFR_OK) st = get_string(f, &tt, 3, &t->name);
        if (st != LFR_OK) break;
        if ((uint32_t)buffer >= n_bufs && !(buffer == 0 && n_bufs == 0)) {
            st = bad(f, "tensor refers to a missing buffer");
            break;
        }
        t->buffer = (uint32_t)buffer;
        if (n_bufs && bufs[buffer].n) {
            t->data = bufs[buffer].p;
            t->data_len = bufs[buffer].n;
        }
    }

    /* Subgraph inputs and outputs. */
    if (st == LFR_OK)
        st = get_ints(f, &sg, 1, m->inputs, LFR_NN_MAX_IO, "graph inputs",
                      &m->n_inputs);
    if (st == LFR_OK)
        st = get_ints(f, &sg, 2, m->outputs, LFR_NN_MAX_IO, "graph outputs",
                      &m->n_outputs);
    for (int32_t k = 0; st == LFR_OK && k < m->n_inputs + m->n_outputs; k++) {
        int32_t v = k < m->n_inputs ? m->inputs[k] : m->outputs[k - m->n_inputs];
        if (v < 0 || v >= m->n_tensors) st = bad(f, "graph input/output out of range");
    }

    /* Operators. */
    uint64_t od = 0;
    uint32_t n_ops = 0;
    if (st == LFR_OK)
        st = get_vec(f, &sg, 3, 4, LFR_MAX_CONVERT_NODES, "operators", &od, &n_ops);
    if (st == LFR_OK) {
        m->ops = lfr_calloc(n_ops ? n_ops : 1, sizeof *m->ops);
        if (!m->ops) st = lfr_err_set(f->err, LFR_ERR_NOMEM, "TFLite: out of memory");
        else m->n_ops = (int32_t)n_ops;
    }
    for (uint32_t k = 0; k < n_ops && st == LFR_OK; k++) {
        fbt ot;
        lfr_tfl_op *op = &m->ops[k];
        int32_t oi = 0;
        st = vec_table(f, od, k, &ot);
        if (st == LFR_OK) st = get_i32(f, &ot, 0, 0, &oi);
        if (st != LFR_OK) break;
        if (oi < 0 || (uint32_t)oi >= n_codes) {
            st = bad(f, "operator refers to a missing operator code");
            break;
        }
        op->code = codes[oi];
        st = get_ints(f, &ot, 1, op->in, LFR_MAX_CONVERT_NODE_IO,
                      "operator inputs", &op->n_in);
        if (st == LFR_OK)
            st = get_ints(f, &ot, 2, op->out, LFR_MAX_CONVERT_NODE_IO,
                          "operator outputs", &op->n_out);
        if (st != LFR_OK) break;
        for (int32_t j = 0; j < op->n_in && st == LFR_OK; j++)
            if (op->in[j] < -1 || op->in[j] >= m->n_tensors)
                st = bad(f, "operator input out of range");
        for (int32_t j = 0; j < op->n_out && st == LFR_OK; j++)
            if (op->out[j] < 0 || op->out[j] >= m->n_tensors)
                st = bad(f, "operator output out of range");
        if (st == LFR_OK) st = get_u8(f, &ot, 3, 0, &op->options_type);
        lfr_tfl_options *o = &op->opt;
        o->dilation_w = o->dilation_h = 1;
        o->n_new_shape = -1;
        uint64_t opt_pos = 0;
        if (st == LFR_OK) st = get_ref(f, &ot, 4, &opt_pos);
        if (st == LFR_OK && opt_pos) {
            int32_t want = expected_options(op->code);
            if (want && op->options_type != want) {
                st = bad(f, "operator options of the wrong type");
            } else if (want) {
                fbt opt;
                st = fb_table(f, opt_pos, &opt);
                if (st == LFR_OK) st = parse_options(f, &opt, op->code, o);
            }
        }
    }
    lfr_free(codes);
#undef TRY
    return st;
}

lfr_status lfr_tfl_parse(const uint8_t *buf, size_t len, lfr_tfl_model *m,
                         lfr_err *err) {
    memset(m, 0, sizeof *m);
    if (!buf && len) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "TFLite: no buffer");
    if (len > LFR_MAX_SOURCE_MODEL_BYTES)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "TFLite: file over %u bytes",
                           LFR_MAX_SOURCE_MODEL_BYTES);
    fb f = {buf, len, err};
    span *bufs = NULL;
    lfr_status st = parse(&f, m, &bufs);
    lfr_free(bufs);
    if (st != LFR_OK) lfr_tfl_free(m);
    return st;
}

void lfr_tfl_free(lfr_tfl_model *m) {
    if (!m) return;
    lfr_free(m->tensors);
    lfr_free(m->ops);
    memset(m, 0, sizeof *m);
}
