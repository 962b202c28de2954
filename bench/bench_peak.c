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

#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9)
#define ITERS 3000000L

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static volatile float sink;

__attribute__((target("avx2,fma"))) static double peak_avx2(float seed) {
#define D(i) __m256 a##i = _mm256_set1_ps(seed * (float)(i + 1));
#define F(i) a##i = _mm256_fmadd_ps(a##i, m, k);
#define S(i) s += _mm256_cvtss_f32(a##i);
    CHAINS(D)
    __m256 m = _mm256_set1_ps(0.9999f), k = _mm256_set1_ps(1e-4f);
    double t = now_s();
    for (long i = 0; i < ITERS; i++) { CHAINS(F) }
    t = now_s() - t;
    float s = 0;
    CHAINS(S)
    sink = s;
    return (double)ITERS * 10 * 8 * 2 / t / 1e9;
#undef D
#undef F
#undef S
}

__attribute__((target("avx512f"))) static double peak_avx512(float seed) {
#define D(i) __m512 a##i = _mm512_set1_ps(seed * (float)(i + 1));
#define F(i) a##i = _mm512_fmadd_ps(a##i, m, k);
#define S(i) s += _mm512_cvtss_f32(a##i);
    CHAINS(D)
    __m512 m = _mm512_set1_ps(0.9999f), k = _mm512_set1_ps(1e-4f);
    double t = now_s();
    for (long i = 0; i < ITERS; i++) { CHAINS(F) }
    t = now_s() - t;
    float s = 0;
    CHAINS(S)
    sink = s;
    return (double)ITERS * 10 * 16 * 2 / t / 1e9;
#undef D
#undef F
#undef S
}

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
