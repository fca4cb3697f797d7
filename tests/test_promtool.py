"""A real scrape of the running demo passes `promtool check metrics`."""

from pathlib import Path

from exporter.cli import URL_ENV
from tests.servers import exporter, installed, succeeds


def test_the_demo_serves_metrics_that_promtool_accepts(tmp_path: Path) -> None:
    promtool = installed("promtool")
    # The demo writes, so it never takes the URL from the environment.
    elsewhere = {URL_ENV: "postgresql://nobody@127.0.0.1:1/production"}
    with exporter(["demo"], tmp_path, env=elsewhere) as running:
        body = running.get()
        log = running.stderr()

    assert "\nchat_up 1\n" in body
    assert "chat_agent_status{" in body
    assert "database sqlite:///chat-demo.db" in log
    assert (tmp_path / "chat-demo.db").exists()
    succeeds(promtool, "check", "metrics", stdin=body)
