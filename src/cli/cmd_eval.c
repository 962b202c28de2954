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
 *   openlfr eval watchlist --lfw DIR [--enrolled N] [--non-enrolled M]
 *       One watchlist: FNIR and FPIR at fixed thresholds (below).
 *   openlfr eval openset --lfw DIR [--utkface DIR] [--celeba DIR] [--sizes L]
 *       [--model-set L] [--images-per-entry K] [--entry-template best|mean|qmean|union|both|all]
 *       NIST FRVT 1:N style: FNIR at FPIR 1e-2/1e-3/1e-4 for several
 *       gallery sizes, disjoint galleries pooled (protocol: at the code).
 *
 * The face used for an identity photo is the detected face nearest the
 * image centre (LFW images are centred on their subject).  Images where no
 * face is found are reported; their pairs score -1 (a rejection).
 * Progress goes to stderr, results to stdout.
 */
#include <dirent.h>
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
                    memcpy(tmpl + nt * LFR_FACE_EMB_DIM, r.tmpl, sizeof(float) * LFR_FACE_EMB_DIM);
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
        /* One search at the lowest threshold answers every threshold; in
         * float32: at threshold 0 the int8 scan would re-score most rows. */
        lfr_match_search_prec(snap, LFR_MATCH_IMPL_AUTO, LFR_MATCH_PREC_FP32,
                              probe + i * LFR_FACE_EMB_DIM, 1, 0.0f, hits, (int)nt, &nh, NULL);
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

/* `eval openset`: open-set identification the NIST FRVT 1:N / NPL way ------
 *
 * Enrolment: each LFW person with 2+ photos (people.txt order) is enrolled
 * from the first K photos that enrolment quality control (lfr_enrol_assess)
 * grades "accept" - or also "accept with warnings" under --accept-warnings,
 * as when the enrolling officer accepts the warnings (K =
 * --images-per-entry, default 1); the template is the embedding (model
 * set) of the face the assessment looked at.  The first photo's grade
 * gives the enrolment acceptance rate.  Every processed photo also
 * gets a probe embedding: the face nearest the centre (min face 10 px).
 * Each photo is read, detected and embedded once per model set; every
 * gallery below is built from these cached embeddings.
 *
 * Galleries: the accepted people, in a fixed shuffled order (--seed), cut
 * into floor(A / N) disjoint galleries of N people for each size N
 * ("max": one gallery of all A).  Searches against gallery g:
 *   mated      the enrolled people's other photos (at most --mated-per-person
 *              each), against their own gallery; a photo without a face is
 *              a miss at every threshold (NIST counts failures to extract);
 *   non-mated  every photo of someone not in g: the other galleries' and
 *              the unlisted LFW people with 2+ photos (their enrolment
 *              photos too), LFW people with one photo, UTKFace chips and
 *              CelebA photos; a photo without a face is left out (it could
 *              not alert, and counting it would flatter FPIR).
 * Searches of all galleries of one size are pooled.  The score of an entry
 * is the best over its images (--entry-template best, what the matcher
 * did before), the cosine with the normalised mean of its images (mean),
 * with the mean weighted by each image's enrolment quality (qmean:
 * os_quality_weight), or the max of best and mean (union: every image and
 * the mean are templates).  "both" runs best and mean, "all" every kind.
 *   FNIR(T)  mated searches whose own entry does not score above T (other
 *            entries above T are counted apart: "mated searches alerting on
 *            someone else");
 *   FPIR(T)  non-mated searches whose best entry scores above T.
 * For a target FPIR f the threshold T is read from the non-mated searches'
 * best scores: the floor(f n)-th highest (0-based), so that at most f n
 * searches score above it.  A figure needs about 10 / f non-mated searches
 * (10 false alerts at T): with fewer but at least 1 / f it is shown as
 * rough, with fewer than 1 / f it is not measurable; pooled galleries search
 * the same photo several times, so it is also rough when fewer than 10
 * DISTINCT photos score above T.
 *
 * --draws R cuts the shuffled people into galleries R times, each time in a
 * new order (draw 0 is the single cut above), and pools every draw: FPIR
 * and FNIR then average over R random watchlists of each size.  It gives a
 * size whose single gallery has too few non-mated searches more of them,
 * but no new photos: "rough" counts distinct photos for that reason.
 *
 * --truth FILE corrects the data set's labels, as NIST adjudicates its
 * ground truth: "same A B" says the labels A and B name one person, and
 * "image DIR/FILE NAME" that the LFW photo images/DIR/FILE shows NAME.  A
 * search of a photo against a gallery holding an entry of the same person
 * under another label is then no comparison of different people: it is
 * dropped from the non-mated searches of that gallery (counted), and that
 * entry does not count as someone else's alert in a mated search.
 * Enrolment photos and mated searches are not relabelled: a relabelled
 * photo of an enrolled person stays that person's mated search.  At most
 * OS_MAX_ALIAS entries per photo are recognised (a person under five or
 * more other labels would count against the rest).  docs/lfw-truth.txt is
 * LFW's.
 *
 * --score-norm measures score normalisation (issue 11), which the matcher
 * does not do: tnorm divides each score's distance from the mean of the
 * probe's scores against the gallery searched by their standard deviation;
 * znorm does the same with each entry's cosines against the other entries
 * of its gallery (entries as normalised means of their images).  The
 * thresholds are then in standard deviations, and the fixed-threshold
 * lines (--threshold, the sweep) do not apply. */

#define OS_NORM_LIST(X)                                                                    \
    X(NONE, "none", "cosines as the matcher scores them")                                 \
    X(T, "tnorm", "per probe: (s - mean) / sd of its scores against the gallery")         \
    X(Z, "znorm", "per entry: (s - mean) / sd of its cosines with the gallery's others")

enum {
#define OS_NORM_ENUM(id, name, what) OS_NORM_##id,
    OS_NORM_LIST(OS_NORM_ENUM)
#undef OS_NORM_ENUM
    OS_N_NORMS
};

static const char *const os_norm_name[OS_N_NORMS] = {
#define OS_NORM_NAME(id, name, what) name,
    OS_NORM_LIST(OS_NORM_NAME)
#undef OS_NORM_NAME
};

#define OS_SOURCE_LIST(X)                                                                  \
    X(LFW2, "lfw-2plus", "LFW people with 2+ photos not in the gallery searched")          \
    X(LFW1, "lfw-1", "LFW people with one photo (never enrolled)")                         \
    X(UTK, "utkface", "UTKFace 200x200 chips (no identities, never enrolled)")             \
    X(CELEBA, "celeba", "CelebA in-the-wild photos (face nearest the centre)")

typedef enum {
#define OS_SRC_ENUM(id, name, what) OS_SRC_##id,
    OS_SOURCE_LIST(OS_SRC_ENUM)
#undef OS_SRC_ENUM
    OS_N_SOURCES
} os_source;

static const char *const os_source_name[OS_N_SOURCES] = {
#define OS_SRC_NAME(id, name, what) name,
    OS_SOURCE_LIST(OS_SRC_NAME)
#undef OS_SRC_NAME
};

#define OS_TEMPLATE_LIST(X)                                                                \
    X(BEST, "best", "best score over the entry's images (the matcher today)")              \
    X(MEAN, "mean", "cosine with the normalised mean of the entry's images")              \
    X(QMEAN, "qmean", "the mean weighted by enrolment quality (os_quality_weight)")       \
    X(UNION, "union", "every image and the mean template: the max of best and mean")

enum {
#define OS_TMPL_ENUM(id, name, what) OS_TMPL_##id,
    OS_TEMPLATE_LIST(OS_TMPL_ENUM)
#undef OS_TMPL_ENUM
    OS_N_TEMPLATES
};

static const char *const os_template_name[OS_N_TEMPLATES] = {
#define OS_TMPL_NAME(id, name, what) name,
    OS_TEMPLATE_LIST(OS_TMPL_NAME)
#undef OS_TMPL_NAME
};

static const char *const os_model_set_name[LFR_FACE_MODEL_SET_COUNT] = {
#define OS_MS_NAME(id, name, dim, what) name,
    LFR_FACE_MODEL_SET_LIST(OS_MS_NAME)
#undef OS_MS_NAME
};
static const int os_model_set_dim[LFR_FACE_MODEL_SET_COUNT] = {
#define OS_MS_DIM(id, name, dim, what) dim,
    LFR_FACE_MODEL_SET_LIST(OS_MS_DIM)
#undef OS_MS_DIM
};

/* The FPIRs the issue asks FNIR at, and a fixed sweep of thresholds. */
static const double os_fpir_target[] = {1e-2, 1e-3, 1e-4};
enum { OS_N_TARGETS = sizeof os_fpir_target / sizeof os_fpir_target[0] };
static const float os_sweep[] = {0.40f, 0.45f, 0.50f, 0.55f, 0.5629f, 0.60f,
                                 0.65f, 0.70f, 0.75f, 0.80f};
enum { OS_N_SWEEP = sizeof os_sweep / sizeof os_sweep[0] };

#define OS_NO_FACE (-2.0f) /* a mated search without a face: below every T */

/* OS_MAX_ALIAS: entries of one photo's person under other labels (--truth);
 * OS_MAX_DRAWS: the largest --draws (each draw costs a pass over the
 * cached scores, not an embedding); OS_MAX_BOOTSTRAP: the largest
 * --bootstrap (each replicate: a pass over every search of a row). */
enum { OS_MAX_ALIAS = 4, OS_MAX_DRAWS = 100, OS_MAX_BOOTSTRAP = 10000 };

