/*
 * enrol.c - enrolment quality control, bulk import, photo checks.
 * See enrol.h.
 */
#include "enrol.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match/match.h"

const lfr_enrol_params lfr_enrol_params_default = {
    .min_eye_dist = 40.0f,
    .min_sharpness = 60.0f,
    .max_yaw = 30.0f,
    .max_roll = 25.0f,
    .second_face_ratio = 0.5f,
};

static const char *const reject_names[LFR_ENROL_REJECT_COUNT] = {
#define LFR_ENROL_REJECT_NAME(id, msg) [LFR_ENROL_##id] = #id,
    LFR_ENROL_REJECT_LIST(LFR_ENROL_REJECT_NAME)
#undef LFR_ENROL_REJECT_NAME
};

const char *lfr_enrol_reject_name(lfr_enrol_reject r) {
    return (unsigned)r < LFR_ENROL_REJECT_COUNT ? reject_names[r] : "UNKNOWN";
}

static void reject(lfr_enrol_result *r, lfr_enrol_reject why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reject(lfr_enrol_result *r, lfr_enrol_reject why, const char *fmt, ...) {
    r->reject = why;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

lfr_status lfr_enrol_assess(lfr_face_ctx *fc, const uint8_t *image, size_t len,
                            const lfr_enrol_params *p, lfr_enrol_result *r, lfr_err *err) {
    if (!p) p = &lfr_enrol_params_default;
    memset(r, 0, sizeof *r);
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
    const lfr_face *f = &faces[0];
    if (f->q.eye_dist < p->min_eye_dist) {
        reject(r, LFR_ENROL_TOO_SMALL, "face too small: %.0f px between the eyes, at least %.0f needed",
               f->q.eye_dist, p->min_eye_dist);
        goto done;
    }
    if (fabsf(f->q.yaw) > p->max_yaw || fabsf(f->q.roll) > p->max_roll) {
        reject(r, LFR_ENROL_POSE, "face not frontal enough: yaw %.0f deg (max %.0f), roll %.0f deg (max %.0f)",
               f->q.yaw, p->max_yaw, f->q.roll, p->max_roll);
        goto done;
    }
    st = lfr_face_embed(fc, &im, &faces[0], 1, r->tmpl, err);
    if (st != LFR_OK) goto done;
    r->face = faces[0]; /* now with sharpness */
    if (faces[0].q.sharpness < p->min_sharpness) {
        reject(r, LFR_ENROL_BLURRED, "face not sharp enough: sharpness %.0f, at least %.0f needed",
               faces[0].q.sharpness, p->min_sharpness);
        memset(r->tmpl, 0, sizeof r->tmpl);
        goto done;
    }
    r->reject = LFR_ENROL_NONE;
    snprintf(r->why, sizeof r->why, "accepted: %.0f px between the eyes, sharpness %.0f, yaw %.0f, roll %.0f",
             f->q.eye_dist, faces[0].q.sharpness, f->q.yaw, f->q.roll);
done:
    lfr_image_free(&im);
    return st;
}

lfr_status lfr_enrol_add(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                         const lfr_watchlist_entry *e, const uint8_t *image, size_t len,
                         const lfr_enrol_params *p, const lfr_actor *by, int64_t *entry_id,
                         lfr_enrol_result *r, lfr_err *err) {
    lfr_status st = lfr_enrol_assess(fc, image, len, p, r, err);
    if (st != LFR_OK) return st;
    if (r->reject != LFR_ENROL_NONE) return lfr_err_set(err, LFR_ERR_QUALITY, "%s", r->why);
    st = lfr_deploy_entry_add(s, deployment_id, e, image, len, r->tmpl, LFR_FACE_EMB_DIM, by,
                              entry_id, err);
    memset(r->tmpl, 0, sizeof r->tmpl);
    return st;
}

/* CSV ----------------------------------------------------------------------- */

#define CSV_MAX_FIELDS 16

/* Splits one CSV record (RFC 4180 quoting; no embedded newlines) in place. */
static int csv_split(char *line, char **f, int max) {
    int n = 0;
    char *p = line;
    while (n < max) {
        char *out = p, *start = p;
        if (*p == '"') {
            p++;
            start = out = p;
            for (;;) {
                if (*p == 0) break;
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
            while (*p && *p != ',') p++;
        } else {
            while (*p && *p != ',') p++;
            out = p;
        }
        char sep = *p;
        *out = 0;
        f[n++] = start;
        if (sep != ',') break;
        p++;
    }
    return n;
}

static const char *const manifest_cols[] = {
    "file", "subject_ref", "display_name", "category", "reason", "image_source",
    "image_date", "category_other", "under_18", "under_18_justification"};
enum { COL_FILE, COL_REF, COL_NAME, COL_CAT, COL_REASON, COL_SRC, COL_DATE, COL_OTHER,
       COL_U18, COL_U18_WHY, N_COLS, N_REQUIRED = COL_OTHER };

lfr_status lfr_enrol_import(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                            const char *dir, const char *manifest, const lfr_enrol_params *p,
                            const lfr_actor *by, lfr_enrol_row_fn fn, void *fn_ctx,
                            int *added, int *rejected, lfr_err *err) {
    *added = *rejected = 0;
    FILE *mf = fopen(manifest, "r");
    if (!mf) return lfr_err_set(err, LFR_ERR_NOT_FOUND, "cannot open manifest %s", manifest);
    char line[8192];
    int col[N_COLS], lineno = 1;
    for (int k = 0; k < N_COLS; k++) col[k] = -1;
    if (!fgets(line, sizeof line, mf)) {
        fclose(mf);
        return lfr_err_set(err, LFR_ERR_CORRUPT, "manifest %s is empty", manifest);
    }
    line[strcspn(line, "\r\n")] = 0;
    char *h[CSV_MAX_FIELDS];
    int nh = csv_split(line, h, CSV_MAX_FIELDS);
    for (int i = 0; i < nh; i++)
        for (int k = 0; k < N_COLS; k++)
            if (!strcmp(h[i], manifest_cols[k])) col[k] = i;
    for (int k = 0; k < N_REQUIRED; k++)
        if (col[k] < 0) {
            fclose(mf);
            return lfr_err_set(err, LFR_ERR_CORRUPT, "manifest header has no '%s' column",
                               manifest_cols[k]);
        }
    lfr_status fatal = LFR_OK;
    while (fatal == LFR_OK && fgets(line, sizeof line, mf)) {
        lineno++;
        size_t ll = strlen(line);
        if (ll && line[ll - 1] != '\n' && !feof(mf)) {
            int c;
            while ((c = fgetc(mf)) != EOF && c != '\n') {}
            (*rejected)++;
            if (fn) fn(fn_ctx, lineno, "", LFR_ERR_TOO_LARGE, "line longer than 8 KiB", 0);
            continue;
        }
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        char *f[CSV_MAX_FIELDS];
        int nf = csv_split(line, f, CSV_MAX_FIELDS);
        const char *v[N_COLS];
        for (int k = 0; k < N_COLS; k++) v[k] = (col[k] >= 0 && col[k] < nf) ? f[col[k]] : "";
        lfr_watchlist_entry e = {
            .subject_ref = v[COL_REF], .display_name = v[COL_NAME], .reason = v[COL_REASON],
            .image_source = v[COL_SRC], .image_date = v[COL_DATE],
            .category_other = v[COL_OTHER][0] ? v[COL_OTHER] : NULL,
            .under_18 = !strcmp(v[COL_U18], "1") || !strcmp(v[COL_U18], "yes") ||
                        !strcmp(v[COL_U18], "true"),
            .under_18_justification = v[COL_U18_WHY][0] ? v[COL_U18_WHY] : NULL};
        lfr_err rerr = {{0}};
        lfr_status st = lfr_watchlist_category_parse(v[COL_CAT], &e.category);
        if (st != LFR_OK) lfr_err_set(&rerr, st, "unknown category '%s'", v[COL_CAT]);
        char path[4096];
        uint8_t *img = NULL;
        size_t len = 0;
        if (st == LFR_OK) {
            if (strstr(v[COL_FILE], "..") || v[COL_FILE][0] == '/' || !v[COL_FILE][0]) {
                st = lfr_err_set(&rerr, LFR_ERR_INVALID_ARG,
                                 "file '%s' must be a relative path inside the folder", v[COL_FILE]);
            } else {
                snprintf(path, sizeof path, "%s/%s", dir, v[COL_FILE]);
                st = lfr_read_file(path, LFR_MAX_IMAGE_BYTES, &img, &len);
                if (st != LFR_OK)
                    lfr_err_set(&rerr, st, "cannot read %s: %s", path, lfr_status_message(st));
            }
        }
        int64_t id = 0;
        if (st == LFR_OK) {
            lfr_enrol_result r;
            st = lfr_enrol_add(s, fc, deployment_id, &e, img, len, p, by, &id, &r, &rerr);
        }
        lfr_free(img);
        if (st == LFR_OK) (*added)++;
        else (*rejected)++;
        if (fn) fn(fn_ctx, lineno, v[COL_FILE], st, st == LFR_OK ? "added" : rerr.msg, id);
        /* A failure of the system (not of the row) stops the import. */
        if (st == LFR_ERR_NOMEM || st == LFR_ERR_IO || st == LFR_ERR_BAD_MODEL) {
            fatal = st;
            lfr_err_set(err, st, "import stopped at line %d: %s", lineno, rerr.msg);
        }
    }
    fclose(mf);
    return fatal;
}

/* Photo checks ------------------------------------------------------------ */

lfr_status lfr_check_photo(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                           const uint8_t *image, size_t len, const char *reason,
                           const lfr_actor *officer, lfr_check_result *r, lfr_err *err) {
    memset(r, 0, sizeof *r);
    if (!reason || !reason[0])
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "a photo check needs the officer's reason for making it");
    lfr_status st = lfr_deploy_require_live(s, deployment_id, err);
    if (st != LFR_OK) return st;
    lfr_image im = {0};
    st = lfr_image_decode(image, len, &im, err);
    if (st != LFR_OK) return st;
    lfr_deploy_templates t = {0};
    lfr_match_snapshot *snap = NULL;
    lfr_match_hit *hits = NULL;
    float emb[LFR_FACE_EMB_DIM];
    lfr_face *faces;
    int nf = 0, nh = 0;
    st = lfr_face_detect(fc, &im, NULL, &faces, &nf, err);
    if (st == LFR_OK && nf > 0) st = lfr_face_embed(fc, &im, faces, 1, emb, err);
    if (st == LFR_OK) st = lfr_deploy_templates_load(s, deployment_id, &t, err);
    if (st != LFR_OK) goto done;
    r->threshold = t.threshold;
    r->face_found = nf > 0;
    if (nf > 0 && t.n > 0) {
        st = lfr_match_snapshot_build(t.dim, t.n, t.data, t.entry_ids, NULL, &snap);
        if (st != LFR_OK) goto done;
        hits = lfr_malloc(t.n * sizeof *hits);
        if (!hits) {
            st = LFR_ERR_NOMEM;
            goto done;
        }
        st = lfr_match_search(snap, emb, t.threshold, hits, (int)t.n, &nh);
        if (st != LFR_OK) goto done;
    }
    /* Candidates (best first) with their records. */
    lfr_watchlist_entry_info *entries = NULL;
    size_t ne = 0;
    if (nh > 0) st = lfr_deploy_entry_list(s, deployment_id, &entries, &ne, err);
    for (int i = 0; st == LFR_OK && i < nh && r->n < LFR_CHECK_MAX_CANDIDATES; i++) {
        lfr_check_candidate *c = &r->c[r->n++];
        c->entry_id = hits[i].entry_id;
        c->score = hits[i].score;
        c->likeness = lfr_match_likeness(hits[i].score);
        for (size_t k = 0; k < ne; k++)
            if (entries[k].id == hits[i].entry_id) c->entry = entries[k];
    }
    lfr_free(entries);
    if (st != LFR_OK) goto done;
    lfr_photo_check pc = {
        .reason = reason,
        .matched = r->n > 0,
        .entry_id = r->n ? r->c[0].entry_id : 0,
        .score = r->n ? r->c[0].score : 0,
        .image = r->n ? image : NULL,
        .image_len = r->n ? len : 0,
    };
    st = lfr_deploy_photo_check_record(s, deployment_id, &pc, officer, &r->check_id, err);
done:
    memset(emb, 0, sizeof emb);
    lfr_free(hits);
    lfr_match_snapshot_unref(snap);
    lfr_deploy_templates_free(&t);
    lfr_image_free(&im);
    return st;
}
