"""The walkthrough this project grew from, cell by cell and verbatim, against the default pace.

The notebooks mirror an older notebook (its cells are below, exactly as it wrote them: comments,
``./artifacts/`` paths, the cancel cell with its two ``time.sleep(5)``). A learner who copies
one of those cells must get what the real service would give. The cancel cell is the hard one:
it cancels a batch five seconds after creating it, which on the real service is still
validating or running, so the local server's default pace ("normal") must keep a small batch
running that long, with time to spare (see ``batch-api-local/batch_api_local/config.py``).

The cells run in one namespace, in a temporary folder holding the walkthrough's own good input
file (its three example lines, verbatim: ``gpt-4o`` with ``max_tokens``) and the project's bad
one, against a server of its own started with its default pace, through a bare ``OpenAI()`` that
reads ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``. ``gpt-4o`` shuts down on 2027-01-14, so the
server's clock starts on a day it was served (``--clock``): the walkthrough keeps passing after
the shutdown, as it would have on its own day. The test takes about 15 s, most of it the cancel
cell's two sleeps.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from batch_api_local import ServerInfo, ensure_server, stop_server

from support import free_port, sdk_client, wait_until

ROOT = Path(__file__).resolve().parents[1]

# -- the source walkthrough's code cells, verbatim ----------------------------------------------

IMPORTS = """\
# Import the OpenAI class from the openai module
from openai import OpenAI

# Import the time module to allow for time-related functions
import time
"""

CLIENT = """\
# Create a client we can use
client = OpenAI()
"""

UPLOAD = """\
# Create a file object for the bad batch input file and upload it using the OpenAI client
bad_batch_input_file = client.files.create(
    file=open("./artifacts/badbatchinput.jsonl", "rb"),  # Open the file in read-binary mode
    purpose="batch"  # Specify the purpose of the file
)

# Create a file object for the good batch input file and upload it using the OpenAI client
good_batch_input_file = client.files.create(
    file=open("./artifacts/goodbatchinput.jsonl", "rb"),  # Open the file in read-binary mode
    purpose="batch"  # Specify the purpose of the file
)
"""

CREATE = """\
# Get the ID of the bad batch input file
bad_batch_input_file_id = bad_batch_input_file.id

# Create a batch job using the bad batch input file
bad_batch = client.batches.create(
    input_file_id=bad_batch_input_file_id,  # ID of the input file for the batch
    endpoint="/v1/chat/completions",  # API endpoint to use for the batch
    completion_window="24h",  # Time window for completion
    metadata={
        "description": "bad nightly penguin job"  # Metadata describing the batch job
    }
)

# Print the details of the bad batch job
print(bad_batch)
print("\\n\\n")

# Get the ID of the good batch input file
good_batch_input_file_id = good_batch_input_file.id

# Create a batch job using the good batch input file
good_batch = client.batches.create(
    input_file_id=good_batch_input_file_id,  # ID of the input file for the batch
    endpoint="/v1/chat/completions",  # API endpoint to use for the batch
    completion_window="24h",  # Time window for completion
    metadata={
        "description": "good nightly penguin job"  # Metadata describing the batch job
    }
)

# Print the details of the good batch job
print(good_batch)
"""

STATUS = """\
# Retrieve and print the details of the bad batch job
print(client.batches.retrieve(bad_batch.id))
print("\\n\\n")  # Print newline characters for better readability

# Retrieve and print the details of the good batch job
print(client.batches.retrieve(good_batch.id))
"""

LIST = """\
# Print a list of all batches
print(client.batches.list(limit=1))

# Convert the returned object to a list to get the length
batches = list(client.batches.list())

# Print the total number of batches
print("\\nWe have " + str(len(batches)) + " batches\\n")

print("========= ALL BATCHES ==========\\n")
# Iterate over the batches and print their ids, statuses, and descriptions
for batch in batches:
    print(batch.id)  # Print the batch ID
    print(batch.status)  # Print the batch status
    print(batch.metadata.get("description"))  # Print the batch description from metadata
    print("\\n\\n")  # Print newline characters for better readability

print("========= JUST GOOD BATCHES ==========\\n")
# Iterate over the good batches only and print their ids, statuses, and descriptions
for batch in batches:
    if batch.metadata.get("description", "").startswith("good"):
        print(batch.id)  # Print the batch ID
        print(batch.status)  # Print the batch status
        print(batch.metadata.get("description"))  # Print the batch description from metadata
        print("\\n\\n")  # Print newline characters for better readability


# Do a deep dive on these at https://github.com/openai/openai-python/blob/main/src/openai/resources/batches.py
# If you want to see the source code for the batches
"""

CANCEL = """\
good_batch_input_file_id = good_batch_input_file.id

