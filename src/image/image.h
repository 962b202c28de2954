/*
 * image.h - openlfr's images: decode, encode, resample, draw.
 *
 * OVERVIEW
 *   An lfr_image is packed 8-bit RGB, 3 bytes per pixel, rows top to bottom,
 *   row stride exactly w * 3, no padding.  Everything that enters the system
 *   as a picture goes through lfr_image_decode, which
 *     - sniffs the format from the magic bytes (JPEG FF D8 FF, PNG's 8-byte
 *       signature); anything else is LFR_ERR_UNSUPPORTED;
 *     - refuses inputs over LFR_MAX_IMAGE_BYTES, and images whose header
 *       declares more than LFR_MAX_IMAGE_SIDE per side or LFR_MAX_IMAGE_PIXELS
 *       in total, BEFORE any pixel memory is allocated (LFR_ERR_TOO_LARGE);
 *     - returns LFR_ERR_CORRUPT for damaged or truncated files (libjpeg would
 *       otherwise quietly fill the missing part with grey);
 *     - converts gray, CMYK/YCCK (Adobe), palette, 1/2/4/16-bit and alpha
 *       PNGs to RGB (alpha is dropped, not composited);
 *     - applies the EXIF orientation tag (JPEG APP1) so the result is upright,
 *       as a phone's gallery would show it.
 *   libjpeg-turbo and libpng report errors by longjmp to our handlers; they
 *   never print and never exit.  libpng allocates through lfr_malloc, so
 *   lfr_alloc_fail_after reaches inside it; libjpeg uses its own allocator.
 *
 *   Geometry follows OpenCV so that the reference results of the networks
 *   carry over:
 *     - lfr_image_resize is INTER_LINEAR: half-pixel centres,
 *       sx = (dx + 0.5) * src_w / dst_w - 0.5, clamped to the edge pixels, no
 *       antialiasing, 11-bit fixed-point weights as in OpenCV's scalar path
 *       (results agree with cv2.resize to within 1 level);
 *     - warps take the matrix that maps DESTINATION pixels to SOURCE points
 *       (the inverse transform, what cv2.warpAffine uses with
 *       WARP_INVERSE_MAP), pixel centres at integer coordinates, bilinear,
 *       border replicate.
 *   The *_f32 samplers write network inputs directly: NHWC float RGB,
 *   x' = (v - mean) * scale, optionally transposed (out[x][y], the MTCNN
 *   models were trained on transposed images).
 *
 *   Thread safety: no global state; distinct images may be processed from
 *   different threads concurrently.
 *
 * OWNERSHIP
 *   An lfr_image owns px (from lfr_malloc); release it with lfr_image_free,
 *   which also resets the struct to {0} and accepts an already-freed one.
 *   Functions with an `lfr_image *out`/`*dst` result ALLOCATE it: whatever
 *   the struct held before is overwritten, not freed, so pass a zeroed or
 *   freed struct.  On failure the result is left as {0}.  The exception is
 *   lfr_image_warp_affine, whose dst the caller allocates beforehand.
 *   Encoders return a buffer the caller releases with lfr_free.
 *   Inputs are never modified and may not alias outputs.
 */
#ifndef LFR_IMAGE_H
#define LFR_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

typedef struct lfr_image {
    int w, h;
    uint8_t *px; /* w * h * 3 bytes, RGB, row stride w * 3 */
} lfr_image;

typedef enum lfr_image_format {
    LFR_IMAGE_UNKNOWN = 0,
    LFR_IMAGE_JPEG,
    LFR_IMAGE_PNG
} lfr_image_format;

/* Memory ---------------------------------------------------------------- */

/* Allocates a w x h image, pixels zeroed (black).  w, h must be >= 1 and
 * within LFR_MAX_IMAGE_SIDE / LFR_MAX_IMAGE_PIXELS (else LFR_ERR_TOO_LARGE;
 * <= 0 is LFR_ERR_INVALID_ARG). */
lfr_status lfr_image_alloc(lfr_image *im, int w, int h);
void lfr_image_free(lfr_image *im);
lfr_status lfr_image_clone(const lfr_image *src, lfr_image *dst);

