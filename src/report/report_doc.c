/*
 * report_doc.c - the report JSON as blocks (headings, paragraphs, tables,
 * charts), which the HTML and the PDF renderers both draw: one list of
 * what the report says, two ways of printing it.  Everything comes from
 * the JSON; nothing is read from the store here.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "report_int.h"

typedef struct rd_ctx {
    const json_t *root;
    rd_doc *doc;
    const char *missing;       /* the first field that was not there */
} rd_ctx;

/* "a.b.c" in the report; records the first missing path. */
static const json_t *get(rd_ctx *c, const char *path) {
    const json_t *v = c->root;
    char key[64];
    const char *p = path;
    while (v && *p) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof key) n = sizeof key - 1;
        memcpy(key, p, n);
        key[n] = 0;
        v = json_object_get(v, key);
        p += n + (p[n] == '.');
    }
    if (!v && !c->missing) c->missing = path;
    return v;
}

void rd_time(int64_t t, char *out, size_t cap) {
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !gmtime_r(&tt, &tm)) {
        snprintf(out, cap, "-");
        return;
    }
    strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm);
}

/* Value as text: integers, reals (6 significant digits), strings, time
 * fields (is_time), null as `none`. */
static void fmt(const json_t *v, int is_time, const char *none, char *out, size_t cap) {
    if (!v || json_is_null(v)) snprintf(out, cap, "%s", none);
    else if (is_time && json_is_integer(v)) rd_time((int64_t)json_integer_value(v), out, cap);
    else if (json_is_integer(v)) snprintf(out, cap, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) snprintf(out, cap, "%.6g", json_real_value(v));
    else if (json_is_string(v)) snprintf(out, cap, "%s", json_string_value(v));
    else if (json_is_boolean(v)) snprintf(out, cap, "%s", json_is_true(v) ? "yes" : "no");
    else snprintf(out, cap, "%s", none);
}

/* Blocks ------------------------------------------------------------------- */
static rd_block *add(rd_doc *d, rd_kind k, const char *text) {
    if (d->st != LFR_OK) return NULL;
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 32;
        rd_block *b = lfr_realloc(d->b, nc * sizeof *b);
        if (!b) {
            d->st = LFR_ERR_NOMEM;
            return NULL;
        }
        d->b = b;
        d->cap = nc;
    }
    rd_block *b = &d->b[d->n];
    memset(b, 0, sizeof *b);
    b->kind = k;
    b->text = lfr_strdup(text ? text : "");
    if (!b->text) {
        d->st = LFR_ERR_NOMEM;
        return NULL;
    }
    d->n++;
    return b;
}

static void addf(rd_doc *d, rd_kind k, const char *f, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    add(d, k, buf);
}

static void row_v(rd_doc *d, rd_block *t, const char *const *cells) {
    if (!t || d->st != LFR_OK) return;
    if (t->rows == t->cap_rows) {
        size_t nc = t->cap_rows ? t->cap_rows * 2 : 16;
        char **c = lfr_realloc(t->cells, nc * (size_t)t->cols * sizeof *c);
        if (!c) {
            d->st = LFR_ERR_NOMEM;
            return;
        }
        t->cells = c;
        t->cap_rows = nc;
    }
    char **r = &t->cells[t->rows * (size_t)t->cols];
    for (int i = 0; i < t->cols; i++) {
        r[i] = lfr_strdup(cells[i] ? cells[i] : "");
        if (!r[i]) d->st = LFR_ERR_NOMEM;
    }
    t->rows++;
}

static rd_block *table(rd_doc *d, const char *caption, int cols, const char *const *head) {
    rd_block *t = add(d, RD_TABLE, caption);
    if (!t) return NULL;
    t->cols = cols;
    row_v(d, t, head);
    return t;
}

/* A two-column "what | value" row from a report field. */
static void kv(rd_ctx *c, rd_block *t, const char *label, const char *path, int is_time,
               const char *none) {
    char v[LFR_MAX_TEXT];
    fmt(get(c, path), is_time, none, v, sizeof v);
    const char *cells[2] = {label, v};
    row_v(c->doc, t, cells);
}

