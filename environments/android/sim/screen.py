"""The simulated phone's screen model: a home screen of app icons and a few apps (a settings list, a notes app
with a text field, buttons and a list, a secure wallet, plain placeholder apps), a soft keyboard and an IME list.
Optionally a second built-in panel (a foldable's cover screen: folded, it shows everything and the main panel is
off), a screen that can be switched off (POWER, SLEEP, WAKEUP keys), and apps that take a while to open (the opening
animation runs for ``launch_delay_s`` before the app draws its first frame).

Everything is laid out from the current logical screen size (rotation swaps width and height), so taps and
swipes are hit-tested against the same rectangles the renderer draws. Tests read the state directly: the text in
the field, what was submitted, every tap and gesture in device pixels.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from .traits import PhoneTraits

LAUNCHER = "com.android.launcher3"
LAUNCHER_ACTIVITY = "com.android.launcher3/.uioverrides.QuickstepLauncher"
LATIN_IME = "com.google.android.inputmethod.latin/com.android.inputmethod.latin.LatinIME"
ADB_IME = "com.android.adbkeyboard/.AdbIME"
WIFI_NAME = "GLMV-Home"


@dataclass(frozen=True)
class SimApp:
    name: str
    package: str
    activity: str  # full class name
    kind: str = "plain"  # settings | notes (multi-line editor) | browser (one-line field) | secure | plain

    @property
    def component(self) -> str:
        return f"{self.package}/{self.activity}"

    @property
    def short_component(self) -> str:
        """``pkg/.Activity`` when the class lives in the package (what resolve-activity --brief prints)."""
        if self.activity.startswith(self.package + "."):
            return f"{self.package}/{self.activity[len(self.package):]}"
        return self.component


APPS: tuple[SimApp, ...] = (
    SimApp("Settings", "com.android.settings", "com.android.settings.Settings", "settings"),
    SimApp("Markor", "net.gsantner.markor", "net.gsantner.markor.activity.MainActivity", "notes"),
    SimApp("Chrome", "com.android.chrome", "com.google.android.apps.chrome.Main", "browser"),
    SimApp("Clock", "com.google.android.deskclock", "com.android.deskclock.DeskClock"),
    SimApp("Contacts", "com.google.android.contacts", "com.android.contacts.activities.PeopleActivity"),
    SimApp("微信", "com.tencent.mm", "com.tencent.mm.ui.LauncherUI"),
    SimApp("Wallet", "com.example.wallet", "com.example.wallet.PayActivity", "secure"),
)
SYSTEM_PACKAGES = ("android", "com.android.systemui", LAUNCHER, "com.google.android.inputmethod.latin")
SETTINGS_ITEMS = (
    "Wi-Fi", "Bluetooth", "Connected devices", "Apps", "Notifications", "Battery", "Storage", "Sound",
    "Display", "Wallpaper", "Accessibility", "Security", "Privacy", "Location", "Safety", "Passwords",
    "Digital wellbeing", "Google", "System", "About phone",
)
START_NOTES = (
    "Shopping list", "Meeting notes", "Books to read", "Holiday plans", "Recipes", "Workout", "Gift ideas",
    "Passwords hint", "Movies", "Quotes", "Garden", "Car service", "Budget", "Packing list", "Ideas",
)
KEY_NAMES = {
    "HOME": 3, "BACK": 4, "TAB": 61, "SPACE": 62, "ENTER": 66, "DEL": 67, "ESCAPE": 111, "FORWARD_DEL": 112,
    "CTRL_LEFT": 113, "MOVE_HOME": 122, "MOVE_END": 123, "A": 29, "V": 50, "PASTE": 279, "APP_SWITCH": 187,
    "POWER": 26, "SLEEP": 223, "WAKEUP": 224,
}


@dataclass(frozen=True)
class Element:
    kind: str  # icon | title | item | field | button | text | keyboard
    key: str
    rect: tuple[int, int, int, int]
    label: str = ""
    detail: str = ""

    def contains(self, x: int, y: int) -> bool:
        x1, y1, x2, y2 = self.rect
        return x1 <= x < x2 and y1 <= y < y2


@dataclass(frozen=True)
class Gesture:
    x1: int
    y1: int
    x2: int
    y2: int
    duration_ms: int


@dataclass
class PhoneState:
    """Everything the phone remembers; guarded by ``lock`` (commands arrive on several threads)."""

    width: int  # natural orientation, of the panel that is in use
    height: int
    rotation: int = 0
    panels: list[tuple[int, int]] = field(default_factory=list)  # built-in panels, natural sizes
    active_panel: int = 0  # the panel that is on (a folded foldable uses its cover screen, panel 1)
    screen_on: bool = True
    launch_delay_s: float = 0.0  # opening animation before an app draws its first frame
    launch_started: float = 0.0  # time.monotonic() of the last launch
    foreground: str = LAUNCHER
    keyboard_shown: bool = False
    focused: bool = False
    selected_all: bool = False
    fields: dict[str, str] = field(default_factory=dict)
    submitted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=lambda: list(START_NOTES))
    scroll: dict[str, int] = field(default_factory=dict)
    wifi: bool = False
    taps: list[tuple[int, int]] = field(default_factory=list)
    gestures: list[Gesture] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    launches: list[str] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)
    ime_current: str = LATIN_IME
    ime_enabled: list[str] = field(default_factory=lambda: [LATIN_IME])
    ime_installed: list[str] = field(default_factory=lambda: [LATIN_IME])
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def size(self) -> tuple[int, int]:
        """Logical (current orientation) width and height: screenshots and input coordinates use these."""
        return (self.height, self.width) if self.rotation % 2 else (self.width, self.height)

    @property
    def app(self) -> SimApp | None:
        return next((a for a in APPS if a.package == self.foreground), None)

    @property
    def field_text(self) -> str:
        """Text in the current app's field ('' when it has none)."""
        return self.fields.get(self.foreground, "")


