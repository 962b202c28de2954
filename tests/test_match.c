/*
 * test_match.c - watchlist snapshots, exact open-set search (scalar, AVX2,
 * batch), reference counting, limits, fault injection, and the calibrated
 * meaning of scores (FMR, TAR, likeness, FPIR); the int8 scan equal to the
 * float32 scan bit for bit.
 */
#include <pthread.h>
#include <stdint.h>

#include "harness.h"
#include "match/match.h"

#define DIM 192

/* Deterministic random unit vectors (xorshift64*, Box-Muller). */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double rnd_u(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((rng_state * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}
static double rnd_gauss(void) {
    double u = rnd_u(), v = rnd_u();
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}
static void rnd_unit(float *v, int dim) {
    double ss = 0;
    for (int i = 0; i < dim; i++) v[i] = (float)rnd_gauss(), ss += (double)v[i] * v[i];
    for (int i = 0; i < dim; i++) v[i] = (float)(v[i] / sqrt(ss));
}
/* A unit vector with cosine c to unit vector a (orthogonal part random). */
static void rnd_at_cos(float *out, const float *a, double c, int dim) {
    float *r = malloc(sizeof(float) * (size_t)dim);
    rnd_unit(r, dim);
    double d = 0, ss = 0;
    for (int i = 0; i < dim; i++) d += (double)r[i] * a[i];
    for (int i = 0; i < dim; i++) r[i] = (float)(r[i] - d * a[i]), ss += (double)r[i] * r[i];
    double k = sqrt((1 - c * c) / ss);
    for (int i = 0; i < dim; i++) out[i] = (float)(c * a[i] + k * r[i]);
    free(r);
}
static double dot(const float *a, const float *b, int dim) {
    double s = 0;
    for (int i = 0; i < dim; i++) s += (double)a[i] * b[i];
    return s;
}

/* A random watchlist: n_entries entries, 1..max_t templates each, ids
 * scattered and templates added in shuffled entry order. */
typedef struct {
    int n, dim;
    float *t;
    int64_t *id;
    int32_t *img;
} wl;

static wl wl_random(int n_entries, int max_t, int dim) {
    wl w = {0, dim, NULL, NULL, NULL};
    int cap = n_entries * max_t;
    w.t = malloc(sizeof(float) * (size_t)cap * (size_t)dim);
    w.id = malloc(sizeof(int64_t) * (size_t)cap);
    w.img = malloc(sizeof(int32_t) * (size_t)cap);
    for (int e = 0; e < n_entries; e++) {
        int k = 1 + (int)(rnd_u() * max_t);
        for (int j = 0; j < k; j++) {
            w.id[w.n] = (int64_t)e * 7919 + 1000000007ll * (e % 3); /* unsorted, distinct */
            w.img[w.n] = 100 * e + j;
            rnd_unit(w.t + (size_t)w.n * (size_t)dim, dim);
            w.n++;
        }
    }
    for (int i = w.n - 1; i > 0; i--) { /* shuffle the rows */
        int j = (int)(rnd_u() * (i + 1));
        int64_t ti = w.id[i];
        w.id[i] = w.id[j], w.id[j] = ti;
        int32_t tg = w.img[i];
        w.img[i] = w.img[j], w.img[j] = tg;
        for (int d = 0; d < dim; d++) {
            float x = w.t[(size_t)i * dim + d];
            w.t[(size_t)i * dim + d] = w.t[(size_t)j * dim + d];
            w.t[(size_t)j * dim + d] = x;
        }
    }
    return w;
}
static void wl_free(wl *w) {
    free(w->t);
    free(w->id);
    free(w->img);
}

/* Reference: per entry best score (double), compared with the hits. */
static void check_against_reference(const wl *w, const float *probe, float thr,
                                    const lfr_match_hit *h, int n) {
    /* Every hit: score = best of its entry, its image gives that score. */
    for (int i = 0; i < n; i++) {
        double best = -2;
        int32_t best_img = -1;
        for (int r = 0; r < w->n; r++)
            if (w->id[r] == h[i].entry_id) {
                double s = dot(w->t + (size_t)r * w->dim, probe, w->dim);
                if (s > best) best = s, best_img = w->img[r];
            }
        CHECK_NEAR(h[i].score, best, 1e-5);
        CHECK(h[i].score >= thr);
        if (fabs(h[i].score - best) < 1e-5) CHECK_EQ_INT(h[i].image_index, best_img);
        if (i > 0) CHECK(h[i - 1].score > h[i].score ||
                         (h[i - 1].score == h[i].score && h[i - 1].entry_id < h[i].entry_id));
        for (int j = 0; j < i; j++) CHECK(h[j].entry_id != h[i].entry_id);
    }
    /* Every entry clearly above the threshold is among the hits. */
    for (int r = 0; r < w->n; r++) {
        double s = dot(w->t + (size_t)r * w->dim, probe, w->dim);
        if (s < thr + 1e-5) continue;
        int found = 0;
        for (int i = 0; i < n; i++) found |= h[i].entry_id == w->id[r];
        CHECK(found);
    }
}

static void test_search_exact_best_first(void) {
    wl w = wl_random(300, 4, DIM);
    lfr_match_snapshot *s = NULL;
    CHECK_STATUS(lfr_match_snapshot_build(DIM, (size_t)w.n, w.t, w.id, w.img, &s), LFR_OK);
    if (!s) return;
    CHECK_EQ_INT(lfr_match_snapshot_entries(s), 300);
    CHECK_EQ_INT(lfr_match_snapshot_templates(s), w.n);
    lfr_match_hit hits[300];
    float probe[DIM];
    /* Probes near chosen templates, at several cosines, and pure noise. */
    for (int k = 0; k < 20; k++) {
        int r = (int)(rnd_u() * w.n);
        if (k % 4 == 3) rnd_unit(probe, DIM);
        else rnd_at_cos(probe, w.t + (size_t)r * DIM, 0.3 + 0.2 * (k % 4), DIM);
        float thr = (k % 2) ? 0.2f : -0.05f;
        int n = -1;
        CHECK_STATUS(lfr_match_search(s, probe, thr, hits, 300, &n), LFR_OK);
        check_against_reference(&w, probe, thr, hits, n);
    }
    /* A template itself as probe: its entry first with score ~1. */
    memcpy(probe, w.t + 17 * DIM, sizeof probe);
    int n = 0;
    CHECK_STATUS(lfr_match_search(s, probe, 0.5f, hits, 300, &n), LFR_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(hits[0].entry_id, w.id[17]);
    CHECK_EQ_INT(hits[0].image_index, w.img[17]);
    CHECK_NEAR(hits[0].score, 1.0, 1e-5);
    CHECK(hits[0].score <= 1.0f);
    lfr_match_snapshot_unref(s);
    wl_free(&w);
}

static void test_entry_best_of_templates(void) {
    float a[DIM];
    rnd_unit(a, DIM);
    float t[5][DIM];
    double cs[5] = {0.30, 0.90, 0.50, 0.60, 0.95};
    int64_t ids[5] = {7, 7, 7, 9, 11};
    int32_t imgs[5] = {70, 71, 72, 90, 110};
    for (int i = 0; i < 5; i++) rnd_at_cos(t[i], a, cs[i], DIM);
    lfr_match_snapshot *s = NULL;
    CHECK_STATUS(lfr_match_snapshot_new(DIM, 5, &s), LFR_OK);
    if (!s) return;
    for (int i = 0; i < 5; i++) CHECK_STATUS(lfr_match_snapshot_add(s, ids[i], imgs[i], t[i]), LFR_OK);
    CHECK_STATUS(lfr_match_snapshot_freeze(s), LFR_OK);
    CHECK_EQ_INT(lfr_match_snapshot_entries(s), 3);
    lfr_match_hit h[3];
    int n = 0;
    CHECK_STATUS(lfr_match_search(s, a, 0.55f, h, 3, &n), LFR_OK);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(h[0].entry_id, 11);
    CHECK_NEAR(h[0].score, 0.95, 1e-5);
    CHECK_EQ_INT(h[1].entry_id, 7); /* one hit for entry 7, its best image */
    CHECK_EQ_INT(h[1].image_index, 71);
    CHECK_NEAR(h[1].score, 0.90, 1e-5);
    CHECK_EQ_INT(h[2].entry_id, 9);
    CHECK_NEAR(h[2].score, 0.60, 1e-5);
    /* Threshold between: entry 9 (0.60) out, entry 7 in by its best image
     * although two of its images are below. */
    CHECK_STATUS(lfr_match_search(s, a, 0.7f, h, 3, &n), LFR_OK);
    CHECK_EQ_INT(n, 2);
    lfr_match_snapshot_unref(s);
}

static void test_open_set_empty_below_threshold(void) {
    wl w = wl_random(200, 2, DIM);
    lfr_match_snapshot *s = NULL;
    CHECK_STATUS(lfr_match_snapshot_build(DIM, (size_t)w.n, w.t, w.id, NULL, &s), LFR_OK);
    if (!s) return;
    float probe[DIM];
    rnd_unit(probe, DIM); /* random 192-d: all cosines within ~ +-0.35 */
    lfr_match_hit h[4];
    int n = -1;
    CHECK_STATUS(lfr_match_search(s, probe, LFR_MATCH_DEFAULT_THRESHOLD, h, 4, &n), LFR_OK);
    CHECK_EQ_INT(n, 0); /* no "nearest" answer */
    /* The nearest entry exists (score ~0.3) but is not returned at 0.6. */
    rnd_at_cos(probe, w.t, 0.3, DIM);
    CHECK_STATUS(lfr_match_search(s, probe, 0.6f, h, 4, &n), LFR_OK);
    CHECK_EQ_INT(n, 0);
    /* An empty watchlist: no hits, not an error. */
    lfr_match_snapshot *e = NULL;
    CHECK_STATUS(lfr_match_snapshot_build(DIM, 0, NULL, NULL, NULL, &e), LFR_OK);
    CHECK_STATUS(lfr_match_search(e, probe, -1.0f, h, 4, &n), LFR_OK);
    CHECK_EQ_INT(n, 0);
    lfr_match_snapshot_unref(e);
    lfr_match_snapshot_unref(s);
    wl_free(&w);
}

static void test_truncated_list_is_reported(void) {
    wl w = wl_random(50, 1, DIM);
    lfr_match_snapshot *s = NULL;
    CHECK_STATUS(lfr_match_snapshot_build(DIM, (size_t)w.n, w.t, w.id, NULL, &s), LFR_OK);
    if (!s) return;
    lfr_match_hit all[50], few[5];
    int n_all = 0, n_few = 0;
    CHECK_STATUS(lfr_match_search(s, w.t, -1.0f, all, 50, &n_all), LFR_OK);
    CHECK_EQ_INT(n_all, 50);
    CHECK_STATUS(lfr_match_search(s, w.t, -1.0f, few, 5, &n_few), LFR_ERR_TOO_LARGE);
    CHECK_EQ_INT(n_few, 5);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(few[i].entry_id, all[i].entry_id);
        CHECK(few[i].score == all[i].score);
    }
    CHECK_STATUS(lfr_match_search(s, w.t, -1.0f, NULL, 0, &n_few), LFR_ERR_TOO_LARGE);
    CHECK_EQ_INT(n_few, 0);
    CHECK_STATUS(lfr_match_search(s, w.t, 2.0f, NULL, 0, &n_few), LFR_OK);
    lfr_match_snapshot_unref(s);
    wl_free(&w);
}

/* Scores per entry of one search with threshold -1 (every entry). */
static void scores_by_entry(const lfr_match_snapshot *s, lfr_match_impl impl, const float *probe,
                            int n_entries, lfr_match_hit *h) {
    int n = 0;
    CHECK_STATUS(lfr_match_search_impl(s, impl, probe, 1, -1.0f, h, n_entries, &n), LFR_OK);
    CHECK_EQ_INT(n, n_entries);
}

static void test_avx2_equals_scalar(void) {
    if (!lfr_match_impl_available(LFR_MATCH_IMPL_AVX2)) SKIP("this CPU has no AVX2+FMA");
    CHECK(lfr_match_impl_auto() == (lfr_match_impl_available(LFR_MATCH_IMPL_VNNI)
                                        ? LFR_MATCH_IMPL_VNNI
                                        : LFR_MATCH_IMPL_AVX2));
    int dims[] = {DIM, 1, 13, 100, 512};
    for (int di = 0; di < 5; di++) {
        int dim = dims[di];
        wl w = wl_random(dim == 1 ? 2 : 400, 3, dim);
        lfr_match_snapshot *s = NULL;
        CHECK_STATUS(lfr_match_snapshot_build(dim, (size_t)w.n, w.t, w.id, w.img, &s), LFR_OK);
        if (!s) continue;
        int ne = (int)lfr_match_snapshot_entries(s);
        lfr_match_hit *a = malloc(sizeof *a * (size_t)ne), *b = malloc(sizeof *b * (size_t)ne);
        float *probe = malloc(sizeof(float) * (size_t)dim);
        for (int k = 0; k < 10; k++) {
            rnd_unit(probe, dim);
            scores_by_entry(s, LFR_MATCH_IMPL_SCALAR, probe, ne, a);
            scores_by_entry(s, LFR_MATCH_IMPL_AVX2, probe, ne, b);
            /* Same entries with the same scores up to rounding (order may
             * differ only between scores closer than the rounding). */
            for (int i = 0; i < ne; i++) {
                int j = 0;
                while (j < ne && b[j].entry_id != a[i].entry_id) j++;
                CHECK(j < ne);
                if (j == ne) continue;
                CHECK_NEAR(a[i].score, b[j].score, 1e-5);
                if (a[i].score - b[j].score == 0) CHECK_EQ_INT(a[i].image_index, b[j].image_index);
                CHECK_NEAR(a[i].score, b[i].score, 1e-5); /* order: rounding only */
            }
            /* And an ordinary threshold gives the same hit list. */
            int na = 0, nb = 0;
            CHECK_STATUS(lfr_match_search_impl(s, LFR_MATCH_IMPL_SCALAR, probe, 1, 0.1f, a, ne, &na), LFR_OK);
            CHECK_STATUS(lfr_match_search_impl(s, LFR_MATCH_IMPL_AVX2, probe, 1, 0.1f, b, ne, &nb), LFR_OK);
            int near_thr = 0;
            for (int i = 0; i < na; i++) near_thr |= fabs(a[i].score - 0.1f) < 1e-5;
            if (!near_thr) CHECK_EQ_INT(na, nb);
        }
        free(a);
        free(b);
        free(probe);
        lfr_match_snapshot_unref(s);
        wl_free(&w);
    }
}

static void test_batch_equals_single(void) {
    wl w = wl_random(500, 3, DIM);
    lfr_match_snapshot *s = NULL;
    CHECK_STATUS(lfr_match_snapshot_build(DIM, (size_t)w.n, w.t, w.id, w.img, &s), LFR_OK);
    if (!s) return;
    enum { MH = 64 };
    float probes[LFR_MAX_MATCH_BATCH * DIM];
    for (int p = 0; p < LFR_MAX_MATCH_BATCH; p++) {
        if (p % 2) rnd_unit(probes + p * DIM, DIM);
        else rnd_at_cos(probes + p * DIM, w.t + (size_t)(p * 37) * DIM, 0.5 + 0.05 * p, DIM);
    }
    lfr_match_impl impls[2] = {LFR_MATCH_IMPL_SCALAR, LFR_MATCH_IMPL_AVX2};
    for (int ii = 0; ii < 2; ii++) {
        if (!lfr_match_impl_available(impls[ii])) continue;
        for (int np = 1; np <= LFR_MAX_MATCH_BATCH; np++) {
            lfr_match_hit bh[LFR_MAX_MATCH_BATCH * MH], sh[MH];
            int bn[LFR_MAX_MATCH_BATCH], sn = 0;
            lfr_status st = lfr_match_search_impl(s, impls[ii], probes, np, 0.1f, bh, MH, bn);
            for (int p = 0; p < np; p++) {
                lfr_status st1 = lfr_match_search_impl(s, impls[ii], probes + p * DIM, 1, 0.1f, sh, MH, &sn);
                CHECK(st1 == LFR_OK || st1 == LFR_ERR_TOO_LARGE);
                if (st1 == LFR_ERR_TOO_LARGE) CHECK_STATUS(st, LFR_ERR_TOO_LARGE);
                CHECK_EQ_INT(bn[p], sn);
                for (int i = 0; i < sn && i < bn[p]; i++) { /* bit-identical */
                    CHECK_EQ_INT(bh[p * MH + i].entry_id, sh[i].entry_id);
                    CHECK_EQ_INT(bh[p * MH + i].image_index, sh[i].image_index);
                    CHECK(memcmp(&bh[p * MH + i].score, &sh[i].score, sizeof(float)) == 0);
                }
            }
        }
    }
    /* The public batch call (AUTO) equals AUTO singles too. */
    lfr_match_hit bh[3 * MH], sh[MH];
    int bn[3], sn;
    CHECK_STATUS(lfr_match_search_batch(s, probes, 3, 0.3f, bh, MH, bn), LFR_OK);
    for (int p = 0; p < 3; p++) {
        CHECK_STATUS(lfr_match_search(s, probes + p * DIM, 0.3f, sh, MH, &sn), LFR_OK);
        CHECK_EQ_INT(bn[p], sn);
        for (int i = 0; i < sn; i++) CHECK_EQ_INT(bh[p * MH + i].entry_id, sh[i].entry_id);
    }
    lfr_match_snapshot_unref(s);
    wl_free(&w);
}

typedef struct {
    lfr_match_snapshot *s;
    const float *probe;
    int64_t want;
    int ok;
} worker_arg;

static void *worker(void *p) {
    worker_arg *a = p;
    a->ok = 1;
    for (int k = 0; k < 50; k++) {
        lfr_match_hit h[4];
        int n = 0;
        if (lfr_match_search(a->s, a->probe, 0.9f, h, 4, &n) != LFR_OK || n != 1 ||
            h[0].entry_id != a->want)
            a->ok = 0;
    }
    lfr_match_snapshot_unref(a->s); /* the thread's own reference */
    return NULL;
}

static void test_refcount_and_immutability(void) {
    wl w = wl_random(100, 2, DIM);
    lfr_match_snapshot *s = NULL;
    CHECK_STATUS(lfr_match_snapshot_new(DIM, (size_t)w.n, &s), LFR_OK);
    if (!s) return;
    for (int i = 0; i < w.n; i++) CHECK_STATUS(lfr_match_snapshot_add(s, w.id[i], w.img[i], w.t + (size_t)i * DIM), LFR_OK);
    lfr_match_hit h[4];
    int n = 0;
    CHECK(!lfr_match_snapshot_frozen(s));
    CHECK_STATUS(lfr_match_search(s, w.t, 0.5f, h, 4, &n), LFR_ERR_STATE); /* not yet */
    CHECK_STATUS(lfr_match_snapshot_freeze(s), LFR_OK);
    CHECK(lfr_match_snapshot_frozen(s));
    CHECK_STATUS(lfr_match_snapshot_freeze(s), LFR_ERR_STATE);
    CHECK_STATUS(lfr_match_snapshot_add(s, 1, 1, w.t), LFR_ERR_STATE); /* immutable */
    CHECK_EQ_INT(lfr_match_snapshot_templates(s), w.n);
    /* Four camera threads each hold a reference; the builder lets go of
     * its own at once; the snapshot lives until the last thread is done
     * (ASan would report a use after free otherwise). */
    pthread_t th[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){lfr_match_snapshot_ref(s), w.t + (size_t)(i * 11) * DIM, w.id[i * 11], 0};
        CHECK(args[i].s == s);
    }
    for (int i = 0; i < 4; i++) CHECK(pthread_create(&th[i], NULL, worker, &args[i]) == 0);
    lfr_match_snapshot_unref(s);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(args[i].ok);
    }
    lfr_match_snapshot_unref(NULL); /* allowed */
    wl_free(&w);
}

