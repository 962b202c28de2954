/*
 * match.c - watchlist snapshots, exact 1:N search (portable C and
 * AVX2+FMA), and the calibrated meaning of scores.  See match.h and
 * docs/likeness.md.
 */
#include "match.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "calib_table.h"
#include "calib_groups.h"
#include "calib_table_fused704.h"
#include "calib_groups_fused704.h"
#include "calib_table_fused704v2.h"
#include "calib_groups_fused704v2.h"
#include "calib_table_fused704v3.h"
#include "calib_groups_fused704v3.h"
#include "calib_entry_mfn192.h"
#include "calib_entry_fused704.h"
#include "calib_entry_fused704v2.h"
#include "calib_entry_fused704v3.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define MATCH_HAVE_AVX2 1
#include <immintrin.h>
#else
#define MATCH_HAVE_AVX2 0
#endif

/* Rows are padded to a multiple of 16 floats: every row starts on a 64-byte
 * boundary and the kernels need no tail loop (the padding is zero in both
 * the template and the probe copy, so it adds exactly 0). */
#define ROW_ALIGN_FLOATS 16
/* Rows scored per kernel call; the scores of one chunk live on the stack. */
#define CHUNK_ROWS 256
/* |norm^2 - 1| accepted for a template or probe. */
#define UNIT_TOL 1e-3f
/* Int8 rows are padded to a multiple of 64 values (an int4 row is then a
 * whole number of 32-byte AVX2 registers, 64 codes each); the padding holds
 * the code of 0 (128, 8 below), which the probe's zero padding turns into 0. */
#define ROW_ALIGN_BYTES 64
/* Template codes: q in -127..127 (symmetric), stored as q + 128 (0..255) so
 * that the kernels multiply unsigned template bytes by signed probe bytes
 * (vpmaddubsw, vpdpbusd). */
#define TMPL_LEVELS 127
#define TMPL_OFFSET 128
/* Probe codes: -64..64.  vpmaddubsw adds two products u8 * s8 into a
 * saturating int16: 2 * 255 * 64 = 32640 fits, 2 * 255 * 65 does not.  The
 * same codes on every kernel, so every kernel computes the same integers. */
#define PROBE_LEVELS 64
/* Int4 template codes: q in -7..7, stored as q + 8 (1..15), two a byte:
 * byte j of 32-byte block b holds value 64b + j in its low nibble and
 * 64b + 32 + j in its high nibble. */
#define TMPL4_LEVELS 7
#define TMPL4_OFFSET 8
/* Largest norm of a stored template or probe: sqrt(1 + UNIT_TOL) < 1.0005. */
#define NORM_MAX 1.0005

struct lfr_match_snapshot {
    atomic_long refs;
    int dim;
    int frozen;
    size_t stride;        /* floats per row */
    size_t cap, n;        /* templates: room for, held */
    float *rows;          /* cap * stride floats, 64-byte aligned */
    size_t stride8;       /* bytes per int8 row */
    uint8_t *rows8;       /* cap * stride8 template codes (q + 128), made at freeze */
    float *q_scale;       /* per row: the template is ~ q_scale * q */
    float *q_err;         /* per row: |template - q_scale * q| (rounded up) */
    uint8_t *rows4;       /* cap * stride8 / 2 bytes of int4 codes, made at freeze */
    float *q4_scale, *q4_err; /* the same for the int4 codes */
    int64_t *row_entry;   /* entry id per row; freed at freeze */
    int32_t *row_image;   /* image index per row (-1: an entry template) */
    uint8_t *row_flags;   /* ROW_* per row */
    size_t n_alert;       /* rows with ROW_ALERTS: what FPIR counts */
    size_t n_entries;     /* after freeze */
    int64_t *entry_id;    /* [n_entries] */
    size_t *entry_first;  /* [n_entries + 1]: rows of entry e */
};

/* Row flags: ROW_ALERTS, the row's score is (part of) its entry's score;
 * without it the row is an image kept only to be shown (the entry's
 * best-scoring image).  ROW_ENTRY: the row is an entry template (no image). */
#define ROW_ALERTS 1u
#define ROW_ENTRY 2u

/* Snapshot ---------------------------------------------------------------- */

static void snapshot_free(lfr_match_snapshot *s) {
    lfr_free_aligned(s->rows);
    lfr_free_aligned(s->rows8);
    lfr_free(s->q_scale);
    lfr_free(s->q_err);
    lfr_free_aligned(s->rows4);
    lfr_free(s->q4_scale);
    lfr_free(s->q4_err);
    lfr_free(s->row_entry);
    lfr_free(s->row_image);
    lfr_free(s->row_flags);
    lfr_free(s->entry_id);
    lfr_free(s->entry_first);
    lfr_free(s);
}

/* new without the watchlist limit (entry templates add rows beyond it). */
static lfr_status snapshot_alloc(int dim, size_t capacity, lfr_match_snapshot **out) {
    lfr_match_snapshot *s = lfr_calloc(1, sizeof *s);
    if (!s) return LFR_ERR_NOMEM;
    atomic_init(&s->refs, 1);
    s->dim = dim;
    s->stride = ((size_t)dim + ROW_ALIGN_FLOATS - 1) / ROW_ALIGN_FLOATS * ROW_ALIGN_FLOATS;
    s->cap = capacity;
    size_t bytes;
    /* Sizes are bounded by the limits above; checked anyway. */
    if (lfr_mul_size(capacity, s->stride * sizeof(float), &bytes) != 0) {
        lfr_free(s);
        return LFR_ERR_TOO_LARGE;
    }
    s->rows = lfr_malloc_aligned(bytes);
    s->stride8 = ((size_t)dim + ROW_ALIGN_BYTES - 1) / ROW_ALIGN_BYTES * ROW_ALIGN_BYTES;
    size_t bytes8 = 0;
    if (lfr_mul_size(capacity, s->stride8, &bytes8) != 0) {
        snapshot_free(s);
        return LFR_ERR_TOO_LARGE;
    }
    s->rows8 = lfr_malloc_aligned(bytes8 ? bytes8 : 64);
    s->q_scale = lfr_malloc(sizeof(float) * (capacity ? capacity : 1));
    s->q_err = lfr_malloc(sizeof(float) * (capacity ? capacity : 1));
    s->rows4 = lfr_malloc_aligned(bytes8 ? bytes8 / 2 : 64);
    s->q4_scale = lfr_malloc(sizeof(float) * (capacity ? capacity : 1));
    s->q4_err = lfr_malloc(sizeof(float) * (capacity ? capacity : 1));
    s->row_entry = lfr_malloc(sizeof(int64_t) * (capacity ? capacity : 1));
    s->row_image = lfr_malloc(sizeof(int32_t) * (capacity ? capacity : 1));
    s->row_flags = lfr_malloc(capacity ? capacity : 1);
    if (!s->rows || !s->rows8 || !s->q_scale || !s->q_err || !s->rows4 || !s->q4_scale ||
        !s->q4_err || !s->row_entry || !s->row_image || !s->row_flags) {
        snapshot_free(s);
        return LFR_ERR_NOMEM;
    }
    *out = s;
    return LFR_OK;
}

lfr_status lfr_match_snapshot_new(int dim, size_t capacity, lfr_match_snapshot **out) {
    if (!out) return LFR_ERR_INVALID_ARG;
    *out = NULL;
    if (dim < 1) return LFR_ERR_INVALID_ARG;
    if (dim > LFR_MAX_MATCH_DIM || capacity > LFR_MAX_WATCHLIST_TEMPLATES)
        return LFR_ERR_TOO_LARGE;
    return snapshot_alloc(dim, capacity, out);
}

/* 1 when v (n floats) is finite and of unit length. */
static int is_unit(const float *v, int n) {
    double ss = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(v[i])) return 0;
        ss += (double)v[i] * v[i];
    }
    return fabs(ss - 1.0) <= UNIT_TOL;
}

static lfr_status snapshot_add_row(lfr_match_snapshot *s, int64_t entry_id,
                                   int32_t image_index, const float *tmpl, unsigned flags) {
    if (!s || !tmpl) return LFR_ERR_INVALID_ARG;
    if (s->frozen) return LFR_ERR_STATE;
    if (s->n >= s->cap) return LFR_ERR_TOO_LARGE;
    if (!is_unit(tmpl, s->dim)) return LFR_ERR_INVALID_ARG;
    float *row = s->rows + s->n * s->stride;
    memcpy(row, tmpl, sizeof(float) * (size_t)s->dim);
    memset(row + s->dim, 0, sizeof(float) * (s->stride - (size_t)s->dim));
    s->row_entry[s->n] = entry_id;
    s->row_image[s->n] = image_index;
    s->row_flags[s->n] = (uint8_t)flags;
    s->n_alert += (flags & ROW_ALERTS) != 0;
    s->n++;
    return LFR_OK;
}

lfr_status lfr_match_snapshot_add(lfr_match_snapshot *s, int64_t entry_id,
                                  int32_t image_index, const float *tmpl) {
    return snapshot_add_row(s, entry_id, image_index, tmpl, ROW_ALERTS);
}

/* A float rounded up to the next float (an upper bound stays one). */
static float up_f(double x) {
    float f = (float)x;
    return (double)f < x ? nextafterf(f, INFINITY) : f;
}

/* The int8 copy of row r: scale = max|t| / 127, q = round(t / scale), and
 * the norm of the residual t - scale * q (exact in double: scale is a float
 * and q has 8 bits), rounded up. */
static void quantise_row(lfr_match_snapshot *s, size_t r) {
    const float *t = s->rows + r * s->stride;
    uint8_t *q = s->rows8 + r * s->stride8;
    float m = 0;
    for (int i = 0; i < s->dim; i++) m = fabsf(t[i]) > m ? fabsf(t[i]) : m;
    float scale = m > 0 ? m / TMPL_LEVELS : 1.0f;
    double ee = 0;
    for (int i = 0; i < s->dim; i++) {
        long c = lrintf(t[i] / scale);
        c = c > TMPL_LEVELS ? TMPL_LEVELS : c < -TMPL_LEVELS ? -TMPL_LEVELS : c;
        q[i] = (uint8_t)(c + TMPL_OFFSET);
        double e = (double)t[i] - (double)scale * (double)c;
        ee += e * e;
    }
    memset(q + s->dim, TMPL_OFFSET, s->stride8 - (size_t)s->dim);
    s->q_scale[r] = scale;
    s->q_err[r] = up_f(sqrt(ee));
    /* int4: scale = max|t| / 7 */
    uint8_t *q4 = s->rows4 + r * (s->stride8 / 2);
    memset(q4, TMPL4_OFFSET * 0x11, s->stride8 / 2);
    float scale4 = m > 0 ? m / TMPL4_LEVELS : 1.0f;
    ee = 0;
    for (int i = 0; i < s->dim; i++) {
        long c = lrintf(t[i] / scale4);
        c = c > TMPL4_LEVELS ? TMPL4_LEVELS : c < -TMPL4_LEVELS ? -TMPL4_LEVELS : c;
        size_t b = (size_t)i / 64, j = (size_t)i % 64;
        uint8_t *byte = q4 + b * 32 + (j % 32);
        unsigned code = (unsigned)(c + TMPL4_OFFSET);
        *byte = j < 32 ? (uint8_t)((*byte & 0xF0u) | code) : (uint8_t)((*byte & 0x0Fu) | (code << 4));
        double e = (double)t[i] - (double)scale4 * (double)c;
        ee += e * e;
    }
    s->q4_scale[r] = scale4;
    s->q4_err[r] = up_f(sqrt(ee));
}

