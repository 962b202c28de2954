/*
 * eval_html.c - the accuracy and fairness evaluation report (`openlfr eval
 * report`) as one HTML page, rendered from its JSON alone (schema
 * "openlfr-eval-report-v1", written by src/cli/cmd_eval_report.c): every
 * figure and table is read from the JSON, so `eval report --from-json`
 * redraws the same page.  The charts are PLplot SVG (report_chart.c's
 * rc_svg_draw): line charts on log axes (DET curves) and dot charts with
 * 95 % confidence intervals (rates by group).  No images of faces.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_int.h"

/* Page buffer ------------------------------------------------------------ */


/* JSON accessors: absent values read as NAN / "" */
static double num(const json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}
static const char *str(const json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}
/* A rate or count as a cell: "n/a" for a missing value. */
static void cell_g(rp_buf *b, double v, const char *fmt) {
    if (isfinite(v)) {
        rp_puts(b, "<td class=num>");
        rp_putf(b, fmt, v);
        rp_puts(b, "</td>");
    } else rp_puts(b, "<td class=num>n/a</td>");
}

/* Charts ----------------------------------------------------------------- */

#define EC_MAX_SERIES 8

typedef struct {
    const char *label;
    int n;
    double *x, *y;
} ec_series;

typedef struct {
    const char *title, *xlabel, *ylabel;
    int logx, logy;
    int ns;
    ec_series s[EC_MAX_SERIES];
} ec_line;

typedef struct {
    const char *title, *ylabel;
    int n;
    const char **labels;
    double *v, *lo, *hi;
    int *judged;
} ec_dots;

/* The report's four colours (report_chart.c's palette: white, dark text,
 * blue, light grid) and five for more lines: red, green, orange, purple,
 * brown. */
static void more_colours(void) {
    static const PLINT r[] = {255, 33, 31, 215, 200, 40, 230, 120, 140};
    static const PLINT g[] = {255, 37, 95, 219, 40, 140, 130, 60, 90};
    static const PLINT b[] = {255, 41, 160, 224, 40, 60, 0, 170, 40};
    plscmap0(r, g, b, 9);
}

/* Log axes: zero rates cannot be drawn and are left out. */
static int keep(const ec_line *c, const ec_series *s, int i) {
    return isfinite(s->x[i]) && isfinite(s->y[i]) && (!c->logx || s->x[i] > 0) &&
           (!c->logy || s->y[i] > 0);
}
static double tr(double v, int lg) { return lg ? log10(v) : v; }

static void draw_line(const void *arg) {
    const ec_line *c = arg;
    more_colours();
    pladv(0);
    plschr(0, 1.0);
    plvpor(0.11, 0.80, 0.15, 0.88);
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int s = 0; s < c->ns; s++)
        for (int i = 0; i < c->s[s].n; i++) {
            if (!keep(c, &c->s[s], i)) continue;
            double x = tr(c->s[s].x[i], c->logx), y = tr(c->s[s].y[i], c->logy);
            x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
        }
    if (!isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    if (c->logx) x0 = floor(x0), x1 = ceil(x1);
    if (c->logy) y0 = floor(y0), y1 = ceil(y1);
    if (x1 <= x0) x1 = x0 + 1;
    if (y1 <= y0) y1 = y0 + 1;
    if (!c->logy) y0 = 0, y1 *= 1.05;
    plwind(x0, x1, y0, y1);
    plcol0(3);
    plbox(c->logx ? "gl" : "g", 0, 0, c->logy ? "gl" : "g", 0, 0);
    plcol0(1);
    plbox(c->logx ? "bcnstl" : "bcnst", 0, 0, c->logy ? "bcnstlv" : "bcnstv", 0, 0);
    for (int s = 0; s < c->ns; s++) {
        int n = c->s[s].n;
        if (n <= 0) continue;
        PLFLT *x = malloc(sizeof(PLFLT) * (size_t)n), *y = malloc(sizeof(PLFLT) * (size_t)n);
        if (!x || !y) {
            free(x);
            free(y);
            continue;
        }
        int m = 0;
        for (int i = 0; i < n; i++)
            if (keep(c, &c->s[s], i)) {
                x[m] = tr(c->s[s].x[i], c->logx);
                y[m++] = tr(c->s[s].y[i], c->logy);
            }
        n = m;
        plcol0(s == 0 ? 2 : 3 + s);
        plwidth(2);
        if (n > 1) plline(n, x, y);
        if (n <= 30) plstring(n, x, y, "#(210)");
        plwidth(1);
        plschr(0, 0.85);
        plmtex("rv", 1.0, 0.95 - 0.08 * s, 0, c->s[s].label);
        plschr(0, 1.0);
        free(x);
        free(y);
    }
    plcol0(1);
    plmtex("b", 3.0, 0.5, 0.5, c->xlabel);
    plmtex("l", 4.0, 0.5, 0.5, c->ylabel);
    plschr(0, 1.2);
    plmtex("t", 1.0, 0.5, 0.5, c->title);
}

