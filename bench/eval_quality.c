/*
 * eval_quality.c - the measurements behind docs/quality.md: head pose from
 * the 3D fit, and padding tight crops before detection.
 *
 *   eval_quality pose-synth
 *       synthetic landmarks of the mean face at known angles (+ noise):
 *       the fit's error.
 *   eval_quality pose-mirror IMAGE...
 *       every face of each image and of its mirror image: yaw + mirrored
 *       yaw (0 if the estimate is antisymmetric), 3D fit and the old 2D
 *       nose offset.
 *   eval_quality pose-clip VIDEO [FIRST [LAST]]
 *       frames FIRST..LAST (1..300): the largest face's yaw per frame (3D
 *       fit and old 2D), its range and
 *       roughness (RMS of the second difference, RMS distance to a 5-frame
 *       running median), printed per frame with -v.
 *   eval_quality utk [PER_GROUP]
 *       UTKFace adults (age >= 18), PER_GROUP (100) images per race x
 *       gender group (every k-th in name order): impostor cosines between
 *       all pairs within each group, for each padding configuration.
 *   eval_quality tight-lfw [PAIRS]
 *       LFW: PAIRS (150) same and PAIRS different official pairs; each photo
 *       cropped around its detected box at tightness 0.6/0.7/0.8/1.0
 *       (crop side / box side): landmark error against the full photo,
 *       cosine to the full photo's embedding, same-person and
 *       different-person scores, per padding configuration.
 *   eval_quality tight-celeba [PHOTOS]
 *       CelebA: PHOTOS (150) photos (every k-th): the same per-crop
 *       measurements except the pair scores.
 *   eval_quality cost
 *       time of a detection with and without padding, and how often the
 *       AT_EDGE trigger fires, on LFW photos, UTKFace chips and the video
 *       clip's frames.
 *
 * MODEL_SET=NAME in the environment embeds with that model set (utk,
 * tight-lfw, tight-celeba), the threshold 0.563 becoming the set's own LFW
 * FMR 1e-4 threshold.
 *
 * Data from $OPENLFR_DATA, models from $OPENLFR_MODELS (or models/).
 * Nothing is written anywhere: numbers go to stdout.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "face/face.h"
#include "match/match.h"
#include "video/video.h"

#define D LFR_FACE_EMB_MAX_DIM

/* The model set embedded (MODEL_SET in the environment, default mfn192)
 * and its cosine at FMR 1e-4 on LFW: 0.563 for mfn192 (issue 11), the
 * calibration's for another set. */
static lfr_face_model_set mset = LFR_FACE_MODEL_MFN192;
static int dim = LFR_FACE_EMB_DIM;
static float lfw_thr = 0.563f;
#define LFW_THR lfw_thr

static float sim(const float *a, const float *b) {
    double s = 0;
    for (int i = 0; i < dim; i++) s += (double)a[i] * b[i];
    return (float)s;
}

static lfr_face_engine *eng;
static lfr_face_ctx *ctx;
static const char *data;

typedef struct cfg {
    const char *name;
    int policy;
    float pad;
    int grey;  /* pad_grey */
    int fill;  /* crop_fill; -1 replicates the frame's edges (as before) */
} cfg;

/* "before" is the engine before this change: no padding, edges replicated
 * in the aligned crop. */
static const cfg cfgs[] = {
    {"before", LFR_FACE_PAD_OFF, 0, 128, -1},
    {"fill128-only", LFR_FACE_PAD_OFF, 0, 128, 128},
    {"fill0-only", LFR_FACE_PAD_OFF, 0, 128, 0},
    {"edge-0.25-grey-fill0", LFR_FACE_PAD_AT_EDGE, 0.25f, 128, 0},
    {"edge-0.25-grey-fill128", LFR_FACE_PAD_AT_EDGE, 0.25f, 128, 128},
    {"edge-0.5-grey-fill0", LFR_FACE_PAD_AT_EDGE, 0.5f, 128, 0},
    {"edge-0.25-black-fill0", LFR_FACE_PAD_AT_EDGE, 0.25f, 0, 0},
    {"edge-0.25-repl-repl", LFR_FACE_PAD_AT_EDGE, 0.25f, -1, -1},
    {"always-0.25-grey-fill0", LFR_FACE_PAD_ALWAYS, 0.25f, 128, 0},
};
#define NCFG (int)(sizeof cfgs / sizeof cfgs[0])

