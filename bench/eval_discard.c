/*
 * eval_discard.c - error versus discard curves for enrolment quality
 * (ISO/IEC 29794-5, NIST FRTE quality): the measurements behind the
 * warning cut-offs of src/enrol (docs/quality.md, "Grades").
 *
 *   eval_discard lfw [MAX_PER_PERSON [PEOPLE_STEP]]
 *       LFW people of the official same-person pairs (pairs.txt), every
 *       PEOPLE_STEP-th (1), at most MAX_PER_PERSON (8) photos each: every
 *       photo measured as enrolment measures it (lfr_enrol_measure: eye
 *       distance, sharpness, yaw, pitch, roll, at_edge, brightness,
 *       left-right lighting difference), every same-person pair scored.
 *       For each measure: the FNMR at the default threshold 0.70 and at
 *       the LFW FMR 1e-4 threshold 0.563 as the worst-quality pairs (pair
 *       quality = the worse photo) are discarded (0..50 %); the
 *       same-person score by bin of one photo's measure; the pairs of
 *       photos without warnings (the reference of every warning's
 *       sentence).  With EFFECT=1 in the environment it also prints
 *       src/enrol/enrol_effect.h.
 *   eval_discard synth KIND [PAIRS]
 *       PAIRS (200) official same-person pairs: the first photo made worse
 *       at several levels, compared with the second photo as it is; scores
 *       by level and by the MEASURED value of the made photo.  KIND:
 *       shrink (eyes d px apart: LFW's own are all about 35-50 px), rotate
 *       (roll: LFW deep-funneled photos are upright), blur (down and up by
 *       k), dark / bright (grey levels scaled towards black / white), tight
 *       (cut to t x the face box: the face at the photo's edge).
 *   eval_discard gate [PHOTO_STEP [FRAME_STEP]]
 *       the share of photos that today's gate (before issue 11: one gate,
 *       eye distance >= 40, sharpness >= 60, |yaw| <= 30, |roll| <= 25)
 *       rejects, against the grades: LFW first photos (every
 *       PHOTO_STEP-th person, 4), and video stills (every FRAME_STEP-th
 *       frame, 10, of the Hamilton, talking-head and MOT clips; each face
 *       with at least 10 px between the eyes cut out at 3x its box, as
 *       an officer would cut a still for enrolment).
 *
 * MODEL_SET=NAME in the environment measures another model set than
 * mfn192 (its embeddings; the thresholds are its calibration's default,
 * FMR about 1e-6, and its FMR 1e-4 one where the text says 0.70 and
 * 0.563); EFFECT=1 then prints src/enrol/enrol_effect_NAME.h's lines.
 *
 * Data from $OPENLFR_DATA, models from $OPENLFR_MODELS (or models/).
 * Nothing is written anywhere: numbers go to stdout.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enrol/enrol.h"
#include "match/match.h"
#include "video/video.h"

#define D LFR_FACE_EMB_MAX_DIM

/* The model set measured (MODEL_SET in the environment, default mfn192):
 * its embeddings, its default threshold (FMR about 1e-6: 0.70 for mfn192)
 * and its LFW FMR 1e-4 threshold (0.563 for mfn192; the calibration's for
 * the others). */
static lfr_face_model_set mset = LFR_FACE_MODEL_MFN192;
static int dim = LFR_FACE_EMB_DIM;
static float thr_default = LFR_MATCH_DEFAULT_THRESHOLD, thr_1e4 = 0.563f;

static float sim(const float *a, const float *b) {
    double s = 0;
    for (int i = 0; i < dim; i++) s += (double)a[i] * b[i];
    return (float)s;
}

static lfr_face_engine *eng;
static lfr_face_ctx *ctx;
static const char *data;

/* The measures, as columns: name, how a pair's quality is the worse photo,
 * and the bins of one photo's value. */
enum { M_EYE, M_SHARP, M_YAW, M_PITCH, M_ROLL, M_EDGE, M_BRIGHT, M_UNEVEN, NM };
enum { WORSE_MIN, WORSE_MAX_ABS, WORSE_FAR_MID };
static const struct {
    const char *name;
    int worse;
    int warn;           /* lfr_enrol_warn whose bins these are, -1 none */
    float bins[10];     /* edges, ascending; absolute value for angles */
    int nbins;          /* edges used */
} meas[NM] = {
    [M_EYE] = {"eye distance (px)", WORSE_MIN, LFR_ENROL_WARN_SMALL,
               {0, 30, 35, 40, 45, 50, 1e9}, 7},
    [M_SHARP] = {"sharpness", WORSE_MIN, LFR_ENROL_WARN_BLUR,
                 {0, 20, 40, 60, 80, 100, 150, 200, 400, 1e9}, 10},
    [M_YAW] = {"|yaw| (deg)", WORSE_MAX_ABS, LFR_ENROL_WARN_YAW,
               {0, 5, 10, 15, 20, 25, 30, 40, 90}, 9},
    [M_PITCH] = {"|pitch| (deg)", WORSE_MAX_ABS, LFR_ENROL_WARN_PITCH,
                 {0, 5, 10, 15, 20, 25, 30, 90}, 8},
    [M_ROLL] = {"|roll| (deg)", WORSE_MAX_ABS, LFR_ENROL_WARN_ROLL, {0, 5, 10, 15, 20, 30, 90}, 7},
    [M_EDGE] = {"at_edge", WORSE_MAX_ABS, LFR_ENROL_WARN_AT_EDGE, {0, 0.5f, 2}, 3},
    [M_BRIGHT] = {"brightness (grey)", WORSE_FAR_MID, -1,
                  {0, 40, 50, 60, 80, 120, 160, 180, 200, 256}, 10},
    [M_UNEVEN] = {"left-right (grey)", WORSE_MAX_ABS, LFR_ENROL_WARN_UNEVEN,
                  {0, 10, 20, 30, 40, 50, 60, 80, 256}, 9},
};

