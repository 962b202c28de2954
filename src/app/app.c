/*
 * app.c - the app: opening and closing, the pools of store connections
 * and face contexts, principals, the error answer, and the wiring to the
 * live part (event hub and registry, engineer `live`).
 *
 * DESIGN
 *   Pools are arrays of slots under one mutex with a condition variable
 *   each; a thread takes a free slot (waiting while none is), opens a
 *   store connection outside the lock if the slot has none yet, and gives
 *   the slot back after its call.  Every connection gets the app's clock.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"

/* Pools ----------------------------------------------------------------------- */
static int pool_wait(lfr_app *app, app_pool_slot *slots, int n, pthread_cond_t *cv) {
    for (;;) {
        for (int i = 0; i < n; i++)
            if (!slots[i].busy) {
                slots[i].busy = 1;
                return i;
            }
        pthread_cond_wait(cv, &app->mu);
    }
}

lfr_status app_store_take(lfr_app *app, lfr_store **s, lfr_err *err) {
    pthread_mutex_lock(&app->mu);
    int i = pool_wait(app, app->stores, app->n_stores, &app->store_cv);
    lfr_store *have = app->stores[i].obj;
    pthread_mutex_unlock(&app->mu);
    if (!have) {
        lfr_store_config sc = {.db_path = app->cfg.db,
                               .key_path = app->cfg.key_file[0] ? app->cfg.key_file : NULL,
                               .now = app->opt.now,
                               .now_ctx = app->opt.now_ctx};
        lfr_status st = lfr_store_open(&sc, &have, err);
        if (st != LFR_OK) {
            pthread_mutex_lock(&app->mu);
            app->stores[i].busy = 0;
            pthread_cond_signal(&app->store_cv);
            pthread_mutex_unlock(&app->mu);
            return st;
        }
        pthread_mutex_lock(&app->mu);
        app->stores[i].obj = have;
        pthread_mutex_unlock(&app->mu);
    }
    *s = have;
    return LFR_OK;
}

void app_store_give(lfr_app *app, lfr_store *s) {
    if (!s) return;
    /* a call that failed between begin and commit must not leave its
     * transaction open on a pooled connection */
    while (lfr_store_tx_depth(s) > 0) lfr_store_tx_rollback(s);
    pthread_mutex_lock(&app->mu);
    for (int i = 0; i < app->n_stores; i++)
        if (app->stores[i].obj == s) app->stores[i].busy = 0;
    pthread_cond_signal(&app->store_cv);
    pthread_mutex_unlock(&app->mu);
}

lfr_status app_face_take(lfr_app *app, lfr_face_ctx **fc, lfr_err *err) {
    if (!app->face || app->n_faces == 0)
        return lfr_err_set(err, LFR_ERR_STATE,
                           "the face models are not loaded in this process (models: %s)",
                           app->cfg.models);
    pthread_mutex_lock(&app->mu);
    int i = pool_wait(app, app->faces, app->n_faces, &app->face_cv);
    *fc = app->faces[i].obj;
    pthread_mutex_unlock(&app->mu);
    return LFR_OK;
}

void app_face_give(lfr_app *app, lfr_face_ctx *fc) {
    if (!fc) return;
    pthread_mutex_lock(&app->mu);
    for (int i = 0; i < app->n_faces; i++)
        if (app->faces[i].obj == fc) app->faces[i].busy = 0;
    pthread_cond_signal(&app->face_cv);
    pthread_mutex_unlock(&app->mu);
}

/* Settings the account module reads from the database (limits.h): the
 * configured lifetimes of sessions and pairing codes. */
static lfr_status write_settings(lfr_app *app, lfr_err *err) {
    lfr_store *s;
    lfr_status st = app_store_take(app, &s, err);
    if (st != LFR_OK) return st;
    static const struct {
        const char *key;
        size_t off;
    } set[] = {{"session.ttl_s", offsetof(lfr_config, session_ttl_s)},
               {"pair_code.ttl_s", offsetof(lfr_config, pair_code_ttl_s)}};
    for (size_t i = 0; i < sizeof set / sizeof set[0] && st == LFR_OK; i++) {
        int64_t want = *(const int64_t *)(const void *)((const char *)&app->cfg + set[i].off), have;
        st = lfr_store_setting_get_int(s, set[i].key, -1, &have);
        if (st == LFR_OK && have != want) st = lfr_store_setting_set_int(s, set[i].key, want);
        if (st != LFR_OK) lfr_err_set(err, st, "could not record the setting %s", set[i].key);
    }
    app_store_give(app, s);
    return st;
}

