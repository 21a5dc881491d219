"""Every error the local server sends, and its wording, in one place.

Two shapes reach a client:

- :class:`APIError`: an HTTP error with OpenAI's envelope ``{"error": {"message", "type",
  "param", "code"}}`` (the spec's ``ErrorResponse``). Routes raise it and
  :func:`batch_api_local.app.create_app` renders it; the responder raises it too, and the
  runner writes its :meth:`APIError.body` into a batch's error file as that line's response.
- :class:`BatchError`: one entry of ``batch.errors.data`` (``code``, ``message``, ``param``,
  ``line``), made by :func:`batch_error` from :data:`BATCH_MESSAGES`, and also what
  :func:`helpers.check_batch_file` returns.

Every message a client of the emulated API (``/v1``) can see is written here, once. What OpenAI
was observed returning is reproduced exactly; wording that is not known is marked
``UNCONFIRMED`` here and listed under "Known deviations" in ``docs/local-server.md``. Change a
message here and every caller follows. The control surface (``/_local``), which the real API
does not have, words its own refusals where it checks them (:mod:`.domain.tenants`,
:mod:`.domain.control`, :mod:`.keys`, :mod:`.webhooks`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# -- HTTP errors --------------------------------------------------------------------------------

#: observed, e.g. ChatGPTNextWeb/NextChat#4064 (2024)
INVALID_JSON_BODY = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
    "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was "
    "not valid JSON. If you have trouble figuring out how to fix this, please contact us through "
    "our help center at help.openai.com.)"
)
#: the real 500 (openai/openai-cua-sample-app#54, 2025); the request id is added when known
SERVER_ERROR = (
    "The server had an error processing your request. Sorry about that! You can retry your "
    "request, or contact us through our help center at help.openai.com if you keep seeing this "
    "error."
)
QUOTA_EXCEEDED = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors."
)


class APIError(Exception):
    """An error with the fields of OpenAI's ``Error`` object and an HTTP status."""

    status_code = 400
    error_type = "invalid_request_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status_code: int | None = None,
        error_type: str | None = None,
        should_retry: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        if status_code is not None:
            self.status_code = status_code
        if error_type is not None:
            self.error_type = error_type
        self.should_retry = should_retry
        #: the request's body was not read to its end: answer, then close the connection, so
        #: the server does not go on reading what the client still sends
        self.close_connection = False

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.should_retry is not None:
            headers["x-should-retry"] = "true" if self.should_retry else "false"
        if self.close_connection:
            headers["Connection"] = "close"
        return headers


class BadRequest(APIError):
    status_code = 400


class Unauthorized(APIError):
    status_code = 401


class Forbidden(APIError):
    status_code = 403


class NotFound(APIError):
    status_code = 404


class Conflict(APIError):
    """HTTP 409. Sent with ``x-should-retry: false`` so the SDK does not retry it."""

    status_code = 409

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("should_retry", False)
        super().__init__(message, **kwargs)


class TooManyRequests(APIError):
    """HTTP 429, with ``Retry-After``: the SDK waits that long, then tries again."""

    status_code = 429
    error_type = "requests"

    def __init__(self, message: str, *, retry_after: int = 1, **kwargs: Any) -> None:
        kwargs.setdefault("code", "rate_limit_exceeded")
        kwargs.setdefault("should_retry", True)
        super().__init__(message, **kwargs)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "Retry-After": str(self.retry_after)}


def too_many_large_requests(model: Any, running: int, per_key: int) -> TooManyRequests:
    """A direct call with a large answer (2,048 embeddings, say) while the server already
    builds as many as it builds at once, and more wait (the local server's own limit, worded
    like the real API's rate limits: ``Rate limit reached for <model> in organization <org> on
    requests per min (RPM): Limit ..., Used ..., Requested 1. Please try again in ...``)."""
    return TooManyRequests(
        f"Rate limit reached for {model} on the local server on large requests at once: "
        f"{running} are answered at a time, and each key may have {per_key} running or waiting. "
        "Please try again in 1s."
    )


def server_error(request_id: str | None = None) -> APIError:
    """The 500 the real API sends when something breaks on its side."""
    message = SERVER_ERROR
    if request_id:
        message += f" (Please include the request ID {request_id} in your email.)"
    return APIError(message, status_code=500, error_type="server_error")


def invalid_json_body() -> BadRequest:
    return BadRequest(INVALID_JSON_BODY)


def request_too_large(limit: int) -> APIError:
    """A request body past the local server's limit (the real limit is UNCONFIRMED)."""
    error = APIError(
        f"The request body is too large: at most {limit:,} bytes are accepted.",
        status_code=413,
        code="request_too_large",
    )
    error.close_connection = True
    return error


def file_too_large() -> BadRequest:
    """An upload past the size limit for its purpose (observed at upload)."""
    return batch_error("file_too_large").as_api_error()


def storage_quota_exceeded(quota: int) -> BadRequest:
    """An upload that would take a key's files past the server's storage quota
    (``--quota-mb``). Worded after the real API's refusal, which is per organization: 400
    ``You have exceeded your file storage quota. Organizations are limited to 100 GB of files.
    Please delete old files or attempt with a smaller file size.``, param and code null
    (observed: bespokelabsai/curator#189, 2024)."""
    size = f"{quota / 1024**2:g} MB" if quota >= 1024**2 else f"{quota:,} bytes"
    return BadRequest(
        "You have exceeded your file storage quota. Each key of this server is limited to "
        f"{size} of files. Please delete old files or attempt with a smaller file size."
    )


def invalid_host(host: str | None) -> BadRequest:
    return BadRequest(
        f"Invalid host header {host!r}: this server answers only requests addressed to "
        "localhost, 127.0.0.1 or [::1]."
    )


