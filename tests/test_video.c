/*
 * test_video.c - tests of src/video: file decode, working size, loop,
 * realtime pacing, analysis rate, newest-frame-wins, a stream that drops and
 * comes back (ffmpeg serving MPEG-TS over HTTP on 127.0.0.1), MJPEG over
 * HTTP, garbage and truncated input, wrong URLs, prompt stop.
 *
 * Clips are made at test time with the ffmpeg CLI (lavfi testsrc) in a
 * temporary directory; no video is stored in the repository.  With
 * OPENLFR_DATA, the shared clips (mp4, raw .h264/.h265) are opened too.
 * Every wait is bounded; an alarm ends the run (and its ffmpeg children) if
 * anything hangs.  Only 127.0.0.1 is ever used.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "video/video.h"

extern char **environ;

static char dir[256];            /* temporary directory */
static char clip_mp4[320], clip_ts[320], garbage_ts[320], trunc_mp4[320], trunc_ts[320];
static int have_ffmpeg;

/* Children ------------------------------------------------------------------ */

#define MAX_KIDS 16
static volatile pid_t kids[MAX_KIDS];

static void kid_add(pid_t p) {
    for (int i = 0; i < MAX_KIDS; i++)
        if (!kids[i]) { kids[i] = p; return; }
}
static void kid_kill(pid_t p) {
    if (p <= 0) return;
    kill(p, SIGCONT);
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    for (int i = 0; i < MAX_KIDS; i++)
        if (kids[i] == p) kids[i] = 0;
}
static void kill_all_kids(void) {
    for (int i = 0; i < MAX_KIDS; i++)
        if (kids[i] > 0) { kill(kids[i], SIGCONT); kill(kids[i], SIGKILL); }
}
static void on_alarm(int sig) {
    (void)sig;
    static const char m[] = "test_video: time limit reached, giving up\n";
    kill_all_kids();
    if (write(2, m, sizeof m - 1) < 0) { /* nothing to do */ }
    _exit(1);
}

static pid_t spawn(char *const argv[]) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t p = 0;
    int e = posix_spawnp(&p, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e) return -1;
    kid_add(p);
    return p;
}

/* Runs argv to completion (at most limit_s seconds); 0 on exit status 0. */
static int run(char *const argv[], int limit_s) {
    pid_t p = spawn(argv);
    if (p < 0) return -1;
    uint64_t end = lfr_now_ns() + (uint64_t)limit_s * 1000000000ull;
    for (;;) {
        int st;
        pid_t r = waitpid(p, &st, WNOHANG);
        if (r == p) {
            for (int i = 0; i < MAX_KIDS; i++)
                if (kids[i] == p) kids[i] = 0;
            return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
        }
        if (lfr_now_ns() > end) { kid_kill(p); return -1; }
        usleep(10000);
    }
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
}

/* A free TCP port on 127.0.0.1 (bound, read, released). */
static int free_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    int port = -1;
    if (bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    close(s);
    return port;
}

/* A listening socket on 127.0.0.1 (port out). */
static int listen_local(int *port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 8) ||
        getsockname(s, (struct sockaddr *)&a, &l)) {
        close(s);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return s;
}

/* Files --------------------------------------------------------------------- */

static int write_random(const char *path, size_t n, uint32_t seed) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    for (size_t i = 0; i < n; i++) {
        seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;
        fputc((int)(seed & 0xff), f);
    }
    return fclose(f);
}

static int copy_prefix(const char *src, const char *dst, double frac) {
    uint8_t *d = NULL;
    size_t n = 0;
    if (lfr_read_file(src, 64u << 20, &d, &n) != LFR_OK) return -1;
    FILE *f = fopen(dst, "wb");
    if (!f) { lfr_free(d); return -1; }
    fwrite(d, 1, (size_t)(n * frac), f);
    lfr_free(d);
    return fclose(f);
}

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/lfr_video_XXXXXX");
    if (!mkdtemp(dir)) { dir[0] = '\0'; return; }
    snprintf(clip_mp4, sizeof clip_mp4, "%s/clip.mp4", dir);
    snprintf(clip_ts, sizeof clip_ts, "%s/clip.ts", dir);
    snprintf(garbage_ts, sizeof garbage_ts, "%s/garbage.ts", dir);
    snprintf(trunc_mp4, sizeof trunc_mp4, "%s/trunc.mp4", dir);
    snprintf(trunc_ts, sizeof trunc_ts, "%s/trunc.ts", dir);
    /* 4 s, 25 fps = 100 frames, a key frame every second */
    char *mk[] = {"ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                  "testsrc=size=640x360:rate=25", "-t", "4", "-pix_fmt", "yuv420p",
                  "-c:v", "libx264", "-preset", "veryfast", "-g", "25", clip_mp4, NULL};
    char *ts[] = {"ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", clip_mp4,
                  "-c", "copy", "-f", "mpegts", clip_ts, NULL};
    have_ffmpeg = run(mk, 60) == 0 && run(ts, 30) == 0;
    write_random(garbage_ts, 1 << 20, 7);
    if (have_ffmpeg) {
        copy_prefix(clip_mp4, trunc_mp4, 0.5);  /* moov is at the end: unreadable */
        copy_prefix(clip_ts, trunc_ts, 0.5);    /* MPEG-TS: the first half plays */
    }
}

