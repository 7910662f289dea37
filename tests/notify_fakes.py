"""The two servers the notification tests talk to: a real SMTP server (aiosmtpd) and a fake
SMS provider (http.server), both on 127.0.0.1 in threads of the test process."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server received; ``refuse`` answers the next N mails with 451."""

    port: int = 0
    mails: list[EmailMessage] = field(default_factory=list)
    refuse: int = 0
    tries: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.tries += 1
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        mail = message_from_bytes(envelope.content, policy=policy.default)
        self.mails.append(mail)  # type: ignore[arg-type]
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1."""
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class SmsProvider:
    """What the fake provider received; ``fail`` answers the next N requests with 500."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail: int = 0
    tries: int = 0


@contextmanager
def sms_provider() -> Iterator[SmsProvider]:
    """A fake SMS provider: POST JSON to /sms; records body and Authorization."""
    provider = SmsProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            provider.tries += 1
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if provider.fail > 0:
                provider.fail -= 1
                self.send_response(500)
                self.end_headers()
                return
            provider.requests.append(
                {"json": json.loads(body), "authorization": self.headers["Authorization"]}
            )
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": "queued"}')

        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
