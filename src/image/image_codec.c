/*
 * image_codec.c - JPEG/PNG decoding and encoding, EXIF orientation, atomic
 * file writing.  See image.h.
 *
 * Both libraries report fatal errors through a callback that must not
 * return; ours longjmp back into the function that set up the decoder, which
 * then frees everything it holds.  Each setjmp lives in a small *_run
 * function whose only state is a context struct reached through a pointer,
 * so nothing the error path reads can be clobbered by the longjmp.
 */
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h> /* before jerror.h: its codes depend on jconfig.h */
#include <jerror.h>
#include <png.h>

#define MSG_MAX 200

static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
static const uint8_t jpeg_magic[3] = {0xFF, 0xD8, 0xFF};

lfr_image_format lfr_image_sniff(const uint8_t *buf, size_t len) {
    if (!buf) return LFR_IMAGE_UNKNOWN;
    if (len >= sizeof jpeg_magic && memcmp(buf, jpeg_magic, sizeof jpeg_magic) == 0)
        return LFR_IMAGE_JPEG;
    if (len >= sizeof png_magic && memcmp(buf, png_magic, sizeof png_magic) == 0)
        return LFR_IMAGE_PNG;
    return LFR_IMAGE_UNKNOWN;
}

/* A short buffer that is the start of a magic number: a truncated file. */
static int is_magic_prefix(const uint8_t *buf, size_t len) {
    if (len < sizeof jpeg_magic && memcmp(buf, jpeg_magic, len) == 0) return 1;
    if (len < sizeof png_magic && memcmp(buf, png_magic, len) == 0) return 1;
    return 0;
}

static int dims_ok(unsigned long w, unsigned long h) {
    return w >= 1 && h >= 1 && w <= LFR_MAX_IMAGE_SIDE &&
           h <= LFR_MAX_IMAGE_SIDE &&
           (unsigned long long)w * h <= LFR_MAX_IMAGE_PIXELS;
}

static int image_ok(const lfr_image *im) {
    return im && im->px && dims_ok(im->w > 0 ? (unsigned long)im->w : 0,
                                   im->h > 0 ? (unsigned long)im->h : 0);
}

/* EXIF -------------------------------------------------------------------- */

static unsigned rd16(const uint8_t *p, int le) {
    return le ? (unsigned)p[0] | (unsigned)p[1] << 8
              : (unsigned)p[0] << 8 | (unsigned)p[1];
}

