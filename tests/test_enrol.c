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
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    lfr_image_free(&photo);
    for (int p = 0; p < 6; p++) lfr_image_free(&photos[p]);
    lfr_face_ctx_destroy(fctx);
    lfr_face_engine_destroy(engine);
    return harness_done("enrol");
}