typedef struct {
    int64_t id;
    size_t row;
} id_row;

static int cmp_id_row(const void *a, const void *b) {
    const id_row *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

lfr_status lfr_match_snapshot_freeze(lfr_match_snapshot *s) {
    if (!s) return LFR_ERR_INVALID_ARG;
    if (s->frozen) return LFR_ERR_STATE;
    size_t n = s->n;
    /* Everything that can fail first, so that a failure changes nothing. */
    id_row *ord = lfr_malloc(sizeof *ord * (n ? n : 1));
    float *tmp = lfr_malloc(sizeof(float) * s->stride);
    if (!ord || !tmp) {
        lfr_free(ord);
        lfr_free(tmp);
        return LFR_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) ord[i] = (id_row){s->row_entry[i], i};
    qsort(ord, n, sizeof *ord, cmp_id_row);
    size_t ne = 0;
    for (size_t i = 0; i < n; i++) ne += i == 0 || ord[i].id != ord[i - 1].id;
    int64_t *eid = lfr_malloc(sizeof(int64_t) * (ne ? ne : 1));
    size_t *efirst = lfr_malloc(sizeof(size_t) * (ne + 1));
    if (!eid || !efirst) {
        lfr_free(ord);
        lfr_free(tmp);
        lfr_free(eid);
        lfr_free(efirst);
        return LFR_ERR_NOMEM;
    }
    for (size_t i = 0, e = 0; i < n; i++)
        if (i == 0 || ord[i].id != ord[i - 1].id) {
            eid[e] = ord[i].id;
            efirst[e++] = i;
        }
    efirst[ne] = n;
    /* Permute rows in place, cycle by cycle: new row j is old row ord[j].row. */
    for (size_t i = 0; i < n; i++) {
        if (ord[i].row == i) continue;
        memcpy(tmp, s->rows + i * s->stride, sizeof(float) * s->stride);
        int32_t tmp_img = s->row_image[i];
        uint8_t tmp_flags = s->row_flags[i];
        size_t j = i;
        for (;;) {
            size_t k = ord[j].row;
            ord[j].row = j;
            if (k == i) {
                memcpy(s->rows + j * s->stride, tmp, sizeof(float) * s->stride);
                s->row_image[j] = tmp_img;
                s->row_flags[j] = tmp_flags;
                break;
            }
            memcpy(s->rows + j * s->stride, s->rows + k * s->stride, sizeof(float) * s->stride);
            s->row_image[j] = s->row_image[k];
            s->row_flags[j] = s->row_flags[k];
            j = k;
        }
    }
    lfr_free(ord);
    lfr_free(tmp);
    for (size_t r = 0; r < n; r++) quantise_row(s, r);
    lfr_free(s->row_entry);
    s->row_entry = NULL;
    s->entry_id = eid;
    s->entry_first = efirst;
    s->n_entries = ne;
    s->frozen = 1;
    return LFR_OK;
}

lfr_status lfr_match_snapshot_build(int dim, size_t count, const float *templates,
                                    const int64_t *entry_ids, const int32_t *image_indices,
                                    lfr_match_snapshot **out) {
    if (!out) return LFR_ERR_INVALID_ARG;
    *out = NULL;
    if (count && (!templates || !entry_ids)) return LFR_ERR_INVALID_ARG;
    if (count > LFR_MAX_WATCHLIST_TEMPLATES) return LFR_ERR_TOO_LARGE;
    lfr_match_snapshot *s;
    lfr_status st = lfr_match_snapshot_new(dim, count, &s);
    for (size_t i = 0; st == LFR_OK && i < count; i++)
        st = lfr_match_snapshot_add(s, entry_ids[i], image_indices ? image_indices[i] : (int32_t)i,
                                    templates + i * (size_t)dim);
    if (st == LFR_OK) st = lfr_match_snapshot_freeze(s);
    if (st != LFR_OK) {
        lfr_match_snapshot_unref(s);
        return st;
    }
    *out = s;
    return LFR_OK;
}

/* Entry templates ----------------------------------------------------------- */

static const char *const entry_template_name[LFR_MATCH_ENTRY_TEMPLATE_COUNT] = {
#define ET_NAME(id, name, what) name,
    LFR_MATCH_ENTRY_TEMPLATE_LIST(ET_NAME)
#undef ET_NAME
};

const char *lfr_match_entry_template_name(lfr_match_entry_template k) {
    return (unsigned)k < LFR_MATCH_ENTRY_TEMPLATE_COUNT ? entry_template_name[k] : "unknown";
}

/* The rows of count templates, ordered by entry (stable); NULL on NOMEM. */
static id_row *order_by_entry(size_t count, const int64_t *entry_ids) {
    id_row *ord = lfr_malloc(sizeof *ord * (count ? count : 1));
    if (!ord) return NULL;
    for (size_t i = 0; i < count; i++) ord[i] = (id_row){entry_ids[i], i};
    qsort(ord, count, sizeof *ord, cmp_id_row);
    return ord;
}

lfr_status lfr_match_searched_count(size_t count, const int64_t *entry_ids,
                                    lfr_match_entry_template kind, size_t *out) {
    if (!out || (count && !entry_ids) || (unsigned)kind >= LFR_MATCH_ENTRY_TEMPLATE_COUNT)
        return LFR_ERR_INVALID_ARG;
    *out = count;
    if (kind == LFR_MATCH_ENTRY_BEST || !count) return LFR_OK;
    id_row *ord = order_by_entry(count, entry_ids);
    if (!ord) return LFR_ERR_NOMEM;
    size_t n = 0;
    for (size_t a = 0, b; a < count; a = b) {
        for (b = a + 1; b < count && ord[b].id == ord[a].id; b++) {}
        /* one image: itself; several: the mean, and the images too (union) */
        n += b - a == 1 ? 1 : kind == LFR_MATCH_ENTRY_UNION ? b - a + 1 : 1;
    }
    lfr_free(ord);
    *out = n;
    return LFR_OK;
}

lfr_status lfr_match_snapshot_build_entries(int dim, size_t count, const float *templates,
                                            const int64_t *entry_ids,
                                            const int32_t *image_indices,
                                            lfr_match_entry_template kind,
                                            lfr_match_snapshot **out) {
    if (!out) return LFR_ERR_INVALID_ARG;
    *out = NULL;
    if ((unsigned)kind >= LFR_MATCH_ENTRY_TEMPLATE_COUNT) return LFR_ERR_INVALID_ARG;
    if (kind == LFR_MATCH_ENTRY_BEST)
        return lfr_match_snapshot_build(dim, count, templates, entry_ids, image_indices, out);
    if (count && (!templates || !entry_ids)) return LFR_ERR_INVALID_ARG;
    if (dim < 1) return LFR_ERR_INVALID_ARG;
    if (count > LFR_MAX_WATCHLIST_TEMPLATES || dim > LFR_MAX_MATCH_DIM) return LFR_ERR_TOO_LARGE;
    id_row *ord = order_by_entry(count, entry_ids);
    double *acc = lfr_malloc(sizeof(double) * (size_t)dim);
    float *mean = lfr_malloc(sizeof(float) * (size_t)dim);
    lfr_match_snapshot *s = NULL;
    lfr_status st = ord && acc && mean ? LFR_OK : LFR_ERR_NOMEM;
    size_t extra = 0; /* entries with several images: one more row each */
    for (size_t a = 0, b; st == LFR_OK && a < count; a = b) {
        for (b = a + 1; b < count && ord[b].id == ord[a].id; b++) {}
        extra += b - a > 1;
    }
    if (st == LFR_OK) st = snapshot_alloc(dim, count + extra, &s);
    for (size_t a = 0, b; st == LFR_OK && a < count; a = b) {
        for (b = a + 1; b < count && ord[b].id == ord[a].id; b++) {}
        int several = b - a > 1;
        double nn = 0;
        if (several) {
            for (int e = 0; e < dim; e++) acc[e] = 0;
            for (size_t i = a; i < b; i++) {
                const float *t = templates + ord[i].row * (size_t)dim;
                for (int e = 0; e < dim; e++) acc[e] += t[e];
            }
            for (int e = 0; e < dim; e++) nn += acc[e] * acc[e];
            /* images pointing opposite ways have no mean direction */
            if (!(nn > 1e-6)) several = 0;
        }
        unsigned img_flags = several && kind == LFR_MATCH_ENTRY_MEAN ? 0u : ROW_ALERTS;
        for (size_t i = a; st == LFR_OK && i < b; i++) {
            size_t r = ord[i].row;
            st = snapshot_add_row(s, ord[i].id, image_indices ? image_indices[r] : (int32_t)r,
                                  templates + r * (size_t)dim, img_flags);
        }
        if (st == LFR_OK && several) {
            double inv = 1.0 / sqrt(nn);
            for (int e = 0; e < dim; e++) mean[e] = (float)(acc[e] * inv);
            st = snapshot_add_row(s, ord[a].id, -1, mean, ROW_ALERTS | ROW_ENTRY);
        }
    }
    if (st == LFR_OK) st = lfr_match_snapshot_freeze(s);
    lfr_free(ord);
    lfr_free(acc);
    lfr_free(mean);
    if (st != LFR_OK) {
        lfr_match_snapshot_unref(s);
        return st;
    }
    *out = s;
    return LFR_OK;
}

lfr_match_snapshot *lfr_match_snapshot_ref(lfr_match_snapshot *s) {
    if (s) atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void lfr_match_snapshot_unref(lfr_match_snapshot *s) {
    if (!s) return;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) snapshot_free(s);
}

int lfr_match_snapshot_dim(const lfr_match_snapshot *s) { return s ? s->dim : 0; }
size_t lfr_match_snapshot_templates(const lfr_match_snapshot *s) { return s ? s->n : 0; }
size_t lfr_match_snapshot_entries(const lfr_match_snapshot *s) { return s ? s->n_entries : 0; }
size_t lfr_match_snapshot_searched(const lfr_match_snapshot *s) { return s ? s->n_alert : 0; }
int lfr_match_snapshot_frozen(const lfr_match_snapshot *s) { return s ? s->frozen : 0; }

/* Kernels ------------------------------------------------------------------
 * out[r * np + p] = dot(row r, probe p) for rows [0, nr), probes [0, np);
 * rows and probes are `stride` floats apart, 64-byte aligned, zero-padded. */

static void scores_scalar(const float *rows, size_t stride, size_t nr, const float *q, int np,
                          float *out) {
    for (size_t r = 0; r < nr; r++) {
        const float *t = rows + r * stride;
        for (int p = 0; p < np; p++) {
            const float *v = q + (size_t)p * stride;
            /* Eight partial sums (the lanes of the AVX2 kernel), summed in a
             * fixed tree: same order everywhere, so results are
             * reproducible; they differ from AVX2 only by FMA rounding. */
            float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            for (size_t d = 0; d < stride; d += 8)
                for (int l = 0; l < 8; l++) a[l] += t[d + l] * v[d + l];
            out[r * (size_t)np + (size_t)p] =
                ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
        }
    }
}

/* Int8 kernels: out[r * np + p] = sum over the row of (q_t + 128) * q_p, for
 * template codes `rows` (stride8 bytes apart) and probe codes q (stride8
 * apart).  Integer arithmetic: every kernel gives the same numbers. */
static void dots8_scalar(const uint8_t *rows, size_t stride8, size_t nr, const int8_t *q,
                         int np, int32_t *out) {
    for (size_t r = 0; r < nr; r++) {
        const uint8_t *t = rows + r * stride8;
        for (int p = 0; p < np; p++) {
            const int8_t *v = q + (size_t)p * stride8;
            int32_t a = 0;
            for (size_t d = 0; d < stride8; d++) a += (int32_t)t[d] * v[d];
            out[r * (size_t)np + (size_t)p] = a;
        }
    }
}

/* Int4: rows of stride8 / 2 bytes (layout above), probe codes as for int8;
 * out = sum of (q_t + 8) * q_p. */
static void dots4_scalar(const uint8_t *rows, size_t stride8, size_t nr, const int8_t *q,
                         int np, int32_t *out) {
    for (size_t r = 0; r < nr; r++) {
        const uint8_t *t = rows + r * (stride8 / 2);
        for (int p = 0; p < np; p++) {
            const int8_t *v = q + (size_t)p * stride8;
            int32_t a = 0;
            for (size_t b = 0; b < stride8 / 64; b++)
                for (size_t j = 0; j < 32; j++) {
                    unsigned x = t[b * 32 + j];
                    a += (int32_t)(x & 15u) * v[b * 64 + j] + (int32_t)(x >> 4) * v[b * 64 + 32 + j];
                }
            out[r * (size_t)np + (size_t)p] = a;
        }
    }
}

#if MATCH_HAVE_AVX2
#define AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline
#define PREFETCH_ROWS 16

/* Horizontal sums, all in the order ((x0+x1)+(x2+x3)) + ((x4+x5)+(x6+x7))
 * of the lanes x0..x7, the same as the scalar path: a probe gets the same
 * bits alone or in a batch. */
AVX2_INLINE float hsum1(__m256 v) {
    __m128 h = _mm_hadd_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_hadd_ps(h, h);
    return _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)));
}

