/*
 * app.h - the application core every front end shares (cli/, http/).
 *
 * OVERVIEW
 *   The front ends are thin: they parse their input into a JSON object of
 *   arguments (plus at most one binary input, an image), call
 *   lfr_app_call with an operation and the principal making the request,
 *   and print or send the JSON answer.  Everything that must not be
 *   forgotten by a front end happens here, once:
 *     - the role check, from the table of operations (LFR_OP_LIST: name,
 *       roles allowed, audit action);
 *     - device scoping: a device token reaches only its own deployment;
 *     - the audit record (written by the domain call, inside the change's
 *       transaction; the table names the action so tests can check that
 *       every audited operation left exactly one record);
 *     - notifying the registry of live deployments (snapshot rebuilt at
 *       once on start / end / amendment) and publishing events.
 *
 *   Configuration (LFR_CONFIG_LIST): one table of options, each with its
 *   type, default, limits and the reason for them; read from a file
 *   ("key = value" lines), then the environment (OPENLFR_<KEY>), then flags
 *   (--key value), later ones winning.  `openlfr serve --help` prints the
 *   table.
 *
 *   Threads: an lfr_app is shared by every thread.  Store connections
 *   (one SQLite connection each) and face contexts come from pools inside
 *   the app; lfr_app_call takes what it needs and gives it back.
 *
 *   Live registry: one entry per live deployment, owning its camera
 *   pipeline (src/pipeline) and its watchlist snapshot.  A snapshot is
 *   built only if the watchlist's digest still equals the digest recorded
 *   at authorisation (LFR_ERR_INTEGRITY otherwise: the deployment is not
 *   matched and the refusal is audited).  Photo checks use the same
 *   snapshot.
 *
 *   Events (lfr_events): numbered from 1, kept in a bounded ring
 *   (LFR_EVENT_HISTORY); any number of readers wait for ids after the last
 *   they saw.  A reader that falls further behind than the ring is told
 *   (gap) and resumes at the oldest kept event.
 *
 * OWNERSHIP
 *   lfr_app_open gives the app; lfr_app_close stops live pipelines and
 *   frees everything.  In lfr_app_req everything is borrowed.  In
 *   lfr_app_res the body (new reference) and blob (wipe, then lfr_free)
 *   are the caller's; lfr_app_res_clear releases both.
 */
#ifndef LFR_APP_H
#define LFR_APP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "account/account.h"
#include "audit/audit.h"
#include "core/core.h"
#include "deploy/deploy.h"

/* Configuration --------------------------------------------------------------
 * X(type, key, default, min, max, reason).  type STR | INT | BOOL | REAL.
 * min/max apply to INT and REAL (ignored for STR and BOOL). */
