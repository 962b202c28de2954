/*
 * onnx.c - a minimal, bounded protobuf reader for the subset of ONNX the
 * converter needs.  See convert.h.
 *
 * Protobuf wire format: a message is a sequence of (key varint, value); key
 * = field << 3 | wire type; wire types 0 varint, 1 fixed64, 2 length-
 * delimited, 5 fixed32 (3/4, groups, are refused).  Unknown fields are
 * skipped.  Repeated scalars may be packed (one length-delimited run) or
 * not (one key per element); both are accepted.
 */
#include "convert.h"

#include <string.h>

typedef struct pb {
    const uint8_t *p, *end;
} pb;

typedef struct pctx {
    lfr_onnx_model *m;
    lfr_err *err;
    int depth;
} pctx;

#define PB_VARINT 0
#define PB_FIXED64 1
#define PB_LEN 2
#define PB_FIXED32 5

int lfr_cv_str_eq(lfr_cv_str s, const char *z) {
    size_t n = strlen(z);
    return s.len == n && (n == 0 || memcmp(s.p, z, n) == 0);
}

void lfr_cv_str_copy(char *dst, size_t cap, lfr_cv_str s) {
    size_t n = 0;
    if (cap == 0) return;
    while (n < s.len && n + 1 < cap && s.p[n] != '\0') {
        dst[n] = s.p[n];
        n++;
    }
    dst[n] = '\0';
}

static lfr_status corrupt(pctx *c, const char *what) {
    return lfr_err_set(c->err, LFR_ERR_CORRUPT, "ONNX: %s", what);
}