static void draw_dots(const void *arg) {
    const ec_dots *c = arg;
    more_colours();
    pladv(0);
    plschr(0, 0.9);
    plvpor(0.11, 0.97, 0.26, 0.88);
    double top = 0;
    for (int i = 0; i < c->n; i++) {
        if (isfinite(c->hi[i]) && c->hi[i] > top) top = c->hi[i];
        if (isfinite(c->v[i]) && c->v[i] > top) top = c->v[i];
    }
    top = top > 0 ? top * 1.1 : 1;
    int n = c->n > 0 ? c->n : 1;
    plwind(0, n, 0, top);
    plcol0(3);
    plbox("", 0, 0, "g", 0, 0);
    for (int i = 0; i < c->n; i++) {
        PLFLT x = i + 0.5, y = c->v[i], lo = c->lo[i], hi = c->hi[i];
        if (isfinite(lo) && isfinite(hi)) {
            plcol0(c->judged[i] ? 2 : 3);
            plwidth(2);
            plerry(1, &x, &lo, &hi);
            plwidth(1);
        }
        if (isfinite(y)) {
            plcol0(c->judged[i] ? 4 : 3);
            plstring(1, &x, &y, "#(840)");
        }
        plcol0(1);
        plmtex("b", 1.4, (i + 0.5) / n, 0.5, c->labels[i]);
        if (!c->judged[i]) plmtex("b", 2.5, (i + 0.5) / n, 0.5, "(too few)");
    }
    plcol0(1);
    plbox("bc", 0, 0, "bcnstv", 0, 0);
    if (c->n == 0) plptex(n / 2.0, top / 2, 1, 0, 0.5, "no data");
    plmtex("l", 4.0, 0.5, 0.5, c->ylabel);
    plschr(0, 1.2);
    plmtex("t", 1.0, 0.5, 0.5, c->title);
}

static void svg_out(rp_buf *b, const char *alt, rc_draw_fn fn, const void *arg, int h) {
    char *svg = NULL;
    size_t len = 0;
    lfr_err err = {{0}};
    if (rc_svg_draw("eval-chart", fn, arg, 760, h, &svg, &len, &err) != LFR_OK) {
        rp_puts(b, "<p class=note>(chart could not be drawn)</p>");
        return;
    }
    rp_puts(b, "<figure role=img aria-label=\"");
    rp_esc(b, alt);
    rp_puts(b, "\">");
    /* skip the XML declaration: the SVG is inline */
    const char *s = strstr(svg, "<svg");
    rp_puts(b, s ? s : svg);
    rp_puts(b, "<figcaption>");
    rp_esc(b, alt);
    rp_puts(b, "</figcaption></figure>\n");
    lfr_free(svg);
}

/* A JSON array of numbers into a new array of doubles (n values). */
static double *arr_of(const json_t *a, const char *key, int *n) {
    size_t m = json_array_size(a);
    double *v = malloc(sizeof(double) * (m ? m : 1));
    if (!v) {
        *n = 0;
        return NULL;
    }
    for (size_t i = 0; i < m; i++) v[i] = num(json_array_get(a, i), key);
    *n = (int)m;
    return v;
}

/* Sections --------------------------------------------------------------- */

