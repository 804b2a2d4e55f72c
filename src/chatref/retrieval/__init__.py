"""Finding the passages that answer a question: keyword, vector and hybrid retrieval."""
