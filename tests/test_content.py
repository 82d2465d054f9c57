"""The letter and article are Markdown files, rendered safely and only again when they change."""

import os

import pytest

from petition.content import render_file


def test_raw_html_in_a_content_file_is_shown_as_text(tmp_path):
    page = tmp_path / "page.en.md"
    page.write_text("# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))\n", encoding="utf-8")
    html = str(render_file(page))
    assert "<h1>Title</h1>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html


def test_rendering_is_cached_until_the_file_changes(tmp_path):
    page = tmp_path / "page.en.md"
    page.write_text("first", encoding="utf-8")
    first = render_file(page)
    assert render_file(page) is first
    page.write_text("second version", encoding="utf-8")
    os.utime(page, ns=(page.stat().st_atime_ns, page.stat().st_mtime_ns + 1_000_000))
    assert "second version" in render_file(page)


@pytest.mark.parametrize("name", ["letter", "background"])
def test_the_content_files_cite_their_source(app, name):
    from pathlib import Path

    text = " ".join((Path(app.config["CONTENT_DIR"]) / f"{name}.en.md").read_text(encoding="utf-8").split())
    assert "Why is the local authority so nervous about labour NGOs?" in text
    assert "China Policy Institute" in text
