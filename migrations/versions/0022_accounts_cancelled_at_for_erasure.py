"""accounts: when the account was cancelled, kept after its personal data is erased (CAN-6)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 17:40:00.000000

CAN-6: a cancelled account's row stays as the pseudonymous reference the review audit and the balance
ledger point at; of the person it keeps nothing, of the cancellation its fact (`status`) and its time.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision: str = '0022'
down_revision: Union[str, Sequence[str], None] = '0021'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
