"""Failed log-in throttling."""

from __future__ import annotations

from datetime import timedelta

from lms.models._types import utcnow
from lms.services import login_throttle


def test_throttle_forgets_failures_outside_the_window(db):
    policy = login_throttle.ThrottlePolicy(per_account=2, window=timedelta(minutes=15))
    now = utcnow()
    for _ in range(2):
        login_throttle.record_failure(db, "a@b.org", "1.2.3.4", now - timedelta(minutes=20))
    assert not login_throttle.check(db, "a@b.org", "1.2.3.4", policy, now).blocked
    for _ in range(2):
        login_throttle.record_failure(db, "a@b.org", "1.2.3.4", now - timedelta(minutes=5))
    assert login_throttle.check(db, "a@b.org", "1.2.3.4", policy, now).blocked