static float mval(const lfr_enrol_measures *m, int k) {
    switch (k) {
    case M_EYE: return m->eye_dist;
    case M_SHARP: return m->sharpness;
    case M_YAW: return m->yaw;
    case M_PITCH: return m->pitch;
    case M_ROLL: return m->roll;
    case M_EDGE: return m->at_edge;
    case M_BRIGHT: return m->brightness;
    default: return m->uneven;
    }
}

/* "Badness" of a photo for the discard order: larger is worse. */
static float bad(const lfr_enrol_measures *m, int k) {
    float v = mval(m, k);
    switch (meas[k].worse) {
    case WORSE_MIN: return -v;
    case WORSE_MAX_ABS: return fabsf(v);
    default: return fabsf(v - 128.0f); /* brightness: far from mid-grey */
    }
}

typedef struct photo {
    int person;
    lfr_enrol_measures m;
    float emb[D];
    int warned; /* any warning at the default cut-offs */
} photo;

typedef struct pair {
    int a, b, idx; /* idx: the pair's place in the list (ties keep that order) */
    float score;
    float q; /* the pair's badness for the measure being sorted */
} pair;

static int cmp_pair_q(const void *x, const void *y) {
    const pair *p = x, *q = y;
    if (p->q != q->q) return p->q < q->q ? 1 : -1; /* worst first */
    return (p->idx > q->idx) - (p->idx < q->idx);
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static int warned(const lfr_enrol_measures *m) {
    const lfr_enrol_params *p = &lfr_enrol_params_default;
    const float *w = p->warn_at;
    return m->eye_dist < w[LFR_ENROL_WARN_SMALL] || m->sharpness < w[LFR_ENROL_WARN_BLUR] ||
           fabsf(m->yaw) > w[LFR_ENROL_WARN_YAW] || fabsf(m->pitch) > w[LFR_ENROL_WARN_PITCH] ||
           fabsf(m->roll) > w[LFR_ENROL_WARN_ROLL] || m->brightness < w[LFR_ENROL_WARN_DARK] ||
           m->brightness > w[LFR_ENROL_WARN_BRIGHT] || m->uneven > w[LFR_ENROL_WARN_UNEVEN] ||
           m->at_edge > w[LFR_ENROL_WARN_AT_EDGE];
}

/* Detection as enrolment does it (every face, padded pass); the central
 * face is the person of an LFW photo. */
static lfr_face_params enrol_params(void) {
    lfr_face_params fp = lfr_face_params_default;
    fp.min_face = 12;
    fp.pad_policy = LFR_FACE_PAD_ALWAYS;
    return fp;
}

/* The generated names of the model set's effect table: "" for mfn192
 * (enrol_effect.h), "_fused704v3" / "_FUSED704V3" for another set. */
static void effect_names(char sfx[48], char SFX[48]) {
    if (mset == LFR_FACE_MODEL_MFN192) return;
    snprintf(sfx, 48, "_%s", lfr_face_model_set_name(mset));
    for (int i = 0; (SFX[i] = (char)(sfx[i] >= 'a' && sfx[i] <= 'z' ? sfx[i] - 32 : sfx[i])); i++) {}
}

static int measure_image(const lfr_image *im, lfr_enrol_measures *m, float *emb) {
    lfr_face *faces;
    int n = 0;
    lfr_err err = {{0}};
    lfr_face_params fp = enrol_params();
    if (lfr_face_detect(ctx, im, &fp, &faces, &n, &err) != LFR_OK || n == 0) return -1;
    lfr_face f = faces[lfr_face_pick_central(faces, n, im->w, im->h)];
    return lfr_enrol_measure_set(ctx, im, &f, mset, emb, m, &err) == LFR_OK ? 0 : -1;
}

static int lfw_path(char *out, size_t cap, const char *name, int i) {
    int n = snprintf(out, cap, "%s/lfw/images/%s/%s_%04d.jpg", data, name, name, i);
    return n < (int)cap ? 0 : -1;
}

/* LFW: names of the same-person pairs, with their photo counts. */
typedef struct person {
    char name[96];
    int count;
} person;

static int load_people(person **out) {
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/lfw/people.txt", data);
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    int cap = 8192, n = 0;
    person *all = calloc((size_t)cap, sizeof *all);
    while (fgets(line, sizeof line, fp) && n < cap) {
        char nm[96];
        int c;
        if (sscanf(line, "%95s %d", nm, &c) == 2) {
            snprintf(all[n].name, sizeof all[n].name, "%s", nm);
            all[n++].count = c;
        }
    }
    fclose(fp);
    snprintf(path, sizeof path, "%s/lfw/pairs.txt", data);
    fp = fopen(path, "r");
    if (!fp) return -1;
    person *sel = calloc((size_t)n, sizeof *sel);
    int ns = 0;
    while (fgets(line, sizeof line, fp)) {
        char a[96], b[96];
        int i, j;
        if (sscanf(line, "%95s %d %95s %d", a, &i, b, &j) == 4) continue;
        if (sscanf(line, "%95s %d %d", a, &i, &j) != 3) continue;
        int dup = 0;
        for (int k = 0; k < ns && !dup; k++) dup = !strcmp(sel[k].name, a);
        if (dup) continue;
        for (int k = 0; k < n; k++)
            if (!strcmp(all[k].name, a)) sel[ns++] = all[k];
    }
    fclose(fp);
    free(all);
    *out = sel;
    return ns;
}

static void print_discard(pair *pr, size_t np, const photo *ph, int k) {
    for (size_t i = 0; i < np; i++) {
        float qa = bad(&ph[pr[i].a].m, k), qb = bad(&ph[pr[i].b].m, k);
        pr[i].q = qa > qb ? qa : qb;
    }
    qsort(pr, np, sizeof *pr, cmp_pair_q);
    static const int pct[] = {0, 2, 5, 10, 15, 20, 30, 40, 50};
    printf("  %-20s", meas[k].name);
    for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++) {
        size_t from = np * (size_t)pct[i] / 100, miss70 = 0, miss56 = 0;
        for (size_t j = from; j < np; j++) {
            miss70 += pr[j].score < thr_default;
            miss56 += pr[j].score < thr_1e4;
        }
        size_t kept = np - from;
        printf(" | %5.1f %5.1f", 100.0 * (double)miss70 / (double)kept,
               100.0 * (double)miss56 / (double)kept);
    }
    printf("\n");
}

