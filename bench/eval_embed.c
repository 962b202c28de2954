/*
 * eval_embed.c - the embedders compared: MobileFaceNet 192-d (mfn192), the
 * 512-d MobileFaceNet alone (mfn512) and the two fused (fused704,
 * src/face/face.h), for docs/embedders.md.
 *
 *   eval_embed [fused704v2|fused704v3] [lfw [PERSON_STEP]] [utk [PER_GROUP]] [cost [REPS]]
 *       (no argument: all three, full)
 *
 *   fused704v2  measure model set FUSED704V2 instead of FUSED704: the 512-d
 *         network fed BGR, the channel order it was trained on, where
 *         FUSED704 feeds it RGB as faceplugin's JS does ("mfn512-bgr";
 *         docs/embedders.md "Channel order").
 *   fused704v3  model set FUSED704V3: FUSED704V2 aligned on O-Net's
 *         landmarks averaged with the 68-point network's (both parts, so
 *         the first column is the 192-d network on that alignment,
 *         "mfn192-lm"; docs/embedders.md "Landmarks").
 *
 *   lfw   LFW verification, the protocol of `openlfr eval verify`
 *         (src/cli/cmd_eval.c): the people named in lfw/pairs.txt, every
 *         photo of each, the detected face nearest the image centre
 *         (min_face 10, other parameters default), and TAR at FAR over ALL
 *         genuine and impostor pairs of those photos: the threshold is the
 *         floor(FAR x impostors)-th highest impostor score and a pair is
 *         accepted when its score is above it.  Reported at FAR 1e-3, 1e-4,
 *         1e-5 and 1e-6 for each model set, with the pairs file's accuracy
 *         at the best single threshold.  PERSON_STEP > 1 keeps every k-th
 *         person of the pairs file (sampling; 1 = all).
 *   utk   UTKFace adults (age >= 18) by race x gender (the groups of
 *         `eval_quality utk`; PER_GROUP images each, every k-th in name
 *         order, 0 = all): impostor cosines between all pairs within each
 *         group (UTKFace has no identities: distinct photos are taken as
 *         distinct people, as there), their median, and the share at or
 *         above each model set's own LFW FAR-1e-4 threshold (from `lfw` in
 *         the same run; without it, the 0.563 for mfn192 only).
 *   cost  time per embedding of one aligned face, one thread (run with
 *         OMP_NUM_THREADS=1): each network alone on a planned batch-1
 *         context (the engine's DNNL backend), and lfr_face_embed_set per
 *         face (alignment warp, normalisation, L2) for MFN192 and FUSED704;
 *         the two of each pair alternate run by run (shared cores), REPS
 *         (200) runs after 10 warm-up runs, median and minimum.
 *
 * The fused cosine is computed from the two parts (it is their mean, the
 * dot product of the fused unit vectors; tests/test_face.c checks that).
 * Data from $OPENLFR_DATA, models from $OPENLFR_MODELS (or models/).
 * Nothing is written anywhere: numbers go to stdout, progress to stderr;
 * except that with EVAL_EMBED_DUMP=FILE, `lfw` writes one line per photo
 * embedded (tab-separated: path, O-Net's 5 landmarks x y in frame pixels,
 * the fused vector's values), the input of bench/survey (other networks
 * measured on the same faces, docs/embedders.md "Other networks on npm").
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "face/face.h"
#include "nn/nn.h"

enum { D192 = 192, D512 = 512, DF = 704, NSETS = 3 };
static const char *set_name[NSETS] = {"mfn192", "mfn512", "fused704"};
static lfr_face_model_set fused = LFR_FACE_MODEL_FUSED704; /* or FUSED704V2 */

#define N_FARS 4
static const double fars[N_FARS] = {1e-3, 1e-4, 1e-5, 1e-6};

