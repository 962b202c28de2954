/*
 * cmd_face.c - `openlfr detect`, `openlfr embed`, `openlfr compare`.
 *
 *   openlfr detect [--json] IMAGE...
 *   openlfr embed  [--json] [--list FILE] [--model-set SET] IMAGE...
 *   openlfr compare [--model-set SET] IMAGE_A IMAGE_B   -> cosine, calibrated
 *       likeness (0-100) and the false-match rate at that score by SET's
 *       calibration (match.h, docs/likeness.md), and SET's default threshold
 *
 * SET is the embedder (face.h model sets), by default the one new
 * deployments use (LFR_DEPLOY_DEFAULT_MODEL_SET), so a comparison reads
 * like a deployment's alert: the same vector, the same calibration.
 *
 * One JSON object per image per line with --json, a table otherwise.  An
 * unreadable image gives that image an "error" and the run goes on; the
 * exit code is 1 if any image failed.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "deploy/deploy.h"
#include "face/face.h"
#include "match/match.h"
#include "opt.h"

typedef struct face_run {
    lfr_face_engine *engine;
    lfr_face_ctx *ctx;
} face_run;

int lfr_cli_face_load(lfr_face_engine **engine, lfr_face_ctx **ctx) {
    lfr_err err = {{0}};
    *engine = NULL;
    *ctx = NULL;
    lfr_status st = lfr_face_engine_load(lfr_cli_models_dir(), engine, &err);
    if (st == LFR_OK) st = lfr_face_ctx_new(*engine, ctx);
    if (st != LFR_OK) {
        lfr_face_engine_destroy(*engine);
        *engine = NULL;
        return lfr_cli_fail("loading the face models (run `make setup`?)", st, &err);
    }
    return 0;
}

void lfr_cli_face_unload(lfr_face_engine *engine, lfr_face_ctx *ctx) {
    lfr_face_ctx_destroy(ctx);
    lfr_face_engine_destroy(engine);
}

static int lfr_cli_face_open(face_run *r) { return lfr_cli_face_load(&r->engine, &r->ctx); }

static void lfr_cli_face_close(face_run *r) { lfr_cli_face_unload(r->engine, r->ctx); }

static json_t *round_real(double v, double q) { return json_real(floor(v / q + 0.5) * q); }

static json_t *lfr_cli_face_json(const lfr_face *f, const float *emb, int dim) {
    json_t *o = json_object();
    json_t *box = json_array();
    for (int k = 0; k < 4; k++) json_array_append_new(box, round_real(f->box[k], 0.01));
    json_object_set_new(o, "box", box);
    json_object_set_new(o, "score", round_real(f->score, 1e-5));
    json_object_set_new(o, "onet_score", round_real(f->onet_score, 1e-5));
    json_t *lm = json_array();
    for (int k = 0; k < 5; k++) {
        json_t *pt = json_array();
        json_array_append_new(pt, round_real(f->lm[k][0], 0.01));
        json_array_append_new(pt, round_real(f->lm[k][1], 0.01));
        json_array_append_new(lm, pt);
    }
    json_object_set_new(o, "landmarks", lm);
    json_t *q = json_object();
    json_object_set_new(q, "eye_dist", round_real(f->q.eye_dist, 0.01));
    json_object_set_new(q, "yaw", round_real(f->q.yaw, 0.1));
    json_object_set_new(q, "roll", round_real(f->q.roll, 0.1));
    json_object_set_new(q, "at_edge", json_boolean(f->q.at_edge));
    if (emb) json_object_set_new(q, "sharpness", round_real(f->q.sharpness, 0.1));
    json_object_set_new(o, "quality", q);
    if (emb) {
        json_t *e = json_array();
        for (int k = 0; k < dim; k++) json_array_append_new(e, round_real(emb[k], 1e-6));
        json_object_set_new(o, "embedding", e);
    }
    return o;
}

/* Detects (and with embed, embeds with model set `set`) the faces of one
 * image; returns them as JSON, or an error object.  *emb_out, if given,
 * receives the embeddings, lfr_face_model_set_dim(set) floats a face
 * (caller frees). */
