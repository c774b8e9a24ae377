"""Supervision records: the rules (validation, group supervision, privacy, the edit window,
corrections, reflections, actions, a change of supervisor) and the supervisor's and trainee's
pages, with every refusal."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from lms.models import (
    AgreedAction,
    RecordCorrection,
    RecordRevision,
    SupervisionAttendee,
    SupervisionRecord,
)
from lms.models._types import utcnow
from lms.services import supervision, supervisors
from lms.services.errors import ServiceError
from lms.services.supervision import ActionInput, SupervisionError

TODAY = utcnow().date()  # LMS_TIMEZONE is UTC in the tests
PRIVATE = "Private: worried about burnout"


@pytest.fixture
def sara(make_person):
    return make_person("supervisor", name="Sara Supervisor")


@pytest.fixture
def tom(make_person):
    return make_person("supervisor", name="Tom Supervisor")


@pytest.fixture
def supervisee(db, make_person, sara):
    """A factory: a trainee supervised by ``by`` (Sara by default) since 60 days ago."""
    def make(name: str = "Pat Peer", by=None):
        person = make_person("trainee", name=name)
        supervisors.assign(db, person, by or sara, on=TODAY - timedelta(days=60))
        db.commit()
        return person

    return make


def record(db, author, trainees, *, commit=True, **changes):
    fields = dict(trainee_ids=[t.id for t in trainees], held_on=TODAY - timedelta(days=1),
                  duration_minutes=50, format="video", topics=["caseload", "wellbeing"],
                  notes="Talked about the week.", private_note=PRIVATE, actions=(),
                  today=TODAY)
    fields.update(changes)
    found = supervision.record_supervision(db, author, **fields)
    if commit:
        db.commit()
    return found


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


# --- recording and validation ----------------------------------------------------------------


def test_an_individual_record_with_an_action(db, sara, supervisee):
    pat = supervisee()
    due = TODAY + timedelta(days=14)
    found = record(db, sara, [pat], actions=[ActionInput("  Read the boundaries module ",
                                                         pat.id, due)])
    db.expire_all()
    again = supervision.record_for(db, found.id)
    assert again.kind == supervision.INDIVIDUAL and again.author_id == sara.id
    assert [a.trainee_id for a in again.attendees] == [pat.id]
    assert (again.held_on, again.duration_minutes, again.format) == (
        TODAY - timedelta(days=1), 50, "video")
    assert again.topics == ["caseload", "wellbeing"] and again.private_note == PRIVATE
    [action] = again.actions
    assert (action.description, action.owner_id, action.due_on, action.done_on) == (
        "Read the boundaries module", pat.id, due, None)


def test_constants_and_their_labels():
    assert supervision.KINDS == ("individual", "group")
    assert {k: str(v) for k, v in supervision.FORMATS.items()} == {
        "in_person": "In person", "phone": "Phone", "video": "Video",
        "messaging": "Messaging"}
    assert [str(v) for v in supervision.TOPICS.values()] == [
        "Caseload", "Boundaries", "A difficult situation", "Wellbeing",
        "Learning and development", "Other"]
    assert list(supervision.TOPICS) == ["caseload", "boundaries", "difficult_situation",
                                        "wellbeing", "learning", "other"]


LONG = "x" * 10_001


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"trainee_ids": []}, "trainee_ids", "Choose who was at the supervision"),
    ({"held_on": None}, "held_on", "Give the date"),
    ({"held_on": TODAY + timedelta(days=1)}, "held_on", "cannot be in the future"),
    ({"held_on": date(1999, 12, 31)}, "held_on", "before 2000"),
    ({"duration_minutes": None}, "duration_minutes", "in minutes"),
    ({"duration_minutes": 4}, "duration_minutes", "from 5 to 600 minutes"),
    ({"duration_minutes": 601}, "duration_minutes", "from 5 to 600 minutes"),
    ({"format": "pigeon"}, "format", "Choose how you met"),
    ({"format": None}, "format", "Choose how you met"),
    ({"topics": []}, "topics", "at least one topic"),
    ({"topics": ["caseload", "gossip"]}, "topics", "from the list"),
    ({"notes": LONG}, "notes", "10,000 characters"),
    ({"private_note": LONG}, "private_note", "10,000 characters"),
])
def test_each_rule_names_its_field(db, sara, supervisee, changes, field, words):
    pat = supervisee()
    with pytest.raises(SupervisionError) as info:
        record(db, sara, [pat], **changes)
    assert isinstance(info.value, ServiceError)
    assert list(info.value.problems) == [field]
    assert words in info.value.problems[field]
    db.rollback()
    assert count(db, SupervisionRecord) == 0


@pytest.mark.parametrize(("action", "field", "words"), [
    (lambda pat, sara: ActionInput("", pat.id, TODAY), "actions-0-description",
     "Describe the action"),
    (lambda pat, sara: ActionInput("y" * 1001, pat.id, TODAY), "actions-0-description",
     "1,000 characters"),
    (lambda pat, sara: ActionInput("Call", None, TODAY), "actions-0-owner_id",
     "Choose who will do it"),
    (lambda pat, sara: ActionInput("Call", 999_999, TODAY), "actions-0-owner_id",
     "Choose who will do it"),
    (lambda pat, sara: ActionInput("Call", pat.id, None), "actions-0-due_on",
     "Give the date it is due"),
    (lambda pat, sara: ActionInput("Call", sara.id, TODAY - timedelta(days=2)),
     "actions-0-due_on", "cannot be due before the supervision"),
])
def test_each_action_rule_names_its_row_and_field(db, sara, supervisee, action, field, words):
    pat = supervisee()
    with pytest.raises(SupervisionError) as info:
        record(db, sara, [pat], actions=[action(pat, sara)])
    assert list(info.value.problems) == [field] and words in info.value.problems[field]


def test_the_edges_of_each_rule_are_accepted(db, sara, supervisee):
    pat = supervisee()
    earliest = record(db, sara, [pat], held_on=date(2000, 1, 1), duration_minutes=5,
                      notes="n" * 10_000, private_note="p" * 10_000, topics=["other"],
                      format="in_person")
    today = record(db, sara, [pat], held_on=TODAY, duration_minutes=600, notes="",
                   private_note="", format="messaging",
                   actions=[ActionInput("Due the same day", sara.id, TODAY)])
    assert earliest.duration_minutes == 5 and len(earliest.notes) == 10_000
    assert today.held_on == TODAY and today.actions[0].owner_id == sara.id


def test_every_problem_is_reported_at_once_and_blank_action_rows_are_ignored(
        db, sara, supervisee):
    pat = supervisee()
    with pytest.raises(SupervisionError) as info:
        record(db, sara, [pat], held_on=None, duration_minutes=0, format="", topics=[],
               notes=LONG, actions=[ActionInput("", pat.id, None),
                                    ActionInput("Phone the GP", None, None)])
    assert set(info.value.problems) == {"held_on", "duration_minutes", "format", "topics",
                                        "notes", "actions-1-owner_id", "actions-1-due_on"}
    db.rollback()
    found = record(db, sara, [pat], actions=[ActionInput("  ", sara.id, None),
                                             ActionInput("Book a room", sara.id, TODAY)])
    assert [a.description for a in found.actions] == ["Book a room"]


def test_only_a_supervisor_records_and_only_with_their_own_supervisees(
        db, sara, tom, supervisee, trainer):
    pat = supervisee()
    toms = supervisee("Tim Toms", by=tom)
    with pytest.raises(SupervisionError, match="Only a supervisor"):
        record(db, trainer, [pat])
    with pytest.raises(SupervisionError) as info:
        record(db, sara, [pat, toms])
    # The refusal names no one: Sara must not learn who Tom supervises.
    assert info.value.problems == {"trainee_ids": "You can record supervision only with your "
                                                  "current supervisees."}
    with pytest.raises(SupervisionError) as info:
        record(db, sara, [pat], actions=[ActionInput("Call", toms.id, TODAY)])
    assert "actions-0-owner_id" in info.value.problems


def test_the_same_record_sent_twice_is_saved_once(db, sara, supervisee):
    pat = supervisee()
    now = utcnow()
    first = record(db, sara, [pat], now=now)
    again = record(db, sara, [pat], now=now + timedelta(seconds=90))
    assert again.id == first.id and count(db, SupervisionRecord) == 1
    # Different notes, or the same notes three minutes later, are a second record.
    other = record(db, sara, [pat], notes="Another meeting", now=now + timedelta(seconds=30))
    later = record(db, sara, [pat], now=now + timedelta(minutes=3))
    assert len({first.id, other.id, later.id}) == 3


# --- group supervision -----------------------------------------------------------------------


def test_group_supervision_each_sees_it_and_reflects_separately(db, sara, supervisee,
                                                                 client_for):
    group = [supervisee(name) for name in ("Ann Able", "Ben Baker", "Cat Cole")]
    found = record(db, sara, group, notes="Group talk about boundaries.")
    assert found.kind == supervision.GROUP and len(found.attendees) == 3
    for person in group:
        client = client_for(person)
        page = client.get("/my/supervision").get_data(as_text=True)
        assert f"/my/supervision/{found.id}" in page
        response = client.post(f"/my/supervision/{found.id}/reflection",
                               data={"reflection": f"What {person.name} learnt"})
        assert response.status_code == 302
    db.expire_all()
    reflections = dict(db.execute(select(SupervisionAttendee.trainee_id,
                                         SupervisionAttendee.reflection)).all())
    assert reflections == {p.id: f"What {p.name} learnt" for p in group}
    # Each sees their own reflection, not the others'; the supervisor sees all three.
    ann_page = client_for(group[0]).get(f"/my/supervision/{found.id}").get_data(as_text=True)
    assert "What Ann Able learnt" in ann_page and "What Ben Baker learnt" not in ann_page
    sara_page = client_for(sara).get(f"/supervision/records/{found.id}").get_data(as_text=True)
    assert all(f"What {p.name} learnt" in sara_page for p in group)


def test_a_rewritten_reflection_keeps_the_earlier_text(db, sara, supervisee):
    pat = supervisee()
    found = record(db, sara, [pat])
    now = utcnow()
    supervision.add_reflection(db, found, pat, "First thoughts", now=now)
    supervision.add_reflection(db, found, pat, "First thoughts", now=now)  # sent twice
    supervision.add_reflection(db, found, pat, "Second thoughts", now=now)
    db.commit()
    [revision] = db.scalars(select(RecordRevision)).all()
    assert revision.previous == {"reflection": "First thoughts", "trainee_id": pat.id}
    assert found.attendees[0].reflection == "Second thoughts"
    with pytest.raises(SupervisionError, match="Write your reflection"):
        supervision.add_reflection(db, found, pat, "   ")
    with pytest.raises(SupervisionError, match="5,000"):
        supervision.add_reflection(db, found, pat, "r" * 5001)


def test_only_an_attendee_reflects(db, sara, supervisee):
    pat, other = supervisee(), supervisee("Olly Other")
    found = record(db, sara, [pat])
    with pytest.raises(SupervisionError, match="only on supervision you attended"):
        supervision.add_reflection(db, found, other, "Not mine")
    with pytest.raises(SupervisionError):
        supervision.add_reflection(db, found, sara, "Not a supervisee")


# --- privacy ---------------------------------------------------------------------------------


def test_the_private_note_is_never_shown_to_the_supervisee(db, sara, supervisee, client_for):
    pat = supervisee()
    found = record(db, sara, [pat])
    # An edit of the private note keeps its earlier text: the supervisee must not see that
    # either.
    supervision.edit_record(db, found, sara, trainee_ids=[pat.id], held_on=found.held_on,
                            duration_minutes=50, format="video", topics=["caseload"],
                            notes="Talked about the week.", private_note="Second private",
                            now=utcnow(), window_days=7, today=TODAY)
    db.commit()
    client = client_for(pat)
    for url in ("/my/supervision", f"/my/supervision/{found.id}"):
        page = client.get(url).get_data(as_text=True)
        assert PRIVATE not in page and "Second private" not in page
        assert "Private note" not in page
    page = client.get(f"/my/supervision/{found.id}").get_data(as_text=True)
    assert "Talked about the week." in page
    author_page = client_for(sara).get(f"/supervision/records/{found.id}")
    html = author_page.get_data(as_text=True)
    assert "Second private" in html and PRIVATE in html  # the current one and its history


def test_a_later_supervisor_reads_the_record_but_not_its_private_note(
        db, sara, tom, supervisee, client_for):
    pat = supervisee()
    found = record(db, sara, [pat])
    edit(db, found, sara, utcnow(), private_note="Rewritten private")  # history holds PRIVATE
    supervisors.assign(db, pat, tom, on=TODAY)
    db.commit()
    assert supervision.can_read(db, tom, found, TODAY)
    assert not supervision.can_see_private_note(found, tom)
    response = client_for(tom).get(f"/supervision/records/{found.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Talked about the week." in html
    assert PRIVATE not in html and "Rewritten private" not in html
    assert "Private note" not in html
    assert [e.changes for e in supervision.history(db, found, viewer=tom)] == []
    assert PRIVATE in [c.value for e in supervision.history(db, found, viewer=sara)
                       for c in e.changes]


def test_nobody_else_reads_a_record(db, sara, tom, supervisee, make_person):
    pat = supervisee()
    found = record(db, sara, [pat])
    for person in (tom, make_person("trainer"), make_person("admin"),
                   make_person("trainee"), make_person("trainer", "admin")):
        assert not supervision.can_read(db, person, found, TODAY)
    assert supervision.can_read(db, pat, found, TODAY)
    assert supervision.can_read(db, sara, found, TODAY)


# --- the edit window and corrections ------------------------------------------------------------


def edit(db, found, editor, now, **changes):
    fields = dict(trainee_ids=[a.trainee_id for a in found.attendees], held_on=found.held_on,
                  duration_minutes=found.duration_minutes, format=found.format,
                  topics=list(found.topics), notes=found.notes,
                  private_note=found.private_note)
    fields.update(changes)
    return supervision.edit_record(db, found, editor, **fields, now=now, window_days=3,
                                   today=TODAY)


def test_an_edit_inside_the_window_keeps_the_previous_values(db, sara, supervisee):
    pat = supervisee()
    created = utcnow() - timedelta(days=2)
    found = record(db, sara, [pat], now=created)
    now = utcnow()
    edit(db, found, sara, now, notes="Corrected notes", duration_minutes=45,
         held_on=TODAY - timedelta(days=2), topics=["learning", "caseload"])
    db.commit()
    [revision] = db.scalars(select(RecordRevision)).all()
    assert revision.supervision_id == found.id and revision.edited_by_id == sara.id
    assert revision.previous == {"notes": "Talked about the week.", "duration_minutes": 50,
                                 "held_on": (TODAY - timedelta(days=1)).isoformat(),
                                 "topics": ["caseload", "wellbeing"]}
    assert found.notes == "Corrected notes" and found.updated_at == now
    assert found.topics == ["caseload", "learning"]  # kept in the checklist's order
    # Saving again with nothing changed keeps no empty revision.
    edit(db, found, sara, now)
    assert count(db, RecordRevision) == 1
    entries = supervision.history(db, found, viewer=sara)
    assert [e.kind for e in entries] == ["edit"]
    assert {c.field: c.value for c in entries[0].changes}["held_on"] == TODAY - timedelta(
        days=1)


def test_an_edit_can_make_it_a_group_but_not_drop_someone_who_reflected(db, sara, supervisee):
    pat, quinn = supervisee(), supervisee("Quinn Quick")
    found = record(db, sara, [pat])
    edit(db, found, sara, utcnow(), trainee_ids=[pat.id, quinn.id])
    assert found.kind == supervision.GROUP and len(found.attendees) == 2
    supervision.add_reflection(db, found, quinn, "Mine")
    with pytest.raises(SupervisionError, match="written a reflection"):
        edit(db, found, sara, utcnow(), trainee_ids=[pat.id])


@pytest.mark.settings(LMS_RECORD_EDIT_WINDOW_DAYS=3)
def test_after_the_window_an_edit_is_refused_and_a_correction_accepted(
        db, sara, tom, supervisee, client_for):
    pat = supervisee()
    found = record(db, sara, [pat], now=utcnow() - timedelta(days=4))
    with pytest.raises(SupervisionError, match="can no longer be edited; add a correction"):
        edit(db, found, sara, utcnow(), notes="Too late")
    assert not supervision.can_edit(found, sara, utcnow(), 3)
    db.rollback()
    client = client_for(sara)
    response = client.get(f"/supervision/records/{found.id}/edit")
    assert response.status_code == 302 and response.location.endswith("#correction")
    response = client.post(f"/supervision/records/{found.id}/edit",
                           data={"trainee_ids": [pat.id], "held_on": str(found.held_on),
                                 "duration_minutes": "50", "format": "video",
                                 "topics": ["caseload"], "notes": "Too late"})
    assert response.status_code == 422
    assert "can no longer be edited" in response.get_data(as_text=True)
    page = client.get(f"/supervision/records/{found.id}").get_data(as_text=True)
    assert "Edit this record" not in page and "Correct this record" in page
    response = client.post(f"/supervision/records/{found.id}/corrections",
                           data={"body": "The meeting was 40 minutes, not 50."})
    assert response.status_code == 302
    response = client.post(f"/supervision/records/{found.id}/corrections",
                           data={"body": "The meeting was 40 minutes, not 50."})  # twice
    assert count(db, RecordCorrection) == 1
    db.expire_all()
    assert supervision.record_for(db, found.id).notes == "Talked about the week."
    page = client.get(f"/supervision/records/{found.id}").get_data(as_text=True)
    assert "The meeting was 40 minutes, not 50." in page
    # The supervisee sees the correction too.
    assert "40 minutes, not 50" in client_for(pat).get(
        f"/my/supervision/{found.id}").get_data(as_text=True)
    # An empty correction is refused on the page, with the record still shown.
    response = client.post(f"/supervision/records/{found.id}/corrections", data={"body": " "})
    assert response.status_code == 422 and "Write the correction." in response.get_data(
        as_text=True)


@pytest.mark.settings(LMS_RECORD_EDIT_WINDOW_DAYS=3)
def test_inside_the_window_the_author_edits_on_the_page(db, sara, supervisee, client_for):
    pat = supervisee()
    found = record(db, sara, [pat])
    client = client_for(sara)
    page = client.get(f"/supervision/records/{found.id}").get_data(as_text=True)
    assert "Edit this record" in page and "Correct this record" not in page
    form = client.get(f"/supervision/records/{found.id}/edit").get_data(as_text=True)
    assert "Talked about the week." in form and 'value="video" checked' in form
    response = client.post(f"/supervision/records/{found.id}/edit",
                           data={"trainee_ids": [pat.id], "held_on": str(found.held_on),
                                 "duration_minutes": "55", "format": "phone",
                                 "topics": ["caseload"], "notes": "Better notes",
                                 "private_note": PRIVATE})
    assert response.status_code == 302
    db.expire_all()
    again = supervision.record_for(db, found.id)
    assert (again.notes, again.duration_minutes, again.format) == ("Better notes", 55, "phone")
    page = client.get(f"/supervision/records/{found.id}").get_data(as_text=True)
    assert "Talked about the week." in page  # the earlier text, in the history


def test_only_the_author_edits(db, sara, tom, supervisee, client_for):
    pat = supervisee()
    found = record(db, sara, [pat])
    supervisors.assign(db, pat, tom, on=TODAY)  # Tom now reads it, but did not write it
    db.commit()
    with pytest.raises(SupervisionError, match="Only the person who wrote"):
        edit(db, found, tom, utcnow(), notes="Not mine")
    response = client_for(tom).get(f"/supervision/records/{found.id}/edit")
    assert response.status_code == 403
    assert "Only the person who wrote this record" in response.get_data(as_text=True)
    # Tom, as the current supervisor, may add a correction.
    assert supervision.add_correction(db, found, tom, "Seen by Tom", now=utcnow(),
                                      today=TODAY).author_id == tom.id


def test_a_correction_is_required_and_limited(db, sara, supervisee, make_person):
    pat = supervisee()
    found = record(db, sara, [pat])
    with pytest.raises(SupervisionError, match="Write the correction"):
        supervision.add_correction(db, found, sara, "  ", today=TODAY)
    with pytest.raises(SupervisionError, match="5,000"):
        supervision.add_correction(db, found, sara, "c" * 5001, today=TODAY)
    with pytest.raises(SupervisionError, match="Only the author"):
        supervision.add_correction(db, found, make_person("supervisor"), "No", today=TODAY)


# --- a change of supervisor --------------------------------------------------------------------


def test_after_a_change_the_old_supervisor_keeps_only_what_they_wrote(
        db, sara, tom, supervisee, client_for):
    pat = supervisee()
    sara_record = record(db, sara, [pat], notes="Sara's meeting")
    supervisors.assign(db, pat, tom, on=TODAY)
    db.commit()
    tom_record = record(db, tom, [pat], notes="Tom's meeting")
    # Sara cannot record new supervision for Pat.
    with pytest.raises(SupervisionError) as info:
        record(db, sara, [pat], notes="After the change")
    assert "trainee_ids" in info.value.problems
    db.rollback()
    client = client_for(sara)
    assert client.get(f"/supervision/records/new?person_id={pat.id}").status_code == 403
    response = client.post("/supervision/records/new", data={
        "trainee_ids": [pat.id], "held_on": str(TODAY), "duration_minutes": "30",
        "format": "phone", "topics": ["caseload"]})
    assert response.status_code == 422 and count(db, SupervisionRecord) == 2
    # Nor open Tom's record; but she still reads hers, read-only.
    response = client.get(f"/supervision/records/{tom_record.id}")
    assert response.status_code == 403
    assert "not your supervisees" in response.get_data(as_text=True)
    page = client.get(f"/supervision/records/{sara_record.id}").get_data(as_text=True)
    assert "Sara&#39;s meeting" in page and "you wrote it" in page
    assert "Edit this record" not in page
    response = client.get(f"/supervision/records/{sara_record.id}/edit")
    assert response.status_code == 302
    assert response.location.endswith(f"/supervision/records/{sara_record.id}")
    assert "read-only" in client.get(response.location).get_data(as_text=True)
    with pytest.raises(SupervisionError, match="read-only"):
        edit(db, sara_record, sara, utcnow(), notes="Changed")
    visible = supervision.records_visible_to_supervisor(db, sara.id, pat.id, TODAY)
    assert [r.id for r in visible] == [sara_record.id]
    visible = supervision.records_visible_to_supervisor(db, tom.id, pat.id, TODAY)
    assert {r.id for r in visible} == {sara_record.id, tom_record.id}


# --- actions -----------------------------------------------------------------------------------


def test_an_action_is_done_and_undone_by_its_owner_and_refused_to_a_stranger(
        db, sara, tom, supervisee, client_for, make_person):
    pat = supervisee()
    found = record(db, sara, [pat], actions=[ActionInput("Read module 3", pat.id, TODAY),
                                             ActionInput("Send the leaflet", sara.id, TODAY)])
    mine, saras = found.actions
    client = client_for(pat)
    response = client.post(f"/my/actions/{mine.id}/done", data={"done": "1"})
    assert response.status_code == 302
    db.expire_all()
    action = db.get(AgreedAction, mine.id)
    assert action.done_on == TODAY and action.done_by_id == pat.id
    assert client.post(f"/my/actions/{mine.id}/done", data={"done": "1"}).status_code == 302
    assert client.post(f"/my/actions/{mine.id}/done", data={"done": "0"}).status_code == 302
    db.expire_all()
    action = db.get(AgreedAction, mine.id)
    assert action.done_on is None and action.done_by_id is None
    # The supervisee cannot mark their supervisor's action: it is not theirs (404).
    assert client.post(f"/my/actions/{saras.id}/done", data={"done": "1"}).status_code == 404
    assert client.post(f"/my/actions/{mine.id}/done", data={"done": "x"}).status_code == 400
    # The supervisor marks either.
    response = client_for(sara).post(f"/supervision/actions/{mine.id}/done", data={"done": "1"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(AgreedAction, mine.id).done_by_id == sara.id
    # A stranger is refused by the service and by the pages.
    stranger = make_person("supervisor")
    with pytest.raises(SupervisionError, match="Only the person who owns"):
        supervision.set_action_done(db, db.get(AgreedAction, saras.id), stranger, True, TODAY)
    assert client_for(stranger).post(f"/supervision/actions/{saras.id}/done",
                                     data={"done": "1"}).status_code == 403
    other = supervisee("Olly Other")
    assert client_for(other).post(f"/my/actions/{mine.id}/done",
                                  data={"done": "0"}).status_code == 404


def test_open_actions_and_last_held_on(db, sara, supervisee):
    pat, quinn, never = supervisee(), supervisee("Quinn Quick"), supervisee("Nel Never")
    older = record(db, sara, [pat], held_on=TODAY - timedelta(days=20), actions=[
        ActionInput("Late one", pat.id, TODAY - timedelta(days=3))])
    group = record(db, sara, [pat, quinn], held_on=TODAY - timedelta(days=5), actions=[
        ActionInput("Group task", sara.id, TODAY + timedelta(days=3)),
        ActionInput("Done already", quinn.id, TODAY)])
    supervision.set_action_done(db, group.actions[1], quinn, True, TODAY)
    db.commit()
    assert supervision.last_held_on(db, [pat.id, quinn.id, never.id]) == {
        pat.id: TODAY - timedelta(days=5), quinn.id: TODAY - timedelta(days=5)}
    assert supervision.last_held_on(db, []) == {}
    pairs = supervision.open_actions(db, [pat.id, quinn.id, never.id])
    assert sorted((t, a.description) for t, a in pairs) == sorted(
        [(pat.id, "Late one"), (pat.id, "Group task"), (quinn.id, "Group task")])
    assert [a.due_on for _t, a in pairs] == sorted(a.due_on for _t, a in pairs)
    assert pairs[0][1].supervision.held_on == older.held_on
    assert supervision.open_actions(db, []) == []


def populate_supervision(db, sara, supervisee, n: int) -> list[int]:
    ids = []
    for i in range(n):
        person = supervisee(f"Peer {n}-{i}")
        for days in (40, 10):
            record(db, sara, [person], held_on=TODAY - timedelta(days=days), notes=f"{days}",
                   actions=[ActionInput("Something", person.id, TODAY)])
        ids.append(person.id)
    return ids


def test_summaries_cost_one_query_whatever_the_number(db, sara, supervisee, count_queries):
    two = populate_supervision(db, sara, supervisee, 2)
    twenty = populate_supervision(db, sara, supervisee, 20)
    results = {}
    for name, ids in (("two", two), ("twenty", twenty)):
        db.expire_all()
        with count_queries() as held:
            last = supervision.last_held_on(db, ids)
        with count_queries() as acting:
            actions = supervision.open_actions(db, ids)
            [a.supervision.held_on for _t, a in actions]
        results[name] = (len(held), len(acting), len(last), len(actions))
    assert results["two"][:2] == results["twenty"][:2] == (1, 1)
    assert results["two"][2:] == (2, 4) and results["twenty"][2:] == (20, 40)


def test_a_trainees_records_cost_the_same_whatever_their_number(db, sara, supervisee,
                                                                 count_queries):
    few, many = supervisee("Few"), supervisee("Many")
    record(db, sara, [few], actions=[ActionInput("One", few.id, TODAY)])
    for days in range(1, 16):
        record(db, sara, [many], held_on=TODAY - timedelta(days=days),
               actions=[ActionInput("One", many.id, TODAY), ActionInput("Two", sara.id, TODAY)])
    counts = []
    for person in (few, many):
        db.expire_all()
        with count_queries() as statements:
            records = supervision.records_for_trainee(db, person.id)
            [(a.owner.name, r.author.name, [x.trainee.name for x in r.attendees])
             for r in records for a in r.actions]
        counts.append(len(statements))
    assert counts[0] == counts[1]
    assert [r.held_on for r in records] == sorted((r.held_on for r in records), reverse=True)


# --- the pages ---------------------------------------------------------------------------------


def test_recording_on_the_page_individual_and_group(db, sara, supervisee, client_for):
    pat, quinn = supervisee(), supervisee("Quinn Quick")
    supervisee("Tara Toms")
    client = client_for(sara)
    page = client.get(f"/supervision/records/new?person_id={pat.id}").get_data(as_text=True)
    assert re.search(rf'value="{pat.id}"[^>]*checked|checked[^>]*value="{pat.id}"', page)
    assert f'value="{TODAY.isoformat()}"' in page  # the date defaults to today
    assert "Only you will see this note." in page
    data = {"trainee_ids": [pat.id, quinn.id], "held_on": str(TODAY), "duration_minutes": "60",
            "format": "in_person", "topics": ["boundaries", "other"], "notes": "Group",
            "private_note": "", "actions-0-description": "Plan the next group",
            "actions-0-owner_id": str(sara.id), "actions-0-due_on": str(TODAY),
            "actions-1-description": "", "actions-1-owner_id": "0", "actions-1-due_on": "",
            "actions-2-description": "", "actions-2-owner_id": "0", "actions-2-due_on": ""}
    first = client.post("/supervision/records/new", data=data)
    second = client.post("/supervision/records/new", data=data)  # a double tap
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    assert count(db, SupervisionRecord) == 1
    found = db.scalar(select(SupervisionRecord))
    assert found.kind == "group" and [a.description for a in found.actions] == [
        "Plan the next group"]
    page = client.get(first.location).get_data(as_text=True)
    assert "Plan the next group" in page and "Quinn Quick" in page
    # Every current supervisee is offered on the form.
    assert "Tara Toms" in client.get("/supervision/records/new").get_data(as_text=True)


def test_a_refused_record_keeps_what_was_typed(db, sara, supervisee, client_for):
    pat = supervisee()
    client = client_for(sara)
    response = client.post("/supervision/records/new", data={
        "trainee_ids": [pat.id], "held_on": str(TODAY + timedelta(days=3)),
        "duration_minutes": "2", "format": "", "topics": [], "notes": "Keep this text",
        "actions-1-description": "An action with no owner", "actions-1-owner_id": "0",
        "actions-1-due_on": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in html and "Keep this text" in html
    assert "cannot be in the future" in html and "from 5 to 600 minutes" in html
    assert 'href="#actions-1-owner_id"' in html and "An action with no owner" in html
    assert "<details open>" in html  # the row with the problem is shown
    assert count(db, SupervisionRecord) == 0


def test_a_supervisor_without_supervisees_is_told_so(db, make_person, client_for):
    lonely = make_person("supervisor")
    page = client_for(lonely).get("/supervision/records/new").get_data(as_text=True)
    assert "You have no supervisees" in page


def test_my_supervision_lists_records_newest_first_with_open_actions_on_top(
        db, sara, supervisee, client_for):
    pat = supervisee()
    record(db, sara, [pat], held_on=TODAY - timedelta(days=30), notes="Old")
    record(db, sara, [pat], held_on=TODAY - timedelta(days=2), notes="New",
           actions=[ActionInput("Write up the case study", pat.id, TODAY - timedelta(days=1))])
    page = client_for(pat).get("/my/supervision").get_data(as_text=True)
    actions_at = page.index("Write up the case study")
    records = re.findall(r'/my/supervision/(\d+)"', page)
    found = supervision.records_for_trainee(db, pat.id)
    assert records[-2:] == [str(found[0].id), str(found[1].id)]
    assert actions_at < page.index("Records")
    assert "Overdue" in page and "Mark as done" in page


# --- refusals --------------------------------------------------------------------------------


SUPERVISOR_GETS = ("/supervision/records/new", "/supervision/records/{r}",
                   "/supervision/records/{r}/edit")
SUPERVISOR_POSTS = ("/supervision/records/new", "/supervision/records/{r}/edit",
                    "/supervision/records/{r}/corrections", "/supervision/actions/{a}/done")
TRAINEE_GETS = ("/my/supervision", "/my/supervision/{r}")
TRAINEE_POSTS = ("/my/supervision/{r}/reflection", "/my/actions/{a}/done")


@pytest.mark.parametrize("role", ["trainer", "admin", "trainee"])
def test_other_roles_are_refused_the_supervisor_pages(db, sara, supervisee, make_person,
                                                      client_for, role):
    pat = supervisee()
    found = record(db, sara, [pat], actions=[ActionInput("A", pat.id, TODAY)])
    client = client_for(make_person(role))
    ids = {"r": found.id, "a": found.actions[0].id}
    for url in SUPERVISOR_GETS:
        assert client.get(url.format(**ids)).status_code == 403, url
    for url in SUPERVISOR_POSTS:
        assert client.post(url.format(**ids), data={"done": "1"}).status_code == 403, url
    if role != "trainee":
        for url in TRAINEE_GETS:
            assert client.get(url.format(**ids)).status_code == 403, url
        for url in TRAINEE_POSTS:
            assert client.post(url.format(**ids), data={"done": "1"}).status_code == 403, url
    assert count(db, RecordCorrection) == 0


def test_another_trainee_gets_404_for_a_record_or_action(db, sara, supervisee, client_for):
    pat, other = supervisee(), supervisee("Olly Other")
    found = record(db, sara, [pat], actions=[ActionInput("A", pat.id, TODAY)])
    client = client_for(other)
    ids = {"r": found.id, "a": found.actions[0].id}
    for url in TRAINEE_GETS[1:]:
        response = client.get(url.format(**ids))
        assert response.status_code == 404 and "Talked about" not in response.get_data(
            as_text=True)
    for url in TRAINEE_POSTS:
        assert client.post(url.format(**ids), data={"reflection": "x", "done": "1"}
                           ).status_code == 404, url
    assert client.get("/my/supervision/999999").status_code == 404
    assert client.post("/my/actions/999999/done", data={"done": "1"}).status_code == 404
    db.expire_all()
    assert db.scalar(select(SupervisionAttendee.reflection)) is None


def test_a_supervisor_of_someone_else_gets_403_and_a_missing_record_404(
        db, sara, tom, supervisee, client_for):
    pat = supervisee()
    found = record(db, sara, [pat], actions=[ActionInput("A", pat.id, TODAY)])
    client = client_for(tom)
    ids = {"r": found.id, "a": found.actions[0].id}
    for url in SUPERVISOR_GETS[1:]:
        response = client.get(url.format(**ids))
        assert response.status_code == 403, url
        assert "not your supervisees" in response.get_data(as_text=True)
    for url in SUPERVISOR_POSTS[1:]:
        assert client.post(url.format(**ids), data={"body": "x", "done": "1"}
                           ).status_code == 403, url
    assert client.get(f"/supervision/records/new?person_id={pat.id}").status_code == 403
    for url in ("/supervision/records/999999", "/supervision/records/999999/edit"):
        assert client.get(url).status_code == 404
    assert client.post("/supervision/records/999999/corrections",
                       data={"body": "x"}).status_code == 404
    assert client.post("/supervision/actions/999999/done", data={"done": "1"}).status_code == 404
    assert count(db, RecordCorrection) == 0
    db.expire_all()
    assert db.get(AgreedAction, found.actions[0].id).done_on is None


def test_a_past_supervisor_can_no_longer_correct_or_tick_off_actions(db, sara, tom, supervisee,
                                                                   client_for):
    pat = supervisee()
    found = record(db, sara, [pat], actions=[ActionInput("Call the clinic", sara.id,
                                                         TODAY + timedelta(days=3)),
                                             ActionInput("Read a module", pat.id,
                                                         TODAY + timedelta(days=3))])
    supervisors.assign(db, pat, tom, on=TODAY)
    db.commit()
    client = client_for(sara)
    mine, theirs = found.actions
    # An action she owns is still hers to tick off; Pat's is not any more.
    assert supervision.can_mark_action(db, mine, sara, TODAY)
    assert not supervision.can_mark_action(db, theirs, sara, TODAY)
    client.post(f"/supervision/actions/{theirs.id}/done", data={"done": "1"})
    db.expire_all()
    assert db.get(AgreedAction, theirs.id).done_on is None
    assert not supervision.can_correct(db, found, sara, TODAY)
    response = client.post(f"/supervision/records/{found.id}/corrections",
                           data={"body": "A late correction"})
    assert response.status_code in (403, 422) and count(db, RecordCorrection) == 0
    page = client.get(f"/supervision/records/{found.id}").get_data(as_text=True)
    assert 'name="body"' not in page
    # Tom, Pat's supervisor now, may; and Pat still ticks off their own action.
    assert supervision.can_correct(db, found, tom, TODAY)
    assert supervision.can_mark_action(db, theirs, pat, TODAY)


def test_a_group_record_shows_another_supervisor_only_their_own_supervisees(
        db, sara, tom, supervisee, client_for):
    alice, bob = supervisee("Alice Peer"), supervisee("Bob Peer")
    found = record(db, sara, [alice, bob], actions=[
        ActionInput("Bob's own task", bob.id, TODAY - timedelta(days=1)),
        ActionInput("Sara books a room", sara.id, TODAY - timedelta(days=1))])
    supervision.add_reflection(db, found, bob, "Bob's private thoughts", utcnow())
    supervisors.assign(db, alice, tom, on=TODAY)
    db.commit()
    page = client_for(tom).get(f"/supervision/records/{found.id}").get_data(as_text=True)
    assert "Bob&#39;s private thoughts" not in page
    assert "Only your own supervisees" in page
    sara_page = client_for(sara).get(f"/supervision/records/{found.id}").get_data(as_text=True)
    assert "Bob&#39;s private thoughts" in sara_page
    # Alice's flags count the supervisor's action, not Bob's.
    concerning = {(t, a.description) for t, a in supervision.open_actions(db, [alice.id, bob.id])}
    assert concerning == {(alice.id, "Sara books a room"), (bob.id, "Sara books a room"),
                          (bob.id, "Bob's own task")}
