/*
 * deploy.c - deployments: lifecycle, watchlist entries, alerts, photo
 * checks, amendments and retention.  See deploy.h.
 *
 * DESIGN
 *   Every public function that changes anything follows one shape:
 *     check arguments -> tx_begin -> read state, check the rule -> write
 *     rows -> audit record -> tx_commit (or rollback on any failure)
 *   so a change and its audit record exist together or not at all.
 */
#include "deploy.h"

#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[LFR_DEPLOY_STATE_COUNT] = {
    [LFR_DEPLOY_DRAFT] = "draft", [LFR_DEPLOY_AUTHORISED] = "authorised",
    [LFR_DEPLOY_LIVE] = "live",   [LFR_DEPLOY_ENDED] = "ended",
    [LFR_DEPLOY_PURGED] = "purged",
};

static const char *const category_names[LFR_WATCHLIST_CATEGORY_COUNT] = {
#define LFR_WATCHLIST_CATEGORY_ROW(id, name) [LFR_WATCHLIST_##id] = name,
    LFR_WATCHLIST_CATEGORY_LIST(LFR_WATCHLIST_CATEGORY_ROW)
#undef LFR_WATCHLIST_CATEGORY_ROW
};

const char *lfr_deploy_state_name(lfr_deploy_state st) {
    return (unsigned)st < LFR_DEPLOY_STATE_COUNT ? state_names[st] : "unknown";
}

static lfr_deploy_state state_parse(const char *s) {
    for (int i = 0; i < LFR_DEPLOY_STATE_COUNT; i++)
        if (strcmp(s, state_names[i]) == 0) return (lfr_deploy_state)i;
    return LFR_DEPLOY_STATE_COUNT;
}

const char *lfr_watchlist_category_name(lfr_watchlist_category c) {
    return (unsigned)c < LFR_WATCHLIST_CATEGORY_COUNT ? category_names[c] : "unknown";
}

lfr_status lfr_watchlist_category_parse(const char *name, lfr_watchlist_category *out) {
    for (int i = 0; i < LFR_WATCHLIST_CATEGORY_COUNT; i++)
        if (name && strcmp(name, category_names[i]) == 0) {
            *out = (lfr_watchlist_category)i;
            return LFR_OK;
        }
    return LFR_ERR_INVALID_ARG;
}

void lfr_retention_rules_default(lfr_retention_rules *r) {
    r->watchlist_after_end_s = 24 * 3600;
    r->alerts_s = 31 * 24 * 3600;
    r->photo_checks_s = 31 * 24 * 3600;
}

/* Helpers ------------------------------------------------------------------ */
/* A float as the decimal people wrote (6 places) for audit details: 0.6f is
 * recorded as 0.6, not 0.60000002384185791. */
static double dec6(double x) { return round(x * 1e6) / 1e6; }

static lfr_status text_ok(const char *v, size_t cap, const char *field, int required,
                          lfr_err *err) {
    if (!v || !v[0])
        return required ? lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s is required", field) : LFR_OK;
    if (strlen(v) >= cap)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "%s is longer than %zu bytes", field, cap - 1);
    return LFR_OK;
}

static void copy(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src ? src : ""); }

#define COPY(dst, src) copy((dst), sizeof(dst), (src))

/* Writes the audit record; takes ownership of `details`. */
static lfr_status audit(lfr_store *s, const lfr_actor *by, lfr_audit_action a, int64_t dep,
                        json_t *details, lfr_err *err) {
    if (!details) return LFR_ERR_NOMEM;
    char *txt = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(details);
    if (!txt) return LFR_ERR_NOMEM;
    lfr_status st = lfr_audit_append(s, by, a, dep, txt, NULL, err);
    free(txt);
    return st;
}

static lfr_status event(lfr_store *s, int64_t dep, const lfr_actor *by, const char *what,
                        lfr_err *err) {
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "INSERT INTO deployment_events(deployment_id, at, actor, event) VALUES(?,?,?,?)", &q,
        err);
    if (st != LFR_OK) return st;
    int row;
    lfr_store_stmt_bind_int64(q, 1, dep);
    lfr_store_stmt_bind_int64(q, 2, lfr_store_now(s));
    lfr_store_stmt_bind_text(q, 3, by->name);
    lfr_store_stmt_bind_text(q, 4, what);
    st = lfr_store_stmt_step(q, &row, err);
    lfr_store_stmt_finalize(q);
    return st;
}

static lfr_status get_state(lfr_store *s, int64_t id, lfr_deploy_state *state, lfr_err *err) {
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT state FROM deployments WHERE id = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, id);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && !row) st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no deployment %lld", (long long)id);
    if (st == LFR_OK) {
        *state = state_parse(lfr_store_stmt_text(q, 0));
        if (*state == LFR_DEPLOY_STATE_COUNT)
            st = lfr_err_set(err, LFR_ERR_CORRUPT, "deployment %lld has an unknown state",
                             (long long)id);
    }
    lfr_store_stmt_finalize(q);
    return st;
}

/* Runs `sql` with `np` (1 or 2) int64 parameters a, b. */
static lfr_status exec_n(lfr_store *s, const char *sql, int np, int64_t a, int64_t b,
                         lfr_err *err) {
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, sql, &q, err);
    if (st != LFR_OK) return st;
    int row;
    lfr_store_stmt_bind_int64(q, 1, a);
    if (np > 1) lfr_store_stmt_bind_int64(q, 2, b);
    st = lfr_store_stmt_step(q, &row, err);
    lfr_store_stmt_finalize(q);
    return st;
}

static lfr_status finish(lfr_store *s, lfr_status st) {
    if (st == LFR_OK) return lfr_store_tx_commit(s);
    lfr_store_tx_rollback(s);
    return st;
}

static lfr_status threshold_ok(float t, lfr_err *err) {
    if (!isfinite(t) || t <= -1.0f || t > 1.0f)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "threshold %g is not a cosine similarity in (-1, 1]", (double)t);
    return LFR_OK;
}

