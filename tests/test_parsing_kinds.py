"""The kinds of real-output fault the parsers must get right (unescaped quotes, unfinished thinking, an answer that
came only as reasoning, envelope noise), every documented example as a test, through the Completion path too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glmv_agent.agent import Agent, AgentConfig
from glmv_agent.backends.openai_backend import EndpointConfig, OpenAIBackend
from glmv_agent.errors import ParseError, ThinkingCut
from glmv_agent.parsing import parse_completion
from glmv_agent.profiles import get_profile
from glmv_agent.testing import FakeEnvironment
from glmv_agent.types import Completion, Platform
from tests.support import FakeOpenAIServer, Reply


def parse(key: str, text: str, **completion: object):  # noqa: ANN201 - a Decision
    return parse_completion(get_profile(key), Completion(text=text, **completion))  # type: ignore[arg-type]


# --- a. unescaped quotes inside string arguments ---------------------------------------------------------------

UNESCAPED = [
    ("autoglm-phone/mobile", '<think>..</think><answer>do(action="Type", text="查一下"明天"的天气")</answer>',
     {"type": "Type", "text": '查一下"明天"的天气'}),
    ("autoglm-phone/mobile", '<think>done</think><answer>finish(message="已把"周报"发给"老王"了")</answer>',
     {"type": "finish", "message": '已把"周报"发给"老王"了'}),
    ("autoglm-phone/mobile", '<answer>do(action="Tap", element=[10,20], message="确认"删除"")',
     {"type": "Tap", "element": [10, 20], "message": '确认"删除"'}),
    ("autoglm-phone/mobile", 'do(action="Type", text="call f("x") now")', {"type": "Type", "text": 'call f("x") now'}),
    ("glm-4.5v/desktop", "<|begin_of_box|>type(content='I don't think so')<|end_of_box|>",
     {"type": "type", "content": "I don't think so"}),
    ("glm-4.1v/desktop", "Save it.\nleft_click(start_box='[1,2]', element_info='the 'Save' button')\nMemory:\n[]",
     {"type": "left_click", "start_box": [1, 2], "element_info": "the 'Save' button"}),
    ("glm-4.5v/mobile", 'Memory: []\nReason: r\nAction: {"action_type": "input_text", "text": "say "hi" now", '
     '"box_2d": [[1,2,3,4]], "override": true}',
     {"type": "input_text", "text": 'say "hi" now', "box_2d": [1, 2, 3, 4], "override": True}),
    ("glm-4.1v/mobile", 'Action: {"action_type": "answer", "text": "他说"好的""}', {"type": "answer", "text": '他说"好的"'}),
    ("glm-4.1v/mobile", "Action: {'action_type': 'answer', 'text': 'It's 5 o'clock'}",
     {"type": "answer", "text": "It's 5 o'clock"}),
    # an escaped quote stays content and a well-formed string is never stretched
    ("glm-4.5v/mobile", 'Action: {"action_type": "answer", "text": "a \\"b\\" c"}', {"type": "answer", "text": 'a "b" c'}),
]


@pytest.mark.parametrize(("key", "text", "expected"), UNESCAPED)
def test_a_string_runs_to_the_last_quote_the_grammar_allows_to_end_it(key: str, text: str, expected: dict) -> None:
    assert parse(key, text).action.wire() == expected


@pytest.mark.parametrize(("key", "text"), [
    ("glm-4.5v/desktop", "type(content='abc)\nMemory:\n[]"),
    ("autoglm-phone/mobile", '<answer>do(action="Type", text="unclosed)</answer>'),
    ("glm-4.5v/mobile", 'Action: {"action_type": "answer", "text": "x}'),
])
def test_a_failure_on_a_text_that_ended_properly_does_not_blame_truncation(key: str, text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(key, text, finish_reason="stop")
    assert "cut off" not in str(info.value) and "truncat" not in str(info.value)


def test_a_failure_on_a_reply_stopped_at_max_tokens_says_so() -> None:
    with pytest.raises(ParseError, match="cut off at the max_tokens limit"):
        parse("glm-4.5v/mobile", 'Action: {"action_type": "click", "box_2d": [[1,2', finish_reason="length")


# --- b. unfinished thinking is never an action -----------------------------------------------------------------

CUT = '<think>I could output {"action_type": "click", "box_2d": [[10,20,30,40]]} but first I should'


@pytest.mark.parametrize("key", ["glm-4.1v/mobile", "glm-4.5v/mobile"])
def test_b_an_action_written_in_unclosed_thinking_is_not_executed(key: str) -> None:
    with pytest.raises(ThinkingCut, match="stopped while thinking"):
        parse(key, CUT)
    with pytest.raises(ThinkingCut):
        parse(key, CUT, finish_reason="length")


@pytest.mark.parametrize(("key", "reasoning"), [
    ("glm-4.5v/mobile", 'I could output {"action_type": "click", "box_2d": [[10,20,30,40]]} but first'),
    ("glm-4.5v/desktop", "Thought: t\nAction: <|begin_of_box|>left_click(start_box='[1,2]')<|end_of_box|>\nMemory:\n["),
    ("autoglm-phone/mobile", 'the answer is do(action="Back")'),
])
def test_b_a_length_stop_inside_separated_reasoning_is_a_thinking_cut(key: str, reasoning: str) -> None:
    with pytest.raises(ThinkingCut):
        parse(key, "", reasoning=reasoning, finish_reason="length")


@pytest.mark.parametrize(("key", "text"), [
    ("autoglm-phone/mobile", "<think>let me see do(action=\"Tap\", element=[5,5])"),
    ("glm-4.5v/web", "<think>Action: Click [3] looks right, but"),
    ("glm-4.1v/desktop", "<think>maybe <|begin_of_box|>left_click(start_box='[1,2]')<|end_of_box|>"),
])
def test_b_every_grammar_refuses_unfinished_thinking(key: str, text: str) -> None:
    with pytest.raises(ThinkingCut):
        parse(key, text)


@pytest.mark.parametrize(("text", "expected"), [
    ('I think do(action="Back") is wrong; do(action="Home")', {"type": "Home"}),
    ('Last time do(action="Tap", element=[1,2]) did nothing, so now do(action="Swipe", start=[5,9], end=[5,1])',
     {"type": "Swipe", "start": [5, 9], "end": [5, 1]}),
    ("do(action=\"Type\", text=\"do(action='Back')\")", {"type": "Type", "text": "do(action='Back')"}),
])
def test_b_untagged_autoglm_acts_on_the_last_call_never_one_quoted_before(text: str, expected: dict) -> None:
    decision = parse("autoglm-phone/mobile", text)
    assert decision.action.wire() == expected


def test_b_a_call_quoted_inside_a_desktop_argument_is_not_the_action() -> None:
    decision = parse("glm-4.5v/desktop", "type(content='press left_click(start_box=[1,2]) now')\nMemory:\n[]")
    assert decision.action.wire() == {"type": "type", "content": "press left_click(start_box=[1,2]) now"}


# --- c. the answer arrives only as reasoning ---------------------------------------------------------------------

REASONING_ONLY = [
    ("glm-4.5v/desktop", "Thought: 打开文档\nAction: <|begin_of_box|>type(content='周报整理')<|end_of_box|>\nMemory:\n[]",
     {"type": "type", "content": "周报整理"}),
    ("glm-4.5v/mobile", 'Memory: []\nReason: back\nAction: <|begin_of_box|>{"action_type": "navigate_back"}<|end_of_box|>',
     {"type": "navigate_back"}),
    ("glm-4.5v/web", "Thought: t\nAction: <|begin_of_box|>Click [3]<|end_of_box|>\nMemory_Updated: {}",
     {"type": "Click", "label": 3}),
    ("autoglm-phone/mobile", 'Going back. do(action="Back")', {"type": "Back"}),
]


@pytest.mark.parametrize(("key", "reasoning", "expected"), REASONING_ONLY)
@pytest.mark.parametrize("content", ["", "\n"])
def test_c_the_action_is_read_from_the_reasoning_tail(key: str, reasoning: str, expected: dict, content: str) -> None:
    assert parse(key, content, reasoning=reasoning, finish_reason="stop").action.wire() == expected


def test_c_only_the_tail_counts_a_mid_reasoning_action_is_not_executed() -> None:
    reasoning = 'I could click {"action_type": "click", "box_2d": [[1,2,3,4]]} but the page is loading, so I wait.'
    with pytest.raises(ParseError, match="does not end with an action"):
        parse("glm-4.5v/mobile", "", reasoning=reasoning, finish_reason="stop")


def test_c_with_content_present_the_reasoning_tail_is_never_the_action() -> None:
    reasoning = 'Memory: []\nReason: r\nAction: {"action_type": "navigate_home"}'
    decision = parse("glm-4.5v/mobile", 'Action: {"action_type": "wait"}', reasoning=reasoning, finish_reason="stop")
    assert decision.action.wire() == {"type": "wait"}


def test_c_end_to_end_content_null_reasoning_only_through_the_openai_backend(tmp_path: Path) -> None:
    reasoning = "Thought: 输入标题\nAction: <|begin_of_box|>type(content='周报整理')<|end_of_box|>\nMemory:\n[]"
    script = [Reply(content=None, reasoning_content=reasoning), Reply(content=None, reasoning_content="DONE()")]
    env = FakeEnvironment(platform=Platform.DESKTOP, size=(1920, 1080))
    with FakeOpenAIServer(script) as server:
        backend = OpenAIBackend(EndpointConfig(base_url=server.base_url, model="glm-test", max_retries=0))
        agent = Agent(get_profile("glm-4.5v/desktop"), backend, env, AgentConfig(run_dir=tmp_path / "run"))
        result = agent.run("title the report")
    assert result.status == "complete"
    assert [action for _, _, action in env.executed] == [{"type": "type", "content": "周报整理"}]


def test_b_end_to_end_a_length_stop_in_thinking_is_re_asked_and_never_executed(tmp_path: Path) -> None:
    script = [Reply(content=None, reasoning_content=CUT[len("<think>"):], finish_reason="length"),
              Reply(content='Action: {"action_type": "status", "goal_status": "complete"}')]
    env = FakeEnvironment()
    with FakeOpenAIServer(script) as server:
        backend = OpenAIBackend(EndpointConfig(base_url=server.base_url, model="glm-test", max_retries=0))
        profile = get_profile("glm-4.5v/mobile")
        # No thinking-budget pass here (tests/test_generation_budget.py covers it): the cut reply reaches the parser.
        params = profile.generation_defaults().model_copy(update={"thinking_budget": None})
        agent = Agent(profile, backend, env, AgentConfig(run_dir=tmp_path / "run", params=params))
        result = agent.run("check")
    assert result.status == "complete" and env.executed == []
    first = json.loads((result.run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["error_kind"] == "thinking_cut" and first["action"] is None


# --- d. envelope noise never leaks into memory, thought or arguments ---------------------------------------------

def test_d_a_stray_close_after_the_answer_stays_out_of_memory() -> None:
    decision = parse("glm-4.5v/desktop", "<think>t</think>ok <|begin_of_box|>WAIT()<|end_of_box|>\nMemory:\n[]</think>")
    assert decision.memory == "[]" and decision.action.wire() == {"type": "WAIT"}


@pytest.mark.parametrize("text", [
    "<think><think>a</think>Memory: [1]\nReason: r\nAction: {\"action_type\": \"wait\"}</think>",
    "<think>a</think><think>b</think>Memory: [1]\nReason: r\nAction: {\"action_type\": \"wait\"}</answer></think>",
    "<think>a<think>b</think><answer>Memory: [1]\nReason: r\nAction: {\"action_type\": \"wait\"}</answer><think>",
])
def test_d_nested_and_repeated_think_tags_never_reach_the_sections(text: str) -> None:
    decision = parse("glm-4.1v/mobile", text)
    assert (decision.memory, decision.thought, decision.action_text) == ("[1]", "r", '{"action_type": "wait"}')
    assert "think>" not in decision.answer_text


def test_d_autoglm_thought_carries_no_tags() -> None:
    decision = parse("autoglm-phone/mobile", '<think>a<think>b</think><answer>do(action="Back")</answer></think>')
    assert decision.action.wire() == {"type": "Back"} and "<" not in decision.thought


def test_d_a_memory_word_inside_the_typed_text_is_typed_not_memory() -> None:
    decision = parse("glm-4.5v/desktop", "<|begin_of_box|>type(content='Memory: 16GB')<|end_of_box|>")
    assert decision.action.wire() == {"type": "type", "content": "Memory: 16GB"} and decision.memory is None
    decision = parse("glm-4.5v/desktop", "<|begin_of_box|>type(content='Memory: 16GB')<|end_of_box|>\nMemory:\n[1]")
    assert decision.action.wire() == {"type": "type", "content": "Memory: 16GB"} and decision.memory == "[1]"


@pytest.mark.parametrize("content", ["Memory: 16GB", "Action: Click [5]", "Observation: fine", "a [b] c",
                                     "Memory_Updated: {}"])
def test_d_webvoyager_types_exactly_the_bracketed_text(content: str) -> None:
    """Nesting counted; an unbalanced '[' is refused (tests/test_parsing_position.py)."""
    text = f"Thought: t\nAction: Type [3]; [{content}] and these words are not typed\nMemory_Updated: {{\"k\": 1}}"
    decision = parse("glm-4.5v/web", text)
    assert decision.action.wire() == {"type": "Type", "label": 3, "content": content}
    assert decision.memory == '{"k": 1}' and decision.thought == "t"


def test_d_mobile_labels_inside_the_action_are_not_sections() -> None:
    decision = parse("glm-4.5v/mobile", 'Memory: m\nReason: real\nAction: {"action_type": "answer", "text": "Reason: x"}')
    assert (decision.thought, decision.memory) == ("real", "m")
    assert decision.action.wire() == {"type": "answer", "text": "Reason: x"}


@pytest.mark.parametrize(("written", "typed"), [
    (r"type(content='C:\Users\me\Documents')", "C:\\Users\\me\\Documents"),  # unknown escapes keep the backslash
    (r"type(content='tab\there, line\nbreak')", "tab\there, line\nbreak"),  # Python's escapes mean what they say
    (r"type(content='\x41\u00e9\\d')", "Aé\\d"),
])
def test_string_escapes_read_as_python_reads_them(written: str, typed: str) -> None:
    assert parse("glm-4.5v/desktop", written).action.wire()["content"] == typed
