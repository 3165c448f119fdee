"""recovery tickets keep the code their own start sent (REC-1)

A ticket is completed only by that code, and counts its wrong entries itself: a ticket whose start
sent no code (an unknown name, or a phone at its send limits) answers like an unknown name instead
of sharing the phone's latest code and its count. Tickets started before this revision have no code
and can no longer be completed: they live 15 minutes at most.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 06:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('recovery_tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_recovery_tickets_code_id_one_time_codes'), 'one_time_codes', ['code_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('recovery_tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_recovery_tickets_code_id_one_time_codes'), type_='foreignkey')
        batch_op.drop_column('code_id')
