/*
 * server.c - the daemon (libmicrohttpd, TLS, one thread per connection)
 * and the router: route, token, rate, role, body limit, body, arguments,
 * lfr_app_call, answer.  The steps are listed in http.h.
 *
 * DESIGN
 *   The access handler is called once with the headers (*req_cls NULL):
 *   everything that can be decided without the body is decided then, and
 *   an error is answered at once, so a 30 MB upload by someone without the
 *   right is never read.  Then once per chunk of body (appended up to the
 *   route's limit; past it the rest is discarded and 413 answered), then a
 *   last time with no data: the call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http_int.h"

typedef struct http_req {
    const lfr_http_route *route;   /* NULL: static file */
    size_t route_idx;
    lfr_http_params params;
    lfr_principal who;
    int have_who;
    char token[LFR_MAX_ACTOR * 2];
    uint8_t *body;
    size_t len, cap, discarded;
    int too_large;
    unsigned status;               /* answered status, for the metrics */
} http_req;

/* Answers ------------------------------------------------------------------ */
void http_common_headers(struct MHD_Response *r) {
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

static void json_text_free(void *p) { free(p); }

enum MHD_Result http_send_json(struct MHD_Connection *c, unsigned status, json_t *body) {
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) return MHD_NO;
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the terminator: the body is n + 1 bytes, a line */
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback_cls(n + 1, text, json_text_free, text);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    http_common_headers(r);
    if (status == 401) MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    if (status == 429) {
        char s[16];
        snprintf(s, sizeof s, "%d", (int)(60 - time(NULL) % 60));
        MHD_add_response_header(r, "Retry-After", s);
    }
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result http_send_error(struct MHD_Connection *c, lfr_status st, const lfr_err *err) {
    return http_send_json(c, (unsigned)lfr_status_http(st), lfr_app_error_json(st, err));
}

int http_client_is_loopback(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return 0;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return 1;
        return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
    }
    return 0;
}

/* A blob (alert crop, watchlist image) is wiped when MHD is done with it. */
typedef struct http_blob {
    uint8_t *p;
    size_t n;
} http_blob;

static void blob_free(void *cls) {
    http_blob *b = cls;
    sodium_memzero(b->p, b->n);
    lfr_free(b->p);
    lfr_free(b);
}

static enum MHD_Result send_blob(struct MHD_Connection *c, lfr_app_res *res) {
    http_blob *b = lfr_malloc(sizeof *b);
    if (!b) return MHD_NO;
    b->p = res->blob;
    b->n = res->blob_len;
    res->blob = NULL;
    res->blob_len = 0;
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback_cls(b->n, b->p, blob_free, b);
    if (!r) {
        blob_free(b);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", res->blob_type ? res->blob_type : "image/jpeg");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    http_common_headers(r);
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

/* Rate limit ---------------------------------------------------------------
 * Fixed one-minute windows per key; 8 probes from the key's hash.  A full
 * neighbourhood (8 busy keys this minute) lets the request through and
 * says so in the log: better than refusing a stranger's request. */
static int rate_allow(lfr_http *h, const char *key) {
    uint8_t k[16];
    crypto_generichash(k, sizeof k, (const uint8_t *)key, strlen(key), NULL, 0);
    int64_t minute = (int64_t)time(NULL) / 60;
    uint32_t start = ((uint32_t)k[0] | (uint32_t)k[1] << 8 | (uint32_t)k[2] << 16) % LFR_HTTP_RATE_SLOTS;
    int allow = 1;
    pthread_mutex_lock(&h->rate_mu);
    http_rate_slot *free_slot = NULL, *hit = NULL;
    for (uint32_t i = 0; i < 8; i++) {
        http_rate_slot *s = &h->rate[(start + i) % LFR_HTTP_RATE_SLOTS];
        if (memcmp(s->key, k, sizeof k) == 0) {
            hit = s;
            break;
        }
        if (!free_slot && s->minute != minute) free_slot = s;
    }
    if (!hit && free_slot) {
        hit = free_slot;
        memcpy(hit->key, k, sizeof k);
        hit->minute = minute;
        hit->count = 0;
    }
    if (hit) {
        if (hit->minute != minute) hit->minute = minute, hit->count = 0;
        if (hit->count >= (uint32_t)h->cfg->requests_per_min) allow = 0;
        else hit->count++;
    } else {
        lfr_log(LFR_LOG_WARN, "http: rate table neighbourhood full; request let through");
    }
    pthread_mutex_unlock(&h->rate_mu);
    return allow;
}

static const char *client_key(struct MHD_Connection *c, char *buf, size_t cap) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char addr[INET6_ADDRSTRLEN] = "?";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, addr, sizeof addr);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, addr, sizeof addr);
    }
    snprintf(buf, cap, "ip:%s", addr);
    return buf;
}

