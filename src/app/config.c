/*
 * config.c - the configuration table (LFR_CONFIG_LIST in app.h): defaults,
 * setting one option from text with its range checked, a file of
 * "key = value" lines, the environment (OPENLFR_<KEY>) and the help text.
 *
 * DESIGN
 *   One row per option generates everything: the struct field (app.h), the
 *   default, the parser (by type) and the help line, so an option cannot
 *   exist without a range and a reason.  Options whose text must be one of
 *   a few words (log) list them in CONFIG_CHOICES.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"

typedef enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL, CFG_REAL } cfg_type;

typedef struct cfg_row {
    const char *key;
    cfg_type type;
    const char *dflt_text; /* the default as written in the table */
    double min, max;
    const char *why;
    size_t off;            /* offset of the field in lfr_config */
} cfg_row;

#define CFG_ROW(type, key, dflt, min, max, why) \
    {#key, CFG_##type, #dflt, (double)(min), (double)(max), why, offsetof(lfr_config, key)},
static const cfg_row rows[] = {LFR_CONFIG_LIST(CFG_ROW)};
#undef CFG_ROW
#define NROWS (sizeof rows / sizeof rows[0])

/* STR options that must be one of a few words: key, then the words. */
static const struct {
    const char *key;
    const char *words[6];
} choices[] = {
    {"log", {"debug", "info", "warn", "error", "silent", NULL}},
};

void lfr_config_defaults(lfr_config *c) {
    memset(c, 0, sizeof *c);
#define DFLT_STR(key, d) snprintf(c->key, sizeof c->key, "%s", d);
#define DFLT_INT(key, d) c->key = (d);
#define DFLT_BOOL(key, d) c->key = (d);
#define DFLT_REAL(key, d) c->key = (d);
#define DFLT(type, key, d, min, max, why) DFLT_##type(key, d)
    LFR_CONFIG_LIST(DFLT)
#undef DFLT
#undef DFLT_STR
#undef DFLT_INT
#undef DFLT_BOOL
#undef DFLT_REAL
}

/* "session-ttl-s", "SESSION_TTL_S" -> the row of session_ttl_s. */
static const cfg_row *find_row(const char *key) {
    for (size_t i = 0; i < NROWS; i++) {
        const char *a = rows[i].key, *b = key;
        while (*a && *b) {
            char cb = (char)tolower((unsigned char)*b);
            if (cb == '-') cb = '_';
            if (*a != cb) break;
            a++, b++;
        }
        if (!*a && !*b) return &rows[i];
    }
    return NULL;
}

static void range_text(const cfg_row *r, char *buf, size_t cap) {
    switch (r->type) {
    case CFG_INT: snprintf(buf, cap, "an integer from %.0f to %.0f", r->min, r->max); break;
    case CFG_REAL: snprintf(buf, cap, "a number from %g to %g", r->min, r->max); break;
    case CFG_BOOL: snprintf(buf, cap, "0 or 1 (true/false, yes/no, on/off)"); break;
    case CFG_STR: snprintf(buf, cap, "text shorter than %d bytes", LFR_MAX_CONFIG_VALUE); break;
    }
}

static lfr_status bad_value(const cfg_row *r, const char *value, lfr_err *err) {
    char range[96];
    range_text(r, range, sizeof range);
    return lfr_err_set(err, LFR_ERR_INVALID_ARG, "option %s: '%.80s' is not valid: it must be %s",
                       r->key, value, range);
}

static lfr_status set_str(const cfg_row *r, char *dst, const char *value, lfr_err *err) {
    size_t n = strlen(value);
    if (n >= LFR_MAX_CONFIG_VALUE)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "option %s: the value is %zu bytes, at most %d",
                           r->key, n, LFR_MAX_CONFIG_VALUE - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG,
                               "option %s: the value holds a control character", r->key);
    for (size_t k = 0; k < sizeof choices / sizeof choices[0]; k++) {
        if (strcmp(choices[k].key, r->key)) continue;
        int ok = 0;
        char list[96] = "";
        for (int w = 0; choices[k].words[w]; w++) {
            if (!strcmp(choices[k].words[w], value)) ok = 1;
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", choices[k].words[w]);
        }
        if (!ok)
            return lfr_err_set(err, LFR_ERR_INVALID_ARG, "option %s: '%.80s' is not one of %s",
                               r->key, value, list);
    }
    memcpy(dst, value, n + 1);
    return LFR_OK;
}

