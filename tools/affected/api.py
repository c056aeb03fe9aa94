"""The affected tool's public API, what the CI driver and other tools use: compute the affected set and describe it."""

from tools.affected import kinds
from tools.affected.compute import compute
from tools.affected.render import summary_markdown
from tools.affected.result import AffectedTarget, Config, Result
from tools.cli_logging import configure

LOGGER = "affected"


def configure_logging(verbose: bool = False) -> None:
    """Send the affected tool's log messages to stderr (stdout stays for data)."""
    configure(LOGGER, verbose)


__all__ = ["AffectedTarget", "Config", "Result", "compute", "configure_logging", "kinds", "summary_markdown"]
