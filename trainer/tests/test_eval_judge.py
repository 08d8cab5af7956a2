"""The OpenAI-compatible judge against a real local HTTP server that speaks the same API."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from fact_rlhf.errors import UsageError
from fact_rlhf.eval.judge_openai import JudgeConfig, JudgeError, JudgeUnreachable, OpenAIJudge
from fact_rlhf.eval.judge_prompt import build_messages
from fact_rlhf.eval.mmhal import MMHalRecord, summarize

RECORD = MMHalRecord(
    question_type="counting",
    question_topic="animal",
    image_id="abc123",
    image_src="https://example.invalid/abc123.jpg",
    image_content=["Dog", "Frisbee", "Grass"],
    question="How many dogs are there?",
    gt_answer="There is one dog catching a frisbee.",
    model_answer="There are two dogs and a cat.",
)


def chat_reply(content: str) -> bytes:
    return json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        }
    ).encode()


class FakeChatServer:
    """Answers POST /v1/chat/completions from a script of (status, body, headers); records requests."""

    def __init__(self) -> None:
        self.script: list[tuple[int, bytes, dict[str, str]]] = []
        self.requests: list[dict[str, Any]] = []
        self.delay_s = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", "0"))
                server.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers.items()),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                if server.delay_s:
                    time.sleep(server.delay_s)
                status, body, headers = server.script.pop(0) if server.script else (500, b"script empty", {})
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left: expected in the timeout test

            def log_message(self, *args: Any) -> None:  # keep pytest output quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeChatServer]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)  # loopback must not go through a proxy
    fake = FakeChatServer()
    yield fake
    fake.close()


def make_judge(base_url: str, sleeps: list[float] | None = None, **kw: Any) -> OpenAIJudge:
    config = JudgeConfig(base_url=base_url, model="judge-model", api_key="sk-test", backoff_s=0.01, **kw)
    return OpenAIJudge(config, sleep=(sleeps.append if sleeps is not None else time.sleep))


def test_normal_reply_is_rated_and_request_is_well_formed(server: FakeChatServer) -> None:
    server.script.append((200, chat_reply("It invents a second dog and a cat.\nRating: 1"), {}))
    result = make_judge(server.base_url).judge(RECORD)
    assert (result.rating, result.error) == (1, None)
    assert result.analysis.startswith("It invents a second dog")

    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    assert request["headers"]["Content-Type"] == "application/json"
    body = request["body"]
    assert body["model"] == "judge-model"
    assert body["temperature"] == 0
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    assert "Dog, Frisbee, Grass" in user["content"]
    assert "How many dogs are there?" in user["content"]
    assert "There is one dog catching a frisbee." in user["content"]
    assert "There are two dogs and a cat." in user["content"]
    assert system["content"].count("### Example") == 5
    for rating in range(7):
        assert f"\n{rating} - " in system["content"]  # the whole 0..6 rubric is there


def test_two_ratings_score_zero_with_reason(server: FakeChatServer) -> None:
    server.script.append((200, chat_reply("Could be Rating: 2, but I settle on Rating: 4"), {}))
    result = make_judge(server.base_url).judge(RECORD)
    assert result.rating == 0
    assert result.error is not None and "several ratings in the reply (2, 4)" in result.error


def test_reply_without_rating_scores_zero(server: FakeChatServer) -> None:
    server.script.append((200, chat_reply("The response hallucinates. rating:1"), {}))
    result = make_judge(server.base_url).judge(RECORD)
    assert result.rating == 0
    assert result.error == "no 'Rating: N' with N in 0..6 in the reply"


def test_non_json_body_scores_zero_with_reason(server: FakeChatServer) -> None:
    server.script.append((200, b"<html>gateway says hi</html>", {}))
    result = make_judge(server.base_url).judge(RECORD)
    assert result.rating == 0
    assert result.error == "reply is not JSON: <html>gateway says hi</html>"
    assert len(server.requests) == 1  # an answered request is not retried


def test_reply_without_choices_scores_zero(server: FakeChatServer) -> None:
    server.script.append((200, json.dumps({"error": {"message": "model overloaded"}}).encode(), {}))
    server.script.append((200, json.dumps({"choices": []}).encode(), {}))
    judge = make_judge(server.base_url)
    first, second = judge.judge(RECORD), judge.judge(RECORD)
    assert first.rating == 0 and first.error is not None
    assert first.error.startswith("reply has no choices") and "model overloaded" in first.error
    assert (second.rating, second.error) == (0, "reply has no choices")


def test_500_then_success_is_retried_with_backoff(server: FakeChatServer) -> None:
    server.script += [(500, b'{"error": "boom"}', {}), (503, b"busy", {}), (200, chat_reply("Fine.\nRating: 5"), {})]
    sleeps: list[float] = []
    result = make_judge(server.base_url, sleeps=sleeps).judge(RECORD)
    assert result.rating == 5
    assert len(server.requests) == 3
    assert sleeps == [0.01, 0.02]  # exponential backoff


def test_429_honours_retry_after(server: FakeChatServer) -> None:
    server.script += [(429, b"slow down", {"Retry-After": "0.05"}), (200, chat_reply("Rating: 6"), {})]
    sleeps: list[float] = []
    assert make_judge(server.base_url, sleeps=sleeps).judge(RECORD).rating == 6
    assert sleeps == [0.05]


def test_persistent_5xx_gives_up_after_max_tries(server: FakeChatServer) -> None:
    server.script += [(502, b"bad gateway", {})] * 3
    with pytest.raises(
        JudgeError, match=r"judge at http://127\.0\.0\.1:\d+/v1/chat/completions still failing after 3 tries: HTTP 502 bad gateway"
    ):
        make_judge(server.base_url, sleeps=[]).judge(RECORD)
    assert len(server.requests) == 3


def test_client_error_is_not_retried(server: FakeChatServer) -> None:
    server.script.append((401, b'{"error": "invalid api key"}', {}))
    with pytest.raises(JudgeError, match=r"refused the request: HTTP 401 .*invalid api key"):
        make_judge(server.base_url, sleeps=[]).judge(RECORD)
    assert len(server.requests) == 1


def test_timeout_is_retried_then_reported(server: FakeChatServer) -> None:
    server.delay_s = 0.5
    server.script += [(200, chat_reply("Rating: 4"), {})] * 2
    sleeps: list[float] = []
    with pytest.raises(JudgeUnreachable, match=r"after 2 tries \(.*timed out"):
        make_judge(server.base_url, sleeps=sleeps, timeout_s=0.1, max_tries=2).judge(RECORD)
    assert len(sleeps) == 1


def test_unreachable_port_gives_clear_error() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps: list[float] = []
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(JudgeUnreachable) as info:
        make_judge(url, sleeps=sleeps).judge(RECORD)
    message = str(info.value)
    assert f"cannot reach the judge at {url}/chat/completions after 3 tries" in message
    assert "Connection" in message or "refused" in message
    assert sleeps == [0.01, 0.02]


def test_judge_all_feeds_the_summary(server: FakeChatServer) -> None:
    server.script += [(200, chat_reply(f"Rating: {r}"), {}) for r in (6, 2, 4)]
    server.script.append((200, chat_reply("Rating: 1 or Rating: 5"), {}))
    records = [RECORD] * 4
    results = make_judge(server.base_url).judge_all(records, ["a", "b", "c", "d"])
    ratings = [r.rating for r in results]
    assert ratings == [6, 2, 4, 0]
    assert [r["body"]["messages"][1]["content"].rsplit("Response to judge: ", 1)[1][0] for r in server.requests] == list("abcd")
    summary = summarize(ratings)
    assert summary["score"] == 3.0 and summary["hallucination_rate"] == 0.5


def test_config_resolution_from_settings_and_environment() -> None:
    env = {"OPENAI_API_KEY": "sk-env", "FACT_RLHF_JUDGE_MODEL": "env-model"}
    # The environment's key goes with the environment's endpoint (the config repeats it here).
    local_env = {**env, "OPENAI_BASE_URL": "http://localhost:8000/v1"}
    config = JudgeConfig.resolve({"base_url": "http://localhost:8000/v1/"}, env=local_env)
    assert (config.model, config.api_key, config.url) == ("env-model", "sk-env", "http://localhost:8000/v1/chat/completions")
    config = JudgeConfig.resolve({"model": "m", "api_key": "sk-cfg", "max_tries": 5}, env=env)
    assert (config.model, config.api_key, config.max_tries) == ("m", "sk-cfg", 5)
    assert config.base_url == "https://api.openai.com/v1"
    with pytest.raises(UsageError, match="no judge model"):
        JudgeConfig.resolve({}, env={})
    with pytest.raises(UsageError, match="max_tries must be at least 1"):
        JudgeConfig(base_url="http://x", model="m", max_tries=0)
    with pytest.raises(UsageError, match="must start with http"):
        JudgeConfig(base_url="localhost:8000", model="m")


def test_prompt_without_labels_and_missing_answer() -> None:
    bare = MMHalRecord("other", "t", "i", "s", [], "Q?", "A.")
    assert "Image contents: (none listed)" in build_messages(bare, "R.")[1]["content"]
    with pytest.raises(ValueError, match="no model_answer"):
        OpenAIJudge(JudgeConfig(base_url="http://127.0.0.1:9", model="m")).judge(bare)


def test_environment_key_goes_only_to_the_environment_endpoint(server: FakeChatServer) -> None:
    # A shared config that points the judge elsewhere must not collect the user's key.
    env = {"OPENAI_API_KEY": "sk-secret", "FACT_RLHF_JUDGE_MODEL": "m"}
    config = JudgeConfig.resolve({"base_url": server.base_url, "backoff_s": 0.01}, env=env)
    assert config.api_key is None
    server.script.append((200, chat_reply("Rating: 6"), {}))
    OpenAIJudge(config, sleep=lambda _s: None).judge(RECORD)
    assert "Authorization" not in server.requests[-1]["headers"]
    # Named by the environment (either variable, trailing slash or host case aside): the key goes.
    for var in ("OPENAI_BASE_URL", "FACT_RLHF_JUDGE_BASE_URL"):
        trusted = {**env, var: server.base_url.replace("http://", "HTTP://") + "/"}
        assert JudgeConfig.resolve({"base_url": server.base_url}, env=trusted).api_key == "sk-secret"
    # FACT_RLHF_JUDGE_BASE_URL names the judge's endpoint even when OPENAI_BASE_URL names another.
    both = {**env, "OPENAI_BASE_URL": "https://api.example.org/v1", "FACT_RLHF_JUDGE_BASE_URL": server.base_url}
    assert JudgeConfig.resolve({}, env=both).base_url == server.base_url
    assert JudgeConfig.resolve({}, env=both).api_key == "sk-secret"
    assert JudgeConfig.resolve({"base_url": "https://api.example.org/v1"}, env=both).api_key is None
    # No URL anywhere: OpenAI's own endpoint, which is where an OPENAI_API_KEY belongs.
    assert JudgeConfig.resolve({}, env=env).api_key == "sk-secret"
    assert JudgeConfig.resolve({"base_url": "https://evil.example.com/v1"}, env=env).api_key is None
    # A key written in the config goes with the config's URL.
    assert JudgeConfig.resolve({"base_url": "https://llm.example.com/v1", "api_key": "sk-cfg"}, env=env).api_key == "sk-cfg"


def test_plain_http_is_refused_except_loopback() -> None:
    for url in ("http://judge.example.com/v1", "http://10.0.0.5:8000/v1", "http://127.0.0.1.evil.com/v1"):
        with pytest.raises(UsageError, match="plain http"):
            JudgeConfig(base_url=url, model="m")
    for url in (
        "http://localhost:8000/v1",
        "http://127.0.0.1:8000",
        "http://[::1]:8000/v1",
        "http://127.5.0.1",
        "https://judge.example.com/v1",
    ):
        assert JudgeConfig(base_url=url, model="m").base_url == url
