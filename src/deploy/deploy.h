/*
 * deploy.h - deployments, their watchlists, alerts, photo checks and the
 * retention rules that delete them.
 *
 * OVERVIEW
 *   A deployment is one use of live facial recognition at one place for one
 *   purpose, with its own watchlist.  Its lifecycle, enforced here:
 *
 *     draft --authorise--> authorised --start--> live --end--> ended --purge--> purged
 *       \_________________________end____________________/
 *
 *   - draft: everything may be edited; watchlist entries are added/removed.
 *   - authorise: an authorising officer (not the creator) signs off the
 *     threshold and the watchlist (a digest of it is recorded); from then on
 *     both are LOCKED.  A later change is an amendment: proposed by one
 *     person, authorised by another, each step audited
 *     (lfr_deploy_amend_propose / lfr_deploy_amend_authorise).
 *   - live: only now may cameras match, alerts be raised and photo checks be
 *     made (lfr_deploy_require_live is the gate the pipeline and API call).
 *   - end: matching stops (require_live fails from then on).  A draft or an
 *     authorised deployment may also be ended (cancelled).
 *   - purged: watchlist, alerts and checks are gone; the deployment row (the
 *     transparency record) and the audit log remain.  Terminal.
 *   Forbidden moves fail with LFR_ERR_STATE and a sentence in lfr_err.
 *   Every change writes its audit record in the same transaction.
 *
 *   Biometric data (watchlist images, templates, alert face crops, matched
 *   photo-check images) is sealed with the store's key (lfr_store_seal)
 *   before it reaches the database, and opened only in memory.
 *
 *   Retention (lfr_deploy_purge): the watchlist of an ended deployment is
 *   deleted `watchlist_after_end_s` after the end (default 24 h); alerts
 *   and photo checks `alerts_s` / `photo_checks_s` after they happened
 *   (default 31 days).  Deletion is real: rows and sealed blobs are removed
 *   (secure_delete overwrites them), then freed pages are vacuumed and the
 *   WAL truncated.  Each deletion leaves a receipt in the audit log
 *   (retention.delete: data class, count, rule, when).  An ended deployment
 *   with nothing left moves to purged.
 *
 * OWNERSHIP
 *   Parameter structs are the caller's and only read.  Info structs are
 *   caller-owned, fixed size, no pointers inside.  Arrays from *_list are
 *   released with lfr_free.  lfr_deploy_templates owns its arrays: release
 *   with lfr_deploy_templates_free (which wipes the templates).  Images from
 *   lfr_deploy_entry_image_load are the caller's (lfr_free; wipe first).
 */
#ifndef LFR_DEPLOY_H
#define LFR_DEPLOY_H

#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"
#include "core/core.h"
#include "store/store.h"

typedef enum lfr_deploy_state {
    LFR_DEPLOY_DRAFT,
    LFR_DEPLOY_AUTHORISED,
    LFR_DEPLOY_LIVE,
    LFR_DEPLOY_ENDED,
    LFR_DEPLOY_PURGED,
    LFR_DEPLOY_STATE_COUNT
} lfr_deploy_state;

const char *lfr_deploy_state_name(lfr_deploy_state st);        /* "draft" */

/* Deployments ------------------------------------------------------------- */
typedef struct lfr_deploy_params {
    const char *name;          /* required */
    const char *location;      /* required */
    const char *purpose;       /* purpose and ... */
    const char *legal_basis;   /* ... legal basis: both required */
    int64_t planned_start;     /* UTC seconds; planned_end > planned_start, */
    int64_t planned_end;       /* and planned_end not already past (store clock) */
    float threshold;           /* cosine similarity: see lfr_deploy_set_threshold */
    const char *cameras;       /* free text list, e.g. "north-gate,van-roof" */
    int unusual_threshold_ok;  /* 1: a threshold outside the sane range is meant */
} lfr_deploy_params;

/* The model set new deployments get from `deployment create` and the API
 * when none is named: fused704 missed 27 % fewer genuine LFW pairs than
 * mfn192 at FMR 1e-6; fused704v2, which feeds the 512-d network the
 * channel order it was trained on, misses fewer still, and fused704v3,
 * fused704v2 aligned on O-Net's landmarks averaged with the 68-point
 * network's, fewer again (docs/embedders.md, "Channel order" and
 * "Landmarks"; docs/likeness.md).  Deployments made with an older set keep
 * it.  An engine without a network of the set (models/mfn512.lfrm,
 * models/lm68.lfrm) refuses to enrol for or run such a deployment
 * (LFR_ERR_UNSUPPORTED). */
#define LFR_DEPLOY_DEFAULT_MODEL_SET "fused704v3"
#define LFR_DEPLOY_MODEL_SET_MAX 32 /* bytes of a model set's name, with the NUL */

