/*
 * body.c - request bodies: content type, JSON with a depth limit, base64
 * images (lfr_http_body_parse; fuzzed by fuzz/fuzz_http_body.c).
 */
#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "http.h"

/* "application/json; charset=utf-8" -> compares only the media type. */
static int media_is(const char *ct, const char *want) {
    if (!ct) return 0;
    while (*ct == ' ' || *ct == '\t') ct++;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) n--;
    return n == strlen(want) && strncasecmp(ct, want, n) == 0;
}

/* Deepest bracket nesting outside strings; scanning stops past `limit`. */
static int json_depth(const uint8_t *b, size_t len, int limit) {
    int depth = 0, max = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = b[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
            continue;
        }
        if (c == '"') in_str = 1;
        else if (c == '{' || c == '[') {
            if (++depth > max) max = depth;
            if (max > limit) return max;
        } else if (c == '}' || c == ']') depth--;
    }
    return max;
}

static lfr_status parse_json(const char *ct, const uint8_t *body, size_t len, json_t **args,
                             lfr_err *err) {
    if (len == 0) {
        *args = json_object();
        return *args ? LFR_OK : lfr_err_set(err, LFR_ERR_NOMEM, "no memory for the arguments");
    }
    if (!media_is(ct, "application/json"))
        return lfr_err_set(err, LFR_ERR_UNSUPPORTED,
                           "Content-Type must be application/json for this route, not '%.60s'",
                           ct ? ct : "(none)");
    if (json_depth(body, len, LFR_HTTP_MAX_JSON_DEPTH) > LFR_HTTP_MAX_JSON_DEPTH)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "JSON body nests deeper than %d levels",
                           LFR_HTTP_MAX_JSON_DEPTH);
    json_error_t je;
    json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "malformed JSON body at line %d column %d: %s",
                           je.line, je.column, je.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "JSON body must be an object");
    }
    *args = j;
    return LFR_OK;
}

static int image_magic_ok(const char *ct, const uint8_t *b, size_t len) {
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (media_is(ct, "image/jpeg")) return len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
    if (media_is(ct, "image/png")) return len >= 8 && memcmp(b, png, 8) == 0;
    return -1;
}

lfr_status lfr_http_body_parse(lfr_http_body_kind kind, const char *content_type,
                               const uint8_t *body, size_t len, json_t **args, uint8_t **blob,
                               size_t *blob_len, lfr_err *err) {
    *args = NULL;
    *blob = NULL;
    *blob_len = 0;
    switch (kind) {
    case LFR_HTTP_BODY_NONE:
        if (len > 0) return lfr_err_set(err, LFR_ERR_TOO_LARGE, "this route takes no body");
        *args = json_object();
        return *args ? LFR_OK : lfr_err_set(err, LFR_ERR_NOMEM, "no memory for the arguments");
    case LFR_HTTP_BODY_JSON:
        return parse_json(content_type, body, len, args, err);
    case LFR_HTTP_BODY_IMAGE: {
        int ok = image_magic_ok(content_type, body, len);
        if (ok < 0)
            return lfr_err_set(err, LFR_ERR_UNSUPPORTED,
                               "Content-Type must be image/jpeg or image/png, not '%.60s'",
                               content_type ? content_type : "(none)");
        if (!ok)
            return lfr_err_set(err, LFR_ERR_UNSUPPORTED,
                               "the body is not a %.20s image (its first bytes disagree)",
                               content_type);
        *args = json_object();
        return *args ? LFR_OK : lfr_err_set(err, LFR_ERR_NOMEM, "no memory for the arguments");
    }
    case LFR_HTTP_BODY_IMAGE_JSON: {
        if (len == 0)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "image_base64 is missing (empty body)");
        json_t *j = NULL;
        lfr_status st = parse_json(content_type, body, len, &j, err);
        if (st != LFR_OK) return st;
        json_t *b64 = json_object_get(j, "image_base64");
        if (!json_is_string(b64) || json_string_length(b64) == 0) {
            json_decref(j);
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "image_base64 must be a non-empty string (the image, base64)");
        }
        size_t b64len = json_string_length(b64);
        size_t cap = b64len / 4 * 3 + 3;
        uint8_t *out = lfr_malloc(cap);
        if (!out) {
            json_decref(j);
            return lfr_err_set(err, LFR_ERR_NOMEM, "no memory for a %zu-byte image", cap);
        }
        size_t got = 0;
        if (sodium_base642bin(out, cap, json_string_value(b64), b64len, "\r\n", &got, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            got == 0) {
            lfr_free(out);
            json_decref(j);
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "image_base64 is not valid base64");
        }
        json_object_del(j, "image_base64");
        *args = j;
        *blob = out;
        *blob_len = got;
        return LFR_OK;
    }
    }
    return lfr_err_set(err, LFR_ERR_INTERNAL, "unknown body kind %d", (int)kind);
}
