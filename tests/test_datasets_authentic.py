"""Readers of the authentic-distortion sets (LIVEC, KonIQ-10k, SPAQ, BID, CID2013) and pyiqa meta CSVs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
from _dataset_fixtures import cell, image, xlsx

from lpfiqa.datasets import (
    DatasetWarning,
    check_counts,
    prepare,
    read_bid,
    read_cid2013,
    read_koniq10k,
    read_livec,
    read_pyiqa,
    read_spaq,
)
from lpfiqa.errors import DatasetError

# ------------------------------------------------------------------------------ LIVEC


@pytest.fixture
def livec(tmp_path):
    root = tmp_path / "ChallengeDB_release"
    names = [f"t{i}.bmp" for i in range(1, 8)] + ["100.bmp", "101.JPG", "102.bmp"]
    mos = np.array([[60, 25, 48, 35, 66, 54, 77, 32.56, 66.36, 44.69]])
    (root / "Data").mkdir(parents=True)
    scipy.io.savemat(root / "Data" / "AllImages_release.mat", {"AllImages_release": cell(names, column=True)})
    scipy.io.savemat(root / "Data" / "AllMOS_release.mat", {"AllMOS_release": mos})
    scipy.io.savemat(root / "Data" / "AllStdDev_release.mat", {"AllStdDev_release": np.full((1, 10), 18.5)})
    image(root / "Images" / "100.bmp")
    image(root / "Images" / "101.JPG")
    image(root / "Images" / "trainingImages" / "t1.bmp")
    return root


def test_livec_drops_training_images(livec):
    with pytest.warns(DatasetWarning, match="102.bmp"):
        m = read_livec(livec.parent)
    assert [(r.path.relative_to(livec).as_posix(), r.score) for r in m] == [
        ("Images/100.bmp", 32.56),
        ("Images/101.JPG", 66.36),
    ]
    assert all(r.higher_is_better and r.group == r.path.name and r.split == "" for r in m)
    assert m[0].extra == {"std": "18.5"}
    assert [r.path.name for r in m.missing] == ["102.bmp"]
    assert check_counts(m) == ["livec: 3 labelled images (2 present, 1 missing), expected 1162"]


def test_livec_keep_training(livec):
    with pytest.warns(DatasetWarning, match=r"7 image\(s\)"):  # t2..t7 and 102.bmp
        m = read_livec(livec, keep_training=True)
    assert m[0].path == livec / "Images" / "trainingImages" / "t1.bmp" and m[0].score == 60
    assert len(m) + len(m.missing) == 10


@pytest.mark.parametrize("data", ["Data", "."])
def test_livec_names_and_mos_files_alone(tmp_path, data):
    """Only AllImages_release.mat and AllMOS_release.mat, in Data/ or beside Images/."""
    root = tmp_path / "ChallengeDB_release"
    (root / data).mkdir(parents=True, exist_ok=True)
    names = cell(["t1.bmp", "100.bmp", "101.JPG"], column=True)
    scipy.io.savemat(root / data / "AllImages_release.mat", {"AllImages_release": names})
    scipy.io.savemat(root / data / "AllMOS_release.mat", {"AllMOS_release": np.array([[60.0, 32.56, 66.36]])})
    image(root / "Images" / "100.bmp")
    image(root / "Images" / "101.JPG")
    m = read_livec(tmp_path)
    assert [(r.path.relative_to(root).as_posix(), r.score, r.extra) for r in m] == [
        ("Images/100.bmp", 32.56, {}),
        ("Images/101.JPG", 66.36, {}),
    ]
    assert m.meta["label_file"] == "AllMOS_release.mat" and m.meta["score_unit"] == "MOS, 0-100"


def test_livec_errors(livec):
    scipy.io.savemat(livec / "Data" / "AllMOS_release.mat", {"AllMOS_release": np.ones((1, 9))})
    with pytest.raises(DatasetError, match="AllMOS_release has 9 values but AllImages_release.mat 10 names"):
        read_livec(livec)
    (livec / "Data" / "AllMOS_release.mat").unlink()
    with pytest.raises(DatasetError, match=r"AllMOS_release\.mat not found"):
        read_livec(livec)
    (livec / "Data" / "AllImages_release.mat").unlink()
    with pytest.raises(DatasetError, match=r"LIVEC: none of 'Data/AllImages_release\.mat'"):
        read_livec(livec)


# ------------------------------------------------------------------------------ KonIQ-10k

_SCORES = (
    "image_name,c1,c2,c3,c4,c5,c_total,MOS,SD,MOS_zscore\n"
    "10004473376.jpg,0.0,0.0,0.238,0.695,0.067,105,3.829,0.527,77.38\n"
    "10007357496.jpg,0.0,0.031,0.469,0.490,0.010,96,3.479,0.580,68.73\n"
    "10043785683.jpg,0.0,0.0,0.434,0.566,0.0,106,3.566,0.498,71.20\n"
)
# the sets file's MOS column holds the z-scores (subpic/koniq#12)
_SETS = (
    "image_name,c1,c2,c3,c4,c5,c_total,MOS,SD,set\n"
    "10004473376.jpg,0.0,0.0,0.238,0.695,0.067,105,77.38,0.527,training\n"
    "10007357496.jpg,0.0,0.031,0.469,0.490,0.010,96,68.73,0.580,test\n"
    "10043785683.jpg,0.0,0.0,0.434,0.566,0.0,106,71.20,0.498,validation\n"
)


@pytest.fixture
def koniq(tmp_path):
    root = tmp_path / "koniq10k"
    root.mkdir()
    (root / "koniq10k_scores_and_distributions.csv").write_text(_SCORES)
    (root / "metadata").mkdir()
    (root / "metadata" / "koniq10k_distributions_sets.csv").write_text(_SETS)
    for size in ("1024x768", "512x384"):
        image(root / size / "10004473376.jpg")
        image(root / size / "10007357496.jpg")
    return root


def test_koniq_rows_and_official_split(koniq):
    with pytest.warns(DatasetWarning, match="10043785683.jpg"):
        m = read_koniq10k(koniq)
    assert m.meta == {
        "size": "1024x768",
        "score": "MOS",
        "split": "official",
        "label_file": "koniq10k_scores_and_distributions.csv",  # preferred when both are present
        "score_unit": "MOS, 1-5",
    }
    assert [(r.path.relative_to(koniq).as_posix(), r.score, r.split) for r in m] == [
        ("1024x768/10004473376.jpg", 3.829, "train"),
        ("1024x768/10007357496.jpg", 3.479, "test"),
    ]
    assert m[0].extra == {"std": "0.527", "mos_zscore": "77.38", "c_total": "105"}
    assert m[0].group == "10004473376.jpg" and m[0].higher_is_better
    assert m.missing[0].split == "val"


def test_koniq_options(koniq):
    with pytest.warns(DatasetWarning):
        m = read_koniq10k(koniq, size="512x384", score="MOS_zscore")
    assert m[0].path == koniq / "512x384" / "10004473376.jpg"
    assert m[0].score == 77.38 and m[0].extra["mos"] == "3.829"
    with pytest.raises(ValueError, match="size must be"):
        read_koniq10k(koniq, size="256x192")


def test_koniq_auto_prefers_folder_with_images(koniq):
    for p in (koniq / "1024x768").iterdir():
        p.unlink()
    with pytest.warns(DatasetWarning):
        m = read_koniq10k(koniq)
    assert m.meta["size"] == "512x384"


def test_koniq_without_split_file_warns(koniq):
    (koniq / "metadata" / "koniq10k_distributions_sets.csv").unlink()
    with (
        pytest.warns(DatasetWarning, match="official split.*not found; split left empty"),
        pytest.warns(DatasetWarning, match="10043785683.jpg"),
    ):
        m = read_koniq10k(koniq)
    assert {r.split for r in m} == {""}
    assert check_counts(m) == ["koniq10k: 3 labelled images (2 present, 1 missing), expected 10073"]


def test_koniq_errors(koniq):
    sets = koniq / "metadata" / "koniq10k_distributions_sets.csv"
    sets.write_text(_SETS.replace("validation", "holdout"))
    with pytest.raises(DatasetError, match=r"sets\.csv, line 4: set must be training, validation or test"):
        read_koniq10k(koniq)
    sets.write_text("\n".join(_SETS.splitlines()[:3]) + "\n")
    with pytest.raises(DatasetError, match=r"image '10043785683.jpg' \(line 4 of .*\) has no set"):
        read_koniq10k(koniq)
    (koniq / "koniq10k_scores_and_distributions.csv").write_text(_SCORES.replace("3.479", "x"))
    with pytest.raises(DatasetError, match=r"line 3: MOS must be a number, got 'x'"):
        read_koniq10k(koniq, split_file=None)
    for d in ("1024x768", "512x384"):
        for p in (koniq / d).iterdir():
            p.unlink()
        (koniq / d).rmdir()
    with pytest.raises(DatasetError, match="no image folder '1024x768/' or '512x384/'"):
        read_koniq10k(koniq)
    (koniq / "koniq10k_scores_and_distributions.csv").unlink()
    with pytest.raises(DatasetError, match="no image folder"):
        read_koniq10k(koniq)  # the sets file alone is enough for the labels
    (koniq / "metadata" / "koniq10k_distributions_sets.csv").unlink()
    with pytest.raises(
        DatasetError,
        match=r"KonIQ-10k: none of 'koniq10k_scores_and_distributions.csv' \(download site\) or "
        r"'koniq10k_distributions_sets.csv' \(github.com/subpic/koniq, metadata/\) found",
    ):
        read_koniq10k(koniq)


# the real header and first rows of github.com/subpic/koniq metadata/koniq10k_distributions_sets.csv
# (its MOS column is the 0-100 z-score), plus row 22, the first validation image
_SETS_GITHUB = (
    "image_name,c1,c2,c3,c4,c5,c_total,MOS,SD,set\n"
    "10004473376.jpg,0.0,0.0,0.238095238095,0.695238095238,0.0666666666667,105,77.3836206897,0.527277894494,"
    "training\n"
    "10007357496.jpg,0.0,0.03125,0.46875,0.489583333333,0.0104166666667,96,68.7285714286,0.580003024795,test\n"
    "10007903636.jpg,0.0104166666667,0.0,0.208333333333,0.760416666667,0.0208333333333,96,78.6285714286,"
    "0.527219618675,training\n"
    "10043785683.jpg,0.0,0.0,0.433962264151,0.566037735849,0.0,106,71.2043269231,0.497974333332,validation\n"
)


@pytest.fixture
def koniq_github_only(tmp_path):
    """The common case: the image folder and only the GitHub sets file beside it."""
    root = tmp_path / "koniq10k"
    (root / "512x384").mkdir(parents=True)
    (root / "koniq10k_distributions_sets.csv").write_text(_SETS_GITHUB)
    for name in ("10004473376.jpg", "10007357496.jpg", "10007903636.jpg", "10043785683.jpg"):
        image(root / "512x384" / name)
    return root


def test_koniq_sets_file_alone(koniq_github_only):
    m = read_koniq10k(koniq_github_only)
    assert m.meta == {
        "size": "512x384",
        "score": "MOS",
        "split": "official",
        "label_file": "koniq10k_distributions_sets.csv",
        "score_unit": "MOS, 1-5 (sum k*ck of c1..c5)",
    }
    # the 1-5 MOS as the download-site file has it (3.829, 3.479 in its 3-decimal copies)
    assert [(r.path.name, round(r.score, 4), r.split) for r in m] == [
        ("10004473376.jpg", 3.8286, "train"),
        ("10007357496.jpg", 3.4792, "test"),
        ("10007903636.jpg", 3.7812, "train"),
        ("10043785683.jpg", 3.566, "val"),
    ]
    assert m[0].extra == {"std": "0.527277894494", "c_total": "105", "mos_zscore": "77.3836206897"}
    assert all(r.higher_is_better and r.group == r.path.name for r in m)
    assert "labels koniq10k_distributions_sets.csv; score MOS, 1-5 (sum k*ck of c1..c5)" in str(m.summary())
    assert m.summary().as_dict()["label_file"] == "koniq10k_distributions_sets.csv"


def test_koniq_sets_file_alone_zscore_and_prepare(koniq_github_only, tmp_path):
    m = read_koniq10k(koniq_github_only, score="MOS_zscore")
    assert [r.score for r in m][:2] == [77.3836206897, 68.7285714286]  # the file's MOS column, as is
    assert round(float(m[0].extra["mos"]), 4) == 3.8286
    assert m.meta["score_unit"] == "MOS z-score, 0-100 (the sets file's MOS column)"
    prepare("koniq", koniq_github_only, out=tmp_path / "k.csv", check="off")
    lines = (tmp_path / "k.csv").read_text().splitlines()
    assert lines[0] == "path,score,higher_is_better,group,dist_type,dist_level,split,std,c_total,mos_zscore"
    assert lines[1] == (
        "koniq10k/512x384/10004473376.jpg,3.8285714286,1,10004473376.jpg,,,train,0.527277894494,105,77.3836206897"
    )


def test_koniq_sets_file_alone_errors(koniq_github_only):
    sets = koniq_github_only / "koniq10k_distributions_sets.csv"
    sets.write_text("image_name,MOS,SD,set\n10004473376.jpg,77.38,0.53,training\n")
    with pytest.raises(DatasetError, match=r"line 1: .*missing c1, c2, c3, c4, c5 .*use score='MOS_zscore'"):
        read_koniq10k(koniq_github_only)
    assert read_koniq10k(koniq_github_only, score="MOS_zscore").missing == []
    sets.write_text(_SETS_GITHUB.replace("0.03125", "n/a"))
    with pytest.raises(DatasetError, match=r"sets\.csv, line 3: c2 must be a number, got 'n/a'"):
        read_koniq10k(koniq_github_only)
    sets.write_text(_SETS_GITHUB.replace("validation", "valid"))
    with pytest.raises(DatasetError, match=r"line 5: set must be training, validation or test; got 'valid'"):
        read_koniq10k(koniq_github_only)


# ------------------------------------------------------------------------------ SPAQ

_SPAQ_HEADER = ["Image name", "MOS", "Brightness", "Colorfulness", "Contrast", "Noisiness", "Sharpness"]


@pytest.fixture
def spaq(tmp_path):
    pytest.importorskip("openpyxl")
    root = tmp_path / "SPAQ"
    rows = [
        _SPAQ_HEADER,
        ["00001.jpg", 42.5, 50, 41, 43, 40, 45],
        ["00002.jpg", 71, 70, 60, 65, 72, 70],
        ["00003.jpg", 12.25, 20, 15, 18, 10, 9],
    ]
    xlsx(root / "Annotations" / "MOS and Image attribute scores.xlsx", {"Sheet1": rows})
    xlsx(root / "Annotations" / "Scene category labels.xlsx", {"Sheet1": [["Image name", "Animal"]]})
    image(root / "TestImage" / "00001.jpg")
    image(root / "TestImage" / "00002.jpg")
    return root


def test_spaq_rows(spaq):
    with pytest.warns(DatasetWarning, match="00003.jpg"):
        m = read_spaq(spaq)
    assert [(r.path.relative_to(spaq).as_posix(), r.score) for r in m] == [
        ("TestImage/00001.jpg", 42.5),
        ("TestImage/00002.jpg", 71.0),
    ]
    assert m[0].extra == {
        "brightness": "50",
        "colorfulness": "41",
        "contrast": "43",
        "noisiness": "40",
        "sharpness": "45",
    }
    assert all(r.higher_is_better and r.group == r.path.name for r in m)


def test_spaq_workbook_beside_images(spaq):
    """Only the MOS workbook, kept beside TestImage/ rather than in Annotations/."""
    for p in (spaq / "Annotations").iterdir():
        if p.name.startswith("MOS"):
            p.rename(spaq / p.name)
        else:
            p.unlink()
    (spaq / "Annotations").rmdir()
    with pytest.warns(DatasetWarning, match="00003.jpg"):
        m = read_spaq(spaq.parent)
    assert [r.path.relative_to(spaq).as_posix() for r in m] == ["TestImage/00001.jpg", "TestImage/00002.jpg"]
    assert m.meta == {"label_file": "MOS and Image attribute scores.xlsx", "score_unit": "MOS, 0-100"}


def test_spaq_errors(spaq):
    xlsx(
        spaq / "Annotations" / "MOS and Image attribute scores.xlsx",
        {"Sheet1": [_SPAQ_HEADER, ["00001.jpg", "—", 1, 1, 1, 1, 1]]},
    )
    with pytest.raises(DatasetError, match=r"row 2: MOS must be a number"):
        read_spaq(spaq)
    xlsx(spaq / "Annotations" / "MOS and Image attribute scores.xlsx", {"Sheet1": [["name", "score"]]})
    with pytest.raises(DatasetError, match="no header row with the columns image name, mos"):
        read_spaq(spaq)
    (spaq / "Annotations" / "MOS and Image attribute scores.xlsx").unlink()
    with pytest.raises(DatasetError, match="SPAQ: none of 'Annotations/MOS and Image attribute scores.xlsx'"):
        read_spaq(spaq)


# ------------------------------------------------------------------------------ BID


@pytest.fixture
def bid(tmp_path):
    pytest.importorskip("openpyxl")
    root = tmp_path / "BID" / "ImageDatabase"
    xlsx(
        root / "DatabaseGrades.xlsx",
        {"Plan1": [["Image Number", "Average Grade"], [1, 4.2], [3, 1.5], [4.0, 0.16], [None, None]]},
    )
    image(root / "DatabaseImage0001.JPG")
    image(root / "databaseimage0003.jpg")  # case differs: still found
    return root


def test_bid_rows(bid):
    with pytest.warns(DatasetWarning, match="DatabaseImage0004.JPG"):
        m = read_bid(bid.parent)
    assert [(r.path.name, r.score, r.extra["image_no"]) for r in m] == [
        ("DatabaseImage0001.JPG", 4.2, "1"),
        ("databaseimage0003.jpg", 1.5, "3"),
    ]
    assert all(r.higher_is_better and r.group.startswith("DatabaseImage") for r in m)
    assert m.meta == {"label_file": "DatabaseGrades.xlsx", "score_unit": "MOS, 0-5"}


def test_bid_errors(bid):
    xlsx(bid / "DatabaseGrades.xlsx", {"Plan1": [["Image", "MOS"], [1, 4.2], ["one", 3.0]]})
    with pytest.raises(DatasetError, match=r"row 3: column A must be the image number, got 'one'"):
        read_bid(bid)
    xlsx(bid / "DatabaseGrades.xlsx", {"Plan1": [["Image", "MOS"], [1, None]]})
    with pytest.raises(DatasetError, match=r"row 2: column B must be the MOS"):
        read_bid(bid)
    (bid / "DatabaseGrades.xlsx").unlink()
    with pytest.raises(DatasetError, match="BID: none of 'DatabaseGrades.xlsx'"):
        read_bid(bid)


# ------------------------------------------------------------------------------ CID2013


@pytest.fixture
def cid(tmp_path):
    pytest.importorskip("openpyxl")
    root = tmp_path / "CID2013"
    rows = [
        ["Source_ID", "Image set specific  MOS", "Realigned MOS"],  # two spaces, as circulated
        ["IS_I_C01_D01", 55.0, 50.1],
        ["IS_II_C03_D07", 62.5, 61.2],
        ["IS_VI_C06_D14", -2.0, -9.55],
    ]
    xlsx(root / "CID2013 data - version 12112014.xlsx", {"Readme": [["notes"]], "CID2013 MOS": rows})
    image(root / "IS1" / "co1" / "IS_I_C01_D01.jpg")
    image(root / "IS2" / "co3" / "is_ii_c03_d07.JPG")
    return root


def test_cid2013_rows(cid):
    with pytest.warns(DatasetWarning, match="IS_VI_C06_D14"):
        m = read_cid2013(cid.parent)
    assert [(r.path.relative_to(cid).as_posix(), r.score, r.group) for r in m] == [
        ("IS1/co1/IS_I_C01_D01.jpg", 50.1, "IS_I_C01"),
        ("IS2/co3/is_ii_c03_d07.JPG", 61.2, "IS_II_C03"),
    ]
    assert m[1].extra == {"image_set": "II", "scene": "03", "device": "07", "image_set_mos": "62.5"}
    assert m.meta["score_unit"] == "Realigned MOS, about 0-100"
    miss = m.missing[0]
    assert miss.path == cid / "IS6" / "co6" / "IS_VI_C06_D14.jpg" and miss.score == -9.55
    assert check_counts(m) == ["cid2013: 3 labelled images (2 present, 1 missing), expected 474 or 480"]


def test_cid2013_errors(cid):
    wb = cid / "CID2013 data - version 12112014.xlsx"
    xlsx(wb, {"Sheet1": [["Source_ID", "Realigned MOS"]]})
    with pytest.raises(
        DatasetError, match=r"expected a sheet named 'CID2013 MOS'; the workbook has \['Sheet1'\]"
    ):
        read_cid2013(cid)
    xlsx(wb, {"CID2013 MOS": [["Source_ID", "Realigned MOS"], ["photo_1", 3.0]]})
    with pytest.raises(DatasetError, match=r"row 2: Source_ID must look like IS_I_C01_D01, got 'photo_1'"):
        read_cid2013(cid)
    wb.unlink()
    with pytest.raises(DatasetError, match=r"CID2013: none of 'CID2013\*data\*\.xlsx'"):
        read_cid2013(cid)


# ------------------------------------------------------------------------------ pyiqa meta CSVs


def test_pyiqa_koniq_meta(tmp_path):
    (tmp_path / "meta_info_KonIQ10kDataset.csv").write_text(
        "img_name,mos,std,split,c1,c2,c3,c4,c5,c_total\n"
        "10004473376.jpg,77.38,0.527,training,0.0,0.0,0.238,0.695,0.067,105\n"
        "10043785683.jpg,71.20,0.498,validation,0.0,0.0,0.434,0.566,0.0,106\n"
    )
    image(tmp_path / "10004473376.jpg")
    with pytest.warns(DatasetWarning, match="10043785683.jpg"):
        m = read_pyiqa(tmp_path)
    assert m.name == "KonIQ10k"
    r = m[0]
    assert (r.score, r.higher_is_better, r.split, r.group, r.extra["std"]) == (
        77.38,
        True,
        "train",
        "10004473376.jpg",
        "0.527",
    )
    assert m.missing[0].split == "val"


def test_pyiqa_live_meta_is_dmos(tmp_path):
    meta = tmp_path / "meta" / "meta_info_LIVEIQADataset.csv"
    meta.parent.mkdir()
    meta.write_text("ref_name,dist_name,mos\nrefimgs/bikes.bmp,jp2k/img4.bmp,44.2\n")
    root = tmp_path / "live"
    image(root / "jp2k" / "img4.bmp")
    image(root / "refimgs" / "bikes.bmp")
    m = read_pyiqa(root, meta_csv=meta)
    assert [(r.path, r.score, r.higher_is_better, r.group) for r in m] == [
        (root / "jp2k" / "img4.bmp", 44.2, False, "bikes")
    ]
    assert m[0].extra["ref_path"] == str(root / "refimgs" / "bikes.bmp")


def test_pyiqa_absolute_paths(tmp_path):
    img = image(tmp_path / "elsewhere" / "A.PNG")
    gone = tmp_path / "elsewhere" / "B.png"
    lines = f"img_name,mos\n{img},55\n{str(img).lower()},56\n{gone},57\n"
    (tmp_path / "meta_info_SPAQDataset.csv").write_text(lines)
    with pytest.warns(DatasetWarning, match=r"1 image\(s\)"):
        m = read_pyiqa(tmp_path)
    assert [r.path for r in m] == [img, img]  # absolute paths are matched case-insensitively too
    assert [r.path for r in m.missing] == [gone]


def test_pyiqa_direction_must_be_known(tmp_path):
    (tmp_path / "meta_info_MyDataset.csv").write_text("dist_name,dmos\na.png,3\n")
    with pytest.raises(DatasetError, match="pass higher_is_better="):
        read_pyiqa(tmp_path)
    with pytest.warns(DatasetWarning):
        m = read_pyiqa(tmp_path, higher_is_better=False, name="mine")
    assert m.name == "mine" and m.missing[0].higher_is_better is False


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("file,quality\na.png,3\n", r"line 1: expected an image column"),
        ("img_name,mos\na.png,\n", r"line 2: mos must be a number, got ''"),
        ("img_name,mos,split\na.png,3,holdout\n", r"line 2: split must be training, validation or test"),
    ],
)
def test_pyiqa_malformed(tmp_path, content, match):
    (tmp_path / "meta_info_KonIQ10kDataset.csv").write_text(content)
    with pytest.raises(DatasetError, match=match):
        read_pyiqa(tmp_path)


def test_pyiqa_needs_one_meta_file(tmp_path):
    with pytest.raises(DatasetError, match=r"exactly one meta_info_\*\.csv"):
        read_pyiqa(tmp_path)
