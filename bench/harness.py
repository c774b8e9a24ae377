"""What the benchmarks share: a fresh app and database, and a timer that prints fairly."""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lms import create_app  # noqa: E402


@contextmanager
def bench_app(database_url: str | None) -> Iterator[Flask]:
    """An app on an empty database: SQLite in a temporary folder unless a URL is given."""
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite:///{folder}/bench.sqlite3"
        app = create_app({"SECRET_KEY": "bench", "LMS_DATABASE_URI": url,
                          "LMS_AUTO_UPGRADE": False, "WTF_CSRF_ENABLED": False})
        db = app.extensions["lms"].db
        db.drop_all()
        db.create_all()
        try:
            yield app
        finally:
            if db.engine.dialect.name != "sqlite":
                db.drop_all()
            db.dispose()


def timed(run: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and 95th percentile in milliseconds, after one warm-up run.

    Building the data leaves hundreds of thousands of objects on the heap that a serving
    process would not hold; without freezing them, the garbage collector's full passes over
    them land inside timed requests and triple the 95th percentile.
    """
    gc.collect()
    gc.freeze()
    run()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def page(client, url: str) -> Callable[[], None]:
    """A run that GETs ``url`` and insists on a 200."""
    def run() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    return run
