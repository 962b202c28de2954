/*
 * cmd_eval.c - accuracy measurements of the face engine.
 *
 *   openlfr eval verify --pairs FILE --images DIR [--json]
 *       LFW-format pairs (header "N" or "FOLDS N", then "name i j" or
 *       "name1 i name2 j"; images DIR/name/name_%04d.jpg).  Reports
 *       verification accuracy (10-fold cross-validated threshold when the
 *       header gives folds, else the best single threshold), and TAR at FAR
 *       1e-2/1e-3/1e-4 with the thresholds, over ALL genuine and impostor
 *       pairs formed from every image of the people the pairs file lists.
 *   openlfr eval ident --ids FILE --images DIR [--json]
 *       Lines "file identity" (CelebA identities.txt): the largest face of
 *       each photo against every other, TAR at FAR 1e-2/1e-3/1e-4.
 *   openlfr eval detect --wider-gt FILE --images DIR [--json] [--limit N]
 *       WIDER FACE ground truth: average precision and recall by face
 *       height band at IoU 0.5, false positives per image; faces marked
 *       invalid are ignored (detections on them count neither way).
 *
 * The face used for an identity photo is the detected face nearest the
 * image centre (LFW images are centred on their subject).  Images where no
 * face is found are reported; their pairs score -1 (a rejection).
 * Progress goes to stderr, results to stdout.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "enrol/enrol.h"
#include "face/face.h"
#include "match/match.h"
#include "opt.h"

/* A growable array of strings (person names) with lookup. */
typedef struct {
    char **v;
    int n, cap;
} strset;

static int strset_find(const strset *s, const char *x) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], x)) return i;
    return -1;
}

static int strset_add(strset *s, const char *x) {
    int i = strset_find(s, x);
    if (i >= 0) return i;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = realloc(s->v, sizeof(char *) * (size_t)s->cap);
    }
    s->v[s->n] = strdup(x);
    return s->n++;
}

typedef struct {
    int person, index;       /* image = person's index-th photo */
    float *emb;              /* NULL when no face was found */
} photo;

typedef struct {
    photo *v;
    int n, cap;
} photos;

static int photos_find(photos *p, int person, int index) {
    for (int i = 0; i < p->n; i++)
        if (p->v[i].person == person && p->v[i].index == index) return i;
    return -1;
}

static int photos_add(photos *p, int person, int index) {
    int i = photos_find(p, person, index);
    if (i >= 0) return i;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 1024;
        p->v = realloc(p->v, sizeof(photo) * (size_t)p->cap);
    }
    p->v[p->n] = (photo){person, index, NULL};
    return p->n++;
}

static int embed_center_face(lfr_face_ctx *ctx, const char *path, float *out, lfr_err *err) {
    lfr_image im = {0};
    lfr_status st = lfr_image_load(path, &im, err);
    if (st != LFR_OK) return -1;
    lfr_face *faces;
    int n = 0;
    lfr_face_params p = lfr_face_params_default;
    p.min_face = 10;
    st = lfr_face_detect(ctx, &im, &p, &faces, &n, err);
    int best = st == LFR_OK ? lfr_face_pick_central(faces, n, im.w, im.h) : -1;
    if (st == LFR_OK && best >= 0) st = lfr_face_embed(ctx, &im, &faces[best], 1, out, err);
    lfr_image_free(&im);
    return (st == LFR_OK && best >= 0) ? 0 : -1;
}

static int cmp_float_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

typedef struct {
    float s;
    int same, fold;
} scored;

static double acc_at(const scored *v, int n, float t, int fold, int in_fold) {
    int ok = 0, tot = 0;
    for (int i = 0; i < n; i++) {
        if ((v[i].fold == fold) != in_fold) continue;
        tot++;
        ok += (v[i].s >= t) == v[i].same;
    }
    return tot ? (double)ok / tot : 0;
}

static float best_threshold(const scored *v, int n, int fold, double *acc) {
    float bt = 0;
    double ba = -1;
    for (int i = 0; i < n; i++) {
        if (v[i].fold == fold) continue;
        double a = acc_at(v, n, v[i].s, fold, 0);
        if (a > ba) ba = a, bt = v[i].s;
    }
    *acc = ba;
    return bt;
}

/* TAR at fixed FARs over every genuine and impostor pair of embedded photos. */
#define N_FARS 3
static const double fars[N_FARS] = {1e-2, 1e-3, 1e-4};