lfr_status lfr_config_set(lfr_config *c, const char *key, const char *value, lfr_err *err) {
    if (!c || !key || !value) return lfr_err_set(err, LFR_ERR_INVALID_ARG, "option: no key or value");
    const cfg_row *r = find_row(key);
    if (!r) return lfr_err_set(err, LFR_ERR_NOT_FOUND, "unknown option '%.80s' (--help lists them)", key);
    char *field = (char *)c + r->off;
    switch (r->type) {
    case CFG_STR: return set_str(r, field, value, err);
    case CFG_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (!*value || *end || errno || isspace((unsigned char)*value) || (double)v < r->min ||
            (double)v > r->max)
            return bad_value(r, value, err);
        *(int64_t *)(void *)field = v;
        return LFR_OK;
    }
    case CFG_REAL: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (!*value || *end || errno || !isfinite(v) || isspace((unsigned char)*value) ||
            v < r->min || v > r->max)
            return bad_value(r, value, err);
        *(double *)(void *)field = v;
        return LFR_OK;
    }
    case CFG_BOOL: {
        static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
        for (int i = 0; i < 4; i++) {
            if (!strcasecmp(value, yes[i])) return *(int *)(void *)field = 1, LFR_OK;
            if (!strcasecmp(value, no[i])) return *(int *)(void *)field = 0, LFR_OK;
        }
        return bad_value(r, value, err);
    }
    }
    return lfr_err_set(err, LFR_ERR_INTERNAL, "option %s: unknown type", r->key);
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}

lfr_status lfr_config_load_file(lfr_config *c, const char *path, lfr_err *err) {
    uint8_t *data = NULL;
    size_t len = 0;
    lfr_status st = lfr_read_file_err(path, LFR_MAX_CONFIG_FILE, &data, &len, err);
    if (st != LFR_OK) return st;
    if (memchr(data, 0, len)) {
        lfr_free(data);
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s: the file holds a NUL byte", path);
    }
    char *p = (char *)data;
    if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) p += 3; /* UTF-8 BOM */
    int line = 0;
    while (p && *p && st == LFR_OK) {
        line++;
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        char *l = trim(p);
        p = nl ? nl + 1 : NULL;
        if (!*l || *l == '#') continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            st = lfr_err_set(err, LFR_ERR_INVALID_ARG, "%s:%d: expected \"key = value\", got '%.60s'",
                             path, line, l);
            break;
        }
        *eq = 0;
        char *k = trim(l), *v = trim(eq + 1);
        size_t vn = strlen(v);
        if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') v[vn - 1] = 0, v++;
        lfr_err e = {{0}};
        st = lfr_config_set(c, k, v, &e);
        if (st != LFR_OK) lfr_err_set(err, st, "%s:%d: %s", path, line, e.msg);
    }
    lfr_free(data);
    return st;
}

lfr_status lfr_config_load_env(lfr_config *c, lfr_err *err) {
    for (size_t i = 0; i < NROWS; i++) {
        char name[64] = "OPENLFR_";
        size_t n = strlen(name);
        for (const char *k = rows[i].key; *k && n + 1 < sizeof name; k++)
            name[n++] = (char)toupper((unsigned char)*k);
        name[n] = 0;
        const char *v = getenv(name);
        if (!v) continue;
        lfr_err e = {{0}};
        lfr_status st = lfr_config_set(c, rows[i].key, v, &e);
        if (st != LFR_OK) return lfr_err_set(err, st, "environment %s: %s", name, e.msg);
    }
    return LFR_OK;
}

void lfr_config_print_help(FILE *f) {
    fprintf(f, "Options (config file \"key = value\", environment OPENLFR_<KEY>, or --key value):\n");
    for (size_t i = 0; i < NROWS; i++) {
        const cfg_row *r = &rows[i];
        char flag[64], dflt[96], range[96] = "";
        snprintf(flag, sizeof flag, "--%s", r->key);
        for (char *q = flag + 2; *q; q++)
            if (*q == '_') *q = '-';
        const char *d = r->dflt_text;
        size_t dn = strlen(d);
        if (r->type == CFG_STR && dn >= 2 && d[0] == '"') /* strip the C quotes */
            snprintf(dflt, sizeof dflt, "%.*s", (int)(dn - 2), d + 1);
        else
            snprintf(dflt, sizeof dflt, "%s", d);
        if (r->type == CFG_INT || r->type == CFG_REAL)
            snprintf(range, sizeof range, ", %g..%g", r->min, r->max);
        fprintf(f, "  %-26s %s (default %s%s)\n", flag, r->why, dflt[0] ? dflt : "\"\"", range);
    }
}

lfr_status lfr_config_sign_key_path(const lfr_config *c, char *out, size_t cap, lfr_err *err) {
    const char *db = c->db, *slash = strrchr(db, '/');
    int n = c->sign_key[0] ? snprintf(out, cap, "%s", c->sign_key)
            : slash ? snprintf(out, cap, "%.*s/openlfr.sign", (int)(slash - db), db)
                    : snprintf(out, cap, "openlfr.sign");
    if (n < 0 || (size_t)n >= cap)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "option sign_key: path too long");
    return LFR_OK;
}
