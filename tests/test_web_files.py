"""File pickers: a click that opens one is told to the model in the next observation, with the label to type file
names into and the files it may choose; only files inside the folder the user allowed (--files DIR) are attached,
anything else is refused with the reason and nothing reaches the page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from web_support import browser_fixture, playwright_fixture, site_fixture  # noqa: E402, F401

from glmv_agent.actions import PointerAction, TypeContent, WebClick, WebType  # noqa: E402
from glmv_agent.environments.web import cli as web_cli  # noqa: E402
from glmv_agent.environments.web.environment import WebEnvironment  # noqa: E402
from glmv_agent.environments.web.options import WebOptions  # noqa: E402
from glmv_agent.errors import ConfigError, StepError  # noqa: E402
from glmv_agent.types import Observation  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """(the allowed folder: photo.txt, notes/a.txt, a link leading out; a private file beside it)"""
    allowed = tmp_path / "allowed"
    (allowed / "notes").mkdir(parents=True)
    (allowed / "photo.txt").write_text("a photo, honestly")
    (allowed / "notes" / "a.txt").write_text("aaa")
    private = tmp_path / "private.txt"
    private.write_text("do not upload")
    os.symlink(private, allowed / "shortcut.txt")
    return allowed, private


def _env(browser, site: str, folder: Path | None, mode: str = "som") -> WebEnvironment:  # noqa: ANN001
    options = WebOptions(url=site + "upload.html", wait_seconds=0, files_dir=folder, mode=mode)
    return WebEnvironment.from_browser(browser, options)


def _label(observation: Observation, text: str) -> int:
    return next(e.label for e in observation.elements if e.text == text)


def _got(env: WebEnvironment) -> str:
    return env.page.locator("#got").text_content() or ""


@pytest.fixture
def opened(browser, site, folders) -> Iterator[tuple[WebEnvironment, Observation, int]]:  # noqa: ANN001
    """The upload button clicked: the environment, the observation after it, the button's label there."""
    with _env(browser, site, folders[0]) as env:
        observation = env.observe()
        env.execute(WebClick(label=_label(observation, "Upload a photo")), observation)
        after = env.observe()
        yield env, after, _label(after, "Upload a photo")


def test_a_click_that_opens_a_picker_is_told_and_a_typed_name_is_attached(opened) -> None:  # noqa: ANN001
    env, observation, button = opened
    note = next(n for n in observation.notes if "file picker" in n)
    assert f"Type [{button}]; [name]" in note and "accepts image/*,.txt" in note and "one file" in note
    assert "Files there: notes/a.txt, photo.txt, shortcut.txt." in note
    outcome = env.execute(WebType(label=button, content="photo.txt"), observation)
    assert _got(env) == "photo: photo.txt 17"
    assert outcome.detail == f"attached photo.txt (17 bytes) to [{button}]"
    assert not any("file picker" in n for n in env.observe().notes)  # done: no longer open


@pytest.mark.parametrize("name, reason", [
    ("../private.txt", "outside the folder the user allowed"),
    ("{private}", "outside the folder the user allowed"),
    ("shortcut.txt", "outside the folder the user allowed"),  # a link inside that leads out
    ("missing.txt", "there is no file missing.txt"),
    ("photo.txt, notes/a.txt", "takes one file"),
])
def test_names_outside_the_folder_are_refused_and_nothing_is_attached(opened, folders, name, reason) -> None:  # noqa: ANN001
    env, observation, button = opened
    with pytest.raises(StepError, match=reason):
        env.execute(WebType(label=button, content=name.format(private=folders[1])), observation)
    assert _got(env) == "nothing attached"
    assert env.page.evaluate("() => document.getElementById('photo').files.length") == 0


def test_typing_into_a_visible_file_input_attaches_several_files(browser, site, folders) -> None:  # noqa: ANN001
    with _env(browser, site, folders[0]) as env:
        observation = env.observe()
        docs = next(e.label for e in observation.elements if e.input_type == "file")
        env.execute(WebType(label=docs, content="photo.txt, notes/a.txt"), observation)
        assert _got(env) == "docs: photo.txt 17, a.txt 3"


def test_without_an_allowed_folder_the_picker_is_told_and_attaching_is_refused(browser, site) -> None:  # noqa: ANN001
    with _env(browser, site, None) as env:
        observation = env.observe()
        env.execute(WebClick(label=_label(observation, "Upload a photo")), observation)
        after = env.observe()
        assert "A file picker opened, but this run may not attach files (the user allowed no folder)." in after.notes
        docs = next(e.label for e in after.elements if e.input_type == "file")
        with pytest.raises(StepError, match="not allowed in this run"):
            env.execute(WebType(label=docs, content="photo.txt"), after)
        assert _got(env) == "nothing attached"


def test_pixel_mode_types_the_name_into_the_open_picker(browser, site, folders) -> None:  # noqa: ANN001
    with _env(browser, site, folders[0], mode="pixel") as env:
        observation = env.observe()
        box = env.page.locator("#photo-button").bounding_box()
        width, height = env.options.viewport
        point = (round(1000 * (box["x"] + box["width"] / 2) / width), round(1000 * (box["y"] + 30) / height))
        env.execute(PointerAction(type="left_click", start_box=point), observation)
        after = env.observe()
        assert any("type(content='name')" in note for note in after.notes), after.notes
        env.execute(TypeContent(content="notes/a.txt"), after)
        assert _got(env) == "photo: a.txt 3"


def test_the_files_flag_must_name_a_folder(tmp_path: Path) -> None:
    args = web_cli.argparse.Namespace(files=tmp_path / "nope")
    with pytest.raises(ConfigError, match="no such folder"):
        web_cli.options_from_args(args)
    assert web_cli.options_from_args(web_cli.argparse.Namespace(files=tmp_path)).files_dir == tmp_path
