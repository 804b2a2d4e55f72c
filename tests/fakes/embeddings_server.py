"""A fake Azure OpenAI embeddings endpoint on 127.0.0.1, speaking the real wire protocol.

``POST /openai/v1/embeddings`` (the v1 API: the deployment is the body's ``model``) and
``POST /openai/deployments/{deployment}/embeddings?api-version=...`` answer the OpenAI list
shape (``{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model",
"usage"}``), as floats or base64 (the SDK asks for base64 by default). Vectors are hashed bags
of words, so texts that share words are near each other. Faults: ``fail_next`` queues status
codes (with Retry-After) answered before the next normal response; an unknown deployment gets
Azure's 404 DeploymentNotFound body. Requests are recorded.

    with FakeEmbeddingsServer(dimension=64) as fake:
        settings = Settings(azure_openai_endpoint=fake.url, ...)
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import threading
import time
from collections import deque
from typing import Any

import numpy as np
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def hashed_vector(text: str, dimension: int) -> np.ndarray:
    vector = np.zeros(dimension, dtype=np.float32)
    for word in re.findall(r"\w+", text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        vector[int.from_bytes(digest[:4], "little") % dimension] += 1.0
    norm = np.linalg.norm(vector)
    return vector / norm if norm else vector


class FakeEmbeddingsServer:
    def __init__(self, *, dimension: int = 64, deployment: str = "embed") -> None:
        self.dimension = dimension
        self.deployment = deployment
        self.requests: list[dict[str, Any]] = []
        self.fail_next: deque[tuple[int, dict[str, str]]] = deque()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self.app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/openai/v1/embeddings")
        async def embeddings_v1(request: Request) -> JSONResponse:
            body = await request.json()
            return await embeddings(str(body.get("model", "")), request)

        @app.post("/openai/deployments/{deployment}/embeddings")
        async def embeddings(deployment: str, request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append({"deployment": deployment, "headers": dict(request.headers),
                                  "query": dict(request.query_params), "body": body})
            if self.fail_next:
                status, headers = self.fail_next.popleft()
                return JSONResponse({"error": {"code": str(status), "message": "injected"}},
                                    status_code=status, headers=headers)
            if deployment != self.deployment:
                return JSONResponse({"error": {"code": "DeploymentNotFound", "message":
                                    "The API deployment for this resource does not exist."}},
                                    status_code=404)
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            size = int(body.get("dimensions") or self.dimension)
            data = []
            for index, text in enumerate(texts):
                vector = hashed_vector(str(text), size)
                embedding: Any = (base64.b64encode(vector.tobytes()).decode()
                                  if body.get("encoding_format") == "base64" else vector.tolist())
                data.append({"object": "embedding", "index": index, "embedding": embedding})
            tokens = sum(len(str(t).split()) for t in texts)
            return JSONResponse({"object": "list", "data": data, "model": "text-embedding-3-small",
                                 "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

        return app

    @property
    def url(self) -> str:
        assert self._sock is not None
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __enter__(self) -> FakeEmbeddingsServer:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake embeddings server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None and self._sock is not None
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()
