"""Permissions: /reindex only for members with Manage Server, whatever the server did to the command's defaults.

tests/bot/test_discord_cog.py already checks the command's default permissions, a member without Manage Server
refused by the cog, and the handler refusing without touching the index; this adds what they leave open: members
who hold every *other* permission (moderators, in a server whose Integrations settings opened /reindex to them),
direct messages, administrators, and the other ways in — a forged button, a message saying "/reindex".
"""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot.discord_adapter.cog import ReplyButton
from index.indexer import IndexReport
from tests.bot.test_discord_cog import BOT_ID, QA_CHANNEL, fake_interaction, fake_message, make_cog

EVERYTHING_BUT = discord.Permissions.all()
EVERYTHING_BUT.manage_guild = False
EVERYTHING_BUT.administrator = False  # Discord resolves an administrator's permissions to all of them
REFUSED = {
    "a plain member": discord.Permissions.none(),
    "a member with everyday permissions": discord.Permissions(
        view_channel=True, send_messages=True, embed_links=True, attach_files=True, read_message_history=True,
        add_reactions=True, use_application_commands=True, create_public_threads=True, send_messages_in_threads=True,
        connect=True, speak=True, change_nickname=True, create_instant_invite=True),
    "a moderator (kick, ban, timeout, manage messages)": discord.Permissions(
        kick_members=True, ban_members=True, moderate_members=True, manage_messages=True, manage_threads=True),
    "a channel manager (manage channels, roles, webhooks)": discord.Permissions(
        manage_channels=True, manage_roles=True, manage_webhooks=True, manage_expressions=True, manage_events=True),
    "every permission except Manage Server": EVERYTHING_BUT,
}
ALLOWED = {
    "Manage Server only": discord.Permissions(manage_guild=True),
    "an administrator (Discord resolves to all)": discord.Permissions.all(),
}


@pytest.fixture()
def spied(seed_services, tmp_path, monkeypatch):
    calls: list[dict] = []

    def reindex(**kwargs):
        calls.append(kwargs)
        return IndexReport(documents=5, passages=seed_services.store.size)

    monkeypatch.setattr(seed_services, "reindex", reindex)
    return make_cog(seed_services, tmp_path, answer_dms=True), calls


def reindex_as(cog, interaction) -> str:
    async def go():
        await cog.reindex.callback(cog, interaction)
        await cog.reindexing

    asyncio.run(go())
    final = interaction.edit_original_response.await_args.kwargs
    return final.get("content") or final["embed"].title


def test_reindex_is_refused_to_every_member_without_manage_server(spied, record):
    cog, calls = spied
    refused = {}
    for label, permissions in REFUSED.items():
        interaction = fake_interaction(user_id=7)
        interaction.permissions = permissions  # what Discord sends: the member's resolved permissions
        before = len(calls)
        refused[label] = "Manage Server" in reindex_as(cog, interaction) and len(calls) == before
        assert interaction.response.defer.await_args.kwargs["ephemeral"] is True
    direct = fake_interaction(user_id=7, in_guild=False)
    direct.permissions = discord.Permissions.none()  # discord.py's value outside a server
    refused["in a direct message (DMs answered)"] = "Manage Server" in reindex_as(cog, direct) and not calls
    allowed = {}
    for label, permissions in ALLOWED.items():
        interaction = fake_interaction(user_id=8)
        interaction.permissions = permissions
        allowed[label] = reindex_as(cog, interaction).startswith("Indexed")
    record("permissions", {
        "/reindex attempts without Manage Server (moderators, every other permission, DMs)": len(refused),
        "refused, index untouched": sum(refused.values()),
        "with Manage Server or as administrator: allowed": f"{sum(allowed.values())} / {len(allowed)}",
    })
    assert all(refused.values()), refused
    assert all(allowed.values()) and len(calls) == len(ALLOWED), allowed


def test_no_other_door_reaches_reindex(spied, record):
    cog, calls = spied
    handlers = cog.handlers
    template = ReplyButton.__discord_ui_compiled_template__
    forged = ["ib:reindex:", "ib:reindex:1", "ib:docs:1:reindex", "ib:passage:x\nib:reindex:1"]
    matched = [custom_id for custom_id in forged if template.fullmatch(custom_id)
               and template.fullmatch(custom_id)["action"] not in ("passage", "more", "vote", "docs")]
    handlers.press("reindex", "1", "7")  # an action no button can carry still only pages the document list
    messages = [fake_message("/reindex", channel_id=QA_CHANNEL), fake_message(f"<@{BOT_ID}> /reindex",
                                                                               mentions_bot=True)]
    for message in messages:
        message.author.id = 9
        asyncio.run(cog.on_message(message))
    record("permissions", {"other doors tried (forged button ids, an unknown button action, '/reindex' messages)":
                           len(forged) + 1 + len(messages),
                           "reindexes they started": len(calls) + len(matched)})
    assert not matched and calls == []
