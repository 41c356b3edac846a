"""Starting the browser side: launching Chromium (or a persistent profile) or attaching over CDP, and turning
Playwright's errors into short messages."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, Playwright
from playwright.sync_api import Error as PlaywrightError

from glmv_agent.errors import ConfigError, DeviceError

from .options import LAUNCH_ARGS, WebOptions, resolve_executable

log = logging.getLogger(__name__)
_REASONS = ("intercepts pointer events", "is not visible", "is not enabled", "is not stable", "outside of the viewport")


def first_line(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def explain(exc: BaseException) -> str:
    """First line of a Playwright error plus the last reason its call log gives (e.g. what covers the element)."""
    text = getattr(exc, "message", None) or str(exc)
    reasons = [line.strip(" -") for line in text.splitlines() if any(r in line for r in _REASONS)]
    return f"{first_line(exc)} ({reasons[-1]})" if reasons else first_line(exc)


def check_display(options: WebOptions) -> None:
    if not options.headless and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        raise ConfigError("--headed needs a display: set DISPLAY (e.g. run under xvfb-run) or drop --headed")


def launch_browser(playwright: Playwright, options: WebOptions) -> Browser:
    """Launch Chromium as the options say (a system browser when Playwright's own is absent)."""
    executable = resolve_executable(options.executable_path, playwright.chromium.executable_path)
    check_display(options)
    try:
        return playwright.chromium.launch(executable_path=executable, headless=options.headless,
                                          args=list(LAUNCH_ARGS))
    except PlaywrightError as exc:
        name = executable or "Playwright's Chromium"
        raise DeviceError(f"could not start the browser ({name}): {first_line(exc)}") from None


def new_context(browser: Browser, options: WebOptions, proxy: str | None = None) -> BrowserContext:
    """A context with the options' viewport and scale; all its traffic goes through ``proxy`` when given."""
    size = {"width": options.viewport[0], "height": options.viewport[1]}
    return browser.new_context(viewport=size, device_scale_factor=options.device_scale_factor, accept_downloads=True,
                               proxy={"server": proxy} if proxy else None)


def open_browser(
    playwright: Playwright, options: WebOptions, proxy: str | None = None
) -> tuple[BrowserContext, Page | None, list[Callable[[], Any]]]:
    """(context, page to start on, closers) for the options: attach over CDP, a persistent profile, or a launch.

    A launched or persistent context sends all its traffic through ``proxy`` when given. Attached over CDP, the
    browser's first context and its last tab are used (its proxy settings are the browser's) and the viewport is
    left as it is; closing only disconnects."""
    if options.cdp_url:
        try:
            browser = playwright.chromium.connect_over_cdp(options.cdp_url)
        except PlaywrightError as exc:
            raise DeviceError(f"could not attach to the browser at {options.cdp_url}: {first_line(exc)}") from None
        if browser.contexts and proxy:
            log.warning("attached over CDP: the browser's own context cannot be given the allowlist proxy, so only "
                        "the first hop of each request is checked (not redirects or WebSockets)")
        context = browser.contexts[0] if browser.contexts else new_context(browser, options, proxy)
        return context, (context.pages[-1] if context.pages else None), [browser.close]
    if options.user_data_dir:
        executable = resolve_executable(options.executable_path, playwright.chromium.executable_path)
        check_display(options)
        try:
            context = playwright.chromium.launch_persistent_context(
                str(options.user_data_dir), executable_path=executable, headless=options.headless,
                args=list(LAUNCH_ARGS), viewport={"width": options.viewport[0], "height": options.viewport[1]},
                device_scale_factor=options.device_scale_factor, accept_downloads=True,
                proxy={"server": proxy} if proxy else None,
            )
        except PlaywrightError as exc:
            raise DeviceError(f"could not open the profile {options.user_data_dir}: {first_line(exc)}") from None
        return context, None, [context.close]
    browser = launch_browser(playwright, options)
    return new_context(browser, options, proxy), None, [browser.close]
