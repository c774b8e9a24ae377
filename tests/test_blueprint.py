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
