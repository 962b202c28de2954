/*
 * test_model.c - the .lfrm writer and loader: round trip, rejection of
 * every kind of damage (truncation at every length, corrupted header
 * fields, out-of-range indices), and allocation failure at every point.
 */
#include <string.h>

#include "harness.h"
#include "nn/nn.h"

/* conv(3x3, 3->4, relu) -> prelu -> fc(->5) -> softmax */
static void build_tiny(lfr_nn_graph *g) {
    lfr_nn_graph_init(g);
    float w[4 * 3 * 3 * 3], b[4], s[4], fw[5 * 4 * 4 * 4], fb[5];
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) w[i] = (float)((int)(i * 7 % 11) - 5) * 0.1f;
    for (int i = 0; i < 4; i++) b[i] = 0.1f * i, s[i] = 0.25f;
    for (size_t i = 0; i < sizeof fw / sizeof fw[0]; i++) fw[i] = (float)((int)(i * 5 % 13) - 6) * 0.05f;
    for (int i = 0; i < 5; i++) fb[i] = -0.1f * i;
    int32_t x, tw, tb, t1, ts, t2, tfw, tfb, t3, t4;
    lfr_nn_graph_add_tensor(g, "x", &(lfr_nn_shape){4, {0, 6, 6, 3}}, NULL, &x);
    lfr_nn_graph_add_tensor(g, "w", &(lfr_nn_shape){4, {4, 3, 3, 3}}, w, &tw);
    lfr_nn_graph_add_tensor(g, "b", &(lfr_nn_shape){1, {4}}, b, &tb);
    lfr_nn_graph_add_tensor(g, "conv", &(lfr_nn_shape){4, {0}}, NULL, &t1);
    lfr_nn_graph_add_tensor(g, "slope", &(lfr_nn_shape){1, {4}}, s, &ts);
    lfr_nn_graph_add_tensor(g, "prelu", &(lfr_nn_shape){4, {0}}, NULL, &t2);
    lfr_nn_graph_add_tensor(g, "fw", &(lfr_nn_shape){2, {5, 64}}, fw, &tfw);
    lfr_nn_graph_add_tensor(g, "fb", &(lfr_nn_shape){1, {5}}, fb, &tfb);
    lfr_nn_graph_add_tensor(g, "fc", &(lfr_nn_shape){2, {0}}, NULL, &t3);
    lfr_nn_graph_add_tensor(g, "prob", &(lfr_nn_shape){2, {0}}, NULL, &t4);
    lfr_nn_node n = {0};
    n.op = LFR_NN_OP_CONV2D, n.n_in = 3, n.in[0] = x, n.in[1] = tw, n.in[2] = tb, n.out = t1;
    n.p[LFR_NN_P_KH] = n.p[LFR_NN_P_KW] = 3;
    n.p[LFR_NN_P_SH] = n.p[LFR_NN_P_SW] = n.p[LFR_NN_P_DH] = n.p[LFR_NN_P_DW] = 1;
    n.p[LFR_NN_P_GROUPS] = 1, n.p[LFR_NN_P_ACT] = LFR_NN_ACT_RELU;
    lfr_nn_graph_add_node(g, &n);
    n = (lfr_nn_node){.op = LFR_NN_OP_PRELU, .n_in = 2, .in = {t1, ts}, .out = t2};
    lfr_nn_graph_add_node(g, &n);
    n = (lfr_nn_node){.op = LFR_NN_OP_FC, .n_in = 3, .in = {t2, tfw, tfb}, .out = t3};
    lfr_nn_graph_add_node(g, &n);
    n = (lfr_nn_node){.op = LFR_NN_OP_SOFTMAX, .n_in = 1, .in = {t3}, .out = t4};
    lfr_nn_graph_add_node(g, &n);
    g->n_inputs = 1, g->inputs[0] = x;
    g->n_outputs = 1, g->outputs[0] = t4;
    lfr_nn_graph_set_meta(g, "arch", "tiny");
}

static uint8_t *tiny_bytes(size_t *len) {
    lfr_nn_graph g;
    build_tiny(&g);
    uint8_t *buf = NULL;
    lfr_err err = {{0}};
    lfr_status st = lfr_nn_graph_serialize(&g, &buf, len, &err);
    if (st != LFR_OK) fprintf(stderr, "  serialize: %s\n", err.msg);
    lfr_nn_graph_free(&g);
    return buf;
}

