"""The shared kernel: settings, errors, dates and the typed records every layer passes around.

It imports nothing else from the project; everything else may import it.
"""
