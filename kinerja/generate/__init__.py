"""Synthetic ministry landing zone (EVENTS.md v1): `generate_landing(scale, year, seed, out)`.

The steps, in the order the random draws are made (which is what makes a seed reproducible):
tree and positions, signed KKs and their lines, komplemen plans, addenda, Plt transfers,
realisation values, komplemen events (they need the predecessors' realisations), reports,
bad rows, files.
"""
from __future__ import annotations

from .landing import generate_landing

__all__ = ["generate_landing"]
