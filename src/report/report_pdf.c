/*
 * report_pdf.c - the report as an A4 PDF without a browser: cairo's PDF
 * surface, text laid out by pango (wrapped, fonts embedded), the charts
 * drawn into the same cairo context by PLplot (report_chart.c).  The
 * blocks are the HTML page's (report_doc.c), so both say the same.
 */
#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

#include "report_int.h"

#define PAGE_W 595.28   /* A4, points */
#define PAGE_H 841.89
#define MARGIN 50.0
#define TEXT_W (PAGE_W - 2 * MARGIN)
#define CHART_H 215.0
#define CELL_PAD 3.0

typedef struct pbuf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} pbuf;

static cairo_status_t on_write(void *ctx, const unsigned char *data, unsigned int len) {
    pbuf *b = ctx;
    if (b->n + len > b->cap) {
        size_t nc = b->cap ? b->cap : 65536;
        while (nc < b->n + len) nc *= 2;
        uint8_t *p = lfr_realloc(b->p, nc);
        if (!p) {
            b->oom = 1;
            return CAIRO_STATUS_WRITE_ERROR;
        }
        b->p = p;
        b->cap = nc;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

typedef struct pctx {
    cairo_t *cr;
    PangoLayout *lay;
    PangoFontDescription *body, *bold, *h1, *h2, *small;
    double y;
    int page;
    const char *title;
} pctx;

static void footer(pctx *p) {
    char f[64];
    snprintf(f, sizeof f, "page %d", p->page);
    pango_layout_set_font_description(p->lay, p->small);
    pango_layout_set_width(p->lay, (int)(TEXT_W * PANGO_SCALE));
    pango_layout_set_alignment(p->lay, PANGO_ALIGN_RIGHT);
    pango_layout_set_text(p->lay, f, -1);
    cairo_set_source_rgb(p->cr, 0.42, 0.46, 0.49);
    cairo_move_to(p->cr, MARGIN, PAGE_H - MARGIN + 14);
    pango_cairo_show_layout(p->cr, p->lay);
    pango_layout_set_alignment(p->lay, PANGO_ALIGN_LEFT);
    pango_layout_set_text(p->lay, p->title, -1);
    cairo_move_to(p->cr, MARGIN, PAGE_H - MARGIN + 14);
    pango_cairo_show_layout(p->cr, p->lay);
}

static void new_page(pctx *p) {
    footer(p);
    cairo_show_page(p->cr);
    p->page++;
    p->y = MARGIN;
}

static void ensure(pctx *p, double h) {
    if (p->y + h > PAGE_H - MARGIN && p->y > MARGIN) new_page(p);
}

/* Height of text in a box of width w. */
static double measure(pctx *p, const char *text, PangoFontDescription *font, double w) {
    pango_layout_set_font_description(p->lay, font);
    pango_layout_set_width(p->lay, (int)(w * PANGO_SCALE));
    pango_layout_set_wrap(p->lay, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_text(p->lay, text, -1);
    int pw = 0, ph = 0;
    pango_layout_get_pixel_size(p->lay, &pw, &ph);
    return ph;
}

static void draw_text(pctx *p, const char *text, PangoFontDescription *font, double x, double y,
                      double w, double r, double g, double b) {
    measure(p, text, font, w);
    cairo_set_source_rgb(p->cr, r, g, b);
    cairo_move_to(p->cr, x, y);
    pango_cairo_show_layout(p->cr, p->lay);
}

static void paragraph(pctx *p, const char *text, PangoFontDescription *font, double before,
                      double after, double r, double g, double b) {
    p->y += before;
    double h = measure(p, text, font, TEXT_W);
    ensure(p, h);
    draw_text(p, text, font, MARGIN, p->y, TEXT_W, r, g, b);
    p->y += h + after;
}

/* Two columns: 42 / 58 %.  More: in proportion to each column's longest
 * cell (between 12 and 60 characters), so a long verdict gets room. */
static void col_widths(const rd_block *t, double *w) {
    if (t->cols == 2) {
        w[0] = TEXT_W * 0.42;
        w[1] = TEXT_W * 0.58;
        return;
    }
    double sum = 0;
    for (int c = 0; c < t->cols; c++) {
        size_t m = 12;
        for (size_t r = 0; r < t->rows; r++) {
            size_t n = strlen(t->cells[r * (size_t)t->cols + (size_t)c]);
            if (n > m) m = n;
        }
        w[c] = (double)(m > 60 ? 60 : m);
        sum += w[c];
    }
    for (int c = 0; c < t->cols; c++) w[c] = TEXT_W * w[c] / sum;
}

static double row_height(pctx *p, const rd_block *t, size_t r, const double *w) {
    double h = 0;
    for (int c = 0; c < t->cols; c++) {
        double ch = measure(p, t->cells[r * (size_t)t->cols + (size_t)c], r ? p->body : p->bold,
                            w[c] - 2 * CELL_PAD);
        if (ch > h) h = ch;
    }
    return h + 2 * CELL_PAD;
}

static void draw_row(pctx *p, const rd_block *t, size_t r, const double *w, double h) {
    double x = MARGIN;
    for (int c = 0; c < t->cols; c++) {
        if (r == 0 || (t->cols == 2 && c == 0)) {
            cairo_set_source_rgb(p->cr, r == 0 ? 0.933 : 0.973, r == 0 ? 0.949 : 0.976,
                                 r == 0 ? 0.965 : 0.98);
            cairo_rectangle(p->cr, x, p->y, w[c], h);
            cairo_fill(p->cr);
        }
        cairo_set_source_rgb(p->cr, 0.84, 0.86, 0.88);
        cairo_set_line_width(p->cr, 0.6);
        cairo_rectangle(p->cr, x, p->y, w[c], h);
        cairo_stroke(p->cr);
        draw_text(p, t->cells[r * (size_t)t->cols + (size_t)c], r ? p->body : p->bold,
                  x + CELL_PAD, p->y + CELL_PAD, w[c] - 2 * CELL_PAD, 0.13, 0.15, 0.16);
        x += w[c];
    }
    p->y += h;
}

static void table_pdf(pctx *p, const rd_block *t) {
    double w[16];
    if (t->cols > 16 || t->rows == 0) return;
    col_widths(t, w);
    double ch = measure(p, t->text, p->bold, TEXT_W);
    double h0 = row_height(p, t, 0, w);
    p->y += 6;
    ensure(p, ch + 4 + h0 + (t->rows > 1 ? row_height(p, t, 1, w) : 0));
    draw_text(p, t->text, p->bold, MARGIN, p->y, TEXT_W, 0.29, 0.31, 0.34);
    p->y += ch + 4;
    draw_row(p, t, 0, w, h0);
    for (size_t r = 1; r < t->rows; r++) {
        double h = row_height(p, t, r, w);
        if (p->y + h > PAGE_H - MARGIN) {   /* the header again on the next page */
            new_page(p);
            draw_row(p, t, 0, w, h0);
        }
        draw_row(p, t, r, w, h);
    }
    p->y += 6;
}

static lfr_status chart_pdf(pctx *p, const rd_chart *c, lfr_err *err) {
    p->y += 6;
    ensure(p, CHART_H);
    cairo_save(p->cr);
    cairo_translate(p->cr, MARGIN, p->y);
    lfr_status st = rc_chart_cairo(c, p->cr, TEXT_W, CHART_H, err);
    cairo_restore(p->cr);
    p->y += CHART_H + 6;
    return st;
}

lfr_status rp_render_pdf(const rd_doc *d, uint8_t **out, size_t *len, lfr_err *err) {
    *out = NULL;
    *len = 0;
    pbuf b = {0};
    cairo_surface_t *sf = cairo_pdf_surface_create_for_stream(on_write, &b, PAGE_W, PAGE_H);
    cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_TITLE, d->title ? d->title : "");
    cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_CREATOR, "openlfr report");
    pctx p = {.cr = cairo_create(sf), .y = MARGIN, .page = 1, .title = d->title ? d->title : ""};
    p.lay = pango_cairo_create_layout(p.cr);
    p.body = pango_font_description_from_string("DejaVu Sans 8.5");
    p.bold = pango_font_description_from_string("DejaVu Sans Bold 8.5");
    p.h1 = pango_font_description_from_string("DejaVu Sans Bold 17");
    p.h2 = pango_font_description_from_string("DejaVu Sans Bold 12.5");
    p.small = pango_font_description_from_string("DejaVu Sans 7.5");
    lfr_status st = LFR_OK;
    for (size_t i = 0; st == LFR_OK && i < d->n; i++) {
        const rd_block *k = &d->b[i];
        switch (k->kind) {
        case RD_TITLE: paragraph(&p, k->text, p.h1, 0, 8, 0.12, 0.37, 0.63); break;
        case RD_HEADING:
            p.y += 12;
            ensure(&p, 90);     /* no heading alone at the foot of a page */
            paragraph(&p, k->text, p.h2, 0, 4, 0.12, 0.37, 0.63);
            break;
        case RD_PARA: paragraph(&p, k->text, p.body, 2, 4, 0.13, 0.15, 0.16); break;
        case RD_NOTE: paragraph(&p, k->text, p.small, 2, 4, 0.29, 0.31, 0.34); break;
        case RD_TABLE: table_pdf(&p, k); break;
        case RD_CHART: st = chart_pdf(&p, &k->chart, err); break;
        }
    }
    footer(&p);
    cairo_show_page(p.cr);
    pango_font_description_free(p.body);
    pango_font_description_free(p.bold);
    pango_font_description_free(p.h1);
    pango_font_description_free(p.h2);
    pango_font_description_free(p.small);
    g_object_unref(p.lay);
    cairo_destroy(p.cr);
    cairo_surface_finish(sf);
    cairo_status_t cs = cairo_surface_status(sf);
    cairo_surface_destroy(sf);
    if (st == LFR_OK && (b.oom || cs != CAIRO_STATUS_SUCCESS))
        st = lfr_err_set(err, b.oom ? LFR_ERR_NOMEM : LFR_ERR_INTERNAL, "report PDF: cairo: %s",
                         cairo_status_to_string(cs));
    if (st != LFR_OK) {
        lfr_free(b.p);
        return st;
    }
    *out = b.p;
    *len = b.n;
    return LFR_OK;
}
