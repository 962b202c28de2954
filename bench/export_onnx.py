#!/usr/bin/python3
"""bench/export_onnx.py - writes ONNX models for the ONNX Runtime benchmark.

Two modes (run with Debian's /usr/bin/python3: it has python3-onnx/numpy):

  export_onnx.py MODEL.lfrm OUT.onnx --input N,H,W,C
      Reads an openlfr .lfrm model (format: top of src/nn/nn.h) and writes
      a faithful ONNX model (opset 13) of the same graph for a fixed input
      shape.  The ONNX model takes and returns exactly what our engine
      does: input NHWC float32, outputs in our layouts (rank-4 outputs
      NHWC).  Inside, rank-4 activations are NCHW (ONNX's native layout):
      one Transpose after the input, one before each rank-4 output (and
      around RESHAPE of a rank-4 tensor); weights are permuted offline
      (conv [Co,KH,KW,Ci/g] -> [Co,Ci/g,KH,KW]; FC rows from NHWC to NCHW
      flatten order), so ORT runs its normal NCHW kernels.  TensorFlow SAME
      padding is resolved to explicit pads for the given input size.

  export_onnx.py --cut-onnx SRC.onnx OUT.onnx --input 1,3,H,W --outputs A,B
      Copies an ONNX model with the input fixed to the given shape, the
      graph outputs replaced by the named tensors and everything not needed
      for them removed (used for the RFB detector: its raw heads 'scores'
      (softmax) and '462' (box regression), dropping the decode that is
      fixed to 320x240).

  --print   also print a summary of the graph (ops, shapes) on stderr.
"""
import argparse
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPS = ["CONV2D", "MAXPOOL", "FC", "ADD", "PRELU", "RELU", "CONCAT", "RESHAPE", "SOFTMAX"]
# min/max inputs per op, as in LFR_NN_OP_LIST
ARITY = {"CONV2D": (3, 3), "MAXPOOL": (1, 1), "FC": (3, 3), "ADD": (2, 2), "PRELU": (2, 2),
         "RELU": (1, 1), "CONCAT": (2, 8), "RESHAPE": (1, 1), "SOFTMAX": (1, 1)}
NPARAMS = 16
MAX_DIMS = 4
MAX_NAME = 128
MAX_META_VALUE = 1024
P_KH, P_KW, P_SH, P_SW, P_DH, P_DW, P_PT, P_PL, P_PB, P_PR, P_GROUPS, P_ACT, P_SAME = range(13)
ACT_NONE, ACT_RELU = 0, 1
OPSET = 13

# NHWC axis -> NCHW axis for rank-4 tensors
NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


class BadModel(Exception):
    pass


# --------------------------------------------------------------------------
# .lfrm reader
class Reader:
    def __init__(self, buf, end):
        self.buf, self.pos, self.end = buf, 0, end

    def take(self, n):
        if n < 0 or self.pos + n > self.end:
            raise BadModel("truncated header at offset %d (need %d bytes)" % (self.pos, n))
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def i32(self):
        return struct.unpack("<i", self.take(4))[0]

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def str(self, limit):
        n = self.u32()
        if n >= limit:
            raise BadModel("string of %d bytes at offset %d (limit %d)" % (n, self.pos - 4, limit))
        return self.take(n).decode("utf-8", "replace")


