/*
 * report.c - builds the transparency report (report.h) from one
 * deployment's row and its audit records.
 *
 * One pass over the deployment's records in seq order (lfr_audit_each):
 * each action has its handler (RP_ACTION_LIST); the handlers fold the
 * records into counters, then report_json() writes the object.  Records
 * are the log's own (canonical JSON details), read defensively: a field
 * missing from an older record counts as absent, never as zero.
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "deploy/deploy.h"
#include "match/match.h"
#include "report_int.h"

/* The reasons the officers' app offers for a photo check (src/app/
 * ops_check.c); anything else (the CLI's free text, "other: ...") is
 * counted as "other": free text may name the person checked. */
#define RP_CHECK_REASON_LIST(X)                                                \
    X(MATCHES_DESCRIPTION, "matches_description")                              \
    X(INTELLIGENCE, "intelligence")                                            \
    X(BEHAVIOUR, "behaviour")                                                  \
    X(OTHER, "other")

enum {
#define RP_REASON_ENUM(id, name) RP_REASON_##id,
    RP_CHECK_REASON_LIST(RP_REASON_ENUM)
#undef RP_REASON_ENUM
    RP_REASON_COUNT
};
static const char *const reason_names[] = {
#define RP_REASON_NAME(id, name) name,
    RP_CHECK_REASON_LIST(RP_REASON_NAME)
#undef RP_REASON_NAME
};

/* Bucket widths for "alerts over time", seconds: the smallest that keeps
 * the deployment within LFR_REPORT_MAX_TIME_BUCKETS bars. */
static const int64_t bucket_widths[] = {60, 300, 900, 1800, 3600, 7200, 21600, 86400, 604800};

typedef struct rp_entry {
    int64_t id;
    int category;              /* lfr_watchlist_category, -1 unknown */
    int under_18, justified, warned;
    int64_t images;
    int removed;
} rp_entry;

typedef struct rp_alert {
    int64_t id, at, entry, seq;
    int decision;              /* 0 none, 1 confirmed, 2 rejected */
    int dispatched;
    int outcome;               /* lfr_alert_outcome, -1 none */
    int photos;                /* entry_photos of what matched, 0 not recorded */
} rp_alert;

typedef struct rp_amend {
    int64_t id, propose_seq, proposed_at, auth_seq, authorised_at;
    char proposed_by[LFR_MAX_ACTOR], authorised_by[LFR_MAX_ACTOR];
    char reason[LFR_MAX_TEXT];
    int has_threshold;
    double threshold;
    int64_t remove_entry;
} rp_amend;

typedef struct rp_state {
    lfr_status st;
    rp_entry *entries;
    size_t n_entries, cap_entries;
    rp_alert *alerts;
    size_t n_alerts, cap_alerts;
    rp_amend *amends;
    size_t n_amends, cap_amends;
    int64_t *checkpoints;      /* seqs of audit.checkpoint records */
    size_t n_checkpoints, cap_checkpoints;
    char (*officers)[LFR_MAX_ACTOR];
    size_t n_officers, cap_officers;
    int64_t *devices;
    size_t n_devices, cap_devices;
    json_t *deletions;         /* array of receipts */
    json_t *warning_kinds;     /* kind -> images */
    json_t *alerts_by_camera;  /* camera -> alerts */
    json_t *cameras_added;     /* names, in order */
    int64_t cameras_removed;
    int64_t checks, by_reason[RP_REASON_COUNT], by_result[LFR_PHOTO_CHECK_RESULT_COUNT];
    int64_t checks_matched, checks_matched_unalerted, checks_from_cli;
    int64_t entries_added, entries_removed_draft, entries_removed_amend;
    char started_by[LFR_MAX_ACTOR];
    int has_auth_threshold;
    double auth_threshold;
    int64_t auth_seq;
    json_t *watchlist_receipt; /* the retention.delete of the watchlist */
} rp_state;

/* Growable arrays ------------------------------------------------------------ */
static int grow(void **arr, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return 1;
    size_t nc = *cap ? *cap * 2 : 16, bytes;
    if (lfr_mul_size(nc, elem, &bytes)) return 0;
    void *p = lfr_realloc(*arr, bytes);
    if (!p) return 0;
    *arr = p;
    *cap = nc;
    return 1;
}
#define RP_PUSH(S, ARR, N, CAP)                                                \
    (grow((void **)&(S)->ARR, &(S)->CAP, (S)->N, sizeof *(S)->ARR)             \
         ? &(S)->ARR[(S)->N++]                                                 \
         : ((S)->st = LFR_ERR_NOMEM, NULL))

