"""Property tests: arbitrary text never raises anything but ParseError, never yields out-of-range points, and hostile
sizes and encodings (huge numbers, deep nesting, surrogate halves, long runs) cost time linear in the length."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glmv_agent.actions import MODEL_MAX
from glmv_agent.errors import ParseError
from glmv_agent.literal import SURROGATE
from glmv_agent.profiles import get_profile, profile_keys
from tests.support.timing import CpuClock

FRAGMENTS = [
    "<think>", "</think>", "<answer>", "</answer>", "<|begin_of_box|>", "<|end_of_box|>", "Memory:", "Reason:",
    "Action:", "Thought:", "Memory_Updated:", '{"action_type": "click", "box_2d": [[', "]]}", "{'action_type': ",
    "'swipe'", "left_click(start_box='[", "])", "do(action=\"Tap\", element=[", "finish(message=\"", "Click [",
    "Type [", "]; [", "ANSWER; <content>", "</content>", "1000", "999", "-1", "5000", "True", "null", ",", "'", '"',
    "\\", "\n", "中文", "(", ")", "[", "]", "{", "}",
]
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.integers(-2000, 3000).map(str)), max_size=40).map("".join),
)


def _coordinates(wire: dict) -> list[int]:
    values: list[int] = []
    for key in ("box_2d", "start_box", "end_box", "element", "start", "end"):
        values.extend(wire.get(key) or [])
    return values


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, key=st.sampled_from(profile_keys()))
def test_arbitrary_text_only_raises_parse_error(text: str, key: str) -> None:
    try:
        decision = get_profile(key).parse(text)
    except ParseError:
        return
    assert all(0 <= value <= MODEL_MAX for value in _coordinates(decision.action.wire()))


# --- hostile sizes and encodings: still only ParseError, and in time linear in the length ------------------------

TEMPLATES = [
    'Action: {"action_type": "click", "box_2d": [[{x}, 2, 3, 4]]}',
    'Action: {"action_type": "answer", "text": "{x}"}',
    'Action: {"action_type": "wait", {x}: 1}',
    "left_click(start_box='[{x}, 5]')",
    "left_click(start_box={x})",
    "type(content='{x}')\nMemory:\n{x}",
    'do(action="Tap", element=[{x}, 1])',
    'do(action="Type", text="{x}")',
    "Thought: t\nAction: Type [{x}]; [{x}]\nMemory_Updated: {x}",
    "Thought: t\nAction: Scroll [{x}]; [up]",
    "<think>{x}</think>{x}",
    "<think>{x}",
]
digits = st.integers(1, 6000).map(lambda n: "9" * n)
exponents = st.integers(300, 100_000).map(lambda e: f"1e{e}")
nesting = st.tuples(st.sampled_from(["[", "{", "(", '{"k": ', "{[", "[{"]), st.integers(15, 400)).map(
    lambda pair: pair[0] * pair[1]
)
half_escapes = st.integers(0xD800, 0xDFFF).map(lambda code: f"\\u{code:04X}")
raw_halves = st.characters(categories=["Cs"]).map(lambda char: f"a{char}b")
runs = st.tuples(st.sampled_from(["", "<", "<|", "Memory", "**Action", "Type", "Scroll", "Click", "do"]),
                 st.sampled_from([" ", "<", "|", "<|", "\\", '"', "'", "[", "{", "Memory ", "do(", "\n"]),
                 st.integers(1_000, 30_000)).map(lambda parts: parts[0] + parts[1] * parts[2])
hostile = st.one_of(digits, exponents, nesting, half_escapes, raw_halves, runs,
                    st.sampled_from(["nan", "inf", "-Infinity", "1e-99999", "0x10", "1_000", "--1", "."]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(template=st.sampled_from(TEMPLATES), piece=hostile, key=st.sampled_from(profile_keys()))
def test_hostile_pieces_end_in_parse_error_in_linear_time(template: str, piece: str, key: str) -> None:
    text = template.replace("{x}", piece)
    profile = get_profile(key)
    with CpuClock() as clock:
        try:
            decision = profile.parse(text)
        except ParseError:
            decision = None
    assert clock.seconds < 0.05 + 2e-6 * len(text)
    if decision is not None:
        wire = decision.action.wire()
        assert all(0 <= value <= MODEL_MAX for value in _coordinates(wire))
        assert not any(SURROGATE.search(v) for v in wire.values() if isinstance(v, str))
