"""lms import-gift: reading Moodle GIFT, converting it to a quiz file, the loader's check and
the command. The fixtures are in tests/content/gift/; tests name their lines."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
import yaml

from lms.cli import lms_group
from lms.content.gift import (
    GiftImportError,
    GiftText,
    category_segments,
    check_with_loader,
    convert,
    find_module,
    import_gift,
    parse_gift,
    read_gift,
    to_markdown,
)
from lms.content.loader import ContentError, load_content
from lms.content.markdown import render_inline_markdown, render_markdown
from tests.conftest import ROOT, TEST_CONTENT

GIFT = TEST_CONTENT / "gift"
EVERY = GIFT / "every-construct.gift"
SIMPLE = GIFT / "simple.gift"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the test content (curricula/ and quizzes/) that a test may write into."""
    for name in ("curricula", "quizzes"):
        shutil.copytree(TEST_CONTENT / name, tmp_path / "content" / name)
    return tmp_path / "content"


def module(name: str):
    return find_module(TEST_CONTENT / "curricula", name)[0]


def syntax_errors(text: str) -> list[str]:
    with pytest.raises(ContentError) as info:
        parse_gift(text, "t.gift")
    return [str(p) for p in info.value.problems]


def by_line(questions) -> dict[int, object]:
    return {q.line: q for q in questions}


def shown(markdown: str, inline: bool = False) -> str:
    """What a trainee reads: the rendered HTML's text."""
    rendered = render_inline_markdown(markdown) if inline else render_markdown(markdown)
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


# --- reading GIFT ------------------------------------------------------------------------------


def test_every_construct_file_reads_each_question_as_moodle_does():
    questions = by_line(read_gift(EVERY).questions)
    kinds = {line: q.kind for line, q in questions.items()}
    assert kinds == {
        8: "choice", 16: "choice", 25: "choice", 27: "true_false", 29: "true_false",
        31: "true_false", 33: "choice", 35: "choice", 42: "choice", 44: "choice", 46: "choice",
        48: "choice", 53: "choice", 55: "choice", 57: "choice", 62: "choice", 64: "choice",
        66: "choice", 68: "short_answer", 70: "short_answer", 72: "numerical",
        74: "numerical", 76: "numerical", 78: "matching", 84: "essay", 86: "essay",
        88: "description", 90: "choice", 94: "choice", 96: "choice", 101: "choice",
        103: "choice",
    }
    first = questions[8]
    assert (first.title, first.idnumber, first.tags) == ("What helps", "helps-most",
                                                         ("listen-one",))
    assert first.category == "$course$/top/Listening/listen-one" and first.category_line == 4
    # The comment line inside the answer block is not an answer.
    assert [(a.mark, a.text.text, a.line) for a in first.answers] == [
        ("=", "Listening without interrupting", 9), ("~", "Giving advice straight away", 10),
        ("~", "Changing the subject", 12)]
    assert first.answers[0].feedback.text == "Right: it gives them room."
    assert first.general_feedback.text == "Listening comes first."
    assert questions[94].category == "Reflect back"
    assert questions[103].category == "$course$/top/Elsewhere"


def test_a_byte_order_mark_and_windows_line_ends_change_nothing(tmp_path):
    text = EVERY.read_text(encoding="utf-8-sig")
    assert EVERY.read_bytes().startswith(b"\xef\xbb\xbf")
    crlf = tmp_path / "windows.gift"
    crlf.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    plain = read_gift(EVERY).questions
    windows = read_gift(crlf).questions
    assert [(q.line, q.kind, q.text) for q in windows] == [(q.line, q.kind, q.text) for q in plain]


def test_escapes_are_text_and_never_syntax():
    q = parse_gift(r"::Q\: one:: a \= b \~ c \# d \{ e \} f \\ g\nh{=x \= y#fb \# z ~w \~ v}"
                   ).questions[0]
    assert q.title == "Q: one"
    assert q.text.text == "a = b ~ c # d { e } f \\ g\nh"
    assert [a.text.text for a in q.answers] == ["x = y", "w ~ v"]
    assert q.answers[0].feedback.text == "fb # z"
    # An escaped backslash before a mark leaves the mark working.
    q = parse_gift(r"Which?{=a\\ ~b}").questions[0]
    assert [a.text.text for a in q.answers] == ["a\\", "b"]


