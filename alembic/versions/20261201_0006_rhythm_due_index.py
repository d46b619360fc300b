"""The weekly board check reads only due communities: communities.next_board_at, indexed.

A community with a board channel starts due (BOARD_DUE_NOW), so the first tick after the
upgrade checks it once and moves it to the end of its current week.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# bot.store.communities.BOARD_DUE_NOW
_DUE_NOW = datetime(1970, 1, 1, tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table('communities') as batch:
        batch.add_column(sa.Column('next_board_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        'ix_communities_board_due', 'communities', ['platform', 'next_board_at'], unique=False
    )
    communities = sa.table(
        'communities',
        sa.column('id', sa.BigInteger()),
        sa.column('settings', sa.JSON()),
        sa.column('next_board_at', sa.DateTime()),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(communities.c.id, communities.c.settings)).all()
    due = [row.id for row in rows if (row.settings or {}).get('channel')]
    if due:
        # the store keeps SQLite's datetimes naive in UTC (bot.store.tables.UTCDateTime)
        due_now = _DUE_NOW.replace(tzinfo=None) if connection.dialect.name == 'sqlite' else _DUE_NOW
        connection.execute(
            communities.update()
            .where(communities.c.id.in_(due))
            .values(next_board_at=due_now)
        )


def downgrade() -> None:
    op.drop_index('ix_communities_board_due', table_name='communities')
    with op.batch_alter_table('communities') as batch:
        batch.drop_column('next_board_at')