/* Deployments -------------------------------------------------------------- */
lfr_status lfr_deploy_create(lfr_store *s, const lfr_deploy_params *p, const lfr_actor *by,
                             int64_t *id, lfr_err *err) {
    *id = 0;
    lfr_status st = lfr_actor_check(by, err);
    if (st == LFR_OK) st = text_ok(p->name, LFR_MAX_TEXT, "name", 1, err);
    if (st == LFR_OK) st = text_ok(p->location, LFR_MAX_TEXT, "location", 1, err);
    if (st == LFR_OK) st = text_ok(p->purpose, LFR_MAX_TEXT, "purpose", 1, err);
    if (st == LFR_OK) st = text_ok(p->legal_basis, LFR_MAX_TEXT, "legal basis", 1, err);
    if (st == LFR_OK) st = text_ok(p->cameras, LFR_MAX_TEXT, "cameras", 0, err);
    if (st == LFR_OK) st = threshold_ok(p->threshold, err);
    if (st == LFR_OK && p->planned_end <= p->planned_start)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "planned end must be after planned start");
    if (st != LFR_OK) return st;

    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_store_stmt *q;
    int row;
    st = lfr_store_stmt_prepare(s,
                                "INSERT INTO deployments(name, location, purpose, legal_basis, "
                                "planned_start, planned_end, threshold, cameras, created_by, "
                                "created_at) VALUES(?,?,?,?,?,?,?,?,?,?)",
                                &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_text(q, 1, p->name);
        lfr_store_stmt_bind_text(q, 2, p->location);
        lfr_store_stmt_bind_text(q, 3, p->purpose);
        lfr_store_stmt_bind_text(q, 4, p->legal_basis);
        lfr_store_stmt_bind_int64(q, 5, p->planned_start);
        lfr_store_stmt_bind_int64(q, 6, p->planned_end);
        lfr_store_stmt_bind_double(q, 7, p->threshold);
        lfr_store_stmt_bind_text(q, 8, p->cameras ? p->cameras : "");
        lfr_store_stmt_bind_text(q, 9, by->name);
        lfr_store_stmt_bind_int64(q, 10, lfr_store_now(s));
        st = lfr_store_stmt_step(q, &row, err);
        *id = lfr_store_last_id(s);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK) st = event(s, *id, by, "create", err);
    if (st == LFR_OK)
        st = audit(s, by, LFR_AUDIT_DEPLOYMENT_CREATE, *id,
                   json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:f, s:s}", "name", p->name,
                             "location", p->location, "purpose", p->purpose, "legal_basis",
                             p->legal_basis, "planned_start", (json_int_t)p->planned_start,
                             "planned_end", (json_int_t)p->planned_end, "threshold",
                             dec6(p->threshold), "cameras", p->cameras ? p->cameras : ""),
                   err);
    st = finish(s, st);
    if (st != LFR_OK) *id = 0;
    return st;
}

static lfr_status locked_msg(lfr_err *err, int64_t id, lfr_deploy_state state, const char *what) {
    if (state == LFR_DEPLOY_PURGED)
        return lfr_err_set(err, LFR_ERR_STATE,
                           "deployment %lld is purged: nothing more can happen to it", (long long)id);
    if (state == LFR_DEPLOY_ENDED)
        return lfr_err_set(err, LFR_ERR_STATE,
                           "deployment %lld has ended: its %s can no longer change", (long long)id, what);
    return lfr_err_set(err, LFR_ERR_STATE,
                       "deployment %lld is %s: the %s is locked once authorised; propose an "
                       "amendment (it needs a second authorisation)",
                       (long long)id, lfr_deploy_state_name(state), what);
}

lfr_status lfr_deploy_set_threshold(lfr_store *s, int64_t id, float threshold,
                                    const lfr_actor *by, lfr_err *err) {
    lfr_status st = lfr_actor_check(by, err);
    if (st == LFR_OK) st = threshold_ok(threshold, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_deploy_state state;
    st = get_state(s, id, &state, err);
    if (st == LFR_OK && state != LFR_DEPLOY_DRAFT) st = locked_msg(err, id, state, "threshold");
    lfr_store_stmt *q;
    int row;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s, "UPDATE deployments SET threshold = ? WHERE id = ?", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_double(q, 1, threshold);
        lfr_store_stmt_bind_int64(q, 2, id);
        st = lfr_store_stmt_step(q, &row, err);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK)
        st = audit(s, by, LFR_AUDIT_DEPLOYMENT_UPDATE, id,
                   json_pack("{s:f}", "threshold", dec6(threshold)), err);
    return finish(s, st);
}

#define DEPLOY_COLS                                                                   \
    "d.id, d.name, d.location, d.purpose, d.legal_basis, d.cameras, d.planned_start, " \
    "d.planned_end, d.threshold, d.state, d.created_by, d.created_at, d.authorised_by, " \
    "d.authorised_at, d.watchlist_digest, d.entries_authorised, d.started_at, "        \
    "d.ended_at, d.ended_by, d.watchlist_deleted_at, d.purged_at, "                     \
    "(SELECT count(*) FROM watchlist_entries e WHERE e.deployment_id = d.id), "          \
    "(SELECT count(*) FROM entry_images i JOIN watchlist_entries e ON i.entry_id = e.id " \
    "  WHERE e.deployment_id = d.id), "                                                 \
    "(SELECT count(*) FROM alerts a WHERE a.deployment_id = d.id), "                     \
    "(SELECT count(*) FROM photo_checks c WHERE c.deployment_id = d.id)"

static void fill_info(lfr_store_stmt *q, lfr_deploy_info *d) {
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
    d->state = state_parse(lfr_store_stmt_text(q, 9));
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
    d->entries = lfr_store_stmt_int64(q, 21);
    d->images = lfr_store_stmt_int64(q, 22);
    d->alerts = lfr_store_stmt_int64(q, 23);
    d->photo_checks = lfr_store_stmt_int64(q, 24);
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

/* Makes room for one more element in a growable array (doubling, checked
 * size arithmetic).  *arr keeps its contents; LFR_ERR_NOMEM leaves it as is. */
static lfr_status grow(void *arr, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return LFR_OK;
    size_t nc = *cap ? *cap * 2 : 8, bytes;
    if (lfr_mul_size(nc, elem, &bytes) != 0) return LFR_ERR_NOMEM;
    void *na = lfr_realloc(*(void **)arr, bytes);
    if (!na) return LFR_ERR_NOMEM;
    *(void **)arr = na;
    *cap = nc;
    return LFR_OK;
}

lfr_status lfr_deploy_list(lfr_store *s, lfr_deploy_info **out, size_t *n, lfr_err *err) {
    *out = NULL;
    *n = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT " DEPLOY_COLS " FROM deployments d ORDER BY d.id",
                                           &q, err);
    if (st != LFR_OK) return st;
    lfr_deploy_info *arr = NULL;
    size_t cap = 0, cnt = 0;
    for (;;) {
        int row = 0;
        st = lfr_store_stmt_step(q, &row, err);
        if (st != LFR_OK || !row) break;
        if ((st = grow(&arr, &cap, cnt, sizeof *arr)) != LFR_OK) break;
        fill_info(q, &arr[cnt++]);
    }
    lfr_store_stmt_finalize(q);
    if (st != LFR_OK) {
        lfr_free(arr);
        return st;
    }
    *out = arr;
    *n = cnt;
    return LFR_OK;
}

/* A digest of the watchlist as authorised: entries (id, reference,
 * category, reason, under-18 flag) and the sealed images and templates. */
