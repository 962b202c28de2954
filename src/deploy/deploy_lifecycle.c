/*
 * deploy_lifecycle.c - deployments: create, threshold, read, authorise,
 * start, end, the watchlist digest.  See deploy.h.
 */
#include "deploy_int.h"
#include "match/match.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Thresholds from a target ------------------------------------------------- */
lfr_status lfr_deploy_threshold_for_target(double target, int64_t n_templates, int unusual_ok,
                                           float *t, lfr_err *err) {
    return lfr_deploy_threshold_for_target_set(NULL, target, n_templates, unusual_ok, t, err);
}

lfr_status lfr_deploy_threshold_for_target_set(const char *model_set, double target,
                                               int64_t n_templates, int unusual_ok, float *t,
                                               lfr_err *err) {
    *t = 0;
    const lfr_match_calibration *cal = lfr_match_calibration_named(model_set);
    float sane_min, sane_max;
    lfr_status st = lfr_deploy_model_set_thresholds(model_set, NULL, &sane_min, &sane_max, err);
    if (st != LFR_OK) return st;
    if (!isfinite(target) || target <= 0 || target > LFR_DEPLOY_MAX_TARGET_FALSE_ALERTS)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "target of %g false alerts per 10,000 faces is not possible: give a "
                           "number above 0 and at most %g", target,
                           LFR_DEPLOY_MAX_TARGET_FALSE_ALERTS);
    if (n_templates < 0 || n_templates > (int64_t)LFR_MAX_WATCHLIST_TEMPLATES)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "watchlist size %lld is outside 0..%u templates", (long long)n_templates,
                           (unsigned)LFR_MAX_WATCHLIST_TEMPLATES);
    float d;
    st = lfr_match_cal_threshold_for_false_alerts(cal, target, (size_t)n_templates, &d);
    lfr_match_threshold_meaning m;
    lfr_match_cal_threshold_info(cal, d, (size_t)n_templates, &m);
    const char *who = m.worst_name ? m.worst_name : "LFW (no group measured)";
    if (st != LFR_OK || d >= 1.0f)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "no threshold below 1 keeps the expected false alerts for %s under "
                           "%g per 10,000 faces with %lld templates: allow more false alerts "
                           "or list fewer images", who, target,
                           (long long)n_templates);
    if (d < sane_min) d = sane_min; /* fewer alerts still meet it */
    *t = d;
    if (d > sane_max && !unusual_ok)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "a target of %g false alerts per 10,000 faces with %lld templates "
                           "needs threshold %.3f for the worst-served group (%s), above the sane "
                           "maximum %.2f: most listed people would be missed (expected share "
                           "found %.0f %%, LFW); set a smaller list or larger target, or confirm "
                           "with the unusual-threshold flag",
                           target, (long long)n_templates, (double)d, who,
                           (double)sane_max, 100 * m.tar);
    return LFR_OK;
}

/* The meaning of threshold t for n templates, as the audit records it. */
static json_t *meaning_json(const char *model_set, float t, int64_t n) {
    lfr_match_threshold_meaning m;
    lfr_match_cal_threshold_info(lfr_match_calibration_named(model_set), t,
                                 (size_t)(n > 0 ? n : 0), &m);
    return json_pack("{s:f, s:I, s:f, s:f, s:s?, s:f, s:f, s:f}", "threshold", dp_dec6(t),
                     "watchlist_size", (json_int_t)n, "fmr", m.fmr, "false_alerts_per_10k_faces",
                     dp_dec6(m.false_alerts_per_10k), "worst_group", m.worst_name,
                     "worst_fmr", m.worst_fmr, "worst_false_alerts_per_10k_faces",
                     dp_dec6(m.worst_false_alerts_per_10k), "share_found_lfw",
                     dp_dec6(m.tar));
}

/* Deployments -------------------------------------------------------------- */
lfr_status lfr_deploy_create(lfr_store *s, const lfr_deploy_params *p, const lfr_actor *by,
                             int64_t *id, lfr_err *err) {
    return lfr_deploy_create_for_target(s, p, NULL, by, id, err);
}

