"""Text for Discord: made safe (markdown escaped, mentions defused), clipped, and embeds cut to Discord's limits.

Every piece of text that came from a user or a source goes through ``safe`` before it is placed in a message, and
every embed goes through ``fit`` so that Discord never answers 400. The client's ``AllowedMentions.none()`` is the
second lock.
"""

from __future__ import annotations

import math
import re

import discord

from .escape import escape_markdown

CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000  # all embeds of one message together
EMBED_FIELDS_MAX = 25
ELLIPSIS = "…"
EMPTY = "\u200b"  # Discord rejects empty field names and values

SAFE_URL = re.compile(r"https?://[^\s<>()\[\]]+")
# @everyone, @here and <@id>, <@!id>, <@&id> of any length: discord.utils.escape_mentions only defuses ids of 17 to
# 20 digits, and the accounts and roles of 2015 have 15 or 16.
MENTION = re.compile(r"@(everyone|here|[!&]?\d)")
SAFE_INPUT_MAX = EMBED_TOTAL_LIMIT + 100  # characters of a text escaped at most: no message shows more


def safe(text: str) -> str:
    """Text from a user or a source, shown as written: markdown escaped, mentions defused.

    Cut to SAFE_INPUT_MAX characters first (no message shows more): a huge text is never escaped whole.
    """
    return MENTION.sub("@\u200b\\1", escape_markdown(clip(text, SAFE_INPUT_MAX)))


def clip(text: str, limit: int) -> str:
    """Text cut to at most limit characters, with an ellipsis when cut (never half an escape)."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(ELLIPSIS), 0)].rstrip()
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:  # a lone backslash would escape the ellipsis
        cut = cut[:-1]
    return cut + ELLIPSIS


def content(text: str) -> str:
    """A message's content (already made safe) within Discord's 2000 characters."""
    return clip(text, CONTENT_LIMIT)


def quote(text: str) -> str:
    """Source text as a block quote, verbatim as displayed."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in safe(text).split("\n"))


def seconds(value: float) -> int:
    """Whole seconds to wait, rounded up, at least 1."""
    return max(1, math.ceil(value))


# -- limits --------------------------------------------------------------------------------------------------------


def fit(embed: discord.Embed, total: int = EMBED_TOTAL_LIMIT) -> discord.Embed:
    """The embed cut to every Discord limit (title, description, fields, footer, author, total), in place."""
    if embed.title:
        embed.title = clip(embed.title, EMBED_TITLE_LIMIT)
    if embed.description:
        embed.description = clip(embed.description, EMBED_DESCRIPTION_LIMIT)
    if embed.footer.text:
        embed.set_footer(text=clip(embed.footer.text, EMBED_FOOTER_LIMIT), icon_url=embed.footer.icon_url)
    if embed.author.name:
        embed.set_author(name=clip(embed.author.name, EMBED_AUTHOR_LIMIT), url=embed.author.url)
    fields = [
        (clip(f.name or EMPTY, EMBED_FIELD_NAME_LIMIT), clip(f.value or EMPTY, EMBED_FIELD_VALUE_LIMIT), f.inline)
        for f in embed.fields[:EMBED_FIELDS_MAX]
    ]
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(name=name, value=value, inline=bool(inline))
    while (excess := len(embed) - total) > 0:
        description = embed.description or ""
        values = [field.value or "" for field in embed.fields]
        longest = max(range(len(values)), key=lambda i: len(values[i]), default=None)
        longest_value = values[longest] if longest is not None else ""
        if len(description) >= len(longest_value) and len(description) > excess:
            embed.description = clip(description, len(description) - excess)
        elif longest is not None and len(longest_value) > excess:
            field = embed.fields[longest]
            value = clip(longest_value, len(longest_value) - excess) or EMPTY
            embed.set_field_at(longest, name=field.name or EMPTY, value=value, inline=bool(field.inline))
        elif embed.fields:
            embed.remove_field(len(embed.fields) - 1)
        else:  # only the title and footer are left: share what remains between them, then stop
            embed.description = None
            footer = clip(embed.footer.text or "", total // 2)
            embed.set_footer(text=footer or None, icon_url=embed.footer.icon_url)
            embed.title = clip(embed.title or "", max(total - len(footer), 1)) or None
            break
    return embed


def fit_all(embeds: list[discord.Embed]) -> list[discord.Embed]:
    """Embeds that go in one message: each within its limits, together within the 6000-character total."""
    share = EMBED_TOTAL_LIMIT // max(len(embeds), 1)
    return [fit(embed, total=share) for embed in embeds]
