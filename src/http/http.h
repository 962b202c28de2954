/*
 * http.h - the van's HTTPS server: the API, live events, static files.
 *
 * OVERVIEW
 *   A thin front end over the application core (app/app.h), like cli/.
 *   libmicrohttpd with its GnuTLS support, one thread per connection (a
 *   live-event stream blocks in its own thread waiting for events; a photo
 *   upload is read while other requests are served; the face contexts in
 *   the app bound how many checks run at once).  HTTPS only.
 *
 *   Routes are ONE table (LFR_HTTP_ROUTE_LIST in routes.c, read through
 *   lfr_http_routes): method, path pattern with {name} parameters, what
 *   answers (an operation of the app's table, or the event stream, the
 *   OpenAPI document, its rendered page, the metrics), body kind and the
 *   largest body.  For an operation the router:
 *     1. matches the path (404 JSON for an unknown one);
 *     2. takes the bearer token (Authorization: Bearer T; for GET
 *        /api/events also ?access_token=T, because a browser's EventSource
 *        cannot set headers; query strings are never logged) and
 *        authenticates it (lfr_app_authenticate): 401 for a bad token, and
 *        for a missing one when the operation needs a role;
 *     3. counts the request against the token's (or, without a token, the
 *        client address's) budget of requests_per_min: 429;
 *     4. refuses a role the operation's row does not allow before reading
 *        the body (403; the app checks again, with device scoping);
 *     5. refuses a body larger than the route's limit from Content-Length
 *        before reading it, and while reading (chunked): 413;
 *     6. parses the body by kind (lfr_http_body_parse): JSON (an object,
 *        depth at most LFR_HTTP_MAX_JSON_DEPTH), JSON carrying one image
 *        as base64 in "image_base64", or a raw image (image/jpeg,
 *        image/png); a wrong Content-Type is 415;
 *     7. merges path parameters (integers, under their pattern names,
 *        which are the operation's argument names: "id", "deployment",
 *        "amendment", "image") and query parameters (always strings: the
 *        app takes ids as decimal text) into the arguments; a body field
 *        that contradicts the path is 400;
 *     8. lfr_app_call (with the bearer token in req.token, for
 *        session.logout), and answers its JSON (200), or its image with
 *        Cache-Control: no-store.  Every error is the app's JSON error
 *        {"error":{"status","code","message"}} with that HTTP status, and
 *        beside "error" any details the app kept for a refusal (quality
 *        control's "quality").  Arguments that name files on the van's
 *        machine (LFR_ARG_PATH) are refused (400): the command line only.
 *   Every API answer carries Cache-Control: no-store.
 *
 *   Live events (GET /api/events, text/event-stream): every event has its
 *   id; Last-Event-ID (header, or ?last_event_id= for a first connection)
 *   resumes from the app's bounded history (a reader further behind gets
 *   the event "gap" first); events are filtered per principal by
 *   lfr_app_event_visible; a heartbeat comment every
 *   min(LFR_HTTP_SSE_HEARTBEAT_S, client_timeout_s / 2) re-checks the
 *   token; "device.revoked" for the stream's own device is sent and the
 *   stream closed at once.  At most max_streams streams (503 beyond).
 *
 *   Static files: any GET outside /api/ and /metrics is a file under
 *   web_root ("/" is index.html): no "..", "." or empty segments, no
 *   backslash, no symlink leading outside web_root (resolved path must stay
 *   inside), regular files only, content type from the extension,
 *   Cache-Control: no-cache (revalidate) for HTML, max-age=300 otherwise.
 *   /api/openapi.json is web_root/openapi.json (docs/openapi.yaml is
 *   generated from the routes table and the app's argument tables by
 *   tools/openapi-gen.py, then converted by tools/openapi-json.sh; both
 *   checked in sync by tests/test_http.c); /api/docs renders it with Redoc
 *   (the pinned bundle vendored from npm by tools/setup.sh into
 *   MODELS/vendor/).
 *
 *   /metrics (Prometheus text): per route requests and errors, per camera
 *   the app's counters.  Served to loopback clients only (a scraper on the
 *   van's machine), 403 JSON to anyone else.
 *
 *   Once listening, the server tells the app its URL and fingerprint
 *   (lfr_app_set_server_identity) for the pairing QR codes.
 *
 *   TLS: with config cert/cert_key the force's own certificate; otherwise
 *   the van's own certificate authority (lfr_tls_ensure): created on first
 *   start in tls_dir (default: beside the database), kept 0600, and a
 *   server certificate it signs for the listen address, localhost,
 *   127.0.0.1 and ::1 (reissued when the listen address is not among them
 *   or it expires within LFR_TLS_RENEW_DAYS).  Devices pin the CA by its
 *   SHA-256 fingerprint (in the pairing QR code).
 *
 * OWNERSHIP
 *   lfr_http_start borrows the app (which must outlive the server) and
 *   gives a server handle; lfr_http_stop closes every connection, joins
 *   every thread and frees it.  lfr_http_body_parse gives *args (new
 *   reference) and *blob (lfr_free) to the caller.
 */
#ifndef LFR_HTTP_H
#define LFR_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"

