"""Time zones by IANA name or by city, and a cohort's local date."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from lms.models._types import utcnow

# Names kept only for old software ("US/Pacific", "Etc/GMT+3"): offered nowhere, still accepted.
_LEGACY_PREFIXES = ("Etc/", "SystemV/", "US/", "Canada/", "Mexico/", "Brazil/", "Chile/")


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


@lru_cache(maxsize=1)
def offered_zones() -> tuple[str, ...]:
    """The zones a form offers: Area/City names, sorted, plus UTC."""
    return tuple(sorted(name for name in zone_names()
                        if "/" in name and not name.startswith(_LEGACY_PREFIXES))) + ("UTC",)


@lru_cache(maxsize=1)
def _by_lowercase() -> dict[str, str]:
    names: dict[str, str] = {name.lower(): name for name in zone_names()}
    # A city name alone ("Nairobi", "los angeles") finds its zone when only one zone has it.
    cities: dict[str, list[str]] = {}
    for name in offered_zones():
        city = name.rsplit("/", 1)[-1].replace("_", " ").lower()
        cities.setdefault(city, []).append(name)
    for city, zones in cities.items():
        if len(zones) == 1:
            names.setdefault(city, zones[0])
    return names


def resolve(text: str) -> str | None:
    """The IANA zone that ``text`` names (a zone name or a city, any case), or None.

    Looked up in the list, never by loading: "America" names a folder and would crash."""
    cleaned = " ".join((text or "").replace("_", " ").split()).lower()
    if not cleaned:
        return None
    found = _by_lowercase().get(cleaned) or _by_lowercase().get(cleaned.replace(" ", "_"))
    if found is None and "," in cleaned:  # "Nairobi, Kenya"
        found = _by_lowercase().get(cleaned.split(",", 1)[0].strip())
    if found is None and "/" in cleaned:
        found = _by_lowercase().get(cleaned.replace(" ", "_"))
    return found


def local_today(zone: str, now: datetime | None = None) -> date:
    """Today's date where the cohort is: a 19:40 enrolment in Los Angeles is that day there."""
    return (now or utcnow()).astimezone(ZoneInfo(zone)).date()
