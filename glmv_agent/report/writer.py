"""The run report: ``report.html`` (opens offline) and ``report.gif`` next to a run's ``steps.jsonl``.

The page shows the run summary and, per model call, the screenshot with its action drawn on it (annotated copies in
``report/step_NNN.png``, referenced by relative path), thought, memory, timings, errors and the raw model output.
The GIF has one frame per step (the last attempt of each step), at most 720 px on its longest side, ~1 s a frame.
Partial runs are fine: unreadable lines, missing screenshots and a missing summary are shown as such.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PIL import Image
from pydantic import ValidationError

from ..errors import ConfigError
from ..recording import RunSummary, StepRecord
from .draw import annotate, scaled_points, strip_height
from .html import StepView, render_page

log = logging.getLogger(__name__)

REPORT_DIR = "report"
GIF_SIDE = 720
GIF_CAPTION_LINES = 3
FRAME_MS = 1000
LAST_FRAME_MS = 2500
STRIP_BG = (28, 28, 32)


def load_run(run_dir: Path) -> tuple[RunSummary, list[StepRecord]]:
    """The run's summary and step records; a truncated or foreign line is skipped with a warning."""
    steps_path = Path(run_dir) / "steps.jsonl"
    if not steps_path.is_file():
        raise ConfigError(f"{run_dir} is not a run folder: it has no steps.jsonl")
    records: list[StepRecord] = []
    for number, line in enumerate(steps_path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(StepRecord.model_validate_json(line))
        except ValidationError as exc:
            log.warning("%s:%d: skipped an unreadable step (%s)", steps_path, number, exc.errors()[0]["msg"])
    return _summary(Path(run_dir), records), records


def _summary(run_dir: Path, records: list[StepRecord]) -> RunSummary:
    try:
        data = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        return RunSummary.model_validate(data)
    except (OSError, ValueError) as exc:  # ValidationError and JSONDecodeError are ValueErrors
        log.warning("%s: no usable summary.json (%s); rebuilding it from the steps", run_dir, exc)
    return RunSummary(
        task="(unknown task: summary.json is missing)", profile="?", platform="?", status="unknown",
        steps=max((r.index + 1 for r in records), default=0), model_calls=len(records),
        prompt_tokens=sum(r.usage.prompt_tokens for r in records),
        completion_tokens=sum(r.usage.completion_tokens for r in records),
    )


def write_report(run_dir: Path, *, gif: bool = True) -> Path:
    """Write ``run_dir/report.html`` (and ``run_dir/report.gif`` unless ``gif`` is False); return the page's path."""
    run_dir = Path(run_dir)
    summary, records = load_run(run_dir)
    out_dir = run_dir / REPORT_DIR
    out_dir.mkdir(exist_ok=True)
    for stale in out_dir.glob("step_*.png"):
        stale.unlink()
    views: list[StepView] = []
    frames: dict[int, Image.Image] = {}
    used: set[str] = set()
    for record in records:
        view, annotated = _render_step(run_dir, record, used)
        views.append(view)
        if annotated is not None and gif and view.screen is not None:
            frames[record.index] = gif_frame(annotated, view.screen)
    gif_path = run_dir / "report.gif"
    gif_path.unlink(missing_ok=True)
    if frames:
        write_gif([frames[i] for i in sorted(frames)], gif_path)
    page = run_dir / "report.html"
    page.write_text(render_page(summary, views, gif_path.name if gif_path.is_file() else None), encoding="utf-8")
    log.info("report written to %s", page)
    return page


def _render_step(run_dir: Path, record: StepRecord, used: set[str]) -> tuple[StepView, Image.Image | None]:
    """Annotate one record's screenshot into report/; the view says where the image and its markers are."""
    source = _source_image(run_dir, record)
    if source is None:
        return StepView(record=record), None
    annotated = annotate(source, record)
    name = f"step_{record.index:03d}" + (f"_retry{record.attempt}" if record.attempt else "")
    while f"{name}.png" in used:  # a step recorded twice with the same attempt: keep both
        name += "_"
    used.add(f"{name}.png")
    annotated.save(run_dir / REPORT_DIR / f"{name}.png", format="PNG", compress_level=3)
    view = StepView(
        record=record, image=f"{REPORT_DIR}/{name}.png", size=annotated.size, screen=source.size,
        points=scaled_points(source.size, record),
    )
    return view, annotated


def _source_image(run_dir: Path, record: StepRecord) -> Image.Image | None:
    """The screenshot to draw on: the set-of-marks one for label actions (web Click/Type), else the plain one."""
    names = [record.screenshot]
    if "label" in (record.action or {}):
        names.insert(0, record.marked_screenshot)
    for name in names:
        if not name:
            continue
        path = run_dir / name
        try:
            with Image.open(path) as image:
                image.load()
                return image.convert("RGB")
        except (OSError, ValueError) as exc:
            log.warning("step %d: cannot read %s (%s)", record.index, path, exc)
    return None


def gif_frame(annotated: Image.Image, screen: tuple[int, int]) -> Image.Image:
    """The annotated step with a caption strip of exactly GIF_CAPTION_LINES lines (so frames of one screen size
    match), scaled so its longest side is at most GIF_SIDE pixels."""
    height = screen[1] + strip_height(screen, GIF_CAPTION_LINES)
    frame = Image.new("RGB", (annotated.width, height), STRIP_BG)
    frame.paste(annotated.crop((0, 0, annotated.width, min(height, annotated.height))), (0, 0))
    scale = min(1.0, GIF_SIDE / max(frame.size))
    if scale == 1.0:
        return frame
    size = (max(1, round(frame.width * scale)), max(1, round(frame.height * scale)))
    return frame.resize(size, Image.Resampling.LANCZOS, reducing_gap=1.0)


def write_gif(frames: list[Image.Image], path: Path) -> None:
    """An animated GIF of ``frames`` (padded to one size), ~1 s each, the last one held longer, looping."""
    width = max(frame.width for frame in frames)
    height = max(frame.height for frame in frames)
    padded = []
    for frame in frames:
        canvas = Image.new("RGB", (width, height), STRIP_BG)
        canvas.paste(frame, (0, 0))
        padded.append(canvas.quantize(255, method=Image.Quantize.FASTOCTREE))
    durations = [FRAME_MS] * (len(padded) - 1) + [LAST_FRAME_MS]
    padded[0].save(path, format="GIF", save_all=True, append_images=padded[1:], duration=durations, loop=0,
                   optimize=False, disposal=1)
