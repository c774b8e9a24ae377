"""Hostile Markdown never reaches a page as live HTML or script."""

from __future__ import annotations

import re

import pytest

from lms.content.loader import load_content
from lms.content.markdown import (
    CONTENT_CLASSES,
    content_id,
    render_inline_markdown,
    render_markdown,
    sections,
)
from tests.conftest import ROOT

HOSTILE = [
    "<script>alert('x')</script>",
    '<img src="x" onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<div onclick="steal()">hi</div>',
    "<svg/onload=alert(1)>",
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    "<style>body{display:none}</style>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_is_neutralised(text):
    html = render_markdown(text).lower()
    assert "<script" not in html
    assert "onerror" not in html and "onclick" not in html and "onload" not in html
    assert "javascript:" not in html
    assert "<iframe" not in html and "<svg" not in html and "<style" not in html
    assert "data:text/html" not in html


def test_ordinary_markdown_survives():
    html = render_markdown("## Heading\n\nSome **bold** and a [link](https://example.org).\n\n"
                           "- one\n- two\n")
    assert '<h2 id="c-heading">Heading</h2>' in html
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.org"' in html and 'rel="noopener noreferrer"' in html
    assert "<li>one</li>" in html


def test_inline_markdown_drops_the_paragraph():
    assert render_inline_markdown("a *b*") == "a <em>b</em>"
    assert "<script" not in render_inline_markdown("<script>x</script>ok")


def test_hostile_content_in_a_module_never_reaches_the_page(app, db, tmp_path, trainee, login):
    """End to end: a module file with a script in it is synced and served sanitised."""
    from lms.models import Module
    from lms.services.progress import module_for_person

    module = module_for_person(db, trainee.id, "listening")
    assert isinstance(module, Module)
    module.body_html = render_markdown("Hi <script>alert(1)</script><img src=x onerror=alert(2)>")
    db.commit()
    page = login(trainee).get("/modules/listening").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "onerror" not in page


FAKE_FLASH = ('<div class="flash flash-error" id="main" role="alert" markdown="1">Your account '
              'is locked. [Unlock it](https://evil.example/unlock)</div>\n\n'
              '## Limits {#error-summary .flash .flash-error .button}\n\n'
              '[Log in again](#main){: .button .button-warning #email}\n')


def classes(html: str) -> set[str]:
    return {name for value in re.findall(r'\bclass="([^"]*)"', html) for name in value.split()}


def ids(html: str) -> list[str]:
    return re.findall(r'\bid="([^"]*)"', html)


def test_content_cannot_fake_the_interface():
    html = render_markdown(FAKE_FLASH)
    assert classes(html) == set()  # flash, button: gone from every tag
    assert "role=" not in html
    assert ids(html) == ["c-main", "c-error-summary", "c-email"]  # never the page's own
    assert 'href="#c-main"' in html  # the link follows its target's prefix
    assert "Your account is locked." in html  # the words stay; only the look goes


def test_ids_are_prefixed_and_links_inside_the_content_follow():
    html = render_markdown(
        "# Title\n\n[TOC]\n\n## Why it matters\n\n## Limits {#conf-limits}\n\n"
        "See [the limits](#conf-limits) and a note.[^1] Elsewhere: "
        "[a page](https://example.org/page#frag), [top](#).\n\n[^1]: The note.\n")
    assert all(value.startswith("c-") for value in ids(html))
    assert '<h2 id="c-why-it-matters">' in html
    assert f'<h2 id="{content_id("conf-limits")}">' in html
    assert sections(html) == [("c-why-it-matters", "Why it matters"),
                              ("c-conf-limits", "Limits")]
    # Every link to an id in the content (table of contents, footnotes, authors' own) lands.
    targets = re.findall(r'href="#([^"]+)"', html)
    assert {"c-why-it-matters", "c-conf-limits", "c-fn:1", "c-fnref:1"} <= set(targets)
    assert set(targets) <= set(ids(html))
    # Other links are left as they are.
    assert 'href="https://example.org/page#frag"' in html and 'href="#"' in html
    # The classes the extensions write, which the stylesheet styles, survive on their tags.
    assert '<div class="toc">' in html and '<div class="footnote">' in html
    assert 'class="footnote-ref"' in html and 'class="footnote-backref"' in html


def test_allowed_classes_survive_only_on_their_own_tags():
    html = render_markdown('<div class="footnote flash">a</div>\n\n'
                           '<p><span class="footnote">b</span> '
                           '<a class="footnote-ref button" href="#x">c</a></p>\n\n'
                           '```python\nx = 1\n```\n')
    assert '<div class="footnote">a</div>' in html
    assert "<span>b</span>" in html
    assert '<a class="footnote-ref" href="#c-x"' in html
    assert classes(html) == {"footnote", "footnote-ref"}  # no language-python either
    assert classes(html) <= {name for names in CONTENT_CLASSES.values() for name in names}


def test_inline_markdown_keeps_no_id_or_class():
    html = render_inline_markdown('<span class="flash flash-error" id="main">Locked</span> '
                                  '<a class="footnote-ref" id="x" href="#y">see</a> *now*'
                                  '{: #z .button}')
    assert "class=" not in html and "id=" not in html
    assert "<span>Locked</span>" in html and "<em>now</em>" in html
    assert 'href="#c-y"' in html  # still points where an id in content would be


def test_the_shipped_content_renders_with_prefixed_ids_and_allowed_classes():
    bundle = load_content(ROOT / "curricula", ROOT / "quizzes", root=ROOT)
    allowed = {name for names in CONTENT_CLASSES.values() for name in names}
    pages = []
    for curriculum in bundle.curricula:
        for module in curriculum.modules:
            html = render_markdown(module.body)
            assert len(sections(html)) >= 3, module.slug  # the page's "On this page"
            pages.append(html)
        pages += [render_markdown(agreement.body) for agreement in curriculum.agreements]
    for quiz in bundle.quizzes:
        for question in quiz.questions:
            pages += [render_markdown(question.prompt), render_markdown(question.rationale)]
            for option in question.options:
                inline = render_inline_markdown(option["text"])
                assert "id=" not in inline and "class=" not in inline
    assert len(pages) > 50
    for html in pages:
        assert classes(html) <= allowed
        assert all(value.startswith("c-") for value in ids(html))
        assert set(re.findall(r'href="#([^"]+)"', html)) <= set(ids(html))


def test_module_page_shows_content_without_the_fake_box_and_its_contents_links_land(
        db, trainee, login, module):
    found = module("listening")
    found.body_html = render_markdown("# Listening\n\n" + FAKE_FLASH + "\n## First part\n\nA.\n")
    db.commit()
    page = login(trainee).get("/modules/listening").get_data(as_text=True)
    content = page[page.index('<div class="content">'):page.index("</article>")]
    assert "flash" not in content and "button" not in content and "Your account" in content
    assert page.count('id="main"') == 1 and 'id="email"' not in page  # the page's own only
    start = page.index('<nav class="toc"')
    nav = page[start:page.index("</nav>", start)]
    assert '<a href="#c-first-part">First part</a>' in nav and 'id="c-first-part"' in content
    assert '<a href="#c-error-summary">Limits</a>' in nav