/* Routes ------------------------------------------------------------------ */
typedef enum lfr_http_body_kind {
    LFR_HTTP_BODY_NONE,        /* no body (any body sent is refused: 413) */
    LFR_HTTP_BODY_JSON,        /* application/json object; empty = {} */
    LFR_HTTP_BODY_IMAGE_JSON,  /* JSON object with "image_base64" -> blob */
    LFR_HTTP_BODY_IMAGE        /* image/jpeg or image/png -> blob */
} lfr_http_body_kind;

typedef enum lfr_http_handler {
    LFR_HTTP_H_OP,             /* an operation of the app's table */
    LFR_HTTP_H_EVENTS,         /* Server-Sent Events */
    LFR_HTTP_H_SPEC,           /* the OpenAPI document */
    LFR_HTTP_H_DOCS,           /* the rendered documentation page */
    LFR_HTTP_H_DOCS_JS,        /* the vendored renderer */
    LFR_HTTP_H_QR_JS,          /* the vendored QR decoder of the officers' app */
    LFR_HTTP_H_METRICS         /* Prometheus text */
} lfr_http_handler;

typedef struct lfr_http_route {
    const char *method;        /* "GET", "POST", "DELETE" */
    const char *pattern;       /* "/api/alerts/{id}/image": {name} is an argument */
    lfr_http_handler handler;
    lfr_op op;                 /* with LFR_HTTP_H_OP */
    lfr_http_body_kind body;
    size_t max_body;           /* bytes; 0 with LFR_HTTP_BODY_NONE */
} lfr_http_route;

/* The table: *n routes. */
const lfr_http_route *lfr_http_routes(size_t *n);

typedef struct lfr_http_params {
    size_t n;
    char name[LFR_HTTP_MAX_PATH_PARAMS][32];
    int64_t value[LFR_HTTP_MAX_PATH_PARAMS];
} lfr_http_params;

/* The route for method and path (path without query), its parameters in
 * *params.  NULL when none; then *path_known = 1 if the path matched with
 * another method.  A parameter that is not a positive decimal integer
 * does not match. */
const lfr_http_route *lfr_http_route_match(const char *method, const char *path,
                                           lfr_http_params *params, int *path_known);

/* Request bodies (the fuzz target: fuzz/fuzz_http_body.c) ----------------
 * Checks the Content-Type (NULL = none) against the kind and parses:
 *   JSON: an object (empty body = {}), nesting at most
 *     LFR_HTTP_MAX_JSON_DEPTH, no NUL bytes in strings; *args new.
 *   IMAGE_JSON: the same, and "image_base64" (standard base64, required)
 *     decoded into *blob (lfr_free) and removed from *args.
 *   IMAGE: image/jpeg or image/png whose first bytes agree; *args = {},
 *     *blob = NULL: the body itself is the image.
 *   NONE: an empty body; *args = {}.
 * Errors: LFR_ERR_UNSUPPORTED (415: content type), LFR_ERR_INVALID_ARG
 * (400: malformed JSON, not an object, bad base64), LFR_ERR_TOO_LARGE
 * (413: too deep, or a body where none is taken); nothing is allocated. */
lfr_status lfr_http_body_parse(lfr_http_body_kind kind, const char *content_type,
                               const uint8_t *body, size_t len, json_t **args, uint8_t **blob,
                               size_t *blob_len, lfr_err *err);

/* TLS ------------------------------------------------------------------------ */
typedef struct lfr_tls_files {
    char ca_cert[LFR_MAX_CONFIG_VALUE];     /* DIR/ca.pem */
    char ca_key[LFR_MAX_CONFIG_VALUE];      /* DIR/ca.key (0600) */
    char cert[LFR_MAX_CONFIG_VALUE];        /* DIR/server.pem: server + CA */
    char key[LFR_MAX_CONFIG_VALUE];         /* DIR/server.key (0600) */
    char ca_fingerprint[112];               /* "SHA256:AB:CD:..." (32 bytes) */
    int created_ca;                         /* 1: the CA was made now */
    int issued_cert;                        /* 1: the certificate was issued now */
} lfr_tls_files;

/* Makes sure DIR holds the van's CA and a valid server certificate for
 * `listen_addr` (an IP address or a host name), creating what is missing
 * (DIR too, 0700).  An existing CA is never replaced (devices pinned it);
 * a CA key file that is readable by others is refused
 * (LFR_ERR_PERMISSION). */
lfr_status lfr_tls_ensure(const char *dir, const char *listen_addr, lfr_tls_files *out,
                          lfr_err *err);
/* "SHA256:AB:..." of the first certificate of a PEM file. */
lfr_status lfr_tls_fingerprint(const char *pem_path, char *out, size_t cap, lfr_err *err);

/* The server ------------------------------------------------------------------ */
typedef struct lfr_http lfr_http;

typedef struct lfr_http_options {
    int port;                  /* -1: the config's port; 0: any free port (tests) */
    const char *vendor_dir;    /* the Redoc bundle's folder; NULL: MODELS/vendor */
} lfr_http_options;

/* Starts serving (TLS material as above; prints nothing). */
lfr_status lfr_http_start(lfr_app *app, const lfr_http_options *o, lfr_http **out,
                          lfr_err *err);
uint16_t lfr_http_port(const lfr_http *h);
/* SHA-256 fingerprint of the CA (own CA) or of the certificate (--cert). */
const char *lfr_http_fingerprint(const lfr_http *h);
/* Streams open now. */
int lfr_http_streams(const lfr_http *h);
void lfr_http_stop(lfr_http *h);

#endif
