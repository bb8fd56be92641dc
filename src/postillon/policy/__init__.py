"""MTA-STS (RFC 8461): record and policy parsing and MX matching (pure), fetch and cache."""
