"""JavaScript run in the page: set-of-marks labelling, the in-page <select> list, scrolling, field checks.

Native ``<select>`` popups are drawn by the browser outside the page, so they never appear in screenshots.
``SELECT_LIST_JS`` (installed as an init script and re-checked at every observation) intercepts the gesture
that would open a single-choice select (mousedown, Space/Enter/F4/Alt+Arrow) and shows the options as an ordinary
element in the page instead; clicking a row selects it and fires ``input`` and ``change`` like a real choice.
``POPUP_WATCH_JS`` notes when the page starts opening a tab, so the environment waits for it before the next look.
"""

from __future__ import annotations

MARK_ATTR = "data-glmv-mark"
SELECT_LIST_ATTR = "data-glmv-select-list"

SELECT_LIST_JS = r"""
(() => {
  if (window.__glmvSelectList) return;
  window.__glmvSelectList = true;
  let current = null;
  const close = () => { if (current) { current.list.remove(); current = null; } };
  const single = (el) => el instanceof HTMLSelectElement && !el.multiple && el.size <= 1 && !el.disabled;
  const selectOf = (event) => event.composedPath().find((n) => n instanceof HTMLSelectElement) || null;
  const inList = (event) => current && event.composedPath().includes(current.list);
  const choose = (select, index) => {
    close();
    if (select.selectedIndex !== index) {
      select.selectedIndex = index;
      select.dispatchEvent(new Event('input', {bubbles: true, composed: true}));
      select.dispatchEvent(new Event('change', {bubbles: true}));
    }
    select.focus();
  };
  const row = (text, style) => {
    const div = document.createElement('div');
    div.textContent = text;
    Object.assign(div.style, {padding: '3px 10px', whiteSpace: 'nowrap', minHeight: '1.2em'}, style);
    return div;
  };
  const addOption = (list, select, option, indent) => {
    const div = row(option.label || option.text, {paddingLeft: indent ? '36px' : '26px'});
    if (option.selected) { div.style.background = '#cfe3ff'; div.setAttribute('aria-selected', 'true'); }
    if (option.disabled) {
      div.style.color = '#999';
      return list.append(div);
    }
    div.setAttribute('role', 'option');
    div.style.cursor = 'pointer';
    div.addEventListener('click', (e) => { e.stopPropagation(); choose(select, option.index); });
    list.append(div);
  };
  const place = (list, rect) => {
    const below = innerHeight - rect.bottom - 4, above = rect.top - 4;
    const room = Math.max(below, above, 60);
    list.style.maxHeight = Math.min(320, room) + 'px';
    const height = list.offsetHeight;
    const top = (height <= below || below >= above) ? rect.bottom : Math.max(0, rect.top - height);
    list.style.top = top + 'px';
    list.style.left = Math.max(0, Math.min(rect.left, innerWidth - list.offsetWidth)) + 'px';
  };
  const open = (select) => {
    close();
    const rect = select.getBoundingClientRect();
    const list = document.createElement('div');
    list.setAttribute('data-glmv-select-list', '');
    list.setAttribute('role', 'listbox');
    Object.assign(list.style, {
      position: 'fixed', zIndex: '2147483647', background: '#fff', color: '#111', border: '1px solid #767676',
      boxShadow: '0 2px 8px rgba(0,0,0,.35)', overflowY: 'auto', boxSizing: 'border-box', padding: '2px 0',
      margin: '0', textAlign: 'left', minWidth: rect.width + 'px', font: getComputedStyle(select).font,
    });
    for (const child of select.children) {
      if (child instanceof HTMLOptGroupElement) {
        list.append(row(child.label, {fontWeight: 'bold', color: '#555', paddingLeft: '26px'}));
        for (const option of child.children) {
          if (option instanceof HTMLOptionElement) addOption(list, select, option, true);
        }
      } else if (child instanceof HTMLOptionElement) addOption(list, select, child, false);
    }
    list.addEventListener('mousedown', (e) => e.preventDefault());
    document.documentElement.append(list);
    place(list, rect);
    const chosen = list.querySelector('[aria-selected]');
    if (chosen) list.scrollTop = chosen.offsetTop - list.clientHeight / 2;
    current = {select, list};
  };
  addEventListener('mousedown', (e) => {
    if (inList(e)) return;
    const select = selectOf(e);
    if (!select || !single(select) || e.button !== 0) { close(); return; }
    e.preventDefault();
    if (current && current.select === select) { close(); } else { select.focus(); open(select); }
  }, true);
  addEventListener('keydown', (e) => {
    if (current && e.key === 'Escape') { close(); e.preventDefault(); return; }
    const select = selectOf(e);
    if (!select || !single(select)) return;
    const opener = e.key === ' ' || e.key === 'Enter' || e.key === 'F4' ||
      (e.altKey && (e.key === 'ArrowDown' || e.key === 'ArrowUp'));
    if (opener) { e.preventDefault(); open(select); }
  }, true);
  addEventListener('scroll', (e) => { if (current && !current.list.contains(e.target)) close(); }, true);
  addEventListener('resize', close);
})();
"""

