"""Third-party check: an image-generation batch made through litellm's batch API, run against a
local server, its images decoded.

litellm is **not** a dependency of this project (installing it brings some 60 packages), so this
script is not part of the test suite: it runs where litellm is installed, and otherwise says so
and exits 0. To run it, in a scratch virtual environment:

    python -m venv /tmp/litellm-check
    /tmp/litellm-check/bin/pip install litellm -e batch-api-local
    /tmp/litellm-check/bin/python scripts/litellm_image_batch.py

It starts a private local server in a temporary directory (or uses ``--base-url``), then does
with litellm's own functions what a litellm user would: ``create_file`` (a batch input file of
``/v1/images/generations`` lines), ``create_batch`` (``custom_llm_provider="openai"``, its
``api_base`` the server), ``retrieve_batch`` until the batch ends, and ``file_content`` of the
output file; each line's ``b64_json`` is decoded and its header read
(:func:`batch_api_local.images.image_info`) to check the size and format asked.

Checked on 2026-12-07 with litellm 1.110.2 (and openai 3.63.0): every image decoded as asked.
litellm's ``create_batch`` lists the image endpoints in its ``endpoint`` type and passes the call
through to the openai SDK for ``custom_llm_provider="openai"``. The script sets
``LITELLM_LOCAL_MODEL_COST_MAP`` so that importing litellm does not fetch its model map.

Exit status: 0 when every image decodes as asked (or litellm is not installed), 1 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: what the batch asks for, by custom id: (prompt, size, output format)
REQUESTS = {
    "mug": ("A blue mug on a wooden desk", "1024x1024", "png"),
    "lamp": ("A desk lamp, lit, at night", "1536x1024", "jpeg"),
    "cactus": ("A cactus in a terracotta pot", "1024x1536", "webp"),
}
MODEL = "gpt-image-2"
KEY = "sk-local-litellm-check"
TERMINAL = ("completed", "failed", "expired", "cancelled")


def input_file() -> bytes:
    lines = [
        {
            "custom_id": custom_id,
            "method": "POST",
            "url": "/v1/images/generations",
            "body": {
                "model": MODEL,
                "prompt": prompt,
                "size": size,
                "quality": "low",
                "output_format": fmt,
            },
        }
        for custom_id, (prompt, size, fmt) in REQUESTS.items()
    ]
    return "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")


def run(base_url: str) -> list[str]:
    """Run the batch through litellm against ``base_url``; returns the problems found."""
    import litellm

    from batch_api_local.images import image_info

    conn: dict[str, Any] = {"custom_llm_provider": "openai", "api_base": base_url, "api_key": KEY}
    uploaded = litellm.create_file(
        file=("images.jsonl", io.BytesIO(input_file())), purpose="batch", **conn
    )
    batch = litellm.create_batch(
        completion_window="24h",
        endpoint="/v1/images/generations",
        input_file_id=uploaded.id,
        **conn,
    )
    print(f"litellm {litellm_version()}: batch {batch.id} created ({batch.status})")
    deadline = time.monotonic() + 120
    while batch.status not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.5)
        batch = litellm.retrieve_batch(batch_id=batch.id, **conn)
    print(f"batch {batch.id}: {batch.status}, {batch.request_counts}")
    if batch.status != "completed" or not batch.output_file_id:
        return [f"the batch ended {batch.status} with no output file"]
    content = litellm.file_content(file_id=batch.output_file_id, **conn)
    problems: list[str] = []
    seen = set()
    for raw in content.content.decode("utf-8").splitlines():
        line = json.loads(raw)
        custom_id = line["custom_id"]
        seen.add(custom_id)
        _, size, fmt = REQUESTS[custom_id]
        body = line["response"]["body"]
        data = base64.b64decode(body["data"][0]["b64_json"])
        info = image_info(data)
        got = None if info is None else (f"{info.width}x{info.height}", info.format)
        usage = body.get("usage", {})
        print(f"  {custom_id}: {got}, {usage.get('output_tokens')} output tokens")
        if got != (size, fmt):
            problems.append(f"{custom_id}: asked for {size} {fmt}, got {got}")
    missing = set(REQUESTS) - seen
    if missing:
        problems.append(f"no output line for {sorted(missing)}")
    return problems


def litellm_version() -> str:
    from importlib import metadata

    return metadata.version("litellm")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="a running local server's /v1 URL (default: start one)")
    args = parser.parse_args(argv)
    # litellm fetches its model map from GitHub when imported, unless told to use its own copy
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm  # noqa: F401
    except ImportError:
        print(
            "litellm is not installed, so there is nothing to check: it is not a dependency of "
            "this project (see this script's docstring to run it in a scratch environment)."
        )
        return 0
    if args.base_url:
        problems = run(args.base_url)
    else:
        from batch_api_local import ensure_server, stop_server

        with tempfile.TemporaryDirectory() as folder:
            state = Path(folder) / "state"
            server = ensure_server(state, port=0, pace="instant")
            try:
                problems = run(server.base_url)
            finally:
                stop_server(state)
    for problem in problems:
        print("PROBLEM:", problem)
    print("every image decoded as asked" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
