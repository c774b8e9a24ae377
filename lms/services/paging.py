"""Long lists a page at a time: the one rule for how many pages there are and which page a
request may ask for (out of range means the nearest real page, never an empty one)."""

from __future__ import annotations


def page_count(total: int, per_page: int) -> int:
    """At least one page, even for an empty list (its page says so)."""
    return max(1, -(-total // per_page))


def clamp(page: int, total: int, per_page: int) -> int:
    """The page to show for a requested ``page``: within 1 .. the last page."""
    return min(max(1, page), page_count(total, per_page))


def offset(page: int, per_page: int) -> int:
    return (page - 1) * per_page


class Paged:
    """What a page of a list knows about itself (``total``, ``page``, ``per_page`` are set
    by the dataclass that mixes this in)."""

    total: int
    per_page: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)