static lfr_face_params params_of(const cfg *c) {
    lfr_face_params p = lfr_face_params_default;
    p.pad_policy = c->policy;
    p.pad = c->pad;
    p.pad_grey = c->grey;
    p.crop_fill = c->fill;
    return p;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static float old_yaw(const float lm[5][2]) {
    float ex = lm[1][0] - lm[0][0], ey = lm[1][1] - lm[0][1], d = sqrtf(ex * ex + ey * ey);
    if (!(d > 0)) return 0;
    float mx = (lm[0][0] + lm[1][0]) / 2, my = (lm[0][1] + lm[1][1]) / 2;
    float t = ((lm[2][0] - mx) * ex + (lm[2][1] - my) * ey) / (d * d / 2);
    t = fmaxf(-1, fminf(1, t));
    return asinf(t) * 180.0f / (float)M_PI;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static float median(float *v, int n) {
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_float);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The face to describe: the central one (identity photos are centred). */
static int detect_pick(const lfr_image *im, const lfr_face_params *p, lfr_face *out) {
    lfr_face *faces;
    int n = 0;
    lfr_err err = {{0}};
    if (lfr_face_detect(ctx, im, p, &faces, &n, &err) != LFR_OK || n == 0) return -1;
    int c = lfr_face_pick_central(faces, n, im->w, im->h);
    *out = faces[c];
    return 0;
}

static int embed_face(const lfr_image *im, lfr_face *f, float *e) {
    lfr_err err = {{0}};
    return lfr_face_embed_set(ctx, im, f, 1, mset, e, &err) == LFR_OK ? 0 : -1;
}

/* Pose ------------------------------------------------------------------- */

static unsigned rng = 12345;
static float gauss(void) {
    float u = 0;
    for (int i = 0; i < 12; i++) {
        rng = rng * 1664525u + 1013904223u;
        u += (float)(rng >> 8) / 16777216.0f;
    }
    return u - 6;
}

static int pose_synth(void) {
    for (int noisy = 0; noisy < 2; noisy++) {
        double worst[3] = {0}, sum[3] = {0}, worst_old = 0;
        int n = 0;
        for (int yaw = -60; yaw <= 60; yaw += 10)
            for (int pitch = -30; pitch <= 30; pitch += 10)
                for (int roll = -30; roll <= 30; roll += 15) {
                    float lm[5][2], y, p, r;
                    lfr_face_pose_project((float)yaw, (float)pitch, (float)roll, 2.0f, 300, 200, lm);
                    /* noise: sigma 2 % of the eye distance (70 px here) */
                    if (noisy)
                        for (int i = 0; i < 5; i++) lm[i][0] += 1.4f * gauss(), lm[i][1] += 1.4f * gauss();
                    if (lfr_face_pose(lm, &y, &p, &r) != LFR_OK) return 1;
                    double e[3] = {fabs(y - yaw), fabs(p - pitch), fabs(r - roll)};
                    for (int k = 0; k < 3; k++) worst[k] = fmax(worst[k], e[k]), sum[k] += e[k];
                    if (abs(pitch) <= 10 && roll == 0) worst_old = fmax(worst_old, fabs(old_yaw(lm) - yaw));
                    n++;
                }
        printf("pose-synth %s: %d poses (yaw -60..60, pitch -30..30, roll -30..30): "
               "mean |error| yaw %.2f pitch %.2f roll %.2f deg; worst %.2f %.2f %.2f; "
               "old 2D yaw worst %.1f deg (pitch <= 10, roll 0)\n",
               noisy ? "noise 2% of eye distance" : "exact", n, sum[0] / n, sum[1] / n,
               sum[2] / n, worst[0], worst[1], worst[2], worst_old);
    }
    return 0;
}

static int pose_mirror(int argc, char **argv) {
    double s_new = 0, s_old = 0, w_new = 0, w_old = 0, mag = 0;
    int n = 0;
    for (int a = 0; a < argc; a++) {
        lfr_image im = {0}, fl = {0};
        lfr_err err = {{0}};
        if (lfr_image_load(argv[a], &im, &err) != LFR_OK || lfr_image_flip_h(&im, &fl) != LFR_OK) {
            fprintf(stderr, "%s: %s\n", argv[a], err.msg);
            continue;
        }
        lfr_face *faces, a_f[64];
        int na = 0, nb = 0;
        if (lfr_face_detect(ctx, &im, NULL, &faces, &na, &err) != LFR_OK) continue;
        if (na > 64) na = 64;
        memcpy(a_f, faces, sizeof a_f[0] * (size_t)na);
        if (lfr_face_detect(ctx, &fl, NULL, &faces, &nb, &err) != LFR_OK) continue;
        for (int i = 0; i < na; i++) {
            float cx = im.w - (a_f[i].box[0] + a_f[i].box[2] / 2), cy = a_f[i].box[1] + a_f[i].box[3] / 2;
            int best = -1;
            float bd = 1e9f;
            for (int k = 0; k < nb; k++) {
                float dx = faces[k].box[0] + faces[k].box[2] / 2 - cx;
                float dy = faces[k].box[1] + faces[k].box[3] / 2 - cy;
                if (dx * dx + dy * dy < bd) bd = dx * dx + dy * dy, best = k;
            }
            if (best < 0 || bd > 0.04f * a_f[i].box[2] * a_f[i].box[2]) continue;
            /* The mirror swaps image-left and image-right: the mirrored
             * face's lm[0] is the original's lm[1], so only the sum matters. */
            float y1 = a_f[i].q.yaw, y2 = faces[best].q.yaw;
            float o1 = old_yaw(a_f[i].lm), o2 = old_yaw(faces[best].lm);
            s_new += fabs(y1 + y2), s_old += fabs(o1 + o2);
            w_new = fmax(w_new, fabs(y1 + y2)), w_old = fmax(w_old, fabs(o1 + o2));
            mag += fabs(y1);
            n++;
            if (getenv("VERBOSE"))
                printf("  %s face %d: yaw %.1f / mirrored %.1f (old %.1f / %.1f), pitch %.1f / %.1f, roll %.1f / %.1f\n",
                       argv[a], i, y1, y2, o1, o2, a_f[i].q.pitch, faces[best].q.pitch,
                       a_f[i].q.roll, faces[best].q.roll);
        }
        lfr_image_free(&im);
        lfr_image_free(&fl);
    }
    printf("pose-mirror: %d faces, mean |yaw| %.1f deg; |yaw + mirrored yaw|: 3D fit mean %.2f "
           "worst %.2f deg; old 2D mean %.2f worst %.2f deg\n",
           n, n ? mag / n : 0, n ? s_new / n : 0, w_new, n ? s_old / n : 0, w_old);
    return n ? 0 : 1;
}

static void roughness(const float *v, int n, double *rms_d2, double *rms_med, float *lo, float *hi) {
    double s2 = 0, sm = 0;
    int n2 = 0, nm = 0;
    *lo = 1e9f, *hi = -1e9f;
    for (int i = 0; i < n; i++) *lo = fminf(*lo, v[i]), *hi = fmaxf(*hi, v[i]);
    for (int i = 1; i + 1 < n; i++) {
        double d = v[i + 1] - 2 * v[i] + v[i - 1];
        s2 += d * d, n2++;
    }
    for (int i = 2; i + 2 < n; i++) {
        float w[5];
        memcpy(w, v + i - 2, sizeof w);
        float m = median(w, 5);
        sm += (v[i] - m) * (v[i] - m), nm++;
    }
    *rms_d2 = n2 ? sqrt(s2 / n2) : 0;
    *rms_med = nm ? sqrt(sm / nm) : 0;
}

static int pose_clip(const char *url, int first, int last) {
    int max_frames = last;
    lfr_video_opts o = {.url = url, .wait_consumer = 1};
    lfr_camera *cam;
    lfr_err err = {{0}};
    if (lfr_camera_start(&o, &cam, &err) != LFR_OK) {
        fprintf(stderr, "%s: %s\n", url, err.msg);
        return 1;
    }
    float *yn = calloc((size_t)max_frames, sizeof *yn), *yo = calloc((size_t)max_frames, sizeof *yo);
    float *pn = calloc((size_t)max_frames, sizeof *pn);
    int n = 0, frames = 0, gaps = 0;
    while (frames < max_frames) {
        lfr_frame f;
        lfr_status st = lfr_camera_next(cam, &f, 5000);
        if (st != LFR_OK) break;
        frames++;
        lfr_face *faces;
        int nf = 0;
        if (frames < first) {
            lfr_image_free(&f.img);
            continue;
        }
        if (lfr_face_detect(ctx, &f.img, NULL, &faces, &nf, &err) == LFR_OK && nf > 0) {
            yn[n] = faces[0].q.yaw, yo[n] = old_yaw(faces[0].lm), pn[n] = faces[0].q.pitch;
            if (getenv("VERBOSE"))
                printf("  frame %d: yaw %.1f (old %.1f) pitch %.1f roll %.1f eye %.0f px\n", frames,
                       yn[n], yo[n], pn[n], faces[0].q.roll, faces[0].q.eye_dist);
            n++;
        } else {
            gaps++;
        }
        lfr_image_free(&f.img);
    }
    lfr_camera_stop(cam);
    double d2n, mdn, d2o, mdo, d2p, mdp;
    float lon, hin, loo, hio, lop, hip;
    roughness(yn, n, &d2n, &mdn, &lon, &hin);
    roughness(yo, n, &d2o, &mdo, &loo, &hio);
    roughness(pn, n, &d2p, &mdp, &lop, &hip);
    printf("pose-clip %s frames %d-%d: %d with a face (%d without)\n", url, first, frames, n, gaps);
    printf("  yaw 3D fit: range %.1f..%.1f deg; RMS 2nd difference %.2f deg; RMS from 5-frame median %.2f deg\n",
           lon, hin, d2n, mdn);
    printf("  yaw old 2D: range %.1f..%.1f deg; RMS 2nd difference %.2f deg; RMS from 5-frame median %.2f deg\n",
           loo, hio, d2o, mdo);
    printf("  pitch 3D fit: range %.1f..%.1f deg; RMS 2nd difference %.2f deg; RMS from 5-frame median %.2f deg\n",
           lop, hip, d2p, mdp);
    free(yn), free(yo), free(pn);
    return 0;
}

/* UTKFace impostors by group ------------------------------------------------- */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *race_name[] = {"white", "black", "asian", "indian"};

static int utk(int per_group) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/utkface/images", data);
    DIR *dh = opendir(dir);
    if (!dh) {
        fprintf(stderr, "%s: cannot open\n", dir);
        return 1;
    }
    char **names = NULL;
    int nn = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dh))) {
        int age, g, r;
        if (sscanf(de->d_name, "%d_%d_%d_", &age, &g, &r) != 3) continue;
        if (nn == cap) names = realloc(names, sizeof *names * (size_t)(cap = cap ? cap * 2 : 1024));
        names[nn++] = strdup(de->d_name);
    }
    closedir(dh);
    qsort(names, (size_t)nn, sizeof *names, cmp_str);
    int total_pairs = 0;
    for (int r = 0; r < 4; r++)
        for (int g = 0; g < 2; g++) {
            char *sel[4096];
            int ns = 0, avail = 0;
            for (int i = 0; i < nn; i++) {
                int age, gg, rr;
                sscanf(names[i], "%d_%d_%d_", &age, &gg, &rr);
                if (age >= 18 && gg == g && rr == r) avail++;
            }
            int step = avail > per_group ? avail / per_group : 1, k = 0;
            for (int i = 0; i < nn && ns < per_group; i++) {
                int age, gg, rr;
                sscanf(names[i], "%d_%d_%d_", &age, &gg, &rr);
                if (!(age >= 18 && gg == g && rr == r)) continue;
                if (k++ % step == 0) sel[ns++] = names[i];
            }
            printf("utk %s %s: %d adults, %d used\n", race_name[r], g ? "women" : "men", avail, ns);
            float *emb = malloc(sizeof(float) * D * (size_t)ns);
            int *ok = malloc(sizeof(int) * (size_t)ns);
            float *sc = malloc(sizeof(float) * (size_t)ns * (size_t)ns / 2 + 1);
            for (int c = 0; c < NCFG; c++) {
                lfr_face_params p = params_of(&cfgs[c]);
                int found = 0;
                double t0 = now_s();
                long pads0 = lfr_face_ctx_padded_runs(ctx);
                for (int i = 0; i < ns; i++) {
                    char path[8192];
                    snprintf(path, sizeof path, "%s/%s", dir, sel[i]);
                    lfr_image im = {0};
                    lfr_err err = {{0}};
                    lfr_face f;
                    ok[i] = lfr_image_load(path, &im, &err) == LFR_OK && detect_pick(&im, &p, &f) == 0;
                    if (ok[i]) ok[i] = embed_face(&im, &f, emb + (size_t)i * D) == 0;
                    found += ok[i];
                    lfr_image_free(&im);
                }
                double dt = now_s() - t0;
                int np = 0, above = 0;
                for (int i = 0; i < ns; i++)
                    for (int j = i + 1; j < ns; j++) {
                        if (!ok[i] || !ok[j]) continue;
                        float s = sim(emb + (size_t)i * D, emb + (size_t)j * D);
                        sc[np++] = s;
                        above += s >= LFW_THR;
                    }
                float med = median(sc, np);
                float p99 = np ? sc[(int)(0.99 * (np - 1))] : NAN;
                if (c == 0) total_pairs += np;
                printf("  %-22s faces %3d/%d  pairs %5d  median %.3f  p99 %.3f  >= %.3f: %d (%.1e)  "
                       "padded passes %ld  %.1f ms/photo\n",
                       cfgs[c].name, found, ns, np, med, p99, LFW_THR, above,
                       np ? (double)above / np : 0, lfr_face_ctx_padded_runs(ctx) - pads0,
                       1000 * dt / (ns ? ns : 1));
                fflush(stdout);
            }
            free(emb), free(ok), free(sc);
        }
    printf("utk: %d impostor pairs in all (configuration off)\n", total_pairs);
    for (int i = 0; i < nn; i++) free(names[i]);
    free(names);
    return 0;
}

