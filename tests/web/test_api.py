"""The JSON API: uploads, status, history, deletion, ownership, and every bad input as a
clear 4xx with a JSON error body (no analysis runs here: workers=0)."""

from __future__ import annotations

import hashlib
import re

import pytest
from webhelpers import csrf_from, png_bytes, upload


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


def test_healthz_and_security_headers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "0.1.0", "queue": "sqlite"}
    headers = response.headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"


def test_openapi_documents_the_upload(client):
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn.jsdelivr.net" not in docs.headers["content-security-policy"]  # local files
    assert "/docs-assets/swagger-ui-bundle.js" in docs.text
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/analyses"]["post"]["requestBody"]
    assert "file" in body["content"]["multipart/form-data"]["schema"]["properties"]
    assert "url" in body["content"]["application/json"]["schema"]["properties"]
    assert "/api/v1/analyses/{analysis_id}" in spec["paths"]
    assert "/login" not in spec["paths"]  # pages stay out of the API description


def test_api_needs_credentials(client):
    response = client.get("/api/v1/analyses")
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert_error(client.get("/api/v1/analyses", headers={"Authorization": "Bearer nope"}),
                 401, "invalid_token")
    assert_error(upload(client), 401, "unauthorized")


def test_upload_is_queued_and_stored_by_content(client, alice_token, data_dir):
    content = png_bytes(1)
    response = upload(client, alice_token, content=content, filename="../../etc/passwd.png",
                      frames=8)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert body["status_url"] == f"/api/v1/analyses/{body['id']}"
    assert response.headers["location"] == body["status_url"]

    status = client.get(body["status_url"], headers=alice_token).json()
    digest = hashlib.sha256(content).hexdigest()
    assert status | {"created_at": None} == status | {  # an image: no "frames"
        "id": body["id"], "status": "queued", "stage": "queued", "progress": 0,
        "filename": "passwd.png", "media_kind": "image", "size_bytes": len(content),
        "sha256": digest, "frames": None, "model": None, "verdict": None, "result": None,
        "error": None, "created_at": None}
    stored = [p for p in (data_dir / "uploads").rglob("*") if p.is_file()]
    assert stored == [data_dir / "uploads" / digest[:2] / digest]
    assert stored[0].read_bytes() == content
    assert not list((data_dir / "tmp").iterdir())
    assert not list(data_dir.rglob("passwd*"))


def test_history_is_paginated_newest_first(client, alice_token):
    ids = [upload(client, alice_token, content=png_bytes(i)).json()["id"] for i in range(3)]
    first = client.get("/api/v1/analyses?per_page=2", headers=alice_token).json()
    assert (first["total"], first["page"], first["per_page"]) == (3, 1, 2)
    assert [item["id"] for item in first["items"]] == ids[::-1][:2]
    second = client.get("/api/v1/analyses?per_page=2&page=2", headers=alice_token).json()
    assert [item["id"] for item in second["items"]] == ids[:1]
    assert_error(client.get("/api/v1/analyses?per_page=0", headers=alice_token),
                 422, "invalid_request")
    assert_error(client.get("/api/v1/analyses?page=x", headers=alice_token),
                 422, "invalid_request")


def test_other_users_see_nothing(client, alice_token, bob_token):
    analysis = upload(client, alice_token).json()
    url = analysis["status_url"]
    assert_error(client.get(url, headers=bob_token), 404, "not_found")
    assert_error(client.get(url + "/result.json", headers=bob_token), 404, "not_found")
    for kind in ("html", "pdf", "json"):
        assert_error(client.get(url + f"/report.{kind}", headers=bob_token), 404, "not_found")
    assert_error(client.delete(url, headers=bob_token), 404, "not_found")
    assert client.get("/api/v1/analyses", headers=bob_token).json()["total"] == 0
    # still there for its owner; an unknown id looks the same as another user's
    assert client.get(url, headers=alice_token).status_code == 200
    assert_error(client.get("/api/v1/analyses/doesnotexist", headers=alice_token),
                 404, "not_found")


def test_delete_removes_the_upload_unless_shared(client, alice_token, bob_token, data_dir):
    content = png_bytes(7)
    blob = data_dir / "uploads" / hashlib.sha256(content).hexdigest()[:2]
    mine = upload(client, alice_token, content=content).json()
    theirs = upload(client, bob_token, content=content).json()
    assert len(list(blob.iterdir())) == 1  # the same content is stored once

    assert client.delete(mine["status_url"], headers=alice_token).status_code == 204
    assert_error(client.get(mine["status_url"], headers=alice_token), 404, "not_found")
    assert len(list(blob.iterdir())) == 1  # bob's analysis still needs it
    assert client.delete(theirs["status_url"], headers=bob_token).status_code == 204
    assert not list(blob.iterdir())


def test_result_download_before_the_result_exists(client, alice_token):
    analysis = upload(client, alice_token).json()
    assert_error(client.get(analysis["status_url"] + "/result.json", headers=alice_token),
                 409, "not_ready")


@pytest.mark.parametrize(("content", "filename", "status", "code"), [
    (b"", "empty.mp4", 422, "empty_media"),
    (b"just some text, not a video\n" * 10, "notes.mp4", 415, "unsupported_media"),
    (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200, "cut.mp4", 422, "corrupt_media"),
])
def test_unusable_files(client, alice_token, data_dir, content, filename, status, code):
    error = assert_error(upload(client, alice_token, content=content, filename=filename),
                         status, code)
    assert filename in error["message"]
    assert str(data_dir) not in error["message"]  # no server path leaks
    assert not list((data_dir / "tmp").iterdir())
    assert client.get("/api/v1/analyses", headers=alice_token).json()["total"] == 0


