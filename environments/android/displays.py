"""Which of the phone's displays to capture: foldables and phones with a rear screen have several.

Read from ``dumpsys display``: one ``DisplayDeviceInfo{"NAME": uniqueId="local:<physical id>", W x H, ...,
state ON|OFF|DOZE|..., ...}`` per built-in panel (the physical id is what ``screencap -d`` takes), and per logical
display a ``DisplayInfo{"NAME", displayId N", ..., uniqueId "local:<physical id>", ...}`` line (N is what
``input -d`` and ``wm size -d`` take). Without ``-d``, ``screencap`` captures the first panel, which on a folded
foldable is the main panel, switched off: a black frame.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from glmv_agent.errors import ConfigError

DISPLAY_QUERY = "dumpsys display | grep -E 'DisplayDeviceInfo|DisplayInfo'"
_DEVICE = re.compile(r'DisplayDeviceInfo\{"(?P<name>[^"]*)": uniqueId="local:(?P<id>\d+)", (?P<w>\d+) x (?P<h>\d+)'
                     r"(?P<rest>[^\n]*)")
_LOGICAL = re.compile(r'DisplayInfo\{"[^"]*", displayId (?P<logical>\d+)[^\n]*?uniqueId "local:(?P<id>\d+)"')
_STATE = re.compile(r"\bstate (\w+)")
ON_STATES = frozenset({"ON", "VR", "ON_SUSPEND"})
OFF_STATES = frozenset({"OFF", "DOZE", "DOZE_SUSPEND"})  # dozing: the always-on clock, not the apps


class Display(BaseModel):
    """One built-in panel as ``dumpsys display`` reports it."""

    physical_id: int  # for screencap -d
    name: str
    size: tuple[int, int]  # natural orientation, pixels
    state: str = "UNKNOWN"  # Display.stateToString: ON, OFF, DOZE, DOZE_SUSPEND, VR, ON_SUSPEND, UNKNOWN
    logical_id: int | None = None  # the logical display it shows (input -d); None: none

    @property
    def on(self) -> bool:
        return self.state in ON_STATES

    @property
    def off(self) -> bool:
        return self.state in OFF_STATES

    def describe(self) -> str:
        logical = f", logical display {self.logical_id}" if self.logical_id is not None else ""
        return f"{self.physical_id} ({self.name}, {self.size[0]}x{self.size[1]}, {self.state.lower()}{logical})"


def parse_displays(text: str) -> list[Display]:
    """The physical displays in ``dumpsys display`` output, in its order, each once."""
    logical = {int(m.group("id")): int(m.group("logical")) for m in _LOGICAL.finditer(text)}
    found: dict[int, Display] = {}
    for match in _DEVICE.finditer(text):
        ident = int(match.group("id"))
        if ident in found:
            continue
        state = _STATE.search(match.group("rest"))
        found[ident] = Display(physical_id=ident, name=match.group("name"),
                               size=(int(match.group("w")), int(match.group("h"))),
                               state=state.group(1) if state else "UNKNOWN", logical_id=logical.get(ident))
    return list(found.values())


def choose(displays: list[Display], wanted: int | None = None) -> Display | None:
    """The display to capture: ``wanted`` (a physical id, else a logical id; ConfigError when the phone has no
    such display), else the one that is on (the default display first) when there are several, else None
    (one display: plain ``screencap`` captures it)."""
    if wanted is not None:
        match = next((d for d in displays if d.physical_id == wanted), None)
        match = match or next((d for d in displays if d.logical_id == wanted), None)
        if match is None and displays:
            listed = "; ".join(d.describe() for d in displays)
            raise ConfigError(f"--display {wanted}: the phone has no such display; its displays: {listed}")
        return match
    if len(displays) < 2:
        return None
    ranked = sorted(displays, key=lambda d: (not d.on, d.logical_id != 0))
    return ranked[0]
