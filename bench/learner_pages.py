"""Benchmark: a learner's pages on a large synthetic dataset.

    python bench/learner_pages.py [--trainees 2000] [--requests 200] [--database-url URL]

Builds a database (SQLite in a temporary folder unless --database-url is given) with the shipped
curriculum, N trainees in one cohort, each with modules read and two submitted attempts per quiz
(every answer stored), then times the pages one trainee uses, through the WSGI app in-process
(no network, no browser). Prints the median and 95th percentile per page, in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT, bench_app, timed  # noqa: E402
from harness import page as get_page  # noqa: E402

from lms.models import (  # noqa: E402
    Answer,
    Attempt,
    Cohort,
    Enrolment,
    Module,
    ModuleProgress,
    Person,
    PersonRole,
    Quiz,
)
from lms.models._types import utcnow  # noqa: E402
from lms.services.content_sync import sync_folders  # noqa: E402
from tests.factories import PASSWORD, PASSWORD_HASH  # noqa: E402


def build(session, trainees: int, rng: random.Random) -> int:
    sync_folders(session, ROOT / "curricula", ROOT / "quizzes")
    modules = list(session.scalars(select(Module).order_by(Module.position)))
    quizzes = list(session.scalars(select(Quiz)))
    cohort = Cohort(name="Bench cohort", curriculum_id=modules[0].curriculum_id)
    session.add(cohort)
    session.flush()
    now = utcnow()
    people = [{"email": f"t{i}@bench.example", "name": f"Trainee {i}",
               "password_hash": PASSWORD_HASH, "active": True, "is_demo": False,
               "created_at": now, "password_changed_at": now} for i in range(trainees)]
    session.execute(insert(Person), people)
    ids = list(session.scalars(select(Person.id).order_by(Person.id)))
    session.execute(insert(PersonRole), [{"person_id": pid, "role": "trainee"} for pid in ids])
    session.execute(insert(Enrolment), [{"cohort_id": cohort.id, "person_id": pid,
                                         "enrolled_on": now.date()} for pid in ids])
    session.execute(insert(ModuleProgress), [
        {"person_id": pid, "module_id": m.id, "read_at": now, "module_version": 1}
        for pid in ids for m in modules])
    attempt_rows = []
    for pid in ids:
        for quiz in quizzes:
            keys = [q.key for q in quiz.current_version.questions]
            for n in range(2):
                score = rng.choice([50.0, 71.4, 85.7, 100.0])
                attempt_rows.append({
                    "person_id": pid, "quiz_id": quiz.id,
                    "quiz_version_id": quiz.current_version_id, "question_order": keys,
                    "started_at": now - timedelta(days=2 - n),
                    "submitted_at": now - timedelta(days=2 - n, minutes=-10),
                    "score": score, "passed": score >= quiz.current_version.pass_mark})
    session.execute(insert(Attempt), attempt_rows)
    attempts = session.execute(select(Attempt.id, Attempt.quiz_id)).all()
    questions = {q.id: q.current_version.questions for q in quizzes}
    answer_rows = []
    for attempt_id, quiz_id in attempts:
        for question in questions[quiz_id]:
            right = rng.random() < 0.75
            answer_rows.append({"attempt_id": attempt_id, "question_id": question.id,
                                "response": question.correct if right else ["zz"],
                                "mark": 1.0 if right else 0.0})
        if len(answer_rows) > 50_000:
            session.execute(insert(Answer), answer_rows)
            answer_rows = []
    if answer_rows:
        session.execute(insert(Answer), answer_rows)
    session.commit()
    return ids[len(ids) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    with bench_app(args.database_url) as app:
        db = app.extensions["lms"].db
        session = db.session()
        started = time.perf_counter()
        person_id = build(session, args.trainees, random.Random(7))
        person = session.get(Person, person_id)
        attempt_id = session.scalar(select(Attempt.id).where(Attempt.person_id == person_id))
        counts = {name: session.query(model).count()
                  for name, model in (("trainees", Person), ("attempts", Attempt),
                                      ("answers", Answer))}
        session.close()
        print(f"database: {db.engine.dialect.name}; built in "
              f"{time.perf_counter() - started:.1f}s: " +
              ", ".join(f"{v:,} {k}" for k, v in counts.items()))

        client = app.test_client()
        response = client.post("/login", data={"email": person.email, "password": PASSWORD})
        assert response.status_code == 302
        pages = {
            "dashboard": "/dashboard",
            "module page": "/modules/confidentiality",
            "quiz intro": "/modules/confidentiality/quiz",
            "quiz result": f"/attempts/{attempt_id}/result",
            "my progress": "/progress",
        }
        print(f"{'page':<14}{'median ms':>10}{'p95 ms':>10}   ({args.requests} requests each)")
        for name, page in pages.items():
            median, p95 = timed(get_page(client, page), args.requests)
            print(f"{name:<14}{median:>10.1f}{p95:>10.1f}")


if __name__ == "__main__":
    main()
