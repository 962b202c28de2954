/*
 * cmd_deploy.c - deployments, watchlists, the audit log and retention.
 *
 *   openlfr deployment create|authorise|start|end|amend|amend-authorise|show|list
 *   openlfr watchlist list|remove|add|import   (add and import: cmd_enrol.c)
 *   openlfr audit show|anchor (verify and checkpoints: cmd_audit.c)
 *   openlfr purge
 *
 * Thin: each subcommand's options are a table (opt.h; `--help` prints it),
 * the values become the JSON arguments of one operation of the app
 * (app.h), which checks roles, writes the audit record and answers in the
 * JSON form both front ends share.  --json prints that answer; otherwise a
 * human form of it.  --by NAME is who acts: on a database with accounts an
 * account's login, whose roles apply.  TIME is 2025-06-01T10:00Z,
 * 2025-06-01T10:00:00Z or Unix seconds (UTC); impossible dates are
 * refused, not normalised.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opt.h"

#define ARGS_END {NULL, CLI_STR, 0, NULL, NULL, 0, 0}

/* Who reads, when --by is not given (read-only operations record nothing). */
#define READER "openlfr-cli"

static const char *TIME_NOTE =
    "TIME: 2025-06-01T10:00Z, 2025-06-01T10:00:00Z or Unix seconds (UTC).";

/* "0 images", "1 image", "2 images" into buf (48 bytes). */
static const char *plural(long long n, const char *one, const char *many, char buf[48]) {
    snprintf(buf, 48, "%lld %s", n, n == 1 ? one : many);
    return buf;
}

static void jprint(json_t *j) {
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    if (s) puts(s);
    free(s);
}

/* Member `key` of an answer when it holds one, else the answer itself. */
static json_t *pick(json_t *body, const char *key) {
    json_t *v = json_object_get(body, key);
    return v && (json_is_object(v) || json_is_array(v)) ? v : body;
}

static const char *js(json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "-";
}

static long long ji(json_t *o, const char *key) {
    return (long long)json_integer_value(json_object_get(o, key));
}

static double jr(json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }

/* An id in an answer: {"key": 3} or {"key": {"id": 3}}. */
static long long jid(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_object(v) ? ji(v, "id") : (long long)json_integer_value(v);
}