def test_multi_line_questions_keep_each_answer_line():
    q = read_gift(EVERY).questions[1]
    assert q.title == "Multi-line" and q.line == 16
    assert q.text.text == 'Someone says:\n"I feel alone."\nWhat could you say?'
    assert q.text.line == 17
    assert [a.line for a in q.answers] == [21, 22]


def test_comments_are_whole_lines_only():
    q = parse_gift("// [id:x-1] [tag:a] [tag:b]\nSee http://example.org // not a comment{T}"
                   ).questions[0]
    assert q.text.text == "See http://example.org // not a comment"
    assert (q.idnumber, q.tags) == ("x-1", ("a", "b"))
    assert parse_gift("// only comments\n\nQ?{T}").questions[0].line == 3


def test_format_markers_apply_to_their_text_and_answers_inherit_the_question_s():
    q = by_line(read_gift(EVERY).questions)[53]
    assert q.text.format == "markdown"
    assert [(a.text.format, a.text.text) for a in q.answers] == [("plain", "*stars*"),
                                                                 ("markdown", "_under_")]
    assert q.answers[0].feedback.format == "markdown"
    assert parse_gift("[note] is kept{T}").questions[0].text.text == "[note] is kept"


def test_true_false_feedback_is_wrong_first_then_right():
    q = by_line(read_gift(EVERY).questions)[27]  # {FALSE#wrong answer's#right answer's}
    assert q.truth is False
    assert q.true_feedback.text == "Not so: silence gives room."
    assert q.false_feedback.text == "Right: silence can help."
    assert parse_gift("Q{T}").questions[0].truth is True
    assert parse_gift("Q{TRUE####gf}").questions[0].general_feedback.text == "gf"


def test_weights_numbers_and_pairs_are_read():
    questions = by_line(read_gift(EVERY).questions)
    assert [(a.weight, a.line) for a in questions[35].answers] == [
        ("50", 36), ("50", 37), ("-100", 38), ("-100", 39)]
    assert [(a.mark, a.weight, a.text.text) for a in questions[76].answers] == [
        ("=", "100", "3.14:0.01"), ("=", "50", "3:1"), ("~", None, "*")]
    assert questions[76].general_feedback.text == "Pi is about 3.14."
    assert [a.text.text for a in questions[74].answers] == ["1..5"]
    assert [(a.text.text, a.match) for a in questions[78].answers] == [
        ("Reflect", "mirror feelings"), ("Summarise", "pull together"),
        ("Clarify", "check meaning")]


def test_missing_word_marks_the_blank():
    q = by_line(read_gift(EVERY).questions)[25]
    assert q.missing_word
    prompt, _ = to_markdown(q.text)
    assert prompt == "Silence _____ help a person think."
    alone = parse_gift("Fill in:\n{=a ~b}\nthe rest").questions[0]
    assert shown(to_markdown(alone.text)[0]) == "Fill in:\n_____\nthe rest"


def test_every_syntax_error_is_reported_with_its_line():
    with pytest.raises(ContentError) as info:
        read_gift(GIFT / "syntax-errors.gift", "errors.gift")
    reported = [(p.path, p.line) for p in info.value.problems]
    assert reported == [("errors.gift", n) for n in (
        4, 7, 9, 11, 13, 15, 19, 21, 25, 31, 34, 36, 38, 40, 42, 45, 47)]
    text = [str(p) for p in info.value.problems]
    assert text[0] == ("errors.gift:4: the answer block '{' is not closed with '}' before the "
                       "blank line that ends the question")
    assert "errors.gift:25: an answer with no text after '='" in text
    assert "errors.gift:31: the weight %150% is not between -100 and 100" in text
    assert "errors.gift:45: a $CATEGORY: line stands alone: put a blank line after it" in text


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("Q?{=a ~b}\n\n\nQ2 {=a", 4, "not closed"),
    ("Q?\n{=a\n~b}}", 3, "a second '}'"),
    ("::Title", 1, "not closed with '::'"),
    ("Q {#1:x}", 1, "'1:x' is not a number"),
    ("Q {#2..}", 1, "'2..' is not a number"),
    ("Q {=a->b}", 1, "at least two pairs"),
    ("Q {=a ~%-101%b}", 1, "not between -100 and 100"),
])
def test_syntax_errors(text, line, reason):
    problems = syntax_errors(text)
    assert len(problems) == 1 and problems[0].startswith(f"t.gift:{line}: ")
    assert reason in problems[0]


