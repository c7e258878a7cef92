"""`station passes qr`: the QR the station prints, as PNG and SVG, read back by the station."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

from tests.conftest import StationCLI


def _create(cli: StationCLI) -> dict[str, object]:
    made = cli("passes", "create", "--name", "Ada <Lovelace>", "--type", "multi", "--max-uses", "3",
               "--valid-from", "2026-06-01T18:00:00Z", "--valid-until", "2099-12-31T23:00:00Z",
               "--json")
    created: dict[str, object] = json.loads(made.stdout)
    return created


def test_png_reads_back_as_the_pass_url(cli: StationCLI, tmp_path: Path) -> None:
    p = _create(cli)
    out = tmp_path / "ada.png"
    wrote = cli("passes", "qr", str(p["code"]), "--out", str(out))
    assert "QR version 7" in wrote.stdout or "QR version 6" in wrote.stdout, wrote.stdout
    read = cli("decode", "--json", str(out))
    texts = [c["text"] for c in json.loads(read.stdout)["codes"]]
    # The QR holds publicUrl with its prefix in upper case (alphanumeric mode: a smaller code).
    url = str(p["publicUrl"])
    prefix, _, digits = url.rpartition("/")
    assert texts == [f"{prefix.upper()}/{digits}"]
    # …and the text it holds scans as that pass.
    scan = json.loads(cli("scan", texts[0], "--json").stdout)
    assert scan["verdict"] == "accepted" and scan["pass"]["code"] == p["code"]


def test_svg_holds_the_qr_name_and_code(cli: StationCLI, tmp_path: Path) -> None:
    p = _create(cli)
    out = tmp_path / "ada.svg"
    cli("passes", "qr", str(p["id"]), "--out", str(out))
    root = ElementTree.parse(out).getroot()
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["Ada <Lovelace>", p["code"]]
    assert any(e.get("class") == "qrline" for e in root.iter("{http://www.w3.org/2000/svg}path"))


def test_a_bad_file_name_or_unknown_pass_writes_nothing(cli: StationCLI, tmp_path: Path) -> None:
    p = _create(cli)
    bad = cli("passes", "qr", str(p["code"]), "--out", str(tmp_path / "ada.pdf"), check=False)
    assert bad.returncode == 2 and ".png or .svg" in bad.stderr and "Traceback" not in bad.stderr
    unknown = cli("passes", "qr", "ZZZZ2345ZZZZ", "--out", str(tmp_path / "x.png"), check=False)
    assert unknown.returncode == 2 and "No pass" in unknown.stderr
    nowhere = cli("passes", "qr", str(p["code"]), "--out", str(tmp_path / "missing" / "x.png"),
                  check=False)
    assert nowhere.returncode == 2 and "Could not write" in nowhere.stderr
    assert "Traceback" not in nowhere.stderr
    assert sorted(q.name for q in tmp_path.iterdir()) == ["data", "data-config"] or \
        not any(q.suffix in (".png", ".svg", ".pdf") for q in tmp_path.iterdir())
