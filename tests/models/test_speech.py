"""Speech-to-text with the packaged Whisper tiny.en: recall, resampling, silence, bad input."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from models.config import SpeechConfig
from models.errors import BadInput, ModelUnavailable
from models.registry import CATALOGUE, packaged_path
from models.speech import SAMPLE_RATE, WhisperTranscriber, load_audio, load_speech

from .conftest import SENTENCE, word_recall


@pytest.fixture(scope="module")
def stt() -> WhisperTranscriber:
    return load_speech(SpeechConfig(device="cpu"))


def _sox(src: Path, dst: Path, *args: str) -> Path:
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed (apt-get install sox)")
    subprocess.run(["sox", str(src), *args, str(dst)], check=True)
    return dst


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def test_recovers_most_words_of_spoken_sentence(stt, speech_wav):
    result = stt.transcribe(speech_wav)
    assert word_recall(SENTENCE, result.text) >= 0.75, result.text
    assert result.language == "en"
    assert result.segments and result.segments[0].start >= 0
    assert result.segments[-1].end <= result.duration + 0.5


def test_8khz_stereo_file(stt, speech_wav, tmp_path):
    path = _sox(speech_wav, tmp_path / "phone.wav", "-r", "8000", "-c", "2")
    assert word_recall(SENTENCE, stt.transcribe(path).text) >= 0.6


def test_float32_wav_file(stt, speech_wav, tmp_path):
    path = _sox(speech_wav, tmp_path / "float.wav", "-e", "floating-point", "-b", "32")
    assert word_recall(SENTENCE, stt.transcribe(path).text) >= 0.75


def test_array_input_stereo_int16_at_other_rate(stt, speech_wav):
    mono16k = load_audio(speech_wav)
    assert mono16k.dtype == np.float32
    step = np.arange(0, mono16k.size, 2)  # 8 kHz
    stereo = np.stack([mono16k[step], mono16k[step]], axis=1)
    as_int16 = (stereo * 32767).astype(np.int16)
    result = stt.transcribe(as_int16, sample_rate=8000)
    assert word_recall(SENTENCE, result.text) >= 0.6, result.text
    assert abs(result.duration - mono16k.size / SAMPLE_RATE) < 0.05


def test_silent_file_gives_empty_transcript(stt, tmp_path):
    path = _write_wav(tmp_path / "silence.wav", np.zeros(3 * SAMPLE_RATE), SAMPLE_RATE)
    result = stt.transcribe(path)
    assert result.segments == () and result.text == ""
    assert result.duration == pytest.approx(3.0, abs=0.01)


def test_faint_noise_is_filtered_by_vad(stt):
    noise = np.random.default_rng(1).normal(0, 0.002, 4 * SAMPLE_RATE).astype(np.float32)
    assert stt.transcribe(noise).segments == ()


def test_empty_array(stt):
    assert stt.transcribe(np.zeros(0, dtype=np.float32)).segments == ()


def test_non_audio_file(stt, tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("definitely not audio\n" * 50)
    with pytest.raises(BadInput, match="not a readable audio file"):
        stt.transcribe(path)


def test_image_file_as_audio(stt, tmp_path):
    from PIL import Image

    path = tmp_path / "picture.png"
    Image.new("RGB", (64, 64), "red").save(path)
    with pytest.raises(BadInput):
        stt.transcribe(path)


def test_missing_file(stt, tmp_path):
    with pytest.raises(BadInput, match="no such audio file"):
        stt.transcribe(tmp_path / "absent.wav")


@pytest.mark.parametrize(
    "bad",
    [
        np.full(16000, np.nan, dtype=np.float32),
        np.zeros((2, 3, 4), dtype=np.float32),
        np.zeros(16000, dtype=np.int64),
    ],
)
def test_malformed_arrays(stt, bad):
    with pytest.raises(BadInput):
        stt.transcribe(bad)


def test_truncated_model_file_is_unavailable(tmp_path):
    source = packaged_path(CATALOGUE["whisper-tiny.en"])
    assert source is not None
    broken = tmp_path / "tiny-broken"
    shutil.copytree(source, broken)
    data = (broken / "model.bin").read_bytes()
    (broken / "model.bin").write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelUnavailable, match="cannot be loaded"):
        load_speech(SpeechConfig(path=str(broken), device="cpu"))


def test_missing_configured_path_is_unavailable(tmp_path):
    with pytest.raises(ModelUnavailable, match="does not exist"):
        load_speech(SpeechConfig(path=str(tmp_path / "nowhere")))
