"""Student status: an application checked by a code to the school e-mail address (STU-1..3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntPK


class StudentStatus(Base):
    """One application. `verified` lasts until the end of the graduation month (Asia/Shanghai); that it
    has expired is computed from the clock when read, so no row changes when it does."""

    __tablename__ = "student_statuses"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    school: Mapped[str] = mapped_column(String(64))  # STU-2
    major: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))  # JUNIOR_COLLEGE | BACHELOR | MASTER | DOCTORATE
    graduation_year: Mapped[int] = mapped_column(Integer)
    graduation_month: Mapped[int] = mapped_column(Integer)  # 1..12
    email: Mapped[str] = mapped_column(String(254))  # the school address the STU-3 code went to
    state: Mapped[str] = mapped_column(String(16))  # pending | verified | ended (a subject change, CHG)
    created_at: Mapped[datetime]  # also when the code was sent
    verified_at: Mapped[datetime | None]
    # A completed subject change ends the previous person's status (CHG-5, CHG-4): it was theirs, not the account's.
    ended_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_student_statuses_account", "account_id", "id"),)
