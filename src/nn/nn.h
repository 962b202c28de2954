/*
 * nn.h - openlfr's neural-network engine: model file, graph, execution.
 *
 * OVERVIEW
 *   A network is a list of nodes in execution order over a table of tensors.
 *   Constant tensors (weights) carry data; value tensors (activations) get
 *   their shapes from the planner, which runs shape inference for one input
 *   size and allocates every activation buffer once.  Inference then does no
 *   allocation.  Backends execute a plan: REF, a plain C implementation of
 *   every op (the definition of what an op means, used by the tests),
 *   XNNPACK, and DNNL (oneDNN, handing the nodes XNNPACK does better to
 *   it: the fastest on every network we ship, see src/nn/dnnl.c).  All read
 *   and write the same buffers, so a test can compare them op by op.
 *
 *   Large first layers (the detector at 960x540) run in row bands: the plan
 *   interleaves a chain of convolutions a few rows at a time so that
 *   intermediate rows are consumed from cache and held in small windows
 *   (src/nn/band.c; same results, a third of the activation memory).
 *
 *   Activations are NHWC float32.  Rank-4 values are [N,H,W,C]; fully
 *   connected outputs are [N,K]; reshaped head outputs may be rank 2 or 3.
 *
 * THE .lfrm MODEL FILE (version 1), all integers little-endian
 *
 *   offset size  field
 *   0      4     magic "LFRM"
 *   4      4     u32 version = 1
 *   8      4     u32 n_meta      (<= LFR_MAX_MODEL_META)
 *   12     4     u32 n_tensors   (<= LFR_MAX_MODEL_TENSORS)
 *   16     4     u32 n_nodes     (<= LFR_MAX_MODEL_NODES)
 *   20     4     u32 n_inputs    (1..LFR_NN_MAX_IO)
 *   24     4     u32 n_outputs   (1..LFR_NN_MAX_IO)
 *   28     4     u32 alignment of the data section and of each tensor in it
 *                (power of two, 16..4096; writer uses 64)
 *   32     8     u64 data_offset  (from file start; multiple of alignment)
 *   40     8     u64 data_size    (data_offset + data_size == file size)
 *   48     ...   metadata: n_meta x { str key; str value }
 *                tensors:  n_tensors x {
 *                    str  name
 *                    u32  kind     0 = value (activation), 1 = constant
 *                    u32  ndim     1..4
 *                    i32  dims[ndim]  constant: > 0; value: >= 0, 0 = set
 *                                      by the planner
 *                    u64  offset   constant: from data_offset, aligned
 *                    u64  nbytes   constant: 4 * product(dims); value: 0 }
 *                nodes: n_nodes x {
 *                    u32  op       enum lfr_nn_op
 *                    u32  n_in     1..LFR_MAX_NODE_INPUTS
 *                    u32  in[n_in] tensor indices
 *                    u32  out      tensor index (a value, written once)
 *                    i32  p[LFR_NN_NPARAMS]  op parameters, see lfr_nn_op
 *                }
 *                u32 inputs[n_inputs]; u32 outputs[n_outputs]
 *   data_offset  tensor data, float32 little-endian, each at its offset
 *
 *   str = u32 length (< LFR_MAX_NAME, or LFR_MAX_META_VALUE for metadata
 *   values) followed by that many bytes, no terminator.
 *
 *   Standard metadata keys: "arch" (rfb | onet | mobilefacenet | pnet |
 *   rnet), "input.layout" (e.g. "NHWC RGB"), "input.mean", "input.scale"
 *   (x' = (x - mean) * scale), "input.transpose" ("1" = swap x and y),
 *   "source.package", "source.version", "source.file", "source.sha256",
 *   "license", "converter".
 *
 *   The loader checks everything: magic, version, counts against limits,
 *   every string length, dims, that each constant lies inside the data
 *   section with the size its dims imply, that node inputs refer to
 *   existing tensors defined before use, per-op arity and parameter ranges.
 *   A bad file gives LFR_ERR_BAD_MODEL with a sentence in lfr_err; the
 *   loader never aborts.
 *
 * OWNERSHIP
 *   lfr_nn_model is immutable after load and may be shared by threads.
 *   lfr_nn_ctx belongs to one thread; it holds the plan and buffers.
 *   A graph built by the converter (lfr_nn_graph_*) owns copies of the
 *   constant data it is given.
 */
#ifndef LFR_NN_H
#define LFR_NN_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#define LFR_NN_MAGIC "LFRM"
#define LFR_NN_VERSION 1
#define LFR_NN_MAX_DIMS 4
#define LFR_NN_NPARAMS 16
#define LFR_NN_MAX_IO 4

