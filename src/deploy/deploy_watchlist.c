/*
 * deploy_watchlist.c - watchlist entries, their images and templates, the
 * matcher snapshot, the cap.  See deploy.h.
 */
#include "deploy_int.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cap ----------------------------------------------------------------------- */
lfr_status lfr_deploy_watchlist_cap(lfr_store *s, int64_t *cap) {
    lfr_status st = lfr_store_setting_get_int(s, "watchlist.max_entries", LFR_DEFAULT_WATCHLIST_CAP, cap);
    if (*cap <= 0 || *cap > LFR_MAX_WATCHLIST_ENTRIES) *cap = LFR_MAX_WATCHLIST_ENTRIES;
    return st;
}

lfr_status lfr_deploy_watchlist_cap_set(lfr_store *s, int64_t cap, const lfr_actor *by,
                                        lfr_err *err) {
    lfr_status st = dp_actor_ok(by, err);
    if (st != LFR_OK) return st;
    if (cap < 1 || cap > LFR_MAX_WATCHLIST_ENTRIES)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "watchlist cap must be 1..%d",
                           LFR_MAX_WATCHLIST_ENTRIES);
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    int64_t old;
    st = lfr_deploy_watchlist_cap(s, &old);
    if (st == LFR_OK) st = lfr_store_setting_set_int(s, "watchlist.max_entries", cap);
    if (st == LFR_OK)
        st = dp_audit(s, by, LFR_AUDIT_SETTING_CHANGE, 0,
                   json_pack("{s:s, s:I, s:I}", "setting", "watchlist.max_entries", "old",
                             (json_int_t)old, "new", (json_int_t)cap),
                   err);
    return dp_finish(s, st);
}

/* Entries ------------------------------------------------------------------- */
static lfr_status image_ok(const uint8_t *image, size_t len, const float *tmpl, int dim,
                           lfr_err *err) {
    if (!image || len == 0) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "no image");
    if (len > LFR_MAX_IMAGE_BYTES)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "image of %zu bytes exceeds %u", len,
                           LFR_MAX_IMAGE_BYTES);
    if (!tmpl || dim <= 0 || dim > LFR_MAX_TEMPLATE_DIM)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "template dimension %d not in 1..%d", dim,
                           LFR_MAX_TEMPLATE_DIM);
    for (int i = 0; i < dim; i++)
        if (!isfinite(tmpl[i]))
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "template value %d is not finite", i);
    return LFR_OK;
}

/* accepted_by: who adds the photo (stored as its added_by, and as
 * warnings_accepted_by when it has warnings). */
static lfr_status insert_image(lfr_store *s, int64_t entry_id, const uint8_t *image, size_t len,
                               const float *tmpl, int dim, const lfr_image_provenance *prov,
                               const lfr_entry_warnings *w, const char *accepted_by,
                               int64_t *image_id, lfr_err *err) {
    uint8_t *simg = NULL, *stpl = NULL;
    size_t nimg = 0, ntpl = 0;
    char set[LFR_DEPLOY_MODEL_SET_MAX]; /* the deployment's model set: dim must be its */
    lfr_status st = dp_template_set_ok(s, entry_id, dim, set, err);
    if (st == LFR_OK) st = lfr_store_seal(s, image, len, &simg, &nimg);
    if (st == LFR_OK) st = lfr_store_seal(s, tmpl, (size_t)dim * sizeof(float), &stpl, &ntpl);
    lfr_store_stmt *q = NULL;
    int row;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "INSERT INTO entry_images(entry_id, image, template, "
                                    "template_dim, added_at, quality_warnings, "
                                    "warnings_accepted, warnings_accepted_by, model_set, "
                                    "image_source, image_date, added_by) "
                                    "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, entry_id);
        lfr_store_stmt_bind_blob(q, 2, simg, nimg);
        lfr_store_stmt_bind_blob(q, 3, stpl, ntpl);
        lfr_store_stmt_bind_int64(q, 4, dim);
        lfr_store_stmt_bind_int64(q, 5, lfr_store_now(s));
        int warned = w && w->warnings && w->warnings[0];
        lfr_store_stmt_bind_text(q, 6, warned ? w->warnings : NULL);
        lfr_store_stmt_bind_text(q, 7, warned ? w->accepted : NULL);
        lfr_store_stmt_bind_text(q, 8, warned ? accepted_by : NULL);
        lfr_store_stmt_bind_text(q, 9, set);
        lfr_store_stmt_bind_text(q, 10, prov ? prov->source : NULL);
        lfr_store_stmt_bind_text(q, 11, prov ? prov->date : NULL);
        lfr_store_stmt_bind_text(q, 12, accepted_by);
        st = lfr_store_stmt_step(q, &row, err);
        if (image_id) *image_id = lfr_store_last_id(s);
    }
    lfr_store_stmt_finalize(q);
    lfr_free(simg);
    lfr_free(stpl);
    return st;
}