static void kv_text(rd_doc *d, rd_block *t, const char *label, const char *value) {
    const char *cells[2] = {label, value};
    row_v(d, t, cells);
}

static rd_chart *chart(rd_doc *d, const char *id, const char *title, const char *xlabel,
                       const char *ylabel, int n) {
    rd_block *b = add(d, RD_CHART, title);
    if (!b) return NULL;
    rd_chart *c = &b->chart;
    c->id = lfr_strdup(id);
    c->title = lfr_strdup(title);
    c->xlabel = lfr_strdup(xlabel);
    c->ylabel = lfr_strdup(ylabel);
    c->labels = lfr_calloc(n > 0 ? (size_t)n : 1, sizeof *c->labels);
    c->values = lfr_calloc(n > 0 ? (size_t)n : 1, sizeof *c->values);
    if (!c->id || !c->title || !c->xlabel || !c->ylabel || !c->labels || !c->values) {
        d->st = LFR_ERR_NOMEM;
        return NULL;
    }
    c->n = n;
    return c;
}

/* The alt text: the title and every bar in words. */
static void chart_alt(rd_doc *d, rd_chart *c) {
    if (!c) return;
    size_t cap = 256 + (size_t)c->n * 64, len = 0;
    char *a = lfr_malloc(cap);
    if (!a) {
        d->st = LFR_ERR_NOMEM;
        return;
    }
    len += (size_t)snprintf(a, cap, "Bar chart, %s: ", c->title);
    for (int i = 0; i < c->n && len < cap; i++)
        len += (size_t)snprintf(a + len, cap - len, "%s%s %g", i ? "; " : "", c->labels[i],
                                c->values[i]);
    if (c->n == 0 && len < cap) snprintf(a + len, cap - len, "no data");
    c->alt = a;
}

/* A chart of the named counts of an object (in its key order). */
static void chart_of(rd_ctx *c, const char *path, const char *id, const char *title,
                     const char *xlabel, const char *ylabel) {
    const json_t *o = get(c, path);
    if (!json_is_object(o)) return;
    rd_chart *ch = chart(c->doc, id, title, xlabel, ylabel, (int)json_object_size(o));
    if (!ch) return;
    const char *k;
    const json_t *v;
    int i = 0;
    json_object_foreach((json_t *)o, k, v) {
        ch->labels[i] = lfr_strdup(k);
        for (char *p = ch->labels[i]; p && *p; p++)
            if (*p == '_') *p = ' ';
        if (!ch->labels[i]) c->doc->st = LFR_ERR_NOMEM;
        ch->values[i++] = json_number_value(v);
    }
    chart_alt(c->doc, ch);
}

/* A table of the named counts of an object. */
static void counts_table(rd_ctx *c, const char *path, const char *caption, const char *what) {
    const json_t *o = get(c, path);
    if (!json_is_object(o)) return;
    const char *head[2] = {what, "Count"};
    rd_block *t = table(c->doc, caption, 2, head);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        char n[32], name[128];
        fmt(v, 0, "-", n, sizeof n);
        snprintf(name, sizeof name, "%s", k);
        for (char *p = name; *p; p++)
            if (*p == '_') *p = ' ';
        const char *cells[2] = {name, n};
        row_v(c->doc, t, cells);
    }
}

