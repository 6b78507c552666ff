"""Hostile questions: every one gets a clear reply or a clear refusal, through every door, and nothing pings.

The doors are the Discord cog's /ask (and its options), /visits, /quote and autocomplete, channel messages that
mention the bot, and the command line's --batch (the console is a trusted local terminal over the same handlers). A *crash* is any exception other
than the one-line QueryError refusal, or a reply that is the generic "something went wrong" failure. What is
sent to Discord is checked with the cog tests' own `assert_safe`: mentions switched off and defused in the text,
every embed and message limit held.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from argparse import Namespace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.answering import MAX_QUERY_CHARS
from bot.cli import Cli
from bot.feedback import FeedbackStore
from bot.handlers import Handlers
from tests.bot.test_discord_cog import BOT_ID, assert_safe, embed_text, fake_interaction, fake_message, make_cog
from tests.reliability.report import by_scale

LONG = "When is the next monitoring visit and what will it look at? "
HOSTILE: dict[str, str] = {
    "empty": "",
    "whitespace": " \t\n\r\u3000\u00a0\u2028 ",
    "control characters only": "\x00\x01\x07\x08\x1b\x7f\x9b",
    "control characters inside": "When is the next\x00 monitoring\x1b[2J visit?\r\n\x07",
    "ANSI escapes": "\x1b[31mWhen\x1b[0m is the next \x1b]8;;https://evil.example\x07monitoring visit\x1b]8;;\x07?",
    "100,000 characters": (LONG * (100_000 // len(LONG) + 1))[:100_000],
    "100,000 characters, no spaces": "x" * 100_000,
    f"exactly {MAX_QUERY_CHARS} characters": ("fostering " * 200)[:MAX_QUERY_CHARS],
    f"{MAX_QUERY_CHARS + 1} characters": ("fostering " * 200)[: MAX_QUERY_CHARS + 1] + "z",
    "one word of 1,000 letters": "Ofsted" * 166 + "abcd",
    "emoji": "👩‍👧‍👦 When is the next Ofsted inspection? 🏳️‍🌈🔥",
    "emoji only": "🔥🔥🔥💥",
    "right-to-left Arabic": "متى زيارة المراقبة القادمة من أوفستد؟",
    "right-to-left Hebrew with Latin": "מתי הביקור הבא של Ofsted?",
    "right-to-left override": "When is the next \u202emonitoring visit\u202c? \u2067isolate\u2069",
    "zero-width characters": "When\u200b is\u200d the\ufeff next\u2060 visit?\u200e",
    "combining marks (zalgo)": "W" + "\u0301\u0336\u0358" * 300 + "hen is the next visit?",
    "lone surrogates": "When is the next visit? \ud800 \udfff",
    "non-BMP letters": "𝕎𝕙𝕖𝕟 𝕚𝕤 𝕥𝕙𝕖 𝕟𝕖𝕩𝕥 𝕧𝕚𝕤𝕚𝕥?",
    "full-width letters": "Ｗｈｅｎ ｉｓ ｔｈｅ ｎｅｘｔ ｖｉｓｉｔ？",
    "Discord markdown": "**When** is the _next_ `visit`? ||spoiler|| > quote ```py\ncode``` [link](https://evil.example) # H",
    "masked link and URL": "[When is the next visit?](https://evil.example/phish) <https://evil.example>",
    "@everyone and @here": "@everyone @here when is the next monitoring visit?",
    "user, role and channel mentions": "<@123456789012345678> <@!123> <@&456789012345678901> <#123> next visit?",
    "the bot's own mention": f"<@{BOT_ID}> <@!{BOT_ID}> when is the next visit?",
    "mention lookalikes": "@\u200beveryone ＠everyone <@\u200b123> @ everyone <@&> <@!>",
    "slash command text": "/reindex",
    "SQL injection": "'; DROP TABLE chunks; --",
    "SQL tautology": "%' OR '1'='1' -- _",
    "SQL union": "x' UNION SELECT text FROM documents WHERE '1'='1",
    "FAISS-query lookalike": "[0.1, 0.2, NaN, inf, -inf] k=100000 nprobe=-1 ids=-1",
    "numbers NaN and infinity": "nan inf -inf 1e309 -0 9223372036854775808",
    "999 nines": "9" * 999,
    "regex and format strings": ".*(a+)+$ [[:alpha:]] \\ (?<x> {0} %s %n {__class__} ${jndi:ldap://x}",
    "HTML and script": "<script>alert(1)</script><img src=x onerror=alert(1)> &lt;b&gt;",
    "JSON": '{"id": 1, "query": "when is the next visit?"}',
    "path traversal": "../../../../etc/passwd\\..\\boot.ini",
    "tokenizer specials": "[CLS] [SEP] [MASK] [PAD] [UNK] ##ing </s> <|endoftext|>",
    "line and paragraph separators": "When\u2028is\u2029the next\x85visit?",
    "null bytes between words": "When\x00is\x00the\x00next\x00visit?",
}
OPTIONS = [  # (council, since, type) values a user can type into /ask's options
    ("'; DROP TABLE documents; --", None, None), ("@everyone", None, None), ("\ud800", None, None),
    (None, "2024-13-45", None), (None, "0000-00-00", None), (None, "9999-12-31", None), (None, "@everyone", None),
    (None, "<@123>", None), (None, "\x00", None), (None, None, "'; DROP"), (None, None, "@everyone"),
]
QUOTE_IDS = ["", " ", "'; DROP TABLE chunks; --", "%", "_", "____________", "ffffffffffff", "../etc/passwd",
             "\ud800", "\x00", "x" * 10_000, "@everyone", "<@123>", "-1", "NaN"]


class Outcomes:
    """Counts per door; a crash or a ping is kept with what caused it."""

    def __init__(self) -> None:
        self.tried = 0
        self.answered = 0
        self.refused = 0
        self.crashes: list[str] = []
        self.pings: list[str] = []

    def judge(self, label: str, text: str, kwargs: dict | None = None) -> None:
        """One reply's text (and, for Discord, what would be sent)."""
        self.tried += 1
        if kwargs is not None:
            try:
                assert_safe(kwargs)
                assert not re.search(r"@(everyone|here)|<@", embed_text(kwargs)), "a live mention in the text"
            except AssertionError as error:
                self.pings.append(f"{label}: {error}")
        if "something went wrong" in text or "Traceback" in text:
            self.crashes.append(f"{label}: {text[:200]!r}")
        elif text.lstrip().startswith("Sorry:") or text.lstrip().startswith("error:"):
            self.refused += 1
        elif text.strip():
            self.answered += 1
        else:
            self.crashes.append(f"{label}: empty reply")


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def handlers(seed_services, tmp_path_factory) -> Handlers:
    return Handlers(seed_services, FeedbackStore(tmp_path_factory.mktemp("hostile-q") / "feedback.sqlite"))


