/*
 * enrol.c - enrolment quality control, bulk import, photo checks.
 * See enrol.h.
 */
#include "enrol.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "match/match.h"

const lfr_enrol_params lfr_enrol_params_default = {
    .min_eye_dist = LFR_ENROL_MIN_EYE_DIST,
    .second_face_ratio = 0.5f,
    .warn_at = {
#define LFR_ENROL_WARN_CUT(id, name, what, unit, field, sense, cut) [LFR_ENROL_WARN_##id] = cut,
        LFR_ENROL_WARN_LIST(LFR_ENROL_WARN_CUT)
#undef LFR_ENROL_WARN_CUT
    },
};

static const char *const grade_names[LFR_ENROL_GRADE_COUNT] = {
#define LFR_ENROL_GRADE_NAME(id, name) [LFR_ENROL_GRADE_##id] = name,
    LFR_ENROL_GRADE_LIST(LFR_ENROL_GRADE_NAME)
#undef LFR_ENROL_GRADE_NAME
};

const char *lfr_enrol_grade_name(lfr_enrol_grade g) {
    return (unsigned)g < LFR_ENROL_GRADE_COUNT ? grade_names[g] : "unknown";
}

static const char *const reject_names[LFR_ENROL_REJECT_COUNT] = {
#define LFR_ENROL_REJECT_NAME(id, msg) [LFR_ENROL_##id] = #id,
    LFR_ENROL_REJECT_LIST(LFR_ENROL_REJECT_NAME)
#undef LFR_ENROL_REJECT_NAME
};

const char *lfr_enrol_reject_name(lfr_enrol_reject r) {
    return (unsigned)r < LFR_ENROL_REJECT_COUNT ? reject_names[r] : "UNKNOWN";
}

/* The warning table, as data. */
enum { WARN_BELOW, WARN_ABOVE, WARN_ABS };

typedef struct warn_row {
    const char *name, *what, *unit;
    size_t offset; /* of the measure in lfr_enrol_measures */
    int sense;
} warn_row;

