/*
 * audit.c - the hash-chained audit log.  See audit.h for the record format
 * and the rules on details.
 */
#include "audit.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const action_names[LFR_AUDIT_ACTION_COUNT] = {
#define LFR_AUDIT_ACTION_ROW(id, name) [LFR_AUDIT_##id] = name,
    LFR_AUDIT_ACTION_LIST(LFR_AUDIT_ACTION_ROW)
#undef LFR_AUDIT_ACTION_ROW
};

static const char *const role_names[LFR_ROLE_COUNT] = {
#define LFR_ROLE_ROW(id, name) [LFR_ROLE_##id] = name,
    LFR_ROLE_LIST(LFR_ROLE_ROW)
#undef LFR_ROLE_ROW
};

const char *lfr_audit_action_name(lfr_audit_action a) {
    return (unsigned)a < LFR_AUDIT_ACTION_COUNT ? action_names[a] : "unknown";
}

const char *lfr_role_name(lfr_role r) {
    return (unsigned)r < LFR_ROLE_COUNT ? role_names[r] : "unknown";
}

lfr_status lfr_role_parse(const char *name, lfr_role *out) {
    for (int i = 0; i < LFR_ROLE_COUNT; i++)
        if (name && strcmp(name, role_names[i]) == 0) {
            *out = (lfr_role)i;
            return LFR_OK;
        }
    return LFR_ERR_INVALID_ARG;
}

lfr_status lfr_actor_check(const lfr_actor *a, lfr_err *err) {
    if (!a || !a->name || !a->name[0])
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "who is acting? (an officer's name or id "
                                                     "is required)");
    size_t n = strlen(a->name);
    if (n >= LFR_MAX_ACTOR)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "actor name longer than %d bytes",
                           LFR_MAX_ACTOR - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)a->name[i] < 0x20 || a->name[i] == 0x7f)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "actor name has control characters");
    if ((unsigned)a->role >= LFR_ROLE_COUNT)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "unknown role");
    return LFR_OK;
}

/* Details ------------------------------------------------------------------ */
static const char *const forbidden_keys[] = {
    "image", "images", "image_data", "template", "templates", "embedding", "embeddings",
    "face", "face_image", "face_crop", "photo", "photo_data", "jpeg", "png", "blob",
    "vector", "features", "biometric", "biometrics",
};

static lfr_status check_value(json_t *v, int depth, lfr_err *err) {
    if (depth > 6) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "audit details nested too deep");
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            for (size_t i = 0; i < sizeof forbidden_keys / sizeof forbidden_keys[0]; i++)
                if (strcmp(k, forbidden_keys[i]) == 0)
                    return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                                       "audit details may not carry \"%s\": no biometric data "
                                       "or images in the audit log", k);
            lfr_status st = check_value(x, depth + 1, err);
            if (st != LFR_OK) return st;
        }
    } else if (json_is_array(v)) {
        size_t i, numbers = 0;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (json_is_number(x)) numbers++;
            lfr_status st = check_value(x, depth + 1, err);
            if (st != LFR_OK) return st;
        }
        if (numbers > LFR_MAX_AUDIT_NUMBER_ARRAY)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "audit details hold an array of %zu numbers (max %d): looks "
                               "like biometric data", numbers, LFR_MAX_AUDIT_NUMBER_ARRAY);
    } else if (json_is_string(v)) {
        const unsigned char *s = (const unsigned char *)json_string_value(v);
        size_t n = json_string_length(v);
        if (n >= LFR_MAX_TEXT)
            return lfr_err_set(err, LFR_ERR_TOO_LARGE, "audit details string longer than %d",
                               LFR_MAX_TEXT - 1);
        if ((n >= 3 && s[0] == 0xff && s[1] == 0xd8 && s[2] == 0xff) ||
            (n >= 4 && memcmp(s, "\x89PNG", 4) == 0) || strncmp((const char *)s, "data:", 5) == 0 ||
            strncmp((const char *)s, "/9j/", 4) == 0 || strncmp((const char *)s, "iVBORw0KGgo", 11) == 0)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "audit details hold what looks like an image");
    }
    return LFR_OK;
}

