/*
 * store.c - the backend-neutral half of the store: opening (key file or
 * passphrase, clock), transactions with nesting, statement dispatch with
 * fault injection, sealing blobs, settings.  See store.h; the SQLite
 * backend is store_sqlite.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEYCHECK_PLAIN "openlfr key check v1"

static int64_t default_clock(void *ctx) {
    (void)ctx;
    return (int64_t)time(NULL);
}

/* Reads exactly `len` bytes of a private file, creating it (0600, contents
 * from `make`) if it does not exist and `may_create` (a new database).
 * Refuses files others can access. */
lfr_status lfr_store_private_file(const char *path, unsigned char *buf, size_t len,
                                  void (*make)(unsigned char *, size_t), const char *what,
                                  int may_create, lfr_err *err) {
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && !may_create)
        return lfr_err_set(err, LFR_ERR_NOT_FOUND,
                           "%s %s is missing, and the database already exists: its data "
                           "cannot be read without it (restore the %s; nothing was created)",
                           what, path, what);
    if (fd < 0 && errno == ENOENT) {
        int wfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (wfd >= 0) {
            make(buf, len);
            ssize_t w = write(wfd, buf, len);
            int bad = (w != (ssize_t)len) || fsync(wfd) != 0;
            close(wfd);
            sodium_memzero(buf, len);
            if (bad) {
                unlink(path);
                return lfr_err_set(err, LFR_ERR_IO, "cannot write %s %s", what, path);
            }
            lfr_log(LFR_LOG_INFO, "created %s %s (mode 0600)", what, path);
        } else if (errno != EEXIST) {
            return lfr_err_set(err, LFR_ERR_IO, "cannot create %s %s: %s", what, path,
                               strerror(errno));
        }
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        return lfr_err_set(err, errno == ELOOP ? LFR_ERR_PERMISSION : LFR_ERR_IO,
                           "cannot open %s %s: %s", what, path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return lfr_err_set(err, LFR_ERR_PERMISSION, "%s %s is not a regular file", what, path);
    }
    if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        return lfr_err_set(err, LFR_ERR_PERMISSION,
                           "%s %s has mode %04o: group/other may access it; refusing to "
                           "use it (chmod 600 %s)",
                           what, path, (unsigned)(sb.st_mode & 07777), path);
    }
    if (sb.st_uid != geteuid()) {
        close(fd);
        return lfr_err_set(err, LFR_ERR_PERMISSION, "%s %s belongs to another user (uid %u)",
                           what, path, (unsigned)sb.st_uid);
    }
    if ((size_t)sb.st_size != len) {
        close(fd);
        return lfr_err_set(err, LFR_ERR_CORRUPT, "%s %s has %lld bytes, expected %zu", what,
                           path, (long long)sb.st_size, len);
    }
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != len) return lfr_err_set(err, LFR_ERR_IO, "cannot read %s %s", what, path);
    return LFR_OK;
}

static void make_key(unsigned char *b, size_t n) {
    (void)n;
    crypto_secretbox_keygen(b);
}

static void make_salt(unsigned char *b, size_t n) { randombytes_buf(b, n); }

/* A database file with content exists: its key must exist too. */
static int db_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && sb.st_size > 0;
}

static lfr_status load_key(lfr_store *s, const lfr_store_config *cfg, lfr_err *err) {
    char path[4096];
    int may_create = !db_exists(cfg->db_path);
    if (cfg->passphrase) {
        unsigned char salt[crypto_pwhash_SALTBYTES];
        if (snprintf(path, sizeof path, "%s.salt", cfg->db_path) >= (int)sizeof path)
            return lfr_err_set(err, LFR_ERR_TOO_LARGE, "database path too long");
        lfr_status st = lfr_store_private_file(path, salt, sizeof salt, make_salt, "salt file", may_create,
                                     err);
        if (st != LFR_OK) return st;
        if (crypto_pwhash(s->key, sizeof s->key, cfg->passphrase, strlen(cfg->passphrase), salt,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE,
                          crypto_pwhash_ALG_ARGON2ID13) != 0)
            return lfr_err_set(err, LFR_ERR_NOMEM, "argon2id key derivation ran out of memory");
        return LFR_OK;
    }
    if (cfg->key_path) {
        if (snprintf(path, sizeof path, "%s", cfg->key_path) >= (int)sizeof path)
            return lfr_err_set(err, LFR_ERR_TOO_LARGE, "key path too long");
    } else {
        const char *slash = strrchr(cfg->db_path, '/');
        int dlen = slash ? (int)(slash - cfg->db_path) : 0;
        int n = slash ? snprintf(path, sizeof path, "%.*s/openlfr.key", dlen, cfg->db_path)
                      : snprintf(path, sizeof path, "openlfr.key");
        if (n >= (int)sizeof path) return lfr_err_set(err, LFR_ERR_TOO_LARGE, "path too long");
    }
    return lfr_store_private_file(path, s->key, sizeof s->key, make_key, "key file", may_create, err);
}