/* Sections ------------------------------------------------------------------ */
static void s_deployment(rd_ctx *c) {
    rd_doc *d = c->doc;
    add(d, RD_HEADING, "Deployment");
    const char *head[2] = {"Field", "Value"};
    rd_block *t = table(d, "The deployment as recorded", 2, head);
    kv(c, t, "Name", "deployment.name", 0, "-");
    kv(c, t, "Location", "deployment.location", 0, "-");
    kv(c, t, "Purpose", "deployment.purpose", 0, "-");
    kv(c, t, "Legal basis", "deployment.legal_basis", 0, "-");
    kv(c, t, "State now", "deployment.state", 0, "-");
    kv(c, t, "Planned start", "deployment.planned_start", 1, "-");
    kv(c, t, "Planned end", "deployment.planned_end", 1, "-");
    kv(c, t, "Actual start", "deployment.started_at", 1, "not started");
    kv(c, t, "Actual end", "deployment.ended_at", 1, "not ended");
    kv(c, t, "Created by", "deployment.created_by", 0, "-");
    kv(c, t, "Authorising officer", "deployment.authorised_by", 0, "not authorised");
    kv(c, t, "Authorised at", "deployment.authorised_at", 1, "-");
    kv(c, t, "Started by", "deployment.started_by", 0, "-");
    kv(c, t, "Ended by", "deployment.ended_by", 0, "-");
    char cams[LFR_MAX_TEXT] = "";
    const char *keys[2] = {"deployment.cameras_planned", "deployment.cameras_added"};
    const char *labels[2] = {"Cameras planned", "Cameras added"};
    for (int k = 0; k < 2; k++) {
        const json_t *a = get(c, keys[k]);
        size_t i, len = 0;
        const json_t *v;
        cams[0] = 0;
        json_array_foreach((json_t *)a, i, v)
            if (len < sizeof cams)
                len += (size_t)snprintf(cams + len, sizeof cams - len, "%s%s", i ? ", " : "",
                                        json_string_value(v) ? json_string_value(v) : "");
        kv_text(d, t, labels[k], cams[0] ? cams : "none");
    }
    kv(c, t, "Cameras removed", "deployment.cameras_removed", 0, "0");
}

static void s_watchlist(rd_ctx *c) {
    rd_doc *d = c->doc;
    add(d, RD_HEADING, "Watchlist");
    add(d, RD_NOTE, "People on the watchlist appear here only as counts by category: no "
                    "name, reference or image of anyone is in this report.");
    const char *head[2] = {"Field", "Value"};
    rd_block *t = table(d, "The watchlist the deployment matched against", 2, head);
    kv(c, t, "Entries (people)", "watchlist.entries", 0, "0");
    kv(c, t, "Images", "watchlist.images", 0, "0");
    kv(c, t, "Entries with several photos (matched by their mean)",
       "watchlist.entries_with_several_photos", 0, "0");
    kv(c, t, "Entries added", "watchlist.entries_added", 0, "0");
    kv(c, t, "Removed before authorisation", "watchlist.entries_removed_in_draft", 0, "0");
    kv(c, t, "Removed by amendment", "watchlist.entries_removed_by_amendment", 0, "0");
    char v[128], a[32], b[32];
    fmt(get(c, "watchlist.under_18"), 0, "0", a, sizeof a);
    fmt(get(c, "watchlist.under_18_with_justification"), 0, "0", b, sizeof b);
    snprintf(v, sizeof v, "%s (%s of them with a recorded justification)", a, b);
    kv_text(d, t, "Under 18", v);
    kv(c, t, "Images accepted with quality warnings", "watchlist.with_quality_warnings", 0, "0");
    kv(c, t, "Digest at authorisation", "watchlist.digest_at_authorisation", 0, "-");
    kv(c, t, "Deleted at", "watchlist.deleted_at", 1, "not deleted yet");
    const json_t *r = get(c, "watchlist.deletion_receipt");
    if (json_is_object(r)) {
        char when[64];
        rd_time((int64_t)json_integer_value(json_object_get(r, "at")), when, sizeof when);
        snprintf(v, sizeof v, "audit record %lld, %s: %lld entries, %lld images, rule %s",
                 (long long)json_integer_value(json_object_get(r, "seq")), when,
                 (long long)json_integer_value(json_object_get(r, "count")),
                 (long long)json_integer_value(json_object_get(r, "image_count")),
                 json_string_value(json_object_get(r, "rule")));
        kv_text(d, t, "Deletion receipt", v);
    } else {
        kv_text(d, t, "Deletion receipt", "none yet");
    }
    counts_table(c, "watchlist.by_category", "Composition by category", "Category");
    const json_t *w = get(c, "watchlist.quality_warnings_by_kind");
    if (json_object_size(w) > 0)
        counts_table(c, "watchlist.quality_warnings_by_kind",
                     "Quality warnings accepted by the enrolling officer, by kind", "Warning");
}