lfr_status lfr_deploy_create_for_target(lfr_store *s, const lfr_deploy_params *p,
                                        const lfr_deploy_target *tg, const lfr_actor *by,
                                        int64_t *id, lfr_err *err) {
    return lfr_deploy_create_in_set(s, p, tg, NULL, by, id, err);
}

lfr_status lfr_deploy_create_in_set(lfr_store *s, const lfr_deploy_params *p,
                                    const lfr_deploy_target *tg, const char *model_set,
                                    const lfr_actor *by, int64_t *id, lfr_err *err) {
    *id = 0;
    lfr_status st = dp_actor_ok(by, err);
    if (st == LFR_OK) st = dp_text_ok(p->name, LFR_MAX_TEXT, "name", 1, err);
    if (st == LFR_OK) st = dp_text_ok(p->location, LFR_MAX_TEXT, "location", 1, err);
    if (st == LFR_OK) st = dp_text_ok(p->purpose, LFR_MAX_TEXT, "purpose", 1, err);
    if (st == LFR_OK) st = dp_text_ok(p->legal_basis, LFR_MAX_TEXT, "legal basis", 1, err);
    if (st == LFR_OK) st = dp_text_ok(p->cameras, LFR_MAX_TEXT, "cameras", 0, err);
    const char *set = model_set ? model_set : "mfn192";
    if (st == LFR_OK) st = lfr_deploy_model_set_thresholds(set, NULL, NULL, NULL, err);
    float threshold = p->threshold;
    int64_t planned = tg && tg->planned_templates > 0 ? tg->planned_templates
                                                     : LFR_DEPLOY_PLANNED_TEMPLATES;
    int has_target = tg != NULL;
    double target = tg ? tg->false_alerts_per_10k : 0;
    if (st == LFR_OK && has_target && p->threshold != 0)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG,
                         "give either a threshold (%g) or a target of false alerts (%g), not "
                         "both: the threshold follows from the target",
                         (double)p->threshold, target);
    if (st == LFR_OK && has_target)
        st = lfr_deploy_threshold_for_target_set(set, target, planned,
                                                 p->unusual_threshold_ok, &threshold, err);
    if (st == LFR_OK) st = dp_threshold_ok(set, threshold, p->unusual_threshold_ok, err);
    if (st == LFR_OK && p->planned_end <= p->planned_start)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG,
                         "planned end %lld must be after planned start %lld",
                         (long long)p->planned_end, (long long)p->planned_start);
    int64_t now = lfr_store_now(s);
    if (st == LFR_OK && p->planned_end <= now)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG,
                         "planned end %lld is already past (it is now %lld): the deployment "
                         "could never go live", (long long)p->planned_end, (long long)now);
    if (st != LFR_OK) return st;

    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_store_stmt *q;
    int row;
    st = lfr_store_stmt_prepare(s,
                                "INSERT INTO deployments(name, location, purpose, legal_basis, "
                                "planned_start, planned_end, threshold, cameras, created_by, "
                                "created_at, target_false_alerts, target_templates, model_set) "
                                "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_text(q, 1, p->name);
        lfr_store_stmt_bind_text(q, 2, p->location);
        lfr_store_stmt_bind_text(q, 3, p->purpose);
        lfr_store_stmt_bind_text(q, 4, p->legal_basis);
        lfr_store_stmt_bind_int64(q, 5, p->planned_start);
        lfr_store_stmt_bind_int64(q, 6, p->planned_end);
        lfr_store_stmt_bind_double(q, 7, threshold);
        lfr_store_stmt_bind_text(q, 8, p->cameras ? p->cameras : "");
        lfr_store_stmt_bind_text(q, 9, by->name);
        lfr_store_stmt_bind_int64(q, 10, now);
        lfr_store_stmt_bind_double(q, 11, has_target ? target : 0.0);
        lfr_store_stmt_bind_int64(q, 12, has_target ? planned : 0);
        lfr_store_stmt_bind_text(q, 13, set);
        st = lfr_store_stmt_step(q, &row, err);
        *id = lfr_store_last_id(s);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK) st = dp_event(s, *id, by, "create", err);
    if (st == LFR_OK) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:f, s:s, s:s}", "name", p->name,
                              "location", p->location, "purpose", p->purpose, "legal_basis",
                              p->legal_basis, "planned_start", (json_int_t)p->planned_start,
                              "planned_end", (json_int_t)p->planned_end, "threshold",
                              dp_dec6(threshold), "cameras", p->cameras ? p->cameras : "",
                              "model_set", set);
        if (j && p->unusual_threshold_ok)
            json_object_set_new(j, "unusual_threshold_ok", json_true());
        if (j && has_target) {
            json_object_set_new(j, "target_false_alerts",
                                json_real(dp_dec6(target)));
            json_object_set_new(j, "threshold_derived", meaning_json(set, threshold, planned));
        }
        st = dp_audit(s, by, LFR_AUDIT_DEPLOYMENT_CREATE, *id, j, err);
    }
    st = dp_finish(s, st);
    if (st != LFR_OK) *id = 0;
    return st;
}

