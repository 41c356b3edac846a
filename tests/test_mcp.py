"""The MCP server as another agent meets it: the official SDK's client starts `glmv-agent mcp` as a real
subprocess over stdio, lists the tools, and completes replayed tasks (in-memory screen and the web demo site in
headless Chromium), with a progress notification per step and the run folder in every result."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")
from mcp import Client, StdioServerParameters  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CLICK = 'Memory: None\nReason: tap Wi-Fi\nAction: {"action_type": "click", "box_2d": [[100,200,300,400]]}'
ANSWER = 'Memory: None\nReason: say\nAction: {"action_type": "answer", "text": "HomeNet"}'
DONE = 'Memory: None\nReason: done\nAction: {"action_type": "status", "goal_status": "complete"}'


def _server(*args: str) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLMV_", "OPENAI_"))}
    return StdioServerParameters(command=sys.executable, args=["-m", "glmv_agent.cli", "mcp", *args],
                                 env={**env, "PYTHONPATH": str(ROOT)}, cwd=str(ROOT))


def _replay(tmp_path: Path, answers: list[str]) -> str:
    path = tmp_path / "replay.jsonl"
    path.write_text("".join(json.dumps({"content": a}) + "\n" for a in answers), encoding="utf-8")
    return str(path)


async def _calls(server: StdioServerParameters, calls: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async with Client(server, read_timeout_seconds=120) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        results = [await client.call_tool(name, arguments, progress_callback=on_progress) for name, arguments in calls]
    return {"tools": tools, "results": results, "progress": progress}


def test_the_sdk_client_lists_the_tools_and_completes_a_replayed_task(tmp_path: Path) -> None:
    replay = _replay(tmp_path, [CLICK, ANSWER, DONE, "<think>I read it.</think><|begin_of_box|>HomeNet<|end_of_box|>"])
    server = _server("--platform", "mobile", "--fake-screen", "--replay", replay, "--out", str(tmp_path / "run"))
    out = asyncio.run(_calls(server, [("run_task", {"task": "Tell me the Wi-Fi name", "max_steps": 5}),
                                      ("query", {"question": "What is the Wi-Fi name?"}), ("screenshot", {})]))
    assert set(out["tools"]) == {"run_task", "act", "query", "screenshot"}
    assert set(out["tools"]["run_task"].input_schema["properties"]) == {"task", "max_steps"}
    run, query, shot = out["results"]
    assert not run.is_error
    assert run.structured_content == {"status": "complete", "answer": "HomeNet", "error": None, "steps": 3,
                                      "run_dir": str(tmp_path / "run")}
    assert query.structured_content["answer"] == "HomeNet" and query.structured_content["status"] == "complete"
    assert [p[0] for p in out["progress"]][:3] == [1, 2, 3]  # one notification per step of run_task
    assert "step 0: click" in out["progress"][0][2] and out["progress"][0][1] == 5
    image = Image.open(io.BytesIO(base64.b64decode(shot.content[0].data)))
    assert shot.content[0].mime_type == "image/png" and image.size == (1080, 2400)
    steps = (tmp_path / "run" / "steps.jsonl").read_text().splitlines()
    assert len(steps) == 4  # three loop steps and the query, in the server's one run folder
    assert (tmp_path / "run" / "report.html").is_file()  # written when the client closed the server


def test_act_on_the_web_demo_site_in_chromium(tmp_path: Path) -> None:
    from glmv_agent.environments.web.demo import SITE
    from glmv_agent.environments.web.options import SYSTEM_BROWSERS
    from glmv_agent.environments.web.server import StaticServer

    if not any(Path(p).is_file() for p in SYSTEM_BROWSERS):
        pytest.skip("needs a system Chromium")
    act = ["Thought: type tofu\nAction: Type [1]; [tofu]\nMemory_Updated: {}",
           "Thought: searched\nAction: ANSWER; <content>searched</content>\nMemory_Updated: {}"]
    with StaticServer(SITE) as site:
        server = _server("--platform", "web", "--url", site.url + "index.html", "--replay", _replay(tmp_path, act),
                         "--out", str(tmp_path / "run"), "--allowed-domains", "127.0.0.1")
        out = asyncio.run(_calls(server, [("act", {"instruction": "search for tofu"})]))
    result = out["results"][0].structured_content
    assert result["status"] == "complete" and result["answer"] == "searched" and result["steps"] == 2
    steps = [json.loads(line) for line in (tmp_path / "run" / "steps.jsonl").read_text().splitlines()]
    assert "results.html" in steps[1]["url"] and "tofu" in steps[1]["url"]  # the search really ran


def test_no_endpoint_stops_the_server_at_once_with_one_line(tmp_path: Path) -> None:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "glmv_agent.cli", "mcp", "--platform", "mobile", "--fake-screen"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={k: v for k, v in os.environ.items() if not k.startswith(("GLMV_", "OPENAI_"))})
    assert done.returncode == 2 and done.stdout == "" and "--base-url" in done.stderr


def test_http_serves_on_localhost(tmp_path: Path) -> None:
    import socket
    import subprocess
    import time

    from test_mobile_support import free_port

    port = free_port()
    replay = _replay(tmp_path, [ANSWER, DONE])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLMV_", "OPENAI_"))}
    process = subprocess.Popen([sys.executable, "-m", "glmv_agent.cli", "mcp", "--platform", "mobile",
                                "--fake-screen", "--replay", replay, "--out", str(tmp_path / "run"), "--http",
                                str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "the HTTP server did not start"
                time.sleep(0.2)
        if Path("/proc/net/tcp").is_file():  # the listening socket's local address: 127.0.0.1 only
            rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
            local = {row[1] for row in rows if row[3] == "0A" and int(row[1].split(":")[1], 16) == port}
            assert local == {f"0100007F:{port:04X}"}

        async def call() -> Any:
            async with Client(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=60) as client:
                return await client.call_tool("run_task", {"task": "Tell me the Wi-Fi name"})

        result = asyncio.run(call())
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert result.structured_content["status"] == "complete" and result.structured_content["answer"] == "HomeNet"


BAD_STEPS = [0, -3, 10**6, 2.5, "7", True, None]


def test_run_task_refuses_a_bad_max_steps_naming_the_argument_and_runs_nothing(tmp_path: Path) -> None:
    replay = _replay(tmp_path, [ANSWER, DONE])
    server = _server("--platform", "mobile", "--fake-screen", "--replay", replay, "--out", str(tmp_path / "run"))
    calls = [("run_task", {"task": "Tell me the Wi-Fi name", "max_steps": bad}) for bad in BAD_STEPS]
    out = asyncio.run(_calls(server, [*calls, ("run_task", {"task": "Tell me the Wi-Fi name", "max_steps": 5.0})]))
    schema = out["tools"]["run_task"].input_schema["properties"]["max_steps"]
    assert (schema["type"], schema["minimum"], schema["maximum"], schema["default"]) == ("integer", 1, 1000, 30)
    *refused, good = out["results"]
    for bad, result in zip(BAD_STEPS, refused, strict=True):
        text = result.content[0].text
        assert result.is_error and "\n" not in text, (bad, text)
        assert text == f"Error executing tool run_task: max_steps must be a whole number from 1 to 1000 (got {bad!r})"
    assert not good.is_error and good.structured_content["status"] == "complete"  # 5.0 is the integer 5
    steps = (tmp_path / "run" / "steps.jsonl").read_text().splitlines()
    assert len(steps) == 2  # only the good call's steps: the refused ones never reached the device or the model


@pytest.mark.parametrize("command", ["run", "mcp"])
@pytest.mark.parametrize("bad", ["0", "1001", "2.5"])
def test_the_cli_max_steps_has_the_same_bounds(command: str, bad: str) -> None:
    import subprocess

    task = ["t"] if command == "run" else []
    done = subprocess.run([sys.executable, "-m", "glmv_agent.cli", command, *task, "--platform", "mobile",
                           "--fake-screen", "--max-steps", bad], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"glmv-agent {command}: error: argument --max-steps: must be a whole "
                           f"number from 1 to 1000 (got '{bad}')\n")  # one line: no usage block