static void sec_data(rp_buf *b, const json_t *r) {
    rp_puts(b, "<h2 id=data>Data, models and thresholds</h2>\n<table><caption>Data used</caption>"
             "<thead><tr><th>set</th><th>what was used</th></tr></thead><tbody>");
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(r, "data"), k, v) {
        rp_puts(b, "<tr><th>");
        rp_esc(b, k);
        rp_puts(b, "</th><td>");
        const char *k2;
        json_t *v2;
        int first = 1;
        json_object_foreach(v, k2, v2) {
            if (!first) rp_puts(b, "; ");
            first = 0;
            rp_esc(b, k2);
            rp_puts(b, " ");
            if (json_is_integer(v2)) rp_putf(b, "%lld", (long long)json_integer_value(v2));
            else if (json_is_number(v2)) rp_putf(b, "%g", json_number_value(v2));
            else if (json_is_string(v2)) rp_esc(b, json_string_value(v2));
        }
        rp_puts(b, "</td></tr>");
    }
    rp_puts(b, "</tbody></table>\n<table><caption>Model files (models/MANIFEST.tsv)</caption><thead>"
             "<tr><th>network</th><th>file</th><th>source</th><th>sha256 of the file</th></tr>"
             "</thead><tbody>");
    size_t i;
    json_array_foreach(json_object_get(r, "models"), i, v) {
        rp_puts(b, "<tr><td>");
        rp_esc(b, str(v, "arch"));
        rp_puts(b, "</td><td>");
        rp_esc(b, str(v, "file"));
        rp_puts(b, "</td><td>");
        rp_esc(b, str(v, "package"));
        rp_puts(b, "@");
        rp_esc(b, str(v, "version"));
        rp_puts(b, "</td><td><code>");
        rp_esc(b, str(v, "sha256"));
        rp_puts(b, "</code></td></tr>");
    }
    rp_puts(b, "</tbody></table>\n<table><caption>Thresholds (cosine)</caption><tbody>");
    json_object_foreach(json_object_get(r, "thresholds"), k, v) {
        rp_puts(b, "<tr><th>");
        rp_esc(b, k);
        rp_puts(b, "</th>");
        cell_g(b, json_number_value(v), "%.4f");
        rp_puts(b, "</tr>");
    }
    rp_puts(b, "</tbody></table>\n");
}

static void sec_verify(rp_buf *b, const json_t *r) {
    const json_t *v = json_object_get(r, "verification");
    rp_puts(b, "<h2 id=verification>Verification (LFW)</h2>\n<p>");
    rp_esc(b, str(v, "protocol"));
    rp_puts(b, "</p>\n<table><tbody><tr><th>accuracy on the pairs file (best single threshold)</th>");
    cell_g(b, num(v, "accuracy") * 100, "%.2f %%");
    rp_putf(b, "</tr><tr><th>pairs behind it</th><td class=num>%.0f</td></tr>", num(v, "pairs"));
    rp_puts(b, "<tr><th>its threshold</th>");
    cell_g(b, num(v, "accuracy_threshold"), "%.4f");
    rp_putf(b, "</tr><tr><th>genuine / impostor pairs (all photos)</th><td class=num>%.0f / %.0f</td>"
            "</tr></tbody></table>\n",
         num(v, "genuine_pairs"), num(v, "impostor_pairs"));
    rp_puts(b, "<table><caption>TAR at fixed FAR, all pairs</caption><thead><tr><th>FAR</th>"
             "<th>TAR</th><th>threshold</th><th>impostor pairs</th><th>false accepts at it</th>"
             "<th>genuine pairs</th><th>measurable</th></tr></thead><tbody>");
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(v, "tar_at_far"), i, t) {
        rp_putf(b, "<tr><td>%.0e</td>", num(t, "far"));
        cell_g(b, num(t, "tar") * 100, "%.2f %%");
        cell_g(b, num(t, "threshold"), "%.4f");
        cell_g(b, num(t, "impostor_pairs"), "%.0f");
        cell_g(b, num(t, "false_accepts"), "%.0f");
        cell_g(b, num(t, "genuine_pairs"), "%.0f");
        rp_puts(b, "<td>");
        rp_esc(b, str(t, "measurable"));
        rp_puts(b, "</td></tr>");
    }
    rp_puts(b, "</tbody></table>\n");
    ec_line c = {"DET curve, LFW verification", "FMR (false match rate)",
                 "FNMR (false non-match rate)", 1, 1, 1, {{0}}};
    const json_t *det = json_object_get(v, "det");
    int n1, n2;
    c.s[0].label = "all pairs";
    c.s[0].x = arr_of(det, "fmr", &n1);
    c.s[0].y = arr_of(det, "fnmr", &n2);
    c.s[0].n = n1 < n2 ? n1 : n2;
    char alt[256];
    snprintf(alt, sizeof alt, "DET curve: FNMR against FMR on log axes, %.0f genuine and %.0f "
             "impostor pairs (points: report.json verification.det)",
             num(v, "genuine_pairs"), num(v, "impostor_pairs"));
    svg_out(b, alt, draw_line, &c, 380);
    free(c.s[0].x);
    free(c.s[0].y);
}

