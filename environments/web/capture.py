"""The viewport screenshot, taken the fast way: CDP ``Page.captureScreenshot`` with ``optimizeForSpeed``.

``page.screenshot()`` makes Chromium compress its PNG hard; with ``optimizeForSpeed`` it uses a fast zlib level, so
the capture takes about half the time and the larger PNG decodes about 3x faster (1280x800 on the 2-core VM: ~35
against ~60 ms for capture and decode together). Still PNG, so still lossless. As ``page.screenshot()`` does by
default, the text caret of the page's main frame is hidden while the picture is taken (a blinking caret would make
identical screens differ).

Only at one screenshot pixel per CSS pixel, the default: a second CDP session does not see Playwright's
device-scale emulation (its capture comes out at CSS size), and capturing with a scaled clip resets that emulation
for the page. At other scales, zoomed pages and browsers without CDP, ``page.screenshot()`` it is.
"""

from __future__ import annotations

import base64
import io
import weakref

from PIL import Image
from playwright.sync_api import CDPSession, Page
from playwright.sync_api import Error as PlaywrightError

CARET_STYLE_ID = "glmv-hide-caret"
# Hides the caret when a text field has the focus (true: it was hidden) and says how many screenshot pixels a CSS
# pixel is (device scale factor and pinch zoom).
HIDE_CARET_JS = f"""
() => {{
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  const typing = !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'IFRAME'].includes(el.tagName));
  if (typing && !document.getElementById('{CARET_STYLE_ID}')) {{
    const style = document.createElement('style');
    style.id = '{CARET_STYLE_ID}';
    style.textContent = '* {{ caret-color: transparent !important; }}';
    (document.head || document.documentElement).append(style);
  }}
  return [typing, devicePixelRatio * (visualViewport ? visualViewport.scale : 1)];
}}
"""
SHOW_CARET_JS = f"() => {{ const s = document.getElementById('{CARET_STYLE_ID}'); if (s) s.remove(); }}"

_SESSIONS: weakref.WeakKeyDictionary[Page, CDPSession | None] = weakref.WeakKeyDictionary()


def _session(page: Page) -> CDPSession | None:
    """The page's own CDP session, made once; None when the browser speaks no CDP."""
    if page not in _SESSIONS:
        try:
            _SESSIONS[page] = page.context.new_cdp_session(page)
        except PlaywrightError:
            _SESSIONS[page] = None
    return _SESSIONS[page]


def capture(page: Page) -> Image.Image:
    """The viewport at device pixels as a loaded PIL image (PNG-decoded). Raises PlaywrightError like
    ``page.screenshot()`` (a navigation replacing the document, a closed page)."""
    session = _session(page)
    data = None
    if session is not None:
        hidden, ratio = page.evaluate(HIDE_CARET_JS)
        try:
            if ratio == 1:
                shot = session.send("Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True})
                data = base64.b64decode(shot["data"])
        finally:
            if hidden:
                _show_caret(page)
    image = Image.open(io.BytesIO(data if data is not None else page.screenshot(type="png")))
    image.load()
    return image


def _show_caret(page: Page) -> None:
    try:
        page.evaluate(SHOW_CARET_JS)
    except PlaywrightError:  # the document was replaced meanwhile: its style went with it
        pass
