"""Who may use a route. Every lms view declares its roles with ``roles_required`` or ``public``.

The access-matrix test walks the URL map and fails for any lms route that declares neither.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

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


def uses_own_accounts() -> bool:
    """Whether lms keeps its own log-ins (standalone), rather than a host app's users."""
    config = current_app.config
    return config.get("LMS_CURRENT_PERSON") is None and config.get("LMS_HOST_USER") is None


def current_person() -> Person | None:
    supplier = current_app.config.get("LMS_CURRENT_PERSON")
    if supplier is not None:
        return supplier()
    if current_app.config.get("LMS_HOST_USER") is not None:
        return _host_person()
    # The person itself, not Flask-Login's proxy: a page reads the person dozens of times, and
    # each read through the proxy looks the user up again in the request context.
    person = current_user._get_current_object()  # type: ignore[attr-defined]
    return person if person is not None and person.is_authenticated else None


def _host_person() -> Person | None:
    """The host's current user as an lms person, once per request. A visit that changes
    nothing costs one query; a first visit, or a new name, email or role from the host, is
    written in a short transaction of its own, so the request's own work never rides on it."""
    if "lms_host_person" in g:
        return g.lms_host_person
    from lms.services import host_users

    config = current_app.config
    user = config["LMS_HOST_USER"]()
    person = None
    if user is not None:
        roles = config.get("LMS_HOST_ROLES")
        wanted = host_users.read(user, roles(user) if roles is not None else None)
        session = db_session()
        person = host_users.find(session, wanted)
        if person is None or not host_users.in_step(person, wanted):
            writer = current_app.extensions["lms"].db.session()
            try:
                person_id = host_users.person_for(
                    writer, wanted, link_by_email=bool(config["LMS_HOST_LINK_BY_EMAIL"])).id
                writer.commit()
            except host_users.HostUserError as exc:
                writer.rollback()
                g.lms_host_person = None  # the error page is shown to nobody in particular
                abort(409, description=exc.message)
            finally:
                writer.close()
            person = session.get(Person, person_id, populate_existing=True)
        if not person.active:
            g.lms_host_person = None
            abort(403, description=_("Your training account is switched off. Ask the "
                                     "programme's admin."))
    g.lms_host_person = person
    return person


def _to_log_in() -> Any:
    """Nobody logged in: the log-in page, back here afterwards. A form sent after the log-in
    ended is kept, to be offered back once the same person logs in (``kept_forms``)."""
    if current_app.config.get("LMS_HOST_USER") is not None:
        login_url = current_app.config.get("LMS_HOST_LOGIN_URL")
        if login_url is None:
            abort(401)
        back = request.full_path.rstrip("?")
        return redirect(login_url(back) if callable(login_url) else
                        f"{login_url}{'&' if '?' in login_url else '?'}"
                        f"{urlencode({'next': back})}")
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
                abort(403, description=_("Your role does not give you access to this page."))
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
