"""Rendered messages match each model's documented layout: image order, history text, memory, app lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
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
    history = [
        step(key, 'Memory: None\nReason: open settings\nAction: {"action_type": "open_app", "app_name": "Settings"}',
             (1080, 2400), 10),
        step(key, 'Memory: {"ssid": "Home-5G"}\nReason: read the name\nAction: {"action_type": "answer", '
                  '"text": "Home-5G"}', (1080, 2400), 11),
    ]
    text = profile.render("Open Wi-Fi", obs(Platform.MOBILE), history, []).pop().text()
    # The official harness's layout: Step i from 0, Memory, Reason, Action as a Python-dict literal.
    assert ("Step 0:\nMemory: None\nReason: open settings\nAction: {'action_type': 'open_app', 'app_name': "
            "'Settings'}\nStep 1:\nMemory: {\"ssid\": \"Home-5G\"}\nReason: read the name\n"
            "Action: {'action_type': 'answer', 'text': 'Home-5G'}") in text
    assert "Though" not in text and "first step" not in text


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
    assert message.text() == "CUSTOM hello :: No action has been taken yet; this is the first step."
    untouched = get_profile("glm-4.5v/web", prompt_dir=tmp_path)
    assert "# Task Platform\nWeb" in untouched.render("x", obs(Platform.WEB), [], []).pop().text()


def test_every_part_is_text_or_image() -> None:
    message = get_profile("glm-4.5v/mobile").render("t", obs(Platform.MOBILE), [], []).pop()
    assert all(isinstance(p, (TextPart, ImagePart)) for p in message.content)


def test_glm45v_mobile_first_step_says_no_action_yet_and_glm41v_desktop_keeps_an_empty_history() -> None:
    mobile = get_profile("glm-4.5v/mobile").render("Open Wi-Fi", obs(Platform.MOBILE), [], []).pop().text()
    section = mobile.split("# Historical Actions and Current Memory\n", 1)[1].split("\n#", 1)[0]
    assert section.strip() == "No action has been taken yet; this is the first step."
    desktop = get_profile("glm-4.1v/desktop").render("Mirror it", obs(Platform.DESKTOP, (1920, 1080)), [], []).pop()
    assert desktop.text().rstrip().endswith("Mirror it") and "History actions" not in desktop.text()


def test_web_prompt_clock_is_beijing_time_whatever_the_machine_zone() -> None:
    from datetime import datetime, timedelta, timezone

    from glmv_agent.profiles.web import beijing_time

    assert beijing_time(datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc)) == "2026-12-01, 07:00 AM"
    somewhere_else = timezone(timedelta(hours=-7))
    assert beijing_time(datetime(2026, 6, 1, 5, 0, tzinfo=somewhere_else)) == "2026-06-01, 08:00 PM"


@pytest.mark.parametrize(("lang", "date_line", "rule"), [
    ("zh", "今天的日期是：2026年11月30日 星期一", "18. 结束任务前"),
    ("en", "Today's date is: 2026-11-30 Monday", "18. Before finishing"),
])
def test_autoglm_system_prompt_in_both_languages_with_all_18_rules(lang: str, date_line: str, rule: str) -> None:
    import re
    from datetime import datetime

    from glmv_agent.profiles.autoglm import today

    profile = get_profile("autoglm-phone/mobile", lang=lang)
    system = profile.render("打开设置", obs(Platform.MOBILE), [], [])[0].text()
    assert system.startswith(date_line.split("：")[0].split(": ")[0])
    assert today(lang, datetime(2026, 11, 30)) == date_line.split("：")[-1].split(": ")[-1]
    assert rule in system
    assert [int(n) for n in re.findall(r"^(\d+)\. ", system, re.MULTILINE)] == list(range(1, 19))
    actions = re.findall(r'^- (do\(action="[^"]+"|finish\()', system, re.MULTILINE)
    assert len(actions) == 16 and 'do(action="Long Press"' in actions and "finish(" in actions


def test_profile_options_and_prompt_dir_mistakes_are_clear_errors(tmp_path: Path) -> None:
    from glmv_agent.errors import ConfigError

    with pytest.raises(ConfigError, match="must be one of zh, en"):
        get_profile("autoglm-phone/mobile", lang="fr")
    with pytest.raises(ConfigError, match="takes no 'lang' option"):
        get_profile("glm-4.5v/mobile", lang="en")
    with pytest.raises(ConfigError, match="is not a folder"):
        get_profile("glm-4.5v/mobile", prompt_dir=tmp_path / "missing")
    (tmp_path / "glm45v_mobil.txt").write_text("{{task}}", encoding="utf-8")
    with pytest.raises(ConfigError, match="glm45v_mobil.txt names no prompt template"):
        get_profile("glm-4.5v/mobile", prompt_dir=tmp_path)