/* Ids grow with seq, so the arrays are sorted: binary search. */
static rp_entry *find_entry(rp_state *s, int64_t id) {
    size_t lo = 0, hi = s->n_entries;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (s->entries[m].id < id) lo = m + 1;
        else hi = m;
    }
    return lo < s->n_entries && s->entries[lo].id == id ? &s->entries[lo] : NULL;
}
static rp_alert *find_alert(rp_state *s, int64_t id) {
    size_t lo = 0, hi = s->n_alerts;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (s->alerts[m].id < id) lo = m + 1;
        else hi = m;
    }
    return lo < s->n_alerts && s->alerts[lo].id == id ? &s->alerts[lo] : NULL;
}
static rp_amend *find_amend(rp_state *s, int64_t id) {
    for (size_t i = 0; i < s->n_amends; i++)
        if (s->amends[i].id == id) return &s->amends[i];
    return NULL;
}

static int64_t jint(const json_t *o, const char *k, int64_t dflt) {
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}
static const char *jstr(const json_t *o, const char *k) {
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}
static void count_key(rp_state *s, json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (json_object_set_new(obj, key, json_integer(v ? json_integer_value(v) + 1 : 1)))
        s->st = LFR_ERR_NOMEM;
}

/* Handlers, one per action ---------------------------------------------------- */
typedef void (*rp_handler)(rp_state *s, const lfr_audit_record *r, json_t *d);

static void on_watchlist_add(rp_state *s, const lfr_audit_record *r, json_t *d) {
    (void)r;
    int64_t id = jint(d, "entry", 0);
    if (id <= 0 || find_entry(s, id)) return;
    rp_entry *e = RP_PUSH(s, entries, n_entries, cap_entries);
    if (!e) return;
    memset(e, 0, sizeof *e);
    e->id = id;
    e->images = 1;
    lfr_watchlist_category c;
    const char *cat = jstr(d, "category");
    e->category = cat && lfr_watchlist_category_parse(cat, &c) == LFR_OK ? (int)c : -1;
    e->under_18 = json_is_true(json_object_get(d, "under_18"));
    const char *j = jstr(d, "under_18_justification");
    e->justified = e->under_18 && j && j[0];
    /* quality warnings the officer accepted: an array (enrol.h), or its
     * text in older records */
    json_t *w = json_object_get(d, "quality_warnings"), *parsed = NULL;
    if (json_is_string(w)) w = parsed = json_loads(json_string_value(w), 0, NULL);
    if (json_is_array(w) && json_array_size(w) > 0) {
        e->warned = 1;
        size_t i;
        json_t *it;
        json_array_foreach(w, i, it) {
            const char *kind = jstr(it, "kind");
            count_key(s, s->warning_kinds, kind ? kind : "unnamed");
        }
    }
    json_decref(parsed);
    s->entries_added++;
}

static void on_image_add(rp_state *s, const lfr_audit_record *r, json_t *d) {
    (void)r;
    rp_entry *e = find_entry(s, jint(d, "entry", 0));
    if (e) e->images++;
}

static void on_watchlist_remove(rp_state *s, const lfr_audit_record *r, json_t *d) {
    (void)r;
    rp_entry *e = find_entry(s, jint(d, "entry", 0));
    if (e && !e->removed) {
        e->removed = 1;
        s->entries_removed_draft++;
    }
}

static void on_start(rp_state *s, const lfr_audit_record *r, json_t *d) {
    (void)d;
    snprintf(s->started_by, sizeof s->started_by, "%s", r->actor);
}

static void on_authorise(rp_state *s, const lfr_audit_record *r, json_t *d) {
    json_t *t = json_object_get(d, "threshold");
    if (json_is_number(t)) {
        s->has_auth_threshold = 1;
        s->auth_threshold = json_number_value(t);
        s->auth_seq = r->seq;
    }
}

static void on_amend_propose(rp_state *s, const lfr_audit_record *r, json_t *d) {
    rp_amend *a = RP_PUSH(s, amends, n_amends, cap_amends);
    if (!a) return;
    memset(a, 0, sizeof *a);
    a->id = jint(d, "amendment", 0);
    a->propose_seq = r->seq;
    a->proposed_at = r->at;
    snprintf(a->proposed_by, sizeof a->proposed_by, "%s", r->actor);
    const char *why = jstr(d, "reason");
    snprintf(a->reason, sizeof a->reason, "%s", why ? why : "");
    json_t *t = json_object_get(d, "new_threshold");
    a->has_threshold = json_is_number(t);
    a->threshold = a->has_threshold ? json_number_value(t) : 0;
    a->remove_entry = jint(d, "remove_entry", 0);
}

static void on_amend(rp_state *s, const lfr_audit_record *r, json_t *d) {
    rp_amend *a = find_amend(s, jint(d, "amendment", 0));
    if (!a) return;
    a->auth_seq = r->seq;
    a->authorised_at = r->at;
    snprintf(a->authorised_by, sizeof a->authorised_by, "%s", r->actor);
    rp_entry *e = find_entry(s, jint(d, "removed_entry", 0));
    if (e && !e->removed) {
        e->removed = 1;
        s->entries_removed_amend++;
    }
}

