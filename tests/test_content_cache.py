"""The content cache: content is read once per process and read again as soon as it changes."""

from __future__ import annotations

from sqlalchemy import select

from lms.database import Database
from lms.models import ContentRevision, Module, Question
from lms.services import progress
from lms.services.content_cache import content, json_copy


def stamp(session) -> str:
    return session.scalar(select(ContentRevision.stamp))


def test_a_page_reads_content_once_then_only_the_stamp(trainee, client, login, count_queries):
    login(trainee)
    client.get("/dashboard")
    with count_queries() as statements:
        assert client.get("/dashboard").status_code == 200
    content_reads = [s for s in statements if "FROM lms_module " in s or "FROM lms_curriculum" in s
                     or "FROM lms_standards_policy" in s or "FROM lms_quiz_version" in s]
    assert content_reads == []
    assert sum("FROM lms_content_revision" in s for s in statements) == 1


def test_a_changed_title_shows_on_the_next_page(trainee, client, login, db, module):
    login(trainee)
    assert "Intro to listening" not in client.get("/dashboard").get_data(as_text=True)
    before = stamp(db)
    first = module("listening")
    first.title = "Intro to listening"
    db.commit()
    assert stamp(db) != before
    assert "Intro to listening" in client.get("/dashboard").get_data(as_text=True)


def in_another_process(app, change) -> None:
    """``change(session)`` committed through a second engine on the same database, which
    stands for another worker process."""
    other = Database(app.config["LMS_DATABASE_URI"])
    try:
        with other.session() as session:
            change(session)
            session.commit()
    finally:
        other.dispose()


def test_another_process_changing_content_is_seen(app, trainee, client, login, db, module):
    login(trainee)
    client.get("/dashboard")

    def retitle(session):
        session.scalar(select(Module).where(Module.slug == "listening")).title = \
            "Changed by another worker"

    in_another_process(app, retitle)
    assert "Changed by another worker" in client.get("/dashboard").get_data(as_text=True)


def test_a_change_rolled_back_leaves_the_stamp_and_the_content(db, module, trainee):
    before = stamp(db)
    first = module("listening")
    old_title = first.title
    first.title = "Never kept"
    db.flush()
    assert stamp(db) != before  # moved inside the transaction...
    db.rollback()
    assert stamp(db) == before  # ...and back with it
    titles = [m.title for m in content(db).live_modules([first.curriculum_id])]
    assert old_title in titles and "Never kept" not in titles


def test_objects_are_the_sessions_own_and_load_what_the_cache_left_out(db, module, trainee):
    known = content(db)
    cached = known.module("listening")
    assert cached in db  # merged into this session, not shared
    assert cached is known.module("listening")  # once per session
    assert cached.body_html == module("listening").body_html  # the text loads when read
    assert cached.curriculum.slug == "mini"


def test_two_databases_in_one_process_never_share_content(app_config, tmp_path, monkeypatch,
                                                          trainee, db):
    """Apps on different databases (tests, host apps with two lms) keep separate caches."""
    from lms import create_app
    from lms.models import Curriculum

    first_titles = {c.title for c in content(db).curricula(
        db.scalars(select(Curriculum.id)).all())}
    config = dict(app_config)
    config["LMS_DATABASE_URI"] = f"sqlite:///{tmp_path}/second.sqlite3"
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "second"))
    if not app_config["LMS_DATABASE_URI"].startswith("sqlite"):
        return  # one PostgreSQL database per run: the stamp test above covers it
    second = create_app(config)
    state = second.extensions["lms"]
    state.db.create_all()
    try:
        with state.db.session() as session:
            assert content(session).curricula([1]) == []
            assert stamp(session) != stamp(db)
    finally:
        state.db.dispose()
    assert first_titles


def test_trainee_progress_uses_no_content_query_when_cached(db, trainee, count_queries):
    progress.trainee_progress(db, trainee.id)
    db.commit()  # a new transaction reads the stamp again
    with count_queries() as statements:
        result = progress.trainee_progress(db, trainee.id)
    assert result and result[0].modules
    assert not [s for s in statements if "FROM lms_module " in s]


def test_a_module_another_process_adds_is_seen(app, trainee, client, login, db, module):
    login(trainee)
    client.get("/dashboard")

    def add(session):
        first = session.scalar(select(Module).where(Module.slug == "listening"))
        session.add(Module(curriculum_id=first.curriculum_id, slug="added-later", position=99,
                           title="Added by another worker", kind="core", estimated_minutes=5,
                           objectives=[], body_html="<p>x</p>", content_hash="x"))

    in_another_process(app, add)
    assert "Added by another worker" in client.get("/dashboard").get_data(as_text=True)


def test_what_the_session_holds_is_never_overwritten(db, module, trainee):
    """A change not yet flushed (or a fresher read) wins over the cached copy."""
    content(db)
    db.commit()
    held = module("listening")
    with db.no_autoflush:
        held.title = "Edited, not flushed"
        assert content(db).module("listening") is held
        assert held.title == "Edited, not flushed"
    db.commit()
    db.expire_all()
    assert module("listening").title == "Edited, not flushed"