static lfr_face_engine *eng;
static lfr_face_ctx *ctx;
static const char *data;
static float thr_1e4[NSETS];   /* from lfw; NAN until measured */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_float_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static double dot(const float *a, const float *b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* The cosines of two fused vectors: mfn192, mfn512 and fused704. */
static void cosines(const float *a, const float *b, float c[NSETS]) {
    c[0] = (float)(2 * dot(a, b, D192));
    c[1] = (float)(2 * dot(a + D192, b + D192, D512));
    c[2] = (c[0] + c[1]) / 2;
}

static FILE *dump;   /* EVAL_EMBED_DUMP, or NULL */

/* The detected face nearest the centre, embedded as FUSED704 (the face
 * choice of `openlfr eval verify`; min_face is the caller's). */
static int embed_photo(const char *path, float min_face, float *out) {
    lfr_image im = {0};
    lfr_err err = {{0}};
    if (lfr_image_load(path, &im, &err) != LFR_OK) return -1;
    lfr_face *faces;
    int n = 0, rc = -1;
    lfr_face_params p = lfr_face_params_default;
    if (min_face > 0) p.min_face = min_face;
    if (lfr_face_detect(ctx, &im, &p, &faces, &n, &err) == LFR_OK && n > 0) {
        int c = lfr_face_pick_central(faces, n, im.w, im.h);
        if (lfr_face_embed_set(ctx, &im, &faces[c], 1, fused, out, &err) ==
            LFR_OK) {
            rc = 0;
            if (dump) {
                fprintf(dump, "%s", path);
                for (int k = 0; k < 5; k++)
                    fprintf(dump, "\t%.2f\t%.2f", faces[c].lm[k][0], faces[c].lm[k][1]);
                for (int d = 0; d < DF; d++) fprintf(dump, "\t%.6f", out[d]);
                fputc('\n', dump);
            }
        } else
            fprintf(stderr, "%s: %s\n", path, err.msg);
    }
    lfr_image_free(&im);
    return rc;
}

/* Top-k of a stream of floats (a min-heap). */
typedef struct {
    float *v;
    size_t n, k;
} topk;

static void topk_push(topk *h, float s) {
    if (h->n < h->k) {
        size_t i = h->n++;
        h->v[i] = s;
        while (i > 0 && h->v[(i - 1) / 2] > h->v[i]) {
            float t = h->v[i];
            h->v[i] = h->v[(i - 1) / 2];
            h->v[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
        return;
    }
    if (h->k == 0 || s <= h->v[0]) return;
    h->v[0] = s;
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && h->v[l] < h->v[m]) m = l;
        if (r < h->n && h->v[r] < h->v[m]) m = r;
        if (m == i) break;
        float t = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = t;
        i = m;
    }
}

/* LFW ------------------------------------------------------------------------ */

typedef struct {
    int person, index;
    int ok;
} photo;

static char **people;
static int n_people, cap_people;
static photo *ph;
static int n_ph, cap_ph;

static int person_id(const char *name) {
    for (int i = 0; i < n_people; i++)
        if (!strcmp(people[i], name)) return i;
    if (n_people == cap_people)
        people = realloc(people, sizeof *people * (size_t)(cap_people = cap_people ? cap_people * 2 : 1024));
    people[n_people] = strdup(name);
    return n_people++;
}

static int photo_id(int person, int index) {
    for (int i = 0; i < n_ph; i++)
        if (ph[i].person == person && ph[i].index == index) return i;
    if (n_ph == cap_ph) ph = realloc(ph, sizeof *ph * (size_t)(cap_ph = cap_ph ? cap_ph * 2 : 1024));
    ph[n_ph] = (photo){person, index, 0};
    return n_ph++;
}

static int lfw(int step) {
    char path[8192], line[1024];
    snprintf(path, sizeof path, "%s/lfw/pairs.txt", data);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return 1;
    }
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    /* The pairs (person a, photo i, person b, photo j, same), for the
     * pairs-file accuracy; with step > 1 only those whose people are kept. */
    int (*pr)[5] = NULL, npr = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        char a[256], b[256];
        int i, j, same;
        int k = sscanf(line, "%255s %d %255s %d", a, &i, b, &j);
        if (k == 3 && sscanf(line, "%255s %d %d", a, &i, &j) == 3) same = 1, strcpy(b, a);
        else if (k == 4) same = 0;
        else continue;
        if (npr == cap) pr = realloc(pr, sizeof *pr * (size_t)(cap = cap ? cap * 2 : 1024));
        pr[npr][0] = person_id(a);
        pr[npr][1] = i;
        pr[npr][2] = person_id(b);
        pr[npr][3] = j;
        pr[npr][4] = same;
        npr++;
    }
    fclose(f);
    /* Sampling by person: keep person p when its id % step == 0. */
    int n_all_people = n_people;
    char *kept = calloc((size_t)n_people, 1);
    for (int p = 0; p < n_people; p++) kept[p] = step <= 1 || p % step == 0;
    int (*pairs)[3] = malloc(sizeof *pairs * (size_t)(npr ? npr : 1));
    int np = 0;
    for (int r = 0; r < npr; r++) {
        int pa = pr[r][0], pb = pr[r][2];
        if (!kept[pa] || !kept[pb]) continue;
        pairs[np][0] = photo_id(pa, pr[r][1]);
        pairs[np][1] = photo_id(pb, pr[r][3]);
        pairs[np][2] = pr[r][4];
        np++;
    }
    for (int p = 0; p < n_all_people; p++) {
        if (!kept[p]) continue;
        for (int idx = 1; idx < 10000; idx++) {
            struct stat st;
            snprintf(path, sizeof path, "%s/lfw/images/%s/%s_%04d.jpg", data, people[p], people[p], idx);
            if (stat(path, &st) != 0) break;
            photo_id(p, idx);
        }
    }
    int n_kept = 0;
    for (int p = 0; p < n_all_people; p++) n_kept += kept[p];
    printf("lfw: %d pairs of %d in the file, %d of %d people (every %d%s), %d photos\n", np, npr,
           n_kept, n_all_people, step, step == 1 ? ": all" : "", n_ph);
    fflush(stdout);

    float *emb = malloc(sizeof(float) * DF * (size_t)n_ph);
    int noface = 0;
    double t0 = now_s();
    for (int i = 0; i < n_ph; i++) {
        snprintf(path, sizeof path, "%s/lfw/images/%s/%s_%04d.jpg", data, people[ph[i].person],
                 people[ph[i].person], ph[i].index);
        ph[i].ok = embed_photo(path, 10, emb + (size_t)i * DF) == 0;
        noface += !ph[i].ok;
        if ((i + 1) % 500 == 0 || i + 1 == n_ph)
            fprintf(stderr, "lfw: %d/%d photos embedded (%.1f/s), %d without a face\n", i + 1,
                    n_ph, (i + 1) / (now_s() - t0), noface);
    }
    double t_embed = now_s() - t0;

    /* Protocol accuracy at the best single threshold, per set. */
    double acc[NSETS];
    float acc_thr[NSETS];
    float *ps = malloc(sizeof(float) * NSETS * (size_t)(np ? np : 1));
    for (int r = 0; r < np; r++) {
        const photo *a = &ph[pairs[r][0]], *b = &ph[pairs[r][1]];
        float c[NSETS] = {-1, -1, -1};
        if (a->ok && b->ok)
            cosines(emb + (size_t)pairs[r][0] * DF, emb + (size_t)pairs[r][1] * DF, c);
        for (int s = 0; s < NSETS; s++) ps[(size_t)r * NSETS + s] = c[s];
    }
    for (int s = 0; s < NSETS; s++) {
        acc[s] = 0;
        acc_thr[s] = 0;
        for (int t = 0; t < np; t++) {
            float th = ps[(size_t)t * NSETS + s];
            int ok = 0;
            for (int r = 0; r < np; r++) ok += (ps[(size_t)r * NSETS + s] >= th) == pairs[r][2];
            if ((double)ok / np > acc[s]) acc[s] = (double)ok / np, acc_thr[s] = th;
        }
    }

    /* All pairs: genuine scores kept, impostors as top-k per set. */
    size_t ng = 0, ni = 0;
    for (int i = 0; i < n_ph; i++) {
        if (!ph[i].ok) continue;
        for (int j = i + 1; j < n_ph; j++) {
            if (!ph[j].ok) continue;
            if (ph[i].person == ph[j].person) ng++;
            else ni++;
        }
    }
    size_t k = (size_t)floor(fars[0] * (double)ni) + 1;
    topk imp[NSETS];
    float *gen[NSETS];
    int *gen_person = malloc(sizeof(int) * (ng ? ng : 1));
    for (int s = 0; s < NSETS; s++) {
        imp[s] = (topk){malloc(sizeof(float) * k), 0, k};
        gen[s] = malloc(sizeof(float) * (ng ? ng : 1));
    }
    size_t g = 0;
    double t1 = now_s();
    for (int i = 0; i < n_ph; i++) {
        if (!ph[i].ok) continue;
        const float *a = emb + (size_t)i * DF;
        for (int j = i + 1; j < n_ph; j++) {
            if (!ph[j].ok) continue;
            float c[NSETS];
            cosines(a, emb + (size_t)j * DF, c);
            if (ph[i].person == ph[j].person) {
                for (int s = 0; s < NSETS; s++) gen[s][g] = c[s];
                gen_person[g++] = ph[i].person;
            } else {
                for (int s = 0; s < NSETS; s++) topk_push(&imp[s], c[s]);
            }
        }
    }
    double t_pairs = now_s() - t1;
    printf("lfw: %d photos embedded in %.0f s, %d without a face; %zu genuine and %zu impostor "
           "pairs scored in %.0f s\n",
           n_ph, t_embed, noface, ng, ni, t_pairs);
    printf("lfw: pairs-file accuracy at the best single threshold:");
    for (int s = 0; s < NSETS; s++)
        printf(" %s %.2f %% (%.4f)%s", set_name[s], 100 * acc[s], acc_thr[s], s + 1 < NSETS ? "," : "\n");
    printf("| FAR | %s TAR (threshold) | %s TAR (threshold) | %s TAR (threshold) |\n", set_name[0],
           set_name[1], set_name[2]);
    printf("|---|---:|---:|---:|\n");
    double tar[NSETS][N_FARS];
    float thr[NSETS][N_FARS];
    for (int s = 0; s < NSETS; s++) {
        qsort(imp[s].v, imp[s].n, sizeof(float), cmp_float_desc);
        for (int q = 0; q < N_FARS; q++) {
            size_t idx = (size_t)floor(fars[q] * (double)ni);
            tar[s][q] = NAN;
            thr[s][q] = NAN;
            if (idx >= imp[s].n) continue;
            float t = imp[s].v[idx];
            size_t acc_n = 0;
            for (size_t x = 0; x < ng; x++) acc_n += gen[s][x] > t;
            tar[s][q] = ng ? (double)acc_n / ng : 0;
            thr[s][q] = t;
        }
        thr_1e4[s] = thr[s][1];
    }
    for (int q = 0; q < N_FARS; q++) {
        printf("| %.0e (%zu impostor pairs above) |", fars[q], (size_t)floor(fars[q] * (double)ni));
        for (int s = 0; s < NSETS; s++) printf(" %.2f %% (%.4f) |", 100 * tar[s][q], thr[s][q]);
        printf("\n");
    }
    /* The same thresholds, TAR averaged over people (each person with
     * genuine pairs counts once, however many photos it has: LFW's
     * all-pairs genuine set is dominated by a few people with hundreds of
     * photos). */
    long *pacc = calloc((size_t)n_people, sizeof *pacc), *ptot = calloc((size_t)n_people, sizeof *ptot);
    int people_gen = 0, top_person = -1;
    for (size_t x = 0; x < ng; x++) ptot[gen_person[x]]++;
    for (int p = 0; p < n_people; p++) {
        people_gen += ptot[p] > 0;
        if (ptot[p] && (top_person < 0 || ptot[p] > ptot[top_person])) top_person = p;
    }
    if (top_person >= 0)
        printf("lfw: %d people have genuine pairs; the most, %s, has %ld of the %zu (%.0f %%)\n",
               people_gen, people[top_person], ptot[top_person], ng,
               100.0 * ptot[top_person] / (double)ng);
    printf("| FAR | %s TAR, mean over people | %s | %s |\n|---|---:|---:|---:|\n", set_name[0],
           set_name[1], set_name[2]);
    for (int q = 0; q < N_FARS; q++) {
        printf("| %.0e |", fars[q]);
        for (int s = 0; s < NSETS; s++) {
            memset(pacc, 0, sizeof *pacc * (size_t)n_people);
            for (size_t x = 0; x < ng; x++) pacc[gen_person[x]] += gen[s][x] > thr[s][q];
            double m = 0;
            for (int p = 0; p < n_people; p++)
                if (ptot[p]) m += (double)pacc[p] / ptot[p];
            printf(" %.2f %% |", people_gen ? 100 * m / people_gen : NAN);
        }
        printf("\n");
    }
    free(pacc), free(ptot), free(gen_person);
    fflush(stdout);
    for (int s = 0; s < NSETS; s++) free(imp[s].v), free(gen[s]);
    free(ps), free(pairs), free(kept), free(pr), free(emb);
    return 0;
}

