"""Datasets: small generated sets for demos and tests."""

from .toy import flower, truth_table, xor

__all__ = ["flower", "truth_table", "xor"]
