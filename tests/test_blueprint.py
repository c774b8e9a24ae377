"""Guards on every lms request: ids that fit the database, no NUL bytes."""

from __future__ import annotations

import pytest

from tests.conftest import log_in


@pytest.mark.parametrize("url", ["/attempts/99999999999999999999999", "/attempts/2147483648",
                                 "/admin/people/99999999999", "/cohorts/2147483648"])
def test_ids_too_big_for_the_database_are_404(client, make_person, url):
    log_in(client, make_person("trainee", "admin", "trainer"))
    assert client.get(url).status_code == 404


def test_nul_bytes_are_a_400(client, trainee):
    assert client.post("/login", data={"email": "a\x00@b.org", "password": "x"}
                       ).status_code == 400
    log_in(client, trainee)
    assert client.get("/modules/a%00b").status_code == 400


def test_a_database_error_still_gets_the_lms_error_page(app, db, trainee, make_person):
    """After a failed flush the request's session can only roll back; the 500 page (whose
    menu reads the person's roles) must still be drawn, not a bare server error."""
    from lms.models import Person
    from lms.web.access import current_person, db_session
    from tests.conftest import log_in

    staff = make_person("trainer", name="Tom Trainer")

    @app.route("/boom-after-a-failed-flush")
    def boom():
        current_person()  # loaded in the request's session, as every page does
        session = db_session()
        session.add(Person(email=trainee.email, name="Twin", active=True))
        session.flush()  # IntegrityError: the address is taken

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    log_in(client, staff)
    response = client.get("/boom-after-a-failed-flush")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert '<a class="brand"' in page and "Cohorts" in page  # lms's page, menu and all
