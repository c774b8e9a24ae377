"""Flag rules on hand-made histories, acknowledgements, and the bulk loader's query count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from lms.models import (
    AgreedAction,
    CheckIn,
    Debrief,
    FlagAcknowledgement,
    SupervisionAttendee,
    SupervisionRecord,
)
from lms.services import flags, supervisors
from lms.services.errors import ServiceError
from lms.services.flags import ActionFact, CheckInFact, Facts

TODAY = date(2026, 12, 10)
GOOD = {"mood": 4, "calm": 4, "manageable": 4, "sleep": 4, "supported": 4}


def scores(**low) -> dict[str, int]:
    return {**GOOD, **low}


def history(*items: dict, start: date = TODAY, every: int = 7, talk_at: int | None = None
            ) -> list[CheckInFact]:
    """Check-ins newest first: items[0] is on ``start``, each earlier one ``every`` days back."""
    return [CheckInFact(100 + len(items) - n, start - timedelta(days=every * n), item,
                        wants_to_talk=(n == talk_at)) for n, item in enumerate(items)]


def facts(check_ins=(), *, since=TODAY - timedelta(days=20), last_supervision=TODAY,
          actions=()) -> Facts:
    return Facts(1, 30, 7, since, last_supervision=last_supervision,
                 check_ins=list(check_ins), open_actions=list(actions))


def kinds(found) -> list[str]:
    return [f.kind for f in found]


def ack(flag, *, at=datetime(2026, 12, 1, tzinfo=UTC)) -> FlagAcknowledgement:
    return FlagAcknowledgement(id=1, trainee_id=1, kind=flag.kind, key=flag.key,
                               severity=flag.severity, note="spoke to them", at=at)


# --- low check-in --------------------------------------------------------------------------


def test_a_low_item_raises_a_flag_naming_it():
    found = flags.compute(facts(history(scores(calm=2), GOOD)), TODAY)
    assert kinds(found) == [flags.LOW_CHECK_IN]
    assert found[0].details["items"] == [("calm", 2)]
    assert found[0].on == TODAY
    assert found[0].severity == 1


def test_three_is_not_low_and_a_good_check_in_clears_the_flag():
    assert flags.compute(facts(history(scores(calm=3, sleep=3))), TODAY) == []
    assert flags.compute(facts(history(GOOD, scores(mood=1))), TODAY) == []


def test_an_acknowledged_low_flag_stays_quiet_until_it_gets_worse():
    first = flags.compute(facts(history(scores(sleep=2), GOOD)), TODAY)[0]
    acknowledgement = ack(first)
    # Another check-in just as low, same episode: still acknowledged.
    same = flags.compute(facts(history(scores(sleep=2), scores(sleep=2), GOOD)), TODAY,
                         [acknowledgement])
    assert same[0].key == first.key and same[0].acknowledged and not same[0].came_back
    # Worse (sleep 1 and mood 2): it comes back.
    worse = flags.compute(facts(history(scores(sleep=1, mood=2), scores(sleep=2), GOOD)),
                          TODAY, [acknowledgement])
    assert worse[0].key == first.key
    assert worse[0].came_back and not worse[0].acknowledged
    assert worse[0].severity == 3


def test_a_new_low_episode_after_a_good_check_in_is_a_new_flag():
    first = flags.compute(facts(history(scores(sleep=2), GOOD)), TODAY)[0]
    later = flags.compute(facts(history(scores(sleep=2), GOOD, scores(sleep=2), GOOD)), TODAY,
                          [ack(first)])
    assert later[0].key != first.key
    assert not later[0].acknowledged


# --- falling trend ---------------------------------------------------------------------------


def test_a_fall_of_one_point_in_the_mean_is_a_trend():
    three = scores(mood=3, calm=3, manageable=3, sleep=3, supported=3)  # mean 3
    found = flags.compute(facts(history(three, three, three, GOOD, GOOD, GOOD)), TODAY)
    assert kinds(found) == [flags.FALLING_TREND]
    assert found[0].details == {"recent": 3.0, "before": 4.0}
    assert found[0].severity == 10


def test_a_smaller_fall_or_too_few_check_ins_is_no_trend():
    # Means 3.2 against 4: a fall of 0.8.
    slight = scores(mood=3, calm=3, manageable=3, sleep=3)
    assert flags.compute(facts(history(slight, slight, slight, GOOD, GOOD, GOOD)), TODAY) == []
    three = scores(mood=3, calm=3, manageable=3, sleep=3, supported=3)
    assert flags.compute(facts(history(three, three, three, GOOD, GOOD)), TODAY) == []


def test_an_acknowledged_trend_comes_back_when_the_fall_deepens():
    three = scores(mood=3, calm=3, manageable=3, sleep=3, supported=3)
    first = flags.compute(facts(history(three, three, three, GOOD, GOOD, GOOD)), TODAY)[0]
    ones = scores(mood=1, calm=1, manageable=1, sleep=1, supported=1)
    deeper = flags.compute(
        facts(history(ones, three, three, three, GOOD, GOOD, GOOD)), TODAY, [ack(first)])
    trend = [f for f in deeper if f.kind == flags.FALLING_TREND][0]
    assert trend.key == first.key, "the same episode"
    assert trend.came_back


# --- supervision overdue and missed check-ins ------------------------------------------------


def test_supervision_is_overdue_a_period_after_the_last_one():
    last = TODAY - timedelta(days=31)
    found = flags.compute(facts(history(GOOD), last_supervision=last), TODAY)
    assert kinds(found) == [flags.SUPERVISION_OVERDUE]
    assert found[0].on == last + timedelta(days=30)
    assert found[0].details["last"] == last
    assert flags.compute(facts(history(GOOD), last_supervision=TODAY - timedelta(days=30)),
                         TODAY) == []


def test_supervision_is_due_from_the_first_assignment_when_there_was_none():
    found = flags.compute(facts(history(GOOD), since=TODAY - timedelta(days=45),
                                last_supervision=None), TODAY)
    assert kinds(found) == [flags.SUPERVISION_OVERDUE]
    assert found[0].key == "none"
    assert flags.compute(facts(history(GOOD), since=None, last_supervision=None), TODAY) == []


def test_overdue_supervision_acknowledged_comes_back_a_period_later_and_clears_when_held():
    last = TODAY - timedelta(days=31)
    first = flags.compute(facts(history(GOOD), last_supervision=last), TODAY)[0]
    acknowledgement = ack(first)
    assert flags.compute(facts(history(GOOD), last_supervision=last), TODAY,
                         [acknowledgement])[0].acknowledged
    later = TODAY + timedelta(days=30)
    again = flags.compute(facts(history(GOOD, start=later), last_supervision=last), later,
                          [acknowledgement])
    assert again[0].came_back
    assert flags.compute(facts(history(GOOD), last_supervision=TODAY), TODAY,
                         [acknowledgement]) == []


def test_a_missed_check_in_is_a_day_past_due():
    assert flags.compute(facts(history(GOOD, start=TODAY - timedelta(days=7))), TODAY) == []
    found = flags.compute(facts(history(GOOD, start=TODAY - timedelta(days=8))), TODAY)
    assert kinds(found) == [flags.MISSED_CHECK_IN]
    assert found[0].on == TODAY - timedelta(days=1)
    never = flags.compute(facts([], since=TODAY - timedelta(days=10)), TODAY)
    assert kinds(never) == [flags.MISSED_CHECK_IN] and never[0].key == "none"


# --- actions, follow-ups, would like to talk --------------------------------------------------


def test_actions_and_follow_ups_past_due():
    actions = [ActionFact(1, "Read the boundaries module", TODAY - timedelta(days=1)),
               ActionFact(2, "Book a GP appointment", TODAY - timedelta(days=9),
                          follow_up=True),
               ActionFact(3, "Due today", TODAY)]
    found = flags.compute(facts(history(GOOD), actions=actions), TODAY)
    assert kinds(found) == [flags.FOLLOW_UP_OVERDUE, flags.ACTION_OVERDUE]
    assert found[0].severity == 2, "a week and more overdue is worse"
    assert found[1].details["description"] == "Read the boundaries module"


def test_would_like_to_talk_until_supervision_is_held():
    check_ins = history(GOOD, GOOD, start=TODAY - timedelta(days=2), talk_at=1)
    found = flags.compute(facts(check_ins, last_supervision=TODAY - timedelta(days=20)), TODAY)
    assert kinds(found) == [flags.WANTS_TO_TALK]
    assert found[0].on == TODAY - timedelta(days=9)
    assert flags.compute(facts(check_ins, last_supervision=TODAY - timedelta(days=1)),
                         TODAY) == []


def test_flags_are_ordered_by_urgency_and_acknowledged_ones_last():
    check_ins = history(scores(mood=2), start=TODAY - timedelta(days=10), talk_at=0)
    found = flags.compute(facts(check_ins, last_supervision=TODAY - timedelta(days=40)), TODAY)
    assert kinds(found) == [flags.WANTS_TO_TALK, flags.LOW_CHECK_IN,
                            flags.SUPERVISION_OVERDUE, flags.MISSED_CHECK_IN]
    quiet = flags.compute(facts(check_ins, last_supervision=TODAY - timedelta(days=40)), TODAY,
                          [ack(found[0])])
    assert kinds(quiet)[-1] == flags.WANTS_TO_TALK


# --- from the database --------------------------------------------------------------------------


@pytest.fixture
def supervisor(make_person):
    return make_person("supervisor", name="Sam Supervisor")


def supervise(db, supervisor, trainees, on):
    supervisors.assign_many(db, {t.id: supervisor.id for t in trainees}, on=on)


def check_in(db, trainee, at, **low):
    item = CheckIn(trainee_id=trainee.id, at=at, wants_to_talk=False, note="", **scores(**low))
    db.add(item)
    return item


def test_load_facts_reads_records_for_each_trainee(db, make_person, supervisor):
    one, two = make_person("trainee"), make_person("trainee")
    supervise(db, supervisor, [one, two], TODAY - timedelta(days=60))
    record = SupervisionRecord(author_id=supervisor.id, held_on=TODAY - timedelta(days=3),
                               duration_minutes=45, kind="individual", format="phone",
                               topics=[], notes="", private_note="")
    record.attendees.append(SupervisionAttendee(trainee_id=one.id))
    record.actions.append(AgreedAction(description="Reflect", due_on=TODAY - timedelta(days=1)))
    debrief = Debrief(trainee_id=two.id, started_by_id=two.id, incident_type="other",
                      incident_on=TODAY - timedelta(days=5), what_happened="x", how_now="",
                      support_needed="", identifying_kept=[])
    debrief.actions.append(AgreedAction(description="Call back", due_on=TODAY))
    db.add_all([record, debrief])
    at = datetime(2026, 12, 9, 23, 30, tzinfo=UTC)
    check_in(db, one, at, calm=1)
    db.commit()
    found = flags.load_facts(db, [one.id, two.id], flags.Settings(zone="Africa/Nairobi"))
    assert found[one.id].last_supervision == TODAY - timedelta(days=3)
    assert found[two.id].last_supervision is None
    assert found[one.id].since == TODAY - timedelta(days=60)
    assert found[one.id].check_ins[0].on == date(2026, 12, 10), "the day in the programme's zone"
    assert [a.description for a in found[one.id].open_actions] == ["Reflect"]
    assert [(a.description, a.follow_up) for a in found[two.id].open_actions] == [
        ("Call back", True)]


def test_the_dashboard_costs_the_same_queries_for_5_and_60_supervisees(
        db, make_person, supervisor, count_queries):
    def build(n):
        people = [make_person("trainee") for _ in range(n)]
        supervise(db, supervisor, people, TODAY - timedelta(days=60))
        for person in people:
            for days in range(8):
                check_in(db, person, datetime(2026, 12, 9, 9, tzinfo=UTC) - timedelta(days=days),
                         calm=2 if days == 0 else 4)
        db.commit()

    build(5)
    with count_queries() as five:
        rows = flags.dashboard(db, supervisor.id, TODAY, flags.Settings())
    assert len(rows) == 5 and all(r.flags for r in rows)
    build(55)
    with count_queries() as sixty:
        rows = flags.dashboard(db, supervisor.id, TODAY, flags.Settings())
    assert len(rows) == 60
    assert len(sixty) == len(five)


def test_acknowledge_keeps_the_severity_and_a_double_click_is_one_row(db, make_person,
                                                                     supervisor):
    trainee = make_person("trainee")
    supervise(db, supervisor, [trainee], TODAY - timedelta(days=3))
    check_in(db, trainee, datetime(2026, 12, 9, 9, tzinfo=UTC), sleep=2)
    db.commit()
    flag = flags.for_trainee(db, trainee.id, TODAY, flags.Settings())[0]
    first = flags.acknowledge(db, supervisor, trainee, flag.kind, flag.key, "Called her",
                              TODAY, flags.Settings())
    again = flags.acknowledge(db, supervisor, trainee, flag.kind, flag.key, "Called her",
                              TODAY, flags.Settings())
    db.commit()
    assert again.id == first.id and first.severity == 1
    assert flags.for_trainee(db, trainee.id, TODAY, flags.Settings())[0].acknowledged
    check_in(db, trainee, datetime(2026, 12, 10, 9, tzinfo=UTC), sleep=1)
    db.commit()
    assert flags.for_trainee(db, trainee.id, TODAY, flags.Settings())[0].came_back


def test_acknowledge_refuses_a_stranger_an_empty_note_and_a_cleared_flag(db, make_person,
                                                                         supervisor):
    trainee = make_person("trainee")
    other = make_person("supervisor")
    supervise(db, supervisor, [trainee], TODAY - timedelta(days=3))
    check_in(db, trainee, datetime(2026, 12, 9, 9, tzinfo=UTC), sleep=2)
    db.commit()
    flag = flags.for_trainee(db, trainee.id, TODAY, flags.Settings())[0]
    with pytest.raises(ServiceError, match="not one of your supervisees"):
        flags.acknowledge(db, other, trainee, flag.kind, flag.key, "x", TODAY, flags.Settings())
    with pytest.raises(ServiceError, match="Write a note"):
        flags.acknowledge(db, supervisor, trainee, flag.kind, flag.key, "  ", TODAY,
                          flags.Settings())
    with pytest.raises(ServiceError, match="already cleared"):
        flags.acknowledge(db, supervisor, trainee, flag.kind, "check_in:0", "x", TODAY,
                          flags.Settings())


def test_a_request_to_talk_is_answered_only_by_supervision_written_after_it():
    asked = datetime(2026, 12, 10, 15, tzinfo=UTC)
    check_ins = [CheckInFact(7, TODAY, GOOD, wants_to_talk=True, at=asked)]
    before = Facts(1, 30, 7, TODAY - timedelta(days=20), last_supervision=TODAY,
                   last_supervision_recorded_at=asked - timedelta(hours=5), check_ins=check_ins)
    assert kinds(flags.compute(before, TODAY)) == [flags.WANTS_TO_TALK]
    after = Facts(1, 30, 7, TODAY - timedelta(days=20), last_supervision=TODAY,
                  last_supervision_recorded_at=asked + timedelta(hours=1), check_ins=check_ins)
    assert flags.compute(after, TODAY) == []


def test_a_run_of_low_check_ins_longer_than_those_read_keeps_its_acknowledgement(
        db, make_person, supervisor):
    trainee = make_person("trainee")
    supervise(db, supervisor, [trainee], TODAY - timedelta(days=200))
    start = datetime(2026, 8, 1, 9, tzinfo=UTC)
    check_in(db, trainee, start)  # the good one before the run
    for week in range(1, flags.CHECK_INS_KEPT + 3):
        check_in(db, trainee, start + timedelta(days=7 * week), mood=2)
    db.commit()
    flag = [f for f in flags.for_trainee(db, trainee.id, TODAY, flags.Settings())
            if f.kind == flags.LOW_CHECK_IN][0]
    flags.acknowledge(db, supervisor, trainee, flag.kind, flag.key, "We talk weekly", TODAY,
                      flags.Settings())
    check_in(db, trainee, start + timedelta(days=7 * (flags.CHECK_INS_KEPT + 3)), mood=2)
    db.commit()
    again = [f for f in flags.for_trainee(db, trainee.id, TODAY, flags.Settings(),
                                          viewer_id=supervisor.id)
             if f.kind == flags.LOW_CHECK_IN][0]
    assert again.key == flag.key and again.acknowledged


def test_a_new_supervisor_does_not_inherit_acknowledgements(db, make_person, supervisor):
    trainee = make_person("trainee")
    successor = make_person("supervisor")
    supervise(db, supervisor, [trainee], TODAY - timedelta(days=3))
    check_in(db, trainee, datetime(2026, 12, 9, 9, tzinfo=UTC), sleep=2)
    db.commit()
    flag = flags.for_trainee(db, trainee.id, TODAY, flags.Settings())[0]
    flags.acknowledge(db, supervisor, trainee, flag.kind, flag.key, "Seen", TODAY,
                      flags.Settings())
    supervisors.assign(db, trainee, successor, on=TODAY)
    db.commit()
    row = flags.dashboard(db, successor.id, TODAY, flags.Settings())[0]
    assert not row.flags[0].acknowledged and row.open_flags


def test_a_deferred_sign_off_flags_its_review_date():
    deferred = Facts(1, 30, 7, TODAY - timedelta(days=40), last_supervision=TODAY,
                     check_ins=history(GOOD), deferred=(9, TODAY + timedelta(days=1),
                                                        TODAY - timedelta(days=20)))
    assert flags.compute(deferred, TODAY) == []
    due = flags.compute(deferred, TODAY + timedelta(days=1))
    assert [(f.kind, f.key, f.on) for f in due if f.kind == flags.REVIEW_DUE] == [
        (flags.REVIEW_DUE, "sign_off:9", TODAY + timedelta(days=1))]
