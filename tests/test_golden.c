/*
 * test_golden.c - our engine reproduces the reference outputs of an
 * independent implementation (ONNX Runtime on the same pinned networks),
 * tests/data/golden/: RFB at 320x240, O-Net on 4 crops, MobileFaceNet on 3
 * aligned faces, MobileFaceNet 512-d (mfn512) on the same 3 faces
 * (bench/ort_golden_mfn512.js), the 68-point landmark network (lm68) on
 * their central 64x64 pixels in grey (bench/ort_golden_lm68.js).  Every backend (ref, xnnpack, dnnl), max
 * abs error <= 1e-3 on scores and regressions, embedding cosine >= 0.9999
 * (mfn512 also max abs error <= 1e-3 on the raw output, |output| ~ 3;
 * lm68 max abs error <= 1e-4 of the crop side).  The models come from the
 * models directory (OPENLFR_MODELS), which `make test` fills first.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn/nn.h"

static const char *models_dir(void) {
    const char *d = getenv("OPENLFR_MODELS");
    return d && *d ? d : "models";
}

static float *load_f32(const char *name, size_t want) {
    char path[1024];
    snprintf(path, sizeof path, "tests/data/golden/net/%s", name);
    uint8_t *buf;
    size_t len;
    if (lfr_read_file(path, 1 << 24, &buf, &len) != LFR_OK || len != want * 4) {
        fprintf(stderr, "  cannot read %s (%zu floats expected)\n", path, want);
        lfr_free(buf);
        return NULL;
    }
    return (float *)buf;
}

static lfr_nn_model *load_model(const char *arch) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.lfrm", models_dir(), arch);
    lfr_nn_model *m = NULL;
    lfr_err err = {{0}};
    lfr_status st = lfr_nn_model_load(path, &m, &err);
    if (st != LFR_OK)
        fprintf(stderr, "  cannot load %s: %s (%s) - run `make setup`\n", path,
                lfr_status_message(st), err.msg);
    return m;
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN propagates as a failure */
    }
    return m;
}

static const char *bname(lfr_nn_backend b) {
    return b == LFR_NN_BACKEND_REF ? "ref" : b == LFR_NN_BACKEND_XNNPACK ? "xnnpack" : "dnnl";
}

static void rfb(lfr_nn_backend be) {
    lfr_nn_model *m = load_model("rfb");
    CHECK(m != NULL);
    if (!m) return;
    float *in = load_f32("rfb_in.f32", 3 * 240 * 320);
    float *sc = load_f32("rfb_out_scores.f32", 4420 * 2);
    float *rg = load_f32("rfb_out_regression.f32", 4420 * 4);
    lfr_nn_ctx *c = NULL;
    lfr_err err = {{0}};
    CHECK(in && sc && rg);
    CHECK_STATUS(lfr_nn_ctx_new(m, be, &c), LFR_OK);
    if (c && in && sc && rg) {
        CHECK_STATUS(lfr_nn_ctx_plan(c, 1, 240, 320, &err), LFR_OK);
        float *x = lfr_nn_ctx_input(c, 0, NULL);
        for (int ch = 0; ch < 3; ch++) /* golden input is NCHW */
            for (int p = 0; p < 240 * 320; p++) x[p * 3 + ch] = in[ch * 240 * 320 + p];
        CHECK_STATUS(lfr_nn_ctx_run(c), LFR_OK);
        lfr_nn_shape s0, s1;
        const float *o0 = lfr_nn_ctx_output(c, 0, &s0), *o1 = lfr_nn_ctx_output(c, 1, &s1);
        CHECK_EQ_INT(s0.ndim, 3);
        CHECK_EQ_INT(s0.d[1], 4420);
        CHECK_EQ_INT(s0.d[2], 2);
        CHECK_EQ_INT(s1.d[1], 4420);
        CHECK_EQ_INT(s1.d[2], 4);
        if (s0.d[1] == 4420 && s1.d[1] == 4420) {
            double e0 = max_abs_diff(o0, sc, 4420 * 2), e1 = max_abs_diff(o1, rg, 4420 * 4);
            fprintf(stderr, "  rfb %s: max abs err scores %.2e, boxes %.2e\n", bname(be), e0, e1);
            CHECK(e0 <= 1e-3);
            CHECK(e1 <= 1e-3);
        }
    }
    lfr_nn_ctx_destroy(c);
    lfr_nn_model_destroy(m);
    lfr_free(in);
    lfr_free(sc);
    lfr_free(rg);
}

