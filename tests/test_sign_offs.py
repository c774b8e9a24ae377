"""Competency ratings and sign-offs: who judges, deploy / override / defer / revoke, the
snapshot that outlives a policy change, and records that are never edited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.models import (
    AuditEvent,
    Enrolment,
    SignOff,
    StandardsPolicy,
)
from lms.models._types import utcnow
from lms.models.readiness import AppendOnlyError
from lms.services import audit, sign_offs, supervisors
from lms.services.sign_offs import SignOffError
from tests.readiness_fixtures import RULES

TODAY = utcnow().date()


def judge(db, person, trainee):
    return sign_offs.judge_of(db, person, trainee, TODAY)


def rate(db, who, trainee, cohort, value="competent", **changes):
    fields = dict(competency="listening", rating=value, observed_on=TODAY,
                  setting="role_play", evidence="Used open questions and a summary.",
                  today=TODAY)
    fields.update(changes)
    return sign_offs.rate(db, who, trainee, cohort, **fields)


def test_who_may_judge(db, trainee, supervisor, make_person):
    assert judge(db, supervisor, trainee) == sign_offs.Judge(supervisor, False)
    admin = make_person("admin")
    assert judge(db, admin, trainee).as_admin
    assert judge(db, make_person("supervisor"), trainee) is None
    both = make_person("trainee", "admin")
    assert judge(db, both, both) is None, "nobody judges themselves"


def test_a_rating_is_checked_and_kept_as_history(db, cohort, trainee, supervisor, policy):
    who = judge(db, supervisor, trainee)
    with pytest.raises(SignOffError) as info:
        rate(db, who, trainee, cohort, "great", competency="juggling", setting="cafe",
             observed_on=TODAY + timedelta(days=1), evidence=" ")
    assert set(info.value.problems) == {"competency", "rating", "setting", "observed_on",
                                        "evidence"}
    first = rate(db, who, trainee, cohort, "developing")
    second = rate(db, who, trainee, cohort, "competent")
    again = rate(db, who, trainee, cohort, "competent")
    db.commit()
    assert again.id == second.id, "a double-click adds nothing"
    assert first.id != second.id
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "rating")).all()
    assert len(events) == 2
    first.rating = "competent"
    with pytest.raises(AppendOnlyError):
        db.commit()
    db.rollback()


def test_deploy_when_ready_keeps_a_snapshot_that_outlives_a_policy_change(
        db, cohort, trainee, supervisor, ready, policy):
    who = judge(db, supervisor, trainee)
    rate(db, who, trainee, cohort)
    decision = sign_offs.sign_off(db, who, trainee, cohort, decision="deploy", today=TODAY)
    db.commit()
    assert decision.override_justification is None and decision.policy_id == policy.id
    assert decision.evidence["ready"] is True
    # The programme raises its bar: a new policy version. The sign-off is unchanged.
    policy.current = False
    db.add(StandardsPolicy(curriculum_id=cohort.curriculum_id, number=2, content_hash="h2",
                           rules={**RULES, "attendance": {"minimum_percent": 100,
                                                          "core_sessions": True}},
                           current=True))
    db.commit()
    db.expire_all()
    kept = db.get(SignOff, decision.id)
    assert kept.policy_id == policy.id and kept.evidence["policy_number"] == 1
    kept.reasons = "rewritten"
    with pytest.raises(AppendOnlyError):
        db.commit()
    db.rollback()


def test_deploy_when_not_ready_needs_a_justification_and_is_audited(db, cohort, trainee,
                                                                    supervisor, policy):
    who = judge(db, supervisor, trainee)
    with pytest.raises(SignOffError) as info:
        sign_offs.sign_off(db, who, trainee, cohort, decision="deploy", today=TODAY,
                           override_justification="ok")
    assert "override_justification" in info.value.problems
    decision = sign_offs.sign_off(
        db, who, trainee, cohort, decision="deploy", today=TODAY,
        override_justification="Experienced volunteer; the course is being made up in May.")
    db.commit()
    assert decision.override_justification.startswith("Experienced")
    actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    # The deployment issues its certificate in the same step (the service's rule, not a view's).
    assert actions[-3:-1] == ["sign_off", "override"]
    assert actions[-1] == audit.CERTIFICATE


def test_defer_needs_reasons_a_plan_and_a_later_review(db, cohort, trainee, supervisor, policy):
    who = judge(db, supervisor, trainee)
    with pytest.raises(SignOffError) as info:
        sign_offs.sign_off(db, who, trainee, cohort, decision="defer", today=TODAY,
                           review_on=TODAY)
    assert set(info.value.problems) == {"reasons", "plan", "review_on"}
    decision = sign_offs.sign_off(db, who, trainee, cohort, decision="defer", today=TODAY,
                                  reasons="Boundaries role-play not yet solid",
                                  plan="Two more role-plays", review_on=TODAY + timedelta(days=30))
    again = sign_offs.sign_off(db, who, trainee, cohort, decision="defer", today=TODAY,
                               reasons="Boundaries role-play not yet solid",
                               plan="Two more role-plays", review_on=TODAY + timedelta(days=30))
    db.commit()
    assert again.id == decision.id and decision.review_on == TODAY + timedelta(days=30)


def test_revoking_is_a_new_record_and_happens_once(db, cohort, trainee, supervisor, policy):
    who = judge(db, supervisor, trainee)
    deploy = sign_offs.sign_off(db, who, trainee, cohort, decision="deploy", today=TODAY,
                                override_justification="Justified at length for this test.")
    with pytest.raises(SignOffError, match="reason"):
        sign_offs.revoke(db, who, trainee, deploy, " ")
    revocation = sign_offs.revoke(db, who, trainee, deploy, "Breached confidentiality")
    db.commit()
    assert revocation.revokes_id == deploy.id and revocation.decision == "revoke"
    assert sign_offs.revocation_of(db, deploy).id == revocation.id
    with pytest.raises(SignOffError, match="already revoked"):
        sign_offs.revoke(db, who, trainee, deploy, "Again")


def test_revoking_also_revokes_an_earlier_live_deployment(db, cohort, trainee, supervisor,
                                                          policy):
    from lms.services import certificates
    who = judge(db, supervisor, trainee)
    text = "Justified at length for this test."
    first = sign_offs.sign_off(db, who, trainee, cohort, decision="deploy", today=TODAY,
                               override_justification=text, now=utcnow() - timedelta(days=40))
    old = certificates.issue(db, first, programme="P")
    second = sign_offs.sign_off(db, who, trainee, cohort, decision="deploy", today=TODAY,
                                override_justification=text + " Again.")
    new = certificates.issue(db, second, programme="P")
    sign_offs.revoke(db, who, trainee, second, "Breach")
    db.commit()
    assert certificates.status(db, old, TODAY).state == "revoked"
    assert certificates.status(db, new, TODAY).state == "revoked"
    assert sign_offs.live_deploys(db, trainee.id, cohort.curriculum_id) == []


def test_deferring_a_deployed_trainee_needs_a_revocation_first(db, cohort, trainee, supervisor,
                                                               policy):
    who = judge(db, supervisor, trainee)
    sign_offs.sign_off(db, who, trainee, cohort, decision="deploy", today=TODAY,
                       override_justification="Justified at length for this test.")
    with pytest.raises(SignOffError, match="revoke the deployment first"):
        sign_offs.sign_off(db, who, trainee, cohort, decision="defer", today=TODAY,
                           reasons="r", plan="p", review_on=TODAY + timedelta(days=9))


def test_a_withdrawn_trainee_is_neither_rated_nor_signed_off(db, cohort, trainee, supervisor,
                                                             policy, trainer):
    from lms.services import withdrawal
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    withdrawal.withdraw(db, enrolment, TODAY, "Moved away", trainer)
    db.commit()
    who = judge(db, supervisor, trainee)
    with pytest.raises(SignOffError, match="withdrawn"):
        rate(db, who, trainee, cohort)
    with pytest.raises(SignOffError, match="withdrawn"):
        sign_offs.sign_off(db, who, trainee, cohort, decision="deploy", today=TODAY,
                           override_justification="Justified at length for this test.")


def test_a_changed_decision_within_two_minutes_is_a_new_record(db, cohort, trainee, supervisor,
                                                               policy):
    who = judge(db, supervisor, trainee)
    first = sign_offs.sign_off(db, who, trainee, cohort, decision="defer", today=TODAY,
                               reasons="Not yet", plan="Practise",
                               review_on=TODAY + timedelta(days=30))
    second = sign_offs.sign_off(db, who, trainee, cohort, decision="defer", today=TODAY,
                                reasons="Not yet, and sooner", plan="Practise",
                                review_on=TODAY + timedelta(days=7))
    db.commit()
    assert second.id != first.id and second.review_on == TODAY + timedelta(days=7)


def test_the_latest_observation_counts_not_the_latest_typed(db, cohort, trainee, supervisor,
                                                            policy):
    from lms.services import readiness
    who = judge(db, supervisor, trainee)
    rate(db, who, trainee, cohort, "competent")
    rate(db, who, trainee, cohort, "not_yet", observed_on=TODAY - timedelta(days=200),
         evidence="Back-filled from paper notes.")
    db.commit()
    found = readiness.readiness_in(db, cohort, trainee.id, today=TODAY)
    assert found.criterion(readiness.COMPETENCIES).met


def test_a_deployment_issues_its_certificate_in_the_service(db, cohort, trainee, supervisor,
                                                            ready):
    """Whoever records the decision (a page, the demo, a script), a deployment comes with its
    certificate; a deferral never does."""
    from lms.models import Certificate

    who = judge(db, supervisor, trainee)
    rate(db, who, trainee, cohort)
    deferral = sign_offs.sign_off(db, who, trainee, cohort, decision="defer", today=TODAY,
                                  reasons="Wants more practice", plan="Shadow two shifts",
                                  review_on=TODAY + timedelta(days=30))
    assert deferral.decision == "defer"
    assert db.scalar(select(func.count()).select_from(Certificate)) == 0
    deploy = sign_offs.sign_off(db, who, trainee, cohort, decision="deploy", today=TODAY)
    db.commit()
    certificate = db.scalar(select(Certificate).where(Certificate.sign_off_id == deploy.id))
    assert certificate is not None
    assert db.scalar(select(func.count()).select_from(Certificate)) == 1


def test_readiness_reads_the_latest_sign_off_without_its_snapshot(db, cohort, trainee,
                                                                  supervisor, policy,
                                                                  count_queries):
    from lms.services import readiness

    who = judge(db, supervisor, trainee)
    decision = sign_offs.sign_off(db, who, trainee, cohort, decision="defer", today=TODAY,
                                  reasons="Needs more practice with risk questions.",
                                  plan="Two supervised role-plays.",
                                  review_on=TODAY + timedelta(days=30))
    db.commit()
    snapshot = decision.evidence
    db.expire_all()
    with count_queries() as statements:
        [row] = readiness.cohort_readiness(db, cohort, today=TODAY)
    # A cohort's report shows the decision, not the snapshot judged then (2 KB of JSON each).
    loading = [s for s in statements if "FROM lms_sign_off" in s and "lms_sign_off.decision" in s]
    assert loading and not [s for s in loading if "lms_sign_off.evidence" in s]
    assert row.latest_sign_off.decision == "defer"
    assert row.latest_sign_off.plan == "Two supervised role-plays."
    assert row.latest_sign_off.evidence == snapshot  # still there when read


def test_readiness_loads_sign_offs_only_for_trainees_who_have_one(db, cohort, trainee,
                                                                  supervisor, policy,
                                                                  count_queries):
    from lms.services import readiness

    db.expire_all()
    with count_queries() as statements:
        [row] = readiness.cohort_readiness(db, cohort, today=TODAY)
    # The latest sign-off's id comes with the rest of the evidence; nobody has one here, so
    # no statement loads sign-offs.
    assert row.latest_sign_off is None
    assert not [s for s in statements if "lms_sign_off.decision" in s]
    who = judge(db, supervisor, trainee)
    deploy = sign_offs.sign_off(db, who, trainee, cohort, decision="deploy", today=TODAY,
                                override_justification="Justified at length for this test.")
    revocation = sign_offs.revoke(db, who, trainee, deploy, "Breached confidentiality")
    db.commit()
    db.expire_all()
    with count_queries() as statements:
        [row] = readiness.cohort_readiness(db, cohort, today=TODAY)
    assert row.latest_sign_off.id == revocation.id and row.latest_sign_off.decision == "revoke"
    assert len([s for s in statements if "lms_sign_off.decision" in s]) == 1


def test_readiness_loads_the_sign_offs_by_the_cohort_not_by_their_ids(db, cohort, trainee,
                                                                       supervisor, policy,
                                                                       make_person,
                                                                       count_queries):
    # One trainee signed off or two: the same statement loads them (a list of ids bound per
    # sign-off was a statement that grew with the cohort).
    from lms.services import readiness

    def loading_statement():
        db.expire_all()
        with count_queries() as statements:
            rows = readiness.cohort_readiness(db, cohort, today=TODAY)
        [statement] = [s for s in statements if "lms_sign_off.decision" in s]
        return rows, statement

    other = make_person("trainee")
    db.add(Enrolment(cohort_id=cohort.id, person_id=other.id, enrolled_on=TODAY))
    db.commit()
    first = sign_offs.sign_off(db, judge(db, supervisor, trainee), trainee, cohort,
                               decision="defer", today=TODAY, reasons="More practice.",
                               plan="Role-plays.", review_on=TODAY + timedelta(days=30))
    db.commit()
    rows, one = loading_statement()
    assert {r.person.id: r.latest_sign_off for r in rows} == {trainee.id: first, other.id: None}
    supervisors.assign(db, other, supervisor, on=TODAY - timedelta(days=60))
    second = sign_offs.sign_off(db, judge(db, supervisor, other), other, cohort,
                                decision="defer", today=TODAY, reasons="More practice.",
                                plan="Role-plays.", review_on=TODAY + timedelta(days=30))
    db.commit()
    rows, two = loading_statement()
    assert {r.person.id: r.latest_sign_off for r in rows} == {trainee.id: first,
                                                              other.id: second}
    assert two == one
