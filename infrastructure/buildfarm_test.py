"""Render the build farm (k8s/buildfarm) and validate it strictly, plus the properties the farm relies on."""

import pytest
import yaml

from infrastructure import kustomize
from infrastructure.image_ref import parse_digest_ref
from infrastructure.manifests import validate
from infrastructure.testing_support import K8S, cluster_version


class _ConfigLoader(yaml.SafeLoader):
    """Reads BuildGrid's configuration, whose tags (!channel, !sql-scheduler...) name object kinds."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict | str:
    if isinstance(node, yaml.MappingNode):
        return {"kind": "!" + suffix, **loader.construct_mapping(node, deep=True)}
    return {"kind": "!" + suffix, "value": loader.construct_scalar(node)}


_ConfigLoader.add_multi_constructor("!", _tagged)


@pytest.fixture(scope="module")
def objects():
    """The rendered build farm."""
    return kustomize.build_copy(K8S, "buildfarm")


def _by_kind(objects, kind):
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def _configs(objects):
    data = _by_kind(objects, "ConfigMap")["buildgrid-config"]["data"]
    return {name: yaml.load(text, Loader=_ConfigLoader) for name, text in data.items()}


def test_every_object_is_valid_against_the_cluster_schemas(objects):
    problems, custom = validate(objects, cluster_version())
    assert not problems, "invalid objects:\n" + "\n".join(problems)
    assert not custom


def test_everything_is_in_the_farm_namespace(objects):
    namespaced = [obj for obj in objects if obj["kind"] != "Namespace"]
    assert {obj["metadata"].get("namespace") for obj in namespaced} == {"buildfarm"}
    assert not _by_kind(objects, "Secret"), "secrets are never rendered from git"


def test_the_worker_image_is_pinned_by_digest(objects):
    for workload in (*_by_kind(objects, "Deployment").values(), *_by_kind(objects, "StatefulSet").values()):
        pod = workload["spec"]["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            if "buildbox-worker" in container["image"]:
                assert parse_digest_ref(container["image"]).repository.endswith("/mlops/buildbox-worker")


def test_pods_are_locked_down(objects):
    for workload in (*_by_kind(objects, "Deployment").values(), *_by_kind(objects, "StatefulSet").values()):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in pod.get("initContainers", []) + pod["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, container["name"]
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], container["name"]
            assert set(container["resources"]["limits"]) == {"cpu", "memory"}, container["name"]


def test_the_scheduler_keeps_its_state_in_postgresql_from_a_secret(objects):
    scheduler = _configs(objects)["scheduler.yml"]
    (connection,) = scheduler["connections"]
    assert connection["kind"] == "!sql-connection"
    assert connection["connection-string"] == {"kind": "!read-file", "value": "/etc/buildgrid/database/url"}
    (sched,) = scheduler["schedulers"]
    assert sched["kind"] == "!sql-scheduler"
    assert sched["property-set"]["match-property-keys"] == ["OSFamily"]
    pod = _by_kind(objects, "Deployment")["buildgrid"]["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["database"]["secret"]["secretName"] == "buildgrid-database"
    # Execute streams hold a thread each: the RPC limit must not exceed the pool.
    assert scheduler["maximum-concurrent-rpcs"] <= scheduler["thread-pool-size"]


def test_the_cas_keeps_small_blobs_in_postgresql_and_the_rest_on_a_persistent_volume(objects):
    cas_config = _configs(objects)["cas.yml"]
    (storage,) = cas_config["storages"]
    assert storage["kind"] == "!size-differentiated-storage"
    # Small blobs (every Directory) must never sit in BuildGrid 0.9.1's disk store, which
    # links a blob into place before flushing it (see tools/remote-exec).
    (small,) = storage["size-limited-storages"]
    assert small["storage"]["kind"] == "!sql-storage"
    (connection,) = cas_config["connections"]
    assert small["storage"]["sql"] == connection
    assert connection["connection-string"] == {"kind": "!read-file", "value": "/etc/buildgrid/database/url"}
    disk = storage["fallback"]
    assert disk["kind"] == "!disk-storage"
    cas = _by_kind(objects, "StatefulSet")["buildgrid-cas"]
    (claim,) = cas["spec"]["volumeClaimTemplates"]
    pod = cas["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert disk["path"].startswith(mounts[claim["metadata"]["name"]] + "/")
    assert mounts["database"] == "/etc/buildgrid/database"
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["database"]["secret"]["secretName"] == "buildgrid-database"
    # The front proxies to this tier by its Service name.
    scheduler = _configs(objects)["scheduler.yml"]
    assert scheduler["storages"][0]["url"] == "http://buildgrid-cas:50051"
    assert "buildgrid-cas" in _by_kind(objects, "Service")


def test_workers_autoscale_and_match_the_scheduler(objects):
    hpa = _by_kind(objects, "HorizontalPodAutoscaler")["buildbox-worker"]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "buildbox-worker"}
    assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    pod = _by_kind(objects, "Deployment")["buildbox-worker"]["spec"]["template"]["spec"]
    (casd,) = pod["initContainers"]
    assert casd["restartPolicy"] == "Always", "casd is a native sidecar: up before the worker, down after"
    (worker,) = pod["containers"]
    args = worker["command"]
    assert "--bots-remote=http://buildgrid:50051" in args
    socket = next(arg for arg in casd["command"] if arg.startswith("--bind=")).removeprefix("--bind=")
    assert f"--cas-remote={socket}" in args
    assert args[args.index("--platform") + 1] == "OSFamily=linux"
    # A scaled-down worker may finish its action before it is killed.
    timeout = int(next(arg for arg in args if arg.startswith("--graceful-shutdown-timeout=")).split("=")[1])
    assert timeout < pod["terminationGracePeriodSeconds"]
