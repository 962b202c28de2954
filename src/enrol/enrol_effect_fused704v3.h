/*
 * enrol_effect_fused704v3.h - the measured effect of each enrolment warning
 * for model set fused704v3 (the deployments' default): how often
 * same-person LFW pairs with one photo like the warned one reach its
 * default threshold (0.625, FMR 1e-6 as mfn192's 0.70), against a
 * reference.  GENERATED from the output of bench/eval_discard.c (with
 * MODEL_SET=fused704v3 EFFECT=1; the lines in braces), as enrol_effect.h:
 *
 *   export OPENLFR_DATA=... OMP_NUM_THREADS=1 MODEL_SET=fused704v3 EFFECT=1
 *   build/eval_discard lfw 8 1                   yaw, pitch, uneven light
 *   build/eval_discard synth KIND 300            small (shrink), blur,
 *       roll (rotate), dark, bright, at_edge (tight)
 *
 * enrol_effect.h (mfn192's, included first) defines enrol_effect_bin.  See
 * docs/quality.md, "Effects for fused704v3".
 */
#ifndef LFR_ENROL_EFFECT_FUSED704V3_H
#define LFR_ENROL_EFFECT_FUSED704V3_H

#define LFR_ENROL_EFFECT_FUSED704V3_REF_TAR 0.8305f
#define LFR_ENROL_EFFECT_FUSED704V3_REF_PAIRS 4725

static const enrol_effect_bin enrol_effect_bins_fused704v3[] = {
    {LFR_ENROL_WARN_YAW, 0, 5, 4226, 0.8048f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_YAW, 5, 10, 2913, 0.8081f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_YAW, 10, 15, 2115, 0.8312f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_YAW, 15, 20, 1420, 0.8183f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_YAW, 20, 25, 630, 0.8349f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_YAW, 25, 30, 389, 0.8329f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_YAW, 30, 40, 180, 0.6889f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_YAW, 40, 90, 65, 0.4462f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_PITCH, 0, 5, 3170, 0.8249f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_PITCH, 5, 10, 3055, 0.8209f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_PITCH, 10, 15, 2025, 0.8049f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_PITCH, 15, 20, 1527, 0.7911f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_PITCH, 20, 25, 987, 0.8217f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_PITCH, 25, 30, 672, 0.7812f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_PITCH, 30, 90, 502, 0.7590f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 0, 10, 4414, 0.8101f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 10, 20, 3265, 0.8282f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 20, 30, 2026, 0.8080f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 30, 40, 1104, 0.8179f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 40, 50, 528, 0.8011f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 50, 60, 268, 0.7388f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 60, 80, 247, 0.7368f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_UNEVEN, 80, 256, 86, 0.6395f, 0.8305f, "photos without warnings"},
    {LFR_ENROL_WARN_SMALL, 0, 12, 678, 0.3156f, 0.8067f, "the same photos at full size"},
    {LFR_ENROL_WARN_SMALL, 12, 16, 629, 0.6900f, 0.8067f, "the same photos at full size"},
    {LFR_ENROL_WARN_SMALL, 16, 20, 614, 0.7508f, 0.8067f, "the same photos at full size"},
    {LFR_ENROL_WARN_SMALL, 20, 25, 453, 0.8035f, 0.8067f, "the same photos at full size"},
    {LFR_ENROL_WARN_SMALL, 25, 30, 327, 0.7829f, 0.8067f, "the same photos at full size"},
    {LFR_ENROL_WARN_SMALL, 30, 35, 307, 0.8013f, 0.8067f, "the same photos at full size"},
    {LFR_ENROL_WARN_SMALL, 35, 40, 163, 0.8221f, 0.8067f, "the same photos at full size"},
    {LFR_ENROL_WARN_SMALL, 40, 1e+09, 127, 0.7953f, 0.8067f, "the same photos at full size"},
    {LFR_ENROL_WARN_BLUR, 5, 10, 183, 0.0546f, 0.8067f, "the same photos unblurred"},
    {LFR_ENROL_WARN_BLUR, 10, 15, 201, 0.0697f, 0.8067f, "the same photos unblurred"},
    {LFR_ENROL_WARN_BLUR, 15, 20, 239, 0.2552f, 0.8067f, "the same photos unblurred"},
    {LFR_ENROL_WARN_BLUR, 20, 30, 437, 0.4508f, 0.8067f, "the same photos unblurred"},
    {LFR_ENROL_WARN_BLUR, 30, 40, 369, 0.5718f, 0.8067f, "the same photos unblurred"},
    {LFR_ENROL_WARN_BLUR, 40, 60, 477, 0.6457f, 0.8067f, "the same photos unblurred"},
    {LFR_ENROL_WARN_BLUR, 60, 1e+09, 457, 0.7287f, 0.8067f, "the same photos unblurred"},
    {LFR_ENROL_WARN_ROLL, 0, 5, 114, 0.8421f, 0.8067f, "the same photos upright"},
    {LFR_ENROL_WARN_ROLL, 5, 10, 295, 0.8000f, 0.8067f, "the same photos upright"},
    {LFR_ENROL_WARN_ROLL, 10, 15, 307, 0.8078f, 0.8067f, "the same photos upright"},
    {LFR_ENROL_WARN_ROLL, 15, 20, 307, 0.8208f, 0.8067f, "the same photos upright"},
    {LFR_ENROL_WARN_ROLL, 20, 25, 301, 0.7940f, 0.8067f, "the same photos upright"},
    {LFR_ENROL_WARN_ROLL, 25, 30, 319, 0.7586f, 0.8067f, "the same photos upright"},
    {LFR_ENROL_WARN_ROLL, 30, 40, 563, 0.7993f, 0.8067f, "the same photos upright"},
    {LFR_ENROL_WARN_ROLL, 40, 90, 473, 0.7907f, 0.8067f, "the same photos upright"},
    {LFR_ENROL_WARN_DARK, 0, 15, 82, 0.4268f, 0.8067f, "the same photos as taken"},
    {LFR_ENROL_WARN_DARK, 15, 25, 332, 0.5271f, 0.8067f, "the same photos as taken"},
    {LFR_ENROL_WARN_DARK, 25, 35, 300, 0.6200f, 0.8067f, "the same photos as taken"},
    {LFR_ENROL_WARN_DARK, 35, 50, 311, 0.7138f, 0.8067f, "the same photos as taken"},
    {LFR_ENROL_WARN_DARK, 50, 70, 287, 0.7561f, 0.8067f, "the same photos as taken"},
    {LFR_ENROL_WARN_DARK, 70, 256, 363, 0.7961f, 0.8067f, "the same photos as taken"},
    {LFR_ENROL_WARN_BRIGHT, 0, 180, 275, 0.7527f, 0.8067f, "the same photos as taken"},
    {LFR_ENROL_WARN_BRIGHT, 180, 200, 269, 0.7584f, 0.8067f, "the same photos as taken"},
    {LFR_ENROL_WARN_BRIGHT, 200, 215, 261, 0.6973f, 0.8067f, "the same photos as taken"},
    {LFR_ENROL_WARN_BRIGHT, 215, 230, 235, 0.6340f, 0.8067f, "the same photos as taken"},
    {LFR_ENROL_WARN_BRIGHT, 230, 240, 32, 0.7500f, 0.8067f, "the same photos as taken"},
    {LFR_ENROL_WARN_AT_EDGE, 0, 0.5, 126, 0.8095f, 0.8067f, "the same photos uncut"},
    {LFR_ENROL_WARN_AT_EDGE, 0.5, 2, 1365, 0.6095f, 0.8067f, "the same photos uncut"},
};

#endif
