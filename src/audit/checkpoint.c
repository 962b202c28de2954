/*
 * checkpoint.c - signed audit checkpoints (audit.h, "Signed checkpoints").
 *
 * A checkpoint is a short signed text: the head of the chain and a digest
 * of one short hash per record.  The van signs it with its Ed25519 key
 * (libsodium crypto_sign_detached); anyone with the public key checks a log
 * against it.  The checkpoint's fields and signature are also written into
 * the log itself (an audit.checkpoint record), so it can be exported again.
 */
#include "audit.h"

#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAGIC "openlfr-checkpoint-v1"

/* Keys ------------------------------------------------------------------ */

static void make_sign_key(unsigned char *b, size_t n) {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    (void)n;
    crypto_sign_keypair(pk, b);
}

lfr_status lfr_audit_sign_key_load(const char *path, int create, lfr_audit_sign_key *out,
                                   int *created, lfr_err *err) {
    memset(out, 0, sizeof *out);
    if (created) *created = 0;
    if (!path || !path[0])
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "no signing key path");
    if (sodium_init() < 0) return lfr_err_set(err, LFR_ERR_INTERNAL, "libsodium init failed");
    struct stat sb;
    int exists = lstat(path, &sb) == 0;
    if (!exists && errno == ENOENT && !create)
        return lfr_err_set(err, LFR_ERR_NOT_FOUND,
                           "signing key %s is missing: checkpoints cannot be signed (it is "
                           "made when the server first starts; restore it from its backup)",
                           path);
    lfr_status st = lfr_store_private_file(path, out->sk, sizeof out->sk, make_sign_key,
                                           "signing key", create, err);
    if (st != LFR_OK) {
        sodium_memzero(out, sizeof *out);
        return st;
    }
    if (created) *created = !exists;
    unsigned char seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES],
        sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_ed25519_sk_to_seed(seed, out->sk);
    crypto_sign_seed_keypair(pk, sk, seed);
    int same = sodium_memcmp(sk, out->sk, sizeof sk) == 0;
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(sk, sizeof sk);
    if (!same) {
        sodium_memzero(out, sizeof *out);
        return lfr_err_set(err, LFR_ERR_CORRUPT,
                           "signing key %s is damaged: its public half does not match its "
                           "secret half", path);
    }
    memcpy(out->pk, pk, sizeof out->pk);
    return LFR_OK;
}

void lfr_audit_sign_key_wipe(lfr_audit_sign_key *k) {
    if (k) sodium_memzero(k, sizeof *k);
}

void lfr_audit_pubkey_hex(const uint8_t pk[LFR_AUDIT_SIGN_PK_BYTES], char out[65]) {
    sodium_bin2hex(out, 65, pk, LFR_AUDIT_SIGN_PK_BYTES);
}

static int hex_exact(const char *hex, size_t hexlen, uint8_t *bin, size_t n) {
    size_t got = 0;
    const char *end = NULL;
    if (hexlen != 2 * n) return 0;
    if (sodium_hex2bin(bin, n, hex, hexlen, NULL, &got, &end) != 0 || got != n) return 0;
    return end == hex + hexlen;
}

lfr_status lfr_audit_pubkey_parse(const char *hex, uint8_t pk[LFR_AUDIT_SIGN_PK_BYTES]) {
    return hex && hex_exact(hex, strlen(hex), pk, LFR_AUDIT_SIGN_PK_BYTES)
               ? LFR_OK
               : LFR_ERR_INVALID_ARG;
}

/* Text ------------------------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t n, cap;
    int oom;
} buf;

static void buf_add(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_add(buf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && b->n + (size_t)w < b->cap) {
            b->n += (size_t)w;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap <= b->n + (size_t)w) cap *= 2;
        char *np = lfr_realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

static void hex_of(const uint8_t *bin, size_t n, char *out) { sodium_bin2hex(out, 2 * n + 1, bin, n); }

/* The signed part: every line before "signature". */
static void header_text(const lfr_audit_checkpoint *c, buf *b) {
    char head[65], hashes[65], pk[65];
    hex_of(c->head, sizeof c->head, head);
    hex_of(c->hashes, sizeof c->hashes, hashes);
    hex_of(c->pk, sizeof c->pk, pk);
    buf_add(b,
            MAGIC "\nseq %lld\nhead %s\nat %lld\nreason %s\ndeployment %lld\n"
                  "counts deployments=%lld alerts=%lld photo_checks=%lld\nhashes %s\npubkey %s\n",
            (long long)c->seq, head, (long long)c->at, c->reason, (long long)c->deployment_id,
            (long long)c->deployments, (long long)c->alerts, (long long)c->photo_checks, hashes,
            pk);
}

