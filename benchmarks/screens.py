"""Synthetic but realistic screenshots (text, icons, flat colours) for benchmarks, deterministic per size."""

from __future__ import annotations

import random

from PIL import Image, ImageDraw, ImageFont


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"):
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default()


def _photo(image: Image.Image, box: tuple[int, int, int, int], rng: random.Random) -> None:
    """A photo-like banner (smooth gradient plus sensor noise), as most app and web screens carry."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    base = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    noise = Image.effect_noise((w, h), 24).convert("RGB")
    tint = Image.new("RGB", (w, h), tuple(rng.randrange(80, 200) for _ in range(3)))
    photo = Image.blend(Image.blend(base, tint, 0.5), noise, 0.25)
    image.paste(photo, (x1, y1))


def ui_screenshot(width: int, height: int, seed: int = 0, photo: bool = True) -> Image.Image:
    """A screen with a toolbar, a list of text rows, buttons and icons, like a real app or web page.

    ``photo`` adds a photo-like banner over a quarter of the screen (most real screens carry pictures); without it
    the screen is flat colours and text, the easiest case for PNG.
    """
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (248, 249, 251))
    draw = ImageDraw.Draw(image)
    unit = max(12, height // 60)
    font = _font(unit)
    draw.rectangle((0, 0, width, unit * 3), fill=(33, 99, 201))
    draw.text((unit, unit), "Settings  •  Network & internet", fill="white", font=font)
    y = unit * 4
    if photo:
        _photo(image, (unit, unit * 4, width - unit, unit * 4 + height // 4), rng)
        y += unit + height // 4
    words = ["Wi-Fi", "Bluetooth", "Mobile data", "Hotspot", "Airplane mode", "VPN", "Private DNS", "Data saver"]
    while y < height - unit * 4:
        draw.rounded_rectangle((unit, y, unit * 3, y + unit * 2), radius=unit // 2,
                               fill=tuple(rng.randrange(60, 220) for _ in range(3)))
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(2, 6)))
        draw.text((unit * 4, y), text, fill=(20, 20, 20), font=font)
        draw.text((unit * 4, y + unit + 2), f"Connected · {rng.randrange(1, 99)} devices", fill=(110, 110, 110),
                  font=_font(max(10, unit * 3 // 4)))
        draw.rounded_rectangle((width - unit * 6, y, width - unit, y + unit * 2), radius=unit, outline=(33, 99, 201))
        draw.line((unit, y + unit * 3, width - unit, y + unit * 3), fill=(225, 225, 230))
        y += unit * 4
    return image