typedef struct {
    size_t ng, ni;
    double tar[N_FARS], thr[N_FARS];
} all_pairs;

static void all_pairs_tar(const photos *ph, all_pairs *r) {
    size_t capg = 1 << 16, capi = 1 << 20;
    float *gen = malloc(sizeof(float) * capg), *imp = malloc(sizeof(float) * capi);
    memset(r, 0, sizeof *r);
    for (int i = 0; i < ph->n; i++) {
        if (!ph->v[i].emb) continue;
        for (int j = i + 1; j < ph->n; j++) {
            if (!ph->v[j].emb) continue;
            float s = lfr_face_similarity(ph->v[i].emb, ph->v[j].emb);
            if (ph->v[i].person == ph->v[j].person) {
                if (r->ng == capg) gen = realloc(gen, sizeof(float) * (capg *= 2));
                gen[r->ng++] = s;
            } else {
                if (r->ni == capi) imp = realloc(imp, sizeof(float) * (capi *= 2));
                imp[r->ni++] = s;
            }
        }
    }
    qsort(imp, r->ni, sizeof(float), cmp_float_desc);
    for (int k = 0; k < N_FARS; k++) {
        size_t idx = (size_t)floor(fars[k] * (double)r->ni);
        if (idx >= r->ni) continue;
        float t = imp[idx]; /* accept s > t: at most fars[k] of impostors */
        size_t acc_n = 0;
        for (size_t g = 0; g < r->ng; g++) acc_n += gen[g] > t;
        r->tar[k] = r->ng ? (double)acc_n / r->ng : 0;
        r->thr[k] = t;
    }
    free(gen);
    free(imp);
}

static json_t *all_pairs_json(const all_pairs *r) {
    json_t *ta = json_array();
    for (int k = 0; k < N_FARS; k++)
        json_array_append_new(ta, json_pack("{s:f, s:f, s:f}", "far", fars[k], "tar", r->tar[k],
                                            "threshold", r->thr[k]));
    return ta;
}

static void all_pairs_print(const all_pairs *r) {
    printf("all pairs: %zu genuine, %zu impostor\n", r->ng, r->ni);
    for (int k = 0; k < N_FARS; k++)
        printf("TAR at FAR %.0e: %.2f %% (threshold %.4f)\n", fars[k], r->tar[k] * 100, r->thr[k]);
}

/* `eval ident --ids FILE --images DIR`: lines "file identity"; the largest
 * face of each photo is its probe (whole scenes, several people). */
static int cmd_ident(int argc, char **argv) {
    const char *ids = NULL, *dir = NULL;
    int json = 0;
    const cli_opt opts[] = {
        {"ids", CLI_STR, 1, "FILE", "lines \"file identity\"", &ids, 0, 0},
        {"images", CLI_STR, 1, "DIR", "where the files are", &dir, 0, 0},
        {"json", CLI_FLAG, 0, NULL, "print the result as JSON", &json, 0, 0},
        CLI_END};
    const cli_cmd cmd = {"eval ident", "identification accuracy on whole scenes (largest face)",
                         opts, NULL, NULL};
    int parsed = cli_parse(&cmd, argc, argv);
    if (parsed != CLI_OK) return CLI_EXIT(parsed);
    FILE *f = fopen(ids, "r");
    if (!f) {
        fprintf(stderr, "openlfr: cannot open %s\n", ids);
        return 1;
    }
    lfr_face_engine *eng = NULL;
    lfr_face_ctx *ctx = NULL;
    lfr_err err = {{0}};
    if (lfr_cli_face_load(&eng, &ctx)) {
        fclose(f);
        return 1;
    }
    strset people = {0};
    photos ph = {0};
    float *embs = NULL;
    int noface = 0, cap = 0;
    char line[1024], file[512], who[256], path[4096];
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%511s %255s", file, who) != 2) continue;
        if (ph.n == cap) {
            cap = cap ? cap * 2 : 256;
            embs = realloc(embs, sizeof(float) * LFR_FACE_EMB_DIM * (size_t)cap);
        }
        int i = ph.n;
        photos_add(&ph, strset_add(&people, who), i);
        snprintf(path, sizeof path, "%s/%s", dir, file);
        lfr_image im = {0};
        lfr_face *faces;
        int n = 0;
        if (lfr_image_load(path, &im, &err) == LFR_OK &&
            lfr_face_detect(ctx, &im, NULL, &faces, &n, &err) == LFR_OK && n > 0 &&
            lfr_face_embed(ctx, &im, faces, 1, embs + (size_t)i * LFR_FACE_EMB_DIM, &err) == LFR_OK)
            ph.v[i].index = -1; /* marks "embedded"; pointers set once embs stops moving */
        else
            noface++;
        lfr_image_free(&im);
    }
    fclose(f);
    for (int i = 0; i < ph.n; i++)
        if (ph.v[i].index == -1) ph.v[i].emb = embs + (size_t)i * LFR_FACE_EMB_DIM;
    all_pairs ap;
    all_pairs_tar(&ph, &ap);
    if (json) {
        json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:I, s:I}", "ids", ids, "photos", ph.n,
                              "people", people.n, "no_face", noface, "genuine_pairs",
                              (json_int_t)ap.ng, "impostor_pairs", (json_int_t)ap.ni);
        json_object_set_new(o, "tar_at_far", all_pairs_json(&ap));
        char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
        puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("photos %d, people %d, no face %d (largest face as probe)\n", ph.n, people.n, noface);
        all_pairs_print(&ap);
    }
    free(embs);
    for (int i = 0; i < people.n; i++) free(people.v[i]);
    free(people.v);
    free(ph.v);
    lfr_cli_face_unload(eng, ctx);
    return 0;
}

