"""Chat-turn metrics, registered on the app's ``Telemetry`` registry and fed by the chat flow."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from chatref.chat.turn import TurnRecord
from chatref.telemetry import Telemetry

_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)


class ChatMetrics:
    """Turns by mode and status, time to first token, turn duration and tokens."""

    def __init__(self, telemetry: Telemetry) -> None:
        r = telemetry.registry
        self.turns = Counter("chatref_chat_turns", "Chat turns answered, by mode and status.",
                             ["mode", "status"], registry=r)
        self.first_token = Histogram(
            "chatref_chat_time_to_first_token_seconds",
            "From the request to the first answer text, retrieval and model included.",
            ["mode"], buckets=_BUCKETS, registry=r)
        self.duration = Histogram("chatref_chat_turn_duration_seconds", "Whole turn.", ["mode"],
                                  buckets=_BUCKETS, registry=r)
        self.tokens = Counter("chatref_chat_tokens", "Tokens per turn (in: prompt, out: answer).",
                              ["direction"], registry=r)

    def observe(self, record: TurnRecord) -> None:
        self.turns.labels(record.mode, record.status).inc()
        if record.first_token_s is not None:
            self.first_token.labels(record.mode).observe(record.first_token_s)
        self.duration.labels(record.mode).observe(record.total_s)
        self.tokens.labels("in").inc(record.usage.prompt_tokens)
        self.tokens.labels("out").inc(record.usage.completion_tokens)