static const warn_row warn_rows[LFR_ENROL_WARN_COUNT] = {
#define LFR_ENROL_WARN_ROW(id, name, what, unit, field, sense, cut)                         \
    [LFR_ENROL_WARN_##id] = {name, what, unit, offsetof(lfr_enrol_measures, field), WARN_##sense},
    LFR_ENROL_WARN_LIST(LFR_ENROL_WARN_ROW)
#undef LFR_ENROL_WARN_ROW
};

const char *lfr_enrol_warn_name(lfr_enrol_warn w) {
    return (unsigned)w < LFR_ENROL_WARN_COUNT ? warn_rows[w].name : "unknown";
}

#include "enrol_effect.h"
#include "enrol_effect_fused704v3.h"

/* The measured effects of one model set (bench/eval_discard.c with
 * MODEL_SET): its bins, and its reference (pairs without warnings). */
typedef struct effect_table {
    const char *set;
    const enrol_effect_bin *bins;
    size_t n;
    float ref_tar;
} effect_table;

#define EFFECT_TABLE(set, bins, ref) {set, bins, sizeof bins / sizeof bins[0], ref}
static const effect_table effect_tables[] = {
    EFFECT_TABLE("mfn192", enrol_effect_bins, LFR_ENROL_EFFECT_REF_TAR),
    EFFECT_TABLE("fused704v3", enrol_effect_bins_fused704v3, LFR_ENROL_EFFECT_FUSED704V3_REF_TAR),
};
#undef EFFECT_TABLE

/* The table of model set `set`, or mfn192's for a set without its own (the
 * warning's text names the set whose effect it states). */
static const effect_table *effect_table_for(lfr_face_model_set set) {
    const char *name = lfr_face_model_set_name(set);
    for (size_t i = 0; name && i < sizeof effect_tables / sizeof effect_tables[0]; i++)
        if (!strcmp(effect_tables[i].set, name)) return &effect_tables[i];
    return &effect_tables[0];
}

/* The measured effect of a warning's value: the LFW bin it falls in. */
static const enrol_effect_bin *effect_bin(const effect_table *t, lfr_enrol_warn k, float v) {
    if (warn_rows[k].sense == WARN_ABS) v = fabsf(v);
    for (size_t i = 0; i < t->n; i++) {
        const enrol_effect_bin *b = &t->bins[i];
        if (b->kind == (int)k && v >= b->lo && v < b->hi) return b;
    }
    return NULL;
}

/* snprintf's result n for w->text: a text that did not fit ends in "...". */
static void warn_fit(lfr_enrol_warning *w, int n) {
    if (n >= (int)sizeof w->text) memcpy(w->text + sizeof w->text - 4, "...", 4);
}

static void warn_text(lfr_enrol_warning *w, lfr_face_model_set set) {
    const warn_row *row = &warn_rows[w->kind];
    const effect_table *t = effect_table_for(set);
    char thr[16]; /* the set's default threshold: "0.70", "0.625" */
    snprintf(thr, sizeof thr, "%.3f",
             (double)lfr_match_cal_default_threshold(lfr_match_calibration_named(t->set)));
    if (thr[strlen(thr) - 1] == '0') thr[strlen(thr) - 1] = 0;
    char val[96];
    if (w->kind == LFR_ENROL_WARN_AT_EDGE)
        snprintf(val, sizeof val, "the face touches the photo's edge");
    else
        snprintf(val, sizeof val, "%s %.0f%s%s (%s %.3g)", row->what, w->value,
                 row->unit[0] ? " " : "", row->unit, row->sense == WARN_BELOW ? "under" : "over",
                 w->cutoff);
    const enrol_effect_bin *b = effect_bin(t, w->kind, w->value);
    char range[96] = "";
    if (b && w->kind != LFR_ENROL_WARN_AT_EDGE)
        snprintf(range, sizeof range, " (%s%s %g-%g)", row->sense == WARN_ABS ? "absolute " : "",
                 row->what, (double)b->lo, (double)b->hi);
    if (b)
        warn_fit(w, snprintf(w->text, sizeof w->text,
                             "%s: in LFW, same-person pairs with one photo like this%s reach "
                             "%s's default threshold %s (FMR 1e-6) %.0f %% of the time (%d "
                             "pairs), against %.0f %% for %s",
                             val, range, t->set, thr, 100.0 * b->tar, b->pairs,
                             100.0 * b->ref_tar, b->ref_what));
    else
        warn_fit(w, snprintf(w->text, sizeof w->text,
                             "%s: its effect was not measured (too few LFW photos like this); LFW "
                             "photos without warnings reach %s's default threshold (FMR "
                             "1e-6) %.0f %% of the time",
                             val, t->set, 100.0 * t->ref_tar));
}

static void reject(lfr_enrol_result *r, lfr_enrol_reject why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reject(lfr_enrol_result *r, lfr_enrol_reject why, const char *fmt, ...) {
    r->grade = LFR_ENROL_GRADE_REJECT;
    r->reject = why;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

/* Lighting of the inner face (eyes to chin, between the cheeks) of the
 * aligned 112x112 crop: mean grey level, and the difference between its
 * left and right halves. */
static void lighting(const lfr_image *crop, float *mean, float *uneven) {
    enum { X0 = 28, X1 = 84, Y0 = 40, Y1 = 104 };
    double half[2] = {0, 0};
    int n[2] = {0, 0};
    for (int y = Y0; y < Y1 && y < crop->h; y++)
        for (int x = X0; x < X1 && x < crop->w; x++) {
            const uint8_t *p = crop->px + ((size_t)y * (size_t)crop->w + (size_t)x) * 3;
            int side = x >= (X0 + X1) / 2;
            half[side] += 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            n[side]++;
        }
    float l = n[0] ? (float)(half[0] / n[0]) : 0, r = n[1] ? (float)(half[1] / n[1]) : 0;
    *mean = n[0] + n[1] ? (float)((half[0] + half[1]) / (n[0] + n[1])) : 0;
    *uneven = fabsf(l - r);
}

lfr_status lfr_enrol_measure(lfr_face_ctx *fc, const lfr_image *im, lfr_face *f, float *emb,
                             lfr_enrol_measures *m, lfr_err *err) {
    return lfr_enrol_measure_set(fc, im, f, LFR_FACE_MODEL_MFN192, emb, m, err);
}

lfr_status lfr_enrol_measure_set(lfr_face_ctx *fc, const lfr_image *im, lfr_face *f,
                                 lfr_face_model_set set, float *emb, lfr_enrol_measures *m,
                                 lfr_err *err) {
    memset(m, 0, sizeof *m);
    lfr_status st = lfr_face_embed_set(fc, im, f, 1, set, emb, err);
    if (st == LFR_ERR_UNSUPPORTED)
        return lfr_err_set(err, st, "this engine cannot embed for model set %s: its models "
                           "folder lacks a network of the set (tools/setup.sh models)",
                           lfr_face_model_set_name(set));
    if (st != LFR_OK) return st;
    lfr_image crop = {0};
    st = lfr_face_align(im, f, &crop);
    if (st != LFR_OK) return lfr_err_set(err, st, "cannot align the face");
    m->eye_dist = f->q.eye_dist;
    m->sharpness = f->q.sharpness;
    m->yaw = f->q.yaw;
    m->pitch = f->q.pitch;
    m->roll = f->q.roll;
    m->at_edge = f->q.at_edge ? 1.0f : 0.0f;
    lighting(&crop, &m->brightness, &m->uneven);
    lfr_image_free(&crop);
    return LFR_OK;
}

static float measure_of(const lfr_enrol_measures *m, lfr_enrol_warn k) {
    return *(const float *)((const char *)m + warn_rows[k].offset);
}

lfr_status lfr_enrol_assess(lfr_face_ctx *fc, const uint8_t *image, size_t len,
                            const lfr_enrol_params *p, lfr_enrol_result *r, lfr_err *err) {
    if (!p) p = &lfr_enrol_params_default;
    memset(r, 0, sizeof *r);
    r->set = p->model_set;
    r->dim = lfr_face_model_set_dim(p->model_set);
    if (r->dim <= 0 || r->dim > LFR_FACE_EMB_MAX_DIM)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "enrolment: model set %d is unknown",
                           (int)p->model_set);
    lfr_image im = {0};
    lfr_err derr = {{0}};
    lfr_status st = lfr_image_decode(image, len, &im, &derr);
    if (st == LFR_ERR_NOMEM) return lfr_err_set(err, st, "out of memory decoding the image");
    if (st != LFR_OK) {
        reject(r, LFR_ENROL_UNREADABLE, "image cannot be read: %s%s%s", lfr_status_message(st),
               derr.msg[0] ? ": " : "", derr.msg);
        return LFR_OK;
    }
    lfr_face *faces;
    int n = 0;
    lfr_face_params fp = lfr_face_params_default;
    fp.min_face = 12; /* see every face, so that a second one is noticed */
    /* A photo for a watchlist is often a close-up: a second, padded
     * detector pass always (docs/quality.md: finds more of the tightest
     * crops; one more pass per enrolment is nothing). */
    fp.pad_policy = LFR_FACE_PAD_ALWAYS;
    st = lfr_face_detect(fc, &im, &fp, &faces, &n, err);
    if (st != LFR_OK) goto done;
    if (n == 0) {
        reject(r, LFR_ENROL_NO_FACE, "no face found in the %dx%d image", im.w, im.h);
        goto done;
    }
    r->face = faces[0]; /* largest */
    float side0 = fmaxf(faces[0].box[2], faces[0].box[3]);
    for (int i = 1; i < n; i++) {
        float side = fmaxf(faces[i].box[2], faces[i].box[3]);
        if (side >= p->second_face_ratio * side0) {
            reject(r, LFR_ENROL_MULTIPLE_FACES,
                   "%d faces found; a watchlist image must show exactly one person "
                   "(second face %.0f px, first %.0f px)", n, side, side0);
            goto done;
        }
    }
    r->m.eye_dist = faces[0].q.eye_dist;
    if (faces[0].q.eye_dist < p->min_eye_dist) {
        reject(r, LFR_ENROL_TOO_SMALL,
               "face too small to align: %.0f px between the eyes, at least %.0f needed "
               "(%.0f recommended)", faces[0].q.eye_dist, p->min_eye_dist,
               p->warn_at[LFR_ENROL_WARN_SMALL]);
        goto done;
    }
    st = lfr_enrol_measure_set(fc, &im, &faces[0], r->set, r->tmpl, &r->m, err);
    if (st != LFR_OK) goto done;
    r->face = faces[0]; /* now with sharpness */
    for (int k = 0; k < LFR_ENROL_WARN_COUNT; k++) {
        float v = measure_of(&r->m, (lfr_enrol_warn)k), cut = p->warn_at[k];
        int sense = warn_rows[k].sense;
        int warned = sense == WARN_BELOW ? v < cut : sense == WARN_ABOVE ? v > cut : fabsf(v) > cut;
        if (!warned) continue;
        lfr_enrol_warning *w = &r->warn[r->n_warn++];
        w->kind = (lfr_enrol_warn)k;
        w->value = v;
        w->cutoff = cut;
        warn_text(w, r->set);
    }
    r->grade = r->n_warn ? LFR_ENROL_GRADE_WARN : LFR_ENROL_GRADE_ACCEPT;
    r->reject = LFR_ENROL_NONE;
    int o = snprintf(r->why, sizeof r->why,
                     "%s: %.0f px between the eyes, sharpness %.0f, yaw %.0f, pitch %.0f, roll "
                     "%.0f, brightness %.0f", r->n_warn ? "quality warnings" : "accepted",
                     r->m.eye_dist, r->m.sharpness, r->m.yaw, r->m.pitch, r->m.roll,
                     r->m.brightness);
    for (int i = 0; i < r->n_warn && o > 0 && (size_t)o < sizeof r->why; i++)
        o += snprintf(r->why + o, sizeof r->why - (size_t)o, "%s%s", i ? ", " : "; warned: ",
                      warn_rows[r->warn[i].kind].name);
done:
    lfr_image_free(&im);
    return st;
}

void lfr_enrol_warnings_json(const lfr_enrol_result *r, char *out) {
    out[0] = 0;
    if (!r || r->n_warn <= 0) return;
    for (int with_text = 1; with_text >= 0; with_text--) {
        json_t *a = json_array();
        for (int i = 0; a && i < r->n_warn; i++) {
            const lfr_enrol_warning *w = &r->warn[i];
            json_t *o = json_pack("{s:s, s:f, s:f}", "kind", lfr_enrol_warn_name(w->kind),
                                  "value", round((double)w->value * 10) / 10, "cutoff",
                                  (double)w->cutoff);
            if (o && with_text) json_object_set_new(o, "text", json_string(w->text));
            if (o) json_array_append_new(a, o);
        }
        char *txt = a ? json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
        json_decref(a);
        size_t n = txt ? strlen(txt) : 0;
        if (txt && n <= LFR_MAX_QUALITY_WARNINGS) {
            memcpy(out, txt, n + 1);
            free(txt);
            return;
        }
        free(txt);
    }
}

/* The warnings in a short sentence (an error message of 256 bytes). */
/* The model set of deployment `dep` as the face engine's enum. */
static lfr_status enrol_deployment_set(lfr_store *s, int64_t dep, lfr_face_model_set *set,
                                       lfr_err *err) {
    lfr_deploy_info *d = lfr_malloc(sizeof *d);
    if (!d) return lfr_err_set(err, LFR_ERR_NOMEM, "no memory for the deployment");
    lfr_status st = lfr_deploy_get(s, dep, d, err);
    if (st == LFR_OK && lfr_face_model_set_parse(d->model_set, set) != LFR_OK)
        st = lfr_err_set(err, LFR_ERR_UNSUPPORTED,
                         "deployment %lld uses model set \"%s\", which this engine does not know",
                         (long long)dep, d->model_set);
    lfr_free(d);
    return st;
}

static void warn_short(const lfr_enrol_result *r, char *out, size_t cap) {
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < r->n_warn && o < cap; i++) {
        const lfr_enrol_warning *w = &r->warn[i];
        const warn_row *row = &warn_rows[w->kind];
        int k = w->kind == LFR_ENROL_WARN_AT_EDGE
                    ? snprintf(out + o, cap - o, "%sface at the photo's edge", i ? "; " : "")
                    : snprintf(out + o, cap - o, "%s%s %.0f%s%s (%s %.3g)", i ? "; " : "",
                               row->what, w->value, row->unit[0] ? " " : "", row->unit,
                               row->sense == WARN_BELOW ? "under" : "over", w->cutoff);
        if (k < 0) break;
        o += (size_t)k;
    }
}

/* The accepted-warnings record of a graded result (lfr_enrol_add,
 * lfr_enrol_add_image): *json owned by the caller; LFR_ERR_QUALITY for
 * warnings not accepted. */
static lfr_status accepted_warnings(lfr_enrol_result *r, const char *accept_warnings,
                                    lfr_entry_warnings *w, char **json, lfr_err *err) {
    *json = NULL;
    memset(w, 0, sizeof *w);
    if (r->grade != LFR_ENROL_GRADE_WARN) return LFR_OK;
    if (!accept_warnings || !accept_warnings[0]) {
        char list[200];
        warn_short(r, list, sizeof list);
        return lfr_err_set(err, LFR_ERR_QUALITY,
                           "%d quality warning%s, not accepted: %s; enrol it only by "
                           "accepting them with a reason (--accept-warnings)", r->n_warn,
                           r->n_warn == 1 ? "" : "s", list);
    }
    if (!(*json = lfr_malloc(LFR_MAX_QUALITY_WARNINGS + 1)))
        return lfr_err_set(err, LFR_ERR_NOMEM, "no memory for the warnings");
    lfr_enrol_warnings_json(r, *json);
    w->warnings = *json;
    w->accepted = accept_warnings;
    return LFR_OK;
}

lfr_status lfr_enrol_add(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                         const lfr_watchlist_entry *e, const uint8_t *image, size_t len,
                         const lfr_enrol_params *p, const char *accept_warnings,
                         const lfr_actor *by, int64_t *entry_id, lfr_enrol_result *r,
                         lfr_err *err) {
    if (entry_id) *entry_id = 0;
    /* The template is made with the deployment's model set. */
    lfr_enrol_params ps = p ? *p : lfr_enrol_params_default;
    memset(r, 0, sizeof *r);
    lfr_status st = enrol_deployment_set(s, deployment_id, &ps.model_set, err);
    if (st == LFR_OK) st = lfr_enrol_assess(fc, image, len, &ps, r, err);
    if (st != LFR_OK) return st;
    if (r->grade == LFR_ENROL_GRADE_REJECT) {
        memset(r->tmpl, 0, sizeof r->tmpl);
        return lfr_err_set(err, LFR_ERR_QUALITY, "%s", r->why);
    }
    char *warnings = NULL;
    lfr_entry_warnings w = {0};
    st = accepted_warnings(r, accept_warnings, &w, &warnings, err);
    if (st != LFR_OK) {
        memset(r->tmpl, 0, sizeof r->tmpl);
        return st;
    }
    st = lfr_deploy_entry_add_warned(s, deployment_id, e, &w, image, len, r->tmpl, r->dim, by,
                                     entry_id, err);
    memset(r->tmpl, 0, sizeof r->tmpl);
    lfr_free(warnings);
    return st;
}

lfr_status lfr_enrol_add_image(lfr_store *s, lfr_face_ctx *fc, int64_t entry_id,
                               const lfr_image_provenance *prov, const uint8_t *image,
                               size_t len, const lfr_enrol_params *p,
                               const char *accept_warnings, const lfr_actor *by,
                               int64_t *image_id, float *similarity, lfr_enrol_result *r,
                               lfr_err *err) {
    if (image_id) *image_id = 0;
    if (similarity) *similarity = 0;
    memset(r, 0, sizeof *r);
    if (!prov || !prov->source || !prov->source[0] || !prov->date || !prov->date[0])
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "say where the photo comes from and when it was taken (image source "
                           "and image date)");
    lfr_enrol_params ps = p ? *p : lfr_enrol_params_default;
    int64_t dep = 0;
    lfr_status st = lfr_store_query_int64(
        s, "SELECT deployment_id FROM watchlist_entries WHERE id = ?", 1, entry_id, 0, &dep, err);
    if (st == LFR_OK && dep == 0)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no watchlist entry %lld", (long long)entry_id);
    if (st == LFR_OK) st = enrol_deployment_set(s, dep, &ps.model_set, err);
    float *have = NULL;
    int dim = 0;
    size_t n = 0;
    if (st == LFR_OK) st = lfr_deploy_entry_templates(s, entry_id, &have, &dim, &n, err);
    if (st == LFR_OK && n >= LFR_MAX_ENTRY_IMAGES)
        st = lfr_err_set(err, LFR_ERR_TOO_LARGE, "watchlist entry %lld already has %d images",
                         (long long)entry_id, LFR_MAX_ENTRY_IMAGES);
    if (st == LFR_OK) st = lfr_enrol_assess(fc, image, len, &ps, r, err);
    if (st == LFR_OK && r->grade == LFR_ENROL_GRADE_REJECT)
        st = lfr_err_set(err, LFR_ERR_QUALITY, "%s", r->why);
    if (st == LFR_OK && r->dim != dim)
        st = lfr_err_set(err, LFR_ERR_CORRUPT, "the entry's templates have %d values, the new "
                         "photo's %d", dim, r->dim);
    if (st == LFR_OK) {
        /* the photo against the entry's template: the mean of its photos */
        double mean[LFR_FACE_EMB_MAX_DIM] = {0}, nn = 0, dot = 0;
        for (size_t i = 0; i < n; i++)
            for (int d = 0; d < dim; d++) mean[d] += have[i * (size_t)dim + (size_t)d];
        for (int d = 0; d < dim; d++) nn += mean[d] * mean[d];
        for (int d = 0; d < dim; d++) dot += mean[d] * r->tmpl[d];
        float sim = nn > 0 ? (float)(dot / sqrt(nn)) : 0.0f;
        if (similarity) *similarity = sim;
        const lfr_match_calibration *cal =
            lfr_match_calibration_named(lfr_face_model_set_name(ps.model_set));
        float need = lfr_match_cal_threshold_for_likeness(
            cal, -100.0 * log10(LFR_ENROL_SAME_PERSON_FMR) / LFR_MATCH_LIKENESS_DECADES);
        if (sim < need) {
            r->grade = LFR_ENROL_GRADE_REJECT;
            r->reject = LFR_ENROL_NOT_SAME_PERSON;
            snprintf(r->why, sizeof r->why,
                     "the photo does not look like the entry's %zu photo%s (cosine %.3f with "
                     "their mean, under %.3f, which one pair of different people in %.0f "
                     "reaches): an entry's photos must all show the same person",
                     n, n == 1 ? "" : "s", (double)sim, (double)need,
                     1.0 / LFR_ENROL_SAME_PERSON_FMR);
            st = lfr_err_set(err, LFR_ERR_QUALITY, "%s", r->why);
        }
        /* the same photograph again */
        size_t same = 0;
        double top = -1;
        for (size_t i = 0; st == LFR_OK && i < n; i++) {
            double c = 0;
            for (int d = 0; d < dim; d++) c += (double)have[i * (size_t)dim + (size_t)d] * r->tmpl[d];
            if (c > top) top = c, same = i;
        }
        if (st == LFR_OK && top >= LFR_ENROL_SAME_PHOTO_COSINE) {
            r->grade = LFR_ENROL_GRADE_REJECT;
            r->reject = LFR_ENROL_SAME_PHOTO;
            snprintf(r->why, sizeof r->why,
                     "the entry already has this photo or one nearly the same (cosine %.3f with "
                     "its photo %zu, at least %.2f): it would add nothing and count for more "
                     "false alerts", top, same + 1, (double)LFR_ENROL_SAME_PHOTO_COSINE);
            st = lfr_err_set(err, LFR_ERR_QUALITY, "%s", r->why);
        }
    }
    if (have) {
        sodium_memzero(have, sizeof(float) * (size_t)dim * n);
        lfr_free(have);
    }
    char *warnings = NULL;
    lfr_entry_warnings w = {0};
    if (st == LFR_OK) st = accepted_warnings(r, accept_warnings, &w, &warnings, err);
    if (st == LFR_OK)
        st = lfr_deploy_entry_image_add_warned(s, entry_id, prov, &w, image, len, r->tmpl,
                                               r->dim, by, image_id, err);
    memset(r->tmpl, 0, sizeof r->tmpl);
    lfr_free(warnings);
    return st;
}