#define LFR_CONFIG_LIST(X)                                                                     \
    X(STR, db, "openlfr.db", 0, 0, "the installation's database file")                       \
    X(STR, key_file, "", 0, 0, "encryption key file; empty: openlfr.key beside the database") \
    X(STR, models, "models", 0, 0, "directory of the converted face models")                 \
    X(STR, listen, "127.0.0.1", 0, 0,                                                          \
      "address the server binds; the van's LAN address in service, loopback by default")     \
    X(INT, port, 8443, 1, 65535, "HTTPS port")                                                 \
    X(STR, cert, "", 0, 0, "server certificate (PEM); empty: the van's own CA issues one")   \
    X(STR, cert_key, "", 0, 0, "server certificate key (PEM), with cert")                     \
    X(STR, tls_dir, "", 0, 0, "where the van's CA and certificate live; empty: beside db")   \
    X(STR, sign_key, "", 0, 0, "Ed25519 key signing audit checkpoints; empty: openlfr.sign beside db") \
    X(STR, web_root, "web", 0, 0, "static files of the console and the officers' app")       \
    X(INT, threads, 4, 1, 64, "request threads (photo checks queue for the face contexts)")  \
    X(INT, face_contexts, 2, 1, 16,                                                            \
      "face engine contexts for photo checks and enrolment (about 50-150 MB each)")          \
    X(INT, store_connections, 8, 1, 64, "database connections shared by request threads")    \
    X(INT, session_ttl_s, 43200, 300, 604800,                                                  \
      "sign-in session lifetime: one shift (12 h); at least 5 min, at most a week")          \
    X(INT, pair_code_ttl_s, 600, 60, 3600,                                                     \
      "a device pairing code is valid this long: minutes, not hours")                        \
    X(INT, login_free_failures, 3, 1, 20, "wrong passwords in a row before backoff starts")   \
    X(INT, login_lockout_s, 900, 10, 86400, "longest wait after repeated wrong passwords")     \
    X(INT, requests_per_min, 600, 10, 100000, "requests per token per minute")                \
    X(INT, max_streams, 200, 1, 2000, "open live-event streams, all clients together")        \
    X(INT, client_timeout_s, 30, 5, 600, "a client that sends nothing this long is cut off")  \
    X(INT, retention_check_s, 300, 10, 86400, "how often the server applies retention")      \
    X(INT, watchlist_after_end_s, 86400, 0, 2592000,                                           \
      "watchlist deleted this long after a deployment ends (24 h)")                          \
    X(INT, alerts_keep_s, 2678400, 3600, 31536000, "alerts kept this long (31 days)")        \
    X(INT, checks_keep_s, 2678400, 3600, 31536000, "photo checks kept this long (31 days)")  \
    X(BOOL, dispatch_all_alerts, 0, 0, 1,                                                      \
      "1: officers' devices receive every confirmed alert, not only those sent to them")     \
    X(INT, detect_every, 2, 1, LFR_PIPELINE_MAX_DETECT_EVERY,                                  \
      "cameras: new faces are searched for in full every this many analysed frames, only "    \
      "near the tracks between (1: every frame; docs/pipeline.md measures the cost)")          \
    X(INT, embed_per_frame, 2, 1, LFR_MAX_NET_BATCH,                                           \
      "cameras: most faces one camera embeds per frame, new tracks first (more wait a frame)") \
    X(INT, camera_queue, 4, 1, LFR_VIDEO_MAX_QUEUE,                                            \
      "cameras: frames that may wait for analysis per camera; each adds at most one frame "   \
      "interval of latency (1: newest frame wins)")                                            \
    X(INT, defer_behind, 2, 0, LFR_VIDEO_MAX_QUEUE,                                            \
      "cameras: when this many frames still wait for a camera, its due full detection waits "  \
      "(at most detect_every frames) instead of frames being dropped; 0: never")              \
    X(INT, analysis_threads, 0, 0, LFR_PIPELINE_MAX_ANALYSIS_THREADS,                          \
      "cameras: analysis workers shared by a deployment's cameras; 0: one per CPU")           \
    X(REAL, alert_cooldown_s, 30, 0, 3600,                                                     \
      "after an alert, a new track of the same listed person on the same camera within this " \
      "time is counted, not alerted again")                                                    \
    X(STR, data, "", 0, 0,                                                                     \
      "face evaluation data (lfw/, utkface/, wider/, celeba/) for the console's evaluation "  \
      "report; empty: none ($OPENLFR_DATA)")                                                   \
    X(STR, log, "info", 0, 0, "log level: debug, info, warn, error, silent")

typedef struct lfr_config {
#define LFR_CONFIG_FIELD_STR(key) char key[LFR_MAX_CONFIG_VALUE];
#define LFR_CONFIG_FIELD_INT(key) int64_t key;
#define LFR_CONFIG_FIELD_BOOL(key) int key;
#define LFR_CONFIG_FIELD_REAL(key) double key;
#define LFR_CONFIG_FIELD(type, key, dflt, min, max, why) LFR_CONFIG_FIELD_##type(key)
    LFR_CONFIG_LIST(LFR_CONFIG_FIELD)
#undef LFR_CONFIG_FIELD
} lfr_config;

/* Defaults of every option. */
void lfr_config_defaults(lfr_config *c);
/* Sets one option from text (key as in the table, '-' and '_' alike).
 * Unknown key: LFR_ERR_NOT_FOUND; bad or out-of-range value:
 * LFR_ERR_INVALID_ARG with a sentence naming the option and its range. */
lfr_status lfr_config_set(lfr_config *c, const char *key, const char *value, lfr_err *err);
/* "key = value" lines, '#' comments; errors name the line. */
lfr_status lfr_config_load_file(lfr_config *c, const char *path, lfr_err *err);
/* OPENLFR_<KEY> (upper case) for every option present in the environment. */
lfr_status lfr_config_load_env(lfr_config *c, lfr_err *err);
/* The checkpoint signing key's file: option sign_key, or openlfr.sign
 * beside the database.  LFR_ERR_TOO_LARGE when it does not fit in cap. */
