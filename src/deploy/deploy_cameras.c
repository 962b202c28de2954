/*
 * deploy_cameras.c - cameras of a deployment: their names, sealed URLs and
 * RTSP transports (tcp unless udp was asked, for rtsp:// URLs only).
 * See deploy.h.  A URL may carry credentials: it is sealed before it
 * reaches the database, never put in an audit record, a log line or an
 * error sentence, and unsealed only for the pipeline.
 */
#include "deploy_int.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const transport_names[LFR_RTSP_TRANSPORT_COUNT] = {
#define LFR_RTSP_TRANSPORT_ROW(id, text) [LFR_RTSP_##id] = text,
    LFR_RTSP_TRANSPORT_LIST(LFR_RTSP_TRANSPORT_ROW)
#undef LFR_RTSP_TRANSPORT_ROW
};

const char *lfr_rtsp_transport_name(lfr_rtsp_transport t) {
    return (unsigned)t < LFR_RTSP_TRANSPORT_COUNT ? transport_names[t] : "?";
}

lfr_status lfr_rtsp_transport_parse(const char *text, lfr_rtsp_transport *out, lfr_err *err) {
    *out = LFR_RTSP_TCP;
    if (!text || !text[0]) return LFR_OK;
    for (int t = 0; t < LFR_RTSP_TRANSPORT_COUNT; t++)
        if (!strcmp(text, transport_names[t])) {
            *out = (lfr_rtsp_transport)t;
            return LFR_OK;
        }
    /* the value is named only when it is printable text of a sane size */
    lfr_err quiet = {{0}};
    if (lfr_text_check(text, LFR_MAX_ACTOR, "camera rtsp_transport", &quiet) != LFR_OK)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "camera rtsp_transport: must be tcp (the default) or udp");
    return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                       "camera rtsp_transport \"%s\": must be tcp (the default) or udp", text);
}

/* Whether the URL's scheme is rtsp: (not rtsps:, which FFmpeg runs over TLS,
 * RTP interleaved, whatever the transport asked). */
static int is_plain_rtsp(const char *url) {
    return strncasecmp(url, "rtsp://", 7) == 0;
}

lfr_status lfr_deploy_camera_add(lfr_store *s, int64_t deployment_id, const char *name,
                                 const char *url, const lfr_actor *by, int64_t *camera_id,
                                 lfr_err *err) {
    return lfr_deploy_camera_add_transport(s, deployment_id, name, url, NULL, by, camera_id, err);
}

lfr_status lfr_deploy_camera_add_transport(lfr_store *s, int64_t deployment_id, const char *name,
                                           const char *url, const char *rtsp_transport,
                                           const lfr_actor *by, int64_t *camera_id, lfr_err *err) {
    if (camera_id) *camera_id = 0;
    lfr_rtsp_transport tr = LFR_RTSP_TCP;
    lfr_status st = dp_actor_ok(by, err);
    if (st == LFR_OK) st = dp_text_ok(name, LFR_MAX_ACTOR, "camera name", 1, err);
    /* lfr_text_check names the field, never the value: the URL stays out */
    if (st == LFR_OK) st = dp_text_ok(url, LFR_VIDEO_MAX_URL, "camera URL", 1, err);
    if (st == LFR_OK) st = lfr_rtsp_transport_parse(rtsp_transport, &tr, err);
    if (st == LFR_OK && tr != LFR_RTSP_TCP && !is_plain_rtsp(url))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG,
                         "camera rtsp_transport %s: only an rtsp:// camera can use it, and this "
                         "camera's URL is not rtsp:// (rtsps:// always carries RTP in its TLS "
                         "connection; files, HTTP and webcams have no RTP)",
                         lfr_rtsp_transport_name(tr));
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_deploy_state state;
    st = dp_get_state(s, deployment_id, &state, err);
    if (st == LFR_OK && state != LFR_DEPLOY_DRAFT && state != LFR_DEPLOY_AUTHORISED &&
        state != LFR_DEPLOY_LIVE)
        st = lfr_err_set(err, LFR_ERR_STATE, "deployment %lld is %s: cameras can no longer be added",
                         (long long)deployment_id, lfr_deploy_state_name(state));
    lfr_store_stmt *q;
    int row = 0;
    int64_t dup = 0, id = 0;
    if (st == LFR_OK) {
        st = lfr_store_stmt_prepare(s, "SELECT count(*) FROM cameras WHERE deployment_id = ? AND "
                                       "name = ? AND removed_at IS NULL", &q, err);
        if (st == LFR_OK) {
            lfr_store_stmt_bind_int64(q, 1, deployment_id);
            lfr_store_stmt_bind_text(q, 2, name);
            st = lfr_store_stmt_step(q, &row, err);
            if (st == LFR_OK && row) dup = lfr_store_stmt_int64(q, 0);
            lfr_store_stmt_finalize(q);
        }
    }
    if (st == LFR_OK && dup)
        st = lfr_err_set(err, LFR_ERR_EXISTS, "deployment %lld already has a camera named %s",
                         (long long)deployment_id, name);
    uint8_t *sealed = NULL;
    size_t nsealed = 0;
    if (st == LFR_OK) st = lfr_store_seal(s, url, strlen(url), &sealed, &nsealed);
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s, "INSERT INTO cameras(deployment_id, name, url, added_by, "
                                       "added_at, rtsp_transport) VALUES(?,?,?,?,?,?)", &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, deployment_id);
        lfr_store_stmt_bind_text(q, 2, name);
        lfr_store_stmt_bind_blob(q, 3, sealed, nsealed);
        lfr_store_stmt_bind_text(q, 4, by->name);
        lfr_store_stmt_bind_int64(q, 5, lfr_store_now(s));
        lfr_store_stmt_bind_text(q, 6, lfr_rtsp_transport_name(tr));
        st = lfr_store_stmt_step(q, &row, err);
        id = lfr_store_last_id(s);
        lfr_store_stmt_finalize(q);
    }
    lfr_free(sealed);
    if (st == LFR_OK)
        st = dp_audit(s, by, LFR_AUDIT_CAMERA_ADD, deployment_id,
                      json_pack("{s:I, s:s, s:s}", "camera", (json_int_t)id, "name", name,
                                "rtsp_transport", lfr_rtsp_transport_name(tr)),
                      err);
    st = dp_finish(s, st);
    if (st == LFR_OK && camera_id) *camera_id = id;
    return st;
}

