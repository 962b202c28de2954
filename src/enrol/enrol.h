/*
 * enrol.h - putting people on a deployment's watchlist, and officers' photo
 * checks against it: the layer where the face engine meets the records.
 *
 * OVERVIEW
 *   Enrolment quality control (lfr_enrol_assess) grades a watchlist image:
 *   accept, accept with warnings, or reject (docs/quality.md, "Grades").
 *   Rejected is only what cannot work: an unreadable image, no face,
 *   several comparable faces (who is listed?), or a face too small to
 *   align (LFR_ENROL_MIN_EYE_DIST, limits.h).  Everything else that lowers
 *   the chance of an alert (a small face, blur, a turned, tilted or rotated
 *   head, a dark, bright or unevenly lit face, a face cut by the photo's
 *   edge) is a WARNING from one table (LFR_ENROL_WARN_LIST) with its
 *   cut-off, the measured value, and the measured effect: how often
 *   same-person LFW pairs with such a photo reach the default threshold
 *   (FMR 1e-6) of the deployment's model set, against pairs without
 *   warnings (enrol_effect.h for mfn192, enrol_effect_fused704v3.h; a set
 *   without a table states mfn192's, naming it; from bench/eval_discard.c).  A warned image is enrolled only when the
 *   enrolling officer accepts the warnings with a reason; the warnings,
 *   the reason and who accepted them are stored with the image, audited
 *   (watchlist.add) and shown to the authorising officer.
 *
 *   lfr_enrol_add: assess, then store the entry with its image and template
 *   (sealed) through lfr_deploy_entry_add (draft deployments only; audited
 *   there); a warned image only with accept_warnings (a reason).
 *   lfr_enrol_import: a folder of images plus a CSV manifest, one row per
 *   person, each row reported (added, or why not); rows are
 *   independent, a bad row never stops the import.  Image files are opened
 *   only inside the folder (no "..", no absolute names, no symbolic links,
 *   regular files only, never blocking on a FIFO).  A person may have
 *   several rows: a row whose subject is already on the list, with the
 *   same name and category, adds its photo to that entry
 *   (lfr_enrol_add_image, with the row's image_source and image_date).
 *   Rerunning a manifest adds nothing twice: a row whose photo the entry
 *   already has (SAME_PHOTO), or whose name or category differ from the
 *   listed subject's, is reported "already on the list" (LFR_ERR_EXISTS).
 *
 *   Photo check (lfr_check_photo): an officer's photo with a stated reason,
 *   against ONE live deployment's watchlist only.  The largest face is the
 *   probe.  Returns every entry at or above the deployment's threshold,
 *   best first, with its likeness, or none.  The check is always recorded
 *   and audited (who, device, when, reason, result: match, no_match,
 *   no_face, unreadable); the photo is stored, sealed, only if it matched,
 *   and otherwise never written anywhere.  A large phone JPEG is decoded
 *   reduced (lfr_image_decode_max) to what the detector can use.
 *   lfr_check_photo_snapshot searches a watchlist snapshot the caller
 *   already holds (the server's live registry), so a check decrypts
 *   nothing; lfr_check_photo loads and decrypts the templates itself.
 *
 * OWNERSHIP
 *   The store and face context are the caller's.  Results are caller-owned
 *   fixed-size structs.  Images passed in are only read.
 */
#ifndef LFR_ENROL_H
#define LFR_ENROL_H

#include "core/core.h"
#include "deploy/deploy.h"
#include "face/face.h"
#include "match/match.h"

/* Grades ------------------------------------------------------------------ */
#define LFR_ENROL_GRADE_LIST(X)                                                \
    X(ACCEPT, "accept")                                                        \
    X(WARN, "accept_with_warnings")  /* enrolled only when accepted */         \
    X(REJECT, "reject")

