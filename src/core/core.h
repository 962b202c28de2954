/*
 * core.h - the bottom layer every other openlfr module stands on.
 *
 * OVERVIEW
 *   - lfr_status: the one status enum of the project.  Every fallible
 *     function returns it; lfr_status_str() gives its name and
 *     lfr_status_message() a sentence for people.  Numbers are never reused.
 *   - Allocation: lfr_malloc/lfr_calloc/lfr_realloc/lfr_free wrap the C
 *     allocator so that tests can make the Nth allocation fail
 *     (lfr_alloc_fail_after) and prove every error path frees what it took.
 *   - Logging: lfr_log(level, fmt, ...) to stderr, level set once at start.
 *   - Time: lfr_now_ns() monotonic, for benchmarks and latencies.
 *   - Files: lfr_read_file() reads a whole file with a size cap.
 *
 * OWNERSHIP
 *   Memory from lfr_malloc & co. is released with lfr_free.  lfr_read_file
 *   hands the caller a buffer it must lfr_free.
 *
 * Limits live in limits.h, one place for all of them.
 */
#ifndef LFR_CORE_H
#define LFR_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#include "limits.h"

/* X-macro: name, HTTP status, message.  Append only; never renumber. */
#define LFR_STATUS_LIST(X)                                                     \
    X(OK, 200, "success")                                                      \
    X(ERR_NOMEM, 503, "out of memory")                                         \
    X(ERR_IO, 500, "input/output error")                                       \
    X(ERR_NOT_FOUND, 404, "not found")                                         \
    X(ERR_INVALID_ARG, 400, "invalid argument")                                \
    X(ERR_TOO_LARGE, 413, "input exceeds a limit")                             \
    X(ERR_CORRUPT, 422, "input is corrupt or truncated")                       \
    X(ERR_UNSUPPORTED, 415, "unsupported format or feature")                   \
    X(ERR_BAD_MODEL, 500, "model file is invalid")                             \
    X(ERR_INTEGRITY, 500, "integrity check failed")                            \
    X(ERR_BACKEND, 500, "compute backend failed")                              \
    X(ERR_STATE, 409, "operation not allowed in the current state")            \
    X(ERR_NO_FACE, 422, "no face found")                                       \
    X(ERR_INTERNAL, 500, "internal error")                                     \
    X(ERR_PERMISSION, 403, "permission denied")                                \
    X(ERR_QUALITY, 422, "image rejected by quality control")                   \
    X(ERR_TIMEOUT, 504, "timed out")                                          \
    X(ERR_UNAUTHENTICATED, 401, "sign-in required or credentials not valid")  \
    X(ERR_RATE_LIMITED, 429, "too many requests; try again later")           \
    X(ERR_EXISTS, 409, "already exists")                                      \
    X(ERR_BUSY, 503, "resource busy; try again")

typedef enum lfr_status {
#define LFR_STATUS_ENUM(name, http, msg) LFR_##name,
    LFR_STATUS_LIST(LFR_STATUS_ENUM)
#undef LFR_STATUS_ENUM
    LFR_STATUS_COUNT
} lfr_status;

const char *lfr_status_str(lfr_status s);      /* "ERR_NOMEM" */
const char *lfr_status_message(lfr_status s);  /* "out of memory" */
int lfr_status_http(lfr_status s);             /* 503 */

/* Allocation ------------------------------------------------------------- */
void *lfr_malloc(size_t n);
void *lfr_calloc(size_t count, size_t size);
void *lfr_realloc(void *p, size_t n);
void lfr_free(void *p);
/* 64-byte aligned allocation (SIMD kernels); free with lfr_free_aligned. */
void *lfr_malloc_aligned(size_t n);
void lfr_free_aligned(void *p);
char *lfr_strdup(const char *s);

/* Fault injection for tests: after `n` more successful allocations, every
 * allocation fails until reset with n < 0.  Returns nothing; the count of
 * allocations made so far is lfr_alloc_count(). */
void lfr_alloc_fail_after(long n);
long lfr_alloc_count(void);

/* Checked size arithmetic: returns 0 and sets *out on success, -1 on
 * overflow. */
int lfr_mul_size(size_t a, size_t b, size_t *out);
int lfr_add_size(size_t a, size_t b, size_t *out);

/* Logging ---------------------------------------------------------------- */
typedef enum lfr_log_level {
    LFR_LOG_DEBUG,
    LFR_LOG_INFO,
    LFR_LOG_WARN,
    LFR_LOG_ERROR,
    LFR_LOG_SILENT
} lfr_log_level;

void lfr_log_set_level(lfr_log_level level);
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void lfr_log(lfr_log_level level, const char *fmt, ...);

/* Time ------------------------------------------------------------------- */
uint64_t lfr_now_ns(void);   /* monotonic */

/* Files ------------------------------------------------------------------ */
/* Reads the whole file at `path` into a new buffer (NUL-terminated for
 * convenience, the terminator not counted in *len).  Files over `max_bytes`
 * return LFR_ERR_TOO_LARGE without reading them.  Only regular files are
 * read: a directory, FIFO, socket or device is LFR_ERR_INVALID_ARG, found
 * without blocking (never "input/output error", never a hang); a missing
 * file is LFR_ERR_NOT_FOUND, other failures LFR_ERR_IO. */
lfr_status lfr_read_file(const char *path, size_t max_bytes, uint8_t **data,
                         size_t *len);

/* Error detail: a fixed-size buffer a call can fill with a sentence that
 * adds detail to its status (like curl's CURLOPT_ERRORBUFFER). */
#define LFR_ERRBUF_SIZE 256
typedef struct lfr_err {
    char msg[LFR_ERRBUF_SIZE];
} lfr_err;

/* lfr_read_file with a sentence in err (may be NULL) naming the path and
 * what is wrong: "x is a directory, not a file", "... is not a regular
 * file". */
lfr_status lfr_read_file_err(const char *path, size_t max_bytes, uint8_t **data,
                             size_t *len, lfr_err *err);
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
lfr_status lfr_err_set(lfr_err *e, lfr_status s, const char *fmt, ...);

/* Text (text.c) --------------------------------------------------------- */
/* Checks text a person typed (names, reasons, notes): valid UTF-8, no
 * control characters (C0 except none, DEL, C1: no ANSI escapes, no BEL),
 * not blank (at least one character that is not white space or invisible),
 * shorter than `cap` bytes.  `what` names the field in the sentence put in
 * err ("reason is blank").  LFR_ERR_INVALID_ARG / LFR_ERR_TOO_LARGE. */
lfr_status lfr_text_check(const char *s, size_t cap, const char *what, lfr_err *err);

/* The form in which people's names are compared (libunistring): Unicode
 * NFKC, case-folded, invisible characters removed (zero-width space and
 * joiners, soft hyphen, BOM, ...), every run of white space (NBSP too)
 * one ASCII space, trimmed.  "PC 1", "pc 1", "PC 1 ", "PC\u00a01", full-width
 * "ＰＣ１" all fold to "pc 1".  Refuses (LFR_ERR_INVALID_ARG) text that
 * lfr_text_check refuses and names that mix scripts (Latin with Cyrillic
 * or Greek look-alikes: "РС 1" with Cyrillic letters).  out gets at most
 * cap-1 bytes (LFR_ERR_TOO_LARGE if it does not fit). */
lfr_status lfr_name_fold(const char *s, char *out, size_t cap, lfr_err *err);

#endif
