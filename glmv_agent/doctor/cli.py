"""``glmv-agent devices`` (the phones ADB can see) and ``glmv-agent doctor --platform ...`` (a line per check,
ok / warn / fail, each with its fix; exit 0 only when nothing fails)."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

from .checks import Check, endpoint_check, fail, ok, report

PLATFORM_CHECKS = {
    "mobile": ("glmv_agent.environments.android.doctor", "mobile"),
    "desktop": ("glmv_agent.environments.desktop.doctor", "desktop"),
    "web": ("glmv_agent.environments.web.doctor", "web"),
}


def register_commands(sub: Any) -> None:
    from ..cli import HelpFormatter

    devices = sub.add_parser("devices", help="list the Android devices ADB can see (serial, model, Android, screen)",
                             formatter_class=HelpFormatter)
    devices.add_argument("--device", action="append", default=[], metavar="HOST:PORT",
                         help="also connect to this phone directly (repeat for several)")
    devices.add_argument("--adb-key", type=Path, metavar="PATH", help="ADB private key (default: as for run)")
    devices.set_defaults(func=cmd_devices)

    doctor = sub.add_parser("doctor", help="check a platform and the endpoint before a run (ok / warn / fail)",
                            formatter_class=HelpFormatter)
    doctor.add_argument("--platform", choices=sorted(PLATFORM_CHECKS), required=True)
    doctor.add_argument("--device", metavar="HOST:PORT|SERIAL", help="mobile: the phone (as for run)")
    doctor.add_argument("--adb-key", type=Path, metavar="PATH", help="mobile: ADB private key")
    doctor.add_argument("--monitor", type=int, metavar="N", help="desktop: the monitor to check")
    doctor.add_argument("--browser-executable", metavar="PATH", help="web: the Chromium to check")
    doctor.add_argument("--cdp-url", metavar="URL", help="web: check a running browser over CDP instead")
    doctor.add_argument("--base-url", help="endpoint URL (env GLMV_BASE_URL)")
    doctor.add_argument("--api-key", help="API key (env GLMV_API_KEY)")
    doctor.add_argument("--api-model", help="model name the endpoint should serve (env GLMV_MODEL)")
    doctor.add_argument("--replay", type=Path, help="recorded answers instead of an endpoint")
    doctor.set_defaults(func=cmd_doctor)


def cmd_devices(args: argparse.Namespace) -> int:
    doctor = _platform_module("mobile")
    if doctor is None:
        print("the phone needs the mobile extra: pip install 'glmv-agent[mobile]'")
        return 2
    found, notes = doctor.list_devices(args.device, args.adb_key)
    for device in found:
        print(device.line())
    for note in notes:
        print(f"note: {note}")
    if not found:
        print("no devices")
    return 0


def _platform_module(platform: str) -> Any:
    name, _ = PLATFORM_CHECKS[platform]
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name.startswith("glmv_agent") or "." not in exc.name):
            return None
        raise


def _platform_checks(args: argparse.Namespace) -> list[Check]:
    module = _platform_module(args.platform)
    if module is None:
        extra = PLATFORM_CHECKS[args.platform][1]
        return [fail(args.platform, "this platform's extra is not installed", f"pip install 'glmv-agent[{extra}]'")]
    if args.platform == "mobile":
        return module.mobile_checks(args.device, args.adb_key)
    if args.platform == "desktop":
        return module.desktop_checks(args.monitor)
    options = importlib.import_module("glmv_agent.environments.web.options")
    return module.web_checks(options.WebOptions(executable_path=args.browser_executable, cdp_url=args.cdp_url))


def cmd_doctor(args: argparse.Namespace) -> int:
    checks = _platform_checks(args)
    if args.replay:
        exists = args.replay.exists()
        checks.append(ok("model endpoint", f"replaying {args.replay}") if exists else
                      fail("model endpoint", f"replay file {args.replay} not found", "pass an existing file"))
    else:
        checks.append(endpoint_check(args.base_url, args.api_key, args.api_model))
    lines, code = report(checks)
    for line in lines:
        print(line)
    return code


__all__ = ["cmd_devices", "cmd_doctor", "register_commands"]
