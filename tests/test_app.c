/*
 * test_app.c - the application core: the configuration table, times, the
 * operations table (role matrix, argument checks), separation of duties by
 * account, device scoping, one audit record per audited operation, and a
 * whole deployment flow through lfr_app_call with a verified audit chain.
 * Temporary databases, a fake clock; the face models only where a photo is
 * enrolled or checked (SKIP, loudly, without $OPENLFR_MODELS).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/live_int.h"   /* the registry, to see what a restarted server runs */
#include "face/face.h"
#include "harness.h"
#include "image/image.h"
#include "match/match.h"
#include "store/store.h"

static char dir[256], dbp[300];

static int64_t fake_clock(void *ctx) { return *(int64_t *)ctx; }

static void tmp_begin(void) {
    snprintf(dir, sizeof dir, "/tmp/lfr_app_XXXXXX");
    if (!mkdtemp(dir)) perror("mkdtemp");
    snprintf(dbp, sizeof dbp, "%s/openlfr.db", dir);
}

static void tmp_end(void) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
}

static lfr_app *open_app(int64_t *now, int no_face) {
    lfr_config cfg;
    lfr_config_defaults(&cfg);
    snprintf(cfg.db, sizeof cfg.db, "%s", dbp);
    const char *m = getenv("OPENLFR_MODELS");
    if (m) snprintf(cfg.models, sizeof cfg.models, "%s", m);
    cfg.store_connections = 2;
    cfg.face_contexts = 1;
    lfr_app_options o = {.no_face = no_face, .no_pipelines = 1, .now = fake_clock, .now_ctx = now};
    lfr_app *app = NULL;
    lfr_err err = {{0}};
    lfr_status st = lfr_app_open(&cfg, &o, &app, &err);
    if (st != LFR_OK) fprintf(stderr, "  app open: %s: %s\n", lfr_status_str(st), err.msg);
    return app;
}

/* A second connection to the same database, for setting up and counting. */
static lfr_store *open_store(int64_t *now) {
    lfr_store_config cfg = {.db_path = dbp, .now = fake_clock, .now_ctx = now};
    lfr_store *s = NULL;
    lfr_err err = {{0}};
    if (lfr_store_open(&cfg, &s, &err) != LFR_OK) fprintf(stderr, "  store: %s\n", err.msg);
    return s;
}

typedef struct count_ctx {
    const char *action;
    int64_t n;
} count_ctx;

static int count_fn(const lfr_audit_record *r, void *ctx) {
    count_ctx *c = ctx;
    if (!strcmp(r->action, c->action)) c->n++;
    return 0;
}

static int64_t audit_count(lfr_store *s, const char *action) {
    count_ctx c = {action, 0};
    lfr_audit_each(s, 0, 1, 0, count_fn, &c, NULL);
    return c.n;
}

/* lfr_app_call with the arguments as JSON text; on success of an audited
 * operation, checks it left exactly one record of its action (`s` may be
 * NULL to skip) and res.audit_seq names it.  The answer goes to *body
 * (NULL: dropped). */
static lfr_status call(lfr_app *app, lfr_store *s, lfr_op op, const lfr_principal *who,
                       const char *args, json_t **body, lfr_err *err) {
    json_error_t je;
    json_t *a = args ? json_loads(args, 0, &je) : NULL;
    if (args && !a) fprintf(stderr, "  bad test JSON: %s\n", args);
    const lfr_op_info *info = lfr_op_get(op);
    const char *action = info->audit >= 0 ? lfr_audit_action_name((lfr_audit_action)info->audit) : NULL;
    int64_t before = s && action ? audit_count(s, action) : 0;
    lfr_app_req req = {op, who, a, NULL, 0, NULL};
    lfr_app_res res;
    memset(err, 0, sizeof *err);
    lfr_status st = lfr_app_call(app, &req, &res, err);
    if (st == LFR_OK && s && action) {
        int64_t after = audit_count(s, action);
        if (after - before != 1) fprintf(stderr, "  %s: %lld records of %s\n", info->name,
                                         (long long)(after - before), action);
        CHECK_EQ_INT(after - before, 1);
        CHECK(res.audit_seq > 0);
    }
    if (st == LFR_OK) CHECK(json_is_object(res.body));
    if (body) *body = res.body ? json_incref(res.body) : NULL;
    lfr_app_res_clear(&res);
    json_decref(a);
    return st;
}

#define CALL_OK(app, s, op, who, args, body)                                                   \
    do {                                                                                       \
        lfr_err e_;                                                                            \
        lfr_status st_ = call(app, s, op, who, args, body, &e_);                                \
        if (st_ != LFR_OK) fprintf(stderr, "  %s: %s\n", lfr_op_get(op)->name, e_.msg);       \
        CHECK_STATUS(st_, LFR_OK);                                                             \
    } while (0)

static lfr_principal person(const char *login, unsigned roles) {
    lfr_principal p;
    memset(&p, 0, sizeof p);
    snprintf(p.login, sizeof p.login, "%s", login);
    p.roles = roles;
    return p;
}

