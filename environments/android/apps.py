"""App names to Android packages: the built-in table (apps.csv: GLM-4.1V/AndroidWorld names first, then
Open-AutoGLM's), user additions (a dict or a JSON/TOML file), and a fuzzy lookup among the installed packages.

Names match case-insensitively, ignoring spaces, hyphens and underscores ("google chrome" = "GoogleChrome").
Several names can point to different packages (Clock: com.google.android.deskclock in AndroidWorld,
com.android.deskclock in Open-AutoGLM); every candidate is kept, in order, and the first installed one wins.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError, field_validator

from glmv_agent.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PACKAGE_RE = re.compile(r"[A-Za-z][\w]*(\.[A-Za-z_][\w]*)+")


class AppEntry(BaseModel):
    """One name -> package row; ``activity`` is ``pkg/.Activity`` or ``pkg/full.Class`` when known."""

    name: str
    package: str
    activity: str | None = None
    source: str = ""

    @field_validator("package")
    @classmethod
    def _package(cls, value: str) -> str:
        if not PACKAGE_RE.fullmatch(value):
            raise ValueError(f"{value!r} is not an Android package name (like com.example.app)")
        return value

    @field_validator("activity")
    @classmethod
    def _activity(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"[\w.]+/[\w.$]+", value):
            raise ValueError(f"{value!r} is not a component (like com.example.app/.MainActivity)")
        return value or None


def normalise(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


def builtin_entries() -> list[AppEntry]:
    try:
        text = resources.files("glmv_agent.environments.android").joinpath("apps.csv").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("the built-in app table (glmv_agent/environments/android/apps.csv) is missing from this "
                          "installation; reinstall glmv-agent") from None
    return [
        AppEntry(name=row["app_name"], package=row["package"], activity=row["launch_activity"] or None,
                 source=row["source"])
        for row in csv.DictReader(io.StringIO(text))
    ]


def user_entries(data: dict[str, Any], origin: str = "config") -> list[AppEntry]:
    """``{"Name": "pkg"}`` or ``{"Name": {"package": "pkg", "activity": "pkg/.Main"}}``; TOML files may nest the
    table under ``[apps]``."""
    table = data.get("apps", data) if isinstance(data.get("apps"), dict) else data
    entries = []
    for name, value in table.items():
        fields = {"package": value} if isinstance(value, str) else value
        if not isinstance(fields, dict):
            raise ConfigError(f"{origin}: app {name!r} must map to a package name or a table, got {value!r}")
        unknown = sorted(set(fields) & {"name", "source"})
        if unknown:
            raise ConfigError(f"{origin}: app {name!r}: '{unknown[0]}' is set by the table itself; remove it")
        try:
            entries.append(AppEntry(name=str(name), source=origin, **fields))
        except TypeError as exc:
            raise ConfigError(f"{origin}: app {name!r}: {exc}") from None
        except ValidationError as exc:
            raise ConfigError(f"{origin}: app {name!r}: {exc.errors()[0]['msg']}") from None
    return entries


def load_apps_file(path: Path) -> list[AppEntry]:
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the apps file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"the apps file {path} is not UTF-8 text") from None
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"the apps file {path} is not valid {path.suffix.lstrip('.') or 'JSON'}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"the apps file {path} must hold a table of name = package")
    return user_entries(data, str(path))


class AppTable:
    """User entries first, then the built-in table."""

    def __init__(self, extra: list[AppEntry] | None = None, builtin: bool = True) -> None:
        self.entries = [*(extra or []), *(builtin_entries() if builtin else [])]
        self.by_name: dict[str, list[AppEntry]] = {}
        for entry in self.entries:
            self.by_name.setdefault(normalise(entry.name), []).append(entry)
        self.by_package: dict[str, str] = {}
        for entry in self.entries:
            self.by_package.setdefault(entry.package, entry.name)

    def candidates(self, name: str) -> list[AppEntry]:
        """Entries for ``name`` in priority order, one per package."""
        seen: set[str] = set()
        found = []
        for entry in self.by_name.get(normalise(name), []):
            if entry.package not in seen:
                seen.add(entry.package)
                found.append(entry)
        return found

    def name_for(self, package: str) -> str | None:
        return self.by_package.get(package)

    def activity_for(self, package: str) -> str | None:
        return next((e.activity for e in self.entries if e.package == package and e.activity), None)


def fuzzy_package(name: str, installed: list[str]) -> str | None:
    """The installed package a person most likely means by ``name`` (None when nothing is close)."""
    wanted = normalise(name)
    if not wanted:
        return None
    if name.strip() in installed:
        return name.strip()
    scored: list[tuple[float, str]] = []
    for package in installed:
        parts = [normalise(p) for p in package.split(".")]
        if wanted in parts:
            score = 3.0 if parts[-1] == wanted else 2.5
        elif len(wanted) >= 4 and wanted in normalise(package.replace(".", "")):
            score = 2.0
        else:
            score = max(difflib.SequenceMatcher(None, wanted, part).ratio() for part in parts[1:] or parts)
            if score < 0.8:
                continue
        scored.append((score - len(package) / 1000, package))  # ties: the shorter package
    return max(scored)[1] if scored else None
