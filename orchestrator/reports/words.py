"""The words of the minutes and the timeline, in Japanese and English, and the small
formatting helpers that use them (a speaker's title, a length of time, a clock time).

A role's title depends on the body: 委員長 in a committee, 議長 in the plenary.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from gikai.orchestrator.domain.chronicle import Chronicle

Lang = Literal["ja", "en"]

W: dict[str, dict[str, str]] = {
    "ja": {
        "minutes": "会議録", "overview": "会議の概要", "title": "会議名", "body": "会議体", "date": "日付",
        "opened": "開会", "adjourned": "閉会", "not_opened": "開会の記録はありません",
        "not_adjourned": "閉会の記録はありません(記録の最後: {t})", "place": "場所", "form": "会議の形",
        "sitting_time": "会議時間(休憩を除く)", "present_members": "出席{m}", "absent_members": "欠席{m}",
        "others": "{m}以外の出席者", "seat": "議席", "name": "氏名", "role": "役職", "how": "出席の形",
        "when": "出席していた時間", "none": "なし", "agenda": "議事日程", "no": "番号", "item": "件名",
        "taken_up": "審議開始", "result": "結果", "decided_at": "議決の時刻", "not_taken_up": "審議されていません",
        "recesses": "休憩", "from": "開始", "to": "再開", "length": "時間", "until_end": "記録の最後まで",
        "proceedings": "議事の経過", "time": "時刻", "what": "事項", "votes": "表決", "no_votes": "採決はありません",
        "ballot": "採決{n}", "motion": "採決事項", "ballot_kind": "方法", "majority": "必要な賛成",
        "entitled": "投票できる者", "cast": "投票数", "yes": "賛成", "no_": "反対", "abstain": "棄権",
        "outcome": "結果", "persons": "{n}人", "vote": "投票", "not_voted": "投票なし",
        "secret_note": "無記名投票のため、個々の投票は記録していません。", "counts_pending": "集計の記録はありません",
        "chair_decided": "可否同数のため{chair}が{decision}と決しました", "recordings": "録画",
        "segment": "区間", "file": "ファイル", "record": "記録の検証",
        "signatures": "会議録の署名", "signer_chair": "議長", "signer_named": "会議録署名議員",
        "signed_at": "署名の日時", "unsigned": "未署名", "signers_not_named": "会議録署名議員は指名されていません。",
        "signatures_text": "地方自治法第123条により、議長と会議録署名議員が、この会議録"
                           "(本文の SHA-256 値 {h})にパスキーで署名します。",
        "signatures_draft": "会議録の本文が確定した後、次の者が署名します。",
        "record_text": "この会議録は、会議の記録({n}件)から作成しました。"
                       "記録の最後の項目のハッシュ値は次のとおりです。",
        "no_record": "会議の記録はありません。", "take_up": "{item}を議題としました", "decided": "{item}: {result}",
        "speech": "発言 {who}({kind})", "recess_start": "休憩", "resume": "再開",
        "ballot_row": "採決: {motion} — {outcome}({counts})", "quorum_lost": "定足数を欠きました({c}人/必要{n}人)",
        "quorum_restored": "定足数に達しました({c}人/必要{n}人)", "removed": "{who}に退場を命じました",
        "identity_confirmed": "遠隔で出席する{who}の本人確認をしました",
        "identity_not_confirmed": "遠隔で出席する{who}の本人確認ができませんでした",
        "signers_named": "会議録署名議員に{who}を指名しました",
        "motion_moved": "{who}から{kind}が提出されました(賛成者: {supporters})",
        "motion_recess": "休憩の動議", "motion_close": "閉議の動議", "motion_adjourn": "延会の動議",
        "amendment_moved": "{who}から修正案が提出されました(賛成者: {supporters})",
        "remote_permitted": "{who}の遠隔出席を許可しました",
        "remote_refused": "{who}の遠隔出席を許可しませんでした({reason})",
        "in_room": "議場", "remote": "遠隔", "chamber": "議場", "online": "オンライン",
        "hybrid": "議場とオンラインの併用", "named": "記名投票", "secret": "無記名投票", "simple": "過半数",
        "two_thirds_present": "出席者の3分の2以上", "absolute": "定数の過半数", "adopted": "可決",
        "rejected": "否決", "tied": "可否同数", "open": "投票中", "ended_by_chair": "{chair}が終了",
        "interrupted": "中断", "removed_reason": "退場", "still_speaking": "記録の最後まで",
        "h": "{h}時間{m:02d}分", "m": "{m}分{s:02d}秒", "sep": "、", "colon": ": ",
        "speech_kind.speech": "発言", "speech_kind.question": "質疑", "speech_kind.debate_pro": "賛成討論",
        "speech_kind.debate_contra": "反対討論", "speech_kind.point_of_order": "議事進行",
        "speech_kind.explanation": "説明",
    },
    "en": {
        "minutes": "Minutes", "overview": "About this sitting", "title": "Meeting", "body": "Body", "date": "Date",
        "opened": "Opened", "adjourned": "Adjourned", "not_opened": "No opening on the record",
        "not_adjourned": "No adjournment on the record (record ends {t})", "place": "Place", "form": "Held",
        "sitting_time": "Time in session (without recesses)", "present_members": "{m} present",
        "absent_members": "{m} absent", "others": "Others present", "seat": "Seat", "name": "Name", "role": "Role",
        "how": "Attended", "when": "Present", "none": "None", "agenda": "Agenda", "no": "No.", "item": "Item",
        "taken_up": "Taken up", "result": "Result", "decided_at": "Decided", "not_taken_up": "not taken up",
        "recesses": "Recesses", "from": "From", "to": "Resumed", "length": "Length", "until_end": "end of record",
        "proceedings": "Proceedings", "time": "Time", "what": "What happened", "votes": "Votes",
        "no_votes": "No votes were taken.", "ballot": "Vote {n}", "motion": "Motion", "ballot_kind": "Ballot",
        "majority": "Needed", "entitled": "Entitled to vote", "cast": "Votes cast", "yes": "Yes", "no_": "No",
        "abstain": "Abstain", "outcome": "Result", "persons": "{n}", "vote": "Vote", "not_voted": "did not vote",
        "secret_note": "A secret ballot: individual votes are not recorded.",
        "counts_pending": "no count on the record",
        "chair_decided": "tied; the {chair} decided: {decision}", "recordings": "Recordings", "segment": "Segment",
        "file": "File", "record": "The record",
        "signatures": "Signatures of the minutes", "signer_chair": "Chair", "signer_named": "Named to sign",
        "signed_at": "Signed", "unsigned": "not signed", "signers_not_named": "No members were named to sign.",
        "signatures_text": "Under art. 123 of the Local Autonomy Act, these people sign these minutes (SHA-256 of "
                           "the text {h}) with their passkeys.",
        "signatures_draft": "Once the text of the minutes is final, these people sign it.",
        "record_text": "These minutes were drawn from the sitting's record ({n} entries). The hash of its last entry:",
        "no_record": "There is no record of this sitting.", "take_up": "Took up {item}", "decided": "{item}: {result}",
        "speech": "{who} speaks ({kind})", "recess_start": "Recess", "resume": "Resumed",
        "ballot_row": "Vote: {motion} — {outcome} ({counts})", "quorum_lost": "Quorum lost ({c} present, {n} needed)",
        "quorum_restored": "Quorum restored ({c} present, {n} needed)", "removed": "{who} ordered to leave",
        "identity_confirmed": "Identity of {who}, attending remotely, confirmed",
        "identity_not_confirmed": "Identity of {who}, attending remotely, could not be confirmed",
        "signers_named": "{who} named to sign the minutes",
        "motion_moved": "{kind} moved by {who} (supported by {supporters})",
        "motion_recess": "Motion to recess", "motion_close": "Motion to close",
        "motion_adjourn": "Motion to continue another day",
        "amendment_moved": "Amendment moved by {who} (supported by {supporters})",
        "remote_permitted": "{who} permitted to attend remotely",
        "remote_refused": "{who} not permitted to attend remotely ({reason})",
        "in_room": "in the chamber", "remote": "remote", "chamber": "in the chamber", "online": "online",
        "hybrid": "in the chamber and online", "named": "named", "secret": "secret", "simple": "simple majority",
        "two_thirds_present": "two thirds of those present", "absolute": "majority of the fixed membership",
        "adopted": "adopted", "rejected": "rejected", "tied": "tied", "open": "open", "ended_by_chair":
        "ended by the {chair}", "interrupted": "interrupted", "removed_reason": "removed",
        "still_speaking": "until the end of the record", "h": "{h} h {m:02d} min", "m": "{m} min {s:02d} s",
        "sep": ", ", "colon": ": ", "speech_kind.speech": "speech", "speech_kind.question": "question",
        "speech_kind.debate_pro": "debate for", "speech_kind.debate_contra": "debate against",
        "speech_kind.point_of_order": "point of order", "speech_kind.explanation": "explanation",
    },
}
# The timeline picture's own words (its lanes, legend and description).
TIMELINE_WORDS: dict[str, dict[str, str]] = {
    "ja": {"timeline": "会議の経過図", "agenda": "議事日程", "speeches": "発言", "votes": "表決",
           "recess": "休憩", "away": "離席など", "desc": "{start}から{end}までの議事日程、発言、表決と出席の状況。"
           "図形の開始位置は開会からの秒数(data-t)を持ちます。", "attended": "{who}: {how} {from}–{to}",
           "notpresent": "{who}: 出席を数えない状態({state}) {from}–{to}", "state.camera_off": "カメラ停止",
           "state.link_lost": "通信の途絶", "state.away": "カメラに映っていない"},
    "en": {"timeline": "Timeline of the sitting", "agenda": "Agenda", "speeches": "Speeches", "votes": "Votes",
           "recess": "Recess", "away": "away, camera off", "desc": "The agenda, speeches, votes and attendance "
           "from {start} to {end}. Each mark's data-t is its start in seconds from the opening.",
           "attended": "{who}: {how} {from}–{to}", "notpresent": "{who}: not counted present ({state}) {from}–{to}",
           "state.camera_off": "camera off", "state.link_lost": "link lost", "state.away": "not seen on camera"},
}
_ROLES = {
    "ja": {"chair": ("委員長", "議長"), "vice_chair": ("副委員長", "副議長"), "member": ("委員", "議員"),
           "clerk": ("事務局",) * 2, "presenter": ("説明員",) * 2, "expert": ("参考人",) * 2,
           "observer": ("その他",) * 2},
    "en": {"chair": ("chair",) * 2, "vice_chair": ("vice-chair",) * 2, "member": ("member",) * 2,
           "clerk": ("clerk",) * 2, "presenter": ("presenter",) * 2, "expert": ("expert",) * 2,
           "observer": ("other",) * 2},
}


def check_lang(lang: str) -> Lang:
    if lang not in W:
        raise ValueError(f"minutes are written in 'ja' or 'en', not {lang!r}")
    return "ja" if lang == "ja" else "en"


def word(lang: str, key: str, **kw: Any) -> str:
    text = W[lang].get(key, key)
    return text.format(**kw) if kw else text


def role_title(c: Chronicle, role: str, lang: str) -> str:
    return role_word(role, c.body_kind == "plenary", lang)


def role_word(role: str, plenary: bool, lang: str) -> str:
    """委員 in a committee, 議員 in a plenary (and so on for each role)."""
    titles = _ROLES[lang].get(role, (role, role))
    return titles[1 if plenary else 0]


def speaker(c: Chronicle, pid: str | None, lang: str) -> str:
    p = c.person(pid)
    return f"{p.name} {role_title(c, p.role, lang)}" if lang == "ja" else f"{p.name} ({role_title(c, p.role, lang)})"


def members_word(c: Chronicle, lang: str) -> str:
    if lang == "en":
        return "Members"
    return "議員" if c.body_kind == "plenary" else "委員"


def duration(seconds: float, lang: str) -> str:
    s = max(0, int(seconds))
    if s >= 3600:
        return word(lang, "h", h=s // 3600, m=s % 3600 // 60)
    return word(lang, "m", m=s // 60, s=s % 60)


def clock(c: Chronicle, at: datetime | None) -> str:
    return c.local(at).strftime("%H:%M") if at else ""