static void test_round_trip_and_run(void) {
    size_t len;
    uint8_t *buf = tiny_bytes(&len);
    CHECK(buf != NULL);
    lfr_nn_model *m = NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_nn_model_load_mem(buf, len, &m, &err), LFR_OK);
    if (m) {
        CHECK(strcmp(lfr_nn_model_meta(m, "arch"), "tiny") == 0);
        CHECK_EQ_INT(lfr_nn_model_graph(m)->n_nodes, 4);
        lfr_nn_ctx *c;
        CHECK_STATUS(lfr_nn_ctx_new(m, LFR_NN_BACKEND_REF, &c), LFR_OK);
        CHECK_STATUS(lfr_nn_ctx_plan(c, 2, 6, 6, &err), LFR_OK);
        float *x = lfr_nn_ctx_input(c, 0, NULL);
        for (int i = 0; i < 2 * 6 * 6 * 3; i++) x[i] = (float)(i % 17) / 17.0f;
        CHECK_STATUS(lfr_nn_ctx_run(c), LFR_OK);
        lfr_nn_shape s;
        const float *y = lfr_nn_ctx_output(c, 0, &s);
        CHECK_EQ_INT(s.ndim, 2);
        CHECK_EQ_INT(s.d[0], 2);
        CHECK_EQ_INT(s.d[1], 5);
        for (int r = 0; r < 2; r++) {
            double sum = 0;
            for (int k = 0; k < 5; k++) sum += y[r * 5 + k];
            CHECK_NEAR(sum, 1.0, 1e-5);
        }
        /* Wrong size for the FC layer: a clear planning error, not a crash. */
        CHECK_STATUS(lfr_nn_ctx_plan(c, 1, 7, 7, &err), LFR_ERR_INVALID_ARG);
        CHECK(strstr(err.msg, "6x6") != NULL || strstr(err.msg, "weights expect") != NULL);
        CHECK_STATUS(lfr_nn_ctx_run(c), LFR_ERR_STATE);
        lfr_nn_ctx_destroy(c);
        lfr_nn_model_destroy(m);
    }
    lfr_free(buf);
}

static void test_truncation_everywhere(void) {
    size_t len;
    uint8_t *buf = tiny_bytes(&len);
    CHECK(buf != NULL);
    int bad = 0;
    for (size_t n = 0; buf && n < len; n++) {
        lfr_nn_model *m = NULL;
        lfr_err err = {{0}};
        lfr_status st = lfr_nn_model_load_mem(buf, n, &m, &err);
        if (st == LFR_OK) {
            bad++;
            lfr_nn_model_destroy(m);
        }
    }
    CHECK_EQ_INT(bad, 0);
    lfr_free(buf);
}

static void test_corrupted_fields(void) {
    size_t len;
    uint8_t *buf = tiny_bytes(&len);
    CHECK(buf != NULL);
    if (!buf) return;
    /* Every single-byte change in the tables either loads a valid graph or
     * is rejected; none may crash (ASan run checks memory safety). */
    size_t data_off = 0;
    for (int k = 0; k < 8; k++) data_off |= (size_t)buf[32 + k] << (8 * k);
    int accepted = 0, rejected = 0;
    for (size_t i = 0; i < data_off; i++) {
        for (int v = 0; v < 3; v++) {
            uint8_t old = buf[i];
            buf[i] = v == 0 ? 0xff : v == 1 ? 0x00 : (uint8_t)(old ^ 0x40);
            lfr_nn_model *m = NULL;
            lfr_err err = {{0}};
            if (lfr_nn_model_load_mem(buf, len, &m, &err) == LFR_OK) {
                accepted++;
                /* A graph that loads must also plan or refuse cleanly. */
                lfr_nn_ctx *c = NULL;
                if (lfr_nn_ctx_new(m, LFR_NN_BACKEND_REF, &c) == LFR_OK) {
                    if (lfr_nn_ctx_plan(c, 1, 6, 6, &err) == LFR_OK) {
                        lfr_nn_shape is;
                        float *x = lfr_nn_ctx_input(c, 0, &is);
                        if (x) memset(x, 0, lfr_nn_shape_elems(&is) * sizeof(float));
                        lfr_nn_ctx_run(c);
                    }
                    lfr_nn_ctx_destroy(c);
                }
                lfr_nn_model_destroy(m);
            } else {
                rejected++;
            }
            buf[i] = old;
        }
    }
    fprintf(stderr, "  %d corrupted variants rejected, %d harmless ones accepted\n",
            rejected, accepted);
    CHECK(rejected > 0);
    /* Every header field set to 0xff in any byte is out of range. */
    int header_accepted = 0;
    for (size_t i = 0; i < 48; i++) {
        uint8_t old = buf[i];
        buf[i] = 0xff;
        lfr_nn_model *hm = NULL;
        lfr_err herr = {{0}};
        if (lfr_nn_model_load_mem(buf, len, &hm, &herr) == LFR_OK) {
            fprintf(stderr, "  header byte %zu = 0xff accepted\n", i);
            header_accepted++;
            lfr_nn_model_destroy(hm);
        }
        buf[i] = old;
    }
    CHECK_EQ_INT(header_accepted, 0);
    /* Specific damage with specific messages. */
    lfr_nn_model *m = NULL;
    lfr_err err = {{0}};
    buf[0] = 'X';
    CHECK_STATUS(lfr_nn_model_load_mem(buf, len, &m, &err), LFR_ERR_BAD_MODEL);
    buf[0] = 'L';
    buf[4] = 9;
    CHECK_STATUS(lfr_nn_model_load_mem(buf, len, &m, &err), LFR_ERR_BAD_MODEL);
    CHECK(strstr(err.msg, "version") != NULL);
    buf[4] = 1;
    CHECK_STATUS(lfr_nn_model_load_mem(buf, len, &m, &err), LFR_OK);
    lfr_nn_model_destroy(m);
    lfr_free(buf);
}

