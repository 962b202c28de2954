/*
 * report_render.c - the formats (LFR_REPORT_FORMAT_LIST) and the one entry
 * point that renders a report JSON in any of them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_int.h"

static const struct {
    const char *name, *mime;
} formats[] = {
#define LFR_REPORT_FORMAT_ROW(id, name) {name, NULL},
    LFR_REPORT_FORMAT_LIST(LFR_REPORT_FORMAT_ROW)
#undef LFR_REPORT_FORMAT_ROW
};

static const char *const mimes[LFR_REPORT_FORMAT_COUNT] = {
    [LFR_REPORT_FORMAT_JSON] = "application/json",
    [LFR_REPORT_FORMAT_HTML] = "text/html; charset=utf-8",
    [LFR_REPORT_FORMAT_PDF] = "application/pdf",
};

const char *lfr_report_format_name(lfr_report_format f) {
    return (unsigned)f < LFR_REPORT_FORMAT_COUNT ? formats[f].name : "unknown";
}

const char *lfr_report_format_mime(lfr_report_format f) {
    return (unsigned)f < LFR_REPORT_FORMAT_COUNT ? mimes[f] : "application/octet-stream";
}

lfr_status lfr_report_format_parse(const char *name, lfr_report_format *out, lfr_err *err) {
    for (int i = 0; name && i < LFR_REPORT_FORMAT_COUNT; i++)
        if (!strcmp(name, formats[i].name)) {
            *out = (lfr_report_format)i;
            return LFR_OK;
        }
    return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                       "report format \"%s\" is not one of json, html, pdf", name ? name : "");
}

lfr_status lfr_report_render(const json_t *report, lfr_report_format f, uint8_t **out,
                             size_t *len, lfr_err *err) {
    *out = NULL;
    *len = 0;
    rd_doc d;
    /* the JSON is checked the same way for every format */
    lfr_status st = rd_build(report, &d, err);
    if (st != LFR_OK) return st;
    if (f == LFR_REPORT_FORMAT_JSON) {
        char *txt = json_dumps(report, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        size_t n = txt ? strlen(txt) : 0;
        if (txt) *out = lfr_malloc(n + 2);
        if (*out) {
            memcpy(*out, txt, n);
            (*out)[n] = '\n';
            (*out)[n + 1] = 0;
            *len = n + 1;
        } else {
            st = lfr_err_set(err, LFR_ERR_NOMEM, "report: out of memory");
        }
        free(txt);
    } else if (f == LFR_REPORT_FORMAT_HTML) {
        st = rp_render_html(&d, out, len, err);
    } else if (f == LFR_REPORT_FORMAT_PDF) {
        st = rp_render_pdf(&d, out, len, err);
    } else {
        st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "report format %d is not known", (int)f);
    }
    rd_free(&d);
    return st;
}

/* Text buffer -------------------------------------------------------------- */
void rp_put(rp_buf *b, const char *s, size_t n) {
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

void rp_puts(rp_buf *b, const char *s) { rp_put(b, s, strlen(s)); }

void rp_putf(rp_buf *b, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        rp_put(b, tmp, (size_t)n);
        return;
    }
    char *big = lfr_malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rp_put(b, big, (size_t)n);
    lfr_free(big);
}

void rp_esc(rp_buf *b, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&': rp_puts(b, "&amp;"); break;
        case '<': rp_puts(b, "&lt;"); break;
        case '>': rp_puts(b, "&gt;"); break;
        case '"': rp_puts(b, "&quot;"); break;
        case '\'': rp_puts(b, "&#39;"); break;
        default: rp_put(b, s, 1);
        }
    }
}
