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
 *
 *   openlfr calibrate --groups [--data DIR] [--every K]
 *
 * prints src/match/calib_groups.h instead: impostor tables per data set
 * (LFW as above, CelebA, UTKFace) and per demographic group (UTKFace
 * adults by sex x race, LFW by sex and sex x race), within-group pairs;
 * see the comment before calibrate_groups and docs/likeness.md.
 *
 *   openlfr calibrate --pairs FILE --images DIR --entry-images K
 *
 * prints src/match/calib_entry_SET.h instead: how much more often a
 * watchlist entry's mean template of k images (k = 2..K; what the matcher
 * searches for an entry with several photos, LFR_MATCH_ENTRY_MEAN) reaches
 * a cosine against photos of OTHER people than a single image does; see
 * calibrate_entries and docs/likeness.md, "Entries with several photos".
 * With --entry-sex METADATA (lfw/metadata.csv) it prints, instead, the same
 * measurement within LFW's men and within its women and the weights the
 * product's rule reads from each (report_entry_sex).
 *
 * --model-set NAME (every form) embeds with that model set
 * (lfr_face_embed_set; default mfn192) and prints its own header,
 * calib_table_NAME.h / calib_groups_NAME.h, identifiers suffixed _NAME
 * (mfn192 keeps the unsuffixed names).
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
#include "match/match.h"
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

/* The model set being calibrated and the names its tables take: mfn192
 * keeps the historical names (calib_table.h, lfr_match_calib_table); any
 * other set S gets its own header (calib_table_S.h) with every identifier
 * suffixed _S (macros _S upper-cased), so the tables of several sets live
 * side by side in match.c. */
typedef struct {
    lfr_face_model_set set;
    int dim;
    char sfx[32], SFX[32]; /* "" or "_fused704" / "_FUSED704" */
} calib_set;

static int calib_set_init(const char *name, calib_set *cs) {
    memset(cs, 0, sizeof *cs);
    if (lfr_face_model_set_parse(name ? name : "mfn192", &cs->set) != LFR_OK) {
        fprintf(stderr, "openlfr: calibrate: --model-set %s: unknown model set\n", name);
        return 2;
    }
    cs->dim = lfr_face_model_set_dim(cs->set);
    if (cs->set != LFR_FACE_MODEL_MFN192) {
        snprintf(cs->sfx, sizeof cs->sfx, "_%s", lfr_face_model_set_name(cs->set));
        for (int i = 0; cs->sfx[i]; i++)
            cs->SFX[i] = (char)(cs->sfx[i] >= 'a' && cs->sfx[i] <= 'z' ? cs->sfx[i] - 32 : cs->sfx[i]);
    }
    return 0;
}

static int calib_engine(const calib_set *cs, lfr_face_engine **eng, lfr_face_ctx **ctx) {
    lfr_err err = {{0}};
    lfr_status st = lfr_face_engine_load(lfr_cli_models_dir(), eng, &err);
    if (st == LFR_OK && !lfr_face_engine_has_model_set(*eng, cs->set)) {
        fprintf(stderr, "openlfr: calibrate: model set %s needs a network the models folder "
                        "%s lacks (tools/setup.sh models)\n",
                lfr_face_model_set_name(cs->set), lfr_cli_models_dir());
        return 1;
    }
    if (st == LFR_OK) st = lfr_face_ctx_new(*eng, ctx);
    return st == LFR_OK ? 0 : lfr_cli_fail("loading models", st, &err);
}

