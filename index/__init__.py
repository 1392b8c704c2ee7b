"""The write path: read, clean, chunk, embed and store news articles."""
