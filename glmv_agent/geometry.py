"""Coordinate maths between model space (thousandths) and pixels, and GLM-V's image grid.

Model coordinates are thousandths of the screenshot the model saw. Resizing the screenshot to the model's grid
(smart_resize) keeps relative positions per axis, so a model coordinate maps straight back to the original screen:
``pixel = floor(value / 1000 * size)``, kept inside the image.
"""

from __future__ import annotations

import math

from .actions import MODEL_MAX

# Glm4vImageProcessor defaults: patch 14, merge 2 -> factor 28; temporal patch 2; min/max pixels.
GRID_FACTOR = 28
TEMPORAL_PATCH = 2
DEFAULT_MIN_PIXELS = 112 * 112
DEFAULT_MAX_PIXELS = 28 * 28 * 15000


def smart_resize(
    height: int,
    width: int,
    *,
    factor: int = GRID_FACTOR,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[int, int]:
    """The (height, width) the GLM-V image processor resizes an image to (same arithmetic as transformers)."""
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    if height < factor or width < factor:
        scale = max(factor / height, factor / width)
        height, width = int(height * scale), int(width * scale)
    if max(height, width) / min(height, width) > 200:
        raise ValueError(f"aspect ratio over 200: {width}x{height}")
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    frames = TEMPORAL_PATCH
    if frames * h_bar * w_bar > max_pixels:
        beta = math.sqrt(frames * height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif frames * h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (frames * height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def image_tokens(height: int, width: int, **kwargs: int) -> int:
    """Number of image tokens one ``<|image|>`` expands to for an image of this size."""
    h, w = smart_resize(height, width, **kwargs)
    return (h // 14) * (w // 14) // 4


def to_pixel(value: int, size: int) -> int:
    """One model-space coordinate (0..1000) to a pixel index in ``[0, size)``."""
    if not 0 <= value <= MODEL_MAX:
        raise ValueError(f"model coordinate {value} is outside 0..{MODEL_MAX}")
    return min(size - 1, math.floor(value * size / MODEL_MAX))


def point_to_pixels(point: tuple[int, int], size: tuple[int, int]) -> tuple[int, int]:
    """A model-space point to pixel (x, y) on an image of ``size`` = (width, height)."""
    return to_pixel(point[0], size[0]), to_pixel(point[1], size[1])


def box_center(box: tuple[int, int, int, int]) -> tuple[int, int]:
    """Centre of a model-space box, still in model space."""
    x1, y1, x2, y2 = box
    return (x1 + x2) // 2, (y1 + y2) // 2


def box_to_pixels(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A model-space box to a pixel box (x1, y1, x2, y2)."""
    x1, y1 = point_to_pixels((box[0], box[1]), size)
    x2, y2 = point_to_pixels((box[2], box[3]), size)
    return x1, y1, x2, y2


def pixel_to_model(x: float, y: float, size: tuple[int, int]) -> tuple[int, int]:
    """The model-space point a model would write for pixel (x, y); inverse of :func:`point_to_pixels`."""
    mx = min(MODEL_MAX - 1, int((x + 0.5) * MODEL_MAX / size[0]))
    my = min(MODEL_MAX - 1, int((y + 0.5) * MODEL_MAX / size[1]))
    return mx, my