def _cut_files() -> dict[str, bytes]:
    """Whole files of the formats whose cut copies used to pass the upload's probe."""
    from pathlib import Path
    from tempfile import TemporaryDirectory

    import numpy as np
    from PIL import Image
    from synthetic_media import write_video

    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(10)]
    files = {}
    with TemporaryDirectory() as tmp:
        for name in ("photo.jpg", "still.gif", "anim.gif"):
            path = Path(tmp) / name
            images = [Image.fromarray(f) for f in frames]
            extra = {"save_all": True, "append_images": images[1:]} if "anim" in name else {}
            images[0].save(path, **extra)
            files[name] = path.read_bytes()
        files["clip.webm"] = write_video(Path(tmp) / "clip.webm", frames,
                                         codec="libvpx-vp9").read_bytes()
    return files


def test_cut_files_are_refused_at_upload(client, alice_token, data_dir):
    """A cut JPEG, GIF or WebM is refused at once (422), as a cut MP4 or PNG always was,
    instead of being queued to fail in its job."""
    for accepted, (name, data) in enumerate(_cut_files().items()):
        error = assert_error(upload(client, alice_token, content=data[: len(data) * 2 // 3],
                                    filename=name), 422, "corrupt_media")
        assert name in error["message"] and str(data_dir) not in error["message"]
        assert not list((data_dir / "tmp").iterdir())
        listed = client.get("/api/v1/analyses", headers=alice_token).json()["total"]
        assert listed == accepted  # the whole files before it, not this cut one
        assert upload(client, alice_token, content=data, filename=name).status_code == 202


def test_oversized_upload(app_factory, data_dir):
    from webhelpers import create_token, register

    client = app_factory(max_upload_mb=0.01)  # 10 KiB
    register(client, "alice@example.org")
    headers = {"Authorization": f"Bearer {create_token(client)}"}
    error = assert_error(upload(client, headers, content=b"\x89PNG" + b"\x00" * 30_000),
                         413, "media_too_large")
    assert "0.01 MB" in error["message"]
    assert not list((data_dir / "tmp").iterdir())
    assert not list((data_dir / "uploads").iterdir())


def test_malformed_requests(client, alice_token):
    url = "/api/v1/analyses"
    # no file at all, only options
    assert_error(client.post(url, headers=alice_token, files={"frames": (None, "4")}),
                 400, "no_file")
    # neither a multipart upload nor a link (JSON), and garbage JSON
    assert_error(client.post(url, headers=alice_token | {"Content-Type": "text/plain"},
                             content=b'{"file": '), 415, "unsupported_content_type")
    assert_error(client.post(url, headers=alice_token | {"Content-Type": "application/json"},
                             content=b'{"file": '), 400, "invalid_json")
    assert_error(client.post(url, headers=alice_token, json={"file": "a.png"}), 422,
                 "invalid_request")
    # a multipart body cut short / not multipart at all
    assert_error(client.post(url, headers=alice_token | {
        "Content-Type": "multipart/form-data; boundary=xyz"},
        content=b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n"
                b"\r\nabc"), 400, "invalid_upload")
    assert_error(client.post(url, headers=alice_token | {
        "Content-Type": "multipart/form-data; boundary=xyz"}, content=b"garbage"),
        400, "invalid_upload")
    # a file in another field, two files
    assert_error(client.post(url, headers=alice_token,
                             files={"video": ("a.png", png_bytes(), "image/png")}),
                 400, "invalid_upload")
    assert_error(client.post(url, headers=alice_token,
                             files=[("file", ("a.png", png_bytes(1), "image/png")),
                                    ("file", ("b.png", png_bytes(2), "image/png"))]),
                 400, "invalid_upload")


@pytest.mark.parametrize("frames", ["0", "-3", "many", "100000"])
def test_bad_frames(client, alice_token, frames):
    assert_error(upload(client, alice_token, frames=frames), 422, "invalid_request")


def test_unknown_model(client, alice_token):
    error = assert_error(upload(client, alice_token, model="no-such-model"), 400,
                         "unknown_model")
    assert "no-such-model" in error["message"]


def test_models_lists_installed_detectors(client, tiny_detector):
    models = client.get("/api/v1/models").json()
    assert [m["name"] for m in models] == [tiny_detector]
    assert models[0]["default"] is False and "video" in models[0]["applies_to"]


def test_upload_rate_limit(app_factory):
    from webhelpers import create_token, register

    client = app_factory(uploads_per_hour=2)
    register(client, "alice@example.org")
    headers = {"Authorization": f"Bearer {create_token(client)}"}
    assert [upload(client, headers, content=png_bytes(i)).status_code for i in range(2)] == [
        202, 202]
    response = upload(client, headers, content=png_bytes(3))
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["retry-after"]) > 0


def test_cookie_sessions_need_the_csrf_header(alice):
    assert_error(upload(alice), 403, "csrf_failed")
    token = csrf_from(alice.get("/").text)
    response = upload(alice, {"X-CSRF-Token": token})
    assert response.status_code == 202
    # reading needs no token
    assert alice.get(response.json()["status_url"]).status_code == 200
    assert_error(alice.delete(response.json()["status_url"]), 403, "csrf_failed")


def test_unknown_api_route_is_json(client):
    assert_error(client.get("/api/v1/nothing"), 404, "not_found")
    assert_error(client.put("/api/v1/analyses"), 405, "method_not_allowed")


def test_ids_are_not_sequential(client, alice_token):
    ids = [upload(client, alice_token, content=png_bytes(i)).json()["id"] for i in range(2)]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16}", i) for i in ids)
