/*
 * opt.c - the table-driven option parser of the command line (opt.h).
 */
#include "opt.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void hint(const cli_cmd *c) {
    fprintf(stderr, "(see `openlfr %s --help`)\n", c->name);
}

int cli_usage_error(const cli_cmd *c, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "openlfr: %s: ", c->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    hint(c);
    return CLI_USAGE;
}

static const char *kind_meta(cli_kind k) {
    switch (k) {
    case CLI_INT: return "N";
    case CLI_REAL: return "X";
    default: return "TEXT";
    }
}

/* Stores one value; on a bad value prints why (label: "--threshold" or
 * "ID") and returns CLI_USAGE. */
static int store_value(const cli_cmd *c, const char *label, cli_kind kind, void *dest,
                       int64_t min, int64_t max, const char *v) {
    char *end = NULL;
    switch (kind) {
    case CLI_STR:
        *(const char **)dest = v;
        return CLI_OK;
    case CLI_INT: {
        errno = 0;
        long long x = *v ? strtoll(v, &end, 10) : 0;
        if (!*v || errno || *end)
            return cli_usage_error(c, "%s: '%s' is not a whole number", label, v);
        if (min < max && (x < min || x > max))
            return cli_usage_error(c, "%s: %lld is out of range (%lld to %lld)", label, x,
                                   (long long)min, (long long)max);
        *(int64_t *)dest = x;
        return CLI_OK;
    }
    case CLI_REAL: {
        errno = 0;
        double x = *v ? strtod(v, &end) : 0;
        if (!*v || *end || errno == ERANGE || !isfinite(x))
            return cli_usage_error(c, "%s: '%s' is not a number", label, v);
        *(double *)dest = x;
        return CLI_OK;
    }
    case CLI_FLAG:
        *(int *)dest = 1;
        return CLI_OK;
    case CLI_LIST: {
        cli_list *l = dest;
        if (l->n >= CLI_MAX_REPEAT)
            return cli_usage_error(c, "%s: at most %d values", label, CLI_MAX_REPEAT);
        l->fixed[l->n++] = v;
        l->v = l->fixed;
        return CLI_OK;
    }
    }
    return CLI_USAGE;
}

void cli_help(const cli_cmd *c, FILE *f) {
    fprintf(f, "usage: openlfr %s", c->name);
    int nopt = 0;
    for (const cli_opt *o = c->opts; o && o->name; o++) nopt++;
    if (nopt) fprintf(f, " [OPTIONS]");
    for (const cli_arg *a = c->args; a && a->name; a++)
        fprintf(f, a->required ? " %s%s" : " [%s%s]", a->name, a->kind == CLI_LIST ? "..." : "");
    fprintf(f, "\n  %s\n", c->summary);
    if (c->args && c->args->name) {
        fprintf(f, "\narguments:\n");
        for (const cli_arg *a = c->args; a->name; a++)
            fprintf(f, "  %-26s %s%s\n", a->name, a->help, a->required ? "" : " (optional)");
    }
    if (nopt) fprintf(f, "\noptions:\n");
    for (const cli_opt *o = c->opts; o && o->name; o++) {
        char left[96];
        if (o->kind == CLI_FLAG)
            snprintf(left, sizeof left, "--%s", o->name);
        else
            snprintf(left, sizeof left, "--%s %s", o->name, o->meta ? o->meta : kind_meta(o->kind));
        fprintf(f, "  %-26s %s", left, o->help);
        if (o->required) fprintf(f, " (required)");
        if (o->kind == CLI_LIST) fprintf(f, " (repeatable)");
        if (o->kind == CLI_INT && o->min < o->max)
            fprintf(f, " [%lld..%lld]", (long long)o->min, (long long)o->max);
        fputc('\n', f);
    }
    fprintf(f, "  %-26s %s\n", "--help", "print this table");
    if (c->notes) fprintf(f, "\n%s\n", c->notes);
}

static const cli_opt *find_opt(const cli_cmd *c, const char *name, size_t len) {
    for (const cli_opt *o = c->opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) return o;
    return NULL;
}