static lfr_status require_draft_for_watchlist(lfr_store *s, int64_t dep, lfr_err *err) {
    lfr_deploy_state state;
    lfr_status st = dp_get_state(s, dep, &state, err);
    if (st == LFR_OK && state != LFR_DEPLOY_DRAFT) st = dp_locked_msg(err, dep, state, "watchlist");
    return st;
}

lfr_status lfr_deploy_entry_add(lfr_store *s, int64_t deployment_id, const lfr_watchlist_entry *e,
                                const uint8_t *image, size_t image_len, const float *tmpl,
                                int dim, const lfr_actor *by, int64_t *entry_id, lfr_err *err) {
    return lfr_deploy_entry_add_warned(s, deployment_id, e, NULL, image, image_len, tmpl, dim, by,
                                       entry_id, err);
}

/* Accepted warnings: a JSON array of at most LFR_MAX_QUALITY_WARNINGS
 * bytes, with the reason for accepting them. */
static lfr_status warnings_ok(const lfr_entry_warnings *w, json_t **parsed, lfr_err *err) {
    *parsed = NULL;
    if (!w || !w->warnings || !w->warnings[0]) return LFR_OK;
    if (strlen(w->warnings) > LFR_MAX_QUALITY_WARNINGS)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "quality warnings of %zu bytes exceed %d",
                           strlen(w->warnings), LFR_MAX_QUALITY_WARNINGS);
    lfr_status st = dp_text_ok(w->accepted, LFR_MAX_TEXT,
                               "reason for accepting the image's quality warnings", 1, err);
    if (st != LFR_OK) return st;
    json_t *j = json_loads(w->warnings, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_array(j) || json_array_size(j) == 0) {
        json_decref(j);
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "quality warnings must be a non-empty JSON array");
    }
    *parsed = j;
    return LFR_OK;
}