static char *photo_path(const char *dir, const char *name, int idx, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%s/%s_%04d.jpg", dir, name, name, idx);
    return buf;
}

static int cmd_verify(int argc, char **argv) {
    const char *pairs = NULL, *dir = NULL;
    int json = 0;
    const cli_opt opts[] = {
        {"pairs", CLI_STR, 1, "FILE", "LFW pairs.txt (10 folds)", &pairs, 0, 0},
        {"images", CLI_STR, 1, "DIR", "LFW images/", &dir, 0, 0},
        {"json", CLI_FLAG, 0, NULL, "print the result as JSON", &json, 0, 0},
        CLI_END};
    const cli_cmd cmd = {"eval verify", "verification accuracy on LFW pairs", opts, NULL, NULL};
    int parsed = cli_parse(&cmd, argc, argv);
    if (parsed != CLI_OK) return CLI_EXIT(parsed);
    FILE *f = fopen(pairs, "r");
    if (!f) {
        fprintf(stderr, "openlfr: cannot open %s\n", pairs);
        return 1;
    }
    char line[1024];
    int folds = 1, per = 0;
    if (!fgets(line, sizeof line, f) || sscanf(line, "%d %d", &folds, &per) < 1) {
        fprintf(stderr, "openlfr: %s: bad header\n", pairs);
        fclose(f);
        return 1;
    }
    if (per == 0) per = folds, folds = 1;
    strset people = {0};
    photos ph = {0};
    int (*pr)[3] = NULL; /* photo a, photo b, same */
    int npairs = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        char a[256], b[256];
        int i, j;
        int k = sscanf(line, "%255s %d %255s %d", a, &i, b, &j);
        int same;
        if (k == 3 && sscanf(line, "%255s %d %d", a, &i, &j) == 3) same = 1, strcpy(b, a);
        else if (k == 4) same = 0;
        else continue;
        if (npairs == cap) {
            cap = cap ? cap * 2 : 1024;
            pr = realloc(pr, sizeof *pr * (size_t)cap);
        }
        int pa = strset_add(&people, a), pb = strset_add(&people, b);
        pr[npairs][0] = photos_add(&ph, pa, i);
        pr[npairs][1] = photos_add(&ph, pb, j);
        pr[npairs][2] = same;
        npairs++;
    }
    fclose(f);
    /* Every photo of every listed person, for the all-pairs TAR/FAR. */
    char path[4096];
    for (int p = 0; p < people.n; p++)
        for (int idx = 1; idx < 10000; idx++) {
            struct stat st;
            if (stat(photo_path(dir, people.v[p], idx, path, sizeof path), &st) != 0) break;
            photos_add(&ph, p, idx);
        }
    lfr_face_engine *eng = NULL;
    lfr_face_ctx *ctx = NULL;
    lfr_err err = {{0}};
    if (lfr_cli_face_load(&eng, &ctx)) {
        return 1;
    }
    float *embs = malloc(sizeof(float) * LFR_FACE_EMB_DIM * (size_t)ph.n);
    int noface = 0;
    uint64_t t0 = lfr_now_ns();
    for (int i = 0; i < ph.n; i++) {
        float *e = embs + (size_t)i * LFR_FACE_EMB_DIM;
        photo_path(dir, people.v[ph.v[i].person], ph.v[i].index, path, sizeof path);
        if (embed_center_face(ctx, path, e, &err) == 0) ph.v[i].emb = e;
        else noface++;
        if ((i + 1) % 500 == 0 || i + 1 == ph.n)
            fprintf(stderr, "eval verify: %d/%d photos embedded (%.1f/s), %d without a face\n",
                    i + 1, ph.n, (i + 1) / ((lfr_now_ns() - t0) / 1e9), noface);
    }
    /* Protocol accuracy. */
    scored *sv = malloc(sizeof *sv * (size_t)(npairs ? npairs : 1));
    int fold_size = (npairs + folds - 1) / folds;
    for (int i = 0; i < npairs; i++) {
        const photo *a = &ph.v[pr[i][0]], *b = &ph.v[pr[i][1]];
        sv[i].s = (a->emb && b->emb) ? lfr_face_similarity(a->emb, b->emb) : -1;
        sv[i].same = pr[i][2];
        sv[i].fold = folds > 1 ? i / fold_size : 0;
    }
    double acc = 0, sd = 0, accs[64];
    float thr = 0;
    if (folds > 1) {
        for (int k = 0; k < folds && k < 64; k++) {
            double train;
            float t = best_threshold(sv, npairs, k, &train);
            accs[k] = acc_at(sv, npairs, t, k, 1);
            acc += accs[k] / folds;
            thr += t / folds;
        }
        for (int k = 0; k < folds && k < 64; k++) sd += (accs[k] - acc) * (accs[k] - acc) / folds;
        sd = sqrt(sd);
    } else {
        thr = best_threshold(sv, npairs, -1, &acc);
    }
    all_pairs ap;
    all_pairs_tar(&ph, &ap);
    json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:I, s:I}", "pairs", pairs,
                          "n_pairs", npairs, "folds", folds, "photos", ph.n, "no_face", noface,
                          "accuracy", acc, "accuracy_sd", sd, "threshold", thr, "genuine_pairs",
                          (json_int_t)ap.ng, "impostor_pairs", (json_int_t)ap.ni);
    json_object_set_new(o, "tar_at_far", all_pairs_json(&ap));
    if (json) {
        char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
        puts(s);
        free(s);
    } else {
        printf("pairs %d (%d fold%s), photos %d, no face %d\n", npairs, folds,
               folds > 1 ? "s" : "", ph.n, noface);
        printf("accuracy %.2f %% (sd %.2f) at threshold %.4f\n", acc * 100, sd * 100, thr);
        all_pairs_print(&ap);
    }
    json_decref(o);
    free(sv);
    free(embs);
    free(pr);
    for (int i = 0; i < people.n; i++) free(people.v[i]);
    free(people.v);
    free(ph.v);
    lfr_cli_face_unload(eng, ctx);
    return 0;
}