def test_json_values_are_not_shared_between_sessions(app, db, module, trainee):
    first = content(db).module("listening")
    with app.extensions["lms"].db.session() as other:
        second = content(other).module("listening")
        assert second.objectives == first.objectives
        assert second.objectives is not first.objectives
        second.objectives.append({"id": "x", "text": "only in this session"})
    assert {"id": "x", "text": "only in this session"} not in content(db).module(
        "listening").objectives


def test_question_counts_are_read_with_the_content_and_a_new_version_is_counted(
        db, module, count_queries):
    from lms.models import Question, QuizVersion

    quiz = module("listening").quiz
    version = quiz.current_version
    content(db)  # read once per process
    with count_queries() as statements:
        counted = content(db).question_count(version)
    assert not [s for s in statements if "lms_question" in s]  # counted with the content
    assert counted == len(version.questions) == 4
    # A version this process has not counted yet (synced since it read the content): its
    # questions are loaded and counted.
    newer = QuizVersion(quiz_id=quiz.id, number=99, content_hash="x" * 64, pass_mark=80,
                        attempts_allowed=3, retake_wait_minutes=0, shuffle=False,
                        review="always")
    db.add(newer)
    db.flush()
    db.add(Question(quiz_version_id=newer.id, key="only", position=0, type="true_false",
                    objective="", prompt_html="<p>Only one</p>", options=[], correct=["true"],
                    rationale_html=""))
    db.flush()
    assert content(db).question_count(newer) == 1


def test_a_modules_anchors_are_found_once_and_again_after_its_text_changes(db, module,
                                                                           count_queries):
    listening = module("listening")
    db.commit()
    first = content(db).anchors(listening)
    db.commit()  # a new transaction: the content is the process's, the stamp unchanged
    with count_queries() as statements:
        assert content(db).anchors(content(db).module("listening")) == first
    assert not [s for s in statements if "body_html" in s]
    listening = module("listening")
    listening.body_html += '<h2 id="c-added">Added</h2>'
    db.commit()  # a content change moves the stamp
    assert content(db).anchors(content(db).module("listening")) == first | {"c-added"}


def test_a_modules_text_is_read_once_and_again_after_it_changes(trainee, client, login, db,
                                                               module, count_queries):
    login(trainee)
    assert "Listen with care." in client.get("/modules/listening").get_data(as_text=True)
    with count_queries() as statements:
        page = client.get("/modules/listening").get_data(as_text=True)
    assert "Listen with care." in page
    assert not [s for s in statements if "body_html" in s]
    listening = module("listening")
    listening.body_html = listening.body_html.replace("Listen with care.", "Listen kindly.")
    db.commit()  # a content change moves the stamp
    page = client.get("/modules/listening").get_data(as_text=True)
    assert "Listen kindly." in page and "Listen with care." not in page


def test_a_text_is_never_set_over_one_the_session_has_loaded(db, module, count_queries):
    # Kept text goes only where the session's copy has none loaded: a copy that has its text
    # (read, or changed and not yet committed) keeps it.
    listening = content(db).module("listening")
    content(db).with_body(listening)
    db.commit()
    fresh = content(db).module("listening")
    fresh.body_html = "<p>Changed, not committed</p>"  # loaded now, as far as the ORM knows
    with count_queries() as statements:
        assert content(db).with_body(fresh).body_html == "<p>Changed, not committed</p>"
    assert statements == []
    db.rollback()
    assert "Changed, not committed" not in content(db).with_body(
        content(db).module("listening")).body_html


def test_a_json_copy_equals_the_value_and_shares_nothing_mutable():
    value = {"minimum": 80, "ratio": 0.5, "on": True, "none": None,
             "rules": [{"key": "a", "ids": [1, 2]}, "text"], "nested": {"deep": {"x": []}}}
    copied = json_copy(value)
    assert copied == value
    copied["rules"][0]["ids"].append(3)
    copied["nested"]["deep"]["x"].append(1)
    assert value["rules"][0]["ids"] == [1, 2] and value["nested"]["deep"]["x"] == []
    odd = {"a tuple": (1, [2])}  # not JSON: left to deepcopy, still a copy
    assert json_copy(odd) == odd and json_copy(odd)["a tuple"][1] is not odd["a tuple"][1]


def test_a_versions_questions_are_read_once_and_are_the_sessions_own(app, db, module,
                                                                      count_queries):
    version_id = module("listening").quiz.current_version_id
    in_order = list(db.scalars(select(Question.key).where(Question.quiz_version_id == version_id)
                               .order_by(Question.position)))
    db.commit()
    version = content(db).module("listening").quiz.current_version
    assert [q.key for q in content(db).with_questions(version).questions] == in_order
    db.commit()  # a new transaction: the version is a fresh copy, its questions not loaded
    again = content(db).module("listening").quiz.current_version
    with count_queries() as statements:
        questions = content(db).with_questions(again).questions
    assert [q.key for q in questions] == in_order and statements == []
    assert all(q in db for q in questions)
    # A JSON value changed in one session is that session's alone.
    questions[0].options.append({"id": "zz", "html": "Added"})
    with app.extensions["lms"].db.session() as other:
        theirs = content(other).with_questions(
            content(other).module("listening").quiz.current_version).questions
        assert {"id": "zz", "html": "Added"} not in theirs[0].options
        assert theirs[0] in other and theirs[0] not in db
