"""Argument parsing helpers shared by the platforms' ``glmv-agent run`` flags."""

from __future__ import annotations

import argparse


def non_negative_seconds(text: str) -> float:
    """argparse ``type=`` for a number of seconds, zero or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError("seconds cannot be negative")
    return value