static uint32_t rd32(const uint8_t *p, int le) {
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                    (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int lfr_image_exif_orientation(const uint8_t *app1, size_t len) {
    /* "Exif\0\0", then TIFF: byte order "II"/"MM", 42, u32 offset of IFD0;
     * an IFD is u16 count then count 12-byte entries {u16 tag, u16 type,
     * u32 count, 4-byte value}.  Orientation is tag 0x0112, SHORT. */
    if (!app1 || len < 6 + 8 || memcmp(app1, "Exif\0\0", 6) != 0) return 1;
    const uint8_t *t = app1 + 6;
    size_t n = len - 6;
    int le;
    if (t[0] == 'I' && t[1] == 'I') le = 1;
    else if (t[0] == 'M' && t[1] == 'M') le = 0;
    else return 1;
    if (rd16(t + 2, le) != 42) return 1;
    uint32_t ifd = rd32(t + 4, le);
    if (ifd < 8 || ifd > n - 2) return 1; /* n >= 8 */
    size_t count = rd16(t + ifd, le);
    size_t fits = (n - ifd - 2) / 12;
    if (count > fits) count = fits;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *e = t + ifd + 2 + 12 * i;
        if (rd16(e, le) != 0x0112) continue;
        unsigned type = rd16(e + 2, le);
        uint32_t v;
        if (rd32(e + 4, le) < 1) return 1;
        if (type == 3) v = rd16(e + 8, le);       /* SHORT, as the spec says */
        else if (type == 4) v = rd32(e + 8, le);  /* LONG, seen in the wild */
        else return 1;
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}

/* JPEG: shared error manager ------------------------------------------------ */

typedef struct jerr_ctx {
    struct jpeg_error_mgr pub; /* first: cinfo->err points here */
    jmp_buf jb;
    lfr_status fail;
    int warnings;
    char msg[MSG_MAX];
} jerr_ctx;

static void jfail(jerr_ctx *e, lfr_status s, const char *msg) {
    e->fail = s;
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    longjmp(e->jb, 1);
}

static void j_error_exit(j_common_ptr c) {
    jerr_ctx *e = (jerr_ctx *)c->err;
    char m[JMSG_LENGTH_MAX];
    lfr_status s;
    (*c->err->format_message)(c, m);
    switch (c->err->msg_code) {
    case JERR_OUT_OF_MEMORY: s = LFR_ERR_NOMEM; break;
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW: s = LFR_ERR_TOO_LARGE; break;
    case JERR_BAD_PRECISION:
    case JERR_NOT_COMPILED:
    case JERR_ARITH_NOTIMPL:
    case JERR_CONVERSION_NOTIMPL: s = LFR_ERR_UNSUPPORTED; break;
    default: s = LFR_ERR_CORRUPT; break;
    }
    jfail(e, s, m);
}

/* Warnings: libjpeg carries on after these, filling what it could not decode
 * with grey.  The ones that mean lost image data make the file corrupt at
 * once; the harmless ones are counted and bounded. */
static void j_emit_message(j_common_ptr c, int level) {
    jerr_ctx *e = (jerr_ctx *)c->err;
    if (level >= 0) return; /* trace messages */
    c->err->num_warnings++;
    e->warnings++;
    char m[JMSG_LENGTH_MAX];
    switch (c->err->msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
#if JPEG_LIB_VERSION >= 70 || defined(D_ARITH_CODING_SUPPORTED)
    case JWRN_ARITH_BAD_CODE: /* declared under the same condition */
#endif
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
        (*c->err->format_message)(c, m);
        jfail(e, LFR_ERR_CORRUPT, m);
        break;
    default:
        if (e->warnings > LFR_MAX_JPEG_WARNINGS) {
            (*c->err->format_message)(c, m);
            jfail(e, LFR_ERR_CORRUPT, m);
        }
        break;
    }
}

static void j_output_message(j_common_ptr c) { (void)c; /* never print */ }

static void jerr_init(jerr_ctx *e) {
    jpeg_std_error(&e->pub);
    e->pub.error_exit = j_error_exit;
    e->pub.emit_message = j_emit_message;
    e->pub.output_message = j_output_message;
}

/* JPEG decoding -------------------------------------------------------------- */

typedef struct jdec {
    struct jpeg_decompress_struct c;
    jerr_ctx e;
    struct jpeg_progress_mgr prog;
    const uint8_t *buf;
    size_t len;
    int created;
    int orientation;
    uint8_t *px;  /* pixels being decoded; freed on failure */
    uint8_t *row; /* one CMYK row */
    int w, h;
    int min_short; /* scaled decoding: keep the short side >= this (0: off) */
    int denom;     /* the reduction chosen: 1, 2, 4 or 8 */
} jdec;

static void j_progress(j_common_ptr c) {
    j_decompress_ptr d = (j_decompress_ptr)c;
    if (d->input_scan_number > LFR_MAX_JPEG_SCANS) {
        char m[MSG_MAX];
        snprintf(m, sizeof m, "more than %d scans in a progressive JPEG",
                 LFR_MAX_JPEG_SCANS);
        jfail((jerr_ctx *)c->err, LFR_ERR_CORRUPT, m);
    }
}

static uint8_t mul255(unsigned a, unsigned b) {
    return (uint8_t)((a * b + 127) / 255);
}

static int jpeg_run(jdec *d) {
    j_decompress_ptr c = &d->c;
    if (setjmp(d->e.jb)) return -1;
    jpeg_create_decompress(c);
    d->created = 1;
    d->prog.progress_monitor = j_progress;
    c->progress = &d->prog;
    jpeg_mem_src(c, d->buf, (unsigned long)d->len);
    jpeg_save_markers(c, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(c, TRUE);

    if (!dims_ok(c->image_width, c->image_height)) {
        char m[MSG_MAX];
        snprintf(m, sizeof m,
                 "image is %ux%u, over the limit of %d per side and %u pixels",
                 (unsigned)c->image_width, (unsigned)c->image_height,
                 LFR_MAX_IMAGE_SIDE, LFR_MAX_IMAGE_PIXELS);
        jfail(&d->e, LFR_ERR_TOO_LARGE, m);
    }
    for (jpeg_saved_marker_ptr mk = c->marker_list; mk; mk = mk->next) {
        if (mk->marker == JPEG_APP0 + 1 && mk->data_length >= 6 &&
            memcmp(mk->data, "Exif\0\0", 6) == 0) {
            d->orientation = lfr_image_exif_orientation(mk->data, mk->data_length);
            break;
        }
    }

    int cmyk = 0;
    switch (c->jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB: c->out_color_space = JCS_EXT_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK: c->out_color_space = JCS_CMYK; cmyk = 1; break;
    default:
        jfail(&d->e, LFR_ERR_UNSUPPORTED,
              "JPEG colour space is not gray, YCbCr, RGB or CMYK");
    }
    /* Scaled decoding: libjpeg-turbo does the reduction inside the inverse
     * DCT (1/2, 1/4, 1/8), so the skipped pixels are never computed.  The
     * largest reduction whose short side (rounded up, as libjpeg does)
     * still reaches min_short. */
    unsigned short_side = c->image_width < c->image_height ? c->image_width : c->image_height;
    d->denom = 1;
    for (unsigned k = 8; d->min_short > 0 && k >= 2; k /= 2)
        if ((short_side + k - 1) / k >= (unsigned)d->min_short) {
            d->denom = (int)k;
            break;
        }
    c->scale_num = 1;
    c->scale_denom = (unsigned)d->denom;
    JDIMENSION want_w = (c->image_width + (unsigned)d->denom - 1) / (unsigned)d->denom;
    JDIMENSION want_h = (c->image_height + (unsigned)d->denom - 1) / (unsigned)d->denom;
    jpeg_start_decompress(c);
    if (c->output_width != want_w || c->output_height != want_h ||
        c->output_components != (cmyk ? 4 : 3))
        jfail(&d->e, LFR_ERR_INTERNAL, "libjpeg output geometry unexpected");

    d->w = (int)c->output_width;
    d->h = (int)c->output_height;
    size_t stride = (size_t)d->w * 3, total; /* dims_ok: no overflow */
    if (lfr_mul_size(stride, (size_t)d->h, &total))
        jfail(&d->e, LFR_ERR_TOO_LARGE, "JPEG too large");
    d->px = lfr_malloc(total);
    if (!d->px) jfail(&d->e, LFR_ERR_NOMEM, "no memory for JPEG pixels");
    if (cmyk) {
        d->row = lfr_malloc((size_t)d->w * 4);
        if (!d->row) jfail(&d->e, LFR_ERR_NOMEM, "no memory for a CMYK row");
    }

    while (c->output_scanline < c->output_height) {
        JSAMPROW rows[16];
        JDIMENSION y = c->output_scanline, want = c->output_height - y;
        if (cmyk) want = 1;
        if (want > 16) want = 16;
        for (JDIMENSION i = 0; i < want; i++)
            rows[i] = cmyk ? d->row : d->px + (size_t)(y + i) * stride;
        JDIMENSION got = jpeg_read_scanlines(c, rows, want);
        if (got == 0) jfail(&d->e, LFR_ERR_CORRUPT, "JPEG decoding stalled");
        if (cmyk) {
            /* Adobe writes CMYK inverted (0 = full ink); without its marker
             * the values are plain ink amounts. */
            uint8_t *o = d->px + (size_t)y * stride;
            const uint8_t *s = d->row;
            int inv = c->saw_Adobe_marker;
            for (int x = 0; x < d->w; x++, s += 4, o += 3) {
                unsigned k = inv ? s[3] : 255u - s[3];
                for (int ch = 0; ch < 3; ch++)
                    o[ch] = mul255(inv ? s[ch] : 255u - s[ch], k);
            }
        }
    }
    jpeg_finish_decompress(c); /* reads to EOI: a missing one is truncation */
    return 0;
}

static lfr_status decode_jpeg(const uint8_t *buf, size_t len, int min_short,
                              lfr_image *out, int *orientation, int *denom,
                              lfr_err *err) {
    jdec d;
    memset(&d, 0, sizeof d);
    d.buf = buf;
    d.len = len;
    d.min_short = min_short;
    d.orientation = 1;
    jerr_init(&d.e);
    d.c.err = &d.e.pub;
    int rc = jpeg_run(&d);
    if (d.created) jpeg_destroy_decompress(&d.c);
    lfr_free(d.row);
    if (rc != 0) {
        lfr_free(d.px);
        return lfr_err_set(err, d.e.fail, "JPEG: %s", d.e.msg);
    }
    out->w = d.w;
    out->h = d.h;
    out->px = d.px;
    *orientation = d.orientation;
    *denom = d.denom;
    return LFR_OK;
}

/* PNG decoding ---------------------------------------------------------------- */

typedef struct pdec {
    const uint8_t *buf;
    size_t len, pos;
    png_structp png;
    png_infop info;
    lfr_status fail;
    int nomem;
    char msg[MSG_MAX];
    uint8_t *px;
    png_bytep *rows;
    int w, h;
} pdec;

static png_voidp p_malloc(png_structp png, png_alloc_size_t n) {
    void *p = lfr_malloc(n);
    if (!p) {
        int *nomem = png_get_mem_ptr(png);
        *nomem = 1;
    }
    return p;
}

static void p_free(png_structp png, png_voidp p) {
    (void)png;
    lfr_free(p);
}

static void p_error(png_structp png, png_const_charp msg) {
    char *dst = png_get_error_ptr(png);
    snprintf(dst, MSG_MAX, "%s", msg);
    png_longjmp(png, 1);
}

static void p_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg; /* bad ancillary chunks etc.: libpng skips them */
}

static void p_read(png_structp png, png_bytep out, size_t n) {
    pdec *d = png_get_io_ptr(png);
    if (n > d->len - d->pos) png_error(png, "file truncated");
    memcpy(out, d->buf + d->pos, n);
    d->pos += n;
}

static int png_run(pdec *d) {
    /* The error and memory pointers are fields of *d: msg and nomem. */
    d->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, d->msg, p_error,
                                      p_warning, &d->nomem, p_malloc, p_free);
    if (!d->png) {
        d->fail = d->nomem ? LFR_ERR_NOMEM : LFR_ERR_INTERNAL;
        snprintf(d->msg, sizeof d->msg, "cannot create the PNG reader");
        return -1;
    }
    d->info = png_create_info_struct(d->png);
    if (!d->info) {
        d->fail = LFR_ERR_NOMEM;
        snprintf(d->msg, sizeof d->msg, "cannot create the PNG info");
        return -1;
    }
    if (setjmp(png_jmpbuf(d->png))) {
        d->fail = d->nomem ? LFR_ERR_NOMEM : LFR_ERR_CORRUPT;
        return -1;
    }
    png_set_read_fn(d->png, d, p_read);
    png_set_user_limits(d->png, LFR_MAX_IMAGE_SIDE, LFR_MAX_IMAGE_SIDE);
    png_set_chunk_malloc_max(d->png, LFR_MAX_PNG_CHUNK_BYTES);
    png_read_info(d->png, d->info);

    png_uint_32 w, h;
    int depth, ct, il;
    png_get_IHDR(d->png, d->info, &w, &h, &depth, &ct, &il, NULL, NULL);
    if (!dims_ok(w, h)) {
        d->fail = LFR_ERR_TOO_LARGE;
        snprintf(d->msg, sizeof d->msg,
                 "image is %lux%lu, over the limit of %d per side and %u pixels",
                 (unsigned long)w, (unsigned long)h, LFR_MAX_IMAGE_SIDE,
                 LFR_MAX_IMAGE_PIXELS);
        return -1;
    }
    if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(d->png);
    if (ct == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(d->png);
    if (depth == 16) png_set_scale_16(d->png);
    if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(d->png);
    png_set_strip_alpha(d->png);
    png_set_interlace_handling(d->png);
    png_read_update_info(d->png, d->info);
    if (png_get_channels(d->png, d->info) != 3 ||
        png_get_bit_depth(d->png, d->info) != 8 ||
        png_get_rowbytes(d->png, d->info) != (size_t)w * 3) {
        d->fail = LFR_ERR_INTERNAL;
        snprintf(d->msg, sizeof d->msg, "libpng did not produce 8-bit RGB");
        return -1;
    }
    d->w = (int)w;
    d->h = (int)h;
    size_t stride = (size_t)w * 3, total, rbytes;
    if (lfr_mul_size(stride, h, &total) || lfr_mul_size(sizeof *d->rows, h, &rbytes)) {
        d->fail = LFR_ERR_TOO_LARGE;
        snprintf(d->msg, sizeof d->msg, "image too large");
        return -1;
    }
    d->px = lfr_malloc(total);
    d->rows = lfr_malloc(rbytes);
    if (!d->px || !d->rows) {
        d->fail = LFR_ERR_NOMEM;
        snprintf(d->msg, sizeof d->msg, "no memory for PNG pixels");
        return -1;
    }
    for (png_uint_32 y = 0; y < h; y++) d->rows[y] = d->px + (size_t)y * stride;
    png_read_image(d->png, d->rows);
    png_read_end(d->png, NULL); /* up to IEND: a missing one is truncation */
    return 0;
}

static lfr_status decode_png(const uint8_t *buf, size_t len, lfr_image *out,
                             lfr_err *err) {
    /* Refuse a huge IHDR before libpng allocates anything (libpng's own
     * user-limit check only reports "Invalid IHDR data"). */
    if (len >= 24 && memcmp(buf + 12, "IHDR", 4) == 0) {
        uint32_t w = rd32(buf + 16, 0), h = rd32(buf + 20, 0);
        if (w > 0 && h > 0 && w <= 0x7fffffffu && h <= 0x7fffffffu && !dims_ok(w, h))
            return lfr_err_set(err, LFR_ERR_TOO_LARGE,
                               "PNG: image is %lux%lu, over the limit of %d per "
                               "side and %u pixels",
                               (unsigned long)w, (unsigned long)h,
                               LFR_MAX_IMAGE_SIDE, LFR_MAX_IMAGE_PIXELS);
    }
    pdec d;
    memset(&d, 0, sizeof d);
    d.buf = buf;
    d.len = len;
    int rc = png_run(&d);
    if (d.png) png_destroy_read_struct(&d.png, d.info ? &d.info : NULL, NULL);
    lfr_free(d.rows);
    if (rc != 0) {
        lfr_free(d.px);
        return lfr_err_set(err, d.fail, "PNG: %s", d.msg);
    }
    out->w = d.w;
    out->h = d.h;
    out->px = d.px;
    return LFR_OK;
}

/* Decode entry points ------------------------------------------------------- */

static lfr_status decode_any(const uint8_t *buf, size_t len, int min_short,
                             lfr_image *out, int apply_exif,
                             int *orientation_out, int *denom_out,
                             lfr_err *err) {
    if (orientation_out) *orientation_out = 1;
    if (denom_out) *denom_out = 1;
    if (!out || (!buf && len))
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "decode: NULL argument");
    memset(out, 0, sizeof *out);
    if (len == 0) return lfr_err_set(err, LFR_ERR_CORRUPT, "image data is empty");
    if (len > LFR_MAX_IMAGE_BYTES)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE,
                           "image file is %zu bytes, over the limit of %u", len,
                           LFR_MAX_IMAGE_BYTES);
    int orientation = 1, denom = 1;
    lfr_status s;
    switch (lfr_image_sniff(buf, len)) {
    case LFR_IMAGE_JPEG:
        s = decode_jpeg(buf, len, min_short, out, &orientation, &denom, err);
        break;
    case LFR_IMAGE_PNG: s = decode_png(buf, len, out, err); break;
    default:
        if (is_magic_prefix(buf, len))
            return lfr_err_set(err, LFR_ERR_CORRUPT,
                               "image data ends after %zu bytes", len);
        return lfr_err_set(err, LFR_ERR_UNSUPPORTED,
                           "not a JPEG or PNG file (unknown magic bytes)");
    }
    if (s != LFR_OK) return s;
    if (orientation_out) *orientation_out = orientation;
    if (denom_out) *denom_out = denom;
    if (apply_exif && orientation != 1) {
        lfr_image up;
        s = lfr_image_orient(out, orientation, &up);
        lfr_image_free(out);
        if (s != LFR_OK)
            return lfr_err_set(err, s, "cannot apply EXIF orientation %d: %s",
                               orientation, lfr_status_message(s));
        *out = up;
    }
    return LFR_OK;
}

