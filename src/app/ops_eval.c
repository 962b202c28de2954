/*
 * ops_eval.c - the accuracy and fairness evaluation from the console
 * (eval.status, eval.start, eval.cancel, eval.file) for the auditor and the
 * admin.
 *
 * DESIGN
 *   A run is `openlfr eval report --data D --out DIR --sample K --model-set
 *   S` (src/cli/cmd_eval_report.c) in a CHILD process: the server spawns
 *   its own executable (/proc/self/exe, so the same build even after an
 *   upgrade replaced the file) with posix_spawn, in a process
 *   group of its own (a cancel signals the group, so the open-set child it
 *   runs stops too), niced (live cameras come first), with an empty signal
 *   mask and default SIGPIPE/SIGTERM (the server blocks and ignores
 *   those).  Its stdout and stderr go to a pipe that a watcher thread
 *   reads: every line is appended to progress.log, the last few are kept
 *   for eval.status, which parses them into a stage and a fraction
 *   (stages below).  One run at a time (LFR_ERR_STATE otherwise).
 *
 *   Data: config `data` ($OPENLFR_DATA), refused (LFR_ERR_STATE, naming
 *   what is missing) when unset or without lfw/pairs.txt, utkface/images,
 *   wider/demographics.csv and celeba/.
 *
 *   Runs are kept under the van's state directory, beside the database:
 *   eval-runs/run-SEQ/ with run.json (who, when, sample, model set,
 *   status, last error line), progress.log, and the child's report.json
 *   and index.html.  SEQ is the seq of the run's eval.start audit record,
 *   so a folder and its records name each other.  A folder whose run.json
 *   says running but that this process does not run is listed as
 *   interrupted (the server stopped during the run).
 *
 *   Audit: eval.start (the op), eval.cancel (the op, who cancelled) and
 *   eval.end (the watcher, as the system, when the child is gone: done,
 *   failed with its last error line, or cancelled).
 *
 * OWNERSHIP
 *   The app owns one app_eval (app->eval, made on first use under app->mu,
 *   freed by app_eval_close, which cancels a run and joins its watcher).
 */
#define _GNU_SOURCE /* pipe2: the pipe is close-on-exec from the start */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app_int.h"

extern char **environ;

/* The stages of a run, in order, each known by the first progress line of
 * it the child prints (cmd_eval_report.c). */
#define EVAL_STAGE_LIST(X)                                                                     \
    X("LFW verification and demographics", "eval report: LFW ")                               \
    X("UTKFace demographics", "eval report: UTKFace ")                                         \
    X("WIDER FACE detection", "eval report: WIDER ")                                           \
    X("open-set identification", "eval report: open-set identification")                     \
    X("writing the report", "eval report: wrote ")

static const struct {
    const char *name, *prefix;
} eval_stages[] = {
#define EVAL_STAGE_ROW(name, prefix) {name, prefix},
    EVAL_STAGE_LIST(EVAL_STAGE_ROW)
#undef EVAL_STAGE_ROW
};
#define EVAL_N_STAGES ((int)(sizeof eval_stages / sizeof eval_stages[0]))

/* What eval.start checks in the data directory. */
static const char *const eval_data_needs[] = {"lfw/pairs.txt", "utkface/images",
                                              "wider/demographics.csv", "celeba"};

struct app_eval {
    pthread_mutex_t mu;
    int active;                 /* a run is starting or its child is running */
    int cancelled;              /* eval.cancel was called for it */
    int64_t id;                 /* the active (or last) run */
    pid_t pid;
    int fd;                     /* read end of the child's output */
    pthread_t thread;
    int joinable;               /* thread not joined yet */
    char dir[PATH_MAX];         /* the active run's folder */
    int64_t started;
    char lines[LFR_EVAL_RUN_LINES][LFR_EVAL_LINE_MAX];
    int n_lines;                /* lines seen in all */
    int stage;                  /* index in eval_stages, -1 before the first */
    char error[LFR_EVAL_LINE_MAX]; /* last "openlfr: ..." line */
    lfr_app *app;
};

static int64_t eval_now(const lfr_app *app) {
    return app->opt.now ? app->opt.now(app->opt.now_ctx) : (int64_t)time(NULL);
}

