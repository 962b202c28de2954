/*
 * ops.c - the table of operations and lfr_app_call, the one path every
 * operation takes (the steps are listed in app_int.h).
 *
 * DESIGN
 *   Three tables, all indexed by lfr_op:
 *     - op_infos: the public row (name, roles, audit action, arguments),
 *       generated from LFR_OP_LIST, with ARGS_<id> the argument table of
 *       each operation (written out below, one place per operation);
 *     - op_scopes: which argument names the deployment the call touches,
 *       and what kind of object it is (device scoping);
 *     - the implementations app_op_<id> (ops_*.c), by name from the list.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"

/* audit actions by id, NONE = -1 */
enum {
#define APP_AUDIT_ENUM(id, name) APP_AUDIT_##id = LFR_AUDIT_##id,
    LFR_AUDIT_ACTION_LIST(APP_AUDIT_ENUM)
#undef APP_AUDIT_ENUM
    APP_AUDIT_NONE = -1
};

#define END {NULL, LFR_ARG_ID, 0, NULL}
#define NO_ARGS {END}

/* Arguments of every operation -------------------------------------------------- */
static const lfr_op_arg ARGS_HEALTH[] = NO_ARGS;
static const lfr_op_arg ARGS_SESSION_LOGIN[] = {
    {"login", LFR_ARG_NAME, 1, "the account's login name"},
    {"password", LFR_ARG_SECRET, 1, "its password"},
    END};
static const lfr_op_arg ARGS_SESSION_LOGOUT[] = NO_ARGS;
static const lfr_op_arg ARGS_SESSION_WHOAMI[] = NO_ARGS;
static const lfr_op_arg ARGS_DEPLOYMENT_CREATE[] = {
    {"name", LFR_ARG_TEXT, 1, "a short name for the deployment"},
    {"location", LFR_ARG_TEXT, 1, "where the cameras will be"},
    {"purpose", LFR_ARG_TEXT, 1, "why: who is sought and for what"},
    {"legal_basis", LFR_ARG_TEXT, 1, "the legal basis relied on"},
    {"start", LFR_ARG_TIME, 1, "planned start (2025-06-01T10:00Z or Unix seconds, UTC)"},
    {"end", LFR_ARG_TIME, 1, "planned end, after the start and not already past"},
    {"threshold", LFR_ARG_REAL, 0,
     "alert threshold, a cosine in (0, 1); sane range: the model set's (mfn192 0.55-0.85, "
     "fused704 0.475-0.79, fused704v2 0.48-0.805, fused704v3 0.48-0.82); or "
     "target_false_alerts"},
    {"target_false_alerts", LFR_ARG_REAL, 0,
     "instead of threshold: expected false alerts per 10,000 faces for the worst-served group; "
     "the threshold follows for the watchlist's size, derived again at authorisation"},
    {"watchlist_size", LFR_ARG_INT, 0,
     "with target_false_alerts: planned watchlist images until authorisation (default 1000)"},
    {"cameras", LFR_ARG_TEXT, 0, "free-text list of the planned cameras"},
    {"unusual_threshold_ok", LFR_ARG_BOOL, 0, "true: a threshold outside the sane range is meant"},
    {"model_set", LFR_ARG_TEXT, 0,
     "the embedder(s) of its templates: fused704v3 (default), fused704v2, fused704 or mfn192; "
     "thresholds "
     "and their meaning follow the set's calibration (docs/likeness.md)"},
    END};
static const lfr_op_arg ARGS_DEPLOYMENT_AUTHORISE[] = {
    {"id", LFR_ARG_ID, 1, "the deployment (created by someone else)"}, END};
static const lfr_op_arg ARGS_DEPLOYMENT_START[] = {{"id", LFR_ARG_ID, 1, "the deployment"}, END};
static const lfr_op_arg ARGS_DEPLOYMENT_END[] = {
    {"id", LFR_ARG_ID, 1, "the deployment"},
    {"reason", LFR_ARG_TEXT, 0, "why it ends (recorded in the audit log)"},
    END};
static const lfr_op_arg ARGS_DEPLOYMENT_AMEND[] = {
    {"id", LFR_ARG_ID, 1, "the authorised or live deployment"},
    {"reason", LFR_ARG_TEXT, 1, "why the change is needed"},
    {"threshold", LFR_ARG_REAL, 0, "the new threshold (or remove_entry)"},
    {"remove_entry", LFR_ARG_ID, 0, "the watchlist entry to remove (or threshold)"},
    {"unusual_threshold_ok", LFR_ARG_BOOL, 0, "true: a threshold outside the sane range is meant"},
    END};
static const lfr_op_arg ARGS_DEPLOYMENT_AMEND_AUTHORISE[] = {
    {"amendment", LFR_ARG_ID, 1, "the amendment (proposed by someone else)"}, END};
static const lfr_op_arg ARGS_DEPLOYMENT_SHOW[] = {{"id", LFR_ARG_ID, 1, "the deployment"}, END};
static const lfr_op_arg ARGS_DEPLOYMENT_LIST[] = NO_ARGS;
static const lfr_op_arg ARGS_DEPLOYMENT_AMENDMENTS[] = {
    {"id", LFR_ARG_ID, 1, "the deployment: its amendments, newest first, proposed ones to "
                          "authorise and the history"},
    END};
