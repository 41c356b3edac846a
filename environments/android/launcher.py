"""Opening apps by name on the phone and naming the app in front.

Launch: name -> package (user table, built-in table, then a fuzzy look among ``pm list packages``), the launcher
activity resolved on the phone (``cmd package resolve-activity --brief PKG``, last line), started with
``am start -W -n`` (-W: returns once the app has drawn its first frame, so the next screenshot shows the app, not
its opening animation); the table's activity, then ``monkey -p PKG -c android.intent.category.LAUNCHER 1`` are the
fallbacks. The foreground package comes from ``dumpsys window`` (mCurrentFocus, else mFocusedApp), then
``dumpsys activity activities`` (mResumedActivity / topResumedActivity).
"""

from __future__ import annotations

import logging
import re
import shlex

from pydantic import BaseModel

from glmv_agent.errors import StepError

from .apps import PACKAGE_RE, AppTable, fuzzy_package
from .connection import AdbClient

log = logging.getLogger(__name__)
FOCUS_RE = re.compile(r"mCurrentFocus=Window\{[^}]*?\s(?:u\d+\s)?([\w.]+)/([\w.$]+)")
FOCUSED_APP_RE = re.compile(r"(?:mFocusedApp|mResumedActivity|topResumedActivity|ResumedActivity)[=:]\s*"
                            r"ActivityRecord\{[^}]*?\s([\w.]+)/([\w.$]+)")
ROTATION_RE = re.compile(r"(?:mCurrentRotation|mRotation)=(?:ROTATION_)?(\d+)")
WINDOW_QUERY = "dumpsys window | grep -E 'mCurrentFocus|mFocusedApp|mCurrentRotation|mRotation='"
ACTIVITY_QUERY = "dumpsys activity activities | grep -E 'ResumedActivity'"


class Foreground(BaseModel):
    package: str | None = None
    activity: str | None = None
    rotation: int = 0


def parse_window(text: str) -> Foreground:
    """Foreground package/activity and rotation (0-3) from ``dumpsys window`` lines."""
    match = FOCUS_RE.search(text) or FOCUSED_APP_RE.search(text)
    rotation = 0
    rot = ROTATION_RE.search(text)
    if rot:
        value = int(rot.group(1))
        rotation = value // 90 if value >= 90 else value % 4
    if not match:
        return Foreground(rotation=rotation)
    package, activity = match.group(1), match.group(2)
    if activity.startswith("."):
        activity = package + activity
    return Foreground(package=package, activity=activity, rotation=rotation)


class Launcher:
    """Resolves names and starts apps on one phone."""

    def __init__(self, client: AdbClient, table: AppTable) -> None:
        self.client = client
        self.table = table
        self._installed: list[str] | None = None
        self._home: str | None = None

    def installed(self, refresh: bool = False) -> list[str]:
        if self._installed is None or refresh:
            output = self.client.shell("pm list packages")
            self._installed = [line.split(":", 1)[1].strip() for line in output.splitlines()
                               if line.startswith("package:")]
        return self._installed

    def home_package(self) -> str | None:
        """The launcher's package (the home screen is reported as no app)."""
        if self._home is None:
            output = self.client.shell(
                "cmd package resolve-activity --brief -a android.intent.action.MAIN -c android.intent.category.HOME"
            )
            last = output.strip().splitlines()[-1] if output.strip() else ""
            self._home = last.split("/", 1)[0] if "/" in last else ""
        return self._home or None

    def foreground(self) -> Foreground:
        found = parse_window(self.client.shell(WINDOW_QUERY))
        if found.package is None:
            fallback = parse_window(self.client.shell(ACTIVITY_QUERY))
            found = Foreground(package=fallback.package, activity=fallback.activity, rotation=found.rotation)
        return found

    def app_name(self, package: str | None) -> str | None:
        """Table name for ``package``, else the package; None on the home screen."""
        if package is None or package == self.home_package():
            return None
        return self.table.name_for(package) or package

    def resolve(self, name: str) -> tuple[str, str]:
        """(package, how it was found) for an app name; StepError when no installed app matches."""
        name = name.strip()
        if not name:
            raise StepError("open_app needs an app name")
        candidates = self.table.candidates(name)
        for refresh in (False, True):
            installed = self.installed(refresh=refresh)
            for entry in candidates:
                if entry.package in installed:
                    return entry.package, f"table ({entry.name})"
            if PACKAGE_RE.fullmatch(name) and name in installed:
                return name, "package name"
            guess = fuzzy_package(name, installed)
            if guess is not None:
                return guess, "installed packages"
        known = ", ".join(e.package for e in candidates)
        hint = f" (known as {known}, which is not installed)" if known else ""
        raise StepError(f"no installed app matches {name!r}{hint}; open it from the home screen or app drawer")

    def launch(self, name: str) -> str:
        package, how = self.resolve(name)
        component = self._launcher_activity(package)
        if component is not None:
            output, code = self.client.run(f"am start -W -n {shlex.quote(component)}", safe=False)
            if code == 0 and "Error" not in output:
                return f"started {component} ({how})"
            log.info("am start -n %s failed: %s", component, output.strip()[:200])
        output, code = self.client.run(
            f"monkey -p {shlex.quote(package)} -c android.intent.category.LAUNCHER 1", safe=False
        )
        if "No activities found" in output or "Events injected" not in output:
            raise StepError(f"could not start {package} ({name!r}): {output.strip()[:200]}")
        return f"started {package} with monkey ({how})"

    def _launcher_activity(self, package: str) -> str | None:
        output = self.client.shell(f"cmd package resolve-activity --brief {shlex.quote(package)}")
        lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
        if lines and "/" in lines[-1] and lines[-1].split("/", 1)[0] == package:
            return lines[-1]
        return self.table.activity_for(package)
