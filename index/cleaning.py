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
_BREADCRUMB = re.compile(r"^(?:home|main page|main)(?:\s*[›»>/|]\s*|(?=[A-Z]))", _I)
_OUTLETS = (
    "Reuters|AP|Associated Press|AFP|Agence France-Presse|CNN|CNN Business|BBC|BBC News|"
    "TASS|RIA Novosti|Interfax|Bloomberg|UPI|Al Jazeera|The Guardian|Guardian|NPR|Politico|"
    "Axios|USA TODAY|USA Today|Fox News|NBC News|CBS News|ABC News|Euronews|DW|France 24|"
    "Ukrinform|The Kyiv Independent|Kyiv Independent|The New York Times|The Washington Post"
)
_TITLE_SOURCE = re.compile(r"\s+(?:[–—-]|\|)\s+([^–—|]{2,40})$")
_DATELINE_ALONE = re.compile(
    rf"^(?:[A-Z][\w.'-]*(?:[ ,]+[A-Z][\w.'-]*){{0,3}}\s+)?\(?({_OUTLETS})\)?\s*[—–-]\s*$")
_DATELINE = re.compile(  # an outlet in parentheses: "(CNN)", "London (CNN Business)", "(AP) —"
    rf"^(?:[A-Z][\w.'-]*(?:[ ,]+[A-Z][\w.'-]*){{0,3}}\s+)?\(({_OUTLETS}|[A-Z]{{2,6}}"
    r"(?: [A-Z][a-z]+)?)\)\s*(?:[—–-]\s*)?(?=\S)")
_BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "main", "header", "h1", "h2", "h3", "h4", "h5", "h6", "li",
    "ul", "ol", "blockquote", "pre", "table", "tr", "figure", "figcaption", "dl", "dt", "dd", "hr",
    "address"})
_DROP_TAGS = ["script", "style", "noscript", "nav", "footer", "aside", "form", "iframe", "svg",
              "button", "template", "select"]
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“A-ZА-Я0-9])")
_ABBREVIATION = re.compile(  # "Roe v. Wade", "Lt. Uhura", "Jan. 6" do not end a sentence
    r"(?:^|\W)(?:[A-Za-z]|Mr|Mrs|Ms|Dr|Lt|St|Gen|Sen|Rep|Gov|Jr|Sr|vs|No|Jan|Feb|Mar|Apr|Aug|"
    r"Sept?|Oct|Nov|Dec|U\.S|U\.K)\.[\"”’)]*$")
_HEADLINE_END = re.compile(r"[.!?…:;,][\"”’')»]*$")
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
    title, paragraphs = _take_title(paragraphs, given_title)
    title, title_source = _split_title_source(title, paragraphs)
    dateline_source = _strip_dateline(paragraphs)
    body = "\n\n".join("\n".join(p) for p in paragraphs if p)
    if not title:
        title = _first_sentence(body)
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
    return " ".join(s for s in _SENTENCE_END.split(line) if not _APPEAL.search(s)).strip()


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
    while run < len(lines) - 1 and _is_headline(lines[-1 - run]):
        run += 1
    if 0 < run <= 4 and all(len(line.split()) >= 5 and not re.match(r"[\W\d]", line)
                            for line in lines[-run:]):
        for _ in range(run):
            paragraphs[-1].pop()
            paragraphs = [p for p in paragraphs if p]
    return [p for p in paragraphs if p], source


def _is_headline(line: str) -> bool:
    words = line.split()
    return (3 <= len(words) <= 25 and len(line) <= 160 and not _HEADLINE_END.search(line)
            and not line[0].islower())


def _take_title(paragraphs: list[list[str]], given: str) -> tuple[str, list[list[str]]]:
    """The title and the body without it: the given title, or a headline-like first line.
    Breadcrumbs and truncated teasers ('HomeWorldRussia needs...') above it are dropped."""
    lines = [(i, j) for i, p in enumerate(paragraphs[:4]) for j in range(len(p))][:4]
    drop: set[tuple[int, int]] = set()
    for n, (i, j) in enumerate(lines):
        line = paragraphs[i][j]
        following = paragraphs[lines[n + 1][0]][lines[n + 1][1]] if n + 1 < len(lines) else ""
        teaser = line.removesuffix("...").removesuffix("…").rstrip()
        if _DATELINE_ALONE.match(line):
            break  # "New York CNN —" is no headline; _strip_dateline takes it
        if _BREADCRUMB.match(line) or (line != teaser and 15 <= len(teaser) <= 200
                                       and teaser[-15:] in following):
            drop.add((i, j))
        elif not given and _is_headline(line) and len(paragraphs) > 1:
            given = line
            drop.add((i, j))
            break
        elif _norm(line) in (_norm(given), _norm(_TITLE_SOURCE.sub("", given))):
            drop.add((i, j))  # the page repeats its title as the first line
        else:
            break
    body = [[ln for j, ln in enumerate(p) if (i, j) not in drop] for i, p in enumerate(paragraphs)]
    return given, [p for p in body if p]


def _split_title_source(title: str, paragraphs: list[list[str]]) -> tuple[str, str | None]:
    """'Title – Reuters' -> ('Title', 'Reuters') when the suffix is an outlet: a known one,
    one after '|', or one the body cites as reporting. 'Title – Macron' stays whole."""
    m = _TITLE_SOURCE.search(title)
    if not m:
        return title, None
    name = m[1].strip()
    body = " ".join(" ".join(p) for p in paragraphs)
    reports = re.search(rf"\b{re.escape(name)} (?:reports|reported)\b|\breports {re.escape(name)}\b",
                        body)
    if re.fullmatch(_OUTLETS, name) or "|" in m[0] or reports:
        return title[: m.start()].strip(), name
    return title, None


def _strip_dateline(paragraphs: list[list[str]]) -> str | None:
    """Remove a leading 'New York CNN —' / '(CNN)' dateline; return the outlet it names."""
    if not paragraphs:
        return None
    first = paragraphs[0]
    if m := _DATELINE_ALONE.match(first[0]):
        first.pop(0)
        if not first:
            paragraphs.pop(0)
        return m[1]
    if m := _DATELINE.match(first[0]):
        first[0] = first[0][m.end():]
        return m[1].strip()
    return None


def _first_sentence(body: str, limit: int = 90) -> str:
    """The first sentence, cut at a word boundary near ``limit`` characters with '…'.
    Short lines before it (bylines such as 'Patrick Ryan', 'USA TODAY') are passed over."""
    lines = body.strip().split("\n")
    line = next((ln for ln in lines if len(ln.split()) >= 6), lines[0])
    first = line
    for end in _SENTENCE_END.finditer(line):
        if not _ABBREVIATION.search(line, max(0, end.start() - 8), end.start()):
            first = line[: end.start()]
            break
    first = first.rstrip(". ")
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:–— ") + "…"


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text).casefold().strip()