static void onet(lfr_nn_backend be) {
    lfr_nn_model *m = load_model("onet");
    CHECK(m != NULL);
    if (!m) return;
    float *in = load_f32("onet_in.f32", 4 * 48 * 48 * 3);
    float *want[3] = {load_f32("onet_out_prob.f32", 8), load_f32("onet_out_reg.f32", 16),
                      load_f32("onet_out_landmarks.f32", 40)};
    int width[3] = {2, 4, 10};
    lfr_nn_ctx *c = NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_nn_ctx_new(m, be, &c), LFR_OK);
    if (c && in && want[0] && want[1] && want[2]) {
        CHECK_STATUS(lfr_nn_ctx_plan(c, 4, 48, 48, &err), LFR_OK);
        memcpy(lfr_nn_ctx_input(c, 0, NULL), in, sizeof(float) * 4 * 48 * 48 * 3);
        CHECK_STATUS(lfr_nn_ctx_run(c), LFR_OK);
        for (int k = 0; k < 3; k++) {
            lfr_nn_shape s;
            const float *o = lfr_nn_ctx_output(c, k, &s);
            CHECK_EQ_INT(s.d[0], 4);
            CHECK_EQ_INT(s.d[1], width[k]);
            if (s.d[1] != width[k]) continue;
            double e = max_abs_diff(o, want[k], (size_t)4 * width[k]);
            fprintf(stderr, "  onet %s: output %d max abs err %.2e\n", bname(be), k, e);
            CHECK(e <= 1e-3);
        }
    }
    lfr_nn_ctx_destroy(c);
    lfr_nn_model_destroy(m);
    lfr_free(in);
    for (int k = 0; k < 3; k++) lfr_free(want[k]);
}

static void mfn(lfr_nn_backend be) {
    lfr_nn_model *m = load_model("mobilefacenet");
    CHECK(m != NULL);
    if (!m) return;
    float *in = load_f32("mfn_in.f32", 3 * 112 * 112 * 3);
    float *want = load_f32("mfn_out.f32", 3 * 192);
    lfr_nn_ctx *c = NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_nn_ctx_new(m, be, &c), LFR_OK);
    if (c && in && want) {
        /* Batch 3 at once, then each face alone (batch 1): same answers. */
        for (int batch = 3; batch >= 1; batch -= 2) {
            CHECK_STATUS(lfr_nn_ctx_plan(c, batch, 112, 112, &err), LFR_OK);
            for (int f0 = 0; f0 < 3; f0 += batch) {
                memcpy(lfr_nn_ctx_input(c, 0, NULL), in + (size_t)f0 * 112 * 112 * 3,
                       sizeof(float) * batch * 112 * 112 * 3);
                CHECK_STATUS(lfr_nn_ctx_run(c), LFR_OK);
                lfr_nn_shape s;
                const float *o = lfr_nn_ctx_output(c, 0, &s);
                CHECK_EQ_INT(s.d[1], 192);
                for (int f = 0; f < batch; f++) {
                    const float *a = o + (size_t)f * 192, *b = want + (size_t)(f0 + f) * 192;
                    double ab = 0, aa = 0, bb = 0;
                    for (int k = 0; k < 192; k++) {
                        ab += (double)a[k] * b[k];
                        aa += (double)a[k] * a[k];
                        bb += (double)b[k] * b[k];
                    }
                    double cos = ab / sqrt(aa * bb);
                    fprintf(stderr, "  mfn %s batch %d face %d: cosine %.6f\n", bname(be),
                            batch, f0 + f, cos);
                    CHECK(cos >= 0.9999);
                }
            }
        }
    }
    lfr_nn_ctx_destroy(c);
    lfr_nn_model_destroy(m);
    lfr_free(in);
    lfr_free(want);
}

/* mfn512: the input is mfn_in.f32's pixels (exact integers: x * 128 +
 * 127.5) normalised as the 512-d network wants, (p - 127) / 128. */
