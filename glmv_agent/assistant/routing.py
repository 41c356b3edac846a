"""Task or question? One model call of ours decides, and answers the question in the same reply.

The model is shown the current screenshot, the conversation so far and the message, with a prompt asking for exactly
``TASK`` (the person wants something done) or ``ANSWER: <text>`` (a question answered by looking). This design is
what guarantees that a question executes nothing: :func:`route` takes an :class:`Observation` and the backend, never
the environment, so the question path has no way to act; only a ``TASK`` reply starts the agent loop (with the
task's own prompt profile). Running the task profile and treating an immediate answer as a question would not
guarantee it: the model may act first. A reply in neither form is re-asked once, then reported as an error (and
nothing runs).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel

from ..errors import ParseError
from ..parsing import BOX_CLOSE, BOX_OPEN, split_reasoning
from ..types import ChatMessage, GenerationParams, ImagePart, Observation, TextPart

ROUTE_PROMPT = """You are a GUI assistant working on the person's {platform} screen, shown in the image.
The person sends you one message at a time. Decide what the message is:
- a TASK: the person wants something done on the screen (open, click, type, search, change, send, buy ...).
  Reply with exactly: TASK
- a QUESTION about what is on the screen, or about what was done earlier in this conversation, that you can answer
  by looking, without touching anything. Reply with: ANSWER: <your answer, in the person's language>
Reply in one of the two forms and nothing else."""

REASK = "Your reply was in neither form. Reply with exactly TASK, or with ANSWER: followed by the answer."
_TASK = re.compile(r"^[\s*`#>]*TASK\b[\s.!*`]*$", re.IGNORECASE)
_ANSWER = re.compile(r"^[\s*`#>]*ANSWER\s*\**\s*[:：]\**\s*(.+)$", re.IGNORECASE | re.DOTALL)


class Route(BaseModel):
    kind: Literal["task", "question", "unclear"]  # unclear: neither form twice; nothing runs
    answer: str | None = None  # the question's answer
    replies: list[str]  # the model's raw replies, in order (recorded in conversation.jsonl)


def route_messages(message: str, observation: Observation, context: list[str], correction: str | None = None
                   ) -> list[ChatMessage]:
    """The routing prompt: our system text, then the conversation so far, the screenshot and the message."""
    earlier = "\n".join(context) if context else "(this is the first message)"
    user: list[TextPart | ImagePart] = [
        TextPart(text=f"The conversation so far:\n{earlier}\n\nThe current screen:"),
        ImagePart(image=observation.model_image),
        TextPart(text=f"The person's message: {message}"),
    ]
    if correction:
        user.append(TextPart(text=correction))
    system = ROUTE_PROMPT.format(platform=observation.platform.value)
    return [ChatMessage(role="system", content=[TextPart(text=system)]), ChatMessage(role="user", content=user)]


def parse_route(text: str) -> tuple[Literal["task", "question"], str | None]:
    """``("task", None)`` or ``("question", answer)``; ParseError for a reply in neither form."""
    visible = BOX_CLOSE.sub("", BOX_OPEN.sub("", split_reasoning(text).answer)).strip()
    if _TASK.match(visible):
        return "task", None
    found = _ANSWER.match(visible)
    if found and found.group(1).strip():
        return "question", found.group(1).strip()
    raise ParseError(f"expected TASK or ANSWER: ..., got {visible[:80]!r}")


def route(backend: Any, params: GenerationParams, message: str, observation: Observation, context: list[str]
          ) -> Route:
    """Ask the model whether ``message`` is a task or a question (answered at once); ``unclear`` when the reply is
    in neither form twice. Raises BackendError when the model cannot be reached."""
    replies: list[str] = []
    correction = None
    for _ in range(2):
        completion = backend.generate(route_messages(message, observation, context, correction), params)
        replies.append(completion.full_text())
        try:
            kind, answer = parse_route(replies[-1])
        except ParseError:
            correction = REASK
            continue
        return Route(kind=kind, answer=answer, replies=replies)
    return Route(kind="unclear", replies=replies)
