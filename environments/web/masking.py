"""Keep secret values out of screenshots: fields that hold one are drawn as dots while the screenshot is taken.

The values never go into the page: each frame reports the contents of its text fields (``<input>``, ``<textarea>``,
editable elements), Python decides which hold a secret, and only those get ``-webkit-text-security: disc`` until
the screenshot is taken, then their own style back. A page that shows the value as ordinary text (not in a field)
still shows it: that is a limit, and the element list and notes are redacted whatever the screenshot shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame, Page

log = logging.getLogger(__name__)
FIELD_ATTR = "data-glmv-field"

# Tag every non-empty text field (shadow roots included) with its index and return the contents, in that order.
FIELDS_JS = r"""
(attr) => {
  const values = [];
  const stack = [document.documentElement];
  while (stack.length) {
    const el = stack.pop();
    if (!el) continue;
    el.removeAttribute(attr);
    const input = el.tagName === 'INPUT' && !['hidden', 'password', 'file', 'checkbox', 'radio', 'submit', 'button',
      'reset', 'image', 'range', 'color'].includes(el.type);
    const root = el.isContentEditable && !(el.parentElement && el.parentElement.isContentEditable);
    const value = input || el.tagName === 'TEXTAREA' ? el.value : root ? el.innerText : '';
    if (value) { el.setAttribute(attr, String(values.length)); values.push(value); }
    stack.push(...(el.shadowRoot ? el.shadowRoot.children : []), ...el.children);
  }
  return values;
}
"""

# Draw the tagged fields listed as dots (keeping their own inline value to put back), or put every one back.
MASK_JS = r"""
({attr, indices}) => {
  const all = [];
  const stack = [document.documentElement];
  while (stack.length) {
    const el = stack.pop();
    if (!el) continue;
    if (el.hasAttribute(attr)) all.push(el);
    stack.push(...(el.shadowRoot ? el.shadowRoot.children : []), ...el.children);
  }
  for (const el of all) {
    if (indices === null) {
      el.style.setProperty('-webkit-text-security', el.dataset.glmvOwnSecurity || '');
      delete el.dataset.glmvOwnSecurity;
    } else if (indices.includes(Number(el.getAttribute(attr)))) {
      el.dataset.glmvOwnSecurity = el.style.getPropertyValue('-webkit-text-security');
      el.style.setProperty('-webkit-text-security', 'disc', 'important');
      continue;
    }
    el.removeAttribute(attr);
  }
}
"""


def mask_secret_fields(page: Page, holds_secret: Callable[[str], bool]) -> list[Frame]:
    """Draw every field of ``page`` (and its frames) whose content ``holds_secret`` as dots; the frames changed."""
    masked = []
    for frame in page.frames:
        try:
            values = frame.evaluate(FIELDS_JS, FIELD_ATTR)
            indices = [index for index, value in enumerate(values) if holds_secret(value)]
            frame.evaluate(MASK_JS, {"attr": FIELD_ATTR, "indices": indices})
        except PlaywrightError as exc:  # a frame that navigates meanwhile shows no field of ours
            log.debug("masking fields in a frame: %s", exc)
            continue
        if indices:
            masked.append(frame)
    return masked


def unmask(frames: list[Frame]) -> None:
    """Give the masked fields their own style back."""
    for frame in frames:
        try:
            frame.evaluate(MASK_JS, {"attr": FIELD_ATTR, "indices": None})
        except PlaywrightError as exc:
            log.debug("unmasking fields in a frame: %s", exc)
