"""Embedding fanned out over a Ray cluster (``assistant index PATHS --ray auto|ADDRESS``).

Only the embedding leaves the process. Reading, cleaning and chunking stay in the indexing run,
and so does everything that keeps the store whole: the single writer holds the lock, the
manifest, the pending/done protocol and the identical-text cache. :class:`RayEmbedder` is an
``Embedder`` like the in-process ones: the run hands it each batch's texts that the cache lacks
and gets their vectors back in order. Inside, a Ray Data ``map_batches`` runs over an actor
pool, each actor with one int8 ONNX model loaded once.

A worker that dies is replaced and its batches retried by Ray Data; if the embedding fails
for good, the run stops before that batch is written, so the store holds only finished
articles (and what the next run repairs). Ray is an optional extra: ``pip install -e ".[scale]"``.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.kernel.errors import AssistantError, MissingExtraError
from assistant.kernel.settings import Settings
from assistant.storage.embedding import DIMENSION, MODEL_NAME, Progress

RAY_BATCH = 64  # texts per actor call: enough to keep a worker busy, little to redo on a retry
INSTALL = 'pip install -e ".[scale]"'


def require_ray() -> None:
    """Fail in one line, naming the install command, when the Ray extra is missing."""
    if importlib.util.find_spec("ray") is None:
        raise MissingExtraError(f"indexing with --ray needs Ray (ray[data] 2.60): {INSTALL}")


class _EmbedActor:
    """One model per actor, loaded when Ray starts the actor."""

    def __init__(self, max_seq_length: int, threads: int) -> None:
        from assistant.storage.embedding import OnnxEmbedder

        self.model = OnnxEmbedder(max_seq_length=max_seq_length, threads=threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"row": batch["row"], "vector": self.model.embed(list(batch["text"]))}


class RayEmbedder:
    """The ONNX embedder on ``settings.ray_workers`` Ray actors (0: one per cluster CPU)."""

    dimension = DIMENSION

    def __init__(self, settings: Settings) -> None:
        require_ray()
        import ray

        address = settings.ray_address
        self._connected = False
        if not ray.is_initialized():
            try:
                ray.init(address=address, log_to_driver=False, include_dashboard=False,
                         logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise AssistantError(
                    f"no Ray cluster at {address!r} ({str(e).splitlines()[0]}) — start one with "
                    "`ray start --head` and pass its host:port (or 'auto' on its machine); a "
                    "cluster with token authentication also needs RAY_AUTH_TOKEN. Or leave out "
                    "--ray to embed in this process") from e
            self._connected = True
        _quiet(ray)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = settings.ray_workers or max(1, cpus)
        # each actor reserves one CPU; its model may use that actor's share of the cluster's cores
        self.threads = max(1, cpus // self.workers)
        self.max_seq_length = settings.max_seq_length
        self.name = f"{MODEL_NAME} (onnx int8, {self.workers} Ray actor(s))"

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSION), np.float32)
        import ray.data

        blocks = min(len(texts), max(self.workers, min(-(-len(texts) // RAY_BATCH), 200)))
        rows = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)],
                                   override_num_blocks=blocks)
        vectors = rows.map_batches(
            _EmbedActor, batch_size=RAY_BATCH, concurrency=self.workers, num_cpus=1,
            fn_constructor_kwargs={"max_seq_length": self.max_seq_length, "threads": self.threads},
            batch_format="numpy")
        out = np.zeros((len(texts), DIMENSION), np.float32)
        done = np.zeros(len(texts), bool)
        for batch in vectors.iter_batches(batch_size=None, batch_format="numpy"):
            out[batch["row"]] = batch["vector"]
            done[batch["row"]] = True
            if progress:
                progress(len(batch["row"]))
        if not done.all():  # never written half: the caller stops before this batch is stored
            raise AssistantError(f"the Ray cluster returned {int(done.sum())} of {len(texts)} "
                                 "vectors — run the same command again; the store repairs itself")
        return out

    def close(self) -> None:
        """Disconnect from the cluster if this embedder connected (the cluster keeps running)."""
        if self._connected:
            import ray

            ray.shutdown()
            self._connected = False


def _quiet(ray: Any) -> None:
    # a terminal shows the run's own progress bars; Ray Data's would interleave with them
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