/* The checkpoint signing key (audit.h): config sign_key, or openlfr.sign
 * beside the database; made on the first start (0600) and recorded in the
 * log with its public key, which every checkpoint and report carries. */
static lfr_status load_sign_key(lfr_app *app, lfr_err *err) {
    char path[4096];
    lfr_status st = lfr_config_sign_key_path(&app->cfg, path, sizeof path, err);
    if (st != LFR_OK) return st;
    int created = 0;
    st = lfr_audit_sign_key_load(path, 1, &app->sign, &created, err);
    if (st != LFR_OK || !created) return st;
    char pk[65], details[160];
    lfr_audit_pubkey_hex(app->sign.pk, pk);
    lfr_log(LFR_LOG_INFO, "created the audit signing key %s; public key %s", path, pk);
    snprintf(details, sizeof details, "{\"setting\":\"audit.signing_key\",\"pubkey\":\"%s\"}", pk);
    lfr_store *s;
    if ((st = app_store_take(app, &s, err)) != LFR_OK) return st;
    const lfr_actor sys = {"openlfr", LFR_ROLE_SYSTEM};
    st = lfr_audit_append(s, &sys, LFR_AUDIT_SETTING_CHANGE, 0, details, NULL, err);
    app_store_give(app, s);
    return st;
}

/* Open / close -------------------------------------------------------------- */
lfr_status lfr_app_open(const lfr_config *cfg, const lfr_app_options *o, lfr_app **out,
                        lfr_err *err) {
    *out = NULL;
    if (!cfg) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "no configuration");
    if (!cfg->db[0]) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "option db: no database file named");
    if (sodium_init() < 0) return lfr_err_set(err, LFR_ERR_INTERNAL, "libsodium failed to start");
    lfr_app *app = lfr_calloc(1, sizeof *app);
    if (!app) return LFR_ERR_NOMEM;
    app->cfg = *cfg;
    if (o) app->opt = *o;
    pthread_mutex_init(&app->mu, NULL);
    pthread_cond_init(&app->store_cv, NULL);
    pthread_cond_init(&app->face_cv, NULL);
    lfr_status st = LFR_OK;
    app->n_stores = (int)cfg->store_connections;
    if (app->n_stores < 1) app->n_stores = 1;
    app->stores = lfr_calloc((size_t)app->n_stores, sizeof *app->stores);
    if (!app->stores) st = LFR_ERR_NOMEM;
    /* the first connection now: a missing key or a bad database is said at
     * once, not on the first request */
    if (st == LFR_OK) st = write_settings(app, err);
    if (st == LFR_OK) st = load_sign_key(app, err);
    if (st == LFR_OK && !app->opt.no_face) {
        st = lfr_face_engine_load(cfg->models, &app->face, err);
        if (st != LFR_OK && !err->msg[0])
            lfr_err_set(err, st, "could not load the face models from %s", cfg->models);
        int n = (int)cfg->face_contexts;
        if (n < 1) n = 1;
        if (st == LFR_OK && !(app->faces = lfr_calloc((size_t)n, sizeof *app->faces)))
            st = LFR_ERR_NOMEM;
        for (int i = 0; st == LFR_OK && i < n; i++) {
            lfr_face_ctx *fc = NULL;
            st = lfr_face_ctx_new(app->face, &fc);
            if (st == LFR_OK) app->faces[app->n_faces++].obj = fc;
            else lfr_err_set(err, st, "could not make face context %d of %d", i + 1, n);
        }
    }
    if (st == LFR_OK) st = app_live_open(app, err);
    if (st != LFR_OK) {
        lfr_app_close(app);
        return st;
    }
    /* A server restarted mid-deployment picks its live deployments up
     * again: cameras restart, snapshots are rebuilt (digest-checked).  A
     * deployment refused here is logged by the registry and not matched;
     * the others still run. */
    if (!app->opt.no_pipelines) {
        lfr_store *s = NULL;
        lfr_err e2 = {{0}};
        lfr_status sst = app_store_take(app, &s, &e2);
        if (sst == LFR_OK) {
            sst = lfr_registry_sync(app->registry, s, &e2);
            app_store_give(app, s);
        }
        if (sst != LFR_OK)
            lfr_log(LFR_LOG_ERROR, "live deployments at start-up: %s: %s",
                    lfr_status_message(sst), e2.msg);
    }
    *out = app;
    return LFR_OK;
}

