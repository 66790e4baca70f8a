"""A stand-in HIS: a local HTTP server on 127.0.0.1 that receives webhooks and checks their
HMAC signature the way a hospital's system would (no other network access in tests)."""

import hashlib
import hmac
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HIS:
    """A stand-in HIS on 127.0.0.1 and an ephemeral port: answers with `statuses` in turn (the
    last one repeats), records each request and whether its signature verified."""

    def __init__(self, statuses=(200,), delay=0.0):
        self.statuses, self.delay, self.received = list(statuses), delay, []
        self.secret = None
        his = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                his.received.append(
                    {"headers": dict(self.headers), "body": body, "verified": his.verify(self, body)}
                )
                time.sleep(his.delay)
                status = his.statuses.pop(0) if len(his.statuses) > 1 else his.statuses[0]
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verify(self, request, body):
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(request.headers.get("X-Alliance-Signature", ""), expected)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def join_eager_deliveries(timeout=20):
    """Wait for the background threads that deliver webhooks in eager mode (alliance.webhooks)."""
    from alliance.webhooks import EAGER_THREAD_PREFIX

    for thread in threading.enumerate():
        if thread.name.startswith(EAGER_THREAD_PREFIX):
            thread.join(timeout)
            assert not thread.is_alive(), "an eager webhook delivery did not finish"
