/*
 * ops_watchlist.c - watchlist entries: add (quality-controlled), import
 * (a folder and manifest on the van's machine, or rows with their images
 * in base64), list, remove, and the image of an entry.
 */
#include <sodium.h>
#include <string.h>

#include "app_int.h"

/* The entry fields of an object (args, or one import row) into e; the
 * strings point into obj.  `where` names the row in sentences. */
static lfr_status entry_of(const json_t *obj, lfr_watchlist_entry *e, const char *where,
                           lfr_err *err) {
    memset(e, 0, sizeof *e);
#define S(k) (json_is_string(json_object_get(obj, k)) ? json_string_value(json_object_get(obj, k)) : NULL)
    e->subject_ref = S("subject_ref");
    e->display_name = S("display_name");
    e->category_other = S("category_other");
    e->reason = S("reason");
    e->image_source = S("image_source");
    e->image_date = S("image_date");
    e->under_18_justification = S("under_18_justification");
    const char *cat = S("category");
#undef S
    json_t *u = json_object_get(obj, "under_18");
    e->under_18 = json_is_true(u) || (json_is_integer(u) && json_integer_value(u) == 1);
    if (!cat) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: category is required", where);
    if (lfr_watchlist_category_parse(cat, &e->category) != LFR_OK)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "%s: category '%.40s' is not one of wanted_on_warrant, "
                           "wanted_for_offence, missing, vulnerable, other", where, cat);
    return LFR_OK;
}

/* Quality control's assessment: the grade, why, the measured values and
 * each warning with its measured effect (docs/quality.md, "Grades").
 * "measured" holds only what was measured: a photo refused with no face
 * has nothing; one refused with several faces or a face too small has what
 * the detector gave of its largest face (score, eye distance), none of the
 * measures of an aligned face, which were never taken. */
static json_t *quality_json(const lfr_enrol_result *r) {
    json_t *w = json_array();
    for (int i = 0; w && i < r->n_warn; i++)
        json_array_append_new(w, json_pack("{s:s, s:f, s:f, s:s}", "kind",
                                           lfr_enrol_warn_name(r->warn[i].kind), "value",
                                           (double)r->warn[i].value, "cutoff",
                                           (double)r->warn[i].cutoff, "text", r->warn[i].text));
    const lfr_enrol_measures *m = &r->m;
    int detected = r->reject == LFR_ENROL_NONE || r->reject == LFR_ENROL_MULTIPLE_FACES ||
                   r->reject == LFR_ENROL_TOO_SMALL;
    json_t *mj = detected ? json_pack("{s:f, s:f}", "score", (double)r->face.score,
                                      "eye_distance", (double)r->face.q.eye_dist)
                          : json_object();
    if (mj && r->reject == LFR_ENROL_NONE) {
        json_t *more = json_pack("{s:f, s:f, s:f, s:f, s:b, s:f, s:f}", "sharpness",
                                 (double)m->sharpness, "yaw", (double)m->yaw, "pitch",
                                 (double)m->pitch, "roll", (double)m->roll, "at_edge",
                                 m->at_edge > 0.5f, "brightness", (double)m->brightness,
                                 "uneven_light", (double)m->uneven);
        if (!more || json_object_update(mj, more) != 0) json_decref(mj), mj = NULL;
        json_decref(more);
    }
    if (!mj) {
        json_decref(w);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "grade", lfr_enrol_grade_name(r->grade),
                     "reject", lfr_enrol_reject_name(r->reject), "why", r->why, "warnings",
                     w ? w : json_array(), "measured", mj);
}

/* Entry `id` of the call's deployment as JSON (NULL if not listed). */
static json_t *entry_json(app_call *c, int64_t id) {
    lfr_watchlist_entry_info *list = NULL;
    size_t n = 0;
    json_t *entry = NULL;
    if (lfr_deploy_entry_list(c->s, c->deployment_id, &list, &n, c->err) == LFR_OK)
        for (size_t i = 0; i < n && !entry; i++)
            if (list[i].id == id) entry = lfr_json_entry(&list[i]);
    lfr_free(list);
    return entry;
}

