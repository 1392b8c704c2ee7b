"""Retrieval: fuse vector and keyword search, filter by date and outlet, rerank (optional)."""
