/*
 * bench_peak.c - this core's float32 multiply-add peak, to put the network
 * timings next to their arithmetic bound (FLOPs / peak):
 *
 *   bench_peak [--json]
 *
 * Ten independent chains of fused multiply-adds (enough to cover the FMA
 * latency on current x86 cores), 256-bit (AVX2+FMA) and, when the CPU and
 * OS have it, 512-bit (AVX-512F).  Best of 5 timings of 30 M FMAs per
 * width.  Prints GFLOP/s (2 per lane per FMA).  Run pinned to one core.
 */
#include <immintrin.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ITERS 3000000L

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static volatile float sink;

/* One timing of ITERS x 10 FMAs of `lanes` floats, in GFLOP/s. */
#define CH(X, A, B) X(0, A, B) X(1, A, B) X(2, A, B) X(3, A, B) X(4, A, B) \
    X(5, A, B) X(6, A, B) X(7, A, B) X(8, A, B) X(9, A, B)
#define PEAK_D(i, vec, set1) vec a##i = set1(seed * (float)(i + 1));
#define PEAK_F(i, fmadd, unused) a##i = fmadd(a##i, m, k);
#define PEAK_S(i, first, unused) s += first(a##i);
#define PEAK_FN(name, isa, vec, set1, fmadd, first, lanes)                     \
    __attribute__((target(isa))) static double name(float seed) {             \
        CH(PEAK_D, vec, set1)                                                 \
        vec m = set1(0.9999f), k = set1(1e-4f);                                \
        double t = now_s();                                                   \
        for (long i = 0; i < ITERS; i++) { CH(PEAK_F, fmadd, 0) }             \
        t = now_s() - t;                                                      \
        float s = 0;                                                          \
        CH(PEAK_S, first, 0)                                                  \
        sink = s;                                                             \
        return (double)ITERS * 10 * (lanes) * 2 / t / 1e9;                    \
    }

PEAK_FN(peak_avx2, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_cvtss_f32, 8)
PEAK_FN(peak_avx512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_cvtss_f32, 16)

static double best_of(double (*fn)(float)) {
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double g = fn(1e-3f * (float)(r + 1));
        if (g > best) best = g;
    }
    return best;
}

int main(int argc, char **argv) {
    int json = argc > 1 && !strcmp(argv[1], "--json");
    __builtin_cpu_init();
    double a2 = 0, a512 = 0;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) a2 = best_of(peak_avx2);
    if (__builtin_cpu_supports("avx512f")) a512 = best_of(peak_avx512);
    if (json)
        printf("{\"avx2_gflops\":%.1f,\"avx512_gflops\":%.1f}\n", a2, a512);
    else
        printf("FMA peak, one core: AVX2 %.1f GFLOP/s, AVX-512 %s%.1f GFLOP/s\n", a2,
               a512 > 0 ? "" : "(not available) ", a512);
    return a2 > 0 ? 0 : 1;
}
