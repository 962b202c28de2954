/*
 * test_store.c - the store: migrations from empty, WAL, transactions that
 * roll back, sealing round trip, key-file permissions, no plaintext images
 * or templates on disk, fault injection.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/core.h"
#include "deploy/deploy.h"
#include "harness.h"
#include "store/store.h"

static const void *find(const void *hay, size_t n, const void *needle, size_t m) {
    const uint8_t *h = hay;
    for (size_t i = 0; m && i + m <= n; i++)
        if (h[i] == *(const uint8_t *)needle && memcmp(h + i, needle, m) == 0) return h + i;
    return NULL;
}

static int64_t fake_now = 1750000000;
static int64_t fake_clock(void *ctx) { (void)ctx; return fake_now; }

static char dir[256], dbp[300];

static void tmp_begin(void) {
    snprintf(dir, sizeof dir, "/tmp/lfr_store_XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return; }
    snprintf(dbp, sizeof dbp, "%s/openlfr.db", dir);
}

static void tmp_end(void) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", dir);
}

static lfr_store *open_store(const char *passphrase, lfr_status *st_out) {
    lfr_store_config cfg = {.db_path = dbp, .now = fake_clock, .passphrase = passphrase};
    lfr_store *s = NULL;
    lfr_err err = {{0}};
    lfr_status st = lfr_store_open(&cfg, &s, &err);
    if (st_out) *st_out = st;
    else if (st != LFR_OK) fprintf(stderr, "  open: %s: %s\n", lfr_status_str(st), err.msg);
    return s;
}

static int64_t count(lfr_store *s, const char *sql) {
    int64_t v = -1;
    lfr_store_query_int64(s, sql, 0, 0, -1, &v, NULL);
    return v;
}

static void test_migrations_from_empty(void) {
    tmp_begin();
    lfr_store *s = open_store(NULL, NULL);
    CHECK(s != NULL);
    if (!s) { tmp_end(); return; }
    CHECK_EQ_INT(lfr_store_schema_version(s), lfr_store_schema_latest());
    CHECK(lfr_store_schema_latest() >= 1);
    char mode[16] = "";
    CHECK_STATUS(lfr_store_journal_mode(s, mode, sizeof mode), LFR_OK);
    CHECK(strcmp(mode, "wal") == 0);
    CHECK_EQ_INT(count(s, "PRAGMA foreign_keys"), 1);
    CHECK_EQ_INT(count(s, "PRAGMA secure_delete"), 1);
    CHECK_EQ_INT(count(s, "PRAGMA auto_vacuum"), 2); /* incremental */
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
                          "('deployments','deployment_events','watchlist_entries','entry_images',"
                          "'alerts','photo_checks','audit_log','anchors','settings','amendments')"), 10);
    CHECK_STATUS(lfr_store_integrity_check(s, NULL), LFR_OK);
    lfr_store_close(s);
    struct stat sb;
    CHECK(stat(dbp, &sb) == 0 && (sb.st_mode & 077) == 0);
    char key[320];
    snprintf(key, sizeof key, "%s/openlfr.key", dir);
    CHECK(stat(key, &sb) == 0 && (sb.st_mode & 0777) == 0600 && sb.st_size == 32);
    /* reopening applies nothing and keeps the version */
    s = open_store(NULL, NULL);
    CHECK(s != NULL);
    if (s) CHECK_EQ_INT(lfr_store_schema_version(s), lfr_store_schema_latest());
    lfr_store_close(s);
    tmp_end();
}

static void test_newer_schema_refused(void) {
    tmp_begin();
    lfr_store *s = open_store(NULL, NULL);
    CHECK(s != NULL);
    if (s) CHECK_STATUS(lfr_store_exec(s, "PRAGMA user_version = 999", NULL), LFR_OK);
    lfr_store_close(s);
    lfr_status st;
    s = open_store(NULL, &st);
    CHECK(s == NULL);
    CHECK_STATUS(st, LFR_ERR_UNSUPPORTED);
    lfr_store_close(s);
    tmp_end();
}

/* A second writer that cannot get the lock within the busy timeout gets
 * LFR_ERR_BUSY (try again), not an I/O error: the pipeline retries it. */
