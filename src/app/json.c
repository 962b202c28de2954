/*
 * json.c - one JSON form per object, used by both front ends, and the
 * time format they share.
 *
 * DESIGN
 *   Times are RFC 3339 UTC strings ("2025-06-01T10:00:00Z"), null when
 *   unset (0).  Text that is empty in the store ("" = not set) is null.
 *   Thresholds and scores are rounded to 6 decimals: the float's noise
 *   digits (0.699999988) would only confuse a reader.
 */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app_int.h"

json_t *lfr_json_time(int64_t t) {
    if (t <= 0) return json_null();
    time_t x = (time_t)t;
    struct tm tm;
    char b[32];
    if (!gmtime_r(&x, &tm) || !strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm)) return json_null();
    return json_string(b);
}

static json_t *jstr_or_null(const char *s) { return s && s[0] ? json_string(s) : json_null(); }
static json_t *jdec6(double x) { return json_real(round(x * 1e6) / 1e6); }
static json_t *jid(int64_t id) { return id > 0 ? json_integer(id) : json_null(); }

/* Sets every pair of a NULL-terminated list of (key, value) on o; a NULL
 * value (out of memory) makes the whole object NULL. */
static json_t *fill(json_t *o, const char *k, json_t *v, ...) {
    va_list ap;
    va_start(ap, v);
    int ok = o != NULL;
    while (k) {
        if (!v || !ok || json_object_set_new(o, k, v)) {
            ok = 0;
            json_decref(v);
        }
        k = va_arg(ap, const char *);
        if (k) v = va_arg(ap, json_t *);
    }
    va_end(ap);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *lfr_json_deployment(const lfr_deploy_info *d) {
    /* what the threshold means for this watchlist's size (the templates a
     * face is compared with: one per entry, lfr_deploy_searched_templates,
     * each counted for what its false matches weigh, lfr_deploy_counted_
     * comparisons; before any are added, the planned size or one) */
    lfr_match_threshold_meaning m;
    size_t planned = d->entries_authorised > 0 ? (size_t)d->entries_authorised
                     : d->target_templates > 0 ? (size_t)d->target_templates : 1;
    size_t n = d->counted > 0 ? (size_t)d->counted : planned;
    size_t searched = d->searched > 0 ? (size_t)d->searched : planned;
    const lfr_match_calibration *cal = lfr_match_calibration_named(d->model_set);
    float sane_min = 0, sane_max = 0;
    lfr_match_cal_threshold_info(cal, d->threshold, n, &m);
    lfr_match_cal_sane_range(cal, &sane_min, &sane_max);
    json_t *meaning = json_pack("{s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:b, s:f, s:f, s:f}",
                                "templates", (json_int_t)searched, "comparisons_counted",
                                (json_int_t)m.n_templates, "fmr", m.fmr, "fpir", m.fpir,
                                "false_alerts_per_10k_faces", m.false_alerts_per_10k,
                                "likeness", m.likeness, "tar", m.tar, "extrapolated",
                                m.extrapolated, "share_found_lfw", m.tar, "sane_min",
                                (double)sane_min, "sane_max", (double)sane_max);
    /* the worst-served demographic group at this threshold (docs/likeness.md) */
    if (meaning && m.worst_name)
        json_object_set_new(meaning, "worst_group",
                            json_pack("{s:s, s:f, s:f, s:f, s:b}", "name", m.worst_name, "fmr",
                                      m.worst_fmr, "fpir", m.worst_fpir,
                                      "false_alerts_per_10k_faces", m.worst_false_alerts_per_10k,
                                      "extrapolated", m.worst_extrapolated));
    if (meaning && d->target_false_alerts > 0) {
        json_object_set_new(meaning, "target_false_alerts_per_10k_faces",
                            json_real(d->target_false_alerts));
        json_object_set_new(meaning, "target_templates", json_integer(d->target_templates));
    }
    return fill(json_object(), "id", json_integer(d->id), "name", json_string(d->name),
                "location", json_string(d->location), "purpose", json_string(d->purpose),
                "legal_basis", json_string(d->legal_basis), "cameras", json_string(d->cameras),
                "model_set", json_string(d->model_set),
                "planned_start", lfr_json_time(d->planned_start), "planned_end",
                lfr_json_time(d->planned_end), "threshold", jdec6(d->threshold),
                "threshold_meaning", meaning, "state",
                json_string(lfr_deploy_state_name(d->state)), "created_by",
                json_string(d->created_by), "created_at", lfr_json_time(d->created_at),
                "authorised_by", jstr_or_null(d->authorised_by), "authorised_at",
                lfr_json_time(d->authorised_at), "watchlist_digest",
                jstr_or_null(d->watchlist_digest), "entries_authorised",
                json_integer(d->entries_authorised), "started_at", lfr_json_time(d->started_at),
                "ended_at", lfr_json_time(d->ended_at), "ended_by", jstr_or_null(d->ended_by),
                "watchlist_deleted_at", lfr_json_time(d->watchlist_deleted_at), "purged_at",
                lfr_json_time(d->purged_at), "entries", json_integer(d->entries), "images",
                json_integer(d->images), "alerts", json_integer(d->alerts), "photo_checks",
                json_integer(d->photo_checks), NULL);
}

/* An entry's accepted quality warnings (stored JSON array; [] = none). */
static json_t *jwarnings(const char *txt) {
    json_t *a = txt[0] ? json_loads(txt, 0, NULL) : json_array();
    return a ? a : json_pack("[s]", txt);
}

json_t *lfr_json_entry(const lfr_watchlist_entry_info *e) {
    return fill(json_object(), "id", json_integer(e->id), "deployment",
                json_integer(e->deployment_id), "subject_ref", json_string(e->subject_ref),
                "display_name", json_string(e->display_name), "category",
                json_string(lfr_watchlist_category_name(e->category)), "category_other",
                jstr_or_null(e->category_other), "reason", json_string(e->reason),
                "image_source", json_string(e->image_source), "image_date",
                json_string(e->image_date), "added_by", json_string(e->added_by), "added_at",
                lfr_json_time(e->added_at), "under_18", json_boolean(e->under_18),
                "under_18_justification", jstr_or_null(e->under_18_justification), "images",
                json_integer(e->images), "quality_warnings",
                jwarnings(e->quality_warnings),
                "warnings_accepted", jstr_or_null(e->warnings_accepted),
                "warnings_accepted_by", jstr_or_null(e->warnings_accepted_by),
                "images_with_warnings", json_integer(e->images_warned), NULL);
}

json_t *lfr_json_entry_photo(const lfr_entry_photo_info *p) {
    return fill(json_object(), "id", json_integer(p->id), "entry", json_integer(p->entry_id),
                "first", json_boolean(p->first), "image_source", jstr_or_null(p->source),
                "image_date", jstr_or_null(p->date), "added_by", jstr_or_null(p->added_by),
                "added_at", lfr_json_time(p->added_at), "quality_warnings",
                jwarnings(p->quality_warnings), "warnings_accepted",
                jstr_or_null(p->warnings_accepted), "warnings_accepted_by",
                jstr_or_null(p->warnings_accepted_by), NULL);
}

json_t *lfr_json_alert(const lfr_alert_info *a) {
    return fill(json_object(), "id", json_integer(a->id), "deployment",
                json_integer(a->deployment_id), "entry", jid(a->entry_id), "image", jid(a->image_id),
                "subject_ref", json_string(a->subject_ref), "camera", json_string(a->camera), "at",
                lfr_json_time(a->at), "score", jdec6(a->score), "threshold", jdec6(a->threshold),
                "likeness",
                jdec6(lfr_alert_likeness(a)), "entry_photos", jid(a->entry_photos),
                "source", json_string(lfr_alert_source_name(a->source)), "template_n",
                jid(a->template_n), "has_face_image",
                json_boolean(a->has_face_image), "decision", jstr_or_null(a->decision),
                "decided_by", jstr_or_null(a->decided_by), "decided_at",
                lfr_json_time(a->decided_at), "note", jstr_or_null(a->note), "dispatched_at",
                lfr_json_time(a->dispatched_at), "dispatched_all",
                json_boolean(a->dispatched_all), "outcome", jstr_or_null(a->outcome),
                "outcome_by", jstr_or_null(a->outcome_by), "outcome_at",
                lfr_json_time(a->outcome_at), "outcome_note", jstr_or_null(a->outcome_note),
                NULL);
}

json_t *lfr_json_check(const lfr_check_info *c) {
    int matched = !strcmp(c->result, "match");
    return fill(json_object(), "id", json_integer(c->id), "deployment",
                json_integer(c->deployment_id), "officer", json_string(c->officer), "device",
                jid(c->device_id), "at", lfr_json_time(c->at), "reason", json_string(c->reason),
                "result", json_string(c->result), "entry", jid(c->entry_id), "subject_ref",
                jstr_or_null(c->subject_ref), "score",
                matched ? jdec6(c->score) : json_null(), NULL);
}

json_t *lfr_json_camera(const lfr_camera_info *c) {
    return fill(json_object(), "id", json_integer(c->id), "deployment",
                json_integer(c->deployment_id), "name", json_string(c->name), "added_by",
                json_string(c->added_by), "added_at", lfr_json_time(c->added_at), "removed_at",
                lfr_json_time(c->removed_at), "rtsp_transport",
                json_string(lfr_rtsp_transport_name(c->rtsp_transport)), NULL);
}

json_t *lfr_json_device(const lfr_device_info *d) {
    return fill(json_object(), "id", json_integer(d->id), "deployment",
                json_integer(d->deployment_id), "user", jid(d->user_id), "name",
                json_string(d->name), "officer", json_string(d->officer), "paired_at",
                lfr_json_time(d->paired_at), "last_seen_at", lfr_json_time(d->last_seen_at),
                "revoked_at", lfr_json_time(d->revoked_at), "revoked_by",
                jstr_or_null(d->revoked_by), NULL);
}

static json_t *roles_json(unsigned roles) {
    json_t *a = json_array();
    for (int r = 0; a && r < LFR_ROLE_COUNT; r++)
        if (roles & LFR_ROLE_BIT(r)) json_array_append_new(a, json_string(lfr_role_name((lfr_role)r)));
    return a;
}

json_t *lfr_json_user(const lfr_user_info *u) {
    return fill(json_object(), "id", json_integer(u->id), "login", json_string(u->login),
                "display_name", json_string(u->display_name), "roles", roles_json(u->roles),
                "disabled", json_boolean(u->disabled), "created_at", lfr_json_time(u->created_at),
                "last_login_at", lfr_json_time(u->last_login_at), "failures",
                json_integer(u->failures), "locked_until", lfr_json_time(u->locked_until), NULL);
}

json_t *lfr_json_audit_record(const lfr_audit_record *r) {
    char h[2 * LFR_AUDIT_HASH_BYTES + 1], p[2 * LFR_AUDIT_HASH_BYTES + 1];
    lfr_audit_hash_hex(r->hash, h);
    lfr_audit_hash_hex(r->prev_hash, p);
    json_error_t je;
    json_t *d = json_loads(r->details ? r->details : "{}", 0, &je);
    return fill(json_object(), "seq", json_integer(r->seq), "at", lfr_json_time(r->at), "actor",
                json_string(r->actor), "role", json_string(r->role), "action",
                json_string(r->action), "deployment", jid(r->deployment_id), "details",
                d ? d : json_string(r->details ? r->details : ""), "prev_hash", json_string(p),
                "hash", json_string(h), NULL);
}

/* Time ------------------------------------------------------------------------ */
static int digits(const char *s, int n, int *v) {
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 0;
}

lfr_status lfr_time_parse(const char *s, int64_t *t, lfr_err *err) {
    if (!s || !*s) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "time: empty");
    const char *p = s;
    int all_digits = 1;
    for (; *p; p++)
        if (*p < '0' || *p > '9') all_digits = 0;
    if (all_digits) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end || v <= 0)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "time '%.40s' is not valid Unix seconds", s);
        *t = v;
        return LFR_OK;
    }
    /* YYYY-MM-DDTHH:MM[:SS]Z */
    size_t n = strlen(s);
    int Y, M, D, h, m, sec = 0;
    int ok = (n == 17 || n == 20) && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't') &&
             s[13] == ':' && (s[n - 1] == 'Z' || s[n - 1] == 'z') && !digits(s, 4, &Y) &&
             !digits(s + 5, 2, &M) && !digits(s + 8, 2, &D) && !digits(s + 11, 2, &h) &&
             !digits(s + 14, 2, &m) && (n == 17 || (s[16] == ':' && !digits(s + 17, 2, &sec)));
    if (!ok)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "time '%.40s' is not in the form 2025-06-01T10:00Z, "
                           "2025-06-01T10:00:00Z (UTC) or Unix seconds", s);
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t x = timegm(&tm);
    /* timegm normalises 2024-02-30 to 1 March and 99:99 to the next day:
     * only a time that comes back as written is a real one */
    struct tm back;
    time_t xx = x;
    if (Y < 1970 || M < 1 || M > 12 || D < 1 || h > 23 || m > 59 || sec > 59 || x == (time_t)-1 ||
        !gmtime_r(&xx, &back) || back.tm_year != Y - 1900 || back.tm_mon != M - 1 ||
        back.tm_mday != D || back.tm_hour != h || back.tm_min != m || back.tm_sec != sec)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "time '%.40s' is not a real date and time", s);
    *t = (int64_t)x;
    return LFR_OK;
}