/* Operators.  Parameters (p[]) by index; unlisted entries must be 0.
 *
 * CONV2D   in: x[N,H,W,Ci], w[Co,KH,KW,Ci/groups], b[Co]
 *          p: 0 kh 1 kw 2 stride_h 3 stride_w 4 dilation_h 5 dilation_w
 *             6 pad_top 7 pad_left 8 pad_bottom 9 pad_right 10 groups
 *             11 activation (enum lfr_nn_act) 12 same (1 = TensorFlow SAME:
 *             pads recomputed from the input size by the planner)
 *             Depthwise is groups == Ci == Co.
 * MAXPOOL  in: x.  p: 0 kh 1 kw 2 stride_h 3 stride_w 6..9 pads 12 same
 *             (padding never wins the max)
 * FC       in: x[N,...] (flattened to [N,K] in NHWC order), w[Co,K], b[Co]
 *          p: 11 activation
 * ADD      in: a, b (same shape).  p: 11 activation
 * PRELU    in: x[...,C], slope[C]:  y = x > 0 ? x : slope * x
 * RELU     in: x
 * CONCAT   in: 2..8 tensors.  p: 0 axis (in the NHWC rank of the inputs)
 * RESHAPE  in: x.  p: 0 ndim 1..4 dims; a dim of 0 copies the input's
 *             dim at that index, -1 is inferred (at most one)
 * SOFTMAX  in: x, over the last axis
 */
#define LFR_NN_OP_LIST(X)                                                      \
    X(CONV2D, 3, 3)                                                            \
    X(MAXPOOL, 1, 1)                                                           \
    X(FC, 3, 3)                                                                \
    X(ADD, 2, 2)                                                               \
    X(PRELU, 2, 2)                                                             \
    X(RELU, 1, 1)                                                              \
    X(CONCAT, 2, LFR_MAX_NODE_INPUTS)                                          \
    X(RESHAPE, 1, 1)                                                           \
    X(SOFTMAX, 1, 1)

typedef enum lfr_nn_op {
#define LFR_NN_OP_ENUM(name, min_in, max_in) LFR_NN_OP_##name,
    LFR_NN_OP_LIST(LFR_NN_OP_ENUM)
#undef LFR_NN_OP_ENUM
    LFR_NN_OP_COUNT
} lfr_nn_op;

/* Parameter indices, named. */
enum {
    LFR_NN_P_KH = 0, LFR_NN_P_KW = 1, LFR_NN_P_SH = 2, LFR_NN_P_SW = 3,
    LFR_NN_P_DH = 4, LFR_NN_P_DW = 5, LFR_NN_P_PT = 6, LFR_NN_P_PL = 7,
    LFR_NN_P_PB = 8, LFR_NN_P_PR = 9, LFR_NN_P_GROUPS = 10, LFR_NN_P_ACT = 11,
    LFR_NN_P_SAME = 12, LFR_NN_P_AXIS = 0, LFR_NN_P_NDIM = 0
};

typedef enum lfr_nn_act { LFR_NN_ACT_NONE = 0, LFR_NN_ACT_RELU = 1 } lfr_nn_act;

const char *lfr_nn_op_name(lfr_nn_op op);

typedef struct lfr_nn_shape {
    int32_t ndim;
    int32_t d[LFR_NN_MAX_DIMS];
} lfr_nn_shape;

size_t lfr_nn_shape_elems(const lfr_nn_shape *s);

typedef struct lfr_nn_tensor {
    char name[LFR_MAX_NAME];
    int32_t is_const;
    lfr_nn_shape shape;  /* constants: exact; values: as declared (0 = any) */
    const float *data;   /* constants only; owned by the model or graph */
} lfr_nn_tensor;

typedef struct lfr_nn_node {
    int32_t op;
    int32_t n_in;
    int32_t in[LFR_MAX_NODE_INPUTS];
    int32_t out;
    int32_t p[LFR_NN_NPARAMS];
} lfr_nn_node;

typedef struct lfr_nn_meta {
    char key[LFR_MAX_NAME];
    char value[LFR_MAX_META_VALUE];
} lfr_nn_meta;

/* The graph: the common shape of a loaded model and of the converter's
 * output.  Arrays are owned by whoever made the graph. */
typedef struct lfr_nn_graph {
    int32_t n_meta, n_tensors, n_nodes, n_inputs, n_outputs;
    lfr_nn_meta *meta;
    lfr_nn_tensor *tensors;
    lfr_nn_node *nodes;
    int32_t inputs[LFR_NN_MAX_IO];
    int32_t outputs[LFR_NN_MAX_IO];
} lfr_nn_graph;

/* Graph building (converter) ------------------------------------------- */
/* A builder graph owns its arrays and copies of all constant data. */
lfr_status lfr_nn_graph_init(lfr_nn_graph *g);
void lfr_nn_graph_free(lfr_nn_graph *g);
/* Adds a tensor, returns its index in *id.  `data` (constants) is copied;
 * pass NULL for a value. */
lfr_status lfr_nn_graph_add_tensor(lfr_nn_graph *g, const char *name,
                                   const lfr_nn_shape *shape,
                                   const float *data, int32_t *id);