typedef struct {
    int person;       /* index into os_person (LFW 2+), -1 otherwise */
    os_source src;    /* where it comes from (LFW2 for any LFW 2+ person) */
    int mated;        /* a mated search of its person (not an enrolment photo) */
    int ok;           /* a probe face was embedded */
    char *path;       /* the file (--list-alerts) */
    int nalias;       /* --truth: accepted entries (acc) that are this photo's */
    int alias[OS_MAX_ALIAS]; /* person under another label */
} os_photo;

typedef struct {
    int n_tmpl;       /* accepted enrolment images (0: not enrolled) */
    int first_tmpl;   /* row of its first template */
    int acc;          /* index among the accepted people, -1 if none */
    int first_ok;     /* its first photo passed enrolment QC */
    char *name;
} os_person;

typedef struct {
    float own, other;
    uint32_t photo;   /* row in os_run.ph (--bootstrap: whose person) */
} os_mated;

typedef struct {
    float max;
    unsigned char src;
    uint32_t photo;   /* row in os_run.ph: distinct photos above a threshold */
} os_nonmated;

typedef struct {
    int set, tmpl, n, g;     /* model set, template kind, gallery size, galleries */
    os_mated *m;
    size_t nm, capm, mated_no_face;
    os_nonmated *u;
    size_t nu, capu;
    size_t dropped;          /* non-mated searches dropped by --truth */
    size_t nphotos;          /* photo rows (bound of os_nonmated.photo) */
} os_result;

/* --truth: same-person label pairs (union-find over their names) and
 * relabelled photos. */
typedef struct {
    char **name;             /* every name the file mentions */
    int *parent, nname, capname;
    int nsame;
    char **img_path, **img_name; /* "DIR/FILE", NAME */
    int nimg, capimg;
    int photos;              /* photos with another label's entry accepted */
} os_truth;

typedef struct {
    /* options */
    const char *lfw, *utk, *celeba;
    int nsets, sets[LFR_FACE_MODEL_SET_COUNT];
    int k, mated_cap, tmpl_from, tmpl_to;
    int64_t people_max, extra_max, seed;
    float thr;               /* --threshold, or < 0: each set's default */
    float set_thr[LFR_FACE_MODEL_SET_COUNT]; /* the 'at T' line's T by set */
    /* data */
    lfr_face_ctx *ctx;
    os_photo *ph;
    size_t nph, capph;
    os_person *pe;
    int npe, cappe, nacc;
    float *pemb[LFR_FACE_MODEL_SET_COUNT]; /* photo x dim */
    float *temb[LFR_FACE_MODEL_SET_COUNT]; /* template row x dim */
    float *tw;                             /* template row: quality weight */
    int ntmpl, captmpl;
    int accept_warned;   /* enrol images graded WARN too (--accept-warnings) */
    int first_grade[LFR_ENROL_GRADE_COUNT], first_reject[LFR_ENROL_REJECT_COUNT];
    int first_warn[LFR_ENROL_WARN_COUNT];
    float list_alerts;   /* > 0: print non-mated searches above it */
    int no_face[OS_N_SOURCES], read_fail;
    int draws;           /* --draws */
    int norm;            /* --score-norm: OS_NORM_* */
    os_truth truth;      /* --truth */
} os_run;

static void *os_grow(void *p, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return p;
    *cap = *cap ? *cap * 2 : 1024;
    return realloc(p, *cap * elem);
}

/* One face embedded for model set m. */
static lfr_status os_embed(lfr_face_ctx *ctx, const lfr_image *im, lfr_face *f, int m,
                           float *out, lfr_err *err) {
    return lfr_face_embed_set(ctx, im, f, 1, (lfr_face_model_set)m, out, err);
}

/* Adds a photo row; its embeddings are zero until os_probe fills them. */
static size_t os_photo_add(os_run *r, int person, os_source src, const char *path) {
    size_t cap = r->capph;
    r->ph = os_grow(r->ph, &cap, r->nph, sizeof *r->ph);
    if (cap != r->capph)
        for (int s = 0; s < r->nsets; s++)
            r->pemb[s] = realloc(r->pemb[s], sizeof(float) * cap * (size_t)os_model_set_dim[r->sets[s]]);
    r->capph = cap;
    r->ph[r->nph] = (os_photo){person, src, 0, 0, strdup(path), 0, {0}};
    return r->nph++;
}

/* The probe embedding of photo i: the face nearest the centre of im. */
static void os_probe(os_run *r, size_t i, const lfr_image *im) {
    lfr_face *faces;
    int n = 0;
    lfr_err err = {{0}};
    lfr_face_params p = lfr_face_params_default;
    p.min_face = 10;
    if (lfr_face_detect(r->ctx, im, &p, &faces, &n, &err) != LFR_OK) n = 0;
    int c = lfr_face_pick_central(faces, n, im->w, im->h);
    if (c < 0) {
        r->no_face[r->ph[i].src]++;
        return;
    }
    lfr_face f = faces[c]; /* the ctx's array is reused by the next call */
    for (int s = 0; s < r->nsets; s++) {
        int d = os_model_set_dim[r->sets[s]];
        if (os_embed(r->ctx, im, &f, r->sets[s], r->pemb[s] + i * (size_t)d, &err) != LFR_OK) {
            r->no_face[r->ph[i].src]++;
            return;
        }
    }
    r->ph[i].ok = 1;
}

static int os_load(const char *path, uint8_t **buf, size_t *len, lfr_image *im) {
    lfr_err err = {{0}};
    if (lfr_read_file(path, LFR_MAX_IMAGE_BYTES, buf, len) != LFR_OK) return -1;
    if (lfr_image_decode(*buf, *len, im, &err) != LFR_OK) {
        lfr_free(*buf);
        return -1;
    }
    return 0;
}

/* An extra non-mated photo (LFW with one photo, UTKFace, CelebA). */
static void os_extra(os_run *r, const char *path, os_source src) {
    uint8_t *buf;
    size_t len;
    lfr_image im = {0};
    if (os_load(path, &buf, &len, &im)) {
        r->read_fail++;
        return;
    }
    size_t i = os_photo_add(r, -1, src, path);
    os_probe(r, i, &im);
    lfr_image_free(&im);
    lfr_free(buf);
}

/* The weight of an enrolment image in a quality-weighted mean, from the
 * assessment's measures: full weight from twice the warning cut-off of eye
 * distance and sharpness (docs/quality.md "Grades"), falling in proportion
 * below it, times cos(yaw) cos(pitch); at least 0.05. */
static float os_quality_weight(const lfr_enrol_measures *m) {
    const float *cut = lfr_enrol_params_default.warn_at;
    double w = fmin(1.0, m->eye_dist / (2.0 * cut[LFR_ENROL_WARN_SMALL])) *
               fmin(1.0, m->sharpness / (2.0 * cut[LFR_ENROL_WARN_BLUR])) *
               cos(m->yaw * 0.017453292519943295) * cos(m->pitch * 0.017453292519943295);
    return (float)fmax(0.05, w);
}

/* An LFW person with 2+ photos: enrol from the first K accepted photos,
 * the others (at most mated_cap) are mated searches. */
static int os_person_add(os_run *r, const char *name, int count) {
    if (r->npe == r->cappe) {
        r->cappe = r->cappe ? r->cappe * 2 : 512;
        r->pe = realloc(r->pe, sizeof *r->pe * (size_t)r->cappe);
    }
    int pi = r->npe++;
    os_person *P = &r->pe[pi];
    *P = (os_person){0, r->ntmpl, -1, 0, strdup(name)};
    int probes = 0;
    char path[4096];
    for (int k = 1; k <= count; k++) {
        int assess = P->n_tmpl < r->k, want_probe = probes < r->mated_cap;
        if (!assess && !want_probe) break;
        snprintf(path, sizeof path, "%s/images/%s/%s_%04d.jpg", r->lfw, name, name, k);
        uint8_t *buf;
        size_t len;
        lfr_image im = {0};
        if (os_load(path, &buf, &len, &im)) {
            r->read_fail++;
            continue;
        }
        int accepted = 0;
        if (assess) {
            lfr_enrol_result er;
            lfr_err err = {{0}};
            lfr_status st = lfr_enrol_assess(r->ctx, buf, len, NULL, &er, &err);
            if (st != LFR_OK) {
                lfr_image_free(&im);
                lfr_free(buf);
                return lfr_cli_fail(path, st, &err);
            }
            int ok = er.grade == LFR_ENROL_GRADE_ACCEPT ||
                     (r->accept_warned && er.grade == LFR_ENROL_GRADE_WARN);
            if (k == 1) {
                r->first_grade[er.grade]++;
                r->first_reject[er.reject]++;
                for (int w = 0; w < er.n_warn; w++) r->first_warn[er.warn[w].kind]++;
                P->first_ok = ok;
            }
            if (ok) {
                if (r->ntmpl == r->captmpl) {
                    r->captmpl = r->captmpl ? r->captmpl * 2 : 1024;
                    r->tw = realloc(r->tw, sizeof(float) * (size_t)r->captmpl);
                    for (int s = 0; s < r->nsets; s++)
                        r->temb[s] = realloc(r->temb[s], sizeof(float) * (size_t)r->captmpl *
                                                             (size_t)os_model_set_dim[r->sets[s]]);
                }
                accepted = 1;
                for (int s = 0; s < r->nsets && accepted; s++) {
                    int d = os_model_set_dim[r->sets[s]];
                    lfr_face f = er.face;
                    if (os_embed(r->ctx, &im, &f, r->sets[s], r->temb[s] + (size_t)r->ntmpl * d,
                                 &err) != LFR_OK)
                        accepted = 0;
                }
                if (accepted) r->tw[r->ntmpl] = os_quality_weight(&er.m), r->ntmpl++, P->n_tmpl++;
            }
        }
        if (accepted || want_probe) {
            size_t i = os_photo_add(r, pi, OS_SRC_LFW2, path);
            r->ph[i].mated = !accepted;
            probes += !accepted;
            os_probe(r, i, &im);
        }
        lfr_image_free(&im);
        lfr_free(buf);
    }
    if (P->n_tmpl) P->acc = r->nacc++;
    return 0;
}

