/*
 * eval_near.c - detection near the tracks against full detection, frame by
 * frame (docs/pipeline.md, "Detection every other frame"): the measurement
 * behind lfr_face_detect_near's window sizes and grid, and behind
 * LFR_PIPELINE_DETECT_EVERY.
 *
 *   eval_near MODELS_DIR CLIP...
 *
 * Every frame of each clip (decoded as lfr_camera gives it, every frame) is
 * detected in full; the full detections drive a tracker (the pipeline's,
 * default parameters).  On every frame with live tracks the frame is ALSO
 * detected near the tracks' predicted boxes, as the pipeline does between
 * full detections.  Printed per clip:
 *   - how lfr_face_detect_near answered (windows, in full, nothing);
 *   - among the faces the full detection found that are small (the ones
 *     lfr_face_detect_near looks for: under 48 working px) and within one
 *     face width of a predicted box: how many detection near the tracks
 *     found too (IoU > 0.5), the mean and worst landmark difference (in
 *     eye distances), the mean |O-Net score difference|, how often the
 *     pipeline's quality gate decided differently and the mean |quality
 *     score difference| where both passed;
 *   - faces found near the tracks that the full detection did not find;
 *   - the baseline: the same figures between two CONSECUTIVE full
 *     detections (faces matched by IoU > 0.5), i.e. how much detection
 *     varies from one frame to the next anyway;
 *   - CPU time per full detection and per windowed detection (thread CPU,
 *     one thread: run with OMP_NUM_THREADS=1 on a quiet machine).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "face/face.h"
#include "pipeline/pipeline.h"
#include "video/video.h"

#define MAXF 128

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int find(const lfr_face *f, const lfr_face *in, int n) {
    int best = -1;
    float bi = 0.5f;
    for (int k = 0; k < n; k++) {
        float u = lfr_box_iou(f->box, in[k].box);
        if (u > bi) bi = u, best = k;
    }
    return best;
}

typedef struct cmp {
    long pairs, gate_diff, both_pass;
    double lm, lm_worst, onet, q;
} cmp;

static void compare(cmp *m, const lfr_face *a, const lfr_face *b) {
    const lfr_quality_gate *g = &lfr_pipeline_params_default.gate;
    double d = 0;
    for (int q = 0; q < 5; q++)
        d += hypot(a->lm[q][0] - b->lm[q][0], a->lm[q][1] - b->lm[q][1]) / 5;
    d /= fmax(a->q.eye_dist, 1);
    m->pairs++;
    m->lm += d;
    if (d > m->lm_worst) m->lm_worst = d;
    m->onet += fabs(a->onet_score - b->onet_score);
    float qa = lfr_pipeline_quality(g, a), qb = lfr_pipeline_quality(g, b);
    if ((qa < 0) != (qb < 0)) m->gate_diff++;
    else if (qa >= 0) m->both_pass++, m->q += fabs(qa - qb);
}

static void print_cmp(const char *what, const cmp *m) {
    double n = m->pairs ? (double)m->pairs : 1;
    printf("  %s: %ld pairs, landmarks %.4f eye distances (worst %.3f), |O-Net diff| %.4f, gate "
           "differs %ld (%.1f %%), |quality diff| %.4f over %ld both passed\n",
           what, m->pairs, m->lm / n, m->lm_worst, m->onet / n, m->gate_diff,
           100.0 * (double)m->gate_diff / n, m->both_pass ? m->q / (double)m->both_pass : 0,
           m->both_pass);
}

static int run_clip(lfr_face_ctx *c, const char *clip) {
    lfr_err err = {{0}};
    lfr_video_opts o = {.url = clip, .wait_consumer = 1};
    lfr_camera *cam;
    if (lfr_camera_start(&o, &cam, &err) != LFR_OK) {
        fprintf(stderr, "eval_near: %s: %s\n", clip, err.msg);
        return 1;
    }
    lfr_tracker tr;
    lfr_tracker_init(&tr, &lfr_pipeline_params_default.track);
    static lfr_face full[MAXF], prev[MAXF];
    int nprev = 0;
    long frames = 0, n_full = 0, how_n[3] = {0}, small_near = 0, found = 0, extra = 0;
    double t_full = 0, t_win = 0;
    cmp near = {0}, base = {0};
    for (;;) {
        lfr_frame f;
        lfr_status s = lfr_camera_next(cam, &f, 10000);
        if (s == LFR_ERR_TIMEOUT) continue;
        if (s != LFR_OK) break;
        frames++;
        lfr_face *fs;
        int nf;
        double t0 = cpu_now();
        if (lfr_face_detect(c, &f.img, NULL, &fs, &nf, &err) != LFR_OK) {
            fprintf(stderr, "eval_near: %s\n", err.msg);
            return 1;
        }
        t_full += cpu_now() - t0;
        if (nf > MAXF) nf = MAXF;
        memcpy(full, fs, sizeof(lfr_face) * (size_t)nf);
        n_full += nf;
        /* the predicted boxes, as the pipeline computes them */
        float pred[LFR_FACE_MAX_NEAR][4];
        int np = 0;
        for (int j = 0; j < LFR_PIPELINE_MAX_TRACKS && np < LFR_FACE_MAX_NEAR; j++) {
            const lfr_track *t = &tr.t[j];
            if (!t->id) continue;
            float k = (float)(t->unseen + 1);
            pred[np][0] = t->box[0] + t->vel[0] * k;
            pred[np][1] = t->box[1] + t->vel[1] * k;
            pred[np][2] = t->box[2];
            pred[np][3] = t->box[3];
            np++;
        }
        if (np) {
            lfr_face *ns;
            int nn, how;
            t0 = cpu_now();
            if (lfr_face_detect_near(c, &f.img, NULL, (const float(*)[4])pred, np, &ns, &nn, &how,
                                     &err) != LFR_OK) {
                fprintf(stderr, "eval_near: %s\n", err.msg);
                return 1;
            }
            double dt = cpu_now() - t0;
            how_n[how]++;
            if (how == LFR_FACE_NEAR_WINDOWS) {
                t_win += dt;
                float ws = 960.0f / (float)(f.img.w > f.img.h ? f.img.w : f.img.h);
                if (ws > 1) ws = 1;
                for (int i = 0; i < nf; i++) {
                    const float *b = full[i].box;
                    if (fmaxf(b[2], b[3]) * ws >= 48) continue; /* big: not looked for */
                    float cx = b[0] + b[2] / 2, cy = b[1] + b[3] / 2;
                    int in = 0;
                    for (int k = 0; k < np && !in; k++) {
                        float w = fmaxf(pred[k][2], pred[k][3]);
                        in = fabsf(cx - pred[k][0] - pred[k][2] / 2) <= w &&
                             fabsf(cy - pred[k][1] - pred[k][3] / 2) <= w;
                    }
                    if (!in) continue;
                    small_near++;
                    int k = find(&full[i], ns, nn);
                    if (k < 0) continue;
                    found++;
                    compare(&near, &full[i], &ns[k]);
                }
                for (int k = 0; k < nn; k++) extra += find(&ns[k], full, nf) < 0;
            }
        }
        for (int i = 0; i < nf; i++) {
            int k = find(&full[i], prev, nprev);
            if (k >= 0) compare(&base, &full[i], &prev[k]);
        }
        memcpy(prev, full, sizeof(lfr_face) * (size_t)nf);
        nprev = nf;
        float boxes[MAXF][4];
        int assign[MAXF];
        for (int i = 0; i < nf; i++) memcpy(boxes[i], full[i].box, sizeof boxes[i]);
        lfr_tracker_update(&tr, (const float(*)[4])boxes, nf, assign, NULL, NULL);
        lfr_image_free(&f.img);
    }
    lfr_camera_stop(cam);
    printf("%s: %ld frames, %ld faces detected in full; near the tracks: %ld frames in windows, "
           "%ld in full (windows would not pay), %ld nothing small to look near\n",
           clip, frames, n_full, how_n[LFR_FACE_NEAR_WINDOWS], how_n[LFR_FACE_NEAR_FULL],
           how_n[LFR_FACE_NEAR_NONE]);
    printf("  small faces near a track: %ld, found near the tracks %ld (%.1f %%); faces found "
           "only near the tracks: %ld\n", small_near, found,
           small_near ? 100.0 * (double)found / (double)small_near : 0, extra);
    print_cmp("near vs full, same frame", &near);
    print_cmp("baseline, consecutive full detections", &base);
    printf("  CPU: full detection %.2f ms per frame, windowed %.2f ms per run\n",
           frames ? 1e3 * t_full / (double)frames : 0,
           how_n[LFR_FACE_NEAR_WINDOWS] ? 1e3 * t_win / (double)how_n[LFR_FACE_NEAR_WINDOWS] : 0);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: eval_near MODELS_DIR CLIP...\n");
        return 2;
    }
    lfr_log_set_level(LFR_LOG_ERROR);
    lfr_err err = {{0}};
    lfr_face_engine *e;
    lfr_face_ctx *c;
    if (lfr_face_engine_load(argv[1], &e, &err) != LFR_OK) {
        fprintf(stderr, "eval_near: %s\n", err.msg);
        return 1;
    }
    if (lfr_face_ctx_new(e, &c) != LFR_OK) return 1;
    int rc = 0;
    for (int i = 2; i < argc; i++) rc |= run_clip(c, argv[i]);
    lfr_face_ctx_destroy(c);
    lfr_face_engine_destroy(e);
    return rc;
}
