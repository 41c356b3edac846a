"""The web environment: Chromium driven by Playwright (sync API), in set-of-marks or pixel mode.

Set-of-marks mode (``mode="som"``, web grammar): every observation labels the interactive elements in the viewport
0, 1, 2... in document order (the elements of iframes, same- or cross-origin, where the iframe is: see
:mod:`.frames`), tags each with ``data-glmv-mark="<observation token>-<position>"`` in its frame and draws the
labels on a copy of the screenshot. An action finds its element by that frame and attribute, so it hits the element
that carried the label in the screenshot the model saw, or fails with a StepError when that element is gone.

Pixel mode (``mode="pixel"``, desktop grammar): thousandths of the screenshot map to screenshot pixels with
:func:`glmv_agent.geometry.point_to_pixels`, then to CSS pixels by the screenshot's pixels per CSS pixel (the
device scale factor), which is what Playwright's mouse takes.

    from glmv_agent.environments.web import WebEnvironment
    from glmv_agent.environments.web import WebOptions

    with WebEnvironment(WebOptions(url="https://example.com")) as env:
        observation = env.observe()
"""

from __future__ import annotations

import logging
from typing import Any

from playwright.sync_api import Browser, Page, Playwright
from playwright.sync_api import Error as PlaywrightError

from glmv_agent.environment import BaseEnvironment
from glmv_agent.errors import ConfigError, DeviceError, GlmvError
from glmv_agent.oversight.secrets import SecretStore
from glmv_agent.types import Observation, Outcome, Platform, WebElement

from .actions import PixelActions, Seen, SomActions
from .browser import BrowserSession, first_line
from .capture import capture
from .files import picker_label
from .frames import Target, label_frames
from .js import PAGE_HELPERS_JS, VIEWPORT_JS
from .marks import TEXT_LIMIT, draw_marks, elements_from_js
from .masking import mask_secret_fields, unmask
from .options import WebOptions, host_allowed, host_of
from .recent import RecentObservations

log = logging.getLogger(__name__)
OBSERVE_TRIES = 3
NO_SETTLE = frozenset({"ANSWER", "DONE", "FAIL"})
CLICKS = frozenset({"Click", "left_click", "right_click", "middle_click", "left_double_click"})


