"""Domain errors. Each has a stable code and a message in Japanese and English."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"
    ja = "この操作はできません。"
    en = "This action is not allowed."

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.en)
        self.detail = detail


class NotFound(DomainError):
    code = "not_found"
    ja = "見つかりません。"
    en = "Not found."


class InvalidRoster(DomainError):
    code = "invalid_roster"
    ja = "名簿の内容に誤りがあります。"
    en = "The roster is not valid."


class NotAllowed(DomainError):
    code = "not_allowed"
    ja = "この操作を行う権限がありません。"
    en = "You are not allowed to do this."


class NotChair(NotAllowed):
    code = "not_chair"
    ja = "この操作は委員長(議長)だけが行えます。"
    en = "Only the chair can do this."


class NotAMember(NotAllowed):
    code = "not_a_member"
    ja = "この操作は委員(議員)だけが行えます。"
    en = "Only members can do this."


class WrongMeetingState(DomainError):
    code = "wrong_meeting_state"
    ja = "会議の今の状態ではこの操作はできません。"
    en = "This cannot be done in the meeting's current state."


class MeetingAdjourned(WrongMeetingState):
    code = "meeting_adjourned"
    ja = "この会議はすでに終わっています。"
    en = "This meeting has been adjourned."


class QuorumNotMet(DomainError):
    code = "quorum_not_met"
    ja = "定足数に達していません。"
    en = "There is no quorum."


class AlreadyRequested(DomainError):
    code = "already_requested"
    ja = "すでに発言を求めています。"
    en = "You have already asked for the floor."


class FloorTaken(DomainError):
    code = "floor_taken"
    ja = "他の人が発言中です。"
    en = "Someone else has the floor."


class StaleState(DomainError):
    code = "stale_state"
    ja = "画面の情報が古くなっています。最新の状態で、もう一度お試しください。"
    en = "Your screen was out of date. Please try again."


class InvalidArgument(DomainError):
    code = "invalid_argument"
    ja = "指定された値が正しくありません。"
    en = "That value is not valid."