/* Bulk import: the manifest ------------------------------------------------ */

#define CSV_MAX_FIELDS 32

/* Splits one CSV record (RFC 4180 quoting; no embedded newlines) in place.
 * Returns the number of fields (all of them counted, the first `max`
 * stored), or -1 with *why set for a quote that is not closed or text after
 * a closing quote. */
static int csv_split(char *line, char **f, int max, const char **why) {
    int n = 0;
    char *p = line;
    for (;;) {
        char *start = p, *out;
        if (*p == '"') {
            start = out = ++p;
            for (;;) {
                if (*p == 0) {
                    *why = "a quoted value is not closed";
                    return -1;
                }
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *out++ = *p++;
                }
            }
            if (*p && *p != ',') {
                *why = "text after the closing quote of a value";
                return -1;
            }
        } else {
            while (*p && *p != ',') p++;
            out = p;
        }
        char sep = *p;
        *out = 0;
        if (n < max) f[n] = start;
        n++;
        if (sep != ',') return n;
        p++;
    }
}

static char *trim(char *t) {
    while (*t == ' ' || *t == '\t') t++;
    size_t n = strlen(t);
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\t')) t[--n] = 0;
    return t;
}

/* The manifest's columns: name, required. */
#define MANIFEST_COLS(X)                                                       \
    X(FILE, "file", 1)                                                         \
    X(REF, "subject_ref", 1)                                                   \
    X(NAME, "display_name", 1)                                                 \
    X(CAT, "category", 1)                                                      \
    X(REASON, "reason", 1)                                                     \
    X(SRC, "image_source", 1)                                                  \
    X(DATE, "image_date", 1)                                                   \
    X(OTHER, "category_other", 0)                                              \
    X(U18, "under_18", 0)                                                      \
    X(U18_WHY, "under_18_justification", 0)