lfr_status lfr_deploy_set_threshold(lfr_store *s, int64_t id, float threshold,
                                    int unusual_threshold_ok, const lfr_actor *by, lfr_err *err) {
    lfr_status st = dp_actor_ok(by, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    char set[LFR_DEPLOY_MODEL_SET_MAX];
    lfr_deploy_state state;
    st = dp_get_state(s, id, &state, err);
    if (st == LFR_OK) st = dp_model_set_of(s, id, set, err);
    if (st == LFR_OK) st = dp_threshold_ok(set, threshold, unusual_threshold_ok, err);
    if (st == LFR_OK && state != LFR_DEPLOY_DRAFT) st = dp_locked_msg(err, id, state, "threshold");
    int64_t had_target = 0;
    if (st == LFR_OK)
        st = lfr_store_query_int64(s, "SELECT target_false_alerts > 0 FROM deployments WHERE id = ?",
                                   1, id, 0, &had_target, err);
    lfr_store_stmt *q;
    int row;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "UPDATE deployments SET threshold = ?, target_false_alerts = 0, "
                                    "target_templates = 0 WHERE id = ?",
                                    &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_double(q, 1, threshold);
        lfr_store_stmt_bind_int64(q, 2, id);
        st = lfr_store_stmt_step(q, &row, err);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK) {
        json_t *j = json_pack("{s:f}", "threshold", dp_dec6(threshold));
        if (j && had_target) json_object_set_new(j, "target_false_alerts", json_null());
        if (j && unusual_threshold_ok)
            json_object_set_new(j, "unusual_threshold_ok", json_true());
        st = dp_audit(s, by, LFR_AUDIT_DEPLOYMENT_UPDATE, id, j, err);
    }
    return dp_finish(s, st);
}

#define DEPLOY_COLS                                                                   \
    "d.id, d.name, d.location, d.purpose, d.legal_basis, d.cameras, d.planned_start, " \
    "d.planned_end, d.threshold, d.state, d.created_by, d.created_at, d.authorised_by, " \
    "d.authorised_at, d.watchlist_digest, d.entries_authorised, d.started_at, "        \
    "d.ended_at, d.ended_by, d.watchlist_deleted_at, d.purged_at, "                     \
    "d.target_false_alerts, d.target_templates, d.model_set, "                          \
    "(SELECT count(*) FROM watchlist_entries e WHERE e.deployment_id = d.id), "          \
    "(SELECT count(*) FROM entry_images i JOIN watchlist_entries e ON i.entry_id = e.id " \
    "  WHERE e.deployment_id = d.id), "                                                 \
    "(SELECT count(*) FROM alerts a WHERE a.deployment_id = d.id), "                     \
    "(SELECT count(*) FROM photo_checks c WHERE c.deployment_id = d.id), "             \
    "(SELECT group_concat(k || ':' || n, ' ') FROM (SELECT k, count(*) n FROM "          \
    "  (SELECT (SELECT count(*) FROM entry_images i WHERE i.entry_id = e.id) k "          \
    "   FROM watchlist_entries e WHERE e.deployment_id = d.id) GROUP BY k))"