int cli_parse(const cli_cmd *c, int argc, char **argv) {
    int npos = 0, only_pos = 0;
    unsigned char seen[128] = {0};
    int nopts = 0;
    for (const cli_opt *o = c->opts; o && o->name; o++) nopts++;
    if (nopts > (int)sizeof seen) return cli_usage_error(c, "internal: too many options");
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (!only_pos && (!strcmp(w, "--help") || !strcmp(w, "-h"))) {
            cli_help(c, stdout);
            return CLI_HELP;
        }
    }
    for (int i = 1; i < argc; i++) {
        char *w = argv[i];
        if (!only_pos && !strcmp(w, "--")) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && w[0] == '-' && w[1] == '-') {
            const char *name = w + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const cli_opt *o = find_opt(c, name, len);
            if (!o) return cli_usage_error(c, "unknown option '--%.*s'", (int)len, name);
            char label[80];
            snprintf(label, sizeof label, "--%s", o->name);
            if (seen[o - c->opts] && o->kind != CLI_LIST)
                return cli_usage_error(c, "%s is given twice", label);
            int r;
            if (o->kind == CLI_FLAG) {
                if (eq) return cli_usage_error(c, "%s takes no value", label);
                r = store_value(c, label, o->kind, o->dest, 0, 0, "");
            } else if (eq) {
                r = store_value(c, label, o->kind, o->dest, o->min, o->max, eq + 1);
            } else if (i + 1 < argc) {
                r = store_value(c, label, o->kind, o->dest, o->min, o->max, argv[++i]);
            } else {
                return cli_usage_error(c, "%s needs a value (%s)", label,
                                       o->meta ? o->meta : kind_meta(o->kind));
            }
            if (r != CLI_OK) return r;
            seen[o - c->opts] = 1;
            continue;
        }
        if (!only_pos && w[0] == '-' && w[1] && !(w[1] >= '0' && w[1] <= '9'))
            return cli_usage_error(c, "unknown option '%s'", w);
        argv[1 + npos++] = w; /* positional words move to the front, in order */
    }
    for (const cli_opt *o = c->opts; o && o->name; o++)
        if (o->required && !seen[o - c->opts])
            return cli_usage_error(c, "--%s is required", o->name);
    int k = 0;
    const cli_arg *a = c->args;
    for (; a && a->name; a++) {
        if (a->kind == CLI_LIST) {
            cli_list *l = a->dest;
            l->v = (const char **)(argv + 1 + k);
            l->n = npos - k;
            if (a->required && l->n == 0) return cli_usage_error(c, "%s is required", a->name);
            k = npos;
            continue;
        }
        if (k >= npos) {
            if (a->required) return cli_usage_error(c, "%s is required", a->name);
            continue;
        }
        int r = store_value(c, a->name, a->kind, a->dest, a->min, a->max, argv[1 + k++]);
        if (r != CLI_OK) return r;
    }
    if (k < npos) return cli_usage_error(c, "unexpected argument '%s'", argv[1 + k]);
    return CLI_OK;
}

int cli_dispatch(const char *group, const cli_sub *subs, int argc, char **argv) {
    const char *w = argc >= 2 ? argv[1] : NULL;
    int help = w && (!strcmp(w, "--help") || !strcmp(w, "-h") || !strcmp(w, "help"));
    if (w && !help)
        for (const cli_sub *s = subs; s->name; s++)
            if (!strcmp(w, s->name)) return s->fn(argc - 1, argv + 1);
    FILE *f = help ? stdout : stderr;
    if (!w) fprintf(f, "openlfr: %s: which one?\n", group);
    else if (!help) fprintf(f, "openlfr: %s: unknown subcommand '%s'\n", group, w);
    fprintf(f, "usage: openlfr %s SUBCOMMAND [OPTIONS]   (openlfr %s SUBCOMMAND --help)\n", group,
            group);
    for (const cli_sub *s = subs; s->name; s++) fprintf(f, "  %-16s %s\n", s->name, s->summary);
    return help ? 0 : 2;
}
