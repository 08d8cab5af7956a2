"""The MMHal judge behind an OpenAI-compatible chat-completions endpoint (stdlib HTTP only).

POST `{base_url}/chat/completions` with `model`, `messages`, `temperature: 0`. Rate limits (429),
server errors (5xx) and connection failures are retried with exponential backoff, a bounded number
of times; then the run stops with an error naming the URL. A reply that arrives but cannot be read
(not JSON, no choices, zero or several ratings) scores 0, as in the official scorer, and the reason
is kept with the result.

The API key from the environment goes only to the endpoint the environment names
(`FACT_RLHF_JUDGE_BASE_URL`, else `OPENAI_BASE_URL`, else OpenAI's own): a config file is shared
and may come from anyone, so a `base_url` it sets must not collect the user's key. A key written in
the config itself goes with the config's URL. Plain `http://` is refused except on loopback, where
the traffic never leaves the machine.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from ..errors import UsageError
from .judge_prompt import build_messages
from .mmhal import MMHalRecord, find_ratings

API_KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"
JUDGE_BASE_URL_ENV = "FACT_RLHF_JUDGE_BASE_URL"  # wins over OPENAI_BASE_URL for the judge alone
MODEL_ENV = "FACT_RLHF_JUDGE_MODEL"
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class JudgeError(Exception):
    """The judge endpoint failed in a way retrying did not fix; the message names the URL."""


class JudgeUnreachable(JudgeError):
    """No connection to the judge endpoint could be made."""


@dataclass(frozen=True)
class JudgeConfig:
    base_url: str
    model: str
    api_key: str | None = None  # None: no Authorization header (local servers often need none)
    timeout_s: float = 60.0
    max_tries: int = 3
    backoff_s: float = 2.0  # wait before the 2nd try; doubles each time
    max_backoff_s: float = 30.0

    def __post_init__(self) -> None:
        if self.max_tries < 1:
            raise UsageError(f"judge max_tries must be at least 1, got {self.max_tries}")
        if self.timeout_s <= 0:
            raise UsageError(f"judge timeout_s must be positive, got {self.timeout_s}")
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError(f"judge base_url must start with http:// or https://, got {self.base_url!r}")
        if self.base_url.startswith("http://") and not is_loopback_url(self.base_url):
            raise UsageError(
                f"judge base_url {self.base_url!r} uses plain http:// to another machine; use https:// "
                f"(plain http is accepted only for loopback: localhost, 127.0.0.1, ::1)"
            )

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    @classmethod
    def resolve(
        cls,
        settings: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> JudgeConfig:
        """Config values first, then the environment (`OPENAI_API_KEY`, `OPENAI_BASE_URL`,
        `FACT_RLHF_JUDGE_MODEL`); `settings` may also hold timeout_s, max_tries, backoff_s."""
        settings = settings or {}
        env = os.environ if env is None else env
        model = settings.get("model") or env.get(MODEL_ENV)
        if not model:
            raise UsageError(f"no judge model: set eval judge 'model' in the config or {MODEL_ENV}")
        extra = {k: settings[k] for k in ("timeout_s", "max_tries", "backoff_s", "max_backoff_s") if k in settings}
        trusted_url = env_base_url(env)
        base_url = settings.get("base_url") or trusted_url
        api_key = settings.get("api_key") or None
        if api_key is None and same_endpoint(base_url, trusted_url):
            api_key = env.get(API_KEY_ENV) or None
        return cls(base_url=base_url, model=str(model), api_key=api_key, **extra)


@dataclass
class JudgeResult:
    rating: int
    analysis: str  # the judge's text ("" when the reply had none)
    error: str | None  # why the rating was forced to 0; None for a clean single rating
    raw: Any  # the decoded reply, or its text when it was not JSON


Opener = Callable[..., Any]


class OpenAIJudge:
    def __init__(
        self,
        config: JudgeConfig,
        opener: Opener = urllib.request.urlopen,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self._open = opener
        self._sleep = sleep
        self._log = log or (lambda _message: None)

    def judge(self, record: MMHalRecord, response: str | None = None) -> JudgeResult:
        """Rates `response` (default: the record's `model_answer`) for one record."""
        answer = record.model_answer if response is None else response
        if answer is None:
            raise ValueError(f"record for image {record.image_id!r} has no model_answer to judge")
        payload = {"model": self.config.model, "messages": build_messages(record, answer), "temperature": 0}
        return read_reply(self._post(payload))

    def judge_all(self, records: Sequence[MMHalRecord], responses: Sequence[str] | None = None) -> list[JudgeResult]:
        if responses is not None and len(responses) != len(records):
            raise ValueError(f"{len(records)} records but {len(responses)} responses")
        return [self.judge(r, None if responses is None else responses[i]) for i, r in enumerate(records)]

    def _post(self, payload: dict[str, Any]) -> bytes:
        url = self.config.url
        body = json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        last = ""
        connected = False  # did any try get an HTTP answer at all?
        delay = self.config.backoff_s
        for attempt in range(1, self.config.max_tries + 1):
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            wait = delay
            try:
                with self._open(request, timeout=self.config.timeout_s) as reply:
                    data: bytes = reply.read()
                    return data
            except urllib.error.HTTPError as e:  # before URLError: it is a subclass
                connected = True
                detail = _snippet(e.read())
                if e.code != 429 and e.code < 500:
                    raise JudgeError(f"judge at {url} refused the request: HTTP {e.code} {detail}") from e
                last = f"HTTP {e.code} {detail}".strip()
                wait = max(delay, _retry_after(e.headers.get("Retry-After")))
            except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
                reason = e.reason if isinstance(e, urllib.error.URLError) else e
                last = f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
            if attempt < self.config.max_tries:
                wait = min(wait, self.config.max_backoff_s)
                self._log(f"judge at {url}: try {attempt}/{self.config.max_tries} failed ({last}); retrying in {wait:.2f}s")
                self._sleep(wait)
                delay *= 2
        tries = f"{self.config.max_tries} tr{'y' if self.config.max_tries == 1 else 'ies'}"
        if not connected:
            raise JudgeUnreachable(
                f"cannot reach the judge at {url} after {tries} ({last}); check the judge base_url and that the server is running"
            )
        raise JudgeError(f"judge at {url} still failing after {tries}: {last}")


def env_base_url(env: Mapping[str, str]) -> str:
    """The judge endpoint the user's environment names: the only one the environment's key goes to."""
    return env.get(JUDGE_BASE_URL_ENV) or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL


def _endpoint(url: str) -> tuple[str, str, int | None, str]:
    parts = urllib.parse.urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1  # an unreadable port matches nothing
    port = port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port, parts.path.rstrip("/")


def same_endpoint(a: str, b: str) -> bool:
    """Same scheme, host, port and path (case of scheme/host, default ports, trailing '/' ignored)."""
    return _endpoint(a) == _endpoint(b)


def is_loopback_url(url: str) -> bool:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_reply(body: bytes) -> JudgeResult:
    """Reads a chat-completions reply; anything unreadable scores 0 with the reason recorded."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        text = body.decode("utf-8", errors="replace")
        return JudgeResult(0, "", f"reply is not JSON: {_snippet(body)}", text)
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices:
        error = data.get("error") if isinstance(data, dict) else None
        why = f" (error: {_snippet(json.dumps(error).encode())})" if error else ""
        return JudgeResult(0, "", f"reply has no choices{why}", data)
    first = choices[0]
    message = first.get("message") if isinstance(first, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        return JudgeResult(0, "", "reply has no message content in choices[0]", data)
    found = find_ratings(content)
    if len(found) == 1:
        return JudgeResult(found[0], content, None, data)
    if not found:
        return JudgeResult(0, content, "no 'Rating: N' with N in 0..6 in the reply", data)
    listed = ", ".join(str(n) for n in found)
    return JudgeResult(0, content, f"several ratings in the reply ({listed}); scored 0 as the official scorer does", data)


def _retry_after(value: str | None) -> float:
    """Seconds from a numeric Retry-After header; 0 when absent or a date (we then use our backoff)."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def _snippet(body: bytes, limit: int = 200) -> str:
    text = body.decode("utf-8", errors="replace").strip().replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"
