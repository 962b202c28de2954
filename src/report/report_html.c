/*
 * report_html.c - the report as one self-contained HTML page: no script,
 * no external file, the charts inline as SVG (PLplot) with a title for
 * screen readers, tables with captions and header cells, and print CSS
 * (A4, nothing split across pages that need not be).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report_int.h"


static const char CSS[] =
    "body{font-family:'DejaVu Sans','Liberation Sans',Arial,sans-serif;color:#212529;"
    "max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;font-size:15px}"
    "h1{font-size:1.6rem;border-bottom:3px solid #1f5fa0;padding-bottom:.3rem}"
    "h2{font-size:1.25rem;margin-top:2rem;color:#1f5fa0;border-bottom:1px solid #d7dbe0}"
    "table{border-collapse:collapse;width:100%;margin:.8rem 0}"
    "caption{text-align:left;font-weight:bold;padding:.3rem 0;color:#495057}"
    "th,td{border:1px solid #d7dbe0;padding:.3rem .5rem;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}"
    "thead th{background:#eef2f6}tbody th{font-weight:normal;width:40%;background:#f8f9fa}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".note{font-size:.9rem;color:#495057;border-left:3px solid #1f5fa0;padding-left:.6rem}"
    "figure{margin:1rem 0}figure svg{width:100%;height:auto;max-width:48rem;display:block}"
    "figcaption{font-size:.9rem;color:#495057}"
    "footer{margin-top:2rem;font-size:.8rem;color:#6c757d}"
    "@media print{body{max-width:none;margin:0;font-size:10.5pt}"
    "@page{size:A4;margin:15mm}h2{break-after:avoid}"
    "table,figure,tr{break-inside:avoid}a{color:inherit;text-decoration:none}}";

static int numeric(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!strchr("0123456789.-+e", *s)) return 0;
    return 1;
}

static void table_html(rp_buf *b, const rd_block *t) {
    rp_puts(b, "<table>\n<caption>");
    rp_esc(b, t->text);
    rp_puts(b, "</caption>\n<thead><tr>");
    for (int c = 0; c < t->cols; c++) {
        rp_puts(b, "<th scope=\"col\">");
        rp_esc(b, t->cells[c]);
        rp_puts(b, "</th>");
    }
    rp_puts(b, "</tr></thead>\n<tbody>\n");
    for (size_t r = 1; r < t->rows; r++) {
        rp_puts(b, "<tr>");
        for (int c = 0; c < t->cols; c++) {
            const char *v = t->cells[r * (size_t)t->cols + (size_t)c];
            /* two-column tables: the first cell names the row */
            if (c == 0 && t->cols == 2) rp_puts(b, "<th scope=\"row\">");
            else rp_puts(b, numeric(v) ? "<td class=\"num\">" : "<td>");
            rp_esc(b, v);
            rp_puts(b, c == 0 && t->cols == 2 ? "</th>" : "</td>");
        }
        rp_puts(b, "</tr>\n");
    }
    rp_puts(b, "</tbody>\n</table>\n");
}

static lfr_status chart_html(rp_buf *b, const rd_chart *c, lfr_err *err) {
    char *svg = NULL;
    size_t n = 0;
    lfr_status st = rc_chart_svg(c, &svg, &n, err);
    if (st != LFR_OK) return st;
    /* drop the XML prolog and DOCTYPE; give the root element its title */
    const char *root = strstr(svg, "<svg");
    const char *open_end = root ? strchr(root, '>') : NULL;
    if (!root || !open_end) {
        lfr_free(svg);
        return lfr_err_set(err, LFR_ERR_INTERNAL, "report chart %s: PLplot wrote no <svg>", c->id);
    }
    rp_puts(b, "<figure>\n");
    rp_put(b, root, (size_t)(open_end - root));
    rp_puts(b, " role=\"img\" aria-labelledby=\"");
    rp_esc(b, c->id);
    rp_puts(b, "-title\"><title id=\"");
    rp_esc(b, c->id);
    rp_puts(b, "-title\">");
    rp_esc(b, c->alt);
    rp_puts(b, "</title>");
    rp_put(b, open_end + 1, n - (size_t)(open_end + 1 - svg));
    rp_puts(b, "\n<figcaption>");
    rp_esc(b, c->title);
    rp_puts(b, " (the numbers are in the tables and the JSON)</figcaption>\n</figure>\n");
    lfr_free(svg);
    return LFR_OK;
}

lfr_status rp_render_html(const rd_doc *d, uint8_t **out, size_t *len, lfr_err *err) {
    *out = NULL;
    *len = 0;
    rp_buf b = {0};
    lfr_status st = LFR_OK;
    rp_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    rp_esc(&b, d->title);
    rp_puts(&b, "</title>\n<style>");
    rp_puts(&b, CSS);
    rp_puts(&b, "</style>\n</head>\n<body>\n<main>\n");
    for (size_t i = 0; st == LFR_OK && i < d->n; i++) {
        const rd_block *k = &d->b[i];
        switch (k->kind) {
        case RD_TITLE: rp_puts(&b, "<h1>"); rp_esc(&b, k->text); rp_puts(&b, "</h1>\n"); break;
        case RD_HEADING: rp_puts(&b, "<h2>"); rp_esc(&b, k->text); rp_puts(&b, "</h2>\n"); break;
        case RD_PARA: rp_puts(&b, "<p>"); rp_esc(&b, k->text); rp_puts(&b, "</p>\n"); break;
        case RD_NOTE: rp_puts(&b, "<p class=\"note\">"); rp_esc(&b, k->text); rp_puts(&b, "</p>\n"); break;
        case RD_TABLE: table_html(&b, k); break;
        case RD_CHART: st = chart_html(&b, &k->chart, err); break;
        }
    }
    rp_puts(&b, "</main>\n<footer>openlfr transparency report. Charts drawn with PLplot.</footer>\n"
              "</body>\n</html>\n");
    if (st == LFR_OK && b.oom) st = lfr_err_set(err, LFR_ERR_NOMEM, "report: out of memory");
    if (st != LFR_OK) {
        lfr_free(b.p);
        return st;
    }
    *out = (uint8_t *)b.p;
    *len = b.n;
    return LFR_OK;
}
