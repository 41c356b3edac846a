"""Rendered messages match each model's documented layout: image order, history text, memory, app lists."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from glmv_agent.profiles import get_profile
from glmv_agent.types import HistoryItem, ImagePart, Observation, Platform, TextPart, WebElement


def screen(size: tuple[int, int], shade: int = 200) -> Image.Image:
    return Image.new("RGB", size, (shade, shade, shade))


def obs(platform: Platform, size: tuple[int, int] = (1080, 2400), **extra) -> Observation:
    return Observation(screenshot=screen(size), platform=platform, **extra)


def step(key: str, text: str, size: tuple[int, int], shade: int, app: str | None = None) -> HistoryItem:
    decision = get_profile(key).parse(text)
    return HistoryItem(decision=decision, raw=text, screenshot=screen(size, shade), app=app)


def kinds(message) -> list[str]:  # noqa: ANN001
    return ["image" if isinstance(p, ImagePart) else "text" for p in message.content]


def test_glm45v_mobile_single_turn_image_first_history_in_text() -> None:
    key = "glm-4.5v/mobile"
    history = [step(key, 'Memory: None\nReason: need the app\nAction: {"action_type": "open_app", "app_name": '
                         '"Broccoli"}', (1080, 2400), 10)]
    current = obs(Platform.MOBILE)
    messages = get_profile(key).render("Delete duplicate recipes", current, history, [])
    assert len(messages) == 1 and messages[0].role == "user"
    assert kinds(messages[0]) == ["image", "text"]
    assert messages[0].content[0].image is current.screenshot
    text = messages[0].text()
    assert "# Task:\nDelete duplicate recipes" in text and "# Task Platform\nMobile" in text
    assert ("Step 0:\nMemory: None\nReason: need the app\nAction: {'action_type': 'open_app', 'app_name': "
            "'Broccoli'}") in text
    assert "Simple Calendar Pro" in text and "Google Chat" not in text  # the 4.5V AndroidWorld app list
    assert 'Action: {"action_type":...}' in text


def test_glm41v_mobile_history_layout_and_app_list() -> None:
    key = "glm-4.1v/mobile"
    profile = get_profile(key)
    empty = profile.render("Open Wi-Fi", obs(Platform.MOBILE), [], []).pop().text()
    assert "first step" in empty and "Google Chat" in empty and "The current user goal/request is: Open Wi-Fi" in empty
    history = [step(key, 'Memory: None\nReason: open settings\nAction: {"action_type": "open_app", "app_name": '
                         '"Settings"}', (1080, 2400), 10)]
    text = profile.render("Open Wi-Fi", obs(Platform.MOBILE), history, []).pop().text()
    assert 'Step 1:\nThough: open settings\nAction: {"action_type": "open_app", "app_name": "Settings"}' in text


def test_glm41v_desktop_current_first_then_half_size_history_oldest_first() -> None:
    key = "glm-4.1v/desktop"
    history = [step(key, f"Step {n}.\nleft_click(start_box='[{n},{n}]')\nMemory:\n[{{\"n\": {n}}}]", (1920, 1080), n)
               for n in range(1, 7)]
    message = get_profile(key).render("Mirror the figure", obs(Platform.DESKTOP, (1920, 1080)), history, []).pop()
    assert kinds(message) == ["image"] * 5 + ["text"]
    images = message.images()
    assert images[0].size == (1920, 1080)
    assert [im.size for im in images[1:]] == [(960, 540)] * 4
    assert [im.getpixel((0, 0))[0] for im in images[1:]] == [3, 4, 5, 6]  # the last four steps, oldest first
    text = message.text()
    assert text.rstrip().endswith('Memory:\n[{"n": 6}]')
    assert "History actions:\nstep 1: Step 1.\nleft_click(start_box='[1,1]')\nstep 2:" in text
    assert "Now Please help me to solve the following task:\nMirror the figure" in text


def test_glm45v_desktop_interleaves_history_images_and_ends_with_current() -> None:
    key = "glm-4.5v/desktop"
    history = [step(key, f"Thought {n}.\n<|begin_of_box|>left_click(start_box='[{n},{n}]')<|end_of_box|>\nMemory:\n[]",
                    (1920, 1080), n) for n in range(1, 7)]
    current = obs(Platform.DESKTOP, (1920, 1080))
    message = get_profile(key).render("Rotate it", current, history, []).pop()
    assert kinds(message) == ["text", "image"] * 5
    parts = message.content
    first = parts[0].text
    assert first.endswith("History:\nstep 1: Screenshot:(Omitted in context.) Thought: Thought 1.\n"
                          "Action: left_click(start_box='[1,1]')\nstep 2: Screenshot:(Omitted in context.) Thought: "
                          "Thought 2.\nAction: left_click(start_box='[2,2]')\nstep 3: Screenshot:")
    assert parts[2].text == " Thought: Thought 3.\nAction: left_click(start_box='[3,3]')\nstep 4: Screenshot:"
    assert [p.image.size for p in parts[1:8:2]] == [(960, 540)] * 4
    assert parts[-1].image is current.screenshot
    assert parts[-2].text.endswith("Current Screenshot:\n")
    assert "<|begin_of_box|>" not in message.text()
    assert "# Task Platform\nUbuntu" in first and "Call rule: `left_drag(start_box='[x1,y1]', end_box='[x2,y2]'" in first


def test_web_marked_image_element_list_and_history() -> None:
    key = "glm-4.5v/web"
    marked = screen((1280, 800), 50)
    elements = [WebElement(label=0, tag="a", text="Home", box=(0, 0, 10, 10)),
                WebElement(label=1, tag="input", text="", box=(0, 20, 100, 40)),
                WebElement(label=2, tag="div", text="", box=(0, 50, 10, 60))]
    current = obs(Platform.WEB, (1280, 800), marked_screenshot=marked, elements=elements, url="http://127.0.0.1/x")
    history = [step(key, f"Thought: t{n}\nAction: Click [{n}]\nMemory_Updated: {{\"k\": {n}}}", (1280, 800), n)
               for n in range(20)]
    message = get_profile(key).render("Find a recipe", current, history, []).pop()
    assert kinds(message) == ["image", "text"] and message.content[0].image is marked
    text = message.text()
    assert '[0]: "Home";\t[1]: <input> "";' in text and "[2]" not in text.split("B. Tag name")[1].split("C.")[0]
    assert "Find a recipe, Please interact with http://127.0.0.1/x and get the answer." in text
    assert "0.Thought:t5\tAction:Click [5]\tObservation:Success\n" in text and "Thought:t4" not in text  # last 15
    assert 'Memory:{"k": 19}' in text


def test_autoglm_multi_turn_only_latest_image() -> None:
    key = "autoglm-phone/mobile"
    history = [step(key, '<think>open it</think><answer>do(action="Launch", app="Settings")</answer>', (1080, 2400),
                    1, app="System Home")]
    current = obs(Platform.MOBILE, app="Settings")
    messages = get_profile(key).render("Turn on Wi-Fi", current, history, [])
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1].text() == 'Turn on Wi-Fi\n\n{"current_app": "System Home"}' and not messages[1].images()
    assert messages[2].text() == '<think>open it</think><answer>do(action="Launch", app="Settings")</answer>'
    assert kinds(messages[3]) == ["image", "text"]
    assert messages[3].text() == "** Screen Info **\n\n" + json.dumps({"current_app": "Settings"})
    assert 'do(action="Tap", element=[x,y])' in messages[0].text()


def test_notes_reach_the_prompt() -> None:
    for key in ("glm-4.1v/mobile", "glm-4.5v/mobile", "glm-4.5v/web", "autoglm-phone/mobile"):
        platform = Platform.WEB if key.endswith("web") else Platform.MOBILE
        observation = obs(platform, notes=["The screen is black (secure window)."])
        text = "\n".join(m.text() for m in get_profile(key).render("t", observation, [], ["reply again"]))
        assert "The screen is black (secure window)." in text and "reply again" in text


def test_prompt_directory_overrides_templates(tmp_path: Path) -> None:
    (tmp_path / "glm45v_mobile.txt").write_text("CUSTOM {{task}} :: {{history}}", encoding="utf-8")
    message = get_profile("glm-4.5v/mobile", prompt_dir=tmp_path).render("hello", obs(Platform.MOBILE), [], []).pop()
    assert message.text() == "CUSTOM hello :: "
    untouched = get_profile("glm-4.5v/web", prompt_dir=tmp_path)
    assert "# Task Platform\nWeb" in untouched.render("x", obs(Platform.WEB), [], []).pop().text()


def test_every_part_is_text_or_image() -> None:
    message = get_profile("glm-4.5v/mobile").render("t", obs(Platform.MOBILE), [], []).pop()
    assert all(isinstance(p, (TextPart, ImagePart)) for p in message.content)