def test_a_file_that_is_not_utf8_or_empty_is_refused(tmp_path):
    latin = tmp_path / "latin.gift"
    latin.write_bytes("Q?{T}\n\nCaf\xe9?{T}\n".encode("latin-1"))
    with pytest.raises(ContentError) as info:
        read_gift(latin, "latin.gift")
    assert str(info.value.problems[0]).startswith("latin.gift:3: not UTF-8 text")
    assert syntax_errors("// nothing but a comment\n") == [
        "t.gift:1: no questions: a GIFT file holds questions separated by blank lines"]
    assert syntax_errors("Q?{T}\n\nA \ue003 B{T}")[0].startswith("t.gift:3: the character U+E003")


# --- converting --------------------------------------------------------------------------------


def every_conversion(**options):
    return convert(read_gift(EVERY, "every.gift"), module("listening"), **options)


def test_every_construct_converts_what_a_quiz_can_carry():
    conversion = every_conversion()
    questions = {q["id"]: q for q in conversion.data["questions"]}
    hashed = [key for key, _ in conversion.converted if key.startswith("q-")]
    assert all(re.fullmatch(r"q-[0-9a-f]{8}", key) for key in hashed) and len(hashed) == 3
    assert [line for _, line in conversion.converted] == [
        8, 16, 25, 27, 29, 31, 33, 35, 42, 44, 48, 53, 55, 57, 62, 64, 94, 96, 101]
    summary = {key: (q["type"], q["objective"], q["answer"]) for key, q in questions.items()
               if not key.startswith("q-")}
    assert summary == {
        "helps-most": ("single", "listen-one", "a"),
        "multi-line": ("single", "listen-one", "a"),
        "true": ("true_false", "listen-one", False),
        "short-true": ("true_false", "listen-one", True),
        "plain-false": ("true_false", "listen-one", False),
        "no-feedback": ("single", "listen-one", "a"),
        "checkboxes": ("multiple", "listen-one", ["a", "b"]),
        "one-box": ("multiple", "listen-one", ["a"]),
        "half-right": ("single", "listen-one", "a"),
        "escapes-all": ("single", "listen-one", "a"),
        "markdown": ("single", "listen-one", "a"),
        "plain-text": ("single", "listen-one", "a"),
        "html": ("single", "listen-one", "a"),
        "moodle-format": ("single", "listen-one", "a"),
        "underline": ("single", "listen-one", "a"),
        "multi-line-2": ("single", "listen-two", "a"),
    }
    assert [questions[k]["objective"] for k in hashed] == ["listen-one", "listen-two",
                                                           "listen-two"]
    assert [o["text"] for o in questions["helps-most"]["options"]] == [
        "Listening without interrupting", "Giving advice straight away", "Changing the subject"]
    assert yaml.safe_load(conversion.yaml_text) == conversion.data


