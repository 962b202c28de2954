/*
 * bench_face.c - times the face engine end to end (one thread):
 *
 *   bench_face MODELS_DIR [--photos DIR] [--sizes 640x360,1280x720,1920x1080]
 *              [--passes P] [--warmup W] [--workload FILE] [--json]
 *
 * Frames: DIR/sample1.jpg .. sample6.jpg (default MODELS_DIR/photos, fetched
 * by `make setup`), each centre-cropped to 16:9 and resized to every size
 * with lfr_image_resize.  Decoding, cropping and resizing happen before any
 * timing.  For each size, three stages are timed over the 6 frames:
 *
 *   detect  lfr_face_detect (default parameters: RFB at the working size
 *           the engine picks, NMS, O-Net on the candidates)
 *   embed   lfr_face_embed of the faces detect found (alignment +
 *           MobileFaceNet, batched); detect runs outside the timed region
 *   chain   detect + embed, as the product runs them
 *
 * One pass = the 6 frames once.  Each stage gets W untimed warm-up passes,
 * then P timed passes; the reported time is the median pass (p90 too).
 * photos/s = 6 / median pass time, faces/s = faces in the 6 frames / median
 * pass time (faces found for detect, faces embedded for embed and chain).
 *
 * The workload (what the networks were asked to do, per frame) is printed
 * and, with --workload FILE, written as JSON so that bench/ort_face.js can
 * replay exactly the same network calls in ONNX Runtime.  It is RECORDED,
 * not predicted: the binary is linked with -Wl,--wrap=lfr_nn_ctx_run (see
 * the Makefile), and during one untimed detect + embed per frame every
 * network run's input shape [N,H,W,C] is logged.  In detect, 48x48 inputs
 * are O-Net, the other one is RFB; in embed, every run is MobileFaceNet.
 * So the batch sizes are whatever src/face/face.c chose (its own batch
 * limits), and the RFB working size is checked against the rule run_rfb()
 * documents (long side min(det_long_side, frame long side), each side
 * floored to a multiple of 8, at least 16), and the O-Net inputs against
 * the RFB candidate count after NMS (a second untimed detect with
 * use_onet = 0, min_face = 0 and no face cap returns exactly those).
 * Outside that recording pass the wrapper costs one branch per run.
 *
 * The nn backend is whatever lfr_face_ctx_new picks.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/limits.h"
#include "face/face.h"
#include "image/image.h"
#include "nn/nn.h"

#define NPHOTOS 6
#define MAX_SIZES 8
#define MAX_CALLS 1024 /* network runs recorded per frame and stage */

/* Network runs (input shapes) made during one stage of one frame. */
typedef struct calls {
    int n;
    lfr_nn_shape s[MAX_CALLS];
} calls;

/* --wrap=lfr_nn_ctx_run: records each run's input shape while g_rec is set. */
lfr_status __real_lfr_nn_ctx_run(lfr_nn_ctx *c);
lfr_status __wrap_lfr_nn_ctx_run(lfr_nn_ctx *c);
static calls *g_rec;
static int g_rec_overflow;

lfr_status __wrap_lfr_nn_ctx_run(lfr_nn_ctx *c) {
    if (g_rec) {
        if (g_rec->n < MAX_CALLS) lfr_nn_ctx_input(c, 0, &g_rec->s[g_rec->n++]);
        else g_rec_overflow = 1;
    }
    return __real_lfr_nn_ctx_run(c);
}

typedef struct frame {
    lfr_image im;
    lfr_face *faces;   /* copy of what detect found (capacity max_faces) */
    int nfaces;
    int ncand;         /* RFB candidates after NMS = O-Net inputs */
    int rfb_w, rfb_h;  /* RFB working size (recorded) */
    calls det, emb;    /* network runs of detect and of embed (recorded) */
} frame;

typedef struct stage_time {
    double med_ms, p90_ms, min_ms;  /* per pass (6 frames) */
} stage_time;

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what, lfr_status st, const lfr_err *err) {
    fprintf(stderr, "bench_face: %s: %s%s%s\n", what, lfr_status_message(st),
            err && err->msg[0] ? ": " : "", err ? err->msg : "");
    exit(1);
}

/* The working size run_rfb() in src/face/face.c computes (same float
 * arithmetic). */
static void rfb_size(const lfr_face_params *p, int w, int h, int *dw, int *dh) {
    float s = (float)p->det_long_side / (float)(w > h ? w : h);
    if (s > 1) s = 1;
    *dw = (int)floorf(w * s / 8) * 8;
    *dh = (int)floorf(h * s / 8) * 8;
    if (*dw < 16) *dw = 16;
    if (*dh < 16) *dh = 16;
}

