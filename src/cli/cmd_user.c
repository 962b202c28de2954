/*
 * cmd_user.c - the people who may use the system (account.h).
 *
 *   openlfr user add LOGIN --name DISPLAY --role ROLE [--role ROLE]...
 *                [--password-file F] --by ADMIN
 *   openlfr user list --by ADMIN
 *   openlfr user disable LOGIN --by ADMIN
 *   openlfr user passwd LOGIN [--password-file F] --by ADMIN
 *
 * The first admin: on a database without accounts, `user add` with no --by
 * creates the first account (it must hold the admin role); from then on
 * --by must name an admin's account.  The password comes from
 * --password-file (its first line), else $OPENLFR_PASSWORD, else a prompt
 * on the terminal (asked twice, not echoed); never from the command line,
 * where other users of the machine could read it.
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "opt.h"

#define ARGS_END {NULL, CLI_STR, 0, NULL, NULL, 0, 0}

static void jprint(json_t *j) {
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (s) puts(s);
    free(s);
}

/* One line from the terminal without echo. */
static int prompt_line(const char *what, char *buf, size_t cap) {
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty) return -1;
    struct termios old, raw;
    int fd = fileno(tty), have = tcgetattr(fd, &old) == 0;
    fprintf(tty, "%s: ", what);
    fflush(tty);
    if (have) {
        raw = old;
        raw.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fd, TCSAFLUSH, &raw);
    }
    char *got = fgets(buf, (int)cap, tty);
    if (have) tcsetattr(fd, TCSAFLUSH, &old);
    fprintf(tty, "\n");
    fclose(tty);
    if (!got) return -1;
    buf[strcspn(buf, "\r\n")] = 0;
    return 0;
}

/* The new password into buf (wiped by the caller).  0, or 2 after saying
 * where a password can come from. */
static int get_password(const cli_cmd *cmd, const char *file, char *buf, size_t cap) {
    buf[0] = 0;
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) return cli_usage_error(cmd, "--password-file: cannot open %s", file);
        char *got = fgets(buf, (int)cap, f);
        fclose(f);
        if (!got) return cli_usage_error(cmd, "--password-file: %s is empty", file);
        buf[strcspn(buf, "\r\n")] = 0;
        return 0;
    }
    const char *env = getenv("OPENLFR_PASSWORD");
    if (env && *env) {
        snprintf(buf, cap, "%s", env);
        return 0;
    }
    if (isatty(STDIN_FILENO)) {
        char again[LFR_MAX_PASSWORD + 2];
        int bad = prompt_line("new password", buf, cap) || prompt_line("again", again, sizeof again);
        int same = !bad && strcmp(buf, again) == 0;
        sodium_memzero(again, sizeof again);
        if (bad) return cli_usage_error(cmd, "no password read from the terminal");
        if (!same) return cli_usage_error(cmd, "the two passwords differ");
        return 0;
    }
    return cli_usage_error(cmd, "a password is needed: --password-file FILE, $OPENLFR_PASSWORD, "
                                "or run on a terminal to be asked");
}

/* Runs one user.* operation; prints the answer (--json) or `human`. */
static int run(const lfr_cli_common *c, const cli_cmd *cmd, const char *by, lfr_op op,
               json_t *args, void (*human)(json_t *, const char *), const char *login) {
    lfr_config cfg;
    int rc = lfr_cli_config(c, &cfg);
    json_t *ans = NULL;
    if (rc == 0 && !args) rc = lfr_cli_fail(cmd->name, LFR_ERR_NOMEM, NULL);
    if (rc == 0) rc = lfr_cli_call(&cfg, cmd->name, by, 0, op, args, NULL, 0, &ans);
    if (rc == 0) {
        if (c->json) jprint(ans);
        else human(ans, login);
    }
    json_decref(ans);
    return rc;
}

/* Wipes and releases a JSON object that held a password. */
static void args_free(json_t *a) {
    json_t *p = json_object_get(a, "password");
    if (p && json_string_value(p)) {
        /* jansson owns the text: overwrite it in place before the free */
        char *t = (char *)json_string_value(p);
        sodium_memzero(t, strlen(t));
    }
    json_decref(a);
}

static void human_added(json_t *ans, const char *login) {
    json_t *u = json_object_get(ans, "user");
    if (!json_is_object(u)) u = ans;
    json_t *roles = json_object_get(u, "roles"), *r;
    size_t i;
    printf("account %lld: %s", (long long)json_integer_value(json_object_get(u, "id")),
           json_string_value(json_object_get(u, "login")) ? json_string_value(json_object_get(u, "login"))
                                                          : login);
    printf(" (");
    json_array_foreach(roles, i, r) printf("%s%s", i ? ", " : "", json_string_value(r));
    printf(")\n");
}

