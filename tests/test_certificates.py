"""Certificates: codes, issuing from a deploy sign-off, status, the public verify page (and
what it never shows), throttling, the PDF read back, the refusing URL fetcher, the trainee's
pages and life without WeasyPrint."""

from __future__ import annotations

import io
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from babel.dates import format_date
from jinja2.exceptions import SecurityError
from sqlalchemy import func, select

from lms.models import (
    AuditEvent,
    Certificate,
    CheckIn,
    CompetencyRating,
    SignOff,
    StandardsPolicy,
)
from lms.models._types import utcnow
from lms.services import audit, certificates
from lms.services.errors import ServiceError
from tests.conftest import ROOT

LOOK_ALIKES = "0O1IL5S2Z8B"
PROGRAMME = "Peer Support Foundations"


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def supervisor(make_person):
    return make_person("supervisor", name="Sam Supervisor")


@pytest.fixture
def policy(db, content):
    """A policy version of the test curriculum asking for re-certification after 24 months
    (numbered apart from any the curriculum's own standards file makes)."""
    number = (db.scalar(select(func.max(StandardsPolicy.number))
                        .where(StandardsPolicy.curriculum_id == content.id)) or 0) + 100
    row = StandardsPolicy(curriculum_id=content.id, number=number, content_hash="t" * 64,
                          rules={"recertify_after_months": 24}, current=False)
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def sign_off(db, content, policy, supervisor):
    """Insert a sign-off as the lead's sign-off service would (decision, evidence, policy)."""
    def make(trainee, decision="deploy", *, at=None, revokes=None, with_policy=True, **fields):
        row = SignOff(trainee_id=trainee.id, curriculum_id=content.id, decision=decision,
                      evidence=fields.pop("evidence", {}),
                      policy_id=policy.id if with_policy else None,
                      signed_by_id=supervisor.id, revokes_id=revokes.id if revokes else None,
                      created_at=at or utcnow(), **fields)
        db.add(row)
        db.commit()
        return row

    return make


@pytest.fixture
def issued(app, db, sign_off):
    """A certificate issued from a new deploy sign-off of ``trainee`` on ``at``."""
    def make(trainee, at=None, **fields):
        with app.app_context():
            certificate = certificates.issue(db, sign_off(trainee, at=at, **fields),
                                             programme=PROGRAMME)
            db.commit()
        return certificate

    return make


def day(value: date) -> str:
    """A date as the pages show it (``lms_date``, English)."""
    return format_date(value, "medium", locale="en")


# --- codes ---------------------------------------------------------------------------------


def test_codes_are_long_unguessable_and_free_of_look_alikes():
    codes = [certificates.new_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    assert all(len(code) >= 12 for code in codes)
    used = set("".join(codes))
    assert used <= set(certificates.ALPHABET)
    assert not used & set(LOOK_ALIKES)
    assert not set(certificates.ALPHABET) & set(LOOK_ALIKES)
    # Every character of the alphabet turns up: the codes are not drawn from a subset.
    assert used == set(certificates.ALPHABET)


def test_codes_are_shown_grouped_and_found_however_typed(app, db, trainee, issued):
    certificate = issued(trainee)
    code = certificate.code
    assert "-" not in code
    shown = certificates.grouped(code)
    assert shown == f"{code[:4]}-{code[4:8]}-{code[8:]}"
    for typed in (code, shown, code.lower(), f"  {code[:4]} {code[4:8]} {code[8:]} ",
                  shown.lower().replace("-", " - ")):
        assert certificates.find_by_code(db, typed).id == certificate.id, typed
    assert certificates.normalise_code(" k7qx-m3ra tw9p ") == "K7QXM3RATW9P"
    for wrong in ("", "   ", code[:-1], code + "A", "0" * 12, "'; drop table x; --", "x" * 500):
        assert certificates.find_by_code(db, wrong) is None, wrong


# --- issuing -------------------------------------------------------------------------------


def test_a_certificate_is_issued_only_from_a_deploy_sign_off(app, db, trainee, sign_off):
    with app.app_context():
        for decision in ("defer", "revoke"):
            with pytest.raises(ServiceError, match="signed off for deployment"):
                certificates.issue(db, sign_off(trainee, decision), programme=PROGRAMME)
    assert db.scalar(select(func.count()).select_from(Certificate)) == 0


def test_issue_prints_the_name_dates_the_sign_off_day_and_is_audited(app, db, trainee,
                                                                       supervisor, sign_off):
    signed = sign_off(trainee, at=datetime(2026, 1, 31, 15, 0, tzinfo=UTC))
    with app.app_context():
        certificate = certificates.issue(db, signed, programme=PROGRAMME)
        db.commit()
    assert certificate.name == "Tess Trainee"
    assert certificate.programme == PROGRAMME
    assert certificate.trainee_id == trainee.id
    assert certificate.issued_on == date(2026, 1, 31)
    assert certificate.expires_on == date(2028, 1, 31)  # the policy's 24 months
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == audit.CERTIFICATE))
    assert (event.actor_id, event.subject_type, event.subject_id, event.person_id) == \
        (supervisor.id, "certificate", certificate.id, trainee.id)


