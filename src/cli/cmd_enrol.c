/*
 * cmd_enrol.c - putting people on a watchlist and checking officers' photos.
 *
 *   openlfr watchlist add --deployment D --by NAME --ref REF --name NAME
 *           --category C [--category-other TEXT] --reason TEXT --source TEXT
 *           --date DATE [--under-18 --justification TEXT]
 *           [--accept-warnings REASON] [--json] IMAGE
 *   openlfr watchlist add-photo --entry E --by NAME --source TEXT --date DATE
 *           [--accept-warnings REASON] [--json] IMAGE
 *   openlfr watchlist import --deployment D --by NAME --dir DIR
 *           --manifest FILE.csv [--accept-warnings REASON] [--json]
 *   openlfr check --deployment D --reason TEXT --by OFFICER [--json] PHOTO
 *
 * Thin: the options become the arguments of watchlist.add, watchlist.add_photo,
 * watchlist.import or check.photo (app.h), which run enrolment quality
 * control (graded: accept, accept with warnings, reject; a refusal says
 * why, each warning with its measured effect; a warned photo is added only
 * with --accept-warnings and the officer's reason) or the
 * check against the one deployment's watchlist (the check is recorded
 * either way, the photo kept, sealed, only if it matched).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opt.h"

#define ARGS_END {NULL, CLI_STR, 0, NULL, NULL, 0, 0}

/* A photo named on the command line: a clear sentence for a directory, a
 * FIFO or a missing file (not "input/output error"). */
static int read_image(const char *path, uint8_t **buf, size_t *len) {
    lfr_err err = {{0}};
    lfr_status st = lfr_read_file_err(path, LFR_MAX_IMAGE_BYTES, buf, len, &err);
    if (st == LFR_OK) return 0;
    if (err.msg[0]) fprintf(stderr, "openlfr: %s\n", err.msg);
    else fprintf(stderr, "openlfr: %s: %s\n", path, lfr_status_message(st));
    return 1;
}

