"""How a secret value can be spelled in text, as patterns that match whole occurrences only.

A value is found however each of its characters is written: as itself (optionally after backslashes, as shells,
regexes and JSON escape it), percent-encoded (any hex case; ``+`` for a space, as HTML forms send it), as a JSON
``\\uXXXX`` escape (surrogate pairs for astral characters) or a JSON short escape (``\\n``), or as an HTML entity.
So the raw value, its URL-encoded forms (``encodeURIComponent``, form encoding, Python's ``quote``), its JSON-escaped
forms and any mixture match, and nothing shorter than the whole value does.

Base64 is not character by character: the standard and URL-safe encodings of the value (padded or not) match, and
so do the parts of a longer base64 text that depend only on the value (its three alignments), when 8 characters or
longer. The one or two characters at each end of such a part also carry bits of the neighbouring bytes and stay.
"""

from __future__ import annotations

import base64
import html
import json
import re

MIN_CORE = 8  # shortest base64 part of a longer text we redact (shorter ones would match unrelated words)
MIN_CLIPPED = 4  # shortest prefix of a value, cut off by "…", that we still treat as the value


def char_pattern(char: str) -> str:
    """A regex matching ``char`` in any of the spellings the module names."""
    spellings = [r"\\*" + re.escape(char)]
    spellings.append("".join(f"%(?i:{byte:02x})" for byte in char.encode("utf-8")))
    escaped = json.dumps(char)[1:-1]
    if escaped != char:
        spellings.append(re.escape(escaped))
    units = char.encode("utf-16-be")
    spellings.append("".join(r"\\u(?i:" + units[i : i + 2].hex() + ")" for i in range(0, len(units), 2)))
    entity = html.escape(char, quote=True)
    if entity != char:
        spellings.append(re.escape(entity))
    spellings.append(f"&#(?:{ord(char)}|(?i:x{ord(char):x}));")
    if char == " ":
        spellings.append(r"\+")
    return "(?:" + "|".join(spellings) + ")"


def base64_forms(value: str) -> list[str]:
    """The value's base64 spellings (standard and URL-safe, padded and bare) and, 8 characters or longer, the parts
    of a longer base64 text that only the value decides; longest first."""
    data = value.encode("utf-8")
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(data).decode("ascii")
        forms.update({whole, whole.rstrip("=")})
        for offset in (1, 2):  # the value after 1 or 2 other bytes of a longer text
            encoded = encode(b"\0" * offset + data).decode("ascii")
            complete = encoded[: 4 * ((offset + len(data)) // 3)]  # drop chars that also hold bytes after it
            core = complete[offset + 1 :]  # drop chars that also hold the bytes before it
            if len(core) >= MIN_CORE:
                forms.add(core)
        bare = whole.rstrip("=")
        tail = bare[: 4 * (len(data) // 3)]  # the value at the start of a longer text
        if len(tail) >= MIN_CORE:
            forms.add(tail)
    return sorted(forms, key=len, reverse=True)


def value_pattern(value: str) -> str:
    """A regex (no flags needed) matching every whole spelling of ``value``: character-wise or base64."""
    literal = "".join(char_pattern(char) for char in value)
    return "|".join([literal, *(re.escape(form) for form in base64_forms(value))])


def clipped_prefix(text: str, end: int, value: str) -> int:
    """Length of the longest prefix of ``value`` (at least MIN_CLIPPED, shorter than the value) that ends at
    ``text[end]``; 0 when none does."""
    for size in range(min(len(value) - 1, end), MIN_CLIPPED - 1, -1):
        if text[end - size : end] == value[:size]:
            return size
    return 0