static void on_alert_raise(rp_state *s, const lfr_audit_record *r, json_t *d) {
    int64_t id = jint(d, "alert", 0);
    if (id <= 0 || find_alert(s, id)) return;
    rp_alert *a = RP_PUSH(s, alerts, n_alerts, cap_alerts);
    if (!a) return;
    *a = (rp_alert){.id = id, .at = r->at, .entry = jint(d, "entry", 0), .seq = r->seq,
                    .outcome = -1, .photos = (int)jint(d, "entry_photos", 0)};
    const char *cam = jstr(d, "camera");
    count_key(s, s->alerts_by_camera, cam && cam[0] ? cam : "unnamed");
}

/* A better match on the same track: what it matched may differ. */
static void on_alert_update(rp_state *s, const lfr_audit_record *r, json_t *d) {
    (void)r;
    rp_alert *a = find_alert(s, jint(d, "alert", 0));
    if (a) a->photos = (int)jint(d, "entry_photos", a->photos);
}

static void on_alert_decision(rp_state *s, const lfr_audit_record *r, json_t *d) {
    (void)r;
    rp_alert *a = find_alert(s, jint(d, "alert", 0));
    const char *dec = jstr(d, "decision");
    if (a && dec && !a->decision) a->decision = !strcmp(dec, "confirmed") ? 1 : 2;
}

static void on_alert_dispatch(rp_state *s, const lfr_audit_record *r, json_t *d) {
    (void)r;
    rp_alert *a = find_alert(s, jint(d, "alert", 0));
    if (a) a->dispatched = 1;
}

static void on_alert_outcome(rp_state *s, const lfr_audit_record *r, json_t *d) {
    (void)r;
    rp_alert *a = find_alert(s, jint(d, "alert", 0));
    const char *o = jstr(d, "outcome");
    lfr_alert_outcome oc;
    if (a && o && a->outcome < 0 && lfr_alert_outcome_parse(o, &oc) == LFR_OK) a->outcome = (int)oc;
}

static void on_check(rp_state *s, const lfr_audit_record *r, json_t *d) {
    s->checks++;
    const char *why = jstr(d, "reason");
    int reason = RP_REASON_OTHER;
    for (int i = 0; why && i < RP_REASON_COUNT; i++)
        if (!strcmp(why, reason_names[i])) reason = i;
    s->by_reason[reason]++;
    const char *res = jstr(d, "result");
    for (int i = 0; res && i < LFR_PHOTO_CHECK_RESULT_COUNT; i++)
        if (!strcmp(res, lfr_photo_check_result_name((lfr_photo_check_result)i))) s->by_result[i]++;
    if (res && !strcmp(res, "match")) {
        s->checks_matched++;
        /* "of a person no camera had alerted on": no alert on that entry
         * before this check (records are in seq order) */
        int64_t entry = jint(d, "entry", 0);
        int alerted = 0;
        for (size_t i = 0; i < s->n_alerts && !alerted; i++)
            alerted = s->alerts[i].entry == entry && s->alerts[i].seq < r->seq;
        if (!alerted) s->checks_matched_unalerted++;
    }
    int64_t dev = jint(d, "device", 0);
    if (dev <= 0) {
        s->checks_from_cli++;
    } else {
        size_t i = 0;
        while (i < s->n_devices && s->devices[i] != dev) i++;
        int64_t *p = i == s->n_devices ? RP_PUSH(s, devices, n_devices, cap_devices) : NULL;
        if (p) *p = dev;
    }
    size_t i = 0;
    while (i < s->n_officers && strcmp(s->officers[i], r->actor)) i++;
    if (i == s->n_officers) {
        char(*o)[LFR_MAX_ACTOR] = RP_PUSH(s, officers, n_officers, cap_officers);
        if (o) snprintf(*o, sizeof *o, "%s", r->actor);
    }
}

static void on_retention(rp_state *s, const lfr_audit_record *r, json_t *d) {
    const char *cls = jstr(d, "data_class"), *rule = jstr(d, "rule");
    json_t *o = json_pack("{s:I, s:I, s:s, s:I, s:I, s:s, s:I}", "seq", (json_int_t)r->seq,
                          "at", (json_int_t)r->at, "data_class", cls ? cls : "unknown", "count",
                          (json_int_t)jint(d, "count", 0), "image_count",
                          (json_int_t)jint(d, "image_count", 0), "rule", rule ? rule : "unknown",
                          "rule_seconds", (json_int_t)jint(d, "rule_seconds", 0));
    if (!o || json_array_append(s->deletions, o)) s->st = LFR_ERR_NOMEM;
    if (o && cls && !strcmp(cls, "watchlist") && !s->watchlist_receipt)
        s->watchlist_receipt = json_incref(o);
    json_decref(o);
}