lfr_status lfr_audit_details_canonical(const char *json, char **out, lfr_err *err) {
    *out = NULL;
    if (!json) json = "{}";
    if (strlen(json) > LFR_MAX_AUDIT_DETAILS)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE,
                           "audit details over %d bytes (no images or templates in the log)",
                           LFR_MAX_AUDIT_DETAILS);
    json_error_t je;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (!root) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "audit details: %s", je.text);
    lfr_status st = LFR_OK;
    if (!json_is_object(root))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "audit details must be a JSON object");
    if (st == LFR_OK) st = check_value(root, 0, err);
    char *dump = NULL;
    if (st == LFR_OK) {
        dump = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII |
                                    JSON_REAL_PRECISION(15));
        if (!dump) st = LFR_ERR_NOMEM;
    }
    json_decref(root);
    if (st != LFR_OK) return st;
    if (strlen(dump) > LFR_MAX_AUDIT_DETAILS) {
        free(dump);
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "audit details over %d bytes",
                           LFR_MAX_AUDIT_DETAILS);
    }
    *out = lfr_strdup(dump);
    free(dump);
    return *out ? LFR_OK : LFR_ERR_NOMEM;
}

/* Hashing ------------------------------------------------------------------ */
static void put_u64(crypto_generichash_state *h, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    crypto_generichash_update(h, b, 8);
}

static void put_lp(crypto_generichash_state *h, const void *p, size_t n) {
    put_u64(h, n);
    if (n) crypto_generichash_update(h, p, n);
}

static void put_str(crypto_generichash_state *h, const char *s) {
    put_lp(h, s ? s : "", s ? strlen(s) : 0);
}

void lfr_audit_hash(const lfr_audit_record *r, uint8_t out[LFR_AUDIT_HASH_BYTES]) {
    crypto_generichash_state h;
    static const char domain[] = "openlfr-audit-v1";
    crypto_generichash_init(&h, NULL, 0, LFR_AUDIT_HASH_BYTES);
    crypto_generichash_update(&h, (const unsigned char *)domain, sizeof domain - 1);
    put_u64(&h, (uint64_t)r->seq);
    put_u64(&h, (uint64_t)r->at);
    put_str(&h, r->actor);
    put_str(&h, r->role);
    put_str(&h, r->action);
    uint8_t has = r->deployment_id > 0;
    crypto_generichash_update(&h, &has, 1);
    put_u64(&h, (uint64_t)(has ? r->deployment_id : 0));
    put_str(&h, r->details);
    put_lp(&h, r->prev_hash, LFR_AUDIT_HASH_BYTES);
    crypto_generichash_final(&h, out, LFR_AUDIT_HASH_BYTES);
}

void lfr_audit_hash_hex(const uint8_t h[LFR_AUDIT_HASH_BYTES],
                        char out[2 * LFR_AUDIT_HASH_BYTES + 1]) {
    sodium_bin2hex(out, 2 * LFR_AUDIT_HASH_BYTES + 1, h, LFR_AUDIT_HASH_BYTES);
}

