"""The files in artifacts/ that the repository ships, and the notebooks read as they are."""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REVIEWS = ROOT / "artifacts" / "reviews.csv"


def test_the_reviews_dataset_has_forty_rows_with_unique_ids() -> None:
    with open(REVIEWS, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    assert len(rows) == 40
    assert list(rows[0]) == ["review_id", "product", "review"]
    assert [row["review_id"] for row in rows] == [f"r{n:02d}" for n in range(1, 41)]
    assert all(row["product"].strip() and row["review"].strip() for row in rows)


def test_the_reviews_are_short_enough_to_be_quoted_whole() -> None:
    """The local server quotes at most 200 characters of a prompt in its placeholder reply."""
    with open(REVIEWS, newline="", encoding="utf-8") as fh:
        reviews = [row["review"] for row in csv.DictReader(fh)]

    assert max(len(review) for review in reviews) < 200


def test_the_dataset_is_kept_in_git_and_its_license_is_stated() -> None:
    ignore = (ROOT / ".gitignore").read_text(encoding="utf-8")
    readme = (ROOT / "artifacts" / "README.md").read_text(encoding="utf-8")

    assert "!artifacts/reviews.csv" in ignore
    assert "MIT License" in readme and "reviews.csv" in readme
