"""Speech stage: recordings in, timed speaker-labelled transcripts and acoustic features out."""
