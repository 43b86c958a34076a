"""Sentence segmentation: Punkt on punctuated text, restoration on stripped text."""

from __future__ import annotations

import itertools
import math
import pathlib
import pickle
import zlib

import numpy as np
import pytest
from nltk.tokenize.punkt import PunktParameters

from archive.restore import BoundaryModel, boundary_prf, sentence_words, strip_punctuation
from archive.segment import (
    Segmenter,
    default_segmenter,
    is_unpunctuated,
    spread_sample,
    strip_leading_residue,
    train_segmenter,
)


def _bbc(bbc_dir: pathlib.Path, n_train: int, n_test: int) -> tuple[list[str], list[str]]:
    paths = sorted(
        bbc_dir.glob("*/*.txt"), key=lambda p: zlib.crc32(p.name.encode() + p.parent.name.encode())
    )
    texts = [p.read_text(encoding="utf-8", errors="replace").partition("\n")[2] for p in paths]
    return texts[:n_train], texts[n_train : n_train + n_test]


@pytest.fixture(scope="module")
def bbc_segmenter(bbc_dir: pathlib.Path) -> tuple[Segmenter, list[str]]:
    train, test = _bbc(bbc_dir, 150, 60)
    return train_segmenter(train), test


def test_abbreviations_do_not_split() -> None:
    seg = default_segmenter()
    r = seg.segment("Mr. Smith met Dr. Jones in the U.S. on Monday. They talked.")
    assert r.method == "punkt"
    assert r.sentences == ["Mr. Smith met Dr. Jones in the U.S. on Monday.", "They talked."]


@pytest.mark.parametrize("learned", ["default", "untrained"])
def test_an_abbreviation_ends_a_sentence_before_a_capitalised_pronoun(learned: str) -> None:
    # Punkt learns few sentence starters from little text; "His" after "Sep." was not one.
    seg = default_segmenter() if learned == "default" else train_segmenter([])
    r = seg.segment(
        "He takes his seat on Monday, 30 Sep. His first task is the baths. Gen. Lee agreed."
    )
    assert r.sentences == [
        "He takes his seat on Monday, 30 Sep.",
        "His first task is the baths.",
        "Gen. Lee agreed.",
    ]


def test_councillor_abbreviation_does_not_split() -> None:
    # The training articles write "Cllr" without a full stop, so Punkt cannot learn it.
    r = default_segmenter().segment("The leader, Cllr. Nadeem Rashid, spoke. Cllr. Jo Lee agreed.")
    assert r.sentences == ["The leader, Cllr. Nadeem Rashid, spoke.", "Cllr. Jo Lee agreed."]


def test_repeated_word_pair_is_less_likely_a_boundary() -> None:
    # "Northgate Steel" recurring in the input marks it as a name, whatever the training.
    model = default_segmenter().model
    once = (
        "Shares in the chip maker rose sharply on Monday after rival Northgate Steel cut its "
        "prices the chief executive said demand was strong"
    ).split()
    more = once + "Analysts expect Northgate Steel to please investors in Northgate Steel".split()
    gap = once.index("Northgate")
    assert model.gap_scores(more)[gap] < model.gap_scores(once)[gap] - 0.2


def test_abbreviations_with_untrained_segmenter() -> None:
    seg = train_segmenter([])
    r = seg.segment("Mrs. Brown told Prof. White. The meeting ended at 5 p.m. on Friday.")
    assert len(r.sentences) == 2


def test_detects_unpunctuated(raqqa: pathlib.Path) -> None:
    text = raqqa.read_text(encoding="utf-8")
    assert is_unpunctuated(text)
    assert not is_unpunctuated("This is a sentence. " * 40)
    assert not is_unpunctuated("")
    assert not is_unpunctuated("just a few words")


def test_leading_residue_stripped() -> None:
    text, stripped = strip_leading_residue(
        "  Carol Adl in Middle East  News  US  0 Comments The US"
    )
    assert stripped and text == "The US"
    text, stripped = strip_leading_residue("By Jane Doe The council met on Monday.")
    assert stripped and text.startswith("The council")
    keep = "Readers left 300 comments on the story. Many were angry."
    assert strip_leading_residue(keep) == (keep, False)


