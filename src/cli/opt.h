/*
 * opt.h - the command line's one option parser (private to src/cli).
 *
 * OVERVIEW
 *   Every command describes its options and positional arguments in a
 *   table (cli_opt rows, cli_arg rows) and calls cli_parse once.  A row
 *   says the option's name, kind (string, integer, real, flag, repeated
 *   string), whether it is required, a metavariable and help text, and
 *   where the value goes.  Values are checked as they are read: an integer
 *   must be one (and within [min, max] when min < max), a real must be a
 *   finite number.  A usage error names the option and the bad value
 *   ("deployment create: --threshold is required", "--threshold: '0.x' is
 *   not a number") and points at `--help`, which prints the table.
 *
 *   Groups of subcommands (deployment, watchlist, audit, user, eval) are a
 *   table of cli_sub rows dispatched by cli_dispatch, whose --help lists
 *   them.
 *
 * OWNERSHIP
 *   Strings stored by the parser point into argv (nothing is allocated).
 *   A repeated positional argument (IMAGE...) is gathered by moving the
 *   positional words to the front of argv: its cli_list points into argv.
 */
#ifndef LFR_CLI_OPT_H
#define LFR_CLI_OPT_H

#include <stdint.h>
#include <stdio.h>

/* Most values of one repeated option (--role, --meta, --camera). */
#define CLI_MAX_REPEAT 64

typedef enum cli_kind {
    CLI_STR,   /* const char ** */
    CLI_INT,   /* int64_t *, within [min, max] when min < max */
    CLI_REAL,  /* double *, finite */
    CLI_FLAG,  /* int *, set to 1 */
    CLI_LIST,  /* cli_list *: the option may be repeated; as the last
                  positional argument: every remaining word */
} cli_kind;

typedef struct cli_list {
    const char *fixed[CLI_MAX_REPEAT];
    const char **v; /* the values: fixed[] (options) or a slice of argv */
    int n;
} cli_list;

typedef struct cli_opt {
    const char *name;  /* without the dashes: "threshold" */
    cli_kind kind;
    int required;
    const char *meta;  /* "X" in "--threshold X"; NULL for flags */
    const char *help;
    void *dest;
    int64_t min, max;  /* CLI_INT range when min < max */
} cli_opt;

typedef struct cli_arg {
    const char *name;  /* "ID", "IMAGE" */
    cli_kind kind;     /* CLI_STR, CLI_INT or (last only) CLI_LIST */
    int required;      /* CLI_LIST: at least one word */
    const char *help;
    void *dest;
    int64_t min, max;
} cli_arg;

typedef struct cli_cmd {
    const char *name;     /* "deployment create" (for messages and usage) */
    const char *summary;  /* one line */
    const cli_opt *opts;  /* ends with a row whose name is NULL */
    const cli_arg *args;  /* ends with a row whose name is NULL (NULL: none) */
    const char *notes;    /* printed after the table by --help (NULL: none) */
} cli_cmd;

/* The row that ends a table. */
#define CLI_END {NULL, CLI_STR, 0, NULL, NULL, NULL, 0, 0}

/* Rows shared by the commands (c: an lfr_cli_common *, cli.h). */
#define CLI_OPTS_DB(c)                                                                         \
    {"db", CLI_STR, 0, "PATH", "database file (config db; $OPENLFR_DB; default openlfr.db)",   \
     &(c)->db, 0, 0},                                                                          \
    {"key-file", CLI_STR, 0, "PATH",                                                           \
     "encryption key file (config key_file; $OPENLFR_KEY_FILE; default beside the database)", \
     &(c)->key_file, 0, 0},                                                                    \
    {"config", CLI_STR, 0, "FILE", "configuration file of \"key = value\" lines",             \
     &(c)->config, 0, 0}
#define CLI_OPT_JSON(c) {"json", CLI_FLAG, 0, NULL, "print the answer as JSON", &(c)->json, 0, 0}
#define CLI_OPT_BY(c, req)                                                                     \
    {"by", CLI_STR, req, "NAME",                                                               \
     "who is doing this (on a database with accounts: an account's login)", &(c)->by, 0, 0}

/* Result of cli_parse. */
enum { CLI_OK = 0, CLI_USAGE = 2, CLI_HELP = -1 };

/* Parses argv[1..argc-1] (argv[0] is the command's own word).  CLI_OK;
 * CLI_USAGE after printing one sentence naming the problem to stderr;
 * CLI_HELP after printing the table to stdout for --help / -h. */
int cli_parse(const cli_cmd *c, int argc, char **argv);
/* The exit code for a cli_parse result that is not CLI_OK. */
#define CLI_EXIT(r) ((r) == CLI_HELP ? 0 : 2)

/* Prints the usage table of a command. */
void cli_help(const cli_cmd *c, FILE *f);

/* Prints "openlfr: <cmd>: <formatted>" and a hint at --help; returns 2.
 * For usage errors found after parsing (options that go together). */
int cli_usage_error(const cli_cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Subcommands ---------------------------------------------------------------- */
typedef struct cli_sub {
    const char *name;     /* "create" */
    int (*fn)(int argc, char **argv); /* argv[0] = the subcommand's word */
    const char *summary;
} cli_sub;

/* Runs the subcommand named by argv[1] from subs (ending with a NULL name).
 * No subcommand, an unknown one, or --help: lists them (exit 2, or 0 for
 * --help). */
int cli_dispatch(const char *group, const cli_sub *subs, int argc, char **argv);

#endif