static lfr_status watchlist_digest(lfr_store *s, int64_t id, char hex[65], int64_t *entries,
                                   lfr_err *err) {
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "SELECT e.id, e.subject_ref, e.category, e.reason, e.under_18, i.id, i.image, i.template "
           "FROM watchlist_entries e LEFT JOIN entry_images i ON i.entry_id = e.id "
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
    }
    lfr_store_stmt_finalize(q);
    unsigned char d[32];
    crypto_generichash_final(&h, d, sizeof d);
    sodium_bin2hex(hex, 65, d, sizeof d);
    return st;
}

lfr_status lfr_deploy_authorise(lfr_store *s, int64_t id, const lfr_actor *by, lfr_err *err) {
    lfr_status st = lfr_actor_check(by, err);
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
    if (st == LFR_OK && strcmp(d->created_by, by->name) == 0)
        st = lfr_err_set(err, LFR_ERR_STATE,
                         "%s created deployment %lld and cannot also authorise it: the "
                         "authorising officer must be someone else",
                         by->name, (long long)id);
    if (st == LFR_OK && d->entries == 0)
        st = lfr_err_set(err, LFR_ERR_STATE,
                         "deployment %lld has no watchlist entries: there is nothing to "
                         "authorise", (long long)id);
    char digest[65] = "";
    int64_t entries = 0;
    if (st == LFR_OK) st = watchlist_digest(s, id, digest, &entries, err);
    lfr_store_stmt *q;
    int row;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "UPDATE deployments SET state = 'authorised', authorised_by = ?, "
                                    "authorised_at = ?, watchlist_digest = ?, entries_authorised = ? "
                                    "WHERE id = ? AND state = 'draft'",
                                    &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_text(q, 1, by->name);
        lfr_store_stmt_bind_int64(q, 2, lfr_store_now(s));
        lfr_store_stmt_bind_text(q, 3, digest);
        lfr_store_stmt_bind_int64(q, 4, entries);
        lfr_store_stmt_bind_int64(q, 5, id);
        st = lfr_store_stmt_step(q, &row, err);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK) st = event(s, id, by, "authorise", err);
    if (st == LFR_OK)
        st = audit(s, by, LFR_AUDIT_DEPLOYMENT_AUTHORISE, id,
                   json_pack("{s:f, s:I, s:s, s:s}", "threshold", dec6(d->threshold),
                             "entries", (json_int_t)entries, "watchlist_digest", digest,
                             "created_by", d->created_by),
                   err);
    lfr_free(d);
    return finish(s, st);
}

lfr_status lfr_deploy_start(lfr_store *s, int64_t id, const lfr_actor *by, lfr_err *err) {
    lfr_status st = lfr_actor_check(by, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_deploy_state state;
    st = get_state(s, id, &state, err);
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
    if (st == LFR_OK)
        st = exec_n(s, "UPDATE deployments SET state = 'live', started_at = ? WHERE id = ?", 2, now, id, err);
    if (st == LFR_OK) st = event(s, id, by, "start", err);
    if (st == LFR_OK) st = audit(s, by, LFR_AUDIT_DEPLOYMENT_START, id, json_object(), err);
    return finish(s, st);
}

lfr_status lfr_deploy_end(lfr_store *s, int64_t id, const lfr_actor *by, const char *reason,
                          lfr_err *err) {
    lfr_status st = lfr_actor_check(by, err);
    if (st == LFR_OK) st = text_ok(reason, LFR_MAX_TEXT, "reason", 0, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_deploy_state state;
    st = get_state(s, id, &state, err);
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
        st = exec_n(s, "UPDATE amendments SET state = 'withdrawn' WHERE deployment_id = ? "
                      "AND state = 'proposed'", 1, id, 0, err);
    if (st == LFR_OK) st = event(s, id, by, "end", err);
    if (st == LFR_OK)
        st = audit(s, by, LFR_AUDIT_DEPLOYMENT_END, id,
                   json_pack("{s:s, s:s?}", "from_state", lfr_deploy_state_name(state), "reason",
                             reason),
                   err);
    return finish(s, st);
}

lfr_status lfr_deploy_require_live(lfr_store *s, int64_t id, lfr_err *err) {
    lfr_deploy_state state;
    lfr_status st = get_state(s, id, &state, err);
    if (st != LFR_OK) return st;
    if (state == LFR_DEPLOY_LIVE) return LFR_OK;
    return lfr_err_set(err, LFR_ERR_STATE,
                       "deployment %lld is %s: checks and matching run only while a "
                       "deployment is live",
                       (long long)id, lfr_deploy_state_name(state));
}

/* Amendments ---------------------------------------------------------------- */
lfr_status lfr_deploy_amend_propose(lfr_store *s, int64_t id, const lfr_deploy_amendment *a,
                                    const lfr_actor *by, int64_t *amendment_id, lfr_err *err) {
    *amendment_id = 0;
    lfr_status st = lfr_actor_check(by, err);
    if (st == LFR_OK) st = text_ok(a->reason, LFR_MAX_TEXT, "amendment reason", 1, err);
    if (st == LFR_OK && a->set_threshold) st = threshold_ok(a->threshold, err);
    if (st == LFR_OK && !a->set_threshold && a->remove_entry_id <= 0)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "the amendment changes nothing");
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_deploy_state state;
    st = get_state(s, id, &state, err);
    if (st == LFR_OK && state != LFR_DEPLOY_AUTHORISED && state != LFR_DEPLOY_LIVE)
        st = lfr_err_set(err, LFR_ERR_STATE,
                         state == LFR_DEPLOY_DRAFT
                             ? "deployment %lld is a draft: change it directly, amendments are "
                               "for authorised deployments"
                             : "deployment %lld is %s: it can no longer be amended",
                         (long long)id, lfr_deploy_state_name(state));
    if (st == LFR_OK && a->remove_entry_id > 0) {
        int64_t dep = 0;
        st = lfr_store_query_int64(s, "SELECT deployment_id FROM watchlist_entries WHERE id = ?", 1,
                                   a->remove_entry_id, 0, &dep, err);
        if (st == LFR_OK && dep != id)
            st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "deployment %lld has no watchlist entry %lld",
                             (long long)id, (long long)a->remove_entry_id);
    }
    lfr_store_stmt *q;
    int row;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "INSERT INTO amendments(deployment_id, reason, new_threshold, "
                                    "remove_entry_id, proposed_by, proposed_at) VALUES(?,?,?,?,?,?)",
                                    &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, id);
        lfr_store_stmt_bind_text(q, 2, a->reason);
        if (a->set_threshold) lfr_store_stmt_bind_double(q, 3, a->threshold);
        else lfr_store_stmt_bind_null(q, 3);
        if (a->remove_entry_id > 0) lfr_store_stmt_bind_int64(q, 4, a->remove_entry_id);
        else lfr_store_stmt_bind_null(q, 4);
        lfr_store_stmt_bind_text(q, 5, by->name);
        lfr_store_stmt_bind_int64(q, 6, lfr_store_now(s));
        st = lfr_store_stmt_step(q, &row, err);
        *amendment_id = lfr_store_last_id(s);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK) {
        json_t *j = json_pack("{s:I, s:s}", "amendment", (json_int_t)*amendment_id, "reason", a->reason);
        if (j && a->set_threshold) json_object_set_new(j, "new_threshold", json_real(dec6(a->threshold)));
        if (j && a->remove_entry_id > 0)
            json_object_set_new(j, "remove_entry", json_integer(a->remove_entry_id));
        st = audit(s, by, LFR_AUDIT_DEPLOYMENT_AMEND_PROPOSE, id, j, err);
    }
    st = finish(s, st);
    if (st != LFR_OK) *amendment_id = 0;
    return st;
}