/* Arguments ------------------------------------------------------------------ */
typedef struct query_ctx {
    json_t *args;
    int n;
    lfr_status st;
    lfr_err *err;
} query_ctx;

static enum MHD_Result query_it(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value) {
    (void)kind;
    query_ctx *q = cls;
    if (strcmp(key, "access_token") == 0 || strcmp(key, "last_event_id") == 0) return MHD_YES;
    if (++q->n > LFR_HTTP_MAX_QUERY_PARAMS) {
        q->st = lfr_err_set(q->err, LFR_ERR_TOO_LARGE, "more than %d query parameters",
                            LFR_HTTP_MAX_QUERY_PARAMS);
        return MHD_NO;
    }
    if (!value) value = "";
    if (json_object_get(q->args, key)) {
        q->st = lfr_err_set(q->err, LFR_ERR_INVALID_ARG,
                            "%.40s is given twice (query and body, or twice in the query)", key);
        return MHD_NO;
    }
    /* always text: the app takes ids as decimal text too, and a reason
     * "123" stays text */
    json_t *v = json_string(value);
    if (!v) {
        q->st = lfr_err_set(q->err, LFR_ERR_INVALID_ARG,
                            "query parameter %.40s is not valid UTF-8", key);
        return MHD_NO;
    }
    json_object_set_new(q->args, key, v);
    return MHD_YES;
}

static lfr_status merge_args(struct MHD_Connection *c, http_req *q, json_t *args, lfr_err *err) {
    query_ctx qc = {args, 0, LFR_OK, err};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_it, &qc);
    if (qc.st != LFR_OK) return qc.st;
    for (size_t i = 0; i < q->params.n; i++) {
        const char *name = q->params.name[i];
        json_t *have = json_object_get(args, name);
        char dec[24];
        snprintf(dec, sizeof dec, "%lld", (long long)q->params.value[i]);
        int same = (json_is_integer(have) && json_integer_value(have) == q->params.value[i]) ||
                   (json_is_string(have) && strcmp(json_string_value(have), dec) == 0);
        if (have && !same)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "%s in the body or query differs from the path (%lld)", name,
                               (long long)q->params.value[i]);
        json_object_set_new(args, name, json_integer(q->params.value[i]));
    }
    return LFR_OK;
}

/* Arguments that name files on the van's machine (LFR_ARG_PATH: watchlist
 * import's dir and manifest) are for its command line only: a request
 * naming one is refused here, whatever the app would say. */
static lfr_status refuse_cli_only(const lfr_http_route *r, json_t *args, lfr_err *err) {
    const lfr_op_info *op = lfr_op_get(r->op);
    for (size_t i = 0; i < op->n_args; i++)
        if (op->args[i].type == LFR_ARG_PATH && json_object_get(args, op->args[i].name))
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "%s: %s names a file on the van's machine: the command line only",
                               op->name, op->args[i].name);
    return LFR_OK;
}

