"""Tk test window for the desktop tests: records every input event it sees as JSON lines.

Modes:
- ``form``: a grid of buttons (b1..b9), a text entry, a scrollable list and a drag pad, placed at ``--geometry``.
- ``pixels``: a borderless white window covering ``--geometry`` with 1-pixel red markers at ``--marker X,Y``
  (window-local coordinates); it logs every button press with its root coordinates (quick repeated clicks stay
  separate presses: no double-click binding).
- ``later``: a borderless grey window with a small "later" label; a click anywhere shows nothing at once, and
  ``--later-ms`` after it the label turns magenta (logged as ``changed``): a screen that changes a little later;
  with ``--later-repeat`` it keeps switching between magenta and green (a screen that never settles).

In ``form`` mode, Escape in the entry empties it (so one window can take many typing runs), and
``--paste-busy-ms N`` makes the window busy for N ms when ctrl+v arrives, before it fetches the clipboard (an
application slowed down by a loaded machine).

The first line is ``{"event": "ready", "widgets": {name: [root_x, root_y, width, height]}, "frame": window id}``.
A ``WM_PROTOCOLS`` client message naming ``GLMV_SYNC`` sent to that window logs ``{"event": "sync"}`` once every
event before it has been handled (``TkWindow.settle`` in tests/xvfb_support.py). Run it as
``python tests/desktop_app/app.py --log FILE [--mode form|pixels|later] [--geometry WxH+X+Y] [--marker X,Y ...]``.
"""

from __future__ import annotations

import argparse
import json
import time
import tkinter as tk
from pathlib import Path
from typing import Any, TextIO

MODIFIERS = ((0x1, "shift"), (0x4, "ctrl"), (0x8, "alt"), (0x40, "super"))
SYNC_PROTOCOL = "GLMV_SYNC"
LIST_ITEMS = 200


class EventLog:
    def __init__(self, path: Path) -> None:
        self.stream: TextIO = path.open("a", encoding="utf-8")

    def write(self, **data: Any) -> None:
        self.stream.write(json.dumps(data, ensure_ascii=False) + "\n")
        self.stream.flush()


def _name(widget: Any) -> str:
    return str(widget).rsplit(".", 1)[-1] or "root"


def _mods(state: int) -> list[str]:
    return [name for mask, name in MODIFIERS if state & mask]