typedef enum lfr_enrol_grade {
#define LFR_ENROL_GRADE_ENUM(id, name) LFR_ENROL_GRADE_##id,
    LFR_ENROL_GRADE_LIST(LFR_ENROL_GRADE_ENUM)
#undef LFR_ENROL_GRADE_ENUM
    LFR_ENROL_GRADE_COUNT
} lfr_enrol_grade;

const char *lfr_enrol_grade_name(lfr_enrol_grade g);    /* "accept_with_warnings" */

/* Rejections: only what cannot work. */
#define LFR_ENROL_REJECT_LIST(X)                                               \
    X(NONE, "not rejected")                                                    \
    X(UNREADABLE, "image cannot be read")                                      \
    X(NO_FACE, "no face found")                                                \
    X(MULTIPLE_FACES, "more than one face")                                    \
    X(TOO_SMALL, "face too small to align")                                    \
    X(NOT_SAME_PERSON, "not like the entry's other photos (lfr_enrol_add_image)")  \
    X(SAME_PHOTO, "a photo the entry already has (lfr_enrol_add_image)")

typedef enum lfr_enrol_reject {
#define LFR_ENROL_REJECT_ENUM(id, msg) LFR_ENROL_##id,
    LFR_ENROL_REJECT_LIST(LFR_ENROL_REJECT_ENUM)
#undef LFR_ENROL_REJECT_ENUM
    LFR_ENROL_REJECT_COUNT
} lfr_enrol_reject;

const char *lfr_enrol_reject_name(lfr_enrol_reject r);  /* "TOO_SMALL" */

/* What is measured of the enrolled face (lfr_enrol_measure). */
typedef struct lfr_enrol_measures {
    float eye_dist;      /* px between the eye centres (in the photo) */
    float sharpness;     /* variance of the Laplacian of the aligned crop */
    float yaw, pitch, roll; /* degrees, 3D fit (face.h) */
    float at_edge;       /* 1: the face's box touches the photo's edge */
    float brightness;    /* mean grey level (0-255) of the inner face */
    float uneven;        /* grey levels between the left and right half
                            of the inner face (side lighting) */
} lfr_enrol_measures;

/* Warnings: X(id, name, what, unit, field, sense, cut-off)
 *   field: the lfr_enrol_measures member; sense: WARN_BELOW (value <
 *   cut-off warns), WARN_ABOVE (value > cut-off), WARN_ABS (|value| >
 *   cut-off).  The cut-offs are where the error-versus-discard curves of
 *   LFW same-person pairs (bench/eval_discard.c) show a measurable loss;
 *   docs/quality.md "Grades" has the curves. */
#define LFR_ENROL_WARN_LIST(X)                                                 \
    X(SMALL, "small", "eye distance", "px", eye_dist, BELOW, 20.0f)            \
    X(BLUR, "blur", "sharpness", "", sharpness, BELOW, 30.0f)                  \
    X(YAW, "yaw", "yaw", "deg", yaw, ABS, 30.0f)                               \
    X(PITCH, "pitch", "pitch", "deg", pitch, ABS, 30.0f)                       \
    X(ROLL, "roll", "roll", "deg", roll, ABS, 25.0f)                           \
    X(DARK, "dark", "brightness", "grey level", brightness, BELOW, 50.0f)      \
    X(BRIGHT, "bright", "brightness", "grey level", brightness, ABOVE, 200.0f) \
    X(UNEVEN, "uneven_light", "left-right difference", "grey levels", uneven,  \
      ABOVE, 50.0f)                                                            \
    X(AT_EDGE, "at_edge", "face cut by the photo's edge", "", at_edge, ABOVE,  \
      0.5f)

typedef enum lfr_enrol_warn {
#define LFR_ENROL_WARN_ENUM(id, name, what, unit, field, sense, cut) LFR_ENROL_WARN_##id,
    LFR_ENROL_WARN_LIST(LFR_ENROL_WARN_ENUM)
#undef LFR_ENROL_WARN_ENUM
    LFR_ENROL_WARN_COUNT
} lfr_enrol_warn;

const char *lfr_enrol_warn_name(lfr_enrol_warn w);      /* "yaw" */