lfr_status app_op_WATCHLIST_ADD(app_call *c) {
    lfr_watchlist_entry e;
    lfr_status st = entry_of(c->args, &e, "watchlist.add", c->err);
    if (st != LFR_OK) return st;
    lfr_face_ctx *fc;
    if ((st = app_face_take(c->app, &fc, c->err)) != LFR_OK) return st;
    lfr_enrol_result *r = lfr_calloc(1, sizeof *r);
    int64_t id = 0;
    if (!r) st = LFR_ERR_NOMEM;
    else
        st = lfr_enrol_add(c->s, fc, c->deployment_id, &e, c->req->blob, c->req->blob_len,
                           &lfr_enrol_params_default, app_arg_str(c, "accept_warnings"), &c->by,
                           &id, r, c->err);
    app_face_give(c->app, fc);
    if (st == LFR_ERR_QUALITY) {
        if (r->grade == LFR_ENROL_GRADE_REJECT)
            lfr_err_set(c->err, st, "watchlist.add: image rejected (%s): %s",
                        lfr_enrol_reject_name(r->reject), r->why);
        else {
            lfr_err w = *c->err;
            lfr_err_set(c->err, st, "watchlist.add: %.230s", w.msg);
        }
        /* the refusal's details: kept in the body of a failed call */
        app_answer(c, json_pack("{s:o}", "quality", quality_json(r)));
    }
    if (st == LFR_OK) {
        json_t *entry = entry_json(c, id);
        st = app_answer(c, json_pack("{s:I, s:o, s:o}", "id", (json_int_t)id, "entry",
                                     entry ? entry : json_null(), "quality", quality_json(r)));

    }
    lfr_free(r);
    return st;
}

lfr_status app_op_WATCHLIST_ADD_PHOTO(app_call *c) {
    int64_t entry = app_arg_id(c, "id");
    lfr_image_provenance prov = {app_arg_str(c, "image_source"), app_arg_str(c, "image_date")};
    lfr_face_ctx *fc;
    lfr_status st = app_face_take(c->app, &fc, c->err);
    if (st != LFR_OK) return st;
    lfr_enrol_result *r = lfr_calloc(1, sizeof *r);
    int64_t image = 0;
    float sim = 0;
    if (!r) st = LFR_ERR_NOMEM;
    else
        st = lfr_enrol_add_image(c->s, fc, entry, &prov, c->req->blob, c->req->blob_len,
                                 &lfr_enrol_params_default, app_arg_str(c, "accept_warnings"),
                                 &c->by, &image, &sim, r, c->err);
    app_face_give(c->app, fc);
    if (st == LFR_ERR_QUALITY) {
        lfr_err w = *c->err;
        if (r->grade == LFR_ENROL_GRADE_REJECT)
            lfr_err_set(c->err, st, "watchlist.add_photo: photo rejected (%s): %.200s",
                        lfr_enrol_reject_name(r->reject), r->why);
        else
            lfr_err_set(c->err, st, "watchlist.add_photo: %.230s", w.msg);
        app_answer(c, json_pack("{s:o, s:f}", "quality", quality_json(r), "similarity",
                                (double)sim));
    }
    if (st == LFR_OK) {
        json_t *e = entry_json(c, entry);
        st = app_answer(c, json_pack("{s:I, s:I, s:f, s:o, s:o}", "id", (json_int_t)entry, "image",
                                     (json_int_t)image, "similarity", (double)sim, "entry",
                                     e ? e : json_null(), "quality", quality_json(r)));
    }
    lfr_free(r);
    return st;
}

/* Import --------------------------------------------------------------------------- */
typedef struct import_ctx {
    json_t *rows;
} import_ctx;

static void import_row_fn(void *ctx, int line, const char *file, lfr_status st, const char *msg,
                          int64_t entry_id) {
    /* msg: "added", "added, 1 quality warning accepted: ...", or why not */
    import_ctx *ic = ctx;
    json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:o}", "line", line, "file", file ? file : "",
                          "status", st == LFR_OK ? "added" : lfr_status_str(st), "message",
                          msg ? msg : "", "entry", entry_id > 0 ? json_integer(entry_id) : json_null());
    if (o) json_array_append_new(ic->rows, o);
}