static int os_cmp_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int os_cmp_nonmated_desc(const void *a, const void *b) {
    float x = ((const os_nonmated *)a)->max, y = ((const os_nonmated *)b)->max;
    return (x < y) - (x > y);
}

/* Reads the data sets and embeds every photo the protocol uses. */
static int os_collect(os_run *r) {
    char path[4096], line[512], name[256];
    snprintf(path, sizeof path, "%s/people.txt", r->lfw);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "openlfr: cannot open %s\n", path);
        return 1;
    }
    uint64_t t0 = lfr_now_ns();
    int64_t people = 0;
    while (fgets(line, sizeof line, f) && (r->people_max == 0 || people < r->people_max)) {
        int count = 0;
        if (sscanf(line, "%255s %d", name, &count) != 2 || count < 1) continue;
        people++;
        if (count >= 2) {
            if (os_person_add(r, name, count)) {
                fclose(f);
                return 1;
            }
        } else {
            snprintf(path, sizeof path, "%s/images/%s/%s_0001.jpg", r->lfw, name, name);
            os_extra(r, path, OS_SRC_LFW1);
        }
        if (people % 500 == 0)
            fprintf(stderr, "eval openset: LFW %lld people, %zu photos embedded (%.0f s)\n",
                    (long long)people, r->nph, (lfr_now_ns() - t0) / 1e9);
    }
    fclose(f);
    if (r->utk) {
        snprintf(path, sizeof path, "%s/images", r->utk);
        DIR *d = opendir(path);
        if (!d) {
            fprintf(stderr, "openlfr: cannot open %s\n", path);
            return 1;
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t l = strlen(de->d_name);
            if (l < 5 || strcmp(de->d_name + l - 4, ".jpg")) continue;
            names = os_grow(names, &cap, n, sizeof *names);
            names[n++] = strdup(de->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof *names, os_cmp_name);
        for (size_t i = 0; i < n; i++) {
            if (r->extra_max == 0 || (int64_t)i < r->extra_max) {
                snprintf(path, sizeof path, "%s/images/%s", r->utk, names[i]);
                os_extra(r, path, OS_SRC_UTK);
            }
            free(names[i]);
        }
        free(names);
        fprintf(stderr, "eval openset: UTKFace done, %zu photos embedded (%.0f s)\n", r->nph,
                (lfr_now_ns() - t0) / 1e9);
    }
    if (r->celeba) {
        snprintf(path, sizeof path, "%s/identities.txt", r->celeba);
        FILE *c = fopen(path, "r");
        if (!c) {
            fprintf(stderr, "openlfr: cannot open %s\n", path);
            return 1;
        }
        int64_t n = 0;
        char file[256];
        while (fgets(line, sizeof line, c) && (r->extra_max == 0 || n < r->extra_max)) {
            if (sscanf(line, "%255s", file) != 1) continue;
            snprintf(path, sizeof path, "%s/images/%s", r->celeba, file);
            os_extra(r, path, OS_SRC_CELEBA);
            n++;
        }
        fclose(c);
        fprintf(stderr, "eval openset: CelebA done, %zu photos embedded (%.0f s)\n", r->nph,
                (lfr_now_ns() - t0) / 1e9);
    }
    return 0;
}

/* --truth ------------------------------------------------------------------ */

static int os_truth_find(const os_truth *t, const char *name) {
    for (int i = 0; i < t->nname; i++)
        if (!strcmp(t->name[i], name)) return i;
    return -1;
}

static int os_truth_root(const os_truth *t, int i) {
    while (t->parent[i] != i) i = t->parent[i];
    return i;
}

/* The name's index in the file, added when absent. */
static int os_truth_name(os_truth *t, const char *name) {
    int i = os_truth_find(t, name);
    if (i >= 0) return i;
    if (t->nname == t->capname) {
        t->capname = t->capname ? t->capname * 2 : 16;
        t->name = realloc(t->name, sizeof *t->name * (size_t)t->capname);
        t->parent = realloc(t->parent, sizeof *t->parent * (size_t)t->capname);
    }
    t->name[t->nname] = strdup(name);
    t->parent[t->nname] = t->nname;
    return t->nname++;
}

/* The person a label names after the corrections: the root of its
 * same-person set, or -1 for a label the file does not mention. */
static int os_truth_person(const os_truth *t, const char *label) {
    int i = os_truth_find(t, label);
    return i < 0 ? -1 : os_truth_root(t, i);
}

static void os_truth_free(os_truth *t) {
    for (int i = 0; i < t->nname; i++) free(t->name[i]);
    for (int i = 0; i < t->nimg; i++) free(t->img_path[i]), free(t->img_name[i]);
    free(t->name);
    free(t->parent);
    free(t->img_path);
    free(t->img_name);
    memset(t, 0, sizeof *t);
}

/* Reads a --truth file: "same A B" and "image DIR/FILE NAME" lines, '#'
 * comments.  0, or -1 with the reason (file and line) in why. */
static int os_truth_load(os_truth *t, const char *path, char *why, size_t cap) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, cap, "cannot open %s", path);
        return -1;
    }
    char line[1024], kw[16], a[LFR_MAX_NAME * 2], b[LFR_MAX_NAME], extra[8];
    int ln = 0, rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        ln++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        int n = sscanf(line, "%15s %255s %127s %7s", kw, a, b, extra);
        if (n <= 0) continue;
        if (n == 3 && !strcmp(kw, "same")) {
            int x = os_truth_root(t, os_truth_name(t, a)), y = os_truth_root(t, os_truth_name(t, b));
            t->parent[x] = y;
            t->nsame++;
        } else if (n == 3 && !strcmp(kw, "image") && strchr(a, '/')) {
            if (t->nimg == t->capimg) {
                t->capimg = t->capimg ? t->capimg * 2 : 8;
                t->img_path = realloc(t->img_path, sizeof(char *) * (size_t)t->capimg);
                t->img_name = realloc(t->img_name, sizeof(char *) * (size_t)t->capimg);
            }
            t->img_path[t->nimg] = strdup(a);
            t->img_name[t->nimg++] = strdup(b);
            os_truth_name(t, b);
        } else {
            snprintf(why, cap, "%s line %d: not \"same NAME NAME\" or \"image DIR/FILE NAME\"",
                     path, ln);
            rc = -1;
        }
    }
    if (!rc && ferror(f)) snprintf(why, cap, "cannot read %s", path), rc = -1;
    fclose(f);
    if (!rc && !t->nsame && !t->nimg) snprintf(why, cap, "%s holds no correction", path), rc = -1;
    return rc;
}

/* Marks, for every LFW photo, the accepted entries that hold its person
 * under another label (os_photo.alias). */
static void os_truth_apply(os_run *r) {
    os_truth *t = &r->truth;
    if (!t->nname) return;
    int *entry_person = malloc(sizeof(int) * (size_t)(r->nacc ? r->nacc : 1));
    for (int p = 0; p < r->npe; p++)
        if (r->pe[p].acc >= 0) entry_person[r->pe[p].acc] = os_truth_person(t, r->pe[p].name);
    for (size_t i = 0; i < r->nph; i++) {
        os_photo *P = &r->ph[i];
        if (P->src != OS_SRC_LFW1 && P->src != OS_SRC_LFW2) continue;
        const char *rel = strstr(P->path, "/images/");
        if (!rel) continue;
        rel += 8;
        char label[LFR_MAX_NAME];
        size_t l = strcspn(rel, "/");
        if (l >= sizeof label) continue;
        memcpy(label, rel, l);
        label[l] = 0;
        int who = os_truth_person(t, label);
        for (int k = 0; k < t->nimg; k++)
            if (!strcmp(rel, t->img_path[k])) who = os_truth_person(t, t->img_name[k]);
        if (who < 0) continue;
        int own = P->person >= 0 ? r->pe[P->person].acc : -1;
        for (int a = 0; a < r->nacc && P->nalias < OS_MAX_ALIAS; a++)
            if (a != own && entry_person[a] == who) P->alias[P->nalias++] = a;
        t->photos += P->nalias > 0;
    }
    free(entry_person);
}

/* --score-norm: score s normalised (OS_NORM_*); t = the probe's n, sum, sum
 * of squares over its gallery (tnorm), z = the entry's mean, sd (znorm).
 * A score that is no comparison (OS_NO_FACE) stays below every other. */
static float os_normed(int norm, float s, const double *t, const float *z) {
    if (s <= OS_NO_FACE || norm == OS_NORM_NONE) return s;
    if (norm == OS_NORM_T) {
        double mu = t[1] / t[0], var = t[2] / t[0] - mu * mu;
        return var > 0 ? (float)((s - mu) / sqrt(var)) : 0;
    }
    return z[1] > 0 ? (s - z[0]) / z[1] : 0;
}

