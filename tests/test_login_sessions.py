"""Log-in sessions kept on the server: what ends them, the page listing them, and the
throttle that never turns away a right password from a place the account has used."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.models import LoginFailure, LoginSession
from lms.models._types import utcnow
from lms.services import login_sessions
from tests.conftest import log_in
from tests.factories import PASSWORD
from tests.test_concurrent_requests import in_threads


def cookie_copy(app, client):
    """A second client holding a copy of ``client``'s log-in cookie (a stolen cookie)."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    return thief


def logged_in(client) -> bool:
    return client.get("/dashboard").status_code == 200


def test_the_cookie_names_a_session_not_a_person_and_only_its_hash_is_stored(
        app, db, client, trainee):
    log_in(client, trainee)
    with client.session_transaction() as cookie:
        token = cookie["_user_id"]
    # A random secret (32 bytes, URL-safe), not "<id>:<stamp>" as before.
    assert str(trainee.id) not in token.split(":")[0] or len(token) > 30
    assert ":" not in token and len(token) >= 40
    row = db.scalar(select(LoginSession).where(LoginSession.person_id == trainee.id))
    assert row.token_hash == login_sessions.token_hash(token) != token
    assert row.ended_at is None


def test_logging_out_ends_the_session_so_a_copied_cookie_stops_working(app, db, client,
                                                                       trainee):
    log_in(client, trainee)
    thief = cookie_copy(app, client)
    assert logged_in(thief)
    client.post("/logout")
    assert not logged_in(client)
    assert not logged_in(thief)  # the signed cookie is still valid; the session is not
    db.expire_all()
    assert db.scalar(select(LoginSession.ended_reason)) == login_sessions.LOGOUT


def test_changing_the_password_ends_every_other_session_and_keeps_this_one(app, db, client,
                                                                           trainee):
    log_in(client, trainee)
    elsewhere = app.test_client()
    log_in(elsewhere, trainee)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "a brand new phrase for me",
        "confirm": "a brand new phrase for me"})
    assert response.status_code == 302
    assert logged_in(client)
    assert not logged_in(elsewhere)
    db.expire_all()
    reasons = db.scalars(select(LoginSession.ended_reason).order_by(LoginSession.id)).all()
    assert reasons == [login_sessions.PASSWORD, login_sessions.PASSWORD, None]


def test_switching_an_account_off_ends_its_sessions(app, db, client, trainee, make_person):
    log_in(client, trainee)
    admin = app.test_client()
    log_in(admin, make_person("admin"))
    response = admin.post(f"/admin/people/{trainee.id}", data={
        "name": trainee.name, "email": trainee.email, "roles": ["trainee"],
        "confirm_switch_off": "1"})  # "active" unticked
    assert response.status_code == 302, response.get_data(as_text=True)
    assert not logged_in(client)
    db.expire_all()
    assert db.scalar(select(LoginSession.ended_reason).where(
        LoginSession.person_id == trainee.id)) == login_sessions.SWITCHED_OFF


def test_an_idle_session_and_an_old_one_end(db, trainee):
    policy = login_sessions.SessionPolicy(idle=timedelta(minutes=30), lifetime=timedelta(hours=8))
    start = utcnow()
    token = login_sessions.start(db, trainee, now=start)
    db.commit()
    assert login_sessions.resume(db, token, policy, start + timedelta(minutes=20)) == trainee
    # Seen at minute 20, so still live at minute 45 ...
    assert login_sessions.resume(db, token, policy, start + timedelta(minutes=45)) == trainee
    # ... but not after 30 quiet minutes.
    assert login_sessions.resume(db, token, policy, start + timedelta(minutes=80)) is None
    db.expire_all()
    assert db.scalar(select(LoginSession.ended_reason)) == login_sessions.IDLE
    # However busy, a session ends at its lifetime.
    busy = login_sessions.start(db, trainee, now=start)
    for minute in range(20, 8 * 60, 20):
        assert login_sessions.resume(db, busy, policy, start + timedelta(minutes=minute))
    assert login_sessions.resume(db, busy, policy, start + timedelta(hours=8)) is None
    assert login_sessions.resume(db, "not a token", policy, start) is None


