/*
 * audit.h - the append-only, hash-chained audit log.
 *
 * OVERVIEW
 *   Every decision openlfr takes or records is one audit record:
 *     (seq, at, actor, role, action, deployment id, details, prev_hash, hash)
 *   seq counts from 1 without gaps; `at` is the store's clock (UTC seconds);
 *   details is canonical JSON (jansson, compact, keys sorted, ASCII, reals
 *   with 15 significant digits);
 *   prev_hash is the hash of record seq-1 (32 zero bytes for seq 1) and
 *     hash = BLAKE2b-256("openlfr-audit-v1" || u64le(seq) || i64le(at) ||
 *            lp(actor) || lp(role) || lp(action) || u8(has deployment) ||
 *            i64le(deployment id or 0) || lp(details) || lp(prev_hash))
 *   where lp(x) = u64le(length of x) || x.  Anyone holding the database can
 *   recompute the chain (unkeyed hash: an oversight board needs no secret).
 *
 *   lfr_audit_append writes a record inside the caller's transaction (it
 *   opens a nested one), so a change and its record commit or vanish
 *   together.  lfr_audit_verify walks the chain and names the FIRST bad
 *   record: modified (hash mismatch), removed (seq gap / prev_hash
 *   mismatch), inserted or reordered (prev_hash mismatch).  An unkeyed chain
 *   cannot by itself show that its newest records were cut off; that is what
 *   anchors are for: lfr_audit_anchor stores the head (seq, hash) in the
 *   anchors table and returns it for the transparency report, and verify
 *   checks every anchor is still on the chain, so truncation below a
 *   published anchor is detected.
 *
 *   The log never holds biometric data or images: details are refused
 *   (LFR_ERR_INVALID_ARG) when larger than LFR_MAX_AUDIT_DETAILS, when they
 *   use a key such as "image"/"template"/"embedding", carry an array of
 *   more than LFR_MAX_AUDIT_NUMBER_ARRAY numbers, a string longer than
 *   LFR_MAX_TEXT, or a string that starts like a JPEG/PNG/data: URL.
 *
 * OWNERSHIP
 *   No allocation crosses this API: reports and anchors are caller-owned
 *   structs; records passed to an lfr_audit_each callback are valid only
 *   during the call.
 */
#ifndef LFR_AUDIT_H
#define LFR_AUDIT_H

#include <stdint.h>

#include "core/core.h"
#include "store/store.h"

/* Actions: enum + stable names (the names are what the log stores). */
#define LFR_AUDIT_ACTION_LIST(X)                                               \
    X(DEPLOYMENT_CREATE, "deployment.create")                                  \
    X(DEPLOYMENT_UPDATE, "deployment.update")     /* draft edits */            \
    X(DEPLOYMENT_AUTHORISE, "deployment.authorise")                            \
    X(DEPLOYMENT_START, "deployment.start")                                    \
    X(DEPLOYMENT_END, "deployment.end")                                        \
    X(DEPLOYMENT_PURGE, "deployment.purge")                                    \
    X(DEPLOYMENT_AMEND_PROPOSE, "deployment.amend.propose")                    \
    X(DEPLOYMENT_AMEND, "deployment.amend")       /* authorised and applied */ \
    X(WATCHLIST_ADD, "watchlist.add")                                          \
    X(WATCHLIST_IMAGE_ADD, "watchlist.image_add")                              \
    X(WATCHLIST_REMOVE, "watchlist.remove")                                    \
    X(WATCHLIST_IMPORT, "watchlist.import")                                    \
    X(CHECK_PHOTO, "check.photo")                                              \
    X(ALERT_RAISE, "alert.raise")                                              \
    X(ALERT_DECISION, "alert.decision")                                        \
    X(ALERT_UPDATE, "alert.update")                                            \
    X(EXPORT, "export")                                                        \
    X(RETENTION_DELETE, "retention.delete")       /* deletion receipt */       \
    X(SETTING_CHANGE, "setting.change")                                        \
    X(CAMERA_ADD, "camera.add")                                                \
    X(CAMERA_REMOVE, "camera.remove")                                          \
    X(ALERT_DISPATCH, "alert.dispatch")           /* to officers' devices */   \
    X(ALERT_ACK, "alert.ack")                     /* an officer saw it */      \
    X(ALERT_OUTCOME, "alert.outcome")             /* engaged, arrested, ... */ \
    X(USER_ADD, "user.add")                                                    \
    X(USER_DISABLE, "user.disable")                                            \
    X(USER_PASSWD, "user.passwd")                                              \
    X(SESSION_LOGIN, "session.login")                                          \
    X(SESSION_LOGIN_FAIL, "session.login_fail")                                \
    X(SESSION_LOGOUT, "session.logout")                                        \
    X(DEVICE_PAIR_CODE, "device.pair_code")       /* operator made a code */   \
    X(DEVICE_PAIR, "device.pair")                 /* a device redeemed it */   \
    X(DEVICE_REVOKE, "device.revoke")                                          \
    X(AUDIT_READ, "audit.read")                   /* someone read the log */   \
    X(CHECKPOINT, "audit.checkpoint")             /* a signed checkpoint */    \
    X(EVAL_START, "eval.start")                   /* evaluation run started */ \
    X(EVAL_CANCEL, "eval.cancel")                 /* someone cancelled it */   \
    X(EVAL_END, "eval.end")                       /* done, failed, cancelled */

