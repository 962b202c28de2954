/*
 * http_int.h - private to src/http: the server's state shared by
 * server.c (router), sse.c (live events), files.c (static files, docs)
 * and metrics.c.
 */
#ifndef LFR_HTTP_INT_H
#define LFR_HTTP_INT_H

#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "http.h"

typedef struct http_rate_slot {
    uint8_t key[16];            /* BLAKE2b of the token or client address */
    int64_t minute;             /* which minute the count is for */
    uint32_t count;
} http_rate_slot;

struct lfr_http {
    lfr_app *app;
    const lfr_config *cfg;
    struct MHD_Daemon *daemon;
    uint16_t port;
    char fingerprint[112];
    char *cert_pem, *key_pem;   /* kept until stop (wiped: the key) */
    char web_root[PATH_MAX];    /* resolved; "" when it does not exist */
    char vendor_dir[PATH_MAX];
    int heartbeat_ms;
    atomic_int streams;
    atomic_int stopping;
    size_t n_routes;
    const lfr_http_route *routes;
    atomic_uint_fast64_t *route_requests, *route_errors; /* n_routes + 1 (the last: other) */
    pthread_mutex_t rate_mu;
    http_rate_slot *rate;       /* LFR_HTTP_RATE_SLOTS */
};

/* Queues the app's JSON error for st (with err's sentence). */
enum MHD_Result http_send_error(struct MHD_Connection *c, lfr_status st, const lfr_err *err);
/* Queues a JSON body (stolen) with status and Cache-Control: no-store. */
enum MHD_Result http_send_json(struct MHD_Connection *c, unsigned status, json_t *body);
/* Security headers every answer carries. */
void http_common_headers(struct MHD_Response *r);
/* Whether the connection comes from a loopback address. */
int http_client_is_loopback(struct MHD_Connection *c);

/* sse.c: GET /api/events for an authenticated principal. */
enum MHD_Result http_events(lfr_http *h, struct MHD_Connection *c, const lfr_principal *who,
                            const char *token);
/* files.c: static files under web_root, the OpenAPI document, the docs. */
enum MHD_Result http_static(lfr_http *h, struct MHD_Connection *c, const char *url);
enum MHD_Result http_spec(lfr_http *h, struct MHD_Connection *c);
enum MHD_Result http_docs(lfr_http *h, struct MHD_Connection *c);
enum MHD_Result http_docs_js(lfr_http *h, struct MHD_Connection *c);
enum MHD_Result http_qr_js(lfr_http *h, struct MHD_Connection *c);
/* metrics.c */
enum MHD_Result http_metrics(lfr_http *h, struct MHD_Connection *c);

#endif
