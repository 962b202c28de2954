/*
 * enrol.c - enrolment quality control, bulk import, photo checks.
 * See enrol.h.
 */
#include "enrol.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "match/match.h"

const lfr_enrol_params lfr_enrol_params_default = {
    .min_eye_dist = 40.0f,
    .min_sharpness = 60.0f,
    .max_yaw = 30.0f,
    .max_roll = 25.0f,
    .second_face_ratio = 0.5f,
};

static const char *const reject_names[LFR_ENROL_REJECT_COUNT] = {
#define LFR_ENROL_REJECT_NAME(id, msg) [LFR_ENROL_##id] = #id,
    LFR_ENROL_REJECT_LIST(LFR_ENROL_REJECT_NAME)
#undef LFR_ENROL_REJECT_NAME
};

const char *lfr_enrol_reject_name(lfr_enrol_reject r) {
    return (unsigned)r < LFR_ENROL_REJECT_COUNT ? reject_names[r] : "UNKNOWN";
}

static void reject(lfr_enrol_result *r, lfr_enrol_reject why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reject(lfr_enrol_result *r, lfr_enrol_reject why, const char *fmt, ...) {
    r->reject = why;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

lfr_status lfr_enrol_assess(lfr_face_ctx *fc, const uint8_t *image, size_t len,
                            const lfr_enrol_params *p, lfr_enrol_result *r, lfr_err *err) {
    if (!p) p = &lfr_enrol_params_default;
    memset(r, 0, sizeof *r);
    lfr_image im = {0};
    lfr_err derr = {{0}};
    lfr_status st = lfr_image_decode(image, len, &im, &derr);
    if (st == LFR_ERR_NOMEM) return lfr_err_set(err, st, "out of memory decoding the image");
    if (st != LFR_OK) {
        reject(r, LFR_ENROL_UNREADABLE, "image cannot be read: %s%s%s", lfr_status_message(st),
               derr.msg[0] ? ": " : "", derr.msg);
        return LFR_OK;
    }
    lfr_face *faces;
    int n = 0;
    lfr_face_params fp = lfr_face_params_default;
    fp.min_face = 12; /* see every face, so that a second one is noticed */
    st = lfr_face_detect(fc, &im, &fp, &faces, &n, err);
    if (st != LFR_OK) goto done;
    if (n == 0) {
        reject(r, LFR_ENROL_NO_FACE, "no face found in the %dx%d image", im.w, im.h);
        goto done;
    }
    r->face = faces[0]; /* largest */
    float side0 = fmaxf(faces[0].box[2], faces[0].box[3]);
    for (int i = 1; i < n; i++) {
        float side = fmaxf(faces[i].box[2], faces[i].box[3]);
        if (side >= p->second_face_ratio * side0) {
            reject(r, LFR_ENROL_MULTIPLE_FACES,
                   "%d faces found; a watchlist image must show exactly one person "
                   "(second face %.0f px, first %.0f px)", n, side, side0);
            goto done;
        }
    }
    const lfr_face *f = &faces[0];
    if (f->q.eye_dist < p->min_eye_dist) {
        reject(r, LFR_ENROL_TOO_SMALL, "face too small: %.0f px between the eyes, at least %.0f needed",
               f->q.eye_dist, p->min_eye_dist);
        goto done;
    }
    if (fabsf(f->q.yaw) > p->max_yaw || fabsf(f->q.roll) > p->max_roll) {
        reject(r, LFR_ENROL_POSE, "face not frontal enough: yaw %.0f deg (max %.0f), roll %.0f deg (max %.0f)",
               f->q.yaw, p->max_yaw, f->q.roll, p->max_roll);
        goto done;
    }
    st = lfr_face_embed(fc, &im, &faces[0], 1, r->tmpl, err);
    if (st != LFR_OK) goto done;
    r->face = faces[0]; /* now with sharpness */
    if (faces[0].q.sharpness < p->min_sharpness) {
        reject(r, LFR_ENROL_BLURRED, "face not sharp enough: sharpness %.0f, at least %.0f needed",
               faces[0].q.sharpness, p->min_sharpness);
        memset(r->tmpl, 0, sizeof r->tmpl);
        goto done;
    }
    r->reject = LFR_ENROL_NONE;
    snprintf(r->why, sizeof r->why, "accepted: %.0f px between the eyes, sharpness %.0f, yaw %.0f, roll %.0f",
             f->q.eye_dist, faces[0].q.sharpness, f->q.yaw, f->q.roll);
done:
    lfr_image_free(&im);
    return st;
}

lfr_status lfr_enrol_add(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                         const lfr_watchlist_entry *e, const uint8_t *image, size_t len,
                         const lfr_enrol_params *p, const lfr_actor *by, int64_t *entry_id,
                         lfr_enrol_result *r, lfr_err *err) {
    lfr_status st = lfr_enrol_assess(fc, image, len, p, r, err);
    if (st != LFR_OK) return st;
    if (r->reject != LFR_ENROL_NONE) return lfr_err_set(err, LFR_ERR_QUALITY, "%s", r->why);
    st = lfr_deploy_entry_add(s, deployment_id, e, image, len, r->tmpl, LFR_FACE_EMB_DIM, by,
                              entry_id, err);
    memset(r->tmpl, 0, sizeof r->tmpl);
    return st;
}

/* Bulk import: the manifest ------------------------------------------------ */

#define CSV_MAX_FIELDS 32

/* Splits one CSV record (RFC 4180 quoting; no embedded newlines) in place.
 * Returns the number of fields (all of them counted, the first `max`
 * stored), or -1 with *why set for a quote that is not closed or text after
 * a closing quote. */
static int csv_split(char *line, char **f, int max, const char **why) {
    int n = 0;
    char *p = line;
    for (;;) {
        char *start = p, *out;
        if (*p == '"') {
            start = out = ++p;
            for (;;) {
                if (*p == 0) {
                    *why = "a quoted value is not closed";
                    return -1;
                }
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *out++ = *p++;
                }
            }
            if (*p && *p != ',') {
                *why = "text after the closing quote of a value";
                return -1;
            }
        } else {
            while (*p && *p != ',') p++;
            out = p;
        }
        char sep = *p;
        *out = 0;
        if (n < max) f[n] = start;
        n++;
        if (sep != ',') return n;
        p++;
    }
}

static char *trim(char *t) {
    while (*t == ' ' || *t == '\t') t++;
    size_t n = strlen(t);
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\t')) t[--n] = 0;
    return t;
}

/* The manifest's columns: name, required. */
#define MANIFEST_COLS(X)                                                       \
    X(FILE, "file", 1)                                                         \
    X(REF, "subject_ref", 1)                                                   \
    X(NAME, "display_name", 1)                                                 \
    X(CAT, "category", 1)                                                      \
    X(REASON, "reason", 1)                                                     \
    X(SRC, "image_source", 1)                                                  \
    X(DATE, "image_date", 1)                                                   \
    X(OTHER, "category_other", 0)                                              \
    X(U18, "under_18", 0)                                                      \
    X(U18_WHY, "under_18_justification", 0)

enum {
#define MC_ENUM(id, name, req) COL_##id,
    MANIFEST_COLS(MC_ENUM)
#undef MC_ENUM
    N_COLS
};

static const struct {
    const char *name;
    int required;
} manifest_cols[N_COLS] = {
#define MC_ROW(id, name, req) [COL_##id] = {name, req},
    MANIFEST_COLS(MC_ROW)
#undef MC_ROW
};

/* Maps header fields to columns.  Every name must be a known column, once
 * (a misspelt "under18" would otherwise be ignored and a child enrolled
 * as an adult). */
static lfr_status manifest_header(char *line, int col[N_COLS], int *n_fields, lfr_err *err) {
    for (int k = 0; k < N_COLS; k++) col[k] = -1;
    char *h[CSV_MAX_FIELDS];
    const char *why = NULL;
    int nh = csv_split(line, h, CSV_MAX_FIELDS, &why);
    if (nh < 0) return lfr_err_set(err, LFR_ERR_CORRUPT, "manifest header: %s", why);
    if (nh > N_COLS)
        return lfr_err_set(err, LFR_ERR_CORRUPT,
                           "manifest header has %d columns; there are only %d kinds", nh, N_COLS);
    for (int i = 0; i < nh; i++) {
        const char *name = trim(h[i]);
        if (!name[0]) continue; /* an empty column (a spreadsheet's trailing comma) */
        int k = 0;
        while (k < N_COLS && strcmp(name, manifest_cols[k].name)) k++;
        if (k == N_COLS)
            return lfr_err_set(err, LFR_ERR_CORRUPT,
                               "manifest header: unknown column '%.64s' (column %d); the columns "
                               "are file, subject_ref, display_name, category, reason, "
                               "image_source, image_date, category_other, under_18, "
                               "under_18_justification", name, i + 1);
        if (col[k] >= 0)
            return lfr_err_set(err, LFR_ERR_CORRUPT, "manifest header names '%s' twice",
                               manifest_cols[k].name);
        col[k] = i;
    }
    for (int k = 0; k < N_COLS; k++)
        if (manifest_cols[k].required && col[k] < 0)
            return lfr_err_set(err, LFR_ERR_CORRUPT, "manifest header has no '%s' column",
                               manifest_cols[k].name);
    *n_fields = nh;
    return LFR_OK;
}

/* under_18: empty, 0/no/false, or 1/yes/true (any case); anything else is
 * refused rather than read as "adult". */
static int parse_yes_no(const char *v, int *out) {
    static const char *const no[] = {"", "0", "no", "false", "n"};
    static const char *const yes[] = {"1", "yes", "true", "y"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (!strcasecmp(v, no[i])) return *out = 0, 0;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!strcasecmp(v, yes[i])) return *out = 1, 0;
    return -1;
}

/* Reads the row's image file `rel` inside the folder `dfd` without ever
 * leaving it: each component is opened with O_NOFOLLOW relative to the one
 * before (a symbolic link is refused wherever it points: one could lead
 * outside the folder), ".." and absolute names are refused, and the file
 * is opened O_NONBLOCK and must be a regular file (a FIFO would otherwise
 * hang the import, a directory fail obscurely). */
static lfr_status read_in_dir(int dfd, const char *dir, const char *rel, uint8_t **data,
                              size_t *len, lfr_err *err) {
    *data = NULL;
    *len = 0;
    if (!rel[0]) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "the file name is empty");
    if (rel[0] == '/')
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "file '%s' is an absolute path; give it relative to the folder %s",
                           rel, dir);
    char path[4096];
    if (strlen(rel) >= sizeof path)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "file name is too long");
    strcpy(path, rel);
    char *comp[LFR_MAX_MANIFEST_PATH_DEPTH];
    int nc = 0;
    for (char *save = NULL, *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (!strcmp(c, ".")) continue;
        if (!strcmp(c, ".."))
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "file '%s' goes up with '..'; it must be inside the folder", rel);
        if (nc == LFR_MAX_MANIFEST_PATH_DEPTH)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "file '%s' is more than %d folders deep", rel,
                               LFR_MAX_MANIFEST_PATH_DEPTH);
        comp[nc++] = c;
    }
    if (nc == 0) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "file '%s' names no file", rel);
    int fd = dfd;
    lfr_status st = LFR_OK;
    for (int i = 0; i < nc && st == LFR_OK; i++) {
        int last = i == nc - 1;
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
                    (last ? O_NONBLOCK : O_DIRECTORY);
        int next = openat(fd, comp[i], flags);
        int e = errno;
        struct stat lb; /* a link to a folder gives ENOTDIR: say what it is */
        if (next < 0 && (e == ELOOP || e == ENOTDIR) &&
            fstatat(fd, comp[i], &lb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lb.st_mode))
            e = ELOOP;
        if (fd != dfd) close(fd);
        fd = -1;
        if (next >= 0) {
            fd = next;
            continue;
        }
        if (e == ENOENT)
            st = lfr_err_set(err, LFR_ERR_NOT_FOUND, "no file '%s' in the folder %s", rel, dir);
        else if (e == ELOOP)
            st = lfr_err_set(err, LFR_ERR_INVALID_ARG,
                             "'%s' in '%s' is a symbolic link; links are not followed (one could "
                             "lead outside the folder)", comp[i], rel);
        else if (e == ENOTDIR)
            st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "'%s' in '%s' is not a folder", comp[i],
                             rel);
        else
            st = lfr_err_set(err, LFR_ERR_IO, "cannot open '%s': %s", rel, strerror(e));
    }
    if (st != LFR_OK) return st;
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        st = lfr_err_set(err, LFR_ERR_IO, "cannot examine '%s': %s", rel, strerror(errno));
    else if (S_ISDIR(sb.st_mode))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "'%s' is a directory, not an image file", rel);
    else if (!S_ISREG(sb.st_mode))
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG,
                         "'%s' is not a regular file (a FIFO, socket or device)", rel);
    else if ((uint64_t)sb.st_size > LFR_MAX_IMAGE_BYTES)
        st = lfr_err_set(err, LFR_ERR_TOO_LARGE, "'%s' is %lld bytes, over the limit of %u", rel,
                         (long long)sb.st_size, LFR_MAX_IMAGE_BYTES);
    size_t n = st == LFR_OK ? (size_t)sb.st_size : 0, got = 0;
    uint8_t *buf = st == LFR_OK ? lfr_malloc(n + 1) : NULL;
    if (st == LFR_OK && !buf) st = lfr_err_set(err, LFR_ERR_NOMEM, "no memory for '%s'", rel);
    while (st == LFR_OK && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            st = lfr_err_set(err, LFR_ERR_IO, "cannot read '%s': %s", rel,
                             r < 0 ? strerror(errno) : "the file shrank while being read");
        else
            got += (size_t)r;
    }
    close(fd);
    if (st != LFR_OK) {
        lfr_free(buf);
        return st;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return LFR_OK;
}