lfr_status lfr_nn_graph_add_node(lfr_nn_graph *g, const lfr_nn_node *node);
lfr_status lfr_nn_graph_set_meta(lfr_nn_graph *g, const char *key,
                                 const char *value);
const char *lfr_nn_graph_get_meta(const lfr_nn_graph *g, const char *key);
/* Structural checks shared by the writer and the loader. */
lfr_status lfr_nn_graph_validate(const lfr_nn_graph *g, lfr_err *err);
/* Serialises to the .lfrm format (atomically: temp file then rename). */
lfr_status lfr_nn_graph_write(const lfr_nn_graph *g, const char *path,
                              lfr_err *err);
/* Serialises to a new buffer (tests, fuzz seeds). */
lfr_status lfr_nn_graph_serialize(const lfr_nn_graph *g, uint8_t **buf,
                                  size_t *len, lfr_err *err);

/* Models ----------------------------------------------------------------- */
typedef struct lfr_nn_model lfr_nn_model;

lfr_status lfr_nn_model_load(const char *path, lfr_nn_model **out,
                             lfr_err *err);
/* Parses a buffer; the model keeps its own copy. */
lfr_status lfr_nn_model_load_mem(const uint8_t *buf, size_t len,
                                 lfr_nn_model **out, lfr_err *err);
void lfr_nn_model_destroy(lfr_nn_model *m);
const lfr_nn_graph *lfr_nn_model_graph(const lfr_nn_model *m);
const char *lfr_nn_model_meta(const lfr_nn_model *m, const char *key);

/* Execution -------------------------------------------------------------- */
typedef enum lfr_nn_backend {
    LFR_NN_BACKEND_REF = 0,     /* plain C, every op */
    LFR_NN_BACKEND_XNNPACK = 1, /* XNNPACK (+ own AVX2 GEMM for 1x1/FC) */
    LFR_NN_BACKEND_DNNL = 2     /* oneDNN, delegating some nodes to XNNPACK
                                   (see src/nn/dnnl.c) */
} lfr_nn_backend;

typedef struct lfr_nn_ctx lfr_nn_ctx;

lfr_status lfr_nn_ctx_new(const lfr_nn_model *m, lfr_nn_backend backend,
                          lfr_nn_ctx **out);
/* Gives every tensor its own buffer instead of reusing memory between
 * tensors whose lifetimes do not overlap, so lfr_nn_ctx_tensor() works for
 * all of them after a run.  For tests; call before lfr_nn_ctx_plan. */
void lfr_nn_ctx_keep_all(lfr_nn_ctx *c, int keep);
void lfr_nn_ctx_destroy(lfr_nn_ctx *c);

/* Plans for input 0 of shape [n,h,w,c] (c from the model): shape inference,
 * buffer allocation, backend operator setup.  Re-planning for the same size
 * is free; a new size re-allocates.  Fails with LFR_ERR_INVALID_ARG for
 * sizes the network cannot take (and says why in err). */
lfr_status lfr_nn_ctx_plan(lfr_nn_ctx *c, int n, int h, int w, lfr_err *err);

/* Buffers of the current plan (valid until the next plan/destroy). */
float *lfr_nn_ctx_input(lfr_nn_ctx *c, int i, lfr_nn_shape *shape);
const float *lfr_nn_ctx_output(lfr_nn_ctx *c, int i, lfr_nn_shape *shape);
/* Any tensor's buffer (tests compare backends node by node). */
const float *lfr_nn_ctx_tensor(lfr_nn_ctx *c, int tensor, lfr_nn_shape *shape);

/* Row-band execution of the network's first, large convolutions (see
 * src/nn/band.c): rows  -1 = automatic (default), 0 = off (whole nodes),
 * > 0 = that many output rows of the chain's last node per band.  Takes
 * effect at the next plan.  Banded runs give the same results; they keep
 * intermediate rows in cache and need less memory.  With bands on, the
 * chain's intermediate tensors exist only as windows of rows:
 * lfr_nn_ctx_tensor() returns NULL for them (the shape is still given) and lfr_nn_ctx_run_node()
 * refuses those nodes (LFR_ERR_STATE).  keep_all turns bands off. */
void lfr_nn_ctx_set_band_rows(lfr_nn_ctx *c, int rows);
/* Planned rows per band, 0 when this plan runs whole nodes only. */
int lfr_nn_ctx_band_rows(const lfr_nn_ctx *c);
/* Bytes of the activation arena of the current plan (all intermediate
 * tensors, reused by lifetime; windows of rows where banded). */
size_t lfr_nn_ctx_arena_bytes(const lfr_nn_ctx *c);

lfr_status lfr_nn_ctx_run(lfr_nn_ctx *c);

/* Runs only node `i` of the plan (per-op tests, profiling). */
lfr_status lfr_nn_ctx_run_node(lfr_nn_ctx *c, int i);

#endif
