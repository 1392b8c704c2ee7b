"""The one settings object: a misspelt setting fails loudly wherever a user can pass one.

Keywords are checked (``extra="forbid"``): ``Settings(...)``, ``Settings.replace(...)`` and the
overrides of ``Assistant(...)`` all refuse a name that is not a setting. Environment variables
are read by name, one ``ASSISTANT_<FIELD>`` per field: a bad value of a real variable fails,
but a variable whose name matches no field is never read — pydantic-settings ignores it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant import Assistant
from assistant.kernel.settings import Settings

MISSPELT = "Extra inputs are not permitted"


def test_a_misspelt_keyword_is_refused() -> None:
    with pytest.raises(ValidationError, match=MISSPELT) as caught:
        Settings(top_kk=3)  # type: ignore[call-arg]
    assert [e["loc"] for e in caught.value.errors()] == [("top_kk",)]


def test_replace_refuses_a_misspelt_field_as_the_constructor_does() -> None:
    base = Settings(top_k=5)
    with pytest.raises(ValidationError, match=MISSPELT) as caught:
        base.replace(top_kk=3)
    assert [e["loc"] for e in caught.value.errors()] == [("top_kk",)]
    assert base.replace(top_k=3).top_k == 3  # the spelt-right change goes through
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        base.replace(top_k=1000)  # and is range-checked like the constructor's


def test_an_assistant_refuses_a_misspelt_override_before_touching_the_store(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=MISSPELT) as caught:
        Assistant(store_dir=tmp_path / "store", top_kk=3)
    assert [e["loc"] for e in caught.value.errors()] == [("top_kk",)]
    assert not (tmp_path / "store").exists()


def test_a_bad_value_in_a_real_environment_variable_fails_loudly(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_TOP_K", "three")
    with pytest.raises(ValidationError, match="valid integer") as caught:
        Settings()
    assert [e["loc"] for e in caught.value.errors()] == [("top_k",)]


def test_a_misspelt_environment_variable_fails_and_names_itself(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSISTANT_TOP_K", raising=False)
    monkeypatch.setenv("ASSISTANT_TOP_KK", "3")
    with pytest.raises(ValidationError, match="ASSISTANT_TOP_KK") as caught:
        Settings()
    assert "did you mean ASSISTANT_TOP_K?" in str(caught.value)
    monkeypatch.delenv("ASSISTANT_TOP_KK")
    monkeypatch.setenv("ASSISTANT_TOP_K", "3")  # spelt right, it applies
    assert Settings().top_k == 3


def test_a_renamed_setting_names_its_new_name(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    """``verifier_model`` became ``judge_model`` (the learned support judge's folder)."""
    with pytest.raises(ValidationError, match=r"verifier_model \(renamed judge_model\)"):
        Settings(verifier_model=tmp_path)
    monkeypatch.setenv("ASSISTANT_VERIFIER_MODEL", str(tmp_path))
    with pytest.raises(ValidationError, match=r"renamed ASSISTANT_JUDGE_MODEL"):
        Settings()
    monkeypatch.delenv("ASSISTANT_VERIFIER_MODEL")
    monkeypatch.setenv("ASSISTANT_JUDGE_MODEL", str(tmp_path))
    assert Settings().judge_model == tmp_path