static void test_invalid_input(void) {
    float v[DIM], bad[DIM];
    rnd_unit(v, DIM);
    lfr_match_snapshot *s = NULL;
    CHECK_STATUS(lfr_match_snapshot_new(DIM, 2, &s), LFR_OK);
    if (!s) return;
    for (int i = 0; i < DIM; i++) bad[i] = 2 * v[i];
    CHECK_STATUS(lfr_match_snapshot_add(s, 1, 0, bad), LFR_ERR_INVALID_ARG); /* not unit */
    memcpy(bad, v, sizeof v);
    bad[5] = NAN;
    CHECK_STATUS(lfr_match_snapshot_add(s, 1, 0, bad), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_match_snapshot_add(s, 1, 0, NULL), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_match_snapshot_add(s, 1, 0, v), LFR_OK);
    CHECK_STATUS(lfr_match_snapshot_add(s, 2, 0, v), LFR_OK);
    CHECK_STATUS(lfr_match_snapshot_add(s, 3, 0, v), LFR_ERR_TOO_LARGE); /* past capacity */
    CHECK_STATUS(lfr_match_snapshot_freeze(s), LFR_OK);
    lfr_match_hit h[2];
    int n = 7;
    CHECK_STATUS(lfr_match_search(s, bad, 0.5f, h, 2, &n), LFR_ERR_INVALID_ARG);
    CHECK_EQ_INT(n, 0);
    CHECK_STATUS(lfr_match_search(s, v, NAN, h, 2, &n), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_match_search(s, v, INFINITY, h, 2, &n), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_match_search(s, v, 0.5f, NULL, 2, &n), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_match_search(s, v, 0.5f, h, -1, &n), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_match_search(NULL, v, 0.5f, h, 2, &n), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_match_search_batch(s, v, 0, 0.5f, h, 2, &n), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_match_search(s, v, 0.5f, h, 2, &n), LFR_OK);
    CHECK_EQ_INT(n, 2); /* two entries, same vector: ties by entry id */
    CHECK_EQ_INT(h[0].entry_id, 1);
    CHECK_EQ_INT(h[1].entry_id, 2);
    lfr_match_snapshot_unref(s);
    CHECK_STATUS(lfr_match_snapshot_new(0, 2, &s), LFR_ERR_INVALID_ARG);
    CHECK(s == NULL);
}

