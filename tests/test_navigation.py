"""The main navigation: links by role, the current page marked, and the links kept per kind
of page (lms.web.navigation) without one viewer's links reaching another."""

from __future__ import annotations

import re

from lms.web import navigation


def nav_links(html: str) -> list[tuple[str, str | None]]:
    """(label, aria-current) of each link in the main navigation's list."""
    nav = html[html.index('<nav aria-label'):html.index("</nav>")]
    return [(label, current or None) for current, label in re.findall(
        r'<li><a href="[^"]+"(?: aria-current="(\w+)")?>([^<]+)</a></li>', nav)]


def test_a_trainee_sees_their_links_with_the_current_page_marked(client_for, trainee, module):
    client = client_for(trainee)
    links = nav_links(client.get("/dashboard").get_data(as_text=True))
    assert links == [("My training", "page"), ("My progress", None), ("Sessions", None),
                     ("Attendance", None), ("My check-ins", None), ("My supervision", None),
                     ("Language", None), ("Password", None)]
    # A page inside "My training" marks it as the section, and no other link.
    inside = nav_links(client.get(f"/modules/{module('listening').slug}").get_data(as_text=True))
    assert [c for _label, c in inside] == ["true"] + [None] * 7
    progress = nav_links(client.get("/progress").get_data(as_text=True))
    assert ("My progress", "page") in progress and ("My training", None) in progress


def test_staff_links_follow_the_roles_not_the_last_page_kept(client_for, trainee, make_person):
    trainer = make_person("trainer")
    admin = make_person("admin")
    client_for(trainee).get("/account/language")  # keeps a trainee's links for this page
    for person, wanted, unwanted in [
            (trainer, {"Cohorts", "Curricula"}, {"My training", "People"}),
            (admin, {"Cohorts", "Curricula", "People", "Audit log"}, {"My training"})]:
        labels = {label for label, _c in nav_links(
            client_for(person).get("/account/language").get_data(as_text=True))}
        assert wanted <= labels and not labels & unwanted, (person.roles, labels)


def test_the_links_kept_in_one_language_are_not_shown_in_another(client_for, trainee):
    client = client_for(trainee)
    english = nav_links(client.get("/dashboard", headers={"Accept-Language": "en"})
                        .get_data(as_text=True))
    french = nav_links(client.get("/dashboard", headers={"Accept-Language": "fr"})
                       .get_data(as_text=True))
    assert english[0] == ("My training", "page")
    assert french[0] == ("Ma formation", "page")


def test_the_links_kept_are_bounded(app, client_for, trainee, monkeypatch):
    monkeypatch.setattr(navigation, "MOST_KEPT", 3)
    client = client_for(trainee)
    for path in ["/dashboard", "/progress", "/my/attendance", "/my/check-ins", "/account/language"]:
        assert client.get(path).status_code == 200
        assert len(app.extensions[navigation._KEPT]) <= 3
    # Each page still shows its own current link after the cache was emptied.
    assert ("Language", "page") in nav_links(
        client.get("/account/language").get_data(as_text=True))


def test_nobody_signed_in_gets_no_links(client):
    html = client.get("/login").get_data(as_text=True)
    assert nav_links(html) == []
    assert navigation.main_nav(None) == ""


def test_the_links_are_rendered_once_per_kind_of_page_unless_templates_reload(
        app, client_for, trainee, monkeypatch):
    rendered = []
    get_template = app.jinja_env.get_template

    def counting(name, *args, **kwargs):
        if name == "lms/_main_nav.html":
            rendered.append(name)
        return get_template(name, *args, **kwargs)

    monkeypatch.setattr(app.jinja_env, "get_template", counting)
    client = client_for(trainee)
    first = client.get("/dashboard").get_data(as_text=True)
    second = client.get("/dashboard").get_data(as_text=True)
    assert len(rendered) == 1 and nav_links(first) == nav_links(second)
    client.get("/progress")  # another page: its own links, with its own current page
    assert len(rendered) == 2
    # A developer editing templates (auto-reload) sees an edited menu on the next page.
    monkeypatch.setattr(app.jinja_env, "auto_reload", True)
    client.get("/progress")
    client.get("/progress")
    assert len(rendered) == 4
