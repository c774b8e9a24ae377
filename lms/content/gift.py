"""Moodle GIFT question files -> ``quizzes/<module>.yaml``, checked by the loader before writing.

Three steps, each usable on its own:

- ``parse_gift`` reads GIFT as Moodle's importer does (blank lines between questions, ``//``
  comment lines, ``::title::``, the escapes ``\\~ \\= \\# \\{ \\} \\: \\\\ \\n``, format markers,
  ``$CATEGORY:``, ``[id:]`` and ``[tag:]`` in comments, every question type) and refuses a
  file with syntax errors as ``ContentError`` (``path:line: reason``, like the loader).
- ``convert`` maps what lms's quiz format can carry: single and multiple choice, true/false,
  feedback as the rationale, categories and tags as objectives. Everything else is listed as
  left out, with its GIFT line: never dropped silently.
- ``import_gift`` finds the module, converts, refuses to replace a quiz without ``force``,
  loads the result with ``lms.content.loader`` exactly as ``lms validate`` would, and only
  then writes it.

docs/gift.md describes the mapping for authors.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from lms.content.loader import (
    SLUG_PATTERN,
    ContentError,
    ContentProblem,
    ModuleSpec,
    _Collector,
    load_content,
    load_curriculum,
)
from lms.content.markdown import ALLOWED_TAGS

#: Used when the module's curriculum sets no ``default_retake_wait_minutes`` (a day, as the
#: shipped curriculum does): the loader refuses a quiz with neither.
DEFAULT_RETAKE_WAIT_MINUTES = 1440
DEFAULT_PASS_MARK = 80
DEFAULT_ATTEMPTS = 3

FORMATS = ("moodle", "html", "plain", "markdown")
#: What stands for the answers in a missing-word question, as in Moodle.
BLANK = "_____"

# Escaped characters become private-use placeholders while the structure ({ } ~ = # ::) is
# read, so an escaped one is never taken for syntax; they are put back in each text.
_ESCAPES = {"\\": "\ue000", ":": "\ue001", "#": "\ue002", "=": "\ue003", "{": "\ue004",
            "}": "\ue005", "~": "\ue006", "n": "\ue007"}
_RESTORE = str.maketrans({v: ("\n" if k == "n" else k) for k, v in _ESCAPES.items()})
_ESCAPE_RE = re.compile(r"\\([\\:#={}~n])")
_BLANK_MARK = "\ue010"
_RESERVED_RE = re.compile("[\ue000-\ue010]")
_WEIGHT_RE = re.compile(r"%(-?\d+(?:\.\d+)?)%")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_ID_RE = re.compile(r"\[id:((?:\\\]|[^\]\x00-\x1f])+)\]")
_TAG_RE = re.compile(r"\[tag:((?:\\\]|[^\]\x00-\x1f])+)\]")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}


def _protect(text: str) -> str:
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(1)], text)


def _restore(text: str) -> str:
    return text.translate(_RESTORE)


# --- what a GIFT file says -------------------------------------------------------------------


@dataclass(frozen=True)
class GiftText:
    """A text as written (escapes undone), its format marker (or the one it inherits) and the
    line it starts on."""

    text: str
    format: str
    line: int


@dataclass(frozen=True)
class GiftAnswer:
    """An answer of a choice, short-answer or numerical question, or a matching pair
    (``text`` -> ``match``)."""

    mark: str  # "=" or "~"
    text: GiftText
    line: int
    weight: str | None = None  # the n of %n% as written
    feedback: GiftText | None = None
    match: str | None = None

    @property
    def percent(self) -> float | None:
        return None if self.weight is None else float(self.weight)


@dataclass
class GiftQuestion:
    #: choice, true_false, short_answer, numerical, matching, essay or description
    kind: str
    line: int
    text: GiftText  # the question text; a missing word's place holds _BLANK_MARK
    source: str  # the question as written without comments, for a key that follows content
    title: str | None = None
    idnumber: str | None = None
    tags: tuple[str, ...] = ()
    category: str | None = None
    category_line: int = 0
    missing_word: bool = False
    answers: list[GiftAnswer] = field(default_factory=list)
    general_feedback: GiftText | None = None
    truth: bool | None = None  # a true/false question's answer
    true_feedback: GiftText | None = None  # shown in Moodle to who answered true
    false_feedback: GiftText | None = None


@dataclass
class GiftFile:
    path: str
    questions: list[GiftQuestion]


def read_gift(path: Path, display: str | None = None) -> GiftFile:
    """Read and parse a GIFT file (UTF-8, with or without a byte-order mark)."""
    name = display or str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ContentError([ContentProblem(name, 1, f"cannot read: {exc.strerror}")]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ContentError([ContentProblem(name, line, f"not UTF-8 text: {exc.reason}")]) from None
    return parse_gift(text, name)


def parse_gift(text: str, path: str = "<gift>") -> GiftFile:
    """Parse GIFT text; raise ``ContentError`` with every syntax error found."""
    parser = _Parser(path)
    parser.parse(text.removeprefix("\ufeff"))
    if not parser.problems and not parser.questions:
        parser.error(1, "no questions: a GIFT file holds questions separated by blank lines")
    if parser.problems:
        raise ContentError(parser.problems)
    return GiftFile(path, parser.questions)


class _Parser:
    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[ContentProblem] = []
        self.questions: list[GiftQuestion] = []
        self.category: str | None = None
        self.category_line = 0
        self.text = ""  # the question being read, escapes protected
        self.first = 0  # its first line

    def error(self, line: int, reason: str) -> None:
        self.problems.append(ContentProblem(self.path, line, reason))

    def line_at(self, offset: int) -> int:
        return self.first + self.text.count("\n", 0, offset)

    def parse(self, text: str) -> None:
        # Only these end a line, so line numbers match an editor's (str.splitlines would also
        # split on form feeds and U+2028).
        lines = re.split(r"\r\n|\r|\n", text)
        for number, line in enumerate(lines, 1):
            found = _RESERVED_RE.search(line)
            if found:
                self.error(number, f"the character U+{ord(found.group()):04X} is reserved "
                                   "(private use) and cannot be imported")
                return
        block: list[tuple[int, str]] = []
        for number, line in enumerate(lines, 1):
            if line.strip():
                block.append((number, line))
            elif block:
                self.block(block)
                block = []
        if block:
            self.block(block)

    def block(self, block: list[tuple[int, str]]) -> None:
        """One question (or category): the lines between blank lines. Comment lines stay as
        empty lines so that offsets keep their line numbers."""
        comments = "\n".join(line for _, line in block if line.strip().startswith("//"))
        body = [(n, "" if line.strip().startswith("//") else line) for n, line in block]
        while body and not body[0][1]:
            body.pop(0)
        if not body:
            return  # only comments
        self.first = body[0][0]
        raw = "\n".join(line for _, line in body).rstrip()
        self.text = text = _protect(raw)
        start = len(text) - len(text.lstrip())
        if text.startswith("$CATEGORY:", start):
            name = text[start + len("$CATEGORY:"):].strip()
            if "\n" in name:
                self.error(self.line_at(text.index("\n", start)) + 1,
                           "a $CATEGORY: line stands alone: put a blank line after it")
            elif not name:
                self.error(self.first, "$CATEGORY: names no category")
            else:
                self.category, self.category_line = _restore(name), self.first
            return
        ids = _comment_values(_ID_RE, comments)
        question = self.question(raw, start)
        if question is not None:
            question.idnumber = ids[0] if ids else None
            question.tags = tuple(_comment_values(_TAG_RE, comments))
            self.questions.append(question)

    def question(self, raw: str, pos: int) -> GiftQuestion | None:
        text = self.text
        title = None
        if text.startswith("::", pos):
            end = text.find("::", pos + 2)
            if end < 0:
                self.error(self.line_at(pos), "the title opened with '::' is not closed with "
                                              "'::' (write \\: for a colon in a title)")
                return None
            title = " ".join(_restore(text[pos + 2:end]).split()) or None
            pos = end + 2
        opening, closing = text.find("{", pos), text.find("}", pos)
        block = None
        if opening < 0 and closing < 0:
            question_text = text[pos:]
        elif closing >= 0 and (opening < 0 or closing < opening):
            self.error(self.line_at(closing), "'}' closes no answer block (write \\} for a "
                                              "brace)")
            return None
        elif closing < 0:
            self.error(self.line_at(opening), "the answer block '{' is not closed with '}' "
                                              "before the blank line that ends the question")
            return None
        else:
            inner = text.find("{", opening + 1, closing)
            if inner >= 0:
                self.error(self.line_at(inner), "'{' inside the answer block opened on line "
                           f"{self.line_at(opening)} (write \\{{ for a brace)")
                return None
            later = re.search(r"[{}]", text[closing + 1:])
            if later:
                self.error(self.line_at(closing + 1 + later.start()),
                           f"a second '{later.group()}' after the answer block: a question has "
                           "one (a blank line ends a question; write \\{ or \\} for a brace)")
                return None
            after = text[closing + 1:]
            # Text after the block makes a missing-word question: the block is the blank.
            question_text = text[pos:opening] + (_BLANK_MARK + after if after.strip() else "")
            block = (text[opening + 1:closing], opening + 1)
        fmt, words = _split_format(question_text, "moodle")
        if not words.replace(_BLANK_MARK, "").strip():
            self.error(self.line_at(pos), "the question has no text")
            return None
        lead = len(question_text) - len(question_text.lstrip())
        q = GiftQuestion(kind="description", line=self.first,
                         text=GiftText(_restore(words), fmt, self.line_at(pos + lead)),
                         source=" ".join(raw.split()), title=title, category=self.category,
                         category_line=self.category_line, missing_word=_BLANK_MARK in words)
        if block is not None and not self.answers(q, *block):
            return None
        return q

    def answers(self, q: GiftQuestion, block: str, at: int) -> bool:
        """Read the answer block into ``q`` (the question type as Moodle decides it); False
        after a syntax error."""
        general = block.rfind("####")
        if general >= 0:
            q.general_feedback = self.text_at(block[general + 4:], at + general + 4,
                                              q.text.format)
            block = block[:general]
        at += len(block) - len(block.lstrip())
        body = block.strip()
        word = body.split("#", 1)[0].strip()
        if not body:
            q.kind = "essay"
        elif body.startswith("#"):
            q.kind = "numerical"
            return self.numerical(q, body[1:], at + 1)
        elif "~" in body:
            q.kind = "choice"
            return self.listed(q, body, at, "=~", minimum=2, what="a multiple-choice "
                               "question needs at least two answers")
        elif "=" in body and "->" in body:
            q.kind = "matching"
            return self.matching(q, body, at)
        elif word in _TRUE_FALSE:
            q.kind = "true_false"
            q.truth = _TRUE_FALSE[word]
            # {TRUE#feedback for a wrong answer#feedback for a right one}
            first = body.find("#")
            second = body.find("#", first + 1) if first >= 0 else -1
            wrong = right = None
            if first >= 0:
                end = second if second >= 0 else len(body)
                wrong = self.text_at(body[first + 1:end], at + first + 1, q.text.format)
            if second >= 0:
                right = self.text_at(body[second + 1:], at + second + 1, q.text.format)
            q.true_feedback, q.false_feedback = (right, wrong) if q.truth else (wrong, right)
        else:
            q.kind = "short_answer"
            return self.listed(q, body, at, "=", minimum=1, what="", bare="=")
        return True

    def text_at(self, raw: str, offset: int, default: str) -> GiftText | None:
        """A piece of the question as a GiftText, or None when it is empty."""
        if not raw.strip():
            return None
        lead = len(raw) - len(raw.lstrip())
        fmt, text = _split_format(raw, default)
        return GiftText(_restore(text), fmt, self.line_at(offset + lead))

    def pieces(self, body: str, at: int, marks: str, bare: str | None
               ) -> list[tuple[str, str, int, int]] | None:
        """Split at each mark: (mark, text after it, offset of the mark, offset of the text).
        ``bare``: the mark of text before the first one (Moodle reads {word} as =word)."""
        found = [m.start() for m in re.finditer(f"[{re.escape(marks)}]", body)]
        pieces = []
        first = found[0] if found else len(body)
        if body[:first].strip():
            if bare is None:
                self.error(self.line_at(at), "text before the first answer: start every "
                           + ("answer with = (right) or ~ (wrong)" if "~" in marks
                              else "pair with ="))
                return None
            pieces.append((bare, body[:first], at, at))
        ends = [*found[1:], len(body)] if found else []
        pieces += [(body[s], body[s + 1:e], at + s, at + s + 1)
                   for s, e in zip(found, ends, strict=True)]
        return pieces

    def answer(self, q: GiftQuestion, mark: str, piece: str, mark_at: int, text_at: int,
               number: bool = False) -> GiftAnswer | None:
        text_at += len(piece) - len(piece.lstrip())
        rest = piece.lstrip()
        weight = None
        found = _WEIGHT_RE.match(rest)
        if found:
            weight = found.group(1)
            if not -100 <= float(weight) <= 100:
                self.error(self.line_at(mark_at),
                           f"the weight %{weight}% is not between -100 and 100")
                return None
            rest, text_at = rest[found.end():], text_at + found.end()
        words, hash_, feedback = rest.partition("#")
        text = self.text_at(words, text_at, "plain" if number else q.text.format)
        if text is None:
            self.error(self.line_at(mark_at), f"an answer with no text after '{mark}'")
            return None
        note = (self.text_at(feedback, text_at + len(words) + 1, q.text.format)
                if hash_ else None)
        return GiftAnswer(mark=mark, text=text, line=self.line_at(mark_at), weight=weight,
                          feedback=note)

    def listed(self, q: GiftQuestion, body: str, at: int, marks: str, minimum: int, what: str,
               bare: str | None = None) -> bool:
        pieces = self.pieces(body, at, marks, bare)
        if pieces is None:
            return False
        for piece in pieces:
            answer = self.answer(q, *piece)
            if answer is None:
                return False
            q.answers.append(answer)
        if len(q.answers) < minimum:
            self.error(self.line_at(at), what)
            return False
        return True

    def matching(self, q: GiftQuestion, body: str, at: int) -> bool:
        pieces = self.pieces(body, at, "=", None)
        if pieces is None:
            return False
        for _, piece, mark_at, text_at in pieces:
            left, arrow, right = piece.partition("->")
            if not arrow:
                self.error(self.line_at(mark_at), "a matching pair needs '->' between its "
                                                  "two sides")
                return False
            if not right.strip():
                self.error(self.line_at(mark_at), "a matching pair with nothing after '->'")
                return False
            # An empty left side is allowed: Moodle's extra wrong answer.
            text = self.text_at(left, text_at, q.text.format) or GiftText(
                "", q.text.format, self.line_at(mark_at))
            q.answers.append(GiftAnswer(mark="=", text=text, line=self.line_at(mark_at),
                                        match=_restore(right.strip())))
        if len(q.answers) < 2:
            self.error(self.line_at(at), "a matching question needs at least two pairs")
            return False
        return True

    def numerical(self, q: GiftQuestion, body: str, at: int) -> bool:
        other = None
        wrong = body.find("~")
        if wrong >= 0:
            # {#3:1 ~#feedback for any other answer}
            other = self.answer(q, "~", "*" + body[wrong + 1:], at + wrong, at + wrong)
            body = body[:wrong]
        if not body.strip():
            self.error(self.line_at(at - 1), "a numerical question needs a number after '#'")
            return False
        for piece in self.pieces(body, at, "=", bare="=") or []:
            answer = self.answer(q, *piece, number=True)
            if answer is None:
                return False
            value = answer.text.text
            low, dots, high = value.partition("..")
            parts = [low, high] if dots else value.split(":", 1)
            if not all(_NUMBER_RE.fullmatch(p.strip()) for p in parts):
                self.error(answer.line, f"'{value}' is not a number (write N, N:margin or "
                                        "MIN..MAX)")
                return False
            q.answers.append(answer)
        if other is not None:
            q.answers.append(other)
        return True


def _comment_values(pattern: re.Pattern[str], comments: str) -> list[str]:
    return [m.group(1).replace("\\]", "]").strip() for m in pattern.finditer(comments)]


def _split_format(text: str, default: str) -> tuple[str, str]:
    """A leading [html], [moodle], [plain] or [markdown] marker, as Moodle reads it; any other
    bracket stays part of the text."""
    stripped = text.lstrip()
    found = re.match(r"\[([A-Za-z]+)\]", stripped)
    if found and found.group(1).lower() in FORMATS:
        return found.group(1).lower(), stripped[found.end():].strip()
    return default, text.strip()


# --- GIFT text -> Markdown -------------------------------------------------------------------


@dataclass(frozen=True)
class LeftOut:
    """Something of the GIFT file that the quiz does not carry: a whole question or a part."""

    line: int
    reason: str
    whole_question: bool = False


@dataclass(frozen=True)
class Note:
    """Something done on the importer's own judgement that the author should check."""

    line: int
    reason: str


