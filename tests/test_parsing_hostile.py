"""Hostile sizes and encodings: every input ends in a ParseError (or a valid action) in time linear in its length,
and the run's records stay valid JSON whatever string the model or server returned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glmv_agent.agent import Agent, AgentConfig
from glmv_agent.backends.openai_backend import EndpointConfig, OpenAIBackend
from glmv_agent.errors import ParseError
from glmv_agent.literal import read_literal
from glmv_agent.profiles import get_profile, profile_keys
from glmv_agent.recording import MAX_RECORDED_TEXT, RunRecorder, RunSummary, StepRecord
from glmv_agent.testing import FakeEnvironment
from tests.support import FakeOpenAIServer, Reply
from tests.support.timing import CpuClock

KEYS = profile_keys()
DEEP = "[" * 200 + "1" + "]" * 200


@pytest.mark.parametrize(("key", "text"), [
    ("glm-4.5v/mobile", 'Action: {"action_type": "click", "box_2d": [[1e999, 2, 3, 4]]}'),
    ("glm-4.5v/mobile", 'Action: {"action_type": "click", "box_2d": [[-1e999, 2, 3, 4]]}'),
    ("glm-4.1v/mobile", 'Action: {"action_type": "click", "box_2d": [[' + "9" * 5000 + ", 2, 3, 4]]}"),
    ("glm-4.5v/desktop", "left_click(start_box='[" + "9" * 5000 + ", 2]')"),
    ("glm-4.5v/desktop", "left_click(start_box=[" + "7" * 400 + ".5, 2])"),
    ("glm-4.5v/desktop", "scroll(start_box='[1,2]', direction='up', step=" + "9" * 4400 + ")"),
    ("autoglm-phone/mobile", 'do(action="Tap", element=[' + "1" * 100_000 + ", 5])"),
    ("glm-4.1v/web", "Thought: t\nAction: Click [" + "1" * 5000 + "]"),
    ("glm-4.5v/web", "Thought: t\nAction: Scroll [" + "1" * 5000 + "]; [down]"),
    ("glm-4.5v/mobile", 'Action: {"action_type": "click", "box_2d": ' + DEEP + "}"),
    ("glm-4.5v/mobile", 'Action: {"action_type": "wait", ' + "{" * 300 + '"k": 1' + "}" * 300 + ": 2}"),
    ("glm-4.5v/mobile", 'Action: {"action_type": "wait", ' + "[" * 300 + "]" * 300 + ": 2}"),
    ("glm-4.5v/desktop", "left_click(start_box=" + DEEP + ")"),
    ("autoglm-phone/mobile", 'do(action="Tap", element=' + DEEP + ")"),
    ("glm-4.5v/mobile", 'Action: {"action_type": "answer", "text": "\\uD83D"}'),
    ("glm-4.5v/mobile", 'Action: {"action_type": "answer", "text": "\\uDE00 low half first \\uD83D"}'),
    ("autoglm-phone/mobile", 'do(action="Type", text="\\ud83d\\u0041")'),
    ("glm-4.5v/desktop", "type(content='\ud83d raw half')"),
    ("glm-4.5v/web", "Thought: t\nAction: Type [1]; [\udc80 raw half]"),
])
def test_e_out_of_range_numbers_deep_nesting_and_lone_surrogates_are_parse_errors(key: str, text: str) -> None:
    with pytest.raises(ParseError):
        get_profile(key).parse(text)


def test_e_surrogate_pairs_decode_as_json_loads_does() -> None:
    for escaped in ("\\uD83D\\uDE00", "\\ud83d\\ude00 x", "\\u00e9\\uD83D\\uDE00\\u4e2d"):
        assert read_literal(f'"{escaped}"')[0] == json.loads(f'"{escaped}"')
    decision = get_profile("glm-4.5v/mobile").parse('Action: {"action_type": "answer", "text": "ok \\uD83D\\uDE00"}')
    assert decision.action.wire() == {"type": "answer", "text": "ok 😀"}


# Time bounds read CpuClock: the CPU time of this thread without garbage collection, so a busy machine or a big
# test process does not fail them.
HOSTILE_UNITS = [" ", "<", "|", "<|", "< |", "{", "[", "\\", '"', "'", "do(", "Action: ", "Memory ", "Type [1]; [",
                 "<think>", "</think>", '{"action_type": "', "type(content='", "\\u", "9", "Scroll ", "<\n", ")",
                 "WAIT()\nMemory: [", 'Action: Wait\nMemory_Updated: {"a": "', "Action: Click [", "Scroll [1]; [",
                 "Type [1]; [a ["]


@pytest.mark.parametrize("unit", HOSTILE_UNITS)
def test_e_64_kb_of_one_hostile_unit_fails_fast_in_every_grammar(unit: str) -> None:
    text = (unit * (65_536 // len(unit) + 1))[:65_536]
    for key in KEYS:
        profile = get_profile(key)
        for tail in ("", "x", "]"):
            with CpuClock() as clock:
                try:
                    profile.parse(text + tail)
                except ParseError:
                    pass
            assert clock.seconds < 0.1, (key, unit, tail)


def test_e_time_grows_linearly_with_the_length() -> None:
    def cost(size: int) -> float:
        text = ('<think>a</think>Action: {"action_type": "click", "box_2d": [[1,' + "<| " * size)[: size * 3]
        best = 1e9
        for _ in range(3):
            with CpuClock() as clock, pytest.raises(ParseError):
                get_profile("glm-4.5v/mobile").parse(text)
            best = min(best, clock.seconds)
        return best

    assert cost(160_000) < 30 * max(cost(10_000), 1e-3)  # 16x the input: far from the 256x of a quadratic


def test_e_a_50_mb_reply_is_refused_at_once() -> None:
    text = 'Action: {"action_type": "wait"} ' * 1_700_000
    profile = get_profile("glm-4.5v/mobile")
    with CpuClock() as clock, pytest.raises(ParseError, match="degenerate output"):
        profile.parse(text)
    assert clock.seconds < 0.1


def test_e_summary_and_steps_stay_valid_json_whatever_the_strings(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path / "run", RunSummary(task="type \udcff here", profile="p", platform="mobile"))
    record = StepRecord(index=0, raw_text="a\ud83db \ud83d\ude00", thought="\ude00", action={"k\udc80": ["\ud800"]})
    recorder.add_step(record)
    recorder.finish("failed", answer="\ud83d", error="bad \udfff")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert summary["task"] == "type \ufffd here" and summary["answer"] == "\ufffd"
    step = json.loads((tmp_path / "run" / "steps.jsonl").read_text(encoding="utf-8"))
    assert step["raw_text"] == "a\ufffdb 😀" and step["action"] == {"k\ufffd": ["\ufffd"]}


def test_e_a_huge_reply_is_recorded_as_head_and_tail_and_says_so(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path / "run", RunSummary(task="t", profile="p", platform="mobile"))
    raw = "HEAD" + "x" * 3_000_000 + "TAIL"
    recorder.add_step(StepRecord(index=0, raw_text=raw, reasoning="short"))
    step = json.loads((tmp_path / "run" / "steps.jsonl").read_text(encoding="utf-8"))
    assert step["raw_text"].startswith("HEAD") and step["raw_text"].endswith("TAIL")
    assert len(step["raw_text"]) < MAX_RECORDED_TEXT + 100 and "characters not recorded" in step["raw_text"]
    assert step["clipped"] == {"raw_text": len(raw)} and step["reasoning"] == "short"


def test_e_end_to_end_a_server_sending_lone_surrogates_leaves_valid_records(tmp_path: Path) -> None:
    script = [
        Reply(content='Memory: \ud83d\nReason: x\nAction: {"action_type": "answer", "text": "a\ud83d"}'),
        Reply(content='Memory: \ud83d\nReason: ok \ude00\nAction: {"action_type": "status", "goal_status": "complete"}',
              reasoning_content="thinking \ud800"),
    ]
    with FakeOpenAIServer(script) as server:
        backend = OpenAIBackend(EndpointConfig(base_url=server.base_url, model="glm-test", max_retries=0))
        agent = Agent(get_profile("glm-4.5v/mobile"), backend, FakeEnvironment(), AgentConfig(run_dir=tmp_path / "r"))
        result = agent.run("say it")
    assert result.status == "complete"
    steps = [json.loads(line) for line in (result.run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()]
    assert steps[0]["error_kind"] == "parse" and "surrogate" in steps[0]["error"]
    assert steps[1]["reasoning"] == "thinking \ufffd" and steps[1]["memory"] == "\ufffd"
    assert json.loads((result.run_dir / "summary.json").read_text(encoding="utf-8"))["status"] == "complete"