/* The bins of one photo's measure: every pair counted once for each of its
 * photos in the bin. */
typedef struct bin_stat {
    int pairs, hit70, hit56;
    float *scores;
} bin_stat;

static void bins_of(const pair *pr, size_t np, const photo *ph, int k, bin_stat *bs) {
    int nb = meas[k].nbins - 1;
    for (int b = 0; b < nb; b++) {
        bs[b].pairs = bs[b].hit70 = bs[b].hit56 = 0;
        bs[b].scores = malloc(np * 2 * sizeof(float));
    }
    for (size_t i = 0; i < np; i++)
        for (int side = 0; side < 2; side++) {
            const photo *p = &ph[side ? pr[i].b : pr[i].a];
            float v = mval(&p->m, k);
            if (meas[k].worse == WORSE_MAX_ABS) v = fabsf(v);
            for (int b = 0; b < nb; b++)
                if (v >= meas[k].bins[b] && v < meas[k].bins[b + 1]) {
                    bs[b].scores[bs[b].pairs++] = pr[i].score;
                    bs[b].hit70 += pr[i].score >= thr_default;
                    bs[b].hit56 += pr[i].score >= thr_1e4;
                }
        }
}

static int lfw(int max_per, int step) {
    person *pp = NULL;
    int npp = load_people(&pp);
    if (npp <= 0) {
        fprintf(stderr, "cannot read %s/lfw/people.txt or pairs.txt\n", data);
        return 1;
    }
    photo *ph = calloc((size_t)npp * (size_t)max_per, sizeof *ph);
    int nph = 0, people = 0, missing = 0, tried = 0;
    for (int i = 0; i < npp; i += step) {
        int first = nph;
        for (int j = 1; j <= pp[i].count && j <= max_per; j++) {
            char path[4096];
            lfr_image im = {0};
            lfr_err err = {{0}};
            tried++;
            if (lfw_path(path, sizeof path, pp[i].name, j) ||
                lfr_image_load(path, &im, &err) != LFR_OK) {
                missing++;
                continue;
            }
            ph[nph].person = i;
            if (measure_image(&im, &ph[nph].m, ph[nph].emb) == 0) {
                ph[nph].warned = warned(&ph[nph].m);
                nph++;
            } else {
                missing++;
            }
            lfr_image_free(&im);
        }
        if (nph - first >= 2) people++;
    }
    size_t cap = 0;
    for (int i = 0, j; i < nph; i = j) {
        for (j = i; j < nph && ph[j].person == ph[i].person; j++) {}
        cap += (size_t)(j - i) * (size_t)(j - i - 1) / 2;
    }
    pair *pr = calloc(cap ? cap : 1, sizeof *pr);
    size_t np = 0, ref_pairs = 0, ref70 = 0, ref56 = 0, all70 = 0;
    for (int i = 0, j; i < nph; i = j) {
        for (j = i; j < nph && ph[j].person == ph[i].person; j++) {}
        for (int a = i; a < j; a++)
            for (int b = a + 1; b < j; b++) {
                pair *q = &pr[np];
                q->a = a, q->b = b, q->idx = (int)np++;
                q->score = sim(ph[a].emb, ph[b].emb);
                all70 += q->score >= thr_default;
                if (!ph[a].warned && !ph[b].warned) {
                    ref_pairs++;
                    ref70 += q->score >= thr_default;
                    ref56 += q->score >= thr_1e4;
                }
            }
    }
    int nwarned = 0;
    for (int i = 0; i < nph; i++) nwarned += ph[i].warned;
    printf("eval_discard lfw: %d people of pairs.txt (every %d-th), at most %d photos each: %d "
           "photos measured (%d of %d without a face or unreadable), %d people with 2+; %zu "
           "same-person pairs\n", (npp + step - 1) / step, step, max_per, nph, missing, tried,
           people, np);
    printf("all pairs: %.1f %% reach %.3f; photos with a warning at the default cut-offs: %d "
           "(%.1f %%); pairs where neither photo has one: %zu, %.1f %% reach %.3f, %.1f %% reach "
           "%.3f\n\n", 100.0 * (double)all70 / (double)np, (double)thr_default, nwarned,
           100.0 * nwarned / (nph ? nph : 1), ref_pairs, 100.0 * (double)ref70 / (double)ref_pairs,
           (double)thr_default, 100.0 * (double)ref56 / (double)ref_pairs, (double)thr_1e4);
    printf("Error versus discard: FNMR (%%) at %.3f and at %.3f of the pairs kept when the given "
           "share of the worst pairs (the worse photo's measure) is discarded\n",
           (double)thr_default, (double)thr_1e4);
    printf("  %-20s |  0 %%        |  2 %%        |  5 %%        | 10 %%        | 15 %%        | "
           "20 %%        | 30 %%        | 40 %%        | 50 %%\n", "measure");
    for (int k = 0; k < NM; k++) print_discard(pr, np, ph, k);
    printf("\nSame-person score by one photo's measure (a pair counted for each photo in the "
           "bin)\n");
    static bin_stat bs[NM][10];
    for (int k = 0; k < NM; k++) {
        bins_of(pr, np, ph, k, bs[k]);
        printf("  %s\n", meas[k].name);
        for (int b = 0; b + 1 < meas[k].nbins; b++) {
            bin_stat *s = &bs[k][b];
            if (!s->pairs) continue;
            qsort(s->scores, (size_t)s->pairs, sizeof(float), cmp_float);
            printf("    %6g..%-6g  pairs %6d  median %.3f  >= %.3f %5.1f %%  >= %.3f %5.1f %%\n",
                   meas[k].bins[b], meas[k].bins[b + 1], s->pairs, s->scores[s->pairs / 2],
                   (double)thr_default, 100.0 * s->hit70 / s->pairs, (double)thr_1e4,
                   100.0 * s->hit56 / s->pairs);
        }
    }
    if (getenv("EFFECT")) {
        char sfx[48] = "", SFX[48] = "";
        effect_names(sfx, SFX);
        printf("\n/* ---- src/enrol/enrol_effect%s.h: the reference and the bins of yaw, pitch "
               "and uneven light ---- */\n", sfx);
        printf("#define LFR_ENROL_EFFECT%s_REF_TAR %.4ff\n#define LFR_ENROL_EFFECT%s_REF_PAIRS %zu\n",
               SFX, (double)ref70 / (double)ref_pairs, SFX, ref_pairs);
        printf("static const enrol_effect_bin enrol_effect_bins%s[] = {\n", sfx);
        static const char *const wname[] = {
#define WN(id, name, what, unit, field, sense, cut) [LFR_ENROL_WARN_##id] = "LFR_ENROL_WARN_" #id,
            LFR_ENROL_WARN_LIST(WN)
#undef WN
        };
        for (int k = 0; k < NM; k++)
            for (int b = 0; b + 1 < meas[k].nbins; b++) {
                bin_stat *s = &bs[k][b];
                if (s->pairs < 30) continue; /* too few to state */
                float lo = meas[k].bins[b], hi = meas[k].bins[b + 1];
                int w = meas[k].warn;
                /* LFW's own photos cover the warned range of these three;
                 * the others' effect comes from `synth` (made photos) */
                if (k != M_YAW && k != M_PITCH && k != M_UNEVEN) continue;
                printf("    {%s, %g, %g, %d, %.4ff, %.4ff, \"%s\"},\n", wname[w], lo,
                       hi > 1e8 ? 1e9 : hi, s->pairs, (double)s->hit70 / s->pairs,
                       (double)ref70 / (double)ref_pairs, "photos without warnings");
            }
        printf("};\n");
    }
    for (int k = 0; k < NM; k++)
        for (int b = 0; b + 1 < meas[k].nbins; b++) free(bs[k][b].scores);
    free(pr);
    free(ph);
    free(pp);
    return 0;
}

