"""The `/triage` command registry: every command the parser makes has one handler."""

from __future__ import annotations

from typing import get_args

from bot.core.webhook import Command, parse_command
from bot.services.webhook_commands import commands


def test_every_parsed_command_has_a_registered_handler() -> None:
    names = {kind.name for kind in get_args(Command)}
    assert names == commands.names()
    bodies = ("/triage status", "/triage link a::b", "/triage unlink a::b", "/triage wrong 1 t")
    parsed = [parse_command(body) for body in bodies]
    assert {command.name for command in parsed if command is not None} == commands.names()