enum {
#define MC_ENUM(id, name, req) COL_##id,
    MANIFEST_COLS(MC_ENUM)
#undef MC_ENUM
    N_COLS
};

static const struct {
    const char *name;
    int required;
} manifest_cols[N_COLS] = {
#define MC_ROW(id, name, req) [COL_##id] = {name, req},
    MANIFEST_COLS(MC_ROW)
#undef MC_ROW
};

/* Maps header fields to columns.  Every name must be a known column, once
 * (a misspelt "under18" would otherwise be ignored and a child enrolled
 * as an adult). */
static lfr_status manifest_header(char *line, int col[N_COLS], int *n_fields, lfr_err *err) {
    for (int k = 0; k < N_COLS; k++) col[k] = -1;
    char *h[CSV_MAX_FIELDS];
    const char *why = NULL;
    int nh = csv_split(line, h, CSV_MAX_FIELDS, &why);
    if (nh < 0) return lfr_err_set(err, LFR_ERR_CORRUPT, "manifest header: %s", why);
    if (nh > N_COLS)
        return lfr_err_set(err, LFR_ERR_CORRUPT,
                           "manifest header has %d columns; there are only %d kinds", nh, N_COLS);
    for (int i = 0; i < nh; i++) {
        const char *name = trim(h[i]);
        if (!name[0]) continue; /* an empty column (a spreadsheet's trailing comma) */
        int k = 0;
        while (k < N_COLS && strcmp(name, manifest_cols[k].name)) k++;
        if (k == N_COLS)
            return lfr_err_set(err, LFR_ERR_CORRUPT,
                               "manifest header: unknown column '%.64s' (column %d); the columns "
                               "are file, subject_ref, display_name, category, reason, "
                               "image_source, image_date, category_other, under_18, "
                               "under_18_justification", name, i + 1);
        if (col[k] >= 0)
            return lfr_err_set(err, LFR_ERR_CORRUPT, "manifest header names '%s' twice",
                               manifest_cols[k].name);
        col[k] = i;
    }
    for (int k = 0; k < N_COLS; k++)
        if (manifest_cols[k].required && col[k] < 0)
            return lfr_err_set(err, LFR_ERR_CORRUPT, "manifest header has no '%s' column",
                               manifest_cols[k].name);
    *n_fields = nh;
    return LFR_OK;
}

