"""Database rows. Repositories map them to and from domain objects."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class BodyRow(Base):
    __tablename__ = "bodies"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    fixed_membership: Mapped[int]
    rehearsal: Mapped[bool] = mapped_column(default=False)


class MemberRow(Base):
    __tablename__ = "members"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    body_id: Mapped[str] = mapped_column(ForeignKey("bodies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    reading: Mapped[str] = mapped_column(String(200))
    seat: Mapped[int]
    role: Mapped[str] = mapped_column(String(20))


class MeetingRow(Base):
    __tablename__ = "meetings"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    body_id: Mapped[str] = mapped_column(ForeignKey("bodies.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    scheduled_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(20))


class ParticipantRow(Base):
    __tablename__ = "participants"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    member_id: Mapped[Optional[str]] = mapped_column(ForeignKey("members.id"))
    name: Mapped[str] = mapped_column(String(200))
    reading: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    seat: Mapped[Optional[int]]
