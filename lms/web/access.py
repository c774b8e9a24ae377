"""Who may use a route. Every lms view declares its roles with ``roles_required`` or ``public``.

The access-matrix test walks the URL map and fails for any lms route that declares neither.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from lms.models import Person

F = TypeVar("F", bound=Callable[..., Any])


def db_session() -> Session:
    """The request's database session (closed when the app context ends)."""
    if "lms_session" not in g:
        g.lms_session = current_app.extensions["lms"].db.session()
    return g.lms_session


def current_person() -> Person | None:
    supplier = current_app.config.get("LMS_CURRENT_PERSON")
    if supplier is not None:
        return supplier()
    if current_user and current_user.is_authenticated:
        return current_user  # type: ignore[return-value]
    return None


def _to_log_in() -> Any:
    """Nobody logged in: the log-in page, back here afterwards. A form sent after the log-in
    ended is kept, to be offered back once the same person logs in (``kept_forms``)."""
    if current_app.config.get("LMS_CURRENT_PERSON") is not None:
        abort(401)
    from lms.web import kept_forms

    if request.method == "POST" and kept_forms.keep_if_possible():
        flash(_("You were logged out before this was sent. Log in again: what you typed has "
                "been kept."), "info")
    return redirect(url_for("lms_auth.login", next=request.full_path.rstrip("?")))


def roles_required(*roles: str) -> Callable[[F], F]:
    """Admit only people holding one of ``roles``: anonymous -> log-in page, others -> 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            person = current_person()
            if person is None:
                return _to_log_in()
            if not person.has_role(*roles):
                abort(403, description="Your role does not give you access to this page.")
            return view(*args, **kwargs)

        wrapper.lms_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def login_required(view: F) -> F:
    """Any logged-in person, whatever their roles (even none: they may still log out)."""
    from lms.models.people import ROLES

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_person() is None:
            return _to_log_in()
        return view(*args, **kwargs)

    wrapper.lms_roles = frozenset(ROLES)  # type: ignore[attr-defined]
    wrapper.lms_any_person = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def public(view: F) -> F:
    view.lms_roles = None  # type: ignore[attr-defined]
    return view