def test_raqqa_restored_readable(raqqa: pathlib.Path) -> None:
    seg = default_segmenter()
    r = seg.segment(raqqa.read_text(encoding="utf-8"))
    assert r.method == "restored"
    assert len(r.sentences) >= 10
    joined = " ".join(r.sentences)
    assert "Carol Adl" not in joined and "Comments" not in joined
    for s in r.sentences:
        assert s[0].isupper() and s.endswith("."), s
        assert 3 <= len(s.split()) <= 60, s
    assert r.sentences[0].startswith("The US led coalition is preparing an offensive")


def test_start_that_sentence_lengths_force_is_not_doubted() -> None:
    # The untrained model (capitals alone), lowered so its one plausible gap scores -0.5,
    # a weak cut on its own; but 100 words must be cut somewhere and every other gap
    # scores -5.5, so most of the segmentations the decoder weighs cut there.
    seg = Segmenter(PunktParameters(), BoundaryModel(max_words=60, bias=-2.5))
    words = ["word"] * 100
    words[50] = "The"
    forced = seg.segment(" ".join(words))
    assert [s.split()[0] for s in forced.sentences] == ["Word", "The"]
    assert not forced.doubtful
    # A second place as good three words on: where the sentence starts is in doubt.
    words[53] = "The"
    either = seg.segment(" ".join(words))
    assert len(either.sentences) == 2 and either.doubtful == {1}


def test_cut_posteriors_sum_over_every_segmentation() -> None:
    # Every set of cuts that keeps each sentence within the length limits, weighed by
    # exp(its gap log-odds plus its sentences' length priors), enumerated outright.
    rng = np.random.default_rng(7)
    model = BoundaryModel(min_words=2, max_words=5, length_prior=rng.normal(0, 1, 6))
    scores = rng.uniform(-4, 4, 11)  # 12 words, every gap a candidate cut
    total, mass = 0.0, np.zeros(scores.size)
    for cuts in itertools.product([False, True], repeat=scores.size):
        ends = [i for i, cut in enumerate(cuts) if cut]
        lengths = np.diff([-1, *ends, scores.size])
        if lengths.min() < 2 or lengths.max() > 5:
            continue
        weight = math.exp(scores[ends].sum() + model.length_prior[lengths].sum())
        total += weight
        mass[ends] += weight
    assert np.allclose(model.cut_posteriors(scores), mass / total)


def _restoration_figures(seg: Segmenter, gold_seg: Segmenter, test: list[str]) -> tuple:
    """Boundary P/R/F1 of seg on the stripped texts (gold: Punkt), and its doubtful share."""
    gold: set[int] = set()
    pred: set[int] = set()
    offset = starts = doubtful = 0
    for text in test:
        words, ends = sentence_words(gold_seg.punkt_sentences(text))
        gold |= {offset + i for i in ends}
        pred |= {offset + i for i in seg.model.boundaries(words)}
        offset += len(words)
        restored = seg.segment(" ".join(words))
        starts += len(restored.sentences) - 1
        doubtful += len(restored.doubtful)
    return (*boundary_prf(gold, pred), doubtful / starts)


def test_boundary_f1_on_stripped_bbc(bbc_segmenter) -> None:
    seg, test = bbc_segmenter
    p, r, f, doubtful = _restoration_figures(seg, seg, test)
    # 0.83 before the sentence-length prior; 0.88 with it.
    assert f >= 0.86, (p, r, f)
    # Only starts the model really doubts are marked (half of them were before).
    assert doubtful < 0.4


def test_default_model_on_stripped_bbc(bbc_segmenter) -> None:
    seg, test = bbc_segmenter
    p, r, f, doubtful = _restoration_figures(default_segmenter(), seg, test)
    # Learned from the shipped fictional articles only: 0.79, then 0.82; 0.86 with 190
    # articles, the sentence-final and repeated-pair features and the default's calibration.
    assert f >= 0.85, (p, r, f)
    assert doubtful < 0.4


def test_restored_path_on_stripped_article(bbc_segmenter) -> None:
    seg, test = bbc_segmenter
    r = seg.segment(strip_punctuation(test[0]))
    assert r.method == "restored"
    assert len(r.sentences) > 3
    assert all(s[0].isupper() and s.endswith(".") for s in r.sentences)


