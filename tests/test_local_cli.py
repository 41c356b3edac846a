"""``glmv-agent run --local``: the flags, the factory and a whole run on a tiny checkpoint saved to disk."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from glmv_agent.cli import main
from glmv_agent.local_backend.cli import add_arguments, config_from_args, create_backend
from tests.tiny_models import build_model

DONE = "<|begin_of_box|>DONE()<|end_of_box|>"


@pytest.fixture(scope="session")
def finishing_glm41v(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GLM-4.1V-layout checkpoint whose weights answer DONE() to any prompt."""
    return build_model(tmp_path_factory.mktemp("glm41v-done"), "glm4v", script=DONE)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="glm-4.1v")
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_flags_map_to_the_model_config() -> None:
    config = config_from_args(parse("--local", "zai-org/GLM-4.1V-9B-Thinking", "--local-dtype", "float16",
                                    "--local-device-map", "auto", "--local-attn", "sdpa", "--no-fast-decode"))
    assert (config.model, config.dtype, config.device_map, config.attn_implementation) == (
        "zai-org/GLM-4.1V-9B-Thinking", "float16", "auto", "sdpa")
    assert config.fast_decode is False
    defaults = config_from_args(parse("--local", "org/m"))
    assert defaults.dtype == "auto" and defaults.fast_decode is None
    with pytest.raises(SystemExit):  # the budget is a generation flag of `run` now, for endpoints and local alike
        parse("--local", "org/m", "--thinking-budget", "2048")


def test_factory_loads_now_and_warns_when_the_profile_does_not_fit(
    finishing_glm41v: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="glmv_agent.local_backend.cli"):
        backend = create_backend(parse("--model", "glm-4.5v", "--local", str(finishing_glm41v)))
    assert backend.loaded and backend.family is not None and backend.family.model_type == "glm4v"
    assert "--model glm-4.5v prompts a glm46v/glm4v_moe checkpoint" in caplog.text


def test_offline_run_with_a_local_checkpoint_completes(finishing_glm41v: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "glmv_agent.cli", "run", "Close the dialog.", "--platform", "desktop", "--model",
         "glm-4.1v", "--fake-screen", "--local", str(finishing_glm41v), "--max-steps", "2",
         "--out", str(tmp_path / "run"), "--no-report"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "status: complete" in done.stdout
    assert "<|begin_of_box|>DONE()<|end_of_box|>" in (tmp_path / "run" / "steps.jsonl").read_text(encoding="utf-8")


def test_run_with_a_missing_directory_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "x", "--platform", "desktop", "--fake-screen", "--local", str(tmp_path / "absent"),
                 "--out", str(tmp_path / "run"), "--no-report"])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
