"""schemathesis against a running server, from docs/openapi.yaml: every operation gets generated
requests, valid and invalid, as anyone, as a member and as the clerk (with the CSRF token), on
real records (a sitting with a document, an adjourned sitting) as well as on made-up ids.

Every answer must be documented (status, content type, body schema), no answer may be a 5xx, an
invalid request must be refused, a refusal's code is never ``internal``, and the server may log
no error and no traceback. Failures are collected over the whole run and reported together, each
with the curl command that reproduces it. Runs on SQLite and on PostgreSQL.

Half of the generated passkey responses answer a live ceremony (and, for a login, name the stored
passkey), so py_webauthn checks the response itself; half of the throttled requests first forget
this address's failed tries, so that the run reaches the handlers rather than only the throttle.

State that a request destroys is kept out of the way of the rest of the run (``World.known``):
logout is tried without a session and with a spare one; the passkeys revoked and the document
removed are spare ones; the publishable video is started only for made-up sittings (a render
takes minutes of CPU); enrolment links are issued only for a spare member (a new link cancels
the last one).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from gikai.orchestrator.domain.accounts import Credential
from gikai.signaling.app import create_app
from gikai.signaling.auth.sessions import COOKIE
from gikai.signaling.config import ServerConfig
from gikai.signaling.http.state import GUESSES
from tests.signaling.test_api import login_clerk
from tests.signaling.test_documents_api import BILL, new_sitting, post_pdf
from tests.signaling.test_openapi_regressions import DATABASES, fresh_database, server_trouble
from tests.support.server import Parts

DESCRIPTION = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
# The last check is for invalid requests only: they must be refused.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
# x 49 operations x 2 databases: about 1,100 requests, 1-2 min on a busy machine. A deeper run:
# GIKAI_OPENAPI_EXAMPLES=200.
EXAMPLES_PER_OPERATION = int(os.environ.get("GIKAI_OPENAPI_EXAMPLES", "15"))

STORED_PASSKEY = "cred-fuzz"  # the member's passkey (its public key is junk: no response verifies)
GUARDED = ("/api/login", "/api/enrol/options", "/api/enrol/verify", "/api/passkey/verify")  # throttled

# Path parameters that name real records, by operation (method and path) and parameter. An
# operation left out here, or a parameter not named, gets only generated values.
Known = dict[str, list[str]]


@dataclass
class Identity:
    name: str
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    """What the server holds when the run starts, and who calls it."""

    base_url: str
    identities: dict[str, Identity]
    ids: dict[str, str]
    forgive: Callable[[], None]  # forget the failed tries from this address

    def known(self, method: str, path: str) -> Known:
        ids = self.ids
        meetings = [ids["meeting"], ids["adjourned"], ids["other_meeting"]]
        if (method, path) == ("POST", "/api/archive/{meeting_id}/render"):
            return {}  # a real render takes minutes of CPU
        if path == "/captions/{meeting_id}/events":
            return {}  # a real sitting's caption stream never ends (tests/signaling/test_captions.py reads one)
        if path == "/api/admin/members/{member_id}/revoke" or path.endswith("/enrolment"):
            return {"member_id": [ids["spare_member"]]}
        if (method, path) == ("DELETE", "/api/admin/documents/{document_id}"):
            return {"document_id": [ids["spare_document"]]}
        known: Known = {}
        if "{meeting_id}" in path:
            known["meeting_id"] = meetings
        if "{item_id}" in path:
            known["item_id"] = [ids["item"]]
        if "{body_id}" in path:
            known["body_id"] = [ids["body"]]
        if "{document_id}" in path:
            known["document_id"] = [ids["document"]]
        if "{page}" in path:
            known["page"] = ["1", "2"]
        if "{fmt}" in path:
            known["fmt"] = ["html", "pdf", "json"]
        return known

    def known_fields(self, method: str, path: str) -> dict[str, st.SearchStrategy[Any]]:
        """Fields of a JSON body that, half of the time, take a real id or a plausible value."""
        if path == "/api/admin/meetings":
            return {"body_id": st.sampled_from([self.ids["body"], self.ids["spare_body"]])}
        if path == "/api/admin/bodies/{body_id}/roster":
            return {"csv": roster_csv()}
        return {}

    def live_ceremony(self, http: requests.Session, path: str, body: dict[str, Any]) -> None:
        """A passkey response for a ceremony in progress (for the stored passkey, or to enrol the
        spare member), so the generated response itself is checked, not only its ceremony."""
        clerk = self.identities["clerk"]
        if path == "/api/enrol/verify":
            link = http.post(f"{self.base_url}/api/admin/members/{self.ids['spare_member']}/enrolment",
                             cookies=clerk.cookies, headers=clerk.headers, timeout=60).json()["link"]
            body["token"] = link.split("#", 1)[1]
            self.forgive()
            answer = http.post(f"{self.base_url}/api/enrol/options", json={"token": body["token"]}, timeout=60)
        else:
            answer = http.post(f"{self.base_url}/api/passkey/options", timeout=60)
        body["ceremony"] = answer.json()["ceremony"]
        if isinstance(body.get("credential"), dict) and path == "/api/passkey/verify":
            body["credential"]["id"] = STORED_PASSKEY

    def callers(self, method: str, path: str) -> list[Identity]:
        if path == "/api/logout":
            return [self.identities["anyone"], self.identities["spare"]]
        return [self.identities[name] for name in ("anyone", "member", "clerk")]


ROLES = ["委員長", "副委員長", "委員", "chair", "vice_chair", "member", "議長", "", "CHAIR"]


@st.composite
def roster_csv(draw: st.DrawFn) -> str:
    """A roster as the clerk's spreadsheet writes it, with odd seats, names and roles."""
    seat = st.one_of(st.integers(-3, 10_050), st.integers(min_value=-10**25, max_value=10**25),
                     st.text(max_size=6))
    rows = draw(st.lists(st.tuples(seat, st.text(max_size=12), st.text(max_size=12),
                                   st.one_of(st.sampled_from(ROLES), st.text(max_size=6))), max_size=6))
    lines = ["seat,name,reading,role"] + [",".join(str(v).replace(",", " ").replace("\n", " ") for v in row)
                                          for row in rows]
    return "\n".join(lines) + "\n"


