/*
 * cmd_eval_report.c - `openlfr eval report`: the accuracy and fairness
 * evaluation as report.json (every number) and index.html (rendered from
 * the JSON alone by lfr_eval_report_html; --from-json redraws it).
 *
 *   openlfr eval report --data DIR --out DIR [--sample K] [--model-set S]
 *   openlfr eval report --from-json FILE --out DIR
 *
 * Sections (protocols in the JSON's own words, docs/accuracy.md):
 *   verification   LFW, the `eval verify` protocol: pairs.txt accuracy at
 *                  the best single threshold; every genuine and impostor
 *                  pair of all photos of the people pairs.txt names: DET
 *                  curve and TAR at FAR 1e-2..1e-6 with the pairs behind;
 *   openset        `eval openset --json` run as a child of this process
 *                  (its protocol, unchanged), at the set's default threshold;
 *   demographics   FMR over within-group impostor pairs and FNMR over
 *                  genuine pairs, by LFW sex and race (metadata.csv) and by
 *                  UTKFace sex, race and age band (impostor pairs only: no
 *                  identities), at two fixed global thresholds, with
 *                  Wilson 95 % intervals and the worst/best ratio;
 *   detection      WIDER FACE recall at the default thresholds by face
 *                  height and by perceived skin tone (demographics.csv).
 * --sample K keeps every K-th person / image (and K-th of the open-set
 * people), for quick runs; the JSON says so.  Progress goes to stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "face/face.h"
#include "match/match.h"
#include "opt.h"
#include "report/report.h"

/* Names and groups --------------------------------------------------------- */

typedef struct {
    char **v;
    int n, cap;
} er_names;

static int er_find(const er_names *s, const char *x) {
    for (int i = s->n; i-- > 0;)
        if (!strcmp(s->v[i], x)) return i;
    return -1;
}
static int er_add(er_names *s, const char *x) {
    int i = er_find(s, x);
    if (i >= 0) return i;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = realloc(s->v, sizeof(char *) * (size_t)s->cap);
    }
    s->v[s->n] = strdup(x);
    return s->n++;
}
static void er_names_free(er_names *s) {
    for (int i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
}

/* Wilson score interval, 95 %. */
static void wilson(double k, double n, double *lo, double *hi) {
    if (n <= 0) {
        *lo = 0, *hi = 1;
        return;
    }
    const double z = 1.959963984540054;
    double p = k / n, den = 1 + z * z / n, c = (p + z * z / (2 * n)) / den;
    double h = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den;
    *lo = fmax(0, c - h), *hi = fmin(1, c + h);
    if (k <= 0) *lo = 0;
    if (k >= n) *hi = 1;
}

/* Counts of one attribute's groups at the report's thresholds. */
#define ER_NTHR 2
typedef struct {
    er_names g;
    double n[64], k[ER_NTHR][64];
} er_tally;

static int er_tally_group(er_tally *t, const char *name) {
    int i = er_find(&t->g, name);
    if (i >= 0) return i;
    if (t->g.n >= 64) return -1;
    return er_add(&t->g, name);
}

/* One table of the report: rows by group at each threshold; a group is
 * judged when its size would show LFR_EVAL_JUDGE_MIN_ERRORS errors at the
 * global rate (global[t]). */
static json_t *er_groups_json(const er_tally *t, int ti, double global, int with_ratio) {
    json_t *a = json_array();
    double worst = -1, best = 2;
    int judged_n = 0;
    for (int i = 0; i < t->g.n; i++) {
        double n = t->n[i], k = t->k[ti][i], lo, hi;
        wilson(k, n, &lo, &hi);
        int judged = global > 0 && n * global >= LFR_EVAL_JUDGE_MIN_ERRORS;
        json_array_append_new(a, json_pack("{s:s, s:f, s:f, s:f, s:f, s:f, s:b}", "group",
                                           t->g.v[i], "n", n, "count", k, "rate",
                                           n > 0 ? k / n : 0.0, "ci_lo", lo, "ci_hi", hi,
                                           "judged", judged));
        if (judged) {
            judged_n++;
            double r = k / n;
            if (r > worst) worst = r;
            if (r < best) best = r;
        }
    }
    json_t *o = json_pack("{s:o}", "groups", a);
    (void)with_ratio;
    if (judged_n < 2)
        json_object_set_new(o, "ratio_note", json_string("fewer than two groups large enough to "
                                                         "judge: no ratio"));
    else if (best <= 0)
        json_object_set_new(o, "ratio_note", json_string("the best judged group has no errors: "
                                                         "the ratio is unbounded"));
    else {
        json_object_set_new(o, "ratio_worst_best", json_real(worst / best));
        json_object_set_new(o, "ratio_note", json_string("over the groups large enough to judge"));
    }
    return o;
}

/* Embedding --------------------------------------------------------------- */

typedef struct {
    lfr_face_ctx *ctx;
    lfr_face_model_set set;
    int dim;
} er_emb;

/* The face nearest the centre of the image at path (min face 10 px), as
 * eval verify and eval openset take it.  0, or -1 with no face. */
static int er_embed(const er_emb *e, const char *path, float *out) {
    lfr_image im = {0};
    lfr_err err = {{0}};
    if (lfr_image_load(path, &im, &err) != LFR_OK) return -1;
    lfr_face *faces;
    int n = 0;
    lfr_face_params p = lfr_face_params_default;
    p.min_face = 10;
    lfr_status st = lfr_face_detect(e->ctx, &im, &p, &faces, &n, &err);
    int c = st == LFR_OK ? lfr_face_pick_central(faces, n, im.w, im.h) : -1;
    if (c >= 0) {
        lfr_face f = faces[c];
        st = lfr_face_embed_set(e->ctx, &im, &f, 1, e->set, out, &err);
    }
    lfr_image_free(&im);
    return st == LFR_OK && c >= 0 ? 0 : -1;
}

static float er_dot(const float *a, const float *b, int d) {
    float s = 0;
    for (int i = 0; i < d; i++) s += a[i] * b[i];
    return s;
}

static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}
static int cmp_asc(const void *a, const void *b) { return -cmp_desc(a, b); }

/* Verification and LFW demographics ---------------------------------------- */

typedef struct {
    int person, index;
    int ok;
} er_photo;

