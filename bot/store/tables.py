"""The database schema as typed SQLAlchemy models; Alembic migrations mirror it exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY, so ids are BIGINT on PostgreSQL only.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite stores it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Reject naive datetimes; store UTC (naive on SQLite, so text compares in order)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class CommunityRow(Base):
    """A Discord guild, a Slack workspace or the console."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    week_start: Mapped[int] = mapped_column(Integer, server_default="0")
    settings: Mapped[dict[str, Any]] = mapped_column()
    # When the weekly board check is next due (the end of the current week, or
    # BOARD_DUE_NOW after a settings change); NULL without a board channel. The ticker
    # reads only the due rows by ix_communities_board_due, however many communities.
    next_board_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        Index("ix_communities_board_due", "platform", "next_board_at"),
    )


class PlayerRow(Base):
    """A person on one platform."""

    __tablename__ = "players"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("platform", "external_id"),)


class TeamRow(Base):
    """A team of a community; a disbanded team stays for the history that names it."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    name: Mapped[str] = mapped_column(String(100))
    disbanded: Mapped[bool] = mapped_column(Boolean, server_default=false())

    __table_args__ = (
        # Names are unique case-insensitively among a community's live teams.
        Index(
            "uq_teams_community_id_lower_name",
            "community_id",
            func.lower(name),
            unique=True,
            sqlite_where=disbanded.is_(False),
            postgresql_where=disbanded.is_(False),
        ),
    )


class TeamMemberRow(Base):
    """A player's membership: one team per player per community."""

    __tablename__ = "team_members"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())


class QuestionRow(Base):
    """A question synced from a deck file by its stable id."""

    __tablename__ = "questions"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    deck: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column()


class QuizRow(Base):
    """A run of rounds in one channel."""

    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(128))
    host_id: Mapped[int] = mapped_column(ForeignKey("players.id"))
    options: Mapped[dict[str, Any]] = mapped_column()
    question_ids: Mapped[list[Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        # One running quiz per channel, enforced by the database.
        Index(
            "uq_quizzes_running_channel",
            "community_id",
            "channel_id",
            unique=True,
            sqlite_where=status == "running",
            postgresql_where=status == "running",
        ),
        Index("ix_quizzes_channel_created", "community_id", "channel_id", "created_at"),
    )


class RoundRow(Base):
    """One question put to a channel, with the question frozen as shown."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(200))
    question: Mapped[dict[str, Any]] = mapped_column()
    opened_at: Mapped[datetime] = mapped_column()
    closes_at: Mapped[datetime] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    message_ref: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("quiz_id", "position"),
        Index("ix_rounds_status_closes_at", "status", "closes_at"),
    )


class AnswerRow(Base):
    """One player's pick in one round; the key makes a second answer impossible."""

    __tablename__ = "answers"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id"), primary_key=True)
    selected: Mapped[list[Any]] = mapped_column()
    answered_at: Mapped[datetime] = mapped_column()
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    correct: Mapped[bool | None] = mapped_column(Boolean)
    points: Mapped[int] = mapped_column(Integer, server_default="0")
    streak: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (Index("ix_answers_player_id", "player_id"),)


class TeamAnswerRow(Base):
    """A team's answer in one round, decided by plurality at close."""

    __tablename__ = "team_answers"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    selected: Mapped[list[Any]] = mapped_column()
    votes: Mapped[int] = mapped_column(Integer)
    members_voted: Mapped[int] = mapped_column(Integer)
    correct: Mapped[bool] = mapped_column(Boolean)
    points: Mapped[int] = mapped_column(Integer)


class ScoreRowTable(Base):
    """Running totals per community, period ("2026-W48" or "all") and subject."""

    __tablename__ = "scores"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject_id: Mapped[int] = mapped_column(Id, primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    correct: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # A leaderboard is a range scan of this index in its own order: top-N and ranks.
        Index(
            "ix_scores_board",
            "community_id",
            "period",
            "subject_kind",
            points.desc(),
            correct.desc(),
            "subject_id",
        ),
    )


class JobRow(Base):
    """A piece of once-only background work (a week's board post), claimed by one process.

    The unique (community, kind, key) makes the claim an insert-or-nothing; the lease
    lets another process take over work whose claimer died before finishing it.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    token: Mapped[str] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer)
    lease_until: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("community_id", "kind", "key"),)


class ScheduleRow(Base):
    """A quiz that starts by itself daily or weekly at a local time of its community."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(128))
    created_by: Mapped[int] = mapped_column(ForeignKey("players.id"))
    cadence: Mapped[str] = mapped_column(String(8))
    weekday: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday, weekly only
    local_time: Mapped[str] = mapped_column(String(5))  # "HH:MM" in the community's zone
    decks: Mapped[list[Any]] = mapped_column()
    questions: Mapped[int | None] = mapped_column(Integer)
    next_run_at: Mapped[datetime] = mapped_column()
    last_run_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        # The ticker's due scan: a range of this index, whatever the number of schedules.
        Index("ix_schedules_platform_next_run_at", "platform", "next_run_at"),
    )


