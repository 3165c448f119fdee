"""appeal tokens: the signed-out filer's credential of a phone-rebind appeal (APL-2)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 14:00:00.000000

APL-2: a user who cannot pass any usual check files a phone-rebind appeal without a session. The
appeal token (stored hashed) uploads that appeal's materials, files it, reads it and answers requests
for material; documents uploaded with it remember the token, so only its appeal may use them.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('appeal_tokens',
    sa.Column('id', BIGINT, autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', BIGINT, nullable=False),
    sa.Column('new_phone', sa.String(length=20), nullable=True),
    sa.Column('appeal_id', BIGINT, nullable=True),
    sa.Column('uploads', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_appeal_tokens_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_tokens_appeal_id_appeals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_appeal_tokens_token_hash'))
    )
    with op.batch_alter_table('appeal_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_tokens_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_tokens_appeal_id'), ['appeal_id'], unique=False)
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appeal_token_id', BIGINT, nullable=True))
        batch_op.create_index(batch_op.f('ix_documents_appeal_token_id'), ['appeal_token_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_documents_appeal_token_id_appeal_tokens'), 'appeal_tokens', ['appeal_token_id'], ['id'], ondelete='CASCADE')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_documents_appeal_token_id_appeal_tokens'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_documents_appeal_token_id'))
        batch_op.drop_column('appeal_token_id')
    with op.batch_alter_table('appeal_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_tokens_appeal_id'))
        batch_op.drop_index(batch_op.f('ix_appeal_tokens_account_id'))
    op.drop_table('appeal_tokens')
