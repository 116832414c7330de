"""The ``pyiqa`` reader on every meta_info file of pyiqa's repository, as shipped.

Each case is one file of ``pyiqa/data/meta_info/`` of chaofengc/IQA-PyTorch: its
real header (or none) and first rows, copied verbatim (padding and tabs
included), with the images laid out as a user most likely has them. Where the
repository shipped two versions of a file, both are here (``@<commit>``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from _dataset_fixtures import image

from lpfiqa.datasets import DatasetWarning, read_pyiqa, write_manifest
from lpfiqa.datasets.generic import PYIQA_DIRECTIONS, PYIQA_LOWER_IS_BETTER
from lpfiqa.errors import DatasetError

#: The commit of chaofengc/IQA-PyTorch each case was copied from (``pyiqa/data/meta_info/<file>``).
SOURCES: dict[str, str] = {
    "meta_info_CSIQDataset.csv": "81e06973df7fd7fe609da59b7ac216cb169ca673",
    "meta_info_KADID10kDataset.csv": "81e06973df7fd7fe609da59b7ac216cb169ca673",
    "meta_info_KonIQ10k++Dataset.csv": "31490be1fa47d8e339286448fd96096a5452b06c",
    "meta_info_KonIQ10kDataset.csv@223830bb": "223830bb0f312a7534a59443be5c9f5e4bbce860",
    "meta_info_KonIQ10kDataset.csv@469e9da9": "469e9da92cdeba6f7e979a98220ca9afeab772ed",
    "meta_info_LIVEChallengeDataset.csv": "81e06973df7fd7fe609da59b7ac216cb169ca673",
    "meta_info_LIVEIQADataset.csv@fd53b66e": "fd53b66e1ba13ebad27b535270212bd85206d175",
    "meta_info_LIVEIQADataset.csv@81e06973": "81e06973df7fd7fe609da59b7ac216cb169ca673",
    "meta_info_LIVEMDDataset.csv": "31490be1fa47d8e339286448fd96096a5452b06c",
    "meta_info_PIPALDataset.csv": "83cc8ae6f62895cb861874868891ac05153c7253",
    "meta_info_SPAQDataset.csv": "fd53b66e1ba13ebad27b535270212bd85206d175",
    "meta_info_TID2008Dataset.csv": "81e06973df7fd7fe609da59b7ac216cb169ca673",
    "meta_info_TID2013Dataset.csv": "81e06973df7fd7fe609da59b7ac216cb169ca673",
    "meta_info_CSIQDataset.txt": "54085a57cd00d15581c03fd75e64693fd91d0ec4",
    "meta_info_KADID10kDataset.txt": "3dcdbd6a68dbfdd91f67a4a9f0bec40dcb6044c5",
    "meta_info_KonIQ10kDataset.txt": "501373a8573f37edbb1b5f12878054a008c14947",
    "meta_info_LIVEChallengeDataset.txt": "ef70142dd8a3db450386039d657152fbb6b102bd",
    "meta_info_LIVEIQADataset.txt": "7ecee6d695f8d7a56f228e1ad743136812b8eec4",
    "meta_info_LIVEMDDataset.txt": "54085a57cd00d15581c03fd75e64693fd91d0ec4",
    "meta_info_TID2008Dataset.txt": "7ecee6d695f8d7a56f228e1ad743136812b8eec4",
    "meta_info_TID2013Dataset.txt": "c538eda89bb980a4a308ddec8f2074abc2b3a698",
}


@dataclass
class Meta:
    """One shipped meta file: ``text`` as in the repository, the images, what the manifest must hold."""

    file: str
    text: str
    images: tuple[str, ...]  # where a user's copy has them, relative to the dataset root
    rows: list[tuple[str, float, str, str]]  # (image path, score, group, split)
    higher_is_better: bool
    refs: tuple[str, ...] = ()  # ref_path of each row, relative to the root (FR files)
    extras: tuple[str, ...] = ()  # extra columns the rows carry besides ref_path


_SPAQ_HEADER = (
    "Image name,MOS,Brightness,Colorfulness,Contrast,Noisiness,Sharpness,Animal,Cityscape,Human,"
    "Indoor scene,Landscape,Night scene,Plant,Still-life,Others,Focal length,F-number,Exposure time,ISO,"
    "Brightness,Flash,Time0,Time1\n"
)

CASES: dict[str, Meta] = {
    # ---------------------------------------------------------------- CSV files, with header
    "meta_info_CSIQDataset.csv": Meta(
        "meta_info_CSIQDataset.csv",
        "ref_name,dist_name,dmos\n"
        "1600.png,1600.AWGN.1.png,0.061989\n"
        "1600.png,1600.AWGN.2.png,0.206245\n"
        "1600.png,1600.AWGN.3.png,0.262122\n",
        # the official layout: pyiqa's flattened dst_imgs_all/ is not needed
        ("dst_imgs/awgn/1600.AWGN.1.png", "dst_imgs/awgn/1600.AWGN.2.png", "dst_imgs/awgn/1600.AWGN.3.png",
         "src_imgs/1600.png"),
        [("dst_imgs/awgn/1600.AWGN.1.png", 0.061989, "1600", ""),
         ("dst_imgs/awgn/1600.AWGN.2.png", 0.206245, "1600", ""),
         ("dst_imgs/awgn/1600.AWGN.3.png", 0.262122, "1600", "")],
        False,
        refs=("src_imgs/1600.png",) * 3,
    ),
    "meta_info_KADID10kDataset.csv": Meta(
        "meta_info_KADID10kDataset.csv",
        "ref_name,dist_name,dmos,std\n"
        "I01.png,I01_01_01.png,4.57,0.496\n"
        "I01.png,I01_01_02.png,4.33,0.869\n"
        "I01.png,I01_01_03.png,2.67,0.789\n",
        ("images/I01.png", "images/I01_01_01.png", "images/I01_01_02.png", "images/I01_01_03.png"),
        [("images/I01_01_01.png", 4.57, "I01", ""),
         ("images/I01_01_02.png", 4.33, "I01", ""),
         ("images/I01_01_03.png", 2.67, "I01", "")],
        True,  # named dmos, but a MOS
        refs=("images/I01.png",) * 3,
        extras=("std",),
    ),
    "meta_info_KonIQ10k++Dataset.csv": Meta(
        "meta_info_KonIQ10k++Dataset.csv",
        '"filename","qmos","sd","votes","artifacts","blur","contrast","colors","other","degraded.amount"\n'
        '"826373.jpg",3.953125,1.03017470393857,64,0.046875,0.046875,0.234375,0.109375,0,0.0875\n'
        '"2017266.jpg",3.88135593220339,0.811230350438655,59,0.11864406779661,0.0847457627118644,'
        "0.0338983050847458,0.11864406779661,0,0.0711864406779661\n"
        '"2190310.jpg",3.640625,0.91490631838925,64,0.046875,0.140625,0.03125,0.046875,0,0.053125\n',
        ("1024x768/826373.jpg", "1024x768/2017266.jpg", "1024x768/2190310.jpg"),
        [("1024x768/826373.jpg", 3.953125, "826373.jpg", ""),
         ("1024x768/2017266.jpg", 3.88135593220339, "2017266.jpg", ""),
         ("1024x768/2190310.jpg", 3.640625, "2190310.jpg", "")],
        True,
        extras=("sd", "votes", "artifacts", "blur", "contrast", "colors", "other", "degraded.amount"),
    ),
    # the version at 223830bb: split as words
    "meta_info_KonIQ10kDataset.csv@223830bb": Meta(
        "meta_info_KonIQ10kDataset.csv",
        "img_name,mos,std,split,c1,c2,c3,c4,c5,c_total\n"
        "10004473376.jpg,77.3836206897,0.527277894494,training,0.0,0.0,0.238095238095,0.695238095238,"
        "0.0666666666667,105\n"
        "10007357496.jpg,68.7285714286,0.580003024795,test,0.0,0.03125,0.46875,0.489583333333,"
        "0.0104166666667,96\n"
        "10007903636.jpg,78.6285714286,0.527219618675,training,0.0104166666667,0.0,0.208333333333,"
        "0.760416666667,0.0208333333333,96\n",
        ("10004473376.jpg", "10007357496.jpg", "10007903636.jpg"),
        [("10004473376.jpg", 77.3836206897, "10004473376.jpg", "train"),
         ("10007357496.jpg", 68.7285714286, "10007357496.jpg", "test"),
         ("10007903636.jpg", 78.6285714286, "10007903636.jpg", "train")],
        True,
        extras=("std", "c1", "c2", "c3", "c4", "c5", "c_total"),
    ),
    # the version at 469e9da9: split coded 0/1/2 (10043785683.jpg, 'validation' above, is 1)
    "meta_info_KonIQ10kDataset.csv@469e9da9": Meta(
        "meta_info_KonIQ10kDataset.csv",
        "img_name,mos,std,split,c1,c2,c3,c4,c5,c_total\n"
        "10004473376.jpg,77.3836206897,0.527277894494,0,0.0,0.0,0.238095238095,0.695238095238,"
        "0.0666666666667,105\n"
        "10007357496.jpg,68.7285714286,0.580003024795,2,0.0,0.03125,0.46875,0.489583333333,"
        "0.0104166666667,96\n"
        "10043785683.jpg,71.2043269231,0.497974333332,1,0.0,0.0,0.433962264151,0.566037735849,0.0,106\n",
        ("512x384/10004473376.jpg", "512x384/10007357496.jpg", "512x384/10043785683.jpg"),
        [("512x384/10004473376.jpg", 77.3836206897, "10004473376.jpg", "train"),
         ("512x384/10007357496.jpg", 68.7285714286, "10007357496.jpg", "test"),
         ("512x384/10043785683.jpg", 71.2043269231, "10043785683.jpg", "val")],
        True,
        extras=("std", "c1", "c2", "c3", "c4", "c5", "c_total"),
    ),
    "meta_info_LIVEChallengeDataset.csv": Meta(
        "meta_info_LIVEChallengeDataset.csv",
        "img_name,mos,std\n"
        "t1.bmp,63.963406174124174,18.376200073180403\n"
        "t2.bmp,25.335306406685238,13.651431474621623\n"
        "t3.bmp,48.93656326246079,18.92459579070641\n"
        "100.bmp,32.56107532210109,19.12472638223644\n",  # row 8: the first test image
        ("Images/trainingImages/t1.bmp", "Images/trainingImages/t2.bmp", "Images/trainingImages/t3.bmp",
         "Images/100.bmp"),
        [("Images/trainingImages/t1.bmp", 63.963406174124174, "t1.bmp", ""),
         ("Images/trainingImages/t2.bmp", 25.335306406685238, "t2.bmp", ""),
         ("Images/trainingImages/t3.bmp", 48.93656326246079, "t3.bmp", ""),
         ("Images/100.bmp", 32.56107532210109, "100.bmp", "")],
        True,
        extras=("std",),
    ),
    # the version at fd53b66e: paths relative to the release folder
    "meta_info_LIVEIQADataset.csv@fd53b66e": Meta(
        "meta_info_LIVEIQADataset.csv",
        "ref_name,dist_name,mos\n"
        "refimgs/studentsculpture.bmp,jp2k/img2.bmp,28.00384535689855\n"
        "refimgs/rapids.bmp,jp2k/img3.bmp,34.01073628022137\n"
        "refimgs/dancers.bmp,jp2k/img4.bmp,65.13140970686972\n",
        ("jp2k/img2.bmp", "jp2k/img3.bmp", "jp2k/img4.bmp", "refimgs/studentsculpture.bmp",
         "refimgs/rapids.bmp", "refimgs/dancers.bmp"),
        [("jp2k/img2.bmp", 28.00384535689855, "studentsculpture", ""),
         ("jp2k/img3.bmp", 34.01073628022137, "rapids", ""),
         ("jp2k/img4.bmp", 65.13140970686972, "dancers", "")],
        False,  # named mos, but LIVE's DMOS
        refs=("refimgs/studentsculpture.bmp", "refimgs/rapids.bmp", "refimgs/dancers.bmp"),
    ),
    # the version at 81e06973: no extension on the image, bare reference name
    "meta_info_LIVEIQADataset.csv@81e06973": Meta(
        "meta_info_LIVEIQADataset.csv",
        "ref_name,dist_name,mos\n"
        "studentsculpture.bmp,jp2k/img2,28.00384535689855\n"
        "rapids.bmp,jp2k/img3,34.01073628022137\n"
        "dancers.bmp,jp2k/img4,65.13140970686972\n",
        ("jp2k/img2.bmp", "jp2k/img3.bmp", "jp2k/img4.bmp", "refimgs/studentsculpture.bmp",
         "refimgs/rapids.bmp", "refimgs/dancers.bmp"),
        [("jp2k/img2.bmp", 28.00384535689855, "studentsculpture", ""),
         ("jp2k/img3.bmp", 34.01073628022137, "rapids", ""),
         ("jp2k/img4.bmp", 65.13140970686972, "dancers", "")],
        False,
        refs=("refimgs/studentsculpture.bmp", "refimgs/rapids.bmp", "refimgs/dancers.bmp"),
    ),
    "meta_info_LIVEMDDataset.csv": Meta(
        "meta_info_LIVEMDDataset.csv",
        "ref_name,dist_name,dmos\n"
        "Part 1/blurjpeg/babygirl.bmp,Part 1/blurjpeg/babygirl_blur1.bmp,21.57894736842105\n"
        "Part 1/blurjpeg/babygirl.bmp,Part 1/blurjpeg/babygirl_blur1_jpeg1.bmp,35.78947368421053\n"
        "Part 1/blurjpeg/babygirl.bmp,Part 1/blurjpeg/babygirl_blur1_jpeg2.bmp,32.63157894736842\n",
        ("Part 1/blurjpeg/babygirl.bmp", "Part 1/blurjpeg/babygirl_blur1.bmp",
         "Part 1/blurjpeg/babygirl_blur1_jpeg1.bmp", "Part 1/blurjpeg/babygirl_blur1_jpeg2.bmp"),
        [("Part 1/blurjpeg/babygirl_blur1.bmp", 21.57894736842105, "babygirl", ""),
         ("Part 1/blurjpeg/babygirl_blur1_jpeg1.bmp", 35.78947368421053, "babygirl", ""),
         ("Part 1/blurjpeg/babygirl_blur1_jpeg2.bmp", 32.63157894736842, "babygirl", "")],
        False,
        refs=("Part 1/blurjpeg/babygirl.bmp",) * 3,
    ),
    "meta_info_PIPALDataset.csv": Meta(
        "meta_info_PIPALDataset.csv",
        "hq_name,dist_name,elo_score\n"
        "A0001.bmp,A0001_00_00.bmp,1520.0648\n"
        "A0001.bmp,A0001_00_01.bmp,1437.0798\n"
        "A0001.bmp,A0001_00_02.bmp,1546.0616\n",
        ("Train_Ref/A0001.bmp", "Train_Dist/A0001_00_00.bmp", "Train_Dist/A0001_00_01.bmp",
         "Train_Dist/A0001_00_02.bmp"),
        [("Train_Dist/A0001_00_00.bmp", 1520.0648, "A0001", ""),
         ("Train_Dist/A0001_00_01.bmp", 1437.0798, "A0001", ""),
         ("Train_Dist/A0001_00_02.bmp", 1546.0616, "A0001", "")],
        True,  # Elo: higher is better
        refs=("Train_Ref/A0001.bmp",) * 3,
    ),
    "meta_info_SPAQDataset.csv": Meta(
        "meta_info_SPAQDataset.csv",
        _SPAQ_HEADER
        + "00001.jpg,48.86,47.43,55.57,55.71,37.86,42.57,0.0,0.333333,0.0,0.0,0.0,0.333333,0.0,0.333333,0.0,"
        "4.2,1.7,0.1,200,-1.21,0,-0.965926,-0.258819\n"
        "00002.jpg,62.5,55.38,67.13,53.13,57.5,47.5,0.0,0.5,0.0,0.0,0.0,0.5,0.0,0.0,0.0,4.04,2.0,0.05,400,"
        "3.0,0,-1.0,0.0\n"
        "00003.jpg,77.25,62.38,72.63,65.75,72.25,82.71,0.0,0.0,0.0,0.0,1.0,0.0,0.0,0.0,0.0,4.225,2.0,"
        "0.001292,100,0.0,0,-0.866025,-0.5\n",
        ("TestImage/00001.jpg", "TestImage/00002.jpg", "TestImage/00003.jpg"),
        [("TestImage/00001.jpg", 48.86, "00001.jpg", ""),
         ("TestImage/00002.jpg", 62.5, "00002.jpg", ""),
         ("TestImage/00003.jpg", 77.25, "00003.jpg", "")],
        True,
        extras=("Brightness", "Colorfulness", "Contrast", "Noisiness", "Sharpness", "Animal", "Cityscape",
                "Human", "Indoor scene", "Landscape", "Night scene", "Plant", "Still-life", "Others",
                "Focal length", "F-number", "Exposure time", "ISO", "Brightness.1", "Flash", "Time0", "Time1"),
    ),
    "meta_info_TID2008Dataset.csv": Meta(
        "meta_info_TID2008Dataset.csv",
        "ref_name,dist_name,mos,std\n"
        "I01.BMP,I01_01_1.bmp,5.9706,0.10593\n"
        "I01.BMP,I01_01_2.bmp,5.4167,0.13249\n"
        "I01.BMP,I01_01_3.bmp,4.5556,0.12073\n",
        ("distorted_images/i01_01_1.bmp", "distorted_images/i01_01_2.bmp", "distorted_images/i01_01_3.bmp",
         "reference_images/I01.BMP"),
        [("distorted_images/i01_01_1.bmp", 5.9706, "I01", ""),
         ("distorted_images/i01_01_2.bmp", 5.4167, "I01", ""),
         ("distorted_images/i01_01_3.bmp", 4.5556, "I01", "")],
        True,
        refs=("reference_images/I01.BMP",) * 3,
        extras=("std",),
    ),
    "meta_info_TID2013Dataset.csv": Meta(
        "meta_info_TID2013Dataset.csv",
        "ref_name,dist_name,mos,std\n"
        "I01.BMP,I01_01_1.bmp,5.51429,0.13013\n"
        "I01.BMP,i01_01_2.bmp,5.56757,0.16008\n"
        "I01.BMP,i01_01_3.bmp,4.94444,0.15186\n",
        ("distorted_images/I01_01_1.bmp", "distorted_images/i01_01_2.bmp", "distorted_images/i01_01_3.bmp",
         "reference_images/I01.BMP"),
        [("distorted_images/I01_01_1.bmp", 5.51429, "I01", ""),
         ("distorted_images/i01_01_2.bmp", 5.56757, "I01", ""),
         ("distorted_images/i01_01_3.bmp", 4.94444, "I01", "")],
        True,
        refs=("reference_images/I01.BMP",) * 3,
        extras=("std",),
    ),
    # ------------------------------------------- older .txt files: no header, tabs padded with spaces
    "meta_info_CSIQDataset.txt": Meta(
        "meta_info_CSIQDataset.txt",
        "1600.png       \t1600.AWGN.1.png\t0.061989       \n"
        "1600.png       \t1600.AWGN.2.png\t0.206245       \n"
        "1600.png       \t1600.AWGN.3.png\t0.262122       \n",
        # pyiqa's own layout this time: every distorted image in dst_imgs_all/
        ("dst_imgs_all/1600.AWGN.1.png", "dst_imgs_all/1600.AWGN.2.png", "dst_imgs_all/1600.AWGN.3.png",
         "src_imgs/1600.png"),
        [("dst_imgs_all/1600.AWGN.1.png", 0.061989, "1600", ""),
         ("dst_imgs_all/1600.AWGN.2.png", 0.206245, "1600", ""),
         ("dst_imgs_all/1600.AWGN.3.png", 0.262122, "1600", "")],
        False,
        refs=("src_imgs/1600.png",) * 3,
    ),
    "meta_info_KADID10kDataset.txt": Meta(
        "meta_info_KADID10kDataset.txt",
        "I01.png        \tI01_01_01.png  \t4.57           \t0.496          \n"
        "I01.png        \tI01_01_02.png  \t4.33           \t0.869          \n"
        "I01.png        \tI01_01_03.png  \t2.67           \t0.789          \n",
        ("images/I01.png", "images/I01_01_01.png", "images/I01_01_02.png", "images/I01_01_03.png"),
        [("images/I01_01_01.png", 4.57, "I01", ""),
         ("images/I01_01_02.png", 4.33, "I01", ""),
         ("images/I01_01_03.png", 2.67, "I01", "")],
        True,
        refs=("images/I01.png",) * 3,
        extras=("std",),
    ),
    "meta_info_KonIQ10kDataset.txt": Meta(
        "meta_info_KonIQ10kDataset.txt",
        "10004473376.jpg     \t77.3836206897       \t0.527277894494      \ttrain     \n"
        "10007357496.jpg     \t68.7285714286       \t0.580003024795      \ttest      \n"
        "10007903636.jpg     \t78.6285714286       \t0.527219618675      \ttrain     \n"
        "10043785683.jpg     \t71.2043269231       \t0.497974333332      \tval       \n",  # row 21
        ("1024x768/10004473376.jpg", "1024x768/10007357496.jpg", "1024x768/10007903636.jpg",
         "1024x768/10043785683.jpg"),
        [("1024x768/10004473376.jpg", 77.3836206897, "10004473376.jpg", "train"),
         ("1024x768/10007357496.jpg", 68.7285714286, "10007357496.jpg", "test"),
         ("1024x768/10007903636.jpg", 78.6285714286, "10007903636.jpg", "train"),
         ("1024x768/10043785683.jpg", 71.2043269231, "10043785683.jpg", "val")],
        True,
        extras=("std",),
    ),
    "meta_info_LIVEChallengeDataset.txt": Meta(
        "meta_info_LIVEChallengeDataset.txt",
        "t1.bmp    \t63.963406174124174  \t18.376200073180403\n"
        "t2.bmp    \t25.335306406685238  \t13.651431474621623\n"
        "t3.bmp    \t48.93656326246079   \t18.92459579070641\n",
        ("Images/trainingImages/t1.bmp", "Images/trainingImages/t2.bmp", "Images/trainingImages/t3.bmp"),
        [("Images/trainingImages/t1.bmp", 63.963406174124174, "t1.bmp", ""),
         ("Images/trainingImages/t2.bmp", 25.335306406685238, "t2.bmp", ""),
         ("Images/trainingImages/t3.bmp", 48.93656326246079, "t3.bmp", "")],
        True,
        extras=("std",),
    ),
    "meta_info_LIVEIQADataset.txt": Meta(
        "meta_info_LIVEIQADataset.txt",
        "refimgs/studentsculpture.bmp\tjp2k/img2.bmp  \t1.6466         \n"
        "refimgs/rapids.bmp\tjp2k/img3.bmp  \t0.72312        \n"
        "refimgs/dancers.bmp\tjp2k/img4.bmp  \t0.25079        \n",
        ("jp2k/img2.bmp", "jp2k/img3.bmp", "jp2k/img4.bmp", "refimgs/studentsculpture.bmp",
         "refimgs/rapids.bmp", "refimgs/dancers.bmp"),
        [("jp2k/img2.bmp", 1.6466, "studentsculpture", ""),
         ("jp2k/img3.bmp", 0.72312, "rapids", ""),
         ("jp2k/img4.bmp", 0.25079, "dancers", "")],
        False,
        refs=("refimgs/studentsculpture.bmp", "refimgs/rapids.bmp", "refimgs/dancers.bmp"),
    ),
    "meta_info_LIVEMDDataset.txt": Meta(
        "meta_info_LIVEMDDataset.txt",
        "Part1/blurjpeg/babygirl.bmp\tPart1/blurjpeg/babygirl_blur1.bmp\t21.57894736842105\n"
        "Part1/blurjpeg/babygirl.bmp\tPart1/blurjpeg/babygirl_blur1_jpeg1.bmp\t35.78947368421053\n"
        "Part1/blurjpeg/babygirl.bmp\tPart1/blurjpeg/babygirl_blur1_jpeg2.bmp\t32.63157894736842\n"
        "Part1/blurjpeg/babygirl.bmp\tPart1/blurjpeg/babygirl_blur2.bmp\t40.0           \n",  # row 5
        # written Part1/, unpacked as "Part 1/"; Part 2/ repeats the names (blurnoise/babygirl_blur1.bmp...)
        ("Part 1/blurjpeg/babygirl.bmp", "Part 1/blurjpeg/babygirl_blur1.bmp",
         "Part 1/blurjpeg/babygirl_blur1_jpeg1.bmp", "Part 1/blurjpeg/babygirl_blur1_jpeg2.bmp",
         "Part 1/blurjpeg/babygirl_blur2.bmp", "Part 2/blurnoise/babygirl.bmp",
         "Part 2/blurnoise/babygirl_blur1.bmp", "Part 2/blurnoise/babygirl_blur2.bmp"),
        [("Part 1/blurjpeg/babygirl_blur1.bmp", 21.57894736842105, "babygirl", ""),
         ("Part 1/blurjpeg/babygirl_blur1_jpeg1.bmp", 35.78947368421053, "babygirl", ""),
         ("Part 1/blurjpeg/babygirl_blur1_jpeg2.bmp", 32.63157894736842, "babygirl", ""),
         ("Part 1/blurjpeg/babygirl_blur2.bmp", 40.0, "babygirl", "")],
        False,
        refs=("Part 1/blurjpeg/babygirl.bmp",) * 4,
    ),
    # ------------------------------------------------ older .txt files: no header, aligned with spaces
    "meta_info_TID2008Dataset.txt": Meta(
        "meta_info_TID2008Dataset.txt",
        "I01.BMP        I01_01_1.bmp   5.9706         0.10593\n"
        "I01.BMP        I01_01_2.bmp   5.4167         0.13249\n"
        "I01.BMP        I01_01_3.bmp   4.5556         0.12073\n",
        ("distorted_images/I01_01_1.bmp", "distorted_images/I01_01_2.bmp", "distorted_images/I01_01_3.bmp",
         "reference_images/I01.BMP"),
        [("distorted_images/I01_01_1.bmp", 5.9706, "I01", ""),
         ("distorted_images/I01_01_2.bmp", 5.4167, "I01", ""),
         ("distorted_images/I01_01_3.bmp", 4.5556, "I01", "")],
        True,
        refs=("reference_images/I01.BMP",) * 3,
        extras=("std",),
    ),
    "meta_info_TID2013Dataset.txt": Meta(
        "meta_info_TID2013Dataset.txt",
        "I01.BMP        I01_01_1.bmp   5.51429        0.13013\n"
        "I01.BMP        i01_01_2.bmp   5.56757        0.16008\n"
        "I01.BMP        i01_01_3.bmp   4.94444        0.15186\n",
        ("distorted_images/i01_01_1.bmp", "distorted_images/i01_01_2.bmp", "distorted_images/i01_01_3.bmp",
         "reference_images/I01.BMP"),
        [("distorted_images/i01_01_1.bmp", 5.51429, "I01", ""),
         ("distorted_images/i01_01_2.bmp", 5.56757, "I01", ""),
         ("distorted_images/i01_01_3.bmp", 4.94444, "I01", "")],
        True,
        refs=("reference_images/I01.BMP",) * 3,
        extras=("std",),
    ),
}


def _dataset(file: str) -> str:
    """``meta_info_KonIQ10k++Dataset.csv`` -> ``KonIQ10k++``."""
    return file.removeprefix("meta_info_").rsplit("Dataset", 1)[0]


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_pyiqa_meta_file_as_shipped(tmp_path, case):
    meta = CASES[case]
    root = tmp_path / "dataset"
    for k, rel in enumerate(meta.images):
        image(root / rel, seed=k)
    (root / meta.file).write_text(meta.text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DatasetWarning)  # every image found: no warning
        m = read_pyiqa(root)
    assert m.name == _dataset(meta.file)
    assert [(r.path.relative_to(root).as_posix(), r.score, r.group, r.split) for r in m] == meta.rows
    assert {r.higher_is_better for r in m} == {meta.higher_is_better}
    assert m.missing == []
    if meta.refs:
        assert [root / p for p in meta.refs] == [Path(r.extra["ref_path"]) for r in m]
    assert tuple(k for k in m[0].extra if k != "ref_path") == meta.extras
    assert m.meta["label_file"] == meta.file
    assert m.meta["layout"].startswith("comma" if meta.file.endswith(".csv") else ("tab", "whitespace"))
    # the manifest can be written (no extra column collides with a fixed one)
    write_manifest(m, tmp_path / "out" / "manifest.csv")


def test_pyiqa_cases_cover_every_shipped_file():
    assert set(SOURCES) == set(CASES)
    shipped = {c.split("@")[0] for c in CASES}
    assert len(shipped) == 19  # every file pyiqa/data/meta_info/ ever held (11 .csv, 8 .txt)
    assert {_dataset(f) for f in shipped} == set(PYIQA_DIRECTIONS)
    assert all(c.higher_is_better is PYIQA_DIRECTIONS[_dataset(c.file)] for c in CASES.values())
    assert "meta_info_LIVEIQADataset.txt" in PYIQA_LOWER_IS_BETTER


def test_pyiqa_meta_file_given_directly_and_image_dir(tmp_path):
    meta = CASES["meta_info_TID2013Dataset.csv"]
    root = tmp_path / "tid2013"
    for rel in meta.images:
        image(root / rel)
    f = tmp_path / "meta" / meta.file
    f.parent.mkdir()
    f.write_text(meta.text)
    m = read_pyiqa(f, image_dir=root / "distorted_images")  # pyiqa's dataroot_target
    assert [r.path.name for r in m] == ["I01_01_1.bmp", "i01_01_2.bmp", "i01_01_3.bmp"]
    # the reference is not under image_dir: its expected path there (pyiqa has a separate dataroot_ref)
    assert m[0].extra["ref_path"] == str(root / "distorted_images" / "I01.BMP")
    with pytest.warns(DatasetWarning, match="missing on disk"):
        m = read_pyiqa(f)  # images relative to the meta file's folder: none there
    assert len(m.missing) == 3


@pytest.mark.filterwarnings("ignore:KonIQ10k. 3 image.s. listed:lpfiqa.datasets.DatasetWarning")
def test_pyiqa_ambiguous_file_name_needs_image_dir(tmp_path):
    meta = CASES["meta_info_KonIQ10kDataset.csv@223830bb"]
    for size in ("1024x768", "512x384"):
        for rel in meta.images:
            image(tmp_path / size / rel)
    (tmp_path / meta.file).write_text(meta.text)
    with pytest.warns(DatasetWarning, match=r"3 name\(s\) of meta_info_KonIQ10kDataset\.csv match several"):
        m = read_pyiqa(tmp_path)
    assert len(m) == 0 and len(m.missing) == 3
    m = read_pyiqa(tmp_path, image_dir=tmp_path / "512x384")
    assert [r.path.parent.name for r in m] == ["512x384"] * 3


def test_pyiqa_unknown_headerless_file_needs_direction(tmp_path):
    (tmp_path / "meta_info_MyDataset.txt").write_text("a.png\t3.5\nb.png\t2.0\n")
    with pytest.raises(DatasetError, match="without header that lpfiqa does not know; pass higher_is_better="):
        read_pyiqa(tmp_path)
    with pytest.warns(DatasetWarning):
        m = read_pyiqa(tmp_path, higher_is_better=True)
    assert [(r.path.name, r.score) for r in m.missing] == [("a.png", 3.5), ("b.png", 2.0)]
    assert m.meta["layout"] == "tab-separated, no header: img_name,mos"
    (tmp_path / "meta_info_MyDataset.txt").write_text("a.png\tb.png\tc.png\t3.5\n")
    with pytest.raises(DatasetError, match=r"line 1: expected a header, or rows '<image> <score> \.\.\.'"):
        read_pyiqa(tmp_path, higher_is_better=True)