static void test_limits(void) {
    lfr_match_snapshot *s = NULL;
    CHECK_STATUS(lfr_match_snapshot_new(DIM, (size_t)LFR_MAX_WATCHLIST_TEMPLATES + 1, &s),
                 LFR_ERR_TOO_LARGE);
    CHECK(s == NULL);
    CHECK_STATUS(lfr_match_snapshot_build(DIM, (size_t)LFR_MAX_WATCHLIST_TEMPLATES + 1, NULL, NULL,
                                          NULL, &s), LFR_ERR_INVALID_ARG);
    float one = 1.0f;
    int64_t id = 1;
    CHECK_STATUS(lfr_match_snapshot_build(1, (size_t)LFR_MAX_WATCHLIST_TEMPLATES + 1, &one, &id,
                                          NULL, &s), LFR_ERR_TOO_LARGE);
    CHECK_STATUS(lfr_match_snapshot_new(LFR_MAX_MATCH_DIM + 1, 1, &s), LFR_ERR_TOO_LARGE);
    /* Exactly at the limits is accepted (dim 1: 64 MiB, pages untouched). */
    CHECK_STATUS(lfr_match_snapshot_new(1, LFR_MAX_WATCHLIST_TEMPLATES, &s), LFR_OK);
    lfr_match_snapshot_unref(s);
    CHECK_STATUS(lfr_match_snapshot_new(LFR_MAX_MATCH_DIM, 1, &s), LFR_OK);
    float v[LFR_MAX_MATCH_DIM];
    rnd_unit(v, LFR_MAX_MATCH_DIM);
    CHECK_STATUS(lfr_match_snapshot_add(s, 1, 0, v), LFR_OK);
    CHECK_STATUS(lfr_match_snapshot_freeze(s), LFR_OK);
    lfr_match_hit h[LFR_MAX_MATCH_BATCH + 1];
    int n[LFR_MAX_MATCH_BATCH + 1];
    float probes[(LFR_MAX_MATCH_BATCH + 1) * 8];
    lfr_match_snapshot *s8 = NULL;
    rnd_unit(probes, 8);
    for (int p = 1; p <= LFR_MAX_MATCH_BATCH; p++) memcpy(probes + p * 8, probes, sizeof(float) * 8);
    CHECK_STATUS(lfr_match_snapshot_build(8, 1, probes, &id, NULL, &s8), LFR_OK);
    CHECK_STATUS(lfr_match_search_batch(s8, probes, LFR_MAX_MATCH_BATCH, 0.5f, h, 1, n), LFR_OK);
    CHECK_STATUS(lfr_match_search_batch(s8, probes, LFR_MAX_MATCH_BATCH + 1, 0.5f, h, 1, n),
                 LFR_ERR_TOO_LARGE);
    lfr_match_snapshot_unref(s8);
    lfr_match_snapshot_unref(s);
}

static void test_fault_injection(void) {
    wl w = wl_random(40, 3, DIM);
    int ok_at = -1;
    for (long k = 0; k < 100 && ok_at < 0; k++) {
        lfr_match_snapshot *s = (lfr_match_snapshot *)&w; /* must be reset */
        lfr_alloc_fail_after(k);
        lfr_status st = lfr_match_snapshot_build(DIM, (size_t)w.n, w.t, w.id, w.img, &s);
        lfr_alloc_fail_after(-1);
        if (st == LFR_OK) {
            ok_at = (int)k;
            int n = 0;
            lfr_match_hit h[1];
            CHECK_STATUS(lfr_match_search(s, w.t, 0.99f, h, 1, &n), LFR_OK);
            CHECK_EQ_INT(n, 1);
            lfr_match_snapshot_unref(s);
        } else {
            CHECK_STATUS(st, LFR_ERR_NOMEM);
            CHECK(s == NULL);
        }
    }
    CHECK(ok_at > 0); /* some allocation failures were exercised */
    /* A failed freeze leaves the snapshot unfrozen; it can be retried. */
    lfr_match_snapshot *s = NULL;
    CHECK_STATUS(lfr_match_snapshot_new(DIM, (size_t)w.n, &s), LFR_OK);
    if (s) {
        for (int i = 0; i < w.n; i++) lfr_match_snapshot_add(s, w.id[i], w.img[i], w.t + (size_t)i * DIM);
        for (long k = 0; k < 4; k++) {
            lfr_alloc_fail_after(k);
            lfr_status st = lfr_match_snapshot_freeze(s);
            lfr_alloc_fail_after(-1);
            if (st == LFR_OK) break;
            CHECK_STATUS(st, LFR_ERR_NOMEM);
            CHECK(!lfr_match_snapshot_frozen(s));
        }
        if (!lfr_match_snapshot_frozen(s)) CHECK_STATUS(lfr_match_snapshot_freeze(s), LFR_OK);
        CHECK_EQ_INT(lfr_match_snapshot_entries(s), 40);
        lfr_match_snapshot_unref(s);
    }
    wl_free(&w);
}

/* Int8 scan ------------------------------------------------------------------ */

/* Every field of two hit lists bit for bit. */
static int hits_identical(const lfr_match_hit *a, const lfr_match_hit *b, int n) {
    for (int i = 0; i < n; i++)
        if (a[i].entry_id != b[i].entry_id || a[i].image_index != b[i].image_index ||
            memcmp(&a[i].score, &b[i].score, sizeof(float)) != 0 ||
            a[i].entry_template != b[i].entry_template || a[i].entry_images != b[i].entry_images ||
            memcmp(&a[i].image_score, &b[i].image_score, sizeof(float)) != 0)
            return 0;
    return 1;
}

static const lfr_match_impl all_impls[3] = {LFR_MATCH_IMPL_SCALAR, LFR_MATCH_IMPL_AVX2,
                                            LFR_MATCH_IMPL_VNNI};

/* For every available implementation, batch size 1..8, the thresholds and
 * list sizes given: int8, int4 and fp32 give the same statuses, counts and hits
 * (bit-identical); returns how many searches were compared. */
static int compare_precisions(const lfr_match_snapshot *s, const float *probes, int n_probes,
                              const float *thr, int n_thr, const int *max_hits, int n_max) {
    int dim = lfr_match_snapshot_dim(s), compared = 0;
    int ne = (int)lfr_match_snapshot_entries(s);
    int cap = ne > 0 ? ne : 1;
    lfr_match_hit *a = malloc(sizeof *a * (size_t)cap * LFR_MAX_MATCH_BATCH);
    lfr_match_hit *b = malloc(sizeof *b * (size_t)cap * LFR_MAX_MATCH_BATCH);
    for (int ii = 0; ii < 3; ii++) {
        if (!lfr_match_impl_available(all_impls[ii])) continue;
        for (int ti = 0; ti < n_thr; ti++)
            for (int mi = 0; mi < n_max; mi++) {
                int mh = max_hits[mi] < 0 || max_hits[mi] > cap ? cap : max_hits[mi];
                for (int p0 = 0; p0 < n_probes; p0 += LFR_MAX_MATCH_BATCH) {
                    int np = 1 + (p0 / LFR_MAX_MATCH_BATCH + ti + mi) % LFR_MAX_MATCH_BATCH;
                    if (p0 + np > n_probes) np = n_probes - p0;
                    int na[LFR_MAX_MATCH_BATCH], nb[LFR_MAX_MATCH_BATCH];
                    const float *q = probes + (size_t)p0 * dim;
                    lfr_status sa = lfr_match_search_prec(s, all_impls[ii], LFR_MATCH_PREC_FP32, q,
                                                          np, thr[ti], a, mh, na, NULL);
                    for (int pi = 0; pi < 2; pi++) {
                        lfr_match_precision pr = pi ? LFR_MATCH_PREC_INT4 : LFR_MATCH_PREC_INT8;
                        lfr_status sb = lfr_match_search_prec(s, all_impls[ii], pr, q, np, thr[ti],
                                                              b, mh, nb, NULL);
                        CHECK_STATUS(sb, sa);
                        for (int p = 0; p < np; p++) {
                            CHECK_EQ_INT(nb[p], na[p]);
                            if (na[p] == nb[p])
                                CHECK(hits_identical(a + (size_t)p * mh, b + (size_t)p * mh, na[p]));
                        }
                        compared += np;
                    }
                }
            }
    }
    free(a);
    free(b);
    return compared;
}

/* Probes: near templates at several cosines, the templates themselves,
 * random vectors. */
static float *probes_for(const wl *w, int n) {
    float *q = malloc(sizeof(float) * (size_t)n * (size_t)w->dim);
    for (int k = 0; k < n; k++) {
        float *v = q + (size_t)k * w->dim;
        int r = (int)(rnd_u() * w->n);
        if (w->n == 0 || k % 5 == 4) rnd_unit(v, w->dim);
        else if (k % 5 == 3) memcpy(v, w->t + (size_t)r * w->dim, sizeof(float) * (size_t)w->dim);
        else rnd_at_cos(v, w->t + (size_t)r * w->dim, 0.55 + 0.1 * (k % 5) + 0.02 * (k % 3), w->dim);
    }
    return q;
}

static void test_int8_equals_fp32(void) {
    /* 192 and 704: the two model sets; 1, 13, 33, 100: dims that are not a
     * multiple of the 32-byte SIMD width. */
    int dims[] = {192, 704, 1, 13, 33, 100};
    float thr[] = {-1.0f, 0.0f, 0.3f, 0.62f, 0.7f, 0.9f};
    int mhs[] = {-1, 0, 1, 3};
    int compared = 0;
    for (int di = 0; di < 6; di++) {
        int dim = dims[di];
        wl w = wl_random(dim == 1 ? 3 : 150, 3, dim);
        /* near-duplicates: scores that differ by less than the int8 error */
        if (dim > 1)
            for (int i = 1; i < 20 && i < w.n; i++)
                rnd_at_cos(w.t + (size_t)i * dim, w.t, 0.999, dim);
        float *q = probes_for(&w, 24);
        for (int k = 0; k < LFR_MATCH_ENTRY_TEMPLATE_COUNT; k++) {
            lfr_match_snapshot *s = NULL;
            CHECK_STATUS(lfr_match_snapshot_build_entries(dim, (size_t)w.n, w.t, w.id, w.img,
                                                          (lfr_match_entry_template)k, &s),
                         LFR_OK);
            if (!s) continue;
            compared += compare_precisions(s, q, 24, thr, 6, mhs, 4);
            lfr_match_snapshot_unref(s);
        }
        free(q);
        wl_free(&w);
    }
    fprintf(stderr, "  %d probe searches compared, int8 and int4 == fp32 bit for bit\n", compared);
    CHECK(compared > 5000);
}

