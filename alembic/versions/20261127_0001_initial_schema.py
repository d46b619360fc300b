"""Initial schema: communities, players, teams, questions, quizzes, rounds, answers, scores.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 04:56:29.061815
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('communities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False),
    sa.Column('week_start', sa.Integer(), server_default='0', nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communities')),
    sa.UniqueConstraint('platform', 'external_id', name=op.f('uq_communities_platform_external_id'))
    )
    op.create_table('players',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_players')),
    sa.UniqueConstraint('platform', 'external_id', name=op.f('uq_players_platform_external_id'))
    )
    op.create_table('questions',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('deck', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questions'))
    )
    op.create_index(op.f('ix_questions_deck'), 'questions', ['deck'], unique=False)
    op.create_table('quizzes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('channel_id', sa.String(length=128), nullable=False),
    sa.Column('host_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('question_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_quizzes_community_id_communities')),
    sa.ForeignKeyConstraint(['host_id'], ['players.id'], name=op.f('fk_quizzes_host_id_players')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quizzes'))
    )
    op.create_index('ix_quizzes_channel_created', 'quizzes', ['community_id', 'channel_id', 'created_at'], unique=False)
    op.create_index('uq_quizzes_running_channel', 'quizzes', ['community_id', 'channel_id'], unique=True, sqlite_where=sa.text("status = 'running'"), postgresql_where=sa.text("status = 'running'"))
    op.create_table('scores',
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('subject_kind', sa.String(length=8), nullable=False),
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('correct', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_scores_community_id_communities')),
    sa.PrimaryKeyConstraint('community_id', 'period', 'subject_kind', 'subject_id', name=op.f('pk_scores'))
    )
    op.create_index('ix_scores_board', 'scores', ['community_id', 'period', 'subject_kind', sa.literal_column('points DESC'), sa.literal_column('correct DESC'), 'subject_id'], unique=False)
    op.create_table('teams',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('disbanded', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_teams_community_id_communities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams'))
    )
    op.create_index(
        'uq_teams_community_id_lower_name',
        'teams',
        ['community_id', sa.text('lower(name)')],
        unique=True,
        sqlite_where=sa.text('disbanded IS 0'),
        postgresql_where=sa.text('disbanded IS false'),
    )
    op.create_table('rounds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quiz_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=200), nullable=False),
    sa.Column('question', sa.JSON(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('message_ref', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], name=op.f('fk_rounds_quiz_id_quizzes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rounds')),
    sa.UniqueConstraint('quiz_id', 'position', name=op.f('uq_rounds_quiz_id_position'))
    )
    op.create_index('ix_rounds_status_closes_at', 'rounds', ['status', 'closes_at'], unique=False)
    op.create_table('team_members',
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('player_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), server_default=sa.func.current_timestamp(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_team_members_community_id_communities')),
    sa.ForeignKeyConstraint(['player_id'], ['players.id'], name=op.f('fk_team_members_player_id_players')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_members_team_id_teams')),
    sa.PrimaryKeyConstraint('community_id', 'player_id', name=op.f('pk_team_members'))
    )
    op.create_index(op.f('ix_team_members_team_id'), 'team_members', ['team_id'], unique=False)
    op.create_table('answers',
    sa.Column('round_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('player_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('selected', sa.JSON(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('correct', sa.Boolean(), nullable=True),
    sa.Column('points', sa.Integer(), server_default='0', nullable=False),
    sa.Column('streak', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['player_id'], ['players.id'], name=op.f('fk_answers_player_id_players')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_answers_round_id_rounds')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_answers_team_id_teams')),
    sa.PrimaryKeyConstraint('round_id', 'player_id', name=op.f('pk_answers'))
    )
    op.create_index('ix_answers_player_id', 'answers', ['player_id'], unique=False)
    op.create_table('team_answers',
    sa.Column('round_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('selected', sa.JSON(), nullable=False),
    sa.Column('votes', sa.Integer(), nullable=False),
    sa.Column('members_voted', sa.Integer(), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_team_answers_round_id_rounds')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_answers_team_id_teams')),
    sa.PrimaryKeyConstraint('round_id', 'team_id', name=op.f('pk_team_answers'))
    )


def downgrade() -> None:
    op.drop_table('team_answers')
    op.drop_index('ix_answers_player_id', table_name='answers')
    op.drop_table('answers')
    op.drop_index(op.f('ix_team_members_team_id'), table_name='team_members')
    op.drop_table('team_members')
    op.drop_index('ix_rounds_status_closes_at', table_name='rounds')
    op.drop_table('rounds')
    op.drop_index('uq_teams_community_id_lower_name', table_name='teams')
    op.drop_table('teams')
    op.drop_index('ix_scores_board', table_name='scores')
    op.drop_table('scores')
    op.drop_index('uq_quizzes_running_channel', table_name='quizzes')
    op.drop_index('ix_quizzes_channel_created', table_name='quizzes')
    op.drop_table('quizzes')
    op.drop_index(op.f('ix_questions_deck'), table_name='questions')
    op.drop_table('questions')
    op.drop_table('players')
    op.drop_table('communities')
