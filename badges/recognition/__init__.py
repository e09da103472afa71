"""Celebrate: a school's recognition page and the weekly digest to its leaders (decision 0032)."""
