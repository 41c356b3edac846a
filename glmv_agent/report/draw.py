"""Drawing one step's action onto its screenshot, for the run report and its GIF.

:func:`annotate` is pure: it returns a new image with the executed click as a circle and crosshair at
``StepRecord.pixels``, the model's box for box actions, an arrow for drags and swipes, a set-of-marks label badge for
web Click/Type, and a caption strip under the screenshot (action, typed text, error). The screenshot keeps its size
and position in the top-left corner, so pixel (x, y) of the screen is pixel (x, y) of the annotated image.
"""

from __future__ import annotations

import json
import logging
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from ..geometry import box_center, box_to_pixels, point_to_pixels
from ..recording import StepRecord

log = logging.getLogger(__name__)

FONT_PATHS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
)
MARKER = (255, 40, 40)  # executed click: circle, crosshair and centre dot
BOX = (0, 140, 255)  # the model's box (thousandths converted to pixels)
ARROW = (255, 150, 0)  # drag / swipe / scroll direction
PLANNED = (170, 60, 255)  # where the model pointed when nothing was executed (error, blocked)
HALO = (255, 255, 255)
STRIP_BG = (28, 28, 32)
STRIP_TEXT = (235, 235, 235)
STRIP_TYPED = (120, 220, 255)
STRIP_ERROR = (255, 110, 110)
TEXT_KEYS = ("text", "content")  # typed or answered text, shown on its own caption line
POINT_KEYS = ("start_box", "end_box", "element", "start", "end")
DIRECTIONS = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}
Point = tuple[int, int]


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A CJK-capable TrueType font of ``size`` pixels when installed, else Pillow's built-in font."""
    for path in FONT_PATHS:
        if path.is_file():
            try:
                return ImageFont.truetype(str(path), size)
            except OSError as exc:
                log.debug("cannot load font %s: %s", path, exc)
    try:
        return ImageFont.load_default(size)
    except (OSError, ImportError):  # Pillow built without FreeType
        return ImageFont.load_default()


