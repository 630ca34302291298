"""NIP masking: the one rule every published output uses.

A NIP (18 digits) is personal data. Published files keep the first KEEP_HEAD and the last
KEEP_TAIL characters and replace the rest with MASK_CHAR, e.g. 198501012010011001 ->
1985************01. The head (birth year) and tail (sequence) are enough for a reader to tell two
people in the same table apart, not to identify them.

The rule exists twice — as a Python function for values written by Python and as a DuckDB SQL
expression for files written by DuckDB's COPY — both generated from the same constants here;
tests/test_publish.py checks that they agree on arbitrary strings.
"""
from __future__ import annotations

import re

KEEP_HEAD = 4
KEEP_TAIL = 2
MASK_CHAR = "*"
NIP_LENGTH = 18

# Any free-standing run of exactly 18 digits in text we copy from elsewhere (the GE data docs can
# show sample values): treated as a NIP and masked.
NIP_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{18}(?![0-9])")


def mask_nip(nip: str | None) -> str | None:
    """Mask one NIP. Short strings (<= KEEP_HEAD + KEEP_TAIL) are masked whole, never shown."""
    if nip is None:
        return None
    text = str(nip)
    keep = KEEP_HEAD + KEEP_TAIL
    if len(text) <= keep:
        return MASK_CHAR * len(text)
    return text[:KEEP_HEAD] + MASK_CHAR * (len(text) - keep) + text[len(text) - KEEP_TAIL:]


def nip_sql(column: str, mask: bool = True) -> str:
    """The DuckDB expression of `mask_nip` for `column` (or the column itself when not masking)."""
    if not mask:
        return column
    keep = KEEP_HEAD + KEEP_TAIL
    return (
        f"(case when {column} is null then null "
        f"when length({column}) <= {keep} then repeat('{MASK_CHAR}', length({column})) "
        f"else left({column}, {KEEP_HEAD}) || repeat('{MASK_CHAR}', length({column}) - {keep}) "
        f"|| right({column}, {KEEP_TAIL}) end)"
    )


def mask_text(text: str) -> str:
    """Mask every 18-digit run in a block of text (used on copied third-party HTML/JSON)."""
    return NIP_IN_TEXT.sub(lambda m: mask_nip(m.group(0)), text)


def maybe(nip: str | None, mask: bool) -> str | None:
    return mask_nip(nip) if mask else nip