typedef struct lfr_deploy_info {
    int64_t id;
    char name[LFR_MAX_TEXT];
    char location[LFR_MAX_TEXT];
    char purpose[LFR_MAX_TEXT];
    char legal_basis[LFR_MAX_TEXT];
    char cameras[LFR_MAX_TEXT];
    int64_t planned_start, planned_end;
    float threshold;
    double target_false_alerts;   /* 0: the threshold was set directly */
    int64_t target_templates;     /* watchlist size the threshold was last
                                     derived for (target deployments) */
    lfr_deploy_state state;
    char created_by[LFR_MAX_ACTOR];
    int64_t created_at;
    char authorised_by[LFR_MAX_ACTOR];        /* "" until authorised */
    int64_t authorised_at;                    /* 0 = not yet (same below) */
    char watchlist_digest[65];                /* BLAKE2b-256 hex at authorisation */
    int64_t entries_authorised;
    int64_t started_at, ended_at;
    char ended_by[LFR_MAX_ACTOR];
    int64_t watchlist_deleted_at, purged_at;
    int64_t entries, images, alerts, photo_checks;   /* held now */
    int64_t searched;   /* templates the matcher searches for each face now
                           (lfr_deploy_searched_templates) */
    int64_t counted;    /* what those templates count for false alerts
                           (lfr_deploy_counted_comparisons): the n of the
                           threshold's FPIR and expected false alerts */
    char model_set[LFR_DEPLOY_MODEL_SET_MAX];        /* "fused704" (lfr_deploy_create_in_set) */
} lfr_deploy_info;

/* The templates the matcher searches for each face of a watchlist of
 * `entries` entries holding `images` images in all, `several` of those
 * entries with two or more, under LFR_MATCH_ENTRY_TEMPLATE_DEFAULT (the
 * pipeline's and photo checks' snapshot): one mean per entry for "mean",
 * every image for "best", both for "union".  A face is compared with each
 * of them, so this (not the image count) is the n of FPIR = 1 - (1 - FMR)^n
 * and of the expected false alerts shown beside a threshold. */
int64_t lfr_deploy_searched_templates(int64_t entries, int64_t images, int64_t several);

/* The comparisons the threshold's FPIR counts for a watchlist of model set
 * `model_set` whose by_images[k] entries hold k images (k = 0 ..
 * LFR_MAX_ENTRY_IMAGES), matched as LFR_MATCH_ENTRY_TEMPLATE_DEFAULT: an
 * entry of several photos counts as its mean template's measured weight
 * (lfr_match_cal_entry_weight; docs/likeness.md, "Entries with several
 * photos"), so for a list of one photo per person it is the entry count.
 * mfn192's calibration when the set is unknown. */
int64_t lfr_deploy_counted_comparisons(const char *model_set, const int64_t *by_images);

/* Free text (name, location, purpose, legal basis, cameras, reasons,
 * notes, display names, categories) goes through lfr_text_check: control
 * characters (ANSI escapes, BEL) and blank text are refused.  People's
 * names (lfr_actor.name) must also fold (lfr_name_fold: no mixed scripts or
 * look-alike letters), and separation of duties compares folded names with
 * spaces and ASCII punctuation removed: "PC 1", "pc1", "PC\u00a01" and
 * full-width "ＰＣ１" are one person. */
lfr_status lfr_deploy_create(lfr_store *s, const lfr_deploy_params *p, const lfr_actor *by,
                             int64_t *id, lfr_err *err);

/* Instead of a threshold (the two are exclusive: p->threshold must be 0):
 * a target of expected false alerts per 10,000 faces of people not on the
 * list, met for the worst-served demographic group
 * (lfr_match_threshold_for_false_alerts).  The threshold follows for
 * planned_templates templates (0: LFR_DEPLOY_PLANNED_TEMPLATES) and is
 * derived again at authorisation for the watchlist's real size.  A derived
 * threshold below LFR_THRESHOLD_SANE_MIN is raised to it (fewer false
 * alerts still meet the target); above LFR_THRESHOLD_SANE_MAX it needs
 * p->unusual_threshold_ok at creation and is refused at authorisation (set
 * the threshold directly then). */
typedef struct lfr_deploy_target {
    double false_alerts_per_10k;  /* > 0, <= LFR_DEPLOY_MAX_TARGET_FALSE_ALERTS */
    int64_t planned_templates;    /* 0: LFR_DEPLOY_PLANNED_TEMPLATES */
} lfr_deploy_target;

/* lfr_deploy_create with a target (NULL: as lfr_deploy_create). */
lfr_status lfr_deploy_create_for_target(lfr_store *s, const lfr_deploy_params *p,
                                        const lfr_deploy_target *target, const lfr_actor *by,
                                        int64_t *id, lfr_err *err);
/* lfr_deploy_create_for_target for model set `model_set`: the embedder(s)
 * of the deployment's templates (match.h: LFR_MATCH_CALIBRATION_LIST;
 * LFR_ERR_INVALID_ARG naming the known sets otherwise).  NULL: mfn192, the
 * set of every deployment made before model sets (and of
 * lfr_deploy_create / _for_target).  The threshold (sane range, target) is
 * read with this set's calibration.  The product's default for new
 * deployments is LFR_DEPLOY_DEFAULT_MODEL_SET (CLI and API). */
lfr_status lfr_deploy_create_in_set(lfr_store *s, const lfr_deploy_params *p,
                                    const lfr_deploy_target *target, const char *model_set,
                                    const lfr_actor *by, int64_t *id, lfr_err *err);
