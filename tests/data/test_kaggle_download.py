"""`ferkit data download`: the official Kaggle client's failures become one-line fixes; downloads unpack."""

from __future__ import annotations

import json
import tarfile
import zipfile

import pytest
import requests

from ferkit.data import kaggle_download
from ferkit.data.kaggle_download import KaggleSetupError, download_fer2013
from tests.conftest import write_fer2013_csv


@pytest.fixture
def no_credentials(tmp_path, monkeypatch):
    """The real client, looking for credentials in an empty home (it fixes its folder at import)."""
    api_class = type(kaggle_download._make_api())
    config_dir = tmp_path / "home" / ".kaggle"
    config_dir.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(api_class, "config_dir", str(config_dir))
    monkeypatch.setattr(api_class, "config", str(config_dir / "kaggle.json"))
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_CONFIG_DIR"):
        monkeypatch.delenv(var, raising=False)


def test_real_client_without_credentials(tmp_path, no_credentials):
    with pytest.raises(KaggleSetupError, match=r"no Kaggle credentials: save kaggle\.json"):
        download_fer2013(tmp_path / "dl")


def test_real_client_without_network(tmp_path, no_credentials, monkeypatch):
    kaggle_json = tmp_path / "home" / ".kaggle" / "kaggle.json"
    kaggle_json.write_text(json.dumps({"username": "someone", "key": "0" * 32}))
    kaggle_json.chmod(0o600)
    # A proxy on a closed loopback port: the client's request fails here as it would offline.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    with pytest.raises(KaggleSetupError, match=r"cannot reach kaggle\.com"):
        download_fer2013(tmp_path / "dl")


class FakeApi:
    """Stands in for KaggleApi after authentication; `fail` is raised by the download."""

    def __init__(self, fail=None, payload=None):
        self.fail, self.payload = fail, payload

    def authenticate(self):
        pass

    def competition_download_files(self, competition, path, quiet):
        assert competition == kaggle_download.COMPETITION
        if self.fail:
            raise self.fail
        self.payload(path)


def http_error(status):
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(f"{status} Client Error", response=response)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(403, "accept the competition rules at https://www.kaggle.com/c/"), (401, "rejected the credentials")],
)
def test_http_refusals_say_what_to_do(tmp_path, monkeypatch, status, expected):
    monkeypatch.setattr(kaggle_download, "_make_api", lambda: FakeApi(fail=http_error(status)))
    with pytest.raises(KaggleSetupError, match=expected):
        download_fer2013(tmp_path)


def test_download_is_unpacked_to_the_csv(tmp_path, monkeypatch, faces):
    def payload(dest):
        csv_path = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
        with tarfile.open(tmp_path / "fer2013.tar.gz", "w:gz") as tf:
            tf.add(csv_path, arcname="fer2013/fer2013.csv")
        with zipfile.ZipFile(f"{dest}/{kaggle_download.COMPETITION}.zip", "w") as zf:
            zf.write(tmp_path / "fer2013.tar.gz", "fer2013.tar.gz")
            zf.writestr("icml_face_data.csv", "emotion, Usage, pixels\n")

    monkeypatch.setattr(kaggle_download, "_make_api", lambda: FakeApi(payload=payload))
    csv_path = download_fer2013(tmp_path / "dl")
    assert csv_path == tmp_path / "dl" / "fer2013" / "fer2013.csv"
    assert csv_path.read_text() == (tmp_path / "fer2013.csv").read_text()


def test_archive_escaping_the_folder_is_refused(tmp_path, monkeypatch):
    def payload(dest):
        with zipfile.ZipFile(f"{dest}/x.zip", "w") as zf:
            zf.writestr("../evil.csv", "x")

    monkeypatch.setattr(kaggle_download, "_make_api", lambda: FakeApi(payload=payload))
    with pytest.raises(Exception, match="points outside the folder"):
        download_fer2013(tmp_path / "dl")
    assert not (tmp_path / "evil.csv").exists()
