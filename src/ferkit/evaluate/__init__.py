"""Evaluation on the official splits: metrics, TTA, calibration, reports."""