/* Walking the log ------------------------------------------------------------ */

typedef struct walk {
    int64_t upto;             /* records 1..upto */
    int64_t next;             /* seq expected next */
    uint8_t prev[LFR_AUDIT_HASH_BYTES];   /* recomputed hash of the previous record */
    uint8_t last[LFR_AUDIT_HASH_BYTES];   /* recomputed hash of the last record seen */
    crypto_generichash_state digest;      /* of the record lines */
    buf *lines;               /* NULL: digest only */
    /* verification against a file's record lines (NULL: none) */
    const uint8_t (*expect)[LFR_AUDIT_SHORT_HASH_BYTES];
    int64_t bad_seq;
    char reason[256];
} walk;

static int walk_fn(const lfr_audit_record *r, void *ctx) {
    walk *w = ctx;
    if (r->seq != w->next) {
        w->bad_seq = w->next;
        snprintf(w->reason, sizeof w->reason,
                 "record %lld is missing (the log goes on at %lld)", (long long)w->next,
                 (long long)r->seq);
        return 1;
    }
    uint8_t h[LFR_AUDIT_HASH_BYTES];
    lfr_audit_hash(r, h);
    if (w->expect && sodium_memcmp(h, w->expect[r->seq - 1], LFR_AUDIT_SHORT_HASH_BYTES) != 0) {
        w->bad_seq = r->seq;
        snprintf(w->reason, sizeof w->reason,
                 "record %lld (%s) differs from what the checkpoint vouches for: it was "
                 "altered, inserted, removed or moved",
                 (long long)r->seq, r->action);
        return 1;
    }
    if (sodium_memcmp(r->prev_hash, w->prev, sizeof w->prev) != 0) {
        w->bad_seq = r->seq;
        snprintf(w->reason, sizeof w->reason,
                 "record %lld does not chain to record %lld", (long long)r->seq,
                 (long long)(r->seq - 1));
        return 1;
    }
    char line[64], hx[2 * LFR_AUDIT_SHORT_HASH_BYTES + 1];
    hex_of(h, LFR_AUDIT_SHORT_HASH_BYTES, hx);
    int n = snprintf(line, sizeof line, "record %lld %s\n", (long long)r->seq, hx);
    crypto_generichash_update(&w->digest, (const unsigned char *)line, (size_t)n);
    if (w->lines) buf_add(w->lines, "%s", line);
    memcpy(w->prev, h, sizeof h);
    memcpy(w->last, h, sizeof h);
    w->next = r->seq + 1;
    return 0;
}

/* Walks records 1..upto; 0 on success, else w->bad_seq/reason are set. */
static lfr_status walk_log(lfr_store *s, walk *w, lfr_err *err) {
    w->next = 1;
    w->bad_seq = 0;
    memset(w->prev, 0, sizeof w->prev);
    crypto_generichash_init(&w->digest, NULL, 0, LFR_AUDIT_HASH_BYTES);
    if (w->upto <= 0) return LFR_OK;
    lfr_status st = lfr_audit_each(s, 0, 1, w->upto, walk_fn, w, err);
    if (st != LFR_OK) return st;
    if (!w->bad_seq && w->next != w->upto + 1) {
        w->bad_seq = w->next;
        snprintf(w->reason, sizeof w->reason,
                 "the log ends at record %lld, but the checkpoint vouches for %lld records: "
                 "the log was truncated",
                 (long long)(w->next - 1), (long long)w->upto);
    }
    return LFR_OK;
}

static lfr_status count_rows(lfr_store *s, const char *sql, int64_t *v, lfr_err *err) {
    return lfr_store_query_int64(s, sql, 0, 0, 0, v, err);
}

/* Making ------------------------------------------------------------------- */

