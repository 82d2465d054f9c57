"""The letter and article are Markdown files, rendered safely and only again when they change."""

import os

import pytest

from petition.letter.content import markdown, render_file


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


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("![a pixel](http://other.example/p.png)", '<a href="http://other.example/p.png">a pixel</a>'),
        ("![](https://other.example/p.png)", '<a href="https://other.example/p.png">https://other.example/p.png</a>'),
        ("![a *b*][ref]\n\n[ref]: //other.example/p.png", '<a href="//other.example/p.png">a b</a>'),
        ('!["x" <y>](http://other.example/p.png)', '<a href="http://other.example/p.png">&quot;x&quot; &lt;y&gt;</a>'),
        ("![a dot](data:image/png;base64,AAAA)", "<p>a dot</p>"),
        ("![local](/static/share/card-en.png)", '<img src="/static/share/card-en.png" alt="local" />'),
    ],
)
def test_news_markdown_renders_only_the_sites_own_images_as_images(app, text, html):
    with app.app_context():
        rendered = str(markdown(text))
    assert html in rendered
    if "/static/" not in text:
        assert "<img" not in rendered


MARKDOWN_PAGES = ["/", "/background", "/privacy", "/letter/versions", "/sign", "/signatories", "/thanks"]


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("path", MARKDOWN_PAGES)
def test_no_public_page_shows_markdown_marks_to_its_reader(client, language, path):
    """Emphasis that ends with a full-width full stop right before a Chinese character is emphasis
    (CommonMark alone would leave the ** on the page: its flanking rule expects a space there)."""
    import html
    import re

    page = client.get(f"/{language}{path.rstrip('/') if path != '/' else '/'}").get_data(as_text=True)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.split("<main", 1)[1]))
    assert "**" not in text and "__" not in text


@pytest.mark.parametrize(
    "source, html",
    [
        ("**你的姓名和所属机构。**这就是", "<strong>你的姓名和所属机构。</strong>这就是"),
        ("这是**“重要”**的", "这是<strong>“重要”</strong>的"),
        ("*强调：*正文", "<em>强调：</em>正文"),
        ("**Bold.**Then", "**Bold.**Then"),  # English follows CommonMark exactly
    ],
)
def test_chinese_emphasis_next_to_full_width_punctuation_is_emphasis(source, html):
    assert markdown(source).strip() == f"<p>{html}</p>"
