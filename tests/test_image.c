/*
 * test_image.c - tests of src/image: codecs, limits, corruption, EXIF,
 * resampling conventions, drawing, atomic writes, allocation failure.
 *
 *   test_image                       run the tests
 *   test_image --write-corpus DIR    (re)generate fuzz/corpus/image seeds
 *
 * Test images are generated here with libpng/libjpeg; no files are read.
 */
#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include "core/core.h"
#include "image/image.h"

/* Helpers ------------------------------------------------------------------ */

static uint32_t rng_state = 12345;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static uint8_t *px(const lfr_image *im, int x, int y) {
    return im->px + ((size_t)y * im->w + x) * 3;
}

static void make_noise(lfr_image *im, int w, int h) {
    CHECK_STATUS(lfr_image_alloc(im, w, h), LFR_OK);
    for (size_t i = 0; i < (size_t)w * h * 3; i++) im->px[i] = (uint8_t)rnd();
}

/* Smooth colour gradient: JPEG-friendly. */
static void make_smooth(lfr_image *im, int w, int h) {
    CHECK_STATUS(lfr_image_alloc(im, w, h), LFR_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px(im, x, y);
            p[0] = (uint8_t)(x * 255 / (w - 1));
            p[1] = (uint8_t)(y * 255 / (h - 1));
            p[2] = (uint8_t)(128 + (x - y) / 4);
        }
}

static int same_image(const lfr_image *a, const lfr_image *b) {
    return a->w == b->w && a->h == b->h &&
           memcmp(a->px, b->px, (size_t)a->w * a->h * 3) == 0;
}

static double mean_abs_diff(const lfr_image *a, const lfr_image *b) {
    double s = 0;
    size_t n = (size_t)a->w * a->h * 3;
    for (size_t i = 0; i < n; i++) s += abs((int)a->px[i] - (int)b->px[i]);
    return s / (double)n;
}

static double psnr(const lfr_image *a, const lfr_image *b) {
    double s = 0;
    size_t n = (size_t)a->w * a->h * 3;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a->px[i] - b->px[i];
        s += d * d;
    }
    if (s == 0) return 99;
    return 10 * log10(255.0 * 255.0 / (s / (double)n));
}

static uint32_t crc32_calc(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A PNG of just signature, IHDR (correct CRC) and IEND. */
static size_t png_header_only(uint8_t out[57], uint32_t w, uint32_t h) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(out, sig, 8);
    be32(out + 8, 13);
    memcpy(out + 12, "IHDR", 4);
    be32(out + 16, w);
    be32(out + 20, h);
    out[24] = 8; /* depth */
    out[25] = 2; /* RGB */
    out[26] = out[27] = out[28] = 0;
    be32(out + 29, crc32_calc(out + 12, 17));
    be32(out + 33, 0);
    memcpy(out + 37, "IEND", 4);
    be32(out + 41, crc32_calc(out + 37, 4));
    return 45;
}

/* PNG writer with libpng (test side, plain malloc). */
typedef struct membuf {
    uint8_t *p;
    size_t n, cap;
} membuf;

static void mb_write(png_structp png, png_bytep d, size_t n) {
    membuf *m = png_get_io_ptr(png);
    if (m->n + n > m->cap) {
        m->cap = (m->n + n) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->n, d, n);
    m->n += n;
}
static void mb_flush(png_structp png) { (void)png; }

/* rows: h rows of png rowbytes each, already packed for the format. */
static uint8_t *write_png(int w, int h, int depth, int ctype, int interlace,
                          uint8_t **rows, const png_color *pal, int npal,
                          const uint8_t *trns, int ntrns, size_t *len) {
    membuf m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "test png writer failed\n");
        exit(2);
    }
    png_set_write_fn(png, &m, mb_write, mb_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, npal);
    if (trns) png_set_tRNS(png, info, trns, ntrns, NULL);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    *len = m.n;
    return m.p;
}

/* JPEG writer with libjpeg: components 1 (gray), 3 (RGB) or 4 (CMYK, Adobe).
 * scans/nscans: optional custom scan script. */
static uint8_t *write_jpeg(int w, int h, int comps, const uint8_t *data,
                           int quality, int progressive,
                           const jpeg_scan_info *scans, int nscans,
                           size_t *len) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *out = NULL;
    unsigned long n = 0;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, &n);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    if (progressive) jpeg_simple_progression(&c);
    if (scans) {
        c.scan_info = scans;
        c.num_scans = nscans;
    }
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW r = (JSAMPROW)(data + (size_t)c.next_scanline * w * comps);
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *len = n;
    return out;
}

static uint8_t *encode_jpeg_or_die(const lfr_image *im, int q, size_t *len) {
    uint8_t *b = NULL;
    CHECK_STATUS(lfr_image_encode_jpeg(im, q, &b, len), LFR_OK);
    return b;
}

/* Offset of the first segment with `marker` (e.g. 0xC0) before SOS. */
static long find_marker(const uint8_t *b, size_t n, int marker) {
    size_t p = 2;
    while (p + 4 <= n && b[p] == 0xFF) {
        int m = b[p + 1];
        if (m == marker) return (long)p;
        if (m == 0xDA) break;
        p += 2 + ((size_t)b[p + 2] << 8 | b[p + 3]);
    }
    return -1;
}

/* APP1 "Exif\0\0" + TIFF with IFD0 = {Orientation}, big or little endian. */
static size_t make_exif(uint8_t *o, int orientation, int big_endian) {
    uint8_t t[26];
    int le = !big_endian;
#define W16(p, v) (le ? ((p)[0] = (uint8_t)(v), (p)[1] = (uint8_t)((v) >> 8)) \
                      : ((p)[0] = (uint8_t)((v) >> 8), (p)[1] = (uint8_t)(v)))
    t[0] = t[1] = le ? 'I' : 'M';
    W16(t + 2, 42);
    W16(t + 4, le ? 8 : 0);
    W16(t + 6, le ? 0 : 8);
    W16(t + 8, 1);          /* one entry */
    W16(t + 10, 0x0112);    /* Orientation */
    W16(t + 12, 3);         /* SHORT */
    W16(t + 14, le ? 1 : 0); /* count = 1 */
    W16(t + 16, le ? 0 : 1);
    W16(t + 18, orientation);
    W16(t + 20, 0);
    memset(t + 22, 0, 4);   /* next IFD = 0 */
#undef W16
    size_t plen = 6 + sizeof t;
    o[0] = 0xFF;
    o[1] = 0xE1;
    o[2] = (uint8_t)((plen + 2) >> 8);
    o[3] = (uint8_t)(plen + 2);
    memcpy(o + 4, "Exif\0\0", 6);
    memcpy(o + 10, t, sizeof t);
    return 4 + plen;
}

/* jpeg with an EXIF APP1 inserted right after SOI; caller frees (lfr_free). */
static uint8_t *splice_exif(const uint8_t *j, size_t n, int orientation,
                            int big_endian, size_t *len) {
    uint8_t seg[64];
    size_t s = make_exif(seg, orientation, big_endian);
    uint8_t *o = lfr_malloc(n + s);
    memcpy(o, j, 2);
    memcpy(o + 2, seg, s);
    memcpy(o + 2 + s, j + 2, n - 2);
    *len = n + s;
    return o;
}

static const char *decode_status(const uint8_t *b, size_t n) {
    lfr_image im;
    lfr_status s = lfr_image_decode(b, n, &im, NULL);
    lfr_image_free(&im);
    return lfr_status_str(s);
}

/* Round trips ------------------------------------------------------------- */

static void test_png_roundtrip(void) {
    lfr_image a, b;
    make_noise(&a, 37, 23);
    uint8_t *buf;
    size_t len;
    CHECK_STATUS(lfr_image_encode_png(&a, &buf, &len), LFR_OK);
    CHECK_EQ_INT(lfr_image_sniff(buf, len), LFR_IMAGE_PNG);
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_image_decode(buf, len, &b, &err), LFR_OK);
    CHECK(same_image(&a, &b));
    lfr_free(buf);
    lfr_image_free(&a);
    lfr_image_free(&b);
    CHECK(b.px == NULL && b.w == 0);
    lfr_image_free(&b); /* twice is fine */
}

static void test_jpeg_roundtrip(void) {
    lfr_image a, b;
    make_smooth(&a, 64, 48);
    size_t len;
    uint8_t *buf = encode_jpeg_or_die(&a, 95, &len);
    CHECK_EQ_INT(lfr_image_sniff(buf, len), LFR_IMAGE_JPEG);
    CHECK_STATUS(lfr_image_decode(buf, len, &b, NULL), LFR_OK);
    CHECK_EQ_INT(b.w, 64);
    CHECK_EQ_INT(b.h, 48);
    double mad = mean_abs_diff(&a, &b), p = psnr(&a, &b);
    fprintf(stderr, "  jpeg q95: %zu bytes, mean abs diff %.2f, PSNR %.1f dB\n",
            len, mad, p);
    CHECK(mad < 2.0);
    CHECK(p > 35.0);
    lfr_free(buf);
    lfr_image_free(&b);
    /* Quality changes the size: the parameter is used. */
    size_t len10;
    uint8_t *b10 = encode_jpeg_or_die(&a, 10, &len10);
    CHECK(len10 < len);
    lfr_free(b10);
    lfr_image_free(&a);
}

