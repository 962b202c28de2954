/*
 * limits.h - every hard limit of openlfr in one place, with its reason.
 *
 * A limit protects the van's machine from input that would exhaust memory or
 * time (a hostile upload, a corrupt model file, a runaway camera).  Each
 * value is checked where input enters the system, and each has a test that
 * goes one past it.  Change a value here, never at the point of use.
 */
#ifndef LFR_LIMITS_H
#define LFR_LIMITS_H

/* Images ------------------------------------------------------------------ */

/* Largest image decoded, in pixels.  A 48-megapixel phone photo is 8000x6000;
 * anything bigger is almost certainly a decompression bomb.  At 3 bytes per
 * pixel this bounds one decoded image at 144 MiB. */
#define LFR_MAX_IMAGE_PIXELS (48u * 1000u * 1000u)

/* Largest side of an image, in pixels.  Guards the width*height product and
 * per-row buffers even when the other side is tiny. */
#define LFR_MAX_IMAGE_SIDE 16384

/* Largest encoded image file accepted (JPEG/PNG bytes), 32 MiB: a phone photo
 * is 2-12 MiB; an officer's upload over this size is refused, not truncated. */
#define LFR_MAX_IMAGE_BYTES (32u * 1024u * 1024u)

/* Most scans in one progressive JPEG.  A camera writes about 10; thousands
 * of tiny scans make libjpeg spend minutes on a few-KiB file (the limit
 * TurboJPEG itself uses with TJFLAG_LIMITSCANS). */
#define LFR_MAX_JPEG_SCANS 500

/* Most libjpeg warnings tolerated in one JPEG (e.g. "extraneous bytes before
 * marker", which some cameras really produce).  Past this the file is
 * corrupt; it also bounds the time spent on a file that is mostly warnings. */
#define LFR_MAX_JPEG_WARNINGS 100

/* Largest PNG ancillary chunk (text, ICC profile, ...) libpng will buffer or
 * inflate, 8 MiB (libpng's own default).  Recognition needs none of them. */
#define LFR_MAX_PNG_CHUNK_BYTES (8u * 1024u * 1024u)

/* Neural networks --------------------------------------------------------- */

/* Largest model file, 64 MiB: our four networks are 0.03-5 MiB. */
#define LFR_MAX_MODEL_BYTES (64u * 1024u * 1024u)

/* Most tensors / nodes / metadata entries in one model file.  MobileFaceNet,
 * the largest graph, has ~370 tensors and ~230 nodes before folding. */
#define LFR_MAX_MODEL_TENSORS 4096
#define LFR_MAX_MODEL_NODES 2048
#define LFR_MAX_MODEL_META 64

/* Longest tensor name or metadata key/value, in bytes, terminator included. */
#define LFR_MAX_NAME 128
#define LFR_MAX_META_VALUE 1024

/* Most inputs of one node (concat in the RFB heads takes 4, RFB blocks 3). */
#define LFR_MAX_NODE_INPUTS 8

/* Largest number of elements in one tensor (weights or activations): 2^28
 * floats = 1 GiB; keeps every size product inside size_t and int64. */
#define LFR_MAX_TENSOR_ELEMS (1u << 28)

/* Largest network input side the planner accepts (detector at 4K: 3840). */
#define LFR_MAX_NET_SIDE 4096

/* Largest batch a context is planned for (embedder batches faces of a frame). */
#define LFR_MAX_NET_BATCH 64

/* lfr_face_detect_near: most boxes it looks near; more and the frame is
 * detected in full (its windows would cover more than half the frame long
 * before: 16 windows of 128 px fill half of 960x540). */
#define LFR_FACE_MAX_NEAR 64

/* Converter input (ONNX/TFLite) size, 128 MiB: the largest file in the two
 * pinned packages is 28 MiB. */
#define LFR_MAX_SOURCE_MODEL_BYTES (128u * 1024u * 1024u)

/* Model converter (src/convert) ----------------------------------------- */

