/*
 * cmd_deploy.c - deployments, watchlists, the audit log and retention.
 *
 *   openlfr deployment create --name N --location L --purpose P
 *           --legal-basis B --start TIME --end TIME --threshold X
 *           [--cameras LIST] --by NAME [--json]
 *   openlfr deployment authorise|start ID --by NAME [--json]
 *   openlfr deployment end ID --by NAME [--reason TEXT] [--json]
 *   openlfr deployment amend ID (--threshold X | --remove-entry E)
 *           --reason TEXT --by NAME [--json]
 *   openlfr deployment amend-authorise AMENDMENT --by NAME [--json]
 *   openlfr deployment show ID [--json]
 *   openlfr deployment list [--json]
 *   openlfr watchlist list DEPLOYMENT [--json]
 *   openlfr watchlist remove ENTRY --reason TEXT --by NAME [--json]
 *   openlfr watchlist add|import ...      (cmd_enrol.c)
 *   openlfr audit verify [--json]
 *   openlfr audit show [--deployment D] [--from SEQ] [--limit N] [--json]
 *   openlfr audit anchor [--json]
 *   openlfr purge [--watchlist-hours H] [--alert-days D] [--check-days D] [--json]
 *
 * TIME is 2025-06-01T10:00Z, 2025-06-01T10:00:00Z or Unix seconds (UTC).
 * Every command that changes state takes --by (who acts; --role overrides
 * the role recorded, see audit.h).  The database is --db PATH or
 * $OPENLFR_DB (default ./openlfr.db); the key file $OPENLFR_KEY or
 * openlfr.key beside the database.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "cli.h"
#include "match/match.h"
#include "deploy/deploy.h"
#include "store/store.h"

/* Options ------------------------------------------------------------------ */
typedef struct dopt {
    const char *name;
    const char **value; /* NULL for a flag */
    int *flag;
} dopt;

/* Up to `maxpos` positional arguments into pos[]; -1 on a usage error. */
static int parse(int argc, char **argv, const dopt *o, int no, const char **pos, int maxpos) {
    int np = 0;
    for (int i = 1; i < argc; i++) {
        int hit = 0;
        for (int k = 0; k < no && !hit; k++) {
            if (strcmp(argv[i], o[k].name)) continue;
            hit = 1;
            if (o[k].flag) *o[k].flag = 1;
            else if (i + 1 < argc) *o[k].value = argv[++i];
            else return -1;
        }
        if (hit) continue;
        if (argv[i][0] == '-' || np >= maxpos) return -1;
        pos[np++] = argv[i];
    }
    return np;
}

static int parse_i64(const char *s, int64_t *v) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end) return -1;
    *v = x;
    return 0;
}

static int parse_time(const char *s, int64_t *t) {
    if (!s) return -1;
    if (parse_i64(s, t) == 0) return 0;
    struct tm tm = {0};
    int n = 0;
    char z = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &z, &n) == 7 && z == 'Z' && s[n] == 0) {
    } else {
        tm.tm_sec = 0;
        n = 0;
        if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%c%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                   &tm.tm_min, &z, &n) != 6 || z != 'Z' || s[n] != 0)
            return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t x = timegm(&tm);
    if (x == (time_t)-1) return -1;
    *t = (int64_t)x;
    return 0;
}

static const char *fmt_time(int64_t t, char buf[32]) {
    if (t <= 0) return "-";
    time_t x = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&x, &tm)) return "?";
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static json_t *jtime(int64_t t) {
    char b[32];
    return t > 0 ? json_string(fmt_time(t, b)) : json_null();
}

static void jprint(json_t *j) {
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    if (s) puts(s);
    free(s);
    json_decref(j);
}

static int store_open(const char *db, lfr_store **s) {
    lfr_err err = {{0}};
    if (!db) db = getenv("OPENLFR_DB");
    if (!db || !*db) db = "openlfr.db";
    const char *key = getenv("OPENLFR_KEY");
    lfr_store_config cfg = {.db_path = db, .key_path = (key && *key) ? key : NULL};
    lfr_status st = lfr_store_open(&cfg, s, &err);
    if (st != LFR_OK) return lfr_cli_fail(db, st, &err);
    return 0;
}

