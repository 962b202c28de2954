/*
 * cmd_camera.c - the cameras of a deployment (deploy.h, "Cameras").
 *
 *   openlfr camera add --deployment D --name NAME (--url URL | --url-file F)
 *                      [--rtsp-transport tcp|udp] --by OPERATOR
 *   openlfr camera remove ID --by OPERATOR
 *   openlfr camera list --deployment D [--by NAME]
 *
 * Thin, like cmd_deploy.c: each subcommand's options are a table (opt.h),
 * the values become the arguments of camera.add / camera.remove /
 * camera.list (app.h), which checks roles and writes the audit record.
 * A camera's URL may carry credentials (rtsp://user:pass@...): the store
 * seals it and nothing prints it again.  On the command line other users
 * of the machine can read it (ps), so --url-file (its first line) or
 * $OPENLFR_CAMERA_URL is the way for a URL with credentials.  A relative
 * path to a local file is made absolute here: the server that plays it
 * runs from another directory.  --rtsp-transport is stored with the camera
 * (tcp unless told; udp for an rtsp:// camera that only speaks UDP) and
 * checked by the deploy module, which refuses udp for other URLs.
 *
 * A camera added to a live deployment starts at once in a running
 * `openlfr serve` (the app's registry is told); cameras of a deployment
 * that goes live start with it.
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "opt.h"

#define ARGS_END {NULL, CLI_STR, 0, NULL, NULL, 0, 0}

/* Who reads, when --by is not given (read-only operations record nothing). */
#define READER "openlfr-cli"

/* Longest camera URL read from --url-file or the environment. */
#define URL_CAP 2048

static const char *URL_NOTE =
    "URL: rtsp://, rtsps://, http(s)://, /dev/videoN or a video file (a relative path is made\n"
    "absolute).  The URL is sealed in the database and never shown again.  One that carries\n"
    "credentials belongs in --url-file FILE (its first line) or $OPENLFR_CAMERA_URL, not on\n"
    "the command line, where other users of the machine can read it.\n"
    "RTSP transport: tcp (the default) carries RTP in the RTSP connection, which passes NAT and\n"
    "firewalls; udp is for rtsp:// cameras that only speak UDP or networks that block\n"
    "interleaved TCP (refused for other URLs).";

static void jprint(json_t *j) {
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (s) puts(s);
    free(s);
}

static const char *js(json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "-";
}

static long long ji(json_t *o, const char *key) {
    return (long long)json_integer_value(json_object_get(o, key));
}

/* Runs one camera.* operation; args is borrowed.  Prints the answer
 * (--json) or human(answer).  Returns the exit code. */
static int run(const lfr_cli_common *c, const cli_cmd *cmd, lfr_op op, json_t *args,
               void (*human)(json_t *)) {
    lfr_config cfg;
    int rc = lfr_cli_config(c, &cfg);
    json_t *ans = NULL;
    if (rc == 0 && !args) rc = lfr_cli_fail(cmd->name, LFR_ERR_NOMEM, NULL);
    if (rc == 0)
        rc = lfr_cli_call(&cfg, cmd->name, c->by ? c->by : READER, 0, op, args, NULL, 0, &ans);
    if (rc == 0) {
        if (c->json) jprint(ans);
        else human(ans);
    }
    json_decref(ans);
    return rc;
}

/* Whether u names a source by a scheme or a device rather than a file. */
static int is_url(const char *u) {
    return strstr(u, "://") != NULL || strncmp(u, "/dev/", 5) == 0 || strncmp(u, "file:", 5) == 0;
}

/* The camera's URL into buf (wiped by the caller): --url, else the first
 * line of --url-file, else $OPENLFR_CAMERA_URL.  A relative path to an
 * existing file becomes absolute.  0, or 2 after naming the problem. */
static int get_url(const cli_cmd *cmd, const char *url, const char *file, char *buf, size_t cap) {
    buf[0] = 0;
    if (url && file) return cli_usage_error(cmd, "--url and --url-file: give one of them");
    if (url) {
        if (strlen(url) >= cap) return cli_usage_error(cmd, "--url: longer than %zu bytes", cap - 1);
        snprintf(buf, cap, "%s", url);
    } else if (file) {
        FILE *f = fopen(file, "r");
        if (!f) return cli_usage_error(cmd, "--url-file: cannot open %s", file);
        char *got = fgets(buf, (int)cap, f);
        fclose(f);
        if (!got) return cli_usage_error(cmd, "--url-file: %s is empty", file);
        buf[strcspn(buf, "\r\n")] = 0;
    } else {
        const char *env = getenv("OPENLFR_CAMERA_URL");
        if (!env || !*env)
            return cli_usage_error(cmd, "a URL is needed: --url URL, --url-file FILE or "
                                        "$OPENLFR_CAMERA_URL");
        if (strlen(env) >= cap)
            return cli_usage_error(cmd, "$OPENLFR_CAMERA_URL: longer than %zu bytes", cap - 1);
        snprintf(buf, cap, "%s", env);
    }
    if (!buf[0]) return cli_usage_error(cmd, "the camera's URL is empty");
    struct stat sb;
    if (!is_url(buf) && buf[0] != '/' && stat(buf, &sb) == 0) {
        char *abs = realpath(buf, NULL);
        if (abs && strlen(abs) < cap) snprintf(buf, cap, "%s", abs);
        free(abs);
    }
    return 0;
}