static int embed_central(lfr_face_ctx *ctx, lfr_face_model_set set, const char *path,
                         float *out) {
    lfr_err err = {{0}};
    lfr_image im = {0};
    if (lfr_image_load(path, &im, &err) != LFR_OK) return -1;
    lfr_face *faces;
    int n = 0;
    lfr_face_params p = lfr_face_params_default;
    p.min_face = 10; /* as `eval verify`: LFW crops can be small */
    lfr_status st = lfr_face_detect(ctx, &im, &p, &faces, &n, &err);
    int best = st == LFR_OK ? lfr_face_pick_central(faces, n, im.w, im.h) : -1;
    if (best >= 0) st = lfr_face_embed_set(ctx, &im, &faces[best], 1, set, out, &err);
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

/* --groups: impostor (and, where identities exist, genuine) score
 * distributions per data set and per demographic group, printed as
 * src/match/calib_groups.h.
 *
 *   LFW      every photo of the people named by lfw/pairs.txt (as the main
 *            table); identity = folder; sex and race from lfw/metadata.csv
 *            (race only where a single label is given; several labels ->
 *            no race group).
 *   CelebA   celeba/identities.txt, whole scenes (the face nearest the
 *            centre); identity given.
 *   UTKFace  utkface/images/AGE_GENDER_RACE_DATE*.jpg; NO identities: every
 *            pair of different chips counts as an impostor pair, so a few
 *            same-person pairs may hide among them (FMR over-estimated, if
 *            anything).
 * A demographic group's impostor pairs are the pairs of two photos that
 * are BOTH in the group (different people), as NIST's demographic
 * reports do: a false match most often comes from someone who looks alike. */

enum { SET_LFW, SET_CELEBA, SET_UTK, SET_COUNT };
static const char *const set_name[SET_COUNT] = {"LFW", "CelebA", "UTKFace"};

/* Race codes, shared by the sets' labels. */
enum { RACE_WHITE, RACE_BLACK, RACE_ASIAN, RACE_INDIAN, RACE_LATINO, RACE_NONE };
#define ANY (-1)

/* The groups: name, data set, sex (0 men, 1 women, ANY), race (ANY), adults
 * only.  Data-set rows (sex, race ANY, all ages) come first. */
#define CALIB_GROUP_LIST(X)                                                      \
    X("LFW", SET_LFW, ANY, ANY, 0)                                               \
    X("CelebA", SET_CELEBA, ANY, ANY, 0)                                         \
    X("UTKFace", SET_UTK, ANY, ANY, 0)                                           \
    X("UTKFace adult White men", SET_UTK, 0, RACE_WHITE, 1)                      \
    X("UTKFace adult White women", SET_UTK, 1, RACE_WHITE, 1)                    \
    X("UTKFace adult Black men", SET_UTK, 0, RACE_BLACK, 1)                      \
    X("UTKFace adult Black women", SET_UTK, 1, RACE_BLACK, 1)                    \
    X("UTKFace adult Asian men", SET_UTK, 0, RACE_ASIAN, 1)                      \
    X("UTKFace adult Asian women", SET_UTK, 1, RACE_ASIAN, 1)                    \
    X("UTKFace adult Indian men", SET_UTK, 0, RACE_INDIAN, 1)                    \
    X("UTKFace adult Indian women", SET_UTK, 1, RACE_INDIAN, 1)                  \
    X("LFW men", SET_LFW, 0, ANY, 0)                                             \
    X("LFW women", SET_LFW, 1, ANY, 0)                                           \
    X("LFW White men", SET_LFW, 0, RACE_WHITE, 0)                                \
    X("LFW White women", SET_LFW, 1, RACE_WHITE, 0)                              \
    X("LFW Black men", SET_LFW, 0, RACE_BLACK, 0)                                \
    X("LFW Black women", SET_LFW, 1, RACE_BLACK, 0)                              \
    X("LFW East Asian men", SET_LFW, 0, RACE_ASIAN, 0)                           \
    X("LFW East Asian women", SET_LFW, 1, RACE_ASIAN, 0)                         \
    X("LFW Indian men", SET_LFW, 0, RACE_INDIAN, 0)                              \
    X("LFW Indian women", SET_LFW, 1, RACE_INDIAN, 0)                            \
    X("LFW Latino men", SET_LFW, 0, RACE_LATINO, 0)                              \
    X("LFW Latino women", SET_LFW, 1, RACE_LATINO, 0)

typedef struct {
    const char *name;
    int set, sex, race, adult;
} calib_group;

#define CALIB_GROUP_ROW(n, st, sx, rc, ad) {n, st, sx, rc, ad},
static const calib_group calib_groups[] = {CALIB_GROUP_LIST(CALIB_GROUP_ROW)};
#define N_GROUPS ((int)(sizeof calib_groups / sizeof calib_groups[0]))
_Static_assert(sizeof calib_groups / sizeof calib_groups[0] <= 64, "a group is a bit of a uint64_t");
/* Per-group fine histogram for the header's thresholds: 1e-4 wide. */
#define GFINE_BINS 20000

typedef struct {
    char *path;
    int set, ident, sex, race, age; /* ident -1: unknown (every photo its own) */
    uint64_t groups;                /* bit g: in calib_groups[g] */
} calib_photo;

typedef struct {
    calib_photo *v;
    int n, cap;
} photo_list;

static int photo_add(photo_list *l, const char *path, int set, int ident, int sex, int race,
                     int age) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 1024;
        calib_photo *v = lfr_realloc(l->v, sizeof *v * (size_t)cap);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    calib_photo *p = &l->v[l->n];
    if (!(p->path = lfr_strdup(path))) return -1;
    p->set = set, p->ident = ident, p->sex = sex, p->race = race, p->age = age;
    p->groups = 0;
    for (int g = 0; g < N_GROUPS; g++) {
        const calib_group *c = &calib_groups[g];
        if (c->set == set && (c->sex == ANY || c->sex == sex) &&
            (c->race == ANY || c->race == race) && (!c->adult || age >= 18))
            p->groups |= 1ull << g;
    }
    l->n++;
    return 0;
}

static int lfw_race(const char *s) {
    static const struct {
        const char *label;
        int race;
    } map[] = {{"caucasian", RACE_WHITE}, {"african", RACE_BLACK}, {"eastasian", RACE_ASIAN},
               {"asianindian", RACE_INDIAN}, {"latino", RACE_LATINO}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(s, map[i].label)) return map[i].race;
    return RACE_NONE; /* empty, other, several labels ("a,b" quoted) */
}

/* LFW: the photos of the people in pairs.txt, labelled from metadata.csv. */
/* lfw/metadata.csv (path,identity,gender,race; race may be "a,b" in
 * quotes): meta names the photos (PERSON/PERSON_0001.jpg), (*msex)[i] 0 men,
 * 1 women, -1 unknown, (*mrace)[i] a race code.  0, or 1 after saying why. */
static int lfw_meta_read(const char *path, names *meta, int **msex, int **mrace) {
    char line[1024];
    int mcap = 0, rc = 0;
    *msex = *mrace = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "openlfr: calibrate: cannot open %s\n", path);
        return 1;
    }
    while (!rc && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        char *c3 = c2 ? strchr(c2 + 1, ',') : NULL;
        if (!c3) continue;
        *c1 = *c2 = *c3 = 0;
        int sex = !strcmp(c2 + 1, "male") ? 0 : !strcmp(c2 + 1, "female") ? 1 : -1;
        int k = names_add(meta, line);
        if (k >= 0 && k >= mcap) {
            int nc = mcap ? mcap * 2 : 4096;
            int *a = lfr_realloc(*msex, sizeof(int) * (size_t)nc);
            if (a) *msex = a;
            int *b = a ? lfr_realloc(*mrace, sizeof(int) * (size_t)nc) : NULL;
            if (b) *mrace = b, mcap = nc;
            else k = -1;
        }
        if (k < 0) {
            rc = lfr_cli_fail("calibrate", LFR_ERR_NOMEM, NULL);
            break;
        }
        (*msex)[k] = sex;
        (*mrace)[k] = lfw_race(c3 + 1);
    }
    fclose(f);
    return rc;
}