/* The call ------------------------------------------------------------------- */
static enum MHD_Result run_op(lfr_http *h, struct MHD_Connection *c, http_req *q) {
    lfr_err err = {{0}};
    json_t *args = NULL;
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    lfr_status st = lfr_http_body_parse(q->route->body, ct, q->body, q->len, &args, &blob,
                                        &blob_len, &err);
    if (st == LFR_OK) st = merge_args(c, q, args, &err);
    if (st == LFR_OK) st = refuse_cli_only(q->route, args, &err);
    if (st != LFR_OK) {
        json_decref(args);
        lfr_free(blob);
        return http_send_error(c, st, &err);
    }
    lfr_app_req req;
    memset(&req, 0, sizeof req);
    req.op = q->route->op;
    req.who = q->have_who ? &q->who : NULL;
    req.args = args;
    req.token = q->token[0] ? q->token : NULL;
    if (q->route->body == LFR_HTTP_BODY_IMAGE) req.blob = q->body, req.blob_len = q->len;
    else if (blob) req.blob = blob, req.blob_len = blob_len;
    lfr_app_res res;
    memset(&res, 0, sizeof res);
    st = lfr_app_call(h->app, &req, &res, &err);
    json_decref(args);
    if (blob) {
        sodium_memzero(blob, blob_len);
        lfr_free(blob);
    }
    if (q->route->body == LFR_HTTP_BODY_IMAGE) sodium_memzero(q->body, q->len);
    if (st != LFR_OK) {
        /* a refusal with details (quality control's measurements): beside
         * "error" in the answer */
        json_t *e = lfr_app_error_json(st, &err);
        if (e && json_is_object(res.body)) json_object_update_missing(e, res.body);
        lfr_app_res_clear(&res);
        return http_send_json(c, (unsigned)lfr_status_http(st), e);
    }
    enum MHD_Result ok;
    if (res.blob) {
        ok = send_blob(c, &res);
    } else {
        json_t *body = res.body;
        res.body = NULL;
        ok = http_send_json(c, MHD_HTTP_OK, body ? body : json_object());
    }
    lfr_app_res_clear(&res);
    return ok;
}

/* The access handler ------------------------------------------------------------ */
static const char *bearer(struct MHD_Connection *c, int allow_query) {
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (a && strncasecmp(a, "Bearer ", 7) == 0) {
        a += 7;
        while (*a == ' ') a++;
        return a;
    }
    if (a) return ""; /* another scheme: not a token we know */
    if (allow_query) return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "access_token");
    return NULL;
}

/* Everything decided from the headers.  Returns 0 to go on reading the
 * body, or queues an answer and returns 1 (*ok is the MHD result). */
