"""Every dashboard page a signed-in person can reach, crawled over HTTP (no JavaScript) from
the navigation, checked for the markup assistive technology relies on: a language, one h1,
a label for every field, a name for every button, table and frame, scoped header cells,
unique ids, text alternatives for images and charts, and a CSRF token in every POST form."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from postillon.message.model import OutgoingEmail
from postillon.services.sending import SendRequest
from tests.e2e.dashboard.browsing import signed_client
from tests.e2e.dashboard.conftest import Served, verified_domain
from tests.support.dns_server import TestDns

pytestmark = pytest.mark.timeout(90)
# Pages crawled at most: every kind of page, with room to spare.
MAX_PAGES = 60
_FIELDS = {"input", "select", "textarea"}
_UNLABELLED_INPUTS = {"hidden", "submit", "button", "reset", "image"}


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    in_label: bool = False


class _Audit(HTMLParser):
    """Collects what the checks need from one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[_Element] = []
        self.open: list[_Element] = []
        self.label_for: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        in_label = any(parent.tag == "label" for parent in self.open)
        element = _Element(tag, {name: value or "" for name, value in attrs}, in_label=in_label)
        for parent in self.open:
            parent.children.append(tag)
        self.elements.append(element)
        if tag == "label" and "for" in element.attrs:
            self.label_for.add(element.attrs["for"])
        if tag == "a" and "href" in element.attrs:
            self.links.append(element.attrs["href"])
        if tag not in {"input", "img", "br", "meta", "link", "hr", "source"}:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index].tag == tag:
                del self.open[index:]
                return

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element.text.append(data)


_NAMED = ("aria-label", "aria-labelledby", "title")


def _element_problem(element: _Element, label_for: set[str]) -> str | None:
    tag, attrs = element.tag, element.attrs
    has_name = element.in_label or any(n in attrs for n in _NAMED)
    text = "".join(element.text).strip()
    field = tag in _FIELDS and attrs.get("type", "text") not in _UNLABELLED_INPUTS
    checks = [
        (field and attrs.get("id") not in label_for and not has_name, "unlabelled field"),
        (tag == "button" and not text and not has_name, "button without a name"),
        (tag == "table" and "caption" not in element.children and not has_name, "uncaptioned"),
        (tag == "th" and "scope" not in attrs, "th without scope"),
        (tag == "img" and "alt" not in attrs, "img without alt"),
        (tag == "iframe" and not attrs.get("title"), "iframe without a title"),
        (
            tag == "svg"
            and attrs.get("aria-hidden") != "true"
            and "title" not in element.children
            and not has_name,
            "svg without a text alternative",
        ),
    ]
    for failed, problem in checks:
        if failed:
            return f"{problem}: <{tag} {attrs.get('name') or attrs.get('id') or text[:30]}>"
    return None


def _problems(html: str) -> tuple[list[str], list[str]]:
    audit = _Audit()
    audit.feed(html)
    found: list[str] = []
    by_tag: dict[str, list[_Element]] = {}
    for element in audit.elements:
        by_tag.setdefault(element.tag, []).append(element)
    if not any(e.attrs.get("lang") for e in by_tag.get("html", [])):
        found.append("<html> without lang")
    if len(by_tag.get("h1", [])) != 1:
        found.append(f"{len(by_tag.get('h1', []))} h1 elements")
    ids = [e.attrs["id"] for e in audit.elements if "id" in e.attrs]
    found += [f"duplicate id {i}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    found += [p for e in audit.elements if (p := _element_problem(e, audit.label_for))]
    posts = [e for e in audit.elements if e.tag == "form" and e.attrs.get("method") == "post"]
    csrf_inputs = sum(
        1 for e in by_tag.get("input", []) if e.attrs.get("name") == "csrf" and e.attrs.get("value")
    )
    if csrf_inputs < len(posts) and "Sign out" in html:
        found.append(f"{len(posts)} POST forms but {csrf_inputs} CSRF fields")
    return found, audit.links


async def _seed(served: Served, test_dns: TestDns) -> None:
    node, account = served.node, served.account
    shop = await verified_domain(node, account, test_dns, "a11y")
    await node.services.users.add(account, "ann@example.com", "correct horse battery")
    await node.store.suppress(account.id, "gone@example.net", "bounce")
    email = OutgoingEmail(
        from_=f"Shop <shop@{shop}>", to=("bob@example.net",), subject="Hi", text="Hi",
        html="<p>Hi</p>",
    )  # fmt: skip
    await node.services.sending.send(account, SendRequest(email=email, tags=("a11y",)))


async def _crawl(client: httpx.AsyncClient, base: str) -> dict[str, str]:
    pages: dict[str, str] = {}
    queue = ["/overview"]
    while queue and len(pages) < MAX_PAGES:
        path = queue.pop(0)
        if path in pages:
            continue
        answer = await client.get(path)
        assert answer.status_code == 200, f"{path}: {answer.status_code}"
        if not answer.headers["content-type"].startswith("text/html"):
            pages[path] = ""
            continue
        pages[path] = answer.text
        for link in _problems(answer.text)[1]:
            absolute = urljoin(f"{base}{path}", link)
            if absolute.startswith(f"{base}/") and "/static/" not in absolute:
                inside = absolute.removeprefix(base)
                if urlsplit(inside).path.rsplit("/", 1)[-1] not in {"sign-out", "raw"}:
                    queue.append(inside.split("#")[0])
    return pages


async def test_every_reachable_page_has_accessible_markup(
    served: Served, test_dns: TestDns
) -> None:
    await _seed(served, test_dns)
    async with signed_client(served) as (client, _):
        pages = await _crawl(client, served.base_url)
    async with httpx.AsyncClient(base_url=served.base_url, timeout=15.0) as anonymous:
        pages["/sign-in"] = (await anonymous.get("/sign-in")).text

    problems = {
        path: found for path, html in pages.items() if html and (found := _problems(html)[0])
    }

    visited = {urlsplit(path).path.split("/")[1] for path in pages}
    assert {"overview", "messages", "domains", "suppressions", "webhooks", "keys", "users"} <= (
        visited
    )
    assert any(path.startswith("/messages/") for path in pages), sorted(pages)
    assert any(path.startswith("/domains/") for path in pages), sorted(pages)
    assert problems == {}


_PAGE = '<html lang="en"><body><h1>T</h1>{}</body></html>'


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('<input name="q">', "unlabelled field"),
        ('<label for="x">X</label><select id="y"></select>', "unlabelled field"),
        ("<button></button>", "button without a name"),
        ("<table><tr><td>1</td></tr></table>", "uncaptioned"),
        ("<table><caption>c</caption><tr><th>h</th></tr></table>", "th without scope"),
        ('<img src="a.png">', "img without alt"),
        ('<iframe src="x"></iframe>', "iframe without a title"),
        ("<svg><rect/></svg>", "svg without a text alternative"),
        ("<h1>Again</h1>", "2 h1 elements"),
        ('<p id="a"></p><p id="a"></p>', "duplicate id a"),
        ('<form method="post"><input name="x" aria-label="x"></form>Sign out', "CSRF"),
    ],
)
def test_the_audit_finds_each_kind_of_problem(body: str, problem: str) -> None:
    found, _ = _problems(_PAGE.format(body))
    assert any(problem in line for line in found), found


def test_the_audit_accepts_good_markup() -> None:
    good = (
        '<label>Q <input name="q"></label><button aria-label="Go"></button>'
        '<table><caption>c</caption><tr><th scope="col">h</th></tr></table>'
        '<svg role="img"><title>t</title></svg>'
    )
    assert _problems(_PAGE.format(good)) == ([], [])