/* The threshold a target deployment gets for n_templates (lfr_deploy_params
 * says how); *t set even on failure (the threshold that would be needed).
 * LFR_ERR_INVALID_ARG for a target not finite or <= 0 or a needed threshold
 * outside the sane range without unusual_ok; err names the worst group. */
lfr_status lfr_deploy_threshold_for_target(double target, int64_t n_templates, int unusual_ok,
                                           float *t, lfr_err *err);
/* The same for a model set's calibration (NULL or unknown name: mfn192's;
 * lfr_deploy_threshold_for_target is this with mfn192). */
lfr_status lfr_deploy_threshold_for_target_set(const char *model_set, double target,
                                               int64_t n_templates, int unusual_ok, float *t,
                                               lfr_err *err);
/* The default threshold of a model set (the cosine with the FMR of
 * LFR_MATCH_DEFAULT_THRESHOLD for mfn192: lfr_match_cal_default_threshold)
 * and its sane range (LFR_THRESHOLD_SANE_MIN/MAX's equivalents).
 * LFR_ERR_INVALID_ARG naming the set when it is unknown. */
lfr_status lfr_deploy_model_set_thresholds(const char *model_set, float *def, float *sane_min,
                                           float *sane_max, lfr_err *err);
/* Thresholds: not finite, <= 0 or >= 1 are refused always
 * (LFR_ERR_INVALID_ARG); outside [LFR_THRESHOLD_SANE_MIN,
 * LFR_THRESHOLD_SANE_MAX] (limits.h says why; for another model set their
 * equivalents, lfr_deploy_model_set_thresholds) only with
 * unusual_threshold_ok = 1, recorded in the audit log.
 * Draft only (afterwards: an amendment). */
/* Setting a threshold directly ends a target (target_false_alerts 0). */
lfr_status lfr_deploy_set_threshold(lfr_store *s, int64_t id, float threshold,
                                    int unusual_threshold_ok, const lfr_actor *by, lfr_err *err);
lfr_status lfr_deploy_get(lfr_store *s, int64_t id, lfr_deploy_info *out, lfr_err *err);
lfr_status lfr_deploy_list(lfr_store *s, lfr_deploy_info **out, size_t *n, lfr_err *err);

/* `by` must not be the creator, nor have added any entry or photo of the
 * watchlist or accepted a photo's quality warnings (names compared folded,
 * as above): the authorising officer checks a list someone else built.  A
 * target deployment's threshold is derived again for the watchlist's
 * images (templates), recorded and audited (threshold_derived). */
lfr_status lfr_deploy_authorise(lfr_store *s, int64_t id, const lfr_actor *by, lfr_err *err);
/* Refused (LFR_ERR_INTEGRITY) when the watchlist no longer has the digest
 * recorded at authorisation (or at the last authorised amendment). */
lfr_status lfr_deploy_start(lfr_store *s, int64_t id, const lfr_actor *by, lfr_err *err);
/* Recomputes the watchlist digest of an authorised, live or ended
 * deployment and compares it with the recorded one: LFR_OK, or
 * LFR_ERR_INTEGRITY when an entry, image or template was added, moved,
 * changed or removed behind the software's back; LFR_ERR_STATE for a draft
 * (nothing recorded yet) or a deployment whose watchlist was deleted. */
lfr_status lfr_deploy_watchlist_verify(lfr_store *s, int64_t id, lfr_err *err);
/* reason may be NULL. */
lfr_status lfr_deploy_end(lfr_store *s, int64_t id, const lfr_actor *by, const char *reason,
                          lfr_err *err);
/* LFR_OK only while the deployment is live: the gate for matching, alerts
 * and photo checks. */
lfr_status lfr_deploy_require_live(lfr_store *s, int64_t id, lfr_err *err);

/* Amendments of an authorised or live deployment. */
typedef struct lfr_deploy_amendment {
    const char *reason;        /* required */
    int set_threshold;         /* 1: change the threshold to `threshold` */
    float threshold;
    int64_t remove_entry_id;   /* > 0: remove this watchlist entry */
    int unusual_threshold_ok;  /* as in lfr_deploy_set_threshold */
} lfr_deploy_amendment;

lfr_status lfr_deploy_amend_propose(lfr_store *s, int64_t id, const lfr_deploy_amendment *a,
                                    const lfr_actor *by, int64_t *amendment_id, lfr_err *err);
/* Applies the amendment; `by` must not be its proposer (folded names).
 * The recorded watchlist digest is updated with it. */
lfr_status lfr_deploy_amend_authorise(lfr_store *s, int64_t amendment_id, const lfr_actor *by,
                                      lfr_err *err);

/* Installation cap on entries per deployment (setting, audited); at most
 * LFR_MAX_WATCHLIST_ENTRIES. */
lfr_status lfr_deploy_watchlist_cap(lfr_store *s, int64_t *cap);
lfr_status lfr_deploy_watchlist_cap_set(lfr_store *s, int64_t cap, const lfr_actor *by,
                                        lfr_err *err);

/* Watchlist entries ------------------------------------------------------- */
#define LFR_WATCHLIST_CATEGORY_LIST(X)                                         \
    X(WANTED_ON_WARRANT, "wanted_on_warrant")                                  \
    X(WANTED_FOR_OFFENCE, "wanted_for_offence")                                \
    X(MISSING, "missing")                                                      \
    X(VULNERABLE, "vulnerable")                                                \
    X(OTHER, "other")                  /* category_other says what */

