"""Checking claims: the support judges (rules and learned), the fact extractor they compare with."""