static void sec_openset(rp_buf *b, const json_t *r) {
    const json_t *o = json_object_get(r, "openset");
    rp_puts(b, "<h2 id=openset>Open-set identification, NIST style</h2>\n<p>");
    rp_esc(b, str(r, "openset_protocol"));
    rp_puts(b, "</p>\n");
    if (!json_is_object(o)) {
        rp_puts(b, "<p class=note>Not run.</p>");
        return;
    }
    double thr = num(o, "threshold");
    rp_putf(b, "<table><caption>FNIR at fixed FPIR by watchlist size; FNIR and FPIR at the default "
            "threshold %.4f</caption><thead><tr><th>size</th><th>galleries</th><th>mated</th>"
            "<th>non-mated</th><th>FNIR at FPIR 1e-2 (T)</th><th>FNIR at FPIR 1e-3 (T)</th>"
            "<th>FNIR at FPIR 1e-4 (T)</th><th>FNIR at default</th><th>FPIR at default</th>"
            "<th>T for FPIR 1e-3</th></tr></thead><tbody>", thr);
    ec_line c = {"Open-set identification: FNIR against FPIR (threshold sweep)",
                 "FPIR (non-mated searches alerting)", "FNIR (mated searches missed)", 1, 1, 0,
                 {{0}}};
    char labels[EC_MAX_SERIES][32];
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(o, "results"), i, row) {
        rp_putf(b, "<tr><td class=num>%.0f</td>", num(row, "size"));
        if (!num(row, "galleries")) {
            rp_puts(b, "<td colspan=9>");
            rp_esc(b, str(row, "note"));
            rp_puts(b, "</td></tr>");
            continue;
        }
        cell_g(b, num(row, "galleries"), "%.0f");
        cell_g(b, num(row, "mated_searches"), "%.0f");
        cell_g(b, num(row, "non_mated_searches"), "%.0f");
        size_t j;
        json_t *p;
        const char *t3 = "not measurable";
        double t3v = NAN;
        json_array_foreach(json_object_get(row, "at_fpir"), j, p) {
            const char *m = str(p, "measurable");
            const json_t *iv = json_object_get(p, "fnir_interval90");
            if (!strcmp(m, "no")) rp_puts(b, "<td class=nm>not measurable</td>");
            else
                rp_putf(b, "<td class=num>%.4f (%.3f)%s", num(p, "fnir"), num(p, "threshold"),
                        strcmp(m, "rough") ? "" : " rough");
            if (strcmp(m, "no") && json_array_size(iv) == 2)
                rp_putf(b, "<br><span class=ci>%.4f to %.4f</span>",
                        json_number_value(json_array_get(iv, 0)),
                        json_number_value(json_array_get(iv, 1)));
            if (strcmp(m, "no")) rp_puts(b, "</td>");
            if (fabs(num(p, "fpir_target") - 1e-3) < 1e-9) t3 = m, t3v = num(p, "threshold");
        }
        const json_t *d = json_object_get(row, "at_threshold");
        cell_g(b, num(d, "fnir"), "%.4f");
        cell_g(b, num(d, "fpir"), "%.6f");
        if (!strcmp(t3, "no") || !isfinite(t3v)) rp_puts(b, "<td class=nm>not measurable</td>");
        else rp_putf(b, "<td class=num>%.4f%s</td>", t3v, strcmp(t3, "rough") ? "" : " rough");
        rp_puts(b, "</tr>");
        if (c.ns < EC_MAX_SERIES) {
            ec_series *s = &c.s[c.ns];
            snprintf(labels[c.ns], sizeof labels[c.ns], "size %.0f", num(row, "size"));
            s->label = labels[c.ns];
            int n1, n2;
            s->x = arr_of(json_object_get(row, "sweep"), "fpir", &n1);
            s->y = arr_of(json_object_get(row, "sweep"), "fnir", &n2);
            s->n = n1 < n2 ? n1 : n2;
            c.ns++;
        }
    }
    rp_puts(b, "</tbody></table>\n<p class=note>Under each FNIR: its 90 % interval, from "
             "resampling the people and photos (eval openset --bootstrap; report.json "
             "openset.results[].at_fpir[].fnir_interval90).  rough: fewer than 10 non-mated "
             "searches, or 10 distinct photos, above T; not measurable: fewer than 1 / FPIR "
             "non-mated searches.  On the log axes a zero rate cannot be drawn: such points "
             "are left out of the chart.</p>\n");
    svg_out(b, "FNIR against FPIR for each watchlist size, over the fixed threshold sweep "
               "(report.json openset.results[].sweep)", draw_line, &c, 380);
    for (int s = 0; s < c.ns; s++) {
        free(c.s[s].x);
        free(c.s[s].y);
    }
}

