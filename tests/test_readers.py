"""Readers: every format, gzip, headers, ids, dates, clean-up and each kind of bad input."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from archive.clean import clean_line, clean_text
from archive.dates import parse_date
from archive.errors import InputError
from archive.model import Article, Problem
from archive.readers import ReadOptions, count_records, detect_format, indexed_paths, read_paths


def split(items: list) -> tuple[list[Article], list[Problem]]:
    articles = [i for i in items if isinstance(i, Article)]
    problems = [i for i in items if isinstance(i, Problem)]
    return articles, problems


def test_sample_corpus_reads_without_problems(sample_dir: Path) -> None:
    articles, problems = split(list(read_paths([sample_dir])))
    assert problems == []
    assert len(articles) == 42
    assert len({a.id for a in articles}) == 42
    assert {a.id for a in articles} >= {"csv-0001", "jl-0011"}
    years = {a.date.year for a in articles if a.date}
    assert max(years) - min(years) >= 2


def test_txt_with_header_block(tmp_path: Path) -> None:
    folder = tmp_path / "news" / "politics"
    folder.mkdir(parents=True)
    (folder / "vote.txt").write_text(
        "Title: Council votes\nAuthor: Ann Lee\nDate: 1 Nov 2016\nSource: Gazette\n"
        "Category: politics\nURL: https://example.org/a\n\nThe council voted.\n\nSecond part.\n",
        encoding="utf-8",
    )
    [article] = read_paths([tmp_path / "news"])
    assert article.id == "news/politics/vote"
    assert article.title == "Council votes"
    assert article.author == "Ann Lee"
    assert article.date == datetime(2016, 11, 1)
    assert article.source == "Gazette"
    assert article.url == "https://example.org/a"
    assert article.text.strip() == "The council voted.\n\nSecond part."


def test_txt_first_line_is_title_without_header(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text("\n\nA plain title\n\nNote: this colon line is body text.\n", encoding="utf-8")
    [article] = read_paths([path])
    assert article.title == "A plain title"
    assert article.id == "plain"
    assert "Note: this colon line" in article.text


def test_csv_columns_matched_case_insensitively_with_body_alias(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        'ID,Headline,Body,Published\nx1,First,"Text, with comma\nand newline",2016-11-01 10:30\n'
        "x2,Second,More text,\n",
        encoding="utf-8",
    )
    articles, problems = split(list(read_paths([path])))
    assert problems == []
    assert [a.id for a in articles] == ["x1", "x2"]
    assert articles[0].title == "First"
    assert articles[0].text == "Text, with comma\nand newline"
    assert articles[0].date == datetime(2016, 11, 1, 10, 30)
    assert articles[1].line == 4
    assert articles[1].date is None


def test_jsonl_and_content_derived_ids(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        '{"title": "One", "content": "Body one", "authors": ["A", "B"]}\n\n'
        '{"title": "Two", "text": "Body two", "date": "Tue, 01 Nov 2016 10:30:00 +0100"}\n',
        encoding="utf-8",
    )
    first, second = read_paths([path])
    assert first.author == "A, B"
    assert first.text == "Body one"
    assert len(first.id) == 16 and first.id != second.id
    assert second.date == datetime(2016, 11, 1, 9, 30)
    assert second.line == 3
    assert [a.id for a in read_paths([path])] == [first.id, second.id]  # stable


@pytest.mark.parametrize("name", ["a.txt.gz", "a.csv.gz", "a.jsonl.gz"])
def test_gzip_versions(tmp_path: Path, name: str) -> None:
    content = {
        "a.txt.gz": "Zipped title\n\nZipped body.",
        "a.csv.gz": "id,title,text\nz1,Zipped title,Zipped body.\n",
        "a.jsonl.gz": '{"id": "z1", "title": "Zipped title", "text": "Zipped body."}\n',
    }[name]
    path = tmp_path / name
    path.write_bytes(gzip.compress(content.encode()))
    [article] = read_paths([path])
    assert article.title == "Zipped title"
    assert article.text.strip() == "Zipped body."


def test_format_detection() -> None:
    assert detect_format(Path("x/a.TXT")) == "txt"
    assert detect_format(Path("a.csv.gz")) == "csv"
    assert detect_format(Path("a.ndjson")) == "jsonl"
    assert detect_format(Path("a.pdf")) is None


def test_explicit_format_overrides_extension(tmp_path: Path) -> None:
    path = tmp_path / "export.data"
    path.write_text('{"id": "e1", "title": "T", "text": "Body"}\n', encoding="utf-8")
    assert list(read_paths([tmp_path])) == []  # unknown extension is not read in auto mode
    [article] = read_paths([path], fmt="jsonl")
    assert article.id == "e1"


def test_bad_csv_rows_are_reported_and_good_rows_kept(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(
        b"id,title,text\n"
        b"g1,Good,Fine text\n"
        b"b1,Too,many,fields,here\n"
        b"b2,Empty,\n"
        b"b3,Latin,caf\xe9 au lait\n"
        b"g2,Also good,More fine text\n"
    )
    articles, problems = split(list(read_paths([path], options=ReadOptions(encoding="ascii"))))
    assert [a.id for a in articles] == ["g1", "b2", "g2"]
    assert [(str(p), p.skipped) for p in problems] == [
        (f"{path}:3: malformed CSV row: 5 fields, header has 3", True),
        (f"{path}:4: article has a title but no text: no summary", False),
        (f"{path}:5: not valid UTF-8 nor ascii", True),
    ]


def test_csv_without_text_column(tmp_path: Path) -> None:
    path = tmp_path / "notext.csv"
    path.write_text("id,title\n1,x\n", encoding="utf-8")
    [problem] = read_paths([path])
    assert "no text column" in str(problem)


def test_bad_json_lines_are_reported_and_good_lines_kept(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(
        b'{"id": "g1", "title": "Good", "text": "Fine"}\n'
        b'{"id": "b1", "title": broken\n'
        b"[1, 2]\n"
        b'{"id": "b2", "title": "\xff\xfe", "text": "x"}\n'
        b'{"id": "b3", "title": ""}\n'
        b'{"id": "g2", "title": "Good too", "text": "Fine too", "date": "yesterday-ish"}\n'
    )
    articles, problems = split(list(read_paths([path], options=ReadOptions(encoding="ascii"))))
    assert [a.id for a in articles] == ["g1", "g2"]
    reasons = [str(p) for p in problems]
    assert reasons[0].startswith(f"{path}:2: bad JSON")
    assert reasons[1] == f"{path}:3: bad JSON: expected an object, got an array"
    assert reasons[2].startswith(f"{path}:4: not valid UTF-8 nor ascii")
    assert reasons[3] == f"{path}:5: article has no text"
    # An unparseable date is a warning: the article is kept without a date.
    assert problems[4].skipped is False and "unrecognised date" in reasons[4]
    assert articles[1].date is None


def test_unreadable_and_binary_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Title\n\nBody text.", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02garbage")
    (tmp_path / "broken.jsonl.gz").write_bytes(b"not gzip at all")
    articles, problems = split(list(read_paths([tmp_path])))
    assert [a.title for a in articles] == ["Title"]
    messages = sorted(str(p) for p in problems)
    assert messages[0].startswith(f"{tmp_path / 'binary.txt'}:0: binary file")
    assert messages[1].startswith(f"{tmp_path / 'broken.jsonl.gz'}:0: cannot read file")


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        list(read_paths([tmp_path / "nope"]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-11-01", datetime(2016, 11, 1)),
        ("2016-11-01T10:30:00Z", datetime(2016, 11, 1, 10, 30)),
        ("2016-11-01 10:30", datetime(2016, 11, 1, 10, 30)),
        ("1 Nov 2016", datetime(2016, 11, 1)),
        ("November 1, 2016", datetime(2016, 11, 1)),
        ("Tue, 01 Nov 2016 10:30:00 +0000", datetime(2016, 11, 1, 10, 30)),
    ],
)
def test_dates(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "32 Nov 2016", "0000-00-00"])
def test_bad_dates_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


def test_clean_text_removes_html_and_normalises() -> None:
    raw = "<div><p>Caf\u0065\u0301 &amp; bar</p><script>evil()</script><p>Two\t  spaces</p></div>"
    assert clean_text(raw) == "Café & bar\n\nTwo spaces"
    assert clean_text("a\r\nb\x00c\u200b  d\n\n\n\ne") == "a b c d\n\ne"
    assert clean_line("  <b>Bold</b>\n title ") == "Bold title"
    assert clean_text("5 < 6 and x > y") == "5 < 6 and x > y"


# Bounded reading: no article, line, field or decompressed stream is read whole past its cap.


def test_txt_over_the_cap_keeps_its_start_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("Long story\n\n" + "é word " * 2000, encoding="utf-8")  # 18 KB
    [problem, article] = read_paths(
        [path], options=ReadOptions(max_bytes=1001)
    )  # cuts inside an "é"
    assert not problem.skipped and "text longer than 1,001 bytes" in problem.reason
    assert article.title == "Long story"
    assert len(article.text.encode()) <= 1001 and article.text.startswith("é word é")


def test_gzip_bomb_is_read_only_up_to_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "bomb.txt.gz"
    with gzip.open(path, "wb") as out:
        out.write(b"Bomb\n\n")
        for _ in range(64):
            out.write(b"a" * 2**20)  # one 64 MB line from a 64 KB file
    [problem, article] = read_paths([path], options=ReadOptions(max_bytes=5000))
    assert "text longer than 5,000 bytes" in problem.reason
    assert article.title == "Bomb" and len(article.text) == 5000 - len("Bomb\n\n")


def test_gzip_expanding_past_its_ratio_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bomb.jsonl.gz"
    with gzip.open(path, "wb") as out:
        out.write(b'{"id": "ok", "text": "Fine"}\n')
        for _ in range(80):
            out.write(b" " * 2**20)  # 80 MB of one blank line: more than 100x the file
    articles, problems = split(list(read_paths([path])))
    assert [a.id for a in articles] == ["ok"]
    assert len(problems) == 1 and "decompresses to more than" in problems[0].reason


def test_jsonl_line_over_the_limit_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    huge = '{"id": "huge", "text": "' + "word " * 500_000 + '"}\n'  # 2.5 MB line
    path.write_text(
        '{"id": "a", "text": "First"}\n' + huge + '{"id": "b", "text": "' + "x" * 3000 + '"}\n'
    )
    articles, problems = split(list(read_paths([path], options=ReadOptions(max_bytes=1000))))
    assert [a.id for a in articles] == ["a", "b"]
    assert problems[0].line == 2 and "line longer than" in problems[0].reason
    assert problems[0].skipped
    # A record within the line limit but over the text cap is kept, cut, with a warning.
    assert problems[1].line == 3 and not problems[1].skipped
    assert len(articles[1].text) == 1000


def test_csv_record_over_the_limit_is_skipped_and_reading_resumes(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    # A quoted field with newlines and doubled quotes, 3 MB, between two good rows.
    field = ('Para "quoted" here, and more.\n' * 100_000).replace('"', '""')
    unquoted = "y" * 2_500_000
    path.write_text(
        f'id,title,text\na,One,First\nb,Two,"{field}"\nc,Three,Third\nd,Four,{unquoted}\n'
        f'e,Five,"Fifth, ""ok"""\nf,Six,{"z" * 3000}\n',
        encoding="utf-8",
    )
    articles, problems = split(list(read_paths([path], options=ReadOptions(max_bytes=1000))))
    assert [a.id for a in articles] == ["a", "c", "e", "f"]
    assert articles[2].text == 'Fifth, "ok"'
    assert [(p.line, p.skipped) for p in problems] == [
        (3, True),
        (100_005, True),
        (100_007, False),
    ]
    assert "record longer than" in problems[0].reason and "text longer" in problems[2].reason
    assert len(articles[3].text) == 1000


