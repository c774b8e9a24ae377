"""The app `bench/run.py` serves with gunicorn: the real lms app, configured from the
environment like `bench/load.py`'s `start_gunicorn` (CSRF on, migrations checked at start-up),
plus two things only a benchmark needs:

* an ``X-Bench-Queries`` header on every response: the SQL statements the request executed
  (a ``before_cursor_execute`` listener on lms's engine);
* ``/bench/bare?bytes=N``: a plain Flask route that renders a Jinja template of about N bytes
  and touches no database, so a page's time can be compared with what the same server spends
  on HTTP, routing and templating alone.

    gunicorn --workers 1 'bench.served_app:make_app()'

(a factory, so that run.py can import this module's names without building an app).

Nothing here is part of lms: the counter and the route exist only in this process.
With ``BENCH_QUERY_LOG=PATH`` in the environment, every statement is also appended to PATH
after the request's method and path, to see what a page's count is made of.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lms import create_app  # noqa: E402

QUERY_HEADER = "X-Bench-Queries"
MAX_BARE_BYTES = 20 * 1024 * 1024

# One row of the bare page: about as much markup per row as lms's tables carry.
BARE_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1><table>
{% for row in rows %}<tr><td>{{ row }}</td><td class="name">{{ filler }}</td></tr>
{% endfor %}</table></body></html>
"""
FILLER = "Trainee name and a status word"


class QueryCounter:
    """Statements executed since the request began. Gunicorn's sync worker serves one request
    at a time, so one counter per process is exact; a threaded server would mix requests."""

    def __init__(self, log_path: str | None = None) -> None:
        self.count = 0
        self.log_path = log_path

    def reset(self) -> None:
        self.count = 0
        if self.log_path:
            self._write(f"\n== {request.method} {request.full_path}")

    def executed(self, _connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.count += 1
        if self.log_path:
            self._write(f"-- {self.count}: " + " ".join(statement.split())[:400])

    def _write(self, line: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:  # type: ignore[arg-type]
            log.write(line + "\n")


def add_query_header(app: Flask) -> QueryCounter:
    counter = QueryCounter(os.environ.get("BENCH_QUERY_LOG") or None)
    engine = app.extensions["lms"].db.engine
    event.listen(engine, "before_cursor_execute", counter.executed)
    # App-level hooks: before_request runs before the blueprints' (log-in session checks are
    # counted) and after_request after theirs.
    app.before_request(counter.reset)

    def header(response: Response) -> Response:
        response.headers[QUERY_HEADER] = str(counter.count)
        return response

    app.after_request(header)
    return counter


def add_bare_route(app: Flask) -> None:
    template = app.jinja_env.from_string(BARE_TEMPLATE)
    # Measure one rendered row, so N bytes ask for the right number of rows.
    one_row = len(template.render(title="Bare", rows=[10 ** 5], filler=FILLER).encode())
    empty = len(template.render(title="Bare", rows=[], filler=FILLER).encode())
    row_bytes = max(1, one_row - empty)

    def bare() -> Response:
        wanted = min(MAX_BARE_BYTES, max(0, request.args.get("bytes", 0, type=int)))
        rows = range(10 ** 5, 10 ** 5 + max(0, (wanted - empty) // row_bytes))
        html = template.render(title="Bare", rows=rows, filler=FILLER)
        return Response(html, mimetype="text/html")

    app.add_url_rule("/bench/bare", "bench_bare", bare)


def make_app() -> Flask:
    made = create_app()
    add_query_header(made)
    add_bare_route(made)
    return made
