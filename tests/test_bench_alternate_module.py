"""bench/alternate_module.py swaps one lms module's other version in wherever lms holds it, and
back: what its figures compare."""

from __future__ import annotations

import lms.services.progress
import lms.services.quizzes
import lms.web.trainee
from bench.alternate_module import swapper


def test_the_old_version_goes_everywhere_lms_holds_it_and_comes_back(tmp_path):
    old = tmp_path / "quizzes_old.py"
    old.write_text("def summarise_attempts(*_args, **_kwargs):\n    return 'old'\n")
    new_function = lms.services.quizzes.summarise_attempts
    use_old = swapper("lms.services.quizzes", old)
    try:
        use_old(True)
        # Held by name (``from lms.services.quizzes import summarise_attempts``) and as the
        # package's module.
        assert lms.services.progress.summarise_attempts() == "old"
        assert lms.services.quizzes.summarise_attempts() == "old"
        # A name the old version lacks stays the new one's.
        assert lms.services.progress.summarise_attempt_rows.__module__ == "lms.services.quizzes"
    finally:
        use_old(False)
    assert lms.services.progress.summarise_attempts is new_function
    assert lms.services.quizzes.summarise_attempts is new_function


def test_a_module_held_as_a_module_is_swapped_whole(tmp_path):
    old = tmp_path / "progress_old.py"
    old.write_text("def trainee_progress(*_args, **_kwargs):\n    return 'old'\n")
    new_module = lms.services.progress
    use_old = swapper("lms.services.progress", old)
    try:
        use_old(True)
        assert lms.web.trainee.progress.trainee_progress() == "old"
    finally:
        use_old(False)
    assert lms.web.trainee.progress is new_module