static int64_t jid(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

/* Configuration ------------------------------------------------------------------ */
static void test_config_defaults(void) {
    lfr_config c;
    lfr_err err = {{0}};
    lfr_config_defaults(&c);
    CHECK(!strcmp(c.db, "openlfr.db"));
    CHECK_EQ_INT(c.port, 8443);
    CHECK_EQ_INT(c.session_ttl_s, 43200);
    CHECK_EQ_INT(c.dispatch_all_alerts, 0);
    /* the camera settings' defaults are the pipeline's own */
    CHECK_EQ_INT(c.detect_every, LFR_PIPELINE_DETECT_EVERY);
    CHECK_EQ_INT(c.embed_per_frame, LFR_PIPELINE_EMBED_PER_FRAME);
    CHECK_EQ_INT(c.camera_queue, LFR_PIPELINE_CAMERA_QUEUE);
    CHECK_EQ_INT(c.analysis_threads, 0);
    CHECK(c.alert_cooldown_s == lfr_pipeline_params_default.cooldown_s);
    CHECK_STATUS(lfr_config_set(&c, "camera-queue", "5", &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "camera_queue") && strstr(err.msg, "1 to 4"));
    CHECK_STATUS(lfr_config_set(&c, "detect_every", "0", &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_config_set(&c, "alert_cooldown_s", "-1", &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_config_set(&c, "detect_every", "1", &err), LFR_OK);
    CHECK_EQ_INT(c.detect_every, 1);
    CHECK_STATUS(lfr_config_set(&c, "port", "9443", &err), LFR_OK);
    CHECK_EQ_INT(c.port, 9443);
    CHECK_STATUS(lfr_config_set(&c, "session-ttl-s", "600", &err), LFR_OK); /* '-' = '_' */
    CHECK_EQ_INT(c.session_ttl_s, 600);
    CHECK_STATUS(lfr_config_set(&c, "dispatch_all_alerts", "yes", &err), LFR_OK);
    CHECK_EQ_INT(c.dispatch_all_alerts, 1);
    /* out of range, not a number, unknown, not one of the words */
    CHECK_STATUS(lfr_config_set(&c, "port", "0", &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "port") && strstr(err.msg, "1 to 65535"));
    CHECK_STATUS(lfr_config_set(&c, "port", "65536", &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_config_set(&c, "threads", "4x", &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_config_set(&c, "threads", "", &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_config_set(&c, "session_ttl_s", "299", &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_config_set(&c, "dispatch_all_alerts", "maybe", &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_config_set(&c, "no_such_option", "1", &err), LFR_ERR_NOT_FOUND);
    CHECK(strstr(err.msg, "no_such_option") != NULL);
    CHECK_STATUS(lfr_config_set(&c, "log", "loud", &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "debug") != NULL);
    CHECK_STATUS(lfr_config_set(&c, "db", "a\x1b[31m", &err), LFR_ERR_INVALID_ARG);
    CHECK_EQ_INT(c.port, 9443); /* failures changed nothing */
    char big[LFR_MAX_CONFIG_VALUE + 1];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_STATUS(lfr_config_set(&c, "db", big, &err), LFR_ERR_TOO_LARGE);
    /* help lists every option with its reason */
    char *txt = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&txt, &n);
    lfr_config_print_help(f);
    fclose(f);
    CHECK(strstr(txt, "--session-ttl-s") && strstr(txt, "one shift") && strstr(txt, "300..604800"));
    free(txt);
}

static void test_config_env(void) {
    lfr_config c;
    lfr_err err = {{0}};
    lfr_config_defaults(&c);
    setenv("OPENLFR_PORT", "9000", 1);
    setenv("OPENLFR_FACE_CONTEXTS", "3", 1);
    CHECK_STATUS(lfr_config_load_env(&c, &err), LFR_OK);
    CHECK_EQ_INT(c.port, 9000);
    CHECK_EQ_INT(c.face_contexts, 3);
    setenv("OPENLFR_THREADS", "999", 1);
    CHECK_STATUS(lfr_config_load_env(&c, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "OPENLFR_THREADS") && strstr(err.msg, "1 to 64"));
    unsetenv("OPENLFR_PORT");
    unsetenv("OPENLFR_FACE_CONTEXTS");
    unsetenv("OPENLFR_THREADS");
}

static void test_config_file(void) {
    tmp_begin();
    char path[400];
    snprintf(path, sizeof path, "%s/openlfr.conf", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "# the van\n\nport = 8444\n  listen=10.0.0.2  \ndb = \"/var/lib/openlfr/x.db\"\n");
    fclose(f);
    lfr_config c;
    lfr_err err = {{0}};
    lfr_config_defaults(&c);
    CHECK_STATUS(lfr_config_load_file(&c, path, &err), LFR_OK);
    CHECK_EQ_INT(c.port, 8444);
    CHECK(!strcmp(c.listen, "10.0.0.2"));
    CHECK(!strcmp(c.db, "/var/lib/openlfr/x.db"));
    /* errors name the file and the line */
    f = fopen(path, "w");
    fprintf(f, "# ok\nport = 8444\nthreads = 0\n");
    fclose(f);
    CHECK_STATUS(lfr_config_load_file(&c, path, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, ":3:") && strstr(err.msg, "threads"));
    f = fopen(path, "w");
    fprintf(f, "port 8444\n");
    fclose(f);
    CHECK_STATUS(lfr_config_load_file(&c, path, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, ":1:") && strstr(err.msg, "key = value"));
    f = fopen(path, "w");
    fprintf(f, "\n\nportt = 1\n");
    fclose(f);
    CHECK_STATUS(lfr_config_load_file(&c, path, &err), LFR_ERR_NOT_FOUND);
    CHECK(strstr(err.msg, ":3:") && strstr(err.msg, "portt"));
    CHECK_STATUS(lfr_config_load_file(&c, dir, &err), LFR_ERR_INVALID_ARG); /* a directory */
    tmp_end();
}

/* Times ------------------------------------------------------------------------- */
static void test_time_parse(void) {
    int64_t t = 0;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_time_parse("2025-06-01T10:00Z", &t, &err), LFR_OK);
    CHECK_EQ_INT(t, 1748772000);
    CHECK_STATUS(lfr_time_parse("2025-06-01T10:00:30Z", &t, &err), LFR_OK);
    CHECK_EQ_INT(t, 1748772030);
    CHECK_STATUS(lfr_time_parse("1748772000", &t, &err), LFR_OK);
    CHECK_EQ_INT(t, 1748772000);
    CHECK_STATUS(lfr_time_parse("2024-02-29T10:00Z", &t, &err), LFR_OK); /* leap day */
    static const char *bad[] = {"2024-13-45T99:99Z", "2024-02-30T10:00Z", "2023-02-29T10:00Z",
                                "2024-04-31T00:00Z", "2024-01-01T24:00Z", "2024-01-01T10:60Z",
                                "2024-01-01T10:00:60Z", "notadate", "", "2024-01-01 10:00Z",
                                "2024-01-01T10:00", "2024-1-01T10:00Z", "-5", "0",
                                "2024-01-01T10:00Z; DROP TABLE x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lfr_status st = lfr_time_parse(bad[i], &t, &err);
        if (st == LFR_OK) fprintf(stderr, "  accepted '%s'\n", bad[i]);
        CHECK_STATUS(st, LFR_ERR_INVALID_ARG);
    }
    json_t *j = lfr_json_time(1748772030);
    CHECK(!strcmp(json_string_value(j), "2025-06-01T10:00:30Z"));
    json_decref(j);
    j = lfr_json_time(0);
    CHECK(json_is_null(j));
    json_decref(j);
}

/* The operations table ----------------------------------------------------------- */
static void test_op_table(void) {
    for (int i = 0; i < LFR_OP_COUNT; i++) {
        const lfr_op_info *o = lfr_op_get((lfr_op)i);
        CHECK(o && (int)o->op == i);
        CHECK(lfr_op_find(o->name) == o);
        for (size_t a = 0; a < o->n_args; a++) {
            CHECK(o->args[a].name && o->args[a].help);
            for (size_t b = 0; b < a; b++) CHECK(strcmp(o->args[a].name, o->args[b].name));
        }
    }
    CHECK(lfr_op_get(LFR_OP_COUNT) == NULL);
    CHECK(lfr_op_find("no.such") == NULL);
    CHECK_EQ_INT(lfr_op_get(LFR_OP_ALERT_DECIDE)->audit, LFR_AUDIT_ALERT_DECISION);
    CHECK_EQ_INT(lfr_op_get(LFR_OP_DEPLOYMENT_LIST)->audit, -1);
    json_t *e = lfr_app_error_json(LFR_ERR_PERMISSION, NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(e, "error"), "status")), 403);
    json_decref(e);
}

/* Every operation with every single role, and without a principal: allowed
 * or refused exactly as the table says. */
static void test_role_matrix(void) {
    tmp_begin();
    int64_t now = 1750000000;
    lfr_app *app = open_app(&now, 1);
    if (!app) { CHECK(0); tmp_end(); return; }
    for (int i = 0; i < LFR_OP_COUNT; i++) {
        const lfr_op_info *o = lfr_op_get((lfr_op)i);
        lfr_err err;
        lfr_status st = call(app, NULL, o->op, NULL, "{}", NULL, &err);
        if (o->roles) CHECK_STATUS(st, LFR_ERR_UNAUTHENTICATED);
        else CHECK(st != LFR_ERR_UNAUTHENTICATED && st != LFR_ERR_PERMISSION);
        for (int r = LFR_ROLE_OPERATOR; r < LFR_ROLE_COUNT; r++) {
            lfr_principal p = person("someone", LFR_ROLE_BIT(r));
            st = call(app, NULL, o->op, &p, "{}", NULL, &err);
            int allowed = !o->roles || (o->roles & LFR_ROLE_BIT(r));
            if (allowed && (st == LFR_ERR_PERMISSION || st == LFR_ERR_UNAUTHENTICATED))
                fprintf(stderr, "  %s as %s: %s\n", o->name, lfr_role_name((lfr_role)r), err.msg);
            if (!allowed && st != LFR_ERR_PERMISSION)
                fprintf(stderr, "  %s as %s not refused: %s\n", o->name,
                        lfr_role_name((lfr_role)r), lfr_status_str(st));
            if (allowed) CHECK(st != LFR_ERR_PERMISSION && st != LFR_ERR_UNAUTHENTICATED);
            else CHECK_STATUS(st, LFR_ERR_PERMISSION);
            if (!allowed) CHECK(strstr(err.msg, o->name) != NULL);
        }
    }
    lfr_app_close(app);
    tmp_end();
}

/* Arguments: unknown, missing, mistyped, each named. */
static void test_arguments(void) {
    tmp_begin();
    int64_t now = 1750000000;
    lfr_app *app = open_app(&now, 1);
    if (!app) { CHECK(0); tmp_end(); return; }
    lfr_principal op = person("PC 1", R_ANY);
    lfr_err err;
    CHECK_STATUS(call(app, NULL, LFR_OP_DEPLOYMENT_SHOW, &op, "{\"id\": 1, \"idd\": 2}", NULL, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "unknown argument 'idd'") != NULL);
    CHECK_STATUS(call(app, NULL, LFR_OP_DEPLOYMENT_SHOW, &op, "{}", NULL, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "id is required") != NULL);
    CHECK_STATUS(call(app, NULL, LFR_OP_DEPLOYMENT_SHOW, &op, "{\"id\": -3}", NULL, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_STATUS(call(app, NULL, LFR_OP_DEPLOYMENT_SHOW, &op, "{\"id\": \"7\"}", NULL, &err),
                 LFR_ERR_NOT_FOUND); /* ids as text (path parameters) */
    CHECK_STATUS(call(app, NULL, LFR_OP_DEPLOYMENT_SHOW, &op, "[1]", NULL, &err), LFR_ERR_INVALID_ARG);
    const char *base = "{\"name\": \"N\", \"location\": \"L\", \"purpose\": \"P\", \"legal_basis\": "
                       "\"B\", \"start\": \"%s\", \"end\": \"2025-06-16T10:00Z\", \"threshold\": %s}";
    char a[512];
    snprintf(a, sizeof a, base, "2024-13-45T99:99Z", "0.7");
    CHECK_STATUS(call(app, NULL, LFR_OP_DEPLOYMENT_CREATE, &op, a, NULL, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "start") && strstr(err.msg, "not a real date"));
    snprintf(a, sizeof a, base, "2025-06-15T10:00Z", "\"high\"");
    CHECK_STATUS(call(app, NULL, LFR_OP_DEPLOYMENT_CREATE, &op, a, NULL, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "threshold") != NULL);
    snprintf(a, sizeof a, base, "2025-06-15T10:00Z", "0");
    CHECK_STATUS(call(app, NULL, LFR_OP_DEPLOYMENT_CREATE, &op, a, NULL, &err), LFR_ERR_INVALID_ARG);
    /* control characters in free text */
    CHECK_STATUS(call(app, NULL, LFR_OP_DEPLOYMENT_CREATE, &op,
                      "{\"name\": \"N\\u001b[31m\", \"location\": \"L\", \"purpose\": \"P\", "
                      "\"legal_basis\": \"B\", \"start\": 1750003600, \"end\": 1750090000, "
                      "\"threshold\": 0.7}", NULL, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "name") != NULL);
    /* an image where none is taken */
    lfr_app_req req = {LFR_OP_DEPLOYMENT_LIST, &op, NULL, (const uint8_t *)"x", 1, NULL};
    lfr_app_res res;
    CHECK_STATUS(lfr_app_call(app, &req, &res, &err), LFR_ERR_INVALID_ARG);
    lfr_app_res_clear(&res);
    lfr_app_close(app);
    tmp_end();
}

/* Flows ----------------------------------------------------------------------------- */
static uint8_t IMG[200];
static float TMPL[192] = {1.0f};

static int64_t add_entry(lfr_store *s, int64_t dep, const char *ref) {
    lfr_watchlist_entry e = {ref, "Subject", LFR_WATCHLIST_WANTED_FOR_OFFENCE, NULL, "burglary",
                             "custody image", "2024-03-04", 0, NULL};
    lfr_actor by = {"PC 1", LFR_ROLE_OPERATOR};
    int64_t id = 0;
    lfr_err err = {{0}};
    lfr_status st = lfr_deploy_entry_add(s, dep, &e, IMG, sizeof IMG, TMPL, 192, &by, &id, &err);
    if (st != LFR_OK) fprintf(stderr, "  entry: %s\n", err.msg);
    CHECK_STATUS(st, LFR_OK);
    return id;
}

static int64_t raise_alert(lfr_store *s, int64_t dep, int64_t entry) {
    lfr_alert a = {"north", entry, 0.9f, IMG, sizeof IMG, 0, NULL, 0, 0};
    lfr_actor cam = {"camera:north", LFR_ROLE_SYSTEM};
    int64_t id = 0;
    lfr_err err = {{0}};
    lfr_status st = lfr_deploy_alert_record(s, dep, &a, &cam, &id, &err);
    if (st != LFR_OK) fprintf(stderr, "  alert: %s\n", err.msg);
    CHECK_STATUS(st, LFR_OK);
    return id;
}

static int64_t create(lfr_app *app, lfr_store *s, const lfr_principal *who, int64_t now) {
    char a[512];
    snprintf(a, sizeof a,
             "{\"name\": \"Match day\", \"location\": \"North gate\", \"purpose\": \"wanted\", "
             "\"legal_basis\": \"common law\", \"start\": %lld, \"end\": %lld, \"threshold\": 0.7, "
             "\"cameras\": \"north\", \"model_set\": \"mfn192\"}", /* 192-d TMPL */
             (long long)now + 60, (long long)now + 8 * 3600);
    json_t *b = NULL;
    CALL_OK(app, s, LFR_OP_DEPLOYMENT_CREATE, who, a, &b);
    int64_t id = jid(b, "id");
    CHECK(id > 0);
    CHECK(!strcmp(json_string_value(json_object_get(b, "state")), "draft"));
    CHECK(json_is_object(json_object_get(b, "threshold_meaning")));
    json_decref(b);
    return id;
}

static int has_event(lfr_app *app, const char *type) {
    lfr_event ev[64];
    int gap = 0, found = 0;
    size_t n = lfr_app_events_wait(app, 0, ev, 64, &gap, 0);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(ev[i].type, type)) found = 1;
        lfr_event_clear(&ev[i]);
    }
    return found;
}

/* A server restarted in the middle of a deployment picks it up again: its
 * snapshot is rebuilt at open (cameras too, when it has any), without
 * anyone starting it a second time.  A CLI app (no pipelines) does not. */
static void test_restart_picks_up_live(void) {
    tmp_begin();
    int64_t now = 1750000000;
    lfr_store *s = open_store(&now);
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_deploy_params p = {"Match day", "North gate", "wanted", "common law", now + 60,
                           now + 8 * 3600, 0.7f, "north", 0};
    lfr_actor pc1 = {"PC 1", LFR_ROLE_OPERATOR}, supt = {"Supt 77", LFR_ROLE_AUTHORISER};
    lfr_err err = {{0}};
    int64_t d = 0;
    CHECK_STATUS(lfr_deploy_create(s, &p, &pc1, &d, &err), LFR_OK);
    add_entry(s, d, "REF-1");
    CHECK_STATUS(lfr_deploy_authorise(s, d, &supt, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_start(s, d, &supt, &err), LFR_OK);

    lfr_config cfg;
    lfr_config_defaults(&cfg);
    snprintf(cfg.db, sizeof cfg.db, "%s", dbp);
    cfg.store_connections = 2;
    lfr_app_options o = {.no_face = 1, .now = fake_clock, .now_ctx = &now};
    lfr_app *app = NULL;
    CHECK_STATUS(lfr_app_open(&cfg, &o, &app, &err), LFR_OK);
    lfr_pipeline_snapshot *snap = NULL;
    if (app) {
        CHECK_STATUS(lfr_registry_snapshot_get(lfr_app_registry(app), d, &snap, &err), LFR_OK);
        CHECK(snap != NULL);
        lfr_pipeline_snapshot_unref(snap);
        lfr_app_close(app);
    }
    app = open_app(&now, 1);   /* the CLI's: no pipelines, nothing built */
    if (app) {
        snap = NULL;
        CHECK_STATUS(lfr_registry_snapshot_get(lfr_app_registry(app), d, &snap, &err),
                     LFR_ERR_NOT_FOUND);
        lfr_app_close(app);
    }
    lfr_store_close(s);
    tmp_end();
}

/* camera.add takes the camera's RTSP transport (tcp unless given); the
 * answer, camera.list and deployment.show say which; a bad value is
 * refused with a sentence naming the field (HTTP 400: test_http). */
static void test_camera_transport(void) {
    tmp_begin();
    int64_t now = 1750000000;
    lfr_app *app = open_app(&now, 1);
    lfr_store *s = app ? open_store(&now) : NULL;
    if (!app || !s) { CHECK(0); lfr_app_close(app); lfr_store_close(s); tmp_end(); return; }
    lfr_principal pc1 = person("PC 1", R_ANY);
    lfr_err err;
    int64_t d = create(app, s, &pc1, now);
    json_t *b = NULL;
    char a[256];
    snprintf(a, sizeof a, "{\"deployment\": %lld, \"name\": \"roof\", \"url\": "
             "\"rtsp://u:secret@10.0.0.9/s\", \"rtsp_transport\": \"udp\"}", (long long)d);
    CALL_OK(app, s, LFR_OP_CAMERA_ADD, &pc1, a, &b);
    CHECK(b && !strcmp(json_string_value(json_object_get(b, "rtsp_transport")), "udp"));
    json_decref(b);
    snprintf(a, sizeof a, "{\"deployment\": %lld, \"name\": \"gate\", \"url\": "
             "\"rtsp://10.0.0.10/s\"}", (long long)d);
    CALL_OK(app, s, LFR_OP_CAMERA_ADD, &pc1, a, &b);
    CHECK(b && !strcmp(json_string_value(json_object_get(b, "rtsp_transport")), "tcp"));
    json_decref(b);
    static const struct {
        const char *url, *tr, *phrase;
    } bad[] = {
        {"rtsp://10.0.0.11/s", "\"carrier-pigeon\"", "camera rtsp_transport \"carrier-pigeon\": must be tcp"},
        {"rtsp://10.0.0.11/s", "7", "camera.add: rtsp_transport must be text"},
        {"rtsp://10.0.0.11/s", "[\"udp\"]", "rtsp_transport must be text"},
        {"/dev/video0", "\"udp\"", "only an rtsp:// camera can use it"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(a, sizeof a, "{\"deployment\": %lld, \"name\": \"x\", \"url\": \"%s\", "
                 "\"rtsp_transport\": %s}", (long long)d, bad[i].url, bad[i].tr);
        memset(&err, 0, sizeof err);
        CHECK_STATUS(call(app, s, LFR_OP_CAMERA_ADD, &pc1, a, NULL, &err), LFR_ERR_INVALID_ARG);
        if (!strstr(err.msg, bad[i].phrase)) fprintf(stderr, "  [%zu] message: %s\n", i, err.msg);
        CHECK(strstr(err.msg, bad[i].phrase) != NULL);
    }
    snprintf(a, sizeof a, "{\"deployment\": %lld}", (long long)d);
    CALL_OK(app, s, LFR_OP_CAMERA_LIST, &pc1, a, &b);
    json_t *cams = json_object_get(b, "cameras");
    CHECK_EQ_INT(json_array_size(cams), 2);
    if (json_array_size(cams) == 2) {
        CHECK(!strcmp(json_string_value(json_object_get(json_array_get(cams, 0), "rtsp_transport")), "udp"));
        CHECK(!strcmp(json_string_value(json_object_get(json_array_get(cams, 1), "rtsp_transport")), "tcp"));
    }
    json_decref(b);
    snprintf(a, sizeof a, "{\"id\": %lld}", (long long)d);
    CALL_OK(app, s, LFR_OP_DEPLOYMENT_SHOW, &pc1, a, &b);
    cams = json_object_get(b, "camera_list");
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(cams, 0), "rtsp_transport")), "udp"));
    json_decref(b);
    lfr_store_close(s);
    lfr_app_close(app);
    tmp_end();
}

static void test_flow(void) {
    tmp_begin();
    int64_t now = 1750000000;
    lfr_app *app = open_app(&now, 1);
    lfr_store *s = app ? open_store(&now) : NULL;
    if (!app || !s) { CHECK(0); lfr_app_close(app); tmp_end(); return; }
    /* a database without accounts: the CLI's typed names */
    lfr_principal pc1, supt, pc1_lower;
    lfr_err err;
    CHECK_STATUS(lfr_app_principal_by_name(app, "PC 1", &pc1, &err), LFR_OK);
    CHECK_STATUS(lfr_app_principal_by_name(app, "Supt 77", &supt, &err), LFR_OK);
    CHECK_STATUS(lfr_app_principal_by_name(app, "pc 1", &pc1_lower, &err), LFR_OK);
    CHECK_EQ_INT(pc1.roles, R_ANY);
    CHECK_STATUS(lfr_app_principal_by_name(app, "PC\x1b[1m", &pc1_lower, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_app_principal_by_name(app, "", &pc1_lower, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_app_principal_by_name(app, "pc 1", &pc1_lower, &err), LFR_OK);

    int64_t d = create(app, s, &pc1, now);
    int64_t entry = add_entry(s, d, "REF-1");
    json_t *b = NULL;
    CALL_OK(app, s, LFR_OP_CAMERA_ADD, &pc1,
            "{\"deployment\": 1, \"name\": \"north\", \"url\": \"rtsp://u:secret@10.0.0.9/s\"}", &b);
    int64_t cam = jid(b, "id");
    CHECK(cam > 0);
    char *txt = json_dumps(b, 0);
    CHECK(txt && !strstr(txt, "secret")); /* the URL is never shown */
    free(txt);
    json_decref(b);
    CALL_OK(app, s, LFR_OP_CAMERA_LIST, &pc1, "{\"deployment\": 1}", &b);
    CHECK_EQ_INT(json_array_size(json_object_get(b, "cameras")), 1);
    json_decref(b);

    /* separation of duties: the creator, also as "pc 1", cannot authorise */
    CHECK(call(app, s, LFR_OP_DEPLOYMENT_AUTHORISE, &pc1, "{\"id\": 1}", NULL, &err) != LFR_OK);
    CHECK(call(app, s, LFR_OP_DEPLOYMENT_AUTHORISE, &pc1_lower, "{\"id\": 1}", NULL, &err) != LFR_OK);
    CALL_OK(app, s, LFR_OP_DEPLOYMENT_AUTHORISE, &supt, "{\"id\": 1}", NULL);
    /* the acting role recorded: the first the operation allows */
    CALL_OK(app, s, LFR_OP_AUDIT_SHOW, &supt, "{\"deployment\": 1}", &b);
    json_t *recs = json_object_get(b, "records"), *last = json_array_get(recs, json_array_size(recs) - 1);
    /* the authorisation is followed by its signed checkpoint (audit.h) */
    CHECK(!strcmp(json_string_value(json_object_get(last, "action")), "audit.checkpoint"));
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(last, "details"), "reason")),
                  "deployment.authorise"));
    last = json_array_get(recs, json_array_size(recs) - 2);
    CHECK(!strcmp(json_string_value(json_object_get(last, "action")), "deployment.authorise"));
    CHECK(!strcmp(json_string_value(json_object_get(last, "role")), "authorising_officer"));
    CHECK(!strcmp(json_string_value(json_object_get(last, "actor")), "Supt 77"));
    json_decref(b);

    now += 120;
    CALL_OK(app, s, LFR_OP_DEPLOYMENT_START, &supt, "{\"id\": 1}", &b);
    CHECK(!strcmp(json_string_value(json_object_get(b, "state")), "live"));
    json_decref(b);
    CHECK(has_event(app, "deployment.state"));

    int64_t al = raise_alert(s, d, entry);
    char a[256];
    snprintf(a, sizeof a, "{\"id\": %lld}", (long long)al);
    CALL_OK(app, s, LFR_OP_ALERT_GET, &pc1, a, &b);
    CHECK(!strcmp(json_string_value(json_object_get(b, "subject_ref")), "REF-1"));
    /* what matched: a best shot (one embedding) */
    CHECK(!strcmp(json_string_value(json_object_get(b, "source")), "best_shot"));
    CHECK_EQ_INT(jid(b, "template_n"), 1);
    json_decref(b);
    /* nothing is dispatched before a decision */
    snprintf(a, sizeof a, "{\"id\": %lld, \"all\": true}", (long long)al);
    CHECK_STATUS(call(app, s, LFR_OP_ALERT_DISPATCH, &pc1, a, NULL, &err), LFR_ERR_STATE);
    snprintf(a, sizeof a, "{\"id\": %lld, \"decision\": \"maybe\"}", (long long)al);
    CHECK_STATUS(call(app, s, LFR_OP_ALERT_DECIDE, &pc1, a, NULL, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "decision") != NULL);
    snprintf(a, sizeof a, "{\"id\": %lld, \"decision\": \"confirm\", \"note\": \"same man\"}", (long long)al);
    CALL_OK(app, s, LFR_OP_ALERT_DECIDE, &pc1, a, &b);
    CHECK(!strcmp(json_string_value(json_object_get(b, "decision")), "confirmed"));
    json_decref(b);
    CHECK(has_event(app, "alert.decided"));
    snprintf(a, sizeof a, "{\"id\": %lld, \"all\": true}", (long long)al);
    CALL_OK(app, s, LFR_OP_ALERT_DISPATCH, &pc1, a, NULL);
    CHECK(has_event(app, "alert.dispatched"));
    snprintf(a, sizeof a, "{\"id\": %lld, \"outcome\": \"arrested\"}", (long long)al);
    CALL_OK(app, s, LFR_OP_ALERT_OUTCOME, &pc1, a, NULL);
    CHECK(has_event(app, "alert.outcome"));
    CALL_OK(app, s, LFR_OP_ALERT_LIST, &pc1, "{\"deployment\": 1}", &b);
    CHECK_EQ_INT(json_array_size(json_object_get(b, "alerts")), 1);
    json_decref(b);
    /* a track template's alert says so, with its embeddings; one stored
     * before the source was kept says "unknown", template_n null */
    {
        lfr_alert ta = {"north", entry, 0.9f, NULL, 0, 0, "track_template", 4, 2};
        lfr_actor cam = {"camera:north", LFR_ROLE_SYSTEM};
        int64_t tid = 0;
        CHECK_STATUS(lfr_deploy_alert_record(s, d, &ta, &cam, &tid, &err), LFR_OK);
        CHECK_STATUS(lfr_store_exec(s, "INSERT INTO alerts(deployment_id, entry_id, subject_ref, "
                                       "camera, at, score, threshold) SELECT deployment_id, "
                                       "entry_id, subject_ref, camera, at, score, threshold "
                                       "FROM alerts WHERE id = 1", &err), LFR_OK);
        CALL_OK(app, s, LFR_OP_ALERT_LIST, &pc1, "{\"deployment\": 1}", &b);
        json_t *l = json_object_get(b, "alerts");
        CHECK_EQ_INT(json_array_size(l), 3);
        json_t *old = json_array_get(l, 0), *tpl = json_array_get(l, 1);
        CHECK(!strcmp(json_string_value(json_object_get(tpl, "source")), "track_template"));
        CHECK_EQ_INT(jid(tpl, "template_n"), 4);
        /* it matched the mean of the entry's 2 photos: the likeness is read
         * for that (lower than one photo's at the same score) */
        CHECK_EQ_INT(jid(tpl, "entry_photos"), 2);
        lfr_deploy_info di;
        CHECK_STATUS(lfr_deploy_get(s, d, &di, &err), LFR_OK);
        const lfr_match_calibration *cal = lfr_match_calibration_named(di.model_set);
        CHECK(cal != NULL);
        CHECK_NEAR(json_real_value(json_object_get(tpl, "likeness")),
                   round(lfr_match_cal_entry_likeness(cal, 0.9f, 2) * 1e6) / 1e6, 1e-6);
        CHECK(json_real_value(json_object_get(tpl, "likeness")) <
              json_real_value(json_object_get(json_array_get(l, 2), "likeness")) ||
              lfr_match_cal_likeness(cal, 0.9f) >= 100.0);
        CHECK_EQ_INT(jid(json_array_get(l, 2), "entry_photos"), 1);
        CHECK(!strcmp(json_string_value(json_object_get(old, "source")), "unknown"));
        CHECK(json_is_null(json_object_get(old, "template_n")));
        CHECK(json_is_null(json_object_get(old, "entry_photos"))); /* not recorded */
        json_decref(b);
    }
    /* an amendment: proposed by one, authorised by another */
    CALL_OK(app, s, LFR_OP_DEPLOYMENT_AMEND, &pc1,
            "{\"id\": 1, \"reason\": \"too many false alerts\", \"threshold\": 0.75}", &b);
    int64_t am = jid(b, "amendment");
    json_decref(b);
    CHECK_STATUS(call(app, s, LFR_OP_DEPLOYMENT_AMEND, &pc1,
                      "{\"id\": 1, \"reason\": \"x\", \"threshold\": 0.75, \"remove_entry\": 1}",
                      NULL, &err), LFR_ERR_INVALID_ARG);
    snprintf(a, sizeof a, "{\"amendment\": %lld}", (long long)am);
    CALL_OK(app, s, LFR_OP_DEPLOYMENT_AMEND_AUTHORISE, &supt, a, NULL);
    CALL_OK(app, s, LFR_OP_DEPLOYMENT_SHOW, &pc1, "{\"id\": 1}", &b);
    CHECK_NEAR(json_real_value(json_object_get(b, "threshold")), 0.75, 1e-6);
    CHECK_EQ_INT(jid(b, "alerts"), 3);   /* the best shot's, the template's, the old one */
    json_decref(b);

    CALL_OK(app, s, LFR_OP_DEPLOYMENT_END, &supt, "{\"id\": 1, \"reason\": \"match over\"}", NULL);
    /* 32 days later everything is due */
    now += 32 * 86400;
    CALL_OK(app, s, LFR_OP_RETENTION_PURGE, &pc1, "{}", &b);
    CHECK(jid(b, "receipts") > 0);
    CHECK_EQ_INT(jid(b, "alerts"), 3);
    json_decref(b);
    CALL_OK(app, s, LFR_OP_AUDIT_VERIFY, &pc1, "{}", &b);
    CHECK(json_is_true(json_object_get(b, "ok")));
    CHECK(jid(b, "records") > 10);
    json_decref(b);
    CALL_OK(app, s, LFR_OP_AUDIT_ANCHOR, &pc1, "{}", NULL);
    lfr_store_close(s);
    lfr_app_close(app);
    tmp_end();
}