static void test_jpeg_gray_cmyk_progressive(void) {
    /* gray */
    uint8_t g[16 * 8];
    for (int i = 0; i < 16 * 8; i++) g[i] = (uint8_t)(i % 16 * 16);
    size_t n;
    uint8_t *j = write_jpeg(16, 8, 1, g, 100, 0, NULL, 0, &n);
    lfr_image im;
    CHECK_STATUS(lfr_image_decode(j, n, &im, NULL), LFR_OK);
    CHECK_EQ_INT(im.w, 16);
    int maxd = 0, gray = 1;
    for (int i = 0; i < 16 * 8; i++) {
        const uint8_t *p = im.px + i * 3;
        if (p[0] != p[1] || p[1] != p[2]) gray = 0;
        int d = abs(p[0] - g[i]);
        if (d > maxd) maxd = d;
    }
    CHECK(gray);
    CHECK(maxd <= 3);
    lfr_image_free(&im);
    free(j);

    /* CMYK with an Adobe marker (libjpeg writes one): values stored
     * inverted, so (255, 0, 0, 255) is C=0 M=255 Y=255 K=0, red. */
    uint8_t c[16 * 16 * 4];
    for (int i = 0; i < 16 * 16; i++) {
        int left = (i % 16) < 8;
        c[i * 4 + 0] = left ? 255 : 0;   /* left red, right cyan */
        c[i * 4 + 1] = left ? 0 : 255;
        c[i * 4 + 2] = left ? 0 : 255;
        c[i * 4 + 3] = 255;
    }
    j = write_jpeg(16, 16, 4, c, 100, 0, NULL, 0, &n);
    CHECK_STATUS(lfr_image_decode(j, n, &im, NULL), LFR_OK);
    if (im.px) {
        const uint8_t *l = px(&im, 2, 8), *r = px(&im, 13, 8);
        CHECK(l[0] > 235 && l[1] < 20 && l[2] < 20);
        CHECK(r[0] < 20 && r[1] > 235 && r[2] > 235);
    }
    lfr_image_free(&im);
    free(j);

    /* progressive RGB */
    lfr_image a;
    make_smooth(&a, 40, 24);
    j = write_jpeg(40, 24, 3, a.px, 95, 1, NULL, 0, &n);
    CHECK_STATUS(lfr_image_decode(j, n, &im, NULL), LFR_OK);
    CHECK(im.px && mean_abs_diff(&a, &im) < 2.0);
    lfr_image_free(&im);
    CHECK_STATUS(lfr_image_decode(j, n / 2, &im, NULL), LFR_ERR_CORRUPT);
    free(j);
    lfr_image_free(&a);
}

/* A progressive JPEG with 3 DC scans and `refine`+1 scans per AC
 * coefficient and component: 3 + 189 * (refine + 1) scans. */
static uint8_t *many_scan_jpeg(int refine, size_t *len, int *nscans) {
    static jpeg_scan_info s[3 + 189 * 3];
    int k = 0;
    for (int ci = 0; ci < 3; ci++)
        s[k++] = (jpeg_scan_info){1, {ci, 0, 0, 0}, 0, 0, 0, 0};
    for (int ci = 0; ci < 3; ci++)
        for (int co = 1; co < 64; co++) {
            s[k++] = (jpeg_scan_info){1, {ci, 0, 0, 0}, co, co, 0, refine};
            for (int al = refine; al > 0; al--)
                s[k++] = (jpeg_scan_info){1, {ci, 0, 0, 0}, co, co, al, al - 1};
        }
    lfr_image a;
    make_smooth(&a, 16, 16);
    uint8_t *j = write_jpeg(16, 16, 3, a.px, 90, 0, s, k, len);
    lfr_image_free(&a);
    *nscans = k;
    return j;
}

static void test_jpeg_scan_limit(void) {
    int ns;
    size_t n;
    uint8_t *j = many_scan_jpeg(0, &n, &ns);
    CHECK(ns <= LFR_MAX_JPEG_SCANS);
    lfr_image im;
    CHECK_STATUS(lfr_image_decode(j, n, &im, NULL), LFR_OK);
    lfr_image_free(&im);
    free(j);
    j = many_scan_jpeg(2, &n, &ns);
    CHECK(ns > LFR_MAX_JPEG_SCANS);
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_image_decode(j, n, &im, &err), LFR_ERR_CORRUPT);
    CHECK(strstr(err.msg, "scans") != NULL);
    free(j);
}

static void test_jpeg_harmless_warning(void) {
    /* Two junk bytes between header segments: libjpeg warns "extraneous
     * bytes before marker" (real cameras do this); the image is fine. */
    lfr_image a, b, c;
    make_smooth(&a, 24, 16);
    size_t n;
    uint8_t *j = encode_jpeg_or_die(&a, 90, &n);
    long dqt = find_marker(j, n, 0xDB);
    CHECK(dqt > 0);
    if (dqt > 0) {
        uint8_t *k = lfr_malloc(n + 2);
        memcpy(k, j, (size_t)dqt);
        k[dqt] = 0x12;
        k[dqt + 1] = 0x34;
        memcpy(k + dqt + 2, j + dqt, n - (size_t)dqt);
        CHECK_STATUS(lfr_image_decode(j, n, &b, NULL), LFR_OK);
        CHECK_STATUS(lfr_image_decode(k, n + 2, &c, NULL), LFR_OK);
        CHECK(b.px && c.px && same_image(&b, &c));
        lfr_image_free(&b);
        lfr_image_free(&c);
        lfr_free(k);
    }
    lfr_free(j);
    lfr_image_free(&a);
}

/* PNG flavours -------------------------------------------------------------- */

static void test_png_gray_and_16bit(void) {
    enum { W = 5, H = 3 };
    uint8_t v[W * H];
    for (int i = 0; i < W * H; i++) v[i] = (uint8_t)(i * 17);
    uint8_t rows8[H][W], rows16[H][W * 2], rgb16[H][W * 6], ga[H][W * 2];
    uint8_t *r8[H], *r16[H], *rr16[H], *rga[H];
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            uint8_t g = v[y * W + x];
            rows8[y][x] = g;
            rows16[y][2 * x] = g; /* 16-bit value g * 257: both bytes g */
            rows16[y][2 * x + 1] = g;
            for (int c = 0; c < 3; c++) {
                uint8_t cv = (uint8_t)(g ^ (c * 85));
                rgb16[y][6 * x + 2 * c] = cv;
                rgb16[y][6 * x + 2 * c + 1] = cv;
            }
            ga[y][2 * x] = g;
            ga[y][2 * x + 1] = (uint8_t)(255 - g); /* alpha, dropped */
        }
        r8[y] = rows8[y];
        r16[y] = rows16[y];
        rr16[y] = rgb16[y];
        rga[y] = ga[y];
    }
    struct {
        const char *name;
        int depth, ctype;
        uint8_t **rows;
        int rgb16;
    } cases[] = {
        {"gray8", 8, PNG_COLOR_TYPE_GRAY, r8, 0},
        {"gray16", 16, PNG_COLOR_TYPE_GRAY, r16, 0},
        {"rgb16", 16, PNG_COLOR_TYPE_RGB, rr16, 1},
        {"gray+alpha", 8, PNG_COLOR_TYPE_GRAY_ALPHA, rga, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (int il = 0; il < 2; il++) {
            size_t n;
            uint8_t *p = write_png(W, H, cases[k].depth, cases[k].ctype, il,
                                   cases[k].rows, NULL, 0, NULL, 0, &n);
            lfr_image im;
            lfr_status s = lfr_image_decode(p, n, &im, NULL);
            CHECK_STATUS(s, LFR_OK);
            int bad = 0;
            for (int i = 0; s == LFR_OK && i < W * H; i++)
                for (int c = 0; c < 3; c++) {
                    uint8_t want = cases[k].rgb16 ? (uint8_t)(v[i] ^ (c * 85)) : v[i];
                    if (im.px[i * 3 + c] != want) bad++;
                }
            if (bad) fprintf(stderr, "  %s interlace %d: %d wrong\n", cases[k].name, il, bad);
            CHECK_EQ_INT(bad, 0);
            lfr_image_free(&im);
            free(p);
        }
    }
    /* 1-bit gray: 0 -> 0, 1 -> 255 */
    uint8_t b1[2][1] = {{0xA0}, {0x40}}; /* 1010, 0100 */
    uint8_t *rb1[2] = {b1[0], b1[1]};
    size_t n;
    uint8_t *p = write_png(4, 2, 1, PNG_COLOR_TYPE_GRAY, 0, rb1, NULL, 0, NULL, 0, &n);
    lfr_image im;
    CHECK_STATUS(lfr_image_decode(p, n, &im, NULL), LFR_OK);
    if (im.px) {
        static const uint8_t want[8] = {255, 0, 255, 0, 0, 255, 0, 0};
        for (int i = 0; i < 8; i++) CHECK_EQ_INT(im.px[i * 3 + 1], want[i]);
    }
    lfr_image_free(&im);
    free(p);
}