/* WIDER ----------------------------------------------------------------- */

#define N_BANDS 5
static const float band_lo[N_BANDS] = {10, 20, 40, 80, 200};
static const float band_hi[N_BANDS] = {20, 40, 80, 200, 1e9f};

static int band_of(float h) {
    for (int b = 0; b < N_BANDS; b++)
        if (h >= band_lo[b] && h < band_hi[b]) return b;
    return -1;
}

typedef struct {
    float score;
    int band_det;   /* band of the detection's own height */
    int matched;    /* -1 none, else band of the matched valid GT; -2 invalid GT */
} det_rec;

static float iou_xywh(const float *a, const float *b) {
    float ix = fminf(a[0] + a[2], b[0] + b[2]) - fmaxf(a[0], b[0]);
    float iy = fminf(a[1] + a[3], b[1] + b[3]) - fmaxf(a[1], b[1]);
    if (ix <= 0 || iy <= 0) return 0;
    float in = ix * iy;
    return in / (a[2] * a[3] + b[2] * b[3] - in);
}

static int cmp_det(const void *a, const void *b) {
    float x = ((const det_rec *)a)->score, y = ((const det_rec *)b)->score;
    return (x < y) - (x > y);
}

static int cmd_detect_eval(int argc, char **argv) {
    const char *gt = NULL, *dir = NULL;
    int json = 0;
    int64_t limit = 1 << 30;
    const cli_opt opts[] = {
        {"wider-gt", CLI_STR, 1, "FILE", "WIDER FACE ground truth (wider_face_val_bbx_gt.txt)", &gt,
         0, 0},
        {"images", CLI_STR, 1, "DIR", "WIDER images/", &dir, 0, 0},
        {"limit", CLI_INT, 0, "N", "at most N images", &limit, 1, 1 << 30},
        {"json", CLI_FLAG, 0, NULL, "print the result as JSON", &json, 0, 0},
        CLI_END};
    const cli_cmd cmd = {"eval detect", "detection precision/recall on WIDER FACE", opts, NULL,
                         NULL};
    int parsed = cli_parse(&cmd, argc, argv);
    if (parsed != CLI_OK) return CLI_EXIT(parsed);
    FILE *f = fopen(gt, "r");
    if (!f) {
        fprintf(stderr, "openlfr: cannot open %s\n", gt);
        return 1;
    }
    lfr_face_engine *eng = NULL;
    lfr_face_ctx *ctx = NULL;
    lfr_err err = {{0}};
    if (lfr_cli_face_load(&eng, &ctx)) {
        fclose(f);
        return 1;
    }
    lfr_face_params p = lfr_face_params_default;
    p.det_thresh = 0.3f;  /* low thresholds: AP integrates over scores */
    p.onet_thresh = 0.3f;
    p.min_face = 8;
    p.max_faces = 1000;
    det_rec *dets = NULL;
    size_t nd = 0, capd = 0;
    int npos[N_BANDS] = {0}, ntp_op[N_BANDS] = {0}, fp_op = 0, images = 0, missing = 0;
    char name[1024], path[4096], line[256];
    while (images < limit && fgets(name, sizeof name, f)) {
        name[strcspn(name, "\r\n")] = 0;
        if (!name[0]) continue;
        int n = 0;
        if (!fgets(line, sizeof line, f) || sscanf(line, "%d", &n) != 1 || n < 0 || n > 100000) break;
        int rows = n ? n : 1;
        float (*g)[4] = malloc(sizeof *g * (size_t)rows);
        int *valid = malloc(sizeof(int) * (size_t)rows);
        for (int k = 0; k < rows; k++) {
            int v[10] = {0};
            if (!fgets(line, sizeof line, f)) break;
            sscanf(line, "%d %d %d %d %d %d %d %d %d %d", &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7], &v[8], &v[9]);
            g[k][0] = (float)v[0], g[k][1] = (float)v[1], g[k][2] = (float)v[2], g[k][3] = (float)v[3];
            valid[k] = k < n && v[7] == 0 && v[2] > 0 && v[3] > 0;
        }
        snprintf(path, sizeof path, "%s/%s", dir, name);
        lfr_image im = {0};
        if (lfr_image_load(path, &im, &err) != LFR_OK) {
            missing++;
            free(g);
            free(valid);
            continue;
        }
        images++;
        lfr_face *faces;
        int nf = 0;
        lfr_face_detect(ctx, &im, &p, &faces, &nf, &err);
        for (int k = 0; k < n; k++)
            if (valid[k] && band_of(g[k][3]) >= 0) npos[band_of(g[k][3])]++;
        /* Greedy matching, best score first (faces are sorted by area). */
        int *order = malloc(sizeof(int) * (size_t)(nf ? nf : 1));
        for (int i = 0; i < nf; i++) order[i] = i;
        for (int i = 1; i < nf; i++) {
            int v = order[i], j = i - 1;
            while (j >= 0 && faces[order[j]].onet_score < faces[v].onet_score) order[j + 1] = order[j], j--;
            order[j + 1] = v;
        }
        int *taken = calloc((size_t)rows, sizeof(int));
        for (int oi = 0; oi < nf; oi++) {
            const lfr_face *fc = &faces[order[oi]];
            int best = -1;
            float bi = 0.5f;
            for (int k = 0; k < n; k++) {
                if (taken[k]) continue;
                float v = iou_xywh(fc->box, g[k]);
                if (v >= bi) bi = v, best = k;
            }
            if (nd == capd) dets = realloc(dets, sizeof *dets * (capd = capd ? capd * 2 : 4096));
            det_rec *d = &dets[nd++];
            d->score = fc->onet_score;
            d->band_det = band_of(fc->box[3]);
            if (best < 0) d->matched = -1;
            else {
                taken[best] = 1;
                d->matched = valid[best] ? band_of(g[best][3]) : -2;
            }
            int op = fc->onet_score > lfr_face_params_default.onet_thresh &&
                     fc->score > lfr_face_params_default.det_thresh;
            if (op && d->matched >= 0) ntp_op[d->matched]++;
            if (op && d->matched == -1) fp_op++;
        }
        free(taken);
        free(order);
        free(g);
        free(valid);
        lfr_image_free(&im);
        if (images % 50 == 0) fprintf(stderr, "eval detect: %d images\n", images);
    }
    fclose(f);
    qsort(dets, nd, sizeof *dets, cmp_det);
    double ap[N_BANDS];
    json_t *bands = json_array();
    for (int b = 0; b < N_BANDS; b++) {
        /* Precision/recall over detections relevant to band b. */
        int tp = 0, fp = 0;
        double area = 0, prev_r = 0;
        size_t nrel = 0;
        double *prec = malloc(sizeof(double) * (nd + 1)), *rec = malloc(sizeof(double) * (nd + 1));
        for (size_t i = 0; i < nd; i++) {
            if (dets[i].matched == b) tp++;
            else if (dets[i].matched == -1 && dets[i].band_det == b) fp++;
            else continue;
            prec[nrel] = (double)tp / (tp + fp);
            rec[nrel] = npos[b] ? (double)tp / npos[b] : 0;
            nrel++;
        }
        /* All-point interpolated AP. */
        for (size_t i = nrel; i-- > 1;)
            if (prec[i - 1] < prec[i]) prec[i - 1] = prec[i];
        for (size_t i = 0; i < nrel; i++) {
            area += (rec[i] - prev_r) * prec[i];
            prev_r = rec[i];
        }
        ap[b] = area;
        free(prec);
        free(rec);
        json_array_append_new(bands, json_pack("{s:f, s:f, s:i, s:f, s:f}", "min_height",
                                               band_lo[b], "max_height", band_hi[b] > 1e8 ? -1.0 : band_hi[b],
                                               "faces", npos[b], "ap", ap[b], "recall",
                                               npos[b] ? (double)ntp_op[b] / npos[b] : 0));
    }
    int pos_40_200 = npos[2] + npos[3];
    double ap_40_200 = pos_40_200 ? (ap[2] * npos[2] + ap[3] * npos[3]) / pos_40_200 : 0;
    json_t *o = json_pack("{s:i, s:i, s:o, s:f, s:f}", "images", images, "missing", missing,
                          "bands", bands, "ap_40_200", ap_40_200, "fp_per_image",
                          images ? (double)fp_op / images : 0);
    if (json) {
        char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(5));
        puts(s);
        free(s);
    } else {
        printf("images %d (missing %d), false positives per image %.3f at the default thresholds\n",
               images, missing, images ? (double)fp_op / images : 0);
        printf("%-12s %6s %7s %7s\n", "height", "faces", "AP", "recall");
        for (int b = 0; b < N_BANDS; b++) {
            char lbl[32];
            if (band_hi[b] > 1e8) snprintf(lbl, sizeof lbl, ">=%.0f", band_lo[b]);
            else snprintf(lbl, sizeof lbl, "%.0f-%.0f", band_lo[b], band_hi[b]);
            printf("%-12s %6d %7.3f %7.3f\n", lbl, npos[b], ap[b],
                   npos[b] ? (double)ntp_op[b] / npos[b] : 0);
        }
        printf("AP 40-200 px (face-weighted): %.3f\n", ap_40_200);
    }
    json_decref(o);
    free(dets);
    lfr_cli_face_unload(eng, ctx);
    return 0;
}

