"""Hostile Markdown never reaches a page as live HTML or script."""

from __future__ import annotations

import pytest

from lms.content.markdown import render_inline_markdown, render_markdown

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
    assert '<h2 id="heading">Heading</h2>' in html
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
