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