static int pb_varint(pb *r, uint64_t *v) {
    uint64_t x = 0;
    for (int i = 0; i < 10; i++) {
        if (r->p >= r->end) return -1;
        uint8_t b = *r->p++;
        if (i == 9 && b > 1) return -1;    /* more than 64 bits */
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

static int pb_key(pb *r, uint32_t *field, uint32_t *wt) {
    uint64_t k;
    if (pb_varint(r, &k) != 0) return -1;
    if ((k >> 3) == 0 || (k >> 3) > 0x1fffffffu) return -1;
    *field = (uint32_t)(k >> 3);
    *wt = (uint32_t)(k & 7);
    return 0;
}

static int pb_bytes(pb *r, pb *sub) {
    uint64_t n;
    if (pb_varint(r, &n) != 0) return -1;
    if (n > (uint64_t)(r->end - r->p)) return -1;
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return 0;
}

static int pb_fixed(pb *r, size_t n, const uint8_t **at) {
    if ((size_t)(r->end - r->p) < n) return -1;
    *at = r->p;
    r->p += n;
    return 0;
}

static int pb_skip(pb *r, uint32_t wt) {
    uint64_t v;
    pb sub;
    const uint8_t *at;
    switch (wt) {
    case PB_VARINT: return pb_varint(r, &v);
    case PB_FIXED64: return pb_fixed(r, 8, &at);
    case PB_LEN: return pb_bytes(r, &sub);
    case PB_FIXED32: return pb_fixed(r, 4, &at);
    default: return -1;
    }
}

static float rd_f32(const uint8_t *p) {
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int64_t rd_i64(const uint8_t *p) {
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--) u = u << 8 | p[i];
    return (int64_t)u;
}

static lfr_cv_str to_str(pb s) {
    lfr_cv_str r = {(const char *)s.p, (uint32_t)(s.end - s.p)};
    return r;
}

/* Reads a string field (wire type 2). */
static lfr_status rd_string(pctx *c, pb *r, uint32_t wt, lfr_cv_str *out) {
    pb s;
    if (wt != PB_LEN || pb_bytes(r, &s) != 0)
        return corrupt(c, "bad string field");
    if (s.end - s.p > 0x7fffffff) return corrupt(c, "string too long");
    *out = to_str(s);
    return LFR_OK;
}

/* Reads one int64 varint element (wire type 0). */
static lfr_status rd_int(pctx *c, pb *r, uint32_t wt, int64_t *v) {
    uint64_t u;
    *v = 0;
    if (wt != PB_VARINT || pb_varint(r, &u) != 0)
        return corrupt(c, "bad varint field");
    *v = (int64_t)u;
    return LFR_OK;
}

/* Appends the elements of a repeated int64 field (packed or not) to
 * out[*n], at most cap of them. */
static lfr_status rd_ints(pctx *c, pb *r, uint32_t wt, int64_t *out,
                          int32_t *n, int32_t cap, const char *what) {
    if (wt == PB_VARINT) {
        int64_t v;
        lfr_status s = rd_int(c, r, wt, &v);
        if (s != LFR_OK) return s;
        if (*n >= cap)
            return lfr_err_set(c->err, LFR_ERR_TOO_LARGE,
                               "ONNX: more than %d %s", (int)cap, what);
        out[(*n)++] = v;
        return LFR_OK;
    }
    pb s;
    if (wt != PB_LEN || pb_bytes(r, &s) != 0)
        return corrupt(c, "bad repeated integer field");
    while (s.p < s.end) {
        uint64_t u;
        if (pb_varint(&s, &u) != 0) return corrupt(c, "bad packed varint");
        if (*n >= cap)
            return lfr_err_set(c->err, LFR_ERR_TOO_LARGE,
                               "ONNX: more than %d %s", (int)cap, what);
        out[(*n)++] = (int64_t)u;
    }
    return LFR_OK;
}

static lfr_status grow(pctx *c, void **arr, int32_t *cap, int32_t need,
                       size_t elem, int32_t max, const char *what) {
    if (need <= *cap) return LFR_OK;
    if (need > max)
        return lfr_err_set(c->err, LFR_ERR_TOO_LARGE,
                           "ONNX: more than %d %s", (int)max, what);
    int32_t nc = *cap ? *cap : 16;
    while (nc < need) nc = nc > max / 2 ? max : nc * 2;
    void *p = lfr_realloc(*arr, (size_t)nc * elem);
    if (!p) return lfr_err_set(c->err, LFR_ERR_NOMEM, "ONNX: out of memory");
    *arr = p;
    *cap = nc;
    return LFR_OK;
}

static lfr_status enter(pctx *c) {
    if (++c->depth > LFR_MAX_CONVERT_DEPTH)
        return lfr_err_set(c->err, LFR_ERR_UNSUPPORTED,
                           "ONNX: messages nested deeper than %d",
                           LFR_MAX_CONVERT_DEPTH);
    return LFR_OK;
}

/* TensorProto --------------------------------------------------------- */

/* Counts elements of a repeated float (fixed32) or int64 (varint) field. */
static lfr_status count_elems(pctx *c, pb *r, uint32_t wt, int is_float,
                              size_t *n) {
    if (is_float) {
        if (wt == PB_FIXED32) {
            const uint8_t *at;
            if (pb_fixed(r, 4, &at) != 0) return corrupt(c, "truncated float");
            (*n)++;
            return LFR_OK;
        }
        pb s;
        if (wt != PB_LEN || pb_bytes(r, &s) != 0 || (s.end - s.p) % 4 != 0)
            return corrupt(c, "bad float_data");
        *n += (size_t)(s.end - s.p) / 4;
        return LFR_OK;
    }
    if (wt == PB_VARINT) {
        uint64_t u;
        if (pb_varint(r, &u) != 0) return corrupt(c, "bad int64_data");
        (*n)++;
        return LFR_OK;
    }
    pb s;
    if (wt != PB_LEN || pb_bytes(r, &s) != 0) return corrupt(c, "bad int64_data");
    while (s.p < s.end) {
        uint64_t u;
        if (pb_varint(&s, &u) != 0) return corrupt(c, "bad packed int64_data");
        (*n)++;
    }
    return LFR_OK;
}

static lfr_status parse_tensor(pctx *c, pb msg, int32_t *index) {
    lfr_status st = enter(c);
    if (st != LFR_OK) return st;
    lfr_onnx_model *m = c->m;
    st = grow(c, (void **)&m->tensors, &m->cap_tensors, m->n_tensors + 1,
              sizeof *m->tensors, LFR_MAX_CONVERT_TENSORS, "tensors");
    if (st != LFR_OK) return st;
    lfr_onnx_tensor *t = &m->tensors[m->n_tensors];
    memset(t, 0, sizeof *t);
    m->n_tensors++;
    *index = m->n_tensors - 1;

    /* Pass 1: header fields, data spans and element counts. */
    pb r = msg, raw = {NULL, NULL};
    int have_raw = 0;
    size_t n_float = 0, n_int64 = 0;
    int32_t nd = 0;
    int64_t dt = 0;
    while (r.p < r.end) {
        uint32_t f, wt;
        if (pb_key(&r, &f, &wt) != 0) return corrupt(c, "bad key in tensor");
        if (f == 1) {
            st = rd_ints(c, &r, wt, t->dims, &nd, LFR_MAX_CONVERT_DIMS,
                         "tensor dims");
        } else if (f == 2) {
            st = rd_int(c, &r, wt, &dt);
        } else if (f == 4) {
            st = count_elems(c, &r, wt, 1, &n_float);
        } else if (f == 7) {
            st = count_elems(c, &r, wt, 0, &n_int64);
        } else if (f == 8) {
            st = rd_string(c, &r, wt, &t->name);
        } else if (f == 9) {
            if (wt != PB_LEN || pb_bytes(&r, &raw) != 0)
                return corrupt(c, "bad raw_data");
            have_raw = 1;
        } else if (f == 14) {
            int64_t loc;
            st = rd_int(c, &r, wt, &loc);
            if (st == LFR_OK && loc != 0)
                return lfr_err_set(c->err, LFR_ERR_UNSUPPORTED,
                                   "ONNX: tensors with external data are not "
                                   "supported");
        } else if (pb_skip(&r, wt) != 0) {
            return corrupt(c, "bad field in tensor");
        }
        if (st != LFR_OK) return st;
    }
    t->ndim = nd;
    size_t count = 1;
    for (int i = 0; i < nd; i++) {
        if (t->dims[i] < 0 || (uint64_t)t->dims[i] > LFR_MAX_TENSOR_ELEMS)
            return corrupt(c, "tensor dimension out of range");
        if (lfr_mul_size(count, (size_t)t->dims[i], &count) != 0 ||
            count > LFR_MAX_TENSOR_ELEMS)
            return lfr_err_set(c->err, LFR_ERR_TOO_LARGE,
                               "ONNX: tensor has more than %u elements",
                               LFR_MAX_TENSOR_ELEMS);
    }
    t->count = count;
    if (dt != LFR_ONNX_FLOAT && dt != LFR_ONNX_INT64) {
        /* Kept with no data; the converter refuses it if it is used. */
        t->data_type = (int32_t)(dt > 0 && dt < 1000 ? dt : 0);
        c->depth--;
        return LFR_OK;
    }
    t->data_type = (int32_t)dt;
    size_t esz = dt == LFR_ONNX_FLOAT ? 4 : 8;
    size_t have = have_raw ? (size_t)(raw.end - raw.p) / esz
                           : (dt == LFR_ONNX_FLOAT ? n_float : n_int64);
    if (have_raw && (size_t)(raw.end - raw.p) % esz != 0)
        return corrupt(c, "raw_data size is not a multiple of the element size");
    if (have != count)
        return lfr_err_set(c->err, LFR_ERR_CORRUPT,
                           "ONNX: tensor '%.*s' has %zu values for %zu elements",
                           (int)(t->name.len > 64 ? 64 : t->name.len),
                           t->name.p ? t->name.p : "", have, count);
    void *data = lfr_malloc(count * esz);
    if (!data) return lfr_err_set(c->err, LFR_ERR_NOMEM, "ONNX: out of memory");
    if (dt == LFR_ONNX_FLOAT) t->f = data; else t->i = data;

    /* Pass 2: decode the values. */
    if (have_raw) {
        for (size_t k = 0; k < count; k++) {
            if (t->f) t->f[k] = rd_f32(raw.p + 4 * k);
            else t->i[k] = rd_i64(raw.p + 8 * k);
        }
        c->depth--;
        return LFR_OK;
    }
    size_t k = 0;
    uint32_t want = dt == LFR_ONNX_FLOAT ? 4 : 7;
    r = msg;
    while (r.p < r.end) {
        uint32_t f, wt;
        if (pb_key(&r, &f, &wt) != 0) return corrupt(c, "bad key in tensor");
        if (f != want) {
            if (pb_skip(&r, wt) != 0) return corrupt(c, "bad field in tensor");
            continue;
        }
        if (t->f) {
            const uint8_t *at;
            if (wt == PB_FIXED32) {
                if (pb_fixed(&r, 4, &at) != 0 || k >= count)
                    return corrupt(c, "bad float_data");
                t->f[k++] = rd_f32(at);
            } else {
                pb s;
                if (pb_bytes(&r, &s) != 0) return corrupt(c, "bad float_data");
                while (s.p + 4 <= s.end && k < count) {
                    t->f[k++] = rd_f32(s.p);
                    s.p += 4;
                }
            }
        } else {
            if (wt == PB_VARINT) {
                uint64_t u;
                if (pb_varint(&r, &u) != 0 || k >= count)
                    return corrupt(c, "bad int64_data");
                t->i[k++] = (int64_t)u;
            } else {
                pb s;
                if (pb_bytes(&r, &s) != 0) return corrupt(c, "bad int64_data");
                while (s.p < s.end && k < count) {
                    uint64_t u;
                    if (pb_varint(&s, &u) != 0) return corrupt(c, "bad int64_data");
                    t->i[k++] = (int64_t)u;
                }
            }
        }
    }
    if (k != count) return corrupt(c, "tensor data changed between passes");
    c->depth--;
    return LFR_OK;
}

/* AttributeProto --------------------------------------------------------- */

static lfr_status parse_attr(pctx *c, pb r, lfr_onnx_attr *a) {
    lfr_status st = enter(c);
    if (st != LFR_OK) return st;
    memset(a, 0, sizeof *a);
    a->tensor = -1;
    int64_t type = 0;
    while (r.p < r.end) {
        uint32_t f, wt;
        if (pb_key(&r, &f, &wt) != 0) return corrupt(c, "bad key in attribute");
        st = LFR_OK;
        if (f == 1) {
            st = rd_string(c, &r, wt, &a->name);
        } else if (f == 2) {
            const uint8_t *at;
            if (wt != PB_FIXED32 || pb_fixed(&r, 4, &at) != 0)
                return corrupt(c, "bad float attribute");
            a->f = rd_f32(at);
        } else if (f == 3) {
            st = rd_int(c, &r, wt, &a->i);
        } else if (f == 4) {
            st = rd_string(c, &r, wt, &a->s);
        } else if (f == 5) {
            pb sub;
            if (wt != PB_LEN || pb_bytes(&r, &sub) != 0)
                return corrupt(c, "bad tensor attribute");
            int32_t idx;
            st = parse_tensor(c, sub, &idx);
            if (st == LFR_OK) {
                c->m->is_initializer[idx] = 0;
                a->tensor = idx;
            }
        } else if (f == 8) {
            st = rd_ints(c, &r, wt, a->ints, &a->n_ints,
                         LFR_MAX_CONVERT_ATTR_INTS, "integers in an attribute");
        } else if (f == 20) {
            st = rd_int(c, &r, wt, &type);
        } else if (pb_skip(&r, wt) != 0) {
            return corrupt(c, "bad field in attribute");
        }
        if (st != LFR_OK) return st;
    }
    a->type = (type == LFR_ONNX_ATTR_FLOAT || type == LFR_ONNX_ATTR_INT ||
               type == LFR_ONNX_ATTR_STRING || type == LFR_ONNX_ATTR_TENSOR ||
               type == LFR_ONNX_ATTR_INTS) ? (int32_t)type : 0;
    c->depth--;
    return LFR_OK;
}

/* NodeProto -------------------------------------------------------------- */

static lfr_status parse_node(pctx *c, pb r) {
    lfr_status st = enter(c);
    if (st != LFR_OK) return st;
    lfr_onnx_model *m = c->m;
    st = grow(c, (void **)&m->nodes, &m->cap_nodes, m->n_nodes + 1,
              sizeof *m->nodes, LFR_MAX_CONVERT_NODES, "nodes");
    if (st != LFR_OK) return st;
    lfr_onnx_node *n = &m->nodes[m->n_nodes++];
    memset(n, 0, sizeof *n);
    n->attr0 = m->n_attrs;
    while (r.p < r.end) {
        uint32_t f, wt;
        if (pb_key(&r, &f, &wt) != 0) return corrupt(c, "bad key in node");
        st = LFR_OK;
        if (f == 1 || f == 2) {
            int32_t *cnt = f == 1 ? &n->n_in : &n->n_out;
            if (*cnt >= LFR_MAX_CONVERT_NODE_IO)
                return lfr_err_set(c->err, LFR_ERR_TOO_LARGE,
                                   "ONNX: a node has more than %d %s",
                                   LFR_MAX_CONVERT_NODE_IO,
                                   f == 1 ? "inputs" : "outputs");
            lfr_cv_str s;
            st = rd_string(c, &r, wt, &s);
            if (st == LFR_OK) (f == 1 ? n->in : n->out)[(*cnt)++] = s;
        } else if (f == 3) {
            st = rd_string(c, &r, wt, &n->name);
        } else if (f == 4) {
            st = rd_string(c, &r, wt, &n->op_type);
        } else if (f == 7) {
            st = rd_string(c, &r, wt, &n->domain);
        } else if (f == 5) {
            pb sub;
            if (wt != PB_LEN || pb_bytes(&r, &sub) != 0)
                return corrupt(c, "bad attribute");
            if (n->n_attrs >= LFR_MAX_CONVERT_ATTRS)
                return lfr_err_set(c->err, LFR_ERR_TOO_LARGE,
                                   "ONNX: a node has more than %d attributes",
                                   LFR_MAX_CONVERT_ATTRS);
            st = grow(c, (void **)&m->attrs, &m->cap_attrs, m->n_attrs + 1,
                      sizeof *m->attrs, LFR_MAX_CONVERT_TENSORS, "attributes");
            if (st == LFR_OK) {
                lfr_onnx_attr a;
                st = parse_attr(c, sub, &a);
                if (st == LFR_OK) {
                    m->attrs[m->n_attrs++] = a;
                    n->n_attrs++;
                }
            }
        } else if (pb_skip(&r, wt) != 0) {
            return corrupt(c, "bad field in node");
        }
        if (st != LFR_OK) return st;
    }
    c->depth--;
    return LFR_OK;
}

/* ValueInfoProto (name and tensor shape) --------------------------------- */

static lfr_status parse_shape(pctx *c, pb r, lfr_onnx_value_info *v) {
    lfr_status st = enter(c);
    if (st != LFR_OK) return st;
    v->ndim = 0;
    while (r.p < r.end) {
        uint32_t f, wt;
        if (pb_key(&r, &f, &wt) != 0) return corrupt(c, "bad key in shape");
        if (f != 1) {
            if (pb_skip(&r, wt) != 0) return corrupt(c, "bad field in shape");
            continue;
        }
        pb d;
        if (wt != PB_LEN || pb_bytes(&r, &d) != 0) return corrupt(c, "bad dim");
        if (v->ndim >= LFR_MAX_CONVERT_DIMS)
            return lfr_err_set(c->err, LFR_ERR_UNSUPPORTED,
                               "ONNX: an input has more than %d dimensions",
                               LFR_MAX_CONVERT_DIMS);
        int64_t val = -1;
        st = enter(c);
        if (st != LFR_OK) return st;
        while (d.p < d.end) {
            uint32_t df, dwt;
            if (pb_key(&d, &df, &dwt) != 0) return corrupt(c, "bad key in dim");
            if (df == 1) {
                st = rd_int(c, &d, dwt, &val);
                if (st != LFR_OK) return st;
            } else if (pb_skip(&d, dwt) != 0) {
                return corrupt(c, "bad field in dim");
            }
        }
        c->depth--;
        v->dims[v->ndim++] = val < 0 ? -1 : val;
    }
    c->depth--;
    return LFR_OK;
}

static lfr_status parse_value_info(pctx *c, pb r, lfr_onnx_value_info *v) {
    lfr_status st = enter(c);
    if (st != LFR_OK) return st;
    memset(v, 0, sizeof *v);
    v->ndim = -1;
    while (r.p < r.end) {
        uint32_t f, wt;
        if (pb_key(&r, &f, &wt) != 0) return corrupt(c, "bad key in value info");
        st = LFR_OK;
        if (f == 1) {
            st = rd_string(c, &r, wt, &v->name);
        } else if (f == 2) {     /* TypeProto */
            pb ty;
            if (wt != PB_LEN || pb_bytes(&r, &ty) != 0) return corrupt(c, "bad type");
            if ((st = enter(c)) != LFR_OK) return st;
            while (ty.p < ty.end) {
                uint32_t tf, twt;
                if (pb_key(&ty, &tf, &twt) != 0) return corrupt(c, "bad key in type");
                if (tf != 1) {
                    if (pb_skip(&ty, twt) != 0) return corrupt(c, "bad field in type");
                    continue;
                }
                pb tt;   /* TypeProto.Tensor */
                if (twt != PB_LEN || pb_bytes(&ty, &tt) != 0)
                    return corrupt(c, "bad tensor type");
                if ((st = enter(c)) != LFR_OK) return st;
                while (tt.p < tt.end) {
                    uint32_t ef, ewt;
                    if (pb_key(&tt, &ef, &ewt) != 0)
                        return corrupt(c, "bad key in tensor type");
                    if (ef == 1) {
                        int64_t et;
                        if ((st = rd_int(c, &tt, ewt, &et)) != LFR_OK) return st;
                        v->elem_type = (int32_t)(et > 0 && et < 1000 ? et : 0);
                    } else if (ef == 2) {
                        pb sh;
                        if (ewt != PB_LEN || pb_bytes(&tt, &sh) != 0)
                            return corrupt(c, "bad shape");
                        if ((st = parse_shape(c, sh, v)) != LFR_OK) return st;
                    } else if (pb_skip(&tt, ewt) != 0) {
                        return corrupt(c, "bad field in tensor type");
                    }
                }
                c->depth--;
            }
            c->depth--;
        } else if (pb_skip(&r, wt) != 0) {
            return corrupt(c, "bad field in value info");
        }
        if (st != LFR_OK) return st;
    }
    c->depth--;
    return LFR_OK;
}

/* GraphProto / ModelProto ------------------------------------------------ */

static lfr_status parse_graph(pctx *c, pb r) {
    lfr_status st = enter(c);
    if (st != LFR_OK) return st;
    lfr_onnx_model *m = c->m;
    while (r.p < r.end) {
        uint32_t f, wt;
        if (pb_key(&r, &f, &wt) != 0) return corrupt(c, "bad key in graph");
        pb sub;
        if (f == 1 || f == 5 || f == 11 || f == 12) {
            if (wt != PB_LEN || pb_bytes(&r, &sub) != 0)
                return corrupt(c, "bad graph field");
        } else {
            if (pb_skip(&r, wt) != 0) return corrupt(c, "bad field in graph");
            continue;
        }
        if (f == 1) {
            st = parse_node(c, sub);
        } else if (f == 5) {
            int32_t idx;
            st = parse_tensor(c, sub, &idx);
            if (st == LFR_OK) m->is_initializer[idx] = 1;
        } else {
            lfr_onnx_value_info **arr = f == 11 ? &m->inputs : &m->outputs;
            int32_t *n = f == 11 ? &m->n_inputs : &m->n_outputs;
            int32_t *cap = f == 11 ? &m->cap_inputs : &m->cap_outputs;
            st = grow(c, (void **)arr, cap, *n + 1, sizeof **arr,
                      LFR_MAX_CONVERT_TENSORS, "graph inputs/outputs");
            if (st == LFR_OK) {
                st = parse_value_info(c, sub, &(*arr)[*n]);
                if (st == LFR_OK) (*n)++;
            }
        }
        if (st != LFR_OK) return st;
    }
    c->depth--;
    return LFR_OK;
}

lfr_status lfr_onnx_parse(const uint8_t *buf, size_t len, lfr_onnx_model *m,
                          lfr_err *err) {
    memset(m, 0, sizeof *m);
    if (!buf && len) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "ONNX: no buffer");
    if (len > LFR_MAX_SOURCE_MODEL_BYTES)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE,
                           "ONNX: file over %u bytes", LFR_MAX_SOURCE_MODEL_BYTES);
    /* is_initializer is sized once for the most tensors a model may have. */
    m->is_initializer = lfr_calloc(LFR_MAX_CONVERT_TENSORS, 1);
    if (!m->is_initializer)
        return lfr_err_set(err, LFR_ERR_NOMEM, "ONNX: out of memory");
    pctx c = {m, err, 0};
    pb r = {buf, buf + len};
    int have_graph = 0;
    lfr_status st = LFR_OK;
    while (r.p < r.end && st == LFR_OK) {
        uint32_t f, wt;
        if (pb_key(&r, &f, &wt) != 0) { st = corrupt(&c, "bad key in model"); break; }
        if (f == 1) {
            st = rd_int(&c, &r, wt, &m->ir_version);
        } else if (f == 8) {     /* OperatorSetIdProto: domain 1, version 2 */
            pb os;
            if (wt != PB_LEN || pb_bytes(&r, &os) != 0) { st = corrupt(&c, "bad opset"); break; }
            lfr_cv_str dom = {"", 0};
            int64_t ver = 0;
            while (os.p < os.end && st == LFR_OK) {
                uint32_t of, owt;
                if (pb_key(&os, &of, &owt) != 0) { st = corrupt(&c, "bad key in opset"); break; }
                if (of == 1) st = rd_string(&c, &os, owt, &dom);
                else if (of == 2) st = rd_int(&c, &os, owt, &ver);
                else if (pb_skip(&os, owt) != 0) st = corrupt(&c, "bad field in opset");
            }
            if (st == LFR_OK && (dom.len == 0 || lfr_cv_str_eq(dom, "ai.onnx")))
                m->opset = ver;
        } else if (f == 7) {
            pb g;
            if (wt != PB_LEN || pb_bytes(&r, &g) != 0) { st = corrupt(&c, "bad graph"); break; }
            if (have_graph) { st = corrupt(&c, "two graphs in one model"); break; }
            have_graph = 1;
            st = parse_graph(&c, g);
        } else if (pb_skip(&r, wt) != 0) {
            st = corrupt(&c, "bad field in model");
        }
    }
    if (st == LFR_OK && !have_graph)
        st = lfr_err_set(err, LFR_ERR_CORRUPT, "ONNX: the model has no graph");
    if (st != LFR_OK) lfr_onnx_free(m);
    return st;
}

void lfr_onnx_free(lfr_onnx_model *m) {
    if (!m) return;
    for (int32_t i = 0; i < m->n_tensors; i++) {
        lfr_free(m->tensors[i].f);
        lfr_free(m->tensors[i].i);
    }
    lfr_free(m->tensors);
    lfr_free(m->nodes);
    lfr_free(m->attrs);
    lfr_free(m->inputs);
    lfr_free(m->outputs);
    lfr_free(m->is_initializer);
    memset(m, 0, sizeof *m);
}

const lfr_onnx_attr *lfr_onnx_attr_find(const lfr_onnx_model *m,
                                        const lfr_onnx_node *n,
                                        const char *name) {
    for (int32_t k = 0; k < n->n_attrs; k++) {
        const lfr_onnx_attr *a = &m->attrs[n->attr0 + k];
        if (lfr_cv_str_eq(a->name, name)) return a;
    }
    return NULL;
}
