"""security events: the account's security history (sign-ins, changes, outcomes)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 18:00:00.000000

Every security-relevant event of an account is recorded once, in the transaction of the change it
records: its kind, time, client address and user agent, and a short non-secret detail. The viewer reads
them newest first, by kind; a sign-in from a client not seen in 90 days is told by one indexed look-up.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision: str = '0020'
down_revision: Union[str, Sequence[str], None] = '0019'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('security_events',
    sa.Column('id', BIGINT, autoincrement=True, nullable=False),
    sa.Column('account_id', BIGINT, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('client_ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=256), nullable=True),
    sa.Column('detail', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_security_events_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_events'))
    )
    with op.batch_alter_table('security_events', schema=None) as batch_op:
        batch_op.create_index('ix_security_events_account_id', ['account_id', 'id'], unique=False)
        batch_op.create_index('ix_security_events_account_kind', ['account_id', 'kind', 'id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('security_events', schema=None) as batch_op:
        batch_op.drop_index('ix_security_events_account_kind')
        batch_op.drop_index('ix_security_events_account_id')
    op.drop_table('security_events')
