"""Staff accounts (dispatchers, analysts): hashed passwords, login pages and role checks."""

from __future__ import annotations

import functools
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from planner.errors import BookingError, ConflictError
from planner.store import Store, User
from web.i18n import gettext as _

ROLES = ("dispatcher", "analyst")

#: Failed logins allowed per client address within ``LOGIN_WINDOW_S`` before refusing.
MAX_FAILED_LOGINS = 5
LOGIN_WINDOW_S = 300

bp = Blueprint("auth", __name__, url_prefix="/auth")


def add_user(store: Store, name: str, role: str, password: str) -> None:
    """Create a staff account.

    Raises
    ------
    BookingError
        If the name, role or password is not acceptable.
    ConflictError
        If the name is taken.
    """
    name = name.strip()
    if not name or len(name) > 80:
        raise BookingError("name", "must be 1 to 80 characters")
    if role not in ROLES:
        raise BookingError("role", f"must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise BookingError("password", "must have at least 8 characters")
    with store.session() as s:
        if s.scalar(select(User).where(User.name == name)) is not None:
            raise ConflictError("name", f"user {name!r} exists already")
        s.add(User(name=name, role=role, password_hash=generate_password_hash(password)))


def check_user(store: Store, name: str, password: str) -> User | None:
    """The user if ``password`` is theirs, else None."""
    with store.session() as s:
        user = s.scalar(select(User).where(User.name == name))
    if user is None or not check_password_hash(user.password_hash, password):
        return None
    return user


def _store() -> Store:
    return current_app.extensions["rufbus"].store


def load_user() -> None:
    """Put the logged-in user (session) or the HTTP Basic user on ``g.user``."""
    g.user = None
    user_id = session.get("user_id")
    if user_id is not None:
        with _store().session() as s:
            g.user = s.get(User, user_id)
        return
    auth = request.authorization
    if auth is not None and auth.type == "basic" and auth.username and auth.password:
        g.user = check_user(_store(), auth.username, auth.password)


def role_required(role: str, *, api: bool = False) -> Callable:
    """Let only staff with ``role`` reach a view: JSON 401/403 for the API, a login page else."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.user is None:
                if not api:
                    return redirect(url_for("auth.login", next=request.path))
                response = jsonify(error={"field": "authorization", "message": "log in first"})
                response.headers["WWW-Authenticate"] = 'Basic realm="Rufbus"'
                return response, 401
            if g.user.role != role:
                msg = f"needs the {role} role"
                if api:
                    return jsonify(error={"field": "authorization", "message": msg}), 403
                return render_template("auth/forbidden.html", message=msg), 403
            return view(*args, **kwargs)

        return wrapped

    return decorator


class LoginLimiter:
    """Counts failed logins per client address in a sliding window (one per app)."""

    def __init__(self) -> None:
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    def blocked(self, key: str) -> bool:
        window = self.failures[key]
        while window and window[0] < time.monotonic() - LOGIN_WINDOW_S:
            window.popleft()
        return len(window) >= MAX_FAILED_LOGINS

    def failed(self, key: str) -> None:
        self.failures[key].append(time.monotonic())


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    limiter: LoginLimiter = current_app.extensions["rufbus_login_limiter"]
    client = request.remote_addr or "unknown"
    if limiter.blocked(client):
        flash(_("Zu viele Anmeldeversuche. Bitte warten Sie einige Minuten."), "error")
        return render_template("auth/login.html", next=""), 429
    user = check_user(_store(), request.form.get("name", ""), request.form.get("password", ""))
    if user is None:
        limiter.failed(client)
        flash(_("Benutzername oder Passwort falsch."), "error")
        return render_template("auth/login.html", next=request.form.get("next", "")), 401
    session.clear()
    session["user_id"] = user.id
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("dispatch.day" if user.role == "dispatcher" else "dispatch.analysis")
    return redirect(target)


@bp.post("/logout")
def logout():
    session.pop("user_id", None)
    return redirect(url_for("resident.index"))


def init_app(app: Flask) -> None:
    """Secure session cookies, the per-app login limiter and ``g.user`` for every request."""
    # set, not setdefault: Flask's defaults already define these keys (Secure off, no SameSite)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=True
    )
    app.extensions["rufbus_login_limiter"] = LoginLimiter()
    app.before_request(load_user)
    app.register_blueprint(bp)