/* The horizontal sums of a[0..7], as one vector. */
AVX2_INLINE __m256 hsum8(const __m256 *a) {
    __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
    __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
    __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
    return _mm256_add_ps(_mm256_permute2f128_ps(h0123, h4567, 0x20),
                         _mm256_permute2f128_ps(h0123, h4567, 0x31));
}

/* R rows x P probes (R * P <= 8 accumulators; R and P are constants after
 * inlining, so the accumulators live in registers). */
AVX2_INLINE void block_avx2(const float *rows, size_t stride, const float *q, int R, int P,
                            float *out) {
    __m256 acc[8];
    for (int i = 0; i < 8; i++) acc[i] = _mm256_setzero_ps();
    for (size_t d = 0; d < stride; d += 8) {
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            __m256 t = _mm256_load_ps(rows + (size_t)r * stride + d);
#pragma GCC unroll 8
            for (int p = 0; p < P; p++)
                acc[r * P + p] =
                    _mm256_fmadd_ps(t, _mm256_load_ps(q + (size_t)p * stride + d), acc[r * P + p]);
        }
    }
    if (R * P == 8) {
        _mm256_storeu_ps(out, hsum8(acc));
    } else {
#pragma GCC unroll 8
        for (int i = 0; i < R * P; i++) out[i] = hsum1(acc[i]);
    }
}

AVX2_INLINE void run_avx2(const float *rows, size_t stride, size_t nr, const float *q, int R,
                          int P, float *out) {
    size_t r = 0;
    for (; r + (size_t)R <= nr; r += (size_t)R) {
        /* Software prefetch PREFETCH_ROWS ahead: on big watchlists the scan
         * is memory-bound, and the hardware prefetcher alone keeps too few
         * lines in flight for R interleaved rows. */
        if (r + PREFETCH_ROWS + (size_t)R <= nr) {
            const char *pf = (const char *)(rows + (r + PREFETCH_ROWS) * stride);
            for (size_t b = 0; b < (size_t)R * stride * sizeof(float); b += 64)
                _mm_prefetch(pf + b, _MM_HINT_T0);
        }
        block_avx2(rows + r * stride, stride, q, R, P, out + r * (size_t)P);
    }
    for (; r < nr; r++) block_avx2(rows + r * stride, stride, q, 1, P, out + r * (size_t)P);
}

__attribute__((target("avx2,fma"))) static void scores_avx2(const float *rows, size_t stride,
                                                            size_t nr, const float *q, int np,
                                                            float *out) {
    switch (np) {
    case 1: run_avx2(rows, stride, nr, q, 8, 1, out); break;
    case 2: run_avx2(rows, stride, nr, q, 4, 2, out); break;
    case 3: run_avx2(rows, stride, nr, q, 2, 3, out); break;
    case 4: run_avx2(rows, stride, nr, q, 2, 4, out); break;
    case 5: run_avx2(rows, stride, nr, q, 1, 5, out); break;
    case 6: run_avx2(rows, stride, nr, q, 1, 6, out); break;
    case 7: run_avx2(rows, stride, nr, q, 1, 7, out); break;
    default: run_avx2(rows, stride, nr, q, 1, 8, out); break;
    }
}

/* The int8 kernels, AVX2 (vpmaddubsw + vpmaddwd) and VNNI (vpdpbusd on
 * 256-bit registers), from one template: R rows x P probes, R * P <= 8
 * accumulators of 8 int32 lanes. */
AVX2_INLINE int32_t hsum_i32(__m256i v) {
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    return _mm_cvtsi128_si32(h);
}

#define DOTS8_KERNEL(NAME, TARGET, STEP)                                                    \
    __attribute__((target(TARGET), always_inline)) static inline void NAME##_block(         \
        const uint8_t *rows, size_t stride8, const int8_t *q, int R, int P, int32_t *out) { \
        __m256i acc[8];                                                                     \
        const __m256i ones = _mm256_set1_epi16(1);                                          \
        (void)ones;                                                                         \
        for (int i = 0; i < 8; i++) acc[i] = _mm256_setzero_si256();                        \
        for (size_t d = 0; d < stride8; d += 32) {                                          \
            _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {                           \
                __m256i t = _mm256_load_si256((const __m256i *)(rows + (size_t)r * stride8 + d)); \
                _Pragma("GCC unroll 8") for (int p = 0; p < P; p++) {                       \
                    __m256i v = _mm256_load_si256((const __m256i *)(q + (size_t)p * stride8 + d)); \
                    acc[r * P + p] = STEP(acc[r * P + p], t, v, ones);                      \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        _Pragma("GCC unroll 8") for (int i = 0; i < R * P; i++) out[i] = hsum_i32(acc[i]); \
    }                                                                                       \
    __attribute__((target(TARGET), always_inline)) static inline void NAME##_run(           \
        const uint8_t *rows, size_t stride8, size_t nr, const int8_t *q, int R, int P,      \
        int32_t *out) {                                                                     \
        size_t r = 0;                                                                       \
        for (; r + (size_t)R <= nr; r += (size_t)R) {                                       \
            if (r + PREFETCH_ROWS8 + (size_t)R <= nr) {                                     \
                const char *pf = (const char *)(rows + (r + PREFETCH_ROWS8) * stride8);     \
                for (size_t b = 0; b < (size_t)R * stride8; b += 64)                        \
                    _mm_prefetch(pf + b, _MM_HINT_T0);                                      \
            }                                                                               \
            NAME##_block(rows + r * stride8, stride8, q, R, P, out + r * (size_t)P);        \
        }                                                                                   \
        for (; r < nr; r++) NAME##_block(rows + r * stride8, stride8, q, 1, P, out + r * (size_t)P); \
    }                                                                                       \
    __attribute__((target(TARGET))) static void NAME(const uint8_t *rows, size_t stride8,  \
                                                     size_t nr, const int8_t *q, int np,    \
                                                     int32_t *out) {                        \
        switch (np) {                                                                       \
        case 1: NAME##_run(rows, stride8, nr, q, 4, 1, out); break;                         \
        case 2: NAME##_run(rows, stride8, nr, q, 4, 2, out); break;                         \
        case 3: NAME##_run(rows, stride8, nr, q, 2, 3, out); break;                         \
        case 4: NAME##_run(rows, stride8, nr, q, 2, 4, out); break;                         \
        case 5: NAME##_run(rows, stride8, nr, q, 1, 5, out); break;                         \
        case 6: NAME##_run(rows, stride8, nr, q, 1, 6, out); break;                         \
        case 7: NAME##_run(rows, stride8, nr, q, 1, 7, out); break;                         \
        default: NAME##_run(rows, stride8, nr, q, 1, 8, out); break;                        \
        }                                                                                   \
    }

/* Rows ahead to prefetch: int8 rows are a quarter of float rows. */
#define PREFETCH_ROWS8 32
#define STEP_AVX2(acc, t, v, ones) \
    _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(t, v), ones))
#define STEP_VNNI(acc, t, v, ones) _mm256_dpbusd_epi32(acc, t, v)
DOTS8_KERNEL(dots8_avx2, "avx2,fma", STEP_AVX2)
DOTS8_KERNEL(dots8_vnni, "avx2,fma,avx512f,avx512vl,avx512vnni", STEP_VNNI)