def test_hostile_questions_get_a_reply_or_a_refusal_through_every_door(seed_services, handlers, tmp_path, record):
    outcomes = {door: Outcomes() for door in ("/ask", "channel", "cli --batch")}
    started = time.perf_counter()
    cog = make_cog(seed_services, tmp_path)
    for label, question in HOSTILE.items():
        interaction = fake_interaction(user_id=hash(label) % 10**9)
        run(cog.ask.callback(cog, interaction, question=question))
        kwargs = interaction.followup.send.await_args.kwargs
        outcomes["/ask"].judge(label, embed_text(kwargs), kwargs)
        interaction.response.defer.assert_awaited_once()

        message = fake_message(f"<@{BOT_ID}> {question}", mentions_bot=True)
        run(cog.on_message(message))
        for sender in (message.reply, message.channel.send, message.create_thread.return_value.send):
            if sender.await_count:
                outcomes["channel"].judge(label, embed_text(sender.await_args.kwargs), sender.await_args.kwargs)
        if message.create_thread.await_count:
            name = message.create_thread.await_args.kwargs["name"]
            assert 0 < len(name) <= 100, label

    lines = "".join(json.dumps({"id": label, "query": q}) + "\n" for label, q in HOSTILE.items())
    lines += "not json\n[1, 2]\n{\"query\": 5}\n{\"id\": \"\\ud800\", \"query\": \"\\ud800\\udfff\"}\n"
    out, err = io.StringIO(), io.StringIO()
    status = Cli(seed_services, out=out, err=err, stdin=io.StringIO(lines)).ask(
        Namespace(batch=True, text=None, json=True, council=None, doc_type=None, since=None, until=None, command="ask"))
    assert status == 0
    for line in out.getvalue().splitlines():
        payload = json.loads(line)
        text = f"error: {payload['error']}" if "error" in payload else payload["answer"]
        outcomes["cli --batch"].judge(str(payload.get("id")), text)

    record("hostile_questions", {
        "hostile questions": len(HOSTILE),
        "doors (/ask, a message mentioning the bot, CLI --batch)": 3,
        "replies checked": sum(o.tried for o in outcomes.values()),
        "answered (found or 'not covered')": sum(o.answered for o in outcomes.values()),
        "refused with a one-line reason": sum(o.refused for o in outcomes.values()),
        "crashes": sum(len(o.crashes) for o in outcomes.values()),
        "messages that could ping": sum(len(o.pings) for o in outcomes.values()),
        "time for the fixed set (s)": round(time.perf_counter() - started, 1),
    })
    problems = [p for o in outcomes.values() for p in o.crashes + o.pings]
    assert not problems, problems
    assert outcomes["/ask"].refused >= 4 and outcomes["/ask"].answered >= 20  # both outcomes are really reached


