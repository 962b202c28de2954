/*
 * cmd_calib.c - `openlfr calibrate`: measures the impostor and genuine score
 * distributions of the face engine and prints them as the C table
 * src/match/calib_table.h, from which the matcher derives the false-match
 * rate, the likeness score and the expected true-accept rate of a threshold
 * (docs/likeness.md).
 *
 *   openlfr calibrate --pairs FILE --images DIR [--data-name TEXT]
 *
 * FILE is an LFW-format pairs file (header "N" or "FOLDS N", then
 * "name i j" or "name1 i name2 j"); it is used only for the list of people
 * it names.  Every photo of those people (DIR/name/name_%04d.jpg, numbered
 * from 1 until the first missing one) is embedded, using the detected face
 * nearest the image centre (lfr_face_pick_central).  Then EVERY pair of
 * embedded photos is scored: same person -> genuine, different people ->
 * impostor.  For each point c of a fixed cosine grid the tool counts the
 * pairs scoring >= c (the matcher accepts score >= threshold), giving
 *   FMR(c) = impostor pairs >= c / impostor pairs
 *   TAR(c) = genuine pairs  >= c / genuine pairs
 * Photos where no face is found are left out and counted.
 *
 * The table goes to stdout, progress to stderr.  Nothing is written to disk.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "face/face.h"
#include "opt.h"

/* The cosine grid: CALIB_LO, CALIB_LO + 0.01, ..., CALIB_HI. */
#define CALIB_LO_C 0    /* hundredths */
#define CALIB_HI_C 100
#define CALIB_N (CALIB_HI_C - CALIB_LO_C + 1)
/* Fine histogram for the exact-ish thresholds at FMR 1e-2 ... 1e-6. */
#define FINE_BINS 200000 /* over [-1, 1]: width 1e-5 */

typedef struct {
    char **name;
    int n, cap;
} names;

static int names_find(const names *s, const char *x) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->name[i], x)) return i;
    return -1;
}

/* Index of x, added when absent; -1 when out of memory. */
static int names_add(names *s, const char *x) {
    int i = names_find(s, x);
    if (i >= 0) return i;
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 256;
        char **v = lfr_realloc(s->name, sizeof(char *) * (size_t)cap);
        if (!v) return -1;
        s->name = v;
        s->cap = cap;
    }
    if (!(s->name[s->n] = lfr_strdup(x))) return -1;
    return s->n++;
}

static void names_free(names *s) {
    for (int i = 0; i < s->n; i++) lfr_free(s->name[i]);
    lfr_free(s->name);
}

/* The people the pairs file names, in order of first appearance. */
static int read_people(const char *path, names *people) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "openlfr: calibrate: cannot open %s\n", path);
        return 1;
    }
    char line[1024];
    int folds = 0, per = 0;
    if (!fgets(line, sizeof line, f) || sscanf(line, "%d %d", &folds, &per) < 1) {
        fprintf(stderr, "openlfr: calibrate: %s: bad header\n", path);
        fclose(f);
        return 1;
    }
    while (fgets(line, sizeof line, f)) {
        char a[256], b[256];
        int i, j, k = sscanf(line, "%255s %d %255s %d", a, &i, b, &j);
        if (k < 2) continue;
        if (names_add(people, a) < 0 || (k == 4 && names_add(people, b) < 0)) {
            fclose(f);
            return lfr_cli_fail("calibrate", LFR_ERR_NOMEM, NULL);
        }
    }
    fclose(f);
    return 0;
}

static int embed_central(lfr_face_ctx *ctx, const char *path, float *out) {
    lfr_err err = {{0}};
    lfr_image im = {0};
    if (lfr_image_load(path, &im, &err) != LFR_OK) return -1;
    lfr_face *faces;
    int n = 0;
    lfr_face_params p = lfr_face_params_default;
    p.min_face = 10; /* as `eval verify`: LFW crops can be small */
    lfr_status st = lfr_face_detect(ctx, &im, &p, &faces, &n, &err);
    int best = st == LFR_OK ? lfr_face_pick_central(faces, n, im.w, im.h) : -1;
    if (best >= 0) st = lfr_face_embed(ctx, &im, &faces[best], 1, out, &err);
    lfr_image_free(&im);
    return (st == LFR_OK && best >= 0) ? 0 : -1;
}

/* Grid value i as the double nearest the two-decimal literal printed. */
static double grid_at(int i) { return (double)(CALIB_LO_C + i) / 100.0; }

