"""The morphology engine and its data: generated forms, hard negatives, data self-checks."""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import pytest

from transflow.morphology import (
    Morphology,
    available_languages,
    find_phrase,
    load_morphology,
    parse_morphology,
)


def accepts(lang: str, lemma: str, text: str) -> bool:
    """True when `text` (a word or phrase) is an accepted form of `lemma`."""
    morph = load_morphology(lang)
    phrase = morph.phrase(lemma)
    tokens = morph.tokenize(text)
    return any(span == (0, len(tokens.words)) for span in find_phrase(tokens, phrase))


@pytest.mark.parametrize(
    ("lemma", "form"),
    [
        ("Степанакерт", "Степанакерта"), ("Степанакерт", "Степанакерте"),
        ("Степанакерт", "Степанакертом"), ("Шуша", "Шуши"), ("Шуша", "Шуше"),
        ("Шуша", "Шушу"), ("Шуша", "Шушой"), ("Горис", "Гориса"), ("Горис", "Горисе"),
        ("Армения", "Армении"), ("Армения", "Арменией"), ("Грузия", "Грузию"),
        ("Лачинский коридор", "Лачинского коридора"), ("Лачинский коридор", "Лачинском коридоре"),
        ("Лачинский коридор", "Лачинскому коридору"),
        ("российские миротворцы", "российских миротворцев"),
        ("российские миротворцы", "российскими миротворцами"),
        ("Южная Осетия", "Южной Осетии"), ("Нагорный Карабах", "Нагорного Карабаха"),
        ("Министерство иностранных дел", "Министерства иностранных дел"),
        ("премьер-министр", "премьер-министра"), ("Красный Крест", "Красного Креста"),
        ("вынужденные переселенцы", "вынужденных переселенцев"), ("власти", "властей"),
        ("Кёльн", "Кельне"), ("Кремль", "Кремля"), ("МИД", "МИДа"),
        ("Народный защитник", "Народного защитника"), ("Баку", "баку"),
    ],
)
def test_russian_forms(lemma: str, form: str) -> None:
    assert accepts("ru", lemma, form)


@pytest.mark.parametrize(
    ("lemma", "text"),
    [
        ("Шуша", "Шушенский"), ("Гори", "Горис"), ("Гори", "Гориса"), ("Горис", "Гори"),
        ("Баку", "Бакуриани"), ("Баку", "Бака"), ("Тбилиси", "Тбилисский"),
        ("Нино Беридзе", "Нине Беридзе"), ("Сухуми", "Сухуме"), ("Карабах", "карабахский"),
        ("Нагорный Карабах", "Нагорно-Карабах"),
    ],
)
def test_russian_hard_negatives(lemma: str, text: str) -> None:
    assert not accepts("ru", lemma, text)


@pytest.mark.parametrize(
    ("lemma", "form"),
    [
        ("სტეფანაკერტი", "სტეფანაკერტში"), ("სტეფანაკერტი", "სტეფანაკერტის"),
        ("სტეფანაკერტი", "სტეფანაკერტიდან"), ("სტეფანაკერტი", "სტეფანაკერტამდე"),
        ("სტეფანაკერტი", "სტეფანაკერტმა"), ("სტეფანაკერტი", "სტეფანაკერტისთვის"),
        ("სტეფანაკერტი", "სტეფანაკერტსაც"), ("სტეფანაკერტი", "სტეფანაკერტშიც"),
        ("შუშა", "შუშის"), ("შუშა", "შუშაში"), ("შუშა", "შუშამდე"), ("შუშა", "შუშიდან"),
        ("შუშა", "შუშამ"), ("შუშა", "შუშაც"), ("ბაქო", "ბაქოს"), ("ბაქო", "ბაქოში"),
        ("ბაქო", "ბაქოდან"), ("ბაქო", "ბაქომ"), ("ბაქო", "ბაქოსთან"), ("არცახი", "არცახისა"),
        ("მთიანი ყარაბაღი", "მთიან ყარაბაღში"), ("მთიანი ყარაბაღი", "მთიანი ყარაბაღის"),
        ("მთიანი ყარაბაღი", "მთიანმა ყარაბაღმა"), ("პრემიერ-მინისტრი", "პრემიერ-მინისტრმა"),
        ("რუსი სამშვიდობოები", "რუსი სამშვიდობოების"), ("ბერიძე", "ბერიძის"),
        ("სომხეთი", "სომხეთებში"),
    ],
)
def test_georgian_forms(lemma: str, form: str) -> None:
    assert accepts("ka", lemma, form)


