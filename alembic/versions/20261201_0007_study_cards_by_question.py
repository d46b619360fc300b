"""A question's cards side by side: study_cards' key becomes (question_id, player_id).

A round's close writes the cards of one question for hundreds of players. Keyed by
(player_id, question_id), each of those rows went to another page of the key's index;
keyed by question first, they go to a few neighbouring pages, and the close's read of
the question's cards is one range of the key. A player's cards are still a range of
ix_study_cards_player_id_due.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(columns: list[str]) -> None:
    # SQLite rebuilds the table (batch mode); PostgreSQL swaps the constraint in place
    with op.batch_alter_table('study_cards') as batch:
        batch.drop_constraint('pk_study_cards', type_='primary')
        batch.create_primary_key('pk_study_cards', columns)


def upgrade() -> None:
    _key(['question_id', 'player_id'])


def downgrade() -> None:
    _key(['player_id', 'question_id'])
