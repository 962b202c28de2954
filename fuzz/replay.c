/*
 * replay.c - runs a libFuzzer target's LLVMFuzzerTestOneInput over every
 * file named on the command line (or every file in the directories named),
 * so `make test` replays the committed corpus under the normal compiler
 * and, with SANITIZE=1, under ASan/UBSan.  Prints "replay: N passed, 0 failed";
 * a crash is a failure by itself.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) { free(buf); fclose(f); return -1; }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    int n = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) { bad++; continue; }
        if (!S_ISDIR(st.st_mode)) {
            if (replay_file(argv[i]) == 0) n++; else bad++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) { bad++; continue; }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", argv[i], e->d_name);
            if (replay_file(p) == 0) n++; else bad++;
        }
        closedir(d);
    }
    printf("replay %s: %d passed, %d failed\n", argc > 1 ? argv[1] : "", n, bad);
    return bad ? 1 : (n == 0 ? 1 : 0);
}