lfr_status lfr_deploy_entry_add_warned(lfr_store *s, int64_t deployment_id,
                                       const lfr_watchlist_entry *e,
                                       const lfr_entry_warnings *w, const uint8_t *image,
                                       size_t image_len, const float *tmpl, int dim,
                                       const lfr_actor *by, int64_t *entry_id, lfr_err *err) {
    if (entry_id) *entry_id = 0;
    json_t *wj = NULL;
    lfr_status st = dp_actor_ok(by, err);
    if (st == LFR_OK) st = dp_text_ok(e->subject_ref, LFR_MAX_ACTOR, "subject reference", 1, err);
    if (st == LFR_OK) st = dp_text_ok(e->display_name, LFR_MAX_ACTOR, "display name", 1, err);
    if (st == LFR_OK && (unsigned)e->category >= LFR_WATCHLIST_CATEGORY_COUNT)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "unknown watchlist category");
    if (st == LFR_OK)
        st = dp_text_ok(e->category_other, LFR_MAX_TEXT, "category description (for 'other')",
                     e->category == LFR_WATCHLIST_OTHER, err);
    if (st == LFR_OK) st = dp_text_ok(e->reason, LFR_MAX_TEXT, "reason for inclusion", 1, err);
    if (st == LFR_OK) st = dp_text_ok(e->image_source, LFR_MAX_TEXT, "image source", 1, err);
    if (st == LFR_OK) st = dp_date_ok(e->image_date, lfr_store_now(s), "image date", err);
    if (st == LFR_OK)
        st = dp_text_ok(e->under_18_justification, LFR_MAX_TEXT,
                     "justification for including a person under 18", e->under_18 != 0, err);
    if (st == LFR_OK) st = image_ok(image, image_len, tmpl, dim, err);
    if (st == LFR_OK) st = warnings_ok(w, &wj, err);
    if (st == LFR_OK) st = lfr_store_tx_begin(s);
    if (st != LFR_OK) {
        json_decref(wj);
        return st;
    }
    st = require_draft_for_watchlist(s, deployment_id, err);
    int64_t count = 0, cap = 0;
    if (st == LFR_OK) st = lfr_deploy_watchlist_cap(s, &cap);
    if (st == LFR_OK)
        st = lfr_store_query_int64(s, "SELECT count(*) FROM watchlist_entries WHERE deployment_id = ?",
                                   1, deployment_id, 0, &count, err);
    int64_t dup = 0;
    if (st == LFR_OK) {
        lfr_store_stmt *d;
        st = lfr_store_stmt_prepare(s, "SELECT id FROM watchlist_entries WHERE deployment_id = ? "
                                       "AND subject_ref = ?", &d, err);
        if (st == LFR_OK) {
            int r = 0;
            lfr_store_stmt_bind_int64(d, 1, deployment_id);
            lfr_store_stmt_bind_text(d, 2, e->subject_ref);
            st = lfr_store_stmt_step(d, &r, err);
            if (st == LFR_OK && r) dup = lfr_store_stmt_int64(d, 0);
            lfr_store_stmt_finalize(d);
        }
    }
    if (st == LFR_OK && dup)
        st = lfr_err_set(err, LFR_ERR_EXISTS,
                         "subject %s is already on the list of deployment %lld (entry %lld)",
                         e->subject_ref, (long long)deployment_id, (long long)dup);
    if (st == LFR_OK && count >= cap)
        st = lfr_err_set(err, LFR_ERR_TOO_LARGE,
                         "deployment %lld already has %lld watchlist entries, the cap of this "
                         "installation", (long long)deployment_id, (long long)count);
    lfr_store_stmt *q;
    int row;
    int64_t eid = 0, iid = 0;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "INSERT INTO watchlist_entries(deployment_id, subject_ref, "
                                    "display_name, category, category_other, reason, image_source, "
                                    "image_date, added_by, added_at, under_18, "
                                    "under_18_justification) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                                    &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, deployment_id);
        lfr_store_stmt_bind_text(q, 2, e->subject_ref);
        lfr_store_stmt_bind_text(q, 3, e->display_name);
        lfr_store_stmt_bind_text(q, 4, lfr_watchlist_category_name(e->category));
        lfr_store_stmt_bind_text(q, 5, e->category == LFR_WATCHLIST_OTHER ? e->category_other : NULL);
        lfr_store_stmt_bind_text(q, 6, e->reason);
        lfr_store_stmt_bind_text(q, 7, e->image_source);
        lfr_store_stmt_bind_text(q, 8, e->image_date);
        lfr_store_stmt_bind_text(q, 9, by->name);
        lfr_store_stmt_bind_int64(q, 10, lfr_store_now(s));
        lfr_store_stmt_bind_int64(q, 11, e->under_18 ? 1 : 0);
        lfr_store_stmt_bind_text(q, 12, e->under_18 ? e->under_18_justification : NULL);
        st = lfr_store_stmt_step(q, &row, err);
        eid = lfr_store_last_id(s);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK)
        st = insert_image(s, eid, image, image_len, tmpl, dim, NULL, w, by->name, &iid, err);
    if (st == LFR_OK) {
        json_t *j = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:b}", "entry", (json_int_t)eid,
                              "image_id", (json_int_t)iid, "subject_ref", e->subject_ref,
                              "category", lfr_watchlist_category_name(e->category), "reason",
                              e->reason, "image_source", e->image_source, "image_date",
                              e->image_date, "under_18", e->under_18 != 0);
        if (j && e->under_18)
            json_object_set_new(j, "under_18_justification", json_string(e->under_18_justification));
        if (j && e->category == LFR_WATCHLIST_OTHER)
            json_object_set_new(j, "category_other", json_string(e->category_other));
        if (j && wj) { /* the officer's acceptance of the image's warnings */
            json_object_set(j, "quality_warnings", wj);
            json_object_set_new(j, "warnings_accepted", json_string(w->accepted));
        }
        st = dp_audit(s, by, LFR_AUDIT_WATCHLIST_ADD, deployment_id, j, err);
    }
    json_decref(wj);
    st = dp_finish(s, st);
    if (st == LFR_OK && entry_id) *entry_id = eid;
    return st;
}