static const lfr_op_arg ARGS_CAMERA_ADD[] = {
    {"deployment", LFR_ARG_ID, 1, "the deployment"},
    {"name", LFR_ARG_TEXT, 1, "the name alerts and reports show"},
    {"url", LFR_ARG_SECRET, 1, "rtsp://, http(s)://, file or /dev/video*; may carry credentials "
                               "(sealed, never shown)"},
    {"rtsp_transport", LFR_ARG_TEXT, 0,
     "how an rtsp:// camera sends RTP: tcp (the default, interleaved in the RTSP connection) or "
     "udp (cameras that only speak UDP); udp is refused for other URLs"},
    END};
static const lfr_op_arg ARGS_CAMERA_REMOVE[] = {{"id", LFR_ARG_ID, 1, "the camera"}, END};
static const lfr_op_arg ARGS_CAMERA_LIST[] = {{"deployment", LFR_ARG_ID, 1, "the deployment"}, END};
static const lfr_op_arg ARGS_CAMERA_STATS[] = {
    {"deployment", LFR_ARG_ID, 1, "the deployment: its running cameras' state, analysed fps, "
                                  "drops and counters"},
    END};
static const lfr_op_arg ARGS_CAMERA_PREVIEW[] = {
    {"id", LFR_ARG_ID, 1, "the camera: its newest analysed frame, small, faces boxed (JPEG, "
                          "never stored or cached)"},
    END};
#define ENTRY_FIELDS                                                                           \
    {"subject_ref", LFR_ARG_TEXT, 1, "the force's record id of the person"},                   \
    {"display_name", LFR_ARG_TEXT, 1, "the person's name as shown to operators"},             \
    {"category", LFR_ARG_TEXT, 1,                                                              \
     "wanted_on_warrant, wanted_for_offence, missing, vulnerable or other"},                   \
    {"category_other", LFR_ARG_TEXT, 0, "what, when category is other"},                      \
    {"reason", LFR_ARG_TEXT, 1, "why this person is on this deployment's list"},              \
    {"image_source", LFR_ARG_TEXT, 1, "where the image came from"},                            \
    {"image_date", LFR_ARG_TEXT, 1, "when it was taken: YYYY-MM-DD, YYYY-MM or YYYY"},         \
    {"under_18", LFR_ARG_BOOL, 0, "true: the person is a child"},                             \
    {"under_18_justification", LFR_ARG_TEXT, 0, "required for a child"}
static const lfr_op_arg ARGS_WATCHLIST_ADD[] = {
    {"deployment", LFR_ARG_ID, 1, "the draft deployment"},
    ENTRY_FIELDS,
    {"accept_warnings", LFR_ARG_TEXT, 0,
     "the enrolling officer's reason for accepting the photo's quality warnings (without it a "
     "warned photo is refused, its warnings listed)"},
    {"image", LFR_ARG_IMAGE, 1, "the photo (JPEG or PNG), quality-controlled"},
    END};
static const lfr_op_arg ARGS_WATCHLIST_ADD_PHOTO[] = {
    {"id", LFR_ARG_ID, 1, "the entry (draft deployments): a person already on the list"},
    {"image_source", LFR_ARG_TEXT, 1, "where this photo came from"},
    {"image_date", LFR_ARG_TEXT, 1, "when it was taken: YYYY-MM-DD, YYYY-MM or YYYY"},
    {"accept_warnings", LFR_ARG_TEXT, 0,
     "the enrolling officer's reason for accepting the photo's quality warnings"},
    {"image", LFR_ARG_IMAGE, 1,
     "another photo of the same person (JPEG or PNG), quality-controlled and compared with the "
     "entry's photos"},
    END};
static const lfr_op_arg ARGS_WATCHLIST_IMPORT[] = {
    {"deployment", LFR_ARG_ID, 1, "the draft deployment"},
    {"dir", LFR_ARG_PATH, 0, "CLI: the folder of photos (with manifest)"},
    {"manifest", LFR_ARG_PATH, 0, "CLI: the CSV manifest (with dir)"},
    {"rows", LFR_ARG_ROWS, 0,
     "HTTP: [{subject_ref, display_name, category, category_other?, reason, image_source, "
     "image_date, under_18?, under_18_justification?, image_base64}]"},
    {"accept_warnings", LFR_ARG_TEXT, 0,
     "the reason for accepting the quality warnings of every row (without it a warned row is "
     "refused, its warnings listed)"},
    END};
static const lfr_op_arg ARGS_WATCHLIST_LIST[] = {{"deployment", LFR_ARG_ID, 1, "the deployment"}, END};
static const lfr_op_arg ARGS_WATCHLIST_PHOTOS[] = {{"id", LFR_ARG_ID, 1, "the entry"}, END};
static const lfr_op_arg ARGS_WATCHLIST_REMOVE[] = {
    {"id", LFR_ARG_ID, 1, "the entry (draft deployments; afterwards an amendment)"},
    {"reason", LFR_ARG_TEXT, 1, "why it is removed"},
    END};
static const lfr_op_arg ARGS_WATCHLIST_IMAGE[] = {
    {"image", LFR_ARG_ID, 0, "the watchlist image (as in an alert)"},
    {"entry", LFR_ARG_ID, 0, "or the entry: its first image"},
    END};
