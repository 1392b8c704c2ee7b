"""Storage, shared by the write path (``index/``) and the read path (``assistant.retrieve``):
the manifest (SQLite), the vectors (Chroma), the keyword index (BM25), the embedders and the
store's generations. It imports only the kernel.
"""
