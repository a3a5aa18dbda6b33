"""The rehearsal committee (模擬委員会): a sample body to try gikai with before a real sitting."""

from __future__ import annotations

from datetime import datetime

from .model import Body, BodyKind, Meeting, Member, Participant, Role

REHEARSAL_BODY_NAME = "模擬委員会"
REHEARSAL_MEETING_TITLE = "模擬委員会(リハーサル)"

# name, reading, role; seats follow the order
_MEMBERS = [
    ("山田 太郎", "やまだ たろう", Role.CHAIR),
    ("佐藤 花子", "さとう はなこ", Role.VICE_CHAIR),
    ("鈴木 一郎", "すずき いちろう", Role.MEMBER),
    ("高橋 美咲", "たかはし みさき", Role.MEMBER),
    ("田中 健二", "たなか けんじ", Role.MEMBER),
    ("渡辺 恵子", "わたなべ けいこ", Role.MEMBER),
]
_OTHERS = [
    ("伊藤 誠", "いとう まこと", Role.CLERK),
    ("中村 直樹", "なかむら なおき", Role.PRESENTER),
]


def rehearsal_committee(now: datetime) -> tuple[Body, list[Member], Meeting, list[Participant]]:
    body = Body(REHEARSAL_BODY_NAME, BodyKind.COMMITTEE, len(_MEMBERS), rehearsal=True)
    members = [
        Member(body.id, name, reading, seat, role)
        for seat, (name, reading, role) in enumerate(_MEMBERS, start=1)
    ]
    meeting = Meeting(body.id, REHEARSAL_MEETING_TITLE, now, place="オンライン")
    participants = [
        Participant(meeting.id, m.name, m.reading, m.role, m.seat, m.id) for m in members
    ] + [Participant(meeting.id, name, reading, role) for name, reading, role in _OTHERS]
    return body, members, meeting, participants
