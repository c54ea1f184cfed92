"""review17: the anomaly results CSV quotes file names a spreadsheet would run as formulas."""
from __future__ import annotations

import csv
import io

from backend.anomaly.exports import results_csv


def test_formula_like_file_names_are_written_as_text():
    """Upload names keep `=`, `+`, `-`, `@` (Gradio's upload route stores `=HYPERLINK(a)+@x-1.png` as is), and the
    CSV wrote them raw: a file someone sent you ran as a formula when the export was opened in a spreadsheet."""
    names = ['=HYPERLINK("http://x.example","y").png', "+1+2.png", "-3.png", "@SUM(A1).png", "\tcmd.png", "ok.png"]
    rows = [{"file": n, "score": -0.25, "verdict": "anomalous", "prompt": "=cmd|' /C calc'!A0.png"} for n in names]
    got = list(csv.DictReader(io.StringIO(results_csv(rows))))
    assert [r["file"] for r in got] == ["'" + n for n in names[:-1]] + ["ok.png"]
    assert {r["prompt"] for r in got} == {"'=cmd|' /C calc'!A0.png"}
    assert {r["score"] for r in got} == {"-0.25"}  # numbers stay numbers