static void test_busy_is_busy(void) {
    tmp_begin();
    lfr_store *a = open_store(NULL, NULL);
    lfr_store_config cfg = {.db_path = dbp, .now = fake_clock, .busy_timeout_ms = 50};
    lfr_store *b = NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_store_open(&cfg, &b, &err), LFR_OK);
    if (!a || !b) { CHECK(0); lfr_store_close(a); lfr_store_close(b); tmp_end(); return; }
    CHECK_STATUS(lfr_store_tx_begin(a), LFR_OK);
    CHECK_STATUS(lfr_store_tx_begin(b), LFR_ERR_BUSY);
    CHECK_EQ_INT(lfr_store_tx_depth(b), 0);
    lfr_store_tx_rollback(a);
    CHECK_STATUS(lfr_store_tx_begin(b), LFR_OK);
    lfr_store_tx_rollback(b);
    lfr_store_close(a);
    lfr_store_close(b);
    tmp_end();
}

static void test_transactions(void) {
    tmp_begin();
    lfr_store *s = open_store(NULL, NULL);
    if (!s) { CHECK(0); tmp_end(); return; }
    /* outer rollback undoes everything */
    CHECK_STATUS(lfr_store_tx_begin(s), LFR_OK);
    CHECK_STATUS(lfr_store_setting_set_int(s, "a", 1), LFR_OK);
    lfr_store_tx_rollback(s);
    int64_t v;
    lfr_store_setting_get_int(s, "a", -1, &v);
    CHECK_EQ_INT(v, -1);
    /* inner rollback undoes only the inner level */
    CHECK_STATUS(lfr_store_tx_begin(s), LFR_OK);
    CHECK_STATUS(lfr_store_setting_set_int(s, "a", 1), LFR_OK);
    CHECK_STATUS(lfr_store_tx_begin(s), LFR_OK);
    CHECK_EQ_INT(lfr_store_tx_depth(s), 2);
    CHECK_STATUS(lfr_store_setting_set_int(s, "b", 2), LFR_OK);
    lfr_store_tx_rollback(s);
    CHECK_STATUS(lfr_store_tx_commit(s), LFR_OK);
    lfr_store_setting_get_int(s, "a", -1, &v);
    CHECK_EQ_INT(v, 1);
    lfr_store_setting_get_int(s, "b", -1, &v);
    CHECK_EQ_INT(v, -1);
    /* a failing step inside a multi-step change: nothing of it remains */
    lfr_actor al = {"alice", LFR_ROLE_OPERATOR};
    int64_t before = count(s, "SELECT count(*) FROM audit_log");
    lfr_deploy_params p = {"d", "here", "test", "PACE", fake_now, fake_now + 3600, 0.6f, "cam", 0};
    int64_t id;
    lfr_store_fail_after(s, 2); /* the insert works, its audit record fails */
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_deploy_create(s, &p, &al, &id, &err), LFR_ERR_IO);
    lfr_store_fail_after(s, -1);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM deployments"), 0);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log"), before);
    CHECK_EQ_INT(lfr_store_tx_depth(s), 0);
    /* a constraint violation rolls back too */
    CHECK_STATUS(lfr_store_tx_begin(s), LFR_OK);
    CHECK_STATUS(lfr_store_exec(s, "INSERT INTO settings(key, value) VALUES('x', 1)", NULL), LFR_OK);
    lfr_status st = lfr_store_exec(s, "INSERT INTO settings(key, value) VALUES('x', 2)", NULL);
    CHECK(st != LFR_OK);
    lfr_store_tx_rollback(s);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM settings WHERE key='x'"), 0);
    /* commit without begin */
    CHECK_STATUS(lfr_store_tx_commit(s), LFR_ERR_STATE);
    lfr_store_close(s);
    tmp_end();
}

