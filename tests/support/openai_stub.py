"""A scripted OpenAI-compatible chat server on 127.0.0.1 (ephemeral port), run in a thread of the test.

`reply(messages, body) -> str` decides each answer (an exception is answered with HTTP 500); the first `fail_first` requests get HTTP 503 (to exercise
the client's retries), and `always_fail` answers every request with 500. Every request body is recorded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, reply: Callable[[list[dict], dict], str], *, fail_first: int = 0, always_fail: bool = False):
        self.reply, self.fail_first, self.always_fail = reply, fail_first, always_fail
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: StubServer

    def log_message(self, format, *args):  # noqa: A002
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.requests.append(body)
            number = len(self.server.requests)
        if self.server.always_fail:
            return self._send(500, {"error": {"message": "scripted failure"}})
        if number <= self.server.fail_first:
            return self._send(503, {"error": {"message": "scripted overload"}})
        try:
            text = self.server.reply(body["messages"], body)
        except Exception as error:  # a scripted failure of one request
            return self._send(500, {"error": {"message": str(error)}})
        self._send(200, {"id": f"c{number}", "object": "chat.completion", "created": 0, "model": body["model"],
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                      "finish_reason": "stop"}]})