lfr_status lfr_image_decode_ex(const uint8_t *buf, size_t len, lfr_image *out,
                               int apply_exif, int *orientation_out,
                               lfr_err *err) {
    return decode_any(buf, len, 0, out, apply_exif, orientation_out, NULL, err);
}

lfr_status lfr_image_decode(const uint8_t *buf, size_t len, lfr_image *out,
                            lfr_err *err) {
    return decode_any(buf, len, 0, out, 1, NULL, NULL, err);
}

lfr_status lfr_image_decode_max(const uint8_t *buf, size_t len,
                                int min_short_side, lfr_image *out,
                                int *reduction_out, lfr_err *err) {
    return decode_any(buf, len, min_short_side > 0 ? min_short_side : 0, out,
                      1, NULL, reduction_out, err);
}

lfr_status lfr_image_load(const char *path, lfr_image *out, lfr_err *err) {
    if (!path || !out)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "load: NULL argument");
    memset(out, 0, sizeof *out);
    uint8_t *data;
    size_t len;
    lfr_status s = lfr_read_file_err(path, LFR_MAX_IMAGE_BYTES, &data, &len, err);
    if (s != LFR_OK) return s;
    s = lfr_image_decode(data, len, out, err);
    lfr_free(data);
    return s;
}

/* JPEG encoding ------------------------------------------------------------- */

