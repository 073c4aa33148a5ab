"""Deployments: the blueprint `bp` is in views.py; the factory registers it."""
