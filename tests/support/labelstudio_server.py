"""A real Label Studio server on loopback for the slow Studio test, from its own venv (.venvs/labelstudio).

Started with `label-studio start --internal-host 127.0.0.1` (in 1.23 `--host` only sets the link name; the bind
address is `--internal-host`) on a free port, a data folder of its own and an admin created from environment
variables; what it binds is checked with `ss -ltnp`, and it is stopped by its PID. Annotator accounts are made
through the API; their API tokens are read with `label-studio shell` (Community has no admin endpoint that
hands out another user's token: a person copies it from Account & Settings).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ADMIN_TOKEN = "cmedins0test0admin0token0000000000000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabelStudioServer:
    def __init__(self, venv: Path, data_dir: Path, startup_timeout: float = 240):
        self.venv, self.data_dir, self.timeout = venv, data_dir, startup_timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LABEL_STUDIO"))},
                    "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir), "LABEL_STUDIO_USERNAME": "admin@example.org",
                    "LABEL_STUDIO_PASSWORD": "cmedins-test-admin", "LABEL_STUDIO_USER_TOKEN": ADMIN_TOKEN,
                    "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true", "COLLECT_ANALYTICS": "false"}
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> LabelStudioServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log = (self.data_dir / "server.log").open("w")
        self.process = subprocess.Popen(
            [str(self.venv / "bin" / "label-studio"), "start", "--internal-host", "127.0.0.1", "--port",
             str(self.port), "--no-browser", "--enable-legacy-api-token"],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"label-studio exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"label-studio did not answer within {self.timeout:.0f} s")

    def bound_addresses(self) -> list[str]:
        """Local addresses the server's process listens on, as `ss -ltnp` reports them."""
        out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
        return [line.split()[3] for line in out.splitlines() if f"pid={self.process.pid}," in line]

    def tokens(self) -> dict[str, tuple[int, str]]:
        """email -> (user id, API token), read through `label-studio shell`."""
        code = ("from rest_framework.authtoken.models import Token; import json; print('TOKENS', json.dumps("
                "{t.user.email: [t.user.id, t.key] for t in Token.objects.select_related('user')}))\n")
        out = subprocess.run([str(self.venv / "bin" / "label-studio"), "shell"], input=code, capture_output=True,
                             text=True, env=self.env, timeout=180).stdout
        found = re.search(r"TOKENS (\{.*\})", out)
        if not found:
            raise RuntimeError("label-studio shell printed no tokens")
        return {email: (uid, key) for email, (uid, key) in json.loads(found.group(1)).items()}

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: the server and nothing else
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
