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

typedef struct hbuf {
    char *p;
    size_t n, cap;
    int oom;
} hbuf;

static void put(hbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 16384;
        while (nc < b->n + n + 1) nc *= 2;
        char *p = lfr_realloc(b->p, nc);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void puts_(hbuf *b, const char *s) { put(b, s, strlen(s)); }
static void esc(hbuf *b, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&': puts_(b, "&amp;"); break;
        case '<': puts_(b, "&lt;"); break;
        case '>': puts_(b, "&gt;"); break;
        case '"': puts_(b, "&quot;"); break;
        case '\'': puts_(b, "&#39;"); break;
        default: put(b, s, 1);
        }
    }
}

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

static void table_html(hbuf *b, const rd_block *t) {
    puts_(b, "<table>\n<caption>");
    esc(b, t->text);
    puts_(b, "</caption>\n<thead><tr>");
    for (int c = 0; c < t->cols; c++) {
        puts_(b, "<th scope=\"col\">");
        esc(b, t->cells[c]);
        puts_(b, "</th>");
    }
    puts_(b, "</tr></thead>\n<tbody>\n");
    for (size_t r = 1; r < t->rows; r++) {
        puts_(b, "<tr>");
        for (int c = 0; c < t->cols; c++) {
            const char *v = t->cells[r * (size_t)t->cols + (size_t)c];
            /* two-column tables: the first cell names the row */
            if (c == 0 && t->cols == 2) puts_(b, "<th scope=\"row\">");
            else puts_(b, numeric(v) ? "<td class=\"num\">" : "<td>");
            esc(b, v);
            puts_(b, c == 0 && t->cols == 2 ? "</th>" : "</td>");
        }
        puts_(b, "</tr>\n");
    }
    puts_(b, "</tbody>\n</table>\n");
}

static lfr_status chart_html(hbuf *b, const rd_chart *c, lfr_err *err) {
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
    puts_(b, "<figure>\n");
    put(b, root, (size_t)(open_end - root));
    puts_(b, " role=\"img\" aria-labelledby=\"");
    esc(b, c->id);
    puts_(b, "-title\"><title id=\"");
    esc(b, c->id);
    puts_(b, "-title\">");
    esc(b, c->alt);
    puts_(b, "</title>");
    put(b, open_end + 1, n - (size_t)(open_end + 1 - svg));
    puts_(b, "\n<figcaption>");
    esc(b, c->title);
    puts_(b, " (the numbers are in the tables and the JSON)</figcaption>\n</figure>\n");
    lfr_free(svg);
    return LFR_OK;
}

lfr_status rp_render_html(const rd_doc *d, uint8_t **out, size_t *len, lfr_err *err) {
    *out = NULL;
    *len = 0;
    hbuf b = {0};
    lfr_status st = LFR_OK;
    puts_(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    esc(&b, d->title);
    puts_(&b, "</title>\n<style>");
    puts_(&b, CSS);
    puts_(&b, "</style>\n</head>\n<body>\n<main>\n");
    for (size_t i = 0; st == LFR_OK && i < d->n; i++) {
        const rd_block *k = &d->b[i];
        switch (k->kind) {
        case RD_TITLE: puts_(&b, "<h1>"); esc(&b, k->text); puts_(&b, "</h1>\n"); break;
        case RD_HEADING: puts_(&b, "<h2>"); esc(&b, k->text); puts_(&b, "</h2>\n"); break;
        case RD_PARA: puts_(&b, "<p>"); esc(&b, k->text); puts_(&b, "</p>\n"); break;
        case RD_NOTE: puts_(&b, "<p class=\"note\">"); esc(&b, k->text); puts_(&b, "</p>\n"); break;
        case RD_TABLE: table_html(&b, k); break;
        case RD_CHART: st = chart_html(&b, &k->chart, err); break;
        }
    }
    puts_(&b, "</main>\n<footer>openlfr transparency report. Charts drawn with PLplot.</footer>\n"
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
