"""The landing pages."""

from __future__ import annotations

from tests.conftest import log_in


def test_trainee_sees_only_their_curricula(db, client, make_person, make_cohort, tmp_path):
    outsider = make_person("trainee")
    log_in(client, outsider)
    assert "Mini curriculum" not in client.get("/curricula").get_data(as_text=True)
