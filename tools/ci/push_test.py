"""The push step on a throwaway repository with a real nested Bazel: what a push target prints decides."""

import subprocess

import pytest

from tools.affected.bazel import shutdown_cached_servers
from tools.ci import ci
from tools.nested_bazel import offline_bazelrc

FILES = {
    "MODULE.bazel": 'module(name = "push_scenario")\n',
    "img/BUILD.bazel": 'genrule(name = "image", srcs = ["app.txt"], outs = ["image.tar"], cmd = "cp $< $@",'
    ' tags = ["oci_image"])\n'
    'sh_binary(name = "push", srcs = ["push.sh"], data = [":image"])\n',
    "img/app.txt": "v1\n",
    # Exits 0, says it pushed, but prints no reference on stdout.
    "img/push.sh": '#!/bin/sh\necho "pushed, trust me" >&2\n',
    "infrastructure/BUILD.bazel": 'sh_binary(name = "bump", srcs = ["bump.sh"])\n',
    "infrastructure/bump.sh": '#!/bin/sh\necho "bump $*" >&2\n',
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("push")
    repo = root / "repo"
    for path, text in {**FILES, ".bazelrc": offline_bazelrc(short_lived_server=True)}.items():
        file = repo / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
        if path.endswith(".sh"):
            file.chmod(0o755)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    startup = [f"--output_user_root={root / 'bazel'}", "--max_idle_secs=300"]
    yield repo, root, startup
    subprocess.run(["bazel", *startup, "shutdown"], cwd=repo, capture_output=True, check=False)
    shutdown_cached_servers(repo, root / "cache")


def test_push_exiting_0_without_a_reference_fails_and_nothing_is_deployed(repo, capsys):
    repo, root, startup = repo
    (repo / "img" / "app.txt").write_text("v2\n")
    argv = ["--workspace", str(repo), "--base", "main", "--bazel", "bazel", "--cache-dir", str(root / "cache"),
            "--no-coverage", *[f"--startup-flag={f}" for f in startup], "--push", "--deploy"]  # fmt: skip
    code = ci.main(argv)
    summary = capsys.readouterr().out
    assert code == 1, summary
    assert "# CI: failed: push" in summary
    assert "| push | **FAILED** |" in summary
    assert "`//img:push` exited 0 but printed no image reference" in summary
    assert "| deploy | skipped | 0.0 s | not run: an earlier step failed |" in summary
