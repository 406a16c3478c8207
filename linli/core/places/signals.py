"""Signals the places app sends."""

from django.dispatch import Signal

# Sent inside the boundary import's transaction when an area has moved to another parent, after its
# own subtree (areas, compounds, buildings) has its new path: ``area`` (saved, with its new parent and
# path), ``old_path`` and ``new_path``. Apps that copy an area's path or ancestors onto their own rows
# (households and persons, appeals) rewrite them in a receiver, so that jurisdiction follows the move.
area_moved = Signal()
