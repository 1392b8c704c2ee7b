"""One article from record to chunks, and the hashes that let a run skip that work.

``clean`` and ``prepare`` are pure (no model, no store): cleaning, date resolution and
chunking of one record. Re-indexing an unchanged corpus must be cheap, so each article's
*raw hash* (the record as read, plus the ``fingerprint`` of the settings and code its chunks
derive from) is kept in the manifest: an article whose raw hash matches is skipped before
cleaning. The *content hash* of the cleaned article catches the rest: an article that
cleans to what is stored keeps its chunks and vectors.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from importlib import metadata
from pathlib import Path

from assistant.kernel import dates, text
from assistant.kernel.records import Article, Chunk, RawArticle
from assistant.kernel.settings import Settings
from assistant.storage.manifest import text_hash
from index import chunking, cleaning, titles

# The code an article's cleaned text, dates and chunks derive from (``text``: the sentence
# splitter and month names): editing any of these files changes the fingerprint, so the
# next run cleans and compares every article again.
_DERIVED_FROM = (cleaning.__file__, titles.__file__, dates.__file__, chunking.__file__, text.__file__,
                 __file__)


def clean(raw: RawArticle, settings: Settings) -> Article:
    """Clean one article and hash what its chunks depend on."""
    cleaned = cleaning.clean_article(raw)
    # the sentence splitter's data is part of what chunks derive from: an article whose
    # cleaned text is unchanged is still cut again when the abbreviations change
    signature = f"{settings.chunk_chars}/{settings.chunk_overlap_sentences}/{text.splitter_stamp()}"
    content_hash = text_hash(
        "\x1f".join([cleaned.title, cleaned.text, cleaned.source or "", raw.url or "",
                     cleaned.published or "", signature])
    )
    return Article(
        doc_id=raw.doc_id, title=cleaned.title, text=cleaned.text, source=cleaned.source,
        url=raw.url, published=cleaned.published, path=raw.path, content_hash=content_hash,
    )


def prepare(article: Article, settings: Settings) -> tuple[Article, list[Chunk]]:
    """Resolve the dates of a cleaned article and cut it into chunks."""
    dated = replace(article, dates=dates.resolve_dates(article.text, article.published))
    return dated, chunking.chunk_article(article.doc_id, article.text, settings.chunk_chars,
                                         settings.chunk_overlap_sentences)


def fingerprint(settings: Settings) -> str:
    """Hash of what, besides the article itself, its stored text and chunks depend on: the
    chunking settings, the code in ``_DERIVED_FROM``, the sentence splitter's news
    abbreviations, and the Unicode and NLTK versions."""
    try:
        punkt = metadata.version("nltk")
    except metadata.PackageNotFoundError:
        punkt = "?"
    parts = [f"{settings.chunk_chars}/{settings.chunk_overlap_sentences}",
             unicodedata.unidata_version, punkt, text.splitter_stamp()]
    for source in _DERIVED_FROM:
        try:
            parts.append(text_hash(Path(source).read_text(encoding="utf-8")) if source else "?")
        except OSError:  # not installed as plain files: the versions above must do
            parts.append("?")
    return text_hash("\x1f".join(parts))


def raw_hash(raw: RawArticle, stamp: str) -> str:
    """Hash of one article as read (every field cleaning uses) under ``stamp``, the
    ``fingerprint`` of the settings and code. Equal to the one stored for a ``done`` article:
    cleaning and chunking it again would give the stored result, so the run skips it. The
    path is left out: a moved file is unchanged."""
    fields = (stamp, raw.doc_id, raw.text, raw.title, raw.source, raw.url, raw.published,
              "html" if raw.is_html else "text")
    # length-prefixed, so no choice of field contents can make two records hash alike
    return text_hash("".join(f"{len(f)}:{f}" if f is not None else "-" for f in fields))
