"""The outbox: messages the channels must see, delivered by any process's dispatcher.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('outbox',
    sa.Column('id', Id, nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('channel_id', sa.String(length=128), nullable=False),
    sa.Column('community_id', Id, nullable=False),
    sa.Column('quiz_id', Id, nullable=True),
    sa.Column('round_id', Id, nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message_ref', sa.String(length=64), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_dedupe_key'))
    )
    op.create_index('ix_outbox_status_not_before', 'outbox', ['status', 'not_before'], unique=False)
    op.create_index('ix_outbox_platform_channel_id_id', 'outbox', ['platform', 'channel_id', 'id'], unique=False)
    op.create_index('ix_outbox_round_id', 'outbox', ['round_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_round_id', table_name='outbox')
    op.drop_index('ix_outbox_platform_channel_id_id', table_name='outbox')
    op.drop_index('ix_outbox_status_not_before', table_name='outbox')
    op.drop_table('outbox')
