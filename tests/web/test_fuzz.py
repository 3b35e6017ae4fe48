"""A generated corpus of 60+ hostile files through the CLI and the API: every file ends
with a result or a clear error, never a traceback, a hang or a 5xx."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz_corpus import build_corpus
from webhelpers import login_token, upload

pytestmark = [pytest.mark.slow]

API_CODES = {202, 400, 413, 415, 422}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Path]:
    files = build_corpus(tmp_path_factory.mktemp("fuzz"))
    assert len(files) >= 60
    return files


def test_cli_survives_the_corpus(corpus, model_dir):
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in corpus}
    env = dict(os.environ, FAKELENS_ALLOW_DOWNLOAD="0")
    run = subprocess.run([sys.executable, "-m", "fakelens", "detect", *map(str, corpus),
                          "--json", "--frames", "4"], capture_output=True, text=True,
                         timeout=600, env=env)
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.returncode in (0, 1), run.stderr[-2000:]
    docs = json.loads(run.stdout)
    assert len(docs) == len(corpus)
    for path, doc in zip(corpus, docs, strict=True):
        if "error" in doc:
            assert doc["file"] == str(path)
            assert doc["error"]["type"] and doc["error"]["message"], doc
        else:
            assert doc["verdict"] in ("REAL", "FAKE", "UNCERTAIN", "NO_FACE"), doc
    failed = sum("error" in d for d in docs)
    assert failed >= len(corpus) // 2, "most of the corpus is unusable media"
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in corpus} == before


def test_api_survives_the_corpus(corpus, app_factory, tiny_detector):
    client = app_factory(immediate=True, uploads_per_hour=1000)
    headers = login_token(client)
    outcomes: dict[str, int] = {}
    for path in corpus:
        response = upload(client, headers, content=path.read_bytes(), filename=path.name,
                          model=tiny_detector, frames=4)
        assert response.status_code in API_CODES, (path.name, response.status_code,
                                                   response.text[:300])
        assert "Traceback" not in response.text
        if response.status_code != 202:
            assert response.json()["error"]["message"], path.name
            continue
        body = client.get(response.json()["status_url"], headers=headers).json()
        assert body["status"] in ("done", "failed"), (path.name, body["status"])
        if body["status"] == "failed":
            assert body["error"] and "Traceback" not in str(body["error"]), path.name
        outcomes[body["status"]] = outcomes.get(body["status"], 0) + 1
    assert sum(outcomes.values()) >= 1
