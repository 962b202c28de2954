#!/usr/bin/python3
"""rtsp-server.py - a small RTSP server (GStreamer's gst-rtsp-server through
python3-gi) that plays an existing H.264 or H.265 clip as a camera, for the
tests (tests/test_rtsp.sh) and for trying `openlfr scan` by hand.

    tools/rtsp-server.py --file clip.mp4 [--codec h264|h265] [--port N]
                         [--path /cam] [--user U --password P]
                         [--protocols tcp|udp|both]

  --file      an MP4 (or QuickTime) file holding one H.264 or H.265 video
              track.  It is demuxed, parsed and packetised as it is: no
              encoder is needed.  It is played once per client session in
              real time (the file must be long enough; it does not loop).
  --codec     h264 or h265 (default: from the file name: "265"/"hevc" in
              it means h265).
  --port      TCP port of the RTSP server (default 8554; 0 = a free one).
  --path      mount point (default /cam).
  --user/--password  require RTSP DIGEST authentication with these
              credentials (a client without them or with a wrong password
              gets "401 Unauthorized").  The password is never printed.
  --protocols transports the server accepts (default both).

When it listens it prints one line to stdout and flushes it:
    ready rtsp://127.0.0.1:PORT/PATH
and for every SETUP request, the transport the client asked for to stderr:
    setup RTP/AVP/TCP;unicast;interleaved=0-1      (TCP)
    setup RTP/AVP;unicast;client_port=5000-5001    (UDP)
SIGTERM or SIGINT stops it cleanly (exit status 0).

Debian 12 packages (tools/setup.sh installs them): python3-gi,
gir1.2-gst-rtsp-server-1.0, gir1.2-gstreamer-1.0,
gstreamer1.0-plugins-good (qtdemux, rtph264pay, rtph265pay, RTP/UDP),
gstreamer1.0-plugins-bad (h264parse, h265parse).
"""
import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file", required=True)
    ap.add_argument("--codec", choices=("h264", "h265"))
    ap.add_argument("--port", type=int, default=8554)
    ap.add_argument("--path", default="/cam")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--protocols", choices=("tcp", "udp", "both"), default="both")
    a = ap.parse_args()
    if not os.path.isfile(a.file):
        ap.error(f"--file {a.file}: no such file")
    if bool(a.user) != bool(a.password):
        ap.error("--user and --password go together")
    if not a.path.startswith("/"):
        ap.error(f"--path {a.path}: must start with /")
    codec = a.codec
    if not codec:
        low = os.path.basename(a.file).lower()
        codec = "h265" if ("265" in low or "hevc" in low) else "h264"

    Gst.init(None)
    for el in ("qtdemux", codec + "parse", "rtp" + codec + "pay"):
        if Gst.ElementFactory.find(el) is None:
            sys.exit(f"rtsp-server.py: GStreamer element {el} missing "
                     "(install gstreamer1.0-plugins-good and gstreamer1.0-plugins-bad)")

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(a.port))

    loc = a.file.replace("\\", "\\\\").replace('"', '\\"')
    launch = (f'( filesrc location="{loc}" ! qtdemux ! {codec}parse ! '
              f'rtp{codec}pay name=pay0 pt=96 config-interval=-1 )')
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(False)          # every client session plays the file from its start
    lt = GstRtsp.RTSPLowerTrans
    proto = {"tcp": lt.TCP, "udp": lt.UDP, "both": lt.TCP | lt.UDP}
    factory.set_protocols(proto[a.protocols])

    if a.user:
        auth = GstRtspServer.RTSPAuth()
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "camera-user")
        auth.add_digest(a.user, a.password, token)
        server.set_auth(auth)
        perms = GstRtspServer.RTSPPermissions()
        perms.add_permission_for_role("camera-user", "media.factory.access", True)
        perms.add_permission_for_role("camera-user", "media.factory.construct", True)
        factory.set_permissions(perms)

    server.get_mount_points().add_factory(a.path, factory)

    def on_setup(_client, ctx):
        ok, tr = ctx.request.get_header(GstRtsp.RTSPHeaderField.TRANSPORT, 0)
        if ok == GstRtsp.RTSPResult.OK:
            print(f"setup {tr}", file=sys.stderr, flush=True)

    server.connect("client-connected",
                   lambda _s, client: client.connect("setup-request", on_setup))
    if server.attach(None) == 0:
        sys.exit(f"rtsp-server.py: cannot listen on 127.0.0.1:{a.port}")

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, lambda *_: (loop.quit(), False)[1])
    print(f"ready rtsp://127.0.0.1:{server.get_bound_port()}{a.path}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