/* Int4: one 32-byte load holds 64 codes; the low nibbles multiply probe
 * codes 64b..64b+31, the high ones 64b+32..64b+63. */
#define DOTS4_KERNEL(NAME, TARGET, STEP)                                                    \
    __attribute__((target(TARGET), always_inline)) static inline void NAME##_block(         \
        const uint8_t *rows, size_t stride8, const int8_t *q, int R, int P, int32_t *out) { \
        __m256i acc[8];                                                                     \
        const __m256i ones = _mm256_set1_epi16(1), m4 = _mm256_set1_epi8(15);               \
        (void)ones;                                                                         \
        const size_t stride4 = stride8 / 2;                                                 \
        for (int i = 0; i < 8; i++) acc[i] = _mm256_setzero_si256();                        \
        for (size_t d = 0; d < stride4; d += 32) {                                          \
            _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {                           \
                __m256i x = _mm256_load_si256((const __m256i *)(rows + (size_t)r * stride4 + d)); \
                __m256i lo = _mm256_and_si256(x, m4);                                       \
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), m4);                 \
                _Pragma("GCC unroll 8") for (int p = 0; p < P; p++) {                       \
                    const int8_t *v = q + (size_t)p * stride8 + 2 * d;                      \
                    acc[r * P + p] = STEP(acc[r * P + p], lo,                               \
                                          _mm256_load_si256((const __m256i *)v), ones);     \
                    acc[r * P + p] = STEP(acc[r * P + p], hi,                               \
                                          _mm256_load_si256((const __m256i *)(v + 32)), ones); \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        _Pragma("GCC unroll 8") for (int i = 0; i < R * P; i++) out[i] = hsum_i32(acc[i]); \
    }                                                                                       \
    __attribute__((target(TARGET), always_inline)) static inline void NAME##_run(           \
        const uint8_t *rows, size_t stride8, size_t nr, const int8_t *q, int R, int P,      \
        int32_t *out) {                                                                     \
        const size_t stride4 = stride8 / 2;                                                 \
        size_t r = 0;                                                                       \
        for (; r + (size_t)R <= nr; r += (size_t)R) {                                       \
            if (r + PREFETCH_ROWS8 + (size_t)R <= nr) {                                     \
                const char *pf = (const char *)(rows + (r + PREFETCH_ROWS8) * stride4);     \
                for (size_t b = 0; b < (size_t)R * stride4; b += 64)                        \
                    _mm_prefetch(pf + b, _MM_HINT_T0);                                      \
            }                                                                               \
            NAME##_block(rows + r * stride4, stride8, q, R, P, out + r * (size_t)P);        \
        }                                                                                   \
        for (; r < nr; r++) NAME##_block(rows + r * stride4, stride8, q, 1, P, out + r * (size_t)P); \
    }                                                                                       \
    __attribute__((target(TARGET))) static void NAME(const uint8_t *rows, size_t stride8,  \
                                                     size_t nr, const int8_t *q, int np,    \
                                                     int32_t *out) {                        \
        switch (np) {                                                                       \
        case 1: NAME##_run(rows, stride8, nr, q, 4, 1, out); break;                         \
        case 2: NAME##_run(rows, stride8, nr, q, 4, 2, out); break;                         \
        case 3: NAME##_run(rows, stride8, nr, q, 2, 3, out); break;                         \
        case 4: NAME##_run(rows, stride8, nr, q, 2, 4, out); break;                         \
        case 5: NAME##_run(rows, stride8, nr, q, 1, 5, out); break;                         \
        case 6: NAME##_run(rows, stride8, nr, q, 1, 6, out); break;                         \
        case 7: NAME##_run(rows, stride8, nr, q, 1, 7, out); break;                         \
        default: NAME##_run(rows, stride8, nr, q, 1, 8, out); break;                        \
        }                                                                                   \
    }

DOTS4_KERNEL(dots4_avx2, "avx2,fma", STEP_AVX2)
DOTS4_KERNEL(dots4_vnni, "avx2,fma,avx512f,avx512vl,avx512vnni", STEP_VNNI)

static int cpu_has_vnni(void) {
    static atomic_int cached = -1;
    int c = atomic_load(&cached);
    if (c < 0) {
        __builtin_cpu_init();
        c = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
            __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512vnni");
        atomic_store(&cached, c);
    }
    return c;
}

static int cpu_has_avx2(void) {
    static atomic_int cached = -1;
    int c = atomic_load(&cached);
    if (c < 0) {
        __builtin_cpu_init();
        c = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        atomic_store(&cached, c);
    }
    return c;
}
#else
static int cpu_has_avx2(void) { return 0; }
static int cpu_has_vnni(void) { return 0; }
#endif

lfr_match_impl lfr_match_impl_auto(void) {
    return cpu_has_vnni() ? LFR_MATCH_IMPL_VNNI
           : cpu_has_avx2() ? LFR_MATCH_IMPL_AVX2
                            : LFR_MATCH_IMPL_SCALAR;
}

int lfr_match_impl_available(lfr_match_impl impl) {
    switch (impl) {
    case LFR_MATCH_IMPL_AUTO:
    case LFR_MATCH_IMPL_SCALAR: return 1;
    case LFR_MATCH_IMPL_AVX2: return cpu_has_avx2();
    case LFR_MATCH_IMPL_VNNI: return cpu_has_vnni();
    }
    return 0;
}

const char *lfr_match_impl_name(lfr_match_impl impl) {
    switch (impl) {
    case LFR_MATCH_IMPL_AUTO: return "auto";
    case LFR_MATCH_IMPL_SCALAR: return "scalar";
    case LFR_MATCH_IMPL_AVX2: return "avx2";
    case LFR_MATCH_IMPL_VNNI: return "vnni";
    }
    return "unknown";
}

static const char *const precision_name[LFR_MATCH_PREC_COUNT] = {
#define PREC_NAME(id, name, what) name,
    LFR_MATCH_PRECISION_LIST(PREC_NAME)
#undef PREC_NAME
};

const char *lfr_match_precision_name(lfr_match_precision p) {
    return (unsigned)p < LFR_MATCH_PREC_COUNT ? precision_name[p] : "unknown";
}

/* The float32 scores of rows [0, nr) for np probes (q: stride apart). */
static void scores_impl(lfr_match_impl impl, const float *rows, size_t stride, size_t nr,
                        const float *q, int np, float *out) {
#if MATCH_HAVE_AVX2
    if (impl != LFR_MATCH_IMPL_SCALAR) {
        scores_avx2(rows, stride, nr, q, np, out);
        return;
    }
#endif
    (void)impl;
    scores_scalar(rows, stride, nr, q, np, out);
}

/* The int8 dot products of rows [0, nr) for np probe codes. */
static void dots8_impl(lfr_match_impl impl, const uint8_t *rows, size_t stride8, size_t nr,
                       const int8_t *q, int np, int32_t *out) {
#if MATCH_HAVE_AVX2
    if (impl == LFR_MATCH_IMPL_VNNI) {
        dots8_vnni(rows, stride8, nr, q, np, out);
        return;
    }
    if (impl == LFR_MATCH_IMPL_AVX2) {
        dots8_avx2(rows, stride8, nr, q, np, out);
        return;
    }
#endif
    (void)impl;
    dots8_scalar(rows, stride8, nr, q, np, out);
}

/* The int4 dot products of rows [0, nr) (stride8 / 2 bytes apart). */
static void dots4_impl(lfr_match_impl impl, const uint8_t *rows, size_t stride8, size_t nr,
                       const int8_t *q, int np, int32_t *out) {
#if MATCH_HAVE_AVX2
    if (impl == LFR_MATCH_IMPL_VNNI) {
        dots4_vnni(rows, stride8, nr, q, np, out);
        return;
    }
    if (impl == LFR_MATCH_IMPL_AVX2) {
        dots4_avx2(rows, stride8, nr, q, np, out);
        return;
    }
#endif
    (void)impl;
    dots4_scalar(rows, stride8, nr, q, np, out);
}

/* What an int8 or int4 scan reads. */
typedef struct {
    const uint8_t *rows;
    size_t row_bytes;
    const float *scale, *err;
    int32_t offset; /* the stored code of 0 */
    void (*dots)(lfr_match_impl, const uint8_t *, size_t, size_t, const int8_t *, int, int32_t *);
} quant_view;

static quant_view quant_of(const lfr_match_snapshot *s, lfr_match_precision prec) {
    if (prec == LFR_MATCH_PREC_INT4)
        return (quant_view){s->rows4, s->stride8 / 2, s->q4_scale, s->q4_err, TMPL4_OFFSET, dots4_impl};
    return (quant_view){s->rows8, s->stride8, s->q_scale, s->q_err, TMPL_OFFSET, dots8_impl};
}

/* Search -------------------------------------------------------------------
 * Each probe's hits are kept as a bounded min-heap (root = the worst kept
 * hit) while scanning, then sorted best first. */

/* 1 when a ranks before b: higher score, then lower entry id. */
static int better(const lfr_match_hit *a, const lfr_match_hit *b) {
    if (a->score != b->score) return a->score > b->score;
    return a->entry_id < b->entry_id;
}

static void heap_down(lfr_match_hit *h, int n, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && better(&h[w], &h[l])) w = l;
        if (r < n && better(&h[w], &h[r])) w = r;
        if (w == i) return;
        lfr_match_hit t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

/* Offers x to the heap h (size *n, room max); returns 1 if a hit was lost. */
static int heap_offer(lfr_match_hit *h, int *n, int max, const lfr_match_hit *x) {
    if (*n < max) {
        int i = (*n)++;
        h[i] = *x;
        while (i > 0) {
            int p = (i - 1) / 2;
            if (!better(&h[p], &h[i])) break;
            lfr_match_hit t = h[i];
            h[i] = h[p];
            h[p] = t;
            i = p;
        }
        return 0;
    }
    if (better(x, &h[0])) {
        h[0] = *x;
        heap_down(h, max, 0);
    }
    return 1;
}

static int cmp_hit(const void *a, const void *b) {
    const lfr_match_hit *x = a, *y = b;
    return better(x, y) ? -1 : better(y, x) ? 1 : 0;
}

/* One probe's view of the entry being scanned: best, the best row that
 * counts toward alerts (the entry's score); img, the best image (the one
 * shown, whichever row gave the score). */
typedef struct {
    float best, img;
    size_t best_row, img_row;
} entry_acc;

static void acc_reset(entry_acc *a) {
    a->best = a->img = -INFINITY;
    a->best_row = a->img_row = 0;
}

