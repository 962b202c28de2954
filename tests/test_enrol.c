/*
 * test_enrol.c - watchlist enrolment quality control, bulk import and
 * officers' photo checks, on the real face engine and a real store.
 *
 *  - rejections, each with its reason: no face, two faces, too small,
 *    blurred, unreadable; a good single-face image is accepted;
 *  - a photo check searches only its own deployment's watchlist, needs a
 *    reason and a live deployment, keeps the photo only when it matched,
 *    and is recorded either way;
 *  - bulk import reports every row and never stops on a bad row;
 *  - no plaintext image or template bytes reach the database files.
 * Images come from the face-api demo photos that `make setup` fetches.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enrol/enrol.h"
#include "match/match.h"
#include "harness.h"

static lfr_face_engine *engine;
static lfr_face_ctx *fctx;
static char tmpdir[256];
static lfr_image photos[6];  /* the demo photos, 3-6 people each */
static lfr_image photo;      /* sample1.jpg: a group photo */
/* Near-frontal faces picked from the photos (different people). */
static lfr_face faces[8];
static int face_photo[8];
static float picked_emb[8][LFR_FACE_EMB_DIM];
static int nfaces;

static const lfr_actor creator = {"pc-1234 Smith", LFR_ROLE_OPERATOR};
static const lfr_actor authoriser = {"supt-77 Jones", LFR_ROLE_AUTHORISER};
static const lfr_actor officer = {"pc-5678 Patel", LFR_ROLE_OFFICER};

static const char *models_dir(void) {
    const char *d = getenv("OPENLFR_MODELS");
    return d && *d ? d : "models";
}

/* JPEG bytes of a loose crop around face i of the demo photo, scaled. */
static uint8_t *face_jpeg(int i, float scale, int blur, size_t *len) {
    const float *b = faces[i].box;
    lfr_image crop = {0}, out = {0};
    lfr_image_crop(&photos[face_photo[i]], (int)(b[0] - 0.6f * b[2]), (int)(b[1] - 0.6f * b[3]),
                   (int)(2.2f * b[2]), (int)(2.2f * b[3]), &crop);
    lfr_image_resize(&crop, (int)(crop.w * scale), (int)(crop.h * scale), &out);
    if (blur) { /* down 8x and back up: a badly out-of-focus photo */
        lfr_image small = {0};
        lfr_image_resize(&out, out.w / 8, out.h / 8, &small);
        lfr_image_free(&out);
        lfr_image_resize(&small, crop.w, crop.h, &out);
        lfr_image_free(&small);
    }
    uint8_t *buf = NULL;
    lfr_image_encode_jpeg(&out, 92, &buf, len);
    lfr_image_free(&crop);
    lfr_image_free(&out);
    return buf;
}

static uint8_t *whole_photo_jpeg(size_t *len) {
    uint8_t *buf = NULL;
    lfr_image_encode_jpeg(&photo, 90, &buf, len);
    return buf;
}

static lfr_store *open_store(const char *name) {
    char db[512];
    snprintf(db, sizeof db, "%s/%s", tmpdir, name);
    lfr_store_config cfg = {.db_path = db};
    lfr_store *s = NULL;
    lfr_err err = {{0}};
    if (lfr_store_open(&cfg, &s, &err) != LFR_OK) fprintf(stderr, "  store: %s\n", err.msg);
    return s;
}

static int64_t new_deployment(lfr_store *s, const char *name) {
    lfr_deploy_params p = {.name = name, .location = "High Street", .purpose = "test",
                           .legal_basis = "test", .planned_start = 1000, .planned_end = 2000000000,
                           .threshold = LFR_MATCH_DEFAULT_THRESHOLD, .cameras = "cam-1"};
    int64_t id = 0;
    lfr_err err = {{0}};
    lfr_status st = lfr_deploy_create(s, &p, &creator, &id, &err);
    if (st != LFR_OK) fprintf(stderr, "  create: %s\n", err.msg);
    return id;
}

static lfr_watchlist_entry entry(const char *ref) {
    return (lfr_watchlist_entry){.subject_ref = ref, .display_name = ref,
                                 .category = LFR_WATCHLIST_WANTED_ON_WARRANT,
                                 .reason = "warrant 123", .image_source = "custody",
                                 .image_date = "2025-01-01"};
}

