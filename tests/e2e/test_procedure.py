"""Council procedure in a real browser, one sitting in order: the roll call of remote members with
identity confirmation at the opening, then a 修正案 through the chair's console.

Roll call: the chair starts it; each remote member in seat order is shown large on every screen;
member A (a page) answers with the big button, the chair confirms; the rest answer over their
sockets; the chair ends it early, and the record keeps each confirmation with the presence then.

Motions: a 休憩の動議 received with its supporter and put to a ballot of its own.

Amendments: the chair receives an amendment handed
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

CHAIR, A, MEMBERS = 0, 2, (1, 3, 4, 5, 6, 7)


@pytest.fixture(scope="module")
def sitting(playwright_instance: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("amendments")
    with one_browser_sitting(playwright_instance, root, "test_procedure", hue=80) as (server, browser, members):
        pages = {}
        for who, link in (("chair", CHAIR), ("a", A)):
            pages[who] = browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP").new_page()
            pages[who].goto(server.links[link])
            pages[who].get_by_test_id("join-button").click()
        a_id = self_id(pages["a"])
        self_id(pages["chair"])
        ids = [members.join(server.links[link]) for link in MEMBERS]
        yield {"chair": pages["chair"], "a": pages["a"], "a_id": a_id, "members": members, "ids": ids,
               "server": server}


def run_ballot(chair: Any) -> None:
    """The next vote the console offers, opened from the amendments section."""
    chair.get_by_test_id("amendment-vote").click()
    close_and_publish(chair)


def close_and_publish(chair: Any) -> None:
    """The ballot dialog confirmed, the ballot closed with nobody voting, the tie broken, announced."""
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


def test_the_chair_confirms_each_remote_member_shown_large_to_everyone(sitting: dict[str, Any], artifacts: Path) -> None:
    chair, a, a_id, members, ids = sitting["chair"], sitting["a"], sitting["a_id"], sitting["members"], sitting["ids"]
    wait_for("the quorum", lambda: "定足数に達しています" in text_of(chair, "quorum-verdict"))
    chair.get_by_test_id("lifecycle-open").click()
    wait_for("開会中", lambda: text_of(chair, "sitting-state") == "開会中")
    chair.get_by_test_id("rollcall-start").scroll_into_view_if_needed()
    chair.get_by_test_id("rollcall-start").click()
    call = wait_for("the roll call", lambda: chair.evaluate("window.gikai.state.sitting.roll_call"))
    assert call["order"][:2] == [ids[0], a_id], "in seat order: the vice-chair (seat 2), then A (seat 3)"
    # The vice-chair is called: shown large on A's screen too, and answers from their socket.
    wait_for("the vice-chair called on A's screen", lambda: "佐藤 花子" in text_of(a, "rollcall-caption"))
    assert members.command(0, "answer_roll_call")["type"] == "reply"
    wait_for("the answer seen by the chair", lambda: "返事をしました" in text_of(chair, "rollcall-caption"))
    chair.get_by_test_id("rollcall-confirm").click()
    # A is called: A sees themselves large and one big button; the chair sees A large.
    wait_for("A called", lambda: a.get_by_test_id("rollcall-answer").is_visible())
    box = a.get_by_test_id("rollcall-answer").bounding_box()
    assert box and box["height"] >= 56, box
    assert "鈴木 一郎" in text_of(chair, "rollcall-caption")
    wait_for("A's picture on the chair's stage",
             lambda: chair.evaluate("document.querySelector('[data-testid=rollcall-video]').videoWidth > 0"))
    a.screenshot(path=str(artifacts / "e2e-rollcall-member-called-1024x768.png"))
    a.get_by_test_id("rollcall-answer").click()
    wait_for("A answered", lambda: "返事をしました" in text_of(chair, "rollcall-caption"))
    chair.screenshot(path=str(artifacts / "e2e-rollcall-chair-confirms-1024x768.png"))
    chair.get_by_test_id("rollcall-confirm").click()
    wait_for("the next member called", lambda: chair.evaluate("window.gikai.state.sitting.roll_call.current") == ids[1])
    # The chair ends it early: the rest are recorded as not confirmed, and the stage goes away.
    chair.get_by_test_id("rollcall-end").click()
    wait_for("the stage gone", lambda: not a.get_by_test_id("rollcall-stage").is_visible())
    call = chair.evaluate("window.gikai.state.sitting.roll_call")
    assert call["ended"] and call["confirmed"] == {ids[0]: True, a_id: True}
    assert "2/" in text_of(chair, "rollcall-status")


def test_an_amendment_is_voted_first_and_the_item_result_follows(sitting: dict[str, Any], artifacts: Path) -> None:
    chair, members, ids = sitting["chair"], sitting["members"], sitting["ids"]
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


def test_a_procedural_motion_is_received_and_put_to_a_ballot_of_its_own(sitting: dict[str, Any], artifacts: Path) -> None:
    chair, a, ids = sitting["chair"], sitting["a"], sitting["ids"]
    chair.get_by_test_id("motion-receive").scroll_into_view_if_needed()
    chair.get_by_test_id("motion-receive").click()
    dialog = chair.get_by_test_id("amendment-dialog")
    dialog.get_by_test_id("motion-kind").select_option("recess")
    dialog.get_by_test_id("amendment-mover").select_option(ids[2])
    dialog.locator(f"[data-testid=amendment-supporter][value='{ids[3]}']").check()
    dialog.get_by_test_id("amendment-dialog-confirm").click()
    motion = chair.get_by_test_id("motion")
    wait_for("the motion listed", lambda: motion.count() == 1 and "休憩の動議" in motion.inner_text())
    wait_for("the members see it", lambda: a.get_by_test_id("motion").count() == 1)
    chair.get_by_test_id("motion-vote").click()
    close_and_publish(chair)
    assert chair.evaluate("window.gikai.state.ballot.motion") == "休憩の動議"
    wait_for("the motion rejected", lambda: motion.get_attribute("data-outcome") == "rejected")
    assert chair.get_by_test_id("motion-vote").count() == 0, "a motion is voted on once"
    motion.scroll_into_view_if_needed()
    chair.screenshot(path=str(artifacts / "e2e-motion-decided-1024x768.png"))
