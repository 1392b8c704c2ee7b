"""Measurements of the assistant itself: ``python -m bench.perf`` (speed, memory, cold start),
``bench.chunking_table``, ``bench.cluster_scale``, ``bench.ui_load``, ``bench.calibrate_support``.

The accuracy benchmarks on external data (RealTime QA, RGB) live in ``eval/``; ``bench.suites``
routes ``assistant bench realtimeqa|rgb|perf|chunking`` to the module that runs each.
"""