static void test_png_palette_and_alpha(void) {
    png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};
    uint8_t trns[4] = {255, 0, 128, 255};
    /* 2-bit palette, 5x2: indices 0 1 2 3 0 / 3 2 1 0 3 */
    static const int idx[10] = {0, 1, 2, 3, 0, 3, 2, 1, 0, 3};
    uint8_t rows[2][2] = {{0}};
    for (int i = 0; i < 10; i++)
        rows[i / 5][(i % 5) / 4] |= (uint8_t)(idx[i] << (6 - 2 * (i % 5 % 4)));
    uint8_t *rp[2] = {rows[0], rows[1]};
    for (int with_trns = 0; with_trns < 2; with_trns++) {
        size_t n;
        uint8_t *p = write_png(5, 2, 2, PNG_COLOR_TYPE_PALETTE, 0, rp, pal, 4,
                               with_trns ? trns : NULL, 4, &n);
        lfr_image im;
        CHECK_STATUS(lfr_image_decode(p, n, &im, NULL), LFR_OK);
        for (int i = 0; im.px && i < 10; i++) {
            CHECK_EQ_INT(im.px[i * 3 + 0], pal[idx[i]].red);
            CHECK_EQ_INT(im.px[i * 3 + 1], pal[idx[i]].green);
            CHECK_EQ_INT(im.px[i * 3 + 2], pal[idx[i]].blue);
        }
        lfr_image_free(&im);
        free(p);
    }
    /* RGBA: colour kept, alpha dropped (not composited). */
    uint8_t rgba[2][8] = {{10, 20, 30, 0, 40, 50, 60, 128}, {70, 80, 90, 255, 1, 2, 3, 4}};
    uint8_t *ra[2] = {rgba[0], rgba[1]};
    size_t n;
    uint8_t *p = write_png(2, 2, 8, PNG_COLOR_TYPE_RGBA, 0, ra, NULL, 0, NULL, 0, &n);
    lfr_image im;
    CHECK_STATUS(lfr_image_decode(p, n, &im, NULL), LFR_OK);
    static const uint8_t want[12] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 1, 2, 3};
    CHECK(im.px && memcmp(im.px, want, 12) == 0);
    lfr_image_free(&im);
    free(p);
}

/* Limits -------------------------------------------------------------------- */

static void test_png_too_large(void) {
    uint8_t h[64];
    lfr_err err = {{0}};
    lfr_image im;
    size_t n = png_header_only(h, 20000, 20000);
    long before = lfr_alloc_count();
    CHECK_STATUS(lfr_image_decode(h, n, &im, &err), LFR_ERR_TOO_LARGE);
    CHECK_EQ_INT(lfr_alloc_count() - before, 0); /* refused before libpng */
    CHECK(strstr(err.msg, "20000") != NULL);
    CHECK(im.px == NULL);
    /* one past the side limit */
    n = png_header_only(h, LFR_MAX_IMAGE_SIDE + 1, 1);
    CHECK_STATUS(lfr_image_decode(h, n, &im, NULL), LFR_ERR_TOO_LARGE);
    /* sides fine, product one row past the pixel limit (8000x6001) */
    n = png_header_only(h, 8000, LFR_MAX_IMAGE_PIXELS / 8000 + 1);
    CHECK_STATUS(lfr_image_decode(h, n, &im, NULL), LFR_ERR_TOO_LARGE);
    /* at the side limit: a real 16384x1 PNG decodes */
    lfr_image wide;
    CHECK_STATUS(lfr_image_alloc(&wide, LFR_MAX_IMAGE_SIDE, 1), LFR_OK);
    uint8_t *buf;
    CHECK_STATUS(lfr_image_encode_png(&wide, &buf, &n), LFR_OK);
    CHECK_STATUS(lfr_image_decode(buf, n, &im, NULL), LFR_OK);
    CHECK_EQ_INT(im.w, LFR_MAX_IMAGE_SIDE);
    lfr_image_free(&im);
    lfr_free(buf);
    lfr_image_free(&wide);
    /* sides within the limit, product over it: also refused from the IHDR,
     * before libpng allocates anything */
    n = png_header_only(h, 12000, 12000);
    before = lfr_alloc_count();
    CHECK_STATUS(lfr_image_decode(h, n, &im, NULL), LFR_ERR_TOO_LARGE);
    CHECK_EQ_INT(lfr_alloc_count() - before, 0);
    /* alloc limits agree */
    CHECK_STATUS(lfr_image_alloc(&im, LFR_MAX_IMAGE_SIDE + 1, 1), LFR_ERR_TOO_LARGE);
    CHECK_STATUS(lfr_image_alloc(&im, 0, 5), LFR_ERR_INVALID_ARG);
}

static void patch_sof(uint8_t *j, size_t n, unsigned w, unsigned h) {
    long sof = find_marker(j, n, 0xC0);
    CHECK(sof > 0);
    if (sof <= 0) return;
    j[sof + 5] = (uint8_t)(h >> 8);
    j[sof + 6] = (uint8_t)h;
    j[sof + 7] = (uint8_t)(w >> 8);
    j[sof + 8] = (uint8_t)w;
}

static void test_jpeg_too_large(void) {
    lfr_image a, im;
    make_smooth(&a, 16, 16);
    size_t n;
    uint8_t *j = encode_jpeg_or_die(&a, 80, &n);
    lfr_err err = {{0}};
    patch_sof(j, n, 60000, 60000);
    long before = lfr_alloc_count();
    uint64_t t0 = lfr_now_ns();
    CHECK_STATUS(lfr_image_decode(j, n, &im, &err), LFR_ERR_TOO_LARGE);
    CHECK_EQ_INT(lfr_alloc_count() - before, 0);
    CHECK(lfr_now_ns() - t0 < 1000000000ull);
    CHECK(strstr(err.msg, "60000") != NULL);
    patch_sof(j, n, LFR_MAX_IMAGE_SIDE + 1, 8);
    CHECK_STATUS(lfr_image_decode(j, n, &im, NULL), LFR_ERR_TOO_LARGE);
    patch_sof(j, n, 8000, LFR_MAX_IMAGE_PIXELS / 8000 + 1);
    CHECK_STATUS(lfr_image_decode(j, n, &im, NULL), LFR_ERR_TOO_LARGE);
    lfr_free(j);
    lfr_image_free(&a);
}

static void test_bytes_limit(void) {
    size_t n = (size_t)LFR_MAX_IMAGE_BYTES + 1;
    uint8_t *b = calloc(n, 1);
    memcpy(b, "\xFF\xD8\xFF", 3);
    lfr_image im;
    CHECK_STATUS(lfr_image_decode(b, n, &im, NULL), LFR_ERR_TOO_LARGE);
    free(b);
}

/* Damage ---------------------------------------------------------------------- */

static void test_truncated(void) {
    lfr_image a, im;
    make_noise(&a, 32, 32);
    uint8_t *p, *j;
    size_t pn, jn;
    CHECK_STATUS(lfr_image_encode_png(&a, &p, &pn), LFR_OK);
    j = encode_jpeg_or_die(&a, 90, &jn);
    size_t pcuts[] = {1, 4, 7, 8, 12, 20, 33, 40, pn / 2, pn - 13, pn - 12, pn - 4, pn - 1};
    size_t jcuts[] = {1, 2, 3, 4, 10, 20, 100, 300, jn / 2, jn - 10, jn - 2, jn - 1};
    for (size_t i = 0; i < sizeof pcuts / sizeof pcuts[0]; i++) {
        lfr_err err = {{0}};
        lfr_status s = lfr_image_decode(p, pcuts[i], &im, &err);
        if (s != LFR_ERR_CORRUPT)
            fprintf(stderr, "  png cut at %zu/%zu: %s\n", pcuts[i], pn, lfr_status_str(s));
        CHECK_STATUS(s, LFR_ERR_CORRUPT);
        CHECK(err.msg[0] != 0);
        CHECK(im.px == NULL);
    }
    for (size_t i = 0; i < sizeof jcuts / sizeof jcuts[0]; i++) {
        lfr_err err = {{0}};
        lfr_status s = lfr_image_decode(j, jcuts[i], &im, &err);
        if (s != LFR_ERR_CORRUPT)
            fprintf(stderr, "  jpeg cut at %zu/%zu: %s\n", jcuts[i], jn, lfr_status_str(s));
        CHECK_STATUS(s, LFR_ERR_CORRUPT);
        CHECK(err.msg[0] != 0);
        CHECK(im.px == NULL);
    }
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_image_decode(j, jn / 2, &im, &err), LFR_ERR_CORRUPT);
    fprintf(stderr, "  e.g. \"%s\"\n", err.msg);
    /* Every cut point of the JPEG, and of the PNG: never OK, never a crash. */
    int ok_cuts = 0;
    for (size_t c = 0; c < jn; c++) {
        lfr_status s = lfr_image_decode(j, c, &im, NULL);
        if (s == LFR_OK) ok_cuts++;
        lfr_image_free(&im);
    }
    for (size_t c = 0; c < pn; c++) {
        lfr_status s = lfr_image_decode(p, c, &im, NULL);
        if (s == LFR_OK) ok_cuts++;
        lfr_image_free(&im);
    }
    CHECK_EQ_INT(ok_cuts, 0);
    /* A flipped byte inside the PNG's IDAT: CRC mismatch. */
    p[60] ^= 0x55;
    CHECK_STATUS(lfr_image_decode(p, pn, &im, &err), LFR_ERR_CORRUPT);
    lfr_free(p);
    lfr_free(j);
    lfr_image_free(&a);
}