typedef enum lfr_watchlist_category {
#define LFR_WATCHLIST_CATEGORY_ENUM(id, name) LFR_WATCHLIST_##id,
    LFR_WATCHLIST_CATEGORY_LIST(LFR_WATCHLIST_CATEGORY_ENUM)
#undef LFR_WATCHLIST_CATEGORY_ENUM
    LFR_WATCHLIST_CATEGORY_COUNT
} lfr_watchlist_category;

const char *lfr_watchlist_category_name(lfr_watchlist_category c);
lfr_status lfr_watchlist_category_parse(const char *name, lfr_watchlist_category *out);

typedef struct lfr_watchlist_entry {
    const char *subject_ref;            /* force record id; required */
    const char *display_name;           /* required */
    lfr_watchlist_category category;
    const char *category_other;         /* required when category is OTHER */
    const char *reason;                 /* reason for inclusion; required */
    const char *image_source;           /* where the image came from; required */
    const char *image_date;             /* when it was taken: a real date YYYY-MM-DD, or
                                           YYYY-MM or YYYY, not in the future; required */
    int under_18;                       /* 1: subject is a child ... */
    const char *under_18_justification; /* ... then this is required */
} lfr_watchlist_entry;

typedef struct lfr_watchlist_entry_info {
    int64_t id, deployment_id;
    char subject_ref[LFR_MAX_ACTOR];
    char display_name[LFR_MAX_ACTOR];
    lfr_watchlist_category category;
    char category_other[LFR_MAX_TEXT];
    char reason[LFR_MAX_TEXT];
    char image_source[LFR_MAX_TEXT];
    char image_date[64];
    char added_by[LFR_MAX_ACTOR];
    int64_t added_at;
    int under_18;
    char under_18_justification[LFR_MAX_TEXT];
    int64_t images;
    /* Accepted quality warnings ("" = none): see images_warned. */
    char quality_warnings[LFR_MAX_QUALITY_WARNINGS + 1]; /* JSON array */
    char warnings_accepted[LFR_MAX_TEXT];                /* the reason */
    char warnings_accepted_by[LFR_MAX_ACTOR];
    int64_t images_warned;     /* images of the entry enrolled with accepted
                                  warnings; the fields above are the first
                                  such image's (else the first image's) */
} lfr_watchlist_entry_info;

/* Adds an entry with its first image and template (both sealed).  A
 * subject reference is on a deployment's list once: adding it again is
 * LFR_ERR_EXISTS ("already on the list").  Entry and image ids are never
 * reissued after a removal.  Draft
 * deployments only; the entry cap, LFR_MAX_IMAGE_BYTES and dim <=
 * LFR_MAX_TEMPLATE_DIM are enforced; template values must be finite.
 * Face quality control is the enrolment layer's job, above this call.
 * The template must be of the deployment's model set: dim must be the
 * set's (192 for mfn192, 704 for fused704), else LFR_ERR_INVALID_ARG
 * naming both sets; the image's row records the set (and so does the
 * watchlist digest, for sets other than mfn192). */
lfr_status lfr_deploy_entry_add(lfr_store *s, int64_t deployment_id, const lfr_watchlist_entry *e,
                                const uint8_t *image, size_t image_len, const float *tmpl,
                                int dim, const lfr_actor *by, int64_t *entry_id, lfr_err *err);
/* Enrolment's quality warnings of an image that the enrolling officer
 * accepted (src/enrol: grades). */
typedef struct lfr_entry_warnings {
    const char *warnings;      /* JSON array (lfr_enrol_warnings_json), at most
                                  LFR_MAX_QUALITY_WARNINGS; NULL or "" = none */
    const char *accepted;      /* the reason for accepting them: required with
                                  warnings */
} lfr_entry_warnings;

/* lfr_deploy_entry_add for an image with warnings (w NULL: none): they are
 * stored with the image, with the reason and `by` as who accepted them, and
 * are in the watchlist.add audit record. */
lfr_status lfr_deploy_entry_add_warned(lfr_store *s, int64_t deployment_id,
                                       const lfr_watchlist_entry *e,
                                       const lfr_entry_warnings *w, const uint8_t *image,
                                       size_t image_len, const float *tmpl, int dim,
                                       const lfr_actor *by, int64_t *entry_id, lfr_err *err);
/* Another image of the same person (draft only; LFR_MAX_ENTRY_IMAGES). */
lfr_status lfr_deploy_entry_image_add(lfr_store *s, int64_t entry_id, const uint8_t *image,
                                      size_t image_len, const float *tmpl, int dim,
                                      const lfr_actor *by, int64_t *image_id, lfr_err *err);
/* Where a further photo comes from and when it was taken, as an entry's
 * image_source and image_date (checked the same way: free text; YYYY-MM-DD,
 * YYYY-MM or YYYY, not in the future). */
typedef struct lfr_image_provenance {
    const char *source;
    const char *date;
} lfr_image_provenance;

