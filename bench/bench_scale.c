/*
 * bench_scale.c - 1:N search at force scale (issue 13): float32 against the
 * int8 scan (src/match: int8 copy, exact float32 re-scoring), with FAISS as
 * the peer measured in the same run, one thread:
 *
 *   bench_scale [--dims 192,704] [--sizes 10000,100000,1000000] [--batch B]
 *               [--runs R] [--no-peer]
 *
 * For each dim (192: mfn192, 704: fused704) and watchlist size N it builds
 * a snapshot of N random unit vectors (Gaussian components, normalised; one
 * template per entry) and, from the same vectors, FAISS IndexFlatIP
 * (float32) and IndexScalarQuantizer QT_8bit (8-bit codes, per-dimension
 * min/max trained on the first 65,536 vectors), inner product.  It times on
 * fresh random probes, median ms per probe (the paths interleaved run by
 * run, so that on a shared machine they see the same load):
 *   fp32 / fp32 xB   lfr_match_search_prec(AUTO impl, FP32), 1 probe and B
 *                    probes per pass (time / B);
 *   int8 / int8 xB   the same with INT8 (what lfr_match_search does);
 *   int4 / int4 xB   the same with INT4;
 *   flat / flat xB   FAISS IndexFlatIP search, k = 10;
 *   sq8 / sq8 xB     FAISS QT_8bit search, k = 10.
 * Ours search at the model set's default threshold (0.70 / 0.62): random
 * probes have no hits, so every path scans every template; FAISS keeps a
 * top 10, the same scan.  Also printed: memory of each, the int8 error bound
 * and the rows re-scored in float32 (and how many real faces would need:
 * N x the set's LFW impostor rate at threshold - bound), and a check that
 * int8, int4 and fp32 give the same hits on probes near templates at a low
 * threshold.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "match/match.h"

#ifndef NO_FAISS
typedef struct faiss_peer faiss_peer;
faiss_peer *faiss_peer_new(int dim, int sq8);
int faiss_peer_train(faiss_peer *p, long n, const float *x);
int faiss_peer_add(faiss_peer *p, long n, const float *x);
int faiss_peer_search(faiss_peer *p, long nq, const float *q, int k);
long faiss_peer_bytes(const faiss_peer *p);
void faiss_peer_free(faiss_peer *p);
#endif

#define MAX_B LFR_MAX_MATCH_BATCH
#define CHUNK 65536
#define PEER_K 10

static uint64_t rs = 0x2545F4914F6CDD1Dull;
static double rnd_u(void) {
    rs ^= rs >> 12;
    rs ^= rs << 25;
    rs ^= rs >> 27;
    return (double)((rs * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0) + 1e-300;
}
static void rnd_unit(float *v, int dim) {
    double ss = 0;
    for (int i = 0; i < dim; i += 2) {
        double r = sqrt(-2 * log(rnd_u())), a = 6.283185307179586 * rnd_u();
        v[i] = (float)(r * cos(a));
        if (i + 1 < dim) v[i + 1] = (float)(r * sin(a));
    }
    for (int i = 0; i < dim; i++) ss += (double)v[i] * v[i];
    float k = (float)(1.0 / sqrt(ss));
    for (int i = 0; i < dim; i++) v[i] *= k;
}

/* CPU time of this thread, ns: on a shared machine wall time also counts
 * the time the thread waited for its core. */
static uint64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int parse_list(const char *s, size_t *out, int max) {
    int n = 0;
    for (char *p = (char *)s; *p && n < max;) {
        out[n++] = strtoull(p, &p, 10);
        if (*p == ',') p++;
        else if (*p) break;
    }
    return n;
}

enum { T_FP32, T_FP32B, T_INT8, T_INT8B, T_INT4, T_INT4B, T_FLAT, T_FLATB, T_SQ8, T_SQ8B, T_N };

typedef struct {
    int dim;
    size_t n;
    int runs;
    double ms[T_N];   /* median CPU ms per probe; < 0: not run */
    double wall[T_N]; /* median wall ms per probe */
    double ours_mb, ours_int8_mb, flat_mb, sq8_mb;
    double bound[2], rescored_per_probe[2]; /* int8, int4 */
    int same; /* int8 and int4 == fp32 on the near probes */
    double real_resc[2]; /* expected re-scored rows per probe on real impostors */
} row;