static void s_threshold(rd_ctx *c) {
    rd_doc *d = c->doc;
    add(d, RD_HEADING, "Threshold");
    const char *head[2] = {"Field", "Value"};
    rd_block *t = table(d, "The alert threshold and what it means for this watchlist", 2, head);
    kv(c, t, "Threshold (cosine similarity)", "threshold.value", 0, "-");
    kv(c, t, "Likeness (0-100)", "threshold.likeness", 0, "-");
    kv(c, t, "Expected false-match rate per comparison", "threshold.false_match_rate", 0, "-");
    kv(c, t, "Watchlist templates a face is compared with", "threshold.templates", 0, "0");
    kv(c, t, "Comparisons counted for false alerts (entries with several photos count more)",
       "threshold.comparisons_counted", 0, "0");
    kv(c, t, "Expected false alerts per 10,000 faces not on the list",
       "threshold.expected_false_alerts_per_10k_faces", 0, "-");
    kv(c, t, "Worst-served group measured", "threshold.worst_group", 0, "none measured");
    kv(c, t, "Its expected false alerts per 10,000 faces",
       "threshold.worst_group_false_alerts_per_10k_faces", 0, "-");
    kv(c, t, "Share of genuine pairs found (LFW)", "threshold.share_found_lfw", 0, "-");
    kv(c, t, "Beyond the measured range (extrapolated)", "threshold.extrapolated", 0, "-");
    kv(c, t, "Threshold at authorisation", "threshold.at_authorisation", 0, "not authorised");
    kv(c, t, "Target of false alerts per 10,000 faces", "threshold.target_false_alerts_per_10k_faces",
       0, "none (set directly)");
    const json_t *am = get(c, "threshold.amendments");
    if (json_array_size(am) == 0) {
        add(d, RD_PARA, "No amendment was proposed.");
        return;
    }
    const char *h[6] = {"Proposed", "By", "Reason", "Change", "Authorised", "By"};
    rd_block *at = table(d, "Every amendment and its authorisation", 6, h);
    size_t i;
    const json_t *a;
    json_array_foreach((json_t *)am, i, a) {
        char p[64], au[64], ch[256], pb[LFR_MAX_ACTOR], ab[LFR_MAX_ACTOR], why[LFR_MAX_TEXT];
        fmt(json_object_get(a, "proposed_at"), 1, "-", p, sizeof p);
        fmt(json_object_get(a, "authorised_at"), 1, "not authorised", au, sizeof au);
        fmt(json_object_get(a, "proposed_by"), 0, "-", pb, sizeof pb);
        fmt(json_object_get(a, "authorised_by"), 0, "-", ab, sizeof ab);
        fmt(json_object_get(a, "reason"), 0, "-", why, sizeof why);
        const json_t *nt = json_object_get(a, "new_threshold");
        const json_t *rc = json_object_get(a, "removes_entry_of_category");
        size_t n = 0;
        ch[0] = 0;
        if (json_is_number(nt))
            n += (size_t)snprintf(ch, sizeof ch, "threshold to %.6g", json_number_value(nt));
        if (json_is_string(rc) && n < sizeof ch)
            snprintf(ch + n, sizeof ch - n, "%sremove one entry (%s)", n ? "; " : "",
                     json_string_value(rc));
        const char *cells[6] = {p, pb, why, ch, au, ab};
        row_v(d, at, cells);
    }
}

