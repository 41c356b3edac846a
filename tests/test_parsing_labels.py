"""Where the action stands in a reply: section labels at the start of a line (GLM mobile), the last AutoGLM call, and
an unknown call at the desktop's action position. Each case is a reply whose action a reviewer's attack showed
running wrongly (or refused) at some revision; the expected action is what the model meant by the protocol's
layout, and a reply whose layout cannot tell two different actions apart runs neither."""

from __future__ import annotations

import pytest

from glmv_agent.errors import ParseError
from glmv_agent.profiles import get_profile

CLICK = '{"action_type": "click", "box_2d": [[10,20,30,40]]}'
BACK = "{'action_type': 'navigate_back'}"
QUOTED = f"Memory: None\nReason: Step 0 was\nAction: {BACK}\nand the list is still hidden, so I tap Settings.\n"


@pytest.mark.parametrize("reply", [
    f"1. Memory: None\n2. Reason: Step 0 was\nAction: {BACK}\nso I tap.\n3. Action: {CLICK}",  # the prompt's numbering
    f"* Memory: None\n* Reason: Step 0 was\n  Action: {BACK}\n* Action: {CLICK}",
    f"{QUOTED}*Action:* {CLICK}",
    f"{QUOTED}**3. Action:** {CLICK}",
    f"{QUOTED}\u00a0Action: {CLICK}",
    f"{QUOTED}\u3000Action: {CLICK}",
    f"{QUOTED}\u200bAction: {CLICK}",
    f"{QUOTED}> Action: {CLICK}",
    f"Memory: None\r\nReason: r\r\nAction: {CLICK}\r\nSo, Action: {CLICK}\r\n",  # the same action twice
    f"Memory: None Reason: r Action: {CLICK}",  # one line: any label counts
])
@pytest.mark.parametrize("key", ["glm-4.5v/mobile", "glm-4.1v/mobile"])
def test_glm_mobile_reads_the_action_after_the_last_label_that_starts_a_line(key: str, reply: str) -> None:
    assert get_profile(key).parse(reply).action.wire() == {"type": "click", "box_2d": [10, 20, 30, 40]}


@pytest.mark.parametrize("reply", [
    f"Memory: None\nReason: r\nAction: {CLICK}\nIf that fails, Action: {BACK}",  # a remark on the action...
    f"Memory: None\nReason: I did\nAction: {BACK}\nbut it is still hidden, so I will tap. Action: {CLICK}",  # ...or it
    f"{QUOTED}Next Action: {CLICK}",
])
def test_glm_mobile_refuses_two_different_actions_at_a_line_start_label_and_a_later_one(reply: str) -> None:
    with pytest.raises(ParseError, match="^two different actions stand where the action goes"):
        get_profile("glm-4.5v/mobile").parse(reply)


TAP = {"type": "Tap", "element": [500, 300]}


@pytest.mark.parametrize(("reply", "expected"), [
    # a thought leaked into the answer mentions a call; the last call is the action, whatever punctuation ends it
    ('<think>x</think><answer>do(action="Back") 没有效果，所以改为点击设置。do(action="Tap", element=[500,300])</answer>',
     TAP),
    ('<think>x</think><answer>do(action="Back") 没有效果，所以改为点击设置。do(action="Tap", element=[500,300])。', TAP),
    ('<answer>do(action="Back") did nothing, so now do(action="Tap", element=[500,300]).', TAP),
    ('<think>x</think><answer>do(action="Back") failed; `do(action="Tap", element=[500,300])`', TAP),
    ('<think>x</think><answer>action="Back" failed before.\ndo(action="Tap", element=[500,300])', TAP),
    ('<think>x</think><answer>do(action="Back") is not needed. finish(message="完成")。',
     {"type": "finish", "message": "完成"}),
    ('do(action="Tap", element=[1,2]) did nothing.\naction="Back")', {"type": "Back"}),
    ('<think>x</think><answer>finish(message="done; do(action=\'Back\') not needed")</answer>',
     {"type": "finish", "message": "done; do(action='Back') not needed"}),
])
def test_autoglm_runs_the_last_call_of_a_thought_that_leaked_into_the_answer(reply: str, expected: dict) -> None:
    assert get_profile("autoglm-phone/mobile").parse(reply).action.wire() == expected


@pytest.mark.parametrize(("reply", "name"), [
    ("<|begin_of_box|>open_terminal()<|end_of_box|>\nIf that fails, left_click(start_box='[100,200]')", "open_terminal"),
    ("Action: press_enter()\nNote: left_click(start_box='[1,2]') was the previous step", "press_enter"),
    ("Cleaning up.\n<|begin_of_box|>rm_rf(start_box='[1,2]')<|end_of_box|>\nMemory:\n[]", "rm_rf"),
    *((f"{unknown}\nIf that fails, left_click(start_box='[100,200]')\nMemory:\n[]", name) for unknown, name in [
        ("<|begin_of_box|>`rm_rf('/')`<|end_of_box|>", "rm_rf"),
        ("<|begin_of_box|>```python\nrm_rf('/')\n```<|end_of_box|>", "rm_rf"),
        ("<|begin_of_box|>Action: rm_rf('/')<|end_of_box|>", "rm_rf"),
        ("**Action:** open_terminal()", "open_terminal"),
        ("Action: `open_terminal()`", "open_terminal"),
    ]),
])
def test_an_unknown_call_at_the_desktop_action_position_is_refused_by_name(reply: str, name: str) -> None:
    """A known call elsewhere in the reply (a fallback, a note) never runs in place of the unknown one."""
    with pytest.raises(ParseError, match=rf"^unknown desktop action '{name}'; expected one of left_click, .*nothing "
                                         r"was executed"):
        get_profile("glm-4.5v/desktop").parse(reply)


@pytest.mark.parametrize(("reply", "expected"), [
    ("Action: Click (the OK button) left_click(start_box='[1,2]')", {"type": "left_click", "start_box": [1, 2]}),
    ("<|begin_of_box|>type(content='Action: foo()')<|end_of_box|>", {"type": "type", "content": "Action: foo()"}),
    ("Action: type(content='Action: foo()')", {"type": "type", "content": "Action: foo()"}),
    ("<|begin_of_box|>left_click(start_box='[1,2]')<|end_of_box|>\nMemory:\n<|begin_of_box|>rm_rf()<|end_of_box|>",
     {"type": "left_click", "start_box": [1, 2]}),
    ("<|begin_of_box|>`left_click(start_box='[1,2]')`<|end_of_box|>", {"type": "left_click", "start_box": [1, 2]}),
    ("**Action:** left_click(start_box='[1,2]')\nMemory:\n[]", {"type": "left_click", "start_box": [1, 2]}),
])
def test_words_and_quotes_that_look_like_calls_do_not_refuse_a_clear_desktop_action(reply: str, expected: dict) -> None:
    assert get_profile("glm-4.5v/desktop").parse(reply).action.wire() == expected