class WebEnvironment(BaseEnvironment):
    """A browser tab as an agent environment. Build it with options (launch / CDP / persistent profile),
    :meth:`from_browser` (a fresh context on your Browser) or :meth:`from_page` (your Page, left open).

    ``secrets``: the values the agent may type (the same store the Agent gets); no observation carries one of them
    in its URL, element texts or notes (they read ``<secret>NAME</secret>``), and fields holding one are drawn as
    dots in the screenshot (:mod:`.masking`)."""

    platform = Platform.WEB

    def __init__(
        self, options: WebOptions | None = None, *, session: BrowserSession | None = None,
        playwright: Playwright | None = None, secrets: SecretStore | None = None,
    ) -> None:
        self.options = options or WebOptions()
        self.secrets = secrets or SecretStore()
        self.spaces = frozenset({"web"} if self.options.mode == "som" else {"desktop"})
        self.session = session or BrowserSession.start(self.options, playwright)
        self._seen: RecentObservations[Seen] = RecentObservations()  # no screenshots kept: see .recent
        self._counter = 0
        self._som = SomActions(self.session)
        self._pixel = PixelActions(self.session)
        if self.options.url:
            self._open_start_url(self.options.url)

    @classmethod
    def from_browser(cls, browser: Browser, options: WebOptions | None = None,
                     secrets: SecretStore | None = None) -> WebEnvironment:
        """A new context (viewport, scale factor from the options) on a Browser you launched; you close it."""
        options = options or WebOptions()
        return cls(options, session=BrowserSession.on_browser(browser, options), secrets=secrets)

    @classmethod
    def from_page(cls, page: Page, options: WebOptions | None = None,
                  secrets: SecretStore | None = None) -> WebEnvironment:
        """Drive a Page you already have; close() leaves it open."""
        options = options or WebOptions()
        return cls(options, session=BrowserSession.on_page(page, options), secrets=secrets)

    @property
    def page(self) -> Page:
        """The tab the environment is showing."""
        return self.session.page

    def _open_start_url(self, url: str) -> None:
        if not host_allowed(url, self.options.allowed_domains):
            self.close()
            raise ConfigError(f"the start URL's domain {host_of(url)} is not in --allowed-domains")
        try:
            self.session.goto(url)
        except GlmvError as exc:
            self.close()
            raise ConfigError(f"could not open the start page: {exc}") from None
        self.session.settle()

    # --- observe ------------------------------------------------------------------------------------------

    def observe(self) -> Observation:
        for attempt in range(OBSERVE_TRIES):
            try:
                return self._observe()
            except PlaywrightError as exc:  # often a navigation replaced the document mid-way: retry
                error = self.session.translate(exc)
                if isinstance(error, DeviceError):
                    raise error from None
                if attempt == OBSERVE_TRIES - 1:
                    raise DeviceError(f"could not take a screenshot: {first_line(exc)}") from None
                log.debug("observe retry after: %s", first_line(exc))
                self.session.settle()
        raise AssertionError("unreachable")

    def _observe(self) -> Observation:
        page = self.session.current_page()
        picker = self.session.picker
        page.evaluate(PAGE_HELPERS_JS)
        width, height, _ = page.evaluate(VIEWPORT_JS)
        elements: list[WebElement] = []
        targets: list[Target] = []
        token = None
        if self.options.mode == "som":
            self._counter += 1
            token = str(self._counter)
            longest = max((len(value) for value in self.secrets.values.values()), default=0)
            limit = TEXT_LIMIT + 12 * longest  # room to find a whole (even escaped) value before clipping
            found = label_frames(page.main_frame, token, self.options.max_elements, limit)
            elements = elements_from_js([item for item, _ in found], self._redact)
            targets = [target for _, target in found]
        masked = mask_secret_fields(page, self._holds_secret) if self.secrets else []
        try:
            image = capture(page)
        finally:
            unmask(masked)
        scale = (image.width / width, image.height / height)
        marked = draw_marks(image, elements, scale[0]) if token is not None else None
        self.session.remember_url()
        upload = picker_label(picker, targets)
        notes = self.session.drain_notes()
        note = picker.note(upload, pixel_mode=token is None)
        observation = Observation(
            screenshot=image, platform=Platform.WEB, marked_screenshot=marked, url=page.url,
            elements=elements, notes=[*notes, *([note] if note else [])],
        )
        seen = Seen(page=page, token=token, scale=scale, targets=tuple(targets), picker=upload)
        self._seen.remember(image, seen)
        return self.secrets.redact_observation(observation)

    def _redact(self, text: str) -> str:
        return self.secrets.redact(text) or ""

    def _holds_secret(self, text: str) -> bool:
        return self.secrets.redact(text) != text

    # --- execute ------------------------------------------------------------------------------------------

    def execute(self, action: Any, observation: Observation) -> Outcome:
        self.check_space(action)
        self.session.check_connected()
        seen = self._seen.lookup(observation.screenshot)
        runner = self._som if action.space == "web" else self._pixel
        self.session.picker.pressed = None
        if action.type in CLICKS:
            self.session.picker.clear()  # a click elsewhere closes an open picker, as a real one would be dismissed
        try:
            outcome = runner.run(action, observation, seen)
            note = None if action.type in NO_SETTLE else self.session.settle()
        except PlaywrightError as exc:
            raise self.session.translate(exc) from None
        if note:
            outcome.note = f"{outcome.note} {note}" if outcome.note else note
        return outcome

    def close(self) -> None:
        self.session.close()
