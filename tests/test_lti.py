"""LTI 1.3: the test plays the platform. It has its own RSA key and key set, answers lms's
HTTP requests (key set, token, line items, scores) in place of the network, signs id_tokens,
and checks what lms accepts, refuses and sends back."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import func, select

from lms.models import (
    Cohort,
    CohortStaff,
    Enrolment,
    LtiContext,
    LtiLineItem,
    LtiNonce,
    LtiPlatform,
    LtiUser,
    Person,
    SignOff,
)
from lms.services import lti
from lms.web import lti as lti_web
from tests.conftest import in_threads, log_in

ISSUER = "https://moodle.example"
CLIENT_ID = "lms-client-1"
DEPLOYMENT = "deployment-7"
AUTH_URL = "https://moodle.example/mod/lti/auth.php"
TOKEN_URL = "https://moodle.example/mod/lti/token.php"
JWKS_URL = "https://moodle.example/mod/lti/certs.php"
LINEITEMS = "https://moodle.example/mod/lti/services.php/2/lineitems?type_id=1"
LINEITEM = "https://moodle.example/mod/lti/services.php/2/lineitems/5/lineitem?type_id=1"
TARGET = "http://localhost/modules/listening/quiz"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
RIGHT = {"q-l1": ["b"], "q-l2": ["a", "c"], "q-l3": ["true"], "q-l4": ["x"]}


class FakePlatform:
    """The platform's side of the wire: its keys, and what lms sent it."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "platform-1"})
        self.requests: list[dict] = []
        self.token_status = 200

    def key_set(self) -> dict:
        return {"keys": [{**self.key.as_dict(private=False), "alg": "RS256", "use": "sig"}]}

    def http(self, method, url, *, body=None, headers=None, timeout=5.0):
        self.requests.append({"method": method, "url": url, "body": body,
                              "headers": headers or {}})
        if url == JWKS_URL:
            return lti.HttpResponse(200, json.dumps(self.key_set()).encode())
        if url == TOKEN_URL:
            if self.token_status != 200:
                return lti.HttpResponse(self.token_status, b"{}")
            return lti.HttpResponse(200, json.dumps({"access_token": "platform-token",
                                                     "token_type": "Bearer",
                                                     "expires_in": 3600}).encode())
        if url == LINEITEMS and method == "POST":
            return lti.HttpResponse(201, json.dumps({
                "id": "https://moodle.example/mod/lti/services.php/2/lineitems/9/lineitem",
                **json.loads(body)}).encode())
        if "/scores" in url:
            return lti.HttpResponse(200, b"")
        return lti.HttpResponse(404, b"")

    def sent(self, kind: str) -> list[dict]:
        if kind == "token":
            return [r for r in self.requests if r["url"] == TOKEN_URL]
        if kind == "scores":
            return [r for r in self.requests if "/scores" in r["url"]]
        return [r for r in self.requests if r["url"] == LINEITEMS]

    def id_token(self, nonce: str, *, sub: str = "user-42", roles=(MEMBERSHIP + "Learner",),
                 target: str = TARGET, key: RSAKey | None = None, drop=(), **claims) -> str:
        now = int(time.time())
        body = {
            "iss": ISSUER, "aud": CLIENT_ID, "azp": CLIENT_ID, "sub": sub, "nonce": nonce,
            "iat": now, "exp": now + 300, "name": "Lee Learner", "email": "lee@example.org",
            lti.CLAIM + "deployment_id": DEPLOYMENT,
            lti.CLAIM + "message_type": "LtiResourceLinkRequest",
            lti.CLAIM + "version": "1.3.0",
            lti.CLAIM + "target_link_uri": target,
            lti.CLAIM + "resource_link": {"id": "link-1", "title": "Listening quiz"},
            lti.CLAIM + "context": {"id": "course-3", "title": "Helpline course 2026"},
            lti.CLAIM + "roles": list(roles),
            lti.AGS_CLAIM: {"scope": [lti.SCOPE_SCORE, lti.SCOPE_LINEITEM],
                            "lineitems": LINEITEMS, "lineitem": LINEITEM},
            **claims,
        }
        for name in drop:
            body.pop(name)
        signer = key or self.key
        return jwt.encode({"alg": "RS256", "kid": "platform-1"}, body, signer)


