"""mailcheck: recognise a mail-client error, walk its decision tree, say what to do and whom to call."""

__version__ = "0.1.0"
