"""The version of ganlens (a leaf: imports nothing)."""

__version__ = "0.1.0"
