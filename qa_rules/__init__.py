"""Quality inspection against each centre's rule book (issue 4)."""