POPUP_WATCH_JS = r"""
(() => {
  if (window.__glmvPopupWatch) return;
  window.__glmvPopupWatch = true;
  window.__glmvPopup = false;
  const flag = () => { window.__glmvPopup = true; };
  const nativeOpen = window.open;
  window.open = function (...args) { flag(); return nativeOpen.apply(this, args); };
  const blank = (target) => !!target && !['_self', '_parent', '_top'].includes(target.toLowerCase());
  const onClick = (e) => {
    const link = e.composedPath().find((n) => n instanceof HTMLAnchorElement || n instanceof HTMLAreaElement);
    if (link && link.href && (blank(link.target) || e.ctrlKey || e.metaKey || e.shiftKey || e.button === 1)) flag();
  };
  addEventListener('click', onClick, true);
  addEventListener('auxclick', onClick, true);
  addEventListener('submit', (e) => { if (blank(e.target.target)) flag(); }, true);
})();
"""

# Both helpers, as one init script / one evaluate.
PAGE_HELPERS_JS = SELECT_LIST_JS + POPUP_WATCH_JS

# Whether the page started opening a tab since the last look (and reset the flag).
POPUP_FLAG_JS = "() => { const popup = !!window.__glmvPopup; window.__glmvPopup = false; return popup; }"

MARK_JS = r"""
({attr, token, max, limit = 200, clip = null}) => {
  const ROLES = new Set(['button', 'link', 'checkbox', 'radio', 'tab', 'menuitem', 'menuitemcheckbox',
    'menuitemradio', 'option', 'switch', 'combobox', 'textbox', 'searchbox', 'slider', 'spinbutton', 'treeitem']);
  const NATIVE = new Set(['A', 'BUTTON', 'INPUT', 'TEXTAREA', 'SELECT', 'SUMMARY', 'IFRAME', 'FRAME', 'VIDEO',
    'AUDIO']);
  // the part of this document's viewport that is visible (a frame's parent may show only part of it)
  const [cx1, cy1, cx2, cy2] = clip || [0, 0, innerWidth, innerHeight];
  const all = [];
  const stack = [document.documentElement];
  while (stack.length) {
    const el = stack.pop();
    all.push(el);
    if (el.hasAttribute(attr)) el.removeAttribute(attr);
    const kids = [...(el.shadowRoot ? el.shadowRoot.children : []), ...el.children];
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
  }
  const clean = (s) => (s || '').replace(/[ \t\u00a0]+/g, ' ').replace(/\s*\n\s*/g, '\n').trim().slice(0, limit);
  const kind = (el, style) => {
    const tag = el.tagName;
    if (tag === 'INPUT' && el.type === 'hidden') return null;
    if (NATIVE.has(tag) && (tag !== 'A' || el.hasAttribute('href'))) return 'native';
    const role = (el.getAttribute('role') || '').toLowerCase();
    if (ROLES.has(role)) return 'native';
    if (el.isContentEditable && !(el.parentElement && el.parentElement.isContentEditable)) return 'native';
    if (el.hasAttribute('onclick') || (el.hasAttribute('tabindex') && el.tabIndex >= 0)) return 'native';
    if (style.cursor !== 'pointer') return null;
    const parent = el.parentElement || (el.getRootNode() && el.getRootNode().host);
    return parent && getComputedStyle(parent).cursor === 'pointer' ? null : 'pointer';
  };
  const hits = (el, x1, y1, x2, y2) => {
    const root = el.getRootNode();
    const w = x2 - x1, h = y2 - y1;
    for (const [fx, fy] of [[0.5, 0.5], [0.2, 0.2], [0.8, 0.2], [0.2, 0.8], [0.8, 0.8]]) {
      const hit = root.elementFromPoint(x1 + w * fx, y1 + h * fy);
      if (hit && (hit === el || el.contains(hit) || hit.control === el)) return true;
    }
    return false;
  };
  const textOf = (el) => {
    const tag = el.tagName, aria = el.getAttribute('aria-label');
    if (tag === 'INPUT') {
      if (['button', 'submit', 'reset'].includes(el.type)) return el.value || aria || '';
      if (['checkbox', 'radio'].includes(el.type)) {
        return aria || (el.labels && el.labels[0] ? el.labels[0].innerText : '');
      }
      // a password or one-time code never reaches the model: what the field asks for, not what it holds
      const hidden = el.type === 'password' || /password|one-time-code/i.test(el.autocomplete || '');
      if (hidden) return el.placeholder || aria || el.title || '';
      return el.value || el.placeholder || aria || el.title || '';
    }
    if (tag === 'TEXTAREA') return el.value || el.placeholder || aria || '';
    if (tag === 'SELECT') return (el.selectedIndex >= 0 ? el.options[el.selectedIndex].text : '') || aria || '';
    const img = el.querySelector('img[alt]');
    return el.innerText || aria || el.title || (img ? img.alt : '') || '';
  };
  const found = [];
  for (const el of all) {
    const style = getComputedStyle(el);
    const k = kind(el, style);
    if (!k || style.visibility !== 'visible' || style.opacity === '0') continue;
    const r = el.getBoundingClientRect();
    const x1 = Math.max(cx1, r.left), y1 = Math.max(cy1, r.top);
    const x2 = Math.min(cx2, r.right), y2 = Math.min(cy2, r.bottom);
    if (x2 - x1 < 2 || y2 - y1 < 2 || !hits(el, x1, y1, x2, y2)) continue;
    found.push({el, k, box: [x1, y1, x2, y2]});
  }
  const natives = found.filter((f) => f.k === 'native');
  const kept = found.filter((f) => f.k === 'native' || !natives.some((n) => n.el !== f.el && f.el.contains(n.el)));
  return kept.slice(0, max).map((f, label) => {
    f.el.setAttribute(attr, token + '-' + label);
    const frame = f.el.tagName === 'IFRAME' || f.el.tagName === 'FRAME';
    const r = f.el.getBoundingClientRect(), s = getComputedStyle(f.el);
    return {
      tag: f.el.tagName.toLowerCase(), text: clean(textOf(f.el)), box: f.box,
      input_type: f.el.tagName === 'INPUT' ? (f.el.type || 'text').toLowerCase() : null,
      // a frame's content origin in this document's viewport: where its own (0, 0) is
      origin: frame ? [r.left + f.el.clientLeft + parseFloat(s.paddingLeft),
                       r.top + f.el.clientTop + parseFloat(s.paddingTop)] : null,
    };
  });
}
"""

