"""The assistant session: one worker thread that owns the device and handles the person's messages one at a time.

The environment is created, used and closed on that thread (drivers such as Playwright's sync API require it).
Each message is routed (:mod:`.routing`): a question is answered from a screenshot without acting; a task runs
the agent loop (:mod:`.task`) into its own run folder, with the earlier turns told to the model. Everything that
happens is published on the :class:`EventBus` for the panel or the terminal.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..agent import AgentConfig
from ..errors import ConfigError, GlmvError, UserAbort
from ..oversight.guard import Answer
from ..oversight.policy import Policy
from ..oversight.secrets import SecretStore
from ..types import Observation
from .conversation import Conversation, ConversationProfile, Turn
from .events import Answered, Ended, EventBus, Routed, Said, State
from .holds import Holds
from .images import ImageStore
from .routing import route
from .task import TaskParts, TaskRun

log = logging.getLogger(__name__)
MAX_MESSAGE = 4000  # characters
EnvironmentFactory = Callable[[Callable[[str], None]], Any]  # given the takeover prompt: an environment (a `with`)


class Busy(GlmvError):
    """A message arrived while another one is still being handled, or after the session ended."""


class SessionSettings(BaseModel):
    """Everything a session is built from (the CLI fills it from flags; tests from fakes)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    profile: Any
    backend: Any
    make_environment: EnvironmentFactory
    folder: Path
    config: AgentConfig = Field(default_factory=AgentConfig)
    policy: Policy | None = None
    confirm_all: bool = False
    secrets: SecretStore = Field(default_factory=SecretStore)


