"""Real local receivers for the alert channels: an SMTP server (aiosmtpd) and an HTTP
server standing in for the SMS gateway and a webhook receiver."""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpReceiver:
    """Answers POSTs with scripted status codes (then 200), after ``delay`` seconds;
    records every request and deduplicates by the notification id."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.script: list[int] = []
        self.requests: list[dict] = []
        self.accepted: dict[str, dict] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else 200
                    doc = json.loads(body)
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                              "body": body, "json": doc, "status": status})
                    if status == 200:
                        receiver.accepted.setdefault(doc["id"], doc)
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """An aiosmtpd server keeping every message it is handed; it refuses (550) the
    addresses in ``refuse``."""

    def __init__(self, refuse=()):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.refuse = set(refuse)
        receiver = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address in receiver.refuse:
                    return "550 5.1.1 no such mailbox"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                from email import message_from_bytes
                receiver.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{self.port}"

    def close(self):
        self.controller.stop()