static void on_camera_add(rp_state *s, const lfr_audit_record *r, json_t *d) {
    (void)r;
    const char *n = jstr(d, "name");
    if (n && json_array_append_new(s->cameras_added, json_string(n))) s->st = LFR_ERR_NOMEM;
}

static void on_camera_remove(rp_state *s, const lfr_audit_record *r, json_t *d) {
    (void)r;
    (void)d;
    s->cameras_removed++;
}

static void on_checkpoint(rp_state *s, const lfr_audit_record *r, json_t *d) {
    (void)d;
    int64_t *p = RP_PUSH(s, checkpoints, n_checkpoints, cap_checkpoints);
    if (p) *p = r->seq;
}

#define RP_ACTION_LIST(X)                                                      \
    X(WATCHLIST_ADD, on_watchlist_add)                                         \
    X(WATCHLIST_IMAGE_ADD, on_image_add)                                       \
    X(WATCHLIST_REMOVE, on_watchlist_remove)                                   \
    X(DEPLOYMENT_AUTHORISE, on_authorise)                                      \
    X(DEPLOYMENT_START, on_start)                                              \
    X(DEPLOYMENT_AMEND_PROPOSE, on_amend_propose)                              \
    X(DEPLOYMENT_AMEND, on_amend)                                              \
    X(ALERT_RAISE, on_alert_raise)                                             \
    X(ALERT_UPDATE, on_alert_update)                                           \
    X(ALERT_DECISION, on_alert_decision)                                       \
    X(ALERT_DISPATCH, on_alert_dispatch)                                       \
    X(ALERT_OUTCOME, on_alert_outcome)                                         \
    X(CHECK_PHOTO, on_check)                                                   \
    X(RETENTION_DELETE, on_retention)                                          \
    X(CAMERA_ADD, on_camera_add)                                               \
    X(CAMERA_REMOVE, on_camera_remove)                                         \
    X(CHECKPOINT, on_checkpoint)

static const struct {
    lfr_audit_action action;
    rp_handler fn;
} handlers[] = {
#define RP_HANDLER_ROW(id, fn) {LFR_AUDIT_##id, fn},
    RP_ACTION_LIST(RP_HANDLER_ROW)
#undef RP_HANDLER_ROW
};

static int on_record(const lfr_audit_record *r, void *ctx) {
    rp_state *s = ctx;
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        if (strcmp(r->action, lfr_audit_action_name(handlers[i].action))) continue;
        json_t *d = json_loads(r->details ? r->details : "{}", 0, NULL);
        if (json_is_object(d)) handlers[i].fn(s, r, d);
        json_decref(d);
        break;
    }
    return s->st != LFR_OK;
}

/* Writing the object ------------------------------------------------------------ */
static json_t *time_or_null(int64_t t) { return t > 0 ? json_integer((json_int_t)t) : json_null(); }
static json_t *text_or_null(const char *t) { return t && t[0] ? json_string(t) : json_null(); }
static double dec6(double x) { return round(x * 1e6) / 1e6; }
/* A rate to 6 significant digits (FMR reaches 1e-9). */
static double sig6(double x) {
    char b[32];
    snprintf(b, sizeof b, "%.6g", x);
    return strtod(b, NULL);
}

static json_t *deployment_json(const lfr_deploy_info *d, rp_state *s) {
    json_t *cams = json_array();
    /* the cameras named at creation (free text, comma-separated) */
    char buf[LFR_MAX_TEXT];
    snprintf(buf, sizeof buf, "%s", d->cameras);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); cams && t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        size_t n = strlen(t);
        while (n && t[n - 1] == ' ') t[--n] = 0;
        if (n) json_array_append_new(cams, json_string(t));
    }
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:s, s:I, s:o, s:o, "
                     "s:o, s:o, s:o, s:o, s:I}",
                     "id", (json_int_t)d->id, "name", d->name, "location", d->location,
                     "purpose", d->purpose, "legal_basis", d->legal_basis, "state",
                     lfr_deploy_state_name(d->state), "planned_start",
                     (json_int_t)d->planned_start, "planned_end", (json_int_t)d->planned_end,
                     "started_at", time_or_null(d->started_at), "ended_at",
                     time_or_null(d->ended_at), "created_by", d->created_by, "created_at",
                     (json_int_t)d->created_at, "authorised_by", text_or_null(d->authorised_by),
                     "authorised_at", time_or_null(d->authorised_at), "started_by",
                     text_or_null(s->started_by), "ended_by", text_or_null(d->ended_by),
                     "cameras_planned", cams ? cams : json_array(), "cameras_added",
                     json_incref(s->cameras_added), "cameras_removed",
                     (json_int_t)s->cameras_removed);
}