class AssistantSession:
    """``start()``, then ``submit`` messages, ``stop`` the running task, ``resolve`` holds; ``close()`` at the end."""

    def __init__(self, settings: SessionSettings, bus: EventBus | None = None, images: ImageStore | None = None
                 ) -> None:
        self.settings = settings
        self.bus = bus or EventBus()
        self.images = images or ImageStore()
        self.conversation = Conversation(settings.folder, settings.secrets)
        self._stop = threading.Event()
        self.holds = Holds(self.bus, self._stop.is_set)
        self._inbox: queue.Queue[Turn | None] = queue.Queue()
        self._lock = threading.Lock()
        self._busy = False
        self._closed = False
        self._current = 0
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="glmv-assistant", daemon=True)

    @property
    def busy(self) -> bool:
        return self._busy

    def start(self) -> AssistantSession:
        """Start the worker and wait until the environment is up; its error (no browser, no phone...) is raised."""
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            self._thread.join()
            raise self._failure
        return self

    def submit(self, text: str) -> Turn:
        """Queue a message; ConfigError when empty or too long, Busy while another message is handled."""
        text = text.strip()
        if not text:
            raise ConfigError("the message is empty")
        if len(text) > MAX_MESSAGE:
            raise ConfigError(f"the message is longer than {MAX_MESSAGE} characters")
        with self._lock:
            if self._closed:
                raise Busy("the assistant has shut down")
            if self._busy:
                raise Busy("the assistant is still on the previous message: wait for it or press Stop")
            self._busy = True
            self._stop.clear()
            turn = self.conversation.begin(text)
            self._current = turn.number
            self.bus.publish(Said(turn=turn.number, text=text))
            self.bus.publish(State(busy=True))
        self._inbox.put(turn)
        return turn

    def stop(self) -> bool:
        """Stop the current task (it ends ``aborted``, its run folder saved); False when nothing is running."""
        with self._lock:
            if not self._busy:
                return False
            self._stop.set()  # first the flag, then the holds: see Holds
            self.bus.publish(State(busy=True, stopping=True))
        self.holds.release_all("stop")
        return True

    def resolve(self, hold: int, answer: Answer) -> bool:
        """Answer an open hold (``yes`` approves / continues, ``no`` denies); False when it is not open."""
        return self.holds.resolve(hold, answer)

    def close(self, timeout: float = 30.0) -> None:
        """Stop what runs, end the worker and close the environment (waits up to ``timeout`` seconds)."""
        with self._lock:
            self._closed = True
            self._stop.set()
        self.holds.release_all("stop")
        self._inbox.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.bus.close()

    # --- the worker thread ----------------------------------------------------------------------------------

    def _work(self) -> None:
        try:
            with self.settings.make_environment(self._takeover) as environment:
                self._ready.set()
                while (turn := self._inbox.get()) is not None:
                    self._handle(environment, turn)
        except BaseException as exc:  # noqa: BLE001 - handed to start(), or logged
            if not self._ready.is_set():
                self._failure = exc
            else:
                log.exception("the assistant's worker stopped")
        finally:
            self._ready.set()

    def _handle(self, environment: Any, turn: Turn) -> None:
        try:
            self._route(environment, turn)
        except (GlmvError, OSError) as exc:
            turn.status, turn.error = "error", str(exc)
        except Exception as exc:  # a bug or a driver failure: keep the session, report one line
            log.exception("turn %d failed", turn.number)
            turn.status, turn.error = "error", f"unexpected {type(exc).__name__}: {exc}"
        self.conversation.finish(turn)
        with self._lock:
            self._busy = False
            self.bus.publish(self._ended(turn))
            self.bus.publish(State(busy=False))

    def _route(self, environment: Any, turn: Turn) -> None:
        observation = environment.observe()
        routed = route(self.settings.backend, self._params(), turn.text, observation,
                       self.conversation.context(turn.number))
        turn.route_replies = routed.replies
        if routed.kind == "unclear":
            turn.status = "error"
            turn.error = "the model's reply was neither TASK nor ANSWER: ...; nothing was done"
            return
        turn.kind = routed.kind
        self.bus.publish(Routed(turn=turn.number, kind=routed.kind))
        if routed.kind == "question":
            self._answer(turn, observation, routed.answer or "")
        else:
            self._run_task(environment, turn)

    def _answer(self, turn: Turn, observation: Observation, answer: str) -> None:
        """A question's answer: shown with the screenshot it came from. Takes no environment: nothing can run."""
        name = f"questions/turn_{turn.number:02d}.png"
        (self.conversation.folder / "questions").mkdir(exist_ok=True)
        observation.screenshot.save(self.conversation.folder / name, format="PNG", compress_level=1)
        turn.status, turn.answer, turn.screenshot = "answered", answer, name
        image = self.images.put(observation.model_image)
        self.bus.publish(Answered(turn=turn.number, text=self.settings.secrets.redact(answer) or "", image=image))

    def _run_task(self, environment: Any, turn: Turn) -> None:
        s = self.settings
        profile = ConversationProfile(s.profile, self.conversation.note(turn.number))
        parts = TaskParts(
            profile=profile, backend=s.backend, environment=environment, config=s.config, policy=s.policy,
            confirm_all=s.confirm_all, secrets=s.secrets, bus=self.bus, images=self.images,
            ask=lambda text: self.holds.ask(turn.number, "confirm", text), stopping=self._stop.is_set,
        )
        run_dir = self.conversation.run_dir(turn)
        result = TaskRun(parts, turn.number, run_dir).run(turn.text)
        turn.status, turn.answer, turn.error = result.status, result.answer, result.error
        turn.run_dir = run_dir.name

    def _takeover(self, message: str) -> None:
        """AutoGLM's Take_over: the person acts on the device, then presses Continue (or Stop)."""
        if self.holds.ask(self._current, "takeover", message) != "yes":
            raise UserAbort("stopped at the takeover prompt")

    def _params(self) -> Any:
        return self.settings.config.params or self.settings.profile.generation_defaults()

    def _ended(self, turn: Turn) -> Ended:
        report = folder = None
        if turn.run_dir:
            run_dir = self.conversation.folder / turn.run_dir
            folder = str(run_dir.resolve())
            if (run_dir / "report.html").is_file():
                report = f"/runs/{turn.run_dir}/report.html"
        redact = self.settings.secrets.redact
        return Ended(turn=turn.number, kind=turn.kind, status=turn.status, answer=redact(turn.answer),
                     error=redact(turn.error), report=report, folder=folder)
