"""``glmv-agent mcp --platform web|mobile|desktop``: serve the MCP tools over stdio, or over HTTP on 127.0.0.1.

Stdout is the protocol channel on stdio, so nothing else is printed there; logs go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..profiles import MODELS

log = logging.getLogger(__name__)


def register_commands(sub: Any, platform: str | None = None) -> None:
    """``glmv-agent mcp``; with ``platform`` (the command line's --platform) it takes that platform's flags only."""
    from ..cli import (
        PLATFORM_MODULES,
        HelpFormatter,
        add_endpoint_arguments,
        add_generation_arguments,
        add_oversight_arguments,
        add_platform_arguments,
        step_count,
    )

    mcp = sub.add_parser("mcp", help="serve the agent to other agents over the Model Context Protocol (stdio)",
                         formatter_class=HelpFormatter)
    mcp.add_argument("--platform", choices=sorted(PLATFORM_MODULES), required=True)
    mcp.add_argument("--model", choices=MODELS, default="glm-4.5v")
    mcp.add_argument("--http", type=int, metavar="PORT",
                     help="serve Streamable HTTP on 127.0.0.1:PORT (path /mcp) instead of stdio")
    mcp.add_argument("--out", type=Path, help="run folder of the session (default: runs/<time>-mcp)")
    mcp.add_argument("--max-steps", type=step_count, default=30, help="run_task's default step cap")
    mcp.add_argument("--act-steps", type=step_count, default=5, help="act's step cap")
    mcp.add_argument("--lang", choices=("zh", "en"), help="AutoGLM-Phone's system prompt language (default zh)")
    mcp.add_argument("--fake-screen", action="store_true", help="use an in-memory screen instead of a device")
    add_oversight_arguments(mcp)
    add_endpoint_arguments(mcp)
    add_generation_arguments(mcp)
    add_platform_arguments(mcp, platform)
    mcp.set_defaults(func=cmd_mcp)


def _agent_factory(args: argparse.Namespace) -> Any:
    """environment -> the AsyncStepAgent of the flags (profile, endpoint, oversight, run folder)."""
    from ..api.base import AsyncStepAgent
    from ..api.options import StepOptions
    from ..cli import generation_params, make_backend, profile_key
    from ..oversight.guard import Guard
    from ..oversight.policy import Policy
    from ..oversight.secrets import SecretStore
    from ..profiles import get_profile

    if args.confirm:
        raise ConfigError("--confirm needs a person at a terminal; over MCP use --policy rules (an action they "
                          "send to confirmation is not run)")
    profile = get_profile(profile_key(args.model, args.platform, getattr(args, "web_mode", None)), lang=args.lang)
    backend = make_backend(args, asynchronous=True)
    guard = Guard(Policy.load(args.policy)) if args.policy else None
    secrets = SecretStore.from_sources(args.secret, args.secrets_file)
    out = args.out or Path("runs") / f"{datetime.now():%Y%m%d-%H%M%S}-mcp"
    options = StepOptions(run_dir=out, act_steps=args.act_steps, max_steps=args.max_steps,
                          params=generation_params(args, profile.generation_defaults()))

    def make(environment: Any) -> AsyncStepAgent:
        agent = AsyncStepAgent(environment, profile, backend, options, name="mcp")
        agent.guard, agent.secrets, agent.owns_backend = guard, secrets, True
        return agent

    return make


def cmd_mcp(args: argparse.Namespace) -> int:
    try:
        from .server import DeviceSession, build_server
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the MCP server needs the mcp extra ({exc.name} is missing): "
                          "pip install 'glmv-agent[mcp]'") from None
    from ..cli import make_environment

    session = DeviceSession(lambda: make_environment(args), _agent_factory(args))
    server = build_server(session, args.platform, args.max_steps)
    if args.http:
        print(f"MCP server on http://127.0.0.1:{args.http}/mcp (Ctrl-C stops it)", file=sys.stderr)
        server.run("streamable-http", host="127.0.0.1", port=args.http)
    else:
        server.run("stdio")
    return 0


__all__ = ["cmd_mcp", "register_commands"]
