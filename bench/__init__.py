"""Measurements of the assistant itself: ``python -m bench.perf`` (speed, memory, cold start).

The accuracy benchmarks on external data (RealTime QA, RGB) live in ``eval/`` and run as
``assistant bench realtimeqa|rgb``; ``assistant bench perf`` runs ``bench.perf``.
"""
