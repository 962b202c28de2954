/*
 * account.h - the people of the system: accounts with roles, sessions,
 * officers' devices and pairing codes.
 *
 * OVERVIEW
 *   Accounts.  One row per person: a login name (compared in the folded
 *   form of lfr_name_fold, so "PC 1" and "pc 1" are one account and a
 *   look-alike cannot be created beside it; names that differ only by
 *   spaces or punctuation, "PC 1" and "pc-1", are one account too), a
 *   display name, a set of roles (bit (1u << lfr_role), DESIGN.md:
 *   operator, officer, authorising officer, auditor, admin), an argon2id password hash (libsodium
 *   crypto_pwhash_str, interactive limits), disabled or not.  The first
 *   admin is made from the CLI (`openlfr user add`); after that only an
 *   admin adds, disables or resets accounts (audited: user.add,
 *   user.disable, user.passwd; the role check is the app's operations
 *   table).  Disabling revokes the account's sessions and devices at once
 *   and is refused for the last enabled admin; a new password revokes its
 *   sessions.
 *
 *   Sign-in (lfr_account_login): after LFR_LOGIN_FREE_FAILURES wrong
 *   passwords in a row an account must wait, doubling from
 *   LFR_LOGIN_BACKOFF_MIN_S up to LFR_LOGIN_LOCKOUT_S (limits.h), and while
 *   it waits every attempt is refused without checking the password; a
 *   disabled account never signs in (said only to the right password).
 *   Success and failure are audited (session.login, session.login_fail),
 *   without the password.  Unknown names cost the
 *   same argon2id time as known ones (no user enumeration by timing).  (An
 *   account that must wait does say so; unknown names are not counted, so
 *   six wrong tries per name still tell a patient guesser which exist.)
 *
 *   Sessions and device tokens are random 32-byte bearer tokens (base64url,
 *   43 characters) shown once; the database keeps only their BLAKE2b-256
 *   hash, so a copy of the database grants nothing.  A session expires
 *   (setting LFR_SETTING_SESSION_TTL, below) and can be revoked (logout,
 *   account disabled, new password).  Signing out with a device token
 *   revokes that device.
 *
 *   Devices.  An operator makes a one-time pairing code for one deployment
 *   (8 characters from an alphabet without 0/O/1/I/L, valid for
 *   LFR_SETTING_PAIR_CODE_TTL, hash stored, audited device.pair_code;
 *   typed codes may use lower case, spaces and dashes).  The deployment
 *   must be authorised or live, when the code is made and when redeemed.
 *   A device redeems it with a device name and an officer's login name and
 *   password: the result is a
 *   device token bound to that device, that officer and that deployment
 *   (audited device.pair).  A wrong password does not use up the code.  A
 *   device token acts with the officer role only, and is refused once the
 *   deployment has ended or been purged, the device was revoked
 *   (device.revoke) or the account disabled; revocation is immediate (the
 *   server closes its open event stream).  Authenticating a device writes
 *   its last_seen_at at most once per LFR_DEVICE_SEEN_EVERY_S.
 *
 *   The QR code for pairing (libqrencode) carries a small JSON object:
 *   {"v":1,"url":"https://addr:port","ca":"sha256 fingerprint","code":"..."}
 *   (error correction M) and is rendered as an SVG document: one <path> of
 *   the dark modules, one unit per module, quiet zone of 4.
 *
 * OWNERSHIP
 *   Info structs are caller-owned, fixed size.  Arrays from *_list are
 *   released with lfr_free.  Strings returned through char ** (tokens,
 *   SVG) are the caller's: lfr_free (wipe tokens first).
 */
#ifndef LFR_ACCOUNT_H
#define LFR_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"
#include "core/core.h"
#include "store/store.h"

#define LFR_ROLE_BIT(r) (1u << (unsigned)(r))

/* Settings (lfr_store_setting_set_int) read at each sign-in and each new
 * pairing code; the app writes its configured session_ttl_s and
 * pair_code_ttl_s there at start.  Unset or <= 0: LFR_SESSION_TTL_S and
 * LFR_PAIR_CODE_TTL_S (limits.h). */
#define LFR_SETTING_SESSION_TTL "session.ttl_s"
#define LFR_SETTING_PAIR_CODE_TTL "pair_code.ttl_s"

/* Accounts ---------------------------------------------------------------- */
typedef struct lfr_user_info {
    int64_t id;
    char login[LFR_MAX_ACTOR];        /* as typed at creation */
    char login_folded[LFR_MAX_ACTOR]; /* lfr_name_fold(login) */
    char display_name[LFR_MAX_ACTOR];
    unsigned roles;                   /* LFR_ROLE_BIT set */
    int disabled;
    int64_t created_at;
    int64_t last_login_at;
    int failures;                     /* wrong passwords in a row */
    int64_t locked_until;             /* 0 = not locked */
} lfr_user_info;