def test_a_second_issue_for_the_same_sign_off_returns_the_first(app, db, trainee, sign_off):
    signed = sign_off(trainee)
    with app.app_context():
        first = certificates.issue(db, signed, programme=PROGRAMME)
        db.commit()
        second = certificates.issue(db, signed, programme="Something else")
        db.commit()
    assert second.id == first.id and second.code == first.code
    assert db.scalar(select(func.count()).select_from(Certificate)) == 1
    assert db.scalar(select(func.count()).select_from(AuditEvent)
                     .where(AuditEvent.action == audit.CERTIFICATE)) == 1


def test_without_a_recertification_rule_a_certificate_never_expires(app, db, trainee, issued):
    certificate = issued(trainee, with_policy=False)
    assert certificate.expires_on is None
    far = certificate.issued_on + timedelta(days=3650)
    assert certificates.status(db, certificate, far).state == certificates.VALID


def test_months_are_added_to_the_end_of_a_shorter_month():
    assert certificates.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert certificates.add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert certificates.add_months(date(2026, 3, 12), 24) == date(2028, 3, 12)


# --- status --------------------------------------------------------------------------------


def test_status_valid_revoked_and_expired(app, db, trainee, issued, sign_off):
    certificate = issued(trainee, at=datetime(2026, 3, 12, 9, tzinfo=UTC))
    today = date(2026, 6, 1)
    assert certificates.status(db, certificate, today) == certificates.Status("valid", None)
    # The last day before re-certification is due still counts; the day after does not.
    assert certificates.status(db, certificate, date(2028, 3, 12)).state == "valid"
    assert certificates.status(db, certificate, date(2028, 3, 13)) == \
        certificates.Status("expired", date(2028, 3, 12))
    # A revocation names the sign-off; the certificate is revoked from that record's day.
    sign_off(trainee, "revoke", revokes=certificate.sign_off,
             at=datetime(2026, 5, 3, 10, tzinfo=UTC), reasons="r")
    assert certificates.status(db, certificate, today) == \
        certificates.Status("revoked", date(2026, 5, 3))
    # Revoked wins over expired.
    assert certificates.status(db, certificate, date(2030, 1, 1)).state == "revoked"


def test_a_revocation_of_another_sign_off_leaves_a_certificate_valid(app, db, trainee,
                                                                      make_person, issued,
                                                                      sign_off):
    mine = issued(trainee)
    other = issued(make_person("trainee"))
    sign_off(trainee, "revoke", revokes=other.sign_off)
    found = certificates.statuses(db, [mine, other], utcnow().date())
    assert found[mine.id].state == "valid" and found[other.id].state == "revoked"


# --- the public verify page ----------------------------------------------------------------


def assert_private(response):
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_verify_page_shows_a_valid_certificate(client, trainee, issued):
    certificate = issued(trainee, at=datetime(2026, 3, 12, 9, tzinfo=UTC))
    # Far from expiry whatever day the test runs: a fresh sign-off has two years.
    fresh = issued(trainee)
    response = client.get(f"/verify/{certificates.grouped(fresh.code)}")
    assert response.status_code == 200
    assert_private(response)
    page = response.get_data(as_text=True)
    assert "Tess Trainee" in page and PROGRAMME in page
    assert day(fresh.issued_on) in page
    assert ">Valid<" in page
    # Any case, no dashes: the same page.
    assert client.get(f"/verify/{certificate.code.lower()}").status_code == 200


