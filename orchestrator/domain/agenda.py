"""The agenda (議事日程): ordered items and what happens to them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from gikai.orchestrator.domain.errors import WrongMeetingState
from gikai.orchestrator.domain.model import new_id


class ItemKind(str, enum.Enum):
    BILL = "bill"  # 議案
    REPORT = "report"  # 報告
    PETITION = "petition"  # 請願・陳情
    GENERAL_QUESTION = "general_question"  # 一般質問
    OTHER = "other"  # その他


class ItemState(str, enum.Enum):
    PENDING = "pending"  # 未審議
    UNDER_DELIBERATION = "under_deliberation"  # 審議中
    DECIDED = "decided"  # 議決済み
    WITHDRAWN = "withdrawn"  # 撤回


@dataclass(frozen=True)
class Document:
    """A file attached to an item, identified by its content hash."""

    name: str
    sha256: str
    size: int
    media_type: str = "application/pdf"


@dataclass
class AgendaItem:
    meeting_id: str
    position: int
    title: str
    kind: ItemKind = ItemKind.BILL
    state: ItemState = ItemState.PENDING
    result: str = ""
    documents: list[Document] = field(default_factory=list)
    id: str = field(default_factory=new_id)


@dataclass
class Agenda:
    items: list[AgendaItem] = field(default_factory=list)

    def item(self, item_id: str) -> AgendaItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise WrongMeetingState(f"no agenda item {item_id}")

    @property
    def current(self) -> AgendaItem | None:
        return next((i for i in self.items if i.state is ItemState.UNDER_DELIBERATION), None)

    def take_up(self, item_id: str) -> AgendaItem:
        item = self.item(item_id)
        if item.state in (ItemState.DECIDED, ItemState.WITHDRAWN):
            raise WrongMeetingState("this item has already been dealt with")
        current = self.current
        if current is not None and current is not item:
            current.state = ItemState.PENDING  # set aside; may be taken up again
        item.state = ItemState.UNDER_DELIBERATION
        return item

    def decide(self, item_id: str, result: str) -> AgendaItem:
        item = self.item(item_id)
        if item.state is not ItemState.UNDER_DELIBERATION:
            raise WrongMeetingState("only the item under deliberation can be decided")
        item.state, item.result = ItemState.DECIDED, result.strip()[:500]
        return item

    def withdraw(self, item_id: str) -> AgendaItem:
        item = self.item(item_id)
        if item.state is ItemState.DECIDED:
            raise WrongMeetingState("a decided item cannot be withdrawn")
        item.state = ItemState.WITHDRAWN
        return item
