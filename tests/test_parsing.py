"""Parsers against every documented output shape and each malformation class seen in real GLM outputs."""

from __future__ import annotations

import pytest

from glmv_agent.errors import ParseError
from glmv_agent.profiles import get_profile
from tests.support.timing import CpuClock

MOBILE_OK = [
    # plain documented layout
    ('Memory: None\nReason: open it\nAction: {"action_type": "open_app", "app_name": "Settings"}',
     {"type": "open_app", "app_name": "Settings"}),
    # think/answer tags, box markers, missing </answer>
    ('<think>The field is at the top.</think><answer>Memory: []\nReason: type\nAction: <|begin_of_box|>'
     '{"action_type": "input_text", "text": "hello", "box_2d": [[10,20,300,80]], "override": true}<|end_of_box|>',
     {"type": "input_text", "text": "hello", "box_2d": [10, 20, 300, 80], "override": True}),
    # Python dict repr, single quotes, True, escaped quotes, Chinese
    ("Memory: 无\nReason: 输入\nAction: {'action_type': 'input_text', 'text': '他说 \\'你好\\' \"ok\"', "
     "'box_2d': [[1, 2, 3, 4]], 'override': True}",
     {"type": "input_text", "text": "他说 '你好' \"ok\"", "box_2d": [1, 2, 3, 4], "override": True}),
    # space-padded, misspelled opening marker and glued trailing tags
    ('Reason: r\nAction: < | start_of_box | >{"action_type":"swipe","direction":"Up"}<|end_of_box|></answer><|user|>',
     {"type": "swipe", "direction": "up"}),
    # box markers absent and no labels at all, reasoning run together with the action
    ('I should go back now {"action_type": "navigate_back"}', {"type": "navigate_back"}),
    # boxes inside <think> are not the action; two spans where the first is prose
    ('<think>the button <|begin_of_box|>[[5,5,9,9]]<|end_of_box|></think>Memory: x\nReason: <|begin_of_box|>tap the '
     'OK button<|end_of_box|>\nAction: <|begin_of_box|>{"action_type": "click", "box_2d": [[100,200,300,400]]}'
     '<|end_of_box|>', {"type": "click", "box_2d": [100, 200, 300, 400]}),
    # single-level box and a point box
    ('Action: {"action_type": "long_press", "box_2d": [100,200,300,400]}', {"type": "long_press", "box_2d": [100, 200, 300, 400]}),
    ('Action: {"action_type": "click", "box_2d": [[500, 600]]}', {"type": "click", "box_2d": [500, 600, 500, 600]}),
    # repetition from a misconfigured server: the last complete action wins
    ("Action: {\"action_type\": \"wait\"}\n" * 40, {"type": "wait"}),
    ('Action: {"action_type": "status", "goal_status": "infeasible"}', {"type": "status", "goal_status": "infeasible"}),
    ('Action: {"action_type": "answer", "text": "42 °C"}', {"type": "answer", "text": "42 °C"}),
]

DESKTOP_OK = [
    ("I click OK.\n<|begin_of_box|>left_click(start_box='[500,500]', element_info='OK')<|end_of_box|>\nMemory:\n[]",
     {"type": "left_click", "start_box": [500, 500], "element_info": "OK"}),
    ("<think>maybe left_click(start_box='[1,1]')</think>Now type. type(content='it\\'s 中文 \"q\"')\nMemory:\n[]",
     {"type": "type", "content": "it's 中文 \"q\""}),
    ("<|begin_of_box|>Scroll the list<|end_of_box|> <|begin_of_box|>scroll(start_box='[10,20]', direction='Down', "
     "step=3)<|end_of_box|>", {"type": "scroll", "start_box": [10, 20], "direction": "down", "step": 3}),
    ("key(keys='ctrl+c')</answer>", {"type": "key", "keys": "ctrl+c"}),
    ("left_drag(start_box='[1,2]', end_box='[300,400]')", {"type": "left_drag", "start_box": [1, 2], "end_box": [300, 400]}),
    ("<answer>Done. <|begin_of_box|>DONE()<|end_of_box|>", {"type": "DONE"}),
    ("FAIL()", {"type": "FAIL"}),
    ("WAIT()\nMemory:\n[]", {"type": "WAIT"}),
    ("right_click(start_box=[12, 34])", {"type": "right_click", "start_box": [12, 34]}),
    ("left_double_click(start_box='[100,200,300,400]')", {"type": "left_double_click", "start_box": [200, 300]}),
    ("hover(start_box='(7, 8)')", {"type": "hover", "start_box": [7, 8]}),
    ("< |begin_of_box| > middle_click(start_box='[999,999]') < |end_of_box| >",
     {"type": "middle_click", "start_box": [999, 999]}),
    ("left_click(start_box='[1000,0]')", {"type": "left_click", "start_box": [1000, 0]}),
]