static int actor_of(const char *by, const char *role, lfr_role dflt, lfr_actor *a) {
    a->name = by;
    a->role = dflt;
    if (role && lfr_role_parse(role, &a->role) != LFR_OK) {
        fprintf(stderr, "openlfr: unknown role '%s' (system, operator, officer, "
                        "authorising_officer, auditor, admin)\n", role);
        return 2;
    }
    if (!by || !*by) {
        fprintf(stderr, "openlfr: --by NAME is required: who is doing this?\n");
        return 2;
    }
    return 0;
}

/* deployment ---------------------------------------------------------------- */
/* What the threshold means for this deployment's watchlist size (number
 * of templates = images), from the compiled-in calibration (match.h):
 * shown wherever a threshold is shown. */
static void threshold_meaning(const lfr_deploy_info *d, lfr_match_threshold_meaning *m) {
    size_t n = d->images > 0 ? (size_t)d->images
               : d->entries_authorised > 0 ? (size_t)d->entries_authorised : 1;
    lfr_match_threshold_info(d->threshold, n, m);
}

static json_t *threshold_meaning_json(const lfr_deploy_info *d) {
    lfr_match_threshold_meaning m;
    threshold_meaning(d, &m);
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:b}", "templates", (json_int_t)m.n_templates,
                     "fmr", m.fmr, "fpir", m.fpir, "false_alerts_per_10k_faces",
                     m.false_alerts_per_10k, "likeness", m.likeness, "tar", m.tar,
                     "extrapolated", m.extrapolated);
}

static json_t *deploy_json(const lfr_deploy_info *d) {
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(d->id));
    json_object_set_new(o, "name", json_string(d->name));
    json_object_set_new(o, "location", json_string(d->location));
    json_object_set_new(o, "purpose", json_string(d->purpose));
    json_object_set_new(o, "legal_basis", json_string(d->legal_basis));
    json_object_set_new(o, "cameras", json_string(d->cameras));
    json_object_set_new(o, "planned_start", jtime(d->planned_start));
    json_object_set_new(o, "planned_end", jtime(d->planned_end));
    json_object_set_new(o, "threshold", json_real(round((double)d->threshold * 1e6) / 1e6));
    json_object_set_new(o, "threshold_meaning", threshold_meaning_json(d));
    json_object_set_new(o, "state", json_string(lfr_deploy_state_name(d->state)));
    json_object_set_new(o, "created_by", json_string(d->created_by));
    json_object_set_new(o, "created_at", jtime(d->created_at));
    json_object_set_new(o, "authorised_by", d->authorised_by[0] ? json_string(d->authorised_by) : json_null());
    json_object_set_new(o, "authorised_at", jtime(d->authorised_at));
    json_object_set_new(o, "watchlist_digest", d->watchlist_digest[0] ? json_string(d->watchlist_digest) : json_null());
    json_object_set_new(o, "entries_authorised", json_integer(d->entries_authorised));
    json_object_set_new(o, "started_at", jtime(d->started_at));
    json_object_set_new(o, "ended_at", jtime(d->ended_at));
    json_object_set_new(o, "ended_by", d->ended_by[0] ? json_string(d->ended_by) : json_null());
    json_object_set_new(o, "watchlist_deleted_at", jtime(d->watchlist_deleted_at));
    json_object_set_new(o, "purged_at", jtime(d->purged_at));
    json_object_set_new(o, "entries", json_integer(d->entries));
    json_object_set_new(o, "images", json_integer(d->images));
    json_object_set_new(o, "alerts", json_integer(d->alerts));
    json_object_set_new(o, "photo_checks", json_integer(d->photo_checks));
    return o;
}

