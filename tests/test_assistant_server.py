"""The assistant without a browser: the panel server's token gate and loopback-only socket, the routing reply
grammar, a busy session, and the `glmv-agent assistant` command (panel and --no-browser) as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("starlette")
from assistant_support import COMPLETE, GatedBackend, click, running_panel  # noqa: E402

from glmv_agent.assistant.routing import parse_route  # noqa: E402
from glmv_agent.backends.replay import ReplayBackend  # noqa: E402
from glmv_agent.errors import ParseError  # noqa: E402


def call(url: str, *, method: str = "GET", body: dict | None = None, headers: dict | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_every_route_refuses_a_request_without_the_right_token(tmp_path):
    with running_panel(tmp_path / "conv", ReplayBackend([])) as run:
        base, token = run.server.base, run.server.token
        wrong = ("x" if token[0] != "x" else "y") + token[1:]  # same length, one character off
        for path in ("/", "/api/events", "/static/panel.js", "/api/images/1.png", "/runs/conversation.jsonl"):
            assert call(base + path) == 403, path
            assert call(f"{base}{path}?token={wrong}") == 403, path
            assert call(base + path, headers={"X-Glmv-Token": wrong}) == 403, path
        assert call(f"{base}/?token={token}") == 200
        assert call(f"{base}/static/panel.js", headers={"X-Glmv-Token": token}) == 200
        message = {"text": "hello"}
        # a change needs the header: the query token or the cookie alone (what another site could send) is refused
        assert call(f"{base}/api/messages?token={token}", method="POST", body=message) == 403
        cookie = {"Cookie": f"glmv_assistant_{run.server.port}={token}"}
        assert call(f"{base}/api/messages", method="POST", body=message, headers=cookie) == 403
        assert call(f"{base}/api/stop", method="POST", body={}) == 403
        assert run.session.conversation.turns == []
        # another host name pointing at this machine (DNS rebinding) is refused even with the token
        foreign = {"X-Glmv-Token": token, "Host": f"attacker.example:{run.server.port}"}
        assert call(f"{base}/", headers=foreign) == 400


def _non_loopback_address() -> str | None:
    """This machine's address on a non-loopback interface, if it has one (a UDP connect sends nothing)."""
    candidates = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
            candidates.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        candidates.append(socket.gethostbyname(socket.gethostname()))
    except OSError:
        pass
    return next((a for a in candidates if not a.startswith("127.") and a != "0.0.0.0"), None)


def test_the_panel_listens_on_loopback_only(tmp_path):
    with running_panel(tmp_path / "conv", ReplayBackend([])) as run:
        assert run.server.socket.getsockname()[0] == "127.0.0.1"
        address = _non_loopback_address()
        if address is not None:  # reachable from another machine only through such an address: refused
            with pytest.raises(OSError), socket.create_connection((address, run.server.port), timeout=5):
                pass
        with socket.create_connection(("127.0.0.1", run.server.port), timeout=5):
            pass


def test_a_message_while_another_is_handled_is_refused_until_it_ends(tmp_path):
    backend = GatedBackend(["TASK", COMPLETE], hold_at=1)
    with running_panel(tmp_path / "conv", backend) as run:
        headers = {"X-Glmv-Token": run.server.token, "Content-Type": "application/json"}
        url = run.server.base + "/api/messages"
        assert call(url, method="POST", body={"text": "first"}, headers=headers) == 202
        assert call(url, method="POST", body={"text": "second"}, headers=headers) == 409
        assert call(url, method="POST", body={"text": "  "}, headers=headers) == 400
        assert call(run.server.base + "/api/holds/99", method="POST", body={"answer": "yes"}, headers=headers) == 404
        assert call(run.server.base + "/api/holds/1", method="POST", body={"answer": "maybe"},
                    headers=headers) == 400
        assert [t.text for t in run.session.conversation.turns] == ["first"]


@pytest.mark.parametrize("reply, expected", [
    ("TASK", ("task", None)),
    ("<think>They want it done.</think>\n<|begin_of_box|>TASK<|end_of_box|>", ("task", None)),
    ("**TASK**", ("task", None)),
    ("ANSWER: Two unread mails.", ("question", "Two unread mails.")),
    ("<answer>**ANSWER:** It says\n25 minutes</answer>", ("question", "It says\n25 minutes")),
    ("answer：屏幕上是设置页面", ("question", "屏幕上是设置页面")),
])
def test_routing_replies_are_read_in_their_real_shapes(reply, expected):
    assert parse_route(reply) == expected


@pytest.mark.parametrize("reply", ["I will open the settings.", "TASK: open settings", "ANSWER:", "", "TASKS"])
def test_a_routing_reply_in_neither_form_is_refused(reply):
    with pytest.raises(ParseError):
        parse_route(reply)


