"""The rehearsal bodies: a committee (模擬委員会) and a plenary (模擬議会), to rehearse sittings end
to end.

The committee: twelve members with a chair and a vice-chair, a clerk, a presenter joining from
outside (like a CDO explaining a budget from Tokyo), and the agenda of a March regular session.
The plenary: another twelve under the 2023 rules for a hybrid plenary (remote members only by the
chair's permission, for a 一般質問, not counted and not voting; members in the chamber checked in by
the clerk), the mayor who answers, and an agenda with general questions and a bill to amend.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gikai.orchestrator.domain.agenda import AgendaItem, ItemKind
from gikai.orchestrator.domain.model import Body, BodyKind, Meeting, Member, Participant, Role
from gikai.orchestrator.domain.rules import StandingRules

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


REHEARSAL_PLENARY_NAME = "模擬議会"
REHEARSAL_PLENARY_TITLE = "模擬議会 6月定例会 本会議(リハーサル)"
_PLENARY_MEMBERS = [
    ("大野 誠一", "おおの せいいち", Role.CHAIR),  # 議長
    ("川村 昌子", "かわむら まさこ", Role.VICE_CHAIR),  # 副議長
    ("石井 和也", "いしい かずや", Role.MEMBER),
    ("森 由紀子", "もり ゆきこ", Role.MEMBER),
    ("池田 浩二", "いけだ こうじ", Role.MEMBER),
    ("橋本 直美", "はしもと なおみ", Role.MEMBER),
    ("山崎 隆", "やまざき たかし", Role.MEMBER),
    ("阿部 里美", "あべ さとみ", Role.MEMBER),
    ("清水 健太", "しみず けんた", Role.MEMBER),
    ("林 美穂", "はやし みほ", Role.MEMBER),
    ("中島 勇", "なかじま いさむ", Role.MEMBER),
    ("前田 陽子", "まえだ ようこ", Role.MEMBER),
]
_PLENARY_OTHERS = [
    ("岡田 聡", "おかだ さとし", Role.CLERK),  # 議会事務局
    ("藤井 正樹", "ふじい まさき", Role.PRESENTER),  # 町長: answers the general questions
]
_PLENARY_AGENDA = [
    ("一般質問", ItemKind.GENERAL_QUESTION),
    ("議案第10号 町税条例の一部を改正する条例", ItemKind.BILL),
    ("議案第11号 令和8年度一般会計補正予算(第1号)", ItemKind.BILL),
]
# The 2023 Q&A's plenary: the rules' plenary defaults, and remote attendance only by permission.
PLENARY_RULES = StandingRules(remote_requires_permission_in_plenary=True)


def rehearsal_plenary(
    now: datetime,
) -> tuple[Body, list[Member], Meeting, list[Participant], list[AgendaItem]]:
    """The rehearsal plenary, sitting the day after the committee (so the committee is listed first)."""
    body = Body(REHEARSAL_PLENARY_NAME, BodyKind.PLENARY, len(_PLENARY_MEMBERS), rehearsal=True,
                rules=PLENARY_RULES, vocabulary=[*_VOCABULARY, "議長", "副議長", "議員", "町長", "一般質問"])
    members = [Member(body.id, name, reading, seat, role)
               for seat, (name, reading, role) in enumerate(_PLENARY_MEMBERS, start=1)]
    sitting = Meeting(body.id, REHEARSAL_PLENARY_TITLE, now + timedelta(days=1), place="議場・オンライン")
    participants = [
        Participant(sitting.id, m.name, m.reading, m.role, m.seat, m.id) for m in members
    ] + [Participant(sitting.id, name, reading, role) for name, reading, role in _PLENARY_OTHERS]
    agenda = [AgendaItem(sitting.id, i, title, kind) for i, (title, kind) in enumerate(_PLENARY_AGENDA, start=1)]
    return body, members, sitting, participants, agenda
