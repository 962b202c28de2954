/*
 * store_int.h - private to src/store: the table of operations a database
 * backend provides (SQLite today, store_sqlite.c; PostgreSQL later), and
 * the store handle that dispatches through it.  Nothing outside src/store
 * includes this file.
 */
#ifndef LFR_STORE_INT_H
#define LFR_STORE_INT_H

#include <sodium.h>

#include "store.h"

typedef struct lfr_store_ops {
    const char *name;
    /* Opens/creates the database and applies the missing migrations. */
    lfr_status (*open)(lfr_store *s, const char *path, int busy_ms, lfr_err *err);
    void (*close)(lfr_store *s);
    lfr_status (*exec)(lfr_store *s, const char *sql, lfr_err *err);
    lfr_status (*prepare)(lfr_store *s, const char *sql, void **st, lfr_err *err);
    lfr_status (*bind_int64)(void *st, int idx, int64_t v);
    lfr_status (*bind_double)(void *st, int idx, double v);
    lfr_status (*bind_text)(void *st, int idx, const char *v);
    lfr_status (*bind_blob)(void *st, int idx, const void *v, size_t n);
    lfr_status (*bind_null)(void *st, int idx);
    lfr_status (*step)(lfr_store *s, void *st, int *row, lfr_err *err);
    lfr_status (*reset)(void *st);
    int (*is_null)(void *st, int col);
    int64_t (*col_int64)(void *st, int col);
    double (*col_double)(void *st, int col);
    const char *(*col_text)(void *st, int col);
    const void *(*col_blob)(void *st, int col, size_t *n);
    void (*finalize)(void *st);
    int64_t (*last_id)(lfr_store *s);
    int64_t (*changes)(lfr_store *s);
    /* depth: the level being opened/closed, 1 = outermost. */
    lfr_status (*tx_begin)(lfr_store *s, int depth);
    lfr_status (*tx_commit)(lfr_store *s, int depth);
    void (*tx_rollback)(lfr_store *s, int depth);
    int (*schema_version)(lfr_store *s);
    lfr_status (*compact)(lfr_store *s, lfr_err *err);
    lfr_status (*integrity_check)(lfr_store *s, lfr_err *err);
    lfr_status (*journal_mode)(lfr_store *s, char *buf, size_t cap);
} lfr_store_ops;

struct lfr_store {
    const lfr_store_ops *ops;
    void *impl;                                  /* backend's connection */
    unsigned char key[crypto_secretbox_KEYBYTES];
    lfr_store_clock_fn now;
    void *now_ctx;
    int depth;                                   /* open transaction levels */
    long fail_after;                             /* fault injection; <0 off */
    int no_key;                                  /* opened without the key */
};

struct lfr_store_stmt {
    lfr_store *s;
    void *impl;
    /* The first failed bind since prepare/reset: step returns it instead of
     * running the statement with that parameter NULL. */
    lfr_status bind_status;
    int bind_idx;
};

extern const lfr_store_ops lfr_store_sqlite_ops;
int lfr_store_sqlite_latest(void);

#endif