def test_save_load_and_pickle(tmp_path, bbc_segmenter) -> None:
    seg, test = bbc_segmenter
    path = tmp_path / "seg.bin"
    seg.save(path)
    loaded = Segmenter.load(path)
    text = strip_punctuation(test[1])
    assert loaded.segment(text) == seg.segment(text)
    assert loaded.segment(test[1]) == seg.segment(test[1])
    # Workers receive the segmenter by pickle; keep that payload small.
    assert len(pickle.dumps(seg)) < 2_000_000
    (tmp_path / "bad.bin").write_bytes(pickle.dumps({"not": "a segmenter"}))
    with pytest.raises(TypeError):
        Segmenter.load(tmp_path / "bad.bin")


@pytest.mark.parametrize(
    "text",
    ["", "   \n\n ", "word", "\x00\x01\x02\xff" * 50, "x" * 1_000_000, "abc def " * 20],
)
def test_bad_text_does_not_raise(text: str) -> None:
    r = default_segmenter().segment(text)
    assert r.method in {"punkt", "restored", "empty"}
    assert all(len(s) <= 5_000 for s in r.sentences)


def test_empty_text_is_empty() -> None:
    r = default_segmenter().segment("")
    assert r.sentences == [] and r.method == "empty" and r.note


LAUNCH = (
    "The first stage of development is to be completed by 2007, but no date has been set "
    "for a commercial launch\n\nThe newly-designed OMAP-Vox chip set was announced ahead of "
    "the start of a major mobile industry conference, which takes place in Cannes this week."
)


def test_paragraph_break_without_full_stop_ends_a_sentence() -> None:
    seg = default_segmenter()
    r = seg.segment(LAUNCH)
    assert r.method == "punkt"
    assert len(r.sentences) == 2
    assert r.sentences[0].endswith("commercial launch")
    assert r.sentences[1].startswith("The newly-designed OMAP-Vox chip set")
    # Stripped of its punctuation, the blank line still ends the sentence.
    restored = seg.segment(strip_punctuation(LAUNCH) + " and more words to restore" * 5)
    assert restored.method == "restored"
    assert any(s.endswith("commercial launch.") for s in restored.sentences)
    assert any(s.startswith("The newlydesigned OMAPVox chip set") for s in restored.sentences)


def test_spread_sample_covers_the_whole_stream() -> None:
    texts = [f"{section}-{n}" for section in "abc" for n in range(1000)]
    got = spread_sample(iter(texts), 90)
    assert len(got) == 90 and got == sorted(got, key=texts.index)  # stream order kept
    # Each third of the stream gets about a third of the sample, not the first 90 items.
    assert all(20 <= sum(t.startswith(s) for t in got) <= 40 for s in "abc")
    assert spread_sample(iter(texts), 90) == got  # seeded: a rebuild draws the same
    assert spread_sample(iter(texts[:5]), 90) == texts[:5]


def test_collection_model_learns_from_all_of_the_input(tmp_path, monkeypatch) -> None:
    from app import indexer

    # Two sections in path order: the second must be in the sample even when the
    # first alone has enough articles.
    for section, word in (("a", "Zarquon"), ("b", "Quillbury")):
        folder = tmp_path / "in" / section
        folder.mkdir(parents=True)
        for n in range(60):
            (folder / f"{n:03d}.txt").write_text(
                f"Story {n}\n\n{word} council met on Monday. The vote was close. "
                f"Residents of {word} said they were pleased. Work begins in spring.\n",
                encoding="utf-8",
            )
    monkeypatch.setattr(indexer, "TRAINING_ARTICLES", 60)
    seg, trained = indexer.load_segmenter(tmp_path / "index", [tmp_path / "in"], "auto", True)
    assert trained
    seen = set(seg.model.lex_keys.tolist())
    assert {zlib.crc32(b"zarquon"), zlib.crc32(b"quillbury")} <= seen


def test_deferred_restorer_is_learned_when_first_needed() -> None:
    """A collection's restorer is learned only for a text that needs restoring, and is the
    restorer learned up front from the same texts; Punkt is the same either way."""
    from archive.segment import TRAINING_DIR, _sample_texts

    texts = _sample_texts() + _sample_texts(TRAINING_DIR)
    eager = train_segmenter(texts)  # not default_segmenter(), whose decoding is calibrated
    deferred = train_segmenter(texts, defer_restorer=True)
    for text in [t for t in texts if not is_unpunctuated(t)][:20]:
        assert deferred.segment(text) == eager.segment(text)
    assert deferred._model is None  # punctuated text never needed it
    sent = pickle.loads(pickle.dumps(deferred))  # as workers and the saved model get it
    stripped = strip_punctuation(" ".join(texts[:3]))
    assert sent.segment(stripped) == eager.segment(stripped)
    assert sent._model is not None and deferred._model is None
    again = pickle.loads(pickle.dumps(sent))  # once learned, it travels with the segmenter
    assert again._model is not None and again.segment(stripped) == eager.segment(stripped)