def test_every_construct_lists_what_is_left_out_with_its_line():
    conversion = every_conversion()
    left = [(item.line, item.whole_question) for item in conversion.left_out]
    assert sorted(left) == [
        (36, False), (44, False), (46, True), (64, False), (66, True), (68, True), (70, True),
        (72, True), (74, True), (76, True), (78, True), (84, True), (86, True), (88, True),
        (90, True), (101, False), (103, True)]
    assert conversion.questions_left_out == 13
    report = conversion.report()
    expected = [
        "every.gift:36: left out: 'Checkboxes': partial credit and penalties ~%50% (line 36), "
        "~%50% (line 37), ~%-100% (line 38), ~%-100% (line 39)",
        "every.gift:44: left out: 'Half right': partial credit and penalties ~%50% (line 44), "
        "~%-25% (line 44)",
        "every.gift:46: left out: 'Two right': 2 answers are marked '=' (line 46)",
        "every.gift:64: left out: 'Underline': <u> formatting in the HTML",
        "every.gift:66: left out: 'Image': a file stored in Moodle (@@PLUGINFILE@@); an image",
        "every.gift:68: left out: 'Short': a short-answer question",
        "every.gift:70: left out: 'Lowercase': a short-answer question ({=...}): lms has no "
        "typed answers (for a true/false question write TRUE or FALSE in capitals)",
        "every.gift:72: left out: 'Number': a numerical question",
        "every.gift:74: left out: 'Range': a numerical question",
        "every.gift:76: left out: 'Weighted number': a numerical question",
        "every.gift:78: left out: 'Match': a matching question",
        "every.gift:84: left out: 'Essay': an essay question",
        "every.gift:86: left out: 'Essay feedback': an essay question",
        "every.gift:88: left out: 'Description': a description",
        "every.gift:90: left out: 'Pair': a multiple-answer question (no '=') with two answers",
        "every.gift:101: left out: the question: tag 'reflection': lms questions have no tags",
        "every.gift:103: left out: 'Lost': its category '$course$/top/Elsewhere' (line 98) "
        "names none of the objectives of module 'listening' (listen-one, listen-two)",
    ]
    lines = [line for line in report if ": left out: " in line]
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), (line, start)


def test_feedback_becomes_the_rationale():
    questions = {q["id"]: q for q in every_conversion().data["questions"]}
    assert questions["helps-most"]["rationale"] == (
        "Listening comes first.\n\n"
        "- Listening without interrupting: Right: it gives them room.\n"
        "- Giving advice straight away: Advice can wait.")
    # {FALSE#for who answered true#for who answered false}
    assert questions["true"]["rationale"] == ("- True: Not so: silence gives room.\n"
                                              "- False: Right: silence can help.")
    assert questions["plain-false"]["rationale"] == "Listening means paying attention."
    assert shown(questions["html"]["rationale"]) == "Yes: Right.\n    Well done."
    assert questions["markdown"]["rationale"] == "- \\*stars\\*: **Yes.**"


def test_a_question_without_feedback_names_its_answer_and_says_so():
    conversion = every_conversion()
    questions = {q["id"]: q for q in conversion.data["questions"]}
    assert questions["no-feedback"]["rationale"] == "The right answer is: So you felt alone."
    assert questions["short-true"]["rationale"] == "The statement is true."
    assert questions["one-box"]["rationale"] == "The right answer is: So far you have told me..."
    assert "every.gift:33: note: 'No feedback': no feedback in the GIFT file" in "\n".join(
        conversion.report())


def test_text_is_converted_to_markdown_that_shows_it_as_written():
    questions = {q["id"]: q for q in every_conversion().data["questions"]}
    assert shown(questions["escapes-all"]["prompt"]) == (
        "Is 2 = 2 {yes} ~ or # 5 \\ that?\nNew line.")
    assert [shown(o["text"], inline=True) for o in questions["escapes-all"]["options"]] == [
        "Yes = right", "No ~ wrong"]
    assert questions["markdown"]["prompt"] == "Which is **bold**?"
    assert [shown(o["text"], inline=True) for o in questions["markdown"]["options"]] == [
        "*stars*", "under"]
    assert shown(questions["plain-text"]["prompt"]) == "Is 3 * 4 < 5 & *not* bold?"
    assert questions["html"]["prompt"] == "Is **this** *safe*?\n\n- one\n- two"
    assert questions["moodle-format"]["prompt"] == "A line<br>\nand **bold**."
    assert questions["multi-line"]["prompt"] == (
        'Someone says:<br>\n"I feel alone."<br>\nWhat could you say?')
    assert questions["underline"]["prompt"] == "Is this kept?"
    assert any(q["prompt"] == "Écoute: quel mot ?" for q in questions.values())