/* UTKFace ---------------------------------------------------------------------- */

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
    float thr[NSETS];
    for (int s = 0; s < NSETS; s++) thr[s] = thr_1e4[s];
    if (isnan(thr[0])) thr[0] = 0.563f;   /* the LFW FMR 1e-4 for mfn192 */
    printf("utk: thresholds (LFW FAR 1e-4%s): mfn192 %.4f, mfn512 %.4f, fused704 %.4f\n",
           isnan(thr_1e4[0]) ? ", not measured in this run: mfn192 from issue 11" : ", this run",
           thr[0], thr[1], thr[2]);
    printf("| group | images | pairs | median mfn192 / mfn512 / fused704 | share >= own threshold "
           "mfn192 / mfn512 / fused704 (count) |\n|---|---:|---:|---|---|\n");
    double med_g[8][NSETS], share_g[8][NSETS];
    int ngroups = 0;
    long total = 0, above_all[NSETS] = {0};
    for (int r = 0; r < 4; r++)
        for (int g = 0; g < 2; g++) {
            int avail = 0, ns = 0;
            for (int i = 0; i < nn; i++) {
                int age, gg, rr;
                sscanf(names[i], "%d_%d_%d_", &age, &gg, &rr);
                if (age >= 18 && gg == g && rr == r) avail++;
            }
            int want = per_group > 0 && per_group < avail ? per_group : avail;
            int step = avail > want ? avail / want : 1, k = 0;
            float *emb = malloc(sizeof(float) * DF * (size_t)(want ? want : 1));
            int found = 0;
            for (int i = 0; i < nn && ns < want; i++) {
                int age, gg, rr;
                sscanf(names[i], "%d_%d_%d_", &age, &gg, &rr);
                if (!(age >= 18 && gg == g && rr == r)) continue;
                if (k++ % step) continue;
                ns++;
                char path[8192];
                snprintf(path, sizeof path, "%s/%s", dir, names[i]);
                if (embed_photo(path, 0, emb + (size_t)found * DF) == 0) found++;
            }
            size_t npairs = (size_t)found * (found - 1) / 2, p = 0;
            float *sc[NSETS];
            long above[NSETS] = {0};
            for (int s = 0; s < NSETS; s++) sc[s] = malloc(sizeof(float) * (npairs ? npairs : 1));
            for (int i = 0; i < found; i++)
                for (int j = i + 1; j < found; j++, p++) {
                    float c[NSETS];
                    cosines(emb + (size_t)i * DF, emb + (size_t)j * DF, c);
                    for (int s = 0; s < NSETS; s++) {
                        sc[s][p] = c[s];
                        above[s] += c[s] >= thr[s];
                    }
                }
            printf("| %s %s | %d of %d (%d faces) | %zu |", race_name[r], g ? "women" : "men", ns,
                   avail, found, npairs);
            for (int s = 0; s < NSETS; s++) {
                qsort(sc[s], npairs, sizeof(float), cmp_float_desc);
                med_g[ngroups][s] = npairs ? sc[s][npairs / 2] : NAN;
                share_g[ngroups][s] = npairs ? (double)above[s] / npairs : NAN;
                printf(" %.3f%s", med_g[ngroups][s], s + 1 < NSETS ? " /" : " |");
                above_all[s] += above[s];
                free(sc[s]);
            }
            for (int s = 0; s < NSETS; s++)
                printf(" %.1e (%ld)%s", share_g[ngroups][s], above[s], s + 1 < NSETS ? " /" : " |\n");
            fflush(stdout);
            total += (long)npairs;
            ngroups++;
            free(emb);
        }
    printf("utk: %ld within-group impostor pairs in all; at or above the threshold:", total);
    for (int s = 0; s < NSETS; s++)
        printf(" %s %.1e (%ld)%s", set_name[s], total ? (double)above_all[s] / total : 0,
               above_all[s], s + 1 < NSETS ? "," : "\n");
    for (int s = 0; s < NSETS; s++) {
        double m[8], sh[8];
        for (int i = 0; i < ngroups; i++) m[i] = med_g[i][s], sh[i] = share_g[i][s];
        qsort(m, (size_t)ngroups, sizeof(double), cmp_double);
        qsort(sh, (size_t)ngroups, sizeof(double), cmp_double);
        printf("utk %s: median impostor cosine by group %.3f..%.3f (spread %.3f); share at or above "
               "the threshold %.1e..%.1e (highest / overall %.1f)\n",
               set_name[s], m[0], m[ngroups - 1], m[ngroups - 1] - m[0], sh[0], sh[ngroups - 1],
               above_all[s] ? sh[ngroups - 1] / ((double)above_all[s] / total) : NAN);
    }
    for (int i = 0; i < nn; i++) free(names[i]);
    free(names);
    return 0;
}