typedef struct {
    er_names people;
    int *sex, *race;             /* per person: group index or -1 */
    er_names sexes, races;
    er_photo *ph;
    int nph, capph;
    float *emb;                  /* nph x dim */
    int no_face;
    int race_several;            /* people with several race labels (left out) */
} er_lfw;

static void er_lfw_free(er_lfw *l) {
    er_names_free(&l->people);
    er_names_free(&l->sexes);
    er_names_free(&l->races);
    free(l->sex);
    free(l->race);
    free(l->ph);
    free(l->emb);
}

/* metadata.csv: path,identity,gender,race (race may be quoted "a,b"). */
static void er_lfw_meta(er_lfw *l, const char *dir) {
    char path[4096], line[1024];
    snprintf(path, sizeof path, "%s/metadata.csv", dir);
    l->sex = malloc(sizeof(int) * (size_t)(l->people.n ? l->people.n : 1));
    l->race = malloc(sizeof(int) * (size_t)(l->people.n ? l->people.n : 1));
    for (int i = 0; i < l->people.n; i++) l->sex[i] = l->race[i] = -1;
    FILE *f = fopen(path, "r");
    if (!f) return;
    int *seen_several = calloc((size_t)(l->people.n ? l->people.n : 1), sizeof(int));
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *c1 = strchr(line, ',');
        if (!c1) continue;
        char *c2 = strchr(c1 + 1, ',');
        if (!c2) continue;
        char *c3 = strchr(c2 + 1, ',');
        if (!c3) continue;
        *c2 = 0, *c3 = 0;
        int p = er_find(&l->people, c1 + 1);
        if (p < 0) continue;
        const char *sex = c2 + 1, *race = c3 + 1;
        if (l->sex[p] < 0 && *sex) l->sex[p] = er_add(&l->sexes, sex);
        if (*race == '"' || strchr(race, ',')) {
            if (!seen_several[p]) l->race_several++;
            seen_several[p] = 1;
        } else if (l->race[p] < 0 && *race && !seen_several[p])
            l->race[p] = er_add(&l->races, race);
    }
    for (int p = 0; p < l->people.n; p++)
        if (seen_several[p]) l->race[p] = -1;
    free(seen_several);
    fclose(f);
}

typedef struct {
    int a, b, same;
} er_pair;

/* Reads pairs.txt (keeping the pairs of every sample-th person named), lists
 * every photo of those people and embeds them. */
static int er_lfw_load(er_lfw *l, const er_emb *e, const char *dir, int sample, er_pair **pairs,
                       int *npairs) {
    char path[4096], line[1024];
    snprintf(path, sizeof path, "%s/pairs.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "openlfr: eval report: cannot open %s\n", path);
        return 1;
    }
    er_names named = {0};
    typedef struct {
        int pa, ia, pb, ib, same;
    } raw;
    raw *rw = NULL;
    int nr = 0, capr = 0;
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    while (fgets(line, sizeof line, f)) {
        char a[256], b[256];
        int i, j, same;
        int k = sscanf(line, "%255s %d %255s %d", a, &i, b, &j);
        if (k == 3 && sscanf(line, "%255s %d %d", a, &i, &j) == 3) same = 1, strcpy(b, a);
        else if (k == 4) same = 0;
        else continue;
        if (nr == capr) rw = realloc(rw, sizeof *rw * (size_t)(capr = capr ? capr * 2 : 1024));
        rw[nr++] = (raw){er_add(&named, a), i, er_add(&named, b), j, same};
    }
    fclose(f);
    /* kept people: every sample-th in order of first mention */
    int *keep = malloc(sizeof(int) * (size_t)(named.n ? named.n : 1));
    for (int p = 0; p < named.n; p++)
        keep[p] = p % sample == 0 ? er_add(&l->people, named.v[p]) : -1;
    for (int p = 0; p < l->people.n; p++)
        for (int idx = 1; idx < 10000; idx++) {
            struct stat st;
            snprintf(path, sizeof path, "%s/images/%s/%s_%04d.jpg", dir, l->people.v[p],
                     l->people.v[p], idx);
            if (stat(path, &st) != 0) break;
            if (l->nph == l->capph)
                l->ph = realloc(l->ph, sizeof *l->ph * (size_t)(l->capph = l->capph ? l->capph * 2 : 1024));
            l->ph[l->nph++] = (er_photo){p, idx, 0};
        }
    *pairs = malloc(sizeof **pairs * (size_t)(nr ? nr : 1));
    *npairs = 0;
    for (int r = 0; r < nr; r++) {
        int pa = keep[rw[r].pa], pb = keep[rw[r].pb], a = -1, b = -1;
        if (pa < 0 || pb < 0) continue;
        for (int i = 0; i < l->nph; i++) {
            if (l->ph[i].person == pa && l->ph[i].index == rw[r].ia) a = i;
            if (l->ph[i].person == pb && l->ph[i].index == rw[r].ib) b = i;
        }
        if (a >= 0 && b >= 0) (*pairs)[(*npairs)++] = (er_pair){a, b, rw[r].same};
    }
    free(rw);
    free(keep);
    er_names_free(&named);
    er_lfw_meta(l, dir);
    l->emb = calloc((size_t)(l->nph ? l->nph : 1) * (size_t)e->dim, sizeof(float));
    uint64_t t0 = lfr_now_ns();
    for (int i = 0; i < l->nph; i++) {
        snprintf(path, sizeof path, "%s/images/%s/%s_%04d.jpg", dir, l->people.v[l->ph[i].person],
                 l->people.v[l->ph[i].person], l->ph[i].index);
        l->ph[i].ok = er_embed(e, path, l->emb + (size_t)i * e->dim) == 0;
        l->no_face += !l->ph[i].ok;
        if ((i + 1) % 250 == 0 || i + 1 == l->nph)
            fprintf(stderr, "eval report: LFW %d/%d photos embedded (%.1f/s), %d without a face\n",
                    i + 1, l->nph, (i + 1) / ((lfr_now_ns() - t0) / 1e9 + 1e-9), l->no_face);
    }
    return 0;
}

static const char *er_measurable(double expected) {
    return expected >= LFR_EVAL_JUDGE_MIN_ERRORS ? "yes" : expected >= 1 ? "rough" : "no";
}

