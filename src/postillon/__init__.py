"""postillon: an email-sending service on its own outbound MTA."""

__version__ = "0.1.0"