/* znorm statistics of model set s: every accepted entry as the normalised
 * mean of its templates; for each draw and size column cd and entry a, the
 * mean and sd of a's cosines with the other entries of its gallery. */
static float *os_znorm_stats(const os_run *r, int s, const int *gal, int C) {
    int A = r->nacc, d = os_model_set_dim[r->sets[s]];
    float *E = calloc((size_t)A * d, sizeof(float)), *gram = malloc(sizeof(float) * A * A);
    float *st = calloc((size_t)C * A * 2, sizeof(float));
    for (int p = 0; p < r->npe; p++) {
        const os_person *P = &r->pe[p];
        if (P->acc < 0) continue;
        float *e = E + (size_t)P->acc * d;
        for (int j = 0; j < P->n_tmpl; j++)
            for (int k = 0; k < d; k++) e[k] += r->temb[s][(size_t)(P->first_tmpl + j) * d + k];
        double nn = 0;
        for (int k = 0; k < d; k++) nn += (double)e[k] * e[k];
        for (int k = 0; k < d; k++) e[k] = (float)(e[k] / sqrt(nn));
    }
    for (int a = 0; a < A; a++)
        for (int b = a; b < A; b++) {
            double x = 0;
            for (int k = 0; k < d; k++) x += (double)E[(size_t)a * d + k] * E[(size_t)b * d + k];
            gram[(size_t)a * A + b] = gram[(size_t)b * A + a] = (float)x;
        }
    for (int cd = 0; cd < C; cd++) {
        const int *col = gal + (size_t)cd * A;
        for (int a = 0; a < A; a++) {
            double n = 0, s1 = 0, s2 = 0;
            if (col[a] >= 0)
                for (int b = 0; b < A; b++)
                    if (b != a && col[b] == col[a]) {
                        float x = gram[(size_t)a * A + b];
                        n++, s1 += x, s2 += (double)x * x;
                    }
            double mu = n ? s1 / n : 0, var = n ? s2 / n - mu * mu : 0;
            st[((size_t)cd * A + a) * 2] = (float)mu;
            st[((size_t)cd * A + a) * 2 + 1] = var > 0 ? (float)sqrt(var) : 0;
        }
    }
    free(E);
    free(gram);
    return st;
}

/* Searches every cached probe against every gallery of every size. */
static int os_search(os_run *r, const int *sizes, int nsizes, os_result *res, int nres) {
    int A = r->nacc, D = r->draws > 0 ? r->draws : 1, C = nsizes * D;
    /* Galleries: accepted people in a shuffled order (xorshift64, --seed),
     * shuffled again for each further draw; column c*D + d of gal is size
     * c in draw d: gal[(c*D + d)*A + a] is person a's gallery, or -1. */
    int *order = malloc(sizeof(int) * (size_t)(A ? A : 1));
    for (int a = 0; a < A; a++) order[a] = a;
    uint64_t x = (uint64_t)r->seed * 0x9E3779B97F4A7C15ull + 1;
    int *gal = malloc(sizeof(int) * (size_t)(A ? A : 1) * (size_t)C);
    int *ng = calloc((size_t)nsizes, sizeof(int)), maxg = 1;
    for (int d = 0; d < D; d++) {
        for (int a = A - 1; a > 0; a--) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int j = (int)(x % (uint64_t)(a + 1)), t = order[a];
            order[a] = order[j], order[j] = t;
        }
        for (int c = 0; c < nsizes; c++) {
            int n = sizes[c] > 0 ? sizes[c] : A, *col = gal + (size_t)(c * D + d) * A;
            ng[c] = n > 0 && n <= A ? A / n : 0;
            if (ng[c] > maxg) maxg = ng[c];
            for (int i = 0; i < A; i++) col[order[i]] = n > 0 && i / n < ng[c] ? i / n : -1;
        }
    }
    float *gmax = malloc(sizeof(float) * (size_t)maxg);
    unsigned char *gdrop = malloc((size_t)maxg); /* galleries holding an alias entry */
    double *gsum = malloc(sizeof(double) * 3 * (size_t)maxg); /* tnorm: n, sum, sum of squares */
    const char **accname = malloc(sizeof(char *) * (size_t)(A ? A : 1));
    for (int p = 0; p < r->npe; p++)
        if (r->pe[p].acc >= 0) accname[r->pe[p].acc] = r->pe[p].name;
    float *sc = malloc(sizeof(float) * (size_t)(A ? A : 1));
    lfr_match_hit *hits = malloc(sizeof *hits * (size_t)(A ? A : 1) * LFR_MAX_MATCH_BATCH);
    int rc = 0;
    for (int s = 0; s < r->nsets && !rc && A > 0; s++) {
        int d = os_model_set_dim[r->sets[s]];
        /* One snapshot per template kind over all accepted people: entry id =
         * accepted index.  best: every template; mean, qmean: one per
         * entry; union: every template and the mean. */
        lfr_match_snapshot *snap[OS_N_TEMPLATES] = {0};
        size_t maxrows = (size_t)r->ntmpl + (size_t)r->npe + 1;
        float *rows = malloc(sizeof(float) * maxrows * (size_t)d);
        int64_t *ids = malloc(sizeof(int64_t) * maxrows);
        for (int v = r->tmpl_from; v <= r->tmpl_to && !rc; v++) {
            size_t nrows = 0;
            for (int p = 0; p < r->npe; p++) {
                const os_person *P = &r->pe[p];
                if (P->acc < 0) continue;
                const float *t0 = r->temb[s] + (size_t)P->first_tmpl * d;
                if (v == OS_TMPL_BEST || v == OS_TMPL_UNION) {
                    memcpy(rows + nrows * d, t0, sizeof(float) * (size_t)P->n_tmpl * d);
                    for (int j = 0; j < P->n_tmpl; j++) ids[nrows++] = P->acc;
                }
                if (v != OS_TMPL_BEST && (v != OS_TMPL_UNION || P->n_tmpl > 1)) {
                    const float *w = r->tw + P->first_tmpl;
                    float *m = rows + nrows * d;
                    double nn = 0;
                    for (int e = 0; e < d; e++) {
                        double acc = 0;
                        for (int j = 0; j < P->n_tmpl; j++)
                            acc += (v == OS_TMPL_QMEAN ? w[j] : 1.0f) * t0[(size_t)j * d + e];
                        m[e] = (float)acc;
                        nn += acc * acc;
                    }
                    for (int e = 0; e < d; e++) m[e] = (float)(m[e] / sqrt(nn));
                    ids[nrows++] = P->acc;
                }
            }
            lfr_status st = lfr_match_snapshot_build(d, nrows, rows, ids, NULL, &snap[v]);
            if (st != LFR_OK) rc = lfr_cli_fail("building the galleries", st, NULL);
        }
        free(rows);
        free(ids);
        /* znorm: each entry's mean and sd of cosines with the other entries
         * of its gallery, per draw and size (zst[(cd*A + a)*2]) */
        float *zst = r->norm == OS_NORM_Z ? os_znorm_stats(r, s, gal, C) : NULL;
        for (int v = r->tmpl_from; v <= r->tmpl_to && !rc; v++) {
            os_result *rs = res + ((size_t)s * OS_N_TEMPLATES + v) * nsizes;
            float probes[LFR_MAX_MATCH_BATCH * LFR_MAX_MATCH_DIM];
            size_t idx[LFR_MAX_MATCH_BATCH];
            int nh[LFR_MAX_MATCH_BATCH];
            size_t i = 0;
            while (i < r->nph && !rc) {
                /* A batch of probes with a face; those without one are
                 * recorded (mated: a miss) as they are met. */
                int nb = 0;
                for (; i < r->nph && nb < LFR_MAX_MATCH_BATCH; i++) {
                    const os_photo *P = &r->ph[i];
                    if (P->ok) {
                        memcpy(probes + (size_t)nb * d, r->pemb[s] + i * (size_t)d,
                               sizeof(float) * (size_t)d);
                        idx[nb++] = i;
                        continue;
                    }
                    int own = P->person >= 0 ? r->pe[P->person].acc : -1;
                    if (own < 0 || !P->mated) continue;
                    for (int cd = 0; cd < C; cd++) {
                        os_result *R = &rs[cd / D];
                        if (gal[(size_t)cd * A + own] < 0) continue;
                        R->m = os_grow(R->m, &R->capm, R->nm, sizeof *R->m);
                        R->m[R->nm++] = (os_mated){OS_NO_FACE, OS_NO_FACE, (uint32_t)i};
                        R->mated_no_face++;
                    }
                }
                if (!nb) break;
                /* every score is wanted (threshold -2): float32, as the
                 * int8 scan would re-score every row anyway */
                lfr_status st = lfr_match_search_prec(snap[v], LFR_MATCH_IMPL_AUTO,
                                                      LFR_MATCH_PREC_FP32, probes, nb, -2.0f,
                                                      hits, A, nh, NULL);
                if (st != LFR_OK) {
                    rc = lfr_cli_fail("searching the galleries", st, NULL);
                    break;
                }
                for (int b = 0; b < nb; b++) {
                    const os_photo *P = &r->ph[idx[b]];
                    for (int a = 0; a < A; a++) sc[a] = OS_NO_FACE;
                    for (int h = 0; h < nh[b]; h++)
                        sc[hits[(size_t)b * A + h].entry_id] = hits[(size_t)b * A + h].score;
                    int own = P->person >= 0 ? r->pe[P->person].acc : -1;
                    /* --truth: its person's entries under other labels are
                     * no one else's */
                    for (int k = 0; k < P->nalias; k++) sc[P->alias[k]] = OS_NO_FACE;
                    if (r->list_alerts > 0 && s == 0 && v == r->tmpl_from)
                        for (int a = 0; a < A; a++)
                            if (a != own && sc[a] > r->list_alerts)
                                fprintf(stderr, "alert: %s %s -> %s %.4f\n",
                                        os_source_name[P->src], P->path, accname[a], sc[a]);
                    for (int cd = 0; cd < C; cd++) {
                        int c = cd / D;
                        os_result *R = &rs[c];
                        const int *col = gal + (size_t)cd * A;
                        for (int g = 0; g < ng[c]; g++) gmax[g] = OS_NO_FACE, gdrop[g] = 0;
                        if (r->norm == OS_NORM_T) {
                            memset(gsum, 0, sizeof(double) * 3 * (size_t)ng[c]);
                            for (int a = 0; a < A; a++)
                                if (col[a] >= 0 && sc[a] > OS_NO_FACE) {
                                    double *q = gsum + 3 * col[a];
                                    q[0]++, q[1] += sc[a], q[2] += (double)sc[a] * sc[a];
                                }
                        }
                        const float *zc = zst ? zst + (size_t)cd * A * 2 : NULL;
                        float own_s = own >= 0 && col[own] >= 0
                                          ? os_normed(r->norm, sc[own], gsum + 3 * col[own],
                                                      zc ? zc + 2 * own : NULL)
                                          : OS_NO_FACE;
                        for (int a = 0; a < A; a++) {
                            int g = col[a];
                            if (g < 0 || a == own) continue;
                            float v2 = os_normed(r->norm, sc[a], gsum + 3 * g,
                                                 zc ? zc + 2 * a : NULL);
                            if (v2 > gmax[g]) gmax[g] = v2;
                        }
                        for (int k = 0; k < P->nalias; k++)
                            if (col[P->alias[k]] >= 0) gdrop[col[P->alias[k]]] = 1;
                        int gown = own >= 0 ? col[own] : -1;
                        for (int g = 0; g < ng[c]; g++) {
                            if (g == gown) {
                                if (!P->mated) continue; /* its own enrolment photo */
                                R->m = os_grow(R->m, &R->capm, R->nm, sizeof *R->m);
                                R->m[R->nm++] = (os_mated){own_s, gmax[g], (uint32_t)idx[b]};
                            } else if (gdrop[g]) {
                                R->dropped++; /* its own person, another label */
                            } else {
                                R->u = os_grow(R->u, &R->capu, R->nu, sizeof *R->u);
                                R->u[R->nu++] = (os_nonmated){gmax[g], (unsigned char)P->src,
                                                              (uint32_t)idx[b]};
                            }
                        }
                    }
                }
            }
            for (int c = 0; c < nsizes; c++) {
                rs[c].set = r->sets[s], rs[c].tmpl = v;
                rs[c].n = sizes[c] > 0 ? sizes[c] : A, rs[c].g = ng[c] * D;
                rs[c].nphotos = r->nph;
                if (rs[c].nu) qsort(rs[c].u, rs[c].nu, sizeof *rs[c].u, os_cmp_nonmated_desc);
            }
        }
        for (int v = 0; v < OS_N_TEMPLATES; v++) lfr_match_snapshot_unref(snap[v]);
        free(zst);
    }
    for (int q = 0; q < nres; q++)
        if (!res[q].g) { /* sizes larger than the accepted people, or none accepted */
            res[q].set = r->sets[q / (OS_N_TEMPLATES * nsizes)];
            res[q].tmpl = q / nsizes % OS_N_TEMPLATES;
            res[q].n = sizes[q % nsizes] > 0 ? sizes[q % nsizes] : A;
        }
    free(order);
    free(gal);
    free(ng);
    free(gmax);
    free(gdrop);
    free(gsum);
    free(accname);
    free(sc);
    free(hits);
    return rc;
}