static void deploy_print(json_t *d) {
    char p[4][48];
    printf("deployment %lld: %s [%s]\n", ji(d, "id"), js(d, "name"), js(d, "state"));
    printf("  location      %s\n  purpose       %s\n  legal basis   %s\n", js(d, "location"),
           js(d, "purpose"), js(d, "legal_basis"));
    printf("  planned       %s .. %s\n", js(d, "planned_start"), js(d, "planned_end"));
    printf("  model set     %s\n", js(d, "model_set"));
    json_t *m = json_object_get(d, "threshold_meaning");
    double fmr = jr(m, "fmr");
    printf("  threshold     %.4f (likeness %.0f): one false match in %.0f comparisons; %.0f %% of\n"
           "                same-person pairs reach it (LFW)\n",
           jr(d, "threshold"), jr(m, "likeness"), fmr > 0 ? 1.0 / fmr : 0, jr(m, "tar") * 100);
    long long images = ji(d, "images");
    long long searched = ji(m, "templates"), counted = ji(m, "comparisons_counted");
    if (images > 0)
        printf("                with %s, about %.1f false alerts per 10,000 faces of people\n"
               "                not on the list\n",
               plural(images, "watchlist image", "watchlist images", p[0]),
               jr(m, "false_alerts_per_10k_faces"));
    if (images > 0 && counted > searched)
        printf("                (each face is compared with %s, one per entry; entries with\n"
               "                several photos are matched by their mean, which resembles\n"
               "                strangers more often, so they count as %lld comparisons)\n",
               plural(searched, "template", "templates", p[0]), counted);
    if (images <= 0)
        printf("                the watchlist has 0 images: each image enrolled adds about %.1f\n"
               "                false alerts per 10,000 faces of people not on the list\n",
               jr(m, "false_alerts_per_10k_faces") / (double)(counted > 0 ? counted : 1));
    if (json_is_true(json_object_get(m, "extrapolated")))
        printf("                (beyond the measured range: extrapolated)\n");
    if (jr(m, "target_false_alerts_per_10k_faces") > 0)
        printf("  target        at most %g false alerts per 10,000 faces for the worst-served\n"
               "                group; threshold derived for %s%s\n",
               jr(m, "target_false_alerts_per_10k_faces"),
               plural(ji(m, "target_templates"), "comparison", "comparisons", p[0]),
               json_is_string(json_object_get(d, "authorised_at"))
                   ? " (at authorisation)" : "\n                (derived again at authorisation)");
    json_t *w = json_object_get(m, "worst_group");
    if (w)
        printf("  worst group   %s: one false match in %.0f\n"
               "                comparisons; about %.1f false alerts per 10,000 faces with %s%s\n",
               js(w, "name"), jr(w, "fmr") > 0 ? 1.0 / jr(w, "fmr") : 0,
               jr(w, "false_alerts_per_10k_faces"),
               plural(counted, "comparison", "comparisons", p[1]),
               json_is_true(json_object_get(w, "extrapolated"))
                   ? "\n                (the group's tail is modelled from LFW's: docs/likeness.md)"
                   : "");
    printf("  share found   about %.0f %% of listed people's photos reach the threshold "
           "(LFW's\n                same-person pairs; a street camera finds fewer)\n",
           jr(m, "share_found_lfw") * 100);
    printf("  cameras       %s\n", js(d, "cameras"));
    printf("  created       %s by %s\n", js(d, "created_at"), js(d, "created_by"));
    if (json_is_string(json_object_get(d, "authorised_at")))
        printf("  authorised    %s by %s (%s, watchlist %s)\n", js(d, "authorised_at"),
               js(d, "authorised_by"),
               plural(ji(d, "entries_authorised"), "entry", "entries", p[0]),
               js(d, "watchlist_digest"));
    if (json_is_string(json_object_get(d, "started_at")))
        printf("  live from     %s\n", js(d, "started_at"));
    if (json_is_string(json_object_get(d, "ended_at")))
        printf("  ended         %s by %s\n", js(d, "ended_at"), js(d, "ended_by"));
    if (json_is_string(json_object_get(d, "watchlist_deleted_at")))
        printf("  watchlist deleted %s\n", js(d, "watchlist_deleted_at"));
    if (json_is_string(json_object_get(d, "purged_at")))
        printf("  purged        %s\n", js(d, "purged_at"));
    printf("  holds         %s, %s, %s, %s\n", plural(ji(d, "entries"), "entry", "entries", p[0]),
           plural(images, "image", "images", p[1]), plural(ji(d, "alerts"), "alert", "alerts", p[2]),
           plural(ji(d, "photo_checks"), "photo check", "photo checks", p[3]));
}

/* One operation for a command: configuration, the app, --by, the call.
 * args is stolen.  On success the answer is printed (--json) or handed to
 * human(); returns the exit code. */
typedef void (*human_fn)(json_t *answer);

static int call(const lfr_cli_common *c, const char *what, lfr_op op, json_t *args,
                json_t **ans) {
    lfr_config cfg;
    int rc = lfr_cli_config(c, &cfg);
    if (rc == 0 && !args) rc = lfr_cli_fail(what, LFR_ERR_NOMEM, NULL);
    if (rc == 0) rc = lfr_cli_call(&cfg, what, c->by ? c->by : READER, 0, op, args, NULL, 0, ans);
    json_decref(args);
    return rc;
}

static void show(const lfr_cli_common *c, json_t *ans, human_fn human) {
    if (c->json) jprint(ans);
    else if (human) human(ans);
}

static int run(const lfr_cli_common *c, const char *what, lfr_op op, json_t *args,
               human_fn human) {
    json_t *ans = NULL;
    int rc = call(c, what, op, args, &ans);
    if (rc == 0) show(c, ans, human);
    /* the authorising officer sees the accepted enrolment warnings */
    if (rc == 0 && !c->json && (op == LFR_OP_DEPLOYMENT_SHOW || op == LFR_OP_DEPLOYMENT_AUTHORISE))
        lfr_cli_print_accepted_warnings(c, ji(ans, "id"));
    json_decref(ans);
    return rc;
}

static void human_deployment(json_t *ans) { deploy_print(pick(ans, "deployment")); }