static const lfr_op_arg ARGS_ALERT_LIST[] = {
    {"deployment", LFR_ARG_ID, 1, "the deployment"},
    {"before", LFR_ARG_ID, 0, "only alerts with a smaller id (paging)"},
    {"limit", LFR_ARG_INT, 0, "at most this many (default 100)"},
    END};
static const lfr_op_arg ARGS_ALERT_GET[] = {{"id", LFR_ARG_ID, 1, "the alert"}, END};
static const lfr_op_arg ARGS_ALERT_IMAGE[] = {{"id", LFR_ARG_ID, 1, "the alert: its live face crop"}, END};
static const lfr_op_arg ARGS_ALERT_DECIDE[] = {
    {"id", LFR_ARG_ID, 1, "the alert"},
    {"decision", LFR_ARG_TEXT, 1, "confirm or reject"},
    {"note", LFR_ARG_TEXT, 0, "the operator's note"},
    END};
static const lfr_op_arg ARGS_ALERT_DISPATCH[] = {
    {"id", LFR_ARG_ID, 1, "the confirmed alert"},
    {"devices", LFR_ARG_IDS, 0, "devices of the deployment to send it to (or all)"},
    {"all", LFR_ARG_BOOL, 0, "true: every device of the deployment"},
    END};
static const lfr_op_arg ARGS_ALERT_ACK[] = {{"id", LFR_ARG_ID, 1, "the alert, dispatched to this device"}, END};
static const lfr_op_arg ARGS_ALERT_OUTCOME[] = {
    {"id", LFR_ARG_ID, 1, "the dispatched alert"},
    {"outcome", LFR_ARG_TEXT, 1, "engaged, arrested, no_further_action or mistaken_identity"},
    {"note", LFR_ARG_TEXT, 0, "what happened"},
    END};
static const lfr_op_arg ARGS_CHECK_PHOTO[] = {
    {"deployment", LFR_ARG_ID, 0, "the live deployment (a device: its own, the default)"},
    {"reason", LFR_ARG_TEXT, 1,
     "why this person is checked: matches_description, intelligence, behaviour, other "
     "(with reason_other) or free text"},
    {"reason_other", LFR_ARG_TEXT, 0, "the reason, when reason is other"},
    {"image", LFR_ARG_IMAGE, 1, "the photo (JPEG or PNG)"},
    END};
static const lfr_op_arg ARGS_CHECK_LIST[] = {
    {"deployment", LFR_ARG_ID, 1, "the deployment"},
    {"before", LFR_ARG_ID, 0, "only checks with a smaller id (paging)"},
    {"limit", LFR_ARG_INT, 0, "at most this many (default 100)"},
    END};
static const lfr_op_arg ARGS_DEVICE_PAIR_CODE[] = {
    {"deployment", LFR_ARG_ID, 1, "the deployment the device will serve"}, END};
static const lfr_op_arg ARGS_DEVICE_PAIR[] = {
    {"code", LFR_ARG_SECRET, 1, "the one-time pairing code"},
    {"device_name", LFR_ARG_TEXT, 1, "a name for the device (\"tablet 3\")"},
    {"login", LFR_ARG_NAME, 1, "the officer signing in on it"},
    {"password", LFR_ARG_SECRET, 1, "the officer's password"},
    END};
static const lfr_op_arg ARGS_DEVICE_LIST[] = {
    {"deployment", LFR_ARG_ID, 0, "only this deployment's devices"}, END};
static const lfr_op_arg ARGS_DEVICE_REVOKE[] = {{"id", LFR_ARG_ID, 1, "the device"}, END};
static const lfr_op_arg ARGS_USER_ADD[] = {
    {"login", LFR_ARG_NAME, 1, "login name (compared folded: \"PC 1\" = \"pc1\")"},
    {"display_name", LFR_ARG_TEXT, 1, "the person's name"},
    {"roles", LFR_ARG_WORDS, 1,
     "one or more of operator, officer, authorising_officer, auditor, admin"},
    {"password", LFR_ARG_SECRET, 1, "at least 12 characters"},
    END};
static const lfr_op_arg ARGS_USER_LIST[] = NO_ARGS;
static const lfr_op_arg ARGS_USER_DISABLE[] = {
    {"id", LFR_ARG_ID, 0, "the account (or login)"},
    {"login", LFR_ARG_NAME, 0, "the account's login (or id)"},
    END};
static const lfr_op_arg ARGS_USER_PASSWD[] = {
    {"id", LFR_ARG_ID, 0, "the account (or login)"},
    {"login", LFR_ARG_NAME, 0, "the account's login (or id)"},
    {"password", LFR_ARG_SECRET, 1, "the new password, at least 12 characters"},
    END};
static const lfr_op_arg ARGS_AUDIT_VERIFY[] = NO_ARGS;
static const lfr_op_arg ARGS_AUDIT_SHOW[] = {
    {"deployment", LFR_ARG_ID, 0, "only this deployment's records"},
    {"from", LFR_ARG_ID, 0, "from this seq (default 1)"},
    {"limit", LFR_ARG_INT, 0, "at most this many (default 1000)"},
    END};
