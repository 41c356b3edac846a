"""Command line: ``glmv-agent run|parse|profiles`` plus the platform commands (demo, sim-device, report)."""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

from pydantic import ValidationError

from . import __version__
from .agent import MAX_STEPS, Agent, AgentConfig, AgentHooks, EpisodeResult, step_cap
from .errors import BackendError, ConfigError, DeviceError, GlmvError, ParseError
from .interrupts import signals_as_interrupts
from .oversight.guard import Guard
from .oversight.policy import Policy
from .oversight.secrets import SecretStore
from .printable import PrintableFormatter, json_line, no_controls
from .profiles import MODELS, get_profile, profile_keys
from .progress import LiveProgress, make_console
from .types import GenerationParams

PLATFORM_MODULES = {
    "web": "glmv_agent.environments.web.cli",
    "desktop": "glmv_agent.environments.desktop.cli",
    "mobile": "glmv_agent.environments.android.cli",
}
EXTRA_MODULES = (
    "glmv_agent.local_backend.cli",
    "glmv_agent.report.cli",
    "glmv_agent.batch.cli",
    "glmv_agent.eval.cli",
    "glmv_agent.environments.web.demo_cli",
    "glmv_agent.environments.android.sim.cli",
    "glmv_agent.assistant.cli",
    "glmv_agent.mcp.cli",
    "glmv_agent.doctor.cli",
)
# The scripting contract (docs/api.md): 0 complete; 2 usage or configuration error; 3 infeasible; 4 failed, max_steps
# or looping; 5 endpoint or device error; 130 aborted.
EXIT_CODES = {"complete": 0, "infeasible": 3, "failed": 4, "max_steps": 4, "looping": 4, "error": 5, "aborted": 130}
EXIT_USAGE, EXIT_DEVICE = 2, 5
BASE_URL_VARIABLES = ("GLMV_BASE_URL", "OPENAI_BASE_URL")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a flag's default only when it has one worth reading (no "(default: None)" or "(default: False)")."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        default = action.default
        if default is None or default is False or default == [] or default is argparse.SUPPRESS:
            return action.help
        if "%(default)" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):  # the module itself is absent, not one of its imports
            return None
        raise


def _add_run(sub: Any, platform: str | None = None) -> None:
    run = sub.add_parser("run", help="run an agent task", formatter_class=HelpFormatter)
    run.add_argument("task", help="what the agent should do")
    run.add_argument("--platform", choices=sorted(PLATFORM_MODULES), required=True)
    run.add_argument("--model", choices=MODELS, default="glm-4.5v")
    run.add_argument("--max-steps", type=step_count, default=30)
    run.add_argument("--max-reasks", type=int, default=2, help="re-asks after unusable model output, per step")
    run.add_argument("--out", type=Path, help="run folder (default: runs/<time>-<task>)")
    run.add_argument("--prompt-dir", type=Path, help="folder with prompt templates overriding the packaged ones")
    run.add_argument("--lang", choices=("zh", "en"), help="AutoGLM-Phone's system prompt language (default zh)")
    run.add_argument("--fake-screen", action="store_true", help="use an in-memory screen instead of a device")
    run.add_argument("--json", action="store_true",
                     help="one JSON object (status, answer, error, steps, run_dir, actions) on stdout, nothing else")
    safety = add_oversight_arguments(run)
    safety.add_argument("--no-report", action="store_true", help="skip the HTML report at the end")
    add_endpoint_arguments(run)
    add_generation_arguments(run)
    add_platform_arguments(run, platform)
    run.set_defaults(func=cmd_run)


def step_count(text: str) -> int:
    """The argparse type of every step-cap flag (--max-steps of run, mcp, batch, assistant and eval; mcp's
    --act-steps): the bounds of :func:`glmv_agent.agent.step_cap`, which MCP run_task and the Python API share."""
    try:
        return step_cap(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_STEPS} (got {text!r})") from None