static lfr_status eval_get(lfr_app *app, app_eval **out, lfr_err *err) {
    pthread_mutex_lock(&app->mu);
    if (!app->eval) {
        app_eval *e = lfr_calloc(1, sizeof *e);
        if (e) {
            pthread_mutex_init(&e->mu, NULL);
            e->fd = -1;
            e->stage = -1;
            e->app = app;
            app->eval = e;
        }
    }
    *out = app->eval;
    pthread_mutex_unlock(&app->mu);
    return *out ? LFR_OK : lfr_err_set(err, LFR_ERR_NOMEM, "eval: out of memory");
}

/* The runs' folder: eval-runs beside the database. */
static lfr_status eval_root(const lfr_app *app, char *out, size_t cap, lfr_err *err) {
    const char *db = app->cfg.db, *slash = strrchr(db, '/');
    int n = slash ? snprintf(out, cap, "%.*s/eval-runs", (int)(slash - db), db)
                  : snprintf(out, cap, "eval-runs");
    if (n < 0 || (size_t)n >= cap)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "eval: the database path is too long");
    return LFR_OK;
}

static lfr_status eval_run_dir(const lfr_app *app, int64_t id, char *out, size_t cap,
                               lfr_err *err) {
    char root[PATH_MAX];
    lfr_status st = eval_root(app, root, sizeof root, err);
    if (st != LFR_OK) return st;
    int n = snprintf(out, cap, "%s/run-%lld", root, (long long)id);
    if (n < 0 || (size_t)n >= cap)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "eval: the database path is too long");
    return LFR_OK;
}

/* Is the data there?  NULL when it is, else what is missing (a sentence). */
static const char *eval_data_missing(const lfr_app *app, char *why, size_t cap) {
    const char *d = app->cfg.data;
    if (!d[0]) {
        snprintf(why, cap, "no evaluation data on this van: option data ($OPENLFR_DATA) is not set");
        return why;
    }
    for (size_t i = 0; i < sizeof eval_data_needs / sizeof eval_data_needs[0]; i++) {
        char p[PATH_MAX + 64];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", d, eval_data_needs[i]);
        if (stat(p, &sb)) {
            snprintf(why, cap, "the evaluation data %.900s lacks %s", d, eval_data_needs[i]);
            return why;
        }
    }
    return NULL;
}

