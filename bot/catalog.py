"""The commands as /help lists them, read from the command tree: each command declared once, where it is defined.

A command says which part of /help it belongs to with ``extras=listed(LOOKUPS)`` (a group: on the group); its name,
description and parameters come from the command itself, so a rename or a new option shows in /help at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any, NamedTuple

import discord
from discord import app_commands

ASKING = "Asking"
LOOKUPS = "Lookups"
ADMIN = "For admins"
SECTIONS = (ASKING, LOOKUPS, ADMIN)
HELP_KEY = "help"  # the keys in a command's extras
MENU_HELP_KEY = "help_text"  # a message menu has no description of its own


class CommandHelp(NamedTuple):
    """One line of /help: how to call a command, and what it does."""

    usage: str  # "/ask question [private]"; a message menu: "Apps → Ask IOM bot"
    description: str
    section: str
    menu: bool = False  # a message menu (used on a message), not a slash command


def listed(section: str, menu_text: str | None = None) -> dict[str, Any]:
    """A command's extras that put it in a section of /help; a message menu's with what it does."""
    if section not in SECTIONS:
        raise ValueError(f"unknown /help section {section!r}; known: {', '.join(SECTIONS)}")
    return {HELP_KEY: section} if menu_text is None else {HELP_KEY: section, MENU_HELP_KEY: menu_text}


def usage(command: app_commands.Command[Any, ..., Any]) -> str:
    """ "/search query [results]": the qualified name, required parameters bare and optional ones in brackets."""
    words = [f"/{command.qualified_name}"]
    words += [p.display_name if p.required else f"[{p.display_name}]" for p in command.parameters]
    return " ".join(words)


def command_help(command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu) -> CommandHelp:
    """A command's /help line; its section from its extras, or its group's."""
    if isinstance(command, app_commands.ContextMenu):
        text = command.extras.get(MENU_HELP_KEY) or (inspect.getdoc(command.callback) or "").split("\n")[0]
        return CommandHelp(f"Apps → {command.name}", text, _section(command), menu=True)
    return CommandHelp(usage(command), command.description, _section(command))


def _section(command: Any) -> str:
    root = getattr(command, "root_parent", None) or command
    return root.extras.get(HELP_KEY) or command.extras.get(HELP_KEY) or LOOKUPS


def catalog(commands: Iterable[Any]) -> list[CommandHelp]:
    """/help's lines for commands, groups and message menus (groups walked), each once, in the order given."""
    lines: dict[str, CommandHelp] = {}
    for command in commands:
        leaves = command.walk_commands() if isinstance(command, app_commands.Group) else [command]
        for leaf in leaves:
            if not isinstance(leaf, app_commands.Group):
                line = command_help(leaf)
                lines.setdefault(line.usage, line)
    return list(lines.values())


def commands_here(tree: app_commands.CommandTree[Any], guild_id: int | None) -> list[Any]:
    """The commands a member can use where they asked: the global ones and the server's own (/kb in admin servers)."""
    found = list(tree.get_commands())
    if guild_id is not None:
        found += tree.get_commands(guild=discord.Object(id=guild_id))
    return found
