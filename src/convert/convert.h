/*
 * convert.h - the model converter: ONNX and TFLite files in, .lfrm graphs out.
 *
 * OVERVIEW
 *   openlfr runs the RFB-320 face detector (ONNX), MTCNN P-Net, R-Net and
 *   O-Net and MobileFaceNet 192-d (TFLite), MobileFaceNet 512-d "mfn512"
 *   (ONNX, faceplugin fr_feature.onnx; optional, the second embedder of the
 *   fused model sets) and faceplugin's 68-point landmark network "lm68"
 *   (ONNX, fr_landmark.onnx; optional, model set fused704v3).
 *   The converter turns one source file into an lfr_nn_graph (nn.h) that the
 *   engine loads.  It is driven by an arch table, one row per network: the
 *   source format, the input normalisation metadata, the nominal input size
 *   and the output names.  It never guesses: every pattern it rewrites is
 *   matched exactly, constants are checked, and anything else is refused
 *   with LFR_ERR_UNSUPPORTED and a sentence in lfr_err.
 *
 *   Two small readers, written by hand and bounded everywhere:
 *   - lfr_onnx_parse: protobuf wire format -> ModelProto/GraphProto subset
 *     (nodes, attributes INT/INTS/FLOAT/TENSOR, initializers, graph inputs
 *     with shapes).  Every varint and length is checked against the buffer,
 *     nesting depth and counts against limits.h.
 *   - lfr_tfl_parse: FlatBuffers -> TFLite Model subset (operator codes, the
 *     first subgraph, tensors, operators with their options, buffers).
 *     Every uoffset, vtable and vector length is checked.  Absent fields
 *     take the schema default (padding SAME, dilation 1, opcode_index 0...).
 *   Both return LFR_ERR_CORRUPT (malformed bytes), LFR_ERR_TOO_LARGE (over a
 *   limit) or LFR_ERR_UNSUPPORTED (valid but outside what we take), never
 *   crash, never read outside the buffer.
 *
 *   Rewrites (lfr_convert):
 *   ONNX (NCHW):  Conv weights [Co,Ci/g,kh,kw] -> [Co,kh,kw,Ci/g]; a Relu
 *     that is the only consumer of a Conv/Add is fused into it; Mul by the
 *     scalar 1.0 and Identity are dropped; Concat axes are mapped to NHWC;
 *     Transpose(0,2,3,1) is an identity on our NHWC storage; Reshape's shape
 *     input (Shape/Gather/Unsqueeze/Concat of constants) is evaluated at
 *     conversion time into RESHAPE params (the batch becomes 0 = copy);
 *     PRelu with a constant slope [C,1,1], [1,C,1,1] or scalar becomes
 *     PRELU [C].  For fixed_size rows the nominal spatial size is tracked
 *     through Conv/MaxPool/element-wise ops, so a Reshape of an NCHW
 *     [N,C,1,1] value to [batch, -1 or C] (the same bytes in NHWC) becomes
 *     RESHAPE [0,-1]; any other NCHW Reshape is refused (it would need a
 *     transpose).  fixed_size ONNX inputs are declared [0,h,w,C] (any
 *     batch); a Reshape's literal batch equal to the source input's
 *     declared batch is then copied.
 *     Flatten (axis 1) of an NCHW value of known nominal size is kept in
 *     NHWC and may feed only a Gemm, whose B columns are permuted from
 *     (c, y, x) to (y, x, c): Gemm (alpha = beta = 1, transB 1, constant B
 *     and C) becomes FC, with a BatchNormalization that is its only user
 *     folded into B and C.
 *     The graph is cut at the arch's output values; what lies beyond is
 *     dropped.
 *   TFLite (NHWC): CONV_2D as is, DEPTHWISE [1,kh,kw,C] -> [C,kh,kw,1] with
 *     groups C, SAME padding kept as p[12]=1 plus explicit pads for the
 *     nominal size; decomposed PReLU (relu(x) - a*relu(-x) and
 *     relu(x) + m*(x - |x|)) and softmax (reduce_max/sub/exp/sum/div) are
 *     folded into PRELU and SOFTMAX.
 *
 *   Output names: rfb "scores" [N,A,2] (softmax probabilities) and "boxes"
 *   [N,A,4]; onet "prob" [N,2], "reg" [N,4], "landmarks" [N,10]; rnet "prob",
 *   "reg"; pnet "prob" [N,h,w,2], "reg" [N,h,w,4]; mobilefacenet
 *   "embeddings" [N,192]; mfn512 "embeddings" [N,512] (not normalised); lm68 "landmarks" [N,136]
 *   (x, y of 68 points as fractions of the crop).  All other tensor names are the source names,
 *   truncated to LFR_MAX_NAME - 1 bytes.
 *
 *   Metadata written: "arch", "converter" ("openlfr-convert 1"),
 *   "input.layout", "input.mean", "input.scale", "input.transpose",
 *   "input.width" and "input.height" (nominal size), plus whatever the caller
 *   of lfr_convert_file passes (source.package, source.sha256, license...).
 *
 * OWNERSHIP
 *   lfr_onnx_model / lfr_tfl_model borrow the source buffer: their strings
 *   and TFLite tensor data point into it, so it must outlive them.  Decoded
 *   ONNX tensor data (floats, int64s) is owned by the model; free both kinds
 *   with their _free function (safe on a zeroed or failed model).
 *   lfr_convert fills a builder graph (lfr_nn_graph_init) that owns copies
 *   of all constant data; the caller frees it with lfr_nn_graph_free, also
 *   after a failure (it is then empty).  Nothing here keeps global state;
 *   all functions may run on several threads at once.
 */
