"""Markdown to sanitised HTML. Raw HTML passes through Markdown, so nh3 has the last word."""

from __future__ import annotations

from html.parser import HTMLParser

import markdown as md
import nh3
from markdown.extensions.toc import slugify, slugify_unicode

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "mark", "ol", "p", "pre", "s",
    "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}
# Content may not carry the page's own classes or ids (a Markdown file could otherwise draw a
# "flash flash-error" box, or take the page's "main"). Classes: only those the Markdown
# extensions in use write (lms.css styles .footnote and .toc); ids: all prefixed.
CONTENT_CLASSES = {
    "div": frozenset({"footnote", "toc"}),  # the footnotes list; the toc extension's [TOC]
    "a": frozenset({"footnote-ref", "footnote-backref"}),
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "abbr": {"title"},
    "div": {"class"},
    "td": {"align"},
    "th": {"align"},
    "*": {"id"},
}
# Short notes (quiz options) sit inside the page's own elements: no ids and no classes.
INLINE_ATTRIBUTES = {tag: names - {"class"} for tag, names in ALLOWED_ATTRIBUTES.items()
                     if tag != "*"}
ALLOWED_SCHEMES = {"http", "https", "mailto"}

ID_PREFIX = "c-"


def content_id(name: str) -> str:
    """The id that ``name`` (a heading's ``{#name}``, a footnote's ``fn:1``) has on a page."""
    return f"{ID_PREFIX}{name}"


def heading_id(value: str, separator: str) -> str:
    """A heading's id before its prefix: stable (it depends only on the heading's text),
    readable in any script.

    Latin text gives the ids it always gave ("Écoute active": ``ecoute-active``); other scripts,
    which would give nothing, keep their letters. ``## Limits {#conf-limits}`` keeps the id the
    author gave. Repeated headings get ``_1``, ``_2``... from the toc extension, in order.
    ``sanitise_html`` then puts ``ID_PREFIX`` in front, so no heading takes an id of the page.
    """
    return slugify(value, separator) or slugify_unicode(value, separator) or "section"


_EXTENSIONS = ["extra", "sane_lists", "pymdownx.tilde", "toc"]
_EXTENSION_CONFIGS = {"toc": {"slugify": heading_id}}


def _to_html(text: str) -> str:
    return md.markdown(text, extensions=_EXTENSIONS, extension_configs=_EXTENSION_CONFIGS,
                       output_format="html")


def render_markdown(text: str) -> str:
    """Render Markdown and sanitise the result: no scripts, handlers or javascript: links.

    Headings get ids (see ``heading_id``), prefixed by ``sanitise_html`` like every id, so
    pages can link to sections.
    """
    return sanitise_html(_to_html(text))


class _Sections(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self._open: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._open = (dict(attrs).get("id") or "", [])

    def handle_data(self, data):
        if self._open is not None:
            self._open[1].append(data)

    def handle_endtag(self, tag):
        if tag == "h2" and self._open is not None:
            anchor, text = self._open
            self._open = None
            title = " ".join("".join(text).split())
            if anchor and title:
                self.found.append((anchor, title))


def sections(html: str | None) -> list[tuple[str, str]]:
    """The ``(id, text)`` of every ``<h2>`` with an id in (sanitised) HTML, in order; the id is
    the one on the page (``content_id`` of the heading's own)."""
    parser = _Sections()
    parser.feed(html or "")
    parser.close()
    return parser.found


def _content_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Classes only from ``CONTENT_CLASSES``; every id gets ``ID_PREFIX``, and every link to
    an id in the same page follows it, so the table of contents, footnotes and
    ``[see](#conf-limits)`` still arrive."""
    if attribute == "class":
        kept = [name for name in value.split() if name in CONTENT_CLASSES.get(tag, ())]
        return " ".join(kept) or None
    if attribute == "id":
        return content_id(value)
    if attribute == "href" and value.startswith("#") and len(value) > 1:
        return "#" + content_id(value[1:])
    return value


def sanitise_html(html: str, *, inline: bool = False) -> str:
    """Keep only ``ALLOWED_TAGS`` with their ``ALLOWED_ATTRIBUTES`` and ``CONTENT_CLASSES``;
    prefix ids. ``inline``: keep no id or class at all (``INLINE_ATTRIBUTES``)."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=INLINE_ATTRIBUTES if inline else ALLOWED_ATTRIBUTES,
        attribute_filter=_content_attribute,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer",
    )


def render_inline_markdown(text: str) -> str:
    """Render a short text (a quiz option) without the surrounding paragraph, ids or classes."""
    html = sanitise_html(_to_html(text), inline=True).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html
