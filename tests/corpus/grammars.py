"""The four action grammars for the corpus generator: random actions as each model writes them, with their wire form.

Names, arguments, scales and layouts follow glm-41v-agent-protocol.md / glm-45v-agent-protocol.md (AndroidWorld
JSON, OSWorld calls, WebVoyager set-of-marks) and Open-AutoGLM's ``do(action=...)`` / ``finish(message=...)``.
"""

from __future__ import annotations

import json
import random
from typing import Any

BOX_OPEN, BOX_CLOSE = "<|begin_of_box|>", "<|end_of_box|>"
TEXTS = ["vegetarian lasagna", "Meeting at 3pm", "查一下明天的天气", "周报整理", "北京 天气", "5$", "a=1, b=2",
         "call f(x) now", "[draft] notes", "Memory: 16GB", "Action: submit", "Observation: ok", "“周报”已发送",
         "naïve café", "x@example.com", "line one, line two"]
QUOTED = ['say "hi" now', '查一下"明天"的天气', '他说"好的"', 'the "Save" button', 'search "GLM-4.5V" papers']
APOSTROPHES = ["I don't think so", "it's done", "O'Brien's notes", "It's 5 o'clock"]
APPS = ["Settings", "Google Chrome", "Clock", "Markor", "Broccoli", "Simple SMS Messenger", "Pro Expense"]
PHONE_APPS = ["微信", "美团", "小红书", "Settings", "淘宝"]
Wire = dict[str, Any]


def boxed(text: str) -> str:
    return f"{BOX_OPEN}{text}{BOX_CLOSE}"


def _grammar(profile: str) -> str:
    return "autoglm" if profile.startswith("autoglm") else profile.split("/")[1]


def _box(rng: random.Random) -> list[int]:
    x1, y1 = rng.randint(0, 899), rng.randint(0, 899)
    return [x1, y1, rng.randint(x1, 999), rng.randint(y1, 999)]


def _point(rng: random.Random) -> list[int]:
    return [rng.randint(0, 999), rng.randint(0, 999)]


def _mobile_dict(rng: random.Random) -> tuple[dict[str, Any], Wire]:
    name = rng.choice(["click", "long_press", "input_text", "keyboard_enter", "navigate_home", "navigate_back",
                       "swipe", "open_app", "wait", "answer", "status"])
    args: dict[str, Any] = {}
    wire: Wire = {}
    if name in ("click", "long_press", "input_text") or (name == "swipe" and rng.random() < 0.5):
        box = _box(rng)
        args["box_2d"], wire["box_2d"] = [box], box
    if name in ("input_text", "answer"):
        args["text"] = wire["text"] = rng.choice(TEXTS + APOSTROPHES + QUOTED)
    if name == "input_text":
        args["override"] = wire["override"] = rng.random() < 0.5
    if name == "swipe":
        args["direction"] = wire["direction"] = rng.choice(["up", "down", "left", "right"])
    if name == "open_app":
        args["app_name"] = wire["app_name"] = rng.choice(APPS)
    if name == "status":
        args["goal_status"] = wire["goal_status"] = rng.choice(["complete", "infeasible"])
    return {"action_type": name, **args}, {"type": name, **wire}


