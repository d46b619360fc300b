"""The `quizbot` command line: one module per group of subcommands."""