typedef struct jenc {
    struct jpeg_compress_struct c;
    jerr_ctx e;
    struct jpeg_destination_mgr dm;
    const lfr_image *im;
    int quality;
    int created;
    uint8_t *buf;
    size_t cap, len;
} jenc;

static void jd_init(j_compress_ptr c) {
    jenc *d = c->client_data;
    size_t cap = (size_t)d->im->w * (size_t)d->im->h / 2 + 4096;
    if (cap > (4u << 20)) cap = 4u << 20;
    d->buf = lfr_malloc(cap);
    if (!d->buf) jfail(&d->e, LFR_ERR_NOMEM, "no memory for the JPEG output");
    d->cap = cap;
    d->dm.next_output_byte = d->buf;
    d->dm.free_in_buffer = cap;
}

static boolean jd_empty(j_compress_ptr c) {
    /* Called with the whole buffer full, whatever free_in_buffer says. */
    jenc *d = c->client_data;
    size_t ncap;
    if (lfr_mul_size(d->cap, 2, &ncap))
        jfail(&d->e, LFR_ERR_TOO_LARGE, "JPEG output too large");
    uint8_t *nb = lfr_realloc(d->buf, ncap);
    if (!nb) jfail(&d->e, LFR_ERR_NOMEM, "no memory for the JPEG output");
    d->buf = nb;
    d->dm.next_output_byte = nb + d->cap;
    d->dm.free_in_buffer = ncap - d->cap;
    d->cap = ncap;
    return TRUE;
}

