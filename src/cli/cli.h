/*
 * cli.h - the `openlfr` command: one table of subcommands (main.c), one
 * file per group of subcommands.  Each command takes (argc, argv) with
 * argv[0] the command's name and returns a process exit code: 0 success,
 * 1 the work failed (message on stderr), 2 usage error.
 *
 * Every command describes its options in a table parsed by the one parser
 * of opt.h (`openlfr CMD --help` prints it; a usage error names the option).
 * The commands that touch the database are thin: they turn their options
 * into the JSON arguments of one operation of the app (app.h) and print
 * its answer (--json) or a human form of it; the configuration (database,
 * key file, models) comes from the app's table through lfr_cli_config.
 */
#ifndef LFR_CLI_H
#define LFR_CLI_H

#include "app/app.h"
#include "core/core.h"
#include "face/face.h"
#include "store/store.h"

typedef int (*lfr_cli_fn)(int argc, char **argv);

int lfr_cmd_models(int argc, char **argv);
int lfr_cmd_convert(int argc, char **argv);
int lfr_cmd_detect(int argc, char **argv);
int lfr_cmd_embed(int argc, char **argv);
int lfr_cmd_compare(int argc, char **argv);
int lfr_cmd_eval(int argc, char **argv);
int lfr_cmd_eval_report(int argc, char **argv); /* cmd_eval_report.c: eval report */
int lfr_cmd_demo(int argc, char **argv);
int lfr_cmd_check(int argc, char **argv);
/* `watchlist add`, `watchlist import` (cmd_enrol.c). */
int lfr_cmd_watchlist_add(int argc, char **argv);
int lfr_cmd_watchlist_import(int argc, char **argv);
int lfr_cmd_watchlist_add_photo(int argc, char **argv);
int lfr_cmd_calibrate(int argc, char **argv);
/* cmd_deploy.c: deployments, watchlist list/remove, audit log, retention. */
int lfr_cmd_deployment(int argc, char **argv);
int lfr_cmd_watchlist(int argc, char **argv);
int lfr_cmd_audit(int argc, char **argv);
/* cmd_audit.c: subcommands of `audit` */
int lfr_cmd_audit_verify(int argc, char **argv);
int lfr_cmd_audit_checkpoint(int argc, char **argv);
int lfr_cmd_audit_export_checkpoint(int argc, char **argv);
int lfr_cmd_audit_pubkey(int argc, char **argv);
int lfr_cmd_purge(int argc, char **argv);
int lfr_cmd_user(int argc, char **argv);   /* cmd_user.c: accounts */
int lfr_cmd_camera(int argc, char **argv); /* cmd_camera.c: a deployment's cameras */
int lfr_cmd_scan(int argc, char **argv);  /* cmd_scan.c: the live pipeline without the server */
int lfr_cmd_serve(int argc, char **argv); /* cmd_serve.c: the van's HTTPS server */
int lfr_cmd_report(int argc, char **argv); /* cmd_report.c: transparency report */

/* The models directory: $OPENLFR_MODELS, else ./models. */
const char *lfr_cli_models_dir(void);

/* Loads the face models from lfr_cli_models_dir() and a context for this
 * thread.  On failure prints why (naming `make setup`) and returns 1. */
int lfr_cli_face_load(lfr_face_engine **engine, lfr_face_ctx **ctx);
void lfr_cli_face_unload(lfr_face_engine *engine, lfr_face_ctx *ctx);

/* Prints "openlfr: <what>: <status message>[: detail]" to stderr, returns 1. */
int lfr_cli_fail(const char *what, lfr_status st, const lfr_err *err);

/* Configuration and the database, shared by every command (common.c) ------
 * The options every database command takes; the values point into argv
 * (NULL: not given).  Rows for a command's option table: CLI_OPTS_DB &c in opt.h. */
typedef struct lfr_cli_common {
    const char *db;       /* --db PATH        (config db) */
    const char *key_file; /* --key-file PATH  (config key_file) */
    const char *config;   /* --config FILE    ("key = value" lines) */
    const char *by;       /* --by NAME        who acts */
    int json;             /* --json */
} lfr_cli_common;

/* The configuration of one run: the table's defaults, then --config FILE,
 * then the environment (OPENLFR_<KEY>; OPENLFR_KEY is still read as the key
 * file), then the flags in c.  Returns 0, or 2 after printing which setting
 * is bad. */
int lfr_cli_config(const lfr_cli_common *c, lfr_config *cfg);
/* Opens the store named by the configuration.  Returns 0, or 1 after
 * printing why. */
int lfr_cli_store_open(const lfr_config *cfg, lfr_store **s);
/* --pubkey HEX|FILE (`what` names the command): 64 hex characters, or a
 * file whose first line holds them.  0, or the exit code 2 after saying
 * what is wrong. */
int lfr_cli_read_pubkey(const char *what, const char *arg, uint8_t pk[LFR_AUDIT_SIGN_PK_BYTES]);
/* The van's public key from its signing key file (config sign_key), when
 * this machine holds it: 1 and the file's path in path, else 0. */
int lfr_cli_van_pubkey(const lfr_config *cfg, uint8_t pk[LFR_AUDIT_SIGN_PK_BYTES], char *path,
                       size_t cap);
/* Opens the app (without the face models unless with_face; cameras are
 * never started: `scan` runs them itself).  0, or 1 after printing why. */
int lfr_cli_app_open(const lfr_config *cfg, int with_face, lfr_app **app);
/* Runs one operation for a command: the app from cfg, the principal named
 * `by` (lfr_app_principal_by_name), lfr_app_call with args (borrowed; NULL
 * = {}) and an optional image.  Returns 0 with *answer (new reference), or
 * 1 after printing "openlfr: <what>: <why>". */
int lfr_cli_call(const lfr_config *cfg, const char *what, const char *by, int with_face,
                 lfr_op op, json_t *args, const uint8_t *blob, size_t blob_len, json_t **answer);
/* cmd_enrol.c: prints the entries of a deployment's watchlist enrolled
 * with accepted quality warnings (who accepted them, why, each warning), or
 * "none": what the authorising officer sees with `deployment show` and
 * `deployment authorise`.  Prints nothing when the list cannot be read. */
void lfr_cli_print_accepted_warnings(const lfr_cli_common *c, int64_t deployment_id);

#endif
