/*
 * store_sqlite.c - the SQLite backend of the store (lfr_store_sqlite_ops)
 * and the schema as a table of migration steps.
 *
 * DESIGN
 *   Each connection runs with: foreign_keys=ON, secure_delete=ON (deleted
 *   rows are overwritten), journal_mode=WAL, synchronous=FULL (a committed
 *   audit record survives a power cut), trusted_schema=OFF, busy timeout.
 *   A new database gets auto_vacuum=INCREMENTAL before its first table, so
 *   lfr_store_compact can give freed (already zeroed) pages back.  The file
 *   is created 0600; SQLite gives -wal and -shm the database's mode.
 *
 *   Migrations: steps[] below, applied in order, each in its own
 *   transaction together with `PRAGMA user_version = N`.  Never edit a step
 *   that has shipped; append a new one.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store_int.h"

static const struct {
    const char *what;
    const char *sql;
} steps[] = {
    {"initial schema: settings, deployments, watchlist, alerts, photo checks, audit log",
     "CREATE TABLE settings("
     "  key TEXT PRIMARY KEY,"
     "  value NOT NULL);"
     /* A deployment row is the transparency record: it stays after purge. */
     "CREATE TABLE deployments("
     "  id INTEGER PRIMARY KEY,"
     "  name TEXT NOT NULL,"
     "  location TEXT NOT NULL,"
     "  purpose TEXT NOT NULL,"
     "  legal_basis TEXT NOT NULL,"
     "  planned_start INTEGER NOT NULL,"
     "  planned_end INTEGER NOT NULL CHECK(planned_end > planned_start),"
     "  threshold REAL NOT NULL CHECK(threshold > -1.0 AND threshold <= 1.0),"
     "  cameras TEXT NOT NULL DEFAULT '',"
     "  state TEXT NOT NULL DEFAULT 'draft'"
     "    CHECK(state IN ('draft','authorised','live','ended','purged')),"
     "  created_by TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  authorised_by TEXT,"
     "  authorised_at INTEGER,"
     "  watchlist_digest TEXT,"          /* BLAKE2b of the authorised watchlist */
     "  started_at INTEGER,"
     "  ended_at INTEGER,"
     "  ended_by TEXT,"
     "  watchlist_deleted_at INTEGER,"
     "  purged_at INTEGER,"
     "  entries_authorised INTEGER);"
     "CREATE TABLE deployment_events("
     "  id INTEGER PRIMARY KEY,"
     "  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
     "  at INTEGER NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  event TEXT NOT NULL,"
     "  details TEXT NOT NULL DEFAULT '{}');"
     "CREATE INDEX deployment_events_dep ON deployment_events(deployment_id);"
     "CREATE TABLE amendments("
     "  id INTEGER PRIMARY KEY,"
     "  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
     "  state TEXT NOT NULL DEFAULT 'proposed'"
     "    CHECK(state IN ('proposed','authorised','withdrawn')),"
     "  reason TEXT NOT NULL CHECK(length(reason) > 0),"
     "  new_threshold REAL,"
     "  remove_entry_id INTEGER,"
     "  proposed_by TEXT NOT NULL,"
     "  proposed_at INTEGER NOT NULL,"
     "  authorised_by TEXT,"
     "  authorised_at INTEGER);"
     "CREATE TABLE watchlist_entries("
     "  id INTEGER PRIMARY KEY,"
     "  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
     "  subject_ref TEXT NOT NULL CHECK(length(subject_ref) > 0),"
     "  display_name TEXT NOT NULL,"
     "  category TEXT NOT NULL CHECK(category IN ('wanted_on_warrant','wanted_for_offence',"
     "    'missing','vulnerable','other')),"
     "  category_other TEXT,"
     "  reason TEXT NOT NULL CHECK(length(reason) > 0),"
     "  image_source TEXT NOT NULL,"
     "  image_date TEXT NOT NULL,"
     "  added_by TEXT NOT NULL,"
     "  added_at INTEGER NOT NULL,"
     "  under_18 INTEGER NOT NULL DEFAULT 0 CHECK(under_18 IN (0,1)),"
     "  under_18_justification TEXT,"
     "  CHECK(under_18 = 0 OR length(under_18_justification) > 0));"
     "CREATE INDEX watchlist_entries_dep ON watchlist_entries(deployment_id);"
     /* image and template are sealed (lfr_store_seal) */
     "CREATE TABLE entry_images("
     "  id INTEGER PRIMARY KEY,"
     "  entry_id INTEGER NOT NULL REFERENCES watchlist_entries(id) ON DELETE CASCADE,"
     "  image BLOB NOT NULL,"
     "  template BLOB NOT NULL,"
     "  template_dim INTEGER NOT NULL,"
     "  added_at INTEGER NOT NULL);"
     "CREATE INDEX entry_images_entry ON entry_images(entry_id);"
     "CREATE TABLE alerts("
     "  id INTEGER PRIMARY KEY,"
     "  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
     "  entry_id INTEGER REFERENCES watchlist_entries(id) ON DELETE SET NULL,"
     "  subject_ref TEXT NOT NULL,"
     "  camera TEXT NOT NULL,"
     "  at INTEGER NOT NULL,"
     "  score REAL NOT NULL,"
     "  threshold REAL NOT NULL,"
     "  face_image BLOB,"                 /* sealed */
     "  decision TEXT CHECK(decision IN ('confirmed','rejected')),"
     "  decided_by TEXT,"
     "  decided_at INTEGER,"
     "  outcome TEXT);"
     "CREATE INDEX alerts_dep ON alerts(deployment_id);"
     "CREATE INDEX alerts_at ON alerts(at);"
     "CREATE TABLE photo_checks("
     "  id INTEGER PRIMARY KEY,"
     "  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
     "  officer TEXT NOT NULL,"
     "  at INTEGER NOT NULL,"
     "  reason TEXT NOT NULL CHECK(length(reason) > 0),"
     "  result TEXT NOT NULL CHECK(result IN ('no_match','match')),"
     "  entry_id INTEGER REFERENCES watchlist_entries(id) ON DELETE SET NULL,"
     "  subject_ref TEXT,"
     "  score REAL,"
     "  image BLOB,"                      /* sealed; only when matched */
     "  CHECK(image IS NULL OR result = 'match'));"
     "CREATE INDEX photo_checks_dep ON photo_checks(deployment_id);"
     /* No foreign key to deployments: the log outlives everything. */
     "CREATE TABLE audit_log("
     "  seq INTEGER PRIMARY KEY,"
     "  at INTEGER NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  role TEXT NOT NULL,"
     "  action TEXT NOT NULL,"
     "  deployment_id INTEGER,"
     "  details TEXT NOT NULL,"
     "  prev_hash BLOB NOT NULL,"
     "  hash BLOB NOT NULL);"
     "CREATE INDEX audit_log_dep ON audit_log(deployment_id);"
     /* Append-only by the software's own hand; the hash chain catches the
      * hand that drops these triggers. */
     "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
     "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
     "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
     "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
     "CREATE TABLE anchors("
     "  id INTEGER PRIMARY KEY,"
     "  at INTEGER NOT NULL,"
     "  seq INTEGER NOT NULL,"
     "  hash BLOB NOT NULL);"
     "CREATE TRIGGER anchors_no_update BEFORE UPDATE ON anchors"
     "  BEGIN SELECT RAISE(ABORT, 'anchors are append-only'); END;"
     "CREATE TRIGGER anchors_no_delete BEFORE DELETE ON anchors"
     "  BEGIN SELECT RAISE(ABORT, 'anchors are append-only'); END;"},
    /* Step 2 (deploy, the server issue).  Ids of entries, images, alerts
     * and checks are never reissued after a deletion (AUTOINCREMENT), so
     * the four tables are rebuilt: each old table is renamed away (SQLite
     * repoints the foreign keys that name it), the new one created and
     * filled, then the old ones dropped, children first. */
    {"deploy: ids never reissued, unique subject per watchlist, cameras, alert dispatch and "
     "outcome, photo check devices and results",
     "ALTER TABLE photo_checks RENAME TO photo_checks_v1;"
     "ALTER TABLE alerts RENAME TO alerts_v1;"
     "ALTER TABLE entry_images RENAME TO entry_images_v1;"
     "ALTER TABLE watchlist_entries RENAME TO watchlist_entries_v1;"
     "CREATE TABLE watchlist_entries("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
     "  subject_ref TEXT NOT NULL CHECK(length(subject_ref) > 0),"
     "  display_name TEXT NOT NULL,"
     "  category TEXT NOT NULL CHECK(category IN ('wanted_on_warrant','wanted_for_offence',"
     "    'missing','vulnerable','other')),"
     "  category_other TEXT,"
     "  reason TEXT NOT NULL CHECK(length(reason) > 0),"
     "  image_source TEXT NOT NULL,"
     "  image_date TEXT NOT NULL,"
     "  added_by TEXT NOT NULL,"
     "  added_at INTEGER NOT NULL,"
     "  under_18 INTEGER NOT NULL DEFAULT 0 CHECK(under_18 IN (0,1)),"
     "  under_18_justification TEXT,"
     "  CHECK(under_18 = 0 OR length(under_18_justification) > 0));"
     "INSERT INTO watchlist_entries SELECT * FROM watchlist_entries_v1;"
     "CREATE TABLE entry_images("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  entry_id INTEGER NOT NULL REFERENCES watchlist_entries(id) ON DELETE CASCADE,"
     "  image BLOB NOT NULL,"
     "  template BLOB NOT NULL,"
     "  template_dim INTEGER NOT NULL,"
     "  added_at INTEGER NOT NULL);"
     "INSERT INTO entry_images SELECT * FROM entry_images_v1;"
     "CREATE TABLE alerts("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
     "  entry_id INTEGER REFERENCES watchlist_entries(id) ON DELETE SET NULL,"
     "  image_id INTEGER,"                /* best watchlist image; no key: it may go first */
     "  subject_ref TEXT NOT NULL,"
     "  camera TEXT NOT NULL,"
     "  at INTEGER NOT NULL,"
     "  score REAL NOT NULL,"
     "  threshold REAL NOT NULL,"
     "  face_image BLOB,"                 /* sealed */
     "  decision TEXT CHECK(decision IN ('confirmed','rejected')),"
     "  decided_by TEXT,"
     "  decided_at INTEGER,"
     "  note TEXT,"                       /* the operator's note with the decision */
     "  dispatched_at INTEGER,"
     "  dispatched_by TEXT,"
     "  dispatched_all INTEGER NOT NULL DEFAULT 0 CHECK(dispatched_all IN (0,1)),"
     "  outcome TEXT CHECK(outcome IN ('engaged','arrested','no_further_action',"
     "    'mistaken_identity')),"
     "  outcome_by TEXT,"
     "  outcome_at INTEGER,"
     "  outcome_note TEXT,"
     "  CHECK(dispatched_at IS NULL OR decision = 'confirmed'));"
     /* step 1's free-text "outcome" was the decision's note */
     "INSERT INTO alerts(id, deployment_id, entry_id, subject_ref, camera, at, score, threshold,"
     "  face_image, decision, decided_by, decided_at, note)"
     "  SELECT id, deployment_id, entry_id, subject_ref, camera, at, score, threshold,"
     "  face_image, decision, decided_by, decided_at, outcome FROM alerts_v1;"
     "CREATE TABLE photo_checks("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
     "  officer TEXT NOT NULL,"
     "  device_id INTEGER NOT NULL DEFAULT 0,"   /* 0: from the CLI */
     "  at INTEGER NOT NULL,"
     "  reason TEXT NOT NULL CHECK(length(reason) > 0),"
     "  result TEXT NOT NULL CHECK(result IN ('no_match','match','no_face','unreadable')),"
     "  entry_id INTEGER REFERENCES watchlist_entries(id) ON DELETE SET NULL,"
     "  subject_ref TEXT,"
     "  score REAL,"
     "  image BLOB,"                      /* sealed; only when matched */
     "  CHECK(image IS NULL OR result = 'match'));"
     "INSERT INTO photo_checks(id, deployment_id, officer, at, reason, result, entry_id,"
     "  subject_ref, score, image)"
     "  SELECT id, deployment_id, officer, at, reason, result, entry_id, subject_ref, score,"
     "  image FROM photo_checks_v1;"
     "DROP TABLE photo_checks_v1;"
     "DROP TABLE alerts_v1;"
     "DROP TABLE entry_images_v1;"
     "DROP TABLE watchlist_entries_v1;"
     "CREATE INDEX watchlist_entries_dep ON watchlist_entries(deployment_id);"
     /* A subject is on a deployment's list once (a rerun import says so).
      * A trigger rather than a unique index: a database that already holds
      * a duplicate still opens, and no new one can be added. */
     "CREATE INDEX watchlist_entries_ref ON watchlist_entries(deployment_id, subject_ref);"
     "CREATE TRIGGER watchlist_entries_unique_ref BEFORE INSERT ON watchlist_entries"
     "  WHEN EXISTS (SELECT 1 FROM watchlist_entries WHERE deployment_id = NEW.deployment_id"
     "    AND subject_ref = NEW.subject_ref)"
     "  BEGIN SELECT RAISE(ABORT, 'subject is already on the list'); END;"
     "CREATE INDEX entry_images_entry ON entry_images(entry_id);"
     "CREATE INDEX alerts_dep ON alerts(deployment_id);"
     "CREATE INDEX alerts_at ON alerts(at);"
     "CREATE INDEX photo_checks_dep ON photo_checks(deployment_id);"
     "CREATE INDEX photo_checks_at ON photo_checks(at);"
     /* who an alert went to; acknowledgements per device */
     "CREATE TABLE alert_dispatches("
     "  alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,"
     "  device_id INTEGER NOT NULL CHECK(device_id > 0),"
     "  PRIMARY KEY(alert_id, device_id)) WITHOUT ROWID;"
     "CREATE TABLE alert_acks("
     "  alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,"
     "  device_id INTEGER NOT NULL,"
     "  acked_by TEXT NOT NULL,"
     "  acked_at INTEGER NOT NULL,"
     "  PRIMARY KEY(alert_id, device_id)) WITHOUT ROWID;"
     /* cameras: the URL may carry credentials, so it is sealed */
     "CREATE TABLE cameras("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
     "  name TEXT NOT NULL CHECK(length(name) > 0),"
     "  url BLOB NOT NULL,"
     "  added_by TEXT NOT NULL,"
     "  added_at INTEGER NOT NULL,"
     "  removed_by TEXT,"
     "  removed_at INTEGER);"
     "CREATE UNIQUE INDEX cameras_in_use ON cameras(deployment_id, name) WHERE removed_at IS NULL;"
     "ALTER TABLE amendments ADD COLUMN unusual_threshold_ok INTEGER NOT NULL DEFAULT 0;"},
    /* Accounts (src/account, the server issue).  Tokens and pairing codes
     * are kept only as BLAKE2b-256 hashes: a copy of the database grants
     * nothing.  login_key (folded, spaces and punctuation removed) is
     * unique, so "PC 1" and "pc1" cannot be two accounts. */
    {"accounts: users with roles and argon2id hashes, sessions, devices, pairing codes",
     "CREATE TABLE users("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  login TEXT NOT NULL CHECK(length(login) > 0),"
     "  login_folded TEXT NOT NULL,"
     "  login_key TEXT NOT NULL UNIQUE,"
     "  display_name TEXT NOT NULL,"
     "  roles INTEGER NOT NULL CHECK(roles > 0),"
     "  pw_hash TEXT NOT NULL CHECK(pw_hash LIKE '$argon2id$%'),"
     "  disabled INTEGER NOT NULL DEFAULT 0 CHECK(disabled IN (0,1)),"
     "  disabled_at INTEGER,"
     "  disabled_by TEXT,"
     "  created_by TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  last_login_at INTEGER NOT NULL DEFAULT 0,"
     "  failures INTEGER NOT NULL DEFAULT 0,"
     "  locked_until INTEGER NOT NULL DEFAULT 0);"
     "CREATE TABLE sessions("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  user_id INTEGER NOT NULL REFERENCES users(id),"
     "  token_hash BLOB NOT NULL UNIQUE CHECK(length(token_hash) = 32),"
     "  created_at INTEGER NOT NULL,"
     "  expires_at INTEGER NOT NULL,"
     "  revoked_at INTEGER);"
     "CREATE INDEX sessions_user ON sessions(user_id);"
     "CREATE TABLE devices("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
     "  user_id INTEGER NOT NULL REFERENCES users(id),"
     "  name TEXT NOT NULL CHECK(length(name) > 0),"
     "  token_hash BLOB NOT NULL UNIQUE CHECK(length(token_hash) = 32),"
     "  paired_at INTEGER NOT NULL,"
     "  last_seen_at INTEGER NOT NULL,"
     "  revoked_at INTEGER,"
     "  revoked_by TEXT);"
     "CREATE INDEX devices_dep ON devices(deployment_id);"
     "CREATE INDEX devices_user ON devices(user_id);"
     "CREATE TABLE pair_codes("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
     "  code_hash BLOB NOT NULL UNIQUE CHECK(length(code_hash) = 32),"
     "  created_by TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  expires_at INTEGER NOT NULL,"
     "  used_at INTEGER,"
     "  device_id INTEGER REFERENCES devices(id));"},
    /* Enrolment grades (issue 11): a watchlist image with quality warnings
     * is kept only when the enrolling officer accepted them, with a reason;
     * both stay with the image for the authorising officer to see. */
    {"enrolment: an image's accepted quality warnings, the reason and who accepted them",
     "ALTER TABLE entry_images ADD COLUMN quality_warnings TEXT;"
     "ALTER TABLE entry_images ADD COLUMN warnings_accepted TEXT;"
     "ALTER TABLE entry_images ADD COLUMN warnings_accepted_by TEXT;"},
    /* Thresholds by what they mean (issue 11): a deployment may be given a
     * target of false alerts per 10,000 faces instead of a threshold; the
     * threshold follows for target_templates templates. */
    {"deployments: target false alerts per 10,000 faces and the size it was derived for",
     "ALTER TABLE deployments ADD COLUMN target_false_alerts REAL NOT NULL DEFAULT 0;"
     "ALTER TABLE deployments ADD COLUMN target_templates INTEGER NOT NULL DEFAULT 0;"},
    /* Model sets (issue 11 section 3): the embedder(s) a deployment's
     * templates are made with; a template is matched only with templates of
     * its own set.  Existing deployments and templates are mfn192. */
    {"deployments and watchlist templates: the model set (mfn192 for existing rows)",
     "ALTER TABLE deployments ADD COLUMN model_set TEXT NOT NULL DEFAULT 'mfn192';"
     "ALTER TABLE entry_images ADD COLUMN model_set TEXT NOT NULL DEFAULT 'mfn192';"},
    /* What matched (issue 13 gaps): a best shot or a track template, and how
     * many embeddings it held.  Alerts stored before are "unknown", 0: a
     * template may have raised them too. */
    {"alerts: what matched (best shot or track template) and its embeddings",
     "ALTER TABLE alerts ADD COLUMN match_source TEXT NOT NULL DEFAULT 'unknown' "
     "  CHECK(match_source IN ('best_shot', 'track_template', 'unknown'));"
     "ALTER TABLE alerts ADD COLUMN template_n INTEGER NOT NULL DEFAULT 0 "
     "  CHECK(template_n >= 0);"},
    /* Per-camera RTSP transport (deploy.h lfr_rtsp_transport): some cameras
     * only speak RTP over UDP.  Existing cameras keep TCP. */
    {"cameras: the RTSP transport, tcp or udp (tcp for existing rows)",
     "ALTER TABLE cameras ADD COLUMN rtsp_transport TEXT NOT NULL DEFAULT 'tcp' "
     "  CHECK(rtsp_transport IN ('tcp', 'udp'));"},
    /* Where each further photo of an entry comes from and when it was taken
     * (watchlist.add_photo); NULL for an entry's first photo, whose are the
     * entry's own image_source and image_date. */
    {"entry_images: each added photo's source and date",
     "ALTER TABLE entry_images ADD COLUMN image_source TEXT;"
     "ALTER TABLE entry_images ADD COLUMN image_date TEXT;"},
    /* How many photos the watchlist template that matched averaged (an
     * entry of several photos is matched by their mean, which resembles
     * strangers more often: its likeness is read on that scale).  Alerts
     * stored before are 0, not recorded. */
    {"alerts: the photos averaged into the watchlist template that matched",
     "ALTER TABLE alerts ADD COLUMN entry_photos INTEGER NOT NULL DEFAULT 0 "
     "  CHECK(entry_photos >= 0);"},
    /* Who added each photo of an entry, so that every photo's provenance
     * can be listed (watchlist.photos) without reading the audit log.
     * NULL for photos stored before: an entry's first photo is the entry's
     * own (watchlist_entries.added_by). */
    {"entry_images: who added each photo",
     "ALTER TABLE entry_images ADD COLUMN added_by TEXT;"},
};

