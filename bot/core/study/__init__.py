"""Study mode: every answer feeds a personal FSRS schedule; private reviews; mastery."""