@pytest.mark.parametrize("fmt", ["plain", "moodle", "html"])
def test_plain_text_never_turns_into_markdown(fmt):
    for text in ["# not a heading", "> not a quote", "- not a list", "+ plus", "12. twelve",
                 "===", ": colon", "a *b* c", "_x_", "snake_case_name", "`code`",
                 "[link](http://x)", "![img](x.png)", "&copy; & x", "a | b", "~sub~ ~~del~~",
                 "{: .cls}", "\\ backslash", "*[HTML]: abbr", "[^1]: foot", "x<y>z"]:
        source = text if fmt == "plain" else html.escape(text, quote=False)
        markdown, problems = to_markdown(GiftText(source, fmt, 1))
        assert problems == []
        assert shown(markdown) == text, (fmt, text, markdown)


def test_html_that_markdown_cannot_carry_is_reported():
    def reasons(source: str) -> list[tuple[str, bool]]:
        return [(p.reason, p.whole_question) for p in to_markdown(GiftText(source, "html", 5))[1]]

    assert reasons("<table><tr><td>1</td></tr></table>")[0] == (
        "<table> in the HTML: lms content cannot show it here", True)
    assert reasons('<p style="color: red">Hi</p>') == [
        ('the HTML attribute style="color: red" on <p> (formatting; its text is kept)', False)]
    assert reasons('<p dir="ltr" style="text-align: left;">Hi</p>') == []
    assert reasons('<a href="javascript:x()">x</a>')[0][1] is False
    assert reasons("<ul><li>a<ul><li>b</li></ul></li></ul>")[0] == (
        "a list inside a list in the HTML", True)
    markdown, problems = to_markdown(GiftText('<a href="https://example.org/a b">the <b>site</b>'
                                              "</a> and H<sub>2</sub>O", "html", 1))
    assert problems == []
    assert markdown == "[the **site**](https://example.org/a%20b) and H<sub>2</sub>O"
    _, problems = to_markdown(GiftText("![face](@@PLUGINFILE@@/a.png)", "markdown", 7))
    assert {p.line for p in problems} == {7} and all(p.whole_question for p in problems)


def test_categories_and_tags_choose_the_objective():
    assert category_segments("$course$/top/a//b/c") == ["a/b", "c"]
    conversion = every_conversion()
    questions = dict(conversion.converted)
    objective = {q["id"]: q["objective"] for q in conversion.data["questions"]}
    # A category's deepest name that is an objective id, or an objective's text ("Reflect
    # back."), or a [tag:] naming one, which wins over the category.
    assert objective["helps-most"] == "listen-one"
    assert objective["multi-line-2"] == "listen-two"
    tagged = next(key for key, line in questions.items() if line == 101)
    assert objective[tagged] == "listen-two"
    assert 103 not in questions.values()
    # --objective gives the others one; a module with one objective needs no choice.
    forced = every_conversion(objective="listen-two")
    assert dict((line, key) for key, line in forced.converted)[103] == "lost"
    assert any(n.line == 103 and "(--objective)" in n.reason for n in forced.notes)
    lone = convert(parse_gift("::A:: Q?{=a ~b}"), module("wellbeing"))
    assert lone.data["questions"][0]["objective"] == "well-one"
    assert "the module's only objective, 'well-one'" in lone.notes[0].reason
    with pytest.raises(GiftImportError, match="'nope' is not an objective"):
        every_conversion(objective="nope")


def test_keys_are_unique_and_follow_their_question():
    conversion = every_conversion()
    keys = [key for key, _ in conversion.converted]
    assert len(keys) == len(set(keys))
    assert dict((line, key) for key, line in conversion.converted)[94] == "multi-line-2"
    assert any("the key 'multi-line' is taken by the question on line 16" in n.reason
               for n in conversion.notes)
    # Moving questions around keeps every key; changing an untitled one gives it a new key.
    blocks = ["::B:: Second?{T}", "Untitled?{T}", "::A:: First?{T}"]
    keys = [k for k, _ in convert(parse_gift("\n\n".join(blocks)), module("wellbeing")).converted]
    moved = [k for k, _ in convert(parse_gift("\n\n".join(reversed(blocks))),
                                   module("wellbeing")).converted]
    assert sorted(keys) == sorted(moved) and keys[0] == "b" and keys[2] == "a"
    changed = convert(parse_gift("Untitled, changed?{T}"), module("wellbeing")).converted[0][0]
    assert changed != keys[1]


