"""Secrets: the Discord token never appears in logs, errors, tracebacks or `serve --check` output.

Every run captures everything: all loggers at DEBUG (discord.py's own included, with the handler `serve` installs
on the root logger), standard output and error at the file-descriptor level, and the text of any exception with
its whole chain. The token is set the ways people set it (BOT_DISCORD_TOKEN, DISCORD_TOKEN, a .env file) and the
bot is driven through start-up, a token Discord rejects, a network failure, a malformed token and a bad setting.
A control run plants the token in a log line to prove the search would find it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import traceback

import discord
import pytest

from bot.cli import main
from bot.settings import load_settings
from tests.reliability.report import REPO_ROOT

TOKEN = "MTE0NzQ4MzY0NzE4MjU0NTAyNA.GhXq2P.Zk3vQm9yTn8sLw4eRt6uYi1oPa5sDf7gHj2kLz0x"
SECRET_PART = TOKEN.rsplit(".", 1)[1]  # the first part is only the bot's id in base64; this one is the secret


def leaks(text: str) -> bool:
    return TOKEN in text or SECRET_PART in text


@pytest.fixture()
def clean_env(tmp_path, monkeypatch, repo_root):
    monkeypatch.chdir(tmp_path)
    for name in ("BOT_DISCORD_TOKEN", "DISCORD_TOKEN", "BOT_GUILD_IDS", "BOT_QA_CHANNEL_IDS", "BOT_COOLDOWN_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_CORPUS_DIR", str(repo_root / "corpus"))
    monkeypatch.setenv("BOT_INDEX_DIR", str(tmp_path / "index"))
    return monkeypatch


@pytest.fixture(autouse=True)
def restore_root_logger():
    """`serve` lets discord.py put a handler on the root logger; it must not outlive this test's captured streams."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


class Captured:
    def __init__(self) -> None:
        self.texts: list[str] = []
        self.runs = 0

    def run(self, caplog, capfd, call) -> object:
        """Run one entry point; keep its logs, output and any exception (chain and traceback) for the search."""
        self.runs += 1
        caplog.clear()
        result = None
        with caplog.at_level(logging.DEBUG):
            try:
                result = call()
            except BaseException as error:  # noqa: BLE001 — its text is searched too
                self.texts.append("".join(traceback.format_exception(error)))
                result = error
        out, err = capfd.readouterr()
        self.texts += [out, err, caplog.text] + [repr(record.args) for record in caplog.records]
        return result

    def leaked(self) -> list[str]:
        return [text[:200] for text in self.texts if leaks(text)]


async def _rejected(self, token):
    raise discord.LoginFailure("Improper token has been passed.")


async def _unreachable(self, token):
    raise OSError("Cannot connect to host discord.com:443 ssl:default [Connection refused]")


def test_the_token_never_appears_in_logs_errors_or_check_output(clean_env, caplog, capfd, tmp_path, record):
    captured = Captured()
    for variable in ("BOT_DISCORD_TOKEN", "DISCORD_TOKEN"):
        clean_env.setenv(variable, TOKEN)
        assert captured.run(caplog, capfd, lambda: main(["serve", "--check"])) == 0
        clean_env.delenv(variable)
    for line in (f"BOT_DISCORD_TOKEN={TOKEN}", f'BOT_DISCORD_TOKEN="{TOKEN}"', f"DISCORD_TOKEN='{TOKEN}'"):
        (tmp_path / ".env").write_text(line + "\n")
        assert captured.run(caplog, capfd, lambda: main(["serve", "--check"])) == 0
    settings = load_settings()
    captured.texts += [repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())]

    clean_env.setattr(discord.http.HTTPClient, "static_login", _rejected)  # Discord says no; nothing is sent
    assert captured.run(caplog, capfd, lambda: main(["serve"])) == 2
    clean_env.setattr(discord.http.HTTPClient, "static_login", _unreachable)
    assert captured.run(caplog, capfd, lambda: main(["serve"])) == 2  # network down: one line, not a traceback
    for malformed in (f"Bot {TOKEN}", f"'{TOKEN}", f"{TOKEN}\\n", TOKEN + "==", f"{TOKEN} {TOKEN}"):
        (tmp_path / ".env").write_text(f"BOT_DISCORD_TOKEN={malformed}\n")  # refused, or a line dotenv skips
        assert captured.run(caplog, capfd, lambda: main(["serve", "--check"])) in (0, 2)
    (tmp_path / ".env").write_text(f"BOT_DISCORD_TOKEN={TOKEN}\nBOT_COOLDOWN_SECONDS=-1\nBOT_GUILD_IDS=x,{TOKEN}\n")
    assert captured.run(caplog, capfd, lambda: main(["serve", "--check"])) == 2

    (tmp_path / ".env").unlink()
    env = os.environ | {"BOT_DISCORD_TOKEN": TOKEN, "BOT_CORPUS_DIR": str(REPO_ROOT / "corpus"),
                        "BOT_INDEX_DIR": str(tmp_path / "index"), "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.run([sys.executable, "-m", "bot", "serve", "--check"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    captured.texts += [process.stdout, process.stderr]
    captured.runs += 1
    assert process.returncode == 0, process.stderr
    plan = json.loads(process.stdout)

    control = Captured()  # the search must find a token that is there
    control.run(caplog, capfd, lambda: logging.getLogger("discord.client").info("logging in with %s", TOKEN))
    record("secrets", {
        "entry points run with the token set (check, login refused, network down, malformed, bad setting, "
        "subprocess)": captured.runs,
        "texts searched (logs at DEBUG, stdout, stderr, tracebacks, settings reprs)": len(captured.texts),
        "texts containing the token or its secret part": len(captured.leaked()),
        "control: a planted token is found": bool(control.leaked()),
    })
    assert control.leaked(), "the capture does not see logs: this test could not fail"
    assert plan["token"] == "set" and process.returncode == 0
    assert not captured.leaked(), captured.leaked()
