"""Downloads over HTTP: the headers that name a file for the browser."""

from __future__ import annotations

from app.download import attachment_headers


def test_attachment_headers_keep_chinese_names_and_an_ascii_fallback() -> None:
    disposition = attachment_headers("玫瑰 台账.xlsx")["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E7%8E%AB%E7%91%B0%20%E5%8F%B0%E8%B4%A6.xlsx" in disposition
