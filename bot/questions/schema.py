"""The deck format: which keys a deck file may have, the limits, and YAML nodes -> Deck.

Decks are written by hand, so the checks collect every problem with the line of
the node it is about instead of stopping at the first. Values are read from the
YAML nodes as written (`- correct: True` is the text "True", not a boolean), and
nothing is ever constructed from a tag, so no tag can run code.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import yaml

from bot.core.model import Choice, Deck, Question, QuestionKind, Scoring
from bot.core.start_options import MAX_SECONDS, MIN_SECONDS
from bot.questions.checks import position_reference
from bot.questions.limits import (
    CHOICES_LIMIT_WHY,
    MAX_CHOICE_LENGTH,
    MAX_CHOICES,
    MAX_EXPLANATION_LENGTH,
    MAX_ID_LENGTH,
    MAX_PROMPT_LENGTH,
    MAX_QUESTIONS_PER_DECK,
    MAX_TITLE_LENGTH,
)
from bot.questions.node_reader import BOOLEANS, NodeReader, is_alias
from bot.questions.problems import Problem
from bot.questions.yaml_nodes import mark, shape, unknown_key

DECK_KEYS = ("name", "title", "description", "defaults", "questions")
DEFAULTS_KEYS = ("seconds", "scoring", "shuffle")
QUESTION_KEYS = (
    *("id", "title", "kind", "prompt", "choices", "answer"),
    *("explanation", "tags", "difficulty", "source", "shuffle"),
)
CHOICE_KEYS = ("correct", "wrong")
DIFFICULTIES = ("easy", "medium", "hard")
TRUE_FALSE = ("True", "False")

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._/-]*")


@dataclass
class DeckDraft:
    """A deck file read into a Deck, with where each id is, and what is wrong with it."""

    deck: Deck | None
    problems: list[Problem]
    id_marks: dict[str, tuple[int, int]] = field(default_factory=dict)
    name_mark: tuple[int, int] = (1, 1)
    # Worth a look but not wrong: the deck still loads.
    warnings: list[Problem] = field(default_factory=list)


class _Builder(NodeReader):
    """Collects problems while turning one file's node tree into a Deck."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.seen_ids: dict[str, int] = {}
        self.deck_shuffle = True

    def deck(self, root: yaml.Node, fallback_name: str) -> DeckDraft:
        """The deck of one file's root node."""
        if not isinstance(root, yaml.MappingNode):
            self.problem(
                root,
                f"the top level is a {shape(root)}: a deck file is a mapping with "
                "name, title, description and questions",
            )
            return DeckDraft(None, self.problems)
        entries = self.mapping(root, DECK_KEYS, "deck")
        name = fallback_name
        name_mark = mark(root)
        if "name" in entries:
            name_node = entries["name"][1]
            name_mark = mark(name_node)
            given = self.text(name_node, "name")
            if given is not None and not NAME_PATTERN.fullmatch(given):
                self.problem(name_node, f"name {given!r}: use lowercase letters, digits and -")
            elif given:
                name = given
        title = name
        if "title" not in entries:
            self.problem(root, "deck: missing title")
        else:
            title = self.text(entries["title"][1], "title", MAX_TITLE_LENGTH) or name
        description = ""
        if "description" in entries:
            description = self.text(entries["description"][1], "description") or ""
        seconds, scoring = self.defaults(entries.get("defaults"), name)
        questions = self.questions(entries.get("questions"), root, name)
        ids = {q.id: m for q, m in questions}
        if self.problems:
            return DeckDraft(None, self.problems, ids, name_mark)
        deck = Deck(
            name=name,
            title=title,
            description=description,
            questions=tuple(q for q, _ in questions),
            default_seconds=seconds,
            default_scoring=scoring,
            path=self.path,
        )
        return DeckDraft(deck, self.problems, ids, name_mark)

    def defaults(
        self, entry: tuple[yaml.Node, yaml.Node] | None, deck: str
    ) -> tuple[int | None, Scoring | None]:
        """Seconds per question and scoring, if the deck sets them (and its shuffle)."""
        if entry is None:
            return None, None
        node = entry[1]
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, "defaults must be a mapping with seconds and/or scoring")
            return None, None
        entries = self.mapping(node, DEFAULTS_KEYS, "defaults")
        seconds: int | None = None
        scoring: Scoring | None = None
        if "seconds" in entries:
            value_node = entries["seconds"][1]
            raw = self.text(value_node, "seconds")
            if raw is not None:
                if raw.isdigit() and MIN_SECONDS <= int(raw) <= MAX_SECONDS:
                    seconds = int(raw)
                else:
                    self.problem(
                        value_node,
                        f"deck {deck!r}: defaults.seconds {raw!r}: a whole number from "
                        f"{MIN_SECONDS} to {MAX_SECONDS} (the longest a round may last)",
                    )
        if "scoring" in entries:
            value_node = entries["scoring"][1]
            raw = self.text(value_node, "scoring")
            allowed = [s.value for s in Scoring]
            if raw is not None and raw in allowed:
                scoring = Scoring(raw)
            elif raw is not None:
                self.problem(value_node, f"scoring {raw!r}: one of {', '.join(allowed)}")
        if "shuffle" in entries:
            self.deck_shuffle = self.boolean(entries["shuffle"][1], "defaults.shuffle", True)
        return seconds, scoring

    def questions(
        self, entry: tuple[yaml.Node, yaml.Node] | None, root: yaml.Node, deck: str
    ) -> list[tuple[Question, tuple[int, int]]]:
        """Every valid question of the deck, with the position of its id."""
        if entry is None:
            self.problem(root, "deck: missing questions")
            return []
        node = entry[1]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            what = "empty" if isinstance(node, yaml.SequenceNode) else f"a {shape(node)}"
            self.problem(node, f"questions is {what}: a list of at least one question")
            return []
        if len(node.value) > MAX_QUESTIONS_PER_DECK:
            self.problem(
                node,
                f"{len(node.value)} questions: a deck holds at most {MAX_QUESTIONS_PER_DECK} "
                "(split it into several decks)",
            )
            return []
        out: list[tuple[Question, tuple[int, int]]] = []
        for item in node.value:
            built = self.question(item, deck)
            if built is not None:
                question, id_node = built
                out.append((question, mark(id_node)))
        return out

    def question(self, node: yaml.Node, deck: str) -> tuple[Question, yaml.Node] | None:
        """One question, or None when it has problems."""
        if is_alias(node):
            return None
        if not isinstance(node, yaml.MappingNode):
            self.problem(
                node, f"a question must be a mapping (id, prompt, choices), not a {shape(node)}"
            )
            return None
        before = len(self.problems)
        entries = self.mapping(node, QUESTION_KEYS, "question")
        qid, id_node = self.question_id(node, entries)
        label = f"question {qid}" if qid else "question"
        prompt = self.prompt(node, entries, label)
        kind, choices = self.answer_part(node, entries, label)
        title = self.optional_text(entries, "title", MAX_TITLE_LENGTH)
        explanation = self.optional_text(entries, "explanation", MAX_EXPLANATION_LENGTH) or ""
        source = self.optional_text(entries, "source")
        difficulty = self.optional_text(entries, "difficulty")
        if difficulty is not None and difficulty not in DIFFICULTIES:
            self.problem(
                entries["difficulty"][1],
                f"difficulty {difficulty!r}: one of {', '.join(DIFFICULTIES)}",
            )
        tags = self.tags(entries.get("tags"))
        shuffle = self.deck_shuffle
        if "shuffle" in entries:
            shuffle = self.boolean(entries["shuffle"][1], "shuffle", shuffle)
        if shuffle and explanation and kind is not QuestionKind.TRUE_FALSE:
            self.position_warning(entries["explanation"][1], explanation, label)
        if len(self.problems) > before or kind is None:
            return None
        question = Question(
            id=qid,
            deck=deck,
            kind=kind,
            prompt=prompt,
            choices=choices,
            explanation=explanation,
            tags=tags,
            difficulty=difficulty or None,
            source=source or None,
            title=title or None,
            shuffle=shuffle,
        )
        return question, id_node

    def question_id(
        self, node: yaml.Node, entries: dict[str, tuple[yaml.Node, yaml.Node]]
    ) -> tuple[str, yaml.Node]:
        """A question's id and where it is written ("" and the question when missing)."""
        if "id" not in entries:
            self.problem(node, "question: missing id")
            return "", node
        id_node = entries["id"][1]
        qid = self.text(id_node, "id") or ""
        if not qid:
            self.problem(id_node, "id is empty")
        elif len(qid) > MAX_ID_LENGTH or not ID_PATTERN.fullmatch(qid):
            self.problem(
                id_node,
                f"id {qid!r}: use lowercase letters, digits, - _ . / "
                f"(at most {MAX_ID_LENGTH} characters)",
            )
        self.unique_id(qid, id_node)
        return qid, id_node

    def prompt(
        self, node: yaml.Node, entries: dict[str, tuple[yaml.Node, yaml.Node]], label: str
    ) -> str:
        """A question's prompt, math checked."""
        if "prompt" not in entries:
            self.problem(node, f"{label}: missing prompt")
            return ""
        prompt_node = entries["prompt"][1]
        prompt = self.text(prompt_node, "prompt", MAX_PROMPT_LENGTH) or ""
        if not prompt and isinstance(prompt_node, yaml.ScalarNode) and not is_alias(prompt_node):
            self.problem(prompt_node, f"{label}: prompt is empty")
        self.math(prompt_node, prompt, "prompt")
        return prompt

    def unique_id(self, qid: str, id_node: yaml.Node) -> None:
        """An id may appear once in a deck; reported even when its question has other problems."""
        if qid in self.seen_ids:
            self.problem(id_node, f"duplicate id {qid!r} (first on line {self.seen_ids[qid]})")
        else:
            self.seen_ids[qid] = mark(id_node)[0]

    def position_warning(self, node: yaml.Node, explanation: str, label: str) -> None:
        """An explanation that names a choice by position is wrong once choices are shuffled."""
        named = position_reference(explanation)
        if named is not None:
            line, col = mark(node)
            self.warnings.append(
                Problem(
                    self.path,
                    line,
                    col,
                    f"{label}: the explanation names a position ({named!r}) but the choices "
                    "are shuffled: name the choice, or set shuffle: false",
                )
            )

    def answer_part(
        self, node: yaml.Node, entries: dict[str, tuple[yaml.Node, yaml.Node]], label: str
    ) -> tuple[QuestionKind | None, tuple[Choice, ...]]:
        """The kind and the choices, each checked against the other."""
        kind: QuestionKind | None = None
        kind_node: yaml.Node | None = None
        if "kind" in entries:
            kind_node = entries["kind"][1]
            raw = self.text(kind_node, "kind")
            allowed = [k.value for k in QuestionKind]
            if raw in allowed:
                kind = QuestionKind(raw)
            elif raw is not None:
                close = difflib.get_close_matches(raw, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.problem(kind_node, f"kind {raw!r}: one of {', '.join(allowed)}{hint}")
                return None, ()
        if "answer" in entries:
            return self.true_false_answer(entries, kind, kind_node, label)
        if "choices" not in entries:
            self.problem(node, f"{label}: missing choices (or answer: true/false)")
            return None, ()
        choices_node = entries["choices"][1]
        choices = self.choices(choices_node, label)
        if not choices:
            return None, ()
        correct = sum(c.correct for c in choices)
        texts = tuple(c.text for c in choices)
        is_true_false = tuple(t.capitalize() for t in texts) == TRUE_FALSE
        if correct == 0:
            self.problem(choices_node, f"{label}: no choice is marked correct")
            return None, ()
        if kind is None:
            if is_true_false:
                kind = QuestionKind.TRUE_FALSE
            else:
                kind = QuestionKind.MULTIPLE if correct > 1 else QuestionKind.SINGLE
        if kind is QuestionKind.SINGLE and correct > 1:
            self.problem(
                choices_node,
                f"{label}: {correct} choices marked correct in a single-answer question "
                "(mark one, or set kind: multiple)",
            )
        if kind is QuestionKind.TRUE_FALSE:
            if not is_true_false:
                self.problem(
                    choices_node,
                    f"{label}: a true_false question has the choices "
                    "True and False, in that order (or use answer: true/false)",
                )
            elif correct != 1:
                self.problem(choices_node, f"{label}: mark exactly one of True and False")
            choices = tuple(Choice(t, c.correct) for t, c in zip(TRUE_FALSE, choices, strict=False))
        return kind, choices

    def true_false_answer(
        self,
        entries: dict[str, tuple[yaml.Node, yaml.Node]],
        kind: QuestionKind | None,
        kind_node: yaml.Node | None,
        label: str,
    ) -> tuple[QuestionKind | None, tuple[Choice, ...]]:
        """`answer: true` or `answer: false`: the short form of a true/false question."""
        answer_node = entries["answer"][1]
        if "choices" in entries:
            self.problem(answer_node, f"{label}: give either answer (true/false) or choices")
            return None, ()
        if kind not in (None, QuestionKind.TRUE_FALSE):
            self.problem(kind_node, f"{label}: answer: true/false is only for kind true_false")
            return None, ()
        raw = self.text(answer_node, "answer")
        value = BOOLEANS.get((raw or "").lower())
        if value is None:
            self.problem(answer_node, f"answer {raw!r}: true or false")
            return None, ()
        return QuestionKind.TRUE_FALSE, (Choice("True", value), Choice("False", not value))

    def choices(self, node: yaml.Node, label: str) -> tuple[Choice, ...]:
        """The choice list: each item `correct: text` or `wrong: text`."""
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            what = "empty" if isinstance(node, yaml.SequenceNode) else f"a {shape(node)}"
            self.problem(
                node,
                f"{label}: choices is {what}: a list of "
                "'- correct: text' and '- wrong: text' items",
            )
            return ()
        if len(node.value) > MAX_CHOICES:
            self.problem(
                node,
                f"{label}: {len(node.value)} choices: at most {MAX_CHOICES} ({CHOICES_LIMIT_WHY})",
            )
        choices: list[Choice] = []
        seen: dict[str, int] = {}
        for item in node.value:
            if is_alias(item):
                continue
            if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
                self.problem(item, "a choice is '- correct: text' or '- wrong: text'")
                continue
            key_node, value_node = item.value[0]
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
            if key not in CHOICE_KEYS:
                self.problem(key_node, unknown_key(str(key), CHOICE_KEYS, "choice"))
                continue
            self.check_tag(value_node)
            text = self.text(value_node, "a choice", MAX_CHOICE_LENGTH)
            if text is None:
                continue
            if not text:
                self.problem(value_node, "a choice is empty")
                continue
            self.math(value_node, text, "choice")
            folded = " ".join(text.split()).casefold()
            if folded in seen:
                self.problem(
                    value_node, f"duplicate choice {text!r} (first on line {seen[folded]})"
                )
                continue
            seen[folded] = mark(value_node)[0]
            choices.append(Choice(text, key == "correct"))
        return tuple(choices)


def build_deck(root: yaml.Node | None, path: str, fallback_name: str) -> DeckDraft:
    """Check a deck file's root node and build its Deck (None when it has problems)."""
    builder = _Builder(path)
    if root is None:
        builder.problem(None, "empty file: a deck needs a name, a title and questions")
        return DeckDraft(None, builder.problems)
    draft = builder.deck(root, fallback_name)
    draft.warnings = builder.warnings
    return draft
