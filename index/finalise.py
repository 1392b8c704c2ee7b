"""The end of a run: the keyword index brought up to date and the story clusters recomputed,
both from the manifest.

Three meta keys of the manifest make these steps survive a kill:
- ``finalised`` is "0" from a run's first change until the keyword index is rebuilt, so a
  run killed before that is finalised by the next one even if nothing else changed;
- ``clusters_done`` is "0" from the start of finalising until the clusters are written, so
  a run killed while clustering leaves ``finalised`` "1" and ``clusters_done`` "0": the next
  run only clusters again (the keyword index is not rebuilt);
- ``bm25_generation`` goes up with each keyword index and each clustering: processes that
  answer questions reload the keyword index and article metadata when it changes.
"""

from __future__ import annotations

from pathlib import Path

from assistant.storage import keyword
from assistant.storage.manifest import Manifest
from index import clusters
from index.writes import ProgressHook


def finish(manifest: Manifest, changed: bool, keyword_dir: Path, progress: ProgressHook | None,
           shard_chunks: int = keyword.SHARD_CHUNKS) -> keyword.Update:
    """After an incremental run: finalise when it ``changed`` the store or the index is not
    finalised (or its keyword index unusable); else only cluster if a killed run left that."""
    if changed or manifest.get_meta("bm25_generation") is None or \
            manifest.get_meta("finalised") != "1" or not keyword.usable(keyword_dir):
        return finalise(manifest, keyword_dir, progress, shard_chunks)
    if manifest.get_meta("clusters_done") == "0":
        cluster(manifest, progress)
    return keyword.Update(0, 0)


def finalise(manifest: Manifest, keyword_dir: Path, progress: ProgressHook | None,
             shard_chunks: int = keyword.SHARD_CHUNKS) -> keyword.Update:
    """Rebuild the keyword index's changed shards and mark the index ``finalised``, then
    recompute the story clusters."""
    if progress:
        progress("clustering and keyword index", 0, 0)
    manifest.set_meta("clusters_done", "0")
    done = keyword.update(keyword_dir, manifest.chunk_keys(), manifest.chunk_texts_of, shard_chunks)
    generation = int(manifest.get_meta("bm25_generation") or 0) + 1
    manifest.set_meta("bm25_generation", str(generation))
    manifest.set_meta("finalised", "1")
    cluster(manifest)  # its stage was announced above
    return done


def cluster(manifest: Manifest, progress: ProgressHook | None = None) -> None:
    """Recompute the story clusters of every finished article, then set ``clusters_done``."""
    if progress:
        progress("clustering", 0, 0)
    found = manifest.centroids()
    manifest.set_clusters(clusters.cluster(found.doc_ids, found.published, found.vectors,
                                           manifest.chunk_vectors_of))
    # readers reload article metadata (cluster ids with it) when the generation changes
    generation = int(manifest.get_meta("bm25_generation") or 0) + 1
    manifest.set_meta("bm25_generation", str(generation))
    manifest.set_meta("clusters_done", "1")
