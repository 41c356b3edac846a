"""AsyncPageAgent on a playwright.async_api page in real Chromium, on the test's own event loop (no threads):
it clicks the labelled element, reads a typed answer and fails a false check, against the fake OpenAI server.
(Async Playwright objects work only on their own event loop, so the calls passing shows no thread was used.)"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

pytest.importorskip("playwright.async_api")
from api_support import boxed, thousandths, web_reply  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from web_support import async_page, site_fixture  # noqa: E402, F401

from glmv_agent import AsyncPageAgent  # noqa: E402
from tests.support import FakeOpenAIServer  # noqa: E402

pytestmark = pytest.mark.browser


class Cart(BaseModel):
    items: int
    total: float


async def _scenario(site: str, server: FakeOpenAIServer, run_dir: Path) -> dict:
    async with async_page(site + "shop.html") as page:
        async with AsyncPageAgent(page, base_url=server.base_url, api_model="glm-4.5v", run_dir=run_dir) as agent:
            result = await agent.act("click the Login button")
            status = await page.locator("#status").text_content()
            cart = await agent.query("the cart", schema=Cart)
            verdict = await agent.check("the cart is empty")
            search = await page.locator("#search").bounding_box()
            box = await agent.locate("the search box")
        out = {"result": result, "status": status, "cart": cart, "verdict": verdict, "box": box, "real": search,
               "open": not page.is_closed()}
        return out


def test_async_page_agent_on_your_own_async_page(site, tmp_path) -> None:
    search_box = [300, 171, 540, 214]  # where shop.html puts #search in a 1000x700 viewport, in thousandths
    script = [
        web_reply("Click [1]", "Login is [1]."), web_reply("ANSWER; <content>done</content>"),
        boxed('{"items": 2, "total": 12.5}'),
        "The cart line says 2 items. <|begin_of_box|>false<|end_of_box|>",
        boxed(str([search_box])),
    ]
    with FakeOpenAIServer(script) as server:
        out = asyncio.run(_scenario(site, server, tmp_path / "run"))
    assert out["result"].status == "complete" and out["status"] == "logged in"
    assert out["cart"] == Cart(items=2, total=12.5)
    assert out["verdict"] is False
    assert thousandths(out["real"], (1000, 700)) == pytest.approx(search_box, abs=2)
    assert out["box"].x == pytest.approx(out["real"]["x"], abs=1) and out["box"].width == pytest.approx(240, abs=1)
    assert out["open"]  # the page is the caller's: still open after the agent closed
    calls = [json.loads(line)["kind"] for line in (tmp_path / "run" / "calls.jsonl").read_text().splitlines()]
    assert calls == ["act", "query", "check", "locate"]