class TestWindow:
    def __init__(self, root: tk.Tk, log: EventLog) -> None:
        self.root = root
        self.log = log
        self.status = tk.StringVar(root, "ready")
        self.drag_start: tuple[int, int] | None = None
        self.motions = 0
        root.bind_all("<ButtonPress>", self.on_press, add="+")
        root.bind_all("<ButtonRelease>", lambda e: self.pointer("release", e), add="+")
        root.bind_all("<KeyPress>", self.on_key, add="+")

    def sync(self) -> None:
        """The X server queued the sync message behind every input event sent before it, and Tk handles events in
        order; the idle callbacks they scheduled (the list's scroll report) run first, then the marker is logged."""
        self.root.update_idletasks()
        self.log.write(event="sync")

    def pointer(self, kind: str, event: Any) -> None:
        self.log.write(event=kind, widget=_name(event.widget), button=event.num, x=event.x_root, y=event.y_root)
        self.status.set(f"{kind} {event.num} at {event.x_root},{event.y_root}")

    def on_press(self, event: Any) -> None:
        if isinstance(event.widget, tk.Listbox):  # its class binding has scrolled it already: the row now on top
            self.log.write(event="list_top", top=event.widget.nearest(0))
        self.pointer("press", event)

    def on_key(self, event: Any) -> None:
        self.log.write(event="key", widget=_name(event.widget), keysym=event.keysym, mods=_mods(event.state))
        self.status.set(f"key {'+'.join([*_mods(event.state), event.keysym])}")

    def build_form(self, paste_busy_ms: int = 0) -> dict[str, tk.Widget]:
        root = self.root
        root.bind_all("<Double-Button-1>", lambda e: self.pointer("double", e), add="+")
        widgets: dict[str, tk.Widget] = {}
        grid = tk.Frame(root, name="grid")
        grid.grid(row=0, column=0, padx=10, pady=10, sticky="nw")
        for index in range(9):
            name = f"b{index + 1}"
            button = tk.Button(grid, name=name, text=name.upper(), width=8, height=2)
            button.grid(row=index // 3, column=index % 3, padx=4, pady=4)
            button.bind("<Enter>", lambda e: self.log.write(event="enter", widget=_name(e.widget)), add="+")
            widgets[name] = button
        text = tk.StringVar(root)
        text.trace_add("write", lambda *_: self.log.write(event="entry", text=text.get()))
        entry = tk.Entry(root, name="entry", textvariable=text, width=40, font=("WenQuanYi Zen Hei", 14))
        entry.grid(row=1, column=0, padx=10, pady=10, sticky="w")
        entry.bind("<Return>", lambda e: self.log.write(event="submit", text=text.get()), add="+")
        entry.bind("<Escape>", lambda e: text.set(""), add="+")
        if paste_busy_ms:  # widget bindings run before the Entry class binding that pastes
            entry.bind("<Control-v>", lambda e: time.sleep(paste_busy_ms / 1000), add="+")
        widgets["entry"] = entry
        widgets["list"] = self._list(root)
        pad = tk.Canvas(root, name="pad", width=360, height=160, bg="#e8f0ff", highlightthickness=0)
        pad.grid(row=3, column=0, padx=10, pady=10, sticky="w")
        pad.bind("<ButtonPress-1>", self.drag_begin, add="+")
        pad.bind("<B1-Motion>", self.drag_move, add="+")
        pad.bind("<ButtonRelease-1>", self.drag_end, add="+")
        widgets["pad"] = pad
        tk.Label(root, name="status", textvariable=self.status, width=60, anchor="w").grid(row=4, column=0, padx=10)
        return widgets

    def _list(self, root: tk.Tk) -> tk.Listbox:
        frame = tk.Frame(root, name="listframe")
        frame.grid(row=2, column=0, padx=10, sticky="w")
        scrollbar = tk.Scrollbar(frame, name="scrollbar")
        listbox = tk.Listbox(frame, name="list", height=8, width=30)

        def moved(first: str, last: str) -> None:
            scrollbar.set(first, last)
            self.log.write(event="list_view", top=listbox.nearest(0), first=float(first))
            self.status.set(f"list top {listbox.nearest(0)}")

        listbox.configure(yscrollcommand=moved)
        scrollbar.configure(command=listbox.yview)
        for index in range(LIST_ITEMS):
            listbox.insert("end", f"item {index}")
        listbox.pack(side="left")
        scrollbar.pack(side="left", fill="y")
        return listbox

    def drag_begin(self, event: Any) -> None:
        self.drag_start, self.motions = (event.x_root, event.y_root), 0

    def drag_move(self, event: Any) -> None:
        self.motions += 1

    def drag_end(self, event: Any) -> None:
        if self.drag_start is not None:
            end = [event.x_root, event.y_root]
            self.log.write(event="drag", start=list(self.drag_start), end=end, motions=self.motions)
            self.pad_line(end)
        self.drag_start = None

    def pad_line(self, end: list[int]) -> None:
        self.status.set(f"dragged to {end[0]},{end[1]}")

    def build_pixels(self, markers: list[tuple[int, int]]) -> dict[str, tk.Widget]:
        self.root.overrideredirect(True)
        surface = tk.Frame(self.root, name="surface", bg="#ffffff", bd=0, highlightthickness=0)
        surface.place(x=0, y=0, relwidth=1, relheight=1)
        for x, y in markers:
            tk.Frame(surface, width=1, height=1, bg="#ff0000", bd=0, highlightthickness=0).place(x=x, y=y)
        return {"surface": surface}

    def build_later(self, delay_ms: int, repeat: bool) -> dict[str, tk.Widget]:
        self.root.overrideredirect(True)
        surface = tk.Frame(self.root, name="surface", bg="#c0c0c0", bd=0, highlightthickness=0)
        surface.place(x=0, y=0, relwidth=1, relheight=1)
        label = tk.Label(surface, name="later", text="later", bg="#c0c0c0", bd=0, width=8)
        label.place(x=40, y=40)

        def change() -> None:
            label.configure(bg="#ff00ff" if label.cget("bg") != "#ff00ff" else "#00ff00")
            self.root.update_idletasks()
            self.log.write(event="changed", color=label.cget("bg"))
            if repeat:
                self.root.after(delay_ms, change)

        self.root.bind_all("<ButtonPress>", lambda e: self.root.after(delay_ms, change), add="+")
        return {"surface": surface, "later": label}


def _layout(widgets: dict[str, tk.Widget]) -> dict[str, list[int]]:
    return {
        name: [w.winfo_rootx(), w.winfo_rooty(), w.winfo_width(), w.winfo_height()] for name, w in widgets.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--mode", choices=("form", "pixels", "later"), default="form")
    parser.add_argument("--geometry", default="+0+0")
    parser.add_argument("--marker", action="append", default=[], help="X,Y of a red pixel (pixels mode)")
    parser.add_argument("--paste-busy-ms", type=int, default=0, help="form mode: busy time before a paste")
    parser.add_argument("--later-ms", type=int, default=300, help="delay of the change after a click (later mode)")
    parser.add_argument("--later-repeat", action="store_true", help="later mode: keep changing every --later-ms")
    args = parser.parse_args()
    root = tk.Tk(className="GlmvTest")
    root.title("glmv desktop test")
    root.geometry(args.geometry)
    window = TestWindow(root, EventLog(args.log))
    if args.mode == "form":
        widgets = window.build_form(args.paste_busy_ms)
    elif args.mode == "later":
        widgets = window.build_later(args.later_ms, args.later_repeat)
    else:
        widgets = window.build_pixels([tuple(int(v) for v in m.split(",")) for m in args.marker])  # type: ignore[misc]
    root.protocol(SYNC_PROTOCOL, window.sync)
    root.update()
    frame = int(root.wm_frame(), 16)
    root.after(50, lambda: window.log.write(event="ready", widgets=_layout(widgets), frame=frame))
    root.mainloop()


if __name__ == "__main__":
    main()