static void mfn512(lfr_nn_backend be) {
    enum { S = 112, N = 3, D = 512 };
    lfr_nn_model *m = load_model("mfn512");
    CHECK(m != NULL);
    if (!m) return;
    float *in = load_f32("mfn_in.f32", (size_t)N * S * S * 3);
    float *want = load_f32("mfn512_out.f32", (size_t)N * D);
    lfr_nn_ctx *c = NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_nn_ctx_new(m, be, &c), LFR_OK);
    if (c && in && want) {
        const char *mean = lfr_nn_model_meta(m, "input.mean");
        const char *scale = lfr_nn_model_meta(m, "input.scale");
        CHECK(mean && strcmp(mean, "127") == 0);
        CHECK(scale && strcmp(scale, "0.0078125") == 0);
        for (size_t i = 0; i < (size_t)N * S * S * 3; i++)
            in[i] = (roundf(in[i] * 128.0f + 127.5f) - 127.0f) / 128.0f;
        /* Batch 3, then each face alone: the file's batch of 1 is not
         * baked into the converted graph. */
        for (int batch = 3; batch >= 1; batch -= 2) {
            CHECK_STATUS(lfr_nn_ctx_plan(c, batch, S, S, &err), LFR_OK);
            for (int f0 = 0; f0 < N; f0 += batch) {
                memcpy(lfr_nn_ctx_input(c, 0, NULL), in + (size_t)f0 * S * S * 3,
                       sizeof(float) * batch * S * S * 3);
                CHECK_STATUS(lfr_nn_ctx_run(c), LFR_OK);
                lfr_nn_shape s;
                const float *o = lfr_nn_ctx_output(c, 0, &s);
                CHECK_EQ_INT(s.ndim, 2);
                CHECK_EQ_INT(s.d[0], batch);
                CHECK_EQ_INT(s.d[1], D);
                if (s.ndim != 2 || s.d[1] != D || s.d[0] != batch) continue;
                for (int f = 0; f < batch; f++) {
                    const float *a = o + (size_t)f * D, *b = want + (size_t)(f0 + f) * D;
                    double ab = 0, aa = 0, bb = 0;
                    for (int k = 0; k < D; k++) {
                        ab += (double)a[k] * b[k];
                        aa += (double)a[k] * a[k];
                        bb += (double)b[k] * b[k];
                    }
                    double cos = ab / sqrt(aa * bb), e = max_abs_diff(a, b, D);
                    fprintf(stderr, "  mfn512 %s batch %d face %d: cosine %.7f, max abs err %.2e\n",
                            bname(be), batch, f0 + f, cos, e);
                    CHECK(cos >= 0.9999);
                    CHECK(e <= 1e-3);
                }
            }
        }
    }
    lfr_nn_ctx_destroy(c);
    lfr_nn_model_destroy(m);
    lfr_free(in);
    lfr_free(want);
}

/* lm68: the central 64x64 pixels of mfn_in.f32's faces as grey, as
 * bench/ort_golden_lm68.js makes them (double, then float). */
static void lm68(lfr_nn_backend be) {
    enum { S = 112, N = 3, C = 64, O = 24, D = 136 };
    lfr_nn_model *m = load_model("lm68");
    CHECK(m != NULL);
    if (!m) return;
    float *in = load_f32("mfn_in.f32", (size_t)N * S * S * 3);
    float *want = load_f32("lm68_out.f32", (size_t)N * D);
    float *x = lfr_malloc((size_t)N * C * C * sizeof *x);
    lfr_nn_ctx *c = NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_nn_ctx_new(m, be, &c), LFR_OK);
    if (c && in && want && x) {
        const char *scale = lfr_nn_model_meta(m, "input.scale");
        CHECK(scale && strcmp(scale, "0.00390625") == 0);
        for (int f = 0; f < N; f++)
            for (int y = 0; y < C; y++)
                for (int xx = 0; xx < C; xx++) {
                    const float *p = in + ((size_t)f * S * S + (size_t)(y + O) * S + (xx + O)) * 3;
                    double r = round(p[0] * 128.0 + 127.5), g = round(p[1] * 128.0 + 127.5),
                           b = round(p[2] * 128.0 + 127.5);
                    x[(size_t)f * C * C + y * C + xx] = (float)((0.299 * r + 0.587 * g + 0.114 * b) / 256);
                }
        for (int batch = 3; batch >= 1; batch -= 2) {
            CHECK_STATUS(lfr_nn_ctx_plan(c, batch, C, C, &err), LFR_OK);
            for (int f0 = 0; f0 < N; f0 += batch) {
                memcpy(lfr_nn_ctx_input(c, 0, NULL), x + (size_t)f0 * C * C,
                       sizeof(float) * batch * C * C);
                CHECK_STATUS(lfr_nn_ctx_run(c), LFR_OK);
                lfr_nn_shape s;
                const float *o = lfr_nn_ctx_output(c, 0, &s);
                CHECK_EQ_INT(s.ndim, 2);
                CHECK_EQ_INT(s.d[0], batch);
                CHECK_EQ_INT(s.d[1], D);
                if (s.ndim != 2 || s.d[1] != D || s.d[0] != batch) continue;
                for (int f = 0; f < batch; f++) {
                    double e = max_abs_diff(o + (size_t)f * D, want + (size_t)(f0 + f) * D, D);
                    fprintf(stderr, "  lm68 %s batch %d face %d: max abs err %.2e (of the crop side)\n",
                            bname(be), batch, f0 + f, e);
                    CHECK(e <= 1e-4);   /* 0.0064 px of the 64 px crop */
                }
            }
        }
    }
    lfr_nn_ctx_destroy(c);
    lfr_nn_model_destroy(m);
    lfr_free(in);
    lfr_free(want);
    lfr_free(x);
}

