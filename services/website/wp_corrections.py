"""Corrections ("Đính chính") in WordPress mode: the link step of a correction.

A correction published to a WordPress account gets a link step (``loa.channels.corrections``, the
delivery ``<account>~đính-chính``), which puts the static site's dated notice
(``site/render.py`` ``correction_notice``) on top of the original post and then the line
"Bài này đính chính: <the original, linked>" (``corrects_line``) on top of the correction's post.

Sources (WordPress REST API Handbook, developer.wordpress.org/rest-api/reference/posts/): "Retrieve
a Post" with ``context=edit`` answers ``content.raw`` and ``title.raw`` (as saved, before the
``the_content`` filters); "Update a Post", ``POST /wp/v2/posts/<id>``, changes only the fields it
is sent (here ``content``); an id that is no post answers ``404 rest_post_invalid_id``. The API has
no conditional update (no ``If-Match``): ``WordPress.editing`` keeps one read-and-write of a post at
a time in this process; two replicas are not kept apart (README, "Corrections").

Each block is one line between two HTML comments that name it, ``<!-- loa:dinh-chinh <id> -->`` …
``<!-- /loa:dinh-chinh -->``: found by them it is never written twice, and a new version of the post
keeps it (``keep_blocks``, called by ``WordPress.update``). One line, because ``wpautop`` turns a
newline inside a block into ``<br />``. kses (``wp_kses_split2``, wp-includes/kses.php, for a user
without ``unfiltered_html``) keeps comments but folds runs of ``-`` into one: so do the ids here.
A content's body never carries such a comment (``loa.html.clean`` drops comments).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from loa.channels import Account, PermanentError, PublishResult
from loa.channels.corrections import CorrectionLink
from services.website.site.corrections import Note
from services.website.site.render import Corrections, Link, correction_notice, corrects_line

if TYPE_CHECKING:
    from services.website.wordpress import WordPress

NOTICE = "dinh-chinh"
"""On the original: one block per correction, keyed by the correction's id, oldest first."""
BACK_LINK = "ban-goc"
"""On the correction: the original it corrects, keyed by the original's id."""
ORDER = (NOTICE, BACK_LINK)
"""The static page's order at the top of an article: notices, then what the article corrects."""
_BLOCK = re.compile(
    r"<!-- loa:(?P<kind>[a-z-]+) (?P<key>[A-Za-z0-9._-]+) -->.*?<!-- /loa:(?P=kind) -->\n?", re.S
)


def key_of(content_id: str) -> str:
    """A content id as a block names it: runs of ``-`` folded, as kses folds them in comments."""
    return re.sub(r"-+", "-", content_id)


@dataclass(frozen=True)
class Block:
    kind: str
    key: str
    html: str
    """The whole block: its comments, the fragment on one line, a newline."""

    @classmethod
    def of(cls, kind: str, content_id: str, fragment: str) -> Block:
        key = key_of(content_id)
        line = " ".join(fragment.split())
        return cls(kind, key, f"<!-- loa:{kind} {key} -->{line}<!-- /loa:{kind} -->\n")


def blocks_of(raw: str) -> list[Block]:
    return [Block(m["kind"], m["key"], m[0]) for m in _BLOCK.finditer(raw)]


def has_block(raw: str, kind: str, content_id: str) -> bool:
    return any((b.kind, b.key) == (kind, key_of(content_id)) for b in blocks_of(raw))


def _on_top(blocks: list[Block], rest: str) -> str:
    ordered = sorted(blocks, key=lambda b: ORDER.index(b.kind) if b.kind in ORDER else len(ORDER))
    return "".join(b.html for b in ordered) + rest


def with_block(raw: str, block: Block) -> str:
    """``raw`` with ``block`` on top, after the notices already there; as it is if it has the block."""
    if has_block(raw, block.kind, block.key):
        return raw
    return _on_top([*blocks_of(raw), block], _BLOCK.sub("", raw))


def keep_blocks(old_raw: str, body: str) -> str:
    """A new version's body with the notices and link back the post carried."""
    return _on_top(blocks_of(old_raw), body)


def raw_content(item: dict[str, Any]) -> str:
    return str(item["content"]["raw"])


def notice_block(link: CorrectionLink, correction: dict[str, Any]) -> Block:
    """The static site's notice, linking to the correction's post and dated by its publication."""
    published = datetime.fromisoformat(str(correction["date_gmt"])).replace(tzinfo=UTC)
    note = Note(link.post.content_id, str(correction["link"]), link.title, link.summary, published)
    anchor = f"{NOTICE}-{key_of(link.post.content_id)}"
    return Block.of(NOTICE, link.post.content_id, correction_notice(note, anchor))


def back_link_block(corrects: str, original: dict[str, Any]) -> Block:
    """The static site's "Bài này đính chính: <title>" linking to the original post (its title as
    WordPress keeps it: HTML, ``WordPress._fields``)."""
    title = html.unescape(str(original["title"]["raw"]))
    fragment = corrects_line(Corrections(corrects=Link(str(original["link"]), title)))
    return Block.of(BACK_LINK, corrects, fragment)


def _own_post(link: CorrectionLink) -> PublishResult:
    if link.correction is None:
        raise PermanentError(
            "website: the correction has no post on this WordPress site for the notice to link to",
            code="no_correction_post",
        )
    return link.correction


def _result(link: CorrectionLink, original: dict[str, Any]) -> PublishResult:
    anchor = f"{NOTICE}-{key_of(link.post.content_id)}"
    return PublishResult(
        external_id=f"{original['id']}#{anchor}",
        url=f"{original['link']}#{anchor}",
        extra={"mode": "wordpress", "original_id": str(original["id"]), "notice": True},
    )


async def _add(wp: WordPress, account: Account, post_id: str, block: Block, action: str) -> dict[str, Any]:
    """Put ``block`` on top of the post unless it is there already; the post as it is then."""
    async with wp.editing(account, post_id):
        item = await wp.read(account, post_id)
        raw = raw_content(item)
        new = with_block(raw, block)
        return item if new == raw else await wp.set_content(account, post_id, new, action)


async def link_correction(wp: WordPress, link: CorrectionLink, account: Account) -> PublishResult:
    """The notice on the original, then the link back on the correction (the static site's order:
    what ``find_correction_link`` looks for last is written last); neither written twice."""
    own = _own_post(link)
    correction = await wp.read(account, own.external_id)
    original = await _add(
        wp, account, link.original.external_id, notice_block(link, correction), "add the correction notice"
    )
    corrects = str(link.post.payload["corrects"])
    await _add(wp, account, own.external_id, back_link_block(corrects, original), "link the correction back")
    return _result(link, original)


async def find_correction_link(wp: WordPress, link: CorrectionLink, account: Account) -> PublishResult | None:
    """After an interruption: the link made (the notice on the original and the link back), or None."""
    if link.correction is None:
        return None
    original = await wp.read(account, link.original.external_id)
    if not has_block(raw_content(original), NOTICE, link.post.content_id):
        return None
    correction = await wp.read(account, link.correction.external_id)
    corrects = str(link.post.payload["corrects"])
    return _result(link, original) if has_block(raw_content(correction), BACK_LINK, corrects) else None