static json_t *watchlist_json(const lfr_deploy_info *d, rp_state *s, int64_t *templates,
                              int64_t *counted) {
    int64_t entries = 0, images = 0, under18 = 0, justified = 0, warned = 0, several = 0;
    int64_t by_images[LFR_MAX_ENTRY_IMAGES + 1] = {0};
    int64_t by_cat[LFR_WATCHLIST_CATEGORY_COUNT] = {0}, unknown_cat = 0;
    for (size_t i = 0; i < s->n_entries; i++) {
        const rp_entry *e = &s->entries[i];
        if (e->removed) continue;
        entries++;
        images += e->images;
        several += e->images > 1;
        if (e->images >= 0)
            by_images[e->images > LFR_MAX_ENTRY_IMAGES ? LFR_MAX_ENTRY_IMAGES : e->images]++;
        under18 += e->under_18;
        justified += e->justified;
        warned += e->warned;
        if (e->category >= 0) by_cat[e->category]++;
        else unknown_cat++;
    }
    *templates = lfr_deploy_searched_templates(entries, images, several);
    *counted = lfr_deploy_counted_comparisons(d->model_set, by_images);
    json_t *cat = json_object();
    for (int c = 0; cat && c < LFR_WATCHLIST_CATEGORY_COUNT; c++)
        json_object_set_new(cat, lfr_watchlist_category_name((lfr_watchlist_category)c),
                            json_integer(by_cat[c]));
    if (cat && unknown_cat) json_object_set_new(cat, "unknown", json_integer(unknown_cat));
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:O, s:o, s:I, s:o, s:o}",
                     "entries", (json_int_t)entries, "images", (json_int_t)images,
                     "entries_with_several_photos", (json_int_t)several, "entries_added",
                     (json_int_t)s->entries_added, "entries_removed_in_draft",
                     (json_int_t)s->entries_removed_draft, "entries_removed_by_amendment",
                     (json_int_t)s->entries_removed_amend, "by_category",
                     cat ? cat : json_object(), "under_18", (json_int_t)under18,
                     "under_18_with_justification", (json_int_t)justified,
                     "with_quality_warnings", (json_int_t)warned, "quality_warnings_by_kind",
                     s->warning_kinds, "digest_at_authorisation",
                     text_or_null(d->watchlist_digest), "entries_authorised",
                     (json_int_t)d->entries_authorised, "deleted_at",
                     time_or_null(d->watchlist_deleted_at), "deletion_receipt",
                     s->watchlist_receipt ? json_incref(s->watchlist_receipt) : json_null());
}

/* The threshold's meaning under the deployment's own model set's
 * calibration (an unknown set: mfn192's, and the JSON names the set used). */
static json_t *meaning_json(const char *model_set, double t, int64_t templates,
                            int64_t counted) {
    const lfr_match_calibration *cal = lfr_match_calibration_named(model_set);
    if (!cal) cal = lfr_match_calibration_default();
    lfr_match_threshold_meaning m;
    lfr_match_cal_threshold_info(cal, (float)t, (size_t)(counted > 0 ? counted : 0), &m);
    return json_pack("{s:s, s:f, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:b, s:o, s:o}", "model_set",
                     lfr_match_calibration_name(cal), "value", dec6(t),
                     "templates", (json_int_t)templates, "comparisons_counted",
                     (json_int_t)counted, "likeness",
                     round(m.likeness * 10) / 10, "false_match_rate", sig6(m.fmr), "fpir",
                     sig6(m.fpir), "expected_false_alerts_per_10k_faces",
                     sig6(m.false_alerts_per_10k), "share_found_lfw", dec6(m.tar),
                     "extrapolated", m.extrapolated, "worst_group",
                     m.worst_name ? json_string(m.worst_name) : json_null(),
                     "worst_group_false_alerts_per_10k_faces",
                     m.worst_name ? json_real(sig6(m.worst_false_alerts_per_10k)) : json_null());
}

