"""``assistant bench SUITE``: the module that runs each suite.

The accuracy suites (``realtimeqa``, ``rgb``) live in ``eval/`` beside the seeds eval they
share metrics with; the measurements of the assistant itself (``perf``, ``chunking``) live
here. Only ``bench`` knows both: ``eval`` never imports ``bench``. Each suite is imported
when asked, so ``assistant --help`` does not load them.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(args: argparse.Namespace) -> int:
    """Run the suite named by ``args.suite`` (the CLI's ``bench`` arguments)."""
    if args.suite == "rgb":
        from eval.rgb import main as rgb_main

        return int(rgb_main(args))
    if args.suite == "realtimeqa":
        from eval.realtimeqa import realtimeqa

        return realtimeqa(args)
    argv = ["--data", str(args.data), "--out", str(args.out)]
    store = getattr(args, "store_dir", None)
    if args.suite == "perf":
        from bench import perf

        return perf.main(argv + (["--store-dir", str(store)] if store else []))
    if args.suite == "chunking":  # one store per setting, under --store-dir (reused next time)
        from bench import chunking_table

        work = Path(store) if store else Path(args.out) / "chunking-stores"
        return chunking_table.main([*argv, "--work", str(work)])
    raise ValueError(f"no benchmark suite {args.suite!r}")
