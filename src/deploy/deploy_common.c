/*
 * deploy_common.c - helpers shared by the deploy files (deploy_int.h), names
 * of states and categories.  See deploy.h.
 */
#include "deploy_int.h"
#include "match/match.h"

#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

static const char *const check_result_names[LFR_PHOTO_CHECK_RESULT_COUNT] = {
#define LFR_PHOTO_CHECK_RESULT_ROW(id, name) [LFR_PHOTO_CHECK_##id] = name,
    LFR_PHOTO_CHECK_RESULT_LIST(LFR_PHOTO_CHECK_RESULT_ROW)
#undef LFR_PHOTO_CHECK_RESULT_ROW
};

static const char *const outcome_names[LFR_ALERT_OUTCOME_COUNT] = {
#define LFR_ALERT_OUTCOME_ROW(id, name) [LFR_ALERT_OUTCOME_##id] = name,
    LFR_ALERT_OUTCOME_LIST(LFR_ALERT_OUTCOME_ROW)
#undef LFR_ALERT_OUTCOME_ROW
};

static const char *const source_names[LFR_ALERT_SOURCE_COUNT] = {
#define LFR_ALERT_SOURCE_ROW(id, name) [LFR_ALERT_FROM_##id] = name,
    LFR_ALERT_SOURCE_LIST(LFR_ALERT_SOURCE_ROW)
#undef LFR_ALERT_SOURCE_ROW
};

const char *lfr_alert_source_name(lfr_alert_source s) {
    return (unsigned)s < LFR_ALERT_SOURCE_COUNT ? source_names[s] : "unknown";
}

lfr_status lfr_alert_source_parse(const char *name, lfr_alert_source *out) {
    for (int i = 0; i < LFR_ALERT_SOURCE_COUNT; i++)
        if (name && strcmp(name, source_names[i]) == 0) {
            *out = (lfr_alert_source)i;
            return LFR_OK;
        }
    return LFR_ERR_INVALID_ARG;
}

const char *lfr_photo_check_result_name(lfr_photo_check_result r) {
    return (unsigned)r < LFR_PHOTO_CHECK_RESULT_COUNT ? check_result_names[r] : "unknown";
}

const char *lfr_alert_outcome_name(lfr_alert_outcome o) {
    return (unsigned)o < LFR_ALERT_OUTCOME_COUNT ? outcome_names[o] : "unknown";
}

lfr_status lfr_alert_outcome_parse(const char *name, lfr_alert_outcome *out) {
    for (int i = 0; i < LFR_ALERT_OUTCOME_COUNT; i++)
        if (name && strcmp(name, outcome_names[i]) == 0) {
            *out = (lfr_alert_outcome)i;
            return LFR_OK;
        }
    return LFR_ERR_INVALID_ARG;
}

const char *lfr_deploy_state_name(lfr_deploy_state st) {
    return (unsigned)st < LFR_DEPLOY_STATE_COUNT ? state_names[st] : "unknown";
}

lfr_deploy_state dp_state_parse(const char *s) {
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
double dp_dec6(double x) { return round(x * 1e6) / 1e6; }

lfr_status dp_text_ok(const char *v, size_t cap, const char *field, int required,
                      lfr_err *err) {
    if (!v || !v[0])
        return required ? lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s is required", field) : LFR_OK;
    return lfr_text_check(v, cap, field, err);
}

lfr_status dp_actor_ok(const lfr_actor *by, lfr_err *err) {
    lfr_status st = lfr_actor_check(by, err);
    char folded[LFR_MAX_ACTOR];
    if (st == LFR_OK) st = lfr_name_fold(by->name, folded, sizeof folded, err);
    return st;
}

/* The comparison key: folded, then spaces and ASCII punctuation dropped. */
static int person_key(const char *name, char *out, size_t cap) {
    char folded[LFR_MAX_TEXT];
    if (lfr_name_fold(name, folded, sizeof folded, NULL) != LFR_OK) return -1;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)folded; *p && o + 1 < cap; p++)
        if (*p >= 0x80 || isalnum(*p)) out[o++] = (char)*p;
    out[o] = '\0';
    if (o == 0) snprintf(out, cap, "%s", folded); /* a name of punctuation only */
    return 0;
}

