"""The simulated phone's `sh -c` splits words like a real POSIX shell (checked against /bin/sh), and its
programs treat text the way Android does."""

from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glmv_agent.environments.android.sim.commands import Programs, android_text
from glmv_agent.environments.android.sim.screen import Phone
from glmv_agent.environments.android.sim.shell import Shell, ShellSyntaxError, expand, parse
from glmv_agent.environments.android.sim.transport import ServiceResult

SH = shutil.which("sh")
TRICKY = [
    "plain", "two words", "semi;colon", "a && b", "pipe|x", "$(rm -rf /)", "`id`", "'single'", '"double"',
    "back\\slash", "new\nline", "100%s", "$HOME", "tab\there", "*", "~", "#hash", "é 你好 😀", "",
]


def sim_words(script: str) -> list[list[str]]:
    return [expand(words, {"HOME": "/"}) for _, pipeline in parse(script) for words in pipeline]


def sh_words(*words: str) -> list[str]:
    script = "printf '%s\\0' " + " ".join(words)
    env = {"HOME": "/", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([SH, "-c", script], capture_output=True, check=True, env=env).stdout  # type: ignore[list-item]
    return out.decode("utf-8").split("\0")[:-1]


@pytest.mark.skipif(SH is None, reason="no /bin/sh")
@pytest.mark.parametrize("text", TRICKY)
def test_quoted_text_is_one_word_in_both_shells(text: str) -> None:
    quoted = shlex.quote(text)
    assert sh_words(quoted) == [text]
    assert sim_words(f"input text {quoted}") == [["input", "text", text]]


@pytest.mark.skipif(SH is None, reason="no /bin/sh")
@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=30))
def test_any_quoted_text_survives_like_in_sh(text: str) -> None:
    assert sim_words("x " + shlex.quote(text)) == [["x", text]] == [["x", *sh_words(shlex.quote(text))]]


@pytest.mark.skipif(SH is None, reason="no /bin/sh")
@pytest.mark.parametrize("script", ["a\\ b c", "'a'\"b\"c", '"x\\"y" z', "a\\\nb", "\"$HOME\"x", "'$HOME'",
                                    "a#b #c", "\"a'b\"", "''"])
def test_unusual_quoting_splits_like_sh(script: str) -> None:
    assert sim_words("printf " + script)[0][1:] == sh_words(script)


def test_unquoted_metacharacters_break_text_as_on_a_phone() -> None:
    phone = Phone()
    shell = Shell(Programs(phone))
    phone.launch("net.gsantner.markor")
    phone.state.focused = True
    result = shell.run("input text a;b")  # 'b' becomes a second command, as on a device
    assert phone.state.field_text == "a" and result.exit_code == 127
    assert shell.run("input text $(id)").exit_code == 2  # refused: no command substitution here
    assert shell.run("input text x&&echo $?").stdout == b"0\n"
    assert phone.state.field_text == "ax"


def test_lists_and_exit_codes() -> None:
    shell = Shell(lambda argv, stdin: ServiceResult(b"", b"", 5))
    assert shell.run("false || echo fallback; true && echo yes").stdout == b"fallback\nyes\n"
    assert shell.run("prog; echo $?").stdout == b"5\n"
    assert shell.run("exit 7; echo never").exit_code == 7
    assert shell.run("echo a | grep -v a").exit_code == 1
    with pytest.raises(ShellSyntaxError):
        parse("a |")


@pytest.mark.parametrize(("raw", "typed"), [
    ("hello%sworld", "hello world"), ("100%", "100%"), ("%%s", "% "), ("a%xb", "a%xb"), ("%s%s", "  "),
])
def test_input_text_percent_s_rule(raw: str, typed: str) -> None:
    assert android_text(raw) == typed


def test_input_text_with_a_character_the_key_map_lacks_types_nothing() -> None:
    phone = Phone()
    phone.launch("net.gsantner.markor")
    phone.state.focused = True
    result = Shell(Programs(phone)).run("input text 'abc你'")
    assert result.exit_code == 255 and b"NullPointerException" in result.stderr
    assert phone.state.field_text == ""
