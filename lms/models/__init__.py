"""SQLAlchemy models. Every table is prefixed ``lms_`` so it never collides with a host app's."""

from lms.models.agenda import (
    AttendanceChange,
    AttendanceRecord,
    MakeUp,
    SessionChange,
    SessionFeedback,
    SessionModule,
    TrainingSession,
)
from lms.models.api import ApiClient
from lms.models.audit import AuditEvent
from lms.models.cohorts import Cohort, CohortStaff, Enrolment, JoinRequest
from lms.models.content import Curriculum, Module, Question, Quiz, QuizVersion
from lms.models.learning import Answer, Attempt, ModuleProgress
from lms.models.lti import (
    LtiContext,
    LtiLaunchState,
    LtiLineItem,
    LtiNonce,
    LtiPlatform,
    LtiToolKey,
    LtiUser,
)
from lms.models.people import (
    ROLES,
    Invitation,
    LoginFailure,
    LoginSession,
    Person,
    PersonRole,
)
from lms.models.readiness import (
    Agreement,
    AgreementSignature,
    Certificate,
    CompetencyRating,
    SignOff,
    StandardsPolicy,
)
from lms.models.revision import ContentRevision
from lms.models.supervision import (
    AgreedAction,
    CheckIn,
    Debrief,
    FlagAcknowledgement,
    RecordCorrection,
    RecordRevision,
    SupervisionAttendee,
    SupervisionRecord,
    SupervisorAssignment,
)
from lms.models.translations import ModuleTranslation, QuizTranslation

__all__ = [
    "ApiClient",
    "Agreement",
    "AgreementSignature",
    "Certificate",
    "CompetencyRating",
    "SignOff",
    "StandardsPolicy",
    "AgreedAction",
    "AuditEvent",
    "CheckIn",
    "Debrief",
    "FlagAcknowledgement",
    "RecordCorrection",
    "RecordRevision",
    "SupervisionAttendee",
    "SupervisionRecord",
    "SupervisorAssignment",
    "AttendanceChange",
    "AttendanceRecord",
    "CohortStaff",
    "MakeUp",
    "SessionChange",
    "SessionFeedback",
    "SessionModule",
    "TrainingSession",
    "ROLES",
    "Answer",
    "Attempt",
    "Cohort",
    "ContentRevision",
    "Curriculum",
    "Enrolment",
    "JoinRequest",
    "Invitation",
    "LoginFailure",
    "LoginSession",
    "LtiContext",
    "LtiLaunchState",
    "LtiLineItem",
    "LtiNonce",
    "LtiPlatform",
    "LtiToolKey",
    "LtiUser",
    "Module",
    "ModuleProgress",
    "ModuleTranslation",
    "Person",
    "PersonRole",
    "Question",
    "Quiz",
    "QuizTranslation",
    "QuizVersion",
]
