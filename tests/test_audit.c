/*
 * test_audit.c - the hash chain: appends verify; each kind of tampering done
 * with raw SQLite on the file (edit, delete, swap, insert, truncate below an
 * anchor) is caught and the FIRST bad record is named; details rules.
 */
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/core.h"
#include "harness.h"
#include "store/store.h"

static int64_t fake_now = 1750000000;
static int64_t fake_clock(void *ctx) { (void)ctx; return fake_now++; }
static char dir[256], dbp[300];

static void tmp_begin(void) {
    snprintf(dir, sizeof dir, "/tmp/lfr_audit_XXXXXX");
    if (!mkdtemp(dir)) perror("mkdtemp");
    snprintf(dbp, sizeof dbp, "%s/openlfr.db", dir);
}

static void tmp_end(void) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
}

static lfr_store *open_store(void) {
    lfr_store_config cfg = {.db_path = dbp, .now = fake_clock};
    lfr_store *s = NULL;
    lfr_err err = {{0}};
    lfr_status st = lfr_store_open(&cfg, &s, &err);
    if (st != LFR_OK) fprintf(stderr, "  open: %s: %s\n", lfr_status_str(st), err.msg);
    return s;
}

/* A fresh database with n records. */
static lfr_store *make_log(int n) {
    tmp_begin();
    lfr_store *s = open_store();
    lfr_actor a = {"alice", LFR_ROLE_OPERATOR};
    for (int i = 0; s && i < n; i++) {
        char d[128];
        snprintf(d, sizeof d, "{\"n\": %d, \"note\": \"record number %d\"}", i + 1, i + 1);
        lfr_status st = lfr_audit_append(s, &a, LFR_AUDIT_EXPORT, i % 3, d, NULL, NULL);
        if (st != LFR_OK) fprintf(stderr, "  append %d: %s\n", i, lfr_status_str(st));
    }
    return s;
}

/* Tampering as an attacker with the file would do it: raw SQLite, after
 * removing the append-only triggers. */
static void tamper(const char *sql) {
    sqlite3 *db;
    CHECK(sqlite3_open(dbp, &db) == SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db,
                          "DROP TRIGGER IF EXISTS audit_log_no_update;"
                          "DROP TRIGGER IF EXISTS audit_log_no_delete;"
                          "DROP TRIGGER IF EXISTS anchors_no_delete;"
                          "DROP TRIGGER IF EXISTS anchors_no_update;", NULL, NULL, &msg);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fprintf(stderr, "  tamper: %s\n", msg ? msg : "?");
    CHECK(rc == SQLITE_OK);
    sqlite3_free(msg);
    sqlite3_close(db);
}

/* Verifies, expects failure at bad_seq with `why` in the reason. */
static void expect_bad(int64_t bad_seq, const char *why) {
    lfr_store *s = open_store();
    if (!s) { CHECK(0); return; }
    lfr_audit_report rep;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_audit_verify(s, &rep, &err), LFR_ERR_INTEGRITY);
    CHECK_EQ_INT(rep.ok, 0);
    CHECK_EQ_INT(rep.bad_seq, bad_seq);
    if (!strstr(rep.reason, why)) fprintf(stderr, "  reason was: %s\n", rep.reason);
    CHECK(strstr(rep.reason, why) != NULL);
    CHECK(strstr(err.msg, "record") != NULL);
    lfr_store_close(s);
}

