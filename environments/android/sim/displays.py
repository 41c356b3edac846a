"""The simulated phone's displays as Android reports and captures them: ``dumpsys display`` (one
``DisplayDeviceInfo`` per built-in panel with its ``uniqueId="local:<physical id>"`` and power ``state``, and the
logical display 0 on the panel in use), ``dumpsys SurfaceFlinger --display-id`` and ``screencap [-p] [-d ID]``.

As on Android 14+, ``screencap`` without ``-d`` on a phone with several panels warns on stderr and captures the
first panel, which on a folded foldable is the main panel, switched off: a black frame.
"""

from __future__ import annotations

from .render import render, render_png
from .screen import Phone
from .transport import ServiceResult

FIRST_PHYSICAL_ID = 4619827259835644672  # what an emulator's first panel is called
MULTIPLE_DISPLAYS_WARNING = (
    "[Warning] Multiple displays were found, but no display id was specified! Defaulting to the first display "
    "found, however this default is not guaranteed to be consistent across captures. A display id should be "
    "specified.\nA display ID can be specified with the [-d display-id] option.\n"
    'See "dumpsys SurfaceFlinger --display-id" for valid display IDs.\n'
)


def physical_id(panel: int) -> int:
    return FIRST_PHYSICAL_ID + panel


def _state(phone: Phone, panel: int) -> str:
    return "ON" if phone.panel_on(panel) else "OFF"


def _device(phone: Phone, panel: int) -> str:
    width, height = phone.state.panels[panel]
    ident = physical_id(panel)
    stack = 0 if panel == phone.state.active_panel else -1
    flags = ("FLAG_ALLOWED_TO_BE_DEFAULT_DISPLAY, FLAG_ROTATES_WITH_CONTENT, FLAG_SECURE, "
             "FLAG_SUPPORTS_PROTECTED_BUFFERS")
    return (
        f"  DisplayDevice:\n    mAdapter=LocalDisplayAdapter\n    mUniqueId=local:{ident}\n"
        f"    mDisplayToken=android.os.BinderProxy@{0x7c6f1a2 + panel:x}\n    mCurrentLayerStack={stack}\n"
        f"    mPhysicalDisplayId={ident}\n"
        f'    mInfo=DisplayDeviceInfo{{"Built-in Screen": uniqueId="local:{ident}", {width} x {height}, modeId 1, '
        f"renderFrameRate 60.0, defaultModeId 1, density 420, 420.0 x 420.0 dpi, appVsyncOff 1000000, "
        f"presDeadline 16666666, touch INTERNAL, rotation 0, type INTERNAL, address {{port={panel}, "
        f"model=0x401cec6a7a2b7b}}, deviceProductInfo null, state {_state(phone, panel)}, "
        f"committedState {_state(phone, panel)}, {flags}}}\n"
    )


def _logical(phone: Phone) -> str:
    panel = phone.state.active_panel
    width, height = phone.state.size
    state = _state(phone, panel)
    return (
        "Logical Displays: size=1\n  Display 0:\n    mDisplayId=0\n    mIsEnabled=true\n    mLayerStack=0\n"
        "    mPrimaryDisplayDevice=Built-in Screen\n"
        f'    mBaseDisplayInfo=DisplayInfo{{"Built-in Screen", displayId 0", displayGroupId 0, FLAG_SECURE, '
        f"FLAG_SUPPORTS_PROTECTED_BUFFERS, FLAG_TRUSTED, real {width} x {height}, largest app {width} x {height}, "
        f"smallest app {width} x {height}, rotation {phone.state.rotation}, state {state}, committedState {state}, "
        f'type INTERNAL, uniqueId "local:{physical_id(panel)}", app {width} x {height}, density 420 '
        f"(420.0 x 420.0) dpi, layerStack 0}}\n"
    )


def dumpsys_display(phone: Phone) -> str:
    """An excerpt of ``dumpsys display`` in Android 13's layout."""
    with phone.state.lock:
        count = len(phone.state.panels)
        devices = "".join(_device(phone, panel) for panel in range(count))
        return (
            "DISPLAY MANAGER (dumpsys display)\n  mSafeMode=false\n  mPendingTraversal=false\n\n"
            f"Display Adapters: size=1\n  LocalDisplayAdapter\n\nDisplay Devices: size={count}\n{devices}\n"
            + _logical(phone)
        )


def surfaceflinger_ids(phone: Phone) -> str:
    """``dumpsys SurfaceFlinger --display-id``: one line per physical display."""
    return "".join(
        f'Display {physical_id(panel)} (HWC display {panel}): port={panel} pnpId=GGL displayName="Built-in Screen"\n'
        for panel in range(len(phone.state.panels))
    )


def screencap(phone: Phone, args: list[str]) -> ServiceResult:
    """``screencap [-p] [-d ID] [FILE]``: PNG with -p (or a .png name), else the raw 12-byte-header format."""
    panels = len(phone.state.panels)
    warning = b""
    panel = 0
    if "-d" in args:
        index = args.index("-d")
        value = args[index + 1] if index + 1 < len(args) else ""
        if not value.isdigit():
            return ServiceResult(stderr=b"Invalid display ID: Out of range [0, 2^64).\n", exit_code=1)
        panel = int(value) - FIRST_PHYSICAL_ID
        if not 0 <= panel < panels:
            return ServiceResult(stderr=b"Capturing failed.\n", exit_code=1)
    elif panels > 1:
        warning = MULTIPLE_DISPLAYS_WARNING.encode()
    if "-p" in args or any(a.endswith(".png") for a in args):
        return ServiceResult(render_png(phone, panel), warning)
    image = render(phone, panel).convert("RGBA")
    width, height = image.size
    header = width.to_bytes(4, "little") + height.to_bytes(4, "little") + (1).to_bytes(4, "little")
    return ServiceResult(header + image.tobytes(), warning)