/* Synthetic degradations of official same-person pairs --------------------
 * LFW photos are all of about one size, upright, evenly exposed and sharp
 * enough: the effect of a small, rotated, blurred, dark, bright or tightly
 * cut face is measured by making the first photo of a pair so, and
 * comparing it with the second photo as it is.  The results are binned by
 * the MEASURED value (what enrolment will see), not by the level made. */

enum { S_SHRINK, S_ROTATE, S_BLUR, S_DARK, S_BRIGHT, S_TIGHT, NS };
static const struct {
    const char *name, *level_what, *ref_what;
    float levels[12];
    int nlevels;
    int measure;        /* M_* binned */
    int warn;           /* lfr_enrol_warn of the effect table */
    float bins[12];
    int nbins;
} synths[NS] = {
    [S_SHRINK] = {"shrink", "eyes d px apart", "the same photos at full size",
                  {8, 10, 12, 14, 16, 18, 20, 24, 28, 32, 40}, 11, M_EYE, LFR_ENROL_WARN_SMALL,
                  {0, 12, 16, 20, 25, 30, 35, 40, 1e9}, 9},
    [S_ROTATE] = {"rotate", "turned r deg", "the same photos upright",
                  {5, 10, 15, 20, 25, 30, 35, 40, 45}, 9, M_ROLL, LFR_ENROL_WARN_ROLL,
                  {0, 5, 10, 15, 20, 25, 30, 40, 90}, 9},
    [S_BLUR] = {"blur", "down and up by k", "the same photos unblurred",
                {1.5f, 2, 2.5f, 3, 4, 5, 6, 8}, 8, M_SHARP, LFR_ENROL_WARN_BLUR,
                {0, 5, 10, 15, 20, 30, 40, 60, 1e9}, 9},
    [S_DARK] = {"dark", "grey levels x g", "the same photos as taken",
                {0.7f, 0.5f, 0.35f, 0.25f, 0.18f, 0.12f, 0.08f}, 7, M_BRIGHT, LFR_ENROL_WARN_DARK,
                {0, 15, 25, 35, 50, 70, 256}, 7},
    [S_BRIGHT] = {"bright", "255 - (255 - grey) x g", "the same photos as taken",
                  {0.7f, 0.5f, 0.35f, 0.25f, 0.18f, 0.12f}, 6, M_BRIGHT, LFR_ENROL_WARN_BRIGHT,
                  {0, 180, 200, 215, 230, 240, 256}, 7},
    [S_TIGHT] = {"tight", "cut to t x the face box", "the same photos uncut",
                 {1.0f, 0.9f, 0.8f, 0.7f, 0.6f}, 5, M_EDGE, LFR_ENROL_WARN_AT_EDGE,
                 {0, 0.5f, 2}, 3},
};

