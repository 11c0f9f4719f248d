"""Tests for the sentence splitter: newsroom cases with expected splits, and properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transflow.sentences import ABBREVIATIONS, SENTENCE_OPENERS, split_sentences

# (unit text, expected sentences). Every expected list joined by " " is the text itself.
CASES: list[tuple[str, list[str]]] = [
    # plain sentences
    (
        "Dr. Ani Petrosyan, of Yerevan State University, said the talks had stalled. "
        "Officials in Baku disagreed.",
        [
            "Dr. Ani Petrosyan, of Yerevan State University, said the talks had stalled.",
            "Officials in Baku disagreed.",
        ],
    ),
    ("The talks resumed on Monday.", ["The talks resumed on Monday."]),
    (
        "Protesters gathered in Tbilisi. Police blocked Rustaveli Avenue. Nobody was hurt.",
        ["Protesters gathered in Tbilisi.", "Police blocked Rustaveli Avenue.", "Nobody was hurt."],
    ),
    # titles and honorifics
    (
        "Mr. Pashinyan met Mrs. Aliyeva and Ms. Zurabishvili in Brussels.",
        ["Mr. Pashinyan met Mrs. Aliyeva and Ms. Zurabishvili in Brussels."],
    ),
    (
        "Prof. Giorgi Kldiashvili and Gen. Tigran Ohanyan spoke first. Col. Rustam Mammadov "
        "replied.",
        [
            "Prof. Giorgi Kldiashvili and Gen. Tigran Ohanyan spoke first.",
            "Col. Rustam Mammadov replied.",
        ],
    ),
    (
        "Lt. Davit Beridze and Sgt. Levan Kapanadze were detained near the boundary line.",
        ["Lt. Davit Beridze and Sgt. Levan Kapanadze were detained near the boundary line."],
    ),
    (
        "The Rev. Father Ilia led prayers at St. Trinity Cathedral. Thousands attended.",
        ["The Rev. Father Ilia led prayers at St. Trinity Cathedral.", "Thousands attended."],
    ),
    (
        "Climbers reached the summit of Mt. Aragats on Sunday.",
        ["Climbers reached the summit of Mt. Aragats on Sunday."],
    ),
    # company suffixes and name suffixes
    (
        "Azerbaijan Gas Supply Co. signed the deal with Caspian Pipeline Corp. on Friday.",
        ["Azerbaijan Gas Supply Co. signed the deal with Caspian Pipeline Corp. on Friday."],
    ),
    (
        "The contract went to Georgian Railways Ltd. The price was not disclosed.",
        ["The contract went to Georgian Railways Ltd.", "The price was not disclosed."],
    ),
    (
        "Martin Luther King Jr. Street in Yerevan was renamed. The mayor objected.",
        ["Martin Luther King Jr. Street in Yerevan was renamed.", "The mayor objected."],
    ),
    (
        "Shares in Kavkaz Energy Inc. rose 3.5 percent.",
        ["Shares in Kavkaz Energy Inc. rose 3.5 percent."],
    ),
    # country abbreviations, sentence-final or not
    (
        "The delegation then flew to the U.S. The next day it met senators.",
        ["The delegation then flew to the U.S.", "The next day it met senators."],
    ),
    (
        "The U.S. State Department and the U.K. Foreign Office issued a joint statement.",
        ["The U.S. State Department and the U.K. Foreign Office issued a joint statement."],
    ),
    (
        "The mission was approved by the U.N. In Stepanakert, residents waited for news.",
        ["The mission was approved by the U.N.", "In Stepanakert, residents waited for news."],
    ),
    (
        "Sanctions were discussed in the U.S. and the E.U. last week.",
        ["Sanctions were discussed in the U.S. and the E.U. last week."],
    ),
    # Latin abbreviations
    (
        "Border villages, e.g. Tavush and Gazakh, were shelled. Some, i.e. those nearest the "
        "line, were evacuated.",
        [
            "Border villages, e.g. Tavush and Gazakh, were shelled.",
            "Some, i.e. those nearest the line, were evacuated.",
        ],
    ),
    (
        "It was Armenia vs. Azerbaijan in the final. Georgia came third.",
        ["It was Armenia vs. Azerbaijan in the final.", "Georgia came third."],
    ),
    (
        "Exports include wine, mineral water, hazelnuts, etc. The list is growing.",
        ["Exports include wine, mineral water, hazelnuts, etc.", "The list is growing."],
    ),
    (
        "The park covers approx. 150 square kilometres.",
        ["The park covers approx. 150 square kilometres."],
    ),
    # times, dates, numbers
    (
        "The session opened at 10.30 a.m. on Tuesday and closed at 6 p.m. Most deputies left.",
        ["The session opened at 10.30 a.m. on Tuesday and closed at 6 p.m.", "Most deputies left."],
    ),
    (
        "Polls close at 8 p.m. Saturday, the commission said.",
        ["Polls close at 8 p.m. Saturday, the commission said."],
    ),
    (
        "Voting ended at 8 p.m. The count began at once.",
        ["Voting ended at 8 p.m.", "The count began at once."],
    ),
    (
        "The ceasefire was signed on Nov. 10, 2020. It ended 44 days of fighting.",
        ["The ceasefire was signed on Nov. 10, 2020.", "It ended 44 days of fighting."],
    ),
    (
        "The referendum is set for Sept. 17 and the census for Jan. 5.",
        ["The referendum is set for Sept. 17 and the census for Jan. 5."],
    ),
    (
        "Inflation reached 3.5 percent in March. The lari fell to 2.7 against the dollar.",
        ["Inflation reached 3.5 percent in March.", "The lari fell to 2.7 against the dollar."],
    ),
    (
        "The loan of $1.2 billion was approved. Another €300 million is pending.",
        ["The loan of $1.2 billion was approved.", "Another €300 million is pending."],
    ),
    (
        "The law passed in 2018. 12 deputies voted against it.",
        ["The law passed in 2018.", "12 deputies voted against it."],
    ),
    (
        "Resolution No. 2379 was adopted unanimously.",
        ["Resolution No. 2379 was adopted unanimously."],
    ),
    (
        "He was asked whether he would resign. He said “No.” Then he left the room.",
        ["He was asked whether he would resign.", "He said “No.”", "Then he left the room."],
    ),
    # initials
    (
        "The translation of J. R. R. Tolkien into Georgian sold out.",
        ["The translation of J. R. R. Tolkien into Georgian sold out."],
    ),
    (
        "George W. Bush visited Tbilisi in 2005. Crowds filled Freedom Square.",
        ["George W. Bush visited Tbilisi in 2005.", "Crowds filled Freedom Square."],
    ),
    (
        "The report by A. Mammadov and T. Hakobyan was published on Friday.",
        ["The report by A. Mammadov and T. Hakobyan was published on Friday."],
    ),
    (
        "Officials called it Plan B. The opposition called it surrender.",
        ["Officials called it Plan B.", "The opposition called it surrender."],
    ),
    # question and exclamation marks
    (
        "Will the border reopen? Nobody in Gyumri knows. “Enough!” one trader shouted.",
        ["Will the border reopen?", "Nobody in Gyumri knows.", "“Enough!” one trader shouted."],
    ),
    (
        "“Why now?” asked one deputy. “Because we must!” came the reply.",
        ["“Why now?” asked one deputy.", "“Because we must!” came the reply."],
    ),
    (
        "“Is this peace?” he asked.",
        ["“Is this peace?” he asked."],
    ),
    # quotes
    (
        "“We will not back down,” Kobakhidze said. “The people have spoken.”",
        ["“We will not back down,” Kobakhidze said.", "“The people have spoken.”"],
    ),
    (
        "She called it ‘a historic day.’ Others were less sure.",
        ["She called it ‘a historic day.’", "Others were less sure."],
    ),
    (
        '"The road is open," the governor said. "Trucks are moving."',
        ['"The road is open," the governor said.', '"Trucks are moving."'],
    ),
    (
        "The minister said the offer was “final. There will be no other.”",
        ["The minister said the offer was “final.", "There will be no other.”"],
    ),
    # brackets
    (
        "The Lachin corridor (the only road to Armenia) was closed. Food ran short.",
        ["The Lachin corridor (the only road to Armenia) was closed.", "Food ran short."],
    ),
    (
        "Prices rose sharply. (Bread doubled in a month.) Pensions did not.",
        ["Prices rose sharply.", "(Bread doubled in a month.)", "Pensions did not."],
    ),
    (
        "The text [of the agreement] was leaked. [Both sides denied it.]",
        ["The text [of the agreement] was leaked.", "[Both sides denied it.]"],
    ),
    # ellipses
    (
        "“We waited and waited… and nothing came,” she said.",
        ["“We waited and waited… and nothing came,” she said."],
    ),
    (
        "The talks went on for hours... Then the lights went out.",
        ["The talks went on for hours...", "Then the lights went out."],
    ),
    (
        "“The border … Yerevan decides nothing,” the statement read.",
        ["“The border … Yerevan decides nothing,” the statement read."],
    ),
    (
        "The minister paused… The room fell silent.",
        ["The minister paused…", "The room fell silent."],
    ),
    # URLs, e-mail addresses, domains
    (
        "The full report is on oc-media.org. Readers can write to editor@oc-media.org.",
        ["The full report is on oc-media.org.", "Readers can write to editor@oc-media.org."],
    ),
    (
        "See https://example.ge/news/2023.10.05/report.html for the full text.",
        ["See https://example.ge/news/2023.10.05/report.html for the full text."],
    ),
    # lowercase after a period
    (
        "The vote was postponed. and then postponed again.",
        ["The vote was postponed. and then postponed again."],
    ),
    (
        "The iPhone factory opened. eBay and others followed.",
        ["The iPhone factory opened. eBay and others followed."],
    ),
    # inline tags
    (
        "Read the statement on <a1>OC Media</a1>. It was published on Monday.",
        ["Read the statement on <a1>OC Media</a1>.", "It was published on Monday."],
    ),
    (
        "<em1>The talks failed. Both sides left.</em1> A new round is planned.",
        ["<em1>The talks failed. Both sides left.</em1>", "A new round is planned."],
    ),
    (
        "He said <strong1>“No.”</strong1> Then he left.",
        ["He said <strong1>“No.”</strong1>", "Then he left."],
    ),
    (
        "The road closed.<br1/> Food ran short.",
        ["The road closed.<br1/>", "Food ran short."],
    ),
    (
        "The road closed. <br1/> Food ran short.",
        ["The road closed. <br1/>", "Food ran short."],
    ),
    (
        "Read <a1>the report. It is long</a1> and detailed. <em1>Really.</em1> Yes.",
        ["Read <a1>the report. It is long</a1> and detailed.", "<em1>Really.</em1>", "Yes."],
    ),
    (
        "Profits at AT&amp;T fell. Costs rose &gt; 5 percent.",
        ["Profits at AT&amp;T fell.", "Costs rose &gt; 5 percent."],
    ),
    # list enumerators at the start of a unit
    (
        "1. The ceasefire holds. Both sides say so.",
        ["1. The ceasefire holds.", "Both sides say so."],
    ),
    (
        "A. The mission has 200 monitors.",
        ["A. The mission has 200 monitors."],
    ),
    (
        "The mission listed point 2. The second point was access.",
        ["The mission listed point 2.", "The second point was access."],
    ),
    # non-English scripts pass through
    (
        "მთავრობამ განცხადება გაავრცელა. ოპოზიცია არ ეთანხმება.",
        ["მთავრობამ განცხადება გაავრცელა.", "ოპოზიცია არ ეთანხმება."],
    ),
    (
        "Переговоры зашли в тупик. Стороны разошлись.",
        ["Переговоры зашли в тупик.", "Стороны разошлись."],
    ),
    ("会谈已经停滞。 双方都离开了。", ["会谈已经停滞。", "双方都离开了。"]),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_newsroom_cases(text: str, expected: list[str]) -> None:
    assert " ".join(expected) == text  # the case itself is consistent
    assert split_sentences(text) == expected


# Known weak spots: documented here, strict so that a fix shows up as an unexpected pass.
WEAK_SPOTS: list[tuple[str, list[str]]] = [
    # An abbreviation that may end a sentence splits only before a common opener word.
    (
        "Voting closed at 8 p.m. Deputies then left.",
        ["Voting closed at 8 p.m.", "Deputies then left."],
    ),
    (
        "They sold oil, gas, etc. Aliyev praised the deal.",
        ["They sold oil, gas, etc.", "Aliyev praised the deal."],
    ),
    # Titles never end a sentence, so a street name at the end does not split.
    (
        "The office is on Abovyan St. It opens at nine.",
        ["The office is on Abovyan St.", "It opens at nine."],
    ),
    # A name written in lowercase does not start a sentence.
    (
        "Shares fell. eBay said nothing.",
        ["Shares fell.", "eBay said nothing."],
    ),
]


@pytest.mark.xfail(strict=True, reason="known weak spot of the splitter's heuristics")
@pytest.mark.parametrize(("text", "expected"), WEAK_SPOTS, ids=[c[0][:40] for c in WEAK_SPOTS])
def test_known_weak_spots(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 40


def test_empty_and_single_word() -> None:
    assert split_sentences("") == [""]
    assert split_sentences("Tbilisi.") == ["Tbilisi."]


def test_hyphenated_tag_names_are_tags() -> None:
    text = "<my-widget1>The talks failed. Both sides left.</my-widget1> A new round is planned."
    assert split_sentences(text) == [
        "<my-widget1>The talks failed. Both sides left.</my-widget1>",
        "A new round is planned.",
    ]


def test_html_lookalikes_are_text() -> None:
    # `<h1>` is not a notation tag (names never end in a digit): it is text, not markup.
    assert split_sentences("See &lt;h1&gt; here. Then go.") == ["See &lt;h1&gt; here.", "Then go."]


def test_unbalanced_tags_are_never_cut() -> None:
    text = "The talks failed.</a1> Both sides left. <em1>A new round"
    assert split_sentences(text) == [text]


def test_policy_data_is_lowercase_and_periodless() -> None:
    assert all(k == k.lower() and not k.endswith(".") for k in ABBREVIATIONS)
    assert all(w == w.lower() for w in SENTENCE_OPENERS)


# ---------------------------------------------------------------- properties

_TAG = re.compile(r"<(/?)([a-z]+(?:-[a-z]+)*[1-9][0-9]*)(/?)>")


def _balanced(piece: str) -> bool:
    stack: list[str] = []
    for closing, name, void in _TAG.findall(piece):
        if void:
            continue
        if closing:
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


_WORDS = st.sampled_from(
    """
    the talks Baku Yerevan said Dr. Mr. U.S. a.m. p.m. etc. e.g. No. Jan. J. W. 3.5 $1.2
    oc-media.org stalled. Why? Enough! “No.” ‘yes.’ (Tbilisi.) [sic] … ... then… The In He It
    2020. &lt; &amp; ბაქო. Ереван. 中文。 x “ ”
    """.split()
)
_TAG_NAMES = st.sampled_from(["a1", "a2", "em1", "strong1", "span1", "my-widget1"])
_VOIDS = st.sampled_from(["<br1/>", "<br2/>", "<img1/>"])


def _tagged(children: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    """Wrap a list of words in one tag pair, glued to the first and last word (or not)."""

    def wrap(args: tuple[str, list[str], bool]) -> list[str]:
        name, words, glued = args
        if not words:
            return [f"<{name}></{name}>"]
        if glued and len(words) == 1:
            return [f"<{name}>{words[0]}</{name}>"]
        if glued:
            return [f"<{name}>{words[0]}", *words[1:-1], f"{words[-1]}</{name}>"]
        return [f"<{name}>", *words, f"</{name}>"]

    return st.tuples(_TAG_NAMES, children, st.booleans()).map(wrap)


_WORD_LISTS = st.recursive(
    st.lists(st.one_of(_WORDS, _VOIDS), max_size=6),
    lambda children: st.lists(st.one_of(children, _tagged(children)), max_size=4).map(
        lambda lists: [w for ws in lists for w in ws]
    ),
    max_leaves=20,
)


@st.composite
def tagged_texts(draw: st.DrawFn) -> str:
    """Random balanced texts of words, abbreviations, punctuation and nested inline tags."""
    words = draw(_WORD_LISTS)
    # Sometimes glue a tag or punctuation to its neighbour, as real markup does.
    out: list[str] = []
    for w in words:
        if out and draw(st.integers(0, 4)) == 0:
            out[-1] += w
        else:
            out.append(w)
    return " ".join(out)


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_join_restores_any_text(text: str) -> None:
    pieces = split_sentences(text)
    assert " ".join(pieces) == text
    assert pieces


@settings(max_examples=400, deadline=None)
@given(tagged_texts())
def test_pieces_are_balanced_and_rejoin(text: str) -> None:
    assert _balanced(text)
    pieces = split_sentences(text)
    assert " ".join(pieces) == text
    for piece in pieces:
        assert _balanced(piece), (text, piece)
        assert piece or text == ""
        assert not piece.startswith(" ") and not piece.endswith(" ")


@settings(max_examples=300, deadline=None)
@given(tagged_texts())
def test_splitting_a_piece_again_changes_nothing(text: str) -> None:
    for piece in split_sentences(text):
        assert split_sentences(piece) == [piece]


@settings(max_examples=300, deadline=None)
@given(tagged_texts())
def test_no_piece_starts_with_a_lowercase_latin_letter(text: str) -> None:
    for piece in split_sentences(text)[1:]:
        visible = _TAG.sub("", piece).lstrip("\"'“‘«([{‹¿¡.… ")
        assert not (visible[:1].isascii() and visible[:1].islower()), (text, piece)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["ბაქო", "Ереван", "中文", "عربي", "x", ".", "?", "!", "…"]), max_size=20
    )
)
def test_other_scripts_pass_through(parts: list[str]) -> None:
    text = " ".join(parts)
    assert " ".join(split_sentences(text)) == text
