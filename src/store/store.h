/*
 * store.h - the installation's database: one file, versioned schema,
 * transactions, and encryption at rest for everything biometric.
 *
 * OVERVIEW
 *   One lfr_store is one open database (SQLite by default: one file per
 *   installation, WAL mode, foreign keys on, secure_delete on, incremental
 *   auto-vacuum, busy timeout LFR_STORE_BUSY_TIMEOUT_MS).  The schema is a
 *   table of migration steps (store_sqlite.c); PRAGMA user_version holds the
 *   number of steps applied, and lfr_store_open applies the missing ones,
 *   each in its own transaction.
 *
 *   Backend-neutral: no SQLite type appears here.  Callers (audit, deploy)
 *   speak SQL through the small statement interface below (prepare, bind,
 *   step, column), which dispatches through a table of operations
 *   (lfr_store_ops in store_int.h), so a PostgreSQL backend can follow.  SQL
 *   text uses `?` placeholders and the common subset of SQL.
 *
 *   Transactions: lfr_store_tx_begin/commit/rollback nest.  The outermost
 *   begin takes the write lock (BEGIN IMMEDIATE), inner ones are savepoints;
 *   every multi-step change runs inside ONE transaction, and the audit
 *   record of a change is written inside the transaction of the change.
 *
 *   Encryption at rest: lfr_store_seal/lfr_store_unseal encrypt a blob with
 *   libsodium crypto_secretbox_easy (XSalsa20-Poly1305), a fresh random
 *   nonce per blob stored in front of it: blob = 0x01 | nonce(24) | box.
 *   The key is never in the database: either a key file (32 raw bytes,
 *   created 0600 on first use with crypto_secretbox_keygen; a key file that
 *   group or others can access, or owned by another user, is refused with
 *   LFR_ERR_PERMISSION) or a passphrase stretched with crypto_pwhash
 *   (argon2id, salt in "<db>.salt" beside the database, created 0600).
 *   Key and salt files are created only with a new database: for an
 *   existing one (a file with content) a missing key or salt file is
 *   LFR_ERR_NOT_FOUND and nothing is created.
 *
 *   Clock: every time the store records comes from cfg.now (seconds since
 *   the Unix epoch, UTC), so tests run on a fake clock.
 *
 * OWNERSHIP
 *   lfr_store_open gives a handle; lfr_store_close releases it (and wipes
 *   the key).  A statement from lfr_store_stmt_prepare belongs to the caller
 *   until lfr_store_stmt_finalize.  Text and blob columns point into the
 *   statement and are valid until the next step or finalize.  Buffers from
 *   lfr_store_seal/unseal are the caller's, released with lfr_free
 *   (unsealed plaintext: wipe with sodium_memzero first if sensitive).
 *   A store is used by one thread at a time.
 *
 * EXAMPLE
 *   lfr_store_config cfg = {.db_path = "openlfr.db"};
 *   lfr_store *s; lfr_err err = {{0}};
 *   if (lfr_store_open(&cfg, &s, &err) != LFR_OK) ...;
 *   lfr_store_tx_begin(s); ...; lfr_store_tx_commit(s);
 *   lfr_store_close(s);
 */
#ifndef LFR_STORE_H
#define LFR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

typedef struct lfr_store lfr_store;
typedef struct lfr_store_stmt lfr_store_stmt;

/* Seconds since the Unix epoch, UTC. */
typedef int64_t (*lfr_store_clock_fn)(void *ctx);

typedef struct lfr_store_config {
    const char *db_path;      /* database file (created if missing) */
    const char *key_path;     /* key file; NULL: "openlfr.key" beside db_path */
    const char *passphrase;   /* non-NULL: derive the key (argon2id) instead
                                 of using a key file; salt in "<db>.salt" */
    lfr_store_clock_fn now;   /* NULL: time(NULL) */
    void *now_ctx;
    int busy_timeout_ms;      /* 0: LFR_STORE_BUSY_TIMEOUT_MS */
    int no_key;               /* 1: open an EXISTING database without its key
                                 (auditors verifying the log): nothing sealed
                                 can be read or written (seal/unseal are
                                 LFR_ERR_PERMISSION) */
} lfr_store_config;

lfr_status lfr_store_open(const lfr_store_config *cfg, lfr_store **out, lfr_err *err);
void lfr_store_close(lfr_store *s);

/* Reads exactly `len` bytes of a private file (key files), creating it
 * (0600, O_EXCL, contents from `make`) when it does not exist and
 * may_create.  Refuses (LFR_ERR_PERMISSION) a file group or others can
 * access, a symbolic link, a non-regular file or another user's;
 * LFR_ERR_CORRUPT for a wrong size; LFR_ERR_NOT_FOUND when missing and not
 * may_create.  `what` names the file in messages. */
lfr_status lfr_store_private_file(const char *path, unsigned char *buf, size_t len,
                                  void (*make)(unsigned char *, size_t), const char *what,
                                  int may_create, lfr_err *err);

