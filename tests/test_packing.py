"""pack_images: many files into one deterministic .npy, unusable files masked, memory bounded."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from PIL import Image

from gzmorph.data import packing
from gzmorph.data.decoding import load_galaxy
from gzmorph.data.packing import drop_unusable_rows, pack_images, read_images
from gzmorph.errors import GzmorphError
from helpers import galaxy_images

SIZE = 16
CROP = 207


def write_galaxies(folder, count: int, side: int = 424) -> list:
    """Distinct JPEGs (brightness follows the index) so a row out of order would show."""
    rng = np.random.default_rng(0)
    images, _ = galaxy_images(np.full(count, side / 8), side, peak=5 + np.arange(count) * 2 % 250,
                              sky=rng.integers(0, 40, (count, side, side, 3)))
    paths = [folder / f"{100000 + index}.jpg" for index in range(count)]
    for image, path in zip(images, paths):
        Image.fromarray(image).save(path, quality=90)
    return paths


@pytest.fixture
def galaxies(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    return write_galaxies(folder, 40)


def test_packed_rows_are_the_decoded_images_in_order(galaxies, tmp_path):
    out_file = tmp_path / "train.npy"
    packed = pack_images(galaxies, out_file, CROP, SIZE, workers=2)
    images = read_images(out_file)
    assert images.shape == (40, SIZE, SIZE, 3) and images.dtype == np.uint8
    assert packed.usable.all() and packed.problems == []
    for index in (0, 17, 39):
        np.testing.assert_array_equal(images[index], load_galaxy(galaxies[index], CROP, SIZE))


def test_packing_twice_gives_identical_bytes(galaxies, tmp_path):
    galaxies[5].write_bytes(b"")
    first, second = tmp_path / "first.npy", tmp_path / "second.npy"
    pack_images(galaxies, first, CROP, SIZE, workers=2)
    pack_images(galaxies, second, CROP, SIZE, workers=1)
    assert first.read_bytes() == second.read_bytes()


def test_unusable_files_are_masked_with_their_reasons(galaxies, tmp_path):
    galaxies[3].write_bytes(b"not a jpeg at all")
    galaxies[20].write_bytes(galaxies[21].read_bytes()[:500])
    out_file = tmp_path / "val.npy"
    packed = pack_images(galaxies, out_file, CROP, SIZE, workers=2)
    assert np.flatnonzero(~packed.usable).tolist() == [3, 20]
    assert [index for index, _ in packed.problems] == [3, 20]
    assert all(str(galaxies[index]) in reason for index, reason in packed.problems)
    images = read_images(out_file)
    assert not images[3].any() and not images[20].any()
    assert images[2].any() and images[21].any()


def test_dropping_unusable_rows_keeps_the_rest_in_order(galaxies, tmp_path):
    galaxies[0].write_bytes(b"")
    galaxies[33].write_bytes(b"")
    out_file = tmp_path / "test.npy"
    packed = pack_images(galaxies, out_file, CROP, SIZE, workers=2)
    full = np.array(read_images(out_file))
    drop_unusable_rows(out_file, packed.usable)
    np.testing.assert_array_equal(read_images(out_file), full[packed.usable])
    assert not list(tmp_path.glob("*.compacting"))


def test_dropping_with_small_windows_crosses_window_edges(galaxies, tmp_path, monkeypatch):
    monkeypatch.setattr(packing, "WINDOW_BYTES", 7 * SIZE * SIZE * 3)
    for index in (1, 6, 7, 13, 39):
        galaxies[index].write_bytes(b"")
    out_file = tmp_path / "windows.npy"
    packed = pack_images(galaxies, out_file, CROP, SIZE, workers=1)
    full = np.array(read_images(out_file))
    drop_unusable_rows(out_file, packed.usable)
    np.testing.assert_array_equal(read_images(out_file), full[packed.usable])


def test_everything_unusable_leaves_an_empty_array(tmp_path):
    paths = [tmp_path / "a.jpg", tmp_path / "b.jpg"]
    for path in paths:
        path.write_bytes(b"")
    out_file = tmp_path / "none.npy"
    packed = pack_images(paths, out_file, CROP, SIZE, workers=1)
    drop_unusable_rows(out_file, packed.usable)
    assert read_images(out_file).shape == (0, SIZE, SIZE, 3)


def test_rows_are_written_through_the_memory_map_not_held_in_memory(tmp_path, monkeypatch):
    """tracemalloc sees numpy's heap allocations but not mapped file pages: the array never sits in memory.

    What remains on the heap is the results the pool has handed back but the loop has not yet
    written, a handful at any time, however many images there are.
    """
    size = 128
    paths = write_galaxies(tmp_path, 400, side=64)
    monkeypatch.setattr(packing, "WINDOW_BYTES", 4 * size * size * 3)
    out_file = tmp_path / "big.npy"
    tracemalloc.start()
    pack_images(paths, out_file, CROP, size, workers=1)
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    array_bytes = len(paths) * size * size * 3
    assert out_file.stat().st_size >= array_bytes
    assert peak_bytes < array_bytes / 4


def test_a_writer_window_covers_only_part_of_the_file(galaxies, tmp_path, monkeypatch):
    monkeypatch.setattr(packing, "WINDOW_BYTES", 10 * SIZE * SIZE * 3)
    out_file = tmp_path / "w.npy"
    packing.create_array(out_file, (40, SIZE, SIZE, 3))
    with packing.RowWriter(out_file) as writer:
        writer.write(25, np.full((SIZE, SIZE, 3), 7, np.uint8))
        assert writer.window.shape[0] == 10
    assert (read_images(out_file)[25] == 7).all()


def test_missing_packed_file_says_which_stage_makes_it(tmp_path):
    with pytest.raises(GzmorphError, match="split"):
        read_images(tmp_path / "train.npy")


def test_zero_workers_is_a_user_error(galaxies, tmp_path):
    with pytest.raises(GzmorphError, match="workers"):
        pack_images(galaxies, tmp_path / "x.npy", CROP, SIZE, workers=0)
