"""The content catalogue as staff pick from it: curricula, their live modules, quiz modules."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.models import Curriculum, Module


def curricula(session: Session) -> list[Curriculum]:
    return list(session.scalars(select(Curriculum).order_by(Curriculum.title)))


def live_modules(session: Session, curriculum_id: int) -> list[Module]:
    """The modules a session can cover: retired ones are left out."""
    return list(session.scalars(
        select(Module).where(Module.curriculum_id == curriculum_id, Module.retired.is_(False))
        .order_by(Module.position)))


def quiz_module(session: Session, slug: str) -> Module | None:
    """The module ``slug`` if it has a quiz, else None."""
    module = session.scalar(select(Module).where(Module.slug == slug))
    return module if module is not None and module.quiz is not None else None
