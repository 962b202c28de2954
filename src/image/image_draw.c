/*
 * image_draw.c - boxes, dots and a 5x7 bitmap font for annotated frames.
 * Everything clips to the image; coordinates are widened to long long so
 * that no argument can overflow.
 */
#include "image/image.h"

#include <math.h>
#include <string.h>

static void fill(lfr_image *im, long long x0, long long y0, long long x1,
                 long long y1, uint8_t r, uint8_t g, uint8_t b) {
    /* [x0, x1) x [y0, y1), clipped */
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > im->w) x1 = im->w;
    if (y1 > im->h) y1 = im->h;
    if (x0 >= x1 || y0 >= y1) return;
    for (long long y = y0; y < y1; y++) {
        uint8_t *p = im->px + ((size_t)y * (size_t)im->w + (size_t)x0) * 3;
        for (long long x = x0; x < x1; x++, p += 3) {
            p[0] = r;
            p[1] = g;
            p[2] = b;
        }
    }
}

static int drawable(const lfr_image *im) {
    return im && im->px && im->w > 0 && im->h > 0;
}

void lfr_image_draw_rect(lfr_image *im, int x, int y, int w, int h, uint8_t r,
                         uint8_t g, uint8_t b, int thickness) {
    if (!drawable(im) || w <= 0 || h <= 0 || thickness <= 0) return;
    long long X = x, Y = y, W = w, H = h, t = thickness;
    if (t * 2 >= W || t * 2 >= H) {
        fill(im, X, Y, X + W, Y + H, r, g, b);
        return;
    }
    fill(im, X, Y, X + W, Y + t, r, g, b);                 /* top */
    fill(im, X, Y + H - t, X + W, Y + H, r, g, b);         /* bottom */
    fill(im, X, Y + t, X + t, Y + H - t, r, g, b);         /* left */
    fill(im, X + W - t, Y + t, X + W, Y + H - t, r, g, b); /* right */
}

void lfr_image_draw_dot(lfr_image *im, int x, int y, int radius, uint8_t r,
                        uint8_t g, uint8_t b) {
    if (!drawable(im) || radius < 0) return;
    long long R = radius, cx = x, cy = y;
    long long y0 = cy - R < 0 ? 0 : cy - R;
    long long y1 = cy + R >= im->h ? im->h - 1 : cy + R;
    for (long long py = y0; py <= y1; py++) {
        /* widest half-span with dx^2 + dy^2 <= R^2 + R (the +R rounds the
         * disc); sqrt then exact integer correction, O(1) for any radius */
        long long dy = py - cy, lim = R * R + R - dy * dy;
        long long half = (long long)sqrt((double)lim);
        while (half > 0 && half * half > lim) half--;
        while ((half + 1) * (half + 1) <= lim) half++;
        fill(im, cx - half, py, cx + half + 1, py + 1, r, g, b);
    }
}

