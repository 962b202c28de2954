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
 *              (exact, float32, no index, no approximation), takes per entry
 *              the best of its templates, and returns every entry whose best
 *              cosine is >= the threshold, best first (ties: lower entry id
 *              first).  Open set by construction: below the threshold there
 *              is no answer at all; there is no "nearest entry" result.
 *              lfr_match_search_batch does up to LFR_MAX_MATCH_BATCH probes
 *              (the faces of one frame) in one pass over the templates.
 *              Two implementations give the same results up to float
 *              rounding: portable C ("scalar") and AVX2+FMA ("avx2"), chosen
 *              at run time from the CPU (lfr_match_impl_auto).
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
 * numbers for it (lfr_match_threshold_info). */
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

lfr_match_snapshot *lfr_match_snapshot_ref(lfr_match_snapshot *s); /* returns s */
void lfr_match_snapshot_unref(lfr_match_snapshot *s);              /* NULL ok */

int lfr_match_snapshot_dim(const lfr_match_snapshot *s);
size_t lfr_match_snapshot_templates(const lfr_match_snapshot *s);
size_t lfr_match_snapshot_entries(const lfr_match_snapshot *s); /* 0 until frozen */
int lfr_match_snapshot_frozen(const lfr_match_snapshot *s);

/* Search ------------------------------------------------------------------ */

typedef struct lfr_match_hit {
    int64_t entry_id;     /* the watchlist entry */
    int32_t image_index;  /* which of its images gave the best score */
    float score;          /* cosine of that template and the probe */
} lfr_match_hit;

typedef enum lfr_match_impl {
    LFR_MATCH_IMPL_AUTO,    /* avx2 when the CPU has AVX2 and FMA, else scalar */
    LFR_MATCH_IMPL_SCALAR,  /* portable C */
    LFR_MATCH_IMPL_AVX2     /* x86-64 AVX2 + FMA */
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
} lfr_match_threshold_meaning;

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

/* The table points (n of them) and where they came from. */
const lfr_match_calib_point *lfr_match_calib(int *n, lfr_match_calib_info *info);

#endif