typedef enum lfr_audit_action {
#define LFR_AUDIT_ACTION_ENUM(id, name) LFR_AUDIT_##id,
    LFR_AUDIT_ACTION_LIST(LFR_AUDIT_ACTION_ENUM)
#undef LFR_AUDIT_ACTION_ENUM
    LFR_AUDIT_ACTION_COUNT
} lfr_audit_action;

const char *lfr_audit_action_name(lfr_audit_action a);   /* "deployment.create" */

/* Roles (DESIGN.md): who acted, as what. */
#define LFR_ROLE_LIST(X)                                                       \
    X(SYSTEM, "system")                                                        \
    X(OPERATOR, "operator")                                                    \
    X(OFFICER, "officer")                                                      \
    X(AUTHORISER, "authorising_officer")                                       \
    X(AUDITOR, "auditor")                                                      \
    X(ADMIN, "admin")

typedef enum lfr_role {
#define LFR_ROLE_ENUM(id, name) LFR_ROLE_##id,
    LFR_ROLE_LIST(LFR_ROLE_ENUM)
#undef LFR_ROLE_ENUM
    LFR_ROLE_COUNT
} lfr_role;

const char *lfr_role_name(lfr_role r);
/* LFR_ERR_INVALID_ARG for an unknown name. */
lfr_status lfr_role_parse(const char *name, lfr_role *out);

/* Who did it: a person's name or id (non-empty, < LFR_MAX_ACTOR bytes, no
 * control characters) and the role they acted in. */
typedef struct lfr_actor {
    const char *name;
    lfr_role role;
} lfr_actor;

lfr_status lfr_actor_check(const lfr_actor *a, lfr_err *err);

#define LFR_AUDIT_HASH_BYTES 32

/* Appends one record.  deployment_id 0 = not about one deployment.
 * details_json: a JSON object (NULL = {}), stored canonically.  *seq_out
 * (may be NULL) receives the new record's seq.  Runs in a nested
 * transaction: call it inside the transaction of the change it records. */
lfr_status lfr_audit_append(lfr_store *s, const lfr_actor *actor, lfr_audit_action action,
                            int64_t deployment_id, const char *details_json, int64_t *seq_out,
                            lfr_err *err);

typedef struct lfr_audit_report {
    int ok;                                   /* 1 = chain and anchors intact */
    int64_t records;                          /* records checked */
    int64_t anchors;                          /* anchors checked */
    int64_t head_seq;                         /* last record (0 if empty) */
    uint8_t head_hash[LFR_AUDIT_HASH_BYTES];
    int64_t bad_seq;                          /* first bad record, 0 if ok */
    char reason[256];                         /* why it is bad */
} lfr_audit_report;