WEB_OK = [
    ("Thought: search\nAction: Type [1]; [vegetarian lasagna]\nMemory_Updated: {}",
     {"type": "Type", "label": 1, "content": "vegetarian lasagna"}),
    ("<think>x</think><answer>Thought: t\nAction: Click [12].\nMemory_Updated: {\"a\": \"b\"}</answer>",
     {"type": "Click", "label": 12}),
    ("Thought: t\nAction: <|begin_of_box|>Scroll [WINDOW]; [down]<|end_of_box|>\nMemory_Updated: {}",
     {"type": "Scroll", "target": "WINDOW", "direction": "down"}),
    ("Thought: t\nAction: Scroll [6]; [up]\nMemory_Updated: {}", {"type": "Scroll", "target": 6, "direction": "up"}),
    ("Thought: found\nAction: ANSWER; <content>Guatemala</content>\nMemory_Updated: {}",
     {"type": "ANSWER", "content": "Guatemala"}),
    ("Thought: t\nAction: Key; [Return]\nMemory_Updated: {}", {"type": "Key", "key": "Return"}),
    ("Thought: t\nAction: GoBack\nMemory_Updated: {}", {"type": "GoBack"}),
    ("Thought: t\nAction: Wait\nMemory_Updated: {}", {"type": "Wait"}),
    ("Thought: t\nAction: Bing\nMemory_Updated: {}", {"type": "Bing"}),
    ("Thought: 输入\nAction: Type [3]; [北京 天气; rm -rf / $(x)]\nMemory_Updated: {}",
     {"type": "Type", "label": 3, "content": "北京 天气; rm -rf / $(x)"}),
    ("**Thought:** t\n**Action:** Click [4]\n**Memory_Updated:** {}", {"type": "Click", "label": 4}),
]

AUTOGLM_OK = [
    ('<think>tap it</think><answer>do(action="Tap", element=[500,500])</answer>', {"type": "Tap", "element": [500, 500]}),
    ('<think>t</think><answer>do(action="Type", text="a\\"b; $(rm) `x` 你好")',
     {"type": "Type", "text": 'a"b; $(rm) `x` 你好'}),
    ('finish(message="完成了")</answer>', {"type": "finish", "message": "完成了"}),
    ('<answer>action="Long Press", element=[3,4])</answer>', {"type": "Long Press", "element": [3, 4]}),
    ('do(action="Swipe", start=[500,800], end=[500,200])', {"type": "Swipe", "start": [500, 800], "end": [500, 200]}),
    ('do(action="Launch", app="微信")', {"type": "Launch", "app": "微信"}),
    ('do(action="Double Tap", element=[1,2])', {"type": "Double Tap", "element": [1, 2]}),
    ('do(action="Back")', {"type": "Back"}),
    ('do(action="Home")', {"type": "Home"}),
    ('do(action="Wait", duration="2 seconds")', {"type": "Wait", "duration": "2 seconds"}),
    ('do(action="Take_over", message="please log in")', {"type": "Take_over", "message": "please log in"}),
    ('do(action="Tap", element=[10,20], message="important operation")',
     {"type": "Tap", "element": [10, 20], "message": "important operation"}),
]


@pytest.mark.parametrize("model", ["glm-4.1v", "glm-4.5v"])
@pytest.mark.parametrize(("text", "expected"), MOBILE_OK)
def test_mobile_outputs(model: str, text: str, expected: dict) -> None:
    assert get_profile(f"{model}/mobile").parse(text).action.wire() == expected


