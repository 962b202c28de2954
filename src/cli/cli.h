/*
 * cli.h - the `openlfr` command: one table of subcommands (main.c), one
 * file per group of subcommands.  Each command takes (argc, argv) with
 * argv[0] the command's name and returns a process exit code: 0 success,
 * 1 the work failed (message on stderr), 2 usage error.
 */
#ifndef LFR_CLI_H
#define LFR_CLI_H

#include "core/core.h"
#include "face/face.h"

typedef int (*lfr_cli_fn)(int argc, char **argv);

int lfr_cmd_models(int argc, char **argv);
int lfr_cmd_convert(int argc, char **argv);
int lfr_cmd_detect(int argc, char **argv);
int lfr_cmd_embed(int argc, char **argv);
int lfr_cmd_compare(int argc, char **argv);
int lfr_cmd_eval(int argc, char **argv);
int lfr_cmd_demo(int argc, char **argv);
int lfr_cmd_check(int argc, char **argv);
/* `watchlist add|import` (cmd_enrol.c); returns -1 for other subcommands. */
int lfr_cmd_watchlist_enrol(int argc, char **argv);
int lfr_cmd_calibrate(int argc, char **argv);
/* cmd_deploy.c: deployments, watchlist list/remove, audit log, retention. */
int lfr_cmd_deployment(int argc, char **argv);
int lfr_cmd_watchlist(int argc, char **argv);
int lfr_cmd_audit(int argc, char **argv);
int lfr_cmd_purge(int argc, char **argv);
int lfr_cmd_scan(int argc, char **argv);  /* cmd_scan.c: the live pipeline without the server */

/* The models directory: $OPENLFR_MODELS, else ./models. */
const char *lfr_cli_models_dir(void);

/* Loads the face models from lfr_cli_models_dir() and a context for this
 * thread.  On failure prints why (naming `make setup`) and returns 1. */
int lfr_cli_face_load(lfr_face_engine **engine, lfr_face_ctx **ctx);
void lfr_cli_face_unload(lfr_face_engine *engine, lfr_face_ctx *ctx);

/* Prints "openlfr: <what>: <status message>[: detail]" to stderr, returns 1. */
int lfr_cli_fail(const char *what, lfr_status st, const lfr_err *err);

#endif
