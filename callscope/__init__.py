"""Callscope: offline conversation intelligence for Mandarin contact centres."""

__version__ = "0.1.0"
