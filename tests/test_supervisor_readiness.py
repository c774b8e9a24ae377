"""The supervisor's readiness page: evidence, rating, deploy / defer / revoke, and refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.models import Certificate, CompetencyRating, SignOff
from tests.readiness_fixtures import TODAY


def url(trainee) -> str:
    return f"/supervision/people/{trainee.id}/readiness"


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_the_page_shows_every_criterion_with_its_evidence(db, cohort, trainee, supervisor,
                                                          policy, client_for):
    html = client_for(supervisor).get(url(trainee)).get_data(as_text=True)
    for title in ("Attendance", "Core sessions", "Core module quizzes", "Agreements signed",
                  "Supervision", "Observed practice"):
        assert title in html
    assert "Pass the quiz on" in html and "Read and sign the Confidentiality agreement" in html
    assert "Judged against version 1" in html


def test_rate_then_defer_then_deploy_then_revoke(db, cohort, trainee, supervisor, ready,
                                                 client_for):
    client = client_for(supervisor)
    c = cohort.id
    response = client.post(f"{url(trainee)}/{c}/ratings", data={
        f"rate-{c}-competency": "listening", f"rate-{c}-rating": "developing",
        f"rate-{c}-observed_on": str(TODAY), f"rate-{c}-setting": "role_play",
        f"rate-{c}-evidence": "Open questions, but interrupted twice."})
    assert response.status_code == 302
    response = client.post(f"{url(trainee)}/{c}/sign-off", data={
        f"sign-{c}-decision": "defer", f"sign-{c}-reasons": "Listening still developing",
        f"sign-{c}-plan": "Two more role-plays",
        f"sign-{c}-review_on": str(TODAY + timedelta(days=14))})
    assert response.status_code == 302
    client.post(f"{url(trainee)}/{c}/ratings", data={
        f"rate-{c}-competency": "listening", f"rate-{c}-rating": "competent",
        f"rate-{c}-observed_on": str(TODAY), f"rate-{c}-setting": "observed_session",
        f"rate-{c}-evidence": "Reflected and summarised well."})
    assert count(db, CompetencyRating) == 2
    response = client.post(f"{url(trainee)}/{c}/sign-off", data={f"sign-{c}-decision": "deploy"})
    assert response.status_code == 302
    deploy = db.scalar(select(SignOff).where(SignOff.decision == "deploy"))
    certificate = db.scalar(select(Certificate))
    assert certificate is not None and certificate.sign_off_id == deploy.id
    page = client.get(url(trainee)).get_data(as_text=True)
    assert "Signed off for deployment" in page and "Deferred" in page
    assert f"/verify/{certificate.code}" in page
    response = client.post(f"/supervision/sign-offs/{deploy.id}/revoke",
                           data={f"revoke-{c}-reason": "Shared a client's story online"})
    assert response.status_code == 302
    assert db.scalar(select(SignOff).where(SignOff.decision == "revoke")).revokes_id == deploy.id
    assert "revoked" in client.get(f"/verify/{certificate.code}").get_data(as_text=True).lower()


def test_a_refused_decision_keeps_what_was_typed(db, cohort, trainee, supervisor, policy,
                                                 client_for):
    c = cohort.id
    response = client_for(supervisor).post(f"{url(trainee)}/{c}/sign-off", data={
        f"sign-{c}-decision": "deploy", f"sign-{c}-override_justification": "Because <b>"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Not every standard is met" in html and "Because &lt;b&gt;" in html
    assert count(db, SignOff) == 0


def test_an_admin_judges_as_admin(db, cohort, trainee, policy, make_person, client_for):
    admin = make_person("admin")
    c = cohort.id
    client = client_for(admin)
    assert "acting as supervisor" in client.get(url(trainee)).get_data(as_text=True)
    client.post(f"{url(trainee)}/{c}/sign-off", data={
        f"sign-{c}-decision": "defer", f"sign-{c}-reasons": "Not yet",
        f"sign-{c}-plan": "More practice", f"sign-{c}-review_on": str(TODAY + timedelta(days=7))})
    assert db.scalar(select(SignOff)).as_admin is True


@pytest.mark.parametrize("role", ["trainee", "trainer", "supervisor"])
def test_others_are_refused(db, cohort, trainee, supervisor, policy, make_person, client_for,
                            role):
    client = client_for(make_person(role))
    c = cohort.id
    assert client.get(url(trainee)).status_code == 403
    assert client.post(f"{url(trainee)}/{c}/sign-off",
                       data={f"sign-{c}-decision": "deploy"}).status_code == 403
    assert count(db, SignOff) == 0


def test_nobody_judges_themselves(db, cohort, make_person, client_for, make_cohort, policy):
    both = make_person("trainee", "admin")
    make_cohort(both)
    assert client_for(both).get(url(both)).status_code == 403
