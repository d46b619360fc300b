"""How big a deck and its questions may be, and the platform limits each bound comes from.

A card shows the prompt and every choice in its text, and the answer controls
carry only the letters (A, B, ...), so the label limits bound the letters, not
the choices; the text limits bound the prompt, the choices and the explanation.
"""

from __future__ import annotations

# Discord (https://discord.com/developers/docs/components/reference):
DISCORD_BUTTONS_PER_MESSAGE = 25  # 5 action rows of 5 buttons
DISCORD_SELECT_OPTIONS = 25  # options of a string select menu
DISCORD_BUTTON_LABEL = 80  # characters of a button label
DISCORD_SELECT_OPTION_LABEL = 100  # characters of a select option label (and description)
DISCORD_EMBED_DESCRIPTION = 4096  # characters of an embed description
# Slack (https://api.slack.com/reference/block-kit):
SLACK_CHECKBOX_OPTIONS = 10  # options of a checkbox group
SLACK_ACTIONS_ELEMENTS = 25  # elements of an actions block (buttons, checkboxes)
SLACK_BUTTON_TEXT = 75  # characters of a button's text
SLACK_OPTION_TEXT = 75  # characters of a checkbox option's text
SLACK_SECTION_TEXT = 3000  # characters of a section block's text

# One limit for every kind keeps a question valid when its kind changes; the
# smallest is Slack's checkbox group (a multiple-answer question).
MAX_CHOICES = min(
    SLACK_CHECKBOX_OPTIONS,
    SLACK_ACTIONS_ELEMENTS - 1,  # a multiple-answer question also has a Submit button
    DISCORD_BUTTONS_PER_MESSAGE,
    DISCORD_SELECT_OPTIONS,
)
CHOICES_LIMIT_WHY = (
    f"Slack checkboxes hold at most {SLACK_CHECKBOX_OPTIONS} options; Discord shows at most "
    f"{DISCORD_BUTTONS_PER_MESSAGE} buttons or {DISCORD_SELECT_OPTIONS} select options"
)
# Prompt and explanation go into a Slack section or a Discord embed description.
MAX_PROMPT_LENGTH = min(SLACK_SECTION_TEXT, DISCORD_EMBED_DESCRIPTION)
MAX_EXPLANATION_LENGTH = MAX_PROMPT_LENGTH
TEXT_LIMIT_WHY = f"a Slack section holds {SLACK_SECTION_TEXT:,} characters"
# A choice is listed in the card's text; longer than this it is a paragraph that
# belongs in the prompt.
MAX_CHOICE_LENGTH = 200
MAX_ID_LENGTH = 100
MAX_TITLE_LENGTH = 200
# A deck of a hundred long questions is under 200 KiB; parsing 1 MiB of YAML in
# pure Python takes about a second, the most a bad file may cost. Imports share it.
MAX_FILE_BYTES = 1024 * 1024
MAX_QUESTIONS_PER_DECK = 500
