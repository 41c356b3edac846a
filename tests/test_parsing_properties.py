"""Property tests: arbitrary text never raises anything but ParseError and never yields out-of-range points."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glmv_agent.actions import MODEL_MAX
from glmv_agent.errors import ParseError
from glmv_agent.profiles import get_profile, profile_keys

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
