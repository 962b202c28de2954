/*
 * deploy_amend.c - amendments of an authorised or live deployment (two
 * officers).  See deploy.h.
 */
#include "deploy_int.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Amendments ---------------------------------------------------------------- */
lfr_status lfr_deploy_amend_propose(lfr_store *s, int64_t id, const lfr_deploy_amendment *a,
                                    const lfr_actor *by, int64_t *amendment_id, lfr_err *err) {
    *amendment_id = 0;
    lfr_status st = dp_actor_ok(by, err);
    if (st == LFR_OK) st = dp_text_ok(a->reason, LFR_MAX_TEXT, "amendment reason", 1, err);
    if (st == LFR_OK && a->set_threshold && !isfinite(a->threshold))
        st = dp_threshold_ok(NULL, a->threshold, a->unusual_threshold_ok, err);
    if (st == LFR_OK && !a->set_threshold && a->remove_entry_id <= 0)
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "the amendment changes nothing");
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_deploy_state state;
    st = dp_get_state(s, id, &state, err);
    char set[LFR_DEPLOY_MODEL_SET_MAX];
    if (st == LFR_OK) st = dp_model_set_of(s, id, set, err);
    if (st == LFR_OK && a->set_threshold)
        st = dp_threshold_ok(set, a->threshold, a->unusual_threshold_ok, err);
    if (st == LFR_OK && state != LFR_DEPLOY_AUTHORISED && state != LFR_DEPLOY_LIVE)
        st = lfr_err_set(err, LFR_ERR_STATE,
                         state == LFR_DEPLOY_DRAFT
                             ? "deployment %lld is a draft: change it directly, amendments are "
                               "for authorised deployments"
                             : "deployment %lld is %s: it can no longer be amended",
                         (long long)id, lfr_deploy_state_name(state));
    if (st == LFR_OK && a->remove_entry_id > 0) {
        int64_t dep = 0;
        st = lfr_store_query_int64(s, "SELECT deployment_id FROM watchlist_entries WHERE id = ?", 1,
                                   a->remove_entry_id, 0, &dep, err);
        if (st == LFR_OK && dep != id)
            st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "deployment %lld has no watchlist entry %lld",
                             (long long)id, (long long)a->remove_entry_id);
    }
    lfr_store_stmt *q;
    int row;
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s,
                                    "INSERT INTO amendments(deployment_id, reason, new_threshold, "
                                    "remove_entry_id, proposed_by, proposed_at, "
                                    "unusual_threshold_ok) VALUES(?,?,?,?,?,?,?)",
                                    &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, id);
        lfr_store_stmt_bind_text(q, 2, a->reason);
        if (a->set_threshold) lfr_store_stmt_bind_double(q, 3, a->threshold);
        else lfr_store_stmt_bind_null(q, 3);
        if (a->remove_entry_id > 0) lfr_store_stmt_bind_int64(q, 4, a->remove_entry_id);
        else lfr_store_stmt_bind_null(q, 4);
        lfr_store_stmt_bind_text(q, 5, by->name);
        lfr_store_stmt_bind_int64(q, 6, lfr_store_now(s));
        lfr_store_stmt_bind_int64(q, 7, a->set_threshold && a->unusual_threshold_ok);
        st = lfr_store_stmt_step(q, &row, err);
        *amendment_id = lfr_store_last_id(s);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK) {
        json_t *j = json_pack("{s:I, s:s}", "amendment", (json_int_t)*amendment_id, "reason", a->reason);
        if (j && a->set_threshold) json_object_set_new(j, "new_threshold", json_real(dp_dec6(a->threshold)));
        if (j && a->set_threshold && a->unusual_threshold_ok)
            json_object_set_new(j, "unusual_threshold_ok", json_true());
        if (j && a->remove_entry_id > 0)
            json_object_set_new(j, "remove_entry", json_integer(a->remove_entry_id));
        st = dp_audit(s, by, LFR_AUDIT_DEPLOYMENT_AMEND_PROPOSE, id, j, err);
    }
    st = dp_finish(s, st);
    if (st != LFR_OK) *amendment_id = 0;
    return st;
}

lfr_status dp_delete_entry(lfr_store *s, int64_t entry_id, int64_t *images, lfr_err *err) {
    lfr_status st = lfr_store_query_int64(s, "SELECT count(*) FROM entry_images WHERE entry_id = ?",
                                          1, entry_id, 0, images, err);
    if (st == LFR_OK)
        st = dp_exec_n(s, "DELETE FROM entry_images WHERE entry_id = ?", 1, entry_id, 0, err);
    if (st == LFR_OK)
        st = dp_exec_n(s, "DELETE FROM watchlist_entries WHERE id = ?", 1, entry_id, 0, err);
    return st;
}