/* Error rates of one pooled result at threshold t (alert: score > t). */
typedef struct {
    float t;
    double fnir, fpir, other;        /* other: mated searches alerting on someone else */
    size_t miss, alerts, wrong, by_src[OS_N_SOURCES];
    size_t photos;                   /* distinct photos among the alerts */
    const char *measurable;          /* "yes", "rough", "no" (FPIR targets) */
} os_point;

static os_point os_at(const os_result *R, float t) {
    os_point p = {.t = t, .measurable = "yes"};
    for (size_t i = 0; i < R->nm; i++) {
        p.miss += !(R->m[i].own > t);
        p.wrong += R->m[i].other > t;
    }
    unsigned char *seen = calloc(R->nphotos ? R->nphotos : 1, 1);
    for (size_t i = 0; i < R->nu && R->u[i].max > t; i++) {
        p.alerts++;
        p.by_src[R->u[i].src]++;
        p.photos += !seen[R->u[i].photo];
        seen[R->u[i].photo] = 1;
    }
    free(seen);
    p.fnir = R->nm ? (double)p.miss / R->nm : 0;
    p.other = R->nm ? (double)p.wrong / R->nm : 0;
    p.fpir = R->nu ? (double)p.alerts / R->nu : 0;
    return p;
}

/* The threshold for a target FPIR, read from the non-mated best scores. */
static os_point os_at_fpir(const os_result *R, double f) {
    double want = f * (double)R->nu;
    if (want < 1) {
        os_point p = {.t = NAN, .fnir = NAN, .fpir = NAN, .other = NAN, .measurable = "no"};
        return p;
    }
    os_point p = os_at(R, R->u[(size_t)floor(want)].max);
    p.measurable = want >= 10 && p.photos >= 10 ? "yes" : "rough";
    return p;
}

/* --bootstrap: how far FNIR at an FPIR target could move with other people
 * and photos.  The pooled searches are not independent: one photo is
 * searched against many galleries, and a person's mated searches share one
 * enrolment image.  So what is resampled is the cluster, not the search:
 * an LFW person with 2+ photos (enrolment image, mated searches and those
 * photos' non-mated searches together), or a single photo of any other
 * source.  Each replicate gives every cluster a Poisson(1) weight (the
 * Poisson bootstrap: multinomial resampling in the large-sample limit,
 * without a cluster list to draw from), reads T from the weighted
 * non-mated best scores as os_at_fpir does, and takes the weighted share of
 * mated searches at or below it.  Replicate b's weights depend only on
 * the seed and b, so every row and model set of a run is resampled alike. */
typedef struct {
    int B;                 /* replicates (0: off) */
    uint64_t seed;
    const int32_t *cluster; /* photo row -> cluster */
    int nclusters;
} os_boot;

static uint64_t os_splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Poisson(1) by Knuth's product of uniforms (a handful of draws). */
static int os_poisson1(uint64_t *x) {
    double p = 1.0;
    int k = -1;
    do {
        p *= ((os_splitmix(x) >> 11) + 0.5) * 0x1p-53;
        k++;
    } while (p > 0.36787944117144233);
    return k;
}

static int os_boot_init(os_boot *bt, const os_run *r, int B, uint64_t seed) {
    *bt = (os_boot){.B = B, .seed = seed, .nclusters = r->npe + (int)r->nph};
    if (!B) return 0;
    int32_t *cl = malloc(sizeof *cl * (r->nph ? r->nph : 1));
    if (!cl) return -1;
    for (size_t i = 0; i < r->nph; i++)
        cl[i] = r->ph[i].person >= 0 ? r->ph[i].person : r->npe + (int32_t)i;
    bt->cluster = cl;
    return 0;
}

/* Replicate b's cluster weights (drawn again for every row: no B x
 * clusters table is kept). */
static void os_boot_weights(const os_boot *bt, int b, float *w) {
    uint64_t x = bt->seed * 0x2545f4914f6cdd1dULL + (uint64_t)b;
    for (int c = 0; c < bt->nclusters; c++) w[c] = (float)os_poisson1(&x);
}

static void os_boot_free(os_boot *bt) { free((void *)bt->cluster); }

static int os_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* FNIR at FPIR f of one replicate (cluster weights w); NAN where f is not
 * measurable (the weighted non-mated searches do not reach 1/f). */
static double os_boot_rep(const os_boot *bt, const os_result *R, double f, const float *w) {
    double W = 0, cum = 0, miss = 0, M = 0;
    for (size_t i = 0; i < R->nu; i++) W += w[bt->cluster[R->u[i].photo]];
    double want = f * W;
    if (want < 1) return NAN;
    float t = NAN;
    for (size_t i = 0; i < R->nu; i++) { /* sorted, best first */
        cum += w[bt->cluster[R->u[i].photo]];
        if (cum > want) {
            t = R->u[i].max;
            break;
        }
    }
    if (isnan(t)) return NAN;
    for (size_t i = 0; i < R->nm; i++) {
        double wi = w[bt->cluster[R->m[i].photo]];
        M += wi;
        miss += wi * !(R->m[i].own > t);
    }
    return M > 0 ? miss / M : NAN;
}

/* The 5th and 95th percentiles of n values (sorted in place). */
static void os_interval90(double *v, int n, double ci[2]) {
    ci[0] = ci[1] = NAN;
    if (!n) return;
    qsort(v, (size_t)n, sizeof *v, os_cmp_double);
    ci[0] = v[(int)floor(0.05 * (n - 1))];
    ci[1] = v[(int)ceil(0.95 * (n - 1))];
}