/* Accounts: separation of duties by account, the CLI rule, device scoping. */
static void test_accounts_and_devices(void) {
    tmp_begin();
    int64_t now = 1750000000;
    lfr_app *app = open_app(&now, 1);
    lfr_store *s = app ? open_store(&now) : NULL;
    if (!app || !s) { CHECK(0); lfr_app_close(app); tmp_end(); return; }
    lfr_err err;
    lfr_principal root, pc1, pc1b, supt, off;
    CHECK_STATUS(lfr_app_principal_by_name(app, "root", &root, &err), LFR_OK);
    /* the first admin, from the CLI on a database without accounts */
    CALL_OK(app, s, LFR_OP_USER_ADD, &root,
            "{\"login\": \"admin\", \"display_name\": \"Admin\", \"roles\": [\"admin\"], "
            "\"password\": \"correct horse battery\"}", NULL);
    /* from now on a name must be an account's */
    CHECK_STATUS(lfr_app_principal_by_name(app, "root", &root, &err), LFR_ERR_PERMISSION);
    lfr_principal admin;
    CHECK_STATUS(lfr_app_principal_by_name(app, "Admin", &admin, &err), LFR_OK);
    CHECK_EQ_INT(admin.roles, R_ADM);
    CHECK_STATUS(call(app, s, LFR_OP_USER_ADD, &admin,
                      "{\"login\": \"x\", \"display_name\": \"X\", \"roles\": [\"wizard\"], "
                      "\"password\": \"correct horse battery\"}", NULL, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "wizard") != NULL);
    CALL_OK(app, s, LFR_OP_USER_ADD, &admin,
            "{\"login\": \"PC 1\", \"display_name\": \"PC One\", \"roles\": [\"operator\", "
            "\"authorising_officer\"], \"password\": \"correct horse battery\"}", NULL);
    CALL_OK(app, s, LFR_OP_USER_ADD, &admin,
            "{\"login\": \"Supt 77\", \"display_name\": \"Supt\", \"roles\": "
            "[\"authorising_officer\"], \"password\": \"correct horse battery\"}", NULL);
    CALL_OK(app, s, LFR_OP_USER_ADD, &admin,
            "{\"login\": \"PC 456\", \"display_name\": \"Officer\", \"roles\": [\"officer\"], "
            "\"password\": \"correct horse battery\"}", NULL);
    CHECK_STATUS(lfr_app_principal_by_name(app, "PC 1", &pc1, &err), LFR_OK);
    CHECK_STATUS(lfr_app_principal_by_name(app, "pc 1", &pc1b, &err), LFR_OK);
    CHECK_EQ_INT(pc1b.user_id, pc1.user_id);
    CHECK_STATUS(lfr_app_principal_by_name(app, "Supt 77", &supt, &err), LFR_OK);
    CHECK_STATUS(lfr_app_principal_by_name(app, "PC 456", &off, &err), LFR_OK);
    /* an officer account cannot create a deployment */
    CHECK_STATUS(call(app, s, LFR_OP_DEPLOYMENT_CREATE, &off, "{}", NULL, &err), LFR_ERR_PERMISSION);

    int64_t d1 = create(app, s, &pc1, now), d2 = create(app, s, &pc1, now);
    int64_t e1 = add_entry(s, d1, "REF-1"), e2 = add_entry(s, d2, "REF-2");
    /* the creating account may hold the role, and still not authorise */
    CHECK(call(app, s, LFR_OP_DEPLOYMENT_AUTHORISE, &pc1, "{\"id\": 1}", NULL, &err) != LFR_OK);
    CHECK(call(app, s, LFR_OP_DEPLOYMENT_AUTHORISE, &pc1b, "{\"id\": 1}", NULL, &err) != LFR_OK);
    now += 120;
    for (int d = 1; d <= 2; d++) {
        char a[64];
        snprintf(a, sizeof a, "{\"id\": %d}", d);
        CALL_OK(app, s, LFR_OP_DEPLOYMENT_AUTHORISE, &supt, a, NULL);
        CALL_OK(app, s, LFR_OP_DEPLOYMENT_START, &supt, a, NULL);
    }
    /* sign in */
    json_t *b = NULL;
    CHECK_STATUS(call(app, s, LFR_OP_SESSION_LOGIN, NULL,
                      "{\"login\": \"PC 1\", \"password\": \"wrong password!\"}", NULL, &err),
                 LFR_ERR_UNAUTHENTICATED);
    CALL_OK(app, s, LFR_OP_SESSION_LOGIN, NULL,
            "{\"login\": \"pc 1\", \"password\": \"correct horse battery\"}", &b);
    lfr_principal sess;
    const char *tok = json_string_value(json_object_get(b, "token"));
    CHECK_STATUS(lfr_app_authenticate(app, tok, &sess, &err), LFR_OK);
    CHECK_EQ_INT(sess.user_id, pc1.user_id);
    CALL_OK(app, s, LFR_OP_SESSION_WHOAMI, &sess, "{}", NULL);
    char tokcopy[128];
    snprintf(tokcopy, sizeof tokcopy, "%s", tok ? tok : "");
    json_decref(b);
    lfr_app_req lo = {LFR_OP_SESSION_LOGOUT, &sess, NULL, NULL, 0, tokcopy};
    lfr_app_res res;
    CHECK_STATUS(lfr_app_call(app, &lo, &res, &err), LFR_OK);
    lfr_app_res_clear(&res);
    CHECK_STATUS(lfr_app_authenticate(app, tokcopy, &sess, &err), LFR_ERR_UNAUTHENTICATED);

    /* pair a device to deployment 1 */
    CALL_OK(app, s, LFR_OP_DEVICE_PAIR_CODE, &pc1, "{\"deployment\": 1}", &b);
    char code[64];
    snprintf(code, sizeof code, "%s", json_string_value(json_object_get(b, "code")));
    CHECK(json_is_null(json_object_get(b, "qr_svg"))); /* no server identity yet */
    json_decref(b);
    char a[512];
    snprintf(a, sizeof a, "{\"code\": \"%s\", \"device_name\": \"tablet 3\", \"login\": \"PC 456\", "
             "\"password\": \"correct horse battery\"}", code);
    CALL_OK(app, s, LFR_OP_DEVICE_PAIR, NULL, a, &b);
    lfr_principal dev;
    CHECK_STATUS(lfr_app_authenticate(app, json_string_value(json_object_get(b, "token")), &dev, &err),
                 LFR_OK);
    json_decref(b);
    CHECK(dev.device_id > 0);
    CHECK_EQ_INT(dev.deployment_id, d1);
    /* with the server's identity the answer carries the QR code */
    CHECK_STATUS(lfr_app_set_server_identity(app, "https://10.0.0.2:8443", "AB:CD:EF", &err), LFR_OK);
    CALL_OK(app, s, LFR_OP_DEVICE_PAIR_CODE, &pc1, "{\"deployment\": 1}", &b);
    const char *svg = json_string_value(json_object_get(b, "qr_svg"));
    CHECK(svg && strstr(svg, "<svg"));
    json_decref(b);

    /* device scoping: deployment 2 is out of reach */
    int64_t a1 = raise_alert(s, d1, e1), a2 = raise_alert(s, d2, e2);
    snprintf(a, sizeof a, "{\"id\": %lld}", (long long)a2);
    CHECK_STATUS(call(app, s, LFR_OP_ALERT_GET, &dev, a, NULL, &err), LFR_ERR_PERMISSION);
    CHECK(strstr(err.msg, "deployment 1") != NULL);
    CHECK_STATUS(call(app, s, LFR_OP_ALERT_LIST, &dev, "{\"deployment\": 2}", NULL, &err),
                 LFR_ERR_PERMISSION);
    CHECK_STATUS(call(app, s, LFR_OP_DEPLOYMENT_SHOW, &dev, "{\"id\": 2}", NULL, &err),
                 LFR_ERR_PERMISSION);
    CALL_OK(app, s, LFR_OP_DEPLOYMENT_SHOW, &dev, "{\"id\": 1}", NULL);
    CALL_OK(app, s, LFR_OP_DEPLOYMENT_LIST, &dev, "{}", &b);
    CHECK_EQ_INT(json_array_size(json_object_get(b, "deployments")), 1);
    json_decref(b);
    /* its own deployment's alert: only once dispatched to it */
    snprintf(a, sizeof a, "{\"id\": %lld}", (long long)a1);
    CHECK_STATUS(call(app, s, LFR_OP_ALERT_GET, &dev, a, NULL, &err), LFR_ERR_NOT_FOUND);
    CALL_OK(app, s, LFR_OP_ALERT_LIST, &dev, "{\"deployment\": 1}", &b);
    CHECK_EQ_INT(json_array_size(json_object_get(b, "alerts")), 0);
    json_decref(b);
    snprintf(a, sizeof a, "{\"id\": %lld, \"decision\": \"confirm\"}", (long long)a1);
    CALL_OK(app, s, LFR_OP_ALERT_DECIDE, &pc1, a, NULL);
    snprintf(a, sizeof a, "{\"id\": %lld, \"devices\": [%lld]}", (long long)a1, (long long)dev.device_id);
    CALL_OK(app, s, LFR_OP_ALERT_DISPATCH, &pc1, a, NULL);
    /* a device of deployment 1 for an alert of deployment 2: refused */
    snprintf(a, sizeof a, "{\"id\": %lld, \"decision\": \"confirm\"}", (long long)a2);
    CALL_OK(app, s, LFR_OP_ALERT_DECIDE, &pc1, a, NULL);
    snprintf(a, sizeof a, "{\"id\": %lld, \"devices\": [%lld]}", (long long)a2, (long long)dev.device_id);
    CHECK_STATUS(call(app, s, LFR_OP_ALERT_DISPATCH, &pc1, a, NULL, &err), LFR_ERR_INVALID_ARG);
    snprintf(a, sizeof a, "{\"id\": %lld}", (long long)a1);
    CALL_OK(app, s, LFR_OP_ALERT_GET, &dev, a, NULL);
    CALL_OK(app, s, LFR_OP_ALERT_ACK, &dev, a, NULL);
    snprintf(a, sizeof a, "{\"id\": %lld, \"outcome\": \"engaged\", \"note\": \"spoke to him\"}", (long long)a1);
    CALL_OK(app, s, LFR_OP_ALERT_OUTCOME, &dev, a, NULL);
    /* event visibility: the device sees its dispatch, not deployment 2's */
    lfr_event ev[64];
    int gap = 0, saw_dispatch = 0, saw_other = 0;
    size_t n = lfr_app_events_wait(app, 0, ev, 64, &gap, 0);
    for (size_t i = 0; i < n; i++) {
        int vis = lfr_app_event_visible(app, &dev, &ev[i]);
        if (vis && !strcmp(ev[i].type, "alert.dispatched")) saw_dispatch = 1;
        if (vis && ev[i].deployment_id == d2) saw_other = 1;
        lfr_event_clear(&ev[i]);
    }
    CHECK(saw_dispatch);
    CHECK(!saw_other);
    /* revocation */
    snprintf(a, sizeof a, "{\"id\": %lld}", (long long)dev.device_id);
    CALL_OK(app, s, LFR_OP_DEVICE_REVOKE, &pc1, a, NULL);
    CHECK(has_event(app, "device.revoked"));
    CALL_OK(app, s, LFR_OP_DEVICE_LIST, &admin, "{}", &b);
    CHECK_EQ_INT(json_array_size(json_object_get(b, "devices")), 1);
    json_decref(b);
    CALL_OK(app, s, LFR_OP_USER_DISABLE, &admin, "{\"login\": \"PC 456\"}", NULL);
    CALL_OK(app, s, LFR_OP_USER_PASSWD, &admin,
            "{\"login\": \"Supt 77\", \"password\": \"another long passphrase\"}", NULL);
    CALL_OK(app, s, LFR_OP_USER_LIST, &admin, "{}", &b);
    CHECK_EQ_INT(json_array_size(json_object_get(b, "users")), 4);
    json_decref(b);
    CALL_OK(app, s, LFR_OP_AUDIT_VERIFY, &admin, "{}", &b);
    CHECK(json_is_true(json_object_get(b, "ok")));
    json_decref(b);
    lfr_store_close(s);
    lfr_app_close(app);
    tmp_end();
}

