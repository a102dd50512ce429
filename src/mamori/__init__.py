"""mamori (守り): information-security platform for a city's IT office."""

__version__ = "0.1.0"
