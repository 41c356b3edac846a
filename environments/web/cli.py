"""``glmv-agent run --platform web`` flags and the environment they build.

Playwright is imported only by :func:`create`, so the CLI works without the ``web`` extra. ``args.web_mode`` picks
the prompt profile: ``som`` -> ``<model>/web``, ``pixel`` -> ``<model>/desktop`` (see :func:`profile_platform`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from glmv_agent.errors import ConfigError
from glmv_agent.oversight.secrets import SecretStore

from ..cli_common import non_negative_seconds
from .options import DEFAULT_SEARCH_URL, ENV_EXECUTABLE, WebOptions, parse_viewport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the web flags (a flag another platform already defined with the same meaning is shared)."""
    group = parser.add_argument_group("web (--platform web)")

    def add(flag: str, **kwargs: Any) -> None:
        if flag not in parser._option_string_actions:  # noqa: SLF001 - argparse has no public lookup
            group.add_argument(flag, **kwargs)

    add("--url", help="page to open first (https:// is added when no scheme is given)")
    add("--web-mode", choices=("som", "pixel"), default="som",
        help="som: numbered labels on elements, web grammar; pixel: coordinates, desktop grammar")
    add("--viewport", default="1280x800", metavar="WxH", help="browser viewport in CSS pixels")
    add("--device-scale-factor", type=float, default=1.0, metavar="N",
        help="screenshot pixels per CSS pixel (2 = a HiDPI screen)")
    add("--headed", action="store_true", help="show the browser window (needs a display)")
    add("--browser-executable", metavar="PATH",
        help=f"Chromium/Chrome binary (env {ENV_EXECUTABLE}); default: Playwright's Chromium, else /usr/bin/chromium")
    add("--cdp-url", metavar="URL",
        help="attach to a running Chromium started with --remote-debugging-port (e.g. http://127.0.0.1:9222)")
    add("--allowed-domains", metavar="A,B",
        help="comma-separated domains the browser may load (subdomains included); other requests are blocked")
    add("--user-data-dir", type=Path, metavar="DIR", help="persistent browser profile (cookies, logins) folder")
    add("--search-url", default=DEFAULT_SEARCH_URL, metavar="URL", help="where the web grammar's Bing action goes")
    add("--wait-seconds", type=non_negative_seconds, default=5.0, metavar="S", help="how long the model's Wait sleeps")
    add("--dialogs", choices=("accept", "dismiss"), default="accept", help="answer to alert/confirm/prompt dialogs")
    add("--downloads-dir", type=Path, metavar="DIR", help="where downloads are saved (default: a temporary folder)")
    add("--files", type=Path, metavar="DIR",
        help="the only folder a page's file picker may take files from (default: no uploads)")


def _url(text: str | None) -> str | None:
    if not text:
        return None
    return text if ":" in text.split("/")[0] or text.startswith(("about:", "data:")) else f"https://{text}"


def options_from_args(args: argparse.Namespace) -> WebOptions:
    """The flags as WebOptions; ConfigError with the offending value when one is invalid."""
    domains = getattr(args, "allowed_domains", None) or ""
    values: dict[str, Any] = {
        "url": _url(getattr(args, "url", None)),
        "mode": getattr(args, "web_mode", "som"),
        "viewport": parse_viewport(getattr(args, "viewport", "1280x800")),
        "device_scale_factor": getattr(args, "device_scale_factor", 1.0),
        "headless": not getattr(args, "headed", False),
        "executable_path": getattr(args, "browser_executable", None),
        "cdp_url": getattr(args, "cdp_url", None),
        "allowed_domains": [d for d in domains.split(",") if d.strip()],
        "user_data_dir": getattr(args, "user_data_dir", None),
        "search_url": getattr(args, "search_url", DEFAULT_SEARCH_URL),
        "wait_seconds": getattr(args, "wait_seconds", 5.0),
        "dialogs": getattr(args, "dialogs", "accept"),
        "downloads_dir": getattr(args, "downloads_dir", None),
        "files_dir": getattr(args, "files", None),
    }
    try:
        return WebOptions(**values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid web option: {problems}") from None


def profile_platform(args: argparse.Namespace) -> str:
    """The prompt profile's platform for these flags: ``web`` (set-of-marks) or ``desktop`` (pixel mode)."""
    return "desktop" if getattr(args, "web_mode", "som") == "pixel" else "web"


def create(args: argparse.Namespace) -> Any:
    """The WebEnvironment the flags describe (the browser starts now); it keeps the run's secrets (``--secret``,
    ``--secrets-file``, ``GLMV_SECRET_*``) out of every observation."""
    options = options_from_args(args)
    secrets = SecretStore.from_sources(getattr(args, "secret", None), getattr(args, "secrets_file", None))
    try:
        from .environment import WebEnvironment
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the web platform needs Playwright ({exc.name} is missing): "
                          "pip install 'glmv-agent[web]'") from None
    return WebEnvironment(options, secrets=secrets)


__all__ = ["add_arguments", "create", "options_from_args", "profile_platform"]