static void test_rfb_ref(void) { rfb(LFR_NN_BACKEND_REF); }
static void test_rfb_xnnpack(void) { rfb(LFR_NN_BACKEND_XNNPACK); }
static void test_onet_ref(void) { onet(LFR_NN_BACKEND_REF); }
static void test_onet_xnnpack(void) { onet(LFR_NN_BACKEND_XNNPACK); }
static void test_mfn_ref(void) { mfn(LFR_NN_BACKEND_REF); }
static void test_mfn_xnnpack(void) { mfn(LFR_NN_BACKEND_XNNPACK); }
static void test_rfb_dnnl(void) { rfb(LFR_NN_BACKEND_DNNL); }

/* RFB at the detector's working size, where the first convolutions run in
 * row bands (src/nn/band.c): both outputs equal whole-node execution's. */
static void test_rfb_bands(void) {
    lfr_nn_model *m = load_model("rfb");
    CHECK(m != NULL);
    if (!m) return;
    const int h = 540, w = 960;
    lfr_nn_ctx *c[2] = {NULL, NULL};
    int planned[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        lfr_err err = {{0}};
        CHECK_STATUS(lfr_nn_ctx_new(m, LFR_NN_BACKEND_DNNL, &c[k]), LFR_OK);
        if (!c[k]) break;
        lfr_nn_ctx_set_band_rows(c[k], k == 0 ? 0 : -1);
        CHECK_STATUS(lfr_nn_ctx_plan(c[k], 1, h, w, &err), LFR_OK);
        lfr_nn_shape s;
        float *x = lfr_nn_ctx_input(c[k], 0, &s);
        CHECK(x != NULL);
        if (!x) break;
        uint32_t r = 7;
        for (size_t i = 0; i < lfr_nn_shape_elems(&s); i++) {
            r = r * 1664525u + 1013904223u;
            x[i] = (float)(r >> 8) / 8388608.0f - 1.0f;
        }
        CHECK_STATUS(lfr_nn_ctx_run(c[k]), LFR_OK);
        planned[k] = lfr_nn_ctx_band_rows(c[k]);
    }
    CHECK_EQ_INT(planned[0], 0);
    CHECK(planned[1] > 0);
    /* Windows of rows instead of whole maps: well under the activations
     * of whole-node execution (measured 13.8 MB against 39.4 MB). */
    if (c[0] && c[1]) {
        size_t a0 = lfr_nn_ctx_arena_bytes(c[0]), a1 = lfr_nn_ctx_arena_bytes(c[1]);
        fprintf(stderr, "  activations: %.1f MB whole nodes, %.1f MB banded\n", a0 / 1e6, a1 / 1e6);
        CHECK(a1 > 0 && a1 < a0 / 2);
    }
    for (int o = 0; o < 2 && c[0] && c[1]; o++) {
        lfr_nn_shape s0, s1;
        const float *a = lfr_nn_ctx_output(c[0], o, &s0), *b = lfr_nn_ctx_output(c[1], o, &s1);
        CHECK(a && b && memcmp(&s0, &s1, sizeof s0) == 0);
        if (!a || !b) break;
        double e = max_abs_diff(a, b, lfr_nn_shape_elems(&s0));
        fprintf(stderr, "  rfb %dx%d, %d rows per band: output %d max abs diff %.2e\n", w, h,
                planned[1], o, e);
        CHECK(e <= 1e-5);
    }
    lfr_nn_ctx_destroy(c[0]);
    lfr_nn_ctx_destroy(c[1]);
    lfr_nn_model_destroy(m);
}
static void test_onet_dnnl(void) { onet(LFR_NN_BACKEND_DNNL); }
static void test_mfn_dnnl(void) { mfn(LFR_NN_BACKEND_DNNL); }
static void test_mfn512_ref(void) { mfn512(LFR_NN_BACKEND_REF); }
static void test_mfn512_xnnpack(void) { mfn512(LFR_NN_BACKEND_XNNPACK); }
static void test_mfn512_dnnl(void) { mfn512(LFR_NN_BACKEND_DNNL); }
static void test_lm68_ref(void) { lm68(LFR_NN_BACKEND_REF); }
static void test_lm68_xnnpack(void) { lm68(LFR_NN_BACKEND_XNNPACK); }
static void test_lm68_dnnl(void) { lm68(LFR_NN_BACKEND_DNNL); }

int main(void) {
    RUN(test_rfb_ref);
    RUN(test_rfb_xnnpack);
    RUN(test_rfb_dnnl);
    RUN(test_rfb_bands);
    RUN(test_onet_ref);
    RUN(test_onet_xnnpack);
    RUN(test_onet_dnnl);
    RUN(test_mfn_ref);
    RUN(test_mfn_xnnpack);
    RUN(test_mfn_dnnl);
    RUN(test_mfn512_ref);
    RUN(test_mfn512_xnnpack);
    RUN(test_mfn512_dnnl);
    RUN(test_lm68_ref);
    RUN(test_lm68_xnnpack);
    RUN(test_lm68_dnnl);
    return harness_done("golden");
}