static int groups_lfw(const char *data, int every, photo_list *out, int *counter) {
    char path[4096];
    snprintf(path, sizeof path, "%s/lfw/pairs.txt", data);
    names people = {0}, meta = {0};
    int rc = read_people(path, &people);
    int *msex = NULL, *mrace = NULL;
    snprintf(path, sizeof path, "%s/lfw/metadata.csv", data);
    if (!rc) rc = lfw_meta_read(path, &meta, &msex, &mrace);
    for (int p = 0; p < people.n && !rc; p++)
        for (int k = 1; k < 10000; k++) {
            struct stat sb;
            char rel[1024];
            snprintf(rel, sizeof rel, "%s/%s_%04d.jpg", people.name[p], people.name[p], k);
            snprintf(path, sizeof path, "%s/lfw/images/%s", data, rel);
            if (stat(path, &sb) != 0) break;
            if ((*counter)++ % every) continue;
            int m = names_find(&meta, rel);
            if (photo_add(out, path, SET_LFW, p, m >= 0 ? msex[m] : -1,
                          m >= 0 ? mrace[m] : RACE_NONE, -1) < 0) {
                rc = lfr_cli_fail("calibrate", LFR_ERR_NOMEM, NULL);
                break;
            }
        }
    lfr_free(msex);
    lfr_free(mrace);
    names_free(&meta);
    names_free(&people);
    return rc;
}

static int groups_celeba(const char *data, int every, int ident0, photo_list *out, int *counter) {
    char path[4096], line[1024];
    snprintf(path, sizeof path, "%s/celeba/identities.txt", data);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "openlfr: calibrate: cannot open %s\n", path);
        return 1;
    }
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        char file[512];
        int id;
        if (sscanf(line, "%511s %d", file, &id) != 2) continue;
        if ((*counter)++ % every) continue;
        snprintf(path, sizeof path, "%s/celeba/images/%s", data, file);
        if (photo_add(out, path, SET_CELEBA, ident0 + id, -1, RACE_NONE, -1) < 0)
            rc = lfr_cli_fail("calibrate", LFR_ERR_NOMEM, NULL);
    }
    fclose(f);
    return rc;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int groups_utk(const char *data, int every, photo_list *out, int *counter) {
    char path[4096], line[1024];
    /* labels_all.csv lists the files of the whole set; those present are
     * used, sorted (the order does not depend on the file system). */
    snprintf(path, sizeof path, "%s/utkface/labels_all.csv", data);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "openlfr: calibrate: cannot open %s\n", path);
        return 1;
    }
    names files = {0};
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        line[strcspn(line, ",\r\n")] = 0;
        if (strstr(line, ".jpg") && names_add(&files, line) < 0)
            rc = lfr_cli_fail("calibrate", LFR_ERR_NOMEM, NULL);
    }
    fclose(f);
    if (!rc) qsort(files.name, (size_t)files.n, sizeof(char *), cmp_str);
    for (int i = 0; i < files.n && !rc; i++) {
        int age, sex, race;
        /* AGE_GENDER_RACE_DATE: files whose name lacks a field are left out */
        if (sscanf(files.name[i], "%d_%d_%d_", &age, &sex, &race) != 3) continue;
        struct stat sb;
        snprintf(path, sizeof path, "%s/utkface/images/%s", data, files.name[i]);
        if (stat(path, &sb) != 0) continue; /* the list names the whole set */
        if ((*counter)++ % every) continue;
        static const int utk_race[] = {RACE_WHITE, RACE_BLACK, RACE_ASIAN, RACE_INDIAN, RACE_NONE};
        snprintf(path, sizeof path, "%s/utkface/images/%s", data, files.name[i]);
        if (photo_add(out, path, SET_UTK, -1, sex == 0 || sex == 1 ? sex : -1,
                      race >= 0 && race <= 4 ? utk_race[race] : RACE_NONE, age) < 0)
            rc = lfr_cli_fail("calibrate", LFR_ERR_NOMEM, NULL);
    }
    names_free(&files);
    return rc;
}

static double gfine_threshold(const uint64_t *fine, uint64_t total, double fmr) {
    uint64_t above = 0, allow = (uint64_t)floor(fmr * (double)total);
    for (int b = GFINE_BINS - 1; b >= 0; b--) {
        if (above + fine[b] > allow) return -1.0 + (double)(b + 1) * 2.0 / GFINE_BINS;
        above += fine[b];
    }
    return -1.0;
}

/* Impostor pairs scoring >= t (t on the 1e-4 grid) / all. */
static double gfine_fmr(const uint64_t *fine, uint64_t total, double t) {
    int b0 = (int)floor((t + 1.0) * GFINE_BINS / 2.0 + 1e-6);
    uint64_t above = 0;
    for (int b = b0 < 0 ? 0 : b0; b < GFINE_BINS; b++) above += fine[b];
    return total ? (double)above / (double)total : 0.0;
}

/* Cosine of two unit vectors of n floats. */
static float dot(const float *a, const float *b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return (float)s;
}

