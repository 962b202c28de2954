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
    return harness_done("audit");
}
