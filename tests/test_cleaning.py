"""index/cleaning.py: page furniture out, article sentences kept, title/source/date found."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.kernel.records import RawArticle
from index.cleaning import CleanedText, clean_article, html_to_text, strip_css

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
DATA = Path(__file__).resolve().parent / "data"
CSS_FRAGMENT = re.compile(r"\{[^}]*:|@media|\.in_text_content|adsbygoogle", re.I)


def clean_seed(prefix: str) -> CleanedText:
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    return clean_article(RawArticle(doc_id=path.stem, text=path.read_text(encoding="utf-8")))


def clean_text(text: str, **fields: object) -> CleanedText:
    return clean_article(RawArticle(doc_id="t", text=text, **fields))  # type: ignore[arg-type]


# --- the seeds ---------------------------------------------------------------------------

SEED_003_JUNK = [
    "Photo:", "Latest news Ukraine", "Join our community on Patreon", "Become a Patron",
    "Tags:", "Ukraine needs independent journalism", "Podoliak", "Now is not the time",
]
SEED_004_JUNK = [
    "HomeWorld", "Photo: Getty Images", "News from Correspondent.net on Telegram",
    "Subscribe to our channel", "Athletistic", "Source: korrespondent", "A word from our sponsors",
    "Most Popular", "LEAVE A REPLY", "Please enter your comment", "Please enter your name here",
    "More from Author", "Read Now", "Skolko Dronov", "in_text_content", "width:", "@Media",
    "Adsbygoogle", "Saratov", "Kherson", "September 2025",
]


def test_seed_003_furniture_is_gone_and_the_article_stays() -> None:
    c = clean_seed("003")
    for junk in SEED_003_JUNK:
        assert junk.lower() not in c.text.lower(), junk
    assert c.title == "Macron says new security architecture should give guarantees for Russia"
    assert c.source == "Reuters"
    assert c.text.startswith("The West should consider how to address Russia’s need")
    assert "Back on 17 December 2021, Russia published a draft" in c.text
    assert c.text.rstrip().endswith("doesn’t see NATO as a real threat to its security.")
    assert c.title not in c.text  # the headline line is not repeated in the body


def test_seed_004_furniture_is_gone_and_the_article_stays() -> None:
    c = clean_seed("004")
    for junk in SEED_004_JUNK:
        assert junk.lower() not in c.text.lower(), junk
    assert c.title == "Russia needs security guarantees – Macron"  # a speaker, not an outlet
    assert c.source == "korrespondent"
    assert c.text.startswith("The French President believes that Western countries")
    for sentence in [
        "Europe must prepare the future security architecture, he believes.",
        "Correspondent.net previously reported that Biden will receive Emmanuel Macron on a "
        "state visit this week.",
        "Ukraine has said that negotiations are possible only on the condition that Russia stops "
        "attacking and withdraws its troops.",
    ]:
        assert sentence in c.text
    assert c.text.endswith("state visit this week.")


@pytest.mark.parametrize(("prefix", "published"), [("000", "2022-12-05"), ("002", "2022-02-07")])
def test_seed_date_line_becomes_the_publish_date(prefix: str, published: str) -> None:
    c = clean_seed(prefix)
    assert c.published == published
    assert published not in c.text and not c.text.startswith("date")
    assert "date" not in c.title.split()[0].lower()


def test_seed_000_title_is_the_first_sentence_cut_short() -> None:
    c = clean_seed("000")
    assert c.title.startswith("The head of diplomacy of the European Union")
    assert c.title.endswith("…") and len(c.title) <= 92
    assert c.text.startswith("The head of diplomacy")  # a sentence title stays in the body
    assert "watch the Izvestia TV channel" not in c.text  # a promo line, not the article


def test_seed_001_ad_marker_removed_and_nothing_invented() -> None:
    c = clean_seed("001")
    assert "Advertisement" not in c.text
    assert c.published is None and c.source is None
    assert "Thirdly, the Russian proposals" in c.text


def test_every_seed_keeps_paragraphs_and_has_no_furniture() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        c = clean_article(RawArticle(doc_id=path.stem, text=path.read_text(encoding="utf-8")))
        assert c.title and c.text
        assert "\n\n\n" not in c.text and c.text == c.text.strip()
        assert not CSS_FRAGMENT.search(c.text)
        if "\n\n" in path.read_text(encoding="utf-8"):
            assert "\n\n" in c.text


# --- rules on other shapes of news pages ------------------------------------------------------

def test_html_page_to_paragraphs() -> None:
    html = (DATA / "readers_page.html").read_text(encoding="utf-8")
    c = clean_article(RawArticle(doc_id="p", text=html, is_html=True,
                                 title="Harbour reopens after storm", source="Coastal Tribune"))
    assert c.text.split("\n\n") == [
        "The port of Saltmere reopened on Monday, two days after the storm closed it.",
        "Harbour master Ines Varga said 14 ships were waiting outside.\nMost will dock by Wednesday.",
    ]
    assert c.title == "Harbour reopens after storm" and c.source == "Coastal Tribune"


def test_html_drops_scripts_styles_and_navigation() -> None:
    text = html_to_text("<html><head><style>p{color:red}</style></head><body><nav>Home News</nav>"
                        "<div><p>One.</p><script>var x = 1;</script><p>Two &amp; three.</p></div>"
                        "<footer>Contact us</footer></body></html>")
    assert text == "One.\n\nTwo & three."


def test_dateline_names_the_outlet_and_leaves_the_body() -> None:
    c = clean_text("New York CNN —\n\n“Squid Game” is officially coming back.\n\nNetflix said so.",
                   title="'Squid Game' returns - CNN")
    assert c.source == "CNN" and c.title == "'Squid Game' returns"
    assert c.text.startswith("“Squid Game” is officially coming back.")
    c = clean_text("(CNN) The popular rideshare company Lyft has agreed to a settlement.\n\nMore.")
    assert c.source == "CNN" and c.text.startswith("The popular rideshare company")
    c = clean_text("TAMPA, Fla. (AP) — Aaron Judge stepped into the cage.\n\nHe hit it.",
                   source="usatoday.com")
    assert c.source == "usatoday.com"  # the reader's source wins
    assert c.text.startswith("Aaron Judge stepped into the cage.")


def test_video_player_ad_text_is_removed() -> None:
    c = clean_text("1. How relevant is this ad to you?\n\nVideo player was slow to load content "
                   "Video content never loaded Ad froze or did not finish loading\n\n"
                   "The storm closed the port on Monday.")
    assert c.text == "The storm closed the port on Monday."


def test_sidebar_marker_mid_article_does_not_cut_the_article() -> None:
    body = "The council met on Monday and approved the budget for the coming year. " * 3
    c = clean_text(f"{body}\n\nRelated stories:\n\nRead More\n\nThe vote was 7 to 2.\n\n"
                   "Most Popular\n\nCelebrity wedding photos\n\nTen beaches to visit")
    assert "The vote was 7 to 2." in c.text
    assert "Related stories" not in c.text and "Read More" not in c.text
    assert "beaches" not in c.text and "Most Popular" not in c.text


def test_a_list_at_the_end_of_an_article_is_kept() -> None:
    items = ["Better Call Saul (AMC)", "Euphoria (HBO)", "Ozark (Netflix)", "Severance (Apple)",
             "Squid Game (Netflix)", "Succession (HBO)"]
    c = clean_text("The Emmy nominations were announced on Tuesday.\n\nDRAMA SERIES\n\n"
                   + "\n\n".join(items))
    assert all(item in c.text for item in items)


def test_a_data_source_line_inside_the_article_stays() -> None:
    c = clean_text("Visits by year:\n2017: 4.4 million\nSource: RMNP\n\nThe park raised its fee.")
    assert "Source: RMNP" in c.text and c.source is None


def test_duplicate_lines_captions_and_tags() -> None:
    c = clean_text("Leaders met in Paris. Photo:\n\nLeaders met in Paris. Photo:\n\n"
                   "The leaders met in Paris on Friday.\nThe leaders met in Paris on Friday.\n\n"
                   "Tags: , , ,")
    assert c.text == "The leaders met in Paris on Friday."


def test_css_pasted_into_a_sentence_is_cut_and_the_sentence_kept() -> None:
    line = ("Drones hit the plant at night. .in_text_content_22 {width: 300px; Height: 600px; } "
            "@Media (min-width: 600px) {.in_text_content_22 {width: 580px; }} .Adsbygoogle {Touch:...")
    assert strip_css(line) == "Drones hit the plant at night."
    assert strip_css("A set {a, b} is not CSS.") == "A set {a, b} is not CSS."


def test_whitespace_is_normalised_but_paragraphs_survive() -> None:
    c = clean_text("First\u00a0line   here.\r\nSecond\u200b line.\r\n\r\n\r\n\r\nNext  paragraph.")
    assert c.text == "First line here.\nSecond line.\n\nNext paragraph."


def test_headline_line_becomes_the_title_and_leaves_the_body() -> None:
    c = clean_text("Port reopens after three-day storm\n\nThe port reopened on Monday.")
    assert c.title == "Port reopens after three-day storm"
    assert c.text == "The port reopened on Monday."


# --- properties --------------------------------------------------------------------------------

CSS_SNIPPETS = [".in_text_content_22 {width: 300px; Height: 600px; }",
                "@media (min-width: 600px) {.ad_box {width: 580px; }}",
                ".Adsbygoogle {Touch-Action:..."]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=80), st.sampled_from(CSS_SNIPPETS),
                          st.sampled_from(SEED_004_JUNK + SEED_003_JUNK)), max_size=20),
       st.sampled_from(["\n", "\n\n", " "]), st.booleans())
def test_cleaning_never_crashes_and_leaves_no_css(parts: list[str], sep: str, html: bool) -> None:
    c = clean_text(sep.join(parts), is_html=html)
    assert isinstance(c.title, str) and isinstance(c.text, str)
    assert not re.search(r"\{\s*(width|height|touch-action)\s*:", c.text, re.I)
    assert "@media (min-width" not in c.text.lower()
    assert "\n\n\n" not in c.text and c.text == c.text.strip()


def test_title_fallback_skips_bylines_and_datelines() -> None:
    c = clean_text("Patrick Ryan\n\nUSA TODAY\n\nMusic fans' drink of choice is Lemonade. It sold well.")
    assert c.title == "Music fans' drink of choice is Lemonade"
    c = clean_text("New York CNN Business —\n\nThe court ruled in Roe v. Wade that the law stands. "
                   "Then more.")
    assert c.title == "The court ruled in Roe v. Wade that the law stands"
    assert c.source == "CNN Business" and not c.text.startswith("New York")


def test_parenthesised_party_is_not_a_dateline() -> None:
    c = clean_text("President Biden (D) said the bill will pass this week.\n\nIt passed.")
    assert c.text.startswith("President Biden (D) said") and c.source is None
