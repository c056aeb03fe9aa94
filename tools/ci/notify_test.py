"""notify: the summary reaches a real webhook receiver on loopback, with retries, and failures never raise."""

from infrastructure.monitoring.webhook_receiver import WebhookReceiver
from tools.ci import notify
from tools.ports import free_port

SUMMARY = """## CI: 3 targets affected

**Tests**: 2 passed, 0 failed

| step | seconds |
|---|---|
| test | 12.3 |

See [the plots](https://example.com/plots/residuals.png).
<details><summary>Commands</summary>

bazel test //model:model_test
</details>
"""


def test_slack_text_converts_markdown():
    text = notify.to_slack_text(SUMMARY)
    assert text.startswith("*CI: 3 targets affected*")
    assert "*Tests*: 2 passed" in text
    assert "<https://example.com/plots/residuals.png|the plots>" in text
    assert "<details>" not in text
    assert "<summary>" not in text


def test_long_summaries_are_truncated():
    text = notify.to_slack_text("line\n" * 2000)
    assert len(text) < notify.MAX_TEXT + 100
    assert text.endswith("(truncated; the full summary is in the CI job)")


def test_summary_is_delivered(monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/mlops")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    monkeypatch.setenv("GITHUB_HEAD_REF", "feature")
    with WebhookReceiver() as receiver:
        monkeypatch.setenv(notify.WEBHOOK_ENV, receiver.url + "/services/T000/B000/secret")
        assert notify.notify_summary(SUMMARY, exit_code=1)
        payload = receiver.wait_for(lambda payload: True, timeout=5)
    first_line = payload["text"].splitlines()[0]
    assert first_line == "CI FAILED on acme/mlops feature (<https://github.com/acme/mlops/actions/runs/42|run 42>)"
    assert "*CI: 3 targets affected*" in payload["text"]
    err = capsys.readouterr().err
    assert "summary sent to 127.0.0.1" in err
    assert "secret" not in err


def test_server_errors_are_retried():
    with WebhookReceiver(fail_first=2) as receiver:
        assert notify.notify_summary(SUMMARY, 0, url=receiver.url, attempts=3, backoff=0.01)
        assert receiver.attempts == 3
        assert "CI passed" in receiver.wait_for(lambda payload: True, timeout=5)["text"]


def test_persistent_failure_is_reported_not_raised(capsys):
    with WebhookReceiver(fail_first=100) as receiver:
        assert not notify.notify_summary(SUMMARY, 0, url=receiver.url, attempts=3, backoff=0.01)
        assert receiver.attempts == 3
    err = capsys.readouterr().err
    assert "could not notify 127.0.0.1" in err
    assert "HTTP 500" in err
    assert "after 3 attempts" in err
    assert "build result is unaffected" in err


def test_unreachable_webhook_is_reported_not_raised(capsys):
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    assert not notify.notify_summary(SUMMARY, 0, url=url, attempts=2, backoff=0.01, timeout=2)
    assert "could not notify" in capsys.readouterr().err


def test_a_webhook_that_is_not_http_is_refused_not_opened(tmp_path, capsys):
    target = tmp_path / "not-a-webhook"
    assert not notify.notify_summary(SUMMARY, 0, url=f"file://{target}", attempts=1, backoff=0.01, timeout=2)
    assert "not an http(s) URL" in capsys.readouterr().err
    assert not target.exists()


def test_nothing_is_sent_without_a_webhook(monkeypatch):
    monkeypatch.delenv(notify.WEBHOOK_ENV, raising=False)
    assert not notify.notify_summary(SUMMARY, 0)
