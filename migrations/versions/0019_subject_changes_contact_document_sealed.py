"""subject changes: the CHG-3 contact's ID number, sealed, for the contact's face check

Revision ID: 0019
Revises: 0018 (0017 on its own; chained after chg-name's 0018 once merged)
Create Date: 2026-12-01 17:00:00.000000

CHG-3: the original subject's contact is named with the change's details and passes a face check in a
later step (identity registry, then liveness), which needs the full ID number: it is kept sealed
(services/secretbox.py), as a verification keeps its document, and shown masked only.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0019'
down_revision: Union[str, Sequence[str], None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('subject_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_document_sealed', sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('subject_changes', schema=None) as batch_op:
        batch_op.drop_column('contact_document_sealed')
