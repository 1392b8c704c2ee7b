"""The one settings object: every knob, its default and its environment variable.

Every field can be overridden with an environment variable ``ASSISTANT_<FIELD>``
(for example ``ASSISTANT_STORE_DIR=/data/news``). Unknown keyword arguments fail
loudly (``extra="forbid"``), and so does an ``ASSISTANT_*`` variable that names no field, so a
typo never silently falls back to a default.
"""

from __future__ import annotations

import os
from difflib import get_close_matches
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The names ``Settings.answerer`` accepts. The answerers themselves are rows of the table in
# assistant/answer/registry.py, a layer the kernel may not import; the registry refuses to
# load unless its table has exactly these names, so the two cannot drift apart.
ANSWERERS = ("extractive", "llama-cpp", "openai")


RENAMED = {"verifier_model": "judge_model"}  # old name -> new name: named in the error


class Settings(BaseSettings):
    """Validated configuration for indexing and answering."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", extra="forbid", frozen=True, validate_default=True
    )

    # --- where things live -------------------------------------------------
    store_dir: Path = Field(
        Path("store"),
        description="Folder holding the index (Chroma data, manifest, keyword index).",
    )

    # --- vector store ------------------------------------------------------
    chroma_host: str | None = Field(
        None,
        description="Chroma server host. Unset: embedded Chroma on disk inside store_dir.",
    )
    chroma_port: int = Field(8000, description="Chroma server port.")
    chroma_ssl: bool = Field(False, description="Use HTTPS to reach the Chroma server.")
    chroma_auth_header: SecretStr | None = Field(
        None,
        description="Optional 'Header-Name: value' sent to the Chroma server (e.g. a token).",
    )
    collection: str = Field("news", description="Chroma collection name.")

    # --- embedding ---------------------------------------------------------
    embedder: Literal["torch", "onnx"] = Field(
        "onnx",
        description="Embedding backend for all-MiniLM-L6-v2: 'onnx' (int8, onnxruntime, no torch "
        "import: starts in under a second and embeds faster on CPU, same retrieval quality — see "
        "bench/out/chunking.md) or 'torch' (sentence-transformers, fp32).",
    )
    embed_batch_size: int = Field(64, ge=1, le=4096, description="Texts per embedding batch.")
    ray_address: str | None = Field(
        None,
        description="Ray cluster that embeds during indexing (pip install -e '.[scale]'): 'auto' "
        "(the cluster `ray start` runs on this machine) or its host:port. Unset: in-process.",
    )
    ray_workers: int = Field(
        0, ge=0, le=4096,
        description="Embedding actors on the Ray cluster; 0: one per CPU of the cluster.",
    )
    max_seq_length: int = Field(
        256, ge=32, le=512, description="Model token limit; longer chunks are truncated."
    )
    keyword_shard_chunks: int = Field(
        32_768, ge=1, le=10_000_000,
        description="Passages per shard of the keyword (BM25) index: an index run rebuilds only "
        "the shards whose articles changed. Larger: fewer, bigger shards.",
    )

    # --- chunking ----------------------------------------------------------
    chunk_chars: int = Field(
        600, ge=100, le=10_000, description="Target chunk size in characters."
    )
    chunk_overlap_sentences: int = Field(
        1, ge=0, le=10, description="Sentences repeated at the start of the next chunk."
    )
    max_file_mb: float = Field(
        20.0, gt=0, description="Files larger than this are refused with a message."
    )

    # --- retrieval and answering -------------------------------------------
    top_k: int = Field(8, ge=1, le=100, description="Chunks retrieved per question.")
    candidates: int = Field(
        40, ge=1, le=1000, description="Candidates from each retriever before fusion."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    answer_sentences: int = Field(
        2, ge=1, le=3, description="Most sentences in an extractive answer."
    )
    abstain_threshold: float = Field(
        0.40,
        ge=0.0,
        le=1.0,
        description="Evidence score under which the assistant abstains "
        "(calibrated on eval/seeds.jsonl: python -m eval.calibrate).",
    )
    include_undated: bool = Field(
        False,
        description="With a date filter, also search the articles that have no publish date "
        "(a date filter leaves them out by default, and every answer says how many it left out).",
    )
    max_question_chars: int = Field(
        2000, ge=10, description="Questions longer than this are refused."
    )
    answerer: str = Field(
        "extractive",
        description=f"Who writes the answer: {', '.join(ANSWERERS)} (what each does: "
        "assistant/answer/registry.py).",
    )
    support_judge: Literal["rules", "learned"] = Field(
        "rules",
        description="Who judges whether passages support a sentence (LLM-answer verification, "
        "copies cited as backing, the eval's citation metrics, Assistant.supports): 'rules' "
        "(φ: word coverage + number/date/name agreement) or 'learned' (the trained judge in "
        "assistant/models/judge, with the rules' mismatch check as a veto).",
    )
    judge_model: Path | None = Field(
        None, description="Folder of another judge model (model.onnx; tokenizer.json if not "
        "all-MiniLM-L6-v2's).")
    reranker: Literal["off", "learned"] = Field(
        "learned",
        description="'learned': the trained cross-encoder in assistant/models/reranker scores the "
        "answer sentences (and reorders the first rerank_depth fused passages); 'off': the "
        "word rules and fusion order only.",
    )
    reranker_model: Path | None = Field(
        None, description="Folder of another reranker model (model.onnx; tokenizer.json if not "
        "all-MiniLM-L6-v2's).")
    rerank_depth: int = Field(
        0, ge=0, le=200, description="Fused passages the reranker reorders before the answer is "
        "built (0: none, it scores sentences only; 8 adds 1 point of RealTime QA choice@5 and "
        "about 50 ms a question, but no correct answers).")
    rerank_weight: float = Field(
        0.35, ge=0.0, le=1.0,
        description="Weight of the reranker's sentence probability against the rules' sentence "
        "score when the extractive answerer picks sentences (reranker on; 0.35 was the best of "
        "0-1 on RealTime QA dev, see the reranker's model card).")
    recency_weight: float = Field(
        0.15, ge=0.0, le=1.0,
        description="How much the extractive answerer prefers sentences of newer articles: "
        "taken from a sentence's score times how much less fresh its article is than the newest "
        "retrieved one (freshness 1 for the newest, half for one 90 days older; undated articles "
        "lose nothing). Not for questions naming a year or month; 0 turns it off. 0.15 was "
        "chosen on the last 8 RealTime QA training weeks, then measured on dev.")
    unsupported: Literal["remove", "flag"] = Field(
        "remove",
        description="What verification does with a generated sentence its sources "
        "do not support.",
    )

    # --- LLM answerers (optional) --------------------------------------------
    llm_model_path: Path | None = Field(
        None, description="GGUF file for 'llama-cpp'. Unset: the packaged Gemma 3 270M."
    )
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint for 'openai', e.g. http://127.0.0.1:8080/v1."
    )
    llm_model: str = Field("local", description="Model name sent to the OpenAI-compatible server.")
    llm_api_key: SecretStr | None = Field(
        None, description="API key for the OpenAI-compatible server (never logged)."
    )
    llm_max_tokens: int = Field(160, ge=8, le=4096, description="Most tokens an LLM answer uses.")
    llm_timeout: float = Field(120.0, gt=0, description="Seconds to wait for an LLM answer (and for "
                               "the local model's process to start).")

    @field_validator("answerer")
    @classmethod
    def _known_answerer(cls, name: str) -> str:
        if name not in ANSWERERS:
            raise ValueError(f"unknown answerer {name!r} — use one of: {', '.join(ANSWERERS)}")
        return name

    def replace(self, **changes: Any) -> Settings:
        """A validated copy with ``changes``: a misspelt or out-of-range field fails here as it
        does in ``Settings(...)`` (``model_copy(update=)`` would take anything)."""
        return type(self).model_validate({**self.model_dump(), **changes})

    @model_validator(mode="before")
    @classmethod
    def _no_misspelt_variables(cls, values: Any) -> Any:
        # pydantic-settings reads the variables of known fields only; a misspelt one would be
        # ignored without a word
        prefix = "ASSISTANT_"
        renamed = [f"{old} (renamed {new})" for old, new in RENAMED.items()
                   if isinstance(values, dict) and old in values]
        if renamed:
            raise ValueError(f"unknown setting(s): {', '.join(renamed)}")
        unknown = sorted(name for name in os.environ if name.upper().startswith(prefix)
                         and name[len(prefix):].lower() not in cls.model_fields)
        if unknown:
            known = [prefix + f.upper() for f in cls.model_fields]
            hints = [f"{name} (renamed {prefix}{RENAMED[old].upper()})"
                     if (old := name[len(prefix):].lower()) in RENAMED
                     else f"{name} (did you mean {close[0]}?)" if (close := get_close_matches(
                         name.upper(), known, n=1)) else name for name in unknown]
            raise ValueError(f"unknown setting(s) in the environment: {', '.join(hints)} — "
                             "README.md lists every ASSISTANT_* setting")
        return values
