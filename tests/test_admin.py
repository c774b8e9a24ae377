"""Admin pages: create people, assign roles."""

from __future__ import annotations

import re

from sqlalchemy import select

from lms.models import Enrolment, Person
from tests.conftest import log_in
from tests.factories import PASSWORD


def test_admin_lists_people(make_person, login, trainee):
    admin = make_person("admin", name="Ada Admin")
    page = login(admin).get("/admin/people").get_data(as_text=True)
    assert "Ada Admin" in page and "Tess Trainee" in page


def test_admin_creates_a_trainee_enrolled_in_a_cohort(db, make_person, make_cohort, login, app):
    admin = make_person("admin")
    cohort = make_cohort(name="Spring")
    client = login(admin)
    response = client.post("/admin/people/new", data={
        "name": "Nia New", "email": "Nia@Example.org",
        "roles": ["trainee"], "cohort_id": str(cohort.id)})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    link = re.search(r'value="http://localhost(/invitation/[^"]+)"', page).group(1)
    person = db.scalar(select(Person).where(Person.email == "nia@example.org"))
    assert person.roles == {"trainee"} and person.password_hash is None
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == person.id))
    assert enrolment.cohort_id == cohort.id
    other = app.test_client()
    assert other.post(link, data={"password": "long enough secret",
                                  "confirm": "long enough secret"}).status_code == 302
    assert app.test_client().post("/login", data={
        "email": "nia@example.org", "password": "long enough secret"}).status_code == 302


def test_create_person_errors_keep_what_was_typed(make_person, login, trainee):
    admin = make_person("admin")
    response = login(admin).post("/admin/people/new", data={
        "name": "Dup Licate", "email": trainee.email,
        "roles": ["trainer"], "cohort_id": "0"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Someone already uses this email address." in page
    assert 'value="Dup Licate"' in page
    assert 'value="trainer" checked' in page or 'checked id="roles-1"' in page or \
        "checked" in page.split('value="trainer"')[0][-60:] + page.split('value="trainer"')[1][:20]


def test_admin_changes_roles_and_switches_off(db, make_person, login, trainee):
    admin = make_person("admin")
    client = login(admin)
    data = {"name": "Tess T", "email": trainee.email, "roles": ["trainee", "supervisor"],
            "cohort_id": "0"}
    response = client.post(f"/admin/people/{trainee.id}", data=data)
    # Switching off asks first, on a page of its own; nothing is saved yet.
    assert response.status_code == 200
    assert "Yes, switch off the account" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Person, trainee.id).active is True
    response = client.post(f"/admin/people/{trainee.id}", data={**data,
                                                                 "confirm_switch_off": "1"})
    assert response.status_code == 302
    db.expire_all()
    person = db.get(Person, trainee.id)
    assert person.roles == {"trainee", "supervisor"} and person.name == "Tess T"
    assert person.active is False  # the box was not ticked


def test_admin_cannot_remove_own_admin_role(db, make_person, login):
    admin = make_person("admin")
    response = login(admin).post(f"/admin/people/{admin.id}", data={
        "name": admin.name, "email": admin.email, "roles": ["trainer"], "active": "y",
        "cohort_id": "0"})
    assert response.status_code == 422
    assert "cannot take the admin role away from yourself" in response.get_data(as_text=True)
    db.expire_all()
    assert "admin" in db.get(Person, admin.id).roles


def test_admin_sets_a_password(db, make_person, login, trainee, app):
    admin = make_person("admin")
    login(admin).post(f"/admin/people/{trainee.id}", data={
        "name": trainee.name, "email": trainee.email, "roles": ["trainee"], "active": "y",
        "new_password": "reset by the admin", "cohort_id": "0"})
    other = app.test_client()
    assert other.post("/login", data={"email": trainee.email, "password": PASSWORD}
                      ).status_code == 401
    assert other.post("/login", data={"email": trainee.email,
                                      "password": "reset by the admin"}).status_code == 302
    # The admin knows it, so the trainee must choose their own before anything else.
    response = other.get("/dashboard")
    assert response.status_code == 302 and response.location.endswith("/account/password")
    assert "set by someone else" in other.get("/account/password").get_data(as_text=True)
    assert other.post("/account/password", data={
        "current_password": "reset by the admin", "new_password": "only I know this one",
        "confirm": "only I know this one"}).status_code == 302
    assert other.get("/dashboard").status_code == 200


def test_unknown_person_is_404(make_person, login):
    assert login(make_person("admin")).get("/admin/people/9999").status_code == 404


def test_admin_cannot_switch_off_own_account(client, db, make_person):
    admin = make_person("admin")
    log_in(client, admin)
    response = client.post(f"/admin/people/{admin.id}", data={
        "name": admin.name, "email": admin.email, "roles": ["admin"], "cohort_id": "0",
        "confirm_switch_off": "1"})
    assert response.status_code == 422
    assert "cannot switch off your own account" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Person, admin.id).active


def test_roles_rules_on_edit(db, make_person, login, trainee):
    """At least one role; an enrolled trainee stays a trainee."""
    admin = make_person("admin")
    client = login(admin)
    response = client.post(f"/admin/people/{trainee.id}", data={
        "name": trainee.name, "email": trainee.email, "roles": [], "active": "y",
        "cohort_id": "0"})
    assert response.status_code == 422
    assert "Choose at least one role." in response.get_data(as_text=True)
    response = client.post(f"/admin/people/{trainee.id}", data={
        "name": trainee.name, "email": trainee.email, "roles": ["supervisor"], "active": "y",
        "cohort_id": "0"})
    assert response.status_code == 422
    assert "stays a trainee while enrolled" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Person, trainee.id).roles == {"trainee"}
    page = client.get(f"/admin/people/{trainee.id}").get_data(as_text=True)
    assert "Enrolled in:" in page
