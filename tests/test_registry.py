"""The answerer table: one list of names for Settings, the CLI and the install check."""

from __future__ import annotations

import argparse

import pytest
from pydantic import ValidationError

from assistant.answer.registry import REGISTRY, make_answerer
from assistant.app import cli
from assistant.kernel.settings import ANSWERERS, Settings


def answerer_choices(parser: argparse.ArgumentParser, command: str) -> list[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    action = next(a for a in sub.choices[command]._actions if a.dest == "answerer")
    return list(action.choices or ())


def test_settings_the_cli_and_the_table_name_the_same_answerers() -> None:
    assert tuple(REGISTRY) == ANSWERERS
    parser = cli._parser()
    for command in ("ask", "chat", "eval"):
        assert answerer_choices(parser, command) == list(REGISTRY), command
    assert all(entry.description for entry in REGISTRY.values())


def test_an_unknown_answerer_is_refused_naming_the_ones_there_are() -> None:
    with pytest.raises(ValidationError) as e:
        Settings(answerer="gpt-5")
    assert "'gpt-5'" in str(e.value)
    assert all(name in str(e.value) for name in REGISTRY)


def test_an_unknown_answerer_from_the_environment_is_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_ANSWERER", "gpt-5")
    assert cli.main(["status"]) == 2
    out, err = capsys.readouterr()
    assert err.splitlines() == ["assistant: invalid setting — answerer: Value error, unknown answerer "
                                "'gpt-5' — use one of: extractive, llama-cpp, openai "
                                "(check ASSISTANT_* variables)"]
    assert not out


def test_the_extractive_answerer_needs_nothing_optional() -> None:
    answerer = make_answerer(Settings())
    assert answerer.name == "extractive"
    assert REGISTRY["extractive"].needs(Settings()) == ()