/* The first photo turned by `deg` about its centre (border replicated). */
static void rotate(const lfr_image *src, float deg, lfr_image *dst) {
    lfr_image_alloc(dst, src->w, src->h);
    float a = deg * (float)M_PI / 180.0f, c = cosf(a), s = sinf(a);
    float cx = (float)src->w / 2, cy = (float)src->h / 2;
    /* destination -> source: the inverse rotation about the centre */
    float m[6] = {c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy};
    lfr_image_warp_affine(src, m, dst);
}

static void degrade(int kind, float level, const lfr_image *im, const lfr_enrol_measures *m,
                    const lfr_face *f, lfr_image *out) {
    switch (kind) {
    case S_SHRINK: {
        float k = level / m->eye_dist;
        if (k > 1) k = 1;
        lfr_image_resize(im, (int)lroundf((float)im->w * k), (int)lroundf((float)im->h * k), out);
        break;
    }
    case S_ROTATE: rotate(im, level, out); break;
    case S_BLUR: {
        lfr_image small = {0};
        lfr_image_resize(im, (int)lroundf((float)im->w / level), (int)lroundf((float)im->h / level),
                         &small);
        lfr_image_resize(&small, im->w, im->h, out);
        lfr_image_free(&small);
        break;
    }
    case S_DARK:
    case S_BRIGHT:
        lfr_image_clone(im, out);
        for (size_t i = 0; i < (size_t)im->w * (size_t)im->h * 3; i++)
            out->px[i] = kind == S_DARK ? (uint8_t)lroundf(im->px[i] * level)
                                        : (uint8_t)(255 - lroundf((255 - im->px[i]) * level));
        break;
    default: { /* tight: a square of t x the box's longer side, kept in the photo */
        float side = fmaxf(f->box[2], f->box[3]) * level;
        int x = (int)lroundf(f->box[0] + f->box[2] / 2 - side / 2);
        int y = (int)lroundf(f->box[1] + f->box[3] / 2 - side / 2);
        int sd = (int)lroundf(side);
        if (x < 0) x = 0;
        if (y < 0) y = 0;
        if (x + sd > im->w) sd = im->w - x;
        if (y + sd > im->h) sd = im->h - y;
        lfr_image_crop(im, x, y, sd, sd, out);
        break;
    }
    }
}

typedef struct synth_stat {
    int tried, found, rejected, hit70, hit56;
    float *scores;
} synth_stat;