static void test_seal_roundtrip(void) {
    tmp_begin();
    lfr_store *s = open_store(NULL, NULL);
    if (!s) { CHECK(0); tmp_end(); return; }
    const char msg[] = "a watchlist photograph";
    uint8_t *blob, *plain;
    size_t bl, pl;
    CHECK_STATUS(lfr_store_seal(s, msg, sizeof msg, &blob, &bl), LFR_OK);
    CHECK_EQ_INT(bl, sizeof msg + LFR_STORE_SEAL_OVERHEAD);
    CHECK(find(blob, bl, msg, 10) == NULL);
    CHECK_STATUS(lfr_store_unseal(s, blob, bl, &plain, &pl), LFR_OK);
    CHECK_EQ_INT(pl, sizeof msg);
    CHECK(plain && memcmp(plain, msg, pl) == 0);
    lfr_free(plain);
    /* two seals of the same text differ (fresh nonce) */
    uint8_t *blob2;
    size_t bl2;
    CHECK_STATUS(lfr_store_seal(s, msg, sizeof msg, &blob2, &bl2), LFR_OK);
    CHECK(memcmp(blob, blob2, bl) != 0);
    lfr_free(blob2);
    /* one flipped bit anywhere is detected */
    for (size_t i = 0; i < bl; i += 7) {
        blob[i] ^= 0x10;
        CHECK_STATUS(lfr_store_unseal(s, blob, bl, &plain, &pl), LFR_ERR_INTEGRITY);
        blob[i] ^= 0x10;
    }
    CHECK_STATUS(lfr_store_unseal(s, blob, 10, &plain, &pl), LFR_ERR_INTEGRITY);
    lfr_store_close(s);
    /* another key cannot open it, and cannot open the database either */
    char key[320];
    snprintf(key, sizeof key, "%s/openlfr.key", dir);
    unlink(key);
    int kfd = open(key, O_WRONLY | O_CREAT | O_EXCL, 0600);
    unsigned char other[32];
    randombytes_buf(other, sizeof other);
    CHECK(kfd >= 0 && write(kfd, other, sizeof other) == (ssize_t)sizeof other);
    if (kfd >= 0) close(kfd);
    lfr_status st;
    s = open_store(NULL, &st);
    CHECK(s == NULL);
    CHECK_STATUS(st, LFR_ERR_PERMISSION);
    lfr_store_close(s);
    lfr_free(blob);
    tmp_end();
}