def test_the_quiz_file_reads_like_the_hand_written_ones():
    text = every_conversion(retake_wait_minutes=30).yaml_text
    assert text.startswith("# Imported from every.gift by `lms import-gift`.")
    assert "\nmodule: listening\npass_mark: 80\nattempts_allowed: 3\nretake_wait_minutes: 30\n" \
           "shuffle: false\nquestions:\n  - id: helps-most\n    type: single\n" in text
    assert "    answer: [a, b]\n" in text
    assert "    prompt: |-\n      Someone says:<br>\n" in text


def test_the_quiz_passes_the_loader(content):
    conversion = every_conversion(retake_wait_minutes=30)
    assert check_with_loader(conversion.yaml_text, "listening", content / "curricula",
                             content / "quizzes") == []
    (content / "quizzes" / "listening.yaml").write_text(conversion.yaml_text, encoding="utf-8")
    bundle = load_content(content / "curricula", content / "quizzes", root=content)
    quiz = next(q for q in bundle.quizzes if q.module_slug == "listening")
    assert [q.key for q in quiz.questions] == [key for key, _ in conversion.converted]
    checkboxes = next(q for q in quiz.questions if q.key == "checkboxes")
    assert checkboxes.correct == ["a", "b"]


def test_the_loader_s_problems_are_reported_under_the_real_path(content):
    broken = every_conversion().yaml_text  # no retake wait, and the curriculum sets none
    problems = check_with_loader(broken, "listening", content / "curricula", content / "quizzes")
    assert [str(p) for p in problems] == [
        "quizzes/listening.yaml:4: missing field 'retake_wait_minutes': set it here, or set "
        "default_retake_wait_minutes in the curriculum's curriculum.yaml"]


# --- importing into the content folders -------------------------------------------------------


def run_import(content: Path, source: Path = SIMPLE, name: str = "wellbeing", **options):
    return import_gift(source, name, curricula_dir=content / "curricula",
                       quizzes_dir=content / "quizzes", **options)


def test_import_writes_a_quiz_that_lms_validate_accepts(content):
    result = run_import(content)
    assert result.path == content / "quizzes" / "wellbeing.yaml"
    assert result.conversion.left_out == []
    data = yaml.safe_load(result.path.read_text(encoding="utf-8"))
    assert [(q["id"], q["type"], q["answer"]) for q in data["questions"]] == [
        ("rest", "single", "a"), ("sleep", "true_false", True), ("signs", "multiple", ["a"])]
    # The test curriculum sets no default wait, so the quiz carries one (and says so).
    assert data["retake_wait_minutes"] == 1440
    assert any("default_retake_wait_minutes" in n.reason for n in result.conversion.notes)
    bundle = load_content(content / "curricula", content / "quizzes", root=content)
    assert "wellbeing" in {q.module_slug for q in bundle.quizzes}


def test_a_curriculum_s_default_wait_is_left_to_apply(tmp_path):
    for name in ("curricula", "quizzes"):
        shutil.copytree(ROOT / name, tmp_path / name)
    result = import_gift(GIFT / "simple.gift", "self-care", curricula_dir=tmp_path / "curricula",
                         quizzes_dir=tmp_path / "quizzes", objective="care-risks", force=True)
    assert "retake_wait_minutes" not in yaml.safe_load(result.path.read_text(encoding="utf-8"))
    load_content(tmp_path / "curricula", tmp_path / "quizzes", root=tmp_path)


def test_an_existing_quiz_is_replaced_only_with_force(content):
    quiz = content / "quizzes" / "listening.yaml"
    before = quiz.read_text(encoding="utf-8")
    with pytest.raises(GiftImportError, match="already exists: add --force"):
        run_import(content, EVERY, "listening")
    assert quiz.read_text(encoding="utf-8") == before
    result = run_import(content, EVERY, "listening", force=True)
    assert result.path == quiz and quiz.read_text(encoding="utf-8") != before
    assert not list((content / "quizzes").glob(".*"))  # no temporary file is left behind