int main(int argc, char **argv) {
    size_t dims[4] = {192, 704}, sizes[8] = {10000, 100000, 1000000};
    int n_dims = 2, n_sizes = 3, runs_arg = 0, batch = 8, peer = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dims") && i + 1 < argc) n_dims = parse_list(argv[++i], dims, 4);
        else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) n_sizes = parse_list(argv[++i], sizes, 8);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs_arg = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-peer")) peer = 0;
        else {
            fprintf(stderr, "usage: bench_scale [--dims D,D] [--sizes N,N,...] [--batch B] [--runs R] [--no-peer]\n");
            return 2;
        }
    }
    if (batch < 1 || batch > MAX_B) batch = MAX_B;
#ifdef NO_FAISS
    peer = 0;
#endif
    row rows[32];
    int n_rows = 0;
    lfr_match_impl impl = lfr_match_impl_auto();
    for (int di = 0; di < n_dims; di++)
        for (int si = 0; si < n_sizes; si++) {
            int dim = (int)dims[di];
            size_t n = sizes[si];
            row *r = &rows[n_rows++];
            memset(r, 0, sizeof *r);
            for (int k = 0; k < T_N; k++) r->ms[k] = -1;
            r->dim = dim;
            r->n = n;
            r->runs = runs_arg > 0 ? runs_arg : n <= 10000 ? 101 : n <= 100000 ? 21 : 7;
            const lfr_match_calibration *cal =
                lfr_match_calibration_named(dim == 704 ? "fused704" : "mfn192");
            float thr = lfr_match_cal_default_threshold(cal);
            /* Build: vectors in chunks, to ours and to the peers. */
            float *chunk = malloc(sizeof(float) * (size_t)dim * CHUNK);
            float *keep = malloc(sizeof(float) * (size_t)dim * 64); /* first 64, for near probes */
            lfr_match_snapshot *s = NULL;
            if (!chunk || !keep || lfr_match_snapshot_new(dim, n, &s) != LFR_OK) {
                fprintf(stderr, "bench_scale: cannot allocate N=%zu dim %d\n", n, dim);
                return 1;
            }
#ifndef NO_FAISS
            faiss_peer *flat = peer ? faiss_peer_new(dim, 0) : NULL;
            faiss_peer *sq8 = peer ? faiss_peer_new(dim, 1) : NULL;
#endif
            for (size_t c0 = 0; c0 < n; c0 += CHUNK) {
                size_t m = n - c0 < CHUNK ? n - c0 : CHUNK;
                for (size_t i = 0; i < m; i++) rnd_unit(chunk + i * (size_t)dim, dim);
                if (c0 == 0) memcpy(keep, chunk, sizeof(float) * (size_t)dim * (m < 64 ? m : 64));
                for (size_t i = 0; i < m; i++)
                    if (lfr_match_snapshot_add(s, (int64_t)(c0 + i), (int32_t)(c0 + i),
                                               chunk + i * (size_t)dim) != LFR_OK)
                        return 1;
#ifndef NO_FAISS
                if (peer) {
                    if (c0 == 0) faiss_peer_train(sq8, (long)m, chunk);
                    if (faiss_peer_add(flat, (long)m, chunk) || faiss_peer_add(sq8, (long)m, chunk)) {
                        fprintf(stderr, "bench_scale: FAISS add failed\n");
                        return 1;
                    }
                }
#endif
            }
            free(chunk);
            if (lfr_match_snapshot_freeze(s) != LFR_OK) return 1;
            lfr_match_memory mem;
            lfr_match_snapshot_memory(s, &mem);
            r->ours_mb = (double)(mem.fp32_bytes + mem.int8_bytes + mem.int4_bytes + mem.other_bytes) / 1e6;
            r->ours_int8_mb = (double)mem.int8_bytes / 1e6;
#ifndef NO_FAISS
            if (peer) r->flat_mb = faiss_peer_bytes(flat) / 1e6, r->sq8_mb = faiss_peer_bytes(sq8) / 1e6;
#endif
            int mh = 64;
            lfr_match_hit *hits = malloc(sizeof *hits * (size_t)mh * MAX_B);
            lfr_match_hit *hits2 = malloc(sizeof *hits2 * (size_t)mh * MAX_B);
            int nh[MAX_B], nh2[MAX_B];
            float *q = malloc(sizeof(float) * (size_t)dim * MAX_B);
            /* Same hits: probes near kept templates, threshold 0.5. */
            r->same = 1;
            for (int k = 0; k < 4; k++) {
                for (int p = 0; p < batch; p++) {
                    float *v = q + (size_t)p * dim, *t = keep + (size_t)((k * batch + p) % 64) * dim;
                    rnd_unit(v, dim);
                    double ss = 0;
                    for (int d = 0; d < dim; d++) v[d] = t[d] + 0.6f * v[d], ss += (double)v[d] * v[d];
                    for (int d = 0; d < dim; d++) v[d] = (float)(v[d] / sqrt(ss));
                }
                lfr_status a = lfr_match_search_prec(s, impl, LFR_MATCH_PREC_FP32, q, batch, 0.5f,
                                                     hits, mh, nh, NULL);
                for (int pi = 0; pi < 2; pi++) {
                    lfr_status b = lfr_match_search_prec(
                        s, impl, pi ? LFR_MATCH_PREC_INT4 : LFR_MATCH_PREC_INT8, q, batch, 0.5f,
                        hits2, mh, nh2, NULL);
                    if (a != b || memcmp(nh, nh2, sizeof(int) * (size_t)batch)) r->same = 0;
                    for (int p = 0; p < batch && r->same; p++)
                        for (int i = 0; i < nh[p]; i++)
                            if (hits[p * mh + i].entry_id != hits2[p * mh + i].entry_id ||
                                memcmp(&hits[p * mh + i].score, &hits2[p * mh + i].score, 4))
                                r->same = 0;
                }
            }
            free(keep);
            double bound_sum[2] = {0, 0}, resc[2] = {0, 0};
            int bound_n[2] = {0, 0};
            /* Interleaved: run k times every path once, so that on a shared
             * machine all paths see the same load. */
            double *all = malloc(sizeof(double) * (size_t)r->runs * T_N);
            double *allw = malloc(sizeof(double) * (size_t)r->runs * T_N);
            for (int k = -1; k < r->runs; k++) /* k = -1: warm-up */
                for (int t = 0; t < T_N; t++) {
                    int np = t % 2 ? batch : 1;
                    if (t >= T_FLAT && !peer) continue;
                    for (int p = 0; p < np; p++) rnd_unit(q + (size_t)p * dim, dim);
                    lfr_match_search_stats st;
                    uint64_t t0 = lfr_now_ns(), c0 = cpu_ns();
                    if (t <= T_FP32B)
                        lfr_match_search_prec(s, impl, LFR_MATCH_PREC_FP32, q, np, thr, hits, mh, nh, &st);
                    else if (t <= T_INT8B)
                        lfr_match_search_prec(s, impl, LFR_MATCH_PREC_INT8, q, np, thr, hits, mh, nh, &st);
                    else if (t <= T_INT4B)
                        lfr_match_search_prec(s, impl, LFR_MATCH_PREC_INT4, q, np, thr, hits, mh, nh, &st);
#ifndef NO_FAISS
                    else if (t <= T_FLATB) faiss_peer_search(flat, np, q, PEER_K);
                    else faiss_peer_search(sq8, np, q, PEER_K);
#endif
                    double dt = (double)(cpu_ns() - c0) / 1e6 / np;
                    double dw = (double)(lfr_now_ns() - t0) / 1e6 / np;
                    if (k < 0) continue;
                    all[(size_t)t * (size_t)r->runs + (size_t)k] = dt;
                    allw[(size_t)t * (size_t)r->runs + (size_t)k] = dw;
                    if (t >= T_INT8 && t <= T_INT4B) {
                        int pi = t >= T_INT4;
                        bound_sum[pi] += st.max_bound, bound_n[pi]++;
                        resc[pi] += (double)st.rows_rescored / np;
                    }
                }
            for (int t = 0; t < T_N; t++)
                if (t < T_FLAT || peer) {
                    r->ms[t] = median(all + (size_t)t * (size_t)r->runs, r->runs);
                    r->wall[t] = median(allw + (size_t)t * (size_t)r->runs, r->runs);
                }
            free(all);
            free(allw);
            for (int pi = 0; pi < 2; pi++) {
                r->bound[pi] = bound_sum[pi] / bound_n[pi];
                r->rescored_per_probe[pi] = resc[pi] / bound_n[pi];
                /* Real faces are not random vectors: a row is re-scored when
                 * approx + bound >= threshold, so about when its score is
                 * >= threshold - bound; the LFW impostor rate there
                 * (the set's calibration) times N. */
                r->real_resc[pi] = (double)n * lfr_match_cal_fmr(cal, thr - (float)r->bound[pi]);
            }
            fprintf(stderr, "bench_scale: dim %d N=%zu done\n", dim, n);
            free(q);
            free(hits);
            free(hits2);
            lfr_match_snapshot_unref(s);
#ifndef NO_FAISS
            faiss_peer_free(flat);
            faiss_peer_free(sq8);
#endif
        }
    printf("### 1:N at force scale (bench/bench_scale.c), one thread: float32, int8 and int4 scans, FAISS %s\n\n",
           peer ? "1.7.3 (Debian libfaiss-dev) as the peer" : "peer not run");
    printf("Median CPU ms per probe (CPU time of the searching thread: the machine may be\n"
           "shared; wall-clock medians of ours are in the second table); xB: %d probes per\n"
           "pass, time / %d; impl %s; random unit vectors (Gaussian); threshold = the model\n"
           "set's default (no hits: every path scans everything); FAISS: top %d.\n"
           "ratio = ours / peer (< 1: ours faster).\n\n",
           batch, batch, lfr_match_impl_name(impl), PEER_K);
    printf("| dim | N (runs) | fp32 | fp32 x%d | int8 | int8 x%d | int4 | int4 x%d | FAISS flat | flat x%d | FAISS SQ8 | SQ8 x%d | int8/fp32 | int4/fp32 | int8/SQ8 | int8 x%d/SQ8 x%d | int4/SQ8 | int4 x%d/SQ8 x%d |\n",
           batch, batch, batch, batch, batch, batch, batch, batch, batch);
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n_rows; i++) {
        row *r = &rows[i];
        char c[T_N][24], ra[6][24];
        for (int t = 0; t < T_N; t++) {
            if (r->ms[t] < 0) snprintf(c[t], sizeof c[t], "n/a");
            else snprintf(c[t], sizeof c[t], "%.3f", r->ms[t]);
        }
        double num[6] = {r->ms[T_INT8], r->ms[T_INT4], r->ms[T_INT8], r->ms[T_INT8B], r->ms[T_INT4], r->ms[T_INT4B]};
        double den[6] = {r->ms[T_FP32], r->ms[T_FP32], r->ms[T_SQ8], r->ms[T_SQ8B], r->ms[T_SQ8], r->ms[T_SQ8B]};
        for (int k = 0; k < 6; k++) {
            if (den[k] <= 0) snprintf(ra[k], sizeof ra[k], "n/a");
            else snprintf(ra[k], sizeof ra[k], "%.2f", num[k] / den[k]);
        }
        printf("| %d | %zu (%d) |", r->dim, r->n, r->runs);
        for (int t = 0; t < T_N; t++) printf(" %s |", c[t]);
        for (int k = 0; k < 6; k++) printf(" %s |", ra[k]);
        printf("\n");
    }
    printf("\n| dim | N | ours MB (fp32 + int8 + int4 + per row) | int8 MB | int4 MB | FAISS flat MB | FAISS SQ8 MB | error bound int8 / int4 | rows re-scored per probe int8 / int4 | expected on real impostors int8 / int4 | hits == fp32 | wall ms fp32 / int8 / int8 x%d / int4 / int4 x%d |\n",
           batch, batch);
    printf("|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|---|\n");
    for (int i = 0; i < n_rows; i++) {
        row *r = &rows[i];
        printf("| %d | %zu | %.0f | %.0f | %.0f | %.0f | %.0f | %.4f / %.4f | %.2f / %.2f | %.0f / %.0f | %s | %.3f / %.3f / %.3f / %.3f / %.3f |\n",
               r->dim, r->n, r->ours_mb, r->ours_int8_mb, r->ours_int8_mb / 2, r->flat_mb, r->sq8_mb,
               r->bound[0], r->bound[1], r->rescored_per_probe[0], r->rescored_per_probe[1],
               r->real_resc[0], r->real_resc[1],
               r->same ? "yes" : "NO", r->wall[T_FP32], r->wall[T_INT8], r->wall[T_INT8B],
               r->wall[T_INT4], r->wall[T_INT4B]);
    }
    return 0;
}
