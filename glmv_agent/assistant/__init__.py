"""The assistant: one job — an ongoing conversation with the agent on a desktop, phone or browser, in a local web
panel (``glmv-agent assistant``) or the terminal (``--no-browser``).

Each message is routed by the model (:mod:`.routing`): a task runs the agent loop into its own run folder, a
question is answered from a screenshot without acting. The panel (:mod:`.server`, Starlette + uvicorn on 127.0.0.1,
token-gated) streams every step as server-sent events, shows the planned action on the screenshot, and has Stop and
Approve / Deny. :class:`AssistantSession` is the part without any web stack.
"""

from __future__ import annotations

from .events import EventBus, PanelEvent
from .session import AssistantSession, Busy, SessionSettings

__all__ = ["AssistantSession", "Busy", "EventBus", "PanelEvent", "SessionSettings"]