/* Wipes the URL jansson holds (the argument object owns its copy). */
static void args_free(json_t *a) {
    json_t *u = json_object_get(a, "url");
    if (u && json_string_value(u)) {
        char *t = (char *)json_string_value(u);
        sodium_memzero(t, strlen(t));
    }
    json_decref(a);
}

static void human_added(json_t *ans) {
    printf("camera %lld: %s, deployment %lld\n", ji(ans, "id"), js(ans, "name"),
           ji(ans, "deployment"));
}

/* rtsp:// cameras say which transport they got. */
static void human_added_rtsp(json_t *ans) {
    printf("camera %lld: %s, deployment %lld (RTSP over %s)\n", ji(ans, "id"), js(ans, "name"),
           ji(ans, "deployment"), js(ans, "rtsp_transport"));
}

static int cam_add(int argc, char **argv) {
    lfr_cli_common c = {0};
    int64_t dep = 0;
    const char *name = NULL, *url = NULL, *url_file = NULL, *transport = NULL;
    const cli_opt opts[] = {
        {"deployment", CLI_INT, 1, "D", "the deployment (draft, authorised or live)", &dep, 1,
         INT64_MAX},
        {"name", CLI_STR, 1, "NAME", "the name alerts and reports show (\"north gate\")", &name,
         0, 0},
        {"url", CLI_STR, 0, "URL", "the source (no credentials here: see below)", &url, 0, 0},
        {"url-file", CLI_STR, 0, "FILE", "the source is this file's first line", &url_file, 0,
         0},
        {"rtsp-transport", CLI_STR, 0, "tcp|udp",
         "how an rtsp:// camera sends RTP (default tcp; see below)", &transport, 0, 0},
        CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_cmd cmd = {"camera add",
                         "add a camera to a deployment (it starts at once if the deployment is "
                         "live in a running server)",
                         opts, NULL, URL_NOTE};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    char buf[URL_CAP];
    if ((r = get_url(&cmd, url, url_file, buf, sizeof buf))) {
        sodium_memzero(buf, sizeof buf);
        return r;
    }
    /* the value is checked by camera.add (deploy.h), one sentence for all callers */
    json_t *tr = transport ? json_string(transport) : NULL;
    if (transport && !tr) {
        sodium_memzero(buf, sizeof buf);
        return cli_usage_error(&cmd, "--rtsp-transport: tcp or udp");   /* not UTF-8 */
    }
    json_t *a = json_pack("{s:I, s:s, s:s}", "deployment", (json_int_t)dep, "name", name, "url",
                          buf);
    int rtsp = strncasecmp(buf, "rtsp", 4) == 0;
    sodium_memzero(buf, sizeof buf);
    if (a && tr && json_object_set_new(a, "rtsp_transport", tr)) {
        args_free(a);
        a = NULL;   /* run() reports out of memory */
    } else if (!a) {
        json_decref(tr);
    }
    r = run(&c, &cmd, LFR_OP_CAMERA_ADD, a, rtsp ? human_added_rtsp : human_added);
    args_free(a);
    return r;
}

static void human_removed(json_t *ans) {
    printf("camera %lld removed: it stops now; its record stays for the audit\n", ji(ans, "id"));
}

static int cam_remove(int argc, char **argv) {
    lfr_cli_common c = {0};
    int64_t id = 0;
    const cli_opt opts[] = {CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {{"ID", CLI_INT, 1, "the camera (camera list shows the ids)", &id, 1,
                             INT64_MAX},
                            ARGS_END};
    const cli_cmd cmd = {"camera remove", "take a camera off its deployment", opts, args, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    json_t *a = json_pack("{s:I}", "id", (json_int_t)id);
    r = run(&c, &cmd, LFR_OP_CAMERA_REMOVE, a, human_removed);
    json_decref(a);
    return r;
}

static void human_list(json_t *ans) {
    json_t *list = json_object_get(ans, "cameras"), *cam;
    size_t i;
    printf("%-5s %-24s %-5s %-21s %s\n", "id", "name", "rtsp", "added", "by");
    json_array_foreach(list, i, cam)
        printf("%-5lld %-24s %-5s %-21s %s\n", ji(cam, "id"), js(cam, "name"),
               js(cam, "rtsp_transport"), js(cam, "added_at"), js(cam, "added_by"));
}

static int cam_list(int argc, char **argv) {
    lfr_cli_common c = {0};
    int64_t dep = 0;
    const cli_opt opts[] = {
        {"deployment", CLI_INT, 1, "D", "the deployment", &dep, 1, INT64_MAX},
        CLI_OPT_BY(&c, 0), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_cmd cmd = {"camera list", "a deployment's cameras in use (never their URLs)", opts,
                         NULL, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    json_t *a = json_pack("{s:I}", "deployment", (json_int_t)dep);
    r = run(&c, &cmd, LFR_OP_CAMERA_LIST, a, human_list);
    json_decref(a);
    return r;
}

int lfr_cmd_camera(int argc, char **argv) {
    static const cli_sub subs[] = {
        {"add", cam_add, "add a camera to a deployment"},
        {"remove", cam_remove, "take a camera off its deployment"},
        {"list", cam_list, "a deployment's cameras"},
        {NULL, NULL, NULL}};
    return cli_dispatch("camera", subs, argc, argv);
}