lfr_status lfr_deploy_entry_image_add(lfr_store *s, int64_t entry_id, const uint8_t *image,
                                      size_t image_len, const float *tmpl, int dim,
                                      const lfr_actor *by, int64_t *image_id, lfr_err *err) {
    return lfr_deploy_entry_image_add_warned(s, entry_id, NULL, NULL, image, image_len, tmpl, dim,
                                             by, image_id, err);
}

lfr_status lfr_deploy_entry_image_add_warned(lfr_store *s, int64_t entry_id,
                                             const lfr_image_provenance *prov,
                                             const lfr_entry_warnings *w, const uint8_t *image,
                                             size_t image_len, const float *tmpl, int dim,
                                             const lfr_actor *by, int64_t *image_id,
                                             lfr_err *err) {
    if (image_id) *image_id = 0;
    json_t *warn = NULL;
    lfr_status st = dp_actor_ok(by, err);
    if (st == LFR_OK) st = image_ok(image, image_len, tmpl, dim, err);
    if (st == LFR_OK && prov) st = dp_text_ok(prov->source, LFR_MAX_TEXT, "image source", 1, err);
    if (st == LFR_OK && prov) st = dp_date_ok(prov->date, lfr_store_now(s), "image date", err);
    if (st == LFR_OK) st = warnings_ok(w, &warn, err);
    if (st != LFR_OK) {
        json_decref(warn);
        return st;
    }
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) {
        json_decref(warn);
        return st;
    }
    int64_t dep = 0, n = 0, iid = 0;
    st = lfr_store_query_int64(s, "SELECT deployment_id FROM watchlist_entries WHERE id = ?", 1,
                               entry_id, 0, &dep, err);
    if (st == LFR_OK && dep == 0)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no watchlist entry %lld", (long long)entry_id);
    if (st == LFR_OK) st = require_draft_for_watchlist(s, dep, err);
    if (st == LFR_OK)
        st = lfr_store_query_int64(s, "SELECT count(*) FROM entry_images WHERE entry_id = ?", 1,
                                   entry_id, 0, &n, err);
    if (st == LFR_OK && n >= LFR_MAX_ENTRY_IMAGES)
        st = lfr_err_set(err, LFR_ERR_TOO_LARGE, "watchlist entry %lld already has %d images",
                         (long long)entry_id, LFR_MAX_ENTRY_IMAGES);
    if (st == LFR_OK)
        st = insert_image(s, entry_id, image, image_len, tmpl, dim, prov, w, by->name, &iid, err);
    if (st == LFR_OK) {
        json_t *j = json_pack("{s:I, s:I, s:I}", "entry", (json_int_t)entry_id, "image_id",
                              (json_int_t)iid, "image_count", (json_int_t)(n + 1));
        if (j && prov) {
            json_object_set_new(j, "image_source", json_string(prov->source));
            json_object_set_new(j, "image_date", json_string(prov->date));
        }
        if (j && warn) {
            json_object_set(j, "quality_warnings", warn);
            json_object_set_new(j, "warnings_accepted", json_string(w->accepted));
        }
        st = dp_audit(s, by, LFR_AUDIT_WATCHLIST_IMAGE_ADD, dep, j, err);
    }
    json_decref(warn);
    st = dp_finish(s, st);
    if (st == LFR_OK && image_id) *image_id = iid;
    return st;
}

