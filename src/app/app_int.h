/*
 * app_int.h - private to src/app: the app's struct, its pools, the
 * operation implementations and their argument tables.
 *
 * DESIGN
 *   lfr_app_call (ops.c) is one path for every operation:
 *     find the row (op_rows[op]: function, arguments, how the deployment
 *     is found) -> principal required unless public -> role check (the
 *     acting role is the first of the principal's roles the op allows) ->
 *     arguments checked against the row's table (unknown, missing and
 *     mistyped arguments named) -> device scoping (the deployment of the
 *     id argument must be the device's) -> a store connection from the
 *     pool -> the domain call (ops_*.c) -> the audit seq it wrote ->
 *     registry notification and events (after the commit).
 *
 *   Pools: store connections (config store_connections) are opened on
 *   first use and handed to one thread at a time; face contexts (config
 *   face_contexts) are made at open.  Both block while all are in use.
 *
 *   Live part (engineer `live`): the event hub and the registry of live
 *   deployments (events.c, registry.c, live_int.h).  The operations reach
 *   them only through the app_live_* functions in app.c.
 *
 * OWNERSHIP
 *   An app_call lives on lfr_app_call's stack; its store and face context
 *   are borrowed from the pools for the call.
 */
#ifndef LFR_APP_INT_H
#define LFR_APP_INT_H

#include <pthread.h>

#include "app.h"
#include "enrol/enrol.h"
#include "face/face.h"
#include "match/match.h"

#include "app/live_int.h"

typedef struct app_pool_slot {
    void *obj;      /* lfr_store * or lfr_face_ctx * (NULL: not opened yet) */
    int busy;
} app_pool_slot;

struct lfr_app {
    lfr_config cfg;
    lfr_app_options opt;

    pthread_mutex_t mu;          /* guards the pools and the identity */
    pthread_cond_t store_cv, face_cv;
    app_pool_slot *stores;
    int n_stores;
    lfr_face_engine *face;       /* NULL with options.no_face */
    app_pool_slot *faces;
    int n_faces;

    char server_url[LFR_PAIR_MAX_URL];
    char ca_fingerprint[LFR_PAIR_MAX_FINGERPRINT];

    int64_t last_purge;          /* lfr_app_tick: when retention last ran */

    lfr_events *events;          /* engineer `live` */
    lfr_registry *registry;

    lfr_audit_sign_key sign;     /* signs checkpoints (loaded at open) */

    struct app_eval *eval;       /* evaluation runs (ops_eval.c); made on first use */
};

/* Pools ---------------------------------------------------------------------
 * A store connection for this thread (opened on first use, with the app's
 * clock); give it back with app_store_give. */
lfr_status app_store_take(lfr_app *app, lfr_store **s, lfr_err *err);
void app_store_give(lfr_app *app, lfr_store *s);
/* A face context (LFR_ERR_STATE when the models were not loaded). */
lfr_status app_face_take(lfr_app *app, lfr_face_ctx **fc, lfr_err *err);
void app_face_give(lfr_app *app, lfr_face_ctx *fc);

/* Live part -----------------------------------------------------------------
 * What an operation changed, for the registry of live deployments. */
typedef enum app_live_change {
    APP_LIVE_START,          /* deployment started: build its snapshot, start cameras */
    APP_LIVE_END,            /* deployment ended: stop */
    APP_LIVE_AMEND,          /* amendment applied: rebuild the snapshot now */
    APP_LIVE_CAMERA_ADD,     /* id: the camera */
    APP_LIVE_CAMERA_REMOVE,
} app_live_change;

lfr_status app_live_open(lfr_app *app, lfr_err *err);
void app_live_close(lfr_app *app);
void app_live_notify(lfr_app *app, app_live_change what, int64_t deployment_id, int64_t id);
/* The registry's snapshot of a live deployment for a photo check (one
 * reference: lfr_live_snapshot_unref), or LFR_ERR_NOT_FOUND. */
lfr_status app_live_snapshot(lfr_app *app, int64_t deployment_id, lfr_live_snapshot **out,
                             lfr_err *err);

