/*
 * harness.h - a tiny test harness: one binary per module, each test a
 * function, assertions that print both values and carry on to the next test.
 *
 *   static void test_x(void) { CHECK_EQ_INT(1 + 1, 2); }
 *   int main(void) { RUN(test_x); return harness_done("image"); }
 *
 * harness_done prints "image: N passed, M failed" and returns the exit code.
 * SKIP(why) marks a test skipped, loudly, with its reason.
 */
#ifndef LFR_HARNESS_H
#define LFR_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int h_failed_checks, h_passed, h_failed, h_skipped, h_cur_failed, h_cur_skipped;

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
            h_failed_checks++;                                                  \
            h_cur_failed = 1;                                                   \
        }                                                                       \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                      \
    do {                                                                        \
        long long va_ = (long long)(a), vb_ = (long long)(b);                   \
        if (va_ != vb_) {                                                       \
            fprintf(stderr, "  FAIL %s:%d: %s == %s (%lld vs %lld)\n",          \
                    __FILE__, __LINE__, #a, #b, va_, vb_);                      \
            h_failed_checks++;                                                  \
            h_cur_failed = 1;                                                   \
        }                                                                       \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                   \
    do {                                                                        \
        double va_ = (double)(a), vb_ = (double)(b);                            \
        if (!(fabs(va_ - vb_) <= (tol))) {                                      \
            fprintf(stderr, "  FAIL %s:%d: %s ~ %s (%g vs %g, tol %g)\n",       \
                    __FILE__, __LINE__, #a, #b, va_, vb_, (double)(tol));       \
            h_failed_checks++;                                                  \
            h_cur_failed = 1;                                                   \
        }                                                                       \
    } while (0)

#define CHECK_STATUS(expr, want)                                                \
    do {                                                                        \
        lfr_status got_ = (expr);                                               \
        if (got_ != (want)) {                                                   \
            fprintf(stderr, "  FAIL %s:%d: %s -> %s, want %s\n", __FILE__,      \
                    __LINE__, #expr, lfr_status_str(got_),                      \
                    lfr_status_str(want));                                      \
            h_failed_checks++;                                                  \
            h_cur_failed = 1;                                                   \
        }                                                                       \
    } while (0)

#define SKIP(why)                                                               \
    do {                                                                        \
        fprintf(stderr, "  SKIP %s: %s\n", __func__, why);                      \
        h_cur_skipped = 1;                                                      \
        return;                                                                 \
    } while (0)

#define RUN(fn)                                                                 \
    do {                                                                        \
        h_cur_failed = 0;                                                       \
        h_cur_skipped = 0;                                                      \
        fprintf(stderr, "- %s\n", #fn);                                         \
        fn();                                                                   \
        if (h_cur_failed) h_failed++;                                           \
        else if (h_cur_skipped) h_skipped++;                                    \
        else h_passed++;                                                        \
    } while (0)

static inline int harness_done(const char *suite) {
    if (h_skipped)
        printf("%s: %d passed, %d failed, %d skipped\n", suite, h_passed,
               h_failed, h_skipped);
    else
        printf("%s: %d passed, %d failed\n", suite, h_passed, h_failed);
    return h_failed ? 1 : 0;
}

/* OPENLFR_DATA or NULL; tests that need it SKIP loudly when it is absent. */
static inline const char *harness_data_dir(void) {
    const char *d = getenv("OPENLFR_DATA");
    return (d && *d) ? d : NULL;
}

#endif