def test_an_unclear_routing_reply_is_reasked_then_runs_nothing(tmp_path):
    from glmv_agent.assistant.events import Ended

    backend = ReplayBackend(["Sure, I can do that.", "Let me click it.", click(300)])
    with running_panel(tmp_path / "conv", backend) as run:
        ended = []
        run.session.bus.subscribe(lambda e: ended.append(e) if isinstance(e, Ended) else None)
        run.session.submit("Tap the row")
        run.session.close()  # waits for the turn to finish
        assert run.env.executed == [] and backend.position == 2
        assert ended[0].status == "error" and "neither TASK nor ANSWER" in ended[0].error
        assert "Reply with exactly TASK" in backend.requests[1][-1].text()  # the re-ask says what went wrong


CLI = [sys.executable, "-m", "glmv_agent.cli", "assistant", "--platform", "mobile", "--fake-screen"]


def _replay_file(tmp_path: Path, replies: list[str]) -> Path:
    path = tmp_path / "replies.jsonl"
    path.write_text("".join(json.dumps({"content": r}) + "\n" for r in replies), encoding="utf-8")
    return path


def test_the_command_prints_the_panel_url_and_ends_cleanly_on_ctrl_c(tmp_path):
    replay = _replay_file(tmp_path, ["ANSWER: A grey screen."])
    process = subprocess.Popen([*CLI, "--replay", str(replay), "--no-open", "--out", str(tmp_path / "conv")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("assistant panel: http://127.0.0.1:"), line + process.stderr.read()
        url = line.split()[-1]
        base, token = url.split("/?token=")
        assert len(token) >= 32
        assert call(url) == 200 and call(base + "/") == 403
        headers = {"X-Glmv-Token": token}
        assert call(base + "/api/messages", method="POST", body={"text": "What is shown?"}, headers=headers) == 202
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "session ended" in out and "Traceback" not in err
    turns = [json.loads(x) for x in (tmp_path / "conv" / "conversation.jsonl").read_text().splitlines()]
    assert [(t["kind"], t["answer"]) for t in turns] == [("question", "A grey screen.")]


def test_no_browser_holds_the_same_conversation_in_the_terminal(tmp_path):
    replay = _replay_file(tmp_path, ["ANSWER: A grey screen.", "TASK", click(200), COMPLETE])
    done = subprocess.run([*CLI, "--replay", str(replay), "--no-browser", "--confirm", "--out", str(tmp_path / "c")],
                          input="What is on the screen?\nTap the first row\ny\n", capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "answer: A grey screen." in out
    assert "(question: answered by looking, nothing is done)" in out and "(task: the agent acts)" in out
    assert "Allow click" in out and "status: complete" in out
    assert out.index("answer: A grey screen.") < out.index("Allow click") < out.index("status: complete")
    summary = json.loads((tmp_path / "c" / "02-tap-the-first-row" / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["steps"] == 2


class _TakeoverScreen:
    """The in-memory screen, but AutoGLM's Take_over hands the device to the person as the phone does."""

    def __init__(self, takeover) -> None:
        from glmv_agent.testing import FakeEnvironment

        self.inner = FakeEnvironment(size=(540, 1200))
        self.platform = self.inner.platform
        self.takeover = takeover
        self.handed = []

    def observe(self):
        return self.inner.observe()

    def execute(self, action, observation):
        if action.type == "Take_over":
            self.handed.append(action.message)
            self.takeover(action.message)  # returns when the person is done; raises UserAbort on stop
            from glmv_agent.types import Outcome

            return Outcome(detail="the person took over")
        return self.inner.execute(action, observation)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


@pytest.mark.parametrize("answer, status", [("yes", "complete"), ("no", "aborted")])
def test_a_takeover_waits_for_continue_or_stop_from_the_person(tmp_path, answer, status):
    import threading

    from glmv_agent.agent import AgentConfig
    from glmv_agent.assistant import AssistantSession, SessionSettings
    from glmv_agent.assistant.events import Ended, Held
    from glmv_agent.profiles import get_profile

    screens = []

    def make(takeover):
        screens.append(_TakeoverScreen(takeover))
        return screens[0]

    replies = ["TASK", 'do(action="Take_over", message="Please log in")', 'finish(message="logged in")']
    settings = SessionSettings(profile=get_profile("autoglm-phone/mobile"), backend=ReplayBackend(replies),
                               make_environment=make, folder=tmp_path / "conv", config=AgentConfig(max_steps=5))
    session = AssistantSession(settings).start()
    held, ended = threading.Event(), threading.Event()
    holds: list[Held] = []
    endings: list[Ended] = []

    def watch(event):
        if isinstance(event, Held):
            holds.append(event)
            held.set()
        elif isinstance(event, Ended):
            endings.append(event)
            ended.set()

    session.bus.subscribe(watch)
    try:
        session.submit("Open my mail")
        assert held.wait(60)
        assert (holds[0].kind, holds[0].text) == ("takeover", "Please log in")
        assert session.resolve(holds[0].hold, answer)
        assert ended.wait(60)
    finally:
        session.close()
    assert endings[0].status == status and screens[0].handed == ["Please log in"]
