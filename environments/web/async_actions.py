"""Actions on a ``playwright.async_api`` page: the async twins of :mod:`.actions` (same JS, same messages).

Set-of-marks actions find their element by the label attribute the observation put on it; pixel actions map
thousandths of the screenshot to CSS pixels with the observation's scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playwright.async_api import Locator, Page

from glmv_agent.errors import StepError
from glmv_agent.geometry import point_to_pixels
from glmv_agent.types import Observation, Outcome, WebElement

from .actions import _clip, _scroll_note
from .js import (
    CLICK_POINT_JS,
    FIELD_KIND_JS,
    FOCUSED_EDITABLE_JS,
    MARK_ATTR,
    SCROLL_ELEMENT_JS,
    SCROLL_WINDOW_JS,
    SELECT_MATCH_JS,
)
from .keys import playwright_combo
from .options import WebOptions


@dataclass(frozen=True)
class AsyncSeen:
    """What the environment knows about one of its observations: the tab, the label token, pixels per CSS px."""

    page: Page
    token: str | None
    scale: tuple[float, float]


def _element(label: int, observation: Observation) -> WebElement:
    for element in observation.elements:
        if element.label == label:
            return element
    last = len(observation.elements) - 1
    shown = f"labels 0..{last}" if last >= 0 else "no labels"
    raise StepError(f"there is no label [{label}] in the screenshot ({shown}); use a label shown there")


def _center(element: WebElement) -> tuple[float, float]:
    x1, y1, x2, y2 = element.box
    return (x1 + x2) / 2, (y1 + y2) / 2


def _pixels(element: WebElement, seen: AsyncSeen, observation: Observation) -> list[tuple[int, int]]:
    cx, cy = _center(element)
    sx, sy = seen.scale
    return [(min(observation.size[0] - 1, int(cx * sx)), min(observation.size[1] - 1, int(cy * sy)))]


async def _locator(element: WebElement, seen: AsyncSeen) -> Locator:
    if seen.page.is_closed():
        raise StepError(f"the tab that showed [{element.label}] was closed; look at the new screenshot")
    locator = seen.page.locator(f'[{MARK_ATTR}="{seen.token}-{element.label}"]')
    if await locator.count() == 0:
        raise StepError(f"element [{element.label}] is no longer on the page (it changed after the screenshot); "
                        "choose from the new screenshot")
    return locator


async def _press(locator: Locator) -> None:
    point = await locator.evaluate(CLICK_POINT_JS)
    if point is not None:
        await locator.page.mouse.click(point[0], point[1])
    else:
        await locator.click()


class AsyncSomActions:
    """The web grammar on an async page (Click, Type, Scroll, Wait, GoBack, Bing, Key, ANSWER)."""

    def __init__(self, options: WebOptions) -> None:
        self.options = options

    async def run(self, page: Page, action: Any, observation: Observation, seen: AsyncSeen) -> Outcome:
        kind = action.type
        if kind == "Click":
            element = _element(action.label, observation)
            await _press(await _locator(element, seen))
            return Outcome(pixels=_pixels(element, seen, observation),
                           detail=f'clicked [{action.label}] <{element.tag}> "{_clip(element.text)}"')
        if kind == "Type":
            return await self._type(page, action.label, action.content, observation, seen)
        if kind == "Scroll":
            return await self._scroll(page, action.target, action.direction, observation, seen)
        if kind == "Wait":
            await page.wait_for_timeout(self.options.wait_seconds * 1000)
            return Outcome(detail=f"waited {self.options.wait_seconds:g} s")
        if kind == "GoBack":
            if await page.go_back(wait_until="domcontentloaded") is None:
                raise StepError("there is no previous page in this tab")
            return Outcome(detail=f"went back to {page.url}")
        if kind == "Bing":
            await page.goto(self.options.search_url, wait_until="domcontentloaded")
            return Outcome(detail=f"opened {self.options.search_url}")
        if kind == "Key":
            combo = playwright_combo(action.key)
            await page.keyboard.press(combo)
            return Outcome(detail=f"pressed {combo}")
        if kind == "ANSWER":
            return Outcome(detail="answered")
        raise StepError(f"unknown web action {kind}")

    async def _type(self, page: Page, label: int, content: str, observation: Observation,
                    seen: AsyncSeen) -> Outcome:
        element = _element(label, observation)
        locator = await _locator(element, seen)
        pixels = _pixels(element, seen, observation)
        kind = await locator.evaluate(FIELD_KIND_JS)
        if kind == "select":
            match = await locator.evaluate(SELECT_MATCH_JS, content)
            if match["index"] < 0:
                raise StepError(f'[{label}] is a list without an option "{content}"; its options: '
                                + "; ".join(match["options"]))
            await locator.select_option(index=match["index"])
            return Outcome(pixels=pixels, detail=f'chose "{_clip(content)}" in [{label}]')
        note = None
        if kind in ("text", "special"):
            await locator.fill(content)
        else:
            await _press(locator)
            if not await page.evaluate(FOCUSED_EDITABLE_JS):
                raise StepError(f"[{label}] is a <{element.tag}>, not a text box, and clicking it focused no text "
                                "box; nothing was typed")
            await page.keyboard.press("ControlOrMeta+a")
            await page.keyboard.insert_text(content)
            note = f"[{label}] is a <{element.tag}>, not a text box; it was clicked and the text went to the focus."
        await page.keyboard.press("Enter")
        return Outcome(pixels=pixels, detail=f'typed "{_clip(content)}" into [{label}] and pressed Enter', note=note)

    async def _scroll(self, page: Page, target: int | str, direction: str, observation: Observation,
                      seen: AsyncSeen) -> Outcome:
        down = direction == "down"
        pixels: list[tuple[int, int]] = []
        if target == "WINDOW":
            result = await page.evaluate(SCROLL_WINDOW_JS, down)
        else:
            element = _element(int(target), observation)
            pixels = _pixels(element, seen, observation)
            result = await (await _locator(element, seen)).evaluate(SCROLL_ELEMENT_JS, down)
        detail = f"scrolled the {result['what']} {direction} by {abs(round(result['moved']))} px"
        return Outcome(pixels=pixels, detail=detail, note=_scroll_note(result, direction))


class AsyncPixelActions:
    """The desktop grammar on the viewport of an async page: thousandths -> screenshot pixels -> CSS pixels."""

    def __init__(self, options: WebOptions) -> None:
        self.options = options

    @staticmethod
    def _point(point: tuple[int, int], observation: Observation, seen: AsyncSeen) -> tuple[float, float, Any]:
        px, py = point_to_pixels(point, observation.size)
        sx, sy = seen.scale
        return (px + 0.5) / sx, (py + 0.5) / sy, (px, py)

    async def run(self, page: Page, action: Any, observation: Observation, seen: AsyncSeen) -> Outcome:
        kind = action.type
        if kind in ("left_click", "right_click", "middle_click", "left_double_click", "hover"):
            x, y, pixel = self._point(action.start_box, observation, seen)
            if kind == "hover":
                await page.mouse.move(x, y)
            elif kind == "left_double_click":
                await page.mouse.dblclick(x, y)
            else:
                await page.mouse.click(x, y, button=kind.split("_")[0])
            return Outcome(pixels=[pixel], detail=f"{kind} at CSS ({x:.1f}, {y:.1f})")
        if kind == "left_drag":
            x1, y1, start = self._point(action.start_box, observation, seen)
            x2, y2, end = self._point(action.end_box, observation, seen)
            await page.mouse.move(x1, y1)
            await page.mouse.down()
            await page.mouse.move(x2, y2, steps=12)
            await page.mouse.up()
            return Outcome(pixels=[start, end], detail=f"dragged from CSS ({x1:.1f}, {y1:.1f}) to ({x2:.1f}, {y2:.1f})")
        if kind == "type":
            await page.keyboard.type(action.content)
            return Outcome(detail=f'typed "{_clip(action.content)}"')
        if kind == "key":
            combo = playwright_combo(action.keys)
            await page.keyboard.press(combo)
            return Outcome(detail=f"pressed {combo}")
        if kind == "scroll":
            x, y, pixel = self._point(action.start_box, observation, seen)
            await page.mouse.move(x, y)
            delta = action.step * self.options.scroll_step_px
            await page.mouse.wheel(0, delta if action.direction == "down" else -delta)
            return Outcome(pixels=[pixel], detail=f"scrolled {action.direction} {action.step} steps")
        if kind == "WAIT":
            await page.wait_for_timeout(self.options.wait_seconds * 1000)
            return Outcome(detail=f"waited {self.options.wait_seconds:g} s")
        if kind in ("DONE", "FAIL"):
            return Outcome(detail=kind)
        raise StepError(f"unknown desktop action {kind}")


__all__ = ["AsyncPixelActions", "AsyncSeen", "AsyncSomActions"]
