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
from modgap_eval.scoring.judge_config import (
    JudgeEndpoint,
    allow_downloads,
    configure_judge,
    judge_endpoint,
    override_profile,
)
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
                reply = stub.replies.pop(0)  # a list: one choice per sample asked for (n)
                contents = reply if isinstance(reply, list) else [reply]
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": c}} for c in contents]})
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


@pytest.mark.parametrize(
    "reply,rating",
    [("4", 4), ("[[5]]", 5), ("Rating: 2/5", 2), (" 3.", 3), ("none", None), ("10", None), ("I'd say 4.5", None)],
)
def test_parse_rating(reply, rating):
    assert parse_rating(reply) == rating


@pytest.mark.parametrize("reply,verdict", [("Yes", True), ("no.", False), ("**Yes**", True), ("Maybe", None)])
def test_parse_verdict(reply, verdict):
    assert parse_verdict(reply) is verdict


@pytest.fixture(autouse=True)
def no_judge_configured(monkeypatch):
    """Each test starts with no judge endpoint and no download permission, whatever the caller's environment."""
    for name in ("MODGAP_JUDGE_BASE_URL", "MODGAP_JUDGE_MODEL", "MODGAP_JUDGE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    configure_judge(None)
    override_profile(None)
    allow_downloads(False)
    yield
    configure_judge(None)
    override_profile(None)
    allow_downloads(False)


def test_open_mode_rates_through_endpoint_and_records_settings(monkeypatch):
    monkeypatch.setenv("MODGAP_JUDGE_API_KEY", "secret-key")
    with StubJudge(["4", "oops"]) as stub:
        configure_judge(JudgeEndpoint(base_url=stub.url, model="judge-model"))
        judge = LLMJudge(mode="open")
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
    assert recorded["model"] == "judge-model" and recorded["endpoint"]["base_url"] == stub.url
    assert recorded["profile"] == "modgap"
    assert "secret-key" not in json.dumps(recorded) and recorded["prompt"] == judge.prompt


def test_voicebench_profile_sends_its_settings_and_averages_three_ratings():
    with StubJudge([["4", "5", "[[3]]"], ["Yes", "no", "yes"], ["yes", "no", "Yes."]]) as stub:
        configure_judge(JudgeEndpoint(base_url=stub.url))  # no model named: the profile's gpt-4o-mini
        rated = LLMJudge(mode="open", profile="voicebench").score(sample(), Generation(text="Boil it {response}."))
        qa = LLMJudge(mode="qa", profile="voicebench")
        majority = qa.score(sample(["nine minutes"]), Generation(text="9 minutes"))
        tie = qa.score(sample(["nine minutes"]), Generation(text="9 minutes"))
    assert rated.value == pytest.approx((4 + 5 + 3) / 3 / 5) and rated.extras == {"judge_rating": 4.0}
    body = stub.requests[0]
    assert (body["model"], body["temperature"], body["top_p"], body["n"], body["max_tokens"]) == (
        "gpt-4o-mini",
        0.5,
        0.95,
        3,
        1024,
    )
    assert body["messages"][0]["content"] == "You are a helpful assistant who tries to help answer the user's question."
    assert "### [Response]: Boil it {response}." in body["messages"][1]["content"]  # filled by plain replacement
    assert majority.value == 1.0  # "yes" twice after lower-casing
    assert tie.value == pytest.approx(1 / 3)  # yes / no / "yes.": a three-way tie, expectation over VoiceBench's pick


def test_judge_profile_option_overrides_the_task():
    with StubJudge(["3"]) as stub:
        configure_judge(JudgeEndpoint(base_url=stub.url, model="m"))
        override_profile("modgap")
        assert LLMJudge(mode="open", profile="voicebench").score(sample(), Generation(text="x")).value == pytest.approx(
            0.6
        )
    assert "n" not in stub.requests[0] and stub.requests[0]["temperature"] == 0.0


def test_qa_mode_uses_reference(monkeypatch):
    with StubJudge(["Yes", "No"]) as stub:
        configure_judge(JudgeEndpoint(base_url=stub.url, model="m"))
        judge = LLMJudge(mode="qa")
        assert judge.score(sample(["nine minutes"]), Generation(text="About 9 minutes")).value == 1.0
        assert judge.score(sample(["nine minutes"]), Generation(text="An hour")).value == 0.0
        with pytest.raises(DataError, match="no reference"):
            LLMJudge(mode="qa").score(sample(), Generation(text="x"))
    assert "nine minutes" in stub.requests[0]["messages"][1]["content"]


def test_off_by_default():
    judge = LLMJudge()  # building it (task loading) sends nothing and needs nothing
    with pytest.raises(ConfigError, match="off by default"):
        judge.score(sample(), Generation(text="hello"))


@pytest.mark.parametrize("arg", [{"base_url": "http://127.0.0.1:9/v1"}, {"api_key_env": "HF_TOKEN"}, {"model": "m"}])
def test_a_task_cannot_name_endpoint_key_or_model(arg):
    with pytest.raises(TypeError):
        LLMJudge(mode="open", **arg)


def test_endpoint_from_environment_and_empty_response_needs_no_call(monkeypatch):
    monkeypatch.setenv("MODGAP_JUDGE_BASE_URL", "http://127.0.0.1:9/v1/")
    monkeypatch.setenv("MODGAP_JUDGE_MODEL", "env-model")
    endpoint = judge_endpoint()
    assert (endpoint.base_url, endpoint.model) == ("http://127.0.0.1:9/v1", "env-model")
    empty = LLMJudge().score(sample(), Generation(text="  "))  # port 9 would refuse: no request is made
    assert empty.value == pytest.approx(0.2) and empty.unextractable


def test_unreachable_endpoint_is_a_clear_error():
    configure_judge(JudgeEndpoint(base_url="http://127.0.0.1:9/v1", model="m"))
    with pytest.raises(DataError, match="request to http://127.0.0.1:9/v1/chat/completions failed"):
        LLMJudge().score(sample(), Generation(text="hello"))


def test_bad_mode_and_profile():
    with pytest.raises(ConfigError, match="mode"):
        LLMJudge(mode="pairwise")
    with pytest.raises(ConfigError, match="profile"):
        LLMJudge(profile="gpt5-secret")
    with pytest.raises(ConfigError, match="http"):
        JudgeEndpoint(base_url="file:///etc/passwd")


def test_judge_options_over_the_environment(monkeypatch):
    import argparse

    from modgap_eval.scoring.judge_config import apply_judge_options

    def options(**given):
        names = ("judge_base_url", "judge_model", "judge_api_key_env", "judge_profile", "allow_downloads")
        return argparse.Namespace(**{name: given.get(name) for name in names})

    with pytest.raises(ConfigError, match="need --judge_base_url"):
        apply_judge_options(options(judge_model="m"))  # a model but no endpoint anywhere
    apply_judge_options(options())
    assert judge_endpoint() is None  # no options, no environment: no judge
    monkeypatch.setenv("MODGAP_JUDGE_BASE_URL", "http://env.example/v1")
    monkeypatch.setenv("MODGAP_JUDGE_MODEL", "env-model")
    apply_judge_options(options(judge_api_key_env="MY_KEY"))
    assert judge_endpoint() == JudgeEndpoint("http://env.example/v1", "env-model", "MY_KEY")
    configure_judge(None)
    apply_judge_options(options(judge_base_url="http://cli.example/v1/", judge_profile="modgap"))
    assert judge_endpoint() == JudgeEndpoint("http://cli.example/v1", "env-model", "MODGAP_JUDGE_API_KEY")
    configure_judge(None)
    apply_judge_options(options(judge_base_url="http://cli.example/v1", judge_model="cli-model"))
    assert judge_endpoint() == JudgeEndpoint("http://cli.example/v1", "cli-model", "MODGAP_JUDGE_API_KEY")


def test_pedant_needs_the_cli_opt_in():
    from modgap_eval.scoring.pedant import PedantQA

    with pytest.raises(ConfigError, match="--allow_downloads"):
        PedantQA()


def test_pedant_is_opt_in_and_warns(monkeypatch, capsys):
    from modgap_eval.scoring.pedant import NOTICE, PedantQA

    allow_downloads(True)

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


def fake_pedant(monkeypatch, verdict):
    package = types.ModuleType("qa_metrics")
    package.__path__ = []
    module = types.ModuleType("qa_metrics.pedant")
    module.PEDANT = type("FakePedant", (), {"evaluate": lambda self, refs, cand, q: verdict(refs, cand, q)})
    monkeypatch.setitem(sys.modules, "qa_metrics", package)
    monkeypatch.setitem(sys.modules, "qa_metrics.pedant", module)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: object())
    monkeypatch.setattr("modgap_eval.scoring.pedant.installed_version", lambda: "0.2.17")