/* Cost ------------------------------------------------------------------------- */

static double median_of(double *v, int n) {
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct {
    lfr_nn_model *m;
    lfr_nn_ctx *c;
} net;

static int net_open(const char *models, const char *file, net *n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", models, file);
    lfr_err err = {{0}};
    if (lfr_nn_model_load(path, &n->m, &err) != LFR_OK ||
        lfr_nn_ctx_new(n->m, LFR_NN_BACKEND_DNNL, &n->c) != LFR_OK ||
        lfr_nn_ctx_plan(n->c, 1, 112, 112, &err) != LFR_OK) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return -1;
    }
    lfr_nn_shape s;
    float *x = lfr_nn_ctx_input(n->c, 0, &s);
    for (size_t i = 0; i < lfr_nn_shape_elems(&s); i++) x[i] = (float)((i * 37) % 255) / 128.0f - 1;
    return 0;
}

/* Multiply-accumulates of one run as planned (CONV2D and FC weights times
 * output positions): a cost figure the machine's load cannot disturb. */
static double net_macs(const net *n) {
    const lfr_nn_graph *g = lfr_nn_model_graph(n->m);
    double macs = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const lfr_nn_node *nd = &g->nodes[i];
        if (nd->op != LFR_NN_OP_CONV2D && nd->op != LFR_NN_OP_FC) continue;
        lfr_nn_shape so;
        (void)lfr_nn_ctx_tensor(n->c, nd->out, &so);
        const lfr_nn_shape *w = &g->tensors[nd->in[1]].shape;
        double per_out = (double)lfr_nn_shape_elems(w) / w->d[0];   /* kh kw Ci/g, or K */
        macs += per_out * (double)lfr_nn_shape_elems(&so);
    }
    return macs;
}