/* Append ------------------------------------------------------------------- */
lfr_status lfr_audit_append(lfr_store *s, const lfr_actor *actor, lfr_audit_action action,
                            int64_t deployment_id, const char *details_json, int64_t *seq_out,
                            lfr_err *err) {
    if (seq_out) *seq_out = 0;
    if ((unsigned)action >= LFR_AUDIT_ACTION_COUNT)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "unknown audit action %d", (int)action);
    lfr_status st = lfr_actor_check(actor, err);
    if (st != LFR_OK) return st;
    char *details = NULL;
    st = lfr_audit_details_canonical(details_json, &details, err);
    if (st != LFR_OK) return st;

    st = lfr_store_tx_begin(s);
    if (st != LFR_OK) {
        lfr_free(details);
        return lfr_err_set(err, st, "audit: cannot begin transaction");
    }
    lfr_audit_record r = {0};
    r.at = lfr_store_now(s);
    r.actor = actor->name;
    r.role = lfr_role_name(actor->role);
    r.action = lfr_audit_action_name(action);
    r.deployment_id = deployment_id > 0 ? deployment_id : 0;
    r.details = details;

    lfr_store_stmt *q = NULL;
    int row = 0;
    st = lfr_store_stmt_prepare(s, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                                &q, err);
    if (st == LFR_OK) st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK) {
        r.seq = 1;
        if (row) {
            size_t n = 0;
            const void *h = lfr_store_stmt_blob(q, 1, &n);
            if (n != LFR_AUDIT_HASH_BYTES)
                st = lfr_err_set(err, LFR_ERR_INTEGRITY,
                                 "audit log head (seq %lld) has a malformed hash; run "
                                 "`openlfr audit verify`",
                                 (long long)lfr_store_stmt_int64(q, 0));
            else {
                r.seq = lfr_store_stmt_int64(q, 0) + 1;
                memcpy(r.prev_hash, h, LFR_AUDIT_HASH_BYTES);
            }
        }
    }
    lfr_store_stmt_finalize(q);
    q = NULL;
    if (st == LFR_OK) {
        lfr_audit_hash(&r, r.hash);
        st = lfr_store_stmt_prepare(s,
                                    "INSERT INTO audit_log(seq, at, actor, role, action, "
                                    "deployment_id, details, prev_hash, hash) "
                                    "VALUES(?,?,?,?,?,?,?,?,?)",
                                    &q, err);
    }
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, r.seq);
        lfr_store_stmt_bind_int64(q, 2, r.at);
        lfr_store_stmt_bind_text(q, 3, r.actor);
        lfr_store_stmt_bind_text(q, 4, r.role);
        lfr_store_stmt_bind_text(q, 5, r.action);
        if (r.deployment_id) lfr_store_stmt_bind_int64(q, 6, r.deployment_id);
        else lfr_store_stmt_bind_null(q, 6);
        lfr_store_stmt_bind_text(q, 7, r.details);
        lfr_store_stmt_bind_blob(q, 8, r.prev_hash, LFR_AUDIT_HASH_BYTES);
        st = lfr_store_stmt_bind_blob(q, 9, r.hash, LFR_AUDIT_HASH_BYTES);
        if (st == LFR_OK) st = lfr_store_stmt_step(q, &row, err);
    }
    lfr_store_stmt_finalize(q);
    lfr_free(details);
    if (st == LFR_OK) st = lfr_store_tx_commit(s);
    else lfr_store_tx_rollback(s);
    if (st == LFR_OK && seq_out) *seq_out = r.seq;
    return st;
}

/* Reading ------------------------------------------------------------------ */
static void fill_record(lfr_store_stmt *q, lfr_audit_record *r, int *hash_ok) {
    size_t n1 = 0, n2 = 0;
    r->seq = lfr_store_stmt_int64(q, 0);
    r->at = lfr_store_stmt_int64(q, 1);
    r->actor = lfr_store_stmt_text(q, 2);
    r->role = lfr_store_stmt_text(q, 3);
    r->action = lfr_store_stmt_text(q, 4);
    r->deployment_id = lfr_store_stmt_is_null(q, 5) ? 0 : lfr_store_stmt_int64(q, 5);
    r->details = lfr_store_stmt_text(q, 6);
    const void *p = lfr_store_stmt_blob(q, 7, &n1);
    const void *h = lfr_store_stmt_blob(q, 8, &n2);
    memset(r->prev_hash, 0, sizeof r->prev_hash);
    memset(r->hash, 0, sizeof r->hash);
    if (p && n1 == LFR_AUDIT_HASH_BYTES) memcpy(r->prev_hash, p, n1);
    if (h && n2 == LFR_AUDIT_HASH_BYTES) memcpy(r->hash, h, n2);
    *hash_ok = (n1 == LFR_AUDIT_HASH_BYTES && n2 == LFR_AUDIT_HASH_BYTES);
}

