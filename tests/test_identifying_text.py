"""Identifying text: each pattern found in realistic debrief text, and the everyday numbers of
a debrief (years, durations, counts, recent dates) left alone."""

from __future__ import annotations

from datetime import date

import pytest

from lms.services import identifying_text
from lms.services.identifying_text import (
    DATE_OF_BIRTH,
    EMAIL,
    HEALTH_RECORD_NUMBER,
    PHONE,
    Finding,
    find,
    find_in_fields,
    nhs_number_is_valid,
)

TODAY = date(2026, 11, 29)


def found(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.excerpt) for f in find(text, today=TODAY)]


@pytest.mark.parametrize(("text", "kind", "excerpt"), [
    # phone numbers
    ("He said to ring his sister on +44 7700 900123 if things got worse.", PHONE,
     "+44 7700 900123"),
    ("She gave me her mobile, 07700 900123, and asked me to call back.", PHONE,
     "07700 900123"),
    ("Left a message at (555) 123-4567 for the outreach team.", PHONE, "(555) 123-4567"),
    ("The client's number is 555-123-4567.", PHONE, "555-123-4567"),
    ("Her landline is 020 7946 0958 but she rarely answers.", PHONE, "020 7946 0958"),
    ("Try +44 (0)7700 900123 after six.", PHONE, "+44 (0)7700 900123"),
    ("He texted from 07700900123 at night.", PHONE, "07700900123"),
    ("Call 555-1234 for the night shelter.", PHONE, "555-1234"),
    # email addresses
    ("He emailed me from jo.bloggs+help@example.co.uk asking for the group times.", EMAIL,
     "jo.bloggs+help@example.co.uk"),
    # dates of birth: next to a DOB word (even without a year), or a full date over 10 years ago
    ("Client DOB 12/03/1985, living alone.", DATE_OF_BIRTH, "12/03/1985"),
    ("She mentioned her d.o.b. is 3 Dec and that her birthday is hard.", DATE_OF_BIRTH,
     "3 Dec"),
    ("Her son was born on 3 December and she worries about him.", DATE_OF_BIRTH,
     "3 December"),
    ("Date of birth: 1990-07-21.", DATE_OF_BIRTH, "1990-07-21"),
    ("He talked about 12 March 1985 a lot, the day everything changed.", DATE_OF_BIRTH,
     "12 March 1985"),
    ("Records say March 12, 1985.", DATE_OF_BIRTH, "March 12, 1985"),
    ("Referral form had 1985-03-12 on it.", DATE_OF_BIRTH, "1985-03-12"),
    ("She was born in March 1985.", DATE_OF_BIRTH, "March 1985"),
    # health-record numbers
    ("His NHS number 943 476 5919 was on the letter he showed me.", HEALTH_RECORD_NUMBER,
     "NHS number 943 476 5919"),
    ("The letter showed 943 476 5919 in the corner.", HEALTH_RECORD_NUMBER, "943 476 5919"),
    ("A card with 9434765919 on it.", HEALTH_RECORD_NUMBER, "9434765919"),
    ("Discharge summary, MRN: RX123456, was in her bag.", HEALTH_RECORD_NUMBER,
     "MRN: RX123456"),
    ("He read out his hospital number AB12345 to the nurse.", HEALTH_RECORD_NUMBER,
     "hospital number AB12345"),
    ("Patient ID A1234567 was on the wristband.", HEALTH_RECORD_NUMBER,
     "Patient ID A1234567"),
    ("Record no. 55-10293 from the clinic.", HEALTH_RECORD_NUMBER, "Record no. 55-10293"),
    ("His SSN 123-45-6789 was on the form.", HEALTH_RECORD_NUMBER, "123-45-6789"),
])
def test_each_pattern_is_found(text, kind, excerpt):
    findings = find(text, today=TODAY)
    assert [(f.kind, f.excerpt) for f in findings] == [(kind, excerpt)]
    only = findings[0]
    assert text[only.start:only.end] == excerpt


@pytest.mark.parametrize("text", [
    "In 2024 we met every week; the call lasted 45 minutes.",
    "After 3 sessions she felt more settled; we spoke for 1.5 hours.",
    "On 3 December we met at the drop-in and talked about her week.",
    "She counted out loud: 1 2 3, then breathed.",
    "The group ran from 9.30-10.45 and again 10:30-11:45.",
    "In 2023 450 people used the service.",
    "The 2024-2025 funding round and the 2024/25 plan.",
    "Between 2019 and 2024 he moved three times.",
    "The meeting on 2026-11-03 went well; the next is on 12/11/2026.",
    "She owes £1,500,000? No: 1 500 000 people use the NHS 111 line.",
    "Half of them (5 of 10) left after 1/2 hour.",
    "It was a record number of calls for a Monday.",
    "We may meet on 3 May or May 20 if the room is free.",
    "Version 1.2.3 of the leaflet; page 12, line 4.",
    "943 476 5918 is not a valid NHS number, but it is a phone-like number.",
])
def test_everyday_numbers_are_left_alone(text):
    findings = found(text)
    if text.startswith("943"):  # the check digit is wrong: it is pointed out as a phone only
        assert findings == [(PHONE, "943 476 5918")]
    else:
        assert findings == []


def test_a_full_date_counts_as_a_birth_date_only_when_over_ten_years_ago():
    assert found("It happened on 12/03/2020.") == []
    assert found("It happened on 12/03/2015.") == [(DATE_OF_BIRTH, "12/03/2015")]
    # Day and month order unknown: 03/12/2016 could be 12 March or 3 December 2016.
    assert found("on 03/12/2016") == [(DATE_OF_BIRTH, "03/12/2016")]
    assert found("on 03/12/2017") == []


def test_a_dob_word_after_the_date_counts_too():
    assert found("4 June is her birthday") == [(DATE_OF_BIRTH, "4 June")]


@pytest.mark.parametrize(("digits", "valid"), [
    ("9434765919", True),
    ("9434765918", False),
    ("4010232137", True),
    ("1234567881", True),
    ("1234567890", False),  # the check digit would be 10: never valid
    ("943476591", False),
    ("94347659x9", False),
])
def test_nhs_check_digit(digits, valid):
    assert nhs_number_is_valid(digits) is valid


def test_an_nhs_shaped_number_with_a_wrong_check_digit_is_no_health_record():
    assert found("number 401 023 2137") == [(HEALTH_RECORD_NUMBER, "401 023 2137")]
    assert found("number 401 023 2138") == [(PHONE, "401 023 2138")]


def test_several_findings_in_order_without_overlaps():
    text = ("She (DOB 04/05/1979) gave me 07700 900123 and jo@example.org; "
            "her NHS number 943 476 5919.")
    assert found(text) == [(DATE_OF_BIRTH, "04/05/1979"), (PHONE, "07700 900123"),
                           (EMAIL, "jo@example.org"),
                           (HEALTH_RECORD_NUMBER, "NHS number 943 476 5919")]


def test_find_in_fields_names_only_the_fields_with_something():
    fields = {"what_happened": "She gave me 07700 900123.", "how_now": "Tired but OK.",
              "support_needed": None, "action_1": "Email jo@example.org the leaflet"}
    result = find_in_fields(fields, today=TODAY)
    assert list(result) == ["what_happened", "action_1"]
    assert result["what_happened"] == [Finding(PHONE, "07700 900123", 12, 24)]
    assert identifying_text.kinds_found(result) == [PHONE, EMAIL]


def test_empty_text_finds_nothing():
    assert find("") == [] and find_in_fields({}) == {}
