"""the second student agreement is the student verification personal-information processing rules

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 12:45:00.000000

STU-3: the agreement kind STUDENT_BENEFITS ("Student offer rules") is renamed
STUDENT_PERSONAL_INFORMATION. Only its name and title change, not its text, so the recorded
acceptances are renamed in place with their versions, contexts and times: nobody has to accept it
again. Downgrading gives them their old name back.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OLD = 'STUDENT_BENEFITS'
NEW = 'STUDENT_PERSONAL_INFORMATION'

acceptances = sa.table('agreement_acceptances', sa.column('agreement', sa.String(48)))


def _rename(old: str, new: str) -> None:
    op.execute(acceptances.update().where(acceptances.c.agreement == old).values(agreement=new))


def upgrade() -> None:
    """Upgrade schema."""
    _rename(OLD, NEW)


def downgrade() -> None:
    """Downgrade schema."""
    _rename(NEW, OLD)
