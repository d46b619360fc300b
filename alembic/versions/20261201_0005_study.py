"""Study mode: FSRS cards per (player, question), their review log, review sessions and reminders.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:48:53.341578
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('review_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('player_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('queue', sa.JSON(), nullable=False),
    sa.Column('current', sa.JSON(), nullable=True),
    sa.Column('due_ids', sa.JSON(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('item', sa.Integer(), server_default='0', nullable=False),
    sa.Column('right', sa.Integer(), server_default='0', nullable=False),
    sa.Column('missed', sa.JSON(), nullable=False),
    sa.Column('deck', sa.String(length=100), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_review_sessions_community_id_communities')),
    sa.ForeignKeyConstraint(['player_id'], ['players.id'], name=op.f('fk_review_sessions_player_id_players')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_sessions'))
    )
    with op.batch_alter_table('review_sessions', schema=None) as batch_op:
        batch_op.create_index('uq_review_sessions_open_player', ['community_id', 'player_id'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.create_table('study_cards',
    sa.Column('player_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('question_id', sa.String(length=200), nullable=False),
    sa.Column('state', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=True),
    sa.Column('stability', sa.Float(), nullable=True),
    sa.Column('difficulty', sa.Float(), nullable=True),
    sa.Column('due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_review', sa.DateTime(timezone=True), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('reviews', sa.Integer(), server_default='0', nullable=False),
    sa.Column('lapses', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['player_id'], ['players.id'], name=op.f('fk_study_cards_player_id_players')),
    sa.PrimaryKeyConstraint('player_id', 'question_id', name=op.f('pk_study_cards'))
    )
    with op.batch_alter_table('study_cards', schema=None) as batch_op:
        batch_op.create_index('ix_study_cards_player_id_due', ['player_id', 'due'], unique=False)

    op.create_table('study_reminders',
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('player_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_study_reminders_community_id_communities')),
    sa.ForeignKeyConstraint(['player_id'], ['players.id'], name=op.f('fk_study_reminders_player_id_players')),
    sa.PrimaryKeyConstraint('community_id', 'player_id', name=op.f('pk_study_reminders'))
    )
    op.create_table('study_reviews',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('question_id', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('players', sa.JSON(), nullable=False),
    sa.Column('ratings', sa.JSON(), nullable=False),
    sa.Column('content_changed', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_study_reviews_community_id_communities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_study_reviews'))
    )
    with op.batch_alter_table('study_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_study_reviews_community_id_reviewed_at', ['community_id', 'reviewed_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('study_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_study_reviews_community_id_reviewed_at')

    op.drop_table('study_reviews')
    op.drop_table('study_reminders')
    with op.batch_alter_table('study_cards', schema=None) as batch_op:
        batch_op.drop_index('ix_study_cards_player_id_due')

    op.drop_table('study_cards')
    with op.batch_alter_table('review_sessions', schema=None) as batch_op:
        batch_op.drop_index('uq_review_sessions_open_player', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.drop_table('review_sessions')