/* Tight crops ---------------------------------------------------------------- */

static const float tightness[] = {0.6f, 0.7f, 0.8f, 1.0f};
#define NT 4

typedef struct crop_stats {
    int tried, found;
    float *lm_err, *cos_full; /* per found crop */
} crop_stats;

/* Crops `full` around face `f` at tightness t (square, side t x the box's
 * longer side, centred on the box), then detects and embeds the crop's
 * central face with params p.  Returns 0 with the embedding, landmark
 * error (mean over the 5 points, in eye distances) against f. */
static int tight_one(const lfr_image *full, const lfr_face *f, float t, const cfg *c, float *e,
                     float *lm_err) {
    float side = t * fmaxf(f->box[2], f->box[3]);
    float cx = f->box[0] + f->box[2] / 2, cy = f->box[1] + f->box[3] / 2;
    int x0 = (int)lroundf(cx - side / 2), y0 = (int)lroundf(cy - side / 2), s = (int)lroundf(side);
    /* Keep the crop inside the photo (a real tight photo has no border). */
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x0 + s > full->w) s = full->w - x0;
    if (y0 + s > full->h) s = full->h - y0;
    lfr_image crop = {0};
    if (s < 16 || lfr_image_crop(full, x0, y0, s, s, &crop) != LFR_OK) return -1;
    lfr_face_params p = params_of(c);
    lfr_face g;
    int r = detect_pick(&crop, &p, &g);
    if (r == 0) {
        double err = 0;
        for (int q = 0; q < 5; q++)
            err += hypot(g.lm[q][0] + x0 - f->lm[q][0], g.lm[q][1] + y0 - f->lm[q][1]);
        *lm_err = (float)(err / 5 / fmaxf(f->q.eye_dist, 1));
        r = embed_face(&crop, &g, e);
    }
    lfr_image_free(&crop);
    return r;
}

