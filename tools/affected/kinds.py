"""The one place that maps a Bazel rule (class, tags, name) to what CI does with it: test, build, image, push.

The image rules (bazel/oci/) are macros written elsewhere in this repo; they are recognised
generically, by tag or rule class, so this file is the only thing to change if they are named
differently.
"""

TEST = "test"
BUILD = "build"
IMAGE = "image"
PUSH = "push"
ALL = "all"
KINDS = (TEST, BUILD, IMAGE, PUSH, ALL)

# Tags an image macro puts on its targets; rule classes containing these names count too.
IMAGE_TAG = "oci_image"
PUSH_TAG = "oci_push"


def categories(label: str, rule_class: str, tags: list[str] | tuple[str, ...]) -> set[str]:
    """The CI kinds a rule target belongs to.

    Args:
        label: the target's label, e.g. ``//services/api:push``.
        rule_class: the rule's class, e.g. ``py_test``.
        tags: the rule's ``tags`` attribute.

    Returns:
        A subset of {test, build, image, push}. Tests are rules whose class ends in ``_test``
        (Bazel requires that of test rules) or ``test_suite``; everything else is ``build``.
    """
    found: set[str] = set()
    if rule_class.endswith("_test") or rule_class == "test_suite":
        found.add(TEST)
    else:
        found.add(BUILD)
    if (IMAGE_TAG in tags or IMAGE_TAG in rule_class) and TEST not in found:
        found.add(IMAGE)
    if PUSH_TAG in tags or PUSH_TAG in rule_class or label.endswith(":push"):
        found.add(PUSH)
        found.discard(IMAGE)
    return found


def is_manual(tags: list[str] | tuple[str, ...]) -> bool:
    """Whether Bazel leaves the target out of wildcard builds and tests (``tags = ["manual"]``)."""
    return "manual" in tags


def matches(kind: str, cats: set[str]) -> bool:
    """Whether a target with categories ``cats`` is selected by ``--kind kind``."""
    return kind == ALL or kind in cats