def add_oversight_arguments(
    parser: argparse.ArgumentParser, confirm_help: str = "ask before each action (yes / no / stop)"
) -> Any:
    """--confirm, --policy, --secret, --secrets-file (run, batch, assistant); returns the argument group."""
    safety = parser.add_argument_group("oversight")
    safety.add_argument("--confirm", action="store_true", help=confirm_help)
    safety.add_argument("--policy", type=Path, help="TOML/JSON rules: allow, confirm or deny actions")
    safety.add_argument("--secret", action="append", default=[], metavar="NAME=VALUE",
                        help="a value the model can type as <secret>NAME</secret> without seeing it")
    safety.add_argument("--secrets-file", type=Path, help="file of NAME=VALUE lines (also env GLMV_SECRET_NAME)")
    return safety


def add_generation_arguments(parser: argparse.ArgumentParser) -> None:
    """--temperature, --top-p, --frequency-penalty, --max-tokens, --thinking-budget, --thinking (run and batch)."""
    gen = parser.add_argument_group("generation (unset: the model's defaults, see docs/endpoints.md)")
    gen.add_argument("--temperature", type=float, help="0: greedy")
    gen.add_argument("--top-p", type=float)
    gen.add_argument("--frequency-penalty", type=float)
    gen.add_argument("--max-tokens", type=int)
    gen.add_argument("--thinking-budget", type=int, metavar="N",
                     help="thinking tokens before the thinking is closed and the answer asked for (0: no limit)")
    gen.add_argument("--thinking", choices=("on", "off", "default"), default="default")


def add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    model = parser.add_argument_group("model endpoint (OpenAI-compatible: vLLM, SGLang, the hosted GLM API)")
    model.add_argument("--base-url", help="endpoint URL (env GLMV_BASE_URL, OPENAI_BASE_URL)")
    model.add_argument("--api-key", help="API key (env GLMV_API_KEY, OPENAI_API_KEY)")
    model.add_argument("--api-model", help="model name at the endpoint (env GLMV_MODEL, OPENAI_MODEL)")
    model.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    model.add_argument("--retries", type=int, default=3, help="retries on 429/5xx/connection errors")
    model.add_argument("--replay", type=Path, help="serve recorded responses (JSONL or run folder) instead")


def add_platform_arguments(parser: argparse.ArgumentParser, platform: str | None = None) -> None:
    """Each platform's own flags, in a group titled by the platform (only ``platform``'s when given), and the local
    backend's, when installed. Without a platform, a flag several platforms share sits in the first one's group and
    its help names the others."""
    chosen = [PLATFORM_MODULES[platform]] if platform in PLATFORM_MODULES else list(PLATFORM_MODULES.values())
    for name in (*chosen, EXTRA_MODULES[0]):
        module = _optional_module(name)
        if module is not None and hasattr(module, "add_arguments"):
            module.add_arguments(parser)
    if platform not in PLATFORM_MODULES:
        for flag, owners in _flag_owners().items():
            action = parser._option_string_actions[flag]  # noqa: SLF001 - argparse has no public lookup
            if len(owners) > 1 and action.help:
                action.help = f"{action.help} (also --platform {', '.join(owners[1:])})"


def _flag_owners() -> dict[str, list[str]]:
    """Option string -> the platforms that define it, in PLATFORM_MODULES order."""
    owners: dict[str, list[str]] = {}
    for platform, name in PLATFORM_MODULES.items():
        module = _optional_module(name)
        if module is not None and hasattr(module, "add_arguments"):
            scratch = argparse.ArgumentParser(add_help=False)
            module.add_arguments(scratch)
            for flag in scratch._option_string_actions:  # noqa: SLF001 - argparse has no public lookup
                owners.setdefault(flag, []).append(platform)
    return owners


def _add_parse(sub: Any) -> None:
    parse = sub.add_parser("parse", help="parse one model output into its action (JSON on stdout)")
    parse.add_argument("file", nargs="?", default="-", help="file with the model's text, or - for stdin")
    parse.add_argument("--model", choices=MODELS, required=True)
    parse.add_argument("--platform", choices=sorted(PLATFORM_MODULES), required=True)
    parse.add_argument("--as-reasoning", action="store_true",
                       help="the text came as reasoning_content with empty content: read the action from its tail")
    parse.set_defaults(func=cmd_parse)


