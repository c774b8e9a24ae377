"""Benchmark: a supervisor's dashboard and a supervisee's page on a year of records.

    python bench/supervision.py [--supervisees 60] [--others 440] [--weeks 52]
                                [--requests 30] [--database-url URL]

Builds the shipped curriculum, one cohort of supervisees + others (the others belong to other
supervisors, so the queries must pick out the right people), a weekly self-care check-in for
each over --weeks weeks, monthly supervision records with agreed actions, and a debrief with a
follow-up for one in five; then times, through the WSGI app in-process:

* the supervisor's dashboard (every supervisee's flags, most urgent first);
* the flags service alone for the same supervisees;
* one supervisee's page (progress, quizzes, attendance, records, debriefs, check-in chart);
* a trainee's check-in history with its chart.

Prints the median and 95th percentile in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cohort_reports import people  # noqa: E402
from harness import ROOT, bench_app, page, timed  # noqa: E402

from lms.models import (  # noqa: E402
    AgreedAction,
    CheckIn,
    Cohort,
    Curriculum,
    Debrief,
    Enrolment,
    SupervisionAttendee,
    SupervisionRecord,
    SupervisorAssignment,
)
from lms.models._types import utcnow  # noqa: E402
from lms.services import flags  # noqa: E402
from lms.services.content_sync import sync_folders  # noqa: E402
from tests.factories import PASSWORD  # noqa: E402

ITEMS = ("mood", "calm", "manageable", "sleep", "supported")


def build(session, args, rng: random.Random) -> tuple[int, list[int], int]:
    sync_folders(session, ROOT / "curricula", ROOT / "quizzes")
    now = utcnow()
    today = now.date()
    curriculum = session.scalar(select(Curriculum))
    cohort = Cohort(name="Bench cohort", curriculum_id=curriculum.id, timezone="UTC")
    session.add(cohort)
    session.flush()
    total = args.supervisees + args.others
    trainees = people(session, "trainee", total, "trainee", now)
    supervisor_ids = people(session, "supervisor", 2 + args.others // 60, "supervisor", now)
    start = today - timedelta(days=7 * args.weeks)
    session.execute(insert(Enrolment), [
        {"cohort_id": cohort.id, "person_id": pid, "enrolled_on": start} for pid in trainees])
    mine, others = trainees[:args.supervisees], trainees[args.supervisees:]
    session.execute(insert(SupervisorAssignment), [
        {"trainee_id": pid, "supervisor_id": supervisor_ids[0], "starts_on": start,
         "set_at": now} for pid in mine] + [
        {"trainee_id": pid, "supervisor_id": supervisor_ids[1 + n // 60], "starts_on": start,
         "set_at": now} for n, pid in enumerate(others)])
    rows = []
    for pid in trainees:
        base = rng.choice((3, 4, 4, 5))
        for week in range(args.weeks):
            at = datetime.combine(start + timedelta(days=7 * week + rng.randrange(3)),
                                  datetime.min.time(), tzinfo=UTC) + timedelta(hours=18)
            scores = {i: max(1, min(5, base + rng.choice((-2, -1, 0, 0, 0, 1)))) for i in ITEMS}
            rows.append({"trainee_id": pid, "at": at, "note": "A steady week." if week % 4
                         else "", "wants_to_talk": rng.random() < 0.03, **scores})
    session.execute(insert(CheckIn), rows)
    for n, pid in enumerate(trainees):
        supervisor = supervisor_ids[0] if pid in mine else supervisor_ids[1 + (n - len(mine))
                                                                           // 60]
        for month in range(args.weeks // 4):
            held = start + timedelta(days=28 * month + rng.randrange(5))
            record = SupervisionRecord(author_id=supervisor, held_on=held, duration_minutes=45,
                                       kind="individual", format="phone",
                                       topics=["caseload", "wellbeing"],
                                       notes="Talked through the month.", private_note="")
            record.attendees.append(SupervisionAttendee(trainee_id=pid))
            record.actions.append(AgreedAction(
                description="Reread the boundaries module", owner_id=pid,
                due_on=held + timedelta(days=14),
                done_on=None if rng.random() < 0.2 else held + timedelta(days=10)))
            session.add(record)
        if n % 5 == 0:
            debrief = Debrief(trainee_id=pid, started_by_id=pid, supervisor_id=supervisor,
                              incident_type="other", incident_on=today - timedelta(days=20),
                              what_happened="A hard call.", how_now="Better.",
                              support_needed="", identifying_kept=[])
            debrief.actions.append(AgreedAction(description="Follow up",
                                                due_on=today - timedelta(days=5)))
            session.add(debrief)
    session.commit()
    return supervisor_ids[0], mine, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supervisees", type=int, default=60)
    parser.add_argument("--others", type=int, default=440)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with bench_app(args.database_url) as app:
        db = app.extensions["lms"].db
        session = db.session()
        started = time.perf_counter()
        supervisor_id, mine, check_ins = build(session, args, random.Random(7))
        print(f"database: {db.engine.dialect.name}; built in "
              f"{time.perf_counter() - started:.1f}s: {args.supervisees} supervisees of "
              f"{args.supervisees + args.others} trainees, {check_ins:,} check-ins, "
              f"{(args.supervisees + args.others) * (args.weeks // 4):,} supervision records")
        supervisor = app.test_client()
        assert supervisor.post("/login", data={"email": "supervisor0@bench.example",
                                               "password": PASSWORD}).status_code == 302
        trainee = app.test_client()
        assert trainee.post("/login", data={"email": "trainee0@bench.example",
                                            "password": PASSWORD}).status_code == 302
        settings = flags.Settings()
        today = utcnow().date()

        def flags_only():
            with db.session() as s:
                flags.dashboard(s, supervisor_id, today, settings)

        checks = {
            f"supervisor dashboard, {args.supervisees} supervisees (page)":
                page(supervisor, "/supervision/"),
            f"flags for {args.supervisees} supervisees (service)": flags_only,
            "supervisee page (page)": page(supervisor, f"/supervision/people/{mine[0]}"),
            "trainee check-in history with chart (page)": page(trainee, "/my/check-ins"),
        }
        print(f"{'page':<55}{'median ms':>10}{'p95 ms':>10}   ({args.requests} runs each)")
        for name, run in checks.items():
            median, p95 = timed(run, args.requests)
            print(f"{name:<55}{median:>10.1f}{p95:>10.1f}")
        session.close()


if __name__ == "__main__":
    main()