static int load_full(const char *path, lfr_image *im, lfr_face *f, float *e) {
    lfr_err err = {{0}};
    lfr_face_params p = lfr_face_params_default;
    p.pad_policy = LFR_FACE_PAD_OFF;
    p.pad_grey = -1;
    p.crop_fill = -1;
    if (lfr_image_load(path, im, &err) != LFR_OK) return -1;
    if (detect_pick(im, &p, f) != 0 || embed_face(im, f, e) != 0) {
        lfr_image_free(im);
        return -1;
    }
    /* A face that already touches the photo's edge gives no clean tight crop. */
    if (f->q.at_edge) {
        lfr_image_free(im);
        return -1;
    }
    return 0;
}

static void print_crop_stats(const char *what, crop_stats st[NCFG][NT]) {
    for (int t = 0; t < NT; t++)
        for (int c = 0; c < NCFG; c++) {
            crop_stats *s = &st[c][t];
            int n = s->found, bad = 0, low = 0;
            for (int i = 0; i < n; i++) bad += s->lm_err[i] > 0.1f, low += s->cos_full[i] < LFW_THR;
            float ml = median(s->lm_err, n), mc = median(s->cos_full, n);
            printf("%s t=%.2f %-22s found %3d/%3d  landmark error median %.3f eye dist, > 0.1: %d  "
                   "cosine to full photo median %.3f, < %.3f: %d\n",
                   what, tightness[t], cfgs[c].name, n, s->tried, ml, bad, mc, LFW_THR, low);
        }
}