static const lfr_op_arg ARGS_AUDIT_ANCHOR[] = NO_ARGS;
static const lfr_op_arg ARGS_AUDIT_CHECKPOINT[] = NO_ARGS;
static const lfr_op_arg ARGS_AUDIT_CHECKPOINT_GET[] = {
    {"record", LFR_ARG_ID, 0, "the audit.checkpoint record (default: the newest)"},
    END};
static const lfr_op_arg ARGS_AUDIT_CHECKPOINT_QR[] = {
    {"record", LFR_ARG_ID, 0, "the audit.checkpoint record (default: the newest)"},
    END};
static const lfr_op_arg ARGS_RETENTION_PURGE[] = NO_ARGS;
static const lfr_op_arg ARGS_REPORT_DEPLOYMENT[] = {
    {"deployment", LFR_ARG_ID, 1, "the deployment"},
    {"format", LFR_ARG_TEXT, 0, "json (default: the report as the answer), html or pdf (a file)"},
    END};

static const lfr_op_arg ARGS_EVAL_STATUS[] = NO_ARGS;
static const lfr_op_arg ARGS_EVAL_START[] = {
    {"sample", LFR_ARG_INT, 0,
     "every K-th person / image only: 1 (default) is the full evaluation (the longest), 40 a "
     "quick rough one, at most 1000"},
    {"model_set", LFR_ARG_TEXT, 0,
     "fused704v3 (default: the deployments' own), fused704v2, fused704 or mfn192"},
    END};
static const lfr_op_arg ARGS_EVAL_CANCEL[] = {{"run", LFR_ARG_ID, 1, "the running evaluation"}, END};
static const lfr_op_arg ARGS_EVAL_FILE[] = {
    {"run", LFR_ARG_ID, 1, "a finished evaluation run"},
    {"format", LFR_ARG_TEXT, 0, "html (default: the page, index.html) or json (report.json)"},
    END};

static const lfr_op_info op_infos[] = {
#define OP_INFO(id, name, roles, audit)                                                        \
    {LFR_OP_##id, name, roles, APP_AUDIT_##audit, ARGS_##id,                                   \
     sizeof ARGS_##id / sizeof ARGS_##id[0] - 1},
    LFR_OP_LIST(OP_INFO)
#undef OP_INFO
};
_Static_assert(sizeof op_infos / sizeof op_infos[0] == LFR_OP_COUNT, "one row per operation");

static const app_op_fn op_fns[] = {
#define OP_FN(id, name, roles, audit) app_op_##id,
    LFR_OP_LIST(OP_FN)
#undef OP_FN
};

/* Which argument names the deployment a call touches. */
static const struct {
    app_scope kind;
    const char *arg;
} op_scopes[LFR_OP_COUNT] = {
    [LFR_OP_DEPLOYMENT_AUTHORISE] = {APP_SCOPE_DEPLOYMENT, "id"},
    [LFR_OP_DEPLOYMENT_START] = {APP_SCOPE_DEPLOYMENT, "id"},
    [LFR_OP_DEPLOYMENT_END] = {APP_SCOPE_DEPLOYMENT, "id"},
    [LFR_OP_DEPLOYMENT_AMEND] = {APP_SCOPE_DEPLOYMENT, "id"},
    [LFR_OP_DEPLOYMENT_AMEND_AUTHORISE] = {APP_SCOPE_AMENDMENT, "amendment"},
    [LFR_OP_DEPLOYMENT_SHOW] = {APP_SCOPE_DEPLOYMENT, "id"},
    [LFR_OP_DEPLOYMENT_AMENDMENTS] = {APP_SCOPE_DEPLOYMENT, "id"},
    [LFR_OP_CAMERA_ADD] = {APP_SCOPE_DEPLOYMENT, "deployment"},
    [LFR_OP_CAMERA_REMOVE] = {APP_SCOPE_CAMERA, "id"},
    [LFR_OP_CAMERA_LIST] = {APP_SCOPE_DEPLOYMENT, "deployment"},
    [LFR_OP_CAMERA_STATS] = {APP_SCOPE_DEPLOYMENT, "deployment"},
    [LFR_OP_CAMERA_PREVIEW] = {APP_SCOPE_CAMERA, "id"},
    [LFR_OP_WATCHLIST_ADD] = {APP_SCOPE_DEPLOYMENT, "deployment"},
    [LFR_OP_WATCHLIST_IMPORT] = {APP_SCOPE_DEPLOYMENT, "deployment"},
    [LFR_OP_WATCHLIST_ADD_PHOTO] = {APP_SCOPE_ENTRY, "id"},
    [LFR_OP_WATCHLIST_LIST] = {APP_SCOPE_DEPLOYMENT, "deployment"},
    [LFR_OP_WATCHLIST_PHOTOS] = {APP_SCOPE_ENTRY, "id"},
    [LFR_OP_WATCHLIST_REMOVE] = {APP_SCOPE_ENTRY, "id"},
    [LFR_OP_WATCHLIST_IMAGE] = {APP_SCOPE_IMAGE, "image"}, /* or entry: ops_watchlist.c */
    [LFR_OP_ALERT_LIST] = {APP_SCOPE_DEPLOYMENT, "deployment"},
    [LFR_OP_ALERT_GET] = {APP_SCOPE_ALERT, "id"},
    [LFR_OP_ALERT_IMAGE] = {APP_SCOPE_ALERT, "id"},
    [LFR_OP_ALERT_DECIDE] = {APP_SCOPE_ALERT, "id"},
    [LFR_OP_ALERT_DISPATCH] = {APP_SCOPE_ALERT, "id"},
    [LFR_OP_ALERT_ACK] = {APP_SCOPE_ALERT, "id"},
    [LFR_OP_ALERT_OUTCOME] = {APP_SCOPE_ALERT, "id"},
    [LFR_OP_CHECK_PHOTO] = {APP_SCOPE_OWN, "deployment"},
    [LFR_OP_CHECK_LIST] = {APP_SCOPE_DEPLOYMENT, "deployment"},
    [LFR_OP_DEVICE_PAIR_CODE] = {APP_SCOPE_DEPLOYMENT, "deployment"},
    [LFR_OP_DEVICE_LIST] = {APP_SCOPE_DEPLOYMENT, "deployment"},
    [LFR_OP_DEVICE_REVOKE] = {APP_SCOPE_DEVICE, "id"},
    [LFR_OP_AUDIT_SHOW] = {APP_SCOPE_DEPLOYMENT, "deployment"},
    [LFR_OP_REPORT_DEPLOYMENT] = {APP_SCOPE_DEPLOYMENT, "deployment"},
};

const lfr_op_info *lfr_op_get(lfr_op op) {
    return (unsigned)op < LFR_OP_COUNT ? &op_infos[op] : NULL;
}

const lfr_op_info *lfr_op_find(const char *name) {
    for (int i = 0; name && i < LFR_OP_COUNT; i++)
        if (!strcmp(op_infos[i].name, name)) return &op_infos[i];
    return NULL;
}

const char *lfr_arg_type_name(lfr_arg_type t) {
    static const char *names[] = {
#define ARG_NAME(id, name) name,
        LFR_ARG_TYPE_LIST(ARG_NAME)
#undef ARG_NAME
    };
    return (unsigned)t < LFR_ARG_TYPE_COUNT ? names[t] : "?";
}

/* Argument readers ------------------------------------------------------------- */
/* An integer from a JSON integer or its decimal text; -1 when neither. */
static int json_int_of(const json_t *v, int64_t *out) {
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!*s || !isdigit((unsigned char)*s)) return -1;
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (errno || *end) return -1;
        *out = x;
        return 0;
    }
    return -1;
}