# Tags whose content lms could not show: the question would lose its meaning.
_CONTENT_TAGS = {
    "img", "picture", "source", "video", "audio", "track", "iframe", "object", "embed", "svg",
    "math", "canvas", "script", "style", "table", "form", "input", "select", "textarea",
    "button", "map", "area", "applet", "frame", "frameset",
}
_BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "center",
               "hr", "address", "section", "article", "header", "footer", "figure", "dl"}
_PLAIN_ATTRIBUTES = {("dir", "ltr")}


def _default_style(value: str) -> bool:
    """Atto and TinyMCE write ``style="text-align: left;"`` on paragraphs: the default look."""
    rules = [r.strip() for r in value.split(";") if r.strip()]
    return all(re.fullmatch(r"text-align\s*:\s*(left|start)", r, re.I) for r in rules)


def _escape_inline(text: str) -> str:
    """Plain text -> Markdown that shows it as typed (within a line)."""
    out = []
    for index, char in enumerate(text):
        if char in "\\`*[]{}~|":
            out.append("\\" + char)
        elif char == "_":
            # Python-Markdown ignores underscores inside words ("don_t"), so only escape those
            # that could open or close emphasis.
            before = text[index - 1] if index else " "
            after = text[index + 1] if index + 1 < len(text) else " "
            out.append("_" if before.isalnum() and after.isalnum() else "\\_")
        elif char == "<":
            out.append("&lt;")
        elif char == "&" and re.match(r"&(#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);",
                                      text[index:]):
            out.append("&amp;")
        else:
            out.append(char)
    return "".join(out)


