# syntax=docker/dockerfile:1
# A small image of quizbot that runs as a non-root user.
#
#   docker build -t quizbot .
#   docker run --rm --env-file .env quizbot            # quizbot doctor
#
# docker-compose.yml runs it with PostgreSQL: see "Deploy with Docker" in the README.

ARG PYTHON_VERSION=3.12

# ---- build: a virtualenv with the dependencies and the package ---------------------------
FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /app

# The dependencies get a layer of their own, keyed on pyproject.toml only, so a code
# change does not download them again: install the project with an empty package,
# then take the package away and keep its dependencies.
COPY pyproject.toml README.md ./
RUN mkdir bot && touch bot/__init__.py \
    && pip install . \
    && pip uninstall --yes quizbot \
    && rm -rf bot build

# The package is installed in place (editable) at /app, the path it has in the final
# image: bot.store finds alembic/ and alembic.ini beside the bot/ folder.
# bot/decks and bot/migrations link to questions/ and alembic/: copy them too, so the
# links resolve while the package is installed
COPY bot ./bot
COPY alembic ./alembic
COPY questions ./questions
RUN pip install --no-deps --editable . \
    && python -m compileall -q bot

# ---- final: python, the virtualenv, the code, the migrations and the decks ---------------
FROM python:${PYTHON_VERSION}-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib

RUN groupadd --system --gid 10001 quizbot \
    && useradd --system --uid 10001 --gid quizbot --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin quizbot \
    && mkdir /data && chown quizbot:quizbot /data

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=build /app/bot ./bot
COPY alembic.ini ./
COPY alembic ./alembic
COPY questions ./questions

# The code stays owned by root, read-only to the bot. The image is meant for
# PostgreSQL; for SQLite mount a volume on /data and set
# DATABASE_URL=sqlite+aiosqlite:////data/quizbot.db
USER quizbot:quizbot
VOLUME ["/data"]

# Slack HTTP mode (`quizbot serve slack --http`) listens on 3000
EXPOSE 3000
STOPSIGNAL SIGTERM
CMD ["quizbot", "doctor"]
