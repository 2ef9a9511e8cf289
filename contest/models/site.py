"""What a contest's public site adds around the contest itself: study links the organiser lists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from contest.models.base import UTCDateTime


class StudyLink(SQLModel, table=True):
    """A document or page the organiser recommends on the contest's study-materials page."""

    __tablename__ = "study_links"

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(sa_column=Column(Integer, ForeignKey("contests.id", ondelete="CASCADE"),
                                             nullable=False, index=True))
    title: str = Field(max_length=300)
    url: str = Field(max_length=1000)
    topic: str = Field(default="", max_length=300)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