static void fill_info(lfr_store_stmt *q, void *elem) {
    lfr_deploy_info *d = elem;
    memset(d, 0, sizeof *d);
    d->id = lfr_store_stmt_int64(q, 0);
    COPY(d->name, lfr_store_stmt_text(q, 1));
    COPY(d->location, lfr_store_stmt_text(q, 2));
    COPY(d->purpose, lfr_store_stmt_text(q, 3));
    COPY(d->legal_basis, lfr_store_stmt_text(q, 4));
    COPY(d->cameras, lfr_store_stmt_text(q, 5));
    d->planned_start = lfr_store_stmt_int64(q, 6);
    d->planned_end = lfr_store_stmt_int64(q, 7);
    d->threshold = (float)lfr_store_stmt_double(q, 8);
    d->state = dp_state_parse(lfr_store_stmt_text(q, 9));
    COPY(d->created_by, lfr_store_stmt_text(q, 10));
    d->created_at = lfr_store_stmt_int64(q, 11);
    COPY(d->authorised_by, lfr_store_stmt_text(q, 12));
    d->authorised_at = lfr_store_stmt_int64(q, 13);
    COPY(d->watchlist_digest, lfr_store_stmt_text(q, 14));
    d->entries_authorised = lfr_store_stmt_int64(q, 15);
    d->started_at = lfr_store_stmt_int64(q, 16);
    d->ended_at = lfr_store_stmt_int64(q, 17);
    COPY(d->ended_by, lfr_store_stmt_text(q, 18));
    d->watchlist_deleted_at = lfr_store_stmt_int64(q, 19);
    d->purged_at = lfr_store_stmt_int64(q, 20);
    d->target_false_alerts = lfr_store_stmt_double(q, 21);
    d->target_templates = lfr_store_stmt_int64(q, 22);
    COPY(d->model_set, lfr_store_stmt_text(q, 23));
    d->entries = lfr_store_stmt_int64(q, 24);
    d->images = lfr_store_stmt_int64(q, 25);
    d->alerts = lfr_store_stmt_int64(q, 26);
    d->photo_checks = lfr_store_stmt_int64(q, 27);
    /* "k:n k:n ...": n entries hold k images */
    int64_t by_images[LFR_MAX_ENTRY_IMAGES + 1] = {0}, several = 0;
    const char *h = lfr_store_stmt_text(q, 28);
    long long k, n;
    int used;
    while (h && sscanf(h, "%lld:%lld%n", &k, &n, &used) == 2) {
        if (k >= 0 && n > 0) by_images[k > LFR_MAX_ENTRY_IMAGES ? LFR_MAX_ENTRY_IMAGES : k] += n;
        if (k > 1 && n > 0) several += n;
        h += used;
    }
    d->searched = lfr_deploy_searched_templates(d->entries, d->images, several);
    d->counted = lfr_deploy_counted_comparisons(d->model_set, by_images);
}

int64_t lfr_deploy_counted_comparisons(const char *model_set, const int64_t *by_images) {
    const lfr_match_calibration *cal = lfr_match_calibration_named(model_set);
    return (int64_t)lfr_match_cal_counted(cal, LFR_MATCH_ENTRY_TEMPLATE_DEFAULT, by_images,
                                          LFR_MAX_ENTRY_IMAGES);
}

int64_t lfr_deploy_searched_templates(int64_t entries, int64_t images, int64_t several) {
    switch (LFR_MATCH_ENTRY_TEMPLATE_DEFAULT) {
    case LFR_MATCH_ENTRY_BEST: return images;
    case LFR_MATCH_ENTRY_UNION: return images + several;
    default: return images > 0 ? entries : 0; /* MEAN: one per entry */
    }
}

lfr_status lfr_deploy_get(lfr_store *s, int64_t id, lfr_deploy_info *out, lfr_err *err) {
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT " DEPLOY_COLS " FROM deployments d WHERE d.id = ?",
                                           &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, id);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && !row) st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no deployment %lld", (long long)id);
    if (st == LFR_OK) fill_info(q, out);
    lfr_store_stmt_finalize(q);
    return st;
}

