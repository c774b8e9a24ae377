"""The training agenda: add, reorder, cancel, copy onto new dates, iCalendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import icalendar
import pytest

from lms.services import agenda, cohorts
from lms.services.agenda import AgendaError, SessionInput


@pytest.fixture
def cohort(db, content, make_person):
    trainer = make_person("trainer")
    made = cohorts.create_cohort(db, name="Autumn", curriculum=content,
                                 timezone="Africa/Johannesburg", trainers=[trainer])
    db.commit()
    return made


def data(title, day, module_ids=(), **extra):
    return SessionInput(title=title, on_date=day, start_time=time(9, 30), duration_minutes=180,
                        venue="Clinic hall", module_ids=list(module_ids), **extra)


def test_add_session_stores_local_time_and_utc_instant(db, cohort, module):
    item = agenda.add_session(db, cohort, data("Day 1", date(2026, 3, 2),
                                               [module("listening").id],
                                               activities=["role-play", "teaching"],
                                               is_core=True))
    assert item.starts_at == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # SAST is UTC+2
    assert item.activities == ["teaching", "role-play"]
    assert item.module_ids == [module("listening").id]


def test_bad_session_input_names_each_field(db, cohort, content):
    with pytest.raises(AgendaError) as info:
        agenda.add_session(db, cohort, SessionInput(
            title="", on_date=date(2026, 3, 2), start_time=time(9), duration_minutes=0,
            online_link="javascript:alert(1)", activities=["karaoke"], module_ids=[9999]))
    assert set(info.value.problems) == {"title", "duration_minutes", "online_link",
                                        "activities", "module_ids"}


def test_reorder_and_cancel(db, cohort):
    first = agenda.add_session(db, cohort, data("A", date(2026, 3, 2)))
    second = agenda.add_session(db, cohort, data("B", date(2026, 3, 3)))
    assert agenda.move_session(db, second, -1) is first
    assert [(s.title, s.on_date) for s in agenda.agenda(db, cohort.id)] == [
        ("B", date(2026, 3, 2)), ("A", date(2026, 3, 3))]
    assert agenda.move_session(db, second, -1) is None  # already first: nothing happens
    assert [s.title for s in agenda.agenda(db, cohort.id)] == ["B", "A"]
    with pytest.raises(AgendaError, match="why"):
        agenda.cancel_session(db, first, "")
    agenda.cancel_session(db, first, "Public holiday")
    assert first.is_cancelled and first.cancel_reason == "Public holiday"
    assert [s.title for s in agenda.agenda(db, cohort.id)] == ["B", "A"]  # history kept


def test_copy_agenda_onto_new_dates(db, cohort, content, module, make_person):
    agenda.add_session(db, cohort, data("Day 1", date(2026, 3, 2), [module("listening").id],
                                        is_core=True))
    dropped = agenda.add_session(db, cohort, data("Dropped", date(2026, 3, 3)))
    agenda.cancel_session(db, dropped, "Not needed")
    agenda.add_session(db, cohort, data("Day 2", date(2026, 3, 9), [module("privacy").id]))
    target = cohorts.create_cohort(db, name="Winter", curriculum=content, timezone="UTC")
    copies = agenda.copy_agenda(db, cohort, target, date(2026, 7, 6))
    assert [(c.title, c.on_date) for c in copies] == [("Day 1", date(2026, 7, 6)),
                                                      ("Day 2", date(2026, 7, 13))]
    assert copies[0].is_core and copies[0].module_ids == [module("listening").id]
    assert copies[0].starts_at == datetime(2026, 7, 6, 9, 30, tzinfo=UTC)  # target's zone
    with pytest.raises(AgendaError, match="another cohort"):
        agenda.copy_agenda(db, target, target, date(2026, 8, 1))


LINE_BREAKS = "\u2028\u2029\u0085\x0b\x0c\x1c\x1d\x1e"


def assert_well_formed(text: str) -> icalendar.Calendar:
    """CRLF lines of at most 75 octets, no other line break anywhere; parsed back."""
    assert text.endswith("\r\n") and "\r" not in text.replace("\r\n", "")
    assert "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    assert text.splitlines() == lines  # Python ends lines at U+2028 and friends too
    assert not any(char in line for line in lines for char in LINE_BREAKS)
    assert all(len(line.encode()) <= 75 for line in lines)
    return icalendar.Calendar.from_ical(text)


def test_calendar_is_valid_icalendar(db, cohort, module):
    title = "Listening; role-play, part 1 \\ with a very long title, " + "é" * 80
    item = agenda.add_session(db, cohort, data(title, date(2026, 3, 2),
                                               [module("listening").id],
                                               online_link="https://meet.example/abc"))
    text = agenda.calendar([item], "Autumn, cohort",
                           now=datetime(2026, 1, 1, tzinfo=UTC))
    lines = text.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR"
    assert "DTSTART:20260302T073000Z" in lines  # 09:30 in Johannesburg, as UTC
    assert "DTEND:20260302T103000Z" in lines
    assert "DTSTAMP:20260101T000000Z" in lines
    assert "X-WR-CALNAME:Autumn\\, cohort" in lines
    assert any(line.startswith("SUMMARY:Listening\\; role-play\\, part 1 \\\\ with")
               for line in lines)
    assert f"UID:session-{item.id}@lms" in lines
    assert "STATUS:CONFIRMED" in lines and "SEQUENCE:0" in lines

    [event] = assert_well_formed(text).walk("VEVENT")
    assert str(event["SUMMARY"]) == title  # unfolded and unescaped, exactly as typed
    assert str(event["LOCATION"]) == "Clinic hall"
    assert str(event["URL"]) == "https://meet.example/abc"
    assert str(event["DESCRIPTION"]) == (f"Modules: {module('listening').title}\n"
                                         "Join: https://meet.example/abc")
    assert event["DTSTART"].dt == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    assert event["DTEND"].dt == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)

    agenda.cancel_session(db, item, "Storm")
    text = agenda.calendar([item], "x")
    [event] = assert_well_formed(text).walk("VEVENT")
    assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 1
    assert str(event["DESCRIPTION"]).endswith("\nCancelled: Storm")
    assert f"UID:session-{item.id}@lms" in text.split("\r\n")  # the same event, updated


def test_calendar_sequence_grows_with_each_cancel_and_reinstatement(db, cohort):
    item = agenda.add_session(db, cohort, data("Day", date(2026, 3, 2)))
    other = agenda.add_session(db, cohort, data("Other", date(2026, 3, 3)))

    def sequences():
        events = assert_well_formed(agenda.calendar([item, other], "x")).walk("VEVENT")
        return [(str(e["SUMMARY"]), e["SEQUENCE"], str(e["STATUS"])) for e in events]

    assert sequences() == [("Day", 0, "CONFIRMED"), ("Other", 0, "CONFIRMED")]
    agenda.cancel_session(db, item, "Storm")
    assert sequences() == [("Day", 1, "CANCELLED"), ("Other", 0, "CONFIRMED")]
    agenda.reinstate_session(db, item)
    # Higher than the cancellation's, so an app that saw it takes the reinstatement.
    assert sequences() == [("Day", 2, "CONFIRMED"), ("Other", 0, "CONFIRMED")]
    db.commit()
    db.expire_all()
    # Sessions loaded without their change log (a trainee's agendas) count the same.
    loaded = agenda.agenda_for_cohorts(db, [cohort.id])[cohort.id]
    events = assert_well_formed(agenda.calendar(loaded, "x")).walk("VEVENT")
    assert [e["SEQUENCE"] for e in events] == [2, 0]


def test_a_new_date_time_or_zone_raises_the_calendar_sequence_too(db, cohort, trainer):
    """RFC 5545: a changed start is a new SEQUENCE, or calendar apps keep the old time."""
    from lms.services import cohorts as cohort_rules

    item = agenda.add_session(db, cohort, data("Day", date(2026, 3, 2)))
    other = agenda.add_session(db, cohort, data("Other", date(2026, 3, 3)))

    def sequences():
        db.flush()
        db.expire_all()
        events = assert_well_formed(agenda.calendar(
            agenda.agenda_for_cohorts(db, [cohort.id])[cohort.id], "x")).walk("VEVENT")
        return {str(e["SUMMARY"]): e["SEQUENCE"] for e in events}

    # A new title alone changes no time: the same sequence.
    agenda.update_session(db, item, data("Day one", date(2026, 3, 2)), by=trainer)
    assert sequences() == {"Day one": 0, "Other": 0}
    agenda.update_session(db, item, data("Day one", date(2026, 3, 9)), by=trainer)
    assert sequences() == {"Day one": 1, "Other": 0}
    agenda.move_session(db, other, 1, by=trainer)  # swaps with "Day one", now after it
    assert sequences() == {"Day one": 2, "Other": 1}
    cohort_rules.update_cohort(db, cohort, name=cohort.name, starts_on=cohort.starts_on,
                               ends_on=cohort.ends_on, timezone="Asia/Tokyo")
    assert sequences() == {"Day one": 3, "Other": 2}
    page_kinds = [c.kind for c in db.get(type(item), item.id).changes]
    assert page_kinds == ["rescheduled"] * 3


@pytest.mark.parametrize("separator", list(LINE_BREAKS) + ["\r\n", "\n", "\r", "\x00", "\t"])
def test_calendar_text_never_breaks_a_line(db, cohort, module, separator):
    if separator == "\x00" and db.get_bind().dialect.name == "postgresql":
        # PostgreSQL refuses NUL in text outright, so no stored title can carry one there.
        from sqlalchemy.exc import DataError

        item = agenda.add_session(db, cohort, data("Intro", date(2026, 3, 2)))
        item.title = "Intro\x00BEGIN:VALARM"
        with pytest.raises(DataError):
            db.flush()
        return
    item = agenda.add_session(db, cohort, data("Intro", date(2026, 3, 2),
                                               [module("listening").id]))
    # The forms refuse C0 controls but not all of these; older rows may hold any of them.
    item.title = f"Intro{separator}BEGIN:VALARM"
    item.venue = f"Hall{separator}X-EVIL:1"
    item.online_link = f"https://meet.example/abc{separator}X-EVIL:2"
    item.activities = [f"teaching{separator}X-EVIL:3"]
    module("listening").title = f"Listening{separator}END:VEVENT"
    agenda.cancel_session(db, item, "Storm")
    item.cancel_reason = f"Storm{separator}END:VCALENDAR"
    db.flush()
    text = agenda.calendar([item], f"Autumn{separator}X-WR-TIMEZONE:Mars/Base")
    calendar = assert_well_formed(text)
    lines = text.split("\r\n")
    assert not any(line.startswith(("BEGIN:VALARM", "X-EVIL", "X-WR-TIMEZONE"))
                   for line in lines)
    assert [line for line in lines if line.startswith(("END:VEVENT", "END:VCALENDAR"))] == [
        "END:VEVENT", "END:VCALENDAR"]
    [event] = calendar.walk("VEVENT")
    spaces = " " * len(separator)
    assert str(event["SUMMARY"]) == f"Intro{spaces}BEGIN:VALARM"
    assert str(event["LOCATION"]) == f"Hall{spaces}X-EVIL:1"
    assert "URL" not in event  # a link that is not plain is left out, not mangled
    assert str(event["DESCRIPTION"]).split("\n") == [
        f"Modules: Listening{spaces}END:VEVENT", f"Activities: teaching{spaces}X-EVIL:3",
        f"Join: https://meet.example/abc{spaces}X-EVIL:2",
        f"Cancelled: Storm{spaces}END:VCALENDAR"]
    assert f"X-WR-CALNAME:Autumn{spaces}X-WR-TIMEZONE:Mars/Base" in lines


def test_far_future_dates_are_refused(db, content, make_person, make_cohort):
    cohort = make_cohort()
    with pytest.raises(AgendaError, match="between 2000 and 2100"):
        agenda.add_session(db, cohort, SessionInput("Far", date(9999, 12, 31), time(23),
                                                    60))
    agenda.add_session(db, cohort, SessionInput("Now", date(2026, 1, 5), time(9), 60))
    target = make_cohort()
    with pytest.raises(AgendaError, match="between 2000 and 2100"):
        agenda.copy_agenda(db, cohort, target, date(9999, 1, 1))


def test_calendar_lines_cannot_be_injected(db, content, make_cohort):
    cohort = make_cohort()
    with pytest.raises(AgendaError) as info:
        agenda.add_session(db, cohort, SessionInput(
            "Title\r\nBEGIN:VALARM", date(2026, 1, 5), time(9), 60,
            venue="Hall\nX-EVIL:1", online_link="https://x.example/\r\nBEGIN:VALARM"))
    assert set(info.value.problems) == {"title", "venue", "online_link"}


def test_cancel_and_reinstate_are_logged(db, cohort, make_person):
    trainer = make_person("trainer", name="Tia")
    item = agenda.add_session(db, cohort, data("Day", date(2026, 3, 2)))
    agenda.cancel_session(db, item, "Storm warning", by=trainer)
    agenda.reinstate_session(db, item, by=trainer)
    with pytest.raises(AgendaError, match="not cancelled"):
        agenda.reinstate_session(db, item, by=trainer)
    db.commit()
    db.expire_all()
    [again] = [s for s in agenda.agenda(db, cohort.id) if s.id == item.id]
    assert not again.is_cancelled
    assert [(c.kind, c.reason, c.changed_by.name) for c in again.changes] == [
        ("cancelled", "Storm warning", "Tia"), ("reinstated", "", "Tia")]


def test_move_down_swaps_dates_and_times_and_the_numbers_follow_the_dates(db, cohort):
    intro = agenda.add_session(db, cohort, data("Intro", date(2026, 11, 29)))
    listening = agenda.add_session(db, cohort, data("Listening", date(2026, 12, 6)))
    boundaries = agenda.add_session(db, cohort, SessionInput(
        "Boundaries", date(2026, 12, 13), time(14, 0), 120))
    assert agenda.move_session(db, listening, 1) is boundaries
    listed = agenda.agenda(db, cohort.id)
    assert [(s.title, s.on_date, s.start_time) for s in listed] == [
        ("Intro", date(2026, 11, 29), time(9, 30)),
        ("Boundaries", date(2026, 12, 6), time(9, 30)),
        ("Listening", date(2026, 12, 13), time(14, 0))]
    assert [s.position for s in listed] == [1, 2, 3]  # session numbers follow the dates
    # The instants move with the local dates, in the cohort's zone (UTC+2).
    assert listening.starts_at == datetime(2026, 12, 13, 12, 0, tzinfo=UTC)
    assert boundaries.starts_at == datetime(2026, 12, 6, 7, 30, tzinfo=UTC)
    assert listening.duration_minutes == 180 and boundaries.duration_minutes == 120
    # Nothing beyond either end.
    assert agenda.move_session(db, listening, 1) is None
    assert agenda.move_session(db, intro, -1) is None
    # Every other list of the cohort's sessions has the same order.
    assert [s.title for s in agenda.agenda_for_cohorts(db, [cohort.id])[cohort.id]] == [
        "Intro", "Boundaries", "Listening"]


def test_a_new_or_edited_session_takes_its_place_in_date_order(db, cohort):
    late = agenda.add_session(db, cohort, data("Late", date(2026, 3, 9)))
    early = agenda.add_session(db, cohort, data("Early", date(2026, 3, 2)))
    assert [(s.title, s.position) for s in agenda.agenda(db, cohort.id)] == [
        ("Early", 1), ("Late", 2)]
    agenda.update_session(db, early, data("Early", date(2026, 3, 16)))
    assert [(s.title, s.position) for s in agenda.agenda(db, cohort.id)] == [
        ("Late", 1), ("Early", 2)]
    assert late.position == 1


def test_cancelled_sessions_keep_their_dates_when_others_move(db, cohort):
    first = agenda.add_session(db, cohort, data("First", date(2026, 3, 2)))
    dropped = agenda.add_session(db, cohort, data("Dropped", date(2026, 3, 3)))
    third = agenda.add_session(db, cohort, data("Third", date(2026, 3, 4)))
    agenda.cancel_session(db, dropped, "Strike")
    assert agenda.move_session(db, third, -1) is first  # the cancelled one is skipped
    assert [(s.title, s.on_date) for s in agenda.agenda(db, cohort.id)] == [
        ("Third", date(2026, 3, 2)), ("Dropped", date(2026, 3, 3)), ("First", date(2026, 3, 4))]
    with pytest.raises(AgendaError, match="keeps its date"):
        agenda.move_session(db, dropped, 1)


def test_a_session_with_a_register_is_not_moved(db, cohort, make_person):
    from lms.services.attendance import Mark, record_register
    from tests.factories import EnrolmentFactory

    trainer, trainee = make_person("trainer"), make_person("trainee")
    EnrolmentFactory(cohort_id=cohort.id, person_id=trainee.id, enrolled_on=date(2026, 1, 1))
    held = agenda.add_session(db, cohort, data("Held", date(2026, 3, 2)))
    agenda.add_session(db, cohort, data("Next", date(2026, 3, 9)))
    record_register(db, held, [Mark(trainee.id, "present")], trainer,
                    now=datetime(2026, 3, 3, tzinfo=UTC))
    with pytest.raises(AgendaError, match="already has a register"):
        agenda.move_session(db, held, 1)
    assert [s.title for s in agenda.agenda(db, cohort.id)] == ["Held", "Next"]


def test_sessions_at_the_same_time_are_not_swapped(db, cohort):
    one = agenda.add_session(db, cohort, data("One", date(2026, 3, 2)))
    agenda.add_session(db, cohort, data("Two", date(2026, 3, 2)))
    with pytest.raises(AgendaError, match="same time"):
        agenda.move_session(db, one, 1)


def test_a_move_on_a_stale_agenda_is_refused_not_doubled(db, app, cohort):
    """Two clicks at once: the second read the dates before the first saved its swap."""
    from sqlalchemy import update

    from lms.models import TrainingSession

    first = agenda.add_session(db, cohort, data("First", date(2026, 11, 29)))
    second = agenda.add_session(db, cohort, data("Second", date(2026, 12, 6)))
    db.commit()
    agenda.agenda(db, cohort.id)  # this request has read both dates
    other = app.extensions["lms"].db.session()  # the other click swaps them and commits
    other.execute(update(TrainingSession).where(TrainingSession.id == first.id)
                  .values(on_date=date(2026, 12, 6)))
    other.execute(update(TrainingSession).where(TrainingSession.id == second.id)
                  .values(on_date=date(2026, 11, 29)))
    other.commit()
    other.close()
    with pytest.raises(AgendaError, match="at the same moment"):
        agenda.move_session(db, first, 1)


@pytest.mark.parametrize("separator", ["\n", "\x0b", "\x85", "\u2028", "\u2029", "\x7f"])
def test_titles_and_places_refuse_line_breaks_of_every_kind(db, cohort, separator):
    with pytest.raises(AgendaError) as info:
        agenda.add_session(db, cohort, data(f"Day{separator}1", date(2026, 3, 2)))
    assert "line breaks" in info.value.problems["title"]
    with pytest.raises(AgendaError) as info:
        agenda.add_session(db, cohort, SessionInput(
            title="Day 1", on_date=date(2026, 3, 2), start_time=time(9, 30),
            duration_minutes=180, venue=f"Clinic{separator}hall"))
    assert "venue" in info.value.problems