static int on_headers(lfr_http *h, struct MHD_Connection *c, http_req *q, const char *url,
                      const char *method, enum MHD_Result *ok) {
    lfr_err err = {{0}};
    int path_known = 0;
    q->route = lfr_http_route_match(method, url, &q->params, &path_known);
    q->route_idx = q->route ? (size_t)(q->route - h->routes) : h->n_routes;
    if (!q->route) {
        int api = strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0 ||
                  strcmp(url, "/metrics") == 0;
        if (!api && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)) {
            *ok = http_static(h, c, url);
            return 1;
        }
        if (path_known)
            lfr_err_set(&err, LFR_ERR_NOT_FOUND, "%.10s is not a method of %.200s", method, url);
        else
            lfr_err_set(&err, LFR_ERR_NOT_FOUND, "no such route: %.10s %.200s", method, url);
        *ok = http_send_error(c, LFR_ERR_NOT_FOUND, &err);
        return 1;
    }
    const lfr_http_route *r = q->route;
    switch (r->handler) {
    case LFR_HTTP_H_SPEC: *ok = http_spec(h, c); return 1;
    case LFR_HTTP_H_DOCS: *ok = http_docs(h, c); return 1;
    case LFR_HTTP_H_DOCS_JS: *ok = http_docs_js(h, c); return 1;
    case LFR_HTTP_H_QR_JS: *ok = http_qr_js(h, c); return 1;
    case LFR_HTTP_H_METRICS: *ok = http_metrics(h, c); return 1;
    case LFR_HTTP_H_OP:
    case LFR_HTTP_H_EVENTS: break;
    }
    int events = r->handler == LFR_HTTP_H_EVENTS;
    const char *tok = bearer(c, events);
    char keybuf[64 + INET6_ADDRSTRLEN];
    if (!rate_allow(h, tok && tok[0] ? tok : client_key(c, keybuf, sizeof keybuf))) {
        lfr_err_set(&err, LFR_ERR_RATE_LIMITED, "more than %lld requests in this minute",
                    (long long)h->cfg->requests_per_min);
        *ok = http_send_error(c, LFR_ERR_RATE_LIMITED, &err);
        return 1;
    }
    unsigned roles = events ? R_ANY : lfr_op_get(r->op)->roles;
    if (tok) {
        if (strlen(tok) >= sizeof q->token) {
            lfr_err_set(&err, LFR_ERR_UNAUTHENTICATED, "the bearer token is not valid");
            *ok = http_send_error(c, LFR_ERR_UNAUTHENTICATED, &err);
            return 1;
        }
        lfr_status st = lfr_app_authenticate(h->app, tok, &q->who, &err);
        if (st != LFR_OK) {
            *ok = http_send_error(c, st, &err);
            return 1;
        }
        q->have_who = 1;
        snprintf(q->token, sizeof q->token, "%s", tok);
    }
    if (roles && !q->have_who) {
        lfr_err_set(&err, LFR_ERR_UNAUTHENTICATED, "%s needs a signed-in user (Authorization: Bearer)",
                    events ? "the event stream" : lfr_op_get(r->op)->name);
        *ok = http_send_error(c, LFR_ERR_UNAUTHENTICATED, &err);
        return 1;
    }
    if (roles && !(roles & q->who.roles)) {
        lfr_err_set(&err, LFR_ERR_PERMISSION, "%s is not allowed to %s", q->who.login,
                    lfr_op_get(r->op)->name);
        *ok = http_send_error(c, LFR_ERR_PERMISSION, &err);
        return 1;
    }
    if (events) {
        *ok = http_events(h, c, &q->who, q->token);
        return 1;
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || end == cl || *end || n > r->max_body) {
            lfr_err_set(&err, LFR_ERR_TOO_LARGE,
                        "the body (Content-Length %.20s) is larger than %zu bytes, the limit of %s %s",
                        cl, r->max_body, r->method, r->pattern);
            *ok = http_send_error(c, LFR_ERR_TOO_LARGE, &err);
            return 1;
        }
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls) {
    (void)version;
    lfr_http *h = cls;
    http_req *q = *req_cls;
    if (!q) {
        q = lfr_calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        *req_cls = q;
        enum MHD_Result ok = MHD_YES;
        if (on_headers(h, c, q, url, method, &ok)) return ok;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (q->too_large || q->len + n > q->route->max_body) {
            q->too_large = 1;
            q->discarded += n;
            /* a client that keeps sending far past the limit is cut off */
            return q->discarded > LFR_HTTP_MAX_IMPORT_BODY ? MHD_NO : MHD_YES;
        }
        if (q->len + n > q->cap) {
            size_t cap = q->cap ? q->cap : 16384;
            while (cap < q->len + n) cap *= 2;
            if (cap > q->route->max_body) cap = q->route->max_body;
            uint8_t *nb = lfr_realloc(q->body, cap);
            if (!nb) return MHD_NO;
            q->body = nb;
            q->cap = cap;
        }
        memcpy(q->body + q->len, upload_data, n);
        q->len += n;
        return MHD_YES;
    }
    if (q->too_large) {
        lfr_err err;
        lfr_err_set(&err, LFR_ERR_TOO_LARGE, "the body is larger than %zu bytes, the limit of %s %s",
                    q->route->max_body, q->route->method, q->route->pattern);
        return http_send_error(c, LFR_ERR_TOO_LARGE, &err);
    }
    return run_op(h, c, q);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)toe;
    lfr_http *h = cls;
    http_req *q = *req_cls;
    if (!q) return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
    unsigned status = ci ? ci->http_status : 0;
    atomic_fetch_add(&h->route_requests[q->route_idx], 1);
    if (status >= 400 || status == 0) atomic_fetch_add(&h->route_errors[q->route_idx], 1);
    sodium_memzero(q->token, sizeof q->token);
    if (q->body) {
        sodium_memzero(q->body, q->len);
        lfr_free(q->body);
    }
    lfr_free(q);
    *req_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n') buf[--n] = '\0';
    lfr_log(LFR_LOG_DEBUG, "http: %s", buf);
}