/* Genuine scores (ascending) not above t, as a rate. */
static double er_fnmr(const float *gen, size_t ng, float t) {
    size_t lo = 0, hi = ng;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (gen[m] <= t) lo = m + 1;
        else hi = m;
    }
    return ng ? (double)lo / ng : 0.0;
}

/* The verification section; *t_fmr4 = the FMR 1e-4 threshold. */
static json_t *er_verify(const er_lfw *l, int dim, const er_pair *pr, int npairs, float *t_fmr4,
                         const float thr[ER_NTHR], json_t **demo_tables) {
    /* pairs-file accuracy at the best single threshold */
    float *ps = malloc(sizeof(float) * (size_t)(npairs ? npairs : 1));
    int *same = malloc(sizeof(int) * (size_t)(npairs ? npairs : 1));
    for (int i = 0; i < npairs; i++) {
        const er_photo *a = &l->ph[pr[i].a], *b = &l->ph[pr[i].b];
        ps[i] = a->ok && b->ok ? er_dot(l->emb + (size_t)pr[i].a * dim,
                                        l->emb + (size_t)pr[i].b * dim, dim) : -1;
        same[i] = pr[i].same;
    }
    double best_acc = 0;
    float best_t = 0;
    for (int i = 0; i < npairs; i++) {
        int ok = 0;
        for (int j = 0; j < npairs; j++) ok += (ps[j] >= ps[i]) == same[j];
        if ((double)ok / npairs > best_acc) best_acc = (double)ok / npairs, best_t = ps[i];
    }
    free(ps);
    free(same);
    /* every pair */
    size_t ng = 0, ni = 0, capg = 1 << 12, capi = 1 << 16;
    float *gen = malloc(sizeof(float) * capg), *imp = malloc(sizeof(float) * capi);
    for (int i = 0; i < l->nph; i++) {
        if (!l->ph[i].ok) continue;
        const float *ei = l->emb + (size_t)i * dim;
        for (int j = i + 1; j < l->nph; j++) {
            if (!l->ph[j].ok) continue;
            float s = er_dot(ei, l->emb + (size_t)j * dim, dim);
            if (l->ph[i].person == l->ph[j].person) {
                if (ng == capg) gen = realloc(gen, sizeof(float) * (capg *= 2));
                gen[ng++] = s;
            } else {
                if (ni == capi) imp = realloc(imp, sizeof(float) * (capi *= 2));
                imp[ni++] = s;
            }
        }
    }
    fprintf(stderr, "eval report: LFW %zu genuine, %zu impostor pairs scored\n", ng, ni);
    qsort(imp, ni, sizeof(float), cmp_desc);
    qsort(gen, ng, sizeof(float), cmp_asc);
    /* fnmr(t): genuine pairs not above t (gen ascending) */
#define ER_FNMR(t) er_fnmr(gen, ng, (t))
    json_t *tars = json_array();
    static const double fars[] = {1e-2, 1e-3, 1e-4, 1e-5, 1e-6};
    *t_fmr4 = NAN;
    for (size_t k = 0; k < sizeof fars / sizeof fars[0]; k++) {
        double want = fars[k] * (double)ni;
        size_t idx = (size_t)floor(want);
        json_t *row = json_pack("{s:f, s:I, s:I, s:f, s:s}", "far", fars[k], "impostor_pairs",
                                (json_int_t)ni, "genuine_pairs", (json_int_t)ng, "false_accepts",
                                floor(want), "measurable", er_measurable(want));
        if (want >= 1 && idx < ni) {
            float t = imp[idx];
            json_object_set_new(row, "threshold", json_real(t));
            json_object_set_new(row, "tar", json_real(1 - ER_FNMR(t)));
            if (fars[k] == 1e-4) *t_fmr4 = t;
        }
        json_array_append_new(tars, row);
    }
    if (!isfinite(*t_fmr4) && ni) *t_fmr4 = imp[0]; /* too few impostors: the highest */
    json_t *det = json_array();
    for (int k = 0; k <= LFR_EVAL_DET_POINTS && ni; k++) {
        double fmr = pow(10, -7.0 + 7.0 * k / LFR_EVAL_DET_POINTS);
        double want = fmr * (double)ni;
        if (want < 1) continue;
        size_t idx = (size_t)floor(want);
        if (idx >= ni) idx = ni - 1;
        float t = imp[idx];
        json_array_append_new(det, json_pack("{s:f, s:f, s:f}", "fmr", (double)idx / ni, "fnmr",
                                             ER_FNMR(t), "threshold", t));
    }
    /* demographic tallies at the fixed thresholds (the second pass) */
    float thr2[ER_NTHR] = {thr[0], *t_fmr4};
    double gfm[ER_NTHR] = {0}, gfn[ER_NTHR] = {0};
    for (int t = 0; t < ER_NTHR; t++) {
        size_t above = 0;
        while (above < ni && imp[above] > thr2[t]) above++;
        gfm[t] = ni ? (double)above / ni : 0;
        gfn[t] = ER_FNMR(thr2[t]);
    }
#undef ER_FNMR
    er_tally fm[2], fn[2]; /* [0] sex, [1] race */
    memset(fm, 0, sizeof fm);
    memset(fn, 0, sizeof fn);
    for (int a = 0; a < 2; a++) {
        const er_names *gn = a ? &l->races : &l->sexes;
        for (int i = 0; i < gn->n; i++) er_tally_group(&fm[a], gn->v[i]), er_tally_group(&fn[a], gn->v[i]);
    }
    for (int i = 0; i < l->nph; i++) {
        if (!l->ph[i].ok) continue;
        int pi = l->ph[i].person, gi[2] = {l->sex[pi], l->race[pi]};
        const float *ei = l->emb + (size_t)i * dim;
        for (int j = i + 1; j < l->nph; j++) {
            if (!l->ph[j].ok) continue;
            int pj = l->ph[j].person, gj[2] = {l->sex[pj], l->race[pj]};
            if (!((gi[0] >= 0 && gi[0] == gj[0]) || (gi[1] >= 0 && gi[1] == gj[1]))) continue;
            float s = er_dot(ei, l->emb + (size_t)j * dim, dim);
            for (int a = 0; a < 2; a++) {
                if (gi[a] < 0 || gi[a] != gj[a]) continue;
                er_tally *t = pi == pj ? &fn[a] : &fm[a];
                t->n[gi[a]]++;
                for (int k = 0; k < ER_NTHR; k++)
                    t->k[k][gi[a]] += pi == pj ? !(s > thr2[k]) : s > thr2[k];
            }
        }
    }
    static const char *const thr_name[ER_NTHR] = {"default", "FMR 1e-4"};
    for (int a = 0; a < 2; a++)
        for (int m = 0; m < 2; m++) {
            json_t *at = json_array();
            for (int k = 0; k < ER_NTHR; k++) {
                json_t *g = er_groups_json(m ? &fn[a] : &fm[a], k, m ? gfn[k] : gfm[k], 1);
                json_object_set_new(g, "threshold_name", json_string(thr_name[k]));
                json_object_set_new(g, "threshold", json_real(thr2[k]));
                json_object_set_new(g, "global_rate", json_real(m ? gfn[k] : gfm[k]));
                json_array_append_new(at, g);
            }
            json_array_append_new(
                *demo_tables,
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", m ? "lfw-fnmr" : "lfw-fmr",
                          "data", "LFW", "attribute", a ? "race (metadata.csv, single label)" : "sex",
                          "measure", m ? "FNMR" : "FMR", "pairs",
                          m ? "genuine pairs (two photos of one person of the group)"
                            : "within-group impostor pairs (two people of the same group)",
                          "at", at));
        }
    for (int a = 0; a < 2; a++) {
        er_names_free(&fm[a].g);
        er_names_free(&fn[a].g);
    }
    json_t *v = json_pack("{s:s, s:i, s:f, s:f, s:I, s:I, s:o, s:o}", "protocol",
                          "eval verify's: accuracy over the pairs file at the best single "
                          "threshold (no folds); TAR, FAR and the DET curve over every genuine "
                          "and impostor pair of all photos of the people the pairs file names "
                          "(face nearest the centre, min 10 px; photos without a face left out).",
                          "pairs", npairs, "accuracy", best_acc, "accuracy_threshold",
                          (double)best_t, "genuine_pairs", (json_int_t)ng, "impostor_pairs",
                          (json_int_t)ni, "tar_at_far", tars, "det", det);
    free(gen);
    free(imp);
    return v;
}

