"""Helpers shared by the step-API tests (no tests here): scripted model answers in the GLM formats, and the
thousandths box a grounding answer would give for a real element."""

from __future__ import annotations

from typing import Any


def boxed(text: str, think: str = "I look at the screenshot.") -> str:
    """A GLM-4.5V style final answer: thinking, then the answer between box markers."""
    return f"<think>{think}</think><|begin_of_box|>{text}<|end_of_box|>"


def web_reply(action: str, thought: str = "next step") -> str:
    return f"<think>{thought}</think>Thought: {thought}\nAction: {action}\nMemory_Updated: {{}}"


def thousandths(box: dict[str, Any], viewport: tuple[int, int]) -> list[int]:
    """A Playwright bounding box (CSS px) as [[xmin, ymin, xmax, ymax]] in 0..1000 of the viewport."""
    width, height = viewport
    return [round(box["x"] * 1000 / width), round(box["y"] * 1000 / height),
            round((box["x"] + box["width"]) * 1000 / width), round((box["y"] + box["height"]) * 1000 / height)]
