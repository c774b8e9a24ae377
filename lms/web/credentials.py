"""Open Badges credentials: the trainee's download, and what anyone needs to verify one.

- ``/.well-known/jwks.json`` (public): the programme's public key as a JWK Set.
- ``/credentials/status/revocation`` (public): the signed revocation status list.
- ``/credentials/achievements/<slug>/<version>`` (public): the achievement a credential names.
- ``/my/certificates/<id>.json`` (trainees, their own only): the signed credential.

All under lms's URL prefix. Without a key (``lms keys create``) the public addresses answer
404 and the download 503, each saying why, and the certificates page offers no JSON.
docs/credentials.md describes the format.
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, render_template, url_for
from flask_babel import gettext as _

from lms import signing_keys
from lms.models import Certificate
from lms.models.people import TRAINEE
from lms.services import certificates, credentials
from lms.signing_keys import IssuerKey, SigningKeyError
from lms.web.access import current_person, db_session, public, roles_required
from lms.web.addresses import external_url
from lms.web.blueprint import make_blueprint
from lms.web.programme import zone
from lms.web.verify import verify_url

bp = make_blueprint("lms_credentials", __name__)

NO_KEY = ("This programme signs no credentials yet: whoever runs it creates a signing key "
          "with `lms keys create`.")
BROKEN_KEY = ("This programme's signing key cannot be used at the moment; whoever runs it "
              "will find the reason in the server log.")


class _Unavailable(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def issuer_key() -> IssuerKey:
    """The programme's key; ``_Unavailable`` (404 without one, 503 if it is unusable)."""
    try:
        key = signing_keys.load(signing_keys.key_file(current_app))
    except SigningKeyError:
        current_app.logger.exception("The signing key cannot be used")
        raise _Unavailable(BROKEN_KEY, 503) from None
    if key is None:
        raise _Unavailable(NO_KEY, 404)
    return key


def signing_available() -> bool:
    try:
        issuer_key()
    except _Unavailable:
        return False
    return True


def issuer() -> credentials.Issuer:
    """The programme as issuer, with addresses from ``LMS_PUBLIC_URL`` (never the Host)."""
    return credentials.Issuer(
        id=external_url("lms_home.index").rstrip("/"),
        name=current_app.config["LMS_SITE_NAME"],
        status_list_url=external_url("lms_credentials.status_list"),
        achievement_url=lambda slug, version: external_url(
            "lms_credentials.achievement", slug=slug, version=version),
        verify_url=verify_url,
        zone=zone())


def pdf_attachments(certificate: Certificate) -> list[tuple[str, bytes]]:
    """The signed credential to embed in the certificate's PDF; none without a usable key."""
    try:
        key = issuer_key()
    except _Unavailable:
        return []
    token = credentials.signed_credential(db_session(), certificate, issuer(), key)
    return [(file_name(certificate), credentials.credential_file(token))]


def file_name(certificate: Certificate) -> str:
    return f"certificate-{certificates.grouped(certificate.code)}-open-badge.json"


def credential_url(certificate: Certificate) -> str | None:
    """The JSON download of a certificate, or None while nothing is signed here."""
    if not signing_available():
        return None
    return url_for("lms_credentials.my_credential", certificate_id=certificate.id)


# A Jinja global under lms's prefix, not a context processor: a host app's own templates never
# pay for (or see a change from) lms's helpers.
bp.record_once(lambda state: state.app.jinja_env.globals.update(
    lms_credential_url=credential_url))


def _public_json(data: dict, *, max_age: int) -> Response:
    response = jsonify(data)
    return _public(response, max_age=max_age)


def _public(response: Response, *, max_age: int) -> Response:
    # Verifiers (a wallet in a browser) fetch these from other sites.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


def _unavailable(problem: _Unavailable) -> Response:
    response = jsonify({"error": str(problem)})
    response.status_code = problem.status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/.well-known/jwks.json")
@public
def jwks():
    try:
        key = issuer_key()
    except _Unavailable as problem:
        return _unavailable(problem)
    # Short caching: a replaced key (``lms keys create --force``) shows within minutes.
    return _public_json(credentials.key_set([key]), max_age=300)


@bp.route("/credentials/status/revocation")
@public
def status_list():
    try:
        key = issuer_key()
    except _Unavailable as problem:
        return _unavailable(problem)
    token = credentials.signed_status_list(db_session(), issuer(), key)
    response = Response(token, mimetype=credentials.MEDIA_TYPE)
    return _public(response, max_age=credentials.STATUS_LIST_TTL_MS // 1000)


@bp.route("/credentials/achievements/<slug>/<id:version>")
@public
def achievement(slug: str, version: int):
    try:
        issuer_key()
    except _Unavailable as problem:
        return _unavailable(problem)
    found = credentials.find_achievement(db_session(), slug, version)
    if found is None:
        return _unavailable(_Unavailable("There is no such achievement.", 404))
    curriculum, policy = found
    data = {"@context": [credentials.VC_CONTEXT, credentials.OB_CONTEXT],
            **credentials.achievement(db_session(), curriculum, policy, issuer())}
    return _public_json(data, max_age=3600)


@bp.route("/my/certificates/<id:certificate_id>.json")
@roles_required(TRAINEE)
def my_credential(certificate_id: int):
    session = db_session()
    found = certificates.own_certificate(session, current_person().id, certificate_id)
    if found is None:  # someone else's is answered like a missing one
        return render_template("lms/error.html", code=404, description=_(
            "There is no such certificate of yours.")), 404
    try:
        key = issuer_key()
    except _Unavailable:
        return render_template("lms/error.html", code=503, description=_(
            "Your certificate cannot be downloaded as an Open Badge here yet: this programme "
            "has no working signing key. Your verify link and PDF work meanwhile.")), 503
    token = credentials.signed_credential(session, found, issuer(), key)
    return Response(credentials.credential_file(token), mimetype="application/json",
                    headers={"Content-Disposition":
                             f'attachment; filename="{file_name(found)}"',
                             "Cache-Control": "private, no-store"})
