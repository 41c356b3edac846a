"""Files crossing the browser's edge: downloads saved to a folder, and uploads through file pickers.

Chromium announces a download (Playwright's ``download`` event) only once the server has answered, which may come
after the next screenshot. So the pages count the clicks on download links (:data:`DOWNLOAD_WATCH_JS`), and each
observation waits for as many downloads as were clicked before it reports them (:class:`Downloads`).

A page that opens a file picker (a click on ``<input type=file>``, or a script calling ``input.click()``) does not
get a native dialog: Playwright hands us the chooser and the model is told in the next observation. It attaches
files by typing their names (set-of-marks: ``Type [n]; [name]`` into the element the note names; pixel mode:
``type(content='name')`` while the picker is open), and only files inside the folder the user allowed
(``--files DIR``) can be attached: a name outside it (``..``, an absolute path, a link that leads out) or with no
folder allowed is refused with the reason, and nothing is attached.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Download, ElementHandle, FileChooser, Locator, Page
from playwright.sync_api import Error as PlaywrightError

from glmv_agent.errors import StepError

from .js import MARK_ATTR

log = logging.getLogger(__name__)
MAX_LISTED = 20  # file names a note lists

# Each click on a same-origin (or data:) link with a download attribute, anchor or image-map area, in or under a
# shadow root; whether the page cancelled it is read once its dispatch is over (DOWNLOAD_CLICKS_JS).
_WATCH = """if (!window.__glmvDownloadWatch) {
  window.__glmvDownloadWatch = true;
  window.__glmvDownloadClicks = [];
  addEventListener('click', (event) => {
    const link = event.composedPath().find((n) => n instanceof HTMLAnchorElement || n instanceof HTMLAreaElement);
    if (!link || !link.hasAttribute('download') || !link.href) return;
    const url = new URL(link.href);
    if (url.origin === location.origin || url.protocol === 'data:') window.__glmvDownloadClicks.push(event);
  }, true);
}"""
DOWNLOAD_WATCH_JS = f"(() => {{ {_WATCH} }})();"  # an init script: every document of the context, every frame
# The download clicks in this document since the last call that the page let through (installs the watch if needed).
DOWNLOAD_CLICKS_JS = f"""() => {{ {_WATCH}
  const clicks = window.__glmvDownloadClicks;
  window.__glmvDownloadClicks = [];
  return clicks.filter((event) => !event.defaultPrevented).length;
}}"""


class FilePicker:
    """The file chooser the page opened last (if any) and the folder files may come from (None: none may)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.chooser: FileChooser | None = None
        self.trigger: ElementHandle | None = None  # the element whose click opened it (set-of-marks)
        self.pressed: Locator | None = None  # what the running set-of-marks action presses

    def opened(self, chooser: FileChooser) -> None:
        """Playwright's ``filechooser`` event: keep the chooser and the element pressed to open it (found now,
        while it still carries the label the model saw)."""
        self.chooser, self.trigger = chooser, None
        if self.pressed is not None:
            try:
                self.trigger = self.pressed.element_handle(timeout=1000)
            except PlaywrightError as exc:
                log.debug("the element that opened a file picker is gone: %s", exc)

    def clear(self) -> None:
        self.chooser, self.trigger = None, None

    def listing(self) -> str:
        if self.folder is None:
            return ""
        names = sorted(p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*")
                       if p.is_file() and not any(part.startswith(".") for part in p.relative_to(self.folder).parts))
        more = f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
        return (", ".join(names[:MAX_LISTED]) + more) if names else "(none)"

    def note(self, label: int | None, pixel_mode: bool) -> str | None:
        """What the model is told while a picker is open; a picker with no folder allowed is dropped after this."""
        if self.chooser is None:
            return None
        if self.folder is None:
            self.clear()
            return "A file picker opened, but this run may not attach files (the user allowed no folder)."
        what = "several files" if self.chooser.is_multiple() else "one file"
        accept = _accept(self.chooser)
        if pixel_mode:
            how = "type its name: type(content='name')"
        elif label is None:
            how = "click the element that opened it again when it shows, then type the file name into it"
        else:
            how = f"type its name into [{label}]: Type [{label}]; [name]"
        return (f"A file picker is open ({what}{accept}). To attach a file from the folder the user allowed, {how}"
                f"{' (names separated by commas)' if self.chooser.is_multiple() else ''}. "
                f"Files there: {self.listing()}.")

    def resolve(self, text: str, multiple: bool) -> list[Path]:
        """The files ``text`` names inside the allowed folder; StepError with the reason otherwise."""
        if self.folder is None:
            raise StepError("attaching files is not allowed in this run: the user allowed no folder (--files DIR); "
                            "nothing was attached")
        root = self.folder.resolve()
        wanted = text.strip().strip("'\"")
        names = [wanted] if (root / wanted).is_file() else [n.strip().strip("'\"") for n in wanted.split(",")]
        names = [name for name in names if name]
        if not names:
            raise StepError(f"no file name given; files you may attach: {self.listing()}")
        if len(names) > 1 and not multiple:
            raise StepError("this file picker takes one file; nothing was attached")
        paths = []
        for name in names:
            path = (root / name).resolve()
            if not path.is_relative_to(root):
                raise StepError(f"{name} is outside the folder the user allowed for uploads ({self.folder}); "
                                f"nothing was attached. Files there: {self.listing()}")
            if not path.is_file():
                raise StepError(f"there is no file {name} in the folder the user allowed ({self.folder}); "
                                f"files there: {self.listing()}")
            paths.append(path)
        return paths

    def attach(self, text: str, field: Locator | None = None) -> str:
        """Attach the named files to ``field`` (an ``<input type=file>``) or else to the open picker; the detail."""
        if field is None and self.chooser is None:
            raise StepError("no file picker is open; click the upload button first")
        multiple = field.evaluate("(el) => el.multiple") if field is not None else self.chooser.is_multiple()
        paths = self.resolve(text, bool(multiple))
        try:
            if field is not None:
                field.set_input_files(paths)
            else:
                self.chooser.set_files(paths)
        except PlaywrightError as exc:
            raise StepError(f"the file picker is gone (the page changed): {exc.message.splitlines()[0]}") from None
        finally:
            self.clear()
        sizes = ", ".join(f"{path.name} ({path.stat().st_size} bytes)" for path in paths)
        return f"attached {sizes}"


