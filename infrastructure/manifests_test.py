"""Render each overlay with kustomize and validate every object strictly, plus the policies we rely on."""

import pytest

from infrastructure import kustomize
from infrastructure.image_ref import parse_digest_ref
from infrastructure.manifests import validate
from infrastructure.testing_support import K8S, OVERLAYS, cluster_version, copy_k8s

SERVICES = {"api": 8000, "predict": 8001}


@pytest.fixture(scope="module")
def kubernetes_version():
    """The cluster's Kubernetes version, from the Terraform variables."""
    return cluster_version()


@pytest.fixture
def k8s_copy(tmp_path):
    """A writable copy of the manifest tree."""
    return copy_k8s(tmp_path)


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request):
    """(overlay name, rendered objects) of each overlay."""
    return request.param, kustomize.build_copy(K8S, f"overlays/{request.param}")


def _by_kind(objects, kind):
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def test_every_object_is_valid_against_the_cluster_schemas(rendered, kubernetes_version):
    overlay, objects = rendered
    problems, custom = validate(objects, kubernetes_version)
    assert not problems, f"{overlay}: invalid objects:\n" + "\n".join(problems)
    # Only the Prometheus Operator objects escape the schemas; monitoring_test checks them.
    assert sorted(obj["kind"] for obj in custom) == ["PrometheusRule", "ServiceMonitor"]


def test_each_service_has_its_objects_in_the_overlay_namespace(rendered):
    overlay, objects = rendered
    assert {obj["metadata"].get("namespace") for obj in objects} == {f"mlops-{overlay}"}
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceAccount"):
        assert set(_by_kind(objects, kind)) == set(SERVICES), kind
    assert not _by_kind(objects, "Secret"), "secrets are never rendered from git"


def test_images_are_pinned_by_digest(rendered):
    _, objects = rendered
    for name, deployment in _by_kind(objects, "Deployment").items():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            ref = parse_digest_ref(container["image"])
            assert ref.repository.endswith(f"/mlops/{name}"), container["image"]


def test_containers_are_probed_limited_and_locked_down(rendered):
    _, objects = rendered
    for name, deployment in _by_kind(objects, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        # The namespaces enforce Pod Security "restricted" (argocd/*.yaml): what it demands.
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        (container,) = pod["containers"]
        assert container["ports"][0]["containerPort"] == SERVICES[name]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["lifecycle"]["preStop"]["sleep"]["seconds"] < pod["terminationGracePeriodSeconds"]
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) == {"cpu", "memory"}, (name, bound)
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]


def test_the_api_key_comes_from_a_secret_file(rendered):
    _, objects = rendered
    pod = _by_kind(objects, "Deployment")["api"]["spec"]["template"]["spec"]
    env = {item["name"]: item for item in pod["containers"][0]["env"]}
    assert "API_API_KEY" not in env, "the key must not be an inline env value"
    key_file = env["API_API_KEY_FILE"]["value"]
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    secrets = {v["name"]: v["secret"] for v in pod["volumes"] if "secret" in v}
    (volume,) = [name for name in secrets if key_file.startswith(mounts[name] + "/")]
    assert secrets[volume]["secretName"] == "api-key"
    assert env["API_PREDICT_URL"]["value"] == "http://predict:8001"


def test_only_the_api_is_reachable_and_predict_only_from_the_api(rendered):
    _, objects = rendered
    policies = _by_kind(objects, "NetworkPolicy")
    deny = policies["default-deny-ingress"]["spec"]
    assert deny["podSelector"] == {}
    assert deny["policyTypes"] == ["Ingress"]
    assert "ingress" not in deny
    selected = {name: p["spec"]["podSelector"].get("matchLabels", {}) for name, p in policies.items()}
    assert selected == {
        "default-deny-ingress": {},
        "api-ingress": {"app.kubernetes.io/name": "api"},
        "predict-ingress": {"app.kubernetes.io/name": "predict"},
    }
    (api_rule,) = policies["api-ingress"]["spec"]["ingress"]
    assert "from" not in api_rule, "the API accepts traffic from anywhere"
    predict_sources = [peer for rule in policies["predict-ingress"]["spec"]["ingress"] for peer in rule["from"]]
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}} in predict_sources
    for peer in predict_sources:
        # Every other source is Prometheus in the monitoring namespace, never a whole namespace.
        assert "podSelector" in peer, peer


def test_autoscalers_and_budgets_point_at_the_deployments(rendered):
    _, objects = rendered
    deployments = _by_kind(objects, "Deployment")
    for name, hpa in _by_kind(objects, "HorizontalPodAutoscaler").items():
        assert hpa["spec"]["scaleTargetRef"]["name"] == name
        assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        assert "replicas" not in deployments[name]["spec"], "the HPA owns the replica count"
    for name, pdb in _by_kind(objects, "PodDisruptionBudget").items():
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    for name, service in _by_kind(objects, "Service").items():
        assert (
            service["spec"]["selector"].items() <= deployments[name]["spec"]["template"]["metadata"]["labels"].items()
        )


BAD_PATCHES = {
    "unknown field": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replica: 3\n",
        ["Deployment/api", "'replica' was unexpected"],
    ),
    "wrong type": (
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: predict\n"
        "spec:\n  minReplicas: two\n",
        ["HorizontalPodAutoscaler/predict", "'two' is not of type 'integer'", "spec.minReplicas"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_PATCHES))
def test_a_wrong_field_fails_with_a_clear_message(case, k8s_copy, kubernetes_version):
    patch, expected = BAD_PATCHES[case]
    overlay = k8s_copy / "overlays" / "staging"
    (overlay / "bad.yaml").write_text(patch)
    kustomization = overlay / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "patches:\n  - path: bad.yaml\n")
    problems, _ = validate(kustomize.build(overlay), kubernetes_version)
    assert len(problems) == 1, problems
    for fragment in expected:
        assert fragment in problems[0]


def test_a_missing_kustomize_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(kustomize.KustomizeError, match="kustomize not found"):
        kustomize.find_kustomize(str(tmp_path / "no-such-kustomize"))