@pytest.mark.settings(LMS_SESSION_IDLE_MINUTES=0)
def test_the_idle_time_comes_from_config(client, trainee):
    log_in(client, trainee)
    assert not logged_in(client)


def test_the_sessions_page_lists_them_and_logs_out_everywhere_else(app, db, client, trainee):
    log_in(client, trainee)
    other = app.test_client()
    other.post("/login", data={"email": trainee.email, "password": PASSWORD},
               headers={"User-Agent": "Mozilla/5.0 (Linux; Android 10) Chrome/120.0 Safari/537"})
    page = client.get("/account/sessions").get_data(as_text=True)
    assert "Chrome on Android" in page and "this browser" in page
    assert page.count("End this log-in") == 1  # not offered for this browser
    response = client.post("/account/sessions", data={"everywhere": "1"},
                           follow_redirects=True)
    assert "1 other log-in ended" in response.get_data(as_text=True)
    assert logged_in(client) and not logged_in(other)


def test_ending_one_session_from_the_list(app, db, client, trainee, make_person):
    log_in(client, trainee)
    other = app.test_client()
    log_in(other, trainee)
    someone = app.test_client()
    log_in(someone, make_person("trainee"))
    mine = db.scalars(select(LoginSession.id).where(LoginSession.person_id == trainee.id)
                      .order_by(LoginSession.id)).all()
    theirs = db.scalar(select(LoginSession.id).where(LoginSession.person_id != trainee.id))
    # Another person's session cannot be ended from here.
    client.post("/account/sessions", data={"session_id": str(theirs)})
    assert logged_in(someone)
    client.post("/account/sessions", data={"session_id": str(mine[1])})
    assert not logged_in(other) and logged_in(client)
    assert client.post("/account/sessions", data={"session_id": "x"}).status_code == 400


def test_the_sessions_page_needs_a_log_in(client):
    response = client.get("/account/sessions")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.settings(WTF_CSRF_ENABLED=True)
def test_log_in_rotates_the_form_token_and_an_old_page_still_posts(app, client, trainee):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    with client.session_transaction() as cookie:
        before = cookie["csrf_token"]
    client.post("/login", data={"email": trainee.email, "password": PASSWORD,
                                "csrf_token": token})
    with client.session_transaction() as cookie:
        assert cookie.get("csrf_token") != before  # a token seen before log-in is worthless
    assert client.post("/modules/listening/read", data={"csrf_token": token}).status_code == 400
    # A page opened two hours ago (a slow quiz) still posts: the token lives with the session.
    import time

    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class TwoHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 3600

    client.get("/modules/listening")  # makes the session's form secret
    with client.session_transaction() as cookie:
        secret = cookie["csrf_token"]
    old = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token",
                                 signer=TwoHoursAgo).dumps(secret)
    assert client.post("/modules/listening/read", data={"csrf_token": old}).status_code == 302
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600  # the old rule would have refused it
    assert client.post("/modules/listening/read", data={"csrf_token": old}).status_code == 400


@pytest.mark.settings(LMS_LOGIN_THROTTLE_PER_ACCOUNT=5)
def test_parallel_guesses_never_get_more_tries_than_the_limit(app, db, trainee):
    clients = [app.test_client() for _ in range(20)]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def guess(client, n):
        barrier.wait()
        statuses.append(client.post("/login", data={"email": trainee.email,
                                                     "password": f"wrong guess {n}"}).status_code)

    in_threads(guess, [(c, n) for n, c in enumerate(clients)])
    assert statuses.count(401) <= 5  # checked against the password
    assert statuses.count(429) >= 15  # refused unchecked
    assert set(statuses) <= {401, 429}