/* One table of rates by group, with its dot chart. */
static void group_table(rp_buf *b, const char *caption, const char *measure, const json_t *at) {
    rp_puts(b, "<table><caption>");
    rp_esc(b, caption);
    rp_puts(b, "</caption><thead><tr><th>group</th><th>n</th><th>count</th><th>");
    rp_esc(b, measure);
    rp_puts(b, "</th><th>95 % CI</th><th>judged</th></tr></thead><tbody>");
    const json_t *groups = json_object_get(at, "groups");
    size_t n = json_array_size(groups), i;
    ec_dots d = {caption, measure, (int)n, calloc(n ? n : 1, sizeof(char *)),
                 calloc(n ? n : 1, sizeof(double)), calloc(n ? n : 1, sizeof(double)),
                 calloc(n ? n : 1, sizeof(double)), calloc(n ? n : 1, sizeof(int))};
    json_t *g;
    json_array_foreach(groups, i, g) {
        rp_puts(b, "<tr><td>");
        rp_esc(b, str(g, "group"));
        rp_puts(b, "</td>");
        cell_g(b, num(g, "n"), "%.0f");
        cell_g(b, num(g, "count"), "%.0f");
        cell_g(b, num(g, "rate"), "%.3g");
        rp_putf(b, "<td class=num>%.3g - %.3g</td><td>%s</td></tr>", num(g, "ci_lo"), num(g, "ci_hi"),
             json_is_true(json_object_get(g, "judged")) ? "yes" : "too few to judge");
        if (d.labels) {
            d.labels[i] = str(g, "group");
            d.v[i] = num(g, "rate"), d.lo[i] = num(g, "ci_lo"), d.hi[i] = num(g, "ci_hi");
            d.judged[i] = json_is_true(json_object_get(g, "judged"));
        }
    }
    rp_puts(b, "</tbody></table>\n<p class=note>worst / best: ");
    double ratio = num(at, "ratio_worst_best");
    if (isfinite(ratio)) rp_putf(b, "%.2f; ", ratio);
    rp_esc(b, str(at, "ratio_note"));
    rp_puts(b, "</p>\n");
    if (d.labels && d.v && d.lo && d.hi && d.judged) {
        char alt[512];
        snprintf(alt, sizeof alt, "%s: %s by group, dots with 95 %% confidence intervals (grey: "
                 "too few to judge)", caption, measure);
        svg_out(b, alt, draw_dots, &d, 300);
    }
    free(d.labels);
    free(d.v);
    free(d.lo);
    free(d.hi);
    free(d.judged);
}

static void sec_demo(rp_buf *b, const json_t *r) {
    const json_t *dm = json_object_get(r, "demographics");
    rp_puts(b, "<h2 id=demographics>Demographic differentials</h2>\n<p>");
    rp_esc(b, str(dm, "method"));
    rp_puts(b, "</p>\n<ul>");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(dm, "not_measured"), i, v) {
        rp_puts(b, "<li>");
        rp_esc(b, json_string_value(v));
        rp_puts(b, "</li>");
    }
    rp_puts(b, "</ul>\n");
    json_array_foreach(json_object_get(dm, "tables"), i, v) {
        size_t j;
        json_t *at;
        json_array_foreach(json_object_get(v, "at"), j, at) {
            char cap[256];
            snprintf(cap, sizeof cap, "%s %s by %s at %s threshold %.4f", str(v, "data"),
                     str(v, "measure"), str(v, "attribute"), str(at, "threshold_name"),
                     num(at, "threshold"));
            rp_puts(b, "<h3>");
            rp_esc(b, cap);
            rp_puts(b, "</h3><p class=note>");
            rp_esc(b, str(v, "pairs"));
            rp_puts(b, "</p>");
            group_table(b, cap, str(v, "measure"), at);
        }
    }
}