/* The same with its provenance (NULL: none recorded; the product always
 * gives one) and enrolment's accepted warnings (w NULL: none), stored with
 * the image and in the watchlist.image_add audit record, as for
 * lfr_deploy_entry_add_warned. */
lfr_status lfr_deploy_entry_image_add_warned(lfr_store *s, int64_t entry_id,
                                             const lfr_image_provenance *prov,
                                             const lfr_entry_warnings *w, const uint8_t *image,
                                             size_t image_len, const float *tmpl, int dim,
                                             const lfr_actor *by, int64_t *image_id,
                                             lfr_err *err);
/* The templates of one entry's images, decrypted, in the order they were
 * added: *n rows of *dim floats at *tmpl (the caller's: wipe and lfr_free).
 * LFR_ERR_NOT_FOUND for an entry without images (or no such entry). */
lfr_status lfr_deploy_entry_templates(lfr_store *s, int64_t entry_id, float **tmpl, int *dim,
                                      size_t *n, lfr_err *err);
/* Draft only (afterwards: an amendment with remove_entry_id). */
lfr_status lfr_deploy_entry_remove(lfr_store *s, int64_t entry_id, const lfr_actor *by,
                                   const char *reason, lfr_err *err);
lfr_status lfr_deploy_entry_list(lfr_store *s, int64_t deployment_id,
                                 lfr_watchlist_entry_info **out, size_t *n, lfr_err *err);
/* One photo of an entry and where it came from: what an authorising
 * officer or an auditor reads before trusting the entry's mean. */
typedef struct lfr_entry_photo_info {
    int64_t id, entry_id;
    int first;                         /* 1: the entry's first photo */
    char source[LFR_MAX_TEXT];         /* where it came from ("" not recorded) */
    char date[64];                     /* when it was taken */
    char added_by[LFR_MAX_ACTOR];      /* "" not recorded (added before it was kept) */
    int64_t added_at;
    char quality_warnings[LFR_MAX_QUALITY_WARNINGS + 1]; /* JSON array; "" none */
    char warnings_accepted[LFR_MAX_TEXT];                /* the reason */
    char warnings_accepted_by[LFR_MAX_ACTOR];
} lfr_entry_photo_info;
/* Every photo of an entry, oldest first (at most LFR_MAX_ENTRY_IMAGES), with
 * its source and date (the first photo's are the entry's), who added it
 * and when, and any quality warnings accepted.  LFR_ERR_NOT_FOUND for an
 * unknown entry.  *out is the caller's (lfr_free). */
lfr_status lfr_deploy_entry_photos(lfr_store *s, int64_t entry_id, lfr_entry_photo_info **out,
                                   size_t *n, lfr_err *err);
/* Decrypts one watchlist image (for an operator reviewing an alert). */
lfr_status lfr_deploy_entry_image_load(lfr_store *s, int64_t image_id, uint8_t **image,
                                       size_t *len, lfr_err *err);

/* The matcher's snapshot: every template of a LIVE deployment, decrypted,
 * in memory only, after lfr_deploy_watchlist_verify (LFR_ERR_INTEGRITY).  Row i is data[i*dim .. i*dim+dim-1], from image
 * image_ids[i] of entry entry_ids[i]. */
typedef struct lfr_deploy_templates {
    int64_t deployment_id;
    float threshold;           /* the authorised (or amended) threshold */
    char model_set[LFR_DEPLOY_MODEL_SET_MAX]; /* the deployment's set: every
                                  template is of it (LFR_ERR_CORRUPT when a
                                  stored template's set or dim is not) */
    int dim;                   /* the set's dim (also with n == 0) */
    size_t n;
    float *data;
    int64_t *entry_ids;
    int64_t *image_ids;
} lfr_deploy_templates;

lfr_status lfr_deploy_templates_load(lfr_store *s, int64_t deployment_id,
                                     lfr_deploy_templates *out, lfr_err *err);
void lfr_deploy_templates_free(lfr_deploy_templates *t);

/* Photo checks (an officer's photo + stated reason) ---------------------- */
#define LFR_PHOTO_CHECK_RESULT_LIST(X)                                               \
    X(NO_MATCH, "no_match")                                                    \
    X(MATCH, "match")                                                          \
    X(NO_FACE, "no_face")           /* decoded, but no face found */           \
    X(UNREADABLE, "unreadable")     /* the photo could not be decoded */

typedef enum lfr_photo_check_result {
#define LFR_PHOTO_CHECK_RESULT_ENUM(id, name) LFR_PHOTO_CHECK_##id,
    LFR_PHOTO_CHECK_RESULT_LIST(LFR_PHOTO_CHECK_RESULT_ENUM)
#undef LFR_PHOTO_CHECK_RESULT_ENUM
    LFR_PHOTO_CHECK_RESULT_COUNT
} lfr_photo_check_result;

const char *lfr_photo_check_result_name(lfr_photo_check_result r);          /* "no_face" */