lfr_status lfr_config_sign_key_path(const lfr_config *c, char *out, size_t cap, lfr_err *err);
/* Every option with its default, range and reason (for --help). */
void lfr_config_print_help(FILE *f);

/* Operations ---------------------------------------------------------------
 * X(id, name, roles, audit)
 *   roles: bit set of lfr_role (R_* below); 0 = no sign-in needed.
 *   audit: the audit action the operation records on success, or NONE. */
#define R_OPR (1u << LFR_ROLE_OPERATOR)
#define R_OFF (1u << LFR_ROLE_OFFICER)
#define R_AUTH (1u << LFR_ROLE_AUTHORISER)
#define R_AUD (1u << LFR_ROLE_AUDITOR)
#define R_ADM (1u << LFR_ROLE_ADMIN)
#define R_ANY (R_OPR | R_OFF | R_AUTH | R_AUD | R_ADM)

#define LFR_OP_LIST(X)                                                                         \
    X(HEALTH, "health", 0, NONE)                                                               \
    X(SESSION_LOGIN, "session.login", 0, SESSION_LOGIN)                                        \
    X(SESSION_LOGOUT, "session.logout", R_ANY, SESSION_LOGOUT)                                 \
    X(SESSION_WHOAMI, "session.whoami", R_ANY, NONE)                                           \
    X(DEPLOYMENT_CREATE, "deployment.create", R_OPR | R_AUTH, DEPLOYMENT_CREATE)               \
    X(DEPLOYMENT_AUTHORISE, "deployment.authorise", R_AUTH, DEPLOYMENT_AUTHORISE)              \
    X(DEPLOYMENT_START, "deployment.start", R_AUTH, DEPLOYMENT_START)                          \
    X(DEPLOYMENT_END, "deployment.end", R_AUTH, DEPLOYMENT_END)                                \
    X(DEPLOYMENT_AMEND, "deployment.amend", R_OPR | R_AUTH, DEPLOYMENT_AMEND_PROPOSE)          \
    X(DEPLOYMENT_AMEND_AUTHORISE, "deployment.amend_authorise", R_AUTH, DEPLOYMENT_AMEND)      \
    X(DEPLOYMENT_SHOW, "deployment.show", R_OPR | R_OFF | R_AUTH | R_AUD, NONE)                \
    X(DEPLOYMENT_LIST, "deployment.list", R_OPR | R_OFF | R_AUTH | R_AUD, NONE)                \
    X(DEPLOYMENT_AMENDMENTS, "deployment.amendments", R_OPR | R_AUTH | R_AUD, NONE)            \
    X(CAMERA_ADD, "camera.add", R_OPR, CAMERA_ADD)                                             \
    X(CAMERA_REMOVE, "camera.remove", R_OPR, CAMERA_REMOVE)                                    \
    X(CAMERA_LIST, "camera.list", R_OPR | R_AUTH | R_AUD, NONE)                                \
    X(CAMERA_STATS, "camera.stats", R_OPR | R_AUTH | R_AUD | R_ADM, NONE)                      \
    X(CAMERA_PREVIEW, "camera.preview", R_OPR | R_ADM, NONE)                                   \
    X(WATCHLIST_ADD, "watchlist.add", R_OPR | R_AUTH, WATCHLIST_ADD)                           \
    X(WATCHLIST_IMPORT, "watchlist.import", R_OPR | R_AUTH, WATCHLIST_IMPORT)                  \
    X(WATCHLIST_ADD_PHOTO, "watchlist.add_photo", R_OPR | R_AUTH, WATCHLIST_IMAGE_ADD)         \
    X(WATCHLIST_LIST, "watchlist.list", R_OPR | R_AUTH | R_AUD, NONE)                          \
    X(WATCHLIST_PHOTOS, "watchlist.photos", R_OPR | R_AUTH | R_AUD, NONE)                      \
    X(WATCHLIST_REMOVE, "watchlist.remove", R_OPR | R_AUTH, WATCHLIST_REMOVE)                  \
    X(WATCHLIST_IMAGE, "watchlist.image", R_OPR | R_OFF | R_AUTH, NONE)                        \
    X(ALERT_LIST, "alert.list", R_OPR | R_OFF | R_AUTH | R_AUD, NONE)                          \
    X(ALERT_GET, "alert.get", R_OPR | R_OFF | R_AUTH | R_AUD, NONE)                            \
    X(ALERT_IMAGE, "alert.image", R_OPR | R_OFF | R_AUTH, NONE)                                \
    X(ALERT_DECIDE, "alert.decide", R_OPR, ALERT_DECISION)                                     \
    X(ALERT_DISPATCH, "alert.dispatch", R_OPR, ALERT_DISPATCH)                                 \
    X(ALERT_ACK, "alert.ack", R_OFF, ALERT_ACK)                                                \
    X(ALERT_OUTCOME, "alert.outcome", R_OPR | R_OFF, ALERT_OUTCOME)                            \
    X(CHECK_PHOTO, "check.photo", R_OFF, CHECK_PHOTO)                                          \
    X(CHECK_LIST, "check.list", R_OPR | R_AUTH | R_AUD, NONE)                                  \
    X(DEVICE_PAIR_CODE, "device.pair_code", R_OPR, DEVICE_PAIR_CODE)                           \
    X(DEVICE_PAIR, "device.pair", 0, DEVICE_PAIR)                                              \
    X(DEVICE_LIST, "device.list", R_OPR | R_ADM, NONE)                                         \
    X(DEVICE_REVOKE, "device.revoke", R_OPR | R_ADM, DEVICE_REVOKE)                            \
    X(USER_ADD, "user.add", R_ADM, USER_ADD)                                                   \
    X(USER_LIST, "user.list", R_ADM, NONE)                                                     \
    X(USER_DISABLE, "user.disable", R_ADM, USER_DISABLE)                                       \
    X(USER_PASSWD, "user.passwd", R_ADM, USER_PASSWD)                                          \
    X(AUDIT_VERIFY, "audit.verify", R_AUD | R_ADM, NONE)                                       \
    X(AUDIT_SHOW, "audit.show", R_AUD | R_ADM, NONE)                                           \
    X(AUDIT_ANCHOR, "audit.anchor", R_AUD | R_ADM, NONE)                                       \
    X(AUDIT_CHECKPOINT, "audit.checkpoint", R_AUD | R_ADM, CHECKPOINT)                         \
    X(AUDIT_CHECKPOINT_GET, "audit.checkpoint_get", R_AUD | R_ADM, NONE)                       \
    X(AUDIT_CHECKPOINT_QR, "audit.checkpoint_qr", R_AUD | R_ADM, NONE)                         \
    X(RETENTION_PURGE, "retention.purge", R_ADM, NONE)                                         \
    X(REPORT_DEPLOYMENT, "report.deployment", R_AUD | R_ADM, NONE)                             \
    X(EVAL_STATUS, "eval.status", R_AUD | R_ADM, NONE)                                         \
    X(EVAL_START, "eval.start", R_AUD | R_ADM, EVAL_START)                                     \
    X(EVAL_CANCEL, "eval.cancel", R_AUD | R_ADM, EVAL_CANCEL)                                  \
    X(EVAL_FILE, "eval.file", R_AUD | R_ADM, NONE)

