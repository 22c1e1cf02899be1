"""Free text people type (notes, comments, reasons): one rule for what is
accepted, so every form answers the same way."""

from catalog.exceptions import InvalidInput

MAX_NOTE_LENGTH = 4000
# PostgreSQL can't store a NUL byte; it usually arrives pasted from another program.
NUL_MESSAGE = (
    "This contains a hidden character we can't store (a null byte). Type the "
    "text again, or paste it as plain text."
)


def clean_text(text: str, *, field: str = "note", required: str = "") -> str:
    """``text`` trimmed, or ``InvalidInput`` for ``field``: a NUL byte (which
    PostgreSQL can't store), more than ``MAX_NOTE_LENGTH`` characters, or nothing
    when ``required`` (the message that asks for it) is given."""
    text = (text or "").strip()
    if "\x00" in text:
        raise InvalidInput({field: [NUL_MESSAGE]})
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidInput(
            {
                field: [
                    f"Keep it under {MAX_NOTE_LENGTH:,} characters (it has "
                    f"{len(text):,})."
                ]
            }
        )
    if required and not text:
        raise InvalidInput({field: [required]})
    return text
