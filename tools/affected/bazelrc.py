"""Whether a .bazelrc edit can change what Bazel builds or tests, or only how it reports, caches and checks."""

import shlex

# Options that change how Bazel shows progress, caches, schedules and checks its own state, never
# what an action computes, how a test runs or which targets exist. An edit of a .bazelrc that adds,
# removes or changes only these (or only comments) affects no target. Anything not listed here
# counts as able to change every target: the list only grows with options known to be inert.
INERT_OPTIONS = frozenset(
    {
        # What Bazel prints.
        "announce_rc",
        "color",
        "curses",
        "progress_report_interval",
        "show_progress",
        "show_progress_rate_limit",
        "show_timestamps",
        "test_output",
        "test_summary",
        "test_verbose_timeout_warnings",
        "verbose_failures",
        # How Bazel notices changes and keeps its own files (MODULE.bazel.lock, file checks).
        "experimental_check_external_repository_files",
        "experimental_check_output_files",
        "lockfile_mode",
        "watchfs",
        # How much runs at once, and whether a failure stops the others.
        "jobs",
        "keep_going",
        "loading_phase_threads",
        # Where sandboxed actions run (the same inputs and commands, on another file system),
        # whether their directories are kept afterwards for debugging, and whether the next action
        # reuses them (verify at 6b09f92, which turned reuse off: Bazel re-ran none of 126 tests).
        "sandbox_base",
        "sandbox_debug",
        "reuse_sandbox_directories",
        "experimental_reuse_sandbox_directories",
        # Where results are cached: a cache hit has the same outputs as a local run.
        "disk_cache",
    }
)


def options(text: str) -> list[tuple[str, str]]:
    """The (command, option) pairs of a .bazelrc's text, in order, one per option with its value.

    ``build:ci --keep_going --jobs 4`` gives ("build:ci", "--keep_going") and ("build:ci",
    "--jobs 4"); ``import`` and ``try-import`` lines give their path as the option. Comments,
    blank lines and line continuations are read as Bazel reads them.
    """
    pairs: list[tuple[str, str]] = []
    for line in text.replace("\\\n", " ").splitlines():
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()  # an unbalanced quote: compare the words as they are
        for index, word in enumerate(words):
            if word.startswith("#"):  # a comment to the end of the line
                words = words[:index]
                break
        if not words:
            continue
        command, line_options = words[0], []
        for word in words[1:]:
            if line_options and not word.startswith("-") and not command.endswith("import"):
                line_options[-1] = f"{line_options[-1]} {word}"  # "--flag value"
            else:
                line_options.append(word)
        pairs += [(command, option) for option in line_options]
    return pairs


def option_name(option: str) -> str:
    """The option's name without dashes, value or "no" prefix: ``--nokeep_going`` -> ``keep_going``."""
    name = option.lstrip("-").split("=", 1)[0].split(" ", 1)[0]
    if name.startswith("no") and name[2:] in INERT_OPTIONS:
        return name[2:]
    return name


def edit_is_inert(base_text: str, head_text: str) -> bool:
    """Whether the only options that differ between two versions of a .bazelrc are inert ones.

    An added or deleted file (empty text on one side) is inert only if the other side holds
    nothing but inert options.
    """

    def relevant(text: str) -> list[tuple[str, str]]:
        return [pair for pair in options(text) if option_name(pair[1]) not in INERT_OPTIONS]

    return relevant(base_text) == relevant(head_text)
