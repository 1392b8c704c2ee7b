"""Story clusters: articles that tell the same story (copies, rewrites, translations).

News outlets rewrite one wire story many times, so shingle overlap misses most
rewrites, and whole-article embeddings cannot tell "the same story" from "the same
topic" (every Ukraine article is close to every other). We align passages instead:
two articles are linked when at least half of the passages of one of them have a
near-paraphrase (cosine >= ``PASSAGE_SIMILARITY``) in the other, and, where both are
dated, they were published within a few days of each other. Clusters are connected
components; a cluster's id is its smallest doc id, so ids are stable while
membership is. Article centroids only prefilter candidate pairs: each article's few
nearest centroids (``NEIGHBOURS``, found with numpy in blocks), so the work grows with
the number of articles, not of pairs, and passages are fetched only for candidates.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import date

import numpy as np

# Calibrated on the seeds (003/004 are rewrites of one Reuters story and 001 covers the
# same TF1 interview; 000 and 002 are other stories on the same topic): aligned shares
# there are 1.0 and 0.67 within the story, at most 0.4 across stories.
PASSAGE_SIMILARITY = 0.80
ALIGNED_SHARE = 0.5
CENTROID_PREFILTER = 0.70
MAX_DAYS_APART = 4
# Scale: each article's candidates are its NEIGHBOURS most similar centroids (above the
# prefilter); groups of copies larger than that still join through chains of candidates.
NEIGHBOURS = 24
_BLOCK_ELEMENTS = 2**22  # centroid similarities computed per block (16 MB of float32)
FETCH_BLOCK = 512  # articles whose candidate pairs are checked per passage fetch
CACHE_BYTES = 128 * 2**20  # passages kept between blocks

Fetch = Callable[[Sequence[str]], Mapping[str, np.ndarray]]
PassageSource = Mapping[str, np.ndarray] | Fetch
_EMPTY = np.zeros((0, 1), np.float32)


def _ordinal(day: str | None) -> float:
    """Day number of an ISO date, NaN if missing or not a date (then no date limit applies)."""
    if not day:
        return float("nan")
    try:
        return float(date.fromisoformat(day).toordinal())
    except ValueError:
        return float("nan")


def aligned_share(a: np.ndarray, b: np.ndarray, similarity: float = PASSAGE_SIMILARITY) -> float:
    """Largest share of either article's passages that have a near-paraphrase in the other."""
    if len(a) == 0 or len(b) == 0:
        return 0.0
    sims = a @ b.T
    return float(max((sims.max(1) >= similarity).mean(), (sims.max(0) >= similarity).mean()))


def cluster(doc_ids: list[str], published: list[str | None], centroids: np.ndarray,
            passages: PassageSource, neighbours: int = NEIGHBOURS) -> dict[str, str]:
    """doc id -> cluster id for every article.

    ``passages`` gives the unit chunk vectors of articles: a mapping doc id -> matrix, or a
    callable that returns that mapping for the doc ids it is given (only candidates' are
    asked for, a block at a time, so a store's vectors are never all in memory at once).
    Candidates of an article are its ``neighbours`` most similar centroids at or above
    ``CENTROID_PREFILTER`` among articles close enough in date; a pair is checked when either
    article is a candidate of the other, and connected components join big groups of copies
    through chains of such pairs.
    """
    n = len(doc_ids)
    if n == 0:
        return {}
    days = np.array([_ordinal(p) for p in published], np.float64)
    # Date order, undated last: an article's candidates are then near it in this order, so
    # the passages fetched for one block mostly serve the next blocks too.
    undated = np.isnan(days)
    order = sorted(range(n), key=lambda i: (bool(undated[i]), 0.0 if undated[i] else days[i], doc_ids[i]))
    ids = [doc_ids[i] for i in order]
    unit = np.asarray(centroids, np.float32)[order]
    unit /= np.clip(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12, None)
    pairs = candidate_pairs(unit, days[order], neighbours)
    del unit
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    cache = _Passages(passages if callable(passages) else _from_mapping(passages), ids)
    starts = np.searchsorted(pairs[:, 0], np.arange(n + 1))
    with _one_blas_thread():
        for lo in range(0, n, FETCH_BLOCK):
            # pairs already joined through others are not checked (nor fetched)
            todo = {i: js for i in range(lo, min(n, lo + FETCH_BLOCK))
                    if (js := [j for j in pairs[starts[i] : starts[i + 1], 1].tolist()
                               if find(j) != find(i)])}
            cache.load(set(todo).union(*todo.values()))
            for i, js in todo.items():
                js = [j for j in js if find(j) != find(i) and len(cache[j])]
                if len(cache[i]) and js:
                    for j in _aligned(cache[i], [cache[j] for j in js], js):
                        parent[find(i)] = find(j)
    groups: dict[int, list[str]] = {}
    for i, d in enumerate(ids):
        groups.setdefault(find(i), []).append(d)
    clusters: dict[str, str] = {}
    for members in groups.values():
        clusters.update(dict.fromkeys(members, min(members)))  # min once: groups may be huge
    return clusters


