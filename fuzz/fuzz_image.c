/*
 * fuzz_image.c - libFuzzer target for the image decoders (JPEG, PNG, EXIF).
 *
 * Feeds the input to lfr_image_decode_ex (EXIF applied, so the orientation
 * code runs on whatever the TIFF parser returns) and to the EXIF parser
 * directly, then frees.  Any status is fine; crashes, leaks, sanitizer
 * reports and timeouts are the bugs.
 *
 * Seeds in fuzz/corpus/image/ are generated, not collected:
 *   build/tests/test_image --write-corpus fuzz/corpus/image
 */
#include <stddef.h>
#include <stdint.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lfr_image im;
    lfr_err err;
    int orientation = 0;
    lfr_status s = lfr_image_decode_ex(data, size, &im, 1, &orientation, &err);
    if (s == LFR_OK) {
        /* touch every pixel so MSan/valgrind would see uninitialised ones */
        unsigned sum = 0;
        for (size_t i = 0; i < (size_t)im.w * (size_t)im.h * 3; i++) sum += im.px[i];
        if (orientation < 1 || orientation > 8 || im.w <= 0 || im.h <= 0 ||
            sum == 0xFFFFFFFFu)
            __builtin_trap();
        lfr_image_free(&im);
    } else if (im.px != NULL || err.msg[0] == '\0') {
        __builtin_trap(); /* failures leave no image and always explain */
    }
    (void)lfr_image_exif_orientation(data, size);
    return 0;
}
