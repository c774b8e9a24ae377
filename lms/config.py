"""Default configuration. Every key is under the ``LMS_`` prefix; a host app may set any of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_ROOT.parent

DEFAULT_CONFIG: dict[str, Any] = {
    # Where lms's pages live inside the app ("" standalone, e.g. "/training" in a host app).
    "LMS_URL_PREFIX": "",
    # Content folders; None means ./curricula and ./quizzes, else the source checkout's.
    "LMS_CURRICULA_FOLDER": None,
    "LMS_QUIZZES_FOLDER": None,
    # Any SQLAlchemy URL; None means DATABASE_URL, else SQLite under the instance folder.
    "LMS_DATABASE_URI": None,
    "LMS_ENGINE_OPTIONS": {},
    # Demo mode: demo accounts may log in, and a missing secret key is generated.
    "LMS_DEMO": False,
    # Run the Alembic migrations when the app starts (the standalone app does).
    "LMS_AUTO_UPGRADE": False,
    "LMS_BASE_TEMPLATE": "lms/base.html",
    "LMS_SITE_NAME": "Peer supporter training",
    # A host app with its own users: a callable giving the host's current user (anything with
    # ``id``, ``name`` and ``email``, or None) and, optionally, one giving that user's lms roles.
    # lms makes and updates their Person itself and shows none of its own log-in pages.
    "LMS_HOST_USER": None,
    "LMS_HOST_ROLES": None,
    # Where anonymous visitors go to log in to the host (a URL, or a callable taking the page
    # to come back to); None answers 401.
    "LMS_HOST_LOGIN_URL": None,
    # A first visit may take over an lms account with the same email that has a password
    # (moving a standalone programme into the host); accounts made by enrolment always are.
    "LMS_HOST_LINK_BY_EMAIL": False,
    # Lower level: a callable returning the current lms Person itself (or None).
    "LMS_CURRENT_PERSON": None,
    "LMS_LOGIN_THROTTLE_PER_ACCOUNT": 5,
    "LMS_LOGIN_THROTTLE_PER_ADDRESS": 20,
    "LMS_LOGIN_THROTTLE_WINDOW_MINUTES": 15,
    # Log-in sessions end after this long without a page view, and this long after log-in.
    "LMS_SESSION_IDLE_MINUTES": 120,
    "LMS_SESSION_LIFETIME_HOURS": 24,
    # Invitation links (new accounts) and password-reset links: how long each stays valid.
    "LMS_INVITATION_VALID_HOURS": 14 * 24,
    "LMS_PASSWORD_RESET_VALID_HOURS": 2,
    # Mail (optional): without a server, links are handed out on screen or as a CSV.
    "LMS_MAIL_SERVER": None,
    "LMS_MAIL_PORT": 587,
    "LMS_MAIL_USE_TLS": True,
    "LMS_MAIL_USE_SSL": False,
    "LMS_MAIL_USERNAME": None,
    "LMS_MAIL_PASSWORD": None,
    "LMS_MAIL_SENDER": None,
    # "smtp", or "memory" to keep messages in lms.mail.outbox(app) (tests, or a host's own sender).
    "LMS_MAIL_BACKEND": "smtp",
    # Enrolment emails at most this many invitations in one request; larger files get the CSV.
    "LMS_MAIL_MAX_PER_REQUEST": 100,
    # The programme's time zone: supervision, debrief and check-in dates ("today") use it.
    "LMS_TIMEZONE": "UTC",
    # Supervision and self-care check-ins are due this often unless a curriculum sets its own.
    "LMS_SUPERVISION_EVERY_DAYS": 30,
    "LMS_CHECK_IN_EVERY_DAYS": 7,
    # Supervision records and debriefs may be edited by their author for this long; after it,
    # a correction is a note added to the record.
    "LMS_RECORD_EDIT_WINDOW_DAYS": 7,
    # The standalone app behind a reverse proxy: how many proxies' X-Forwarded-* to trust.
    "LMS_TRUSTED_PROXIES": 0,
    # None: the log-in cookie is Secure when LMS_PUBLIC_URL starts with https://.
    "LMS_SESSION_COOKIE_SECURE": None,
    "LMS_PUBLIC_URL": None,
    # Security headers (CSP, frame-ancestors, nosniff, Referrer-Policy, HSTS over HTTPS) on
    # every lms response; a host app that sets its own turns these off.
    "LMS_SECURITY_HEADERS": True,
    # Certificate templates; None means ./certificates, else the source checkout's.
    "LMS_CERTIFICATES_FOLDER": None,
    # Failed look-ups on the public verify page per address (LMS_LOGIN_THROTTLE_WINDOW_MINUTES).
    "LMS_VERIFY_THROTTLE_PER_ADDRESS": 20,
    # The Ed25519 key (a JWK file) that signs certificates as Open Badges credentials; made by
    # `lms keys create`. None means lms-issuer-key.jwk in the instance folder.
    "LMS_ISSUER_KEY_FILE": None,
    # LTI 1.3 (docs/lti.md): how long lms waits for a platform's key set, token or gradebook.
    "LMS_LTI_HTTP_TIMEOUT": 5,
    # The interface languages offered (lms/translations), and the one used when neither the
    # person's choice nor their browser's languages match one of them.
    "LMS_LANGUAGES": ["en", "fr"],
    "LMS_DEFAULT_LOCALE": "en",
}


def content_folder(configured: str | None, name: str) -> Path:
    """Resolve a content folder: the configured path, ./<name>, or the source checkout's."""
    if configured:
        return Path(configured)
    here = Path.cwd() / name
    if here.is_dir():
        return here
    return SOURCE_ROOT / name
