"""The one base class for what a service refuses to do, and why.

A view turns a ``ServiceError`` into form errors (``lms.web.form_handling``) or a 4xx page, so
every refusal reaches the person as a sentence, never as a 500.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

from flask_babel import lazy_gettext

# Messages are marked for translation here and translated when shown, in the viewer's language.
_l = lazy_gettext


class ServiceError(ValueError):
    """A request a service cannot carry out.

    ``problems`` maps what each problem is about (a form field's name, or another key such as a
    person's id in a register) to a message; ``None`` is the form as a whole. ``field`` is the
    first field named. Give one ``message`` (and optionally its ``field``), or several
    ``problems`` at once so a form can show every error together.
    """

    def __init__(self, message: str | None = None, field: str | None = None, *,
                 problems: Mapping[Hashable, str] | None = None) -> None:
        # Plain text from here on: a lazy string is HTML-safe to Jinja (it has __html__), so one
        # that carries a user's value must never reach a template unconverted.
        found: dict[Hashable, str] = {key: str(value) for key, value in (problems or {}).items()}
        if message is not None:
            found = {field: str(message), **found}
        self.problems = found
        self.field = field if field is not None else next(
            (key for key in found if isinstance(key, str)), None)
        super().__init__("; ".join(str(value) for value in found.values()))

    @property
    def message(self) -> str:
        return str(self)
