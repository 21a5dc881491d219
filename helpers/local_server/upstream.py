"""A responder that forwards each batch line to an OpenAI-compatible server.

``python -m helpers.local_server serve --upstream http://127.0.0.1:8000/v1`` gives batch semantics
(files, statuses, result files, cancel, expiry) to a server that only answers synchronous calls:
vLLM, Ollama, a llama.cpp server, or api.openai.com itself. The runner calls :meth:`respond`
from a bounded thread pool (``--upstream-concurrency``).
"""

from __future__ import annotations

from typing import Any

import httpx2

from .errors import APIError


class UpstreamResponder:
    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 600.0) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key or 'local'}"}
        self._client = httpx2.Client(headers=headers, timeout=timeout, trust_env=False)

    def respond(
        self,
        url: str,
        body: dict[str, Any],
        *,
        input_tokens: int | None = None,
        now: int | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Send one request upstream: (HTTP status, JSON body). The upstream counts its own
        tokens and stamps its own replies: ``input_tokens`` and ``now`` are unused."""
        path = url[len("/v1") :] if url.startswith("/v1/") else url
        response = self._client.post(self.base_url + path, json=body)
        try:
            payload = response.json()
        except ValueError:
            message = response.text[:1000] or "The upstream server sent no JSON."
            payload = APIError(message, error_type="server_error").body()
        return response.status_code, payload