static lfr_status delete_entry(lfr_store *s, int64_t entry_id, int64_t *images, lfr_err *err) {
    lfr_status st = lfr_store_query_int64(s, "SELECT count(*) FROM entry_images WHERE entry_id = ?",
                                          1, entry_id, 0, images, err);
    if (st == LFR_OK)
        st = exec_n(s, "DELETE FROM entry_images WHERE entry_id = ?", 1, entry_id, 0, err);
    if (st == LFR_OK)
        st = exec_n(s, "DELETE FROM watchlist_entries WHERE id = ?", 1, entry_id, 0, err);
    return st;
}

lfr_status lfr_deploy_amend_authorise(lfr_store *s, int64_t amendment_id, const lfr_actor *by,
                                      lfr_err *err) {
    lfr_status st = lfr_actor_check(by, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_store_stmt *q;
    int row = 0;
    int64_t dep = 0, remove = 0;
    int set_thr = 0;
    double thr = 0;
    char proposer[LFR_MAX_ACTOR] = "", astate[16] = "";
    st = lfr_store_stmt_prepare(s,
                                "SELECT deployment_id, state, new_threshold, remove_entry_id, "
                                "proposed_by FROM amendments WHERE id = ?", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, amendment_id);
        st = lfr_store_stmt_step(q, &row, err);
        if (st == LFR_OK && !row)
            st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no amendment %lld", (long long)amendment_id);
        if (st == LFR_OK) {
            dep = lfr_store_stmt_int64(q, 0);
            COPY(astate, lfr_store_stmt_text(q, 1));
            set_thr = !lfr_store_stmt_is_null(q, 2);
            thr = lfr_store_stmt_double(q, 2);
            remove = lfr_store_stmt_is_null(q, 3) ? 0 : lfr_store_stmt_int64(q, 3);
            COPY(proposer, lfr_store_stmt_text(q, 4));
        }
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK && strcmp(astate, "proposed") != 0)
        st = lfr_err_set(err, LFR_ERR_STATE, "amendment %lld is %s, not awaiting authorisation",
                         (long long)amendment_id, astate);
    if (st == LFR_OK && strcmp(proposer, by->name) == 0)
        st = lfr_err_set(err, LFR_ERR_STATE,
                         "%s proposed amendment %lld and cannot also authorise it: a second "
                         "officer must", by->name, (long long)amendment_id);
    lfr_deploy_state state;
    if (st == LFR_OK) st = get_state(s, dep, &state, err);
    if (st == LFR_OK && state != LFR_DEPLOY_AUTHORISED && state != LFR_DEPLOY_LIVE)
        st = lfr_err_set(err, LFR_ERR_STATE, "deployment %lld is %s: it can no longer be amended",
                         (long long)dep, lfr_deploy_state_name(state));
    if (st == LFR_OK && set_thr) {
        st = lfr_store_stmt_prepare(s, "UPDATE deployments SET threshold = ? WHERE id = ?", &q, err);
        if (st == LFR_OK) {
            lfr_store_stmt_bind_double(q, 1, thr);
            lfr_store_stmt_bind_int64(q, 2, dep);
            st = lfr_store_stmt_step(q, &row, err);
            lfr_store_stmt_finalize(q);
        }
    }
    int64_t images = 0;
    if (st == LFR_OK && remove > 0) st = delete_entry(s, remove, &images, err);
    if (st == LFR_OK) {
        st = lfr_store_stmt_prepare(s,
                                    "UPDATE amendments SET state = 'authorised', authorised_by = ?, "
                                    "authorised_at = ? WHERE id = ?", &q, err);
        if (st == LFR_OK) {
            lfr_store_stmt_bind_text(q, 1, by->name);
            lfr_store_stmt_bind_int64(q, 2, lfr_store_now(s));
            lfr_store_stmt_bind_int64(q, 3, amendment_id);
            st = lfr_store_stmt_step(q, &row, err);
            lfr_store_stmt_finalize(q);
        }
    }
    if (st == LFR_OK) st = event(s, dep, by, "amend", err);
    if (st == LFR_OK) {
        json_t *j = json_pack("{s:I, s:s}", "amendment", (json_int_t)amendment_id, "proposed_by",
                              proposer);
        if (j && set_thr) json_object_set_new(j, "new_threshold", json_real(dec6(thr)));
        if (j && remove > 0) {
            json_object_set_new(j, "removed_entry", json_integer(remove));
            json_object_set_new(j, "removed_images", json_integer(images));
        }
        st = audit(s, by, LFR_AUDIT_DEPLOYMENT_AMEND, dep, j, err);
    }
    return finish(s, st);
}

/* Cap ----------------------------------------------------------------------- */
lfr_status lfr_deploy_watchlist_cap(lfr_store *s, int64_t *cap) {
    lfr_status st = lfr_store_setting_get_int(s, "watchlist.max_entries", LFR_DEFAULT_WATCHLIST_CAP, cap);
    if (*cap <= 0 || *cap > LFR_MAX_WATCHLIST_ENTRIES) *cap = LFR_MAX_WATCHLIST_ENTRIES;
    return st;
}

lfr_status lfr_deploy_watchlist_cap_set(lfr_store *s, int64_t cap, const lfr_actor *by,
                                        lfr_err *err) {
    lfr_status st = lfr_actor_check(by, err);
    if (st != LFR_OK) return st;
    if (cap < 1 || cap > LFR_MAX_WATCHLIST_ENTRIES)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "watchlist cap must be 1..%d",
                           LFR_MAX_WATCHLIST_ENTRIES);
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    int64_t old;
    st = lfr_deploy_watchlist_cap(s, &old);
    if (st == LFR_OK) st = lfr_store_setting_set_int(s, "watchlist.max_entries", cap);
    if (st == LFR_OK)
        st = audit(s, by, LFR_AUDIT_SETTING_CHANGE, 0,
                   json_pack("{s:s, s:I, s:I}", "setting", "watchlist.max_entries", "old",
                             (json_int_t)old, "new", (json_int_t)cap),
                   err);
    return finish(s, st);
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