static void test_int8_edge_cases(void) {
    float thr[] = {-1.0f, 0.5f, 0.99f};
    int mhs[] = {-1, 0, 1};
    float probe[LFR_MAX_MATCH_BATCH * DIM];
    for (int p = 0; p < LFR_MAX_MATCH_BATCH; p++) rnd_unit(probe + p * DIM, DIM);
    /* Empty. */
    lfr_match_snapshot *s = NULL;
    CHECK_STATUS(lfr_match_snapshot_build(DIM, 0, NULL, NULL, NULL, &s), LFR_OK);
    if (s) {
        lfr_match_hit h[1];
        int n[LFR_MAX_MATCH_BATCH];
        lfr_match_search_stats st;
        CHECK_STATUS(lfr_match_search_prec(s, LFR_MATCH_IMPL_AUTO, LFR_MATCH_PREC_INT8, probe, 8,
                                           -1.0f, h, 1, n, &st), LFR_OK);
        for (int p = 0; p < 8; p++) CHECK_EQ_INT(n[p], 0);
        CHECK_EQ_INT(st.rows_scanned, 0);
        lfr_match_snapshot_unref(s);
    }
    /* n = 1 .. 37 rows (every remainder of the 4-, 2- and 1-row blocks and
     * of the 256-row chunk at n = 1), one template per entry. */
    for (int n = 1; n <= 37; n += (n < 10 ? 1 : 9)) {
        wl w = wl_random(n, 1, DIM);
        CHECK_STATUS(lfr_match_snapshot_build(DIM, (size_t)w.n, w.t, w.id, w.img, &s), LFR_OK);
        float *q = probes_for(&w, 8);
        if (s) compare_precisions(s, q, 8, thr, 3, mhs, 3);
        lfr_match_snapshot_unref(s);
        free(q);
        wl_free(&w);
    }
    /* 300 rows: two chunks, the second partial. */
    wl w = wl_random(300, 1, DIM);
    CHECK_STATUS(lfr_match_snapshot_build(DIM, (size_t)w.n, w.t, w.id, w.img, &s), LFR_OK);
    float *q = probes_for(&w, 16);
    if (s) compare_precisions(s, q, 16, thr, 3, mhs, 3);
    lfr_match_snapshot_unref(s);
    /* All templates equal: every entry ties; order by entry id. */
    for (int i = 1; i < w.n; i++) memcpy(w.t + (size_t)i * DIM, w.t, sizeof(float) * DIM);
    CHECK_STATUS(lfr_match_snapshot_build(DIM, (size_t)w.n, w.t, w.id, w.img, &s), LFR_OK);
    if (s) {
        compare_precisions(s, q, 16, thr, 3, mhs, 3);
        lfr_match_hit h[5];
        int n = 0;
        CHECK_STATUS(lfr_match_search_prec(s, LFR_MATCH_IMPL_AUTO, LFR_MATCH_PREC_INT8, w.t, 1,
                                           0.5f, h, 5, &n, NULL), LFR_ERR_TOO_LARGE);
        CHECK_EQ_INT(n, 5);
        for (int i = 1; i < n; i++) CHECK(h[i - 1].entry_id < h[i].entry_id);
    }
    lfr_match_snapshot_unref(s);
    free(q);
    wl_free(&w);
    /* Vectors whose codes are all +-127 (template) and +-64 (probe): the
     * largest pair sums the AVX2 kernel's int16 step sees (2 * 255 * 64). */
    float a[DIM], b[DIM];
    for (int i = 0; i < DIM; i++) {
        a[i] = (i % 3 ? 1.0f : -1.0f) / sqrtf(DIM);
        b[i] = a[i];
    }
    int64_t id = 5;
    CHECK_STATUS(lfr_match_snapshot_build(DIM, 1, a, &id, NULL, &s), LFR_OK);
    for (int ii = 0; s && ii < 3; ii++) {
        if (!lfr_match_impl_available(all_impls[ii])) continue;
        float ex = 0, ap = 0, bd = 0;
        for (int pi = 0; pi < 2; pi++) {
            lfr_match_precision pr = pi ? LFR_MATCH_PREC_INT4 : LFR_MATCH_PREC_INT8;
            CHECK_STATUS(lfr_match_row_scores(s, all_impls[ii], pr, b, &ex, &ap, &bd), LFR_OK);
            CHECK_NEAR(ap, 1.0, 1e-5);
            CHECK(fabsf(ap - ex) <= bd);
            for (int i = 0; i < DIM; i++) b[i] = -a[i];
            CHECK_STATUS(lfr_match_row_scores(s, all_impls[ii], pr, b, &ex, &ap, &bd), LFR_OK);
            CHECK_NEAR(ap, -1.0, 1e-5);
            for (int i = 0; i < DIM; i++) b[i] = a[i];
        }
        for (int i = 0; i < DIM; i++) b[i] = a[i];
    }
    lfr_match_snapshot_unref(s);
}

/* |approx - exact| <= bound on every row, for random, near-duplicate and
 * badly quantised (one large component) vectors, every kernel computing the
 * same approximations. */
static void test_int8_bound_holds(void) {
    int dims[] = {192, 704, 7};
    double worst_ratio[2] = {0, 0}, mean_bound[2] = {0, 0}, mean_err[2] = {0, 0};
    long nb[2] = {0, 0};
    for (int di = 0; di < 3; di++) {
        int dim = dims[di];
        wl w = wl_random(400, 1, dim);
        for (int i = 0; i < 100; i++) { /* spiky: one component ~0.9 */
            float *t = w.t + (size_t)i * dim;
            t[i % dim] += 3.0f;
            double ss = dot(t, t, dim);
            for (int d = 0; d < dim; d++) t[d] = (float)(t[d] / sqrt(ss));
        }
        for (int i = 100; i < 150; i++) rnd_at_cos(w.t + (size_t)i * dim, w.t + 200 * (size_t)dim, 0.98, dim);
        lfr_match_snapshot *s = NULL;
        CHECK_STATUS(lfr_match_snapshot_build(dim, (size_t)w.n, w.t, w.id, NULL, &s), LFR_OK);
        if (!s) continue;
        float *q = probes_for(&w, 30);
        float *ex = malloc(sizeof(float) * (size_t)w.n), *ap[3], *bd = malloc(sizeof(float) * (size_t)w.n);
        for (int ii = 0; ii < 3; ii++) ap[ii] = malloc(sizeof(float) * (size_t)w.n);
        for (int k = 0; k < 60; k++) {
            int pi = k % 2;
            lfr_match_precision pr = pi ? LFR_MATCH_PREC_INT4 : LFR_MATCH_PREC_INT8;
            for (int ii = 0; ii < 3; ii++) {
                if (!lfr_match_impl_available(all_impls[ii])) continue;
                CHECK_STATUS(lfr_match_row_scores(s, all_impls[ii], pr, q + (size_t)(k / 2) * dim, ex,
                                                  ap[ii], bd), LFR_OK);
                if (ii > 0) CHECK(memcmp(ap[ii], ap[0], sizeof(float) * (size_t)w.n) == 0);
            }
            for (int r = 0; r < w.n; r++) {
                double err = fabs((double)ap[0][r] - ex[r]);
                CHECK(err <= bd[r]);
                if (err / bd[r] > worst_ratio[pi]) worst_ratio[pi] = err / bd[r];
                if (dim == 192) mean_bound[pi] += bd[r], mean_err[pi] += err, nb[pi]++;
            }
        }
        for (int ii = 0; ii < 3; ii++) free(ap[ii]);
        free(ex);
        free(bd);
        free(q);
        lfr_match_snapshot_unref(s);
        wl_free(&w);
    }
    for (int pi = 0; pi < 2; pi++)
        fprintf(stderr, "  %s 192-d: mean |approx - fp32| %.5f, mean bound %.4f; worst error/bound %.3f\n",
                pi ? "int4" : "int8", mean_err[pi] / nb[pi], mean_bound[pi] / nb[pi], worst_ratio[pi]);
}

/* At the default threshold random probes re-score (almost) nothing: the
 * int8 scan is what is paid for.  Searching for a template re-scores it. */
static void test_int8_rescores_few(void) {
    wl w = wl_random(3000, 1, DIM);
    lfr_match_snapshot *s = NULL;
    CHECK_STATUS(lfr_match_snapshot_build(DIM, (size_t)w.n, w.t, w.id, NULL, &s), LFR_OK);
    if (!s) return;
    float q[DIM];
    lfr_match_hit h[4];
    int n = 0;
    lfr_match_search_stats st;
    size_t rescored = 0;
    int int4;
    for (int k = 0; k < 20; k++) {
        int4 = k % 2;
        rnd_unit(q, DIM);
        CHECK_STATUS(lfr_match_search_prec(s, LFR_MATCH_IMPL_AUTO,
                                           int4 ? LFR_MATCH_PREC_INT4 : LFR_MATCH_PREC_INT8, q, 1,
                                           LFR_MATCH_DEFAULT_THRESHOLD, h, 4, &n, &st), LFR_OK);
        CHECK_EQ_INT(st.rows_scanned, w.n);
        rescored += st.rows_rescored;
        /* largest bound over 3,000 random 192-d rows: int8 ~0.03, int4 ~0.2 */
        CHECK(st.max_bound > 0 && st.max_bound < (int4 ? 0.3f : 0.05f));
        if (k < 2) fprintf(stderr, "  %s: largest bound %.4f\n", int4 ? "int4" : "int8", st.max_bound);
    }
    CHECK_EQ_INT(rescored, 0);
    CHECK_STATUS(lfr_match_search_prec(s, LFR_MATCH_IMPL_AUTO, LFR_MATCH_PREC_INT8, w.t + 7 * DIM,
                                       1, LFR_MATCH_DEFAULT_THRESHOLD, h, 4, &n, &st), LFR_OK);
    CHECK_EQ_INT(n, 1);
    CHECK(st.rows_rescored >= 1 && st.rows_rescored < 10);
    /* A top list (threshold -1, 3 hits): once the list is full and cut,
     * only entries that can beat its worst hit are re-scored. */
    CHECK_STATUS(lfr_match_search_prec(s, LFR_MATCH_IMPL_AUTO, LFR_MATCH_PREC_INT8, q, 1, -1.0f,
                                       h, 3, &n, &st), LFR_ERR_TOO_LARGE);
    CHECK(st.rows_rescored < (size_t)w.n / 4);
    lfr_match_memory m;
    lfr_match_snapshot_memory(s, &m);
    CHECK_EQ_INT(m.fp32_bytes, (size_t)w.n * DIM * 4);
    CHECK_EQ_INT(m.int8_bytes, (size_t)w.n * DIM);
    CHECK_EQ_INT(m.int4_bytes, (size_t)w.n * DIM / 2);
    CHECK_EQ_INT(strcmp(lfr_match_precision_name(LFR_MATCH_PREC_INT8), "int8"), 0);
    lfr_match_snapshot_unref(s);
    wl_free(&w);
}

