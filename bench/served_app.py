"""The app `bench/run.py` serves with gunicorn: the real lms app, configured from the
environment like `bench/load.py`'s `start_gunicorn` (CSRF on, migrations checked at start-up),
plus two things only a benchmark needs:

* an ``X-Bench-Queries`` header on every response: the SQL statements the request executed
  (a ``before_cursor_execute`` listener on lms's engine);
* an ``X-Bench-Split`` header: where the request's time went inside the worker, in ms:
  ``sql`` (the driver executing statements), ``render`` (templates, from Flask's
  ``before_render_template`` to ``template_rendered``) and ``request`` (from the first
  ``before_request`` to the last ``after_request``). The rest of a timed request is Flask
  and gunicorn around it, the wire and the client;
* ``/bench/bare?bytes=N``: a plain Flask route that renders a Jinja template of about N bytes
  and touches no database, so a page's time can be compared with what the same server spends
  on HTTP, routing and templating alone;
* ``/bench/floor?bytes=N``: the same, for a logged-in person only, after lms's own log-in
  check: the least any logged-in lms page costs (403 without a live log-in session).

    gunicorn --workers 1 'bench.served_app:make_app()'

(a factory, so that run.py can import this module's names without building an app).

Nothing here is part of lms: the counter and the route exist only in this process.
With ``BENCH_QUERY_LOG=PATH`` in the environment, every statement is also appended to PATH
after the request's method and path, to see what a page's count is made of.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, before_render_template, request, template_rendered
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lms import create_app  # noqa: E402

QUERY_HEADER = "X-Bench-Queries"
SPLIT_HEADER = "X-Bench-Split"
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


class RequestSplit:
    """Where one request's time goes inside the worker (one request at a time, as above)."""

    def __init__(self) -> None:
        self.began = self.sql = self.render = 0.0
        self._statement_began = self._render_began = 0.0
        self._rendering = 0  # nested render_template calls are counted once

    def reset(self) -> None:
        self.began, self.sql, self.render, self._rendering = time.perf_counter(), 0.0, 0.0, 0

    def statement_began(self, *_args: Any) -> None:
        self._statement_began = time.perf_counter()

    def statement_ended(self, *_args: Any) -> None:
        self.sql += time.perf_counter() - self._statement_began

    def render_began(self, *_args: Any, **_kwargs: Any) -> None:
        if not self._rendering:
            self._render_began = time.perf_counter()
        self._rendering += 1

    def render_ended(self, *_args: Any, **_kwargs: Any) -> None:
        self._rendering -= 1
        if not self._rendering:
            self.render += time.perf_counter() - self._render_began

    def header(self) -> str:
        request_ms = (time.perf_counter() - self.began) * 1000
        return f"sql={self.sql * 1000:.3f};render={self.render * 1000:.3f};request={request_ms:.3f}"


def add_split_header(app: Flask) -> RequestSplit:
    split = RequestSplit()
    engine = app.extensions["lms"].db.engine
    event.listen(engine, "before_cursor_execute", split.statement_began)
    event.listen(engine, "after_cursor_execute", split.statement_ended)
    before_render_template.connect(split.render_began, app, weak=False)
    template_rendered.connect(split.render_ended, app, weak=False)
    # Registered before any other hook of the app's, so the clock starts first; the header
    # is written by the app's after_request, after the blueprints' (as the query count).
    app.before_request_funcs.setdefault(None, []).insert(0, split.reset)

    def header(response: Response) -> Response:
        response.headers[SPLIT_HEADER] = split.header()
        return response

    app.after_request(header)
    return split


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

    def floor() -> Response:
        # What every logged-in lms page pays before its own work: the session cookie, the
        # log-in session's look-up (lms's own, one statement) and the commit at teardown.
        from lms.web.access import current_person

        if current_person() is None:
            abort(403)
        return bare()

    app.add_url_rule("/bench/bare", "bench_bare", bare)
    app.add_url_rule("/bench/floor", "bench_floor", floor)


def make_app() -> Flask:
    made = create_app()
    add_query_header(made)
    add_split_header(made)
    add_bare_route(made)
    return made