void lfr_app_close(lfr_app *app) {
    if (!app) return;
    app_eval_close(app);
    app_live_close(app);
    for (int i = 0; app->faces && i < app->n_faces; i++) lfr_face_ctx_destroy(app->faces[i].obj);
    lfr_free(app->faces);
    lfr_face_engine_destroy(app->face);
    for (int i = 0; app->stores && i < app->n_stores; i++)
        if (app->stores[i].obj) lfr_store_close(app->stores[i].obj);
    lfr_free(app->stores);
    pthread_cond_destroy(&app->face_cv);
    pthread_cond_destroy(&app->store_cv);
    pthread_mutex_destroy(&app->mu);
    lfr_audit_sign_key_wipe(&app->sign);
    lfr_free(app);
}

const lfr_config *lfr_app_config(const lfr_app *app) { return &app->cfg; }

lfr_status lfr_app_set_server_identity(lfr_app *app, const char *url, const char *ca_fingerprint,
                                       lfr_err *err) {
    if (!url || !ca_fingerprint) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "server identity: url and CA fingerprint are required");
    if (strlen(url) >= sizeof app->server_url)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "server url is longer than %d bytes",
                           LFR_PAIR_MAX_URL - 1);
    if (strlen(ca_fingerprint) >= sizeof app->ca_fingerprint)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "CA fingerprint is longer than %d bytes",
                           LFR_PAIR_MAX_FINGERPRINT - 1);
    pthread_mutex_lock(&app->mu);
    snprintf(app->server_url, sizeof app->server_url, "%s", url);
    snprintf(app->ca_fingerprint, sizeof app->ca_fingerprint, "%s", ca_fingerprint);
    pthread_mutex_unlock(&app->mu);
    return LFR_OK;
}

/* Principals ------------------------------------------------------------------- */
lfr_status lfr_app_principal_by_name(lfr_app *app, const char *by, lfr_principal *who,
                                     lfr_err *err) {
    memset(who, 0, sizeof *who);
    if (!by || !*by) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "by: who is doing this? A name is required");
    char folded[LFR_MAX_ACTOR];
    lfr_err e = {{0}};
    lfr_status st = lfr_name_fold(by, folded, sizeof folded, &e);
    if (st != LFR_OK) return lfr_err_set(err, st, "by: %s", e.msg);
    lfr_store *s;
    if ((st = app_store_take(app, &s, err)) != LFR_OK) return st;
    int64_t n = 0;
    st = lfr_account_count(s, &n, err);
    if (st == LFR_OK && n == 0) {
        snprintf(who->login, sizeof who->login, "%s", by);
        who->roles = R_ANY;
    } else if (st == LFR_OK) {
        lfr_user_info u;
        st = lfr_account_find(s, by, &u, err);
        if (st == LFR_ERR_NOT_FOUND)
            st = lfr_err_set(err, LFR_ERR_PERMISSION,
                             "by: '%s' is not an account on this database (it has accounts: "
                             "`openlfr user list`)", by);
        else if (st == LFR_OK && u.disabled)
            st = lfr_err_set(err, LFR_ERR_PERMISSION, "by: the account '%s' is disabled", u.login);
        if (st == LFR_OK) {
            who->user_id = u.id;
            snprintf(who->login, sizeof who->login, "%s", u.login);
            who->roles = u.roles;
        }
    }
    app_store_give(app, s);
    return st;
}

lfr_status lfr_app_authenticate(lfr_app *app, const char *token, lfr_principal *who,
                                lfr_err *err) {
    memset(who, 0, sizeof *who);
    if (!token || !*token)
        return lfr_err_set(err, LFR_ERR_UNAUTHENTICATED, "no token: sign in first");
    lfr_store *s;
    lfr_status st = app_store_take(app, &s, err);
    if (st != LFR_OK) return st;
    st = lfr_account_authenticate(s, token, who, err);
    app_store_give(app, s);
    return st;
}

/* Answers -------------------------------------------------------------------- */
void lfr_app_res_clear(lfr_app_res *res) {
    if (!res) return;
    json_decref(res->body);
    if (res->blob) {
        sodium_memzero(res->blob, res->blob_len);
        lfr_free(res->blob);
    }
    memset(res, 0, sizeof *res);
}

json_t *lfr_app_error_json(lfr_status st, const lfr_err *err) {
    const char *msg = err && err->msg[0] ? err->msg : lfr_status_message(st);
    return json_pack("{s:{s:i, s:s, s:s}}", "error", "status", lfr_status_http(st), "code",
                     lfr_status_str(st), "message", msg);
}