def _escape_line_start(line: str) -> str:
    """Keep a line of plain text from starting a heading, quote, list or definition."""
    if re.match(r"[#>+-]", line):
        return "\\" + line
    if line.startswith("="):
        return "&#61;" + line[1:]
    if line.startswith(":"):
        return "&#58;" + line[1:]
    found = re.match(r"(\d+)\.", line)
    if found:
        return found.group(1) + "\\." + line[found.end():]
    return line


def _plain_to_markdown(text: str, inline: bool) -> str:
    paragraphs = []
    for paragraph in re.split(r"\n[ \t]*\n", text.strip()):
        lines = [_escape_line_start(_escape_inline(line.strip()))
                 for line in paragraph.split("\n") if line.strip()]
        if lines:
            paragraphs.append("<br>\n".join(lines))
    return ("<br>\n" if inline else "\n\n").join(paragraphs)


class _HtmlToMarkdown(HTMLParser):
    """The HTML a Moodle editor writes -> Markdown: paragraphs, line breaks, bold, italic,
    links, one level of lists, sub/superscript and code. Anything else is reported: content
    (images, tables, media) leaves the question out; formatting is dropped, text kept."""

    def __init__(self, line: int) -> None:
        super().__init__(convert_charrefs=True)
        self.first_line = line
        self.blocks: list[str] = []
        self.pieces: list[str] = []
        self.open: list[tuple[str, str, int]] = []  # (tag, marker or href, index in pieces)
        self.list_kind: str | None = None
        self.list_lines: list[str] = []
        self.item = 0
        self.in_item = False
        self.skip = 0
        self.problems: list[tuple[int, str, bool]] = []  # (line, reason, whole question)

    def line(self) -> int:
        return self.first_line + self.getpos()[0] - 1

    def problem(self, reason: str, whole: bool) -> None:
        self.problems.append((self.line(), reason, whole))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _CONTENT_TAGS:
            what = "an image" if tag == "img" else f"<{tag}>"
            self.problem(f"{what} in the HTML: lms content cannot show it here", True)
            if tag in ("script", "style"):
                self.skip += 1
            return
        for name, value in attrs:
            if tag == "a" and name in ("href", "title", "target", "rel"):
                continue
            if (name, (value or "").lower()) in _PLAIN_ATTRIBUTES or (
                    name == "style" and _default_style(value or "")):
                continue
            self.problem(f"the HTML attribute {name}=\"{value}\" on <{tag}> (formatting; its "
                         "text is kept)", False)
        if tag in ("b", "strong"):
            self.open.append((tag, "**", len(self.pieces)))
        elif tag in ("i", "em"):
            self.open.append((tag, "*", len(self.pieces)))
        elif tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            if "@@PLUGINFILE@@" in href:
                self.problem("a link to a file stored in Moodle (@@PLUGINFILE@@)", True)
            elif not re.match(r"(https?|mailto):", href, re.I):
                self.problem(f"the link to '{href}' (only http, https and mailto links are "
                             "kept; its text is)", False)
            else:
                self.open.append(("a", href, len(self.pieces)))
        elif tag == "br":
            self.pieces.append("<br>\n")
        elif tag in ("sub", "sup", "code"):
            self.pieces.append(f"<{tag}>")
        elif tag in ("ul", "ol"):
            if self.list_kind is not None:
                self.problem("a list inside a list in the HTML", True)
                return
            self.paragraph()
            self.list_kind, self.item = tag, 0
        elif tag == "li":
            self.list_item()
            self.in_item = True
        elif tag in ("p", "div"):
            self.paragraph()
        elif tag == "span":
            pass  # no look of its own once its attributes are checked
        else:
            self.problem(f"<{tag}> formatting in the HTML (its text is kept)", False)
            if tag in _BLOCK_TAGS:
                self.paragraph()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        elif tag in ("b", "strong", "i", "em", "a"):
            self.close_format(tag)
        elif tag in ("sub", "sup", "code"):
            self.pieces.append(f"</{tag}>")
        elif tag == "li":
            self.list_item()
        elif tag in ("ul", "ol"):
            self.end_list()
        elif tag in ("p", "div") or tag in _BLOCK_TAGS:
            self.paragraph()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.pieces.append(_escape_inline(re.sub(r"[ \t\r\n\f]+", " ", data)))

    def close_format(self, tag: str) -> None:
        group = ("b", "strong") if tag in ("b", "strong") else (
            ("i", "em") if tag in ("i", "em") else ("a",))
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] in group:
                break
        else:
            return
        while len(self.open) > index:
            self.wrap(*self.open.pop())

    def wrap(self, tag: str, marker: str, start: int) -> None:
        content = "".join(self.pieces[start:])
        del self.pieces[start:]
        core = content.strip()
        lead = content[: len(content) - len(content.lstrip())]
        trail = content[len(content.rstrip()):]
        if not core:
            self.pieces.append(content)
        elif tag == "a":
            href = marker.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
            self.pieces.append(f"{lead}[{core}]({href}){trail}")
        else:
            self.pieces.append(f"{lead}{marker}{core}{marker}{trail}")

    def flush(self) -> str:
        while self.open:
            self.wrap(*self.open.pop())
        text = "".join(self.pieces)
        self.pieces = []
        text = re.sub(r" *<br>\n *", "<br>\n", text).strip()
        # Editors end paragraphs with a <br> that shows nothing; in Markdown it would.
        text = re.sub(r"^(<br>\s*)+|(\s*<br>)+$", "", text)
        return "\n".join(_escape_line_start(line) for line in text.split("\n"))

    def paragraph(self) -> None:
        if self.in_item:
            return
        text = self.flush()
        if text:
            if self.list_kind is not None:
                self.list_lines.append(text.replace("\n", "\n    "))
            else:
                self.blocks.append(text)

    def list_item(self) -> None:
        text = self.flush()
        if self.in_item and text:
            self.item += 1
            prefix = f"{self.item}. " if self.list_kind == "ol" else "- "
            self.list_lines.append(prefix + text.replace("\n", "\n    "))
        elif text:
            self.list_lines.append(text)
        self.in_item = False

    def end_list(self) -> None:
        self.list_item()
        if self.list_lines:
            self.blocks.append("\n".join(self.list_lines))
        self.list_kind, self.list_lines = None, []

    def result(self, inline: bool) -> str:
        self.close_all()
        return ("<br>\n" if inline else "\n\n").join(b for b in self.blocks if b)

    def close_all(self) -> None:
        if self.list_kind is not None:
            self.end_list()
        self.paragraph()


