/*
 * files.c - static files under web_root, the OpenAPI document, the
 * rendered documentation (Redoc, vendored) and the QR decoder the
 * officers' app falls back on (jsQR, vendored).
 *
 * A path is refused (400) if any segment is empty, "." or "..", starts
 * with a dot (hidden files), or holds a backslash; the file must resolve
 * (symlinks followed) to a regular file inside web_root (404 otherwise,
 * saying no more).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_int.h"

#define LFR_HTTP_TYPE_LIST(X)                                                                  \
    X(".html", "text/html; charset=utf-8")                                                     \
    X(".js", "text/javascript; charset=utf-8")                                                 \
    X(".mjs", "text/javascript; charset=utf-8")                                                \
    X(".css", "text/css; charset=utf-8")                                                       \
    X(".json", "application/json")                                                             \
    X(".webmanifest", "application/manifest+json")                                             \
    X(".svg", "image/svg+xml")                                                                 \
    X(".png", "image/png")                                                                     \
    X(".jpg", "image/jpeg")                                                                    \
    X(".ico", "image/vnd.microsoft.icon")                                                      \
    X(".woff2", "font/woff2")                                                                  \
    X(".txt", "text/plain; charset=utf-8")

static const struct {
    const char *ext, *type;
} types[] = {
#define TYPE_ROW(e, t) {e, t},
    LFR_HTTP_TYPE_LIST(TYPE_ROW)
#undef TYPE_ROW
};

static const char *type_of(const char *path) {
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}

static int path_tricky(const char *url) {
    if (url[0] != '/' || strchr(url, '\\')) return 1;
    const char *s = url + 1;
    while (*s) {
        size_t n = strcspn(s, "/");
        if (n == 0 && s[n] == '/') return 1;       /* "//" */
        if (n > 0 && s[0] == '.') return 1;        /* ".", "..", ".git" */
        s += n;
        if (*s == '/') s++;
    }
    return 0;
}

/* Sends the regular file at `path` (already resolved). */
static enum MHD_Result send_file(struct MHD_Connection *c, const char *path, const char *cache) {
    lfr_err err;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0) close(fd);
        lfr_err_set(&err, LFR_ERR_NOT_FOUND, "no such file");
        return http_send_error(c, LFR_ERR_NOT_FOUND, &err);
    }
    if ((uint64_t)sb.st_size > LFR_HTTP_MAX_STATIC_FILE) {
        close(fd);
        lfr_err_set(&err, LFR_ERR_TOO_LARGE, "file larger than %u bytes", LFR_HTTP_MAX_STATIC_FILE);
        return http_send_error(c, LFR_ERR_TOO_LARGE, &err);
    }
    struct MHD_Response *r = MHD_create_response_from_fd((size_t)sb.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type_of(path));
    MHD_add_response_header(r, "Cache-Control", cache);
    http_common_headers(r);
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

/* Resolves root + rel and checks it stays inside root. */
static int resolve_inside(const char *root, const char *rel, char *out) {
    char joined[PATH_MAX * 2];
    if ((size_t)snprintf(joined, sizeof joined, "%s%s", root, rel) >= PATH_MAX) return 0;
    if (!realpath(joined, out)) return 0;
    size_t n = strlen(root);
    return strncmp(out, root, n) == 0 && out[n] == '/';
}

enum MHD_Result http_static(lfr_http *h, struct MHD_Connection *c, const char *url) {
    lfr_err err;
    if (strlen(url) >= LFR_HTTP_MAX_PATH || path_tricky(url)) {
        lfr_err_set(&err, LFR_ERR_INVALID_ARG,
                    "the path has an empty, '.', '..' or hidden segment, or a backslash");
        return http_send_error(c, LFR_ERR_INVALID_ARG, &err);
    }
    char rel[LFR_HTTP_MAX_PATH + 16];
    size_t n = strlen(url);
    snprintf(rel, sizeof rel, "%s%s", url, url[n - 1] == '/' ? "index.html" : "");
    char real[PATH_MAX];
    if (!h->web_root[0] || !resolve_inside(h->web_root, rel, real)) {
        lfr_err_set(&err, LFR_ERR_NOT_FOUND, "no such file: %.200s", url);
        return http_send_error(c, LFR_ERR_NOT_FOUND, &err);
    }
    const char *t = type_of(real);
    return send_file(c, real, strncmp(t, "text/html", 9) == 0 ? "no-cache" : "max-age=300");
}

enum MHD_Result http_spec(lfr_http *h, struct MHD_Connection *c) {
    char real[PATH_MAX];
    lfr_err err;
    if (!h->web_root[0] || !resolve_inside(h->web_root, "/openapi.json", real)) {
        lfr_err_set(&err, LFR_ERR_NOT_FOUND, "openapi.json is missing from web_root");
        return http_send_error(c, LFR_ERR_NOT_FOUND, &err);
    }
    return send_file(c, real, "no-cache");
}

static const char docs_page[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<title>openlfr API</title>\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "</head><body>\n<redoc spec-url=\"/api/openapi.json\"></redoc>\n"
    "<script src=\"/api/docs/redoc.standalone.js\"></script>\n</body></html>\n";

enum MHD_Result http_docs(lfr_http *h, struct MHD_Connection *c) {
    (void)h;
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof docs_page - 1, (void *)docs_page,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    http_common_headers(r);
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

/* A file tools/setup.sh vendored from npm (pinned and checked by
 * tools/models.lock) into vendor_dir. */
static enum MHD_Result send_vendored(lfr_http *h, struct MHD_Connection *c, const char *name,
                                     const char *what) {
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", h->vendor_dir, name);
    if (access(path, R_OK) != 0) {
        lfr_err err;
        lfr_err_set(&err, LFR_ERR_NOT_FOUND, "%s is not installed (make setup vendors it)", what);
        return http_send_error(c, LFR_ERR_NOT_FOUND, &err);
    }
    return send_file(c, path, "max-age=86400");
}

enum MHD_Result http_docs_js(lfr_http *h, struct MHD_Connection *c) {
    return send_vendored(h, c, "redoc.standalone.js", "the documentation renderer");
}

enum MHD_Result http_qr_js(lfr_http *h, struct MHD_Connection *c) {
    return send_vendored(h, c, "jsQR.js", "the QR decoder");
}