static void acc_row(entry_acc *a, unsigned f, float v, size_t r) {
    if ((f & ROW_ALERTS) && v > a->best) a->best = v, a->best_row = r;
    if (!(f & ROW_ENTRY) && v > a->img) a->img = v, a->img_row = r;
}

/* Entry e is complete for one probe: offers its hit (when it reaches the
 * threshold) to that probe's heap h (*n of max); returns 1 if a hit was lost
 * (the list is cut).  Resets a. */
static int acc_emit(const lfr_match_snapshot *s, size_t e, entry_acc *a, float threshold,
                    lfr_match_hit *h, int *n, int max) {
    int cut = 0;
    if (a->best >= threshold) {
        int from_entry = (s->row_flags[a->best_row] & ROW_ENTRY) != 0;
        lfr_match_hit x = {s->entry_id[e], a->img > -INFINITY ? s->row_image[a->img_row] : -1,
                           a->best > 1.0f ? 1.0f : a->best, from_entry,
                           a->img > 1.0f ? 1.0f : a->img, 1};
        if (from_entry) { /* the photos of the entry: its rows but the mean */
            x.entry_images = 0;
            for (size_t r = s->entry_first[e]; r < s->entry_first[e + 1]; r++)
                x.entry_images += !(s->row_flags[r] & ROW_ENTRY);
        }
        cut = max ? heap_offer(h, n, max, &x) : 1;
    }
    acc_reset(a);
    return cut;
}

/* The float32 scan: every row scored exactly. */
static int search_fp32(const lfr_match_snapshot *s, lfr_match_impl impl, const float *q,
                       int n_probes, float threshold, lfr_match_hit *hits, int max_hits,
                       int *n_hits) {
    const size_t stride = s->stride;
    float sc[CHUNK_ROWS * LFR_MAX_MATCH_BATCH];
    entry_acc acc[LFR_MAX_MATCH_BATCH];
    int cut = 0;
    size_t e = 0; /* entry of the row being looked at */
    for (int p = 0; p < n_probes; p++) acc_reset(&acc[p]);
    for (size_t r0 = 0; r0 < s->n; r0 += CHUNK_ROWS) {
        size_t nr = s->n - r0 < CHUNK_ROWS ? s->n - r0 : CHUNK_ROWS;
        scores_impl(impl, s->rows + r0 * stride, stride, nr, q, n_probes, sc);
        for (size_t i = 0; i < nr; i++) {
            size_t r = r0 + i;
            unsigned f = s->row_flags[r];
            for (int p = 0; p < n_probes; p++)
                acc_row(&acc[p], f, sc[i * (size_t)n_probes + (size_t)p], r);
            if (r + 1 < s->entry_first[e + 1]) continue;
            /* Last template of entry e: its best score per probe is final. */
            for (int p = 0; p < n_probes; p++)
                cut |= acc_emit(s, e, &acc[p], threshold, hits + (size_t)p * (size_t)max_hits,
                                &n_hits[p], max_hits);
            e++;
        }
    }
    return cut;
}

/* A probe quantised for the int8 scan: codes (-64..64; stride8 bytes, zero
 * padded), and what turns an integer dot product into an approximate
 * cosine with its error bound:
 *   approx = (dot8 - corr) * scale * q_scale[r]
 *   |approx - exact| <= bound_a + bound_b * q_err[r]
 * where dot8 is the kernels' sum of (q_t + 128) * q_p, corr = 128 * sum q_p
 * (int4: q_t + 8, 8 * sum q_p, and its own q_scale and q_err),
 * bound_a = |p - p~| * NORM_MAX + float slack, bound_b = |p~|, p~ =
 * scale * q_p.  (exact - approx = p~.(t - t~) + (p - p~).t + rounding:
 * Cauchy-Schwarz on each term; `exact` is the float32 score the fp32 scan
 * computes, within gamma_(stride+4) |p| |t| of the real dot product.) */
typedef struct {
    float scale, bound_a, bound_b;
    int32_t sum; /* of the codes: corr = code offset * sum */
} probe8;

static void quantise_probe(const float *p, int dim, size_t stride, size_t stride8, int8_t *q,
                           probe8 *out) {
    float m = 0;
    for (int i = 0; i < dim; i++) m = fabsf(p[i]) > m ? fabsf(p[i]) : m;
    float scale = m > 0 ? m / PROBE_LEVELS : 1.0f;
    double ee = 0, hh = 0;
    int32_t sum = 0;
    for (int i = 0; i < dim; i++) {
        long c = lrintf(p[i] / scale);
        c = c > PROBE_LEVELS ? PROBE_LEVELS : c < -PROBE_LEVELS ? -PROBE_LEVELS : c;
        q[i] = (int8_t)c;
        sum += (int32_t)c;
        double h = (double)scale * (double)c, e = (double)p[i] - h;
        ee += e * e;
        hh += h * h;
    }
    memset(q + dim, 0, stride8 - (size_t)dim);
    /* Float slack: gamma_(stride+4) * NORM_MAX^2 for the float32 score
     * (stride + 4 roundings per lane chain and tree, FMA or not), 2 roundings
     * of the approximate score, 4 of the bound's own evaluation; all below
     * (stride + 40) * 2^-23 with room to spare. */
    double slack = ((double)stride + 40.0) * 0x1p-23;
    out->scale = scale;
    out->sum = sum;
    out->bound_a = up_f(sqrt(ee) * NORM_MAX + slack);
    out->bound_b = up_f(sqrt(hh));
}

/* The int8 scan, then float32 for every entry whose bound reaches the
 * threshold (or, once a probe's list is full and cut, its worst kept hit):
 * the same hits, scores and cut as search_fp32. */
static int search_quant(const lfr_match_snapshot *s, lfr_match_impl impl,
                        lfr_match_precision prec, const float *q, int n_probes,
                        float threshold, lfr_match_hit *hits, int max_hits, int *n_hits,
                        lfr_match_search_stats *stats) {
    const size_t stride = s->stride, stride8 = s->stride8;
    const quant_view qv = quant_of(s, prec);
    int32_t corr[LFR_MAX_MATCH_BATCH];
    _Alignas(64) int8_t q8[LFR_MAX_MATCH_BATCH * (LFR_MAX_MATCH_DIM + ROW_ALIGN_BYTES)];
    probe8 pq[LFR_MAX_MATCH_BATCH];
    for (int p = 0; p < n_probes; p++) {
        quantise_probe(q + (size_t)p * stride, s->dim, stride, stride8, q8 + (size_t)p * stride8,
                       &pq[p]);
        corr[p] = qv.offset * pq[p].sum;
    }
    int32_t dots[CHUNK_ROWS * LFR_MAX_MATCH_BATCH];
    float sc[CHUNK_ROWS];
    float upper[LFR_MAX_MATCH_BATCH]; /* per probe: the entry's highest bound */
    int cut_p[LFR_MAX_MATCH_BATCH];
    entry_acc acc;
    int cut = 0;
    size_t e = 0;
    float max_err = 0;
    for (int p = 0; p < n_probes; p++) upper[p] = -INFINITY, cut_p[p] = 0;
    for (size_t r0 = 0; r0 < s->n; r0 += CHUNK_ROWS) {
        size_t nr = s->n - r0 < CHUNK_ROWS ? s->n - r0 : CHUNK_ROWS;
        qv.dots(impl, qv.rows + r0 * qv.row_bytes, stride8, nr, q8, n_probes, dots);
        stats->rows_scanned += nr * (size_t)n_probes;
        for (size_t i = 0; i < nr; i++) {
            size_t r = r0 + i;
            if (s->row_flags[r] & ROW_ALERTS) {
                float ts = qv.scale[r], te = qv.err[r];
                max_err = te > max_err ? te : max_err;
                for (int p = 0; p < n_probes; p++) {
                    float a = (float)(dots[i * (size_t)n_probes + (size_t)p] - corr[p]) *
                              (pq[p].scale * ts);
                    float u = a + (pq[p].bound_a + pq[p].bound_b * te);
                    upper[p] = u > upper[p] ? u : upper[p];
                }
            }
            if (r + 1 < s->entry_first[e + 1]) continue;
            size_t first = s->entry_first[e], end = r + 1;
            for (int p = 0; p < n_probes; p++) {
                lfr_match_hit *h = hits + (size_t)p * (size_t)max_hits;
                float need = threshold;
                /* A cut list changes only for a hit better than its worst. */
                if (cut_p[p]) need = max_hits == 0 ? INFINITY
                                     : h[0].score > need ? h[0].score : need;
                if (upper[p] >= need) {
                    const float *qp = q + (size_t)p * stride;
                    acc_reset(&acc);
                    for (size_t a0 = first; a0 < end; a0 += CHUNK_ROWS) {
                        size_t na = end - a0 < CHUNK_ROWS ? end - a0 : CHUNK_ROWS;
                        scores_impl(impl, s->rows + a0 * stride, stride, na, qp, 1, sc);
                        for (size_t k = 0; k < na; k++)
                            acc_row(&acc, s->row_flags[a0 + k], sc[k], a0 + k);
                    }
                    stats->rows_rescored += end - first;
                    int c = acc_emit(s, e, &acc, threshold, h, &n_hits[p], max_hits);
                    cut_p[p] |= c;
                    cut |= c;
                }
                upper[p] = -INFINITY;
            }
            e++;
        }
    }
    /* max_bound: bound_a + bound_b * the largest template error (an upper
     * figure for reports; each row used its own). */
    float mb = 0;
    for (int p = 0; p < n_probes; p++) {
        float b = pq[p].bound_a + pq[p].bound_b * max_err;
        mb = b > mb ? b : mb;
    }
    stats->max_bound = mb;
    return cut;
}

/* Checks and the probe copy shared by the searches: q gets the probes,
 * stride floats apart, zero padded. */
static lfr_status search_prepare(const lfr_match_snapshot *s, lfr_match_impl *impl,
                                 const float *probes, int n_probes, float threshold,
                                 const lfr_match_hit *hits, int max_hits, int *n_hits, float *q) {
    if (!n_hits) return LFR_ERR_INVALID_ARG;
    if (n_probes >= 1 && n_probes <= LFR_MAX_MATCH_BATCH)
        for (int p = 0; p < n_probes; p++) n_hits[p] = 0;
    if (!s || !probes || max_hits < 0 || (max_hits > 0 && !hits) || !isfinite(threshold))
        return LFR_ERR_INVALID_ARG;
    if (n_probes < 1) return LFR_ERR_INVALID_ARG;
    if (n_probes > LFR_MAX_MATCH_BATCH) return LFR_ERR_TOO_LARGE;
    if (!s->frozen) return LFR_ERR_STATE;
    if (*impl == LFR_MATCH_IMPL_AUTO) *impl = lfr_match_impl_auto();
    if (!lfr_match_impl_available(*impl)) return LFR_ERR_UNSUPPORTED;
    for (int p = 0; p < n_probes; p++)
        if (!is_unit(probes + (size_t)p * (size_t)s->dim, s->dim)) return LFR_ERR_INVALID_ARG;
    memset(q, 0, sizeof(float) * s->stride * (size_t)n_probes);
    for (int p = 0; p < n_probes; p++)
        memcpy(q + (size_t)p * s->stride, probes + (size_t)p * (size_t)s->dim,
               sizeof(float) * (size_t)s->dim);
    return LFR_OK;
}

