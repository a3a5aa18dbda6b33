"""axe-core (the npm package `.ci/run` installs) over every page state of a scripted sitting:
the device check, a member and the chair before and after opening, a request for the floor,
a member holding it, an open ballot (the choices and the confirmation), the count and the
announced result, and the meeting-over screen after 散会. Any serious or critical violation
fails the test, with the rule, the elements and axe's own help text.

axe is read from $GIKAI_AXE, else from where `.ci/run` installs it
(${XDG_CACHE_HOME:-$HOME/.cache}/gikai-tools/node_modules/axe-core/axe.min.js); without it
the test fails and says how to install it. The rehearsal committee sits with attendance
counted by connection; six members join over WebSockets for the quorum.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import one_browser_sitting
from .helpers import self_id, text_of, wait_for

pytestmark = pytest.mark.e2e

CHAIR, A = 0, 2
SOCKET_ONLY = (3, 4, 5, 6, 7, 8)
VIEWPORTS = ({"width": 1024, "height": 768}, {"width": 768, "height": 1024})
FAILING_IMPACTS = ("serious", "critical")


def axe_path() -> Path:
    if os.environ.get("GIKAI_AXE"):
        return Path(os.environ["GIKAI_AXE"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "gikai-tools" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def axe_source() -> str:
    path = axe_path()
    if not path.is_file():
        pytest.fail(f"axe-core not found at {path}: run .ci/run, or npm install --prefix "
                    f"{path.parents[2]} axe-core@4.11.0 (the version .ci/run pins), or set GIKAI_AXE")
    return path.read_text(encoding="utf-8")


class Audit:
    """Runs axe on a page in a named state and keeps every serious or critical violation."""

    def __init__(self, source: str, artifacts: Path) -> None:
        self.source = source
        self.artifacts = artifacts
        self.failures: list[str] = []
        self.states: list[str] = []

    def __call__(self, page: Any, state: str) -> None:
        for viewport in VIEWPORTS:
            page.set_viewport_size(viewport)
            page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
            size = f"{viewport['width']}x{viewport['height']}"
            # Through the DevTools protocol: the page's own policy allows no inline script.
            if not page.evaluate("typeof window.axe === 'object'"):
                page.evaluate(self.source)
            result = page.evaluate("""async () => {
                const r = await window.axe.run(document, {resultTypes: ['violations']});
                return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 6)}));
            }""")
            name = f"{state}-{size}"
            self.states.append(name)
            page.screenshot(path=str(self.artifacts / f"e2e-axe-{name}.png"))
            (self.artifacts / f"e2e-axe-{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
            for v in result:
                if v["impact"] in FAILING_IMPACTS:
                    self.failures.append(f"{name}: {v['impact']} {v['id']} ({v['help']}): {v['nodes']}")
        page.set_viewport_size(VIEWPORTS[0])


@pytest.fixture(scope="module")
def sitting(playwright_instance: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("axe")
    with one_browser_sitting(playwright_instance, root, "test_accessibility", hue=120) as (server, browser, members):
        pages = {who: browser.new_context(viewport=VIEWPORTS[0], locale="ja-JP").new_page() for who in ("chair", "a")}
        yield {"server": server, "pages": pages, "members": members}


def test_every_page_state_of_a_sitting_passes_axe(sitting: dict[str, Any], axe_source: str, artifacts: Path) -> None:
    audit = Audit(axe_source, artifacts)
    server, pages, members = sitting["server"], sitting["pages"], sitting["members"]
    chair, a = pages["chair"], pages["a"]

    a.goto(server.links[A])
    wait_for("the device check", lambda: a.get_by_test_id("join-button").is_enabled())
    audit(a, "member-check")
    # The audit sees what it should: a button without a name is a critical violation.
    probe = a.evaluate("""async () => {
        const b = document.createElement('button');
        b.id = 'axe-probe';
        document.body.append(b);
        const r = await window.axe.run('#axe-probe', {resultTypes: ['violations']});
        b.remove();
        return r.violations.map((v) => `${v.id}:${v.impact}`);
    }""")
    assert "button-name:critical" in probe, probe
    a.get_by_test_id("join-button").click()
    chair.goto(server.links[CHAIR])
    chair.get_by_test_id("join-button").click()
    self_id(a)
    self_id(chair)
    wait_for("A's panel", lambda: a.get_by_test_id("sitting-panel").is_visible())
    audit(a, "member-before-opening")
    audit(chair, "chair-before-opening")

    for link in SOCKET_ONLY:
        members.join(server.links[link])
    wait_for("the quorum", lambda: "定足数に達しています" in text_of(chair, "quorum-verdict"))
    chair.get_by_test_id("lifecycle-open").click()
    wait_for("開会中", lambda: text_of(a, "sitting-state") == "開会中")
    chair.get_by_test_id("agenda-item").first.get_by_test_id("take-up").click()
    wait_for("the bill taken up", lambda: a.locator("[data-testid=agenda-item][aria-current=step]").count() == 1)
    members.command(0, "request_floor", kind="question")
    a.get_by_test_id("request-floor").click()
    wait_for("two requests", lambda: chair.locator("[data-testid=queue-item]").count() == 2)
    audit(a, "member-asking")
    audit(chair, "chair-two-requests")

    chair.locator("[data-testid=queue-item]").nth(1).get_by_test_id("grant").click()
    wait_for("A holds the floor", lambda: a.get_by_test_id("you-have-floor").is_visible())
    audit(a, "member-holding-the-floor")
    audit(chair, "chair-floor-granted")
    chair.get_by_test_id("chair-end-speech").click()
    wait_for("the floor is free", lambda: a.get_by_test_id("you-have-floor").count() == 0)

    chair.get_by_test_id("ballot-start").click()
    audit(chair, "chair-ballot-dialog")
    chair.get_by_test_id("ballot-dialog").get_by_test_id("ballot-dialog-confirm").click()
    wait_for("the vote panel", lambda: a.get_by_test_id("vote-yes").is_visible())
    audit(a, "member-vote-choices")
    audit(chair, "chair-ballot-open")
    a.get_by_test_id("vote-yes").click()
    wait_for("the confirmation", lambda: a.get_by_test_id("vote-back").is_visible())
    audit(a, "member-vote-confirm")
    a.get_by_test_id("vote-back").click()

    chair.get_by_test_id("ballot-close").click()
    audit(chair, "chair-close-dialog")
    chair.get_by_test_id("dialog").get_by_test_id("dialog-confirm").click()
    console = chair.get_by_test_id("ballot-console")
    wait_for("the count", lambda: console.get_attribute("data-state") == "closed")
    audit(chair, "chair-ballot-counted")
    # No one voted: 0 to 0, a tie the chair breaks (and is asked first).
    chair.get_by_test_id("tie-no").click()
    audit(chair, "chair-tie-dialog")
    chair.get_by_test_id("dialog").get_by_test_id("dialog-confirm").click()
    wait_for("the chair's 公表", lambda: chair.get_by_test_id("ballot-publish").is_visible())
    chair.get_by_test_id("ballot-publish").click()
    wait_for("the result on A's screen", lambda: a.get_by_test_id("ballot-card").get_attribute("data-state") == "published")
    audit(a, "member-after-the-vote")
    audit(chair, "chair-after-the-vote")
    assert a.get_by_test_id("vote-panel").is_visible(), "the members see the announced result large"
    assert chair.get_by_test_id("vote-panel").is_hidden(), "the chair's console shows it: nothing to close"

    # A leaves with the result still on the screen and joins again: the result is not news twice.
    a.get_by_test_id("leave-button").click()
    a.get_by_test_id("dialog").get_by_test_id("dialog-confirm").click()
    wait_for("A has left", lambda: a.get_by_test_id("screen-left").is_visible())
    a.get_by_test_id("rejoin-button").click()
    wait_for("A back in the sitting", lambda: a.get_by_test_id("sitting-panel").is_visible()
             and a.get_by_test_id("ballot-card").get_attribute("data-state") == "published")
    assert a.get_by_test_id("vote-panel").is_hidden(), "the old result does not cover the screen again"
    audit(a, "member-rejoined-after-the-vote")
    chair.get_by_test_id("lifecycle-adjourn").click()
    audit(chair, "chair-adjourn-dialog")
    chair.get_by_test_id("dialog").get_by_test_id("dialog-confirm").click()
    wait_for("the meeting-over screen", lambda: a.get_by_test_id("meeting-over").is_visible())
    audit(a, "member-meeting-over")
    audit(chair, "chair-meeting-over")

    print(f"\naxe {json.dumps(states := len(audit.states))} page states audited")
    assert states >= 30
    assert not audit.failures, "serious or critical axe violations:\n" + "\n".join(audit.failures)