/* Score meaning ------------------------------------------------------------ */

static void test_calibration_table_sane(void) {
    int n = 0;
    lfr_match_calib_info info;
    const lfr_match_calib_point *c = lfr_match_calib(&n, &info);
    CHECK(n >= 50);
    CHECK(info.impostor_pairs > 1000000 && info.genuine_pairs > 10000);
    CHECK(info.source && strstr(info.source, "calibrate"));
    CHECK(c[0].fmr > 0 && c[0].fmr < 1 && c[0].cosine > -1);
    for (int i = 0; i < n; i++) {
        CHECK_NEAR(c[i].fmr, (double)c[i].n_imp / (double)info.impostor_pairs, 1e-6 * c[i].fmr + 1e-12);
        CHECK_NEAR(c[i].tar, (double)c[i].n_gen / (double)info.genuine_pairs, 1e-6);
        if (i == 0) continue;
        CHECK(c[i].cosine > c[i - 1].cosine);
        CHECK(c[i].n_imp <= c[i - 1].n_imp && c[i].n_gen <= c[i - 1].n_gen);
    }
    /* The top of the likeness scale is within the data's resolution: at
     * 10^-DECADES at least one impostor pair is expected. */
    CHECK((double)info.impostor_pairs * pow(10, -LFR_MATCH_LIKENESS_DECADES) >= 1.0);
    /* Reference points of the earlier all-pairs run (docs/accuracy.md):
     * FAR 1e-2 at 0.355, 1e-3 at 0.4646, 1e-4 at 0.5629. */
    CHECK_NEAR(log10(lfr_match_fmr(0.355f)), -2, 0.05);
    CHECK_NEAR(log10(lfr_match_fmr(0.4646f)), -3, 0.05);
    CHECK_NEAR(log10(lfr_match_fmr(0.5629f)), -4, 0.05);
}

static void test_fmr_tar_likeness_monotonic(void) {
    double pf = 2, pt = 2, pl = -1;
    int bad_f = 0, bad_t = 0, bad_l = 0, range = 0;
    for (int i = 0; i <= 20000; i++) {
        float t = -1.0f + (float)i * 1e-4f;
        double f = lfr_match_fmr(t), a = lfr_match_tar(t), l = lfr_match_likeness(t);
        bad_f += f > pf;
        bad_t += a > pt;
        bad_l += l < pl;
        range += !(f > 0 && f <= 1) || !(a >= 0 && a <= 1) || !(l >= 0 && l <= 100);
        pf = f, pt = a, pl = l;
    }
    CHECK_EQ_INT(bad_f, 0);
    CHECK_EQ_INT(bad_t, 0);
    CHECK_EQ_INT(bad_l, 0);
    CHECK_EQ_INT(range, 0);
    CHECK_NEAR(lfr_match_fmr(-1.0f), 1.0, 1e-12);
    CHECK_NEAR(lfr_match_likeness(-1.0f), 0.0, 1e-12);
    CHECK_NEAR(lfr_match_likeness(1.0f), 100.0, 1e-12);
    CHECK_NEAR(lfr_match_likeness(NAN), 0.0, 1e-12);
    CHECK_NEAR(lfr_match_likeness(5.0f), 100.0, 1e-12);
    /* Strictly increasing through the measured range. */
    CHECK(lfr_match_likeness(0.50f) < lfr_match_likeness(0.51f));
    CHECK(lfr_match_likeness(0.80f) < lfr_match_likeness(0.81f)); /* extrapolated part too */
    /* The documented meaning: likeness = 100 * -log10 FMR / DECADES. */
    CHECK_NEAR(lfr_match_likeness(0.5f), 100 * -log10(4.479574e-04) / LFR_MATCH_LIKENESS_DECADES, 1e-3);
    /* At a table point FMR is the measured value. */
    CHECK_NEAR(lfr_match_fmr(0.5f), 4.479574e-04, 1e-9);
    CHECK_NEAR(lfr_match_tar(0.5f), 0.993741, 1e-6);
}

static void test_extrapolation_conservative(void) {
    int n = 0;
    lfr_match_calib_info info;
    const lfr_match_calib_point *c = lfr_match_calib(&n, &info);
    /* Never below what was observed, anywhere. */
    for (int i = 0; i < n; i++)
        if (c[i].n_imp > 0) CHECK(lfr_match_fmr((float)c[i].cosine) >= c[i].fmr * (1 - 1e-6));
    /* Past the last observed impostor pair FMR still falls, and not faster
     * than it fell over the measured tail. */
    CHECK(lfr_match_fmr(0.95f) < lfr_match_fmr(0.90f));
    double slope_meas = (log10(lfr_match_fmr(info.measured_up_to)) -
                         log10(lfr_match_fmr(info.measured_up_to - 0.1f))) / 0.1;
    double slope_ext = (log10(lfr_match_fmr(0.99f)) - log10(lfr_match_fmr(0.89f))) / 0.1;
    CHECK(slope_ext >= slope_meas * (1 + 1e-3));
    lfr_match_threshold_meaning m;
    lfr_match_threshold_info(info.measured_up_to + 0.05f, 10, &m);
    CHECK_EQ_INT(m.extrapolated, 1);
    lfr_match_threshold_info(0.5f, 10, &m);
    CHECK_EQ_INT(m.extrapolated, 0);
}

static void test_fpir_hand_values(void) {
    /* FMR(0.5) = 4.479574e-4 (table point): FPIR for 1, 1,000 and 10,000
     * templates computed by hand: 1 - (1 - f)^N. */
    CHECK_NEAR(lfr_match_fpir(0.5f, 1), 4.479574e-04, 1e-9);
    CHECK_NEAR(lfr_match_fpir(0.5f, 1000), 0.3611322198828729, 1e-6);
    CHECK_NEAR(lfr_match_fpir(0.5f, 10000), 0.9886731314618832, 1e-6);
    CHECK_NEAR(lfr_match_fpir(0.5f, 0), 0.0, 0);
    CHECK_NEAR(lfr_match_fpir(-1.0f, 5), 1.0, 0);
    /* Small FMR: FPIR ~ N * FMR without cancellation. */
    double f = lfr_match_fmr(0.95f);
    CHECK_NEAR(lfr_match_fpir(0.95f, 3) / (3 * f), 1.0, 1e-6);
    lfr_match_threshold_meaning m;
    lfr_match_threshold_info(0.5f, 1000, &m);
    CHECK_NEAR(m.fpir, 0.3611322198828729, 1e-6);
    CHECK_NEAR(m.false_alerts_per_10k, 3611.322198828729, 1e-2);
    CHECK_NEAR(m.fmr, 4.479574e-04, 1e-9);
    CHECK_NEAR(m.likeness, lfr_match_likeness(0.5f), 0);
    CHECK_NEAR(m.tar, 0.993741, 1e-6);
    CHECK_EQ_INT(m.n_templates, 1000);
}

static void test_threshold_for_likeness_inverts(void) {
    for (int i = 1; i <= 100; i++) {
        double l = i;
        float t = lfr_match_threshold_for_likeness(l);
        CHECK(lfr_match_likeness(t) >= l);
        CHECK(lfr_match_likeness(nextafterf(t, -2.0f)) < l); /* the lowest such */
        CHECK_NEAR(lfr_match_likeness(t), l, 1e-3);
    }
    for (float t = -0.9f; t < 0.83f; t += 0.037f) {
        /* Back to t, or to the start of a plateau of FMR that t lies on
         * (the tail keeps the observed rate between two table points). */
        double l = lfr_match_likeness(t);
        float back = lfr_match_threshold_for_likeness(l);
        CHECK(back <= t);
        CHECK_NEAR(lfr_match_likeness(back), l, 1e-9);
        if (t < 0.7f) CHECK_NEAR(back, t, 1e-5); /* measured range: strictly increasing */
    }
    CHECK_NEAR(lfr_match_threshold_for_likeness(0), -1.0, 0);
    CHECK_NEAR(lfr_match_threshold_for_likeness(-5), -1.0, 0);
    CHECK(lfr_match_threshold_for_likeness(150) == lfr_match_threshold_for_likeness(100));
}

static void test_default_threshold_documented(void) {
    /* The numbers match.h states for LFR_MATCH_DEFAULT_THRESHOLD. */
    lfr_match_threshold_meaning m;
    lfr_match_threshold_info(LFR_MATCH_DEFAULT_THRESHOLD, 1000, &m);
    CHECK(m.fmr > 5e-7 && m.fmr < 2e-6);
    CHECK_NEAR(m.false_alerts_per_10k, 9.5, 0.5);
    CHECK_NEAR(m.tar, 0.845, 0.005);
    CHECK_NEAR(m.likeness, 86, 0.5);
    CHECK_EQ_INT(m.extrapolated, 0);
    lfr_match_threshold_info(lfr_match_threshold_for_likeness(100.0 * 4 / LFR_MATCH_LIKENESS_DECADES), 1000, &m);
    CHECK_NEAR(m.fpir, 0.095, 0.002); /* FMR 1e-4 with 1,000 templates */
}

/* Groups (calib_groups.h) ------------------------------------------------- */