static void test_unsupported_and_empty(void) {
    uint8_t r[256];
    for (int trial = 0; trial < 50; trial++) {
        for (size_t i = 0; i < sizeof r; i++) r[i] = (uint8_t)rnd();
        if (lfr_image_sniff(r, sizeof r) != LFR_IMAGE_UNKNOWN) continue;
        if (r[0] == 0xFF || r[0] == 0x89) continue; /* could be a magic prefix */
        CHECK_STATUS(lfr_image_decode(r, sizeof r, &(lfr_image){0}, NULL),
                     LFR_ERR_UNSUPPORTED);
    }
    static const uint8_t gif[] = "GIF89a\x01\x00\x01\x00\x80\x00\x00";
    static const uint8_t bmp[] = "BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00";
    static const uint8_t webp[] = "RIFF\x1a\x00\x00\x00WEBPVP8 ";
    lfr_image im;
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_image_decode(gif, sizeof gif - 1, &im, &err), LFR_ERR_UNSUPPORTED);
    CHECK(err.msg[0] != 0);
    CHECK_STATUS(lfr_image_decode(bmp, sizeof bmp - 1, &im, NULL), LFR_ERR_UNSUPPORTED);
    CHECK_STATUS(lfr_image_decode(webp, sizeof webp - 1, &im, NULL), LFR_ERR_UNSUPPORTED);
    /* empty */
    CHECK_STATUS(lfr_image_decode(gif, 0, &im, NULL), LFR_ERR_CORRUPT);
    CHECK_STATUS(lfr_image_decode(NULL, 0, &im, NULL), LFR_ERR_CORRUPT);
    CHECK(im.px == NULL);
    /* programmer errors */
    CHECK_STATUS(lfr_image_decode(NULL, 5, &im, NULL), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_image_decode(gif, 5, NULL, NULL), LFR_ERR_INVALID_ARG);
    /* a JPEG-looking single SOI then junk */
    static const uint8_t junk[] = "\xFF\xD8\xFF\x00garbage garbage garbage";
    CHECK_STATUS(lfr_image_decode(junk, sizeof junk - 1, &im, NULL), LFR_ERR_CORRUPT);
    (void)decode_status;
}

/* EXIF -------------------------------------------------------------------------- */

static void rot_cw(const lfr_image *s, lfr_image *d) {
    lfr_image_alloc(d, s->h, s->w);
    for (int y = 0; y < d->h; y++)
        for (int x = 0; x < d->w; x++) memcpy(px(d, x, y), px(s, y, s->h - 1 - x), 3);
}
static void mirror(const lfr_image *s, lfr_image *d) {
    lfr_image_alloc(d, s->w, s->h);
    for (int y = 0; y < d->h; y++)
        for (int x = 0; x < d->w; x++) memcpy(px(d, x, y), px(s, s->w - 1 - x, y), 3);
}
static void flipv(const lfr_image *s, lfr_image *d) {
    lfr_image_alloc(d, s->w, s->h);
    for (int y = 0; y < d->h; y++)
        for (int x = 0; x < d->w; x++) memcpy(px(d, x, y), px(s, x, s->h - 1 - y), 3);
}

/* Reference orientations from three primitive operations. */
static void ref_orient(const lfr_image *s, int o, lfr_image *d) {
    lfr_image t1, t2;
    switch (o) {
    case 1: lfr_image_clone(s, d); break;
    case 2: mirror(s, d); break;
    case 3: rot_cw(s, &t1); rot_cw(&t1, d); lfr_image_free(&t1); break;
    case 4: flipv(s, d); break;
    case 5: rot_cw(s, &t1); mirror(&t1, d); lfr_image_free(&t1); break;
    case 6: rot_cw(s, d); break;
    case 7: rot_cw(s, &t1); flipv(&t1, d); lfr_image_free(&t1); break;
    case 8:
        rot_cw(s, &t1); rot_cw(&t1, &t2); rot_cw(&t2, d);
        lfr_image_free(&t1); lfr_image_free(&t2);
        break;
    }
}

static void test_orient_all(void) {
    lfr_image s, d, r;
    make_noise(&s, 5, 3);
    for (int o = 1; o <= 8; o++) {
        CHECK_STATUS(lfr_image_orient(&s, o, &d), LFR_OK);
        ref_orient(&s, o, &r);
        if (!same_image(&d, &r)) fprintf(stderr, "  orientation %d differs\n", o);
        CHECK(same_image(&d, &r));
        lfr_image_free(&d);
        lfr_image_free(&r);
    }
    CHECK_STATUS(lfr_image_orient(&s, 0, &d), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_image_orient(&s, 9, &d), LFR_ERR_INVALID_ARG);
    lfr_image_free(&s);
}

static int is_red(const uint8_t *p) { return p[0] > 200 && p[1] < 70 && p[2] < 70; }

static void test_exif_orientation(void) {
    /* 48x24, blue-grey with an 8x8 red top-left corner. */
    lfr_image a;
    CHECK_STATUS(lfr_image_alloc(&a, 48, 24), LFR_OK);
    for (int y = 0; y < 24; y++)
        for (int x = 0; x < 48; x++) {
            uint8_t *p = px(&a, x, y);
            int red = x < 8 && y < 8;
            p[0] = red ? 255 : 40;
            p[1] = red ? 0 : 90;
            p[2] = red ? 0 : 160;
        }
    size_t n;
    uint8_t *j = encode_jpeg_or_die(&a, 95, &n);
    struct {
        int o, w, h, cx, cy; /* expected size and where the red corner lands */
    } cases[] = {
        {1, 48, 24, 2, 2},   {3, 48, 24, 45, 21}, {6, 24, 48, 21, 2},
        {8, 24, 48, 2, 45},  {2, 48, 24, 45, 2},  {5, 24, 48, 2, 2},
    };
    for (int be = 0; be < 2; be++) {
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            size_t en;
            uint8_t *e = splice_exif(j, n, cases[k].o, be, &en);
            lfr_image im;
            int orient = 0;
            CHECK_STATUS(lfr_image_decode_ex(e, en, &im, 1, &orient, NULL), LFR_OK);
            CHECK_EQ_INT(orient, cases[k].o);
            CHECK_EQ_INT(im.w, cases[k].w);
            CHECK_EQ_INT(im.h, cases[k].h);
            if (im.w == cases[k].w && im.h == cases[k].h) {
                CHECK(is_red(px(&im, cases[k].cx, cases[k].cy)));
                /* exactly one corner is red */
                int reds = is_red(px(&im, 2, 2)) + is_red(px(&im, im.w - 3, 2)) +
                           is_red(px(&im, 2, im.h - 3)) + is_red(px(&im, im.w - 3, im.h - 3));
                CHECK_EQ_INT(reds, 1);
            }
            lfr_image_free(&im);
            /* apply_exif = 0: pixels as stored */
            CHECK_STATUS(lfr_image_decode_ex(e, en, &im, 0, &orient, NULL), LFR_OK);
            CHECK_EQ_INT(orient, cases[k].o);
            CHECK(im.w == 48 && im.h == 24 && is_red(px(&im, 2, 2)));
            lfr_image_free(&im);
            lfr_free(e);
        }
    }
    lfr_free(j);
    lfr_image_free(&a);
}

/* Scaled JPEG decoding for large phone photos: a 4032x3024 (12 MP) photo
 * taken with the phone turned (EXIF orientation 6) decodes at 1/2 or 1/4
 * size, upright, with the same picture as a full decode shrunk. */
static double decode_ms(const uint8_t *j, size_t n, int min_short, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        lfr_image im = {0};
        uint64_t t0 = lfr_now_ns();
        lfr_status s = min_short > 0 ? lfr_image_decode_max(j, n, min_short, &im, NULL, NULL)
                                     : lfr_image_decode(j, n, &im, NULL);
        double ms = (double)(lfr_now_ns() - t0) / 1e6;
        CHECK_STATUS(s, LFR_OK);
        lfr_image_free(&im);
        if (ms < best) best = ms;
    }
    return best;
}

static void test_decode_max(void) {
    const int W = 4032, H = 3024;
    lfr_image a;
    CHECK_STATUS(lfr_image_alloc(&a, W, H), LFR_OK);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = px(&a, x, y);
            int red = x < 512 && y < 512;
            p[0] = red ? 255 : (uint8_t)(x * 255 / W);
            p[1] = red ? 0 : (uint8_t)(y * 255 / H);
            p[2] = red ? 0 : 128;
        }
    size_t n0, n;
    uint8_t *j0 = encode_jpeg_or_die(&a, 90, &n0);
    uint8_t *j = splice_exif(j0, n0, 6, 0, &n); /* rotate 90 clockwise */
    struct {
        int min_short, reduction, w, h; /* upright: width and height swapped */
    } cases[] = {
        {960, 2, 1512, 2016}, /* 1/4 would leave 756 < 960 */
        {720, 4, 756, 1008},
        {300, 8, 378, 504},
        {378, 8, 378, 504},   /* exactly reached */
        {379, 4, 756, 1008},
        {3024, 1, 3024, 4032},
        {5000, 1, 3024, 4032}, /* never enlarged */
        {0, 1, 3024, 4032},    /* off */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lfr_image im = {0};
        int red = -1;
        CHECK_STATUS(lfr_image_decode_max(j, n, cases[i].min_short, &im, &red, NULL), LFR_OK);
        CHECK_EQ_INT(red, cases[i].reduction);
        CHECK_EQ_INT(im.w, cases[i].w);
        CHECK_EQ_INT(im.h, cases[i].h);
        if (im.px) { /* the red corner moved to the top right, the far corner is not red */
            CHECK(is_red(px(&im, im.w - 1 - 8 / cases[i].reduction, 8 / cases[i].reduction)));
            CHECK(!is_red(px(&im, 2, 2)));
            CHECK(!is_red(px(&im, im.w - 3, im.h - 3)));
        }
        lfr_image_free(&im);
    }
    /* Same picture as a full decode resized to the same size. */
    lfr_image full = {0}, half = {0}, shrunk = {0};
    CHECK_STATUS(lfr_image_decode(j, n, &full, NULL), LFR_OK);
    CHECK_STATUS(lfr_image_decode_max(j, n, 960, &half, NULL, NULL), LFR_OK);
    CHECK_STATUS(lfr_image_resize(&full, half.w, half.h, &shrunk), LFR_OK);
    double mad = mean_abs_diff(&half, &shrunk);
    fprintf(stderr, "  1/2 decode vs full decode shrunk: mean abs diff %.2f\n", mad);
    CHECK(mad < 3.0);
    lfr_image_free(&full);
    lfr_image_free(&half);
    lfr_image_free(&shrunk);
    /* Odd sizes round up, as libjpeg does. */
    lfr_image odd = {0}, o = {0};
    CHECK_STATUS(lfr_image_crop(&a, 0, 0, 1001, 751, &odd), LFR_OK);
    uint8_t *jo = encode_jpeg_or_die(&odd, 90, &n0);
    int red = 0;
    CHECK_STATUS(lfr_image_decode_max(jo, n0, 180, &o, &red, NULL), LFR_OK);
    CHECK_EQ_INT(red, 4);
    CHECK_EQ_INT(o.w, 251);
    CHECK_EQ_INT(o.h, 188);
    lfr_image_free(&o);
    lfr_free(jo);
    /* PNG: always full size. */
    uint8_t *pb = NULL;
    size_t pn = 0;
    CHECK_STATUS(lfr_image_encode_png(&odd, &pb, &pn), LFR_OK);
    CHECK_STATUS(lfr_image_decode_max(pb, pn, 100, &o, &red, NULL), LFR_OK);
    CHECK_EQ_INT(red, 1);
    CHECK_EQ_INT(o.w, 1001);
    lfr_image_free(&o);
    lfr_free(pb);
    lfr_image_free(&odd);
    /* Errors are those of lfr_image_decode. */
    CHECK_STATUS(lfr_image_decode_max(j, n / 2, 960, &o, &red, NULL), LFR_ERR_CORRUPT);
    CHECK(o.px == NULL);
    /* Time: best of 3 each. */
    double t_full = decode_ms(j, n, 0, 3), t2 = decode_ms(j, n, 960, 3),
           t4 = decode_ms(j, n, 720, 3);
    fprintf(stderr, "  decode 4032x3024 JPEG (%zu bytes): full %.1f ms, 1/2 %.1f ms, 1/4 %.1f ms\n",
            n, t_full, t2, t4);
    CHECK(t4 < t_full);
    lfr_free(j);
    lfr_free(j0);
    lfr_image_free(&a);
}