/* The first open seals a known text; later opens must unseal it, so a wrong
 * key or passphrase is refused at once rather than at the first image. */
static lfr_status check_key(lfr_store *s, lfr_err *err) {
    lfr_store_stmt *st;
    lfr_status rc = lfr_store_stmt_prepare(s, "SELECT value FROM settings WHERE key='key.check'",
                                           &st, err);
    if (rc != LFR_OK) return rc;
    int row = 0;
    rc = lfr_store_stmt_step(st, &row, err);
    if (rc == LFR_OK && row) {
        size_t n = 0;
        const void *b = lfr_store_stmt_blob(st, 0, &n);
        uint8_t *plain = NULL;
        size_t plen = 0;
        rc = lfr_store_unseal(s, b, n, &plain, &plen);
        if (rc == LFR_OK && (plen != strlen(KEYCHECK_PLAIN) || memcmp(plain, KEYCHECK_PLAIN, plen)))
            rc = LFR_ERR_INTEGRITY;
        lfr_free(plain);
        lfr_store_stmt_finalize(st);
        if (rc == LFR_ERR_INTEGRITY)
            return lfr_err_set(err, LFR_ERR_PERMISSION,
                               "the key (file or passphrase) does not match this database");
        return rc;
    }
    lfr_store_stmt_finalize(st);
    if (rc != LFR_OK) return rc;
    uint8_t *blob = NULL;
    size_t blen = 0;
    rc = lfr_store_seal(s, KEYCHECK_PLAIN, strlen(KEYCHECK_PLAIN), &blob, &blen);
    if (rc != LFR_OK) return rc;
    rc = lfr_store_stmt_prepare(s, "INSERT INTO settings(key, value) VALUES('key.check', ?)",
                                &st, err);
    if (rc == LFR_OK) {
        rc = lfr_store_stmt_bind_blob(st, 1, blob, blen);
        if (rc == LFR_OK) rc = lfr_store_stmt_step(st, &row, err);
        lfr_store_stmt_finalize(st);
    }
    lfr_free(blob);
    return rc;
}

lfr_status lfr_store_open(const lfr_store_config *cfg, lfr_store **out, lfr_err *err) {
    *out = NULL;
    if (!cfg || !cfg->db_path || !cfg->db_path[0])
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "no database path");
    if (sodium_init() < 0) return lfr_err_set(err, LFR_ERR_INTERNAL, "libsodium init failed");
    lfr_store *s = lfr_calloc(1, sizeof *s);
    if (!s) return LFR_ERR_NOMEM;
    s->ops = &lfr_store_sqlite_ops;
    s->now = cfg->now ? cfg->now : default_clock;
    s->now_ctx = cfg->now_ctx;
    s->fail_after = -1;
    lfr_status st = LFR_OK;
    if (cfg->no_key) {
        s->no_key = 1;
        if (!db_exists(cfg->db_path))
            st = lfr_err_set(err, LFR_ERR_NOT_FOUND,
                             "database %s does not exist (opening without the key reads an "
                             "existing database only)", cfg->db_path);
    } else {
        st = load_key(s, cfg, err);
    }
    if (st == LFR_OK)
        st = s->ops->open(s, cfg->db_path,
                          cfg->busy_timeout_ms > 0 ? cfg->busy_timeout_ms
                                                   : LFR_STORE_BUSY_TIMEOUT_MS,
                          err);
    if (st == LFR_OK && !s->no_key) st = check_key(s, err);
    if (st != LFR_OK) {
        lfr_store_close(s);
        return st;
    }
    *out = s;
    return LFR_OK;
}

void lfr_store_close(lfr_store *s) {
    if (!s) return;
    while (s->depth > 0) lfr_store_tx_rollback(s);
    if (s->impl) s->ops->close(s);
    sodium_memzero(s->key, sizeof s->key);
    lfr_free(s);
}

int64_t lfr_store_now(lfr_store *s) { return s->now(s->now_ctx); }
int lfr_store_schema_version(lfr_store *s) { return s->ops->schema_version(s); }
int lfr_store_schema_latest(void) { return lfr_store_sqlite_latest(); }

/* Transactions ----------------------------------------------------------- */
lfr_status lfr_store_tx_begin(lfr_store *s) {
    lfr_status st = s->ops->tx_begin(s, s->depth + 1);
    if (st == LFR_OK) s->depth++;
    return st;
}