/* Centre crop to 16:9, then resize to w x h. */
static void make_frame(const lfr_image *src, int w, int h, lfr_image *dst) {
    int cw = src->w, ch = src->h;
    if ((long long)cw * 9 > (long long)ch * 16) cw = (int)((long long)ch * 16 / 9);
    else ch = (int)((long long)cw * 9 / 16);
    lfr_image crop = {0};
    lfr_status st = lfr_image_crop(src, (src->w - cw) / 2, (src->h - ch) / 2, cw, ch, &crop);
    if (st == LFR_OK) st = lfr_image_resize(&crop, w, h, dst);
    if (st != LFR_OK) die("crop/resize", st, NULL);
    lfr_image_free(&crop);
}

enum { ST_DETECT, ST_EMBED, ST_CHAIN, N_STAGES };
static const char *stage_name[N_STAGES] = {"detect", "embed", "chain"};

static float *g_emb; /* embeddings scratch: max_faces x 192 */

static void run_pass(lfr_face_ctx *c, frame *fr, int stage, const lfr_face_params *p) {
    lfr_err err = {{0}};
    for (int i = 0; i < NPHOTOS; i++) {
        lfr_face *faces;
        int n;
        lfr_status st;
        if (stage == ST_EMBED) {
            st = lfr_face_embed(c, &fr[i].im, fr[i].faces, fr[i].nfaces, g_emb, &err);
            if (st != LFR_OK) die("embed", st, &err);
            continue;
        }
        st = lfr_face_detect(c, &fr[i].im, p, &faces, &n, &err);
        if (st != LFR_OK) die("detect", st, &err);
        if (n != fr[i].nfaces) {
            fprintf(stderr, "bench_face: frame %d found %d faces, first run %d\n", i, n,
                    fr[i].nfaces);
            exit(1);
        }
        if (stage == ST_CHAIN) {
            st = lfr_face_embed(c, &fr[i].im, faces, n, g_emb, &err);
            if (st != LFR_OK) die("embed", st, &err);
        }
    }
}

static stage_time time_stage(lfr_face_ctx *c, frame *fr, int stage, const lfr_face_params *p,
                             int passes, int warmup, double *t) {
    for (int k = 0; k < warmup; k++) run_pass(c, fr, stage, p);
    for (int k = 0; k < passes; k++) {
        uint64_t t0 = lfr_now_ns();
        run_pass(c, fr, stage, p);
        t[k] = (double)(lfr_now_ns() - t0) / 1e6;
    }
    qsort(t, (size_t)passes, sizeof t[0], cmp_d);
    int k90 = (passes * 9 + 9) / 10 - 1; /* nearest rank, as ort_bench.js */
    if (k90 < 0) k90 = 0;
    stage_time r = {passes % 2 ? t[passes / 2] : (t[passes / 2 - 1] + t[passes / 2]) / 2,
                    t[k90], t[0]};
    return r;
}

/* Writes "[b1,b2,...]": the batch sizes of the runs in `cl` whose input is
 * (onet48 ? : not) 48x48. */
static void put_batches(FILE *f, const calls *cl, int onet48) {
    fputc('[', f);
    for (int i = 0, k = 0; i < cl->n; i++)
        if ((cl->s[i].d[1] == 48 && cl->s[i].d[2] == 48) == onet48)
            fprintf(f, "%s%d", k++ ? "," : "", cl->s[i].d[0]);
    fputc(']', f);
}

/* Checks the recorded runs of one frame against what the engine should
 * have done; fills fr->rfb_w/h.  Exits on a mismatch. */
static void check_calls(frame *fr, int idx, const lfr_face_params *p) {
    int nrfb = 0, onet = 0, mfn = 0;
    if (g_rec_overflow) {
        fprintf(stderr, "bench_face: more than %d network runs in one frame\n", MAX_CALLS);
        exit(1);
    }
    for (int i = 0; i < fr->det.n; i++) {
        const lfr_nn_shape *s = &fr->det.s[i];
        if (s->d[1] == 48 && s->d[2] == 48) onet += s->d[0];
        else nrfb++, fr->rfb_h = s->d[1], fr->rfb_w = s->d[2];
    }
    for (int i = 0; i < fr->emb.n; i++) {
        const lfr_nn_shape *s = &fr->emb.s[i];
        if (s->d[1] != LFR_FACE_ALIGN_SIZE || s->d[2] != LFR_FACE_ALIGN_SIZE) {
            fprintf(stderr, "bench_face: frame %d: embed ran a %dx%d input\n", idx, s->d[2],
                    s->d[1]);
            exit(1);
        }
        mfn += s->d[0];
    }
    int ew, eh;
    rfb_size(p, fr->im.w, fr->im.h, &ew, &eh);
    if (nrfb != 1 || fr->rfb_w != ew || fr->rfb_h != eh || onet != fr->ncand ||
        mfn != fr->nfaces) {
        fprintf(stderr,
                "bench_face: frame %d: recorded %d RFB run(s) at %dx%d (expected 1 at %dx%d), "
                "%d O-Net inputs (expected %d candidates), %d embedded (expected %d faces)\n",
                idx, nrfb, fr->rfb_w, fr->rfb_h, ew, eh, onet, fr->ncand, mfn, fr->nfaces);
        exit(1);
    }
}

