"""Image preparation for the model: resize to GLM-V's grid, encode as a data URL, history thumbnails.

Screenshots are resized on the client to exactly the size the GLM-V image processor would produce
(:func:`glmv_agent.geometry.smart_resize`), so the server does no second resampling and the bytes on the wire
match the pixels the model sees. Model coordinates are thousandths of the image, so the resize never changes
where an action lands (see :mod:`glmv_agent.geometry`).

Defaults were measured with benchmarks/bench_imaging.py (2 cores, Pillow 13 with libjpeg-turbo and libwebp 1.6; CPU
time of the encoding thread; Chromium pages and synthetic screens; docs/core.md). At 1920x1080 the near-identity
grid resize costs ~1 ms. Lossy WebP (quality 90, fastest method) then costs 30-52 ms for 0.25-0.41x the bytes of a
naive full-resolution PNG (0.9x on a flat screen of text and solid colours) at 40-46 dB PSNR. Lossless WebP
(fastest method) costs about the same on rendered pages and sends 0.2-0.3x, but 175-270 ms and 0.7x on
photo-like screens, so lossy stays the default and ``webp-lossless`` is the option for exact pixels. JPEG
(quality 90, 4:4:4, 5-8 ms) is what the hosted GLM API gets. Every encoder here releases the GIL, so images
encoded on worker threads use every core.
"""

from __future__ import annotations

import base64
import io
import os
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, Literal
from urllib.parse import urlparse

from PIL import Image

from .geometry import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, smart_resize
from .webp_choice import smallest_webp
from .workers import Workers

ImageFormat = Literal["jpeg", "png", "webp", "webp-lossless", "webp-smallest"]
FormatChoice = Literal["auto", "jpeg", "png", "webp", "webp-lossless", "webp-smallest"]

DEFAULT_FORMAT: ImageFormat = "jpeg"
# Hosts of the hosted GLM API, which documents JPEG/PNG input; everything else (vLLM, SGLang decode with Pillow)
# gets WebP under "auto".
JPEG_ONLY_HOSTS = ("bigmodel.cn", "z.ai")
NEAR_IDENTITY = 0.02  # grid within 2% of the screenshot on both axes: nearest-neighbour, no blur, ~1 ms
DEFAULT_QUALITY = 90
PNG_COMPRESS_LEVEL = 1  # zlib level 1: ~3x faster than Pillow's default 6 on screenshots, a few % larger
WEBP_METHOD = 0  # fastest WebP method; higher methods cost 3-10x the time for a few % fewer bytes
# Lossless WebP's effort at the fastest method: 100 gives the smallest files on UI screens for ~10% more time than
# 0, which on flat screens comes out 4-5x larger than PNG.
WEBP_LOSSLESS_EFFORT = 100

_MIME: dict[str, str] = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "webp-lossless": "image/webp",
                         "webp-smallest": "image/webp"}


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
    """``auto``: WebP (lossy, or the smallest of lossy and lossless when encoded ahead of the request, see
    :mod:`.webp_choice`) unless the endpoint is the hosted GLM API, which gets JPEG."""
    if choice != "auto":
        return choice
    host = (urlparse(base_url or "").hostname or "").lower()
    if any(host == h or host.endswith("." + h) for h in JPEG_ONLY_HOSTS):
        return "jpeg"
    return "webp-smallest"


_POOL = Workers("glmv-image")
_CACHE: dict[int, dict[Any, Any]] = {}  # id(image) -> {key: value}; an entry lives exactly as long as its image


def memo(img: Image.Image, key: Any, compute: Callable[[Image.Image], Any]) -> Any:
    """``compute(img)`` remembered for as long as ``img`` lives (history screenshots are re-sent every step).

    Entries belong to image objects, not to a fixed-size table, so concurrent episodes never evict each other's;
    an entry goes when its image is garbage-collected. Thread-safe: at worst two threads compute the same value.
    A value that is ``img`` itself is not kept (it would keep its own image alive).
    """
    values = _values(img)
    if key in values:
        value = values[key]
        return value.result() if isinstance(value, Future) else value
    value = compute(img)
    if value is not img:
        values[key] = value
    return value


