"""Text for the terminal: model and page text shown there (step lines, errors, log lines, JSON lines) carries no raw
control characters, so it cannot move the cursor, hide text, retitle the window, set the clipboard (ESC, CSI and OSC
sequences, C1 codes) or reorder what is shown (bidirectional overrides). Records keep the raw text."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

# C0 and C1 controls but tab and newline, DEL, and the bidirectional embeddings, overrides and isolates.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_JSON_RAW = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # what json.dumps(ensure_ascii=False) leaves raw


def no_controls(text: str) -> str:
    """``text`` with its control characters but newline and tab written as escapes (``\\x1b``, ``\\u202e``); a CRLF
    line end becomes a newline."""
    return _CONTROL.sub(_escaped, text.replace("\r\n", "\n"))


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def json_line(value: Any) -> str:
    """``value`` as one line of JSON: non-ASCII text as is, every control character escaped (JSON escapes those
    below U+0020 itself; DEL, the C1 codes and the bidi overrides are written as \\u00XX too). Reads back the same."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))


class PrintableFormatter(logging.Formatter):
    """Log lines with their control characters written as escapes (:func:`no_controls`)."""

    def format(self, record: logging.LogRecord) -> str:
        return no_controls(super().format(record))


__all__ = ["PrintableFormatter", "json_line", "no_controls"]