static json_t *threshold_json(const lfr_deploy_info *d, rp_state *s, int64_t templates,
                              int64_t counted) {
    json_t *t = meaning_json(d->model_set, d->threshold, templates, counted);
    json_t *am = json_array();
    for (size_t i = 0; t && am && i < s->n_amends; i++) {
        const rp_amend *a = &s->amends[i];
        const rp_entry *e = a->remove_entry > 0 ? find_entry(s, a->remove_entry) : NULL;
        json_t *o = json_pack(
            "{s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "amendment", (json_int_t)a->id,
            "proposed_at", (json_int_t)a->proposed_at, "proposed_by", a->proposed_by, "reason",
            a->reason, "authorised_at", time_or_null(a->authorised_at), "authorised_by",
            text_or_null(a->authorised_by), "new_threshold",
            a->has_threshold ? json_real(dec6(a->threshold)) : json_null(),
            "new_threshold_meaning",
            a->has_threshold ? meaning_json(d->model_set, a->threshold, templates, counted)
                             : json_null(),
            "removes_entry_of_category",
            a->remove_entry <= 0 ? json_null()
            : e && e->category >= 0
                ? json_string(lfr_watchlist_category_name((lfr_watchlist_category)e->category))
                : json_string("unknown"),
            "audit_seq", json_integer(a->auth_seq ? a->auth_seq : a->propose_seq));
        if (!o || json_array_append_new(am, o)) s->st = LFR_ERR_NOMEM;
    }
    if (!t || !am) {
        json_decref(t);
        json_decref(am);
        return NULL;
    }
    json_object_set_new(t, "at_authorisation",
                        s->has_auth_threshold ? json_real(dec6(s->auth_threshold)) : json_null());
    json_object_set_new(t, "target_false_alerts_per_10k_faces",
                        d->target_false_alerts > 0 ? json_real(dec6(d->target_false_alerts))
                                                   : json_null());
    json_object_set_new(t, "amendments", am);
    return t;
}

static json_t *over_time_json(const lfr_deploy_info *d, rp_state *s, int64_t now) {
    int64_t start = d->started_at, end = d->ended_at ? d->ended_at : now;
    for (size_t i = 0; i < s->n_alerts; i++) {
        if (start <= 0 || s->alerts[i].at < start) start = s->alerts[i].at;
        if (s->alerts[i].at >= end) end = s->alerts[i].at + 1;
    }
    json_t *counts = json_array();
    int64_t width = bucket_widths[sizeof bucket_widths / sizeof bucket_widths[0] - 1];
    if (start <= 0 || end <= start)
        return json_pack("{s:o, s:I, s:o}", "start", json_null(), "bucket_seconds", (json_int_t)0,
                         "counts", counts);
    for (size_t i = 0; i < sizeof bucket_widths / sizeof bucket_widths[0]; i++)
        if ((end - start + bucket_widths[i] - 1) / bucket_widths[i] <= LFR_REPORT_MAX_TIME_BUCKETS) {
            width = bucket_widths[i];
            break;
        }
    int64_t nb = (end - start + width - 1) / width;
    if (nb > LFR_REPORT_MAX_TIME_BUCKETS) nb = LFR_REPORT_MAX_TIME_BUCKETS;
    int64_t c[LFR_REPORT_MAX_TIME_BUCKETS] = {0};
    for (size_t i = 0; i < s->n_alerts; i++) {
        int64_t b = (s->alerts[i].at - start) / width;
        c[b < nb ? b : nb - 1]++;
    }
    for (int64_t b = 0; counts && b < nb; b++) json_array_append_new(counts, json_integer(c[b]));
    return json_pack("{s:I, s:I, s:o}", "start", (json_int_t)start, "bucket_seconds",
                     (json_int_t)width, "counts", counts);
}

/* Alerts by the watchlist template that matched: one photo, the mean of
 * several (which resembles strangers more often: docs/likeness.md), or not
 * recorded (raised before openlfr kept it). */
enum { RP_TPL_ONE, RP_TPL_MEAN, RP_TPL_UNKNOWN, RP_TPL_COUNT };
static const char *const tpl_names[RP_TPL_COUNT] = {"one_photo", "mean_of_photos",
                                                    "not_recorded"};

static int is_false_alert(const rp_alert *a) {
    return a->decision == 2 || a->outcome == LFR_ALERT_OUTCOME_MISTAKEN_IDENTITY;
}

static json_t *by_template_json(const rp_state *s) {
    int64_t n[RP_TPL_COUNT] = {0}, f[RP_TPL_COUNT] = {0};
    for (size_t i = 0; i < s->n_alerts; i++) {
        const rp_alert *a = &s->alerts[i];
        int k = a->photos <= 0 ? RP_TPL_UNKNOWN : a->photos == 1 ? RP_TPL_ONE : RP_TPL_MEAN;
        n[k]++;
        f[k] += is_false_alert(a);
    }
    json_t *o = json_object();
    for (int k = 0; o && k < RP_TPL_COUNT; k++)
        json_object_set_new(o, tpl_names[k],
                            json_pack("{s:I, s:I}", "alerts", (json_int_t)n[k], "false_alerts",
                                      (json_int_t)f[k]));
    return o ? o : json_object();
}