typedef enum lfr_op {
#define LFR_OP_ENUM(id, name, roles, audit) LFR_OP_##id,
    LFR_OP_LIST(LFR_OP_ENUM)
#undef LFR_OP_ENUM
    LFR_OP_COUNT
} lfr_op;

/* Arguments of an operation: one table per operation (ops.c), used to
 * check every call and to document the API (docs/openapi.yaml follows
 * it).  Unknown arguments are refused, so a misspelt one is never ignored.
 * Ids may also be given as decimal text (path and query parameters). */
#define LFR_ARG_TYPE_LIST(X)                                                   \
    X(ID, "id")             /* integer > 0 */                                  \
    X(INT, "int")           /* integer >= 0 */                                 \
    X(TEXT, "text")         /* text a person typed (lfr_text_check) */         \
    X(NAME, "name")         /* a login or person's name (lfr_name_fold) */     \
    X(SECRET, "secret")     /* password or code: a string, never echoed */     \
    X(REAL, "number")       /* finite number */                                \
    X(BOOL, "bool")         /* true / false */                                 \
    X(TIME, "time")         /* RFC 3339 UTC string or Unix seconds */          \
    X(IDS, "ids")           /* array of ids */                                 \
    X(WORDS, "words")       /* array of strings */                             \
    X(ROWS, "rows")         /* array of objects (watchlist.import) */          \
    X(PATH, "path")         /* a path on the van's machine (CLI only) */   \
    X(IMAGE, "image")       /* JPEG/PNG bytes: req->blob, not in args */

