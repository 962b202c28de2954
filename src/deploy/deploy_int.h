/*
 * deploy_int.h - private to src/deploy: the helpers its files share.
 * Nothing outside src/deploy includes this file.
 *
 * DESIGN
 *   Every public function that changes anything follows one shape:
 *     check arguments -> tx_begin -> read state, check the rule -> write
 *     rows -> audit record -> tx_commit (or rollback on any failure)
 *   so a change and its audit record exist together or not at all.
 *   (dp_finish commits or rolls back.)  A bind whose result is not checked
 *   is still safe: the store returns a failed bind from the next step.
 *
 *   Files: deploy_common.c (these helpers, names), deploy_lifecycle.c,
 *   deploy_amend.c, deploy_watchlist.c, deploy_checks.c, deploy_alerts.c,
 *   deploy_cameras.c, deploy_retention.c.
 */
#ifndef LFR_DEPLOY_INT_H
#define LFR_DEPLOY_INT_H

#include <jansson.h>

#include "deploy.h"

/* A float as the decimal people wrote (6 places) for audit details. */
double dp_dec6(double x);

/* Free text: NULL or "" is "%s is required" when `required`, else fine;
 * anything else goes through lfr_text_check (no control characters, not
 * blank, shorter than cap). */
lfr_status dp_text_ok(const char *v, size_t cap, const char *field, int required, lfr_err *err);

/* lfr_actor_check, and the name must fold (lfr_name_fold). */
lfr_status dp_actor_ok(const lfr_actor *by, lfr_err *err);

/* 1 when two names are the same person for separation of duties: folded
 * (lfr_name_fold), then spaces and ASCII punctuation removed.  A stored
 * name that does not fold is compared case-insensitively as typed. */
int dp_same_person(const char *a, const char *b);

/* Not finite, <= 0, >= 1: refused; outside the sane range of model set
 * `model_set` (NULL: mfn192) refused unless unusual_ok. */
lfr_status dp_threshold_ok(const char *model_set, float t, int unusual_ok, lfr_err *err);

/* The dim of a model set's templates; 0 for an unknown name. */
int dp_model_set_dim(const char *name);
/* The model set of deployment `dep` (name[LFR_DEPLOY_MODEL_SET_MAX]). */
lfr_status dp_model_set_of(lfr_store *s, int64_t dep, char *name, lfr_err *err);
/* A template of `dim` floats for watchlist entry `entry_id`: LFR_OK when
 * dim is the dim of the entry's deployment's model set (copied to name,
 * LFR_DEPLOY_MODEL_SET_MAX), else LFR_ERR_INVALID_ARG naming both. */
lfr_status dp_template_set_ok(lfr_store *s, int64_t entry_id, int dim, char *name,
                              lfr_err *err);

/* A real calendar date YYYY-MM-DD, YYYY-MM or YYYY, not after `now` (UTC
 * seconds). */
lfr_status dp_date_ok(const char *v, int64_t now, const char *field, lfr_err *err);

void dp_copy(char *dst, size_t cap, const char *src);
#define COPY(dst, src) dp_copy((dst), sizeof(dst), (src))

/* Writes the audit record; takes ownership of `details`. */
lfr_status dp_audit(lfr_store *s, const lfr_actor *by, lfr_audit_action a, int64_t dep,
                    json_t *details, lfr_err *err);
/* A row of deployment_events. */
lfr_status dp_event(lfr_store *s, int64_t dep, const lfr_actor *by, const char *what,
                    lfr_err *err);
lfr_deploy_state dp_state_parse(const char *s);
lfr_status dp_get_state(lfr_store *s, int64_t id, lfr_deploy_state *state, lfr_err *err);
/* Runs `sql` with `np` (1 or 2) int64 parameters a, b. */
lfr_status dp_exec_n(lfr_store *s, const char *sql, int np, int64_t a, int64_t b, lfr_err *err);
/* Commits on LFR_OK, else rolls back; returns the outcome. */
lfr_status dp_finish(lfr_store *s, lfr_status st);
/* The sentence for a change refused because the deployment is locked. */
lfr_status dp_locked_msg(lfr_err *err, int64_t id, lfr_deploy_state state, const char *what);
/* Makes room for one more element in a growable array. */
lfr_status dp_grow(void *arr, size_t *cap, size_t n, size_t elem);
/* Fills one element (zeroed) from the statement's current row. */
typedef void (*dp_fill_fn)(lfr_store_stmt *q, void *elem);
/* Every row of prepared statement q as an array of elements of `elem`
 * bytes, each filled by `fill`; finalizes q.  On success *out (NULL when no
 * row) and *n are the caller's (lfr_free); on failure nothing is kept. */
lfr_status dp_rows(lfr_store_stmt *q, size_t elem, dp_fill_fn fill, void **out, size_t *n,
                   lfr_err *err);

/* Digest of the watchlist (entries, images, templates) as hex. */
lfr_status dp_watchlist_digest(lfr_store *s, int64_t id, char hex[65], int64_t *entries,
                               lfr_err *err);
/* lfr_deploy_watchlist_verify inside the caller's transaction. */
lfr_status dp_watchlist_verify(lfr_store *s, int64_t id, lfr_err *err);
/* Deletes an entry and its images; *images gets how many. */
lfr_status dp_delete_entry(lfr_store *s, int64_t entry_id, int64_t *images, lfr_err *err);
/* The subject reference of an entry of deployment `dep`. */
lfr_status dp_entry_ref(lfr_store *s, int64_t dep, int64_t entry_id, char ref[LFR_MAX_ACTOR],
                        lfr_err *err);
/* The authorised threshold of a deployment. */
lfr_status dp_threshold_of(lfr_store *s, int64_t dep, double *thr, lfr_err *err);

#endif