def _accept(chooser: FileChooser) -> str:
    try:
        accept = chooser.element.get_attribute("accept")
    except PlaywrightError:
        return ""
    return f", accepts {accept}" if accept else ""


class Downloads:
    """The downloads a tab starts, saved into ``folder`` (a new temporary folder when None) and reported as notes.

    :meth:`expect_from` counts the download links clicked in a tab; :meth:`notes` first waits (up to ``timeout_s``
    seconds for all of them) until that many downloads have begun, so a click's download is reported in the very
    next observation, however slowly the server answers."""

    def __init__(self, folder: Path | None, timeout_s: float) -> None:
        self.folder = folder
        self.timeout_s = timeout_s
        self.begun: list[Download] = []  # Playwright's download events not yet saved
        self.expected = 0  # downloads the clicks counted so far ask for
        self.page: Page | None = None  # the tab those clicks were in

    def began(self, download: Download) -> None:
        """Playwright's ``download`` event (any tab)."""
        self.begun.append(download)

    def expect_from(self, page: Page) -> None:
        """Count the clicks on download links in every frame of ``page`` since the last call."""
        clicks = 0
        for frame in page.frames:
            if frame.is_detached():
                continue
            try:
                clicks += int(frame.evaluate(DOWNLOAD_CLICKS_JS))
            except PlaywrightError as exc:  # a frame that went away or is navigating: no download from it
                log.debug("download clicks unreadable in %s: %s", frame.url, exc)
        if clicks:
            self.expected, self.page = self.expected + clicks, page

    def notes(self) -> list[str]:
        """Wait for the downloads that were clicked, save every download begun so far: a note for each."""
        missing = self._await()
        notes = []
        if missing:
            what = "A download link was clicked" if missing == 1 else f"{missing} download links were clicked"
            notes.append(f"{what}, but no download began within {self.timeout_s:g} s.")
        while self.begun:
            self.folder, note = save_download(self.begun.pop(0), self.folder)
            notes.append(note)
        return notes

    def _await(self) -> int:
        """Wait on the clicked tab until as many downloads have begun as were clicked; how many did not."""
        deadline = time.monotonic() + self.timeout_s
        while len(self.begun) < self.expected and self.page is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                self.page.wait_for_event("download", timeout=remaining * 1000)  # began() has it before this returns
            except PlaywrightError as exc:  # the time is up, or the tab closed (its downloads were cancelled)
                log.debug("waiting for a download: %s", exc)
                break
        missing = max(0, self.expected - len(self.begun))
        self.expected, self.page = 0, None
        return missing


def save_download(download: Download, folder: Path | None) -> tuple[Path | None, str]:
    """Save ``download`` into ``folder`` (a new temporary folder when None) under a free name:
    (the folder used, the note for the model)."""
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="glmv-downloads-"))
    folder.mkdir(parents=True, exist_ok=True)
    target = free_name(folder, download.suggested_filename or "download")
    try:
        download.save_as(target)
    except PlaywrightError as exc:
        first = (exc.message or str(exc)).strip().splitlines()[0]
        return folder, f"The download of {download.suggested_filename} failed: {first}."
    return folder, f"Downloaded {download.suggested_filename} ({target.stat().st_size} bytes), saved as {target}."


def free_name(folder: Path, name: str) -> Path:
    name = Path(name).name or "download"
    target = folder / name
    stem, suffix, number = target.stem, target.suffix, 1
    while target.exists():
        target = folder / f"{stem}-{number}{suffix}"
        number += 1
    return target


def picker_label(picker: FilePicker, targets: list[Any]) -> int | None:
    """The label, in this observation, of the open picker's file input, else of the element that opened it."""
    if picker.chooser is None or not targets:
        return None
    labels = {target.mark: label for label, target in enumerate(targets)}
    for handle in (picker.chooser.element, picker.trigger):
        if handle is None:
            continue
        try:
            mark = handle.get_attribute(MARK_ATTR)
        except PlaywrightError:
            continue
        if mark in labels:
            return labels[mark]
    return None
