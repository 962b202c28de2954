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
 * Each image passes enrolment quality control first (one face, large,
 * sharp, frontal); a rejection says why.  A check searches only the given
 * deployment's watchlist; the reason is mandatory; the check is recorded
 * either way and the photo kept (sealed) only if it matched.
 * The database is --db PATH or $OPENLFR_DB (default ./openlfr.db).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "enrol/enrol.h"
#include "match/match.h"

/* Options: a table of names and where their value goes. */
typedef struct opt {
    const char *name;
    const char **value;  /* NULL for a flag */
    int *flag;
} opt;

static int parse_opts(int argc, char **argv, const opt *opts, int nopts, const char **pos) {
    *pos = NULL;
    for (int i = 1; i < argc; i++) {
        int hit = 0;
        for (int k = 0; k < nopts && !hit; k++) {
            if (strcmp(argv[i], opts[k].name)) continue;
            hit = 1;
            if (opts[k].flag) *opts[k].flag = 1;
            else if (i + 1 < argc) *opts[k].value = argv[++i];
            else return -1;
        }
        if (hit) continue;
        if (argv[i][0] == '-' || *pos) return -1;
        *pos = argv[i];
    }
    return 0;
}

typedef struct session {
    lfr_store *store;
    lfr_face_engine *engine;
    lfr_face_ctx *fc;
} session;

static int session_open(session *ss, const char *db) {
    memset(ss, 0, sizeof *ss);
    lfr_err err = {{0}};
    if (!db) db = getenv("OPENLFR_DB");
    if (!db || !*db) db = "openlfr.db";
    const char *key = getenv("OPENLFR_KEY");
    lfr_store_config cfg = {.db_path = db, .key_path = key && *key ? key : NULL};
    lfr_status st = lfr_store_open(&cfg, &ss->store, &err);
    if (st != LFR_OK) return lfr_cli_fail(db, st, &err);
    st = lfr_face_engine_load(lfr_cli_models_dir(), &ss->engine, &err);
    if (st == LFR_OK) st = lfr_face_ctx_new(ss->engine, &ss->fc);
    if (st != LFR_OK) {
        lfr_store_close(ss->store);
        lfr_face_engine_destroy(ss->engine);
        return lfr_cli_fail("loading the face models", st, &err);
    }
    return 0;
}

static void session_close(session *ss) {
    lfr_face_ctx_destroy(ss->fc);
    lfr_face_engine_destroy(ss->engine);
    lfr_store_close(ss->store);
}

static int read_image(const char *path, uint8_t **buf, size_t *len) {
    lfr_status st = lfr_read_file(path, LFR_MAX_IMAGE_BYTES, buf, len);
    if (st == LFR_OK) return 0;
    fprintf(stderr, "openlfr: %s: %s\n", path, lfr_status_message(st));
    return 1;
}

static void print_json(json_t *o) {
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (s) puts(s);
    free(s);
    json_decref(o);
}

static int watchlist_add(int argc, char **argv) {
    const char *dep = NULL, *by = NULL, *ref = NULL, *name = NULL, *cat = NULL, *other = NULL,
               *reason = NULL, *source = NULL, *date = NULL, *why18 = NULL, *db = NULL, *img = NULL;
    int u18 = 0, json = 0;
    const opt opts[] = {{"--deployment", &dep, NULL}, {"--by", &by, NULL}, {"--ref", &ref, NULL},
                        {"--name", &name, NULL}, {"--category", &cat, NULL},
                        {"--category-other", &other, NULL}, {"--reason", &reason, NULL},
                        {"--source", &source, NULL}, {"--date", &date, NULL},
                        {"--justification", &why18, NULL}, {"--under-18", NULL, &u18},
                        {"--json", NULL, &json}, {"--db", &db, NULL}};
    if (parse_opts(argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), &img) || !dep || !by ||
        !ref || !name || !cat || !reason || !source || !date || !img) {
        fprintf(stderr, "usage: openlfr watchlist add --deployment D --by NAME --ref REF --name NAME\n"
                        "       --category wanted_on_warrant|wanted_for_offence|missing|vulnerable|other\n"
                        "       [--category-other TEXT] --reason TEXT --source TEXT --date DATE\n"
                        "       [--under-18 --justification TEXT] [--json] IMAGE\n");
        return 2;
    }
    lfr_watchlist_entry e = {.subject_ref = ref, .display_name = name, .category_other = other,
                             .reason = reason, .image_source = source, .image_date = date,
                             .under_18 = u18, .under_18_justification = why18};
    lfr_err err = {{0}};
    lfr_status st = lfr_watchlist_category_parse(cat, &e.category);
    if (st != LFR_OK) {
        fprintf(stderr, "openlfr: unknown category '%s'\n", cat);
        return 2;
    }
    uint8_t *buf;
    size_t len;
    if (read_image(img, &buf, &len)) return 1;
    session ss;
    if (session_open(&ss, db)) {
        lfr_free(buf);
        return 1;
    }
    lfr_actor actor = {by, LFR_ROLE_OPERATOR};
    int64_t id = 0;
    lfr_enrol_result r;
    st = lfr_enrol_add(ss.store, ss.fc, strtoll(dep, NULL, 10), &e, buf, len, NULL, &actor, &id,
                       &r, &err);
    int rc = 0;
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "image", img, "status", lfr_status_str(st),
                              "quality", lfr_enrol_reject_name(r.reject), "message",
                              st == LFR_OK ? r.why : err.msg);
        if (st == LFR_OK) json_object_set_new(o, "entry_id", json_integer(id));
        print_json(o);
        rc = st != LFR_OK;
    } else if (st == LFR_OK) {
        printf("added entry %lld (%s): %s\n", (long long)id, ref, r.why);
    } else {
        rc = lfr_cli_fail(img, st, &err);
    }
    lfr_free(buf);
    session_close(&ss);
    return rc;
}

