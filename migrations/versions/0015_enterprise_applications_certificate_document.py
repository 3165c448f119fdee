"""an organisation's verification carries its certificate image (ORG-4)

Every enterprise verification started from now on names the uploaded image of the licence or
registration certificate named for the organisation's type (ORG-1). Applications started before
this revision have none: the column is nullable, and the back office shows what there is.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 14:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('enterprise_applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_enterprise_applications_certificate_document_id_documents'), 'documents', ['certificate_document_id'], ['id'])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('enterprise_applications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_enterprise_applications_certificate_document_id_documents'), type_='foreignkey')
        batch_op.drop_column('certificate_document_id')
