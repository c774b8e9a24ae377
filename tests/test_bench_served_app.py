"""The benchmark server's headers (bench/served_app.py, read by bench/run.py): the statements a
request ran and where its time went inside the worker."""

from __future__ import annotations

import pytest

from bench.run import parse_split
from bench.served_app import QUERY_HEADER, SPLIT_HEADER, add_query_header, add_split_header


def test_a_page_says_its_statements_and_where_its_time_went(app, trainee, login):
    add_query_header(app)
    add_split_header(app)
    client = login(trainee)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert int(page.headers[QUERY_HEADER]) > 0
    split = parse_split(page.headers[SPLIT_HEADER])
    assert set(split) == {"sql", "render", "request"}
    assert split["sql"] > 0 and split["render"] > 0
    assert split["request"] >= split["sql"] + split["render"]


@pytest.mark.parametrize("value", [None, "", "sql=1;render=x", "sql"])
def test_a_missing_or_broken_split_is_no_figures(value):
    assert parse_split(value) == {}


def test_a_split_reads_as_numbers():
    assert parse_split("sql=1.25;render=0.5;request=3") == {"sql": 1.25, "render": 0.5,
                                                            "request": 3.0}


def test_the_floor_route_answers_a_logged_in_person_only(app, client, trainee, login):
    from bench.served_app import add_bare_route

    add_bare_route(app)
    assert client.get("/bench/floor?bytes=2000").status_code == 403
    assert client.get("/bench/bare?bytes=2000").status_code == 200
    page = login(trainee).get("/bench/floor?bytes=2000")
    assert page.status_code == 200
    assert 1800 <= len(page.data) <= 2200  # about the size asked for
