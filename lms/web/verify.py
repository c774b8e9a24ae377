"""The public certificate check: anyone with a code (a clinic, an employer) sees whether a
certificate is genuine and still valid, and nothing else about the person.

Failed look-ups are counted per address (``certificates.verify_blocked``) so codes cannot be
guessed; the pages are kept out of search engines and send no referrer.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.config import content_folder
from lms.services import certificates
from lms.web.access import db_session, public
from lms.web.addresses import external_url
from lms.web.blueprint import make_blueprint
from lms.web.programme import today, zone

bp = make_blueprint("lms_verify", __name__)


def certificates_folder() -> Path:
    """Where the certificate templates are (``LMS_CERTIFICATES_FOLDER``)."""
    return content_folder(current_app.config["LMS_CERTIFICATES_FOLDER"], "certificates")


def verify_url(code: str) -> str:
    """The address printed on a certificate and in its QR code."""
    return external_url("lms_verify.certificate", code=certificates.grouped(code))


@bp.after_request
def private_page(response):
    # A certificate page names a person: no search engine listing, no referrer to other sites.
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.route("/verify")
@public
def form():
    typed = request.args.get("code", "")
    if typed.strip():
        # Only letters and digits reach the URL ("AB/CD" must not become another path).
        clean = "".join(ch for ch in certificates.normalise_code(typed) if ch.isalnum())
        if clean:
            return redirect(url_for("lms_verify.certificate", code=clean[:64]))
    return render_template("lms/verify.html", certificate=None, status=None, typed=typed)


@bp.route("/verify/<code>")
@public
def certificate(code: str):
    session = db_session()
    address = request.remote_addr or "unknown"
    config = current_app.config
    state = certificates.verify_blocked(
        session, address, per_address=config["LMS_VERIFY_THROTTLE_PER_ADDRESS"],
        window=timedelta(minutes=config["LMS_LOGIN_THROTTLE_WINDOW_MINUTES"]))
    if state.blocked:
        minutes = max(1, int(state.retry_after.total_seconds() // 60) + 1)
        return render_template(
            "lms/verify.html", certificate=None, status=None, typed=code,
            problem=_("Too many codes were not found from your connection. Try again in "
                      "%(m)d minutes.", m=minutes)), 429
    found = certificates.find_by_code(session, code)
    if found is None:
        certificates.record_failed_lookup(session, address)
        session.commit()
        return render_template("lms/verify.html", certificate=None, status=None, typed=code,
                               problem=_("No certificate has this code.")), 404
    status = certificates.status(session, found, today(), zone())
    return render_template("lms/verify.html", certificate=found, status=status)