static void test_groups_table_sane(void) {
    int n = 0, np = 0;
    const char *src = NULL;
    const lfr_match_group *g = lfr_match_groups(&n, &src);
    const lfr_match_calib_point *main_table = lfr_match_calib(&np, NULL);
    CHECK(n >= 3 + 8 + 2);
    CHECK(src && strstr(src, "calibrate --groups"));
    /* the data sets first, then the groups */
    CHECK(!strcmp(g[0].name, "LFW") && !strcmp(g[1].name, "CelebA") && !strcmp(g[2].name, "UTKFace"));
    int bad = 0, considered = 0;
    for (int k = 0; k < n; k++) {
        CHECK(g[k].name && g[k].data_set && g[k].points);
        CHECK_EQ_INT(g[k].kind, k < 3 ? LFR_MATCH_GROUP_DATA_SET : LFR_MATCH_GROUP_DEMOGRAPHIC);
        const lfr_match_calib_point *c = g[k].points;
        for (int i = 0; i < np; i++) {
            bad += fabs(c[i].cosine - main_table[i].cosine) > 1e-9;
            bad += c[i].n_imp > g[k].impostor_pairs;
            bad += g[k].impostor_pairs &&
                   fabs(c[i].fmr - (double)c[i].n_imp / (double)g[k].impostor_pairs) >
                       1e-6 * c[i].fmr + 1e-12;
            if (i) bad += c[i].n_imp > c[i - 1].n_imp || c[i].n_gen > c[i - 1].n_gen;
        }
        /* the group's FMR: in (0, 1], non-increasing over [-1, 1] */
        double prev = 2;
        for (int i = 0; i <= 2000; i++) {
            int ex = -1;
            double f = lfr_match_group_fmr(k, -1.0f + (float)i * 1e-3f, &ex);
            bad += !(f > 0 && f <= 1) || f > prev * (1 + 1e-12) || (ex != 0 && ex != 1);
            prev = f;
        }
        /* beyond its measured range it is flagged */
        double mf = lfr_match_group_min_fmr(k);
        CHECK(mf > 0 && mf <= 1);
        if (g[k].kind == LFR_MATCH_GROUP_DEMOGRAPHIC &&
            g[k].impostor_pairs >= LFR_MATCH_GROUP_MIN_PAIRS)
            considered++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(considered >= 4);
    /* LFW, re-measured with today's engine, still agrees with the main
     * table within a factor of 2 at FMR 1e-3 and 1e-4. */
    CHECK(fabs(log10(lfr_match_group_fmr(0, 0.4646f, NULL) / lfr_match_fmr(0.4646f))) < 0.3);
    CHECK(fabs(log10(lfr_match_group_fmr(0, 0.5629f, NULL) / lfr_match_fmr(0.5629f))) < 0.3);
    CHECK_NEAR(lfr_match_group_fmr(-1, 0.5f, NULL), -1, 0);
    CHECK_NEAR(lfr_match_group_fmr(n, 0.5f, NULL), -1, 0);
}

static void test_worst_group_named(void) {
    int n = 0;
    const lfr_match_group *g = lfr_match_groups(&n, NULL);
    double wf = 0;
    int w = lfr_match_worst_group(LFR_MATCH_DEFAULT_THRESHOLD, &wf);
    CHECK(w >= 3 && w < n);
    if (w < 0) return;
    CHECK_EQ_INT(g[w].kind, LFR_MATCH_GROUP_DEMOGRAPHIC);
    CHECK(g[w].impostor_pairs >= LFR_MATCH_GROUP_MIN_PAIRS);
    /* the highest FMR of every considered group, never below the average */
    for (int k = 0; k < n; k++)
        if (g[k].kind == LFR_MATCH_GROUP_DEMOGRAPHIC &&
            g[k].impostor_pairs >= LFR_MATCH_GROUP_MIN_PAIRS)
            CHECK(lfr_match_group_fmr(k, LFR_MATCH_DEFAULT_THRESHOLD, NULL) <= wf);
    CHECK(wf >= lfr_match_fmr(LFR_MATCH_DEFAULT_THRESHOLD));
    lfr_match_threshold_meaning m;
    lfr_match_threshold_info(LFR_MATCH_DEFAULT_THRESHOLD, 1000, &m);
    CHECK_EQ_INT(m.worst_group, w);
    CHECK(m.worst_name && !strcmp(m.worst_name, g[w].name));
    CHECK_NEAR(m.worst_fmr, wf, 0);
    CHECK_NEAR(m.worst_fpir, lfr_match_fpir(0, 0) + (1 - pow(1 - wf, 1000)), 1e-9);
    CHECK_NEAR(m.worst_false_alerts_per_10k, 1e4 * m.worst_fpir, 1e-9);
    CHECK(m.worst_false_alerts_per_10k >= m.false_alerts_per_10k);
    printf("  worst group at %.2f: %s, FMR %.2e (LFW %.2e)\n",
           (double)LFR_MATCH_DEFAULT_THRESHOLD, g[w].name, wf, m.fmr);
}

/* The worst considered group's false alerts per 10,000 at t, n templates. */
static double worst_alerts(float t, size_t n) {
    double f;
    if (lfr_match_worst_group(t, &f) < 0) f = lfr_match_fmr(t);
    return 1e4 * (1 - pow(1 - f, (double)n));
}

static void test_threshold_for_false_alerts(void) {
    const double targets[] = {1, 6, 10, 100};
    const size_t sizes[] = {100, 1000, 10000};
    int n = 0;
    const lfr_match_group *g = lfr_match_groups(&n, NULL);
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 3; b++) {
            float t = 0;
            lfr_status st = lfr_match_threshold_for_false_alerts(targets[a], sizes[b], &t);
            if (st == LFR_ERR_TOO_LARGE) {
                CHECK(worst_alerts(1.0f, sizes[b]) > targets[a]);
                continue;
            }
            CHECK_STATUS(st, LFR_OK);
            /* met for every considered group, hence the worst ... */
            for (int k = 0; k < n; k++) {
                if (g[k].kind != LFR_MATCH_GROUP_DEMOGRAPHIC ||
                    g[k].impostor_pairs < LFR_MATCH_GROUP_MIN_PAIRS)
                    continue;
                double f = lfr_match_group_fmr(k, t, NULL);
                CHECK(1e4 * (1 - pow(1 - f, (double)sizes[b])) <= targets[a] * (1 + 1e-9));
            }
            /* ... and the lowest such threshold */
            CHECK(worst_alerts(nextafterf(t, -2.0f), sizes[b]) > targets[a]);
            /* more templates or a stricter target never lower it */
            float t2 = 0;
            if (lfr_match_threshold_for_false_alerts(targets[a], sizes[b] * 10, &t2) == LFR_OK)
                CHECK(t2 >= t);
            if (a && lfr_match_threshold_for_false_alerts(targets[a - 1], sizes[b], &t2) == LFR_OK)
                CHECK(t2 >= t);
        }
    float t = 0;
    CHECK_STATUS(lfr_match_threshold_for_false_alerts(1, 0, &t), LFR_OK);
    CHECK_NEAR(t, -1.0, 0);
    CHECK_STATUS(lfr_match_threshold_for_false_alerts(0, 100, &t), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_match_threshold_for_false_alerts(-1, 100, &t), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_match_threshold_for_false_alerts(NAN, 100, &t), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_match_threshold_for_false_alerts(1, 100, NULL), LFR_ERR_INVALID_ARG);
    /* a target of everything: any threshold */
    CHECK_STATUS(lfr_match_threshold_for_false_alerts(1e4, 100, &t), LFR_OK);
    CHECK_NEAR(t, -1.0, 0);
}

/* Entries with several photos (calib_entry_SET.h): every set has a table;
 * the weight is recomputed here from its rows by the documented rule and
 * compared, it grows with k, and the counted comparisons of a watchlist
 * follow from it. */
static void test_entry_weights(void) {
    for (int i = 0; i < lfr_match_calibration_count(); i++) {
        const lfr_match_calibration *c = lfr_match_calibration_at(i);
        int n = 0;
        const char *src = NULL;
        const lfr_match_entry_calib *e = lfr_match_cal_entry_table(c, &n, &src);
        CHECK(e && n >= 1 && src && strstr(src, "openlfr calibrate --entry-images"));
        if (!e) continue;
        CHECK_EQ_INT(lfr_match_cal_entry_measured(c), e[n - 1].k);
        int np = 0;
        const lfr_match_calib_point *pt = lfr_match_cal_table(c, &np, NULL);
        float smin = 0;
        lfr_match_cal_sane_range(c, &smin, NULL);
        double prev = 1;
        for (int r = 0; r < n; r++) {
            CHECK_EQ_INT(e[r].k, r + 2);
            CHECK(e[r].entries >= 100 && e[r].comparisons > 500000ull);
            CHECK(e[r].mean_ge[0] <= e[r].comparisons && e[r].single_ge[0] <= e[r].comparisons);
            double w = 1;
            for (int j = 0; j < np; j++) {
                if (j > 0) CHECK(e[r].mean_ge[j] <= e[r].mean_ge[j - 1]);
                if (pt[j].cosine < (double)smin - 1e-9 || e[r].single_ge[j] < 20 ||
                    e[r].mean_ge[j] < 20)
                    continue;
                double x = (double)e[r].mean_ge[j] / (double)e[r].single_ge[j];
                if (x > w) w = x;
            }
            if (prev > w) w = prev;
            CHECK_NEAR(lfr_match_cal_entry_weight(c, e[r].k), w, 1e-12);
            prev = w;
        }
        /* the rule on rows given: the compiled rows give the set's weights;
         * past the rows given, k */
        for (int k = 0; k <= LFR_MAX_ENTRY_IMAGES; k++)
            CHECK(lfr_match_entry_rows_weight(c, e, n, k) == lfr_match_cal_entry_weight(c, k));
        CHECK(lfr_match_entry_rows_weight(c, e, 1, 2) == lfr_match_cal_entry_weight(c, 2));
        CHECK(lfr_match_entry_rows_weight(c, e, 1, 3) == 3.0);
        CHECK(lfr_match_entry_rows_weight(c, NULL, 0, 2) == 2.0);
        /* a mean of photos does reach strangers more often than one photo */
        CHECK(lfr_match_cal_entry_weight(c, 2) > 1.5);
        CHECK(lfr_match_cal_entry_weight(c, 0) == 0 && lfr_match_cal_entry_weight(c, 1) == 1);
        int km = lfr_match_cal_entry_measured(c);
        if (km < LFR_MAX_ENTRY_IMAGES) CHECK(lfr_match_cal_entry_weight(c, km + 1) == km + 1);
        for (int k = 2; k <= LFR_MAX_ENTRY_IMAGES; k++)
            CHECK(lfr_match_cal_entry_weight(c, k) >= lfr_match_cal_entry_weight(c, k - 1));
        /* 1,000 one-photo entries, 100 of 2 photos, 10 of 3, 2 without a photo */
        int64_t by[LFR_MAX_ENTRY_IMAGES + 1] = {0};
        by[0] = 2, by[1] = 1000, by[2] = 100, by[3] = 10;
        double want = 1000 + 100 * lfr_match_cal_entry_weight(c, 2) +
                      10 * lfr_match_cal_entry_weight(c, 3);
        CHECK_EQ_INT((long long)lfr_match_cal_counted(c, LFR_MATCH_ENTRY_MEAN, by,
                                                       LFR_MAX_ENTRY_IMAGES),
                     (long long)ceil(want - 1e-9));
        CHECK_EQ_INT((long long)lfr_match_cal_counted(c, LFR_MATCH_ENTRY_BEST, by,
                                                       LFR_MAX_ENTRY_IMAGES), 1230);
        CHECK_EQ_INT((long long)lfr_match_cal_counted(c, LFR_MATCH_ENTRY_UNION, by,
                                                       LFR_MAX_ENTRY_IMAGES),
                     (long long)ceil(1230 + want - 1000 - 1e-9));
        /* one photo each: the entry count, as before */
        int64_t one[2] = {0, 777};
        CHECK_EQ_INT((long long)lfr_match_cal_counted(c, LFR_MATCH_ENTRY_MEAN, one, 1), 777);
        CHECK_EQ_INT((long long)lfr_match_cal_counted(c, LFR_MATCH_ENTRY_MEAN, NULL, 0), 0);
        /* Likeness from a mean of k photos: FMR x weight(k) on the same
         * scale, so 100 log10(weight) / 7 points less where unclamped, and
         * exactly the one-photo likeness for k <= 1. */
        for (float t = 0.40f; t <= 0.80f; t += 0.05f) {
            double l1 = lfr_match_cal_likeness(c, t);
            CHECK(lfr_match_cal_entry_likeness(c, t, 1) == l1);
            CHECK(lfr_match_cal_entry_likeness(c, t, 0) == l1);
            double prevk = l1;
            for (int k = 2; k <= LFR_MAX_ENTRY_IMAGES; k++) {
                double lk = lfr_match_cal_entry_likeness(c, t, k);
                double want = 100.0 * -log10(lfr_match_cal_fmr(c, t) *
                                             lfr_match_cal_entry_weight(c, k)) /
                              LFR_MATCH_LIKENESS_DECADES;
                CHECK_NEAR(lk, want < 0 ? 0 : want > 100 ? 100 : want, 1e-9);
                CHECK(lk <= prevk); /* more photos averaged: never more telling */
                prevk = lk;
            }
            if (l1 > 1 && l1 < 99)
                CHECK(lfr_match_cal_entry_likeness(c, t, 2) < l1 - 1.0); /* weight 2.65+ */
        }
        printf("  %s: at its default threshold likeness %.1f for one photo, %.1f for the "
               "mean of 2\n", lfr_match_calibration_name(c),
               lfr_match_cal_likeness(c, lfr_match_cal_default_threshold(c)),
               lfr_match_cal_entry_likeness(c, lfr_match_cal_default_threshold(c), 2));
        printf("  %s: an entry of 2 / 3 / 4 photos counts as %.2f / %.2f / %.2f comparisons\n",
               lfr_match_calibration_name(c), lfr_match_cal_entry_weight(c, 2),
               lfr_match_cal_entry_weight(c, 3), lfr_match_cal_entry_weight(c, 4));
    }
}