static void sec_detect(rp_buf *b, const json_t *r) {
    const json_t *d = json_object_get(r, "detection");
    rp_puts(b, "<h2 id=detection>Detection (WIDER FACE)</h2>\n<p>");
    rp_esc(b, str(d, "protocol"));
    rp_puts(b, "</p>\n");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(d, "tables"), i, v) {
        char cap[256];
        snprintf(cap, sizeof cap, "WIDER FACE recall by %s", str(v, "attribute"));
        group_table(b, cap, "recall", v);
    }
}

static const char CSS[] =
    "body{font-family:'DejaVu Sans','Liberation Sans',Arial,sans-serif;color:#212529;"
    "max-width:62rem;margin:2rem auto;padding:0 1rem;line-height:1.45;font-size:15px}"
    "h1{font-size:1.6rem;border-bottom:3px solid #1f5fa0;padding-bottom:.3rem}"
    "h2{font-size:1.25rem;margin-top:2rem;color:#1f5fa0;border-bottom:1px solid #d7dbe0}"
    "h3{font-size:1rem;margin-top:1.4rem}"
    "table{border-collapse:collapse;width:100%;margin:.8rem 0}"
    "caption{text-align:left;font-weight:bold;padding:.3rem 0;color:#495057}"
    "th,td{border:1px solid #d7dbe0;padding:.3rem .5rem;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}thead th{background:#eef2f6}"
    "tbody th{font-weight:normal;width:40%;background:#f8f9fa}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".ci{color:#495057;font-size:.85em;white-space:nowrap}"
    "thead th,td.num,td.nm{overflow-wrap:normal}"
    ".note{color:#495057;font-size:.9em}figure{margin:1rem 0}figure svg{max-width:100%;"
    "height:auto}figcaption{font-size:.85em;color:#495057}"
    "@media print{body{margin:0;max-width:none}figure,table{break-inside:avoid}}";

lfr_status lfr_eval_report_html(const json_t *report, uint8_t **out, size_t *len, lfr_err *err) {
    *out = NULL;
    *len = 0;
    if (!json_is_object(report) || strcmp(str(report, "schema"), LFR_EVAL_REPORT_SCHEMA))
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "eval report: field 'schema' is '%s', not " LFR_EVAL_REPORT_SCHEMA,
                           json_is_object(report) ? str(report, "schema") : "(not an object)");
    rp_buf b = {0};
    rp_puts(&b, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>openlfr accuracy "
              "and fairness evaluation</title><style>");
    rp_puts(&b, CSS);
    rp_puts(&b, "</style></head><body>\n<h1>openlfr: accuracy and fairness evaluation</h1>\n<p>");
    rp_putf(&b, "Model set <b>%s</b>", str(report, "model_set"));
    rp_puts(&b, "; generated ");
    rp_esc(&b, str(report, "generated_at"));
    rp_puts(&b, " by <code>");
    rp_esc(&b, str(report, "command"));
    rp_puts(&b, "</code>");
    double sample = num(report, "sample");
    if (sample > 1)
        rp_putf(&b, "; <b>sampled</b>: every %.0fth person / image, so the figures are rough", sample);
    rp_puts(&b, ".  Every number and chart here is read from <code>report.json</code> beside this "
              "page (<code>openlfr eval report --from-json report.json</code> redraws it).  The "
              "page holds no face images.</p>\n<p>Sections: <a href=#verification>verification</a>"
              ", <a href=#openset>open-set identification</a>, <a href=#demographics>demographic "
              "differentials</a>, <a href=#detection>detection</a>, <a href=#data>data, models "
              "and thresholds</a>.</p>\n");
    sec_verify(&b, report);
    sec_openset(&b, report);
    sec_demo(&b, report);
    sec_detect(&b, report);
    sec_data(&b, report);
    rp_puts(&b, "</body></html>\n");
    if (b.oom) {
        lfr_free(b.p);
        return lfr_err_set(err, LFR_ERR_NOMEM, "eval report: out of memory rendering the page");
    }
    *out = (uint8_t *)b.p;
    *len = b.n;
    return LFR_OK;
}