/* Operations ---------------------------------------------------------------- */
/* How lfr_app_call finds the deployment an operation touches (device
 * scoping, events): from which argument, of which kind. */
typedef enum app_scope {
    APP_SCOPE_NONE,        /* not about one deployment */
    APP_SCOPE_DEPLOYMENT,  /* the argument is a deployment id */
    APP_SCOPE_ALERT,
    APP_SCOPE_ENTRY,
    APP_SCOPE_IMAGE,       /* a watchlist image */
    APP_SCOPE_CHECK,
    APP_SCOPE_CAMERA,
    APP_SCOPE_AMENDMENT,
    APP_SCOPE_DEVICE,
    APP_SCOPE_OWN,         /* a device's own deployment; others name it */
} app_scope;

/* Registry changes and events one call may leave for after its commit. */
#define APP_CALL_MAX_AFTER 4

typedef struct app_call {
    lfr_app *app;
    const lfr_app_req *req;
    const lfr_op_info *op;
    lfr_app_res *res;
    lfr_err *err;
    lfr_store *s;
    const lfr_principal *who;      /* NULL for public operations without one */
    lfr_actor by;                  /* who->login in the acting role */
    json_t *args;                  /* never NULL */
    int64_t deployment_id;         /* from the scope (0: none) */
    /* what to tell the registry and publish once the store is given back */
    struct {
        app_live_change what;
        int64_t dep, id;
    } live[APP_CALL_MAX_AFTER];
    int n_live;
    struct {
        const char *type;
        int64_t dep, alert, device;
        json_t *data;
    } events[APP_CALL_MAX_AFTER];
    int n_events;
} app_call;

typedef lfr_status (*app_op_fn)(app_call *c);

/* Argument readers (after the table's checks: present ones have the
 * right type). */
int64_t app_arg_id(const app_call *c, const char *name);       /* 0 when absent */
const char *app_arg_str(const app_call *c, const char *name);  /* NULL when absent */
double app_arg_real(const app_call *c, const char *name, double dflt);
int app_arg_bool(const app_call *c, const char *name);
int app_arg_has(const app_call *c, const char *name);
int64_t app_arg_time(const app_call *c, const char *name);     /* parsed by the checks */
/* Sets the answer body (stolen; NULL is out of memory). */
lfr_status app_answer(app_call *c, json_t *body);
/* The deployment id of an object (for scoping): LFR_ERR_NOT_FOUND. */
lfr_status app_scope_resolve(lfr_store *s, app_scope kind, int64_t id, int64_t *dep, lfr_err *err);
/* Officers' devices see an alert only when dispatched to them (or all, or
 * config dispatch_all_alerts). */
lfr_status app_alert_visible(app_call *c, const lfr_alert_info *a, int *yes);

/* After the call succeeded and its store connection was given back:
 * notify the registry / publish an event (data stolen). */
void app_after_live(app_call *c, app_live_change what, int64_t dep, int64_t id);
void app_after_event(app_call *c, const char *type, int64_t dep, int64_t alert, int64_t device,
                     json_t *data);

/* The deployment as the answer, and its deployment.state event when
 * `event` is 1. */
lfr_status app_answer_deployment(app_call *c, int64_t id, int event);
/* Who a principal is, for answers (no secrets). */
json_t *app_principal_json(const lfr_principal *w);

/* The implementations, one per row of LFR_OP_LIST (ops_*.c). */
/* Signs a checkpoint of the log now (ops_audit.c): after the operations
 * that change a deployment's lifecycle, and on demand.  Its JSON (fields,
 * full and compact file text) to *out when out != NULL. */
lfr_status app_checkpoint(lfr_app *app, lfr_store *s, const lfr_actor *by, const char *reason,
                          int64_t deployment_id, json_t **out, lfr_err *err);

/* Evaluation runs (ops_eval.c): cancels a running one and joins its
 * watcher; called first by lfr_app_close. */
typedef struct app_eval app_eval;
void app_eval_close(lfr_app *app);

#define APP_OP_DECL(id, name, roles, audit) lfr_status app_op_##id(app_call *c);
LFR_OP_LIST(APP_OP_DECL)
#undef APP_OP_DECL


#endif
