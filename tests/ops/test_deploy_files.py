"""The deploy files agree with the code: settings, compose services, image.

There is no Docker engine where the tests run, so these tests are what keeps
docker-compose.yml, the Dockerfile, .env.example and the README from drifting away
from bot/config.py.

How compose passes settings (the decision these tests hold): the bot's services list
every setting by name under `environment`, each as `${NAME:-default}` so that compose
fills it in from .env, with the default of bot/config.py; only DATABASE_URL is fixed,
to the compose PostgreSQL. No `env_file`: a name missing from the compose file would
then go unnoticed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
SETTING_NAMES = {s.name for s in SETTINGS}
DEFAULTS = {s.name: s.default for s in SETTINGS}
# read by docker compose only, never by the bot: each is explained in .env.example
COMPOSE_ONLY = {"PLATFORM", "POSTGRES_PASSWORD", "SLACK_HTTP_PORT"}
BOT_SERVICES = ("bot", "slack-http")


def env_example_names() -> list[str]:
    """Names assigned in .env.example, in order (commented-out lines do not count)."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE)


def readme_settings_table() -> dict[str, str]:
    """The README's settings table: name -> default column."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|", section, flags=re.MULTILINE)
    return {name: default.strip() for name, default in rows}


def compose() -> dict[str, Any]:
    """docker-compose.yml, parsed (anchors and merge keys resolved)."""
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def service(name: str) -> dict[str, Any]:
    """One service of the compose file."""
    services = compose()["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    result: dict[str, Any] = services[name]
    return result


# ---- drift ---------------------------------------------------------------------------------


def test_env_example_names_every_setting_once() -> None:
    names = env_example_names()

    assert len(names) == len(set(names)), "a name is assigned twice in .env.example"
    assert set(names) - COMPOSE_ONLY == SETTING_NAMES


def test_env_example_shows_each_default() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    for spec in SETTINGS:
        assert re.search(rf"^{spec.name}={re.escape(spec.default)}$", text, re.MULTILINE), (
            f".env.example should show {spec.name}={spec.default}"
        )


def test_env_example_explains_each_name() -> None:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if re.match(r"[A-Z][A-Z0-9_]*=", line):
            assert i > 0 and lines[i - 1].startswith("# "), f"no comment above {line!r}"


def test_env_example_leaves_every_secret_empty() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    for spec in SETTINGS:
        if spec.secret:
            assert re.search(rf"^{spec.name}=$", text, re.MULTILINE), spec.name


def test_readme_settings_table_names_every_setting() -> None:
    table = readme_settings_table()

    assert set(table) == SETTING_NAMES


def test_readme_settings_table_shows_the_defaults() -> None:
    for name, shown in readme_settings_table().items():
        default = DEFAULTS[name]
        expected = f"`{default}`" if default else "(unset)"
        assert shown == expected, f"README shows {shown} as the default of {name}"


@pytest.mark.parametrize("name", BOT_SERVICES)
def test_compose_passes_every_setting_to_the_bot(name: str) -> None:
    environment = service(name)["environment"]

    assert isinstance(environment, dict), "list the settings as a mapping NAME: value"
    assert set(environment) == SETTING_NAMES
    assert "env_file" not in service(name), "name each setting under environment instead"


@pytest.mark.parametrize("name", BOT_SERVICES)
def test_compose_fills_settings_from_env_with_the_code_defaults(name: str) -> None:
    environment = service(name)["environment"]
    for setting, value in environment.items():
        if setting == "DATABASE_URL":
            continue
        assert value == f"${{{setting}:-{DEFAULTS[setting]}}}", f"{setting}: {value!r}"


def test_compose_points_the_bot_at_its_postgres() -> None:
    url = service("bot")["environment"]["DATABASE_URL"]

    assert url.startswith("postgresql+asyncpg://quizbot:${POSTGRES_PASSWORD:-quizbot}@postgres:")
    assert url.endswith("/quizbot")


def test_every_variable_compose_reads_is_in_env_example() -> None:
    lines = (ROOT / "docker-compose.yml").read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    read = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))

    # DATABASE_URL is the one setting compose fixes instead of reading
    assert read == (SETTING_NAMES - {"DATABASE_URL"}) | COMPOSE_ONLY
    assert read <= set(env_example_names())


# ---- compose structure ------------------------------------------------------------------------


def test_postgres_service() -> None:
    postgres = service("postgres")

    assert postgres["image"] == "postgres:16"
    assert postgres["environment"]["POSTGRES_USER"] == "quizbot"
    assert postgres["environment"]["POSTGRES_DB"] == "quizbot"
    assert "ports" not in postgres, "the database is for the bot only: publish no port"
    volume, _, target = postgres["volumes"][0].partition(":")
    assert target == "/var/lib/postgresql/data"
    assert volume in compose()["volumes"], "the data lives in a named volume"


def test_postgres_healthcheck_uses_pg_isready() -> None:
    check = service("postgres")["healthcheck"]

    assert check["test"][0] == "CMD-SHELL"
    assert check["test"][1].startswith("pg_isready -U quizbot -d quizbot")
    for key in ("interval", "timeout", "retries"):
        assert key in check


@pytest.mark.parametrize("name", BOT_SERVICES)
def test_bot_waits_for_a_healthy_postgres(name: str) -> None:
    assert service(name)["depends_on"] == {"postgres": {"condition": "service_healthy"}}


@pytest.mark.parametrize("name", BOT_SERVICES)
def test_bot_builds_the_image_and_stops_gracefully(name: str) -> None:
    bot = service(name)

    assert bot["build"] == "."
    assert bot["init"] is True
    # SIGKILL must not come before the bot's own 10 s shutdown is over
    assert int(bot["stop_grace_period"].removesuffix("s")) > 10
    assert bot["restart"] == "unless-stopped"


def test_bot_migrates_then_serves_the_platform() -> None:
    shell, flag, script = service("bot")["command"]

    assert (shell, flag) == ("sh", "-c")
    upgrade, serve = script.split(" && ")
    assert upgrade == "quizbot db upgrade"
    # exec: the bot replaces the shell, so SIGTERM reaches it
    assert re.fullmatch(r"exec quizbot serve \$\{PLATFORM:\?[^}]+\}", serve), serve
    assert "profiles" not in service("bot")


def test_slack_http_profile_publishes_its_port_and_checks_healthz() -> None:
    slack = service("slack-http")

    assert slack["profiles"] == ["slack-http"]
    assert slack["command"][2] == (
        "quizbot db upgrade && exec quizbot serve slack --http --host 0.0.0.0 --port 3000"
    )
    assert slack["ports"] == ["${SLACK_HTTP_PORT:-3000}:3000"]
    assert any("/healthz" in part for part in slack["healthcheck"]["test"])


def test_only_the_declared_services_and_volume() -> None:
    data = compose()

    assert set(data["services"]) == {"postgres", "bot", "slack-http"}
    assert set(data["volumes"]) == {"pgdata"}


# ---- image ---------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, args = line.partition(" ")
            out.append((keyword.upper(), " ".join(args.split())))
    return out


def final_stage() -> list[tuple[str, str]]:
    """The instructions of the last stage, the image that ships."""
    instructions = dockerfile()
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :]


def test_image_is_multi_stage_and_slim() -> None:
    froms = [args for keyword, args in dockerfile() if keyword == "FROM"]

    assert len(froms) == 2
    assert froms[0].endswith(" AS build")
    assert all("-slim" in f for f in froms)


def test_image_runs_as_a_user_without_privileges() -> None:
    users = [args for keyword, args in final_stage() if keyword == "USER"]

    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_image_ships_the_package_migrations_and_decks_only() -> None:
    copies = [args for keyword, args in final_stage() if keyword == "COPY"]
    shipped = {c.split()[-2] for c in copies}

    assert shipped == {"/opt/venv", "/app/bot", "alembic.ini", "alembic", "questions"}
    assert not any(k == "RUN" and "pip install" in a for k, a in final_stage()), (
        "nothing is built or downloaded in the final stage"
    )


def test_build_context_leaves_out_secrets_and_local_files() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line.strip() for line in lines if line.strip() and not line.startswith("#")]

    assert rules[0] == "*", "ignore everything, then let in what the image needs"
    allowed = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "bot", "alembic", "alembic.ini", "questions"}