#define N_STEPS ((int)(sizeof steps / sizeof steps[0]))

int lfr_store_sqlite_latest(void) { return N_STEPS; }

#define DB(s) ((sqlite3 *)(s)->impl)

static lfr_status map_rc(int rc) {
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return LFR_OK;
    case SQLITE_NOMEM: return LFR_ERR_NOMEM;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE: return LFR_ERR_INVALID_ARG;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return LFR_ERR_CORRUPT;
    case SQLITE_TOOBIG: return LFR_ERR_TOO_LARGE;
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_READONLY: return LFR_ERR_PERMISSION;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return LFR_ERR_BUSY;   /* another connection holds the lock */
    default: return LFR_ERR_IO;
    }
}

static lfr_status fail(sqlite3 *db, int rc, lfr_err *err, const char *what) {
    lfr_status st = map_rc(rc);
    if (st == LFR_OK) st = LFR_ERR_IO;
    return lfr_err_set(err, st, "%s: %s%s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
                       (rc & 0xff) == SQLITE_BUSY ? " (another process holds the database)" : "");
}

static lfr_status sq_exec(lfr_store *s, const char *sql, lfr_err *err) {
    int rc = sqlite3_exec(DB(s), sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LFR_OK : fail(DB(s), rc, err, "sql");
}

static int sq_version(lfr_store *s) {
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(DB(s), "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static lfr_status migrate(lfr_store *s, lfr_err *err) {
    int v = sq_version(s);
    if (v < 0) return fail(DB(s), sqlite3_errcode(DB(s)), err, "reading schema version");
    if (v > N_STEPS)
        return lfr_err_set(err, LFR_ERR_UNSUPPORTED,
                           "database schema version %d is newer than this openlfr (%d)", v,
                           N_STEPS);
    for (int i = v; i < N_STEPS; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", i + 1);
        lfr_status st = sq_exec(s, "BEGIN IMMEDIATE", err);
        if (st != LFR_OK) return st;
        st = sq_exec(s, steps[i].sql, err);
        if (st == LFR_OK) st = sq_exec(s, sql, err);
        if (st == LFR_OK) st = sq_exec(s, "COMMIT", err);
        if (st != LFR_OK) {
            if (!sqlite3_get_autocommit(DB(s))) sqlite3_exec(DB(s), "ROLLBACK", NULL, NULL, NULL);
            lfr_log(LFR_LOG_ERROR, "schema step %d (%s) failed", i + 1, steps[i].what);
            return st;
        }
        lfr_log(LFR_LOG_DEBUG, "applied schema step %d: %s", i + 1, steps[i].what);
    }
    return LFR_OK;
}

static lfr_status sq_open(lfr_store *s, const char *path, int busy_ms, lfr_err *err) {
    /* Create the file private before SQLite does (it would use 0644). */
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return lfr_err_set(err, LFR_ERR_IO, "cannot open database %s: %s", path, strerror(errno));
    close(fd);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                 SQLITE_OPEN_NOFOLLOW,
                             NULL);
    if (rc != SQLITE_OK) {
        lfr_status st = fail(db, rc, err, path);
        sqlite3_close(db);
        return st;
    }
    s->impl = db;
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busy_ms);
    /* auto_vacuum only takes effect before the first table exists. */
    const char *pragmas =
        "PRAGMA auto_vacuum = INCREMENTAL;"
        "PRAGMA foreign_keys = ON;"
        "PRAGMA secure_delete = ON;"
        "PRAGMA trusted_schema = OFF;"
        "PRAGMA synchronous = FULL;";
    lfr_status st = sq_exec(s, pragmas, err);
    if (st != LFR_OK) return st;
    sqlite3_stmt *q;
    rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &q, NULL);
    if (rc != SQLITE_OK) return fail(db, rc, err, path);
    rc = sqlite3_step(q);
    int wal = rc == SQLITE_ROW &&
              strcmp((const char *)sqlite3_column_text(q, 0), "wal") == 0;
    sqlite3_finalize(q);
    if (!wal) return fail(db, rc == SQLITE_ROW ? SQLITE_ERROR : rc, err, "enabling WAL mode");
    /* Confirm the settings took (secure_delete can be compiled out). */
    rc = sqlite3_prepare_v2(db, "PRAGMA secure_delete", -1, &q, NULL);
    int sd = rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 1;
    sqlite3_finalize(q);
    if (!sd) return lfr_err_set(err, LFR_ERR_UNSUPPORTED, "SQLite refused secure_delete");
    return migrate(s, err);
}