typedef struct lfr_photo_check {
    const char *reason;        /* required: why this person was checked */
    int matched;               /* 1: a watchlist entry scored >= threshold */
    int64_t entry_id;          /* the best candidate when matched */
    float score;               /* when matched: >= the deployment's threshold */
    const uint8_t *image;      /* kept (sealed) ONLY when matched */
    size_t image_len;
    int64_t device_id;         /* the officer's device; 0 = the CLI */
    /* LFR_PHOTO_CHECK_NO_FACE / LFR_PHOTO_CHECK_UNREADABLE for a photo that was not
     * searched (matched must be 0); otherwise leave LFR_PHOTO_CHECK_NO_MATCH
     * (= 0) and `matched` decides between match and no_match. */
    lfr_photo_check_result result;
} lfr_photo_check;

/* Live deployments only.  Every check is recorded, a photo that could not
 * be decoded or had no face too.  The image of a check that did not match
 * is never stored; a "match" below the deployment's threshold is refused. */
lfr_status lfr_deploy_photo_check_record(lfr_store *s, int64_t deployment_id,
                                         const lfr_photo_check *c, const lfr_actor *officer,
                                         int64_t *check_id, lfr_err *err);

/* Alerts ------------------------------------------------------------------ */
/* What matched (the pipeline's lfr_pipeline_source, by the same names): one
 * embedded face, or the quality-weighted mean of a track's best embeddings.
 * "unknown" only for alerts stored before the source was kept (schema
 * step "alerts: what matched"); a new alert cannot be given it. */
#define LFR_ALERT_SOURCE_LIST(X)                                                     \
    X(BEST_SHOT, "best_shot")                                                        \
    X(TRACK_TEMPLATE, "track_template")                                              \
    X(UNKNOWN, "unknown")

typedef enum lfr_alert_source {
#define LFR_ALERT_SOURCE_ENUM(id, name) LFR_ALERT_FROM_##id,
    LFR_ALERT_SOURCE_LIST(LFR_ALERT_SOURCE_ENUM)
#undef LFR_ALERT_SOURCE_ENUM
    LFR_ALERT_SOURCE_COUNT
} lfr_alert_source;

const char *lfr_alert_source_name(lfr_alert_source s);               /* "best_shot" */
/* LFR_ERR_INVALID_ARG for anything but a name of the list. */
lfr_status lfr_alert_source_parse(const char *name, lfr_alert_source *out);

typedef struct lfr_alert {
    const char *camera;
    int64_t entry_id;
    float score;               /* must be >= the deployment's threshold */
    const uint8_t *face_image; /* live face crop, sealed; may be NULL */
    size_t face_image_len;
    int64_t image_id;          /* watchlist image that matched best; 0 = unknown */
    const char *source;        /* what matched: "best_shot" (NULL: the same) or
                                  "track_template" (lfr_alert_source names) */
    int template_n;            /* embeddings in what matched: 1 for a best shot
                                  (0 is taken as 1), 2..LFR_PIPELINE_MAX_TEMPLATE_K
                                  for a track template */
    int entry_photos;          /* photos of the entry averaged into the watchlist
                                  template that matched: 1 for one photo (0 is
                                  taken as 1), 2..LFR_MAX_ENTRY_IMAGES for the
                                  mean of several (lfr_match_hit.entry_images);
                                  the alert's likeness is read for it */
} lfr_alert;

/* Live deployments only. */
lfr_status lfr_deploy_alert_record(lfr_store *s, int64_t deployment_id, const lfr_alert *a,
                                   const lfr_actor *by, int64_t *alert_id, lfr_err *err);
/* A better match of the same person on the same track: replaces the
 * alert's score, face crop (sealed) and what matched (source and
 * template_n as in lfr_alert: a track template may beat the best shot that
 * raised the alert, or the reverse; entry_photos as in lfr_alert) when
 * `score` is higher, before anyone has decided on it; audited
 * (alert.update, with the previous score and source).  Live deployments
 * only. */
lfr_status lfr_deploy_alert_update(lfr_store *s, int64_t alert_id, float score,
                                   const uint8_t *face_image, size_t face_image_len,
                                   const char *source, int template_n, int entry_photos,
                                   const lfr_actor *by, lfr_err *err);
/* An operator's adjudication (once per alert): confirmed = 1 or rejected,
 * with an optional note (NULL or "" = none). */
lfr_status lfr_deploy_alert_decide(lfr_store *s, int64_t alert_id, int confirmed,
                                   const char *note, const lfr_actor *by, lfr_err *err);

/* Cameras of a deployment --------------------------------------------------
 * Added while the deployment is draft, authorised or live (a camera is not
 * biometric; adding one is audited: camera.add).  The URL may carry
 * credentials, so it is sealed at rest and never printed or logged; `name`
 * is what alerts, events and reports show. */
/* How an rtsp:// camera sends RTP (video.h rtsp_tcp), one per camera:
 * TCP, interleaved in the RTSP connection, is the default (it passes NAT
 * and firewalls and loses nothing); UDP is for cameras that only speak UDP
 * and networks that block interleaved TCP.  Other sources ignore it. */
#define LFR_RTSP_TRANSPORT_LIST(X)                                                   \
    X(TCP, "tcp")                                                                     \
    X(UDP, "udp")
