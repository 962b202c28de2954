/*
 * report_chart.c - the report's bar charts, drawn by PLplot: its svg
 * driver for the HTML page, its extcairo driver into the PDF's cairo
 * context.  The same drawing code serves both, so the page and the PDF
 * show the same chart.
 *
 * PLplot keeps its streams in process-wide state and is not thread-safe:
 * every use goes through chart_lock (the one mutable static of this module,
 * forced by the library).  Its fatal-error path would call exit(); the
 * exit handler below stops that and marks the chart as failed instead.
 */
#define _GNU_SOURCE
#include <math.h>
#include <plplot.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

static pthread_mutex_t chart_lock = PTHREAD_MUTEX_INITIALIZER;
static int chart_failed;   /* under chart_lock */

static int on_plexit(const char *msg) {
    lfr_log(LFR_LOG_ERROR, "report chart: PLplot: %s", msg ? msg : "error");
    chart_failed = 1;
    return 0;   /* do not exit the process */
}

/* A step of 1, 2 or 5 times a power of ten giving about 5 ticks, >= 1
 * (counts are whole). */
static double nice_step(double top) {
    double raw = top / 5, p = pow(10, floor(log10(raw > 1 ? raw : 1)));
    double step = raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
    return step < 1 ? 1 : step;
}

/* The colours, set before plinit (the svg driver paints its background
 * there): white background, dark text and axes, blue bars, a light grid. */
static void palette(void) {
    static const PLINT r[] = {255, 33, 31, 215}, g[] = {255, 37, 95, 219}, b[] = {255, 41, 160, 224};
    plscmap0(r, g, b, 4);
    plscolbg(255, 255, 255);
}

static void draw(const rd_chart *c) {
    pladv(0);
    plschr(0, 1.0);
    plvpor(0.11, 0.97, 0.24, 0.88);
    double ymax = 0;
    for (int i = 0; i < c->n; i++)
        if (c->values[i] > ymax) ymax = c->values[i];
    double step = nice_step(ymax > 0 ? ymax * 1.15 : 1);
    double top = ceil((ymax > 0 ? ymax * 1.15 : 1) / step) * step;
    int n = c->n > 0 ? c->n : 1;
    plwind(0, n, 0, top);
    plcol0(3);
    plbox("", 0, 0, "g", step, 0);
    int every = c->n > 12 ? (c->n + 11) / 12 : 1;
    for (int i = 0; i < c->n; i++) {
        PLFLT x[4] = {i + 0.15, i + 0.15, i + 0.85, i + 0.85}, y[4] = {0, c->values[i], c->values[i], 0};
        if (c->values[i] > 0) {
            plcol0(2);
            plfill(4, x, y);
        }
        plcol0(1);
        if (c->n <= 24) {
            char v[32];
            snprintf(v, sizeof v, "%g", c->values[i]);
            plptex(i + 0.5, c->values[i] + top * 0.045, 1, 0, 0.5, v);
        }
        if (i % every == 0) plmtex("b", 1.4, (i + 0.5) / n, 0.5, c->labels[i] ? c->labels[i] : "");
    }
    plcol0(1);
    plbox("bc", 0, 0, "bcnstv", step, 1);
    if (c->n == 0) plptex(0.5, top / 2, 1, 0, 0.5, "no data");
    plmtex("b", 3.0, 0.5, 0.5, c->xlabel);
    plmtex("l", 3.2, 0.5, 0.5, c->ylabel);
    plschr(0, 1.25);
    plmtex("t", 1.0, 0.5, 0.5, c->title);
}

static void draw_bar(const void *arg) { draw(arg); }

lfr_status rc_chart_svg(const rd_chart *c, char **svg, size_t *len, lfr_err *err) {
    return rc_svg_draw(c->id, draw_bar, c, 720, 300, svg, len, err);
}

lfr_status rc_svg_draw(const char *id, rc_draw_fn fn, const void *arg, int w, int h, char **svg,
                       size_t *len, lfr_err *err) {
    *svg = NULL;
    *len = 0;
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) return lfr_err_set(err, LFR_ERR_NOMEM, "report chart %s: no memory stream", id);
    pthread_mutex_lock(&chart_lock);
    chart_failed = 0;
    PLINT strm = 0, old = 0;
    plgstrm(&old);
    plsexit(on_plexit);
    plmkstrm(&strm);
    plsdev("svg");
    plsfile(f);                  /* the driver writes it and closes it at plend1 */
    plspage(0, 0, w, h, 0, 0);
    palette();
    plinit();
    fn(arg);
    plend1();
    plsstrm(old);
    int failed = chart_failed;
    pthread_mutex_unlock(&chart_lock);
    if (failed || !buf || n == 0) {
        free(buf);
        return lfr_err_set(err, LFR_ERR_INTERNAL, "report chart %s: PLplot could not draw it",
                           id);
    }
    /* into our allocator (the caller lfr_frees) */
    *svg = lfr_malloc(n + 1);
    if (!*svg) {
        free(buf);
        return LFR_ERR_NOMEM;
    }
    memcpy(*svg, buf, n + 1);
    *len = n;
    free(buf);
    return LFR_OK;
}

lfr_status rc_chart_cairo(const rd_chart *c, cairo_t *cr, double w, double h, lfr_err *err) {
    pthread_mutex_lock(&chart_lock);
    chart_failed = 0;
    PLINT strm = 0, old = 0;
    plgstrm(&old);
    plsexit(on_plexit);
    plmkstrm(&strm);
    plsdev("extcairo");
    plspage(0, 0, (PLINT)w, (PLINT)h, 0, 0);
    palette();
    plinit();
    pl_cmd(PLESC_DEVINIT, cr);
    draw(c);
    plend1();
    plsstrm(old);
    int failed = chart_failed;
    pthread_mutex_unlock(&chart_lock);
    return failed ? lfr_err_set(err, LFR_ERR_INTERNAL, "report chart %s: PLplot could not draw it",
                                c->id)
                  : LFR_OK;
}
