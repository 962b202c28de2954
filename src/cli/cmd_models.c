/*
 * cmd_models.c - `openlfr models [--json]` and `openlfr convert`.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "convert/convert.h"
#include "nn/nn.h"
#include "opt.h"

static void sha256_hex(const uint8_t *buf, size_t len, char out[65]) {
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, buf, len);
    sodium_bin2hex(out, 65, h, sizeof h);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int lfr_cmd_models(int argc, char **argv) {
    int json = 0;
    const cli_opt opts[] = {{"json", CLI_FLAG, 0, NULL, "one JSON object per model", &json, 0, 0},
                            CLI_END};
    const cli_cmd cmd = {"models", "list installed models: source package, version, sha256",
                         opts, NULL, "The models directory is $OPENLFR_MODELS, default ./models."};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr != CLI_OK) return CLI_EXIT(pr);
    if (sodium_init() < 0) return lfr_cli_fail("libsodium", LFR_ERR_INTERNAL, NULL);
    const char *dir = lfr_cli_models_dir();
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "openlfr: models: no models directory '%s' (run `make setup` "
                        "or set OPENLFR_MODELS)\n", dir);
        return 1;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".lfrm") == 0) names[n++] = lfr_strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    int bad = 0;
    if (!json)
        printf("%-14s %-5s %-40s %-8s %-10s %s\n", "arch", "nodes", "source",
               "licence", "input", "sha256 (source file)");
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        uint8_t *buf;
        size_t len;
        lfr_err err = {{0}};
        lfr_nn_model *m = NULL;
        lfr_status st = lfr_read_file(path, LFR_MAX_MODEL_BYTES, &buf, &len);
        if (st == LFR_OK) {
            st = lfr_nn_model_load_mem(buf, len, &m, &err);
        } else {
            buf = NULL;
        }
        if (st != LFR_OK) {
            lfr_cli_fail(path, st, &err);
            bad = 1;
            lfr_free(buf);
            continue;
        }
        char fsha[65];
        sha256_hex(buf, len, fsha);
        const lfr_nn_graph *g = lfr_nn_model_graph(m);
#define META(k) (lfr_nn_model_meta(m, k) ? lfr_nn_model_meta(m, k) : "")
        if (json) {
            printf("{\"file\":\"%s\",\"arch\":\"%s\",\"nodes\":%d,\"tensors\":%d,"
                   "\"package\":\"%s\",\"version\":\"%s\",\"source_file\":\"%s\","
                   "\"source_sha256\":\"%s\",\"license\":\"%s\",\"input_layout\":\"%s\","
                   "\"sha256\":\"%s\"}\n",
                   names[i], META("arch"), g->n_nodes, g->n_tensors,
                   META("source.package"), META("source.version"), META("source.file"),
                   META("source.sha256"), META("license"), META("input.layout"), fsha);
        } else {
            char src[256];
            snprintf(src, sizeof src, "%s@%s", META("source.package"), META("source.version"));
            printf("%-14s %-5d %-40s %-8s %-10s %.16s...\n", META("arch"), g->n_nodes,
                   src, META("license"), META("input.layout"), META("source.sha256"));
        }
#undef META
        lfr_nn_model_destroy(m);
        lfr_free(buf);
    }
    for (int i = 0; i < n; i++) lfr_free(names[i]);
    if (n == 0) {
        fprintf(stderr, "openlfr: models: no .lfrm files in '%s' (run `make setup`)\n", dir);
        return 1;
    }
    return bad;
}

int lfr_cmd_convert(int argc, char **argv) {
    const char *arch = NULL, *in = NULL, *out = NULL;
    cli_list meta = {{0}, NULL, 0};
    const cli_opt opts[] = {
        {"arch", CLI_STR, 1, "ARCH",
         "network: rfb, onet, mobilefacenet, pnet, rnet, mfn512 or lm68", &arch, 0, 0},
        {"meta", CLI_LIST, 0, "KEY=VALUE", "metadata stored in the model (source, licence, ...)",
         &meta, 0, 0},
        CLI_END};
    const cli_arg args[] = {{"INPUT", CLI_STR, 1, "the ONNX or TFLite network", &in, 0, 0},
                            {"OUTPUT", CLI_STR, 1, "the .lfrm model to write", &out, 0, 0},
                            {NULL, CLI_STR, 0, NULL, NULL, 0, 0}};
    const cli_cmd cmd = {"convert", "convert an ONNX/TFLite network to an .lfrm model", opts, args,
                         NULL};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr != CLI_OK) return CLI_EXIT(pr);
    if (meta.n > LFR_MAX_MODEL_META - 4)
        return cli_usage_error(&cmd, "--meta: at most %d entries", LFR_MAX_MODEL_META - 4);
    const char *kv[2 * LFR_MAX_MODEL_META + 1];
    char *owned[LFR_MAX_MODEL_META];
    int nkv = 0, nowned = 0, rc = 0;
    for (int i = 0; i < meta.n; i++) {
        char *s = lfr_strdup(meta.v[i]);
        char *eq = s ? strchr(s, '=') : NULL;
        if (!eq) {
            lfr_free(s);
            rc = cli_usage_error(&cmd, "--meta: '%s' is not key=value", meta.v[i]);
            goto done;
        }
        *eq = 0;
        owned[nowned++] = s;
        kv[nkv++] = s;
        kv[nkv++] = eq + 1;
    }
    kv[nkv] = NULL;
    lfr_err err = {{0}};
    lfr_status st = lfr_convert_file(arch, in, out, kv, &err);
    if (st != LFR_OK) rc = lfr_cli_fail("convert", st, &err);
done:
    for (int i = 0; i < nowned; i++) lfr_free(owned[i]);
    return rc;
}
