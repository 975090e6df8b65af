"""The lessons' figures (embeddings_helper.plots), drawn with the Agg backend: labels that do not cover
each other or the points, histograms on shared bins with their labels, the words a picture can show,
and the 3-D projector's still and interactive versions; in English, and in Spanish from notebooks/es/."""

import base64
import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from embeddings_helper import plots  # noqa: E402
from embeddings_helper.lesson import ParameterError  # noqa: E402

PLOTLY = "application/vnd.plotly.v1+json"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def crowded_points():
    """Pairs of points so close that a label put to the right of the first would cover the second."""
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 10, size=(6, 2))
    return np.vstack([centres, centres + [0.25, 0.0]])


def test_labels_cover_neither_each_other_nor_the_points():
    xy = crowded_points()
    names = [f"word{i}" for i in range(len(xy))]
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.scatter(xy[:, 0], xy[:, 1])
    ax.set(xlim=(-2, 12), ylim=(-2, 12))
    boxes = plots.place_labels(ax, xy, names)
    assert len(boxes) == len(names) and len(ax.texts) == len(names)
    assert [t.get_text() for t in ax.texts] == names
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    markers = [Bbox.from_bounds(x - 3, y - 3, 6, 6) for x, y in ax.transData.transform(xy)]
    assert not any(box.overlaps(marker) for box in boxes for marker in markers)
    frame = ax.get_window_extent()
    assert all(frame.contains(b.x0, b.y0) and frame.contains(b.x1, b.y1) for b in boxes)


def test_a_label_that_fits_to_the_right_of_its_point_goes_there():
    fig, ax = plt.subplots()
    ax.set(xlim=(0, 10), ylim=(0, 10))
    (box,) = plots.place_labels(ax, np.array([[5.0, 5.0]]), ["alone"])
    x, y = ax.transData.transform((5.0, 5.0))
    assert box.x0 > x and box.y0 > y  # the first spot tried: right of the point, above it


def test_histograms_share_bins_and_say_what_they_show():
    rng = np.random.default_rng(1)
    panels = {"left": {"narrow": rng.normal(0.8, 0.02, 500), "wide": rng.normal(0.3, 0.1, 500)},
              "right": {"other": rng.normal(0.2, 0.1, 500)}}  # fmt: skip
    fig = plots.score_histograms(panels, threshold=0.3, ylabel="number of pairs")
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["left", "right"]
    assert all(ax.get_xlabel() == "cosine similarity" for ax in axes) and axes[0].get_ylabel() == "number of pairs"
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["narrow", "wide", "threshold 0.3"]
    widths = {round(p.get_width(), 9) for ax in axes for p in ax.patches}
    assert len(widths) == 1  # one set of bins for every panel
    assert axes[0].get_xlim() == axes[1].get_xlim() and axes[0].get_ylim() == axes[1].get_ylim()


def test_histograms_speak_spanish_in_a_spanish_lesson(spanish):
    fig = plots.score_histograms({"panel": {"modelo": [0.1, 0.5, 0.9]}}, threshold=0.5)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "similitud coseno" and ax.get_ylabel() == "cuántos"
    assert "umbral 0.5" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_histograms_refuse_to_draw_nothing():
    with pytest.raises(ParameterError, match="no scores"):
        plots.score_histograms({})


def test_picture_words_match_case_and_accents_and_report_the_missing(capsys):
    groups = {"animales": ["PERRO", "Raton", "unicornio"], "realeza": ["rey", "perro"]}
    labels, dropped = plots.picture_words(groups, ["perro", "ratón", "rey", "reina"])
    assert labels == [("perro", "animales"), ("ratón", "animales"), ("rey", "realeza")]  # "perro" once, first group
    assert dropped == ["unicornio"] and "unicornio" in capsys.readouterr().out


def test_a_picture_of_fewer_than_three_words_is_refused():
    with pytest.raises(ParameterError, match="needs at least 3 words of PCA_GROUPS"):
        plots.picture_words({"a": ["dog", "cat"]}, ["dog", "cat", "car"])
    with pytest.raises(ParameterError, match="must be a dict of groups"):
        plots.picture_words(["dog", "cat", "car"], ["dog", "cat", "car"])


def test_the_word_map_labels_every_word_once_with_titled_axes():
    rng = np.random.default_rng(2)
    points = rng.normal(size=(9, 3))
    names, groups = [f"w{i}" for i in range(9)], ["a"] * 3 + ["b"] * 3 + ["c"] * 3
    fig = plots.word_map(points, names, groups, "A title", explained=[0.25, 0.125, 0.1])
    (ax,) = fig.axes
    assert ax.get_title() == "A title"
    assert ax.get_xlabel() == "component 1 (25% of variance)" and ax.get_ylabel() == "component 2 (12% of variance)"
    assert sorted(t.get_text() for t in ax.texts) == sorted(names)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]


def test_the_projector_carries_a_still_image_and_a_version_to_rotate():
    rng = np.random.default_rng(3)
    points, names, groups = rng.normal(size=(6, 3)), list("abcdef"), ["x", "x", "y", "y", "z", "z"]
    bundle = plots.projector(points, names, groups, "Words", show=False)
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert bundle["text/plain"] == "A 3-D picture of the words"
    figure = bundle[PLOTLY]
    assert [t["name"] for t in figure["data"]] == ["x", "y", "z"]
    assert sorted(n for t in figure["data"] for n in t["text"]) == names
    assert figure["layout"]["scene"]["xaxis"]["title"]["text"] == "component 1"
    assert figure["layout"]["title"]["text"].startswith("Words")
    still_only = plots.projector(points, names, groups, "Words", interactive=False, show=False)
    assert PLOTLY not in still_only and "image/png" in still_only


def test_the_projector_speaks_spanish_in_a_spanish_lesson(spanish):
    bundle = plots.projector(np.eye(3), ["a", "b", "c"], ["g", "g", "h"], "Palabras", show=False)
    assert bundle["text/plain"] == "Una imagen 3D de las palabras"
    assert bundle[PLOTLY]["layout"]["scene"]["zaxis"]["title"]["text"] == "componente 3"