static void test_exif_parser(void) {
    uint8_t seg[64];
    size_t n = make_exif(seg, 6, 0);
    const uint8_t *app1 = seg + 4;
    size_t len = n - 4;
    CHECK_EQ_INT(lfr_image_exif_orientation(app1, len), 6);
    n = make_exif(seg, 8, 1);
    CHECK_EQ_INT(lfr_image_exif_orientation(app1, len), 8);
    /* every truncation: the tag needs the whole entry (10 + 22 bytes) */
    for (size_t l = 0; l < len; l++) {
        int o = lfr_image_exif_orientation(app1, l);
        CHECK(o == 1 || (o == 8 && l >= 6 + 8 + 2 + 12));
    }
    uint8_t b[64];
    memcpy(b, app1, len);
    b[6 + 8 + 2 + 8 + 1] = 9; /* value 9: out of range */
    CHECK_EQ_INT(lfr_image_exif_orientation(b, len), 1);
    memcpy(b, app1, len);
    b[6] = 'X'; /* bad byte order */
    CHECK_EQ_INT(lfr_image_exif_orientation(b, len), 1);
    memcpy(b, app1, len);
    b[6 + 4] = b[6 + 5] = b[6 + 6] = b[6 + 7] = 0xFF; /* IFD far away */
    CHECK_EQ_INT(lfr_image_exif_orientation(b, len), 1);
    memcpy(b, app1, len);
    b[6 + 7] = 4; /* IFD inside the header */
    CHECK_EQ_INT(lfr_image_exif_orientation(b, len), 1);
    memcpy(b, app1, len);
    b[6 + 8] = b[6 + 9] = 0xFF; /* 65535 entries claimed: only what fits read */
    CHECK_EQ_INT(lfr_image_exif_orientation(b, len), 8);
    memcpy(b, app1, len);
    b[6 + 8 + 2 + 3] = 7; /* type SRATIONAL: ignored */
    CHECK_EQ_INT(lfr_image_exif_orientation(b, len), 1);
    CHECK_EQ_INT(lfr_image_exif_orientation(NULL, 100), 1);
    /* random TIFF bodies: no crash (ASan/valgrind watch) */
    for (int t = 0; t < 20000; t++) {
        size_t l = 6 + rnd() % 58;
        memcpy(b, "Exif\0\0", 6);
        for (size_t i = 6; i < l; i++) b[i] = (uint8_t)rnd();
        if (t & 1) { b[6] = b[7] = 'I'; b[8] = 42; b[9] = 0; b[10] = (uint8_t)(rnd() % 64); b[11] = b[12] = b[13] = 0; }
        int o = lfr_image_exif_orientation(b, l);
        CHECK(o >= 1 && o <= 8);
    }
}

/* Resampling ------------------------------------------------------------------ */

static void test_resize_half_pixel(void) {
    /* 4x4 -> 2x2: sx = 2*dx + 0.5; a linear ramp is reproduced exactly. */
    lfr_image s, d;
    CHECK_STATUS(lfr_image_alloc(&s, 4, 4), LFR_OK);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            px(&s, x, y)[0] = (uint8_t)(10 * x + 40 * y);
            px(&s, x, y)[1] = (uint8_t)(200 - 10 * x - 40 * y);
            px(&s, x, y)[2] = 77;
        }
    CHECK_STATUS(lfr_image_resize(&s, 2, 2, &d), LFR_OK);
    static const int want4[4] = {25, 45, 105, 125};
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(d.px[i * 3 + 0], want4[i]);
        CHECK_EQ_INT(d.px[i * 3 + 1], 200 - want4[i]);
        CHECK_EQ_INT(d.px[i * 3 + 2], 77);
    }
    lfr_image_free(&s);
    lfr_image_free(&d);

    /* 2x2 -> 4x4: sample points -0.25 (clamped), 0.25, 0.75, 1.25 (clamped)
     * give weights {0, .25, .75, 1}: 100*x + 40*y -> 0 25 75 100 (+ 0 10 30
     * 40).  Align-corners would give 0 33 67 100; the plain dx*scale
     * convention 0 50 100 100. */
    CHECK_STATUS(lfr_image_alloc(&s, 2, 2), LFR_OK);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++) px(&s, x, y)[0] = (uint8_t)(100 * x + 40 * y);
    CHECK_STATUS(lfr_image_resize(&s, 4, 4, &d), LFR_OK);
    static const int wx[4] = {0, 25, 75, 100}, wy[4] = {0, 10, 30, 40};
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) CHECK_EQ_INT(px(&d, x, y)[0], wx[x] + wy[y]);
    lfr_image_free(&s);
    lfr_image_free(&d);
}

/* Float reference of the OpenCV convention. */
static double ref_tap(int d, int sn, int dn, int *i0, int *i1) {
    double f = (d + 0.5) * sn / dn - 0.5;
    if (f < 0) f = 0;
    if (f > sn - 1) f = sn - 1;
    *i0 = (int)floor(f);
    *i1 = *i0 + 1 < sn ? *i0 + 1 : *i0;
    return f - *i0;
}

static void test_resize_vs_reference(void) {
    int sizes[][4] = {{17, 13, 5, 29}, {64, 48, 31, 17}, {3, 3, 1, 1},
                      {1, 1, 7, 5},    {100, 7, 33, 21}, {7, 100, 7, 100}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        lfr_image s, d;
        make_noise(&s, sizes[k][0], sizes[k][1]);
        CHECK_STATUS(lfr_image_resize(&s, sizes[k][2], sizes[k][3], &d), LFR_OK);
        int maxd = 0;
        for (int y = 0; y < d.h; y++) {
            int y0, y1;
            double fy = ref_tap(y, s.h, d.h, &y0, &y1);
            for (int x = 0; x < d.w; x++) {
                int x0, x1;
                double fx = ref_tap(x, s.w, d.w, &x0, &x1);
                for (int c = 0; c < 3; c++) {
                    double top = px(&s, x0, y0)[c] * (1 - fx) + px(&s, x1, y0)[c] * fx;
                    double bot = px(&s, x0, y1)[c] * (1 - fx) + px(&s, x1, y1)[c] * fx;
                    double v = top * (1 - fy) + bot * fy;
                    int e = abs(px(&d, x, y)[c] - (int)lround(v));
                    if (e > maxd) maxd = e;
                }
            }
        }
        if (maxd > 1) fprintf(stderr, "  %dx%d->%dx%d max diff %d\n", s.w, s.h, d.w, d.h, maxd);
        CHECK(maxd <= 1);
        if (s.w == d.w && s.h == d.h) CHECK(same_image(&s, &d));
        /* Into an image already allocated (stale contents): the same. */
        lfr_image r;
        make_noise(&r, sizes[k][2], sizes[k][3]);
        CHECK_STATUS(lfr_image_resize_into(&s, &r), LFR_OK);
        CHECK(same_image(&r, &d));
        lfr_image_free(&r);
        lfr_image_free(&s);
        lfr_image_free(&d);
    }
    /* resize_into needs an allocated destination. */
    lfr_image s, empty = {0};
    make_noise(&s, 8, 8);
    CHECK_STATUS(lfr_image_resize_into(&s, &empty), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_image_resize_into(&s, NULL), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_image_resize_into(&empty, &s), LFR_ERR_INVALID_ARG);
    lfr_image_free(&s);
}

/* Exact halving takes a fast path (a 2x2 box average, rounded half up):
 * what the general fixed-point bilinear path computes at scale 2, and the
 * exact bilinear value rounded (half-pixel centres fall mid-way between
 * two source pixels each way), so no level differs. */