static void s_activity(rd_ctx *c) {
    rd_doc *d = c->doc;
    add(d, RD_HEADING, "Activity");
    const char *head[2] = {"Field", "Value"};
    rd_block *t = table(d, "What the cameras and the operators did", 2, head);
    char note[LFR_MAX_TEXT];
    fmt(get(c, "activity.faces_seen_note"), 0, "not recorded", note, sizeof note);
    const json_t *fs = get(c, "activity.faces_seen");
    if (json_is_null(fs)) kv_text(d, t, "Faces seen", note);
    else kv(c, t, "Faces seen", "activity.faces_seen", 0, "-");
    kv(c, t, "Tracks", "activity.tracks", 0, "not recorded (see faces seen)");
    kv(c, t, "Alerts", "activity.alerts", 0, "0");
    kv(c, t, "Confirmed by the operator", "activity.confirmed", 0, "0");
    kv(c, t, "Rejected by the operator", "activity.rejected", 0, "0");
    kv(c, t, "Not decided", "activity.undecided", 0, "0");
    kv(c, t, "Dispatched to officers", "activity.dispatched", 0, "0");
    kv(c, t, "Outcome: engaged", "activity.outcomes.engaged", 0, "0");
    kv(c, t, "Outcome: arrested", "activity.outcomes.arrested", 0, "0");
    kv(c, t, "Outcome: no further action", "activity.outcomes.no_further_action", 0, "0");
    kv(c, t, "Outcome: mistaken identity", "activity.outcomes.mistaken_identity", 0, "0");
    kv(c, t, "False alerts (rejected + mistaken identity)", "activity.false_alerts", 0, "0");
    kv(c, t, "False alerts per alert", "activity.false_alerts_per_alert", 0, "no alerts");
    kv(c, t, "False alerts per face seen", "activity.false_alerts_per_face_seen", 0,
       "cannot be computed: faces seen are not recorded");
    /* by the watchlist template that matched: a mean of several photos
     * resembles strangers more often (docs/likeness.md) */
    static const struct { const char *key, *label; } tpl[] = {
        {"one_photo", "Alerts against an entry's one photo"},
        {"mean_of_photos", "Alerts against the mean of an entry's photos"},
        {"not_recorded", "Alerts whose watchlist template was not recorded"}};
    const json_t *bt = get(c, "activity.alerts_by_watchlist_template");
    for (size_t i = 0; i < sizeof tpl / sizeof tpl[0]; i++) {
        const json_t *o = json_object_get(bt, tpl[i].key);
        long long n = (long long)json_integer_value(json_object_get(o, "alerts"));
        long long f = (long long)json_integer_value(json_object_get(o, "false_alerts"));
        if (!o || (i == 2 && n == 0)) continue; /* nothing unrecorded: no row */
        char v[96];
        snprintf(v, sizeof v, "%lld (%lld false)", n, f);
        kv_text(d, t, tpl[i].label, v);
    }
    /* alerts over time */
    const json_t *ot = get(c, "activity.alerts_over_time");
    const json_t *counts = json_object_get(ot, "counts");
    int64_t start = (int64_t)json_integer_value(json_object_get(ot, "start"));
    int64_t width = (int64_t)json_integer_value(json_object_get(ot, "bucket_seconds"));
    int n = (int)json_array_size(counts);
    char xl[64];
    snprintf(xl, sizeof xl, "time (UTC), bars of %lld min", (long long)(width / 60));
    rd_chart *ch = chart(d, "alerts-over-time", "Alerts over time", xl, "alerts", n);
    for (int i = 0; ch && i < n; i++) {
        time_t tt = (time_t)(start + (int64_t)i * width);
        struct tm tm;
        char lab[32] = "";
        if (gmtime_r(&tt, &tm)) strftime(lab, sizeof lab, width >= 86400 ? "%m-%d" : "%H:%M", &tm);
        ch->labels[i] = lfr_strdup(lab);
        if (!ch->labels[i]) d->st = LFR_ERR_NOMEM;
        ch->values[i] = json_number_value(json_array_get(counts, (size_t)i));
    }
    chart_alt(d, ch);
    chart_of(c, "activity.outcomes", "outcomes", "Outcomes of dispatched alerts", "outcome",
             "alerts");
    counts_table(c, "activity.alerts_by_camera", "Alerts by camera", "Camera");
}

