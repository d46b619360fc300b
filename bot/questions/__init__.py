"""The question bank: the deck format, its validation, loading and importers."""

from bot.questions.loader import LoadResult, load_bank, load_decks
from bot.questions.problems import Problem, QuestionFileError

__all__ = ["LoadResult", "Problem", "QuestionFileError", "load_bank", "load_decks"]