class Phone:
    """Screen model plus the operations the shell commands perform."""

    def __init__(self, size: tuple[int, int] = (1080, 2400), rotation: int = 0, adb_keyboard: bool = False,
                 traits: PhoneTraits | None = None) -> None:
        self.state = PhoneState(width=size[0], height=size[1], rotation=rotation % 4, panels=[size])
        self._list_top = 0
        if adb_keyboard:
            self.state.ime_installed.append(ADB_IME)
        self.set_traits(traits or PhoneTraits())

    def set_traits(self, traits: PhoneTraits) -> None:
        """Give the phone ``traits`` (replacing earlier ones): a second display, folded or not; slow launches."""
        with self.state.lock:
            main = self.state.panels[0]
            self.state.panels = [main, *([traits.second_display] if traits.second_display else [])]
            self.state.launch_delay_s = traits.launch_delay_s
            self.state.active_panel = 0
            self.state.width, self.state.height = main
            if traits.folded:
                self.fold()

    # --- displays -------------------------------------------------------------------------------------------
    def fold(self, folded: bool = True) -> None:
        """Fold (the cover screen, panel 1, takes over; the main panel goes off) or unfold the phone."""
        with self.state.lock:
            if len(self.state.panels) < 2:
                raise ValueError("only a phone with a second display can fold")
            self.state.active_panel = 1 if folded else 0
            self.state.width, self.state.height = self.state.panels[self.state.active_panel]

    def panel_on(self, index: int) -> bool:
        return self.state.screen_on and index == self.state.active_panel

    def launch_progress(self) -> float | None:
        """How far the opening animation of the app in front has run (0..1), None when the app is drawn."""
        delay = self.state.launch_delay_s
        if delay <= 0 or self.state.app is None:
            return None
        progress = (time.monotonic() - self.state.launch_started) / delay
        return progress if progress < 1 else None

    # --- layout ---------------------------------------------------------------------------------------------
    def unit(self) -> int:
        return max(8, min(self.state.size) // 20)

    def keyboard_rect(self) -> tuple[int, int, int, int] | None:
        if not self.state.keyboard_shown:
            return None
        w, h = self.state.size
        return 0, int(h * (0.62 if h > w else 0.5)), w, h

    def content_bottom(self) -> int:
        rect = self.keyboard_rect()
        return rect[1] if rect else self.state.size[1]

    def layout(self) -> list[Element]:
        with self.state.lock:
            app = self.state.app
            if app is None:
                return self._home()
            return self._app_screen(app)

    def _home(self) -> list[Element]:
        w, _h = self.state.size
        u = self.unit()
        cols = max(4, w // (5 * u))
        cell = w // cols
        top = 3 * u
        elements = []
        for index, app in enumerate(APPS):
            row, col = divmod(index, cols)
            x, y = col * cell, top + row * (cell + u)
            elements.append(Element("icon", app.package, (x, y, x + cell, y + cell + u), app.name))
        return elements

    def _app_screen(self, app: SimApp) -> list[Element]:
        w, _h = self.state.size
        u = self.unit()
        top = int(1.2 * u)
        elements = [Element("title", app.package, (0, top, w, top + int(2.6 * u)), app.name)]
        y = top + int(2.6 * u) + u
        if app.kind in ("notes", "secure", "browser"):
            label = {"notes": "Type a note", "secure": "Password", "browser": "Search or type URL"}[app.kind]
            elements.append(Element("field", "field", (u, y, w - u, y + int(2.6 * u)), label, self.state.field_text))
            y += int(2.6 * u) + u // 2
        if app.kind in ("notes", "secure"):
            names = ("Save", "Clear") if app.kind == "notes" else ("Pay",)
            bw = (w - 2 * u - (len(names) - 1) * u) // len(names)
            for i, name in enumerate(names):
                x = u + i * (bw + u)
                elements.append(Element("button", name.lower(), (x, y, x + bw, y + int(2.2 * u)), name))
            y += int(2.2 * u) + u
        if app.kind == "settings":
            elements += self._list(SETTINGS_ITEMS, y, app.package)
        elif app.kind == "notes":
            elements += self._list(tuple(self.state.notes), y, app.package)
        elif app.kind == "plain":
            elements.append(Element("text", "body", (u, y, w - u, y + 2 * u), f"This is {app.name}."))
        elif app.kind == "browser" and self.state.submitted:
            results = f"Results for: {self.state.submitted[-1]}"
            elements.append(Element("text", "body", (u, y, w - u, y + 2 * u), results))
        return elements

    def list_region(self) -> tuple[int, int, int, int] | None:
        items = [e for e in self.layout() if e.kind == "item"]
        if not items:
            return None
        w = self.state.size[0]
        return 0, self._list_top, w, self.content_bottom()

    def _list(self, labels: tuple[str, ...], top: int, package: str) -> list[Element]:
        w = self.state.size[0]
        u = self.unit()
        item_h = int(2.8 * u)
        self._list_top = top
        bottom = self.content_bottom()
        offset = self.state.scroll.get(package, 0)
        elements = []
        for index, label in enumerate(labels):
            y = top + index * item_h - offset
            if y + item_h <= top or y >= bottom:
                continue
            detail = ""
            if label == "Wi-Fi":
                detail = f"On - connected to {WIFI_NAME}" if self.state.wifi else "Off"
            elements.append(Element("item", label, (0, y, w, y + item_h), label, detail))
        return elements

    def max_scroll(self, package: str) -> int:
        count = len(SETTINGS_ITEMS) if package == "com.android.settings" else len(self.state.notes)
        self.layout()
        visible = self.content_bottom() - self._list_top
        return max(0, count * int(2.8 * self.unit()) - visible)

    # --- input ----------------------------------------------------------------------------------------------
    def tap(self, x: int, y: int) -> None:
        with self.state.lock:
            self.state.taps.append((x, y))
            keyboard = self.keyboard_rect()
            if keyboard and keyboard[1] <= y:
                return  # taps on the soft keyboard do not reach the app
            hit = next((e for e in self.layout() if e.contains(x, y)), None)
            if hit is not None:
                self._activate(hit)

    def _activate(self, element: Element) -> None:
        state = self.state
        if element.kind == "icon":
            self.launch(element.key)
        elif element.kind == "field":
            state.focused, state.keyboard_shown, state.selected_all = True, True, False
        elif element.kind == "button" and element.key == "save":
            self.submit()
        elif element.kind == "button" and element.key == "clear":
            state.fields[state.foreground] = ""
        elif element.kind == "item" and element.key == "Wi-Fi":
            state.wifi = not state.wifi

    def swipe(self, gesture: Gesture) -> None:
        with self.state.lock:
            self.state.gestures.append(gesture)
            region = self.list_region()
            if region is None or not (region[1] <= gesture.y1 < region[3]):
                return
            package = self.state.foreground
            offset = self.state.scroll.get(package, 0) + (gesture.y1 - gesture.y2)  # content follows the finger
            self.state.scroll[package] = max(0, min(self.max_scroll(package), offset))

    def launch(self, package: str) -> bool:
        with self.state.lock:
            app = next((a for a in APPS if a.package == package), None)
            if app is None:
                return False
            self.state.launches.append(app.component)
            if self.state.foreground != package:
                self.state.launch_started = time.monotonic()
            self.state.foreground = package
            self.state.focused = self.state.keyboard_shown = self.state.selected_all = False
            return True

    def go_home(self) -> None:
        self.state.foreground = LAUNCHER
        self.state.focused = self.state.keyboard_shown = self.state.selected_all = False

    def key(self, code: int) -> None:
        with self.state.lock:
            state = self.state
            state.keys.append(code)
            if code in (KEY_NAMES["POWER"], KEY_NAMES["SLEEP"], KEY_NAMES["WAKEUP"]):
                state.screen_on = code == KEY_NAMES["WAKEUP"] or (code == KEY_NAMES["POWER"] and not state.screen_on)
            elif code == KEY_NAMES["HOME"]:
                self.go_home()
            elif code in (KEY_NAMES["BACK"], KEY_NAMES["ESCAPE"]):
                if state.keyboard_shown:
                    state.keyboard_shown = False
                elif code == KEY_NAMES["BACK"]:
                    self.go_home()
            elif not state.focused:
                return
            elif code == KEY_NAMES["ENTER"]:
                self._enter()
            elif code in (KEY_NAMES["DEL"], KEY_NAMES["FORWARD_DEL"]):
                text = state.field_text
                state.fields[state.foreground] = "" if state.selected_all else text[:-1]
                state.selected_all = False
            elif code in (KEY_NAMES["MOVE_END"], KEY_NAMES["MOVE_HOME"]):
                state.selected_all = False
            elif code == KEY_NAMES["TAB"]:
                self._insert("\t")

    def select_all(self) -> None:
        with self.state.lock:
            if self.state.focused:
                self.state.selected_all = True

    def commit(self, text: str) -> bool:
        """Text from `input text` or the IME into the focused field; False when nothing has focus."""
        with self.state.lock:
            if not self.state.focused:
                return False
            self._insert(text)
            self.state.typed.append(text)
            return True

    def _insert(self, text: str) -> None:
        state = self.state
        base = "" if state.selected_all else state.field_text
        state.fields[state.foreground] = base + text
        state.selected_all = False

    def _enter(self) -> None:
        """Enter adds a line in the notes editor (multi-line) and submits one-line fields."""
        app = self.state.app
        if app is not None and app.kind == "notes":
            self._insert("\n")
        else:
            self.submit()

    def clear_field(self) -> None:
        with self.state.lock:
            if self.state.focused:
                self.state.fields[self.state.foreground] = ""
                self.state.selected_all = False

    def submit(self) -> None:
        state = self.state
        text = state.field_text
        state.submitted.append(text)
        if state.app is not None and state.app.kind == "notes" and text:
            state.notes.insert(0, text)

    @property
    def secure(self) -> bool:
        app = self.state.app
        return app is not None and app.kind == "secure"