/* Most source operators / tensors (ONNX nodes, initializers, attribute
 * tensors; TFLite operators, tensors, buffers) in one converter input.  The
 * largest source graph, MobileFaceNet, has 230 operators and 369 tensors;
 * 8192/16384 leaves room for bigger networks while bounding the work a
 * hostile file can ask for. */
#define LFR_MAX_CONVERT_NODES 8192
#define LFR_MAX_CONVERT_TENSORS 16384

/* Most inputs or outputs of one source operator (RFB's Concats take 4). */
#define LFR_MAX_CONVERT_NODE_IO 16

/* Most attributes of one ONNX node and most integers in one INTS attribute
 * (Conv has 6 attributes; pads has 4 integers). */
#define LFR_MAX_CONVERT_ATTRS 32
#define LFR_MAX_CONVERT_ATTR_INTS 16

/* Most dimensions of a source tensor (ONNX allows any rank; ours is 4). */
#define LFR_MAX_CONVERT_DIMS 8

/* Deepest protobuf message nesting the ONNX reader enters: Model > Graph >
 * ValueInfo > Type > Tensor > Shape > Dimension is 7. */
#define LFR_MAX_CONVERT_DEPTH 12

/* Store, audit log, deployments (src/store, src/audit, src/deploy) -------- */

/* Hard bound on watchlist entries in one deployment.  A watchlist is chosen
 * for one place and one day; published UK deployments use a few thousand to
 * ~16,000 entries.  50,000 x 192 floats = 37 MiB of templates in memory and
 * a 1:N search that still fits one frame budget.  An installation sets its
 * own, lower cap (setting "watchlist.max_entries"); it may never exceed this. */
#define LFR_MAX_WATCHLIST_ENTRIES 50000

/* Default per-installation cap on watchlist entries (the setting above):
 * large enough for published practice, small enough that a mistaken bulk
 * import of a whole custody database is refused. */
#define LFR_DEFAULT_WATCHLIST_CAP 10000

/* Most images (each with its template) for one watchlist entry: a front
 * view, a few recent photos; more is an attempt to widen the match. */
#define LFR_MAX_ENTRY_IMAGES 16

/* Largest template dimension accepted (MobileFaceNet: 192, ArcFace: 512). */
#define LFR_MAX_TEMPLATE_DIM 1024

/* Longest free-text field of a deployment, entry, check or alert, in bytes
 * (terminator included).  A purpose or reason is a paragraph, not a file. */
#define LFR_MAX_TEXT 2048

/* Longest name of a person (officer, actor) or reference, in bytes with the
 * terminator. */
#define LFR_MAX_ACTOR 128

/* Largest JSON "details" of one audit record.  A record describes a decision
 * in a few fields; anything bigger (an image, a template) is refused, because
 * the audit log must never hold biometric data. */
#define LFR_MAX_AUDIT_DETAILS 4096

/* Longest array of numbers allowed in audit details: a list of ids is fine,
 * a 128-512-d embedding is not. */
#define LFR_MAX_AUDIT_NUMBER_ARRAY 32

/* Largest checkpoint file read by `audit verify --checkpoint`, bytes.  A
 * full checkpoint has one 24-30 byte line per audit record, so 64 MiB holds
 * over two million records (years of a van's deployments); past that, keep
 * the compact form (head and signature only). */
#define LFR_MAX_CHECKPOINT_BYTES (64u << 20)

/* Largest difference, seconds, between a deployment row's lifecycle time
 * (authorised_at, started_at, ...) and the time of its audit record: both
 * are read from the store's clock within one transaction, so they agree to
 * the second, or differ by one when the transaction spans a second's
 * boundary; 2 leaves room for a slow disk.  An edit of a row by more than
 * this is caught by lfr_deploy_verify_rows. */
#define LFR_AUDIT_ROW_CLOCK_SLACK_S 2

/* SQLite busy timeout, ms: a second writer (the CLI while the server runs)
 * waits this long for the write lock before failing with a clear error. */
#define LFR_STORE_BUSY_TIMEOUT_MS 5000

/* Largest key file / salt file read, bytes (a key is 32 bytes). */
#define LFR_MAX_KEY_FILE 256

