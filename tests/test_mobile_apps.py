"""The app table: the packaged CSV, user additions, fuzzy lookups and foreground parsing."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from glmv_agent.environments.android.apps import AppTable, builtin_entries, fuzzy_package, load_apps_file, user_entries
from glmv_agent.environments.android.connection import parse_target
from glmv_agent.environments.android.launcher import parse_window
from glmv_agent.errors import ConfigError

REFERENCE = Path("/work/shared/reference/android/apps.csv")


def test_packaged_table_has_every_row_with_its_source() -> None:
    entries = builtin_entries()
    assert len(entries) == 224
    assert all(e.source for e in entries)
    if REFERENCE.is_file():
        with REFERENCE.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert [(e.name, e.package) for e in entries] == [(r["app_name"], r["package"]) for r in rows]


def test_lookup_ignores_case_and_spacing_and_keeps_every_candidate_in_order() -> None:
    table = AppTable()
    assert [e.package for e in table.candidates("google chrome")] == ["com.android.chrome"]
    assert [e.package for e in table.candidates("GoogleChrome")] == ["com.android.chrome"]
    clocks = [e.package for e in table.candidates("Clock")]
    assert clocks == ["com.google.android.deskclock", "com.android.deskclock"]  # AndroidWorld's first
    assert table.candidates("微信")[0].package == "com.tencent.mm"
    assert table.name_for("com.android.chrome") == "Google Chrome"
    assert table.activity_for("com.android.settings") == "com.android.settings/.Settings"


def test_user_entries_come_first_and_are_validated(tmp_path: Path) -> None:
    table = AppTable(user_entries({"Clock": "com.example.clock"}))
    assert table.candidates("clock")[0].package == "com.example.clock"
    with pytest.raises(ConfigError, match="not an Android package name"):
        user_entries({"Bad": "not a package; rm -rf /"})
    broken = tmp_path / "apps.json"
    broken.write_text("{nope", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid json"):
        load_apps_file(broken)
    with pytest.raises(ConfigError, match="cannot read"):
        load_apps_file(tmp_path / "missing.toml")
    toml = tmp_path / "apps.toml"
    toml.write_text('"My Bank" = "com.example.bank"\n', encoding="utf-8")
    assert [(e.name, e.package) for e in load_apps_file(toml)] == [("My Bank", "com.example.bank")]


@pytest.mark.parametrize(("name", "expected"), [
    ("markor", "net.gsantner.markor"), ("Wallet", "com.example.wallet"), ("gsantner", "net.gsantner.markor"),
    ("settngs", "com.android.settings"), ("Flight Radar", None), ("", None),
])
def test_fuzzy_lookup_among_installed_packages(name: str, expected: str | None) -> None:
    installed = ["android", "com.android.settings", "net.gsantner.markor", "com.example.wallet",
                 "com.android.systemui"]
    assert fuzzy_package(name, installed) == expected


@pytest.mark.parametrize(("dump", "package", "rotation"), [
    ("  mCurrentFocus=Window{a1 u0 com.tencent.mm/com.tencent.mm.ui.LauncherUI}\n  mCurrentRotation=ROTATION_90",
     "com.tencent.mm", 1),
    ("  mCurrentFocus=null\n  mFocusedApp=ActivityRecord{5c u0 com.android.settings/.Settings t12}\nmRotation=3",
     "com.android.settings", 3),
    ("  mCurrentFocus=Window{b2 u0 NotificationShade}\n  mCurrentRotation=0", None, 0),
    ("  mResumedActivity: ActivityRecord{9 u10 org.example/.Main t3}", "org.example", 0),
])
def test_foreground_parsing(dump: str, package: str | None, rotation: int) -> None:
    found = parse_window(dump)
    assert (found.package, found.rotation) == (package, rotation)


@pytest.mark.parametrize(("device", "host", "port", "serial"), [
    ("192.168.1.23:5555", "192.168.1.23", 5555, None), ("192.168.1.23", "192.168.1.23", 5555, None),
    ("[::1]:40000", "::1", 40000, None), ("emulator-5556", "127.0.0.1", 5557, None),
    ("R58M123ABC", None, 5555, "R58M123ABC"), ("", None, 5555, None),
])
def test_device_targets(device: str, host: str | None, port: int, serial: str | None,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANDROID_SERIAL", raising=False)
    target = parse_target(device)
    assert (target.host, target.port, target.serial) == (host, port, serial)