typedef enum lfr_arg_type {
#define LFR_ARG_TYPE_ENUM(id, name) LFR_ARG_##id,
    LFR_ARG_TYPE_LIST(LFR_ARG_TYPE_ENUM)
#undef LFR_ARG_TYPE_ENUM
    LFR_ARG_TYPE_COUNT
} lfr_arg_type;

const char *lfr_arg_type_name(lfr_arg_type t);   /* "id" */

typedef struct lfr_op_arg {
    const char *name;          /* "threshold" */
    lfr_arg_type type;
    int required;              /* 1: always; 0: optional (see help) */
    const char *help;          /* one sentence */
} lfr_op_arg;

typedef struct lfr_op_info {
    lfr_op op;
    const char *name;          /* "deployment.create" */
    unsigned roles;            /* R_* bits; 0 = public */
    int audit;                 /* lfr_audit_action, or -1 for none */
    const lfr_op_arg *args;    /* its arguments (n_args rows); an IMAGE row
                                  means the operation takes req->blob */
    size_t n_args;
} lfr_op_info;

const lfr_op_info *lfr_op_get(lfr_op op);
/* By name; NULL when unknown. */
const lfr_op_info *lfr_op_find(const char *name);

/* The app ------------------------------------------------------------------ */
typedef struct lfr_app lfr_app;

typedef struct lfr_app_options {
    int no_face;               /* 1: do not load the face models (operations
                                  needing them fail with LFR_ERR_STATE) */
    int no_pipelines;          /* 1: starting a deployment does not start its
                                  cameras (CLI: `scan` runs them itself) */
    lfr_store_clock_fn now;    /* NULL: time(NULL); tests pass a fake clock */
    void *now_ctx;
} lfr_app_options;

lfr_status lfr_app_open(const lfr_config *cfg, const lfr_app_options *o, lfr_app **out,
                        lfr_err *err);
void lfr_app_close(lfr_app *app);
const lfr_config *lfr_app_config(const lfr_app *app);
/* What device.pair_code puts in the QR code: the server's URL
 * ("https://addr:port") and its CA's SHA-256 fingerprint.  The http layer
 * sets them once it listens; until then the answer carries no QR code. */
lfr_status lfr_app_set_server_identity(lfr_app *app, const char *url, const char *ca_fingerprint,
                                       lfr_err *err);

/* The CLI's principal: `by` is a person's name.  On a database without
 * accounts it acts in the operation's first allowed role under that name
 * (folded for comparisons): the principal gets user_id 0 and every role
 * (R_ANY), and lfr_app_call records the first role the operation allows.
 * On a database with accounts the name must be an enabled account's
 * (LFR_ERR_PERMISSION otherwise) and it acts with that account's roles,
 * under the account's login.  In every case the acting role recorded in
 * the audit log is the first of the principal's roles (in lfr_role order)
 * that the operation allows. */
lfr_status lfr_app_principal_by_name(lfr_app *app, const char *by, lfr_principal *who,
                                     lfr_err *err);
/* A bearer token to its principal (sessions and devices). */
lfr_status lfr_app_authenticate(lfr_app *app, const char *token, lfr_principal *who,
                                lfr_err *err);

typedef struct lfr_app_req {
    lfr_op op;
    const lfr_principal *who;  /* NULL only for public operations */
    json_t *args;              /* object of arguments (borrowed; NULL = {}) */
    const uint8_t *blob;       /* the image of watchlist.add / check.photo */
    size_t blob_len;
    const char *token;         /* the request's bearer token (session.logout) */
} lfr_app_req;

typedef struct lfr_app_res {
    json_t *body;              /* the answer (an object) */
    uint8_t *blob;             /* image answers (alert.image, watchlist.image,
                                  camera.preview) */
    size_t blob_len;
    const char *blob_type;     /* "image/jpeg" */
    int64_t audit_seq;         /* the record this call wrote, 0 = none */
} lfr_app_res;

