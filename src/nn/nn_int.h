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
    /* Optional: runs step k of c->bands (band.c): CONV2D node st->node on
     * input rows buf[in] + st->in_off (st->in_rows rows, st->pad_top and
     * st->pad_bottom zero rows around them) into output rows buf[out] +
     * st->out_off (st->out_rows rows).  Steps are known at prepare time.
     * NULL: the backend runs whole nodes only. */
    lfr_status (*run_step)(lfr_nn_ctx *c, int k);
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

/* One step of row-band execution (band.c). */
typedef struct lfr_nn_band_step {
    int32_t node;
    int32_t out_row0, out_rows;   /* output rows written */
    int32_t in_row0, in_rows;     /* input rows read, inside the tensor */
    int32_t pad_top, pad_bottom;  /* zero rows the conv sees around them */
    size_t in_off, out_off;       /* floats from buf[in] / buf[out] to them */
    /* Before the step: move move_floats floats from buf[out] + move_src to
     * buf[out] (the output window slides); 0 = nothing to move. */
    size_t move_src, move_floats;
} lfr_nn_band_step;

typedef struct lfr_nn_bands {
    int band_rows;                /* asked: -1 auto, 0 off, > 0 rows per band */
    int rows;                     /* planned rows per band (last node's output) */
    int first, last;              /* banded nodes [first, last]; -1: none */
    int n_steps;
    lfr_nn_band_step *steps;
    int32_t *win_rows;            /* [n_tensors] window rows; 0 = whole tensor */
} lfr_nn_bands;

/* band.c: after shape inference, before buffer placement. */
lfr_status lfr_nn_bands_plan(lfr_nn_ctx *c);
lfr_status lfr_nn_bands_run(lfr_nn_ctx *c);
void lfr_nn_bands_free(lfr_nn_bands *b);
/* Tests: smallest node input that joins a band chain (0 = the default, 2
 * MB), so small test networks can be banded.  Contexts planned afterwards. */
void lfr_nn_bands_set_min_bytes(size_t bytes);
/* The reference backend's run_step (the oneDNN backend's fallback too). */
lfr_status lfr_nn_ref_run_step(lfr_nn_ctx *c, int k);

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
    lfr_nn_bands bands;        /* row-band schedule of this plan */
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
