/*
 * cmd_enrol.c - putting people on a watchlist and checking officers' photos.
 *
 *   openlfr watchlist add --deployment D --by NAME --ref REF --name NAME
 *           --category C [--category-other TEXT] --reason TEXT --source TEXT
 *           --date DATE [--under-18 --justification TEXT] [--json] IMAGE
 *   openlfr watchlist import --deployment D --by NAME --dir DIR
 *           --manifest FILE.csv [--json]
 *   openlfr check --deployment D --reason TEXT --by OFFICER [--json] PHOTO
 *
 * Thin: the options become the arguments of watchlist.add,
 * watchlist.import or check.photo (app.h), which run enrolment quality
 * control (one face, large, sharp, frontal; a rejection says why) or the
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
               *source = NULL, *date = NULL, *why18 = NULL, *img = NULL;
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
    json_t *ans = NULL;
    r = call(&c, img, LFR_OP_WATCHLIST_ADD, a, buf, len, &ans);
    lfr_free(buf);
    if (r == 0) {
        if (c.json) print_json(ans);
        else
            printf("added entry %lld (%s): %s\n",
                   (long long)json_integer_value(json_object_get(ans, "id")), ref,
                   js(json_object_get(ans, "quality"), "why"));
    }
    json_decref(ans);
    return r;
}

int lfr_cmd_watchlist_import(int argc, char **argv) {
    lfr_cli_common c = {0};
    const char *dir = NULL, *manifest = NULL;
    int64_t dep = 0;
    const cli_opt opts[] = {
        {"deployment", CLI_INT, 1, "D", "the draft deployment whose watchlist it is", &dep, 1,
         INT64_MAX},
        {"dir", CLI_STR, 1, "DIR", "the photos (paths in the manifest are relative to it)", &dir, 0,
         0},
        {"manifest", CLI_STR, 1, "FILE.csv",
         "header file,subject_ref,display_name,category,reason,image_source,image_date", &manifest,
         0, 0},
        CLI_OPT_BY(&c, 1), CLI_OPT_JSON(&c), CLI_OPTS_DB(&c), CLI_END};
    const cli_cmd cmd = {"watchlist import",
                         "enrol many from a directory and a CSV manifest (a bad row is reported "
                         "and skipped; a rerun reports rows already on the list)",
                         opts, NULL, NULL};
    int r = cli_parse(&cmd, argc, argv);
    if (r != CLI_OK) return CLI_EXIT(r);
    json_t *ans = NULL;
    r = call(&c, cmd.name, LFR_OP_WATCHLIST_IMPORT,
             json_pack("{s:I, s:s, s:s}", "deployment", (json_int_t)dep, "dir", dir, "manifest",
                       manifest),
             NULL, 0, &ans);
    if (r == 0 && c.json) {
        print_json(ans);
    } else if (r == 0) {
        json_t *rows = json_object_get(ans, "rows"), *row;
        size_t i;
        json_array_foreach(rows, i, row) {
            const char *file = js(row, "file"), *status = js(row, "status");
            int line = (int)json_integer_value(json_object_get(row, "line"));
            if (!strcmp(status, "added"))
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
            printf("  entry %lld  %-12s %-24s %-20s likeness %.0f (cosine %.3f)\n",
                   (long long)json_integer_value(json_object_get(k, "entry_id")),
                   js(e, "subject_ref"), js(e, "display_name"), js(e, "category"),
                   json_number_value(json_object_get(k, "likeness")),
                   json_number_value(json_object_get(k, "score")));
        }
    }
    json_decref(ans);
    return r;
}