static int synth(const char *kind_name, int pairs) {
    int kind = 0;
    while (kind < NS && strcmp(synths[kind].name, kind_name)) kind++;
    if (kind == NS) return 2;
    int nl = synths[kind].nlevels, nb = synths[kind].nbins - 1, km = synths[kind].measure;
    synth_stat st[16], bs[12], ref = {0};
    memset(st, 0, sizeof st);
    memset(bs, 0, sizeof bs);
    for (int l = 0; l < nl; l++) st[l].scores = calloc((size_t)pairs, sizeof(float));
    for (int b = 0; b < nb; b++) bs[b].scores = calloc((size_t)pairs * (size_t)nl, sizeof(float));
    ref.scores = calloc((size_t)pairs, sizeof(float));
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/lfw/pairs.txt", data);
    FILE *fp = fopen(path, "r");
    if (!fp) return 1;
    int row = 0, used = 0, step = 1100 / pairs;
    if (step < 1) step = 1;
    while (fgets(line, sizeof line, fp) && used < pairs) {
        char a[96];
        int i, j;
        if (sscanf(line, "%95s %d %d", a, &i, &j) != 3) continue;
        if (row++ % step) continue;
        lfr_image im1 = {0}, im2 = {0};
        lfr_err err = {{0}};
        char p1[4096], p2[4096];
        lfw_path(p1, sizeof p1, a, i);
        lfw_path(p2, sizeof p2, a, j);
        lfr_enrol_measures m1, m2;
        float e1[D], e2[D];
        lfr_face f1;
        if (lfr_image_load(p1, &im1, &err) != LFR_OK || lfr_image_load(p2, &im2, &err) != LFR_OK ||
            measure_image(&im1, &m1, e1) || measure_image(&im2, &m2, e2)) {
            lfr_image_free(&im1);
            lfr_image_free(&im2);
            continue;
        }
        { /* the first photo's face box (tight crops) */
            lfr_face *faces;
            int n = 0;
            lfr_face_params fp1 = enrol_params();
            lfr_face_detect(ctx, &im1, &fp1, &faces, &n, &err);
            f1 = faces[lfr_face_pick_central(faces, n, im1.w, im1.h)];
        }
        used++;
        float s0 = sim(e1, e2);
        ref.scores[ref.found++] = s0;
        ref.hit70 += s0 >= thr_default;
        ref.hit56 += s0 >= thr_1e4;
        for (int l = 0; l < nl; l++) {
            lfr_image deg = {0};
            degrade(kind, synths[kind].levels[l], &im1, &m1, &f1, &deg);
            lfr_enrol_measures m;
            float e[D];
            st[l].tried++;
            if (measure_image(&deg, &m, e) == 0) {
                float sc = sim(e, e2);
                st[l].scores[st[l].found++] = sc;
                st[l].rejected += m.eye_dist < LFR_ENROL_MIN_EYE_DIST;
                st[l].hit70 += sc >= thr_default;
                st[l].hit56 += sc >= thr_1e4;
                float v = mval(&m, km);
                if (km == M_ROLL) v = fabsf(v);
                for (int b = 0; b < nb; b++)
                    if (v >= synths[kind].bins[b] && v < synths[kind].bins[b + 1]) {
                        bs[b].scores[bs[b].found++] = sc;
                        bs[b].hit70 += sc >= thr_default;
                        bs[b].hit56 += sc >= thr_1e4;
                    }
            }
            lfr_image_free(&deg);
        }
        lfr_image_free(&im1);
        lfr_image_free(&im2);
    }
    fclose(fp);
    printf("eval_discard %s: %d official same-person pairs (every %d-th); the first photo %s, "
           "the second as it is. A face not found counts as a miss.\n", kind_name, used, step,
           synths[kind].level_what);
    qsort(ref.scores, (size_t)ref.found, sizeof(float), cmp_float);
    printf("  as taken: median %.3f, >= %.3f %.1f %%, >= %.3f %.1f %%\n", ref.scores[ref.found / 2],
           (double)thr_default, 100.0 * ref.hit70 / (used ? used : 1), (double)thr_1e4,
           100.0 * ref.hit56 / (used ? used : 1));
    printf("  %-8s found  eyes<%g  median  >= %.3f  >= %.3f\n", "level",
           (double)LFR_ENROL_MIN_EYE_DIST, (double)thr_default, (double)thr_1e4);
    for (int l = 0; l < nl; l++) {
        qsort(st[l].scores, (size_t)st[l].found, sizeof(float), cmp_float);
        double n = st[l].tried ? st[l].tried : 1;
        printf("  %-8g %5.1f %%  %4d  %.3f  %5.1f %%  %5.1f %%\n", synths[kind].levels[l],
               100.0 * st[l].found / n, st[l].rejected,
               st[l].found ? st[l].scores[st[l].found / 2] : 0.0f, 100.0 * st[l].hit70 / n,
               100.0 * st[l].hit56 / n);
        free(st[l].scores);
    }
    printf("  by the measured %s of the made photos (found faces only):\n", meas[km].name);
    for (int b = 0; b < nb; b++) {
        if (!bs[b].found) continue;
        qsort(bs[b].scores, (size_t)bs[b].found, sizeof(float), cmp_float);
        printf("    %6g..%-6g  pairs %5d  median %.3f  >= %.3f %5.1f %%  >= %.3f %5.1f %%\n",
               synths[kind].bins[b], synths[kind].bins[b + 1], bs[b].found,
               bs[b].scores[bs[b].found / 2], (double)thr_default,
               100.0 * bs[b].hit70 / bs[b].found,
               (double)thr_1e4, 100.0 * bs[b].hit56 / bs[b].found);
    }
    if (getenv("EFFECT")) {
        static const char *const wname[] = {
#define WN(id, name, what, unit, field, sense, cut) [LFR_ENROL_WARN_##id] = "LFR_ENROL_WARN_" #id,
            LFR_ENROL_WARN_LIST(WN)
#undef WN
        };
        for (int b = 0; b < nb; b++)
            if (bs[b].found >= 30)
                printf("    {%s, %g, %g, %d, %.4ff, %.4ff, \"%s\"},\n", wname[synths[kind].warn],
                       synths[kind].bins[b],
                       synths[kind].bins[b + 1] > 1e8 ? 1e9 : synths[kind].bins[b + 1],
                       bs[b].found, (double)bs[b].hit70 / bs[b].found,
                       (double)ref.hit70 / (used ? used : 1), synths[kind].ref_what);
    }
    for (int b = 0; b < nb; b++) free(bs[b].scores);
    free(ref.scores);
    return 0;
}

