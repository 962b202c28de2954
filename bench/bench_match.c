/*
 * bench_match.c - times the 1:N watchlist search (src/match) on one thread:
 *
 *   bench_match [--sizes N,N,...] [--runs R] [--threshold T] [--json]
 *
 * For each watchlist size N (default 1000,10000,100000,1000000) it builds a
 * snapshot of N random unit vectors of 192 floats (one template per entry;
 * uniform components, normalised) and times, on fresh random probes:
 *   naive    the peer: a straightforward C loop over a plain N x 192 array,
 *            one running sum per template (no BLAS, no SIMD intrinsics,
 *            compiled with the project's flags), keeping scores >= T;
 *   scalar   lfr_match_search, portable C path;
 *   avx2     lfr_match_search, AVX2+FMA path (when the CPU has it);
 *   batch8   lfr_match_search_batch with 8 probes per pass (avx2 if
 *            available), time per probe.
 * It prints the median time per probe, templates scored per second and the
 * speed-up over the naive loop, as a Markdown table (or JSON).  Every
 * timed search runs at T (default 0.70, LFR_MATCH_DEFAULT_THRESHOLD): random
 * probes have no hits, so all paths do the same work.  The hit counts of
 * the paths are compared on one probe with T = 0.2 as a sanity check.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match/match.h"

#define DIM 192

static uint64_t rs = 0x2545F4914F6CDD1Dull;
static float rnd(void) { /* uniform in [-1, 1) */
    rs ^= rs >> 12;
    rs ^= rs << 25;
    rs ^= rs >> 27;
    return (float)((double)((rs * 2685821657736338717ull) >> 40) / 8388608.0 - 1.0);
}
static void rnd_unit(float *v) {
    double ss = 0;
    for (int i = 0; i < DIM; i++) v[i] = rnd(), ss += (double)v[i] * v[i];
    float k = (float)(1.0 / sqrt(ss));
    for (int i = 0; i < DIM; i++) v[i] *= k;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The peer: what one writes without thinking about speed. */
static int naive_search(const float *t, size_t n, const float *q, float thr, int64_t *ids,
                        float *scores, int max) {
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        float s = 0;
        for (int d = 0; d < DIM; d++) s += t[i * DIM + d] * q[d];
        if (s >= thr && k < max) ids[k] = (int64_t)i, scores[k++] = s;
    }
    return k;
}

typedef struct {
    size_t n;
    int runs;
    double naive, scalar, avx2, batch8; /* median ms per probe; <0 = not run */
    int hits_naive, hits_scalar, hits_avx2;
} row;

