"""Certificates of deployment readiness, and the public check of one by its code.

- A certificate is issued from a "deploy" sign-off, once: a second call for the same sign-off
  (a double-click) returns the first. It prints the trainee's name as it is that day.
- Its code is 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L, 5/S, 2/Z,
  8/B), drawn with ``secrets``: about 56 bits, so guessing one is hopeless, and the verify page
  throttles failed look-ups per address on top (``verify_blocked``). Codes are stored without
  dashes and shown in groups of four; look-ups accept any case, dashes and spaces.
- Status, derived every time: revoked (a "revoke" sign-off names the certificate's sign-off;
  dated by that record), else expired once today is after ``expires_on`` (the policy's
  ``recertify_after_months`` after issue; None: never), else valid.
- Wording and layout live in files (``certificates/<kind>/certificate.html`` and ``.css``),
  rendered in a sandboxed Jinja environment; the PDF is made by WeasyPrint (the optional
  ``pdf`` extra) with every URL refused, so a template can never read a local file or call
  out to the network.
"""

from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from babel.dates import format_date
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.models import Certificate, Person, SignOff
from lms.models._types import utcnow
from lms.services import audit, login_throttle, standards
from lms.services.errors import ServiceError, _l
from lms.services.standards import Policy
from lms.services.time_zones import local_today

# No look-alikes: 0/O, 1/I/L, 5/S, 2/Z and 8/B are all left out (25 characters).
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 12
GROUP = 4

VALID = "valid"
REVOKED = "revoked"
EXPIRED = "expired"

DEPLOY = "deploy"
REVOKE = "revoke"

DEFAULT_KIND = "deployment"  # the folder under certificates/ holding the template

# Failed look-ups share lms_login_failure with log-ins, under a key no account can have (no
# "@"), and with the address prefixed so they never count towards an address's log-ins.
VERIFY_KEY = "#certificate-verify"
_ADDRESS_PREFIX = "verify:"

PDF_INSTALL_HINT = ("PDF certificates need WeasyPrint: install the optional extra with "
                    "pip install -e '.[pdf]' and the system libraries Pango and HarfBuzz "
                    "(Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
                    "libharfbuzz-subset0).")


class PdfUnavailable(RuntimeError):
    """WeasyPrint (the ``pdf`` extra) or the system libraries it needs are not installed."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(PDF_INSTALL_HINT + (f" ({detail})" if detail else ""))


class CertificateTemplateError(RuntimeError):
    """The certificate template is missing, or refers to something it may not fetch."""


# --- codes -------------------------------------------------------------------------------


def new_code() -> str:
    """A fresh code, stored as it is here (no dashes)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str | None) -> str:
    """What someone typed, as stored: upper case, without dashes, spaces or dots."""
    return re.sub(r"[\s\-\u2010-\u2015.]", "", text or "").upper()