/* `eval watchlist --lfw DIR [--enrolled N] [--non-enrolled M] [--threshold T]`:
 * open-set identification the NIST/NPL way.  N people with 2+ photos are
 * enrolled from their first photo that passes enrolment quality control;
 * every other photo of them (at most 5 each) is a mated probe; one photo
 * each of M people with a single photo (never enrolled) is a non-mated
 * probe.  FNIR: mated probes whose own entry is not returned at or above
 * the threshold.  FPIR: non-mated probes that return any entry. */
static int cmd_watchlist_eval(int argc, char **argv) {
    const char *dir = NULL;
    int64_t n_enrol = 1000, n_non = 2000;
    int json = 0;
    double thr_d = LFR_MATCH_DEFAULT_THRESHOLD;
    const cli_opt opts[] = {
        {"lfw", CLI_STR, 1, "DIR", "LFW: holds people.txt and images/", &dir, 0, 0},
        {"enrolled", CLI_INT, 0, "N", "people enrolled (default 1000)", &n_enrol, 1, 100000},
        {"non-enrolled", CLI_INT, 0, "M", "people never enrolled (default 2000)", &n_non, 0, 100000},
        {"threshold", CLI_REAL, 0, "T", "alert threshold (cosine)", &thr_d, 0, 0},
        {"json", CLI_FLAG, 0, NULL, "print the result as JSON", &json, 0, 0},
        CLI_END};
    const cli_cmd cmd = {"eval watchlist", "open-set identification: FNIR and FPIR on LFW", opts,
                         NULL, NULL};
    int parsed = cli_parse(&cmd, argc, argv);
    if (parsed != CLI_OK) return CLI_EXIT(parsed);
    float thr = (float)thr_d;
    char path[4096], line[512], name[256];
    snprintf(path, sizeof path, "%s/people.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "openlfr: cannot open %s\n", path);
        return 1;
    }
    lfr_face_engine *eng = NULL;
    lfr_face_ctx *ctx = NULL;
    lfr_err err = {{0}};
    lfr_status st = LFR_OK;
    if (lfr_cli_face_load(&eng, &ctx)) {
        fclose(f);
        return 1;
    }
    size_t cap_t = (size_t)n_enrol, cap_p = 1024, nt = 0, np = 0;
    float *tmpl = malloc(sizeof(float) * LFR_FACE_EMB_DIM * cap_t);
    int64_t *tid = malloc(sizeof(int64_t) * cap_t);
    float *probe = malloc(sizeof(float) * LFR_FACE_EMB_DIM * cap_p);
    int64_t *pid = malloc(sizeof(int64_t) * cap_p); /* entry id, or -1 non-mated */
    int enrolled = 0, fte = 0, non = 0, no_face = 0, person = 0;
    uint64_t t0 = lfr_now_ns();
    while (fgets(line, sizeof line, f) && (enrolled < n_enrol || non < n_non)) {
        int count = 0;
        if (sscanf(line, "%255s %d", name, &count) != 2) continue;
        person++;
        if (count >= 2 && enrolled < n_enrol) {
            int got = 0, first = 0;
            for (int k = 1; k <= count && !got; k++) {
                snprintf(path, sizeof path, "%s/images/%s/%s_%04d.jpg", dir, name, name, k);
                uint8_t *buf;
                size_t len;
                if (lfr_read_file(path, LFR_MAX_IMAGE_BYTES, &buf, &len) != LFR_OK) continue;
                lfr_enrol_result r;
                if (lfr_enrol_assess(ctx, buf, len, NULL, &r, &err) == LFR_OK &&
                    r.reject == LFR_ENROL_NONE) {
                    memcpy(tmpl + nt * LFR_FACE_EMB_DIM, r.tmpl, sizeof r.tmpl);
                    tid[nt++] = person;
                    got = 1;
                    first = k;
                }
                lfr_free(buf);
            }
            if (!got) {
                fte++;
                continue;
            }
            enrolled++;
            for (int k = 1, used = 0; k <= count && used < 5; k++) {
                if (k == first) continue;
                snprintf(path, sizeof path, "%s/images/%s", dir, name);
                snprintf(path + strlen(path), sizeof path - strlen(path), "/%s_%04d.jpg", name, k);
                if (np == cap_p) {
                    cap_p *= 2;
                    probe = realloc(probe, sizeof(float) * LFR_FACE_EMB_DIM * cap_p);
                    pid = realloc(pid, sizeof(int64_t) * cap_p);
                }
                if (embed_center_face(ctx, path, probe + np * LFR_FACE_EMB_DIM, &err) == 0) {
                    pid[np++] = person;
                    used++;
                } else {
                    no_face++;
                }
            }
        } else if (count == 1 && non < n_non) {
            snprintf(path, sizeof path, "%s/images/%s/%s_0001.jpg", dir, name, name);
            if (np == cap_p) {
                cap_p *= 2;
                probe = realloc(probe, sizeof(float) * LFR_FACE_EMB_DIM * cap_p);
                pid = realloc(pid, sizeof(int64_t) * cap_p);
            }
            if (embed_center_face(ctx, path, probe + np * LFR_FACE_EMB_DIM, &err) == 0) {
                pid[np++] = -1;
                non++;
            } else {
                no_face++;
            }
        }
        if (person % 200 == 0)
            fprintf(stderr, "eval watchlist: %d enrolled, %zu probes (%.0f s)\n", enrolled, np,
                    (lfr_now_ns() - t0) / 1e9);
    }
    fclose(f);
    lfr_match_snapshot *snap = NULL;
    st = lfr_match_snapshot_build(LFR_FACE_EMB_DIM, nt, tmpl, tid, NULL, &snap);
    if (st != LFR_OK) return lfr_cli_fail("building the watchlist", st, NULL);
    static const float thrs[] = {0.40f, 0.4646f, 0.50f, 0.5629f, 0.60f, 0.65f, 0.70f, 0.75f};
    enum { NT = sizeof thrs / sizeof thrs[0] };
    int mated = 0, nonmated = 0, miss[NT + 1] = {0}, fp[NT + 1] = {0}, wrong[NT + 1] = {0};
    lfr_match_hit *hits = malloc(sizeof *hits * (nt ? nt : 1));
    uint64_t ts = lfr_now_ns();
    for (size_t i = 0; i < np; i++) {
        int nh = 0;
        /* One search at the lowest threshold answers every threshold. */
        lfr_match_search(snap, probe + i * LFR_FACE_EMB_DIM, 0.0f, hits, (int)nt, &nh);
        if (pid[i] >= 0) mated++;
        else nonmated++;
        for (int k = 0; k <= NT; k++) {
            float t = k < NT ? thrs[k] : thr;
            int found = 0, other = 0;
            for (int h = 0; h < nh && hits[h].score >= t; h++) {
                if (hits[h].entry_id == pid[i]) found = 1;
                else other = 1;
            }
            if (pid[i] >= 0) {
                miss[k] += !found;
                wrong[k] += other;
            } else {
                fp[k] += other;
            }
        }
    }
    double search_us = np ? (lfr_now_ns() - ts) / 1e3 / np : 0;
    json_t *rows = json_array();
    if (!json)
        printf("watchlist %d people (%d failed enrolment QC), %d mated probes, %d non-mated probes, "
               "%d photos without a face\n%-10s %-10s %-8s %-8s %-14s %s\n",
               enrolled, fte, mated, nonmated, no_face, "threshold", "likeness", "FNIR", "FPIR",
               "FPIR expected", "mated probes alerting on someone else");
    for (int k = 0; k <= NT; k++) {
        float t = k < NT ? thrs[k] : thr;
        double fnir = mated ? (double)miss[k] / mated : 0, fpir = nonmated ? (double)fp[k] / nonmated : 0;
        double expect = lfr_match_fpir(t, nt);
        json_array_append_new(rows, json_pack("{s:f, s:f, s:f, s:f, s:f, s:i, s:b}", "threshold", t,
                                              "likeness", lfr_match_likeness(t), "fnir", fnir,
                                              "fpir", fpir, "fpir_expected", expect,
                                              "mated_wrong_entry", wrong[k], "default", k == NT));
        if (!json)
            printf("%-10.4f %-10.1f %-8.4f %-8.4f %-14.4f %d%s\n", t, lfr_match_likeness(t), fnir,
                   fpir, expect, wrong[k], k == NT ? "   <- default threshold" : "");
    }
    if (json) {
        json_t *o = json_pack("{s:i, s:i, s:i, s:i, s:i, s:f, s:o}", "enrolled", enrolled,
                              "failed_enrolment", fte, "mated_probes", mated,
                              "non_mated_probes", nonmated, "no_face", no_face,
                              "search_us_per_probe", search_us, "thresholds", rows);
        char *txt = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
        puts(txt);
        free(txt);
        json_decref(o);
    } else {
        json_decref(rows);
        printf("search: %.1f us per probe over %zu templates\n", search_us, nt);
    }
    lfr_match_snapshot_unref(snap);
    free(hits);
    free(tmpl);
    free(tid);
    free(probe);
    free(pid);
    lfr_cli_face_unload(eng, ctx);
    return 0;
}

int lfr_cmd_eval(int argc, char **argv) {
    static const cli_sub subs[] = {
        {"verify", cmd_verify, "verification accuracy on LFW pairs"},
        {"detect", cmd_detect_eval, "detection precision/recall on WIDER FACE"},
        {"ident", cmd_ident, "identification accuracy on whole scenes"},
        {"watchlist", cmd_watchlist_eval, "open-set identification: FNIR and FPIR on LFW"},
        {NULL, NULL, NULL}};
    return cli_dispatch("eval", subs, argc, argv);
}
