"""The rehearsal committee (模擬委員会): a full sample body to rehearse a sitting end to end.

Twelve members with a chair and a vice-chair, a clerk, a presenter joining from outside
(like a CDO explaining a budget from Tokyo), and the agenda of a March regular session.
"""

from __future__ import annotations

from datetime import datetime

from gikai.orchestrator.domain.agenda import AgendaItem, ItemKind
from gikai.orchestrator.domain.model import Body, BodyKind, Meeting, Member, Participant, Role

REHEARSAL_BODY_NAME = "模擬委員会"
REHEARSAL_MEETING_TITLE = "模擬委員会 3月定例会(リハーサル)"

# name, reading, role; seats follow the order
_MEMBERS = [
    ("山田 太郎", "やまだ たろう", Role.CHAIR),
    ("佐藤 花子", "さとう はなこ", Role.VICE_CHAIR),
    ("鈴木 一郎", "すずき いちろう", Role.MEMBER),
    ("高橋 美咲", "たかはし みさき", Role.MEMBER),
    ("田中 健二", "たなか けんじ", Role.MEMBER),
    ("渡辺 恵子", "わたなべ けいこ", Role.MEMBER),
    ("伊藤 修", "いとう おさむ", Role.MEMBER),
    ("小林 由美", "こばやし ゆみ", Role.MEMBER),
    ("加藤 正", "かとう ただし", Role.MEMBER),
    ("吉田 和子", "よしだ かずこ", Role.MEMBER),
    ("山口 浩", "やまぐち ひろし", Role.MEMBER),
    ("松本 幸子", "まつもと さちこ", Role.MEMBER),
]
_OTHERS = [
    ("斎藤 誠", "さいとう まこと", Role.CLERK),
    ("中村 直樹", "なかむら なおき", Role.PRESENTER),
]
# The rehearsal body's vocabulary: words of a council sitting a recogniser gets wrong without help.
_VOCABULARY = [
    "委員長", "副委員長", "委員", "議案", "質疑", "答弁", "討論", "採決", "可決", "否決", "原案可決",
    "継続審査", "一般会計予算", "一般会計補正予算", "専決処分", "請願", "陳情", "定足数", "休憩", "再開",
    "散会", "動議", "説明員", "執行部", "デジタル変革", "除雪",
]
_AGENDA = [
    ("議案第1号 令和8年度一般会計予算", ItemKind.BILL),
    ("議案第2号 デジタル変革推進計画の策定について", ItemKind.BILL),
    ("報告第1号 専決処分の報告について", ItemKind.REPORT),
    ("請願第1号 町道の除雪体制の充実を求める請願", ItemKind.PETITION),
]


def rehearsal_committee(
    now: datetime,
) -> tuple[Body, list[Member], Meeting, list[Participant], list[AgendaItem]]:
    body = Body(REHEARSAL_BODY_NAME, BodyKind.COMMITTEE, len(_MEMBERS), rehearsal=True,
                vocabulary=list(_VOCABULARY))
    members = [
        Member(body.id, name, reading, seat, role)
        for seat, (name, reading, role) in enumerate(_MEMBERS, start=1)
    ]
    sitting = Meeting(body.id, REHEARSAL_MEETING_TITLE, now, place="オンライン")
    participants = [
        Participant(sitting.id, m.name, m.reading, m.role, m.seat, m.id) for m in members
    ] + [Participant(sitting.id, name, reading, role) for name, reading, role in _OTHERS]
    agenda = [AgendaItem(sitting.id, i, title, kind) for i, (title, kind) in enumerate(_AGENDA, start=1)]
    return body, members, sitting, participants, agenda
