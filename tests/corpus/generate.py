"""Generate tests/corpus/outputs.jsonl: replies in each profile's trained format, each with what it means.

Every line is one reply as a server returns it (``content``, ``reasoning``, ``finish_reason``) and ``expect``: the
action the generator rendered (``{"action": wire}``) or the error kind the reply must raise (``{"error":
"thinking_cut"}`` or ``{"error": "parse"}``). The truth is what was rendered, never what our parser says. The kinds
cover the trained layouts (glm-41v/45v-agent-protocol.md, Open-AutoGLM) and the malformations listed in
glm-output-format.md plus the fault kinds of issue 12, and replies whose real action is cut off while another one
is quoted in the reasoning or inside its own text (a parse error, never the quoted action), and replies that quote
another action after the real one (in the memory section, a note, after ``</answer>``, in a next turn made up
after a stop token), replies that end inside the action before its closing mark, and web typed text with nested
brackets (closed, or an outer one that never closes), and replies stopped at max_tokens after a whole action
or inside an unbracketed web argument. Deterministic;
``python -m tests.corpus.generate`` rewrites the file and tests/test_parsing_corpus.py checks it is current.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.corpus import grammars as g

OUTPUT = Path(__file__).with_name("outputs.jsonl")
SEED = 20261130
PER_KIND = 3
PROFILES = ("glm-4.1v/mobile", "glm-4.5v/mobile", "glm-4.1v/desktop", "glm-4.5v/desktop", "glm-4.1v/web",
            "glm-4.5v/web", "autoglm-phone/mobile")
THINKING = ["The target is visible near the top of the screen, so I act on it directly.",
            "我需要先找到输入框，然后输入内容。", "The previous step worked; the next control is below the list."]
Case = dict[str, Any]


def envelope(profile: str, thinking: str, answer: str, rng: random.Random) -> str:
    """The reply as the model writes it: GLM-4.1V and AutoGLM wrap the answer in <answer> (the stop word often
    eats </answer>), GLM-4.5V writes it after </think>."""
    if profile.startswith("glm-4.5v"):
        return f"<think>{thinking}</think>{answer}"
    closing = "</answer>" if profile.startswith("autoglm") or rng.random() < 0.5 else ""
    return f"<think>{thinking}</think><answer>{answer}{closing}"


def answer_only(profile: str, answer: str) -> str:
    """The answer part a reasoning parser leaves in content."""
    return answer if profile.startswith("glm-4.5v") else f"<answer>{answer}"


def case(kind: str, content: str, expect: dict[str, Any], reasoning: str | None = None,
         finish_reason: str = "stop") -> Case:
    return {"kind": kind, "content": content, "reasoning": reasoning, "finish_reason": finish_reason,
            "expect": expect}


def _clean(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    return case("clean", envelope(p, rng.choice(THINKING), g.layout(p, action, rng), rng), {"action": wire})


def _separated(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    return case("separated reasoning", answer_only(p, g.layout(p, action, rng)), {"action": wire},
                reasoning=rng.choice(THINKING))


def _reasoning_only(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    return case("answer only as reasoning", rng.choice(["", "\n"]), {"action": wire},
                reasoning=g.layout(p, action, rng, box_it=True))


def _reasoning_only_mid(p: str, rng: random.Random) -> Case:
    decoy, _ = g.action(p, rng)
    reasoning = f"I could answer with {decoy} but the page is still loading, so I should look again first."
    return case("reasoning only, action mid-way", "", {"error": "parse"}, reasoning=reasoning)


def _reasoning_cut(p: str, rng: random.Random) -> Case:
    decoy, _ = g.action(p, rng)
    return case("length stop inside separated reasoning", "", {"error": "thinking_cut"},
                reasoning=f"Maybe {decoy} would work, but first I should", finish_reason="length")


def _think_unclosed(p: str, rng: random.Random) -> Case:
    decoy, _ = g.action(p, rng)
    content = f"<think>I could output {g.boxed(decoy)} but first I should check the"
    return case("unclosed thinking", content, {"error": "thinking_cut"}, finish_reason=rng.choice(["length", "stop"]))


def _leaked(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    decoy, _ = g.action(p, rng)
    content = f"Last time I tried {decoy} and nothing changed.\n\n{g.layout(p, action, rng)}"
    return case("no tags, reasoning leaked into content", content, {"action": wire})


def _box_variant(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    answer = g.layout(p, action, rng, box_it=True)
    style = rng.choice(["stripped", "padded", "misspelled", "two spans"])
    if style == "stripped":
        answer = answer.replace(g.BOX_OPEN, "").replace(g.BOX_CLOSE, "")
    elif style == "padded":
        answer = answer.replace(g.BOX_OPEN, "< |begin_of_box| > ").replace(g.BOX_CLOSE, " < |end_of_box| >")
    elif style == "misspelled":
        answer = answer.replace(g.BOX_OPEN, "<|start_of_box|>")
    else:
        answer = f"{g.boxed('the control named in the task')} is the one to use.\n{answer}"
    return case(f"box markers {style}", envelope(p, rng.choice(THINKING), answer, rng), {"action": wire})


def _box_in_think(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    decoy, _ = g.action(p, rng)
    thinking = f"First idea: {g.boxed(decoy)}. No, the other control is right."
    return case("box inside thinking", envelope(p, thinking, g.layout(p, action, rng), rng), {"action": wire})


def _glued(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    content = f"<think>{rng.choice(THINKING)}</think><answer>{g.layout(p, action, rng)}</answer><|user|>"
    return case("trailing tags glued to the action", content, {"action": wire})


def _repetition(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    answer = "\n".join([g.layout(p, action, rng)] * rng.randint(3, 40))
    return case("degenerate repetition", envelope(p, rng.choice(THINKING), answer, rng), {"action": wire},
                finish_reason="length")


def _truncated(p: str, rng: random.Random) -> Case:
    action, _ = g.action(p, rng)
    full = envelope(p, rng.choice(THINKING), g.layout(p, action, rng), rng)
    start = full.rindex(action)
    return case("truncated inside the action", full[: start + g.cut_point(action)], {"error": "parse"},
                finish_reason="length")


def _stray_close(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    content = envelope(p, rng.choice(THINKING), g.layout(p, action, rng), rng) + "</think>"
    return case("stray </think> after the answer", content, {"action": wire})


def _nested_think(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    content = "<think>" + envelope(p, rng.choice(THINKING), g.layout(p, action, rng), rng)
    return case("repeated <think>", content, {"action": wire})


def _quotes(p: str, rng: random.Random) -> Case:
    escaped = rng.random() < 0.5
    action, wire = g.quoted_action(p, rng, escaped)
    kind = "escaped quotes inside a string" if escaped else "unescaped quotes inside a string"
    return case(kind, envelope(p, rng.choice(THINKING), g.layout(p, action, rng), rng), {"action": wire})


def _grammar_specific(p: str, rng: random.Random) -> Case:
    kind, text, wire = g.special(p, rng)
    return case(kind, envelope(p, rng.choice(THINKING), text, rng), {"action": wire})


KINDS: list[Callable[[str, random.Random], Case]] = [
    _clean, _clean, _separated, _reasoning_only, _reasoning_only_mid, _reasoning_cut, _think_unclosed, _leaked,
    _box_variant, _box_variant, _box_in_think, _glued, _repetition, _truncated, _stray_close, _nested_think, _quotes,
    _quotes, _grammar_specific, _grammar_specific,
]


def _cuttable(p: str, rng: random.Random) -> str:
    """An action with a quote or bracket, so that a cut inside it leaves a call, dict or label started."""
    while True:
        action, _ = g.action(p, rng)
        if any(mark in action for mark in "'\"[<"):
            return action


def _cut_after_quoted(p: str, rng: random.Random) -> Case:
    decoy, _ = g.action(p, rng)
    action = _cuttable(p, rng)
    full = envelope(p, rng.choice(THINKING), g.layout(p, action, rng, said=g.mention(p, decoy)), rng)
    start = full.rindex(action)
    return case("action cut off after one the reasoning quotes", full[: start + g.cut_point(action)],
                {"error": "parse"}, finish_reason="length")


def _quoting(p: str, rng: random.Random) -> Case:
    action, wire, _ = g.quoting(p, g.quotable(p, rng))
    return case("an action quoted inside the action's text", envelope(p, rng.choice(THINKING),
                g.layout(p, action, rng), rng), {"action": wire})


def _quoting_cut(p: str, rng: random.Random) -> Case:
    action, _, cut = g.quoting(p, g.quotable(p, rng))
    full = envelope(p, rng.choice(THINKING), g.layout(p, action, rng), rng)
    return case("action cut off after an action its text quotes", full[: full.rindex(action) + cut],
                {"error": "parse"}, finish_reason="length")


def _decoy(p: str, rng: random.Random, wire: dict[str, Any]) -> str:
    """Another action than ``wire``, so that running it instead would show."""
    while True:
        decoy, other = g.action(p, rng)
        if other != wire:
            return decoy


def _quoted_after(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    decoy = _decoy(p, rng, wire)
    answer, trailer = g.quoted_after(p, action, decoy, rng)
    return case("an action quoted after the action", envelope(p, rng.choice(THINKING), answer, rng) + trailer,
                {"action": wire})


def _memory_mentioned(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    decoy = _decoy(p, rng, wire)
    answer = g.layout(p, action, rng, said=g.mention_with_memory(p, decoy))
    return case("memory label and an action quoted before the action", envelope(p, rng.choice(THINKING), answer, rng),
                {"action": wire})


def _next_turn(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    decoy = _decoy(p, rng, wire)
    reply = envelope(p, rng.choice(THINKING), g.layout(p, action, rng), rng)
    made_up = envelope(p, rng.choice(THINKING), g.layout(p, decoy, rng), rng)
    stop = rng.choice(["<|user|>", "<|observation|>", "<|endoftext|>"])
    return case("a next turn made up after a stop token", f"{reply}{stop}\nThe page changed.<|assistant|>\n{made_up}",
                {"action": wire})


def _cut_before_close(p: str, rng: random.Random) -> Case:
    cut = g.cut_before_close(p, rng)
    full = envelope(p, rng.choice(THINKING), g.layout(p, cut, rng), rng)
    return case("action cut before its closing mark", full[: full.rindex(cut) + len(cut)], {"error": "parse"},
                finish_reason=rng.choice(["length", "stop"]))


def _nested(p: str, rng: random.Random) -> Case:
    action, wire = g.nested_type(rng, closed=True)
    return case("brackets nested in the typed text", envelope(p, rng.choice(THINKING), g.layout(p, action, rng), rng),
                {"action": wire})


def _nested_unclosed(p: str, rng: random.Random) -> Case:
    action, _ = g.nested_type(rng, closed=False)
    return case("typed text whose bracket never closes", envelope(p, rng.choice(THINKING), g.layout(p, action, rng),
                rng), {"error": "parse"})


def _length_after_action(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    full = envelope(p, rng.choice(THINKING), g.layout(p, action, rng), rng)
    end = full.rindex(action) + len(action)
    return case("length stop after a complete action", full[: rng.randint(end, len(full))], {"action": wire},
                finish_reason="length")


def _bare_at_the_end(p: str, rng: random.Random) -> Case:
    action, wire = g.bare_web(rng)
    return case("unbracketed last argument, the model stopped", envelope(p, rng.choice(THINKING),
                f"Thought: t\nAction: {action}", rng), {"action": wire})


def _bare_cut(p: str, rng: random.Random) -> Case:
    action, _ = g.bare_web(rng)
    reply = envelope(p, rng.choice(THINKING), f"Thought: t\nAction: {action}", rng).removesuffix("</answer>")
    return case("unbracketed last argument at a length stop", reply, {"error": "parse"}, finish_reason="length")


def _labelled_after(p: str, rng: random.Random) -> Case:
    action, wire = g.action(p, rng)
    decoy = _decoy(p, rng, wire)
    said = rng.choice(["If that fails, Action: {d}", "Then next time Action: {d}", "(otherwise Action: {d})"])
    answer = f"{g.layout(p, action, rng)}\n{said.format(d=decoy)}"
    return case("an action labelled mid-line after the action", envelope(p, rng.choice(THINKING), answer, rng),
                {"error": "parse"})


# Kinds added after the first corpus: generated after it, so the earlier cases keep their ids and text.
LATER_KINDS: list[Callable[[str, random.Random], Case]] = [_cut_after_quoted, _quoting, _quoting_cut]
# Added after those, the same way: nothing written after the action supplies it.
AFTER_KINDS: list[Callable[[str, random.Random], Case]] = [_quoted_after, _memory_mentioned]
STOP_KINDS: list[Callable[[str, random.Random], Case]] = [_next_turn]
# Then: a call, dict or bracket the reply ends inside before its closing mark is never executed.
CLOSE_KINDS: list[Callable[[str, random.Random], Case]] = [_cut_before_close]
# Then, for the web grammar only: the typed text is the bracketed content, nesting counted.
NEST_KINDS: list[Callable[[str, random.Random], Case]] = [_nested, _nested_unclosed]
WEB = tuple(p for p in PROFILES if p.endswith("/web"))
# Then: a reply stopped at max_tokens gives an action written whole before the cut, never one the cut may have ended.
LENGTH_KINDS: list[Callable[[str, random.Random], Case]] = [_length_after_action]
BARE_KINDS: list[Callable[[str, random.Random], Case]] = [_bare_at_the_end, _bare_cut]
# Then, for GLM mobile: a different action labelled within a line after the line-start one is a remark or the
# action, which nothing can tell: refused.
LABEL_KINDS: list[Callable[[str, random.Random], Case]] = [_labelled_after]
GLM_MOBILE = tuple(p for p in PROFILES if p.startswith("glm-") and p.endswith("/mobile"))


def generate() -> list[Case]:
    rng = random.Random(SEED)
    cases: list[Case] = []
    groups = [(kinds, PROFILES) for kinds in (KINDS, LATER_KINDS, AFTER_KINDS, STOP_KINDS, CLOSE_KINDS)]
    for kinds, profiles in [*groups, (NEST_KINDS, WEB), (LENGTH_KINDS, PROFILES), (BARE_KINDS, WEB),
                            (LABEL_KINDS, GLM_MOBILE)]:
        for profile in profiles:
            for make in kinds:
                for _ in range(PER_KIND):
                    item = make(profile, rng)
                    cases.append({"id": f"{profile}#{len(cases)}", "profile": profile, **item})
    return cases


def render() -> str:
    return "".join(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n" for item in generate())


if __name__ == "__main__":
    OUTPUT.write_text(render(), encoding="utf-8")
