"""Agreements: signing by typing one's name (case, spaces and accents ignored), double submits,
new versions, and who may see which agreement."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms.models import Agreement, AgreementSignature, Curriculum
from lms.services import agreements
from lms.services.errors import ServiceError


def current(db, curriculum_id, key="confidentiality") -> Agreement:
    return db.scalar(select(Agreement).where(Agreement.curriculum_id == curriculum_id,
                                             Agreement.key == key,
                                             Agreement.current.is_(True)))


@pytest.fixture
def confidentiality(db, cohort) -> Agreement:
    """The test curriculum's confidentiality agreement, as synced from its file."""
    found = current(db, cohort.curriculum_id)
    if found is None:  # the standards loader not there yet: a hand-made row
        found = Agreement(curriculum_id=cohort.curriculum_id, key="confidentiality", number=1,
                          title="Confidentiality agreement",
                          body_html="<p>What people tell you stays private.</p>",
                          content_hash="a", current=True)
        db.add(found)
        db.commit()
    return found


def new_version(db, agreement: Agreement) -> Agreement:
    agreement.current = False
    newer = Agreement(curriculum_id=agreement.curriculum_id, key=agreement.key,
                      number=agreement.number + 1, title=agreement.title,
                      body_html="<p>Version two: also online.</p>", content_hash="v2",
                      current=True)
    db.add(newer)
    db.commit()
    return newer


def signatures(db, person_id) -> int:
    return db.scalar(select(func.count()).select_from(AgreementSignature)
                     .where(AgreementSignature.person_id == person_id))


# --- the service ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["Tess Trainee", "tess trainee", "  TESS   Trainee ",
                                   "Téss Trainée"])
def test_a_matching_name_signs_and_is_kept_as_typed(db, trainee, confidentiality, typed):
    signature = agreements.sign(db, trainee, confidentiality, typed)
    db.commit()
    assert signature.agreement_id == confidentiality.id
    assert signature.typed_name == typed.strip()
    assert signature.signed_at is not None


def test_accents_in_the_account_name_need_not_be_typed(db, make_person, make_cohort, content):
    person = make_person("trainee", name="José  García-Núñez")
    make_cohort(person)
    agreement = current(db, content.id) or pytest.skip("no synced agreements")
    signature = agreements.sign(db, person, agreement, "jose garcia-nunez")
    assert signature.typed_name == "jose garcia-nunez"


@pytest.mark.parametrize("typed", ["", "   ", "Tess", "Tess Trainer", "Tess Trainee Jr"])
def test_another_name_is_refused_on_its_field(db, trainee, confidentiality, typed):
    with pytest.raises(ServiceError) as caught:
        agreements.sign(db, trainee, confidentiality, typed)
    assert caught.value.field == "typed_name"
    assert caught.value.message == ("Type your full name as it appears on your account: "
                                    "Tess Trainee")
    assert signatures(db, trainee.id) == 0


def test_signing_twice_keeps_the_first_signature(db, trainee, confidentiality):
    first = agreements.sign(db, trainee, confidentiality, "Tess Trainee")
    db.commit()
    again = agreements.sign(db, trainee, confidentiality, "tess trainee")
    db.commit()
    assert again.id == first.id and again.typed_name == "Tess Trainee"
    assert signatures(db, trainee.id) == 1


def test_an_old_version_cannot_be_signed(db, trainee, confidentiality):
    new_version(db, confidentiality)
    with pytest.raises(ServiceError, match="newer version"):
        agreements.sign(db, trainee, confidentiality, "Tess Trainee")


def test_states_unsigned_signed_then_out_of_date(db, trainee, confidentiality):
    def state():
        return {a.key: (s.agreement_id if s else None, st)
                for a, s, st in agreements.current_for(db, trainee.id)}

    assert state()["confidentiality"] == (None, agreements.UNSIGNED)
    agreements.sign(db, trainee, confidentiality, "Tess Trainee")
    db.commit()
    assert state()["confidentiality"] == (confidentiality.id, agreements.SIGNED)
    newer = new_version(db, confidentiality)
    # The old signature is kept and shown as out of date against the new version.
    found = {a.key: (a.id, s.agreement_id if s else None, st) for a, s, st in
             agreements.current_for(db, trainee.id)}
    assert found["confidentiality"] == (newer.id, confidentiality.id, agreements.OUT_OF_DATE)
    agreements.sign(db, trainee, newer, "Tess Trainee")
    db.commit()
    assert state()["confidentiality"] == (newer.id, agreements.SIGNED)
    assert signatures(db, trainee.id) == 2


def other_curriculum_agreement(db) -> Agreement:
    other = Curriculum(slug="other", title="Other programme", content_hash="x")
    db.add(other)
    db.flush()
    agreement = Agreement(curriculum_id=other.id, key="confidentiality", number=1,
                          title="Other programme's agreement", body_html="<p>Other</p>",
                          content_hash="o", current=True)
    db.add(agreement)
    db.commit()
    return agreement


