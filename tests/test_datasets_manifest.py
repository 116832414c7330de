"""Manifest CSV round trip, minimal CSVs, bad rows, normalisation, registry."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from _dataset_fixtures import image

from lpfiqa import datasets
from lpfiqa.datasets import (
    COLUMNS,
    DatasetWarning,
    Manifest,
    ManifestRow,
    ScoreScale,
    check_counts,
    denormalise_scores,
    list_datasets,
    normalised_scores,
    prepare,
    read_manifest,
    write_manifest,
)
from lpfiqa.errors import ConfigError, DatasetError, ManifestError


def _rows(tmp_path: Path) -> list[ManifestRow]:
    inside = image(tmp_path / "data" / "img" / "a.png")
    outside = image(tmp_path.parent / f"{tmp_path.name}_elsewhere" / "b.png")
    return [
        ManifestRow(
            inside,
            4.25,
            True,
            "ref1",
            "jpeg",
            3,
            "train",
            {"std": "0.5", "ref_path": str(tmp_path / "data" / "refs" / "r1.png")},
        ),
        ManifestRow(outside, 1.0 / 3.0, True, "ref2", "", None, "test", {"std": ""}),
    ]


def test_round_trip_relative_and_absolute_paths(tmp_path):
    rows = _rows(tmp_path)
    out = write_manifest(Manifest(rows, name="demo"), tmp_path / "data" / "manifest.csv")
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join([*COLUMNS, "std", "ref_path"])
    assert lines[1].startswith("img/a.png,4.25,1,ref1,jpeg,3,train,0.5,refs/r1.png")
    assert lines[2].split(",")[0] == os.path.abspath(rows[1].path)  # outside the folder: absolute
    back = read_manifest(out)
    assert back.name == "manifest" and len(back) == 2
    for a, b in zip(rows, back.rows, strict=True):
        assert b.path == Path(os.path.abspath(a.path))
        assert b.score == a.score  # repr() keeps every bit
        assert (b.higher_is_better, b.group, b.dist_type, b.dist_level, b.split) == (
            a.higher_is_better,
            a.group,
            a.dist_type,
            a.dist_level,
            a.split,
        )
    assert back[0].extra == {"std": "0.5", "ref_path": str(tmp_path / "data" / "refs" / "r1.png")}
    assert back[1].extra == {"std": "", "ref_path": ""}


def test_write_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "m.csv"
    target.write_text("path,score\nold.png,1\n")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_manifest(Manifest(_rows(tmp_path)), target)
    assert target.read_text() == "path,score\nold.png,1\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_write_rejects_extra_named_like_fixed_column(tmp_path):
    m = Manifest([ManifestRow(Path("a.png"), 1.0, True, "a", extra={"Split": "x"})])
    with pytest.raises(ManifestError, match="collide"):
        write_manifest(m, tmp_path / "m.csv")


@pytest.mark.parametrize(
    ("header", "hib"),
    [("path,score", True), ("Image,MOS", True), ("filename,Label", True), ("IMAGE,dmos", False)],
)
def test_minimal_csv_aliases(tmp_path, header, hib):
    f = tmp_path / "m.csv"
    f.write_text(f"\ufeff{header}\r\nsub/a.png,3.5\r\n\r\nb.png,2\r\n", encoding="utf-8")
    m = read_manifest(f)
    assert [r.path for r in m] == [tmp_path / "sub" / "a.png", tmp_path / "b.png"]
    assert [r.score for r in m] == [3.5, 2.0]
    assert all(r.higher_is_better is hib for r in m)
    assert [r.group for r in m] == ["sub/a.png", "b.png"]  # no group column: the image itself
    assert all(r.split == "" and r.dist_level is None for r in m)


def test_split_aliases_and_explicit_direction(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("path,mos,split,higher_is_better,note\na.png,1,training,0,x\nb.png,2,Validation,true,\n")
    m = read_manifest(f)
    assert [r.split for r in m] == ["train", "val"]
    assert [r.higher_is_better for r in m] == [False, True]
    assert m[0].extra == {"note": "x"}


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("path,score\na.png,1\nb.png,good\n", r"m\.csv, line 3: column 'score' must be a number, got 'good'"),
        ("path,score\na.png,1\n\n,2\n", r"line 4: column 'path' must be a non-empty image path"),
        ("path,score,split\na.png,1,holdout\n", r"line 2: column 'split' must be train, val, test or empty"),
        ("path,score\na.png,nan\n", r"line 2: column 'score' must be a finite number"),
        ("path,score,higher_is_better\na.png,1,maybe\n", r"line 2: column 'higher_is_better' must be 1 or 0"),
        ("path,score,dist_level\na.png,1,2.5\n", r"line 2: column 'dist_level' must be an integer"),
        ("path,score\na.png,1,extra\n", r"line 2: expected 2 fields as in the header, got 3"),
        ("name,value\na.png,1\n", r"line 1: header must have a path column"),
        ("path,score,Path\na.png,1,b\n", r"duplicate column"),
        ("path,score\n", r"no rows after the header"),
        ("", r"empty file"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, body, match):
    f = tmp_path / "m.csv"
    f.write_text(body)
    with pytest.raises(ManifestError, match=match):
        read_manifest(f)


def test_multiline_quoted_field_keeps_line_numbers(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text('path,score,note\na.png,1,"two\nlines"\nb.png,x,\n')
    with pytest.raises(ManifestError, match="line 4"):
        read_manifest(f)


def test_missing_manifest_file(tmp_path):
    with pytest.raises(ManifestError, match="manifest not found"):
        read_manifest(tmp_path / "nope.csv")


def test_summary_lists_missing_files(tmp_path):
    a = image(tmp_path / "a.png")
    m = Manifest(
        [
            ManifestRow(a, 2.0, True, "g1", "blur", split="train"),
            ManifestRow(tmp_path / "gone.png", 4.0, True, "g2", split="test"),
        ],
        name="demo",
        missing=[ManifestRow(tmp_path / "never.png", 3.0, True, "g3")],
    )
    s = m.summary()
    assert s.images == 2 and s.groups == 2
    assert (s.score_min, s.score_max, s.higher_is_better) == (2.0, 4.0, True)
    assert s.missing_files == [str(tmp_path / "never.png"), str(tmp_path / "gone.png")]
    assert s.splits == {"test": 1, "train": 1} and s.dist_types == {"blur": 1}
    text = str(s)
    assert "2 missing file(s)" in text and "never.png" in text and "higher is better" in text
    assert s.as_dict()["missing"] == 2
    assert m.summary(check_files=False).missing_files == [str(tmp_path / "never.png")]
    assert [r.path for r in m.select("train")] == [a]
    assert "labels" not in text and s.as_dict()["label_file"] == ""


def test_summary_says_which_label_file_and_scale():
    m = Manifest(
        [ManifestRow(Path("/d/a.jpg"), 3.8, True, "a.jpg"), ManifestRow(Path("/d/b.jpg"), 2.1, True, "b.jpg")],
        name="koniq10k",
        meta={"label_file": "koniq10k_distributions_sets.csv", "score_unit": "MOS, 1-5"},
    )
    s = m.summary(check_files=False)
    assert str(s).splitlines()[2] == "  labels koniq10k_distributions_sets.csv; score MOS, 1-5"
    assert (s.as_dict()["label_file"], s.as_dict()["score_unit"]) == ("koniq10k_distributions_sets.csv", "MOS, 1-5")
    assert m.select("").summary(check_files=False).label_file == "koniq10k_distributions_sets.csv"


def test_normalised_scores_and_back():
    mos = Manifest([ManifestRow(Path(f"{i}"), s, True, "g") for i, s in enumerate([1.0, 3.0, 5.0])])
    dmos = Manifest([ManifestRow(Path(f"{i}"), s, False, "g") for i, s in enumerate([0.0, 0.25, 1.0])])
    assert normalised_scores(mos).tolist() == [0.0, 0.5, 1.0]
    assert normalised_scores(dmos).tolist() == [1.0, 0.75, 0.0]  # higher = better after normalising
    for m in (mos, dmos):
        np.testing.assert_allclose(denormalise_scores(normalised_scores(m), m), m.scores())
    sc = datasets.score_scale(dmos)
    assert ScoreScale.from_dict(sc.to_dict()) == sc
    assert denormalise_scores([0.75], sc).tolist() == [0.25]


def test_normalise_errors():
    mixed = Manifest([ManifestRow(Path("a"), 1.0, True, "g"), ManifestRow(Path("b"), 2.0, False, "g")])
    with pytest.raises(ManifestError, match="mix higher_is_better"):
        normalised_scores(mixed)
    const = Manifest([ManifestRow(Path("a"), 1.0, True, "g"), ManifestRow(Path("b"), 1.0, True, "g")])
    with pytest.raises(ManifestError, match="all scores equal"):
        normalised_scores(const)


# ------------------------------------------------------------------ registry / csv reader


def test_registry():
    assert list_datasets() == [
        "live",
        "csiq",
        "tid2013",
        "kadid10k",
        "livec",
        "koniq10k",
        "spaq",
        "bid",
        "cid2013",
        "csv",
        "pyiqa",
    ]
    assert set(datasets.READERS) == set(list_datasets())
    assert set(datasets.__all__) >= {"prepare", "list_datasets", "READERS", "Manifest", "read_manifest"}
    with pytest.raises(ConfigError, match="unknown dataset 'nope'; known: live, csiq"):
        prepare("nope", ".")


def test_csv_reader_moves_absent_images_to_missing(tmp_path):
    image(tmp_path / "a.png")
    (tmp_path / "labels.csv").write_text("path,score\na.png,1\nb.png,2\n")
    with pytest.warns(DatasetWarning, match=r"1 image\(s\) listed .* missing"):
        m = prepare("csv", tmp_path, out=tmp_path / "out" / "manifest.csv")
    assert [r.path.name for r in m] == ["a.png"]
    assert [r.path.name for r in m.missing] == ["b.png"]
    assert read_manifest(tmp_path / "out" / "manifest.csv")[0].path == tmp_path / "a.png"


def test_csv_reader_errors(tmp_path):
    with pytest.raises(DatasetError, match="exactly one .csv"):
        prepare("csv", tmp_path)
    with pytest.raises(DatasetError, match="file not found"):
        prepare("csv", tmp_path / "x.csv")


def test_check_counts_strict_and_prepare_check(tmp_path):
    image(tmp_path / "DatabaseImage0001.JPG")
    m = Manifest([ManifestRow(tmp_path / "DatabaseImage0001.JPG", 1.0, True, "x")], name="bid")
    assert check_counts(m) == ["bid: 1 labelled images (1 present, 0 missing), expected 586"]
    with pytest.raises(DatasetError, match="expected 586"):
        check_counts(m, strict=True)
    assert check_counts(m, "csv") == []  # no published count


def test_missing_openpyxl_says_how_to_install(tmp_path, monkeypatch):
    import sys

    from lpfiqa.datasets import MissingDependencyError, read_bid

    (tmp_path / "DatabaseGrades.xlsx").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # makes `import openpyxl` fail
    with pytest.raises(MissingDependencyError, match="pip install openpyxl") as info:
        read_bid(tmp_path)
    assert isinstance(info.value, DatasetError) and isinstance(info.value, ImportError)
