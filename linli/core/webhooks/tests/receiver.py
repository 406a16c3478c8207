"""A partner's webhook receiver on 127.0.0.1, the way a careful partner writes one: it checks the
signature, and processes each event id once however often it is delivered."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from linli.core.webhooks.verify import SignatureError, verify_signature


class Receiver:
    def __init__(self, secret: str = ""):
        self.secret = secret
        self.responses: list[int] = []  # status codes to answer with, in order; then 200
        self.requests: list[dict] = []  # every request received
        self.processed: list[str] = []  # event ids whose side effect ran (once each)
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.handle(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"no")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/linli"

    def handle(self, headers: dict, body: bytes) -> int:
        with self._lock:
            self.requests.append({"headers": headers, "body": body})
            try:
                verify_signature(self.secret, headers, body)
            except SignatureError:
                return 400
            if self.responses:
                return self.responses.pop(0)
            event_id = headers["Linli-Event-Id"]
            assert json.loads(body)["id"] == event_id
            if event_id not in self._seen:  # deduplicate by event id
                self._seen.add(event_id)
                self.processed.append(event_id)
            return 200

    def event_ids(self) -> list[str]:
        return [r["headers"]["Linli-Event-Id"] for r in self.requests]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
