"""Training of the learned judges (reranker, support verifier) from RealTime QA training weeks.

Never imported by the query path: ``make train`` runs these modules, and the query path only
loads the ONNX files they write into ``assistant/models/``.
"""
