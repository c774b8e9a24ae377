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