def prefetch(img: Image.Image, key: Any, compute: Callable[[Image.Image], Any]) -> None:
    """Start ``compute(img)`` on a worker thread now; a later :func:`memo` with the same key waits for it.

    Used while a screen is being confirmed still (the environment's settle wait): the model image is encoded
    during that wait instead of after it. ``img`` must not be changed afterwards. An error in ``compute`` is
    raised by the :func:`memo` call that wants the value.
    """
    values = _values(img)
    if key not in values:
        values[key] = _POOL.submit(compute, img)


def _drop_unfinished() -> None:
    """In a child made by fork: a value the parent's threads were still computing never arrives there; it is
    computed anew when wanted."""
    for values in list(_CACHE.values()):
        for key in [k for k, v in values.items() if isinstance(v, Future) and not v.done()]:
            values.pop(key, None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_unfinished)


def _values(img: Image.Image) -> dict[Any, Any]:
    values = _CACHE.get(id(img))
    if values is None:
        values = _CACHE[id(img)] = {}
        weakref.finalize(img, _CACHE.pop, id(img), None)
    return values


def cached_entries() -> int:
    """How many images hold cached values (tests and benchmarks: the cache follows the images' lifetime)."""
    return len(_CACHE)


def map_images(images: Sequence[Image.Image], compute: Callable[[Image.Image], Any]) -> list[Any]:
    """``[compute(i) for i in images]``, the largest image on the calling thread and the others on worker threads
    at the same time (Pillow's encoders and resamplers release the GIL, so they run on all cores at once)."""
    if len(images) < 2:
        return [compute(image) for image in images]
    largest = max(range(len(images)), key=lambda i: images[i].width * images[i].height)
    others = {i: _POOL.submit(compute, image) for i, image in enumerate(images) if i != largest}
    mine = compute(images[largest])
    return [mine if i == largest else others[i].result() for i in range(len(images))]


def half_size(img: Image.Image) -> Image.Image:
    """A 50% x 50% thumbnail (history screenshots): box filter, cheap and text-preserving; computed once."""

    def shrink(source: Image.Image) -> Image.Image:
        width, height = source.size
        return source.resize((max(1, width // 2), max(1, height // 2)), Image.Resampling.BOX)

    return memo(img, "half", shrink)


def encode_image(
    img: Image.Image, fmt: ImageFormat = DEFAULT_FORMAT, quality: int = DEFAULT_QUALITY, ahead: bool = False
) -> bytes:
    """``img`` encoded as JPEG (4:4:4), PNG (fast zlib level), WebP or lossless WebP (both at the fastest method),
    or ``webp-smallest``: lossy WebP, or when encoded ``ahead`` of the request the smallest of lossy and lossless
    WebP (:func:`smallest_webp`); ``quality`` applies to JPEG and lossy WebP. Raises ValueError for an unknown
    format or quality."""
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
    elif fmt == "webp-lossless":
        img.save(buffer, format="WEBP", lossless=True, quality=WEBP_LOSSLESS_EFFORT, method=WEBP_METHOD)
    elif fmt == "webp-smallest":
        return smallest_webp(img, quality, ahead)
    else:
        img.save(buffer, format="WEBP", quality=quality, method=WEBP_METHOD)
    return buffer.getvalue()


def encode_data_url(
    img: Image.Image, fmt: ImageFormat = DEFAULT_FORMAT, quality: int = DEFAULT_QUALITY, ahead: bool = False
) -> str:
    """``img`` as a ``data:image/...;base64,`` URL (what OpenAI-compatible servers take in ``image_url``)."""
    payload = base64.b64encode(encode_image(img, fmt, quality, ahead)).decode("ascii")
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