static lfr_status insert_image(lfr_store *s, int64_t entry_id, const uint8_t *image, size_t len,
                               const float *tmpl, int dim, int64_t *image_id, lfr_err *err) {
    uint8_t *simg = NULL, *stpl = NULL;
    size_t nimg = 0, ntpl = 0;
    lfr_status st = lfr_store_seal(s, image, len, &simg, &nimg);
    if (st == LFR_OK) st = lfr_store_seal(s, tmpl, (size_t)dim * sizeof(float), &stpl, &ntpl);
    lfr_store_stmt *q = NULL;
    int row;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "INSERT INTO entry_images(entry_id, image, template, "
                                    "template_dim, added_at) VALUES(?,?,?,?,?)", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, entry_id);
        lfr_store_stmt_bind_blob(q, 2, simg, nimg);
        lfr_store_stmt_bind_blob(q, 3, stpl, ntpl);
        lfr_store_stmt_bind_int64(q, 4, dim);
        lfr_store_stmt_bind_int64(q, 5, lfr_store_now(s));
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
    lfr_status st = get_state(s, dep, &state, err);
    if (st == LFR_OK && state != LFR_DEPLOY_DRAFT) st = locked_msg(err, dep, state, "watchlist");
    return st;
}

lfr_status lfr_deploy_entry_add(lfr_store *s, int64_t deployment_id, const lfr_watchlist_entry *e,
                                const uint8_t *image, size_t image_len, const float *tmpl,
                                int dim, const lfr_actor *by, int64_t *entry_id, lfr_err *err) {
    if (entry_id) *entry_id = 0;
    lfr_status st = lfr_actor_check(by, err);
    if (st == LFR_OK) st = text_ok(e->subject_ref, LFR_MAX_ACTOR, "subject reference", 1, err);
    if (st == LFR_OK) st = text_ok(e->display_name, LFR_MAX_ACTOR, "display name", 1, err);
    if (st == LFR_OK && (unsigned)e->category >= LFR_WATCHLIST_CATEGORY_COUNT)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "unknown watchlist category");
    if (st == LFR_OK)
        st = text_ok(e->category_other, LFR_MAX_TEXT, "category description (for 'other')",
                     e->category == LFR_WATCHLIST_OTHER, err);
    if (st == LFR_OK) st = text_ok(e->reason, LFR_MAX_TEXT, "reason for inclusion", 1, err);
    if (st == LFR_OK) st = text_ok(e->image_source, LFR_MAX_TEXT, "image source", 1, err);
    if (st == LFR_OK) st = text_ok(e->image_date, 64, "image date", 1, err);
    if (st == LFR_OK)
        st = text_ok(e->under_18_justification, LFR_MAX_TEXT,
                     "justification for including a person under 18", e->under_18 != 0, err);
    if (st == LFR_OK) st = image_ok(image, image_len, tmpl, dim, err);
    if (st != LFR_OK) return st;

    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    st = require_draft_for_watchlist(s, deployment_id, err);
    int64_t count = 0, cap = 0;
    if (st == LFR_OK) st = lfr_deploy_watchlist_cap(s, &cap);
    if (st == LFR_OK)
        st = lfr_store_query_int64(s, "SELECT count(*) FROM watchlist_entries WHERE deployment_id = ?",
                                   1, deployment_id, 0, &count, err);
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
    if (st == LFR_OK) st = insert_image(s, eid, image, image_len, tmpl, dim, &iid, err);
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
        st = audit(s, by, LFR_AUDIT_WATCHLIST_ADD, deployment_id, j, err);
    }
    st = finish(s, st);
    if (st == LFR_OK && entry_id) *entry_id = eid;
    return st;
}

lfr_status lfr_deploy_entry_image_add(lfr_store *s, int64_t entry_id, const uint8_t *image,
                                      size_t image_len, const float *tmpl, int dim,
                                      const lfr_actor *by, int64_t *image_id, lfr_err *err) {
    if (image_id) *image_id = 0;
    lfr_status st = lfr_actor_check(by, err);
    if (st == LFR_OK) st = image_ok(image, image_len, tmpl, dim, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
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
    if (st == LFR_OK) st = insert_image(s, entry_id, image, image_len, tmpl, dim, &iid, err);
    if (st == LFR_OK)
        st = audit(s, by, LFR_AUDIT_WATCHLIST_IMAGE_ADD, dep,
                   json_pack("{s:I, s:I}", "entry", (json_int_t)entry_id, "image_id", (json_int_t)iid), err);
    st = finish(s, st);
    if (st == LFR_OK && image_id) *image_id = iid;
    return st;
}

lfr_status lfr_deploy_entry_remove(lfr_store *s, int64_t entry_id, const lfr_actor *by,
                                   const char *reason, lfr_err *err) {
    lfr_status st = lfr_actor_check(by, err);
    if (st == LFR_OK) st = text_ok(reason, LFR_MAX_TEXT, "reason for removal", 1, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    int64_t dep = 0, images = 0;
    st = lfr_store_query_int64(s, "SELECT deployment_id FROM watchlist_entries WHERE id = ?", 1,
                               entry_id, 0, &dep, err);
    if (st == LFR_OK && dep == 0)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no watchlist entry %lld", (long long)entry_id);
    if (st == LFR_OK) st = require_draft_for_watchlist(s, dep, err);
    if (st == LFR_OK) st = delete_entry(s, entry_id, &images, err);
    if (st == LFR_OK)
        st = audit(s, by, LFR_AUDIT_WATCHLIST_REMOVE, dep,
                   json_pack("{s:I, s:I, s:s}", "entry", (json_int_t)entry_id, "image_count",
                             (json_int_t)images, "reason", reason), err);
    return finish(s, st);
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
           "(SELECT count(*) FROM entry_images i WHERE i.entry_id = e.id) "
           "FROM watchlist_entries e WHERE e.deployment_id = ? ORDER BY e.id", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, deployment_id);
    lfr_watchlist_entry_info *arr = NULL;
    size_t cap = 0, cnt = 0;
    for (;;) {
        int row = 0;
        st = lfr_store_stmt_step(q, &row, err);
        if (st != LFR_OK || !row) break;
        if ((st = grow(&arr, &cap, cnt, sizeof *arr)) != LFR_OK) break;
        lfr_watchlist_entry_info *e = &arr[cnt++];
        memset(e, 0, sizeof *e);
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
    }
    lfr_store_stmt_finalize(q);
    if (st != LFR_OK) {
        lfr_free(arr);
        return st;
    }
    *out = arr;
    *n = cnt;
    return LFR_OK;
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
    int64_t n = 0;
    double thr = 0;
    lfr_store_stmt *q = NULL;
    int row = 0;
    if (st == LFR_OK)
        st = lfr_store_query_int64(s, "SELECT count(*) FROM entry_images i JOIN watchlist_entries e "
                                      "ON i.entry_id = e.id WHERE e.deployment_id = ?",
                                   1, deployment_id, 0, &n, err);
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
                                    "SELECT i.entry_id, i.id, i.template_dim, i.template FROM "
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

/* Photo checks and alerts ---------------------------------------------------- */
static lfr_status entry_ref(lfr_store *s, int64_t dep, int64_t entry_id, char ref[LFR_MAX_ACTOR],
                            lfr_err *err) {
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "SELECT subject_ref FROM watchlist_entries WHERE id = ? AND deployment_id = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, entry_id);
    lfr_store_stmt_bind_int64(q, 2, dep);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && !row)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "deployment %lld has no watchlist entry %lld",
                         (long long)dep, (long long)entry_id);
    if (st == LFR_OK) copy(ref, LFR_MAX_ACTOR, lfr_store_stmt_text(q, 0));
    lfr_store_stmt_finalize(q);
    return st;
}

