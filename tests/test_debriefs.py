"""Debriefs after a critical incident: the rules, the identifying-text warning, who reads what
(and the audit of it), edits and corrections, follow-ups, and the pages of both audiences."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.models import AgreedAction, AuditEvent, Debrief, RecordCorrection, RecordRevision
from lms.models._types import utcnow
from lms.services import audit, debriefs, supervisors
from lms.services.debriefs import DebriefError, IdentifyingTextFound

TODAY = utcnow().date()  # LMS_TIMEZONE is UTC in the tests
PHONE_TEXT = "She gave me her mobile, 07700 900123, and asked me to call back."


@pytest.fixture
def supervisor(make_person):
    return make_person("supervisor", name="Sam Supervisor")


@pytest.fixture
def supervised(db, trainee, supervisor):
    """The trainee, supervised by ``supervisor`` since 30 days ago."""
    supervisors.assign(db, trainee, supervisor, on=TODAY - timedelta(days=30))
    db.commit()
    return trainee


def start(db, by, trainee, **fields):
    values = {"incident_type": "risk_of_harm", "incident_on": TODAY,
              "what_happened": "A client spoke about ending their life during a call.",
              "how_now": "Shaken but OK.", "support_needed": "A call tomorrow.",
              "actions": [], "keep_identifying": False, "today": TODAY}
    values.update(fields)
    debrief = debriefs.start_debrief(db, by, trainee, **values)
    db.commit()
    return debrief


def form_data(**fields):
    data = {"incident_type": "safeguarding", "incident_on": TODAY.isoformat(),
            "what_happened": "A client described being hurt at home.",
            "how_now": "Worried about them.", "support_needed": "Talk it through.",
            "action_1": "", "action_1_due": "", "action_2": "", "action_2_due": "",
            "action_3": "", "action_3_due": ""}
    data.update(fields)
    return data


# --- the rules -----------------------------------------------------------------------------


def test_every_problem_is_reported_at_once(db, supervised):
    with pytest.raises(DebriefError) as info:
        debriefs.start_debrief(
            db, supervised, supervised, incident_type="bad", incident_on=TODAY + timedelta(1),
            what_happened="   ", how_now="x" * 10_001, support_needed="",
            actions=[("Call the helpline", None), ("", TODAY), ("", None),
                     ("Check in", TODAY - timedelta(days=3))],
            keep_identifying=False, today=TODAY)
    problems = info.value.problems
    # (a follow-up is checked against the incident date only once that date is right)
    assert set(problems) == {"incident_type", "incident_on", "what_happened", "how_now",
                             "action_1_due", "action_2"}
    assert "future" in problems["incident_on"]
    assert "10,000" in problems["how_now"]
    with pytest.raises(DebriefError) as info:
        start(db, supervised, supervised, actions=[
            ("Check in", TODAY - timedelta(days=3)), ("", None), ("Call", TODAY)])
    assert info.value.problems == {"action_1_due": "A follow-up cannot be due before the "
                                                   "incident."}
    assert db.scalar(select(func.count()).select_from(Debrief)) == 0


def test_an_incident_more_than_a_year_ago_is_refused(db, supervised):
    with pytest.raises(DebriefError) as info:
        start(db, supervised, supervised, incident_on=TODAY - timedelta(days=366))
    assert "more than a year" in info.value.problems["incident_on"]
    debrief = start(db, supervised, supervised, incident_on=TODAY - timedelta(days=365))
    assert debrief.incident_on == TODAY - timedelta(days=365)


def test_started_by_the_trainee_records_their_supervisor_and_follow_ups(db, supervised,
                                                                        supervisor):
    debrief = start(db, supervised, supervised, actions=[
        ("Book a call with my supervisor", TODAY + timedelta(days=2)), ("", None),
        ("Read the self-care module", TODAY + timedelta(days=7))])
    assert debrief.started_by_id == supervised.id and debrief.trainee_id == supervised.id
    assert debrief.supervisor_id == supervisor.id
    assert [(a.description, a.due_on, a.done_on) for a in debrief.actions] == [
        ("Book a call with my supervisor", TODAY + timedelta(days=2), None),
        ("Read the self-care module", TODAY + timedelta(days=7), None)]
    assert debrief.identifying_kept == []


def test_started_by_the_current_supervisor(db, supervised, supervisor):
    debrief = start(db, supervisor, supervised, incident_type="aggression")
    assert debrief.started_by_id == supervisor.id and debrief.trainee_id == supervised.id
    assert debrief.supervisor_id == supervisor.id


def test_a_trainee_without_a_supervisor_can_still_start_one(db, trainee):
    debrief = start(db, trainee, trainee)
    assert debrief.supervisor_id is None


def test_only_the_trainee_or_their_current_supervisor_starts_one(db, supervised, make_person,
                                                                 trainer):
    other_supervisor = make_person("supervisor")
    other_trainee = make_person("trainee")
    for person in (other_supervisor, other_trainee, trainer):
        with pytest.raises(DebriefError, match="only for yourself"):
            start(db, person, supervised)


def test_identifying_text_stops_the_save_with_each_finding(db, supervised):
    with pytest.raises(IdentifyingTextFound) as info:
        start(db, supervised, supervised, what_happened=PHONE_TEXT,
              support_needed="Her NHS number 943 476 5919 was on the letter.",
              actions=[("Email jo@example.org the leaflet", TODAY + timedelta(days=1))])
    findings = info.value.findings
    assert list(findings) == ["what_happened", "support_needed", "action_1"]
    assert [(f.kind, f.excerpt) for f in findings["what_happened"]] == [
        ("phone", "07700 900123")]
    assert findings["action_1"][0].kind == "email"
    assert info.value.problems == {}  # nothing else was wrong
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Debrief)) == 0


def test_keeping_identifying_text_is_recorded(db, supervised):
    debrief = start(db, supervised, supervised, what_happened=PHONE_TEXT,
                    how_now="Born 12/03/1985, she said.", keep_identifying=True)
    assert debrief.what_happened == PHONE_TEXT
    assert debrief.identifying_kept == ["phone", "date_of_birth"]


def test_other_problems_come_with_the_findings(db, supervised):
    with pytest.raises(IdentifyingTextFound) as info:
        start(db, supervised, supervised, incident_type=None, what_happened=PHONE_TEXT)
    assert set(info.value.problems) == {"incident_type"}
    with pytest.raises(DebriefError) as kept:
        start(db, supervised, supervised, incident_type=None, what_happened=PHONE_TEXT,
              keep_identifying=True)
    assert not isinstance(kept.value, IdentifyingTextFound)
    assert set(kept.value.problems) == {"incident_type"}


def test_the_same_debrief_sent_twice_is_saved_once(db, supervised):
    now = utcnow()
    first = start(db, supervised, supervised, now=now)
    again = start(db, supervised, supervised, now=now + timedelta(seconds=30))
    assert again.id == first.id
    later = start(db, supervised, supervised, now=now + timedelta(minutes=3))
    assert later.id != first.id
    assert db.scalar(select(func.count()).select_from(Debrief)) == 2


# --- who reads what ------------------------------------------------------------------------


def test_who_can_read(db, supervised, supervisor, make_person, trainer):
    admin = make_person("admin")
    other_trainee = make_person("trainee")
    by_trainee = start(db, supervised, supervised)
    by_supervisor = start(db, supervisor, supervised, what_happened="Another incident.")
    for person in (supervised, supervisor):
        assert debriefs.can_read(db, person, by_trainee, TODAY)
        assert debriefs.can_read(db, person, by_supervisor, TODAY)
    for person in (trainer, admin, other_trainee):
        assert not debriefs.can_read(db, person, by_trainee, TODAY)
        with pytest.raises(debriefs.DebriefNotReadable):
            debriefs.read_debrief(db, person, by_trainee, TODAY)
    # A new supervisor from today: the old one keeps only what they started, read-only.
    new_supervisor = make_person("supervisor")
    supervisors.assign(db, supervised, new_supervisor, on=TODAY)
    db.commit()
    assert not debriefs.can_read(db, supervisor, by_trainee, TODAY)
    assert debriefs.can_read(db, supervisor, by_supervisor, TODAY)
    assert not debriefs.can_edit(db, supervisor, by_supervisor, now=utcnow(), window_days=7,
                                 today=TODAY)
    assert not debriefs.can_correct(db, supervisor, by_supervisor, TODAY)
    assert debriefs.can_read(db, new_supervisor, by_trainee, TODAY)
    assert debriefs.can_read(db, new_supervisor, by_supervisor, TODAY)
    assert [d.id for d in debriefs.debriefs_visible_to_supervisor(
        db, supervisor.id, supervised.id, TODAY)] == [by_supervisor.id]
    assert {d.id for d in debriefs.debriefs_visible_to_supervisor(
        db, new_supervisor.id, supervised.id, TODAY)} == {by_trainee.id, by_supervisor.id}


def test_a_read_by_anyone_but_the_author_is_audited(db, supervised, supervisor):
    debrief = start(db, supervised, supervised)
    debriefs.read_debrief(db, supervised, debrief, TODAY)
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == 0
    debriefs.read_debrief(db, supervisor, debrief, TODAY)
    db.commit()
    event = db.scalar(select(AuditEvent))
    assert (event.actor_id, event.action, event.subject_type, event.subject_id,
            event.person_id) == (supervisor.id, audit.READ, audit.DEBRIEF, debrief.id,
                                 supervised.id)
    assert abs((utcnow() - event.at).total_seconds()) < 60


def test_debriefs_for_trainee_newest_first(db, supervised):
    older = start(db, supervised, supervised, incident_on=TODAY - timedelta(days=5))
    newer = start(db, supervised, supervised, incident_on=TODAY, what_happened="Later.")
    assert [d.id for d in debriefs.debriefs_for_trainee(db, supervised.id)] == [newer.id,
                                                                                older.id]


def test_open_follow_ups_is_one_query_for_many_trainees(db, make_person, make_cohort,
                                                        count_queries):
    people = [make_person("trainee") for _ in range(6)]
    make_cohort(*people)
    for index, person in enumerate(people):
        debrief = start(db, person, person, what_happened=f"Incident {index}.", actions=[
            ("First", TODAY + timedelta(days=index)), ("Second", TODAY + timedelta(days=9))])
        if index == 0:
            debrief.actions[0].done_on = TODAY
            db.commit()
    ids = [p.id for p in people]
    db.expire_all()
    with count_queries() as statements:
        found = debriefs.open_follow_ups(db, ids)
    assert len(statements) == 1
    assert len(found) == 11
    assert found[0][0] == people[1].id and found[0][1].due_on == TODAY + timedelta(days=1)
    assert all(action.done_on is None for _trainee, action in found)
    assert debriefs.open_follow_ups(db, []) == []


# --- edits, corrections and follow-ups -----------------------------------------------------


def edit(db, debrief, editor, **fields):
    values = {"incident_type": debrief.incident_type, "incident_on": debrief.incident_on,
              "what_happened": debrief.what_happened, "how_now": debrief.how_now,
              "support_needed": debrief.support_needed, "new_actions": [],
              "keep_identifying": False, "today": TODAY, "window_days": 7}
    values.update(fields)
    result = debriefs.edit_debrief(db, debrief, editor, **values)
    db.commit()
    return result


def test_the_author_edits_within_the_window_and_the_old_text_is_kept(db, supervised,
                                                                     supervisor):
    debrief = start(db, supervisor, supervised)
    edit(db, debrief, supervisor, what_happened="A client spoke about risk of harm.",
         new_actions=[("Follow-up call", TODAY + timedelta(days=1))])
    revision = db.scalar(select(RecordRevision).where(RecordRevision.debrief_id == debrief.id))
    assert revision.edited_by_id == supervisor.id
    assert revision.previous == {
        "what_happened": "A client spoke about ending their life during a call.",
        "actions": []}
    assert debrief.what_happened == "A client spoke about risk of harm."
    assert [a.description for a in debrief.actions] == ["Follow-up call"]
    # The same edit again changes nothing and keeps no second revision.
    edit(db, debrief, supervisor, what_happened="A client spoke about risk of harm.",
         new_actions=[("Follow-up call", TODAY + timedelta(days=1))])
    assert db.scalar(select(func.count()).select_from(RecordRevision)) == 1
    assert len(debrief.actions) == 1
    history = debriefs.history(db, debrief)
    assert [e.kind for e in history] == ["edit"]
    assert {c.field for c in history[0].changes} == {"what_happened", "actions"}
    # Nobody but the author edits.
    with pytest.raises(DebriefError, match="can no longer be edited"):
        edit(db, debrief, supervised, what_happened="Mine now.")


def test_an_edit_is_screened_for_identifying_text_too(db, supervised):
    debrief = start(db, supervised, supervised)
    with pytest.raises(IdentifyingTextFound) as info:
        edit(db, debrief, supervised, how_now="Call me on 07700 900123.",
             new_actions=[("Ask MRN: RX123456", TODAY)])
    assert list(info.value.findings) == ["how_now", "action_1"]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(RecordRevision)) == 0
    edit(db, debrief, supervised, how_now="Call me on 07700 900123.", keep_identifying=True)
    assert debrief.how_now == "Call me on 07700 900123."
    assert debrief.identifying_kept == ["phone"]


def test_after_the_window_a_correction_instead(db, supervised, supervisor):
    debrief = start(db, supervised, supervised)
    debrief.created_at = utcnow() - timedelta(days=8)
    db.commit()
    assert not debriefs.can_edit(db, supervised, debrief, now=utcnow(), window_days=7,
                                 today=TODAY)
    with pytest.raises(DebriefError, match="add a correction"):
        edit(db, debrief, supervised, what_happened="Changed.")
    with pytest.raises(IdentifyingTextFound) as info:
        debriefs.add_correction(db, debrief, supervisor, "Her number is 07700 900123.",
                                today=TODAY)
    assert list(info.value.findings) == ["body"]
    debriefs.add_correction(db, debrief, supervisor, "It was a Tuesday, not a Monday.",
                            today=TODAY)
    debriefs.add_correction(db, debrief, supervised, "Her number is 07700 900123.",
                            keep_identifying=True, today=TODAY)
    db.commit()
    bodies = db.scalars(select(RecordCorrection.body).where(
        RecordCorrection.debrief_id == debrief.id).order_by(RecordCorrection.id)).all()
    assert bodies == ["It was a Tuesday, not a Monday.", "Her number is 07700 900123."]
    assert debrief.identifying_kept == ["phone"]
    assert debrief.what_happened.startswith("A client spoke")  # the text itself is unchanged
    assert [e.kind for e in debriefs.history(db, debrief)] == ["correction", "correction"]


def test_follow_ups_are_marked_by_the_trainee_or_their_current_supervisor(
        db, supervised, supervisor, make_person):
    debrief = start(db, supervisor, supervised, actions=[("Call back", TODAY)])
    action = debrief.actions[0]
    debriefs.set_follow_up_done(db, action, supervised, True, TODAY)
    assert action.done_on == TODAY and action.done_by_id == supervised.id
    debriefs.set_follow_up_done(db, action, supervisor, True, TODAY + timedelta(days=1))
    assert action.done_on == TODAY  # marking twice keeps the first date
    debriefs.set_follow_up_done(db, action, supervisor, False, TODAY)
    assert action.done_on is None and action.done_by_id is None
    with pytest.raises(DebriefError):
        debriefs.set_follow_up_done(db, action, make_person("supervisor"), True, TODAY)


# --- the pages -----------------------------------------------------------------------------


def test_the_trainee_form_says_what_not_to_write_and_what_to_do_first(client_for, supervised):
    page = client_for(supervised).get("/my/debriefs/new").get_data(as_text=True)
    assert "Do not write anything that could identify a client" in page
    assert "follow your programme’s emergency procedure first" in page
    assert "Sam Supervisor" in page  # who will read it
    assert 'name="incident_type"' in page and 'name="action_1_due"' in page


def test_the_warning_flow_end_to_end(db, client_for, supervised):
    client = client_for(supervised)
    data = form_data(what_happened=PHONE_TEXT, action_1="Ring the duty worker",
                     action_1_due=(TODAY + timedelta(days=1)).isoformat())
    response = client.post("/my/debriefs/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert ("Field 'What happened' has something that looks like a phone number: "
            "'07700 900123'") in page
    assert "This looks like a phone number: '07700 900123'" in page  # under the field
    assert "Edit the text" in page and "Keep it as written" in page
    # Every entry is kept: in the form, and in the hidden copy the Keep button sends.
    assert PHONE_TEXT + "</textarea>" in page
    assert 'value="Ring the duty worker"' in page
    assert f'name="what_happened" value="{PHONE_TEXT}"' in page
    assert db.scalar(select(func.count()).select_from(Debrief)) == 0
    response = client.post("/my/debriefs/new", data={**data, "keep_identifying": "1"})
    assert response.status_code == 302
    debrief = db.scalar(select(Debrief))
    assert debrief.what_happened == PHONE_TEXT and debrief.identifying_kept == ["phone"]
    assert response.location.endswith(f"/my/debriefs/{debrief.id}")
    page = client.get(response.location).get_data(as_text=True)
    assert "Your supervisor can read it." in page
    assert "Kept as written after a warning" in page
    assert "Ring the duty worker" in page


def test_a_double_submit_through_the_page_saves_one(db, client_for, supervised):
    client = client_for(supervised)
    first = client.post("/my/debriefs/new", data=form_data())
    second = client.post("/my/debriefs/new", data=form_data())
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    assert db.scalar(select(func.count()).select_from(Debrief)) == 1


def test_a_refused_form_keeps_what_was_typed(db, client_for, supervised):
    response = client_for(supervised).post("/my/debriefs/new", data=form_data(
        incident_type="", incident_on=(TODAY + timedelta(days=2)).isoformat(),
        action_1="Call", what_happened="Kept text here."))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and "Choose the type of incident." in page
    assert "cannot be in the future" in page and "Give the date this follow-up is due." in page
    assert "Kept text here.</textarea>" in page


def test_a_trainee_without_a_supervisor_is_told(db, client_for, trainee):
    client = client_for(trainee)
    assert "no supervisor will see it" in client.get("/my/debriefs/new").get_data(as_text=True)
    response = client.post("/my/debriefs/new", data=form_data(), follow_redirects=True)
    assert "no supervisor will see it until one is assigned" in response.get_data(as_text=True)


def test_the_supervisor_starts_a_debrief_for_a_supervisee(db, client_for, supervised,
                                                          supervisor):
    client = client_for(supervisor)
    url = f"/supervision/people/{supervised.id}/debriefs/new"
    page = client.get(url).get_data(as_text=True)
    assert "Do not write anything that could identify a client" in page
    response = client.post(url, data=form_data(
        action_1="Check in by phone", action_1_due=(TODAY + timedelta(days=2)).isoformat()))
    assert response.status_code == 302
    debrief = db.scalar(select(Debrief))
    assert debrief.started_by_id == supervisor.id and debrief.trainee_id == supervised.id
    page = client.get(response.location).get_data(as_text=True)
    assert "A client described being hurt at home." in page
    assert "Check in by phone" in page and "Edit the debrief" in page
    # The trainee sees it in their list and can open it.
    trainee_client = client_for(supervised)
    listing = trainee_client.get("/my/debriefs").get_data(as_text=True)
    assert "Safeguarding concern" in listing and "Sam Supervisor" in listing
    assert "A client described" not in listing  # the list is no read: no text on it
    assert trainee_client.get(f"/my/debriefs/{debrief.id}").status_code == 200


def test_the_supervisor_form_warns_too(db, client_for, supervised, supervisor):
    response = client_for(supervisor).post(
        f"/supervision/people/{supervised.id}/debriefs/new",
        data=form_data(how_now="Her email is jo@example.org."))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "looks like an email address: 'jo@example.org'" in page
    assert "How is the peer supporter now?" in page


def test_reading_through_the_pages_is_audited_for_others_only(db, client_for, supervised,
                                                              supervisor):
    debrief = start(db, supervised, supervised)
    assert client_for(supervised).get(f"/my/debriefs/{debrief.id}").status_code == 200
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == 0
    before = utcnow()
    page = client_for(supervisor).get(f"/supervision/debriefs/{debrief.id}")
    assert page.status_code == 200 and "ending their life" in page.get_data(as_text=True)
    events = db.scalars(select(AuditEvent)).all()
    assert [(e.actor_id, e.subject_type, e.subject_id, e.person_id) for e in events] == [
        (supervisor.id, "debrief", debrief.id, supervised.id)]
    assert events[0].at >= before - timedelta(seconds=1)


def test_trainers_and_admins_are_refused_every_debrief_route(db, client_for, supervised,
                                                             supervisor, trainer, cohort,
                                                             make_person):
    debrief = start(db, supervised, supervised, actions=[("Call", TODAY)])
    action_id = debrief.actions[0].id
    gets = ["/my/debriefs", "/my/debriefs/new", f"/my/debriefs/{debrief.id}",
            f"/my/debriefs/{debrief.id}/edit", f"/supervision/debriefs/{debrief.id}",
            f"/supervision/debriefs/{debrief.id}/edit",
            f"/supervision/people/{supervised.id}/debriefs/new"]
    posts = ["/my/debriefs/new", f"/my/debriefs/{debrief.id}/corrections",
             f"/my/follow-ups/{action_id}/done", f"/supervision/debriefs/{debrief.id}/edit",
             f"/supervision/debriefs/{debrief.id}/corrections",
             f"/supervision/follow-ups/{action_id}/done",
             f"/supervision/people/{supervised.id}/debriefs/new"]
    for person in (trainer, make_person("admin")):
        client = client_for(person)
        for url in gets:
            assert client.get(url).status_code == 403, url
        for url in posts:
            assert client.post(url, data={"done": "1"}).status_code == 403, url
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_trainers_never_see_debrief_text(db, client_for, supervised, trainer, cohort):
    start(db, supervised, supervised, what_happened="Secret incident words.",
          actions=[("Secret follow-up words", TODAY)])
    client = client_for(trainer)
    for url in (f"/cohorts/{cohort.id}", f"/cohorts/{cohort.id}/grid",
                f"/cohorts/{cohort.id}/grid.csv"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Secret" not in response.get_data(as_text=True), url


def test_another_trainees_debrief_is_not_found(db, client_for, supervised, make_person,
                                               make_cohort):
    debrief = start(db, supervised, supervised, actions=[("Call", TODAY)])
    other = make_person("trainee")
    make_cohort(other)
    client = client_for(other)
    assert client.get(f"/my/debriefs/{debrief.id}").status_code == 404
    assert client.get(f"/my/debriefs/{debrief.id}/edit").status_code == 404
    assert client.post(f"/my/debriefs/{debrief.id}/corrections",
                       data={"body": "x"}).status_code == 404
    assert client.post(f"/my/follow-ups/{debrief.actions[0].id}/done",
                       data={"done": "1"}).status_code == 404
    assert client.get("/my/debriefs/999999").status_code == 404
    assert "ending their life" not in client.get("/my/debriefs").get_data(as_text=True)
    assert db.get(AgreedAction, debrief.actions[0].id).done_on is None


def test_a_supervisor_who_is_not_the_current_one_is_refused(db, client_for, supervised,
                                                            make_person):
    debrief = start(db, supervised, supervised, actions=[("Call", TODAY)])
    stranger = client_for(make_person("supervisor"))
    assert stranger.get(f"/supervision/debriefs/{debrief.id}").status_code == 403
    assert stranger.get(f"/supervision/people/{supervised.id}/debriefs/new").status_code == 403
    assert stranger.post(f"/supervision/debriefs/{debrief.id}/corrections",
                         data={"body": "x"}).status_code == 403
    assert stranger.post(f"/supervision/follow-ups/{debrief.actions[0].id}/done",
                         data={"done": "1"}).status_code == 403
    assert stranger.get("/supervision/debriefs/999999").status_code == 404
    assert stranger.get("/supervision/people/999999/debriefs/new").status_code == 404
    assert stranger.post("/supervision/follow-ups/999999/done").status_code == 404
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_the_old_supervisor_after_a_change(db, client_for, supervised, supervisor,
                                           make_person):
    by_trainee = start(db, supervised, supervised)
    by_supervisor = start(db, supervisor, supervised, what_happened="Written by Sam.",
                          actions=[("Call", TODAY)])
    supervisors.assign(db, supervised, make_person("supervisor"), on=TODAY)
    db.commit()
    client = client_for(supervisor)
    assert client.get(f"/supervision/debriefs/{by_trainee.id}").status_code == 403
    page = client.get(f"/supervision/debriefs/{by_supervisor.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Written by Sam." in text and "no longer your supervisee" in text
    assert "Edit the debrief" not in text and "Add a correction" not in text
    assert "Mark done" not in text
    assert client.get(f"/supervision/debriefs/{by_supervisor.id}/edit").status_code == 302
    assert client.post(f"/supervision/debriefs/{by_supervisor.id}/corrections",
                       data={"body": "Late note"}).status_code == 403
    assert client.post(f"/supervision/follow-ups/{by_supervisor.actions[0].id}/done",
                       data={"done": "1"}).status_code == 403
    assert client.get(f"/supervision/people/{supervised.id}/debriefs/new").status_code == 403


def test_editing_through_the_page_and_after_the_window(db, client_for, supervised):
    debrief = start(db, supervised, supervised)
    client = client_for(supervised)
    url = f"/my/debriefs/{debrief.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "ending their life" in page
    response = client.post(url, data=form_data(
        incident_type="risk_of_harm", what_happened="Edited text.",
        how_now="Shaken but OK.", support_needed="A call tomorrow."))
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Debrief, debrief.id).what_happened == "Edited text."
    page = client.get(f"/my/debriefs/{debrief.id}").get_data(as_text=True)
    assert "What it said before" in page and "ending their life" in page
    debrief = db.get(Debrief, debrief.id)
    debrief.created_at = utcnow() - timedelta(days=8)
    db.commit()
    response = client.get(url)
    assert response.status_code == 302 and response.location.endswith("#correction")
    page = client.get(f"/my/debriefs/{debrief.id}").get_data(as_text=True)
    assert "Add a correction" in page and "Edit the debrief" not in page
    response = client.post(f"/my/debriefs/{debrief.id}/corrections",
                           data={"body": "Her DOB is 12/03/1985."})
    assert response.status_code == 422
    assert "looks like a date of birth: '12/03/1985'" in response.get_data(as_text=True)
    response = client.post(f"/my/debriefs/{debrief.id}/corrections",
                           data={"body": "It happened at the drop-in."})
    assert response.status_code == 302
    assert "It happened at the drop-in." in client.get(response.location).get_data(as_text=True)


@pytest.mark.settings(LMS_RECORD_EDIT_WINDOW_DAYS=0)
def test_the_window_comes_from_config(db, client_for, supervised, supervisor):
    debrief = start(db, supervisor, supervised)
    response = client_for(supervisor).get(f"/supervision/debriefs/{debrief.id}/edit")
    assert response.status_code == 302
    page = client_for(supervisor).get(f"/supervision/debriefs/{debrief.id}")
    assert "Add a correction" in page.get_data(as_text=True)


def test_follow_ups_marked_through_the_pages(db, client_for, supervised, supervisor):
    debrief = start(db, supervised, supervised, actions=[("Call back", TODAY)])
    action_id = debrief.actions[0].id
    response = client_for(supervised).post(f"/my/follow-ups/{action_id}/done",
                                           data={"done": "1"})
    assert response.status_code == 302 and response.location.endswith("#follow-ups")
    db.expire_all()
    assert db.get(AgreedAction, action_id).done_on == TODAY
    client = client_for(supervisor)
    response = client.post(f"/supervision/follow-ups/{action_id}/done", data={"done": "0"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(AgreedAction, action_id).done_on is None
    page = client.get(f"/supervision/debriefs/{debrief.id}").get_data(as_text=True)
    assert re.search(r"Mark done<span class=\"visually-hidden\">: Call back", page)
    # The button is the only "done" the form sends, so it cannot be contradicted.
    form = re.search(r'<form method="post" action="/supervision/follow-ups/\d+/done".*?</form>',
                     page, re.S).group(0)
    assert re.findall(r'name="done" value="(\d)"', form) == ["1"]
    assert form.count('name="done"') == 1


def test_what_was_typed_is_shown_as_text_never_as_markup(db, client_for, supervised):
    client = client_for(supervised)
    typed = '<script>alert(1)</script> "quoted" & 07700 900123'
    page = client.post("/my/debriefs/new", data=form_data(what_happened=typed)
                       ).get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#34;quoted&#34; &amp; 07700 900123" in page
    response = client.post("/my/debriefs/new", data=form_data(what_happened=typed,
                                                              keep_identifying="1"))
    page = client.get(response.location).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def hidden_inputs(html: str) -> list[tuple[str, str]]:
    import html as html_module

    return [(name, html_module.unescape(value)) for name, value in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)]


@pytest.mark.settings(WTF_CSRF_ENABLED=True)
def test_keep_it_as_written_sends_what_was_checked_with_a_token(db, app, supervised):
    """As a browser would: the small form in the warning carries every entry and a token."""
    from tests.factories import PASSWORD

    def token(page: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"email": supervised.email, "password": PASSWORD,
                                       "csrf_token": token(login)}).status_code == 302
    csrf = token(client.get("/my/debriefs/new").get_data(as_text=True))
    text = "Line one.\nShe said her DOB is 12/03/1985."
    response = client.post("/my/debriefs/new", data=form_data(csrf_token=csrf,
                                                              what_happened=text))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    keep_form = re.search(r"<form method=\"post\">(.*?)</form>", page, re.S).group(1)
    fields = dict(hidden_inputs(keep_form))
    assert fields["what_happened"] == text and fields["csrf_token"]
    assert 'name="keep_identifying" value="1"' in keep_form
    response = client.post("/my/debriefs/new", data={**fields, "keep_identifying": "1"})
    assert response.status_code == 302
    debrief = db.scalar(select(Debrief))
    assert debrief.what_happened == text and debrief.identifying_kept == ["date_of_birth"]


def test_my_supervision_leads_to_starting_a_debrief(client_for, supervised):
    page = client_for(supervised).get("/my/supervision").get_data(as_text=True)
    assert 'href="/my/debriefs/new"' in page and 'href="/my/debriefs"' in page