VIEWPORT_JS = "() => [innerWidth, innerHeight, devicePixelRatio]"

FIELD_KIND_JS = r"""
(el) => {
  const tag = el.tagName;
  if (tag === 'SELECT') return 'select';
  if (el.isContentEditable) return 'text';
  if (el.disabled || el.readOnly) return 'none';
  if (tag === 'TEXTAREA') return 'text';
  if (tag !== 'INPUT') return 'none';
  const type = (el.type || 'text').toLowerCase();
  if (['date', 'time', 'datetime-local', 'month', 'week', 'color', 'range'].includes(type)) return 'special';
  if (type === 'file') return 'file';
  if (['button', 'submit', 'reset', 'checkbox', 'radio', 'image', 'hidden'].includes(type)) return 'none';
  return 'text';
}
"""

FOCUSED_EDITABLE_JS = r"""
() => {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  if (!el) return false;
  if (el.isContentEditable || el.tagName === 'TEXTAREA') return true;
  return el.tagName === 'INPUT' && !['button', 'submit', 'reset', 'checkbox', 'radio', 'file'].includes(el.type);
}
"""

SELECT_MATCH_JS = r"""
(el, wanted) => {
  const norm = (s) => (s || '').replace(/\s+/g, ' ').trim().toLowerCase();
  const want = norm(wanted);
  const options = [...el.options].filter((o) => !o.disabled);
  const pick = options.find((o) => norm(o.label || o.text) === want || norm(o.value) === want)
    || options.find((o) => norm(o.label || o.text).startsWith(want))
    || options.find((o) => norm(o.label || o.text).includes(want));
  return {index: pick ? pick.index : -1, options: options.map((o) => o.label || o.text).slice(0, 30)};
}
"""