static json_t *lfr_cli_face_image(face_run *r, const char *path, int embed, lfr_face_model_set set,
                                  lfr_status *status, float **emb_out, lfr_face **faces_out,
                                  int *n_out) {
    const int dim = lfr_face_model_set_dim(set);
    json_t *o = json_object();
    json_object_set_new(o, "image", json_string(path));
    lfr_image im = {0};
    lfr_err err = {{0}};
    lfr_face *faces = NULL;
    int n = 0;
    float *emb = NULL;
    lfr_status st = lfr_image_load(path, &im, &err);
    if (st == LFR_OK) st = lfr_face_detect(r->ctx, &im, NULL, &faces, &n, &err);
    if (st == LFR_OK && embed && n > 0) {
        emb = lfr_malloc((size_t)n * (size_t)dim * sizeof(float));
        st = emb ? lfr_face_embed_set(r->ctx, &im, faces, n, set, emb, &err) : LFR_ERR_NOMEM;
    }
    *status = st;
    if (st != LFR_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s%s%s", lfr_status_message(st), err.msg[0] ? ": " : "",
                 err.msg);
        json_object_set_new(o, "error", json_string(msg));
        json_object_set_new(o, "status", json_string(lfr_status_str(st)));
        lfr_free(emb);
        emb = NULL;
        n = 0;
    } else {
        if (embed) json_object_set_new(o, "model_set", json_string(lfr_face_model_set_name(set)));
        json_object_set_new(o, "width", json_integer(im.w));
        json_object_set_new(o, "height", json_integer(im.h));
        json_t *arr = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(arr, lfr_cli_face_json(&faces[i], emb ? emb + (size_t)i * (size_t)dim : NULL, dim));
        json_object_set_new(o, "faces", arr);
    }
    lfr_image_free(&im);
    if (emb_out) *emb_out = emb;
    else lfr_free(emb);
    if (faces_out) *faces_out = faces;
    if (n_out) *n_out = n;
    return o;
}

/* --model-set NAME (NULL: the set new deployments use): 0, or the exit code
 * 2 after naming a bad one. */
static int parse_set(const cli_cmd *cmd, const char *name, lfr_face_model_set *set) {
    if (!name) name = LFR_DEPLOY_DEFAULT_MODEL_SET;
    if (lfr_face_model_set_parse(name, set) == LFR_OK) return 0;
    return cli_usage_error(cmd, "--model-set: '%s' is not mfn192, fused704, fused704v2 or fused704v3",
                           name);
}

/* 0 when the loaded models hold `set`, else 1 after saying what is missing. */
static int have_set(const face_run *r, lfr_face_model_set set) {
    if (lfr_face_engine_has_model_set(r->engine, set)) return 0;
    fprintf(stderr, "openlfr: model set %s needs networks that are not in %s (run `make setup`)\n",
            lfr_face_model_set_name(set), lfr_cli_models_dir());
    return 1;
}

#define MODEL_SET_HELP                                                                      \
    "the embedder: fused704v3 (default: what new deployments use), fused704v2, fused704 or " \
    "mfn192"

static void print_table(const char *path, json_t *o) {
    json_t *e = json_object_get(o, "error");
    if (e) {
        printf("%s: error: %s\n", path, json_string_value(e));
        return;
    }
    json_t *faces = json_object_get(o, "faces");
    printf("%s: %dx%d, %zu face(s)\n", path, (int)json_integer_value(json_object_get(o, "width")),
           (int)json_integer_value(json_object_get(o, "height")), json_array_size(faces));
    size_t i;
    json_t *f;
    json_array_foreach(faces, i, f) {
        json_t *b = json_object_get(f, "box"), *q = json_object_get(f, "quality");
        printf("  #%zu box %.0f,%.0f %.0fx%.0f  score %.3f  onet %.3f  eyes %.0f px  yaw %+.0f  roll %+.0f%s\n",
               i, json_real_value(json_array_get(b, 0)), json_real_value(json_array_get(b, 1)),
               json_real_value(json_array_get(b, 2)), json_real_value(json_array_get(b, 3)),
               json_real_value(json_object_get(f, "score")),
               json_real_value(json_object_get(f, "onet_score")),
               json_real_value(json_object_get(q, "eye_dist")),
               json_real_value(json_object_get(q, "yaw")), json_real_value(json_object_get(q, "roll")),
               json_is_true(json_object_get(q, "at_edge")) ? "  at edge" : "");
    }
}

