"""Discord rendering: escaping and Discord's limits, for every message the bot sends.

`fit` is the one place text is cut to a limit (after a sentence, with a hint where to read on); `render_embed`
lays a `Reply` out as one embed within every embed limit. Nothing rendered here can ping anyone.
"""

from __future__ import annotations

import re
from typing import Callable

import discord

from bot.handlers import Reply
from index.sentences import sentences

NO_PINGS = discord.AllowedMentions.none()
TITLE, DESCRIPTION, FIELD_NAME, FIELD_VALUE, FOOTER = 256, 4096, 256, 1024, 2048
MAX_FIELDS, EMBED_TOTAL, CONTENT, LABEL, THREAD_NAME, CHOICE_NAME = 25, 6000, 2000, 80, 100, 100
_SAFE_URL = re.compile(r"https?://[^\s<>]+")


def defuse_mentions(text: str) -> str:
    """@everyone, @here and <@id> forms made inert even where markdown is not rendered (footers)."""
    return discord.utils.escape_mentions(text).replace("<@", "<\u200b@")


def escape(text: str) -> str:
    """Quoted text shown as typed: markdown cannot restyle it and mentions cannot resolve."""
    return defuse_mentions(discord.utils.escape_markdown(text))


def fit(text: str, limit: int, hint: str = "", render: Callable[[str], str] = escape) -> str:
    """`text` rendered within `limit` characters: whole if it fits, else cut after a sentence (failing that a
    word, failing that a character) and ended with '…' and the hint saying where to read the rest."""
    whole = render(text)
    if len(whole) <= limit:
        return whole
    tail = f" … ({hint})" if hint else " …"
    word_ends = [match.start() for match in re.finditer(r"\s+", text)]
    for cuts in ([end for _, end in sentences(text)], word_ends, range(1, len(text))):
        cut = _longest_fitting(text, list(cuts), tail, limit, render)
        if cut is not None:
            return cut
    return render(tail.strip())[:limit]


def _longest_fitting(text: str, cuts: list[int], tail: str, limit: int, render: Callable[[str], str]) -> str | None:
    """Binary search for the longest cut whose rendering fits; rendering grows with the text it is given."""
    best, low, high = None, 0, len(cuts) - 1
    while low <= high:
        middle = (low + high) // 2
        candidate = render(text[: cuts[middle]].rstrip() + tail)
        if len(candidate) <= limit:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best


def safe_url(url: str | None) -> str | None:
    return url if url and _SAFE_URL.fullmatch(url) else None


def render_embed(reply: Reply) -> discord.Embed:
    """The reply as one embed within every embed limit. The description takes what the rest leaves of the total,
    and trailing fields are dropped only while it would get less than half its own limit."""
    embed = discord.Embed(title=fit(reply.title, TITLE) or None, url=safe_url(reply.url) if reply.title else None,
                          colour=discord.Colour.dark_teal())
    for field in reply.fields[:MAX_FIELDS]:
        url = safe_url(field.url)
        link = f"\n[Open the document](<{url}>)" if url else ""
        embed.add_field(name=fit(field.name, FIELD_NAME) or "\u200b", inline=False,
                        value=fit(field.value, FIELD_VALUE - len(link), field.cut_hint) + link or "\u200b")
    if reply.footer:
        embed.set_footer(text=fit(reply.footer, FOOTER, render=defuse_mentions))
    wanted = len(fit(reply.description, DESCRIPTION, reply.cut_hint))
    while embed.fields and EMBED_TOTAL - len(embed) < min(wanted, DESCRIPTION // 2):
        embed.remove_field(-1)
    embed.description = fit(reply.description, min(DESCRIPTION, EMBED_TOTAL - len(embed)), reply.cut_hint) or None
    return embed
