"""mlineage: a self-hosted ML metadata and lineage store with a Vertex AI-shaped SDK."""