static void deploy_print(const lfr_deploy_info *d) {
    char a[32], b[32];
    printf("deployment %lld: %s [%s]\n", (long long)d->id, d->name, lfr_deploy_state_name(d->state));
    printf("  location      %s\n  purpose       %s\n  legal basis   %s\n", d->location, d->purpose,
           d->legal_basis);
    printf("  planned       %s .. %s\n", fmt_time(d->planned_start, a), fmt_time(d->planned_end, b));
    lfr_match_threshold_meaning m;
    threshold_meaning(d, &m);
    printf("  threshold     %.4f (likeness %.0f): one false match in %.0f comparisons; with %zu\n"
           "                watchlist image(s), about %.1f false alerts per 10,000 faces of people\n"
           "                not on the list; %.0f %% of same-person pairs reach it (LFW)%s\n",
           (double)d->threshold, m.likeness, m.fmr > 0 ? 1.0 / m.fmr : 0, m.n_templates,
           m.false_alerts_per_10k, m.tar * 100,
           m.extrapolated ? "\n                (beyond the measured range: extrapolated)" : "");
    printf("  cameras       %s\n", d->cameras);
    printf("  created       %s by %s\n", fmt_time(d->created_at, a), d->created_by);
    if (d->authorised_at)
        printf("  authorised    %s by %s (%lld entries, watchlist %s)\n", fmt_time(d->authorised_at, a),
               d->authorised_by, (long long)d->entries_authorised, d->watchlist_digest);
    if (d->started_at) printf("  live from     %s\n", fmt_time(d->started_at, a));
    if (d->ended_at) printf("  ended         %s by %s\n", fmt_time(d->ended_at, a), d->ended_by);
    if (d->watchlist_deleted_at) printf("  watchlist deleted %s\n", fmt_time(d->watchlist_deleted_at, a));
    if (d->purged_at) printf("  purged        %s\n", fmt_time(d->purged_at, a));
    printf("  holds         %lld entries, %lld images, %lld alerts, %lld photo checks\n",
           (long long)d->entries, (long long)d->images, (long long)d->alerts, (long long)d->photo_checks);
}

static int show_one(lfr_store *s, int64_t id, int json) {
    lfr_deploy_info *d = lfr_malloc(sizeof *d);
    if (!d) return lfr_cli_fail("deployment", LFR_ERR_NOMEM, NULL);
    lfr_err err = {{0}};
    lfr_status st = lfr_deploy_get(s, id, d, &err);
    int rc = 0;
    if (st != LFR_OK) rc = lfr_cli_fail("deployment", st, &err);
    else if (json) jprint(deploy_json(d));
    else deploy_print(d);
    lfr_free(d);
    return rc;
}

static int deployment_usage(void) {
    fprintf(stderr,
            "usage: openlfr deployment create --name N --location L --purpose P --legal-basis B\n"
            "                 --start TIME --end TIME --threshold X [--cameras LIST] --by NAME\n"
            "       openlfr deployment authorise|start ID --by NAME\n"
            "       openlfr deployment end ID --by NAME [--reason TEXT]\n"
            "       openlfr deployment amend ID (--threshold X | --remove-entry E) --reason TEXT --by NAME\n"
            "       openlfr deployment amend-authorise AMENDMENT --by NAME\n"
            "       openlfr deployment show ID | list\n"
            "  all take [--json] [--db PATH] [--role ROLE]; TIME: 2025-06-01T10:00Z or Unix seconds\n"
            "  --unusual-threshold-ok confirms a threshold outside the sane range\n");
    return 2;
}

