"""Security headers on every lms response, the session cookie's SameSite, and CSV cells that
spreadsheets would run."""

from __future__ import annotations

import pytest

from lms.services.cohort_grid import neutralise
from tests.factories import PASSWORD


@pytest.mark.parametrize("url", ["/login", "/verify", "/no-such-page"])
def test_every_page_sends_the_security_headers(client, url):
    response = client.get(url)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_a_page_s_own_referrer_policy_is_kept_and_https_gets_hsts(client):
    assert client.get("/verify").headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/login").headers["Referrer-Policy"] == "same-origin"
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.settings(LMS_SECURITY_HEADERS=False)
def test_a_host_app_may_send_its_own(client):
    assert "Content-Security-Policy" not in client.get("/login").headers


def test_the_session_cookie_is_same_site_lax(client, trainee):
    response = client.post("/login", data={"email": trainee.email, "password": PASSWORD})
    cookies = response.headers.getlist("Set-Cookie")
    assert any("SameSite=Lax" in c for c in cookies), cookies


@pytest.mark.parametrize("cell", ["=1+1", "\uff1d1+1", "\uff0bcmd", "\tx", "\rx", "@SUM(A1)",
                                  "-2"])
def test_formula_cells_are_neutralised_fullwidth_included(cell):
    assert neutralise(cell) == "'" + cell


def test_plain_cells_are_left_alone():
    assert neutralise("Amina Diallo") == "Amina Diallo" and neutralise(None) == ""


def test_a_host_header_no_server_could_have_is_a_400_not_a_500(client):
    response = client.get("/login", headers={"Host": "a" * 5000})
    assert response.status_code == 400
    assert "could not be understood" in response.get_data(as_text=True)


@pytest.mark.settings(LMS_PUBLIC_URL="https://training.example.org")
def test_links_that_leave_the_page_use_the_public_url_not_the_host_header(app, client,
                                                                          trainee):
    from lms.web.addresses import external_url
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        assert external_url("lms_calendar.feed", token="abc") == \
            "https://training.example.org/calendar/abc.ics"
    client.post("/login", data={"email": trainee.email, "password": PASSWORD})
    client.post("/my/agenda/feed")
    assert "https://training.example.org/calendar/" in client.get("/my/agenda").get_data(
        as_text=True)


def test_without_a_public_url_links_follow_the_request(app):
    from lms.web.addresses import external_url
    with app.test_request_context("/", base_url="http://localhost"):
        assert external_url("lms_calendar.feed", token="abc") == \
            "http://localhost/calendar/abc.ics"


def test_the_standalone_app_trusts_the_proxies_it_is_told_of(tmp_path):
    from lms import create_app
    app = create_app({"SECRET_KEY": "x", "LMS_DATABASE_URI": f"sqlite:///{tmp_path}/p.db",
                      "LMS_TRUSTED_PROXIES": 1, "LMS_PUBLIC_URL": "https://t.example"},
                     serving=False)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert type(app.wsgi_app).__name__ == "ProxyFix"
    plain = create_app({"SECRET_KEY": "x", "LMS_DATABASE_URI": f"sqlite:///{tmp_path}/q.db"},
                       serving=False)
    assert plain.config["SESSION_COOKIE_SECURE"] is False
    assert type(plain.wsgi_app).__name__ != "ProxyFix"
    app.extensions["lms"].db.dispose()
    plain.extensions["lms"].db.dispose()