def _mobile(rng: random.Random) -> tuple[str, Wire]:
    data, wire = _mobile_dict(rng)
    style = rng.choice(["json", "compact", "python"])
    if style == "python":  # the Python-dict repr of the official history, single quotes and True
        return repr(data), wire
    separators = (",", ":") if style == "compact" else (", ", ": ")
    return json.dumps(data, ensure_ascii=False, separators=separators), wire


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _desktop(rng: random.Random) -> tuple[str, Wire]:
    name = rng.choice(["left_click", "right_click", "middle_click", "hover", "left_double_click", "left_drag", "key",
                       "type", "scroll", "WAIT", "DONE", "FAIL"])
    x, y = _point(rng)
    at = f"'[{x},{y}]'" if rng.random() < 0.5 else f"'[{x}, {y}]'"
    if name in ("WAIT", "DONE", "FAIL"):
        return f"{name}()", {"type": name}
    if name == "key":
        keys = rng.choice(["ctrl+c", "ctrl+s", "Return", "alt+tab", "ctrl+shift+t"])
        return f"key(keys={_quote(keys)})", {"type": "key", "keys": keys}
    if name == "type":
        content = rng.choice(TEXTS + APOSTROPHES + QUOTED)
        return f"type(content={_quote(content)})", {"type": "type", "content": content}
    if name == "scroll":
        direction, step = rng.choice(["up", "down"]), rng.randint(1, 10)
        return (f"scroll(start_box={at}, direction='{direction}', step={step})",
                {"type": "scroll", "start_box": [x, y], "direction": direction, "step": step})
    if name == "left_drag":
        x2, y2 = _point(rng)
        return (f"left_drag(start_box={at}, end_box='[{x2},{y2}]')",
                {"type": "left_drag", "start_box": [x, y], "end_box": [x2, y2]})
    info = rng.choice(["", "OK button", "搜索框", "File menu"])
    wire: Wire = {"type": name, "start_box": [x, y], **({"element_info": info} if info else {})}
    return f"{name}(start_box={at}, element_info={_quote(info)})", wire


def _web(rng: random.Random) -> tuple[str, Wire]:
    name = rng.choice(["Click", "Type", "Scroll", "Wait", "GoBack", "Bing", "ANSWER", "Key"])
    label = rng.randint(0, 60)
    if name == "Click":
        return f"Click [{label}]", {"type": "Click", "label": label}
    if name == "Type":
        text = rng.choice(TEXTS + QUOTED + APOSTROPHES)
        return f"Type [{label}]; [{text}]", {"type": "Type", "label": label, "content": text}
    if name == "Scroll":
        target = rng.choice(["WINDOW", label])
        direction = rng.choice(["up", "down"])
        return f"Scroll [{target}]; [{direction}]", {"type": "Scroll", "target": target, "direction": direction}
    if name == "ANSWER":
        text = rng.choice(TEXTS + QUOTED)
        return f"ANSWER; <content>{text}</content>", {"type": "ANSWER", "content": text}
    if name == "Key":
        return "Key; [Return]", {"type": "Key", "key": "Return"}
    return name, {"type": name}


def _autoglm(rng: random.Random) -> tuple[str, Wire]:
    name = rng.choice(["Tap", "Double Tap", "Long Press", "Swipe", "Type", "Launch", "Back", "Home", "Wait",
                       "Take_over", "finish"])
    if name in ("Tap", "Double Tap", "Long Press"):
        x, y = _point(rng)
        return f'do(action="{name}", element=[{x},{y}])', {"type": name, "element": [x, y]}
    if name == "Swipe":
        start, end = _point(rng), _point(rng)
        return (f'do(action="Swipe", start=[{start[0]},{start[1]}], end=[{end[0]},{end[1]}])',
                {"type": "Swipe", "start": start, "end": end})
    text = rng.choice(TEXTS + APOSTROPHES + QUOTED)
    quoted = json.dumps(text, ensure_ascii=False)
    if name == "Type":
        return f'do(action="Type", text={quoted})', {"type": "Type", "text": text}
    if name == "Launch":
        app = rng.choice(PHONE_APPS)
        return f'do(action="Launch", app="{app}")', {"type": "Launch", "app": app}
    if name == "Wait":
        return 'do(action="Wait", duration="2 seconds")', {"type": "Wait", "duration": "2 seconds"}
    if name == "Take_over":
        return 'do(action="Take_over", message="请登录")', {"type": "Take_over", "message": "请登录"}
    if name == "finish":
        return f"finish(message={quoted})", {"type": "finish", "message": text}
    return f'do(action="{name}")', {"type": name}


_ACTIONS = {"mobile": _mobile, "desktop": _desktop, "web": _web, "autoglm": _autoglm}


def action(profile: str, rng: random.Random) -> tuple[str, Wire]:
    """A random action of the profile's grammar as the model writes it, and its expected wire form."""
    return _ACTIONS[_grammar(profile)](rng)