static void jd_term(j_compress_ptr c) {
    jenc *d = c->client_data;
    d->len = d->cap - d->dm.free_in_buffer;
}

static int jenc_run(jenc *d) {
    j_compress_ptr c = &d->c;
    if (setjmp(d->e.jb)) return -1;
    jpeg_create_compress(c);
    d->created = 1;
    c->client_data = d;
    d->dm.init_destination = jd_init;
    d->dm.empty_output_buffer = jd_empty;
    d->dm.term_destination = jd_term;
    c->dest = &d->dm;
    c->image_width = (JDIMENSION)d->im->w;
    c->image_height = (JDIMENSION)d->im->h;
    c->input_components = 3;
    c->in_color_space = JCS_RGB;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, d->quality, TRUE);
    jpeg_start_compress(c, TRUE);
    size_t stride = (size_t)d->im->w * 3;
    while (c->next_scanline < c->image_height) {
        JSAMPROW rows[16];
        JDIMENSION y = c->next_scanline, n = c->image_height - y;
        if (n > 16) n = 16;
        for (JDIMENSION i = 0; i < n; i++)
            rows[i] = d->im->px + (size_t)(y + i) * stride;
        if (jpeg_write_scanlines(c, rows, n) == 0)
            jfail(&d->e, LFR_ERR_INTERNAL, "JPEG encoder stalled");
    }
    jpeg_finish_compress(c);
    return 0;
}

