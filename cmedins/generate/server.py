"""A loopback OpenAI-compatible server for a local transformers model: what `make eval` judges through on
a CPU, and what the end-to-end tests call. For real models use vLLM or SGLang (`vllm serve MODEL`).

It implements what cmedins' client uses: `GET /v1/models` and `POST /v1/chat/completions` (one choice;
temperature, top_p, max_tokens / max_completion_tokens, seed). It binds a loopback address only (no
authentication: it is not meant to be reachable), on port 0 = a free port chosen by the system, and writes
the bound port to `--port-file` once it listens, so a caller can wait for that file and stop it by its PID.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cmedins.errors import CmedinsError
from cmedins.generate.sampling import Sampling


def check_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise CmedinsError(f"serve binds loopback addresses only (127.0.0.1, ::1), not '{host}'")


class ModelServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, backend, model_name: str, host: str = "127.0.0.1", port: int = 0):
        check_loopback(host)
        self.backend, self.model_name = backend, model_name
        self.lock = threading.Lock()  # one generate at a time: the model is not thread-safe
        self.requests_served = 0
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    server: ModelServer

    def log_message(self, format: str, *args) -> None:  # noqa: A002  (quiet: no request lines on stderr)
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error"}})

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": self.server.model_name, "object": "model",
                                                          "owned_by": "cmedins"}]})
        elif self.path == "/health":
            self._send(200, {"status": "ok"})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:  # noqa: N802
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._error(404, f"no route {self.path}")
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            messages = body["messages"]
            if not isinstance(messages, list) or not messages:
                raise ValueError("messages must be a non-empty list")
            if int(body.get("n") or 1) != 1:
                raise ValueError("only n = 1 is served")
            sampling = Sampling(temperature=float(body.get("temperature", 1.0)), top_p=float(body.get("top_p", 1.0)),
                                max_new_tokens=int(body.get("max_completion_tokens") or body.get("max_tokens") or 256),
                                seed=int(body.get("seed") or 0))
        except (ValueError, KeyError, TypeError) as error:
            return self._error(400, f"bad request: {error}")
        with self.server.lock:
            (text, finish), = self.server.backend.generate([messages], sampling, [sampling.seed])
            self.server.requests_served += 1
        self._send(200, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
            "model": self.server.model_name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        })


def serve(backend, model_name: str, host: str, port: int, port_file: Path | None) -> None:
    server = ModelServer(backend, model_name, host, port)
    if port_file is not None:
        temporary = port_file.with_name(port_file.name + ".tmp")
        temporary.write_text(f"{server.port}\n", encoding="utf-8")
        os.replace(temporary, port_file)  # appears whole: a reader never sees an empty port
    print(f"serving {model_name} on http://{host}:{server.port}/v1 (pid {os.getpid()})", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
