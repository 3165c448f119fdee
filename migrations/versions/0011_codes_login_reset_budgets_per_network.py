"""code budgets of their own for SMS sign-in and password reset; per-network shares of them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:00:00.000000

CODE-3: SMS sign-in (LOGIN) leaves the public budget it shared with registration, and password reset
leaves the recovery budget it shared with account lookups, so what anyone can request no longer uses up
the codes an owner needs. One client network may spend only part of a destination's login and reset
budgets a day (`code_network_budgets`). Counts already taken today also count against the new budgets
(the conservative choice for the day of the upgrade). Downgrading drops the new counts.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('code_network_budgets',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('destination', sa.String(length=254), nullable=False),
    sa.Column('budget', sa.String(length=16), nullable=False),
    sa.Column('network', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'destination', 'budget', 'network', name=op.f('pk_code_network_budgets'))
    )
    for shared, own in (('public', 'login'), ('recovery', 'reset')):
        op.execute(
            "INSERT INTO code_daily_budgets (day, destination, budget, count) "
            f"SELECT day, destination, '{own}', count FROM code_daily_budgets WHERE budget = '{shared}'"
        )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DELETE FROM code_daily_budgets WHERE budget IN ('login', 'reset')")
    op.drop_table('code_network_budgets')
