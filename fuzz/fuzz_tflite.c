/*
 * fuzz_tflite.c - the TFLite reader and the converter on arbitrary bytes:
 * parse, then convert for every arch row of that format and for a
 * permissive row (one output, any shape) that lets small seeds reach the
 * rewrite and pattern code.  Must never crash, hang or leak (replayed
 * over fuzz/corpus/tflite by make test).
 */
#include <stddef.h>
#include <stdint.h>

#include "convert/convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const lfr_cv_arch any_row = {
    "fuzz", LFR_CV_TFLITE, "0", "1", "NHWC RGB", "0", 8, 8, 0, 1,
    {"out"}, {NULL}, {0}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int quiet;
    if (!quiet) {
        lfr_log_set_level(LFR_LOG_SILENT);
        quiet = 1;
    }
    lfr_err err = {{0}};
    lfr_tfl_model m;
    if (lfr_tfl_parse(data, size, &m, &err) == LFR_OK) lfr_tfl_free(&m);
    for (int i = 0; lfr_cv_arch_at(i); i++) {
        const lfr_cv_arch *a = lfr_cv_arch_at(i);
        if (a->format != LFR_CV_TFLITE) continue;
        lfr_nn_graph g;
        (void)lfr_convert(a->name, data, size, &g, &err);
        lfr_nn_graph_free(&g);
    }
    lfr_nn_graph g;
    (void)lfr_convert_with(&any_row, data, size, &g, &err);
    lfr_nn_graph_free(&g);
    return 0;
}
