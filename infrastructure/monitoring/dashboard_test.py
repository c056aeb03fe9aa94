"""The Grafana dashboard ConfigMap: rendered with the sidecar label, every concern covered, queries well-formed."""

import pytest

from infrastructure.monitoring.dashboard import MONITORING, dashboard_configmaps, dashboards, panels, runnable

CONCERNS = ("Traffic", "Errors", "Latency", "Saturation", "Readiness", "Model version", "Prediction distribution")


@pytest.fixture(scope="module")
def dashboard():
    (only,) = dashboards(MONITORING.parent).values()
    return only


def test_one_configmap_with_the_sidecar_label():
    (configmap,) = dashboard_configmaps(MONITORING.parent)
    assert configmap["metadata"]["name"] == "mlops-dashboard"
    assert list(configmap["data"]) == ["mlops.json"]


def test_every_concern_has_a_panel(dashboard):
    titles = [panel["title"] for panel in dashboard["panels"]]
    for concern in CONCERNS:
        assert any(concern.lower() in title.lower() for title in titles), f"no panel or row for {concern}: {titles}"


def test_panels_are_well_formed(dashboard):
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    assert dashboard["uid"] == "mlops-services"
    for panel in panels(dashboard):
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            runnable(target["expr"], {"namespace": "mlops", "__rate_interval": "1m"})


def test_undefined_variable_is_refused():
    with pytest.raises(ValueError, match="undefined template variable"):
        runnable("up{job=$job}", {"namespace": "x"})
