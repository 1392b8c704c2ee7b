"""Writing the answer from evidence: the answerers (extractive, LLM), their citations and the
news-specific parts (conflicts, coverage, dates)."""