/* 5x7 font: 5 column bytes per glyph, bit 0 the top row. */
static const char font_chars[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ .:%-/_()+=,#?";
static const uint8_t font_cols[][5] = {
    {0x3E, 0x51, 0x49, 0x45, 0x3E}, /* 0 */
    {0x00, 0x42, 0x7F, 0x40, 0x00}, /* 1 */
    {0x42, 0x61, 0x51, 0x49, 0x46}, /* 2 */
    {0x21, 0x41, 0x45, 0x4B, 0x31}, /* 3 */
    {0x18, 0x14, 0x12, 0x7F, 0x10}, /* 4 */
    {0x27, 0x45, 0x45, 0x45, 0x39}, /* 5 */
    {0x3C, 0x4A, 0x49, 0x49, 0x30}, /* 6 */
    {0x01, 0x71, 0x09, 0x05, 0x03}, /* 7 */
    {0x36, 0x49, 0x49, 0x49, 0x36}, /* 8 */
    {0x06, 0x49, 0x49, 0x29, 0x1E}, /* 9 */
    {0x7E, 0x11, 0x11, 0x11, 0x7E}, /* A */
    {0x7F, 0x49, 0x49, 0x49, 0x36}, /* B */
    {0x3E, 0x41, 0x41, 0x41, 0x22}, /* C */
    {0x7F, 0x41, 0x41, 0x22, 0x1C}, /* D */
    {0x7F, 0x49, 0x49, 0x49, 0x41}, /* E */
    {0x7F, 0x09, 0x09, 0x09, 0x01}, /* F */
    {0x3E, 0x41, 0x49, 0x49, 0x7A}, /* G */
    {0x7F, 0x08, 0x08, 0x08, 0x7F}, /* H */
    {0x00, 0x41, 0x7F, 0x41, 0x00}, /* I */
    {0x20, 0x40, 0x41, 0x3F, 0x01}, /* J */
    {0x7F, 0x08, 0x14, 0x22, 0x41}, /* K */
    {0x7F, 0x40, 0x40, 0x40, 0x40}, /* L */
    {0x7F, 0x02, 0x0C, 0x02, 0x7F}, /* M */
    {0x7F, 0x04, 0x08, 0x10, 0x7F}, /* N */
    {0x3E, 0x41, 0x41, 0x41, 0x3E}, /* O */
    {0x7F, 0x09, 0x09, 0x09, 0x06}, /* P */
    {0x3E, 0x41, 0x51, 0x21, 0x5E}, /* Q */
    {0x7F, 0x09, 0x19, 0x29, 0x46}, /* R */
    {0x46, 0x49, 0x49, 0x49, 0x31}, /* S */
    {0x01, 0x01, 0x7F, 0x01, 0x01}, /* T */
    {0x3F, 0x40, 0x40, 0x40, 0x3F}, /* U */
    {0x1F, 0x20, 0x40, 0x20, 0x1F}, /* V */
    {0x3F, 0x40, 0x38, 0x40, 0x3F}, /* W */
    {0x63, 0x14, 0x08, 0x14, 0x63}, /* X */
    {0x07, 0x08, 0x70, 0x08, 0x07}, /* Y */
    {0x61, 0x51, 0x49, 0x45, 0x43}, /* Z */
    {0x00, 0x00, 0x00, 0x00, 0x00}, /* space */
    {0x00, 0x60, 0x60, 0x00, 0x00}, /* . */
    {0x00, 0x36, 0x36, 0x00, 0x00}, /* : */
    {0x23, 0x13, 0x08, 0x64, 0x62}, /* % */
    {0x08, 0x08, 0x08, 0x08, 0x08}, /* - */
    {0x20, 0x10, 0x08, 0x04, 0x02}, /* / */
    {0x40, 0x40, 0x40, 0x40, 0x40}, /* _ */
    {0x00, 0x1C, 0x22, 0x41, 0x00}, /* ( */
    {0x00, 0x41, 0x22, 0x1C, 0x00}, /* ) */
    {0x08, 0x08, 0x3E, 0x08, 0x08}, /* + */
    {0x14, 0x14, 0x14, 0x14, 0x14}, /* = */
    {0x00, 0x50, 0x30, 0x00, 0x00}, /* , */
    {0x14, 0x7F, 0x14, 0x7F, 0x14}, /* # */
    {0x02, 0x01, 0x51, 0x09, 0x06}, /* ? */
};
_Static_assert(sizeof font_cols / sizeof font_cols[0] == sizeof font_chars - 1,
               "one glyph per font character");

static const uint8_t *glyph(char ch) {
    if (ch >= 'a' && ch <= 'z') ch = (char)(ch - 'a' + 'A');
    const char *p = ch ? strchr(font_chars, ch) : NULL;
    return font_cols[p ? p - font_chars : (int)sizeof font_chars - 2];
}

static int clamp_scale(int scale) { return scale < 1 ? 1 : scale > 16 ? 16 : scale; }

void lfr_image_text_size(const char *ascii, int scale, int *w, int *h) {
    int s = clamp_scale(scale);
    long long cols = 0, widest = 0, lines = ascii && *ascii ? 1 : 0;
    for (const char *p = ascii; p && *p; p++) {
        if (*p == '\n') {
            lines++;
            cols = 0;
            continue;
        }
        if (++cols > widest) widest = cols;
    }
    long long W = widest ? widest * 6 * s - s : 0, H = lines ? lines * 8 * s - s : 0;
    if (w) *w = W > 0x7fffffff ? 0x7fffffff : (int)W;
    if (h) *h = H > 0x7fffffff ? 0x7fffffff : (int)H;
}

void lfr_image_draw_text(lfr_image *im, int x, int y, const char *ascii,
                         int scale, uint8_t r, uint8_t g, uint8_t b) {
    if (!drawable(im) || !ascii) return;
    long long s = clamp_scale(scale), cx = x, cy = y;
    for (const char *p = ascii; *p; p++) {
        if (*p == '\n') {
            cx = x;
            cy += 8 * s;
            continue;
        }
        if (cx < im->w && cy < im->h && cx + 5 * s > 0 && cy + 7 * s > 0) {
            const uint8_t *gl = glyph(*p);
            for (int col = 0; col < 5; col++)
                for (int row = 0; row < 7; row++)
                    if (gl[col] >> row & 1)
                        fill(im, cx + col * s, cy + row * s, cx + (col + 1) * s,
                             cy + (row + 1) * s, r, g, b);
        }
        cx += 6 * s;
    }
}