@pytest.fixture
def platform(app, monkeypatch):
    fake = FakePlatform()
    monkeypatch.setattr(lti, "http_request", fake.http)
    lti._key_sets.clear()  # each test's platform has a new key
    yield fake
    lti._key_sets.clear()


PLATFORM_FORM = {"name": "Our Moodle", "issuer": ISSUER, "client_id": CLIENT_ID,
                 "deployment_ids": DEPLOYMENT, "auth_login_url": AUTH_URL,
                 "auth_token_url": TOKEN_URL, "key_set_url": JWKS_URL}


@pytest.fixture
def registered(app, content, make_person, platform):
    """The platform, registered by an admin through the admin page."""
    admin = app.test_client()
    log_in(admin, make_person("admin"))
    response = admin.post("/admin/lti/new", data=PLATFORM_FORM)
    assert response.status_code == 302, response.get_data(as_text=True)
    return platform


def start_login(client, target: str = TARGET) -> tuple[str, str]:
    response = client.post("/lti/login", data={
        "iss": ISSUER, "login_hint": "hint-1", "target_link_uri": target,
        "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT, "lti_message_hint": "m"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location.startswith(AUTH_URL + "?")
    query = parse_qs(urlsplit(response.location).query)
    assert query["client_id"] == [CLIENT_ID] and query["response_mode"] == ["form_post"]
    assert query["redirect_uri"] == ["http://localhost/lti/launch"]
    assert query["login_hint"] == ["hint-1"] and query["lti_message_hint"] == ["m"]
    return query["state"][0], query["nonce"][0]


def launch(client, platform: FakePlatform, **token_options):
    state, nonce = start_login(client, token_options.pop("login_target", TARGET))
    token = platform.id_token(token_options.pop("nonce", nonce), **token_options)
    return client.post("/lti/launch", data={"id_token": token, "state": state}), token, state


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def test_a_learner_is_signed_in_as_a_trainee_of_the_course_cohort(app, db, registered):
    client = app.test_client()
    response, _token, _state = launch(client, registered)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location.endswith("/modules/listening/quiz")
    page = client.get("/modules/listening/quiz")
    assert page.status_code == 200 and "Log out" in page.get_data(as_text=True)

    db.expire_all()
    link = db.scalar(select(LtiUser))
    assert link.sub == "user-42"
    person = db.get(Person, link.person_id)
    assert person.roles == {"trainee"} and person.password_hash is None
    # Never the platform's (unproven) email: an address that reaches nobody.
    assert person.email.endswith("@lti.invalid") and person.name == "Lee Learner"
    context = db.scalar(select(LtiContext))
    assert context.context_id == "course-3"
    cohort = db.get(Cohort, context.cohort_id)
    assert cohort.name == "Helpline course 2026" and cohort.curriculum.slug == "mini"
    assert db.scalar(select(Enrolment).where(Enrolment.person_id == person.id)).cohort_id \
        == cohort.id
    assert db.scalar(select(LtiLineItem)).url == LINEITEM
    # The platform's keys were fetched once and then kept.
    assert [r["url"] for r in registered.requests] == [JWKS_URL]

    # A second launch of the same person and course: the same person, cohort and enrolment.
    again = app.test_client()
    assert launch(again, registered)[0].status_code == 302
    assert (count(db, Person), count(db, Cohort), count(db, Enrolment)) == (2, 1, 1)


def test_an_instructor_becomes_a_trainer_never_an_admin(app, db, registered):
    client = app.test_client()
    response, _t, _s = launch(client, registered, sub="teacher-1", roles=[
        MEMBERSHIP + "Instructor",
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
        "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"])
    assert response.status_code == 302
    # Staff open the module (the quiz page is for trainees).
    assert response.location.endswith("/modules/listening")
    db.expire_all()
    person = db.get(Person, db.scalar(select(LtiUser.person_id)
                                      .where(LtiUser.sub == "teacher-1")))
    assert person.roles == {"trainer"}
    context = db.scalar(select(LtiContext))
    assert db.scalar(select(CohortStaff.role).where(CohortStaff.person_id == person.id,
                                                    CohortStaff.cohort_id == context.cohort_id)) \
        == "trainer"
    assert count(db, Enrolment) == 0
    assert client.get("/modules/listening").status_code == 200
    assert client.get("/admin/lti").status_code == 403


def test_an_unknown_role_is_refused(app, db, registered):
    response, _t, _s = launch(app.test_client(), registered,
                              roles=[MEMBERSHIP + "Mentor"])
    assert response.status_code == 403
    assert "neither Learner nor Instructor" in response.get_data(as_text=True)
    assert count(db, LtiUser) == 0


def test_a_bad_signature_is_refused_and_nothing_is_made(app, db, registered):
    forger = RSAKey.generate_key(2048, parameters={"kid": "platform-1"})
    response, _t, _s = launch(app.test_client(), registered, key=forger)
    assert response.status_code == 400
    assert "signature" in response.get_data(as_text=True)
    assert (count(db, LtiUser), count(db, Cohort), count(db, LtiNonce)) == (0, 0, 0)
    assert count(db, Person) == 1  # the admin only


def test_a_replayed_launch_is_refused(app, db, registered):
    client = app.test_client()
    response, token, state = launch(client, registered)
    assert response.status_code == 302
    # The same form post again, even from the browser that started it (its state is spent).
    client.set_cookie(lti_web._state_cookie(state), state, path="/lti/launch")
    again = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert again.status_code == 400
    assert "used already" in again.get_data(as_text=True)
    # The same id_token with a fresh state: its nonce is not that state's.
    fresh_state, _nonce = start_login(client)
    third = client.post("/lti/launch", data={"id_token": token, "state": fresh_state})
    assert third.status_code == 400 and "nonce" in third.get_data(as_text=True)
    assert count(db, LtiUser) == 1


def test_one_launch_posted_four_times_at_once_signs_in_once(app, db, registered):
    client = app.test_client()
    state, nonce = start_login(client)
    token = registered.id_token(nonce)
    clients = [app.test_client() for _ in range(4)]
    for other in clients:
        other.set_cookie(lti_web._state_cookie(state), state, path="/lti/launch")
    statuses: list[int] = []

    def post(other) -> None:
        statuses.append(other.post("/lti/launch", data={"id_token": token,
                                                        "state": state}).status_code)

    in_threads(post, [(other,) for other in clients])
    assert sorted(statuses) == [302, 400, 400, 400]
    assert (count(db, LtiUser), count(db, Enrolment), count(db, LtiNonce)) == (1, 1, 1)


def test_a_seen_nonce_is_refused_by_the_unique_rule(app, db, registered):
    client = app.test_client()
    state, nonce = start_login(client)
    db.add(LtiNonce(platform_id=db.scalar(select(LtiPlatform.id)), nonce=nonce,
                    expires_at=lti.utcnow() + lti.STATE_LIFETIME))
    db.commit()
    response = client.post("/lti/launch", data={"id_token": registered.id_token(nonce),
                                                "state": state})
    assert response.status_code == 400 and "used already" in response.get_data(as_text=True)
    assert count(db, LtiUser) == 0


@pytest.mark.parametrize(("options", "why"), [
    ({"aud": "someone-else", "azp": "someone-else"}, "audience"),
    ({"exp": int(time.time()) - 600}, "expired"),
    ({"iat": int(time.time()) + 3600}, "time of issue"),
    ({"iss": "https://other.example"}, "issuer"),
    ({lti.CLAIM + "deployment_id": "deployment-8"}, "deployment"),
    ({lti.CLAIM + "version": "1.1"}, "1.3.0"),
    ({lti.CLAIM + "message_type": "LtiDeepLinkingRequest"}, "resource-link"),
    ({"drop": (lti.CLAIM + "context",)}, "course"),
    ({"target": "http://localhost/modules/privacy"}, "changed"),
])
def test_a_token_with_wrong_claims_is_refused(app, db, registered, options, why):
    response, _t, _s = launch(app.test_client(), registered, **options)
    assert response.status_code == 400
    assert why in response.get_data(as_text=True)
    assert count(db, LtiUser) == 0


@pytest.mark.parametrize("target", ["https://evil.example/modules/listening",
                                    "http://localhost/dashboard",
                                    "http://localhost/admin/people",
                                    "http://localhost/modules/no-such-module",
                                    "javascript:alert(1)"])
def test_a_target_outside_lms_modules_is_refused(app, db, registered, target):
    response = app.test_client().post("/lti/login", data={
        "iss": ISSUER, "login_hint": "h", "target_link_uri": target, "client_id": CLIENT_ID})
    assert response.status_code == 400
    assert count(db, lti.LtiLaunchState) == 0


def test_login_from_an_unregistered_platform_or_deployment_is_refused(app, registered):
    client = app.test_client()
    unknown = client.get("/lti/login", query_string={
        "iss": "https://other.example", "login_hint": "h", "target_link_uri": TARGET})
    assert unknown.status_code == 400 and "not registered" in unknown.get_data(as_text=True)
    deployment = client.get("/lti/login", query_string={
        "iss": ISSUER, "login_hint": "h", "target_link_uri": TARGET,
        "lti_deployment_id": "nope"})
    assert deployment.status_code == 400
    assert client.get("/lti/login").status_code == 400


def test_a_launch_from_another_browser_is_refused(app, db, registered):
    state, nonce = start_login(app.test_client())
    stranger = app.test_client()  # has not got the state's cookie
    response = stranger.post("/lti/launch", data={"id_token": registered.id_token(nonce),
                                                  "state": state})
    assert response.status_code == 400 and "browser" in response.get_data(as_text=True)
    assert count(db, LtiUser) == 0
    assert app.test_client().post("/lti/launch", data={}).status_code == 400


def test_an_existing_account_with_the_same_email_is_not_taken_over(app, db, registered,
                                                                   make_person):
    owner = make_person("trainee", email="lee@example.org")
    client = app.test_client()
    assert launch(client, registered)[0].status_code == 302
    db.expire_all()
    link = db.scalar(select(LtiUser))
    assert link.person_id != owner.id
    assert db.get(Person, link.person_id).email.endswith("@lti.invalid")


def test_a_passing_attempt_sends_its_score_to_the_gradebook(app, db, registered):
    client = app.test_client()
    assert launch(client, registered)[0].status_code == 302
    started = client.post("/modules/listening/quiz")
    assert started.status_code == 302
    # Buffered: the response is closed, as a server closes it, and the grade is sent then.
    submitted = client.post(urlsplit(started.location).path, data=RIGHT, buffered=True)
    assert submitted.status_code == 302 and "/result" in submitted.location

    # The token request: a client assertion signed with lms's published key.
    [token_request] = registered.sent("token")
    form = parse_qs(token_request["body"].decode())
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    assert form["scope"] == [lti.SCOPE_SCORE]
    published = client.get("/lti/jwks.json")
    assert published.status_code == 200
    assert all("d" not in key for key in published.json["keys"])
    assertion = jwt.decode(form["client_assertion"][0],
                           KeySet.import_key_set(published.json), algorithms=["RS256"])
    assert assertion.claims["iss"] == assertion.claims["sub"] == CLIENT_ID
    assert assertion.claims["aud"] == TOKEN_URL
    assert assertion.claims["exp"] > time.time() and assertion.claims["jti"]

    # The score, posted to the link's line item.
    [score] = registered.sent("scores")
    assert score["url"] == ("https://moodle.example/mod/lti/services.php/2/lineitems/5/"
                            "lineitem/scores?type_id=1")
    assert score["headers"]["Authorization"] == "Bearer platform-token"
    assert score["headers"]["Content-Type"] == "application/vnd.ims.lis.v1.score+json"
    body = json.loads(score["body"])
    assert body["userId"] == "user-42"
    assert (body["scoreGiven"], body["scoreMaximum"]) == (100.0, 100.0)
    assert body["activityProgress"] == "Completed"
    assert body["gradingProgress"] == "FullyGraded"
    assert body["comment"] == "Passed" and body["timestamp"]


def test_a_failing_platform_never_costs_the_trainee_their_page(app, db, registered, caplog):
    client = app.test_client()
    assert launch(client, registered)[0].status_code == 302
    registered.token_status = 500
    started = client.post("/modules/listening/quiz")
    submitted = client.post(urlsplit(started.location).path, data=RIGHT, buffered=True)
    assert submitted.status_code == 302
    assert registered.sent("scores") == []
    assert "could not send a grade" in caplog.text


def test_an_attempt_by_someone_who_never_launched_sends_nothing(app, db, trainee, platform):
    client = app.test_client()
    log_in(client, trainee)
    started = client.post("/modules/listening/quiz")
    submitted = client.post(urlsplit(started.location).path, data=RIGHT, buffered=True)
    assert submitted.status_code == 302
    assert platform.requests == []


def test_readiness_goes_to_its_own_column(app, db, registered):
    assert launch(app.test_client(), registered)[0].status_code == 302
    db.expire_all()
    link = db.scalar(select(LtiUser))
    curriculum_id = db.scalar(select(LtiContext.curriculum_id))
    assert lti.send_readiness(db, link.person_id, curriculum_id).sent == 1
    db.commit()
    [made] = registered.sent("lineitems")
    assert json.loads(made["body"])["label"] == "Readiness"
    assert json.loads(registered.sent("scores")[0]["body"])["scoreGiven"] == 0.0

    db.add(SignOff(trainee_id=link.person_id, curriculum_id=curriculum_id, decision="deploy",
                   evidence={}))
    db.commit()
    assert lti.send_readiness(db, link.person_id, curriculum_id).sent == 1
    assert len(registered.sent("lineitems")) == 1  # the column is kept, not made again
    last = registered.sent("scores")[-1]
    assert last["url"].endswith("/lineitems/9/lineitem/scores")
    body = json.loads(last["body"])
    assert (body["scoreGiven"], body["scoreMaximum"], body["userId"]) == (1.0, 1.0, "user-42")


def test_send_grades_command(app, db, registered):
    client = app.test_client()
    assert launch(client, registered)[0].status_code == 302
    started = client.post("/modules/listening/quiz")
    client.post(urlsplit(started.location).path, data=RIGHT, buffered=True)
    before = len(registered.sent("scores"))
    result = app.test_cli_runner().invoke(args=["lms", "lti", "send-grades"])
    assert result.exit_code == 0, result.output
    assert "Sent 2 grades; 0 failed" in result.output
    assert len(registered.sent("scores")) == before + 2


# ---------------------------------------------------------------------------------------------
# Admin pages

def test_registering_checks_every_field(app, db, make_person, platform):
    client = app.test_client()
    log_in(client, make_person("admin"))
    assert client.get("/admin/lti").status_code == 200
    page = client.get("/admin/lti/new").get_data(as_text=True)
    assert "http://localhost/lti/login" in page and "http://localhost/lti/jwks.json" in page
    bad = client.post("/admin/lti/new", data={**PLATFORM_FORM,
                                              "key_set_url": "http://evil.example/keys",
                                              "auth_token_url": "file:///etc/passwd"})
    assert bad.status_code == 422
    assert bad.get_data(as_text=True).count("Enter an https:// address.") >= 2
    assert count(db, LtiPlatform) == 0
    assert client.post("/admin/lti/new", data=PLATFORM_FORM).status_code == 302
    twice = client.post("/admin/lti/new", data=PLATFORM_FORM)
    assert twice.status_code == 422 and "is registered" in twice.get_data(as_text=True)

    platform_id = db.scalar(select(LtiPlatform.id))
    edit = client.get(f"/admin/lti/edit?platform={platform_id}")
    assert edit.status_code == 200 and DEPLOYMENT in edit.get_data(as_text=True)
    saved = client.post(f"/admin/lti/edit?platform={platform_id}",
                        data={**PLATFORM_FORM, "deployment_ids": "a\nb, a"})
    assert saved.status_code == 302
    db.expire_all()
    assert db.get(LtiPlatform, platform_id).deployment_ids == ["a", "b"]
    assert client.get("/admin/lti/edit?platform=99999").status_code == 404
    assert client.post(f"/admin/lti/remove?platform={platform_id}").status_code == 302
    assert count(db, LtiPlatform) == 0


@pytest.mark.parametrize("role", ["trainee", "trainer", "supervisor"])
def test_only_admins_reach_the_platform_pages(app, db, make_person, role):
    client = app.test_client()
    log_in(client, make_person(role))
    for method, url in [("GET", "/admin/lti"), ("GET", "/admin/lti/new"),
                        ("POST", "/admin/lti/new"), ("GET", "/admin/lti/edit?platform=1"),
                        ("POST", "/admin/lti/remove?platform=1")]:
        assert client.open(url, method=method, data=PLATFORM_FORM).status_code == 403, url
    assert count(db, LtiPlatform) == 0
    anonymous = app.test_client().get("/admin/lti")
    assert anonymous.status_code == 302 and "/login" in anonymous.location


@pytest.mark.settings(WTF_CSRF_ENABLED=True)
def test_the_platform_form_needs_its_csrf_token(app, db, make_person):
    admin = make_person("admin")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/login", data={"email": admin.email, "password": "correct horse battery",
                                       "csrf_token": token}).status_code in (302, 200)
    refused = client.post("/admin/lti/new", data=PLATFORM_FORM)
    assert refused.status_code == 400
    assert count(db, LtiPlatform) == 0


