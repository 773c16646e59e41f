"""A glyph taken apart for handwriting-like rendering: its jamo, and its strokes as a pen.

Print fonts are all that every machine has, yet the lab reads handwriting, where the
initial, medial and final parts of a syllable move and scale against each other and the
strokes are drawn with a pen rather than outlined by a type designer. ``GlyphParts``
holds what rendering needs to imitate both, worked out once per character and font:

- the glyph's ink split into its jamo: connected components of the ink, each given to
  the part whose usual place (from the syllable's layout, see ``jamo``) is nearest its
  centre, so that each part can be moved on its own;
- each part's skeleton (the strokes thinned to one pixel) and, for every pixel, how far
  the nearest skeleton pixel is and which one it is, so that a pen of any width and
  pressure redraws the strokes with a few array lookups instead of a drawing per sample;
- how far each pixel is from a stroke's end, where a brush pen tapers.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

from . import jamo

#: Where each part's centre usually lies in the ink box, (x, y) as shares of its width
#: and height, by layout and by whether the syllable has a final consonant.
PART_PLACES = {
    ("vertical", False): ((0.3, 0.5), (0.8, 0.5)),
    ("vertical", True): ((0.3, 0.3), (0.8, 0.35), (0.5, 0.82)),
    ("horizontal", False): ((0.5, 0.28), (0.5, 0.78)),
    ("horizontal", True): ((0.5, 0.2), (0.5, 0.55), (0.5, 0.85)),
    ("combined", False): ((0.3, 0.28), (0.6, 0.7)),
    ("combined", True): ((0.3, 0.2), (0.6, 0.5), (0.5, 0.85)),
}
#: Ink at least this strong (of 1) belongs to the glyph's shape.
INK_LEVEL = 0.5


@dataclass(frozen=True)
class GlyphParts:
    """A drawing's ink split into parts, with what a pen needs to redraw each.

    Arrays are (parts, rows, columns) over the drawing, in its pixels.
    """

    masks: np.ndarray  # float32: 1 where the pixel (of any stroke weight) belongs to the part
    centres: np.ndarray  # (parts, 2): each part's ink centre, x and y
    skeleton_distance: np.ndarray  # float32: distance to the part's nearest skeleton pixel
    nearest: np.ndarray  # intp: flat index of that skeleton pixel
    end_distance: np.ndarray  # float32 (rows, columns): distance to the nearest stroke end
    stroke_radius: float  # the font's typical half stroke width

    @property
    def count(self) -> int:
        return len(self.masks)


def split_parts(ink: np.ndarray, char: str) -> GlyphParts:
    """Take the drawing ``ink`` (float, 0..1, the glyph bright) of ``char`` apart.

    A character that is not a Hangul syllable, or whose ink is one connected shape, is
    one part.
    """
    shape = ink > INK_LEVEL
    components, count = ndimage.label(shape, structure=np.ones((3, 3), bool))
    part_of = np.zeros(count + 1, np.intp)  # component -> part; background stays 0
    syllable = jamo.decompose(char)
    if syllable is not None and count > 1:
        rows, cols = np.nonzero(shape)
        top, left = rows.min(), cols.min()
        height, width = rows.max() - top + 1, cols.max() - left + 1
        places = np.array(PART_PLACES[syllable.layout, syllable.final > 0])
        centres = ndimage.center_of_mass(shape, components, range(1, count + 1))
        for number, (row, col) in enumerate(centres, start=1):
            where = np.array([(col - left) / width, (row - top) / height])
            part_of[number] = 1 + np.argmin(np.square(places - where).sum(axis=1))
    else:
        part_of[1:] = 1
    labels = part_of[components]
    used = [part for part in range(1, labels.max() + 1) if (labels == part).any()]
    # Every pixel (faint edges, and what a bolder stroke adds) goes with its nearest part.
    _, (near_rows, near_cols) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
    owner = labels[near_rows, near_cols]
    skeleton = skeletonize(shape)
    stroke_radius = float(np.median(ndimage.distance_transform_edt(shape)[skeleton]))
    masks, centres, distances, nearest = [], [], [], []
    for part in used:
        masks.append((owner == part).astype(np.float32))
        rows, cols = np.nonzero(labels == part)
        centres.append((cols.mean(), rows.mean()))
        bones = skeleton & (labels == part)
        if not bones.any():  # a speck thinner than the skeleton keeps its centre
            bones[round(rows.mean()), round(cols.mean())] = True
        distance, (bone_rows, bone_cols) = ndimage.distance_transform_edt(
            ~bones, return_indices=True
        )
        distances.append(distance.astype(np.float32))
        nearest.append(bone_rows * ink.shape[1] + bone_cols)
    return GlyphParts(
        masks=np.stack(masks),
        centres=np.array(centres, np.float32),
        skeleton_distance=np.stack(distances),
        nearest=np.stack(nearest),
        end_distance=_end_distance(skeleton),
        stroke_radius=max(stroke_radius, 1.0),
    )


def _end_distance(skeleton: np.ndarray) -> np.ndarray:
    """How far each pixel is from the nearest end of a stroke (a skeleton pixel with one
    neighbour); infinitely far without any."""
    neighbours = (
        ndimage.convolve(skeleton.astype(np.int8), np.ones((3, 3), np.int8), mode="constant") - 1
    )
    ends = skeleton & (neighbours == 1)
    if not ends.any():
        return np.full(skeleton.shape, np.inf, np.float32)
    return ndimage.distance_transform_edt(~ends).astype(np.float32)


def pen_strokes(
    parts: GlyphParts,
    radius: np.ndarray,
    pressure: np.ndarray,
    taper: np.ndarray,
    softness: float = 1.0,
) -> np.ndarray:
    """The parts' strokes redrawn with a round pen: float32 (samples, parts, rows, columns).

    ``radius`` (samples,) is each pen's half width in drawing pixels; ``pressure``
    (samples, rows, columns) multiplies it where the pen passes; ``taper`` (samples,) is
    how many pen radii before a stroke's end the pen starts to lift (0: it does not).
    Each pixel takes the width the pen had at its nearest skeleton pixel, and the edge
    falls off over ``softness`` pixels.
    """
    widths = radius[:, None, None] * pressure
    lifting = taper[:, None, None] * radius[:, None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(lifting > 0, parts.end_distance / lifting, 1.0)
    widths = widths * np.sqrt(np.clip(lift, 0.3, 1.0))
    flat = widths.reshape(len(widths), -1)
    strokes = (flat[:, parts.nearest] - parts.skeleton_distance) / softness + 0.5
    return np.clip(strokes, 0.0, 1.0)