/* One data row: parse, read the image, assess, add.  Returns the row's
 * outcome; *fatal is set for a failure of the system (not of the row). */
static lfr_status import_row(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id, int dfd,
                             const char *dir, char *line, size_t ll, const int col[N_COLS],
                             int n_header, const lfr_enrol_params *p, const lfr_actor *by,
                             const char **file, int64_t *id, int *fatal, lfr_err *rerr) {
    *file = "";
    const char *nul = memchr(line, 0, ll);
    if (nul)
        return lfr_err_set(rerr, LFR_ERR_INVALID_ARG,
                           "the row contains a NUL byte (at byte %zu); a manifest is text",
                           (size_t)(nul - line) + 1);
    char *f[CSV_MAX_FIELDS];
    const char *why = NULL;
    int nf = csv_split(line, f, CSV_MAX_FIELDS, &why);
    if (nf < 0) return lfr_err_set(rerr, LFR_ERR_INVALID_ARG, "the row is not valid CSV: %s", why);
    if (col[COL_FILE] < nf) *file = f[col[COL_FILE]];
    if (nf > n_header)
        return lfr_err_set(rerr, LFR_ERR_INVALID_ARG,
                           "the row has %d fields but the header names %d columns; a value "
                           "containing a comma must be in double quotes", nf, n_header);
    const char *v[N_COLS];
    for (int k = 0; k < N_COLS; k++) v[k] = (col[k] >= 0 && col[k] < nf) ? f[col[k]] : "";
    int u18 = 0;
    if (parse_yes_no(v[COL_U18], &u18))
        return lfr_err_set(rerr, LFR_ERR_INVALID_ARG,
                           "under_18 is '%.32s'; write yes or no (or 1/0, or leave it empty for no)",
                           v[COL_U18]);
    lfr_watchlist_entry e = {
        .subject_ref = v[COL_REF], .display_name = v[COL_NAME], .reason = v[COL_REASON],
        .image_source = v[COL_SRC], .image_date = v[COL_DATE],
        .category_other = v[COL_OTHER][0] ? v[COL_OTHER] : NULL,
        .under_18 = u18,
        .under_18_justification = v[COL_U18_WHY][0] ? v[COL_U18_WHY] : NULL};
    lfr_status st = lfr_watchlist_category_parse(v[COL_CAT], &e.category);
    if (st != LFR_OK) return lfr_err_set(rerr, st, "unknown category '%.64s'", v[COL_CAT]);
    uint8_t *img = NULL;
    size_t len = 0;
    st = read_in_dir(dfd, dir, v[COL_FILE], &img, &len, rerr);
    if (st == LFR_ERR_NOMEM) *fatal = 1;
    if (st != LFR_OK) return st;
    lfr_enrol_result r;
    st = lfr_enrol_add(s, fc, deployment_id, &e, img, len, p, by, id, &r, rerr);
    lfr_free(img);
    if (st == LFR_ERR_EXISTS)
        lfr_err_set(rerr, st, "already on the list: subject_ref '%.64s' is on this deployment's "
                              "watchlist; not added again", v[COL_REF]);
    /* A failure of the system (not of the row) stops the import. */
    if (st == LFR_ERR_NOMEM || st == LFR_ERR_IO || st == LFR_ERR_BAD_MODEL ||
        st == LFR_ERR_INTERNAL || st == LFR_ERR_BUSY)
        *fatal = 1;
    return st;
}