def to_markdown(text: GiftText, inline: bool = False) -> tuple[str, list[LeftOut]]:
    """A GIFT text in Markdown as lms renders it, and what could not come along.

    ``[markdown]`` is kept as written; ``[plain]`` is escaped to show as typed; ``[html]`` and
    ``[moodle]`` (the default: HTML where a new line is a line break) go through the HTML
    conversion. ``inline``: for an option, where paragraphs become line breaks.
    """
    problems: list[LeftOut] = []
    body = text.text
    if "@@PLUGINFILE@@" in body:
        problems.append(LeftOut(text.line, "a file stored in Moodle (@@PLUGINFILE@@)", True))
    if text.format == "markdown":
        if re.search(r"!\[", body) or re.search(r"<img\b", body, re.I):
            problems.append(LeftOut(text.line, "an image: lms content cannot show it", True))
        for tag in sorted({t.lower() for t in re.findall(r"</?([A-Za-z][A-Za-z0-9]*)", body)}
                          - ALLOWED_TAGS - {"img"}):
            problems.append(LeftOut(text.line, f"<{tag}> in the Markdown: lms's sanitiser "
                                               "removes it", False))
        result = body.strip()
    elif text.format == "plain":
        result = _plain_to_markdown(body, inline)
    else:
        if text.format == "moodle":
            body = body.replace("\n", "<br>\n")
        converter = _HtmlToMarkdown(text.line)
        converter.feed(body)
        converter.close()
        result = converter.result(inline)
        problems += [LeftOut(line, reason, whole) for line, reason, whole in converter.problems]
    return _put_blank(result), problems