lfr_status lfr_image_encode_jpeg(const lfr_image *im, int quality,
                                 uint8_t **buf, size_t *len) {
    if (!buf || !len) return LFR_ERR_INVALID_ARG;
    *buf = NULL;
    *len = 0;
    if (!image_ok(im)) return LFR_ERR_INVALID_ARG;
    jenc *d = lfr_calloc(1, sizeof *d);
    if (!d) return LFR_ERR_NOMEM;
    jerr_init(&d->e);
    d->c.err = &d->e.pub;
    d->im = im;
    d->quality = quality < 1 ? 1 : quality > 100 ? 100 : quality;
    int rc = jenc_run(d);
    if (d->created) jpeg_destroy_compress(&d->c);
    lfr_status s = LFR_OK;
    if (rc != 0) {
        lfr_free(d->buf);
        s = d->e.fail;
        lfr_log(LFR_LOG_DEBUG, "JPEG encode failed: %s", d->e.msg);
    } else {
        *buf = d->buf;
        *len = d->len;
    }
    lfr_free(d);
    return s;
}

/* PNG encoding -------------------------------------------------------------- */

typedef struct penc {
    const lfr_image *im;
    png_structp png;
    png_infop info;
    int nomem;
    char msg[MSG_MAX];
    uint8_t *buf;
    size_t len, cap;
} penc;