static int tight_lfw(int pairs) {
    char path[4096];
    snprintf(path, sizeof path, "%s/lfw/pairs.txt", data);
    FILE *fp = fopen(path, "r");
    if (!fp) return 1;
    char line[512];
    if (!fgets(line, sizeof line, fp)) line[0] = 0;
    int total_same = 1100, step = total_same / pairs, row = 0, nsame = 0, ndiff = 0;
    static crop_stats st[NCFG][NT];
    for (int c = 0; c < NCFG; c++)
        for (int t = 0; t < NT; t++) {
            st[c][t].lm_err = calloc(4 * (size_t)pairs, sizeof(float));
            st[c][t].cos_full = calloc(4 * (size_t)pairs, sizeof(float));
        }
    /* pair scores: [kind same/diff][cfg][t][i]; full photos at index NT */
    float *ps[2][NCFG][NT + 1];
    int pn[2][NCFG][NT + 1] = {{{0}}};
    for (int k = 0; k < 2; k++)
        for (int c = 0; c < NCFG; c++)
            for (int t = 0; t <= NT; t++) ps[k][c][t] = calloc((size_t)pairs, sizeof(float));
    while (fgets(line, sizeof line, fp)) {
        char a[256], b[256];
        int i, j, same;
        if (sscanf(line, "%255s %d %255s %d", a, &i, b, &j) == 4) same = 0;
        else if (sscanf(line, "%255s %d %d", a, &i, &j) == 3) same = 1, strcpy(b, a);
        else continue;
        if (row++ % step) continue;
        if (same ? nsame >= pairs : ndiff >= pairs) continue;
        lfr_image im[2] = {{0}};
        lfr_face f[2];
        float ef[2][D];
        int ok = 1;
        for (int k = 0; k < 2 && ok; k++) {
            snprintf(path, sizeof path, "%s/lfw/images/%s/%s_%04d.jpg", data, k ? b : a, k ? b : a,
                     k ? j : i);
            ok = load_full(path, &im[k], &f[k], ef[k]) == 0;
        }
        if (!ok) {
            lfr_image_free(&im[0]);
            continue;
        }
        int kind = same ? 0 : 1;
        int idx = same ? nsame++ : ndiff++;
        (void)idx;
        for (int c = 0; c < NCFG; c++) {
            ps[kind][c][NT][pn[kind][c][NT]++] = sim(ef[0], ef[1]);
            for (int t = 0; t < NT; t++) {
                float e2[2][D], le;
                int got = 0;
                for (int k = 0; k < 2; k++) {
                    crop_stats *s = &st[c][t];
                    s->tried++;
                    if (tight_one(&im[k], &f[k], tightness[t], &cfgs[c], e2[k], &le) == 0) {
                        s->lm_err[s->found] = le;
                        s->cos_full[s->found] = sim(e2[k], ef[k]);
                        s->found++;
                        got++;
                    }
                }
                /* The second photo of a pair stays full: a tight crop
                 * compared with an ordinary photo (enrolment vs photo check). */
                if (got == 2)
                    ps[kind][c][t][pn[kind][c][t]++] = sim(e2[0], ef[1]);
            }
        }
        lfr_image_free(&im[0]);
        lfr_image_free(&im[1]);
    }
    fclose(fp);
    printf("tight-lfw: %d same and %d different pairs (both photos found, no face at the edge)\n",
           nsame, ndiff);
    print_crop_stats("lfw", st);
    for (int t = 0; t <= NT; t++)
        for (int c = 0; c < NCFG; c++) {
            if (t == NT && c > 0) continue;
            int n0 = pn[0][c][t], n1 = pn[1][c][t], acc0 = 0, acc1 = 0;
            for (int i = 0; i < n0; i++) acc0 += ps[0][c][t][i] >= LFW_THR;
            for (int i = 0; i < n1; i++) acc1 += ps[1][c][t][i] >= LFW_THR;
            float m0 = median(ps[0][c][t], n0), m1 = median(ps[1][c][t], n1);
            if (t == NT)
                printf("lfw pairs full photos                       same: median %.3f, >= %.3f %d/%d; "
                       "different: median %.3f, >= %.3f %d/%d\n",
                       m0, LFW_THR, acc0, n0, m1, LFW_THR, acc1, n1);
            else
                printf("lfw pairs crop t=%.2f vs full %-22s same: median %.3f, >= %.3f %d/%d; "
                       "different: median %.3f, >= %.3f %d/%d\n",
                       tightness[t], cfgs[c].name, m0, LFW_THR, acc0, n0, m1, LFW_THR, acc1, n1);
        }
    return 0;
}

