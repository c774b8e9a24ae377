"""Log in, log out, throttling, password changes, demo accounts, CSRF."""

from __future__ import annotations

import re

import pytest

from lms.models import Person
from lms.services import accounts
from tests.conftest import log_in
from tests.factories import PASSWORD


def test_log_in_and_out(client, trainee):
    response = client.post("/login", data={"email": trainee.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200
    assert client.post("/logout").status_code == 302
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.location


def test_wrong_password_keeps_the_email_typed(client, trainee):
    response = client.post("/login", data={"email": trainee.email, "password": "wrong one"})
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "Email or password not recognised." in page
    assert f'value="{trainee.email}"' in page


def test_empty_form_is_a_form_error(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)


def test_next_is_followed_only_within_the_site(client, trainee):
    response = client.post("/login?next=/progress",
                           data={"email": trainee.email, "password": PASSWORD})
    assert response.location == "/progress"
    client.post("/logout")
    response = client.post("/login?next=https://evil.example/",
                           data={"email": trainee.email, "password": PASSWORD})
    assert "evil" not in response.location


@pytest.mark.settings(LMS_LOGIN_THROTTLE_PER_ACCOUNT=3)
def test_failed_log_ins_are_throttled_per_account(client, trainee):
    for _ in range(3):
        response = client.post("/login", data={"email": trainee.email, "password": "x"})
        assert response.status_code == 401
    response = client.post("/login", data={"email": trainee.email, "password": PASSWORD})
    assert response.status_code == 429  # even the right password waits
    assert "Too many failed log-ins" in response.get_data(as_text=True)


@pytest.mark.settings(LMS_LOGIN_THROTTLE_PER_ADDRESS=4, LMS_LOGIN_THROTTLE_PER_ACCOUNT=100)
def test_failed_log_ins_are_throttled_per_address(client, trainee):
    for n in range(4):
        client.post("/login", data={"email": f"guess{n}@example.org", "password": "x"})
    response = client.post("/login", data={"email": trainee.email, "password": PASSWORD})
    assert response.status_code == 429


def test_success_clears_the_account_failures(client, trainee, db):
    for _ in range(2):
        client.post("/login", data={"email": trainee.email, "password": "x"})
    log_in(client, trainee)
    from sqlalchemy import func, select

    from lms.models import LoginFailure

    assert db.scalar(select(func.count()).select_from(LoginFailure)
                     .where(LoginFailure.email == trainee.email)) == 0


def test_inactive_person_cannot_log_in(client, make_person):
    person = make_person("trainee", active=False)
    response = client.post("/login", data={"email": person.email, "password": PASSWORD})
    assert response.status_code == 401
    # The same words as a wrong password: the right password is not confirmed to anyone.
    assert "Email or password not recognised." in response.get_data(as_text=True)
    assert "switched off" not in response.get_data(as_text=True)


def test_demo_accounts_are_refused_outside_demo_mode(client, make_person):
    person = make_person("trainee", is_demo=True)
    response = client.post("/login", data={"email": person.email, "password": PASSWORD})
    assert response.status_code == 401
    assert "Demo accounts work only in demo mode." in response.get_data(as_text=True)


@pytest.mark.settings(LMS_DEMO=True)
def test_demo_accounts_log_in_in_demo_mode(client, make_person):
    person = make_person("trainee", is_demo=True)
    response = client.post("/login", data={"email": person.email, "password": PASSWORD})
    assert response.status_code == 302


def test_change_password(client, trainee, db, app):
    log_in(client, trainee)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "a brand new secret",
        "confirm": "a brand new secret"})
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200  # this session carries on
    client.post("/logout")
    assert client.post("/login", data={"email": trainee.email, "password": PASSWORD}
                       ).status_code == 401
    log_in(client, trainee, "a brand new secret")