static json_t *activity_json(const lfr_deploy_info *d, rp_state *s, int64_t now) {
    int64_t confirmed = 0, rejected = 0, dispatched = 0, out[LFR_ALERT_OUTCOME_COUNT] = {0};
    int64_t false_alerts = 0;
    for (size_t i = 0; i < s->n_alerts; i++) {
        const rp_alert *a = &s->alerts[i];
        confirmed += a->decision == 1;
        rejected += a->decision == 2;
        dispatched += a->dispatched;
        if (a->outcome >= 0) out[a->outcome]++;
        false_alerts += is_false_alert(a);
    }
    json_t *oc = json_object();
    for (int o = 0; oc && o < LFR_ALERT_OUTCOME_COUNT; o++)
        json_object_set_new(oc, lfr_alert_outcome_name((lfr_alert_outcome)o), json_integer(out[o]));
    int64_t alerts = (int64_t)s->n_alerts;
    /* a false alert: rejected by the operator, or confirmed and then found
     * to be somebody else (mistaken identity): is_false_alert */
    return json_pack(
        "{s:o, s:o, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:o, s:o, s:O, s:o, s:o}", "faces_seen",
        json_null(), "tracks", json_null(), "faces_seen_note",
        "not recorded: the live pipeline counts faces and tracks in memory only and the store "
        "keeps nothing about people who did not match, so no count of faces seen exists to "
        "report",
        "alerts", (json_int_t)alerts, "confirmed", (json_int_t)confirmed, "rejected",
        (json_int_t)rejected, "undecided", (json_int_t)(alerts - confirmed - rejected),
        "dispatched", (json_int_t)dispatched, "outcomes", oc ? oc : json_object(),
        "false_alerts", (json_int_t)false_alerts, "false_alerts_per_alert",
        alerts ? json_real(dec6((double)false_alerts / (double)alerts)) : json_null(),
        "false_alerts_per_face_seen", json_null(), "alerts_by_camera", s->alerts_by_camera,
        "alerts_over_time", over_time_json(d, s, now), "alerts_by_watchlist_template",
        by_template_json(s));
}

static json_t *checks_json(rp_state *s) {
    json_t *reasons = json_object(), *results = json_object();
    for (int i = 0; reasons && i < RP_REASON_COUNT; i++)
        json_object_set_new(reasons, reason_names[i], json_integer(s->by_reason[i]));
    for (int i = 0; results && i < LFR_PHOTO_CHECK_RESULT_COUNT; i++)
        json_object_set_new(results, lfr_photo_check_result_name((lfr_photo_check_result)i),
                            json_integer(s->by_result[i]));
    return json_pack("{s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:I}", "checks", (json_int_t)s->checks,
                     "by_reason", reasons ? reasons : json_object(), "by_result",
                     results ? results : json_object(), "matched",
                     (json_int_t)s->checks_matched, "matched_not_alerted_by_camera",
                     (json_int_t)s->checks_matched_unalerted, "officers",
                     (json_int_t)s->n_officers, "devices", (json_int_t)s->n_devices,
                     "from_cli", (json_int_t)s->checks_from_cli);
}

static json_t *verify_json(lfr_status st, const lfr_audit_report *r, const lfr_err *e) {
    char h[2 * LFR_AUDIT_HASH_BYTES + 1];
    lfr_audit_hash_hex(r->head_hash, h);
    return json_pack("{s:b, s:s, s:I, s:o, s:o, s:s}", "ok", st == LFR_OK, "status",
                     lfr_status_str(st), "records", (json_int_t)r->records, "bad_seq",
                     r->bad_seq > 0 ? json_integer(r->bad_seq) : json_null(), "head_hash",
                     r->head_seq > 0 ? json_string(h) : json_null(), "reason",
                     st == LFR_OK || st == LFR_ERR_INTEGRITY ? r->reason : e->msg);
}

static json_t *checkpoint_json(lfr_store *st, int64_t seq, const uint8_t *pinned) {
    lfr_audit_checkpoint c;
    lfr_err e = {{0}};
    lfr_status rc = lfr_audit_checkpoint_get(st, seq, &c, &e);
    if (rc != LFR_OK)
        return json_pack("{s:I, s:b, s:s, s:s}", "record_seq", (json_int_t)seq, "ok", 0,
                         "status", lfr_status_str(rc), "reason", e.msg);
    char head[65], pk[65];
    lfr_audit_hash_hex(c.head, head);
    lfr_audit_pubkey_hex(c.pk, pk);
    char *text = NULL;
    size_t len = 0;
    lfr_audit_report rep;
    memset(&rep, 0, sizeof rep);
    rc = lfr_audit_checkpoint_export(st, &c, 0, &text, &len, &e);
    if (rc == LFR_OK) rc = lfr_audit_checkpoint_verify(st, text, len, pinned, &rep, &e);
    lfr_free(text);
    return json_pack("{s:I, s:I, s:s, s:I, s:s, s:s, s:b, s:s, s:o, s:s}", "record_seq",
                     (json_int_t)seq, "seq", (json_int_t)c.seq, "head", head, "at",
                     (json_int_t)c.at, "reason_made", c.reason, "pubkey", pk, "ok", rc == LFR_OK,
                     "status", lfr_status_str(rc), "bad_seq",
                     rep.bad_seq > 0 ? json_integer(rep.bad_seq) : json_null(), "reason",
                     rc == LFR_OK || rc == LFR_ERR_INTEGRITY ? rep.reason : e.msg);
}