static void test_resize_half_exact(void) {
    int sizes[][2] = {{2, 2}, {64, 48}, {34, 6}, {1920, 1080}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        lfr_image s, d;
        make_noise(&s, sizes[k][0], sizes[k][1]);
        CHECK_STATUS(lfr_image_resize(&s, s.w / 2, s.h / 2, &d), LFR_OK);
        int bad = 0;
        for (int y = 0; y < d.h; y++)
            for (int x = 0; x < d.w; x++)
                for (int c = 0; c < 3; c++) {
                    int want = (px(&s, 2 * x, 2 * y)[c] + px(&s, 2 * x + 1, 2 * y)[c] +
                                px(&s, 2 * x, 2 * y + 1)[c] + px(&s, 2 * x + 1, 2 * y + 1)[c] + 2) >> 2;
                    bad += px(&d, x, y)[c] != want;
                }
        CHECK_EQ_INT(bad, 0);
        lfr_image_free(&d);
        lfr_image_free(&s);
    }
}

static void test_resize_speed(void) {
    lfr_image s, d;
    make_noise(&s, 1920, 1080);
    double best = 1e9;
    for (int i = 0; i < 5; i++) {
        uint64_t t0 = lfr_now_ns();
        CHECK_STATUS(lfr_image_resize(&s, 960, 540, &d), LFR_OK);
        double ms = (double)(lfr_now_ns() - t0) / 1e6;
        if (ms < best) best = ms;
        lfr_image_free(&d);
    }
    fprintf(stderr, "  1920x1080 -> 960x540: %.2f ms (best of 5)\n", best);
    lfr_image_free(&s);
}

static void test_crop_border(void) {
    lfr_image s, d;
    make_noise(&s, 4, 3);
    int cases[][4] = {{-2, -1, 8, 5}, {1, 1, 2, 1}, {10, 10, 3, 3},
                      {-10, -10, 3, 2}, {-5, 1, 2, 1}, {3, -4, 6, 9}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int X = cases[k][0], Y = cases[k][1], W = cases[k][2], H = cases[k][3];
        CHECK_STATUS(lfr_image_crop(&s, X, Y, W, H, &d), LFR_OK);
        int bad = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int sx = X + x, sy = Y + y;
                sx = sx < 0 ? 0 : sx > 3 ? 3 : sx;
                sy = sy < 0 ? 0 : sy > 2 ? 2 : sy;
                if (memcmp(px(&d, x, y), px(&s, sx, sy), 3)) bad++;
            }
        CHECK_EQ_INT(bad, 0);
        lfr_image_free(&d);
    }
    CHECK_STATUS(lfr_image_crop(&s, 0, 0, 0, 3, &d), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_image_crop(&s, 0x7fffffff, -0x7fffffff, 2, 2, &d), LFR_OK);
    CHECK(d.px && memcmp(px(&d, 1, 1), px(&s, 3, 0), 3) == 0);
    lfr_image_free(&d);
    lfr_image_free(&s);
}

static void test_warp_affine(void) {
    lfr_image s, d, o;
    make_noise(&s, 9, 6);
    CHECK_STATUS(lfr_image_alloc(&d, 9, 6), LFR_OK);
    const float id[6] = {1, 0, 0, 0, 1, 0};
    lfr_image_warp_affine(&s, id, &d);
    CHECK(same_image(&s, &d));
    /* translation: dst(x,y) = src(x+2, y+1), edge replicated */
    const float tr[6] = {1, 0, 2, 0, 1, 1};
    lfr_image_warp_affine(&s, tr, &d);
    int bad = 0;
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 9; x++) {
            int sx = x + 2 > 8 ? 8 : x + 2, sy = y + 1 > 5 ? 5 : y + 1;
            if (memcmp(px(&d, x, y), px(&s, sx, sy), 3)) bad++;
        }
    CHECK_EQ_INT(bad, 0);
    /* half-pixel shift of a ramp: midpoints */
    lfr_image r;
    CHECK_STATUS(lfr_image_alloc(&r, 8, 2), LFR_OK);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 8; x++) px(&r, x, y)[0] = (uint8_t)(20 * x);
    lfr_image rd;
    CHECK_STATUS(lfr_image_alloc(&rd, 8, 2), LFR_OK);
    const float half[6] = {1, 0, 0.5f, 0, 1, 0};
    lfr_image_warp_affine(&r, half, &rd);
    for (int x = 0; x < 7; x++) CHECK_EQ_INT(px(&rd, x, 1)[0], 20 * x + 10);
    CHECK_EQ_INT(px(&rd, 7, 1)[0], 140);
    lfr_image_free(&r);
    lfr_image_free(&rd);
    /* a 90-degree rotation equals orientation 6 */
    lfr_image_free(&d);
    CHECK_STATUS(lfr_image_alloc(&d, 6, 9), LFR_OK);
    const float rot[6] = {0, 1, 0, -1, 0, 5};
    lfr_image_warp_affine(&s, rot, &d);
    CHECK_STATUS(lfr_image_orient(&s, 6, &o), LFR_OK);
    CHECK(same_image(&d, &o));
    lfr_image_free(&o);
    /* non-finite and huge coordinates sample the border, no UB */
    const float nan_m[6] = {NAN, 0, 0, 0, INFINITY, -1e30f};
    lfr_image_warp_affine(&s, nan_m, &d);
    lfr_image_free(&d);
    lfr_image_free(&s);
}

static void test_warp_f32(void) {
    lfr_image s;
    make_noise(&s, 5, 4);
    float out[5 * 4 * 3], outt[5 * 4 * 3];
    const float id[6] = {1, 0, 0, 0, 1, 0};
    lfr_image_warp_affine_f32(&s, id, 5, 4, 127.5f, 1 / 128.0f, 0, out);
    lfr_image_warp_affine_f32(&s, id, 5, 4, 127.5f, 1 / 128.0f, 1, outt);
    int bad = 0;
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 5; x++)
            for (int c = 0; c < 3; c++) {
                float want = (px(&s, x, y)[c] - 127.5f) / 128.0f;
                if (fabsf(out[(y * 5 + x) * 3 + c] - want) > 1e-6f) bad++;
                if (fabsf(outt[(x * 4 + y) * 3 + c] - want) > 1e-6f) bad++;
            }
    CHECK_EQ_INT(bad, 0);
    /* sub-pixel: no rounding in the float path */
    lfr_image r;
    CHECK_STATUS(lfr_image_alloc(&r, 2, 1), LFR_OK);
    px(&r, 1, 0)[0] = 1;
    float v[3];
    const float q[6] = {1, 0, 0.25f, 0, 1, 0};
    lfr_image_warp_affine_f32(&r, q, 1, 1, 0, 1, 0, v);
    CHECK_NEAR(v[0], 0.25, 1e-6);
    lfr_image_free(&r);
    lfr_image_free(&s);
}

static void test_resize_f32(void) {
    lfr_image s, c, d;
    make_noise(&s, 16, 12);
    /* integer rectangles == crop + resize (within the uint8 rounding):
     * partly outside the image, and inside it but upsampled, where sample
     * points beyond the rectangle's edge pixels must clamp to the rectangle,
     * not blend in the pixels next to it */
    int rects[][6] = {{-3, 2, 20, 15, 7, 9}, {4, 3, 4, 4, 9, 8}, {0, 0, 16, 12, 5, 30}};
    for (size_t r = 0; r < sizeof rects / sizeof rects[0]; r++) {
        int X = rects[r][0], Y = rects[r][1], W = rects[r][2], H = rects[r][3];
        int DW = rects[r][4], DH = rects[r][5];
        float *o = malloc(sizeof(float) * DW * DH * 3), *ot = malloc(sizeof(float) * DW * DH * 3);
        lfr_image_resize_f32(&s, (float)X, (float)Y, (float)W, (float)H, DW, DH, 0, 1, 0, o);
        lfr_image_resize_f32(&s, (float)X, (float)Y, (float)W, (float)H, DW, DH, 0, 1, 1, ot);
        CHECK_STATUS(lfr_image_crop(&s, X, Y, W, H, &c), LFR_OK);
        CHECK_STATUS(lfr_image_resize(&c, DW, DH, &d), LFR_OK);
        double maxd = 0;
        int tbad = 0;
        for (int y = 0; y < DH; y++)
            for (int x = 0; x < DW; x++)
                for (int k = 0; k < 3; k++) {
                    double e = fabs(o[(y * DW + x) * 3 + k] - px(&d, x, y)[k]);
                    if (e > maxd) maxd = e;
                    if (ot[(x * DH + y) * 3 + k] != o[(y * DW + x) * 3 + k]) tbad++;
                }
        if (maxd > 1.0) fprintf(stderr, "  rect %zu: max diff %g\n", r, maxd);
        CHECK(maxd <= 1.0);
        CHECK_EQ_INT(tbad, 0);
        free(o);
        free(ot);
        lfr_image_free(&c);
        lfr_image_free(&d);
    }
    lfr_image_free(&s);
    /* whole 4x4 ramp -> 2x2, normalised: exact half-pixel values */
    CHECK_STATUS(lfr_image_alloc(&s, 4, 4), LFR_OK);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) px(&s, x, y)[0] = (uint8_t)(10 * x + 40 * y);
    float f[12];
    lfr_image_resize_f32(&s, 0, 0, 4, 4, 2, 2, 5, 0.5f, 0, f);
    CHECK_NEAR(f[0], (25 - 5) * 0.5, 1e-5);
    CHECK_NEAR(f[3], (45 - 5) * 0.5, 1e-5);
    CHECK_NEAR(f[6], (105 - 5) * 0.5, 1e-5);
    CHECK_NEAR(f[9], (125 - 5) * 0.5, 1e-5);
    /* fractional rectangle: a half-pixel window around pixel centres */
    lfr_image_resize_f32(&s, 1.0f, 0, 1.0f, 1.0f, 1, 1, 0, 1, 0, f);
    CHECK_NEAR(f[0], 10, 1e-5);
    lfr_image_free(&s);
}

