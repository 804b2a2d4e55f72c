"""Chat models: one OpenAI-compatible or Azure OpenAI endpoint, or a router over several."""
