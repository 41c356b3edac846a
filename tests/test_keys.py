"""One key-name table for web and desktop: both drivers read a model's key name as the same key, and every name
the web driver produces is one real Chromium accepts (each is pressed on a page that records the key it got)."""

from __future__ import annotations

import pytest

from glmv_agent.environments.desktop.keys import resolve_key
from glmv_agent.environments.keys import ALIASES, NAMED_KEYS
from glmv_agent.environments.web.keys import _PLAYWRIGHT, playwright_combo, playwright_key
from glmv_agent.errors import StepError

SAME_KEY = [  # model name, pyautogui name (linux), Playwright name
    ("Return", "enter", "Enter"), ("KP_Enter", "enter", "NumpadEnter"), ("Escape", "esc", "Escape"),
    ("page_down", "pagedown", "PageDown"), ("pgup", "pageup", "PageUp"), ("ArrowLeft", "left", "ArrowLeft"),
    ("BackSpace", "backspace", "Backspace"), ("Control_L", "ctrl", "Control"), ("Shift_R", "shiftright", "ShiftRight"), ("super", "win", "Meta"),
    ("cmd", "win", "Meta"), ("Menu", "apps", "ContextMenu"), ("KP_3", "num3", "Numpad3"), ("F5", "f5", "F5"),
    ("plus", "+", "+"), ("bracketleft", "[", "["), ("space", "space", "Space"),
]


@pytest.mark.parametrize(("name", "desktop", "web"), SAME_KEY)
def test_both_drivers_read_a_name_as_the_same_key(name: str, desktop: str, web: str) -> None:
    assert resolve_key(name, system="linux") == desktop
    assert playwright_key(name) == web


def test_every_alias_resolves_on_the_desktop() -> None:
    for alias in ALIASES:
        assert resolve_key(alias, system="linux")


def test_unknown_names_are_refused_by_both_with_the_name() -> None:
    for driver in (lambda n: resolve_key(n, system="linux"), playwright_key):
        with pytest.raises(StepError, match="'Hyperspace'"):
            driver("Hyperspace")


def test_a_key_the_browser_has_no_name_for_is_refused_not_sent() -> None:
    with pytest.raises(StepError, match="cannot be pressed in a browser"):
        playwright_key("F20")
    assert playwright_combo("ctrl+Shift+T") == "Control+Shift+t"


@pytest.mark.browser
def test_chromium_accepts_every_name_the_web_driver_produces() -> None:
    pytest.importorskip("playwright.sync_api")
    from playwright.sync_api import sync_playwright

    from glmv_agent.environments.web.browser import launch_browser
    from glmv_agent.environments.web.options import WebOptions
    from glmv_agent.errors import ConfigError

    names = sorted(set(_PLAYWRIGHT.values()) - {"ContextMenu", "PrintScreen"})  # these open native UI
    with sync_playwright() as playwright:
        try:
            browser = launch_browser(playwright, WebOptions())
        except ConfigError as exc:
            pytest.skip(f"no Chromium here: {exc}")
        page = browser.new_page()
        page.set_content("<input id=f autofocus>")
        page.evaluate("window.got = []; addEventListener('keydown', e => got.push(e.key), true)")
        for name in names:
            page.keyboard.press(name)
        got = page.evaluate("window.got")
        browser.close()
    assert len(got) == len(names)
    assert "Enter" in got and "PageDown" in got and "Meta" in got and "F12" in got
    assert set(NAMED_KEYS) >= {k for k in _PLAYWRIGHT if k in NAMED_KEYS}