static int calibrate_groups(const char *data, int every, const calib_set *cs) {
    photo_list ph = {0};
    int counter[SET_COUNT] = {0, 0, 0};
    int rc = groups_lfw(data, every, &ph, &counter[SET_LFW]);
    if (!rc) rc = groups_celeba(data, every, 1 << 24, &ph, &counter[SET_CELEBA]);
    if (!rc) rc = groups_utk(data, every, &ph, &counter[SET_UTK]);
    lfr_face_engine *eng = NULL;
    lfr_face_ctx *ctx = NULL;
    float *emb = NULL;
    int *ok = NULL;
    uint64_t(*at)[2][CALIB_N + 1] = NULL, (*fine)[GFINE_BINS] = NULL;
    if (!rc) rc = calib_engine(cs, &eng, &ctx);
    if (!rc) {
        emb = lfr_malloc(sizeof(float) * (size_t)cs->dim * (size_t)(ph.n ? ph.n : 1));
        ok = lfr_calloc((size_t)(ph.n ? ph.n : 1), sizeof(int));
        at = lfr_calloc((size_t)N_GROUPS, sizeof *at);
        fine = lfr_calloc((size_t)N_GROUPS, sizeof *fine);
        if (!emb || !ok || !at || !fine) rc = lfr_cli_fail("calibrate", LFR_ERR_NOMEM, NULL);
    }
    int noface[SET_COUNT] = {0, 0, 0}, nset[SET_COUNT] = {0, 0, 0};
    int gphotos[64] = {0};
    uint64_t t0 = lfr_now_ns();
    for (int i = 0; i < ph.n && !rc; i++) {
        nset[ph.v[i].set]++;
        if (embed_central(ctx, cs->set, ph.v[i].path, emb + (size_t)i * (size_t)cs->dim) == 0) {
            ok[i] = 1;
            for (int g = 0; g < N_GROUPS; g++) gphotos[g] += (int)(ph.v[i].groups >> g & 1);
        } else {
            noface[ph.v[i].set]++;
        }
        if ((i + 1) % 500 == 0 || i + 1 == ph.n)
            fprintf(stderr, "calibrate: %d/%d photos embedded (%.1f/s)\n", i + 1, ph.n,
                    (i + 1) / ((double)(lfr_now_ns() - t0) / 1e9));
    }
    if (rc) goto done;
    /* Every pair within a data set: impostor (different or unknown
     * identity) counted in every group holding both photos; genuine (same
     * identity) in the data-set rows only. */
    for (int i = 0; i < ph.n; i++) {
        if (!ok[i]) continue;
        const float *a = emb + (size_t)i * (size_t)cs->dim;
        for (int j = i + 1; j < ph.n; j++) {
            uint64_t both = ph.v[i].groups & ph.v[j].groups;
            if (!ok[j] || !both) continue;
            float s = dot(a, emb + (size_t)j * (size_t)cs->dim, cs->dim);
            int gen = ph.v[i].ident >= 0 && ph.v[i].ident == ph.v[j].ident;
            int k = grid_count_le(s);
            int b = (int)floor(((double)s + 1.0) * GFINE_BINS / 2.0);
            b = b < 0 ? 0 : b >= GFINE_BINS ? GFINE_BINS - 1 : b;
            for (int g = 0; g < N_GROUPS; g++) {
                if (!(both >> g & 1)) continue;
                if (gen) {
                    if (g < SET_COUNT) at[g][1][k]++; /* data-set rows */
                    continue;
                }
                at[g][0][k]++;
                fine[g][b]++;
            }
        }
    }
    time_t now = time(NULL);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    uint64_t tot[64][2];
    for (int g = 0; g < N_GROUPS; g++)
        for (int k = 0; k < 2; k++) {
            tot[g][k] = 0;
            for (int c = 0; c <= CALIB_N; c++) tot[g][k] += at[g][k][c];
        }
    printf("/*\n * calib_groups%s.h - impostor score distributions per data set and per\n"
           " * demographic group (GENERATED; do not edit by hand: re-run the command and\n"
           " * replace the file).  See docs/likeness.md and match.h (groups).\n *\n", cs->sfx);
    printf(" * Command: openlfr calibrate --groups --data %s%s%s%s\n", data,
           every > 1 ? " --every K" : "", cs->sfx[0] ? " --model-set " : "",
           cs->sfx[0] ? lfr_face_model_set_name(cs->set) : "");
    if (every > 1) printf(" *          (K = %d: every %d-th photo of each set)\n", every, every);
    printf(" * Date:    %s (UTC)\n", date);
    for (int s = 0; s < SET_COUNT; s++)
        printf(" * %-8s %d photos, %d without a face (left out)\n", set_name[s], nset[s],
               noface[s]);
    printf(" * Engine:  today's detector, model set %s (%d-d; lfr_face_params_default,\n"
           " *          min_face 10, the face nearest the centre).\n", lfr_face_model_set_name(cs->set),
           cs->dim);
    printf(" * LFW: the people named by lfw/pairs.txt, sex and race from lfw/metadata.csv\n"
           " *   (race only where ONE label is given).  CelebA: identities.txt, whole scenes.\n"
           " * UTKFace has NO identities: every pair of different chips counts as an\n"
           " *   impostor pair, so a few same-person pairs may be hidden among them.\n"
           " * Groups: impostor pairs of two photos both in the group (NIST style);\n"
           " *   UTKFace groups are adults (age >= 18).  Every pair is used (no sampling\n"
           " *   of pairs); a rate below %d / pairs cannot be measured.\n *\n",
           20);
    printf(" * %-28s %7s %11s %9s %9s %9s  %s\n", "group", "photos", "impostor", "FMR@0.563",
           "FMR@0.70", "t@FMR1e-3", "t@FMR1e-4");
    for (int g = 0; g < N_GROUPS; g++) {
        uint64_t n = tot[g][0];
        char t3[32], t4[64];
        if (n * 1e-3 >= 20) snprintf(t3, sizeof t3, "%.4f", gfine_threshold(fine[g], n, 1e-3));
        else snprintf(t3, sizeof t3, "n/m");
        if (n * 1e-4 >= 20) snprintf(t4, sizeof t4, "%.4f", gfine_threshold(fine[g], n, 1e-4));
        else snprintf(t4, sizeof t4, "not measurable below FMR %.1e", n > 20 ? 20.0 / (double)n : 1.0);
        printf(" * %-28s %7d %11llu %9.2e %9.2e %9s  %s\n", calib_groups[g].name, gphotos[g],
               (unsigned long long)n, gfine_fmr(fine[g], n, 0.563),
               gfine_fmr(fine[g], n, 0.70), t3, t4);
    }
    printf(" * (FMR@t from a 1e-4 histogram; t@FMR: lowest t with FMR(t) <= the rate; n/m:\n"
           " *  fewer than 20 pairs would reach it: not measurable.)\n");
    const char *S = cs->SFX, *s = cs->sfx;
    printf(" */\n#ifndef LFR_MATCH_CALIB_GROUPS%s_H\n#define LFR_MATCH_CALIB_GROUPS%s_H\n\n", S, S);
    printf("#define LFR_MATCH_GROUPS%s_SOURCE \"openlfr calibrate --groups%s%s%s, %s\"\n", S,
           s[0] ? " --model-set " : "", s[0] ? lfr_face_model_set_name(cs->set) : "",
           every > 1 ? " --every K" : "", date);
    printf("#define LFR_MATCH_GROUPS%s_N %d\n\n", S, N_GROUPS);
    printf("/* Per group: {cosine, FMR, impostor pairs >= cosine, TAR, genuine pairs >=\n"
           " * cosine}; TAR 0 where the set has no identities (UTKFace, the groups). */\n");
    printf("static const lfr_match_calib_point lfr_match_group_points%s[LFR_MATCH_GROUPS%s_N][%d] = "
           "{\n", s, S, CALIB_N);
    for (int g = 0; g < N_GROUPS; g++) {
        uint64_t ge[2] = {0, 0};
        uint64_t cum[2][CALIB_N];
        for (int c = CALIB_N; c >= 1; c--) {
            ge[0] += at[g][0][c];
            ge[1] += at[g][1][c];
            cum[0][c - 1] = ge[0];
            cum[1][c - 1] = ge[1];
        }
        printf("    {/* %d: %s */\n", g, calib_groups[g].name);
        for (int i = 0; i < CALIB_N; i++)
            printf("     {%.2f, %.6e, %llu, %.6f, %llu},\n", grid_at(i),
                   tot[g][0] ? (double)cum[0][i] / (double)tot[g][0] : 0.0,
                   (unsigned long long)cum[0][i],
                   tot[g][1] ? (double)cum[1][i] / (double)tot[g][1] : 0.0,
                   (unsigned long long)cum[1][i]);
        printf("    },\n");
    }
    printf("};\n\n/* {name, data set, kind, photos, impostor pairs, genuine pairs, points} */\n");
    printf("static const lfr_match_group lfr_match_groups_table%s[LFR_MATCH_GROUPS%s_N] = {\n", s, S);
    for (int g = 0; g < N_GROUPS; g++)
        printf("    {\"%s\", \"%s\", %s, %d, %lluull, %lluull, lfr_match_group_points%s[%d]},\n",
               calib_groups[g].name, set_name[calib_groups[g].set],
               g < SET_COUNT ? "LFR_MATCH_GROUP_DATA_SET" : "LFR_MATCH_GROUP_DEMOGRAPHIC",
               gphotos[g], (unsigned long long)tot[g][0], (unsigned long long)tot[g][1], s, g);
    printf("};\n\n#endif\n");
done:
    for (int i = 0; i < ph.n; i++) lfr_free(ph.v[i].path);
    lfr_free(ph.v);
    lfr_free(emb);
    lfr_free(ok);
    lfr_free(at);
    lfr_free(fine);
    lfr_face_ctx_destroy(ctx);
    lfr_face_engine_destroy(eng);
    return rc;
}