/* Passwords: at least LFR_MIN_PASSWORD bytes, at most LFR_MAX_PASSWORD. */
lfr_status lfr_account_add(lfr_store *s, const char *login, const char *display_name,
                           unsigned roles, const char *password, const lfr_actor *by,
                           int64_t *user_id, lfr_err *err);
lfr_status lfr_account_disable(lfr_store *s, int64_t user_id, const lfr_actor *by, lfr_err *err);
lfr_status lfr_account_passwd(lfr_store *s, int64_t user_id, const char *password,
                              const lfr_actor *by, lfr_err *err);
lfr_status lfr_account_get(lfr_store *s, int64_t user_id, lfr_user_info *out, lfr_err *err);
/* By login name, compared folded.  LFR_ERR_NOT_FOUND when none. */
lfr_status lfr_account_find(lfr_store *s, const char *login, lfr_user_info *out, lfr_err *err);
lfr_status lfr_account_list(lfr_store *s, lfr_user_info **out, size_t *n, lfr_err *err);
/* Number of accounts (0: a database from before accounts, or a new one). */
lfr_status lfr_account_count(lfr_store *s, int64_t *n, lfr_err *err);

/* Who a request is: from a session or a device token. */
typedef struct lfr_principal {
    int64_t user_id;                  /* 0: the CLI acting by a typed name on a
                                         database without accounts */
    char login[LFR_MAX_ACTOR];
    unsigned roles;                   /* LFR_ROLE_BIT set */
    int64_t session_id;               /* > 0 for a session token */
    int64_t device_id;                /* > 0 for a device token ... */
    int64_t deployment_id;            /* ... bound to this deployment */
} lfr_principal;

/* Sign-in: a session token (caller's, lfr_free after wiping) and who it
 * is.  LFR_ERR_UNAUTHENTICATED for a wrong name or password (one message
 * for both), LFR_ERR_RATE_LIMITED while locked out (err says until when),
 * LFR_ERR_PERMISSION for a disabled account. */
lfr_status lfr_account_login(lfr_store *s, const char *login, const char *password,
                             char **token, lfr_principal *who, lfr_err *err);
lfr_status lfr_account_logout(lfr_store *s, const char *token, lfr_err *err);
/* A bearer token (session or device) to its principal.  Expired, revoked,
 * forged or unknown tokens: LFR_ERR_UNAUTHENTICATED.  A device token of a
 * deployment that has ended: LFR_ERR_UNAUTHENTICATED too. */
lfr_status lfr_account_authenticate(lfr_store *s, const char *token, lfr_principal *who,
                                    lfr_err *err);

/* Devices ------------------------------------------------------------------ */
typedef struct lfr_device_info {
    int64_t id, deployment_id, user_id;
    char name[LFR_MAX_ACTOR];
    char officer[LFR_MAX_ACTOR];      /* login of the officer signed in on it */
    int64_t paired_at, last_seen_at, revoked_at;
    char revoked_by[LFR_MAX_ACTOR];
} lfr_device_info;

/* A one-time code (caller's, lfr_free) valid until *expires_at. */
lfr_status lfr_device_pair_code(lfr_store *s, int64_t deployment_id, const lfr_actor *by,
                                char **code, int64_t *expires_at, lfr_err *err);
/* Redeems a code: the officer (login + password, must hold the officer
 * role) signs in on the new device.  Wrong, used or expired codes:
 * LFR_ERR_UNAUTHENTICATED. */
lfr_status lfr_device_pair(lfr_store *s, const char *code, const char *device_name,
                           const char *login, const char *password, char **token,
                           lfr_principal *who, lfr_err *err);
lfr_status lfr_device_revoke(lfr_store *s, int64_t device_id, const lfr_actor *by, lfr_err *err);
lfr_status lfr_device_get(lfr_store *s, int64_t device_id, lfr_device_info *out, lfr_err *err);
/* Devices of one deployment (deployment_id > 0) or all. */
lfr_status lfr_device_list(lfr_store *s, int64_t deployment_id, lfr_device_info **out, size_t *n,
                           lfr_err *err);

/* The pairing QR code as an SVG document (caller's, lfr_free). */
lfr_status lfr_device_pair_qr_svg(const char *server_url, const char *ca_fingerprint,
                                  const char *code, char **svg, lfr_err *err);
/* Any text (8-bit mode, level M, quiet zone 4) as a QR code SVG document
 * (caller's, lfr_free); LFR_ERR_TOO_LARGE when it does not fit. */
lfr_status lfr_qr_svg(const char *text, char **svg, lfr_err *err);

#endif
