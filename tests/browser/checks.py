"""What every journey page must pass, whoever looks at it: readable controls, no sideways scroll.

``look(page)`` checks the page in the browser at a small phone (320 px), a common phone
(390 px) and a desktop (1366 px):

- the document is never wider than the viewport (wide tables scroll in their own box);
- every visible button, link and form control has a text/background contrast of at least
  4.5:1, the background being the first opaque one found walking up the ancestors
  (transparent layers are composited, and ancestors' opacity fades the text);
- none is zero-size, and none is clipped by an ``overflow: hidden`` ancestor or placed off
  the page, unless focusing it brings it into view (the "skip to content" link);
- buttons side by side in a group (``.actions``, ``.row-actions``, ``.button-group``,
  ``.sticky-actions``) line up: on one line, their tops are level.

Closed ``<details>`` are opened for the check so the controls inside them are checked too.
"""

from __future__ import annotations

WIDTHS = (320, 390, 1366)
MINIMUM_CONTRAST = 4.5

_CONTROLS_JS = r"""
(minimum) => {
  const parse = (text) => {
    const m = /rgba?\(([^)]*)\)/.exec(text || '');
    if (!m) return null;
    const parts = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3]))
                                        .concat([1]);
  const channel = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const luminance = (c) => 0.2126 * channel(c[0]) + 0.7152 * channel(c[1])
                           + 0.0722 * channel(c[2]);
  const ratio = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)];
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const describe = (el) => {
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '')
      .trim().replace(/\s+/g, ' ').slice(0, 40);
    return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (el.type && el.tagName === 'INPUT' ? '[type=' + el.type + ']' : '') + ' "' + text + '"';
  };
  // The effective background: transparent layers composited down to the first opaque one
  // (or the white canvas); the product of every ancestor's opacity fades the text.
  const colours = (el) => {
    const layers = [];
    let opacity = 1, opaque = false;
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const style = getComputedStyle(node);
      opacity *= parseFloat(style.opacity);
      if (opaque) continue;
      const bg = parse(style.backgroundColor);
      if (bg && bg[3] > 0) { layers.push(bg); if (bg[3] >= 1) opaque = true; }
    }
    let background = [255, 255, 255, 1];
    for (const layer of layers.reverse()) background = over(layer, background);
    const fg = parse(getComputedStyle(el).color) || [0, 0, 0, 1];
    const text = over([fg[0], fg[1], fg[2], fg[3] * opacity], background);
    return [text, background];
  };
  const hiddenReason = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return 'zero-size (' + r.width + 'x' + r.height + ')';
    if (r.right + scrollX <= 0 || r.bottom + scrollY <= 0) return 'off the page';
    for (let node = el.parentElement; node && node !== document.documentElement;
         node = node.parentElement) {
      const style = getComputedStyle(node);
      const clipsX = ['hidden', 'clip'].includes(style.overflowX);
      const clipsY = ['hidden', 'clip'].includes(style.overflowY);
      if (!clipsX && !clipsY) continue;
      const box = node.getBoundingClientRect();
      if ((clipsX && (r.left < box.left - 1 || r.right > box.right + 1))
          || (clipsY && (r.top < box.top - 1 || r.bottom > box.bottom + 1))) {
        return 'clipped by ' + node.tagName.toLowerCase()
          + (node.className ? '.' + String(node.className).split(' ')[0] : '');
      }
    }
    const own = getComputedStyle(el);
    if (['hidden', 'clip'].includes(own.overflowX) && el.scrollWidth > el.clientWidth + 1
        && !['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName)) return 'its text is cut off';
    return null;
  };
  const opened = [...document.querySelectorAll('details:not([open])')];
  opened.forEach(d => { d.open = true; });
  const problems = [];
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
                 + '[tabindex]:not([tabindex="-1"])';
  for (const el of document.querySelectorAll(selector)) {
    if (el.disabled || !el.getClientRects().length) continue;
    if (getComputedStyle(el).visibility !== 'visible') continue;
    let reason = hiddenReason(el);
    if (reason) {
      el.focus();  // hidden until focused is fine: the skip link
      if (document.activeElement === el && !hiddenReason(el)) reason = null;
      el.blur();
    }
    if (reason) { problems.push(describe(el) + ': ' + reason); continue; }
    const box = ['checkbox', 'radio', 'range', 'color'].includes(el.type);
    if (el.tagName === 'INPUT' && box) continue;  // no text to read
    const [fg, bg] = colours(el);
    const contrast = ratio(fg, bg);
    if (contrast < minimum) {
      problems.push(describe(el) + ': contrast ' + contrast.toFixed(2) + ':1 (text rgb('
        + fg.slice(0, 3).map(Math.round) + ') on rgb(' + bg.slice(0, 3).map(Math.round) + '))');
    }
  }
  opened.forEach(d => { d.open = false; });
  return problems;
}
"""