static json_t *checkpoint_json(const lfr_audit_checkpoint *c) {
    char head[65], hashes[65], pk[65], sig[129];
    hex_of(c->head, sizeof c->head, head);
    hex_of(c->hashes, sizeof c->hashes, hashes);
    hex_of(c->pk, sizeof c->pk, pk);
    hex_of(c->sig, sizeof c->sig, sig);
    return json_pack("{s:I, s:s, s:I, s:s, s:I, s:{s:I, s:I, s:I}, s:s, s:s, s:s}", "covers_seq",
                     (json_int_t)c->seq, "head", head, "at", (json_int_t)c->at, "reason",
                     c->reason, "deployment", (json_int_t)c->deployment_id, "counts",
                     "deployments", (json_int_t)c->deployments, "alerts", (json_int_t)c->alerts,
                     "photo_checks", (json_int_t)c->photo_checks, "hashes", hashes, "pubkey", pk,
                     "signature", sig);
}

lfr_status lfr_audit_checkpoint_make(lfr_store *s, const lfr_audit_sign_key *k,
                                     const lfr_actor *by, const char *reason,
                                     int64_t deployment_id, lfr_audit_checkpoint *out,
                                     lfr_err *err) {
    memset(out, 0, sizeof *out);
    if (!reason || !reason[0] || strlen(reason) >= sizeof out->reason)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "checkpoint reason missing or too long");
    for (const char *p = reason; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "checkpoint reason \"%s\" must be one word (an action name)",
                               reason);
    lfr_status st = lfr_actor_check(by, err);
    if (st != LFR_OK) return st;
    st = lfr_store_tx_begin(s);
    if (st != LFR_OK) return lfr_err_set(err, st, "checkpoint: cannot begin transaction");
    lfr_audit_report rep;
    st = lfr_audit_verify(s, &rep, err);
    if (st == LFR_ERR_INTEGRITY)
        st = lfr_err_set(err, st,
                         "the audit log is broken at record %lld (%s): a broken chain is "
                         "never signed",
                         (long long)rep.bad_seq, rep.reason);
    if (st == LFR_OK && rep.head_seq == 0)
        st = lfr_err_set(err, LFR_ERR_STATE, "the audit log is empty: nothing to checkpoint");
    walk w;
    memset(&w, 0, sizeof w);
    if (st == LFR_OK) {
        w.upto = rep.head_seq;
        st = walk_log(s, &w, err);
        if (st == LFR_OK && w.bad_seq)
            st = lfr_err_set(err, LFR_ERR_INTEGRITY, "record %lld: %s", (long long)w.bad_seq,
                             w.reason);
    }
    if (st == LFR_OK) {
        out->seq = rep.head_seq;
        memcpy(out->head, w.last, sizeof out->head);
        crypto_generichash_final(&w.digest, out->hashes, sizeof out->hashes);
        out->at = lfr_store_now(s);
        snprintf(out->reason, sizeof out->reason, "%s", reason);
        out->deployment_id = deployment_id > 0 ? deployment_id : 0;
        memcpy(out->pk, k->pk, sizeof out->pk);
        st = count_rows(s, "SELECT count(*) FROM deployments", &out->deployments, err);
        if (st == LFR_OK) st = count_rows(s, "SELECT count(*) FROM alerts", &out->alerts, err);
        if (st == LFR_OK)
            st = count_rows(s, "SELECT count(*) FROM photo_checks", &out->photo_checks, err);
    }
    buf hb = {0};
    if (st == LFR_OK) {
        header_text(out, &hb);
        if (hb.oom) st = LFR_ERR_NOMEM;
        else crypto_sign_detached(out->sig, NULL, (const unsigned char *)hb.p, hb.n, k->sk);
    }
    lfr_free(hb.p);
    if (st == LFR_OK) {
        json_t *j = checkpoint_json(out);
        char *details = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(j);
        st = details ? lfr_audit_append(s, by, LFR_AUDIT_CHECKPOINT, out->deployment_id, details,
                                        &out->record_seq, err)
                     : LFR_ERR_NOMEM;
        free(details);
    }
    if (st == LFR_OK) st = lfr_store_tx_commit(s);
    else lfr_store_tx_rollback(s);
    if (st != LFR_OK) memset(out, 0, sizeof *out);
    return st;
}

/* Reading back ------------------------------------------------------------- */

typedef struct get_ctx {
    lfr_audit_checkpoint *c;
    int found, bad;
} get_ctx;

static int json_hex(json_t *o, const char *key, uint8_t *bin, size_t n) {
    const char *h = json_string_value(json_object_get(o, key));
    return h && hex_exact(h, strlen(h), bin, n);
}