def candidate_pairs(unit: np.ndarray, days: np.ndarray, neighbours: int = NEIGHBOURS) -> np.ndarray:
    """Sorted pairs (i, j), i < j, of rows of ``unit`` (unit centroids, in the order of
    ``days``: day ordinals ascending, NaN for undated last) where j is among the
    ``neighbours`` most similar to i (or i to j) at or above ``CENTROID_PREFILTER``, and the
    two are at most ``MAX_DAYS_APART`` days apart (or one is undated)."""
    n = len(unit)
    dated = int(np.count_nonzero(~np.isnan(days)))
    rows = max(1, min(n, _BLOCK_ELEMENTS // n))  # memory stays flat at any corpus size
    found = [np.zeros(0, np.int64)]
    for lo in range(0, n, rows):
        hi = min(n, lo + rows)
        if hi <= dated:  # dated rows: only columns within the date window, and undated ones
            a = int(np.searchsorted(days[:dated], days[lo] - MAX_DAYS_APART, "left"))
            b = int(np.searchsorted(days[:dated], days[hi - 1] + MAX_DAYS_APART, "right"))
            cols = np.r_[a:b, dated:n] if dated < n else np.arange(a, b)
        else:
            cols = np.arange(n)
        k = min(neighbours, len(cols) - 1)
        if k <= 0:
            continue
        sims = unit[lo:hi] @ (unit[cols[0] : cols[-1] + 1] if len(cols) == cols[-1] - cols[0] + 1
                              else unit[cols]).T
        own = np.searchsorted(cols, np.arange(lo, hi))  # every row is among the columns
        sims[np.arange(hi - lo), own] = -np.inf  # not its own neighbour
        span, mine = days[cols], days[lo:hi]  # mask only where some pair is too far apart
        span, mine = span[~np.isnan(span)], mine[~np.isnan(mine)]
        if len(span) and len(mine) and max(span.max() - mine.min(),
                                           mine.max() - span.min()) > MAX_DAYS_APART:
            with np.errstate(invalid="ignore"):  # NaN (undated) is never too far apart
                sims[np.abs(days[lo:hi, None] - days[None, cols]) > MAX_DAYS_APART] = -np.inf
        top = np.argpartition(sims, len(cols) - k, axis=1)[:, len(cols) - k :]
        keep = np.take_along_axis(sims, top, axis=1) >= CENTROID_PREFILTER
        i = np.broadcast_to(np.arange(lo, hi)[:, None], top.shape)[keep]
        j = cols[top[keep]]
        found.append(np.minimum(i, j).astype(np.int64) * n + np.maximum(i, j))
    codes = np.unique(np.concatenate(found))
    return np.stack([codes // n, codes % n], axis=1)


def _aligned(mine: np.ndarray, others: list[np.ndarray], keys: list[int]) -> list[int]:
    """The keys of ``others`` whose aligned share with ``mine`` reaches ``ALIGNED_SHARE``
    (``aligned_share`` with many articles at once: one product, reduced per article)."""
    lengths = np.array([len(o) for o in others])
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    hit = mine @ np.vstack(others).T >= PASSAGE_SIMILARITY
    mine_share = np.logical_or.reduceat(hit, offsets, axis=1).mean(0)
    their_share = np.add.reduceat(hit.any(0).astype(np.int64), offsets) / lengths
    share = np.maximum(mine_share, their_share)
    return [k for k, s in zip(keys, share.tolist(), strict=True) if s >= ALIGNED_SHARE]


class _Passages:
    """Passages of articles by position: fetched a block at a time, the least recently
    needed dropped beyond ``CACHE_BYTES``."""

    def __init__(self, fetch: Fetch, ids: list[str]) -> None:
        self.fetch, self.ids = fetch, ids
        self.held: OrderedDict[int, np.ndarray] = OrderedDict()
        self.bytes = 0

    def load(self, keys: set[int]) -> None:
        missing = sorted(keys - self.held.keys())
        if missing:
            got = self.fetch([self.ids[k] for k in missing])
            for k in missing:
                matrix = np.asarray(got.get(self.ids[k], _EMPTY), np.float32)
                self.held[k] = matrix
                self.bytes += matrix.nbytes
        for k in keys:
            self.held.move_to_end(k)
        while self.bytes > CACHE_BYTES and len(self.held) > len(keys):
            self.bytes -= self.held.popitem(last=False)[1].nbytes

    def __getitem__(self, k: int) -> np.ndarray:
        return self.held[k]


def _one_blas_thread() -> AbstractContextManager[object]:
    """One BLAS thread for the many small products of the passage checks: on a busy machine
    a second thread makes each one wait for a core (milliseconds instead of microseconds)."""
    try:
        from threadpoolctl import threadpool_limits  # installed with sentence-transformers
    except ImportError:
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _from_mapping(passages: Mapping[str, np.ndarray]) -> Fetch:
    return lambda ids: {d: passages[d] for d in ids if d in passages}
