"""Benchmark: how a request's transaction ends, COMMIT after a read (lms) or ROLLBACK (a plain
close), on a dataset from `bench/make_dataset.py`.

    python bench/transaction_ending.py --manifest PATH [--rounds 8]

psycopg forgets its prepared statements on every ROLLBACK, so with ROLLBACK PostgreSQL plans
each query of each page afresh. This times the same pages in one process, switching the
request's ending (``lms.extension.end_session``) between blocks. It alternates which ending
goes first and warms each block with 12 requests, enough for psycopg to prepare a statement
and for PostgreSQL to settle on a generic plan. It prints each page's median under each ending.
In-process, through the WSGI app: no HTTP, so the difference is not drowned by the server.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT  # noqa: E402,F401  (puts the work tree first on the path)
from manifest_people import logged_in_clients  # noqa: E402

import lms.extension  # noqa: E402
from lms import create_app  # noqa: E402
from lms.database import end_session  # noqa: E402

WARM_UP = 12


def close_only(session: Session, failed: bool = False) -> None:
    """The ending before: close, which rolls back whatever the request did."""
    session.close()


def pages(manifest: dict) -> dict[str, list[tuple[str, int]]]:
    """(path, timed requests per block) for each person: trainee pages and two reports."""
    trainee, cohort = manifest["trainee"], manifest["cohort_200"]["id"]
    return {
        "trainee": [("/dashboard", 40), (f"/modules/{trainee['module_slug']}", 40),
                    (f"/modules/{trainee['quiz_slug']}/quiz", 40), ("/progress", 40),
                    ("/my/attendance", 40)],
        "trainer": [(f"/cohorts/{cohort}/grid", 10), (f"/cohorts/{cohort}/attendance", 10)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, required=True,
                        help="the JSON that bench/make_dataset.py wrote")
    parser.add_argument("--rounds", type=int, default=8)
    arguments = parser.parse_args()
    manifest = json.loads(arguments.manifest.read_text())
    app = create_app({"SECRET_KEY": "bench", "LMS_DATABASE_URI": manifest["database_url"],
                      "LMS_AUTO_UPGRADE": False, "WTF_CSRF_ENABLED": False})
    clients = logged_in_clients(app, manifest)
    endings = {"rollback": close_only, "commit": end_session}
    times: dict[str, dict[str, list[float]]] = {}
    gc.collect()
    gc.freeze()  # what start-up made stays out of the collector's passes, as in a worker
    for round_number in range(arguments.rounds):
        order = ("rollback", "commit") if round_number % 2 else ("commit", "rollback")
        for ending in order:
            lms.extension.end_session = endings[ending]
            for who, paths in pages(manifest).items():
                for path, count in paths:
                    for _ in range(WARM_UP):
                        clients[who].get(path)
                    for _ in range(count):
                        start = time.perf_counter()
                        answer = clients[who].get(path)
                        elapsed = (time.perf_counter() - start) * 1000
                        if answer.status_code != 200:
                            sys.exit(f"GET {path} answered {answer.status_code}")
                        times.setdefault(path, {}).setdefault(ending, []).append(elapsed)
    engine = app.extensions["lms"].db.engine.dialect.name
    print(f"{engine}, {arguments.rounds} rounds; median ms")
    print(f"{'page':45} {'ROLLBACK':>9} {'COMMIT':>9} {'change':>7}")
    for path, found in times.items():
        before, after = statistics.median(found["rollback"]), statistics.median(found["commit"])
        print(f"{path:45} {before:9.2f} {after:9.2f} {100 * (after - before) / before:+6.0f}%")


if __name__ == "__main__":
    main()