static void test_invalid_graphs(void) {
    lfr_nn_graph g;
    lfr_err err = {{0}};
    build_tiny(&g);
    g.nodes[1].in[0] = g.nodes[2].out; /* use before definition */
    CHECK_STATUS(lfr_nn_graph_validate(&g, &err), LFR_ERR_BAD_MODEL);
    CHECK(strstr(err.msg, "before") != NULL);
    lfr_nn_graph_free(&g);
    build_tiny(&g);
    g.nodes[0].p[LFR_NN_P_GROUPS] = 3; /* 4 outputs not divisible by 3 */
    CHECK_STATUS(lfr_nn_graph_validate(&g, &err), LFR_ERR_BAD_MODEL);
    lfr_nn_graph_free(&g);
    build_tiny(&g);
    g.nodes[0].op = 99;
    CHECK_STATUS(lfr_nn_graph_validate(&g, &err), LFR_ERR_BAD_MODEL);
    lfr_nn_graph_free(&g);
    build_tiny(&g);
    g.nodes[3].out = g.nodes[2].out; /* written twice */
    CHECK_STATUS(lfr_nn_graph_validate(&g, &err), LFR_ERR_BAD_MODEL);
    lfr_nn_graph_free(&g);
}

static void test_alloc_failure(void) {
    size_t len;
    uint8_t *buf = tiny_bytes(&len);
    CHECK(buf != NULL);
    int nomem = 0, ok = 0;
    for (long n = 0; buf && n < 64; n++) {
        lfr_nn_model *m = NULL;
        lfr_nn_ctx *c = NULL;
        lfr_err err = {{0}};
        lfr_alloc_fail_after(n);
        lfr_status st = lfr_nn_model_load_mem(buf, len, &m, &err);
        if (st == LFR_OK) st = lfr_nn_ctx_new(m, LFR_NN_BACKEND_XNNPACK, &c);
        if (st == LFR_OK) st = lfr_nn_ctx_plan(c, 1, 6, 6, &err);
        lfr_alloc_fail_after(-1);
        if (st == LFR_OK) ok++;
        else if (st == LFR_ERR_NOMEM || st == LFR_ERR_BACKEND) nomem++;
        else {
            fprintf(stderr, "  n=%ld: unexpected %s\n", n, lfr_status_str(st));
            CHECK(0);
        }
        lfr_nn_ctx_destroy(c);
        lfr_nn_model_destroy(m);
    }
    CHECK(nomem > 0);
    CHECK(ok > 0);
    lfr_free(buf);
}

int main(void) {
    RUN(test_round_trip_and_run);
    RUN(test_truncation_everywhere);
    RUN(test_corrupted_fields);
    RUN(test_invalid_graphs);
    RUN(test_alloc_failure);
    return harness_done("model");
}