/* --entry-images K: for k = 2..K, every person of the pairs file with at
 * least k photos with a face gives disjoint groups of k consecutive photos
 * (floor(photos / k) groups).  Each group is scored against every photo of
 * every OTHER person twice: as the normalised mean of its k embeddings (the
 * entry template) and as its first photo alone (the same people, the same
 * other photos: a matched single-image rate).  For each grid cosine c the
 * header records how many of those comparisons reach c either way; the
 * matcher (lfr_match_cal_entry_weight) reads from it how many single-image
 * comparisons one mean template is worth. */
/* Rows k = 2 .. kmax (rows[k - 2]) of mean templates against single photos.
 * With psex: only people of sex `sex` (psex[person]: 0 men, 1 women, -1
 * unknown), compared with photos of other people of that sex (within the
 * group, as the group tables are). */
static int entry_rows(const calib_set *cs, int kmax, int npeople, const int *who, const int *ok,
                      const float *emb, int nph, const int *psex, int sex,
                      lfr_match_entry_calib *rows) {
    const int dim = cs->dim;
    int *mine = lfr_malloc(sizeof(int) * (size_t)(nph ? nph : 1));
    float *mean = lfr_malloc(sizeof(float) * (size_t)dim);
    if (!mine || !mean) {
        lfr_free(mine);
        lfr_free(mean);
        return lfr_cli_fail("calibrate", LFR_ERR_NOMEM, NULL);
    }
    for (int k = 2; k <= kmax; k++) {
        lfr_match_entry_calib *row = &rows[k - 2];
        memset(row, 0, sizeof *row);
        row->k = k;
        uint64_t at[2][CALIB_N + 1];
        memset(at, 0, sizeof at);
        for (int p = 0; p < npeople; p++) {
            if (psex && psex[p] != sex) continue;
            int m = 0;
            for (int i = 0; i < nph; i++)
                if (who[i] == p && ok[i]) mine[m++] = i;
            if (m < k) continue;
            row->people++;
            for (int g = 0; g + k <= m; g += k) {
                memset(mean, 0, sizeof(float) * (size_t)dim);
                for (int j = 0; j < k; j++)
                    for (int d = 0; d < dim; d++)
                        mean[d] += emb[(size_t)mine[g + j] * (size_t)dim + (size_t)d];
                double nn = 0;
                for (int d = 0; d < dim; d++) nn += (double)mean[d] * mean[d];
                if (nn <= 1e-12) continue;
                float inv = (float)(1.0 / sqrt(nn));
                for (int d = 0; d < dim; d++) mean[d] *= inv;
                const float *first = emb + (size_t)mine[g] * (size_t)dim;
                row->entries++;
                for (int i = 0; i < nph; i++) {
                    if (!ok[i] || who[i] == p || (psex && psex[who[i]] != sex)) continue;
                    const float *x = emb + (size_t)i * (size_t)dim;
                    at[0][grid_count_le(dot(mean, x, dim))]++;
                    at[1][grid_count_le(dot(first, x, dim))]++;
                    row->comparisons++;
                }
            }
        }
        uint64_t run[2] = {0, 0};
        for (int c = CALIB_N; c >= 1; c--) {
            run[0] += at[0][c];
            run[1] += at[1][c];
            row->mean_ge[c - 1] = run[0];
            row->single_ge[c - 1] = run[1];
        }
        fprintf(stderr, "calibrate: %s%d photos per entry: %d people, %d entries, %llu comparisons\n",
                psex ? (sex ? "women, " : "men, ") : "", k, row->people, row->entries,
                (unsigned long long)row->comparisons);
    }
    lfr_free(mine);
    lfr_free(mean);
    return 0;
}