int lfr_cmd_deployment(int argc, char **argv) {
    if (argc < 2) return deployment_usage();
    const char *sub = argv[1];
    const char *name = NULL, *location = NULL, *purpose = NULL, *legal = NULL, *start = NULL,
               *end = NULL, *thr = NULL, *cams = NULL, *by = NULL, *role = NULL, *db = NULL,
               *reason = NULL, *remove = NULL;
    int json = 0, unusual = 0;
    const dopt o[] = {{"--name", &name, NULL},       {"--location", &location, NULL},
                      {"--purpose", &purpose, NULL}, {"--legal-basis", &legal, NULL},
                      {"--start", &start, NULL},     {"--end", &end, NULL},
                      {"--threshold", &thr, NULL},   {"--cameras", &cams, NULL},
                      {"--by", &by, NULL},           {"--role", &role, NULL},
                      {"--db", &db, NULL},           {"--reason", &reason, NULL},
                      {"--remove-entry", &remove, NULL}, {"--json", NULL, &json},
                      {"--unusual-threshold-ok", NULL, &unusual}};
    const char *pos[1] = {NULL};
    int np = parse(argc - 1, argv + 1, o, (int)(sizeof o / sizeof o[0]), pos, 1);
    if (np < 0) return deployment_usage();
    int64_t id = 0;
    int needs_id = strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0;
    if (needs_id && (np != 1 || parse_i64(pos[0], &id) != 0)) return deployment_usage();
    if (!needs_id && np != 0) return deployment_usage();

    lfr_store *s;
    lfr_err err = {{0}};
    lfr_status st = LFR_OK;
    lfr_actor a;
    int rc;
    if (!strcmp(sub, "create")) {
        lfr_deploy_params p = {name, location, purpose, legal, 0, 0, 0, cams, unusual};
        char *endp = NULL;
        if (!thr) return deployment_usage();
        p.threshold = strtof(thr, &endp);
        if (*endp || parse_time(start, &p.planned_start) || parse_time(end, &p.planned_end)) {
            fprintf(stderr, "openlfr: bad --threshold, --start or --end\n");
            return 2;
        }
        if ((rc = actor_of(by, role, LFR_ROLE_OPERATOR, &a))) return rc;
        if (store_open(db, &s)) return 1;
        st = lfr_deploy_create(s, &p, &a, &id, &err);
    } else if (!strcmp(sub, "authorise") || !strcmp(sub, "authorize")) {
        if ((rc = actor_of(by, role, LFR_ROLE_AUTHORISER, &a))) return rc;
        if (store_open(db, &s)) return 1;
        st = lfr_deploy_authorise(s, id, &a, &err);
    } else if (!strcmp(sub, "start")) {
        if ((rc = actor_of(by, role, LFR_ROLE_AUTHORISER, &a))) return rc;
        if (store_open(db, &s)) return 1;
        st = lfr_deploy_start(s, id, &a, &err);
    } else if (!strcmp(sub, "end")) {
        if ((rc = actor_of(by, role, LFR_ROLE_AUTHORISER, &a))) return rc;
        if (store_open(db, &s)) return 1;
        st = lfr_deploy_end(s, id, &a, reason, &err);
    } else if (!strcmp(sub, "amend")) {
        lfr_deploy_amendment am = {reason, 0, 0, 0, unusual};
        if (thr) {
            char *endp;
            am.set_threshold = 1;
            am.threshold = strtof(thr, &endp);
            if (*endp) return deployment_usage();
        }
        if (remove && parse_i64(remove, &am.remove_entry_id)) return deployment_usage();
        if ((rc = actor_of(by, role, LFR_ROLE_OPERATOR, &a))) return rc;
        if (store_open(db, &s)) return 1;
        int64_t amid = 0;
        st = lfr_deploy_amend_propose(s, id, &am, &a, &amid, &err);
        if (st == LFR_OK) {
            if (json) jprint(json_pack("{s:I, s:I, s:s}", "amendment", (json_int_t)amid,
                                       "deployment", (json_int_t)id, "state", "proposed"));
            else printf("amendment %lld proposed for deployment %lld: it takes effect when "
                        "another officer runs `openlfr deployment amend-authorise %lld`\n",
                        (long long)amid, (long long)id, (long long)amid);
            lfr_store_close(s);
            return 0;
        }
    } else if (!strcmp(sub, "amend-authorise")) {
        if ((rc = actor_of(by, role, LFR_ROLE_AUTHORISER, &a))) return rc;
        if (store_open(db, &s)) return 1;
        st = lfr_deploy_amend_authorise(s, id, &a, &err);
        if (st == LFR_OK) {
            if (json) jprint(json_pack("{s:I, s:s}", "amendment", (json_int_t)id, "state", "authorised"));
            else printf("amendment %lld authorised and applied\n", (long long)id);
            lfr_store_close(s);
            return 0;
        }
    } else if (!strcmp(sub, "show")) {
        if (store_open(db, &s)) return 1;
        rc = show_one(s, id, json);
        lfr_store_close(s);
        return rc;
    } else if (!strcmp(sub, "list")) {
        if (store_open(db, &s)) return 1;
        lfr_deploy_info *list = NULL;
        size_t n = 0;
        st = lfr_deploy_list(s, &list, &n, &err);
        if (st == LFR_OK) {
            if (json) {
                json_t *arr = json_array();
                for (size_t i = 0; i < n; i++) json_array_append_new(arr, deploy_json(&list[i]));
                jprint(arr);
            } else {
                char t1[32], t2[32];
                printf("%-5s %-10s %-9s %-8s %-14s %-21s %-21s %s\n", "id", "state", "threshold",
                       "likeness", "false/10k faces", "start", "end", "name");
                for (size_t i = 0; i < n; i++) {
                    lfr_match_threshold_meaning m;
                    threshold_meaning(&list[i], &m);
                    printf("%-5lld %-10s %-9.4f %-8.0f %-14.2f %-21s %-21s %s\n", (long long)list[i].id,
                           lfr_deploy_state_name(list[i].state), (double)list[i].threshold,
                           m.likeness, m.false_alerts_per_10k,
                           fmt_time(list[i].planned_start, t1), fmt_time(list[i].planned_end, t2),
                           list[i].name);
                }
            }
        }
        lfr_free(list);
        lfr_store_close(s);
        return st == LFR_OK ? 0 : lfr_cli_fail("deployment list", st, &err);
    } else {
        return deployment_usage();
    }
    if (st != LFR_OK) {
        lfr_store_close(s);
        return lfr_cli_fail(sub, st, &err);
    }
    rc = show_one(s, id, json);
    lfr_store_close(s);
    return rc;
}

