"""Set-of-marks drawing: numbered boxes on a copy of the screenshot, labels in each element's top-left corner."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from glmv_agent.types import WebElement

PALETTE = (
    (230, 25, 75), (0, 130, 200), (60, 160, 60), (245, 130, 48), (145, 30, 180),
    (0, 128, 128), (200, 40, 200), (128, 0, 0), (0, 0, 128), (170, 110, 40),
)
LABEL_CSS_PX = 12  # label font size in CSS pixels (scaled by the device scale factor)
TEXT_LIMIT = 200  # characters of an element's text the model is shown


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def elements_from_js(items: list[dict[str, Any]], redact: Callable[[str], str] | None = None) -> list[WebElement]:
    """The labelling script's records as WebElements (labels are their positions: 0, 1, 2... in document order).

    Texts are passed through ``redact`` (secret values out) before they are clipped to TEXT_LIMIT characters, so a
    clip never leaves part of a value behind."""
    return [
        WebElement(label=index, tag=item["tag"], text=(redact(item["text"]) if redact else item["text"])[:TEXT_LIMIT],
                   box=tuple(item["box"]), input_type=item.get("input_type"))
        for index, item in enumerate(items)
    ]


def draw_marks(screenshot: Image.Image, elements: list[WebElement], scale: float) -> Image.Image:
    """A copy of ``screenshot`` with each element's box outlined and its label drawn at the box's top-left corner.

    ``scale`` is screenshot pixels per CSS pixel (the device scale factor).
    """
    image = screenshot.convert("RGB")
    draw = ImageDraw.Draw(image)
    font = _font(max(8, round(LABEL_CSS_PX * scale)))
    width = max(1, round(2 * scale))
    pad = max(1, round(2 * scale))
    for element in elements:
        color = PALETTE[element.label % len(PALETTE)]
        x1, y1, x2, y2 = (round(v * scale) for v in element.box)
        draw.rectangle((x1, y1, max(x1, x2 - 1), max(y1, y2 - 1)), outline=color, width=width)
        text = str(element.label)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tag_w, tag_h = right - left + 2 * pad, bottom - top + 2 * pad
        tx = min(x1, image.width - tag_w)
        ty = min(y1, image.height - tag_h)
        draw.rectangle((tx, ty, tx + tag_w - 1, ty + tag_h - 1), fill=color)
        draw.text((tx + pad - left, ty + pad - top), text, fill=(255, 255, 255), font=font)
    return image
