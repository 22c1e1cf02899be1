"""Ids as people send them, in addresses and forms: one rule for what counts as
an id, so a number too large for the database's integers (SQLite's stop at 2**63)
is "not found" or a field error, never a crash deep in a query."""

# 18 digits always fit a signed 64-bit integer; no real row has a longer id.
MAX_ID_DIGITS = 18


def parse_id(value) -> int | None:
    """``value`` as a positive id, or None if it isn't one (junk, a sign, too
    many digits)."""
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or not text.isascii() or len(text) > MAX_ID_DIGITS:
        return None
    number = int(text)
    return number or None


class IdConverter:
    """``<id:name>`` in URL patterns: like ``<int:name>``, but a longer number
    doesn't match, so it is a 404 before any view runs."""

    regex = f"[0-9]{{1,{MAX_ID_DIGITS}}}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))
