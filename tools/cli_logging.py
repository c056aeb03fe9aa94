"""Logging for the repo's command-line tools: messages go to stderr, so stdout carries only data."""

import logging
import sys


def configure(name: str, verbose: bool = False) -> logging.Logger:
    """Send logger ``name``'s records to stderr as bare messages.

    Args:
        name: the logger (one per tool, e.g. "affected", "ci").
        verbose: log DEBUG records too.

    Returns:
        The configured logger.
    """
    logger = logging.getLogger(name)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
    return logger