int dp_same_person(const char *a, const char *b) {
    char ka[LFR_MAX_TEXT], kb[LFR_MAX_TEXT];
    if (person_key(a, ka, sizeof ka) != 0 || person_key(b, kb, sizeof kb) != 0)
        return strcasecmp(a, b) == 0;
    return strcmp(ka, kb) == 0;
}

lfr_status dp_threshold_ok(const char *model_set, float t, int unusual_ok, lfr_err *err) {
    if (!isfinite(t) || t <= 0.0f || t >= 1.0f)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "threshold %g is impossible: an alert threshold is a cosine "
                           "similarity above 0 and below 1 (at 0 or below different people "
                           "match)", (double)t);
    float lo, hi;
    lfr_status st = lfr_deploy_model_set_thresholds(model_set, NULL, &lo, &hi, err);
    if (st != LFR_OK) return st;
    if ((t < lo || t > hi) && !unusual_ok)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "threshold %.3f is outside the sane range %.3f..%.3f of model set %s "
                           "(%s); if this is really meant, confirm it with the "
                           "unusual-threshold flag",
                           (double)t, (double)lo, (double)hi, model_set ? model_set : "mfn192",
                           t < lo ? "below it the calibration predicts many false alerts"
                                  : "above it most people on the watchlist would be missed");
    return LFR_OK;
}

lfr_status lfr_deploy_model_set_thresholds(const char *model_set, float *def, float *sane_min,
                                           float *sane_max, lfr_err *err) {
    const lfr_match_calibration *c = lfr_match_calibration_named(model_set ? model_set : "mfn192");
    if (!c) {
        char known[128] = "";
        for (int i = 0; i < lfr_match_calibration_count(); i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                     lfr_match_calibration_name(lfr_match_calibration_at(i)));
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "model set \"%.40s\" is unknown (known: %s)",
                           model_set, known);
    }
    if (def) *def = lfr_match_cal_default_threshold(c);
    lfr_match_cal_sane_range(c, sane_min, sane_max);
    return LFR_OK;
}

int dp_model_set_dim(const char *name) {
    const lfr_match_calibration *c = lfr_match_calibration_named(name);
    return c ? lfr_match_calibration_dim(c) : 0;
}

lfr_status dp_model_set_of(lfr_store *s, int64_t dep, char *name, lfr_err *err) {
    name[0] = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT model_set FROM deployments WHERE id = ?", &q,
                                           err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, dep);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && !row)
        st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no deployment %lld", (long long)dep);
    if (st == LFR_OK) dp_copy(name, LFR_DEPLOY_MODEL_SET_MAX, lfr_store_stmt_text(q, 0));
    lfr_store_stmt_finalize(q);
    return st;
}

lfr_status dp_template_set_ok(lfr_store *s, int64_t entry_id, int dim, char *name,
                              lfr_err *err) {
    int64_t dep = 0;
    lfr_status st = lfr_store_query_int64(
        s, "SELECT deployment_id FROM watchlist_entries WHERE id = ?", 1, entry_id, 0, &dep, err);
    if (st == LFR_OK) st = dp_model_set_of(s, dep, name, err);
    if (st != LFR_OK) return st;
    const lfr_match_calibration *c = lfr_match_calibration_named(name);
    if (!c)
        return lfr_err_set(err, LFR_ERR_CORRUPT, "deployment %lld has an unknown model set \"%s\"",
                           (long long)dep, name);
    if (lfr_match_calibration_dim(c) != dim) {
        const char *other = "another model set";
        for (int i = 0; i < lfr_match_calibration_count(); i++)
            if (lfr_match_calibration_dim(lfr_match_calibration_at(i)) == dim)
                other = lfr_match_calibration_name(lfr_match_calibration_at(i));
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "template of %d values (%s) does not fit deployment %lld, whose model "
                           "set is %s (%d values): enrol with the deployment's model set",
                           dim, other, (long long)dep, name, lfr_match_calibration_dim(c));
    }
    return LFR_OK;
}

static int digits(const char *p, int n, int *v) {
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        *v = *v * 10 + (p[i] - '0');
    }
    return 0;
}

