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
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"align"},
    "th": {"align"},
    "*": {"id", "class"},
}
ALLOWED_SCHEMES = {"http", "https", "mailto"}

# Ids the module page itself uses; a heading with one of these names gets "section-" in front.
PAGE_IDS = frozenset({"main", "content", "top", "objectives", "on-this-page", "error-summary"})


def heading_id(value: str, separator: str) -> str:
    """A heading's id: stable (it depends only on the heading's text), readable in any script.

    Latin text gives the ids it always gave ("Écoute active": ``ecoute-active``); other scripts,
    which would give nothing, keep their letters. ``## Limits {#conf-limits}`` keeps the id the
    author gave. Repeated headings get ``_1``, ``_2``... from the toc extension, in order.
    """
    slug = slugify(value, separator) or slugify_unicode(value, separator)
    return slug if slug and slug not in PAGE_IDS else f"section-{slug}".rstrip("-")


_EXTENSIONS = ["extra", "sane_lists", "pymdownx.tilde", "toc"]
_EXTENSION_CONFIGS = {"toc": {"slugify": heading_id}}


def render_markdown(text: str) -> str:
    """Render Markdown and sanitise the result: no scripts, handlers or javascript: links.

    Headings get ids (see ``heading_id``), which nh3 keeps, so pages can link to sections.
    """
    html = md.markdown(text, extensions=_EXTENSIONS, extension_configs=_EXTENSION_CONFIGS,
                       output_format="html")
    return sanitise_html(html)


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
    """The ``(id, text)`` of every ``<h2>`` with an id in (sanitised) HTML, in order."""
    parser = _Sections()
    parser.feed(html or "")
    parser.close()
    return parser.found


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer",
    )


def render_inline_markdown(text: str) -> str:
    """Render a short text (a quiz option) without the surrounding paragraph."""
    html = render_markdown(text).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html