/* watchlist ----------------------------------------------------------------- */
static int watchlist_usage(void) {
    fprintf(stderr, "usage: openlfr watchlist list DEPLOYMENT [--json]\n"
                    "       openlfr watchlist remove ENTRY --reason TEXT --by NAME [--json]\n"
                    "       openlfr watchlist add|import ...   (see `openlfr watchlist add`)\n"
                    "  all take [--db PATH]\n");
    return 2;
}

int lfr_cmd_watchlist(int argc, char **argv) {
    /* add / import: enrolment with face quality control (cmd_enrol.c) */
    int rc = lfr_cmd_watchlist_enrol(argc, argv);
    if (rc != -1) return rc;
    if (argc < 2) return watchlist_usage();
    const char *sub = argv[1], *by = NULL, *role = NULL, *db = NULL, *reason = NULL;
    int json = 0;
    const dopt o[] = {{"--by", &by, NULL}, {"--role", &role, NULL}, {"--db", &db, NULL},
                      {"--reason", &reason, NULL}, {"--json", NULL, &json}};
    const char *pos[1] = {NULL};
    int64_t id;
    if (parse(argc - 1, argv + 1, o, (int)(sizeof o / sizeof o[0]), pos, 1) != 1 ||
        parse_i64(pos[0], &id))
        return watchlist_usage();
    lfr_store *s;
    lfr_err err = {{0}};
    lfr_status st;
    if (!strcmp(sub, "list")) {
        if (store_open(db, &s)) return 1;
        lfr_watchlist_entry_info *list = NULL;
        size_t n = 0;
        st = lfr_deploy_entry_list(s, id, &list, &n, &err);
        if (st == LFR_OK) {
            if (json) {
                json_t *arr = json_array();
                for (size_t i = 0; i < n; i++) {
                    const lfr_watchlist_entry_info *e = &list[i];
                    json_t *j = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:I}",
                                          "id", (json_int_t)e->id, "deployment", (json_int_t)e->deployment_id,
                                          "subject_ref", e->subject_ref, "display_name", e->display_name,
                                          "category", lfr_watchlist_category_name(e->category),
                                          "reason", e->reason, "image_source", e->image_source,
                                          "image_date", e->image_date, "added_by", e->added_by,
                                          "added_at", jtime(e->added_at), "under_18", e->under_18,
                                          "images", (json_int_t)e->images);
                    if (j && e->category_other[0])
                        json_object_set_new(j, "category_other", json_string(e->category_other));
                    if (j && e->under_18)
                        json_object_set_new(j, "under_18_justification", json_string(e->under_18_justification));
                    json_array_append_new(arr, j);
                }
                jprint(arr);
            } else {
                printf("%-6s %-16s %-20s %-19s %-3s %-6s %s\n", "id", "subject_ref", "name",
                       "category", "<18", "images", "reason");
                for (size_t i = 0; i < n; i++)
                    printf("%-6lld %-16s %-20s %-19s %-3s %-6lld %s\n", (long long)list[i].id,
                           list[i].subject_ref, list[i].display_name,
                           lfr_watchlist_category_name(list[i].category), list[i].under_18 ? "yes" : "",
                           (long long)list[i].images, list[i].reason);
            }
        }
        lfr_free(list);
        lfr_store_close(s);
        return st == LFR_OK ? 0 : lfr_cli_fail("watchlist list", st, &err);
    }
    if (!strcmp(sub, "remove")) {
        lfr_actor a;
        if ((rc = actor_of(by, role, LFR_ROLE_OPERATOR, &a))) return rc;
        if (store_open(db, &s)) return 1;
        st = lfr_deploy_entry_remove(s, id, &a, reason, &err);
        lfr_store_close(s);
        if (st != LFR_OK) return lfr_cli_fail("watchlist remove", st, &err);
        if (json) jprint(json_pack("{s:I, s:b}", "entry", (json_int_t)id, "removed", 1));
        else printf("watchlist entry %lld removed (images and template deleted)\n", (long long)id);
        return 0;
    }
    return watchlist_usage();
}