@pytest.mark.parametrize(
    ("lemma", "text"),
    [
        ("შუშა", "შუშანიკის"), ("გორი", "გორისში"), ("გორისი", "გორში"), ("გორისი", "გორის"),
        ("თბილისი", "თბილისელები"), ("ყარაბაღი", "ყარაბაღელი"),
        ("დერეფანი", "დერეფნის"),  # syncope is not guessed: it comes from the term's forms
    ],
)
def test_georgian_hard_negatives(lemma: str, text: str) -> None:
    assert not accepts("ka", lemma, text)


def test_latin_name_in_georgian_takes_endings_after_a_hyphen() -> None:
    ka = load_morphology("ka")
    phrase = ka.phrase("OC Media", keep_case=True, inflect=False)
    for text in ("OC Media-ს", "OC Media-ში", "წაიკითხეთ OC Media-ზე"):
        assert find_phrase(ka.tokenize(text, keep_case=True), phrase), text
    assert not find_phrase(ka.tokenize("oc media-ს", keep_case=True), phrase)


def test_unknown_language_falls_back_to_exact_matching() -> None:
    de = load_morphology("de")
    assert not de.inflects
    assert de.word_forms("Tiflis") == frozenset({"tiflis"})
    assert find_phrase(de.tokenize("In TIFLIS"), de.phrase("Tiflis"))
    assert not find_phrase(de.tokenize("Tiflisser"), de.phrase("Tiflis"))


def test_a_new_language_is_data_only() -> None:
    data = tomllib.loads('''
        letters = "abcĉdefgĝhĥijĵklmnoprsŝtuŭvz"
        vowels = "aeiou"
        [[rule]]
        name = "noun"
        ends = ["o"]
        endings = ["o", "on", "oj", "ojn"]
    ''')
    eo = parse_morphology("eo", data, "test")
    assert eo.word_forms("urbo") == frozenset({"urbo", "urbon", "urboj", "urbojn"})


def _examples(morph: Morphology, example: str) -> list[tuple[str, str]]:
    pairs = []
    for chunk in example.split(";"):
        if "→" not in chunk:
            continue
        lemma, forms = chunk.split("→", 1)
        for form in forms.split(","):
            form = re.sub(r"\(.*?\)|\bbut\b", "", form).strip()
            if form:
                pairs.append((lemma.strip(), form))
    return pairs


@pytest.mark.parametrize("lang", ["ru", "ka"])
def test_every_rule_example_is_generated(lang: str) -> None:
    """The `example` of each rule in the data file is what the engine produces."""
    morph = load_morphology(lang)
    checked = 0
    for rule in morph.rules:
        for lemma, form in _examples(morph, rule.example):
            assert accepts(lang, lemma, form), f"{rule.name}: {lemma} → {form}"
            checked += 1
    assert checked >= 20


def test_data_files_are_listed_and_valid() -> None:
    assert {"ru", "ka"} <= set(available_languages())
    for name in available_languages():
        text = resources.files("transflow.morphology").joinpath(f"{name}.toml").read_text("utf-8")
        morph = parse_morphology(name, tomllib.loads(text), name)
        assert morph.rules


def test_bad_data_is_reported_with_the_file() -> None:
    with pytest.raises(ValueError, match="test: rule 1"):
        parse_morphology("xx", {"rule": [{"name": "r", "ends": ["a"], "bogus": 1}]}, "test")
    with pytest.raises(ValueError, match="no ending set"):
        parse_morphology("xx", {"rule": [{"ends": ["a"], "endings": ["@nope"]}]}, "test")


