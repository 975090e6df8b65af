"""embeddings_helper.arrows, lesson 04's pictures: the geometry they draw, and honest 3-D axes (Agg backend)."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from embeddings_helper import arrows  # noqa: E402

A, B = np.array([1.0, 2.0, 3.0]) / math.sqrt(14), np.array([3.0, 1.0, 2.0]) / math.sqrt(14)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_the_face_on_camera_looks_along_the_perpendicular_of_both_vectors():
    view = arrows.face_on(A, B)
    camera = arrows.camera_direction(view)
    assert abs(camera @ A) < 1e-12 and abs(camera @ B) < 1e-12 and view[0] >= 0
    assert [round(x) for x in view] == [35, -98]
    assert arrows.face_on(A, 2 * A) == arrows.OBLIQUE  # parallel vectors span no plane


def test_the_shadow_ends_where_the_perpendicular_from_b_meets_a():
    foot = arrows.projection_foot(A, B)
    assert abs((B - foot) @ A) < 1e-12
    np.testing.assert_allclose(np.linalg.norm(foot), A @ B)  # a is a unit vector: the shadow is the dot product
    np.testing.assert_allclose(arrows.projection_foot(3 * A, B), foot)  # a's magnitude does not move the foot


def test_the_staircase_moves_along_one_axis_at_a_time_and_is_the_manhattan_distance():
    steps = arrows.staircase(A, B)
    np.testing.assert_allclose(steps[0], A)
    np.testing.assert_allclose(steps[-1], B)
    moves = np.diff(steps, axis=0)
    assert all(np.count_nonzero(move) <= 1 for move in moves)
    np.testing.assert_allclose(np.linalg.norm(moves, axis=1).sum(), np.abs(A - B).sum())


def test_the_arc_turns_from_a_to_b_at_a_fixed_radius():
    points = arrows.arc(A, B, radius=0.35)
    np.testing.assert_allclose(np.linalg.norm(points, axis=1), 0.35)
    np.testing.assert_allclose(points[0] / 0.35, A, atol=1e-12)
    np.testing.assert_allclose(points[-1] / 0.35, B, atol=1e-12)
    normal = np.cross(A, B)
    np.testing.assert_allclose(points @ normal, 0, atol=1e-12)  # in the plane of a and b
    assert len(arrows.arc(A, 2 * A)) == 1  # no angle between parallel vectors


def test_each_measure_has_its_lines_and_an_unknown_one_gets_a_sentence():
    for measure in arrows.MEASURES:
        lines = arrows.guide_lines(A, B, measure)
        assert lines and any(style.get("color") == "red" for _, style in lines)
    with pytest.raises(ValueError, match="measure must be one of"):
        arrows.guide_lines(A, B, "chebyshev")


def test_a_measure_figure_is_true_to_scale_and_seen_face_on_unless_it_leaves_the_plane():
    fig = arrows.measure_figure(A, B, "cosine", "an angle")
    (ax,) = fig.axes
    assert ax.name == "3d" and ax._focal_length == np.inf  # orthographic
    np.testing.assert_allclose(ax.get_box_aspect() / ax.get_box_aspect()[0], [1, 1, 1])
    assert ax.get_xlim() == ax.get_ylim() == ax.get_zlim()
    assert (round(ax.elev), round(ax.azim)) == (35, -98) and ax.get_title() == "an angle"
    ax = arrows.measure_figure(A, B, "manhattan", "steps").axes[0]
    assert (ax.elev, ax.azim) == arrows.OBLIQUE


def test_panels_each_get_their_own_scale_and_the_flat_picture_keeps_equal_axes():
    fig = arrows.arrows_figure([([A * 3, B * 3], ["a", "b"], "long"), ([A, B], ["a", "b"], "unit")], "two")
    long, unit = fig.axes
    assert long.get_xlim()[1] > 3 * A.max() and unit.get_xlim() == (0.0, 1.0)
    fig = arrows.flat_figure([1.0, 0.0], {"long": [3.0, 2.0], "short": [0.4, 0.06]}, "flat")
    (ax,) = fig.axes
    assert ax.get_aspect() == 1.0 and ax.get_xlim()[1] > 3.0 and ax.get_ylim()[1] > 2.0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["query", "long", "short"]


def test_labels_speak_spanish_in_a_spanish_lesson(monkeypatch, tmp_path):
    folder = tmp_path / "notebooks" / "es"
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    ax = arrows.flat_figure([1.0, 0.0], {"largo": [3.0, 2.0]}, "plano").axes[0]
    assert ax.get_legend().get_texts()[0].get_text() == "consulta" and ax.get_xlabel() == "dimensión 1"
    with pytest.raises(ValueError, match="measure debe ser una de"):
        arrows.guide_lines(A, B, "chebyshev")
