"""hallq: software for a government service hall."""