/* A time option: checked here so that a bad one is a usage error naming it. */
static int check_time(const cli_cmd *cmd, const char *opt, const char *v) {
    int64_t t;
    lfr_err err = {{0}};
    if (lfr_time_parse(v, &t, &err) == LFR_OK) return 0;
    return cli_usage_error(cmd, "--%s: '%s' is not a real time (%s)", opt, v, TIME_NOTE);
}

/* deployment ----------------------------------------------------------------- */
static int dep_create(int argc, char **argv) {
    lfr_cli_common c = {0};
    const char *name = NULL, *location = NULL, *purpose = NULL, *legal = NULL, *start = NULL,
               *end = NULL, *cams = NULL, *set = NULL;
    double thr = NAN, target = NAN; /* NAN: not given */
    int64_t size = 0;
    int unusual = 0;
    const cli_opt opts[] = {
        {"name", CLI_STR, 1, "TEXT", "the deployment's name", &name, 0, 0},
        {"location", CLI_STR, 1, "TEXT", "where the cameras are", &location, 0, 0},
        {"purpose", CLI_STR, 1, "TEXT", "why: whom it looks for", &purpose, 0, 0},
        {"legal-basis", CLI_STR, 1, "TEXT", "the law it relies on", &legal, 0, 0},
        {"start", CLI_STR, 1, "TIME", "planned start", &start, 0, 0},
        {"end", CLI_STR, 1, "TIME", "planned end (not already past)", &end, 0, 0},
        {"threshold", CLI_REAL, 0, "X",
         "alert threshold: cosine similarity in the sane range (or --target-false-alerts)", &thr,
         0, 0},
        {"target-false-alerts", CLI_REAL, 0, "N",
         "instead of --threshold: expected false alerts per 10,000 faces, met for the "
         "worst-served group; the threshold follows, derived again at authorisation",
         &target, 0, 0},
        {"watchlist-size", CLI_INT, 0, "N",
         "with --target-false-alerts: planned watchlist entries until authorisation (1000)",
         &size, 1, 1 << 20},
        {"unusual-threshold-ok", CLI_FLAG, 0, NULL,
         "confirms that a threshold outside the sane range is meant", &unusual, 0, 0},
        {"cameras", CLI_STR, 0, "LIST", "free-text list of cameras", &cams, 0, 0},
        {"model-set", CLI_STR, 0, "NAME",
         "embedder(s) of its templates: fused704v3 (default), fused704v2, fused704 or mfn192; "
         "the threshold is read with that set's calibration (fused704v3: 0.625 means what 0.70 "
         "means for mfn192)",
         &set, 0, 0},
        CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_cmd cmd = {"deployment create", "plan a deployment (a draft until authorised)", opts,
                         NULL, TIME_NOTE};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    if ((r = check_time(&cmd, "start", start)) || (r = check_time(&cmd, "end", end))) return r;
    int has_thr = !isnan(thr), has_tgt = !isnan(target);
    if (has_thr == has_tgt)
        return cli_usage_error(&cmd, "give --threshold X or --target-false-alerts N (%s)",
                               has_thr ? "not both: the threshold follows from the target"
                                       : "one is required");
    if (size && !has_tgt)
        return cli_usage_error(&cmd, "--watchlist-size goes with --target-false-alerts only");
    json_t *args = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "name", name, "location",
                             location, "purpose", purpose, "legal_basis", legal, "start", start,
                             "end", end, "unusual_threshold_ok", unusual);
    if (args) json_object_set_new(args, has_thr ? "threshold" : "target_false_alerts",
                                  json_real(has_thr ? thr : target));
    if (args && size) json_object_set_new(args, "watchlist_size", json_integer(size));
    if (args && cams) json_object_set_new(args, "cameras", json_string(cams));
    if (args && set) json_object_set_new(args, "model_set", json_string(set));
    return run(&c, cmd.name, LFR_OP_DEPLOYMENT_CREATE, args, human_deployment);
}

typedef enum { STEP_AUTHORISE, STEP_START, STEP_END } step_kind;

