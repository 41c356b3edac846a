"""Rule-based "models" for MiniWoB++ tests, answering in the GLM web grammar from our own prompt (tests only).

:func:`solver` reads the task line and the element list (``[3]: <button> "Submit";``) of a GLM-4.5V web prompt and
solves click-button, click-link and enter-text the way a correct model would. :func:`first_label_then_done` is a
wrong policy: it clicks label 0, then declares the task done. Both plug into ``FakeOpenAIServer(policy=...)``.
"""

from __future__ import annotations

import re

from .openai_server import RecordedRequest

ELEMENT = re.compile(r'\[(\d+)\]: (?:<(\w+)> )?"(.*?)";')
TASK = re.compile(r"# Task:\n(.*?), Please interact with", re.DOTALL)


def prompt_text(request: RecordedRequest) -> str:
    """All text parts of the request's messages, in order."""
    parts = []
    for message in request.body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [p.get("text", "") for p in content if p.get("type") == "text"]
    return "\n".join(parts)


def reply(thought: str, action: str) -> str:
    return f"Thought: {thought}\nAction: {action}\nMemory_Updated: {{}}"


def elements(prompt: str) -> list[tuple[int, str, str]]:
    """(label, tag or '', text) of each listed element."""
    listing = prompt.split("B. Tag name and text of each labelled element", 1)[-1].split("\nC. Memory", 1)[0]
    return [(int(label), tag, text) for label, tag, text in ELEMENT.findall(listing)]


def _find(items: list[tuple[int, str, str]], text: str, tag: str | None = None) -> int | None:
    return next((label for label, t, x in items if x == text and (tag is None or t == tag)), None)


def solver(request: RecordedRequest) -> str:
    prompt = prompt_text(request)
    task = TASK.search(prompt)
    goal = task.group(1) if task else ""
    items = elements(prompt)
    wanted = re.search(r'"(.*?)"', goal)
    target = wanted.group(1) if wanted else ""
    if goal.startswith("Click on the link"):
        label = _find(items, target)
    elif goal.startswith("Click on the") and goal.endswith("button."):
        label = _find(items, target, "button")
    elif goal.startswith("Enter"):
        typed = _find(items, target, "input")
        if typed is None:
            field = next((lab for lab, tag, _ in items if tag == "input"), None)
            if field is not None:
                return reply("The text field is empty; I type the text.", f"Type [{field}]; [{target}]")
        label = _find(items, "Submit", "button")
    else:
        label = None
    if label is None:
        return reply("I cannot find what the task asks for.", "ANSWER; <content>not found</content>")
    return reply(f"Element [{label}] is what the task names.", f"Click [{label}]")


def first_label_then_done(request: RecordedRequest) -> str:
    prompt = prompt_text(request)
    if re.search(r"^0\.Thought:", prompt, re.MULTILINE):  # one action in the history already
        return reply("That must have done it.", "ANSWER; <content>Done, the task is complete.</content>")
    return reply("The first element will do.", "Click [0]")