lfr_status lfr_store_tx_commit(lfr_store *s) {
    if (s->depth <= 0) return LFR_ERR_STATE;
    lfr_status st = s->ops->tx_commit(s, s->depth);
    if (st != LFR_OK) {
        /* a failed commit leaves the level open: undo it so nothing half
         * done can be committed later by an outer level */
        s->ops->tx_rollback(s, s->depth);
    }
    s->depth--;
    return st;
}

void lfr_store_tx_rollback(lfr_store *s) {
    if (s->depth <= 0) return;
    s->ops->tx_rollback(s, s->depth);
    s->depth--;
}

int lfr_store_tx_depth(lfr_store *s) { return s->depth; }

lfr_status lfr_store_exec(lfr_store *s, const char *sql, lfr_err *err) {
    return s->ops->exec(s, sql, err);
}

/* Statements ------------------------------------------------------------- */
lfr_status lfr_store_stmt_prepare(lfr_store *s, const char *sql, lfr_store_stmt **out,
                                  lfr_err *err) {
    *out = NULL;
    lfr_store_stmt *st = lfr_malloc(sizeof *st);
    if (!st) return LFR_ERR_NOMEM;
    st->s = s;
    st->bind_status = LFR_OK;
    st->bind_idx = 0;
    lfr_status rc = s->ops->prepare(s, sql, &st->impl, err);
    if (rc != LFR_OK) {
        lfr_free(st);
        return rc;
    }
    *out = st;
    return LFR_OK;
}

/* Records the first failed bind in the statement (see store_int.h). */
static lfr_status bound(lfr_store_stmt *st, int idx, lfr_status rc) {
    if (rc != LFR_OK && st->bind_status == LFR_OK) {
        st->bind_status = rc;
        st->bind_idx = idx;
    }
    return rc;
}

lfr_status lfr_store_stmt_bind_int64(lfr_store_stmt *st, int idx, int64_t v) {
    return bound(st, idx, st->s->ops->bind_int64(st->impl, idx, v));
}
lfr_status lfr_store_stmt_bind_double(lfr_store_stmt *st, int idx, double v) {
    return bound(st, idx, st->s->ops->bind_double(st->impl, idx, v));
}
lfr_status lfr_store_stmt_bind_text(lfr_store_stmt *st, int idx, const char *v) {
    return bound(st, idx, v ? st->s->ops->bind_text(st->impl, idx, v)
                            : st->s->ops->bind_null(st->impl, idx));
}
lfr_status lfr_store_stmt_bind_blob(lfr_store_stmt *st, int idx, const void *v, size_t n) {
    return bound(st, idx, v ? st->s->ops->bind_blob(st->impl, idx, v, n)
                            : st->s->ops->bind_null(st->impl, idx));
}
lfr_status lfr_store_stmt_bind_null(lfr_store_stmt *st, int idx) {
    return bound(st, idx, st->s->ops->bind_null(st->impl, idx));
}

lfr_status lfr_store_stmt_step(lfr_store_stmt *st, int *row, lfr_err *err) {
    *row = 0;
    lfr_store *s = st->s;
    if (st->bind_status != LFR_OK)
        return lfr_err_set(err, st->bind_status,
                           "parameter %d of the statement could not be bound (%s): the "
                           "statement was not run", st->bind_idx,
                           lfr_status_message(st->bind_status));
    if (s->fail_after == 0)
        return lfr_err_set(err, LFR_ERR_IO, "injected fault (lfr_store_fail_after)");
    if (s->fail_after > 0) s->fail_after--;
    return s->ops->step(s, st->impl, row, err);
}

lfr_status lfr_store_stmt_reset(lfr_store_stmt *st) {
    st->bind_status = LFR_OK;
    st->bind_idx = 0;
    return st->s->ops->reset(st->impl);
}
int lfr_store_stmt_is_null(lfr_store_stmt *st, int col) { return st->s->ops->is_null(st->impl, col); }
int64_t lfr_store_stmt_int64(lfr_store_stmt *st, int col) { return st->s->ops->col_int64(st->impl, col); }
double lfr_store_stmt_double(lfr_store_stmt *st, int col) { return st->s->ops->col_double(st->impl, col); }
const char *lfr_store_stmt_text(lfr_store_stmt *st, int col) {
    const char *t = st->s->ops->col_text(st->impl, col);
    return t ? t : "";
}
const void *lfr_store_stmt_blob(lfr_store_stmt *st, int col, size_t *n) {
    return st->s->ops->col_blob(st->impl, col, n);
}
void lfr_store_stmt_finalize(lfr_store_stmt *st) {
    if (!st) return;
    st->s->ops->finalize(st->impl);
    lfr_free(st);
}

int64_t lfr_store_last_id(lfr_store *s) { return s->ops->last_id(s); }
int64_t lfr_store_changes(lfr_store *s) { return s->ops->changes(s); }

