"""Draws the simulated phone's screen (what `screencap -p` returns) from the screen model's layout."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .screen import ADB_IME, Element, Phone

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # covers CJK (fonts-wqy-zenhei)
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
BACKGROUND = (245, 246, 250)
STATUS_BAR = (32, 33, 36)
ACCENT = (26, 115, 232)
TEXT = (32, 33, 36)
MUTED = (95, 99, 104)
ICON_COLOURS = ((66, 133, 244), (52, 168, 83), (251, 188, 5), (234, 67, 53), (155, 81, 224), (0, 172, 193))
FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=16)
def font(size: int) -> FontType:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def render(phone: Phone, panel: int | None = None) -> Image.Image:
    """The screen of ``panel`` (default: the one in use) as an RGB image: the logical size for the panel in use,
    the natural size for another. Black when that panel is off or a secure window is in front."""
    with phone.state.lock:
        state = phone.state
        index = state.active_panel if panel is None else panel
        if not phone.panel_on(index):
            return Image.new("RGB", state.panels[index], (0, 0, 0))  # an off panel gives screencap black
        width, height = state.size
        if phone.secure:
            return Image.new("RGB", (width, height), (0, 0, 0))  # FLAG_SECURE: screencap sees black
        image = Image.new("RGB", (width, height), BACKGROUND)
        draw = ImageDraw.Draw(image)
        u = phone.unit()
        progress = phone.launch_progress()
        if progress is not None:  # the opening animation: the app's window grows from the middle, a clock runs
            half_w, half_h = int(width * (0.1 + 0.4 * progress)), int(height * (0.1 + 0.4 * progress))
            box = (width // 2 - half_w, height // 2 - half_h, width // 2 + half_w, height // 2 + half_h)
            draw.rounded_rectangle(box, radius=u, fill=ACCENT)
            elapsed = progress * phone.state.launch_delay_s
            _centred(draw, f"opening {elapsed:.3f} s", width // 2, height // 2, u, (255, 255, 255))  # every frame
            return image
        draw.rectangle((0, 0, width, int(1.2 * u)), fill=STATUS_BAR)
        draw.text((u // 2, u // 6), "12:00", font=font(int(0.8 * u)), fill=(255, 255, 255))
        if phone.state.wifi:
            draw.text((width - 4 * u, u // 6), "Wi-Fi", font=font(int(0.8 * u)), fill=(255, 255, 255))
        for index, element in enumerate(phone.layout()):
            _draw_element(draw, element, u, index)
        keyboard = phone.keyboard_rect()
        if keyboard is not None:
            _draw_keyboard(draw, keyboard, u, phone.state.ime_current == ADB_IME)
        return image


def render_png(phone: Phone, panel: int | None = None) -> bytes:
    buffer = io.BytesIO()
    render(phone, panel).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _draw_element(draw: ImageDraw.ImageDraw, element: Element, u: int, index: int) -> None:
    x1, y1, x2, y2 = element.rect
    if element.kind == "icon":
        side = (x2 - x1) // 2
        cx = (x1 + x2) // 2
        colour = ICON_COLOURS[index % len(ICON_COLOURS)]
        draw.rounded_rectangle((cx - side // 2, y1 + u, cx + side // 2, y1 + u + side), radius=side // 4, fill=colour)
        _centred(draw, element.label, cx, y1 + u + side + u // 3, int(0.75 * u))
    elif element.kind == "title":
        draw.rectangle(element.rect, fill=ACCENT)
        draw.text((x1 + u, y1 + int(0.6 * u)), element.label, font=font(int(1.1 * u)), fill=(255, 255, 255))
    elif element.kind == "field":
        draw.rounded_rectangle(element.rect, radius=u // 3, outline=ACCENT, width=max(2, u // 12), fill="white")
        shown = element.detail.replace("\n", " ⏎ ") if element.detail else element.label
        colour = TEXT if element.detail else MUTED
        draw.text((x1 + u // 2, y1 + int(0.6 * u)), shown[-60:], font=font(int(0.9 * u)), fill=colour)
    elif element.kind == "button":
        draw.rounded_rectangle(element.rect, radius=u // 3, fill=ACCENT)
        _centred(draw, element.label, (x1 + x2) // 2, y1 + int(0.5 * u), int(0.9 * u), (255, 255, 255))
    elif element.kind == "item":
        draw.line((x1, y2 - 1, x2, y2 - 1), fill=(218, 220, 224), width=2)
        draw.text((x1 + u, y1 + int(0.5 * u)), element.label, font=font(int(0.95 * u)), fill=TEXT)
        if element.detail:
            draw.text((x1 + u, y1 + int(1.6 * u)), element.detail, font=font(int(0.7 * u)), fill=MUTED)
    else:
        draw.text((x1, y1), element.label, font=font(int(0.9 * u)), fill=TEXT)


def _draw_keyboard(draw: ImageDraw.ImageDraw, rect: tuple[int, int, int, int], u: int, adb: bool) -> None:
    x1, y1, x2, y2 = rect
    draw.rectangle(rect, fill=(232, 234, 237))
    if adb:
        _centred(draw, "ADB Keyboard {ON}", (x1 + x2) // 2, y1 + u, int(0.9 * u), TEXT)
        return
    rows = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
    key_h = (y2 - y1) // 5
    for r, letters in enumerate(rows):
        key_w = (x2 - x1) // 10
        start = x1 + (x2 - x1 - key_w * len(letters)) // 2
        for c, letter in enumerate(letters):
            kx, ky = start + c * key_w, y1 + u // 2 + r * key_h
            draw.rounded_rectangle((kx + 4, ky + 4, kx + key_w - 4, ky + key_h - 4), radius=u // 5, fill="white")
            _centred(draw, letter, kx + key_w // 2, ky + key_h // 4, int(0.8 * u))


def _centred(
    draw: ImageDraw.ImageDraw, text: str, cx: int, y: int, size: int, colour: tuple[int, int, int] = TEXT
) -> None:
    face = font(size)
    width = draw.textlength(text, font=face)
    draw.text((cx - width / 2, y), text, font=face, fill=colour)