/* Decoding -------------------------------------------------------------- */

/* Format from the magic bytes; UNKNOWN also for too-short buffers. */
lfr_image_format lfr_image_sniff(const uint8_t *buf, size_t len);

/* Decodes a JPEG or PNG and applies its EXIF orientation.
 *   LFR_ERR_UNSUPPORTED  not JPEG/PNG, or a JPEG flavour we refuse
 *                        (12-bit, unknown colour space)
 *   LFR_ERR_TOO_LARGE    len > LFR_MAX_IMAGE_BYTES or dimensions over limits
 *   LFR_ERR_CORRUPT      damaged, truncated or empty
 *   LFR_ERR_NOMEM        allocation failed
 * `err` (may be NULL) receives a sentence on failure. */
lfr_status lfr_image_decode(const uint8_t *buf, size_t len, lfr_image *out,
                            lfr_err *err);

/* As lfr_image_decode; apply_exif = 0 returns the pixels as stored.
 * *orientation_out (may be NULL) receives the EXIF orientation 1..8 found in
 * the file, 1 when there is none (always 1 for PNG). */
lfr_status lfr_image_decode_ex(const uint8_t *buf, size_t len, lfr_image *out,
                               int apply_exif, int *orientation_out,
                               lfr_err *err);

/* As lfr_image_decode (EXIF orientation applied, same statuses), but for a
 * caller that needs no more than `min_short_side` pixels on the short side:
 * a JPEG is decoded at 1/2, 1/4 or 1/8 size (libjpeg-turbo's scaled
 * decoding, inside the inverse DCT: a 12 MP phone photo decodes several
 * times faster), the largest reduction that keeps the short side, rounded
 * up, >= min_short_side.  An image already smaller is decoded at full size,
 * never enlarged; PNGs are always full size; min_short_side <= 0 turns the
 * reduction off.  *reduction_out (may be NULL) receives the divisor used:
 * 1, 2, 4 or 8; each side of the result is ceil(side / divisor).  The size
 * limits apply to the image as the file declares it, before reduction. */
lfr_status lfr_image_decode_max(const uint8_t *buf, size_t len,
                                int min_short_side, lfr_image *out,
                                int *reduction_out, lfr_err *err);

/* Reads `path` (at most LFR_MAX_IMAGE_BYTES) and decodes it.  A missing file
 * is LFR_ERR_NOT_FOUND, an unreadable one LFR_ERR_IO. */
lfr_status lfr_image_load(const char *path, lfr_image *out, lfr_err *err);

/* EXIF orientation (1..8) from the payload of a JPEG APP1 marker, which
 * starts "Exif\0\0" followed by a TIFF structure.  Only IFD0 is read; every
 * offset is bounds-checked.  Returns 1 when absent, malformed or out of
 * range. */
int lfr_image_exif_orientation(const uint8_t *app1, size_t len);

/* Applies EXIF orientation `o` (1..8) to src, writing the upright image:
 *   1 as is            2 mirror left-right     3 rotate 180
 *   4 mirror top-down  5 transpose             6 rotate 90 clockwise
 *   7 transverse       8 rotate 90 counter-clockwise
 * 5..8 swap width and height.  Anything else is LFR_ERR_INVALID_ARG. */
lfr_status lfr_image_orient(const lfr_image *src, int o, lfr_image *dst);

/* Mirror left-right (orientation 2). */
lfr_status lfr_image_flip_h(const lfr_image *src, lfr_image *dst);

/* Encoding -------------------------------------------------------------- */

/* Baseline JPEG, 4:2:0, quality clamped to 1..100.  *buf is the caller's
 * (lfr_free). */
lfr_status lfr_image_encode_jpeg(const lfr_image *im, int quality,
                                 uint8_t **buf, size_t *len);
/* 8-bit RGB PNG, lossless.  *buf is the caller's (lfr_free). */
lfr_status lfr_image_encode_png(const lfr_image *im, uint8_t **buf,
                                size_t *len);