/* With the face models: enrolment through quality control, a photo check. */
static void test_faces(void) {
    const char *m = getenv("OPENLFR_MODELS");
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s/photos/sample1.jpg", m ? m : "models");
    snprintf(p2, sizeof p2, "%s/mobilefacenet.lfrm", m ? m : "models");
    if (!m || access(p1, R_OK) || access(p2, R_OK))
        SKIP("no face models or demo photos in $OPENLFR_MODELS (make setup)");
    tmp_begin();
    int64_t now = 1750000000;
    lfr_app *app = open_app(&now, 0);
    lfr_store *s = app ? open_store(&now) : NULL;
    if (!app || !s) { CHECK(0); lfr_app_close(app); tmp_end(); return; }
    lfr_principal pc1 = person("PC 1", R_ANY), supt = person("Supt 77", R_ANY);
    int64_t d = create(app, s, &pc1, now);
    (void)d;
    /* a loose crop around one face of the demo (group) photos that
     * passes quality control */
    lfr_face_engine *eng = NULL;
    lfr_face_ctx *fc = NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_face_engine_load(m, &eng, &err), LFR_OK);
    if (eng) CHECK_STATUS(lfr_face_ctx_new(eng, &fc), LFR_OK);
    uint8_t *img = NULL;
    size_t len = 0;
    int64_t entry = 0;
    for (int i = 1; fc && i <= 6 && !entry; i++) {
        char path[512], args[512];
        snprintf(path, sizeof path, "%s/photos/sample%d.jpg", m, i);
        uint8_t *file = NULL;
        size_t flen = 0;
        lfr_image photo = {0};
        if (lfr_read_file(path, LFR_MAX_IMAGE_BYTES, &file, &flen) != LFR_OK) continue;
        lfr_status dst = lfr_image_decode(file, flen, &photo, NULL);
        lfr_free(file);
        if (dst != LFR_OK) continue;
        lfr_face *faces = NULL;
        int nf = 0;
        lfr_face_detect(fc, &photo, NULL, &faces, &nf, &err);
        float boxes[16][4];
        if (nf > 16) nf = 16;
        for (int k = 0; k < nf; k++) memcpy(boxes[k], faces[k].box, sizeof boxes[k]);
        for (int k = 0; k < nf && !entry; k++) {
            const float *b = boxes[k];
            lfr_image crop = {0};
            lfr_image_crop(&photo, (int)(b[0] - 0.6f * b[2]), (int)(b[1] - 0.6f * b[3]),
                           (int)(2.2f * b[2]), (int)(2.2f * b[3]), &crop);
            lfr_free(img);
            img = NULL;
            lfr_image_encode_jpeg(&crop, 92, &img, &len);
            lfr_image_free(&crop);
            snprintf(args, sizeof args,
                     "{\"deployment\": 1, \"subject_ref\": \"S-%d-%d\", \"display_name\": "
                     "\"Sample\", \"category\": \"missing\", \"reason\": \"test\", "
                     "\"image_source\": \"demo\", \"image_date\": \"2020-01-01\"}", i, k);
            json_t *a = json_loads(args, 0, NULL);
            lfr_app_req req = {LFR_OP_WATCHLIST_ADD, &pc1, a, img, len, NULL};
            lfr_app_res res;
            lfr_status st = lfr_app_call(app, &req, &res, &err);
            if (st == LFR_OK) entry = jid(res.body, "id");
            else if (st == LFR_ERR_QUALITY) /* the refusal says why, with the values */
                CHECK(json_is_object(json_object_get(json_object_get(res.body, "quality"), "measured")));
            else fprintf(stderr, "  watchlist.add: %s\n", err.msg);
            lfr_app_res_clear(&res);
            json_decref(a);
        }
        lfr_image_free(&photo);
    }
    lfr_face_ctx_destroy(fc);
    lfr_face_engine_destroy(eng);
    CHECK(entry > 0);
    /* a group photo: refused by quality control, the answer says why */
    {
        uint8_t *group = NULL;
        size_t glen = 0;
        CHECK_STATUS(lfr_read_file(p1, LFR_MAX_IMAGE_BYTES, &group, &glen), LFR_OK);
        json_t *a = json_loads("{\"deployment\": 1, \"subject_ref\": \"G-1\", \"display_name\": "
                               "\"Group\", \"category\": \"missing\", \"reason\": \"test\", "
                               "\"image_source\": \"demo\", \"image_date\": \"2020-01-01\"}", 0, NULL);
        lfr_app_req req = {LFR_OP_WATCHLIST_ADD, &pc1, a, group, glen, NULL};
        lfr_app_res res;
        CHECK_STATUS(lfr_app_call(app, &req, &res, &err), LFR_ERR_QUALITY);
        json_t *q = json_object_get(res.body, "quality");
        CHECK(!strcmp(json_string_value(json_object_get(q, "reject")) ? json_string_value(json_object_get(q, "reject")) : "", "MULTIPLE_FACES"));
        /* measured: what the detector gave of the largest face, and none of
         * an aligned face's measures, which were never taken (not zeros) */
        json_t *mq = json_object_get(q, "measured");
        CHECK(json_is_object(mq));
        CHECK(json_real_value(json_object_get(mq, "score")) > 0.5);
        CHECK(json_real_value(json_object_get(mq, "eye_distance")) > 10);
        CHECK(json_object_get(mq, "sharpness") == NULL && json_object_get(mq, "yaw") == NULL);
        CHECK(strstr(err.msg, "faces found") != NULL);
        lfr_app_res_clear(&res);
        json_decref(a);
        lfr_free(group);
    }
    /* no image: refused naming it */
    CHECK_STATUS(call(app, s, LFR_OP_WATCHLIST_ADD, &pc1, "{\"deployment\": 1}", NULL, &err),
                 LFR_ERR_INVALID_ARG);
    now += 120;
    CALL_OK(app, s, LFR_OP_DEPLOYMENT_AUTHORISE, &supt, "{\"id\": 1}", NULL);
    CALL_OK(app, s, LFR_OP_DEPLOYMENT_START, &supt, "{\"id\": 1}", NULL);
    /* the same photo checked: a match; reason "other" needs its text */
    json_t *a = json_loads("{\"deployment\": 1, \"reason\": \"other\"}", 0, NULL);
    lfr_principal off = person("PC 456", R_OFF);
    lfr_app_req req = {LFR_OP_CHECK_PHOTO, &off, a, img, len, NULL};
    lfr_app_res res;
    CHECK_STATUS(lfr_app_call(app, &req, &res, &err), LFR_ERR_INVALID_ARG);
    lfr_app_res_clear(&res);
    json_decref(a);
    int64_t before = audit_count(s, "check.photo");
    a = json_loads("{\"deployment\": 1, \"reason\": \"matches_description\"}", 0, NULL);
    req.args = a;
    CHECK_STATUS(lfr_app_call(app, &req, &res, &err), LFR_OK);
    if (res.body) {
        CHECK(!strcmp(json_string_value(json_object_get(res.body, "result")), "match"));
        CHECK(json_array_size(json_object_get(res.body, "candidates")) >= 1);
    }
    CHECK_EQ_INT(audit_count(s, "check.photo") - before, 1);
    CHECK(res.audit_seq > 0);
    lfr_app_res_clear(&res);
    json_decref(a);
    CHECK(has_event(app, "check.done"));
    lfr_free(img);
    lfr_store_close(s);
    lfr_app_close(app);
    tmp_end();
}

int main(void) {
    RUN(test_config_defaults);
    RUN(test_config_env);
    RUN(test_config_file);
    RUN(test_time_parse);
    RUN(test_op_table);
    RUN(test_role_matrix);
    RUN(test_arguments);
    RUN(test_restart_picks_up_live);
    RUN(test_camera_transport);
    RUN(test_flow);
    RUN(test_accounts_and_devices);
    RUN(test_faces);
    return harness_done("app");
}
