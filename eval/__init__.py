"""Evaluation: hand-written question sets (JSONL), their schema and pure metric functions."""
