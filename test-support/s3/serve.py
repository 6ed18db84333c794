"""moto's S3 server for the workspace's tests, with every request handled one at a time.

Run by `tuf_test_support::s3::S3Server` with the python of a venv that has
`requirements.txt` (beside this file) installed. It binds 127.0.0.1 on a port the OS
picks, prints that port on the first line of stdout, and serves until its stdin closes
(the test process ended, however it ended) or it gets SIGTERM/SIGINT.

Why not `moto_server` as shipped: its threaded server checks `If-None-Match: *` and
`If-Match` and then stores the object without a lock, so two concurrent conditional
PUTs of one key can both succeed (measured: about 1 round in 100 of 32 concurrent
creates, and as often for updates). The publisher's safety with several publishers
rests on exactly that check-and-set, so here one lock is held around each request:
moto's state only changes under it, and a conditional PUT is atomic as on S3.
Connections are still served by a thread each (HTTP/1.1 keep-alive).
"""

import logging
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


class OneRequestAtATime:
    """A WSGI app that runs the app it wraps under one lock, body included."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            reply = self.app(environ, start_response)
            try:
                return [b"".join(reply)]
            finally:
                close = getattr(reply, "close", None)
                if close is not None:
                    close()


def exit_when_stdin_closes():
    # The parent holds our stdin open; EOF means it is gone, so no server outlives
    # its test, even one killed by SIGKILL.
    sys.stdin.buffer.read()
    os._exit(0)


def main():
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        host,
        0,
        OneRequestAtATime(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    # One log line per request would cost more than moto's work for a small PUT.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = server.socket.getsockname()[1]
    # moto builds some URLs (e.g. presigned ones) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
