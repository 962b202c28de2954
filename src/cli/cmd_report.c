/*
 * cmd_report.c - `openlfr report DEPLOYMENT [--format html|json|pdf]
 * [--out FILE] [--pubkey HEX|FILE]`: the deployment's transparency report
 * (src/report/report.h), computed from the store and the audit log.
 *
 * Like `audit verify`, it is meant to be run by an oversight body on a
 * copy of the database: it opens the database WITHOUT its encryption key
 * (nothing sealed is read: the report holds nothing biometric) and needs no
 * account.  The checkpoints are verified with the key given by --pubkey,
 * else the public half of the van's signing key when this machine can read
 * it, else each checkpoint's own key (the report says which).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opt.h"
#include "report/report.h"

/* The public half of the van's signing key, when this machine holds it. */
static int van_pubkey(const lfr_config *cfg, uint8_t pk[LFR_AUDIT_SIGN_PK_BYTES], char *src,
                      size_t cap) {
    char path[4096];
    if (!lfr_cli_van_pubkey(cfg, pk, path, sizeof path)) return 0;
    snprintf(src, cap, "the van's signing key file %s", path);
    return 1;
}

int lfr_cmd_report(int argc, char **argv) {
    lfr_cli_common c = {0};
    int64_t dep = 0;
    const char *format = "html", *out = NULL, *pub = NULL;
    const cli_opt opts[] = {
        {"format", CLI_STR, 0, "html|json|pdf", "what to write (default html)", &format, 0, 0},
        {"out", CLI_STR, 0, "FILE", "write it here (default: standard output)", &out, 0, 0},
        {"pubkey", CLI_STR, 0, "HEX|FILE",
         "the van's public key the checkpoints must be signed with (default: the signing key "
         "file's, when readable)",
         &pub, 0, 0},
        CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {
        {"DEPLOYMENT", CLI_INT, 1, "the deployment's id", &dep, 1, INT64_MAX},
        {NULL, CLI_STR, 0, NULL, NULL, 0, 0}};
    const cli_cmd cmd = {
        "report", "a deployment's transparency report (HTML, JSON or PDF)", opts, args,
        "Computed from the store and the audit log alone; holds nothing biometric (people on "
        "the list only as counts by category).  Needs no encryption key and no account: run "
        "it on a copy of the database.  The JSON's schema: docs/report-schema.md."};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    lfr_report_format f;
    lfr_err err = {{0}};
    if (lfr_report_format_parse(format, &f, &err) != LFR_OK)
        return cli_usage_error(&cmd, "--format: %s", err.msg);
    uint8_t pk[LFR_AUDIT_SIGN_PK_BYTES];
    char src[4200] = "--pubkey";
    int pinned = 0;
    if (pub) {
        if ((r = lfr_cli_read_pubkey("report", pub, pk))) return r;
        pinned = 1;
    }
    lfr_config cfg;
    if ((r = lfr_cli_config(&c, &cfg))) return r;
    if (!pinned) pinned = van_pubkey(&cfg, pk, src, sizeof src);

    lfr_store_config sc = {.db_path = cfg.db, .no_key = 1};
    lfr_store *s = NULL;
    lfr_status st = lfr_store_open(&sc, &s, &err);
    if (st != LFR_OK) return lfr_cli_fail(cfg.db, st, &err);
    lfr_report_params p = {.deployment_id = dep, .pubkey = pinned ? pk : NULL,
                           .pubkey_source = pinned ? src : NULL};
    json_t *rep = NULL;
    st = lfr_report_build(s, &p, &rep, &err);
    lfr_store_close(s);
    if (st != LFR_OK) return lfr_cli_fail("report", st, &err);
    uint8_t *buf = NULL;
    size_t len = 0;
    st = lfr_report_render(rep, f, &buf, &len, &err);
    json_decref(rep);
    if (st != LFR_OK) return lfr_cli_fail("report", st, &err);
    FILE *o = out ? fopen(out, "wb") : stdout;
    if (!o) {
        lfr_free(buf);
        fprintf(stderr, "openlfr: report: --out: cannot create %s\n", out);
        return 1;
    }
    int ok = fwrite(buf, 1, len, o) == len;
    ok &= out ? fclose(o) == 0 : fflush(o) == 0;
    lfr_free(buf);
    if (!ok) {
        fprintf(stderr, "openlfr: report: writing %s failed\n", out ? out : "standard output");
        return 1;
    }
    if (out)
        fprintf(stderr, "report of deployment %lld (%s, %zu bytes) written to %s\n", (long long)dep,
                lfr_report_format_name(f), len, out);
    return 0;
}
