/*
 * fuzz_http_body.c - libFuzzer target for the server's request body
 * parsing (lfr_http_body_parse: content type, JSON with its depth limit,
 * base64 images, image magic).
 *
 * Input: byte 0 picks the body kind, byte 1 the Content-Type from a small
 * list (some wrong on purpose), the rest is the body.  Any status is fine;
 * crashes, leaks, sanitizer reports, an error that allocates, or a success
 * without arguments are the bugs.
 *
 * Seeds in fuzz/corpus/http_body/ are written by hand (see the file names).
 */
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const types[] = {"application/json", "application/json; charset=utf-8",
                                        "image/jpeg", "image/png", "text/plain", NULL,
                                        "APPLICATION/JSON ;", ""};
    if (size < 2) return 0;
    lfr_http_body_kind kind = (lfr_http_body_kind)(data[0] % 4);
    const char *ct = types[data[1] % (sizeof types / sizeof types[0])];
    json_t *args = NULL;
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    lfr_err err;
    lfr_status st = lfr_http_body_parse(kind, ct, data + 2, size - 2, &args, &blob, &blob_len, &err);
    if (st == LFR_OK) {
        if (!json_is_object(args)) __builtin_trap();
        if (kind == LFR_HTTP_BODY_IMAGE_JSON && (!blob || blob_len == 0)) __builtin_trap();
        json_decref(args);
        lfr_free(blob);
    } else if (args || blob || err.msg[0] == '\0') {
        __builtin_trap();
    }
    return 0;
}
