"""Benchmark: one page in-process with two versions of one lms module, alternated in the same
process, on a dataset from `bench/make_dataset.py`; for a change of a few per cent.

    python bench/alternate_module.py --manifest PATH --page /dashboard \\
        --module lms.services.progress --old OTHER_WORK_TREE/lms/services/progress.py

`bench/in_process.py` compares two commits in two processes, one after the other; on a busy
virtual machine their speed can differ by more than the change. Here both versions run in one
process, in rounds of a few requests, in turns (ABBA...), and each round's CPU time
(``time.process_time``) is kept. The old version is loaded from ``--old`` and swapped in
wherever lms holds the module or a function or class of it (``from x import f`` included),
so only that module differs. Prints each version's fastest, first-quartile and median round,
per request, and their ratios. Both versions must answer the page the same way (its status).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import statistics
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--page", required=True, help="the path to GET, e.g. /dashboard")
    parser.add_argument("--who", default="trainee", help="the manifest's person to log in as")
    parser.add_argument("--module", required=True,
                        help="the module's name, e.g. lms.services.progress")
    parser.add_argument("--old", type=Path, required=True, help="the other version's file")
    parser.add_argument("--rounds", type=int, default=30, help="rounds of each version")
    parser.add_argument("--per-round", type=int, default=20, help="requests per round")
    return parser.parse_args()


def swapper(module_name: str, old_file: Path):
    """A function that puts the new (False) or old (True) version in place everywhere."""
    new = sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name + "_old", old_file)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {old_file}")
    old = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = old  # dataclasses look their module up while it runs
    spec.loader.exec_module(old)
    # Every place in lms holding the module, or a function or class defined in it.
    mine = {id(v): k for k, v in vars(new).items()
            if isinstance(v, (types.FunctionType, type))
            and getattr(v, "__module__", "") == module_name}
    places = []
    for holder in [m for name, m in sys.modules.items() if name.startswith("lms")]:
        for attribute, value in vars(holder).items():
            if value is new:
                places.append((holder, attribute, new, old))
            elif id(value) in mine and holder is not new and hasattr(old, mine[id(value)]):
                places.append((holder, attribute, value, getattr(old, mine[id(value)])))

    def use(old_version: bool) -> None:
        for holder, attribute, new_value, old_value in places:
            setattr(holder, attribute, old_value if old_version else new_value)
    return use


def main() -> None:
    chosen = arguments()
    from werkzeug.test import EnvironBuilder

    from bench.manifest_people import logged_in_clients
    from lms import create_app

    manifest = json.loads(chosen.manifest.read_text())
    # As bench/in_process.py: CSRF off, so the people log in as manifest_people does.
    app = create_app({"SECRET_KEY": "bench", "LMS_DATABASE_URI": manifest["database_url"],
                      "LMS_AUTO_UPGRADE": False, "WTF_CSRF_ENABLED": False})
    client = logged_in_clients(app, manifest, who=(chosen.who,))[chosen.who]
    client.get(chosen.page)  # the session cookie as the page leaves it
    # The cookies the test client sent, as a browser would send them: each request below is
    # a bare WSGI call, so the test client's own work is not in the figures.
    cookie = client.get(chosen.page).request.environ.get("HTTP_COOKIE", "")
    use_old = swapper(chosen.module, chosen.old)

    def request() -> str:
        status: list[str] = []
        environ = EnvironBuilder(path=chosen.page, environ_base=client.environ_base,
                                 headers={"Cookie": cookie}).get_environ()
        for _chunk in app(environ, lambda s, _h, _e=None: status.append(s)):
            pass
        return status[0]

    answers = {}
    for old_version in (False, True):
        use_old(old_version)
        for _ in range(20):  # warm: content cache, compiled and prepared statements
            answers[old_version] = request()
    if answers[False] != answers[True] or not answers[False].startswith("200"):
        raise SystemExit(f"the versions answer differently: {answers}")
    gc.collect()
    gc.freeze()
    rounds: dict[bool, list[float]] = {False: [], True: []}
    for n in range(chosen.rounds * 2):
        old_version = (n % 4) in (1, 2)  # new, old, old, new, ...
        use_old(old_version)
        began = time.process_time()
        for _ in range(chosen.per_round):
            request()
        rounds[old_version].append((time.process_time() - began) / chosen.per_round * 1000)
    use_old(False)
    figures = {}
    for old_version, label in ((True, "old"), (False, "new")):
        ms = sorted(rounds[old_version])
        figures[label] = (ms[0], ms[len(ms) // 4], statistics.median(ms))
        print(f"{label}: fastest {ms[0]:.3f}  first quartile {ms[len(ms) // 4]:.3f}  "
              f"median {statistics.median(ms):.3f} ms of CPU per request")
    print("new / old: " + ", ".join(
        f"{name} {figures['new'][i] / figures['old'][i]:.3f}"
        for i, name in enumerate(("fastest", "first quartile", "median"))))


if __name__ == "__main__":
    main()
