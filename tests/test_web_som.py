"""Set-of-marks mode against real Chromium and a local form: labels, the element list, and every web-grammar
action, each checked by reading the page's state back from the DOM."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api")
from web_support import browser_fixture, playwright_fixture, site_fixture  # noqa: E402, F401

from glmv_agent.actions import (  # noqa: E402
    GoBack,
    LeftDrag,
    SearchEngine,
    WebAnswer,
    WebClick,
    WebKey,
    WebScroll,
    WebType,
)
from glmv_agent.environments.web.environment import WebEnvironment  # noqa: E402
from glmv_agent.environments.web.marks import PALETTE  # noqa: E402
from glmv_agent.environments.web.options import WebOptions  # noqa: E402
from glmv_agent.errors import ActionNotSupported, StepError  # noqa: E402
from glmv_agent.profiles.web import elements_text  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture
def env(browser, site):
    options = WebOptions(url=site + "form.html", wait_seconds=0, search_url=site + "second.html")
    with WebEnvironment.from_browser(browser, options) as environment:
        yield environment


def label_of(observation, **wanted) -> int:
    matches = [e.label for e in observation.elements if all(getattr(e, k) == v for k, v in wanted.items())]
    assert len(matches) == 1, (wanted, observation.elements)
    return matches[0]


def dom(env: WebEnvironment, script: str):
    return env.page.evaluate(script)


def test_labels_number_the_visible_interactive_elements_in_document_order(env):
    observation = env.observe()
    tags = [(e.label, e.tag, e.text) for e in observation.elements]
    assert tags[:6] == [
        (0, "input", "Your name"), (1, "input", "Paris"), (2, "select", "Choose…"), (3, "textarea", ""),
        (4, "button", "Send"), (5, "button", "Click me"),
    ]
    assert [e.input_type for e in observation.elements[:3]] == ["text", "text", None]
    texts = [e.text for e in observation.elements]
    assert "Far away" not in texts  # below the fold: not labelled
    assert observation.url.endswith("/form.html")
    listing = elements_text(observation.elements)
    assert '[0]: <input> "Your name";' in listing and '[5]: <button> "Click me";' in listing
    box = dom(env, "() => { const r = document.getElementById('name').getBoundingClientRect();"
                   " return [r.left, r.top, r.right, r.bottom]; }")
    assert observation.elements[0].box == pytest.approx(tuple(box))
    assert dom(env, "() => document.querySelector('[data-glmv-mark$=\"-0\"]').id") == "name"


def test_marked_screenshot_carries_the_labels_and_the_clean_one_does_not(env):
    observation = env.observe()
    assert observation.model_image is observation.marked_screenshot
    x1, y1, _, _ = (round(v) for v in observation.elements[4].box)  # the Send button
    tag_pixel = (x1 + 2, y1 + 2)
    assert observation.marked_screenshot.getpixel(tag_pixel) == PALETTE[4]
    assert observation.screenshot.convert("RGB").getpixel(tag_pixel) != PALETTE[4]


def test_type_clears_the_field_types_exactly_and_presses_enter(env):
    observation = env.observe()
    outcome = env.execute(WebType(label=1, content="北京 Beijing “quoted”"), observation)
    assert dom(env, "() => document.getElementById('city').value") == "北京 Beijing “quoted”"
    assert dom(env, "() => document.getElementById('status').textContent") == "submitted: "  # Enter submitted
    assert outcome.pixels and "pressed Enter" in outcome.detail


def test_click_on_select_opens_an_in_page_list_and_a_row_chooses(env):
    observation = env.observe()
    env.execute(WebClick(label=label_of(observation, tag="select")), observation)
    opened = env.observe()
    rows = [e.text for e in opened.elements if e.tag == "div" and e.label > 6]
    assert rows[:4] == ["Choose…", "France", "Germany", "China 中国"]
    assert "Japan" not in rows  # disabled options cannot be chosen
    france = label_of(opened, text="France")
    select_box = opened.elements[2].box
    assert opened.elements[france].box[1] >= select_box[3] - 1  # drawn under the select, in the page
    env.execute(WebClick(label=france), opened)
    assert dom(env, "() => document.getElementById('country').value") == "fr"
    assert dom(env, "() => document.getElementById('picked').textContent") == "fr"  # change event fired
    after = env.observe()
    assert "Germany" not in [e.text for e in after.elements]  # the list closed
    assert after.elements[2].text == "France"


def test_type_into_a_select_chooses_the_matching_option(env):
    observation = env.observe()
    outcome = env.execute(WebType(label=2, content="china"), observation)
    assert dom(env, "() => document.getElementById('country').value") == "cn"
    assert dom(env, "() => document.getElementById('picked').textContent") == "cn"
    assert outcome.detail == 'chose "China 中国" in [2]'
    with pytest.raises(StepError, match="France; Germany"):
        env.execute(WebType(label=2, content="Atlantis"), env.observe())


def test_scroll_an_element_then_the_window(env):
    observation = env.observe()
    log_label = label_of(observation, tag="div")
    env.execute(WebScroll(target=log_label, direction="down"), observation)
    assert dom(env, "() => document.getElementById('log').scrollTop") > 0
    assert dom(env, "() => scrollY") == 0
    outcome = env.execute(WebScroll(target="WINDOW", direction="up"), env.observe())
    assert outcome.note and "already at the top" in outcome.note
    for _ in range(4):
        env.execute(WebScroll(target="WINDOW", direction="down"), env.observe())
    assert dom(env, "() => scrollY") > 0
    far = label_of(env.observe(), text="Far away")
    env.execute(WebClick(label=far), env.observe())
    assert dom(env, "() => document.getElementById('far').textContent") == "Far clicked"


def test_a_label_hits_the_element_that_carried_it_even_after_the_layout_moved(env):
    observation = env.observe()
    dom(env, """() => { const b = document.createElement('button'); b.id = 'intruder'; b.textContent = 'Intruder';
                       b.style.height = '80px'; b.onclick = () => { b.textContent = 'hit'; };
                       document.body.prepend(b); }""")
    env.execute(WebClick(label=5), observation)  # [5] was "Click me" in the screenshot the model saw
    assert dom(env, "() => document.getElementById('counter').textContent") == "Clicked 1"
    assert dom(env, "() => document.getElementById('intruder').textContent") == "Intruder"


def test_a_label_whose_element_is_gone_or_unknown_is_a_step_error(env):
    observation = env.observe()
    dom(env, "() => document.getElementById('counter').remove()")
    with pytest.raises(StepError, match="no longer on the page"):
        env.execute(WebClick(label=5), observation)
    with pytest.raises(StepError, match=r"no label \[99\]"):
        env.execute(WebClick(label=99), observation)


def test_typing_into_a_button_is_refused_and_changes_nothing(env):
    observation = env.observe()
    with pytest.raises(StepError, match="not a text box"):
        env.execute(WebType(label=5, content="oops"), observation)
    assert dom(env, "() => document.getElementById('status').textContent") == "not submitted"


def test_key_goback_and_the_search_jump(env, site):
    observation = env.observe()
    env.execute(WebClick(label=0), observation)
    env.execute(WebKey(key="Return"), observation)
    assert dom(env, "() => document.getElementById('status').textContent") == "submitted: "
    observation = env.observe()
    env.execute(WebClick(label=label_of(observation, text="Go to the second page")), observation)
    assert env.observe().url == site + "second.html"
    outcome = env.execute(GoBack(), env.observe())
    assert env.observe().url == site + "form.html" and "went back" in outcome.detail
    env.execute(SearchEngine(), env.observe())
    assert env.observe().url == site + "second.html"
    assert dom(env, "() => document.getElementById('title').textContent") == "Second page"
    assert env.execute(WebAnswer(content="done"), env.observe()).detail == "answered"


def test_set_of_marks_mode_rejects_the_desktop_grammar(env):
    with pytest.raises(ActionNotSupported):
        env.execute(LeftDrag(start_box=(1, 1), end_box=(2, 2)), env.observe())


def test_an_element_under_an_overlay_gets_no_label(env):
    dom(env, """() => { const d = document.createElement('div'); Object.assign(d.style, {position: 'fixed',
                left: '0', top: '0', width: '100vw', height: '100vh', background: 'rgba(0,0,0,.5)'});
                document.body.append(d); }""")
    assert env.observe().elements == []


def test_window_scroll_in_an_app_layout_scrolls_the_main_area(browser, site):
    with WebEnvironment.from_browser(browser, WebOptions(url=site + "app.html")) as env:
        outcome = env.execute(WebScroll(target="WINDOW", direction="down"), env.observe())
        assert dom(env, "() => document.getElementById('main').scrollTop") > 0
        assert dom(env, "() => scrollY") == 0
        assert outcome.detail.startswith("scrolled the div down")


def test_a_label_covered_after_the_screenshot_is_a_step_error_not_a_click_on_the_cover(browser, site):
    options = WebOptions(url=site + "form.html", wait_seconds=0, action_timeout_s=0.5)
    with WebEnvironment.from_browser(browser, options) as env:
        observation = env.observe()
        dom(env, """() => { const d = document.createElement('div'); d.id = 'cover';
                    d.onclick = () => { d.textContent = 'cover clicked'; };
                    Object.assign(d.style, {position: 'fixed', left: '0', top: '0', width: '100vw', height: '100vh'});
                    document.body.append(d); }""")
        with pytest.raises(StepError, match="intercepts pointer events"):
            env.execute(WebClick(label=5), observation)
        assert dom(env, "() => document.getElementById('counter').textContent") == "Click me"
        assert dom(env, "() => document.getElementById('cover').textContent") == ""