class OneLineParser(argparse.ArgumentParser):
    """A usage error is one line on stderr and exit 2 (docs/api.md), without argparse's usage block: ``--help``
    shows that. Subcommand parsers are of this class too (argparse makes them of the parent's class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(platform: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``platform``, commands that take platform flags show only that platform's."""
    parser = OneLineParser(prog="glmv-agent", description="GUI agents driven by GLM vision models.")
    parser.add_argument("--version", action="version", version=f"glmv-agent {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub, platform)
    _add_parse(sub)
    profiles = sub.add_parser("profiles", help="list the prompt profiles")
    profiles.set_defaults(func=lambda args: _print_lines(profile_keys()))
    for name in (*PLATFORM_MODULES.values(), *EXTRA_MODULES):
        module = _optional_module(name)
        if module is not None and hasattr(module, "register_commands"):
            _register(module.register_commands, sub, platform)
    for command in sub.choices.values():  # -v after the subcommand too; defaults shown only where they say something
        if "-v" not in command._option_string_actions:  # noqa: SLF001 - argparse has no public lookup
            command.add_argument("-v", "--verbose", action="count", default=0, dest="verbose_after",
                                 help="log more (-vv for debug)")
        if command.formatter_class is argparse.ArgumentDefaultsHelpFormatter:
            command.formatter_class = HelpFormatter
    return parser


def _register(register: Callable[..., None], sub: Any, platform: str | None) -> None:
    """``register(sub)``; a register_commands that takes ``platform`` gets the command line's, to scope its
    commands' platform flags as run's are."""
    if "platform" in inspect.signature(register).parameters:
        register(sub, platform=platform)
    else:
        register(sub)


def _platform_in(argv: Sequence[str]) -> str | None:
    """The --platform value on a command line: the parser then takes (and --help shows) only its flags."""
    for index, arg in enumerate(argv):
        if arg == "--platform" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--platform="):
            return arg.split("=", 1)[1]
    return None


def _print_lines(lines: list[str]) -> int:
    for line in lines:
        print(line)
    return 0


def profile_key(model: str, platform: str, web_mode: str | None = None) -> str:
    if model == "autoglm-phone" and platform != "mobile":
        raise ConfigError("autoglm-phone speaks only the mobile grammar; use --platform mobile")
    if platform == "web" and web_mode == "pixel":
        return f"{model}/desktop"
    return f"{model}/{platform}"


def cmd_parse(args: argparse.Namespace) -> int:
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the input is not UTF-8 text (byte {exc.start})") from None
    profile = get_profile(profile_key(args.model, args.platform))
    try:
        decision = profile.parse(text, tail=args.as_reasoning)
    except ParseError as exc:
        _print_error(exc)
        return 2
    out = {"action": decision.action.wire(), "thought": decision.thought, "memory": decision.memory}
    print(json_line(out))
    return 0


def make_backend(args: argparse.Namespace, asynchronous: bool = False) -> Any:
    if args.replay:
        from .backends.replay import ReplayBackend

        return ReplayBackend.from_file(args.replay)
    if getattr(args, "local", None):
        module = importlib.import_module(EXTRA_MODULES[0])
        return module.create_backend(args)
    require_endpoint(args)
    from .backends.openai_async import AsyncOpenAIBackend
    from .backends.openai_backend import EndpointConfig, OpenAIBackend

    overrides = {
        "base_url": args.base_url, "api_key": args.api_key, "model": args.api_model,
        "timeout_s": args.timeout, "max_retries": args.retries,
    }
    config = EndpointConfig.from_env(**{k: v for k, v in overrides.items() if v is not None})
    return AsyncOpenAIBackend(config) if asynchronous else OpenAIBackend(config)


def require_endpoint(args: argparse.Namespace) -> None:
    """ConfigError at once when no endpoint is configured (instead of trying a default address for a while)."""
    if not (getattr(args, "base_url", None) or any(os.environ.get(name) for name in BASE_URL_VARIABLES)):
        raise ConfigError("no model endpoint configured: pass --base-url URL (or set GLMV_BASE_URL), "
                          "or --replay FILE to replay recorded answers")


def make_environment(args: argparse.Namespace, progress: LiveProgress | None = None) -> Any:
    if getattr(args, "fake_screen", False):
        from .testing import FakeEnvironment
        from .types import Platform

        return FakeEnvironment(platform=Platform(args.platform))
    module = _optional_module(PLATFORM_MODULES[args.platform])
    if module is None:
        raise ConfigError(f"the {args.platform} platform is not available in this installation")
    if args.platform == "mobile" and progress is not None and sys.stdin.isatty():
        return module.create(args, takeover=progress.takeover)
    return module.create(args)


def generation_params(args: argparse.Namespace, defaults: GenerationParams) -> GenerationParams:
    """The profile's defaults with the generation flags that were given; ConfigError naming a bad flag."""
    names = ("temperature", "top_p", "frequency_penalty", "max_tokens", "thinking_budget")
    update: dict[str, Any] = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if args.thinking != "default":
        update["thinking"] = args.thinking == "on"
    try:
        return GenerationParams.model_validate({**defaults.model_dump(), **update})
    except ValidationError as exc:
        problems = "; ".join(f"--{str(e['loc'][0]).replace('_', '-')}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid generation flags: {problems}") from None


def _guard(args: argparse.Namespace, progress: LiveProgress) -> Guard:
    """Policy and confirmations; on a terminal the person is asked (also for AutoGLM's sensitive taps)."""
    policy = Policy.load(args.policy) if args.policy else None
    return Guard(policy, confirm_all=args.confirm, ask=progress.ask if sys.stdin.isatty() else None)


def cmd_run(args: argparse.Namespace) -> int:
    if args.confirm and not sys.stdin.isatty():  # nobody could approve an action: stop before anything starts
        raise ConfigError("--confirm asks before each action on the terminal, and this run has none; run it from a "
                          "terminal, or approve actions in a browser panel with `glmv-agent assistant --confirm`")
    key = profile_key(args.model, args.platform, getattr(args, "web_mode", None))
    profile = get_profile(key, args.prompt_dir, lang=args.lang)
    secrets = SecretStore.from_sources(args.secret, args.secrets_file)
    params = generation_params(args, profile.generation_defaults())  # bad flags fail before a model loads
    backend = make_backend(args)
    config = AgentConfig(
        max_steps=args.max_steps, max_reasks=args.max_reasks, run_dir=args.out, write_report=not args.no_report,
        params=params,
    )
    console = make_console(stderr=True) if args.json else None  # stdout holds only the JSON
    with signals_as_interrupts(), LiveProgress(console) as progress, make_environment(args, progress) as environment:
        hooks = AgentHooks(on_step=progress.step, on_phase=progress.phase)
        agent = Agent(profile, backend, environment, config, hooks=hooks, guard=_guard(args, progress),
                      secrets=secrets)
        result = agent.run(args.task)
    if args.json:
        print(json_line(result_json(result)))
    else:
        _print_result(result)
    return EXIT_CODES.get(result.status, EXIT_DEVICE)


def result_json(result: EpisodeResult) -> dict[str, Any]:
    """The run as the scripting contract states it: status, answer, error, steps (count), run_dir, and actions
    (executed / refused / failed: what became of the actions the model chose)."""
    return {"status": result.status, "answer": result.answer, "error": result.error,
            "steps": len({record.index for record in result.steps}), "run_dir": str(result.run_dir),
            "actions": result.actions.model_dump()}


def _print_error(exc: Exception) -> None:
    """The one ``error:`` line on stderr; the message may quote the model or a page, so no raw control characters."""
    print(f"error: {no_controls(str(exc))}", file=sys.stderr)


def _print_result(result: EpisodeResult) -> None:
    counts = result.actions
    print(f"status: {result.status} (actions: {counts.executed} executed, {counts.refused} refused, "
          f"{counts.failed} failed)")
    if result.answer:
        print(f"answer: {no_controls(result.answer)}")
    if result.error:
        print(f"reason: {no_controls(result.error)}")
    print(f"run folder: {result.run_dir}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code follows EXIT_CODES (configuration errors 2, endpoint or device errors 5)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(_platform_in(argv)).parse_args(argv)  # another platform's flag is a usage error
    verbose = args.verbose + getattr(args, "verbose_after", 0)
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    handler = logging.StreamHandler()  # log lines quote model and page text: no raw control characters
    handler.setFormatter(PrintableFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    try:
        return int(args.func(args) or 0)
    except (DeviceError, BackendError) as exc:
        _print_error(exc)
        return EXIT_DEVICE
    except GlmvError as exc:
        _print_error(exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_CODES["aborted"]


if __name__ == "__main__":
    sys.exit(main())
