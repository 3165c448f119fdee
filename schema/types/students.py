"""Student status as its owner sees it (STU-1..3)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry import relay

from schema.context import Context
from schema.enums import StudentLevel, StudentState
from schema.types.common import resolve_owned_nodes
from services.students import service as students
from services.students.service import StudentStatusView
from services.viewer import Viewer

Info = strawberry.Info[Context, None]


@strawberry.type(description="A calendar month.")
class YearMonth:
    year: int = strawberry.field(description="The year, e.g. 2028.")
    month: int = strawberry.field(description="The month, 1 to 12.")


@strawberry.type(
    name="StudentStatus",
    description="The viewer's student verification (STU-1..3): an application waiting for the code sent to the "
    "school e-mail address, or a verification that lasts until the end of the graduation month (Asia/Shanghai).",
)
class StudentStatusType(relay.Node):
    id: relay.NodeID[int]
    status: StudentState = strawberry.field(
        description="PENDING_EMAIL, VERIFIED, EXPIRED (once the graduation month has passed) or ENDED (the "
        "account's verified person changed, CHG-5)."
    )
    school: str = strawberry.field(description="The school name, at most 64 characters (STU-2).")
    major: str = strawberry.field(description="The major, at most 64 characters (STU-2).")
    level: StudentLevel = strawberry.field(description="Junior college, bachelor, master or doctorate (STU-2).")
    expected_graduation: YearMonth = strawberry.field(
        description="The expected graduation month (STU-2); the status lasts until its end."
    )
    email: str = strawberry.field(description="The school e-mail address the code was sent to (STU-3).")
    applied_at: datetime = strawberry.field(description="When the application was filed and the code sent.")
    code_expires_at: datetime | None = strawberry.field(
        description="While PENDING_EMAIL: when the code expires (30 minutes after it was sent, STU-3); "
        "apply again for a new one. Null otherwise."
    )
    verified_at: datetime | None = strawberry.field(description="When the code was confirmed; null while pending.")
    valid_until: datetime | None = strawberry.field(
        description="When VERIFIED or EXPIRED: the last second of the graduation month in Asia/Shanghai (STU-3). "
        "Null while pending and when ENDED."
    )
    ended_at: datetime | None = strawberry.field(
        description="When ENDED: when the account's verified person changed (CHG-5). Null otherwise."
    )

    @classmethod
    def from_view(cls, found: StudentStatusView) -> Self:
        row = found.row
        return cls(
            id=row.id,
            status=found.state,
            school=row.school,
            major=row.major,
            level=StudentLevel(row.level),
            expected_graduation=YearMonth(year=row.graduation_year, month=row.graduation_month),
            email=row.email,
            applied_at=row.created_at,
            code_expires_at=found.code_expires_at,
            verified_at=row.verified_at,
            valid_until=None if found.state in (StudentState.PENDING_EMAIL, StudentState.ENDED) else found.valid_until,
            ended_at=row.ended_at,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        return await resolve_owned_nodes(info, node_ids, cls, cls._owned)

    @classmethod
    async def _owned(cls, context: Context, viewer: Viewer, ids: list[int]) -> list[Self]:
        return [cls.from_view(v) for v in await context.read(students.of_account, viewer.account.id, ids)]
