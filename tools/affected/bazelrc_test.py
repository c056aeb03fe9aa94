"""Which .bazelrc edits can change what Bazel builds (bazelrc.edit_is_inert) and how its lines are read."""

from tools.affected.bazelrc import edit_is_inert, option_name, options

RC = """# Comments and blank lines are not options.
common --enable_bzlmod

build --incompatible_strict_action_env
build:ci --color=no --jobs 4 \\
    --keep_going
try-import %workspace%/user.bazelrc
test --test_env=TZ=UTC  # a trailing comment
"""


def test_options_are_read_as_bazel_reads_them():
    assert options(RC) == [
        ("common", "--enable_bzlmod"),
        ("build", "--incompatible_strict_action_env"),
        ("build:ci", "--color=no"),
        ("build:ci", "--jobs 4"),
        ("build:ci", "--keep_going"),
        ("try-import", "%workspace%/user.bazelrc"),
        ("test", "--test_env=TZ=UTC"),
    ]


def test_option_names_drop_dashes_values_and_the_no_of_inert_booleans():
    assert option_name("--jobs 4") == "jobs"
    assert option_name("--nokeep_going") == "keep_going"
    assert option_name("--noexperimental_check_external_repository_files") == (
        "experimental_check_external_repository_files"
    )
    # "no" is kept where the option is not a known inert boolean.
    assert option_name("--noenable_workspace") == "noenable_workspace"


def test_comments_and_inert_options_change_nothing():
    edited = "# new heading\n" + RC.replace("--jobs 4", "--jobs 8") + "common --lockfile_mode=off\n"
    assert edit_is_inert(RC, edited)
    assert edit_is_inert(RC, RC.replace("--keep_going", "--nokeep_going"))
    assert edit_is_inert(RC, RC + "build --sandbox_base=/dev/shm\n")
    assert edit_is_inert(RC, RC + "build --noreuse_sandbox_directories\n")
    # The build root's fix: an inert option moved from common to build.
    assert edit_is_inert("common --nosandbox_debug\n", "build --nosandbox_debug\n")


def test_options_that_reach_actions_or_tests_are_not_inert():
    assert not edit_is_inert(RC, RC.replace("TZ=UTC", "TZ=CET"))
    assert not edit_is_inert(RC, RC + "build --define=mode=fast\n")
    assert not edit_is_inert(RC, RC.replace("build --incompatible_strict_action_env\n", ""))
    # Another rc file pulled in may say anything.
    assert not edit_is_inert(RC, RC + "import %workspace%/ci.bazelrc\n")
    # The same option moved to another command (build reaches tests; test does not reach build).
    assert not edit_is_inert(RC, RC.replace("test --test_env", "build --test_env"))


def test_an_added_or_deleted_rc_file_is_inert_only_if_it_holds_only_inert_options():
    assert edit_is_inert("", "build --jobs 2 --color=yes\n")
    assert not edit_is_inert("build --copt=-O2\n", "")
