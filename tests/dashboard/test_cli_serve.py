"""``reawaken serve``: loopback by default; any other address gets a token, printed, and the app requires it."""

from __future__ import annotations

import pytest

from reawaken.cli.main import main


@pytest.fixture()
def started(monkeypatch):
    import uvicorn

    calls = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: calls.update(app=app, host=host, port=port))
    return calls


def test_loopback_by_default_without_token(started, capsys, tmp_path):
    assert main(["serve", "--data-dir", str(tmp_path), "--sim-processes", "0"]) == 0
    out = capsys.readouterr().out
    assert started["host"] == "127.0.0.1" and started["port"] == 8765
    assert "http://127.0.0.1:8765/ " in out and "token" not in out
    assert started["app"].state.settings.token is None


def test_beyond_loopback_prints_a_token_the_app_requires(started, capsys, tmp_path):
    from fastapi.testclient import TestClient

    assert main(["serve", "--host", "0.0.0.0", "--port", "9000", "--data-dir", str(tmp_path),
                 "--sim-processes", "0"]) == 0
    out = capsys.readouterr().out
    token = started["app"].state.settings.token
    assert token and len(token) >= 24 and f"?token={token}" in out
    with TestClient(started["app"]) as c:
        assert c.get("/api/health").status_code == 401
        assert c.get("/api/health", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize("argv", [["serve", "--port", "0"], ["serve", "--port", "70000"],
                                  ["serve", "--max-cohort-n", "0"], ["serve", "--sim-processes", "-1"]])
def test_bad_options_fail_in_one_line(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
