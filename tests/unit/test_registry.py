import threading
import time

import pytest

from backend.config import ConfigError
from backend.registry import ModelEntry, ModelUnavailable, Registry, parse_models_toml

CALLS = []


class SlowThing:
    def __init__(self, entry, device):
        CALLS.append(entry.name)
        time.sleep(0.2)
        self.device = device


class Broken:
    def __init__(self, entry, device):
        raise RuntimeError("weights are garbage")


def test_shipped_config_parses():
    from backend.config import REPO_ROOT

    entries = parse_models_toml(REPO_ROOT / "models.toml")
    assert {"lite0-imagenet", "minilm-l6", "pp-ocrv4"} <= {e.name for e in entries}


def test_broken_toml_names_line(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text('[[models]]\nname = "a"\ncapability = \n')
    with pytest.raises(ConfigError, match="line 3"):
        parse_models_toml(p)


def test_missing_fields_and_bad_kind(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text('[[models]]\nname = "a"\ncapability = "x"\nkind = "magic"\nfactory = "m:f"\n')
    with pytest.raises(ConfigError, match="line 2.*kind"):
        parse_models_toml(p)
    p.write_text('[[models]]\nname = "a"\n')
    with pytest.raises(ConfigError, match="missing capability"):
        parse_models_toml(p)


def test_lazy_load_once_thread_safe():
    CALLS.clear()
    reg = Registry([ModelEntry("slow", "test", "embedded", f"{__name__}:SlowThing")], device="cpu")
    assert CALLS == []  # nothing loads at construction
    out = []
    threads = [threading.Thread(target=lambda: out.append(reg.get("slow"))) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert CALLS == ["slow"] and len({id(o) for o in out}) == 1
    row = reg.status()[0]
    assert row["loaded"] and row["load_time_s"] >= 0.2 and row["device"] == "cpu"


def test_missing_checkpoint_is_status_not_crash(tmp_path):
    reg = Registry([ModelEntry("big", "pointing", "checkpoint", f"{__name__}:SlowThing", path=str(tmp_path / "none"))])
    ok, why = reg.availability("big")
    assert not ok and "weights not found" in why
    with pytest.raises(ModelUnavailable, match="weights not found"):
        reg.get("big")
    assert reg.status()[0]["available"] is False


def test_failed_load_recorded():
    reg = Registry([ModelEntry("bad", "x", "embedded", f"{__name__}:Broken")])
    with pytest.raises(ModelUnavailable, match="garbage"):
        reg.get("bad")
    assert "garbage" in reg.status()[0]["detail"]
    with pytest.raises(ModelUnavailable):
        reg.get("nope")
