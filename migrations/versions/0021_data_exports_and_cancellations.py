"""data exports and cancellations

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 17:30:00.000000

Issue 15 item 3: a copy of the account's data, one per account, kept until it expires. CAN-1..5: the
cancellation flow's steps, one per account.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision: str = '0021'
down_revision: Union[str, Sequence[str], None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'data_exports',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('public_id', sa.String(length=48), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_data_exports_account_id_accounts'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_exports')),
        sa.UniqueConstraint('account_id', name=op.f('uq_data_exports_account_id')),
        sa.UniqueConstraint('public_id', name=op.f('uq_data_exports_public_id')),
    )
    op.create_index(op.f('ix_data_exports_expires_at'), 'data_exports', ['expires_at'], unique=False)
    op.create_table(
        'cancellations',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('agreement_version', sa.String(length=32), nullable=False),
        sa.Column('started_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('prechecked_at', models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('precheck_passed', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('standing_digest', sa.String(length=64), nullable=True),
        sa.Column('acknowledged_at', models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('confirmation_hash', sa.String(length=64), nullable=True),
        sa.Column('confirmed_at', models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_cancellations_account_id_accounts'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cancellations')),
        sa.UniqueConstraint('account_id', name=op.f('uq_cancellations_account_id')),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('cancellations')
    op.drop_index(op.f('ix_data_exports_expires_at'), table_name='data_exports')
    op.drop_table('data_exports')