static void sq_close(lfr_store *s) {
    sqlite3_close_v2(DB(s));
    s->impl = NULL;
}

static lfr_status sq_prepare(lfr_store *s, const char *sql, void **out, lfr_err *err) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(DB(s), sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return fail(DB(s), rc, err, "sql prepare");
    *out = st;
    return LFR_OK;
}

static lfr_status sq_bind_int64(void *st, int i, int64_t v) {
    return map_rc(sqlite3_bind_int64(st, i, v));
}
static lfr_status sq_bind_double(void *st, int i, double v) {
    return map_rc(sqlite3_bind_double(st, i, v));
}
static lfr_status sq_bind_text(void *st, int i, const char *v) {
    return map_rc(sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT));
}
static lfr_status sq_bind_blob(void *st, int i, const void *v, size_t n) {
    return map_rc(sqlite3_bind_blob64(st, i, v, n, SQLITE_TRANSIENT));
}
static lfr_status sq_bind_null(void *st, int i) { return map_rc(sqlite3_bind_null(st, i)); }

static lfr_status sq_step(lfr_store *s, void *st, int *row, lfr_err *err) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *row = 1;
        return LFR_OK;
    }
    *row = 0;
    if (rc == SQLITE_DONE) return LFR_OK;
    return fail(DB(s), rc, err, "sql");
}

