"""The OpenAPI schema declares the bearer scheme on the token routes (Swagger's
"Authorize" button), and a missing or bad token still gets this API's error body."""

from __future__ import annotations


def test_bearer_scheme_is_declared(client):
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http", "scheme": "bearer", "description": "an API token from the account page"}
    operations = schema["paths"]["/api/v1/analyses"]
    assert operations["get"]["security"] == [{"apiToken": []}]
    assert operations["post"]["security"] == [{"apiToken": []}]
    assert "security" not in schema["paths"]["/api/v1/models"]["get"]


def test_missing_or_bad_token_keeps_the_error_body(client):
    response = client.get("/api/v1/analyses")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    response = client.get("/api/v1/analyses", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
