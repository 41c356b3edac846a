"""The Android programs the simulated phone answers: input, am, monkey, pm, cmd, dumpsys, wm, ime, settings,
screencap, getprop. Output formats and failure texts follow AOSP's, so the environment parses the same strings
it would get from a phone.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable

from .displays import dumpsys_display, screencap, surfaceflinger_ids
from .screen import (
    ADB_IME,
    APPS,
    KEY_NAMES,
    LAUNCHER,
    LAUNCHER_ACTIVITY,
    SYSTEM_PACKAGES,
    Gesture,
    Phone,
    SimApp,
)
from .transport import ServiceResult

PROPS = {
    "ro.build.version.sdk": "34", "ro.build.version.release": "14", "ro.product.model": "GLMV_Simulated_Phone",
    "ro.product.manufacturer": "glmv", "ro.product.name": "glmv_sim",
}
ADB_KEYBOARD_PACKAGE = "com.android.adbkeyboard"
RESOLVE_HEAD = "priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=false\n"
TEXT_FAILURE = (
    "Exception occurred while executing 'text':\n"
    "java.lang.NullPointerException: Attempt to get length of null array\n"
)


def ok(text: str = "") -> ServiceResult:
    return ServiceResult(text.encode())


def fail(text: str, code: int = 1) -> ServiceResult:
    return ServiceResult(stderr=text.encode(), exit_code=code)


def keycode(name: str) -> int | None:
    if name.isdigit():
        return int(name)
    return KEY_NAMES.get(name.upper().removeprefix("KEYCODE_"))


def android_text(text: str) -> str:
    """What InputShellCommand.sendText makes of its argument: ``%s`` becomes a space, nothing else is special."""
    out: list[str] = []
    escape = False
    for char in text:
        if escape and char == "s":
            out[-1] = " "
            escape = False
            continue
        escape = char == "%"
        out.append(char)
    return "".join(out)


class Programs:
    """Dispatches argv to the phone; ``decoded`` collects the text each command delivered (for the log)."""

    def __init__(self, phone: Phone) -> None:
        self.phone = phone
        self.decoded: list[str] = []
        self.wait_until = 0.0  # `am start -W`: time.monotonic() at which the launch completes
        self.table: dict[str, Callable[[list[str]], ServiceResult]] = {
            "input": self.input, "am": self.am, "monkey": self.monkey, "pm": self.pm, "cmd": self.cmd,
            "dumpsys": self.dumpsys, "wm": self.wm, "ime": self.ime, "settings": self.settings,
            "screencap": self.screencap, "getprop": self.getprop,
        }

    def __call__(self, argv: list[str], stdin: bytes) -> ServiceResult:
        program = self.table.get(argv[0].rsplit("/", 1)[-1])
        if program is None:
            return fail(f"/system/bin/sh: {argv[0]}: inaccessible or not found\n", 127)
        with self.phone.state.lock:
            result = program(argv[1:])
        if self.wait_until:  # outside the lock: the phone keeps answering while `am start -W` waits
            time.sleep(max(0.0, self.wait_until - time.monotonic()))
            self.wait_until = 0.0
        return result

    # --- input ----------------------------------------------------------------------------------------------
    def input(self, args: list[str]) -> ServiceResult:
        if args and args[0] in ("touchscreen", "keyboard", "mouse", "touchpad", "dpad", "stylus", "gamepad"):
            args = args[1:]
        if len(args) >= 2 and args[0] == "-d":
            args = args[2:]
        if not args:
            return fail("Usage: input [<source>] [-d DISPLAY_ID] <command> [<arg>...]\n")
        command, rest = args[0], args[1:]
        try:
            if command == "tap" and len(rest) == 2:
                self.phone.tap(*(round(float(v)) for v in rest))
                return ok()
            if command in ("swipe", "draganddrop") and len(rest) in (4, 5):
                x1, y1, x2, y2 = (round(float(v)) for v in rest[:4])
                self.phone.swipe(Gesture(x1, y1, x2, y2, int(rest[4]) if len(rest) == 5 else 300))
                return ok()
        except ValueError:
            return fail(f"Error: invalid arguments for {command}: {' '.join(rest)}\n")
        if command == "text" and len(rest) == 1:
            return self._text(rest[0])
        if command == "keyevent" and rest:
            return self._keys(rest)
        if command == "keycombination" and len(rest) >= 2:
            codes = [keycode(a) for a in rest if a != "-t"]
            if KEY_NAMES["CTRL_LEFT"] in codes and KEY_NAMES["A"] in codes:
                self.phone.select_all()
            return ok()
        return fail(f"Error: Unknown command: {command}\n", 255)

    def _text(self, raw: str) -> ServiceResult:
        text = android_text(raw)
        if any(not (" " <= c <= "~" or c in "\n\t") for c in text):
            return fail(TEXT_FAILURE, 255)  # the virtual key map has no events for it: nothing is typed
        self.decoded.append(text)
        for index, part in enumerate(text.split("\n")):
            if index:
                self.phone.key(KEY_NAMES["ENTER"])
            if part:
                self.phone.commit(part)
        return ok()

    def _keys(self, names: list[str]) -> ServiceResult:
        if "--delay" in names:  # --delay takes a value
            index = names.index("--delay")
            names = names[:index] + names[index + 2 :]
        names = [n for n in names if not n.startswith("--")]
        codes = [keycode(n) for n in names]
        if not codes or None in codes:
            return fail(f"Error: Unknown keycode in {' '.join(names)}\n", 255)
        for code in codes:
            self.phone.key(code)  # type: ignore[arg-type]
        return ok()

    # --- activities -----------------------------------------------------------------------------------------
    def am(self, args: list[str]) -> ServiceResult:
        if not args:
            return fail("usage: am [subcommand] [options]\n")
        if args[0] in ("start", "start-activity"):
            return self._start(args[1:])
        if args[0] == "broadcast":
            return self._broadcast(args[1:])
        if args[0] == "force-stop" and len(args) == 2:
            if self.phone.state.foreground == args[1]:
                self.phone.go_home()
            return ok()
        return fail(f"Error: unknown command '{args[0]}'\n", 255)

    def _start(self, args: list[str]) -> ServiceResult:
        options = _options(args, {"-n", "-a", "-c", "-d", "--user"})
        component = options.get("-n")
        if component is None:
            if options.get("-c") == "android.intent.category.HOME":
                self.phone.go_home()
                return ok("Starting: Intent { act=android.intent.action.MAIN cat=[android.intent.category.HOME] }\n")
            return fail("Error: the simulated phone starts activities by component only (-n PKG/ACTIVITY)\n")
        app = _app_for_component(component)
        if app is None:
            return ServiceResult(
                f"Starting: Intent {{ cmp={component} }}\n".encode(),
                f"Error type 3\nError: Activity class {{{component}}} does not exist.\n".encode(), 1,
            )
        self.phone.launch(app.package)
        starting = f"Starting: Intent {{ act=android.intent.action.MAIN cmp={app.short_component} }}\n"
        if "-W" not in args:
            return ok(starting)
        cold = self.phone.launch_progress() is not None  # the opening animation runs: wait for the first frame
        delay = self.phone.state.launch_delay_s if cold else 0.0
        self.wait_until = self.phone.state.launch_started + delay if cold else 0.0
        took = round(delay * 1000) or 5
        return ok(f"{starting}Status: ok\nLaunchState: {'COLD' if cold else 'HOT'}\n"
                  f"Activity: {app.short_component}\nTotalTime: {took}\nWaitTime: {took + 3}\nComplete\n")

    def monkey(self, args: list[str]) -> ServiceResult:
        package = _options(args, {"-p", "-c", "--throttle"}).get("-p")
        if package is None or not self.phone.launch(package):
            return ServiceResult(b"** No activities found to run, monkey aborted.\n", b"", 252)
        return ok(f"  bash arg: -p\n  bash arg: {package}\nEvents injected: 1\n## Network stats: elapsed time=5ms\n")

    def _broadcast(self, args: list[str]) -> ServiceResult:
        action = _options(args, {"-a", "-p"}).get("-a", "")
        extras = _extras(args)
        header = f"Broadcasting: Intent {{ act={action} flg=0x400000 }}\nBroadcast completed: result=0\n"
        state = self.phone.state
        if state.ime_current != ADB_IME or not state.focused:
            return ok(header)  # ADB Keyboard only acts as the current IME with a focused field; result=0 anyway
        if action == "ADB_INPUT_B64" and "msg" in extras:
            try:
                text = base64.b64decode(extras["msg"], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return ok(header)
            self.decoded.append(text)
            self.phone.commit(text)
        elif action == "ADB_INPUT_TEXT" and "msg" in extras:
            self.decoded.append(extras["msg"])
            self.phone.commit(extras["msg"])
        elif action == "ADB_CLEAR_TEXT":
            self.phone.clear_field()
        elif action == "ADB_INPUT_CODE" and extras.get("code", "").isdigit():
            self.phone.key(int(extras["code"]))
        return ok(header)

    # --- packages -------------------------------------------------------------------------------------------
    def packages(self) -> list[str]:
        names = [*SYSTEM_PACKAGES, *(a.package for a in APPS)]
        if ADB_IME in self.phone.state.ime_installed:
            names.append(ADB_KEYBOARD_PACKAGE)
        return names

    def pm(self, args: list[str]) -> ServiceResult:
        if args[:2] == ["list", "packages"]:
            filters = [a for a in args[2:] if not a.startswith("-")]
            names = [n for n in self.packages() if not filters or filters[0] in n]
            return ok("".join(f"package:{n}\n" for n in names))
        if args[:1] == ["path"] and len(args) == 2 and args[1] in self.packages():
            return ok(f"package:/data/app/{args[1]}/base.apk\n")
        return fail("Error: the simulated phone supports 'pm list packages' and 'pm path'\n")

    def cmd(self, args: list[str]) -> ServiceResult:
        if args[:1] == ["input"]:
            return self.input(args[1:])
        if args[:1] == ["package"] and args[1:2] == ["resolve-activity"]:
            return self._resolve(args[2:])
        if args[:1] == ["package"]:
            return self.pm(args[1:])
        return fail(f"Can't find service: {args[0] if args else ''}\n", 255)

    def _resolve(self, args: list[str]) -> ServiceResult:
        options = _options(args, {"-a", "-c", "--user"})
        if options.get("-c") == "android.intent.category.HOME":
            target = LAUNCHER_ACTIVITY
        else:
            package = next((a for a in reversed(args) if not a.startswith("-") and "." in a), "")
            app = next((a for a in APPS if a.package == package), None)
            if app is None:
                return ok("No activity found\n")
            target = app.short_component
        brief = "--brief" in args or "--components" in args
        head = "" if "--components" in args else RESOLVE_HEAD
        return ok(head + target + "\n" if brief else f"Activity Resolver Table:\n  {target}\n")

    # --- system state ---------------------------------------------------------------------------------------
    def dumpsys(self, args: list[str]) -> ServiceResult:
        state = self.phone.state
        app = state.app
        component = app.short_component if app else LAUNCHER_ACTIVITY
        full = app.component if app else f"{LAUNCHER}/com.android.launcher3.uioverrides.QuickstepLauncher"
        service = args[0] if args else ""
        if service == "power":  # as AOSP's PowerManagerService prints it
            return ok(f"POWER MANAGER (dumpsys power)\n  mWakefulness={'Awake' if state.screen_on else 'Asleep'}\n")
        if service == "window" and args[1:2] == ["policy"]:  # the simulated phone has no lock screen
            return ok("WINDOW MANAGER POLICY STATE (dumpsys window policy)\n    mShowingLockscreen=false\n")
        if service == "window":
            flags = "fl=LAYOUT_IN_SCREEN SECURE" if self.phone.secure else "fl=LAYOUT_IN_SCREEN"
            return ok(
                "WINDOW MANAGER WINDOWS (dumpsys window windows)\n"
                f"  Window #0 Window{{7f3a2b1 u0 {full}}}:\n    mAttrs={{(0,0)(fillxfill) {flags}}}\n"
                f"  mCurrentFocus=Window{{7f3a2b1 u0 {full}}}\n"
                f"  mFocusedApp=ActivityRecord{{5c1d9e2 u0 {component} t12}}\n"
                f"  mCurrentRotation=ROTATION_{state.rotation * 90}\n"
            )
        if service == "activity":
            return ok(f"  mResumedActivity: ActivityRecord{{5c1d9e2 u0 {component} t12}}\n")
        if service == "input_method":
            shown = str(state.keyboard_shown).lower()
            return ok(f"  mCurMethodId={state.ime_current}\n  mInputShown={shown}\n  mIsInputViewShown={shown}\n")
        if service == "input":
            return ok(f"    SurfaceOrientation: {state.rotation}\n")
        if service == "display":
            return ok(dumpsys_display(self.phone))
        if service == "SurfaceFlinger" and "--display-id" in args:
            return ok(surfaceflinger_ids(self.phone))
        return ok(f"Can't find service: {service}\n")

    def wm(self, args: list[str]) -> ServiceResult:
        if args[:3] == ["size", "-d", "0"]:
            args = args[:1]
        if args[:1] == ["size"] and len(args) == 1:
            return ok(f"Physical size: {self.phone.state.width}x{self.phone.state.height}\n")
        if args[:1] == ["density"]:
            return ok("Physical density: 420\n")
        return fail("Error: the simulated phone supports 'wm size' and 'wm density'\n")

    def ime(self, args: list[str]) -> ServiceResult:
        state = self.phone.state
        if args[:1] == ["list"]:
            names = state.ime_installed if "-a" in args else state.ime_enabled
            if "-s" in args:
                return ok("".join(f"{n}\n" for n in names))
            return ok("".join(f"{n}:\n  mId={n}\n" for n in names))
        if len(args) == 2 and args[0] in ("enable", "disable", "set"):
            return self._ime_change(args[0], args[1])
        if args[:1] == ["reset"]:
            state.ime_current = state.ime_installed[0]
            return ok(f"Reset current and enabled IMEs for user #0\n  Selected: {state.ime_current}\n")
        return fail("Error: unknown ime command\n", 255)

    def _ime_change(self, verb: str, ime: str) -> ServiceResult:
        state = self.phone.state
        if ime not in state.ime_installed or (verb == "set" and ime not in state.ime_enabled):
            done = {"enable": "enabled", "disable": "disabled", "set": "selected"}[verb]
            return fail(f"Unknown input method {ime} cannot be {done} for user #0\n")
        if verb == "enable" and ime not in state.ime_enabled:
            state.ime_enabled.append(ime)
        elif verb == "disable" and ime in state.ime_enabled:
            state.ime_enabled.remove(ime)
        elif verb == "set":
            state.ime_current = ime
            return ok(f"Input method {ime} selected for user #0\n")
        return ok(f"Input method {ime}: {'now enabled' if verb == 'enable' else 'now disabled'}\n")

    def settings(self, args: list[str]) -> ServiceResult:
        state = self.phone.state
        if args[:3] == ["get", "secure", "default_input_method"]:
            return ok(state.ime_current + "\n")
        if args[:3] == ["get", "system", "user_rotation"]:
            return ok(f"{state.rotation}\n")
        if args[:3] == ["put", "system", "user_rotation"] and len(args) == 4 and args[3] in "0123":
            state.rotation = int(args[3])
            return ok()
        if args[:1] == ["get"]:
            return ok("null\n")
        if args[:1] == ["put"]:
            return ok()
        return fail("Error: settings get|put NAMESPACE KEY [VALUE]\n", 255)

    def screencap(self, args: list[str]) -> ServiceResult:
        return screencap(self.phone, args)

    def getprop(self, args: list[str]) -> ServiceResult:
        if args:
            return ok(PROPS.get(args[0], "") + "\n")
        return ok("".join(f"[{k}]: [{v}]\n" for k, v in PROPS.items()))


def _options(args: list[str], names: set[str]) -> dict[str, str]:
    found = {}
    for index, arg in enumerate(args[:-1]):
        if arg in names:
            found[arg] = args[index + 1]
    return found


def _extras(args: list[str]) -> dict[str, str]:
    extras = {}
    for index, arg in enumerate(args):
        if arg in ("--es", "--ei", "--eia", "-e") and index + 2 < len(args):
            extras[args[index + 1]] = args[index + 2]
    return extras


def _app_for_component(component: str) -> SimApp | None:
    package, _, activity = component.partition("/")
    if activity.startswith("."):
        activity = package + activity
    return next((a for a in APPS if a.package == package and a.activity == activity), None)


__all__ = ["Programs", "android_text", "keycode"]