/* Sane range of a deployment's alert threshold (cosine of our 192-d
 * embeddings; src/match/calib_table.h, LFW calibration).  Below 0.55 the
 * false-match rate per comparison passes 1.5e-4 (FMR 1e-4 is at 0.563), so
 * with a 1,000-template watchlist the tool itself predicts a false alert for
 * more than one passer-by in ten: people stopped for nothing.  Above 0.85 no
 * impostor pair of 22 M scored as high, but 84 % of genuine pairs score
 * below it (TAR 0.16): the deployment would intrude on a crowd and miss most
 * of the people it is looking for.  Outside this range a threshold needs an
 * explicit flag (unusual_threshold_ok), recorded in the audit log; <= 0 and
 * >= 1 are refused always (0 or below matches different people). */
#define LFR_THRESHOLD_SANE_MIN 0.55f
#define LFR_THRESHOLD_SANE_MAX 0.85f
/* Both are mfn192 cosines; another model set's sane range is the cosines
 * with the same FMR (lfr_match_cal_sane_range: fused704 0.475..0.790,
 * fused704v2 0.480..0.805; docs/likeness.md "Model sets"). */

/* Watchlist size (templates) a --target-false-alerts threshold is derived
 * for when the deployment is created and no size is given: the list is
 * still empty then.  1,000 images is the size `eval watchlist` and issue
 * 11 measure at; the threshold is derived again for the real size at
 * authorisation. */
#define LFR_DEPLOY_PLANNED_TEMPLATES 1000

/* Largest target of false alerts per 10,000 faces: above 1,000 (one face in
 * ten raising an alert) a target is no longer a limit on intrusion. */
#define LFR_DEPLOY_MAX_TARGET_FALSE_ALERTS 1000.0

/* Most devices named in one alert dispatch: the audit record lists them,
 * and it holds at most LFR_MAX_AUDIT_NUMBER_ARRAY numbers.  A wider
 * dispatch goes to every device of the deployment (all = 1). */
#define LFR_MAX_DISPATCH_DEVICES LFR_MAX_AUDIT_NUMBER_ARRAY

/* Matching (src/match) ----------------------------------------------------- */

/* Most templates in one watchlist snapshot, 2^20 (about a million).  A
 * snapshot holds every template in float32, int8 and int4 (src/match: the
 * quantised scans decide which templates need their float32 score), 5.5
 * bytes a value plus ~21 a row: at 1,000,000 templates 1.09 GB for mfn192
 * (192-d) and 3.91 GB for fused704 (704-d); at the limit with the largest
 * dim (1024) 5.9 GB, inside the 8-16 GB of a van's machine.  The default
 * search reads the int8 copy, 192 MB / 704 MB at 1M: on one core of our
 * (shared) EPYC test machine 15 ms / 62 ms per face alone and 3.7 ms /
 * 7.6 ms per face in batches of 8 (bench/bench_scale.c, bench/README.md),
 * float32 alone 43 ms / 210 ms: about the most a live alert can wait.  A deployment's watchlist is
 * thousands of people (LFR_MAX_WATCHLIST_ENTRIES); a million is a
 * force-wide list, not a live deployment's. */
#define LFR_MAX_WATCHLIST_TEMPLATES (1u << 20)

/* Longest template vector, in floats.  Our embeddings have 192; 1024 covers
 * every common face embedder (128-512) and bounds the probe copy that a
 * search keeps on the stack (LFR_MAX_MATCH_BATCH x 4 KiB). */
#define LFR_MAX_MATCH_DIM 1024

/* Most probes searched in one pass (lfr_match_search_batch): the AVX2 kernel
 * keeps one accumulator register per probe, and 8 of 16 registers leave room
 * for the template and the probe loads. */
#define LFR_MAX_MATCH_BATCH 8

/* Transparency report (src/report) ----------------------------------------- */

/* Most bars of the "alerts over time" chart: the bucket width is the
 * smallest of 1 min .. 1 week that fits the deployment into this many, so
 * a 12-hour deployment gets 15-minute bars and every bar stays readable on
 * an A4 page. */
#define LFR_REPORT_MAX_TIME_BUCKETS 48

