/*
 * main.c - `openlfr`, the command-line entry point: a table of
 * subcommands, each with a one-line summary that `openlfr help` prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    lfr_cli_fn fn;
    const char *summary;
} commands[] = {
    {"models", lfr_cmd_models, "list installed models: source package, version, sha256"},
    {"convert", lfr_cmd_convert, "convert an ONNX/TFLite network to an .lfrm model"},
    {"detect", lfr_cmd_detect, "find faces: boxes, landmarks, scores, quality"},
    {"embed", lfr_cmd_embed, "find faces and describe each as a unit vector (fused704v3 by default)"},
    {"compare", lfr_cmd_compare, "likeness of the largest faces of two photos, as a deployment reads it"},
    {"check", lfr_cmd_check, "officer's photo check against one live deployment's watchlist"},
    {"demo", lfr_cmd_demo, "annotate photos and show which faces are most alike (HTML)"},
    {"eval", lfr_cmd_eval, "measure accuracy: verify, detect, ident, watchlist, openset, report"},
    {"calibrate", lfr_cmd_calibrate, "measure score distributions -> src/match/calib_table.h"},
    {"deployment", lfr_cmd_deployment, "deployments: create, authorise, start, end, amend, amend-authorise, show, list"},
    {"watchlist", lfr_cmd_watchlist, "a deployment's watchlist: add, import, add-photo, list, photos, remove"},
    {"audit", lfr_cmd_audit, "the hash-chained audit log: verify, show, anchor, checkpoint, export-checkpoint, pubkey"},
    {"purge", lfr_cmd_purge, "apply the retention rules: delete what is due, with receipts"},
    {"user", lfr_cmd_user, "accounts: add (the first admin needs no --by), list, disable, passwd"},
    {"camera", lfr_cmd_camera, "a deployment's cameras: add, remove, list"},
    {"scan", lfr_cmd_scan, "live recognition on cameras or files for one live deployment (JSON alerts)"},
    {"serve", lfr_cmd_serve, "the van's HTTPS server: API, live events, cameras, retention, web"},
    {"report", lfr_cmd_report, "a deployment's transparency report: HTML, JSON or PDF"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: openlfr COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`openlfr COMMAND --help` lists a command's options.\n"
               "environment: OPENLFR_<KEY> sets any configuration option (OPENLFR_DB, "
               "OPENLFR_KEY_FILE,\n  OPENLFR_MODELS, ...: `openlfr serve --help` lists them), "
               "OPENLFR_LOG (debug|info|warn|error)\n");
}

const char *lfr_cli_models_dir(void) {
    const char *d = getenv("OPENLFR_MODELS");
    return (d && *d) ? d : "models";
}

int lfr_cli_fail(const char *what, lfr_status st, const lfr_err *err) {
    if (err && err->msg[0])
        fprintf(stderr, "openlfr: %s: %s: %s\n", what, lfr_status_message(st), err->msg);
    else
        fprintf(stderr, "openlfr: %s: %s\n", what, lfr_status_message(st));
    return 1;
}

int main(int argc, char **argv) {
    const char *lvl = getenv("OPENLFR_LOG");
    if (lvl) {
        static const char *names[] = {"debug", "info", "warn", "error", "silent"};
        for (int i = 0; i < 5; i++)
            if (strcmp(lvl, names[i]) == 0) lfr_log_set_level((lfr_log_level)i);
    }
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "openlfr: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