static void pw_write(png_structp png, png_bytep data, size_t n) {
    penc *d = png_get_io_ptr(png);
    if (n > d->cap - d->len) {
        size_t need, ncap = d->cap ? d->cap : 4096;
        if (lfr_add_size(d->len, n, &need)) png_error(png, "PNG output too large");
        while (ncap < need) {
            if (lfr_mul_size(ncap, 2, &ncap)) png_error(png, "PNG output too large");
        }
        uint8_t *nb = lfr_realloc(d->buf, ncap);
        if (!nb) {
            d->nomem = 1;
            png_error(png, "no memory for the PNG output");
        }
        d->buf = nb;
        d->cap = ncap;
    }
    memcpy(d->buf + d->len, data, n);
    d->len += n;
}

static void pw_flush(png_structp png) { (void)png; }

static int penc_run(penc *d) {
    d->png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, d->msg, p_error,
                                       p_warning, &d->nomem, p_malloc, p_free);
    if (!d->png) return -1;
    d->info = png_create_info_struct(d->png);
    if (!d->info) {
        d->nomem = 1;
        return -1;
    }
    if (setjmp(png_jmpbuf(d->png))) return -1;
    png_set_write_fn(d->png, d, pw_write, pw_flush);
    png_set_IHDR(d->png, d->info, (png_uint_32)d->im->w, (png_uint_32)d->im->h, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(d->png, d->info);
    size_t stride = (size_t)d->im->w * 3;
    for (int y = 0; y < d->im->h; y++)
        png_write_row(d->png, d->im->px + (size_t)y * stride);
    png_write_end(d->png, NULL);
    return 0;
}

