/*
 * metrics.c - GET /metrics in the Prometheus text format (0.0.4): per
 * route requests and errors, open streams, the newest event id, and per
 * camera of the live deployments the app's counters.  Loopback only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http_int.h"

typedef struct mbuf {
    char *p;
    size_t len, cap;
    int failed;
} mbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void mb_printf(mbuf *b, const char *fmt, ...) {
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 8192;
        while (cap < b->len + (size_t)n + 1) cap *= 2;
        char *np = lfr_realloc(b->p, cap);
        if (!np) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

/* A label value: backslash, quote and newline escaped. */
static void label(const char *in, char *out, size_t cap) {
    size_t o = 0;
    for (; *in && o + 3 < cap; in++) {
        if (*in == '\\' || *in == '"') out[o++] = '\\', out[o++] = *in;
        else if (*in == '\n') out[o++] = '\\', out[o++] = 'n';
        else out[o++] = *in;
    }
    out[o] = '\0';
}

static void mb_free(void *p) { lfr_free(p); }

enum MHD_Result http_metrics(lfr_http *h, struct MHD_Connection *c) {
    if (!http_client_is_loopback(c)) {
        lfr_err err;
        lfr_err_set(&err, LFR_ERR_PERMISSION, "/metrics is served to this machine only");
        return http_send_error(c, LFR_ERR_PERMISSION, &err);
    }
    mbuf b = {0};
    mb_printf(&b, "# HELP openlfr_http_requests_total HTTP requests answered, by route.\n"
                  "# TYPE openlfr_http_requests_total counter\n");
    for (size_t i = 0; i <= h->n_routes; i++) {
        const char *m = i < h->n_routes ? h->routes[i].method : "";
        const char *p = i < h->n_routes ? h->routes[i].pattern : "other";
        mb_printf(&b, "openlfr_http_requests_total{method=\"%s\",route=\"%s\"} %llu\n", m, p,
                  (unsigned long long)atomic_load(&h->route_requests[i]));
    }
    mb_printf(&b, "# HELP openlfr_http_errors_total HTTP answers with status 400 or more, by route.\n"
                  "# TYPE openlfr_http_errors_total counter\n");
    for (size_t i = 0; i <= h->n_routes; i++) {
        const char *m = i < h->n_routes ? h->routes[i].method : "";
        const char *p = i < h->n_routes ? h->routes[i].pattern : "other";
        mb_printf(&b, "openlfr_http_errors_total{method=\"%s\",route=\"%s\"} %llu\n", m, p,
                  (unsigned long long)atomic_load(&h->route_errors[i]));
    }
    mb_printf(&b,
              "# HELP openlfr_sse_streams Live-event streams open.\n# TYPE openlfr_sse_streams gauge\n"
              "openlfr_sse_streams %d\n"
              "# HELP openlfr_events_head Id of the newest event.\n# TYPE openlfr_events_head counter\n"
              "openlfr_events_head %llu\n",
              atomic_load(&h->streams), (unsigned long long)lfr_app_events_head(h->app));
    size_t n = lfr_app_cameras(h->app, NULL, 0);
    lfr_app_camera_stats *cams = n ? lfr_calloc(n, sizeof *cams) : NULL;
    if (cams) {
        size_t m = lfr_app_cameras(h->app, cams, n);
        if (m < n) n = m;
    } else {
        n = 0;
    }
    static const char *const heads[][3] = {
        {"openlfr_camera_up", "gauge", "1 when the camera is running."},
        {"openlfr_camera_fps", "gauge", "Frames analysed per second."},
        {"openlfr_camera_frames_total", "counter", "Frames analysed."},
        {"openlfr_camera_frames_dropped_total", "counter", "Frames dropped (newest frame wins)."},
        {"openlfr_camera_faces_total", "counter", "Faces found."},
        {"openlfr_camera_alerts_total", "counter", "Alerts raised."},
        {"openlfr_camera_latency_ms", "gauge", "Frame to decision latency, median and p95."},
    };
    for (size_t k = 0; k < sizeof heads / sizeof heads[0]; k++) {
        mb_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", heads[k][0], heads[k][2], heads[k][0],
                  heads[k][1]);
        for (size_t i = 0; i < n; i++) {
            char name[LFR_MAX_ACTOR * 2];
            label(cams[i].name, name, sizeof name);
            char lab[LFR_MAX_ACTOR * 2 + 64];
            snprintf(lab, sizeof lab, "deployment=\"%lld\",camera=\"%s\"",
                     (long long)cams[i].deployment_id, name);
            const lfr_app_camera_stats *s = &cams[i];
            switch (k) {
            case 0: mb_printf(&b, "%s{%s} %d\n", heads[k][0], lab, s->state && strcmp(s->state, "running") == 0); break;
            case 1: mb_printf(&b, "%s{%s} %.3f\n", heads[k][0], lab, s->analysed_fps); break;
            case 2: mb_printf(&b, "%s{%s} %llu\n", heads[k][0], lab, (unsigned long long)s->frames); break;
            case 3: mb_printf(&b, "%s{%s} %llu\n", heads[k][0], lab, (unsigned long long)s->frames_dropped); break;
            case 4: mb_printf(&b, "%s{%s} %llu\n", heads[k][0], lab, (unsigned long long)s->faces); break;
            case 5: mb_printf(&b, "%s{%s} %llu\n", heads[k][0], lab, (unsigned long long)s->alerts); break;
            case 6:
                mb_printf(&b, "%s{%s,quantile=\"0.5\"} %.3f\n%s{%s,quantile=\"0.95\"} %.3f\n",
                          heads[k][0], lab, s->latency_p50_ms, heads[k][0], lab, s->latency_p95_ms);
                break;
            }
        }
    }
    lfr_free(cams);
    if (b.failed || !b.p) {
        lfr_free(b.p);
        return MHD_NO;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(b.len, b.p, mb_free, b.p);
    if (!r) {
        lfr_free(b.p);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    http_common_headers(r);
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}