/* LFR_OK when intact, LFR_ERR_INTEGRITY when not (report says where and
 * why), another code when the log could not be read. */
lfr_status lfr_audit_verify(lfr_store *s, lfr_audit_report *report, lfr_err *err);

typedef struct lfr_audit_anchor_info {
    int64_t id;
    int64_t at;
    int64_t seq;
    uint8_t hash[LFR_AUDIT_HASH_BYTES];
} lfr_audit_anchor_info;

/* Records the current head in the anchors table (LFR_ERR_STATE when the log
 * is empty).  Print the result in the transparency report. */
lfr_status lfr_audit_anchor(lfr_store *s, lfr_audit_anchor_info *out, lfr_err *err);

typedef struct lfr_audit_record {
    int64_t seq;
    int64_t at;
    const char *actor;
    const char *role;
    const char *action;
    int64_t deployment_id;                    /* 0 = none */
    const char *details;                      /* canonical JSON */
    uint8_t prev_hash[LFR_AUDIT_HASH_BYTES];
    uint8_t hash[LFR_AUDIT_HASH_BYTES];
} lfr_audit_record;

/* Calls fn for records with seq >= from_seq (and of one deployment when
 * deployment_id > 0), at most `limit` (0 = all), in seq order.  fn returns
 * nonzero to stop. */
lfr_status lfr_audit_each(lfr_store *s, int64_t deployment_id, int64_t from_seq, int64_t limit,
                          int (*fn)(const lfr_audit_record *r, void *ctx), void *ctx,
                          lfr_err *err);

/* The hash of a record's fields (as stored), e.g. for external verifiers. */
void lfr_audit_hash(const lfr_audit_record *r, uint8_t out[LFR_AUDIT_HASH_BYTES]);
void lfr_audit_hash_hex(const uint8_t h[LFR_AUDIT_HASH_BYTES], char out[2 * LFR_AUDIT_HASH_BYTES + 1]);

/* Signed checkpoints ---------------------------------------------------------
 * The chain above can be recomputed by anyone who can write the database,
 * anchors included.  A checkpoint makes history evident to someone OUTSIDE
 * the van: the van's Ed25519 key (libsodium crypto_sign; a key file of its
 * own, 0600, kept apart from the database and never in it) signs
 *   (seq N, the hash of record N, time, reason, deployment, counts, and the
 *    digest of the short hashes of records 1..N)
 * and the signed text is exported as a small file an oversight body keeps.
 * Making one is itself an audit record (audit.checkpoint, seq N+1, whose
 * details hold the signed fields and the signature, so any checkpoint can be
 * exported again later).  Verifying a log against a checkpoint file needs no
 * secret: only the public key (pinned by the verifier, or the file's own).
 * Because every record's hash is vouched for (first 8 bytes, bound by the
 * signed digest; the full head hash binds the whole chain), a rewritten,
 * truncated or reordered history is caught and the FIRST record that differs
 * is named, even when the forger recomputed every later hash and rewrote the
 * anchors table.
 *
 * File format (text, LF; the signature covers every byte before the
 * "signature" line):
 *   openlfr-checkpoint-v1
 *   seq N
 *   head HEX64
 *   at UNIX_SECONDS
 *   reason TEXT            (deployment.authorise, ..., on_demand)
 *   deployment ID          (0 = the whole installation)
 *   counts deployments=D alerts=A photo_checks=C
 *   hashes HEX64           (BLAKE2b-256 of the record lines below, as text)
 *   pubkey HEX64
 *   signature HEX128
 *   record 1 HEX16
 *   ...
 *   record N HEX16
 */
#define LFR_AUDIT_SIGN_PK_BYTES 32
#define LFR_AUDIT_SIGN_SK_BYTES 64
#define LFR_AUDIT_SIG_BYTES 64
#define LFR_AUDIT_SHORT_HASH_BYTES 8

typedef struct lfr_audit_sign_key {
    uint8_t pk[LFR_AUDIT_SIGN_PK_BYTES];
    uint8_t sk[LFR_AUDIT_SIGN_SK_BYTES];   /* wipe with lfr_audit_sign_key_wipe */
} lfr_audit_sign_key;