lfr_status lfr_match_search_prec(const lfr_match_snapshot *s, lfr_match_impl impl,
                                 lfr_match_precision prec, const float *probes, int n_probes,
                                 float threshold, lfr_match_hit *hits, int max_hits,
                                 int *n_hits, lfr_match_search_stats *stats) {
    lfr_match_search_stats dummy;
    if (!stats) stats = &dummy;
    memset(stats, 0, sizeof *stats);
    _Alignas(64) float q[LFR_MAX_MATCH_BATCH * LFR_MAX_MATCH_DIM];
    lfr_status st = search_prepare(s, &impl, probes, n_probes, threshold, hits, max_hits,
                                   n_hits, q);
    if (st != LFR_OK) return st;
    if ((unsigned)prec >= LFR_MATCH_PREC_COUNT) return LFR_ERR_INVALID_ARG;
    int cut;
    if (prec == LFR_MATCH_PREC_FP32) {
        cut = search_fp32(s, impl, q, n_probes, threshold, hits, max_hits, n_hits);
        stats->rows_scanned = s->n * (size_t)n_probes;
    } else {
        if (prec == LFR_MATCH_PREC_AUTO) prec = LFR_MATCH_PREC_INT8;
        cut = search_quant(s, impl, prec, q, n_probes, threshold, hits, max_hits, n_hits, stats);
    }
    for (int p = 0; p < n_probes; p++)
        if (n_hits[p] > 1)
            qsort(hits + (size_t)p * (size_t)max_hits, (size_t)n_hits[p], sizeof *hits, cmp_hit);
    return cut ? LFR_ERR_TOO_LARGE : LFR_OK;
}

lfr_status lfr_match_search_impl(const lfr_match_snapshot *s, lfr_match_impl impl,
                                 const float *probes, int n_probes, float threshold,
                                 lfr_match_hit *hits, int max_hits, int *n_hits) {
    return lfr_match_search_prec(s, impl, LFR_MATCH_PREC_AUTO, probes, n_probes, threshold, hits,
                                 max_hits, n_hits, NULL);
}

lfr_status lfr_match_search(const lfr_match_snapshot *s, const float *probe, float threshold,
                            lfr_match_hit *hits, int max_hits, int *n_hits) {
    return lfr_match_search_impl(s, LFR_MATCH_IMPL_AUTO, probe, 1, threshold, hits, max_hits,
                                 n_hits);
}

lfr_status lfr_match_search_batch(const lfr_match_snapshot *s, const float *probes,
                                  int n_probes, float threshold, lfr_match_hit *hits,
                                  int max_hits, int *n_hits) {
    return lfr_match_search_impl(s, LFR_MATCH_IMPL_AUTO, probes, n_probes, threshold, hits,
                                 max_hits, n_hits);
}

lfr_status lfr_match_row_scores(const lfr_match_snapshot *s, lfr_match_impl impl,
                                lfr_match_precision prec, const float *probe, float *exact,
                                float *approx, float *bound) {
    if (prec != LFR_MATCH_PREC_INT8 && prec != LFR_MATCH_PREC_INT4) return LFR_ERR_INVALID_ARG;
    _Alignas(64) float q[LFR_MAX_MATCH_DIM];
    int n_hits = 0;
    lfr_status st = search_prepare(s, &impl, probe, 1, 0.0f, NULL, 0, &n_hits, q);
    if (st != LFR_OK) return st;
    _Alignas(64) int8_t q8[LFR_MAX_MATCH_DIM + ROW_ALIGN_BYTES];
    probe8 pq;
    quantise_probe(q, s->dim, s->stride, s->stride8, q8, &pq);
    const quant_view qv = quant_of(s, prec);
    int32_t corr = qv.offset * pq.sum;
    float sc[CHUNK_ROWS];
    int32_t dots[CHUNK_ROWS];
    for (size_t r0 = 0; r0 < s->n; r0 += CHUNK_ROWS) {
        size_t nr = s->n - r0 < CHUNK_ROWS ? s->n - r0 : CHUNK_ROWS;
        scores_impl(impl, s->rows + r0 * s->stride, s->stride, nr, q, 1, sc);
        qv.dots(impl, qv.rows + r0 * qv.row_bytes, s->stride8, nr, q8, 1, dots);
        for (size_t i = 0; i < nr; i++) {
            size_t r = r0 + i;
            if (exact) exact[r] = sc[i];
            if (approx) approx[r] = (float)(dots[i] - corr) * (pq.scale * qv.scale[r]);
            if (bound) bound[r] = pq.bound_a + pq.bound_b * qv.err[r];
        }
    }
    return LFR_OK;
}

void lfr_match_snapshot_memory(const lfr_match_snapshot *s, lfr_match_memory *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!s) return;
    out->fp32_bytes = s->cap * s->stride * sizeof(float);
    out->int8_bytes = s->cap * s->stride8;
    out->int4_bytes = s->cap * s->stride8 / 2;
    out->other_bytes = s->cap * (4 * sizeof(float) + sizeof(int32_t) + 1) +
                       s->n_entries * (sizeof(int64_t) + sizeof(size_t));
}

/* Score meaning ------------------------------------------------------------ */

/* One model set's calibration: its LFW table and its groups table. */
struct lfr_match_calibration {
    const char *name;
    int dim;
    const lfr_match_calib_point *table; /* CALIB_N points */
    const char *source;
    unsigned long long impostor_pairs, genuine_pairs;
    const lfr_match_group *groups;
    int n_groups;
    const char *groups_source;
    const lfr_match_entry_calib *entry; /* k = 2 .. n_entry + 1 */
    int n_entry;
    const char *entry_source;
};

#define CALIB_N ((int)(sizeof lfr_match_calib_table / sizeof lfr_match_calib_table[0]))
_Static_assert(sizeof lfr_match_calib_table_fused704 == sizeof lfr_match_calib_table,
               "every calibration has the same cosine grid");
_Static_assert(sizeof lfr_match_calib_table_fused704v2 == sizeof lfr_match_calib_table,
               "every calibration has the same cosine grid");
_Static_assert(sizeof lfr_match_calib_table_fused704v3 == sizeof lfr_match_calib_table,
               "every calibration has the same cosine grid");

#define CAL_ROW_MFN192                                                                   \
    {"mfn192", 192, lfr_match_calib_table, LFR_MATCH_CALIB_SOURCE,                      \
     LFR_MATCH_CALIB_IMPOSTOR_PAIRS, LFR_MATCH_CALIB_GENUINE_PAIRS, lfr_match_groups_table, \
     LFR_MATCH_GROUPS_N, LFR_MATCH_GROUPS_SOURCE, \
     lfr_match_calib_entry_mfn192, \
     (int)(sizeof lfr_match_calib_entry_mfn192 / sizeof lfr_match_calib_entry_mfn192[0]), \
     LFR_MATCH_CALIB_ENTRY_MFN192_SOURCE}
#define CAL_ROW_FUSED704                                                                 \
    {"fused704", 704, lfr_match_calib_table_fused704, LFR_MATCH_CALIB_FUSED704_SOURCE,  \
     LFR_MATCH_CALIB_FUSED704_IMPOSTOR_PAIRS, LFR_MATCH_CALIB_FUSED704_GENUINE_PAIRS,   \
     lfr_match_groups_table_fused704, LFR_MATCH_GROUPS_FUSED704_N,                      \
     LFR_MATCH_GROUPS_FUSED704_SOURCE, \
     lfr_match_calib_entry_fused704, \
     (int)(sizeof lfr_match_calib_entry_fused704 / sizeof lfr_match_calib_entry_fused704[0]), \
     LFR_MATCH_CALIB_ENTRY_FUSED704_SOURCE}
#define CAL_ROW_FUSED704V2                                                               \
    {"fused704v2", 704, lfr_match_calib_table_fused704v2,                               \
     LFR_MATCH_CALIB_FUSED704V2_SOURCE, LFR_MATCH_CALIB_FUSED704V2_IMPOSTOR_PAIRS,       \
     LFR_MATCH_CALIB_FUSED704V2_GENUINE_PAIRS, lfr_match_groups_table_fused704v2,        \
     LFR_MATCH_GROUPS_FUSED704V2_N, LFR_MATCH_GROUPS_FUSED704V2_SOURCE, \
     lfr_match_calib_entry_fused704v2, \
     (int)(sizeof lfr_match_calib_entry_fused704v2 / sizeof lfr_match_calib_entry_fused704v2[0]), \
     LFR_MATCH_CALIB_ENTRY_FUSED704V2_SOURCE}
#define CAL_ROW_FUSED704V3                                                               \
    {"fused704v3", 704, lfr_match_calib_table_fused704v3,                               \
     LFR_MATCH_CALIB_FUSED704V3_SOURCE, LFR_MATCH_CALIB_FUSED704V3_IMPOSTOR_PAIRS,       \
     LFR_MATCH_CALIB_FUSED704V3_GENUINE_PAIRS, lfr_match_groups_table_fused704v3,        \
     LFR_MATCH_GROUPS_FUSED704V3_N, LFR_MATCH_GROUPS_FUSED704V3_SOURCE, \
     lfr_match_calib_entry_fused704v3, \
     (int)(sizeof lfr_match_calib_entry_fused704v3 / sizeof lfr_match_calib_entry_fused704v3[0]), \
     LFR_MATCH_CALIB_ENTRY_FUSED704V3_SOURCE}
#define CAL_ROW(id, nm, dm) CAL_ROW_##id,
static const lfr_match_calibration calibrations[] = {LFR_MATCH_CALIBRATION_LIST(CAL_ROW)};
#undef CAL_ROW
#define N_CALIBRATIONS ((int)(sizeof calibrations / sizeof calibrations[0]))

