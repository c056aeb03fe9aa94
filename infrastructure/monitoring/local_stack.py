"""A real Prometheus and Alertmanager on 127.0.0.1 for tests: their configs, processes and HTTP API."""

import json
import shutil
import time
import urllib.parse
from http import HTTPStatus
from pathlib import Path
from typing import Any

import yaml

from services.launch import ServiceProcess, get
from tools.ports import free_port

PROMETHEUS = "/usr/bin/prometheus"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
# Alertmanager's Slack integration: the text lists each alert's annotations.
SLACK_TEXT = '{{ range .Alerts }}{{ .Annotations.summary }}: {{ .Annotations.description }}{{ "\\n" }}{{ end }}'


def binary(path: str) -> str:
    """``path`` if it exists, else the same name on PATH.

    Raises:
        FileNotFoundError: naming the Debian package that provides it.
    """
    if Path(path).is_file():
        return path
    found = shutil.which(Path(path).name)
    if not found:
        raise FileNotFoundError(
            f"{path} not found: the build root's Debian packages `prometheus` and `prometheus-alertmanager` provide it"
        )
    return found


def prometheus_config(targets: dict[str, str], rule_file: Path, alertmanager: str, namespace: str) -> dict:
    """A Prometheus config scraping each ``job: host:port`` every second and sending alerts to ``alertmanager``.

    Args:
        targets: job name to ``host:port`` (the job names the rules use: api, predict).
        rule_file: the rule file to evaluate.
        alertmanager: ``host:port`` of the Alertmanager.
        namespace: the ``namespace`` label every series gets (what the rules group by in a cluster).
    """
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        # Prometheus resolves relative paths against the config's folder, and a glob matching
        # nothing is not an error: absolute, and Prometheus.__init__ checks the rules loaded.
        "rule_files": [str(rule_file.resolve())],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [target], "labels": {"namespace": namespace}}]}
            for job, target in targets.items()
        ],
    }


def alertmanager_config(slack_url: str, channel: str = "#mlops-alerts") -> dict:
    """An Alertmanager config sending every alert (and its resolution) to a Slack webhook with short waits."""
    return {
        "route": {
            "receiver": "slack",
            "group_by": ["alertname", "job"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "slack",
                "slack_configs": [
                    {"api_url": slack_url, "channel": channel, "send_resolved": True, "text": SLACK_TEXT},
                ],
            }
        ],
    }


def _start_ready(tool: str, config: dict, workdir: Path, port: int, extra_args: list[str]) -> ServiceProcess:
    """Write ``config`` into ``workdir``, start ``tool`` on loopback ``port``, wait for its /-/ready.

    Prometheus and Alertmanager share these flags and the readiness endpoint.
    """
    name = Path(tool).name
    config_path = workdir / f"{name}.yml"
    config_path.write_text(yaml.safe_dump(config))
    process = ServiceProcess(
        binary(tool),
        [f"--config.file={config_path}", f"--web.listen-address=127.0.0.1:{port}", *extra_args],
        {},
        workdir / f"{name}.log",
    )
    process.wait_until(f"http://127.0.0.1:{port}/-/ready", timeout=60)
    return process


class Prometheus:
    """A Prometheus process and its HTTP API."""

    def __init__(self, config: dict, workdir: Path) -> None:
        """Write ``config`` and start Prometheus on a free port with its data under ``workdir``."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = _start_ready(
            PROMETHEUS, config, workdir, self.port, [f"--storage.tsdb.path={workdir / 'prometheus-data'}"]
        )
        if config.get("rule_files") and not self.api("rules")["groups"]:
            raise RuntimeError(f"Prometheus loaded no rules from {config['rule_files']}:\n{self.process.log_tail()}")

    def api(self, path: str, **params: str) -> Any:
        """GET ``/api/v1/<path>`` and return its ``data``.

        Raises:
            RuntimeError: when Prometheus answers an error (e.g. a query that does not parse).
        """
        status, body = get(f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}")
        answer = json.loads(body)
        if status != HTTPStatus.OK or answer.get("status") != "success":
            raise RuntimeError(f"Prometheus {path} {params}: {status} {answer.get('error', body[:500])}")
        return answer["data"]

    def query(self, expr: str) -> list[dict]:
        """The instant vector of ``expr`` now."""
        return self.api("query", query=expr)["result"]

    def query_range(self, expr: str, start: float, end: float, step: str = "1s") -> list[dict]:
        """The series of ``expr`` between two Unix times."""
        return self.api("query_range", query=expr, start=str(start), end=str(end), step=step)["result"]

    def alerts(self) -> list[dict]:
        """The alerts Prometheus holds now (pending and firing)."""
        return self.api("alerts")["alerts"]

    def wait_for(self, expr: str, timeout: float) -> list[dict]:
        """Poll ``expr`` until it returns a sample.

        Raises:
            TimeoutError: with the log's tail when it never does.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.query(expr)
            if result:
                return result
            time.sleep(0.2)
        raise TimeoutError(f"{expr} returned nothing within {timeout}s:\n{self.process.log_tail()}")

    def stop(self) -> None:
        """Stop the process."""
        self.process.stop()


class Alertmanager:
    """An Alertmanager process (clustering off) on a free port."""

    def __init__(self, config: dict, workdir: Path) -> None:
        """Write ``config`` and start Alertmanager with its data under ``workdir``."""
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.process = _start_ready(
            ALERTMANAGER,
            config,
            workdir,
            self.port,
            [
                f"--storage.path={workdir / 'alertmanager-data'}",
                "--cluster.listen-address=",  # a single instance: no gossip port
            ],
        )

    def stop(self) -> None:
        """Stop the process."""
        self.process.stop()