lfr_status lfr_deploy_list(lfr_store *s, lfr_deploy_info **out, size_t *n, lfr_err *err) {
    *out = NULL;
    *n = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT " DEPLOY_COLS " FROM deployments d ORDER BY d.id",
                                           &q, err);
    if (st != LFR_OK) return st;
    void *arr = NULL;
    st = dp_rows(q, sizeof(lfr_deploy_info), fill_info, &arr, n, err);
    *out = arr;
    return st;
}

/* A digest of the watchlist as authorised: entries (id, reference,
 * category, reason, under-18 flag) and the sealed images and templates,
 * and the model set of the deployment and of each template when it is not
 * mfn192 (so digests recorded before model sets still verify, and any
 * change of a set changes the digest). */
lfr_status dp_watchlist_digest(lfr_store *s, int64_t id, char hex[65], int64_t *entries,
                                   lfr_err *err) {
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    char dset[LFR_DEPLOY_MODEL_SET_MAX];
    lfr_status st = dp_model_set_of(s, id, dset, err);
    if (st != LFR_OK) return st;
    if (strcmp(dset, "mfn192") != 0) {
        char line[64];
        snprintf(line, sizeof line, "model_set=%s|", dset);
        crypto_generichash_update(&h, (const unsigned char *)line, strlen(line));
    }
    lfr_store_stmt *q;
    st = lfr_store_stmt_prepare(
        s, "SELECT e.id, e.subject_ref, e.category, e.reason, e.under_18, i.id, i.image, i.template, "
           "i.model_set FROM watchlist_entries e LEFT JOIN entry_images i ON i.entry_id = e.id "
           "WHERE e.deployment_id = ? ORDER BY e.id, i.id", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, id);
    int64_t last = 0;
    *entries = 0;
    for (;;) {
        int row = 0;
        st = lfr_store_stmt_step(q, &row, err);
        if (st != LFR_OK || !row) break;
        int64_t eid = lfr_store_stmt_int64(q, 0);
        if (eid != last) (*entries)++;
        last = eid;
        char line[64];
        snprintf(line, sizeof line, "%lld|%lld|%lld|", (long long)eid,
                 (long long)lfr_store_stmt_int64(q, 4), (long long)lfr_store_stmt_int64(q, 5));
        crypto_generichash_update(&h, (const unsigned char *)line, strlen(line));
        for (int c = 1; c <= 3; c++) {
            const char *t = lfr_store_stmt_text(q, c);
            uint64_t n = strlen(t);
            crypto_generichash_update(&h, (const unsigned char *)&n, sizeof n);
            crypto_generichash_update(&h, (const unsigned char *)t, n);
        }
        for (int c = 6; c <= 7; c++) {
            size_t n = 0;
            const void *b = lfr_store_stmt_blob(q, c, &n);
            uint64_t n64 = n;
            crypto_generichash_update(&h, (const unsigned char *)&n64, sizeof n64);
            if (n) crypto_generichash_update(&h, b, n);
        }
        const char *iset = lfr_store_stmt_text(q, 8);
        if (iset && iset[0] && strcmp(iset, "mfn192") != 0) {
            uint64_t n = strlen(iset);
            crypto_generichash_update(&h, (const unsigned char *)"set", 3);
            crypto_generichash_update(&h, (const unsigned char *)&n, sizeof n);
            crypto_generichash_update(&h, (const unsigned char *)iset, n);
        }
    }
    lfr_store_stmt_finalize(q);
    unsigned char d[32];
    crypto_generichash_final(&h, d, sizeof d);
    sodium_bin2hex(hex, 65, d, sizeof d);
    return st;
}

/* The authorising officer checks a list someone else built: how many of
 * deployment dep's watchlist photos `name` added or accepted quality
 * warnings on (names compared as dp_same_person does), in *n. */
