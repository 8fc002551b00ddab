import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from argmax_trainers.platform import Http


class FlakyHandler(BaseHTTPRequestHandler):
    failures_left = 0

    def do_PUT(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if FlakyHandler.failures_left > 0:
            FlakyHandler.failures_left -= 1
            self.send_response(503)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


class HttpTest(unittest.TestCase):
    def setUp(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyHandler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/x"

    def tearDown(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def test_waits_out_an_api_that_is_briefly_unavailable(self):
        FlakyHandler.failures_left = 2
        Http(self.url, "t", patience=30).request("PUT", self.url, b"abc")
        self.assertEqual(FlakyHandler.failures_left, 0)

    def test_gives_up_once_its_patience_is_spent(self):
        FlakyHandler.failures_left = 100
        started = time.monotonic()
        with self.assertRaises(RuntimeError) as caught:
            Http(self.url, "t", patience=2).request("PUT", self.url, b"abc")
        self.assertIn("503", str(caught.exception))
        self.assertLess(time.monotonic() - started, 10)

    def test_a_connection_refused_is_retried_too(self):
        port = self.server.server_address[1]
        self.server.shutdown()
        self.server.server_close()
        started = time.monotonic()
        with self.assertRaises(RuntimeError) as caught:
            Http(self.url, "t", patience=1.5).request("PUT", f"http://127.0.0.1:{port}/x", b"abc")
        self.assertIn("failed for", str(caught.exception))
        self.assertGreaterEqual(time.monotonic() - started, 1.0)
        # tearDown shuts a serving server down: give it one (shutdown() waits for serve_forever).
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyHandler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


if __name__ == "__main__":
    unittest.main()