_SCROLLABLE = r"""
  const scrollable = (n, down) => {
    const s = getComputedStyle(n);
    if (!/(auto|scroll|overlay)/.test(s.overflowY) || n.scrollHeight <= n.clientHeight + 1) return false;
    return down === undefined || (down ? n.scrollTop + n.clientHeight < n.scrollHeight - 1 : n.scrollTop > 0);
  };
  const move = (n, down) => {
    const before = n.scrollTop;
    n.scrollBy({top: (down ? 1 : -1) * Math.max(40, n.clientHeight * 2 / 3), behavior: 'instant'});
    return {what: n.tagName.toLowerCase(), moved: n.scrollTop - before};
  };
"""

SCROLL_ELEMENT_JS = (
    "(el, down) => {"
    + _SCROLLABLE
    + r"""
  for (let n = el; n; n = n.parentElement || (n.getRootNode() && n.getRootNode().host) || null) {
    if (n === document.body || n === document.documentElement) break;
    if (scrollable(n)) return move(n, down);
  }
  const before = scrollY;
  scrollBy({top: (down ? 1 : -1) * innerHeight * 2 / 3, behavior: 'instant'});
  return {what: 'window', moved: scrollY - before};
}"""
)

SCROLL_WINDOW_JS = (
    "(down) => {"
    + _SCROLLABLE
    + r"""
  const before = scrollY;
  scrollBy({top: (down ? 1 : -1) * innerHeight * 2 / 3, behavior: 'instant'});
  if (scrollY !== before) return {what: 'window', moved: scrollY - before};
  const doc = document.scrollingElement || document.documentElement;
  if (doc.scrollHeight > doc.clientHeight + 1) return {what: 'window', moved: 0};
  // The window cannot scroll at all (an app layout): scroll the biggest scrollable area instead.
  let best = null, bestArea = innerWidth * innerHeight / 4;
  for (const n of document.querySelectorAll('body, body *')) {
    const r = n.getBoundingClientRect();
    const area = Math.max(0, Math.min(innerWidth, r.right) - Math.max(0, r.left)) *
      Math.max(0, Math.min(innerHeight, r.bottom) - Math.max(0, r.top));
    if (area > bestArea && scrollable(n, down)) { best = n; bestArea = area; }
  }
  return best ? move(best, down) : {what: 'window', moved: 0};
}"""
)

# Where to click an element: the first of its centre and quarter points (inside the viewport) that hit-tests to
# it, as [x, y, x from the padding box's left, y from its top]; null when it is covered or out of view (the caller
# then lets Playwright scroll and wait).
CLICK_POINT_JS = r"""
(el) => {
  const r = el.getBoundingClientRect();
  const x1 = Math.max(0, r.left), y1 = Math.max(0, r.top);
  const x2 = Math.min(innerWidth, r.right), y2 = Math.min(innerHeight, r.bottom);
  if (x2 - x1 < 1 || y2 - y1 < 1) return null;
  const root = el.getRootNode();
  for (const [fx, fy] of [[0.5, 0.5], [0.25, 0.5], [0.75, 0.5], [0.5, 0.25], [0.5, 0.75]]) {
    const x = x1 + (x2 - x1) * fx, y = y1 + (y2 - y1) * fy;
    const hit = root.elementFromPoint(x, y);
    // the point, and the same point from the element's padding box corner (what Playwright's position takes)
    if (hit && (hit === el || el.contains(hit) || hit.control === el)) {
      return [x, y, x - r.left - el.clientLeft, y - r.top - el.clientTop];
    }
  }
  return null;
}
"""
