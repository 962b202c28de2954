/*
 * enrol_effect.h - the measured effect of each enrolment warning: how often
 * same-person LFW pairs with one photo like the warned one reach the
 * default threshold (0.70), against a reference.  GENERATED from the
 * output of bench/eval_discard.c (with EFFECT=1; the lines in braces):
 *
 *   export OPENLFR_DATA=... OMP_NUM_THREADS=1
 *   EFFECT=1 build/eval_discard lfw 8 1          yaw, pitch, uneven light:
 *       LFW's own photos (788 people of pairs.txt, at most 8 photos each,
 *       5,969 same-person pairs); reference: pairs where neither photo has
 *       a warning
 *   EFFECT=1 build/eval_discard synth KIND 300   small (shrink), blur,
 *       roll (rotate), dark, bright, at_edge (tight): the first photo of
 *       300 official same-person pairs made so, binned by its measured
 *       value; reference: the same pairs as taken
 *
 * A bin with fewer than 30 pairs is left out (its warning then says the
 * effect was not measured).  See docs/quality.md, "Grades".
 */
#ifndef LFR_ENROL_EFFECT_H
#define LFR_ENROL_EFFECT_H

typedef struct enrol_effect_bin {
    int kind;             /* lfr_enrol_warn */
    float lo, hi;         /* the measure's bin (absolute value for angles) */
    int pairs;            /* same-person pairs with one photo in the bin */
    float tar;            /* share of them at or above the default threshold */
    float ref_tar;        /* the same share for the reference ... */
    const char *ref_what; /* ... which is this */
} enrol_effect_bin;

/* LFW same-person pairs where neither photo has a warning. */
#define LFR_ENROL_EFFECT_REF_TAR 0.7174f
#define LFR_ENROL_EFFECT_REF_PAIRS 4738

