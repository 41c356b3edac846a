"""Reusable test support: a fake OpenAI-compatible server for backends, tests and benchmarks."""

from tests.support.openai_server import FakeOpenAIServer, RecordedRequest, Reply, decode_data_url

__all__ = ["FakeOpenAIServer", "RecordedRequest", "Reply", "decode_data_url"]