/* authorise, start, end: ID --by NAME [--reason TEXT] (end only) */
static int dep_step(int argc, char **argv, step_kind k) {
    static const char *names[] = {"deployment authorise", "deployment start", "deployment end"};
    static const char *summaries[] = {
        "authorise a draft: freezes its watchlist (another person than its creator)",
        "go live: matching starts", "end a deployment: matching stops, retention begins"};
    static const lfr_op ops[] = {LFR_OP_DEPLOYMENT_AUTHORISE, LFR_OP_DEPLOYMENT_START,
                                 LFR_OP_DEPLOYMENT_END};
    lfr_cli_common c = {0};
    int64_t id = 0;
    const char *reason = NULL;
    const cli_opt opts[] = {
        {"reason", CLI_STR, 0, "TEXT", "why (recorded in the audit log)", &reason, 0, 0},
        CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {{"ID", CLI_INT, 1, "the deployment", &id, 1, INT64_MAX}, ARGS_END};
    const cli_cmd cmd = {names[k], summaries[k], k == STEP_END ? opts : opts + 1, args, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    json_t *a = json_pack("{s:I}", "id", (json_int_t)id);
    if (a && reason) json_object_set_new(a, "reason", json_string(reason));
    return run(&c, cmd.name, ops[k], a, human_deployment);
}

static int dep_authorise(int argc, char **argv) { return dep_step(argc, argv, STEP_AUTHORISE); }
static int dep_start(int argc, char **argv) { return dep_step(argc, argv, STEP_START); }
static int dep_end(int argc, char **argv) { return dep_step(argc, argv, STEP_END); }

static void human_amend(json_t *ans) {
    long long am = jid(ans, "amendment");
    if (!am) am = ji(ans, "id");
    printf("amendment %lld proposed: it takes effect when another officer runs "
           "`openlfr deployment amend-authorise %lld`\n", am, am);
}

static int dep_amend(int argc, char **argv) {
    lfr_cli_common c = {0};
    int64_t id = 0, remove = 0;
    double thr = NAN;
    const char *reason = NULL;
    int unusual = 0;
    const cli_opt opts[] = {
        {"threshold", CLI_REAL, 0, "X", "new alert threshold", &thr, 0, 0},
        {"unusual-threshold-ok", CLI_FLAG, 0, NULL,
         "confirms that a threshold outside the sane range is meant", &unusual, 0, 0},
        {"remove-entry", CLI_INT, 0, "ENTRY", "take this watchlist entry off", &remove, 1,
         INT64_MAX},
        {"reason", CLI_STR, 1, "TEXT", "why", &reason, 0, 0},
        CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {{"ID", CLI_INT, 1, "the deployment", &id, 1, INT64_MAX}, ARGS_END};
    const cli_cmd cmd = {"deployment amend",
                         "propose a change to an authorised deployment (another officer "
                         "authorises it)",
                         opts, args, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    if (isnan(thr) && !remove)
        return cli_usage_error(&cmd, "--threshold or --remove-entry is required");
    json_t *a = json_pack("{s:I, s:s, s:b}", "id", (json_int_t)id, "reason", reason,
                          "unusual_threshold_ok", unusual);
    if (a && !isnan(thr)) json_object_set_new(a, "threshold", json_real(thr));
    if (a && remove) json_object_set_new(a, "remove_entry", json_integer(remove));
    return run(&c, cmd.name, LFR_OP_DEPLOYMENT_AMEND, a, human_amend);
}

static void human_amend_authorised(json_t *ans) {
    long long am = jid(ans, "amendment");
    printf("amendment %lld authorised and applied\n", am ? am : ji(ans, "id"));
}

static int dep_amend_authorise(int argc, char **argv) {
    lfr_cli_common c = {0};
    int64_t id = 0;
    const cli_opt opts[] = {CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {{"AMENDMENT", CLI_INT, 1, "the proposed amendment", &id, 1, INT64_MAX},
                            ARGS_END};
    const cli_cmd cmd = {"deployment amend-authorise",
                         "authorise and apply an amendment (not its proposer)", opts, args, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    return run(&c, cmd.name, LFR_OP_DEPLOYMENT_AMEND_AUTHORISE,
               json_pack("{s:I}", "amendment", (json_int_t)id), human_amend_authorised);
}

static int dep_show(int argc, char **argv) {
    lfr_cli_common c = {0};
    int64_t id = 0;
    const cli_opt opts[] = {CLI_OPT_BY(&c, 0), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {{"ID", CLI_INT, 1, "the deployment", &id, 1, INT64_MAX}, ARGS_END};
    const cli_cmd cmd = {"deployment show", "one deployment: its record, threshold meaning, counts",
                         opts, args, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    return run(&c, cmd.name, LFR_OP_DEPLOYMENT_SHOW, json_pack("{s:I}", "id", (json_int_t)id),
               human_deployment);
}

static void human_deployments(json_t *ans) {
    json_t *list = pick(ans, "deployments"), *d;
    size_t i;
    printf("%-5s %-10s %-9s %-8s %-14s %-21s %-21s %s\n", "id", "state", "threshold", "likeness",
           "false/10k faces", "start", "end", "name");
    json_array_foreach(list, i, d) {
        json_t *m = json_object_get(d, "threshold_meaning");
        printf("%-5lld %-10s %-9.4f %-8.0f %-14.2f %-21s %-21s %s\n", ji(d, "id"), js(d, "state"),
               jr(d, "threshold"), jr(m, "likeness"), jr(m, "false_alerts_per_10k_faces"),
               js(d, "planned_start"), js(d, "planned_end"), js(d, "name"));
    }
}

static int dep_list(int argc, char **argv) {
    lfr_cli_common c = {0};
    const cli_opt opts[] = {CLI_OPT_BY(&c, 0), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_cmd cmd = {"deployment list", "every deployment, one line each", opts, NULL, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    return run(&c, cmd.name, LFR_OP_DEPLOYMENT_LIST, json_object(), human_deployments);
}

int lfr_cmd_deployment(int argc, char **argv) {
    static const cli_sub subs[] = {
        {"create", dep_create, "plan a deployment (a draft until authorised)"},
        {"authorise", dep_authorise, "authorise a draft (another person than its creator)"},
        {"authorize", dep_authorise, "the same"},
        {"start", dep_start, "go live: matching starts"},
        {"end", dep_end, "end a live deployment: matching stops, retention begins"},
        {"amend", dep_amend, "propose a threshold change or an entry's removal"},
        {"amend-authorise", dep_amend_authorise, "authorise and apply an amendment"},
        {"show", dep_show, "one deployment"},
        {"list", dep_list, "every deployment"},
        {NULL, NULL, NULL}};
    return cli_dispatch("deployment", subs, argc, argv);
}

/* watchlist ------------------------------------------------------------------ */
static void human_entries(json_t *ans) {
    json_t *list = pick(ans, "entries"), *e;
    size_t i;
    printf("%-6s %-16s %-20s %-19s %-3s %-6s %s\n", "id", "subject_ref", "name", "category", "<18",
           "images", "reason");
    json_array_foreach(list, i, e)
        printf("%-6lld %-16s %-20s %-19s %-3s %-6lld %s\n", ji(e, "id"), js(e, "subject_ref"),
               js(e, "display_name"), js(e, "category"),
               json_is_true(json_object_get(e, "under_18")) ? "yes" : "", ji(e, "images"),
               js(e, "reason"));
}

static int wl_list(int argc, char **argv) {
    lfr_cli_common c = {0};
    int64_t id = 0;
    const cli_opt opts[] = {CLI_OPT_BY(&c, 0), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {{"DEPLOYMENT", CLI_INT, 1, "the deployment", &id, 1, INT64_MAX},
                            ARGS_END};
    const cli_cmd cmd = {"watchlist list", "the entries of a deployment's watchlist", opts, args,
                         NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    return run(&c, cmd.name, LFR_OP_WATCHLIST_LIST,
               json_pack("{s:I}", "deployment", (json_int_t)id), human_entries);
}

static void human_photos(json_t *ans) {
    json_t *list = pick(ans, "photos"), *ph;
    size_t i, n = json_array_size(list);
    printf("entry %lld: %zu photo%s%s\n", ji(ans, "entry"), n, n == 1 ? "" : "s",
           n > 1 ? ", matched by their mean" : "");
    json_array_foreach(list, i, ph) {
        printf("  image %lld%s: source %s; taken %s; added by %s at %s\n", ji(ph, "id"),
               json_is_true(json_object_get(ph, "first")) ? " (first)" : "", js(ph, "image_source"),
               js(ph, "image_date"), js(ph, "added_by"), js(ph, "added_at"));
        json_t *w = json_object_get(ph, "quality_warnings"), *x;
        size_t k;
        json_array_foreach(w, k, x) {
            const char *code = json_string_value(json_object_get(x, "kind"));
            const char *why = json_string_value(json_object_get(x, "text"));
            printf("    warning accepted: %s%s%s\n", code ? code : "?", why ? ": " : "",
                   why ? why : "");
        }
        if (json_array_size(w))
            printf("    accepted by %s: \"%s\"\n", js(ph, "warnings_accepted_by"),
                   js(ph, "warnings_accepted"));
    }
}

static int wl_photos(int argc, char **argv) {
    lfr_cli_common c = {0};
    int64_t id = 0;
    const cli_opt opts[] = {CLI_OPT_BY(&c, 0), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {{"ENTRY", CLI_INT, 1, "the watchlist entry", &id, 1, INT64_MAX},
                            ARGS_END};
    const cli_cmd cmd = {"watchlist photos",
                         "every photo of an entry: source, date, who added it, warnings accepted",
                         opts, args, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    return run(&c, cmd.name, LFR_OP_WATCHLIST_PHOTOS, json_pack("{s:I}", "id", (json_int_t)id),
               human_photos);
}

static void human_removed(json_t *ans) {
    long long id = jid(ans, "entry");
    printf("watchlist entry %lld removed (images and template deleted)\n", id ? id : ji(ans, "id"));
}

static int wl_remove(int argc, char **argv) {
    lfr_cli_common c = {0};
    int64_t id = 0;
    const char *reason = NULL;
    const cli_opt opts[] = {{"reason", CLI_STR, 1, "TEXT", "why it comes off", &reason, 0, 0},
                            CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {{"ENTRY", CLI_INT, 1, "the watchlist entry", &id, 1, INT64_MAX},
                            ARGS_END};
    const cli_cmd cmd = {"watchlist remove",
                         "take an entry off a draft's watchlist (images and template deleted)",
                         opts, args, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    return run(&c, cmd.name, LFR_OP_WATCHLIST_REMOVE,
               json_pack("{s:I, s:s}", "id", (json_int_t)id, "reason", reason), human_removed);
}

int lfr_cmd_watchlist(int argc, char **argv) {
    static const cli_sub subs[] = {
        {"add", lfr_cmd_watchlist_add, "enrol one person from a photo (quality-controlled)"},
        {"import", lfr_cmd_watchlist_import, "enrol many from a directory and a CSV manifest"},
        {"add-photo", lfr_cmd_watchlist_add_photo,
         "another photo of a person already on the list (matched by the mean of the photos)"},
        {"list", wl_list, "the entries of a deployment's watchlist"},
        {"photos", wl_photos, "every photo of an entry and where it came from"},
        {"remove", wl_remove, "take an entry off"},
        {NULL, NULL, NULL}};
    return cli_dispatch("watchlist", subs, argc, argv);
}

/* audit ---------------------------------------------------------------------- */
static void human_records(json_t *ans) {
    json_t *list = pick(ans, "records"), *rec;
    size_t i;
    json_array_foreach(list, i, rec) {
        char dep[24] = "-";
        if (ji(rec, "deployment")) snprintf(dep, sizeof dep, "%lld", ji(rec, "deployment"));
        char *details = json_dumps(json_object_get(rec, "details"), JSON_COMPACT | JSON_SORT_KEYS |
                                                                       JSON_ENCODE_ANY |
                                                                       JSON_REAL_PRECISION(15));
        printf("%-6lld %s %-22s %-20s %-4s %-24s %s %.16s\n", ji(rec, "seq"), js(rec, "at"),
               js(rec, "action"), js(rec, "actor"), dep, js(rec, "role"), details ? details : "",
               js(rec, "hash"));
        free(details);
    }
}

static int audit_show(int argc, char **argv) {
    lfr_cli_common c = {0};
    int64_t d = 0, f = 0, l = 0;
    const cli_opt opts[] = {
        {"deployment", CLI_INT, 0, "D", "only records about this deployment", &d, 1, INT64_MAX},
        {"from", CLI_INT, 0, "SEQ", "from this record on", &f, 1, INT64_MAX},
        {"limit", CLI_INT, 0, "N", "at most N records", &l, 1, INT64_MAX},
        CLI_OPT_BY(&c, 0), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_cmd cmd = {"audit show", "the audit records, oldest first", opts, NULL, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    json_t *a = json_object();
    if (a && d) json_object_set_new(a, "deployment", json_integer(d));
    if (a && f) json_object_set_new(a, "from", json_integer(f));
    if (a && l) json_object_set_new(a, "limit", json_integer(l));
    return run(&c, cmd.name, LFR_OP_AUDIT_SHOW, a, human_records);
}

static void human_anchor(json_t *ans) {
    json_t *an = pick(ans, "anchor");
    printf("anchor %lld at %s: audit log head seq %lld hash %s\n(publish this line: "
           "`openlfr audit verify` checks the log still contains it)\n",
           ji(an, "anchor") ? ji(an, "anchor") : ji(an, "id"), js(an, "at"), ji(an, "seq"),
           js(an, "hash"));
}

static int audit_anchor(int argc, char **argv) {
    lfr_cli_common c = {0};
    const cli_opt opts[] = {CLI_OPT_BY(&c, 0), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_cmd cmd = {"audit anchor", "record the head of the log: a line to publish", opts,
                         NULL, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    return run(&c, cmd.name, LFR_OP_AUDIT_ANCHOR, json_object(), human_anchor);
}

int lfr_cmd_audit(int argc, char **argv) {
    static const cli_sub subs[] = {
        {"verify", lfr_cmd_audit_verify,
         "check the chain, anchors, deployment rows and checkpoints (no key needed)"},
        {"show", audit_show, "print the records"},
        {"anchor", audit_anchor, "record the head of the log to publish"},
        {"checkpoint", lfr_cmd_audit_checkpoint, "sign the log's head now: a file to keep outside"},
        {"export-checkpoint", lfr_cmd_audit_export_checkpoint, "write an earlier checkpoint again"},
        {"pubkey", lfr_cmd_audit_pubkey, "the van's checkpoint-signing public key"},
        {NULL, NULL, NULL}};
    return cli_dispatch("audit", subs, argc, argv);
}

/* purge ---------------------------------------------------------------------- */
static void human_purge(json_t *ans) {
    json_t *p = pick(ans, "report");
    printf("deleted: %lld watchlists (%lld entries, %lld images), %lld alerts, %lld photo "
           "checks; %lld deployments purged; %lld receipts in the audit log\n",
           ji(p, "watchlists"), ji(p, "entries"), ji(p, "images"), ji(p, "alerts"),
           ji(p, "photo_checks"), ji(p, "deployments_purged"), ji(p, "receipts"));
}

int lfr_cmd_purge(int argc, char **argv) {
    lfr_cli_common c = {0};
    int64_t wh = -1, ad = -1, cd = -1;
    const cli_opt opts[] = {
        {"watchlist-hours", CLI_INT, 0, "H",
         "delete watchlists H hours after the end (config watchlist_after_end_s; 24)", &wh, 0,
         24 * 30},
        {"alert-days", CLI_INT, 0, "D", "delete alerts after D days (config alerts_keep_s; 31)",
         &ad, 1, 365},
        {"check-days", CLI_INT, 0, "D",
         "delete photo checks after D days (config checks_keep_s; 31)", &cd, 1, 365},
        CLI_OPT_BY(&c, 0), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_cmd cmd = {"purge", "apply the retention rules: delete what is due, with receipts",
                         opts, NULL, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    lfr_config cfg;
    if ((r = lfr_cli_config(&c, &cfg))) return r;
    struct {
        const char *key;
        int64_t v, unit;
    } set[] = {{"watchlist_after_end_s", wh, 3600}, {"alerts_keep_s", ad, 86400},
               {"checks_keep_s", cd, 86400}};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        if (set[i].v < 0) continue;
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)(set[i].v * set[i].unit));
        lfr_err err = {{0}};
        lfr_status st = lfr_config_set(&cfg, set[i].key, v, &err);
        if (st != LFR_OK) return cli_usage_error(&cmd, "%s", err.msg);
    }
    json_t *ans = NULL;
    r = lfr_cli_call(&cfg, cmd.name, c.by ? c.by : READER, 0, LFR_OP_RETENTION_PURGE, NULL, NULL,
                     0, &ans);
    if (r == 0) show(&c, ans, human_purge);
    json_decref(ans);
    return r;
}