static void test_append_and_verify(void) {
    lfr_store *s = make_log(10);
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_audit_report rep;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_audit_verify(s, &rep, &err), LFR_OK);
    CHECK_EQ_INT(rep.ok, 1);
    CHECK_EQ_INT(rep.records, 10);
    CHECK_EQ_INT(rep.head_seq, 10);
    int64_t seq;
    lfr_actor b = {"bob", LFR_ROLE_AUDITOR};
    CHECK_STATUS(lfr_audit_append(s, &b, LFR_AUDIT_EXPORT, 0, "{\"b\":1,\"a\":[1,2]}", &seq, &err), LFR_OK);
    CHECK_EQ_INT(seq, 11);
    /* stored canonically */
    lfr_store_stmt *q;
    int row = 0;
    CHECK_STATUS(lfr_store_stmt_prepare(s, "SELECT details, role, action FROM audit_log WHERE seq = 11", &q, NULL), LFR_OK);
    CHECK_STATUS(lfr_store_stmt_step(q, &row, NULL), LFR_OK);
    CHECK(strcmp(lfr_store_stmt_text(q, 0), "{\"a\":[1,2],\"b\":1}") == 0);
    CHECK(strcmp(lfr_store_stmt_text(q, 1), "auditor") == 0);
    CHECK(strcmp(lfr_store_stmt_text(q, 2), "export") == 0);
    lfr_store_stmt_finalize(q);
    /* the software itself cannot update or delete a record */
    CHECK(lfr_store_exec(s, "UPDATE audit_log SET actor = 'x' WHERE seq = 1", NULL) != LFR_OK);
    CHECK(lfr_store_exec(s, "DELETE FROM audit_log WHERE seq = 1", NULL) != LFR_OK);
    /* an append inside a rolled-back change disappears with it */
    CHECK_STATUS(lfr_store_tx_begin(s), LFR_OK);
    CHECK_STATUS(lfr_audit_append(s, &b, LFR_AUDIT_EXPORT, 0, NULL, &seq, &err), LFR_OK);
    lfr_store_tx_rollback(s);
    CHECK_STATUS(lfr_audit_verify(s, &rep, &err), LFR_OK);
    CHECK_EQ_INT(rep.head_seq, 11);
    lfr_store_close(s);
    tmp_end();
}

