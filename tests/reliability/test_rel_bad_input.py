"""Bad input of every kind: the server answers with OpenAI's envelope, never a 5xx, and stays up.

Each case checks the status code and the error envelope (message, param and code as the real API
gives them where docs/batch-api-facts.md knows them, else as docs/local-server.md documents
them), or, for problems found while a batch validates, the batch's ``errors.data``. After every case the server
must still answer its health check; at the end of the module a normal batch must still complete
and the server log must hold no traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from batch_api_local import ServerInfo, reset, set_token_limit, state

from support import (
    ANY,
    CHAT,
    TEST_KEY,
    RawApi,
    assert_clean_log,
    assert_error,
    assert_healthy,
    chat_line,
    file_lines,
    jsonl,
    log_offset,
    log_since,
    raw,
    run_batch,
    sdk_client,
    small_batch_completes,
    upload,
    wait_until,
)

BAD_FORMAT = "Invalid file format for Batch API. Must be .jsonl"
NOT_JSON_LINE = "This line is not parseable as valid JSON."
NOT_MULTIPART = (
    "Could not parse multipart form: the request body must be multipart/form-data with a "
    "'file' part and a 'purpose' field."
)
BAD_JSON_BODY = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent "
    "was not valid JSON. If you have trouble figuring out how to fix this, please contact us "
    "through our help center at help.openai.com.)"
)
NOT_AN_OBJECT_BODY = BAD_JSON_BODY  # the same message for JSON that is not an object
PURPOSES = "'assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'"
ENDPOINTS = (
    "'/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/responses', "
    "'/v1/moderations', '/v1/images/generations', and '/v1/images/edits'"
)
BOUNDARY = b"rel-boundary-7f3a"
MB = 1024 * 1024


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def server_survives_the_module(local_server: ServerInfo) -> Iterator[None]:
    """After every case of this module: healthy, a normal batch completes, a clean log."""
    offset = log_offset(local_server.state_dir)
    yield
    assert_healthy(local_server.root_url)
    reset(base_url=local_server.base_url, api_key=TEST_KEY)
    small_batch_completes(sdk_client(local_server.base_url))
    assert_clean_log(log_since(local_server.state_dir, offset))


@pytest.fixture(autouse=True)
def healthy_after_each_case(local_server: ServerInfo) -> Iterator[None]:
    yield
    assert_healthy(local_server.root_url)


@pytest.fixture
def api(client: OpenAI) -> Iterator[RawApi]:
    """Raw requests under /v1 with the test key, on the namespace ``client`` just emptied."""
    api = RawApi(client)
    yield api
    api.close()


def stored_files(server: ServerInfo) -> set[str]:
    return {p.name for p in (Path(server.state_dir) / "files").iterdir()}


def assert_nothing_stored(client: OpenAI, server: ServerInfo, before: set[str]) -> None:
    assert client.files.list().data == []
    assert stored_files(server) == before


def multipart(parts: list[tuple[str, str | bytes | None, bytes]], boundary: bytes = BOUNDARY):
    """A multipart/form-data body built by hand: (field name, filename or None, data)."""
    body = b""
    for name, filename, data in parts:
        head = b'Content-Disposition: form-data; name="' + name.encode() + b'"'
        if filename is not None:
            raw_name = filename if isinstance(filename, bytes) else filename.encode()
            head += b'; filename="' + raw_name + b'"\r\nContent-Type: application/octet-stream'
        body += b"--" + boundary + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n"
    return body + b"--" + boundary + b"--\r\n"


def multipart_type(boundary: bytes = BOUNDARY) -> dict[str, str]:
    return {"Content-Type": "multipart/form-data; boundary=" + boundary.decode()}


def without(line: dict[str, Any], *keys: str, body: bool = False) -> dict[str, Any]:
    """A copy of a request line without ``keys`` (in ``body`` when body=True)."""
    line = json.loads(json.dumps(line))
    target = line["body"] if body else line
    for key in keys:
        del target[key]
    return line


def assert_failed_with(batch: Any, expected: list[tuple[str, str | None, int | None, str]]):
    """A batch that failed validation with exactly these (code, param, line, message) errors."""
    assert batch.status == "failed", batch
    assert batch.errors is not None and batch.errors.object == "list"
    got = [(e.code, e.param, e.line, e.message) for e in batch.errors.data]
    assert got == expected
    assert batch.failed_at is not None and batch.in_progress_at is None
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed) == (0, 0)
    assert batch.request_counts.failed == 0
    assert batch.output_file_id is None and batch.error_file_id is None


def missing(param: str) -> str:
    return f"Missing required parameter: '{param}'."


# -- asynchronous validation: every line rule -------------------------------------------------

EMBED_NO_INPUT = {
    "custom_id": "e1",
    "method": "POST",
    "url": "/v1/embeddings",
    "body": {"model": "text-embedding-3-small"},
}

LINE_CASES = [
    pytest.param(
        [chat_line("a"), '{"custom_id": "b", "method": "POST", "url"'],
        CHAT,
        [("invalid_json_line", None, 2, NOT_JSON_LINE)],
        id="invalid_json_line",
    ),
    pytest.param(
        [chat_line("a"), "[1, 2]"],
        CHAT,
        [("invalid_json_line", None, 2, NOT_JSON_LINE)],
        id="json-array",
    ),
    pytest.param(
        [chat_line("a"), '"text"'],
        CHAT,
        [("invalid_json_line", None, 2, NOT_JSON_LINE)],
        id="json-string",
    ),
    pytest.param(
        [chat_line("a"), "42"],
        CHAT,
        [("invalid_json_line", None, 2, NOT_JSON_LINE)],
        id="json-number",
    ),
    pytest.param(
        [chat_line("a"), "null"],
        CHAT,
        [("invalid_json_line", None, 2, NOT_JSON_LINE)],
        id="json-null",
    ),
    *[
        pytest.param(
            [without(chat_line("a"), name)],
            CHAT,
            [("missing_required_parameter", name, 1, missing(name))],
            id=f"missing-{name}",
        )
        for name in ("custom_id", "method", "url", "body")
    ],
    pytest.param(
        [chat_line("a") | {"body": None}],
        CHAT,
        [("missing_required_parameter", "body", 1, missing("body"))],
        id="null-body-is-missing",
    ),
    pytest.param(
        [chat_line("a") | {"custom_id": 7}],
        CHAT,
        [
            (
                "invalid_type",
                "custom_id",
                1,
                "Invalid type for 'custom_id': expected a string, but got an integer instead.",
            )
        ],
        id="custom_id-not-a-string",
    ),
    pytest.param(
        [chat_line("a") | {"url": "/v1/completions"}],
        CHAT,
        [
            (
                "invalid_url",
                "url",
                1,
                "The URL provided for this request does not match the batch endpoint.",
            )
        ],
        id="invalid_url",
    ),
    pytest.param(
        [chat_line("a") | {"method": "GET"}],
        CHAT,
        [
            (
                "invalid_request",
                "method",
                1,
                "The method 'GET' is not supported. Only 'POST' is supported.",
            )
        ],
        id="method-GET",
    ),
    pytest.param(
        [chat_line("a", model="gpt-nope")],
        CHAT,
        [
            (
                "model_not_found",
                "body.model",
                1,
                "The provided model 'gpt-nope' is not supported by the Batch API.",
            )
        ],
        id="model_not_found",
    ),
    pytest.param(
        [chat_line("a", model="text-embedding-3-small")],
        CHAT,
        [
            (
                "model_not_found",
                "body.model",
                1,
                "The provided model 'text-embedding-3-small' is not supported by the Batch API.",
            )
        ],
        id="model-of-another-endpoint",
    ),
    pytest.param(
        [chat_line("a", stream=True)],
        CHAT,
        [
            (
                "streaming_unsupported",
                "body.stream",
                1,
                "Chat Completions: Streaming is not supported in the Batch API.",
            )
        ],
        id="streaming_unsupported",
    ),
    pytest.param(
        [without(chat_line("a"), "model", body=True)],
        CHAT,
        [("invalid_request", "body.model", 1, "Model parameter is required.")],
        id="invalid_request-missing-model",
    ),
    pytest.param(
        [without(chat_line("a"), "messages", body=True)],
        CHAT,
        [("invalid_request", "body.messages", 1, "Messages parameter is required.")],
        id="invalid_request-missing-messages",
    ),
    pytest.param(
        [EMBED_NO_INPUT],
        "/v1/embeddings",
        [("invalid_request", "body.input", 1, "Input parameter is required.")],
        id="invalid_request-missing-embedding-input",
    ),
    pytest.param(
        [chat_line("a"), chat_line("b", model="gpt-4o")],
        CHAT,
        [
            (
                "mismatched_model",
                "body.model",
                2,
                "The model 'gpt-4o' for this request does not match the rest of the batch. "
                "Each batch must contain requests for a single model.",
            )
        ],
        id="mismatched_model",
    ),
    pytest.param(
        [chat_line("a"), chat_line("b"), chat_line("a")],
        CHAT,
        [
            (
                "duplicate_custom_id",
                "custom_id",
                3,
                "The custom_id 'a' for this request is a duplicate of another request. "
                "The custom_id parameter must be unique for each request in a batch.",
            )
        ],
        id="duplicate_custom_id",
    ),
    pytest.param(
        [chat_line("a"), "", "   ", chat_line("b", stream=True), "\t", "{oops"],
        CHAT,
        [
            (
                "streaming_unsupported",
                "body.stream",
                4,
                "Chat Completions: Streaming is not supported in the Batch API.",
            ),
            ("invalid_json_line", None, 6, NOT_JSON_LINE),
        ],
        id="blank-lines-keep-physical-line-numbers",
    ),
    pytest.param(
        [
            chat_line("a"),
            chat_line("a"),
            chat_line("b", model="gpt-nope"),
            "[]",
            without(chat_line("c"), "url"),
        ],
        CHAT,
        [
            (
                "duplicate_custom_id",
                "custom_id",
                2,
                "The custom_id 'a' for this request is a duplicate of another request. "
                "The custom_id parameter must be unique for each request in a batch.",
            ),
            (
                "model_not_found",
                "body.model",
                3,
                "The provided model 'gpt-nope' is not supported by the Batch API.",
            ),
            ("invalid_json_line", None, 4, NOT_JSON_LINE),
            ("missing_required_parameter", "url", 5, missing("url")),
        ],
        id="every-bad-line-in-order",
    ),
]


@pytest.mark.parametrize(("lines", "endpoint", "expected"), LINE_CASES)
def test_bad_line_fails_the_batch(
    client: OpenAI, lines: list, endpoint: str, expected: list
) -> None:
    batch = run_batch(client, jsonl(lines), endpoint=endpoint)
    assert_failed_with(batch, expected)
    assert batch.model is None


def test_crlf_file_with_a_bad_line_reports_the_right_line(client: OpenAI) -> None:
    data = jsonl([chat_line("a"), chat_line("b"), "{not json"], newline="\r\n")
    assert_failed_with(run_batch(client, data), [("invalid_json_line", None, 3, NOT_JSON_LINE)])


# -- asynchronous validation: file-level problems ---------------------------------------------


def test_more_than_50000_requests(client: OpenAI) -> None:
    data = jsonl(chat_line(f"r{i}", "hi") for i in range(50_001))
    assert_failed_with(
        run_batch(client, data),
        [
            (
                "too_many_requests",
                None,
                None,
                "The batch input file contains 50,001 requests, more than the maximum of "
                "50,000 requests per batch.",
            )
        ],
    )


def test_more_than_50000_embedding_inputs(client: OpenAI) -> None:
    lines = [
        {
            "custom_id": f"e{i}",
            "method": "POST",
            "url": "/v1/embeddings",
            "body": {"model": "text-embedding-3-small", "input": ["x"] * 25_001},
        }
        for i in range(2)
    ]
    assert_failed_with(
        run_batch(client, jsonl(lines), endpoint="/v1/embeddings"),
        [
            (
                "too_many_embedding_inputs",
                None,
                None,
                "The batch input file contains 50,002 embedding inputs, more than the maximum "
                "of 50,000 embedding inputs per batch.",
            )
        ],
    )


def test_token_limit_exceeded(client: OpenAI, local_server: ServerInfo) -> None:
    conn = {"base_url": local_server.base_url, "api_key": TEST_KEY}
    limit = state(**conn)["token_limit"]
    set_token_limit(1_000, **conn)
    try:
        batch = run_batch(
            client, jsonl([chat_line("a", "word " * 800), chat_line("b", "word " * 800)])
        )
    finally:
        set_token_limit(limit, **conn)
    assert_failed_with(
        batch,
        [
            (
                "token_limit_exceeded",
                None,
                None,
                "Enqueued token limit reached for gpt-4o-mini in organization org-local. "
                "Limit: 1,000 enqueued tokens. Please try again once some in_progress batches "
                "have been completed.",
            )
        ],
    )


def test_missing_input_file(client: OpenAI) -> None:
    created = client.batches.create(
        input_file_id="file-doesnotexist", endpoint=CHAT, completion_window="24h"
    )
    assert created.status == "validating"
    assert_failed_with(
        wait_until(client, created.id),
        [
            (
                "invalid_request",
                "file_id",
                None,
                "Cannot find file file-doesnotexist, or organization org-local does not have "
                "access to it.",
            )
        ],
    )


@pytest.mark.parametrize("purpose", ["user_data", "assistants", "fine-tune"])
def test_input_file_with_another_purpose(client: OpenAI, purpose: str) -> None:
    file = upload(client, jsonl([chat_line("a")]), purpose=purpose)
    created = client.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h")
    assert created.status == "validating"
    assert_failed_with(
        wait_until(client, created.id),
        [
            (
                "invalid_request",
                "input_file_id",
                None,
                f"The input file {file.id} was uploaded with purpose '{purpose}'. "
                "A batch input file must be uploaded with purpose 'batch'.",
            )
        ],
    )


# -- upload-time refusals ---------------------------------------------------------------------

REFUSED_UPLOADS = [
    pytest.param(b"", "input.jsonl", id="empty-file"),
    pytest.param(b"\n\n   \n\r\n\t\n", "input.jsonl", id="only-blank-lines"),
    pytest.param(
        jsonl([chat_line("a")]) + b"\xff\xfe\xfa\n", "input.jsonl", id="non-utf8-later-line"
    ),
    pytest.param(b'{"custom_id": "caf\xe9"}\n', "input.jsonl", id="latin1-first-line"),
    pytest.param(jsonl([chat_line("a")]) + b"\xe2\x82", "input.jsonl", id="utf8-cut-at-the-end"),
    pytest.param(b"[1, 2]\n" + jsonl([chat_line("a")]), "input.jsonl", id="first-line-json-array"),
    pytest.param(b'"text"\n' + jsonl([chat_line("a")]), "input.jsonl", id="first-line-json-string"),
    pytest.param(b"42\n" + jsonl([chat_line("a")]), "input.jsonl", id="first-line-json-number"),
    pytest.param(
        json.dumps(chat_line("a"), indent=2).encode() + b"\n",
        "input.jsonl",
        id="pretty-printed-json",
    ),
    pytest.param(b"{" + b"x" * (20 * MB) + b"\n", "input.jsonl", id="huge-first-line-not-json"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "input.jsonl", id="binary"),
]


@pytest.mark.parametrize(("data", "name"), REFUSED_UPLOADS)
def test_batch_upload_refused(
    client: OpenAI, local_server: ServerInfo, api: RawApi, data: bytes, name: str
) -> None:
    before = stored_files(local_server)
    response = api.post("/files", files={"file": (name, data)}, data={"purpose": "batch"})
    assert_error(response, 400, BAD_FORMAT, param=None, code=None)
    assert_nothing_stored(client, local_server, before)


# -- odd files that are valid -----------------------------------------------------------------

BOM = b"\xef\xbb\xbf"
VALID_ODDITIES = [
    pytest.param(BOM + jsonl([chat_line("a"), chat_line("b")]), ["a", "b"], id="utf8-bom"),
    pytest.param(
        jsonl([chat_line("a"), chat_line("b"), chat_line("c")], "\r\n"), ["a", "b", "c"], id="crlf"
    ),
    pytest.param(
        BOM + jsonl([chat_line("a"), chat_line("b")], "\r\n"), ["a", "b"], id="bom-and-crlf"
    ),
    pytest.param(
        b"\n  \n"
        + jsonl([chat_line("a"), "", "   ", chat_line("b"), "\t", chat_line("c")])
        + b"\n\n",
        ["a", "b", "c"],
        id="blank-lines-between-and-around",
    ),
    pytest.param(
        jsonl([chat_line("a"), chat_line("b")]).rstrip(b"\n"), ["a", "b"], id="no-final-newline"
    ),
    pytest.param(
        jsonl([chat_line("a", "naïve café 東京 🚀"), chat_line("b", "\u2028 line separator")]),
        ["a", "b"],
        id="non-ascii-text",
    ),
]


@pytest.mark.parametrize(("data", "ids"), VALID_ODDITIES)
def test_odd_but_valid_file_completes(client: OpenAI, data: bytes, ids: list[str]) -> None:
    batch = run_batch(client, data)
    assert batch.status == "completed", batch.errors
    assert batch.request_counts is not None
    assert batch.request_counts.total == len(ids)
    assert batch.request_counts.completed == len(ids)
    assert batch.request_counts.failed == 0
    assert [x["custom_id"] for x in file_lines(client, batch.output_file_id)] == ids
    assert batch.error_file_id is None


def test_50001_lines_one_blank_is_50000_requests(client: OpenAI) -> None:
    lines: list[dict | str] = [chat_line(f"r{i}", "hi") for i in range(50_000)]
    lines.insert(25_000, "")
    batch = run_batch(client, jsonl(lines), timeout=90)
    assert batch.status == "completed", batch.errors
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed) == (50_000, 50_000)
    out = file_lines(client, batch.output_file_id)
    assert len(out) == 50_000
    assert len({x["custom_id"] for x in out}) == 50_000


def test_one_huge_line_is_accepted_and_validated(client: OpenAI, local_server: ServerInfo) -> None:
    """A 20 MB prompt as the first line: accepted at upload, validated, never a 5xx."""
    conn = {"base_url": local_server.base_url, "api_key": TEST_KEY}
    huge = chat_line("huge", "word " * (4 * MB))
    data = jsonl([huge, chat_line("small")])
    assert len(data) > 20 * MB
    limit = state(**conn)["token_limit"]
    set_token_limit(None, **conn)  # ~4M input tokens would otherwise hit the 2M queue limit
    try:
        batch = run_batch(client, data, timeout=120)
    finally:
        set_token_limit(limit, **conn)
    assert batch.status == "completed", batch.errors
    assert batch.request_counts is not None
    assert batch.request_counts.total == 2
    out = {x["custom_id"]: x for x in file_lines(client, batch.output_file_id)}
    err = {x["custom_id"]: x for x in file_lines(client, batch.error_file_id)}
    assert "small" in out and set(out) | set(err) == {"huge", "small"}
    if "huge" in err:
        response = err["huge"]["response"]
        assert response["status_code"] == 400
        assert response["body"]["error"]["code"] == "context_length_exceeded"
        assert response["body"]["error"]["param"] == "messages"
    assert batch.request_counts.completed == len(out)
    assert batch.request_counts.failed == len(err)


# -- unknown ids on every route ---------------------------------------------------------------

UNKNOWN_IDS = [
    ("GET", "/v1/files/file-doesnotexist", "No such File object: file-doesnotexist", "id"),
    ("GET", "/v1/files/file-doesnotexist/content", "No such File object: file-doesnotexist", "id"),
    ("DELETE", "/v1/files/file-doesnotexist", "No such File object: file-doesnotexist", "id"),
    ("GET", "/v1/batches/batch_doesnotexist", "No batch found with id 'batch_doesnotexist'.",
     "batch_id"),
    ("POST", "/v1/batches/batch_doesnotexist/cancel",
     "No batch found with id 'batch_doesnotexist'.", "batch_id"),
    ("POST", "/_local/batches/batch_doesnotexist/expire",
     "No batch found with id 'batch_doesnotexist'.", "batch_id"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "message", "param"), UNKNOWN_IDS)
def test_unknown_id_is_404(
    client: OpenAI, local_server: ServerInfo, method: str, path: str, message: str, param: str
) -> None:
    upload(client, jsonl([chat_line("a")]))  # the namespace is not empty
    response = raw(local_server.root_url, method, path)
    assert_error(response, 404, message, param=param, code=None)


# -- filenames with directories ---------------------------------------------------------------

FILENAMES = [
    pytest.param(b"../../etc/passwd.jsonl", "batch", "passwd.jsonl", id="dot-dot-slash"),
    pytest.param(b"a/b\\c.jsonl", "batch", "c.jsonl", id="slash-and-backslash"),
    pytest.param(b"/abs/dir/x.jsonl", "batch", "x.jsonl", id="absolute"),
    pytest.param(b"..\\..\\win.jsonl", "batch", "win.jsonl", id="windows-dot-dot"),
    pytest.param(b"C:\\Users\\me\\y.jsonl", "batch", "y.jsonl", id="windows-drive"),
    pytest.param(b"..", "evals", "upload", id="only-dot-dot"),
    pytest.param(b"a/../", "evals", "upload", id="trailing-slash"),
]


@pytest.mark.parametrize(("raw_name", "purpose", "stored"), FILENAMES)
def test_filename_keeps_only_its_last_component(
    client: OpenAI,
    local_server: ServerInfo,
    api: RawApi,
    raw_name: bytes,
    purpose: str,
    stored: str,
) -> None:
    state_dir = Path(local_server.state_dir)
    before = stored_files(local_server)
    data = jsonl([chat_line("a")])
    body = multipart([("file", raw_name, data), ("purpose", None, purpose.encode())])
    response = api.post("/files", content=body, headers=multipart_type())
    assert response.status_code == 200, response.text
    file = response.json()
    assert file["filename"] == stored
    # the bytes live under files/<id> and nowhere else
    assert stored_files(local_server) - before == {file["id"]}
    assert (state_dir / "files" / file["id"]).read_bytes() == data
    assert client.files.content(file["id"]).content == data
    name = raw_name.decode()
    repo_root = Path(__file__).resolve().parents[2]  # the server's working directory
    for base in (state_dir / "files", state_dir, repo_root):
        for candidate in (name, name.replace("\\", "/")):
            target = (base / candidate).resolve()
            assert target.is_dir() or not target.exists() or target == base.resolve(), target
    if stored != "upload":
        assert not list(state_dir.rglob(stored)), "a file was written under its own name"


# -- metadata at create -----------------------------------------------------------------------

LONG_KEY = "k" * 65
METADATA_CASES = [
    pytest.param(
        {f"k{i}": "v" for i in range(17)},
        "Invalid 'metadata': too many properties. Expected an object with at most 16 "
        "properties, but got an object with 17 properties instead.",
        "metadata",
        "object_above_max_properties",
        id="17-keys",
    ),
    pytest.param(
        {LONG_KEY: "v"},
        f"Invalid property name in 'metadata': '{LONG_KEY}' is too long. Expected a string "
        "with maximum length 64, but got a string with length 65 instead.",
        f"metadata.{LONG_KEY}",
        "string_above_max_length",
        id="65-char-key",
    ),
    pytest.param(
        {"note": "v" * 513},
        "Invalid 'metadata.note': string too long. Expected a string with maximum length 512, "
        "but got a string with length 513 instead.",
        "metadata.note",
        "string_above_max_length",
        id="513-char-value",
    ),
    pytest.param(
        {"tags": ["a", "b"]},
        "Invalid type for 'metadata.tags': expected a string, but got an array instead.",
        "metadata.tags",
        "invalid_type",
        id="list-value",
    ),
    pytest.param(
        {"owner": {"name": "x"}},
        "Invalid type for 'metadata.owner': expected a string, but got an object instead.",
        "metadata.owner",
        "invalid_type",
        id="nested-object",
    ),
    pytest.param(
        {"n": 3},
        "Invalid type for 'metadata.n': expected a string, but got an integer instead.",
        "metadata.n",
        "invalid_type",
        id="number-value",
    ),
    pytest.param(
        {"x": 1.5},
        "Invalid type for 'metadata.x': expected a string, but got a decimal instead.",
        "metadata.x",
        "invalid_type",
        id="decimal-value",
    ),
    pytest.param(
        {"flag": True},
        "Invalid type for 'metadata.flag': expected a string, but got a boolean instead.",
        "metadata.flag",
        "invalid_type",
        id="boolean-value",
    ),
    pytest.param(
        "project=x",
        "Invalid type for 'metadata': expected an object, but got a string instead.",
        "metadata",
        "invalid_type",
        id="metadata-a-string",
    ),
    pytest.param(
        [["k", "v"]],
        "Invalid type for 'metadata': expected an object, but got an array instead.",
        "metadata",
        "invalid_type",
        id="metadata-an-array",
    ),
]


def create_body(file_id: str, **extra: Any) -> dict[str, Any]:
    return {"input_file_id": file_id, "endpoint": CHAT, "completion_window": "24h", **extra}


@pytest.mark.parametrize(("metadata", "message", "param", "code"), METADATA_CASES)
def test_bad_metadata_is_refused(
    client: OpenAI, api: RawApi, metadata: Any, message: str, param: str, code: str
) -> None:
    file = upload(client, jsonl([chat_line("a")]))
    response = api.post("/batches", json=create_body(file.id, metadata=metadata))
    assert_error(response, 400, message, param=param, code=code)
    assert client.batches.list().data == []


def test_metadata_at_the_limits_is_accepted(client: OpenAI, api: RawApi) -> None:
    file = upload(client, jsonl([chat_line("a")]))
    metadata = {f"{i:02d}".ljust(64, "k"): "v" * 512 for i in range(16)}
    response = api.post("/batches", json=create_body(file.id, metadata=metadata))
    assert response.status_code == 200, response.text
    assert response.json()["metadata"] == metadata
    assert wait_until(client, response.json()["id"]).status == "completed"


# -- malformed multipart ----------------------------------------------------------------------

GOOD = jsonl([chat_line("a")])
FULL = multipart([("file", "in.jsonl", GOOD), ("purpose", None, b"batch")])
MULTIPART_CASES = [
    pytest.param(
        multipart_type(b"other-boundary"), FULL, NOT_MULTIPART, None, None, id="wrong-boundary"
    ),
    pytest.param(
        {"Content-Type": "multipart/form-data"}, FULL, NOT_MULTIPART, None, None, id="no-boundary"
    ),
    pytest.param(
        multipart_type(), b"hello, this is not multipart", NOT_MULTIPART, None, None,
        id="garbage-body",
    ),
    pytest.param(
        multipart_type(),
        multipart([("file", "a.jsonl", GOOD), ("file", "b.jsonl", GOOD), ("purpose", None, b"batch")]),
        NOT_MULTIPART, None, None, id="two-file-parts",
    ),
    pytest.param(
        multipart_type(), multipart([("purpose", None, b"batch")]),
        missing("file"), "file", "missing_required_parameter", id="no-file-part",
    ),
    pytest.param(
        multipart_type(), multipart([("file", "in.jsonl", GOOD)]),
        missing("purpose"), "purpose", "missing_required_parameter", id="no-purpose",
    ),
    pytest.param(
        multipart_type(), multipart([("file", "in.jsonl", GOOD), ("purpose", None, b"")]),
        missing("purpose"), "purpose", "missing_required_parameter", id="empty-purpose",
    ),
    pytest.param(
        multipart_type(), multipart([("file", "in.jsonl", GOOD), ("purpose", None, b"nope")]),
        f"Invalid value: 'nope'. Supported values are: {PURPOSES}.", "purpose", "invalid_value",
        id="invalid-purpose",
    ),
    pytest.param(
        multipart_type(),
        multipart([("file", "in.jsonl", GOOD), ("purpose", None, b"batch_output")]),
        f"Invalid value: 'batch_output'. Supported values are: {PURPOSES}.", "purpose",
        "invalid_value", id="purpose-batch_output",
    ),
    pytest.param(
        multipart_type(), multipart([("file", None, GOOD), ("purpose", None, b"batch")]),
        "The 'file' field must be a file upload.", "file", None, id="file-as-plain-field",
    ),
    pytest.param(
        {"Content-Type": "application/json"},
        json.dumps({"file": GOOD.decode(), "purpose": "batch"}).encode(),
        NOT_MULTIPART, None, None, id="json-body",
    ),
    pytest.param(
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"file=x&purpose=batch", NOT_MULTIPART, None, None, id="urlencoded-body",
    ),
    pytest.param({}, b"", NOT_MULTIPART, None, None, id="no-body-no-content-type"),
    pytest.param(multipart_type(), FULL[: len(FULL) // 2], ANY, ANY, ANY, id="truncated-body"),
]  # fmt: skip


@pytest.mark.parametrize(("headers", "body", "message", "param", "code"), MULTIPART_CASES)
def test_malformed_upload_request(
    client: OpenAI,
    local_server: ServerInfo,
    api: RawApi,
    headers: dict,
    body: bytes,
    message: Any,
    param: Any,
    code: Any,
) -> None:
    before = stored_files(local_server)
    response = api.post("/files", content=body, headers=headers)
    assert_error(response, 400, message, param=param, code=code)
    assert_nothing_stored(client, local_server, before)


# -- malformed POST /v1/batches ---------------------------------------------------------------

CREATE_CASES = [
    pytest.param(
        {"Content-Type": "application/json"}, b'{"input_file_id": "file-x", "endpoint": ',
        BAD_JSON_BODY, None, None, id="malformed-json",
    ),
    pytest.param(
        {"Content-Type": "application/json"}, b"\xff\xfe\x00garbage", BAD_JSON_BODY, None, None,
        id="binary-body",
    ),
    pytest.param(
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"input_file_id=file-x&endpoint=%2Fv1%2Fchat%2Fcompletions&completion_window=24h",
        BAD_JSON_BODY, None, None, id="wrong-content-type-form",
    ),
    pytest.param(
        multipart_type(), multipart([("input_file_id", None, b"file-x")]), BAD_JSON_BODY, None,
        None, id="wrong-content-type-multipart",
    ),
    pytest.param(
        {"Content-Type": "application/json"}, b"[1, 2]", NOT_AN_OBJECT_BODY, None, None,
        id="json-array",
    ),
    pytest.param(
        {"Content-Type": "application/json"}, b"", NOT_AN_OBJECT_BODY, None, None, id="empty-body"
    ),
    pytest.param(
        {"Content-Type": "application/json"},
        json.dumps({"endpoint": CHAT, "completion_window": "24h"}).encode(),
        missing("input_file_id"), "input_file_id", "missing_required_parameter",
        id="no-input_file_id",
    ),
    pytest.param(
        {"Content-Type": "application/json"},
        json.dumps(create_body("file-x", endpoint=None)).encode(),
        missing("endpoint"), "endpoint", "missing_required_parameter", id="null-endpoint",
    ),
    pytest.param(
        {"Content-Type": "application/json"},
        json.dumps(create_body(5)).encode(),  # type: ignore[arg-type]
        "Invalid type for 'input_file_id': expected a string, but got an integer instead.",
        "input_file_id", "invalid_type", id="input_file_id-an-integer",
    ),
    pytest.param(
        {"Content-Type": "application/json"},
        json.dumps(create_body("file-x", endpoint="/v1/videos")).encode(),
        f"Invalid value: '/v1/videos'. Supported values are: {ENDPOINTS}.",
        "endpoint", "invalid_value", id="unsupported-endpoint",
    ),
    pytest.param(
        {"Content-Type": "application/json"},
        json.dumps(create_body("file-x", completion_window="1h")).encode(),
        "Invalid value: '1h'. Supported values are: '24h'.", "completion_window", "invalid_value",
        id="completion_window-1h",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("headers", "body", "message", "param", "code"), CREATE_CASES)
def test_malformed_create_request(
    client: OpenAI, api: RawApi, headers: dict, body: bytes, message: str, param: Any, code: Any
) -> None:
    response = api.post("/batches", content=body, headers=headers)
    assert_error(response, 400, message, param=param, code=code)
    assert client.batches.list().data == []


# -- list parameters --------------------------------------------------------------------------

LIST_CASES = [
    ("/batches?limit=0", "Invalid 'limit': integer 0 is not between 1 and 100.", "invalid_value"),
    ("/batches?limit=101", "Invalid 'limit': integer 101 is not between 1 and 100.",
     "invalid_value"),
    ("/batches?limit=-5", "Invalid 'limit': integer -5 is not between 1 and 100.",
     "invalid_value"),
    ("/batches?limit=abc",
     "Invalid type for 'limit': expected an integer, but got a string instead.", "invalid_type"),
    ("/files?limit=0", "Invalid 'limit': integer 0 is not between 1 and 10000.",
     "invalid_value"),
    ("/files?limit=10001", "Invalid 'limit': integer 10001 is not between 1 and 10000.",
     "invalid_value"),
    ("/files?limit=abc",
     "Invalid type for 'limit': expected an integer, but got a string instead.", "invalid_type"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "message", "code"), LIST_CASES)
def test_bad_list_limit(client: OpenAI, api: RawApi, path: str, message: str, code: str) -> None:
    assert_error(api.get(path), 400, message, param="limit", code=code)


def test_bad_files_order(client: OpenAI, api: RawApi) -> None:
    assert_error(
        api.get("/files?order=sideways"),
        400,
        "Invalid value: 'sideways'. Supported values are: 'asc', 'desc'.",
        param="order",
        code="invalid_value",
    )


def test_files_limit_101_is_within_the_files_range(client: OpenAI, api: RawApi) -> None:
    for i in range(3):
        upload(client, jsonl([chat_line("a")]), name=f"f{i}.jsonl")
    response = api.get("/files?limit=101")
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 3 and response.json()["has_more"] is False


@pytest.mark.parametrize("kind", ["files", "batches"])
def test_unknown_after_cursor_returns_the_first_page(
    client: OpenAI, api: RawApi, kind: str
) -> None:
    file = upload(client, jsonl([chat_line("a")]))
    for i in range(3):
        if kind == "files":
            upload(client, jsonl([chat_line("a")]), name=f"extra{i}.jsonl")
        else:  # batches only: their output files would change the files list as they finish
            client.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h")
    unknown = "file-doesnotexist" if kind == "files" else "batch_doesnotexist"
    first = api.get(f"/{kind}?limit=2")
    after = api.get(f"/{kind}?limit=2&after={unknown}")
    assert first.status_code == after.status_code == 200, after.text
    ids = [x["id"] for x in first.json()["data"]]
    assert len(ids) == 2
    assert [x["id"] for x in after.json()["data"]] == ids
    assert after.json()["has_more"] is True and after.json()["first_id"] == ids[0]
