"""ferkit: facial expression recognition on FER2013 / FER+, and the Best Actor game."""

__version__ = "0.1.0"