lfr_status lfr_deploy_entry_templates(lfr_store *s, int64_t entry_id, float **tmpl, int *dim,
                                      size_t *n, lfr_err *err) {
    *tmpl = NULL;
    *dim = 0;
    *n = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "SELECT id, template_dim, template FROM entry_images WHERE entry_id = ? ORDER BY id", &q,
        err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, entry_id);
    float *out = NULL;
    size_t k = 0;
    int row = 0;
    while ((st = lfr_store_stmt_step(q, &row, err)) == LFR_OK && row) {
        int d = (int)lfr_store_stmt_int64(q, 1);
        if (d <= 0 || d > LFR_MAX_TEMPLATE_DIM || (*dim && d != *dim)) {
            st = lfr_err_set(err, LFR_ERR_CORRUPT, "watchlist entry %lld holds templates of "
                             "different or impossible sizes", (long long)entry_id);
            break;
        }
        if (k >= LFR_MAX_ENTRY_IMAGES) break;
        if (!out && !(out = lfr_calloc(LFR_MAX_ENTRY_IMAGES, sizeof(float) * (size_t)d))) {
            st = lfr_err_set(err, LFR_ERR_NOMEM, "no memory for the entry's templates");
            break;
        }
        *dim = d;
        size_t blen = 0, plen = 0;
        const void *b = lfr_store_stmt_blob(q, 2, &blen);
        uint8_t *plain = NULL;
        st = lfr_store_unseal(s, b, blen, &plain, &plen);
        if (st == LFR_OK && plen != (size_t)d * sizeof(float)) st = LFR_ERR_CORRUPT;
        if (st == LFR_OK) memcpy(out + k * (size_t)d, plain, plen);
        if (plain) sodium_memzero(plain, plen);
        lfr_free(plain);
        if (st != LFR_OK) {
            lfr_err_set(err, st, "watchlist template of image %lld does not decrypt: altered or "
                                 "wrong key", (long long)lfr_store_stmt_int64(q, 0));
            break;
        }
        k++;
    }
    lfr_store_stmt_finalize(q);
    if (st == LFR_OK && k == 0)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "watchlist entry %lld has no images",
                         (long long)entry_id);
    if (st != LFR_OK) {
        if (out) sodium_memzero(out, sizeof(float) * (size_t)(*dim > 0 ? *dim : 1) * LFR_MAX_ENTRY_IMAGES);
        lfr_free(out);
        *dim = 0;
        return st;
    }
    *tmpl = out;
    *n = k;
    return LFR_OK;
}

