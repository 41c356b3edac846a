"""Image preparation for the model: resize to GLM-V's grid, encode as a data URL, history thumbnails.

Screenshots are resized on the client to exactly the size the GLM-V image processor would produce
(:func:`glmv_agent.geometry.smart_resize`), so the server does no second resampling and the bytes on the wire
match the pixels the model sees. Model coordinates are thousandths of the image, so the resize never changes
where an action lands (see :mod:`glmv_agent.geometry`).

Defaults were measured on Chromium screenshots (2 cores, Pillow with libjpeg-turbo). At 1920x1080 the bicubic
resize costs ~30 ms; JPEG quality 90 with 4:4:4 chroma then encodes in ~7 ms at 45 dB PSNR (UI text stays sharp)
and is accepted by every server. PNG (zlib level 1, lossless) takes ~50 ms and WebP (fastest method) ~30-40 ms;
WebP is 2.5-4x smaller than JPEG, worth it on slow links to a remote endpoint.
"""

from __future__ import annotations

import base64
import io
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlparse

from PIL import Image

from .geometry import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, smart_resize

ImageFormat = Literal["jpeg", "png", "webp"]
FormatChoice = Literal["auto", "jpeg", "png", "webp"]

DEFAULT_FORMAT: ImageFormat = "jpeg"
# Hosts of the hosted GLM API, which documents JPEG/PNG input; everything else (vLLM, SGLang decode with Pillow)
# gets WebP under "auto".
JPEG_ONLY_HOSTS = ("bigmodel.cn", "z.ai")
NEAR_IDENTITY = 0.02  # grid within 2% of the screenshot on both axes: nearest-neighbour, no blur, ~1 ms
DEFAULT_QUALITY = 90
PNG_COMPRESS_LEVEL = 1  # zlib level 1: ~3x faster than Pillow's default 6 on screenshots, a few % larger
WEBP_METHOD = 0  # fastest WebP method; higher methods cost 3-10x the time for a few % fewer bytes

_MIME: dict[str, str] = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def grid_size(
    size: tuple[int, int], *, min_pixels: int = DEFAULT_MIN_PIXELS, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[int, int]:
    """The (width, height) an image of ``size`` = (width, height) has on the model grid."""
    height, width = smart_resize(size[1], size[0], min_pixels=min_pixels, max_pixels=max_pixels)
    return width, height


def prepare_image(
    img: Image.Image, *, min_pixels: int = DEFAULT_MIN_PIXELS, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Image.Image:
    """``img`` resized (bicubic) to the model grid; returned unchanged when it is already on the grid.

    Images with alpha or a palette are flattened to RGB first (cheaper to resample, and every encoder wants RGB).
    """
    if img.mode not in ("RGB", "L"):
        img = _to_rgb(img)
    target = grid_size(img.size, min_pixels=min_pixels, max_pixels=max_pixels)
    if target == img.size:
        return img
    near = all(abs(t / s - 1) <= NEAR_IDENTITY for t, s in zip(target, img.size, strict=True))
    # 1920x1080 -> 1932x1092 repeats one pixel row/column in ~90: nearest keeps text crisp and costs ~1 ms,
    # where bicubic costs ~30 ms for a sub-pixel blur. Real rescales (4K, tiny images) stay bicubic.
    return img.resize(target, Image.Resampling.NEAREST if near else Image.Resampling.BICUBIC)


def resolve_format(choice: FormatChoice, base_url: str | None = None) -> ImageFormat:
    """``auto``: WebP (2.5-4x smaller than JPEG) unless the endpoint is the hosted GLM API, which gets JPEG."""
    if choice != "auto":
        return choice
    host = (urlparse(base_url or "").hostname or "").lower()
    if any(host == h or host.endswith("." + h) for h in JPEG_ONLY_HOSTS):
        return "jpeg"
    return "webp"


_MEMO: OrderedDict[tuple[int, Any], tuple[Any, Any]] = OrderedDict()
_MEMO_SIZE = 32


def memo(img: Image.Image, key: Any, compute: Callable[[Image.Image], Any]) -> Any:
    """``compute(img)`` remembered per image object (history screenshots are re-sent every step)."""
    slot = (id(img), key)
    hit = _MEMO.get(slot)
    if hit is not None and hit[0]() is img:
        _MEMO.move_to_end(slot)
        return hit[1]
    value = compute(img)
    _MEMO[slot] = (weakref.ref(img), value)
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return value


def half_size(img: Image.Image) -> Image.Image:
    """A 50% x 50% thumbnail (history screenshots): box filter, cheap and text-preserving; computed once."""

    def shrink(source: Image.Image) -> Image.Image:
        width, height = source.size
        return source.resize((max(1, width // 2), max(1, height // 2)), Image.Resampling.BOX)

    return memo(img, "half", shrink)


def encode_image(img: Image.Image, fmt: ImageFormat = DEFAULT_FORMAT, quality: int = DEFAULT_QUALITY) -> bytes:
    """``img`` encoded as JPEG (4:4:4), PNG (fast zlib level) or WebP (fastest method)."""
    if fmt not in _MIME:
        raise ValueError(f"unknown image format {fmt!r}: use one of {', '.join(_MIME)}")
    if not 1 <= quality <= 100:
        raise ValueError(f"image quality must be within 1..100, got {quality}")
    if img.mode != "RGB":
        img = _to_rgb(img)
    buffer = io.BytesIO()
    if fmt == "jpeg":
        img.save(buffer, format="JPEG", quality=quality, subsampling=0, optimize=False)
    elif fmt == "png":
        img.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    else:
        img.save(buffer, format="WEBP", quality=quality, method=WEBP_METHOD)
    return buffer.getvalue()


def encode_data_url(img: Image.Image, fmt: ImageFormat = DEFAULT_FORMAT, quality: int = DEFAULT_QUALITY) -> str:
    """``img`` as a ``data:image/...;base64,`` URL (what OpenAI-compatible servers take in ``image_url``)."""
    payload = base64.b64encode(encode_image(img, fmt, quality)).decode("ascii")
    return f"data:{_MIME[fmt]};base64,{payload}"


def mime_type(fmt: ImageFormat) -> str:
    return _MIME[fmt]


def _to_rgb(img: Image.Image) -> Image.Image:
    """RGB copy; transparent pixels become white (how screenshots with alpha look on screen)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        if rgba.getchannel("A").getextrema() == (255, 255):  # opaque (e.g. Android screencap): plain drop
            return rgba.convert("RGB")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")
