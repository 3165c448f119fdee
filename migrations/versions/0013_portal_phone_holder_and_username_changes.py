"""portal accounts: the phone's own portal account (REG-4) and when a username last changed (PROF-5)

REG-4: a phone holds at most one portal account (the one SMS sign-in with it reaches) but may be
bound to up to 5. `accounts.phone_holder` marks the held one; the unique index on the phone moves
from every live portal account to the held one only. Until now a phone had at most one live portal
account, so every existing portal account holds its phone.

PROF-5: `accounts.username_changed_at`, when a portal account last changed its username (null: never;
its first choice is not a change), so the next change waits a year.

Downgrading needs every phone to be bound to at most one live portal account again (the old unique
index is recreated and fails otherwise).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 14:10:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OLD_WHERE = "kind = 'portal' AND status = 'active'"
NEW_WHERE = "kind = 'portal' AND status = 'active' AND phone_holder"

accounts = sa.table('accounts', sa.column('kind', sa.String(16)), sa.column('phone_holder', sa.Boolean()))


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_holder', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('username_changed_at', models.base.UTCDateTime(timezone=True), nullable=True))
    op.execute(accounts.update().where(accounts.c.kind == 'portal').values(phone_holder=True))
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(
            'uq_accounts_portal_phone', sqlite_where=sa.text(OLD_WHERE), postgresql_where=sa.text(OLD_WHERE)
        )
        batch_op.create_index(
            'uq_accounts_portal_phone_holder',
            ['phone'],
            unique=True,
            sqlite_where=sa.text(NEW_WHERE),
            postgresql_where=sa.text(NEW_WHERE),
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(
            'uq_accounts_portal_phone_holder', sqlite_where=sa.text(NEW_WHERE), postgresql_where=sa.text(NEW_WHERE)
        )
        batch_op.create_index(
            'uq_accounts_portal_phone',
            ['phone'],
            unique=True,
            sqlite_where=sa.text(OLD_WHERE),
            postgresql_where=sa.text(OLD_WHERE),
        )
        batch_op.drop_column('username_changed_at')
        batch_op.drop_column('phone_holder')