/* Most signed checkpoints of one deployment verified in one report (the
 * newest; older ones are counted as not verified).  Each verification
 * walks the log once; a deployment makes about five (authorise, start,
 * end, purge, plus on demand), so 64 is room for many checkpoints on
 * demand while a report stays a few seconds on a long log. */
#define LFR_REPORT_MAX_CHECKPOINTS 64

/* Enrolment and photo checks (src/enrol) ---------------------------------- */

/* Largest bulk-import manifest, 16 MiB: LFR_MAX_WATCHLIST_ENTRIES rows of
 * a few hundred bytes each with room to spare; read whole, so a row's
 * bytes (a NUL too) are all seen. */
#define LFR_MAX_MANIFEST_BYTES (16u * 1024u * 1024u)

/* Longest manifest row, 8 KiB: ten fields, the longest a 2 KiB reason
 * (LFR_MAX_TEXT), fit with room to spare; a longer row is a mistake. */
#define LFR_MAX_MANIFEST_LINE 8192

/* Most '/'-separated components in a manifest row's file name: a folder of
 * photos is a few levels deep at most; bounds the per-component opening. */
#define LFR_MAX_MANIFEST_PATH_DEPTH 16

/* Smallest face a watchlist image may have, 12 px between the eye centres:
 * below it an image is REJECTED (too small to align and describe), above
 * it only warned (LFR_ENROL_WARN_LIST, small, under 20 px).  LFW photos
 * shrunk to under 12 px between the eyes reach the default threshold
 * against a full-size photo of the same person in 25 % of pairs (68 %
 * unshrunk) and the FMR-1e-4 threshold in 65 % (95 %): the aligned crop
 * (eyes 35 px apart) is then enlarged 3x from a face box of about 30 px,
 * the detector's smallest.  From 12 to 16 px the loss is 12 points, from
 * 16 to 20 px 4 (docs/quality.md, "Grades"; `eval_discard synth shrink`). */
#define LFR_ENROL_MIN_EYE_DIST 12.0f

/* Longest stored list of an image's quality warnings (JSON), as long as
 * other stored text: six warnings with their sentences (about 300 bytes
 * each); a longer list is stored without the sentences (kinds, values and
 * cut-offs kept). */
#define LFR_MAX_QUALITY_WARNINGS 2048

/* Video sources (src/video) ------------------------------------------------ */

/* Longest camera URL or path, in bytes with the terminator.  An RTSP URL with
 * credentials and a query string is under 300 bytes. */
#define LFR_VIDEO_MAX_URL 2048

/* Default read timeout, ms: a camera that delivers no data for this long is
 * STALLED and the worker reconnects.  A live camera sends a packet every
 * 40 ms and a key frame every 1-4 s; 5 s rides out a congested link without
 * leaving a dead feed unnoticed for long. */
#define LFR_VIDEO_READ_TIMEOUT_MS 5000

/* Range accepted for the read_timeout_ms option: below 100 ms a healthy
 * stream would look stalled; above 10 minutes nobody would notice it is. */
#define LFR_VIDEO_MIN_READ_TIMEOUT_MS 100
#define LFR_VIDEO_MAX_READ_TIMEOUT_MS 600000

/* Most stream time FFmpeg may read to learn a source's codec parameters
 * (analyzeduration), us.  FFmpeg's default is 5 s; a camera's stream needs
 * one key frame, so 2 s is enough and halves the time to first frame.  Opening
 * a source may take read_timeout + this before it counts as failed. */
#define LFR_VIDEO_ANALYZE_US 2000000

/* Most bytes FFmpeg may read while probing a source, 5 MB (its default):
 * one 4K key frame fits; a stream of garbage stops here. */
#define LFR_VIDEO_PROBE_BYTES 5000000

/* Reconnect backoff, ms: the first retry after 0.5 s (a camera that dropped
 * one TCP connection is back at once), doubling to at most 8 s (a camera
 * rebooting takes 30-90 s; retrying faster only fills the log). */
#define LFR_VIDEO_BACKOFF_MIN_MS 500
#define LFR_VIDEO_BACKOFF_MAX_MS 8000

