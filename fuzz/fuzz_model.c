/*
 * fuzz_model.c - libFuzzer target for the .lfrm loader: any byte string
 * either loads (then must plan or refuse, and run) or is rejected.
 */
#include <stdint.h>
#include <stddef.h>

#include "nn/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lfr_nn_model *m = NULL;
    lfr_err err = {{0}};
    if (lfr_nn_model_load_mem(data, size, &m, &err) != LFR_OK) return 0;
    lfr_nn_ctx *c = NULL;
    if (lfr_nn_ctx_new(m, LFR_NN_BACKEND_REF, &c) == LFR_OK) {
        if (lfr_nn_ctx_plan(c, 1, 8, 8, &err) == LFR_OK) lfr_nn_ctx_run(c);
        lfr_nn_ctx_destroy(c);
    }
    lfr_nn_model_destroy(m);
    return 0;
}