#define RECORD_COLS "seq, at, actor, role, action, deployment_id, details, prev_hash, hash"

lfr_status lfr_audit_each(lfr_store *s, int64_t deployment_id, int64_t from_seq, int64_t limit,
                          int (*fn)(const lfr_audit_record *r, void *ctx), void *ctx,
                          lfr_err *err) {
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, deployment_id > 0
               ? "SELECT " RECORD_COLS " FROM audit_log WHERE seq >= ? AND deployment_id = ? "
                 "ORDER BY seq LIMIT ?"
               : "SELECT " RECORD_COLS " FROM audit_log WHERE seq >= ? AND ? = 0 "
                 "ORDER BY seq LIMIT ?",
        &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, from_seq);
    lfr_store_stmt_bind_int64(q, 2, deployment_id > 0 ? deployment_id : 0);
    lfr_store_stmt_bind_int64(q, 3, limit > 0 ? limit : -1);
    for (;;) {
        int row = 0, ok;
        st = lfr_store_stmt_step(q, &row, err);
        if (st != LFR_OK || !row) break;
        lfr_audit_record r;
        fill_record(q, &r, &ok);
        if (fn(&r, ctx)) break;
    }
    lfr_store_stmt_finalize(q);
    return st;
}

static lfr_status bad(lfr_audit_report *rep, int64_t seq, const char *fmt, long long a,
                      long long b) {
    rep->ok = 0;
    rep->bad_seq = seq;
    snprintf(rep->reason, sizeof rep->reason, fmt, a, b);
    return LFR_ERR_INTEGRITY;
}

static lfr_status verify_in_tx(lfr_store *s, lfr_audit_report *rep, lfr_err *err) {
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT " RECORD_COLS " FROM audit_log ORDER BY seq",
                                           &q, err);
    if (st != LFR_OK) return st;
    uint8_t prev[LFR_AUDIT_HASH_BYTES] = {0};
    int64_t expect = 1;
    lfr_status verdict = LFR_OK;
    for (;;) {
        int row = 0, hash_ok;
        st = lfr_store_stmt_step(q, &row, err);
        if (st != LFR_OK || !row) break;
        lfr_audit_record r;
        fill_record(q, &r, &hash_ok);
        uint8_t h[LFR_AUDIT_HASH_BYTES];
        if (r.seq != expect) {
            verdict = expect == 1
                          ? bad(rep, r.seq, "log starts at seq %lld, not %lld: the first "
                                            "records were removed", r.seq, 1)
                          : bad(rep, r.seq, "seq %lld follows seq %lld: records were removed",
                                r.seq, expect - 1);
            break;
        }
        if (!hash_ok) {
            verdict = bad(rep, r.seq, "record %lld has a malformed hash field%.0lld", r.seq, 0);
            break;
        }
        if (sodium_memcmp(r.prev_hash, prev, sizeof prev) != 0) {
            verdict = bad(rep, r.seq,
                          "record %lld does not chain to record %lld (prev_hash differs): a "
                          "record was removed, inserted or reordered",
                          r.seq, r.seq - 1);
            break;
        }
        lfr_audit_hash(&r, h);
        if (sodium_memcmp(h, r.hash, sizeof h) != 0) {
            verdict = bad(rep, r.seq,
                          "record %lld does not match its hash: its content was modified%.0lld",
                          r.seq, 0);
            break;
        }
        memcpy(prev, r.hash, sizeof prev);
        rep->records++;
        rep->head_seq = r.seq;
        memcpy(rep->head_hash, r.hash, sizeof prev);
        expect = r.seq + 1;
    }
    lfr_store_stmt_finalize(q);
    if (st != LFR_OK || verdict != LFR_OK) return st != LFR_OK ? st : verdict;

    st = lfr_store_stmt_prepare(s,
                                "SELECT a.id, a.seq, a.hash, l.hash FROM anchors a "
                                "LEFT JOIN audit_log l ON l.seq = a.seq ORDER BY a.id",
                                &q, err);
    if (st != LFR_OK) return st;
    for (;;) {
        int row = 0;
        st = lfr_store_stmt_step(q, &row, err);
        if (st != LFR_OK || !row) break;
        int64_t id = lfr_store_stmt_int64(q, 0), aseq = lfr_store_stmt_int64(q, 1);
        size_t na = 0, nl = 0;
        const void *ah = lfr_store_stmt_blob(q, 2, &na);
        const void *lh = lfr_store_stmt_blob(q, 3, &nl);
        if (lfr_store_stmt_is_null(q, 3)) {
            verdict = bad(rep, rep->head_seq + 1,
                          "anchor #%lld names record %lld, which is no longer in the log: "
                          "the log was truncated", id, aseq);
            break;
        }
        if (na != LFR_AUDIT_HASH_BYTES || nl != na || sodium_memcmp(ah, lh, na) != 0) {
            verdict = bad(rep, aseq,
                          "anchor #%lld: record %lld differs from the anchored hash: the "
                          "log was rewritten", id, aseq);
            break;
        }
        rep->anchors++;
    }
    lfr_store_stmt_finalize(q);
    return st != LFR_OK ? st : verdict;
}