/* UTKFace: impostor pairs within sex, race and age band ------------------ */

static const char *const er_utk_sex[] = {"male", "female"};
static const char *const er_utk_race[] = {"White", "Black", "Asian", "Indian", "Other"};
static const int er_age_lo[] = {0, 18, 30, 45, 60};
static const char *const er_age_name[] = {"0-17", "18-29", "30-44", "45-59", "60+"};
enum { ER_N_AGE = sizeof er_age_lo / sizeof er_age_lo[0] };

static int er_age_band(int age) {
    int b = -1;
    for (int i = 0; i < ER_N_AGE; i++)
        if (age >= er_age_lo[i]) b = i;
    return b;
}

static int er_cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the UTKFace tables; the counts go into *data. */
static int er_utk(const er_emb *e, const char *dir, int sample, const float thr[ER_NTHR],
                  json_t *tables, json_t **data) {
    char path[4096];
    snprintf(path, sizeof path, "%s/images", dir);
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "openlfr: eval report: cannot open %s\n", path);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".jpg")) continue;
        if (n == cap) names = realloc(names, sizeof *names * (cap = cap ? cap * 2 : 1024));
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, er_cmp_str); /* names is NULL when n == 0 */
    size_t m = 0;
    float *emb = malloc(sizeof(float) * (size_t)e->dim * (n / (size_t)sample + 1));
    int (*lab)[3] = malloc(sizeof *lab * (n / (size_t)sample + 1));
    int no_face = 0, bad_name = 0, used = 0;
    uint64_t t0 = lfr_now_ns();
    for (size_t i = 0; i < n; i += (size_t)sample) {
        int age, sex, race;
        used++;
        if (sscanf(names[i], "%d_%d_%d_", &age, &sex, &race) != 3 || sex < 0 || sex > 1 ||
            race < 0 || race > 4 || er_age_band(age) < 0) {
            bad_name++;
            continue;
        }
        snprintf(path, sizeof path, "%s/images/%s", dir, names[i]);
        if (er_embed(e, path, emb + m * (size_t)e->dim)) {
            no_face++;
            continue;
        }
        lab[m][0] = sex, lab[m][1] = race, lab[m][2] = er_age_band(age);
        m++;
        if (m % 250 == 0)
            fprintf(stderr, "eval report: UTKFace %zu photos embedded (%.1f/s)\n", m,
                    m / ((lfr_now_ns() - t0) / 1e9 + 1e-9));
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    /* every pair is taken as an impostor pair (no identities) */
    er_tally t[3];
    memset(t, 0, sizeof t);
    for (int s = 0; s < 2; s++) er_tally_group(&t[0], er_utk_sex[s]);
    for (int r = 0; r < 5; r++) er_tally_group(&t[1], er_utk_race[r]);
    for (int a = 0; a < ER_N_AGE; a++) er_tally_group(&t[2], er_age_name[a]);
    double all = 0, above[ER_NTHR] = {0};
    for (size_t i = 0; i < m; i++)
        for (size_t j = i + 1; j < m; j++) {
            float s = er_dot(emb + i * (size_t)e->dim, emb + j * (size_t)e->dim, e->dim);
            all++;
            for (int k = 0; k < ER_NTHR; k++) above[k] += s > thr[k];
            for (int a = 0; a < 3; a++) {
                if (lab[i][a] != lab[j][a]) continue;
                t[a].n[lab[i][a]]++;
                for (int k = 0; k < ER_NTHR; k++) t[a].k[k][lab[i][a]] += s > thr[k];
            }
        }
    static const char *const attr[3] = {"sex", "race", "age band"};
    static const char *const thr_name[ER_NTHR] = {"default", "FMR 1e-4"};
    for (int a = 0; a < 3; a++) {
        json_t *at = json_array();
        for (int k = 0; k < ER_NTHR; k++) {
            double g = all > 0 ? above[k] / all : 0;
            json_t *o = er_groups_json(&t[a], k, g, 1);
            json_object_set_new(o, "threshold_name", json_string(thr_name[k]));
            json_object_set_new(o, "threshold", json_real(thr[k]));
            json_object_set_new(o, "global_rate", json_real(g));
            json_array_append_new(at, o);
        }
        json_array_append_new(
            tables, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", "utkface-fmr", "data",
                              "UTKFace", "attribute", attr[a], "measure", "FMR", "pairs",
                              "within-group pairs of UTKFace chips, all taken as impostor pairs "
                              "(UTKFace has no identities; a person photographed twice would "
                              "count as a false match)", "at", at));
        er_names_free(&t[a].g);
    }
    *data = json_pack("{s:I, s:i, s:i, s:i, s:I, s:f}", "files", (json_int_t)n, "used", used,
                      "without_face", no_face, "unparsed_name", bad_name, "embedded",
                      (json_int_t)m, "pairs", all);
    free(emb);
    free(lab);
    return 0;
}