static int json_real_of(const json_t *v, double *out) {
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return isfinite(*out) ? 0 : -1;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        double x = strtod(s, &end);
        if (!*s || isspace((unsigned char)*s) || *end || errno || !isfinite(x)) return -1;
        *out = x;
        return 0;
    }
    return -1;
}

static int json_bool_of(const json_t *v, int *out) {
    if (json_is_boolean(v)) return *out = json_is_true(v), 0;
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
        return *out = (int)json_integer_value(v), 0;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!strcmp(s, "true") || !strcmp(s, "1")) return *out = 1, 0;
        if (!strcmp(s, "false") || !strcmp(s, "0")) return *out = 0, 0;
    }
    return -1;
}

int app_arg_has(const app_call *c, const char *name) {
    const json_t *v = json_object_get(c->args, name);
    return v && !json_is_null(v);
}

int64_t app_arg_id(const app_call *c, const char *name) {
    int64_t v = 0;
    const json_t *j = json_object_get(c->args, name);
    if (!j || json_int_of(j, &v)) return 0;
    return v;
}

const char *app_arg_str(const app_call *c, const char *name) {
    const json_t *j = json_object_get(c->args, name);
    return json_is_string(j) ? json_string_value(j) : NULL;
}

double app_arg_real(const app_call *c, const char *name, double dflt) {
    double v;
    const json_t *j = json_object_get(c->args, name);
    return j && !json_real_of(j, &v) ? v : dflt;
}

int app_arg_bool(const app_call *c, const char *name) {
    int v = 0;
    const json_t *j = json_object_get(c->args, name);
    return j && !json_bool_of(j, &v) ? v : 0;
}

int64_t app_arg_time(const app_call *c, const char *name) {
    const json_t *j = json_object_get(c->args, name);
    int64_t t = 0;
    if (json_is_integer(j)) return json_integer_value(j);
    if (json_is_string(j)) {
        lfr_err e;
        if (lfr_time_parse(json_string_value(j), &t, &e) != LFR_OK) return 0;
    }
    return t;
}

lfr_status app_answer(app_call *c, json_t *body) {
    if (!body) return lfr_err_set(c->err, LFR_ERR_NOMEM, "%s: out of memory for the answer", c->op->name);
    json_decref(c->res->body);
    c->res->body = body;
    return LFR_OK;
}

void app_after_live(app_call *c, app_live_change what, int64_t dep, int64_t id) {
    if (c->n_live >= APP_CALL_MAX_AFTER) return;
    c->live[c->n_live].what = what;
    c->live[c->n_live].dep = dep;
    c->live[c->n_live].id = id;
    c->n_live++;
}

