"""The base-result cache: hits, misses, keys and damaged entries."""

from tools.affected.base_cache import BaseCache
from tools.affected.query_output import Target

GRAPH = {
    "//a:lib": Target("//a:lib", "filegroup", ("manual",), ("//a:x.txt",), {"srcs": "3206"}),
    "//a:x.txt": Target("//a:x.txt", "source file"),
}


def test_a_miss_computes_and_stores_then_a_hit_reads_it_back(tmp_path):
    cache = BaseCache(tmp_path, ["bazel 7.7.1", []])
    calls = []
    first, hit = cache.get_or_compute("graph", "c0ffee", "deps(//...)", lambda: calls.append(1) or GRAPH)
    assert (first, hit) == (GRAPH, False)
    second, hit = cache.get_or_compute("graph", "c0ffee", "deps(//...)", lambda: calls.append(1) or {})
    assert (second, hit) == (GRAPH, True)
    assert calls == [1]
    assert cache.has("graph", "c0ffee", "deps(//...)")


def test_another_commit_bazel_or_expression_is_another_entry(tmp_path):
    BaseCache(tmp_path, ["bazel 7.7.1"]).get_or_compute("graph", "c1", "deps(//...)", lambda: GRAPH)
    assert not BaseCache(tmp_path, ["bazel 7.7.1"]).has("graph", "c2", "deps(//...)")
    assert not BaseCache(tmp_path, ["bazel 8.0.0"]).has("graph", "c1", "deps(//...)")
    assert not BaseCache(tmp_path, ["bazel 7.7.1"]).has("graph", "c1", "//a:all")


def test_a_damaged_entry_is_recomputed(tmp_path):
    cache = BaseCache(tmp_path, [])
    cache.get_or_compute("graph", "c1", "q", lambda: GRAPH)
    for entry in tmp_path.glob("graph-*.json"):
        entry.write_text('[["//a:lib"]]')
    targets, hit = cache.get_or_compute("graph", "c1", "q", lambda: GRAPH)
    assert (targets, hit) == (GRAPH, False)
