"""Sharing through a real S3 remote: push the tiny pipeline's outputs to SeaweedFS, clone afresh, pull, and
get the same pipeline state and the same models' predictions, without training anything."""
import numpy as np
import pytest

from gzmorph.inference.captioning import encode_images, generate_captions
from gzmorph.models.files import CaptionerRecord, ClassifierRecord, load_model
from helpers import UP_TO_DATE, run


def use_s3_remote(root, server) -> None:
    """What the README asks of each user: the team's remote as default, their keys in .dvc/config.local."""
    for setting in (["default", "seaweedfs"], ["modify", "seaweedfs", "endpointurl", server["endpoint"]],
                    ["modify", "seaweedfs", "url", f"s3://{server['bucket']}/dvc"],
                    ["modify", "seaweedfs", "access_key_id", server["key"]],
                    ["modify", "seaweedfs", "secret_access_key", server["secret"]]):
        run(["dvc", "remote", setting[0], "--local", *setting[1:]], root)


def predictions(root, n_images: int = 4) -> tuple[dict, list[str]]:
    """The classifier's outputs and the captioner's beam-search captions for the first test images."""
    classifier = load_model(root / "models/classifier", ClassifierRecord)
    captioner = load_model(root / "models/captioner", CaptionerRecord)
    images = np.load(root / "data/processed/test_images.npy", mmap_mode="r")[:n_images]
    outputs = classifier.model.predict(images, verbose=0)
    captions = generate_captions(captioner.model, encode_images(classifier.model, images, tta=False),
                                 captioner.record.vocab, captioner.record.max_len, beam_width=3,
                                 length_penalty=1.0)  # 0 ends a one-epoch decoder's captions at once
    return outputs, captions


@pytest.mark.slow
def test_push_then_a_fresh_clone_pulls_the_same_models(tiny_baseline, s3_server, tmp_path):
    origin = tiny_baseline
    before = predictions(origin)
    use_s3_remote(origin, s3_server)
    assert "files pushed" in run(["dvc", "push"], origin)
    assert "in sync" in run(["dvc", "status", "--cloud"], origin)

    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(origin), str(clone)], tmp_path)
    assert not (clone / "models/classifier").exists()
    use_s3_remote(clone, s3_server)
    run(["dvc", "pull"], clone)

    assert run(["dvc", "status"], clone).strip().endswith(UP_TO_DATE)
    log = run(["dvc", "repro"], clone)
    assert "Running stage" not in log and log.strip().endswith(UP_TO_DATE)
    (outputs, captions), (outputs_before, captions_before) = predictions(clone), before
    assert outputs.keys() == outputs_before.keys()
    for name in outputs:
        np.testing.assert_array_equal(outputs[name], outputs_before[name])
    assert captions == captions_before and len(captions) == 4 and all(captions)


@pytest.mark.slow
def test_the_server_serves_only_with_its_keys(tiny_baseline, s3_server, tmp_path):
    """The remote is a real, authenticated S3 endpoint, not an open folder."""
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(tiny_baseline), str(clone)], tmp_path)
    use_s3_remote(clone, {**s3_server, "secret": "wrong" * 8})
    log = run(["dvc", "pull"], clone, ok=False)
    assert "(403)" in log and "failed to pull" in log