/* --entry-sex: the rows within LFW's men and within its women (sex from
 * metadata.csv, by person), and the weights the product's rule reads from
 * them beside the set's compiled ones (docs/likeness.md, "Entries with
 * several photos"). */
static int report_entry_sex(const calib_set *cs, int kmax, const names *people, const int *who,
                            const int *ok, const float *emb, int nph, const char *meta_path) {
    int *psex = lfr_malloc(sizeof(int) * (size_t)(people->n ? people->n : 1));
    lfr_match_entry_calib *rows = lfr_calloc((size_t)kmax, sizeof *rows);
    names meta = {0};
    int *msex = NULL, *mrace = NULL;
    int rc = psex && rows ? lfw_meta_read(meta_path, &meta, &msex, &mrace)
                          : lfr_cli_fail("calibrate", LFR_ERR_NOMEM, NULL);
    /* a person's sex is that of their first photo the metadata lists
     * (PERSON/PERSON_0001.jpg: the person is the folder) */
    for (int p = 0; !rc && p < people->n; p++) psex[p] = -1;
    for (int m = 0; !rc && m < meta.n; m++) {
        char person[256];
        size_t len = strcspn(meta.name[m], "/");
        if (len >= sizeof person) continue;
        memcpy(person, meta.name[m], len);
        person[len] = 0;
        int p = names_find(people, person);
        if (p >= 0 && psex[p] < 0) psex[p] = msex[m];
    }
    lfr_free(msex);
    lfr_free(mrace);
    names_free(&meta);
    if (rc) {
        lfr_free(rows);
        lfr_free(psex);
        return rc;
    }
    const lfr_match_calibration *cal = lfr_match_calibration_named(lfr_face_model_set_name(cs->set));
    float smin = 0;
    lfr_match_cal_sane_range(cal, &smin, NULL);
    printf("mean templates of k photos against one photo, within each sex (LFW, %s; metadata %s)\n"
           "weight: what the product's rule (lfr_match_entry_rows_weight) reads from the rows:\n"
           "the largest ratio at cosines >= %.2f where both counts are >= %d\n\n",
           lfr_face_model_set_name(cs->set), meta_path, (double)smin, LFR_MATCH_CALIB_MIN_PAIRS);
    printf("%-7s %3s %7s %8s %14s %8s %10s\n", "group", "k", "people", "entries", "comparisons",
           "weight", "compiled");
    for (int sex = 0; !rc && sex <= 1; sex++) {
        rc = entry_rows(cs, kmax, people->n, who, ok, emb, nph, psex, sex, rows);
        for (int k = 2; !rc && k <= kmax; k++) {
            const lfr_match_entry_calib *r = &rows[k - 2];
            printf("%-7s %3d %7d %8d %14llu %8.2f %10.2f\n", sex ? "women" : "men", k, r->people,
                   r->entries, (unsigned long long)r->comparisons,
                   lfr_match_entry_rows_weight(cal, rows, k - 1, k),
                   lfr_match_cal_entry_weight(cal, k));
        }
        /* the ratio per cosine for k = 2, with the counts it rests on */
        const lfr_match_entry_calib *r = &rows[0];
        for (int c = 0; !rc && c < CALIB_N; c++) {
            double t = grid_at(c);
            if (t < (double)smin - 1e-9 || r->single_ge[c] == 0) continue;
            printf("  %s, k = 2, cosine %.2f: %llu / %llu (%.2f)%s\n", sex ? "women" : "men", t,
                   r->mean_ge[c], r->single_ge[c], (double)r->mean_ge[c] / (double)r->single_ge[c],
                   r->mean_ge[c] < LFR_MATCH_CALIB_MIN_PAIRS ||
                           r->single_ge[c] < LFR_MATCH_CALIB_MIN_PAIRS
                       ? " (too few)"
                       : "");
        }
    }
    lfr_free(rows);
    lfr_free(psex);
    return rc;
}

