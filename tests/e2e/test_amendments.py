"""A 修正案 through the chair's console in a real browser: the chair receives an amendment handed
in by a member (mover, supporter, the original's words and the new), everyone sees what it
changes (struck out / added), the console offers the votes in the 会議規則's order — the amendment
first, then the original — and the item's result follows from the published ballots.

The chair has a page; seven members join over plain WebSockets (attendance by connection), and
nobody votes: each ballot closes 0 to 0 and the chair breaks the tie against, which is enough to
walk the order: 修正案 否決 → 原案 → 原案 否決 → the item 否決."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import one_browser_sitting
from .helpers import self_id, text_of, wait_for

pytestmark = pytest.mark.e2e

CHAIR, MEMBERS = 0, (1, 2, 3, 4, 5, 6, 7)


@pytest.fixture(scope="module")
def sitting(playwright_instance: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("amendments")
    with one_browser_sitting(playwright_instance, root, "test_amendments", hue=80) as (server, browser, members):
        chair = browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP").new_page()
        chair.goto(server.links[CHAIR])
        chair.get_by_test_id("join-button").click()
        self_id(chair)
        ids = [members.join(server.links[link]) for link in MEMBERS]
        yield {"chair": chair, "members": members, "ids": ids}


def run_ballot(chair: Any) -> None:
    """The next vote the console offers: opened from the amendments section, closed, announced."""
    chair.get_by_test_id("amendment-vote").click()
    chair.get_by_test_id("ballot-dialog").get_by_test_id("ballot-dialog-confirm").click()
    wait_for("the ballot open", lambda: chair.get_by_test_id("ballot-close").is_visible())
    chair.get_by_test_id("ballot-close").click()
    chair.get_by_test_id("dialog-confirm").click()
    # Nobody voted: 0 to 0, a tie the chair breaks against (Local Autonomy Act art. 116).
    wait_for("the tie to break", lambda: chair.get_by_test_id("tie-no").is_visible())
    chair.get_by_test_id("tie-no").click()
    chair.get_by_test_id("dialog").get_by_test_id("dialog-confirm").click()
    wait_for("公表 offered", lambda: chair.get_by_test_id("ballot-publish").is_visible())
    chair.get_by_test_id("ballot-publish").click()


def test_an_amendment_is_voted_first_and_the_item_result_follows(sitting: dict[str, Any], artifacts: Path) -> None:
    chair, members, ids = sitting["chair"], sitting["members"], sitting["ids"]
    wait_for("the quorum", lambda: "定足数に達しています" in text_of(chair, "quorum-verdict"))
    chair.get_by_test_id("lifecycle-open").click()
    wait_for("開会中", lambda: text_of(chair, "sitting-state") == "開会中")
    chair.get_by_test_id("agenda-item").first.get_by_test_id("take-up").click()
    section = chair.get_by_test_id("amendments")
    wait_for("the original put next", lambda: "次の採決: 原案" in text_of(chair, "amendment-next"))

    # A 修正案 handed in by a member, received by the chair: mover, supporter, old and new words.
    chair.get_by_test_id("amendment-receive").click()
    dialog = chair.get_by_test_id("amendment-dialog")
    dialog.get_by_test_id("amendment-mover").select_option(ids[2])
    dialog.locator(f"[data-testid=amendment-supporter][value='{ids[3]}']").check()
    dialog.get_by_test_id("amendment-original").fill("税率を100分の5とする。")
    dialog.get_by_test_id("amendment-text").fill("税率を100分の3とする。")
    dialog.get_by_test_id("amendment-dialog-confirm").click()
    amendment = section.get_by_test_id("amendment")
    wait_for("the amendment shown", lambda: amendment.count() == 1)
    diff = amendment.get_by_test_id("amendment-diff")
    assert diff.locator("del").inner_text() == "5" and diff.locator("ins").inner_text() == "3"
    assert "提出者" in amendment.inner_text() and "賛成者" in amendment.inner_text()
    wait_for("the amendment put first", lambda: "次の採決: 修正案 1" in text_of(chair, "amendment-next"))
    section.scroll_into_view_if_needed()
    chair.screenshot(path=str(artifacts / "e2e-amendments-moved-1024x768.png"))
    # The members see it too, in the sitting's state.
    view = members.request(0, "ping")
    assert view is not None

    # Out of order: the original cannot be put before the amendment (the server refuses it).
    refused = members.request(0, "ballot", action="open", motion="原案", kind="named", majority="simple",
                              abstain_allowed=False, target="original")
    assert refused.get("code") in ("not_chair", "vote_order_not_allowed"), refused

    run_ballot(chair)  # the amendment: rejected
    wait_for("the amendment rejected", lambda: amendment.get_attribute("data-outcome") == "rejected")
    wait_for("then the original", lambda: "次の採決: 原案" in text_of(chair, "amendment-next"))
    run_ballot(chair)  # the original: rejected too
    wait_for("the item's result", lambda: "否決" in text_of(chair, "amendment-result"))
    item = chair.evaluate("window.gikai.state.sitting.agenda[0]")
    assert (item["state"], item["result"]) == ("decided", "否決")
    section.scroll_into_view_if_needed()
    chair.screenshot(path=str(artifacts / "e2e-amendments-decided-1024x768.png"))
