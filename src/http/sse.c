/*
 * sse.c - live events over Server-Sent Events (GET /api/events).
 *
 * DESIGN
 *   One thread per connection: the stream's content callback blocks in
 *   lfr_app_events_wait in slices of SSE_SLICE_MS (so a stopping server
 *   is not held up), formats the events this principal may see
 *   (lfr_app_event_visible) into a small buffer and hands it to MHD.  Every
 *   event carries its id, so a client's Last-Event-ID resumes exactly.
 *   Every heartbeat the token is checked again (logout, expiry, a disabled
 *   account end the stream); "device.revoked" for this stream's device
 *   is sent, then the stream ends at once.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"

#define SSE_SLICE_MS 250

typedef struct sse_stream {
    lfr_http *h;
    lfr_principal who;
    char token[LFR_MAX_ACTOR * 2];
    uint64_t after;             /* last event id handled */
    char *out;                  /* pending text */
    size_t out_len, out_pos, out_cap;
    int closing;                /* end once `out` is sent */
    uint64_t last_beat_ns;
} sse_stream;

static int out_add(sse_stream *s, const char *text, size_t n) {
    if (s->out_len + n + 1 > s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap : 4096;
        while (cap < s->out_len + n + 1) cap *= 2;
        char *nb = lfr_realloc(s->out, cap);
        if (!nb) return -1;
        s->out = nb;
        s->out_cap = cap;
    }
    memcpy(s->out + s->out_len, text, n);
    s->out_len += n;
    s->out[s->out_len] = '\0';
    return 0;
}

static int out_str(sse_stream *s, const char *t) { return out_add(s, t, strlen(t)); }

/* "id: N\nevent: T\ndata: ...\n\n"; a data text with newlines becomes one
 * data line per line (the SSE rule). */
static int out_event(sse_stream *s, const lfr_event *e) {
    char head[96];
    snprintf(head, sizeof head, "id: %llu\nevent: %.31s\n", (unsigned long long)e->id, e->type);
    if (out_str(s, head)) return -1;
    const char *d = e->data ? e->data : "{}";
    for (;;) {
        size_t n = strcspn(d, "\r\n");
        if (out_str(s, "data: ") || out_add(s, d, n) || out_str(s, "\n")) return -1;
        d += n;
        if (!*d) break;
        d += (d[0] == '\r' && d[1] == '\n') ? 2 : 1;
    }
    return out_str(s, "\n");
}

static void fill(sse_stream *s) {
    lfr_http *h = s->h;
    lfr_event ev[LFR_HTTP_SSE_BATCH];
    while (s->out_len == 0 && !s->closing) {
        if (atomic_load(&h->stopping)) {
            s->closing = 1;
            return;
        }
        int gap = 0;
        size_t n = lfr_app_events_wait(h->app, s->after, ev, LFR_HTTP_SSE_BATCH, &gap, SSE_SLICE_MS);
        if (gap) {
            char g[96];
            snprintf(g, sizeof g, "event: gap\ndata: {\"after\":%llu}\n\n", (unsigned long long)s->after);
            out_str(s, g);
        }
        for (size_t i = 0; i < n; i++) {
            lfr_event *e = &ev[i];
            if (e->id > s->after) s->after = e->id;
            int revoked = s->who.device_id > 0 && strcmp(e->type, "device.revoked") == 0 &&
                          e->device_id == s->who.device_id;
            if (!s->closing && (revoked || lfr_app_event_visible(h->app, &s->who, e))) {
                if (out_event(s, e)) s->closing = 1;
            }
            if (revoked) s->closing = 1;
            lfr_event_clear(e);
        }
        uint64_t now = lfr_now_ns();
        if (s->out_len == 0 && !s->closing &&
            now - s->last_beat_ns >= (uint64_t)h->heartbeat_ms * 1000000u) {
            s->last_beat_ns = now;
            lfr_principal again;
            lfr_err err;
            if (lfr_app_authenticate(h->app, s->token, &again, &err) != LFR_OK) {
                out_str(s, "event: session.ended\ndata: {}\n\n");
                s->closing = 1;
            } else {
                out_str(s, ": heartbeat\n\n");
            }
        }
    }
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    sse_stream *s = cls;
    if (s->out_pos == s->out_len) {
        s->out_len = s->out_pos = 0;
        if (s->closing) return MHD_CONTENT_READER_END_OF_STREAM;
        fill(s);
        if (s->out_len == 0) return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = s->out_len - s->out_pos;
    if (n > max) n = max;
    memcpy(buf, s->out + s->out_pos, n);
    s->out_pos += n;
    return (ssize_t)n;
}

static void sse_free(void *cls) {
    sse_stream *s = cls;
    atomic_fetch_sub(&s->h->streams, 1);
    sodium_memzero(s->token, sizeof s->token);
    lfr_free(s->out);
    lfr_free(s);
}

static int parse_id(const char *t, uint64_t *out) {
    if (!t || !*t) return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(t, &end, 10);
    if (errno || *end || t[0] == '-' || t[0] == '+') return -1;
    *out = v;
    return 1;
}

enum MHD_Result http_events(lfr_http *h, struct MHD_Connection *c, const lfr_principal *who,
                            const char *token) {
    lfr_err err;
    uint64_t after = 0;
    int have = parse_id(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID"), &after);
    if (have == 0)
        have = parse_id(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "last_event_id"), &after);
    if (have < 0) {
        lfr_err_set(&err, LFR_ERR_INVALID_ARG, "Last-Event-ID must be an event id (a number)");
        return http_send_error(c, LFR_ERR_INVALID_ARG, &err);
    }
    if (have == 0) after = lfr_app_events_head(h->app);
    if (atomic_fetch_add(&h->streams, 1) >= h->cfg->max_streams) {
        atomic_fetch_sub(&h->streams, 1);
        lfr_err_set(&err, LFR_ERR_BUSY, "%lld live-event streams are open, the most allowed",
                    (long long)h->cfg->max_streams);
        return http_send_error(c, LFR_ERR_BUSY, &err);
    }
    sse_stream *s = lfr_calloc(1, sizeof *s);
    if (!s) {
        atomic_fetch_sub(&h->streams, 1);
        return MHD_NO;
    }
    s->h = h;
    s->who = *who;
    snprintf(s->token, sizeof s->token, "%s", token);
    s->after = after;
    s->last_beat_ns = lfr_now_ns();
    /* a first comment line, so the client sees the stream open at once */
    out_str(s, ": openlfr events\nretry: 2000\n\n");
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, s, sse_free);
    if (!r) {
        sse_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    http_common_headers(r);
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}
