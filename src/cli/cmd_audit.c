/*
 * cmd_audit.c - verifying the audit log and its signed checkpoints.
 *
 *   openlfr audit verify [--checkpoint FILE]... [--pubkey HEX|FILE]
 *   openlfr audit checkpoint --by NAME [--out FILE] [--compact]
 *   openlfr audit export-checkpoint --by NAME [--record SEQ] [--out FILE] [--compact]
 *   openlfr audit pubkey
 *
 * `verify` is what an oversight body runs on a copy of the database: it
 * opens the database WITHOUT its encryption key (nothing sealed is read),
 * needs no account, checks the hash chain and the published anchors, the
 * deployment rows against the log, and then the log against every
 * checkpoint file it is given (audit.h, "Signed checkpoints").  Exit 0:
 * intact; 1: tampered (the first differing record is named); 2: usage or a
 * file that is not a valid checkpoint.  `checkpoint` and
 * `export-checkpoint` go through the app (auditor or admin), so making one
 * is audited like every other operation.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opt.h"

static void report_json(json_t *arr, const char *what, const char *file, lfr_status st,
                        const lfr_audit_report *rep, const lfr_err *err) {
    json_t *o = json_pack("{s:s, s:b, s:I, s:s}", "check", what, "ok", st == LFR_OK, "records",
                          (json_int_t)rep->records, "status", lfr_status_str(st));
    if (!o) return;
    if (file) json_object_set_new(o, "file", json_string(file));
    if (st == LFR_ERR_INTEGRITY) json_object_set_new(o, "first_bad_seq", json_integer(rep->bad_seq));
    json_object_set_new(o, "reason", json_string(st == LFR_OK || st == LFR_ERR_INTEGRITY
                                                     ? rep->reason
                                                     : err->msg));
    json_array_append_new(arr, o);
}

static int audit_verify(int argc, char **argv) {
    lfr_cli_common c = {0};
    cli_list files = {0};
    const char *pub = NULL;
    const cli_opt opts[] = {
        {"checkpoint", CLI_LIST, 0, "FILE",
         "a checkpoint file kept outside the van (repeatable): the log must still hold what it "
         "vouches for",
         &files, 0, 0},
        {"pubkey", CLI_STR, 0, "HEX|FILE",
         "the van's public key you trust (pins the checkpoints' signer)", &pub, 0, 0},
        CLI_OPT_BY(&c, 0), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_cmd cmd = {
        "audit verify",
        "check the hash chain, anchors, deployment rows and checkpoints (exit 1 if tampered)",
        opts, NULL,
        "Needs no encryption key and no account: run it on a copy of the database.  --by is "
        "accepted and not needed."};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    uint8_t pin[LFR_AUDIT_SIGN_PK_BYTES];
    if (pub && (r = lfr_cli_read_pubkey(cmd.name, pub, pin))) return r;
    lfr_config cfg;
    if ((r = lfr_cli_config(&c, &cfg))) return r;
    lfr_store_config sc = {.db_path = cfg.db, .no_key = 1};
    lfr_store *s = NULL;
    lfr_err err = {{0}};
    lfr_status st = lfr_store_open(&sc, &s, &err);
    if (st != LFR_OK) return lfr_cli_fail(cfg.db, st, &err);

    json_t *arr = json_array();
    int bad = 0, unusable = 0;
    lfr_audit_report rep;
    st = lfr_audit_verify(s, &rep, &err);
    if (st != LFR_OK && st != LFR_ERR_INTEGRITY) {
        lfr_store_close(s);
        json_decref(arr);
        return lfr_cli_fail("audit verify", st, &err);
    }
    char h[2 * LFR_AUDIT_HASH_BYTES + 1];
    lfr_audit_hash_hex(rep.head_hash, h);
    if (st == LFR_OK)
        snprintf(rep.reason, sizeof rep.reason, "%lld records, %lld anchors, head seq %lld hash %s",
                 (long long)rep.records, (long long)rep.anchors, (long long)rep.head_seq, h);
    bad |= st != LFR_OK;
    report_json(arr, "chain", NULL, st, &rep, &err);
    if (!c.json)
        printf(st == LFR_OK ? "hash chain intact: %s\n" : "AUDIT LOG TAMPERED: %s\n",
               st == LFR_OK ? rep.reason : err.msg);

    lfr_audit_report rows;
    memset(&err, 0, sizeof err);
    st = lfr_deploy_verify_rows(s, &rows, &err);
    if (st == LFR_OK)
        snprintf(rows.reason, sizeof rows.reason, "%lld deployments agree with the log",
                 (long long)rows.records);
    bad |= st == LFR_ERR_INTEGRITY;
    unusable |= st != LFR_OK && st != LFR_ERR_INTEGRITY;
    report_json(arr, "deployment rows", NULL, st, &rows, &err);
    if (!c.json)
        printf(st == LFR_OK ? "deployment rows: %s\n" : "DEPLOYMENT ROWS EDITED: %s\n",
               st == LFR_OK ? rows.reason : err.msg);

    for (int i = 0; i < files.n; i++) {
        uint8_t *text = NULL;
        size_t len = 0;
        memset(&err, 0, sizeof err);
        memset(&rep, 0, sizeof rep);
        st = lfr_read_file_err(files.v[i], LFR_MAX_CHECKPOINT_BYTES, &text, &len, &err);
        if (st == LFR_OK)
            st = lfr_audit_checkpoint_verify(s, (const char *)text, len, pub ? pin : NULL, &rep,
                                             &err);
        lfr_free(text);
        bad |= st == LFR_ERR_INTEGRITY;
        unusable |= st != LFR_OK && st != LFR_ERR_INTEGRITY;
        report_json(arr, "checkpoint", files.v[i], st, &rep, &err);
        if (!c.json) {
            if (st == LFR_OK) printf("checkpoint %s: %s\n", files.v[i], rep.reason);
            else if (st == LFR_ERR_INTEGRITY)
                printf("CHECKPOINT %s FAILS: %s\n", files.v[i], err.msg);
            else
                printf("checkpoint %s UNUSABLE: %s: %s\n", files.v[i], lfr_status_message(st),
                       err.msg);
        }
    }
    lfr_store_close(s);
    if (c.json) {
        json_t *o = json_pack("{s:b, s:o}", "ok", !bad && !unusable, "checks", arr);
        char *txt = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (txt) puts(txt);
        free(txt);
        json_decref(o);
    } else {
        json_decref(arr);
        if (!files.n)
            printf("(no --checkpoint given: a forger who rewrote the whole log and its anchors "
                   "would pass the chain check; verify against checkpoints kept outside the "
                   "van)\n");
    }
    return bad ? 1 : unusable ? 2 : 0;
}

/* Writes the checkpoint of an answer to --out (or stdout). */
static int write_checkpoint(const lfr_cli_common *c, json_t *ans, const char *out, int compact) {
    json_t *cp = json_object_get(ans, "checkpoint");
    const char *text = json_string_value(json_object_get(cp, compact ? "compact" : "text"));
    if (!text) return lfr_cli_fail("checkpoint", LFR_ERR_INTERNAL, NULL);
    if (c->json) {
        json_t *o = json_deep_copy(cp);
        json_object_del(o, compact ? "text" : "compact");
        char *txt = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (txt) puts(txt);
        free(txt);
        json_decref(o);
    }
    if (!out) {
        if (!c->json) fputs(text, stdout);
        return 0;
    }
    FILE *f = fopen(out, "wx");
    if (!f) {
        fprintf(stderr, "openlfr: --out: cannot create %s (it must not exist yet)\n", out);
        return 1;
    }
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    ok &= fclose(f) == 0;
    if (!ok) {
        fprintf(stderr, "openlfr: --out: writing %s failed\n", out);
        return 1;
    }
    if (!c->json)
        printf("checkpoint of record %lld (log up to seq %lld, signed by %s) written to %s\n"
               "Keep it outside the van: `openlfr audit verify --checkpoint %s --pubkey %s`.\n",
               (long long)json_integer_value(json_object_get(cp, "record")),
               (long long)json_integer_value(json_object_get(cp, "seq")),
               json_string_value(json_object_get(cp, "pubkey")), out, out,
               json_string_value(json_object_get(cp, "pubkey")));
    return 0;
}