static int get_fn(const lfr_audit_record *r, void *ctx) {
    get_ctx *g = ctx;
    g->found = 1;
    if (strcmp(r->action, lfr_audit_action_name(LFR_AUDIT_CHECKPOINT)) != 0) {
        g->bad = 1;
        return 1;
    }
    json_t *o = json_loads(r->details, 0, NULL);
    lfr_audit_checkpoint *c = g->c;
    json_t *counts = json_object_get(o, "counts");
    const char *reason = json_string_value(json_object_get(o, "reason"));
    if (!o || !reason || strlen(reason) >= sizeof c->reason || !json_hex(o, "head", c->head, 32) ||
        !json_hex(o, "hashes", c->hashes, 32) || !json_hex(o, "pubkey", c->pk, 32) ||
        !json_hex(o, "signature", c->sig, 64) || !json_is_object(counts)) {
        g->bad = 1;
    } else {
        c->seq = json_integer_value(json_object_get(o, "covers_seq"));
        c->at = json_integer_value(json_object_get(o, "at"));
        c->deployment_id = json_integer_value(json_object_get(o, "deployment"));
        c->deployments = json_integer_value(json_object_get(counts, "deployments"));
        c->alerts = json_integer_value(json_object_get(counts, "alerts"));
        c->photo_checks = json_integer_value(json_object_get(counts, "photo_checks"));
        snprintf(c->reason, sizeof c->reason, "%s", reason);
        c->record_seq = r->seq;
    }
    json_decref(o);
    return 1;
}

lfr_status lfr_audit_checkpoint_get(lfr_store *s, int64_t record_seq, lfr_audit_checkpoint *out,
                                    lfr_err *err) {
    memset(out, 0, sizeof *out);
    lfr_status st;
    if (record_seq <= 0) {
        st = lfr_store_query_int64(s,
                                   "SELECT max(seq) FROM audit_log WHERE action = "
                                   "'audit.checkpoint'",
                                   0, 0, 0, &record_seq, err);
        if (st != LFR_OK) return st;
        if (record_seq <= 0)
            return lfr_err_set(err, LFR_ERR_NOT_FOUND, "no checkpoint has been made yet");
    }
    get_ctx g = {out, 0, 0};
    st = lfr_audit_each(s, 0, record_seq, 1, get_fn, &g, err);
    if (st != LFR_OK) return st;
    if (!g.found || g.bad) {
        memset(out, 0, sizeof *out);
        return lfr_err_set(err, g.found ? LFR_ERR_INVALID_ARG : LFR_ERR_NOT_FOUND,
                           "audit record %lld is not a checkpoint", (long long)record_seq);
    }
    return LFR_OK;
}

lfr_status lfr_audit_checkpoint_export(lfr_store *s, const lfr_audit_checkpoint *c, int compact,
                                       char **text, size_t *len, lfr_err *err) {
    *text = NULL;
    *len = 0;
    buf b = {0};
    header_text(c, &b);
    char sig[129];
    hex_of(c->sig, sizeof c->sig, sig);
    buf_add(&b, "signature %s\n", sig);
    if (b.oom) {
        lfr_free(b.p);
        return LFR_ERR_NOMEM;
    }
    if (!compact) {
        walk w;
        memset(&w, 0, sizeof w);
        w.upto = c->seq;
        w.lines = &b;
        lfr_status st = lfr_store_tx_begin(s);
        if (st == LFR_OK) {
            st = walk_log(s, &w, err);
            lfr_store_tx_rollback(s);
        }
        uint8_t d[LFR_AUDIT_HASH_BYTES];
        crypto_generichash_final(&w.digest, d, sizeof d);
        if (st == LFR_OK && b.oom) st = LFR_ERR_NOMEM;
        if (st == LFR_OK && w.bad_seq)
            st = lfr_err_set(err, LFR_ERR_INTEGRITY, "record %lld: %s", (long long)w.bad_seq,
                             w.reason);
        if (st == LFR_OK && (sodium_memcmp(d, c->hashes, sizeof d) != 0 ||
                             sodium_memcmp(w.last, c->head, sizeof d) != 0))
            st = lfr_err_set(err, LFR_ERR_INTEGRITY,
                             "the log no longer matches the checkpoint of record %lld (made at "
                             "seq %lld): it changed since; run audit verify",
                             (long long)c->record_seq, (long long)c->seq);
        if (st != LFR_OK) {
            lfr_free(b.p);
            return st;
        }
    }
    *text = b.p;
    *len = b.n;
    return LFR_OK;
}