def test_qa_voicebench_averages_pedant_and_the_judge_majority(monkeypatch):
    from modgap_eval.scoring.qa_voicebench import VoiceBenchQA

    with pytest.raises(ConfigError, match="--allow_downloads"):
        VoiceBenchQA()
    allow_downloads(True)
    fake_pedant(monkeypatch, lambda refs, cand, q: "orwell" in cand)
    # response 1: PEDANT yes, judge yes/yes/no -> 1; response 2: PEDANT no, judge no/no/yes -> 0;
    # response 3: PEDANT yes, judge no x3 -> 0 (voicebench 0.5); strict is qa_match
    with StubJudge([["Yes", "yes", "No"], ["No", "no", "Yes"], ["No", "No", "No"]]) as stub:
        configure_judge(JudgeEndpoint(base_url=stub.url))
        scorer = VoiceBenchQA()
        first = scorer.score(sample(["George Orwell"]), Generation(text="George Orwell wrote it."))
        second = scorer.score(sample(["George Orwell"]), Generation(text="Aldous Huxley."))
        third = scorer.score(sample(["George Orwell"]), Generation(text="Orwell or Huxley"))
    assert first.readings == {"strict": 1.0, "voicebench": 1.0, "pedant": 1.0, "judge": 1.0}
    assert second.readings == {"strict": 0.0, "voicebench": 0.0, "pedant": 0.0, "judge": 0.0}
    assert third.readings == {"strict": 0.0, "voicebench": 0.5, "pedant": 1.0, "judge": 0.0}  # hedge: strict 0
    assert stub.requests[0]["n"] == 3 and "George Orwell" in stub.requests[0]["messages"][1]["content"]


def test_pedant_requires_voicebenchs_pinned_version(monkeypatch):
    from modgap_eval.scoring.pedant import PedantQA

    allow_downloads(True)
    fake_pedant(monkeypatch, lambda refs, cand, q: True)
    monkeypatch.setattr("modgap_eval.scoring.pedant.installed_version", lambda: "0.2.31")
    with pytest.raises(DependencyError, match="qa-metrics==0.2.17"):
        PedantQA()
