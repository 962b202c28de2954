/*
 * bench_nn.c - times one network in our engine:
 *
 *   bench_nn MODEL.lfrm N H W [--runs R] [--warmup W] [--backend ref|xnnpack|dnnl]
 *            [--input FILE.f32] [--output FILE.f32] [--json] [--profile]
 *            [--band-rows R]
 *
 * Plans once (buffers and operators are set up outside the timed region,
 * as in a long-running server), then times R runs after W warm-up runs and
 * prints the median and p90 in milliseconds, and the time the plan took
 * (shape inference, buffers, backend primitives: what a new input size
 * costs once).  Default backend: dnnl (oneDNN
 * with some nodes on XNNPACK, see src/nn/dnnl.c).  Input: deterministic
 * pseudo-random values in [-1, 1), or the NHWC float32 file given.  With
 * --output, the first output tensor is written as raw float32 (so the same
 * input and output can be compared with ONNX Runtime's).  With --profile,
 * also prints each node's median time (node by node through
 * lfr_nn_ctx_run_node, R runs), its op, output shape and share of the sum:
 * where the time goes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Floating-point operations of node i (2 per multiply-add of CONV2D and
 * FC; the other ops are not counted: they are a small share here). */
static double node_flops(const lfr_nn_graph *g, lfr_nn_ctx *c, int i) {
    const lfr_nn_node *nd = &g->nodes[i];
    lfr_nn_shape xs, ys;
    (void)lfr_nn_ctx_tensor(c, nd->in[0], &xs);
    (void)lfr_nn_ctx_tensor(c, nd->out, &ys);
    if (nd->op == LFR_NN_OP_CONV2D) {
        int groups = nd->p[LFR_NN_P_GROUPS] > 0 ? nd->p[LFR_NN_P_GROUPS] : 1;
        return 2.0 * ys.d[0] * ys.d[1] * ys.d[2] * ys.d[3] * nd->p[LFR_NN_P_KH] *
               nd->p[LFR_NN_P_KW] * (xs.d[3] / groups);
    }
    if (nd->op == LFR_NN_OP_FC) {
        const lfr_nn_shape *ws = &g->tensors[nd->in[1]].shape;
        return 2.0 * ys.d[0] * ws->d[0] * ws->d[1];
    }
    return 0;
}

static double graph_flops(const lfr_nn_graph *g, lfr_nn_ctx *c) {
    double f = 0;
    for (int i = 0; i < g->n_nodes; i++) f += node_flops(g, c, i);
    return f;
}