static int checkpoint_cmd(int argc, char **argv, int make) {
    lfr_cli_common c = {0};
    const char *out = NULL;
    int compact = 0;
    int64_t record = 0;
    const cli_opt make_opts[] = {
        {"out", CLI_STR, 0, "FILE", "write the checkpoint file here (default: print it)", &out,
         0, 0},
        {"compact", CLI_FLAG, 0, NULL, "head and signature only (no record lines)", &compact, 0,
         0},
        CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_opt get_opts[] = {
        {"record", CLI_INT, 0, "SEQ", "the audit.checkpoint record (default: the newest)",
         &record, 1, INT64_MAX},
        {"out", CLI_STR, 0, "FILE", "write the checkpoint file here (default: print it)", &out,
         0, 0},
        {"compact", CLI_FLAG, 0, NULL, "head and signature only (no record lines)", &compact, 0,
         0},
        CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_cmd cmd = make ? (cli_cmd){"audit checkpoint",
                                         "sign the log's head now and write the checkpoint file",
                                         make_opts, NULL, NULL}
                             : (cli_cmd){"audit export-checkpoint",
                                         "write an earlier checkpoint's file again", get_opts,
                                         NULL, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    lfr_config cfg;
    if ((r = lfr_cli_config(&c, &cfg))) return r;
    json_t *args = json_object(), *ans = NULL;
    if (record) json_object_set_new(args, "record", json_integer(record));
    r = lfr_cli_call(&cfg, cmd.name, c.by, 0,
                     make ? LFR_OP_AUDIT_CHECKPOINT : LFR_OP_AUDIT_CHECKPOINT_GET, args, NULL, 0,
                     &ans);
    json_decref(args);
    if (r == 0) r = write_checkpoint(&c, ans, out, compact);
    json_decref(ans);
    return r;
}

int lfr_cmd_audit_verify(int argc, char **argv) { return audit_verify(argc, argv); }
int lfr_cmd_audit_checkpoint(int argc, char **argv) { return checkpoint_cmd(argc, argv, 1); }
int lfr_cmd_audit_export_checkpoint(int argc, char **argv) { return checkpoint_cmd(argc, argv, 0); }

int lfr_cmd_audit_pubkey(int argc, char **argv) {
    lfr_cli_common c = {0};
    const cli_opt opts[] = {CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_cmd cmd = {"audit pubkey",
                         "the van's public key: give it to the oversight body with the "
                         "checkpoints",
                         opts, NULL, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    lfr_config cfg;
    if ((r = lfr_cli_config(&c, &cfg))) return r;
    /* the app makes the key on first start; reading it needs the same path */
    lfr_app *app = NULL;
    if ((r = lfr_cli_app_open(&cfg, 0, &app))) return r;
    lfr_app_close(app);
    char path[4096];
    uint8_t pk[LFR_AUDIT_SIGN_PK_BYTES];
    if (!lfr_cli_van_pubkey(&cfg, pk, path, sizeof path)) {
        lfr_audit_sign_key k;
        lfr_err err = {{0}};
        lfr_status st = lfr_audit_sign_key_load(path, 0, &k, NULL, &err);
        return lfr_cli_fail(path, st != LFR_OK ? st : LFR_ERR_INTERNAL, &err);
    }
    char hex[65];
    lfr_audit_pubkey_hex(pk, hex);
    if (c.json) printf("{\"pubkey\": \"%s\", \"file\": \"%s\"}\n", hex, path);
    else printf("%s\n", hex);
    return r;
}