def _put_blank(text: str) -> str:
    """Moodle's blank: literal inside a line; escaped when alone on one, where it would be a
    rule."""
    lines = []
    for line in text.split("\n"):
        if line.strip() == _BLANK_MARK:
            line = line.replace(_BLANK_MARK, "\\_" * len(BLANK))
        lines.append(line.replace(_BLANK_MARK, BLANK))
    return "\n".join(lines)


# --- GIFT questions -> lms questions ---------------------------------------------------------


_WHY_NOT = {
    "description": "a description (text with no answer block): lms quizzes have only questions",
    "essay": "an essay question ({}): lms has no free-text answers",
    "short_answer": "a short-answer question ({=...}): lms has no typed answers",
    "numerical": "a numerical question ({#...}): lms has no typed answers",
    "matching": "a matching question ({=... -> ...}): lms has no matching questions",
}


@dataclass
class Conversion:
    """The quiz file's data and text, and what was left out or needs a look."""

    data: dict[str, Any]
    yaml_text: str
    converted: list[tuple[str, int]]  # (question key, GIFT line)
    left_out: list[LeftOut]
    notes: list[Note]
    source: str

    def report(self) -> list[str]:
        """Every left-out part and note as ``path:line: ...``, in file order."""
        rows = [(item.line, 0, f"{self.source}:{item.line}: left out: {item.reason}")
                for item in self.left_out]
        rows += [(note.line, 1, f"{self.source}:{note.line}: note: {note.reason}")
                 for note in self.notes]
        return [text for _, _, text in sorted(rows)]

    @property
    def questions_left_out(self) -> int:
        return sum(1 for item in self.left_out if item.whole_question)

    def summary(self, written: Path) -> str:
        done = f"Wrote {written}: {len(self.converted)} question(s) from {self.source}."
        if not self.left_out:
            return f"{done} Nothing was left out."
        parts = len(self.left_out) - self.questions_left_out
        return (f"{done} Left out (listed above): {self.questions_left_out} question(s) and "
                f"{parts} part(s) of converted ones.")


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")


