"""bench/make_dataset.py at a tiny scale: the manifest's shapes are in the database, the seeded
people can use the app, and the same seed builds the same rows."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from datetime import UTC, datetime

import pytest

from bench import make_dataset
from lms import create_app

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SCALE = 0.002


def _build(tmp_path, name: str) -> tuple[dict, str]:
    path = tmp_path / f"{name}.sqlite3"
    manifest = make_dataset.build(f"sqlite:///{path}", scale=SCALE, seed=1, now=NOW,
                                  manifest_path=tmp_path / f"{name}.json", quiet=True)
    return manifest, str(path)


def _checksum(path: str, table: str) -> str:
    digest = hashlib.sha256()
    with sqlite3.connect(path) as connection:
        for row in connection.execute(f"SELECT * FROM {table} ORDER BY id"):  # noqa: S608
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("dataset")
    first = _build(tmp_path, "first")
    second = _build(tmp_path, "second")
    return tmp_path, first, second


def test_manifest_shapes_hold_in_the_database(built):
    tmp_path, (manifest, path), _ = built
    written = json.loads((tmp_path / "first.json").read_text())
    assert set(written) == {
        "database_url", "password", "scale", "seed", "built_in_seconds", "counts", "admin",
        "trainer", "trainee", "submitters", "cohort_50", "cohort_200", "cohort_1000_attempts",
        "quiz_20000", "supervisor", "certificate", "audit_rows"}
    db = sqlite3.connect(path)

    def one(sql: str, *params) -> int:
        return db.execute(sql, params).fetchone()[0]

    c200 = manifest["cohort_200"]
    assert one("SELECT count(*) FROM lms_enrolment WHERE cohort_id = ?", c200["id"]) == 200
    assert one("SELECT count(*) FROM lms_training_session WHERE cohort_id = ?", c200["id"]) == 40
    # Every one of its sessions is past, and every register is taken for all 200.
    assert one("SELECT count(*) FROM lms_attendance a JOIN lms_training_session s "
               "ON s.id = a.session_id WHERE s.cohort_id = ?", c200["id"]) == 200 * 40
    assert one("SELECT count(*) FROM lms_enrolment WHERE cohort_id = ?",
               manifest["cohort_50"]["id"]) == 50
    supervisor = one("SELECT id FROM lms_person WHERE email = ?",
                     manifest["supervisor"]["email"])
    assert manifest["supervisor"]["supervisees"] == 60
    assert one("SELECT count(*) FROM lms_supervisor_assignment WHERE supervisor_id = ? "
               "AND ends_on IS NULL", supervisor) == 60
    finished = ("SELECT count(*) FROM lms_attempt a JOIN lms_quiz q ON q.id = a.quiz_id "
                "JOIN lms_module m ON m.id = q.module_id WHERE m.slug = ? "
                "AND a.submitted_at IS NOT NULL")
    quiz = manifest["quiz_20000"]
    assert quiz["attempts"] == one(finished, quiz["slug"]) > 0
    big = manifest["cohort_1000_attempts"]
    in_cohort = ("SELECT count(*) FROM lms_attempt a JOIN lms_quiz q ON q.id = a.quiz_id "
                 "JOIN lms_module m ON m.id = q.module_id JOIN lms_enrolment e "
                 "ON e.person_id = a.person_id WHERE m.slug = ? AND e.cohort_id = ? "
                 "AND a.submitted_at IS NOT NULL")
    assert big["attempts"] == one(in_cohort, big["quiz_slug"], big["id"]) == 100  # full: 1,000
    # Nobody has more attempts than the quiz allows, and scores agree with the answers.
    assert one("SELECT max(n) FROM (SELECT count(*) AS n FROM lms_attempt "
               "GROUP BY person_id, quiz_id)") <= 3
    assert one("SELECT count(*) FROM lms_attempt a WHERE a.submitted_at IS NOT NULL AND "
               "abs(a.score - 100.0 * (SELECT sum(mark) FROM lms_answer WHERE attempt_id = a.id)"
               " / (SELECT count(*) FROM lms_answer WHERE attempt_id = a.id)) > 0.01") == 0
    submitters = manifest["submitters"]
    assert len(submitters) == len(set(submitters)) == 200
    by_person = ("SELECT count(*) FROM lms_attempt a JOIN lms_quiz q ON q.id = a.quiz_id "
                 "JOIN lms_module m ON m.id = q.module_id JOIN lms_person p "
                 "ON p.id = a.person_id WHERE m.slug = ? AND p.email = ?")
    slug = manifest["trainee"]["quiz_slug"]
    assert sum(one(by_person, slug, email) for email in submitters) == 0
    assert one(by_person, slug, manifest["trainee"]["email"]) == 1
    counts = manifest["counts"]
    assert manifest["audit_rows"] == counts["lms_audit_event"] > 0
    for table, rows in counts.items():
        assert rows == one(f"SELECT count(*) FROM {table}"), table  # noqa: S608
    for table in make_dataset.COLUMNS:
        assert counts[table] > 0, table
    db.close()


def test_the_seeded_people_can_use_the_app(built, monkeypatch):
    tmp_path, (manifest, path), _ = built
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                      "LMS_DATABASE_URI": f"sqlite:///{path}", "LMS_AUTO_UPGRADE": False})

    def log_in(email: str):
        client = app.test_client()
        response = client.post("/login", data={"email": email,
                                               "password": manifest["password"]})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    trainee = log_in(manifest["trainee"]["email"])
    page = trainee.get("/dashboard")
    assert page.status_code == 200
    quiz = trainee.get(f"/modules/{manifest['trainee']['quiz_slug']}/quiz")
    assert quiz.status_code == 200
    trainer = log_in(manifest["trainer"]["email"])
    for shape in ("cohort_50", "cohort_200", "cohort_1000_attempts"):
        assert trainer.get(f"/cohorts/{manifest[shape]['id']}").status_code == 200, shape
    supervisor = log_in(manifest["supervisor"]["email"])
    page = supervisor.get("/supervision/")
    assert page.status_code == 200
    linked = set(re.findall(r'/supervision/people/(\d+)"', page.get_data(as_text=True)))
    assert len(linked) == manifest["supervisor"]["supervisees"] == 60
    assert app.test_client().get(manifest["certificate"]["verify_path"]).status_code == 200
    app.extensions["lms"].db.dispose()


def test_the_same_seed_builds_the_same_rows(built):
    _, (first, first_path), (second, second_path) = built
    assert first["counts"] == second["counts"]
    for table in ("lms_answer", "lms_attendance", "lms_check_in", "lms_certificate"):
        assert _checksum(first_path, table) == _checksum(second_path, table), table
