"""Pages of long lists: how many, and which page a request gets."""

from __future__ import annotations

from lms.services import paging


def test_an_empty_list_still_has_one_page():
    assert paging.page_count(0, 50) == 1
    assert paging.page_count(50, 50) == 1
    assert paging.page_count(51, 50) == 2


def test_a_page_out_of_range_is_the_nearest_real_page():
    assert paging.clamp(0, 120, 50) == 1
    assert paging.clamp(-3, 120, 50) == 1
    assert paging.clamp(999, 120, 50) == 3
    assert paging.clamp(2, 120, 50) == 2
    assert paging.offset(3, 50) == 100


def test_people_and_audit_pages_use_the_same_rule(db, make_person):
    from lms.services import accounts

    for number in range(5):
        make_person("trainee", name=f"Person {number}")
    found = accounts.search_people(db, "person", page=99, per_page=2)
    assert (found.page, found.pages, found.total) == (3, 3, 5)
    assert [p.name for p in found.people] == ["Person 4"]
