"""The composed stack's stand-in for a paging or chat integration.

Alertmanager's example receivers (alerts/alertmanager.yml) post here; each notification
becomes one JSON line on standard output, so that `docker compose logs -f alert-webhook`
shows what would have been sent, to whom, and when it resolves. Replace the receivers' URLs
with your own integration to notify people. Standard library only: it runs in the plain
Python image. Usage: ``python alert_webhook.py [HOST:]PORT`` (default ``:9095``).
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any


def summary(path: str, notification: dict[str, Any]) -> dict[str, Any]:
    """The parts of an Alertmanager webhook notification a person reads."""
    return {
        "path": path,
        "receiver": notification.get("receiver"),
        "status": notification.get("status"),
        "group": notification.get("groupLabels", {}),
        "alerts": [
            {
                "status": alert.get("status"),
                "labels": alert.get("labels", {}),
                "summary": alert.get("annotations", {}).get("summary"),
            }
            for alert in notification.get("alerts", [])
        ],
    }


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            notification = json.loads(body)
        except ValueError:
            self.send_error(400, "expected a JSON body")
            return
        print(json.dumps(summary(self.path, notification), ensure_ascii=False), flush=True)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: the notification line says it all."""


def main(argv: list[str]) -> None:
    host, _, port = (argv[0] if argv else ":9095").rpartition(":")
    with HTTPServer((host, int(port)), Receiver) as server:
        server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