static void teardown(void) {
    const char *files[] = {clip_mp4, clip_ts, garbage_ts, trunc_mp4, trunc_ts};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if (files[i][0]) unlink(files[i]);
    if (dir[0]) rmdir(dir);
}

/* Video packets in a file, as ffprobe counts them (-1 on failure). */
static long video_packets(const char *path) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ffprobe -v quiet -select_streams v:0 -count_packets -show_entries "
             "stream=nb_read_packets -of csv=p=0 '%s'", path);
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    long n = -1;
    if (fscanf(f, "%ld", &n) != 1) n = -1;
    pclose(f);
    return n;
}

/* Camera helpers ------------------------------------------------------------ */

static lfr_cam_state state_of(lfr_camera *c) {
    lfr_cam_stats s;
    lfr_camera_stats_get(c, &s);
    return s.state;
}

/* Waits until the state is one of mask (1 << state); returns it, or -1. */
static int wait_state(lfr_camera *c, unsigned mask, int timeout_ms) {
    uint64_t end = lfr_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    do {
        lfr_cam_state s = state_of(c);
        if (mask & (1u << s)) return (int)s;
        sleep_ms(10);
    } while (lfr_now_ns() < end);
    return -1;
}
#define ST(x) (1u << LFR_CAM_##x)

/* Takes frames until the camera says it is done (or max/limit).  Returns the
 * count; checks seq/pts order and size. */
static int take_all(lfr_camera *c, int max, int limit_ms, int w, int h, uint64_t *gaps) {
    uint64_t end = lfr_now_ns() + (uint64_t)limit_ms * 1000000ull, prev = 0;
    int64_t prev_pts = -1;
    int n = 0;
    if (gaps) *gaps = 0;
    while (n < max && lfr_now_ns() < end) {
        lfr_frame f;
        lfr_status s = lfr_camera_next(c, &f, 200);
        if (s == LFR_ERR_TIMEOUT) continue;
        if (s != LFR_OK) break;
        if (w) CHECK_EQ_INT(f.img.w, w);
        if (h) CHECK_EQ_INT(f.img.h, h);
        CHECK(f.seq > prev);
        CHECK(f.pts_us > prev_pts);
        if (gaps && prev) *gaps += f.seq - prev - 1;
        prev = f.seq;
        prev_pts = f.pts_us;
        lfr_image_free(&f.img);
        n++;
    }
    return n;
}

static lfr_camera *start(const lfr_video_opts *o) {
    lfr_camera *c = NULL;
    lfr_err err = {{0}};
    lfr_status s = lfr_camera_start(o, &c, &err);
    if (s != LFR_OK) fprintf(stderr, "  start %s: %s: %s\n", o->url, lfr_status_str(s), err.msg);
    CHECK_STATUS(s, LFR_OK);
    return c;
}

/* Tests ----------------------------------------------------------------------- */

static void test_names_and_options(void) {
    CHECK(!strcmp(lfr_cam_state_name(LFR_CAM_LIVE), "live"));
    CHECK(!strcmp(lfr_cam_state_name(LFR_CAM_ENDED), "ended"));
    CHECK(!strcmp(lfr_status_str(LFR_ERR_TIMEOUT), "ERR_TIMEOUT"));
    /* credentials leave names whole, up to the last '@' before the path */
    static const char *red[][2] = {
        {"rtsp://u:p@cam/s1", "rtsp://cam/s1"},
        {"rtsp://u:Pa@ss@10.0.0.5:554/s1?x=a@b", "rtsp://10.0.0.5:554/s1?x=a@b"},
        {"http://cam/path@x", "http://cam/path@x"},
        {"/videos/a@b.mp4", "/videos/a@b.mp4"}};
    for (size_t i = 0; i < sizeof red / sizeof red[0]; i++) {
        char out[128];
        lfr_video_url_redact(red[i][0], out, sizeof out);
        CHECK(!strcmp(out, red[i][1]));
    }
    lfr_camera *c = (lfr_camera *)1;
    lfr_err err = {{0}};
    lfr_video_opts o = {0};
    CHECK_STATUS(lfr_camera_start(&o, &c, &err), LFR_ERR_INVALID_ARG);
    CHECK(c == NULL);
    o.url = "x.mp4";
    o.width = -1;
    CHECK_STATUS(lfr_camera_start(&o, &c, &err), LFR_ERR_INVALID_ARG);
    o.width = LFR_MAX_IMAGE_SIDE + 1;
    CHECK_STATUS(lfr_camera_start(&o, &c, &err), LFR_ERR_TOO_LARGE);
    o.width = 0;
    o.fps = -1;
    CHECK_STATUS(lfr_camera_start(&o, &c, &err), LFR_ERR_INVALID_ARG);
    o.fps = NAN;
    CHECK_STATUS(lfr_camera_start(&o, &c, &err), LFR_ERR_INVALID_ARG);
    o.fps = 0;
    o.read_timeout_ms = 5;
    CHECK_STATUS(lfr_camera_start(&o, &c, &err), LFR_ERR_INVALID_ARG);
    o.read_timeout_ms = 0;
    o.max_reconnects = -1;
    CHECK_STATUS(lfr_camera_start(&o, &c, &err), LFR_ERR_INVALID_ARG);
    o.max_reconnects = 0;
    o.queue = -1;
    CHECK_STATUS(lfr_camera_start(&o, &c, &err), LFR_ERR_INVALID_ARG);
    o.queue = LFR_VIDEO_MAX_QUEUE + 1;
    CHECK_STATUS(lfr_camera_start(&o, &c, &err), LFR_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "queue") != NULL);
    o.queue = 0;
    CHECK_EQ_INT(lfr_camera_waiting(NULL, NULL), 0);
    static char longurl[LFR_VIDEO_MAX_URL + 8];
    memset(longurl, 'a', sizeof longurl - 1);
    o.url = longurl;
    CHECK_STATUS(lfr_camera_start(&o, &c, &err), LFR_ERR_TOO_LARGE);
    CHECK(c == NULL);
    lfr_frame f;
    CHECK_STATUS(lfr_camera_next(NULL, &f, 0), LFR_ERR_INVALID_ARG);
    lfr_camera_stop(NULL);
}