static void test_rejections(void) {
    lfr_enrol_result r;
    lfr_err err = {{0}};
    size_t len;
    uint8_t *b;
    /* Good: one face, large, sharp. */
    b = face_jpeg(0, 1.0f, 0, &len);
    CHECK_STATUS(lfr_enrol_assess(fctx, b, len, NULL, &r, &err), LFR_OK);
    fprintf(stderr, "  good: %s\n", r.why);
    CHECK_EQ_INT(r.reject, LFR_ENROL_NONE);
    lfr_free(b);
    /* Two (three) faces: the whole group photo. */
    b = whole_photo_jpeg(&len);
    CHECK_STATUS(lfr_enrol_assess(fctx, b, len, NULL, &r, &err), LFR_OK);
    fprintf(stderr, "  group: %s\n", r.why);
    CHECK_EQ_INT(r.reject, LFR_ENROL_MULTIPLE_FACES);
    lfr_free(b);
    /* Tiny: the same face at 1/5 size. */
    b = face_jpeg(0, 0.2f, 0, &len);
    CHECK_STATUS(lfr_enrol_assess(fctx, b, len, NULL, &r, &err), LFR_OK);
    fprintf(stderr, "  tiny: %s\n", r.why);
    CHECK(r.reject == LFR_ENROL_TOO_SMALL || r.reject == LFR_ENROL_NO_FACE);
    lfr_free(b);
    /* Blurred. */
    b = face_jpeg(0, 1.0f, 1, &len);
    CHECK_STATUS(lfr_enrol_assess(fctx, b, len, NULL, &r, &err), LFR_OK);
    fprintf(stderr, "  blurred: %s\n", r.why);
    CHECK(r.reject == LFR_ENROL_BLURRED || r.reject == LFR_ENROL_NO_FACE);
    lfr_free(b);
    /* No face: a flat grey image. */
    lfr_image grey = {0};
    lfr_image_alloc(&grey, 400, 300);
    memset(grey.px, 128, 400 * 300 * 3);
    lfr_image_encode_png(&grey, &b, &len);
    lfr_image_free(&grey);
    CHECK_STATUS(lfr_enrol_assess(fctx, b, len, NULL, &r, &err), LFR_OK);
    CHECK_EQ_INT(r.reject, LFR_ENROL_NO_FACE);
    lfr_free(b);
    /* Unreadable. */
    static const uint8_t junk[] = "not an image at all";
    CHECK_STATUS(lfr_enrol_assess(fctx, junk, sizeof junk, NULL, &r, &err), LFR_OK);
    CHECK_EQ_INT(r.reject, LFR_ENROL_UNREADABLE);
}

static int contains(const uint8_t *hay, size_t n, const void *needle, size_t m) {
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m)) return 1;
    return 0;
}

/* Whole signatures: a 3-byte pattern such as the bare JPEG SOI (one chance
 * in 2^24 per byte position) turns up by chance in megabytes of ciphertext,
 * and did once under ASan; 8-10 bytes do not.  soi is how our encoder's
 * JPEGs start (checked below). */