@pytest.mark.parametrize(("name", "message"), [
    ("nowhere", "no module 'nowhere'"),
    ("../listening", "not a module id"),
    ("Listening", "not a module id"),
])
def test_the_module_must_exist(content, name, message):
    with pytest.raises(GiftImportError, match=re.escape(message)):
        run_import(content, name=name)
    assert sorted(p.name for p in (content / "quizzes").iterdir()) == ["listening.yaml",
                                                                       "privacy.yaml"]


def test_nothing_is_written_when_nothing_converts_or_the_loader_refuses(content, tmp_path):
    essays = tmp_path / "essays.gift"
    essays.write_text("Why?{}\n\nHow?{}\n", encoding="utf-8")
    with pytest.raises(GiftImportError, match="every question was left out") as info:
        run_import(content, essays)
    assert len(info.value.conversion.report()) == 3  # two essays and the retake-wait note
    (content / "quizzes" / "privacy.yaml").write_text("module: privacy\n", encoding="utf-8")
    with pytest.raises(GiftImportError, match="`lms validate` would refuse") as info:
        run_import(content)
    assert str(info.value.problems[0]).startswith("quizzes/privacy.yaml:1: missing field")
    assert not (content / "quizzes" / "wellbeing.yaml").exists()


# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_command_writes_and_exits_0_when_nothing_is_left_out(runner, content):
    result = runner.invoke(lms_group, ["import-gift", str(SIMPLE), "--module", "wellbeing",
                                       "--content", str(content)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"Wrote {content / 'quizzes' / 'wellbeing.yaml'}: 3 question(s) from {SIMPLE}. "
        "Nothing was left out.")
    validated = runner.invoke(lms_group, ["validate", str(content)])
    assert validated.exit_code == 0 and "3 quizzes, 9 questions" in validated.output


def test_command_lists_what_was_left_out_and_exits_3(runner, content):
    result = runner.invoke(lms_group, ["import-gift", str(EVERY), "--module", "listening",
                                       "--content", str(content), "--force"])
    assert result.exit_code == 3, result.output
    lines = result.output.splitlines()
    assert f"{EVERY}:72: left out: 'Number': a numerical question ({{#...}}): lms has no " \
           "typed answers" in lines
    assert lines[-1].endswith("Left out (listed above): 13 question(s) and 4 part(s) of "
                              "converted ones.")
    assert runner.invoke(lms_group, ["validate", str(content)]).exit_code == 0


def test_command_refuses_to_overwrite_without_force(runner, content):
    quiz = content / "quizzes" / "listening.yaml"
    before = quiz.read_bytes()
    result = runner.invoke(lms_group, ["import-gift", str(SIMPLE), "--module", "listening",
                                       "--content", str(content)])
    assert result.exit_code == 1
    assert "listening.yaml already exists: add --force to replace it" in result.output
    assert quiz.read_bytes() == before


def test_command_reports_syntax_errors_and_writes_nothing(runner, content):
    source = GIFT / "syntax-errors.gift"
    result = runner.invoke(lms_group, ["import-gift", str(source), "--module", "wellbeing",
                                       "--content", str(content)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"{source}:4: the answer block '{{' is not closed with '}}' before the blank line that "
        "ends the question")
    assert "17 problem(s) found; nothing was written." in result.output
    assert not (content / "quizzes" / "wellbeing.yaml").exists()


def test_command_reports_what_blocked_the_import(runner, content):
    result = runner.invoke(lms_group, ["import-gift", str(EVERY), "--module", "listening",
                                       "--content", str(content), "--force",
                                       "--objective", "nope"])
    assert result.exit_code == 1 and "'nope' is not an objective" in result.output


@pytest.fixture
def app_config(app_config, content):
    app_config.update(LMS_CURRICULA_FOLDER=str(content / "curricula"),
                      LMS_QUIZZES_FOLDER=str(content / "quizzes"))
    return app_config


def test_command_uses_the_configured_folders(runner, content):
    result = runner.invoke(lms_group, ["import-gift", str(SIMPLE), "--module", "wellbeing"])
    assert result.exit_code == 0, result.output
    assert (content / "quizzes" / "wellbeing.yaml").is_file()