/* Largest analysis frame rate accepted for the fps option.  Cameras send at
 * most 60 fps; past 240 the option is a mistake, not a choice. */
#define LFR_VIDEO_MAX_FPS 240.0

/* Most frames a camera's mailbox holds for its consumer (opts.queue): a
 * queue longer than a few frames is latency, not smoothing. */
#define LFR_VIDEO_MAX_QUEUE 4

/* Most packets in a row the decoder may reject before the stream counts as
 * broken and the worker reconnects (a file: FAILED).  A damaged stretch of a
 * real stream is a few packets; 250 is 10 s of garbage at 25 fps. */
#define LFR_VIDEO_MAX_BAD_PACKETS 250

/* Live pipeline (src/pipeline) ------------------------------------------- */

/* Most cameras one pipeline (one deployment) analyses: a van's machine
 * has a few cores and a deployment a handful of cameras. */
#define LFR_PIPELINE_MAX_CAMERAS 16

/* Live pipeline: a camera's frames are detected in full every this many
 * analysed frames, near its tracks in between (pipeline.h OVERVIEW:
 * detect).  2: a new face is found at most one frame late; measured in
 * docs/pipeline.md ("Detection near tracks"). */
#define LFR_PIPELINE_DETECT_EVERY 2
/* ... at most (params.detect_every): a new face may wait this many frames
 * less one, 0.3 s at 25 fps. */
#define LFR_PIPELINE_MAX_DETECT_EVERY 8

/* Frames a pipeline camera's mailbox holds (lfr_video_opts.queue; 0 in the
 * caller's options; serve's camera_queue): with 2, one analysis slower than
 * a frame interval (a frame with new faces to embed) no longer cost the
 * next frame, but four 1080p cameras on two cores still dropped 13-15 %
 * through `openlfr serve` when their bursts coincided; 4 dropped 0.5-5 %
 * (bench/serve-cameras.sh, docs/pipeline.md), for at most three frame
 * intervals of latency (120 ms at 25 fps) against an alert budget of
 * 500 ms.  The most the video module allows (LFR_VIDEO_MAX_QUEUE). */
#define LFR_PIPELINE_CAMERA_QUEUE 4

/* Live pipeline: frames still waiting for a camera (after the one taken)
 * at which a full detection that is due waits, at most detect_every
 * analysed frames in a row (pipeline.h OVERVIEW: detect, behind;
 * params.defer_behind).  2
 * of LFR_PIPELINE_CAMERA_QUEUE's 4: the camera is half way to dropping a
 * frame.  Measured in docs/pipeline.md. */
#define LFR_PIPELINE_DEFER_BEHIND 2

/* Live pipeline: most faces one camera embeds in one frame (params.
 * embed_per_frame): with fused704 an embedding costs about as much as the
 * rest of a frame's analysis, so a frame with five new faces took five
 * frame intervals; 2 spreads them.  Measured in docs/pipeline.md. */
#define LFR_PIPELINE_EMBED_PER_FRAME 2

/* Most analysis workers of one pipeline (params.analysis_threads).  A
 * camera is analysed by one worker at a time, so more workers than cameras
 * cannot help; each worker holds one face context (the networks' scratch
 * buffers, a few MB). */
#define LFR_PIPELINE_MAX_ANALYSIS_THREADS LFR_PIPELINE_MAX_CAMERAS

/* How often the analysis workers look at cameras that published nothing
 * since they were last served: to retry their waiting alerts, notice a
 * camera that ended and check the deployment.  Frames themselves wake a
 * worker at once (lfr_video_opts.notify). */
#define LFR_PIPELINE_SWEEP_MS 100

/* Most tracks one camera follows at once (the detector returns at most 64
 * faces per frame, lfr_face_params.max_faces; expired tracks free slots). */
#define LFR_PIPELINE_MAX_TRACKS 128

/* Most watchlist entries one track can be alerting on at once.  A face that
 * matches more than a few entries at the threshold means a threshold that
 * is too low, not more alerts; the best ones are kept. */
#define LFR_PIPELINE_MAX_TRACK_ALERTS 4

