/*
 * cmd_demo.c - `openlfr demo --out DIR IMAGE...`: the first, offline view
 * of the product.  Finds every face in the photos, writes an annotated copy
 * of each (boxes, landmarks, scores), the aligned 112x112 crop of every
 * face, and DIR/index.html: each face with its most alike faces in the
 * other photos, by cosine similarity.  Prints where everything is.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "face/face.h"
#include "opt.h"

typedef struct {
    int photo;
    lfr_face f;
    float emb[LFR_FACE_EMB_DIM];
} demo_face;

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void html_escape(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

int lfr_cmd_demo(int argc, char **argv) {
    const char *out = NULL;
    cli_list images = {{0}, NULL, 0};
    const cli_opt opts[] = {
        {"out", CLI_STR, 1, "DIR", "where the annotated photos, crops and index.html go", &out, 0, 0},
        CLI_END};
    const cli_arg args[] = {{"IMAGE", CLI_LIST, 1, "JPEG or PNG photos (at most 256)", &images, 0, 0},
                            {NULL, CLI_STR, 0, NULL, NULL, 0, 0}};
    const cli_cmd cmd = {"demo", "annotate photos and show which faces are most alike (HTML)", opts,
                         args, NULL};
    int parsed = cli_parse(&cmd, argc, argv);
    if (parsed != CLI_OK) return CLI_EXIT(parsed);
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "openlfr: demo: cannot create %s\n", out);
        return 1;
    }
    lfr_err err = {{0}};
    lfr_face_engine *eng = NULL;
    lfr_face_ctx *ctx = NULL;
    lfr_status st;
    if (lfr_cli_face_load(&eng, &ctx)) return 1;
    demo_face *all = NULL;
    int nall = 0, nphotos = 0, rc = 0;
    const char *photos[256];
    char path[4096];
    for (int i = 0; i < images.n && nphotos < 256; i++) {
        const char *img = images.v[i];
        lfr_image im = {0};
        st = lfr_image_load(img, &im, &err);
        if (st != LFR_OK) {
            lfr_cli_fail(img, st, &err);
            rc = 1;
            continue;
        }
        int pi = nphotos;
        photos[nphotos++] = img;
        lfr_face *faces;
        int n = 0;
        uint64_t t0 = lfr_now_ns();
        st = lfr_face_detect(ctx, &im, NULL, &faces, &n, &err);
        float *emb = n ? lfr_malloc(sizeof(float) * LFR_FACE_EMB_DIM * (size_t)n) : NULL;
        if (st == LFR_OK && n) st = lfr_face_embed(ctx, &im, faces, n, emb, &err);
        double ms = (lfr_now_ns() - t0) / 1e6;
        if (st != LFR_OK) {
            lfr_cli_fail(img, st, &err);
            rc = 1;
            n = 0;
        }
        printf("%s: %dx%d, %d face(s) in %.0f ms\n", img, im.w, im.h, n, ms);
        all = realloc(all, sizeof *all * (size_t)(nall + n + 1));
        lfr_image ann = {0};
        lfr_image_clone(&im, &ann);
        int thick = im.w > 1000 ? 4 : 2, ts = im.w > 1000 ? 3 : 1;
        for (int k = 0; k < n; k++) {
            demo_face *d = &all[nall++];
            d->photo = pi;
            d->f = faces[k];
            memcpy(d->emb, emb + (size_t)k * LFR_FACE_EMB_DIM, sizeof d->emb);
            const lfr_face *f = &faces[k];
            lfr_image_draw_rect(&ann, (int)f->box[0], (int)f->box[1], (int)f->box[2],
                                (int)f->box[3], 40, 220, 60, thick);
            for (int q = 0; q < 5; q++)
                lfr_image_draw_dot(&ann, (int)f->lm[q][0], (int)f->lm[q][1], thick + 1, 255,
                                   60, 40);
            char label[64];
            snprintf(label, sizeof label, "#%d %.2f", nall - 1, f->score);
            lfr_image_draw_text(&ann, (int)f->box[0], (int)f->box[1] - 9 * ts, label, ts, 255,
                                255, 0);
            printf("  face #%d: box %.0f,%.0f %.0fx%.0f score %.3f eyes %.0f px\n", nall - 1,
                   f->box[0], f->box[1], f->box[2], f->box[3], f->score, f->q.eye_dist);
            lfr_image crop = {0};
            if (lfr_face_align(&im, f, &crop) == LFR_OK) {
                snprintf(path, sizeof path, "%s/face%d.jpg", out, nall - 1);
                lfr_image_write(&crop, path, 90);
            }
            lfr_image_free(&crop);
        }
        snprintf(path, sizeof path, "%s/annotated-%s", out, base_name(img));
        size_t l = strlen(path);
        if (l > 4 && strcmp(path + l - 4, ".png") && strcmp(path + l - 4, ".jpg"))
            snprintf(path + l, sizeof path - l, ".jpg");
        if (lfr_image_write(&ann, path, 85) == LFR_OK) printf("  annotated: %s\n", path);
        lfr_image_free(&ann);
        lfr_image_free(&im);
        lfr_free(emb);
    }
    snprintf(path, sizeof path, "%s/index.html", out);
    FILE *h = fopen(path, "w");
    if (!h) {
        fprintf(stderr, "openlfr: demo: cannot write %s\n", path);
        rc = 1;
    } else {
        fprintf(h, "<!doctype html><meta charset=utf-8><title>openlfr demo</title>"
                   "<style>body{font:14px system-ui;margin:2em;background:#111;color:#eee}"
                   "img{border-radius:4px}td{padding:4px 10px;vertical-align:middle}"
                   ".s{font-weight:bold}.hi{color:#6f6}.lo{color:#aaa}</style>"
                   "<h1>openlfr demo: which faces are most alike</h1>"
                   "<p>%d photos, %d faces. Similarity is the cosine of MobileFaceNet "
                   "embeddings of 5-point aligned faces; same-person pairs typically score "
                   "above 0.5, different people below 0.3. This page is a demonstration of "
                   "the engine, not a decision: in the product every alert is checked by a "
                   "person.</p><table>", nphotos, nall);
        for (int a = 0; a < nall; a++) {
            fprintf(h, "<tr><td><img src=face%d.jpg width=80><br>#%d ", a, a);
            html_escape(h, base_name(photos[all[a].photo]));
            fprintf(h, "</td>");
            /* Top 3 most similar faces in other photos. */
            int best[3] = {-1, -1, -1};
            float bs[3] = {-2, -2, -2};
            for (int b = 0; b < nall; b++) {
                if (all[b].photo == all[a].photo) continue;
                float s = lfr_face_similarity(all[a].emb, all[b].emb);
                for (int k = 0; k < 3; k++)
                    if (s > bs[k]) {
                        for (int m = 2; m > k; m--) bs[m] = bs[m - 1], best[m] = best[m - 1];
                        bs[k] = s, best[k] = b;
                        break;
                    }
            }
            for (int k = 0; k < 3 && best[k] >= 0; k++)
                fprintf(h, "<td><img src=face%d.jpg width=64><br><span class='s %s'>%.3f</span> #%d</td>",
                        best[k], bs[k] > 0.5f ? "hi" : "lo", bs[k], best[k]);
            fprintf(h, "</tr>\n");
        }
        fprintf(h, "</table><h2>Annotated photos</h2>");
        for (int p = 0; p < nphotos; p++) {
            fprintf(h, "<p><img src='annotated-");
            html_escape(h, base_name(photos[p]));
            fprintf(h, "' style='max-width:100%%'></p>");
        }
        fclose(h);
        printf("demo page: %s\n", path);
    }
    free(all);
    lfr_cli_face_unload(eng, ctx);
    return rc;
}
