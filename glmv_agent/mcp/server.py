"""The MCP server: one device (a browser, a phone or this desktop) behind four tools, on the official ``mcp`` SDK.

Tools: ``run_task(task, max_steps)`` (the whole agent loop), ``act(instruction)`` (a few grounded actions),
``query(question)`` (an answer read from the screen) and ``screenshot()`` (the screen as a PNG). Each of the first
three returns a :class:`ToolResult` (status, answer, error, steps, run_dir) and sends a progress notification per
step when the client asked for progress. Calls run one at a time on one :class:`~glmv_agent.api.base.AsyncStepAgent`,
so every call lands in the server's run folder and report (written when the server stops). The device is opened on
the first call that needs it and closed when the server stops.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, WithJsonSchema

from ..agent import MAX_STEPS, AgentHooks, EpisodeResult, step_cap
from ..api.base import AsyncStepAgent
from ..api.results import ActFailed
from ..errors import GlmvError, ParseError
from ..recording import StepRecord
from ..threaded import ThreadedEnvironment

INSTRUCTIONS = (
    "glmv-agent drives one {platform} with a GLM vision model. run_task does a whole task; act does one "
    "instruction (a few actions); query reads an answer from the screen; screenshot shows the screen. Every "
    "result says its status, the answer and the run folder with the recorded steps."
)


class ToolResult(BaseModel):
    """What run_task, act and query return (also as structured content)."""

    status: str  # complete | infeasible | failed | max_steps | looping | error | aborted
    answer: str | None = None
    error: str | None = None
    steps: int = 0  # steps this call made
    run_dir: str  # the server's run folder: steps.jsonl, calls.jsonl, screenshots/, report.html at the end


def _result(result: EpisodeResult) -> ToolResult:
    return ToolResult(status=result.status, answer=result.answer, error=result.error,
                      steps=len({record.index for record in result.steps}), run_dir=str(result.run_dir))


AgentFactory = Callable[[Any], AsyncStepAgent]  # environment -> the step agent on it
# run_task's max_steps: any JSON value reaches step_cap, whose one-line error names the argument (the SDK's own
# validation would answer a multi-line pydantic report); clients still see an integer with its bounds.
StepCount = Annotated[object, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_STEPS})]


def _step_cap(max_steps: object) -> int:
    """run_task's max_steps as a step cap; ToolError (one line, naming the argument) when it is not one."""
    try:
        return step_cap(max_steps)
    except ValueError as exc:
        raise ToolError(f"max_steps {exc}") from None


class DeviceSession:
    """The device and its step agent, opened on first use; one call at a time."""

    def __init__(self, make_environment: Callable[[], Any], make_agent: AgentFactory) -> None:
        self._make_environment = make_environment
        self._make_agent = make_agent
        self._lock = asyncio.Lock()
        self._environment: ThreadedEnvironment | None = None
        self.agent: AsyncStepAgent | None = None

    async def open(self) -> AsyncStepAgent:
        if self.agent is None:
            environment = ThreadedEnvironment(self._make_environment, name="mcp")
            await environment.__aenter__()
            self._environment = environment
            self.agent = self._make_agent(environment)
        return self.agent

    async def close(self) -> None:
        if self.agent is not None:
            await self.agent.aclose()
        if self._environment is not None:
            await self._environment.aclose()

    @asynccontextmanager
    async def call(self, ctx: Context | None, total: float | None) -> AsyncIterator[AsyncStepAgent]:
        """The agent for one tool call, reporting each finished step as progress to the client."""
        async with self._lock:
            agent = await self.open()
            sent: list[asyncio.Task[None]] = []

            def on_step(record: StepRecord) -> None:
                if ctx is not None:
                    action = (record.action or {}).get("type", "no action")
                    message = f"step {record.index}: {action}" + (f" ({record.error})" if record.error else "")
                    sent.append(asyncio.ensure_future(ctx.report_progress(record.index + 1, total, message)))

            agent.hooks = AgentHooks(on_step=on_step)
            try:
                yield agent
            finally:
                agent.hooks = AgentHooks()
                await asyncio.gather(*sent, return_exceptions=True)


def build_server(session: DeviceSession, platform: str, max_steps: int = 30) -> MCPServer:
    """An MCPServer whose tools drive ``session``'s device; the session closes when the server stops."""

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[DeviceSession]:
        try:
            yield session
        finally:
            await session.close()

    server: MCPServer = MCPServer("glmv-agent", instructions=INSTRUCTIONS.format(platform=platform),
                                  lifespan=lifespan)

    @server.tool()
    async def run_task(task: str, ctx: Context, max_steps: StepCount = max_steps) -> ToolResult:
        """Do a whole task on the device (the agent loop, at most max_steps steps)."""
        cap = _step_cap(max_steps)
        async with session.call(ctx, cap) as agent:
            return _result(await agent.run(task, max_steps=cap))

    @server.tool()
    async def act(instruction: str, ctx: Context) -> ToolResult:
        """Carry out one instruction (a few grounded actions, e.g. "click the Login button")."""
        async with session.call(ctx, None) as agent:
            try:
                return _result(await agent.act(instruction))
            except ActFailed as failed:
                return _result(failed.result)

    @server.tool()
    async def query(question: str, ctx: Context) -> ToolResult:
        """Answer a question from what the screen shows now (nothing is clicked or typed)."""
        async with session.call(ctx, 1) as agent:
            try:
                answer = await agent.query(question)
            except GlmvError as exc:
                return ToolResult(status="failed" if isinstance(exc, ParseError) else "error", error=str(exc),
                                  steps=1, run_dir=str(agent.run_dir))
            return ToolResult(status="complete", answer=answer, steps=1, run_dir=str(agent.run_dir))

    @server.tool()
    async def screenshot() -> Image:
        """The device's screen now, as a PNG image."""
        async with session.call(None, None) as agent:
            observation = await agent.environment.aobserve()
        buffer = io.BytesIO()
        observation.screenshot.save(buffer, format="PNG")
        return Image(data=buffer.getvalue(), format="png")

    return server


__all__ = ["DeviceSession", "ToolResult", "build_server"]