lfr_status lfr_audit_verify(lfr_store *s, lfr_audit_report *rep, lfr_err *err) {
    memset(rep, 0, sizeof *rep);
    lfr_status st = lfr_store_tx_begin(s);  /* one consistent snapshot */
    if (st != LFR_OK) return lfr_err_set(err, st, "audit verify: cannot begin transaction");
    st = verify_in_tx(s, rep, err);
    lfr_store_tx_rollback(s);                /* read only */
    if (st == LFR_OK) rep->ok = 1;
    else if (st == LFR_ERR_INTEGRITY)
        lfr_err_set(err, st, "record %lld: %s", (long long)rep->bad_seq, rep->reason);
    return st;
}

lfr_status lfr_audit_anchor(lfr_store *s, lfr_audit_anchor_info *out, lfr_err *err) {
    memset(out, 0, sizeof *out);
    lfr_status st = lfr_store_tx_begin(s);
    if (st != LFR_OK) return lfr_err_set(err, st, "audit anchor: cannot begin transaction");
    lfr_store_stmt *q = NULL;
    int row = 0;
    st = lfr_store_stmt_prepare(s, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                                &q, err);
    if (st == LFR_OK) st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && !row) st = lfr_err_set(err, LFR_ERR_STATE, "the audit log is empty");
    if (st == LFR_OK) {
        size_t n = 0;
        const void *h = lfr_store_stmt_blob(q, 1, &n);
        out->seq = lfr_store_stmt_int64(q, 0);
        if (n != LFR_AUDIT_HASH_BYTES)
            st = lfr_err_set(err, LFR_ERR_INTEGRITY, "audit head has a malformed hash");
        else memcpy(out->hash, h, n);
    }
    lfr_store_stmt_finalize(q);
    q = NULL;
    out->at = lfr_store_now(s);
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s, "INSERT INTO anchors(at, seq, hash) VALUES(?,?,?)", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, out->at);
        lfr_store_stmt_bind_int64(q, 2, out->seq);
        lfr_store_stmt_bind_blob(q, 3, out->hash, LFR_AUDIT_HASH_BYTES);
        st = lfr_store_stmt_step(q, &row, err);
        out->id = lfr_store_last_id(s);
    }
    lfr_store_stmt_finalize(q);
    if (st == LFR_OK) st = lfr_store_tx_commit(s);
    else lfr_store_tx_rollback(s);
    return st;
}