/* Encodes by the extension of `path` (.jpg/.jpeg/.png, any case; others
 * LFR_ERR_UNSUPPORTED) and writes atomically: a temporary file in the same
 * directory, fsync, rename.  Readers never see a half-written file; on
 * failure nothing is left behind.  The file is created mode 0600 (annotated
 * frames show faces: personal data).  quality <= 0 means 90; PNG ignores it. */
lfr_status lfr_image_write(const lfr_image *im, const char *path, int quality);

/* Resampling ------------------------------------------------------------ */

/* Bilinear resize to w x h, OpenCV INTER_LINEAR convention (see OVERVIEW).
 * 1920x1080 -> 960x540 takes about 3 ms at -O2 (one core). */
lfr_status lfr_image_resize(const lfr_image *src, int w, int h,
                            lfr_image *dst);
/* The same into dst, already allocated: its size is the output size (a
 * per-frame buffer reused, no allocation of the image). */
lfr_status lfr_image_resize_into(const lfr_image *src, lfr_image *dst);

/* Copies the w x h region at (x, y).  The region may extend past (or lie
 * entirely outside) the image: outside pixels replicate the nearest border
 * pixel. */
lfr_status lfr_image_crop(const lfr_image *src, int x, int y, int w, int h,
                          lfr_image *dst);

/* For each dst pixel (x, y) samples src at
 *   (m[0]*x + m[1]*y + m[2],  m[3]*x + m[4]*y + m[5])
 * i.e. m maps DESTINATION to SOURCE (the inverse of the transform that
 * moves the picture), bilinear, coordinates clamped to the edge (border
 * replicate).  dst must already be allocated; its size is the output size.
 * Non-finite coordinates sample the border.  Does nothing if either image
 * is empty. */
void lfr_image_warp_affine(const lfr_image *src, const float m[6],
                           lfr_image *dst);

/* The same sampling, writing a network input: out has dw * dh * 3 floats,
 * NHWC RGB, value (v - mean) * scale.  transpose = 0: out[y][x][c] at
 * (y*dw + x)*3 + c; transpose = 1: out[x][y][c] at (x*dh + y)*3 + c.
 * Does nothing if dw or dh <= 0 or src is empty. */
void lfr_image_warp_affine_f32(const lfr_image *src, const float m[6], int dw,
                               int dh, float mean, float scale, int transpose,
                               float *out);

/* Resizes the source rectangle (x0, y0, w, h) - fractional, possibly past
 * the image - to dw x dh floats, layout and normalisation as for
 * lfr_image_warp_affine_f32.  Sample points follow lfr_image_resize:
 *   sx = x0 + (dx + 0.5) * w / dw - 0.5, clamped to [x0, x0 + w - 1],
 * and pixels outside the image replicate the border.  For an integer
 * rectangle this equals lfr_image_crop followed by lfr_image_resize, in
 * float and without the intermediate rounding.  Does nothing if dw, dh <= 0,
 * w or h is not > 0 (or not finite), or src is empty. */
void lfr_image_resize_f32(const lfr_image *src, float x0, float y0, float w,
                          float h, int dw, int dh, float mean, float scale,
                          int transpose, float *out);

/* Drawing (annotated output) -------------------------------------------- */
/* All drawing clips to the image; any coordinates are safe. */

/* Rectangle outline; the stroke grows inwards from the box edge. */
void lfr_image_draw_rect(lfr_image *im, int x, int y, int w, int h, uint8_t r,
                         uint8_t g, uint8_t b, int thickness);
/* Filled disc centred on (x, y). */
void lfr_image_draw_dot(lfr_image *im, int x, int y, int radius, uint8_t r,
                        uint8_t g, uint8_t b);
/* ASCII text in a built-in 5x7 font, top-left at (x, y), each font pixel a
 * scale x scale block (scale 1..16), advance 6*scale per character, '\n'
 * starts a new line.  Digits, letters (lower case drawn as capitals), space
 * and . : % - / _ ( ) + = , # ? are drawn; other characters as '?'. */
void lfr_image_draw_text(lfr_image *im, int x, int y, const char *ascii,
                         int scale, uint8_t r, uint8_t g, uint8_t b);
/* Width and height in pixels that lfr_image_draw_text would cover. */
void lfr_image_text_size(const char *ascii, int scale, int *w, int *h);

#endif
