"""Helpers for tests that launch the web app: free loopback ports, a fake OpenAI-compatible server."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHROMIUM = "/usr/bin/chromium"
# No network, no GPU, no first-run or update traffic: the browser must work on an offline CI machine.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_compare_tab(lib):
    """A Blocks holding only the 年度对比 tab, launched on a free loopback port; returns (demo, url)."""
    import gradio as gr

    from zhengce.app.web_compare import build_compare_tab

    with gr.Blocks() as demo:
        with gr.Tabs():
            build_compare_tab(lib)
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    return demo, f"http://127.0.0.1:{port}/"


class FakeOpenAI:
    """A loopback /v1/chat/completions that records requests and answers with a fixed text (or a status)."""

    def __init__(self, content: str = "", status: int = 200):
        self.content, self.status, self.requests = content, status, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                payload = {"choices": [{"index": 0, "message": {"role": "assistant", "content": fake.content}}]}
                data = json.dumps(payload, ensure_ascii=False).encode() if fake.status == 200 else b'{"error":"boom"}'
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
