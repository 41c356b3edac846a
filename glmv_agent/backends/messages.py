"""OpenAI chat messages from ChatMessages: text parts as they are, screenshots as data URLs on the GLM-V grid.

Each screenshot is encoded once per image object (imaging.memo) and can be encoded ahead of the request
(:func:`prefetch_image_url`, while an environment confirms that its screen is still).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..imaging import FormatChoice, encode_data_url, map_images, memo, prefetch, prepare_image, resolve_format
from ..types import ChatMessage, ImagePart, TextPart


class ImageSettings(Protocol):
    """What the encoding reads from an EndpointConfig."""

    base_url: str
    image_format: FormatChoice
    image_quality: int
    min_pixels: int
    max_pixels: int


def to_openai_messages(messages: list[ChatMessage], config: ImageSettings) -> list[dict[str, Any]]:
    """ChatMessages as OpenAI messages: parts in order, images resized to the grid and sent as data URLs.

    Text-only system and assistant turns go as plain strings (every OpenAI-compatible server takes those);
    user turns always as a list of parts. Images not encoded before are encoded at once on worker threads.
    """
    images = [part.image for message in messages for part in message.content if isinstance(part, ImagePart)]
    urls = iter(map_images(images, lambda image: image_url(image, config)))
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role != "user" and all(isinstance(p, TextPart) for p in message.content):
            out.append({"role": message.role, "content": message.text()})
            continue
        parts: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, TextPart):
                parts.append({"type": "text", "text": part.text})
            else:
                parts.append({"type": "image_url", "image_url": {"url": next(urls)}})
        out.append({"role": message.role, "content": parts})
    return out


def image_url(image: Any, config: ImageSettings) -> str:
    """The data URL for one screenshot (grid resize + encode), computed once per image object."""
    return memo(image, *_encoding(config))


def prefetch_image_url(image: Any, config: ImageSettings) -> None:
    """Start encoding ``image`` as :func:`image_url` will want it, on a worker thread (see imaging.prefetch)."""
    prefetch(image, *_encoding(config, ahead=True))


def _encoding(config: ImageSettings, ahead: bool = False) -> tuple[tuple[Any, ...], Callable[[Any], str]]:
    """(cache key, encoder) of a screenshot's data URL under ``config``; ``ahead``: encoded before the request
    needs it (the encoder may then take longer for fewer bytes, see imaging.encode_image). Both encoders give
    a valid data URL of the same pixels, so they share the cache key."""
    fmt = resolve_format(config.image_format, config.base_url)

    def encode(img: Any) -> str:
        prepared = prepare_image(img, min_pixels=config.min_pixels, max_pixels=config.max_pixels)
        return encode_data_url(prepared, fmt, config.image_quality, ahead)

    return ("url", fmt, config.image_quality, config.min_pixels, config.max_pixels), encode


__all__ = ["ImageSettings", "image_url", "prefetch_image_url", "to_openai_messages"]