lfr_status lfr_enrol_import(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                            const char *dir, const char *manifest, const lfr_enrol_params *p,
                            const lfr_actor *by, lfr_enrol_row_fn fn, void *fn_ctx,
                            int *added, int *rejected, lfr_err *err) {
    *added = *rejected = 0;
    uint8_t *data = NULL;
    size_t size = 0;
    lfr_err ferr = {{0}};
    lfr_status st = lfr_read_file_err(manifest, LFR_MAX_MANIFEST_BYTES, &data, &size, &ferr);
    if (st != LFR_OK) return lfr_err_set(err, st, "manifest: %s", ferr.msg);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        int e = errno;
        lfr_free(data);
        return lfr_err_set(err, e == ENOENT ? LFR_ERR_NOT_FOUND : LFR_ERR_INVALID_ARG,
                           "image folder %s: %s", dir, strerror(e));
    }
    char *text = (char *)data, *end = text + size;
    if (size >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) text += 3; /* UTF-8 BOM */
    char line[LFR_MAX_MANIFEST_LINE + 1];
    int col[N_COLS], n_header = 0, lineno = 0, header_done = 0;
    lfr_status fatal = LFR_OK;
    for (char *pos = text; fatal == LFR_OK && pos < end;) {
        char *nl = memchr(pos, '\n', (size_t)(end - pos));
        size_t ll = (size_t)((nl ? nl : end) - pos);
        char *row = pos;
        pos = nl ? nl + 1 : end;
        lineno++;
        if (ll && row[ll - 1] == '\r') ll--;
        if (!header_done) {
            if (ll > LFR_MAX_MANIFEST_LINE || memchr(row, 0, ll)) {
                st = lfr_err_set(err, LFR_ERR_CORRUPT, "manifest header is not a line of text");
                break;
            }
            memcpy(line, row, ll);
            line[ll] = 0;
            st = manifest_header(line, col, &n_header, err);
            if (st != LFR_OK) break;
            header_done = 1;
            continue;
        }
        if (ll == 0) continue;
        lfr_err rerr = {{0}};
        const char *file = "";
        int64_t id = 0;
        int is_fatal = 0;
        lfr_status rs;
        if (ll > LFR_MAX_MANIFEST_LINE) {
            rs = lfr_err_set(&rerr, LFR_ERR_TOO_LARGE, "the row is longer than %d bytes",
                             LFR_MAX_MANIFEST_LINE);
        } else {
            memcpy(line, row, ll);
            line[ll] = 0;
            rs = import_row(s, fc, deployment_id, dfd, dir, line, ll, col, n_header, p, by, &file,
                            &id, &is_fatal, &rerr);
        }
        if (rs == LFR_OK) (*added)++;
        else (*rejected)++;
        if (fn) fn(fn_ctx, lineno, file, rs, rs == LFR_OK ? "added" : rerr.msg, id);
        if (is_fatal) {
            fatal = rs;
            lfr_err_set(err, rs, "import stopped at line %d: %s", lineno, rerr.msg);
        }
    }
    if (st == LFR_OK && !header_done)
        st = lfr_err_set(err, LFR_ERR_CORRUPT, "manifest %s is empty", manifest);
    close(dfd);
    lfr_free(data);
    return st != LFR_OK ? st : fatal;
}

