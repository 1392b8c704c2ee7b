"""Cleaning: from a raw article to the text every offset, chunk and citation refers to.

Web articles arrive wrapped in page furniture: breadcrumbs, photo credits, ads, comment
forms, "Most Popular" sidebars with unrelated stories, injected CSS, donation appeals.
Left in, that furniture gets retrieved and cited as if the article said it. The rules
below are patterns of such furniture, not strings of one site; a rule that could hit a
real sentence only fires on short lines or after the article body has started.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.kernel.records import RawArticle
from index import titles


@dataclass(frozen=True)
class CleanedText:
    """What cleaning learns about an article: its title, body text and, where the text
    says so, its outlet and publish day (YYYY-MM-DD)."""

    title: str
    text: str
    source: str | None = None
    published: str | None = None


_I = re.IGNORECASE
_DATE_LINE = re.compile(r"^\s*date:?\s+(\d{4}-\d{2}-\d{2})\b\s*", _I)
_DROP_LINE = re.compile("|".join(f"(?:{p})" for p in (
    # ad slots and their labels
    r"^[-–—•*\s]*(?:advertisement|advertising|sponsored(?: content)?|ad|a word from our "
    r"sponsors|story continues below(?: advertisement)?|continue reading (?:below|the main "
    r"story))[-–—•*\s]*$",
    r"how relevant is this ad to you|video player was slow to load|video content never loaded|"
    r"ad froze or did not finish loading",
    # comment forms
    r"^(?:please enter your (?:comment|name|e-?mail)|you have entered an incorrect e-?mail|"
    r"save my name,? e-?mail)",
    r"^(?:tags?|topics?|keywords|filed under)\s*:",
    # photo captions and credits
    r"\b(?:photo|image|picture)s?\s*:\s*$",
    r"^(?:\(?(?:photo|image|picture|photograph)s?\s*(?::|by\b)|getty images\s*$).{0,100}$",
    # section labels and "read more" teasers
    r"^(?:latest|breaking|top|more|related|recent|trending)\s+(?:news|stories|headlines|posts|"
    r"articles|videos)\b[\w\s]{0,30}$",
    r"^(?:read more|read also|also read|see also)\s*:|^(?:read more|related (?:articles|posts|"
    r"stories|news|coverage)|more stories|comments)\W*$",
)), _I)
_APPEAL = re.compile(
    r"become a patron|join our community on patreon|subscribe to our (?:channel|newsletter|"
    r"podcast)|^news from [\w.\s-]{2,40} on (?:telegram|facebook|twitter|viber|whatsapp)|"
    r"support (?:independent|our) journalism|sign up (?:here )?for .{0,60}newsletter|"
    r"follow us on (?:telegram|twitter|facebook|instagram)|^for more (?:up-to-date |the "
    r"latest )?(?:news|videos|details|updates)\b.{0,120}\b(?:watch|follow|subscribe|visit)\b",
    _I,
)
# A line that opens a trailing sidebar: from it to the end nothing is the article. Markers
# that also occur mid-article ("Related stories:", "Read More") only drop their own line.
_SIDEBAR = re.compile(
    r"^(?:most (?:popular|read|viewed)|read now|what to read next|more from (?:the )?author|"
    r"leave a (?:reply|comment)|post a comment|you (?:may|might) also like|recommended for "
    r"you|trending now|popular posts)$",
    _I,
)
_SOURCE_LINE = re.compile(r"^(?:source|sources|источник|джерело)\s*:\s*(.{2,60})$", _I)
_CSS_START = re.compile(  # every repetition starts with '.' or '#': no backtracking blow-up
    r"(?:@media\b[^{}\n]*|(?:[.#][a-z_][\w-]*|\b(?:body|html|div|span|img|iframe|ins)\b)"
    r"(?:\s*[,>+~]?\s*[.#][a-z_][\w-]*)*)\s*\{(?=\s*(?:[.#@a-z-]+\s*[{:]|[.#]|\.\.\.|$))",
    _I,
)
_BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "main", "header", "h1", "h2", "h3", "h4", "h5", "h6", "li",
    "ul", "ol", "blockquote", "pre", "table", "tr", "figure", "figcaption", "dl", "dt", "dd", "hr",
    "address"})
_DROP_TAGS = ["script", "style", "noscript", "nav", "footer", "aside", "form", "iframe", "svg",
              "button", "template", "select"]
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_FIELD_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # \t \n \v \f \r: whitespace


def clean_article(raw: RawArticle) -> CleanedText:
    """Clean one raw article: html to text, furniture removed, paragraphs kept as blank
    lines; title, outlet and a leading ' date YYYY-MM-DD' line taken out of the body."""
    text = normalise_whitespace(html_to_text(raw.text) if raw.is_html else raw.text)
    published = raw.published
    if m := _DATE_LINE.match(text):
        text, published = text[m.end():], published or m[1]
    paragraphs, source = _strip_furniture(text)
    given_title = _DATE_LINE.sub("", normalise_whitespace(raw.title or "")).strip()
    title, paragraphs = titles.take_title(paragraphs, given_title)
    title, title_source = titles.split_title_source(title, paragraphs)
    dateline_source = titles.strip_dateline(paragraphs)
    body = "\n\n".join("\n".join(p) for p in paragraphs if p)
    if not title:
        title = titles.first_sentence(body)
    return CleanedText(title=title, text=body, published=published,
                       source=clean_field(raw.source) or source or title_source or dateline_source)


def clean_field(value: str | None) -> str | None:
    """One line of metadata (title, outlet, url, date, record id) safe to store and print:
    NFC, no control characters (C0, DEL and C1: a terminal runs ``ESC]0;…BEL`` or ``ESC[2J``
    as commands), no invisible ones, whitespace runs as one space; None when nothing is left.
    The readers apply it to every field they take; the body text gets the same via
    ``normalise_whitespace``."""
    if value is None:
        return None
    value = _FIELD_CONTROL.sub("", _INVISIBLE.sub("", unicodedata.normalize("NFC", value)))
    return " ".join(value.split()) or None


def normalise_whitespace(text: str) -> str:
    """NFC, one space between words, no invisible characters, at most one blank line."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    text = re.sub(r"[^\S\n]+", " ", text)  # NBSP, tabs, thin spaces -> one space
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", text)  # C0, DEL, C1 controls
    text = "\n".join(line.strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_text(html: str) -> str:
    """Visible text of a page, with block elements as paragraphs (selectolax)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    tree.strip_tags(_DROP_TAGS)
    root = tree.css_first("article") or tree.body or tree.root
    if root is None:
        return ""
    parts: list[str] = []
    stack = [(root, False)]
    while stack:  # iterative walk: deeply nested pages must not hit the recursion limit
        node, leaving = stack.pop()
        if leaving:
            parts.append("\n\n")
        elif node.tag == "-text":
            parts.append(re.sub(r"\s+", " ", node.text_content or ""))
        elif node.tag == "br":
            parts.append("\n")
        elif node.is_element_node:
            if node.tag in _BLOCK_TAGS:
                parts.append("\n\n")
                stack.append((node, True))
            stack.extend((c, False) for c in reversed(list(node.iter(include_text=True))))
    return normalise_whitespace("".join(parts))


def strip_css(line: str) -> str:
    """Remove CSS rules pasted into text (``.ad_22 {width: 300px; ...}``, ``@media``)."""
    while "{" in line and (m := _CSS_START.search(line)):
        depth, j = 0, m.end() - 1
        while j < len(line):
            depth += {"{": 1, "}": -1}.get(line[j], 0)
            if depth == 0:
                break
            j += 1
        line = (line[: m.start()] + " " + line[j + 1:]).strip()  # unclosed: cut to the end
    return re.sub(r" {2,}", " ", line)


def _strip_furniture(text: str) -> tuple[list[list[str]], str | None]:
    """Paragraphs (lists of lines) without page furniture; the outlet of a 'Source:' line."""
    kept: list[list[str]] = []
    body_chars = 0
    previous = ""
    blocks = text.split("\n\n")
    single = sum(1 for b in blocks if b.strip()) == 1
    for block in blocks:
        appeal = _APPEAL.search(block) is not None
        if appeal and len(block) <= 800:
            if not single:
                continue  # a promo paragraph
            # The whole article is one paragraph (a dump line): drop only the promo sentences.
            block = "\n".join(_drop_appeals(line) for line in block.split("\n"))
            if len(block.split()) < 8:
                continue
        lines: list[str] = []
        for line in block.split("\n"):
            line = strip_css(line)
            if not line:
                continue
            if _SIDEBAR.match(line.strip(" -–—:.!")):
                if body_chars >= 150:  # a sidebar after the article: drop it all
                    return _trim_tail([*kept, lines])
                continue
            key = re.sub(r"\W+", " ", line).casefold().strip()
            if key == previous or _DROP_LINE.search(line) or (appeal and _APPEAL.search(line)):
                continue
            previous = key
            lines.append(line)
            body_chars += len(line)
        kept.append(lines)
    return _trim_tail(kept)


def _drop_appeals(line: str) -> str:
    """The line without its promo sentences ('Join our community on Patreon ...')."""
    if not _APPEAL.search(line):
        return line
    return " ".join(s for s in titles.SENTENCE_END.split(line) if not _APPEAL.search(s)).strip()


def _trim_tail(paragraphs: list[list[str]]) -> tuple[list[list[str]], str | None]:
    """Drop a closing 'Source: outlet' line (returned as the outlet) and up to four trailing
    headline-like lines: links to other stories. A longer run is a list, and stays."""
    paragraphs = [p for p in paragraphs if p]
    source = None
    if paragraphs and (m := _SOURCE_LINE.match(paragraphs[-1][-1])):
        source = m[1].strip()
        paragraphs[-1].pop()
        paragraphs = [p for p in paragraphs if p]
    lines = [line for p in paragraphs for line in p]
    run = 0
    while run < len(lines) - 1 and titles.is_headline(lines[-1 - run]):
        run += 1
    if 0 < run <= 4 and all(len(line.split()) >= 5 and not re.match(r"[\W\d]", line)
                            for line in lines[-run:]):
        for _ in range(run):
            paragraphs[-1].pop()
            paragraphs = [p for p in paragraphs if p]
    return [p for p in paragraphs if p], source
