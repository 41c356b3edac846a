"""The action is what is written at the grammar's action position (web: the last ``Action:`` section or box; desktop:
the last call, boxed first; mobile: the last ``{"action_type": ...}`` after the last ``Action:``; AutoGLM: the last
do()/finish() call). When that is cut off or malformed the reply is a ParseError: an action quoted earlier in the
thought, or inside the unfinished action's own text, is never executed in its place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_mobile_support import autoglm_run, key_fixture

from glmv_agent.agent import Agent, AgentConfig, EpisodeResult
from glmv_agent.backends.openai_backend import EndpointConfig, OpenAIBackend
from glmv_agent.environments.android.sim.device import SimulatedPhone
from glmv_agent.errors import ParseError, ThinkingCut
from glmv_agent.parsing import parse_completion
from glmv_agent.profiles import get_profile
from glmv_agent.testing import FakeEnvironment
from glmv_agent.types import Completion, Platform
from tests.support import FakeOpenAIServer, Reply

key = key_fixture()

QUOTED_BEFORE = [  # the thought quotes a readable action; the real one after it is not readable
    ("glm-4.5v/web", "Thought: Action: Click [1] failed.\nAction: Type [3"),
    ("glm-4.1v/web", "<answer>Thought: Action: Click [1] failed.\nAction: <|begin_of_box|>Type [3]; [hel"),
    ("glm-4.5v/web", "Thought: Action: Click [1] failed.\nAction: Clik [3]\nMemory_Updated: {}"),
    ("glm-4.5v/web", "Thought: Action: Click [1] failed.\nAction: "),
    ("glm-4.5v/desktop", "I tried left_click(start_box='[1,2]') before.\n<|begin_of_box|>type(content='hel"),
    ("glm-4.5v/desktop", "I tried left_click(start_box='[1,2]') before.\n<|begin_of_box|>DO"),
    ("glm-4.1v/desktop", "I tried left_click(start_box='[1,2]') before.\nleft_double_click(start_box=[5,6] x)"),
    ("glm-4.5v/mobile", 'Memory: None\nReason: {"action_type": "click", "box_2d": [[1,2,3,4]]} did nothing.\n'
                        'Action: {"action_type": "input_text", "text": "hel'),
    ("glm-4.5v/mobile", 'Memory: None\nReason: {"action_type": "click", "box_2d": [[1,2,3,4]]} did nothing.\n'
                        'Action: <|begin_of_box|>{"act'),
    ("glm-4.1v/mobile", 'Memory: None\nReason: {"action_type": "click", "box_2d": [[1,2,3,4]]} did nothing.\nAction: '),
    ("autoglm-phone/mobile", 'do(action="Tap", element=[1,2]) did nothing.\ndo(action="Type", text="hel'),
    ("autoglm-phone/mobile", 'do(action="Tap", element=[1,2]) did nothing.\ndo(action="Swipe", start=[1,2] end=[3,4])'),
]
QUOTED_INSIDE = [  # the real action is cut off after an action its own text quotes
    ("glm-4.5v/web", "Thought: t\nAction: ANSWER; <content>I did it. Action: Click [5]"),
    ("glm-4.5v/web", "Thought: t\nAction: Type [3]; [line one\nAction: Click [5]"),
    ("glm-4.5v/desktop", "<|begin_of_box|>type(content='I will left_click(start_box=[1,2])"),
    ("glm-4.5v/mobile", "Action: {\"action_type\": \"answer\", \"text\": \"I used {'action_type': 'navigate_home'} ok"),
    ("autoglm-phone/mobile", "<answer>do(action=\"Type\", text=\"then do(action='Back')"),
]


@pytest.mark.parametrize(("key", "text"), QUOTED_BEFORE + QUOTED_INSIDE)
def test_an_unreadable_action_position_is_a_parse_error_never_another_action(key: str, text: str) -> None:
    for finish_reason in ("length", "stop"):
        with pytest.raises(ParseError):
            parse_completion(get_profile(key), Completion(text=text, finish_reason=finish_reason))


@pytest.mark.parametrize(("key", "text", "expected"), [
    ("glm-4.5v/web", "Thought: Action: Click [1 was a typo\nAction: Click [2]\nMemory_Updated: {}",
     {"type": "Click", "label": 2}),
    ("glm-4.5v/desktop", "I'll type (the name) next.\n<|begin_of_box|>left_click(start_box='[1,2]')<|end_of_box|>"
                         "\nMemory:\n[]", {"type": "left_click", "start_box": [1, 2]}),
    ("glm-4.5v/mobile", "Memory: None\nReason: r\nAction: {\"action_type\": \"answer\", \"text\": \"I used "
                        "{'action_type': 'navigate_home'} ok\"}",
     {"type": "answer", "text": "I used {'action_type': 'navigate_home'} ok"}),
    ("autoglm-phone/mobile", 'do(action="Tap", element=[1,2]) did nothing.\naction="Back")', {"type": "Back"}),
])
def test_the_action_at_the_action_position_wins_over_one_quoted_before_or_inside(key: str, text: str,
                                                                                   expected: dict) -> None:
    assert get_profile(key).parse(text).action.wire() == expected


def run_web_episode(tmp_path: Path, script: list[Reply], task: str) -> tuple[EpisodeResult, FakeEnvironment, list]:
    """A GLM-4.5V web episode on a fake 1280x800 page against the fake OpenAI server answering ``script``: (the
    result, the page (its ``executed`` actions), the chat requests the server received)."""
    env = FakeEnvironment(platform=Platform.WEB, size=(1280, 800))
    with FakeOpenAIServer(script) as server:
        backend = OpenAIBackend(EndpointConfig(base_url=server.base_url, model="glm-test", max_retries=0))
        agent = Agent(get_profile("glm-4.5v/web"), backend, env, AgentConfig(run_dir=tmp_path / "run"))
        result = agent.run(task)
        requests = list(server.chat_requests)
    return result, env, requests


def test_end_to_end_a_cut_web_action_is_re_asked_and_the_quoted_click_never_runs(tmp_path: Path) -> None:
    script = [Reply(content="Thought: Action: Click [1] failed.\nAction: Type [3", finish_reason="length"),
              Reply(content="Thought: t\nAction: ANSWER; <content>done</content>\nMemory_Updated: {}")]
    result, env, requests = run_web_episode(tmp_path, script, "find it")
    retry = json.dumps(requests[1].body["messages"], ensure_ascii=False)
    assert (result.status, result.answer) == ("complete", "done")
    assert all(wire["type"] != "Click" for _, _, wire in env.executed)
    first = json.loads((result.run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["error_kind"] == "parse" and first["action"] is None
    assert "nothing was executed" in first["error"] and "nothing was executed" in retry


# --- nothing written after the action supplies it ----------------------------------------------------------------
# Web and desktop end with a memory section (Memory_Updated: {...} / Memory:\n[...]), GLM mobile ends with the action
# dict, AutoGLM with </answer>; an action quoted there is never the one executed.

TYPE_5 = {"type": "Type", "label": 5, "content": "x"}
QUOTED_AFTER = [
    ("glm-4.5v/web", 'Thought: t\nAction: Type [5]; [x]\nMemory_Updated: {"last": "Action: Click [3]"}', TYPE_5),
    ("glm-4.1v/web", '<answer>Thought: t\nAction: <|begin_of_box|>Type [5]; [x]<|end_of_box|>\nMemory_Updated: '
                     '{"last": "<|begin_of_box|>Click [3]<|end_of_box|>", "also": "Memory_Updated: Action: Click [4]"}',
     TYPE_5),
    ("glm-4.5v/web", 'Thought: t\nAction: Type [5]; [x]\nMemory: {"last": "Action: Click [3]"}', TYPE_5),
    ("glm-4.5v/web", 'Thought: t\nAction: Type [5]; [x]\nMemory_Updated: {"last": "Action: Type [3]; [cut', TYPE_5),
    ("glm-4.5v/desktop", "I tried left_click(start_box='[1,2]') before.\nMemory: nothing new.\n<|begin_of_box|>"
                         "type(content='x')<|end_of_box|>\nMemory:\n[]", {"type": "type", "content": "x"}),
    ("glm-4.1v/desktop", "Typing now.\ntype(content='x')\nMemory:\n[{\"last\": \"left_click(start_box='[1,2]')\", "
                         "\"note\": \"Memory: WAIT()\"}]", {"type": "type", "content": "x"}),
    ("glm-4.5v/mobile", 'Memory: None\nReason: r\nAction: {"action_type": "navigate_back"}\nNote: not '
                        '{"action_type": "navigate_home"}', {"type": "navigate_back"}),
    ("glm-4.5v/mobile", 'Reason: r\nAction: {"action_type": "navigate_back"} {"action_type": "navigate_home"}',
     {"type": "navigate_back"}),
    ("glm-4.1v/mobile", '<answer>Reason: r\nAction: {"action_type": "navigate_back"}\nMemory: {"action_type": '
                        '"navigate_home"}', {"type": "navigate_back"}),
    ("autoglm-phone/mobile", '<think>t</think><answer>do(action="Back")</answer>\nLast time do(action="Home") did '
                             "nothing.", {"type": "Back"}),
]


@pytest.mark.parametrize(("key", "text", "expected"), QUOTED_AFTER)
def test_an_action_quoted_after_the_action_never_wins(key: str, text: str, expected: dict) -> None:
    assert get_profile(key).parse(text).action.wire() == expected


def test_the_memory_is_the_section_after_the_action_whatever_labels_the_thought_or_the_memory_write() -> None:
    web = get_profile("glm-4.5v/web").parse('Thought: Action: Click [1] failed; Memory_Updated: {} stays.\nAction: '
                                            'Type [5]; [x]\nMemory_Updated: {"a": "Memory_Updated: b"}')
    assert web.action.wire() == TYPE_5 and web.memory == '{"a": "Memory_Updated: b"}'
    unlabelled = get_profile("glm-4.5v/web").parse("Thought: Memory_Updated: {} stays.\nAction: Type [5]; [x]")
    assert unlabelled.action.wire() == TYPE_5 and unlabelled.memory is None
    desktop = get_profile("glm-4.5v/desktop").parse("I tried WAIT() before.\nMemory: nothing new.\n<|begin_of_box|>"
                                                    "DONE()<|end_of_box|>\nMemory:\n[{\"k\": \"Memory: v\"}]")
    assert desktop.action.wire() == {"type": "DONE"} and desktop.memory == '[{"k": "Memory: v"}]'


@pytest.mark.parametrize(("key", "text"), [
    ("glm-4.5v/web", "Thought: t\nAction: Type [5]; [x]\nMemory_Updated: I saw Action: Click [3]"),
    ("glm-4.5v/web", "Thought: t\nAction: Type [5]; [x]\nMemory_Updated: {}\nNext, Action: Click [3]"),
    ("glm-4.5v/web", "Thought: Action: Click [1] failed. Memory_Updated: {} stays.\nAction: Type [5]; [x]"),
    ("glm-4.5v/desktop", "<|begin_of_box|>type(content='x')<|end_of_box|>\nMemory:\n[]\nThen left_click(start_box="
                         "'[1,2]')."),
    ("glm-4.1v/desktop", "I tried left_click(start_box='[1,2]').\nMemory: nothing.\ntype(content='x')"),
])
def test_an_action_written_after_the_memory_section_outside_its_json_is_a_parse_error(key: str, text: str) -> None:
    """The memory section is then not the reply's last part: an action quoted before it (a memory label in the
    thought, no memory section) reads the same as one quoted after it (memory written as prose)."""
    with pytest.raises(ParseError, match="after the memory section"):
        get_profile(key).parse(text)


def test_end_to_end_the_click_a_memory_quotes_never_runs(tmp_path: Path) -> None:
    script = [Reply(content='Thought: t\nAction: Type [5]; [x]\nMemory_Updated: {"last": "Action: Click [3]"}'),
              Reply(content="Thought: t\nAction: ANSWER; <content>done</content>\nMemory_Updated: {}")]
    result, env, requests = run_web_episode(tmp_path, script, "find it")
    second = json.dumps(requests[1].body["messages"], ensure_ascii=False)
    assert (result.status, result.answer) == ("complete", "done")
    assert [wire for _, _, wire in env.executed] == [TYPE_5]
    assert 'Memory:{\\"last\\": \\"Action: Click [3]\\"}' in second  # the memory is carried, as memory


@pytest.mark.parametrize(("key", "text", "expected"), [
    ("autoglm-phone/mobile", '<think>t</think><answer>do(action="Back")<|user|>** Screen Info **<|assistant|><think>u'
                             '</think><answer>do(action="Home")</answer>', {"type": "Back"}),
    ("glm-4.5v/web", "Thought: t\nAction: Type [5]; [x]\nMemory_Updated: {}<|observation|>\nThought: u\nAction: "
                     "Click [3]\nMemory_Updated: {}", TYPE_5),
    ("glm-4.5v/mobile", 'Action: {"action_type": "navigate_back"}<|endoftext|>Action: {"action_type": "navigate_home"}',
     {"type": "navigate_back"}),
    ("glm-4.5v/desktop", "<|begin_of_box|>WAIT()<|end_of_box|>\nMemory:\n[]<|user|>\n<|begin_of_box|>DONE()"
                         "<|end_of_box|>\nMemory:\n[]", {"type": "WAIT"}),
])
def test_the_reply_ends_at_a_stop_token_and_a_next_turn_made_up_after_it_is_not_read(key: str, text: str,
                                                                                    expected: dict) -> None:
    assert get_profile(key).parse(text).action.wire() == expected


def test_a_stop_token_inside_the_thinking_ends_the_reply_there() -> None:
    with pytest.raises(ThinkingCut):
        get_profile("glm-4.5v/web").parse("<think>maybe<|user|>x</think>Thought: t\nAction: Click [3]")


# --- a call cut off before its closing mark is never executed ------------------------------------------------------
# The cut may remove an argument the model was still writing (AutoGLM's message="..." that marks a sensitive tap),
# so a call without its ')' (a dict without its '}', a web label or argument without its ']') is a ParseError.

CUT_BEFORE_CLOSE = [
    ("autoglm-phone/mobile", 'do(action="Tap", element=[500,300]'),
    ("autoglm-phone/mobile", '<think>t</think><answer>do(action="Tap", element=[500,300], message="确认支付"'),
    ("autoglm-phone/mobile", 'do(action="Type", text="hello"'),
    ("autoglm-phone/mobile", 'finish(message="done"'),
    ("autoglm-phone/mobile", 'Tapping it.\naction="Back"'),  # its do( lost too
    ("glm-4.5v/desktop", "type(content='hello world'"),
    ("glm-4.5v/desktop", "Explanation.\n<|begin_of_box|>left_click(start_box='[1,2]'"),
    ("glm-4.1v/desktop", "WAIT( "),
    ("glm-4.5v/mobile", 'Memory: None\nReason: r\nAction: {"action_type": "navigate_back"'),
    ("glm-4.1v/mobile", 'Action: <|begin_of_box|>{"action_type": "click", "box_2d": [[1,2,3,4]]'),
    ("glm-4.5v/web", "Thought: t\nAction: Click [3"),
    ("glm-4.1v/web", "<answer>Thought: t\nAction: <|begin_of_box|>Type [12 "),
    ("glm-4.5v/web", "Thought: t\nAction: Scroll [3]; [down"),
    ("glm-4.5v/web", "Thought: t\nAction: Scroll [WINDOW"),
]


@pytest.mark.parametrize(("key", "text"), CUT_BEFORE_CLOSE)
def test_an_action_cut_before_its_closing_mark_is_a_parse_error_that_says_the_reply_may_be_cut(key: str,
                                                                                            text: str) -> None:
    for finish_reason in ("stop", "length"):
        with pytest.raises(ParseError, match="the reply may be cut"):
            parse_completion(get_profile(key), Completion(text=text, finish_reason=finish_reason))


@pytest.mark.parametrize(("key", "text"), [
    ("glm-4.5v/desktop", "<|begin_of_box|>left_click(start_box='[1,2]'<|end_of_box|>\nMemory:\n[]"),
    ("glm-4.1v/desktop", "left_click(start_box='[1,2]'\nMemory:\n[]"),
    ("autoglm-phone/mobile", '<answer>do(action="Tap", element=[500,300]</answer>'),
    ("glm-4.5v/web", "Thought: t\nAction: <|begin_of_box|>Click [3<|end_of_box|>\nMemory_Updated: {}"),
    ("glm-4.5v/web", "Thought: t\nAction: Scroll [3]; [down\nMemory_Updated: {}"),
])
def test_a_closing_mark_missing_before_the_box_or_the_memory_is_a_parse_error(key: str, text: str) -> None:
    """The model closed the box (or wrote on) without closing the call: malformed rather than cut, refused all the
    same."""
    with pytest.raises(ParseError):
        get_profile(key).parse(text)


def test_a_boxed_call_with_its_closing_paren_is_the_action() -> None:
    decision = get_profile("glm-4.5v/desktop").parse("<|begin_of_box|>left_click(start_box='[1,2]')<|end_of_box|>")
    assert decision.action.wire() == {"type": "left_click", "start_box": [1, 2]}
    assert decision.action_text == "left_click(start_box='[1,2]')"


def test_end_to_end_an_autoglm_tap_cut_before_its_paren_never_reaches_the_phone(key: Path, tmp_path: Path) -> None:
    script = [Reply(content='<think>pay</think><answer>do(action="Tap", element=[500,300]', finish_reason="length"),
              Reply(content='<think>pay</think><answer>do(action="Tap", element=[500,300]'),
              Reply(content='<think>stop</think><answer>finish(message="not paid")</answer>')]
    with SimulatedPhone() as phone, FakeOpenAIServer(script) as server:
        result = autoglm_run(phone, key, server.base_url, "pay the bill", tmp_path / "run", 5)
    assert (result.status, result.answer) == ("complete", "not paid"), result.error
    assert phone.state.taps == []
    steps = [json.loads(line) for line in (result.run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [s["error_kind"] for s in steps] == ["parse", "parse", None]
    assert all("the reply may be cut" in s["error"] for s in steps[:2])
    assert "max_tokens" in steps[0]["error"] and "max_tokens" not in steps[1]["error"]


# --- the web typed text is the bracketed content, nesting counted -------------------------------------------------

@pytest.mark.parametrize("text", [
    "Thought: t\nAction: Type [3]; [a [b] c",
    "Thought: t\nAction: Type [3]; [hello [world]",
    "Thought: t\nAction: Type [3]; [hello [world]\nMemory_Updated: {}",
    "Thought: t\nAction: <|begin_of_box|>Type [3]; [[draft] notes<|end_of_box|>\nMemory_Updated: {}",
    "Thought: t\nAction: Key; [[Enter]",
    "Thought: t\nAction: ANSWER; [it is [5] or",
])
def test_a_web_bracket_whose_nesting_never_closes_is_a_parse_error_and_nothing_is_typed(text: str) -> None:
    for finish_reason in ("stop", "length"):
        with pytest.raises(ParseError, match="not closed"):
            parse_completion(get_profile("glm-4.5v/web"), Completion(text=text, finish_reason=finish_reason))


@pytest.mark.parametrize(("text", "typed"), [
    ("Thought: t\nAction: Type [3]; [a [b] c]\nMemory_Updated: {}", "a [b] c"),
    ("Thought: t\nAction: Type [3]; [[draft] notes]", "[draft] notes"),
    ("Thought: t\nAction: Type [3]; [a [b [c]] d] not typed\nMemory_Updated: {}", "a [b [c]] d"),
    ("Thought: t\nAction: Type [3]; [line [one]\nline two]", "line [one]\nline two"),
])
def test_the_web_typed_text_is_the_bracketed_content_nesting_counted(text: str, typed: str) -> None:
    assert get_profile("glm-4.5v/web").parse(text).action.wire() == {"type": "Type", "label": 3, "content": typed}


def test_end_to_end_a_web_type_with_an_unclosed_nested_bracket_types_nothing(tmp_path: Path) -> None:
    script = [Reply(content="Thought: t\nAction: Type [3]; [a [b] c\nMemory_Updated: {}"),
              Reply(content="Thought: t\nAction: Type [3]; [a [b] c]\nMemory_Updated: {}"),
              Reply(content="Thought: t\nAction: ANSWER; <content>typed</content>\nMemory_Updated: {}")]
    result, env, requests = run_web_episode(tmp_path, script, "type it")
    assert (result.status, result.answer) == ("complete", "typed")
    assert [wire for _, _, wire in env.executed] == [{"type": "Type", "label": 3, "content": "a [b] c"}]
    first = json.loads((result.run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["error_kind"] == "parse" and "not closed" in first["error"]


# --- a reply the server stopped at max_tokens (finish_reason "length") ---------------------------------------------
# An action that ends with its own closing mark was written whole before the cut, which fell in what follows it (the
# memory section, </answer>): it is what the model meant. A web argument that only the end of the text ends
# (unbracketed text, label or direction) may itself be cut.

COMPLETE_BEFORE_THE_CUT = [
    ("autoglm-phone/mobile", '<think>t</think><answer>do(action="Tap", element=[1,2])', {"type": "Tap", "element": [1, 2]}),
    ("glm-4.5v/desktop", "<|begin_of_box|>left_click(start_box='[1,2]')<|end_of_box|>\nMemory:\n[{\"a\": ",
     {"type": "left_click", "start_box": [1, 2]}),
    ("glm-4.5v/mobile", 'Memory: None\nReason: r\nAction: {"action_type": "navigate_back"}', {"type": "navigate_back"}),
    ("glm-4.5v/web", 'Thought: t\nAction: Type [5]; [x]\nMemory_Updated: {"a": "', TYPE_5),
    ("glm-4.5v/web", "Thought: t\nAction: Type [5]; x\nMemory_Updated: {", TYPE_5),
    ("glm-4.5v/web", "Thought: t\nAction: <|begin_of_box|>Type [5]; x<|end_of_box|>", TYPE_5),
    ("glm-4.5v/web", "Thought: t\nAction: ANSWER; <content>done</content>", {"type": "ANSWER", "content": "done"}),
    ("glm-4.5v/web", "Thought: t\nAction: Wait", {"type": "Wait"}),
]


@pytest.mark.parametrize(("key", "text", "expected"), COMPLETE_BEFORE_THE_CUT)
def test_an_action_complete_before_a_length_stop_is_the_action(key: str, text: str, expected: dict) -> None:
    completion = Completion(text=text, finish_reason="length")
    assert parse_completion(get_profile(key), completion).action.wire() == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Thought: t\nAction: Type [5]; hello wor", {"type": "Type", "label": 5, "content": "hello wor"}),
    ("Thought: t\nAction: <|begin_of_box|>Type [5]; hello wor", {"type": "Type", "label": 5, "content": "hello wor"}),
    ("Thought: t\nAction: ANSWER; The price is 2", {"type": "ANSWER", "content": "The price is 2"}),
    ("Thought: t\nAction: Click 1", {"type": "Click", "label": 1}),
    ("Thought: t\nAction: Key; Ent", {"type": "Key", "key": "Ent"}),
    ("Thought: t\nAction: Scroll [3]; down", {"type": "Scroll", "target": 3, "direction": "down"}),
])
def test_a_web_argument_only_the_end_of_a_length_stopped_reply_ends_is_refused(text: str, expected: dict) -> None:
    profile = get_profile("glm-4.5v/web")
    assert parse_completion(profile, Completion(text=text, finish_reason="stop")).action.wire() == expected
    with pytest.raises(ParseError, match="cut off at the max_tokens limit"):
        parse_completion(profile, Completion(text=text, finish_reason="length"))


def test_end_to_end_a_web_text_cut_at_max_tokens_is_not_typed_and_a_whole_one_is(tmp_path: Path) -> None:
    script = [Reply(content="Thought: t\nAction: Type [5]; hello wor", finish_reason="length"),
              Reply(content='Thought: t\nAction: Type [5]; [hello world]\nMemory_Updated: {"a', finish_reason="length"),
              Reply(content="Thought: t\nAction: ANSWER; <content>typed</content>\nMemory_Updated: {}")]
    result, env, requests = run_web_episode(tmp_path, script, "type it")
    assert (result.status, result.answer) == ("complete", "typed")
    assert [wire for _, _, wire in env.executed] == [{"type": "Type", "label": 5, "content": "hello world"}]
    steps = [json.loads(line) for line in (result.run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()]
    first = steps[0]
    assert first["error_kind"] == "parse" and "max_tokens" in first["error"] and first["action"] is None
    typed = next(step for step in steps if (step["action"] or {}).get("type") == "Type")
    assert typed["finish_reason"] == "length"  # the record says the reply that typed was cut (in its memory)
    assert steps[-1]["finish_reason"] == "stop"