lfr_status lfr_deploy_photo_check_record(lfr_store *s, int64_t deployment_id,
                                         const lfr_photo_check *c, const lfr_actor *officer,
                                         int64_t *check_id, lfr_err *err) {
    if (check_id) *check_id = 0;
    lfr_status st = lfr_actor_check(officer, err);
    if (st == LFR_OK) st = text_ok(c->reason, LFR_MAX_TEXT, "reason for the check", 1, err);
    if (st == LFR_OK && c->matched && c->image && c->image_len > LFR_MAX_IMAGE_BYTES)
        st = lfr_err_set(err, LFR_ERR_TOO_LARGE, "check image exceeds %u bytes", LFR_MAX_IMAGE_BYTES);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    st = lfr_deploy_require_live(s, deployment_id, err);
    char ref[LFR_MAX_ACTOR] = "";
    if (st == LFR_OK && c->matched) st = entry_ref(s, deployment_id, c->entry_id, ref, err);
    uint8_t *sealed = NULL;
    size_t nsealed = 0;
    if (st == LFR_OK && c->matched && c->image && c->image_len)
        st = lfr_store_seal(s, c->image, c->image_len, &sealed, &nsealed);
    lfr_store_stmt *q;
    int row;
    int64_t id = 0;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "INSERT INTO photo_checks(deployment_id, officer, at, reason, "
                                    "result, entry_id, subject_ref, score, image) "
                                    "VALUES(?,?,?,?,?,?,?,?,?)", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, deployment_id);
        lfr_store_stmt_bind_text(q, 2, officer->name);
        lfr_store_stmt_bind_int64(q, 3, lfr_store_now(s));
        lfr_store_stmt_bind_text(q, 4, c->reason);
        lfr_store_stmt_bind_text(q, 5, c->matched ? "match" : "no_match");
        if (c->matched) {
            lfr_store_stmt_bind_int64(q, 6, c->entry_id);
            lfr_store_stmt_bind_text(q, 7, ref);
            lfr_store_stmt_bind_double(q, 8, c->score);
        }
        lfr_store_stmt_bind_blob(q, 9, sealed, nsealed);
        st = lfr_store_stmt_step(q, &row, err);
        id = lfr_store_last_id(s);
        lfr_store_stmt_finalize(q);
    }
    lfr_free(sealed);
    if (st == LFR_OK) {
        json_t *j = json_pack("{s:I, s:s, s:s}", "check", (json_int_t)id, "reason", c->reason,
                              "result", c->matched ? "match" : "no_match");
        if (j && c->matched) {
            json_object_set_new(j, "entry", json_integer(c->entry_id));
            json_object_set_new(j, "subject_ref", json_string(ref));
            json_object_set_new(j, "score", json_real(dec6(c->score)));
            json_object_set_new(j, "image_kept", json_boolean(nsealed > 0));
        }
        st = audit(s, officer, LFR_AUDIT_CHECK_PHOTO, deployment_id, j, err);
    }
    st = finish(s, st);
    if (st == LFR_OK && check_id) *check_id = id;
    return st;
}

lfr_status lfr_deploy_alert_record(lfr_store *s, int64_t deployment_id, const lfr_alert *a,
                                   const lfr_actor *by, int64_t *alert_id, lfr_err *err) {
    if (alert_id) *alert_id = 0;
    lfr_status st = lfr_actor_check(by, err);
    if (st == LFR_OK) st = text_ok(a->camera, LFR_MAX_ACTOR, "camera", 1, err);
    if (st == LFR_OK && a->face_image && a->face_image_len > LFR_MAX_IMAGE_BYTES)
        st = lfr_err_set(err, LFR_ERR_TOO_LARGE, "alert image exceeds %u bytes", LFR_MAX_IMAGE_BYTES);
    if (st == LFR_OK && !isfinite(a->score))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "alert score is not finite");
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    st = lfr_deploy_require_live(s, deployment_id, err);
    char ref[LFR_MAX_ACTOR] = "";
    if (st == LFR_OK) st = entry_ref(s, deployment_id, a->entry_id, ref, err);
    lfr_store_stmt *q;
    int row;
    double thr = 0;
    if (st == LFR_OK) {
        st = lfr_store_stmt_prepare(s, "SELECT threshold FROM deployments WHERE id = ?", &q, err);
        if (st == LFR_OK) {
            lfr_store_stmt_bind_int64(q, 1, deployment_id);
            st = lfr_store_stmt_step(q, &row, err);
            thr = lfr_store_stmt_double(q, 0);
            lfr_store_stmt_finalize(q);
        }
    }
    if (st == LFR_OK && (double)a->score < (double)(float)thr)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG,
                         "alert score %.4f is below the authorised threshold %.4f",
                         (double)a->score, thr);
    uint8_t *sealed = NULL;
    size_t nsealed = 0;
    if (st == LFR_OK && a->face_image && a->face_image_len)
        st = lfr_store_seal(s, a->face_image, a->face_image_len, &sealed, &nsealed);
    int64_t id = 0;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "INSERT INTO alerts(deployment_id, entry_id, subject_ref, "
                                    "camera, at, score, threshold, face_image) VALUES(?,?,?,?,?,?,?,?)",
                                    &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, deployment_id);
        lfr_store_stmt_bind_int64(q, 2, a->entry_id);
        lfr_store_stmt_bind_text(q, 3, ref);
        lfr_store_stmt_bind_text(q, 4, a->camera);
        lfr_store_stmt_bind_int64(q, 5, lfr_store_now(s));
        lfr_store_stmt_bind_double(q, 6, a->score);
        lfr_store_stmt_bind_double(q, 7, thr);
        lfr_store_stmt_bind_blob(q, 8, sealed, nsealed);
        st = lfr_store_stmt_step(q, &row, err);
        id = lfr_store_last_id(s);
        lfr_store_stmt_finalize(q);
    }
    lfr_free(sealed);
    if (st == LFR_OK)
        st = audit(s, by, LFR_AUDIT_ALERT_RAISE, deployment_id,
                   json_pack("{s:I, s:I, s:s, s:s, s:f, s:f}", "alert", (json_int_t)id, "entry",
                             (json_int_t)a->entry_id, "subject_ref", ref, "camera", a->camera,
                             "score", dec6(a->score), "threshold", dec6(thr)),
                   err);
    st = finish(s, st);
    if (st == LFR_OK && alert_id) *alert_id = id;
    return st;
}

