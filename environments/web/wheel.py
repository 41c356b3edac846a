"""Mouse-wheel scrolling that returns once the page has scrolled, so the next screenshot shows it.

Chromium scrolls for a wheel event asynchronously: the browser sends the scroll gesture only after the page has
seen the wheel event, and ``mouse.wheel`` returns before that. So :func:`wheel` first asks the page whether
anything under the pointer can move that way (the scroll containers from the element hit up to the viewport, as
Chromium chains them); if something can, it waits until the page fires a ``scroll`` event or cancels the wheel event
(a map, a carousel), for at most ``timeout_s``. A pointer over an ``<iframe>`` scrolls that frame: not awaited.
"""

from __future__ import annotations

import logging

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

log = logging.getLogger(__name__)

# ([x, y] CSS px in the viewport, down, timeout ms) -> whether a scroll is awaited; the promise, settling to
# "scrolled" | "cancelled" | "timeout", is left in window.__glmvWheel for WHEEL_RESULT_JS.
WHEEL_WATCH_JS = r"""
([x, y, down, limitMs]) => {
  window.__glmvWheel = null;
  const hit = document.elementFromPoint(x, y);
  if (!hit || hit.tagName === 'IFRAME' || hit.tagName === 'FRAME') return false;
  const root = document.scrollingElement || document.documentElement;
  const room = (n) => down ? n.scrollTop + n.clientHeight < n.scrollHeight - 1 : n.scrollTop > 0;
  const movable = (n) => n !== root && n !== document.body &&
    /(auto|scroll|overlay)/.test(getComputedStyle(n).overflowY) && n.scrollHeight > n.clientHeight + 1 && room(n);
  let can = false;
  for (let n = hit; n && !can; n = n.parentElement || (n.getRootNode() && n.getRootNode().host) || null) {
    can = movable(n);
  }
  const html = getComputedStyle(document.documentElement).overflowY;
  const viewport = html === 'visible' && document.body ? getComputedStyle(document.body).overflowY : html;
  if (!can && (viewport === 'hidden' || viewport === 'clip' || !room(root))) return false;
  window.__glmvWheel = new Promise((resolve) => {
    const stop = new AbortController();
    const done = (how) => { stop.abort(); resolve(how); };
    addEventListener('scroll', () => done('scrolled'), {capture: true, passive: true, signal: stop.signal});
    addEventListener('wheel', (e) => { if (e.defaultPrevented) done('cancelled'); },
                     {passive: true, signal: stop.signal});
    setTimeout(() => done('timeout'), limitMs);
  });
  return true;
}
"""
WHEEL_RESULT_JS = "() => window.__glmvWheel"


def wheel(page: Page, x: float, y: float, delta_y: float, timeout_s: float) -> str | None:
    """Move the mouse to (``x``, ``y``) CSS px of the viewport and turn the wheel by ``delta_y`` CSS px (positive:
    down); return once the page has scrolled, or has nothing there to scroll. A note for the model when the page
    cancelled the wheel or did not scroll within ``timeout_s`` seconds, else None. Raises PlaywrightError as
    ``page.mouse`` does."""
    page.mouse.move(x, y)
    awaited = page.evaluate(WHEEL_WATCH_JS, [x, y, delta_y > 0, timeout_s * 1000])
    page.mouse.wheel(0, delta_y)
    if not awaited:
        return None
    try:
        result = page.evaluate(WHEEL_RESULT_JS)
    except PlaywrightError as exc:  # the wheel led to another document: nothing left to wait for here
        log.debug("waiting for the wheel to scroll: %s", exc)
        return None
    if result == "cancelled":
        return "The page took the wheel event itself (it cancelled the scrolling)."
    if result == "timeout":
        return f"The wheel did not scroll the page within {timeout_s:g} s."
    return None