/* A string member, "" when absent. */
static const char *js(json_t *o, const char *key) {
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

static void print_json(json_t *o) {
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
    if (s) puts(s);
    free(s);
}

/* Quality control's warnings in an answer ({"quality": {"warnings": [...]}}),
 * one line each. */
static void print_warnings(FILE *f, json_t *quality, const char *indent) {
    json_t *w;
    size_t i;
    json_array_foreach(json_object_get(quality, "warnings"), i, w)
        fprintf(f, "%swarning %s: %s\n", indent, js(w, "kind"), js(w, "text"));
}

/* watchlist add: like lfr_cli_call, but a refusal by quality control also
 * lists its warnings (the details the app leaves in the failed answer). */
static int call_add(const lfr_cli_common *c, const char *what, lfr_op op, json_t *args,
                    const uint8_t *blob, size_t len, json_t **ans) {
    *ans = NULL;
    lfr_config cfg;
    lfr_app *app = NULL;
    int rc = lfr_cli_config(c, &cfg);
    if (rc == 0 && !args) rc = lfr_cli_fail(what, LFR_ERR_NOMEM, NULL);
    if (rc == 0) rc = lfr_cli_app_open(&cfg, 1, &app);
    if (rc) {
        json_decref(args);
        return rc;
    }
    lfr_err err = {{0}};
    lfr_principal who;
    lfr_status st = lfr_app_principal_by_name(app, c->by, &who, &err);
    lfr_app_res res = {0};
    if (st == LFR_OK) {
        lfr_app_req req = {.op = op, .who = &who, .args = args, .blob = blob, .blob_len = len};
        st = lfr_app_call(app, &req, &res, &err);
    }
    json_decref(args);
    if (st == LFR_OK) {
        *ans = res.body;
        res.body = NULL;
    } else {
        lfr_cli_fail(what, st, &err);
        json_t *q = json_object_get(res.body, "quality");
        if (json_array_size(json_object_get(q, "warnings")) > 0) {
            print_warnings(stderr, q, "openlfr:   ");
            fprintf(stderr, "openlfr: to enrol this photo all the same, accept its warnings with "
                            "a reason: --accept-warnings REASON (recorded, and shown to the "
                            "authorising officer)\n");
        }
        rc = 1;
    }
    lfr_app_res_clear(&res);
    lfr_app_close(app);
    return rc;
}

void lfr_cli_print_accepted_warnings(const lfr_cli_common *c, int64_t deployment_id) {
    lfr_config cfg;
    lfr_app *app = NULL;
    if (lfr_cli_config(c, &cfg) || lfr_cli_app_open(&cfg, 0, &app)) return;
    lfr_err err = {{0}};
    lfr_principal who;
    lfr_app_res res = {0};
    json_t *args = json_pack("{s:I}", "deployment", (json_int_t)deployment_id);
    lfr_status st = lfr_app_principal_by_name(app, c->by ? c->by : "openlfr-cli", &who, &err);
    if (st == LFR_OK && args) {
        lfr_app_req req = {.op = LFR_OP_WATCHLIST_LIST, .who = &who, .args = args};
        st = lfr_app_call(app, &req, &res, &err);
    }
    json_t *e;
    size_t i, n = 0;
    json_array_foreach(st == LFR_OK ? json_object_get(res.body, "entries") : NULL, i, e)
        n += json_array_size(json_object_get(e, "quality_warnings")) > 0;
    if (st == LFR_OK && n > 0) {
        printf("  quality warnings accepted at enrolment (%zu %s):\n", n,
               n == 1 ? "entry" : "entries");
        json_array_foreach(json_object_get(res.body, "entries"), i, e) {
            json_t *w = json_object_get(e, "quality_warnings");
            if (json_array_size(w) == 0) continue;
            printf("    entry %lld %s: accepted by %s: \"%s\"\n",
                   (long long)json_integer_value(json_object_get(e, "id")), js(e, "subject_ref"),
                   js(e, "warnings_accepted_by"), js(e, "warnings_accepted"));
            json_t *q = json_pack("{s:O}", "warnings", w);
            print_warnings(stdout, q, "      ");
            json_decref(q);
        }
    } else if (st == LFR_OK) {
        printf("  quality warnings accepted at enrolment: none\n");
    }
    json_decref(args);
    lfr_app_res_clear(&res);
    lfr_app_close(app);
}

/* One operation with the face engine; prints nothing on success. */
static int call(const lfr_cli_common *c, const char *what, lfr_op op, json_t *args,
                const uint8_t *blob, size_t len, json_t **ans) {
    lfr_config cfg;
    int rc = lfr_cli_config(c, &cfg);
    if (rc == 0 && !args) rc = lfr_cli_fail(what, LFR_ERR_NOMEM, NULL);
    if (rc == 0) rc = lfr_cli_call(&cfg, what, c->by, 1, op, args, blob, len, ans);
    json_decref(args);
    return rc;
}

int lfr_cmd_watchlist_add(int argc, char **argv) {
    lfr_cli_common c = {0};
    const char *ref = NULL, *name = NULL, *cat = NULL, *other = NULL, *reason = NULL,
               *source = NULL, *date = NULL, *why18 = NULL, *img = NULL, *accept = NULL;
    int64_t dep = 0;
    int u18 = 0;
    const cli_opt opts[] = {
        {"deployment", CLI_INT, 1, "D", "the draft deployment whose watchlist it is", &dep, 1,
         INT64_MAX},
        {"ref", CLI_STR, 1, "REF", "subject reference (unique within the watchlist)", &ref, 0, 0},
        {"name", CLI_STR, 1, "NAME", "the person's name as shown to operators", &name, 0, 0},
        {"category", CLI_STR, 1, "C",
         "wanted_on_warrant, wanted_for_offence, missing, vulnerable or other", &cat, 0, 0},
        {"category-other", CLI_STR, 0, "TEXT", "what 'other' means here", &other, 0, 0},
        {"reason", CLI_STR, 1, "TEXT", "why this person is on the list", &reason, 0, 0},
        {"source", CLI_STR, 1, "TEXT", "where the photo comes from (custody, family, ...)", &source,
         0, 0},
        {"date", CLI_STR, 1, "DATE", "when the photo was taken: YYYY-MM-DD, YYYY-MM or YYYY",
         &date, 0, 0},
        {"under-18", CLI_FLAG, 0, NULL, "the person is a child (needs --justification)", &u18, 0, 0},
        {"justification", CLI_STR, 0, "TEXT", "why a child is on the list", &why18, 0, 0},
        {"accept-warnings", CLI_STR, 0, "REASON",
         "enrol a photo with quality warnings all the same, for this reason (recorded and shown "
         "to the authorising officer)", &accept, 0, 0},
        CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {{"IMAGE", CLI_STR, 1, "a photo of the person (one face)", &img, 0, 0},
                            ARGS_END};
    const cli_cmd cmd = {"watchlist add", "enrol one person from a photo (quality-controlled)",
                         opts, args, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    uint8_t *buf;
    size_t len;
    if (read_image(img, &buf, &len)) return 1;
    json_t *a = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "deployment",
                          (json_int_t)dep, "subject_ref", ref, "display_name", name, "category",
                          cat, "reason", reason, "image_source", source, "image_date", date,
                          "under_18", u18);
    if (a && other) json_object_set_new(a, "category_other", json_string(other));
    if (a && why18) json_object_set_new(a, "under_18_justification", json_string(why18));
    if (a && accept) json_object_set_new(a, "accept_warnings", json_string(accept));
    json_t *ans = NULL;
    r = call_add(&c, img, LFR_OP_WATCHLIST_ADD, a, buf, len, &ans);
    lfr_free(buf);
    if (r == 0) {
        json_t *q = json_object_get(ans, "quality");
        size_t nw = json_array_size(json_object_get(q, "warnings"));
        if (c.json) print_json(ans);
        else if (nw == 0)
            printf("added entry %lld (%s): %s\n",
                   (long long)json_integer_value(json_object_get(ans, "id")), ref, js(q, "why"));
        else {
            printf("added entry %lld (%s) with %zu accepted quality warning%s (\"%s\"):\n",
                   (long long)json_integer_value(json_object_get(ans, "id")), ref, nw,
                   nw == 1 ? "" : "s", accept ? accept : "");
            print_warnings(stdout, q, "  ");
        }
    }
    json_decref(ans);
    return r;
}

int lfr_cmd_watchlist_add_photo(int argc, char **argv) {
    lfr_cli_common c = {0};
    const char *img = NULL, *accept = NULL, *source = NULL, *date = NULL;
    int64_t entry = 0;
    const cli_opt opts[] = {
        {"entry", CLI_INT, 1, "E", "the entry (`watchlist list`) of a draft deployment", &entry, 1,
         INT64_MAX},
        {"source", CLI_STR, 1, "TEXT", "where this photo comes from (custody, family, ...)",
         &source, 0, 0},
        {"date", CLI_STR, 1, "DATE", "when it was taken: YYYY-MM-DD, YYYY-MM or YYYY", &date, 0,
         0},
        {"accept-warnings", CLI_STR, 0, "REASON",
         "add a photo with quality warnings all the same, for this reason (recorded and shown "
         "to the authorising officer)", &accept, 0, 0},
        CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {
        {"IMAGE", CLI_STR, 1, "another photo of the same person (one face)", &img, 0, 0},
        ARGS_END};
    const cli_cmd cmd = {
        "watchlist add-photo",
        "another photo of a person already on the list: quality-controlled, compared with the "
        "entry's photos; the entry is then matched by the mean of its photos",
        opts, args, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    uint8_t *buf;
    size_t len;
    if (read_image(img, &buf, &len)) return 1;
    json_t *a = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)entry, "image_source", source,
                          "image_date", date);
    if (a && accept) json_object_set_new(a, "accept_warnings", json_string(accept));
    json_t *ans = NULL;
    r = call_add(&c, img, LFR_OP_WATCHLIST_ADD_PHOTO, a, buf, len, &ans);
    lfr_free(buf);
    if (r == 0) {
        json_t *q = json_object_get(ans, "quality");
        json_t *e = json_object_get(ans, "entry");
        size_t nw = json_array_size(json_object_get(q, "warnings"));
        long long n = (long long)json_integer_value(json_object_get(e, "images"));
        if (c.json) print_json(ans);
        else {
            printf("added photo %lld to entry %lld (%s): now %lld photos, matched by their mean; "
                   "cosine %.3f with the entry's photos before it\n",
                   (long long)json_integer_value(json_object_get(ans, "image")),
                   (long long)entry, js(e, "subject_ref"), n,
                   json_number_value(json_object_get(ans, "similarity")));
            if (nw > 0) {
                printf("  %zu accepted quality warning%s (\"%s\"):\n", nw, nw == 1 ? "" : "s",
                       accept ? accept : "");
                print_warnings(stdout, q, "  ");
            }
        }
    }
    json_decref(ans);
    return r;
}

int lfr_cmd_watchlist_import(int argc, char **argv) {
    lfr_cli_common c = {0};
    const char *dir = NULL, *manifest = NULL, *accept = NULL;
    int64_t dep = 0;
    const cli_opt opts[] = {
        {"deployment", CLI_INT, 1, "D", "the draft deployment whose watchlist it is", &dep, 1,
         INT64_MAX},
        {"dir", CLI_STR, 1, "DIR", "the photos (paths in the manifest are relative to it)", &dir, 0,
         0},
        {"manifest", CLI_STR, 1, "FILE.csv",
         "header file,subject_ref,display_name,category,reason,image_source,image_date", &manifest,
         0, 0},
        {"accept-warnings", CLI_STR, 0, "REASON",
         "enrol the photos with quality warnings all the same, for this reason (every row; "
         "recorded and shown to the authorising officer)", &accept, 0, 0},
        CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_cmd cmd = {"watchlist import",
                         "enrol many from a directory and a CSV manifest (a bad row is reported "
                         "and skipped; a rerun reports rows already on the list)",
                         opts, NULL, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    json_t *ans = NULL;
    json_t *a = json_pack("{s:I, s:s, s:s}", "deployment", (json_int_t)dep, "dir", dir, "manifest",
                          manifest);
    if (a && accept) json_object_set_new(a, "accept_warnings", json_string(accept));
    r = call(&c, cmd.name, LFR_OP_WATCHLIST_IMPORT, a, NULL, 0, &ans);
    if (r == 0 && c.json) {
        print_json(ans);
    } else if (r == 0) {
        json_t *rows = json_object_get(ans, "rows"), *row;
        size_t i;
        json_array_foreach(rows, i, row) {
            const char *file = js(row, "file"), *status = js(row, "status");
            int line = (int)json_integer_value(json_object_get(row, "line"));
            if (!strcmp(status, "added") && strcmp(js(row, "message"), "added"))
                printf("line %d %s: added as entry %lld: %s\n", line, file,
                       (long long)json_integer_value(json_object_get(row, "entry")),
                       js(row, "message"));
            else if (!strcmp(status, "added"))
                printf("line %d %s: added as entry %lld\n", line, file,
                       (long long)json_integer_value(json_object_get(row, "entry")));
            else
                printf("line %d %s: NOT added: %s\n", line, file, js(row, "message"));
        }
        printf("%lld added, %lld not added\n",
               (long long)json_integer_value(json_object_get(ans, "added")),
               (long long)json_integer_value(json_object_get(ans, "rejected")));
    }
    json_decref(ans);
    return r;
}

int lfr_cmd_check(int argc, char **argv) {
    lfr_cli_common c = {0};
    const char *reason = NULL, *photo = NULL;
    int64_t dep = 0;
    const cli_opt opts[] = {
        {"deployment", CLI_INT, 1, "D", "the live deployment whose watchlist is searched", &dep, 1,
         INT64_MAX},
        {"reason", CLI_STR, 1, "TEXT",
         "why this person is checked (mandatory): matches_description, intelligence, behaviour "
         "or free text",
         &reason, 0, 0},
        CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_arg args[] = {{"PHOTO", CLI_STR, 1, "the officer's photo", &photo, 0, 0}, ARGS_END};
    const cli_cmd cmd = {"check",
                         "officer's photo check against one live deployment's watchlist", opts,
                         args, "The check is recorded either way; the photo is kept (sealed) only "
                               "if it matched."};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    uint8_t *buf;
    size_t len;
    if (read_image(photo, &buf, &len)) return 1;
    json_t *ans = NULL;
    r = call(&c, cmd.name, LFR_OP_CHECK_PHOTO,
             json_pack("{s:I, s:s}", "deployment", (json_int_t)dep, "reason", reason), buf, len,
             &ans);
    lfr_free(buf);
    if (r == 0 && c.json) {
        print_json(ans);
    } else if (r == 0) {
        long long check = (long long)json_integer_value(json_object_get(ans, "check"));
        json_t *cands = json_object_get(ans, "candidates"), *k;
        size_t n = json_array_size(cands), i;
        if (!json_is_true(json_object_get(ans, "face_found")))
            printf("no face found in the photo (check %lld recorded)\n", check);
        else if (n == 0)
            printf("no match on this deployment's watchlist (check %lld recorded; the photo was "
                   "not kept)\n", check);
        else
            printf("%zu %s at or above the deployment's threshold (check %lld recorded).\n"
                   "A person must compare the images before anyone acts.\n",
                   n, n == 1 ? "candidate" : "candidates", check);
        json_array_foreach(cands, i, k) {
            json_t *e = json_object_get(k, "entry");
            long long photos = (long long)json_integer_value(json_object_get(k, "entry_photos"));
            char mean[48] = "";
            if (photos > 1) snprintf(mean, sizeof mean, ", mean of %lld photos", photos);
            printf("  entry %lld  %-12s %-24s %-20s likeness %.0f (cosine %.3f%s)\n",
                   (long long)json_integer_value(json_object_get(k, "entry_id")),
                   js(e, "subject_ref"), js(e, "display_name"), js(e, "category"),
                   json_number_value(json_object_get(k, "likeness")),
                   json_number_value(json_object_get(k, "score")), mean);
        }
    }
    json_decref(ans);
    return r;
}
