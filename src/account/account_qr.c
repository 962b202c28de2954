/*
 * account_qr.c - the pairing QR code as an SVG document.  See account.h.
 *
 * DESIGN
 *   libqrencode encodes the payload {"v":1,"url":...,"ca":...,"code":...}
 *   (8-bit mode, error correction level M: a phone reads it off a laptop
 *   screen with glare).  The SVG is one <path> whose subpaths are the
 *   horizontal runs of dark modules ("M x y h n v1 h -n z"), on a white
 *   square with the quiet zone of 4 modules the standard asks for; one
 *   SVG unit is one module, so it scales without blurring.
 */
#include "account_int.h"

#include <qrencode.h>
#include <stdio.h>
#include <string.h>

#define QR_QUIET 4

lfr_status lfr_device_pair_qr_svg(const char *server_url, const char *ca_fingerprint,
                                  const char *code, char **svg, lfr_err *err) {
    *svg = NULL;
    lfr_status st = LFR_OK;
    if (!server_url || strncmp(server_url, "https://", 8) != 0)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                           "server URL must start with https:// (the API is HTTPS only)");
    st = lfr_text_check(server_url, LFR_PAIR_MAX_URL, "server URL", err);
    if (st == LFR_OK) {
        if (!ca_fingerprint || !ca_fingerprint[0])
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "CA fingerprint is required");
        st = lfr_text_check(ca_fingerprint, LFR_PAIR_MAX_FINGERPRINT, "CA fingerprint", err);
    }
    if (st == LFR_OK) {
        if (!code || !code[0]) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "code is required");
        st = lfr_text_check(code, 32, "pairing code", err);
    }
    if (st != LFR_OK) return st;

    json_t *o = json_pack("{s:i, s:s, s:s, s:s}", "v", 1, "url", server_url, "ca",
                          ca_fingerprint, "code", code);
    char *payload = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!payload) return LFR_ERR_NOMEM;
    st = lfr_qr_svg(payload, svg, err);
    sodium_memzero(payload, strlen(payload));
    free(payload);
    return st;
}

lfr_status lfr_qr_svg(const char *text, char **svg, lfr_err *err) {
    *svg = NULL;
    if (!text || !text[0]) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "QR code text is empty");
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) return lfr_err_set(err, LFR_ERR_TOO_LARGE, "the text does not fit a QR code");

    int w = qr->width, full = w + 2 * QR_QUIET;
    /* worst case: a run every other module, each "M123 45h1v1h-1z" < 24 bytes */
    size_t cap = 512 + (size_t)w * ((size_t)w / 2 + 1) * 24;
    char *out = lfr_malloc(cap);
    if (!out) {
        QRcode_free(qr);
        return LFR_ERR_NOMEM;
    }
    size_t n = (size_t)snprintf(out, cap,
                                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                                "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
                                "fill=\"#fff\"/><path fill=\"#000\" d=\"",
                                full, full, full, full);
    for (int y = 0; y < w; y++)
        for (int x = 0; x < w;) {
            if (!(qr->data[y * w + x] & 1)) {
                x++;
                continue;
            }
            int run = 0;
            while (x + run < w && (qr->data[y * w + x + run] & 1)) run++;
            n += (size_t)snprintf(out + n, cap - n, "M%d %dh%dv1h-%dz", x + QR_QUIET, y + QR_QUIET,
                                  run, run);
            x += run;
        }
    n += (size_t)snprintf(out + n, cap - n, "\"/></svg>\n");
    QRcode_free(qr);
    if (n >= cap) { /* cannot happen with the bound above; never hand out a cut SVG */
        lfr_free(out);
        return lfr_err_set(err, LFR_ERR_INTERNAL, "QR code SVG larger than its buffer");
    }
    *svg = out;
    return LFR_OK;
}