const lfr_match_calibration *lfr_match_calibration_default(void) { return &calibrations[0]; }
int lfr_match_calibration_count(void) { return N_CALIBRATIONS; }
const lfr_match_calibration *lfr_match_calibration_at(int i) {
    return i >= 0 && i < N_CALIBRATIONS ? &calibrations[i] : NULL;
}
const lfr_match_calibration *lfr_match_calibration_named(const char *model_set) {
    for (int i = 0; model_set && i < N_CALIBRATIONS; i++)
        if (!strcmp(calibrations[i].name, model_set)) return &calibrations[i];
    return NULL;
}
const char *lfr_match_calibration_name(const lfr_match_calibration *c) {
    return (c ? c : &calibrations[0])->name;
}
int lfr_match_calibration_dim(const lfr_match_calibration *c) {
    return (c ? c : &calibrations[0])->dim;
}

#define CAL(c) ((c) ? (c) : &calibrations[0])

/* Cosine span over which the extrapolation slope is measured. */
#define EXTRAP_SPAN 0.10

/* Last point of table c (CALIB_N points) with at least
 * LFR_MATCH_CALIB_MIN_PAIRS impostor pairs (0 when none). */
static int table_last_measured(const lfr_match_calib_point *c) {
    int r = 0;
    for (int i = 0; i < CALIB_N; i++)
        if (c[i].n_imp >= LFR_MATCH_CALIB_MIN_PAIRS) r = i;
    return r;
}

static float clamp_cos(float t) {
    if (isnan(t)) return -1.0f;
    return t < -1.0f ? -1.0f : t > 1.0f ? 1.0f : t;
}

/* log10 FMR interpolated linearly in cosine between points i and i+1 of c
 * (both with FMR > 0). */
static double log_interp_in(const lfr_match_calib_point *c, int i, double t) {
    const lfr_match_calib_point *a = &c[i], *b = &c[i + 1];
    double la = log10(a->fmr), lb = log10(b->fmr);
    return la + (lb - la) * (t - a->cosine) / (b->cosine - a->cosine);
}

/* log10 FMR of table c at t within [-1, c[r].cosine], r its last measured
 * point (as lfr_match_fmr). */
static double log_fmr_measured(const lfr_match_calib_point *c, int r, double t) {
    if (t <= c[0].cosine) {
        /* Between FMR(-1) = 1 (every score is >= -1) and the first point. */
        return c[0].fmr > 0 ? log10(c[0].fmr) * (t + 1.0) / (c[0].cosine + 1.0) : -300;
    }
    int i = 0;
    while (i + 1 < r && t > c[i + 1].cosine) i++;
    return log_interp_in(c, i, t);
}

double lfr_match_cal_fmr(const lfr_match_calibration *cal, float tf) {
    const lfr_match_calib_point *c = CAL(cal)->table;
    double t = clamp_cos(tf), l;
    int r = table_last_measured(c);
    if (t <= c[r].cosine) {
        l = log_fmr_measured(c, r, t);
    } else {
        /* Beyond the measured range: the secant slope of log10 FMR over the
         * last EXTRAP_SPAN of it (shallower than the end slope of a tail that
         * bends down, so it over-estimates FMR), restarted from every higher
         * point where impostor pairs were still seen, and never below the
         * rate observed there (interpolated between such points). */
        int j = r;
        while (j > 0 && c[j].cosine > c[r].cosine - EXTRAP_SPAN + 1e-9) j--;
        double m = (log10(c[r].fmr) - log10(c[j].fmr)) / (c[r].cosine - c[j].cosine);
        if (!(m <= 0)) m = 0;
        l = -INFINITY;
        for (int i = r; i < CALIB_N && c[i].cosine <= t; i++) {
            if (c[i].n_imp == 0) break;
            double v = log10(c[i].fmr) + m * (t - c[i].cosine);
            if (v > l) l = v;
            if (i + 1 < CALIB_N && c[i + 1].n_imp > 0 && t <= c[i + 1].cosine) {
                v = log_interp_in(c, i, t);
                if (v > l) l = v;
            }
        }
    }
    if (l > 0) l = 0;
    if (l < -300) l = -300;
    return pow(10.0, l);
}

double lfr_match_cal_tar(const lfr_match_calibration *cal, float tf) {
    const lfr_match_calib_point *c = CAL(cal)->table;
    double t = clamp_cos(tf);
    if (t <= c[0].cosine) return 1.0 + (c[0].tar - 1.0) * (t + 1.0) / (c[0].cosine + 1.0);
    for (int i = 0; i + 1 < CALIB_N; i++)
        if (t <= c[i + 1].cosine)
            return c[i].tar + (c[i + 1].tar - c[i].tar) * (t - c[i].cosine) /
                                  (c[i + 1].cosine - c[i].cosine);
    return c[CALIB_N - 1].tar;
}

static double likeness_of_fmr(double fmr) {
    double l = 100.0 * -log10(fmr) / LFR_MATCH_LIKENESS_DECADES;
    return l <= 0 ? 0.0 : l > 100 ? 100.0 : l;
}

double lfr_match_cal_likeness(const lfr_match_calibration *c, float t) {
    return likeness_of_fmr(lfr_match_cal_fmr(c, t));
}

double lfr_match_cal_entry_likeness(const lfr_match_calibration *c, float t, int k) {
    double f = lfr_match_cal_fmr(c, t);
    if (k > 1) f *= lfr_match_cal_entry_weight(c, k);
    return likeness_of_fmr(f > 1.0 ? 1.0 : f);
}

float lfr_match_cal_threshold_for_likeness(const lfr_match_calibration *c, double l) {
    if (isnan(l) || l <= 0) return -1.0f;
    if (l > 100) l = 100;
    if (lfr_match_cal_likeness(c, 1.0f) < l) return 1.0f;
    double lo = -1.0, hi = 1.0; /* likeness(lo) < l <= likeness(hi) */
    for (int k = 0; k < 60; k++) {
        double mid = 0.5 * (lo + hi);
        if (lfr_match_cal_likeness(c, (float)mid) >= l) hi = mid;
        else lo = mid;
    }
    float f = (float)hi;
    while (f < 1.0f && lfr_match_cal_likeness(c, f) < l) f = nextafterf(f, 2.0f);
    while (f > -1.0f && lfr_match_cal_likeness(c, nextafterf(f, -2.0f)) >= l)
        f = nextafterf(f, -2.0f);
    return f;
}

/* Display step of lfr_match_cal_equivalent. */
#define EQUIV_STEP 0.005

float lfr_match_cal_equivalent(const lfr_match_calibration *cal, float t192) {
    cal = CAL(cal);
    if (cal == &calibrations[0]) return t192;
    double target = lfr_match_cal_fmr(&calibrations[0], t192);
    if (lfr_match_cal_fmr(cal, -1.0f) <= target) return -1.0f;
    double lo = -1.0, hi = 1.0; /* fmr(lo) > target >= fmr(hi), or hi = 1 */
    for (int k = 0; k < 60; k++) {
        double mid = 0.5 * (lo + hi);
        if (lfr_match_cal_fmr(cal, (float)mid) <= target) hi = mid;
        else lo = mid;
    }
    double r = ceil(hi / EQUIV_STEP - 1e-9) * EQUIV_STEP;
    return (float)(r > 1.0 ? 1.0 : r);
}

float lfr_match_cal_default_threshold(const lfr_match_calibration *c) {
    return lfr_match_cal_equivalent(c, LFR_MATCH_DEFAULT_THRESHOLD);
}

void lfr_match_cal_sane_range(const lfr_match_calibration *c, float *min, float *max) {
    if (min) *min = lfr_match_cal_equivalent(c, LFR_THRESHOLD_SANE_MIN);
    if (max) *max = lfr_match_cal_equivalent(c, LFR_THRESHOLD_SANE_MAX);
}

/* Entries with several photos (match.h). */
int lfr_match_cal_entry_measured(const lfr_match_calibration *c) {
    const lfr_match_calibration *k = CAL(c);
    return k->entry && k->n_entry > 0 ? k->entry[k->n_entry - 1].k : 0;
}

const lfr_match_entry_calib *lfr_match_cal_entry_table(const lfr_match_calibration *c, int *n,
                                                       const char **source) {
    const lfr_match_calibration *k = CAL(c);
    if (n) *n = k->entry ? k->n_entry : 0;
    if (source) *source = k->entry ? k->entry_source : NULL;
    return k->entry;
}

/* The measured ratio of row e over the sane thresholds (match.h). */
static double entry_ratio(const lfr_match_entry_calib *e, float sane_min) {
    double w = 1.0;
    for (int i = 0; i < CALIB_N; i++) {
        if (lfr_match_calib_table[i].cosine < (double)sane_min - 1e-9) continue;
        if (e->single_ge[i] < LFR_MATCH_CALIB_MIN_PAIRS || e->mean_ge[i] < LFR_MATCH_CALIB_MIN_PAIRS)
            continue;
        double r = (double)e->mean_ge[i] / (double)e->single_ge[i];
        if (r > w) w = r;
    }
    return w;
}

double lfr_match_entry_rows_weight(const lfr_match_calibration *c,
                                   const lfr_match_entry_calib *rows, int n, int k) {
    if (k <= 0) return 0;
    if (k == 1) return 1;
    if (!rows || n <= 0 || k > rows[n - 1].k) return k;
    float sane_min;
    lfr_match_cal_sane_range(c, &sane_min, NULL);
    double w = 1.0;
    for (int r = 0; r < n && rows[r].k <= k; r++) {
        double x = entry_ratio(&rows[r], sane_min);
        if (x > w) w = x; /* never less than a smaller k's */
    }
    return w;
}

double lfr_match_cal_entry_weight(const lfr_match_calibration *c, int k) {
    const lfr_match_calibration *cal = CAL(c);
    return lfr_match_entry_rows_weight(c, cal->entry, cal->n_entry, k);
}

size_t lfr_match_cal_counted(const lfr_match_calibration *c, lfr_match_entry_template kind,
                             const int64_t *by_images, int kmax) {
    double n = 0;
    for (int k = 1; by_images && k <= kmax; k++) {
        if (by_images[k] <= 0) continue;
        int kk = k > LFR_MAX_ENTRY_IMAGES ? LFR_MAX_ENTRY_IMAGES : k;
        double e = (double)by_images[k];
        if (kind == LFR_MATCH_ENTRY_BEST) n += e * k;
        else if (kind == LFR_MATCH_ENTRY_UNION) n += e * (k + (k > 1 ? lfr_match_cal_entry_weight(c, kk) : 0));
        else n += e * lfr_match_cal_entry_weight(c, kk);
    }
    return (size_t)ceil(n - 1e-9);
}

/* 1 - (1 - fmr)^n without cancellation. */
static double fpir_of(double fmr, size_t n) {
    if (n == 0) return 0;
    if (fmr >= 1.0) return 1.0;
    return -expm1((double)n * log1p(-fmr));
}

double lfr_match_cal_fpir(const lfr_match_calibration *c, float t, size_t n_templates) {
    if (n_templates == 0) return 0;
    return fpir_of(lfr_match_cal_fmr(c, t), n_templates);
}