/* WIDER FACE: recall at the default thresholds by height and skin tone ---- */

#define ER_N_BANDS 5
static const float er_band_lo[ER_N_BANDS] = {10, 20, 40, 80, 200};
static const float er_band_hi[ER_N_BANDS] = {20, 40, 80, 200, 1e9f};
static const char *const er_band_name[ER_N_BANDS] = {"10-20 px", "20-40 px", "40-80 px",
                                                     "80-200 px", ">= 200 px"};
static const char *const er_skin[] = {"I", "II", "III", "IV", "V", "VI", "Not Sure"};
enum { ER_N_SKIN = sizeof er_skin / sizeof er_skin[0] };

static int er_band(float h) {
    for (int b = 0; b < ER_N_BANDS; b++)
        if (h >= er_band_lo[b] && h < er_band_hi[b]) return b;
    return -1;
}

static float er_iou(const float *a, const float *b) {
    float ix = fminf(a[0] + a[2], b[0] + b[2]) - fmaxf(a[0], b[0]);
    float iy = fminf(a[1] + a[3], b[1] + b[3]) - fmaxf(a[1], b[1]);
    if (ix <= 0 || iy <= 0) return 0;
    float in = ix * iy;
    return in / (a[2] * a[3] + b[2] * b[3] - in);
}

typedef struct {
    char *file;   /* "0--Parade/x.jpg" */
    int face, skin;
} er_demo;

