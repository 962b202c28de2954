/*
 * core.c - status table, allocation with fault injection, logging, time,
 * whole-file reading.  See core.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct {
    const char *name;
    const char *msg;
    int http;
} status_table[LFR_STATUS_COUNT] = {
#define LFR_STATUS_ROW(n, h, m) [LFR_##n] = {#n, m, h},
    LFR_STATUS_LIST(LFR_STATUS_ROW)
#undef LFR_STATUS_ROW
};

const char *lfr_status_str(lfr_status s) {
    if ((unsigned)s >= LFR_STATUS_COUNT) return "ERR_UNKNOWN";
    return status_table[s].name;
}

const char *lfr_status_message(lfr_status s) {
    if ((unsigned)s >= LFR_STATUS_COUNT) return "unknown status";
    return status_table[s].msg;
}

int lfr_status_http(lfr_status s) {
    if ((unsigned)s >= LFR_STATUS_COUNT) return 500;
    return status_table[s].http;
}

/* Allocation ------------------------------------------------------------- */
static _Atomic long fail_after = -1;
static _Atomic long alloc_count = 0;

static int alloc_should_fail(void) {
    atomic_fetch_add(&alloc_count, 1);
    long n = atomic_load(&fail_after);
    if (n < 0) return 0;
    if (n == 0) return 1;
    atomic_fetch_sub(&fail_after, 1);
    return 0;
}

void lfr_alloc_fail_after(long n) { atomic_store(&fail_after, n); }
long lfr_alloc_count(void) { return atomic_load(&alloc_count); }

void *lfr_malloc(size_t n) {
    if (alloc_should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *lfr_calloc(size_t count, size_t size) {
    if (alloc_should_fail()) return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *lfr_realloc(void *p, size_t n) {
    if (alloc_should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

void lfr_free(void *p) { free(p); }

void *lfr_malloc_aligned(size_t n) {
    if (alloc_should_fail()) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64) != 0) return NULL;
    return p;
}

void lfr_free_aligned(void *p) { free(p); }

char *lfr_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = lfr_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int lfr_mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

int lfr_add_size(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return -1;
    *out = a + b;
    return 0;
}

/* Logging ---------------------------------------------------------------- */
static _Atomic int log_level = LFR_LOG_INFO;

void lfr_log_set_level(lfr_log_level level) { atomic_store(&log_level, (int)level); }

void lfr_log(lfr_log_level level, const char *fmt, ...) {
    static const char *names[] = {"debug", "info", "warn", "error", "silent"};
    if ((int)level < atomic_load(&log_level)) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "openlfr %s: %s\n", names[level], line);
}

/* Time ------------------------------------------------------------------- */
uint64_t lfr_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Files ------------------------------------------------------------------ */
/* Opened with O_NONBLOCK so that a FIFO (or a device) named by mistake
 * cannot block the open waiting for a writer; fstat then refuses anything
 * that is not a regular file before a byte is read. */
lfr_status lfr_read_file_err(const char *path, size_t max_bytes, uint8_t **data,
                             size_t *len, lfr_err *err) {
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        return lfr_err_set(err, e == ENOENT ? LFR_ERR_NOT_FOUND : LFR_ERR_IO, "%s: %s", path,
                           strerror(e));
    }
    struct stat st;
    lfr_status s = LFR_OK;
    if (fstat(fd, &st) != 0)
        s = lfr_err_set(err, LFR_ERR_IO, "%s: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        s = lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s is a directory, not a file", path);
    else if (!S_ISREG(st.st_mode))
        s = lfr_err_set(err, LFR_ERR_INVALID_ARG,
                        "%s is not a regular file (a FIFO, socket or device)", path);
    else if ((uint64_t)st.st_size > max_bytes)
        s = lfr_err_set(err, LFR_ERR_TOO_LARGE, "%s is %lld bytes, over the limit of %zu", path,
                        (long long)st.st_size, max_bytes);
    if (s != LFR_OK) {
        close(fd);
        return s;
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *buf = lfr_malloc(n + 1);
    if (!buf) {
        close(fd);
        return lfr_err_set(err, LFR_ERR_NOMEM, "%s: no memory for %zu bytes", path, n);
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            s = lfr_err_set(err, LFR_ERR_IO, "%s: %s", path,
                            r < 0 ? strerror(errno) : "file shrank while being read");
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    if (s != LFR_OK) {
        lfr_free(buf);
        return s;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return LFR_OK;
}

lfr_status lfr_read_file(const char *path, size_t max_bytes, uint8_t **data,
                         size_t *len) {
    return lfr_read_file_err(path, max_bytes, data, len, NULL);
}

lfr_status lfr_err_set(lfr_err *e, lfr_status s, const char *fmt, ...) {
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return s;
}
