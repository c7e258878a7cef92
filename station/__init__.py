"""Station: a desktop scanning station for event entry."""

__version__ = "0.1.0"
