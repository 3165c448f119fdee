"""subject changes: the kind of a name change's supplementary material (CHG-2), and the uploads a user
sends when a reviewer asks for more material on a change (REV-4)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 17:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision: str = '0018'
down_revision: Union[str, Sequence[str], None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('subject_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supplement_kind', sa.String(length=32), nullable=True))
    op.create_table('subject_change_documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('change_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['change_id'], ['subject_changes.id'], name=op.f('fk_subject_change_documents_change_id_subject_changes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_subject_change_documents_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_change_documents'))
    )
    with op.batch_alter_table('subject_change_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subject_change_documents_change_id'), ['change_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('subject_change_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subject_change_documents_change_id'))
    op.drop_table('subject_change_documents')
    with op.batch_alter_table('subject_changes', schema=None) as batch_op:
        batch_op.drop_column('supplement_kind')