static void usage(void) {
    fprintf(stderr, "usage: bench_face MODELS_DIR [--photos DIR] [--sizes WxH,...] "
                    "[--passes P] [--warmup W] [--workload FILE] [--json]\n");
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') usage();
    const char *models = argv[1], *photos = NULL, *wl_path = NULL;
    const char *sizes_arg = "640x360,1280x720,1920x1080";
    int passes = 15, warmup = 2, json = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--photos") && i + 1 < argc) photos = argv[++i];
        else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) sizes_arg = argv[++i];
        else if (!strcmp(argv[i], "--passes") && i + 1 < argc) passes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--workload") && i + 1 < argc) wl_path = argv[++i];
        else if (!strcmp(argv[i], "--json")) json = 1;
        else {
            fprintf(stderr, "bench_face: unknown or incomplete argument %s\n", argv[i]);
            usage();
        }
    }
    if (passes < 1 || passes > 100000 || warmup < 0 || warmup > 100000) usage();

    int sw[MAX_SIZES], sh[MAX_SIZES], nsizes = 0;
    for (const char *s = sizes_arg; *s;) {
        int w, h, used = 0;
        if (nsizes == MAX_SIZES || sscanf(s, "%dx%d%n", &w, &h, &used) != 2 || w < 16 ||
            h < 16 || w > LFR_MAX_IMAGE_SIDE || h > LFR_MAX_IMAGE_SIDE) {
            fprintf(stderr, "bench_face: bad --sizes %s (want e.g. 640x360,1280x720)\n",
                    sizes_arg);
            return 2;
        }
        sw[nsizes] = w, sh[nsizes++] = h;
        s += used;
        if (*s == ',') s++;
        else if (*s) {
            fprintf(stderr, "bench_face: bad --sizes %s\n", sizes_arg);
            return 2;
        }
    }

    char pdir[4096];
    if (photos) snprintf(pdir, sizeof pdir, "%s", photos);
    else snprintf(pdir, sizeof pdir, "%s/photos", models);
    lfr_err err = {{0}};
    lfr_image src[NPHOTOS] = {{0}};
    for (int i = 0; i < NPHOTOS; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/sample%d.jpg", pdir, i + 1);
        lfr_status st = lfr_image_load(path, &src[i], &err);
        if (st != LFR_OK) {
            if (err.msg[0]) fprintf(stderr, "bench_face: %s", err.msg);
            else fprintf(stderr, "bench_face: %s: %s", path, lfr_status_message(st));
            fprintf(stderr, " (run `make setup` for the demo photos)\n");
            return 1;
        }
    }

    lfr_face_engine *eng = NULL;
    lfr_face_ctx *c = NULL;
    lfr_status st = lfr_face_engine_load(models, &eng, &err);
    if (st != LFR_OK) die(models, st, &err);
    st = lfr_face_ctx_new(eng, &c);
    if (st != LFR_OK) die("lfr_face_ctx_new", st, NULL);
    const lfr_face_params *p = &lfr_face_params_default;
    lfr_face_params pc = *p; /* candidates only: RFB + NMS, nothing dropped */
    pc.use_onet = 0;
    pc.min_face = 0;
    pc.max_faces = INT_MAX;
    g_emb = malloc(sizeof(float) * LFR_FACE_EMB_DIM * (size_t)(p->max_faces > 0 ? p->max_faces : 1));
    double *t = malloc(sizeof(double) * (size_t)passes);
    if (!g_emb || !t) die("malloc", LFR_ERR_NOMEM, NULL);

    FILE *wl = NULL;
    if (wl_path) {
        wl = fopen(wl_path, "w");
        if (!wl) {
            perror(wl_path);
            return 1;
        }
        fprintf(wl, "{\"det_long_side\":%d,\"sizes\":[", p->det_long_side);
    }
    if (json) printf("{\"passes\":%d,\"warmup\":%d,\"photos\":%d,\"sizes\":[", passes, warmup,
                     NPHOTOS);

    for (int si = 0; si < nsizes; si++) {
        static frame fr[NPHOTOS];
        memset(fr, 0, sizeof fr);
        int tot_faces = 0, tot_cand = 0;
        for (int i = 0; i < NPHOTOS; i++) {
            make_frame(&src[i], sw[si], sh[si], &fr[i].im);
            lfr_face *faces;
            int n;
            st = lfr_face_detect(c, &fr[i].im, &pc, &faces, &n, &err);
            if (st != LFR_OK) die("detect (candidates)", st, &err);
            fr[i].ncand = n;
            st = lfr_face_detect(c, &fr[i].im, p, &faces, &n, &err);
            if (st != LFR_OK) die("detect", st, &err);
            fr[i].nfaces = n;
            fr[i].faces = malloc(sizeof *faces * (size_t)(n ? n : 1));
            if (!fr[i].faces) die("malloc", LFR_ERR_NOMEM, NULL);
            memcpy(fr[i].faces, faces, sizeof *faces * (size_t)n);
            /* the recording pass: detect, then embed, as the chain runs */
            g_rec = &fr[i].det;
            st = lfr_face_detect(c, &fr[i].im, p, &faces, &n, &err);
            g_rec = NULL;
            if (st != LFR_OK) die("detect", st, &err);
            g_rec = &fr[i].emb;
            st = lfr_face_embed(c, &fr[i].im, faces, n, g_emb, &err);
            g_rec = NULL;
            if (st != LFR_OK) die("embed", st, &err);
            check_calls(&fr[i], i, p);
            tot_faces += n;
            tot_cand += fr[i].ncand;
        }
        stage_time r[N_STAGES];
        for (int s = 0; s < N_STAGES; s++) r[s] = time_stage(c, fr, s, p, passes, warmup, t);

        fprintf(stderr, "bench_face: %dx%d (RFB %dx%d): %d O-Net inputs, %d faces in %d frames\n",
                sw[si], sh[si], fr[0].rfb_w, fr[0].rfb_h, tot_cand, tot_faces, NPHOTOS);
        for (int s = 0; s < N_STAGES; s++) {
            double sec = r[s].med_ms / 1e3;
            fprintf(stderr, "  %-6s median %8.2f ms / %d frames: %7.2f photos/s %8.2f faces/s\n",
                    stage_name[s], r[s].med_ms, NPHOTOS, NPHOTOS / sec, tot_faces / sec);
        }
        if (json) {
            printf("%s{\"w\":%d,\"h\":%d,\"faces\":%d,\"onet_inputs\":%d,\"frames\":[", si ? "," : "",
                   sw[si], sh[si], tot_faces, tot_cand);
            for (int i = 0; i < NPHOTOS; i++) {
                printf("%s{\"rfb\":[1,%d,%d],\"onet\":%d,\"faces\":%d,\"onet_batches\":", i ? "," : "",
                       fr[i].rfb_h, fr[i].rfb_w, fr[i].ncand, fr[i].nfaces);
                put_batches(stdout, &fr[i].det, 1);
                printf(",\"mfn_batches\":");
                put_batches(stdout, &fr[i].emb, 0);
                printf("}");
            }
            printf("]");
            for (int s = 0; s < N_STAGES; s++) {
                double sec = r[s].med_ms / 1e3;
                printf(",\"%s\":{\"median_ms\":%.4f,\"p90_ms\":%.4f,\"min_ms\":%.4f,"
                       "\"photos_per_s\":%.3f,\"faces_per_s\":%.3f}",
                       stage_name[s], r[s].med_ms, r[s].p90_ms, r[s].min_ms, NPHOTOS / sec,
                       tot_faces / sec);
            }
            printf("}");
        }
        if (wl) {
            fprintf(wl, "%s\n {\"w\":%d,\"h\":%d,\"frames\":[", si ? "," : "", sw[si], sh[si]);
            for (int i = 0; i < NPHOTOS; i++) {
                fprintf(wl, "%s\n  {\"photo\":\"sample%d.jpg\",\"rfb\":[1,%d,%d,3],\"onet\":",
                        i ? "," : "", i + 1, fr[i].rfb_h, fr[i].rfb_w);
                put_batches(wl, &fr[i].det, 1);
                fprintf(wl, ",\"mfn\":");
                put_batches(wl, &fr[i].emb, 0);
                fprintf(wl, "}");
            }
            fprintf(wl, "]}");
        }
        for (int i = 0; i < NPHOTOS; i++) {
            lfr_image_free(&fr[i].im);
            free(fr[i].faces);
        }
    }
    if (json) printf("]}\n");
    if (wl) {
        fprintf(wl, "\n]}\n");
        if (fclose(wl) != 0) {
            perror(wl_path);
            return 1;
        }
    }
    free(t);
    free(g_emb);
    for (int i = 0; i < NPHOTOS; i++) lfr_image_free(&src[i]);
    lfr_face_ctx_destroy(c);
    lfr_face_engine_destroy(eng);
    return 0;
}
