"""The smallest WebP for a screenshot encoded ahead of the request (``image_format="webp-smallest"``, the default).

No single WebP setting is smallest on every screen (``python benchmarks/bench_imaging.py``, docs/core.md): lossy
WebP (quality 90, fastest method) wins on screens with photos; lossless WebP at the fastest method wins on rendered
web pages (about half of lossy's bytes there, and exact pixels); lossless WebP at method 1 wins on flat screens of
text and solid colours (a sixth of lossy's), but costs up to ten times lossy's time on a web page. Finding the
smallest costs CPU, so it is done only for images encoded ahead of the request, during the desktop's settle wait,
where nobody waits for it; an image encoded when the request needs it is lossy WebP at once (the cheapest encoding
that is small on every screen, and what a CPU-bound batch needs).

The candidates first encode the same sample: four full-width bands spread over the height, together an eighth of
the image. On every screen measured the sample's sizes rank the candidates as the whole image ranks them, and its
encoding time (thread CPU) predicts the whole encoding's. In order: lossy; lossless at the fastest method, used when
smaller; lossless at method 1, tried unless the fastest lossless was over 2x lossy's size (a photo-like screen) or
won at over half of lossy's time (a rendered page, where method 1 costs up to 10x), and used when smaller. A
candidate whose sample took over 1.5x lossy's is not used. The sample costs an eighth of each candidate tried
(3-15 ms at 1920x1080 on the benchmark VM). When the chosen lossless encoding comes out over twice the size its
sample predicted, the bands missed what the screen holds (a blank screen with one line of text at the top), and
lossy is encoded too; the smaller one is sent.
"""

from __future__ import annotations

import io
import time
from typing import Any

from PIL import Image

BANDS = 4
SAMPLE_FRACTION = 8  # the bands together are this fraction of the image's height
TIME_BUDGET = 1.5  # a candidate may take at most this multiple of lossy's time (predicted from the sample)
PHOTO_LIKE = 2.0  # lossless this many times lossy's size: higher lossless efforts are not tried
MISJUDGED = 2.0  # a lossless result this many times its sample's prediction: the sample missed content
CHEAP = 0.5  # lossless at the fastest effort this fast next to lossy: a flat screen, the next effort is tried
# Pillow WebP options; lossless efforts cheapest first: one predicted over budget ends the search.
LOSSY: dict[str, Any] = {"method": 0}
LOSSLESS: tuple[dict[str, Any], ...] = (
    {"lossless": True, "quality": 100, "method": 0},
    {"lossless": True, "quality": 100, "method": 1},
)


def smallest_webp(img: Image.Image, quality: int, ahead: bool = False) -> bytes:
    """``img`` (RGB) encoded ``ahead`` of the request (in a settle wait) as lossy WebP at ``quality`` or lossless
    WebP (exact pixels), whichever the sample says is smaller within the time budget; on the request's critical
    path (not ``ahead``) lossy WebP at once, the cheapest encoding that is small everywhere. Images under 64 rows
    are encoded lossy (too small to sample)."""
    lossy = {**LOSSY, "quality": quality}
    if not ahead or img.height < 64:
        return _encode(img, lossy)[0]
    sample = _bands(img)
    data, lossy_s = _encode(sample, lossy)
    best, best_size = lossy, len(data)
    for options in LOSSLESS:
        data, seconds = _encode(sample, options)
        if seconds > lossy_s * TIME_BUDGET:
            break
        if len(data) > PHOTO_LIKE * best_size:
            break  # far behind lossy: a photo-like screen, a higher effort cannot catch up
        if len(data) < best_size:
            best, best_size = options, len(data)
            if seconds > lossy_s * CHEAP:  # a rendered page: the next effort costs up to 10x for a little less
                break
    chosen = _encode(img, best)[0]
    if best is not lossy and len(chosen) > MISJUDGED * best_size * img.height / sample.height:
        # The sample missed what the image holds (content outside the bands): compare with lossy itself.
        return min(chosen, _encode(img, lossy)[0], key=len)
    return chosen


def _encode(img: Image.Image, options: dict[str, Any]) -> tuple[bytes, float]:
    """(bytes, thread CPU seconds) of one WebP encoding."""
    buffer = io.BytesIO()
    started = time.thread_time()
    img.save(buffer, format="WEBP", **options)
    return buffer.getvalue(), time.thread_time() - started


def _bands(img: Image.Image) -> Image.Image:
    """Four full-width bands, each a 32nd of the height, centred at 1/8, 3/8, 5/8 and 7/8 of it, stacked."""
    width, height = img.size
    band = max(1, height // (BANDS * SAMPLE_FRACTION))
    sample = Image.new(img.mode, (width, band * BANDS))
    for index in range(BANDS):
        top = (2 * index + 1) * height // (2 * BANDS) - band // 2
        sample.paste(img.crop((0, top, width, top + band)), (0, index * band))
    return sample


__all__ = ["smallest_webp"]
