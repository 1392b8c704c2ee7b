"""The reranker's span task (``train.span``) points where the answer is: the tokens it is
taught to mark in a positive spell the correct choice, a negative points at [CLS], and a
positive whose choice cannot be found teaches no span at all. Read with the packaged
embedding model's tokenizer, the one the reranker is trained and run with."""

from __future__ import annotations

import pytest
import torch

from train import span

QUESTION = "Maia Sandu was elected to a second term as president of which country?"


@pytest.fixture(scope="module")
def tok():
    from transformers import AutoTokenizer

    from assistant.storage.embedding import model_dir

    return AutoTokenizer.from_pretrained(str(model_dir()))


@pytest.mark.parametrize(("text", "choice", "found"), [
    ("Voters in Moldova re-elected Sandu on Sunday.", "Moldova", "Moldova"),
    ("The Buffalo  Bills won 31-10.", "Buffalo Bills", "Buffalo  Bills"),
    ("She thanked sesame seeds growers.", "Sesame seeds", "sesame seeds"),
    # not the whole choice: its longest word the question lacks, as written
    ("Moldovan President Maia Sandu won.", "Moldova", "Moldovan"),
    ("The mall reopened after the storm.", "Small town", None),  # "small" is not in "mall"
])
def test_the_choice_is_found_as_whole_words(text: str, choice: str, found: str | None) -> None:
    got = span.char_span(text, choice, QUESTION)
    assert (text[got[0]:got[1]] if got else None) == found


def test_targets_mark_the_choice_in_positives_and_cls_in_negatives(tok) -> None:
    rows = [(QUESTION, "Voters in Moldova re-elected President Maia Sandu on Sunday.", 1.0, "sentence:pos",
             "Moldova"),
            (QUESTION, "Sandu campaigned on joining the European Union.", 0.0, "sentence:topical",
             "Moldova"),
            (QUESTION, "The vote was close, observers said.", 1.0, "sentence:evidence", "Moldova")]
    enc = tok([r[0] for r in rows], [r[1] for r in rows], padding=True, return_tensors="pt",
              return_offsets_mapping=True)
    start, end, allowed = span.targets(enc, rows)
    marked = tok.decode(enc["input_ids"][0, start[0]:end[0] + 1])
    assert marked == "moldova"
    assert (start[1], end[1]) == (span.NO_ANSWER, span.NO_ANSWER)
    assert (start[2], end[2]) == (span.IGNORE, span.IGNORE)  # a positive without the choice
    # a span may point at [CLS] and the text, never at the question
    question_tokens = [t for t, s in enumerate(enc.sequence_ids(0)) if s == 0]
    assert allowed[0, 0] and not allowed[0, question_tokens].any()


def test_the_span_loss_falls_when_the_head_points_at_the_target() -> None:
    allowed = torch.ones(1, 6, dtype=torch.bool)
    gold = torch.tensor([3])
    flat = torch.zeros(1, 6)
    pointed = flat.clone()
    pointed[0, 3] = 5.0
    assert span.loss(pointed, pointed, allowed, gold, gold) < span.loss(flat, flat, allowed, gold, gold)
    both = torch.tensor([3, span.IGNORE])  # the second row teaches nothing
    two = torch.cat([pointed, flat])
    assert torch.isclose(span.loss(two, two, allowed.repeat(2, 1), both, both),
                         span.loss(pointed, pointed, allowed, gold, gold))
