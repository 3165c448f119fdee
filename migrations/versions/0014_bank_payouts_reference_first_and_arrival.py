"""bank payouts: the reference is stored before the bank is asked, and the payout's arrival is kept

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 13:46:00.000000

RNE-4: a payout row is written (`requested`) with its reference before the bank is called, so a
time-out or a crash is resolved by looking the reference up, never by paying twice: one payout per
verification and per reference (unique). The bank's answer says when the money arrives in the
account (`arrives_at`, also kept on the verification as `payout_arrives_at`); the 8 days to enter
the amount run from there. The payouts already made were paid and arrived at once: their rows get
`paid`, `requested_at` = `arrives_at` = `paid_at`, and their verifications that arrival.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

payouts = sa.table(
    'bank_payouts',
    sa.column('application_id', sa.BigInteger()),
    sa.column('status', sa.String(16)),
    sa.column('requested_at', models.base.UTCDateTime(timezone=True)),
    sa.column('paid_at', models.base.UTCDateTime(timezone=True)),
    sa.column('arrives_at', models.base.UTCDateTime(timezone=True)),
)
applications = sa.table(
    'enterprise_applications',
    sa.column('id', sa.BigInteger()),
    sa.column('payout_arrives_at', models.base.UTCDateTime(timezone=True)),
)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('bank_payouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('requested_at', models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('arrives_at', models.base.UTCDateTime(timezone=True), nullable=True))
    op.execute(payouts.update().values(status='paid', requested_at=payouts.c.paid_at, arrives_at=payouts.c.paid_at))
    with op.batch_alter_table('bank_payouts', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column(
            'requested_at', existing_type=models.base.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.alter_column('paid_at', existing_type=models.base.UTCDateTime(timezone=True), nullable=True)
        batch_op.create_index('ix_bank_payouts_status', ['status', 'requested_at'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_bank_payouts_application_id'), ['application_id'])
        batch_op.create_unique_constraint(batch_op.f('uq_bank_payouts_reference'), ['reference'])

    with op.batch_alter_table('enterprise_applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payout_arrives_at', models.base.UTCDateTime(timezone=True), nullable=True))
    arrival = (
        sa.select(payouts.c.arrives_at)
        .where(payouts.c.application_id == applications.c.id)
        .scalar_subquery()
    )
    op.execute(applications.update().values(payout_arrives_at=arrival))


def downgrade() -> None:
    """Downgrade schema. Payouts never sent (requested, refused, not found) have no `paid_at`: they go."""
    with op.batch_alter_table('enterprise_applications', schema=None) as batch_op:
        batch_op.drop_column('payout_arrives_at')

    op.execute(payouts.delete().where(payouts.c.paid_at.is_(None)))
    with op.batch_alter_table('bank_payouts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_bank_payouts_reference'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_bank_payouts_application_id'), type_='unique')
        batch_op.drop_index('ix_bank_payouts_status')
        batch_op.alter_column('paid_at', existing_type=models.base.UTCDateTime(timezone=True), nullable=False)
        batch_op.drop_column('arrives_at')
        batch_op.drop_column('requested_at')
        batch_op.drop_column('status')
