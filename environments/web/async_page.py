"""An agent environment on a ``playwright.async_api`` Page the caller already has: ``aobserve`` / ``aexecute`` on
the caller's event loop, no threads.

It shares the labelling script, the marks drawing, the options and the action semantics with the sync
:class:`~.environment.WebEnvironment`, and keeps to what a borrowed page needs: labels, screenshots, the actions,
settling after each one, following a tab the page opens, and answering dialogs (as ``options.dialogs`` says) while
the environment is open. Launching browsers, the domain allowlist, downloads and crash recovery stay with the sync
WebEnvironment, which owns its browser. ``aclose()`` leaves the page open and removes our dialog handler.

    env = AsyncPageEnvironment(page)            # page: playwright.async_api.Page
    observation = await env.aobserve()
"""

from __future__ import annotations

import io
import logging
from typing import Any

from PIL import Image
from playwright.async_api import Dialog, Page
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from glmv_agent.environment import BaseEnvironment
from glmv_agent.errors import DeviceDisconnected, DeviceError, GlmvError, StepError
from glmv_agent.types import Observation, Outcome, Platform, WebElement

from .async_actions import AsyncPixelActions, AsyncSeen, AsyncSomActions
from .js import MARK_ATTR, MARK_JS, PAGE_HELPERS_JS, POPUP_FLAG_JS, VIEWPORT_JS
from .launch import explain, first_line
from .marks import draw_marks, elements_from_js
from .options import WebOptions
from .recent import RecentObservations

log = logging.getLogger(__name__)
OBSERVE_TRIES = 3
REACT_MS = 20  # time the page gets to react to an action before we wait for navigations
LOAD_GRACE_MS = 1000  # extra wait for the "load" event after DOMContentLoaded
NO_SETTLE = frozenset({"ANSWER", "DONE", "FAIL"})