/* under_18: empty, 0/no/false, or 1/yes/true (any case); anything else is
 * refused rather than read as "adult". */
static int parse_yes_no(const char *v, int *out) {
    static const char *const no[] = {"", "0", "no", "false", "n"};
    static const char *const yes[] = {"1", "yes", "true", "y"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (!strcasecmp(v, no[i])) return *out = 0, 0;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!strcasecmp(v, yes[i])) return *out = 1, 0;
    return -1;
}

/* Reads the row's image file `rel` inside the folder `dfd` without ever
 * leaving it: each component is opened with O_NOFOLLOW relative to the one
 * before (a symbolic link is refused wherever it points: one could lead
 * outside the folder), ".." and absolute names are refused, and the file
 * is opened O_NONBLOCK and must be a regular file (a FIFO would otherwise
 * hang the import, a directory fail obscurely). */
static lfr_status read_in_dir(int dfd, const char *dir, const char *rel, uint8_t **data,
                              size_t *len, lfr_err *err) {
    *data = NULL;
    *len = 0;
    if (!rel[0]) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "the file name is empty");
    if (rel[0] == '/')
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "file '%s' is an absolute path; give it relative to the folder %s",
                           rel, dir);
    char path[4096];
    if (strlen(rel) >= sizeof path)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "file name is too long");
    strcpy(path, rel);
    char *comp[LFR_MAX_MANIFEST_PATH_DEPTH];
    int nc = 0;
    for (char *save = NULL, *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (!strcmp(c, ".")) continue;
        if (!strcmp(c, ".."))
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "file '%s' goes up with '..'; it must be inside the folder", rel);
        if (nc == LFR_MAX_MANIFEST_PATH_DEPTH)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "file '%s' is more than %d folders deep", rel,
                               LFR_MAX_MANIFEST_PATH_DEPTH);
        comp[nc++] = c;
    }
    if (nc == 0) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "file '%s' names no file", rel);
    int fd = dfd;
    lfr_status st = LFR_OK;
    for (int i = 0; i < nc && st == LFR_OK; i++) {
        int last = i == nc - 1;
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
                    (last ? O_NONBLOCK : O_DIRECTORY);
        int next = openat(fd, comp[i], flags);
        int e = errno;
        struct stat lb; /* a link to a folder gives ENOTDIR: say what it is */
        if (next < 0 && (e == ELOOP || e == ENOTDIR) &&
            fstatat(fd, comp[i], &lb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lb.st_mode))
            e = ELOOP;
        if (fd != dfd) close(fd);
        fd = -1;
        if (next >= 0) {
            fd = next;
            continue;
        }
        if (e == ENOENT)
            st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no file '%s' in the folder %s", rel, dir);
        else if (e == ELOOP)
            st = lfr_err_set(err, LFR_ERR_INVALID_ARG,
                             "'%s' in '%s' is a symbolic link; links are not followed (one could "
                             "lead outside the folder)", comp[i], rel);
        else if (e == ENOTDIR)
            st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "'%s' in '%s' is not a folder", comp[i],
                             rel);
        else
            st = lfr_err_set(err, LFR_ERR_IO, "cannot open '%s': %s", rel, strerror(e));
    }
    if (st != LFR_OK) return st;
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        st = lfr_err_set(err, LFR_ERR_IO, "cannot examine '%s': %s", rel, strerror(errno));
    else if (S_ISDIR(sb.st_mode))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "'%s' is a directory, not an image file", rel);
    else if (!S_ISREG(sb.st_mode))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG,
                         "'%s' is not a regular file (a FIFO, socket or device)", rel);
    else if ((uint64_t)sb.st_size > LFR_MAX_IMAGE_BYTES)
        st = lfr_err_set(err, LFR_ERR_TOO_LARGE, "'%s' is %lld bytes, over the limit of %u", rel,
                         (long long)sb.st_size, LFR_MAX_IMAGE_BYTES);
    size_t n = st == LFR_OK ? (size_t)sb.st_size : 0, got = 0;
    uint8_t *buf = st == LFR_OK ? lfr_malloc(n + 1) : NULL;
    if (st == LFR_OK && !buf) st = lfr_err_set(err, LFR_ERR_NOMEM, "no memory for '%s'", rel);
    while (st == LFR_OK && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            st = lfr_err_set(err, LFR_ERR_IO, "cannot read '%s': %s", rel,
                             r < 0 ? strerror(errno) : "the file shrank while being read");
        else
            got += (size_t)r;
    }
    close(fd);
    if (st != LFR_OK) {
        lfr_free(buf);
        return st;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return LFR_OK;
}

