"""The learned support judge, as users meet it (and, for both shipped models, the files
and a query path without torch): the packaged int8 ONNX model, loaded
offline without torch, judging claims through ``Assistant.supports`` and everywhere the
``support_judge`` setting reaches (cited copies, the eval's citation metrics).

The claims here are new sentences about a made-up article (not the calibration pairs, not
the seeds): each unsupported one changes one fact of a supported one, of the kinds the
word rules let through: an added clause, which the shipped model rejects (and the rules too,
since their added-words check), and an antonym, swapped roles and a reversed comparison, which
it misses (kept as strict xfails).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant, Support
from assistant.check.learned_judge import LearnedJudge, windows
from assistant.kernel.settings import Settings
from assistant.models import MODELS

ROOT = Path(__file__).resolve().parents[1]
PASSAGE = (
    "The city council of Kestrel Harbor voted 7 to 2 on Tuesday to close the old swing bridge "
    "in March. Mayor Ana Ortiz said repairs would cost $4.5 million. Ridership on the harbor "
    "ferry overtook bus ridership last year, the transit authority said.")
SUPPORTED = [
    "The Kestrel Harbor council voted to close the old swing bridge.",
    "Mayor Ana Ortiz said repairs would cost $4.5 million.",
    "Ferry ridership overtook bus ridership last year, according to the transit authority.",
]
# the first two facts in other words: the shipped model drops it (its known weakness,
# paraphrases), the rules keep it
REWORDED = "The old swing bridge will close in March after a 7-2 council vote on Tuesday."
UNSUPPORTED = [
    "Mayor Ana Ortiz said repairs would cost $4.5 million, paid for by a new toll.",  # added
]
# Written with the ones above, before the first model was trained; the shipped one misses them
# (model card: swapped roles and reversed comparisons are its weakest kinds; v1 rejected the
# antonym, v2, better on every held-out set of pairs, accepts it). Strict: a model that gets them
# right must move them up.
KNOWN_MISSES = [
    "The Kestrel Harbor council voted to reopen the old swing bridge.",  # antonym
    "Bus ridership overtook ferry ridership last year, the transit authority said.",  # reversed
    "The council voted 2 to 7 on Tuesday to close the old swing bridge in March.",  # swapped
]


@pytest.fixture(scope="module")
def judge() -> LearnedJudge:
    return LearnedJudge()


@pytest.mark.parametrize("name", ["judge", "reranker"])
def test_model_files_are_packaged_small_and_documented(name: str) -> None:
    folder = MODELS / name
    assert (folder / "model.onnx").stat().st_size <= 30 * 2**20
    for file in ("MODEL_CARD.md", "train_metrics.json"):
        assert (folder / file).exists(), file


def test_the_models_read_with_the_embedding_models_tokenizer_kept_once(tmp_path: Path) -> None:
    """One tokenizer for every shipped model: the packaged all-MiniLM-L6-v2's they were
    fine-tuned from; a model folder of one's own may bring its own."""
    from assistant.models.cross_encoder import tokenizer_file
    from assistant.storage.embedding import model_dir

    assert sorted(p.relative_to(MODELS).as_posix() for p in MODELS.rglob("tokenizer.json")) == []
    assert tokenizer_file(MODELS / "reranker") == model_dir() / "tokenizer.json"
    (tmp_path / "tokenizer.json").write_text("{}")
    assert tokenizer_file(tmp_path) == tmp_path / "tokenizer.json"


def test_judge_threshold_was_chosen_on_rgb() -> None:
    calibration = json.loads((MODELS / "judge" / "calibration.json").read_text())
    assert 0.0 < calibration["threshold"] < 1.0
    assert "RGB" in calibration["chosen_on"]


@pytest.mark.parametrize("claim", SUPPORTED)
def test_supported_claims_are_kept(judge: LearnedJudge, claim: str) -> None:
    verdict = judge.judge([PASSAGE], claim)
    assert verdict.supported, verdict


@pytest.mark.parametrize("claim", UNSUPPORTED)
def test_claims_that_change_a_fact_are_rejected(judge: LearnedJudge, claim: str) -> None:
    verdict = judge.judge([PASSAGE], claim)
    assert not verdict.supported, verdict


@pytest.mark.xfail(strict=True, reason="known limit of the shipped learned judge (MODEL_CARD.md)")
@pytest.mark.parametrize("claim", KNOWN_MISSES)
def test_known_misses_antonym_swapped_roles_reversed_comparison(judge: LearnedJudge, claim: str) -> None:
    assert not judge.judge([PASSAGE], claim).supported


def test_a_number_the_passage_states_differently_is_vetoed(judge: LearnedJudge) -> None:
    verdict = judge.judge([PASSAGE], "Mayor Ana Ortiz said repairs would cost $5.4 million.")
    assert not verdict.supported and verdict.mismatches


def test_long_passages_are_read_in_windows(judge: LearnedJudge) -> None:
    filler = " ".join(f"Council member {i} spoke about the parking plan for ten minutes." for i in range(12))
    long_passage = f"{filler} {PASSAGE}"
    assert len(windows(long_passage)) > 1
    assert judge.judge([long_passage], SUPPORTED[1]).supported


def test_assistant_supports_uses_the_configured_judge(make_assistant: Any) -> None:
    """The judges part on a rewording: the shipped model drops it, the rules keep it. Both
    reject the added clause (the rules since their added-words check)."""
    learned = make_assistant(support_judge="learned")
    rules = make_assistant(support_judge="rules")
    verdict = learned.supports(REWORDED, [PASSAGE])
    assert isinstance(verdict, Support) and not verdict.supported
    assert rules.supports(REWORDED, [PASSAGE]).supported
    assert learned.supports(SUPPORTED[0], PASSAGE).supported
    assert not learned.supports(UNSUPPORTED[0], [PASSAGE]).supported
    assert not rules.supports(UNSUPPORTED[0], [PASSAGE]).supported


@pytest.mark.parametrize("use", [
    "from assistant.check.learned_judge import LearnedJudge\n"
    "LearnedJudge().judge(['A met B on Monday.'], 'A met B.')",
    "from assistant.models import LearnedReranker\n"
    "LearnedReranker().score('Who met B?', ['A met B.'])",
], ids=["judge", "reranker"])
def test_query_path_loads_the_models_without_torch(use: str) -> None:
    code = f"import sys; {use}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_a_missing_model_says_how_to_get_it(tmp_path: Path) -> None:
    from assistant.kernel.errors import MissingExtraError

    a = Assistant(settings=Settings(store_dir=tmp_path, support_judge="learned",
                                    judge_model=tmp_path / "nowhere"))
    with pytest.raises(MissingExtraError, match="make train") as caught:
        a.supports("A met B.", ["A met B on Monday."])
    assert "ASSISTANT_SUPPORT_JUDGE=rules" in str(caught.value)