lfr_status lfr_deploy_alert_update(lfr_store *s, int64_t alert_id, float score,
                                   const uint8_t *face_image, size_t face_image_len,
                                   const lfr_actor *by, lfr_err *err) {
    lfr_status st = lfr_actor_check(by, err);
    if (st == LFR_OK && !isfinite(score))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "alert score is not finite");
    if (st == LFR_OK && face_image && face_image_len > LFR_MAX_IMAGE_BYTES)
        st = lfr_err_set(err, LFR_ERR_TOO_LARGE, "alert image exceeds %u bytes", LFR_MAX_IMAGE_BYTES);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    int64_t dep = 0;
    st = lfr_store_query_int64(s, "SELECT deployment_id FROM alerts WHERE id = ?", 1, alert_id, 0,
                               &dep, err);
    if (st == LFR_OK && dep == 0)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no alert %lld", (long long)alert_id);
    if (st == LFR_OK) st = lfr_deploy_require_live(s, dep, err);
    lfr_store_stmt *q = NULL;
    int row = 0;
    double old = 0;
    int64_t decided = 0;
    if (st == LFR_OK) {
        st = lfr_store_stmt_prepare(s, "SELECT score, decided_at IS NOT NULL FROM alerts WHERE id = ?",
                                    &q, err);
        if (st == LFR_OK) {
            lfr_store_stmt_bind_int64(q, 1, alert_id);
            st = lfr_store_stmt_step(q, &row, err);
            old = lfr_store_stmt_double(q, 0);
            decided = lfr_store_stmt_int64(q, 1);
            lfr_store_stmt_finalize(q);
        }
    }
    if (st == LFR_OK && decided)
        st = lfr_err_set(err, LFR_ERR_STATE, "alert %lld has been decided; it is not changed",
                         (long long)alert_id);
    if (st == LFR_OK && !((double)score > old))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "an update must score higher than %.4f", old);
    uint8_t *sealed = NULL;
    size_t nsealed = 0;
    if (st == LFR_OK && face_image && face_image_len)
        st = lfr_store_seal(s, face_image, face_image_len, &sealed, &nsealed);
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s, "UPDATE alerts SET score = ?, face_image = COALESCE(?, face_image) "
                                       "WHERE id = ?", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_double(q, 1, score);
        if (sealed) lfr_store_stmt_bind_blob(q, 2, sealed, nsealed);
        else lfr_store_stmt_bind_null(q, 2);
        lfr_store_stmt_bind_int64(q, 3, alert_id);
        st = lfr_store_stmt_step(q, &row, err);
        lfr_store_stmt_finalize(q);
    }
    lfr_free(sealed);
    if (st == LFR_OK)
        st = audit(s, by, LFR_AUDIT_ALERT_UPDATE, dep,
                   json_pack("{s:I, s:f, s:f}", "alert", (json_int_t)alert_id, "score",
                             dec6(score), "previous_score", dec6(old)),
                   err);
    return finish(s, st);
}

lfr_status lfr_deploy_alert_decide(lfr_store *s, int64_t alert_id, int confirmed,
                                   const char *outcome, const lfr_actor *by, lfr_err *err) {
    lfr_status st = lfr_actor_check(by, err);
    if (st == LFR_OK) st = text_ok(outcome, LFR_MAX_TEXT, "outcome", 0, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    int64_t dep = 0, decided = 0;
    st = lfr_store_query_int64(s, "SELECT deployment_id FROM alerts WHERE id = ?", 1, alert_id, 0,
                               &dep, err);
    if (st == LFR_OK && dep == 0)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no alert %lld", (long long)alert_id);
    if (st == LFR_OK)
        st = lfr_store_query_int64(s, "SELECT decision IS NOT NULL FROM alerts WHERE id = ?", 1,
                                   alert_id, 0, &decided, err);
    if (st == LFR_OK && decided)
        st = lfr_err_set(err, LFR_ERR_STATE, "alert %lld has already been decided", (long long)alert_id);
    lfr_store_stmt *q;
    int row;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "UPDATE alerts SET decision = ?, decided_by = ?, decided_at = ?, "
                                    "outcome = ? WHERE id = ?", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_text(q, 1, confirmed ? "confirmed" : "rejected");
        lfr_store_stmt_bind_text(q, 2, by->name);
        lfr_store_stmt_bind_int64(q, 3, lfr_store_now(s));
        lfr_store_stmt_bind_text(q, 4, outcome);
        lfr_store_stmt_bind_int64(q, 5, alert_id);
        st = lfr_store_stmt_step(q, &row, err);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK)
        st = audit(s, by, LFR_AUDIT_ALERT_DECISION, dep,
                   json_pack("{s:I, s:s, s:s?}", "alert", (json_int_t)alert_id, "decision",
                             confirmed ? "confirmed" : "rejected", "outcome", outcome),
                   err);
    return finish(s, st);
}

/* Retention ----------------------------------------------------------------- */
static const lfr_actor retention_actor = {"openlfr-retention", LFR_ROLE_SYSTEM};

typedef struct due {
    int64_t dep, a, b;
} due;

/* Runs `sql` (one int64 parameter) and collects (col0, col1, col2) rows. */
static lfr_status collect(lfr_store *s, const char *sql, int64_t p, due **out, size_t *n,
                          lfr_err *err) {
    *out = NULL;
    *n = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, sql, &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, p);
    size_t cap = 0;
    for (;;) {
        int row = 0;
        st = lfr_store_stmt_step(q, &row, err);
        if (st != LFR_OK || !row) break;
        if ((st = grow(out, &cap, *n, sizeof **out)) != LFR_OK) break;
        (*out)[*n].dep = lfr_store_stmt_int64(q, 0);
        (*out)[*n].a = lfr_store_stmt_int64(q, 1);
        (*out)[*n].b = lfr_store_stmt_int64(q, 2);
        (*n)++;
    }
    lfr_store_stmt_finalize(q);
    if (st != LFR_OK) {
        lfr_free(*out);
        *out = NULL;
        *n = 0;
    }
    return st;
}

/* Data kept for a period after it was made (alerts, photo checks): the
 * rows, their sealed images and the receipt's wording, one row each. */
typedef struct aged_rule {
    const char *table, *image_col, *data_class, *rule;
} aged_rule;

static const aged_rule aged_rules[] = {
    {"alerts", "face_image", "alerts", "alert_retention"},
    {"photo_checks", "image", "photo_checks", "photo_check_retention"},
};

/* Deletes the rows of `ar` made at or before now - period, per deployment,
 * each deletion with its receipt; adds to the report counters. */
