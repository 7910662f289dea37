"""Staff accounts (dispatchers, analysts): hashed passwords and role checks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, g, jsonify, request, session
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from planner.errors import BookingError, ConflictError
from planner.store import Store, User

ROLES = ("dispatcher", "analyst")


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


def _current_user() -> User | None:
    from web import services

    store = services().store
    if session.get("user_id") is not None:
        with store.session() as s:
            return s.get(User, session["user_id"])
    auth = request.authorization
    if auth is not None and auth.type == "basic" and auth.username and auth.password:
        return check_user(store, auth.username, auth.password)
    return None


def role_required(role: str) -> Callable:
    """Let only staff with ``role`` (by session login or HTTP Basic) reach an API view."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = _current_user()
            if user is None:
                response = jsonify(error={"field": "authorization", "message": "log in first"})
                response.headers["WWW-Authenticate"] = 'Basic realm="Rufbus"'
                return response, 401
            if user.role != role:
                msg = f"needs the {role} role"
                return jsonify(error={"field": "authorization", "message": msg}), 403
            g.user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator


def init_app(app: Flask) -> None:
    """Nothing global to set up yet; kept so that the factory reads like flaskr's."""
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
