"""Dependency audit for CI: pip-audit over requirements.txt against PyPI's advisory data.

Fails (exit 1) when any pinned package has a known vulnerability that is not listed in
.ci/audit-ignore.txt (one advisory id per line, with a comment saying why). If the advisory
service cannot be reached the audit is reported as skipped, not passed.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

root = Path(__file__).resolve().parent.parent
ignore_file = root / ".ci" / "audit-ignore.txt"
ignored = set()
if ignore_file.exists():
    ignored = {ln.split("#")[0].strip() for ln in ignore_file.read_text().splitlines() if ln.split("#")[0].strip()}
out = Path(tempfile.mkdtemp()) / "audit.json"
cmd = [sys.executable, "-m", "pip_audit", "-r", str(root / "requirements.txt"), "--no-deps", "--disable-pip",
       "--progress-spinner", "off", "-f", "json", "-o", str(out)]
proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
if not out.exists():
    print("dependency audit SKIPPED: advisory service unreachable\n" + proc.stderr[-2000:])
    sys.exit(0)
data = json.loads(out.read_text())
bad = []
for dep in data.get("dependencies", []):
    for v in dep.get("vulns", []):
        ids = {v["id"], *v.get("aliases", [])}
        if not ids & ignored:
            fix = ", ".join(v.get("fix_versions", [])) or "none"
            bad.append(f"{dep['name']}=={dep['version']}: {v['id']} (fix: {fix})")
print(f"dependency audit: {len(data.get('dependencies', []))} packages checked, {len(bad)} unignored advisories")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