void lfr_match_cal_threshold_info(const lfr_match_calibration *cal, float threshold,
                                  size_t n_templates, lfr_match_threshold_meaning *out) {
    if (!out) return;
    const lfr_match_calib_point *c = CAL(cal)->table;
    float t = clamp_cos(threshold);
    out->threshold = threshold;
    out->n_templates = n_templates;
    out->fmr = lfr_match_cal_fmr(cal, t);
    out->fpir = lfr_match_cal_fpir(cal, t, n_templates);
    out->false_alerts_per_10k = 1e4 * out->fpir;
    out->likeness = lfr_match_cal_likeness(cal, t);
    out->tar = lfr_match_cal_tar(cal, t);
    out->extrapolated = t < c[0].cosine || t > c[table_last_measured(c)].cosine;
    double wf = 0;
    int w = lfr_match_cal_worst_group(cal, t, &wf);
    out->worst_group = w;
    out->worst_name = w >= 0 ? CAL(cal)->groups[w].name : NULL;
    out->worst_fmr = w >= 0 ? wf : 0;
    out->worst_fpir = w >= 0 ? fpir_of(wf, n_templates) : 0;
    out->worst_false_alerts_per_10k = 1e4 * out->worst_fpir;
    out->worst_extrapolated = 0;
    if (w >= 0) lfr_match_cal_group_fmr(cal, w, t, &out->worst_extrapolated);
}

const lfr_match_calib_point *lfr_match_cal_table(const lfr_match_calibration *cal, int *n,
                                                 lfr_match_calib_info *info) {
    cal = CAL(cal);
    if (n) *n = CALIB_N;
    if (info) {
        info->source = cal->source;
        info->impostor_pairs = cal->impostor_pairs;
        info->genuine_pairs = cal->genuine_pairs;
        info->measured_up_to = (float)cal->table[table_last_measured(cal->table)].cosine;
    }
    return cal->table;
}

/* Data sets and demographic groups ------------------------------------------ */

const lfr_match_group *lfr_match_cal_groups(const lfr_match_calibration *cal, int *n,
                                            const char **source) {
    cal = CAL(cal);
    if (n) *n = cal->n_groups;
    if (source) *source = cal->groups_source;
    return cal->groups;
}

double lfr_match_cal_group_min_fmr(const lfr_match_calibration *cal, int g) {
    cal = CAL(cal);
    if (g < 0 || g >= cal->n_groups) return 1.0;
    unsigned long long n = cal->groups[g].impostor_pairs;
    return n > LFR_MATCH_CALIB_MIN_PAIRS ? (double)LFR_MATCH_CALIB_MIN_PAIRS / (double)n : 1.0;
}

/* Index of the last main-table point whose FMR is >= fmr (0 when none). */
static int lfw_point_at_fmr(const lfr_match_calibration *cal, double fmr) {
    int r = 0;
    for (int i = 0; i < CALIB_N; i++)
        if (cal->table[i].fmr >= fmr) r = i;
    return r;
}

/* 1 when group g's data set has identities (its data-set row counted
 * genuine pairs): no same-person pair hides among its impostors. */
static int group_has_identities(const lfr_match_calibration *cal, int g) {
    const lfr_match_group *G = cal->groups;
    for (int k = 0; k < cal->n_groups; k++)
        if (G[k].kind == LFR_MATCH_GROUP_DATA_SET && !strcmp(G[k].data_set, G[g].data_set))
            return G[k].genuine_pairs > 0;
    return 0;
}

/* The last point of group g's table that counts as measured: >=
 * LFR_MATCH_CALIB_MIN_PAIRS pairs, and, in a data set without identities,
 * not past the anchor (-1: none). */
static int group_last_measured(const lfr_match_calibration *cal, int g) {
    const lfr_match_calib_point *c = cal->groups[g].points;
    int a = group_has_identities(cal, g) ? CALIB_N - 1
                                         : lfw_point_at_fmr(cal, LFR_MATCH_GROUP_ANCHOR_FMR);
    int r = -1;
    for (int i = 0; i <= a; i++)
        if (c[i].n_imp >= LFR_MATCH_CALIB_MIN_PAIRS && c[i].fmr > 0) r = i;
    return r;
}

double lfr_match_cal_group_fmr(const lfr_match_calibration *cal, int g, float tf,
                               int *extrapolated) {
    cal = CAL(cal);
    if (extrapolated) *extrapolated = 0;
    if (g < 0 || g >= cal->n_groups) return -1;
    const lfr_match_calib_point *c = cal->groups[g].points;
    double t = clamp_cos(tf), l;
    int r = group_last_measured(cal, g);
    if (r < 0) {
        /* Nothing measured: LFW's rate, flagged (such a group is never
         * the worst group: lfr_match_worst_group). */
        if (extrapolated) *extrapolated = 1;
        return lfr_match_cal_fmr(cal, tf);
    }
    if (t <= c[r].cosine) {
        l = log_fmr_measured(c, r, t);
    } else {
        /* log10 of the group's ratio to LFW at its last measured point,
         * growing further by as much per decade of LFW's FMR as it grew
         * from the LFW FMR-1e-2 point to that point (never shrinking): a
         * group that gets worse relative to LFW as the threshold rises is
         * assumed to keep doing so.  Per decade of LFW's FMR, so the
         * group's FMR stays non-increasing where LFW's is flat. */
        const lfr_match_calib_point *m = cal->table;
        double lm = log10(m[r].fmr), lr = log10(c[r].fmr) - lm, k = 0;
        int j = lfw_point_at_fmr(cal, LFR_MATCH_GROUP_ANCHOR_FMR * 10);
        if (j < r && c[j].fmr > 0 && m[j].fmr > m[r].fmr)
            k = (lr - (log10(c[j].fmr) - log10(m[j].fmr))) / (log10(m[j].fmr) - lm);
        if (!(k > 0)) k = 0;
        double lt = log10(lfr_match_cal_fmr(cal, (float)t));
        l = lt + lr + k * (lm - lt);
        if (extrapolated) *extrapolated = 1;
    }
    if (l > 0) l = 0;
    if (l < -300) l = -300;
    return pow(10.0, l);
}

int lfr_match_cal_group_considered(const lfr_match_calibration *cal, int g) {
    cal = CAL(cal);
    if (g < 0 || g >= cal->n_groups) return 0;
    const lfr_match_group *x = &cal->groups[g];
    if (x->kind != LFR_MATCH_GROUP_DEMOGRAPHIC || x->impostor_pairs < LFR_MATCH_GROUP_MIN_PAIRS)
        return 0;
    return x->points[lfw_point_at_fmr(cal, LFR_MATCH_GROUP_ANCHOR_FMR)].n_imp >=
           LFR_MATCH_CALIB_MIN_PAIRS;
}

int lfr_match_cal_worst_group(const lfr_match_calibration *cal, float t, double *fmr) {
    cal = CAL(cal);
    int w = -1;
    double wf = -1;
    for (int g = 0; g < cal->n_groups; g++) {
        if (!lfr_match_cal_group_considered(cal, g)) continue;
        double f = lfr_match_cal_group_fmr(cal, g, t, NULL);
        if (f > wf) w = g, wf = f;
    }
    if (fmr) *fmr = w >= 0 ? wf : 0;
    return w;
}

/* 1 when the worst group's FPIR at t meets the target. */
static int meets(const lfr_match_calibration *cal, float t, size_t n, double per_10k) {
    double f;
    if (lfr_match_cal_worst_group(cal, t, &f) < 0) f = lfr_match_cal_fmr(cal, t);
    return 1e4 * fpir_of(f, n) <= per_10k;
}

lfr_status lfr_match_cal_threshold_for_false_alerts(const lfr_match_calibration *cal,
                                                    double per_10k, size_t n_templates,
                                                    float *t) {
    if (!t) return LFR_ERR_INVALID_ARG;
    *t = 1.0f;
    if (!isfinite(per_10k) || per_10k <= 0) return LFR_ERR_INVALID_ARG;
    if (n_templates == 0 || meets(cal, -1.0f, n_templates, per_10k)) {
        *t = -1.0f;
        return LFR_OK;
    }
    if (!meets(cal, 1.0f, n_templates, per_10k)) return LFR_ERR_TOO_LARGE;
    double lo = -1.0, hi = 1.0; /* fails at lo, meets at hi */
    for (int k = 0; k < 60; k++) {
        double mid = 0.5 * (lo + hi);
        if (meets(cal, (float)mid, n_templates, per_10k)) hi = mid;
        else lo = mid;
    }
    float f = (float)hi;
    while (f < 1.0f && !meets(cal, f, n_templates, per_10k)) f = nextafterf(f, 2.0f);
    while (f > -1.0f && meets(cal, nextafterf(f, -2.0f), n_templates, per_10k))
        f = nextafterf(f, -2.0f);
    *t = f;
    return LFR_OK;
}

/* The mfn192 calibration (the functions without a calibration argument). */
double lfr_match_fmr(float t) { return lfr_match_cal_fmr(NULL, t); }
double lfr_match_tar(float t) { return lfr_match_cal_tar(NULL, t); }
double lfr_match_likeness(float t) { return lfr_match_cal_likeness(NULL, t); }
float lfr_match_threshold_for_likeness(double l) { return lfr_match_cal_threshold_for_likeness(NULL, l); }
double lfr_match_fpir(float t, size_t n) { return lfr_match_cal_fpir(NULL, t, n); }
void lfr_match_threshold_info(float threshold, size_t n_templates,
                              lfr_match_threshold_meaning *out) {
    lfr_match_cal_threshold_info(NULL, threshold, n_templates, out);
}
const lfr_match_calib_point *lfr_match_calib(int *n, lfr_match_calib_info *info) {
    return lfr_match_cal_table(NULL, n, info);
}
const lfr_match_group *lfr_match_groups(int *n, const char **source) {
    return lfr_match_cal_groups(NULL, n, source);
}
double lfr_match_group_min_fmr(int g) { return lfr_match_cal_group_min_fmr(NULL, g); }
double lfr_match_group_fmr(int g, float t, int *extrapolated) {
    return lfr_match_cal_group_fmr(NULL, g, t, extrapolated);
}
int lfr_match_group_considered(int g) { return lfr_match_cal_group_considered(NULL, g); }
int lfr_match_worst_group(float t, double *fmr) { return lfr_match_cal_worst_group(NULL, t, fmr); }
lfr_status lfr_match_threshold_for_false_alerts(double per_10k, size_t n_templates, float *t) {
    return lfr_match_cal_threshold_for_false_alerts(NULL, per_10k, n_templates, t);
}
