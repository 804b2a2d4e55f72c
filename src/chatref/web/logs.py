"""How a serving process logs: uvicorn's lines and chatref's own at the level asked, every other
library at WARNING.

``chatref serve`` and the container's entry point pass ``log_config`` to uvicorn, which applies
it in every worker process (``--workers N`` spawns fresh interpreters, so configuring this
process alone would not reach them). Before, ``chatref serve`` configured nothing, so chatref's
INFO lines (the index warm-up's duration, retention deletions) were never shown; the container
set the root logger to INFO, so every library's INFO lines were shown too: httpx logs one line
per request (each model call) and the Azure SDK's HttpLoggingPolicy several per call (each
search, each history write), a cost in a production log that is billed by the gigabyte.

>>> config = log_config("info")
>>> config["loggers"]["chatref"]["level"], config["root"]["level"]
('INFO', 'WARNING')
"""

from __future__ import annotations

import copy
from typing import Any


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's default logging configuration, plus chatref's logger at ``level`` and the root
    logger (every other library) at WARNING, all through uvicorn's stderr handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["chatref"] = {"handlers": ["default"], "level": level.upper(),
                                    "propagate": False}
    config["root"] = {"handlers": ["default"], "level": "WARNING"}
    return config