def test_plain_regex_punkt_learns_as_nltk() -> None:
    """The trainer sparing NLTK's timed pattern, and its faster tokens, learn NLTK's model."""
    from nltk.tokenize.punkt import PunktToken, PunktTrainer

    from archive.segment import (
        SEED_ABBREVIATIONS,
        SEED_STARTERS,
        TRAINING_DIR,
        _sample_texts,
        train_punkt,
    )

    texts = _sample_texts() + _sample_texts(TRAINING_DIR)
    nltk_trainer = PunktTrainer()
    nltk_trainer.INCLUDE_ALL_COLLOCS = True
    for text in texts:
        nltk_trainer.train(text, finalize=False)
    nltk_trainer.finalize_training()
    expected = nltk_trainer.get_params()
    expected.abbrev_types.update(SEED_ABBREVIATIONS)
    expected.sent_starters.update(SEED_STARTERS)
    ours = train_punkt(texts)
    for name in ("abbrev_types", "collocations", "sent_starters", "ortho_context"):
        assert getattr(ours, name) == getattr(expected, name), name
    # Our token sets NLTK's properties by name; a new one in NLTK must be added there.
    assert PunktToken._properties == ["parastart", "linestart", "sentbreak", "abbr", "ellipsis"]


@pytest.mark.parametrize("stripped_articles", [0, 3])
def test_only_a_punctuated_collection_defers_its_restorer(
    tmp_path, monkeypatch, stripped_articles: int
) -> None:
    """Learned when the sample shows stripped articles (once, saved with the model), else
    left until an article needs it."""
    from app import indexer
    from archive.segment import DeferredSegmenter

    folder = tmp_path / "in"
    folder.mkdir()
    story = (
        "The council met on Monday. Mr. Hale said the vote was close. "
        "Residents said they were pleased. Work begins in spring. "
    )
    for n in range(60):
        text = story * 2
        if n < stripped_articles:
            text = strip_punctuation(text).lower()
        (folder / f"{n:03d}.txt").write_text(f"Story {n}\n\n{text}\n", encoding="utf-8")
    monkeypatch.setattr(indexer, "TRAINING_ARTICLES", 60)
    indexer.index_paths([folder], tmp_path / "index", indexer.Settings(workers=1))
    saved = indexer.collection_segmenter(tmp_path / "index")
    stripped = strip_punctuation(story * 3).lower()
    if stripped_articles:
        assert not isinstance(saved, DeferredSegmenter)
        return
    assert isinstance(saved, DeferredSegmenter) and saved._model is None
    eager = train_segmenter(saved.texts)
    assert saved.segment(stripped) == eager.segment(stripped)


@pytest.mark.parametrize("stripped_articles", [0, 3])
def test_a_small_collection_gets_the_default_restorer_learned_once_if_needed(
    tmp_path, stripped_articles: int
) -> None:
    """Too few articles to learn from: the shipped default serves, its restorer learned (and
    calibrated) before copies go to the workers only when the input has stripped articles."""
    from app import indexer
    from archive.segment import DEFAULT_BIAS, DEFAULT_SCALE, DEFAULT_SURE_START, default_segmenter

    folder = tmp_path / "in"
    folder.mkdir()
    story = "The council met on Monday. Mr. Hale said the vote was close. Work begins in spring. "
    for n in range(10):
        text = strip_punctuation(story).lower() if n < stripped_articles else story
        (folder / f"{n:03d}.txt").write_text(f"Story {n}\n\n{text}\n", encoding="utf-8")
    default_segmenter.cache_clear()  # a fresh default, its restorer not yet learned
    seg, trained = indexer.load_segmenter(tmp_path / "index", [folder], "auto", True)
    assert not trained and seg is default_segmenter()
    if not stripped_articles:
        assert seg._model is None
        return
    learned = pickle.loads(pickle.dumps(seg))._model  # what the workers get
    assert learned is not None
    calibrated = (learned.scale, learned.bias, learned.sure_start)
    assert calibrated == (DEFAULT_SCALE, DEFAULT_BIAS, DEFAULT_SURE_START)