/* The 90 % interval of FNIR at FPIR f over the replicates in which it is
 * measurable (returned: how many; ci NAN when none) and, with a base row
 * (another model set or template, the same searches), of the difference
 * R - base over the replicates where both are (*nd; paired: the same
 * weights for both). */
static int os_boot_fnir(const os_boot *bt, const os_result *R, const os_result *base, double f,
                        double ci[2], double dci[2], int *nd) {
    double *v = malloc(sizeof(double) * 2 * (size_t)(bt->B ? bt->B : 1));
    float *w = malloc(sizeof(float) * (size_t)(bt->nclusters ? bt->nclusters : 1));
    int n = 0;
    *nd = 0;
    for (int b = 0; b < bt->B && v && w; b++) {
        os_boot_weights(bt, b, w);
        double x = os_boot_rep(bt, R, f, w);
        if (isnan(x)) continue;
        v[n++] = x;
        double y = base ? os_boot_rep(bt, base, f, w) : NAN;
        if (!isnan(y)) v[bt->B + (*nd)++] = x - y;
    }
    os_interval90(v, n, ci);
    os_interval90(v ? v + bt->B : NULL, *nd, dci);
    free(v);
    free(w);
    return n;
}

static json_t *os_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *os_point_json(const os_point *p, int with_src) {
    json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:s}", "threshold",
                          os_num(p->t), "fnir", os_num(p->fnir), "fpir", os_num(p->fpir),
                          "mated_other_alert", os_num(p->other), "mated_missed", (json_int_t)p->miss,
                          "non_mated_alerts", (json_int_t)p->alerts, "non_mated_photos_alerting",
                          (json_int_t)p->photos, "mated_wrong_entry", (json_int_t)p->wrong,
                          "measurable", p->measurable);
    if (with_src) {
        json_t *s = json_object();
        for (int k = 0; k < OS_N_SOURCES; k++)
            json_object_set_new(s, os_source_name[k], json_integer((json_int_t)p->by_src[k]));
        json_object_set_new(o, "non_mated_alerts_by_source", s);
    }
    return o;
}

/* The lines under a row: its FNIRs' intervals, and their differences from
 * the base row's. */
static void os_boot_print(int json, const os_boot *bt, const os_result *base,
                          const char *base_name, const char *ci_line, const char *d_line) {
    if (json || !bt->B) return;
    printf("%-35s%s\n", "  90 % interval (bootstrap)", ci_line);
    if (!base) return;
    char label[64];
    snprintf(label, sizeof label, "  minus %s", base_name);
    printf("%-35s%s\n", label, d_line);
}

/* FNIR at the target FPIRs, at threshold thr and over the sweep (when the
 * scores are cosines: fixed), into the JSON object row; the table's cells
 * to stdout unless json. */
static void os_rates(const os_result *R, float thr, int fixed, int json, json_t *row,
                     const os_boot *bt, const os_result *base, const char *base_name) {
    json_t *ta = json_array();
    char ci_line[160] = "", d_line[160] = "";
    for (int j = 0; j < OS_N_TARGETS; j++) {
        os_point p = os_at_fpir(R, os_fpir_target[j]);
        json_t *pj = os_point_json(&p, 1);
        json_object_set_new(pj, "fpir_target", json_real(os_fpir_target[j]));
        if (bt->B) {
            double ci[2], dci[2];
            int nd, n = os_boot_fnir(bt, R, base, os_fpir_target[j], ci, dci, &nd);
            json_object_set_new(pj, "fnir_interval90",
                                n ? json_pack("[o, o]", os_num(ci[0]), os_num(ci[1])) : json_null());
            json_object_set_new(pj, "bootstrap_measurable", json_integer(n));
            char cell[64];
            if (base) {
                json_object_set_new(pj, "fnir_difference_interval90",
                                    nd ? json_pack("{s:s, s:o, s:o, s:i}", "from", base_name, "low",
                                                   os_num(dci[0]), "high", os_num(dci[1]),
                                                   "replicates", nd)
                                       : json_null());
                if (nd) snprintf(cell, sizeof cell, "%+.4f to %+.4f", dci[0], dci[1]);
                else snprintf(cell, sizeof cell, "not measurable");
                size_t l = strlen(d_line);
                snprintf(d_line + l, sizeof d_line - l, " | %-24s", cell);
            }
            if (!n) snprintf(cell, sizeof cell, "not measurable");
            else if (n < bt->B) snprintf(cell, sizeof cell, "%.4f - %.4f (%d/%d)", ci[0], ci[1], n, bt->B);
            else snprintf(cell, sizeof cell, "%.4f - %.4f", ci[0], ci[1]);
            size_t l = strlen(ci_line);
            snprintf(ci_line + l, sizeof ci_line - l, " | %-24s", cell);
        }
        json_array_append_new(ta, pj);
        if (json) continue;
        char cell[64];
        if (!strcmp(p.measurable, "no")) snprintf(cell, sizeof cell, "not measurable");
        else
            snprintf(cell, sizeof cell, "%.4f (%.3f)%s", p.fnir, p.t,
                     strcmp(p.measurable, "rough") ? "" : " rough");
        printf(" | %-24s", cell);
    }
    json_object_set_new(row, "at_fpir", ta);
    if (!fixed) {
        if (!json) printf(" | n/a (normalised scores)\n");
        os_boot_print(json, bt, base, base_name, ci_line, d_line);
        return;
    }
    os_point dp = os_at(R, thr);
    json_t *dj = os_point_json(&dp, 1);
    json_object_set_new(dj, "found", json_real(1 - dp.fnir));
    json_object_set_new(row, "at_threshold", dj);
    json_t *sw = json_array();
    for (int j = 0; j < OS_N_SWEEP; j++) {
        os_point p = os_at(R, os_sweep[j]);
        json_array_append_new(sw, os_point_json(&p, 0));
    }
    json_object_set_new(row, "sweep", sw);
    if (!json) printf(" | %-6.4f %-8.6f %.4f\n", dp.fnir, dp.fpir, dp.other);
    os_boot_print(json, bt, base, base_name, ci_line, d_line);
}

/* R with LFW's own non-mated searches only (its u is the caller's to free;
 * m is R's). */
static os_result os_lfw_only(const os_result *R) {
    os_result L = *R;
    L.u = malloc(sizeof *L.u * (R->nu ? R->nu : 1));
    L.nu = 0;
    for (size_t i = 0; i < R->nu && L.u; i++)
        if (R->u[i].src == OS_SRC_LFW1 || R->u[i].src == OS_SRC_LFW2) L.u[L.nu++] = R->u[i];
    return L;
}

static int os_parse_sizes(const char *txt, int **out, int *n) {
    *n = 0;
    *out = NULL;
    char *dup = strdup(txt), *save = NULL;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        long v = strtol(t, &end, 10);
        int size;
        if (!strcmp(t, "max")) size = 0;
        else if (*end || v < 2 || v > LFR_MAX_WATCHLIST_ENTRIES) {
            free(dup);
            free(*out);
            return -1;
        } else size = (int)v;
        *out = realloc(*out, sizeof(int) * (size_t)(*n + 1));
        (*out)[(*n)++] = size;
    }
    free(dup);
    return *n ? 0 : -1;
}

