"""Rate limits per client address.

One sliding-window limiter, used for failed logins and to throttle anonymous offer searches,
booking lookups and GTFS-Realtime feed requests.

Over a limit, the client gets 429 with ``Retry-After``: a JSON error in the API
(``{"error": {"field": ..., "message": ...}}``), a page in the rider's language else.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import ParamSpec, TypeAlias

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.middleware.proxy_fix import ProxyFix

from web.config import AppConfig, RateLimit
from web.i18n import N_, api_language, forced_language
from web.i18n import gettext as _

P = ParamSpec("P")
#: A view function taking the route's arguments ``P``; what decorators of views wrap.
View: TypeAlias = Callable[P, ResponseReturnValue]


class RateLimiter:
    """At most ``limit.count`` events per key within a sliding window.

    The window lasts ``limit.window_s`` seconds. Thread-safe; one per app and purpose.

    Parameters
    ----------
    limit
        The count and the window.
    clock
        Seconds, monotonic (tests may pass their own).
    """

    #: Beyond this many keys, keys whose events have all expired are dropped.
    MAX_KEYS = 10_000

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """Count one event for ``key`` if it is within the limit.

        Returns
        -------
        wait
            0 if the event was counted; else the whole seconds until ``key`` may try again
            (nothing is counted).
        """
        with self._lock:
            now = self.clock()
            wait = self._wait(key, now)
            if wait == 0:
                self._add(key, now)
            return wait

    def retry_after(self, key: str) -> int:
        """The whole seconds until ``key`` may act again; 0 if it may now (nothing counted)."""
        with self._lock:
            return self._wait(key, self.clock())

    def add(self, key: str) -> None:
        """Count one event for ``key`` (a failed login), whatever the limit."""
        with self._lock:
            self._add(key, self.clock())

    def _add(self, key: str, now: float) -> None:
        self._events.setdefault(key, deque()).append(now)
        if len(self._events) > self.MAX_KEYS:
            self._forget_expired(now)

    def _wait(self, key: str, now: float) -> int:
        events = self._events.get(key)
        if events is None:
            return 0
        while events and events[0] <= now - self.limit.window_s:
            events.popleft()
        if len(events) < self.limit.count:
            return 0
        # a slot frees when the event ``count`` places from the end leaves the window
        frees_at = events[len(events) - self.limit.count] + self.limit.window_s
        return max(1, math.ceil(frees_at - now))

    def _forget_expired(self, now: float) -> None:
        expired = [k for k, ev in self._events.items() if ev[-1] <= now - self.limit.window_s]
        for key in expired:
            del self._events[key]


#: The app's limiters by purpose.
PURPOSES = ("login", "offers", "lookups", "feeds")
#: What a throttled client reads (German source text; ``web.i18n`` translates it).
TOO_MANY_REQUESTS = N_("Zu viele Anfragen von Ihrer Adresse.")
#: When the API's client may try again.
RETRY_AFTER = N_("Neuer Versuch in %(seconds)s s.")


def init_app(app: Flask, config: AppConfig) -> None:
    """Make the app's limiters.

    It trusts ``config.trusted_proxies`` reverse proxies for the client address.
    """
    app.extensions["rufbus_limiters"] = {
        "login": RateLimiter(config.login_limit),
        "offers": RateLimiter(config.offer_limit),
        "lookups": RateLimiter(config.lookup_limit),
        "feeds": RateLimiter(config.feed_limit),
    }
    if config.trusted_proxies:
        n = config.trusted_proxies
        # Flask's documented way to add WSGI middleware; mypy refuses any assignment to a
        # method (python/mypy#7347, pallets/flask#3335), so this one line is exempt
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n
        )


def limiter(purpose: str) -> RateLimiter:
    """The current app's limiter for ``purpose`` (one of :data:`PURPOSES`)."""
    return current_app.extensions["rufbus_limiters"][purpose]


def client_address() -> str:
    """What limits count: the client's address (the proxy's, unless proxies are trusted)."""
    return request.remote_addr or "unknown"


def too_many(wait: int, *, field: str, message: str) -> Response:
    """The 429 answer: JSON in the API, a page in the rider's language else.

    Both carry ``Retry-After``. ``message`` is the German source text of the catalogue. The
    API says it in the ``Accept-Language`` (English without the header, as it always has).
    """
    if request.path.startswith("/api/"):
        with forced_language(api_language() or "en"):
            text = _(message) + " " + _(RETRY_AFTER) % {"seconds": wait}
        response = jsonify(error={"field": field, "message": text, "code": "too_many_requests"})
    else:
        response = current_app.make_response(
            render_template("rate_limited.html", message=message, seconds=wait)
        )
    response.status_code = 429
    response.headers["Retry-After"] = str(wait)
    return response


def throttled(purpose: str) -> Callable[[View[P]], View[P]]:
    """Count each request to the view against the client address's ``purpose`` limit.

    Dispatchers (logged in or by HTTP Basic) are not counted.
    """

    def decorator(view: View[P]) -> View[P]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            staff = g.get("user") is not None and g.user.role == "dispatcher"
            wait = 0 if staff else limiter(purpose).take(client_address())
            if wait:
                return too_many(wait, field="rate", message=TOO_MANY_REQUESTS)
            return view(*args, **kwargs)

        return wrapped

    return decorator