static lfr_status import_rows(app_call *c, lfr_face_ctx *fc, json_t *rows, int *added,
                              int *rejected, json_t *report) {
    lfr_enrol_result *r = lfr_calloc(1, sizeof *r);
    if (!r) return LFR_ERR_NOMEM;
    lfr_status sys = LFR_OK;
    for (size_t i = 0; i < json_array_size(rows) && sys == LFR_OK; i++) {
        json_t *row = json_array_get(rows, i);
        char where[48];
        snprintf(where, sizeof where, "rows[%zu]", i);
        lfr_err e = {{0}};
        lfr_watchlist_entry en;
        lfr_status st = LFR_OK;
        uint8_t *img = NULL;
        size_t img_len = 0;
        int64_t id = 0;
        /* no unknown fields: a misspelt one would be silently dropped */
        static const char *known[] = {"subject_ref", "display_name", "category", "category_other",
                                      "reason", "image_source", "image_date", "under_18",
                                      "under_18_justification", "image_base64"};
        const char *key;
        json_t *v;
        json_object_foreach(row, key, v) {
            int ok = 0;
            for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) ok |= !strcmp(key, known[k]);
            if (!ok && st == LFR_OK)
                st = lfr_err_set(&e, LFR_ERR_INVALID_ARG, "%s: unknown field '%.40s'", where, key);
        }
        if (st == LFR_OK) st = entry_of(row, &en, where, &e);
        const char *b64 = json_string_value(json_object_get(row, "image_base64"));
        if (st == LFR_OK && !b64)
            st = lfr_err_set(&e, LFR_ERR_INVALID_ARG, "%s: image_base64 is required", where);
        if (st == LFR_OK) {
            size_t n = strlen(b64), cap = n / 4 * 3 + 3;
            if (cap > LFR_MAX_IMAGE_BYTES + 3)
                st = lfr_err_set(&e, LFR_ERR_TOO_LARGE, "%s: the image is over %u bytes", where,
                                 LFR_MAX_IMAGE_BYTES);
            else if (!(img = lfr_malloc(cap ? cap : 1)))
                st = LFR_ERR_NOMEM;
            else if (sodium_base642bin(img, cap, b64, n, "\n\r ", &img_len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL) != 0)
                st = lfr_err_set(&e, LFR_ERR_INVALID_ARG, "%s: image_base64 is not base64", where);
        }
        if (st == LFR_OK)
            st = lfr_enrol_add(c->s, fc, c->deployment_id, &en, img, img_len,
                               &lfr_enrol_params_default, app_arg_str(c, "accept_warnings"),
                               &c->by, &id, r, &e);
        int warned = (st == LFR_OK || st == LFR_ERR_QUALITY) && r->grade == LFR_ENROL_GRADE_WARN;
        if (st == LFR_ERR_QUALITY && r->grade == LFR_ENROL_GRADE_REJECT)
            lfr_err_set(&e, st, "%s: %s", where, r->why);
        else if (st == LFR_ERR_QUALITY) {
            lfr_err w = e;
            lfr_err_set(&e, st, "%s: %.230s", where, w.msg);
        } else if (warned)
            lfr_err_set(&e, st, "added, %d quality warning%s accepted", r->n_warn,
                        r->n_warn == 1 ? "" : "s");
        lfr_free(img);
        if (st == LFR_ERR_NOMEM || st == LFR_ERR_IO || st == LFR_ERR_INTERNAL || st == LFR_ERR_BACKEND)
            sys = lfr_err_set(c->err, st, "watchlist.import stopped at %s: %s", where, e.msg);
        if (st == LFR_OK) (*added)++;
        else (*rejected)++;
        json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:o}", "row", (int)i, "subject_ref",
                              en.subject_ref && st != LFR_ERR_INVALID_ARG ? en.subject_ref : "",
                              "status", st == LFR_OK ? "added" : lfr_status_str(st), "message",
                              st == LFR_OK && !warned ? "added" : e.msg, "entry",
                              id > 0 ? json_integer(id) : json_null());
        if (o && warned) json_object_set_new(o, "quality", quality_json(r));
        if (o) json_array_append_new(report, o);
    }
    lfr_free(r);
    return sys;
}