/* Most embeddings in one track's template (lfr_template_params.k).  A
 * track embeds at most a handful of faces (the best shots); each kept
 * embedding is 768 bytes per track slot, 8 x 128 slots = 786 KB per camera. */
#define LFR_PIPELINE_MAX_TEMPLATE_K 8

/* Entries remembered per camera for the alert cooldown (the oldest is
 * forgotten first).  More than a day of alerts on one camera. */
#define LFR_PIPELINE_MAX_COOLDOWN 1024

/* Largest event queue for a slow consumer (drop-oldest beyond it). */
#define LFR_PIPELINE_MAX_EVENT_QUEUE 4096

/* Samples in each rolling metric window (median / p95): about 20 s of
 * frames at 25 fps. */
#define LFR_PIPELINE_METRIC_WINDOW 512

/* Alerts one camera holds while the store cannot take them (another
 * process holds the write lock, a full disk).  An alert is a few tens of
 * KB (its face crop); 256 is far more than a minute of a busy camera.  A
 * full queue pauses that camera's analysis rather than dropping one. */
#define LFR_PIPELINE_MAX_PENDING_ALERTS 256

/* Retry of a waiting alert: first after 200 ms, doubling to 5 s.  Each try
 * itself waits up to the store's busy timeout. */
#define LFR_PIPELINE_ALERT_RETRY_MIN_MS 200
#define LFR_PIPELINE_ALERT_RETRY_MAX_MS 5000

/* An alert still waiting this long is logged at ERROR level (WARN before):
 * operators are not seeing it. */
#define LFR_PIPELINE_ALERT_ERROR_AFTER_S 10

/* When a pipeline halts, how long it keeps trying to store the alerts
 * still waiting before it reports them lost: longer than the store's busy
 * timeout (LFR_STORE_BUSY_TIMEOUT_MS) plus a long write by another
 * process. */
#define LFR_PIPELINE_ALERT_FLUSH_MS 30000

/* How often a live pipeline re-verifies the watchlist against the digest
 * recorded at authorisation (a hash of every template: cheap, but not per
 * frame).  Changes made through the app are pushed at once anyway. */
#define LFR_PIPELINE_VERIFY_S 30

/* The operator's live view (lfr_pipeline_preview, src/pipeline/preview.c).
 * Longest side of a live-view frame, px: enough to see on a console tile
 * which faces are boxed, far below what identifies anyone reliably (alerts
 * carry the full-resolution crop); downscaling a 1080p frame to it costs
 * about 2 ms and encoding it a few ms, once per kept frame. */
#define LFR_MAX_PREVIEW_SIDE 640
/* Default of params.preview_ms: a new live-view frame at most twice a
 * second per camera.  The console refreshes once a second; a faster view
 * is CCTV, which is not this tool's job, and costs the analysis thread. */
#define LFR_PIPELINE_PREVIEW_MS 500
/* Frames are kept for the live view only while somebody watches: this
 * long after the last request (the console asks every second; 10 s rides
 * out a slow network).  Afterwards the kept frame is wiped. */
#define LFR_PREVIEW_WATCH_S 10
/* JPEG quality of a live-view frame (a view, not evidence). */
#define LFR_PREVIEW_JPEG_QUALITY 75

/* Accounts, sessions, devices (src/account) ------------------------------- */
/* Passwords, bytes.  At least 12: the NCSC's "three random words" are
 * longer, and a stolen database copy lets an attacker guess offline (each
 * guess costs one argon2id, ~0.2 s here, so length is what keeps it out of
 * reach).  At most 256: a passphrase fits; longer input is not a person
 * typing and only makes each hash costlier to compute. */
#define LFR_MIN_PASSWORD 12
#define LFR_MAX_PASSWORD 256

/* Wrong passwords in a row an account may type before it must wait, and
 * the waits that follow: LFR_LOGIN_BACKOFF_MIN_S after the 5th, doubling
 * with each further failure (5, 10, 20, ... s) up to LFR_LOGIN_LOCKOUT_S,
 * where it stays until the right password is typed after a wait.  An
 * online guesser gets 5 tries, then about one every 15 minutes (96 a day);
 * a person who mistypes a few times is not held up at all.  While an
 * account must wait, attempts are refused without checking the password. */