/* Our first frame against the ffmpeg CLI's own YUV -> RGB conversion
 * (both BT.601 limited range for an untagged SD clip). */
static void compare_with_ffmpeg(const lfr_image *im) {
    char raw[340];
    snprintf(raw, sizeof raw, "%s/first.rgb", dir);
    char *argv[] = {"ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", clip_mp4, "-frames:v", "1",
                    "-f", "rawvideo", "-pix_fmt", "rgb24", raw, NULL};
    CHECK_EQ_INT(run(argv, 30), 0);
    uint8_t *d = NULL;
    size_t n = 0;
    CHECK_STATUS(lfr_read_file(raw, 16u << 20, &d, &n), LFR_OK);
    unlink(raw);
    CHECK_EQ_INT(n, (size_t)im->w * im->h * 3);
    if (n != (size_t)im->w * im->h * 3) { lfr_free(d); return; }
    double sum = 0;
    int worst = 0;
    for (size_t i = 0; i < n; i++) {
        int df = abs((int)d[i] - (int)im->px[i]);
        sum += df;
        if (df > worst) worst = df;
    }
    fprintf(stderr, "  vs ffmpeg rgb24: mean |diff| %.3f, max %d\n", sum / n, worst);
    CHECK(sum / n < 1.5);
    lfr_free(d);
}

/* Every frame of a file (wait_consumer), size, seq, pts, content, ENDED. */
static void test_file_decode(void) {
    if (!have_ffmpeg) SKIP("ffmpeg CLI missing: cannot make test clips");
    lfr_video_opts o = {.url = clip_mp4, .wait_consumer = 1};
    lfr_camera *c = start(&o);
    if (!c) return;
    uint64_t prev = 0;
    int n = 0, varied = 0;
    int64_t last_pts = -1;
    for (int i = 0; i < 500; i++) {
        lfr_frame f;
        lfr_status s = lfr_camera_next(c, &f, 5000);
        if (s == LFR_ERR_STATE) break;
        CHECK_STATUS(s, LFR_OK);
        if (s != LFR_OK) break;
        CHECK_EQ_INT(f.img.w, 640);
        CHECK_EQ_INT(f.img.h, 360);
        CHECK_EQ_INT(f.seq, prev + 1);
        if (n == 0) CHECK_EQ_INT(f.pts_us, 0);
        else CHECK_NEAR(f.pts_us - last_pts, 40000, 1000);
        CHECK(f.capture_ns > 0 && f.capture_ns <= lfr_now_ns());
        if (n == 0) compare_with_ffmpeg(&f.img);
        /* testsrc: colour bars, not one flat colour */
        if (f.img.px[0] != f.img.px[(size_t)(f.img.w / 2) * 3] ||
            f.img.px[1] != f.img.px[(size_t)(f.img.w / 2) * 3 + 1])
            varied++;
        prev = f.seq;
        last_pts = f.pts_us;
        lfr_image_free(&f.img);
        n++;
    }
    CHECK_EQ_INT(n, 100);
    CHECK(varied == n);
    lfr_cam_stats st;
    lfr_camera_stats_get(c, &st);
    CHECK_EQ_INT(st.state, LFR_CAM_ENDED);
    CHECK_EQ_INT(st.decoded, 100);
    CHECK_EQ_INT(st.published, 100);
    CHECK_EQ_INT(st.dropped, 0);
    CHECK_EQ_INT(st.src_w, 640);
    CHECK_EQ_INT(st.src_h, 360);
    CHECK_NEAR(st.src_fps, 25, 0.01);
    CHECK(!strcmp(st.codec, "h264"));
    lfr_frame f;
    CHECK_STATUS(lfr_camera_next(c, &f, 100), LFR_ERR_STATE);
    CHECK(f.img.px == NULL);
    lfr_camera_stop(c);

    /* The same file without wait_consumer: as fast as it decodes; whatever
     * the consumer misses is counted as dropped. */
    lfr_video_opts o2 = {.url = clip_mp4};
    c = start(&o2);
    if (!c) return;
    int got = take_all(c, 1000, 10000, 640, 360, NULL);
    lfr_camera_stats_get(c, &st);
    CHECK_EQ_INT(st.state, LFR_CAM_ENDED);
    CHECK_EQ_INT(st.decoded, 100);
    CHECK_EQ_INT(st.published, 100);
    CHECK_EQ_INT(st.taken, (uint64_t)got);
    CHECK_EQ_INT(st.published, st.taken + st.dropped);
    lfr_camera_stop(c);
}

