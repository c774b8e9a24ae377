"""Benchmark: a trainer's cohort reports on a large synthetic cohort.

    python bench/cohort_reports.py [--trainees 200] [--sessions 20] [--attempts 1000]
                                   [--requests 30] [--database-url URL]

Builds the shipped curriculum, one cohort of N trainees with a full agenda of past sessions
(every register marked, some late, excused and absent), module progress and quiz attempts with
every answer stored, then times, through the WSGI app in-process:

* the progress grid (trainees x modules, attendance, behind) and its CSV export;
* the readiness grid (every standard of the shipped standards.yaml for every trainee);
* the attendance of the whole cohort (the grid's attendance part alone, as a service call);
* quiz item statistics over --attempts first attempts.

Prints the median and 95th percentile in milliseconds.
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

from harness import ROOT, bench_app, page, timed  # noqa: E402

from lms.models import (  # noqa: E402
    Answer,
    Attempt,
    AttendanceRecord,
    Cohort,
    CohortStaff,
    Enrolment,
    Module,
    ModuleProgress,
    Person,
    PersonRole,
    Quiz,
    SessionModule,
    TrainingSession,
)
from lms.models._types import utcnow  # noqa: E402
from lms.services.attendance import cohort_attendance  # noqa: E402
from lms.services.content_sync import sync_folders  # noqa: E402
from tests.factories import PASSWORD, PASSWORD_HASH  # noqa: E402


def people(session, prefix: str, count: int, role: str, now) -> list[int]:
    session.execute(insert(Person), [
        {"email": f"{prefix}{i}@bench.example", "name": f"{prefix.title()} {i:04}",
         "password_hash": PASSWORD_HASH, "active": True, "is_demo": False, "created_at": now,
         "password_changed_at": now} for i in range(count)])
    ids = list(session.scalars(select(Person.id).where(Person.email.like(f"{prefix}%@bench%"))
                               .order_by(Person.id)))
    session.execute(insert(PersonRole), [{"person_id": pid, "role": role} for pid in ids])
    return ids


def build(session, args, rng: random.Random) -> tuple[int, int, str]:
    now = utcnow()
    sync_folders(session, ROOT / "curricula", ROOT / "quizzes")
    modules = list(session.scalars(select(Module).order_by(Module.position)))
    [trainer_id] = people(session, "trainer", 1, "trainer", now)
    people(session, "admin", 1, "admin", now)  # statistics over every cohort are admin-only
    cohort = Cohort(name="Bench cohort", curriculum_id=modules[0].curriculum_id, timezone="UTC")
    session.add(cohort)
    session.flush()
    session.add(CohortStaff(cohort_id=cohort.id, person_id=trainer_id, role="trainer"))
    trainees = people(session, "trainee", args.trainees, "trainee", now)
    session.execute(insert(Enrolment), [{"cohort_id": cohort.id, "person_id": pid,
                                         "enrolled_on": (now - timedelta(days=120)).date()}
                                        for pid in trainees])
    # The agenda: past sessions, each on one module, a third of them core.
    sessions = []
    for n in range(args.sessions):
        start = (now - timedelta(days=args.sessions - n + 1)).replace(hour=9, minute=0,
                                                                      second=0, microsecond=0)
        item = TrainingSession(cohort_id=cohort.id, position=n + 1, title=f"Day {n + 1}",
                               on_date=start.date(), start_time=start.time(), starts_at=start,
                               duration_minutes=180, venue="Hall", online_link="",
                               activities=["teaching"], is_core=n % 3 == 0, cancel_reason="")
        item.module_links.append(SessionModule(module_id=modules[n % len(modules)].id))
        session.add(item)
        sessions.append(item)
    session.flush()
    marks = []
    for item in sessions:
        for pid in trainees:
            roll = rng.random()
            status, minutes = ("present", 180) if roll < 0.8 else ("late", 120) \
                if roll < 0.88 else ("excused", 0) if roll < 0.94 else ("absent", 0)
            marks.append({"session_id": item.id, "person_id": pid, "status": status,
                          "minutes_credited": minutes, "recorded_by_id": trainer_id,
                          "recorded_at": now})
    session.execute(insert(AttendanceRecord), marks)
    session.execute(insert(ModuleProgress), [
        {"person_id": pid, "module_id": m.id, "read_at": now, "module_version": 1}
        for pid in trainees for m in modules if rng.random() < 0.8])

    # Quiz attempts: --attempts first attempts at the confidentiality quiz (extra trainees
    # outside the cohort make up the number), and two attempts per trainee at the others.
    quizzes = {q.module.slug: q for q in session.scalars(select(Quiz))}
    target = quizzes["confidentiality"]
    extra = max(0, args.attempts - len(trainees))
    outsiders = people(session, "outsider", extra, "trainee", now) if extra else []
    rows = []
    for pid in trainees + outsiders:
        for quiz in quizzes.values():
            if pid in outsiders and quiz is not target:
                continue
            tries = 1 if quiz is target else 2
            for n in range(tries):
                rows.append({"person_id": pid, "quiz_id": quiz.id,
                             "quiz_version_id": quiz.current_version_id,
                             "question_order": [q.key for q in quiz.current_version.questions],
                             "started_at": now - timedelta(days=3 - n),
                             "submitted_at": now - timedelta(days=3 - n),
                             "score": 0.0, "passed": False})
    session.execute(insert(Attempt), rows)
    ability = {pid: rng.random() for pid in trainees + outsiders}
    questions = {q.id: q.current_version.questions for q in quizzes.values()}
    answers, scores = [], {}
    for attempt_id, person_id, quiz_id in session.execute(
            select(Attempt.id, Attempt.person_id, Attempt.quiz_id)):
        right_count = 0
        for question in questions[quiz_id]:
            right = rng.random() < 0.35 + 0.6 * ability[person_id]
            right_count += right
            wrong = [o["id"] for o in question.options if o["id"] not in question.correct]
            answers.append({"attempt_id": attempt_id, "question_id": question.id,
                            "response": question.correct if right else [rng.choice(wrong)],
                            "mark": 1.0 if right else 0.0})
        scores[attempt_id] = 100.0 * right_count / len(questions[quiz_id])
        if len(answers) > 50_000:
            session.execute(insert(Answer), answers)
            answers = []
    if answers:
        session.execute(insert(Answer), answers)
    from sqlalchemy import update

    session.execute(update(Attempt), [{"id": aid, "score": s, "passed": s >= 80}
                                      for aid, s in scores.items()])
    session.commit()
    trainer_email = session.get(Person, trainer_id).email
    return cohort.id, len(rows), trainer_email


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with bench_app(args.database_url) as app:
        db = app.extensions["lms"].db
        session = db.session()
        started = time.perf_counter()
        cohort_id, attempts, trainer_email = build(session, args, random.Random(11))
        print(f"database: {db.engine.dialect.name}; built in "
              f"{time.perf_counter() - started:.1f}s: {args.trainees} trainees, "
              f"{args.sessions} sessions ({args.trainees * args.sessions:,} marks), "
              f"{attempts:,} attempts")
        client = app.test_client()
        assert client.post("/login", data={"email": trainer_email,
                                           "password": PASSWORD}).status_code == 302
        admin = app.test_client()
        assert admin.post("/login", data={"email": "admin0@bench.example",
                                          "password": PASSWORD}).status_code == 302

        def attendance_only():
            with db.session() as s:
                cohort_attendance(s, s.get(Cohort, cohort_id))

        checks = {
            "progress grid (page)": page(client, f"/cohorts/{cohort_id}/grid"),
            "progress grid (CSV)": page(client, f"/cohorts/{cohort_id}/grid.csv"),
            "readiness grid (page)": page(client, f"/cohorts/{cohort_id}/readiness"),
            "attendance, whole cohort (service)": attendance_only,
            f"item statistics, {args.attempts} first attempts (page)":
                page(admin, "/cohorts/statistics/confidentiality"),
        }
        print(f"{'report':<50}{'median ms':>10}{'p95 ms':>10}   ({args.requests} runs each)")
        for name, run in checks.items():
            median, p95 = timed(run, args.requests)
            print(f"{name:<50}{median:>10.1f}{p95:>10.1f}")
        session.close()


if __name__ == "__main__":
    main()
