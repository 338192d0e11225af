"""Where recommendations come from: the built-in catalog (always there) and live services."""