@pytest.mark.settings(LMS_LOGIN_THROTTLE_PER_ACCOUNT=3, LMS_LOGIN_THROTTLE_PER_ADDRESS=3)
def test_guessers_cannot_lock_out_a_person_from_a_browser_they_have_used(app, db, trainee):
    own = app.test_client()
    log_in(own, trainee)
    own.post("/logout")
    assert own.get_cookie(login_sessions_cookie()) is not None
    attacker = app.test_client()
    for n in range(6):
        attacker.post("/login", data={"email": trainee.email, "password": f"guess {n}"},
                      environ_base={"REMOTE_ADDR": "203.0.113.9"})
    # The attacker's right guess would now be refused ...
    response = attacker.post("/login", data={"email": trainee.email, "password": PASSWORD},
                             environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 429
    # ... but the person, from their own browser (another address: a phone on new wifi), is in.
    response = own.post("/login", data={"email": trainee.email, "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 302
    # From that browser too, guesses run out: it has a budget of its own (3 here), not an
    # open door for whoever holds its cookie.
    own.post("/logout")
    statuses = [own.post("/login", data={"email": trainee.email, "password": f"nope {n}"},
                         environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code
                for n in range(6)]
    assert statuses == [401, 401, 401, 429, 429, 429]


@pytest.mark.settings(LMS_LOGIN_THROTTLE_PER_ACCOUNT=3, LMS_LOGIN_THROTTLE_PER_ADDRESS=5)
def test_sharing_an_address_with_the_owner_buys_no_extra_guesses(app, db, trainee):
    """An office's wifi or a proxy's address is shared by strangers: only the owner's own
    browser (its device cookie) is a known place."""
    own = app.test_client()
    log_in(own, trainee)
    neighbour = app.test_client()
    statuses = [neighbour.post("/login", data={"email": trainee.email,
                                                "password": f"guess {n}"}).status_code
                for n in range(10)]
    assert statuses.count(401) == 3 and statuses.count(429) == 7


def login_sessions_cookie() -> str:
    from lms.web.auth import DEVICE_COOKIE

    return DEVICE_COOKIE


def end_by_idling(db, person) -> None:
    """As if the person left the page for longer than the idle time."""
    from sqlalchemy import update

    db.execute(update(LoginSession).where(LoginSession.person_id == person.id)
               .values(last_seen_at=utcnow() - timedelta(days=1)))
    db.commit()


def test_answers_sent_after_the_log_in_ended_are_kept_for_the_same_person(db, client, trainee):
    from lms.models import Attempt
    from tests.test_trainee import RIGHT, start

    log_in(client, trainee)
    attempt_id = start(client)
    end_by_idling(db, trainee)
    response = client.post(f"/attempts/{attempt_id}", data=RIGHT)
    assert response.status_code == 302 and "/login" in response.location
    assert "what you typed has been kept" in client.get(response.location).get_data(
        as_text=True)
    response = client.post(response.location, data={"email": trainee.email,
                                                    "password": PASSWORD})
    assert response.location.endswith("/resume")
    page = client.get("/resume").get_data(as_text=True)
    assert f'action="/attempts/{attempt_id}"' in page
    assert 'name="q-l2" value="a"' in page and 'name="q-l2" value="c"' in page
    # "Send it now" posts the kept answers: the attempt is scored as if never interrupted.
    response = client.post(f"/attempts/{attempt_id}", data=RIGHT)
    assert response.location.endswith(f"/attempts/{attempt_id}/result")
    assert db.get(Attempt, attempt_id).score == 100.0
    # Offered once: the page holds them now.
    assert client.get("/resume").status_code == 302


def test_kept_answers_are_never_shown_to_someone_else_on_the_same_phone(
        db, client, trainee, make_person):
    from tests.test_trainee import RIGHT, start

    log_in(client, trainee)
    attempt_id = start(client)
    end_by_idling(db, trainee)
    client.post(f"/attempts/{attempt_id}", data=RIGHT)
    other = make_person("trainee", name="Other Person")
    response = client.post("/login", data={"email": other.email, "password": PASSWORD})
    assert not response.location.endswith("/resume")
    assert client.get("/resume").status_code == 302
    with client.session_transaction() as cookie:
        assert "lms_kept_form" not in cookie


def end_everywhere(db, person, reason=login_sessions.IDLE) -> None:
    from sqlalchemy import update

    db.execute(update(LoginSession).where(LoginSession.person_id == person.id)
               .values(ended_at=utcnow(), ended_reason=reason))
    db.commit()


def readable_cookie(client) -> str:
    """The session cookie as anyone holding the phone can read it (signed, not encrypted)."""
    import base64
    import zlib

    value = client.get_cookie("session").value
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode()


def test_a_kept_form_stays_on_the_server_never_in_the_readable_cookie(db, client, trainee):
    from tests.test_trainee import start

    log_in(client, trainee)
    attempt_id = start(client)
    end_by_idling(db, trainee)
    client.post(f"/attempts/{attempt_id}", data={"q-l1": "b", "q-l4": "a private thought"})
    assert "a private thought" not in readable_cookie(client)
    kept = db.scalar(select(LoginSession.kept_form).where(LoginSession.person_id == trainee.id))
    assert ["q-l4", "a private thought"] in kept["fields"]


def test_passwords_and_log_in_forms_are_never_kept(db, client, trainee):
    log_in(client, trainee)
    end_by_idling(db, trainee)
    client.post("/account/password", data={"current_password": PASSWORD,
                                           "new_password": "a secret never kept",
                                           "confirm": "a secret never kept"})
    client.post("/logout")  # logging out after the log-in ended: nothing to send again
    assert db.scalar(select(LoginSession.kept_form).where(
        LoginSession.kept_form.is_not(None))) is None
    response = client.post("/login", data={"email": trainee.email, "password": PASSWORD})
    assert not response.location.endswith("/resume")


def test_log_out_after_the_log_in_ended_just_logs_out(db, client, trainee):
    log_in(client, trainee)
    end_by_idling(db, trainee)
    response = client.post("/logout")
    assert response.status_code == 302 and response.location.endswith("/login")
    assert "kept" not in client.get("/login").get_data(as_text=True)


def test_no_form_is_kept_for_a_cookie_whose_log_in_was_ended_on_purpose(db, client, trainee):
    """After "log out everywhere" (or a new password), whoever still holds the cookie may not
    be its owner: what they send is not offered to the owner later."""
    from tests.test_trainee import start

    log_in(client, trainee)
    attempt_id = start(client)
    end_everywhere(db, trainee, login_sessions.EVERYWHERE)
    response = client.post(f"/attempts/{attempt_id}", data={"q-l1": "b"})
    assert response.status_code == 302
    assert db.scalar(select(LoginSession.kept_form).where(
        LoginSession.kept_form.is_not(None))) is None


def test_logging_in_as_someone_else_ends_the_first_persons_session(db, client, trainee,
                                                                   make_person):
    log_in(client, trainee)
    log_in(client, make_person("trainee", name="Second Person"))
    db.expire_all()
    assert db.scalar(select(LoginSession.ended_reason).where(
        LoginSession.person_id == trainee.id)) == login_sessions.LOGOUT


def test_ending_a_session_with_an_impossible_id_is_a_400(client, trainee):
    log_in(client, trainee)
    response = client.post("/account/sessions", data={"session_id": "9" * 30})
    assert response.status_code == 400


def test_a_browser_name_with_control_characters_is_stored_as_text(db, client, trainee):
    client.post("/login", data={"email": trainee.email, "password": PASSWORD},
                headers={"User-Agent": "Evil\x01Browser"})
    assert db.scalar(select(LoginSession.user_agent)) == "Evil Browser"


def test_old_failures_and_sessions_are_forgotten(db, client, trainee):
    from lms.services import login_throttle

    old = utcnow() - timedelta(days=200)
    login_throttle.record_failure(db, "x@example.org", "1.2.3.4", old)
    login_sessions.start(db, trainee, now=old)
    db.commit()
    log_in(client, trainee)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(LoginFailure)) == 0
    assert db.scalar(select(func.count()).select_from(LoginSession)) == 1  # this log-in


def test_a_host_app_that_supplies_the_person_has_no_lms_sessions_pages(app, db, trainee):
    """In host mode log-ins are the host's business: lms's session pages are not there."""
    app.config["LMS_CURRENT_PERSON"] = lambda: db.get(type(trainee), trainee.id)
    client = app.test_client()
    assert client.get("/account/sessions").status_code == 404
    assert client.get("/resume").status_code == 404
    assert client.post("/logout").status_code == 404


def test_a_kept_form_only_ever_posts_back_into_this_site(db, client, trainee):
    from sqlalchemy import update

    from tests.test_trainee import start

    log_in(client, trainee)
    attempt_id = start(client)
    end_by_idling(db, trainee)
    client.post(f"/attempts/{attempt_id}", data={"q-l1": "b"})
    db.execute(update(LoginSession).where(LoginSession.kept_form.is_not(None)).values(
        kept_form={"path": "//evil.example/steal", "fields": [["q-l1", "b"]], "at": "x"}))
    db.commit()
    response = client.post("/login", data={"email": trainee.email, "password": PASSWORD})
    assert response.location.endswith("/resume")
    page = client.get("/resume")
    assert page.status_code == 302 and "evil.example" not in page.location


def test_the_look_up_brings_what_a_trainees_dashboard_asks(db, trainee, make_person,
                                                           make_cohort):
    from datetime import UTC, datetime

    from lms.models import CheckIn, JoinRequest, LtiPlatform, LtiUser

    token = login_sessions.start(db, trainee)
    db.commit()
    _row, person = login_sessions.look_up(db, token)
    assert (person.last_check_in_known, person.last_check_in_at) == (True, None)
    assert person.join_pending is False and person.came_by_lti is False
    at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    scores = dict(mood=3, calm=3, manageable=3, sleep=3, supported=3)
    db.add_all([CheckIn(trainee_id=trainee.id, at=at - timedelta(days=2), **scores),
                CheckIn(trainee_id=trainee.id, at=at, **scores)])
    stand_in = make_person("trainee", stands_in=True)
    cohort = make_cohort()
    db.add(JoinRequest(stand_in_id=stand_in.id, person_id=trainee.id, cohort_id=cohort.id))
    platform = LtiPlatform(name="Moodle", issuer="https://moodle.example",
                           client_id="lms", auth_login_url="https://moodle.example/auth",
                           auth_token_url="https://moodle.example/token",
                           key_set_url="https://moodle.example/certs")
    db.add(platform)
    db.flush()
    db.add(LtiUser(platform_id=platform.id, sub="user-42", person_id=trainee.id))
    db.commit()
    _row, person = login_sessions.look_up(db, token)
    # The latest check-in as an instant in UTC on every backend (its day depends on the zone).
    assert person.last_check_in_at == at and person.last_check_in_at.tzinfo is not None
    assert person.join_pending is True and person.came_by_lti is True
    # As the dashboard's list: a request whose stand-in was switched off is not waiting ...
    stand_in.active = False
    db.commit()
    assert login_sessions.look_up(db, token)[1].join_pending is False
    stand_in.active = True
    db.commit()
    assert login_sessions.look_up(db, token)[1].join_pending is True
    # ... nor one already joined.
    db.execute(JoinRequest.__table__.update().values(joined_at=at))
    db.commit()
    assert login_sessions.look_up(db, token)[1].join_pending is False
