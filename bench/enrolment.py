"""Benchmark: enrolling a large CSV of new trainees through the trainer's upload form.

    python bench/enrolment.py [--rows 2000] [--runs 3] [--database-url URL]

Each run makes a fresh cohort, posts a CSV of --rows new people (name, email) to the upload
form as an admin, and times the whole request: parsing, checking every row, creating the
accounts (no passwords: each gets an invitation link), enrolling them, and rendering the page of
links. Prints each run's seconds and the median. The whole file must enrol in a few seconds,
well inside a worker's 30-second timeout, since SQLite's write lock is held meanwhile.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT, bench_app  # noqa: E402

from lms.models import Curriculum  # noqa: E402
from lms.services import accounts, cohorts  # noqa: E402
from lms.services.content_sync import sync_folders  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with bench_app(args.database_url) as app:
        db = app.extensions["lms"].db
        with db.session() as session:
            sync_folders(session, ROOT / "curricula", ROOT / "quizzes")
            session.commit()
            curriculum = session.query(Curriculum).first()
            accounts.create_person(session, email="admin@example.org", name="Admin",
                                   password="bench-password", roles=["admin"])
            cohort_ids = [cohorts.create_cohort(session, name=f"Run {n}", curriculum=curriculum,
                                                timezone="Africa/Nairobi").id
                          for n in range(args.runs)]
            session.commit()
        client = app.test_client()
        response = client.post("/login", data={"email": "admin@example.org",
                                               "password": "bench-password"})
        assert response.status_code == 302, response.status_code
        seconds = []
        for run, cohort_id in enumerate(cohort_ids):
            lines = ["name,email"] + [f"Trainee {run}-{n},t{run}-{n}@example.org"
                                      for n in range(args.rows)]
            data = "\n".join(lines).encode()
            start = time.perf_counter()
            response = client.post(f"/cohorts/{cohort_id}/enrol-csv", data={
                "csv-file": (io.BytesIO(data), "trainees.csv")},
                content_type="multipart/form-data")
            seconds.append(time.perf_counter() - start)
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
            assert f"{args.rows} trainees enrolled" in response.get_data(as_text=True)
        print(f"{app.extensions['lms'].db.engine.dialect.name}: enrol {args.rows} new trainees "
              f"from a CSV: " + ", ".join(f"{s:.2f}" for s in seconds)
              + f" s (median {statistics.median(seconds):.2f} s)")


if __name__ == "__main__":
    main()