def control_problems(page) -> list[str]:
    """Unreadable, zero-size or clipped controls on the page as it is laid out now."""
    return page.evaluate(_CONTROLS_JS, MINIMUM_CONTRAST)


def overflow(page) -> int:
    """How many CSS pixels the document is wider than the viewport (0 when it fits)."""
    return page.evaluate("Math.max(document.documentElement.scrollWidth,"
                         " document.body.scrollWidth) - document.documentElement.clientWidth")


_CULPRITS_JS = r"""
() => {
  // The outermost elements that stick out of the viewport and are not inside a scroll box.
  const width = document.documentElement.clientWidth, found = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right <= width + 1 || !el.getClientRects().length) continue;
    let inside = false;
    for (let n = el.parentElement; n && n !== document.body; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.overflowX !== 'visible' || n.getBoundingClientRect().right > width + 1) {
        inside = true;
        break;
      }
    }
    const name = el.tagName.toLowerCase()
      + (el.className ? '.' + String(el.className).split(' ').join('.') : '');
    if (!inside) found.push(name + ' (' + Math.round(r.width) + ' px)');
  }
  return found.slice(0, 3);
}
"""


_ALIGN_JS = r"""
() => {
  const found = [];
  for (const group of document.querySelectorAll(
      '.actions, .row-actions, .button-group, .sticky-actions')) {
    const buttons = [...group.querySelectorAll('button, a.button')]
      .filter(el => el.getClientRects().length && getComputedStyle(el).visibility === 'visible'
                    && !el.closest('details:not([open]) > :not(summary)'))
      .map(el => [el, el.getBoundingClientRect()]);
    for (let i = 0; i < buttons.length; i++) {
      for (let j = i + 1; j < buttons.length; j++) {
        const [a, ra] = buttons[i], [b, rb] = buttons[j];
        const overlap = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
        if (overlap > 0.5 * Math.min(ra.height, rb.height) && Math.abs(ra.top - rb.top) > 1) {
          const name = (el) => '"' + el.innerText.trim().replace(/\s+/g, ' ').slice(0, 30) + '"';
          found.push('buttons out of line: ' + name(a) + ' and ' + name(b) + ' ('
                     + Math.round(Math.abs(ra.top - rb.top)) + ' px)');
        }
      }
    }
  }
  return found;
}
"""


def misaligned(page) -> list[str]:
    """Buttons of a group that share a line but not a top edge."""
    return page.evaluate(_ALIGN_JS)


def look(page, widths=WIDTHS) -> list[str]:
    """Every problem on the current page at each width, as 'path @width: problem' lines."""
    original = page.viewport_size
    path = page.url.split("//", 1)[-1].split("/", 1)[-1]
    found: dict[str, list[int]] = {}
    try:
        for width in widths:
            page.set_viewport_size({"width": width, "height": 800})
            extra = overflow(page)
            lines = []
            if extra > 0:
                culprits = ", ".join(page.evaluate(_CULPRITS_JS)) or "?"
                lines.append(f"document is {width + extra} px wide ({culprits})")
            for line in lines + control_problems(page) + misaligned(page):
                found.setdefault(line, []).append(width)
    finally:
        if original:
            page.set_viewport_size(original)
    return [f"/{path} @{','.join(map(str, sorted(set(ws))))}: {line}"
            for line, ws in found.items()]


class Audit:
    """Collects ``look`` problems over a journey; the test asserts ``problems == []`` at the end."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.pages: list[str] = []

    def __call__(self, page) -> None:
        self.pages.append(page.url)
        self.problems += look(page)