static void test_flip_h(void) {
    lfr_image s, d;
    CHECK_STATUS(lfr_image_alloc(&s, 3, 2), LFR_OK);
    for (int i = 0; i < 18; i++) s.px[i] = (uint8_t)i;
    CHECK_STATUS(lfr_image_flip_h(&s, &d), LFR_OK);
    static const uint8_t want[18] = {6, 7, 8, 3, 4, 5, 0, 1, 2, 15, 16, 17, 12, 13, 14, 9, 10, 11};
    CHECK(memcmp(d.px, want, 18) == 0);
    lfr_image_free(&d);
    lfr_image_free(&s);
}

/* Drawing ------------------------------------------------------------------------- */

static int count_colour(const lfr_image *im, int x0, int y0, int x1, int y1) {
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            const uint8_t *p = px(im, x, y);
            if (p[0] || p[1] || p[2]) n++;
        }
    return n;
}

static void test_draw(void) {
    lfr_image im;
    CHECK_STATUS(lfr_image_alloc(&im, 40, 30), LFR_OK);
    lfr_image_draw_rect(&im, 2, 3, 10, 8, 255, 0, 0, 2);
    CHECK(px(&im, 2, 3)[0] == 255);
    CHECK(px(&im, 11, 10)[0] == 255);
    CHECK(px(&im, 3, 4)[0] == 255);
    CHECK(px(&im, 4, 5)[0] == 0);
    CHECK(px(&im, 12, 3)[0] == 0);
    CHECK(px(&im, 1, 3)[0] == 0);
    CHECK_EQ_INT(count_colour(&im, 0, 0, 40, 30), 10 * 8 - 6 * 4);
    lfr_image_draw_rect(&im, -50, -50, 1000, 1000, 0, 9, 0, 3); /* clipped */
    lfr_image_draw_rect(&im, 0x7ffffff0, 0x7ffffff0, 0x7fffffff, 100, 1, 1, 1, 1);
    memset(im.px, 0, 40 * 30 * 3);

    lfr_image_draw_dot(&im, 10, 10, 3, 0, 255, 0);
    CHECK(px(&im, 10, 10)[1] == 255);
    CHECK(px(&im, 13, 10)[1] == 255);
    CHECK(px(&im, 14, 10)[1] == 0);
    CHECK(px(&im, 12, 12)[1] == 255);
    CHECK(px(&im, 13, 13)[1] == 0);
    lfr_image_draw_dot(&im, -1000000, 5, 2000000000, 1, 2, 3);
    memset(im.px, 0, 40 * 30 * 3);

    int tw, th;
    lfr_image_text_size("88", 2, &tw, &th);
    CHECK_EQ_INT(tw, 22);
    CHECK_EQ_INT(th, 14);
    lfr_image_draw_text(&im, 1, 1, "88", 2, 255, 255, 255);
    int inside = count_colour(&im, 1, 1, 1 + tw, 1 + th);
    CHECK(inside > 40);
    CHECK_EQ_INT(count_colour(&im, 0, 0, 40, 30), inside);
    CHECK(px(&im, 1, 3)[0] == 255);   /* '8' column 0, row 1 */
    CHECK(px(&im, 1, 1)[0] == 0);     /* '8' column 0, row 0 is blank */
    /* every supported character draws something, unknown ones draw '?' */
    const char *set = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcz.:%-/_()+=,#?~";
    for (const char *p = set; *p; p++) {
        memset(im.px, 0, 40 * 30 * 3);
        char one[2] = {*p, 0};
        lfr_image_draw_text(&im, 0, 0, one, 1, 255, 255, 255);
        CHECK(count_colour(&im, 0, 0, 5, 7) > 0);
    }
    memset(im.px, 0, 40 * 30 * 3);
    lfr_image_draw_text(&im, 0, 0, " ", 1, 255, 255, 255);
    CHECK_EQ_INT(count_colour(&im, 0, 0, 40, 30), 0);
    lfr_image_draw_text(&im, -7, 25, "99.5%\nID:42", 3, 255, 0, 0); /* clipped */
    lfr_image_draw_text(&im, 0x7fffff00, 0, "X", 16, 255, 0, 0);
    lfr_image_free(&im);
}

/* Files ------------------------------------------------------------------------- */