/* Today's gate against the grades ------------------------------------------- */

/* The gate before issue 11 (enrol.c as it was): after the same rejections
 * of what cannot work, eye distance >= 40, |yaw| <= 30, |roll| <= 25 (on
 * the 3D fit's scale, as it stood once the fit replaced the 2D estimate),
 * sharpness >= 60. */
static const char *old_gate(const lfr_enrol_result *r) {
    if (r->grade == LFR_ENROL_GRADE_REJECT) return lfr_enrol_reject_name(r->reject);
    if (r->m.eye_dist < 40) return "TOO_SMALL";
    if (fabsf(r->m.yaw) > 30 || fabsf(r->m.roll) > 25) return "POSE";
    if (r->m.sharpness < 60) return "BLURRED";
    return NULL;
}

typedef struct gate_stat {
    int n, old_rej, grade[LFR_ENROL_GRADE_COUNT];
    int old_why[8], rej_why[LFR_ENROL_REJECT_COUNT], warn_kind[LFR_ENROL_WARN_COUNT];
} gate_stat;

static const char *const old_names[] = {"TOO_SMALL", "POSE", "BLURRED", "NO_FACE",
                                        "MULTIPLE_FACES", "UNREADABLE"};

static void gate_one(gate_stat *g, const uint8_t *buf, size_t len) {
    lfr_enrol_result *r = malloc(sizeof *r);
    lfr_err err = {{0}};
    if (lfr_enrol_assess(ctx, buf, len, NULL, r, &err) != LFR_OK) {
        free(r);
        return;
    }
    g->n++;
    g->grade[r->grade]++;
    if (r->grade == LFR_ENROL_GRADE_REJECT) g->rej_why[r->reject]++;
    for (int i = 0; i < r->n_warn; i++) g->warn_kind[r->warn[i].kind]++;
    const char *o = old_gate(r);
    if (o) {
        g->old_rej++;
        for (int k = 0; k < 6; k++)
            if (!strcmp(o, old_names[k])) g->old_why[k]++;
    }
    free(r);
}

static void gate_print(const char *what, const gate_stat *g) {
    double n = g->n ? g->n : 1;
    printf("%s: %d images\n", what, g->n);
    printf("  today's gate rejects %d (%.1f %%):", g->old_rej, 100.0 * g->old_rej / n);
    for (int k = 0; k < 6; k++)
        if (g->old_why[k]) printf(" %s %d", old_names[k], g->old_why[k]);
    printf("\n  grades: accept %d (%.1f %%), accept with warnings %d (%.1f %%), reject %d "
           "(%.1f %%):",
           g->grade[LFR_ENROL_GRADE_ACCEPT], 100.0 * g->grade[LFR_ENROL_GRADE_ACCEPT] / n,
           g->grade[LFR_ENROL_GRADE_WARN], 100.0 * g->grade[LFR_ENROL_GRADE_WARN] / n,
           g->grade[LFR_ENROL_GRADE_REJECT], 100.0 * g->grade[LFR_ENROL_GRADE_REJECT] / n);
    for (int k = 1; k < LFR_ENROL_REJECT_COUNT; k++)
        if (g->rej_why[k])
            printf(" %s %d", lfr_enrol_reject_name((lfr_enrol_reject)k), g->rej_why[k]);
    printf("\n  warnings:");
    for (int k = 0; k < LFR_ENROL_WARN_COUNT; k++)
        if (g->warn_kind[k])
            printf(" %s %d", lfr_enrol_warn_name((lfr_enrol_warn)k), g->warn_kind[k]);
    printf("\n");
}