/* run.json ------------------------------------------------------------------ */
static void eval_meta_write(const char *dir, json_t *meta) {
    char p[PATH_MAX + 32], tmp[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/run.json", dir);
    snprintf(tmp, sizeof tmp, "%s/run.json.tmp", dir);
    if (json_dump_file(meta, tmp, JSON_INDENT(1)) == 0) {
        if (rename(tmp, p)) lfr_log(LFR_LOG_ERROR, "eval: cannot write %s: %s", p, strerror(errno));
    } else {
        lfr_log(LFR_LOG_ERROR, "eval: cannot write %s", tmp);
    }
}

static json_t *eval_meta_read(const char *dir) {
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/run.json", dir);
    json_t *m = json_load_file(p, 0, NULL);
    if (json_is_object(m)) return m;
    json_decref(m);
    return NULL;
}

/* Progress ------------------------------------------------------------------ */
/* Called with e->mu held. */
static void eval_take_line(app_eval *e, const char *line) {
    snprintf(e->lines[e->n_lines % LFR_EVAL_RUN_LINES], LFR_EVAL_LINE_MAX, "%s", line);
    e->n_lines++;
    for (int s = 0; s < EVAL_N_STAGES; s++)
        if (!strncmp(line, eval_stages[s].prefix, strlen(eval_stages[s].prefix)) && s > e->stage)
            e->stage = s;
    if (!strncmp(line, "openlfr: ", 9)) snprintf(e->error, sizeof e->error, "%s", line);
}

/* The fraction of the run done, from the stage and, within the LFW stage,
 * "N/M photos embedded". */
static double eval_fraction(const app_eval *e, const char *last) {
    if (e->stage < 0) return 0;
    double f = (double)e->stage / EVAL_N_STAGES;
    int a, b;
    const char *p = e->stage == 0 && last ? strstr(last, "LFW ") : NULL;
    if (p && sscanf(p, "LFW %d/%d", &a, &b) == 2 && b > 0 && a <= b)
        f += (double)a / b / EVAL_N_STAGES;
    return f;
}

/* The end of a run: status into run.json and the eval.end record. */
static void eval_finish(app_eval *e, int wstatus) {
    lfr_app *app = e->app;
    pthread_mutex_lock(&e->mu);
    const char *status = e->cancelled                                  ? "cancelled"
                         : WIFEXITED(wstatus) && !WEXITSTATUS(wstatus) ? "done"
                                                                       : "failed";
    char error[LFR_EVAL_LINE_MAX] = "";
    if (!strcmp(status, "failed")) {
        if (e->error[0]) snprintf(error, sizeof error, "%s", e->error);
        else if (e->n_lines)
            snprintf(error, sizeof error, "%s", e->lines[(e->n_lines - 1) % LFR_EVAL_RUN_LINES]);
        else if (WIFSIGNALED(wstatus))
            snprintf(error, sizeof error, "the evaluation stopped on signal %d", WTERMSIG(wstatus));
        else
            snprintf(error, sizeof error, "the evaluation exited with status %d",
                     WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    }
    int64_t id = e->id, ended = eval_now(app), secs = ended - e->started;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", e->dir);
    pthread_mutex_unlock(&e->mu);

    json_t *meta = eval_meta_read(dir);
    if (!meta) meta = json_pack("{s:I}", "id", (json_int_t)id);
    json_object_set_new(meta, "status", json_string(status));
    json_object_set_new(meta, "ended_at", lfr_json_time(ended));
    json_object_set_new(meta, "error", error[0] ? json_string(error) : json_null());
    eval_meta_write(dir, meta);
    json_decref(meta);

    json_t *d = json_pack("{s:I, s:s, s:I}", "run", (json_int_t)id, "status", status, "seconds",
                          (json_int_t)secs);
    if (d && error[0]) json_object_set_new(d, "error", json_string(error));
    char *txt = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    lfr_store *s = NULL;
    lfr_err err = {{0}};
    const lfr_actor sys = {"openlfr", LFR_ROLE_SYSTEM};
    lfr_status st = txt ? app_store_take(app, &s, &err) : LFR_ERR_NOMEM;
    if (st == LFR_OK) {
        st = lfr_audit_append(s, &sys, LFR_AUDIT_EVAL_END, 0, txt, NULL, &err);
        app_store_give(app, s);
    }
    if (st != LFR_OK) lfr_log(LFR_LOG_ERROR, "eval: run %lld: the eval.end record: %s", (long long)id, err.msg);
    free(txt);
    lfr_log(LFR_LOG_INFO, "eval: run %lld %s%s%s", (long long)id, status, error[0] ? ": " : "", error);

    pthread_mutex_lock(&e->mu);
    e->active = 0;
    e->pid = 0;
    pthread_mutex_unlock(&e->mu);
}

/* The watcher: the child's lines into progress.log and the ring, then its
 * exit status. */
static void *eval_watch(void *arg) {
    app_eval *e = arg;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/progress.log", e->dir);
    FILE *log = fopen(path, "a");
    FILE *in = fdopen(e->fd, "r");
    char line[LFR_EVAL_LINE_MAX];
    while (in && fgets(line, sizeof line, in)) {
        size_t n = strlen(line);
        int whole = n && line[n - 1] == '\n';
        line[strcspn(line, "\r\n")] = 0;
        if (log) fprintf(log, "%s\n", line), fflush(log);
        pthread_mutex_lock(&e->mu);
        eval_take_line(e, line);
        pthread_mutex_unlock(&e->mu);
        while (!whole && (n = fread(line, 1, 1, in)) == 1 && line[0] != '\n') {} /* rest of a long line */
    }
    if (in) fclose(in);
    else close(e->fd);
    if (log) fclose(log);
    int ws = 0;
    while (waitpid(e->pid, &ws, 0) < 0 && errno == EINTR) {}
    eval_finish(e, ws);
    return NULL;
}

/* The child ----------------------------------------------------------------- */
static lfr_status eval_spawn(app_eval *e, const char *data, int64_t sample, const char *set,
                             lfr_err *err) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return lfr_err_set(err, LFR_ERR_INTERNAL, "eval.start: cannot find the server's own executable");
    self[n] = 0;
    char k[24];
    snprintf(k, sizeof k, "%lld", (long long)sample);
    char *argv[] = {self, "eval", "report", "--data", (char *)data, "--out", e->dir,
                    "--sample", k, "--model-set", (char *)set, NULL};
    /* the environment, with the server's models and one thread per
     * process unless the van says otherwise */
    size_t ne = 0;
    while (environ[ne]) ne++;
    char **envp = lfr_calloc(ne + 3, sizeof *envp);
    char models[LFR_MAX_CONFIG_VALUE + 32];
    if (!envp) return lfr_err_set(err, LFR_ERR_NOMEM, "eval.start: out of memory");
    snprintf(models, sizeof models, "OPENLFR_MODELS=%s", e->app->cfg.models);
    size_t m = 0;
    int omp = 0;
    for (size_t i = 0; i < ne; i++) {
        if (!strncmp(environ[i], "OPENLFR_MODELS=", 15)) continue;
        if (!strncmp(environ[i], "OMP_NUM_THREADS=", 16)) omp = 1;
        envp[m++] = environ[i];
    }
    envp[m++] = models;
    if (!omp) envp[m++] = "OMP_NUM_THREADS=1";

    int fds[2];
    if (pipe2(fds, O_CLOEXEC)) {
        lfr_free(envp);
        return lfr_err_set(err, LFR_ERR_IO, "eval.start: pipe: %s", strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawnattr_init(&at);
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    int defaults[] = {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) sigaddset(&dflt, defaults[i]);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dflt);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    pid_t pid = 0;
    /* /proc/self/exe, not the path: the server's own image even when its
     * file was replaced (upgraded) since it started */
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    lfr_free(envp);
    close(fds[1]);
    if (rc) {
        close(fds[0]);
        return lfr_err_set(err, LFR_ERR_INTERNAL, "eval.start: cannot start %s: %s", self, strerror(rc));
    }
    if (setpriority(PRIO_PROCESS, (id_t)pid, LFR_EVAL_NICE))
        lfr_log(LFR_LOG_WARN, "eval: could not lower the run's priority: %s", strerror(errno));
    e->pid = pid;
    e->fd = fds[0];
    if ((rc = pthread_create(&e->thread, NULL, eval_watch, e))) {
        kill(-pid, SIGKILL);
        close(fds[0]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        return lfr_err_set(err, LFR_ERR_INTERNAL, "eval.start: cannot start the watcher: %s", strerror(rc));
    }
    e->joinable = 1;
    return LFR_OK;
}

/* Answers ------------------------------------------------------------------- */
static int has_file(const char *dir, const char *name) {
    char p[PATH_MAX + 64];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return !stat(p, &sb) && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

/* One run for the answer: run.json with what this process knows of it. */
static json_t *eval_run_json(app_eval *e, const char *dir, json_t *meta) {
    json_t *r = json_deep_copy(meta);
    if (!r) return NULL;
    int64_t id = json_integer_value(json_object_get(r, "id"));
    const char *status = json_string_value(json_object_get(r, "status"));
    pthread_mutex_lock(&e->mu);
    int mine = e->active && e->id == id;
    if (mine) {
        const char *last = e->n_lines ? e->lines[(e->n_lines - 1) % LFR_EVAL_RUN_LINES] : NULL;
        json_t *lines = json_array();
        int first = e->n_lines > LFR_EVAL_RUN_LINES ? e->n_lines - LFR_EVAL_RUN_LINES : 0;
        for (int i = first; i < e->n_lines; i++)
            json_array_append_new(lines, json_string(e->lines[i % LFR_EVAL_RUN_LINES]));
        json_object_set_new(r, "status", json_string(e->cancelled ? "cancelling" : "running"));
        json_object_set_new(r, "progress", json_pack("{s:i, s:i, s:s?, s:f, s:s?, s:o}", "stage",
                                                     e->stage + 1, "stages", EVAL_N_STAGES,
                                                     "stage_name", e->stage >= 0 ? eval_stages[e->stage].name : "starting",
                                                     "fraction", eval_fraction(e, last), "line",
                                                     last, "lines", lines));
        json_object_set_new(r, "seconds", json_integer((json_int_t)(eval_now(e->app) - e->started)));
    } else if (status && !strcmp(status, "running")) {
        json_object_set_new(r, "status", json_string("interrupted"));
        json_object_set_new(r, "error", json_string("the server stopped during the run"));
    }
    pthread_mutex_unlock(&e->mu);
    json_object_set_new(r, "has_report", json_boolean(!mine && has_file(dir, "index.html") &&
                                                      has_file(dir, "report.json")));
    return r;
}

static int cmp_desc(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The model sets `openlfr eval report --model-set` measures: every set
 * with a calibration (match.h); eval.status lists them with the
 * deployments' default (LFR_DEPLOY_DEFAULT_MODEL_SET) first, the one the
 * console offers first. */
static json_t *eval_model_sets_json(void) {
    json_t *a = json_array();
    json_array_append_new(a, json_string(LFR_DEPLOY_DEFAULT_MODEL_SET));
    for (int i = 0; i < lfr_match_calibration_count(); i++) {
        const char *name = lfr_match_calibration_name(lfr_match_calibration_at(i));
        if (strcmp(name, LFR_DEPLOY_DEFAULT_MODEL_SET)) json_array_append_new(a, json_string(name));
    }
    return a;
}

lfr_status app_op_EVAL_STATUS(app_call *c) {
    app_eval *e;
    lfr_status st = eval_get(c->app, &e, c->err);
    if (st != LFR_OK) return st;
    char why[1200], root[PATH_MAX];
    const char *missing = eval_data_missing(c->app, why, sizeof why);
    if ((st = eval_root(c->app, root, sizeof root, c->err)) != LFR_OK) return st;
    json_t *data = json_pack("{s:s?, s:b, s:s?}", "dir", c->app->cfg.data[0] ? c->app->cfg.data : NULL,
                             "usable", !missing, "message", missing);
    /* the folders, newest first */
    int64_t ids[LFR_EVAL_MAX_RUNS_LISTED];
    int n = 0, total = 0;
    DIR *d = opendir(root);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        long long id;
        char tail;
        if (sscanf(de->d_name, "run-%lld%c", &id, &tail) != 1 || id <= 0) continue;
        total++;
        if (n < LFR_EVAL_MAX_RUNS_LISTED) ids[n++] = id;
        else {
            int lo = 0; /* keep the newest: replace the oldest kept */
            for (int i = 1; i < n; i++) if (ids[i] < ids[lo]) lo = i;
            if (id > ids[lo]) ids[lo] = id;
        }
    }
    if (d) closedir(d);
    qsort(ids, (size_t)n, sizeof ids[0], cmp_desc);
    json_t *runs = json_array(), *running = json_null();
    for (int i = 0; i < n; i++) {
        char dir[PATH_MAX];
        if (eval_run_dir(c->app, ids[i], dir, sizeof dir, c->err) != LFR_OK) continue;
        json_t *meta = eval_meta_read(dir);
        if (!meta) continue;
        json_object_set_new(meta, "id", json_integer((json_int_t)ids[i]));
        json_t *r = eval_run_json(e, dir, meta);
        json_decref(meta);
        if (!r) continue;
        const char *s = json_string_value(json_object_get(r, "status"));
        if (s && (!strcmp(s, "running") || !strcmp(s, "cancelling")) && json_is_null(running))
            running = json_incref(r);
        json_array_append_new(runs, r);
    }
    return app_answer(c, json_pack("{s:o, s:o, s:o, s:i, s:i, s:o, s:s}", "data", data, "running",
                                   running, "runs", runs, "runs_total", total, "quick_sample",
                                   LFR_EVAL_QUICK_SAMPLE, "model_sets", eval_model_sets_json(),
                                   "default_model_set", LFR_DEPLOY_DEFAULT_MODEL_SET));
}

lfr_status app_op_EVAL_START(app_call *c) {
    app_eval *e;
    lfr_status st = eval_get(c->app, &e, c->err);
    if (st != LFR_OK) return st;
    int64_t sample = app_arg_has(c, "sample") ? app_arg_id(c, "sample") : 1;
    const char *set = app_arg_str(c, "model_set");
    if (!set) set = LFR_DEPLOY_DEFAULT_MODEL_SET; /* the model set deployments use */
    if (sample < 1 || sample > LFR_EVAL_MAX_SAMPLE)
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG,
                           "eval.start: sample must be 1 (every photo) to %d (every %dth), not %lld",
                           LFR_EVAL_MAX_SAMPLE, LFR_EVAL_MAX_SAMPLE, (long long)sample);
    /* a set with a calibration, or the error naming the known ones */
    st = lfr_deploy_model_set_thresholds(set, NULL, NULL, NULL, c->err);
    if (st != LFR_OK) return st;
    char why[1200];
    const char *missing = eval_data_missing(c->app, why, sizeof why);
    if (missing) return lfr_err_set(c->err, LFR_ERR_STATE, "eval.start: %s", missing);

    /* one run at a time: reserve the slot, joining the last watcher */
    pthread_mutex_lock(&e->mu);
    if (e->active) {
        int64_t id = e->id;
        pthread_mutex_unlock(&e->mu);
        return lfr_err_set(c->err, LFR_ERR_STATE,
                           "eval.start: evaluation run %lld is still running: wait for it or cancel it",
                           (long long)id);
    }
    e->active = 1;
    int join = e->joinable;
    e->joinable = 0;
    pthread_mutex_unlock(&e->mu);
    if (join) pthread_join(e->thread, NULL);

    /* the record first: its seq names the folder */
    json_t *d = json_pack("{s:I, s:s, s:s}", "sample", (json_int_t)sample, "model_set", set,
                          "data", c->app->cfg.data);
    char *txt = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    int64_t seq = 0;
    char root[PATH_MAX], dir[PATH_MAX] = "";
    st = txt ? LFR_OK : lfr_err_set(c->err, LFR_ERR_NOMEM, "eval.start: out of memory");
    if (st == LFR_OK) st = eval_root(c->app, root, sizeof root, c->err);
    if (st == LFR_OK && mkdir(root, 0700) && errno != EEXIST)
        st = lfr_err_set(c->err, LFR_ERR_IO, "eval.start: cannot create %s: %s", root, strerror(errno));
    if (st == LFR_OK) st = lfr_audit_append(c->s, &c->by, LFR_AUDIT_EVAL_START, 0, txt, &seq, c->err);
    free(txt);
    if (st != LFR_OK) {
        pthread_mutex_lock(&e->mu);
        e->active = 0;
        pthread_mutex_unlock(&e->mu);
        return st;
    }
    st = eval_run_dir(c->app, seq, dir, sizeof dir, c->err);
    if (st == LFR_OK && mkdir(dir, 0700))
        st = lfr_err_set(c->err, LFR_ERR_IO, "eval.start: cannot create %s: %s", dir, strerror(errno));
    int64_t now = eval_now(c->app);
    json_t *meta = json_pack("{s:I, s:s, s:o, s:o, s:s, s:I, s:s, s:s, s:o}", "id", (json_int_t)seq,
                             "status", "running", "started_at", lfr_json_time(now), "ended_at",
                             json_null(), "by", c->by.name, "sample", (json_int_t)sample,
                             "model_set", set, "data", c->app->cfg.data, "error", json_null());
    if (st == LFR_OK) {
        eval_meta_write(dir, meta);
        pthread_mutex_lock(&e->mu);
        e->id = seq;
        e->cancelled = 0;
        e->n_lines = 0;
        e->stage = -1;
        e->error[0] = 0;
        e->started = now;
        snprintf(e->dir, sizeof e->dir, "%s", dir);
        pthread_mutex_unlock(&e->mu);
        st = eval_spawn(e, c->app->cfg.data, sample, set, c->err);
    }
    if (st != LFR_OK) {
        /* the start is on record: so is its failure */
        lfr_err e2 = {{0}};
        char fail[1400];
        snprintf(fail, sizeof fail, "{\"run\":%lld,\"status\":\"failed\",\"seconds\":0}", (long long)seq);
        json_t *fj = json_pack("{s:I, s:s, s:i, s:s}", "run", (json_int_t)seq, "status", "failed",
                               "seconds", 0, "error", c->err->msg);
        char *ft = fj ? json_dumps(fj, JSON_COMPACT) : NULL;
        json_decref(fj);
        const lfr_actor sys = {"openlfr", LFR_ROLE_SYSTEM};
        lfr_audit_append(c->s, &sys, LFR_AUDIT_EVAL_END, 0, ft ? ft : fail, NULL, &e2);
        free(ft);
        if (meta) {
            json_object_set_new(meta, "status", json_string("failed"));
            json_object_set_new(meta, "error", json_string(c->err->msg));
            json_object_set_new(meta, "ended_at", lfr_json_time(now));
            if (dir[0]) eval_meta_write(dir, meta);
        }
        json_decref(meta);
        pthread_mutex_lock(&e->mu);
        e->active = 0;
        pthread_mutex_unlock(&e->mu);
        return st;
    }
    lfr_log(LFR_LOG_INFO, "eval: run %lld started by %s (sample %lld, %s)", (long long)seq,
            c->by.name, (long long)sample, set);
    json_t *r = eval_run_json(e, dir, meta);
    json_decref(meta);
    return app_answer(c, json_pack("{s:o}", "run", r ? r : json_null()));
}

lfr_status app_op_EVAL_CANCEL(app_call *c) {
    app_eval *e;
    lfr_status st = eval_get(c->app, &e, c->err);
    if (st != LFR_OK) return st;
    int64_t id = app_arg_id(c, "run");
    pthread_mutex_lock(&e->mu);
    if (!e->active || e->id != id || !e->pid) {
        pthread_mutex_unlock(&e->mu);
        return lfr_err_set(c->err, LFR_ERR_STATE, "eval.cancel: evaluation run %lld is not running",
                           (long long)id);
    }
    if (e->cancelled) {
        pthread_mutex_unlock(&e->mu);
        return lfr_err_set(c->err, LFR_ERR_STATE, "eval.cancel: evaluation run %lld is already being cancelled",
                           (long long)id);
    }
    char d[64];
    snprintf(d, sizeof d, "{\"run\":%lld}", (long long)id);
    st = lfr_audit_append(c->s, &c->by, LFR_AUDIT_EVAL_CANCEL, 0, d, NULL, c->err);
    if (st == LFR_OK) {
        e->cancelled = 1;
        if (kill(-e->pid, SIGTERM) && errno != ESRCH)
            lfr_log(LFR_LOG_WARN, "eval: cancel run %lld: %s", (long long)id, strerror(errno));
    }
    pthread_mutex_unlock(&e->mu);
    if (st != LFR_OK) return st;
    return app_answer(c, json_pack("{s:I, s:s}", "run", (json_int_t)id, "status", "cancelling"));
}

lfr_status app_op_EVAL_FILE(app_call *c) {
    int64_t id = app_arg_id(c, "run");
    const char *fmt = app_arg_str(c, "format");
    if (!fmt) fmt = "html";
    const char *name = !strcmp(fmt, "html") ? "index.html" : !strcmp(fmt, "json") ? "report.json" : NULL;
    if (!name)
        return lfr_err_set(c->err, LFR_ERR_INVALID_ARG, "eval.file: format must be html or json, not '%.40s'", fmt);
    app_eval *e;
    lfr_status st = eval_get(c->app, &e, c->err);
    if (st != LFR_OK) return st;
    char dir[PATH_MAX], path[PATH_MAX + 32];
    if ((st = eval_run_dir(c->app, id, dir, sizeof dir, c->err)) != LFR_OK) return st;
    json_t *meta = eval_meta_read(dir);
    if (!meta) return lfr_err_set(c->err, LFR_ERR_NOT_FOUND, "eval.file: no evaluation run %lld", (long long)id);
    json_decref(meta);
    pthread_mutex_lock(&e->mu);
    int running = e->active && e->id == id;
    pthread_mutex_unlock(&e->mu);
    if (running)
        return lfr_err_set(c->err, LFR_ERR_STATE, "eval.file: evaluation run %lld is still running", (long long)id);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!has_file(dir, name))
        return lfr_err_set(c->err, LFR_ERR_NOT_FOUND, "eval.file: evaluation run %lld has no %s (it did not finish)",
                           (long long)id, name);
    st = lfr_read_file_err(path, LFR_EVAL_MAX_FILE, &c->res->blob, &c->res->blob_len, c->err);
    if (st != LFR_OK) return st;
    c->res->blob_type = !strcmp(fmt, "html") ? "text/html; charset=utf-8" : "application/json";
    return app_answer(c, json_pack("{s:I, s:s, s:s}", "run", (json_int_t)id, "format", fmt, "type",
                                   c->res->blob_type));
}

void app_eval_close(lfr_app *app) {
    app_eval *e = app->eval;
    if (!e) return;
    pthread_mutex_lock(&e->mu);
    if (e->active && e->pid) {
        e->cancelled = 1;
        kill(-e->pid, SIGTERM);
        lfr_log(LFR_LOG_WARN, "eval: run %lld cancelled: the server is stopping", (long long)e->id);
    }
    int join = e->joinable;
    e->joinable = 0;
    pthread_mutex_unlock(&e->mu);
    if (join) pthread_join(e->thread, NULL);
    pthread_mutex_destroy(&e->mu);
    lfr_free(e);
    app->eval = NULL;
}
