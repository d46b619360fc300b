"""`python -m bot` runs the `quizbot` command."""

from bot.cli.main import main

raise SystemExit(main())
