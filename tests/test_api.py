"""The read-only JSON API (lms/web/api.py, lms/services/api_clients.py): tokens, scope, paging,
the audit log, and every answer checked against the shipped OpenAPI file."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from lms.models import ApiClient, AuditEvent, Certificate, Cohort, Curriculum, SignOff
from lms.models._types import utcnow
from lms.services import api_clients, attendance, audit
from lms.services.attendance import Mark
from lms.web.api import OPENAPI
from tests import factories
from tests.conftest import log_in

SPEC = json.loads(OPENAPI.read_text(encoding="utf-8"))


def conforms(body: dict, schema: str) -> None:
    """``body`` matches the named schema of the OpenAPI file (refs resolved within it)."""
    validator = Draft202012Validator({"components": SPEC["components"],
                                      "$ref": f"#/components/schemas/{schema}"})
    errors = sorted(validator.iter_errors(body), key=str)
    assert errors == [], [e.message for e in errors]


@pytest.fixture
def token(db):
    """A token for every programme."""
    _client, value = api_clients.issue(db, name="Case notes", curriculum_id=None, by=None)
    db.commit()
    return value


def call(client, path: str, token: str | None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(f"/api/v1{path}", headers=headers, query_string=params)


def certify(db, trainee, curriculum_id: int, *, revoked: bool = False) -> Certificate:
    deploy = SignOff(trainee_id=trainee.id, curriculum_id=curriculum_id, decision="deploy",
                     evidence={})
    db.add(deploy)
    db.flush()
    certificate = Certificate(sign_off_id=deploy.id, trainee_id=trainee.id,
                              code=f"CODE{trainee.id:08d}", name=trainee.name,
                              programme="Peer support", issued_on=utcnow().date())
    db.add(certificate)
    if revoked:
        db.add(SignOff(trainee_id=trainee.id, curriculum_id=curriculum_id, decision="revoke",
                       evidence={}, reasons="Left.", revokes_id=deploy.id))
    db.commit()
    return certificate


def test_no_wrong_or_revoked_token_is_401_and_logged(app, db, client, token):
    assert call(client, "/people", None).status_code == 401
    response = call(client, "/people", "lms_not-a-real-token")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    conforms(response.get_json(), "Error")
    assert call(client, "/people", token).status_code == 200
    api_client = db.scalar(select(ApiClient))
    api_clients.revoke(db, api_client.id, factories.PersonFactory(roles=("admin",)))
    db.commit()
    assert call(client, "/people", token).status_code == 401
    statuses = [e.detail["status"] for e in db.scalars(
        select(AuditEvent).where(AuditEvent.action == audit.API_CALL).order_by(AuditEvent.id))]
    assert statuses == [401, 401, 200, 401]


def test_only_the_hash_of_a_token_is_kept(db, token):
    stored = db.scalar(select(ApiClient))
    assert token not in (stored.token_hash, stored.token_prefix)
    assert stored.token_hash == api_clients.digest(token) and token.startswith(
        stored.token_prefix)


def test_people_cohorts_and_certificates_match_the_openapi_file(app, db, client, token,
                                                                 cohort, trainee, trainer,
                                                                 make_session):
    item = make_session(cohort, utcnow() - timedelta(days=1), 60, core=True)
    attendance.record_register(db, item, [Mark(trainee.id, "present")], trainer)
    db.commit()
    certify(db, trainee, cohort.curriculum_id)

    people = call(client, "/people", token)
    assert people.status_code == 200 and people.headers["Cache-Control"] == "no-store"
    conforms(people.get_json(), "PersonPage")
    [row] = people.get_json()["items"]
    assert (row["id"], row["signed_off"], row["cohort_ids"]) == (trainee.id, True, [cohort.id])

    one = call(client, f"/people/{trainee.id}", token).get_json()
    conforms(one, "PersonDetail")
    assert {c["key"] for c in one["readiness"][0]["criteria"]} >= {"attendance"}

    listed = call(client, "/cohorts", token).get_json()
    conforms(listed, "CohortPage")
    assert listed["items"][0]["trainees"] == 1
    detail = call(client, f"/cohorts/{cohort.id}", token).get_json()
    conforms(detail, "CohortDetail")
    [member] = detail["members"]
    assert member["attendance"]["percent"] == 100.0
    assert member["attendance"]["attended_minutes"] == 60

    issued = call(client, "/certificates", token).get_json()
    conforms(issued, "CertificatePage")
    assert issued["items"][0]["status"] == "valid"

    spec = client.get("/api/v1/openapi.json").get_json()
    assert set(spec["paths"]) == {"/people", "/people/{person_id}", "/cohorts",
                                  "/cohorts/{cohort_id}", "/certificates"}


def test_signed_off_filter_is_who_can_be_matched_with_a_client(db, client, token, cohort,
                                                               trainee, make_person):
    revoked = make_person("trainee", name="Revoked Person")
    waiting = make_person("trainee", name="Not Yet")
    for person in (revoked, waiting):
        factories.EnrolmentFactory(cohort_id=cohort.id, person_id=person.id)
    db.commit()
    certify(db, trainee, cohort.curriculum_id)
    certify(db, revoked, cohort.curriculum_id, revoked=True)
    names = [p["name"] for p in call(client, "/people", token,
                                     signed_off="true").get_json()["items"]]
    assert names == ["Tess Trainee"]
    others = [p["name"] for p in call(client, "/people", token,
                                      signed_off="false").get_json()["items"]]
    assert others == ["Not Yet", "Revoked Person"]
    statuses = {c["person_id"]: c["status"] for c in call(
        client, "/certificates", token).get_json()["items"]}
    assert statuses == {trainee.id: "valid", revoked.id: "revoked"}
    response = call(client, "/people", token, signed_off="maybe")
    assert response.status_code == 400
    conforms(response.get_json(), "Error")


def test_another_programmes_data_is_404(db, client, cohort, trainee):
    other = Curriculum(slug="diabetes", title="Diabetes peer support", content_hash="x")
    db.add(other)
    db.commit()
    _c, scoped = api_clients.issue(db, name="Other clinic", curriculum_id=other.id, by=None)
    db.commit()
    certify(db, trainee, cohort.curriculum_id)
    assert call(client, "/people", scoped).get_json()["items"] == []
    assert call(client, "/cohorts", scoped).get_json()["total"] == 0
    assert call(client, "/certificates", scoped).get_json()["total"] == 0
    for path in (f"/people/{trainee.id}", f"/cohorts/{cohort.id}", "/people/999999"):
        response = call(client, path, scoped)
        assert response.status_code == 404, path
        conforms(response.get_json(), "Error")


def test_every_list_is_paged_and_a_page_costs_the_same_whatever_its_size(
        db, client, token, cohort, count_queries):
    def add(count: int) -> None:
        for _ in range(count):
            person = factories.PersonFactory(roles=("trainee",))
            factories.EnrolmentFactory(cohort_id=cohort.id, person_id=person.id)
        db.commit()

    add(9)  # with the cohort's own trainee, 10
    with count_queries() as small:
        call(client, "/people", token, per_page=100)
    add(110)
    with count_queries() as large:
        first = call(client, "/people", token, per_page=100).get_json()
    assert len(large) == len(small)
    assert (first["total"], first["pages"], len(first["items"])) == (120, 2, 100)
    assert first["previous"] is None and "page=2" in first["next"]
    last = call(client, "/people", token, per_page=100, page=2).get_json()
    assert len(last["items"]) == 20 and last["next"] is None
    clamped = call(client, "/people", token, per_page=1000, page=99).get_json()
    assert (clamped["per_page"], clamped["page"]) == (100, 2)
    assert call(client, "/people", token, page="x").status_code == 400


def test_admins_issue_and_revoke_tokens_and_others_are_refused(app, db, make_person):
    admin = make_person("admin")
    client = app.test_client()
    log_in(client, admin)
    response = client.post("/admin/api-clients", data={"name": "Case notes",
                                                       "curriculum_id": "0"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="token" type="text" readonly value="([^"]+)"',
                      response.get_data(as_text=True)).group(1)
    assert call(client, "/cohorts", token).status_code == 200
    listing = client.get("/admin/api-clients").get_data(as_text=True)
    assert "Case notes" in listing and token not in listing
    missing = client.post("/admin/api-clients", data={"name": "  ", "curriculum_id": "0"})
    assert missing.status_code == 422
    api_client = db.scalar(select(ApiClient))
    assert client.post(f"/admin/api-clients/{api_client.id}/revoke").status_code == 302
    assert call(client, "/cohorts", token).status_code == 401
    actions = db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == audit.API_CLIENT))
    assert actions == 2
    for role in ("trainee", "trainer", "supervisor"):
        other = app.test_client()
        log_in(other, make_person(role))
        assert other.get("/admin/api-clients").status_code == 403
        assert other.post(f"/admin/api-clients/{api_client.id}/revoke").status_code == 403


def test_a_log_in_session_is_not_an_api_token(app, db, trainee, cohort):
    client = app.test_client()
    log_in(client, trainee)
    assert client.get("/api/v1/people").status_code == 401
    assert db.scalar(select(Cohort).where(Cohort.id == cohort.id)) is not None