class _Pen:
    """Sizes that scale with the screenshot, so marks read the same on a phone and a 4K desktop."""

    def __init__(self, size: tuple[int, int]) -> None:
        scale = max(1.0, min(size) / 400)
        self.radius = round(14 * scale)
        self.width = max(2, round(1.6 * scale))
        self.dot = max(1, self.width // 2)
        self.font_size = max(12, round(17 * scale))


def annotate(image: Image.Image, record: StepRecord) -> Image.Image:
    """A copy of ``image`` with ``record``'s action drawn on it and a caption strip below."""
    base = image.convert("RGB")
    pen = _Pen(base.size)
    draw = ImageDraw.Draw(base)
    action = record.action or {}
    scale = _scale(base.size, record.screen_size)
    points = scaled_points(base.size, record)
    box = _model_box(action, record.screen_size or base.size)
    if box is not None:
        box = (*_scaled(box[:2], scale), *_scaled(box[2:], scale))
        _outlined(draw, pen, lambda d, w, c: d.rectangle(box, outline=c, width=w), BOX)
    if points:
        _draw_points(draw, pen, base.size, points, action, MARKER)
    else:
        planned = [_scaled(p, scale) for p in _model_points(action, record.screen_size or base.size)]
        _draw_points(draw, pen, base.size, planned, action, PLANNED)
    if "label" in action and record.marked_screenshot:
        anchor = points[0] if points else (pen.radius, pen.radius)
        _badge(draw, pen, base.size, anchor, f"[{action['label']}]")
    return _with_caption(base, pen, caption_lines(record))


def _draw_points(
    draw: ImageDraw.ImageDraw, pen: _Pen, size: tuple[int, int], points: list[Point], action: dict[str, Any],
    colour: Any,
) -> None:
    direction = DIRECTIONS.get(str(action.get("direction", "")))
    if len(points) >= 2:
        _ring(draw, pen, points[0], ARROW)
        _arrow(draw, pen, points[0], points[-1])
        return
    if direction is not None:
        w, h = size
        start = points[0] if points else (w // 2, h // 2)
        length = max(pen.radius * 4, min(w, h) // 4)
        _arrow(draw, pen, start, (start[0] + direction[0] * length, start[1] + direction[1] * length))
    if points:
        _click(draw, pen, points[0], colour)


def _outlined(draw: ImageDraw.ImageDraw, pen: _Pen, shape: Any, colour: Any) -> None:
    """Draw ``shape(draw, width, colour)`` over a wider white halo so it shows on any background."""
    shape(draw, pen.width + 2, HALO)
    shape(draw, pen.width, colour)


def _click(draw: ImageDraw.ImageDraw, pen: _Pen, point: Point, colour: Any) -> None:
    """Circle + crosshair + centre dot, symmetric around ``point`` (the exact pixel gets ``colour``)."""
    x, y = point
    r, arm, t = pen.radius, round(pen.radius * 1.6), pen.width // 2

    def shape(d: ImageDraw.ImageDraw, width: int, c: Any) -> None:
        grow = (width - pen.width) // 2
        d.ellipse((x - r - grow, y - r - grow, x + r + grow, y + r + grow), outline=c, width=width)
        d.rectangle((x - arm - grow, y - t - grow, x + arm + grow, y + t + grow), fill=c)
        d.rectangle((x - t - grow, y - arm - grow, x + t + grow, y + arm + grow), fill=c)

    _outlined(draw, pen, shape, colour)
    draw.ellipse((x - pen.dot - 1, y - pen.dot - 1, x + pen.dot + 1, y + pen.dot + 1), fill=colour)


def _ring(draw: ImageDraw.ImageDraw, pen: _Pen, point: Point, colour: Any) -> None:
    x, y = point
    r = max(3, pen.radius // 2)
    _outlined(draw, pen, lambda d, w, c: d.ellipse((x - r, y - r, x + r, y + r), outline=c, width=w), colour)


def _arrow(draw: ImageDraw.ImageDraw, pen: _Pen, start: Point, end: Point) -> None:
    angle = math.atan2(end[1] - start[1], end[0] - start[0])
    head = pen.radius * 1.2
    left = (end[0] - head * math.cos(angle - 0.45), end[1] - head * math.sin(angle - 0.45))
    right = (end[0] - head * math.cos(angle + 0.45), end[1] - head * math.sin(angle + 0.45))

    def shape(d: ImageDraw.ImageDraw, width: int, c: Any) -> None:
        d.line((start, end), fill=c, width=width)
        d.polygon((end, left, right), fill=c, outline=c, width=max(1, width - pen.width + 1))

    _outlined(draw, pen, shape, ARROW)


def _badge(draw: ImageDraw.ImageDraw, pen: _Pen, size: tuple[int, int], anchor: Point, text: str) -> None:
    face = font(pen.font_size)
    x, y = anchor[0] + pen.radius, anchor[1] - pen.radius - pen.font_size
    left, top, right, bottom = draw.textbbox((x, y), text, font=face)
    w = size[0]
    dx = min(0, w - 1 - (right + 4)) - min(0, left - 4)
    dy = -min(0, top - 4)
    draw.rectangle((left - 4 + dx, top - 4 + dy, right + 4 + dx, bottom + 4 + dy), fill=(0, 0, 0), outline=HALO)
    draw.text((x + dx, y + dy), text, font=face, fill=(255, 230, 0))


def caption_lines(record: StepRecord) -> list[tuple[str, tuple[int, int, int]]]:
    """The caption strip's lines with their colours: the action, typed text, the error."""
    action = record.action or {}
    retry = f" (retry {record.attempt})" if record.attempt else ""
    head = f"step {record.index}{retry}: "
    if action:
        args = {k: v for k, v in action.items() if k not in ("space", "type", *TEXT_KEYS)}
        head += " ".join([str(action.get("type")), *(f"{k}={_compact(v)}" for k, v in args.items())])
        if record.pixels:
            head += " @ " + " -> ".join(f"({x},{y})" for x, y in record.pixels)
    else:
        head += "no action"
    lines = [(head, STRIP_TEXT)]
    for key in TEXT_KEYS:
        if isinstance(action.get(key), str):
            verb = "answer" if action.get("type") in ("answer", "ANSWER") else "typed"
            lines.append((f"{verb}: {json.dumps(action[key], ensure_ascii=False)}", STRIP_TYPED))
    if record.error:
        lines.append((f"{record.error_kind or 'error'}: {record.error}", STRIP_ERROR))
    return lines


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def strip_height(size: tuple[int, int], lines: int) -> int:
    """Height in pixels of a caption strip of ``lines`` lines under a screenshot of ``size``."""
    pad, line_height = _strip_metrics(_Pen(size))
    return 2 * pad + lines * line_height


def _strip_metrics(pen: _Pen) -> tuple[int, int]:
    return max(4, pen.font_size // 2), round(pen.font_size * 1.3)


def _with_caption(image: Image.Image, pen: _Pen, lines: list[tuple[str, tuple[int, int, int]]]) -> Image.Image:
    face = font(pen.font_size)
    pad, line_height = _strip_metrics(pen)
    wrapped: list[tuple[str, tuple[int, int, int]]] = []
    for text, colour in lines:
        wrapped.extend((part, colour) for part in wrap(text, face, image.width - 2 * pad, max_lines=3))
    out = Image.new("RGB", (image.width, image.height + 2 * pad + line_height * len(wrapped)), STRIP_BG)
    out.paste(image, (0, 0))
    draw = ImageDraw.Draw(out)
    for number, (text, colour) in enumerate(wrapped):
        draw.text((pad, image.height + pad + number * line_height), text, font=face, fill=colour)
    return out


def wrap(text: str, face: Any, width: int, max_lines: int = 3) -> list[str]:
    """Greedy character wrap to ``width`` pixels (works for CJK, which has no spaces); the last line ends in '…'."""
    text = " ".join(text.split())
    lines: list[str] = []
    while text and len(lines) < max_lines:
        cut = _fit(text, face, width)
        space = text.rfind(" ", 0, cut + 1)
        if cut < len(text) and space > cut // 2:
            cut = space
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text and lines:
        last = lines[-1]
        while last and face.getlength(last + "…") > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines


def _fit(text: str, face: Any, width: int) -> int:
    """The longest prefix length of ``text`` that fits in ``width`` pixels (at least one character)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if face.getlength(text[:middle]) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def scaled_points(size: tuple[int, int], record: StepRecord) -> list[Point]:
    """``record.pixels`` on an image of ``size`` (the same points unless the image differs from the screen)."""
    scale = _scale(size, record.screen_size)
    return [_scaled(p, scale) for p in record.pixels]


def _scale(size: tuple[int, int], screen: tuple[int, int] | None) -> tuple[float, float]:
    if not screen or screen == size or min(screen) <= 0:
        return 1.0, 1.0
    return size[0] / screen[0], size[1] / screen[1]


def _scaled(point: Any, scale: tuple[float, float]) -> Point:
    return round(point[0] * scale[0]), round(point[1] * scale[1])


def _model_box(action: dict[str, Any], size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    box = action.get("box_2d")
    try:
        return box_to_pixels(tuple(box), size) if box else None  # type: ignore[arg-type]
    except (ValueError, TypeError, IndexError):
        return None


def _model_points(action: dict[str, Any], size: tuple[int, int]) -> list[Point]:
    """Where the model pointed, in pixels, for a step whose action did not run."""
    try:
        if action.get("box_2d"):
            return [point_to_pixels(box_center(tuple(action["box_2d"])), size)]  # type: ignore[arg-type]
        return [point_to_pixels(tuple(action[key]), size) for key in POINT_KEYS if action.get(key)]  # type: ignore[arg-type]
    except (ValueError, TypeError, IndexError):
        return []