/* audit --------------------------------------------------------------------- */
typedef struct show_ctx {
    int json;
    json_t *arr;
} show_ctx;

static int show_record(const lfr_audit_record *r, void *vctx) {
    show_ctx *c = vctx;
    char h[65], t[32];
    lfr_audit_hash_hex(r->hash, h);
    if (c->json) {
        json_error_t je;
        json_t *d = json_loads(r->details, 0, &je);
        json_t *o = json_pack("{s:I, s:o, s:s, s:s, s:s, s:o, s:o, s:s}", "seq", (json_int_t)r->seq,
                              "at", jtime(r->at), "actor", r->actor, "role", r->role, "action",
                              r->action, "deployment",
                              r->deployment_id ? json_integer(r->deployment_id) : json_null(),
                              "details", d ? d : json_string(r->details), "hash", h);
        json_array_append_new(c->arr, o);
    } else {
        char dep[24] = "-";
        if (r->deployment_id) snprintf(dep, sizeof dep, "%lld", (long long)r->deployment_id);
        printf("%-6lld %s %-22s %-20s %-4s %-24s %s %.16s\n", (long long)r->seq, fmt_time(r->at, t),
               r->action, r->actor, dep, r->role, r->details, h);
    }
    return 0;
}

static int audit_usage(void) {
    fprintf(stderr, "usage: openlfr audit verify [--json]\n"
                    "       openlfr audit show [--deployment D] [--from SEQ] [--limit N] [--json]\n"
                    "       openlfr audit anchor [--json]\n"
                    "  all take [--db PATH]\n");
    return 2;
}

int lfr_cmd_audit(int argc, char **argv) {
    if (argc < 2) return audit_usage();
    const char *sub = argv[1], *db = NULL, *dep = NULL, *from = NULL, *limit = NULL;
    int json = 0;
    const dopt o[] = {{"--db", &db, NULL}, {"--deployment", &dep, NULL}, {"--from", &from, NULL},
                      {"--limit", &limit, NULL}, {"--json", NULL, &json}};
    const char *pos[1];
    if (parse(argc - 1, argv + 1, o, (int)(sizeof o / sizeof o[0]), pos, 0) != 0) return audit_usage();
    int64_t d = 0, f = 1, l = 0;
    if ((dep && parse_i64(dep, &d)) || (from && parse_i64(from, &f)) || (limit && parse_i64(limit, &l)))
        return audit_usage();
    lfr_store *s;
    lfr_err err = {{0}};
    lfr_status st;
    char h[65];
    if (!strcmp(sub, "verify")) {
        if (store_open(db, &s)) return 1;
        lfr_audit_report rep;
        st = lfr_audit_verify(s, &rep, &err);
        lfr_store_close(s);
        if (st != LFR_OK && st != LFR_ERR_INTEGRITY) return lfr_cli_fail("audit verify", st, &err);
        lfr_audit_hash_hex(rep.head_hash, h);
        if (json) {
            json_t *j = json_pack("{s:b, s:I, s:I, s:I, s:s}", "ok", rep.ok, "records",
                                  (json_int_t)rep.records, "anchors", (json_int_t)rep.anchors,
                                  "head_seq", (json_int_t)rep.head_seq, "head_hash", rep.head_seq ? h : "");
            if (!rep.ok) {
                json_object_set_new(j, "first_bad_seq", json_integer(rep.bad_seq));
                json_object_set_new(j, "reason", json_string(rep.reason));
            }
            jprint(j);
        } else if (rep.ok) {
            printf("audit log intact: %lld records, %lld anchors checked, head seq %lld hash %s\n",
                   (long long)rep.records, (long long)rep.anchors, (long long)rep.head_seq,
                   rep.head_seq ? h : "-");
        } else {
            printf("AUDIT LOG TAMPERED: first bad record %lld: %s\n", (long long)rep.bad_seq, rep.reason);
        }
        return rep.ok ? 0 : 1;
    }
    if (!strcmp(sub, "show")) {
        if (store_open(db, &s)) return 1;
        show_ctx c = {json, json ? json_array() : NULL};
        st = lfr_audit_each(s, d, f, l, show_record, &c, &err);
        lfr_store_close(s);
        if (json) jprint(c.arr);
        return st == LFR_OK ? 0 : lfr_cli_fail("audit show", st, &err);
    }
    if (!strcmp(sub, "anchor")) {
        if (store_open(db, &s)) return 1;
        lfr_audit_anchor_info an;
        st = lfr_audit_anchor(s, &an, &err);
        lfr_store_close(s);
        if (st != LFR_OK) return lfr_cli_fail("audit anchor", st, &err);
        lfr_audit_hash_hex(an.hash, h);
        char t[32];
        if (json)
            jprint(json_pack("{s:I, s:o, s:I, s:s}", "anchor", (json_int_t)an.id, "at", jtime(an.at),
                             "seq", (json_int_t)an.seq, "hash", h));
        else
            printf("anchor %lld at %s: audit log head seq %lld hash %s\n(publish this line: "
                   "`openlfr audit verify` checks the log still contains it)\n",
                   (long long)an.id, fmt_time(an.at, t), (long long)an.seq, h);
        return 0;
    }
    return audit_usage();
}