#ifndef LFR_CONVERT_H
#define LFR_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "nn/nn.h"

/* A string inside the source buffer (not NUL-terminated). */
typedef struct lfr_cv_str {
    const char *p;
    uint32_t len;
} lfr_cv_str;

int lfr_cv_str_eq(lfr_cv_str s, const char *z);
/* Copies at most cap - 1 bytes (stopping at a NUL) and terminates. */
void lfr_cv_str_copy(char *dst, size_t cap, lfr_cv_str s);

/* ONNX ------------------------------------------------------------------- */

enum { LFR_ONNX_FLOAT = 1, LFR_ONNX_INT64 = 7 };  /* TensorProto.DataType */
enum {                                            /* AttributeProto.Type */
    LFR_ONNX_ATTR_FLOAT = 1, LFR_ONNX_ATTR_INT = 2, LFR_ONNX_ATTR_STRING = 3,
    LFR_ONNX_ATTR_TENSOR = 4, LFR_ONNX_ATTR_INTS = 7
};

typedef struct lfr_onnx_tensor {
    lfr_cv_str name;
    int32_t data_type;        /* LFR_ONNX_FLOAT or LFR_ONNX_INT64 */
    int32_t ndim;             /* 0 = scalar */
    int64_t dims[LFR_MAX_CONVERT_DIMS];
    size_t count;             /* product of dims */
    float *f;                 /* [count] when FLOAT, owned */
    int64_t *i;               /* [count] when INT64, owned */
} lfr_onnx_tensor;

typedef struct lfr_onnx_attr {
    lfr_cv_str name;
    int32_t type;             /* LFR_ONNX_ATTR_*; others are kept as 0 */
    int64_t i;
    float f;
    lfr_cv_str s;
    int32_t n_ints;
    int64_t ints[LFR_MAX_CONVERT_ATTR_INTS];
    int32_t tensor;           /* index in lfr_onnx_model.tensors, or -1 */
} lfr_onnx_attr;

typedef struct lfr_onnx_node {
    lfr_cv_str op_type, name, domain;
    int32_t n_in, n_out;
    lfr_cv_str in[LFR_MAX_CONVERT_NODE_IO];   /* "" = absent optional input */
    lfr_cv_str out[LFR_MAX_CONVERT_NODE_IO];
    int32_t attr0, n_attrs;   /* slice of lfr_onnx_model.attrs */
} lfr_onnx_node;

typedef struct lfr_onnx_value_info {
    lfr_cv_str name;
    int32_t elem_type;
    int32_t ndim;             /* -1 = no shape given */
    int64_t dims[LFR_MAX_CONVERT_DIMS];   /* -1 = symbolic/unknown */
} lfr_onnx_value_info;

typedef struct lfr_onnx_model {
    int64_t ir_version, opset;      /* opset of the default domain */
    int32_t n_nodes, n_attrs, n_tensors, n_inputs, n_outputs;
    int32_t cap_nodes, cap_attrs, cap_tensors, cap_inputs, cap_outputs;
    lfr_onnx_node *nodes;
    lfr_onnx_attr *attrs;
    lfr_onnx_tensor *tensors;       /* initializers first-come, then
                                       attribute tensors, in file order */
    uint8_t *is_initializer;        /* [cap_tensors] */
    lfr_onnx_value_info *inputs, *outputs;
} lfr_onnx_model;

lfr_status lfr_onnx_parse(const uint8_t *buf, size_t len, lfr_onnx_model *m,
                          lfr_err *err);
void lfr_onnx_free(lfr_onnx_model *m);
/* The attribute `name` of node `n`, or NULL. */
const lfr_onnx_attr *lfr_onnx_attr_find(const lfr_onnx_model *m,
                                        const lfr_onnx_node *n,
                                        const char *name);

/* TFLite ----------------------------------------------------------------- */