typedef struct lfr_enrol_params {
    float min_eye_dist;     /* px between the eyes: below, REJECT (too small
                               to align; default LFR_ENROL_MIN_EYE_DIST) */
    float second_face_ratio;/* a second face this large relative to the first
                               (box side) makes the image ambiguous (0.5) */
    float warn_at[LFR_ENROL_WARN_COUNT]; /* the cut-offs (table above) */
    lfr_face_model_set model_set; /* the template's embedder(s) (default
                               MFN192); lfr_enrol_add and _import use the
                               deployment's set whatever this says */
} lfr_enrol_params;

extern const lfr_enrol_params lfr_enrol_params_default;

typedef struct lfr_enrol_warning {
    lfr_enrol_warn kind;
    float value;                      /* measured */
    float cutoff;                     /* where the warning starts */
    char text[320];                   /* "yaw 31 deg (over 25): in LFW, ..." */
} lfr_enrol_warning;

typedef struct lfr_enrol_result {
    lfr_enrol_grade grade;
    lfr_enrol_reject reject;          /* LFR_ENROL_NONE unless grade is REJECT */
    char why[256];                    /* one sentence with the measured values */
    lfr_enrol_measures m;             /* when a face was measured */
    int n_warn;
    lfr_enrol_warning warn[LFR_ENROL_WARN_COUNT];
    lfr_face face;                    /* the face assessed */
    float tmpl[LFR_FACE_EMB_MAX_DIM]; /* its embedding (unless rejected): dim
                                         floats of model set `set` */
    int dim;                          /* lfr_face_model_set_dim(set) */
    lfr_face_model_set set;           /* params.model_set */
} lfr_enrol_result;

/* Decodes and assesses an enrolment image.  Returns LFR_OK whenever the
 * assessment was made (whatever the grade); an error status only for
 * failures of the system (out of memory, models: LFR_ERR_UNSUPPORTED when
 * the engine lacks a network of p->model_set).  p NULL: defaults. */
lfr_status lfr_enrol_assess(lfr_face_ctx *fc, const uint8_t *image, size_t len,
                            const lfr_enrol_params *p, lfr_enrol_result *r, lfr_err *err);

/* The measures of face f of im (embedding it into emb, LFR_FACE_EMB_DIM
 * floats, which fills f->q.sharpness): what grades are made of, and what
 * bench/eval_discard.c measures. */
lfr_status lfr_enrol_measure(lfr_face_ctx *fc, const lfr_image *im, lfr_face *f, float *emb,
                             lfr_enrol_measures *m, lfr_err *err);
/* The same with model set `set`'s embedding (lfr_face_model_set_dim(set)
 * floats into emb): the sharpness is that of the set's crop. */
lfr_status lfr_enrol_measure_set(lfr_face_ctx *fc, const lfr_image *im, lfr_face *f,
                                 lfr_face_model_set set, float *emb, lfr_enrol_measures *m,
                                 lfr_err *err);

/* The warnings of r as a compact JSON array (what is stored with the image
 * and audited): [{"kind":"yaw","value":31.2,"cutoff":25,"text":"..."}].
 * Always fits LFR_MAX_QUALITY_WARNINGS (texts dropped if needed).  "" when
 * there is none.  out has at least LFR_MAX_QUALITY_WARNINGS + 1 bytes. */
void lfr_enrol_warnings_json(const lfr_enrol_result *r, char *out);

/* Assesses and, if not rejected, adds the entry.  A rejected image gives
 * LFR_ERR_QUALITY with r->why in err.  A warned image without
 * accept_warnings (NULL or "") gives LFR_ERR_QUALITY with the warnings in
 * err (short) and r->warn (full sentences); with a reason it is added, the
 * warnings, the reason and `by` stored with the image and audited.
 * accept_warnings is ignored for an image without warnings. */