static json_t *er_wider(const er_emb *e, const char *dir, int sample, json_t **data) {
    char path[4096], line[1024], name[1024];
    /* demographics.csv: ,file,perceived_gender,perceived_age,perceived_skin,face */
    er_demo *dm = NULL;
    size_t nd = 0, capd = 0;
    snprintf(path, sizeof path, "%s/demographics.csv", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            char *fld[6] = {0}, *save = NULL, *p = line;
            line[strcspn(line, "\r\n")] = 0;
            int k = 0;
            for (char *t = strsep(&p, ","); t && k < 6; t = strsep(&p, ",")) fld[k++] = t;
            (void)save;
            if (k < 6 || strncmp(fld[1], "images/", 7)) continue;
            int skin = -1;
            for (int s = 0; s < ER_N_SKIN; s++)
                if (!strcmp(fld[4], er_skin[s])) skin = s;
            if (skin < 0) continue;
            if (nd == capd) dm = realloc(dm, sizeof *dm * (capd = capd ? capd * 2 : 1024));
            dm[nd++] = (er_demo){strdup(fld[1] + 7), atoi(fld[5]), skin};
        }
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/wider_face_val_bbx_gt.txt", dir);
    f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "openlfr: eval report: cannot open %s\n", path);
        for (size_t i = 0; i < nd; i++) free(dm[i].file);
        free(dm);
        return NULL;
    }
    er_tally tb, ts, ts40;
    memset(&tb, 0, sizeof tb);
    memset(&ts, 0, sizeof ts);
    memset(&ts40, 0, sizeof ts40);
    for (int b = 0; b < ER_N_BANDS; b++) er_tally_group(&tb, er_band_name[b]);
    for (int s = 0; s < ER_N_SKIN; s++) er_tally_group(&ts, er_skin[s]), er_tally_group(&ts40, er_skin[s]);
    int images = 0, seen = 0, faces = 0, skin_faces = 0;
    double tp_all = 0;
    lfr_face_params p = lfr_face_params_default; /* thresholds: the defaults */
    p.min_face = 8;
    p.max_faces = 1000;
    while (fgets(name, sizeof name, f)) {
        name[strcspn(name, "\r\n")] = 0;
        if (!name[0]) continue;
        int n = 0;
        if (!fgets(line, sizeof line, f) || sscanf(line, "%d", &n) != 1 || n < 0 || n > 100000) break;
        int rows = n ? n : 1;
        float (*g)[4] = malloc(sizeof *g * (size_t)rows);
        int *valid = calloc((size_t)rows, sizeof(int));
        for (int k = 0; k < rows; k++) {
            int v[10] = {0};
            if (!fgets(line, sizeof line, f)) break;
            sscanf(line, "%d %d %d %d %d %d %d %d %d %d", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                   &v[6], &v[7], &v[8], &v[9]);
            g[k][0] = (float)v[0], g[k][1] = (float)v[1], g[k][2] = (float)v[2], g[k][3] = (float)v[3];
            valid[k] = k < n && v[7] == 0 && v[2] > 0 && v[3] > 0;
        }
        if (seen++ % sample) {
            free(g);
            free(valid);
            continue;
        }
        snprintf(path, sizeof path, "%s/images/%s", dir, name);
        lfr_image im = {0};
        lfr_err err = {{0}};
        if (lfr_image_load(path, &im, &err) != LFR_OK) {
            free(g);
            free(valid);
            continue;
        }
        images++;
        lfr_face *fc;
        int nf = 0;
        if (lfr_face_detect(e->ctx, &im, &p, &fc, &nf, &err) != LFR_OK) nf = 0;
        /* greedy: detections by score, each to the unmatched face of best IoU >= 0.5 */
        int *order = malloc(sizeof(int) * (size_t)(nf ? nf : 1)), *hit = calloc((size_t)rows, sizeof(int));
        for (int i = 0; i < nf; i++) order[i] = i;
        for (int i = 1; i < nf; i++) {
            int v = order[i], j = i - 1;
            while (j >= 0 && fc[order[j]].onet_score < fc[v].onet_score) order[j + 1] = order[j], j--;
            order[j + 1] = v;
        }
        for (int oi = 0; oi < nf; oi++) {
            int best = -1;
            float bi = 0.5f;
            for (int k = 0; k < n; k++) {
                if (hit[k]) continue;
                float v = er_iou(fc[order[oi]].box, g[k]);
                if (v >= bi) bi = v, best = k;
            }
            if (best >= 0) hit[best] = 1;
        }
        for (int k = 0; k < n; k++) {
            int b = er_band(g[k][3]);
            if (!valid[k] || b < 0) continue;
            faces++;
            tp_all += hit[k];
            tb.n[b]++, tb.k[0][b] += hit[k];
            for (size_t i = 0; i < nd; i++)
                if (dm[i].face == k && !strcmp(dm[i].file, name)) {
                    skin_faces++;
                    ts.n[dm[i].skin]++, ts.k[0][dm[i].skin] += hit[k];
                    if (g[k][3] >= 40) ts40.n[dm[i].skin]++, ts40.k[0][dm[i].skin] += hit[k];
                }
        }
        free(order);
        free(hit);
        free(g);
        free(valid);
        lfr_image_free(&im);
        if (images % 20 == 0) fprintf(stderr, "eval report: WIDER %d images\n", images);
    }
    fclose(f);
    for (size_t i = 0; i < nd; i++) free(dm[i].file);
    free(dm);
    double rate = faces ? tp_all / faces : 0;
    json_t *tables = json_array();
    const struct {
        er_tally *t;
        const char *attr;
    } tt[3] = {{&tb, "face height"}, {&ts, "perceived skin tone (all sizes)"},
               {&ts40, "perceived skin tone (faces 40 px and taller)"}};
    for (int i = 0; i < 3; i++) {
        double gl = rate;
        if (i == 2) { /* the recall of faces >= 40 px, the judging rate of that table */
            double k = 0, n = 0;
            for (int b = 2; b < ER_N_BANDS; b++) k += tb.k[0][b], n += tb.n[b];
            gl = n ? k / n : 0;
        }
        /* a recall's "errors" are the misses: judged on the miss rate */
        json_t *o = er_groups_json(tt[i].t, 0, 1 - gl, 0);
        json_object_set_new(o, "attribute", json_string(tt[i].attr));
        /* worst/best of the miss rates (1 - recall) of the judged groups */
        double worst = -1, best = 2;
        int nj = 0;
        size_t gi;
        json_t *gr;
        json_array_foreach(json_object_get(o, "groups"), gi, gr) {
            /* "Not Sure": faces too small or blurred to label, not a tone */
            if (!json_is_true(json_object_get(gr, "judged")) ||
                !strcmp(json_string_value(json_object_get(gr, "group")), "Not Sure"))
                continue;
            double miss = 1 - json_number_value(json_object_get(gr, "rate"));
            nj++;
            worst = fmax(worst, miss), best = fmin(best, miss);
        }
        json_object_del(o, "ratio_worst_best");
        if (nj >= 2 && best > 0) {
            json_object_set_new(o, "ratio_worst_best", json_real(worst / best));
            json_object_set_new(o, "ratio_note",
                                json_string(i ? "of the miss rates (1 - recall), over the groups "
                                                "large enough to judge (not 'Not Sure')"
                                              : "of the miss rates (1 - recall), over the groups "
                                                "large enough to judge"));
        } else
            json_object_set_new(o, "ratio_note", json_string(nj < 2 ? "fewer than two groups large "
                                "enough to judge: no ratio" : "the best judged group misses "
                                "nothing: the ratio is unbounded"));
        json_array_append_new(tables, o);
        er_names_free(&tt[i].t->g);
    }
    *data = json_pack("{s:i, s:i, s:i, s:i}", "images_in_file", seen, "images_used", images,
                      "valid_faces_10px_up", faces, "faces_with_skin_label", skin_faces);
    return json_pack("{s:s, s:f, s:o}", "protocol",
                     "WIDER FACE validation sample: the detector at its default thresholds (min "
                     "face 8 px), detections matched greedily by score to ground-truth faces at "
                     "IoU >= 0.5; recall = valid faces (not marked invalid, 10 px and taller) "
                     "found; skin tone is the perceived Fitzpatrick-like type I-VI of the Amazon "
                     "widerface-demographics labels.  Small faces dominate the darker groups less "
                     "or more by chance: the 40 px table separates size from tone.",
                     "recall", rate, "tables", tables);
}

/* Open-set identification: `eval openset --json` as a child ------------- */

/* Bootstrap replicates behind each FNIR's 90 % interval (eval openset
 * --bootstrap; each replicate is one pass over a row's searches). */
enum { ER_OPENSET_BOOTSTRAP = 200 };

static json_t *er_openset(const char *data, int sample, const char *set, float thr,
                          const char *truth, char *cmdline, size_t cap) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return NULL;
    self[n] = 0;
    char extra[4300] = "", path[4096], line[512];
    if (sample > 1) { /* the first 1/sample of people.txt, as many UTKFace / CelebA photos */
        int people = 0;
        snprintf(path, sizeof path, "%s/lfw/people.txt", data);
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof line, f)) people++;
        if (f) fclose(f);
        snprintf(extra, sizeof extra, " --people %d --extra %d", people / sample + 1,
                 people / sample + 1);
    }
    if (truth) {
        size_t l = strlen(extra);
        snprintf(extra + l, sizeof extra - l, " --truth '%s'", truth);
    }
    int w = snprintf(cmdline, cap, "'%s' eval openset --lfw '%s/lfw' --utkface '%s/utkface' "
                     "--celeba '%s/celeba' --model-set %s --threshold %.4f --sizes 100,1000,max "
                     "--bootstrap %d%s --json", self, data, data, data, set, thr,
                     ER_OPENSET_BOOTSTRAP, extra);
    if (w < 0 || (size_t)w >= cap) {
        fprintf(stderr, "openlfr: eval report: the eval openset command is too long\n");
        return NULL;
    }
    fprintf(stderr, "eval report: open-set identification: %s\n", cmdline);
    FILE *p = popen(cmdline, "r");
    if (!p) return NULL;
    json_error_t je;
    json_t *o = json_loadf(p, JSON_DISABLE_EOF_CHECK, &je);
    int rc = pclose(p);
    if (rc != 0 || !json_is_object(o)) {
        fprintf(stderr, "openlfr: eval report: eval openset failed (status %d)\n", rc);
        json_decref(o);
        return NULL;
    }
    /* the command as the reader would type it: without this binary's path */
    char *q = strstr(cmdline, "' eval openset");
    if (q) memmove(cmdline, "openlfr", 7), memmove(cmdline + 7, q + 1, strlen(q + 1) + 1);
    return o;
}