class AsyncPageEnvironment(BaseEnvironment):
    """Your async Page as an agent environment (set-of-marks or pixel mode, as ``options.mode`` says)."""

    platform = Platform.WEB

    def __init__(self, page: Page, options: WebOptions | None = None) -> None:
        self.options = options or WebOptions()
        self.spaces = frozenset({"web"} if self.options.mode == "som" else {"desktop"})
        self.page = page
        self._known: set[Page] = set(page.context.pages)
        self._notes: list[str] = []
        self._seen: RecentObservations[AsyncSeen] = RecentObservations()  # no screenshots kept: see .recent
        self._counter = 0
        self._som = AsyncSomActions(self.options)
        self._pixel = AsyncPixelActions(self.options)
        self._dialog_pages: list[Page] = []
        self._listen(page)

    # --- events -------------------------------------------------------------------------------------------------

    def _listen(self, page: Page) -> None:
        page.on("dialog", self._on_dialog)
        self._dialog_pages.append(page)

    async def _on_dialog(self, dialog: Dialog) -> None:
        accept = self.options.dialogs == "accept" or dialog.type == "beforeunload"
        try:
            if accept:
                await dialog.accept(self.options.prompt_text if dialog.type == "prompt" else None)
            else:
                await dialog.dismiss()
        except PlaywrightError as exc:  # another handler answered it, or the page went away
            log.debug("dialog already handled: %s", first_line(exc))
        verb = "accepted" if accept else "dismissed"
        self._notes.append(f'A {dialog.type} dialog said "{dialog.message}"; it was {verb}.')

    # --- observe ------------------------------------------------------------------------------------------------

    async def aobserve(self) -> Observation:
        """Label the viewport (set-of-marks mode), take the screenshot; DeviceError when the page cannot be read."""
        for attempt in range(OBSERVE_TRIES):
            try:
                return await self._observe()
            except PlaywrightError as exc:  # a navigation replaced the document mid-way: settle and retry
                self._check_connected()
                if attempt == OBSERVE_TRIES - 1:
                    raise DeviceError(f"could not take a screenshot: {first_line(exc)}") from None
                log.debug("observe retry after: %s", first_line(exc))
                await self._settle()
        raise AssertionError("unreachable")

    async def _observe(self) -> Observation:
        page = await self._current_page()
        await page.evaluate(PAGE_HELPERS_JS)
        width, height, _ = await page.evaluate(VIEWPORT_JS)
        elements: list[WebElement] = []
        token = None
        if self.options.mode == "som":
            self._counter += 1
            token = str(self._counter)
            args = {"attr": MARK_ATTR, "token": token, "max": self.options.max_elements}
            elements = elements_from_js(await page.evaluate(MARK_JS, args))
        image = Image.open(io.BytesIO(await page.screenshot(type="png")))
        image.load()
        scale = (image.width / width, image.height / height)
        marked = draw_marks(image, elements, scale[0]) if token is not None else None
        notes, self._notes = self._notes, []
        observation = Observation(screenshot=image, platform=Platform.WEB, marked_screenshot=marked, url=page.url,
                                  elements=elements, notes=notes)
        self._seen.remember(image, AsyncSeen(page=page, token=token, scale=scale))
        return observation

    async def _current_page(self) -> Page:
        """The newest tab opened since the last look, else the current one (another tab if it was closed)."""
        self._check_connected()
        context = self.page.context
        if not self.page.is_closed() and await self._opening_tab():
            try:
                await context.wait_for_event("page", timeout=min(5.0, self.options.navigation_timeout_s) * 1000)
            except PlaywrightTimeout:
                log.debug("the page started opening a tab that never came")
        pages = [p for p in context.pages if not p.is_closed()]
        new = [p for p in pages if p not in self._known]
        self._known.update(pages)
        if new:
            self.page = new[-1]
            self._listen(self.page)
            await self._settle()
            self._notes.append(f"A new tab opened ({self.page.url}); the screenshot now shows it.")
        elif self.page.is_closed():
            if not pages:
                raise DeviceDisconnected("the page was closed and its browser context has no other tab")
            self.page = pages[-1]
            self._notes.append(f"The tab was closed; now showing {self.page.url}.")
        return self.page

    async def _opening_tab(self) -> bool:
        try:
            return bool(await self.page.evaluate(POPUP_FLAG_JS))
        except PlaywrightError:
            return False

    def scale_of(self, observation: Observation) -> tuple[float, float]:
        """Screenshot pixels per CSS pixel of one of this environment's recent observations (1, 1 when unknown)."""
        seen = self._seen.lookup(observation.screenshot)
        return seen.scale if seen is not None else (1.0, 1.0)

    # --- execute ------------------------------------------------------------------------------------------------

    async def aexecute(self, action: Any, observation: Observation) -> Outcome:
        """Run one action; StepError when it failed (the run goes on), DeviceDisconnected when the browser is gone."""
        self.check_space(action)
        self._check_connected()
        seen = self._seen.lookup(observation.screenshot)
        if seen is None:
            raise StepError("this observation was not made by this environment (or is too old); observe again")
        runner = self._som if action.space == "web" else self._pixel
        try:
            outcome = await runner.run(self.page, action, observation, seen)
            if action.type not in NO_SETTLE:
                await self._settle()
        except PlaywrightError as exc:
            raise self._translate(exc) from None
        return outcome

    async def _settle(self) -> None:
        """Let the page react, then wait (within the navigation timeout) for DOMContentLoaded and briefly for load."""
        page = self.page
        if page.is_closed():
            return
        try:
            await page.wait_for_timeout(REACT_MS)
            await page.wait_for_load_state("domcontentloaded", timeout=self.options.navigation_timeout_s * 1000)
            await page.wait_for_load_state("load", timeout=LOAD_GRACE_MS)
        except PlaywrightTimeout:
            log.debug("settle: the page did not finish loading in time")
        except PlaywrightError as exc:
            log.debug("settle: %s", first_line(exc))

    def _check_connected(self) -> None:
        browser = self.page.context.browser
        if browser is not None and not browser.is_connected():
            raise DeviceDisconnected("the browser was closed or disconnected")

    def _translate(self, exc: PlaywrightError) -> GlmvError:
        try:
            self._check_connected()
        except DeviceDisconnected as gone:
            return gone
        if isinstance(exc, PlaywrightTimeout):
            return StepError(f"the browser did not finish in time: {explain(exc)}")
        return StepError(explain(exc))

    async def aclose(self) -> None:
        """Remove our dialog handlers; the page and its browser stay open (they are the caller's)."""
        self.close()

    def close(self) -> None:
        """The same, for callers without a loop at hand: removing listeners needs no awaiting."""
        pages, self._dialog_pages = self._dialog_pages, []
        for page in pages:
            try:
                page.remove_listener("dialog", self._on_dialog)
            except Exception as exc:  # noqa: BLE001 - the page may be gone already
                log.debug("removing the dialog handler: %s", exc)

__all__ = ["AsyncPageEnvironment"]