static lfr_status sq_reset(void *st) {
    sqlite3_clear_bindings(st);
    return map_rc(sqlite3_reset(st));
}
static int sq_is_null(void *st, int c) { return sqlite3_column_type(st, c) == SQLITE_NULL; }
static int64_t sq_int64(void *st, int c) { return sqlite3_column_int64(st, c); }
static double sq_double(void *st, int c) { return sqlite3_column_double(st, c); }
static const char *sq_text(void *st, int c) { return (const char *)sqlite3_column_text(st, c); }
static const void *sq_blob(void *st, int c, size_t *n) {
    const void *b = sqlite3_column_blob(st, c);
    *n = (size_t)sqlite3_column_bytes(st, c);
    return b;
}
static void sq_finalize(void *st) { sqlite3_finalize(st); }
static int64_t sq_last_id(lfr_store *s) { return sqlite3_last_insert_rowid(DB(s)); }
static int64_t sq_changes(lfr_store *s) { return sqlite3_changes64(DB(s)); }

static lfr_status sq_tx_begin(lfr_store *s, int depth) {
    char sql[64];
    if (depth == 1) snprintf(sql, sizeof sql, "BEGIN IMMEDIATE");
    else snprintf(sql, sizeof sql, "SAVEPOINT lfr%d", depth);
    return sq_exec(s, sql, NULL);
}