static int tight_celeba(int photos) {
    char path[4096];
    snprintf(path, sizeof path, "%s/celeba/identities.txt", data);
    FILE *fp = fopen(path, "r");
    if (!fp) return 1;
    static crop_stats st[NCFG][NT];
    for (int c = 0; c < NCFG; c++)
        for (int t = 0; t < NT; t++) {
            st[c][t].lm_err = calloc((size_t)photos, sizeof(float));
            st[c][t].cos_full = calloc((size_t)photos, sizeof(float));
        }
    char line[512];
    int row = 0, used = 0, step = 861 / photos;
    if (step < 1) step = 1;
    while (fgets(line, sizeof line, fp) && used < photos) {
        char name[256];
        if (sscanf(line, "%255s", name) != 1 || row++ % step) continue;
        snprintf(path, sizeof path, "%s/celeba/images/%s", data, name);
        lfr_image im = {0};
        lfr_face f;
        float ef[D];
        if (load_full(path, &im, &f, ef) != 0) continue;
        used++;
        for (int c = 0; c < NCFG; c++)
            for (int t = 0; t < NT; t++) {
                float e[D], le;
                crop_stats *s = &st[c][t];
                s->tried++;
                if (tight_one(&im, &f, tightness[t], &cfgs[c], e, &le) == 0) {
                    s->lm_err[s->found] = le;
                    s->cos_full[s->found] = sim(e, ef);
                    s->found++;
                }
            }
        lfr_image_free(&im);
    }
    fclose(fp);
    printf("tight-celeba: %d photos\n", used);
    print_crop_stats("celeba", st);
    return 0;
}

