"""``glmv-agent assistant --platform desktop|mobile|web``: the local web panel (or ``--no-browser``, the terminal)."""

from __future__ import annotations

import argparse
import importlib
import sys
import webbrowser
from datetime import datetime
from pathlib import Path
from typing import Any

from ..agent import AgentConfig
from ..errors import ConfigError
from ..oversight.policy import Policy
from ..oversight.secrets import SecretStore
from ..profiles import MODELS, get_profile
from .session import AssistantSession, SessionSettings


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535; 0 picks a free one)")
    return int(text)


def register_commands(sub: Any) -> None:
    from ..cli import (
        PLATFORM_MODULES,
        add_endpoint_arguments,
        add_generation_arguments,
        add_oversight_arguments,
        add_platform_arguments,
        step_count,
    )

    parser = sub.add_parser("assistant", help="an ongoing conversation with the agent in a local web panel",
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--platform", choices=sorted(PLATFORM_MODULES), required=True)
    parser.add_argument("--model", choices=MODELS, default="glm-4.5v")
    parser.add_argument("--max-steps", type=step_count, default=30, help="steps per task")
    parser.add_argument("--max-reasks", type=int, default=2, help="re-asks after unusable model output, per step")
    parser.add_argument("--out", type=Path, help="conversation folder (default: runs/<time>-assistant)")
    parser.add_argument("--prompt-dir", type=Path, help="folder with prompt templates overriding the packaged ones")
    parser.add_argument("--lang", choices=("zh", "en"), help="AutoGLM-Phone's system prompt language (default zh)")
    parser.add_argument("--fake-screen", action="store_true", help="use an in-memory screen instead of a device")
    panel = parser.add_argument_group("panel")
    panel.add_argument("--port", type=_port, default=0, help="port on 127.0.0.1 (0: a free one)")
    panel.add_argument("--no-open", action="store_true", help="print the panel's URL but do not open a browser")
    panel.add_argument("--no-browser", action="store_true", help="no panel: the conversation in this terminal")
    safety = add_oversight_arguments(parser, confirm_help="hold each action for Approve / Deny")
    safety.add_argument("--no-report", action="store_true", help="skip each task's HTML report")
    add_endpoint_arguments(parser)
    add_generation_arguments(parser)
    add_platform_arguments(parser)
    parser.set_defaults(func=cmd_assistant)


def _environment_factory(args: argparse.Namespace) -> Any:
    """Build the device on the session's thread; the phone hands AutoGLM's Take_over to the panel."""
    from ..cli import PLATFORM_MODULES, make_environment

    def make(takeover: Any) -> Any:
        if args.platform == "mobile" and not args.fake_screen:
            return importlib.import_module(PLATFORM_MODULES["mobile"]).create(args, takeover=takeover)
        return make_environment(args)

    return make


def settings_from_args(args: argparse.Namespace) -> SessionSettings:
    from ..cli import generation_params, make_backend, profile_key

    profile = get_profile(profile_key(args.model, args.platform, getattr(args, "web_mode", None)), args.prompt_dir,
                          lang=args.lang)
    config = AgentConfig(max_steps=args.max_steps, max_reasks=args.max_reasks, write_report=not args.no_report,
                         params=generation_params(args, profile.generation_defaults()))
    return SessionSettings(
        profile=profile, backend=make_backend(args), make_environment=_environment_factory(args),
        folder=args.out or Path("runs") / f"{datetime.now():%Y%m%d-%H%M%S}-assistant", config=config,
        policy=Policy.load(args.policy) if args.policy else None, confirm_all=args.confirm,
        secrets=SecretStore.from_sources(args.secret, args.secrets_file),
    )


def cmd_assistant(args: argparse.Namespace) -> int:
    session = AssistantSession(settings_from_args(args))
    if args.no_browser:
        from .terminal import TerminalChat

        session.start()
        try:
            return TerminalChat(session).run()
        finally:
            session.close()
            print(f"conversation folder: {session.conversation.folder}")
    try:
        from .server import PanelServer
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the panel needs the assistant extra ({exc.name} is missing): "
                          "pip install 'glmv-agent[assistant]', or use --no-browser") from None
    server = PanelServer(session, args.port)
    try:
        session.start()
    except BaseException:
        server.socket.close()
        raise
    try:
        print(f"assistant panel: {server.url}", flush=True)
        print(f"conversation folder: {session.conversation.folder}   (Ctrl-C ends the session)", flush=True)
        if not args.no_open and not webbrowser.open(server.url):
            print("could not open a browser: open the URL above", file=sys.stderr)
        server.serve()
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C once it has shut down: the session ends normally
        pass
    finally:
        session.close()
    print("session ended", flush=True)
    return 0