int main(int argc, char **argv) {
    size_t sizes[16] = {1000, 10000, 100000, 1000000};
    int n_sizes = 4, runs_arg = 0, json = 0;
    float thr = LFR_MATCH_DEFAULT_THRESHOLD;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
            n_sizes = 0;
            for (char *p = argv[++i]; *p && n_sizes < 16;) {
                sizes[n_sizes++] = strtoull(p, &p, 10);
                if (*p == ',') p++;
                else if (*p) break;
            }
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs_arg = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threshold") && i + 1 < argc) thr = (float)atof(argv[++i]);
        else if (!strcmp(argv[i], "--json")) json = 1;
        else {
            fprintf(stderr, "usage: bench_match [--sizes N,N,...] [--runs R] [--threshold T] [--json]\n");
            return 2;
        }
    }
    int have_avx2 = lfr_match_impl_available(LFR_MATCH_IMPL_AVX2);
    lfr_match_impl best = lfr_match_impl_auto();
    row rows[16];
    for (int si = 0; si < n_sizes; si++) {
        size_t n = sizes[si];
        row *r = &rows[si];
        memset(r, 0, sizeof *r);
        r->n = n;
        r->runs = runs_arg > 0 ? runs_arg : n <= 1000 ? 1001 : n <= 10000 ? 201 : n <= 100000 ? 31 : 9;
        float *t = malloc(sizeof(float) * DIM * (n ? n : 1));
        int64_t *ids = malloc(sizeof(int64_t) * (n ? n : 1));
        float *sc = malloc(sizeof(float) * (n ? n : 1));
        lfr_match_hit *hits = malloc(sizeof(lfr_match_hit) * 8 * (n ? n : 1));
        int *nh = malloc(sizeof(int) * 8);
        if (!t || !ids || !sc || !hits || !nh) {
            fprintf(stderr, "bench_match: out of memory at N=%zu\n", n);
            return 1;
        }
        for (size_t i = 0; i < n; i++) rnd_unit(t + i * DIM), ids[i] = (int64_t)i;
        lfr_match_snapshot *s = NULL;
        lfr_status st = lfr_match_snapshot_build(DIM, n, t, ids, NULL, &s);
        if (st != LFR_OK) {
            fprintf(stderr, "bench_match: snapshot of %zu: %s\n", n, lfr_status_message(st));
            return 1;
        }
        int runs = r->runs, mh = (int)(n ? n : 1);
        double *ms = malloc(sizeof(double) * (size_t)runs);
        float q[8 * DIM];
        /* Sanity: the same hits at a low threshold. */
        rnd_unit(q);
        r->hits_naive = naive_search(t, n, q, 0.2f, ids, sc, mh);
        lfr_match_search_impl(s, LFR_MATCH_IMPL_SCALAR, q, 1, 0.2f, hits, mh, &r->hits_scalar);
        r->hits_avx2 = -1;
        if (have_avx2)
            lfr_match_search_impl(s, LFR_MATCH_IMPL_AVX2, q, 1, 0.2f, hits, mh, &r->hits_avx2);
        for (int pass = 0; pass < 4; pass++) {
            lfr_match_impl impl = pass == 1 ? LFR_MATCH_IMPL_SCALAR : pass == 2 ? LFR_MATCH_IMPL_AVX2 : best;
            if ((pass == 2 && !have_avx2)) {
                r->avx2 = -1;
                continue;
            }
            int np = pass == 3 ? 8 : 1;
            for (int k = -1; k < runs; k++) { /* k = -1: warm-up */
                for (int p = 0; p < np; p++) rnd_unit(q + p * DIM);
                uint64_t t0 = lfr_now_ns();
                if (pass == 0) naive_search(t, n, q, thr, ids, sc, mh);
                else lfr_match_search_impl(s, impl, q, np, thr, hits, mh, nh);
                double dt = (double)(lfr_now_ns() - t0) / 1e6 / np;
                if (k >= 0) ms[k] = dt;
            }
            double m = median(ms, runs);
            if (pass == 0) r->naive = m;
            else if (pass == 1) r->scalar = m;
            else if (pass == 2) r->avx2 = m;
            else r->batch8 = m;
        }
        fprintf(stderr, "bench_match: N=%zu done\n", n);
        free(ms);
        lfr_match_snapshot_unref(s);
        free(t);
        free(ids);
        free(sc);
        free(hits);
        free(nh);
    }
    if (json) {
        printf("{\"dim\":%d,\"threshold\":%.3f,\"auto\":\"%s\",\"rows\":[", DIM, thr,
               lfr_match_impl_name(best));
        for (int i = 0; i < n_sizes; i++)
            printf("%s{\"n\":%zu,\"runs\":%d,\"naive_ms\":%.4f,\"scalar_ms\":%.4f,\"avx2_ms\":%.4f,"
                   "\"batch8_ms_per_probe\":%.4f}",
                   i ? "," : "", rows[i].n, rows[i].runs, rows[i].naive, rows[i].scalar,
                   rows[i].avx2, rows[i].batch8);
        printf("]}\n");
        return 0;
    }
    printf("### Watchlist search (bench/bench_match.c), one thread, %d-d float32, exact\n\n", DIM);
    printf("Median ms per probe (runs in brackets); templates/s of the fastest single-probe path;\n"
           "speed-up = naive time / path time.  batch8 = %s, 8 probes per pass, per probe.\n\n",
           lfr_match_impl_name(best));
    printf("| N | naive C loop | scalar | avx2 | batch8 | Mtemplates/s (%s) | scalar vs naive | avx2 vs naive | batch8 vs naive |\n",
           lfr_match_impl_name(best));
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n_sizes; i++) {
        row *r = &rows[i];
        double fast = r->avx2 > 0 ? r->avx2 : r->scalar;
        char avx[32] = "n/a", ra[32] = "n/a";
        if (r->avx2 > 0) {
            snprintf(avx, sizeof avx, "%.3f", r->avx2);
            snprintf(ra, sizeof ra, "%.1fx", r->naive / r->avx2);
        }
        printf("| %zu (%d) | %.3f | %.3f | %s | %.3f | %.0f | %.1fx | %s | %.1fx |\n", r->n, r->runs,
               r->naive, r->scalar, avx, r->batch8, (double)r->n / (fast / 1e3) / 1e6,
               r->naive / r->scalar, ra, r->naive / r->batch8);
    }
    printf("\nSanity (one probe, threshold 0.2): hits naive/scalar/avx2 =");
    for (int i = 0; i < n_sizes; i++)
        printf(" %d/%d/%d%s", rows[i].hits_naive, rows[i].hits_scalar, rows[i].hits_avx2,
               i + 1 < n_sizes ? "," : "\n");
    return 0;
}