/* The entry of subject_ref on deployment_id's list (*id 0: none), with its
 * display name and category. */
static lfr_status listed_subject(lfr_store *s, int64_t deployment_id, const char *ref,
                                 int64_t *id, char name[LFR_MAX_ACTOR], char cat[32],
                                 lfr_err *err) {
    *id = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT id, display_name, category FROM "
                                              "watchlist_entries WHERE deployment_id = ? AND "
                                              "subject_ref = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, deployment_id);
    lfr_store_stmt_bind_text(q, 2, ref);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && row) {
        *id = lfr_store_stmt_int64(q, 0);
        snprintf(name, LFR_MAX_ACTOR, "%s", lfr_store_stmt_text(q, 1));
        snprintf(cat, 32, "%s", lfr_store_stmt_text(q, 2));
    }
    lfr_store_stmt_finalize(q);
    return st;
}

/* One data row: parse, read the image, assess, add.  Returns the row's
 * outcome; *fatal is set for a failure of the system (not of the row). */
static lfr_status import_row(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id, int dfd,
                             const char *dir, char *line, size_t ll, const int col[N_COLS],
                             int n_header, const lfr_enrol_params *p, const char *accept,
                             const lfr_actor *by, const char **file, int64_t *id, int *fatal,
                             lfr_err *rerr) {
    *file = "";
    const char *nul = memchr(line, 0, ll);
    if (nul)
        return lfr_err_set(rerr, LFR_ERR_INVALID_ARG,
                           "the row contains a NUL byte (at byte %zu); a manifest is text",
                           (size_t)(nul - line) + 1);
    char *f[CSV_MAX_FIELDS];
    const char *why = NULL;
    int nf = csv_split(line, f, CSV_MAX_FIELDS, &why);
    if (nf < 0) return lfr_err_set(rerr, LFR_ERR_INVALID_ARG, "the row is not valid CSV: %s", why);
    if (col[COL_FILE] < nf) *file = f[col[COL_FILE]];
    if (nf > n_header)
        return lfr_err_set(rerr, LFR_ERR_INVALID_ARG,
                           "the row has %d fields but the header names %d columns; a value "
                           "containing a comma must be in double quotes", nf, n_header);
    const char *v[N_COLS];
    for (int k = 0; k < N_COLS; k++) v[k] = (col[k] >= 0 && col[k] < nf) ? f[col[k]] : "";
    int u18 = 0;
    if (parse_yes_no(v[COL_U18], &u18))
        return lfr_err_set(rerr, LFR_ERR_INVALID_ARG,
                           "under_18 is '%.32s'; write yes or no (or 1/0, or leave it empty for no)",
                           v[COL_U18]);
    lfr_watchlist_entry e = {
        .subject_ref = v[COL_REF], .display_name = v[COL_NAME], .reason = v[COL_REASON],
        .image_source = v[COL_SRC], .image_date = v[COL_DATE],
        .category_other = v[COL_OTHER][0] ? v[COL_OTHER] : NULL,
        .under_18 = u18,
        .under_18_justification = v[COL_U18_WHY][0] ? v[COL_U18_WHY] : NULL};
    lfr_status st = lfr_watchlist_category_parse(v[COL_CAT], &e.category);
    if (st != LFR_OK) return lfr_err_set(rerr, st, "unknown category '%.64s'", v[COL_CAT]);
    uint8_t *img = NULL;
    size_t len = 0;
    st = read_in_dir(dfd, dir, v[COL_FILE], &img, &len, rerr);
    if (st == LFR_ERR_NOMEM) *fatal = 1;
    if (st != LFR_OK) return st;
    lfr_enrol_result r;
    memset(&r, 0, sizeof r);
    int64_t have = 0;
    char have_name[LFR_MAX_ACTOR] = "", have_cat[32] = "";
    st = listed_subject(s, deployment_id, e.subject_ref, &have, have_name, have_cat, rerr);
    if (st == LFR_OK && have > 0) {
        /* a subject already on the list: the row is another photo of the
         * entry, unless it is one the entry has (a rerun adds nothing) */
        if (strcmp(have_name, e.display_name) || strcmp(have_cat, v[COL_CAT])) {
            st = lfr_err_set(rerr, LFR_ERR_EXISTS,
                             "already on the list: subject_ref '%.64s' is listed as '%.64s' (%s); "
                             "a row adding a photo must give the same name and category",
                             v[COL_REF], have_name, have_cat);
        } else {
            lfr_image_provenance prov = {e.image_source, e.image_date};
            st = lfr_enrol_add_image(s, fc, have, &prov, img, len, p, accept, by, id, NULL, &r,
                                     rerr);
            if (st == LFR_OK) {
                *id = have;
            } else if (st == LFR_ERR_QUALITY && r.reject == LFR_ENROL_SAME_PHOTO) {
                st = lfr_err_set(rerr, LFR_ERR_EXISTS,
                                 "already on the list: subject_ref '%.64s' has this photo; not "
                                 "added again", v[COL_REF]);
            }
        }
    } else if (st == LFR_OK) {
        st = lfr_enrol_add(s, fc, deployment_id, &e, img, len, p, accept, by, id, &r, rerr);
        if (st == LFR_ERR_EXISTS)
            lfr_err_set(rerr, st, "already on the list: subject_ref '%.64s' is on this "
                                  "deployment's watchlist; not added again", v[COL_REF]);
    }
    if (st == LFR_OK && r.grade == LFR_ENROL_GRADE_WARN) {
        char list[200];
        warn_short(&r, list, sizeof list);
        lfr_err_set(rerr, LFR_OK, "%s, %d quality warning%s accepted: %s",
                    have > 0 ? "photo added to the listed subject's entry" : "added", r.n_warn,
                    r.n_warn == 1 ? "" : "s", list);
    } else if (st == LFR_OK && have > 0) {
        lfr_err_set(rerr, LFR_OK, "photo added to the entry of '%.64s' (matched by the mean of "
                                  "its photos)", v[COL_REF]);
    }
    if (st == LFR_ERR_QUALITY && r.grade == LFR_ENROL_GRADE_WARN) {
        char list[200];
        warn_short(&r, list, sizeof list);
        lfr_err_set(rerr, st, "%d quality warning%s, not accepted: %s; to add it, accept the "
                    "import's warnings with a reason (--accept-warnings; API accept_warnings)",
                    r.n_warn, r.n_warn == 1 ? "" : "s", list);
    }
    lfr_free(img);
    /* A failure of the system (not of the row) stops the import. */
    if (st == LFR_ERR_NOMEM || st == LFR_ERR_IO || st == LFR_ERR_BAD_MODEL ||
        st == LFR_ERR_INTERNAL || st == LFR_ERR_BUSY)
        *fatal = 1;
    return st;
}