@pytest.mark.parametrize(("text", "expected"), DESKTOP_OK)
def test_desktop_outputs(text: str, expected: dict) -> None:
    assert get_profile("glm-4.5v/desktop").parse(text).action.wire() == expected


@pytest.mark.parametrize(("text", "expected"), WEB_OK)
def test_web_outputs(text: str, expected: dict) -> None:
    assert get_profile("glm-4.1v/web").parse(text).action.wire() == expected


@pytest.mark.parametrize(("text", "expected"), AUTOGLM_OK)
def test_autoglm_outputs(text: str, expected: dict) -> None:
    assert get_profile("autoglm-phone/mobile").parse(text).action.wire() == expected


BAD = [
    ("glm-4.5v/mobile", 'Action: {"action_type": "click", "box_2d": [[1,2', "'[' is not closed before the end"),
    ("glm-4.5v/mobile", 'Action: {"action_type": "click", "box_2d": [[100,200,300,1400]]}', "less than or equal"),
    ("glm-4.5v/mobile", 'Action: {"action_type": "click", "box_2d": [[-5,200,300,400]]}', "greater than"),
    ("glm-4.5v/mobile", 'Action: {"action_type": "fly", "box_2d": [[1,2,3,4]]}', "unknown action_type"),
    ("glm-4.5v/mobile", 'Action: {"action_type": "click", "box_2d": [[300,200,100,400]]}', "swapped"),
    ("glm-4.5v/mobile", "<think>I am thinking for a very long time and never", "stopped while thinking"),
    ("glm-4.5v/desktop", "left_click(start_box='[1001,5]')", "less than or equal"),
    ("glm-4.5v/desktop", "I will click somewhere.\nMemory:\n[]", "no desktop action"),
    ("glm-4.5v/desktop", "scroll(start_box='[1,2]', direction='left')", "scroll"),
    ("glm-4.5v/desktop", "left_click(start_box='[1,2,3]')", "numbers"),
    ("glm-4.5v/web", "Thought: t\nAction: Press the button\nMemory_Updated: {}", "not a set-of-marks action"),
    ("glm-4.5v/web", "nothing useful", "no 'Action:'"),
    ("autoglm-phone/mobile", '<answer>do(action="Fly")</answer>', "unknown AutoGLM action"),
    ("autoglm-phone/mobile", '<answer>do(action="Tap", element=[1200, 5])</answer>', "less than or equal"),
    ("autoglm-phone/mobile", "<think>cut off mid thought", "stopped while thinking"),
]


@pytest.mark.parametrize(("key", "text", "message"), BAD)
def test_bad_outputs_raise_clear_parse_errors(key: str, text: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        get_profile(key).parse(text)
    assert message in str(info.value)


def test_memory_thought_and_history_material_are_extracted() -> None:
    decision = get_profile("glm-4.5v/mobile").parse(
        'Memory: {"ssid": "Home"}\nReason: Wi-Fi row\nAction: <|begin_of_box|>{"action_type": "wait"}<|end_of_box|>'
    )
    assert decision.memory == '{"ssid": "Home"}'
    assert decision.thought == "Wi-Fi row"
    assert "<|" not in decision.action_text and decision.action_text == '{"action_type": "wait"}'
    desktop = get_profile("glm-4.5v/desktop").parse(
        "The menu is open.\n<|begin_of_box|>left_click(start_box='[1,2]')<|end_of_box|>\nMemory:\n[{\"k\": 1}]"
    )
    assert desktop.thought == "The menu is open."
    assert desktop.action_text == "left_click(start_box='[1,2]')"
    assert desktop.memory == '[{"k": 1}]'


def test_separated_reasoning_is_merged_before_parsing() -> None:
    from glmv_agent.types import Completion

    completion = Completion(text='do(action="Back")', reasoning="going back")
    decision = get_profile("autoglm-phone/mobile").parse(completion.full_text())
    assert decision.thought == "going back"
    assert decision.action.wire() == {"type": "Back"}


def test_parse_is_fast_on_degenerate_repetition() -> None:
    text = "Memory: Memory: {'a': '" * 2000 + ("{" * 5000)
    with CpuClock() as clock, pytest.raises(ParseError):
        get_profile("glm-4.5v/mobile").parse(text)
    assert clock.seconds < 2.0