/* The shared cores are busy: the two candidates of each comparison run
 * alternately, rep by rep, so both see the same load; the median and the
 * minimum (the least disturbed run) of each are reported. */
static int cost(const char *models, int reps) {
    net a = {0}, b = {0};
    double *t[4];
    for (int k = 0; k < 4; k++) t[k] = malloc(sizeof(double) * (size_t)reps);
    int ok = net_open(models, "mobilefacenet.lfrm", &a) == 0 && net_open(models, "mfn512.lfrm", &b) == 0;
    double ma = ok ? net_macs(&a) : NAN, mb = ok ? net_macs(&b) : NAN;
    for (int i = 0; ok && i < 10; i++) (void)lfr_nn_ctx_run(a.c), (void)lfr_nn_ctx_run(b.c);
    for (int i = 0; ok && i < reps; i++) {
        double t0 = now_s();
        (void)lfr_nn_ctx_run(a.c);
        double t1 = now_s();
        (void)lfr_nn_ctx_run(b.c);
        t[0][i] = t1 - t0;
        t[1][i] = now_s() - t1;
    }
    lfr_nn_ctx_destroy(a.c), lfr_nn_ctx_destroy(b.c);
    lfr_nn_model_destroy(a.m), lfr_nn_model_destroy(b.m);
    /* lfr_face_embed_set on a demo photo's largest face. */
    char path[4096];
    snprintf(path, sizeof path, "%s/photos/sample1.jpg", models);
    lfr_image im = {0};
    lfr_err err = {{0}};
    lfr_face *faces;
    int n = 0;
    if (ok && lfr_image_load(path, &im, &err) == LFR_OK &&
        lfr_face_detect(ctx, &im, NULL, &faces, &n, &err) == LFR_OK && n > 0) {
        lfr_face f = faces[0];
        float out[DF];
        for (int i = 0; i < 10; i++) {
            (void)lfr_face_embed_set(ctx, &im, &f, 1, LFR_FACE_MODEL_MFN192, out, &err);
            (void)lfr_face_embed_set(ctx, &im, &f, 1, fused, out, &err);
        }
        for (int i = 0; i < reps; i++) {
            double t0 = now_s();
            (void)lfr_face_embed_set(ctx, &im, &f, 1, LFR_FACE_MODEL_MFN192, out, &err);
            double t1 = now_s();
            (void)lfr_face_embed_set(ctx, &im, &f, 1, fused, out, &err);
            t[2][i] = t1 - t0;
            t[3][i] = now_s() - t1;
        }
    } else {
        fprintf(stderr, "%s: no face or no networks (%s)\n", path, err.msg);
        ok = 0;
    }
    lfr_image_free(&im);
    double med[4], mn[4];
    for (int k = 0; k < 4; k++) {
        med[k] = ok ? median_of(t[k], reps) * 1000 : NAN;
        mn[k] = ok ? t[k][0] * 1000 : NAN;   /* sorted by median_of */
        free(t[k]);
    }
    printf("cost (one thread, DNNL backend, %d alternating runs; median / minimum ms):\n", reps);
    printf("  multiply-adds      mfn192 %.1f M   mfn512 %.1f M   ratio %.2f\n", ma / 1e6, mb / 1e6,
           mb / ma);
    printf("  network alone      mfn192 %.2f / %.2f   mfn512 %.2f / %.2f   ratio %.2f / %.2f\n",
           med[0], mn[0], med[1], mn[1], med[1] / med[0], mn[1] / mn[0]);
    printf("  lfr_face_embed_set mfn192 %.2f / %.2f   %s %.2f / %.2f   ratio %.2f / %.2f\n",
           med[2], mn[2], lfr_face_model_set_name(fused), med[3], mn[3], med[3] / med[2],
           mn[3] / mn[2]);
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    const char *models = getenv("OPENLFR_MODELS");
    if (!models || !*models) models = "models";
    data = getenv("OPENLFR_DATA");
    for (int s = 0; s < NSETS; s++) thr_1e4[s] = NAN;
    lfr_err err = {{0}};
    if (lfr_face_engine_load(models, &eng, &err) != LFR_OK || lfr_face_ctx_new(eng, &ctx) != LFR_OK) {
        fprintf(stderr, "eval_embed: cannot load models from %s: %s\n", models, err.msg);
        return 1;
    }
    if (!lfr_face_engine_has_model_set(eng, LFR_FACE_MODEL_FUSED704)) {
        fprintf(stderr, "eval_embed: no mfn512.lfrm in %s (tools/setup.sh models)\n", models);
        return 1;
    }
    int first = 1;
    if (argc > 1 && !strcmp(argv[1], "fused704v2")) {
        fused = LFR_FACE_MODEL_FUSED704V2, first = 2;
        set_name[1] = "mfn512-bgr", set_name[2] = "fused704v2";
    } else if (argc > 1 && !strcmp(argv[1], "fused704v3")) {
        if (!lfr_face_engine_has_model_set(eng, LFR_FACE_MODEL_FUSED704V3)) {
            fprintf(stderr, "eval_embed: no lm68.lfrm in %s (tools/setup.sh models)\n", models);
            return 1;
        }
        fused = LFR_FACE_MODEL_FUSED704V3, first = 2;
        set_name[0] = "mfn192-lm", set_name[1] = "mfn512-bgr-lm", set_name[2] = "fused704v3";
    }
    const char *dump_path = getenv("EVAL_EMBED_DUMP");
    if (dump_path && *dump_path && !(dump = fopen(dump_path, "w"))) {
        fprintf(stderr, "eval_embed: EVAL_EMBED_DUMP: cannot create %s\n", dump_path);
        return 1;
    }
    int all = argc <= first, rc = 0;
    for (int i = first; i <= argc - 1 || (all && i == first); i++) {
        const char *cmd = all ? NULL : argv[i];
        int arg = -1;
        if (!all && i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9') arg = atoi(argv[++i]);
        if ((all || !strcmp(cmd, "lfw") || !strcmp(cmd, "utk")) && !data) {
            fprintf(stderr, "eval_embed: OPENLFR_DATA is not set: LFW and UTKFace are not measured\n");
            return 1;
        }
        if (all || !strcmp(cmd, "cost")) rc |= cost(models, arg > 0 ? arg : 200);
        if (all || !strcmp(cmd, "lfw")) rc |= lfw(arg > 0 ? arg : 1);
        if (all || !strcmp(cmd, "utk")) rc |= utk(arg >= 0 ? arg : 0);
        if (!all && strcmp(cmd, "lfw") && strcmp(cmd, "utk") && strcmp(cmd, "cost")) {
            fprintf(stderr, "usage: eval_embed [fused704v2|fused704v3] [lfw [PERSON_STEP]] [utk [PER_GROUP]] "
                    "[cost [REPS]]\n");
            return 2;
        }
    }
    if (dump && fclose(dump) != 0) {
        fprintf(stderr, "eval_embed: EVAL_EMBED_DUMP: cannot write %s\n", dump_path);
        rc = 1;
    }
    lfr_face_ctx_destroy(ctx);
    lfr_face_engine_destroy(eng);
    return rc;
}