/* Median time of each node over `runs` node-by-node passes. */
static int print_profile(const lfr_nn_graph *g, lfr_nn_ctx *c, int runs) {
    int nn = g->n_nodes;
    double *t = malloc(sizeof(double) * (size_t)runs * (size_t)nn), *med = malloc(sizeof(double) * (size_t)nn);
    int bad = !t || !med;
    for (int r = 0; r < runs && !bad; r++)
        for (int i = 0; i < nn && !bad; i++) {
            uint64_t t0 = lfr_now_ns();
            bad = lfr_nn_ctx_run_node(c, i) != LFR_OK;
            t[(size_t)i * (size_t)runs + (size_t)r] = (double)(lfr_now_ns() - t0) / 1e6;
        }
    if (bad) {
        free(t);
        free(med);
        return 1;
    }
    double sum = 0;
    for (int i = 0; i < nn; i++) {
        qsort(t + (size_t)i * (size_t)runs, (size_t)runs, sizeof t[0], cmp_d);
        med[i] = t[(size_t)i * (size_t)runs + (size_t)runs / 2];
        sum += med[i];
    }
    printf("node  op           output (NxHxWxC)        median ms  share  conv (k/s/d/g, Ci)    GFLOP/s\n");
    for (int i = 0; i < nn; i++) {
        const lfr_nn_node *nd = &g->nodes[i];
        lfr_nn_shape s;
        (void)lfr_nn_ctx_tensor(c, nd->out, &s);
        char shp[64];
        snprintf(shp, sizeof shp, "%dx%dx%dx%d", s.d[0], s.d[1], s.d[2], s.d[3]);
        char conv[64] = "";
        if (nd->op == LFR_NN_OP_CONV2D) {
            lfr_nn_shape xs;
            (void)lfr_nn_ctx_tensor(c, nd->in[0], &xs);
            int groups = nd->p[LFR_NN_P_GROUPS] > 0 ? nd->p[LFR_NN_P_GROUPS] : 1;
            snprintf(conv, sizeof conv, "%dx%d/%d/%d/%d, %d", nd->p[LFR_NN_P_KH], nd->p[LFR_NN_P_KW],
                     nd->p[LFR_NN_P_SH], nd->p[LFR_NN_P_DH], groups, xs.d[3]);
        }
        double gf = node_flops(g, c, i) / (med[i] * 1e6);
        printf("%4d  %-12s %-22s %9.3f  %4.1f%%  %-20s %6.1f\n", i, lfr_nn_op_name((lfr_nn_op)nd->op), shp,
               med[i], 100.0 * med[i] / sum, conv, gf);
    }
    printf("sum of node medians: %.3f ms\n", sum);
    free(t);
    free(med);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: bench_nn MODEL N H W [--runs R] [--warmup W] "
                        "[--backend ref|xnnpack|dnnl] [--input F] [--output F] [--json] [--profile] [--band-rows R]\n");
        return 2;
    }
    const char *path = argv[1];
    int n = atoi(argv[2]), h = atoi(argv[3]), w = atoi(argv[4]);
    int runs = 50, warmup = 5, json = 0, profile = 0, band_rows = -1;
    const char *infile = NULL, *outfile = NULL;
    lfr_nn_backend be = LFR_NN_BACKEND_DNNL; /* the fastest on all our networks */
    for (int i = 5; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--input") && i + 1 < argc) infile = argv[++i];
        else if (!strcmp(argv[i], "--output") && i + 1 < argc) outfile = argv[++i];
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--profile")) profile = 1;
        else if (!strcmp(argv[i], "--band-rows") && i + 1 < argc) band_rows = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
            const char *b = argv[++i];
            if (!strcmp(b, "ref")) be = LFR_NN_BACKEND_REF;
            else if (!strcmp(b, "xnnpack")) be = LFR_NN_BACKEND_XNNPACK;
            else if (!strcmp(b, "dnnl")) be = LFR_NN_BACKEND_DNNL;
            else {
                fprintf(stderr, "bench_nn: unknown backend %s\n", b);
                return 2;
            }
        }
        else {
            fprintf(stderr, "bench_nn: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (runs < 1 || runs > 100000 || warmup < 0) return 2;
    lfr_err err = {{0}};
    lfr_nn_model *m = NULL;
    lfr_nn_ctx *c = NULL;
    lfr_status st = lfr_nn_model_load(path, &m, &err);
    if (st == LFR_OK) st = lfr_nn_ctx_new(m, be, &c);
    if (st == LFR_OK) lfr_nn_ctx_set_band_rows(c, band_rows);
    uint64_t plan_t0 = lfr_now_ns();
    if (st == LFR_OK) st = lfr_nn_ctx_plan(c, n, h, w, &err);
    double plan_ms = (double)(lfr_now_ns() - plan_t0) / 1e6; /* the first plan of this size */
    if (st != LFR_OK) {
        fprintf(stderr, "bench_nn: %s: %s %s\n", path, lfr_status_message(st), err.msg);
        return 1;
    }
    lfr_nn_shape is;
    float *x = lfr_nn_ctx_input(c, 0, &is);
    size_t nin = lfr_nn_shape_elems(&is);
    if (infile) {
        uint8_t *buf;
        size_t len;
        if (lfr_read_file(infile, 1u << 30, &buf, &len) != LFR_OK || len != nin * 4) {
            fprintf(stderr, "bench_nn: %s is not %zu floats\n", infile, nin);
            return 1;
        }
        memcpy(x, buf, len);
        lfr_free(buf);
    } else {
        uint32_t s = 12345;
        for (size_t i = 0; i < nin; i++) {
            s = s * 1664525u + 1013904223u;
            x[i] = (float)(s >> 8) / 8388608.0f - 1.0f;
        }
    }
    double *t = malloc(sizeof(double) * (size_t)runs);
    for (int i = 0; i < warmup; i++) lfr_nn_ctx_run(c);
    for (int i = 0; i < runs; i++) {
        uint64_t t0 = lfr_now_ns();
        st = lfr_nn_ctx_run(c);
        t[i] = (double)(lfr_now_ns() - t0) / 1e6;
        if (st != LFR_OK) {
            fprintf(stderr, "bench_nn: run failed: %s\n", lfr_status_message(st));
            return 1;
        }
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_d);
    double med = t[runs / 2], p90 = t[(runs * 9) / 10 < runs ? (runs * 9) / 10 : runs - 1];
    if (outfile) {
        lfr_nn_shape os;
        const float *o = lfr_nn_ctx_output(c, 0, &os);
        FILE *f = fopen(outfile, "wb");
        if (!f || fwrite(o, sizeof(float), lfr_nn_shape_elems(&os), f) != lfr_nn_shape_elems(&os)) {
            fprintf(stderr, "bench_nn: cannot write %s\n", outfile);
            return 1;
        }
        fclose(f);
    }
    if (json)
        printf("{\"model\":\"%s\",\"input\":[%d,%d,%d,%d],\"runs\":%d,\"median_ms\":%.4f,"
               "\"p90_ms\":%.4f,\"min_ms\":%.4f,\"gflop\":%.4f,\"band_rows\":%d,\"plan_ms\":%.1f,\"arena_mb\":%.1f}\n",
               path, n, h, w, is.d[3], runs, med, p90, t[0],
               graph_flops(lfr_nn_model_graph(m), c) / 1e9, lfr_nn_ctx_band_rows(c), plan_ms,
               (double)lfr_nn_ctx_arena_bytes(c) / 1e6);
    else
        printf("%s %dx%dx%dx%d: median %.3f ms, p90 %.3f ms, min %.3f ms (%d runs, band rows %d; "
               "plan %.1f ms; activations %.1f MB)\n",
               path, n, h, w, is.d[3], med, p90, t[0], runs, lfr_nn_ctx_band_rows(c), plan_ms,
               (double)lfr_nn_ctx_arena_bytes(c) / 1e6);
    free(t);
    if (profile) {
        /* Node by node needs whole tensors: bands off for the profile.  The
         * new plan has new buffers: the same input goes into them. */
        float *keep = malloc(nin * sizeof(float));
        if (!keep) return 1;
        memcpy(keep, x, nin * sizeof(float));
        lfr_nn_ctx_set_band_rows(c, 0);
        int bad = lfr_nn_ctx_plan(c, n, h, w, &err) != LFR_OK;
        if (!bad) memcpy(lfr_nn_ctx_input(c, 0, NULL), keep, nin * sizeof(float));
        free(keep);
        if (bad || print_profile(lfr_nn_model_graph(m), c, runs) != 0) return 1;
    }
    lfr_nn_ctx_destroy(c);
    lfr_nn_model_destroy(m);
    return 0;
}
