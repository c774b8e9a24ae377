"""Self-care check-ins: the rules (validation, double submits, when one is due, the chart, what
staff may see, the audit of note reads) and the trainee's pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from lms.models import AuditEvent, CheckIn
from lms.models._types import utcnow
from lms.services import audit, check_ins, supervisors
from lms.services.check_ins import DUE, ITEM_KEYS, ITEMS, NOT_YET, OVERDUE, CheckInError
from lms.services.errors import ServiceError

GOOD = {"mood": 4, "calm": 3, "manageable": 2, "sleep": 5, "supported": 1}
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def record(db, person, scores=None, note="", wants_to_talk=False, now=NOW):
    found = check_ins.record_check_in(db, person, scores=dict(scores or GOOD), note=note,
                                      wants_to_talk=wants_to_talk, now=now)
    db.commit()
    return found


def form_data(scores=None, **extra):
    data = {key: str(value) for key, value in (scores or GOOD).items()}
    data.update(extra)
    return data


@pytest.fixture
def supervisor(make_person):
    return make_person("supervisor", name="Sam Supervisor")


def supervise(db, supervisor, trainee, on=None):
    supervisors.assign(db, trainee, supervisor, on=on or utcnow().date() - timedelta(days=60))
    db.commit()


# --- the items -----------------------------------------------------------------------------


def test_five_items_each_a_check_in_column_with_words_for_both_ends():
    assert ITEM_KEYS == ("mood", "calm", "manageable", "sleep", "supported")
    for item in ITEMS:
        assert hasattr(CheckIn, item.key)
        assert str(item.question).endswith("?") and str(item.low) and str(item.high)
    # Stress and workload are asked the way round where 5 is good.
    by_key = {item.key: item for item in ITEMS}
    assert str(by_key["calm"].question) == "How calm do you feel?"
    assert str(by_key["manageable"].question) == "How manageable is your workload?"


# --- recording: validation -------------------------------------------------------------------


@pytest.mark.parametrize("key", ITEM_KEYS)
@pytest.mark.parametrize("bad", ["missing", 0, 6, "3", "x", None, True, 2.5])
def test_each_item_must_be_a_whole_number_from_1_to_5(db, trainee, key, bad):
    scores = dict(GOOD)
    if bad == "missing":
        del scores[key]
    else:
        scores[key] = bad
    with pytest.raises(CheckInError) as info:
        check_ins.record_check_in(db, trainee, scores=scores, note="", wants_to_talk=False)
    assert isinstance(info.value, ServiceError)
    assert set(info.value.problems) == {key}
    assert "1 to 5" in info.value.problems[key]
    assert db.scalar(select(func.count(CheckIn.id))) == 0


def test_every_problem_is_named_at_once(db, trainee):
    scores = {"mood": 0, "calm": 3, "sleep": 9, "supported": 1}  # manageable missing
    with pytest.raises(CheckInError) as info:
        check_ins.record_check_in(db, trainee, scores=scores, note="n" * 2001,
                                  wants_to_talk=False)
    assert set(info.value.problems) == {"mood", "manageable", "sleep", "note"}
    assert "2000" in info.value.problems["note"]


def test_an_unknown_item_is_refused_not_dropped(db, trainee):
    with pytest.raises(CheckInError) as info:
        check_ins.record_check_in(db, trainee, scores={**GOOD, "stress": 2}, note="",
                                  wants_to_talk=False)
    assert list(info.value.problems) == [None] and "reload" in info.value.message


def test_note_up_to_2000_characters(db, trainee):
    kept = record(db, trainee, note="  " + "n" * 2000 + "\r\n")
    assert kept.note == "n" * 2000
    with pytest.raises(CheckInError) as info:
        check_ins.record_check_in(db, trainee, scores=GOOD, note="n" * 2001,
                                  wants_to_talk=False, now=NOW + timedelta(hours=1))
    assert set(info.value.problems) == {"note"}


def test_only_trainees_check_in(db, make_person):
    for role in ("trainer", "supervisor", "admin"):
        with pytest.raises(CheckInError):
            check_ins.record_check_in(db, make_person(role), scores=GOOD, note="",
                                      wants_to_talk=False)
    assert db.scalar(select(func.count(CheckIn.id))) == 0


def test_a_check_in_keeps_every_figure_the_note_and_the_wish_to_talk(db, trainee):
    saved = record(db, trainee, note="Busy week.\nSleeping badly.", wants_to_talk=True)
    db.expire_all()
    again = db.get(CheckIn, saved.id)
    assert check_ins.scores_of(again) == GOOD
    assert again.note == "Busy week.\nSleeping badly." and again.wants_to_talk is True
    assert again.trainee_id == trainee.id and again.at == NOW


# --- recording: a double submit --------------------------------------------------------------


def test_the_same_check_in_twice_within_two_minutes_is_one(db, trainee):
    first = record(db, trainee, note="Tired", wants_to_talk=True)
    second = record(db, trainee, note="Tired", wants_to_talk=True,
                    now=NOW + timedelta(seconds=90))
    assert second.id == first.id
    assert db.scalar(select(func.count(CheckIn.id))) == 1


def test_a_different_or_later_check_in_is_a_new_one(db, trainee):
    first = record(db, trainee)
    changed = record(db, trainee, scores={**GOOD, "mood": 1}, now=NOW + timedelta(seconds=30))
    later = record(db, trainee, scores={**GOOD, "mood": 1}, now=NOW + timedelta(minutes=3))
    assert len({first.id, changed.id, later.id}) == 3


def test_another_trainees_identical_check_in_is_their_own(db, trainee, make_person):
    other = make_person("trainee")
    assert record(db, trainee).id != record(db, other).id


# --- history ---------------------------------------------------------------------------------


def test_history_is_newest_first_and_only_the_trainees(db, trainee, make_person):
    other = make_person("trainee")
    record(db, other, note="not yours")
    made = [record(db, trainee, scores={**GOOD, "mood": n}, now=NOW + timedelta(days=n))
            for n in (1, 3, 2)]
    found = check_ins.history(db, trainee.id)
    assert [c.id for c in found] == [made[1].id, made[2].id, made[0].id]
    assert [c.id for c in check_ins.history(db, trainee.id, limit=2)] == [made[1].id,
                                                                         made[2].id]


# --- when the next check-in is due -----------------------------------------------------------


def test_never_checked_in_is_due_today(db, trainee):
    state = check_ins.next_due(db, trainee.id, every_days=7, today=date(2026, 12, 3),
                               zone="UTC")
    assert (state.state, state.due_on, state.last_on) == (DUE, date(2026, 12, 3), None)
    assert state.is_due


@pytest.mark.parametrize(("today", "state", "due_on"), [
    (date(2026, 12, 5), NOT_YET, date(2026, 12, 10)),
    (date(2026, 12, 9), NOT_YET, date(2026, 12, 10)),
    (date(2026, 12, 10), DUE, date(2026, 12, 10)),
    (date(2026, 12, 11), OVERDUE, date(2026, 12, 10)),
    (date(2027, 1, 20), OVERDUE, date(2026, 12, 10)),
])
def test_due_every_n_days_after_the_last(db, trainee, today, state, due_on):
    record(db, trainee, now=NOW - timedelta(days=30))
    record(db, trainee, scores={**GOOD, "sleep": 1})  # 3 Dec, the latest
    found = check_ins.next_due(db, trainee.id, every_days=7, today=today, zone="UTC")
    assert (found.state, found.due_on, found.last_on) == (state, due_on, date(2026, 12, 3))
    assert found.is_due == (state != NOT_YET)


def test_the_day_of_a_check_in_is_the_day_in_the_programmes_zone(db, trainee):
    # 23:30 UTC on 1 March is already 2 March in Nairobi (UTC+3).
    record(db, trainee, now=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    in_utc = check_ins.next_due(db, trainee.id, every_days=1, today=date(2026, 3, 2),
                                zone="UTC")
    in_nairobi = check_ins.next_due(db, trainee.id, every_days=1, today=date(2026, 3, 2),
                                    zone="Africa/Nairobi")
    assert (in_utc.state, in_utc.last_on) == (DUE, date(2026, 3, 1))
    assert (in_nairobi.state, in_nairobi.due_on, in_nairobi.last_on) == (
        NOT_YET, date(2026, 3, 3), date(2026, 3, 2))


def test_due_after_a_known_instant_agrees_with_next_due(db, trainee):
    at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    record(db, trainee, now=at)
    for zone in ("UTC", "Africa/Nairobi"):
        from_instant = check_ins.due_after(at, every_days=1, today=date(2026, 3, 2), zone=zone)
        assert from_instant == check_ins.next_due(db, trainee.id, every_days=1,
                                                  today=date(2026, 3, 2), zone=zone)
    assert check_ins.due_after(at, every_days=1, today=date(2026, 3, 2),
                               zone="Africa/Nairobi").state == NOT_YET
    never = check_ins.due_after(None, every_days=7, today=date(2026, 3, 2), zone="UTC")
    assert (never.state, never.due_on, never.last_on) == (DUE, date(2026, 3, 2), None)


# --- the chart -------------------------------------------------------------------------------


def test_no_chart_without_check_ins():
    assert check_ins.chart_points([]) is None


def make(at, **scores):
    return CheckIn(id=None, trainee_id=1, at=at, note="", wants_to_talk=False,
                   **{**GOOD, **scores})


def test_chart_points_oldest_left_spaced_by_time_5_at_the_top():
    points = [make(NOW + timedelta(days=14), mood=5), make(NOW, mood=1),
              make(NOW + timedelta(days=7), mood=3)]  # any order in
    chart = check_ins.chart_points(points)
    mood = chart.panels[0]
    assert [p.value for p in mood.points] == [1, 3, 5]
    xs = [p.x for p in mood.points]
    assert xs == [chart.left, (chart.left + chart.right) / 2, chart.right]
    assert mood.points[2].y == mood.y_high < mood.points[1].y == mood.y_mid < \
        mood.points[0].y == mood.y_low
    assert [p.low for p in mood.points] == [True, False, False]
    assert mood.polyline == " ".join(f"{p.x:g},{p.y:g}" for p in mood.points)
    assert mood.latest == 5
    # One panel per item, one under the other, all inside the picture.
    assert [p.key for p in chart.panels] == list(ITEM_KEYS)
    tops = [p.top for p in chart.panels]
    assert tops == sorted(tops) and len(set(tops)) == 5
    assert all(0 <= p.y <= chart.height and 0 <= p.x <= chart.width
               for panel in chart.panels for p in panel.points)
    # The table's rows: oldest first, the same figures as the points.
    assert [r.on for r in chart.rows] == [date(2026, 12, 3), date(2026, 12, 10),
                                          date(2026, 12, 17)]
    for index, panel in enumerate(chart.panels):
        assert [p.value for p in panel.points] == [r.values[index] for r in chart.rows]


def test_a_single_check_in_is_one_point_at_the_right():
    chart = check_ins.chart_points([make(NOW)])
    assert all(len(p.points) == 1 and p.points[0].x == chart.right for p in chart.panels)
    assert chart.first_on == chart.last_on == date(2026, 12, 3)


def test_chart_days_are_in_the_zone_given():
    chart = check_ins.chart_points([make(datetime(2026, 3, 1, 23, 30, tzinfo=UTC))],
                                   zone="Africa/Nairobi")
    assert chart.rows[0].on == date(2026, 3, 2)


# --- what staff may see, and the audit of note reads -----------------------------------------


def test_staff_see_only_the_day_of_the_last_check_in(db, trainee, make_person,
                                                     count_queries):
    quiet = make_person("trainee")
    other = make_person("trainee")
    record(db, trainee, now=NOW - timedelta(days=9))
    record(db, trainee, note="private", now=NOW)
    record(db, other, now=datetime(2026, 11, 30, 22, 0, tzinfo=UTC))
    with count_queries() as statements:
        found = check_ins.last_check_in_dates(db, [trainee.id, quiet.id, other.id],
                                              "Africa/Nairobi")
    assert len(statements) == 1
    assert found == {trainee.id: date(2026, 12, 3), other.id: date(2026, 12, 1)}
    assert all(type(value) is date for value in found.values())  # nothing else to leak
    assert check_ins.last_check_in_dates(db, [], "UTC") == {}


def test_note_reads_by_others_are_logged_once_per_note_shown(db, trainee, supervisor):
    with_note = record(db, trainee, note="Hard week", now=NOW)
    record(db, trainee, note="", now=NOW + timedelta(days=7))
    other_note = record(db, trainee, note="Better", now=NOW + timedelta(days=14))
    shown = check_ins.history(db, trainee.id)
    assert check_ins.log_note_reads(db, supervisor.id, shown) == 2
    db.commit()
    events = db.scalars(select(AuditEvent).order_by(AuditEvent.subject_id)).all()
    assert [(e.actor_id, e.action, e.subject_type, e.subject_id, e.person_id)
            for e in events] == [
        (supervisor.id, audit.READ, audit.CHECK_IN_NOTE, with_note.id, trainee.id),
        (supervisor.id, audit.READ, audit.CHECK_IN_NOTE, other_note.id, trainee.id)]


def test_the_trainee_reading_their_own_notes_is_not_logged(db, trainee):
    record(db, trainee, note="Mine")
    assert check_ins.log_note_reads(db, trainee.id, check_ins.history(db, trainee.id)) == 0
    db.commit()
    assert db.scalar(select(func.count(AuditEvent.id))) == 0


def test_only_the_current_supervisor_gets_the_check_ins(db, trainee, supervisor,
                                                        make_person):
    record(db, trainee, note="For my supervisor")
    today = utcnow().date()
    with pytest.raises(CheckInError):
        check_ins.for_supervisor(db, supervisor.id, trainee.id, today)
    supervise(db, supervisor, trainee)
    assert [c.note for c in check_ins.for_supervisor(db, supervisor.id, trainee.id,
                                                     today)] == ["For my supervisor"]
    # A new supervisor from today: the old one sees nothing from today on.
    newcomer = make_person("supervisor")
    supervisors.assign(db, trainee, newcomer, on=today)
    db.commit()
    with pytest.raises(CheckInError):
        check_ins.for_supervisor(db, supervisor.id, trainee.id, today)
    assert len(check_ins.for_supervisor(db, newcomer.id, trainee.id, today)) == 1


# --- the pages -------------------------------------------------------------------------------


def test_the_form_asks_five_questions_with_five_choices_each(db, trainee, client_for):
    html = client_for(trainee).get("/my/check-in").get_data(as_text=True)
    assert html.count('<fieldset class="field scale') == 5
    for item in ITEMS:
        assert f"<legend>{item.question}</legend>" in html
        assert str(item.low) in html and str(item.high) in html
        for value in range(1, 6):
            assert re.search(rf'name="{item.key}" value="{value}"', html)
    assert html.count('type="radio"') == 25
    assert 'name="note"' in html and 'name="wants_to_talk"' in html
    assert "I would like to talk to my supervisor" in html


def test_a_check_in_is_saved_and_the_trainee_thanked(db, trainee, client_for):
    client = client_for(trainee)
    response = client.post("/my/check-in", data=form_data(note="All fine"))
    assert response.status_code == 302 and response.location.endswith("/my/check-ins")
    html = client.get(response.location).get_data(as_text=True)
    assert "Thank you. Your check-in is saved." in html
    assert "would like to talk" not in html
    saved = db.scalar(select(CheckIn))
    assert check_ins.scores_of(saved) == GOOD and saved.note == "All fine"
    assert saved.trainee_id == trainee.id and not saved.wants_to_talk


def test_asking_to_talk_says_who_will_see_it(db, trainee, supervisor, client_for):
    client = client_for(trainee)
    html = client.post("/my/check-in", data=form_data(wants_to_talk="y"),
                       follow_redirects=True).get_data(as_text=True)
    assert "You have no supervisor at the moment; speak to your trainer." in html
    supervise(db, supervisor, trainee)
    html = client.post("/my/check-in", data=form_data({**GOOD, "mood": 2}, wants_to_talk="y"),
                       follow_redirects=True).get_data(as_text=True)
    assert "Your supervisor will see that you would like to talk." in html
    assert "no supervisor" not in html
    assert db.scalar(select(func.count(CheckIn.id)).where(CheckIn.wants_to_talk)) == 2


def test_a_refused_form_shows_every_problem_and_keeps_the_answers(db, trainee, client_for):
    data = form_data({"calm": 0, "manageable": 6, "sleep": "x", "supported": 4},
                     note="<b>kept</b>", wants_to_talk="y")
    response = client_for(trainee).post("/my/check-in", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html
    for key in ("mood", "calm", "manageable", "sleep"):
        assert f'<a href="#{key}">' in html
    assert html.count("Choose a number from 1 to 5.") == 8  # summary and field, four times
    assert re.search(r'name="supported" value="4" checked', html)
    assert "&lt;b&gt;kept&lt;/b&gt;" in html
    [talk] = re.findall(r'<input[^>]*name="wants_to_talk"[^>]*>', html)
    assert "checked" in talk
    assert db.scalar(select(func.count(CheckIn.id))) == 0


def test_a_note_too_long_is_refused_on_the_form(db, trainee, client_for):
    response = client_for(trainee).post("/my/check-in", data=form_data(note="n" * 2001))
    assert response.status_code == 422
    assert "Keep your note to 2000 characters or fewer." in response.get_data(as_text=True)
    assert db.scalar(select(func.count(CheckIn.id))) == 0


def test_the_same_post_twice_saves_one_check_in(db, trainee, client_for):
    client = client_for(trainee)
    first = client.post("/my/check-in", data=form_data(note="Once"))
    second = client.post("/my/check-in", data=form_data(note="Once"))
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    assert db.scalar(select(func.count(CheckIn.id))) == 1


def test_history_shows_the_chart_the_table_with_the_same_figures_and_the_notes(
        db, trainee, client_for):
    record(db, trainee, scores={"mood": 2, "calm": 3, "manageable": 4, "sleep": 5,
                                "supported": 1}, note="First\nweek",
           now=utcnow() - timedelta(days=8))
    record(db, trainee, scores={"mood": 5, "calm": 4, "manageable": 3, "sleep": 2,
                                "supported": 1}, wants_to_talk=True, now=utcnow())
    html = client_for(trainee).get("/my/check-ins").get_data(as_text=True)
    [svg] = re.findall(r"<svg[^>]*>", html)
    assert 'role="img"' in svg
    label = re.search(r'aria-label="([^"]+)"', svg).group(1)
    assert label.startswith("2 check-ins from ")
    assert "Latest: Mood 5, Calm 4, Workload 3, Sleep 2, Support 1" in label
    assert html.count("<polyline") == 5 and html.count("<circle") == 10
    table = html[html.index("<table"):html.index("</table>")]
    rows = re.findall(r"<tr><th scope=\"row\">[^<]+</th>(.*?)</tr>", table)
    assert [re.findall(r">(\d)</td>", row) for row in rows] == [
        ["5", "4", "3", "2", "1"], ["2", "3", "4", "5", "1"]]  # newest first
    assert "First\nweek" in html and 'class="check-in-note"' in html
    assert "You asked to talk to your supervisor" in html
    assert "Due on" in html


def test_history_without_check_ins_invites_the_first(db, trainee, client_for):
    html = client_for(trainee).get("/my/check-ins").get_data(as_text=True)
    assert "You have not checked in yet." in html and "<svg" not in html
    assert "Due today." in html


def test_a_trainee_sees_only_their_own_check_ins(db, trainee, make_person, make_cohort,
                                                 client_for):
    other = make_person("trainee")
    make_cohort(other)
    record(db, other, scores={k: 1 for k in ITEM_KEYS}, note="Other person's secret")
    html = client_for(trainee).get("/my/check-ins").get_data(as_text=True)
    assert "secret" not in html and "<svg" not in html
    assert "You have not checked in yet." in html


def test_a_note_is_escaped_text(db, trainee, client_for):
    record(db, trainee, note='<script>alert("x")</script>')
    html = client_for(trainee).get("/my/check-ins").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


@pytest.mark.parametrize("role", ["trainer", "supervisor", "admin"])
def test_staff_are_refused_the_check_in_pages(db, make_person, client_for, role):
    client = client_for(make_person(role))
    assert client.get("/my/check-in").status_code == 403
    assert client.post("/my/check-in", data=form_data()).status_code == 403
    assert client.get("/my/check-ins").status_code == 403
    assert db.scalar(select(func.count(CheckIn.id))) == 0


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in ("/my/check-in", "/my/check-ins"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.location


# --- the dashboard's reminder ----------------------------------------------------------------


def test_dashboard_reminds_when_a_check_in_is_due(db, trainee, client_for):
    client = client_for(trainee)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Self-care check-in" in html and "Due today." in html
    assert 'check-in-due is-due' in html and 'href="/my/check-in"' in html
    record(db, trainee, now=utcnow() - timedelta(days=10))
    html = client.get("/dashboard").get_data(as_text=True)
    overdue_since = (utcnow() - timedelta(days=3)).date()
    assert "Overdue since" in html and "is-due" in html
    assert str(overdue_since.year) in html


def test_dashboard_does_not_nag_after_a_recent_check_in(db, trainee, client_for):
    record(db, trainee, now=utcnow() - timedelta(days=1))
    html = client_for(trainee).get("/dashboard").get_data(as_text=True)
    assert "Due on" in html
    assert "Due today." not in html and "Overdue" not in html and "is-due" not in html


@pytest.mark.settings(LMS_CHECK_IN_EVERY_DAYS=2)
def test_the_frequency_comes_from_config_when_the_curriculum_sets_none(db, trainee,
                                                                        client_for):
    record(db, trainee, now=utcnow() - timedelta(days=3))
    assert "Overdue since" in client_for(trainee).get("/dashboard").get_data(as_text=True)


def test_the_frequency_comes_from_the_curriculum(db, trainee, content, client_for):
    content.check_in_every_days = 2
    db.commit()
    record(db, trainee, now=utcnow() - timedelta(days=3))
    html = client_for(trainee).get("/my/check-ins").get_data(as_text=True)
    assert "Overdue since" in html and "You check in every 2 days." in html


def test_the_nav_links_to_my_check_ins(db, trainee, client_for):
    html = client_for(trainee).get("/my/check-in").get_data(as_text=True)
    assert re.search(r'<a href="/my/check-ins" aria-current="[^"]+">My check-ins</a>', html)


def test_the_dashboards_reminder_needs_no_query_of_its_own(db, trainee, client_for,
                                                           count_queries):
    client = client_for(trainee)
    client.get("/dashboard")
    with count_queries() as statements:
        assert "Due today." in client.get("/dashboard").get_data(as_text=True)
    # The last check-in (and whether a join request waits) came with the log-in session.
    assert not [s for s in statements
                if "lms_login_session" not in s and ("lms_check_in" in s
                                                     or "lms_join_request" in s)]
    # Read afresh on every request: a check-in made since shows on the next page.
    record(db, trainee, now=utcnow() - timedelta(days=1))
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Due on" in html and "Due today." not in html
