"""Accounts, enrolment links and the clerk's roster work, on SQLite and PostgreSQL."""

import asyncio
from datetime import datetime, timedelta

import pytest

from gikai.orchestrator.domain.accounts import Credential, EnrolmentInvalid, LoginFailed
from gikai.orchestrator.domain.errors import InvalidRoster
from gikai.orchestrator.domain.model import BodyKind, Role
from gikai.orchestrator.service.accounts import AccountService
from gikai.orchestrator.service.admin import AdminService, parse_roster_csv
from gikai.orchestrator.service.directory import Directory

ROSTER = """seat,name,reading,role
1,山田 太郎,やまだ たろう,委員長
2,佐藤 花子,さとう はなこ,副委員長
3,鈴木 一郎,すずき いちろう,委員
4,高橋 美咲,たかはし みさき,member
"""


class Clock:
    def __init__(self):
        self.now = datetime(2026, 3, 1, 9, 0)

    def __call__(self):
        return self.now


async def test_the_first_clerk_logs_in_with_the_printed_password_only(database):
    accounts = AccountService(database.unit_of_work)
    username, password = await accounts.ensure_clerk()
    assert await accounts.ensure_clerk() is None
    token, login = await accounts.login_password(username, password)
    account, again = await accounts.session(token)
    assert account.kind.value == "clerk" and again.csrf == login.csrf
    with pytest.raises(LoginFailed):
        await accounts.login_password(username, password + "x")
    with pytest.raises(LoginFailed):
        await accounts.login_password("nobody", password)
    await accounts.logout(token)
    assert await accounts.session(token) is None


async def test_an_enrolment_link_works_once_and_reissuing_revokes_the_old_one(database):
    clock = Clock()
    accounts = AccountService(database.unit_of_work, clock)
    _, participants, _ = await Directory(database.unit_of_work).ensure_rehearsal()
    member_id = participants[2].member_id
    old = await accounts.issue_enrolment(member_id)
    new = await accounts.issue_enrolment(member_id)
    with pytest.raises(EnrolmentInvalid):
        await accounts.enrolment_account(old)
    account = await accounts.enrolment_account(new)
    assert account.member_id == member_id
    credential = Credential("cred-1", account.id, b"public-key", 0, clock.now)
    token, _ = await accounts.complete_enrolment(new, credential)
    assert (await accounts.session(token))[0].member_id == member_id
    with pytest.raises(EnrolmentInvalid):
        await accounts.complete_enrolment(new, Credential("cred-2", account.id, b"k", 0, clock.now))
    assert [c.credential_id for c in await accounts.credentials(account.id)] == ["cred-1"]
    token2, _ = await accounts.login_passkey("cred-1", 5)
    assert (await accounts.credential("cred-1")).sign_count == 5
    assert await accounts.revoke_passkeys(member_id) == 1
    assert await accounts.credential("cred-1") is None and await accounts.session(token2) is None
    expiring = await accounts.issue_enrolment(member_id)
    clock.now += timedelta(days=8)
    with pytest.raises(EnrolmentInvalid):
        await accounts.enrolment_account(expiring)


async def test_two_ceremonies_racing_on_one_enrolment_link_register_one_passkey(database):
    clock = Clock()
    accounts = AccountService(database.unit_of_work, clock)
    _, participants, _ = await Directory(database.unit_of_work).ensure_rehearsal()
    member_id = participants[2].member_id
    for round_ in range(5):
        link = await accounts.issue_enrolment(member_id)
        account = await accounts.enrolment_account(link)  # both ceremonies checked the link first
        results = await asyncio.gather(*(
            accounts.complete_enrolment(link, Credential(f"race-{round_}-{i}", account.id, b"k", 0, clock.now))
            for i in range(4)), return_exceptions=True)
        won = [r for r in results if not isinstance(r, BaseException)]
        lost = [r for r in results if isinstance(r, BaseException)]
        assert len(won) == 1 and all(isinstance(e, EnrolmentInvalid) for e in lost), results
    assert len(await accounts.credentials(account.id)) == 5


async def test_a_clerk_builds_a_committee_from_a_csv_roster(database):
    admin = AdminService(database.unit_of_work)
    body = await admin.create_body("総務常任委員会", BodyKind.COMMITTEE, 4)
    members = await admin.import_roster(body.id, ROSTER)
    assert [m.role for m in members] == [Role.CHAIR, Role.VICE_CHAIR, Role.MEMBER, Role.MEMBER]
    with pytest.raises(InvalidRoster):
        await admin.import_roster(body.id, ROSTER)  # the seats are taken
    meeting = await admin.create_meeting(body.id, "第1回委員会", datetime(2026, 3, 10, 10), "議場")
    await admin.add_agenda_item(meeting.id, "議案第1号")
    cdo = await admin.add_participant(meeting.id, "中村 直樹", "なかむら なおき", Role.PRESENTER)
    people = await Directory(database.unit_of_work).participants(meeting.id)
    assert [p.name for p in people][:4] == ["山田 太郎", "佐藤 花子", "鈴木 一郎", "高橋 美咲"]
    assert {p.role for p in people} >= {Role.CLERK, Role.PRESENTER} and cdo.id in {p.id for p in people}
    overview = await admin.overview()
    listed = next(b for b in overview["bodies"] if b["id"] == body.id)
    assert len(listed["members"]) == 4 and not any(m["passkey"] for m in listed["members"])


@pytest.mark.parametrize("text, problem", [
    ("name,seat\n", "first line"),
    ("seat,name,reading,role\nx,A,a,委員\n", "whole number"),
    ("seat,name,reading,role\n1,A,a,king\n", "unknown role"),
    ("seat,name,reading,role\n1,A,,委員\n", "required"),
    ("seat,name,reading,role\n1,A,a,委員\n1,B,b,委員\n", "same seat"),
    ("seat,name,reading,role\n1,A,a,委員長\n2,B,b,委員長\n", "one chair"),
    ("seat,name,reading,role\n", "empty"),
])
def test_a_broken_roster_is_refused_whole_with_the_reason(text, problem):
    with pytest.raises(InvalidRoster) as info:
        parse_roster_csv(text)
    assert problem in info.value.detail