/* Current time from the store's clock. */
int64_t lfr_store_now(lfr_store *s);

/* Schema steps applied (PRAGMA user_version) and steps known to this build. */
int lfr_store_schema_version(lfr_store *s);
int lfr_store_schema_latest(void);

/* Transactions (nesting; see OVERVIEW).  Rollback of the outermost level
 * undoes everything since its begin. */
lfr_status lfr_store_tx_begin(lfr_store *s);
lfr_status lfr_store_tx_commit(lfr_store *s);
void lfr_store_tx_rollback(lfr_store *s);
int lfr_store_tx_depth(lfr_store *s);

/* Runs statements without parameters or results (DDL, PRAGMA). */
lfr_status lfr_store_exec(lfr_store *s, const char *sql, lfr_err *err);

/* Statements ------------------------------------------------------------- */
lfr_status lfr_store_stmt_prepare(lfr_store *s, const char *sql, lfr_store_stmt **out,
                                  lfr_err *err);
/* Parameters are numbered from 1.  bind_text(NULL) binds SQL NULL; so does
 * bind_blob(NULL, 0).  Text and blobs are copied.  A bind that fails is
 * also recorded in the statement: the next lfr_store_stmt_step returns that
 * status (with a sentence naming the parameter) without running it, so a
 * caller that ignores a bind's result can never store NULL in its place.
 * lfr_store_stmt_reset clears it. */
lfr_status lfr_store_stmt_bind_int64(lfr_store_stmt *st, int idx, int64_t v);
lfr_status lfr_store_stmt_bind_double(lfr_store_stmt *st, int idx, double v);
lfr_status lfr_store_stmt_bind_text(lfr_store_stmt *st, int idx, const char *v);
lfr_status lfr_store_stmt_bind_blob(lfr_store_stmt *st, int idx, const void *v, size_t n);
lfr_status lfr_store_stmt_bind_null(lfr_store_stmt *st, int idx);
/* One step: *row = 1 when a result row is available, 0 when done. */
lfr_status lfr_store_stmt_step(lfr_store_stmt *st, int *row, lfr_err *err);
lfr_status lfr_store_stmt_reset(lfr_store_stmt *st);
int lfr_store_stmt_is_null(lfr_store_stmt *st, int col);       /* from 0 */
int64_t lfr_store_stmt_int64(lfr_store_stmt *st, int col);
double lfr_store_stmt_double(lfr_store_stmt *st, int col);
const char *lfr_store_stmt_text(lfr_store_stmt *st, int col);  /* "" for NULL */
const void *lfr_store_stmt_blob(lfr_store_stmt *st, int col, size_t *n);
void lfr_store_stmt_finalize(lfr_store_stmt *st);

/* Row id of the last INSERT and rows changed by the last statement. */
int64_t lfr_store_last_id(lfr_store *s);
int64_t lfr_store_changes(lfr_store *s);

/* Convenience: first column of the first row of `sql` with one optional
 * int64 parameter (pass has_param = 0 for none); *v = dflt if no row. */
lfr_status lfr_store_query_int64(lfr_store *s, const char *sql, int has_param,
                                 int64_t param, int64_t dflt, int64_t *v, lfr_err *err);

/* Encryption at rest ----------------------------------------------------- */
#define LFR_STORE_SEAL_OVERHEAD (1 + 24 + 16)
lfr_status lfr_store_seal(lfr_store *s, const void *plain, size_t len, uint8_t **blob,
                          size_t *blob_len);
/* LFR_ERR_INTEGRITY when the blob was altered or sealed with another key. */
lfr_status lfr_store_unseal(lfr_store *s, const void *blob, size_t blob_len, uint8_t **plain,
                            size_t *len);

/* Settings (per installation, in the database) --------------------------- */
lfr_status lfr_store_setting_get_int(lfr_store *s, const char *key, int64_t dflt, int64_t *v);
lfr_status lfr_store_setting_set_int(lfr_store *s, const char *key, int64_t v);

/* Maintenance ------------------------------------------------------------ */
/* After deletions: frees deleted pages (incremental vacuum; secure_delete
 * has already overwritten them) and checkpoints the WAL with TRUNCATE so no
 * old page image survives in the -wal file.  Outside any transaction. */
lfr_status lfr_store_compact(lfr_store *s, lfr_err *err);
/* PRAGMA integrity_check and foreign_key_check; LFR_ERR_CORRUPT with the
 * first problem in err. */
lfr_status lfr_store_integrity_check(lfr_store *s, lfr_err *err);
/* Journal mode in use ("wal"), for tests and `openlfr` diagnostics. */
lfr_status lfr_store_journal_mode(lfr_store *s, char *buf, size_t cap);

/* Fault injection for tests: after `n` more successful statement steps,
 * every step fails with LFR_ERR_IO until reset with n < 0. */
void lfr_store_fail_after(lfr_store *s, long n);

#endif