#define LFR_LOGIN_FREE_FAILURES 5
#define LFR_LOGIN_BACKOFF_MIN_S 5
#define LFR_LOGIN_LOCKOUT_S 900

/* Lifetime of a sign-in session when the setting "session.ttl_s" is not
 * set: one shift (12 h); the app writes its configured session_ttl_s there. */
#define LFR_SESSION_TTL_S 43200

/* Lifetime of a device pairing code when the setting "pair_code.ttl_s" is
 * not set: 10 minutes, time to scan it, never hours (a code photographed on
 * a screen is worth nothing after that). */
#define LFR_PAIR_CODE_TTL_S 600

/* A device's last_seen_at is written at most once per this many seconds,
 * so authenticating every request of a busy device costs no write. */
#define LFR_DEVICE_SEEN_EVERY_S 60

/* Longest server URL and CA fingerprint put in a pairing QR code.  The
 * payload then stays well inside version 40 at level M (2,331 bytes). */
#define LFR_PAIR_MAX_URL 512
#define LFR_PAIR_MAX_FINGERPRINT 160

/* Application core (src/app) ---------------------------------------------- */
/* Longest configuration value (a path or an address), terminator included. */
#define LFR_MAX_CONFIG_VALUE 1024

/* Events kept for readers that reconnect (Last-Event-ID): about an hour of
 * a busy deployment's alerts, decisions and camera states. */
#define LFR_EVENT_HISTORY 4096

/* Largest configuration file read, 64 KiB: the table has about thirty
 * options; a bigger file is not a configuration. */
#define LFR_MAX_CONFIG_FILE (64u * 1024u)

/* Longest string argument that is not person's text (passwords, codes,
 * camera URLs, paths), bytes with the terminator: a camera URL is at most
 * LFR_VIDEO_MAX_URL, a path at most PATH_MAX (4096). */
#define LFR_APP_MAX_STRING_ARG 4096

/* Most elements of an array argument (device ids of a dispatch, roles):
 * a dispatch names at most LFR_MAX_DISPATCH_DEVICES; anything longer is
 * not a person's choice. */
#define LFR_APP_MAX_ARRAY_ARG 64

/* Most rows of one watchlist.import over HTTP: the body holds them all in
 * memory (LFR_HTTP_MAX_IMPORT_BODY, about 30 phone photos; smaller ones
 * more).  A bigger list is imported in several requests. */
#define LFR_APP_MAX_IMPORT_ROWS 1000

/* Rows of a list answer when the caller gives no limit (alerts, checks),
 * and the audit records of audit.show without a limit: a page, not the
 * whole table. */
#define LFR_APP_DEFAULT_LIST 100
#define LFR_APP_DEFAULT_AUDIT_LIST 1000

/* (more limits of src/app go here) */

/* HTTPS server (src/http) --------------------------------------------------- */
/* Largest JSON request body, 64 KiB: a deployment, an amendment or a
 * decision with its note is a few KiB; a bigger one is not a person's
 * input.  Checked from Content-Length before reading and while reading. */
#define LFR_HTTP_MAX_JSON_BODY (64u * 1024u)

/* Largest body of POST .../watchlist (JSON carrying one base64 image): the
 * largest image accepted (LFR_MAX_IMAGE_BYTES) in base64 (4/3) plus the
 * JSON around it. */
#define LFR_HTTP_MAX_IMAGE_JSON_BODY (LFR_MAX_IMAGE_BYTES / 3u * 4u + 64u * 1024u)

/* Largest body of a bulk watchlist import, 96 MiB: about 30 phone-sized
 * photos in base64.  A bigger watchlist is imported in several requests;
 * the body is held in memory while it is read. */
#define LFR_HTTP_MAX_IMPORT_BODY (96u * 1024u * 1024u)

/* Deepest JSON nesting accepted in a request body.  Our requests are at
 * most 3 deep (object > array > object); jansson's own limit is 2048, far
 * past what a hostile body needs to waste stack and time. */