dead_batch_walking = client.batches.create(
    input_file_id=good_batch_input_file_id,
    endpoint="/v1/chat/completions",
    completion_window="24h",
    metadata={
        "description": "good nightly penguin job"
    }
)

print(dead_batch_walking)
time.sleep(5)
print("\\n\\n")
print(client.batches.retrieve(dead_batch_walking.id))
print("\\n\\n")
print(client.batches.cancel(dead_batch_walking.id))
time.sleep(5)
print("\\n\\n")
print(client.batches.retrieve(dead_batch_walking.id))
"""

RESULTS = """\

# Fetch the content of the file
content = client.files.content(client.batches.retrieve(good_batch.id).output_file_id)

content.write_to_file("./artifacts/goodbatchoutput.jsonl")
"""

# -----------------------------------------------------------------------------------------------

#: the walkthrough's example input file, verbatim (its model shuts down on 2027-01-14)
GOOD_INPUT = """\
{"custom_id": "request-1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o", "messages": [{"role": "system", "content": "You are a helpful assistant."},{"role": "user", "content": "Give me three paragraphs on the penguin lifecycle."}],"max_tokens": 1000}}
{"custom_id": "request-2", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o", "messages": [{"role": "system", "content": "You are a helpful assistant."},{"role": "user", "content": "Give me three paragraphs on penguin mating habits."}],"max_tokens": 1000}}
{"custom_id": "request-3", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o", "messages": [{"role": "system", "content": "You are a helpful assistant."},{"role": "user", "content": "Give me three paragraphs on penguin species differences."}],"max_tokens": 1000}}
"""
#: a day when the walkthrough's model was served
WALKTHROUGH_DAY = "2026-12-01"

STATUS_IN_REPR = re.compile(r"\bBatch\(id='[^']+'.*?\bstatus='(\w+)'")


@pytest.fixture
def default_pace_server(tmp_path: Path) -> Iterator[ServerInfo]:
    """A server of its own, started without a pace (the default a learner gets), on a day the
    walkthrough's model was served."""
    state_dir = tmp_path / "state"
    info = ensure_server(state_dir, port=free_port(), extra_args=["--clock", WALKTHROUGH_DAY])
    try:
        yield info
    finally:
        stop_server(state_dir)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the walkthrough's two input files in ./artifacts, as the current one."""
    folder = tmp_path / "walkthrough"
    (folder / "artifacts").mkdir(parents=True)
    (folder / "artifacts" / "goodbatchinput.jsonl").write_text(GOOD_INPUT, encoding="utf-8")
    shutil.copy(ROOT / "artifacts" / "badbatchinput.jsonl", folder / "artifacts")
    monkeypatch.chdir(folder)
    return folder


def run_cell(source: str, namespace: dict) -> str:
    """Execute one cell in ``namespace``; return what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<cell>", "exec"), namespace)
    return out.getvalue()


def test_the_source_walkthrough_runs_verbatim_at_the_default_pace(
    default_pace_server: ServerInfo, workdir: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENAI_BASE_URL", default_pace_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    monkeypatch.delenv("OPENAI_ORG_ID", raising=False)
    monkeypatch.delenv("OPENAI_PROJECT_ID", raising=False)
    cells: dict = {}

    for cell in (IMPORTS, CLIENT, UPLOAD):
        assert run_cell(cell, cells) == ""
    created = STATUS_IN_REPR.findall(run_cell(CREATE, cells))
    assert created == ["validating", "validating"]
    retrieved = STATUS_IN_REPR.findall(run_cell(STATUS, cells))
    assert retrieved == ["validating", "validating"]
    listed = run_cell(LIST, cells)
    assert "We have 2 batches" in listed

    # the cell that cancels a batch five seconds after creating it: no ConflictError (409)
    cancel = STATUS_IN_REPR.findall(run_cell(CANCEL, cells))
    assert len(cancel) == 4, cancel
    assert cancel[0] == "validating"
    assert cancel[1] in ("validating", "in_progress")  # as on the real service: still running
    assert cancel[2] == "cancelling"
    assert cancel[3] in ("cancelling", "cancelled")

    # a learner looks at the results once the good batch has ended (the source ran its cells by
    # hand, minutes apart); the cell itself is verbatim
    client = sdk_client(default_pace_server.base_url, "sk-local")
    good = wait_until(client, cells["good_batch"].id)
    assert good.status == "completed"
    assert run_cell(RESULTS, cells) == ""
    output = (workdir / "artifacts" / "goodbatchoutput.jsonl").read_text().splitlines()
    assert len(output) == 3

    dead = wait_until(client, cells["dead_batch_walking"].id)
    assert dead.status == "cancelled"
    assert dead.request_counts.completed < 3  # the cancel stopped it before the end
    assert wait_until(client, cells["bad_batch"].id).status == "failed"
