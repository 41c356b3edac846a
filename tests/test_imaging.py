"""Image preparation: GLM-V grid sizes, encodings, thumbnails, and coordinates surviving the resize."""

from __future__ import annotations

import base64
import gc
import io
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw, ImageStat, JpegImagePlugin

from glmv_agent.geometry import pixel_to_model, point_to_pixels
from glmv_agent.imaging import (
    cached_entries,
    encode_data_url,
    encode_image,
    grid_size,
    half_size,
    map_images,
    memo,
    prefetch,
    prepare_image,
)

SIZES = {"phone": (1080, 2400), "desktop": (1920, 1080), "4k": (3840, 2160)}
GRID = {"phone": (1092, 2408), "desktop": (1932, 1092), "4k": (3220, 1792)}


def ui_screen(size: tuple[int, int]) -> Image.Image:
    """A UI-like screen: white background, dark text, a coloured bar and a noisy 'photo' panel."""
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0], 80), fill=(26, 115, 232))
    for row in range(100, size[1] // 2, 40):
        draw.text((20, row), f"Settings row {row}: Wi-Fi, Bluetooth, Display", fill=(32, 33, 36))
    noise = Image.effect_noise((size[0] // 2, size[1] // 3), 60).convert("RGB")
    image.paste(Image.blend(noise, Image.new("RGB", noise.size, (200, 120, 40)), 0.5), (size[0] // 4, size[1] // 2))
    return image


@pytest.mark.parametrize("name", list(SIZES))
def test_grid_sizes_match_the_glmv_processor(name: str) -> None:
    assert grid_size(SIZES[name]) == GRID[name]
    assert prepare_image(Image.new("RGB", SIZES[name])).size == GRID[name]


def test_image_already_on_the_grid_is_returned_untouched() -> None:
    image = Image.new("RGB", (1092, 2408), "white")
    assert prepare_image(image) is image


def test_pixel_budget_is_honoured() -> None:
    width, height = prepare_image(Image.new("RGB", (3840, 2160)), max_pixels=28 * 28 * 2000).size
    assert width % 28 == 0 and height % 28 == 0
    assert 2 * width * height <= 28 * 28 * 2000


def test_transparent_pixels_become_white_and_opaque_alpha_is_dropped() -> None:
    image = Image.new("RGBA", (1092, 2408), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((0, 0, 99, 99), fill=(10, 200, 30, 255))
    prepared = prepare_image(image)
    assert prepared.mode == "RGB"
    assert prepared.getpixel((50, 50)) == (10, 200, 30) and prepared.getpixel((500, 500)) == (255, 255, 255)
    opaque = Image.new("RGBA", (1092, 2408), (1, 2, 3, 255))
    assert prepare_image(opaque).getpixel((7, 7)) == (1, 2, 3)


def test_half_size_thumbnail() -> None:
    image = Image.new("RGB", (1932, 1092), "white")
    ImageDraw.Draw(image).rectangle((0, 0, 965, 1091), fill="black")
    half = half_size(image)
    assert half.size == (966, 546)
    assert half.getpixel((482, 200)) == (0, 0, 0) and half.getpixel((483, 200)) == (255, 255, 255)


@pytest.mark.parametrize(("fmt", "mime"), [("jpeg", "image/jpeg"), ("png", "image/png"), ("webp", "image/webp"),
                                           ("webp-lossless", "image/webp"), ("webp-smallest", "image/webp")])
def test_data_urls_decode_to_the_same_size_and_format(fmt: str, mime: str) -> None:
    image = prepare_image(ui_screen((1080, 2400)))
    url = encode_data_url(image, fmt)
    prefix = f"data:{mime};base64,"
    assert url.startswith(prefix)
    decoded = Image.open(io.BytesIO(base64.b64decode(url[len(prefix):])))
    assert decoded.format == fmt.split("-")[0].upper() and decoded.size == image.size


def test_lossless_webp_keeps_every_pixel_and_beats_png_on_a_rendered_screen() -> None:
    image = prepare_image(ui_screen((1080, 2400)))
    data = encode_image(image, "webp-lossless")
    assert Image.open(io.BytesIO(data)).convert("RGB").tobytes() == image.tobytes()
    assert len(data) < len(encode_image(image, "png"))


def test_jpeg_keeps_full_chroma_and_png_is_lossless() -> None:
    image = prepare_image(ui_screen((1920, 1080)))
    jpeg = Image.open(io.BytesIO(encode_image(image, "jpeg")))
    assert JpegImagePlugin.get_sampling(jpeg) == 0  # 4:4:4: coloured UI text keeps its edges
    assert Image.open(io.BytesIO(encode_image(image, "png"))).convert("RGB").tobytes() == image.tobytes()


def test_default_encoding_is_faithful_and_smaller_than_full_resolution_png() -> None:
    original = ui_screen((1920, 1080))
    naive = io.BytesIO()
    original.save(naive, format="PNG")
    prepared = prepare_image(original)
    sent = encode_image(prepared)
    assert len(sent) < len(naive.getvalue()) / 2
    decoded = Image.open(io.BytesIO(sent)).convert("RGB")
    error = ImageStat.Stat(ImageChops.difference(decoded, prepared)).mean
    assert max(error) < 4  # mean absolute error per channel (0..255)


def flat_screen(size: tuple[int, int]) -> Image.Image:
    """Text and solid colours only: the naive PNG's best case."""
    image = Image.new("RGB", size, (248, 249, 251))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0], 60), fill=(33, 99, 201))
    for row in range(80, size[1] - 40, 36):
        draw.rounded_rectangle((16, row, 48, row + 28), radius=8, fill=((row * 7) % 200, 90, 160))
        draw.text((64, row + 8), f"Network & internet, row {row}: Wi-Fi  Bluetooth  Hotspot", fill=(20, 20, 20))
    return image


def photo_screen(size: tuple[int, int]) -> Image.Image:
    return Image.merge("RGB", [Image.effect_noise(size, 40 + 10 * band) for band in range(3)])


def test_smallest_webp_sends_exact_pixels_where_lossless_is_smaller() -> None:
    image = prepare_image(flat_screen((1920, 1080)))
    data = encode_image(image, "webp-smallest", ahead=True)  # as in a settle wait
    assert Image.open(io.BytesIO(data)).convert("RGB").tobytes() == image.tobytes()  # lossless was chosen
    assert len(data) < len(encode_image(image, "webp"))
    naive = io.BytesIO()
    flat_screen((1920, 1080)).save(naive, format="PNG")
    assert len(data) < 0.35 * len(naive.getvalue())


def test_smallest_webp_stays_lossy_on_a_photo_and_on_the_critical_path() -> None:
    image = prepare_image(photo_screen((1080, 1080)))
    data = encode_image(image, "webp-smallest", ahead=True)
    assert data == encode_image(image, "webp")  # the lossy encoding, byte for byte
    assert len(data) < len(encode_image(image, "webp-lossless")) / 2
    flat = prepare_image(flat_screen((1920, 1080)))
    assert encode_image(flat, "webp-smallest") == encode_image(flat, "webp")  # a request waiting: no search


def test_smallest_webp_checks_a_sample_that_missed_the_content() -> None:
    image = Image.new("RGB", (1092, 2408), (250, 250, 250))  # blank but for one line at the top, outside the bands
    ImageDraw.Draw(image).text((20, 20), "actions so far: 3", fill=(0, 0, 0))
    sent = encode_image(image, "webp-smallest", ahead=True)
    assert len(sent) <= min(len(encode_image(image, "webp")), len(encode_image(image, "webp-lossless")))


def test_a_prefetched_value_is_computed_once_on_a_worker_and_waited_for() -> None:
    image = Image.new("RGB", (56, 56))
    started, release = threading.Event(), threading.Event()

    def encode(img: Image.Image) -> tuple[str, bytes]:
        started.set()
        release.wait(10)
        return threading.current_thread().name, encode_image(img, "png")

    prefetch(image, "key", encode)
    assert started.wait(10)  # running already, before anyone asked for it
    threading.Timer(0.1, release.set).start()
    thread, data = memo(image, "key", lambda img: ("caller", b""))  # waits for the worker's value
    assert thread.startswith("glmv-image") and Image.open(io.BytesIO(data)).size == (56, 56)
    failing = Image.new("RGB", (28, 28))
    prefetch(failing, "key", lambda img: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        memo(failing, "key", lambda img: "never")


def test_bad_encoding_arguments_say_what_is_allowed() -> None:
    image = Image.new("RGB", (28, 28))
    with pytest.raises(ValueError, match="use one of jpeg, png, webp, webp-lossless, webp-smallest"):
        encode_image(image, "gif")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1..100"):
        encode_image(image, "jpeg", quality=0)


def test_the_cache_keeps_every_live_image_of_many_episodes_and_forgets_dead_ones() -> None:
    gc.collect()  # images earlier tests left for the collector would die mid-test and shift the count
    before = cached_entries()
    screens = [Image.new("RGB", (56, 56), (n, n, n)) for n in range(40)]  # 16 episodes' current and history images
    computed: list[int] = []

    def encode(image: Image.Image) -> bytes:
        computed.append(id(image))
        return encode_image(image, "png")

    first = map_images(screens, lambda image: memo(image, "png", encode))
    again = [memo(image, "png", encode) for image in reversed(screens)]  # the next step re-sends all of them
    assert len(computed) == 40 and again == first[::-1]  # none was evicted and encoded twice
    assert cached_entries() == before + 40
    del screens
    gc.collect()
    assert cached_entries() == before  # entries die with their images: nothing to evict, nothing left behind


@st.composite
def screen_points(draw: st.DrawFn) -> tuple[tuple[int, int], int, int]:
    size = SIZES[draw(st.sampled_from(sorted(SIZES)))]
    return size, draw(st.integers(0, size[0] - 1)), draw(st.integers(0, size[1] - 1))


@given(screen_points())
def test_pixel_to_model_and_back_stays_within_one_model_unit(case: tuple[tuple[int, int], int, int]) -> None:
    """Original pixel -> model point -> pixel: never right of/below it, and less than one model unit
    (a thousandth of the screen) plus half a pixel to the left/top. At 4K that is up to 4 pixels: the 0-999
    scale, not the resize, bounds the precision."""
    size, x, y = case
    point = pixel_to_model(x, y, size)
    back_x, back_y = point_to_pixels(point, size)
    assert 0 <= x - back_x < size[0] / 1000 + 0.5
    assert 0 <= y - back_y < size[1] / 1000 + 0.5
    again = pixel_to_model(back_x, back_y, size)
    assert point[0] - 1 <= again[0] <= point[0] and point[1] - 1 <= again[1] <= point[1]


@given(screen_points())
def test_point_read_on_the_resized_image_lands_on_the_same_spot_of_the_screen(
    case: tuple[tuple[int, int], int, int],
) -> None:
    """The model sees the grid-resized image; its point maps back onto the original within one model unit."""
    size, x, y = case
    resized = grid_size(size)
    # the resized pixel the model looks at, and that pixel's centre in original pixels
    rx, ry = int(x * resized[0] / size[0]), int(y * resized[1] / size[1])
    centre_x, centre_y = (rx + 0.5) * size[0] / resized[0], (ry + 0.5) * size[1] / resized[1]
    back_x, back_y = point_to_pixels(pixel_to_model(rx, ry, resized), size)
    assert centre_x - size[0] / 1000 - 1 < back_x <= centre_x
    assert centre_y - size[1] / 1000 - 1 < back_y <= centre_y
