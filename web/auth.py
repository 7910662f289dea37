"""Staff accounts (dispatchers, analysts, drivers): hashed passwords, login and role checks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
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
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import ValidationError, validate_csrf
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from planner.errors import BookingError, ConflictError
from planner.store.db import ROLES, Store, User
from web.i18n import N_
from web.i18n import gettext as _
from web.limits import P, View, client_address, limiter, too_many
from web.messages import http_error_text, needs_role_text
from web.services import services

#: What a client blocked by the login limit reads (German source text of ``web.i18n``).
TOO_MANY_LOGINS = N_("Zu viele Anmeldeversuche.")
#: Methods that change something: a cookie alone never authorises them in the API.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: Where each role lands after logging in.
START_PAGES = {
    "dispatcher": "dispatch.day",
    "analyst": "dispatch.analysis",
    "driver": "driver.index",
}

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
    return services().store


def load_user() -> Response | None:
    """Put the logged-in user (session) or the HTTP Basic user on ``g.user``.

    HTTP Basic logins count against the same per-address limit as the login form: while
    an address is blocked, every Basic request from it gets 429, right password or not.
    ``g.by_session`` says whether the session cookie authenticated the request.
    """
    g.user, g.by_session = None, False
    user_id = session.get("user_id")
    if user_id is not None:
        with _store().session() as s:
            g.user = s.get(User, user_id)
        g.by_session = g.user is not None
        return None
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return None
    login_limiter, client = limiter("login"), client_address()
    wait = login_limiter.retry_after(client)
    if wait:
        return too_many(wait, field="authorization", message=TOO_MANY_LOGINS)
    if auth.username and auth.password:
        g.user = check_user(_store(), auth.username, auth.password)
    if g.user is None:
        login_limiter.add(client)
    return None


def guard_api_changes() -> Response | None:
    """Refuse a state-changing API request whose credentials a browser may have added.

    A request authenticated by the session cookie needs the session's CSRF token in the
    ``X-CSRFToken`` header (403, field ``csrf``). A request with any credentials (cookie or
    HTTP Basic, which browsers also resend by themselves) is refused when its ``Origin``
    is another site (403, field ``origin``). Anonymous requests and HTTP Basic clients
    that send no ``Origin`` (scripts, curl) need neither.
    """
    if request.method not in UNSAFE_METHODS or g.user is None:
        return None
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        return _json_error("origin", f"requests from {origin} may not change anything", 403)
    if g.by_session and current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except ValidationError as exc:
            message = f"{exc} A logged-in browser sends the page's token as X-CSRFToken."
            return _json_error("csrf", message, 403)
    return None


def _json_error(field: str, message: str, status: int) -> Response:
    response = jsonify(error={"field": field, "message": message})
    response.status_code = status
    return response


def role_required(*roles: str, api: bool = False) -> Callable[[View[P]], View[P]]:
    """Let only staff with one of ``roles`` reach a view.

    The API answers JSON 401 (not logged in) or 403 (another role); pages send anonymous
    visitors to the login page and show other roles a 403 page.
    """

    def decorator(view: View[P]) -> View[P]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            if g.user is None:
                if not api:
                    return redirect(url_for("auth.login", next=request.path))
                response = jsonify(error={"field": "authorization", "message": "log in first"})
                response.headers["WWW-Authenticate"] = 'Basic realm="Rufbus"'
                return response, 401
            if g.user.role not in roles:
                if api:
                    msg = f"needs the {' or '.join(roles)} role"
                    return jsonify(error={"field": "authorization", "message": msg}), 403
                title = http_error_text(403)[0]
                page = render_template("error.html", title=title, message=needs_role_text(roles))
                return page, 403
            return view(*args, **kwargs)

        return wrapped

    return decorator


def start_page(role: str) -> str:
    """Where staff with ``role`` land after logging in."""
    return url_for(START_PAGES[role])


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The login form, and signing in (failed attempts are rate-limited)."""
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    login_limiter, client = limiter("login"), client_address()
    wait = login_limiter.retry_after(client)
    if wait:
        flash(_("Zu viele Anmeldeversuche. Bitte warten Sie einige Minuten."), "error")
        return render_template("auth/login.html", next=""), 429, {"Retry-After": str(wait)}
    user = check_user(_store(), request.form.get("name", ""), request.form.get("password", ""))
    if user is None:
        login_limiter.add(client)
        flash(_("Benutzername oder Passwort falsch."), "error")
        return render_template("auth/login.html", next=request.form.get("next", "")), 401
    # a fresh session against fixation, in the language the person chose before logging in
    lang = session.get("lang")
    session.clear()
    session["user_id"] = user.id
    if lang is not None:
        session["lang"] = lang
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = start_page(user.role)
    return redirect(target)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out and go to the rider's start page."""
    session.pop("user_id", None)
    return redirect(url_for("resident.index"))


def init_app(app: Flask) -> None:
    """Secure session cookies and ``g.user`` for every request."""
    # set, not setdefault: Flask's defaults already define these keys (Secure off, no SameSite)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=True
    )
    app.before_request(load_user)
    app.register_blueprint(bp)
