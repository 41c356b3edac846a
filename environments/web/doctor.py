"""Web checks for ``glmv-agent doctor --platform web``: a Chromium to launch (found, starts headless) and, when
given, the CDP endpoint of a running browser."""

from __future__ import annotations

from glmv_agent.doctor.checks import Check, fail, ok
from glmv_agent.errors import GlmvError

from .options import ENV_EXECUTABLE, WebOptions, resolve_executable


def web_checks(options: WebOptions) -> list[Check]:
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        return [fail("Playwright", "not installed", "pip install 'glmv-agent[web]'")]
    with sync_playwright() as playwright:
        if options.cdp_url:
            return [_cdp(playwright, options.cdp_url, PlaywrightError)]
        try:
            executable = resolve_executable(options.executable_path, playwright.chromium.executable_path)
        except GlmvError as exc:
            return [fail("Chromium", "not found", str(exc))]
        name = executable or "Playwright's Chromium"
        checks = [ok("Chromium", f"found: {name}")]
        try:
            browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
        except PlaywrightError as exc:
            message = str(exc).strip().splitlines()[0]
            return [*checks, fail("Chromium starts", message, f"install a working Chromium or set {ENV_EXECUTABLE}")]
        checks.append(ok("Chromium starts", f"headless, version {browser.version}"))
        browser.close()
    return checks


def _cdp(playwright: object, url: str, error: type[Exception]) -> Check:
    try:
        browser = playwright.chromium.connect_over_cdp(url)  # type: ignore[attr-defined]
    except error as exc:
        return fail("browser over CDP", f"{url}: {str(exc).strip().splitlines()[0]}",
                    "start Chromium with --remote-debugging-port=9222 and pass --cdp-url http://127.0.0.1:9222")
    version = browser.version
    browser.close()
    return ok("browser over CDP", f"{url}: version {version}")


__all__ = ["web_checks"]