lfr_status lfr_enrol_import(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                            const char *dir, const char *manifest, const lfr_enrol_params *p,
                            const char *accept_warnings, const lfr_actor *by,
                            lfr_enrol_row_fn fn, void *fn_ctx, int *added, int *rejected,
                            lfr_err *err) {
    *added = *rejected = 0;
    uint8_t *data = NULL;
    size_t size = 0;
    lfr_err ferr = {{0}};
    lfr_status st = lfr_read_file_err(manifest, LFR_MAX_MANIFEST_BYTES, &data, &size, &ferr);
    if (st != LFR_OK) return lfr_err_set(err, st, "manifest: %s", ferr.msg);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        int e = errno;
        lfr_free(data);
        return lfr_err_set(err, e == ENOENT ? LFR_ERR_NOT_FOUND : LFR_ERR_INVALID_ARG,
                           "image folder %s: %s", dir, strerror(e));
    }
    char *text = (char *)data, *end = text + size;
    if (size >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) text += 3; /* UTF-8 BOM */
    char line[LFR_MAX_MANIFEST_LINE + 1];
    int col[N_COLS], n_header = 0, lineno = 0, header_done = 0;
    lfr_status fatal = LFR_OK;
    for (char *pos = text; fatal == LFR_OK && pos < end;) {
        char *nl = memchr(pos, '\n', (size_t)(end - pos));
        size_t ll = (size_t)((nl ? nl : end) - pos);
        char *row = pos;
        pos = nl ? nl + 1 : end;
        lineno++;
        if (ll && row[ll - 1] == '\r') ll--;
        if (!header_done) {
            if (ll > LFR_MAX_MANIFEST_LINE || memchr(row, 0, ll)) {
                st = lfr_err_set(err, LFR_ERR_CORRUPT, "manifest header is not a line of text");
                break;
            }
            memcpy(line, row, ll);
            line[ll] = 0;
            st = manifest_header(line, col, &n_header, err);
            if (st != LFR_OK) break;
            header_done = 1;
            continue;
        }
        if (ll == 0) continue;
        lfr_err rerr = {{0}};
        const char *file = "";
        int64_t id = 0;
        int is_fatal = 0;
        lfr_status rs;
        if (ll > LFR_MAX_MANIFEST_LINE) {
            rs = lfr_err_set(&rerr, LFR_ERR_TOO_LARGE, "the row is longer than %d bytes",
                             LFR_MAX_MANIFEST_LINE);
        } else {
            memcpy(line, row, ll);
            line[ll] = 0;
            rs = import_row(s, fc, deployment_id, dfd, dir, line, ll, col, n_header, p,
                            accept_warnings, by, &file, &id, &is_fatal, &rerr);
        }
        if (rs == LFR_OK) (*added)++;
        else (*rejected)++;
        /* an added row says "added", or which warnings were accepted */
        const char *say = rs != LFR_OK || rerr.msg[0] ? rerr.msg : "added";
        if (fn) fn(fn_ctx, lineno, file, rs, say, id);
        if (is_fatal) {
            fatal = rs;
            lfr_err_set(err, rs, "import stopped at line %d: %s", lineno, rerr.msg);
        }
    }
    if (st == LFR_OK && !header_done)
        st = lfr_err_set(err, LFR_ERR_CORRUPT, "manifest %s is empty", manifest);
    close(dfd);
    lfr_free(data);
    return st != LFR_OK ? st : fatal;
}

/* Photo checks ------------------------------------------------------------ */

/* How large a check photo is decoded.  The detector works on the photo
 * shrunk to a long side of lfr_face_params_default.det_long_side (960 px),
 * never enlarged.  Decoding with a SHORT side of at least that many pixels
 * means the detector still shrinks the decoded photo (in every aspect
 * ratio), so it sees exactly what it would have seen from the full-size
 * file; and the face crop that the embedding is aligned from keeps at least
 * 960 / short-side of the photo: a face a tenth of the photo's height is
 * still ~96 px, close to the 112 px aligned crop.  A 12 MP phone photo
 * (4032x3024) is then decoded at 1/2 (2016x1512), a 48 MP one at 1/4;
 * the detector's smallest face (min_face, in decoded pixels) stays below
 * what its 960-px working size can find anyway. */
static int check_decode_min_side(void) { return lfr_face_params_default.det_long_side; }

static lfr_status check_record(lfr_store *s, int64_t deployment_id, const lfr_photo_check *pc,
                               const lfr_actor *officer, lfr_check_result *r, lfr_err *err) {
    r->result = pc->matched ? LFR_PHOTO_CHECK_MATCH : pc->result;
    return lfr_deploy_photo_check_record(s, deployment_id, pc, officer, &r->check_id, err);
}