def test_the_key_set_is_public_and_stable(app, db):
    client = app.test_client()
    first = client.get("/lti/jwks.json").json
    assert [k["kty"] for k in first["keys"]] == ["RSA"]
    assert "d" not in first["keys"][0] and first["keys"][0]["alg"] == "RS256"
    assert client.get("/lti/jwks.json").json == first


def test_a_sign_off_sends_the_readiness_state(app, db, cohort, trainee, supervisor, policy,
                                               client_for, platform):
    """The supervisor's sign-off page sends readiness after its response (here a deferral,
    so 0 of 1) to the course the trainee came from."""
    from datetime import timedelta

    from tests.readiness_fixtures import TODAY

    linked = LtiPlatform(name="Moodle", issuer=ISSUER, client_id=CLIENT_ID,
                         deployment_ids=[DEPLOYMENT], auth_login_url=AUTH_URL,
                         auth_token_url=TOKEN_URL, key_set_url=JWKS_URL)
    db.add(linked)
    db.flush()
    db.add_all([LtiUser(platform_id=linked.id, sub="tess-1", person_id=trainee.id),
                LtiContext(platform_id=linked.id, context_id="course-3",
                           curriculum_id=cohort.curriculum_id, cohort_id=cohort.id,
                           lineitems_url=LINEITEMS,
                           ags_scopes=[lti.SCOPE_SCORE, lti.SCOPE_LINEITEM])])
    db.commit()
    c = cohort.id
    response = client_for(supervisor).post(
        f"/supervision/people/{trainee.id}/readiness/{c}/sign-off", buffered=True, data={
            f"sign-{c}-decision": "defer", f"sign-{c}-reasons": "Listening still developing",
            f"sign-{c}-plan": "Two more role-plays",
            f"sign-{c}-review_on": str(TODAY + timedelta(days=14))})
    assert response.status_code == 302
    assert json.loads(platform.sent("lineitems")[0]["body"])["label"] == "Readiness"
    [score] = platform.sent("scores")
    body = json.loads(score["body"])
    assert (body["userId"], body["scoreGiven"], body["scoreMaximum"]) == ("tess-1", 0.0, 1.0)


