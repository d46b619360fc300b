"""The weekly rhythm: group settings, the week's board posted by itself, scheduled quizzes
and per-player stats, on top of the QuizEngine.

Nothing here keeps time in memory: `Rhythm.run_due(now)`, called by the runtime's ticker
every half minute in every process, finds due work in the database and claims it there.

- `service`: `Rhythm`, the commands (`/quiz config`, `schedule`, `stats`) and the tick;
- `boards`: the weekly board, posted once per week however many processes run;
- `scheduler`: scheduled quizzes, each slot started by exactly one process;
- `schedules`: `/quiz schedule` parsing and the local-time arithmetic of slots;
- `settings`: the group settings and how their values are checked;
- `stats`: per-player figures; `cards`: what the rhythm shows;
- `ports`: the storage the rhythm needs (`RhythmStore`) and `BoardPort`;
- `report`: what one tick did.
"""
