"""Pages that stop at a cap: a list that can hold hundreds of thousands of rows
(the request log, the items behind a year's figure, a large team's queue) lists
its first rows only, since a page far in makes the database step over every row
before it. Past the cap the page says so, and the list's filters narrow it."""

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


class CappedPages(Paginator):
    """Pages up to ``cap`` rows, whatever ``count`` is."""

    cap = 10_000

    def __init__(self, *args, cap: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if cap is not None:
            self.cap = cap

    @cached_property
    def num_pages(self) -> int:
        # Django's rule, on the rows listed.
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        listed = max(1, min(self.count, self.cap) - self.orphans)
        return -(-listed // self.per_page)

    def page(self, number):
        # Django's rule too: the last page stops at the cap.
        number = self.validate_number(number)
        listed = min(self.count, self.cap)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= listed:
            top = listed
        return self._get_page(self.object_list[bottom:top], number, self)

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def listed(self) -> str:
        return f"{self.cap:,}"


class CappedCount(CappedPages):
    """``CappedPages`` that counts no further than one row past the cap: for a
    list whose count would cost more than its page (past the cap, "more
    than" is all it says)."""

    @cached_property
    def count(self) -> int:
        head = self.object_list[: self.cap + 1]
        return head.count() if isinstance(head, QuerySet) else len(head)
