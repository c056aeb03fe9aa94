"""The affected tool's public API, what the CI driver and other tools use: compute the affected set and describe it."""

from tools.affected import kinds
from tools.affected.bazel import Bazel, BazelError
from tools.affected.checkout import CheckoutError
from tools.affected.compute import base_checkout, compute
from tools.affected.render import summary_markdown
from tools.affected.result import AffectedTarget, Config, Result
from tools.cli_logging import configure

LOGGER = "affected"


def configure_logging(verbose: bool = False) -> None:
    """Send the affected tool's log messages to stderr (stdout stays for data)."""
    configure(LOGGER, verbose)


__all__ = [
    "AffectedTarget",
    "Bazel",
    "BazelError",
    "CheckoutError",
    "Config",
    "Result",
    "base_checkout",
    "compute",
    "configure_logging",
    "kinds",
    "summary_markdown",
]