def test_verify_page_shows_a_revocation_with_its_date(client, trainee, issued, sign_off):
    certificate = issued(trainee)
    sign_off(trainee, "revoke", revokes=certificate.sign_off,
             at=datetime(2026, 5, 3, 10, tzinfo=UTC), reasons="Concerns about boundaries")
    response = client.get(f"/verify/{certificate.code}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Revoked on {day(date(2026, 5, 3))}" in page
    assert ">Valid<" not in page
    assert "Concerns about boundaries" not in page  # the reason is not the public's


def test_verify_page_shows_an_expired_certificate_with_its_date(client, trainee, issued):
    long_ago = utcnow() - timedelta(days=3 * 366)
    certificate = issued(trainee, at=long_ago)
    response = client.get(f"/verify/{certificate.code}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Expired on {day(certificate.expires_on)}" in page
    assert ">Valid<" not in page


def test_an_unknown_code_is_a_plain_not_found(client, trainee, issued):
    issued(trainee)
    response = client.get("/verify/AAAA-AAAA-AAAA")
    assert response.status_code == 404
    assert_private(response)
    page = response.get_data(as_text=True)
    assert "No certificate has this code." in page
    assert "Tess Trainee" not in page and PROGRAMME not in page
    assert client.get("/verify/not-a-code-at-all").status_code == 404


def test_the_verify_form_takes_a_typed_code(client, trainee, issued):
    certificate = issued(trainee)
    page = client.get("/verify")
    assert page.status_code == 200
    assert_private(page)
    assert 'name="code"' in page.get_data(as_text=True)
    typed = " " + certificates.grouped(certificate.code).lower().replace("-", " ") + " "
    response = client.get("/verify", query_string={"code": typed})
    assert response.status_code == 302
    assert response.location.endswith(f"/verify/{certificate.code}")
    assert client.get(response.location).status_code == 200


def test_the_verify_page_shows_nothing_beyond_name_programme_date_and_status(
        client, db, trainee, content, supervisor, issued):
    # Records the page must never show: a score, the email, a check-in note, an observation.
    db.add(CheckIn(trainee_id=trainee.id, mood=2, calm=2, manageable=3, sleep=2, supported=2,
                   note="Struggling with sleep after the overdose call"))
    db.add(CompetencyRating(trainee_id=trainee.id, curriculum_id=content.id,
                            competency="listening", rating="competent",
                            observed_on=utcnow().date(), setting="role_play",
                            evidence="Reflected feelings accurately in the role-play",
                            rated_by_id=supervisor.id))
    db.commit()
    certificate = issued(trainee, evidence={"attendance": {"percent": 87.25},
                                            "quizzes": {"score": "93.5%"}},
                         reasons="Strong supervision record", plan="Shadow two shifts")
    page = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Tess Trainee" in page
    for secret in (trainee.email, "87.25", "93.5", "Struggling with sleep", "overdose",
                   "Reflected feelings", "Strong supervision record", "Shadow two shifts",
                   "Sam Supervisor", "competent", "supervis"):
        assert secret not in page, secret


@pytest.mark.settings(LMS_VERIFY_THROTTLE_PER_ADDRESS=3)
def test_guessing_codes_is_throttled_per_address(client, db, trainee, issued):
    certificate = issued(trainee)
    for _ in range(3):
        assert client.get("/verify/AAAA-AAAA-AAAA").status_code == 404
    blocked = client.get("/verify/AAAA-AAAA-AAAA")
    assert blocked.status_code == 429
    assert_private(blocked)
    assert "Too many codes were not found" in blocked.get_data(as_text=True)
    # Once blocked, a right guess is not confirmed either.
    response = client.get(f"/verify/{certificate.code}")
    assert response.status_code == 429
    assert "Tess Trainee" not in response.get_data(as_text=True)
    # Another address is not blocked.
    other = client.get(f"/verify/{certificate.code}",
                       environ_overrides={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200


@pytest.mark.settings(LMS_VERIFY_THROTTLE_PER_ADDRESS=2)
def test_found_codes_are_not_counted_and_log_ins_are_not_blocked(client, trainee, issued,
                                                                   login):
    certificate = issued(trainee)
    for _ in range(5):
        assert client.get(f"/verify/{certificate.code}").status_code == 200
    for _ in range(3):
        client.get("/verify/AAAA-AAAA-AAAA")
    assert client.get(f"/verify/{certificate.code}").status_code == 429
    # The failures are the verify page's own: the address can still log in.
    login(trainee)


# --- rendering and the PDF -------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    pypdf = pytest.importorskip("pypdf")
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_the_pdf_is_downloaded_and_reads_back(client_for, trainee, issued):
    pytest.importorskip("weasyprint")
    certificate = issued(trainee, at=datetime(2026, 3, 12, 9, tzinfo=UTC))
    response = client_for(trainee).get(f"/my/certificates/{certificate.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.data.startswith(b"%PDF")
    text = pdf_text(response.data)
    flat = " ".join(text.split())
    code = certificates.grouped(certificate.code)
    assert "Tess Trainee" in flat
    assert PROGRAMME in flat
    assert "March 12, 2026" in flat
    assert code in flat
    assert f"http://localhost/verify/{code}" in flat.replace(" ", "")\
        or f"http://localhost/verify/{code}" in text.replace("\n", "")


def test_the_html_has_the_qr_code_inline_and_escapes_the_name():
    certificate = Certificate(code=certificates.new_code(), programme=PROGRAMME,
                              name="Tess <script>alert(1)</script> Trainee",
                              issued_on=date(2026, 3, 12), expires_on=None)
    html = certificates.render_html(certificate, verify_url="https://example.org/verify/X",
                                    template_folder=ROOT / "certificates")
    assert "<svg" in html and 'class="qr"' in html
    assert "<script>" not in html
    assert "Tess &lt;script&gt;" in html
    assert "https://example.org/verify/X" in html
    assert certificates.grouped(certificate.code) in html
    assert "Re-certification due" not in html  # no expiry, no line for it


def test_the_pdf_fetches_no_url(tmp_path):
    pytest.importorskip("weasyprint")
    html = ('<p>Hello</p><img src="file:///etc/passwd">'
            '<link rel="stylesheet" href="https://example.org/x.css">'
            '<style>@import url("file:///etc/hostname");</style>')
    with pytest.raises(certificates.CertificateTemplateError) as refused:
        certificates.render_pdf(html)
    assert "file:///etc/passwd" in str(refused.value)
    assert "https://example.org/x.css" in str(refused.value)
    # And a page without URLs renders.
    assert "Hello" in pdf_text(certificates.render_pdf("<p>Hello</p>"))


def test_an_edited_template_is_sandboxed_and_cannot_fetch_files(app, db, trainee, issued,
                                                                 tmp_path, client_for):
    pytest.importorskip("weasyprint")
    certificate = issued(trainee)
    folder = tmp_path / "certs" / "deployment"
    folder.mkdir(parents=True)
    (folder / "certificate.html").write_text(
        '<p>{{ name }}</p><img src="file:///etc/passwd">', encoding="utf-8")
    html = certificates.render_html(certificate, verify_url="https://example.org/v",
                                    template_folder=tmp_path / "certs")
    with pytest.raises(certificates.CertificateTemplateError):
        certificates.render_pdf(html)
    (folder / "certificate.html").write_text(
        "{{ name.__class__.__mro__[1].__subclasses__() }}", encoding="utf-8")
    with pytest.raises(SecurityError):
        certificates.render_html(certificate, verify_url="https://example.org/v",
                                 template_folder=tmp_path / "certs")


@pytest.mark.settings(LMS_CERTIFICATES_FOLDER=None)
def test_a_template_that_fetches_gives_a_503_not_a_500(app, trainee, issued, client_for,
                                                        tmp_path):
    pytest.importorskip("weasyprint")
    certificate = issued(trainee)
    folder = tmp_path / "certs" / "deployment"
    folder.mkdir(parents=True)
    (folder / "certificate.html").write_text('<img src="file:///etc/passwd">{{ code }}',
                                             encoding="utf-8")
    app.config["LMS_CERTIFICATES_FOLDER"] = str(tmp_path / "certs")
    response = client_for(trainee).get(f"/my/certificates/{certificate.id}.pdf")
    assert response.status_code == 503
    assert b"root:" not in response.data
    assert "template has a problem" in response.get_data(as_text=True)


# --- the trainee's pages -------------------------------------------------------------------


def test_my_certificates_lists_status_code_verify_link_and_download(client_for, trainee,
                                                                     issued, sign_off):
    pytest.importorskip("weasyprint")
    current = issued(trainee)
    revoked = issued(trainee, at=utcnow() - timedelta(days=100))
    sign_off(trainee, "revoke", revokes=revoked.sign_off)
    client = client_for(trainee)
    page = client.get("/my/certificates").get_data(as_text=True)
    assert certificates.grouped(current.code) in page
    assert f"http://localhost/verify/{certificates.grouped(current.code)}" in page
    assert f"/my/certificates/{current.id}.pdf" in page
    assert "Download PDF" in page
    assert ">Valid<" in page and "Revoked on" in page
    assert "/my/certificates" in client.get("/progress").get_data(as_text=True)


def test_a_trainee_without_certificates_is_told_so(client_for, trainee):
    page = client_for(trainee).get("/my/certificates")
    assert page.status_code == 200
    assert "You have no certificate yet" in page.get_data(as_text=True)


def test_another_trainees_certificate_is_not_found(client_for, make_person, make_cohort,
                                                   trainee, issued):
    theirs = issued(trainee)
    other = make_person("trainee", name="Olive Other")
    make_cohort(other)
    client = client_for(other)
    assert client.get(f"/my/certificates/{theirs.id}.pdf").status_code == 404
    assert client.get("/my/certificates/999999.pdf").status_code == 404
    assert certificates.grouped(theirs.code) not in \
        client.get("/my/certificates").get_data(as_text=True)


@pytest.mark.parametrize("role", ["trainer", "supervisor", "admin"])
def test_other_roles_are_refused_the_trainee_pages(client_for, make_person, trainee, issued,
                                                   role):
    certificate = issued(trainee)
    client = client_for(make_person(role))
    assert client.get("/my/certificates").status_code == 403
    assert client.get(f"/my/certificates/{certificate.id}.pdf").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, trainee, issued):
    certificate = issued(trainee)
    for url in ("/my/certificates", f"/my/certificates/{certificate.id}.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.location


def test_without_weasyprint_the_page_explains_and_the_pdf_is_503(client_for, client, trainee,
                                                                 issued, monkeypatch):
    certificate = issued(trainee)
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint -> ImportError
    assert not certificates.pdf_available()
    me = client_for(trainee)
    page = me.get("/my/certificates").get_data(as_text=True)
    assert "PDF downloads are not switched on here" in page
    assert "pip install -e &#39;.[pdf]&#39;" in page or "pip install -e '.[pdf]'" in page
    assert "Download PDF" not in page
    assert certificates.grouped(certificate.code) in page  # the code and link still shown
    response = me.get(f"/my/certificates/{certificate.id}.pdf")
    assert response.status_code == 503
    assert ".[pdf]" in response.get_data(as_text=True)
    # The public check does not need WeasyPrint.
    assert client.get(f"/verify/{certificate.code}").status_code == 200


def test_the_verify_page_stays_open_to_someone_who_must_change_their_password(
        db, make_person, client_for):
    person = make_person("trainee", must_change_password=True)
    client = client_for(person)
    assert client.get("/verify").status_code == 200
    assert client.get("/verify/ABCDEFGHJKMN").status_code == 404


def test_a_typed_code_with_a_slash_stays_one_path(app):
    response = app.test_client().get("/verify?code=AB/CD")
    assert response.status_code == 302 and response.location.endswith("/verify/ABCD")