static void test_details_rules(void) {
    char *c = NULL;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_audit_details_canonical("{\"z\":1, \"a\":\"x\"}", &c, &err), LFR_OK);
    CHECK(c && strcmp(c, "{\"a\":\"x\",\"z\":1}") == 0);
    lfr_free(c);
    CHECK_STATUS(lfr_audit_details_canonical("[1]", &c, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_audit_details_canonical("{\"a\":1,\"a\":2}", &c, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_audit_details_canonical("{\"image\":\"x\"}", &c, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_audit_details_canonical("{\"x\":{\"embedding\":[]}}", &c, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_audit_details_canonical("{\"x\":\"data:image/jpeg;base64,AAAA\"}", &c, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_audit_details_canonical("{\"x\":\"/9j/4AAQSkZJRgABAQ\"}", &c, &err), LFR_ERR_INVALID_ARG);
    char big[2000] = "{\"v\":[";
    for (int i = 0; i < 192; i++) strcat(big, i ? ",0.1" : "0.1");
    strcat(big, "]}");
    CHECK_STATUS(lfr_audit_details_canonical(big, &c, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "biometric") != NULL);
    char *huge = lfr_malloc(LFR_MAX_AUDIT_DETAILS + 100);
    memset(huge, ' ', LFR_MAX_AUDIT_DETAILS + 99);
    huge[0] = '{';
    huge[LFR_MAX_AUDIT_DETAILS + 98] = '}';
    huge[LFR_MAX_AUDIT_DETAILS + 99] = 0;
    CHECK_STATUS(lfr_audit_details_canonical(huge, &c, &err), LFR_ERR_TOO_LARGE);
    lfr_free(huge);
    /* actors */
    lfr_actor none = {"", LFR_ROLE_OFFICER}, ctl = {"a\nb", LFR_ROLE_OFFICER};
    CHECK_STATUS(lfr_actor_check(&none, &err), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_actor_check(&ctl, &err), LFR_ERR_INVALID_ARG);
    lfr_role r;
    CHECK_STATUS(lfr_role_parse("authorising_officer", &r), LFR_OK);
    CHECK_EQ_INT(r, LFR_ROLE_AUTHORISER);
    CHECK(strcmp(lfr_audit_action_name(LFR_AUDIT_RETENTION_DELETE), "retention.delete") == 0);
    for (int i = 0; i < LFR_AUDIT_ACTION_COUNT; i++) CHECK(lfr_audit_action_name((lfr_audit_action)i) != NULL);
}

static void test_tamper_edit(void) {
    lfr_store *s = make_log(8);
    lfr_store_close(s);
    tamper("UPDATE audit_log SET details = replace(details, 'number 5', 'number 6') WHERE seq = 5");
    expect_bad(5, "modified");
    tmp_end();
    /* an edited time or actor too */
    s = make_log(8);
    lfr_store_close(s);
    tamper("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2");
    expect_bad(2, "modified");
    tmp_end();
}

static void test_tamper_delete(void) {
    lfr_store *s = make_log(8);
    lfr_store_close(s);
    tamper("DELETE FROM audit_log WHERE seq = 4");
    expect_bad(5, "removed");
    tmp_end();
    s = make_log(8);
    lfr_store_close(s);
    tamper("DELETE FROM audit_log WHERE seq = 1");
    expect_bad(2, "first records were removed");
    tmp_end();
    /* delete and renumber, so no gap in seq */
    s = make_log(8);
    lfr_store_close(s);
    tamper("DELETE FROM audit_log WHERE seq = 3; UPDATE audit_log SET seq = seq - 1 WHERE seq > 3");
    expect_bad(3, "does not chain");
    tmp_end();
}

static void test_tamper_swap(void) {
    lfr_store *s = make_log(8);
    lfr_store_close(s);
    tamper("CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE seq IN (3, 6);"
           "UPDATE audit_log SET (at, actor, role, action, deployment_id, details, prev_hash, hash) = "
           "(SELECT at, actor, role, action, deployment_id, details, prev_hash, hash FROM t "
           " WHERE t.seq = 9 - audit_log.seq) WHERE seq IN (3, 6);");
    expect_bad(3, "does not chain");
    tmp_end();
}

static void test_tamper_insert(void) {
    lfr_store *s = make_log(8);
    lfr_store_close(s);
    /* make room at seq 4 and insert a forged record that even links to 3 */
    tamper("UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 4;"
           "UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000;"
           "INSERT INTO audit_log(seq, at, actor, role, action, deployment_id, details, prev_hash, hash) "
           "SELECT 4, at, 'mallory', 'operator', 'watchlist.add', 1, '{}', hash, randomblob(32) "
           "FROM audit_log WHERE seq = 3;");
    expect_bad(4, "modified");
    tmp_end();
    /* a forger who computes the hash right is caught at the next record */
    s = make_log(8);
    if (s) {
        lfr_audit_record r = {0};
        lfr_store_stmt *q;
        int row = 0;
        lfr_store_stmt_prepare(s, "SELECT hash FROM audit_log WHERE seq = 3", &q, NULL);
        lfr_store_stmt_step(q, &row, NULL);
        size_t n;
        memcpy(r.prev_hash, lfr_store_stmt_blob(q, 0, &n), 32);
        lfr_store_stmt_finalize(q);
        r.seq = 4;
        r.at = 1750000000;
        r.actor = "mallory";
        r.role = "operator";
        r.action = "watchlist.add";
        r.details = "{}";
        lfr_audit_hash(&r, r.hash);
        lfr_store_close(s);
        char ph[65], h[65], sql[600];
        lfr_audit_hash_hex(r.prev_hash, ph);
        lfr_audit_hash_hex(r.hash, h);
        snprintf(sql, sizeof sql,
                 "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 4;"
                 "UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000;"
                 "INSERT INTO audit_log VALUES(4, 1750000000, 'mallory', 'operator', "
                 "'watchlist.add', NULL, '{}', x'%s', x'%s');", ph, h);
        tamper(sql);
        expect_bad(5, "does not chain");
    }
    tmp_end();
}

static void test_tamper_truncate_below_anchor(void) {
    lfr_store *s = make_log(10);
    if (!s) { CHECK(0); tmp_end(); return; }
    lfr_audit_anchor_info an;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_audit_anchor(s, &an, &err), LFR_OK);
    CHECK_EQ_INT(an.seq, 10);
    lfr_actor a = {"alice", LFR_ROLE_OPERATOR};
    CHECK_STATUS(lfr_audit_append(s, &a, LFR_AUDIT_EXPORT, 0, NULL, NULL, &err), LFR_OK);
    CHECK_STATUS(lfr_audit_append(s, &a, LFR_AUDIT_EXPORT, 0, NULL, NULL, &err), LFR_OK);
    lfr_audit_report rep;
    CHECK_STATUS(lfr_audit_verify(s, &rep, &err), LFR_OK);
    CHECK_EQ_INT(rep.anchors, 1);
    lfr_store_close(s);
    /* cutting the tail above the anchor is not detectable by the chain
     * alone; cutting below it is */
    tamper("DELETE FROM audit_log WHERE seq >= 8");
    expect_bad(8, "truncated");
    tmp_end();
    /* rewriting the anchored record and everything after, consistently,
     * still differs from the anchor */
    s = make_log(6);
    if (s) {
        CHECK_STATUS(lfr_audit_anchor(s, &an, &err), LFR_OK);
        lfr_store_close(s);
    }
    tamper("UPDATE anchors SET hash = randomblob(32)");
    expect_bad(6, "anchor");
    tmp_end();
}

static void test_anchor_empty_log(void) {
    tmp_begin();
    lfr_store *s = open_store();
    lfr_audit_anchor_info an;
    lfr_err err = {{0}};
    if (s) CHECK_STATUS(lfr_audit_anchor(s, &an, &err), LFR_ERR_STATE);
    lfr_audit_report rep;
    if (s) CHECK_STATUS(lfr_audit_verify(s, &rep, &err), LFR_OK);
    lfr_store_close(s);
    tmp_end();
}

/* Signed checkpoints ---------------------------------------------------------- */

static void key_path(char *out, size_t cap) { snprintf(out, cap, "%s/openlfr.sign", dir); }

static void test_sign_key(void) {
    tmp_begin();
    char kp[400];
    key_path(kp, sizeof kp);
    lfr_audit_sign_key k, k2;
    lfr_err err = {{0}};
    int created = 0;
    CHECK_STATUS(lfr_audit_sign_key_load(kp, 0, &k, &created, &err), LFR_ERR_NOT_FOUND);
    CHECK(strstr(err.msg, "missing") != NULL);
    CHECK_STATUS(lfr_audit_sign_key_load(kp, 1, &k, &created, &err), LFR_OK);
    CHECK_EQ_INT(created, 1);
    struct stat sb;
    CHECK(stat(kp, &sb) == 0 && (sb.st_mode & 0777) == 0600 && sb.st_size == 64);
    CHECK_STATUS(lfr_audit_sign_key_load(kp, 1, &k2, &created, &err), LFR_OK);
    CHECK_EQ_INT(created, 0);
    CHECK(memcmp(k.pk, k2.pk, sizeof k.pk) == 0);
    char hex[65];
    uint8_t pk[32];
    lfr_audit_pubkey_hex(k.pk, hex);
    CHECK_EQ_INT(strlen(hex), 64);
    CHECK_STATUS(lfr_audit_pubkey_parse(hex, pk), LFR_OK);
    CHECK(memcmp(pk, k.pk, 32) == 0);
    CHECK_STATUS(lfr_audit_pubkey_parse("abc", pk), LFR_ERR_INVALID_ARG);
    /* readable by others: refused */
    CHECK(chmod(kp, 0644) == 0);
    CHECK_STATUS(lfr_audit_sign_key_load(kp, 1, &k2, NULL, &err), LFR_ERR_PERMISSION);
    CHECK(strstr(err.msg, "0644") != NULL);
    /* damaged: the public half no longer matches */
    CHECK(chmod(kp, 0600) == 0);
    FILE *f = fopen(kp, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 40, SEEK_SET);
        fputc(0x5a ^ k.sk[40], f);
        fclose(f);
    }
    CHECK_STATUS(lfr_audit_sign_key_load(kp, 1, &k2, NULL, &err), LFR_ERR_CORRUPT);
    lfr_audit_sign_key_wipe(&k);
    tmp_end();
}

/* A database of n records plus a checkpoint; *text is the full file. */
static lfr_store *log_with_checkpoint(int n, lfr_audit_sign_key *k, char **text, size_t *len,
                                      int compact) {
    lfr_store *s = make_log(n);
    char kp[400];
    key_path(kp, sizeof kp);
    lfr_err err = {{0}};
    *text = NULL;
    if (!s || lfr_audit_sign_key_load(kp, 1, k, NULL, &err) != LFR_OK) return s;
    lfr_actor a = {"ada", LFR_ROLE_AUDITOR};
    lfr_audit_checkpoint c;
    CHECK_STATUS(lfr_audit_checkpoint_make(s, k, &a, "on_demand", 0, &c, &err), LFR_OK);
    CHECK_EQ_INT(c.seq, n);
    CHECK_EQ_INT(c.record_seq, n + 1);
    lfr_audit_checkpoint g;
    CHECK_STATUS(lfr_audit_checkpoint_get(s, 0, &g, &err), LFR_OK);
    CHECK(memcmp(&g, &c, sizeof g) == 0);
    CHECK_STATUS(lfr_audit_checkpoint_export(s, &g, compact, text, len, &err), LFR_OK);
    return s;
}

static lfr_status verify_text(const char *text, size_t len, const uint8_t *pin,
                              lfr_audit_report *rep) {
    lfr_store_config cfg = {.db_path = dbp, .now = fake_clock, .no_key = 1};
    lfr_store *s = NULL;
    lfr_err err = {{0}};
    lfr_status st = lfr_store_open(&cfg, &s, &err);
    if (st != LFR_OK) return st;
    st = lfr_audit_checkpoint_verify(s, text, len, pin, rep, &err);
    lfr_store_close(s);
    return st;
}

static void test_checkpoint_roundtrip(void) {
    lfr_audit_sign_key k;
    char *text = NULL;
    size_t len = 0;
    lfr_store *s = log_with_checkpoint(12, &k, &text, &len, 0);
    if (!s || !text) { CHECK(0); lfr_store_close(s); tmp_end(); return; }
    CHECK(strncmp(text, "openlfr-checkpoint-v1\nseq 12\n", 29) == 0);
    CHECK(strstr(text, "\nrecord 12 ") != NULL && strstr(text, "\nrecord 13 ") == NULL);
    /* the checkpoint is itself a record, and the log still verifies */
    lfr_audit_report rep;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_audit_verify(s, &rep, &err), LFR_OK);
    CHECK_EQ_INT(rep.head_seq, 13);
    lfr_actor a = {"alice", LFR_ROLE_OPERATOR};
    CHECK_STATUS(lfr_audit_append(s, &a, LFR_AUDIT_EXPORT, 0, NULL, NULL, &err), LFR_OK);
    lfr_store_close(s);
    /* verified without the database key, pinned and unpinned */
    CHECK_STATUS(verify_text(text, len, k.pk, &rep), LFR_OK);
    CHECK_EQ_INT(rep.ok, 1);
    CHECK(strstr(rep.reason, "pinned") != NULL);
    CHECK_STATUS(verify_text(text, len, NULL, &rep), LFR_OK);
    CHECK(strstr(rep.reason, "--pubkey") != NULL);
    /* another key pinned: refused */
    uint8_t other[32];
    memcpy(other, k.pk, 32);
    other[0] ^= 1;
    CHECK_STATUS(verify_text(text, len, other, &rep), LFR_ERR_CORRUPT);
    /* the file altered: the signature fails (a header field), or the
     * record lines no longer match the signed digest */
    char *t2 = strdup(text);
    char *p = strstr(t2, "seq 12");
    p[5] = '1';
    CHECK_STATUS(verify_text(t2, len, NULL, &rep), LFR_ERR_CORRUPT);
    strcpy(t2, text);
    p = strstr(t2, "\nrecord 3 ") + 10;
    *p = *p == 'a' ? 'b' : 'a';
    CHECK_STATUS(verify_text(t2, len, NULL, &rep), LFR_ERR_CORRUPT);
    /* truncated file, garbage */
    CHECK_STATUS(verify_text(text, len - 30, NULL, &rep), LFR_ERR_CORRUPT);
    CHECK_STATUS(verify_text("hello\n", 6, NULL, &rep), LFR_ERR_CORRUPT);
    /* a database opened without its key cannot read sealed data */
    lfr_store_config cfg = {.db_path = dbp, .no_key = 1};
    lfr_store *ro = NULL;
    CHECK_STATUS(lfr_store_open(&cfg, &ro, &err), LFR_OK);
    uint8_t *blob = NULL;
    size_t bl = 0;
    if (ro) CHECK_STATUS(lfr_store_seal(ro, "x", 1, &blob, &bl), LFR_ERR_PERMISSION);
    lfr_store_close(ro);
    free(t2);
    lfr_free(text);
    lfr_audit_sign_key_wipe(&k);
    tmp_end();
}

/* The strongest forgery of a file's owner: triggers dropped, record
 * `edit` changed, every later hash and prev_hash recomputed, the anchors
 * table rewritten to the new hashes. */
static void forge(int64_t edit) {
    sqlite3 *db;
    CHECK(sqlite3_open(dbp, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "DROP TRIGGER IF EXISTS audit_log_no_update;"
                       "DROP TRIGGER IF EXISTS anchors_no_update;",
                       NULL, NULL, NULL) == SQLITE_OK);
    char sql[200];
    snprintf(sql, sizeof sql,
             "UPDATE audit_log SET details = '{\"n\":0,\"note\":\"nothing happened\"}' "
             "WHERE seq = %lld", (long long)edit);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_stmt *q, *u;
    CHECK(sqlite3_prepare_v2(db, "SELECT seq, at, actor, role, action, deployment_id, details, "
                                 "prev_hash FROM audit_log WHERE seq >= ? ORDER BY seq",
                             -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?",
                             -1, &u, NULL) == SQLITE_OK);
    sqlite3_bind_int64(q, 1, edit);
    uint8_t prev[32];
    int first = 1;
    /* collect first: updating while stepping the same table is undefined */
    struct { lfr_audit_record r; char actor[64], role[32], action[64], details[4096]; } *rs =
        calloc(4096, sizeof *rs);
    int n = 0;
    while (sqlite3_step(q) == SQLITE_ROW && n < 4096) {
        lfr_audit_record *r = &rs[n].r;
        r->seq = sqlite3_column_int64(q, 0);
        r->at = sqlite3_column_int64(q, 1);
        snprintf(rs[n].actor, sizeof rs[n].actor, "%s", (const char *)sqlite3_column_text(q, 2));
        snprintf(rs[n].role, sizeof rs[n].role, "%s", (const char *)sqlite3_column_text(q, 3));
        snprintf(rs[n].action, sizeof rs[n].action, "%s", (const char *)sqlite3_column_text(q, 4));
        r->deployment_id = sqlite3_column_int64(q, 5);
        snprintf(rs[n].details, sizeof rs[n].details, "%s",
                 (const char *)sqlite3_column_text(q, 6));
        memcpy(r->prev_hash, sqlite3_column_blob(q, 7), 32);
        n++;
    }
    sqlite3_finalize(q);
    for (int i = 0; i < n; i++) {
        lfr_audit_record *r = &rs[i].r;
        r->actor = rs[i].actor;
        r->role = rs[i].role;
        r->action = rs[i].action;
        r->details = rs[i].details;
        if (!first) memcpy(r->prev_hash, prev, 32);
        first = 0;
        lfr_audit_hash(r, prev);
        sqlite3_bind_blob(u, 1, r->prev_hash, 32, SQLITE_TRANSIENT);
        sqlite3_bind_blob(u, 2, prev, 32, SQLITE_TRANSIENT);
        sqlite3_bind_int64(u, 3, r->seq);
        CHECK(sqlite3_step(u) == SQLITE_DONE);
        sqlite3_reset(u);
    }
    sqlite3_finalize(u);
    free(rs);
    CHECK(sqlite3_exec(db,
                       "UPDATE anchors SET hash = (SELECT hash FROM audit_log l "
                       "WHERE l.seq = anchors.seq)",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
}

static void test_checkpoint_catches_forgery(void) {
    lfr_audit_sign_key k;
    char *full = NULL, *compact = NULL;
    size_t flen = 0, clen = 0;
    lfr_store *s = log_with_checkpoint(20, &k, &full, &flen, 0);
    if (!s || !full) { CHECK(0); lfr_store_close(s); tmp_end(); return; }
    lfr_audit_checkpoint c;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_audit_checkpoint_get(s, 0, &c, &err), LFR_OK);
    CHECK_STATUS(lfr_audit_checkpoint_export(s, &c, 1, &compact, &clen, &err), LFR_OK);
    CHECK(strstr(compact, "record ") == NULL);
    lfr_audit_anchor_info an;
    CHECK_STATUS(lfr_audit_anchor(s, &an, &err), LFR_OK);
    lfr_store_close(s);
    forge(7);
    /* what an attacker gets today: the log and the anchors rewritten, the
     * chain alone reports it intact */
    s = open_store();
    lfr_audit_report rep;
    if (s) CHECK_STATUS(lfr_audit_verify(s, &rep, &err), LFR_OK);
    /* ... and the log can no longer be exported as the checkpoint */
    char *again = NULL;
    size_t alen = 0;
    if (s) CHECK_STATUS(lfr_audit_checkpoint_export(s, &c, 0, &again, &alen, &err),
                        LFR_ERR_INTEGRITY);
    lfr_store_close(s);
    /* the checkpoint held outside names the record that was altered */
    CHECK_STATUS(verify_text(full, flen, k.pk, &rep), LFR_ERR_INTEGRITY);
    CHECK_EQ_INT(rep.bad_seq, 7);
    CHECK(strstr(rep.reason, "differs") != NULL);
    /* the compact form (the QR) still catches it, at its head */
    CHECK_STATUS(verify_text(compact, clen, k.pk, &rep), LFR_ERR_INTEGRITY);
    CHECK_EQ_INT(rep.bad_seq, 20);
    lfr_free(compact);
    lfr_free(full);
    lfr_free(again);
    lfr_audit_sign_key_wipe(&k);
    tmp_end();

    /* the log alone rewritten: the chain blames the anchored record, the
     * checkpoint the altered one */
    s = log_with_checkpoint(10, &k, &full, &flen, 0);
    if (s) CHECK_STATUS(lfr_audit_anchor(s, &an, &err), LFR_OK);
    lfr_store_close(s);
    {
        sqlite3 *db;
        CHECK(sqlite3_open(dbp, &db) == SQLITE_OK);
        /* keep the anchors: the forger forgot them */
        CHECK(sqlite3_exec(db, "CREATE TABLE keep AS SELECT * FROM anchors", NULL, NULL, NULL) ==
              SQLITE_OK);
        sqlite3_close(db);
    }
    forge(3);
    tamper("DELETE FROM anchors; INSERT INTO anchors SELECT * FROM keep; DROP TABLE keep;");
    s = open_store();
    if (s) {
        CHECK_STATUS(lfr_audit_verify(s, &rep, &err), LFR_ERR_INTEGRITY);
        CHECK_EQ_INT(rep.bad_seq, 11);
    }
    lfr_store_close(s);
    CHECK_STATUS(verify_text(full, flen, k.pk, &rep), LFR_ERR_INTEGRITY);
    CHECK_EQ_INT(rep.bad_seq, 3);
    lfr_free(full);
    tmp_end();

    /* truncation below the checkpoint, and two records swapped */
    s = log_with_checkpoint(10, &k, &full, &flen, 0);
    lfr_store_close(s);
    tamper("DELETE FROM audit_log WHERE seq >= 9");
    CHECK_STATUS(verify_text(full, flen, k.pk, &rep), LFR_ERR_INTEGRITY);
    CHECK_EQ_INT(rep.bad_seq, 9);
    CHECK(strstr(rep.reason, "truncated") != NULL);
    lfr_free(full);
    tmp_end();
    s = log_with_checkpoint(10, &k, &full, &flen, 0);
    lfr_store_close(s);
    tamper("UPDATE audit_log SET seq = 1000 WHERE seq = 4;"
           "UPDATE audit_log SET seq = 4 WHERE seq = 5;"
           "UPDATE audit_log SET seq = 5 WHERE seq = 1000;");
    CHECK_STATUS(verify_text(full, flen, k.pk, &rep), LFR_ERR_INTEGRITY);
    CHECK_EQ_INT(rep.bad_seq, 4);
    lfr_free(full);
    lfr_audit_sign_key_wipe(&k);
    tmp_end();
}

static void test_checkpoint_refuses_broken_log(void) {
    lfr_store *s = make_log(5);
    lfr_store_close(s);
    tamper("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2");
    s = open_store();
    char kp[400];
    key_path(kp, sizeof kp);
    lfr_audit_sign_key k;
    lfr_err err = {{0}};
    lfr_audit_checkpoint c;
    lfr_actor a = {"ada", LFR_ROLE_AUDITOR};
    CHECK_STATUS(lfr_audit_sign_key_load(kp, 1, &k, NULL, &err), LFR_OK);
    if (s) CHECK_STATUS(lfr_audit_checkpoint_make(s, &k, &a, "on_demand", 0, &c, &err),
                        LFR_ERR_INTEGRITY);
    CHECK(strstr(err.msg, "never signed") != NULL);
    if (s) CHECK_STATUS(lfr_audit_checkpoint_make(s, &k, &a, "two words", 0, &c, &err),
                        LFR_ERR_INVALID_ARG);
    lfr_store_close(s);
    lfr_audit_sign_key_wipe(&k);
    tmp_end();
}

int main(void) {
    lfr_log_set_level(LFR_LOG_WARN);
    RUN(test_append_and_verify);
    RUN(test_details_rules);
    RUN(test_tamper_edit);
    RUN(test_tamper_delete);
    RUN(test_tamper_swap);
    RUN(test_tamper_insert);
    RUN(test_tamper_truncate_below_anchor);
    RUN(test_anchor_empty_log);
    RUN(test_sign_key);
    RUN(test_checkpoint_roundtrip);
    RUN(test_checkpoint_catches_forgery);
    RUN(test_checkpoint_refuses_broken_log);
    return harness_done("audit");
}