lfr_status lfr_deploy_entry_remove(lfr_store *s, int64_t entry_id, const lfr_actor *by,
                                   const char *reason, lfr_err *err) {
    lfr_status st = dp_actor_ok(by, err);
    if (st == LFR_OK) st = dp_text_ok(reason, LFR_MAX_TEXT, "reason for removal", 1, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    int64_t dep = 0, images = 0;
    st = lfr_store_query_int64(s, "SELECT deployment_id FROM watchlist_entries WHERE id = ?", 1,
                               entry_id, 0, &dep, err);
    if (st == LFR_OK && dep == 0)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no watchlist entry %lld", (long long)entry_id);
    if (st == LFR_OK) st = require_draft_for_watchlist(s, dep, err);
    if (st == LFR_OK) st = dp_delete_entry(s, entry_id, &images, err);
    if (st == LFR_OK)
        st = dp_audit(s, by, LFR_AUDIT_WATCHLIST_REMOVE, dep,
                   json_pack("{s:I, s:I, s:s}", "entry", (json_int_t)entry_id, "image_count",
                             (json_int_t)images, "reason", reason), err);
    return dp_finish(s, st);
}

static void fill_entry(lfr_store_stmt *q, void *elem) {
    lfr_watchlist_entry_info *e = elem;
    e->id = lfr_store_stmt_int64(q, 0);
    e->deployment_id = lfr_store_stmt_int64(q, 1);
    COPY(e->subject_ref, lfr_store_stmt_text(q, 2));
    COPY(e->display_name, lfr_store_stmt_text(q, 3));
    if (lfr_watchlist_category_parse(lfr_store_stmt_text(q, 4), &e->category) != LFR_OK)
        e->category = LFR_WATCHLIST_OTHER;
    COPY(e->category_other, lfr_store_stmt_text(q, 5));
    COPY(e->reason, lfr_store_stmt_text(q, 6));
    COPY(e->image_source, lfr_store_stmt_text(q, 7));
    COPY(e->image_date, lfr_store_stmt_text(q, 8));
    COPY(e->added_by, lfr_store_stmt_text(q, 9));
    e->added_at = lfr_store_stmt_int64(q, 10);
    e->under_18 = (int)lfr_store_stmt_int64(q, 11);
    COPY(e->under_18_justification, lfr_store_stmt_text(q, 12));
    e->images = lfr_store_stmt_int64(q, 13);
    COPY(e->quality_warnings, lfr_store_stmt_text(q, 14));
    COPY(e->warnings_accepted, lfr_store_stmt_text(q, 15));
    COPY(e->warnings_accepted_by, lfr_store_stmt_text(q, 16));
    e->images_warned = lfr_store_stmt_int64(q, 17);
}

lfr_status lfr_deploy_entry_list(lfr_store *s, int64_t deployment_id,
                                 lfr_watchlist_entry_info **out, size_t *n, lfr_err *err) {
    *out = NULL;
    *n = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "SELECT e.id, e.deployment_id, e.subject_ref, e.display_name, e.category, "
           "e.category_other, e.reason, e.image_source, e.image_date, e.added_by, e.added_at, "
           "e.under_18, e.under_18_justification, "
           "(SELECT count(*) FROM entry_images i WHERE i.entry_id = e.id), "
           "f.quality_warnings, f.warnings_accepted, f.warnings_accepted_by, "
           "(SELECT count(*) FROM entry_images i WHERE i.entry_id = e.id AND "
           " i.quality_warnings IS NOT NULL) "
           "FROM watchlist_entries e LEFT JOIN entry_images f ON f.id = "
           "coalesce((SELECT min(id) FROM entry_images WHERE entry_id = e.id AND "
           "quality_warnings IS NOT NULL), (SELECT min(id) FROM entry_images WHERE entry_id = e.id)) "
           "WHERE e.deployment_id = ? ORDER BY e.id", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, deployment_id);
    void *arr = NULL;
    st = dp_rows(q, sizeof(lfr_watchlist_entry_info), fill_entry, &arr, n, err);
    *out = arr;
    return st;
}

static void fill_photo(lfr_store_stmt *q, void *elem) {
    lfr_entry_photo_info *p = elem;
    p->id = lfr_store_stmt_int64(q, 0);
    p->entry_id = lfr_store_stmt_int64(q, 1);
    p->first = (int)lfr_store_stmt_int64(q, 2);
    COPY(p->source, lfr_store_stmt_text(q, 3));
    COPY(p->date, lfr_store_stmt_text(q, 4));
    COPY(p->added_by, lfr_store_stmt_text(q, 5));
    p->added_at = lfr_store_stmt_int64(q, 6);
    COPY(p->quality_warnings, lfr_store_stmt_text(q, 7));
    COPY(p->warnings_accepted, lfr_store_stmt_text(q, 8));
    COPY(p->warnings_accepted_by, lfr_store_stmt_text(q, 9));
}