/* Live part -------------------------------------------------------------------
 * The event hub and the registry belong to engineer `live` (live_int.h);
 * these functions are the only places the app calls into them. */
lfr_events *lfr_app_events(lfr_app *app) { return app->events; }
struct lfr_registry *lfr_app_registry(lfr_app *app) { return app->registry; }

static void registry_publish(void *ctx, const char *type, int64_t deployment_id, int64_t alert_id,
                             json_t *data) {
    lfr_app_publish(ctx, type, deployment_id, alert_id, 0, data);
}

lfr_status app_live_open(lfr_app *app, lfr_err *err) {
    app->events = lfr_events_new(0);
    if (!app->events) return lfr_err_set(err, LFR_ERR_NOMEM, "no memory for the event history");
    /* The server's camera settings (LFR_CONFIG_LIST); the registry copies them. */
    lfr_pipeline_params prm = lfr_pipeline_params_default;
    prm.detect_every = (int)app->cfg.detect_every;
    prm.embed_per_frame = (int)app->cfg.embed_per_frame;
    prm.camera_queue = (int)app->cfg.camera_queue;
    prm.defer_behind = app->cfg.defer_behind ? (int)app->cfg.defer_behind : -1;
    prm.analysis_threads = (int)app->cfg.analysis_threads;
    prm.cooldown_s = app->cfg.alert_cooldown_s;
    lfr_registry_config rc = {
        .params = &prm,
        .store = {.db_path = app->cfg.db,
                  .key_path = app->cfg.key_file[0] ? app->cfg.key_file : NULL,
                  .now = app->opt.now,
                  .now_ctx = app->opt.now_ctx},
        .engine = app->face,
        .no_pipelines = app->opt.no_pipelines || !app->face,
        .publish = registry_publish,
        .publish_ctx = app,
    };
    return lfr_registry_new(&rc, &app->registry, err);
}

void app_live_close(lfr_app *app) {
    lfr_registry_free(app->registry);
    app->registry = NULL;
    if (app->events) lfr_events_close(app->events);
    lfr_events_free(app->events);
    app->events = NULL;
}

void app_live_notify(lfr_app *app, app_live_change what, int64_t deployment_id, int64_t id) {
    if (!app->registry) return;
    lfr_err err = {{0}};
    lfr_status st = lfr_registry_changed(app->registry, deployment_id, &err);
    if (st != LFR_OK)
        lfr_log(LFR_LOG_ERROR, "deployment %lld: the live registry refused change %d (%lld): %s",
                (long long)deployment_id, (int)what, (long long)id,
                err.msg[0] ? err.msg : lfr_status_message(st));
}

lfr_status app_live_snapshot(lfr_app *app, int64_t deployment_id, lfr_live_snapshot **out,
                             lfr_err *err) {
    *out = NULL;
    if (!app->registry) return lfr_err_set(err, LFR_ERR_NOT_FOUND, "no live registry");
    return lfr_registry_snapshot_get(app->registry, deployment_id, out, err);
}

/* Who sees an event (app.h).  Devices: their deployment only; alerts only
 * once dispatched to them (or to all, or every dispatched alert with
 * dispatch_all_alerts), checks only their own, device.revoked only their
 * own.  Operators, authorising officers and admins: everything.  Others
 * (auditors, officers signed in without a device): deployment states. */
int lfr_app_event_visible(lfr_app *app, const lfr_principal *who, const lfr_event *e) {
    if (!who || !e) return 0;
    if (who->device_id <= 0) {
        if (who->roles & (R_OPR | R_AUTH | R_ADM)) return 1;
        return !strcmp(e->type, "deployment.state");
    }
    if (!strcmp(e->type, "device.revoked")) return e->device_id == who->device_id;
    if (e->deployment_id != who->deployment_id) return 0;
    if (!strcmp(e->type, "deployment.state")) return 1;
    if (!strcmp(e->type, "check.done")) return e->device_id == who->device_id;
    if (e->alert_id <= 0) return 0;
    if (strcmp(e->type, "alert.dispatched") && strcmp(e->type, "alert.ack") &&
        strcmp(e->type, "alert.outcome"))
        return 0; /* raised, updated, decided: not yet for the street */
    if (app->cfg.dispatch_all_alerts) return 1;
    lfr_store *s;
    lfr_err err = {{0}};
    int yes = 0;
    if (app_store_take(app, &s, &err) != LFR_OK) return 0;
    if (lfr_deploy_alert_dispatched_to(s, e->alert_id, who->device_id, &yes, &err) != LFR_OK) yes = 0;
    app_store_give(app, s);
    return yes;
}