static lfr_status own_photos(lfr_store *s, int64_t dep, const char *name, int64_t *n,
                             lfr_err *err) {
    *n = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "SELECT coalesce(i.added_by, e.added_by), i.warnings_accepted_by "
           "FROM entry_images i JOIN watchlist_entries e ON e.id = i.entry_id "
           "WHERE e.deployment_id = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, dep);
    int row = 0;
    while ((st = lfr_store_stmt_step(q, &row, err)) == LFR_OK && row) {
        const char *adder = lfr_store_stmt_text(q, 0), *acceptor = lfr_store_stmt_text(q, 1);
        if ((adder && dp_same_person(adder, name)) || (acceptor && dp_same_person(acceptor, name)))
            (*n)++;
    }
    lfr_store_stmt_finalize(q);
    return st;
}

lfr_status lfr_deploy_authorise(lfr_store *s, int64_t id, const lfr_actor *by, lfr_err *err) {
    lfr_status st = dp_actor_ok(by, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_deploy_info *d = lfr_malloc(sizeof *d);
    if (!d) st = LFR_ERR_NOMEM;
    if (st == LFR_OK) st = lfr_deploy_get(s, id, d, err);
    if (st == LFR_OK && d->state != LFR_DEPLOY_DRAFT)
        st = lfr_err_set(err, LFR_ERR_STATE,
                         "deployment %lld is %s: only a draft can be authorised (a change to "
                         "an authorised deployment is an amendment)",
                         (long long)id, lfr_deploy_state_name(d->state));
    if (st == LFR_OK && dp_same_person(d->created_by, by->name))
        st = lfr_err_set(err, LFR_ERR_STATE,
                         "%s created deployment %lld and cannot also authorise it: the "
                         "authorising officer must be someone else",
                         by->name, (long long)id);
    int64_t own = 0;
    if (st == LFR_OK) st = own_photos(s, id, by->name, &own, err);
    if (st == LFR_OK && own > 0)
        st = lfr_err_set(err, LFR_ERR_STATE,
                         "%s added %lld of deployment %lld's watchlist photos (or accepted "
                         "their quality warnings) and cannot also authorise it: the "
                         "authorising officer checks a list someone else built",
                         by->name, (long long)own, (long long)id);
    /* a threshold stored before the rules (0 or below matches anyone) */
    if (st == LFR_OK && !(d->threshold > 0.0f && d->threshold < 1.0f))
        st = lfr_err_set(err, LFR_ERR_STATE,
                         "deployment %lld has threshold %g, which would match different "
                         "people: set a threshold above 0 and below 1 first",
                         (long long)id, (double)d->threshold);
    if (st == LFR_OK && d->entries == 0)
        st = lfr_err_set(err, LFR_ERR_STATE,
                         "deployment %lld has no watchlist entries: there is nothing to "
                         "authorise", (long long)id);
    /* A target deployment: the threshold for the watchlist's real size. */
    float threshold = d ? d->threshold : 0;
    int target = st == LFR_OK && d->target_false_alerts > 0;
    if (target) {
        st = lfr_deploy_threshold_for_target_set(d->model_set, d->target_false_alerts, d->counted,
                                                 0, &threshold, err);
        if (st != LFR_OK) {
            char why[LFR_ERRBUF_SIZE] = "";
            if (err) snprintf(why, sizeof why, "%s", err->msg);
            st = lfr_err_set(err, LFR_ERR_STATE,
                             "deployment %lld cannot be authorised with its target for the %lld "
                             "comparisons its watchlist counts for: %s", (long long)id,
                             (long long)d->counted, why);
        }
    }
    char digest[65] = "";
    int64_t entries = 0;
    if (st == LFR_OK) st = dp_watchlist_digest(s, id, digest, &entries, err);
    lfr_store_stmt *q;
    int row;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "UPDATE deployments SET state = 'authorised', authorised_by = ?, "
                                    "authorised_at = ?, watchlist_digest = ?, entries_authorised = ?, "
                                    "threshold = ?, target_templates = ? "
                                    "WHERE id = ? AND state = 'draft'",
                                    &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_text(q, 1, by->name);
        lfr_store_stmt_bind_int64(q, 2, lfr_store_now(s));
        lfr_store_stmt_bind_text(q, 3, digest);
        lfr_store_stmt_bind_int64(q, 4, entries);
        lfr_store_stmt_bind_double(q, 5, threshold);
        lfr_store_stmt_bind_int64(q, 6, target ? d->counted : d->target_templates);
        lfr_store_stmt_bind_int64(q, 7, id);
        st = lfr_store_stmt_step(q, &row, err);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK) st = dp_event(s, id, by, "authorise", err);
    if (st == LFR_OK) {
        json_t *j = json_pack("{s:f, s:I, s:s, s:s, s:o?}", "threshold", dp_dec6(threshold),
                              "entries", (json_int_t)entries, "watchlist_digest", digest,
                              "created_by", d->created_by, "threshold_meaning",
                              meaning_json(d->model_set, threshold, d->counted));
        if (j && target) {
            json_object_set_new(j, "target_false_alerts",
                                json_real(dp_dec6(d->target_false_alerts)));
            json_object_set_new(j, "threshold_before", json_real(dp_dec6(d->threshold)));
            json_object_set_new(j, "derived_for_watchlist_size",
                                json_integer((json_int_t)d->counted));
            json_object_set_new(j, "templates_searched", json_integer((json_int_t)d->searched));
        }
        st = dp_audit(s, by, LFR_AUDIT_DEPLOYMENT_AUTHORISE, id, j, err);
    }
    lfr_free(d);
    return dp_finish(s, st);
}

