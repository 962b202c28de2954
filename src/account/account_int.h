/*
 * account_int.h - private to src/account: the helpers its files share.
 * Nothing outside src/account includes this file.
 *
 * DESIGN
 *   Files: account_common.c (these helpers: tokens, hashes, audit,
 *   settings), account_users.c (accounts, passwords, sign-in),
 *   account_sessions.c (sessions, authenticate, logout), account_devices.c
 *   (pairing codes, devices), account_qr.c (the pairing QR code as SVG).
 *
 *   Every change follows deploy's shape: check arguments -> tx_begin ->
 *   read, check the rule -> write -> audit record -> commit (or rollback).
 *   argon2id runs OUTSIDE any transaction: a sign-in never holds the
 *   database's write lock for the ~0.2 s a hash costs.
 */
#ifndef LFR_ACCOUNT_INT_H
#define LFR_ACCOUNT_INT_H

#include <jansson.h>
#include <sodium.h>

#include "account.h"

#define AC_TOKEN_BYTES 32                                /* random bytes */
#define AC_TOKEN_CHARS 43                                /* base64url, no padding */
#define AC_HASH_BYTES crypto_generichash_BYTES           /* BLAKE2b-256 */
#define AC_CODE_CHARS 8

/* A new random token: text (AC_TOKEN_CHARS + 1, caller's, lfr_free after
 * sodium_memzero) and the hash the database keeps. */
lfr_status ac_token_new(char **text, uint8_t hash[AC_HASH_BYTES]);
/* The hash of a presented token; -1 when it is not a well-formed token
 * (length, alphabet, trailing bits). */
int ac_token_hash(const char *token, uint8_t hash[AC_HASH_BYTES]);
/* BLAKE2b-256 of a byte string (pairing codes, after normalising). */
void ac_hash(const void *data, size_t n, uint8_t hash[AC_HASH_BYTES]);

/* Login folding: folded form (lfr_name_fold) and the uniqueness key
 * (folded, then spaces and ASCII punctuation removed). */
lfr_status ac_login_fold(const char *login, char folded[LFR_MAX_ACTOR], char key[LFR_MAX_ACTOR],
                         lfr_err *err);

/* The role a person acts in when an action is not in one role (sign-in,
 * sign-out): the most powerful role held. */
lfr_role ac_primary_role(unsigned roles);
/* roles as a JSON array of role names (new reference). */
json_t *ac_roles_json(unsigned roles);

/* Writes the audit record; takes ownership of `details`. */
lfr_status ac_audit(lfr_store *s, const char *actor, lfr_role role, lfr_audit_action a,
                    int64_t dep, json_t *details, lfr_err *err);

/* A setting in seconds; values <= 0 mean the default. */
int64_t ac_setting_s(lfr_store *s, const char *key, int64_t dflt);

/* Commits on LFR_OK, else rolls back; returns the outcome. */
lfr_status ac_finish(lfr_store *s, lfr_status st);

/* Runs `sql` with up to three int64 parameters (np of them). */
lfr_status ac_exec_n(lfr_store *s, const char *sql, int np, int64_t a, int64_t b, int64_t c,
                     lfr_err *err);

/* Verifies login + password (argon2id outside any transaction; backoff,
 * lockout, failures counted, session.login_fail audited).  On success
 * *user is the account (failures reset).  Used by sign-in and pairing. */
lfr_status ac_check_credentials(lfr_store *s, const char *login, const char *password,
                                lfr_user_info *user, lfr_err *err);

/* After a successful check, inside the caller's transaction: failures
 * reset, last_login_at now. */
lfr_status ac_login_ok(lfr_store *s, int64_t user_id, lfr_err *err);

/* Deployment state name ("live") for id; LFR_ERR_NOT_FOUND when none. */
lfr_status ac_deployment_state(lfr_store *s, int64_t id, char state[16], lfr_err *err);

/* lfr_actor_check, and the name must fold (lfr_name_fold). */
lfr_status ac_actor_ok(const lfr_actor *by, lfr_err *err);

/* 1 for a deployment state devices may pair with and use (authorised,
 * live). */
int ac_deployment_open(const char *state);

void ac_copy(char *dst, size_t cap, const char *src);
#define AC_COPY(dst, src) ac_copy((dst), sizeof(dst), (src))

#endif