lfr_status lfr_check_photo_snapshot(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                                    const lfr_check_watchlist *wl, const uint8_t *image,
                                    size_t len, const char *reason, int64_t device_id,
                                    const lfr_actor *officer, lfr_check_result *r,
                                    lfr_err *err) {
    memset(r, 0, sizeof *r);
    if (!reason || !reason[0])
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "a photo check needs the officer's reason for making it");
    if (device_id < 0)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "device id %lld is negative",
                           (long long)device_id);
    if (!wl || !(wl->threshold > 0.0f && wl->threshold < 1.0f))
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "a photo check needs the deployment's threshold, in (0, 1)");
    /* The probe is embedded with the watchlist's model set: the one whose
     * dim the snapshot has (model sets have distinct dims). */
    lfr_face_model_set set = LFR_FACE_MODEL_MFN192;
    int snap_dim = wl->snap && lfr_match_snapshot_templates(wl->snap) > 0
                       ? lfr_match_snapshot_dim(wl->snap) : 0;
    for (int k = 0; snap_dim && k < LFR_FACE_MODEL_SET_COUNT; k++)
        if (lfr_face_model_set_dim((lfr_face_model_set)k) == snap_dim) set = (lfr_face_model_set)k;
    if (wl->snap && (!lfr_match_snapshot_frozen(wl->snap) ||
                     (snap_dim && lfr_face_model_set_dim(set) != snap_dim)))
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "the watchlist snapshot must be frozen and hold the templates of a "
                           "model set (it holds %d-d ones)", snap_dim);
    const lfr_match_calibration *cal = lfr_match_calibration_named(lfr_face_model_set_name(set));
    lfr_status st = lfr_deploy_require_live(s, deployment_id, err);
    if (st != LFR_OK) return st;
    r->threshold = wl->threshold;
    lfr_photo_check pc = {.reason = reason, .device_id = device_id,
                          .result = LFR_PHOTO_CHECK_NO_MATCH};
    lfr_image im = {0};
    lfr_err derr = {{0}};
    st = lfr_image_decode_max(image, len, check_decode_min_side(), &im, &r->decode_reduction,
                              &derr);
    if (st == LFR_ERR_NOMEM) return lfr_err_set(err, st, "out of memory decoding the photo");
    if (st != LFR_OK) {
        /* Recorded as unreadable; the answer is still the decoder's error. */
        pc.result = LFR_PHOTO_CHECK_UNREADABLE;
        lfr_status rs = check_record(s, deployment_id, &pc, officer, r, err);
        if (rs != LFR_OK) return rs;
        return lfr_err_set(err, st, "the photo cannot be read (%s); check %lld recorded as "
                           "unreadable", derr.msg[0] ? derr.msg : lfr_status_message(st),
                           (long long)r->check_id);
    }
    lfr_match_hit *hits = NULL;
    lfr_watchlist_entry_info *entries = NULL;
    size_t ne = 0, cap = 0;
    float emb[LFR_FACE_EMB_MAX_DIM];
    lfr_face *faces;
    int nf = 0, nh = 0;
    st = lfr_face_detect(fc, &im, NULL, &faces, &nf, err);
    if (st != LFR_OK) goto done;
    r->face_found = nf > 0;
    if (nf == 0) {
        pc.result = LFR_PHOTO_CHECK_NO_FACE;
        st = check_record(s, deployment_id, &pc, officer, r, err);
        goto done;
    }
    st = lfr_face_embed_set(fc, &im, faces, 1, set, emb, err); /* the largest face is the probe */
    if (st != LFR_OK) goto done;
    cap = wl->snap ? lfr_match_snapshot_entries(wl->snap) : 0;
    if (cap > 0) {
        hits = lfr_malloc(cap * sizeof *hits);
        if (!hits) {
            st = lfr_err_set(err, LFR_ERR_NOMEM, "no memory for %zu match results", cap);
            goto done;
        }
        st = lfr_match_search(wl->snap, emb, wl->threshold, hits, (int)cap, &nh);
        if (st != LFR_OK) {
            lfr_err_set(err, st, "watchlist search failed: %s", lfr_status_message(st));
            goto done;
        }
    }
    /* Candidates (best first) with their records. */
    if (nh > 0) st = lfr_deploy_entry_list(s, deployment_id, &entries, &ne, err);
    for (int i = 0; st == LFR_OK && i < nh && r->n < LFR_CHECK_MAX_CANDIDATES; i++) {
        lfr_check_candidate *c = &r->c[r->n];
        size_t k = 0;
        while (k < ne && entries[k].id != hits[i].entry_id) k++;
        if (k == ne) continue; /* removed since the snapshot was built */
        c->entry = entries[k];
        c->entry_id = hits[i].entry_id;
        c->score = hits[i].score;
        c->entry_photos = hits[i].entry_images;
        c->likeness = lfr_match_cal_entry_likeness(cal, hits[i].score, c->entry_photos);
        c->image_id = wl->image_ids && hits[i].image_index >= 0 &&
                              (size_t)hits[i].image_index < wl->n_image_ids
                          ? wl->image_ids[hits[i].image_index]
                          : 0;
        r->n++;
    }
    if (st != LFR_OK) goto done;
    pc.matched = r->n > 0;
    pc.entry_id = r->n ? r->c[0].entry_id : 0;
    pc.score = r->n ? r->c[0].score : 0;
    pc.image = r->n ? image : NULL; /* kept (sealed) only when it matched */
    pc.image_len = r->n ? len : 0;
    st = check_record(s, deployment_id, &pc, officer, r, err);
done:
    memset(emb, 0, sizeof emb);
    lfr_free(entries);
    lfr_free(hits);
    lfr_image_free(&im);
    return st;
}

lfr_status lfr_check_photo(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                           const uint8_t *image, size_t len, const char *reason,
                           const lfr_actor *officer, lfr_check_result *r, lfr_err *err) {
    memset(r, 0, sizeof *r);
    if (!reason || !reason[0])
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "a photo check needs the officer's reason for making it");
    lfr_status st = lfr_deploy_require_live(s, deployment_id, err);
    if (st != LFR_OK) return st;
    lfr_deploy_templates t = {0};
    lfr_match_snapshot *snap = NULL;
    st = lfr_deploy_templates_load(s, deployment_id, &t, err);
    if (st == LFR_OK && t.n > 0) {
        /* entry templates as in the live snapshot (lfr_pipeline_snapshot_load) */
        st = lfr_match_snapshot_build_entries(t.dim, t.n, t.data, t.entry_ids, NULL,
                                              LFR_MATCH_ENTRY_TEMPLATE_DEFAULT, &snap);
        if (st != LFR_OK) lfr_err_set(err, st, "cannot build the watchlist snapshot: %s",
                                      lfr_status_message(st));
    }
    if (st == LFR_OK) {
        lfr_check_watchlist wl = {.snap = snap, .threshold = t.threshold,
                                  .image_ids = t.image_ids, .n_image_ids = t.n};
        st = lfr_check_photo_snapshot(s, fc, deployment_id, &wl, image, len, reason, 0, officer,
                                      r, err);
    }
    lfr_match_snapshot_unref(snap);
    lfr_deploy_templates_free(&t);
    return st;
}