/* Verifying a file ------------------------------------------------------------ */

/* Next line of text[*pos..len) without its LF; NULL at the end or when a
 * line has no LF or a NUL. */
static const char *next_line(const char *text, size_t len, size_t *pos, size_t *n) {
    if (*pos >= len) return NULL;
    const char *start = text + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    if (!nl || memchr(start, '\0', (size_t)(nl - start))) return NULL;
    *n = (size_t)(nl - start);
    *pos += *n + 1;
    return start;
}

static int field(const char *line, size_t n, const char *name, char *val, size_t cap) {
    size_t k = strlen(name);
    if (n <= k + 1 || strncmp(line, name, k) != 0 || line[k] != ' ' || n - k - 1 >= cap) return 0;
    memcpy(val, line + k + 1, n - k - 1);
    val[n - k - 1] = 0;
    return 1;
}

static int parse_i64(const char *v, int64_t *out) {
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < 0) return 0;
    *out = x;
    return 1;
}

static lfr_status corrupt(lfr_err *err, const char *why) {
    return lfr_err_set(err, LFR_ERR_CORRUPT, "not a valid openlfr checkpoint: %s", why);
}

lfr_status lfr_audit_checkpoint_verify(lfr_store *s, const char *text, size_t len,
                                       const uint8_t *pinned, lfr_audit_report *rep,
                                       lfr_err *err) {
    memset(rep, 0, sizeof *rep);
    if (sodium_init() < 0) return lfr_err_set(err, LFR_ERR_INTERNAL, "libsodium init failed");
    if (!text || len > LFR_MAX_CHECKPOINT_BYTES)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "checkpoint file over %u bytes",
                           LFR_MAX_CHECKPOINT_BYTES);
    lfr_audit_checkpoint c;
    memset(&c, 0, sizeof c);
    size_t pos = 0, n = 0;
    char v[160];
    const char *l = next_line(text, len, &pos, &n);
    if (!l || n != strlen(MAGIC) || memcmp(l, MAGIC, n) != 0)
        return corrupt(err, "the first line is not \"" MAGIC "\"");
    static const char *const names[] = {"seq", "head", "at", "reason", "deployment", "counts",
                                        "hashes", "pubkey"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        l = next_line(text, len, &pos, &n);
        if (!l || !field(l, n, names[i], v, sizeof v)) {
            char why[96];
            snprintf(why, sizeof why, "line %zu should be \"%s ...\"", i + 2, names[i]);
            return corrupt(err, why);
        }
        int ok = 1;
        switch (i) {
        case 0: ok = parse_i64(v, &c.seq) && c.seq > 0; break;
        case 1: ok = hex_exact(v, strlen(v), c.head, sizeof c.head); break;
        case 2: ok = parse_i64(v, &c.at); break;
        case 3:
            ok = strlen(v) < sizeof c.reason;
            if (ok) memcpy(c.reason, v, strlen(v) + 1);
            break;
        case 4: ok = parse_i64(v, &c.deployment_id); break;
        case 5: {
            long long d, a, p;
            int used = 0;
            ok = sscanf(v, "deployments=%lld alerts=%lld photo_checks=%lld%n", &d, &a, &p,
                        &used) == 3 && v[used] == 0;
            c.deployments = d;
            c.alerts = a;
            c.photo_checks = p;
            break;
        }
        case 6: ok = hex_exact(v, strlen(v), c.hashes, sizeof c.hashes); break;
        case 7: ok = hex_exact(v, strlen(v), c.pk, sizeof c.pk); break;
        }
        if (!ok) {
            char why[96];
            snprintf(why, sizeof why, "bad value on the \"%s\" line", names[i]);
            return corrupt(err, why);
        }
    }
    size_t signed_len = pos;
    l = next_line(text, len, &pos, &n);
    if (!l || !field(l, n, "signature", v, sizeof v) ||
        !hex_exact(v, strlen(v), c.sig, sizeof c.sig))
        return corrupt(err, "no valid \"signature\" line after \"pubkey\"");
    char pkhex[65];
    lfr_audit_pubkey_hex(c.pk, pkhex);
    if (pinned && sodium_memcmp(pinned, c.pk, sizeof c.pk) != 0) {
        char pin[65];
        lfr_audit_pubkey_hex(pinned, pin);
        return lfr_err_set(err, LFR_ERR_CORRUPT,
                           "the checkpoint is signed by key %s, not by the pinned key %s", pkhex,
                           pin);
    }
    if (crypto_sign_verify_detached(c.sig, (const unsigned char *)text, signed_len, c.pk) != 0)
        return lfr_err_set(err, LFR_ERR_CORRUPT,
                           "the checkpoint's signature does not verify with key %s: the file "
                           "was altered or not made by that key", pkhex);

    /* Record lines: either none (compact) or exactly 1..seq. */
    size_t rec_start = pos;
    uint8_t (*expect)[LFR_AUDIT_SHORT_HASH_BYTES] = NULL;
    int full = pos < len;
    if (full) {
        if ((uint64_t)c.seq > (len - pos) / 20 + 1)
            return corrupt(err, "fewer record lines than the checkpoint's seq");
        expect = lfr_malloc((size_t)c.seq * sizeof *expect);
        if (!expect) return LFR_ERR_NOMEM;
        for (int64_t k = 1; k <= c.seq; k++) {
            long long seq = 0;
            char hx[2 * LFR_AUDIT_SHORT_HASH_BYTES + 2];
            int used = 0;
            l = next_line(text, len, &pos, &n);
            if (!l || n >= sizeof v) break;
            memcpy(v, l, n);
            v[n] = 0;
            if (sscanf(v, "record %lld %17s%n", &seq, hx, &used) != 2 || v[used] || seq != k ||
                !hex_exact(hx, strlen(hx), expect[k - 1], LFR_AUDIT_SHORT_HASH_BYTES)) {
                lfr_free(expect);
                char why[96];
                snprintf(why, sizeof why, "record line %lld is malformed or out of order",
                         (long long)k);
                return corrupt(err, why);
            }
        }
        if (pos != len) {
            lfr_free(expect);
            return corrupt(err, "the record lines do not end at the checkpoint's seq");
        }
        uint8_t d[LFR_AUDIT_HASH_BYTES];
        crypto_generichash(d, sizeof d, (const unsigned char *)text + rec_start, len - rec_start,
                           NULL, 0);
        if (sodium_memcmp(d, c.hashes, sizeof d) != 0) {
            lfr_free(expect);
            return corrupt(err, "the record lines do not match the signed \"hashes\" digest");
        }
    }

    walk w;
    memset(&w, 0, sizeof w);
    w.upto = c.seq;
    w.expect = (const uint8_t(*)[LFR_AUDIT_SHORT_HASH_BYTES])expect;
    lfr_status st = lfr_store_tx_begin(s);
    if (st == LFR_OK) {
        st = walk_log(s, &w, err);
        lfr_store_tx_rollback(s);
    }
    lfr_free(expect);
    if (st != LFR_OK) return st;
    rep->records = w.next - 1;
    rep->head_seq = c.seq;
    memcpy(rep->head_hash, c.head, sizeof c.head);
    if (!w.bad_seq && sodium_memcmp(w.last, c.head, sizeof c.head) != 0) {
        w.bad_seq = c.seq;
        snprintf(w.reason, sizeof w.reason,
                 "record %lld's hash differs from the checkpoint's head: the history up to it "
                 "was rewritten%s",
                 (long long)c.seq,
                 full ? "" : " (a compact checkpoint cannot say which record; verify with the "
                             "full file)");
    }
    if (w.bad_seq) {
        rep->ok = 0;
        rep->bad_seq = w.bad_seq;
        snprintf(rep->reason, sizeof rep->reason, "%s", w.reason);
        return lfr_err_set(err, LFR_ERR_INTEGRITY, "record %lld: %s", (long long)w.bad_seq,
                           w.reason);
    }
    rep->ok = 1;
    snprintf(rep->reason, sizeof rep->reason,
             "records 1..%lld match the checkpoint signed by %s%s (made at %lld, %s)",
             (long long)c.seq, pkhex, pinned ? " (pinned)" : " (the file's own key: pin it with --pubkey)",
             (long long)c.at, c.reason);
    return LFR_OK;
}