lfr_status lfr_deploy_entry_photos(lfr_store *s, int64_t entry_id, lfr_entry_photo_info **out,
                                   size_t *n, lfr_err *err) {
    *out = NULL;
    *n = 0;
    int64_t found = 0;
    lfr_status st = lfr_store_query_int64(s, "SELECT count(*) FROM watchlist_entries WHERE id = ?",
                                          1, entry_id, 0, &found, err);
    if (st == LFR_OK && !found)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no watchlist entry %lld", (long long)entry_id);
    if (st != LFR_OK) return st;
    /* the first photo's source, date and adder are the entry's own */
    lfr_store_stmt *q;
    st = lfr_store_stmt_prepare(
        s, "SELECT i.id, i.entry_id, i.first, "
           "coalesce(i.image_source, CASE WHEN i.first THEN e.image_source END), "
           "coalesce(i.image_date, CASE WHEN i.first THEN e.image_date END), "
           "coalesce(i.added_by, CASE WHEN i.first THEN e.added_by END), i.added_at, "
           "i.quality_warnings, i.warnings_accepted, i.warnings_accepted_by "
           "FROM (SELECT *, id = (SELECT min(id) FROM entry_images WHERE entry_id = ?1) AS first "
           "      FROM entry_images WHERE entry_id = ?1) i "
           "JOIN watchlist_entries e ON e.id = i.entry_id ORDER BY i.id", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, entry_id);
    void *arr = NULL;
    st = dp_rows(q, sizeof(lfr_entry_photo_info), fill_photo, &arr, n, err);
    *out = arr;
    return st;
}

lfr_status lfr_deploy_entry_image_load(lfr_store *s, int64_t image_id, uint8_t **image,
                                       size_t *len, lfr_err *err) {
    *image = NULL;
    *len = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT image FROM entry_images WHERE id = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, image_id);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && !row) st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no watchlist image %lld", (long long)image_id);
    if (st == LFR_OK) {
        size_t n = 0;
        const void *b = lfr_store_stmt_blob(q, 0, &n);
        st = lfr_store_unseal(s, b, n, image, len);
        if (st == LFR_ERR_INTEGRITY)
            lfr_err_set(err, st, "watchlist image %lld does not decrypt: altered or wrong key",
                        (long long)image_id);
    }
    lfr_store_stmt_finalize(q);
    return st;
}

/* Templates ----------------------------------------------------------------- */
void lfr_deploy_templates_free(lfr_deploy_templates *t) {
    if (!t) return;
    if (t->data) sodium_memzero(t->data, t->n * (size_t)t->dim * sizeof(float));
    lfr_free(t->data);
    lfr_free(t->entry_ids);
    lfr_free(t->image_ids);
    memset(t, 0, sizeof *t);
}