lfr_status dp_date_ok(const char *v, int64_t now, const char *field, lfr_err *err) {
    lfr_status st = dp_text_ok(v, 64, field, 1, err);
    if (st != LFR_OK) return st;
    size_t n = strlen(v);
    int y = 0, m = 0, d = 0;
    int ok = (n == 4 || n == 7 || n == 10) && digits(v, 4, &y) == 0;
    if (ok && n >= 7) ok = v[4] == '-' && digits(v + 5, 2, &m) == 0 && m >= 1 && m <= 12;
    if (ok && n == 10) {
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        ok = v[7] == '-' && digits(v + 8, 2, &d) == 0 && d >= 1 &&
             d <= mdays[m - 1] + (m == 2 && leap);
    }
    if (ok && y < 1900) ok = 0;
    if (!ok)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "%s must be a real date YYYY-MM-DD (or YYYY-MM or YYYY), e.g. "
                           "2024-05-01", field);
    time_t t = (time_t)now;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return lfr_err_set(err, LFR_ERR_INTERNAL, "clock out of range");
    long today = (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    /* a partial date counts from its first day */
    long given = y * 10000L + (m ? m : 1) * 100 + (d ? d : 1);
    if (given > today)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s %s is in the future", field, v);
    return LFR_OK;
}

void dp_copy(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src ? src : ""); }

/* Writes the audit record; takes ownership of `details`. */
lfr_status dp_audit(lfr_store *s, const lfr_actor *by, lfr_audit_action a, int64_t dep,
                        json_t *details, lfr_err *err) {
    if (!details) return LFR_ERR_NOMEM;
    char *txt = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(details);
    if (!txt) return LFR_ERR_NOMEM;
    lfr_status st = lfr_audit_append(s, by, a, dep, txt, NULL, err);
    free(txt);
    return st;
}

lfr_status dp_event(lfr_store *s, int64_t dep, const lfr_actor *by, const char *what,
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

lfr_status dp_get_state(lfr_store *s, int64_t id, lfr_deploy_state *state, lfr_err *err) {
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT state FROM deployments WHERE id = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, id);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && !row) st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no deployment %lld", (long long)id);
    if (st == LFR_OK) {
        *state = dp_state_parse(lfr_store_stmt_text(q, 0));
        if (*state == LFR_DEPLOY_STATE_COUNT)
            st = lfr_err_set(err, LFR_ERR_CORRUPT, "deployment %lld has an unknown state",
                             (long long)id);
    }
    lfr_store_stmt_finalize(q);
    return st;
}

/* Runs `sql` with `np` (1 or 2) int64 parameters a, b. */
lfr_status dp_exec_n(lfr_store *s, const char *sql, int np, int64_t a, int64_t b,
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

lfr_status dp_finish(lfr_store *s, lfr_status st) {
    if (st == LFR_OK) return lfr_store_tx_commit(s);
    lfr_store_tx_rollback(s);
    return st;
}

lfr_status dp_locked_msg(lfr_err *err, int64_t id, lfr_deploy_state state, const char *what) {
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

lfr_status dp_grow(void *arr, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return LFR_OK;
    size_t nc = *cap ? *cap * 2 : 8, bytes;
    if (lfr_mul_size(nc, elem, &bytes) != 0) return LFR_ERR_NOMEM;
    void *na = lfr_realloc(*(void **)arr, bytes);
    if (!na) return LFR_ERR_NOMEM;
    *(void **)arr = na;
    *cap = nc;
    return LFR_OK;
}

lfr_status dp_rows(lfr_store_stmt *q, size_t elem, dp_fill_fn fill, void **out, size_t *n,
                   lfr_err *err) {
    *out = NULL;
    *n = 0;
    unsigned char *arr = NULL;
    size_t cap = 0, cnt = 0;
    lfr_status st;
    for (;;) {
        int row = 0;
        st = lfr_store_stmt_step(q, &row, err);
        if (st != LFR_OK || !row) break;
        if ((st = dp_grow(&arr, &cap, cnt, elem)) != LFR_OK) {
            lfr_err_set(err, st, "no memory for %zu rows", cnt + 1);
            break;
        }
        void *e = arr + cnt++ * elem;
        memset(e, 0, elem);
        fill(q, e);
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

lfr_status dp_threshold_of(lfr_store *s, int64_t dep, double *thr, lfr_err *err) {
    *thr = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT threshold FROM deployments WHERE id = ?", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, dep);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && !row) st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no deployment %lld", (long long)dep);
    if (st == LFR_OK) *thr = lfr_store_stmt_double(q, 0);
    lfr_store_stmt_finalize(q);
    return st;
}