static void s_checks(rd_ctx *c) {
    rd_doc *d = c->doc;
    add(d, RD_HEADING, "Mobile photo checks");
    const char *head[2] = {"Field", "Value"};
    rd_block *t = table(d, "Officers' photo checks against this watchlist", 2, head);
    kv(c, t, "Checks", "photo_checks.checks", 0, "0");
    kv(c, t, "Matched an entry", "photo_checks.matched", 0, "0");
    kv(c, t, "Matched someone no camera had alerted on before the check",
       "photo_checks.matched_not_alerted_by_camera", 0, "0");
    kv(c, t, "Officers who made checks", "photo_checks.officers", 0, "0");
    kv(c, t, "Devices used", "photo_checks.devices", 0, "0");
    kv(c, t, "Checks made at the van (command line)", "photo_checks.from_cli", 0, "0");
    counts_table(c, "photo_checks.by_result", "Checks by result", "Result");
    counts_table(c, "photo_checks.by_reason", "Checks by the officer's stated reason", "Reason");
    add(d, RD_NOTE, "Reasons are counted by the officers' app's fixed choices; free-text "
                    "reasons are counted as other and not shown (they may name the person "
                    "checked).");
    chart_of(c, "photo_checks.by_reason", "checks-by-reason", "Photo checks by reason", "reason",
             "checks");
}

static void s_deletions(rd_ctx *c) {
    rd_doc *d = c->doc;
    add(d, RD_HEADING, "Deletions");
    const json_t *del = get(c, "deletions");
    if (json_array_size(del) == 0) {
        add(d, RD_PARA, "Nothing of this deployment has been deleted yet.");
        return;
    }
    const char *head[6] = {"Audit record", "When", "What", "How many", "Images", "Rule"};
    rd_block *t = table(d, "Every deletion receipt in the audit log", 6, head);
    size_t i;
    const json_t *r;
    json_array_foreach((json_t *)del, i, r) {
        char seq[32], when[64], what[64], n[32], im[32], rule[160], rs[32];
        fmt(json_object_get(r, "seq"), 0, "-", seq, sizeof seq);
        fmt(json_object_get(r, "at"), 1, "-", when, sizeof when);
        fmt(json_object_get(r, "data_class"), 0, "-", what, sizeof what);
        fmt(json_object_get(r, "count"), 0, "0", n, sizeof n);
        fmt(json_object_get(r, "image_count"), 0, "0", im, sizeof im);
        fmt(json_object_get(r, "rule"), 0, "-", rule, sizeof rule);
        int64_t secs = (int64_t)json_integer_value(json_object_get(r, "rule_seconds"));
        if (secs > 0) {
            snprintf(rs, sizeof rs, " (%lld h)", (long long)(secs / 3600));
            strncat(rule, rs, sizeof rule - strlen(rule) - 1);
        }
        const char *cells[6] = {seq, when, what, n, im, rule};
        row_v(d, t, cells);
    }
}

static void verify_row(rd_ctx *c, rd_block *t, const char *label, const char *path) {
    const json_t *v = get(c, path);
    char s[600];
    snprintf(s, sizeof s, "%s: %s", json_is_true(json_object_get(v, "ok")) ? "PASS" : "FAIL",
             json_string_value(json_object_get(v, "reason")) ? json_string_value(json_object_get(v, "reason")) : "");
    kv_text(c->doc, t, label, s);
}

