/*
 * routes.c - the one table of HTTP routes and the path matcher.
 *
 * X(method, pattern, handler, op, body kind, max body).  A row with handler
 * OP maps the route onto a row of the app's table of operations, which
 * holds the roles allowed and the audit action: the router applies both
 * through lfr_app_call, so no route can forget either.
 *
 * A path parameter's name IS the name of the operation's argument it fills
 * ("/api/deployments/{id}/start": deployment.start's "id";
 * "/api/deployments/{deployment}/cameras": camera.add's "deployment"), so
 * there is no second table to keep in step.  tests/test_http.c checks that
 * every route's path parameters, query parameters and body fields are
 * arguments of its operation (app.h lfr_op_info.args), and that
 * docs/openapi.yaml lists exactly these routes with those arguments.
 */
#include <string.h>

#include "http.h"

#define J LFR_HTTP_BODY_JSON
#define NB LFR_HTTP_BODY_NONE
#define IJ LFR_HTTP_BODY_IMAGE_JSON
#define IM LFR_HTTP_BODY_IMAGE
#define JMAX LFR_HTTP_MAX_JSON_BODY

#define LFR_HTTP_ROUTE_LIST(X)                                                                     \
    X("GET", "/api/health", OP, HEALTH, NB, 0)                                                     \
    X("POST", "/api/session", OP, SESSION_LOGIN, J, JMAX)                                          \
    X("DELETE", "/api/session", OP, SESSION_LOGOUT, NB, 0)                                         \
    X("GET", "/api/session", OP, SESSION_WHOAMI, NB, 0)                                            \
    X("GET", "/api/deployments", OP, DEPLOYMENT_LIST, NB, 0)                                       \
    X("POST", "/api/deployments", OP, DEPLOYMENT_CREATE, J, JMAX)                                  \
    X("GET", "/api/deployments/{id}", OP, DEPLOYMENT_SHOW, NB, 0)                                  \
    X("GET", "/api/deployments/{id}/amendments", OP, DEPLOYMENT_AMENDMENTS, NB, 0)                 \
    X("POST", "/api/deployments/{id}/authorise", OP, DEPLOYMENT_AUTHORISE, J, JMAX)                \
    X("POST", "/api/deployments/{id}/start", OP, DEPLOYMENT_START, J, JMAX)                        \
    X("POST", "/api/deployments/{id}/end", OP, DEPLOYMENT_END, J, JMAX)                            \
    X("POST", "/api/deployments/{id}/amendments", OP, DEPLOYMENT_AMEND, J, JMAX)                   \
    X("POST", "/api/amendments/{amendment}/authorise", OP, DEPLOYMENT_AMEND_AUTHORISE, J,          \
      JMAX)                                                                                        \
    X("GET", "/api/deployments/{deployment}/cameras", OP, CAMERA_LIST, NB, 0)                      \
    X("POST", "/api/deployments/{deployment}/cameras", OP, CAMERA_ADD, J, JMAX)                    \
    X("GET", "/api/deployments/{deployment}/camera-stats", OP, CAMERA_STATS, NB, 0)                \
    X("GET", "/api/cameras/{id}/preview", OP, CAMERA_PREVIEW, NB, 0)                               \
    X("DELETE", "/api/cameras/{id}", OP, CAMERA_REMOVE, NB, 0)                                     \
    X("GET", "/api/deployments/{deployment}/watchlist", OP, WATCHLIST_LIST, NB, 0)                 \
    X("POST", "/api/deployments/{deployment}/watchlist", OP, WATCHLIST_ADD, IJ,                    \
      LFR_HTTP_MAX_IMAGE_JSON_BODY)                                                                \
    X("POST", "/api/deployments/{deployment}/watchlist/import", OP, WATCHLIST_IMPORT, J,           \
      LFR_HTTP_MAX_IMPORT_BODY)                                                                    \
    X("POST", "/api/watchlist/{id}/photos", OP, WATCHLIST_ADD_PHOTO, IJ,                           \
      LFR_HTTP_MAX_IMAGE_JSON_BODY)                                                                \
    X("GET", "/api/watchlist/{id}/photos", OP, WATCHLIST_PHOTOS, NB, 0)                            \
    X("DELETE", "/api/watchlist/{id}", OP, WATCHLIST_REMOVE, NB, 0)                                \
    X("GET", "/api/watchlist/images/{image}", OP, WATCHLIST_IMAGE, NB, 0)                          \
    X("GET", "/api/deployments/{deployment}/alerts", OP, ALERT_LIST, NB, 0)                        \
    X("GET", "/api/alerts/{id}", OP, ALERT_GET, NB, 0)                                             \
    X("GET", "/api/alerts/{id}/image", OP, ALERT_IMAGE, NB, 0)                                     \
    X("POST", "/api/alerts/{id}/decision", OP, ALERT_DECIDE, J, JMAX)                              \
    X("POST", "/api/alerts/{id}/dispatch", OP, ALERT_DISPATCH, J, JMAX)                            \
    X("POST", "/api/alerts/{id}/ack", OP, ALERT_ACK, J, JMAX)                                      \
    X("POST", "/api/alerts/{id}/outcome", OP, ALERT_OUTCOME, J, JMAX)                              \
    X("POST", "/api/deployments/{deployment}/checks", OP, CHECK_PHOTO, IM,                         \
      LFR_MAX_IMAGE_BYTES)                                                                         \
    X("GET", "/api/deployments/{deployment}/checks", OP, CHECK_LIST, NB, 0)                        \
    X("POST", "/api/deployments/{deployment}/pair-codes", OP, DEVICE_PAIR_CODE, J, JMAX)           \
    X("POST", "/api/devices/pair", OP, DEVICE_PAIR, J, JMAX)                                       \
    X("GET", "/api/devices", OP, DEVICE_LIST, NB, 0)                                               \
    X("DELETE", "/api/devices/{id}", OP, DEVICE_REVOKE, NB, 0)                                     \
    X("GET", "/api/users", OP, USER_LIST, NB, 0)                                                   \
    X("POST", "/api/users", OP, USER_ADD, J, JMAX)                                                 \
    X("POST", "/api/users/{id}/disable", OP, USER_DISABLE, J, JMAX)                                \
    X("POST", "/api/users/{id}/password", OP, USER_PASSWD, J, JMAX)                                \
    X("GET", "/api/audit/verify", OP, AUDIT_VERIFY, NB, 0)                                         \
    X("GET", "/api/audit", OP, AUDIT_SHOW, NB, 0)                                                  \
    X("GET", "/api/audit/anchor", OP, AUDIT_ANCHOR, NB, 0)                                         \
    X("POST", "/api/audit/checkpoints", OP, AUDIT_CHECKPOINT, J, JMAX)                             \
    X("GET", "/api/audit/checkpoint", OP, AUDIT_CHECKPOINT_GET, NB, 0)                             \
    X("GET", "/api/audit/checkpoint/qr", OP, AUDIT_CHECKPOINT_QR, NB, 0)                           \
    X("POST", "/api/retention/purge", OP, RETENTION_PURGE, J, JMAX)                                \
    X("GET", "/api/deployments/{deployment}/report", OP, REPORT_DEPLOYMENT, NB, 0)                 \
    X("GET", "/api/eval", OP, EVAL_STATUS, NB, 0)                                                  \
    X("POST", "/api/eval/runs", OP, EVAL_START, J, JMAX)                                           \
    X("POST", "/api/eval/runs/{run}/cancel", OP, EVAL_CANCEL, J, JMAX)                             \
    X("GET", "/api/eval/runs/{run}/report", OP, EVAL_FILE, NB, 0)                                  \
    X("GET", "/api/events", EVENTS, HEALTH, NB, 0)                                                 \
    X("GET", "/api/openapi.json", SPEC, HEALTH, NB, 0)                                             \
    X("GET", "/api/docs", DOCS, HEALTH, NB, 0)                                                     \
    X("GET", "/api/docs/redoc.standalone.js", DOCS_JS, HEALTH, NB, 0)                              \
    X("GET", "/api/vendor/jsQR.js", QR_JS, HEALTH, NB, 0)                                          \
    X("GET", "/metrics", METRICS, HEALTH, NB, 0)

