"""The data transformation of the prepare stage: every case gets the size band its mean radius falls in."""

import pandas as pd
from prepare import SIZE_BAND_NAMES, add_size_band


def test_size_bands_follow_the_mean_radius_edges():
    frame = pd.DataFrame({"mean_radius": [7.0, 12.0, 12.01, 16.0, 16.01, 28.1]})
    banded = add_size_band(frame)
    assert banded["size_band"].tolist() == ["small", "small", "medium", "medium", "large", "large"]


def test_every_case_gets_a_known_band_and_the_input_is_left_alone():
    frame = pd.DataFrame({"mean_radius": [6.9, 9.5, 13.0, 19.0, 28.1]})
    banded = add_size_band(frame)
    assert set(banded["size_band"]) <= set(SIZE_BAND_NAMES)
    assert "size_band" not in frame.columns
