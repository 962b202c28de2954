/*
 * events.c - the event hub (live_int.h): numbered events in a bounded ring,
 * many readers waiting on one condition variable; and the app.h functions
 * built on it (lfr_app_publish, lfr_app_events_wait, lfr_app_events_head,
 * lfr_event_clear).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/live_int.h"

struct lfr_events {
    pthread_mutex_t mu;
    pthread_cond_t cv;         /* broadcast on every publish and on close */
    lfr_event *ring;           /* id i lives at ring[(i - 1) % cap] */
    size_t cap;
    uint64_t head;             /* newest id, 0 = none */
    int closed;
};

lfr_events *lfr_events_new(size_t cap) {
    if (!cap) cap = LFR_EVENT_HISTORY;
    lfr_events *h = lfr_calloc(1, sizeof *h);
    if (!h) return NULL;
    h->ring = lfr_calloc(cap, sizeof *h->ring);
    if (!h->ring) {
        lfr_free(h);
        return NULL;
    }
    h->cap = cap;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&h->mu, NULL);
    return h;
}

void lfr_event_clear(lfr_event *e) {
    if (!e) return;
    free(e->data);
    memset(e, 0, sizeof *e);
}

void lfr_events_free(lfr_events *h) {
    if (!h) return;
    for (size_t i = 0; i < h->cap; i++) lfr_event_clear(&h->ring[i]);
    lfr_free(h->ring);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    lfr_free(h);
}

uint64_t lfr_events_publish(lfr_events *h, const char *type, int64_t deployment_id,
                            int64_t alert_id, int64_t device_id, const char *data) {
    char *copy = strdup(data ? data : "{}");
    if (!copy) return 0;
    pthread_mutex_lock(&h->mu);
    uint64_t id = h->head + 1;
    lfr_event *e = &h->ring[(id - 1) % h->cap];
    lfr_event_clear(e);   /* the oldest leaves the history */
    e->id = id;
    snprintf(e->type, sizeof e->type, "%s", type ? type : "");
    e->deployment_id = deployment_id;
    e->alert_id = alert_id;
    e->device_id = device_id;
    e->data = copy;
    h->head = id;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return id;
}

static uint64_t oldest_locked(const lfr_events *h) {
    if (!h->head) return 0;
    return h->head > h->cap ? h->head - h->cap + 1 : 1;
}

static void deadline(struct timespec *ts, int timeout_ms) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += timeout_ms / 1000;
    ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

size_t lfr_events_wait(lfr_events *h, uint64_t after, lfr_event *out, size_t cap, int *gap,
                       int timeout_ms) {
    if (gap) *gap = 0;
    if (!cap || !out) return 0;
    struct timespec ts;
    if (timeout_ms > 0) deadline(&ts, timeout_ms);
    pthread_mutex_lock(&h->mu);
    if (after == UINT64_MAX) after = h->head;
    else if (after > h->head) { /* ids of an earlier run: start over */
        if (gap) *gap = 1;
        after = 0;
    }
    while (!h->closed && h->head <= after && timeout_ms > 0)
        if (pthread_cond_timedwait(&h->cv, &h->mu, &ts)) break;
    size_t n = 0;
    if (!h->closed && h->head > after) {
        uint64_t first = after + 1, oldest = oldest_locked(h);
        if (first < oldest) {
            if (gap) *gap = 1;
            first = oldest;
        }
        for (uint64_t id = first; id <= h->head && n < cap; id++) {
            const lfr_event *e = &h->ring[(id - 1) % h->cap];
            char *copy = strdup(e->data);
            if (!copy) break;
            out[n] = *e;
            out[n].data = copy;
            n++;
        }
    }
    pthread_mutex_unlock(&h->mu);
    return n;
}

uint64_t lfr_events_head(lfr_events *h) {
    pthread_mutex_lock(&h->mu);
    uint64_t id = h->head;
    pthread_mutex_unlock(&h->mu);
    return id;
}

uint64_t lfr_events_oldest(lfr_events *h) {
    pthread_mutex_lock(&h->mu);
    uint64_t id = oldest_locked(h);
    pthread_mutex_unlock(&h->mu);
    return id;
}

void lfr_events_close(lfr_events *h) {
    pthread_mutex_lock(&h->mu);
    h->closed = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* app.h ------------------------------------------------------------------- */

void lfr_app_publish(lfr_app *app, const char *type, int64_t deployment_id, int64_t alert_id,
                     int64_t device_id, json_t *data) {
    char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    json_decref(data);
    lfr_events *h = app ? lfr_app_events(app) : NULL;
    if (h && !lfr_events_publish(h, type, deployment_id, alert_id, device_id, text))
        lfr_log(LFR_LOG_ERROR, "events: out of memory: event %s not published", type);
    free(text);
}

size_t lfr_app_events_wait(lfr_app *app, uint64_t after, lfr_event *out, size_t cap, int *gap,
                           int timeout_ms) {
    lfr_events *h = app ? lfr_app_events(app) : NULL;
    if (!h) {
        if (gap) *gap = 0;
        return 0;
    }
    return lfr_events_wait(h, after, out, cap, gap, timeout_ms);
}

uint64_t lfr_app_events_head(lfr_app *app) {
    lfr_events *h = app ? lfr_app_events(app) : NULL;
    return h ? lfr_events_head(h) : 0;
}