lfr_status lfr_enrol_add(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                         const lfr_watchlist_entry *e, const uint8_t *image, size_t len,
                         const lfr_enrol_params *p, const char *accept_warnings,
                         const lfr_actor *by, int64_t *entry_id, lfr_enrol_result *r,
                         lfr_err *err);

/* Another photo of a person already on a draft watchlist, with where it
 * comes from and when it was taken (prov: required; checked as an entry's
 * image_source and image_date): entry_id's deployment gives the model set; the photo is assessed and graded as for
 * lfr_enrol_add (a warned photo only with accept_warnings, stored and
 * audited with it).  An entry is matched by the mean of its photos
 * (LFR_MATCH_ENTRY_MEAN), so a photo of someone else would spoil it: the
 * photo is refused (LFR_ERR_QUALITY, naming both figures) when its cosine
 * with the mean of the entry's photos is below the model set's cosine at
 * FMR LFR_ENROL_SAME_PERSON_FMR (one pair of different people in a thousand
 * reaches it; 99.8 % of LFW's same-person pairs do for fused704v3).
 * A photo whose cosine with one of the entry's photos is at least
 * LFR_ENROL_SAME_PHOTO_COSINE is refused too (LFR_ERR_QUALITY, SAME_PHOTO):
 * it is that photograph again and would add nothing to the mean but count
 * for more false alerts.  Copies rescaled, recropped or mirrored scored
 * 0.955 to 1.000 in our checks (tests/test_enrol.c, test_http.c, the
 * console test); copies darkened or blurred 0.76 to 0.955, so an edited
 * copy may pass as a new photo.  1.7e-4 of LFW's same-person pairs of
 * different files reach 0.95 for fused704v3, 3.1e-4 for mfn192 (their
 * calibration tables).
 * *similarity (may be NULL) gets the cosine with the mean (0 when not
 * measured).
 * LFR_ERR_TOO_LARGE past LFR_MAX_ENTRY_IMAGES photos; LFR_ERR_STATE after
 * authorisation (lfr_deploy_entry_image_add_warned). */
#define LFR_ENROL_SAME_PERSON_FMR 1e-3
#define LFR_ENROL_SAME_PHOTO_COSINE 0.95f
lfr_status lfr_enrol_add_image(lfr_store *s, lfr_face_ctx *fc, int64_t entry_id,
                               const lfr_image_provenance *prov, const uint8_t *image,
                               size_t len, const lfr_enrol_params *p,
                               const char *accept_warnings, const lfr_actor *by,
                               int64_t *image_id, float *similarity, lfr_enrol_result *r,
                               lfr_err *err);

/* Bulk import.  The manifest (at most LFR_MAX_MANIFEST_BYTES, UTF-8, a
 * BOM allowed) is CSV with a header row naming the columns (any order,
 * spaces around names ignored, each once, no unknown names; empty names
 * are ignored columns): file, subject_ref, display_name, category, reason,
 * image_source, image_date, and optionally category_other, under_18
 * (empty/0/no/false or 1/yes/true), under_18_justification.  A header
 * error refuses the whole manifest (LFR_ERR_CORRUPT, nothing added).
 * `file` is relative to `dir`: absolute names and ".." components are
 * refused ("John..Smith.jpg" is a name like any other), every component
 * is opened with O_NOFOLLOW (symbolic links refused), and only a regular
 * file is read (a directory or FIFO is refused for its row, without
 * blocking).  A row is refused, with a sentence, for a NUL byte, more
 * fields than the header, bad quoting or a line over
 * LFR_MAX_MANIFEST_LINE; the rows after it are read as usual.  A subject
 * already on the list gets the row's photo as another photo (OVERVIEW), or
 * LFR_ERR_EXISTS ("already on the list") for a photo it has or other
 * details.  For each non-empty row the callback gets its 1-based line
 * number, the file named, the outcome (LFR_OK added, else why not) and a
 * sentence.  *added / *rejected count rows (an "already on the list" row
 * counts as rejected).  Returns LFR_OK unless the manifest or folder
 * cannot be read, the header is bad, or the system fails (out of memory,
 * models, database): then the import stops at that row and says so.
 * accept_warnings (NULL: none) accepts the quality warnings of every row
 * with this one reason; without it a warned row is refused, its message
 * listing the warnings. */