def layout(profile: str, action_text: str, rng: random.Random, box_it: bool | None = None, said: str = "",
           memory: str | None = None) -> str:
    """The visible answer around ``action_text`` in the profile's layout; GLM-4.5V always boxes the action.
    ``said`` opens the thought (web), reason (mobile), explanation (desktop) or the text before the call (AutoGLM);
    ``memory`` replaces the random memory written after the action (web, desktop)."""
    grammar = _grammar(profile)
    lead = f"{said} " if said else ""
    if grammar == "autoglm":
        return f"{said}\n{action_text}" if said else action_text
    box_it = box_it if box_it is not None else profile.startswith("glm-4.5v") or rng.random() < 0.5
    shown = boxed(action_text) if box_it else action_text
    if grammar == "mobile":
        remembered = rng.choice(["None", "[]", '{"ssid": "HomeNet"}', "用户要找周报"])
        reason = rng.choice(["The Settings icon is at the top.", "需要打开设置。", "The list is long; scroll it."])
        return f"Memory: {remembered}\nReason: {lead}{reason}\nAction: {shown}"
    if grammar == "desktop":
        remembered = rng.choice(["[]", '[{"user_email": "x@example.com"}]', '[{"ram": "16GB"}]'])
        explanation = rng.choice(["The dialog is open, so I act on it.", "我看到了目标按钮。", ""])
        return f"{lead}{explanation}\n{shown}\nMemory:\n{memory or remembered}".lstrip("\n")
    remembered = rng.choice(["{}", '{"price": "$25"}', '{"user_email_address": "test@163.com"}'])
    thought = rng.choice(["The search box is labelled.", "结果已经出现。", "I need the next page."])
    return f"Thought: {lead}{thought}\nAction: {shown}\nMemory_Updated: {memory or remembered}"


def mention(profile: str, decoy: str) -> str:
    """A sentence of reasoning that quotes an earlier action as written (web: after an ``Action:`` label)."""
    return f"Last time Action: {decoy} did nothing." if _grammar(profile) == "web" else f"Last time {decoy} did nothing."


def mention_with_memory(profile: str, decoy: str) -> str:
    """:func:`mention`, then the memory label written in the reasoning too (a reply that still writes its real
    memory section after the action)."""
    label = "Memory_Updated: {} stays as it is." if _grammar(profile) == "web" else "Memory: nothing new."
    return f"{mention(profile, decoy)} {label}"


def quoted_after(profile: str, action_text: str, decoy: str, rng: random.Random) -> tuple[str, str]:
    """A reply part whose text after the action quotes ``decoy``: (visible answer, text after the envelope). Web and
    desktop write it in the memory section's JSON, GLM mobile in a note after the action dict (its protocol writes
    nothing after the action), AutoGLM after ``</answer>``."""
    grammar = _grammar(profile)
    if grammar == "web":
        return layout(profile, action_text, rng, memory=json.dumps({"last": f"Action: {decoy}"})), ""
    if grammar == "desktop":
        return layout(profile, action_text, rng, memory=json.dumps([{"tried": decoy}], ensure_ascii=False)), ""
    if grammar == "mobile":
        return f"{layout(profile, action_text, rng)}\nNote: {decoy} would not work here.", ""
    return layout(profile, action_text, rng), f"\nLast time {decoy} did nothing."


def quotable(profile: str, rng: random.Random) -> str:
    """A random action written so that it fits inside another action's double-quoted (web: <content>) text."""
    grammar = _grammar(profile)
    while True:
        text = repr(_mobile_dict(rng)[0]) if grammar == "mobile" else action(profile, rng)[0]
        if grammar == "web":
            if not any(word in text for word in ("content>", "Memory", "Thought", "Observation")):
                return text
        elif grammar == "autoglm":  # its calls quote with ": written with ' instead
            if "'" not in text and "\\" not in text:
                return text.replace('"', "'")
        elif '"' not in text and "\\" not in text:
            return text


