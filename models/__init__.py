"""Trained, versioned models and their training and evaluation (issue 3)."""
