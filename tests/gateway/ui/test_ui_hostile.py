"""Hostile text for the UI tests, and a check that a page shows it as text, never as markup.

Not a test module of its own (it holds no tests); named test_ui_* so it sits with them.
"""

from __future__ import annotations

from html.parser import HTMLParser

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(1)"
# Every field gets all three: a script element, an attribute break-out, a javascript: URL.
HOSTILE = f"{SCRIPT} {IMG} {JS_URL}"
ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;")
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "img", "iframe", "object", "embed"):
            self.live.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.live.append(f"<{tag} {name}=...>")
            if name in URL_ATTRS and (value or "").strip().lower().startswith("javascript:"):
                self.live.append(f"<{tag} {name}={value}>")


def assert_inert(html: str, *, shown: bool = False, where: str = "") -> None:
    """No live script, image, event handler or javascript: URL; if ``shown``, the text itself."""
    tags = _Tags()
    tags.feed(html)
    assert tags.live == [], f"{where}: live markup {tags.live}"
    assert SCRIPT not in html and "<img" not in html, where
    if shown:
        for escaped in ESCAPED:
            assert escaped in html, f"{where}: {escaped!r} not shown\n{html[:3000]}"


def hostile_pages(held_id: int) -> list[tuple[str, bool]]:
    """The pages that show the hostile text, and whether each shows it verbatim (escaped)."""
    return [
        ("/admin", False),
        ("/admin/customers", True),
        ("/admin/customers/C-9?reasons=1", True),
        ("/admin/restrictions/R-X", True),
        ("/admin/held", False),
        (f"/admin/held/{held_id}?read=1", True),
        ("/admin/held?status=released", True),
        ("/admin/evidence?customer=C-9", False),
        ("/admin/audit", False),
        ("/admin/reports", False),
    ]