/* Runs one operation: role check (LFR_ERR_UNAUTHENTICATED without a
 * principal, LFR_ERR_PERMISSION without an allowed role or outside a
 * device's deployment), then the operation.  Arguments are checked with
 * sentences naming the argument ("threshold must be a number in (0, 1)").
 * On success res->body is always an object.  On failure the sentence is in
 * err and res->body is NULL, except where a refusal has details to show
 * (watchlist.add refused by quality control: {"quality": {"reject", "why",
 * "measured"}}): front ends add them to their error answer.  Call
 * lfr_app_res_clear either way. */
lfr_status lfr_app_call(lfr_app *app, const lfr_app_req *req, lfr_app_res *res, lfr_err *err);
void lfr_app_res_clear(lfr_app_res *res);

/* The error answer both front ends use:
 * {"error": {"status": 409, "code": "ERR_STATE", "message": "..."}}. */
json_t *lfr_app_error_json(lfr_status st, const lfr_err *err);

/* Events --------------------------------------------------------------------
 * Types: alert.new, alert.update, alert.decided, alert.dispatched,
 * alert.ack, alert.outcome, check.done, camera.state, deployment.state,
 * device.revoked. */
typedef struct lfr_event {
    uint64_t id;                  /* from 1, no gaps */
    char type[32];
    int64_t deployment_id;        /* 0: not about one deployment */
    int64_t alert_id;             /* 0: not about an alert */
    int64_t device_id;            /* device.revoked: which device */
    char *data;                   /* JSON text (no images) */
} lfr_event;

/* Publishes one event (copies data). */
void lfr_app_publish(lfr_app *app, const char *type, int64_t deployment_id, int64_t alert_id,
                     int64_t device_id, json_t *data /* stolen */);
/* Waits up to timeout_ms for events with id > after; copies at most `cap`
 * into out (free each with lfr_event_clear).  *gap = 1 when events after
 * `after` were already dropped from the history.  Returns the number
 * copied (0 on time-out).  `after` = UINT64_MAX means "from now". */
size_t lfr_app_events_wait(lfr_app *app, uint64_t after, lfr_event *out, size_t cap, int *gap,
                           int timeout_ms);
void lfr_event_clear(lfr_event *e);
/* Whether principal `who` may see event `e` (officers: their deployment,
 * and alerts dispatched to their device or to all). */
int lfr_app_event_visible(lfr_app *app, const lfr_principal *who, const lfr_event *e);
/* Id of the newest event (0 = none yet). */
uint64_t lfr_app_events_head(lfr_app *app);

/* Live registry --------------------------------------------------------------
 * Cameras of live deployments, their state and counters for /metrics and
 * the console.  lfr_app_tick runs the periodic work of a server (retention,
 * deployments whose planned end passed are NOT ended automatically: an
 * authorising officer ends them, and the console warns). */
typedef struct lfr_app_camera_stats {
    int64_t deployment_id;
    char name[LFR_MAX_ACTOR];
    const char *state;            /* "connecting", "running", "stalled", ... */
    double analysed_fps;
    uint64_t frames, frames_dropped, faces, alerts;
    double latency_p50_ms, latency_p95_ms;
} lfr_app_camera_stats;

/* Fills at most cap entries, returns how many cameras there are. */
size_t lfr_app_cameras(lfr_app *app, lfr_app_camera_stats *out, size_t cap);
lfr_status lfr_app_tick(lfr_app *app, lfr_err *err);

/* JSON forms -----------------------------------------------------------------
 * One JSON form per object, used by both front ends (times as RFC 3339 UTC
 * strings, null when unset). */
json_t *lfr_json_deployment(const lfr_deploy_info *d);
json_t *lfr_json_entry(const lfr_watchlist_entry_info *e);
json_t *lfr_json_entry_photo(const lfr_entry_photo_info *p);
json_t *lfr_json_alert(const lfr_alert_info *a);
json_t *lfr_json_check(const lfr_check_info *c);
json_t *lfr_json_camera(const lfr_camera_info *c);
json_t *lfr_json_device(const lfr_device_info *d);
json_t *lfr_json_user(const lfr_user_info *u);
json_t *lfr_json_audit_record(const lfr_audit_record *r);
json_t *lfr_json_time(int64_t t);
/* Parses "2025-06-01T10:00Z", "...:00Z" or Unix seconds; refuses
 * impossible dates ("2024-02-30", month 13, 99:99). */
lfr_status lfr_time_parse(const char *s, int64_t *t, lfr_err *err);

#endif
