"""The people a dataset's manifest (`bench/make_dataset.py`) names, logged in on the app's test
client, for the in-process benchmarks. Imports nothing from lms: `bench/in_process.py` chooses
which work tree's lms to import before it uses this."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any


def logged_in_clients(app: Any, manifest: dict[str, Any],
                      who: Iterable[str] = ("trainee", "trainer")) -> dict[str, Any]:
    """One test client per role in ``who``, logged in through the log-in form as that role's
    person in the manifest; the script stops if a log-in is refused."""
    clients = {}
    for role in who:
        client = app.test_client()
        answer = client.post("/login", data={"email": manifest[role]["email"],
                                             "password": manifest["password"]})
        if answer.status_code != 302:
            sys.exit(f"log-in of {role} refused ({answer.status_code})")
        clients[role] = client
    return clients