typedef enum lfr_rtsp_transport {
#define LFR_RTSP_TRANSPORT_ENUM(id, text) LFR_RTSP_##id,
    LFR_RTSP_TRANSPORT_LIST(LFR_RTSP_TRANSPORT_ENUM)
#undef LFR_RTSP_TRANSPORT_ENUM
    LFR_RTSP_TRANSPORT_COUNT
} lfr_rtsp_transport;
/* "tcp", "udp" ("?" out of range). */
const char *lfr_rtsp_transport_name(lfr_rtsp_transport t);
/* "tcp" or "udp" -> *out; NULL or "" = LFR_RTSP_TCP.  Anything else:
 * LFR_ERR_INVALID_ARG naming the value (*out left TCP). */
lfr_status lfr_rtsp_transport_parse(const char *text, lfr_rtsp_transport *out, lfr_err *err);

typedef struct lfr_camera_info {
    int64_t id, deployment_id;
    char name[LFR_MAX_ACTOR];
    char added_by[LFR_MAX_ACTOR];
    int64_t added_at;
    int64_t removed_at;        /* 0 = in use */
    lfr_rtsp_transport rtsp_transport;   /* TCP for cameras added before it existed */
} lfr_camera_info;

/* A camera with the default transport (TCP): lfr_deploy_camera_add_transport
 * with NULL. */
lfr_status lfr_deploy_camera_add(lfr_store *s, int64_t deployment_id, const char *name,
                                 const char *url, const lfr_actor *by, int64_t *camera_id,
                                 lfr_err *err);
/* rtsp_transport: NULL/"" or "tcp" (the default), or "udp"; stored with the
 * camera and in the camera.add audit record.  Refused (LFR_ERR_INVALID_ARG):
 * any other value, and "udp" for a URL that is not rtsp:// (rtsps:// always
 * carries RTP in its TLS connection; files, HTTP and webcams have no RTP).
 * "tcp" is accepted for every source: it is what every camera has unless
 * told otherwise. */
lfr_status lfr_deploy_camera_add_transport(lfr_store *s, int64_t deployment_id, const char *name,
                                           const char *url, const char *rtsp_transport,
                                           const lfr_actor *by, int64_t *camera_id, lfr_err *err);
lfr_status lfr_deploy_camera_remove(lfr_store *s, int64_t camera_id, const lfr_actor *by,
                                    lfr_err *err);
/* Cameras in use (removed ones left out). */
lfr_status lfr_deploy_camera_list(lfr_store *s, int64_t deployment_id, lfr_camera_info **out,
                                  size_t *n, lfr_err *err);
/* The camera's URL, unsealed, for the pipeline only (caller wipes, lfr_free). */
lfr_status lfr_deploy_camera_url(lfr_store *s, int64_t camera_id, char **url, lfr_err *err);

/* Alerts: reading, dispatch to officers, outcomes ---------------------------
 * The path of an alert, each step audited:
 *   raised (pipeline) -> decided by the operator (confirmed/rejected)
 *   -> dispatched to officers' devices (only after "confirmed": nothing is
 *   dispatched before a human decision; LFR_ERR_STATE otherwise)
 *   -> acknowledged by an officer -> outcome recorded (by an officer or
 *   the operator). */
#define LFR_ALERT_OUTCOME_LIST(X)                                              \
    X(ENGAGED, "engaged")                                                      \
    X(ARRESTED, "arrested")                                                    \
    X(NO_FURTHER_ACTION, "no_further_action")                                  \
    X(MISTAKEN_IDENTITY, "mistaken_identity")

typedef enum lfr_alert_outcome {
#define LFR_ALERT_OUTCOME_ENUM(id, name) LFR_ALERT_OUTCOME_##id,
    LFR_ALERT_OUTCOME_LIST(LFR_ALERT_OUTCOME_ENUM)
#undef LFR_ALERT_OUTCOME_ENUM
    LFR_ALERT_OUTCOME_COUNT
} lfr_alert_outcome;

const char *lfr_alert_outcome_name(lfr_alert_outcome o);
lfr_status lfr_alert_outcome_parse(const char *name, lfr_alert_outcome *out);

typedef struct lfr_alert_info {
    int64_t id, deployment_id;
    int64_t entry_id;                  /* 0 once the watchlist is deleted */
    int64_t image_id;                  /* watchlist image that matched best, 0 unknown */
    char subject_ref[LFR_MAX_ACTOR];
    char camera[LFR_MAX_ACTOR];
    int64_t at;
    float score, threshold;
    int has_face_image;
    char decision[16];                 /* "", "confirmed", "rejected" */
    char decided_by[LFR_MAX_ACTOR];
    int64_t decided_at;
    char note[LFR_MAX_TEXT];           /* the operator's note with the decision */
    int64_t dispatched_at;             /* 0 = not dispatched */
    int dispatched_all;                /* 1: to every device of the deployment */
    char outcome[32];                  /* "" or an lfr_alert_outcome name */
    char outcome_by[LFR_MAX_ACTOR];
    int64_t outcome_at;
    char outcome_note[LFR_MAX_TEXT];
    char model_set[LFR_DEPLOY_MODEL_SET_MAX]; /* the deployment's: score's meaning */
    lfr_alert_source source;           /* what reached `score` (UNKNOWN: stored before
                                          the source was kept) */
    int template_n;                    /* its embeddings: 1 for a best shot, 0 unknown */
    int entry_photos;                  /* photos averaged into the watchlist template
                                          that matched (lfr_alert), 0 not recorded
                                          (stored before it was kept: one photo) */
} lfr_alert_info;
/* The alert's likeness: lfr_match_cal_entry_likeness of its score under its
 * deployment's model set, for its entry_photos (one photo when not
 * recorded). */
double lfr_alert_likeness(const lfr_alert_info *a);

lfr_status lfr_deploy_alert_get(lfr_store *s, int64_t alert_id, lfr_alert_info *out, lfr_err *err);
/* Alerts of a deployment, newest first, at most `limit` (0 = all) with
 * id < before_id (0 = from the newest). */
lfr_status lfr_deploy_alert_list(lfr_store *s, int64_t deployment_id, int64_t before_id,
                                 size_t limit, lfr_alert_info **out, size_t *n, lfr_err *err);
/* The live face crop (JPEG), unsealed in memory (caller wipes, lfr_free). */
lfr_status lfr_deploy_alert_image_load(lfr_store *s, int64_t alert_id, uint8_t **image,
                                       size_t *len, lfr_err *err);
/* Dispatch a confirmed alert of a live deployment to the given devices
 * (device ids > 0, at most LFR_MAX_DISPATCH_DEVICES; n = 0 and all = 1 for
 * every device of the deployment).  May be repeated to add devices.
 * Audited alert.dispatch.  Whether a device belongs to the deployment is
 * the caller's check (the accounts module owns devices). */
lfr_status lfr_deploy_alert_dispatch(lfr_store *s, int64_t alert_id, const int64_t *device_ids,
                                     size_t n, int all, const lfr_actor *by, lfr_err *err);
/* 1 when the alert was dispatched to this device (or to all). */
lfr_status lfr_deploy_alert_dispatched_to(lfr_store *s, int64_t alert_id, int64_t device_id,
                                          int *yes, lfr_err *err);
/* An officer saw it on a device it was dispatched to (audited alert.ack;
 * once per device: LFR_ERR_STATE the second time). */
lfr_status lfr_deploy_alert_ack(lfr_store *s, int64_t alert_id, int64_t device_id,
                                const lfr_actor *by, lfr_err *err);
/* The outcome of a dispatched alert; note may be NULL.  Once per alert
 * (LFR_ERR_STATE before dispatch or the second time). */
lfr_status lfr_deploy_alert_outcome(lfr_store *s, int64_t alert_id, lfr_alert_outcome o,
                                    const char *note, const lfr_actor *by, lfr_err *err);

/* Photo checks, read back (no images: reports and the console's list). */
typedef struct lfr_check_info {
    int64_t id, deployment_id;
    char officer[LFR_MAX_ACTOR];
    int64_t device_id;                 /* 0: from the CLI */
    int64_t at;
    char reason[LFR_MAX_TEXT];
    char result[16];                   /* "match", "no_match", "no_face", "unreadable" */
    int64_t entry_id;
    char subject_ref[LFR_MAX_ACTOR];
    float score;
} lfr_check_info;

/* Newest first, at most `limit` (0 = all) with id < before_id (0 = from the
 * newest). */
lfr_status lfr_deploy_check_list(lfr_store *s, int64_t deployment_id, int64_t before_id,
                                 size_t limit, lfr_check_info **out, size_t *n, lfr_err *err);

/* Retention --------------------------------------------------------------- */
typedef struct lfr_retention_rules {
    int64_t watchlist_after_end_s;   /* default 24 h */
    int64_t alerts_s;                /* default 31 days */
    int64_t photo_checks_s;          /* default 31 days */
} lfr_retention_rules;

void lfr_retention_rules_default(lfr_retention_rules *r);

typedef struct lfr_purge_report {
    int64_t watchlists;              /* deployments whose watchlist was deleted */
    int64_t entries, images;
    int64_t alerts, alert_images;
    int64_t photo_checks, photo_check_images;
    int64_t deployments_purged;
    int64_t receipts;                /* retention.delete records written */
} lfr_purge_report;

/* Deletes what the rules say is due at `now`, in one transaction, writes a
 * receipt per data class and deployment, then compacts the database. */
lfr_status lfr_deploy_purge(lfr_store *s, int64_t now, const lfr_retention_rules *rules,
                            lfr_purge_report *report, lfr_err *err);

/* Rows against the log (deploy_verify.c) ---------------------------------
 * The audit chain vouches for the log, not for the deployments table: an
 * edited row (another authorising officer, a later start) would go unseen.
 * Cross-checks every deployment row's lifecycle fields against the log's
 * records for that deployment: created_by, authorised_by/at, started_at,
 * ended_by/at and purged_at each must match the actor and time (within
 * LFR_AUDIT_ROW_CLOCK_SLACK_S) of the newest matching record, and a time
 * the log has must not be missing from the row.  Needs no key.  LFR_OK, or
 * LFR_ERR_INTEGRITY with report->bad_seq = the record the row contradicts
 * (0 when the log has none) and report->reason naming the deployment and
 * the field.  report->records counts the deployments checked. */
lfr_status lfr_deploy_verify_rows(lfr_store *s, lfr_audit_report *report, lfr_err *err);

#endif
