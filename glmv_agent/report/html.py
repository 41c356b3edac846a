"""The run report's HTML: one self-contained page (inline CSS and a few lines of JS, no external assets).

Every piece of model, task or device text goes through :func:`esc`: model output is untrusted.
"""

from __future__ import annotations

import html
import json
from typing import Any

from pydantic import BaseModel

from ..recording import RunSummary, StepRecord

TIMING_ORDER = ("observe", "record", "render", "generate", "parse", "execute")
GOOD, BAD = {"complete"}, {"failed", "error", "looping", "max_steps", "infeasible"}
MAX_WIDTH, MAX_HEIGHT = 720, 760  # how large a screenshot shows before it is clicked

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f4f4f6;color:#1d1d22}
header,section{background:#fff;margin:12px;padding:12px 16px;border-radius:8px;box-shadow:0 1px 3px #0002}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:0 0 8px}
table.summary td,table.summary th{padding:2px 12px 2px 0;text-align:left;vertical-align:top}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;background:#ddd;font-weight:600}
.badge.good{background:#c8efd2;color:#0b5d22}.badge.bad{background:#ffd6d6;color:#8a1010}
.badge.warn{background:#ffeec2;color:#704d00}
nav{margin:0 12px}nav a{display:inline-block;margin:2px;padding:2px 8px;border-radius:6px;background:#fff;
text-decoration:none;color:#223;border:1px solid #ccd}nav a.err{background:#ffe2e2;border-color:#e88}
section.err{border-left:5px solid #d33}
.body{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}
.shot{position:relative;margin:0;line-height:0;flex:none;cursor:zoom-in;max-width:100%;outline:1px solid #ccd}
.shot img{width:100%;height:auto;display:block}
.shot.big{width:auto!important;cursor:zoom-out}.shot.big img{width:auto;max-width:100%}
.pin{position:absolute;width:22px;height:22px;margin:-11px 0 0 -11px;border-radius:50%}
.pin:hover{outline:2px dashed #000}
.missing{padding:40px 24px;background:#eee;color:#666;border:1px dashed #aaa}
.info{flex:1;min-width:280px}.info dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}
.info dt{color:#667}.info dd{margin:0;white-space:pre-wrap;word-break:break-word}
.error{background:#ffe2e2;color:#8a1010;border:1px solid #e88;border-radius:6px;padding:6px 10px;margin:0 0 8px;
white-space:pre-wrap;word-break:break-word}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f8;padding:8px;border-radius:6px;max-height:480px;
overflow:auto}code{background:#f0f0f4;padding:0 3px;border-radius:3px}
table.timings{border-collapse:collapse;margin:8px 0}table.timings td{padding:1px 10px 1px 0}
table.timings td.v{text-align:right;font-variant-numeric:tabular-nums}
details{margin:6px 0}summary{cursor:pointer;color:#335}
"""
JS = """
document.querySelectorAll('.shot img').forEach(function (img) {
  img.addEventListener('click', function () { img.parentElement.classList.toggle('big'); });
});
"""


class StepView(BaseModel):
    """One record as the page shows it: the annotated image (relative path) and where its markers are."""

    record: StepRecord
    image: str | None = None  # path relative to the run folder
    size: tuple[int, int] | None = None  # annotated image size (screenshot plus caption strip)
    screen: tuple[int, int] | None = None  # the screenshot part of the annotated image
    points: list[tuple[int, int]] = []  # executed points in annotated-image pixels


def esc(value: Any) -> str:
    """Text for HTML content or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def anchor(record: StepRecord) -> str:
    return f"step-{record.index}" + (f"-retry{record.attempt}" if record.attempt else "")


def render_page(summary: RunSummary, steps: list[StepView], gif: str | None = None) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>glmv-agent run: {esc(summary.task)}</title><style>{CSS}</style></head><body>",
        _summary(summary, gif),
        _nav(steps),
        *(_step(view) for view in steps),
        f"<script>{JS}</script></body></html>",
    ]
    return "\n".join(parts)


def _status_class(status: str) -> str:
    return "good" if status in GOOD else "bad" if status in BAD else "warn"


def _summary(summary: RunSummary, gif: str | None) -> str:
    rows = [
        ("status", f'<span class="badge {_status_class(summary.status)}" id="status">{esc(summary.status)}</span>'),
        ("answer", esc(summary.answer) if summary.answer else "<i>none</i>"),
        ("profile", f"{esc(summary.profile)} ({esc(summary.platform)})"),
        ("steps", f"{summary.steps} steps, {summary.model_calls} model calls"),
        ("tokens", f"{summary.prompt_tokens:,} prompt + {summary.completion_tokens:,} completion"),
        ("duration", f"{summary.duration_s:.1f} s (started {esc(summary.started_at)}"
                     f"{', finished ' + esc(summary.finished_at) if summary.finished_at else ', not finished'})"),
    ]
    if summary.error:
        rows.insert(2, ("error", f'<div class="error">{esc(summary.error)}</div>'))
    if gif:
        rows.append(("replay", f'<a href="{esc(gif)}">animated GIF of the steps</a>'))
    table = "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)
    return f'<header><h1 id="task">{esc(summary.task)}</h1><table class="summary">{table}</table></header>'


def _nav(steps: list[StepView]) -> str:
    links = []
    for view in steps:
        record = view.record
        kind = (record.action or {}).get("type") or "no action"
        retry = f" r{record.attempt}" if record.attempt else ""
        css = ' class="err"' if record.error else ""
        links.append(f'<a href="#{anchor(record)}"{css}>{record.index}{retry} {esc(kind)}</a>')
    return f"<nav>{''.join(links)}</nav>"


def _step(view: StepView) -> str:
    record = view.record
    kind = (record.action or {}).get("type") or "no action"
    retry = f" (retry {record.attempt})" if record.attempt else ""
    css = "step err" if record.error else "step"
    return (
        f'<section class="{css}" id="{anchor(record)}" data-index="{record.index}" data-attempt="{record.attempt}">'
        f"<h2>Step {record.index}{retry}: <code>{esc(kind)}</code></h2>"
        f'<div class="body">{_figure(view)}<div class="info">{_info(record)}</div></div></section>'
    )


def _figure(view: StepView) -> str:
    if view.image is None or view.size is None:
        what = "screenshot missing" if view.record.screenshot else "no screenshot recorded"
        return f'<div class="missing">{esc(what)}</div>'
    width, height = view.size
    shown = round(width * min(1.0, MAX_WIDTH / width, MAX_HEIGHT / height))
    screen = view.screen or view.size
    pins = "".join(
        f'<span class="pin" data-x="{x}" data-y="{y}" style="left:{100 * (x + 0.5) / width:.4f}%;'
        f'top:{100 * (y + 0.5) / height:.4f}%" title="executed at ({x}, {y})"></span>'
        for x, y in view.points
    )
    return (
        f'<figure class="shot" style="width:{shown}px">'
        f'<img src="{esc(view.image)}" alt="step {view.record.index} screenshot with its action" '
        f'data-width="{width}" data-height="{height}" data-screen-width="{screen[0]}" '
        f'data-screen-height="{screen[1]}" data-points="{esc(json.dumps(view.points))}">{pins}</figure>'
    )


def _info(record: StepRecord) -> str:
    out = []
    if record.error:
        out.append(f'<div class="error">{esc(record.error_kind or "error")}: {esc(record.error)}</div>')
    rows: list[tuple[str, str]] = []
    if record.action:
        wire = {k: v for k, v in record.action.items() if k != "space"}
        rows.append(("action", f"<code>{esc(json.dumps(wire, ensure_ascii=False))}</code>"))
    if record.pixels:
        rows.append(("executed at", esc(" -> ".join(f"({x}, {y})" for x, y in record.pixels))))
    for name, value in (("detail", record.detail), ("note", record.note), ("thought", record.thought),
                        ("memory", record.memory), ("app", record.app), ("url", record.url)):
        if value:
            rows.append((name, esc(value)))
    if record.audit:
        rows.append(("audit", esc("\n".join(record.audit))))
    usage = record.usage
    if usage.prompt_tokens or usage.completion_tokens:
        rows.append(("tokens", f"{usage.prompt_tokens:,} prompt + {usage.completion_tokens:,} completion"))
    out.append("<dl>" + "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows) + "</dl>")
    out.append(_timings(record.timings))
    out.append(_details("raw model output", record.raw_text, "raw", open_=bool(record.error)))
    if record.reasoning:
        out.append(_details("reasoning", record.reasoning, "reasoning"))
    if record.prompt_text:
        images = f"{record.prompt_images} image" + ("" if record.prompt_images == 1 else "s")
        out.append(_details(f"prompt ({images})", record.prompt_text, "prompt"))
    pairs = (("screenshot", record.screenshot), ("marked", record.marked_screenshot))
    links = [(name, path) for name, path in pairs if path and ":" not in path and not path.startswith("/")]
    if links:
        out.append("<p>originals: " + " · ".join(f'<a href="{esc(p)}">{n}</a>' for n, p in links) + "</p>")
    return "".join(out)


def _details(title: str, text: str, css: str, open_: bool = False) -> str:
    opened = " open" if open_ else ""
    return f'<details class="{css}"{opened}><summary>{esc(title)}</summary><pre>{esc(text)}</pre></details>'


def _timings(timings: dict[str, float]) -> str:
    if not timings:
        return ""
    names = [n for n in TIMING_ORDER if n in timings] + sorted(set(timings) - set(TIMING_ORDER))
    rows = [(name, timings[name]) for name in names] + [("total", sum(timings.values()))]
    cells = "".join(f'<tr><td>{esc(name)}</td><td class="v">{_ms(value)}</td></tr>' for name, value in rows)
    return f'<table class="timings">{cells}</table>'


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:,.0f} ms"