def test_a_listed_stem_is_inflected_by_the_rules() -> None:
    ka = load_morphology("ka")
    phrase = ka.listed_phrase("ლაჩინის დერეფნ-")
    for text in ("ლაჩინის დერეფნის", "ლაჩინის დერეფნიდან", "ლაჩინის დერეფნამდე",
                 "ლაჩინის დერეფნისაც"):
        assert find_phrase(ka.tokenize(text), phrase), text
    assert not find_phrase(ka.tokenize("ლაჩინის დერეფნი"), phrase)  # not a nominative
    ru = load_morphology("ru")
    assert find_phrase(ru.tokenize("в Орле"), ru.listed_phrase("Орл-"))


def test_a_georgian_compound_stem_needs_its_hyphen() -> None:
    ka = load_morphology("ka")
    phrase = ka.phrase("სომხეთი")
    assert find_phrase(ka.tokenize("სომხეთ-აზერბაიჯანის საზღვარი"), phrase) == [(0, 1)]
    # Georgian spells a compound open as well (hyphen and space are one spelling, issue 16),
    # and a title before a name takes the same bare stem (პრემიერ-მინისტრ ნიკოლ ფაშინიანთან)
    assert find_phrase(ka.tokenize("სომხეთ აზერბაიჯანის"), phrase) == [(0, 1)]
    title = ka.phrase("პრემიერ-მინისტრი")
    assert find_phrase(ka.tokenize("პრემიერ-მინისტრ ნიკოლ ფაშინიანთან"), title) == [(0, 2)]
    # but a bare stem with nothing after it, or before punctuation, is not a form of the word
    assert not find_phrase(ka.tokenize("ის სომხეთ"), phrase)
    assert not find_phrase(ka.tokenize("სომხეთ, აზერბაიჯანი"), phrase)


# --- issue 16: plural terms, numerals, hyphen/space, acronyms ---------------------------------

@pytest.mark.parametrize(
    ("lang", "lemma", "text"),
    [
        # Russian plural lemmas: adjective + noun in every case, -ии → -ий genitive plural
        ("ru", "Женевские международные дискуссии", "Женевских международных дискуссий"),
        ("ru", "Женевские международные дискуссии", "Женевским международным дискуссиям"),
        ("ru", "Женевские международные дискуссии", "на Женевских международных дискуссиях"),
        ("ru", "российские миротворцы", "российскими миротворцами"),
        # numerals: 2–4 take the genitive singular, 21 the nominative singular, 5+ gen. plural
        ("ru", "российские миротворцы", "два российских миротворца"),
        ("ru", "российские миротворцы", "21 российский миротворец"),
        ("ru", "российские миротворцы", "пять российских миротворцев"),
        ("ru", "международные наблюдатели", "три международных наблюдателя"),
        ("ru", "карабахские армяне", "карабахских армян"),
        ("ru", "карабахские армяне", "один карабахский армянин"),
        ("ru", "переговоры", "переговоров"),
        # hyphen or space: one spelling
        ("ru", "де-факто", "де факто"),
        ("ru", "премьер-министр", "премьер министра"),
        # Georgian: numerals take the singular
        ("ka", "რუსი სამშვიდობოები", "ორი რუსი სამშვიდობო"),
        ("ka", "რუსი სამშვიდობოები", "სამი რუსი სამშვიდობოს"),
        ("ka", "რუსი სამშვიდობოები", "რუსმა სამშვიდობოებმა"),
        ("ka", "რუსი სამშვიდობოები", "რუს სამშვიდობოებს"),
        ("ka", "ქართველი ჯარისკაცები", "ხუთი ქართველი ჯარისკაცი"),
        ("ka", "ქართველი ჯარისკაცები", "ორ ქართველ ჯარისკაცს"),
        # the old plural of formal Georgian
        ("ka", "იძულებით გადაადგილებული პირები", "იძულებით გადაადგილებულ პირთა"),
        ("ka", "იძულებით გადაადგილებული პირები", "იძულებით გადაადგილებულ პირთათვის"),
        # Georgian hyphen/space variants of a multi-word name
        ("ka", "მთიანი ყარაბაღი", "მთიან-ყარაბაღში"),
        ("ka", "მთიანი ყარაბაღი", "მთიანი-ყარაბაღის"),
        ("ka", "პრემიერ-მინისტრი", "პრემიერ მინისტრმა"),
        # Georgian acronyms: declined after a hyphen or as a noun with the nominative -ი
        ("ka", "სუს", "სუს-ის"),
        ("ka", "სუს", "სუს-მა"),
        ("ka", "სუს", "სუსი"),
        ("ka", "სუს", "სუსის"),
        ("ka", "სუს", "სუსმა"),
    ],
)
def test_plurals_numerals_variants_and_acronyms(lang: str, lemma: str, text: str) -> None:
    morph = load_morphology(lang)
    assert find_phrase(morph.tokenize(text), morph.phrase(lemma)), f"{lemma} → {text}"