def test_only_current_agreements_of_the_trainee_s_curricula(db, trainee, confidentiality,
                                                           make_person):
    assert agreements.agreement_for(db, trainee.id, confidentiality.id) == confidentiality
    other = other_curriculum_agreement(db)
    assert agreements.agreement_for(db, trainee.id, other.id) is None
    assert agreements.agreement_for(db, trainee.id, 999_999) is None
    assert agreements.agreement_for(db, make_person("trainee").id, confidentiality.id) is None
    new_version(db, confidentiality)
    assert agreements.agreement_for(db, trainee.id, confidentiality.id) is None
    assert other.id not in {a.id for a, _s, _st in agreements.current_for(db, trainee.id)}


# --- the signing page -----------------------------------------------------------------------


def test_the_page_shows_the_text_and_signing_goes_back_to_what_is_left(db, trainee,
                                                                       confidentiality,
                                                                       client_for):
    client = client_for(trainee)
    page = client.get(f"/my/agreements/{confidentiality.id}").get_data(as_text=True)
    assert confidentiality.body_html in page  # sanitised at sync: rendered as HTML
    assert f"Version {confidentiality.number}" in page
    assert "Type your full name to sign" in page
    assert f"Sign the {confidentiality.title}" in page
    response = client.post(f"/my/agreements/{confidentiality.id}",
                           data={"typed_name": " tess TRAINEE "})
    assert response.status_code == 302 and response.location.endswith("/my/readiness")
    page = client.get(response.location).get_data(as_text=True)
    assert (f"You signed the {confidentiality.title} (version {confidentiality.number})."
            in page)
    signature = db.scalar(select(AgreementSignature))
    assert signature.typed_name == "tess TRAINEE" and signature.person_id == trainee.id
    page = client.get(f"/my/agreements/{confidentiality.id}").get_data(as_text=True)
    assert f"You signed version {confidentiality.number} on" in page
    assert "as “tess TRAINEE”." in page
    assert 'name="typed_name"' not in page


def test_a_wrong_name_is_a_422_with_the_text_kept(db, trainee, confidentiality, client_for):
    client = client_for(trainee)
    response = client.post(f"/my/agreements/{confidentiality.id}",
                           data={"typed_name": "Somebody Else"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="Somebody Else"' in page
    assert "Type your full name as it appears on your account: Tess Trainee" in page
    assert 'class="error-summary"' in page and 'href="#typed_name"' in page
    assert signatures(db, trainee.id) == 0


def test_a_double_submit_keeps_one_signature(db, trainee, confidentiality, client_for):
    client = client_for(trainee)
    url = f"/my/agreements/{confidentiality.id}"
    first = client.post(url, data={"typed_name": "Tess Trainee"})
    second = client.post(url, data={"typed_name": "Tess Trainee"})
    assert first.status_code == second.status_code == 302
    assert second.location == first.location
    assert signatures(db, trainee.id) == 1


def test_a_new_version_asks_to_sign_again(db, trainee, confidentiality, client_for):
    client = client_for(trainee)
    client.post(f"/my/agreements/{confidentiality.id}", data={"typed_name": "Tess Trainee"})
    newer = new_version(db, confidentiality)
    # The old version's page is gone; the new one says the signature is out of date.
    assert client.get(f"/my/agreements/{confidentiality.id}").status_code == 404
    page = client.get(f"/my/agreements/{newer.id}").get_data(as_text=True)
    assert "Out of date" in page and "You signed version 1 on" in page
    assert 'name="typed_name"' in page
    readiness_page = client.get("/my/readiness").get_data(as_text=True)
    assert f"Sign the new version of the {newer.title}." in readiness_page
    assert f'href="/my/agreements/{newer.id}"' in readiness_page


def test_other_programmes_old_and_unknown_agreements_are_404(db, trainee, confidentiality,
                                                            make_person, make_cohort,
                                                            client_for):
    other = other_curriculum_agreement(db)
    stranger = make_person("trainee")  # enrolled nowhere
    client = client_for(trainee)
    for url in (f"/my/agreements/{other.id}", "/my/agreements/999999"):
        assert client.get(url).status_code == 404
        assert client.post(url, data={"typed_name": "Tess Trainee"}).status_code == 404
    assert client_for(stranger).get(f"/my/agreements/{confidentiality.id}").status_code == 404
    assert signatures(db, trainee.id) == 0


@pytest.mark.parametrize("role", ["trainer", "supervisor", "admin"])
def test_staff_are_refused(db, trainee, confidentiality, make_person, client_for, role):
    client = client_for(make_person(role))
    url = f"/my/agreements/{confidentiality.id}"
    assert client.get("/my/readiness").status_code == 403
    assert client.get(url).status_code == 403
    assert client.post(url, data={"typed_name": "Tess Trainee"}).status_code == 403


def test_a_typed_name_is_escaped(db, make_person, make_cohort, content, client_for):
    person = make_person("trainee", name="Zoë <i>O'Neil</i>")
    make_cohort(person)
    agreement = current(db, content.id) or pytest.skip("no synced agreements")
    client = client_for(person)
    wrong = client.post(f"/my/agreements/{agreement.id}",
                        data={"typed_name": "<script>alert(1)</script>"})
    assert wrong.status_code == 422
    page = wrong.get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<i>O" not in page
    assert "&lt;i&gt;O" in page
    client.post(f"/my/agreements/{agreement.id}", data={"typed_name": "zoe <I>o'neil</I>"})
    page = client.get(f"/my/agreements/{agreement.id}").get_data(as_text=True)
    assert "<I>" not in page and re.search(r"&lt;I&gt;o(&#39;|&#x27;|')neil", page)
