"""Benchmark: pages timed in-process, through the WSGI app, on a dataset from
`bench/make_dataset.py`; for comparing two commits on a noisy machine.

    python bench/in_process.py --manifest PATH [--requests 300] [--root DIR]

Over HTTP (`bench/run.py`) a page's median moves by 20-40% from run to run when the machine is
busy, which hides a change of a few per cent. In-process there is no server or client, and the
fastest of many requests is steady: run this for each commit, alternating (``--root`` names
the work tree to import lms from, e.g. a ``git worktree`` of the other commit), on the same
data. Prints each page's fastest and median time, the statements it ran and its size.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, required=True,
                        help="the JSON that bench/make_dataset.py wrote")
    parser.add_argument("--requests", type=int, default=300,
                        help="timed requests per trainee page (a tenth for the reports)")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the work tree whose lms is timed (default: this one)")
    return parser.parse_args()


def main() -> None:
    chosen = arguments()
    sys.path.insert(0, str(chosen.root.resolve()))
    from manifest_people import logged_in_clients
    from sqlalchemy import event

    from lms import create_app

    manifest = json.loads(chosen.manifest.read_text())
    app = create_app({"SECRET_KEY": "bench", "LMS_DATABASE_URI": manifest["database_url"],
                      "LMS_AUTO_UPGRADE": False, "WTF_CSRF_ENABLED": False})
    statements: list[str] = []
    event.listen(app.extensions["lms"].db.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_rest: statements.append(statement))
    clients = logged_in_clients(app, manifest)
    trainee, cohort = manifest["trainee"], manifest["cohort_200"]["id"]
    pages = [("trainee", "/dashboard"), ("trainee", f"/modules/{trainee['module_slug']}"),
             ("trainee", f"/modules/{trainee['quiz_slug']}/quiz"), ("trainee", "/progress"),
             ("trainee", "/my/attendance"), ("trainer", f"/cohorts/{cohort}/grid"),
             ("trainer", f"/cohorts/{cohort}/attendance")]
    gc.collect()
    gc.freeze()  # what start-up made stays out of the collector's passes, as in a worker
    print(f"lms from {chosen.root}; {app.extensions['lms'].db.engine.dialect.name}; ms")
    for who, path in pages:
        client = clients[who]
        for _ in range(10):  # warm: content cache, compiled statements, prepared statements
            client.get(path)
        count = chosen.requests if who == "trainee" else max(20, chosen.requests // 10)
        times = []
        for _ in range(count):
            statements.clear()
            start = time.perf_counter()
            answer = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            if answer.status_code != 200:
                sys.exit(f"GET {path} answered {answer.status_code}")
        print(f"{path:40} fastest {min(times):7.2f}  median {statistics.median(times):7.2f}  "
              f"statements {len(statements):3}  {len(answer.data) / 1024:6.1f} KB")


if __name__ == "__main__":
    main()