def read_lfrm(path):
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 48 or buf[:4] != b"LFRM":
        raise BadModel("%s: not an .lfrm file (bad magic)" % path)
    (version, n_meta, n_tensors, n_nodes, n_inputs, n_outputs, align, data_offset,
     data_size) = struct.unpack("<IIIIIIIQQ", buf[4:48])
    if version != 1:
        raise BadModel("unsupported version %d" % version)
    if align < 16 or align > 4096 or align & (align - 1):
        raise BadModel("bad alignment %d" % align)
    if data_offset % align or data_offset + data_size != len(buf) or data_offset < 48:
        raise BadModel("bad data section (offset %d size %d, file %d)" % (data_offset, data_size, len(buf)))
    if not 1 <= n_inputs <= 4 or not 1 <= n_outputs <= 4:
        raise BadModel("bad input/output counts %d/%d" % (n_inputs, n_outputs))
    r = Reader(buf, data_offset)
    r.pos = 48
    meta = {}
    for _ in range(n_meta):
        k = r.str(MAX_NAME)
        meta[k] = r.str(MAX_META_VALUE)
    tensors = []
    for ti in range(n_tensors):
        name = r.str(MAX_NAME)
        kind = r.u32()
        ndim = r.u32()
        if kind not in (0, 1) or not 1 <= ndim <= MAX_DIMS:
            raise BadModel("tensor %d (%s): bad kind %d or ndim %d" % (ti, name, kind, ndim))
        dims = [r.i32() for _ in range(ndim)]
        offset = r.u64()
        nbytes = r.u64()
        t = {"name": name, "const": kind == 1, "dims": dims, "data": None}
        if kind == 1:
            if any(d <= 0 for d in dims):
                raise BadModel("constant %s has dims %s" % (name, dims))
            n = int(np.prod(dims))
            if nbytes != 4 * n or offset % align or offset + nbytes > data_size:
                raise BadModel("constant %s: offset %d nbytes %d does not fit dims %s / data %d"
                               % (name, offset, nbytes, dims, data_size))
            start = data_offset + offset
            t["data"] = np.frombuffer(buf, dtype="<f4", count=n, offset=start).reshape(dims).astype(np.float32)
        else:
            if any(d < 0 for d in dims) or nbytes != 0:
                raise BadModel("value %s: bad dims %s or nbytes %d" % (name, dims, nbytes))
        tensors.append(t)
    nodes = []
    defined = set()
    for ni in range(n_nodes):
        op = r.u32()
        n_in = r.u32()
        if op >= len(OPS):
            raise BadModel("node %d: unknown op %d" % (ni, op))
        opn = OPS[op]
        lo, hi = ARITY[opn]
        if not lo <= n_in <= hi:
            raise BadModel("node %d (%s): %d inputs" % (ni, opn, n_in))
        ins = [r.u32() for _ in range(n_in)]
        out = r.u32()
        p = [r.i32() for _ in range(NPARAMS)]
        for i in ins + [out]:
            if i >= n_tensors:
                raise BadModel("node %d (%s): tensor index %d out of range" % (ni, opn, i))
        if tensors[out]["const"] or out in defined:
            raise BadModel("node %d (%s): output %s is a constant or written twice"
                           % (ni, opn, tensors[out]["name"]))
        defined.add(out)
        nodes.append({"op": opn, "in": ins, "out": out, "p": p})
    inputs = [r.u32() for _ in range(n_inputs)]
    outputs = [r.u32() for _ in range(n_outputs)]
    for i in inputs + outputs:
        if i >= n_tensors or tensors[i]["const"]:
            raise BadModel("graph input/output %d is not a value tensor" % i)
    # definition order check: node inputs must be constants, graph inputs or
    # outputs of earlier nodes
    avail = set(inputs)
    for ni, nd in enumerate(nodes):
        for i in nd["in"]:
            if not tensors[i]["const"] and i not in avail:
                raise BadModel("node %d (%s) reads %s before it is defined"
                               % (ni, nd["op"], tensors[i]["name"]))
        avail.add(nd["out"])
    return {"meta": meta, "tensors": tensors, "nodes": nodes, "inputs": inputs, "outputs": outputs}


# --------------------------------------------------------------------------
# shape inference (NHWC, our semantics) + ONNX emission
def one(v):
    """stride/dilation 0 means 1 (defensive; the writer stores 1)."""
    return v if v > 0 else 1


def conv_out(n_in, k, s, d, pb, pa, what):
    eff = d * (k - 1) + 1
    o = (n_in + pb + pa - eff) // s + 1
    if o <= 0:
        raise BadModel("%s: input %d too small for kernel %d (pads %d,%d)" % (what, n_in, k, pb, pa))
    return o


