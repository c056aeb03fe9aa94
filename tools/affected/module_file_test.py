"""module_file: which MODULE.bazel edits change nothing, only external repositories, or everything."""

from tools.affected.module_file import EVERYTHING, INERT, REPOSITORIES, classify_edit, statements

MODULE = '''\
module(name = "demo")

bazel_dep(name = "rules_python", version = "0.22.1")

register_toolchains("//bazel/python:python_toolchain")

http_archive = use_repo_rule("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")

_BUILD = """\\
exports_files(["data.csv"])
"""

http_archive(
    name = "dataset",
    build_file_content = _BUILD,
    sha256 = "aaaa",
    url = "https://example.com/data.tar.gz",
)

# Labels: @pypi//pandas, ...
pip = use_extension("@rules_python//python/extensions:pip.bzl", "pip")
pip.parse(
    name = "pypi",
    python_interpreter_target = "//bazel/python:pip_python.py",
    requirements_lock = "//:requirements_lock.txt",
)
use_repo(pip, "pypi")

python = use_extension("@rules_python//python/extensions:python.bzl", "python")
python.toolchain(python_version = "3.14")
'''


def edited(old: str, new: str) -> str:
    assert old in MODULE
    return MODULE.replace(old, new)


def test_statements_ignore_comments_and_layout_but_not_strings():
    assert statements("a(x = 1)  # why\n\n\nb(\n  y = 2,\n)\n") == statements("a(x=1)\nb(y = 2,)")
    assert statements('a(x = "1")') != statements('a(x = "2")')


def test_comments_and_layout_are_inert():
    assert classify_edit(MODULE, edited("# Labels: @pypi//pandas, ...", "# Labels: @pypi//numpy")).kind == INERT
    assert classify_edit(MODULE, edited('    sha256 = "aaaa",\n', '    sha256="aaaa"  ,\n')).kind == INERT


def test_repository_rule_calls_tags_of_pip_use_repo_and_their_constants_only_change_repositories():
    for old, new in [
        ('sha256 = "aaaa"', 'sha256 = "bbbb"'),
        ('"//bazel/python:pip_python.py"', '"//bazel/python:pip_python.sh"'),
        ('use_repo(pip, "pypi")', 'use_repo(pip, "pypi", "pypi_pandas")'),
        ('exports_files(["data.csv"])', 'exports_files(["data.csv", "more.csv"])'),
        (")\n\n# Labels", ')\n\nhttp_archive(name = "more", url = "https://example.com/more.tar.gz")\n\n# Labels'),
    ]:
        assert classify_edit(MODULE, edited(old, new)).kind == REPOSITORIES, new


def test_anything_else_is_everything():
    for old, new in [
        ('version = "0.22.1"', 'version = "0.23.0"'),
        ('module(name = "demo")', 'module(name = "demo", version = "1.0")'),
        ('"//bazel/python:python_toolchain"', '"//bazel/python:other_toolchain"'),
        # Another extension's tag: its repositories may be toolchains, which no query graph shows.
        ('python_version = "3.14"', 'python_version = "3.13"'),
        ('http.bzl", "http_archive")', 'http.bzl", "http_file")'),
        ("unterminated", 'x = "unterminated'),
    ]:
        head = edited(old, new) if old in MODULE else MODULE + new
        judged = classify_edit(MODULE, head)
        assert judged.kind == EVERYTHING, new
        assert judged.reason


def test_a_repository_could_be_a_toolchain_when_one_is_registered_from_another_repository():
    module = MODULE.replace(
        'register_toolchains("//bazel/python:python_toolchain")', 'register_toolchains("@dataset//:all")'
    )
    assert classify_edit(module, module.replace('sha256 = "aaaa"', 'sha256 = "bbbb"')).kind == EVERYTHING


def test_a_constant_that_a_global_statement_reads_is_everything():
    module = MODULE + '\n_V = "3.14"\npython.toolchain(python_version = _V)\n'
    assert classify_edit(module, module.replace('_V = "3.14"', '_V = "3.13"')).kind == EVERYTHING