/* Model sets: each calibration is sane on its own, the default
 * calibration is mfn192's (the functions without one give the same), and
 * the likeness scale means the same FMR whatever the set. */
static void test_model_set_calibrations(void) {
    CHECK(lfr_match_calibration_count() >= 2);
    CHECK(lfr_match_calibration_default() == lfr_match_calibration_named("mfn192"));
    CHECK(lfr_match_calibration_named("nonesuch") == NULL);
    CHECK(lfr_match_calibration_named(NULL) == NULL);
    CHECK(lfr_match_calibration_at(-1) == NULL);
    CHECK(lfr_match_calibration_at(lfr_match_calibration_count()) == NULL);
    const lfr_match_calibration *m = lfr_match_calibration_named("mfn192");
    const lfr_match_calibration *f = lfr_match_calibration_named("fused704");
    CHECK(m && f);
    if (!m || !f) return;
    CHECK_EQ_INT(lfr_match_calibration_dim(m), 192);
    CHECK_EQ_INT(lfr_match_calibration_dim(f), 704);
    /* NULL and the default give the functions without a calibration */
    for (float t = -1.0f; t <= 1.0f; t += 0.05f) {
        CHECK(lfr_match_cal_fmr(NULL, t) == lfr_match_fmr(t));
        CHECK(lfr_match_cal_fmr(m, t) == lfr_match_fmr(t));
        CHECK(lfr_match_cal_tar(m, t) == lfr_match_tar(t));
    }
    for (int i = 0; i < lfr_match_calibration_count(); i++) {
        const lfr_match_calibration *c = lfr_match_calibration_at(i);
        int n = 0;
        lfr_match_calib_info info;
        const lfr_match_calib_point *pt = lfr_match_cal_table(c, &n, &info);
        CHECK(n == 101 && info.impostor_pairs > 20000000ull && info.genuine_pairs > 200000ull);
        CHECK(strstr(info.source, "openlfr calibrate") != NULL);
        for (int k = 1; k < n; k++) {
            CHECK(pt[k].fmr <= pt[k - 1].fmr && pt[k].tar <= pt[k - 1].tar);
            CHECK(pt[k].n_imp <= pt[k - 1].n_imp);
        }
        double pf = 1, pl = 0;
        for (float t = -1.0f; t <= 1.0f; t += 0.01f) {
            double fm = lfr_match_cal_fmr(c, t), l = lfr_match_cal_likeness(c, t);
            CHECK(fm <= pf + 1e-15 && l >= pl - 1e-9);
            pf = fm, pl = l;
        }
        int ng = 0;
        const lfr_match_group *g = lfr_match_cal_groups(c, &ng, NULL);
        CHECK(ng >= 3 && g && !strcmp(g[0].name, "LFW"));
        CHECK(lfr_match_cal_worst_group(c, 0.6f, NULL) >= 0);
        /* likeness means the same FMR in every set: FMR = 10^(-7 L / 100) */
        for (double L = 20; L <= 86; L += 11) {
            float t = lfr_match_cal_threshold_for_likeness(c, L);
            double want = pow(10.0, -L * LFR_MATCH_LIKENESS_DECADES / 100.0);
            double got = lfr_match_cal_fmr(c, t);
            CHECK(got <= want * 1.0001 && got > want * 0.9);
        }
    }
    /* the two sets' scales differ: the same FMR at different cosines */
    CHECK(lfr_match_cal_fmr(f, 0.70f) < 0.5 * lfr_match_cal_fmr(m, 0.70f));
    /* default thresholds: same FMR as mfn192's 0.70, likeness 86 */
    CHECK(lfr_match_cal_default_threshold(m) == LFR_MATCH_DEFAULT_THRESHOLD);
    float fd = lfr_match_cal_default_threshold(f);
    printf("  fused704 default threshold %.3f (FMR %.2e, TAR %.4f; mfn192 0.70: TAR %.4f)\n",
           (double)fd, lfr_match_cal_fmr(f, fd), lfr_match_cal_tar(f, fd),
           lfr_match_tar(LFR_MATCH_DEFAULT_THRESHOLD));
    CHECK(fd > 0.59f && fd < 0.65f);
    CHECK(lfr_match_cal_fmr(f, fd) <= lfr_match_fmr(LFR_MATCH_DEFAULT_THRESHOLD));
    CHECK(lfr_match_cal_fmr(f, fd - 0.01f) > lfr_match_fmr(LFR_MATCH_DEFAULT_THRESHOLD));
    /* fused704v2 (the 512-d network fed the channel order it was trained
     * on, the deployments' default) finds more genuine pairs than fused704
     * at the same FMR, and than fused704 at FMR 1e-4 */
    const lfr_match_calibration *v2 = lfr_match_calibration_named("fused704v2");
    CHECK(v2 != NULL);
    if (v2) {
        float vd = lfr_match_cal_default_threshold(v2), lo = 0, hi = 0;
        lfr_match_cal_sane_range(v2, &lo, &hi);
        printf("  fused704v2 default threshold %.3f (FMR %.2e, TAR %.4f; fused704 %.3f: TAR %.4f); "
               "sane range %.3f..%.3f\n", (double)vd, lfr_match_cal_fmr(v2, vd),
               lfr_match_cal_tar(v2, vd), (double)fd, lfr_match_cal_tar(f, fd), (double)lo,
               (double)hi);
        CHECK(lfr_match_cal_fmr(v2, vd) <= lfr_match_fmr(LFR_MATCH_DEFAULT_THRESHOLD));
        CHECK(lfr_match_cal_tar(v2, vd) > lfr_match_cal_tar(f, fd));
        float v4 = lfr_match_cal_threshold_for_likeness(v2, 400.0 / LFR_MATCH_LIKENESS_DECADES),
              f4 = lfr_match_cal_threshold_for_likeness(f, 400.0 / LFR_MATCH_LIKENESS_DECADES);
        CHECK(lfr_match_cal_tar(v2, v4) > lfr_match_cal_tar(f, f4));
        /* fused704v3 (fused704v2 aligned on O-Net's and the 68-point
         * network's landmarks averaged) finds more than fused704v2 at the
         * default and at FMR 1e-4 */
        const lfr_match_calibration *v3 = lfr_match_calibration_named("fused704v3");
        CHECK(v3 != NULL);
        if (v3) {
            float d3 = lfr_match_cal_default_threshold(v3);
            lfr_match_cal_sane_range(v3, &lo, &hi);
            printf("  fused704v3 default threshold %.3f (FMR %.2e, TAR %.4f; fused704v2 %.3f: "
                   "TAR %.4f); sane range %.3f..%.3f\n", (double)d3, lfr_match_cal_fmr(v3, d3),
                   lfr_match_cal_tar(v3, d3), (double)vd, lfr_match_cal_tar(v2, vd), (double)lo,
                   (double)hi);
            CHECK(lfr_match_cal_fmr(v3, d3) <= lfr_match_fmr(LFR_MATCH_DEFAULT_THRESHOLD));
            CHECK(lfr_match_cal_tar(v3, d3) > lfr_match_cal_tar(v2, vd));
            float t4 = lfr_match_cal_threshold_for_likeness(v3, 400.0 / LFR_MATCH_LIKENESS_DECADES);
            CHECK(lfr_match_cal_tar(v3, t4) > lfr_match_cal_tar(v2, v4));
        }
    }
    CHECK(fabs(lfr_match_cal_likeness(f, fd) - lfr_match_likeness(0.70f)) < 1.0);
    /* and fused finds more of the same people at that FMR (LFW) */
    CHECK(lfr_match_cal_tar(f, fd) > lfr_match_tar(LFR_MATCH_DEFAULT_THRESHOLD));
    float lo, hi, mlo, mhi;
    lfr_match_cal_sane_range(m, &mlo, &mhi);
    CHECK(mlo == LFR_THRESHOLD_SANE_MIN && mhi == LFR_THRESHOLD_SANE_MAX);
    lfr_match_cal_sane_range(f, &lo, &hi);
    CHECK(lo < fd && fd < hi && lo < mlo && hi < mhi);
    /* threshold_info uses the set's tables */
    lfr_match_threshold_meaning a, b;
    lfr_match_cal_threshold_info(f, fd, 1000, &a);
    lfr_match_threshold_info(0.70f, 1000, &b);
    CHECK(fabs(a.likeness - b.likeness) < 1.0);
    CHECK(fabs(log10(a.fpir) - log10(b.fpir)) < 0.05);
    CHECK(a.worst_name != NULL && a.tar > b.tar);
}

/* Entry templates ------------------------------------------------------------ */

/* u: a unit vector orthogonal to unit vector a. */
static void rnd_orth(float *u, const float *a, int dim) { rnd_at_cos(u, a, 0.0, dim); }

/* Two images of entry 7 at cosines 0.62 and 0.58 to the probe, on opposite
 * sides of it: their mean lies almost on the probe (cosine ~1) while no
 * single image reaches 0.70.  Entry 9: one image at 0.75. */
static void et_fixture(float *probe, float t[3][DIM]) {
    float u[DIM];
    rnd_unit(probe, DIM);
    rnd_orth(u, probe, DIM);
    double c[2] = {0.62, 0.58}, sgn[2] = {1, -1};
    for (int k = 0; k < 2; k++) {
        double sn = sqrt(1 - c[k] * c[k]);
        for (int i = 0; i < DIM; i++) t[k][i] = (float)(c[k] * probe[i] + sgn[k] * sn * u[i]);
    }
    rnd_at_cos(t[2], probe, 0.75, DIM);
}