static json_t *integrity_json(lfr_store *st, const lfr_report_params *p, rp_state *s) {
    lfr_audit_report rep;
    lfr_err e = {{0}};
    memset(&rep, 0, sizeof rep);
    lfr_status rc = lfr_audit_verify(st, &rep, &e);
    if (rc == LFR_OK)
        snprintf(rep.reason, sizeof rep.reason, "%lld records and %lld anchors on one unbroken chain",
                 (long long)rep.records, (long long)rep.anchors);
    json_t *chain = verify_json(rc, &rep, &e);
    if (chain) json_object_set_new(chain, "head_seq", json_integer(rep.head_seq));
    memset(&rep, 0, sizeof rep);
    memset(&e, 0, sizeof e);
    rc = lfr_deploy_verify_rows(st, &rep, &e);
    if (rc == LFR_OK)
        snprintf(rep.reason, sizeof rep.reason, "%lld deployments agree with the log",
                 (long long)rep.records);
    json_t *rows = verify_json(rc, &rep, &e);
    json_t *cps = json_array();
    size_t first = s->n_checkpoints > LFR_REPORT_MAX_CHECKPOINTS
                       ? s->n_checkpoints - LFR_REPORT_MAX_CHECKPOINTS
                       : 0;
    for (size_t i = first; cps && i < s->n_checkpoints; i++) {
        json_t *o = checkpoint_json(st, s->checkpoints[i], p->pubkey);
        if (!o || json_array_append_new(cps, o)) s->st = LFR_ERR_NOMEM;
    }
    char pk[65] = "";
    if (p->pubkey) lfr_audit_pubkey_hex(p->pubkey, pk);
    return json_pack("{s:o, s:o, s:o, s:s, s:o, s:I}", "chain", chain ? chain : json_null(),
                     "deployment_rows", rows ? rows : json_null(), "pubkey",
                     p->pubkey ? json_string(pk) : json_null(), "pubkey_source",
                     p->pubkey ? (p->pubkey_source ? p->pubkey_source : "given")
                               : "not pinned: each checkpoint was checked with its own key",
                     "checkpoints", cps ? cps : json_array(), "checkpoints_not_verified",
                     (json_int_t)first);
}

static void state_free(rp_state *s) {
    lfr_free(s->entries);
    lfr_free(s->alerts);
    lfr_free(s->amends);
    lfr_free(s->checkpoints);
    lfr_free(s->officers);
    lfr_free(s->devices);
    json_decref(s->deletions);
    json_decref(s->warning_kinds);
    json_decref(s->alerts_by_camera);
    json_decref(s->cameras_added);
    json_decref(s->watchlist_receipt);
}

lfr_status lfr_report_build(lfr_store *st, const lfr_report_params *p, json_t **out,
                            lfr_err *err) {
    *out = NULL;
    if (!p || p->deployment_id <= 0)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "report: deployment id %lld is not valid",
                           p ? (long long)p->deployment_id : 0LL);
    lfr_deploy_info d;
    lfr_status rc = lfr_deploy_get(st, p->deployment_id, &d, err);
    if (rc != LFR_OK) return rc;
    rp_state s = {.st = LFR_OK,
                  .deletions = json_array(),
                  .warning_kinds = json_object(),
                  .alerts_by_camera = json_object(),
                  .cameras_added = json_array()};
    if (!s.deletions || !s.warning_kinds || !s.alerts_by_camera || !s.cameras_added) {
        state_free(&s);
        return LFR_ERR_NOMEM;
    }
    rc = lfr_audit_each(st, p->deployment_id, 1, 0, on_record, &s, err);
    if (rc == LFR_OK && s.st != LFR_OK) rc = lfr_err_set(err, s.st, "report: out of memory");
    int64_t now = p->generated_at > 0 ? p->generated_at : lfr_store_now(st);
    int64_t templates = 0, counted = 0;
    json_t *r = NULL;
    if (rc == LFR_OK) {
        json_t *wl = watchlist_json(&d, &s, &templates, &counted);
        r = json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:O, s:o}", "schema",
                      LFR_REPORT_SCHEMA, "generated_at", (json_int_t)now, "deployment",
                      deployment_json(&d, &s), "watchlist", wl, "threshold",
                      threshold_json(&d, &s, templates, counted), "activity", activity_json(&d, &s, now),
                      "photo_checks", checks_json(&s), "deletions", s.deletions, "integrity",
                      integrity_json(st, p, &s));
        if (!r || s.st != LFR_OK) rc = lfr_err_set(err, LFR_ERR_NOMEM, "report: out of memory");
    }
    state_free(&s);
    if (rc != LFR_OK) {
        json_decref(r);
        return rc;
    }
    *out = r;
    return LFR_OK;
}
