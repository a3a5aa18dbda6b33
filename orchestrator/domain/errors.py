"""Domain errors: one tree, and the one catalogue of what the edges tell people.

Each error class has its own stable ``code`` (the socket, the HTTP API and the gallery send
it; clients and tests match on it) and exactly one text in Japanese (``ja``) and one in
English (``en``) for the person who tried. ``detail`` says more for the log and the
developer, in English. ``catalogue()`` lists every code with its texts, including errors
defined in other modules of the domain and the layers above, once they are imported.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorText:
    ja: str
    en: str

    def text(self, lang: str) -> str:
        """Japanese unless English is asked for."""
        return self.en if lang == "en" else self.ja


class DomainError(Exception):
    code: str = "domain_error"
    ja: str = "この操作はできません。"
    en: str = "This action is not allowed."

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.en)
        self.detail = detail

    @classmethod
    def message(cls, lang: str) -> str:
        """The text for a person, in their language (Japanese unless English is asked for)."""
        return ErrorText(cls.ja, cls.en).text(lang)


def error_classes() -> list[type[DomainError]]:
    """DomainError and every subclass defined so far, parents before children."""
    found: list[type[DomainError]] = []
    todo: list[type[DomainError]] = [DomainError]
    while todo:
        cls = todo.pop(0)
        if cls not in found:
            found.append(cls)
            todo.extend(cls.__subclasses__())
    return found


def catalogue() -> dict[str, ErrorText]:
    """Every error code with its two texts. A code given twice (a subclass that does not
    name its own) is a mistake: it raises, so that no code ever carries two texts."""
    table: dict[str, ErrorText] = {}
    for cls in error_classes():
        if cls.code in table:
            raise ValueError(f"{cls.__qualname__} repeats the error code {cls.code!r}")
        table[cls.code] = ErrorText(cls.ja, cls.en)
    return table


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


# -- votes (voting.py) ---------------------------------------------------------------
class BallotNotOpen(DomainError):
    code = "ballot_not_open"
    ja = "この採決は受け付けていません。"
    en = "This ballot is not open."


class NotEntitled(DomainError):
    code = "not_entitled"
    ja = "この採決で投票できる方に含まれていません。"
    en = "You are not entitled to vote in this ballot."


class NotPresent(DomainError):
    code = "not_present"
    ja = "投票の時点でカメラに映っていないため、投票できません。カメラの正面に座ってください。"
    en = "You must be seen on camera when you vote. Please sit in front of the camera."


class AlreadyVoted(DomainError):
    code = "already_voted"
    ja = "すでに投票しています。投票は変更できません。"
    en = "You have already voted. A vote cannot be changed."


class ChoiceNotAllowed(DomainError):
    code = "choice_not_allowed"
    ja = "この採決では選べない選択肢です。"
    en = "That choice is not available in this ballot."


class BallotAlreadyOpen(DomainError):
    code = "ballot_already_open"
    ja = "ほかの採決がまだ終わっていません。先にその採決を締め切ってください。"
    en = "Another ballot is still open. Close it first."


class BallotInProgress(DomainError):
    code = "ballot_in_progress"
    ja = "採決中です。先に採決を締め切ってから、休憩・散会してください。"
    en = "A vote is in progress. Close it before a recess or adjournment."


class NoPasskey(DomainError):
    code = "no_passkey"
    ja = "本人確認用のパスキーが登録されていません。事務局に登録用リンクを依頼してください。"
    en = "You have no passkey yet. Please ask the clerk for an enrolment link."


class VoteNotConfirmed(DomainError):
    code = "passkey_failed"
    # The one text of passkey_failed, also for a login whose passkey fails (signaling/errors.py).
    ja = "パスキーで本人確認できませんでした。もう一度やり直してください。"
    en = "Your passkey could not be verified. Please try again."


# -- accounts (accounts.py) -----------------------------------------------------------
class LoginFailed(DomainError):
    code = "login_failed"
    ja = "ログインできませんでした。入力内容を確かめてください。"
    en = "Login failed. Please check what you entered."


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    ja = "失敗が続いたか混み合っているため、しばらく受け付けません。少し時間をおいてから、もう一度お試しください。"
    en = "Too many attempts just now. Please wait a while and try again."


class EnrolmentInvalid(DomainError):
    code = "enrolment_invalid"
    ja = "この登録用リンクは使えません(使用済み、期限切れ、または取り消し)。事務局にお問い合わせください。"
    en = "This enrolment link cannot be used (used, expired or revoked). Please ask the clerk."


class NotClerk(DomainError):
    code = "not_clerk"
    ja = "この操作は事務局だけが行えます。"
    en = "Only the clerk can do this."


# -- the minutes' words (transcript.py) ----------------------------------------------
class InvalidVocabulary(InvalidArgument):
    code = "invalid_vocabulary"
    ja = "用語の一覧に誤りがあります。1語40文字以内、200語までで入力してください。"
    en = "The term list is not valid: at most 200 terms of 1 to 40 characters each."


class InvalidCorrection(InvalidArgument):
    code = "invalid_correction"
    ja = "訂正した文が正しくありません(空の文、または長すぎる文です)。"
    en = "The corrected sentence is not valid (empty or too long)."


class MinutesFinalised(DomainError):
    code = "minutes_finalised"
    ja = "この会議録はすでに確定しています。訂正できません。"
    en = "These minutes have been finalised and can no longer be corrected."


class SpeechCorrected(DomainError):
    code = "speech_corrected"
    ja = "この発言は事務局が訂正しているため、自動の文字起こしでは置き換えません。"
    en = "The clerk has corrected this speech: an automatic draft does not replace it."


class MinutesNotReady(WrongMeetingState):
    code = "minutes_not_ready"
    ja = "会議が終わるまで会議録は確定できません。"
    en = "The minutes can be finalised only after the sitting has been adjourned."


# -- rules of procedure (remote_permission.py, remote_rules.py, amendments.py, minutes_signatures.py)
class NotChairOrClerk(NotAllowed):
    code = "not_chair_or_clerk"
    ja = "この操作は議長(委員長)または議長に代わって事務局だけが行えます。"
    en = "Only the chair, or the clerk on the chair's behalf, can do this."


class RemoteDeadlinePassed(DomainError):
    code = "remote_deadline_passed"
    ja = "遠隔出席の申出の期限を過ぎています。"
    en = "The deadline for applying to attend remotely has passed."


class RemoteAlreadyApplied(DomainError):
    code = "remote_already_applied"
    ja = "この会議の遠隔出席はすでに申し出ています。"
    en = "You have already applied to attend this sitting remotely."


class RemoteNotPending(DomainError):
    code = "remote_not_pending"
    ja = "この遠隔出席の申出はすでに許可または不許可が決まっています。"
    en = "This application to attend remotely has already been decided."


class RemoteReasonUnknown(DomainError):
    code = "remote_reason_unknown"
    ja = "遠隔出席の理由を一覧から選んでください。"
    en = "Please choose a reason for attending remotely from the list."


class RemoteReasonTextRequired(DomainError):
    code = "remote_reason_text_required"
    ja = "理由が「その他」のときは、その内容を書いてください。"
    en = "Please describe the reason when it is 'other'."


class RemoteRefusalReasonRequired(DomainError):
    code = "remote_refusal_reason_required"
    ja = "遠隔出席を許可しないときは、その理由を書いてください。"
    en = "Please give a reason when refusing remote attendance."


class RemoteSpeechNotAllowed(DomainError):
    code = "remote_speech_not_allowed"
    ja = "遠隔で出席している方は、会議規則により、この種類の発言はできません。"
    en = "The rules do not allow this kind of speech from a member attending remotely."


class RemoteNotPermitted(NotAllowed):
    code = "remote_not_permitted"
    ja = "遠隔出席の許可がないため、傍聴のみです。発言・表決はできず、出席にも数えられません。"
    en = ("Without permission to attend remotely you may only watch: you cannot speak or vote, "
          "and you are not counted present.")


class RemotePermissionNotRequired(DomainError):
    code = "remote_permission_not_required"
    ja = "この会議では、遠隔出席の申出は要りません。"
    en = "This sitting does not require an application to attend remotely."


class NotOnAgenda(DomainError):
    code = "not_on_agenda"
    ja = "議事日程にない案件です。"
    en = "That item is not on the agenda."


class SupporterNotAllowed(DomainError):
    code = "supporter_not_allowed"
    ja = "賛成者は、提出者以外のこの会議の議員(委員)で、重複なく指定してください。"
    en = "Supporters must be members of this sitting other than the mover, each named once."


class NotEnoughSupporters(DomainError):
    code = "not_enough_supporters"
    ja = "賛成者が会議規則に定める人数に足りません。"
    en = "There are not enough supporters under the rules."


class VoteOrderNotAllowed(DomainError):
    code = "vote_order_not_allowed"
    ja = "会議規則による採決の順序に反しています。"
    en = "The rules do not allow votes in this order."


class MinutesSignersInvalid(DomainError):
    code = "minutes_signers_invalid"
    ja = "会議録署名議員は、議長以外のこの会議の議員から、会議規則に定める人数を指名してください。"
    en = "Name the rules' number of members of this sitting, other than the chair, to sign the minutes."


class NotASigner(NotAllowed):
    code = "not_a_signer"
    ja = "会議録に署名できるのは、議長と指名された会議録署名議員だけです。"
    en = "Only the chair and the members named to sign can sign the minutes."


class AlreadySigned(DomainError):
    code = "already_signed"
    ja = "この会議録にはすでに署名しています。"
    en = "You have already signed these minutes."


class MinutesNotFinal(DomainError):
    code = "minutes_not_final"
    ja = "会議録はまだ確定していません。事務局が確定してから署名できます。"
    en = "The minutes are not final yet. They can be signed once the clerk has finalised them."


class MinutesSignersNotNamed(DomainError):
    code = "minutes_signers_not_named"
    ja = "この会議では会議録署名議員が指名されていません。"
    en = "No members were named to sign the minutes of this sitting."


class SignatureHashMismatch(DomainError):
    code = "signature_hash_mismatch"
    ja = "署名しようとした会議録は最新の確定版ではありません。画面を更新してから署名してください。"
    en = "The minutes you signed are not the current final version. Please reload and sign again."