static int user_add(int argc, char **argv) {
    lfr_cli_common c = {0};
    const char *login = NULL, *name = NULL, *pwfile = NULL;
    cli_list roles = {{0}, NULL, 0};
    const cli_opt opts[] = {
        {"name", CLI_STR, 1, "DISPLAY", "the person's name as others see it", &name, 0, 0},
        {"role", CLI_LIST, 1, "ROLE",
         "operator, officer, authorising_officer, auditor or admin", &roles, 0, 0},
        {"password-file", CLI_STR, 0, "FILE", "the password is this file's first line", &pwfile,
         0, 0},
        {"by", CLI_STR, 0, "ADMIN",
         "the admin adding the account (not needed for the first admin)", &c.by, 0, 0},
        CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {{"LOGIN", CLI_STR, 1, "the login name (compared folded)", &login, 0, 0},
                            ARGS_END};
    const cli_cmd cmd = {"user add", "add an account (the first admin needs no --by)", opts, args,
                         "Password: --password-file, else $OPENLFR_PASSWORD, else asked on the "
                         "terminal (at least 12 characters)."};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    for (int i = 0; i < roles.n; i++) {
        lfr_role role;
        if (lfr_role_parse(roles.v[i], &role) != LFR_OK || role == LFR_ROLE_SYSTEM)
            return cli_usage_error(&cmd, "--role: unknown role '%s' (operator, officer, "
                                         "authorising_officer, auditor, admin)", roles.v[i]);
    }
    int admin = 0;
    for (int i = 0; i < roles.n; i++) admin |= !strcmp(roles.v[i], "admin");
    if (!c.by && !admin)
        return cli_usage_error(&cmd, "without --by only the first account is added, and it must "
                                     "hold the admin role (--role admin)");
    char pw[LFR_MAX_PASSWORD + 2];
    if ((r = get_password(&cmd, pwfile, pw, sizeof pw))) return r;
    json_t *rl = json_array();
    for (int i = 0; rl && i < roles.n; i++) json_array_append_new(rl, json_string(roles.v[i]));
    json_t *a = json_pack("{s:s, s:s, s:o, s:s}", "login", login, "display_name", name, "roles",
                          rl, "password", pw);
    sodium_memzero(pw, sizeof pw);
    /* the first admin acts as themselves: on a database that already has
     * accounts this name is refused unless it is an admin's */
    r = run(&c, &cmd, c.by ? c.by : login, LFR_OP_USER_ADD, a, human_added, login);
    args_free(a);
    if (r && !c.by)
        fprintf(stderr, "openlfr: (only the first account may be added without --by; after "
                        "that --by must name an admin's account)\n");
    return r;
}

static void human_list(json_t *ans, const char *unused) {
    (void)unused;
    json_t *list = json_object_get(ans, "users"), *u;
    if (!json_is_array(list)) list = ans;
    size_t i;
    printf("%-5s %-20s %-24s %-9s %s\n", "id", "login", "name", "state", "roles");
    json_array_foreach(list, i, u) {
        json_t *roles = json_object_get(u, "roles"), *r;
        size_t k;
        printf("%-5lld %-20s %-24s %-9s ", (long long)json_integer_value(json_object_get(u, "id")),
               json_string_value(json_object_get(u, "login")),
               json_string_value(json_object_get(u, "display_name")),
               json_is_true(json_object_get(u, "disabled")) ? "disabled" : "active");
        json_array_foreach(roles, k, r) printf("%s%s", k ? "," : "", json_string_value(r));
        printf("\n");
    }
}

static int user_list(int argc, char **argv) {
    lfr_cli_common c = {0};
    const cli_opt opts[] = {CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_cmd cmd = {"user list", "every account, with its roles", opts, NULL, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    json_t *a = json_object();
    r = run(&c, &cmd, c.by, LFR_OP_USER_LIST, a, human_list, NULL);
    json_decref(a);
    return r;
}

static void human_disabled(json_t *ans, const char *login) {
    (void)ans;
    printf("account %s disabled: it can no longer sign in, its sessions are revoked\n", login);
}

static int user_disable(int argc, char **argv) {
    lfr_cli_common c = {0};
    const char *login = NULL;
    const cli_opt opts[] = {CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {{"LOGIN", CLI_STR, 1, "the account", &login, 0, 0}, ARGS_END};
    const cli_cmd cmd = {"user disable", "stop an account from signing in", opts, args, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    json_t *a = json_pack("{s:s}", "login", login);
    r = run(&c, &cmd, c.by, LFR_OP_USER_DISABLE, a, human_disabled, login);
    json_decref(a);
    return r;
}

static void human_passwd(json_t *ans, const char *login) {
    (void)ans;
    printf("password of %s changed\n", login);
}

static int user_passwd(int argc, char **argv) {
    lfr_cli_common c = {0};
    const char *login = NULL, *pwfile = NULL;
    const cli_opt opts[] = {
        {"password-file", CLI_STR, 0, "FILE", "the password is this file's first line", &pwfile,
         0, 0},
        CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {{"LOGIN", CLI_STR, 1, "the account", &login, 0, 0}, ARGS_END};
    const cli_cmd cmd = {"user passwd", "set a new password for an account", opts, args,
                         "Password: --password-file, else $OPENLFR_PASSWORD, else asked on the "
                         "terminal."};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    char pw[LFR_MAX_PASSWORD + 2];
    if ((r = get_password(&cmd, pwfile, pw, sizeof pw))) return r;
    json_t *a = json_pack("{s:s, s:s}", "login", login, "password", pw);
    sodium_memzero(pw, sizeof pw);
    r = run(&c, &cmd, c.by, LFR_OP_USER_PASSWD, a, human_passwd, login);
    args_free(a);
    return r;
}

int lfr_cmd_user(int argc, char **argv) {
    static const cli_sub subs[] = {
        {"add", user_add, "add an account (the first admin needs no --by)"},
        {"list", user_list, "every account"},
        {"disable", user_disable, "stop an account from signing in"},
        {"passwd", user_passwd, "set a new password"},
        {NULL, NULL, NULL}};
    return cli_dispatch("user", subs, argc, argv);
}