def grouped(code: str) -> str:
    """``K7QXM3RATW9P`` -> ``K7QX-M3RA-TW9P``: easier to read out and to type."""
    code = normalise_code(code)
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def is_well_formed(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(c in ALPHABET for c in code)


def find_by_code(session: Session, code: str | None) -> Certificate | None:
    """The certificate with this code, typed any way; None for anything else (no query for
    text that cannot be a code)."""
    clean = normalise_code(code)
    if not is_well_formed(clean):
        return None
    return session.scalar(select(Certificate).where(Certificate.code == clean))


# --- issuing -----------------------------------------------------------------------------


add_months = standards.add_months  # one month arithmetic for freshness and expiry


def expiry(issued_on: date, sign_off: SignOff) -> date | None:
    """When re-certification is due, by the policy the sign-off was judged on."""
    if sign_off.policy is None:
        return None
    months = Policy.from_rules(sign_off.policy.rules or {}).recertify_after_months
    return add_months(issued_on, int(months)) if months else None


def _unused_code(session: Session) -> str:
    # A clash is about one in 10**16 per pair; looking costs one indexed query.
    while True:
        code = new_code()
        if session.scalar(select(Certificate.id).where(Certificate.code == code)) is None:
            return code


def issue(session: Session, sign_off: SignOff, *, programme: str, now: datetime | None = None,
          zone: str = "UTC") -> Certificate:
    """The certificate of a deploy sign-off, issued now, or the one already issued for it.

    Dated the sign-off's day in ``zone`` (the programme's). Audited as a certificate event by
    the person who signed off. Only flushes."""
    if sign_off.decision != DEPLOY:
        raise ServiceError(_l("A certificate is issued only when a trainee is signed off for "
                              "deployment."))
    if sign_off.id is None:
        session.flush()
    existing = _for_sign_off(session, sign_off.id)
    if existing is not None:
        return existing
    now = now or utcnow()
    trainee = session.get(Person, sign_off.trainee_id)
    if trainee is None:
        raise ServiceError(_l("There is no such trainee."))
    issued_on = local_today(zone, sign_off.created_at or now)
    certificate = Certificate(sign_off_id=sign_off.id, trainee_id=sign_off.trainee_id,
                              code=_unused_code(session), name=trainee.name,
                              programme=programme, issued_on=issued_on,
                              expires_on=expiry(issued_on, sign_off), created_at=now)
    try:
        # A savepoint: a simultaneous second click hits the unique sign-off and gets the first.
        with session.begin_nested():
            session.add(certificate)
            session.flush()
    except IntegrityError:
        existing = _for_sign_off(session, sign_off.id)
        if existing is None:
            raise
        return existing
    audit.record(session, actor_id=sign_off.signed_by_id, action=audit.CERTIFICATE,
                 subject_type="certificate", subject_id=certificate.id,
                 person_id=sign_off.trainee_id, now=now)
    return certificate


def _for_sign_off(session: Session, sign_off_id: int) -> Certificate | None:
    return session.scalar(select(Certificate).where(Certificate.sign_off_id == sign_off_id))


def certificates_of(session: Session, trainee_id: int) -> list[Certificate]:
    """A trainee's certificates, newest first."""
    return list(session.scalars(select(Certificate).where(Certificate.trainee_id == trainee_id)
                                .order_by(Certificate.issued_on.desc(),
                                          Certificate.id.desc())))


def own_certificate(session: Session, trainee_id: int, certificate_id: int
                    ) -> Certificate | None:
    """The certificate if it is this trainee's; None otherwise (never says whose it is)."""
    found = session.get(Certificate, certificate_id)
    return found if found is not None and found.trainee_id == trainee_id else None


# --- status ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    state: str  # valid | revoked | expired
    on: date | None = None  # the day it was revoked, or its expiry day

    @property
    def valid(self) -> bool:
        return self.state == VALID


def statuses(session: Session, certificates: Iterable[Certificate], today: date,
             zone: str = "UTC") -> dict[int, Status]:
    """Each certificate's status by id, in one query whatever their number."""
    found = list(certificates)
    sign_off_ids = [c.sign_off_id for c in found]
    revoked: dict[int, datetime] = {}
    if sign_off_ids:
        for revokes_id, created_at in session.execute(
                select(SignOff.revokes_id, SignOff.created_at)
                .where(SignOff.decision == REVOKE, SignOff.revokes_id.in_(sign_off_ids))
                .order_by(SignOff.created_at, SignOff.id)):
            revoked.setdefault(revokes_id, created_at)  # the first revocation dates it
    result: dict[int, Status] = {}
    for certificate in found:
        if certificate.sign_off_id in revoked:
            result[certificate.id] = Status(REVOKED,
                                            local_today(zone, revoked[certificate.sign_off_id]))
        elif certificate.expires_on is not None and today > certificate.expires_on:
            result[certificate.id] = Status(EXPIRED, certificate.expires_on)
        else:
            result[certificate.id] = Status(VALID)
    return result


def status(session: Session, certificate: Certificate, today: date, zone: str = "UTC"
           ) -> Status:
    return statuses(session, [certificate], today, zone)[certificate.id]


# --- throttling the public look-up -------------------------------------------------------


def verify_blocked(session: Session, address: str, *, per_address: int, window: timedelta,
                   now: datetime | None = None) -> login_throttle.ThrottleState:
    """Whether this address has failed too many look-ups within the window."""
    # The shared key spans every address, so its own limit is never the one that bites.
    policy = login_throttle.ThrottlePolicy(per_account=sys.maxsize, per_address=per_address,
                                           window=window)
    return login_throttle.check(session, VERIFY_KEY, _throttle_address(address), policy, now)


def record_failed_lookup(session: Session, address: str, now: datetime | None = None) -> None:
    login_throttle.record_failure(session, VERIFY_KEY, _throttle_address(address), now)


def _throttle_address(address: str) -> str:
    return (_ADDRESS_PREFIX + (address or "unknown"))[:64]


# --- rendering ---------------------------------------------------------------------------


def template_files(template_folder: Path, kind: str = DEFAULT_KIND) -> tuple[Path, Path]:
    """The HTML and CSS of a kind of certificate, under the certificates folder."""
    folder = Path(template_folder) / kind
    return folder / "certificate.html", folder / "certificate.css"


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code for ``url`` (no external file, so the PDF fetches nothing)."""
    import segno

    code = segno.make(url, error="m")
    # segno writes the SVG itself and escapes the title: nothing unescaped comes from a user.
    return Markup(code.svg_inline(scale=4, border=2, omitsize=True,  # noqa: S704
                                  svgclass="qr", title=url))


def render_html(certificate: Certificate, *, verify_url: str, template_folder: Path,
                kind: str = DEFAULT_KIND, locale: str = "en") -> str:
    """The certificate as a standalone HTML page, from the files in ``template_folder/kind``.

    The template gets plain values only (never the database row) and runs in Jinja's sandbox
    with autoescaping, since anyone who edits the wording edits the template."""
    from jinja2 import FileSystemLoader, TemplateNotFound
    from jinja2.sandbox import SandboxedEnvironment

    html_file, css_file = template_files(template_folder, kind)
    try:
        css = css_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        css = ""
    if "</" in css:  # it goes inside <style>: nothing may close that early
        raise CertificateTemplateError(f"{css_file} must not contain '</'.")
    environment = SandboxedEnvironment(loader=FileSystemLoader(str(html_file.parent)),
                                       autoescape=True)
    try:
        template = environment.get_template(html_file.name)
    except TemplateNotFound as exc:
        raise CertificateTemplateError(f"There is no certificate template at {html_file}.") \
            from exc
    return template.render(
        name=certificate.name,
        programme=certificate.programme,
        issued_on=format_date(certificate.issued_on, "long", locale=locale),
        expires_on=(format_date(certificate.expires_on, "long", locale=locale)
                    if certificate.expires_on else None),
        code=grouped(certificate.code),
        verify_url=verify_url,
        qr_code=qr_svg(verify_url),
        css=Markup(css),  # noqa: S704 (the project's own stylesheet, checked above)
    )


def _weasyprint():
    try:
        import weasyprint
    except ImportError as exc:
        raise PdfUnavailable() from exc
    except OSError as exc:  # the package is there but Pango or HarfBuzz is not
        raise PdfUnavailable(str(exc)) from exc
    return weasyprint


def pdf_available() -> bool:
    try:
        _weasyprint()
    except PdfUnavailable:
        return False
    return True


class _RefusingFetcher:
    """WeasyPrint's URL fetcher that fetches nothing: file:, http:, https: or data:.

    A plain callable for WeasyPrint before 68; ``_fail_on_errors`` is what later versions read
    to decide whether a failed fetch is only a warning (it is; ``render_pdf`` then raises)."""

    _fail_on_errors = False

    def __init__(self) -> None:
        self.refused: list[str] = []

    def __call__(self, url: str, *args, **kwargs):
        self.refused.append(url)
        raise ValueError(f"Certificates fetch no URLs: {url}")


def render_pdf(html: str, attachments: Iterable[tuple[str, bytes]] = ()) -> bytes:
    """The PDF of a rendered certificate, with ``attachments`` (name, bytes) embedded as files
    (the signed credential). Raises ``PdfUnavailable`` without WeasyPrint, and
    ``CertificateTemplateError`` if the page refers to any URL (a file, an image, a font)."""
    weasyprint = _weasyprint()
    fetcher = _RefusingFetcher()
    files = [weasyprint.Attachment(string=data, name=name, url_fetcher=fetcher)
             for name, data in attachments]
    pdf = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf(
        attachments=files)
    if fetcher.refused:
        raise CertificateTemplateError(
            "The certificate template refers to URLs, and certificates fetch none (keep "
            "everything in certificate.html and certificate.css): "
            + ", ".join(url[:100] for url in fetcher.refused))
    return pdf