/* Start and stop ------------------------------------------------------------------- */
static lfr_status read_text(const char *path, char **out, lfr_err *err) {
    uint8_t *d = NULL;
    size_t n = 0;
    lfr_status st = lfr_read_file(path, LFR_TLS_MAX_PEM, &d, &n);
    if (st != LFR_OK) return lfr_err_set(err, st, "cannot read %s", path);
    *out = (char *)d;
    return LFR_OK;
}

static void dir_of(const char *path, char *out, size_t cap) {
    snprintf(out, cap, "%s", path);
    char *slash = strrchr(out, '/');
    if (!slash) snprintf(out, cap, ".");
    else if (slash == out) out[1] = '\0';
    else *slash = '\0';
}

static lfr_status load_tls(lfr_http *h, lfr_err *err) {
    const lfr_config *cfg = h->cfg;
    lfr_status st;
    if (cfg->cert[0] || cfg->cert_key[0]) {
        if (!cfg->cert[0] || !cfg->cert_key[0])
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "cert and cert_key go together (one of them is empty)");
        if ((st = read_text(cfg->cert, &h->cert_pem, err)) != LFR_OK) return st;
        if ((st = read_text(cfg->cert_key, &h->key_pem, err)) != LFR_OK) return st;
        return lfr_tls_fingerprint(cfg->cert, h->fingerprint, sizeof h->fingerprint, err);
    }
    char dir[LFR_MAX_CONFIG_VALUE];
    if (cfg->tls_dir[0]) snprintf(dir, sizeof dir, "%s", cfg->tls_dir);
    else {
        char dbdir[LFR_MAX_CONFIG_VALUE];
        dir_of(cfg->db, dbdir, sizeof dbdir);
        if ((size_t)snprintf(dir, sizeof dir, "%s/tls", dbdir) >= sizeof dir)
            return lfr_err_set(err, LFR_ERR_TOO_LARGE, "db path too long for tls_dir");
    }
    lfr_tls_files f;
    if ((st = lfr_tls_ensure(dir, cfg->listen, &f, err)) != LFR_OK) return st;
    snprintf(h->fingerprint, sizeof h->fingerprint, "%s", f.ca_fingerprint);
    if ((st = read_text(f.cert, &h->cert_pem, err)) != LFR_OK) return st;
    return read_text(f.key, &h->key_pem, err);
}

static lfr_status resolve_listen(const char *addr, int port, struct sockaddr_storage *ss,
                                 lfr_err *err) {
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char ps[8];
    snprintf(ps, sizeof ps, "%d", port);
    int rc = getaddrinfo(addr[0] ? addr : NULL, ps, &hints, &ai);
    if (rc != 0 || !ai)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "listen address '%.100s' is not usable: %s",
                           addr, gai_strerror(rc));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    return LFR_OK;
}