static void test_entry_template_mean_reaches(void) {
    float probe[DIM], t[3][DIM];
    et_fixture(probe, t);
    int64_t ids[3] = {7, 7, 9};
    int32_t imgs[3] = {70, 71, 90};
    lfr_match_hit h[2];
    int n = 0;
    lfr_match_snapshot *s = NULL;
    /* best: entry 7 does not reach 0.70 */
    CHECK_STATUS(lfr_match_snapshot_build_entries(DIM, 3, &t[0][0], ids, imgs, LFR_MATCH_ENTRY_BEST,
                                                  &s), LFR_OK);
    CHECK_STATUS(lfr_match_search(s, probe, 0.70f, h, 2, &n), LFR_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(h[0].entry_id, 9);
    CHECK_EQ_INT(h[0].entry_template, 0);
    CHECK_EQ_INT(h[0].entry_images, 1);
    lfr_match_snapshot_unref(s);
    for (int k = LFR_MATCH_ENTRY_MEAN; k <= LFR_MATCH_ENTRY_UNION; k++) {
        s = NULL;
        CHECK_STATUS(lfr_match_snapshot_build_entries(DIM, 3, &t[0][0], ids, imgs,
                                                      (lfr_match_entry_template)k, &s), LFR_OK);
        if (!s) continue;
        CHECK_STATUS(lfr_match_search(s, probe, 0.70f, h, 2, &n), LFR_OK);
        CHECK_EQ_INT(n, 2);
        /* entry 7 by its mean (~1), shown with its best image (70, 0.62) */
        CHECK_EQ_INT(h[0].entry_id, 7);
        CHECK(h[0].score > 0.99f);
        CHECK_EQ_INT(h[0].entry_template, 1);
        CHECK_EQ_INT(h[0].entry_images, 2); /* the mean of its 2 photos */
        CHECK_EQ_INT(h[0].image_index, 70);
        CHECK_NEAR(h[0].image_score, 0.62, 1e-5);
        /* entry 9: one image, which is its template */
        CHECK_EQ_INT(h[1].entry_id, 9);
        CHECK_NEAR(h[1].score, 0.75, 1e-5);
        CHECK_EQ_INT(h[1].entry_template, 0);
        CHECK_EQ_INT(h[1].entry_images, 1);
        CHECK_EQ_INT(h[1].image_index, 90);
        /* both implementations and the batch agree */
        if (lfr_match_impl_available(LFR_MATCH_IMPL_AVX2)) {
            lfr_match_hit a[2], b[2];
            int na = 0, nb = 0;
            CHECK_STATUS(lfr_match_search_impl(s, LFR_MATCH_IMPL_SCALAR, probe, 1, 0.7f, a, 2, &na),
                         LFR_OK);
            CHECK_STATUS(lfr_match_search_impl(s, LFR_MATCH_IMPL_AVX2, probe, 1, 0.7f, b, 2, &nb),
                         LFR_OK);
            CHECK_EQ_INT(na, nb);
            for (int i = 0; i < na && i < nb; i++) {
                CHECK_EQ_INT(a[i].entry_id, b[i].entry_id);
                CHECK_EQ_INT(a[i].image_index, b[i].image_index);
                CHECK_EQ_INT(a[i].entry_template, b[i].entry_template);
                CHECK_EQ_INT(a[i].entry_images, b[i].entry_images);
            }
        }
        lfr_match_snapshot_unref(s);
    }
}

/* MEAN: an entry's images no longer raise alerts by themselves; UNION:
 * they do.  An entry of the probe itself and an image far from it: its
 * mean scores ~0.59. */
static void test_entry_template_mean_only(void) {
    float probe[DIM], t[2][DIM];
    rnd_unit(probe, DIM);
    memcpy(t[0], probe, sizeof t[0]);
    rnd_at_cos(t[1], probe, -0.3, DIM);
    int64_t ids[2] = {5, 5};
    lfr_match_hit h[1];
    int n = -1;
    lfr_match_snapshot *s = NULL;
    CHECK_STATUS(lfr_match_snapshot_build_entries(DIM, 2, &t[0][0], ids, NULL, LFR_MATCH_ENTRY_MEAN,
                                                  &s), LFR_OK);
    CHECK_STATUS(lfr_match_search(s, probe, 0.70f, h, 1, &n), LFR_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_STATUS(lfr_match_search(s, probe, 0.50f, h, 1, &n), LFR_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_NEAR(h[0].score, 0.7 / sqrt(1.4), 1e-4);
    CHECK_EQ_INT(h[0].entry_template, 1);
    CHECK_EQ_INT(h[0].entry_images, 2);
    CHECK_EQ_INT(h[0].image_index, 0); /* the image scoring 1.0 is shown */
    CHECK_NEAR(h[0].image_score, 1.0, 1e-5);
    lfr_match_snapshot_unref(s);
    s = NULL;
    CHECK_STATUS(lfr_match_snapshot_build_entries(DIM, 2, &t[0][0], ids, NULL,
                                                  LFR_MATCH_ENTRY_UNION, &s), LFR_OK);
    CHECK_STATUS(lfr_match_search(s, probe, 0.70f, h, 1, &n), LFR_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_NEAR(h[0].score, 1.0, 1e-5);
    CHECK_EQ_INT(h[0].entry_template, 0);
    CHECK_EQ_INT(h[0].entry_images, 1); /* one photo's own score */
    CHECK_EQ_INT(h[0].image_index, 0);
    lfr_match_snapshot_unref(s);
}

/* What is searched is what FPIR counts. */
static void test_entry_template_counts(void) {
    wl w = wl_random(300, 4, DIM);
    size_t entries = 0;
    for (int i = 0; i < w.n; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = w.id[j] == w.id[i];
        entries += !seen;
    }
    size_t multi = 0; /* entries with 2+ images */
    for (int i = 0; i < w.n; i++) {
        int first = 1, count = 0;
        for (int j = 0; j < w.n; j++) {
            if (w.id[j] == w.id[i]) count++;
            if (j < i && w.id[j] == w.id[i]) first = 0;
        }
        multi += first && count > 1;
    }
    CHECK(multi > 0 && multi < entries);
    size_t want[LFR_MATCH_ENTRY_TEMPLATE_COUNT] = {(size_t)w.n, entries, (size_t)w.n + multi};
    size_t rows[LFR_MATCH_ENTRY_TEMPLATE_COUNT] = {(size_t)w.n, (size_t)w.n + multi,
                                                    (size_t)w.n + multi};
    for (int k = 0; k < LFR_MATCH_ENTRY_TEMPLATE_COUNT; k++) {
        size_t c = 0;
        CHECK_STATUS(lfr_match_searched_count((size_t)w.n, w.id, (lfr_match_entry_template)k, &c),
                     LFR_OK);
        CHECK_EQ_INT(c, want[k]);
        lfr_match_snapshot *s = NULL;
        CHECK_STATUS(lfr_match_snapshot_build_entries(DIM, (size_t)w.n, w.t, w.id, w.img,
                                                      (lfr_match_entry_template)k, &s), LFR_OK);
        CHECK_EQ_INT(lfr_match_snapshot_searched(s), want[k]);
        CHECK_EQ_INT(lfr_match_snapshot_templates(s), rows[k]);
        CHECK_EQ_INT(lfr_match_snapshot_entries(s), entries);
        /* every hit names a real image of its entry */
        float probe[DIM];
        memcpy(probe, w.t + 5 * DIM, sizeof probe);
        lfr_match_hit h[400];
        int n = 0;
        CHECK_STATUS(lfr_match_search(s, probe, -1.0f, h, 400, &n), LFR_OK);
        CHECK_EQ_INT(n, entries);
        int bad = 0;
        for (int i = 0; i < n; i++) {
            int ok = 0;
            for (int j = 0; j < w.n; j++) ok |= w.img[j] == h[i].image_index && w.id[j] == h[i].entry_id;
            bad += !ok;
        }
        CHECK_EQ_INT(bad, 0);
        lfr_match_snapshot_unref(s);
    }
    CHECK(!strcmp(lfr_match_entry_template_name(LFR_MATCH_ENTRY_TEMPLATE_DEFAULT), "mean"));
    size_t c;
    CHECK_STATUS(lfr_match_searched_count(1, w.id, LFR_MATCH_ENTRY_TEMPLATE_COUNT, &c),
                 LFR_ERR_INVALID_ARG);
    lfr_match_snapshot *s = NULL;
    CHECK_STATUS(lfr_match_snapshot_build_entries(DIM, 1, w.t, w.id, NULL,
                                                  LFR_MATCH_ENTRY_TEMPLATE_COUNT, &s),
                 LFR_ERR_INVALID_ARG);
    float bad[2 * DIM] = {0};
    int64_t ids[2] = {1, 1};
    bad[0] = 2.0f; /* not unit */
    bad[DIM] = 1.0f;
    CHECK_STATUS(lfr_match_snapshot_build_entries(DIM, 2, bad, ids, NULL, LFR_MATCH_ENTRY_MEAN, &s),
                 LFR_ERR_INVALID_ARG);
    CHECK(s == NULL);
    /* opposite images: no mean direction, the images count */
    float opp[2 * DIM];
    rnd_unit(opp, DIM);
    for (int i = 0; i < DIM; i++) opp[DIM + i] = -opp[i];
    CHECK_STATUS(lfr_match_snapshot_build_entries(DIM, 2, opp, ids, NULL, LFR_MATCH_ENTRY_MEAN, &s),
                 LFR_OK);
    CHECK_EQ_INT(lfr_match_snapshot_searched(s), 2);
    lfr_match_snapshot_unref(s);
    wl_free(&w);
}

int main(void) {
    RUN(test_search_exact_best_first);
    RUN(test_entry_best_of_templates);
    RUN(test_entry_template_mean_reaches);
    RUN(test_entry_template_mean_only);
    RUN(test_entry_template_counts);
    RUN(test_open_set_empty_below_threshold);
    RUN(test_truncated_list_is_reported);
    RUN(test_avx2_equals_scalar);
    RUN(test_batch_equals_single);
    RUN(test_int8_equals_fp32);
    RUN(test_int8_edge_cases);
    RUN(test_int8_bound_holds);
    RUN(test_int8_rescores_few);
    RUN(test_refcount_and_immutability);
    RUN(test_invalid_input);
    RUN(test_limits);
    RUN(test_fault_injection);
    RUN(test_calibration_table_sane);
    RUN(test_fmr_tar_likeness_monotonic);
    RUN(test_extrapolation_conservative);
    RUN(test_fpir_hand_values);
    RUN(test_threshold_for_likeness_inverts);
    RUN(test_default_threshold_documented);
    RUN(test_groups_table_sane);
    RUN(test_worst_group_named);
    RUN(test_threshold_for_false_alerts);
    RUN(test_model_set_calibrations);
    RUN(test_entry_weights);
    return harness_done("match");
}