enum {  /* BuiltinOperator values we name */
    LFR_TFL_ADD = 0, LFR_TFL_CONCATENATION = 2, LFR_TFL_CONV_2D = 3,
    LFR_TFL_DEPTHWISE_CONV_2D = 4, LFR_TFL_FULLY_CONNECTED = 9,
    LFR_TFL_MAX_POOL_2D = 17, LFR_TFL_MUL = 18, LFR_TFL_RELU = 19,
    LFR_TFL_RESHAPE = 22, LFR_TFL_SOFTMAX = 25, LFR_TFL_SUB = 41,
    LFR_TFL_DIV = 42, LFR_TFL_EXP = 47, LFR_TFL_PRELU = 54, LFR_TFL_NEG = 59,
    LFR_TFL_SUM = 74, LFR_TFL_REDUCE_MAX = 82, LFR_TFL_ABS = 101
};
enum { LFR_TFL_FLOAT32 = 0, LFR_TFL_INT32 = 2 };   /* TensorType */
enum { LFR_TFL_PAD_SAME = 0, LFR_TFL_PAD_VALID = 1 };
enum { LFR_TFL_ACT_NONE = 0, LFR_TFL_ACT_RELU = 1 };

typedef struct lfr_tfl_tensor {
    lfr_cv_str name;
    int32_t type;
    int32_t ndim;
    int32_t dims[LFR_MAX_CONVERT_DIMS];
    uint32_t buffer;
    const uint8_t *data;      /* into the source buffer; NULL = no data */
    size_t data_len;
} lfr_tfl_tensor;

/* The union of the option tables we read, with schema defaults filled in
 * for absent fields. */
typedef struct lfr_tfl_options {
    int32_t padding;          /* SAME = 0 */
    int32_t stride_w, stride_h;       /* default 0 (invalid if used) */
    int32_t dilation_w, dilation_h;   /* default 1 */
    int32_t depth_multiplier;         /* default 0 */
    int32_t filter_w, filter_h;
    int32_t act;              /* fused_activation_function */
    int32_t axis;             /* ConcatenationOptions */
    int32_t keep_dims;        /* ReducerOptions */
    int32_t keep_num_dims, weights_format;   /* FullyConnectedOptions */
    float beta;               /* SoftmaxOptions, default 0 */
    int32_t n_new_shape;      /* ReshapeOptions; -1 = absent */
    int32_t new_shape[LFR_MAX_CONVERT_DIMS];
} lfr_tfl_options;

typedef struct lfr_tfl_op {
    int32_t code;             /* BuiltinOperator */
    int32_t n_in, n_out;
    int32_t in[LFR_MAX_CONVERT_NODE_IO];      /* -1 = absent optional */
    int32_t out[LFR_MAX_CONVERT_NODE_IO];
    int32_t options_type;     /* BuiltinOptions union type, 0 = none */
    lfr_tfl_options opt;
} lfr_tfl_op;

typedef struct lfr_tfl_model {
    int32_t n_tensors, n_ops, n_inputs, n_outputs;
    lfr_tfl_tensor *tensors;
    lfr_tfl_op *ops;
    int32_t inputs[LFR_NN_MAX_IO], outputs[LFR_NN_MAX_IO];
} lfr_tfl_model;

lfr_status lfr_tfl_parse(const uint8_t *buf, size_t len, lfr_tfl_model *m,
                         lfr_err *err);
void lfr_tfl_free(lfr_tfl_model *m);

/* Converter -------------------------------------------------------------- */

typedef enum lfr_cv_format { LFR_CV_ONNX = 0, LFR_CV_TFLITE = 1 } lfr_cv_format;

#define LFR_CV_MAX_OUTPUTS 4

typedef struct lfr_cv_arch {
    const char *name;             /* "rfb", "onet", ... */
    lfr_cv_format format;
    const char *mean, *scale, *layout, *transpose;   /* metadata values */
    int32_t width, height;        /* nominal input size */
    int32_t fixed_size;           /* 1: the input is declared [0,h,w,C]
                                     (any batch, the nominal size) */
    int32_t n_outputs;
    const char *out_names[LFR_CV_MAX_OUTPUTS];
    /* ONNX: the source values to cut the graph at (NULL = graph outputs).
     * TFLite: the last dim that identifies each output (0 = by order). */
    const char *out_src[LFR_CV_MAX_OUTPUTS];
    int32_t out_last_dim[LFR_CV_MAX_OUTPUTS];
} lfr_cv_arch;

/* The row for `arch`, or NULL. */
const lfr_cv_arch *lfr_cv_arch_find(const char *arch);
/* Row i (0..), NULL past the end. */
const lfr_cv_arch *lfr_cv_arch_at(int i);

/* Converts a source file's bytes for `arch` into `out` (initialised here).
 * On failure `out` is left empty and still needs lfr_nn_graph_free. */
lfr_status lfr_convert(const char *arch, const uint8_t *src, size_t len,
                       lfr_nn_graph *out, lfr_err *err);

/* The same with an explicit arch row (tests, networks not in the table). */
lfr_status lfr_convert_with(const lfr_cv_arch *a, const uint8_t *src,
                            size_t len, lfr_nn_graph *out, lfr_err *err);

/* Reads `in_path` (at most LFR_MAX_SOURCE_MODEL_BYTES), converts it, adds
 * the metadata pairs `meta_kv` (key, value, ..., NULL; may be NULL) and
 * writes `out_path` as .lfrm. */
lfr_status lfr_convert_file(const char *arch, const char *in_path,
                            const char *out_path,
                            const char *const *meta_kv, lfr_err *err);

#endif