static int count_dir(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

static void test_write_load(void) {
    char dir[] = "/tmp/test_image_XXXXXX";
    if (!mkdtemp(dir)) SKIP("mkdtemp failed");
    char p1[256], p2[256], p3[256];
    snprintf(p1, sizeof p1, "%s/a.png", dir);
    snprintf(p2, sizeof p2, "%s/b.JPG", dir);
    snprintf(p3, sizeof p3, "%s/c.bmp", dir);
    lfr_image a, b;
    make_smooth(&a, 33, 17);
    CHECK_STATUS(lfr_image_write(&a, p1, 0), LFR_OK);
    CHECK_STATUS(lfr_image_write(&a, p2, 92), LFR_OK);
    CHECK_STATUS(lfr_image_write(&a, p3, 0), LFR_ERR_UNSUPPORTED);
    CHECK_STATUS(lfr_image_write(&a, "/nonexistent-dir/x.png", 0), LFR_ERR_NOT_FOUND);
    lfr_err err = {{0}};
    CHECK_STATUS(lfr_image_load(p1, &b, &err), LFR_OK);
    CHECK(same_image(&a, &b));
    lfr_image_free(&b);
    CHECK_STATUS(lfr_image_load(p2, &b, &err), LFR_OK);
    CHECK(b.px && mean_abs_diff(&a, &b) < 2.5);
    lfr_image_free(&b);
    /* overwrite in place */
    CHECK_STATUS(lfr_image_write(&a, p1, 0), LFR_OK);
    CHECK_EQ_INT(count_dir(dir), 2); /* no temporaries left */
    CHECK_STATUS(lfr_image_load(p3, &b, &err), LFR_ERR_NOT_FOUND);
    CHECK(err.msg[0] != 0);
    /* a sparse file one byte past the limit */
    int fd = open(p3, O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0 && ftruncate(fd, (off_t)LFR_MAX_IMAGE_BYTES + 1) == 0);
    if (fd >= 0) close(fd);
    CHECK_STATUS(lfr_image_load(p3, &b, &err), LFR_ERR_TOO_LARGE);
    struct stat st;
    CHECK(stat(p1, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* A directory or a FIFO given as a photo: a clear sentence, not
     * "input/output error", and the FIFO (no writer) does not hang. */
    char sub[256], fifo[256];
    snprintf(sub, sizeof sub, "%s/photos.jpg", dir);
    snprintf(fifo, sizeof fifo, "%s/pipe.jpg", dir);
    CHECK(mkdir(sub, 0700) == 0);
    CHECK(mkfifo(fifo, 0600) == 0);
    err.msg[0] = 0;
    CHECK_STATUS(lfr_image_load(sub, &b, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "is a directory") != NULL);
    fprintf(stderr, "  directory: %s\n", err.msg);
    err.msg[0] = 0;
    CHECK_STATUS(lfr_image_load(fifo, &b, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "not a regular file") != NULL);
    fprintf(stderr, "  fifo: %s\n", err.msg);
    uint8_t *data = NULL;
    size_t dlen = 0;
    CHECK_STATUS(lfr_read_file(sub, 1024, &data, &dlen), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_read_file(fifo, 1024, &data, &dlen), LFR_ERR_INVALID_ARG);
    CHECK_STATUS(lfr_read_file("/dev/null", 1024, &data, &dlen), LFR_ERR_INVALID_ARG);
    CHECK(data == NULL && dlen == 0);
    CHECK_STATUS(lfr_read_file(p1, 1u << 20, &data, &dlen), LFR_OK);
    CHECK(data && dlen == (size_t)st.st_size && data[dlen] == 0);
    lfr_free(data);
    rmdir(sub);
    unlink(fifo);
    unlink(p1);
    unlink(p2);
    unlink(p3);
    rmdir(dir);
    lfr_image_free(&a);
}

/* Allocation failure ------------------------------------------------------------ */

typedef lfr_status (*op_fn)(const void *ctx, lfr_image *out);

typedef struct {
    const uint8_t *buf;
    size_t len;
} blob;

static lfr_status op_decode(const void *ctx, lfr_image *out) {
    const blob *b = ctx;
    return lfr_image_decode(b->buf, b->len, out, NULL);
}
static lfr_status op_resize(const void *ctx, lfr_image *out) {
    return lfr_image_resize(ctx, 13, 7, out);
}
static lfr_status op_crop(const void *ctx, lfr_image *out) {
    return lfr_image_crop(ctx, -3, -3, 20, 20, out);
}
static lfr_status op_orient(const void *ctx, lfr_image *out) {
    return lfr_image_orient(ctx, 6, out);
}

/* Runs op with the n-th allocation failing, n = 0.., until it succeeds.
 * Every failure must be NOMEM with an empty result; the success must equal
 * the unfailed result.  Returns how many failures were seen. */
static int fail_loop(const char *name, op_fn op, const void *ctx) {
    lfr_image want, got;
    CHECK_STATUS(op(ctx, &want), LFR_OK);
    int failures = 0;
    for (long n = 0; n < 500; n++) {
        lfr_alloc_fail_after(n);
        lfr_status s = op(ctx, &got);
        lfr_alloc_fail_after(-1);
        if (s == LFR_OK) {
            CHECK(same_image(&want, &got));
            lfr_image_free(&got);
            break;
        }
        if (s != LFR_ERR_NOMEM)
            fprintf(stderr, "  %s: fail_after(%ld) -> %s\n", name, n, lfr_status_str(s));
        CHECK_STATUS(s, LFR_ERR_NOMEM);
        CHECK(got.px == NULL);
        failures++;
    }
    fprintf(stderr, "  %s: %d allocation points\n", name, failures);
    CHECK(failures >= 1);
    lfr_image_free(&want);
    return failures;
}

static void test_fault_injection(void) {
    lfr_image a;
    make_smooth(&a, 24, 16);
    uint8_t *p, *j, *pal;
    size_t pn, jn, paln;
    CHECK_STATUS(lfr_image_encode_png(&a, &p, &pn), LFR_OK);
    j = encode_jpeg_or_die(&a, 90, &jn);
    size_t en;
    uint8_t *e = splice_exif(j, jn, 8, 0, &en);
    /* interlaced palette PNG with tRNS: more libpng paths */
    png_color pc[2] = {{1, 2, 3}, {200, 100, 50}};
    uint8_t t[1] = {0};
    uint8_t rows[4][1] = {{0x5A}, {0xA5}, {0xFF}, {0x00}};
    uint8_t *rp[4] = {rows[0], rows[1], rows[2], rows[3]};
    pal = write_png(8, 4, 1, PNG_COLOR_TYPE_PALETTE, 1, rp, pc, 2, t, 1, &paln);
    blob bp = {p, pn}, bj = {j, jn}, be = {e, en}, bpal = {pal, paln};
    int png_points = fail_loop("decode png", op_decode, &bp);
    CHECK(png_points >= 3); /* libpng's own allocations are reached */
    fail_loop("decode palette png", op_decode, &bpal);
    fail_loop("decode jpeg", op_decode, &bj);
    CHECK_EQ_INT(fail_loop("decode jpeg+exif", op_decode, &be), 2);
    fail_loop("resize", op_resize, &a);
    fail_loop("crop", op_crop, &a);
    fail_loop("orient", op_orient, &a);

    /* encoders */
    for (int which = 0; which < 2; which++) {
        int fails = 0;
        for (long n = 0; n < 500; n++) {
            uint8_t *b = NULL;
            size_t bl = 0;
            lfr_alloc_fail_after(n);
            lfr_status s = which ? lfr_image_encode_jpeg(&a, 90, &b, &bl)
                                 : lfr_image_encode_png(&a, &b, &bl);
            lfr_alloc_fail_after(-1);
            if (s == LFR_OK) {
                lfr_image back;
                CHECK_STATUS(lfr_image_decode(b, bl, &back, NULL), LFR_OK);
                lfr_image_free(&back);
                lfr_free(b);
                break;
            }
            CHECK_STATUS(s, LFR_ERR_NOMEM);
            CHECK(b == NULL);
            fails++;
        }
        fprintf(stderr, "  encode %s: %d allocation points\n", which ? "jpeg" : "png", fails);
        CHECK(fails >= 1);
    }
    /* write */
    char dir[] = "/tmp/test_image_XXXXXX";
    if (mkdtemp(dir)) {
        char path[256];
        snprintf(path, sizeof path, "%s/f.png", dir);
        for (long n = 0; n < 500; n++) {
            lfr_alloc_fail_after(n);
            lfr_status s = lfr_image_write(&a, path, 0);
            lfr_alloc_fail_after(-1);
            if (s == LFR_OK) break;
            CHECK_STATUS(s, LFR_ERR_NOMEM);
            CHECK_EQ_INT(count_dir(dir), 0);
        }
        CHECK_EQ_INT(count_dir(dir), 1);
        unlink(path);
        rmdir(dir);
    }
    lfr_free(p);
    lfr_free(j);
    lfr_free(e);
    free(pal);
    lfr_image_free(&a);
}

/* Seed corpus -------------------------------------------------------------------- */

static int save(const char *dir, const char *name, const uint8_t *b, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fwrite(b, 1, n, f);
    fclose(f);
    if (n > 4096) fprintf(stderr, "warning: %s is %zu bytes\n", name, n);
    return 0;
}

static int write_corpus(const char *dir) {
    lfr_image a;
    make_smooth(&a, 16, 8);
    for (int i = 0; i < 16 * 8 * 3; i += 7) a.px[i] ^= 0x5A; /* some texture */
    uint8_t *b, *e;
    size_t n, en;
    if (lfr_image_encode_png(&a, &b, &n) || save(dir, "rgb.png", b, n)) return 1;
    save(dir, "rgb_trunc_half.png", b, n / 2);
    save(dir, "rgb_no_iend.png", b, n - 12);
    b[45] ^= 0x40;
    save(dir, "rgb_bad_crc.png", b, n);
    lfr_free(b);
    b = encode_jpeg_or_die(&a, 75, &n);
    save(dir, "rgb.jpg", b, n);
    save(dir, "rgb_trunc_half.jpg", b, n / 2);
    save(dir, "rgb_no_eoi.jpg", b, n - 2);
    for (int o = 3; o <= 8; o += 2 + (o == 3)) { /* 3, 6, 8 */
        char name[32];
        snprintf(name, sizeof name, "exif%d.jpg", o);
        e = splice_exif(b, n, o, o == 6, &en);
        save(dir, name, e, en);
        if (o == 6) {
            e[2 + 4 + 6 + 4 + 3] = 0xF0; /* IFD offset out of bounds */
            save(dir, "exif_bad_ifd.jpg", e, en);
        }
        lfr_free(e);
    }
    patch_sof(b, n, 60000, 60000);
    save(dir, "huge_60000.jpg", b, n);
    lfr_free(b);

    uint8_t g[8 * 8];
    for (int i = 0; i < 64; i++) g[i] = (uint8_t)(i * 4);
    b = write_jpeg(8, 8, 1, g, 80, 0, NULL, 0, &n);
    save(dir, "gray.jpg", b, n);
    free(b);
    b = write_jpeg(16, 8, 3, a.px, 80, 1, NULL, 0, &n);
    save(dir, "progressive.jpg", b, n);
    save(dir, "progressive_trunc.jpg", b, n * 2 / 3);
    free(b);
    uint8_t c[8 * 8 * 4];
    for (int i = 0; i < 256; i++) c[i] = (uint8_t)(i * 3);
    b = write_jpeg(8, 8, 4, c, 80, 0, NULL, 0, &n);
    save(dir, "cmyk.jpg", b, n);
    free(b);

    uint8_t rows[8][16];
    uint8_t *rp[8];
    for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 16; x++) rows[y][x] = (uint8_t)(x * 16 + y);
        rp[y] = rows[y];
    }
    b = write_png(8, 8, 8, PNG_COLOR_TYPE_GRAY, 0, rp, NULL, 0, NULL, 0, &n);
    save(dir, "gray8.png", b, n);
    free(b);
    b = write_png(4, 8, 16, PNG_COLOR_TYPE_GRAY_ALPHA, 1, rp, NULL, 0, NULL, 0, &n);
    save(dir, "gray_alpha16_interlaced.png", b, n);
    free(b);
    b = write_png(2, 8, 16, PNG_COLOR_TYPE_RGBA, 0, rp, NULL, 0, NULL, 0, &n);
    save(dir, "rgba16.png", b, n);
    free(b);
    png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {9, 9, 9}};
    uint8_t t[2] = {0, 128};
    b = write_png(16, 8, 2, PNG_COLOR_TYPE_PALETTE, 1, rp, pal, 4, t, 2, &n);
    save(dir, "palette2_trns_interlaced.png", b, n);
    free(b);
    b = write_png(16, 8, 1, PNG_COLOR_TYPE_GRAY, 0, rp, NULL, 0, NULL, 0, &n);
    save(dir, "gray1.png", b, n);
    free(b);
    uint8_t h[64];
    n = png_header_only(h, 20000, 20000);
    save(dir, "huge_20000.png", h, n);
    n = png_header_only(h, 12000, 12000);
    save(dir, "huge_12000.png", h, n);
    save(dir, "gif.gif", (const uint8_t *)"GIF89a\x01\x00\x01\x00\x80\x00\x00", 13);
    save(dir, "empty", (const uint8_t *)"", 0);
    lfr_image_free(&a);
    printf("corpus written to %s\n", dir);
    return 0;
}

int main(int argc, char **argv) {
    lfr_log_set_level(LFR_LOG_WARN);
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) return write_corpus(argv[2]);
    RUN(test_png_roundtrip);
    RUN(test_jpeg_roundtrip);
    RUN(test_jpeg_gray_cmyk_progressive);
    RUN(test_jpeg_scan_limit);
    RUN(test_jpeg_harmless_warning);
    RUN(test_png_gray_and_16bit);
    RUN(test_png_palette_and_alpha);
    RUN(test_png_too_large);
    RUN(test_jpeg_too_large);
    RUN(test_bytes_limit);
    RUN(test_truncated);
    RUN(test_unsupported_and_empty);
    RUN(test_orient_all);
    RUN(test_exif_orientation);
    RUN(test_exif_parser);
    RUN(test_decode_max);
    RUN(test_resize_half_pixel);
    RUN(test_resize_vs_reference);
    RUN(test_resize_half_exact);
    RUN(test_resize_speed);
    RUN(test_crop_border);
    RUN(test_warp_affine);
    RUN(test_warp_f32);
    RUN(test_resize_f32);
    RUN(test_flip_h);
    RUN(test_draw);
    RUN(test_write_load);
    RUN(test_fault_injection);
    return harness_done("image");
}