lfr_status lfr_deploy_start(lfr_store *s, int64_t id, const lfr_actor *by, lfr_err *err) {
    lfr_status st = dp_actor_ok(by, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_deploy_state state;
    st = dp_get_state(s, id, &state, err);
    if (st == LFR_OK) {
        switch (state) {
        case LFR_DEPLOY_AUTHORISED: break;
        case LFR_DEPLOY_DRAFT:
            st = lfr_err_set(err, LFR_ERR_STATE,
                             "deployment %lld is not authorised: it cannot go live until an "
                             "authorising officer signs off its watchlist and threshold",
                             (long long)id);
            break;
        case LFR_DEPLOY_LIVE:
            st = lfr_err_set(err, LFR_ERR_STATE, "deployment %lld is already live", (long long)id);
            break;
        case LFR_DEPLOY_ENDED:
            st = lfr_err_set(err, LFR_ERR_STATE,
                             "deployment %lld has ended and cannot go live again: create a new "
                             "deployment", (long long)id);
            break;
        case LFR_DEPLOY_PURGED:
        case LFR_DEPLOY_STATE_COUNT:
            st = lfr_err_set(err, LFR_ERR_STATE,
                             "deployment %lld is purged: nothing more can happen to it", (long long)id);
            break;
        }
    }
    int64_t now = lfr_store_now(s), planned_end = 0;
    if (st == LFR_OK)
        st = lfr_store_query_int64(s, "SELECT planned_end FROM deployments WHERE id = ?", 1, id, 0,
                                   &planned_end, err);
    if (st == LFR_OK && now >= planned_end)
        st = lfr_err_set(err, LFR_ERR_STATE,
                         "deployment %lld was planned to end at %lld and it is now %lld: it "
                         "cannot go live outside its authorised window",
                         (long long)id, (long long)planned_end, (long long)now);
    if (st == LFR_OK) st = dp_watchlist_verify(s, id, err);
    if (st == LFR_OK)
        st = dp_exec_n(s, "UPDATE deployments SET state = 'live', started_at = ? WHERE id = ?", 2, now, id, err);
    if (st == LFR_OK) st = dp_event(s, id, by, "start", err);
    if (st == LFR_OK) st = dp_audit(s, by, LFR_AUDIT_DEPLOYMENT_START, id, json_object(), err);
    return dp_finish(s, st);
}

lfr_status lfr_deploy_end(lfr_store *s, int64_t id, const lfr_actor *by, const char *reason,
                          lfr_err *err) {
    lfr_status st = dp_actor_ok(by, err);
    if (st == LFR_OK) st = dp_text_ok(reason, LFR_MAX_TEXT, "reason", 0, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_deploy_state state;
    st = dp_get_state(s, id, &state, err);
    if (st == LFR_OK && (state == LFR_DEPLOY_ENDED || state == LFR_DEPLOY_PURGED))
        st = lfr_err_set(err, LFR_ERR_STATE, "deployment %lld has already %s", (long long)id,
                         state == LFR_DEPLOY_ENDED ? "ended" : "been purged");
    lfr_store_stmt *q;
    int row;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "UPDATE deployments SET state = 'ended', ended_at = ?, ended_by = ? "
                                    "WHERE id = ?", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, lfr_store_now(s));
        lfr_store_stmt_bind_text(q, 2, by->name);
        lfr_store_stmt_bind_int64(q, 3, id);
        st = lfr_store_stmt_step(q, &row, err);
        lfr_store_stmt_finalize(q);
    }
    /* Amendments still waiting can no longer apply. */
    if (st == LFR_OK)
        st = dp_exec_n(s, "UPDATE amendments SET state = 'withdrawn' WHERE deployment_id = ? "
                      "AND state = 'proposed'", 1, id, 0, err);
    if (st == LFR_OK) st = dp_event(s, id, by, "end", err);
    if (st == LFR_OK)
        st = dp_audit(s, by, LFR_AUDIT_DEPLOYMENT_END, id,
                   json_pack("{s:s, s:s?}", "from_state", lfr_deploy_state_name(state), "reason",
                             reason),
                   err);
    return dp_finish(s, st);
}

