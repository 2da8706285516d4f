"""Errors shown to a browser as pages of the UI, while API clients keep the JSON errors."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from mlineage.server.errors import wants_page
from mlineage.store.tokens import TokenStore
from tests.ui.conftest import BROWSER, Ui
from tests.ui.sample import PARENT

JSON = {"Accept": "application/json"}
CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
PAGE = f"/{PARENT}/artifacts/a1"


@pytest.mark.parametrize(
    ("method", "path", "accept", "page"),
    [
        ("GET", PAGE, BROWSER["Accept"], True),
        ("GET", "/", CHROME, True),
        ("HEAD", "/nothing-here", "text/html", True),
        ("GET", PAGE, "text/*", True),
        ("GET", PAGE, "text/html;q=0.9, application/json;q=0.5", True),
        # API clients: no Accept, anything, JSON first, or no HTML at all
        ("GET", PAGE, "", False),
        ("GET", PAGE, "*/*", False),
        ("GET", PAGE, "application/json", False),
        ("GET", PAGE, "application/json, text/html;q=0.5", False),
        ("GET", PAGE, "text/html;q=0", False),
        # what is not a page, whatever a browser accepts
        ("GET", "/v1" + PAGE, CHROME, False),
        ("GET", "/v1", CHROME, False),
        ("GET", "/openapi.json", CHROME, False),
        ("GET", "/docs", CHROME, False),
        ("GET", "/static/ui.css", CHROME, False),
        ("GET", f"/{PARENT}/graph.json", CHROME, False),
        ("GET", f"/{PARENT}/contexts/sweep/runs.csv", CHROME, False),
        ("POST", "/login", CHROME, False),
        ("DELETE", PAGE, CHROME, False),
    ],
)
def test_which_errors_are_pages(method: str, path: str, accept: str, page: bool) -> None:
    headers = [(b"accept", accept.encode())] if accept else []
    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    assert wants_page(scope) is page


def _message(page: str) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', page, re.S)
    assert found is not None, page
    return html.unescape(found[1])


def _links(page: str) -> list[str]:
    """Where the page's links back go."""
    nav = re.search(r'<nav class="links"[^>]*>(.*?)</nav>', page, re.S)
    assert nav is not None, page
    return [html.unescape(href) for href in re.findall(r'href="([^"]*)"', nav[1])]


def _is_page(response: httpx.Response, status: int) -> str:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert '<link rel="stylesheet" href="/static/ui.css">' in response.text  # the UI's layout
    return response.text


@pytest.mark.parametrize(
    ("kind", "path", "name"),
    [
        ("artifact", "artifacts/no-such-model", "artifacts/no-such-model"),
        ("run", "contexts/sweep-no-such-run", "contexts/sweep-no-such-run"),
        ("experiment", "contexts/no-such-experiment?sort=loss", "contexts/no-such-experiment"),
    ],
)
def test_a_missing_page_is_a_404_page_with_the_apis_message(
    ui: Ui, kind: str, path: str, name: str
) -> None:
    response = ui.client.get(f"/{PARENT}/{path}", headers=BROWSER)
    page = _is_page(response, 404)
    assert "<title>404 Not found · mlineage</title>" in page
    assert (
        _message(page)
        == f"{'Artifact' if kind == 'artifact' else 'Context'} {PARENT}/{name} not found"
    )
    assert _links(page) == [f"/{PARENT}", "/"]  # the store's experiments, home
    # The API, and a client asking for JSON at the page's own URL, get the JSON as before.
    expected = {"error": {"code": 404, "message": _message(page), "status": "NOT_FOUND"}}
    for url, headers in ((f"/v1/{PARENT}/{path}", BROWSER), (f"/{PARENT}/{path}", JSON)):
        answer = ui.client.get(url, headers=headers)
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == expected


def test_an_unknown_path_is_a_404_page_and_stays_json_under_v1(ui: Ui) -> None:
    page = _is_page(ui.client.get("/no/such/page", headers=BROWSER), 404)
    assert _links(page) == ["/"]
    answer = ui.client.get("/v1/no/such/page", headers=BROWSER)
    assert answer.json() == {"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}}


def test_a_bad_query_parameter_is_a_400_page_naming_it(ui: Ui) -> None:
    response = ui.client.get("/" + ui.sample.experiment, params={"page": "two"}, headers=BROWSER)
    assert _message(_is_page(response, 400)).startswith("page: ")
    assert ui.client.get("/" + ui.sample.experiment, params={"page": "two"}).status_code == 400


def test_a_data_endpoint_keeps_json_errors_for_a_browser(ui: Ui) -> None:
    response = ui.client.get(f"/{PARENT}/graph.json", params={"root": "nope"}, headers=BROWSER)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize("path", ["artifacts/<script>alert(1)", "contexts/<script>alert(1)"])
def test_a_script_in_the_url_is_text_on_the_error_page(ui: Ui, path: str) -> None:
    page = _is_page(ui.client.get(f"/{PARENT}/{path}", headers=BROWSER), 404)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1) not found" in page


@pytest.fixture
def failing(ui: Ui, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client of the UI's app whose store fails unexpectedly on every read of a node."""

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr(ui.store, "get", broken)
    app = ui.client.app
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        yield client


def test_an_unexpected_error_is_a_500_page_without_the_details(failing: TestClient) -> None:
    response = failing.get(f"/{PARENT}/artifacts/a1", headers=BROWSER)
    page = _is_page(response, 500)
    assert _message(page) == "internal error; the server log has the details"
    assert "secret detail" not in page
    assert "Traceback" not in page
    assert failing.get(f"/v1/{PARENT}/artifacts/a1", headers=BROWSER).json() == {
        "error": {
            "code": 500,
            "message": "internal error; the server log has the details",
            "status": "INTERNAL",
        }
    }


def test_a_refusal_by_the_auth_is_a_page_with_a_way_to_log_in(ui: Ui) -> None:
    response = ui.client.get(f"/{PARENT}", headers={**BROWSER, "Host": "rebound.example"})
    page = _is_page(response, 403)
    assert "rebound.example" in _message(page)
    assert _links(page) == [f"/login?next=/{PARENT}", "/"]  # no store: the caller is unknown
    answer = ui.client.get(f"/{PARENT}", headers={"Host": "rebound.example"})
    assert answer.json()["error"]["status"] == "PERMISSION_DENIED"


def test_another_projects_page_is_a_404_page_that_links_nowhere_inside_it(ui: Ui) -> None:
    token = TokenStore(ui.store.db).create("another-project", "reader")[1]
    cookie = {"Cookie": f"mlineage_token={token}"}
    path = f"/{PARENT}/artifacts/<script>x"
    page = _is_page(ui.client.get(path, headers={**BROWSER, **cookie}), 404)
    assert _message(page) == f"{PARENT}/artifacts/<script>x not found"
    assert "<script>x" not in page
    assert _links(page) == ["/"]
    assert ui.client.get(path, headers={**JSON, **cookie}).json()["error"]["status"] == "NOT_FOUND"
    # Without a token, a browser is still sent to log in.
    refused = ui.client.get(f"/{PARENT}", headers=BROWSER, follow_redirects=False)
    assert refused.status_code == 303
    assert refused.headers["location"] == f"/login?next=/{PARENT}"