lfr_status lfr_deploy_camera_remove(lfr_store *s, int64_t camera_id, const lfr_actor *by,
                                    lfr_err *err) {
    lfr_status st = dp_actor_ok(by, err);
    if (st != LFR_OK) return st;
    if ((st = lfr_store_tx_begin(s)) != LFR_OK) return st;
    lfr_store_stmt *q;
    int row = 0;
    int64_t dep = 0, removed = 0;
    char name[LFR_MAX_ACTOR] = "";
    st = lfr_store_stmt_prepare(s, "SELECT deployment_id, name, removed_at FROM cameras WHERE id = ?",
                                &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, camera_id);
        st = lfr_store_stmt_step(q, &row, err);
        if (st == LFR_OK && !row)
            st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no camera %lld", (long long)camera_id);
        if (st == LFR_OK) {
            dep = lfr_store_stmt_int64(q, 0);
            COPY(name, lfr_store_stmt_text(q, 1));
            removed = lfr_store_stmt_int64(q, 2);
        }
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK && removed)
        st = lfr_err_set(err, LFR_ERR_STATE, "camera %lld was already removed", (long long)camera_id);
    if (st == LFR_OK)
        st = lfr_store_stmt_prepare(s, "UPDATE cameras SET removed_at = ?, removed_by = ? WHERE id = ?",
                                    &q, err);
    if (st == LFR_OK) {
        lfr_store_stmt_bind_int64(q, 1, lfr_store_now(s));
        lfr_store_stmt_bind_text(q, 2, by->name);
        lfr_store_stmt_bind_int64(q, 3, camera_id);
        st = lfr_store_stmt_step(q, &row, err);
        lfr_store_stmt_finalize(q);
    }
    if (st == LFR_OK)
        st = dp_audit(s, by, LFR_AUDIT_CAMERA_REMOVE, dep,
                      json_pack("{s:I, s:s}", "camera", (json_int_t)camera_id, "name", name), err);
    return dp_finish(s, st);
}

static void fill_camera(lfr_store_stmt *q, void *elem) {
    lfr_camera_info *c = elem;
    c->id = lfr_store_stmt_int64(q, 0);
    c->deployment_id = lfr_store_stmt_int64(q, 1);
    COPY(c->name, lfr_store_stmt_text(q, 2));
    COPY(c->added_by, lfr_store_stmt_text(q, 3));
    c->added_at = lfr_store_stmt_int64(q, 4);
    /* the column's CHECK allows only the table's names */
    if (lfr_rtsp_transport_parse(lfr_store_stmt_text(q, 5), &c->rtsp_transport, NULL) != LFR_OK)
        c->rtsp_transport = LFR_RTSP_TCP;
}

lfr_status lfr_deploy_camera_list(lfr_store *s, int64_t deployment_id, lfr_camera_info **out,
                                  size_t *n, lfr_err *err) {
    *out = NULL;
    *n = 0;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(
        s, "SELECT id, deployment_id, name, added_by, added_at, rtsp_transport FROM cameras "
           "WHERE deployment_id = ? AND removed_at IS NULL ORDER BY id", &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, deployment_id);
    void *arr = NULL;
    st = dp_rows(q, sizeof(lfr_camera_info), fill_camera, &arr, n, err);
    *out = arr;
    return st;
}

lfr_status lfr_deploy_camera_url(lfr_store *s, int64_t camera_id, char **url, lfr_err *err) {
    *url = NULL;
    lfr_store_stmt *q;
    lfr_status st = lfr_store_stmt_prepare(s, "SELECT url, removed_at FROM cameras WHERE id = ?",
                                           &q, err);
    if (st != LFR_OK) return st;
    lfr_store_stmt_bind_int64(q, 1, camera_id);
    int row = 0;
    st = lfr_store_stmt_step(q, &row, err);
    if (st == LFR_OK && !row) st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no camera %lld", (long long)camera_id);
    if (st == LFR_OK && lfr_store_stmt_int64(q, 1))
        st = lfr_err_set(err, LFR_ERR_STATE, "camera %lld has been removed", (long long)camera_id);
    uint8_t *plain = NULL;
    size_t plen = 0;
    if (st == LFR_OK) {
        size_t n = 0;
        const void *b = lfr_store_stmt_blob(q, 0, &n);
        st = lfr_store_unseal(s, b, n, &plain, &plen);
        if (st == LFR_ERR_INTEGRITY)
            lfr_err_set(err, st, "URL of camera %lld does not decrypt: altered or wrong key",
                        (long long)camera_id);
    }
    lfr_store_stmt_finalize(q);
    if (st != LFR_OK) return st;
    char *u = lfr_malloc(plen + 1);
    if (!u) {
        sodium_memzero(plain, plen);
        lfr_free(plain);
        return LFR_ERR_NOMEM;
    }
    memcpy(u, plain, plen);
    u[plen] = '\0';
    sodium_memzero(plain, plen);
    lfr_free(plain);
    *url = u;
    return LFR_OK;
}
