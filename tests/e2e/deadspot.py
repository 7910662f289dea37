"""A dead spot the browser cannot see through: a TCP relay in front of the live server
whose connections can be cut.

Playwright's ``context.set_offline`` does not reach requests that pass a service
worker (microsoft/playwright#2311), so with the driver app's worker in control, presses
"sent offline" could still reach the server, and a test of the offline queue would pass
or fail by timing. Cutting the relay fails every request, from the page or the worker,
the way a real dead spot does.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit


class DeadSpot:
    """Relay ``127.0.0.1:port`` to ``target``; ``cut()`` drops every connection until
    ``restore()``. Use as a context manager; ``url`` is the base URL to browse."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._dead = False
        self._running = True
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> DeadSpot:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._running = False
        self._thread.join(timeout=5)
        self._listener.close()
        self._drop_all()

    def cut(self) -> None:
        """No network from now on: open connections are reset, new ones closed at once."""
        with self._lock:
            self._dead = True
        self._drop_all()

    def restore(self) -> None:
        with self._lock:
            self._dead = False

    def _drop_all(self) -> None:
        with self._lock:
            sockets, self._open = list(self._open), set()
        for s in sockets:
            with contextlib.suppress(OSError):  # already gone
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                dead = self._dead
            if dead:
                client.close()  # the browser sees a failed request, as in a dead spot
                continue
            server = socket.create_connection(self._target)
            with self._lock:
                self._open.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass  # cut, or closed by the other side
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