/* purge --------------------------------------------------------------------- */
int lfr_cmd_purge(int argc, char **argv) {
    const char *db = NULL, *wh = NULL, *ad = NULL, *cd = NULL;
    int json = 0;
    const dopt o[] = {{"--db", &db, NULL}, {"--watchlist-hours", &wh, NULL},
                      {"--alert-days", &ad, NULL}, {"--check-days", &cd, NULL},
                      {"--json", NULL, &json}};
    const char *pos[1];
    lfr_retention_rules r;
    lfr_retention_rules_default(&r);
    int64_t v;
    if (parse(argc, argv, o, (int)(sizeof o / sizeof o[0]), pos, 0) != 0 ||
        (wh && (parse_i64(wh, &v) || v < 0 || (r.watchlist_after_end_s = v * 3600, 0))) ||
        (ad && (parse_i64(ad, &v) || v < 0 || (r.alerts_s = v * 86400, 0))) ||
        (cd && (parse_i64(cd, &v) || v < 0 || (r.photo_checks_s = v * 86400, 0)))) {
        fprintf(stderr, "usage: openlfr purge [--watchlist-hours H (24)] [--alert-days D (31)] "
                        "[--check-days D (31)] [--json] [--db PATH]\n");
        return 2;
    }
    lfr_store *s;
    if (store_open(db, &s)) return 1;
    lfr_err err = {{0}};
    lfr_purge_report rep;
    lfr_status st = lfr_deploy_purge(s, lfr_store_now(s), &r, &rep, &err);
    lfr_store_close(s);
    if (st != LFR_OK) return lfr_cli_fail("purge", st, &err);
    if (json)
        jprint(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "watchlists",
                         (json_int_t)rep.watchlists, "entries", (json_int_t)rep.entries,
                         "images", (json_int_t)rep.images, "alerts", (json_int_t)rep.alerts,
                         "alert_images", (json_int_t)rep.alert_images, "photo_checks",
                         (json_int_t)rep.photo_checks, "photo_check_images",
                         (json_int_t)rep.photo_check_images, "deployments_purged",
                         (json_int_t)rep.deployments_purged, "receipts", (json_int_t)rep.receipts));
    else
        printf("deleted: %lld watchlists (%lld entries, %lld images), %lld alerts, %lld photo "
               "checks; %lld deployments purged; %lld receipts in the audit log\n",
               (long long)rep.watchlists, (long long)rep.entries, (long long)rep.images,
               (long long)rep.alerts, (long long)rep.photo_checks, (long long)rep.deployments_purged,
               (long long)rep.receipts);
    return 0;
}