def test_hostile_options_quote_ids_and_autocomplete(seed_services, handlers, tmp_path, record):
    outcomes = Outcomes()
    cog = make_cog(seed_services, tmp_path)
    for council, since, doc_type in OPTIONS:
        label = f"/ask council={council!r} since={since!r} type={doc_type!r}"
        interaction = fake_interaction()
        run(cog.ask.callback(cog, interaction, question="When is the next monitoring visit?", council=council,
                             since=since, doc_type=doc_type))
        kwargs = interaction.followup.send.await_args.kwargs
        outcomes.judge(label, embed_text(kwargs), kwargs)
        visits = fake_interaction()
        run(cog.visits.callback(cog, visits, as_of=since, council=council))
        kwargs = visits.followup.send.await_args.kwargs
        outcomes.judge(f"/visits as_of={since!r} council={council!r}", embed_text(kwargs), kwargs)
    for chunk_id in QUOTE_IDS:
        interaction = fake_interaction()
        run(cog.quote.callback(cog, interaction, chunk_id=chunk_id, context=3))
        kwargs = interaction.followup.send.await_args.kwargs
        outcomes.judge(f"/quote {chunk_id[:40]!r}", embed_text(kwargs), kwargs)
    for typed in QUOTE_IDS + list(HOSTILE.values())[:12]:
        for source in (handlers.quote_choices, handlers.council_choices):
            try:
                choices = source(typed)
                assert len(choices) <= 25 and all(0 < len(c.name) and len(c.value) for c in choices)
                outcomes.judge(f"{source.__name__} {typed[:30]!r}", "choices")
            except Exception as error:  # noqa: BLE001
                outcomes.crashes.append(f"{source.__name__} {typed[:30]!r}: {type(error).__name__}: {error}")
    record("hostile_questions", {
        "hostile options, /quote ids and autocomplete inputs": outcomes.tried,
        "option, /quote and autocomplete crashes": len(outcomes.crashes),
        "option and /quote messages that could ping": len(outcomes.pings),
    })
    assert not outcomes.crashes and not outcomes.pings, outcomes.crashes + outcomes.pings
    assert outcomes.refused >= 10


def test_generated_questions_never_crash_or_ping(seed_services, tmp_path, scale, record):
    """Arbitrary text from every Unicode category, surrogates included, mixed with mention and markdown syntax."""
    cog = make_cog(seed_services, tmp_path)
    outcomes = Outcomes()
    syntax = st.sampled_from(["@everyone", "@here", "<@1>", "<@&2>", "<#3>", "**", "__", "||", "`", "```", "> ",
                              "[x](https://e.example)", "\n", "visit", "Ofsted", "monitoring", "next", "'", "%", ";",
                              "\ud800", "\udfff", "\x00", "\u202e"])
    questions = st.lists(st.one_of(st.text(st.characters(codec=None), max_size=40), syntax), max_size=30).map("".join)

    @settings(max_examples=by_scale(120, 2000), deadline=None, derandomize=scale == "normal", database=None,
              suppress_health_check=list(HealthCheck))
    @given(questions)
    def one(question):
        interaction = fake_interaction()
        run(cog.ask.callback(cog, interaction, question=question))
        kwargs = interaction.followup.send.await_args.kwargs
        outcomes.judge(repr(question[:60]), embed_text(kwargs), kwargs)

    started = time.perf_counter()
    one()
    record("hostile_questions", {
        "generated questions (hypothesis)": outcomes.tried,
        "generated: answered / refused": f"{outcomes.answered} / {outcomes.refused}",
        "generated: crashes": len(outcomes.crashes),
        "generated: messages that could ping": len(outcomes.pings),
        "generated: time (s)": round(time.perf_counter() - started, 1),
    })
    assert not outcomes.crashes and not outcomes.pings, (outcomes.crashes + outcomes.pings)[:10]