def test_records_are_counted_in_bounded_pieces(tmp_path: Path) -> None:
    csv_file = tmp_path / "a.csv"
    csv_file.write_text('id,text\na,"two\nlines"\nb,one\n')
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"text": "a"}\n  \n{"text": "b"}\n')
    assert count_records(csv_file, "csv") == 2
    assert count_records(jsonl, "jsonl") == 2


def test_single_line_txt_is_text_not_title(tmp_path: Path) -> None:
    (tmp_path / "scraped.txt").write_text("one long line of scraped text with no title", "utf-8")
    (tmp_path / "titled.txt").write_text("A title\nand its text on the next line\n", "utf-8")
    scraped, titled = read_paths([tmp_path / "scraped.txt", tmp_path / "titled.txt"])
    assert (scraped.title, scraped.text) == ("", "one long line of scraped text with no title")
    assert (titled.title, titled.text) == ("A title", "and its text on the next line")


def test_raqqa_sample_reads_as_text(tmp_path: Path, raqqa: Path) -> None:
    items = list(read_paths([raqqa]))
    [article] = items
    assert article.title == "" and "Raqqa" in article.text and article.id == "raqqa-offensive"


def test_readme_licence_and_dot_files_are_not_articles(tmp_path: Path) -> None:
    for name in ("README.TXT", "LICENSE", "licence.txt", ".hidden.txt", ".git/notes.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("Not an article\n\nbut looks like one.", "utf-8")
    (tmp_path / "story.txt").write_text("Story\n\nThe text.", "utf-8")
    (tmp_path / "drafts").mkdir()
    (tmp_path / "drafts" / "draft.txt").write_text("Draft\n\nNot yet.", "utf-8")
    assert [a.title for a in read_paths([tmp_path], fmt="txt")] == ["Draft", "Story"]
    options = ReadOptions(include=("README*", ".git/*"), exclude=("drafts/*",))
    titles = sorted(
        a.origin.removeprefix(str(tmp_path)) for a in read_paths([tmp_path], "txt", options)
    )
    assert titles == ["/.git/notes.txt", "/README.TXT", "/story.txt"]
    # A file named on the command line is read whatever its name.
    assert len(list(read_paths([tmp_path / "README.TXT"]))) == 1


def test_sub_folder_name_is_the_category_unless_a_header_gives_one(tmp_path: Path) -> None:
    (tmp_path / "bbc" / "business").mkdir(parents=True)
    (tmp_path / "bbc" / "business" / "001.txt").write_text("Shares up\n\nMarkets rose.", "utf-8")
    (tmp_path / "bbc" / "business" / "002.txt").write_text(
        "Title: Tagged\nCategory: markets\n\nMarkets fell.", "utf-8"
    )
    (tmp_path / "bbc" / "top.txt").write_text("Top\n\nNo folder.", "utf-8")
    first, second, top = read_paths([tmp_path / "bbc"])
    assert (first.id, first.category) == ("bbc/business/001", "business")
    assert (second.id, second.category) == ("bbc/business/002", "markets")
    assert (top.id, top.category) == ("bbc/top", "")


def test_text_that_is_not_utf8_is_read_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "cafe.txt"
    path.write_bytes(
        "Caf\u00e9 \u201cquotes\u201d\n\nSm\u00f8rrebr\u00f8d \u2013 lunch.".encode("cp1252")
    )
    article, warning = split(list(read_paths([path])))
    assert article[0].title == "Caf\u00e9 \u201cquotes\u201d"
    assert article[0].text == "Sm\u00f8rrebr\u00f8d \u2013 lunch."
    assert [(str(p), p.skipped) for p in warning] == [
        (f"{path}:0: not valid UTF-8: read as cp1252", False)
    ]
    # 0x81 is not cp1252: latin-1 reads anything.
    path.write_bytes(b"Title\n\nOdd \x81 byte.")
    [problem, latin] = read_paths([path])
    assert "read as latin-1" in str(problem) and latin.text == "Odd \x81 byte."
    # A given encoding is used instead of the guesses.
    path.write_bytes(
        "\u041d\u043e\u0432\u043e\u0441\u0442\u0438\n\n\u0422\u0435\u043a\u0441\u0442.".encode(
            "cp1251"
        )
    )
    [problem, cyrillic] = read_paths([path], options=ReadOptions(encoding="cp1251"))
    assert cyrillic.title == "\u041d\u043e\u0432\u043e\u0441\u0442\u0438"
    assert "read as cp1251" in str(problem)


def test_bbc_cp1252_file_is_read(tmp_path: Path, shared: Callable[[str], Path]) -> None:
    path = shared("corpora/bbc/sport/199.txt")
    warning, article = read_paths([path])
    assert warning.skipped is False and "cp1252" in str(warning) and str(path) in str(warning)
    assert article.title and len(article.text) > 500


def test_title_without_text_is_kept_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "briefs.jsonl"
    path.write_text('{"id": "b1", "title": "Council approves budget"}\n', "utf-8")
    warning, article = read_paths([path])
    assert warning.skipped is False and "no text" in warning.reason
    assert (article.id, article.title, article.text) == ("b1", "Council approves budget", "")


def test_dayfirst_dates() -> None:
    assert parse_date("01/02/2024", dayfirst=True) == datetime(2024, 2, 1)
    assert parse_date("01-02-2024 10:30", dayfirst=True) == datetime(2024, 2, 1, 10, 30)
    with pytest.raises(ValueError, match="ambiguous"):
        parse_date("01/02/2024")
    # A date that reads only one way needs no flag.
    assert parse_date("13/02/2024") == datetime(2024, 2, 13)
    assert parse_date("02/13/2024") == datetime(2024, 2, 13)
    assert parse_date("05/05/2024") == datetime(2024, 5, 5)


def test_ambiguous_date_is_a_warning_unless_dayfirst(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,title,text,date\nd1,T,Body.,01/02/2024\n", "utf-8")
    warning, article = read_paths([path])
    assert warning.skipped is False and "ambiguous" in warning.reason and article.date is None
    [article] = read_paths([path], options=ReadOptions(dayfirst=True))
    assert article.date == datetime(2024, 2, 1)


def test_known_ids_and_roots_come_back_from_the_index() -> None:
    options = indexed_paths(
        [
            ("/c/bbc/tech/001.txt", "tech/001"),
            ("/c/bbc/business/001.txt", "bbc/business/001"),
            ("/c/feed.jsonl", "x1"),
            ("/c/feed.jsonl", "x2"),
            ("/c/one.txt", "one"),
        ]
    )
    assert options.known_ids == {
        "/c/bbc/tech/001.txt": "tech/001",
        "/c/bbc/business/001.txt": "bbc/business/001",
        "/c/one.txt": "one",
    }
    assert options.roots == ("/c/bbc", "/c/bbc/tech")
