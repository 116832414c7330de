"""Readers of the synthetic-distortion sets (LIVE, CSIQ, TID2013, KADID-10k) on tiny official copies."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
from _dataset_fixtures import cell, image, xlsx

from lpfiqa.datasets import (
    DatasetWarning,
    check_counts,
    prepare,
    read_csiq,
    read_kadid10k,
    read_live,
    read_tid2013,
)
from lpfiqa.errors import DatasetError

# ------------------------------------------------------------------------------ LIVE

_LIVE = [("jp2k", 227, 58), ("jpeg", 233, 58), ("wn", 174, 29), ("gblur", 174, 29), ("fastfading", 174, 29)]
_REFS = [f"ref{i:02d}.bmp" for i in range(29)]


@pytest.fixture
def live(tmp_path):
    """LIVE R2 under <tmp>/LIVE/databaserelease2 with the real orgs pattern (203 reference copies)."""
    root = tmp_path / "LIVE" / "databaserelease2"
    root.mkdir(parents=True)
    orgs, refnames = [], []
    for _, n, n_refs in _LIVE:
        # the last n_refs entries of each folder are reference copies (orgs == 1)
        orgs += [0] * (n - n_refs) + [1] * n_refs
    refnames = [_REFS[i % 29] for i in range(982)]
    dmos = np.arange(982, dtype=float) / 10.0
    dmos_new = dmos + 100.0
    scipy.io.savemat(root / "refnames_all.mat", {"refnames_all": cell(refnames)})
    scipy.io.savemat(root / "dmos.mat", {"dmos": dmos[None, :], "orgs": np.array(orgs, float)[None, :]})
    scipy.io.savemat(
        root / "dmos_realigned.mat",
        {
            "dmos_new": dmos_new[None, :],
            "dmos_std": np.full((1, 982), 2.5),
            "orgs": np.array(orgs, float)[None, :],
        },
    )
    for k in (1, 2, 227):  # jp2k img227 is a reference copy
        image(root / "jp2k" / f"img{k}.bmp", k)
    image(root / "fastfading" / "img1.bmp")
    (root / "jp2k" / "info.txt").write_bytes(b"ref00.bmp img1.bmp 0.0513\r\n\r\nref01.bmp img2.bmp 0.4\r\n")
    image(root / "refimgs" / "REF00.BMP")  # case differs from refnames_all
    return tmp_path / "LIVE", root


def test_live_rows(live):
    top, root = live
    with pytest.warns(DatasetWarning, match=r"776 image\(s\) listed in the labels are missing"):
        m = read_live(top)  # found one level down
    assert m.name == "live" and m.meta["dmos"] == "realigned" and m.meta["label_file"] == "dmos_realigned.mat"
    assert [(r.path.relative_to(root).as_posix(), r.score) for r in m] == [
        ("jp2k/img1.bmp", 100.0),
        ("jp2k/img2.bmp", 100.1),
        ("fastfading/img1.bmp", 100.0 + 80.8),
    ]
    r0 = m[0]
    assert (r0.higher_is_better, r0.group, r0.dist_type, r0.dist_level, r0.split) == (
        False,
        "ref00",
        "jp2k",
        None,
        "",
    )
    assert r0.extra == {
        "ref_path": str(root / "refimgs" / "REF00.BMP"),
        "dmos_std": "2.5",
        "dist_param": "0.0513",
    }
    assert m[1].extra["ref_path"] == str(root / "refimgs" / "ref01.bmp")  # absent: the expected path
    assert len(m) + len(m.missing) == 779
    assert check_counts(m) == []  # 779 labelled, 29 references
    assert "jp2k/img227.bmp" not in {r.path.relative_to(root).as_posix() for r in [*m, *m.missing]}


def test_live_original_dmos_and_references(live):
    top, root = live
    with pytest.warns(DatasetWarning):
        m = read_live(root, dmos="original", keep_references=True)
    assert [r.score for r in m][:3] == [0.0, 0.1, 22.6]
    assert m[2].path.name == "img227.bmp" and m[2].extra["is_reference"] == "1"
    assert "dmos_std" not in m[0].extra
    assert len(m) + len(m.missing) == 982 and check_counts(m) == []
    with pytest.raises(ValueError, match="dmos must be 'auto', 'realigned' or 'original'"):
        read_live(root, dmos="new")


@pytest.mark.filterwarnings("ignore:live. 776 image:lpfiqa.datasets.DatasetWarning")
def test_live_with_dmos_mat_only(live):
    """A copy without dmos_realigned.mat: the original DMOS, said so (default dmos='auto')."""
    top, root = live
    (root / "dmos_realigned.mat").unlink()
    with pytest.warns(DatasetWarning, match=r"no dmos_realigned\.mat in .*; using dmos\.mat"):
        m = read_live(top)
    assert m.meta["dmos"] == "original" and m.meta["label_file"] == "dmos.mat"
    assert [r.score for r in m][:2] == [0.0, 0.1]  # dmos, not dmos_new (+100 in this fixture)
    assert "score DMOS, original (dmos)" in str(m.summary())
    (root / "dmos.mat").unlink()
    with pytest.raises(DatasetError, match="LIVE: neither dmos_realigned.mat nor dmos.mat found"):
        read_live(top)


def test_live_errors(live):
    top, root = live
    (root / "dmos_realigned.mat").unlink()
    with pytest.raises(DatasetError, match=r"dmos_realigned\.mat not found.*dmos='original'"):
        read_live(root, dmos="realigned")
    scipy.io.savemat(root / "dmos_realigned.mat", {"dmos": np.ones((1, 982)), "orgs": np.zeros((1, 982))})
    with pytest.raises(DatasetError, match=r"dmos_realigned\.mat: expected MATLAB variable\(s\) dmos_new"):
        read_live(root)
    scipy.io.savemat(root / "dmos.mat", {"dmos": np.ones((1, 981)), "orgs": np.zeros((1, 981))})
    with pytest.raises(DatasetError, match=r"dmos\.mat: variable dmos should have 982 entries .*got 981"):
        read_live(root, dmos="original")
    (root / "dmos.mat").write_text("not a mat file")
    with pytest.raises(DatasetError, match="not a readable MATLAB"):
        read_live(root, dmos="original")
    (root / "refnames_all.mat").unlink()
    with pytest.raises(DatasetError, match=r"LIVE: none of 'refnames_all\.mat' found"):
        read_live(top)


# ------------------------------------------------------------------------------ CSIQ


def _csiq_sheet(rows):
    # header on row 4 starting at column D, as in some circulating copies
    pad = [None, None, None]
    return [["CSIQ DMOS"], [], [], pad + ["image", "dst_idx", "dst_type", "dst_lev", "dmos_std", "dmos"]] + [
        pad + r for r in rows
    ]


@pytest.fixture
def csiq(tmp_path):
    pytest.importorskip("openpyxl")
    root = tmp_path / "CSIQ"
    rows = [
        [1600, 1, "noise", 1, 0.01, 0.062],  # numeric image name
        [1600, 3, "jpeg 2000", 2, 0.02, 0.25],
        ["aerial_city", 6, "contrast", 4, 0.03, 0.71],
        ["boston", 5, "blur", 5, 0.04, 0.93],
        [],  # blank row
    ]
    xlsx(root / "csiq.DMOS.xlsx", {"all_by_distortion": [["x"]], "all_by_image": _csiq_sheet(rows)})
    image(root / "dst_imgs" / "awgn" / "1600.AWGN.1.png")
    image(root / "dst_imgs" / "jpeg2000" / "1600.JPEG2000.2.png")  # DBCNN-style token case
    image(root / "dst_imgs" / "blur" / "boston.BLUR.5.png")
    image(root / "src_imgs" / "1600.png")
    return root


def test_csiq_rows(csiq):
    with pytest.warns(DatasetWarning, match=r"1 image\(s\)"):
        m = read_csiq(csiq.parent)
    assert [r.path.relative_to(csiq).as_posix() for r in m] == [
        "dst_imgs/awgn/1600.AWGN.1.png",
        "dst_imgs/jpeg2000/1600.JPEG2000.2.png",
        "dst_imgs/blur/boston.BLUR.5.png",
    ]
    assert [(r.score, r.group, r.dist_type, r.dist_level) for r in m] == [
        (0.062, "1600", "awgn", 1),
        (0.25, "1600", "jpeg2000", 2),
        (0.93, "boston", "blur", 5),
    ]
    assert all(r.higher_is_better is False for r in m)
    assert m[0].extra == {"ref_path": str(csiq / "src_imgs" / "1600.png"), "dmos_std": "0.01"}
    assert [(r.path.name, r.dist_level) for r in m.missing] == [("aerial_city.contrast.4.png", 4)]


# lines 1, 2, 151 and 301 of HyperIQA's csiq_label.txt (SSL92/hyperIQA), which many copies carry instead of the
# workbook
_CSIQ_HYPERIQA = (
    "1600.AWGN.1.png 0.061989\n1600.AWGN.2.png 0.206245\n1600.JPEG.1.png 0.012873\n1600.jpeg2000.1.png 0.011967\n"
)


@pytest.mark.parametrize("layout", ["dst_imgs/awgn", "dst_imgs_all"])
def test_csiq_hyperiqa_label_file_alone(tmp_path, layout):
    root = tmp_path / "CSIQ"
    root.mkdir()
    (root / "csiq_label.txt").write_text(_CSIQ_HYPERIQA)
    image(root / layout / "1600.AWGN.1.png")
    image(root / layout / "1600.AWGN.2.png")
    image(root / "src_imgs" / "1600.png")
    with pytest.warns(DatasetWarning, match=r"2 image\(s\)"):
        m = read_csiq(tmp_path)
    assert [(r.path.relative_to(root).as_posix(), r.score, r.group, r.dist_type, r.dist_level) for r in m] == [
        (f"{layout}/1600.AWGN.1.png", 0.061989, "1600", "awgn", 1),
        (f"{layout}/1600.AWGN.2.png", 0.206245, "1600", "awgn", 2),
    ]
    assert [(r.path.name, r.dist_type) for r in m.missing] == [
        ("1600.JPEG.1.png", "jpeg"), ("1600.jpeg2000.1.png", "jpeg2000")
    ]
    assert m[0].extra == {"ref_path": str(root / "src_imgs" / "1600.png")} and not m[0].higher_is_better
    assert m.meta == {"label_file": "csiq_label.txt", "score_unit": "DMOS, 0-1 (HyperIQA's csiq_label.txt)"}
    (root / "csiq_label.txt").write_text("1600.AWGN.1.png\n")
    with pytest.raises(DatasetError, match=r"csiq_label\.txt, line 1: expected '<ref>\.<TOKEN>\.<level>\.png <dmos>'"):
        read_csiq(root)


def test_csiq_prefers_the_workbook(csiq):
    (csiq / "csiq_label.txt").write_text(_CSIQ_HYPERIQA)
    with pytest.warns(DatasetWarning):
        m = read_csiq(csiq.parent)
    assert m.meta["label_file"] == "csiq.DMOS.xlsx" and m[0].extra["dmos_std"] == "0.01"


def test_csiq_errors(csiq):
    with pytest.raises(DatasetError, match=r"CSIQ: none of 'csiq\.DMOS\.xlsx'"):
        read_csiq(csiq / "dst_imgs")
    xlsx(csiq / "csiq.DMOS.xlsx", {"all_by_image": [["image", "type", "dmos"], [1600, "noise", 0.1]]})
    with pytest.raises(
        DatasetError, match=r"sheet 'all_by_image': no header row with the columns image, dst_type"
    ):
        read_csiq(csiq)
    xlsx(
        csiq / "csiq.DMOS.xlsx",
        {"all_by_image": _csiq_sheet([[1600, 1, "noise", 1, 0.01, 0.1], [1600, 9, "sepia", 1, 0.01, 0.1]])},
    )
    with pytest.raises(DatasetError, match=r"row 6: dst_type must be one of noise.*got 'sepia'"):
        read_csiq(csiq)
    xlsx(csiq / "csiq.DMOS.xlsx", {"all_by_image": _csiq_sheet([[1600, 1, "noise", 1, 0.01, "n/a"]])})
    with pytest.raises(DatasetError, match=r"row 5: dmos must be a number, got 'n/a'"):
        read_csiq(csiq)
    (csiq / "csiq.DMOS.xlsx").write_text("not a zip")
    with pytest.raises(DatasetError, match="not a readable .xlsx"):
        read_csiq(csiq)


# ------------------------------------------------------------------------------ TID2013


@pytest.fixture
def tid(tmp_path):
    root = tmp_path / "tid2013"
    root.mkdir()
    # CRLF, mixed case as in the release, trailing blank line
    (root / "mos_with_names.txt").write_bytes(
        b"5.51429 I01_01_1.bmp\r\n4.25 i01_11_1.BMP\r\n3.2 i25_24_5.bmp\r\n\r\n"
    )
    (root / "mos_std.txt").write_bytes(b"0.13\r\n0.2\r\n0\r\n")
    (root / "mos.txt").write_bytes(b"5.51429\r\n4.25\r\n3.2\r\n")
    image(root / "distorted_images" / "i01_01_1.bmp")  # list says I01_01_1.bmp
    image(root / "distorted_images" / "I01_11_1.bmp")  # list says i01_11_1.BMP
    image(root / "reference_images" / "I01.BMP")
    image(root / "reference_images" / "i25.bmp")
    return root


def test_tid2013_rows(tid):
    with pytest.warns(DatasetWarning, match="i25_24_5.bmp"):
        m = read_tid2013(tid)
    assert [r.path.name for r in m] == ["i01_01_1.bmp", "I01_11_1.bmp"]  # on-disk case
    assert [(r.score, r.group, r.dist_type, r.dist_level, r.extra["mos_std"]) for r in m] == [
        (5.51429, "I01", "additive_gaussian_noise", 1, "0.13"),
        (4.25, "I01", "jpeg2000", 1, "0.2"),
    ]
    assert all(r.higher_is_better for r in m)
    assert m.meta == {"label_file": "mos_with_names.txt", "score_unit": "MOS, 0-9"}
    assert m[0].extra["ref_path"] == str(tid / "reference_images" / "I01.BMP")
    miss = m.missing[0]
    assert (miss.group, miss.dist_type, miss.dist_level) == ("I25", "sparse_sampling_and_reconstruction", 5)
    assert miss.extra["ref_path"] == str(tid / "reference_images" / "i25.bmp")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"5.5 I01_01_1.bmp\r\n5.5\r\n", r"line 2: expected '<mos> <file name>', got '5.5'"),
        (b"high I01_01_1.bmp\r\n", r"line 1: MOS must be a number, got 'high'"),
        (b"5.5 I01_01_1.png\r\n", r"line 1: expected a file name like i01_01_1.bmp"),
        (b"5.5 I01_99_1.bmp\r\n", r"line 1: expected a file name like"),
        (b"\r\n", r"no '<mos> <file name>' lines"),
    ],
)
def test_tid2013_malformed(tid, content, match):
    (tid / "mos_with_names.txt").write_bytes(content)
    (tid / "mos_std.txt").unlink()
    with pytest.raises(DatasetError, match=match):
        read_tid2013(tid)


def test_tid2013_errors(tid):
    (tid / "mos_std.txt").write_bytes(b"0.1\r\nabc\r\n0.3\r\n")
    with pytest.raises(DatasetError, match=r"mos_std\.txt: value 2 must be a number, got 'abc'"):
        read_tid2013(tid)
    (tid / "mos_std.txt").write_bytes(b"0.1\r\n")
    with pytest.raises(DatasetError, match=r"mos_std\.txt: expected one value per line .*\(3\), got 1"):
        read_tid2013(tid)
    (tid / "mos_with_names.txt").unlink()
    (tid / "mos.txt").unlink()
    with pytest.raises(DatasetError, match=r"TID2013: none of 'mos_with_names\.txt', 'mos\.txt' found"):
        read_tid2013(tid)


@pytest.mark.filterwarnings("ignore:tid2013. 2998 image:lpfiqa.datasets.DatasetWarning")
def test_tid2013_mos_txt_alone(tid):
    """A copy with mos.txt but no mos_with_names.txt: names from the release order."""
    (tid / "mos_with_names.txt").unlink()
    (tid / "mos_std.txt").unlink()
    values = [f"{(k % 90) / 10:.5f}" for k in range(3000)]
    values[0], values[50] = "5.51429", "5.91429"  # i01_01_1 and i01_11_1, as in the release
    (tid / "mos.txt").write_bytes("\r\n".join(values).encode() + b"\r\n")
    m = read_tid2013(tid.parent)
    assert [(r.path.name, r.score, r.dist_type, r.dist_level) for r in m] == [
        ("i01_01_1.bmp", 5.51429, "additive_gaussian_noise", 1),
        ("I01_11_1.bmp", 5.91429, "jpeg2000", 1),
    ]
    assert m.missing[-1].path.name == "i25_24_5.bmp" and len(m) + len(m.missing) == 3000
    assert m.meta == {"label_file": "mos.txt", "score_unit": "MOS, 0-9 (names from the release order)"}
    (tid / "mos.txt").write_bytes(b"5.5\r\n4.2\r\n")
    with pytest.raises(DatasetError, match=r"mos\.txt: expected 3000 MOS values .*got 2; use the release's"):
        read_tid2013(tid)


# ------------------------------------------------------------------------------ KADID-10k


@pytest.fixture
def kadid(tmp_path):
    root = tmp_path / "kadid10k"
    (root / "images").mkdir(parents=True)
    (root / "dmos.csv").write_text(
        "dist_img,ref_img,dmos,var\n"
        "I01_01_01.png,I01.png,4.57,0.496\n"
        "I01_25_05.png,I01.png,3.27,0.854\n"
        "I81_10_03.png,I81.png,1.1,0.3\n"
    )
    image(root / "images" / "I01.png")
    image(root / "images" / "I01_01_01.png")
    image(root / "images" / "I01_25_05.png")
    return root


def test_kadid_rows(kadid):
    with pytest.warns(DatasetWarning, match="I81_10_03.png"):
        m = prepare("KADID-10k", kadid.parent, check="off")
    assert m.name == "kadid10k"
    assert [(r.path.name, r.score, r.group, r.dist_type, r.dist_level, r.extra["std"]) for r in m] == [
        ("I01_01_01.png", 4.57, "I01", "gaussian_blur", 1, "0.496"),
        ("I01_25_05.png", 3.27, "I01", "contrast_change", 5, "0.854"),
    ]
    assert all(r.higher_is_better for r in m)  # "dmos" is really a MOS
    assert m.meta == {"label_file": "dmos.csv", "score_unit": "MOS-like, 1-5 (the 'dmos' column)"}
    assert m[0].extra["ref_path"] == str(kadid / "images" / "I01.png")
    assert (m.missing[0].group, m.missing[0].dist_type) == ("I81", "jpeg")


@pytest.mark.filterwarnings("ignore::lpfiqa.datasets.DatasetWarning")  # the missing-image one
def test_kadid_prepare_check_and_out(kadid, tmp_path):
    with pytest.warns(DatasetWarning, match="expected 10125"):
        prepare("kadid10k", kadid, out=tmp_path / "k.csv")
    assert (tmp_path / "k.csv").read_text().splitlines()[0].endswith("split,ref_path,std")
    with pytest.raises(DatasetError, match="3 labelled images .*expected 10125"):
        prepare("kadid10k", kadid, check="error")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("image,score\nI01_01_01.png,4\n", r"line 1: expected the header dist_img,ref_img,dmos,var"),
        (
            "dist_img,ref_img,dmos,var\nI01_01_01.png,I01.png,4.5,0.1\nI01_01_02.png,I01.png,?,0.1\n",
            r"dmos\.csv, line 3: dmos must be a number, got '\?'",
        ),
        (
            "dist_img,ref_img,dmos,var\nfoo.png,I01.png,4.5,0.1\n",
            r"line 2: expected dist_img like I01_01_01.png",
        ),
        ("dist_img,ref_img,dmos,var\nI01_01_01.png,I01.png\n", r"line 2: expected 4 fields, got 2"),
    ],
)
def test_kadid_malformed(kadid, content, match):
    (kadid / "dmos.csv").write_text(content)
    with pytest.raises(DatasetError, match=match):
        read_kadid10k(kadid)


def test_kadid_missing_label(tmp_path):
    with pytest.raises(DatasetError, match=r"KADID-10k: none of 'dmos\.csv' found"):
        read_kadid10k(tmp_path)
    with pytest.raises(DatasetError, match="folder not found"):
        read_kadid10k(tmp_path / "nope")
