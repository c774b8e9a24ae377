"""The HTTP side of `bench/run.py`: `bench/load.py`'s Browser (cookies, CSRF token, a new
connection per request with ``Connection: close``, as gunicorn's sync worker closes each one
anyway), keeping what a timing needs as well: the exact response size and the query count that
`bench/served_app.py` puts in a header.
"""

from __future__ import annotations

import http.client
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import Browser, Reply, path_of  # noqa: E402
from bench.served_app import QUERY_HEADER  # noqa: E402

ATTEMPT = re.compile(r"^/attempts/(\d+)$")
RESULT_LINK = re.compile(r'href="(/attempts/\d+/result)"')
QUESTION_INPUT = re.compile(r'<input type="(?:radio|checkbox)"[^>]*name="(q-[^"]+)"[^>]*'
                            r'value="([^"]*)"')


class BenchError(RuntimeError):
    """A response that was not what a browser would get: the run stops and says which URL."""


@dataclass
class Timed(Reply):
    size: int = 0  # bytes of the body as sent
    queries: int | None = None  # X-Bench-Queries; None when the header is missing
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class TimedBrowser(Browser):
    """A browser whose replies carry the body's size and the server's query count."""

    def __init__(self, port: int, who: str = "anonymous") -> None:
        super().__init__(port)
        self.who = who

    def send(self, method: str, path: str, fields: list[tuple[str, str]] | None = None,
             file: tuple[str, str, bytes] | None = None,
             cookies: dict[str, str] | None = None) -> Timed:
        if file is not None:
            raise NotImplementedError("run.py sends no files")
        headers = {"Connection": "close", "Accept-Language": "en"}
        jar = self.cookies if cookies is None else cookies
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        body = None
        if fields is not None:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        # The clock runs from before the connection opens until the last byte is read: what
        # a browser without keep-alive waits for.
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            finished = time.perf_counter()
            queries = response.getheader(QUERY_HEADER)
            return Timed(response.status, data.decode("utf-8", "replace"),
                         response.getheader("Location"),
                         response.headers.get_all("Set-Cookie") or [],
                         (finished - start) * 1000, finished, size=len(data),
                         queries=int(queries) if queries is not None else None,
                         content_type=response.getheader("Content-Type") or "",
                         headers=dict(response.getheaders()))
        except (OSError, http.client.HTTPException) as exc:
            raise BenchError(f"{method} {path} as {self.who}: no answer ({exc})") from exc
        finally:
            connection.close()

    def expect(self, method: str, path: str, status: int = 200,
               fields: list[tuple[str, str]] | None = None) -> Timed:
        """Send, keep cookies and token, and insist on ``status``."""
        reply = self.send(method, path, fields)
        self.keep(reply)
        if reply.status != status:
            where = f" -> {reply.location}" if reply.location else ""
            raise BenchError(f"{method} {path} as {self.who} answered {reply.status}{where} "
                             f"(expected {status})")
        return reply

    def log_in(self, email: str, password: str) -> None:
        """Through the real form, like a browser: the page, its token, the POST."""
        self.who = email
        self.expect("GET", "/login")
        reply = self.expect("POST", "/login", 302, [
            ("csrf_token", self.csrf), ("email", email), ("password", password)])
        landing = path_of(reply.location)
        if landing.startswith("/login"):
            raise BenchError(f"log-in of {email} was refused (sent back to {landing})")
        self.follow(landing)

    def follow(self, path: str, hops: int = 5) -> Timed:
        """GET a page, following redirects; the last one must be a 200."""
        for _hop in range(hops):
            reply = self.send("GET", path)
            self.keep(reply)
            if reply.status in (301, 302, 303) and reply.location:
                path = path_of(reply.location)
                continue
            if reply.status != 200:
                raise BenchError(f"GET {path} as {self.who} answered {reply.status}")
            return reply
        raise BenchError(f"GET {path} as {self.who}: more than {hops} redirects")

    def start_attempt(self, quiz_slug: str) -> int | None:
        """Press "Start the quiz" the way the quiz page does: the new attempt's id, or None
        when the quiz page sends the person back (no attempt left, or a retake wait)."""
        self.expect("GET", f"/modules/{quiz_slug}/quiz")
        reply = self.expect("POST", f"/modules/{quiz_slug}/quiz", 302,
                            [("csrf_token", self.csrf)])
        found = ATTEMPT.match(path_of(reply.location))
        return int(found.group(1)) if found else None

    def answers_for(self, attempt_id: int,
                    key: dict[str, list[str]] | None = None) -> list[tuple[str, str]]:
        """The attempt page's form filled in: each question's correct options when ``key``
        (question key -> option ids) has them, else its first option."""
        page = self.expect("GET", f"/attempts/{attempt_id}")
        offered: dict[str, list[str]] = {}
        for name, value in QUESTION_INPUT.findall(page.body):
            offered.setdefault(name, []).append(value)
        if not offered:
            raise BenchError(f"/attempts/{attempt_id} as {self.who} shows no question")
        fields = [("csrf_token", self.csrf)]
        for name, values in offered.items():
            right = [v for v in (key or {}).get(name.removeprefix("q-"), []) if v in values]
            fields += [(name, value) for value in right or values[:1]]
        return fields