/* Cost ------------------------------------------------------------------------ */

static void time_set(const char *what, char **paths, int n) {
    for (int c = 0; c < 3; c++) {
        cfg cc = cfgs[c == 0 ? 0 : c == 1 ? 3 : 8];
        lfr_face_params p = params_of(&cc);
        long pads0 = 0;
        double t = 0;
        int done = 0;
        for (int i = -1; i < n; i++) { /* -1: untimed warm-up (plans) */
            int warm = i < 0;
            if (warm) i = 0;
            lfr_image im = {0};
            lfr_err err = {{0}};
            if (lfr_image_load(paths[i], &im, &err) != LFR_OK) continue;
            lfr_face *faces;
            int nf;
            double t0 = now_s();
            lfr_face_detect(ctx, &im, &p, &faces, &nf, &err);
            lfr_image_free(&im);
            if (warm) {
                i = -1;
                pads0 = lfr_face_ctx_padded_runs(ctx);
                continue;
            }
            t += now_s() - t0;
            done++;
        }
        printf("cost %-14s %-16s %d photos: detection %.1f ms/photo, padded passes %ld\n", what,
               cc.name, done, 1000 * t / (done ? done : 1), lfr_face_ctx_padded_runs(ctx) - pads0);
    }
}

static int cost(void) {
    char *paths[200];
    int n = 0;
    char p[4096];
    /* LFW: the first photo of 100 people from people.txt. */
    snprintf(p, sizeof p, "%s/lfw/people.txt", data);
    FILE *fp = fopen(p, "r");
    char line[512];
    while (fp && fgets(line, sizeof line, fp) && n < 100) {
        char name[256];
        int cnt;
        if (sscanf(line, "%255s %d", name, &cnt) != 2) continue;
        snprintf(p, sizeof p, "%s/lfw/images/%s/%s_0001.jpg", data, name, name);
        paths[n++] = strdup(p);
    }
    if (fp) fclose(fp);
    time_set("lfw", paths, n);
    for (int i = 0; i < n; i++) free(paths[i]);
    n = 0;
    snprintf(p, sizeof p, "%s/utkface/images", data);
    DIR *dh = opendir(p);
    struct dirent *de;
    int k = 0;
    while (dh && (de = readdir(dh)) && n < 100)
        if (strstr(de->d_name, ".jpg") && k++ % 20 == 0) {
            char q[8192];
            snprintf(q, sizeof q, "%s/%s", p, de->d_name);
            paths[n++] = strdup(q);
        }
    if (dh) closedir(dh);
    time_set("utkface", paths, n);
    for (int i = 0; i < n; i++) free(paths[i]);
    n = 0;
    const char *photos = getenv("OPENLFR_MODELS") ? getenv("OPENLFR_MODELS") : "models";
    for (int i = 1; i <= 6; i++) {
        snprintf(p, sizeof p, "%s/photos/sample%d.jpg", photos, i);
        paths[n++] = strdup(p);
    }
    time_set("demo photos", paths, n);
    for (int i = 0; i < n; i++) free(paths[i]);
    /* Video frames: every frame of the clip, both policies. */
    const char *clips[] = {"video/hamilton/short_hamilton_clip.mp4",
                           "video/talking-head/SihanWang-WHU_Face_Detection_test.mp4",
                           "video/mot/MOT20-05-raw_even_shorter.mp4"};
    for (int v = 0; v < 3; v++)
        for (int c = 0; c < 3; c++) {
            cfg cc = cfgs[c == 0 ? 0 : c == 1 ? 3 : 8];
            lfr_face_params prm = params_of(&cc);
            snprintf(p, sizeof p, "%s/%s", data, clips[v]);
            lfr_video_opts o = {.url = p, .wait_consumer = 1};
            lfr_camera *cam;
            lfr_err err = {{0}};
            if (lfr_camera_start(&o, &cam, &err) != LFR_OK) continue;
            long pads0 = lfr_face_ctx_padded_runs(ctx);
            double t = 0;
            int frames = 0;
            lfr_frame f;
            while (frames < 150 && lfr_camera_next(cam, &f, 5000) == LFR_OK) {
                lfr_face *faces;
                int nf;
                double t0 = now_s();
                lfr_face_detect(ctx, &f.img, &prm, &faces, &nf, &err);
                t += now_s() - t0;
                frames++;
                lfr_image_free(&f.img);
            }
            lfr_camera_stop(cam);
            printf("cost %-40s %-14s %d frames: detection %.1f ms/frame, padded passes %ld\n",
                   clips[v], cc.name, frames, 1000 * t / (frames ? frames : 1),
                   lfr_face_ctx_padded_runs(ctx) - pads0);
        }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: eval_quality pose-synth|pose-mirror IMG...|pose-clip VIDEO [N]|"
                        "utk [N]|tight-lfw [N]|tight-celeba [N]|cost\n");
        return 2;
    }
    const char *models = getenv("OPENLFR_MODELS");
    lfr_err err = {{0}};
    if (lfr_face_engine_load(models && *models ? models : "models", &eng, &err) != LFR_OK ||
        lfr_face_ctx_new(eng, &ctx) != LFR_OK) {
        fprintf(stderr, "cannot load the models: %s\n", err.msg);
        return 1;
    }
    const char *ms = getenv("MODEL_SET");
    if (ms && *ms) {
        const lfr_match_calibration *cal = lfr_match_calibration_named(ms);
        if (lfr_face_model_set_parse(ms, &mset) != LFR_OK || !cal ||
            !lfr_face_engine_has_model_set(eng, mset)) {
            fprintf(stderr, "MODEL_SET=%s: not a model set this engine and calibration have\n", ms);
            return 2;
        }
        dim = lfr_face_model_set_dim(mset);
        if (mset != LFR_FACE_MODEL_MFN192)
            lfw_thr = lfr_match_cal_threshold_for_likeness(cal, 400.0 / LFR_MATCH_LIKENESS_DECADES);
        fprintf(stderr, "eval_quality: model set %s, FMR 1e-4 threshold %.3f\n", ms, (double)lfw_thr);
    }
    data = getenv("OPENLFR_DATA");
    const char *cmd = argv[1];
    int needs_data = strcmp(cmd, "pose-synth") && strcmp(cmd, "pose-mirror") && strcmp(cmd, "pose-clip");
    if (needs_data && !(data && *data)) {
        fprintf(stderr, "OPENLFR_DATA is not set: %s needs the face data sets\n", cmd);
        return 1;
    }
    int r = 2;
    if (!strcmp(cmd, "pose-synth")) r = pose_synth();
    else if (!strcmp(cmd, "pose-mirror")) r = pose_mirror(argc - 2, argv + 2);
    else if (!strcmp(cmd, "pose-clip") && argc > 2) r = pose_clip(argv[2], argc > 3 ? atoi(argv[3]) : 1, argc > 4 ? atoi(argv[4]) : 300);
    else if (!strcmp(cmd, "utk")) r = utk(argc > 2 ? atoi(argv[2]) : 100);
    else if (!strcmp(cmd, "tight-lfw")) r = tight_lfw(argc > 2 ? atoi(argv[2]) : 150);
    else if (!strcmp(cmd, "tight-celeba")) r = tight_celeba(argc > 2 ? atoi(argv[2]) : 150);
    else if (!strcmp(cmd, "cost")) r = cost();
    lfr_face_ctx_destroy(ctx);
    lfr_face_engine_destroy(eng);
    return r;
}
