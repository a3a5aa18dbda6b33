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