static const uint8_t soi[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F'};
static const uint8_t png[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};

static void scan_files_for(const char *db, const uint8_t *jpeg_head, const float *tmpl) {
    const char *suffix[] = {"", "-wal"};
    for (int k = 0; k < 2; k++) {
        char path[600];
        snprintf(path, sizeof path, "%s%s", db, suffix[k]);
        uint8_t *buf;
        size_t n;
        if (lfr_read_file(path, 1u << 30, &buf, &n) != LFR_OK) continue;
        CHECK(!contains(buf, n, soi, sizeof soi));
        CHECK(!contains(buf, n, png, sizeof png));
        CHECK(!contains(buf, n, jpeg_head, 64));
        CHECK(!contains(buf, n, tmpl, 32)); /* eight raw floats of the template */
        lfr_free(buf);
    }
}

static void test_check_own_deployment_only(void) {
    lfr_store *s = open_store("check.db");
    CHECK(s != NULL);
    if (!s) return;
    lfr_err err = {{0}};
    int64_t da = new_deployment(s, "A"), db = new_deployment(s, "B"), ea = 0, eb = 0;
    size_t l0, l1;
    uint8_t *f0 = face_jpeg(0, 1.0f, 0, &l0), *f1 = face_jpeg(1, 1.0f, 0, &l1);
    lfr_enrol_result r;
    /* Person 0 on A's list, person 1 on B's list. */
    lfr_watchlist_entry e0 = entry("REF-0"), e1 = entry("REF-1");
    CHECK_STATUS(lfr_enrol_add(s, fctx, da, &e0, f0, l0, NULL, &creator, &ea, &r, &err), LFR_OK);
    float t0[LFR_FACE_EMB_DIM];
    memcpy(t0, r.tmpl, sizeof t0); /* wiped by enrol_add: re-assess for the scan below */
    lfr_enrol_assess(fctx, f0, l0, NULL, &r, &err);
    memcpy(t0, r.tmpl, sizeof t0);
    CHECK_STATUS(lfr_enrol_add(s, fctx, db, &e1, f1, l1, NULL, &creator, &eb, &r, &err), LFR_OK);
    /* Not live yet: refused. */
    lfr_check_result cr;
    CHECK_STATUS(lfr_check_photo(s, fctx, da, f0, l0, "stopped near scene", &officer, &cr, &err),
                 LFR_ERR_STATE);
    CHECK_STATUS(lfr_deploy_authorise(s, da, &authoriser, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_start(s, da, &authoriser, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_authorise(s, db, &authoriser, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_start(s, db, &authoriser, &err), LFR_OK);
    /* Reason is mandatory. */
    CHECK_STATUS(lfr_check_photo(s, fctx, da, f0, l0, "", &officer, &cr, &err), LFR_ERR_INVALID_ARG);
    /* Another shot of person 0 (smaller, re-encoded) against A: a match;
     * against B: nothing (B's list is person 1). */
    size_t lp;
    uint8_t *probe = face_jpeg(0, 0.7f, 0, &lp);
    CHECK_STATUS(lfr_check_photo(s, fctx, da, probe, lp, "matches description", &officer, &cr, &err), LFR_OK);
    lfr_free(probe);
    CHECK_EQ_INT(cr.n, 1);
    if (cr.n) {
        CHECK_EQ_INT(cr.c[0].entry_id, ea);
        CHECK(strcmp(cr.c[0].entry.subject_ref, "REF-0") == 0);
        fprintf(stderr, "  match: cosine %.3f likeness %.1f\n", cr.c[0].score, cr.c[0].likeness);
    }
    CHECK_STATUS(lfr_check_photo(s, fctx, db, f0, l0, "matches description", &officer, &cr, &err), LFR_OK);
    CHECK_EQ_INT(cr.n, 0);
    CHECK(cr.check_id > 0);
    /* Both checks recorded; only the matched one kept its image. */
    lfr_deploy_info ia, ib;
    CHECK_STATUS(lfr_deploy_get(s, da, &ia, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_get(s, db, &ib, &err), LFR_OK);
    CHECK_EQ_INT(ia.photo_checks, 1);
    CHECK_EQ_INT(ib.photo_checks, 1);
    char dbp[512];
    snprintf(dbp, sizeof dbp, "%s/check.db", tmpdir);
    lfr_store_close(s);
    CHECK(l0 > sizeof soi && memcmp(f0, soi, sizeof soi) == 0);
    scan_files_for(dbp, f0 + 200, t0);
    scan_files_for(dbp, f1 + 200, t0);
    lfr_free(f0);
    lfr_free(f1);
}

/* The check record as stored (newest first). */
static int last_check(lfr_store *s, int64_t d, lfr_check_info *out) {
    lfr_check_info *l = NULL;
    size_t n = 0;
    lfr_err err = {{0}};
    if (lfr_deploy_check_list(s, d, 0, 1, &l, &n, &err) != LFR_OK || n == 0) {
        lfr_free(l);
        return 0;
    }
    *out = l[0];
    lfr_free(l);
    return 1;
}

static int64_t live_deployment_with(lfr_store *s, const char *name, int person, int64_t *eid) {
    lfr_err err = {{0}};
    int64_t d = new_deployment(s, name);
    size_t l;
    uint8_t *f = face_jpeg(person, 1.0f, 0, &l);
    lfr_enrol_result r;
    lfr_watchlist_entry e = entry("REF-LIVE");
    CHECK_STATUS(lfr_enrol_add(s, fctx, d, &e, f, l, NULL, &creator, eid, &r, &err), LFR_OK);
    lfr_free(f);
    CHECK_STATUS(lfr_deploy_authorise(s, d, &authoriser, &err), LFR_OK);
    CHECK_STATUS(lfr_deploy_start(s, d, &authoriser, &err), LFR_OK);
    return d;
}

/* Every check is recorded: a photo that cannot be decoded as "unreadable",
 * one without a face as "no_face" (issue 9: an undecodable photo left no
 * record). */
static void test_check_records_every_check(void) {
    lfr_store *s = open_store("every.db");
    CHECK(s != NULL);
    if (!s) return;
    lfr_err err = {{0}};
    int64_t e0 = 0, d = live_deployment_with(s, "every", 0, &e0);
    lfr_check_result cr;
    lfr_check_info ci;
    static const uint8_t junk[] = "this is not a photo";
    CHECK(lfr_check_photo(s, fctx, d, junk, sizeof junk, "stopped at gate", &officer, &cr,
                          &err) == LFR_ERR_UNSUPPORTED);
    fprintf(stderr, "  unreadable: %s\n", err.msg);
    CHECK(cr.check_id > 0);
    CHECK_EQ_INT(cr.result, LFR_PHOTO_CHECK_UNREADABLE);
    CHECK(strstr(err.msg, "recorded") != NULL);
    CHECK(last_check(s, d, &ci) && ci.id == cr.check_id && !strcmp(ci.result, "unreadable"));
    /* A truncated JPEG too. */
    size_t l;
    uint8_t *f = face_jpeg(0, 1.0f, 0, &l);
    CHECK_STATUS(lfr_check_photo(s, fctx, d, f, l / 2, "stopped at gate", &officer, &cr, &err),
                 LFR_ERR_CORRUPT);
    CHECK(cr.check_id > 0 && last_check(s, d, &ci) && !strcmp(ci.result, "unreadable"));
    lfr_free(f);
    /* No face. */
    lfr_image grey = {0};
    lfr_image_alloc(&grey, 400, 300);
    memset(grey.px, 128, 400 * 300 * 3);
    uint8_t *g = NULL;
    lfr_image_encode_jpeg(&grey, 90, &g, &l);
    lfr_image_free(&grey);
    CHECK_STATUS(lfr_check_photo(s, fctx, d, g, l, "stopped at gate", &officer, &cr, &err),
                 LFR_OK);
    lfr_free(g);
    CHECK_EQ_INT(cr.face_found, 0);
    CHECK_EQ_INT(cr.result, LFR_PHOTO_CHECK_NO_FACE);
    CHECK(last_check(s, d, &ci) && ci.id == cr.check_id && !strcmp(ci.result, "no_face"));
    CHECK_EQ_INT(ci.device_id, 0);
    lfr_deploy_info info;
    CHECK_STATUS(lfr_deploy_get(s, d, &info, &err), LFR_OK);
    CHECK_EQ_INT(info.photo_checks, 3);
    lfr_store_close(s);
}

/* A 12 MP phone photo of person 0: a 4:3 region around the face scaled to
 * 4032x3024. */
static uint8_t *phone_photo(int i, size_t *len) {
    const float *b = faces[i].box;
    float side = b[2] > b[3] ? b[2] : b[3];
    lfr_image crop = {0}, big = {0};
    lfr_image_crop(&photos[face_photo[i]], (int)(b[0] + b[2] / 2 - 2.0f * side),
                   (int)(b[1] + b[3] / 2 - 1.5f * side), (int)(4 * side), (int)(3 * side), &crop);
    lfr_image_resize(&crop, 4032, 3024, &big);
    uint8_t *buf = NULL;
    lfr_image_encode_jpeg(&big, 90, &buf, len);
    lfr_image_free(&crop);
    lfr_image_free(&big);
    return buf;
}

/* The server's way: a snapshot it holds, the device id in the record, the
 * watchlist image id in the answer, a large photo decoded reduced. */
static void test_check_snapshot(void) {
    lfr_store *s = open_store("snap.db");
    CHECK(s != NULL);
    if (!s) return;
    lfr_err err = {{0}};
    int64_t e0 = 0, d = live_deployment_with(s, "snap", 0, &e0);
    lfr_deploy_templates t = {0};
    lfr_match_snapshot *snap = NULL;
    CHECK_STATUS(lfr_deploy_templates_load(s, d, &t, &err), LFR_OK);
    CHECK_EQ_INT(t.n, 1);
    CHECK_STATUS(lfr_match_snapshot_build(t.dim, t.n, t.data, t.entry_ids, NULL, &snap), LFR_OK);
    lfr_check_watchlist wl = {.snap = snap, .threshold = t.threshold, .image_ids = t.image_ids,
                              .n_image_ids = t.n};
    size_t l;
    uint8_t *big = phone_photo(0, &l);
    lfr_check_result cr;
    lfr_check_info ci;
    CHECK_STATUS(lfr_check_photo_snapshot(s, fctx, d, &wl, big, l, "matches description", 7,
                                          &officer, &cr, &err), LFR_OK);
    CHECK_EQ_INT(cr.decode_reduction, 2);
    CHECK_EQ_INT(cr.n, 1);
    CHECK_EQ_INT(cr.result, LFR_PHOTO_CHECK_MATCH);
    if (cr.n) {
        CHECK_EQ_INT(cr.c[0].entry_id, e0);
        CHECK_EQ_INT(cr.c[0].image_id, t.image_ids[0]);
        CHECK(!strcmp(cr.c[0].entry.subject_ref, "REF-LIVE"));
        fprintf(stderr, "  12 MP photo, decoded at 1/%d: cosine %.3f\n", cr.decode_reduction,
                cr.c[0].score);
    }
    CHECK(last_check(s, d, &ci) && ci.id == cr.check_id && !strcmp(ci.result, "match"));
    CHECK_EQ_INT(ci.device_id, 7);
    /* The old entry point on the same photo agrees (and records device 0). */
    lfr_check_result cr2;
    CHECK_STATUS(lfr_check_photo(s, fctx, d, big, l, "matches description", &officer, &cr2, &err),
                 LFR_OK);
    CHECK_EQ_INT(cr2.n, 1);
    CHECK(cr2.n && fabsf(cr2.c[0].score - cr.c[0].score) < 1e-5f);
    CHECK(cr2.n && cr2.c[0].image_id == t.image_ids[0]);
    CHECK(last_check(s, d, &ci) && ci.device_id == 0);
    lfr_free(big);
    /* Someone else against it: no match, recorded, photo not kept. */
    uint8_t *other = face_jpeg(1, 1.0f, 0, &l);
    CHECK_STATUS(lfr_check_photo_snapshot(s, fctx, d, &wl, other, l, "matches description", 7,
                                          &officer, &cr, &err), LFR_OK);
    CHECK_EQ_INT(cr.n, 0);
    CHECK_EQ_INT(cr.result, LFR_PHOTO_CHECK_NO_MATCH);
    CHECK(last_check(s, d, &ci) && !strcmp(ci.result, "no_match"));
    /* An empty watchlist (no snapshot): no match. */
    lfr_check_watchlist empty = {.threshold = t.threshold};
    CHECK_STATUS(lfr_check_photo_snapshot(s, fctx, d, &empty, other, l, "matches description", 7,
                                          &officer, &cr, &err), LFR_OK);
    CHECK_EQ_INT(cr.n, 0);
    /* Bad arguments, nothing recorded. */
    lfr_check_watchlist bad = wl;
    bad.threshold = 0.0f;
    CHECK_STATUS(lfr_check_photo_snapshot(s, fctx, d, &bad, other, l, "x", 7, &officer, &cr, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_check_photo_snapshot(s, fctx, d, &wl, other, l, "x", -1, &officer, &cr, &err),
                 LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_check_photo_snapshot(s, fctx, d, &wl, other, l, "", 7, &officer, &cr, &err),
                 LFR_ERR_INVALID_ARG);
    lfr_deploy_info info;
    CHECK_STATUS(lfr_deploy_get(s, d, &info, &err), LFR_OK);
    CHECK_EQ_INT(info.photo_checks, 4);
    lfr_free(other);
    lfr_match_snapshot_unref(snap);
    lfr_deploy_templates_free(&t);
    lfr_store_close(s);
}

static int rows_ok, rows_bad;
static void on_row(void *ctx, int line, const char *file, lfr_status st, const char *msg,
                   int64_t id) {
    (void)ctx;
    (void)id;
    fprintf(stderr, "  line %d %s: %s %s\n", line, file, lfr_status_str(st), msg);
    if (st == LFR_OK) rows_ok++;
    else rows_bad++;
}

static void test_import(void) {
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/import", tmpdir);
    if (mkdir(dir, 0700) != 0 && access(dir, F_OK) != 0) {
        CHECK(0);
        return;
    }
    for (int i = 0; i < 3; i++) {
        size_t len;
        uint8_t *b = face_jpeg(i, 1.0f, 0, &len);
        snprintf(path, sizeof path, "%s/p%d.jpg", dir, i);
        FILE *f = fopen(path, "wb");
        fwrite(b, 1, len, f);
        fclose(f);
        lfr_free(b);
    }
    size_t len;
    uint8_t *g = whole_photo_jpeg(&len);
    snprintf(path, sizeof path, "%s/group.jpg", dir);
    FILE *f = fopen(path, "wb");
    fwrite(g, 1, len, f);
    fclose(f);
    lfr_free(g);
    snprintf(path, sizeof path, "%s/manifest.csv", dir);
    f = fopen(path, "w");
    fprintf(f, "subject_ref,display_name,file,category,reason,image_source,image_date,under_18,under_18_justification\n"
               "R1,\"Doe, John\",p0.jpg,wanted_on_warrant,warrant 1,custody,2024-01-01,,\n"
               "R2,Jane Roe,p1.jpg,missing,reported missing,family,2024-02-01,yes,missing child at risk\n"
               "R3,Group,group.jpg,wanted_for_offence,burglary,custody,2024-03-01,,\n"
               "R4,Nobody,absent.jpg,missing,x,family,2024-01-01,,\n"
               "R5,Bad cat,p2.jpg,jaywalking,x,custody,2024-01-01,,\n"
               "R6,Kid,p2.jpg,missing,x,family,2024-01-01,yes,\n"
               "R7,Escape,../p2.jpg,missing,x,family,2024-01-01,,\n"
               "R8,Third,p2.jpg,vulnerable,welfare concern,family,2024-04-01,,\n");
    fclose(f);
    lfr_store *s = open_store("import.db");
    CHECK(s != NULL);
    if (!s) return;
    int64_t d = new_deployment(s, "import");
    int added = 0, rejected = 0;
    lfr_err err = {{0}};
    rows_ok = rows_bad = 0;
    CHECK_STATUS(lfr_enrol_import(s, fctx, d, dir, path, NULL, &creator, on_row, NULL, &added,
                                  &rejected, &err), LFR_OK);
    CHECK_EQ_INT(added, 3);     /* R1, R2, R8 */
    CHECK_EQ_INT(rejected, 5);  /* group photo, missing file, category, no justification, path */
    CHECK_EQ_INT(rows_ok, added);
    CHECK_EQ_INT(rows_bad, rejected);
    lfr_deploy_info info;
    CHECK_STATUS(lfr_deploy_get(s, d, &info, &err), LFR_OK);
    CHECK_EQ_INT(info.entries, 3);
    lfr_store_close(s);
}

/* Per-line outcomes of an import. */
typedef struct rows_seen {
    lfr_status st[64];
    char msg[64][256];
    int seen[64];
} rows_seen;

static void on_row_keep(void *ctx, int line, const char *file, lfr_status st, const char *msg,
                        int64_t id) {
    rows_seen *r = ctx;
    (void)id;
    fprintf(stderr, "  line %d '%s': %s %s\n", line, file, lfr_status_str(st), msg);
    if (line < 0 || line >= 64) return;
    r->st[line] = st;
    snprintf(r->msg[line], sizeof r->msg[line], "%s", msg);
    r->seen[line]++;
}

static void write_bytes(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(b, 1, n, f) == n);
    fclose(f);
}

static void write_face(const char *path, int i) {
    size_t len;
    uint8_t *b = face_jpeg(i, 1.0f, 0, &len);
    write_bytes(path, b, len);
    lfr_free(b);
}

/* Issue 9's bulk import findings, each a row of one manifest: the rows
 * after a bad row are imported as usual, and a second run adds nothing. */
static void test_import_fixes(void) {
    char dir[512], out[512], path[700], man[700];
    snprintf(dir, sizeof dir, "%s/fixes", tmpdir);
    snprintf(out, sizeof out, "%s/outside", tmpdir);
    CHECK(mkdir(dir, 0700) == 0 && mkdir(out, 0700) == 0);
    snprintf(path, sizeof path, "%s/John..Smith.jpg", dir);
    write_face(path, 0);
    snprintf(path, sizeof path, "%s/p1.jpg", dir);
    write_face(path, 1);
    snprintf(path, sizeof path, "%s/p2.jpg", dir);
    write_face(path, 2);
    snprintf(path, sizeof path, "%s/secret.jpg", out); /* a file outside the folder */
    write_face(path, 2);
    char target[700];
    snprintf(target, sizeof target, "%s/secret.jpg", out);
    snprintf(path, sizeof path, "%s/link.jpg", dir);
    CHECK(symlink(target, path) == 0);
    snprintf(path, sizeof path, "%s/sub", dir);
    CHECK(symlink(out, path) == 0);
    snprintf(path, sizeof path, "%s/adir.jpg", dir);
    CHECK(mkdir(path, 0700) == 0);
    snprintf(path, sizeof path, "%s/fifo.jpg", dir);
    CHECK(mkfifo(path, 0600) == 0);
    /* BOM, spaces around header names; line numbers in comments. */
    static const char m[] =
        "\xEF\xBB\xBF file , subject_ref ,display_name, category ,reason,image_source,image_date,"
        "under_18\r\n"                                                               /* 1 */
        "John..Smith.jpg,F1,John Smith,wanted_on_warrant,warrant 1,custody,2024-01-01,\r\n" /* 2 */
        "p1.jpg,F2,Nul Row,missing,x\0,family,2024-01-01,\n"                          /* 3 */
        "p1.jpg,F3,After Nul,missing,reported missing,family,2024-02-01,no\n"         /* 4 */
        "p1.jpg,F4,Extra,missing,x,family,2024-01-01,,surplus\n"                      /* 5 */
        "link.jpg,F5,Link,missing,x,family,2024-01-01,\n"                             /* 6 */
        "sub/secret.jpg,F6,Via dir link,missing,x,family,2024-01-01,\n"               /* 7 */
        "adir.jpg,F7,Folder,missing,x,family,2024-01-01,\n"                           /* 8 */
        "fifo.jpg,F8,Fifo,missing,x,family,2024-01-01,\n"                             /* 9 */
        "../outside/secret.jpg,F9,Up,missing,x,family,2024-01-01,\n"                  /* 10 */
        "p2.jpg,F10,Maybe,missing,x,family,2024-01-01,maybe\n"                        /* 11 */
        "\"p2.jpg\"x,F11,Quote,missing,x,family,2024-01-01,\n"                        /* 12 */
        "./p2.jpg,F12,Last,vulnerable,welfare concern,family,2024-04-01,\n";          /* 13 */
    snprintf(man, sizeof man, "%s/manifest.csv", tmpdir);
    write_bytes(man, m, sizeof m - 1);
    lfr_store *s = open_store("fixes.db");
    CHECK(s != NULL);
    if (!s) return;
    int64_t d = new_deployment(s, "fixes");
    int added = 0, rejected = 0;
    lfr_err err = {{0}};
    rows_seen *r = calloc(1, sizeof *r);
    alarm(120); /* a FIFO that blocks the import fails the test instead of hanging it */
    CHECK_STATUS(lfr_enrol_import(s, fctx, d, dir, man, NULL, &creator, on_row_keep, r, &added,
                                  &rejected, &err), LFR_OK);
    alarm(0);
    CHECK_EQ_INT(added, 3); /* lines 2, 4, 13 */
    CHECK_EQ_INT(rejected, 9);
    CHECK_STATUS(r->st[2], LFR_OK);  /* BOM + spaced header; "John..Smith.jpg" */
    CHECK_STATUS(r->st[3], LFR_ERR_INVALID_ARG);
    CHECK(strstr(r->msg[3], "NUL") != NULL);
    CHECK_EQ_INT(r->seen[4], 1);     /* the row after the NUL is not lost */
    CHECK_STATUS(r->st[4], LFR_OK);
    CHECK_STATUS(r->st[5], LFR_ERR_INVALID_ARG);
    CHECK(strstr(r->msg[5], "9 fields but the header names 8") != NULL);
    CHECK_STATUS(r->st[6], LFR_ERR_INVALID_ARG);
    CHECK(strstr(r->msg[6], "symbolic link") != NULL);
    CHECK_STATUS(r->st[7], LFR_ERR_INVALID_ARG);
    CHECK(strstr(r->msg[7], "symbolic link") != NULL);
    CHECK_STATUS(r->st[8], LFR_ERR_INVALID_ARG);
    CHECK(strstr(r->msg[8], "is a directory") != NULL);
    CHECK_STATUS(r->st[9], LFR_ERR_INVALID_ARG);
    CHECK(strstr(r->msg[9], "not a regular file") != NULL);
    CHECK_STATUS(r->st[10], LFR_ERR_INVALID_ARG);
    CHECK(strstr(r->msg[10], "..") != NULL);
    CHECK_STATUS(r->st[11], LFR_ERR_INVALID_ARG);
    CHECK(strstr(r->msg[11], "under_18") != NULL);
    CHECK_STATUS(r->st[12], LFR_ERR_INVALID_ARG);
    CHECK_STATUS(r->st[13], LFR_OK);
    lfr_deploy_info info;
    CHECK_STATUS(lfr_deploy_get(s, d, &info, &err), LFR_OK);
    CHECK_EQ_INT(info.entries, 3);
    /* The same manifest again (as after an interrupted import): nothing
     * added, each imported row "already on the list". */
    memset(r, 0, sizeof *r);
    CHECK_STATUS(lfr_enrol_import(s, fctx, d, dir, man, NULL, &creator, on_row_keep, r, &added,
                                  &rejected, &err), LFR_OK);
    CHECK_EQ_INT(added, 0);
    CHECK_EQ_INT(rejected, 12);
    int lines[] = {2, 4, 13};
    for (int i = 0; i < 3; i++) {
        CHECK_STATUS(r->st[lines[i]], LFR_ERR_EXISTS);
        CHECK(strstr(r->msg[lines[i]], "already on the list") != NULL);
    }
    CHECK_STATUS(lfr_deploy_get(s, d, &info, &err), LFR_OK);
    CHECK_EQ_INT(info.entries, 3);
    /* Header errors refuse the whole manifest. */
    static const char *const bad_headers[] = {
        "file,subject_ref,display_name,category,reason,image_source,image_date,under18\n",
        "file,file,subject_ref,display_name,category,reason,image_source,image_date\n",
        "file,subject_ref,display_name,category,reason,image_source\n",
        "\"file,subject_ref\n",
    };
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        write_bytes(man, bad_headers[i], strlen(bad_headers[i]));
        err.msg[0] = 0;
        CHECK_STATUS(lfr_enrol_import(s, fctx, d, dir, man, NULL, &creator, NULL, NULL, &added,
                                      &rejected, &err), LFR_ERR_CORRUPT);
        fprintf(stderr, "  header %zu: %s\n", i, err.msg);
        CHECK(err.msg[0] != 0);
    }
    /* A manifest or folder that is not one. */
    CHECK_STATUS(lfr_enrol_import(s, fctx, d, dir, dir, NULL, &creator, NULL, NULL, &added,
                                  &rejected, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "is a directory") != NULL);
    CHECK_STATUS(lfr_enrol_import(s, fctx, d, man, man, NULL, &creator, NULL, NULL, &added,
                                  &rejected, &err), LFR_ERR_INVALID_ARG);
    free(r);
    lfr_store_close(s);
}

int main(void) {
    lfr_err err = {{0}};
    char path[4096];
    snprintf(path, sizeof path, "%s/photos/sample1.jpg", models_dir());
    if (lfr_face_engine_load(models_dir(), &engine, &err) != LFR_OK ||
        lfr_face_ctx_new(engine, &fctx) != LFR_OK || lfr_image_load(path, &photo, &err) != LFR_OK) {
        fprintf(stderr, "cannot load models or %s: %s (run `make setup`)\n", path, err.msg);
        printf("enrol: 0 passed, 1 failed\n");
        return 1;
    }
    for (int p = 0; p < 6; p++) {
        snprintf(path, sizeof path, "%s/photos/sample%d.jpg", models_dir(), p + 1);
        if (lfr_image_load(path, &photos[p], &err) != LFR_OK) continue;
        lfr_face *fs;
        int n = 0;
        lfr_face_detect(fctx, &photos[p], NULL, &fs, &n, &err);
        lfr_face cand[16];
        int nc = n < 16 ? n : 16;
        memcpy(cand, fs, sizeof(lfr_face) * (size_t)nc);
        for (int i = 0; i < nc && nfaces < 8; i++) {
            if (fabsf(cand[i].q.roll) > 12 || fabsf(cand[i].q.yaw) > 15 || cand[i].q.eye_dist < 60)
                continue;
            /* Different people only: the stock photos reuse models, so a
             * face too like one already picked (cosine >= 0.3) is skipped. */
            float e[LFR_FACE_EMB_DIM];
            if (lfr_face_embed(fctx, &photos[p], &cand[i], 1, e, &err) != LFR_OK) continue;
            int distinct = 1;
            for (int k = 0; k < nfaces; k++)
                if (lfr_face_similarity(e, picked_emb[k]) >= 0.3f) distinct = 0;
            if (!distinct) continue;
            memcpy(picked_emb[nfaces], e, sizeof e);
            face_photo[nfaces] = p;
            faces[nfaces++] = cand[i];
        }
    }
    fprintf(stderr, "%d near-frontal faces in the demo photos\n", nfaces);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/openlfr-enrol-XXXXXX");
    if (nfaces < 3 || !mkdtemp(tmpdir)) {
        fprintf(stderr, "need 3 near-frontal faces of different people, found %d\n", nfaces);
        printf("enrol: 0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_rejections);
    RUN(test_check_own_deployment_only);
    RUN(test_import);
    RUN(test_check_records_every_check);
    RUN(test_check_snapshot);
    RUN(test_import_fixes);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    lfr_image_free(&photo);
    for (int p = 0; p < 6; p++) lfr_image_free(&photos[p]);
    lfr_face_ctx_destroy(fctx);
    lfr_face_engine_destroy(engine);
    return harness_done("enrol");
}