def same_pads(n_in, k, s, d):
    out = -(-n_in // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n_in, 0)
    return total // 2, total - total // 2


class Exporter:
    def __init__(self, model, in_shape, verbose=False):
        self.m = model
        self.T = model["tensors"]
        self.in_shape = in_shape
        self.verbose = verbose
        self.nodes = []
        self.inits = []
        self.shape = {}   # tensor index -> NHWC (our) shape
        self.oname = {}   # tensor index -> ONNX name of its value (NCHW if rank 4)
        self.uid = 0
        self.used = set()

    def fresh(self, base):
        base = "".join(c if c.isalnum() or c in "_.-/:" else "_" for c in base) or "t"
        name = base
        while name in self.used:
            self.uid += 1
            name = "%s__%d" % (base, self.uid)
        self.used.add(name)
        return name

    def init(self, base, arr):
        name = self.fresh(base)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name))
        return name

    def init_i64(self, base, arr):
        name = self.fresh(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.int64), name))
        return name

    def node(self, op, ins, base, **attrs):
        out = self.fresh(base)
        self.nodes.append(helper.make_node(op, ins, [out], name=self.fresh("n_" + base), **attrs))
        return out

    def value(self, ti):
        """ONNX name of tensor ti in ONNX layout (constants become initializers)."""
        t = self.T[ti]
        if not t["const"]:
            return self.oname[ti]
        if ti not in self.oname:
            a = t["data"]
            if a.ndim == 4:
                a = a.transpose(0, 3, 1, 2)
            self.oname[ti] = self.init(t["name"], a)
        return self.oname[ti]

    def cshape(self, ti):
        t = self.T[ti]
        return list(t["dims"]) if t["const"] else self.shape[ti]

    def nhwc_view(self, ti, base):
        """ONNX name of tensor ti in our (NHWC) layout."""
        v = self.value(ti)
        if len(self.cshape(ti)) == 4:
            return self.node("Transpose", [v], base + "_nhwc", perm=[0, 2, 3, 1])
        return v

    def act(self, v, a, base):
        if a == ACT_RELU:
            return self.node("Relu", [v], base + "_relu")
        if a != ACT_NONE:
            raise BadModel("unknown activation %d" % a)
        return v

    def run(self):
        m = self.m
        if len(m["inputs"]) != 1:
            raise BadModel("only single-input models are supported (has %d)" % len(m["inputs"]))
        ii = m["inputs"][0]
        decl = self.T[ii]["dims"]
        if len(decl) != 4 or len(self.in_shape) != 4:
            raise BadModel("input must be rank 4 NHWC (declared %s, given %s)" % (decl, self.in_shape))
        # as the engine's planner: batch is free, H/W/C must match when declared
        for d, g in zip(decl[1:], self.in_shape[1:]):
            if d != 0 and d != g:
                raise BadModel("input shape %s conflicts with the declared %s" % (self.in_shape, decl))
        in_name = self.fresh(self.T[ii]["name"] or "input")
        # graph outputs keep our tensor names (reserved before any node)
        out_names = [self.fresh(self.T[oi]["name"] or "output") for oi in m["outputs"]]
        graph_in = helper.make_tensor_value_info(in_name, TensorProto.FLOAT, self.in_shape)
        self.shape[ii] = list(self.in_shape)
        self.oname[ii] = self.node("Transpose", [in_name], "input_nchw", perm=[0, 3, 1, 2])

        for k, nd in enumerate(m["nodes"]):
            self.emit(k, nd)

        outs = []
        for oi, name in zip(m["outputs"], out_names):
            s = self.shape.get(oi)
            if s is None:
                raise BadModel("output %s is never computed" % self.T[oi]["name"])
            v = self.value(oi)
            if len(s) == 4:
                self.nodes.append(helper.make_node("Transpose", [v], [name], perm=[0, 2, 3, 1],
                                                   name=self.fresh("n_out_" + name)))
            else:
                self.nodes.append(helper.make_node("Identity", [v], [name], name=self.fresh("n_out_" + name)))
            outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, s))
            if self.verbose:
                print("output %s %s" % (name, s), file=sys.stderr)

        graph = helper.make_graph(self.nodes, "openlfr_" + m["meta"].get("arch", "model"),
                                  [graph_in], outs, initializer=self.inits)
        model = helper.make_model(graph, producer_name="openlfr bench/export_onnx.py",
                                  opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = min(model.ir_version, 8)
        for k, v in sorted(m["meta"].items()):
            e = model.metadata_props.add()
            e.key, e.value = "lfrm." + k, v
        onnx.checker.check_model(model)
        return model

    def emit(self, k, nd):
        op, ins, out, p = nd["op"], nd["in"], nd["out"], nd["p"]
        T = self.T
        oname = T[out]["name"] or ("t%d" % out)
        x = ins[0]
        xs = self.cshape(x)
        what = "node %d (%s %s)" % (k, op, oname)

        if op in ("CONV2D", "MAXPOOL"):
            if len(xs) != 4:
                raise BadModel("%s: input rank %d, expected 4" % (what, len(xs)))
            n, h, w, c = xs
            kh, kw = p[P_KH], p[P_KW]
            sh, sw = one(p[P_SH]), one(p[P_SW])
            if op == "CONV2D":
                dh, dw = one(p[P_DH]), one(p[P_DW])
                groups = one(p[P_GROUPS])
                wt = T[ins[1]]
                if not wt["const"] or not T[ins[2]]["const"]:
                    raise BadModel("%s: weights and bias must be constants" % what)
                co, wkh, wkw, cig = wt["dims"]
                if (kh, kw) != (wkh, wkw) and (kh or kw):
                    raise BadModel("%s: kernel %dx%d but weights %s" % (what, kh, kw, wt["dims"]))
                kh, kw = wkh, wkw
                if c != cig * groups or co % groups:
                    raise BadModel("%s: %d input channels, weights %s, groups %d" % (what, c, wt["dims"], groups))
                if list(T[ins[2]]["dims"]) != [co]:
                    raise BadModel("%s: bias dims %s for %d outputs" % (what, T[ins[2]]["dims"], co))
            else:
                dh = dw = 1
                co = c
            if kh <= 0 or kw <= 0:
                raise BadModel("%s: bad kernel %dx%d" % (what, kh, kw))
            if p[P_SAME]:
                pt, pb = same_pads(h, kh, sh, dh)
                pl, pr = same_pads(w, kw, sw, dw)
            else:
                pt, pl, pb, pr = p[P_PT], p[P_PL], p[P_PB], p[P_PR]
            if min(pt, pl, pb, pr) < 0:
                raise BadModel("%s: negative pads" % what)
            oh = conv_out(h, kh, sh, dh, pt, pb, what)
            ow = conv_out(w, kw, sw, dw, pl, pr, what)
            self.shape[out] = [n, oh, ow, co]
            if op == "CONV2D":
                wname = self.init(wt["name"], wt["data"].transpose(0, 3, 1, 2))
                bname = self.init(T[ins[2]]["name"], T[ins[2]]["data"])
                v = self.node("Conv", [self.value(x), wname, bname], oname,
                              kernel_shape=[kh, kw], strides=[sh, sw], dilations=[dh, dw],
                              pads=[pt, pl, pb, pr], group=groups)
                v = self.act(v, p[P_ACT], oname)
            else:
                v = self.node("MaxPool", [self.value(x)], oname, kernel_shape=[kh, kw],
                              strides=[sh, sw], pads=[pt, pl, pb, pr])
            self.oname[out] = v

        elif op == "FC":
            wt, bt = T[ins[1]], T[ins[2]]
            if not wt["const"] or not bt["const"]:
                raise BadModel("%s: weights and bias must be constants" % what)
            co, kk = wt["dims"] if len(wt["dims"]) == 2 else (None, None)
            if co is None:
                raise BadModel("%s: weights dims %s, expected [Co,K]" % (what, wt["dims"]))
            n = xs[0]
            feat = int(np.prod(xs[1:]))
            if feat != kk or list(bt["dims"]) != [co]:
                raise BadModel("%s: input %s (K=%d) vs weights %s bias %s"
                               % (what, xs, feat, wt["dims"], bt["dims"]))
            wd = wt["data"]
            if len(xs) == 4:
                # our flatten order is NHWC (h, w, c); ONNX flattens NCHW (c, h, w)
                _, h, w, c = xs
                wd = wd.reshape(co, h, w, c).transpose(0, 3, 1, 2).reshape(co, kk)
            xv = self.value(x)
            if len(xs) != 2:
                xv = self.node("Flatten", [xv], oname + "_flat", axis=1)
            v = self.node("Gemm", [xv, self.init(wt["name"], wd), self.init(bt["name"], bt["data"])],
                          oname, transB=1)
            self.oname[out] = self.act(v, p[P_ACT], oname)
            self.shape[out] = [n, co]

        elif op == "ADD":
            bs = self.cshape(ins[1])
            if list(xs) != list(bs):
                raise BadModel("%s: shapes %s and %s differ" % (what, xs, bs))
            v = self.node("Add", [self.value(x), self.value(ins[1])], oname)
            self.oname[out] = self.act(v, p[P_ACT], oname)
            self.shape[out] = list(xs)

        elif op == "PRELU":
            st = T[ins[1]]
            if not st["const"]:
                raise BadModel("%s: slope must be a constant" % what)
            c = xs[-1]
            slope = st["data"].reshape(-1)
            if slope.size != c:
                raise BadModel("%s: slope of %d for %d channels" % (what, slope.size, c))
            if len(xs) == 4:
                slope = slope.reshape(c, 1, 1)   # broadcasts over NCHW channels
            self.oname[out] = self.node("PRelu", [self.value(x), self.init(st["name"], slope)], oname)
            self.shape[out] = list(xs)

        elif op == "RELU":
            self.oname[out] = self.node("Relu", [self.value(x)], oname)
            self.shape[out] = list(xs)

        elif op == "SOFTMAX":
            axis = 1 if len(xs) == 4 else len(xs) - 1   # our last (channel) axis
            self.oname[out] = self.node("Softmax", [self.value(x)], oname, axis=axis)
            self.shape[out] = list(xs)

        elif op == "CONCAT":
            rank = len(xs)
            axis = p[0]
            if axis < 0:
                axis += rank
            if not 0 <= axis < rank:
                raise BadModel("%s: axis %d for rank %d" % (what, p[0], rank))
            shapes = [self.cshape(i) for i in ins]
            for s in shapes:
                if len(s) != rank or any(s[d] != xs[d] for d in range(rank) if d != axis):
                    raise BadModel("%s: incompatible shapes %s" % (what, shapes))
            oshape = list(xs)
            oshape[axis] = sum(s[axis] for s in shapes)
            oaxis = NHWC_TO_NCHW_AXIS[axis] if rank == 4 else axis
            self.oname[out] = self.node("Concat", [self.value(i) for i in ins], oname, axis=oaxis)
            self.shape[out] = oshape

        elif op == "RESHAPE":
            nd_ = p[0]
            if not 1 <= nd_ <= MAX_DIMS:
                raise BadModel("%s: ndim %d" % (what, nd_))
            dims = list(p[1:1 + nd_])
            total = int(np.prod(xs))
            res = []
            infer = -1
            for i, d in enumerate(dims):
                if d == 0:
                    if i >= len(xs):
                        raise BadModel("%s: dim 0 at index %d beyond input rank" % (what, i))
                    res.append(xs[i])
                elif d == -1:
                    if infer >= 0:
                        raise BadModel("%s: two -1 dims" % what)
                    infer = i
                    res.append(1)
                elif d > 0:
                    res.append(d)
                else:
                    raise BadModel("%s: bad dim %d" % (what, d))
            known = int(np.prod(res))
            if infer >= 0:
                if known == 0 or total % known:
                    raise BadModel("%s: cannot infer -1 for %s from %s" % (what, dims, xs))
                res[infer] = total // known
            if int(np.prod(res)) != total:
                raise BadModel("%s: %s has %d elements, input %s %d" % (what, res, int(np.prod(res)), xs, total))
            v = self.nhwc_view(x, oname)   # reshape acts on our row-major order
            v = self.node("Reshape", [v, self.init_i64(oname + "_shape", res)], oname)
            if len(res) == 4:
                v = self.node("Transpose", [v], oname + "_nchw", perm=[0, 3, 1, 2])
            self.oname[out] = v
            self.shape[out] = res
        else:
            raise BadModel("%s: unsupported op" % what)

        if self.verbose:
            print("%3d %-8s %-24s %s -> %s" % (k, op, oname, [self.cshape(i) for i in ins], self.shape[out]),
                  file=sys.stderr)


# --------------------------------------------------------------------------
def cut_onnx(src, dst, in_shape, outputs, verbose=False):
    m = onnx.load(src)
    g = m.graph
    inits = {t.name for t in g.initializer}
    real_inputs = [i for i in g.input if i.name not in inits]
    if len(real_inputs) != 1:
        raise BadModel("%s: expected one input, has %d" % (src, len(real_inputs)))
    inp = real_inputs[0]
    dims = inp.type.tensor_type.shape.dim
    if len(dims) != len(in_shape):
        raise BadModel("input rank %d, given %s" % (len(dims), in_shape))
    old = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in dims]
    for d, v in zip(dims, in_shape):
        d.Clear()
        d.dim_value = v
    # keep only the nodes needed for the requested outputs
    producer = {}
    for n in g.node:
        for o in n.output:
            producer[o] = n
    for o in outputs:
        if o not in producer:
            raise BadModel("%s: no node produces '%s'" % (src, o))
    need, stack, keep = set(), list(outputs), set()
    while stack:
        t = stack.pop()
        if t in need:
            continue
        need.add(t)
        n = producer.get(t)
        if n is not None and id(n) not in keep:
            keep.add(id(n))
            stack.extend(i for i in n.input if i)
    kept = [n for n in g.node if id(n) in keep]
    del g.node[:]
    g.node.extend(kept)
    used_inits = [t for t in g.initializer if t.name in need]
    del g.initializer[:]
    g.initializer.extend(used_inits)
    # graph inputs that are initializers (old IR) must follow the pruning
    keep_inputs = [i for i in g.input if i.name == inp.name or i.name in need]
    del g.input[:]
    g.input.extend(keep_inputs)
    # shapes recorded for the old size are wrong now: drop them, let ORT infer
    del g.value_info[:]
    # output types from shape inference at the new size (dims it cannot
    # work out become symbolic)
    del g.output[:]
    inferred = onnx.shape_inference.infer_shapes(m)
    types = {v.name: v.type for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    def rank_of(name, depth=0):
        t = types.get(name)
        if t is not None and t.tensor_type.HasField("shape"):
            return len(t.tensor_type.shape.dim)
        n = producer.get(name)
        if n is None or depth > 100:
            return None
        if n.op_type == "Reshape":      # rank = length of the shape operand
            st = types.get(n.input[1])
            if st is not None and st.tensor_type.HasField("shape") and \
                    len(st.tensor_type.shape.dim) == 1 and st.tensor_type.shape.dim[0].HasField("dim_value"):
                return st.tensor_type.shape.dim[0].dim_value
            return None
        if n.op_type in ("Concat", "Softmax", "Relu", "Sigmoid", "Exp", "Add", "Sub", "Mul", "Div",
                         "Slice", "Identity", "Clip"):
            for i in n.input:
                r = rank_of(i, depth + 1)
                if r is not None:
                    return r
        return None

    for o in outputs:
        vi = g.output.add()
        vi.name = o
        if o in types and types[o].tensor_type.HasField("shape"):
            vi.type.CopyFrom(types[o])
        else:
            r = rank_of(o)
            if r is None:
                raise BadModel("cannot infer the rank of output '%s'" % o)
            vi.type.CopyFrom(helper.make_tensor_type_proto(TensorProto.FLOAT, [None] * r))
        for j, d in enumerate(vi.type.tensor_type.shape.dim):
            if not d.HasField("dim_value"):
                d.Clear()
                d.dim_param = "%s_d%d" % (o, j)
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    if verbose:
        print("%s: input %s %s -> %s; outputs %s; %d of %d nodes kept"
              % (dst, inp.name, old, in_shape,
                 ["%s%s" % (o.name, [d.dim_value or d.dim_param for d in o.type.tensor_type.shape.dim])
                  for o in g.output], len(kept), len(producer)), file=sys.stderr)


def parse_shape(s):
    try:
        v = [int(x) for x in s.split(",")]
    except ValueError:
        v = []
    if not v or any(x <= 0 for x in v):
        raise argparse.ArgumentTypeError("bad shape '%s' (want e.g. 1,112,112,3)" % s)
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", help="MODEL.lfrm (or SRC.onnx with --cut-onnx)")
    ap.add_argument("dst", help="OUT.onnx")
    ap.add_argument("--input", type=parse_shape, required=True,
                    help="input shape: N,H,W,C for .lfrm; the ONNX input's own layout with --cut-onnx")
    ap.add_argument("--cut-onnx", action="store_true", help="source is ONNX: fix input, cut at --outputs")
    ap.add_argument("--outputs", help="comma-separated tensor names (with --cut-onnx)")
    ap.add_argument("--print", action="store_true", dest="verbose", help="print the graph on stderr")
    a = ap.parse_args()
    try:
        if a.cut_onnx:
            if not a.outputs:
                ap.error("--cut-onnx needs --outputs")
            cut_onnx(a.src, a.dst, a.input, a.outputs.split(","), a.verbose)
        else:
            model = Exporter(read_lfrm(a.src), a.input, a.verbose).run()
            onnx.save(model, a.dst)
    except (BadModel, OSError) as e:
        print("export_onnx: %s: %s" % (a.src, e), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
