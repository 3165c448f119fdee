"""code budgets per class of purposes, per-address code caps, outbox secret expiry

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 04:02:31.551052

CODE-3's daily count per destination becomes one count per destination and budget (a class of
purposes), so anonymous sends cannot use up the owner's codes; today's counts move to the public
budget (the conservative choice for the day of the upgrade). Code sends are also counted per client
address. Outbox rows learn when their code expires, so the sweeper can mask it; code messages already
in the outbox are given 30 minutes (the longest code life) from the upgrade.
"""
from datetime import UTC, datetime, timedelta
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CODE_PURPOSES = (
    'REGISTRATION', 'LOGIN', 'PHONE_CHANGE_NEW', 'EMAIL_BIND', 'OPERATION', 'PASSWORD_RESET',
    'ACCOUNT_REVEAL', 'BANK_CARD', 'REMITTANCE_ACCOUNT', 'LOGIN_CHALLENGE', 'STUDENT_EMAIL',
)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('code_address_counts',
    sa.Column('starts_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('span', sa.String(length=8), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('starts_at', 'span', 'address', name=op.f('pk_code_address_counts'))
    )
    op.create_table('code_daily_budgets',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('destination', sa.String(length=254), nullable=False),
    sa.Column('budget', sa.String(length=16), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'destination', 'budget', name=op.f('pk_code_daily_budgets'))
    )
    op.execute(
        "INSERT INTO code_daily_budgets (day, destination, budget, count) "
        "SELECT day, destination, 'public', count FROM code_daily_counts"
    )
    op.drop_table('code_daily_counts')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_expires_at', models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_outbox_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_outbox_secret_expires_at', ['secret_expires_at'], unique=False)
    outbox = sa.table(
        'outbox',
        sa.column('purpose', sa.String()),
        sa.column('secret_expires_at', models.base.UTCDateTime(timezone=True)),
    )
    op.execute(
        outbox.update()
        .where(outbox.c.purpose.in_(CODE_PURPOSES))
        .values(secret_expires_at=datetime.now(UTC) + timedelta(minutes=30))
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_secret_expires_at')
        batch_op.drop_index('ix_outbox_created_at')
        batch_op.drop_column('secret_expires_at')

    op.create_table('code_daily_counts',
    sa.Column('destination', sa.VARCHAR(length=254), nullable=False),
    sa.Column('day', sa.VARCHAR(length=10), nullable=False),
    sa.Column('count', sa.INTEGER(), nullable=False),
    sa.PrimaryKeyConstraint('destination', 'day', name=op.f('pk_code_daily_counts'))
    )
    op.execute(
        "INSERT INTO code_daily_counts (destination, day, count) "
        "SELECT destination, day, SUM(count) FROM code_daily_budgets GROUP BY destination, day"
    )
    op.drop_table('code_daily_budgets')
    op.drop_table('code_address_counts')