@pytest.mark.parametrize(
    ("lang", "lemma", "text"),
    [
        ("ru", "российские миротворцы", "русские миротворцы"),  # another adjective
        ("ru", "Женевские международные дискуссии", "Женевские переговоры"),
        ("ru", "Шуша", "Шушенский"),
        ("ru", "Гори", "Горис"),
        ("ru", "Баку", "Бакуриани"),
        ("ka", "შუშა", "შუშანიკის"),
        ("ka", "სუს", "სუსტი"),  # weak: shares the letters, another word
        ("ka", "რუსი სამშვიდობოები", "რუსეთის სამშვიდობოები"),
        ("ka", "მთიანი ყარაბაღი", "მთიანი—ყარაბაღი"),  # a dash is not a hyphen
    ],
)
def test_the_new_rules_keep_other_words_out(lang: str, lemma: str, text: str) -> None:
    morph = load_morphology(lang)
    assert not find_phrase(morph.tokenize(text), morph.phrase(lemma)), f"{lemma} → {text}"


def test_every_english_rule_example_is_generated() -> None:
    morph = load_morphology("en")
    pairs = [pair for rule in morph.rules for pair in _examples(morph, rule.example)]
    for lemma, form in pairs:
        assert accepts("en", lemma, form), f"{lemma} → {form}"
    assert len(pairs) >= 10
    # spelling variants both ways, hyphen or space
    assert accepts("en", "unrecognised", "unrecognized")
    assert accepts("en", "partially recognized", "partially recognised")
    assert accepts("en", "de facto", "de-facto")
    assert not accepts("en", "de facto", "facto")


def test_written_forms_keep_the_renderings_capitalisation() -> None:
    ru = load_morphology("ru")
    forms = ru.written_forms("Степанакерт")
    assert "Степанакерта" in forms and "степанакерта" not in forms
    assert forms == sorted(forms, key=lambda f: (f.lower(), f))
    assert "МИДа" in ru.written_forms("МИД")
    assert "Пётр" in ru.written_forms("Пётр")  # ё as written (matching folds it)
    assert "სტეფანაკერტშიც" in load_morphology("ka").written_forms("სტეფანაკერტი", clitics=True)


def test_an_attributive_phrase_takes_the_modifier_forms() -> None:
    ka = load_morphology("ka")
    text = ka.tokenize("არაღიარებულ რესპუბლიკაში")
    plain, attributive = ka.phrase("არაღიარებული"), ka.phrase("არაღიარებული", attributive=True)
    assert "არაღიარებულ" not in plain.words[-1] and "არაღიარებულ" in attributive.words[-1]
    assert find_phrase(text, attributive)
    assert find_phrase(ka.tokenize("ის არაღიარებულ."), attributive)  # wherever it stands
    assert not find_phrase(ka.tokenize("ის არაღიარებულ."), plain)
