"""``report.html``: the Markdown report as one self-contained file, to forward or print.

The report's Markdown is rendered by markdown-it-py (CommonMark with tables) and every chart it
links is embedded as a base64 PNG, so the file needs nothing beside it. Nothing here imports
matplotlib.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from markdown_it import MarkdownIt

_IMG = re.compile(r'<img src="([^"]+\.png)"')

STYLE = """
body { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; max-width: 60rem;
       margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } img { max-width: 100%; }
code { background: #f5f5f5; padding: 0 0.2rem; }
"""


def _embed(folder: Path, match: re.Match[str]) -> str:
    path = folder / html.unescape(match.group(1))
    if not path.is_file():
        return match.group(0)
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}"'


def to_html(markdown: str, folder: Path) -> str:
    """A complete HTML page of ``markdown`` with the PNGs it links (relative to ``folder``)
    embedded.

    Parameters
    ----------
    markdown : str
        The report's Markdown text; its first line is its ``# title``.
    folder : Path
        The folder the report's links are relative to.
    """
    body = MarkdownIt("commonmark").enable("table").render(markdown)
    body = _IMG.sub(lambda m: _embed(Path(folder), m), body)
    title = markdown.splitlines()[0].lstrip("# ").strip() if markdown else "aiplus-sim report"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )
