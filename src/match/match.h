/*
 * match.h - the matcher: a watchlist as an immutable snapshot of face
 * templates, exact open-set 1:N search, and what a score and a threshold
 * mean (false-match rate, likeness, expected false alerts).
 *
 * OVERVIEW
 *   Snapshot   lfr_match_snapshot holds N templates (unit vectors of `dim`
 *              floats, 192 for our engine), each with the watchlist entry
 *              it belongs to (int64 entry id) and the image it came from
 *              (int32 image index).  An entry may have several templates
 *              (several photos).  Built once - lfr_match_snapshot_new, _add
 *              for each template, _freeze; or lfr_match_snapshot_build from
 *              arrays - then never changed.  Templates are stored
 *              contiguously, grouped by entry, each row 64-byte aligned and
 *              zero-padded to a multiple of 16 floats.
 *   Search     lfr_match_search scores a probe against EVERY template
 *              (exact float32 results, no index: the int8 scan below only
 *              decides which templates need their float32 score), takes per entry
 *              the best of its templates, and returns every entry whose best
 *              cosine is >= the threshold, best first (ties: lower entry id
 *              first).  Open set by construction: below the threshold there
 *              is no answer at all; there is no "nearest entry" result.
 *              lfr_match_search_batch does up to LFR_MAX_MATCH_BATCH probes
 *              (the faces of one frame) in one pass over the templates.
 *              Two implementations give the same results up to float
 *              rounding: portable C ("scalar") and AVX2+FMA ("avx2"; "vnni"
 *              is avx2 with AVX-512 VNNI for the int8 scan below), chosen
 *              at run time from the CPU (lfr_match_impl_auto).
 *   Int8       At freeze every template also gets an int8 copy (per-template
 *              scale: t ~ scale * q, q in -127..127) and the norm of its
 *              rounding error.  The default search (precision int8) scans
 *              that copy with the probe quantised to -64..64, bounds each
 *              approximate score's error rigorously (Cauchy-Schwarz on the
 *              two rounding errors, plus float rounding), re-scores in
 *              float32 every entry whose bound can reach the threshold (or
 *              the worst kept hit of a full list), and reports only float32
 *              scores: hits, scores (bit for bit) and statuses are exactly
 *              those of the float32 scan (precision fp32) with the same
 *              implementation.  It reads a quarter of the memory; a batch
 *              reads it once for all its probes.  An int4 copy (q in -7..7,
 *              two a byte) works the same way with half int8's memory and a
 *              looser bound (more entries re-scored).
 *   Meaning    A cosine is not a probability and not a percentage.  The
 *              calibration table (calib_table.h, produced by `openlfr
 *              calibrate` on LFW; docs/likeness.md) gives, for a cosine t:
 *                FMR(t)   the fraction of comparisons of two DIFFERENT people
 *                         that score >= t (false-match rate per comparison);
 *                TAR(t)   the fraction of comparisons of two photos of the
 *                         SAME person that score >= t (1 - FNMR);
 *                FPIR(t, N) = 1 - (1 - FMR(t))^N, the chance that a face
 *                         of someone NOT on a watchlist of N templates raises
 *                         at least one alert (independence assumed);
 *                likeness(t) = clamp(100 * -log10(FMR(t)) / 7, 0, 100):
 *                         each 100/7 = 14.3 points is a factor 10 rarer;
 *                         43 = one in a thousand comparisons of different
 *                         people score this high, 86 = one in a million,
 *                         100 = one in ten million or rarer (the resolution
 *                         of the calibration).  Monotonic in t; a display
 *                         scale, never a probability that two faces are the
 *                         same person.
 *              FMR is interpolated in log space between measured points and
 *              extrapolated conservatively (over-estimated) beyond the
 *              reliably measured range; lfr_match_threshold_info says when a
 *              threshold lies outside it.
 *   Groups     calib_groups.h (`openlfr calibrate --groups`) holds impostor
 *              tables per data set and per demographic group; beside the
 *              average (LFW) rates, lfr_match_threshold_info names the
 *              worst-served group and its rates, and
 *              lfr_match_threshold_for_false_alerts gives the threshold
 *              that meets a false-alert target for that group (below).
 *
 * OWNERSHIP
 *   lfr_match_snapshot_new and _build return a snapshot holding one
 *   reference.  lfr_match_snapshot_ref adds one, lfr_match_snapshot_unref
 *   drops one (atomic; the last one frees it).  A frozen snapshot is never
 *   modified, so any number of threads may search it at once without locks;
 *   a camera thread keeps its reference while it searches, and a new
 *   watchlist version is a new snapshot.  Only the builder may call _add and
 *   _freeze, before sharing.  Search writes only the caller's hit arrays and
 *   allocates nothing.  Nothing here logs or stores face data.
 */
#ifndef LFR_MATCH_H
#define LFR_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* Default alert threshold (cosine of our 192-d MobileFaceNet embeddings),
 * chosen from the LFW calibration (calib_table.h): at 0.70, 21 of 22.1 M
 * impostor pairs scored as high, FMR ~ 9.5e-7 per comparison (likeness 86),
 * so with a watchlist of 1,000 templates FPIR ~ 9.5e-4: about ONE false
 * alert per 1,000 faces of passers-by (9.5 per 10,000).  The price: 15 % of
 * genuine LFW pairs score below it (TAR 0.845).  The cosine at FMR 1e-4
 * (0.563) would catch more (TAR 0.98) but with 1,000 templates it raises a
 * false alert for about one face in ten (FPIR 0.095), more than an operator
 * can check in a crowd, and each one is a person stopped for nothing.  0.70
 * is also the highest threshold whose FMR is still measured rather than
 * extrapolated (LFR_MATCH_CALIB_MIN_PAIRS).  docs/likeness.md gives the
 * whole trade-off; a deployment sets its own threshold and is shown these
 * numbers for it (lfr_match_threshold_info).  For the worst-served
 * demographic group (calib_groups.h: UTKFace adult Indian women) the model
 * gives FMR 3.2e-4 at 0.70, ~340 times LFW's: docs/likeness.md. */
#define LFR_MATCH_DEFAULT_THRESHOLD 0.70f

/* Snapshot ---------------------------------------------------------------- */

typedef struct lfr_match_snapshot lfr_match_snapshot;

/* An empty, unfrozen snapshot for up to `capacity` templates of `dim`
 * floats.  dim 1..LFR_MAX_MATCH_DIM; capacity 0..LFR_MAX_WATCHLIST_TEMPLATES
 * (LFR_ERR_TOO_LARGE past it).  All memory is allocated here. */
lfr_status lfr_match_snapshot_new(int dim, size_t capacity, lfr_match_snapshot **out);

/* Adds one template (dim floats, copied).  LFR_ERR_INVALID_ARG unless every
 * value is finite and the vector has unit length (|norm^2 - 1| <= 1e-3:
 * scores of other vectors would not be cosines and the calibration would not
 * apply); LFR_ERR_TOO_LARGE past the capacity; LFR_ERR_STATE once frozen. */
lfr_status lfr_match_snapshot_add(lfr_match_snapshot *s, int64_t entry_id,
                                  int32_t image_index, const float *tmpl);

/* Ends building: groups the templates by entry (stable: an entry's
 * templates keep the order they were added in).  After it the snapshot is
 * immutable.  On failure (LFR_ERR_NOMEM) the snapshot stays unfrozen and
 * freeze may be retried.  LFR_ERR_STATE if already frozen. */
lfr_status lfr_match_snapshot_freeze(lfr_match_snapshot *s);

/* new + add for each of `count` templates (row i: templates + i*dim,
 * entry_ids[i], image_indices[i] or i when image_indices is NULL) + freeze.
 * On failure *out is NULL and nothing is leaked. */
lfr_status lfr_match_snapshot_build(int dim, size_t count, const float *templates,
                                    const int64_t *entry_ids, const int32_t *image_indices,
                                    lfr_match_snapshot **out);

/* Entry templates: how an entry with several images is matched
 * (docs/accuracy.md, "Several images per entry").  X(id, name, what). */
#define LFR_MATCH_ENTRY_TEMPLATE_LIST(X)                                                   \
    X(BEST, "best", "the best score over the entry's images")                              \
    X(MEAN, "mean", "the cosine with the normalised mean of the entry's images; the "     \
                    "images are scored only to show the best-scoring one")                \
    X(UNION, "union", "the best of the images and of their mean")

typedef enum lfr_match_entry_template {
#define LFR_MATCH_ET_ENUM(id, name, what) LFR_MATCH_ENTRY_##id,
    LFR_MATCH_ENTRY_TEMPLATE_LIST(LFR_MATCH_ET_ENUM)
#undef LFR_MATCH_ET_ENUM
    LFR_MATCH_ENTRY_TEMPLATE_COUNT
} lfr_match_entry_template;

/* What the product uses (measured: docs/accuracy.md). */
#define LFR_MATCH_ENTRY_TEMPLATE_DEFAULT LFR_MATCH_ENTRY_MEAN

const char *lfr_match_entry_template_name(lfr_match_entry_template k); /* "mean" */

/* lfr_match_snapshot_build with entry templates: every entry with 2+
 * templates also gets the normalised mean of them (image index -1).  MEAN:
 * the entry's score is the mean's cosine, and its images are kept only to
 * name the best-scoring one in a hit; UNION: the best of images and mean;
 * BEST: exactly lfr_match_snapshot_build.  count <= LFR_MAX_WATCHLIST_
 * TEMPLATES (the snapshot may hold one more row per entry with several
 * images).  Entries whose images sum to ~0 get no mean (their images
 * count, as for BEST). */
lfr_status lfr_match_snapshot_build_entries(int dim, size_t count, const float *templates,
                                            const int64_t *entry_ids,
                                            const int32_t *image_indices,
                                            lfr_match_entry_template kind,
                                            lfr_match_snapshot **out);

/* The templates that lfr_match_snapshot_build_entries makes searchable
 * (their scores can raise an alert) from count templates of entry_ids:
 * what FPIR counts (lfr_match_fpir, lfr_match_threshold_info).  BEST:
 * count; MEAN: the entries; UNION: count + entries with several images. */
lfr_status lfr_match_searched_count(size_t count, const int64_t *entry_ids,
                                    lfr_match_entry_template kind, size_t *out);

lfr_match_snapshot *lfr_match_snapshot_ref(lfr_match_snapshot *s); /* returns s */
void lfr_match_snapshot_unref(lfr_match_snapshot *s);              /* NULL ok */

int lfr_match_snapshot_dim(const lfr_match_snapshot *s);
size_t lfr_match_snapshot_templates(const lfr_match_snapshot *s);
size_t lfr_match_snapshot_entries(const lfr_match_snapshot *s); /* 0 until frozen */
/* Rows whose scores can raise an alert (all rows but images kept only to
 * be shown): the n of FPIR.  lfr_match_snapshot_templates counts all rows. */
size_t lfr_match_snapshot_searched(const lfr_match_snapshot *s);
int lfr_match_snapshot_frozen(const lfr_match_snapshot *s);

/* Search ------------------------------------------------------------------ */

typedef struct lfr_match_hit {
    int64_t entry_id;     /* the watchlist entry */
    int32_t image_index;  /* which of its images scored best (a real image
                             even when the entry template gave the score;
                             -1 only for an entry without images) */
    float score;          /* the entry's score: cosine of its best template
                             that counts toward alerts and the probe */
    int entry_template;   /* 1: the score is the entry template's (the mean
                             of its images), not one image's */
    float image_score;    /* cosine of image image_index and the probe */
    int entry_images;     /* photos averaged into the template that gave
                             `score`: 2+ when entry_template, else 1 (the
                             k of lfr_match_cal_entry_likeness) */
} lfr_match_hit;

typedef enum lfr_match_impl {
    LFR_MATCH_IMPL_AUTO,    /* vnni, else avx2, else scalar, as the CPU allows */
    LFR_MATCH_IMPL_SCALAR,  /* portable C */
    LFR_MATCH_IMPL_AVX2,    /* x86-64 AVX2 + FMA */
    LFR_MATCH_IMPL_VNNI     /* avx2's float32 kernel (same scores) and an
                               AVX-512 VNNI (+VL, 256-bit) int8 kernel */
} lfr_match_impl;

/* The implementation AUTO resolves to on this machine. */
lfr_match_impl lfr_match_impl_auto(void);
int lfr_match_impl_available(lfr_match_impl impl);
const char *lfr_match_impl_name(lfr_match_impl impl);

/* Every entry whose best template scores >= threshold, best first.
 * probe: dim floats, unit length (else LFR_ERR_INVALID_ARG, as for _add).
 * threshold: finite (else LFR_ERR_INVALID_ARG).
 * The hits are written to hits[0 .. *n_hits-1].  When MORE than max_hits
 * entries reach the threshold, hits holds the best max_hits of them,
 * *n_hits = max_hits and the status is LFR_ERR_TOO_LARGE: the list is not
 * complete, and must not be shown as if it were.  A hits array of
 * lfr_match_snapshot_entries() elements never overflows.
 * LFR_ERR_STATE if the snapshot is not frozen. */
lfr_status lfr_match_search(const lfr_match_snapshot *s, const float *probe, float threshold,
                            lfr_match_hit *hits, int max_hits, int *n_hits);

/* n_probes (1..LFR_MAX_MATCH_BATCH) probes, row p at probes + p*dim, in one
 * pass over the templates.  Probe p's hits go to hits + p*max_hits, their
 * number to n_hits[p]; each probe's result is exactly what lfr_match_search
 * returns for it.  LFR_ERR_TOO_LARGE if any probe's list was cut. */
lfr_status lfr_match_search_batch(const lfr_match_snapshot *s, const float *probes,
                                  int n_probes, float threshold, lfr_match_hit *hits,
                                  int max_hits, int *n_hits);

/* The same with an explicit implementation (tests, benchmarks);
 * LFR_ERR_UNSUPPORTED if this CPU lacks it. */
lfr_status lfr_match_search_impl(const lfr_match_snapshot *s, lfr_match_impl impl,
                                 const float *probes, int n_probes, float threshold,
                                 lfr_match_hit *hits, int max_hits, int *n_hits);

/* What a search scans.  X(id, name, what). */
#define LFR_MATCH_PRECISION_LIST(X)                                                 \
    X(AUTO, "auto", "int8 (results are the same; it reads less memory)")           \
    X(FP32, "fp32", "every template in float32")                                    \
    X(INT8, "int8", "the int8 copy, then float32 for the entries that may reach "  \
                    "the threshold")                                                \
    X(INT4, "int4", "the int4 copy (half int8's memory, looser bound), then "      \
                    "float32 likewise")

typedef enum lfr_match_precision {
#define LFR_MATCH_PREC_ENUM(id, name, what) LFR_MATCH_PREC_##id,
    LFR_MATCH_PRECISION_LIST(LFR_MATCH_PREC_ENUM)
#undef LFR_MATCH_PREC_ENUM
    LFR_MATCH_PREC_COUNT
} lfr_match_precision;

const char *lfr_match_precision_name(lfr_match_precision p); /* "int8" */

/* What one search did (tests, benchmarks). */
typedef struct lfr_match_search_stats {
    size_t rows_scanned;   /* rows x probes scored by the scan */
    size_t rows_rescored;  /* rows x probes re-scored in float32 after an int8 scan */
    float max_bound;       /* largest int8 error bound of the search (0 for fp32) */
} lfr_match_search_stats;

/* AUTO is int8, not int4, although int4 reads half as much: int4's bound
 * (~0.2 against int8's ~0.03, bench_scale) re-scores every face scoring
 * above ~threshold - 0.2, which for real faces is ~500-1,500 rows per
 * million templates at LFW's impostor rates (lfr_match_cal_fmr at
 * threshold - 0.2; more for the worst-served demographic group), against a
 * few for int8; those re-scorings are random reads of float32 rows.  Not
 * measured on real watchlists yet.  lfr_match_search_impl and the public
 * search use AUTO.
 *
 * lfr_match_search_impl with an explicit precision; stats may be NULL.
 * Every precision returns exactly the same hits, scores and status for
 * the same implementation (see Int8 above). */
lfr_status lfr_match_search_prec(const lfr_match_snapshot *s, lfr_match_impl impl,
                                 lfr_match_precision prec, const float *probes, int n_probes,
                                 float threshold, lfr_match_hit *hits, int max_hits,
                                 int *n_hits, lfr_match_search_stats *stats);

/* For every row of s (in the snapshot's order: by entry): exact[r], the
 * float32 score the search reports (before clamping to 1); approx[r], the
 * int8 (prec INT8) or int4 (INT4) approximation; bound[r], its error
 * bound, so that |approx[r] -
 * exact[r]| <= bound[r] always.  Any output may be NULL.  One probe (unit
 * length).  For tests and measurements. */
lfr_status lfr_match_row_scores(const lfr_match_snapshot *s, lfr_match_impl impl,
                                lfr_match_precision prec, const float *probe, float *exact,
                                float *approx, float *bound);

/* Bytes the snapshot holds: float32 rows, int8 rows, per-row data. */
typedef struct lfr_match_memory {
    size_t fp32_bytes, int8_bytes, int4_bytes, other_bytes;
} lfr_match_memory;
void lfr_match_snapshot_memory(const lfr_match_snapshot *s, lfr_match_memory *out);

/* Score meaning --------------------------------------------------------------
 * All take a cosine (clamped to [-1, 1]; NaN is treated as -1) and use the
 * calibration table compiled in (calib_table.h). */

/* Decades of FMR that span the likeness scale 0..100.  Seven, because the
 * calibration's 22.1 M impostor pairs can show rates down to ~1e-7 and no
 * lower (3 pairs scored above 0.83; none above 0.84): the top of the scale
 * is the end of the evidence.  (Six decades would put the default threshold
 * at 100, so every alert would read 100 and the scale would tell the
 * operator nothing.)  Re-derive this when the table is re-measured. */
#define LFR_MATCH_LIKENESS_DECADES 7

/* Fewest impostor pairs at or above a table point for that point to count
 * as measured: with 20 pairs the relative standard error of FMR is 22 %
 * (Poisson).  Past the last such point FMR is extrapolated
 * (docs/likeness.md). */
#define LFR_MATCH_CALIB_MIN_PAIRS 20

/* Expected false-match rate per comparison at threshold t: the fraction of
 * comparisons of two different people scoring >= t.  Non-increasing in t,
 * in (0, 1]; FMR(-1) = 1. */
double lfr_match_fmr(float t);

/* Expected true-accept rate (1 - FNMR) of a comparison of two photos of the
 * same person at threshold t, from the genuine distribution.  Non-increasing
 * in t, in [0, 1]. */
double lfr_match_tar(float t);

/* clamp(100 * -log10(FMR(t)) / LFR_MATCH_LIKENESS_DECADES, 0, 100).
 * Non-decreasing in t. */
double lfr_match_likeness(float t);

/* The lowest cosine whose likeness is >= l (l clamped to 0..100):
 * lfr_match_likeness(lfr_match_threshold_for_likeness(l)) >= l, and any
 * lower cosine has a lower likeness. */
float lfr_match_threshold_for_likeness(double l);

/* 1 - (1 - FMR(t))^n_templates, computed without cancellation.  For
 * entries with several templates count the templates: each is a separate
 * chance of a false match.  0 when n_templates is 0. */
double lfr_match_fpir(float t, size_t n_templates);

/* Everything an operator or an oversight body should see next to a
 * threshold.  Fill with lfr_match_threshold_info. */
typedef struct lfr_match_threshold_meaning {
    float threshold;            /* the cosine */
    size_t n_templates;         /* watchlist size it was computed for */
    double fmr;                 /* per comparison */
    double fpir;                /* per face of a person not on the list */
    double false_alerts_per_10k;/* expected false alerts per 10,000 faces
                                   of people not on the list: 1e4 * FPIR */
    double likeness;            /* 0..100 */
    double tar;                 /* per comparison of the same person */
    int extrapolated;           /* 1: FMR lies beyond the reliably measured
                                   range (conservative extrapolation) */
    /* The worst-served demographic group at this threshold (highest FMR;
     * lfr_match_worst_group): -1 and NULL when no group is measured. */
    int worst_group;            /* index into lfr_match_groups() */
    const char *worst_name;     /* "UTKFace adult Asian women" */
    double worst_fmr;           /* its FMR per comparison */
    double worst_fpir;          /* FPIR for n_templates with that FMR */
    double worst_false_alerts_per_10k; /* 1e4 * worst_fpir */
    int worst_extrapolated;     /* 1: the group's FMR at this threshold is
                                   beyond what its pairs can show
                                   (lfr_match_group_fmr) */
} lfr_match_threshold_meaning;

/* Fills every field, the worst group's included. */
void lfr_match_threshold_info(float threshold, size_t n_templates,
                              lfr_match_threshold_meaning *out);

/* The compiled-in calibration, for display and for the documentation. */
typedef struct lfr_match_calib_point {
    double cosine;
    double fmr;               /* impostor pairs >= cosine / all impostor pairs */
    unsigned long long n_imp; /* impostor pairs >= cosine */
    double tar;               /* genuine pairs >= cosine / all genuine pairs */
    unsigned long long n_gen; /* genuine pairs >= cosine */
} lfr_match_calib_point;

typedef struct lfr_match_calib_info {
    const char *source;                 /* command, data, date */
    unsigned long long impostor_pairs;  /* totals measured */
    unsigned long long genuine_pairs;
    float measured_up_to;  /* highest table cosine with >= LFR_MATCH_CALIB_MIN_PAIRS
                              impostor pairs: FMR above it is extrapolated */
} lfr_match_calib_info;

/* Points of every calibration table: cosines 0.00, 0.01, ..., 1.00. */
#define LFR_MATCH_CALIB_POINTS 101

/* Mean templates of k photos against single photos (calib_entry_SET.h,
 * `openlfr calibrate --entry-images K`): comparisons with photos of other
 * people, and per grid cosine how many of them reach it as the entry's
 * mean template and as its first photo alone. */
typedef struct lfr_match_entry_calib {
    int k, people, entries;
    unsigned long long comparisons;
    unsigned long long mean_ge[LFR_MATCH_CALIB_POINTS];
    unsigned long long single_ge[LFR_MATCH_CALIB_POINTS];
} lfr_match_entry_calib;

/* The table points (n of them) and where they came from. */
const lfr_match_calib_point *lfr_match_calib(int *n, lfr_match_calib_info *info);

/* Data sets and demographic groups ------------------------------------------
 * calib_groups.h (produced by `openlfr calibrate --groups`; docs/likeness.md)
 * holds one impostor table per data set (LFW, CelebA, UTKFace) and per
 * demographic group (UTKFace adults by sex x race; LFW by sex, and by sex x
 * race where its metadata gives one race).  A group's impostor pairs are
 * pairs of two DIFFERENT people BOTH in the group, as NIST's demographic
 * reports count them: false matches come mostly from people who look
 * alike, so a watchlist and a crowd of one group is the case that matters.
 * UTKFace has no identities: all its pairs of different chips are counted
 * as impostors (a few same-person pairs may hide among them).
 *
 * A group's FMR at t (lfr_match_group_fmr):
 *   - measured (log-interpolated as the main table) up to its last point
 *     with >= LFR_MATCH_CALIB_MIN_PAIRS pairs; in a data set without
 *     identities (UTKFace) never past the anchor, the last table point
 *     where LFW's FMR is >= LFR_MATCH_GROUP_ANCHOR_FMR;
 *   - beyond (from t_r, that last point): LFW's FMR at t times the group's
 *     ratio R to LFW at t_r, the ratio growing further by as much per
 *     decade of LFW's FMR as it grew from LFW's FMR-1e-2 point to t_r
 *     (never shrinking; 0 when t_r is not past that point):
 *       log FMR_g(t) = log FMR(t) + log R + k (log FMR(t_r) - log FMR(t)).
 *   This is a model, flagged `extrapolated`: the groups' pairs cannot show
 *   the rates that matter at real thresholds (1e-6 and below).  It assumes
 *   the watchlist and the crowd are both of the group (the worst case:
 *   comparisons across groups match less often). */

/* The anchor: FMR 1e-3 on LFW (cosine 0.46).  Further into the tail,
 * UTKFace's groups (no identities) are dominated by hidden same-person
 * pairs: for adult White men the rate stays nearly flat from 0.56 (2.0e-4)
 * to 0.70 (1.3e-4) while LFW's falls 100 times, which impostor tails do
 * not do.  At 1e-3 those pairs (at most the ~40 pairs per group that
 * score >= 0.70) are a small share of the several hundred that reach the
 * anchor in the groups that matter. */
#define LFR_MATCH_GROUP_ANCHOR_FMR 1e-3

/* Fewest impostor pairs for a demographic group to be considered for the
 * worst-served group; it must also have >= LFR_MATCH_CALIB_MIN_PAIRS pairs
 * at the anchor (its ratio to LFW measured that far).  5,000 pairs: with fewer, one look-alike pair more or less moves
 * the group's rate by several per cent at 1e-3, and the worst group would
 * be whichever small group happened to hold one. */
#define LFR_MATCH_GROUP_MIN_PAIRS 5000ull

typedef enum lfr_match_group_kind {
    LFR_MATCH_GROUP_DATA_SET,     /* every photo of one data set */
    LFR_MATCH_GROUP_DEMOGRAPHIC   /* sex (x race) within one data set */
} lfr_match_group_kind;

typedef struct lfr_match_group {
    const char *name;             /* "UTKFace adult Asian women" */
    const char *data_set;         /* "UTKFace" */
    lfr_match_group_kind kind;
    int photos;                   /* embedded photos in the group */
    unsigned long long impostor_pairs, genuine_pairs;
    const lfr_match_calib_point *points; /* the grid of the main table
                                            (lfr_match_calib n points); TAR 0
                                            where there are no identities */
} lfr_match_group;

/* The groups table (*n rows; data sets first) and its source line. */
const lfr_match_group *lfr_match_groups(int *n, const char **source);

/* Lowest FMR group g can measure: LFR_MATCH_CALIB_MIN_PAIRS / its impostor
 * pairs (1 when it has fewer): "not measurable below FMR x". */
double lfr_match_group_min_fmr(int g);

/* FMR of group g at t (model above); *extrapolated (may be NULL) is set to
 * 1 when t lies beyond the group's measured range.  -1 for a bad g. */
double lfr_match_group_fmr(int g, float t, int *extrapolated);

/* 1 when group g is a demographic group considered for the worst group
 * (LFR_MATCH_GROUP_MIN_PAIRS says which). */
int lfr_match_group_considered(int g);

/* The worst-served demographic group at t: the highest FMR among the
 * considered groups (ties: the first).  Its FMR to *fmr (may be NULL).
 * -1 when none. */
int lfr_match_worst_group(float t, double *fmr);

/* The threshold for a target of `per_10k` expected false alerts per 10,000
 * faces of people not on a watchlist of n_templates templates, met for the
 * WORST group: the lowest cosine t with worst-group FPIR(t, n) * 1e4 <=
 * per_10k (FPIR as lfr_match_fpir, with the worst group's FMR).  The
 * worst group may differ from one t to another; the condition holds for
 * every considered group at t.  LFR_ERR_INVALID_ARG for a target that is
 * not finite or <= 0; LFR_ERR_TOO_LARGE when the watchlist is too large
 * for the target even at t = 1 (*t = 1).  n_templates 0 gives -1 (nothing can match). */
lfr_status lfr_match_threshold_for_false_alerts(double per_10k, size_t n_templates, float *t);

/* Model sets' calibrations ------------------------------------------------
 * A template is only ever compared with templates of its own model set
 * (face.h: LFR_FACE_MODEL_SET_LIST), and each model set has its own score
 * scale: cosine 0.70 means FMR ~1e-6 for mfn192 but fused704 reaches FMR
 * 1e-6 at ~0.62 (docs/embedders.md).  So each set has its own calibration
 * (its LFW table, `openlfr calibrate --model-set NAME`, and its groups
 * table, `--groups --model-set NAME`), held here by the set's name (this
 * layer does not know the face engine; the names and dims must agree with
 * face.h's list, which test_deploy checks).
 *
 * Everything above without a calibration argument uses the mfn192
 * calibration (lfr_match_calibration_default).  The _cal functions take a
 * calibration (NULL = the default) and are otherwise exactly the functions
 * of the same name above.  The likeness scale is the same for every set
 * (likeness = 100 * -log10 FMR / LFR_MATCH_LIKENESS_DECADES), so an
 * operator's 86 means FMR 1e-6 per comparison whatever the set; only the
 * cosine that reaches it differs. */

#define LFR_MATCH_CALIBRATION_LIST(X)                                         \
    X(MFN192, "mfn192", 192)                                                  \
    X(FUSED704, "fused704", 704)                                              \
    X(FUSED704V2, "fused704v2", 704)                                          \
    X(FUSED704V3, "fused704v3", 704)

typedef struct lfr_match_calibration lfr_match_calibration;

/* Entries with several photos.  Such an entry is searched through one
 * template, the normalised mean of its photos (LFR_MATCH_ENTRY_MEAN), and
 * that mean reaches a cosine against photos of OTHER people more often than
 * one photo does: on LFW, for fused704v3 at its sane thresholds, about 2.7
 * times as often with 2 photos, 2.8 with 3 and 3.6 with 4 (calib_entry_SET.h,
 * `openlfr calibrate --entry-images 6`; docs/likeness.md, "Entries with
 * several photos").  So for false alerts an entry of k photos counts as
 * lfr_match_cal_entry_weight(c, k) comparisons of one photo:
 *   k <= 0: 0 (no template); k = 1: 1;
 *   k measured (2 .. lfr_match_cal_entry_measured): the largest ratio of
 *     the mean's to the single photo's comparisons >= c over the table
 *     cosines c at or above the set's sane minimum where both counts are at
 *     least LFR_MATCH_CALIB_MIN_PAIRS (the ratio grows with the cosine and
 *     cannot be measured at FMR 1e-6, so the largest measured is kept), at
 *     least 1 and at least the weight of k - 1;
 *   k beyond the measurement, or a set without one: k, as if each photo
 *     were searched alone (what "best" does; more than any measured mean).
 * The worst group's rates assume the same ratio: within LFW's women it
 * measures lower, within its men up to a fifth higher (`openlfr calibrate
 * --entry-sex`; docs/likeness.md), and the worst groups are women's. */
double lfr_match_cal_entry_weight(const lfr_match_calibration *c, int k);
/* The same rule on rows measured elsewhere (k = 2 .. rows[n - 1].k in
 * order, as calib_entry_SET.h holds them), with set c's sane range: what
 * `openlfr calibrate --entry-images K --entry-sex` reports per group. */
double lfr_match_entry_rows_weight(const lfr_match_calibration *c,
                                   const lfr_match_entry_calib *rows, int n, int k);
/* The largest k the set's table measures (0: no table). */
int lfr_match_cal_entry_measured(const lfr_match_calibration *c);
/* The set's table (n rows, k = 2 .. n + 1) and where it came from; NULL and
 * 0 without one. */
const lfr_match_entry_calib *lfr_match_cal_entry_table(const lfr_match_calibration *c, int *n,
                                                       const char **source);

/* The comparisons a face makes for false alerts with a watchlist whose
 * by_images[k] entries hold k photos (k = 0 .. kmax; an entry of more than
 * LFR_MAX_ENTRY_IMAGES counts as that many) when entries are matched as
 * `kind`: MEAN sum of weight(k) x entries, BEST every photo, UNION every
 * photo and weight(k) for each entry of 2+; rounded up.  The n of FPIR and
 * of the expected false alerts (lfr_match_cal_threshold_info). */
size_t lfr_match_cal_counted(const lfr_match_calibration *c, lfr_match_entry_template kind,
                             const int64_t *by_images, int kmax);

/* The calibration of the model set named `model_set`; NULL when unknown. */
const lfr_match_calibration *lfr_match_calibration_named(const char *model_set);
/* The i-th calibration of the list (0 = mfn192); NULL outside 0..count-1. */
const lfr_match_calibration *lfr_match_calibration_at(int i);
int lfr_match_calibration_count(void);
/* mfn192's: the calibration every function without one uses. */
const lfr_match_calibration *lfr_match_calibration_default(void);
const char *lfr_match_calibration_name(const lfr_match_calibration *c); /* "fused704" */
int lfr_match_calibration_dim(const lfr_match_calibration *c);          /* 704 */

/* The cosine of calibration c with the same FMR as cosine t192 has under
 * mfn192's: the lowest t with FMR_c(t) <= FMR_mfn192(t192) (so it is at
 * least as strict), rounded up to the next multiple of 0.005 for display
 * (never less strict).  t192 itself for mfn192.  How a threshold stated
 * for mfn192 (the default 0.70, the sane range of limits.h) carries over
 * to another set. */
float lfr_match_cal_equivalent(const lfr_match_calibration *c, float t192);

/* The default alert threshold of the set: LFR_MATCH_DEFAULT_THRESHOLD for
 * mfn192, its equivalent (same FMR ~9.5e-7, likeness 86) for the others. */
float lfr_match_cal_default_threshold(const lfr_match_calibration *c);

/* The set's sane threshold range: LFR_THRESHOLD_SANE_MIN/MAX's
 * equivalents (limits.h says why those). */
void lfr_match_cal_sane_range(const lfr_match_calibration *c, float *min, float *max);

double lfr_match_cal_fmr(const lfr_match_calibration *c, float t);
double lfr_match_cal_tar(const lfr_match_calibration *c, float t);
double lfr_match_cal_likeness(const lfr_match_calibration *c, float t);
/* The likeness of cosine t reached by the mean template of an entry of k
 * photos: the same scale with FMR(t) multiplied by
 * lfr_match_cal_entry_weight(c, k), because such a mean reaches t against
 * strangers that many times as often as one photo (about 2.7 for 2 photos:
 * 6 points less).  lfr_match_cal_likeness(c, t) for k <= 1.  What an alert
 * or a photo check from such an entry shows (docs/likeness.md, "Entries
 * with several photos"). */
double lfr_match_cal_entry_likeness(const lfr_match_calibration *c, float t, int k);
float lfr_match_cal_threshold_for_likeness(const lfr_match_calibration *c, double l);
double lfr_match_cal_fpir(const lfr_match_calibration *c, float t, size_t n_templates);
void lfr_match_cal_threshold_info(const lfr_match_calibration *c, float threshold,
                                  size_t n_templates, lfr_match_threshold_meaning *out);
const lfr_match_calib_point *lfr_match_cal_table(const lfr_match_calibration *c, int *n,
                                                 lfr_match_calib_info *info);
const lfr_match_group *lfr_match_cal_groups(const lfr_match_calibration *c, int *n,
                                            const char **source);
double lfr_match_cal_group_min_fmr(const lfr_match_calibration *c, int g);
double lfr_match_cal_group_fmr(const lfr_match_calibration *c, int g, float t,
                               int *extrapolated);
int lfr_match_cal_group_considered(const lfr_match_calibration *c, int g);
int lfr_match_cal_worst_group(const lfr_match_calibration *c, float t, double *fmr);
lfr_status lfr_match_cal_threshold_for_false_alerts(const lfr_match_calibration *c,
                                                    double per_10k, size_t n_templates,
                                                    float *t);

#endif