async def make_world(client: Any, services: Parts) -> World:
    """A sitting of a committee with an agenda item and two documents, its member logged in with
    a passkey session, an adjourned sitting (the rehearsal), the clerk logged in twice."""
    username, password = await services.accounts.ensure_clerk()
    rehearsal, participants, _ = await services.directory.ensure_rehearsal()
    for p in participants[:7]:
        await services.sittings.execute(rehearsal.id, lambda s, now, pid=p.id: s.connected(pid, now))
    await services.sittings.execute(rehearsal.id, lambda s, now: s.open(participants[0].id, now))
    await services.sittings.execute(rehearsal.id, lambda s, now: s.adjourn(participants[0].id, now))

    clerk_token, clerk = await services.accounts.login_password(username, password)
    spare_token, _ = await services.accounts.login_password(username, password)
    h = {"X-CSRF-Token": await login_clerk(client, username, password)}
    body_id, meeting_id, item_id = await new_sitting(client, h)
    other_body, other_meeting, _ = await new_sitting(client, h, name="議会運営委員会")
    documents = []
    for _ in range(2):
        r = await post_pdf(client, h, meeting_id, item_id, BILL)
        assert r.status == 200, await r.text()
        documents.append((await r.json())["document"]["id"])
    overview = await services.admin.overview()
    members = next(b for b in overview["bodies"] if b["id"] == body_id)["members"]
    token = await services.accounts.issue_enrolment(members[1]["id"])
    account = await services.accounts.enrolment_account(token)
    member_token, member = await services.accounts.complete_enrolment(
        token, Credential(STORED_PASSKEY, account.id, b"key", 0, datetime.now()))
    guesses = client.app[GUESSES]
    return World(
        base_url=str(client.make_url("")).rstrip("/"),
        identities={
            "anyone": Identity("anyone"),
            "member": Identity("member", {COOKIE: member_token}, {"X-CSRF-Token": member.csrf}),
            "clerk": Identity("clerk", {COOKIE: clerk_token}, {"X-CSRF-Token": clerk.csrf}),
            "spare": Identity("spare", {COOKIE: spare_token}),
        },
        ids={"meeting": meeting_id, "adjourned": rehearsal.id, "item": item_id,
             "body": body_id, "document": documents[0], "spare_document": documents[1],
             "spare_member": members[2]["id"], "spare_body": other_body, "other_meeting": other_meeting},
        forgive=lambda: guesses.succeeded("127.0.0.1", None),
    )


@dataclass
class Report:
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    answers: dict[str, dict[int, int]] = field(default_factory=dict)  # by operation and caller
    seconds: dict[str, float] = field(default_factory=dict)  # by operation
    failures: list[str] = field(default_factory=list)


def case_strategy(operation: Any, known: Known) -> st.SearchStrategy[Any]:
    """Generated requests, valid and invalid, with made-up ids or with real ones."""
    modes = [GenerationMode.POSITIVE]
    if operation.body or any(True for _ in operation.iter_parameters()):
        modes.append(GenerationMode.NEGATIVE)
    strategies = [operation.as_strategy(generation_mode=mode) for mode in modes]
    if known:
        names = sorted(known)
        combos = [dict(zip(names, values, strict=True)) for values in itertools.product(*(known[n] for n in names))]
        strategies += [st.sampled_from(combos).flatmap(
            lambda fixed, mode=mode: operation.as_strategy(generation_mode=mode, path_parameters=fixed))
            for mode in modes]
    return st.one_of(strategies)