void app_after_event(app_call *c, const char *type, int64_t dep, int64_t alert, int64_t device,
                     json_t *data) {
    if (c->n_events >= APP_CALL_MAX_AFTER) {
        json_decref(data);
        return;
    }
    c->events[c->n_events].type = type;
    c->events[c->n_events].dep = dep;
    c->events[c->n_events].alert = alert;
    c->events[c->n_events].device = device;
    c->events[c->n_events].data = data;
    c->n_events++;
}

/* Argument checks -------------------------------------------------------------- */
static lfr_status check_one(const lfr_op_info *op, const lfr_op_arg *a, const json_t *v,
                            lfr_err *err) {
    int64_t i;
    double d;
    int b;
    lfr_err e = {{0}};
    switch (a->type) {
    case LFR_ARG_ID:
        if (json_int_of(v, &i) || i <= 0)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s must be an id (an integer > 0)",
                               op->name, a->name);
        return LFR_OK;
    case LFR_ARG_INT:
        if (json_int_of(v, &i) || i < 0)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s must be an integer >= 0",
                               op->name, a->name);
        return LFR_OK;
    case LFR_ARG_TEXT:
    case LFR_ARG_NAME:
        if (!json_is_string(v))
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s must be text", op->name, a->name);
        if (lfr_text_check(json_string_value(v), a->type == LFR_ARG_NAME ? LFR_MAX_ACTOR : LFR_MAX_TEXT,
                           a->name, &e) != LFR_OK)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s", op->name, e.msg);
        return LFR_OK;
    case LFR_ARG_SECRET:
    case LFR_ARG_PATH:
        if (!json_is_string(v) || !json_string_length(v))
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s must be a non-empty string",
                               op->name, a->name);
        if (json_string_length(v) >= LFR_APP_MAX_STRING_ARG || strlen(json_string_value(v)) != json_string_length(v))
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "%s: %s is longer than %d bytes or holds a NUL byte", op->name,
                               a->name, LFR_APP_MAX_STRING_ARG - 1);
        return LFR_OK;
    case LFR_ARG_REAL:
        if (json_real_of(v, &d))
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s must be a finite number",
                               op->name, a->name);
        return LFR_OK;
    case LFR_ARG_BOOL:
        if (json_bool_of(v, &b))
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s must be true or false", op->name,
                               a->name);
        return LFR_OK;
    case LFR_ARG_TIME:
        if (json_is_integer(v) && json_integer_value(v) > 0) return LFR_OK;
        if (!json_is_string(v))
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "%s: %s must be a time (2025-06-01T10:00Z or Unix seconds)",
                               op->name, a->name);
        if (lfr_time_parse(json_string_value(v), &i, &e) != LFR_OK)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s: %s", op->name, a->name, e.msg);
        return LFR_OK;
    case LFR_ARG_IDS:
        if (!json_is_array(v) || json_array_size(v) > LFR_APP_MAX_ARRAY_ARG)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s must be an array of at most %d ids",
                               op->name, a->name, LFR_APP_MAX_ARRAY_ARG);
        for (size_t k = 0; k < json_array_size(v); k++)
            if (json_int_of(json_array_get(v, k), &i) || i <= 0)
                return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s[%zu] must be an id (an integer > 0)",
                                   op->name, a->name, k);
        return LFR_OK;
    case LFR_ARG_WORDS:
        if (!json_is_array(v) || json_array_size(v) > LFR_APP_MAX_ARRAY_ARG)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s must be an array of at most %d words",
                               op->name, a->name, LFR_APP_MAX_ARRAY_ARG);
        for (size_t k = 0; k < json_array_size(v); k++)
            if (!json_is_string(json_array_get(v, k)))
                return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s[%zu] must be text", op->name,
                                   a->name, k);
        return LFR_OK;
    case LFR_ARG_ROWS:
        if (!json_is_array(v) || json_array_size(v) > LFR_APP_MAX_IMPORT_ROWS)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s must be an array of at most %d objects",
                               op->name, a->name, LFR_APP_MAX_IMPORT_ROWS);
        for (size_t k = 0; k < json_array_size(v); k++)
            if (!json_is_object(json_array_get(v, k)))
                return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s[%zu] must be an object",
                                   op->name, a->name, k);
        return LFR_OK;
    case LFR_ARG_IMAGE:
    case LFR_ARG_TYPE_COUNT:
        break;
    }
    return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s is not an argument given as JSON", op->name,
                       a->name);
}

static lfr_status check_args(const lfr_op_info *op, const lfr_app_req *req, json_t *args,
                             lfr_err *err) {
    const char *key;
    json_t *v;
    json_object_foreach(args, key, v) {
        const lfr_op_arg *a = NULL;
        for (size_t k = 0; k < op->n_args && !a; k++)
            if (!strcmp(op->args[k].name, key) && op->args[k].type != LFR_ARG_IMAGE) a = &op->args[k];
        if (!a) {
            char names[256] = "";
            for (size_t k = 0; k < op->n_args; k++) {
                if (op->args[k].type == LFR_ARG_IMAGE) continue;
                size_t l = strlen(names);
                snprintf(names + l, sizeof names - l, "%s%s", l ? ", " : "", op->args[k].name);
            }
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: unknown argument '%.40s' (%s%s)",
                               op->name, key, names[0] ? "it takes: " : "it takes none", names);
        }
        if (json_is_null(v)) continue; /* null = not given */
        lfr_status st = check_one(op, a, v, err);
        if (st != LFR_OK) return st;
    }
    int takes_image = 0;
    for (size_t k = 0; k < op->n_args; k++) {
        const lfr_op_arg *a = &op->args[k];
        if (a->type == LFR_ARG_IMAGE) {
            takes_image = 1;
            if (a->required && (!req->blob || !req->blob_len))
                return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s is required (%s)", op->name,
                                   a->name, a->help);
            if (req->blob_len > LFR_MAX_IMAGE_BYTES)
                return lfr_err_set(err, LFR_ERR_TOO_LARGE, "%s: %s is %zu bytes, at most %u",
                                   op->name, a->name, req->blob_len, LFR_MAX_IMAGE_BYTES);
            continue;
        }
        v = json_object_get(args, a->name);
        if (a->required && (!v || json_is_null(v)))
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: %s is required (%s)", op->name,
                               a->name, a->help);
    }
    if (!takes_image && req->blob)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s takes no image", op->name);
    return LFR_OK;
}

