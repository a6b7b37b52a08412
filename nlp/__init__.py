"""Call understanding: reasons, script points, competitors, leads, sentiment, PII (issue 3)."""
