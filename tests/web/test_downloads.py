"""Downloads of a result or a report keep the uploaded file's name, in any script: the
Content-Disposition header is plain ASCII (an ASCII ``filename`` for old clients and the
name itself in RFC 5987's ``filename*=UTF-8''...``), never a 500."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from sqlalchemy import select
from webhelpers import png_bytes, upload

from fakelens.db.tables import AnalysisRow, Status
from fakelens.jobs.files import report_path
from fakelens.web.downloads import content_disposition

# the uploaded name, and the stem the downloads carry (dots and spaces become "_")
NAMES = [
    ("фото.jpg", "фото_jpg"),  # Cyrillic
    ("写真 2024.png", "写真_2024_png"),  # CJK
    ("صورة.png", "صورة_png"),  # Arabic
    ("תמונה.png", "תמונה_png"),  # Hebrew
    ("फ़ोटो.png", "फ़ोटो_png"),  # Devanagari (combining vowel signs kept)
    ("φωτογραφία.png", "φωτογραφία_png"),  # Greek
    ("ภาพถ่าย.png", "ภาพถ่าย_png"),  # Thai
    ("🎉 party.png", "🎉_party_png"),  # an emoji
    ("café; x=1.png", "café__x_1_png"),  # Latin-1, and header syntax
]


def filename_of(header: str) -> str:
    """The file name a browser reads from the header: ``filename*`` (RFC 5987) when
    there is one, else ``filename`` (RFC 6266)."""
    params = dict(re.findall(r';\s*([A-Za-z*]+)=("(?:[^"\\]|\\.)*"|[^;]*)', header))
    if "filename*" in params:
        charset, _, value = params["filename*"].split("'", 2)
        assert charset == "UTF-8" and re.fullmatch(r"[A-Za-z0-9%!#$&+.^_`|~-]+", value)
        return unquote(value, encoding="utf-8", errors="strict")
    return re.sub(r"\\(.)", r"\1", params["filename"][1:-1])


def ascii_fallback(header: str) -> str:
    match = re.search(r'(?:^|;)\s*filename="([^"\\]*)"', header)
    assert match, header
    return match.group(1)


def finish(client, public_id: str) -> None:
    """Mark the analysis done with a stored result and report (no detector needed)."""
    with client.app.state.sessions() as db:
        row = db.scalar(select(AnalysisRow).where(AnalysisRow.public_id == public_id))
        row.status, row.result_json = Status.DONE, '{"verdict": "REAL"}'
        db.commit()
    path = report_path(client.app.state.settings, public_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("<!doctype html><title>report</title><p>report</p>", encoding="utf-8")


@pytest.mark.parametrize(("name", "stem"), NAMES, ids=[n for n, _ in NAMES])
def test_downloads_keep_any_file_name(client, alice_token, name, stem):
    accepted = upload(client, alice_token, content=png_bytes(), filename=name)
    assert accepted.status_code == 202, accepted.text
    url, public_id = accepted.json()["status_url"], accepted.json()["id"]
    assert client.get(url, headers=alice_token).json()["filename"] == name
    finish(client, public_id)
    wanted = {"result.json": f"fakelens-{stem}.json",
              "report.json": f"fakelens-report-{stem}.json",
              "report.html": f"fakelens-report-{stem}.html",
              "report.pdf": f"fakelens-report-{stem}.pdf"}
    for download, filename in wanted.items():
        response = client.get(f"{url}/{download}", headers=alice_token)
        assert response.status_code == 200, (download, response.text[:300])
        raw = dict(response.headers.raw)[b"content-disposition"]
        header = raw.decode("ascii")  # ASCII: latin-1 encodable whatever the name
        assert header.startswith("attachment;")
        assert filename_of(header) == filename, (download, header)
        fallback = ascii_fallback(header)
        assert fallback.isascii() and fallback.endswith(filename.rsplit(".", 1)[1])
        assert re.fullmatch(r"[A-Za-z0-9._-]+", fallback), fallback


def test_content_disposition_helper():
    assert content_disposition("fakelens-clip.json") == (
        'attachment; filename="fakelens-clip.json"')  # nothing to add for an ASCII name
    header = content_disposition("fakelens-фото.json")
    assert header == ("attachment; filename=\"fakelens-_.json\"; "
                      "filename*=UTF-8''fakelens-%D1%84%D0%BE%D1%82%D0%BE.json")
    assert filename_of(header) == "fakelens-фото.json"
    assert ascii_fallback(content_disposition("café.pdf")) == "cafe.pdf"
    assert ascii_fallback(content_disposition("日本.pdf")) == "download.pdf"
    for name in ('a"b.json', "a\\b.json", "a\r\nX-Evil: 1.json", "a b;c.json"):
        header = content_disposition(name)
        assert header.isascii() and "\r" not in header and "\n" not in header
        assert filename_of(header) == name