static void gate_clip(gate_stat *g, const char *rel, int frame_step) {
    char url[4096];
    snprintf(url, sizeof url, "%s/video/%s", data, rel);
    lfr_video_opts o = {.url = url, .wait_consumer = 1};
    lfr_camera *cam;
    lfr_err err = {{0}};
    if (lfr_camera_start(&o, &cam, &err) != LFR_OK) {
        fprintf(stderr, "%s: %s\n", url, err.msg);
        return;
    }
    for (int frames = 0; frames < 300; frames++) {
        lfr_frame f;
        if (lfr_camera_next(cam, &f, 5000) != LFR_OK) break;
        lfr_face *faces;
        int nf = 0;
        if (frames % frame_step == 0 &&
            lfr_face_detect(ctx, &f.img, NULL, &faces, &nf, &err) == LFR_OK) {
            lfr_face keep[64];
            int nk = nf < 64 ? nf : 64;
            memcpy(keep, faces, (size_t)nk * sizeof *keep);
            for (int i = 0; i < nk; i++) {
                if (keep[i].q.eye_dist < 10) continue;
                const float *b = keep[i].box;
                float side = fmaxf(b[2], b[3]) * 3;
                lfr_image crop = {0};
                uint8_t *buf = NULL;
                size_t len = 0;
                int x = (int)(b[0] + b[2] / 2 - side / 2), y = (int)(b[1] + b[3] / 2 - side / 2);
                int w = (int)side, h = (int)side;
                if (x < 0) w += x, x = 0;
                if (y < 0) h += y, y = 0;
                if (x + w > f.img.w) w = f.img.w - x;
                if (y + h > f.img.h) h = f.img.h - y;
                if (w > 8 && h > 8 && lfr_image_crop(&f.img, x, y, w, h, &crop) == LFR_OK &&
                    lfr_image_encode_jpeg(&crop, 92, &buf, &len) == LFR_OK)
                    gate_one(g, buf, len);
                lfr_free(buf);
                lfr_image_free(&crop);
            }
        }
        lfr_image_free(&f.img);
    }
    lfr_camera_stop(cam);
}

static int gate(int photo_step, int frame_step) {
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/lfw/people.txt", data);
    FILE *fp = fopen(path, "r");
    if (!fp) return 1;
    gate_stat lfw_g = {0};
    int row = 0;
    while (fgets(line, sizeof line, fp)) {
        char nm[96];
        int c;
        if (sscanf(line, "%95s %d", nm, &c) != 2) continue;
        if (row++ % photo_step) continue;
        uint8_t *buf = NULL;
        size_t len = 0;
        if (lfw_path(path, sizeof path, nm, 1) == 0 &&
            lfr_read_file(path, LFR_MAX_IMAGE_BYTES, &buf, &len) == LFR_OK)
            gate_one(&lfw_g, buf, len);
        lfr_free(buf);
    }
    fclose(fp);
    char what[128];
    snprintf(what, sizeof what, "LFW first photos (every %d-th person of people.txt)", photo_step);
    gate_print(what, &lfw_g);
    static const char *const clips[] = {"hamilton/short_hamilton_clip.mp4",
                                        "talking-head/SihanWang-WHU_Face_Detection_test.mp4",
                                        "mot/MOT20-05-raw_even_shorter.mp4"};
    for (size_t i = 0; i < sizeof clips / sizeof clips[0]; i++) {
        gate_stat g = {0};
        gate_clip(&g, clips[i], frame_step);
        snprintf(what, sizeof what, "video stills %s (every %d-th frame, faces >= 10 px between "
                 "the eyes cut at 3x)", clips[i], frame_step);
        gate_print(what, &g);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: eval_discard lfw [MAX_PER_PERSON [STEP]] | synth "
                        "shrink|rotate|blur|dark|bright|tight [PAIRS] | gate [PHOTO_STEP "
                        "[FRAME_STEP]]\n");
        return 2;
    }
    data = getenv("OPENLFR_DATA");
    if (!(data && *data)) {
        fprintf(stderr, "OPENLFR_DATA is not set: eval_discard needs the face data sets\n");
        return 1;
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
        if (mset != LFR_FACE_MODEL_MFN192) {
            thr_default = lfr_match_cal_default_threshold(cal);
            thr_1e4 = lfr_match_cal_threshold_for_likeness(cal, 400.0 / LFR_MATCH_LIKENESS_DECADES);
        }
    }
    fprintf(stderr, "eval_discard: model set %s, default threshold %.3f, FMR 1e-4 threshold %.3f\n",
            lfr_face_model_set_name(mset), (double)thr_default, (double)thr_1e4);
    const char *cmd = argv[1];
    int r = 2;
    if (!strcmp(cmd, "lfw"))
        r = lfw(argc > 2 ? atoi(argv[2]) : 8, argc > 3 && atoi(argv[3]) > 0 ? atoi(argv[3]) : 1);
    else if (!strcmp(cmd, "synth") && argc > 2)
        r = synth(argv[2], argc > 3 && atoi(argv[3]) > 0 ? atoi(argv[3]) : 200);
    else if (!strcmp(cmd, "gate"))
        r = gate(argc > 2 && atoi(argv[2]) > 0 ? atoi(argv[2]) : 4,
                 argc > 3 && atoi(argv[3]) > 0 ? atoi(argv[3]) : 10);
    lfr_face_ctx_destroy(ctx);
    lfr_face_engine_destroy(eng);
    return r;
}
