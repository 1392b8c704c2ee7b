"""Training of the learned models (reranker, learned support judge) from RealTime QA training weeks.

Never imported by the query path: ``make train`` runs these modules, and the query path only
loads the ONNX files they write into ``assistant/models/``.
"""