/* Scope ------------------------------------------------------------------------- */
lfr_status app_scope_resolve(lfr_store *s, app_scope kind, int64_t id, int64_t *dep, lfr_err *err) {
    static const struct {
        app_scope kind;
        const char *what, *sql;
    } q[] = {
        {APP_SCOPE_DEPLOYMENT, "deployment", "SELECT id FROM deployments WHERE id = ?"},
        {APP_SCOPE_ALERT, "alert", "SELECT deployment_id FROM alerts WHERE id = ?"},
        {APP_SCOPE_ENTRY, "watchlist entry", "SELECT deployment_id FROM watchlist_entries WHERE id = ?"},
        {APP_SCOPE_IMAGE, "watchlist image",
         "SELECT e.deployment_id FROM entry_images i JOIN watchlist_entries e ON e.id = i.entry_id "
         "WHERE i.id = ?"},
        {APP_SCOPE_CHECK, "photo check", "SELECT deployment_id FROM photo_checks WHERE id = ?"},
        {APP_SCOPE_CAMERA, "camera", "SELECT deployment_id FROM cameras WHERE id = ?"},
        {APP_SCOPE_AMENDMENT, "amendment", "SELECT deployment_id FROM amendments WHERE id = ?"},
        {APP_SCOPE_DEVICE, "device", "SELECT deployment_id FROM devices WHERE id = ?"},
        {APP_SCOPE_OWN, "deployment", "SELECT id FROM deployments WHERE id = ?"},
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        if (q[i].kind != kind) continue;
        int64_t v = 0;
        lfr_status st = lfr_store_query_int64(s, q[i].sql, 1, id, 0, &v, err);
        if (st != LFR_OK) return st;
        if (v <= 0) return lfr_err_set(err, LFR_ERR_NOT_FOUND, "no %s %lld", q[i].what, (long long)id);
        *dep = v;
        return LFR_OK;
    }
    *dep = 0;
    return LFR_OK;
}

static lfr_status scope(app_call *c) {
    const lfr_principal *who = c->who;
    int device = who && who->device_id > 0;
    app_scope kind = op_scopes[c->op->op].kind;
    const char *arg = op_scopes[c->op->op].arg;
    if (c->op->op == LFR_OP_WATCHLIST_IMAGE && !app_arg_has(c, "image")) {
        kind = APP_SCOPE_ENTRY;
        arg = "entry";
    }
    if (kind == APP_SCOPE_NONE) return LFR_OK;
    int64_t id = app_arg_id(c, arg);
    if (!id) {
        if (kind == APP_SCOPE_OWN && device) {
            c->deployment_id = who->deployment_id;
            return LFR_OK;
        }
        if (kind == APP_SCOPE_OWN)
            return lfr_err_set(c->err, LFR_ERR_INVALID_ARG, "%s: deployment is required",
                               c->op->name);
        if (c->op->op == LFR_OP_WATCHLIST_IMAGE)
            return lfr_err_set(c->err, LFR_ERR_INVALID_ARG, "%s: image or entry is required",
                               c->op->name);
        /* an optional filter that was not given: a device sees its own */
        if (device) c->deployment_id = who->deployment_id;
        return LFR_OK;
    }
    lfr_status st = app_scope_resolve(c->s, kind, id, &c->deployment_id, c->err);
    if (st != LFR_OK) return st;
    if (device && c->deployment_id != who->deployment_id)
        return lfr_err_set(c->err, LFR_ERR_PERMISSION,
                           "%s: this device is paired with deployment %lld, not deployment %lld",
                           c->op->name, (long long)who->deployment_id, (long long)c->deployment_id);
    return LFR_OK;
}

lfr_status app_alert_visible(app_call *c, const lfr_alert_info *a, int *yes) {
    *yes = 1;
    if (!c->who || c->who->device_id <= 0) return LFR_OK;
    if (a->deployment_id != c->who->deployment_id) return *yes = 0, LFR_OK;
    if (c->app->cfg.dispatch_all_alerts && a->dispatched_at) return LFR_OK;
    return lfr_deploy_alert_dispatched_to(c->s, a->id, c->who->device_id, yes, c->err);
}