lfr_status lfr_http_start(lfr_app *app, const lfr_http_options *o, lfr_http **out,
                          lfr_err *err) {
    *out = NULL;
    if (sodium_init() < 0) return lfr_err_set(err, LFR_ERR_INTERNAL, "libsodium did not start");
    lfr_http *h = lfr_calloc(1, sizeof *h);
    if (!h) return lfr_err_set(err, LFR_ERR_NOMEM, "no memory for the server");
    h->app = app;
    h->cfg = lfr_app_config(app);
    h->routes = lfr_http_routes(&h->n_routes);
    pthread_mutex_init(&h->rate_mu, NULL);
    h->route_requests = lfr_calloc(h->n_routes + 1, sizeof *h->route_requests);
    h->route_errors = lfr_calloc(h->n_routes + 1, sizeof *h->route_errors);
    h->rate = lfr_calloc(LFR_HTTP_RATE_SLOTS, sizeof *h->rate);
    lfr_status st = LFR_OK;
    if (!h->route_requests || !h->route_errors || !h->rate) {
        st = lfr_err_set(err, LFR_ERR_NOMEM, "no memory for the server's tables");
        goto fail;
    }
    int hb = LFR_HTTP_SSE_HEARTBEAT_S * 1000;
    if (h->cfg->client_timeout_s * 500 < hb) hb = (int)h->cfg->client_timeout_s * 500;
    h->heartbeat_ms = hb;
    if (!realpath(h->cfg->web_root, h->web_root)) {
        lfr_log(LFR_LOG_WARN, "http: web_root %s: %s (static files will be 404)",
                h->cfg->web_root, strerror(errno));
        h->web_root[0] = '\0';
    }
    if (o && o->vendor_dir) snprintf(h->vendor_dir, sizeof h->vendor_dir, "%s", o->vendor_dir);
    else snprintf(h->vendor_dir, sizeof h->vendor_dir, "%s/vendor", h->cfg->models);
    if ((st = load_tls(h, err)) != LFR_OK) goto fail;
    int port = (o && o->port >= 0) ? o->port : (int)h->cfg->port;
    struct sockaddr_storage ss;
    if ((st = resolve_listen(h->cfg->listen, port, &ss, err)) != LFR_OK) goto fail;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_TLS | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_HTTPS_MEM_CERT, h->cert_pem,
        MHD_OPTION_HTTPS_MEM_KEY, h->key_pem,
        MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h->cfg->client_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(h->cfg->max_streams + LFR_HTTP_EXTRA_CONNECTIONS),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_END);
    if (!h->daemon) {
        st = lfr_err_set(err, LFR_ERR_IO,
                         "cannot serve HTTPS on %.100s port %d (address in use, or not this "
                         "machine's?)",
                         h->cfg->listen, port);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : (uint16_t)port;
    char url[LFR_MAX_CONFIG_VALUE + 32];
    snprintf(url, sizeof url, strchr(h->cfg->listen, ':') ? "https://[%s]:%u" : "https://%s:%u",
             h->cfg->listen, (unsigned)h->port);
    if ((st = lfr_app_set_server_identity(app, url, h->fingerprint, err)) != LFR_OK) goto fail;
    *out = h;
    return LFR_OK;
fail:
    lfr_http_stop(h);
    return st;
}

uint16_t lfr_http_port(const lfr_http *h) { return h->port; }
const char *lfr_http_fingerprint(const lfr_http *h) { return h->fingerprint; }
int lfr_http_streams(const lfr_http *h) { return atomic_load(&((lfr_http *)h)->streams); }

void lfr_http_stop(lfr_http *h) {
    if (!h) return;
    atomic_store(&h->stopping, 1);
    if (h->daemon) MHD_stop_daemon(h->daemon);
    if (h->key_pem) {
        sodium_memzero(h->key_pem, strlen(h->key_pem));
        lfr_free(h->key_pem);
    }
    lfr_free(h->cert_pem);
    lfr_free(h->route_requests);
    lfr_free(h->route_errors);
    lfr_free(h->rate);
    pthread_mutex_destroy(&h->rate_mu);
    lfr_free(h);
}