def _key(q: GiftQuestion) -> str:
    """A key that stays with the question: its [id:], else its title, else a hash of what it
    says (so a new question never takes an old one's key)."""
    for candidate in (q.idnumber, q.title):
        slug = _slug(candidate or "")
        if slug:
            return slug
    return "q-" + hashlib.sha256(q.source.encode("utf-8")).hexdigest()[:8]


def _option_ids(count: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    ids = list(letters[:count])
    while len(ids) < count:
        ids.append(letters[len(ids) // 26 - 1] + letters[len(ids) % 26])
    return ids


def _normal(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".")


class _Objectives:
    def __init__(self, module: ModuleSpec) -> None:
        self.module = module
        self.ids = [o["id"] for o in module.objectives]
        self.texts = {_normal(o["text"]): o["id"] for o in module.objectives}

    def match(self, name: str) -> str | None:
        if _slug(name) in self.ids:
            return _slug(name)
        return self.texts.get(_normal(name))


def category_segments(category: str) -> list[str]:
    """A Moodle category path's names, deepest last: '/' separates, '//' is a slash in a name,
    and Moodle's own ``$course$``-style contexts and ``top`` are not names."""
    parts = re.split(r"(?<!/)/(?!/)", category)
    names = [p.replace("//", "/").strip() for p in parts]
    return [n for n in names if n and n != "top" and not re.fullmatch(r"\$\w+\$", n)]


def _indent(text: str) -> str:
    return text.replace("\n", "\n    ")


@dataclass
class _Built:
    spec: dict[str, Any] | None
    left_out: list[LeftOut]
    notes: list[Note]


def _convert_question(q: GiftQuestion, key: str, objectives: _Objectives,
                      default_objective: str | None) -> _Built:
    name = f"'{q.title}'" if q.title else "the question"

    def whole(reasons: list[str]) -> _Built:
        return _Built(None, [LeftOut(q.line, f"{name}: {'; '.join(reasons)}", True)], [])

    if q.kind in _WHY_NOT:
        reason = _WHY_NOT[q.kind]
        if q.kind == "short_answer" and any(a.text.text.upper() in _TRUE_FALSE
                                            for a in q.answers):
            reason += " (for a true/false question write TRUE or FALSE in capitals)"
        return whole([reason])
    left: list[LeftOut] = []
    notes: list[Note] = []

    def markdown(text: GiftText, inline: bool = False) -> str:
        result, problems = to_markdown(text, inline)
        left.extend(problems)
        return result

    spec: dict[str, Any] = {"id": key, "type": "", "objective": "",
                            "prompt": markdown(q.text)}
    if q.kind == "true_false":
        spec["type"], spec["answer"] = "true_false", bool(q.truth)
        labelled = [("True", q.true_feedback), ("False", q.false_feedback)]
        fallback = f"The statement is {'true' if q.truth else 'false'}."
    else:
        texts = [markdown(a.text, inline=True) for a in q.answers]
        shape, refusal = _choice(q, texts, left)
        if shape is None:
            return whole([refusal])
        spec.update(shape)
        labelled = [(text, a.feedback) for text, a in zip(texts, q.answers, strict=True)]
        right = [t for t, o in zip(texts, shape["options"], strict=True)
                 if o["id"] in (shape["answer"] if isinstance(shape["answer"], list)
                                else [shape["answer"]])]
        fallback = ("The right answer is: " if len(right) == 1 else
                    "The right answers are: ") + "; ".join(right)
        fallback += "" if fallback[-1] in ".?!…" else "."
    general = markdown(q.general_feedback) if q.general_feedback is not None else ""
    parts = [general] if general else []
    feedback = [(label, markdown(note)) for label, note in labelled if note is not None]
    items = [f"- {_indent(label)}: {_indent(text)}" for label, text in feedback if text]
    if items:
        parts.append("\n".join(items))
    if not spec["prompt"].strip():
        left.append(LeftOut(q.text.line, "its text is empty once converted", True))
    if "options" in spec and not all(o["text"].strip() for o in spec["options"]):
        left.append(LeftOut(q.line, "an answer is empty once converted", True))
    fatal = [item for item in left if item.whole_question]
    if fatal:
        return whole([item.reason + ("" if item.line == q.line else f" (line {item.line})")
                      for item in fatal])

    objective, problem, note = _objective(q, objectives, default_objective)
    if objective is None:
        return whole([problem or "no objective"])
    spec["objective"] = objective
    if problem:
        left.append(LeftOut(q.line, problem))
    if note:
        notes.append(Note(q.line, f"{name}: {note}"))
    if not parts:
        parts.append(fallback)
        notes.append(Note(q.line, f"{name}: no feedback in the GIFT file, so the rationale only "
                                  "names the right answer: say why"))
    spec["answer"] = spec.pop("answer")  # after the options, as quiz files have it
    spec["rationale"] = "\n\n".join(parts)
    return _Built(spec, [LeftOut(i.line, f"{name}: {i.reason}") for i in left], notes)


def _choice(q: GiftQuestion, texts: list[str], left: list[LeftOut]
            ) -> tuple[dict[str, Any] | None, str]:
    """Moodle's multichoice as lms's single (an answer marked '=') or multiple (only weights:
    Moodle's checkboxes); partial credit and penalties are listed in ``left``."""
    ids = _option_ids(len(q.answers))
    options = [{"id": i, "text": t} for i, t in zip(ids, texts, strict=True)]
    rights = [a for a in q.answers if a.mark == "="]
    if rights:
        if len(rights) > 1:
            lines = ", ".join(str(n) for n in sorted({a.line for a in rights}))
            return None, (f"{len(rights)} answers are marked '=' (line {lines}): a "
                          "single-choice question in lms has one right answer")
        partial = [a for a in q.answers if a.percent not in (None, 0.0)
                   and not (a.mark == "=" and a.percent == 100.0)]
        if partial:
            left.append(_partial(partial, "the answer marked '=' is the only right one"))
        return {"type": "single", "options": options,
                "answer": ids[q.answers.index(rights[0])]}, ""
    positive = [i for i, a in zip(ids, q.answers, strict=True) if (a.percent or 0) > 0]
    if not positive:
        return None, ("no answer is right (mark one with '=', or give the right ones a "
                      "positive weight like ~%50%)")
    if len(q.answers) < 3:
        return None, ("a multiple-answer question (no '=') with two answers: lms's multiple "
                      "choice needs three or more options")
    partial = [a for a in q.answers if a.percent not in (None, 0.0, 100.0)]
    if partial:
        left.append(_partial(partial, "it counts as right when exactly the answers with a "
                                      "positive weight are chosen"))
    return {"type": "multiple", "options": options, "answer": positive}, ""


def _partial(answers: list[GiftAnswer], rule: str) -> LeftOut:
    weights = ", ".join(f"{a.mark}%{a.weight}% (line {a.line})" for a in answers)
    return LeftOut(answers[0].line, f"partial credit and penalties {weights}: lms scores a "
                                    f"question all or nothing, and {rule}")


def _objective(q: GiftQuestion, objectives: _Objectives, default: str | None
               ) -> tuple[str | None, str | None, str | None]:
    """(objective, left-out text, note). Tags first (they name this question), then the
    category's names from the deepest, then --objective, then a module's only objective."""
    chosen = None
    unused = []
    for tag in q.tags:
        found = objectives.match(tag)
        if found and chosen is None:
            chosen = found
        else:
            unused.append(tag)
    left = None
    if unused:
        names = ", ".join(f"'{t}'" for t in unused)
        left = (f"{'tag' if len(unused) == 1 else 'tags'} {names}: lms questions have no tags "
                "(a tag naming an objective sets the question's, and a question tests one)")
    if chosen is None and q.category:
        for name in reversed(category_segments(q.category)):
            chosen = objectives.match(name)
            if chosen:
                break
    if chosen is not None:
        return chosen, left, None
    ids = ", ".join(objectives.ids)
    where = (f"its category '{q.category}' (line {q.category_line})" if q.category
             else "it has no $CATEGORY")
    if default is not None:
        return default, left, f"{where} names no objective, so it tests '{default}' (--objective)"
    if len(objectives.ids) == 1:
        return objectives.ids[0], left, (f"{where} names no objective; it tests the module's "
                                         f"only objective, '{objectives.ids[0]}'")
    return None, (f"{where} names none of the objectives of module "
                  f"'{objectives.module.slug}' ({ids}): name a category or a [tag:] after one, "
                  "or give --objective"), None


class _Flow(list):
    """A list written on one line, as ``answer: [a, c]`` is in quiz files."""


class _QuizDumper(yaml.SafeDumper):
    """Quiz files as people write them: lists indented under their key, texts of several lines
    as ``|`` blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _flow(dumper: yaml.SafeDumper, value: _Flow) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_QuizDumper.add_representer(str, _str)
_QuizDumper.add_representer(_Flow, _flow)


def convert(gift: GiftFile, module: ModuleSpec, *, objective: str | None = None,
            retake_wait_minutes: int | None = None) -> Conversion:
    """The quiz for ``module`` from a parsed GIFT file. ``objective``: for questions whose
    category and tags name none of the module's objectives. ``retake_wait_minutes``: written
    only when given (the curriculum's default applies otherwise)."""
    objectives = _Objectives(module)
    if objective is not None and objective not in objectives.ids:
        raise GiftImportError(f"--objective '{objective}' is not an objective of module "
                              f"'{module.slug}' ({', '.join(objectives.ids)})")
    questions, converted, left_out, notes = [], [], [], []
    keys: dict[str, int] = {}
    for q in gift.questions:
        key = _key(q)
        if key in keys:
            base, number = key, 2
            while f"{base}-{number}" in keys:
                number += 1
            key = f"{base}-{number}"
            notes.append(Note(q.line, f"the key '{base}' is taken by the question on line "
                                      f"{keys[base]}, so this one is '{key}': give questions "
                                      "their own titles to keep keys stable"))
        keys[key] = q.line
        built = _convert_question(q, key, objectives, objective)
        left_out += built.left_out
        notes += built.notes
        if built.spec is not None:
            questions.append(built.spec)
            converted.append((key, q.line))
    data: dict[str, Any] = {"module": module.slug, "pass_mark": DEFAULT_PASS_MARK,
                            "attempts_allowed": DEFAULT_ATTEMPTS}
    if retake_wait_minutes is not None:
        data["retake_wait_minutes"] = retake_wait_minutes
    data["shuffle"] = False
    data["questions"] = questions
    name = Path(gift.path).name
    header = (f"# Imported from {name} by `lms import-gift`. Check pass_mark, attempts_allowed,\n"
              "# review and shuffle, and the options' order: Moodle shuffles answers, lms shows\n"
              "# them in this order.\n")
    shown = {**data, "questions": [
        {k: _Flow(v) if isinstance(v, list) and k == "answer" else v for k, v in q.items()}
        for q in questions]}
    body = yaml.dump(shown, Dumper=_QuizDumper, sort_keys=False, allow_unicode=True, width=96,
                     default_flow_style=False)
    return Conversion(data, header + body, converted, left_out, notes, gift.path)


# --- importing into the content folders ------------------------------------------------------


class GiftImportError(Exception):
    """The import was refused; nothing was written. ``conversion`` is set when the refusal came
    after converting (its report explains it)."""

    def __init__(self, message: str, conversion: Conversion | None = None,
                 problems: list[ContentProblem] | None = None) -> None:
        super().__init__(message)
        self.conversion = conversion
        self.problems = problems or []


@dataclass
class ImportResult:
    path: Path
    conversion: Conversion


def find_module(curricula_dir: Path, module_id: str) -> tuple[ModuleSpec, int | None]:
    """The module and its curriculum's default retake wait, read by the loader."""
    curricula_dir = Path(curricula_dir)
    out = _Collector(curricula_dir.parent)
    parsed: dict[str, ModuleSpec] = {}
    waits: dict[str, int | None] = {}
    folders = sorted(p for p in curricula_dir.iterdir() if p.is_dir()) if curricula_dir.is_dir(
    ) else []
    for folder in folders:
        curriculum = load_curriculum(folder, out, parsed)
        if curriculum is not None:
            waits.update({m.slug: curriculum.default_retake_wait_minutes
                          for m in curriculum.modules})
    if module_id in parsed:
        return parsed[module_id], waits.get(module_id)
    own = [p for p in out.problems if Path(p.path).stem == module_id]
    if own:
        raise GiftImportError(f"module '{module_id}' has problems: fix them first", problems=own)
    known = ", ".join(sorted(parsed)) or "none"
    raise GiftImportError(f"no module '{module_id}' in {curricula_dir} (modules: {known}); "
                          "--module takes a module's id, the name of its .md file")


def import_gift(gift_path: Path, module_id: str, *, curricula_dir: Path, quizzes_dir: Path,
                objective: str | None = None, force: bool = False,
                display: str | None = None) -> ImportResult:
    """Convert ``gift_path`` into ``quizzes_dir/<module_id>.yaml`` and write it once the loader
    accepts the content with it. Raises ``ContentError`` (GIFT syntax) or ``GiftImportError``;
    either way nothing is written."""
    if not re.fullmatch(SLUG_PATTERN, module_id):
        raise GiftImportError(f"'{module_id}' is not a module id (lowercase letters, digits and "
                              "hyphens, the name of the module's .md file)")
    gift = read_gift(Path(gift_path), display)
    curricula_dir, quizzes_dir = Path(curricula_dir), Path(quizzes_dir)
    target = quizzes_dir / f"{module_id}.yaml"
    other = quizzes_dir / f"{module_id}.yml"
    if other.exists():
        raise GiftImportError(f"{other} is module '{module_id}''s quiz: remove it (or import "
                              "into it by hand) first")
    if target.exists() and not force:
        raise GiftImportError(f"{target} already exists: add --force to replace it")
    module, default_wait = find_module(curricula_dir, module_id)
    conversion = convert(gift, module, objective=objective,
                         retake_wait_minutes=DEFAULT_RETAKE_WAIT_MINUTES
                         if default_wait is None else None)
    if default_wait is None:
        conversion.notes.append(Note(1, f"the curriculum sets no default_retake_wait_minutes, "
                                        f"so the quiz waits {DEFAULT_RETAKE_WAIT_MINUTES} minutes "
                                        "after a failed attempt"))
    if not conversion.converted:
        raise GiftImportError("nothing to write: every question was left out", conversion)
    problems = check_with_loader(conversion.yaml_text, module_id, curricula_dir, quizzes_dir)
    if problems:
        raise GiftImportError(f"the quiz was not written: `lms validate` would refuse the "
                              f"content with it ({len(problems)} problem(s))", conversion,
                              problems)
    quizzes_dir.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=quizzes_dir, prefix=f".{module_id}.",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(conversion.yaml_text)
        os.replace(temporary, target)  # whole or not at all
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return ImportResult(target, conversion)


def check_with_loader(yaml_text: str, module_id: str, curricula_dir: Path,
                      quizzes_dir: Path) -> list[ContentProblem]:
    """Load the whole content as ``lms validate`` would, with this quiz in place of the
    module's: every problem, the quiz's reported under its real path."""
    root = Path(curricula_dir).parent
    with tempfile.TemporaryDirectory() as folder:
        staged = Path(folder) / "quizzes"
        staged.mkdir()
        if Path(quizzes_dir).is_dir():
            for path in sorted([*quizzes_dir.glob("*.yaml"), *quizzes_dir.glob("*.yml")]):
                if path.name != f"{module_id}.yaml":
                    shutil.copyfile(path, staged / path.name)
        (staged / f"{module_id}.yaml").write_text(yaml_text, encoding="utf-8")
        try:
            load_content(curricula_dir, staged, root=root)
        except ContentError as exc:
            return [_unstage(p, staged, quizzes_dir, root) for p in exc.problems]
    return []


def _unstage(problem: ContentProblem, staged: Path, quizzes_dir: Path,
             root: Path) -> ContentProblem:
    if not problem.path.startswith(str(staged)):
        return problem
    real = Path(quizzes_dir) / Path(problem.path).name
    try:
        shown = str(real.resolve().relative_to(root.resolve()))
    except ValueError:
        shown = str(real)
    return ContentProblem(shown, problem.line, problem.reason)
