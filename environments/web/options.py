"""Options of the web environment, browser discovery and the domain allowlist."""

from __future__ import annotations

import ipaddress
import os
import shutil
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from glmv_agent.errors import ConfigError

ENV_EXECUTABLE = "GLMV_BROWSER_EXECUTABLE"
SYSTEM_BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-smooth-scrolling",
)
DEFAULT_SEARCH_URL = "https://www.bing.com/"


class WebOptions(BaseModel):
    """Everything that shapes one browser session; the CLI flags map onto these fields."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None  # first page; None keeps the current page (about:blank for a new browser)
    mode: Literal["som", "pixel"] = "som"
    viewport: tuple[int, int] = (1280, 800)
    device_scale_factor: float = Field(default=1.0, ge=0.5, le=4.0)
    headless: bool = True
    executable_path: str | None = None
    cdp_url: str | None = None
    user_data_dir: Path | None = None
    allowed_domains: list[str] = Field(default_factory=list)  # empty: every domain is allowed
    search_url: str = DEFAULT_SEARCH_URL  # the protocol's "Bing" action goes here
    wait_seconds: float = Field(default=5.0, ge=0)  # the Wait / WAIT action
    dialogs: Literal["accept", "dismiss"] = "accept"
    prompt_text: str = ""  # what an accepted prompt() dialog receives
    downloads_dir: Path | None = None  # None: a temporary folder
    files_dir: Path | None = None  # the only folder a file picker may take files from; None: no uploads
    navigation_timeout_s: float = Field(default=30.0, gt=0)
    action_timeout_s: float = Field(default=5.0, gt=0)
    scroll_step_px: int = Field(default=100, ge=1)  # CSS pixels per wheel step in pixel mode
    max_elements: int = Field(default=300, ge=1)

    @field_validator("viewport")
    @classmethod
    def _check_viewport(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not (100 <= value[0] <= 8000 and 100 <= value[1] <= 8000):
            raise ValueError(f"viewport {value[0]}x{value[1]} is outside 100..8000 CSS pixels per side")
        return value

    @field_validator("files_dir")
    @classmethod
    def _check_files_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ConfigError(f"--files {value}: no such folder (give the folder the agent may upload files from)")
        return value

    @field_validator("allowed_domains")
    @classmethod
    def _normalise_domains(cls, value: list[str]) -> list[str]:
        domains = []
        for item in value:
            domain = normalise_domain(item)
            if not domain:  # an entry naming no host must never widen the list to "everything"
                raise ConfigError(f"allowed domain {item!r} names no host; give a domain, a host or an IP address")
            domains.append(domain)
        return domains


def parse_viewport(text: str) -> tuple[int, int]:
    """``"1280x800"`` -> (1280, 800); a clear ConfigError otherwise."""
    parts = text.lower().replace("*", "x").split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ConfigError(f"viewport '{text}' is not WIDTHxHEIGHT (e.g. 1280x800)")
    return int(parts[0]), int(parts[1])


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address ``text`` spells (IPv6 bare or in brackets; an IPv4-mapped IPv6 as its IPv4), else None."""
    try:
        ip = ipaddress.ip_address(text.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)
    return mapped or ip


def normalise_domain(entry: str) -> str:
    """``"https://Sub.Example.com:8080/x"`` -> ``"sub.example.com"``; ``"*.a.com"`` -> ``"a.com"``; ``"::1"``,
    ``"[::1]:8080"`` -> ``"::1"``; ``"bücher.de"`` -> ``"xn--bcher-kva.de"``. ``""`` when it names no host
    (``"https://"``, ``"."``, ``"*"``)."""
    entry = entry.strip().lower()
    ip = _ip(entry)
    if ip is not None:
        return ip.compressed
    try:
        host = urlsplit(entry if "://" in entry else f"//{entry}").hostname or ""
    except ValueError:  # e.g. an unclosed "[" or a bad port
        return ""
    ip = _ip(host)
    if ip is not None:
        return ip.compressed
    host = host.removeprefix("*.").strip(".")
    if not host or any(char in host for char in "*/\\ "):
        return ""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def host_permitted(host: str, allowed: list[str]) -> bool:
    """True when ``host`` equals an entry of ``allowed`` or is a subdomain of one; an IP address only equals.
    ``allowed`` holds :func:`normalise_domain` results; an empty list permits every host."""
    if not allowed:
        return True
    ip = _ip(host)
    if ip is not None:
        return ip.compressed in allowed
    host = host.lower().strip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    return any(host == domain or host.endswith("." + domain) for domain in allowed if _ip(domain) is None)


def host_allowed(url: str, allowed: list[str]) -> bool:
    """True when ``url`` may load: no allowlist, a non-network scheme, or its host is permitted
    (:func:`host_permitted`). A network URL without a readable host is refused."""
    if not allowed:
        return True
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # e.g. "http://[::1/"
        return False
    if parts.scheme not in ("http", "https", "ws", "wss", "ftp"):
        return True  # data:, blob:, about:, chrome-error: never leave the machine
    return bool(host) and host_permitted(host, allowed)


def host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def resolve_executable(explicit: str | None, bundled: str | None) -> str | None:
    """The browser to launch: explicit path, then $GLMV_BROWSER_EXECUTABLE, then Playwright's own browser
    (``None`` = let Playwright use it), then a system Chromium. ConfigError when none exists."""
    chosen = explicit or os.environ.get(ENV_EXECUTABLE) or None
    if chosen:
        path = shutil.which(chosen) or chosen
        if not Path(path).is_file():
            raise ConfigError(f"browser executable '{chosen}' not found; pass the path of a Chromium/Chrome binary")
        return path
    if bundled and Path(bundled).is_file():
        return None
    for candidate in SYSTEM_BROWSERS:
        if Path(candidate).is_file():
            return candidate
    raise ConfigError(
        "no Chromium found: run `playwright install chromium`, install the chromium package, "
        f"or pass --browser-executable PATH (env {ENV_EXECUTABLE})"
    )