def quoting(profile: str, inner: str) -> tuple[str, Wire, int]:
    """An action whose free text quotes ``inner``: (action as written, wire, a cut just after ``inner``)."""
    grammar = _grammar(profile)
    text = f"I used {inner} here" if grammar != "web" else f"I used Action: {inner} here"
    written, wire = {
        "web": (f"ANSWER; <content>{text}</content>", {"type": "ANSWER", "content": text}),
        "desktop": (f'type(content="{text}")', {"type": "type", "content": text}),
        "mobile": (json.dumps({"action_type": "answer", "text": text}, ensure_ascii=False),
                   {"type": "answer", "text": text}),
        "autoglm": (f'do(action="Type", text="{text}")', {"type": "Type", "text": text}),
    }[grammar]
    return written, wire, written.index(inner) + len(inner) + 1


def cut_point(action_text: str) -> int:
    """Where to cut ``action_text`` so it cannot be read: just inside its first quote or bracket."""
    if "<content>" in action_text:
        return action_text.index("<content>") + len("<content>") + 1
    openers = [action_text.find(c) for c in "'\"[" if c in action_text]
    return min(openers) + 1 if openers else max(1, len(action_text) // 2)


def cut_before_close(profile: str, rng: random.Random) -> str:
    """An action as written up to just before its closing mark (``)``, ``}``, a web ``]`` or ``</content>``); for
    AutoGLM sometimes a sensitive tap cut before its ``message="..."``, the argument the cut would lose."""
    if _grammar(profile) == "autoglm" and rng.random() < 0.5:
        x, y = _point(rng)
        return f'do(action="Tap", element=[{x},{y}]'
    while True:
        text = action(profile, rng)[0]
        if text.endswith("</content>"):
            return text[: -len("</content>")]
        if text.endswith((")", "]", "}")):
            return text[:-1]


NESTED = ["a [b] c", "[draft] notes", "see [1] and [2]", "x [1 [2]] y", "标签 [重要]"]


def nested_type(rng: random.Random, closed: bool) -> tuple[str, Wire | None]:
    """A web Type whose text holds brackets: the outer one closed (wire: the text, nesting counted), or not closed
    while an inner one is (no wire: nothing may be typed)."""
    label, text = rng.randint(0, 60), rng.choice(NESTED)
    if closed:
        return f"Type [{label}]; [{text}]", {"type": "Type", "label": label, "content": text}
    return f"Type [{label}]; [{text}", None


def bare_web(rng: random.Random) -> tuple[str, Wire]:
    """A web action whose last argument is written without brackets, so only the end of the text ends it when
    nothing follows (the protocol brackets them; models drop the brackets)."""
    label, text = rng.randint(0, 60), rng.choice(["vegetarian lasagna", "周报整理", "Meeting at 3pm", "5$"])
    return rng.choice([
        (f"Type [{label}]; {text}", {"type": "Type", "label": label, "content": text}),
        (f"ANSWER; {text}", {"type": "ANSWER", "content": text}),
        (f"Click {label}", {"type": "Click", "label": label}),
        ("Key; Enter", {"type": "Key", "key": "Enter"}),
        (f"Scroll [{label}]; down", {"type": "Scroll", "target": label, "direction": "down"}),
    ])


def quoted_action(profile: str, rng: random.Random, escaped: bool) -> tuple[str, Wire]:
    """An action whose free-text argument holds quotes, written escaped or bare."""
    grammar = _grammar(profile)
    if grammar == "desktop":
        text = rng.choice(APOSTROPHES + QUOTED)
        body = _quote(text) if escaped else f"'{text}'"
        return f"type(content={body})", {"type": "type", "content": text}
    if grammar == "web":
        text = rng.choice(QUOTED + APOSTROPHES)
        return f"Type [7]; [{text}]", {"type": "Type", "label": 7, "content": text}
    if grammar == "autoglm":
        text = rng.choice(QUOTED)
        body = json.dumps(text, ensure_ascii=False) if escaped else f'"{text}"'
        name, key = rng.choice([('do(action="Type", ', "text"), ("finish(", "message")])
        wire = {"type": "Type", "text": text} if key == "text" else {"type": "finish", "message": text}
        return f"{name}{key}={body})", wire
    text = rng.choice(QUOTED)
    body = json.dumps(text, ensure_ascii=False) if escaped else f'"{text}"'
    box = _box(rng)
    return (f'{{"action_type": "input_text", "text": {body}, "box_2d": [{box}], "override": true}}',
            {"type": "input_text", "text": text, "box_2d": box, "override": True})


def special(profile: str, rng: random.Random) -> tuple[str, str, Wire]:
    """A grammar-specific shape: (kind, visible answer, wire)."""
    grammar = _grammar(profile)
    options = {
        "mobile": [
            ("point box", 'Memory: []\nReason: tap\nAction: {"action_type": "click", "box_2d": [[500, 600]]}',
             {"type": "click", "box_2d": [500, 600, 500, 600]}),
            ("single-level box", "Action: {'action_type': 'long_press', 'box_2d': [10, 20, 30, 40]}",
             {"type": "long_press", "box_2d": [10, 20, 30, 40]}),
            ("label words inside the action", 'Memory: m\nReason: r\nAction: {"action_type": "answer", "text": '
             '"Reason: done. Action: none"}', {"type": "answer", "text": "Reason: done. Action: none"}),
            ("markdown bold labels", '**Memory:** []\n**Reason:** r\n**Action:** {"action_type": "navigate_home"}',
             {"type": "navigate_home"}),
            ("Python dict with True", "Memory: None\nReason: r\nAction: {'action_type': 'input_text', 'text': '周报', "
             "'box_2d': [[1, 2, 3, 4]], 'override': True}",
             {"type": "input_text", "text": "周报", "box_2d": [1, 2, 3, 4], "override": True}),
        ],
        "desktop": [
            ("Memory: inside the typed text", boxed("type(content='Memory: 16GB')"),
             {"type": "type", "content": "Memory: 16GB"}),
            ("a call quoted inside the argument", "type(content='then left_click(start_box=[1,2])')\nMemory:\n[]",
             {"type": "type", "content": "then left_click(start_box=[1,2])"}),
            ("a box where a point is expected", boxed("left_click(start_box='[100,200,300,400]')") + "\nMemory:\n[]",
             {"type": "left_click", "start_box": [200, 300]}),
            ("positional argument", "key('ctrl+c')\nMemory:\n[]", {"type": "key", "keys": "ctrl+c"}),
        ],
        "web": [
            ("section words inside Type's brackets", "Thought: t\nAction: Type [3]; [Memory: 16GB Action: Click [5] "
             "Observation: ok] not typed\nMemory_Updated: {}",
             {"type": "Type", "label": 3, "content": "Memory: 16GB Action: Click [5] Observation: ok"}),
            ("trailing period", "Thought: t\nAction: Click [12].\nMemory_Updated: {}", {"type": "Click", "label": 12}),
            ("markdown bold labels", "**Thought:** t\n**Action:** Scroll [WINDOW]; [down]\n**Memory_Updated:** {}",
             {"type": "Scroll", "target": "WINDOW", "direction": "down"}),
            ("Thought quotes an action", "Thought: Action: Click [1] failed before.\nAction: GoBack\n"
             "Memory_Updated: {}", {"type": "GoBack"}),
        ],
        "autoglm": [
            ("do( prefix lost", 'action="Long Press", element=[3,4])', {"type": "Long Press", "element": [3, 4]}),
            ("a call quoted inside the argument", "do(action=\"Type\", text=\"do(action='Back')\")",
             {"type": "Type", "text": "do(action='Back')"}),
            ("positional finish", 'finish("完成了")', {"type": "finish", "message": "完成了"}),
            ("sensitive tap", 'do(action="Tap", element=[10,20], message="重要操作")',
             {"type": "Tap", "element": [10, 20], "message": "重要操作"}),
        ],
    }
    return rng.choice(options[grammar])