static const lfr_http_route routes[] = {
#define ROUTE_ROW(m, p, h, op, body, max) {m, p, LFR_HTTP_H_##h, LFR_OP_##op, body, max},
    LFR_HTTP_ROUTE_LIST(ROUTE_ROW)
#undef ROUTE_ROW
};

const lfr_http_route *lfr_http_routes(size_t *n) {
    *n = sizeof routes / sizeof routes[0];
    return routes;
}

/* One segment of a pattern against one of the path.  "{name}" takes a
 * positive decimal integer (at most 18 digits, so it fits int64). */
static int segment_match(const char *pat, size_t plen, const char *seg, size_t slen,
                         lfr_http_params *params) {
    if (plen >= 2 && pat[0] == '{' && pat[plen - 1] == '}') {
        if (slen == 0 || slen > 18 || seg[0] == '0') return 0;
        int64_t v = 0;
        for (size_t i = 0; i < slen; i++) {
            if (seg[i] < '0' || seg[i] > '9') return 0;
            v = v * 10 + (seg[i] - '0');
        }
        size_t nlen = plen - 2;
        if (params->n >= LFR_HTTP_MAX_PATH_PARAMS || nlen >= sizeof params->name[0]) return 0;
        memcpy(params->name[params->n], pat + 1, nlen);
        params->name[params->n][nlen] = '\0';
        params->value[params->n] = v;
        params->n++;
        return 1;
    }
    return plen == slen && memcmp(pat, seg, slen) == 0;
}

static int path_match(const char *pattern, const char *path, lfr_http_params *params) {
    params->n = 0;
    const char *p = pattern, *s = path;
    for (;;) {
        if (*p != '/' || *s != '/') return 0;
        p++, s++;
        size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");
        if (!segment_match(p, plen, s, slen, params)) return 0;
        p += plen, s += slen;
        if (*p == '\0' || *s == '\0') return *p == '\0' && *s == '\0';
    }
}

const lfr_http_route *lfr_http_route_match(const char *method, const char *path,
                                           lfr_http_params *params, int *path_known) {
    *path_known = 0;
    if (strlen(path) >= LFR_HTTP_MAX_PATH) return NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        lfr_http_params tmp;
        if (!path_match(routes[i].pattern, path, &tmp)) continue;
        if (strcmp(routes[i].method, method) != 0) {
            *path_known = 1;
            continue;
        }
        *params = tmp;
        return &routes[i];
    }
    return NULL;
}