static int cmd_openset_eval(int argc, char **argv) {
    const char *sizes_txt = "100,1000,max", *sets_txt = "mfn192", *tmpl_txt = "best";
    int64_t k = 1, mated_cap = 5, people_max = 0, extra_max = 0, seed = 1;
    double thr_d = NAN, list_d = 0; /* NAN: not given */
    int json = 0;
    int64_t draws = 1, boot_b = 0;
    const char *truth = NULL, *norm_txt = "none";
    os_run r = {0};
    const cli_opt opts[] = {
        {"lfw", CLI_STR, 1, "DIR", "LFW: holds people.txt and images/", &r.lfw, 0, 0},
        {"utkface", CLI_STR, 0, "DIR", "UTKFace (images/): extra non-mated searches", &r.utk, 0, 0},
        {"celeba", CLI_STR, 0, "DIR", "CelebA (identities.txt, images/): extra non-mated searches",
         &r.celeba, 0, 0},
        {"sizes", CLI_STR, 0, "LIST", "gallery sizes, \"max\" = every accepted person "
         "(default 100,1000,max)", &sizes_txt, 0, 0},
        {"model-set", CLI_STR, 0, "LIST", "model sets, comma-separated (default mfn192)",
         &sets_txt, 0, 0},
        {"images-per-entry", CLI_INT, 0, "K", "accepted photos enrolled per person (default 1)",
         &k, 1, LFR_MAX_ENTRY_IMAGES},
        {"entry-template", CLI_STR, 0, "KIND", "best, mean, qmean, union, both (best, mean) or all (default best)", &tmpl_txt, 0, 0},
        {"mated-per-person", CLI_INT, 0, "M", "most mated searches per person (default 5)",
         &mated_cap, 1, 1000},
        {"people", CLI_INT, 0, "N", "read only the first N people of people.txt (0 = all)",
         &people_max, 0, 1000000},
        {"extra", CLI_INT, 0, "N", "at most N photos each from UTKFace and CelebA (0 = all)",
         &extra_max, 0, 1000000},
        {"seed", CLI_INT, 0, "S", "order in which people are cut into galleries (default 1)",
         &seed, 0, 1000000000},
        {"draws", CLI_INT, 0, "R", "cut the people into galleries R times, each in a new order, "
         "and pool them (default 1)", &draws, 1, OS_MAX_DRAWS},
        {"bootstrap", CLI_INT, 0, "B", "90 % intervals of FNIR at each FPIR from B resamples of "
         "people and photos (0 = none, the default)", &boot_b, 0, OS_MAX_BOOTSTRAP},
        {"score-norm", CLI_STR, 0, "KIND", "none, tnorm or znorm: measure score normalisation, "
         "which the matcher does not do (default none)", &norm_txt, 0, 0},
        {"truth", CLI_STR, 0, "FILE", "ground-truth corrections: \"same A B\" (one person under "
         "two labels), \"image DIR/FILE NAME\" (docs/lfw-truth.txt)", &truth, 0, 0},
        {"threshold", CLI_REAL, 0, "T", "the operating threshold reported (default: each model "
         "set's default threshold, FMR 1e-6: mfn192 0.70, fused704v3 0.625)", &thr_d, 0, 0},
        {"accept-warnings", CLI_FLAG, 0, NULL,
         "enrol images graded 'accept with warnings' too (as an officer accepting them)",
         &r.accept_warned, 0, 0},
        {"list-alerts", CLI_REAL, 0, "T",
         "print to stderr each non-mated search scoring above T on the largest gallery "
         "(first model set and template): which photo, which person", &list_d, 0, 0},
        {"json", CLI_FLAG, 0, NULL, "print the result as JSON", &json, 0, 0},
        CLI_END};
    const cli_cmd cmd = {
        "eval openset",
        "open-set identification, NIST style: FNIR at FPIR 1e-2/1e-3/1e-4 by gallery size", opts,
        NULL,
        "One accepted photo per LFW person with 2+ photos is enrolled; their other photos are\n"
        "mated searches; everyone not in a gallery (other galleries, LFW people with one photo,\n"
        "UTKFace, CelebA) is a non-mated search.  Small sizes use several disjoint galleries,\n"
        "pooled (--draws: cut R times).  A figure needs ~10/FPIR non-mated searches and 10\n"
        "distinct photos above T (fewer: rough; under 1/FPIR searches: not measurable).  Every\n"
        "photo is embedded once per model set.  docs/accuracy.md."};
    int parsed = cli_parse(&cmd, argc, argv);
    if (parsed != CLI_OK) return CLI_EXIT(parsed);
    /* Checks that own nothing come first: each refusal below frees what
     * the checks before it took. */
    if (!isnan(thr_d) && !(thr_d > 0 && thr_d < 1))
        return cli_usage_error(&cmd, "--threshold: %g is not a cosine in (0, 1)", thr_d);
    int *sizes = NULL, nsizes = 0;
    if (os_parse_sizes(sizes_txt, &sizes, &nsizes))
        return cli_usage_error(&cmd, "--sizes: '%s' is not a list of sizes (2..%d) or \"max\"",
                               sizes_txt, LFR_MAX_WATCHLIST_ENTRIES);
    r.tmpl_from = r.tmpl_to = -1;
    for (int v = 0; v < OS_N_TEMPLATES; v++)
        if (!strcmp(tmpl_txt, os_template_name[v])) r.tmpl_from = r.tmpl_to = v;
    if (!strcmp(tmpl_txt, "both")) r.tmpl_from = OS_TMPL_BEST, r.tmpl_to = OS_TMPL_MEAN;
    if (!strcmp(tmpl_txt, "all")) r.tmpl_from = 0, r.tmpl_to = OS_N_TEMPLATES - 1;
    if (r.tmpl_from < 0) {
        free(sizes);
        return cli_usage_error(&cmd, "--entry-template: '%s' is not best, mean, qmean, union, "
                                "both (best and mean) or all", tmpl_txt);
    }
    {
        char *dup = strdup(sets_txt), *save = NULL;
        int bad = 0;
        for (char *t = strtok_r(dup, ",", &save); t && !bad; t = strtok_r(NULL, ",", &save)) {
            int m = -1;
            for (int j = 0; j < LFR_FACE_MODEL_SET_COUNT; j++)
                if (!strcmp(t, os_model_set_name[j])) m = j;
            for (int j = 0; j < r.nsets; j++) bad |= r.sets[j] == m;
            if (m < 0 || bad || r.nsets == LFR_FACE_MODEL_SET_COUNT) bad = 1;
            else r.sets[r.nsets++] = m;
        }
        free(dup);
        if (bad || !r.nsets) {
            free(sizes);
            return cli_usage_error(&cmd, "--model-set: '%s' is not a list of distinct model "
                                   "sets (mfn192, fused704, fused704v2, fused704v3)", sets_txt);
        }
    }
    if (truth) {
        char why[512];
        if (os_truth_load(&r.truth, truth, why, sizeof why)) {
            os_truth_free(&r.truth);
            free(sizes);
            return cli_usage_error(&cmd, "--truth: %s", why);
        }
    }
    r.norm = -1;
    for (int j = 0; j < OS_N_NORMS; j++)
        if (!strcmp(norm_txt, os_norm_name[j])) r.norm = j;
    if (r.norm < 0) {
        os_truth_free(&r.truth);
        free(sizes);
        return cli_usage_error(&cmd, "--score-norm: '%s' is not none, tnorm or znorm", norm_txt);
    }
    r.draws = (int)draws;
    r.k = (int)k, r.mated_cap = (int)mated_cap, r.people_max = people_max;
    r.extra_max = extra_max, r.seed = seed, r.list_alerts = (float)list_d;
    r.thr = isnan(thr_d) ? -1.0f : (float)thr_d;
    for (int j = 0; j < LFR_FACE_MODEL_SET_COUNT; j++)
        r.set_thr[j] = r.thr > 0 ? r.thr
                                 : lfr_match_cal_default_threshold(
                                       lfr_match_calibration_named(os_model_set_name[j]));
    lfr_face_engine *eng = NULL;
    if (lfr_cli_face_load(&eng, &r.ctx)) {
        os_truth_free(&r.truth);
        free(sizes);
        return 1;
    }
    for (int s = 0; s < r.nsets; s++)
        if (!lfr_face_engine_has_model_set(eng, (lfr_face_model_set)r.sets[s])) {
            fprintf(stderr, "openlfr: eval openset: model set %s needs a network that %s lacks "
                    "(tools/setup.sh models)\n", os_model_set_name[r.sets[s]], lfr_cli_models_dir());
            lfr_cli_face_unload(eng, r.ctx);
            os_truth_free(&r.truth);
            free(sizes);
            return 1;
        }
    uint64_t t0 = lfr_now_ns();
    int rc = os_collect(&r);
    double embed_s = (lfr_now_ns() - t0) / 1e9;
    size_t nres = (size_t)r.nsets * OS_N_TEMPLATES * (size_t)nsizes;
    os_result *res = calloc(nres, sizeof *res);
    uint64_t t1 = lfr_now_ns();
    if (!rc) os_truth_apply(&r);
    if (!rc) rc = os_search(&r, sizes, nsizes, res, (int)nres);
    double search_s = (lfr_now_ns() - t1) / 1e9;
    os_boot bt = {0};
    if (!rc && os_boot_init(&bt, &r, (int)boot_b, (uint64_t)seed)) {
        fprintf(stderr, "openlfr: eval openset: out of memory for --bootstrap %d\n", (int)boot_b);
        rc = 1;
    }
    if (!rc) {
        int first_ok = 0, later = 0, none = 0, probes[OS_N_SOURCES] = {0}, mated = 0;
        for (int p = 0; p < r.npe; p++) {
            first_ok += r.pe[p].first_ok;
            later += r.pe[p].acc >= 0 && !r.pe[p].first_ok;
            none += r.pe[p].acc < 0;
        }
        for (size_t i = 0; i < r.nph; i++) {
            probes[r.ph[i].src]++;
            mated += r.ph[i].mated && r.ph[i].person >= 0 && r.pe[r.ph[i].person].acc >= 0;
        }
        json_t *o = json_object();
        json_t *en = json_pack("{s:i, s:i, s:i, s:i, s:f, s:i}", "people_2plus", r.npe,
                               "first_photo_accepted", first_ok, "accepted_later_photo", later,
                               "no_photo_accepted", none, "acceptance_rate_first_photo",
                               r.npe ? (double)first_ok / r.npe : 0, "templates", r.ntmpl);
        json_t *fr = json_object();
        for (int j = 0; j < LFR_ENROL_REJECT_COUNT; j++)
            json_object_set_new(fr, lfr_enrol_reject_name((lfr_enrol_reject)j),
                                json_integer(r.first_reject[j]));
        json_object_set_new(en, "first_photo_rejections", fr);
        json_t *gr = json_object(), *wr = json_object();
        for (int j = 0; j < LFR_ENROL_GRADE_COUNT; j++)
            json_object_set_new(gr, lfr_enrol_grade_name((lfr_enrol_grade)j),
                                json_integer(r.first_grade[j]));
        for (int j = 0; j < LFR_ENROL_WARN_COUNT; j++)
            json_object_set_new(wr, lfr_enrol_warn_name((lfr_enrol_warn)j),
                                json_integer(r.first_warn[j]));
        json_object_set_new(en, "first_photo_grades", gr);
        json_object_set_new(en, "first_photo_warnings", wr);
        json_object_set_new(en, "warned_images_enrolled", json_boolean(r.accept_warned));
        json_object_set_new(o, "enrolment", en);
        json_t *ph = json_object(), *nf = json_object();
        for (int j = 0; j < OS_N_SOURCES; j++) {
            json_object_set_new(ph, os_source_name[j], json_integer(probes[j]));
            json_object_set_new(nf, os_source_name[j], json_integer(r.no_face[j]));
        }
        json_object_set_new(o, "photos", ph);
        json_object_set_new(o, "photos_without_face", nf);
        json_object_set_new(o, "photos_unreadable", json_integer(r.read_fail));
        json_object_set_new(o, "accepted_people", json_integer(r.nacc));
        json_object_set_new(o, "images_per_entry", json_integer(r.k));
        json_object_set_new(o, "draws", json_integer(r.draws));
        json_object_set_new(o, "bootstrap", json_integer(bt.B));
        json_object_set_new(o, "score_norm", json_string(os_norm_name[r.norm]));
        if (truth)
            json_object_set_new(o, "truth",
                                json_pack("{s:s, s:i, s:i, s:i}", "file", truth, "same_pairs",
                                          r.truth.nsame, "images", r.truth.nimg,
                                          "photos_with_other_label_enrolled", r.truth.photos));
        json_object_set_new(o, "embed_seconds", json_real(embed_s));
        json_object_set_new(o, "search_seconds", json_real(search_s));
        if (!json) {
            printf("LFW people with 2+ photos: %d; first photo accepted by enrolment QC: %d "
                   "(%.1f %%), accepted from a later photo: %d, no photo accepted: %d\n",
                   r.npe, first_ok, r.npe ? 100.0 * first_ok / r.npe : 0, later, none);
            printf("(%s enrolled)\nfirst photos graded:", r.accept_warned
                   ? "images with warnings are" : "only images without warnings are");
            for (int j = 0; j < LFR_ENROL_GRADE_COUNT; j++)
                printf(" %s %d", lfr_enrol_grade_name((lfr_enrol_grade)j), r.first_grade[j]);
            printf("\nfirst photos rejected:");
            for (int j = 1; j < LFR_ENROL_REJECT_COUNT; j++)
                if (r.first_reject[j])
                    printf(" %s %d", lfr_enrol_reject_name((lfr_enrol_reject)j), r.first_reject[j]);
            printf("\nfirst photos' warnings:");
            for (int j = 0; j < LFR_ENROL_WARN_COUNT; j++)
                if (r.first_warn[j])
                    printf(" %s %d", lfr_enrol_warn_name((lfr_enrol_warn)j), r.first_warn[j]);
            printf("\nenrolled people: %d (up to %d image%s each, %d templates); mated search "
                   "photos: %d\nphotos (no face):", r.nacc, r.k, r.k > 1 ? "s" : "", r.ntmpl,
                   mated);
            for (int j = 0; j < OS_N_SOURCES; j++)
                printf(" %s %d (%d)", os_source_name[j], probes[j], r.no_face[j]);
            printf("; unreadable %d\nembedding %.0f s, searches %.1f s\n", r.read_fail, embed_s,
                   search_s);
            if (r.norm != OS_NORM_NONE)
                printf("scores normalised (--score-norm %s): thresholds T are in standard "
                       "deviations; the 'at T' and sweep lines do not apply\n",
                       os_norm_name[r.norm]);
            if (r.draws > 1)
                printf("galleries cut %d times from the shuffled people, pooled (--draws)\n",
                       r.draws);
            if (bt.B)
                printf("90 %% intervals of FNIR: %d bootstrap replicates, resampling LFW people "
                       "(with their photos) and other photos (--bootstrap)\n", bt.B);
            if (truth)
                printf("ground truth corrected by %s: %d same-person label pairs, %d photos "
                       "relabelled; %d photos have their person enrolled under another label\n",
                       truth, r.truth.nsame, r.truth.nimg, r.truth.photos);
        }
        json_t *rows = json_array();
        for (int si = 0; si < r.nsets; si++)
        for (int v = r.tmpl_from; v <= r.tmpl_to; v++)
        for (int c = 0; c < nsizes; c++) {
            const os_result *R = &res[((size_t)si * OS_N_TEMPLATES + v) * nsizes + c];
            if (!json && c == 0)
                printf("\nmodel set %s, entry template %s (%d image%s per entry)\n"
                       "%-6s %-9s %-7s %-9s | %-24s | %-24s | %-24s | at %.3f: FNIR  FPIR     "
                       "other\n",
                       os_model_set_name[R->set], os_template_name[R->tmpl], r.k,
                       r.k > 1 ? "s" : "", "size", "galleries", "mated", "non-mated",
                       "FNIR at FPIR 1e-2 (T)", "FNIR at FPIR 1e-3 (T)", "FNIR at FPIR 1e-4 (T)",
                       (double)r.set_thr[R->set]);
            json_t *row = json_pack("{s:s, s:s, s:i, s:i, s:I, s:I, s:I}", "model_set",
                                    os_model_set_name[R->set], "entry_template",
                                    os_template_name[R->tmpl], "size", R->n, "galleries", R->g,
                                    "mated_searches", (json_int_t)R->nm, "mated_no_face",
                                    (json_int_t)R->mated_no_face, "non_mated_searches",
                                    (json_int_t)R->nu);
            json_object_set_new(row, "non_mated_dropped_by_truth",
                                json_integer((json_int_t)R->dropped));
            if (!R->g) {
                json_object_set_new(row, "note", json_string("fewer accepted people than the size"));
                json_array_append_new(rows, row);
                if (!json) printf("%-6d not enough accepted people (%d)\n", R->n, r.nacc);
                continue;
            }
            size_t by[OS_N_SOURCES] = {0};
            for (size_t i = 0; i < R->nu; i++) by[R->u[i].src]++;
            json_t *bs = json_object();
            for (int j = 0; j < OS_N_SOURCES; j++)
                json_object_set_new(bs, os_source_name[j], json_integer((json_int_t)by[j]));
            json_object_set_new(row, "non_mated_by_source", bs);
            if (!json) printf("%-6d %-9d %-7zu %-9zu", R->n, R->g, R->nm, R->nu);
            json_object_set_new(row, "threshold", json_real(r.set_thr[R->set]));
            /* --bootstrap: a row of another set or template is compared
             * with the first set's first template at its size (the same
             * searches, resampled alike) */
            const os_result *B0 = &res[(size_t)r.tmpl_from * nsizes + c];
            if (!bt.B || B0 == R || !B0->g) B0 = NULL;
            char b0name[64] = "";
            if (B0)
                snprintf(b0name, sizeof b0name, "%s %s", os_model_set_name[B0->set],
                         os_template_name[B0->tmpl]);
            os_rates(R, r.set_thr[R->set], r.norm == OS_NORM_NONE, json, row, &bt, B0, b0name);
            /* The same with LFW's own non-mated searches only: UTKFace and
             * CelebA are other collections, which may hold people LFW has
             * (docs/accuracy.md). */
            os_result L = os_lfw_only(R), L0 = B0 ? os_lfw_only(B0) : (os_result){0};
            json_t *lj = json_pack("{s:I}", "non_mated_searches", (json_int_t)L.nu);
            if (!json) printf("%-6s %-9s %-7s %-9zu", "", "LFW only", "", L.nu);
            os_rates(&L, r.set_thr[R->set], r.norm == OS_NORM_NONE, json, lj, &bt,
                     B0 ? &L0 : NULL, b0name);
            free(L.u);
            free(L0.u);
            json_object_set_new(row, "lfw_only", lj);
            json_array_append_new(rows, row);
        }
        /* the 'at T' threshold: --threshold, or the first set's default
         * (each result row has its own set's) */
        json_object_set_new(o, "threshold", json_real(r.set_thr[r.sets[0]]));
        json_object_set_new(o, "results", rows);
        if (json) {
            char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
            puts(s);
            free(s);
        } else {
            printf("\nFNIR: mated searches whose own entry does not score above T; FPIR: "
                   "non-mated searches\nwith any entry above T; other: mated searches with "
                   "someone else's entry above T.\nrough: fewer than 10 non-mated searches, "
                   "or 10 distinct photos, above T.  'at T': %s.\n",
                   r.thr > 0 ? "the threshold given (--threshold)"
                             : "the model set's default threshold (FMR 1e-6)");
        }
        json_decref(o);
    }
    os_boot_free(&bt);
    for (size_t q = 0; q < nres; q++) {
        free(res[q].m);
        free(res[q].u);
    }
    free(res);
    for (int s = 0; s < r.nsets; s++) {
        free(r.pemb[s]);
        free(r.temb[s]);
    }
    free(r.tw);
    os_truth_free(&r.truth);
    for (size_t i = 0; i < r.nph; i++) free(r.ph[i].path);
    for (int p = 0; p < r.npe; p++) free(r.pe[p].name);
    free(r.ph);
    free(r.pe);
    free(sizes);
    lfr_cli_face_unload(eng, r.ctx);
    return rc;
}

int lfr_cmd_eval(int argc, char **argv) {
    static const cli_sub subs[] = {
        {"verify", cmd_verify, "verification accuracy on LFW pairs"},
        {"detect", cmd_detect_eval, "detection precision/recall on WIDER FACE"},
        {"ident", cmd_ident, "identification accuracy on whole scenes"},
        {"watchlist", cmd_watchlist_eval, "open-set identification: FNIR and FPIR on LFW"},
        {"openset", cmd_openset_eval,
         "open-set identification, NIST style: FNIR at FPIR 1e-2/1e-3/1e-4 by gallery size"},
        {"report", lfr_cmd_eval_report,
         "accuracy and fairness evaluation: report.json and index.html with charts"},
        {NULL, NULL, NULL}};
    return cli_dispatch("eval", subs, argc, argv);
}