/* Photo checks ------------------------------------------------------------ */

/* How large a check photo is decoded.  The detector works on the photo
 * shrunk to a long side of lfr_face_params_default.det_long_side (960 px),
 * never enlarged.  Decoding with a SHORT side of at least that many pixels
 * means the detector still shrinks the decoded photo (in every aspect
 * ratio), so it sees exactly what it would have seen from the full-size
 * file; and the face crop that the embedding is aligned from keeps at least
 * 960 / short-side of the photo: a face a tenth of the photo's height is
 * still ~96 px, close to the 112 px aligned crop.  A 12 MP phone photo
 * (4032x3024) is then decoded at 1/2 (2016x1512), a 48 MP one at 1/4;
 * the detector's smallest face (min_face, in decoded pixels) stays below
 * what its 960-px working size can find anyway. */
static int check_decode_min_side(void) { return lfr_face_params_default.det_long_side; }

static lfr_status check_record(lfr_store *s, int64_t deployment_id, const lfr_photo_check *pc,
                               const lfr_actor *officer, lfr_check_result *r, lfr_err *err) {
    r->result = pc->matched ? LFR_PHOTO_CHECK_MATCH : pc->result;
    return lfr_deploy_photo_check_record(s, deployment_id, pc, officer, &r->check_id, err);
}