static lfr_status sq_tx_commit(lfr_store *s, int depth) {
    char sql[64];
    if (sqlite3_get_autocommit(DB(s))) return LFR_ERR_IO; /* rolled back under us */
    if (depth == 1) snprintf(sql, sizeof sql, "COMMIT");
    else snprintf(sql, sizeof sql, "RELEASE lfr%d", depth);
    return sq_exec(s, sql, NULL);
}

static void sq_tx_rollback(lfr_store *s, int depth) {
    char sql[96];
    if (sqlite3_get_autocommit(DB(s))) return; /* SQLite already rolled back */
    if (depth == 1) snprintf(sql, sizeof sql, "ROLLBACK");
    else snprintf(sql, sizeof sql, "ROLLBACK TO lfr%d; RELEASE lfr%d", depth, depth);
    sqlite3_exec(DB(s), sql, NULL, NULL, NULL);
}

static lfr_status sq_compact(lfr_store *s, lfr_err *err) {
    lfr_status st = sq_exec(s, "PRAGMA incremental_vacuum", err);
    if (st != LFR_OK) return st;
    int busy = 0, nlog = 0, ncp = 0;
    int rc = sqlite3_wal_checkpoint_v2(DB(s), NULL, SQLITE_CHECKPOINT_TRUNCATE, &nlog, &ncp);
    if (rc == SQLITE_BUSY) busy = 1;
    else if (rc != SQLITE_OK) return fail(DB(s), rc, err, "wal checkpoint");
    if (busy)
        return lfr_err_set(err, LFR_ERR_IO,
                           "WAL checkpoint blocked by another connection; deleted data may "
                           "remain in the -wal file until the next checkpoint");
    return LFR_OK;
}

