"""The browser side of the web environment: launching or attaching, following tabs, and turning browser events
(dialogs, downloads, blocked requests, crashes) into notes for the model."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Dialog, Page, Playwright, Request, Route
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from glmv_agent.errors import ConfigError, DeviceDisconnected, DeviceError, GlmvError, StepError

from .files import DOWNLOAD_WATCH_JS, Downloads, FilePicker
from .gate import AllowlistProxy
from .js import PAGE_HELPERS_JS, POPUP_FLAG_JS
from .launch import explain, first_line, launch_browser, new_context, open_browser
from .options import WebOptions, host_allowed, host_of

__all__ = ["BrowserSession", "explain", "first_line", "launch_browser"]

log = logging.getLogger(__name__)
LOAD_GRACE_S = 1.0  # extra wait for the full "load" event (images) after DOMContentLoaded
REACT_MS = 20  # time the page gets to react to an action (handlers, starting a navigation)


class BrowserSession:
    """One browser context and its current tab. Closes only what it created.

    With an allowlist, a context this session creates sends all its traffic through an :class:`AllowlistProxy`
    (``gate``), which checks every hop; a borrowed context (CDP, :meth:`on_page`) has only the request route,
    which sees the first hop of each request."""

    def __init__(self, options: WebOptions, context: BrowserContext, page: Page | None,
                 closers: list[Callable[[], Any]] | None = None, gate: AllowlistProxy | None = None) -> None:
        self.options = options
        self.context = context
        self.gate = gate
        self._closers = closers or []
        self._notes: list[str] = []
        self._blocked: Counter[str] = Counter()
        self._crashed: set[Page] = set()
        self._navigations: dict[Page, set[Request]] = {}
        self._listeners: list[tuple[Any, str, Callable[..., Any]]] = []
        self._disconnected = False
        self._last_url = ""
        self.downloads = Downloads(options.downloads_dir, options.navigation_timeout_s)
        self.picker = FilePicker(options.files_dir)  # file choosers the pages open (never a native dialog)
        self._setup()
        self.page = page or (context.pages[-1] if context.pages else context.new_page())
        self._seen: set[Page] = set(context.pages)

    # --- construction -------------------------------------------------------------------------------------

    @classmethod
    def start(cls, options: WebOptions, playwright: Playwright | None = None) -> BrowserSession:
        """Launch a browser (or a persistent profile, or attach over CDP). Without ``playwright`` a private
        Playwright is started (and stopped at close); pass yours when one already runs in this thread."""
        gate = _gate(options)
        stops = [gate.close] if gate else []
        try:
            if playwright is not None:
                context, page, closers = open_browser(playwright, options, gate.url if gate else None)
                return cls._guarded(options, context, page, [*closers, *stops], gate)
            from playwright.sync_api import sync_playwright

            try:
                own = sync_playwright().start()
            except PlaywrightError as exc:
                raise ConfigError(
                    f"cannot start Playwright here ({first_line(exc)}); when your code already runs Playwright, "
                    "pass it (WebEnvironment(options, playwright=p)) or use WebEnvironment.from_browser/from_page"
                ) from None
            stops.insert(0, own.stop)
            context, page, closers = open_browser(own, options, gate.url if gate else None)
        except BaseException:
            for stop in stops:
                stop()
            raise
        return cls._guarded(options, context, page, [*closers, *stops], gate)

    @classmethod
    def _guarded(cls, options: WebOptions, context: BrowserContext, page: Page | None,
                 closers: list[Callable[[], Any]], gate: AllowlistProxy | None = None) -> BrowserSession:
        """Build the session; if that fails (a crashed page, a broken profile), close what was opened."""
        try:
            return cls(options, context, page, closers, gate)
        except BaseException:
            for close in reversed(closers):
                try:
                    close()
                except Exception:  # noqa: BLE001 - best effort: the original error is the one to report
                    log.debug("cleanup after a failed browser start failed", exc_info=True)
            raise

    @classmethod
    def on_browser(cls, browser: Browser, options: WebOptions) -> BrowserSession:
        """A fresh context on a browser the caller owns (the caller closes the browser)."""
        gate = _gate(options)
        try:
            context = new_context(browser, options, gate.url if gate else None)
        except BaseException:
            if gate:
                gate.close()
            raise
        return cls._guarded(options, context, None, [context.close, *([gate.close] if gate else [])], gate)

    @classmethod
    def on_page(cls, page: Page, options: WebOptions) -> BrowserSession:
        """Drive a page the caller already has; nothing is closed at the end."""
        return cls(options, page.context, page, [])

    def _setup(self) -> None:
        context = self.context
        context.set_default_timeout(self.options.action_timeout_s * 1000)
        context.set_default_navigation_timeout(self.options.navigation_timeout_s * 1000)
        context.add_init_script(PAGE_HELPERS_JS)
        context.add_init_script(DOWNLOAD_WATCH_JS)
        if self.options.allowed_domains:
            context.route("**/*", self._route)
        self._listen(context, "page", self._watch)
        self._listen(context, "close", self._mark_disconnected)
        for page in context.pages:
            self._watch(page)

    def _listen(self, emitter: Any, event: str, handler: Callable[..., Any]) -> None:
        emitter.on(event, handler)
        self._listeners.append((emitter, event, handler))

    def _mark_disconnected(self, _: object) -> None:
        self._disconnected = True

    # --- browser events -----------------------------------------------------------------------------------

    def _watch(self, page: Page) -> None:
        navigations: set[Request] = set()
        self._navigations[page] = navigations

        def on_request(request: Request) -> None:
            if request.is_navigation_request() and request.frame == page.main_frame:
                navigations.add(request)

        def on_done(request: Request) -> None:
            navigations.discard(request)

        def on_crash(crashed: Page) -> None:
            self._crashed.add(crashed)

        for event, handler in [("request", on_request), ("requestfinished", on_done), ("requestfailed", on_done),
                               ("dialog", self._on_dialog), ("download", self.downloads.began), ("crash", on_crash),
                               ("filechooser", self.picker.opened)]:
            self._listen(page, event, handler)

    def _route(self, route: Route) -> None:
        url = route.request.url
        if host_allowed(url, self.options.allowed_domains):
            route.continue_()
            return
        self._blocked[host_of(url)] += 1
        log.info("blocked a request to %s (not in the allowed domains)", url)
        route.abort("blockedbyclient")

    def _on_dialog(self, dialog: Dialog) -> None:
        accept = self.options.dialogs == "accept" or dialog.type == "beforeunload"
        answer = ""
        try:
            if accept:
                dialog.accept(self.options.prompt_text if dialog.type == "prompt" else None)
                if dialog.type == "prompt":
                    answer = f' with the text "{self.options.prompt_text}"'
            else:
                dialog.dismiss()
        except PlaywrightError as exc:  # the page went away while the dialog was open
            log.debug("dialog already gone: %s", exc)
        verb = "accepted" if accept else "dismissed"
        self._notes.append(f'A {dialog.type} dialog said "{dialog.message}"; it was {verb}{answer}.')

    def drain_notes(self) -> list[str]:
        """Notes gathered since the last call (dialogs, downloads, blocked requests, tab changes)."""
        notes = [*self._notes, *self.downloads.notes()]
        if self.gate is not None:
            self._blocked.update(self.gate.take_blocked())
        if self._blocked:
            hosts = ", ".join(f"{host} ({count})" for host, count in self._blocked.items())
            allowed = ", ".join(self.options.allowed_domains)
            notes.append(f"Blocked requests to domains outside the allowed list ({allowed}): {hosts}.")
        self._notes, self._blocked = [], Counter()
        return notes

    # --- the current tab ----------------------------------------------------------------------------------

    def current_page(self) -> Page:
        """The tab to show: the newest tab opened since last time, else the current one (reopened if crashed)."""
        self.check_connected()
        if not self.page.is_closed() and self.page not in self._crashed:
            loading = self.finish_navigations()
            if loading:
                self._notes.append(loading)
            self.downloads.expect_from(self.page)
            if self._opening_tab():
                self._await_new_tab()
        pages = [p for p in self.context.pages if not p.is_closed()]
        new = [p for p in pages if p not in self._seen]
        self._seen.update(pages)
        if new:
            self.page = new[-1]
            self.settle()
            self._notes.append(f"A new tab opened ({self.page.url}); the screenshot now shows it.")
        elif self.page.is_closed():
            self.page = pages[-1] if pages else self.context.new_page()
            self._notes.append(f"The tab was closed; now showing {self.page.url}.")
        if self.page in self._crashed:
            self._reopen()
        return self.page

    def _reopen(self) -> None:
        crashed, url = self.page, self._last_url
        try:
            crashed.close()
        except PlaywrightError:
            log.debug("closing the crashed tab failed")
        try:
            self.page = self.context.new_page()
            if url.startswith(("http://", "https://")):
                self.page.goto(url)
        except PlaywrightError as exc:
            raise DeviceError(f"the page crashed and could not be reopened: {first_line(exc)}") from None
        self._seen.add(self.page)
        self._notes.append(f"The page crashed; it was reopened at {url or 'a blank page'}.")

    def remember_url(self) -> None:
        if not self.page.url.startswith(("chrome-error:", "about:")):
            self._last_url = self.page.url

    def check_connected(self) -> None:
        browser = self.context.browser
        if self._disconnected or (browser is not None and not browser.is_connected()):
            raise DeviceDisconnected("the browser was closed or disconnected")

    # --- navigation and waiting ---------------------------------------------------------------------------

    def goto(self, url: str) -> None:
        if not host_allowed(url, self.options.allowed_domains):
            allowed = ", ".join(self.options.allowed_domains)
            raise StepError(f"{host_of(url)} is not in the allowed domains ({allowed})")
        try:
            self.page.goto(url, wait_until="domcontentloaded")
        except PlaywrightTimeout:
            self.stop_loading()
            raise StepError(f"{url} did not load within {self.options.navigation_timeout_s:g} s") from None
        except PlaywrightError as exc:
            raise StepError(f"could not open {url}: {first_line(exc)}") from None

    def go_back(self) -> str:
        """Back in this tab's history; a tab without history is closed and its opener shown. Returns a detail."""
        try:
            if self.page.go_back(wait_until="domcontentloaded") is not None:
                return f"went back to {self.page.url}"
        except PlaywrightTimeout:
            self.stop_loading()
            limit = self.options.navigation_timeout_s
            raise StepError(f"the previous page did not load within {limit:g} s") from None
        others = [p for p in self.context.pages if p is not self.page and not p.is_closed()]
        if self.page.evaluate("() => history.length") <= 1 and others:
            self.page.close()
            self.page = others[-1]
            self.page.bring_to_front()
            return f"closed the tab (it had no history) and returned to {self.page.url}"
        raise StepError("there is no previous page in this tab")

    def stop_loading(self) -> None:
        """Stop a navigation that hangs (the document stays usable; Playwright calls would wait for it)."""
        try:
            cdp = self.context.new_cdp_session(self.page)
            cdp.send("Page.stopLoading")
            cdp.detach()
        except PlaywrightError as exc:
            log.debug("stop loading: %s", first_line(exc))

    def settle(self) -> str | None:
        """Let the page react to the last action and finish navigations it started. A note when it did not.

        No script runs here: Playwright's evaluate waits while a navigation is pending, which may be forever."""
        if self.page.is_closed():
            return None
        self.page.wait_for_timeout(REACT_MS)
        return self.finish_navigations(load=True)

    def _opening_tab(self) -> bool:
        try:
            return bool(self.page.evaluate(POPUP_FLAG_JS))
        except PlaywrightError:
            return False

    def _await_new_tab(self) -> None:
        if any(p not in self._seen for p in self.context.pages):
            return
        try:
            self.context.wait_for_event("page", timeout=min(5.0, self.options.navigation_timeout_s) * 1000)
        except PlaywrightTimeout:
            log.debug("the page started opening a tab that never came")

    def finish_navigations(self, load: bool = False) -> str | None:
        """Wait (up to the navigation timeout) for main-frame navigations in flight; stop them past it.
        With ``load``, also wait for DOMContentLoaded and briefly for the load event."""
        page, limit = self.page, self.options.navigation_timeout_s
        deadline = time.monotonic() + limit
        pending = self._navigations.get(page, set())
        while pending and time.monotonic() < deadline and not page.is_closed():
            page.wait_for_timeout(25)
        if page.is_closed():
            return None
        if pending:
            self.stop_loading()
            pending.clear()
            return f"The page did not finish loading within {limit:g} s; loading was stopped."
        if not load:
            return None
        try:
            page.wait_for_load_state("domcontentloaded", timeout=max(1.0, (deadline - time.monotonic()) * 1000))
            page.wait_for_load_state("load", timeout=LOAD_GRACE_S * 1000)
        except PlaywrightTimeout:
            log.debug("settle: the load event did not come in time")
        except PlaywrightError as exc:
            log.debug("settle: %s", first_line(exc))
        return None

    def translate(self, exc: PlaywrightError) -> GlmvError:
        """A Playwright failure as the loop's error kinds: a dead browser ends the run, the rest is a step error."""
        message = explain(exc)
        try:
            self.check_connected()
        except DeviceDisconnected as gone:
            return gone
        if isinstance(exc, PlaywrightTimeout):
            return StepError(f"the browser did not finish in time: {message}")
        if "crash" in message.lower() or self.page in self._crashed:
            self._crashed.add(self.page)
            return StepError("the page crashed during the action; it is reopened for the next screenshot")
        return StepError(message)

    def close(self) -> None:
        """Close what this session opened; a borrowed page or context just loses our listeners and route."""
        listeners, self._listeners = self._listeners, []
        for emitter, event, handler in listeners:
            try:
                emitter.remove_listener(event, handler)
            except Exception as exc:  # noqa: BLE001 - the emitter may be gone already
                log.debug("removing a listener: %s", exc)
        if self.options.allowed_domains and not self._closers:
            try:
                self.context.unroute("**/*", self._route)
            except PlaywrightError as exc:
                log.debug("unroute: %s", first_line(exc))
        closers, self._closers = self._closers, []
        for closer in closers:
            try:
                closer()
            except Exception as exc:  # noqa: BLE001 - closing must go on whatever one part says
                log.debug("closing the browser: %s", exc)


def _gate(options: WebOptions) -> AllowlistProxy | None:
    return AllowlistProxy(options.allowed_domains) if options.allowed_domains else None
