"""The mlineage server: the REST API v1 (Vertex AI's resource model), auth and the web UI.

Routes are thin: parse the request, call the store contract, serialise the answer. The
server keeps no state of its own between requests, so several replicas can serve one
database.
"""

from mlineage.server.app import ServerSettings, create_app

__all__ = ["ServerSettings", "create_app"]