lfr_status lfr_check_photo_snapshot(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                                    const lfr_check_watchlist *wl, const uint8_t *image,
                                    size_t len, const char *reason, int64_t device_id,
                                    const lfr_actor *officer, lfr_check_result *r,
                                    lfr_err *err) {
    memset(r, 0, sizeof *r);
    if (!reason || !reason[0])
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "a photo check needs the officer's reason for making it");
    if (device_id < 0)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "device id %lld is negative",
                           (long long)device_id);
    if (!wl || !(wl->threshold > 0.0f && wl->threshold < 1.0f))
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "a photo check needs the deployment's threshold, in (0, 1)");
    if (wl->snap && (!lfr_match_snapshot_frozen(wl->snap) ||
                     (lfr_match_snapshot_templates(wl->snap) > 0 &&
                      lfr_match_snapshot_dim(wl->snap) != LFR_FACE_EMB_DIM)))
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "the watchlist snapshot must be frozen and hold %d-d templates",
                           LFR_FACE_EMB_DIM);
    lfr_status st = lfr_deploy_require_live(s, deployment_id, err);
    if (st != LFR_OK) return st;
    r->threshold = wl->threshold;
    lfr_photo_check pc = {.reason = reason, .device_id = device_id,
                          .result = LFR_PHOTO_CHECK_NO_MATCH};
    lfr_image im = {0};
    lfr_err derr = {{0}};
    st = lfr_image_decode_max(image, len, check_decode_min_side(), &im, &r->decode_reduction,
                              &derr);
    if (st == LFR_ERR_NOMEM) return lfr_err_set(err, st, "out of memory decoding the photo");
    if (st != LFR_OK) {
        /* Recorded as unreadable; the answer is still the decoder's error. */
        pc.result = LFR_PHOTO_CHECK_UNREADABLE;
        lfr_status rs = check_record(s, deployment_id, &pc, officer, r, err);
        if (rs != LFR_OK) return rs;
        return lfr_err_set(err, st, "the photo cannot be read (%s); check %lld recorded as "
                           "unreadable", derr.msg[0] ? derr.msg : lfr_status_message(st),
                           (long long)r->check_id);
    }
    lfr_match_hit *hits = NULL;
    lfr_watchlist_entry_info *entries = NULL;
    size_t ne = 0, cap = 0;
    float emb[LFR_FACE_EMB_DIM];
    lfr_face *faces;
    int nf = 0, nh = 0;
    st = lfr_face_detect(fc, &im, NULL, &faces, &nf, err);
    if (st != LFR_OK) goto done;
    r->face_found = nf > 0;
    if (nf == 0) {
        pc.result = LFR_PHOTO_CHECK_NO_FACE;
        st = check_record(s, deployment_id, &pc, officer, r, err);
        goto done;
    }
    st = lfr_face_embed(fc, &im, faces, 1, emb, err); /* the largest face is the probe */
    if (st != LFR_OK) goto done;
    cap = wl->snap ? lfr_match_snapshot_entries(wl->snap) : 0;
    if (cap > 0) {
        hits = lfr_malloc(cap * sizeof *hits);
        if (!hits) {
            st = lfr_err_set(err, LFR_ERR_NOMEM, "no memory for %zu match results", cap);
            goto done;
        }
        st = lfr_match_search(wl->snap, emb, wl->threshold, hits, (int)cap, &nh);
        if (st != LFR_OK) {
            lfr_err_set(err, st, "watchlist search failed: %s", lfr_status_message(st));
            goto done;
        }
    }
    /* Candidates (best first) with their records. */
    if (nh > 0) st = lfr_deploy_entry_list(s, deployment_id, &entries, &ne, err);
    for (int i = 0; st == LFR_OK && i < nh && r->n < LFR_CHECK_MAX_CANDIDATES; i++) {
        lfr_check_candidate *c = &r->c[r->n];
        size_t k = 0;
        while (k < ne && entries[k].id != hits[i].entry_id) k++;
        if (k == ne) continue; /* removed since the snapshot was built */
        c->entry = entries[k];
        c->entry_id = hits[i].entry_id;
        c->score = hits[i].score;
        c->likeness = lfr_match_likeness(hits[i].score);
        c->image_id = wl->image_ids && hits[i].image_index >= 0 &&
                              (size_t)hits[i].image_index < wl->n_image_ids
                          ? wl->image_ids[hits[i].image_index]
                          : 0;
        r->n++;
    }
    if (st != LFR_OK) goto done;
    pc.matched = r->n > 0;
    pc.entry_id = r->n ? r->c[0].entry_id : 0;
    pc.score = r->n ? r->c[0].score : 0;
    pc.image = r->n ? image : NULL; /* kept (sealed) only when it matched */
    pc.image_len = r->n ? len : 0;
    st = check_record(s, deployment_id, &pc, officer, r, err);