lfr_status lfr_deploy_templates_load(lfr_store *s, int64_t deployment_id,
                                     lfr_deploy_templates *out, lfr_err *err) {
    memset(out, 0, sizeof *out);
    lfr_status st = lfr_store_tx_begin(s); /* one snapshot */
    if (st != LFR_OK) return st;
    st = lfr_deploy_require_live(s, deployment_id, err);
    if (st == LFR_OK) st = dp_watchlist_verify(s, deployment_id, err);
    int64_t n = 0;
    double thr = 0;
    lfr_store_stmt *q = NULL;
    int row = 0;
    if (st == LFR_OK)
        st = lfr_store_query_int64(s, "SELECT count(*) FROM entry_images i JOIN watchlist_entries e "
                                      "ON i.entry_id = e.id WHERE e.deployment_id = ?",
                                   1, deployment_id, 0, &n, err);
    if (st == LFR_OK) st = dp_model_set_of(s, deployment_id, out->model_set, err);
    if (st == LFR_OK && (out->dim = dp_model_set_dim(out->model_set)) <= 0)
        st = lfr_err_set(err, LFR_ERR_CORRUPT, "deployment %lld has an unknown model set \"%s\"",
                         (long long)deployment_id, out->model_set);
    if (st == LFR_OK) {
        st = lfr_store_stmt_prepare(s, "SELECT threshold FROM deployments WHERE id = ?", &q, err);
        if (st == LFR_OK) {
            lfr_store_stmt_bind_int64(q, 1, deployment_id);
            st = lfr_store_stmt_step(q, &row, err);
            thr = lfr_store_stmt_double(q, 0);
            lfr_store_stmt_finalize(q);
            q = NULL;
        }
    }
    out->deployment_id = deployment_id;
    out->threshold = (float)thr;
    if (st == LFR_OK && n > 0) {
        out->entry_ids = lfr_calloc((size_t)n, sizeof(int64_t));
        out->image_ids = lfr_calloc((size_t)n, sizeof(int64_t));
        if (!out->entry_ids || !out->image_ids) st = LFR_ERR_NOMEM;
    }
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "SELECT i.entry_id, i.id, i.template_dim, i.template, i.model_set FROM "
                                    "entry_images i JOIN watchlist_entries e ON i.entry_id = e.id "
                                    "WHERE e.deployment_id = ? ORDER BY i.entry_id, i.id",
                                    &q, err);
    if (st == LFR_OK) lfr_store_stmt_bind_int64(q, 1, deployment_id);
    size_t k = 0;
    while (st == LFR_OK) {
        st = lfr_store_stmt_step(q, &row, err);
        if (st != LFR_OK || !row) break;
        if (k >= (size_t)n) { st = LFR_ERR_INTERNAL; break; }
        int dim = (int)lfr_store_stmt_int64(q, 2);
        if (strcmp(lfr_store_stmt_text(q, 4), out->model_set) != 0 || dim != out->dim) {
            st = lfr_err_set(err, LFR_ERR_CORRUPT,
                             "watchlist template of image %lld is of model set %s (%d values), "
                             "not deployment %lld's %s (%d): it cannot be matched",
                             (long long)lfr_store_stmt_int64(q, 1), lfr_store_stmt_text(q, 4), dim,
                             (long long)deployment_id, out->model_set, out->dim);
            break;
        }
        if (dim <= 0 || dim > LFR_MAX_TEMPLATE_DIM || (out->dim && dim != out->dim)) {
            st = lfr_err_set(err, LFR_ERR_CORRUPT,
                             "watchlist templates of deployment %lld have different dimensions "
                             "(%d and %d)", (long long)deployment_id, out->dim, dim);
            break;
        }
        if (!out->data) {
            size_t bytes;
            if (lfr_mul_size((size_t)n * (size_t)dim, sizeof(float), &bytes) != 0) {
                st = LFR_ERR_TOO_LARGE;
                break;
            }
            out->data = lfr_malloc(bytes);
            if (!out->data) { st = LFR_ERR_NOMEM; break; }
            out->dim = dim;
        }
        size_t blen = 0, plen = 0;
        const void *b = lfr_store_stmt_blob(q, 3, &blen);
        uint8_t *plain = NULL;
        st = lfr_store_unseal(s, b, blen, &plain, &plen);
        if (st == LFR_OK && plen != (size_t)dim * sizeof(float))
            st = LFR_ERR_CORRUPT;
        if (st != LFR_OK) {
            if (plain) sodium_memzero(plain, plen);
            lfr_free(plain);
            lfr_err_set(err, st, "watchlist template of image %lld does not decrypt: altered or "
                                 "wrong key", (long long)lfr_store_stmt_int64(q, 1));
            break;
        }
        memcpy(out->data + k * (size_t)dim, plain, plen);
        sodium_memzero(plain, plen);
        lfr_free(plain);
        out->entry_ids[k] = lfr_store_stmt_int64(q, 0);
        out->image_ids[k] = lfr_store_stmt_int64(q, 1);
        k++;
        out->n = k;
    }
    lfr_store_stmt_finalize(q);
    lfr_store_tx_rollback(s); /* read only */
    if (st != LFR_OK) lfr_deploy_templates_free(out);
    return st;
}