def negated(case: Any, location: ParameterLocation) -> bool:
    info = case.meta.components.get(location) if case.meta is not None else None
    return info is not None and info.mode.is_negative


def negated_beyond_credentials(case: Any) -> bool:
    """Whether the case is invalid in more than its cookie and headers (the only headers described
    are the credentials, which the run replaces with the caller's own)."""
    meta = case.meta
    return meta is not None and any(
        info.mode.is_negative and location not in (ParameterLocation.COOKIE, ParameterLocation.HEADER)
        for location, info in meta.components.items())


def refusal_code(response: requests.Response) -> str | None:
    if response.status_code < 400 or not response.headers.get("Content-Type", "").startswith("application/json"):
        return None
    code = response.json().get("code")
    return code if isinstance(code, str) else None


def fuzz_operation(world: World, operation: Any, report: Report, examples: int) -> None:
    method, path = operation.method.upper(), operation.path
    callers = world.callers(method, path)
    strategy = case_strategy(operation, world.known(method, path))
    http = requests.Session()

    fields = world.known_fields(method, path)

    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy, who=st.sampled_from(callers), data=st.data())
    def run(case: Any, who: Identity, data: st.DataObject) -> None:
        if isinstance(case.body, dict) and not negated(case, ParameterLocation.BODY) and data.draw(st.booleans()):
            for name, values in fields.items():
                case.body[name] = data.draw(values)
            if path in ("/api/passkey/verify", "/api/enrol/verify"):
                world.live_ceremony(http, path, case.body)
        if path in GUARDED and data.draw(st.booleans()):
            world.forgive()  # half of the ceremonies get past the throttle of failed tries
        http.cookies.clear()  # a login's cookie must not outlive its case
        response = case.call(base_url=world.base_url, session=http, cookies=who.cookies, headers=who.headers,
                             timeout=60)
        report.cases += 1
        report.statuses[response.status_code] = report.statuses.get(response.status_code, 0) + 1
        seen = report.answers.setdefault(f"{method} {path} as {who.name}", {})
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        checks = CHECKS if negated_beyond_credentials(case) else CHECKS[:-1]
        try:
            case.validate_response(response, checks=checks, headers=who.headers)
        except (FailureGroup, Exception) as exc:  # every failure is collected, with how to reproduce it
            report.failures.append(f"{method} {path} as {who.name}:\n{exc}")
        if refusal_code(response) == "internal":  # a refusal says why; "internal" says nothing
            report.failures.append(f"{method} {path} as {who.name}: code internal\n{case.as_curl_command()}")

    started = time.monotonic()
    run()
    report.seconds[f"{method} {path}"] = time.monotonic() - started


def fuzz(world: World, examples: int, include: Callable[[str, str], bool] = lambda m, p: True) -> Report:
    schema = schemathesis.openapi.from_path(DESCRIPTION)
    report = Report()
    for result in schema.get_all_operations():
        operation = result.ok()
        if include(operation.method.upper(), operation.path):
            fuzz_operation(world, operation, report, examples)
    return report


@pytest.fixture(params=DATABASES)
async def world(request, aiohttp_client, tmp_path):
    # A generous loop-lag limit: /healthz's 503 is for a server falling behind, not for this busy test.
    config = ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False,
                          max_loop_lag=60.0, database_url=await fresh_database(request.param))
    client = await aiohttp_client(create_app(config))
    return await make_world(client, Parts(client.app))


async def test_every_operation_answers_generated_requests_as_documented_and_never_fails(world, caplog):
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    # The requests go out from a thread: the server runs on this test's event loop.
    report = await asyncio.to_thread(fuzz, world, EXAMPLES_PER_OPERATION)
    elapsed = time.monotonic() - started
    print(f"schemathesis: {report.cases} requests in {elapsed:.0f} s; statuses {sorted(report.statuses.items())}")
    for key, seen in sorted(report.answers.items()):
        print(f"  {key}: {sorted(seen.items())}")
    slowest = sorted(report.seconds.items(), key=lambda kv: -kv[1])[:8]
    print("slowest operations:", ", ".join(f"{key} {seconds:.1f} s" for key, seconds in slowest))
    assert not report.failures, f"{len(report.failures)} failures:\n\n" + "\n\n".join(report.failures[:20])
    assert report.cases >= 48 * EXAMPLES_PER_OPERATION // 2
    assert not server_trouble(caplog.records)