static int calibrate_entries(const calib_set *cs, int kmax, const names *people, const int *who,
                             const int *ok, const float *emb, int nph, const char *pairs,
                             const char *dir, const char *data_name) {
    lfr_match_entry_calib *rows = lfr_calloc((size_t)kmax, sizeof *rows);
    if (!rows) return lfr_cli_fail("calibrate", LFR_ERR_NOMEM, NULL);
    int rc = entry_rows(cs, kmax, people->n, who, ok, emb, nph, NULL, 0, rows);
    if (rc) {
        lfr_free(rows);
        return rc;
    }
    time_t now = time(NULL);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    const char *S = cs->SFX[0] ? cs->SFX : "_MFN192", *s = cs->sfx[0] ? cs->sfx : "_mfn192";
    printf("/*\n * calib_entry%s.h - mean templates of several photos against single photos\n"
           " * (GENERATED; do not edit by hand: re-run the command and replace the file).\n"
           " * See docs/likeness.md, \"Entries with several photos\".\n *\n", s);
    printf(" * Command: openlfr calibrate --pairs %s --images %s --entry-images %d --model-set %s\n",
           pairs, dir, kmax, lfr_face_model_set_name(cs->set));
    printf(" * Data:    %s; %d people named by the pairs file\n",
           data_name ? data_name : "(as named by the command)", people->n);
    printf(" * Date:    %s (UTC)\n *\n", date);
    printf(" * For k photos per entry: every person with k or more photos with a face gives\n"
           " * floor(photos / k) entries of k consecutive photos; each entry is scored\n"
           " * against every photo of every other person as the normalised mean of its k\n"
           " * photos (mean) and as its first photo alone (single).\n */\n");
    printf("#ifndef LFR_MATCH_CALIB_ENTRY%s_H\n#define LFR_MATCH_CALIB_ENTRY%s_H\n\n", S, S);
    printf("#define LFR_MATCH_CALIB_ENTRY%s_SOURCE \"openlfr calibrate --entry-images %d "
           "--model-set %s, %s, %s\"\n", S, kmax, lfr_face_model_set_name(cs->set),
           data_name ? data_name : "LFW", date);
    printf("#define LFR_MATCH_CALIB_ENTRY%s_KMAX %d\n\n", S, kmax);
    printf("/* [k - 2]: k, people, entries, comparisons, then per grid cosine c = 0.00,\n"
           " * 0.01, ..., 1.00 the comparisons >= c of the mean and of the single photo. */\n");
    printf("static const lfr_match_entry_calib lfr_match_calib_entry%s[] = {\n", s);
    for (int k = 2; k <= kmax; k++) {
        const lfr_match_entry_calib *r = &rows[k - 2];
        printf("    {%d, %d, %d, %lluull,\n     {", k, r->people, r->entries, r->comparisons);
        for (int c = 0; c < CALIB_N; c++)
            printf("%llu%s%s", r->mean_ge[c], c + 1 < CALIB_N ? "," : "",
                   c + 1 < CALIB_N && (c + 1) % 10 == 0 ? "\n      " : "");
        printf("},\n     {");
        for (int c = 0; c < CALIB_N; c++)
            printf("%llu%s%s", r->single_ge[c], c + 1 < CALIB_N ? "," : "",
                   c + 1 < CALIB_N && (c + 1) % 10 == 0 ? "\n      " : "");
        printf("}},\n");
    }
    printf("};\n\n#endif\n");
    lfr_free(rows);
    return 0;
}

/* --entry-weights: lfr_match_cal_entry_weight of every set for k = 1 ..
 * LFR_MAX_ENTRY_IMAGES, and the table each comes from. */
static int print_entry_weights(void) {
    printf("comparisons one watchlist entry of k photos counts for in false alerts\n"
           "(its mean template; docs/likeness.md, \"Entries with several photos\")\n\n%-11s",
           "model set");
    for (int k = 1; k <= LFR_MAX_ENTRY_IMAGES; k++) printf(" %5d", k);
    printf("\n");
    for (int i = 0; i < lfr_match_calibration_count(); i++) {
        const lfr_match_calibration *c = lfr_match_calibration_at(i);
        printf("%-11s", lfr_match_calibration_name(c));
        for (int k = 1; k <= LFR_MAX_ENTRY_IMAGES; k++)
            printf(" %5.2f", lfr_match_cal_entry_weight(c, k));
        printf("\n");
    }
    printf("\nmeasured up to k photos (beyond: k, as if each photo were searched alone):\n");
    for (int i = 0; i < lfr_match_calibration_count(); i++) {
        const lfr_match_calibration *c = lfr_match_calibration_at(i);
        const char *src = NULL;
        lfr_match_cal_entry_table(c, NULL, &src);
        printf("  %-11s k <= %d  %s\n", lfr_match_calibration_name(c),
               lfr_match_cal_entry_measured(c), src ? src : "(no table)");
    }
    return 0;
}