lfr_status dp_watchlist_verify(lfr_store *s, int64_t id, lfr_err *err) {
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "SELECT state, watchlist_digest, entries_authorised, watchlist_deleted_at "
           "FROM deployments WHERE id = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, id);
    int row = 0;
    char state[16] = "", recorded[65] = "";
    int64_t n_recorded = 0, deleted = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && !row) st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no deployment %lld", (long long)id);
    if (st == LFR_OK) {
        COPY(state, lfr_store_stmt_text(q, 0));
        COPY(recorded, lfr_store_stmt_text(q, 1));
        n_recorded = lfr_store_stmt_int64(q, 2);
        deleted = lfr_store_stmt_int64(q, 3);
    }
    lfr_store_stmt_finalize(q);
    if (st != LFR_OK) return st;
    if (!recorded[0])
        return lfr_err_set(err, LFR_ERR_STATE,
                           "deployment %lld is %s: no watchlist digest has been recorded yet "
                           "(that happens at authorisation)", (long long)id, state);
    if (deleted)
        return lfr_err_set(err, LFR_ERR_STATE,
                           "the watchlist of deployment %lld has been deleted (retention)",
                           (long long)id);
    char now[65] = "";
    int64_t n_now = 0;
    st = dp_watchlist_digest(s, id, now, &n_now, err);
    if (st != LFR_OK) return st;
    if (sodium_memcmp(now, recorded, 64) != 0)
        return lfr_err_set(err, LFR_ERR_INTEGRITY,
                           "the watchlist of deployment %lld is not the one authorised (%lld "
                           "entries authorised, %lld now; digest %.16s... recorded, %.16s... "
                           "now): it was changed outside openlfr and will not be used",
                           (long long)id, (long long)n_recorded, (long long)n_now, recorded, now);
    return LFR_OK;
}

lfr_status lfr_deploy_watchlist_verify(lfr_store *s, int64_t id, lfr_err *err) {
    lfr_status st = lfr_store_tx_begin(s); /* one snapshot */
    if (st != LFR_OK) return st;
    st = dp_watchlist_verify(s, id, err);
    lfr_store_tx_rollback(s); /* read only */
    return st;
}

lfr_status lfr_deploy_require_live(lfr_store *s, int64_t id, lfr_err *err) {
    lfr_deploy_state state;
    lfr_status st = dp_get_state(s, id, &state, err);
    if (st != LFR_OK) return st;
    if (state == LFR_DEPLOY_LIVE) return LFR_OK;
    return lfr_err_set(err, LFR_ERR_STATE,
                       "deployment %lld is %s: checks and matching run only while a "
                       "deployment is live",
                       (long long)id, lfr_deploy_state_name(state));
}

