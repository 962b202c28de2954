/*
 * nn_int.h - private to src/nn: the execution context and the backend
 * interface.  Not installed, not included outside src/nn and its tests.
 *
 * A plan (lfr_nn_ctx_plan) fills shapes[] for every tensor, pads[] for
 * every node (SAME padding resolved for the planned size) and buf[] for
 * every tensor: constants point into the model, values into one arena.
 * Then the backend's prepare() is called; run_node(i) executes node i
 * reading buf[in[k]] and writing buf[out].  Backends never allocate in
 * run_node.
 */
#ifndef LFR_NN_INT_H
#define LFR_NN_INT_H

#include "nn.h"

typedef struct lfr_nn_backend_ops {
    const char *name;
    /* Called once per ctx, before the first plan: create operators that do
     * not depend on the input size (e.g. XNNPACK weight packing). */
    lfr_status (*init)(lfr_nn_ctx *c);
    /* Called after every (re)plan with new shapes and buffers. */
    lfr_status (*prepare)(lfr_nn_ctx *c);
    lfr_status (*run_node)(lfr_nn_ctx *c, int i);
    void (*release)(lfr_nn_ctx *c);
} lfr_nn_backend_ops;

extern const lfr_nn_backend_ops lfr_nn_backend_ref;
extern const lfr_nn_backend_ops lfr_nn_backend_xnnpack;
extern const lfr_nn_backend_ops lfr_nn_backend_dnnl;

struct lfr_nn_model {
    lfr_nn_graph graph;   /* arrays owned by the model */
    uint8_t *file;        /* the file bytes (aligned); constants point here */
    size_t file_len;
};

struct lfr_nn_ctx {
    const lfr_nn_model *model;
    const lfr_nn_graph *g;
    const lfr_nn_backend_ops *ops;
    int keep_all;
    int planned, plan_n, plan_h, plan_w;
    lfr_nn_shape *shapes;      /* [n_tensors] planned shapes */
    float **buf;               /* [n_tensors] data pointers */
    int32_t (*pads)[4];        /* [n_nodes] top, left, bottom, right */
    float *arena;              /* value buffers, 64-byte aligned */
    size_t arena_floats;
    void *backend_state;       /* owned by the backend */
};

/* Number of nodes the XNNPACK backend has handed to the reference backend
 * since the process started (tests assert it stays 0 for supported ops). */
long lfr_nn_xnn_fallback_count(void);
/* The same for the oneDNN backend (nodes oneDNN refused). */
long lfr_nn_dnnl_fallback_count(void);
/* 1: the oneDNN backend runs every node itself (no delegation to XNNPACK);
 * for tests and measurements.  Applies to contexts created afterwards.
 * Default: OPENLFR_NN_DNNL_PURE from the environment. */
void lfr_nn_dnnl_set_pure(int pure);

/* Resolved TensorFlow SAME padding for one spatial axis. */
void lfr_nn_same_pad(int in, int k, int stride, int dilation, int32_t *before,
                     int32_t *after);

#endif
