"""bench/run.py's report: the host yardstick printed beside a run's figures."""

from __future__ import annotations

from bench.run import host_speed, machine, markdown


def test_a_run_reports_the_host_yardstick_before_and_after(tmp_path):
    found = machine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert found["host_speed_start_ms"] > 0
    found["host_speed_end_ms"] = host_speed(rounds=1)
    assert found["host_speed_end_ms"] > 0
    report = markdown(found, {"scale": 1.0, "seed": 1}, [], [], [], 50, [])
    line = next(x for x in report.splitlines() if x.startswith("host yardstick"))
    assert f"{found['host_speed_start_ms']} ms before" in line
    assert f"{found['host_speed_end_ms']} ms after" in line


def test_the_page_loop_times_each_kind_of_page_through_a_real_server(tmp_path):
    """bench/run.py's page loop against a tiny dataset, served over HTTP in this process: a
    trainee's page, the quiz submission (its people are a list, not one person) and an
    anonymous page, each with its bare route, and the logged-in floor for the logged-in."""
    import threading
    from datetime import UTC, datetime

    from werkzeug.serving import make_server

    from bench import make_dataset
    from bench.run import People, chosen_pages, time_pages
    from bench.served_app import add_bare_route, add_query_header, add_split_header
    from lms import create_app

    url = f"sqlite:///{tmp_path / 'tiny.sqlite3'}"
    manifest = make_dataset.build(url, scale=0.002, seed=1, now=datetime.now(UTC),
                                  manifest_path=tmp_path / "tiny.json", quiet=True)
    app = create_app({"SECRET_KEY": "bench-test", "LMS_DATABASE_URI": url,
                      "LMS_AUTO_UPGRADE": False})
    add_query_header(app)
    add_split_header(app)
    add_bare_route(app)
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        chosen = chosen_pages(manifest, "dashboard,quiz-submit,quiz-result,verify")
        skipped: list[str] = []
        timings = {t.name: t for t in time_pages(People(manifest, server.server_port), chosen,
                                                 2, skipped)}
    finally:
        server.shutdown()
        thread.join()
    assert set(timings) == {"dashboard", "quiz-submit", "quiz-result", "verify"}
    assert skipped == []
    for timing in timings.values():
        assert timing.median_ms > 0 and timing.bare_median_ms > 0
        assert timing.queries and timing.queries > 0
    assert timings["quiz-submit"].method == "POST"
    for name in ("dashboard", "quiz-submit", "quiz-result"):
        assert timings[name].floor_median_ms is not None and timings[name].floor_median_ms > 0
    assert timings["verify"].floor_median_ms is None  # nobody is logged in there
