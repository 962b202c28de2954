/*
 * common.c - what every database command shares: the configuration (the
 * app's table, LFR_CONFIG_LIST), opening the store or the app from it, and
 * running one operation of the app for a command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int bad_setting(const char *what, lfr_status st, const lfr_err *err) {
    lfr_cli_fail(what, st, err);
    return 2;
}

int lfr_cli_config(const lfr_cli_common *c, lfr_config *cfg) {
    lfr_err err = {{0}};
    lfr_status st;
    lfr_config_defaults(cfg);
    if (c->config && (st = lfr_config_load_file(cfg, c->config, &err)) != LFR_OK)
        return bad_setting(c->config, st, &err);
    /* OPENLFR_KEY: the key file's name before the configuration table */
    const char *key = getenv("OPENLFR_KEY");
    if (key && *key && (st = lfr_config_set(cfg, "key_file", key, &err)) != LFR_OK)
        return bad_setting("OPENLFR_KEY", st, &err);
    if ((st = lfr_config_load_env(cfg, &err)) != LFR_OK) return bad_setting("environment", st, &err);
    if (c->db && (st = lfr_config_set(cfg, "db", c->db, &err)) != LFR_OK)
        return bad_setting("--db", st, &err);
    if (c->key_file && (st = lfr_config_set(cfg, "key_file", c->key_file, &err)) != LFR_OK)
        return bad_setting("--key-file", st, &err);
    if (!cfg->db[0]) {
        fprintf(stderr, "openlfr: --db: an empty path names no database\n");
        return 2;
    }
    return 0;
}

int lfr_cli_store_open(const lfr_config *cfg, lfr_store **s) {
    lfr_err err = {{0}};
    lfr_store_config sc = {.db_path = cfg->db, .key_path = cfg->key_file[0] ? cfg->key_file : NULL};
    lfr_status st = lfr_store_open(&sc, s, &err);
    if (st != LFR_OK) return lfr_cli_fail(cfg->db, st, &err);
    return 0;
}

int lfr_cli_app_open(const lfr_config *cfg, int with_face, lfr_app **app) {
    lfr_err err = {{0}};
    lfr_app_options o = {.no_face = !with_face, .no_pipelines = 1};
    lfr_status st = lfr_app_open(cfg, &o, app, &err);
    if (st != LFR_OK) {
        lfr_cli_fail(with_face ? "opening the database and the face models" : cfg->db, st, &err);
        if (with_face)
            fprintf(stderr, "openlfr: (the face models come from '%s' (config models, "
                            "$OPENLFR_MODELS): run `make setup` if they are missing)\n",
                    cfg->models);
        return 1;
    }
    return 0;
}

int lfr_cli_call(const lfr_config *cfg, const char *what, const char *by, int with_face,
                 lfr_op op, json_t *args, const uint8_t *blob, size_t blob_len, json_t **answer) {
    *answer = NULL;
    lfr_app *app = NULL;
    int rc = lfr_cli_app_open(cfg, with_face, &app);
    if (rc) return rc;
    lfr_err err = {{0}};
    lfr_principal who;
    lfr_status st = lfr_app_principal_by_name(app, by, &who, &err);
    if (st != LFR_OK) {
        lfr_app_close(app);
        lfr_cli_fail(what, st, &err);
        fprintf(stderr, "openlfr: (--by NAME says who acts: on a database with accounts, an "
                        "enabled account's login)\n");
        return 1;
    }
    lfr_app_req req = {.op = op, .who = &who, .args = args, .blob = blob, .blob_len = blob_len};
    lfr_app_res res = {0};
    st = lfr_app_call(app, &req, &res, &err);
    if (st == LFR_OK) {
        *answer = res.body;
        res.body = NULL;
    }
    lfr_app_res_clear(&res);
    lfr_app_close(app);
    if (st != LFR_OK) return lfr_cli_fail(what, st, &err);
    return 0;
}

int lfr_cli_read_pubkey(const char *what, const char *arg, uint8_t pk[LFR_AUDIT_SIGN_PK_BYTES]) {
    if (lfr_audit_pubkey_parse(arg, pk) == LFR_OK) return 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    lfr_err err = {{0}};
    if (lfr_read_file_err(arg, 4096, &buf, &len, &err) != LFR_OK) {
        fprintf(stderr, "openlfr: %s: --pubkey: \"%s\" is neither 64 hex characters nor a "
                        "readable file (%s)\n", what, arg, err.msg);
        return 2;
    }
    char line[80] = {0};
    for (size_t n = 0; n < len && n < sizeof line - 1 && buf[n] != '\n' && buf[n] != '\r'; n++)
        line[n] = (char)buf[n];
    lfr_free(buf);
    if (lfr_audit_pubkey_parse(line, pk) != LFR_OK) {
        fprintf(stderr, "openlfr: %s: --pubkey: file %s does not start with a public key (64 hex "
                        "characters)\n", what, arg);
        return 2;
    }
    return 0;
}

int lfr_cli_van_pubkey(const lfr_config *cfg, uint8_t pk[LFR_AUDIT_SIGN_PK_BYTES], char *path,
                       size_t cap) {
    lfr_audit_sign_key k;
    lfr_err err = {{0}};
    if (lfr_config_sign_key_path(cfg, path, cap, &err) != LFR_OK ||
        lfr_audit_sign_key_load(path, 0, &k, NULL, &err) != LFR_OK)
        return 0;
    memcpy(pk, k.pk, LFR_AUDIT_SIGN_PK_BYTES);
    lfr_audit_sign_key_wipe(&k);
    return 1;
}