lfr_status lfr_deploy_amend_authorise(lfr_store *s, int64_t amendment_id, const lfr_actor *by,
                                      lfr_err *err) {
    lfr_status st = dp_actor_ok(by, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_store_stmt *q;
    int row = 0;
    int64_t dep = 0, remove = 0;
    int set_thr = 0, unusual = 0;
    double thr = 0;
    char proposer[LFR_MAX_ACTOR] = "", astate[16] = "";
    st = lfr_store_stmt_prepare(s,
                                "SELECT deployment_id, state, new_threshold, remove_entry_id, "
                                "proposed_by, unusual_threshold_ok FROM amendments WHERE id = ?",
                                &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, amendment_id);
        st = lfr_store_stmt_step(q, &row, err);
        if (st == LFR_OK && !row)
            st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no amendment %lld", (long long)amendment_id);
        if (st == LFR_OK) {
            dep = lfr_store_stmt_int64(q, 0);
            COPY(astate, lfr_store_stmt_text(q, 1));
            set_thr = !lfr_store_stmt_is_null(q, 2);
            thr = lfr_store_stmt_double(q, 2);
            remove = lfr_store_stmt_is_null(q, 3) ? 0 : lfr_store_stmt_int64(q, 3);
            COPY(proposer, lfr_store_stmt_text(q, 4));
            unusual = (int)lfr_store_stmt_int64(q, 5);
        }
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK && strcmp(astate, "proposed") != 0)
        st = lfr_err_set(err, LFR_ERR_STATE, "amendment %lld is %s, not awaiting authorisation",
                         (long long)amendment_id, astate);
    if (st == LFR_OK && dp_same_person(proposer, by->name))
        st = lfr_err_set(err, LFR_ERR_STATE,
                         "%s proposed amendment %lld and cannot also authorise it: a second "
                         "officer must", by->name, (long long)amendment_id);
    lfr_deploy_state state;
    if (st == LFR_OK) st = dp_get_state(s, dep, &state, err);
    if (st == LFR_OK && state != LFR_DEPLOY_AUTHORISED && state != LFR_DEPLOY_LIVE)
        st = lfr_err_set(err, LFR_ERR_STATE, "deployment %lld is %s: it can no longer be amended",
                         (long long)dep, lfr_deploy_state_name(state));
    /* the rules of today, for an amendment proposed under older ones */
    char set[LFR_DEPLOY_MODEL_SET_MAX];
    if (st == LFR_OK && set_thr) st = dp_model_set_of(s, dep, set, err);
    if (st == LFR_OK && set_thr) st = dp_threshold_ok(set, (float)thr, unusual, err);
    /* the watchlist it amends must still be the authorised one */
    if (st == LFR_OK) st = dp_watchlist_verify(s, dep, err);
    if (st == LFR_OK && set_thr) {
        st = lfr_store_stmt_prepare(s, "UPDATE deployments SET threshold = ? WHERE id = ?", &q, err);
        if (st == LFR_OK) {
            lfr_store_stmt_bind_double(q, 1, thr);
            lfr_store_stmt_bind_int64(q, 2, dep);
            st = lfr_store_stmt_step(q, &row, err);
            lfr_store_stmt_finalize(q);
        }
    }
    int64_t images = 0;
    if (st == LFR_OK && remove > 0) st = dp_delete_entry(s, remove, &images, err);
    /* the amended watchlist is the authorised one from now on */
    char digest[65] = "";
    int64_t entries = 0;
    if (st == LFR_OK && remove > 0) {
        st = dp_watchlist_digest(s, dep, digest, &entries, err);
        if (st == LFR_OK)
            st = lfr_store_stmt_prepare(s, "UPDATE deployments SET watchlist_digest = ?, "
                                           "entries_authorised = ? WHERE id = ?", &q, err);
        if (st == LFR_OK) {
            lfr_store_stmt_bind_text(q, 1, digest);
            lfr_store_stmt_bind_int64(q, 2, entries);
            lfr_store_stmt_bind_int64(q, 3, dep);
            st = lfr_store_stmt_step(q, &row, err);
            lfr_store_stmt_finalize(q);
        }
    }
    if (st == LFR_OK) {
        st = lfr_store_stmt_prepare(s,
                                    "UPDATE amendments SET state = 'authorised', authorised_by = ?, "
                                    "authorised_at = ? WHERE id = ?", &q, err);
        if (st == LFR_OK) {
            lfr_store_stmt_bind_text(q, 1, by->name);
            lfr_store_stmt_bind_int64(q, 2, lfr_store_now(s));
            lfr_store_stmt_bind_int64(q, 3, amendment_id);
            st = lfr_store_stmt_step(q, &row, err);
            lfr_store_stmt_finalize(q);
        }
    }
    if (st == LFR_OK) st = dp_event(s, dep, by, "amend", err);
    if (st == LFR_OK) {
        json_t *j = json_pack("{s:I, s:s}", "amendment", (json_int_t)amendment_id, "proposed_by",
                              proposer);
        if (j && set_thr) json_object_set_new(j, "new_threshold", json_real(dp_dec6(thr)));
        if (j && remove > 0) {
            json_object_set_new(j, "removed_entry", json_integer(remove));
            json_object_set_new(j, "removed_images", json_integer(images));
            json_object_set_new(j, "watchlist_digest", json_string(digest));
            json_object_set_new(j, "entries", json_integer(entries));
        }
        st = dp_audit(s, by, LFR_AUDIT_DEPLOYMENT_AMEND, dep, j, err);
    }
    return dp_finish(s, st);
}
