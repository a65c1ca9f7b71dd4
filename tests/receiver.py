"""A webhook receiver on 127.0.0.1 for tests: records every request, answers as told per path.

``/ok`` answers 204; ``/flaky`` answers 500 to the first two requests of each ``webhook-id`` and 200
after; ``/gone`` answers 410; ``/slow`` answers 429 with ``Retry-After: 1``.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    requests: list[Received] = field(default_factory=list)
    seen: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                path = self.path.split("?")[0]
                with receiver.lock:
                    key = (path, self.headers.get("webhook-id"))
                    receiver.seen[key] += 1
                    status = {"/ok": 204, "/gone": 410, "/slow": 429}.get(path, 200)
                    if path == "/flaky":
                        status = 500 if receiver.seen[key] <= 2 else 200
                    receiver.requests.append(Received(path, dict(self.headers.items()), body, status))
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "1")
                payload = b"" if status == 204 else b'{"received": true}' if status == 200 else b"try later"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True, name="webhook-receiver").start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def wait_count(self, predicate, count: int, timeout: float = 60) -> list[Received]:  # noqa: ANN001
        deadline = time.time() + timeout
        while True:
            with self.lock:
                found = [r for r in self.requests if predicate(r)]
            if len(found) >= count or time.time() > deadline:
                return found
            time.sleep(0.1)
