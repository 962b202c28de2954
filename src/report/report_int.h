/*
 * report_int.h - inside the report module: the blocks both renderers draw
 * (report_doc.c turns the report JSON into them) and the charts (PLplot,
 * report_chart.c).
 */
#ifndef LFR_REPORT_INT_H
#define LFR_REPORT_INT_H

#include <cairo.h>
#include <jansson.h>
#include <stddef.h>

#include "core/core.h"

typedef enum rd_kind { RD_TITLE, RD_HEADING, RD_PARA, RD_NOTE, RD_TABLE, RD_CHART } rd_kind;

/* A bar chart: n bars, each with its label and value. */
typedef struct rd_chart {
    char *id;          /* "alerts-over-time": HTML ids, file names */
    char *title;
    char *alt;         /* the chart in words (HTML alt text, PDF too) */
    char *xlabel, *ylabel;
    int n;
    char **labels;
    double *values;
} rd_chart;

typedef struct rd_block {
    rd_kind kind;
    char *text;        /* heading / paragraph / table caption */
    /* tables: rows x cols cells, row 0 the header */
    int cols;
    size_t rows, cap_rows;
    char **cells;
    rd_chart chart;
} rd_block;

typedef struct rd_doc {
    rd_block *b;
    size_t n, cap;
    char *title;       /* the page's title */
    lfr_status st;     /* LFR_ERR_NOMEM once anything failed */
} rd_doc;

/* The report as blocks.  LFR_ERR_INVALID_ARG naming the missing field
 * when `report` is not a report of this schema. */
lfr_status rd_build(const json_t *report, rd_doc *doc, lfr_err *err);
void rd_free(rd_doc *doc);

/* "2025-06-15 14:26 UTC" */
void rd_time(int64_t t, char *out, size_t cap);

/* Charts (PLplot; one lock held while drawing).  SVG: a standalone
 * document in *svg (lfr_free).  Cairo: drawn into cr in a w x h box at
 * the current origin (points). */
lfr_status rc_chart_svg(const rd_chart *c, char **svg, size_t *len, lfr_err *err);
/* Any PLplot drawing as SVG: fn(arg) draws into the stream rc_svg_draw
 * opened (w x h points, the report's palette: colour 0 white, 1 dark text,
 * 2 blue, 3 light grid), under the lock (eval_chart.c's line and dot
 * charts). */
typedef void (*rc_draw_fn)(const void *arg);
lfr_status rc_svg_draw(const char *id, rc_draw_fn fn, const void *arg, int w, int h, char **svg,
                       size_t *len, lfr_err *err);
lfr_status rc_chart_cairo(const rd_chart *c, cairo_t *cr, double w, double h, lfr_err *err);

lfr_status rp_render_html(const rd_doc *d, uint8_t **out, size_t *len, lfr_err *err);
lfr_status rp_render_pdf(const rd_doc *d, uint8_t **out, size_t *len, lfr_err *err);

/* A growing text buffer for the HTML pages (report_render.c).  On an
 * allocation failure oom is set and later writes do nothing; p is always
 * NUL-terminated once anything was written.  The caller lfr_frees p. */
typedef struct rp_buf {
    char *p;
    size_t n, cap;
    int oom;
} rp_buf;

void rp_put(rp_buf *b, const char *s, size_t n);
void rp_puts(rp_buf *b, const char *s);
void rp_putf(rp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s HTML-escaped (& < > " ' ). */
void rp_esc(rp_buf *b, const char *s);

#endif