/* Loads the signing key file (64 raw bytes, libsodium's Ed25519 secret
 * key).  create = 1 makes a new key (0600, O_EXCL) when the file does not
 * exist (*created = 1).  Refused (LFR_ERR_PERMISSION) when group or others
 * can read or write it, it is not a regular file, or another user owns it;
 * LFR_ERR_CORRUPT when it has the wrong size or its public half does not
 * match. */
lfr_status lfr_audit_sign_key_load(const char *path, int create, lfr_audit_sign_key *out,
                                   int *created, lfr_err *err);
void lfr_audit_sign_key_wipe(lfr_audit_sign_key *k);
/* Hex of a public key (64 chars + NUL). */
void lfr_audit_pubkey_hex(const uint8_t pk[LFR_AUDIT_SIGN_PK_BYTES], char out[65]);
lfr_status lfr_audit_pubkey_parse(const char *hex, uint8_t pk[LFR_AUDIT_SIGN_PK_BYTES]);

typedef struct lfr_audit_checkpoint {
    int64_t seq;                               /* the last record vouched for */
    uint8_t head[LFR_AUDIT_HASH_BYTES];        /* its hash */
    int64_t at;
    char reason[64];
    int64_t deployment_id;
    int64_t deployments, alerts, photo_checks; /* rows held when made */
    uint8_t hashes[LFR_AUDIT_HASH_BYTES];      /* digest of the record lines */
    uint8_t pk[LFR_AUDIT_SIGN_PK_BYTES];
    uint8_t sig[LFR_AUDIT_SIG_BYTES];
    int64_t record_seq;                        /* the audit.checkpoint record (N+1) */
} lfr_audit_checkpoint;

/* Makes a checkpoint of the log as it is now (after verifying the chain:
 * a broken chain is never signed, LFR_ERR_INTEGRITY) and appends its
 * audit.checkpoint record, in one transaction.  reason: an action name or
 * "on_demand"; deployment_id 0 = none. */
lfr_status lfr_audit_checkpoint_make(lfr_store *s, const lfr_audit_sign_key *k,
                                     const lfr_actor *by, const char *reason,
                                     int64_t deployment_id, lfr_audit_checkpoint *out,
                                     lfr_err *err);

/* The checkpoint recorded by audit.checkpoint record `record_seq` (0 = the
 * newest), re-read from the log. */
lfr_status lfr_audit_checkpoint_get(lfr_store *s, int64_t record_seq,
                                    lfr_audit_checkpoint *out, lfr_err *err);

/* The file text of a checkpoint (format above; *text malloc'd, caller
 * lfr_frees).  The record lines come from the log as it is now and must
 * still match the signed digest (else LFR_ERR_INTEGRITY: the log changed
 * since the checkpoint was made).  compact = 1 leaves the record lines out
 * (for a QR code: the head is still verifiable, the first differing record
 * is then not named). */
lfr_status lfr_audit_checkpoint_export(lfr_store *s, const lfr_audit_checkpoint *c,
                                       int compact, char **text, size_t *len, lfr_err *err);

/* Verifies the log against one checkpoint file's text.  pinned: the
 * public key the verifier trusts (NULL: the file's own key, and
 * report->reason says so).  LFR_OK when the log still holds exactly what
 * the checkpoint vouches for; LFR_ERR_INTEGRITY with report->bad_seq = the
 * first record that differs (or the first missing one) and the reason;
 * LFR_ERR_CORRUPT for a file that is not a valid signed checkpoint (bad
 * format, bad signature, another key than pinned). */
lfr_status lfr_audit_checkpoint_verify(lfr_store *s, const char *text, size_t len,
                                       const uint8_t *pinned, lfr_audit_report *report,
                                       lfr_err *err);

/* Canonical form of a details object (the rules above); caller lfr_frees
 * *out.  Exposed for tests and for callers that want to pre-check. */
lfr_status lfr_audit_details_canonical(const char *json, char **out, lfr_err *err);

#endif