static void test_key_permissions(void) {
    tmp_begin();
    char key[320];
    snprintf(key, sizeof key, "%s/openlfr.key", dir);
    int fd = open(key, O_WRONLY | O_CREAT, 0644);
    unsigned char k[32] = {1, 2, 3};
    CHECK(fd >= 0 && write(fd, k, 32) == 32);
    close(fd);
    chmod(key, 0644);
    lfr_store_config cfg = {.db_path = dbp, .now = fake_clock};
    lfr_store *s = NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_store_open(&cfg, &s, &err), LFR_ERR_PERMISSION);
    CHECK(s == NULL);
    CHECK(strstr(err.msg, "group/other") != NULL);
    chmod(key, 0640);
    CHECK_STATUS(lfr_store_open(&cfg, &s, &err), LFR_ERR_PERMISSION);
    chmod(key, 0600);
    CHECK_STATUS(lfr_store_open(&cfg, &s, &err), LFR_OK);
    lfr_store_close(s);
    /* a key of the wrong size is refused */
    chmod(key, 0600);
    fd = open(key, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && write(fd, k, 16) == 16);
    close(fd);
    s = NULL;
    CHECK_STATUS(lfr_store_open(&cfg, &s, &err), LFR_ERR_CORRUPT);
    /* an explicit key path, created on first use */
    char key2[330];
    snprintf(key2, sizeof key2, "%s/other.key", dir);
    char db2[330];
    snprintf(db2, sizeof db2, "%s/second.db", dir);
    lfr_store_config cfg2 = {.db_path = db2, .key_path = key2, .now = fake_clock};
    CHECK_STATUS(lfr_store_open(&cfg2, &s, &err), LFR_OK);
    lfr_store_close(s);
    struct stat sb;
    CHECK(stat(key2, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    tmp_end();
}

static void test_passphrase(void) {
    tmp_begin();
    lfr_status st;
    lfr_store *s = open_store("correct horse battery staple", &st);
    CHECK_STATUS(st, LFR_OK);
    uint8_t *blob = NULL, *plain = NULL;
    size_t bl = 0, pl = 0;
    if (s) CHECK_STATUS(lfr_store_seal(s, "x", 1, &blob, &bl), LFR_OK);
    lfr_store_close(s);
    char salt[330];
    snprintf(salt, sizeof salt, "%s.salt", dbp);
    struct stat sb;
    CHECK(stat(salt, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    s = open_store("correct horse battery staple", &st);
    CHECK_STATUS(st, LFR_OK);
    if (s) CHECK_STATUS(lfr_store_unseal(s, blob, bl, &plain, &pl), LFR_OK);
    lfr_free(plain);
    lfr_store_close(s);
    s = open_store("wrong", &st);
    CHECK(s == NULL);
    CHECK_STATUS(st, LFR_ERR_PERMISSION);
    lfr_free(blob);
    tmp_end();
}

/* Does the file contain the bytes? */
static int file_has(const char *path, const void *needle, size_t n) {
    uint8_t *buf;
    size_t len;
    if (lfr_read_file(path, 1u << 30, &buf, &len) != LFR_OK) return 0;
    int found = find(buf, len, needle, n) != NULL;
    lfr_free(buf);
    return found;
}

static const uint8_t JPEG_SIG[] = {0xFF, 0xD8, 0xFF};
static const uint8_t PNG_SIG[] = {0x89, 0x50, 0x4E, 0x47};

static void test_no_plaintext_on_disk(void) {
    tmp_begin();
    lfr_store *s = open_store(NULL, NULL);
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_actor al = {"alice", LFR_ROLE_OPERATOR};
    lfr_deploy_params p = {"d", "here", "test", "PACE", fake_now, fake_now + 3600, 0.6f, "cam", 0};
    int64_t dep, eid;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_deploy_create(s, &p, &al, &dep, &err), LFR_OK);
    uint8_t jpeg[300], png[300];
    memset(jpeg, 'J', sizeof jpeg);
    memset(png, 'P', sizeof png);
    memcpy(jpeg, "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", 11);
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    float tmpl[192];
    for (int i = 0; i < 192; i++) tmpl[i] = 0.0123f * (float)(i + 1) - 1.1f;
    lfr_watchlist_entry e = {"CR/123/24", "Subject A", LFR_WATCHLIST_WANTED_ON_WARRANT, NULL,
                             "warrant 42", "custody image", "2024-01-02", 0, NULL};
    CHECK_STATUS(lfr_deploy_entry_add(s, dep, &e, jpeg, sizeof jpeg, tmpl, 192, &al, &eid, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_entry_image_add(s, eid, png, sizeof png, tmpl, 192, &al, NULL, &err), LFR_OK);
    char wal[330];
    snprintf(wal, sizeof wal, "%s-wal", dbp);
    for (int pass = 0; pass < 2; pass++) {  /* 0: open (data in -wal), 1: closed */
        const char *files[2] = {dbp, wal};
        for (int f = 0; f < 2; f++) {
            CHECK(!file_has(files[f], JPEG_SIG, 3));
            CHECK(!file_has(files[f], PNG_SIG, 4));
            CHECK(!file_has(files[f], tmpl, 16));
            CHECK(!file_has(files[f], tmpl + 100, 16));
            CHECK(!file_has(files[f], "JFIF", 4));
        }
        /* the plaintext fields are there: the scan itself works */
        CHECK(file_has(dbp, "CR/123/24", 9) || file_has(wal, "CR/123/24", 9));
        if (pass == 0) {
            lfr_store_close(s);
            s = NULL;
        }
    }
    /* and the round trip gives the image back */
    s = open_store(NULL, NULL);
    uint8_t *img = NULL;
    size_t n = 0;
    if (s) {
        CHECK_STATUS(lfr_deploy_entry_image_load(s, 1, &img, &n, &err), LFR_OK);
        CHECK(n == sizeof jpeg && memcmp(img, jpeg, n) == 0);
    }
    lfr_free(img);
    lfr_store_close(s);
    tmp_end();
}

/* Fail the Nth step, then the Nth allocation, of a multi-step change: the
 * change is all or nothing, the chain verifies, no memory leaks (ASan). */
static void test_fault_injection(void) {
    tmp_begin();
    lfr_store *s = open_store(NULL, NULL);
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_actor al = {"alice", LFR_ROLE_OPERATOR};
    lfr_deploy_params p = {"d", "here", "test", "PACE", fake_now, fake_now + 3600, 0.6f, "cam", 0};
    int64_t dep;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_deploy_create(s, &p, &al, &dep, &err), LFR_OK);
    uint8_t img[64] = {1, 2, 3};
    float tmpl[192] = {0.1f, 0.2f}; /* an mfn192 deployment takes 192-d templates */
    lfr_watchlist_entry e = {"R1", "S", LFR_WATCHLIST_MISSING, NULL, "missing person",
                             "family photo", "2024-01-02", 0, NULL};
    int ok = 0, failures = 0;
    for (long n = 0; n < 200 && !ok; n++) {
        int64_t audit_before = count(s, "SELECT count(*) FROM audit_log");
        lfr_store_fail_after(s, n);
        lfr_status st = lfr_deploy_entry_add(s, dep, &e, img, sizeof img, tmpl, 192, &al, NULL, &err);
        lfr_store_fail_after(s, -1);
        if (st == LFR_OK) ok = 1;
        else {
            failures++;
            CHECK_EQ_INT(count(s, "SELECT count(*) FROM watchlist_entries"), 0);
            CHECK_EQ_INT(count(s, "SELECT count(*) FROM entry_images"), 0);
            CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log"), audit_before);
            CHECK_EQ_INT(lfr_store_tx_depth(s), 0);
        }
    }
    CHECK(ok);
    CHECK(failures >= 5);
    /* allocation failures (another subject: R1 is on the list now) */
    e.subject_ref = "R2";
    ok = 0;
    for (long n = 0; n < 400 && !ok; n++) {
        int64_t before = count(s, "SELECT count(*) FROM watchlist_entries");
        lfr_alloc_fail_after(n);
        lfr_status st = lfr_deploy_entry_add(s, dep, &e, img, sizeof img, tmpl, 192, &al, NULL, &err);
        lfr_alloc_fail_after(-1);
        if (st == LFR_OK) ok = 1;
        else CHECK_EQ_INT(count(s, "SELECT count(*) FROM watchlist_entries"), before);
    }
    CHECK(ok);
    lfr_audit_report rep;
    CHECK_STATUS(lfr_audit_verify(s, &rep, &err), LFR_OK);
    CHECK_STATUS(lfr_store_integrity_check(s, &err), LFR_OK);
    lfr_store_close(s);
    tmp_end();
}

/* A bind that fails (here: a parameter number the statement does not have)
 * is returned by the next step, which does not run the statement: nothing
 * is stored with NULL in its place.  Reset clears it. */
static void test_failed_bind_stops_step(void) {
    tmp_begin();
    lfr_store *s = open_store(NULL, NULL);
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_err err = {{0}};
    lfr_store_stmt *q = NULL;
    CHECK_STATUS(lfr_store_stmt_prepare(s, "INSERT INTO settings(key, value) VALUES('k', ?)", &q,
                                        &err), LFR_OK);
    if (!q) { CHECK(0); lfr_store_close(s); tmp_end(); return; }
    /* the caller ignores the bind's result, as ~100 calls once did */
    (void)lfr_store_stmt_bind_int64(q, 2, 42);   /* no parameter 2 */
    int row = 1;
    CHECK_STATUS(lfr_store_stmt_step(q, &row, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "parameter 2") != NULL);
    CHECK_EQ_INT(row, 0);
    /* still refused on a second step: the error is sticky until reset */
    CHECK_STATUS(lfr_store_stmt_step(q, &row, &err), LFR_ERR_INVALID_ARG);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM settings WHERE key = 'k'"), 0);
    /* every bind kind records its failure */
    CHECK_STATUS(lfr_store_stmt_reset(q), LFR_OK);
    CHECK_STATUS(lfr_store_stmt_bind_text(q, 3, "x"), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_store_stmt_bind_int64(q, 1, 7), LFR_OK);   /* a later good bind */
    CHECK_STATUS(lfr_store_stmt_step(q, &row, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "parameter 3") != NULL);
    CHECK_STATUS(lfr_store_stmt_reset(q), LFR_OK);
    CHECK_STATUS(lfr_store_stmt_bind_blob(q, 0, "x", 1), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_store_stmt_step(q, &row, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_store_stmt_reset(q), LFR_OK);
    CHECK_STATUS(lfr_store_stmt_bind_double(q, 9, 1.0), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_store_stmt_step(q, &row, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_store_stmt_reset(q), LFR_OK);
    CHECK_STATUS(lfr_store_stmt_bind_null(q, -1), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_store_stmt_step(q, &row, &err), LFR_ERR_INVALID_ARG);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM settings WHERE key = 'k'"), 0);
    /* after reset, good binds run */
    CHECK_STATUS(lfr_store_stmt_reset(q), LFR_OK);
    CHECK_STATUS(lfr_store_stmt_bind_int64(q, 1, 42), LFR_OK);
    CHECK_STATUS(lfr_store_stmt_step(q, &row, &err), LFR_OK);
    CHECK_EQ_INT(count(s, "SELECT value FROM settings WHERE key = 'k'"), 42);
    lfr_store_stmt_finalize(q);
    lfr_store_close(s);
    tmp_end();
}

/* With its key file missing, an existing database is refused and nothing
 * is created (no new key beside it); a new database creates its key.  The
 * same for the salt file of a passphrase. */
static void test_missing_key_existing_db(void) {
    tmp_begin();
    char key[320], salt[330];
    snprintf(key, sizeof key, "%s/openlfr.key", dir);
    snprintf(salt, sizeof salt, "%s.salt", dbp);
    struct stat sb;
    lfr_store *s = open_store(NULL, NULL);          /* new database: key created */
    CHECK(s != NULL);
    CHECK(stat(key, &sb) == 0);
    lfr_store_close(s);
    CHECK(unlink(key) == 0);
    lfr_store_config cfg = {.db_path = dbp, .now = fake_clock};
    lfr_err err = {{0}};
    s = NULL;
    CHECK_STATUS(lfr_store_open(&cfg, &s, &err), LFR_ERR_NOT_FOUND);
    CHECK(s == NULL);
    CHECK(strstr(err.msg, "missing") != NULL);
    CHECK(stat(key, &sb) != 0);                    /* no new key file */
    /* an explicit key path: the same */
    char key2[330];
    snprintf(key2, sizeof key2, "%s/elsewhere.key", dir);
    cfg.key_path = key2;
    CHECK_STATUS(lfr_store_open(&cfg, &s, &err), LFR_ERR_NOT_FOUND);
    CHECK(stat(key2, &sb) != 0);
    /* passphrase: a missing salt for an existing database */
    cfg.key_path = NULL;
    cfg.passphrase = "correct horse";
    CHECK_STATUS(lfr_store_open(&cfg, &s, &err), LFR_ERR_NOT_FOUND);
    CHECK(stat(salt, &sb) != 0);
    tmp_end();
    /* an empty file (as `touch` makes) is still a new database */
    tmp_begin();
    snprintf(key, sizeof key, "%s/openlfr.key", dir);
    int fd = open(dbp, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    s = open_store(NULL, NULL);
    CHECK(s != NULL);
    CHECK(stat(key, &sb) == 0);
    lfr_store_close(s);
    tmp_end();
}

int main(void) {
    lfr_log_set_level(LFR_LOG_WARN);
    RUN(test_busy_is_busy);
    RUN(test_migrations_from_empty);
    RUN(test_newer_schema_refused);
    RUN(test_transactions);
    RUN(test_seal_roundtrip);
    RUN(test_key_permissions);
    RUN(test_passphrase);
    RUN(test_no_plaintext_on_disk);
    RUN(test_fault_injection);
    RUN(test_failed_bind_stops_step);
    RUN(test_missing_key_existing_db);
    return harness_done("store");
}
