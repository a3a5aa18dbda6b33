"""The one catalogue of error codes and their Japanese and English texts, for the member socket,
the gallery socket and the HTTP APIs alike.

Three sources, no code in two of them: the orchestrator's domain errors (each ``DomainError``
class carries its code and texts), the media layer's errors (codes only; their texts are here),
and the edge's own refusals (malformed messages, logins, the gallery's seats). A client shows the
same words for the same code wherever it came from.
"""

from __future__ import annotations

from gikai.media import MediaError
from gikai.orchestrator.domain import accounts, errors, presenting, voting
from gikai.orchestrator.domain.errors import DomainError
from gikai.orchestrator.service import documents

Text = tuple[str, str]  # (Japanese, English)

# The modules that define DomainError classes: imported so that every subclass is known.
DOMAIN_MODULES = (errors, accounts, voting, presenting, documents)

MEDIA: dict[str, Text] = {
    "media_error": ("映像・音声の処理で問題が起きました。", "The audio/video connection had a problem."),
    "negotiation_failed": ("映像・音声の接続を確立できませんでした。",
                           "The audio/video connection could not be set up."),
    "unsupported_codec": ("お使いのブラウザーは必要な形式(VP8 映像・Opus 音声)に対応していません。",
                          "Your browser does not support VP8 video and Opus audio."),
    "peer_closed": ("映像・音声の接続が切れました。再接続します。",
                    "The audio/video connection ended. Reconnecting."),
    "media_ports_full": ("映像・音声の接続が上限に達しています。しばらくしてから、もう一度お試しください。",
                         "The server has no media connection free. Please try again a little later."),
    # the publishable video (media/archive/render.py)
    "render_failed": ("公開用の動画を作成できませんでした。", "The video could not be made."),
    "render_cancelled": ("公開用の動画の作成を取り消しました。", "Making the video was cancelled."),
    "caption_font_missing": ("字幕用の日本語フォントがありません。", "There is no Japanese font for the captions."),
    "speech_model_invalid": ("音声認識のモデルが見つからないか、壊れています。",
                             "The speech recognition model is missing or broken."),
}

EDGE: dict[str, Text] = {
    # a message that cannot be read
    "bad_json": ("メッセージを読み取れませんでした。", "The message is not a JSON object."),
    "bad_version": ("このアプリの版が古いか新しすぎます。ページを再読み込みしてください。",
                    "Unsupported protocol version. Please reload the page."),
    "bad_message": ("メッセージの内容に誤りがあります。", "The message has a missing or wrong field."),
    "unknown_type": ("この操作には対応していません。", "Unknown message type."),
    "unknown_command": ("この操作には対応していません。", "Unknown command."),
    "too_large": ("メッセージが大きすぎます。", "The message is too large."),
    "rate_limited": ("操作が多すぎます。少し待ってからお試しください。",
                     "Too many messages. Please wait a moment."),
    "bad_request": ("リクエストの内容に誤りがあります。", "The request is not valid."),
    "internal": ("サーバーで問題が起きました。もう一度お試しください。",
                 "The server had a problem. Please try again."),
    # who is asking
    "not_logged_in": ("ログインしてください。", "Please log in."),
    "csrf": ("ページを再読み込みしてから、もう一度お試しください。", "Please reload the page and try again."),
    "invalid_token": ("参加用リンクが正しくないか、無効になっています。事務局にお問い合わせください。",
                      "This join link is not valid. Please ask the clerk for a new one."),
    "not_a_participant": ("この会議の参加者ではありません。", "You are not a participant of this meeting."),
    # the member socket
    "not_joined": ("まだ会議に参加していません。", "Join the meeting first."),
    "already_joined": ("すでに参加しています。", "Already joined."),
    "replaced": ("別の画面から同じ参加者として接続されました。",
                 "You joined from another screen; this one was disconnected."),
    "removed": ("委員長の指示により、この会議から退出しました。",
                "The chair has removed you from this meeting."),
    # the gallery
    "gallery_full": ("満席です。しばらくしてから、もう一度お越しください。",
                     "The gallery is full. Please try again a little later."),
    "gallery_address_full": ("この接続元からの傍聴が上限に達しました。ほかの画面を閉じてから、もう一度お試しください。",
                             "Too many gallery viewers from your network. Close another screen and try again."),
    "gallery_media_timeout": ("映像・音声が始まらなかったため、席をお返ししました。ページを再読み込みしてください。",
                              "The audio/video did not start, so your seat was released. Please reload the page."),
    "not_watching": ("まだ傍聴を始めていません。", "Start watching first."),
    "already_watching": ("すでに傍聴しています。", "Already watching."),
    # the archive
    "not_adjourned": ("この会議はまだ閉会していません。閉会後に公開されます。",
                      "This sitting has not been adjourned yet; its archive opens after adjournment."),
}


def _domain_errors(cls: type[DomainError] = DomainError) -> list[type[DomainError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += _domain_errors(sub)
    return found


def domain_texts() -> dict[str, Text]:
    """Every domain error's code and texts; two classes with one code must say the same."""
    out: dict[str, Text] = {}
    for cls in _domain_errors():
        text = (cls.ja, cls.en)
        if out.setdefault(cls.code, text) != text:
            raise AssertionError(f"error code {cls.code} has two texts ({cls.__qualname__})")
    return out


def _catalogue() -> dict[str, Text]:
    domain = domain_texts()
    for name, table in (("media", MEDIA), ("edge", EDGE)):
        for code in table:
            if code in domain:
                raise AssertionError(f"{name} error code {code} is a domain error's code too")
    if set(MEDIA) & set(EDGE):
        raise AssertionError(f"codes in both the media and the edge tables: {set(MEDIA) & set(EDGE)}")
    return {**domain, **MEDIA, **EDGE}


CATALOGUE: dict[str, Text] = _catalogue()


def text(code: str) -> Text:
    """The texts of ``code``; an unknown code is a bug (its texts would be missing on screen)."""
    return CATALOGUE[code]


def text_of(exc: DomainError | MediaError) -> Text:
    """The texts for a raised error. An invalid document says which way the file is invalid (its
    ``reason``), a refinement of its code's text."""
    if isinstance(exc, documents.InvalidDocument):
        return exc.ja, exc.en
    return text(exc.code)


def message(code: str, texts: Text | None = None) -> dict[str, str]:
    ja, en = texts or text(code)
    return {"ja": ja, "en": en}
