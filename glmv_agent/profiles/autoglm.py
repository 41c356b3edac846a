"""AutoGLM-Phone grammar: ``<think>...</think><answer>do(action="Tap", element=[x,y])</answer>``.

Unlike the GLM-4.xV agent prompts this is multi-turn: a system prompt, then per step a user turn (screen info JSON +
screenshot; only the latest turn keeps its image) and the model's previous answers as assistant turns. What the
agent answered for ``Note`` and ``Call_API`` stays in the user turn that followed them, so a Call_API result is
still there in later turns. ``render_call_api`` builds the separate model call that answers a Call_API.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from ..actions import AGENT_TYPES
from ..errors import ConfigError, ParseError
from ..literal import Call, find_calls
from ..parsing import build_action, clip, ints_in, read_or_refuse, require_tail, split_reasoning, strip_boxes
from ..types import ChatMessage, Decision, GenerationParams, HistoryItem, Observation, Platform
from .base import ProfileBase, register

_ACTIONS = {
    "tap": "Tap", "double tap": "Double Tap", "long press": "Long Press", "swipe": "Swipe", "type": "Type",
    "type_name": "Type_Name", "launch": "Launch", "back": "Back", "home": "Home", "wait": "Wait",
    "take_over": "Take_over", "interact": "Interact", "note": "Note", "call_api": "Call_API",
}
_POINT_ARGS = ("element", "start", "end")
_STRING_ARGS = ("text", "app", "message", "duration", "instruction")
LANGUAGES = ("zh", "en")
_WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_CALL = re.compile(r"\b(do|finish)\s*\(")
# A do(...) call whose 'do(' the model lost, at the start of a line (so never a keyword inside another call).
_LOST = re.compile(r"^action\s*=\s*[\"']", re.MULTILINE)
_CALL_API_TEXT = {  # the separate request that answers a Call_API: intro, page label, current page, instruction
    "en": ("A phone agent is doing this task: {task}\nIt noted the pages below; answer its instruction from them.",
           "Noted page {number} (app: {app}). The agent's thoughts on it: {thought}",
           "The current page (app: {app}):",
           "Instruction: {instruction}\nAnswer in plain text from these pages only; if they do not hold what the "
           "instruction asks for, say so."),
    "zh": ("手机助手正在执行这个任务：{task}\n它记下了下面这些页面，请根据这些页面完成它的指令。",
           "记下的第{number}页（应用：{app}）。助手当时的想法：{thought}",
           "当前页面（应用：{app}）：",
           "指令：{instruction}\n只根据这些页面，用纯文字回答；如果页面中没有指令所需的内容，请直接说明。"),
}


def _find_call(answer: str) -> Call:
    """The last do(...)/finish(...) call in ``answer`` (never one quoted inside another's argument), also one whose
    ``do(`` the model lost (``action="Back")`` at a line's start; its span then starts at ``action``). A thought that
    leaks into the answer mentions other calls before the action; in the trained layout nothing follows the action,
    as generation stops at ``</answer>``. When the last call cannot be read (cut off, malformed) the reply is a
    ParseError: an earlier call, one the thought mentions, is never executed in its place."""
    tries = find_calls(answer, _CALL, lost=(_LOST, "do("))
    if not tries:
        raise ParseError(f"no do(action=...) or finish(message=...) call found: {clip(answer)}")
    return read_or_refuse(tries[-1], "the last do(...)/finish(...) call", answer)


def _to_action(name: str, kwargs: dict[str, Any]):  # noqa: ANN202 - returns an Action
    if name == "finish":
        return build_action({"space": "autoglm", "type": "finish", "message": str(kwargs.get("message") or "")})
    raw_name = str(kwargs.get("action", "")).strip()
    canonical = _ACTIONS.get(raw_name.lower().replace("-", " ").replace("  ", " "))
    if canonical is None:
        canonical = _ACTIONS.get(raw_name.lower().replace(" ", "_"))
    if canonical is None:
        known = ", ".join(sorted(set(_ACTIONS.values())))
        raise ParseError(f"unknown AutoGLM action {raw_name!r}; expected one of {known}")
    data: dict[str, Any] = {"space": "autoglm", "type": canonical}
    for key, value in kwargs.items():
        if key in _POINT_ARGS:
            data[key] = ints_in(value, 2, key)
        elif key in _STRING_ARGS and value is not None:
            data[key] = str(value)
    return build_action(data)


def parse_autoglm(text: str, tail: bool = False) -> Decision:
    """Parse an AutoGLM-Phone reply: the last call (:func:`_find_call`), the thinking (or, untagged, the text before
    the call) as the thought."""
    sections = split_reasoning(text)
    answer = strip_boxes(sections.answer)
    call = _find_call(answer)
    if tail:
        require_tail(answer[call.end :])
    kwargs = dict(call.kwargs)
    if call.args and call.name == "finish" and "message" not in kwargs:
        kwargs["message"] = call.args[0]
    action = _to_action(call.name, kwargs)
    thought = sections.thinking or answer[: call.start].strip()
    written = answer[call.start : call.end]
    action_text = written if _CALL.match(written) else f"do({written}"  # a lost 'do(' put back for the history
    return Decision(action=action, thought=thought, action_text=action_text, answer_text=answer, raw=text)


def today(lang: str, now: datetime | None = None) -> str:
    """The date line's value as the official client writes it: ``2026年11月30日 星期一`` / ``2026-11-30 Monday``."""
    now = now or datetime.now()
    if lang == "zh":
        return f"{now:%Y年%m月%d日} {_WEEKDAYS_ZH[now.weekday()]}"
    return f"{now:%Y-%m-%d %A}"


@register("autoglm-phone/mobile")
class AutoglmPhoneProfile(ProfileBase):
    platform = Platform.MOBILE
    # Both languages are loaded (and checked) when the profile is built; `lang` picks the one sent.
    templates = {f"autoglm_system_{lang}.txt": frozenset({"date"}) for lang in LANGUAGES}
    options = frozenset({"lang"})

    def __init__(self, prompt_dir: Path | None = None, lang: str = "zh") -> None:
        """``lang``: the system prompt's language, ``zh`` (default: what the model was mostly trained on) or ``en``.

        Raises ConfigError for another language.
        """
        if lang not in LANGUAGES:
            raise ConfigError(f"AutoGLM-Phone's prompt language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
        super().__init__(prompt_dir)
        self.lang = lang

    def parse(self, text: str, *, tail: bool = False) -> Decision:
        return parse_autoglm(text, tail)

    def generation_defaults(self) -> GenerationParams:
        """The official Open-AutoGLM client's settings (phone_agent/model/client.py): max_tokens 3000, greedy,
        top_p 0.85, frequency_penalty 0.2; thinking closed with ``</think><answer>``."""
        return GenerationParams(temperature=0.0, top_p=0.85, frequency_penalty=0.2, max_tokens=3000,
                                think_close="</think><answer>")

    @staticmethod
    def screen_info(observation: Observation) -> str:
        return json.dumps({"current_app": observation.app or "System Home"}, ensure_ascii=False)

    def render(
        self, task: str, observation: Observation, history: list[HistoryItem], notes: list[str]
    ) -> list[ChatMessage]:
        system = self.fill(f"autoglm_system_{self.lang}.txt", date=today(self.lang))
        messages = [ChatMessage(role="system", content=[self.text(system)])]
        steps = self.executed(history)
        for index, item in enumerate(steps):
            decision = item.decision
            assert decision is not None
            info = json.dumps({"current_app": item.app or "System Home"}, ensure_ascii=False)
            text = self._user_text(task, index, info)
            result = self._agent_result(steps[index - 1]) if index else ""
            messages.append(ChatMessage(role="user", content=[self.text(text + ("\n\n" + result if result else ""))]))
            answer = f"<think>{decision.thought}</think><answer>{decision.action_text}</answer>"
            messages.append(ChatMessage(role="assistant", content=[self.text(answer)]))
        text = self._user_text(task, len(steps), self.screen_info(observation))
        extra = self.notes_text([*observation.notes, *notes])
        content = [self.image(observation.model_image), self.text(text + ("\n\n" + extra if extra else ""))]
        messages.append(ChatMessage(role="user", content=content))
        return messages

    @staticmethod
    def _user_text(task: str, index: int, info: str) -> str:
        return f"{task}\n\n{info}" if index == 0 else f"** Screen Info **\n\n{info}"

    def _agent_result(self, item: HistoryItem) -> str:
        """The note a Note or Call_API step left (as its next turn showed it); '' for other steps."""
        decision = item.decision
        if decision is None or decision.action.type not in AGENT_TYPES or not item.note:
            return ""
        return self.notes_text([item.note])

    def render_call_api(
        self, task: str, instruction: str, noted: list[HistoryItem], observation: Observation
    ) -> list[ChatMessage]:
        """One user message for the model call that answers ``Call_API``: the task, each noted page (screenshot
        and the agent's thoughts when it noted it), the current page, then the instruction."""
        intro, label, current, ask = _CALL_API_TEXT[self.lang]
        content = [self.text(intro.format(task=task))]
        for number, item in enumerate(noted, 1):
            thought = item.decision.thought if item.decision else ""
            content.append(self.text(label.format(number=number, app=item.app or "System Home", thought=thought)))
            if item.screenshot is not None:
                content.append(self.image(item.screenshot))
        content += [self.text(current.format(app=observation.app or "System Home")),
                    self.image(observation.model_image), self.text(ask.format(instruction=instruction))]
        return [ChatMessage(role="user", content=content)]


__all__ = ["AutoglmPhoneProfile", "parse_autoglm"]