typedef struct import_out {
    int json;
} import_out;

static void import_row(void *ctx, int line, const char *file, lfr_status st, const char *msg,
                       int64_t id) {
    const import_out *io = ctx;
    if (io->json) {
        json_t *o = json_pack("{s:i, s:s, s:s, s:s}", "line", line, "file", file, "status",
                              lfr_status_str(st), "message", msg);
        if (st == LFR_OK) json_object_set_new(o, "entry_id", json_integer(id));
        print_json(o);
    } else if (st == LFR_OK) {
        printf("line %d %s: added as entry %lld\n", line, file, (long long)id);
    } else {
        printf("line %d %s: NOT added: %s\n", line, file, msg);
    }
    fflush(stdout);
}

static int watchlist_import(int argc, char **argv) {
    const char *dep = NULL, *by = NULL, *dir = NULL, *manifest = NULL, *db = NULL, *pos = NULL;
    int json = 0;
    const opt opts[] = {{"--deployment", &dep, NULL}, {"--by", &by, NULL}, {"--dir", &dir, NULL},
                        {"--manifest", &manifest, NULL}, {"--json", NULL, &json},
                        {"--db", &db, NULL}};
    if (parse_opts(argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), &pos) || pos || !dep ||
        !by || !dir || !manifest) {
        fprintf(stderr, "usage: openlfr watchlist import --deployment D --by NAME --dir DIR "
                        "--manifest FILE.csv [--json]\n");
        return 2;
    }
    session ss;
    if (session_open(&ss, db)) return 1;
    lfr_actor actor = {by, LFR_ROLE_OPERATOR};
    import_out io = {json};
    int added = 0, rejected = 0;
    lfr_err err = {{0}};
    lfr_status st = lfr_enrol_import(ss.store, ss.fc, strtoll(dep, NULL, 10), dir, manifest, NULL,
                                     &actor, import_row, &io, &added, &rejected, &err);
    if (json)
        print_json(json_pack("{s:i, s:i, s:s}", "added", added, "rejected", rejected, "status",
                             lfr_status_str(st)));
    else
        printf("%d added, %d not added\n", added, rejected);
    int rc = st != LFR_OK ? lfr_cli_fail("import", st, &err) : 0;
    session_close(&ss);
    return rc;
}

int lfr_cmd_watchlist_enrol(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "add")) return watchlist_add(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "import")) return watchlist_import(argc - 1, argv + 1);
    return -1; /* not ours */
}

int lfr_cmd_check(int argc, char **argv) {
    const char *dep = NULL, *by = NULL, *reason = NULL, *db = NULL, *photo = NULL;
    int json = 0;
    const opt opts[] = {{"--deployment", &dep, NULL}, {"--by", &by, NULL},
                        {"--reason", &reason, NULL}, {"--json", NULL, &json}, {"--db", &db, NULL}};
    if (parse_opts(argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), &photo) || !dep || !by ||
        !reason || !photo) {
        fprintf(stderr, "usage: openlfr check --deployment D --reason TEXT --by OFFICER [--json] PHOTO\n"
                        "  (the reason is mandatory: why this person is being checked)\n");
        return 2;
    }
    uint8_t *buf;
    size_t len;
    if (read_image(photo, &buf, &len)) return 1;
    session ss;
    if (session_open(&ss, db)) {
        lfr_free(buf);
        return 1;
    }
    lfr_actor actor = {by, LFR_ROLE_OFFICER};
    lfr_check_result r;
    lfr_err err = {{0}};
    lfr_status st = lfr_check_photo(ss.store, ss.fc, strtoll(dep, NULL, 10), buf, len, reason,
                                    &actor, &r, &err);
    lfr_free(buf);
    int rc = 0;
    if (st != LFR_OK) {
        rc = lfr_cli_fail("check", st, &err);
    } else if (json) {
        json_t *cands = json_array();
        for (int i = 0; i < r.n; i++)
            json_array_append_new(
                cands, json_pack("{s:I, s:s, s:s, s:s, s:f, s:f}", "entry_id",
                                 (json_int_t)r.c[i].entry_id, "subject_ref", r.c[i].entry.subject_ref,
                                 "name", r.c[i].entry.display_name, "category",
                                 lfr_watchlist_category_name(r.c[i].entry.category), "likeness",
                                 r.c[i].likeness, "cosine", r.c[i].score));
        print_json(json_pack("{s:I, s:b, s:f, s:s, s:o}", "check_id", (json_int_t)r.check_id,
                             "face_found", r.face_found, "threshold", r.threshold, "result",
                             r.n ? "match" : "no match", "candidates", cands));
    } else if (!r.face_found) {
        printf("no face found in the photo (check %lld recorded)\n", (long long)r.check_id);
    } else if (r.n == 0) {
        printf("no match (check %lld recorded; the photo was not kept)\n", (long long)r.check_id);
    } else {
        printf("%d candidate(s) at or above the deployment's threshold (check %lld recorded).\n"
               "A person must compare the images before anyone acts.\n",
               r.n, (long long)r.check_id);
        for (int i = 0; i < r.n; i++)
            printf("  entry %lld  %-12s %-24s %-20s likeness %.0f (cosine %.3f)\n",
                   (long long)r.c[i].entry_id, r.c[i].entry.subject_ref, r.c[i].entry.display_name,
                   lfr_watchlist_category_name(r.c[i].entry.category), r.c[i].likeness, r.c[i].score);
    }
    session_close(&ss);
    return rc;
}