# ---- study mode: FSRS cards, their review log, review sessions, reminders -------------


class StudyCardRow(Base):
    """A player's FSRS card for one question (the fields of `fsrs.Card`)."""

    __tablename__ = "study_cards"

    player_id: Mapped[int] = mapped_column(ForeignKey("players.id"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[int] = mapped_column(Integer)
    step: Mapped[int | None] = mapped_column(Integer)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime] = mapped_column()
    last_review: Mapped[datetime | None] = mapped_column()
    content_hash: Mapped[str] = mapped_column(String(64))
    reviews: Mapped[int] = mapped_column(Integer, server_default="0")
    lapses: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (
        # a player's due cards, and the next due time, are a range of this index
        Index("ix_study_cards_player_id_due", "player_id", "due"),
    )


class StudyReviewRow(Base):
    """The review log: one row per rated event (a closed round, a review answer) of one
    question, with its players and their ratings as parallel arrays.

    One row per round rather than per answer: a 500-answer close writes one log row,
    not 500 (see docs/PERFORMANCE.md). The cards themselves hold the state each left.
    """

    __tablename__ = "study_reviews"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    question_id: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(8))
    reviewed_at: Mapped[datetime] = mapped_column()
    players: Mapped[list[Any]] = mapped_column()  # player ids
    ratings: Mapped[list[Any]] = mapped_column()  # their ratings, 1 Again ... 4 Easy
    # the question was edited since some of these cards' last review (they are kept)
    content_changed: Mapped[bool] = mapped_column(Boolean, server_default=false())

    __table_args__ = (
        # the community's active members are read from a range of this index
        Index("ix_study_reviews_community_id_reviewed_at", "community_id", "reviewed_at"),
    )


class ReviewSessionRow(Base):
    """A player's private review session; all of its state, so any process goes on."""

    __tablename__ = "review_sessions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id"))
    status: Mapped[str] = mapped_column(String(8))
    queue: Mapped[list[Any]] = mapped_column()
    current: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    due_ids: Mapped[list[Any]] = mapped_column()
    size: Mapped[int] = mapped_column(Integer)
    item: Mapped[int] = mapped_column(Integer, server_default="0")
    right: Mapped[int] = mapped_column(Integer, server_default="0")
    missed: Mapped[list[Any]] = mapped_column()
    deck: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        # one open session per player and community, enforced by the database
        Index(
            "uq_review_sessions_open_player",
            "community_id",
            "player_id",
            unique=True,
            sqlite_where=status == "open",
            postgresql_where=status == "open",
        ),
    )


class StudyReminderRow(Base):
    """A player's opt-in to the daily reminder of due cards in one community."""

    __tablename__ = "study_reminders"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column()
    detail: Mapped[str | None] = mapped_column(Text)  # why it was turned off, if not by hand


class CommunityDeckRow(Base):
    """A community's own deck: its source file, its parsed questions and its origin.

    Rounds keep a snapshot of their question, so replacing or removing a deck never
    changes a round already played.
    """

    __tablename__ = "community_decks"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    questions: Mapped[list[Any]] = mapped_column()
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column()

    __table_args__ = (UniqueConstraint("community_id", "name"),)


class OutboxRow(Base):
    """A message the channel must see, written in the transaction of the change that
    calls for it and delivered by a dispatcher (bot.core.dispatch) of any process.

    A lane is (platform, channel_id): its rows are delivered one at a time in id order.
    `dedupe_key` is set while a row may still be merged with a newer one (a round's
    pending count edit) and cleared when the row is claimed; its unique index keeps one
    such row per round.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(128))
    community_id: Mapped[int] = mapped_column(Id)
    quiz_id: Mapped[int | None] = mapped_column(Id)
    round_id: Mapped[int | None] = mapped_column(Id)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)  # JSON
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    not_before: Mapped[datetime] = mapped_column()
    lease_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column()
    message_ref: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    __table_args__ = (
        # the claim: due rows by status, then each lane's earliest unfinished row
        Index("ix_outbox_status_not_before", "status", "not_before"),
        Index("ix_outbox_platform_channel_id_id", "platform", "channel_id", "id"),
        # is a round's question still undelivered (its deadline must not pass unseen)
        Index("ix_outbox_round_id", "round_id"),
    )