static lfr_status sq_integrity(lfr_store *s, lfr_err *err) {
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(DB(s), "PRAGMA integrity_check", -1, &q, NULL);
    if (rc != SQLITE_OK) return fail(DB(s), rc, err, "integrity_check");
    lfr_status st = LFR_OK;
    rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) st = fail(DB(s), rc, err, "integrity_check");
    else if (strcmp((const char *)sqlite3_column_text(q, 0), "ok") != 0)
        st = lfr_err_set(err, LFR_ERR_CORRUPT, "integrity_check: %s", sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    if (st != LFR_OK) return st;
    rc = sqlite3_prepare_v2(DB(s), "PRAGMA foreign_key_check", -1, &q, NULL);
    if (rc != SQLITE_OK) return fail(DB(s), rc, err, "foreign_key_check");
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        st = lfr_err_set(err, LFR_ERR_CORRUPT, "foreign key broken in table %s row %lld",
                         sqlite3_column_text(q, 0), (long long)sqlite3_column_int64(q, 1));
    else if (rc != SQLITE_DONE) st = fail(DB(s), rc, err, "foreign_key_check");
    sqlite3_finalize(q);
    return st;
}

static lfr_status sq_journal_mode(lfr_store *s, char *buf, size_t cap) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(DB(s), "PRAGMA journal_mode", -1, &q, NULL) != SQLITE_OK)
        return LFR_ERR_IO;
    lfr_status st = LFR_ERR_IO;
    if (sqlite3_step(q) == SQLITE_ROW) {
        snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(q, 0));
        st = LFR_OK;
    }
    sqlite3_finalize(q);
    return st;
}

const lfr_store_ops lfr_store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .bind_int64 = sq_bind_int64,
    .bind_double = sq_bind_double,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .reset = sq_reset,
    .is_null = sq_is_null,
    .col_int64 = sq_int64,
    .col_double = sq_double,
    .col_text = sq_text,
    .col_blob = sq_blob,
    .finalize = sq_finalize,
    .last_id = sq_last_id,
    .changes = sq_changes,
    .tx_begin = sq_tx_begin,
    .tx_commit = sq_tx_commit,
    .tx_rollback = sq_tx_rollback,
    .schema_version = sq_version,
    .compact = sq_compact,
    .integrity_check = sq_integrity,
    .journal_mode = sq_journal_mode,
};