int lfr_cmd_calibrate(int argc, char **argv) {
    const char *pairs = NULL, *dir = NULL, *data_name = NULL, *data = NULL, *set_arg = NULL;
    const char *entry_sex = NULL;
    int groups = 0, weights = 0;
    int64_t every = 1, entry_images = 0;
    const cli_opt opts[] = {
        {"pairs", CLI_STR, 0, "FILE", "LFW pairs.txt: the people whose photos are used", &pairs, 0, 0},
        {"images", CLI_STR, 0, "DIR", "LFW images/", &dir, 0, 0},
        {"data-name", CLI_STR, 0, "TEXT", "name of the data set, recorded in the table", &data_name,
         0, 0},
        {"groups", CLI_FLAG, 0, NULL,
         "per data set and demographic group -> src/match/calib_groups.h", &groups, 0, 0},
        {"data", CLI_STR, 0, "DIR", "with --groups: the data folder (default $OPENLFR_DATA)",
         &data, 0, 0},
        {"every", CLI_INT, 0, "K", "with --groups: every K-th photo of each set (default 1: all)",
         &every, 1, 1000},
        {"entry-images", CLI_INT, 0, "K",
         "with --pairs: mean templates of 2..K photos against single photos -> "
         "src/match/calib_entry_SET.h", &entry_images, 2, LFR_MAX_ENTRY_IMAGES},
        {"entry-sex", CLI_STR, 0, "METADATA",
         "with --entry-images: instead of the table, the weights within LFW's men and within its "
         "women (sex by person from METADATA, lfw/metadata.csv)", &entry_sex, 0, 0},
        {"entry-weights", CLI_FLAG, 0, NULL,
         "print what an entry of k photos counts for in false alerts, per model set, from the "
         "compiled-in tables (no data needed)", &weights, 0, 0},
        {"model-set", CLI_STR, 0, "NAME",
         "model set to calibrate (mfn192, fused704, fused704v2, fused704v3; default mfn192): "
         "another set than mfn192 prints calib_table_SET.h / calib_groups_SET.h", &set_arg, 0, 0},
        CLI_END};
    const cli_cmd cmd = {"calibrate", "measure score distributions -> src/match/calib_table.h",
                         opts, NULL,
                         "Prints src/match/calib_table.h (--pairs, --images) or, with --groups, "
                         "src/match/calib_groups.h (see docs/likeness.md)."};
    int parsed = cli_parse(&cmd, argc, argv);
    if (parsed != CLI_OK) return CLI_EXIT(parsed);
    if (weights) return print_entry_weights();
    calib_set cs;
    if (calib_set_init(set_arg, &cs)) return 2;
    if (groups) {
        if (!data) data = getenv("OPENLFR_DATA");
        if (!data) {
            fprintf(stderr, "openlfr: calibrate: --groups needs --data DIR or $OPENLFR_DATA\n");
            return 2;
        }
        return calibrate_groups(data, (int)every, &cs);
    }
    if (!pairs || !dir) {
        fprintf(stderr, "openlfr: calibrate: --pairs and --images are required (or --groups)\n");
        return 2;
    }
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
    if (!rc) rc = calib_engine(&cs, &eng, &ctx);
    if (!rc) {
        emb = lfr_malloc(sizeof(float) * (size_t)cs.dim * (size_t)(nph ? nph : 1));
        ok = lfr_calloc((size_t)(nph ? nph : 1), sizeof(int));
        fine = lfr_calloc(2 * FINE_BINS, sizeof(uint64_t));
        if (!emb || !ok || !fine) rc = lfr_cli_fail("calibrate", LFR_ERR_NOMEM, NULL);
    }
    int noface = 0;
    uint64_t t0 = lfr_now_ns();
    for (int i = 0; i < nph && !rc; i++) {
        snprintf(path, sizeof path, "%s/%s/%s_%04d.jpg", dir, people.name[who[i]],
                 people.name[who[i]], idx[i]);
        if (embed_central(ctx, cs.set, path, emb + (size_t)i * (size_t)cs.dim) == 0) ok[i] = 1;
        else noface++;
        if ((i + 1) % 500 == 0 || i + 1 == nph)
            fprintf(stderr, "calibrate: %d/%d photos embedded (%.1f/s), %d without a face\n",
                    i + 1, nph, (i + 1) / ((double)(lfr_now_ns() - t0) / 1e9), noface);
    }
    if (rc) goto done;
    if (entry_images >= 2 && entry_sex) {
        rc = report_entry_sex(&cs, (int)entry_images, &people, who, ok, emb, nph, entry_sex);
        goto done;
    }
    if (entry_images >= 2) {
        rc = calibrate_entries(&cs, (int)entry_images, &people, who, ok, emb, nph, pairs, dir,
                               data_name);
        goto done;
    }

    /* Every pair.  at[g][k]: pairs of kind g (0 impostor, 1 genuine) whose
     * score reaches exactly k grid points; cumulated below. */
    uint64_t at[2][CALIB_N + 1] = {{0}}, tot[2] = {0, 0};
    uint64_t *fine_imp = fine, *fine_gen = fine + FINE_BINS;
    for (int i = 0; i < nph; i++) {
        if (!ok[i]) continue;
        const float *a = emb + (size_t)i * (size_t)cs.dim;
        for (int j = i + 1; j < nph; j++) {
            if (!ok[j]) continue;
            float s = dot(a, emb + (size_t)j * (size_t)cs.dim, cs.dim);
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
    printf("/*\n * calib_table%s.h - score calibration of the face engine (GENERATED; do not edit\n"
           " * by hand: re-run the command and replace the file).  See docs/likeness.md.\n *\n",
           cs.sfx);
    printf(" * Command: openlfr calibrate --pairs %s --images %s%s%s\n", pairs, dir,
           cs.sfx[0] ? " --model-set " : "", cs.sfx[0] ? lfr_face_model_set_name(cs.set) : "");
    printf(" * Model set: %s (%d-d)\n", lfr_face_model_set_name(cs.set), cs.dim);
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
    const char *S = cs.SFX, *s = cs.sfx;
    printf(" */\n#ifndef LFR_MATCH_CALIB_TABLE%s_H\n#define LFR_MATCH_CALIB_TABLE%s_H\n\n", S, S);
    printf("#define LFR_MATCH_CALIB%s_SOURCE \"openlfr calibrate%s%s, %s, %s\"\n", S,
           s[0] ? " --model-set " : "", s[0] ? lfr_face_model_set_name(cs.set) : "",
           data_name ? data_name : "LFW", date);
    printf("#define LFR_MATCH_CALIB%s_IMPOSTOR_PAIRS %lluull\n", S, (unsigned long long)tot[0]);
    printf("#define LFR_MATCH_CALIB%s_GENUINE_PAIRS %lluull\n\n", S, (unsigned long long)tot[1]);
    printf("/* {cosine, FMR = impostor pairs >= cosine / all impostor pairs, those pairs,\n"
           " *  TAR = genuine pairs >= cosine / all genuine pairs, those pairs} */\n");
    printf("static const lfr_match_calib_point lfr_match_calib_table%s[] = {\n", s);
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