static void test_working_size(void) {
    if (!have_ffmpeg) SKIP("ffmpeg CLI missing");
    struct { int w, h, ew, eh; } cases[] = {{320, 0, 320, 180}, {0, 90, 160, 90}, {100, 100, 100, 100},
                                          {333, 0, 333, 187}, {0, 0, 640, 360}, {1280, 0, 1280, 720}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lfr_video_opts o = {.url = clip_ts, .width = cases[i].w, .height = cases[i].h, .wait_consumer = 1};
        lfr_camera *c = start(&o);
        if (!c) return;
        int n = take_all(c, 10, 5000, cases[i].ew, cases[i].eh, NULL);
        CHECK_EQ_INT(n, 10);
        lfr_cam_stats st;
        lfr_camera_stats_get(c, &st);
        CHECK_EQ_INT(st.out_w, cases[i].ew);
        CHECK_EQ_INT(st.out_h, cases[i].eh);
        lfr_camera_stop(c);
    }
}

/* loop: more frames than the file has, seq and pts continue. */
static void test_loop(void) {
    if (!have_ffmpeg) SKIP("ffmpeg CLI missing");
    lfr_video_opts o = {.url = clip_mp4, .loop = 1, .wait_consumer = 1, .width = 160};
    lfr_camera *c = start(&o);
    if (!c) return;
    uint64_t gaps;
    int n = take_all(c, 250, 20000, 160, 90, &gaps);   /* take_all checks pts/seq increase */
    CHECK_EQ_INT(n, 250);
    CHECK_EQ_INT(gaps, 0);
    lfr_cam_stats st;
    lfr_camera_stats_get(c, &st);
    CHECK(st.state == LFR_CAM_LIVE);
    CHECK_EQ_INT(st.reconnects, 0);
    lfr_camera_stop(c);
}

/* realtime: ~25 frames per second of wall time. */
static void test_realtime(void) {
    if (!have_ffmpeg) SKIP("ffmpeg CLI missing");
    lfr_video_opts o = {.url = clip_mp4, .realtime = 1, .loop = 1};
    lfr_camera *c = start(&o);
    if (!c) return;
    lfr_frame f;
    CHECK_STATUS(lfr_camera_next(c, &f, 5000), LFR_OK);
    lfr_image_free(&f.img);
    uint64_t t0 = lfr_now_ns();
    uint64_t gaps;
    int n = take_all(c, 50, 5000, 640, 360, &gaps);
    double secs = (double)(lfr_now_ns() - t0) / 1e9;
    double fps = n / secs;
    fprintf(stderr, "  realtime: %d frames in %.2f s = %.1f fps, %llu missed\n", n, secs, fps,
            (unsigned long long)gaps);
    CHECK_EQ_INT(n, 50);
    CHECK_NEAR(fps, 25, 2.5);
    lfr_camera_stop(c);
}

/* fps = 5 on a 25 fps clip: 20 of 100 frames, stream-time spaced 200 ms. */
static void test_analysis_rate(void) {
    if (!have_ffmpeg) SKIP("ffmpeg CLI missing");
    lfr_video_opts o = {.url = clip_mp4, .fps = 5, .wait_consumer = 1, .width = 160};
    lfr_camera *c = start(&o);
    if (!c) return;
    int64_t prev = -1;
    int n = 0;
    for (int i = 0; i < 200; i++) {
        lfr_frame f;
        lfr_status s = lfr_camera_next(c, &f, 5000);
        if (s != LFR_OK) break;
        if (prev >= 0) CHECK_NEAR(f.pts_us - prev, 200000, 1000);
        prev = f.pts_us;
        lfr_image_free(&f.img);
        n++;
    }
    CHECK_EQ_INT(n, 20);
    lfr_cam_stats st;
    lfr_camera_stats_get(c, &st);
    CHECK_EQ_INT(st.decoded, 100);
    CHECK_EQ_INT(st.skipped, 80);
    CHECK_EQ_INT(st.published, 20);
    lfr_camera_stop(c);
}

/* A slow consumer: gaps in seq, counted as dropped, latency stays low. */
static void test_newest_frame_wins(void) {
    if (!have_ffmpeg) SKIP("ffmpeg CLI missing");
    lfr_video_opts o = {.url = clip_mp4, .realtime = 1, .loop = 1};
    lfr_camera *c = start(&o);
    if (!c) return;
    lfr_frame f;
    CHECK_STATUS(lfr_camera_next(c, &f, 5000), LFR_OK);
    uint64_t prev = f.seq, gaps = 0, worst = 0;
    lfr_image_free(&f.img);
    int n = 0;
    for (int i = 0; i < 12; i++) {
        sleep_ms(150);                              /* "analysis" */
        lfr_status s = lfr_camera_next(c, &f, 1000);
        uint64_t now = lfr_now_ns();
        CHECK_STATUS(s, LFR_OK);
        if (s != LFR_OK) break;
        uint64_t lat = now - f.capture_ns;
        if (lat > worst) worst = lat;
        CHECK(f.seq > prev + 1);                    /* frames were skipped */
        gaps += f.seq - prev - 1;
        prev = f.seq;
        lfr_image_free(&f.img);
        n++;
    }
    lfr_cam_stats st;
    lfr_camera_stats_get(c, &st);
    fprintf(stderr, "  slow consumer: %d taken, %llu gaps, dropped %llu, worst latency %.1f ms\n",
            n, (unsigned long long)gaps, (unsigned long long)st.dropped, worst / 1e6);
    CHECK(st.dropped >= gaps);
    CHECK(st.dropped <= gaps + 3);
    CHECK(worst < 80000000ull);                     /* < 2 frame intervals */
    lfr_camera_stop(c);
}