typedef void (*lfr_enrol_row_fn)(void *ctx, int line, const char *file, lfr_status st,
                                 const char *msg, int64_t entry_id);

lfr_status lfr_enrol_import(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                            const char *dir, const char *manifest, const lfr_enrol_params *p,
                            const char *accept_warnings, const lfr_actor *by,
                            lfr_enrol_row_fn fn, void *fn_ctx,
                            int *added, int *rejected, lfr_err *err);

/* Photo checks ---------------------------------------------------------- */

#define LFR_CHECK_MAX_CANDIDATES 16

typedef struct lfr_check_candidate {
    int64_t entry_id;
    int64_t image_id;     /* the watchlist image that scored best; 0 = unknown */
    float score;          /* cosine */
    double likeness;      /* 0..100, calibrated (match.h) for entry_photos:
                             lfr_match_cal_entry_likeness */
    int entry_photos;     /* photos averaged into the template that matched */
    lfr_watchlist_entry_info entry;
} lfr_check_candidate;

typedef struct lfr_check_result {
    int64_t check_id;     /* the record of this check */
    lfr_photo_check_result result; /* as recorded: match, no_match, no_face, unreadable */
    int face_found;       /* 0: no face in the photo (recorded as such) */
    int decode_reduction; /* the photo was decoded at 1/this size (1, 2, 4, 8) */
    float threshold;      /* the deployment's threshold */
    int n;                /* candidates at or above the threshold */
    lfr_check_candidate c[LFR_CHECK_MAX_CANDIDATES];
} lfr_check_result;

/* A deployment's watchlist already in memory (borrowed for the call). */
typedef struct lfr_check_watchlist {
    const lfr_match_snapshot *snap; /* frozen, LFR_FACE_EMB_DIM, entry ids = watchlist
                                       entry ids; NULL = an empty watchlist */
    float threshold;                /* the deployment's authorised threshold, in (0, 1) */
    const int64_t *image_ids;       /* image_ids[hit image_index] = watchlist image id, */
    size_t n_image_ids;             /* for lfr_check_candidate.image_id (NULL, 0: unknown) */
} lfr_check_watchlist;

/* `reason` is mandatory (LFR_ERR_INVALID_ARG without it).  The deployment
 * must be live (LFR_ERR_STATE).  device_id: the officer's device, 0 = the
 * CLI.  Every check that gets past these is recorded and audited:
 *   - a photo that cannot be decoded: recorded "unreadable"; the call then
 *     returns the decoder's status (LFR_ERR_CORRUPT, LFR_ERR_UNSUPPORTED,
 *     LFR_ERR_TOO_LARGE) with a sentence, and r->check_id / r->result set;
 *   - no face: recorded "no_face", LFR_OK, r->face_found = 0;
 *   - otherwise "match" (r->n > 0; the photo kept, sealed) or "no_match".
 * Out of memory while decoding, or a failure of the face engine, is an
 * error of the system: nothing is recorded.  A hit whose entry was removed
 * after the snapshot was built is left out. */
lfr_status lfr_check_photo_snapshot(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                                    const lfr_check_watchlist *wl, const uint8_t *image,
                                    size_t len, const char *reason, int64_t device_id,
                                    const lfr_actor *officer, lfr_check_result *r,
                                    lfr_err *err);

/* The same from the CLI (device 0): loads the deployment's templates
 * (lfr_deploy_templates_load: decrypted, digest verified), builds the
 * snapshot, checks, and wipes them. */
lfr_status lfr_check_photo(lfr_store *s, lfr_face_ctx *fc, int64_t deployment_id,
                           const uint8_t *image, size_t len, const char *reason,
                           const lfr_actor *officer, lfr_check_result *r, lfr_err *err);

#endif