lfr_status app_op_WATCHLIST_IMPORT(app_call *c) {
    const char *dir = app_arg_str(c, "dir"), *manifest = app_arg_str(c, "manifest");
    json_t *rows = json_object_get(c->args, "rows");
    int files = dir || manifest, inline_rows = rows && !json_is_null(rows);
    if (files == inline_rows || (files && (!dir || !manifest)))
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                           "watchlist.import: give either dir and manifest (files on this "
                           "machine) or rows (with their images in base64)");
    if (files && c->who && (c->who->session_id > 0 || c->who->device_id > 0))
        return lfr_err_set(c->err, LFR_ERR_PERMISSION,
                           "watchlist.import: dir and manifest name files on the van's machine: "
                           "only from its command line; send rows instead");
    lfr_face_ctx *fc;
    lfr_status st = app_face_take(c->app, &fc, c->err);
    if (st != LFR_OK) return st;
    int added = 0, rejected = 0;
    import_ctx ic = {json_array()};
    if (!ic.rows) st = LFR_ERR_NOMEM;
    else if (files)
        st = lfr_enrol_import(c->s, fc, c->deployment_id, dir, manifest, &lfr_enrol_params_default,
                              app_arg_str(c, "accept_warnings"), &c->by, import_row_fn, &ic,
                              &added, &rejected, c->err);
    else
        st = import_rows(c, fc, rows, &added, &rejected, ic.rows);
    app_face_give(c->app, fc);
    /* the import itself, once, with its counts (each added entry also has
     * its own watchlist.add record) */
    if (st == LFR_OK) {
        json_t *d = json_pack("{s:s, s:i, s:i}", "source", files ? "manifest" : "rows", "added",
                              added, "rejected", rejected);
        const char *acc = app_arg_str(c, "accept_warnings");
        if (d && acc && acc[0]) json_object_set_new(d, "warnings_accepted", json_string(acc));
        char *txt = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(d);
        st = txt ? lfr_audit_append(c->s, &c->by, LFR_AUDIT_WATCHLIST_IMPORT, c->deployment_id, txt,
                                    NULL, c->err)
                 : LFR_ERR_NOMEM;
        free(txt);
    }
    if (st == LFR_OK)
        st = app_answer(c, json_pack("{s:I, s:i, s:i, s:O}", "deployment",
                                     (json_int_t)c->deployment_id, "added", added, "rejected",
                                     rejected, "rows", ic.rows));
    json_decref(ic.rows);
    return st;
}

lfr_status app_op_WATCHLIST_LIST(app_call *c) {
    lfr_watchlist_entry_info *list = NULL;
    size_t n = 0;
    lfr_status st = lfr_deploy_entry_list(c->s, c->deployment_id, &list, &n, c->err);
    json_t *arr = st == LFR_OK ? json_array() : NULL;
    for (size_t i = 0; arr && i < n; i++) json_array_append_new(arr, lfr_json_entry(&list[i]));
    lfr_free(list);
    if (st != LFR_OK) return st;
    return app_answer(c, arr ? json_pack("{s:I, s:o}", "deployment", (json_int_t)c->deployment_id,
                                         "entries", arr)
                             : NULL);
}

lfr_status app_op_WATCHLIST_PHOTOS(app_call *c) {
    int64_t id = app_arg_id(c, "id");
    lfr_entry_photo_info *list = NULL;
    size_t n = 0;
    lfr_status st = lfr_deploy_entry_photos(c->s, id, &list, &n, c->err);
    json_t *arr = st == LFR_OK ? json_array() : NULL;
    for (size_t i = 0; arr && i < n; i++) json_array_append_new(arr, lfr_json_entry_photo(&list[i]));
    lfr_free(list);
    if (st != LFR_OK) return st;
    return app_answer(c, arr ? json_pack("{s:I, s:o}", "entry", (json_int_t)id, "photos", arr)
                             : NULL);
}

lfr_status app_op_WATCHLIST_REMOVE(app_call *c) {
    int64_t id = app_arg_id(c, "id");
    lfr_status st = lfr_deploy_entry_remove(c->s, id, &c->by, app_arg_str(c, "reason"), c->err);
    if (st != LFR_OK) return st;
    return app_answer(c, json_pack("{s:I, s:b}", "id", (json_int_t)id, "removed", 1));
}

lfr_status app_op_WATCHLIST_IMAGE(app_call *c) {
    int64_t image = app_arg_id(c, "image");
    lfr_status st = LFR_OK;
    if (!image) {
        int64_t entry = app_arg_id(c, "entry");
        st = lfr_store_query_int64(c->s, "SELECT MIN(id) FROM entry_images WHERE entry_id = ?", 1,
                                   entry, 0, &image, c->err);
        if (st == LFR_OK && image <= 0)
            st = lfr_err_set(c->err, LFR_ERR_NOT_FOUND, "watchlist entry %lld has no image",
                             (long long)entry);
    }
    if (st == LFR_OK)
        st = lfr_deploy_entry_image_load(c->s, image, &c->res->blob, &c->res->blob_len, c->err);
    if (st != LFR_OK) return st;
    c->res->blob_type = c->res->blob_len >= 4 && !memcmp(c->res->blob, "\x89PNG", 4) ? "image/png"
                                                                                  : "image/jpeg";
    return app_answer(c, json_pack("{s:I, s:s}", "image", (json_int_t)image, "type", c->res->blob_type));
}