/* opts.queue = 2: two frames wait, oldest first and consecutive; a full
 * queue drops its oldest; lfr_camera_waiting says how many and since when. */
static void test_queue(void) {
    if (!have_ffmpeg) SKIP("ffmpeg CLI missing");
    lfr_video_opts o = {.url = clip_mp4, .realtime = 1, .loop = 1, .queue = 2};
    lfr_camera *c = start(&o);
    if (!c) return;
    lfr_frame f;
    CHECK_STATUS(lfr_camera_next(c, &f, 5000), LFR_OK);
    lfr_image_free(&f.img);
    for (int round = 0; round < 3; round++) {
        sleep_ms(300);                       /* a slow consumer: ~7 frames published */
        uint64_t oldest = 0, t = lfr_now_ns();
        int w = lfr_camera_waiting(c, &oldest);
        CHECK_EQ_INT(w, 2);                  /* never more than the queue */
        CHECK(oldest > 0 && oldest <= t);
        lfr_frame a, b;
        CHECK_STATUS(lfr_camera_next(c, &a, 0), LFR_OK);
        CHECK_STATUS(lfr_camera_next(c, &b, 0), LFR_OK);
        CHECK(b.seq == a.seq + 1);           /* the two newest, oldest first */
        CHECK(a.capture_ns == oldest);
        CHECK(b.capture_ns >= a.capture_ns);
        CHECK(t - a.capture_ns < 500000000ull); /* dropped frames never wait */
        lfr_image_free(&a.img);
        lfr_image_free(&b.img);
    }
    lfr_cam_stats st;
    lfr_camera_stats_get(c, &st);
    int w = lfr_camera_waiting(c, NULL);
    fprintf(stderr, "  queue 2: published %llu, taken %llu, dropped %llu, waiting %d\n",
            (unsigned long long)st.published, (unsigned long long)st.taken,
            (unsigned long long)st.dropped, w);
    CHECK(st.dropped >= 3 * 4);             /* ~7 per 300 ms, 2 kept */
    CHECK(st.published >= st.taken + st.dropped);
    CHECK(st.published <= st.taken + st.dropped + 2 + 1);
    lfr_camera_stop(c);
}

/* lfr_camera_recycle: buffers given back serve later frames, so a camera
 * read to its end allocates a few buffers, not one per frame; without it
 * (lfr_image_free) one per frame.  A buffer of another size is freed, not
 * kept. */
static void test_recycle(void) {
    if (!have_ffmpeg) SKIP("ffmpeg CLI missing");
    uint64_t buffers[2] = {0}, frames[2] = {0};
    for (int k = 0; k < 2; k++) {
        lfr_video_opts o = {.url = clip_mp4, .wait_consumer = 1};
        lfr_camera *c = start(&o);
        if (!c) return;
        lfr_frame f;
        while (lfr_camera_next(c, &f, 5000) == LFR_OK) {
            frames[k]++;
            if (k) lfr_camera_recycle(c, &f.img);
            else lfr_image_free(&f.img);
            CHECK(f.img.px == NULL);
        }
        lfr_cam_stats st;
        lfr_camera_stats_get(c, &st);
        buffers[k] = st.buffers;
        if (k) { /* a buffer of another size is not kept */
            lfr_image odd = {0};
            CHECK_STATUS(lfr_image_alloc(&odd, 8, 8), LFR_OK);
            lfr_camera_recycle(c, &odd);
            CHECK(odd.px == NULL);
        }
        lfr_camera_stop(c);
    }
    fprintf(stderr, "  %llu frames: %llu buffers freed each time, %llu recycled\n",
            (unsigned long long)frames[0], (unsigned long long)buffers[0],
            (unsigned long long)buffers[1]);
    CHECK(frames[0] >= 20 && frames[1] == frames[0]);
    CHECK(buffers[0] >= frames[0]);
    CHECK(buffers[1] <= 3);
    lfr_image none = {0};
    lfr_camera_recycle(NULL, &none);
    lfr_camera_recycle(NULL, NULL);
}