lfr_status lfr_store_query_int64(lfr_store *s, const char *sql, int has_param, int64_t param,
                                 int64_t dflt, int64_t *v, lfr_err *err) {
    *v = dflt;
    lfr_store_stmt *st;
    lfr_status rc = lfr_store_stmt_prepare(s, sql, &st, err);
    if (rc != LFR_OK) return rc;
    if (has_param) rc = lfr_store_stmt_bind_int64(st, 1, param);
    int row = 0;
    if (rc == LFR_OK) rc = lfr_store_stmt_step(st, &row, err);
    if (rc == LFR_OK && row && !lfr_store_stmt_is_null(st, 0)) *v = lfr_store_stmt_int64(st, 0);
    lfr_store_stmt_finalize(st);
    return rc;
}

/* Sealing ---------------------------------------------------------------- */
lfr_status lfr_store_seal(lfr_store *s, const void *plain, size_t len, uint8_t **blob,
                          size_t *blob_len) {
    *blob = NULL;
    *blob_len = 0;
    if (s->no_key) return LFR_ERR_PERMISSION;
    size_t n;
    if (lfr_add_size(len, LFR_STORE_SEAL_OVERHEAD, &n) != 0) return LFR_ERR_TOO_LARGE;
    uint8_t *b = lfr_malloc(n);
    if (!b) return LFR_ERR_NOMEM;
    b[0] = 1; /* format version */
    randombytes_buf(b + 1, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(b + 1 + crypto_secretbox_NONCEBYTES, plain, len, b + 1, s->key);
    *blob = b;
    *blob_len = n;
    return LFR_OK;
}

lfr_status lfr_store_unseal(lfr_store *s, const void *blob, size_t blob_len, uint8_t **plain,
                            size_t *len) {
    *plain = NULL;
    *len = 0;
    if (s->no_key) return LFR_ERR_PERMISSION;
    const uint8_t *b = blob;
    if (!b || blob_len < LFR_STORE_SEAL_OVERHEAD || b[0] != 1) return LFR_ERR_INTEGRITY;
    size_t n = blob_len - LFR_STORE_SEAL_OVERHEAD;
    uint8_t *p = lfr_malloc(n);
    if (!p) return LFR_ERR_NOMEM;
    if (crypto_secretbox_open_easy(p, b + 1 + crypto_secretbox_NONCEBYTES,
                                   blob_len - 1 - crypto_secretbox_NONCEBYTES, b + 1,
                                   s->key) != 0) {
        lfr_free(p);
        return LFR_ERR_INTEGRITY;
    }
    *plain = p;
    *len = n;
    return LFR_OK;
}

/* Settings --------------------------------------------------------------- */
lfr_status lfr_store_setting_get_int(lfr_store *s, const char *key, int64_t dflt, int64_t *v) {
    *v = dflt;
    lfr_store_stmt *st;
    lfr_status rc = lfr_store_stmt_prepare(s, "SELECT value FROM settings WHERE key = ?", &st, NULL);
    if (rc != LFR_OK) return rc;
    rc = lfr_store_stmt_bind_text(st, 1, key);
    int row = 0;
    if (rc == LFR_OK) rc = lfr_store_stmt_step(st, &row, NULL);
    if (rc == LFR_OK && row) *v = lfr_store_stmt_int64(st, 0);
    lfr_store_stmt_finalize(st);
    return rc;
}

lfr_status lfr_store_setting_set_int(lfr_store *s, const char *key, int64_t v) {
    lfr_store_stmt *st;
    lfr_status rc = lfr_store_stmt_prepare(
        s, "INSERT INTO settings(key, value) VALUES(?, ?) "
           "ON CONFLICT(key) DO UPDATE SET value = excluded.value", &st, NULL);
    if (rc != LFR_OK) return rc;
    rc = lfr_store_stmt_bind_text(st, 1, key);
    if (rc == LFR_OK) rc = lfr_store_stmt_bind_int64(st, 2, v);
    int row;
    if (rc == LFR_OK) rc = lfr_store_stmt_step(st, &row, NULL);
    lfr_store_stmt_finalize(st);
    return rc;
}

/* Maintenance ------------------------------------------------------------ */
lfr_status lfr_store_compact(lfr_store *s, lfr_err *err) {
    if (s->depth > 0) return lfr_err_set(err, LFR_ERR_STATE, "compact inside a transaction");
    return s->ops->compact(s, err);
}
lfr_status lfr_store_integrity_check(lfr_store *s, lfr_err *err) {
    return s->ops->integrity_check(s, err);
}
lfr_status lfr_store_journal_mode(lfr_store *s, char *buf, size_t cap) {
    return s->ops->journal_mode(s, buf, cap);
}
void lfr_store_fail_after(lfr_store *s, long n) { s->fail_after = n; }
