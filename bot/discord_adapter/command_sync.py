"""Registering the slash commands with Discord: only when they changed, and one line for a guild that refuses.

Syncing at every start costs a rate-limited request per guild and, globally, can take an hour to show; so the
fingerprint of what was last registered for each target (the application, and a guild or "global") is kept in a
small JSON file (BOT_DISCORD_STATE_FILE), and a target is synced again only when its commands differ. A guild that
refuses (Forbidden: the bot was not invited with the applications.commands scope, or a wrong BOT_GUILD_IDS) is
named in one log line and the other guilds still get their commands; it is tried again at the next start.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import discord
from discord import app_commands

log = logging.getLogger(__name__)


def fingerprint(tree: app_commands.CommandTree, guild: discord.abc.Snowflake | None) -> str:
    """SHA-256 of the commands as Discord would receive them for this target."""
    payload = sorted((command.to_dict(tree) for command in tree.get_commands(guild=guild)), key=lambda c: c["name"])
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def _read_state(path: Path) -> dict[str, str]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("%s cannot be read (%s); syncing every command set again", path, error)
        return {}
    return {str(key): str(value) for key, value in state.items()} if isinstance(state, dict) else {}


def _write_state(path: Path, state: dict[str, str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_suffix(".tmp")
        staged.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
        staged.replace(path)
    except OSError as error:
        log.warning("cannot record the synced commands in %s (%s); the next start syncs again", path, error)


async def sync_commands(tree: app_commands.CommandTree, guild_ids: list[int], state_file: Path) -> list[int]:
    """Sync to each guild in `guild_ids` (or globally when none) whose commands changed; returns the guilds that
    refused. Never raises for a refusal: the bot still serves the guilds that accepted."""
    state = _read_state(state_file)
    application = tree.client.application_id
    refused: list[int] = []
    for guild in [discord.Object(id=guild_id) for guild_id in guild_ids] or [None]:
        if guild is not None:
            tree.copy_global_to(guild=guild)
        target = f"guild {guild.id}" if guild is not None else "global"
        key = f"{application}:{target}"
        digest = fingerprint(tree, guild)
        if state.get(key) == digest:
            log.info("commands unchanged since the last sync (%s); not syncing", target)
            continue
        try:
            await tree.sync(guild=guild)
        except discord.Forbidden as error:
            refused.append(guild.id if guild is not None else 0)
            log.error("%s refused the slash commands (%s): invite the bot there with the applications.commands "
                      "scope, or remove it from BOT_GUILD_IDS", target, error.text or "Forbidden")
            continue
        except discord.HTTPException as error:
            refused.append(guild.id if guild is not None else 0)
            log.error("Discord did not take the slash commands for %s (HTTP %s: %s); they are tried again at the "
                      "next start", target, error.status, error.text or "no reason")
            continue
        state[key] = digest
        log.info("commands synced (%s)%s", target, "" if guild else "; global commands can take an hour to appear")
    _write_state(state_file, state)
    return refused
