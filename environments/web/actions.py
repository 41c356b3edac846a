"""Executing actions in the browser: set-of-marks actions (web grammar) and pixel actions (desktop grammar)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Frame, Locator, Page

from glmv_agent.errors import StepError
from glmv_agent.geometry import point_to_pixels
from glmv_agent.types import Observation, Outcome, WebElement

from .browser import BrowserSession
from .frames import Target
from .js import (
    CLICK_POINT_JS,
    FIELD_KIND_JS,
    FOCUSED_EDITABLE_JS,
    MARK_ATTR,
    SCROLL_ELEMENT_JS,
    SCROLL_WINDOW_JS,
    SELECT_MATCH_JS,
    VIEWPORT_JS,
)
from .keys import playwright_combo
from .wheel import wheel


@dataclass(frozen=True)
class Seen:
    """What the environment knows about one of its observations: the tab, the label token, pixels per CSS px,
    where each label's element lives (index = label) and the label a file picker asks files from."""

    page: Page
    token: str | None
    scale: tuple[float, float]
    targets: tuple[Target, ...] = ()
    picker: int | None = None


def _clip(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wait(session: BrowserSession) -> Outcome:
    seconds = session.options.wait_seconds
    session.page.wait_for_timeout(seconds * 1000)
    return Outcome(detail=f"waited {seconds:g} s")


def _scroll_note(result: dict[str, Any], direction: str) -> str | None:
    if result["moved"]:
        return None
    edge = "bottom" if direction == "down" else "top"
    return f"Scrolling {direction} did not move the {result['what']}: it is already at the {edge}."


class SomActions:
    """The web grammar: labels resolve against the elements of the observation the model saw."""

    def __init__(self, session: BrowserSession) -> None:
        self.session = session

    def run(self, action: Any, observation: Observation, seen: Seen | None) -> Outcome:
        kind = action.type
        if kind == "Click":
            return self._click(action.label, observation, seen)
        if kind == "Type":
            return self._type(action.label, action.content, observation, seen)
        if kind == "Scroll":
            return self._scroll(action.target, action.direction, observation, seen)
        if kind == "Wait":
            return _wait(self.session)
        if kind == "GoBack":
            return Outcome(detail=self.session.go_back())
        if kind == "Bing":
            self.session.goto(self.session.options.search_url)
            return Outcome(detail=f"opened {self.session.options.search_url}")
        if kind == "Key":
            combo = playwright_combo(action.key)
            self.session.page.keyboard.press(combo)
            return Outcome(detail=f"pressed {combo}")
        if kind == "ANSWER":
            return Outcome(detail="answered")
        raise StepError(f"unknown web action {kind}")

    # --- element resolution -------------------------------------------------------------------------------

    @staticmethod
    def _element(label: int, observation: Observation) -> WebElement:
        for element in observation.elements:
            if element.label == label:
                return element
        last = len(observation.elements) - 1
        shown = f"labels 0..{last}" if last >= 0 else "no labels"
        raise StepError(f"there is no label [{label}] in the screenshot ({shown}); use a label shown there")

    @staticmethod
    def _frame(element: WebElement, seen: Seen | None) -> Frame | None:
        """The frame of the element that carried the label (None: observation not ours)."""
        if seen is None or seen.token is None or element.label >= len(seen.targets):
            return None
        return seen.targets[element.label].frame

    def _locator(self, element: WebElement, seen: Seen | None) -> Locator | None:
        """The element that carried the label when the screenshot was taken (None: observation not ours)."""
        frame = self._frame(element, seen)
        if seen is None or frame is None:
            return None
        if seen.page.is_closed():
            raise StepError(f"the tab that showed [{element.label}] was closed; look at the new screenshot")
        if frame.is_detached():
            raise StepError(f"element [{element.label}] is no longer on the page (its frame went away); "
                            "choose from the new screenshot")
        locator = frame.locator(f'[{MARK_ATTR}="{seen.targets[element.label].mark}"]')
        if locator.count() == 0:
            raise StepError(
                f"element [{element.label}] is no longer on the page (it changed after the screenshot); "
                "choose from the new screenshot"
            )
        return locator

    @staticmethod
    def _center(element: WebElement) -> tuple[float, float]:
        x1, y1, x2, y2 = element.box
        return (x1 + x2) / 2, (y1 + y2) / 2

    def _pixels(self, element: WebElement, seen: Seen | None, observation: Observation) -> list[tuple[int, int]]:
        cx, cy = self._center(element)
        sx, sy = seen.scale if seen else (1.0, 1.0)
        return [(min(observation.size[0] - 1, int(cx * sx)), min(observation.size[1] - 1, int(cy * sy)))]

    def _press(self, element: WebElement, locator: Locator | None, frame: Frame | None = None) -> None:
        """Click the element: at a point that hit-tests to it right now, else through Playwright's click (which
        scrolls it into view and waits until nothing covers it); a foreign observation: at its box centre.
        Inside a frame, Playwright's click at that point (it maps the frame's coordinates to the page's)."""
        if locator is None:
            self.session.page.mouse.click(*self._center(element))
            return
        point = locator.evaluate(CLICK_POINT_JS)
        if point is None:
            locator.click()
        elif frame is None or frame == frame.page.main_frame:
            locator.page.mouse.click(point[0], point[1])
        else:
            locator.click(position={"x": point[2], "y": point[3]})

    # --- actions ------------------------------------------------------------------------------------------

    def _click(self, label: int, observation: Observation, seen: Seen | None) -> Outcome:
        element = self._element(label, observation)
        locator = self.session.picker.pressed = self._locator(element, seen)  # a file picker it opens names it
        self._press(element, locator, self._frame(element, seen))
        return Outcome(pixels=self._pixels(element, seen, observation),
                       detail=f'clicked [{label}] <{element.tag}> "{_clip(element.text)}"')

    def _type(self, label: int, content: str, observation: Observation, seen: Seen | None) -> Outcome:
        element = self._element(label, observation)
        locator = self._locator(element, seen)
        pixels = self._pixels(element, seen, observation)
        kind = locator.evaluate(FIELD_KIND_JS) if locator is not None else "none"
        if kind == "select":
            return self._choose(label, locator, content, pixels)
        picker = self.session.picker
        if kind == "file" or (seen is not None and seen.picker == label and picker.chooser is not None):
            detail = picker.attach(content, locator if kind == "file" else None)
            return Outcome(pixels=pixels, detail=f"{detail} to [{label}]")
        note = None
        if kind in ("text", "special"):
            locator.fill(content)
        else:
            frame = self._frame(element, seen)
            self.session.picker.pressed = locator
            self._press(element, locator, frame)
            page = self.session.page
            if not (frame or page).evaluate(FOCUSED_EDITABLE_JS):
                raise StepError(f"[{label}] is a <{element.tag}>, not a text box, and clicking it focused no text "
                                "box; nothing was typed")
            page.keyboard.press("ControlOrMeta+a")
            page.keyboard.insert_text(content)
            note = f"[{label}] is a <{element.tag}>, not a text box; it was clicked and the text went to the focus."
        self.session.page.keyboard.press("Enter")
        detail = f'typed "{_clip(content)}" into [{label}] and pressed Enter'
        return Outcome(pixels=pixels, detail=detail, note=note)

    def _choose(self, label: int, locator: Locator, content: str, pixels: list[tuple[int, int]]) -> Outcome:
        match = locator.evaluate(SELECT_MATCH_JS, content)
        if match["index"] < 0:
            options = "; ".join(match["options"])
            raise StepError(f'[{label}] is a list without an option "{content}"; its options: {options}')
        locator.select_option(index=match["index"])
        chosen = locator.evaluate("(el) => el.options[el.selectedIndex].text")
        return Outcome(pixels=pixels, detail=f'chose "{_clip(chosen)}" in [{label}]')

    def _scroll(self, target: int | str, direction: str, observation: Observation, seen: Seen | None) -> Outcome:
        down = direction == "down"
        if target == "WINDOW":
            result = self.session.page.evaluate(SCROLL_WINDOW_JS, down)
            pixels: list[tuple[int, int]] = []
        else:
            element = self._element(int(target), observation)
            locator = self._locator(element, seen)
            pixels = self._pixels(element, seen, observation)
            if locator is None:
                x, y = self._center(element)
                note = wheel(self.session.page, x, y, 400 if down else -400, self.session.options.action_timeout_s)
                return Outcome(pixels=pixels, detail=f"scrolled {direction} at [{target}]", note=note)
            result = locator.evaluate(SCROLL_ELEMENT_JS, down)
        detail = f"scrolled the {result['what']} {direction} by {abs(round(result['moved']))} px"
        return Outcome(pixels=pixels, detail=detail, note=_scroll_note(result, direction))


class PixelActions:
    """The desktop grammar on the viewport: thousandths -> screenshot pixels -> CSS pixels."""

    def __init__(self, session: BrowserSession) -> None:
        self.session = session

    def _point(self, point: tuple[int, int], observation: Observation, seen: Seen | None) -> tuple[float, float, Any]:
        px, py = point_to_pixels(point, observation.size)
        if seen is not None:
            sx, sy = seen.scale
        else:
            width, height, _ = self.session.page.evaluate(VIEWPORT_JS)
            sx, sy = observation.size[0] / width, observation.size[1] / height
        return (px + 0.5) / sx, (py + 0.5) / sy, (px, py)

    def run(self, action: Any, observation: Observation, seen: Seen | None) -> Outcome:
        page, kind = self.session.page, action.type
        if kind in ("left_click", "right_click", "middle_click", "left_double_click", "hover"):
            x, y, pixel = self._point(action.start_box, observation, seen)
            if kind == "hover":
                page.mouse.move(x, y)
            elif kind == "left_double_click":
                page.mouse.dblclick(x, y)
            else:
                page.mouse.click(x, y, button=kind.split("_")[0])
            return Outcome(pixels=[pixel], detail=f"{kind} at CSS ({x:.1f}, {y:.1f})")
        if kind == "left_drag":
            return self._drag(action, observation, seen)
        if kind == "type":
            if self.session.picker.chooser is not None:  # typing a file name into the open picker
                return Outcome(detail=self.session.picker.attach(action.content))
            page.keyboard.type(action.content)
            return Outcome(detail=f'typed "{_clip(action.content)}"')
        if kind == "key":
            combo = playwright_combo(action.keys)
            page.keyboard.press(combo)
            return Outcome(detail=f"pressed {combo}")
        if kind == "scroll":
            x, y, pixel = self._point(action.start_box, observation, seen)
            delta = action.step * self.session.options.scroll_step_px * (1 if action.direction == "down" else -1)
            note = wheel(page, x, y, delta, self.session.options.action_timeout_s)
            return Outcome(pixels=[pixel], detail=f"scrolled {action.direction} {action.step} steps", note=note)
        if kind == "WAIT":
            return _wait(self.session)
        if kind in ("DONE", "FAIL"):
            return Outcome(detail=kind)
        raise StepError(f"unknown desktop action {kind}")

    def _drag(self, action: Any, observation: Observation, seen: Seen | None) -> Outcome:
        page = self.session.page
        x1, y1, start = self._point(action.start_box, observation, seen)
        x2, y2, end = self._point(action.end_box, observation, seen)
        page.mouse.move(x1, y1)
        page.mouse.down()
        page.mouse.move(x2, y2, steps=12)
        page.mouse.up()
        return Outcome(pixels=[start, end], detail=f"dragged from CSS ({x1:.1f}, {y1:.1f}) to ({x2:.1f}, {y2:.1f})")