static void s_integrity(rd_ctx *c) {
    rd_doc *d = c->doc;
    add(d, RD_HEADING, "Integrity");
    const char *head[2] = {"Check", "Result"};
    rd_block *t = table(d, "The audit log this report was computed from", 2, head);
    verify_row(c, t, "Hash chain and anchors", "integrity.chain");
    kv(c, t, "Records in the log", "integrity.chain.records", 0, "0");
    kv(c, t, "Head hash", "integrity.chain.head_hash", 0, "-");
    verify_row(c, t, "Deployment rows against the log", "integrity.deployment_rows");
    kv(c, t, "The van's public key", "integrity.pubkey", 0, "not given");
    kv(c, t, "Where the key came from", "integrity.pubkey_source", 0, "-");
    const json_t *cps = get(c, "integrity.checkpoints");
    if (json_array_size(cps) == 0) {
        add(d, RD_PARA, "No signed checkpoint of this deployment is in the log.");
        return;
    }
    const char *h[5] = {"Audit record", "Vouches for records", "Made", "Why", "Verification"};
    rd_block *ct = table(d, "Signed checkpoints of this deployment, verified against the log", 5, h);
    size_t i;
    const json_t *cp;
    json_array_foreach((json_t *)cps, i, cp) {
        char rs[32], sq[40], at[64], why[80], res[400];
        fmt(json_object_get(cp, "record_seq"), 0, "-", rs, sizeof rs);
        const json_t *s = json_object_get(cp, "seq");
        if (json_is_integer(s)) snprintf(sq, sizeof sq, "1 to %lld", (long long)json_integer_value(s));
        else snprintf(sq, sizeof sq, "-");
        fmt(json_object_get(cp, "at"), 1, "-", at, sizeof at);
        fmt(json_object_get(cp, "reason_made"), 0, "-", why, sizeof why);
        snprintf(res, sizeof res, "%s: %s", json_is_true(json_object_get(cp, "ok")) ? "PASS" : "FAIL",
                 json_string_value(json_object_get(cp, "reason")) ? json_string_value(json_object_get(cp, "reason")) : "");
        const char *cells[5] = {rs, sq, at, why, res};
        row_v(d, ct, cells);
    }
}

lfr_status rd_build(const json_t *report, rd_doc *doc, lfr_err *err) {
    memset(doc, 0, sizeof *doc);
    const json_t *schema = json_object_get(report, "schema");
    if (!json_is_string(schema) || strcmp(json_string_value(schema), LFR_REPORT_SCHEMA))
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "report: field schema is not \"%s\": not a transparency report",
                           LFR_REPORT_SCHEMA);
    rd_ctx c = {.root = report, .doc = doc};
    char name[LFR_MAX_TEXT], when[64], title[LFR_MAX_TEXT + 64];
    fmt(get(&c, "deployment.name"), 0, "-", name, sizeof name);
    fmt(get(&c, "generated_at"), 1, "-", when, sizeof when);
    snprintf(title, sizeof title, "Transparency report: %s", name);
    doc->title = lfr_strdup(title);
    if (!doc->title) doc->st = LFR_ERR_NOMEM;
    add(doc, RD_TITLE, title);
    addf(doc, RD_PARA,
         "Deployment %lld, made %s from this van's store and audit log alone: no number in it "
         "was typed in by a person. Every figure, chart included, can be regenerated from the "
         "report's JSON (schema %s).",
         (long long)json_integer_value(get(&c, "deployment.id")), when, LFR_REPORT_SCHEMA);
    s_deployment(&c);
    s_watchlist(&c);
    s_threshold(&c);
    s_activity(&c);
    s_checks(&c);
    s_deletions(&c);
    s_integrity(&c);
    if (c.missing) {
        rd_free(doc);
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "report: field %s is missing", c.missing);
    }
    if (doc->st != LFR_OK) {
        rd_free(doc);
        return lfr_err_set(err, LFR_ERR_NOMEM, "report: out of memory");
    }
    return LFR_OK;
}

void rd_free(rd_doc *doc) {
    for (size_t i = 0; i < doc->n; i++) {
        rd_block *b = &doc->b[i];
        lfr_free(b->text);
        for (size_t k = 0; b->cells && k < b->rows * (size_t)b->cols; k++) lfr_free(b->cells[k]);
        lfr_free(b->cells);
        rd_chart *c = &b->chart;
        for (int k = 0; c->labels && k < c->n; k++) lfr_free(c->labels[k]);
        lfr_free(c->labels);
        lfr_free(c->values);
        lfr_free(c->id);
        lfr_free(c->title);
        lfr_free(c->alt);
        lfr_free(c->xlabel);
        lfr_free(c->ylabel);
    }
    lfr_free(doc->b);
    lfr_free(doc->title);
    memset(doc, 0, sizeof *doc);
}