def storage_failed(exc: OSError) -> APIError:
    """The state directory refused a write (a full disk, a read-only folder).

    The answer says why, never where: on a class server the caller is a student, and the
    folder is the instructor's. The server's log names it (:func:`.app.create_app`)."""
    reason = exc.strerror or "the write failed"
    return APIError(
        f"The local server could not write to its state directory: {reason}. Nothing was "
        "changed. Whoever runs the server finds the folder in its log: free some space there "
        "(or make it writable), then try again.",
        status_code=507,
        error_type="server_error",
    )


def invalid_url(method: str, path: str, status_code: int = 404) -> APIError:
    return APIError(f"Invalid URL ({method} {path})", status_code=status_code)


def missing_parameter(name: str) -> BadRequest:
    return BadRequest(
        f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
    )


def invalid_value(name: str, value: Any, supported: list[str] | None = None) -> BadRequest:
    message = f"Invalid value: '{value}'."
    if supported:
        message += " Supported values are: " + ", ".join(f"'{s}'" for s in supported) + "."
    return BadRequest(message, param=name, code="invalid_value")


def invalid_type(name: str, expected: str, got: Any) -> BadRequest:
    return BadRequest(
        f"Invalid type for '{name}': expected {expected}, but got {json_type_name(got)} instead.",
        param=name,
        code="invalid_type",
    )


def empty_array(name: str) -> BadRequest:
    return BadRequest(
        f"Invalid '{name}': empty array. Expected an array with minimum length 1, but got an "
        "empty array instead.",
        param=name,
        code="empty_array",
    )


def out_of_range(name: str, kind: str, value: Any, bound: Any, *, above: bool) -> BadRequest:
    """``integer``/``decimal`` ``above``/``below`` its maximum/minimum, as OpenAI words it."""
    side, word, sign = ("above", "maximum", "<=") if above else ("below", "minimum", ">=")
    return BadRequest(
        f"Invalid '{name}': {kind} {side} {word} value. Expected a value {sign} {bound}, but got "
        f"{value} instead.",
        param=name,
        code=f"{kind}_{side}_{'max' if above else 'min'}_value",
    )


def not_between(name: str, value: int, low: int, high: int) -> BadRequest:
    return BadRequest(
        f"Invalid '{name}': integer {value} is not between {low} and {high}.",
        param=name,
        code="invalid_value",
    )


# -- who is calling, request bodies, and the Files and Batches APIs -----------------------------


def missing_key() -> Unauthorized:
    return Unauthorized("Missing bearer or basic authentication in header")