lfr_status lfr_image_encode_png(const lfr_image *im, uint8_t **buf,
                                size_t *len) {
    if (!buf || !len) return LFR_ERR_INVALID_ARG;
    *buf = NULL;
    *len = 0;
    if (!image_ok(im)) return LFR_ERR_INVALID_ARG;
    penc d;
    memset(&d, 0, sizeof d);
    d.im = im;
    int rc = penc_run(&d);
    if (d.png) png_destroy_write_struct(&d.png, d.info ? &d.info : NULL);
    if (rc != 0) {
        lfr_free(d.buf);
        lfr_log(LFR_LOG_DEBUG, "PNG encode failed: %s", d.msg);
        return d.nomem ? LFR_ERR_NOMEM : LFR_ERR_INTERNAL;
    }
    *buf = d.buf;
    *len = d.len;
    return LFR_OK;
}

/* Atomic file writing ----------------------------------------------------- */

static lfr_status write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return LFR_ERR_IO;
        }
        p += k;
        n -= (size_t)k;
    }
    return LFR_OK;
}

lfr_status lfr_image_write(const lfr_image *im, const char *path, int quality) {
    if (!path || !image_ok(im)) return LFR_ERR_INVALID_ARG;
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    int jpeg;
    if (dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0))
        jpeg = 1;
    else if (dot && strcasecmp(dot, ".png") == 0)
        jpeg = 0;
    else
        return LFR_ERR_UNSUPPORTED;

    uint8_t *data;
    size_t len;
    lfr_status s = jpeg ? lfr_image_encode_jpeg(im, quality <= 0 ? 90 : quality,
                                                &data, &len)
                        : lfr_image_encode_png(im, &data, &len);
    if (s != LFR_OK) return s;

    static const char suffix[] = ".tmp-XXXXXX";
    size_t plen = strlen(path), tlen;
    char *tmp = NULL;
    if (lfr_add_size(plen, sizeof suffix, &tlen) == 0) tmp = lfr_malloc(tlen);
    if (!tmp) {
        lfr_free(data);
        return LFR_ERR_NOMEM;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, suffix, sizeof suffix);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        s = errno == ENOENT ? LFR_ERR_NOT_FOUND : LFR_ERR_IO;
        lfr_free(tmp);
        lfr_free(data);
        return s;
    }
    s = write_all(fd, data, len);
    if (s == LFR_OK && fsync(fd) != 0) s = LFR_ERR_IO;
    if (close(fd) != 0 && s == LFR_OK) s = LFR_ERR_IO;
    if (s == LFR_OK && rename(tmp, path) != 0) s = LFR_ERR_IO;
    if (s != LFR_OK) unlink(tmp);
    lfr_free(tmp);
    lfr_free(data);
    return s;
}