static lfr_status purge_aged(lfr_store *s, const aged_rule *ar, int64_t period, int64_t now,
                             int64_t *rows, int64_t *images, int64_t *receipts, lfr_err *err) {
    char sel[256], del[160];
    snprintf(sel, sizeof sel,
             "SELECT deployment_id, count(*), count(%s) FROM %s WHERE at <= ? "
             "GROUP BY deployment_id ORDER BY deployment_id", ar->image_col, ar->table);
    snprintf(del, sizeof del, "DELETE FROM %s WHERE deployment_id = ? AND at <= ?", ar->table);
    due *d;
    size_t n;
    lfr_status st = collect(s, sel, now - period, &d, &n, err);
    for (size_t i = 0; st == LFR_OK && i < n; i++) {
        st = exec_n(s, del, 2, d[i].dep, now - period, err);
        if (st == LFR_OK)
            st = audit(s, &retention_actor, LFR_AUDIT_RETENTION_DELETE, d[i].dep,
                       json_pack("{s:s, s:I, s:I, s:s, s:I, s:I}", "data_class", ar->data_class,
                                 "count", (json_int_t)d[i].a, "image_count", (json_int_t)d[i].b,
                                 "rule", ar->rule, "rule_seconds", (json_int_t)period,
                                 "deleted_at", (json_int_t)now),
                       err);
        if (st == LFR_OK) {
            *rows += d[i].a;
            *images += d[i].b;
            (*receipts)++;
        }
    }
    lfr_free(d);
    return st;
}

static lfr_status purge_in_tx(lfr_store *s, int64_t now, const lfr_retention_rules *r,
                              lfr_purge_report *rep, lfr_err *err) {
    due *d = NULL;
    size_t n = 0;
    /* 1. watchlists of deployments ended longer ago than the window */
    lfr_status st = collect(s,
                            "SELECT id, ended_at, 0 FROM deployments WHERE state = 'ended' AND "
                            "watchlist_deleted_at IS NULL AND ended_at <= ? ORDER BY id",
                            now - r->watchlist_after_end_s, &d, &n, err);
    for (size_t i = 0; st == LFR_OK && i < n; i++) {
        int64_t entries = 0, images = 0;
        st = lfr_store_query_int64(s, "SELECT count(*) FROM watchlist_entries WHERE deployment_id = ?",
                                   1, d[i].dep, 0, &entries, err);
        if (st == LFR_OK)
            st = lfr_store_query_int64(s, "SELECT count(*) FROM entry_images WHERE entry_id IN "
                                          "(SELECT id FROM watchlist_entries WHERE deployment_id = ?)",
                                       1, d[i].dep, 0, &images, err);
        if (st == LFR_OK)
            st = exec_n(s, "DELETE FROM entry_images WHERE entry_id IN (SELECT id FROM "
                          "watchlist_entries WHERE deployment_id = ?)", 1, d[i].dep, 0, err);
        if (st == LFR_OK)
            st = exec_n(s, "DELETE FROM watchlist_entries WHERE deployment_id = ?", 1, d[i].dep, 0, err);
        if (st == LFR_OK)
            st = exec_n(s, "UPDATE deployments SET watchlist_deleted_at = ? WHERE id = ?", 2, now, d[i].dep, err);
        if (st == LFR_OK)
            st = audit(s, &retention_actor, LFR_AUDIT_RETENTION_DELETE, d[i].dep,
                       json_pack("{s:s, s:I, s:I, s:s, s:I, s:I, s:I}", "data_class", "watchlist",
                                 "count", (json_int_t)entries, "image_count", (json_int_t)images, "rule",
                                 "watchlist_after_end", "rule_seconds",
                                 (json_int_t)r->watchlist_after_end_s, "ended_at",
                                 (json_int_t)d[i].a, "deleted_at", (json_int_t)now),
                       err);
        if (st == LFR_OK) {
            rep->watchlists++;
            rep->entries += entries;
            rep->images += images;
            rep->receipts++;
        }
    }
    lfr_free(d);
    if (st != LFR_OK) return st;

    /* 2, 3. alerts and photo checks older than their retention period,
     * per deployment (one row of aged_rules each). */
    const int64_t periods[] = {r->alerts_s, r->photo_checks_s};
    int64_t *counts[][2] = {{&rep->alerts, &rep->alert_images},
                            {&rep->photo_checks, &rep->photo_check_images}};
    for (size_t k = 0; k < sizeof aged_rules / sizeof aged_rules[0]; k++) {
        st = purge_aged(s, &aged_rules[k], periods[k], now, counts[k][0], counts[k][1],
                        &rep->receipts, err);
        if (st != LFR_OK) return st;
    }

    /* 4. ended deployments with nothing left move to purged */
    st = collect(s,
                 "SELECT id, 0, 0 FROM deployments d WHERE state = 'ended' AND "
                 "watchlist_deleted_at IS NOT NULL AND "
                 "NOT EXISTS (SELECT 1 FROM alerts a WHERE a.deployment_id = d.id) AND "
                 "NOT EXISTS (SELECT 1 FROM photo_checks c WHERE c.deployment_id = d.id) AND "
                 "NOT EXISTS (SELECT 1 FROM watchlist_entries e WHERE e.deployment_id = d.id) "
                 "AND ? IS NOT NULL ORDER BY id",
                 0, &d, &n, err);
    for (size_t i = 0; st == LFR_OK && i < n; i++) {
        st = exec_n(s, "UPDATE deployments SET state = 'purged', purged_at = ? WHERE id = ?", 2, now,
                   d[i].dep, err);
        if (st == LFR_OK) st = event(s, d[i].dep, &retention_actor, "purge", err);
        if (st == LFR_OK)
            st = audit(s, &retention_actor, LFR_AUDIT_DEPLOYMENT_PURGE, d[i].dep,
                       json_pack("{s:I}", "purged_at", (json_int_t)now), err);
        if (st == LFR_OK) rep->deployments_purged++;
    }
    lfr_free(d);
    return st;
}

lfr_status lfr_deploy_purge(lfr_store *s, int64_t now, const lfr_retention_rules *rules,
                            lfr_purge_report *report, lfr_err *err) {
    lfr_retention_rules def;
    if (!rules) {
        lfr_retention_rules_default(&def);
        rules = &def;
    }
    memset(report, 0, sizeof *report);
    if (rules->watchlist_after_end_s < 0 || rules->alerts_s < 0 || rules->photo_checks_s < 0)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "retention periods must not be negative");
    lfr_status st = lfr_store_tx_begin(s);
    if (st != LFR_OK) return st;
    st = finish(s, purge_in_tx(s, now, rules, report, err));
    if (st != LFR_OK) {
        memset(report, 0, sizeof *report);
        return st;
    }
    if (lfr_store_tx_depth(s) == 0) st = lfr_store_compact(s, err);
    return st;
}