static int detect_or_embed(int argc, char **argv, int embed) {
    int json = 0, bad = 0;
    const char *list = NULL, *set_txt = NULL;
    cli_list images = {{0}, NULL, 0};
    const cli_opt opts[] = {
        {"list", CLI_STR, 0, "FILE", "also the images named in FILE, one path a line", &list, 0, 0},
        {"model-set", CLI_STR, 0, "SET", MODEL_SET_HELP, &set_txt, 0, 0},
        {"json", CLI_FLAG, 0, NULL, "one JSON object per image per line", &json, 0, 0},
        CLI_END};
    const cli_arg args[] = {{"IMAGE", CLI_LIST, 0, "JPEG or PNG photos", &images, 0, 0},
                            {NULL, CLI_STR, 0, NULL, NULL, 0, 0}};
    const cli_cmd cmd = {embed ? "embed" : "detect",
                         embed ? "find faces and describe each as a unit vector (the model set's)"
                               : "find faces: boxes, landmarks, scores, quality",
                         embed ? opts : opts + 2 /* detect: no --list, no --model-set */, args,
                         "An unreadable image gets an \"error\" and the run goes on; the exit "
                         "code is 1 if any image failed."};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr != CLI_OK) return CLI_EXIT(pr);
    if (images.n == 0 && !list) return cli_usage_error(&cmd, "IMAGE is required");
    lfr_face_model_set set = LFR_FACE_MODEL_MFN192;
    if (embed && (pr = parse_set(&cmd, set_txt, &set))) return pr;
    face_run r;
    if (lfr_cli_face_open(&r)) return 1;
    if (have_set(&r, set)) {
        lfr_cli_face_close(&r);
        return 1;
    }
    FILE *lf = NULL;
    if (list && !(lf = fopen(list, "r"))) {
        fprintf(stderr, "openlfr: cannot open list %s\n", list);
        lfr_cli_face_close(&r);
        return 1;
    }
    char line[4096];
    int ai = 0;
    for (;;) {
        const char *path = NULL;
        if (ai < images.n) path = images.v[ai++];
        if (!path && lf) {
            while (!path && fgets(line, sizeof line, lf)) {
                line[strcspn(line, "\r\n")] = 0;
                if (line[0]) path = line;
            }
        }
        if (!path) break;
        lfr_status st;
        json_t *o = lfr_cli_face_image(&r, path, embed, set, &st, NULL, NULL, NULL);
        if (st != LFR_OK) bad = 1;
        if (json) {
            char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(7));
            if (s) puts(s);
            free(s);
        } else {
            print_table(path, o);
        }
        fflush(stdout);
        json_decref(o);
    }
    if (lf) fclose(lf);
    lfr_cli_face_close(&r);
    return bad;
}

int lfr_cmd_detect(int argc, char **argv) { return detect_or_embed(argc, argv, 0); }
int lfr_cmd_embed(int argc, char **argv) { return detect_or_embed(argc, argv, 1); }

int lfr_cmd_compare(int argc, char **argv) {
    const char *img[2] = {NULL, NULL}, *set_txt = NULL;
    const cli_opt opts[] = {{"model-set", CLI_STR, 0, "SET", MODEL_SET_HELP, &set_txt, 0, 0},
                            CLI_END};
    const cli_arg args[] = {{"IMAGE_A", CLI_STR, 1, "a photo", &img[0], 0, 0},
                            {"IMAGE_B", CLI_STR, 1, "another photo", &img[1], 0, 0},
                            {NULL, CLI_STR, 0, NULL, NULL, 0, 0}};
    const cli_cmd cmd = {"compare",
                         "likeness of the largest faces of two photos, as a deployment reads it",
                         opts, args,
                         "Prints, as JSON, the cosine, the calibrated likeness (0-100) and the "
                         "false-match rate at that score, read with the model set's calibration, "
                         "and the set's default threshold of a deployment (docs/likeness.md)."};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr != CLI_OK) return CLI_EXIT(pr);
    lfr_face_model_set set;
    if ((pr = parse_set(&cmd, set_txt, &set))) return pr;
    const lfr_match_calibration *cal = lfr_match_calibration_named(lfr_face_model_set_name(set));
    if (!cal) {
        fprintf(stderr, "openlfr: compare: no calibration for model set %s\n",
                lfr_face_model_set_name(set));
        return 1;
    }
    face_run r;
    if (lfr_cli_face_open(&r)) return 1;
    if (have_set(&r, set)) {
        lfr_cli_face_close(&r);
        return 1;
    }
    const int dim = lfr_face_model_set_dim(set);
    float *e[2] = {NULL, NULL};
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++) {
        lfr_status st;
        float *emb = NULL;
        int n = 0;
        json_t *o = lfr_cli_face_image(&r, img[k], 1, set, &st, &emb, NULL, &n);
        if (st != LFR_OK) {
            fprintf(stderr, "openlfr: %s: %s\n", img[k],
                    json_string_value(json_object_get(o, "error")));
            rc = 1;
        } else if (n == 0) {
            fprintf(stderr, "openlfr: %s: no face found\n", img[k]);
            rc = 1;
        } else {
            e[k] = emb; /* faces are sorted largest first: the first is the largest */
            emb = NULL;
        }
        lfr_free(emb);
        json_decref(o);
    }
    if (rc == 0) {
        double dot = 0; /* both unit vectors: the cosine */
        for (int d = 0; d < dim; d++) dot += (double)e[0][d] * e[1][d];
        float s = (float)dot;
        json_t *o = json_pack("{s:s, s:s, s:s, s:f, s:f, s:f, s:f}", "a", img[0], "b", img[1],
                              "model_set", lfr_face_model_set_name(set), "cosine",
                              floor(s * 1e6 + 0.5) / 1e6, "likeness",
                              floor(lfr_match_cal_likeness(cal, s) * 10 + 0.5) / 10,
                              "false_match_rate", lfr_match_cal_fmr(cal, s), "default_threshold",
                              (double)lfr_match_cal_default_threshold(cal));
        char *txt = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(7)) : NULL;
        if (txt) puts(txt);
        free(txt);
        json_decref(o);
    }
    lfr_free(e[0]);
    lfr_free(e[1]);
    lfr_cli_face_close(&r);
    return rc;
}