/* models/MANIFEST.tsv: the networks (not the demo photos). */
static json_t *er_models(void) {
    char path[4096], line[2048];
    snprintf(path, sizeof path, "%s/MANIFEST.tsv", lfr_cli_models_dir());
    json_t *a = json_array();
    FILE *f = fopen(path, "r");
    if (!f) return a;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#') continue;
        char *fld[7] = {0}, *p = line;
        int k = 0;
        for (char *t = strsep(&p, "\t"); t && k < 7; t = strsep(&p, "\t")) fld[k++] = t;
        if (k < 7 || !strcmp(fld[0], "photo")) continue;
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s}", "arch", fld[0], "file",
                                           fld[1], "package", fld[2], "version", fld[3], "sha256",
                                           fld[6]));
    }
    fclose(f);
    return a;
}

/* Writing ---------------------------------------------------------------- */

static int er_write(const char *dir, const char *name, const void *p, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        fprintf(stderr, "openlfr: eval report: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(stderr, "eval report: wrote %s\n", path);
    return 0;
}

static int er_render(const json_t *rep, const char *out) {
    uint8_t *html = NULL;
    size_t len = 0;
    lfr_err err = {{0}};
    lfr_status st = lfr_eval_report_html(rep, &html, &len, &err);
    if (st != LFR_OK) return lfr_cli_fail("eval report", st, &err);
    int rc = er_write(out, "index.html", html, len);
    lfr_free(html);
    return rc;
}

int lfr_cmd_eval_report(int argc, char **argv) {
    const char *data = getenv("OPENLFR_DATA"), *out = NULL, *set_txt = LFR_DEPLOY_DEFAULT_MODEL_SET, *from = NULL;
    const char *truth = NULL;
    int64_t sample = 1;
    const cli_opt opts[] = {
        {"data", CLI_STR, 0, "DIR", "the face data ($OPENLFR_DATA): lfw/, utkface/, wider/, celeba/",
         &data, 0, 0},
        {"out", CLI_STR, 1, "DIR", "where report.json and index.html go (created)", &out, 0, 0},
        {"sample", CLI_INT, 0, "K", "every K-th person / image only (quick, rough; default 1)",
         &sample, 1, 1000},
        {"model-set", CLI_STR, 0, "SET", "fused704v3 (default: the deployments' own), fused704v2, "
         "fused704 or mfn192", &set_txt, 0, 0},
        {"from-json", CLI_STR, 0, "FILE", "redraw index.html from a report.json, run nothing",
         &from, 0, 0},
        {"truth", CLI_STR, 0, "FILE", "ground-truth corrections for the open-set part "
         "(eval openset --truth; LFW's: docs/lfw-truth.txt)", &truth, 0, 0},
        CLI_END};
    const cli_cmd cmd = {
        "eval report", "accuracy and fairness evaluation: report.json and index.html", opts, NULL,
        "Verification (LFW, DET curve, TAR at FAR 1e-2..1e-6), open-set identification\n"
        "(eval openset), demographic differentials (FMR / FNMR by sex, race, age band with\n"
        "95 % intervals) and detection recall by face size and skin tone (WIDER FACE).\n"
        "The page is drawn from the JSON alone; no face image goes into either.\n"
        "docs/accuracy.md."};
    int parsed = cli_parse(&cmd, argc, argv);
    if (parsed != CLI_OK) return CLI_EXIT(parsed);
    if (mkdir(out, 0755) && errno != EEXIST) {
        fprintf(stderr, "openlfr: eval report: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    if (from) {
        json_error_t je;
        json_t *rep = json_load_file(from, 0, &je);
        if (!rep) {
            fprintf(stderr, "openlfr: eval report: %s:%d: %s\n", from, je.line, je.text);
            return 1;
        }
        int rc = er_render(rep, out);
        json_decref(rep);
        return rc;
    }
    if (!data)
        return cli_usage_error(&cmd, "--data: not given and $OPENLFR_DATA is not set");
    if (truth && (strchr(truth, '\'') || strlen(truth) > 4096 || access(truth, R_OK)))
        return cli_usage_error(&cmd, "--truth: '%s' is not a readable file (without quotes)",
                               truth);
    lfr_face_model_set set;
    if (lfr_face_model_set_parse(set_txt, &set) != LFR_OK)
        return cli_usage_error(&cmd, "--model-set: '%s' is not mfn192, fused704, fused704v2 or "
                               "fused704v3", set_txt);
    const lfr_match_calibration *cal = lfr_match_calibration_named(set_txt);
    if (!cal) {
        fprintf(stderr, "openlfr: eval report: no calibration for model set %s\n", set_txt);
        return 1;
    }
    lfr_face_engine *eng = NULL;
    er_emb e = {NULL, set, lfr_face_model_set_dim(set)};
    if (lfr_cli_face_load(&eng, &e.ctx)) return 1;
    if (!lfr_face_engine_has_model_set(eng, set)) {
        fprintf(stderr, "openlfr: eval report: model set %s needs a network %s lacks "
                "(tools/setup.sh models)\n", set_txt, lfr_cli_models_dir());
        lfr_cli_face_unload(eng, e.ctx);
        return 1;
    }
    int K = (int)sample, rc = 0;
    float thr[ER_NTHR] = {lfr_match_cal_default_threshold(cal), NAN};
    uint64_t t0 = lfr_now_ns();
    char dir[1024];
    json_t *rep = json_object(), *datao = json_object(), *tables = json_array();
    /* verification + LFW demographics */
    er_lfw l = {0};
    er_pair *pairs = NULL;
    int npairs = 0;
    snprintf(dir, sizeof dir, "%s/lfw", data);
    rc = er_lfw_load(&l, &e, dir, K, &pairs, &npairs);
    if (!rc) {
        json_t *v = er_verify(&l, e.dim, pairs, npairs, &thr[1], thr, &tables);
        json_object_set_new(rep, "verification", v);
        int nsex = 0, nrace = 0;
        for (int p = 0; p < l.people.n; p++) nsex += l.sex[p] >= 0, nrace += l.race[p] >= 0;
        json_object_set_new(datao, "LFW (View 1 pairs' people)",
                            json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "people", l.people.n,
                                      "photos", l.nph, "photos_without_face", l.no_face,
                                      "pairs_file_pairs", npairs, "people_with_sex", nsex,
                                      "people_with_one_race_label", nrace,
                                      "people_with_several_race_labels_left_out",
                                      l.race_several));
    }
    er_lfw_free(&l);
    free(pairs);
    /* UTKFace */
    json_t *ud = NULL;
    snprintf(dir, sizeof dir, "%s/utkface", data);
    if (!rc) rc = er_utk(&e, dir, K, thr, tables, &ud);
    if (ud) json_object_set_new(datao, "UTKFace", ud);
    /* WIDER */
    json_t *wd = NULL, *det = NULL;
    snprintf(dir, sizeof dir, "%s/wider", data);
    if (!rc) det = er_wider(&e, dir, K, &wd);
    if (!rc && !det) rc = 1;
    if (det) json_object_set_new(rep, "detection", det);
    if (wd) json_object_set_new(datao, "WIDER FACE", wd);
    lfr_cli_face_unload(eng, e.ctx);
    /* open-set, in a child (it loads its own models) */
    char cmdline[8192];
    json_t *os = rc ? NULL : er_openset(data, K, set_txt, thr[0], truth, cmdline, sizeof cmdline);
    if (!rc && !os) rc = 1;
    if (os) {
        json_t *ph = json_object_get(os, "photos"), *en = json_object_get(os, "enrolment");
        json_object_set_new(datao, "open-set (eval openset)",
                            json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}", "lfw_2plus_photos",
                                      json_object_get(ph, "lfw-2plus"), "lfw_1_photos",
                                      json_object_get(ph, "lfw-1"), "utkface_photos",
                                      json_object_get(ph, "utkface"), "celeba_photos",
                                      json_object_get(ph, "celeba"), "enrolled_people",
                                      json_object_get(os, "accepted_people"), "people_2plus",
                                      json_object_get(en, "people_2plus")));
        json_object_set_new(os, "command", json_string(cmdline));
        json_object_set_new(rep, "openset", os);
    }
    if (!rc) {
        time_t now = time(NULL);
        char when[64], cmd_txt[512];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
        snprintf(cmd_txt, sizeof cmd_txt, "openlfr eval report --data DATA --out DIR --sample %d "
                 "--model-set %s%s", K, set_txt, truth ? " --truth FILE" : "");
        json_object_set_new(rep, "schema", json_string(LFR_EVAL_REPORT_SCHEMA));
        json_object_set_new(rep, "generated_at", json_string(when));
        json_object_set_new(rep, "command", json_string(cmd_txt));
        json_object_set_new(rep, "sample", json_integer(K));
        json_object_set_new(rep, "model_set", json_string(set_txt));
        json_object_set_new(rep, "seconds", json_real((lfr_now_ns() - t0) / 1e9));
        json_object_set_new(rep, "data", datao);
        datao = NULL;
        json_object_set_new(rep, "models", er_models());
        json_object_set_new(rep, "thresholds",
                            json_pack("{s:f, s:f}", "default (the set's alert threshold)",
                                      (double)thr[0], "FMR 1e-4 on LFW impostor pairs",
                                      (double)thr[1]));
        json_object_set_new(
            rep, "openset_protocol",
            json_string("eval openset's (NIST FRTE 1:N style): one accepted photo enrolled per "
                        "LFW person with 2+ photos, their other photos (<= 5) mated searches; "
                        "everyone not in the gallery (other galleries, LFW with one photo, "
                        "UTKFace, CelebA) non-mated; disjoint galleries of a size pooled. FNIR: "
                        "mated searches whose own entry does not score above T; FPIR: non-mated "
                        "searches with any entry above T. Rough: fewer than 10 non-mated "
                        "searches, or 10 distinct photos, above T. With ground-truth corrections "
                        "(openset.truth), a search against an entry of its own person under "
                        "another label is no non-mated search and is dropped."));
        char method[1536];
        snprintf(method, sizeof method,
                 "At fixed global thresholds (the set's default and the one giving FMR 1e-4 over "
                 "all LFW impostor pairs), as NIST FRTE demographics does: FMR over impostor pairs "
                 "whose two people are in the same group, FNMR over genuine pairs. 95 %% "
                 "intervals: Wilson score. A group is judged only when its pairs would show %d "
                 "errors at the data set's overall rate at that threshold (the rule eval openset "
                 "uses for 'measurable'); the others are listed as too few to judge and left out "
                 "of the worst/best ratio. Pairs are not independent: every pair of a "
                 "person's photos counts, so people with many photos weigh most (LFW: a few "
                 "public figures) and the intervals are too narrow by that much.",
                 LFR_EVAL_JUDGE_MIN_ERRORS);
        json_object_set_new(
            rep, "demographics",
            json_pack("{s:s, s:o, s:[s, s]}", "method", method, "tables", tables, "not_measured",
                      "UTKFace FNMR: UTKFace has no identities, so only impostor pairs (FMR).",
                      "LFW age: LFW has no age labels; LFW race labels are partial (third-party, "
                      "people with one race label only)."));
        tables = NULL;
        char *txt = json_dumps(rep, JSON_INDENT(1) | JSON_REAL_PRECISION(6));
        rc = !txt || er_write(out, "report.json", txt, strlen(txt));
        /* the page from the JSON as written (rounded), as --from-json draws it */
        json_t *back = rc ? NULL : json_loads(txt, 0, NULL);
        free(txt);
        if (!rc) rc = back ? er_render(back, out) : 1;
        json_decref(back);
    }
    json_decref(tables);
    json_decref(datao);
    json_decref(rep);
    return rc;
}