def test_change_password_ends_other_sessions(app, trainee):
    first, second = app.test_client(), app.test_client()
    log_in(first, trainee)
    log_in(second, trainee)
    first.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "another long secret",
        "confirm": "another long secret"})
    response = second.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("data, message", [
    ({"current_password": "wrong", "new_password": "long enough pw", "confirm": "long enough pw"},
     "Your current password is not right."),
    ({"current_password": PASSWORD, "new_password": "short", "confirm": "short"},
     "Use at least 10 characters"),
    ({"current_password": PASSWORD, "new_password": "long enough pw", "confirm": "different one"},
     "The two do not match."),
])
def test_change_password_errors(client, trainee, data, message):
    log_in(client, trainee)
    response = client.post("/account/password", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


@pytest.mark.settings(WTF_CSRF_ENABLED=True)
def test_csrf_is_enforced_when_switched_on(client, trainee):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert len(token) > 20
    # Without the token: refused, nobody logged in.
    response = client.post("/login", data={"email": trainee.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "expired or did not come from this site" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302
    # With it: fine.
    response = client.post("/login", data={"email": trainee.email, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    # Every lms POST checks it, the quiz form included.
    response = client.post("/modules/listening/read")
    assert response.status_code == 400
    page = client.get("/modules/listening").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/modules/listening/read", data={"csrf_token": token}).status_code == 302


def test_passwords_are_hashed(db, make_person):
    person = accounts.create_person(db, email="new@example.org", name="New",
                                    password="plain text secret", roles=["trainee"])
    assert "plain text secret" not in person.password_hash
    assert person.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_create_person_refuses_duplicates_and_weak_passwords(db, trainee):
    with pytest.raises(accounts.AccountError, match="already uses"):
        accounts.create_person(db, email=trainee.email.upper(), name="X", password="x" * 12)
    with pytest.raises(accounts.AccountError, match="at least 10"):
        accounts.create_person(db, email="a@b.org", name="X", password="short",
                               roles=["trainee"])
    with pytest.raises(accounts.AccountError, match="at least one role"):
        accounts.create_person(db, email="a@b.org", name="X", password="x" * 12, roles=[])
    with pytest.raises(accounts.AccountError, match="Unknown role"):
        accounts.create_person(db, email="a@b.org", name="X", password="x" * 12, roles=["god"])


def test_person_without_roles_can_still_log_out(client, make_person):
    person = make_person("trainee")
    person.role_rows.clear()
    from tests.factories import _Session

    _Session.current.commit()
    log_in(client, person)
    assert client.post("/logout").status_code == 302


@pytest.mark.settings(LMS_CURRENT_PERSON=lambda: None)
def test_host_mode_has_no_lms_log_in(client):
    assert client.get("/login").status_code == 404
    assert client.post("/logout").status_code in (401, 404)
    assert client.get("/dashboard").status_code == 401


def test_switched_off_account_loses_its_session(app, db, trainee):
    client = app.test_client()
    log_in(client, trainee)
    db.get(Person, trainee.id).active = False
    db.commit()
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example"])
def test_next_never_leaves_the_site(client, trainee, target):
    response = client.post(f"/login?next={target}",
                           data={"email": trainee.email, "password": PASSWORD})
    from urllib.parse import urlsplit

    assert response.status_code == 302
    parts = urlsplit(response.location)
    assert not parts.scheme and not parts.netloc and not response.location.startswith("//")


def test_next_with_a_backslash_never_leaves_the_site(app, make_person):
    person = make_person("trainee")
    response = app.test_client().post("/login?next=/\\evil.example/", data={
        "email": person.email, "password": PASSWORD})
    assert response.status_code == 302 and "evil.example" not in response.location


def test_a_name_of_zero_width_characters_is_no_name(db):
    from lms.services import accounts
    assert accounts.blank_name("\u200b" * 10)
    assert accounts.blank_name(" \u00a0\t")
    assert not accounts.blank_name("Amina")
    with pytest.raises(accounts.AccountError) as info:
        accounts.create_person(db, email="zw@example.org", name="\u200b\u200c\u200d",
                               password=None, roles=("trainee",))
    assert "name" in info.value.problems
