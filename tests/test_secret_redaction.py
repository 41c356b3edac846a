"""Redaction replaces whole occurrences of a secret value in every spelling (raw, URL-encoded, JSON-escaped,
base64, clipped with "…") and nothing else: other words keep every character, so a record reads as the model saw."""

from __future__ import annotations

import base64
import json
import logging
import re
from urllib.parse import quote, quote_plus

import pytest

from glmv_agent.oversight.redaction import base64_forms
from glmv_agent.oversight.secrets import SecretStore
from glmv_agent.types import Observation, Platform, WebElement

VALUE = 'Enterprise&Co "1"!/é'
STORE = SecretStore({"PW": VALUE})
P = "<secret>PW</secret>"


@pytest.mark.parametrize("spelling", [
    VALUE, quote(VALUE, safe=""), quote_plus(VALUE, safe=""), quote(VALUE, safe="!'()*~"), quote_plus(VALUE, safe="*"),
    re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(VALUE, safe="")), json.dumps(VALUE)[1:-1], json.dumps(VALUE, ensure_ascii=False)[1:-1],
    base64.b64encode(VALUE.encode()).decode(), base64.urlsafe_b64encode(VALUE.encode()).decode().rstrip("="),
    VALUE.replace("&", "\\&").replace('"', '\\"'), VALUE.replace("&", "&amp;").replace('"', "&quot;"),
])
def test_every_spelling_of_the_whole_value_is_replaced(spelling: str) -> None:
    assert STORE.redact(f"before {spelling} after") == f"before {P} after"


def test_base64_of_a_longer_text_loses_every_part_that_only_the_value_decides() -> None:
    for prefix in (b"", b"a", b"ab", b"user:"):
        encoded = base64.b64encode(prefix + VALUE.encode() + b" tail").decode()
        redacted = STORE.redact(encoded) or ""
        assert P in redacted
        assert not any(form in redacted for form in base64_forms(VALUE))


def test_other_words_keep_every_character() -> None:
    text = "Press Enter to open Enterprise tools; E&Co is a company; 1/é"
    assert STORE.redact(text) == text  # the old redaction cut 4-character pieces ("Ente", "&Co ") out of these
    assert SecretStore({"K": "hunter2"}).redact("hunter hunter22x") == "hunter <secret>K</secret>2x"


def test_a_copy_clipped_with_an_ellipsis_is_replaced_and_placeholders_survive_a_second_pass() -> None:
    clipped = f'typed "login {VALUE[:9]}…" into [1]'
    once = STORE.redact(clipped)
    assert once == f'typed "login {P}…" into [1]'
    assert STORE.redact(once) == once
    assert SecretStore({"S": "secret"}).redact("<secret>S</secret> and secret") == "<secret>S</secret> and " \
                                                                                  "<secret>S</secret>"


def test_the_longer_of_two_overlapping_values_wins() -> None:
    store = SecretStore({"SHORT": "abc123", "LONG": "abc123xyz"})
    assert store.redact("abc123xyz abc123") == "<secret>LONG</secret> <secret>SHORT</secret>"


def test_an_observation_is_redacted_in_every_text_the_model_reads() -> None:
    from PIL import Image

    element = WebElement(label=0, tag="input", text=f"{VALUE} typed", box=(0, 0, 5, 5))
    observation = Observation(screenshot=Image.new("RGB", (4, 4)), platform=Platform.WEB, elements=[element],
                              url=f"http://x/?pw={quote_plus(VALUE)}", notes=[f'A dialog said "{VALUE}"'])
    clean = STORE.redact_observation(observation)
    assert (clean.url, clean.elements[0].text, clean.notes) == (f"http://x/?pw={P}", f"{P} typed",
                                                                [f'A dialog said "{P}"'])
    assert clean.screenshot is observation.screenshot and observation.elements[0].text.startswith(VALUE)


def test_the_log_filter_redacts_formatted_messages(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("glmv_agent.test_redaction")
    caplog.handler.addFilter(STORE.log_filter())
    with caplog.at_level(logging.INFO):
        logger.info("sent %s as %s", quote(VALUE, safe=""), base64.b64encode(VALUE.encode()).decode())
    assert caplog.records[-1].getMessage() == f"sent {P} as {P}"