static const enrol_effect_bin enrol_effect_bins[] = {
    {LFR_ENROL_WARN_YAW, 0, 5, 4226, 0.6931f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_YAW, 5, 10, 2913, 0.6807f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_YAW, 10, 15, 2115, 0.7078f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_YAW, 15, 20, 1420, 0.7028f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_YAW, 20, 25, 630, 0.7286f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_YAW, 25, 30, 389, 0.6735f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_YAW, 30, 40, 180, 0.5889f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_YAW, 40, 90, 65, 0.2154f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_PITCH, 0, 5, 3170, 0.7117f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_PITCH, 5, 10, 3055, 0.7080f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_PITCH, 10, 15, 2025, 0.6884f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_PITCH, 15, 20, 1527, 0.6634f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_PITCH, 20, 25, 987, 0.6829f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_PITCH, 25, 30, 672, 0.6682f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_PITCH, 30, 90, 502, 0.5956f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 0, 10, 4414, 0.6923f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 10, 20, 3265, 0.7060f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 20, 30, 2026, 0.6900f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 30, 40, 1104, 0.7083f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 40, 50, 528, 0.6648f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 50, 60, 268, 0.6119f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 60, 80, 247, 0.5911f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 80, 256, 86, 0.5349f, 0.7174f, "photos without warnings"},
    {LFR_ENROL_WARN_SMALL, 0, 12, 678, 0.2522f, 0.6800f, "the same photos at full size"},
    {LFR_ENROL_WARN_SMALL, 12, 16, 629, 0.5644f, 0.6800f, "the same photos at full size"},
    {LFR_ENROL_WARN_SMALL, 16, 20, 614, 0.6417f, 0.6800f, "the same photos at full size"},
    {LFR_ENROL_WARN_SMALL, 20, 25, 453, 0.6777f, 0.6800f, "the same photos at full size"},
    {LFR_ENROL_WARN_SMALL, 25, 30, 327, 0.6544f, 0.6800f, "the same photos at full size"},
    {LFR_ENROL_WARN_SMALL, 30, 35, 307, 0.6775f, 0.6800f, "the same photos at full size"},
    {LFR_ENROL_WARN_SMALL, 35, 40, 163, 0.6933f, 0.6800f, "the same photos at full size"},
    {LFR_ENROL_WARN_SMALL, 40, 1e+09, 127, 0.6693f, 0.6800f, "the same photos at full size"},
    {LFR_ENROL_WARN_BLUR, 5, 10, 134, 0.0597f, 0.6800f, "the same photos unblurred"},
    {LFR_ENROL_WARN_BLUR, 10, 15, 191, 0.0471f, 0.6800f, "the same photos unblurred"},
    {LFR_ENROL_WARN_BLUR, 15, 20, 208, 0.1683f, 0.6800f, "the same photos unblurred"},
    {LFR_ENROL_WARN_BLUR, 20, 30, 428, 0.3458f, 0.6800f, "the same photos unblurred"},
    {LFR_ENROL_WARN_BLUR, 30, 40, 355, 0.4620f, 0.6800f, "the same photos unblurred"},
    {LFR_ENROL_WARN_BLUR, 40, 60, 510, 0.5176f, 0.6800f, "the same photos unblurred"},
    {LFR_ENROL_WARN_BLUR, 60, 1e+09, 546, 0.5733f, 0.6800f, "the same photos unblurred"},
    {LFR_ENROL_WARN_ROLL, 0, 5, 114, 0.7368f, 0.6800f, "the same photos upright"},
    {LFR_ENROL_WARN_ROLL, 5, 10, 295, 0.6712f, 0.6800f, "the same photos upright"},
    {LFR_ENROL_WARN_ROLL, 10, 15, 307, 0.6645f, 0.6800f, "the same photos upright"},
    {LFR_ENROL_WARN_ROLL, 15, 20, 307, 0.6743f, 0.6800f, "the same photos upright"},
    {LFR_ENROL_WARN_ROLL, 20, 25, 301, 0.6512f, 0.6800f, "the same photos upright"},
    {LFR_ENROL_WARN_ROLL, 25, 30, 319, 0.6270f, 0.6800f, "the same photos upright"},
    {LFR_ENROL_WARN_ROLL, 30, 40, 563, 0.6181f, 0.6800f, "the same photos upright"},
    {LFR_ENROL_WARN_ROLL, 40, 90, 473, 0.5856f, 0.6800f, "the same photos upright"},
    {LFR_ENROL_WARN_DARK, 0, 15, 82, 0.2683f, 0.6800f, "the same photos as taken"},
    {LFR_ENROL_WARN_DARK, 15, 25, 332, 0.3765f, 0.6800f, "the same photos as taken"},
    {LFR_ENROL_WARN_DARK, 25, 35, 300, 0.5000f, 0.6800f, "the same photos as taken"},
    {LFR_ENROL_WARN_DARK, 35, 50, 311, 0.5756f, 0.6800f, "the same photos as taken"},
    {LFR_ENROL_WARN_DARK, 50, 70, 287, 0.6167f, 0.6800f, "the same photos as taken"},
    {LFR_ENROL_WARN_DARK, 70, 256, 363, 0.6667f, 0.6800f, "the same photos as taken"},
    {LFR_ENROL_WARN_BRIGHT, 0, 180, 275, 0.6400f, 0.6800f, "the same photos as taken"},
    {LFR_ENROL_WARN_BRIGHT, 180, 200, 269, 0.6506f, 0.6800f, "the same photos as taken"},
    {LFR_ENROL_WARN_BRIGHT, 200, 215, 261, 0.5364f, 0.6800f, "the same photos as taken"},
    {LFR_ENROL_WARN_BRIGHT, 215, 230, 235, 0.4638f, 0.6800f, "the same photos as taken"},
    {LFR_ENROL_WARN_BRIGHT, 230, 240, 32, 0.5312f, 0.6800f, "the same photos as taken"},
    {LFR_ENROL_WARN_AT_EDGE, 0, 0.5, 126, 0.6508f, 0.6800f, "the same photos uncut"},
    {LFR_ENROL_WARN_AT_EDGE, 0.5, 2, 1365, 0.4703f, 0.6800f, "the same photos uncut"},
};

#endif