/* Number of grid points <= s (so s counts towards points 0..k-1). */
static int grid_count_le(float s) {
    int k = (int)floor(((double)s - grid_at(0)) * 100.0) + 1;
    if (k < 0) k = 0;
    if (k > CALIB_N) k = CALIB_N;
    while (k < CALIB_N && (double)s >= grid_at(k)) k++;
    while (k > 0 && (double)s < grid_at(k - 1)) k--;
    return k;
}

/* Lowest fine-bin edge t with (pairs >= t) <= fmr * total. */
static double fine_threshold(const uint64_t *fine, uint64_t total, double fmr) {
    uint64_t above = 0, allow = (uint64_t)floor(fmr * (double)total);
    for (int b = FINE_BINS - 1; b >= 0; b--) {
        if (above + fine[b] > allow) return -1.0 + (double)(b + 1) * 2.0 / FINE_BINS;
        above += fine[b];
    }
    return -1.0;
}

int lfr_cmd_calibrate(int argc, char **argv) {
    const char *pairs = NULL, *dir = NULL, *data_name = NULL;
    const cli_opt opts[] = {
        {"pairs", CLI_STR, 1, "FILE", "LFW pairs.txt: the people whose photos are used", &pairs, 0, 0},
        {"images", CLI_STR, 1, "DIR", "LFW images/", &dir, 0, 0},
        {"data-name", CLI_STR, 0, "TEXT", "name of the data set, recorded in the table", &data_name,
         0, 0},
        CLI_END};
    const cli_cmd cmd = {"calibrate", "measure score distributions -> src/match/calib_table.h",
                         opts, NULL, "Prints src/match/calib_table.h (see docs/likeness.md)."};
    int parsed = cli_parse(&cmd, argc, argv);
    if (parsed != CLI_OK) return CLI_EXIT(parsed);
    names people = {0};
    int rc = read_people(pairs, &people);
    if (rc) {
        names_free(&people);
        return rc;
    }
    /* Every photo of every listed person. */
    int nph = 0, cap = 0;
    int *who = NULL, *idx = NULL;
    char path[4096];
    for (int p = 0; p < people.n && !rc; p++)
        for (int k = 1; k < 10000; k++) {
            struct stat sb;
            snprintf(path, sizeof path, "%s/%s/%s_%04d.jpg", dir, people.name[p], people.name[p], k);
            if (stat(path, &sb) != 0) break;
            if (nph == cap) {
                int nc = cap ? cap * 2 : 1024;
                int *w2 = lfr_realloc(who, sizeof(int) * (size_t)nc);
                if (w2) who = w2;
                int *i2 = w2 ? lfr_realloc(idx, sizeof(int) * (size_t)nc) : NULL;
                if (!i2) {
                    rc = lfr_cli_fail("calibrate", LFR_ERR_NOMEM, NULL);
                    break;
                }
                idx = i2;
                cap = nc;
            }
            who[nph] = p;
            idx[nph] = k;
            nph++;
        }
    lfr_face_engine *eng = NULL;
    lfr_face_ctx *ctx = NULL;
    float *emb = NULL;
    int *ok = NULL;
    uint64_t *fine = NULL;
    if (!rc) {
        lfr_err err = {{0}};
        lfr_status st = lfr_face_engine_load(lfr_cli_models_dir(), &eng, &err);
        if (st == LFR_OK) st = lfr_face_ctx_new(eng, &ctx);
        if (st != LFR_OK) rc = lfr_cli_fail("loading models", st, &err);
    }
    if (!rc) {
        emb = lfr_malloc(sizeof(float) * LFR_FACE_EMB_DIM * (size_t)(nph ? nph : 1));
        ok = lfr_calloc((size_t)(nph ? nph : 1), sizeof(int));
        fine = lfr_calloc(2 * FINE_BINS, sizeof(uint64_t));
        if (!emb || !ok || !fine) rc = lfr_cli_fail("calibrate", LFR_ERR_NOMEM, NULL);
    }
    int noface = 0;
    uint64_t t0 = lfr_now_ns();
    for (int i = 0; i < nph && !rc; i++) {
        snprintf(path, sizeof path, "%s/%s/%s_%04d.jpg", dir, people.name[who[i]],
                 people.name[who[i]], idx[i]);
        if (embed_central(ctx, path, emb + (size_t)i * LFR_FACE_EMB_DIM) == 0) ok[i] = 1;
        else noface++;
        if ((i + 1) % 500 == 0 || i + 1 == nph)
            fprintf(stderr, "calibrate: %d/%d photos embedded (%.1f/s), %d without a face\n",
                    i + 1, nph, (i + 1) / ((double)(lfr_now_ns() - t0) / 1e9), noface);
    }
    if (rc) goto done;

    /* Every pair.  at[g][k]: pairs of kind g (0 impostor, 1 genuine) whose
     * score reaches exactly k grid points; cumulated below. */
    uint64_t at[2][CALIB_N + 1] = {{0}}, tot[2] = {0, 0};
    uint64_t *fine_imp = fine, *fine_gen = fine + FINE_BINS;
    for (int i = 0; i < nph; i++) {
        if (!ok[i]) continue;
        const float *a = emb + (size_t)i * LFR_FACE_EMB_DIM;
        for (int j = i + 1; j < nph; j++) {
            if (!ok[j]) continue;
            float s = lfr_face_similarity(a, emb + (size_t)j * LFR_FACE_EMB_DIM);
            int g = who[i] == who[j];
            at[g][grid_count_le(s)]++;
            tot[g]++;
            int b = (int)floor(((double)s + 1.0) * FINE_BINS / 2.0);
            if (b < 0) b = 0;
            if (b >= FINE_BINS) b = FINE_BINS - 1;
            (g ? fine_gen : fine_imp)[b]++;
        }
    }
    /* ge[g][i] = pairs with score >= grid point i. */
    uint64_t ge[2][CALIB_N];
    for (int g = 0; g < 2; g++) {
        uint64_t run = 0;
        for (int k = CALIB_N; k >= 1; k--) {
            run += at[g][k];
            ge[g][k - 1] = run;
        }
    }
    time_t now = time(NULL);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    printf("/*\n * calib_table.h - score calibration of the face engine (GENERATED; do not edit\n"
           " * by hand: re-run the command and replace the file).  See docs/likeness.md.\n *\n");
    printf(" * Command: openlfr calibrate --pairs %s --images %s\n", pairs, dir);
    printf(" * Data:    %s\n", data_name ? data_name : "(as named by the command)");
    printf(" *          %d people named by the pairs file, %d photos, %d without a face\n",
           people.n, nph, noface);
    printf(" *          (left out); every pair of the others: %llu genuine, %llu impostor.\n",
           (unsigned long long)tot[1], (unsigned long long)tot[0]);
    printf(" * Date:    %s (UTC)\n *\n", date);
    printf(" * Thresholds from a 1e-5 histogram (lowest t with FMR(t) <= target):\n");
    static const double targets[] = {1e-2, 1e-3, 1e-4, 1e-5, 1e-6};
    for (int k = 0; k < 5; k++) {
        double fmr = targets[k];
        if (fmr * (double)tot[0] < 1.0)
            printf(" *   FMR %.0e: not measurable (fewer than 1 expected impostor pair)\n", fmr);
        else
            printf(" *   FMR %.0e: cosine %.4f\n", fmr, fine_threshold(fine_imp, tot[0], fmr));
    }
    printf(" */\n#ifndef LFR_MATCH_CALIB_TABLE_H\n#define LFR_MATCH_CALIB_TABLE_H\n\n");
    printf("#define LFR_MATCH_CALIB_SOURCE \"openlfr calibrate, %s, %s\"\n",
           data_name ? data_name : "LFW", date);
    printf("#define LFR_MATCH_CALIB_IMPOSTOR_PAIRS %lluull\n", (unsigned long long)tot[0]);
    printf("#define LFR_MATCH_CALIB_GENUINE_PAIRS %lluull\n\n", (unsigned long long)tot[1]);
    printf("/* {cosine, FMR = impostor pairs >= cosine / all impostor pairs, those pairs,\n"
           " *  TAR = genuine pairs >= cosine / all genuine pairs, those pairs} */\n");
    printf("static const lfr_match_calib_point lfr_match_calib_table[] = {\n");
    for (int i = 0; i < CALIB_N; i++) {
        double fmr = tot[0] ? (double)ge[0][i] / (double)tot[0] : 0;
        double tar = tot[1] ? (double)ge[1][i] / (double)tot[1] : 0;
        printf("    {%.2f, %.6e, %llu, %.6f, %llu},\n", grid_at(i), fmr,
               (unsigned long long)ge[0][i], tar, (unsigned long long)ge[1][i]);
    }
    printf("};\n\n#endif\n");
done:
    lfr_free(fine);
    lfr_free(ok);
    lfr_free(emb);
    lfr_free(who);
    lfr_free(idx);
    names_free(&people);
    lfr_face_ctx_destroy(ctx);
    lfr_face_engine_destroy(eng);
    return rc;
}