static void test_missing_and_broken_files(void) {
    struct { const char *url; lfr_cam_state want; int need_ffmpeg; const char *why; } cases[] = {
        {"/no/such/file.mp4", LFR_CAM_FAILED, 0, "No such file"},
        {garbage_ts, LFR_CAM_FAILED, 0, ""},
        {trunc_mp4, LFR_CAM_FAILED, 1, ""},
        {trunc_ts, LFR_CAM_ENDED, 1, ""},
        {"nosuchproto://127.0.0.1/x", LFR_CAM_FAILED, 0, "Protocol not found"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (cases[i].need_ffmpeg && !have_ffmpeg) continue;
        lfr_video_opts o = {.url = cases[i].url, .loop = 1};   /* loop must not spin */
        if (cases[i].want == LFR_CAM_ENDED) {
            o.loop = 0;
            o.wait_consumer = 1;   /* every decoded frame reaches us: the count is the file's */
        }
        lfr_camera *c = start(&o);
        if (!c) continue;
        int n = take_all(c, 1000, 10000, 0, 0, NULL);
        lfr_cam_stats st;
        lfr_camera_stats_get(c, &st);
        fprintf(stderr, "  %s: %s, %d frames, \"%s\"\n", strrchr(cases[i].url, '/') + 1,
                lfr_cam_state_name(st.state), n, st.last_error);
        CHECK_EQ_INT(st.state, cases[i].want);
        if (cases[i].want == LFR_CAM_FAILED) {
            CHECK(st.last_error[0] != '\0');
            CHECK(strstr(st.last_error, cases[i].why) != NULL);
            CHECK_EQ_INT(n, 0);
        } else {
            /* The truncated clip plays what it kept, whatever the encoder's
             * frame sizes put before the cut: every complete video packet
             * ffprobe counts in it decodes (the packet cut in half may not),
             * and it is less than the whole clip (100 frames). */
            long kept = video_packets(cases[i].url);
            fprintf(stderr, "  %s: %ld video packets kept, %d frames decoded\n",
                    strrchr(cases[i].url, '/') + 1, kept, n);
            CHECK(kept > 0 && kept < 100);
            CHECK(n >= 1 && n <= kept && n >= kept - 1);
            CHECK_EQ_INT(st.decoded, (uint64_t)n);
        }
        lfr_frame f;
        CHECK_STATUS(lfr_camera_next(c, &f, 0), LFR_ERR_STATE);
        lfr_camera_stop(c);
    }
}

/* The shared clips: mp4 with audio, raw H.264 and H.265 elementary streams. */
static void test_shared_clips(void) {
    const char *data = harness_data_dir();
    if (!data) SKIP("OPENLFR_DATA not set: shared clips not opened");
    struct { const char *rel, *codec; int w, h; } cases[] = {
        {"video/hamilton/short_hamilton_clip.mp4", "h264", 640, 360},
        {"video/mot/MOT20-08-raw_shorter.h264", "h264", 960, 366},
        {"video/mot/MOT17-13-SDP-raw.h265", "hevc", 960, 540},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", data, cases[i].rel);
        if (access(path, R_OK)) { fprintf(stderr, "  SKIP-ish: %s missing\n", path); continue; }
        lfr_video_opts o = {.url = path, .width = 320, .wait_consumer = 1};
        lfr_camera *c = start(&o);
        if (!c) continue;
        uint64_t t0 = lfr_now_ns();
        int n = take_all(c, 100000, 30000, 320, 0, NULL);
        lfr_cam_stats st;
        lfr_camera_stats_get(c, &st);
        fprintf(stderr, "  %s: %s %dx%d %.2f fps, %d frames in %.2f s, %s\n", cases[i].rel, st.codec,
                st.src_w, st.src_h, st.src_fps, n, (double)(lfr_now_ns() - t0) / 1e9,
                lfr_cam_state_name(st.state));
        CHECK_EQ_INT(st.state, LFR_CAM_ENDED);
        CHECK(!strcmp(st.codec, cases[i].codec));
        CHECK_EQ_INT(st.src_w, cases[i].w);
        CHECK_EQ_INT(st.src_h, cases[i].h);
        CHECK(n > 50);
        CHECK_EQ_INT(st.decoded, (uint64_t)n);
        lfr_camera_stop(c);
    }
}

static pid_t serve_ts(int port) {
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    char *argv[] = {"ffmpeg", "-nostdin", "-loglevel", "quiet", "-re", "-stream_loop", "-1",
                    "-i", clip_mp4, "-c", "copy", "-f", "mpegts", "-listen", "1", url, NULL};
    return spawn(argv);
}

/* MPEG-TS over HTTP: live, stalls (server frozen), drops (server killed),
 * comes back by itself when the server does. */
static void test_http_drop_and_reconnect(void) {
    if (!have_ffmpeg) SKIP("ffmpeg CLI missing");
    int port = free_port();
    CHECK(port > 0);
    pid_t srv = serve_ts(port);
    CHECK(srv > 0);
    sleep_ms(300);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    lfr_video_opts o = {.url = url, .read_timeout_ms = 1000};
    lfr_camera *c = start(&o);
    if (!c) { kid_kill(srv); return; }
    CHECK_EQ_INT(wait_state(c, ST(LIVE), 10000), LFR_CAM_LIVE);
    int n = take_all(c, 10, 5000, 640, 360, NULL);
    CHECK_EQ_INT(n, 10);

    /* Frozen server: the connection stays open, no data -> STALLED within
     * the read timeout. */
    kill(srv, SIGSTOP);
    uint64_t t0 = lfr_now_ns();
    int s = wait_state(c, ST(STALLED) | ST(CONNECTING), 3000);
    double dt = (double)(lfr_now_ns() - t0) / 1e6;
    lfr_cam_stats st;
    lfr_camera_stats_get(c, &st);
    fprintf(stderr, "  frozen server: %s after %.0f ms: \"%s\"\n", s >= 0 ? lfr_cam_state_name((lfr_cam_state)s) : "?",
            dt, st.last_error);
    CHECK(s == LFR_CAM_STALLED || s == LFR_CAM_CONNECTING);
    CHECK(dt < 2500);   /* 1000 ms timeout + what was buffered */
    CHECK(strstr(st.last_error, "no data") != NULL);

    /* Server gone: connection refused while it is away. */
    kid_kill(srv);
    sleep_ms(1500);
    lfr_camera_stats_get(c, &st);
    CHECK(st.state == LFR_CAM_CONNECTING || st.state == LFR_CAM_STALLED);
    fprintf(stderr, "  server gone: %s, \"%s\"\n", lfr_cam_state_name(st.state), st.last_error);

    /* Server back: the camera reconnects by itself. */
    srv = serve_ts(port);
    CHECK_EQ_INT(wait_state(c, ST(LIVE), 15000), LFR_CAM_LIVE);
    n = take_all(c, 10, 5000, 640, 360, NULL);
    CHECK_EQ_INT(n, 10);
    lfr_camera_stats_get(c, &st);
    fprintf(stderr, "  back: %s, reconnects %llu\n", lfr_cam_state_name(st.state), (unsigned long long)st.reconnects);
    CHECK(st.reconnects >= 1);
    CHECK(!strcmp(st.codec, "h264"));
    t0 = lfr_now_ns();
    lfr_camera_stop(c);
    CHECK((lfr_now_ns() - t0) < 1000000000ull);
    kid_kill(srv);
}

/* MJPEG over HTTP (multipart/x-mixed-replace), as many IP cameras serve it. */
static void test_http_mjpeg(void) {
    if (!have_ffmpeg) SKIP("ffmpeg CLI missing");
    int port = free_port();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    char *argv[] = {"ffmpeg", "-nostdin", "-loglevel", "quiet", "-re", "-stream_loop", "-1", "-i", clip_mp4,
                    "-c:v", "mjpeg", "-q:v", "5", "-f", "mpjpeg", "-listen", "1", url, NULL};
    pid_t srv = spawn(argv);
    CHECK(srv > 0);
    sleep_ms(300);
    lfr_video_opts o = {.url = url, .read_timeout_ms = 2000, .width = 320};
    lfr_camera *c = start(&o);
    if (!c) { kid_kill(srv); return; }
    CHECK_EQ_INT(wait_state(c, ST(LIVE), 10000), LFR_CAM_LIVE);
    int n = take_all(c, 10, 5000, 320, 180, NULL);
    CHECK_EQ_INT(n, 10);
    lfr_cam_stats st;
    lfr_camera_stats_get(c, &st);
    CHECK(!strcmp(st.codec, "mjpeg"));
    lfr_camera_stop(c);
    kid_kill(srv);
}

/* A tiny HTTP server (forked child): "/404" -> 404, anything else -> 200 and
 * 1 MiB of random bytes as video/mp2t. */
static pid_t serve_garbage(int *port) {
    int ls = listen_local(port);
    if (ls < 0) return -1;
    pid_t p = fork();
    if (p < 0) { close(ls); return -1; }
    if (p == 0) {
        alarm(60);
        static uint8_t junk[1 << 16];
        uint32_t x = 99;
        for (size_t i = 0; i < sizeof junk; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; junk[i] = (uint8_t)x; }
        for (int k = 0; k < 200; k++) {
            int s = accept(ls, NULL, NULL);
            if (s < 0) _exit(0);
            char req[2048];
            ssize_t r = read(s, req, sizeof req - 1);
            req[r > 0 ? r : 0] = '\0';
            if (strstr(req, "GET /404")) {
                const char *m = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
                if (write(s, m, strlen(m)) < 0) {}
            } else {
                const char *m = "HTTP/1.0 200 OK\r\nContent-Type: video/mp2t\r\n\r\n";
                if (write(s, m, strlen(m)) < 0) {}
                for (int j = 0; j < 16; j++)
                    if (write(s, junk, sizeof junk) < 0) break;
            }
            close(s);
        }
        _exit(0);
    }
    close(ls);
    kid_add(p);
    return p;
}

static void test_http_garbage_and_wrong_urls(void) {
    int port = 0;
    pid_t srv = serve_garbage(&port);
    CHECK(srv > 0);
    char url[64], url404[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/cam.ts", port);
    snprintf(url404, sizeof url404, "http://127.0.0.1:%d/404", port);

    /* garbage: retried, then FAILED after max_reconnects, never a frame */
    lfr_video_opts o = {.url = url, .read_timeout_ms = 1000, .max_reconnects = 1};
    lfr_camera *c = start(&o);
    if (c) {
        int s = wait_state(c, ST(FAILED), 15000);
        lfr_cam_stats st;
        lfr_camera_stats_get(c, &st);
        fprintf(stderr, "  garbage over http: %s, reconnects %llu, decoded %llu, \"%s\"\n",
                lfr_cam_state_name(st.state), (unsigned long long)st.reconnects,
                (unsigned long long)st.decoded, st.last_error);
        CHECK_EQ_INT(s, LFR_CAM_FAILED);
        CHECK(st.last_error[0] != '\0');
        CHECK_EQ_INT(st.reconnects, 1);
        CHECK_EQ_INT(st.published, 0);
        lfr_frame f;
        CHECK_STATUS(lfr_camera_next(c, &f, 0), LFR_ERR_STATE);
        lfr_camera_stop(c);
    }

    /* HTTP 404: a configuration error, FAILED at once */
    lfr_video_opts o4 = {.url = url404, .read_timeout_ms = 1000};
    c = start(&o4);
    if (c) {
        int s = wait_state(c, ST(FAILED), 5000);
        lfr_cam_stats st;
        lfr_camera_stats_get(c, &st);
        fprintf(stderr, "  404: %s, \"%s\"\n", lfr_cam_state_name(st.state), st.last_error);
        CHECK_EQ_INT(s, LFR_CAM_FAILED);
        CHECK(strstr(st.last_error, "404") != NULL);
        lfr_camera_stop(c);
    }
    kid_kill(srv);

    /* nobody listening: CONNECTING with the reason, retried; FAILED after
     * max_reconnects */
    lfr_video_opts or = {.url = "http://127.0.0.1:1/nothing", .read_timeout_ms = 1000};
    c = start(&or);
    if (c) {
        sleep_ms(300);
        lfr_cam_stats st;
        lfr_camera_stats_get(c, &st);
        fprintf(stderr, "  refused: %s, \"%s\"\n", lfr_cam_state_name(st.state), st.last_error);
        CHECK_EQ_INT(st.state, LFR_CAM_CONNECTING);
        CHECK(strstr(st.last_error, "refused") != NULL);
        lfr_frame f;
        CHECK_STATUS(lfr_camera_next(c, &f, 50), LFR_ERR_TIMEOUT);
        lfr_camera_stop(c);
    }
    or.max_reconnects = 2;
    c = start(&or);
    if (c) {
        uint64_t t0 = lfr_now_ns();
        int s = wait_state(c, ST(FAILED), 5000);
        double dt = (double)(lfr_now_ns() - t0) / 1e9;
        lfr_cam_stats st;
        lfr_camera_stats_get(c, &st);
        fprintf(stderr, "  refused, max 2: %s after %.2f s, \"%s\"\n", lfr_cam_state_name(st.state), dt, st.last_error);
        CHECK_EQ_INT(s, LFR_CAM_FAILED);
        CHECK_EQ_INT(st.reconnects, 2);
        CHECK(dt > 1.3 && dt < 3.0);          /* backoff 0.5 s + 1 s */
        lfr_camera_stop(c);
    }
}

/* stop returns promptly while opening (a server that accepts and never
 * answers), while backing off, and while the worker waits for the consumer. */
static void test_stop_is_prompt(void) {
    int port = 0;
    int ls = listen_local(&port);   /* the kernel accepts; nobody answers */
    CHECK(ls >= 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hang", port);
    lfr_video_opts o = {.url = url, .read_timeout_ms = 30000};
    lfr_camera *c = start(&o);
    if (c) {
        sleep_ms(300);
        CHECK_EQ_INT(state_of(c), LFR_CAM_CONNECTING);
        uint64_t t0 = lfr_now_ns();
        lfr_camera_stop(c);
        double ms = (double)(lfr_now_ns() - t0) / 1e6;
        fprintf(stderr, "  stop while connecting: %.1f ms\n", ms);
        CHECK(ms < 1000);
    }
    close(ls);

    lfr_video_opts ob = {.url = "http://127.0.0.1:1/x"};
    c = start(&ob);
    if (c) {
        sleep_ms(700);   /* past the first attempt: in the backoff */
        uint64_t t0 = lfr_now_ns();
        lfr_camera_stop(c);
        double ms = (double)(lfr_now_ns() - t0) / 1e6;
        fprintf(stderr, "  stop while backing off: %.1f ms\n", ms);
        CHECK(ms < 1000);
    }

    if (have_ffmpeg) {
        lfr_video_opts ow = {.url = clip_mp4, .wait_consumer = 1, .loop = 1};
        c = start(&ow);
        if (c) {
            CHECK_EQ_INT(wait_state(c, ST(LIVE), 5000), LFR_CAM_LIVE);
            sleep_ms(100);   /* the worker now waits for us to take a frame */
            uint64_t t0 = lfr_now_ns();
            lfr_camera_stop(c);
            double ms = (double)(lfr_now_ns() - t0) / 1e6;
            CHECK(ms < 1000);
        }
    }
}

/* Several cameras at once, each its own worker. */
static void test_many_cameras(void) {
    if (!have_ffmpeg) SKIP("ffmpeg CLI missing");
    enum { N = 4 };
    lfr_camera *cs[N] = {0};
    for (int i = 0; i < N; i++) {
        lfr_video_opts o = {.url = i % 2 ? clip_ts : clip_mp4, .realtime = 1, .loop = 1, .width = 320};
        cs[i] = start(&o);
    }
    for (int i = 0; i < N; i++) {
        if (!cs[i]) continue;
        int n = take_all(cs[i], 5, 5000, 320, 180, NULL);
        CHECK_EQ_INT(n, 5);
    }
    for (int i = 0; i < N; i++) lfr_camera_stop(cs[i]);
}

int main(void) {
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    alarm(170);
    setup();
    if (!have_ffmpeg) fprintf(stderr, "NOTE: ffmpeg CLI not usable: clip-based tests are SKIPPED\n");
    RUN(test_names_and_options);
    RUN(test_file_decode);
    RUN(test_working_size);
    RUN(test_loop);
    RUN(test_realtime);
    RUN(test_analysis_rate);
    RUN(test_newest_frame_wins);
    RUN(test_queue);
    RUN(test_recycle);
    RUN(test_missing_and_broken_files);
    RUN(test_shared_clips);
    RUN(test_http_drop_and_reconnect);
    RUN(test_http_mjpeg);
    RUN(test_http_garbage_and_wrong_urls);
    RUN(test_stop_is_prompt);
    RUN(test_many_cameras);
    kill_all_kids();
    teardown();
    return harness_done("video");
}