def test_over_https_the_state_cookie_travels_on_the_cross_site_post(app, registered):
    """The launch is a POST from the platform's site: only a SameSite=None cookie (which must
    be Secure) comes with it. It is scoped to the launch URL and kept ten minutes."""
    response = app.test_client().post("/lti/login", base_url="https://localhost", data={
        "iss": ISSUER, "login_hint": "h", "client_id": CLIENT_ID,
        "target_link_uri": "https://localhost/modules/listening"})
    assert response.status_code == 302
    [cookie] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("lms_lti_")]
    assert "SameSite=None" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    assert "Path=/lti/launch" in cookie and "Max-Age=600" in cookie
    assert "redirect_uri=https%3A%2F%2Flocalhost%2Flti%2Flaunch" in response.location


def test_redirects_are_never_followed_so_the_token_stays_with_the_platform():
    """A platform answering 302 towards an inside address gets a failure back, and the inside
    address gets nothing (the bearer token included)."""
    import http.server
    import threading as threads

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the http.server name)
            hits.append(self.path)
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/inside")
            self.end_headers()

        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threads.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        answer = lti.http_request("POST", f"http://localhost:{server.server_port}/scores",
                                  body=b"{}", headers={"Authorization": "Bearer SECRET"})
    finally:
        server.shutdown()
        server.server_close()
    assert answer.status == 302 and hits == ["/scores"]


def test_gradebook_addresses_must_be_on_the_platforms_own_hosts():
    platform = LtiPlatform(name="P", issuer="https://moodle.example", client_id="c",
                           deployment_ids=["d"], auth_login_url="https://moodle.example/a",
                           auth_token_url="https://auth.moodle.example/t",
                           key_set_url="https://moodle.example/k")
    assert lti.on_platform_host(platform, "https://moodle.example/mod/lti/services.php/2/li")
    assert lti.on_platform_host(platform, "https://auth.moodle.example/li")
    assert not lti.on_platform_host(platform, "https://169.254.169.254/latest/meta-data")
    assert not lti.on_platform_host(platform, "https://elsewhere.example/li")
    assert not lti.on_platform_host(platform, "http://moodle.example/li")