def incorrect_key(masked: str) -> Unauthorized:
    """A key this server does not know, shown masked as OpenAI shows it."""
    return Unauthorized(
        f"Incorrect API key provided: {masked}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


def not_an_object() -> BadRequest:
    """A body that is JSON, but not the object the route takes (UNCONFIRMED wording)."""
    return BadRequest("The request body must be a JSON object.")


#: an upload that is not a multipart form with a file (UNCONFIRMED wording)
NOT_MULTIPART = (
    "Could not parse multipart form: the request body must be multipart/form-data with a "
    "'file' part and a 'purpose' field."
)


def not_multipart() -> BadRequest:
    return BadRequest(NOT_MULTIPART)


def file_field_not_a_file() -> BadRequest:
    return BadRequest("The 'file' field must be a file upload.", param="file")


def too_many_form_fields(limit: int) -> BadRequest:
    return BadRequest(f"Too many form fields: at most {limit} are read.")


def form_field_too_long(name: str | None) -> BadRequest:
    return BadRequest(f"The form field '{name}' is too long.", param=name)


def no_such_file(file_id: str) -> NotFound:
    return NotFound(f"No such File object: {file_id}", param="id")


def download_refused(purpose: str) -> BadRequest:
    return BadRequest(f"Not allowed to download files of purpose: {purpose}")


def no_such_batch(batch_id: str) -> NotFound:
    return NotFound(f"No batch found with id '{batch_id}'.", param="batch_id")


def cannot_cancel(status: str) -> Conflict:
    return Conflict(f"Cannot cancel a batch with status '{status}'.")


def too_many_metadata_keys(limit: int, count: int) -> BadRequest:
    return too_many_properties("metadata", limit, count)


def metadata_key_too_long(key: str, limit: int) -> BadRequest:
    return BadRequest(
        f"Invalid property name in 'metadata': '{key}' is too long. Expected a string with "
        f"maximum length {limit}, but got a string with length {len(key)} instead.",
        param=f"metadata.{key}",
        code="string_above_max_length",
    )


def metadata_value_too_long(key: str, limit: int, length: int) -> BadRequest:
    return string_too_long(f"metadata.{key}", limit, length)


def json_type_name(value: Any) -> str:
    """How OpenAI names a JSON value's type in its messages ("an array", "a string", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "an unknown value"


#: (message, type, code) of a batch line forced to fail with only an HTTP status
_STATUS_BODIES: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    429: (QUOTA_EXCEEDED, "insufficient_quota", "insufficient_quota"),
    500: (SERVER_ERROR, "server_error", None),
}


def status_error(status: int) -> APIError:
    """A typical error for an HTTP ``status`` (a forced line's, or a failed upstream call's)."""
    message, kind, code = _STATUS_BODIES.get(
        status, (f"The request failed with status {status}.", "invalid_request_error", None)
    )
    return APIError(message, status_code=status, error_type=kind, code=code)


# -- answers from an upstream server or a cassette (local features; all wording UNCONFIRMED) --


class LineError(APIError):
    """A request that got no HTTP answer at all (the upstream server did not answer in time).

    In a batch its line has ``response: null`` and this error (:meth:`line_error`), as the real
    API writes lines that never got a response; a direct call gets it as an HTTP error.
    """

    def line_error(self) -> dict[str, str]:
        return {"code": str(self.code), "message": self.message}


def upstream_timeout(seconds: float) -> LineError:
    return LineError(
        f"The upstream server did not answer this request within {_fmt_number(seconds)} "
        "seconds (every try included), so the local server gave up on it. You can retry the "
        "request.",
        status_code=504,
        error_type="server_error",
        code="request_timeout",
    )


def upstream_unreachable(reason: str, attempts: int) -> APIError:
    tries = "once" if attempts == 1 else f"{attempts} times"
    return APIError(
        f"The local server could not get an answer from its upstream server ({reason}); it "
        f"tried {tries}. You can retry the request.",
        status_code=500,
        error_type="server_error",
    )


def upstream_gave_up(status: int, attempts: int) -> APIError:
    tries = "its only try" if attempts == 1 else f"all {attempts} tries"
    return APIError(
        f"The upstream server answered {status} to {tries}. You can retry the request.",
        status_code=status,
        error_type="server_error" if status >= 500 else "invalid_request_error",
    )


def upstream_bad_reply(status: int, what: str) -> APIError:
    """An upstream reply that cannot be a result line as it is (not JSON, too large ...):
    2xx becomes 502, an error status is kept."""
    return APIError(
        f"The upstream server's reply could not be kept: {what}",
        status_code=502 if status < 400 else status,
        error_type="server_error",
        code="upstream_bad_reply",
    )


def not_recorded(endpoint: str) -> NotFound:
    return NotFound(
        f"No recorded answer for this request: the cassette this server replays (--replay, "
        f"--replay-strict) has no exchange for POST {endpoint} with this exact body. Record it "
        "first (serve --upstream URL --record FILE), or start the server without "
        "--replay-strict to get a placeholder answer instead.",
        code="not_recorded",
    )


# -- what the endpoints a batch line targets refuse (the responder's errors) ------------------


def _fmt_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _choices(supported: list[str]) -> str:
    quoted = [f"'{s}'" for s in supported]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def invalid_choice(name: str, value: Any, supported: list[str]) -> BadRequest:
    """``Invalid value: "x". Supported values are: 'a', 'b', and 'c'.`` (value as JSON)."""
    return BadRequest(
        f"Invalid value: {json.dumps(value, default=repr)}. Supported values are: "
        f"{_choices(supported)}.",
        param=name,
        code="invalid_value",
    )


def unsupported_endpoint(endpoint: Any, supported: tuple[str, ...]) -> BadRequest:
    """A batch's ``endpoint`` that the Batch API does not take, ``/v1/videos`` since 2026-09-24
    included (observed wording, with the Oxford "and": "Invalid value: '/v1/invalid'. Supported
    values are: '/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/responses',
    and '/v1/moderations'.", code ``invalid_value``, param ``endpoint``, in public client tests
    and llama-stack's of 2025-08; the answer to ``/v1/videos`` since it shut down is
    UNCONFIRMED: the SDK says only "Batch creation no longer accepts this endpoint")."""
    return invalid_enum("endpoint", endpoint, supported)


def invalid_part_type(name: str, value: str, supported: list[str]) -> BadRequest:
    """A content part of a type the role cannot send (observed: aallam/openai-kotlin#320)."""
    return invalid_enum(name, value, supported)


def invalid_enum(name: str, value: Any, supported: list[str] | tuple[str, ...]) -> BadRequest:
    """A string that is not one of an enum's values: ``Invalid value: 'x'. Supported values
    are: 'a', 'b', and 'c'.`` (observed for ``reasoning.effort``, ``truncation``, ``include[i]``,
    ``service_tier``, ``verbosity``; [3P] direct-API captures against gpt-5.6-terra, 2026-08-30,
    quoted in the research notes, and codex CLI users' logs of ``reasoning.effort``)."""
    return BadRequest(
        f"Invalid value: '{value}'. Supported values are: {_choices(list(supported))}.",
        param=name,
        code="invalid_value",
    )


def _alternatives(supported: list[str] | tuple[str, ...]) -> str:
    """``'a' or 'b'``, ``'a', 'b', or 'c'``: how OpenAI lists an enum in a type error."""
    quoted = [f"'{s}'" for s in supported]
    if len(quoted) <= 2:
        return " or ".join(quoted)
    return ", ".join(quoted[:-1]) + ", or " + quoted[-1]


def enum_type(name: str, supported: list[str] | tuple[str, ...], got: Any) -> BadRequest:
    """An enum given something other than a string: ``Invalid type for 'truncation': expected
    one of 'auto' or 'disabled', but got an object instead.`` ([3P] the same captures)."""
    return invalid_type(name, "one of " + _alternatives(supported), got)


def enum_list_type(name: str, got: Any) -> BadRequest:
    """An array of enum values given something else (the real message abbreviates each value;
    this one says "an array of strings": UNCONFIRMED)."""
    return invalid_type(name, "an array of strings", got)


def string_too_long(name: str, limit: int, length: int) -> BadRequest:
    """A string past its maximum length (the wording observed for ``metadata`` values)."""
    return BadRequest(
        f"Invalid '{name}': string too long. Expected a string with maximum length {limit}, "
        f"but got a string with length {length} instead.",
        param=name,
        code="string_above_max_length",
    )


def array_too_long(name: str, limit: int, length: int) -> BadRequest:
    """An array past its maximum length (observed for ``tools``: "Invalid 'tools': array too
    long. Expected an array with maximum length 128, but got an array with length 132
    instead.", and for Responses' ``input[i].content``, code ``array_above_max_length``)."""
    return BadRequest(
        f"Invalid '{name}': array too long. Expected an array with maximum length {limit}, but "
        f"got an array with length {length} instead.",
        param=name,
        code="array_above_max_length",
    )


def too_many_properties(name: str, limit: int, count: int) -> BadRequest:
    """An object with more properties than allowed (observed for ``metadata``, and for
    ``logit_bias`` at 1,024)."""
    return BadRequest(
        f"Invalid '{name}': too many properties. Expected an object with at most {limit} "
        f"properties, but got an object with {count} properties instead.",
        param=name,
        code="object_above_max_properties",
    )


def unknown_parameter(name: str) -> BadRequest:
    """A body parameter the endpoint does not have: Responses and ``n``, ``seed``, ``logprobs``
    ... ([3P] direct-API captures against gpt-5.6-terra, 2026-08-30: "Unknown parameter: 'n'.";
    a misspelt ``stop`` also got "Did you mean 'store'?", which is not reproduced)."""
    return BadRequest(f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")


#: where a chat parameter sent to Responses is told to look
RESPONSES_REFERENCE = "https://platform.openai.com/docs/api-reference/responses/create"


def moved_parameter(name: str, moved_to: str) -> BadRequest:
    """A chat parameter sent to Responses under its chat name (observed for
    ``reasoning_effort``: OpenHands/software-agent-sdk#755 and lobehub/lobehub#8116, 2025, param
    null; for ``response_format`` in many client logs; for ``messages`` in the [3P] captures)."""
    return BadRequest(
        f"Unsupported parameter: '{name}'. In the Responses API, this parameter has moved to "
        f"'{moved_to}'. Try again with the new parameter. See the API documentation for more "
        f"information: {RESPONSES_REFERENCE}.",
        code="unsupported_parameter",
    )


def top_logprobs_without_logprobs() -> BadRequest:
    """Chat's ``top_logprobs`` without ``logprobs: true`` ([3P] direct-API capture against
    gpt-5.6-terra, 2026-08-30; param ``top_logprobs``, code null)."""
    return BadRequest(
        "The 'top_logprobs' parameter is only allowed when 'logprobs' is enabled.",
        param="top_logprobs",
    )


def logprobs_while_reasoning(param: str) -> BadRequest:
    """Responses' ``top_logprobs`` or the ``message.output_text.logprobs`` include while the
    model reasons ([3P] direct-API captures against gpt-5.6-terra, 2026-08-30)."""
    return BadRequest(
        "logprobs are not supported with reasoning models.",
        param=param,
        code="unsupported_parameter",
    )


def invalid_logit_bias_key(key: str) -> BadRequest:
    """A ``logit_bias`` key that is not a token id (observed: OkGoDoIt/OpenAI-API-dotnet#163,
    2023; sashabaranov/go-openai#129)."""
    return BadRequest(
        f"Invalid key in 'logit_bias': {key}. You should only be submitting non-negative integers.",
        param="logit_bias",
    )


def chat_cache_retention() -> BadRequest:
    """Chat's terse answer to a ``prompt_cache_retention`` outside its enum ([3P] direct-API
    capture against gpt-5.6-terra, 2026-08-30; Responses answers with ``invalid_value``)."""
    return BadRequest("Invalid prompt_cache_retention argument", param="prompt_cache_retention")


def invalid_response_schema(name: Any, problem: str, param: str) -> BadRequest:
    """A ``json_schema`` response format that strict mode cannot use."""
    return BadRequest(
        f"Invalid schema for response_format '{name}': {problem}",
        param=param,
        code="invalid_json_schema",
    )


def invalid_function_schema(name: Any, problem: str, param: str) -> BadRequest:
    """A function tool whose ``parameters`` strict mode cannot use."""
    return BadRequest(
        f"Invalid schema for function '{name}': {problem}",
        param=param,
        code="invalid_function_parameters",
    )


#: What the local server says of a schema it cannot make a value of: each follows ``Invalid
#: schema for response_format '<name>': `` (or ``function``). UNCONFIRMED: the real API's words
#: for these cases are not known.
def schema_not_local_ref(ref: Any) -> str:
    return f"only local references are supported, not {ref!r}"


def schema_ref_nowhere(ref: Any) -> str:
    return f"the reference {ref!r} points nowhere"


def schema_false() -> str:
    return "no value is valid against the schema 'false'"


def schema_keyword_type(keyword: str, expected: str, value: Any) -> str:
    """A keyword whose value has the wrong JSON type (``"minItems": "x"``)."""
    return (
        f"Invalid type for '{keyword}': expected {expected}, but got {json_type_name(value)} "
        "instead"
    )


def schema_without_end(limit: int) -> str:
    """A schema that nests, or refers to itself, past ``limit`` levels where a value must go on
    (a required ``$ref`` cycle has no finite value)."""
    return (
        f"a value of it must nest more than {limit} levels deep (a required reference to "
        "itself never ends)"
    )


def json_word_missing(*, responses: bool) -> BadRequest:
    """JSON mode without the word "json" in the messages (observed wording of each endpoint's
    400; Responses' instructions alone do not count)."""
    if responses:
        return BadRequest(
            "Response input messages must contain the word 'json' in some form to use "
            "'text.format' of type 'json_object'.",
            param="text.format",
        )
    return BadRequest(
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type "
        "'json_object'.",
        param="messages",
    )


def required_tool_choice_without_tools() -> BadRequest:
    """``tool_choice: "required"`` with no function to call (UNCONFIRMED wording)."""
    return BadRequest(
        "Tool choice 'required' needs at least one function in 'tools'.", param="tool_choice"
    )


def tool_choice_not_found(name: Any) -> BadRequest:
    """A named ``tool_choice`` that is not among the tools (UNCONFIRMED wording)."""
    return BadRequest(
        f"Invalid value for 'tool_choice': function '{name}' was not found in 'tools'.",
        param="tool_choice",
    )


def integer_out_of_range(name: str, value: int, bound: int, *, above: bool) -> BadRequest:
    return out_of_range(name, "integer", value, bound, above=above)


def decimal_out_of_range(name: str, value: float, bound: float, *, above: bool) -> BadRequest:
    return out_of_range(name, "decimal", _fmt_number(value), _fmt_number(bound), above=above)


def nan_value(name: str) -> BadRequest:
    return BadRequest(f"Invalid value for '{name}': NaN.", param=name, code="invalid_value")


def model_required() -> BadRequest:
    return BadRequest("you must provide a model parameter")


def model_not_found(model: str) -> APIError:
    return APIError(
        f"The model `{model}` does not exist or you do not have access to it.",
        status_code=404,
        code="model_not_found",
    )


#: where the real API's message about a shut-down model sends you (observed, 2024 to 2026-07)
DEPRECATIONS_URL = "https://platform.openai.com/docs/deprecations"


def model_shut_down(model: str) -> APIError:
    """A model past its shutdown date (observed: seratch/ChatGPT-in-Slack#103, 2024;
    anomalyco/opencode#38665, the day after a shutdown in 2026-07)."""
    return APIError(
        f"The model `{model}` has been deprecated, learn more here: {DEPRECATIONS_URL}",
        status_code=404,
        code="model_not_found",
    )


def unknown_model(model: str) -> NotFound:
    """``GET /v1/models/{model}`` for a model that does not exist."""
    return NotFound(f"The model '{model}' does not exist", param="model", code="model_not_found")


def not_a_chat_model() -> APIError:
    return APIError(
        "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
        "Did you mean to use v1/completions?",
        status_code=404,
        param="model",
    )


def chat_model_in_completions() -> APIError:
    return APIError(
        "This is a chat model and not supported in the v1/completions endpoint. Did you mean to "
        "use v1/chat/completions?",
        status_code=404,
        param="model",
    )


def endpoint_unsupported(model: str, path: str) -> BadRequest:
    return BadRequest(f"The model `{model}` does not support the {path} endpoint.", param="model")


def streaming_unsupported() -> BadRequest:
    return BadRequest(
        "Streaming is not supported by the local server.", param="stream", code="unsupported_value"
    )


def context_length_exceeded(window: int, prompt: int, param: str) -> BadRequest:
    return BadRequest(
        f"This model's maximum context length is {window} tokens. However, your messages "
        f"resulted in {prompt} tokens. Please reduce the length of the messages.",
        param=param,
        code="context_length_exceeded",
    )


def context_and_completion_exceeded(
    window: int, prompt: int, requested: int, param: str
) -> BadRequest:
    return BadRequest(
        f"This model's maximum context length is {window} tokens. However, you requested "
        f"{prompt + requested} tokens ({prompt} in the messages, {requested} in the "
        "completion). Please reduce the length of the messages or completion.",
        param=param,
        code="context_length_exceeded",
    )


def legacy_context_exceeded(window: int, prompt: int, completion: int) -> BadRequest:
    """The wording the completions and embeddings endpoints use for long prompts."""
    return BadRequest(
        f"This model's maximum context length is {window} tokens, however you requested "
        f"{prompt + completion} tokens ({prompt} in your prompt; {completion} for the "
        "completion). Please reduce your prompt; or completion length."
    )


def responses_context_exceeded() -> BadRequest:
    return BadRequest(
        "Your input exceeds the context window of this model. Please adjust your input and try "
        "again.",
        param="input",
        code="context_length_exceeded",
    )


def output_limit_exceeded(param: str, requested: int, maximum: int) -> BadRequest:
    return BadRequest(
        f"{param} is too large: {requested}. This model supports at most {maximum} completion "
        f"tokens, whereas you provided {requested}.",
        param=param,
        code="invalid_value",
    )


def output_limits_combined() -> BadRequest:
    """A chat request that sets both ``max_tokens`` and ``max_completion_tokens`` (observed:
    langchain-ai/langgraph#5943 with gpt-4.1, 2025; CherryHQ/cherry-studio#6051)."""
    return BadRequest(
        "Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported.",
        param="max_tokens",
        code="invalid_parameter_combination",
    )


def unsupported_parameter(name: str, hint: str = "") -> BadRequest:
    """A parameter the model does not take: a reasoning model and ``max_tokens``, or (while it
    reasons) ``logprobs``, the penalties and ``logit_bias`` ([3P] captures of 2026-08-30); a
    model that does not reason and ``reasoning.effort`` (observed on Responses:
    BoundaryML/baml#2708 with gpt-4.1, RageAgainstThePixel/OpenAI-DotNet#500 with gpt-4o, 2025;
    chat's ``reasoning_effort`` in the same words is what clients' test doubles expect,
    UNCONFIRMED on the real API)."""
    message = f"Unsupported parameter: '{name}' is not supported with this model."
    return BadRequest(f"{message} {hint}".strip(), param=name, code="unsupported_parameter")


def unsupported_value(name: str, value: Any) -> BadRequest:
    """A value the model does not take (a reasoning model and a non-default temperature)."""
    shown = int(value) if isinstance(value, float) and value.is_integer() else value
    return BadRequest(
        f"Unsupported value: '{name}' does not support {shown} with this model. Only the "
        "default (1) value is supported.",
        param=name,
        code="unsupported_value",
    )


def _shown(value: Any) -> str:
    """A value as the real API quotes it inside its messages: a string in single quotes,
    anything else as Python writes it (``{'a': 1}``, ``None``, ``5``)."""
    return f"'{value}'" if isinstance(value, str) else repr(value)


def effort_unsupported(value: Any, supported: tuple[str, ...]) -> BadRequest:
    """Chat: a ``reasoning_effort`` the model does not take, or one that is no effort at all
    (observed: "Unsupported value: 'reasoning_effort' does not support 'high' with this model.
    Supported values are: 'medium'.", egoist/chatwise-releases#1257, 2026-02; the same with
    'xhigh' on gpt-5-mini, kaitranntt/ccs#344; with 'bogus' and with an object, [3P] captures
    of 2026-08-30: chat checks the model's values only)."""
    return BadRequest(
        f"Unsupported value: 'reasoning_effort' does not support {_shown(value)} with this "
        f"model. Supported values are: {_choices(list(supported))}.",
        param="reasoning_effort",
        code="unsupported_value",
    )


def responses_effort_unsupported(value: str, model: str, supported: tuple[str, ...]) -> BadRequest:
    """Responses: a ``reasoning.effort`` the model does not take (observed: "Unsupported value:
    'none' is not supported with the 'gpt-5.1-codex' model. Supported values are: 'low',
    'medium', and 'high'.", openai/codex#6647, 2025-11; anomalyco/opencode#4451)."""
    return BadRequest(
        f"Unsupported value: '{value}' is not supported with the '{model}' model. Supported "
        f"values are: {_choices(list(supported))}.",
        param="reasoning.effort",
        code="unsupported_value",
    )


def responses_effort_type(efforts: tuple[str, ...], got: Any) -> BadRequest:
    """Responses: a ``reasoning.effort`` that is not a string ([3P] capture of 2026-08-30, for
    an array; its doubled "one of one of" is the real API's)."""
    return invalid_type(
        "reasoning.effort", f"one of one of {_alternatives(efforts)} or integer", got
    )


def previous_response_not_found(previous: Any) -> BadRequest:
    return BadRequest(
        f"Previous response with id '{previous}' not found.",
        param="previous_response_id",
        code="previous_response_not_found",
    )


def invalid_embedding_input() -> BadRequest:
    return BadRequest(
        "'$.input' is invalid. Please check the API reference: "
        "https://platform.openai.com/docs/api-reference."
    )


def dimensions_unsupported() -> BadRequest:
    return BadRequest(
        "This model does not support specifying dimensions.",
        param="dimensions",
        code="invalid_value",
    )


def dimensions_out_of_range(requested: int, native: int) -> BadRequest:
    return BadRequest(
        f"Invalid value for 'dimensions' = {requested}. Must be between 1 and {native}.",
        param="dimensions",
        code="invalid_value",
    )


def too_many_embedding_tokens(total: int, maximum: int) -> BadRequest:
    return BadRequest(
        f"Requested {total} tokens, max {maximum} tokens per request",
        code="max_tokens_per_request",
    )


def text_only_moderation(model: str) -> BadRequest:
    return BadRequest(
        f"The model `{model}` only supports text input; use omni-moderation-latest for images.",
        param="input",
        code="invalid_value",
    )


# -- images as input (chat's ``image_url`` parts, Responses' ``input_image``, edits' ``images``) --

#: the example the real API's data-URL messages give
_DATA_URL_EXAMPLE = "'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='"
#: the real API's 400 type for image-generation problems a user can correct (OpenAI's
#: image-generation guide: "may return error.type = image_generation_user_error")
IMAGE_USER_ERROR = "image_generation_user_error"


def image_input_unsupported(param: str, part_type: str) -> BadRequest:
    """An image part sent to a model that takes no images (observed: vllm-project/vllm#11629,
    2025-01-29, "by sending an image request to GPT 3.5", param ``messages.[0].content.[1].type``,
    code null; danny-avila/LibreChat#6333; browser-use/web-ui#274). The dotted param with its
    brackets is the real API's; Responses' ``input_image`` in the same words: UNCONFIRMED."""
    return BadRequest(
        f"Invalid content type. {part_type} is only supported by certain models.", param=param
    )


def image_url_not_data(param: str, *, responses: bool) -> BadRequest:
    """An image URL that is neither http(s) nor a ``data:`` URL (chat's wording observed:
    Alibaba-NLP/OmniSearch#3, 2025-02-05; Responses' built like its observed empty-bytes
    message: UNCONFIRMED)."""
    expected = (
        f"Expected a base64-encoded data URL with an image MIME type (e.g. {_DATA_URL_EXAMPLE}),"
        " but got a value without the 'data:' prefix."
    )
    head = f"Invalid '{param}'." if responses else f"Invalid image URL: '{param}'."
    return BadRequest(f"{head} {expected}", param=param, code="invalid_value")


def image_base64_invalid(param: str) -> BadRequest:
    """Chat: a data URL whose base64 is empty or broken (observed: "Invalid base64 image_url.",
    code ``invalid_base64``, sipherxyz/comfyui-art-venture#75, 2025-01, and a Go test fixture;
    the param is not recorded: UNCONFIRMED)."""
    return BadRequest("Invalid base64 image_url.", param=param, code="invalid_base64")


def responses_image_base64(param: str, *, empty: bool) -> BadRequest:
    """Responses: a data URL with no bytes (observed: anomalyco/opencode#23983, 2026-04-23; its
    code presumed ``invalid_value``), or bytes that are not base64 (the same words ending "but
    got invalid base64-encoded bytes.": UNCONFIRMED)."""
    got = "empty base64-encoded bytes" if empty else "invalid base64-encoded bytes"
    return BadRequest(
        f"Invalid '{param}'. Expected a base64-encoded data URL with an image MIME type (e.g. "
        f"{_DATA_URL_EXAMPLE}), but got {got}.",
        param=param,
        code="invalid_value",
    )


def image_format_unsupported(*, responses: bool) -> BadRequest:
    """Image bytes of a format the API does not read (observed, chat: marketing-factory/
    ai-filemetadata#19, 2025-02-17, code ``invalid_image_format``, param null, "has of one" as
    the real API writes it; Responses: acoyfellow/my-ax#89, 2026-08-19, ``invalid_value``,
    param ``input``)."""
    if responses:
        return BadRequest(
            "The image data you provided does not represent a valid image. Please check your "
            "input and try again with one of the supported image formats: ['image/jpeg', "
            "'image/png', 'image/gif', 'image/webp'].",
            param="input",
            code="invalid_value",
        )
    return BadRequest(
        "You uploaded an unsupported image. Please make sure your image has of one the "
        "following formats: ['png', 'jpeg', 'gif', 'webp'].",
        code="invalid_image_format",
    )


def image_unreadable(*, responses: bool) -> BadRequest:
    """Image bytes that announce a format but cannot be read (observed, chat: marketing-factory/
    ai-filemetadata#26, 2025-06-04, and openai/openai-node#1463, code ``image_parse_error``;
    Responses: the same public fixtures, ``invalid_value``, param ``input``)."""
    if responses:
        return BadRequest(
            "The image data you provided does not represent a valid image. Please check your "
            "input and try again.",
            param="input",
            code="invalid_value",
        )
    return BadRequest(
        "You uploaded an unsupported image. Please make sure your image is valid.",
        code="image_parse_error",
    )


def image_file_not_found(param: str, file_id: str) -> BadRequest:
    """An image given by a ``file_id`` the caller has no file for (the Files API's own words;
    here, as a 400 naming the parameter: UNCONFIRMED)."""
    return BadRequest(f"No such File object: {file_id}", param=param, code="invalid_value")


# -- the Images API (``/v1/images/generations`` and ``/v1/images/edits``) -------------------------


def image_size_invalid(size: str, problem: str) -> BadRequest:
    """A ``WIDTHxHEIGHT`` a flexible-size model (gpt-image-2 and later) cannot make. The words
    for sides not divisible by 16 are observed (jezweb/claude-skills#91, 2026-05-13: "Invalid
    size '1792x936'. Width and height must both be divisible by 16."); the other problems'
    words are UNCONFIRMED."""
    return BadRequest(f"Invalid size '{size}'. {problem}", param="size", code="invalid_value")


#: what :func:`image_size_invalid` says of each problem
SIZE_PROBLEMS = {
    "format": "Use 'auto' or WIDTHxHEIGHT in pixels, for example '1536x864'.",
    "divisible": "Width and height must both be divisible by 16.",
    "ratio": "The aspect ratio must be between 1:3 and 3:1.",
    "limits": (
        "The longest side may be at most 3840 pixels, and the image must have between 655,360 "
        "and 8,294,400 pixels."
    ),
}


def transparent_unsupported() -> APIError:
    """``background: "transparent"`` sent to gpt-image-2 or 2.5 (observed: Wei-Shaw/sub2api#7150,
    2026-09-15, for gpt-image-2, gpt-image-2.5-flare and -sunburst; gaoren002/GPT2Image-Pro#2,
    2026-05-30; the param is not recorded: UNCONFIRMED)."""
    return APIError(
        "Transparent background is not supported for this model.",
        param="background",
        code="invalid_value",
        error_type=IMAGE_USER_ERROR,
    )


def transparent_needs_png_or_webp(output_format: str) -> BadRequest:
    """A transparent background in a format without transparency (OpenAI's docs: "When using
    transparent, set the output format to png or webp"; refused, Bike4Mind/bike4mind#2921,
    2026-09-16; the words UNCONFIRMED)."""
    return BadRequest(
        f"Transparent background is not supported with output_format '{output_format}'. Use "
        "'png' or 'webp'.",
        param="background",
        code="invalid_value",
    )


def output_compression_unsupported(output_format: str) -> BadRequest:
    """``output_compression`` with an output format it does not apply to (the spec: "only
    supported ... with the webp or jpeg output formats"; the refusal and its words
    UNCONFIRMED)."""
    return BadRequest(
        f"output_compression is not supported with output_format '{output_format}'. It applies "
        "to 'jpeg' and 'webp' only.",
        param="output_compression",
        code="unsupported_parameter",
    )


def output_format_not_emulated(output_format: str) -> BadRequest:
    """``gif`` or ``svg`` output, which the local server does not make (the SDK lists them for
    newer models, behind previews); the wording is the local server's own."""
    return BadRequest(
        f"Invalid value: '{output_format}'. Supported values are: 'png', 'jpeg', and 'webp'. "
        "(The local server makes placeholder images in these three formats; gif and svg output "
        "is not emulated.)",
        param="output_format",
        code="invalid_value",
    )


def input_fidelity_unsupported() -> BadRequest:
    """``input_fidelity`` sent to a model that always works at high fidelity (the SDK: "For
    gpt-image-2, omit this parameter"; the refusal and its words UNCONFIRMED)."""
    return BadRequest(
        "input_fidelity is not supported for this model.",
        param="input_fidelity",
        code="unsupported_parameter",
    )


def image_reference_invalid(param: str) -> BadRequest:
    """An edit's image reference without exactly one of ``image_url`` and ``file_id`` (the
    spec's ``ImageRefParam``: "Provide exactly one"; the words UNCONFIRMED)."""
    return BadRequest(
        f"Invalid '{param}': provide exactly one of 'image_url' or 'file_id'.",
        param=param,
        code="invalid_value",
    )


def invalid_image_file(position: int, request_id: str) -> APIError:
    """An edit's input image that cannot be read (observed: lofcz/LLMTornado#105, 2025-10-27,
    and QuantumNous/new-api#1159, 2025-06-05: type ``image_generation_user_error``, code
    ``invalid_image_file``, param null; ``position`` counts from 1)."""
    return APIError(
        f"Invalid image file or mode for image {position}, please check your image file. If you "
        "believe this is an error, contact us at help.openai.com and include the request ID "
        f"req_{request_id}.",
        code="invalid_image_file",
        error_type=IMAGE_USER_ERROR,
    )


def edit_image_format(param: str, mimetype: str) -> BadRequest:
    """An edit's input image in a format edits do not take (GIF): the multipart upload's
    observed words (anasfik/openai#216, 2025-09-03; openai/openai-ruby#147), naming the JSON
    parameter (UNCONFIRMED)."""
    return BadRequest(
        f"Invalid file '{param}': unsupported mimetype ('{mimetype}'). Supported file formats "
        "are 'image/jpeg', 'image/png', and 'image/webp'.",
        param=param,
        code="invalid_value",
    )


def mask_invalid(
    size: tuple[int, int] | None = None, first: tuple[int, int] | None = None
) -> BadRequest:
    """A mask that is not a PNG (no sizes given), or not of the first image's ``first`` size
    (the spec: "Must be a valid PNG file ... and have the same dimensions as image"; the words
    UNCONFIRMED)."""
    if size is None or first is None:
        problem = "it must be a PNG image."
    else:
        problem = (
            f"it must have the same dimensions as the first image ({first[0]}x{first[1]}), not "
            f"{size[0]}x{size[1]}."
        )
    return BadRequest(f"Invalid 'mask': {problem}", param="mask", code="invalid_value")


def string_too_short(name: str, minimum: int, length: int) -> BadRequest:
    """A string under its minimum length (OpenAI's wording pattern for lengths; this one
    UNCONFIRMED)."""
    return BadRequest(
        f"Invalid '{name}': string too short. Expected a string with minimum length {minimum}, "
        f"but got a string with length {length} instead.",
        param=name,
        code="string_below_min_length",
    )


def edits_need_json() -> BadRequest:
    """A multipart image edit sent to the local server's direct route, which takes the JSON
    body only (a local refusal, in the local server's own words)."""
    return BadRequest(
        "The local server takes image edits as JSON only: send 'images' as a list of "
        "{'file_id': ...} or {'image_url': ...} objects (the spec's JSON body, the one a batch "
        "line uses), not a multipart upload of 'image'.",
        param="image",
        code="unsupported_value",
    )


# -- batch errors (``batch.errors.data`` and what check_batch_file reports) ---------------------

#: the message of each batch error, by the key :func:`batch_error` takes
BATCH_MESSAGES = {
    # observed on the real API
    "invalid_json_line": "This line is not parseable as valid JSON.",
    "missing_required_parameter": "Missing required parameter: '{param}'.",
    "invalid_url": "The URL provided for this request does not match the batch endpoint.",
    "model_not_found": "The provided model '{model}' is not supported by the Batch API.",
    # the real API's message for a shut-down model (observed on direct calls; on a batch line,
    # with the batch's model_not_found code, UNCONFIRMED)
    "model_shut_down": (
        "The model `{model}` has been deprecated, learn more here: "
        "https://platform.openai.com/docs/deprecations"
    ),
    "streaming_unsupported": "{label}: Streaming is not supported in the Batch API.",
    # "Model parameter is required." observed; for messages, prompt and input UNCONFIRMED
    "parameter_required": "{name} parameter is required.",
    "file_not_found": (
        "Cannot find file {file_id}, or organization {organization} does not have access to it."
    ),
    "token_limit_exceeded": (
        "Enqueued token limit reached for {model} in organization {organization}. "
        "Limit: {limit:,} enqueued tokens. "
        "Please try again once some in_progress batches have been completed."
    ),
    # observed (embeddings, community thread 1002388); its code UNCONFIRMED
    "request_limit_exceeded": (
        "Enqueued request limit reached for {model} in organization {organization}. "
        "Limit: {limit:,} enqueued requests. "
        "Please try again once some in_progress batches have been completed."
    ),
    # observed at upload (HTTP 400, code null), also reported by check_batch_file
    "invalid_file_format": "Invalid file format for Batch API. Must be .jsonl",
    "file_too_large": "File is too large.",
    # UNCONFIRMED wording (codes observed; text as OpenAI-compatible services word it)
    "mismatched_model": (
        "The model '{model}' for this request does not match the rest of the batch. "
        "Each batch must contain requests for a single model."
    ),
    "duplicate_custom_id": (
        "The custom_id '{custom_id}' for this request is a duplicate of another request. "
        "The custom_id parameter must be unique for each request in a batch."
    ),
    # UNCONFIRMED codes and wording
    "invalid_method": "The method '{method}' is not supported. Only 'POST' is supported.",
    "invalid_type": "Invalid type for '{param}': expected {expected}, but got {got} instead.",
    "empty_file": "The batch input file is empty. It must contain at least one request.",
    "too_many_requests": (
        "The batch input file contains {count:,} requests, more than the maximum of "
        "{limit:,} requests per batch."
    ),
    "too_many_embedding_inputs": (
        "The batch input file contains {count:,} embedding inputs, more than the maximum of "
        "{limit:,} embedding inputs per batch."
    ),
    "wrong_purpose": (
        "The input file {file_id} was uploaded with purpose '{purpose}'. "
        "A batch input file must be uploaded with purpose 'batch'."
    ),
    "forced": "The batch was forced to fail with code '{code}'.",
    "validation_crashed": "The local server could not validate the input file.",
}
#: the code of each batch error whose code is not its key (None: code null, as at upload)
_BATCH_CODES: dict[str, str | None] = {
    "parameter_required": "invalid_request",
    "model_shut_down": "model_not_found",
    "invalid_method": "invalid_request",
    "file_not_found": "invalid_request",
    "wrong_purpose": "invalid_request",
    "invalid_file_format": None,
    "file_too_large": None,
    "validation_crashed": "server_error",
}


@dataclass(frozen=True)
class BatchError:
    """One problem, as the API reports it in ``batch.errors.data``."""

    code: str | None
    message: str
    param: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "param": self.param, "line": self.line}

    def as_api_error(self) -> BadRequest:
        """The same problem as an HTTP 400 (how an upload is refused)."""
        return BadRequest(self.message, param=self.param, code=self.code)


def batch_error(
    key: str, *, param: str | None = None, line: int | None = None, **fmt: Any
) -> BatchError:
    """The batch error ``key`` of :data:`BATCH_MESSAGES`, its placeholders filled from ``fmt``.

    ``param`` is both a field of the error and a placeholder of some messages.
    """
    code = _BATCH_CODES.get(key, key)
    return BatchError(code, BATCH_MESSAGES[key].format(param=param, **fmt), param=param, line=line)


def token_limit_error(model: str, limit: int, organization: str) -> BatchError:
    return batch_error("token_limit_exceeded", model=model, limit=limit, organization=organization)


def request_limit_error(model: str, limit: int, organization: str) -> BatchError:
    return batch_error(
        "request_limit_exceeded", model=model, limit=limit, organization=organization
    )


def file_not_found_error(file_id: str, organization: str) -> BatchError:
    return batch_error(
        "file_not_found", param="file_id", file_id=file_id, organization=organization
    )


def wrong_purpose_error(file_id: str, purpose: str) -> BatchError:
    return batch_error("wrong_purpose", param="input_file_id", file_id=file_id, purpose=purpose)


# -- result lines of requests that never ran ---------------------------------------------------

#: ``error`` of the error-file line of a request that never ran, by how its batch ended
UNRUN_ERRORS: dict[str, dict[str, str]] = {
    "expired": {
        "code": "batch_expired",
        "message": "This request could not be executed before the completion window expired.",
    },
    # UNCONFIRMED wording
    "cancelled": {
        "code": "batch_cancelled",
        "message": "This request was not executed because the batch was cancelled.",
    },
}
UNRUN_CODES = frozenset(e["code"] for e in UNRUN_ERRORS.values())