#define LFR_HTTP_MAX_JSON_DEPTH 16

/* Most path parameters in one route pattern ({deployment_id}, ...). */
#define LFR_HTTP_MAX_PATH_PARAMS 4

/* Longest request path, bytes: our longest route is about 60 characters. */
#define LFR_HTTP_MAX_PATH 1024

/* Most query parameters merged into an operation's arguments. */
#define LFR_HTTP_MAX_QUERY_PARAMS 16

/* Slots of the per-token request counter (requests_per_min): one per
 * signed-in client of the last minute; a van has tens.  When full, the
 * oldest minute's slot is reused, so the table cannot grow. */
#define LFR_HTTP_RATE_SLOTS 4096

/* Seconds between SSE heartbeats (a comment line); each also re-checks the
 * stream's token, so a logged-out or expired session's stream ends within
 * this.  Below the smallest client_timeout_s (5 s is the minimum: the
 * server uses the smaller of this and half the timeout). */
#define LFR_HTTP_SSE_HEARTBEAT_S 15

/* Events sent to one stream per wake-up (a reader resuming from an old
 * Last-Event-ID gets the rest on the next wake-up). */
#define LFR_HTTP_SSE_BATCH 64

/* Connections beyond the configured max_streams (API requests, uploads).
 * One thread each (thread per connection): 64 more is well within the
 * machine's thread limits and more than a van's devices send at once. */
#define LFR_HTTP_EXTRA_CONNECTIONS 64

/* Largest static file served from web_root, 16 MiB (the console's bundle
 * is well below; anything bigger does not belong there). */
#define LFR_HTTP_MAX_STATIC_FILE (16u * 1024u * 1024u)

/* Validity of the van's CA (10 years) and of the server certificate it
 * issues (2 years; reissued automatically within 30 days of expiry, or
 * when the listen address is not among its names). */
#define LFR_TLS_CA_DAYS 3650
#define LFR_TLS_CERT_DAYS 730
#define LFR_TLS_RENEW_DAYS 30

/* Largest certificate or key file read (PEM), 64 KiB. */
#define LFR_TLS_MAX_PEM 65536

/* Evaluation report (src/cli/cmd_eval_report.c) ---------------------------- */
/* A rate is judged (a group's FMR / FNMR / miss rate, a TAR at a FAR) only
 * when its sample would show 10 errors at the overall rate: the rule eval
 * openset uses for "measurable" (1 to 9: rough; under 1: not measurable). */
#define LFR_EVAL_JUDGE_MIN_ERRORS 10
/* Points of the DET curve: FMR 1e-7..1, log-spaced (10 a decade), enough
 * for a smooth curve, few enough to read in report.json. */
#define LFR_EVAL_DET_POINTS 70

/* Evaluation runs from the console (src/app/ops_eval.c) --------------------- */
/* Progress lines of a running evaluation kept for eval.status (the rest
 * are in the run's progress.log): enough for the console to show what it
 * is doing and the lines before an error. */
#define LFR_EVAL_RUN_LINES 12
/* Longest progress line kept, bytes (longer ones are cut): the open-set
 * command line with its paths is the longest the child prints. */
#define LFR_EVAL_LINE_MAX 1024
/* Runs listed by eval.status, newest first: a van keeps few, the folders
 * stay on disk either way. */
#define LFR_EVAL_MAX_RUNS_LISTED 50
/* Largest --sample: the CLI's own bound (every 1000th person / image). */
#define LFR_EVAL_MAX_SAMPLE 1000
/* The console's quick run: every 40th person / image, rough figures in
 * minutes (--sample 10 took 240 s on a shared 2-core VM,
 * tools/make-examples.sh; a full run, 1, is the longest). */
#define LFR_EVAL_QUICK_SAMPLE 40
/* The run's nice value: the live cameras of a deployment come first. */
#define LFR_EVAL_NICE 10
/* Largest report file served (index.html with its inline SVG charts is
 * about 0.5 MiB; report.json less). */
#define LFR_EVAL_MAX_FILE (16u * 1024u * 1024u)


#endif
