"""The screenshots the panel shows: kept in memory by number, scaled down, PNG-encoded when first asked for."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict

from PIL import Image

MAX_SIDE = 1000  # pixels: screenshots are shrunk to this before marks are drawn (enough to read in the panel)
STORE_SIDE = 1400  # pixels: what the store keeps at most (a shrunk screenshot plus its caption strip fits)
KEEP = 64  # images kept; older ones answer 404 (their run folders keep the full-size screenshots)


class ImageStore:
    """Thread-safe store of the newest ``keep`` images; ``put`` returns the panel URL of the image."""

    def __init__(self, keep: int = KEEP) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._images: OrderedDict[int, Image.Image | bytes] = OrderedDict()
        self._next = 1

    def put(self, image: Image.Image) -> str:
        small = shrink(image, STORE_SIDE)
        with self._lock:
            number = self._next
            self._next += 1
            self._images[number] = small
            while len(self._images) > self._keep:
                self._images.popitem(last=False)
        return f"/api/images/{number}.png"

    def png(self, number: int) -> bytes | None:
        """The image as PNG bytes, or None when unknown or already dropped."""
        with self._lock:
            item = self._images.get(number)
        if item is None or isinstance(item, bytes):
            return item
        buffer = io.BytesIO()
        item.save(buffer, format="PNG", compress_level=3)
        data = buffer.getvalue()
        with self._lock:
            if number in self._images:
                self._images[number] = data
        return data



def shrink(image: Image.Image, side: int = MAX_SIDE) -> Image.Image:
    """An RGB copy whose longest side is at most ``side`` pixels (bilinear with a reducing gap: fast, sharp enough)."""
    small = image.convert("RGB")
    small.thumbnail((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return small