/* The call ---------------------------------------------------------------------- */
static lfr_status head_seq(lfr_store *s, int64_t *seq, lfr_err *err) {
    return lfr_store_query_int64(s, "SELECT COALESCE(MAX(seq), 0) FROM audit_log", 0, 0, 0, seq, err);
}

typedef struct seq_find {
    const char *action;
    int64_t seq;
} seq_find;

static int seq_find_fn(const lfr_audit_record *r, void *ctx) {
    seq_find *f = ctx;
    if (!strcmp(r->action, f->action)) f->seq = r->seq;
    return 0;
}

static void role_names(unsigned roles, char *buf, size_t cap) {
    buf[0] = 0;
    for (int r = 0; r < LFR_ROLE_COUNT; r++) {
        if (!(roles & LFR_ROLE_BIT(r))) continue;
        size_t l = strlen(buf);
        snprintf(buf + l, cap - l, "%s%s", l ? ", " : "", lfr_role_name((lfr_role)r));
    }
    if (!buf[0]) snprintf(buf, cap, "none");
}

lfr_status lfr_app_call(lfr_app *app, const lfr_app_req *req, lfr_app_res *res, lfr_err *err) {
    memset(res, 0, sizeof *res);
    if (!app || !req) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "no app or request");
    const lfr_op_info *op = lfr_op_get(req->op);
    if (!op) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "unknown operation %d", (int)req->op);
    app_call c = {.app = app, .req = req, .op = op, .res = res, .err = err, .who = req->who};

    /* who, and in which role */
    if (op->roles) {
        if (!req->who)
            return lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "%s: sign in first", op->name);
        unsigned allowed = req->who->roles & op->roles;
        if (!allowed) {
            char want[128], have[128];
            role_names(op->roles, want, sizeof want);
            role_names(req->who->roles, have, sizeof have);
            return lfr_err_set(err, LFR_ERR_PERMISSION, "%s is for: %s; %s holds: %s", op->name,
                               want, req->who->login, have);
        }
        int r = 0;
        while (!(allowed & LFR_ROLE_BIT(r))) r++;
        c.by.name = req->who->login;
        c.by.role = (lfr_role)r;
    } else {
        c.by.name = req->who && req->who->login[0] ? req->who->login : "anonymous";
        c.by.role = LFR_ROLE_SYSTEM;
    }

    /* arguments */
    json_t *own = NULL;
    if (!req->args) own = json_object();
    else if (!json_is_object(req->args))
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: the arguments must be a JSON object", op->name);
    c.args = own ? own : req->args;
    if (!c.args) return LFR_ERR_NOMEM;
    lfr_status st = check_args(op, req, c.args, err);

    /* the store, scope, the operation, its audit record */
    int64_t before = 0;
    if (st == LFR_OK) st = app_store_take(app, &c.s, err);
    if (st == LFR_OK) st = scope(&c);
    if (st == LFR_OK && op->audit >= 0) st = head_seq(c.s, &before, err);
    if (st == LFR_OK) st = op_fns[op->op](&c);
    /* a deployment's lifecycle, and retention, leave a signed checkpoint
     * (audit.h): made after the change, in its own transaction */
    json_t *cp = NULL;
    if (st == LFR_OK && (op->audit == LFR_AUDIT_DEPLOYMENT_AUTHORISE ||
                         op->audit == LFR_AUDIT_DEPLOYMENT_START ||
                         op->audit == LFR_AUDIT_DEPLOYMENT_END ||
                         op->op == LFR_OP_RETENTION_PURGE)) {
        lfr_err e = {{0}};
        const char *why = op->audit >= 0 ? lfr_audit_action_name((lfr_audit_action)op->audit)
                                         : "retention.purge";
        if (app_checkpoint(app, c.s, &c.by, why, c.deployment_id, &cp, &e) != LFR_OK) {
            lfr_log(LFR_LOG_ERROR, "%s: the checkpoint could not be made: %s", op->name, e.msg);
            cp = json_pack("{s:s}", "error", e.msg);
        }
    }
    if (st == LFR_OK && op->audit >= 0) {
        seq_find f = {lfr_audit_action_name((lfr_audit_action)op->audit), 0};
        lfr_err e = {{0}};
        if (lfr_audit_each(c.s, 0, before + 1, 0, seq_find_fn, &f, &e) == LFR_OK) res->audit_seq = f.seq;
    }
    if (c.s) app_store_give(app, c.s);
    if (st == LFR_OK && !res->body) st = app_answer(&c, json_object());
    if (cp && st == LFR_OK && json_is_object(res->body))
        json_object_set_new(res->body, "checkpoint", cp);
    else
        json_decref(cp);

    /* after the commit: the registry, then the events */
    for (int i = 0; i < c.n_live; i++)
        if (st == LFR_OK) app_live_notify(app, c.live[i].what, c.live[i].dep, c.live[i].id);
    for (int i = 0; i < c.n_events; i++) {
        if (st == LFR_OK)
            lfr_app_publish(app, c.events[i].type, c.events[i].dep, c.events[i].alert,
                            c.events[i].device, c.events[i].data);
        else
            json_decref(c.events[i].data);
    }
    json_decref(own);
    if (st != LFR_OK) { /* a refusal may keep details in the body, nothing else */
        json_t *keep = res->body;
        res->body = NULL;
        lfr_app_res_clear(res);
        res->body = keep;
    }
    return st;
}
