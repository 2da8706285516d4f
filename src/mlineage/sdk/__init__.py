"""The Vertex-shaped SDK, written against the store contract only."""
