/*
 * cmd_serve.c - `openlfr serve`: the van's server in one process: the
 * HTTPS API and live events (src/http), the camera pipelines of live
 * deployments (the app's registry), the retention timer (lfr_app_tick
 * every retention_check_s) and the static web files.
 *
 * Options: every row of the configuration table (app.h LFR_CONFIG_LIST)
 * as --key VALUE or --key=VALUE ('-' and '_' alike), read after
 * --config FILE and the OPENLFR_<KEY> environment; --key is --cert-key.
 * SIGINT / SIGTERM stop it cleanly.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "cli.h"
#include "http/http.h"

static void serve_usage(FILE *f) {
    fprintf(f,
            "usage: openlfr serve [--config FILE] [--OPTION VALUE]...\n\n"
            "Runs the van's HTTPS server: API, live events, camera pipelines of live\n"
            "deployments, retention, web files.  On first start it creates the van's\n"
            "certificate authority beside the database (or in --tls-dir) and prints its\n"
            "SHA-256 fingerprint; --cert/--key use the force's own certificate instead.\n"
            "Later settings win: --config FILE, then OPENLFR_<KEY>, then flags.\n\n"
            "  --config FILE              read options from FILE first\n"
            "  --key FILE                 the same as --cert-key\n");
    lfr_config_print_help(f);
}

static lfr_log_level level_of(const char *s) {
    if (strcmp(s, "debug") == 0) return LFR_LOG_DEBUG;
    if (strcmp(s, "warn") == 0) return LFR_LOG_WARN;
    if (strcmp(s, "error") == 0) return LFR_LOG_ERROR;
    return LFR_LOG_INFO;
}

int lfr_cmd_serve(int argc, char **argv) {
    lfr_config cfg;
    lfr_config_defaults(&cfg);
    lfr_err err = {{0}};
    lfr_status st;
    const char *config_file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            serve_usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "openlfr serve: --config needs a file\n");
                return 2;
            }
            config_file = argv[++i];
        }
    }
    if (config_file && (st = lfr_config_load_file(&cfg, config_file, &err)) != LFR_OK)
        return lfr_cli_fail(config_file, st, &err);
    /* OPENLFR_KEY names the key file for serve as for every other command
     * (lfr_cli_config); OPENLFR_KEY_FILE and --key_file come after it. */
    const char *key = getenv("OPENLFR_KEY");
    if (key && *key && (st = lfr_config_set(&cfg, "key_file", key, &err)) != LFR_OK)
        return lfr_cli_fail("OPENLFR_KEY", st, &err);
    if ((st = lfr_config_load_env(&cfg, &err)) != LFR_OK)
        return lfr_cli_fail("environment", st, &err);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--", 2) != 0) {
            fprintf(stderr, "openlfr serve: unexpected argument '%s' (options are --key value)\n",
                    argv[i]);
            return 2;
        }
        char key[64];
        const char *val, *eq = strchr(argv[i], '=');
        if (eq) {
            snprintf(key, sizeof key, "%.*s", (int)(eq - argv[i] - 2), argv[i] + 2);
            val = eq + 1;
        } else {
            snprintf(key, sizeof key, "%s", argv[i] + 2);
            if (i + 1 >= argc) {
                fprintf(stderr, "openlfr serve: --%s needs a value\n", key);
                return 2;
            }
            val = argv[++i];
        }
        if (strcmp(key, "key") == 0) snprintf(key, sizeof key, "cert_key");
        st = lfr_config_set(&cfg, key, val, &err);
        if (st == LFR_ERR_NOT_FOUND) {
            fprintf(stderr, "openlfr serve: unknown option --%s (see openlfr serve --help)\n", key);
            return 2;
        }
        if (st != LFR_OK) {
            fprintf(stderr, "openlfr serve: --%s: %s\n", key, err.msg);
            return 2;
        }
    }
    lfr_log_set_level(level_of(cfg.log));

    /* Signals are taken synchronously by this thread only: block them
     * before any thread starts, so every thread inherits the mask. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    lfr_app *app = NULL;
    lfr_app_options ao;
    memset(&ao, 0, sizeof ao);
    if ((st = lfr_app_open(&cfg, &ao, &app, &err)) != LFR_OK) return lfr_cli_fail("serve", st, &err);
    lfr_http *srv = NULL;
    lfr_http_options ho = {-1, NULL};
    if ((st = lfr_http_start(app, &ho, &srv, &err)) != LFR_OK) {
        lfr_app_close(app);
        return lfr_cli_fail("serve", st, &err);
    }
    const char *host = strchr(cfg.listen, ':') ? "[%s]" : "%s";
    char shown[LFR_MAX_CONFIG_VALUE + 2];
    snprintf(shown, sizeof shown, host, cfg.listen);
    printf("openlfr: serving https://%s:%u/\n", shown, (unsigned)lfr_http_port(srv));
    printf("openlfr: %s fingerprint %s\n", cfg.cert[0] ? "certificate" : "van CA",
           lfr_http_fingerprint(srv));
    fflush(stdout);

    int rc = 0;
    for (;;) {
        struct timespec ts = {(time_t)cfg.retention_check_s, 0};
        int sig = sigtimedwait(&stop, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM) {
            printf("openlfr: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
            break;
        }
        if (sig < 0 && errno != EAGAIN && errno != EINTR) {
            perror("openlfr serve: sigtimedwait");
            rc = 1;
            break;
        }
        if (sig < 0 && errno == EAGAIN && (st = lfr_app_tick(app, &err)) != LFR_OK)
            lfr_log(LFR_LOG_ERROR, "retention: %s: %s", lfr_status_message(st), err.msg);
    }
    lfr_http_stop(srv);
    lfr_app_close(app);
    return rc;
}
