"""Question types: a registry from type name to a class that validates, renders and scores.

A new type is one subclass of ``QuestionType`` added with ``register``; the loader, the quiz page
and the scorer all go through this registry.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l

Problem = tuple[tuple[Any, ...], str]  # (path inside the question, reason)


class ResponseError(ValueError):
    """A submitted response that this question could never have produced (tampering)."""


class QuestionType:
    name: ClassVar[str]
    #: The template that renders the question's inputs inside the quiz form.
    template: ClassVar[str] = "lms/questions/choice.html"
    #: "radio" or "checkbox", used by the default template.
    input_kind: ClassVar[str] = "radio"
    #: Words shown under the prompt telling the trainee how to answer.
    instruction: ClassVar[str] = _l("Choose one answer.")

    def validate(self, spec: dict[str, Any]) -> list[Problem]:
        raise NotImplementedError

    def options(self, spec: dict[str, Any]) -> list[dict[str, str]]:
        """The options as ``[{"id": ..., "text": ...}]``."""
        raise NotImplementedError

    def correct(self, spec: dict[str, Any]) -> list[str]:
        """The key as a sorted list of option ids."""
        raise NotImplementedError

    def parse_response(self, values: list[str], option_ids: list[str]) -> list[str]:
        """Turn submitted form values into a response, refusing anything impossible."""
        unknown = [v for v in values if v not in option_ids]
        if unknown:
            raise ResponseError(f"unknown option {unknown[0]!r}")
        if len(set(values)) != len(values):
            raise ResponseError("the same option was submitted twice")
        return sorted(values)

    def score(self, correct: list[str], response: list[str]) -> float:
        """A mark from 0 to 1. All types here are all-or-nothing."""
        return 1.0 if sorted(response) == sorted(correct) else 0.0


def _option_problems(spec: dict[str, Any], minimum: int) -> list[Problem]:
    options = spec.get("options")
    if not isinstance(options, list) or len(options) < minimum:
        return [(("options",), f"needs a list of at least {minimum} options")]
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, option in enumerate(options):
        if not isinstance(option, dict):
            problems.append((("options", index), "an option needs an id and a text"))
            continue
        unknown = sorted(set(option) - {"id", "text"})
        if unknown:
            problems.append((("options", index, unknown[0]),
                             f"unknown field '{unknown[0]}' in an option (options have id and "
                             "text; the key goes in 'answer')"))
            continue
        oid, text = option.get("id"), option.get("text")
        if not isinstance(oid, str | int) or str(oid).strip() == "":
            problems.append((("options", index), "option is missing its id"))
            continue
        if not isinstance(text, str | int | float) or str(text).strip() == "":
            problems.append((("options", index), f"option '{oid}' is missing its text"))
        if str(oid) in seen:
            problems.append((("options", index, "id"), f"duplicate option id '{oid}'"))
        seen.add(str(oid))
    return problems


class SingleChoice(QuestionType):
    name = "single"

    def validate(self, spec: dict[str, Any]) -> list[Problem]:
        problems = _option_problems(spec, 2)
        if problems:
            return problems
        answer = spec.get("answer")
        ids = [str(o["id"]) for o in spec["options"]]
        if answer is None:
            return [(("answer",), "missing the answer (one option id)")]
        if isinstance(answer, list):
            return [(("answer",), "a single-choice question takes one option id, not a list")]
        if str(answer) not in ids:
            return [(("answer",), f"answer '{answer}' names no option of this question")]
        return []

    def options(self, spec: dict[str, Any]) -> list[dict[str, str]]:
        return [{"id": str(o["id"]), "text": str(o["text"])} for o in spec["options"]]

    def correct(self, spec: dict[str, Any]) -> list[str]:
        return [str(spec["answer"])]

    def parse_response(self, values: list[str], option_ids: list[str]) -> list[str]:
        if len(values) > 1:
            raise ResponseError("a single-choice question takes one answer")
        return super().parse_response(values, option_ids)


class MultipleChoice(QuestionType):
    name = "multiple"
    input_kind = "checkbox"
    instruction = _l("Choose all that apply.")

    def validate(self, spec: dict[str, Any]) -> list[Problem]:
        problems = _option_problems(spec, 3)
        if problems:
            return problems
        answer = spec.get("answer")
        ids = [str(o["id"]) for o in spec["options"]]
        if not isinstance(answer, list) or not answer:
            return [(("answer",), "a multiple-choice answer is a list of option ids, e.g. [a, c]")]
        for index, item in enumerate(answer):
            if str(item) not in ids:
                return [(("answer", index), f"answer '{item}' names no option of this question")]
        if len({str(a) for a in answer}) != len(answer):
            return [(("answer",), "the answer names the same option twice")]
        return []

    def options(self, spec: dict[str, Any]) -> list[dict[str, str]]:
        return [{"id": str(o["id"]), "text": str(o["text"])} for o in spec["options"]]

    def correct(self, spec: dict[str, Any]) -> list[str]:
        return sorted(str(a) for a in spec["answer"])


class TrueFalse(QuestionType):
    name = "true_false"

    def validate(self, spec: dict[str, Any]) -> list[Problem]:
        if "options" in spec:
            return [(("options",), "a true_false question takes no options")]
        if not isinstance(spec.get("answer"), bool):
            return [(("answer",), "a true_false answer is true or false")]
        return []

    def options(self, spec: dict[str, Any]) -> list[dict[str, str]]:
        return [{"id": "true", "text": "True"}, {"id": "false", "text": "False"}]

    def correct(self, spec: dict[str, Any]) -> list[str]:
        return ["true" if spec["answer"] else "false"]

    def parse_response(self, values: list[str], option_ids: list[str]) -> list[str]:
        if len(values) > 1:
            raise ResponseError("a true/false question takes one answer")
        return super().parse_response(values, option_ids)


QUESTION_TYPES: dict[str, QuestionType] = {}


def register(question_type: QuestionType) -> None:
    QUESTION_TYPES[question_type.name] = question_type


for _type in (SingleChoice(), MultipleChoice(), TrueFalse()):
    register(_type)


def get_type(name: str) -> QuestionType:
    return QUESTION_TYPES[name]
