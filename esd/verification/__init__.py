"""Proof that nothing was altered: the blueprint `bp` (/verify) is in views.py; the factory registers it."""