done:
    memset(emb, 0, sizeof emb);
    lfr_free(entries);
    lfr_free(hits);
    lfr_image_free(&im);
    return st;
}

lfr_status lfr_check_photo(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                           const uint8_t *image, size_t len, const char *reason,
                           const lfr_actor *officer, lfr_check_result *r, lfr_err *err) {
    memset(r, 0, sizeof *r);
    if (!reason || !reason[0])
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "a photo check needs the officer's reason for making it");
    lfr_status st = lfr_deploy_require_live(s, deployment_id, err);
    if (st != LFR_OK) return st;
    lfr_deploy_templates t = {0};
    lfr_match_snapshot *snap = NULL;
    st = lfr_deploy_templates_load(s, deployment_id, &t, err);
    if (st == LFR_OK && t.n > 0) {
        st = lfr_match_snapshot_build(t.dim, t.n, t.data, t.entry_ids, NULL, &snap);
        if (st != LFR_OK) lfr_err_set(err, st, "cannot build the watchlist snapshot: %s",
                                      lfr_status_message(st));
    }
    if (st == LFR_OK) {
        lfr_check_watchlist wl = {.snap = snap, .threshold = t.threshold,
                                  .image_ids = t.image_ids, .n_image_ids = t.n};
        st = lfr_check_photo_snapshot(s, fc, deployment_id, &wl, image, len, reason, 0, officer,
                                      r, err);
    }
    lfr_match_snapshot_unref(snap);
    lfr_deploy_templates_free(&t);
    return st;
}
