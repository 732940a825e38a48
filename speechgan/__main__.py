"""``python -m speechgan`` (what ``torchrun -m speechgan`` runs)."""

from .cli import run

run()
