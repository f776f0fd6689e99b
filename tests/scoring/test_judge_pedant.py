"""LLM judge against a stub OpenAI-compatible server on 127.0.0.1; PEDANT stays an explicit opt-in."""

from __future__ import annotations

import json
import sys
import threading
import types
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from modgap_eval.errors import ConfigError, DataError, DependencyError
from modgap_eval.scoring.judge import LLMJudge, parse_rating, parse_verdict
from modgap_eval.types import Audio, Generation, Sample


class StubJudge:
    """Answers /v1/chat/completions with queued replies and records every request body."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append({"path": self.path, **body})
                stub.headers.append(dict(self.headers))
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": stub.replies.pop(0)}}]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def sample(references=()):
    return Sample(id="a1", text="How do I boil an egg?", audio=Audio(data=b"x"), references=tuple(references))


@pytest.mark.parametrize("reply,rating", [("4", 4), ("[[5]]", 5), ("Rating: 2/5", 2), (" 3.", 3), ("none", None),
                                          ("10", None), ("I'd say 4.5", None)])
def test_parse_rating(reply, rating):
    assert parse_rating(reply) == rating


@pytest.mark.parametrize("reply,verdict", [("Yes", True), ("no.", False), ("**Yes**", True), ("Maybe", None)])
def test_parse_verdict(reply, verdict):
    assert parse_verdict(reply) is verdict


def test_open_mode_rates_through_endpoint_and_records_settings(monkeypatch):
    monkeypatch.setenv("MODGAP_JUDGE_API_KEY", "secret-key")
    with StubJudge(["4", "oops"]) as stub:
        judge = LLMJudge(mode="open", model="judge-model", base_url=stub.url)
        good = judge.score(sample(), Generation(text="Put it in boiling water for 9 minutes."))
        bad = judge.score(sample(), Generation(text="Eggs."))
    assert good.value == pytest.approx(0.8) and good.extras == {"judge_rating": 4.0}
    assert bad.value == 0.0 and bad.unextractable
    request = stub.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["model"] == "judge-model" and request["temperature"] == 0.0 and request["max_tokens"] == 16
    assert "Put it in boiling water" in request["messages"][1]["content"]
    assert "How do I boil an egg?" in request["messages"][1]["content"]
    assert stub.headers[0]["Authorization"] == "Bearer secret-key"
    recorded = judge.describe()
    assert recorded["model"] == "judge-model" and recorded["base_url"] == stub.url
    assert "secret-key" not in json.dumps(recorded) and recorded["prompt"] == judge.prompt


def test_qa_mode_uses_reference(monkeypatch):
    with StubJudge(["Yes", "No"]) as stub:
        judge = LLMJudge(mode="qa", model="m", base_url=stub.url)
        assert judge.score(sample(["nine minutes"]), Generation(text="About 9 minutes")).value == 1.0
        assert judge.score(sample(["nine minutes"]), Generation(text="An hour")).value == 0.0
    assert "nine minutes" in stub.requests[0]["messages"][1]["content"]
    with pytest.raises(DataError, match="no reference"):
        LLMJudge(mode="qa", model="m", base_url=stub.url).score(sample(), Generation(text="x"))


def test_off_by_default(monkeypatch):
    monkeypatch.delenv("MODGAP_JUDGE_BASE_URL", raising=False)
    monkeypatch.delenv("MODGAP_JUDGE_MODEL", raising=False)
    judge = LLMJudge()  # building it (task loading) sends nothing and needs nothing
    with pytest.raises(ConfigError, match="off by default"):
        judge.score(sample(), Generation(text="hello"))


def test_endpoint_from_environment_and_empty_response_needs_no_call(monkeypatch):
    monkeypatch.setenv("MODGAP_JUDGE_BASE_URL", "http://127.0.0.1:9/v1/")
    monkeypatch.setenv("MODGAP_JUDGE_MODEL", "env-model")
    judge = LLMJudge()
    assert (judge.base_url, judge.model) == ("http://127.0.0.1:9/v1", "env-model")
    empty = judge.score(sample(), Generation(text="  "))  # port 9 would refuse: no request is made
    assert empty.value == pytest.approx(0.2) and empty.unextractable


def test_unreachable_endpoint_is_a_clear_error():
    judge = LLMJudge(model="m", base_url="http://127.0.0.1:9/v1", timeout_s=2)
    with pytest.raises(DataError, match="request to http://127.0.0.1:9/v1/chat/completions failed"):
        judge.score(sample(), Generation(text="hello"))


def test_bad_mode():
    with pytest.raises(ConfigError, match="mode"):
        LLMJudge(mode="pairwise")


def test_pedant_is_opt_in_and_warns(monkeypatch, capsys):
    from modgap_eval.scoring.pedant import NOTICE, PedantQA

    monkeypatch.setitem(sys.modules, "qa_metrics", None)
    with pytest.raises(DependencyError, match="pip install qa-metrics"):
        PedantQA()
    calls = []

    class FakePedant:
        def evaluate(self, references, candidate, question):
            calls.append((references, candidate, question))
            return any(ref in candidate for ref in references)

    package = types.ModuleType("qa_metrics")
    package.__path__ = []
    package.__spec__ = types.SimpleNamespace(name="qa_metrics", submodule_search_locations=[])
    module = types.ModuleType("qa_metrics.pedant")
    module.PEDANT = FakePedant
    monkeypatch.setitem(sys.modules, "qa_metrics", package)
    monkeypatch.setitem(sys.modules, "qa_metrics.pedant", module)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: object())
    scorer = PedantQA()
    assert capsys.readouterr().err == ""  # nothing downloaded or announced until scoring starts
    assert scorer.score(sample(["Nine Minutes"]), Generation(text="About nine minutes.")).value == 1.0
    assert NOTICE in capsys.readouterr().err
    assert calls == [(["nine minutes"], "about nine minutes.", "how do i boil an egg?")]
