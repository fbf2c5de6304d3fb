"""The dashboard's JSON API through FastAPI's TestClient: answers, refusals (4xx with a message that says what
is wrong), the server staying up after each refusal, jobs (cancel, resume, a crash reported as failed) and
downloads that cannot leave the job's tables."""

from __future__ import annotations

import time

import pytest

from reawaken.dashboard import Settings, create_app

SCENARIO = {"host": "mouse", "virus": "influenza", "days": 30}


def _wait(client, job_id, states=("finished", "failed", "cancelled"), timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout} s")


def test_options_come_from_the_registries(client):
    from reawaken.scenarios.interventions import REGISTRY

    o = client.get("/api/options").json()
    assert [i["name"] for i in o["interventions"]] == list(REGISTRY)
    anti = next(i for i in o["interventions"] if i["name"] == "anti-il6")
    assert {s["key"] for s in anti["settings"]} >= {"dose", "day"}
    assert "baseline" in o["arms"] and o["limits"]["max_cohort_n"] == 5000
    assert {t["id"] for t in o["target_overlays"]} <= {t["id"] for t in o["targets"]}


def test_an_intervention_changes_the_il6_curve(client):
    plain = client.post("/api/simulate", json=SCENARIO).json()
    treated = client.post("/api/simulate", json={**SCENARIO, "interventions": [{"name": "il6-ko"}]}).json()
    assert plain["series"].keys() == treated["series"].keys()
    assert {"virus", "il6", "cd4", "cd8", "dormant", "awakened", "primed"} <= set(plain["series"])
    assert len(plain["time_days"]) == len(plain["series"]["il6"]) <= 601
    assert max(treated["series"]["il6"]) < 0.01 * max(plain["series"]["il6"])  # the knockout makes no IL-6
    assert treated["label"].endswith("il6-ko")
    units = {s["name"]: s["unit"] for s in plain["species"]}
    assert units["il6"] == "pg/mL"


def test_a_second_infection_is_scheduled(client):
    two = client.post("/api/simulate", json={**SCENARIO, "days": 90, "infection_days": [0, 60]}).json()
    assert two["infection_days"] == [0.0, 60.0]
    late = [v for t, v in zip(two["time_days"], two["series"]["virus"]) if 61 <= t <= 65]
    assert max(late) > 1.0  # virus rises again after day 60


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"host": "cat"}, 400, "unknown host 'cat'"),
    ({"virus": "ebola"}, 400, "unknown virus"),
    ({"days": -5}, 422, "days"),
    ({"days": 1e9}, 422, "days"),
    ({"infection_days": [0, -1]}, 422, "infection_days"),
    ({"interventions": [{"name": "magic"}]}, 400, "unknown intervention 'magic'"),
    ({"interventions": [{"name": "anti-il6", "settings": {"dose": -1}}]}, 400, "dose must be > 0"),
    ({"interventions": [{"name": "anti-il6", "settings": {"dose": 1e6}}]}, 400, "implausible"),
    ({"interventions": [{"name": "anti-il6", "settings": {"dose=1,day": 1}}]}, 422, "not a plain key"),
    ({"interventions": [{"name": "anti-il6:dose=1"}]}, 422, "not an intervention name"),
    ({"interventons": []}, 422, "interventons"),
])
def test_bad_scenarios_get_a_clear_4xx_and_the_server_stays_up(client, body, status, words):
    r = client.post("/api/simulate", json={**SCENARIO, **body})
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]
    assert client.get("/api/health").json() == {"ok": True}


def test_malformed_json_and_oversized_bodies(client):
    r = client.post("/api/simulate", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    r = client.post("/api/simulate", content=b"[" + b"0," * 200_000 + b"0]",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and "larger than" in r.json()["detail"]
    r = client.post("/api/simulate")
    assert r.status_code == 422 and "JSON body" in r.json()["detail"]


def test_cohort_size_limit_and_unknown_arms_are_refused_before_queueing(client):
    r = client.post("/api/jobs", json={"n": 5001})
    assert r.status_code == 400 and "more than this server allows (5,000)" in r.json()["detail"]
    r = client.post("/api/jobs", json={"n": 10, "arms": ["baseline", "placebo"]})
    assert r.status_code == 400 and "unknown arm 'placebo'" in r.json()["detail"]
    r = client.post("/api/jobs", json={"n": 10, "overrides": {"people": {"age_mean": 500}}})
    assert r.status_code == 400 and "age_mean" in r.json()["detail"]
    r = client.post("/api/jobs", json={"n": 10, "overrides": {"nonsense": {"x": 1}}})
    assert r.status_code == 400 and "nonsense" in r.json()["detail"]
    assert client.get("/api/jobs").json() == []  # nothing was queued


def test_cohort_job_runs_and_offers_safe_downloads(client):
    job = client.post("/api/jobs", json={"n": 400, "years": 2, "arms": ["baseline", "no-infection"],
                                         "chunks": 4}).json()
    assert client.get(f"/api/jobs/{job['id']}/results").status_code in (409, 200)
    done = _wait(client, job["id"])
    assert done["state"] == "finished" and done["done"] == done["total"] == 4
    res = client.get(f"/api/jobs/{job['id']}/results").json()
    arm = res["curves"]["arms"]["baseline"]
    assert len(arm["risk"]) == len(res["curves"]["years"])
    assert all(lo <= r <= hi for lo, r, hi in zip(arm["low"], arm["risk"], arm["high"]))
    assert res["summary"]["arms"]["no-infection"]["infections"] == 0
    csv = client.get(f"/api/jobs/{job['id']}/files/arms.csv")
    assert csv.status_code == 200 and csv.text.startswith("arm,")
    assert csv.headers["content-disposition"] == f'attachment; filename="reawaken-{job["id"]}-arms.csv"'
    for name in ("..%2F..%2Fetc%2Fpasswd", "../../etc/passwd", "%2e%2e", "run.json", "arms.csv%00.txt", "ARMS.csv"):
        r = client.get(f"/api/jobs/{job['id']}/files/{name}")
        assert 400 <= r.status_code < 500, name
        assert "root:" not in r.text and r.json()["detail"]
    r = client.get("/api/jobs/nope/files/arms.csv")
    assert r.status_code == 404 and "no job" in r.json()["detail"]


def test_cancel_then_resume_keeps_finished_chunks(client):
    job = client.post("/api/jobs", json={"n": 2000, "years": 3, "arms": ["baseline"], "chunks": 40}).json()
    deadline = time.monotonic() + 60
    while client.get(f"/api/jobs/{job['id']}").json()["done"] < 2:  # a few chunks in
        assert time.monotonic() < deadline
        time.sleep(0.02)
    r = client.post(f"/api/jobs/{job['id']}/cancel")
    assert r.status_code == 200 and r.json()["state"] in ("cancelling", "cancelled")
    stopped = _wait(client, job["id"], ("cancelled", "finished"))
    assert stopped["state"] == "cancelled" and 0 < stopped["done"] < 40
    assert client.post(f"/api/jobs/{job['id']}/cancel").status_code == 409
    assert client.get(f"/api/jobs/{job['id']}/results").status_code == 409
    r = client.post(f"/api/jobs/{job['id']}/resume")
    assert r.status_code == 200
    done = _wait(client, job["id"])
    assert done["state"] == "finished" and done["attempts"] == 2 and done["done"] == 40
    res = client.get(f"/api/jobs/{job['id']}/results").json()
    assert res["summary"]["resumed"] is True  # the store resumed: finished chunks were not computed again
    assert client.post(f"/api/jobs/{job['id']}/resume").status_code == 409


def test_a_crashed_job_is_failed_never_finished(client, monkeypatch):
    import reawaken.api as api

    def boom(*args, **kwargs):
        kwargs["progress"](1, 3)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(api, "run_cohort", boom)
    job = client.post("/api/jobs", json={"n": 50, "years": 1}).json()
    failed = _wait(client, job["id"])
    assert failed["state"] == "failed" and "disk on fire" in failed["message"]
    r = client.get(f"/api/jobs/{job['id']}/results")
    assert r.status_code == 409 and "failed" in r.json()["detail"]
    assert client.get("/api/health").status_code == 200
    from fastapi.testclient import TestClient

    with TestClient(create_app(client.app.state.settings)) as again:  # a restart keeps it failed, not finished
        assert again.get(f"/api/jobs/{job['id']}").json()["state"] == "failed"


def test_the_job_store_is_bounded(tmp_path, registry_dir, monkeypatch):
    from fastapi.testclient import TestClient

    import reawaken.api as api

    release = __import__("threading").Event()
    monkeypatch.setattr(api, "run_cohort", lambda *a, **k: release.wait(30))
    app = create_app(Settings(data_dir=tmp_path, max_jobs=2, max_cohort_n=100, extra_hosts=("testserver",)))
    with TestClient(app) as c:
        ids = [c.post("/api/jobs", json={"n": 10}).json()["id"] for _ in range(2)]
        r = c.post("/api/jobs", json={"n": 10})
        assert r.status_code == 429 and "unfinished jobs" in r.json()["detail"]
        release.set()
        for i in ids:
            _wait(c, i)
        assert c.post("/api/jobs", json={"n": 10}).status_code == 202  # the oldest finished one makes room


def test_progress_streams_as_server_sent_events(client):
    job = client.post("/api/jobs", json={"n": 300, "years": 1, "chunks": 3, "arms": ["baseline"]}).json()
    with client.stream("GET", f"/api/jobs/{job['id']}/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        states = [line for line in r.iter_lines() if line.startswith("data:")]
    assert '"state": "finished"' in states[-1] and len(states) >= 2


def test_registry_folders_and_path_tricks(client):
    folders = client.get("/api/registry").json()["folders"]
    assert [f["name"] for f in folders] == ["planted-check"]
    r = client.get("/api/registry/planted-check").json()
    assert r["results"]["study"] == "planted-check" and r["results"]["planted"]
    assert set(r["km"]) and {"day", "survival", "ci_low", "ci_high", "at_risk"} <= set(next(iter(r["km"].values())))
    for name in ("..", "..%2F..%2Fetc", ".hidden", "nope", "a b"):
        resp = client.get(f"/api/registry/{name}")
        assert 400 <= resp.status_code < 500 and resp.json()["detail"], name


def test_risk_view_band_and_refusals(client):
    r = client.post("/api/risk", json={"n": 600, "age": 60, "subtype": "TNBC", "t_stage": "T2", "nodes": "N1-3"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["parameter_set"]["provenance"] and out["reference"] == "no-infection"
    for pts in out["outcomes"]["lung metastasis"].values():
        assert [p["years"] for p in pts] == [1.0, 3.0, 5.0]
        assert all(p["low"] <= p["risk"] <= p["high"] for p in pts)
        assert [p["events"] for p in pts] == sorted(p["events"] for p in pts)  # cumulative
    vacc = client.post("/api/risk", json={"n": 600, "vaccinated": True}).json()["outcomes"]["any distant relapse"]
    assert vacc["baseline"] == vacc["vaccinated"]  # a vaccinated survivor as she is = the fully vaccinated arm
    for body, words in [({"subtype": "ER+"}, "unknown subtype"), ({"age": 5}, "age"), ({"n": 10**6}, "more than"),
                        ({"virus": "none", "n": 600}, "unknown infecting virus")]:
        resp = client.post("/api/risk", json=body)
        assert 400 <= resp.status_code < 500 and words in resp.json()["detail"], body


def test_token_is_required_beyond_loopback(tmp_path):
    from fastapi.testclient import TestClient

    with pytest.raises(ValueError, match="token"):
        create_app(Settings(host="0.0.0.0"))
    app = create_app(Settings(host="0.0.0.0", token="s3cret", data_dir=tmp_path))
    with TestClient(app) as c:
        r = c.get("/api/health")
        assert r.status_code == 401 and "token" in r.json()["detail"]
        r = c.get("/api/health", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 403 and "wrong token" in r.json()["detail"]
        assert c.get("/api/health", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        page = c.get("/?token=s3cret")
        assert page.status_code == 200 and "reawaken_token" in page.headers["set-cookie"]
        assert c.get("/api/health").status_code == 200  # the cookie now carries it


def test_loopback_server_refuses_foreign_host_headers(client, tmp_path):
    from fastapi.testclient import TestClient

    for host in ("evil.example:8765", "127.0.0.1.evil.example", "127.0.0.1.evil.example:8765", "0.0.0.0"):
        r = client.get("/api/health", headers={"host": host})
        assert r.status_code == 403 and "loopback" in r.json()["detail"], host
    for host in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765", "127.0.0.2"):
        assert client.get("/api/health", headers={"host": host}).status_code == 200, host
    with TestClient(create_app(Settings(data_dir=tmp_path))) as plain:  # no test hosts: TestClient's own is refused
        assert plain.get("/api/health").status_code == 403


def test_docs_and_assets_are_local(client):
    spec = client.get("/openapi.json").json()
    assert "/api/simulate" in spec["paths"] and "/api/jobs/{job_id}/cancel" in spec["paths"]
    docs = client.get("/docs").text
    page = client.get("/").text
    for text in (docs, page, client.get("/static/app.js").text, client.get("/static/chart.js").text):
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text
    assert "default-src 'self'" in client.get("/").headers["content-security-policy"]


def test_scenarios_in_worker_processes_answer_and_refuse_alike(tmp_path):
    """With --sim-processes the use case runs in a spawned process: same answer, same 4xx for a bad name."""
    from fastapi.testclient import TestClient

    with TestClient(create_app(Settings(data_dir=tmp_path, sim_processes=1, extra_hosts=("testserver",)))) as c:
        r = c.post("/api/simulate", json={**SCENARIO, "host": "human"})
        assert r.status_code == 200 and r.json()["label"] == "human / influenza"
        r = c.post("/api/simulate", json={**SCENARIO, "interventions": [{"name": "magic"}]})
        assert r.status_code == 400 and "unknown intervention 'magic'" in r.json()["detail"]


def test_jobs_survive_a_server_restart(tmp_path):
    """A restarted server on the same --data-dir lists the old jobs: a finished one with its results, an
    interrupted one as cancelled, which resume finishes."""
    from fastapi.testclient import TestClient

    settings = Settings(data_dir=tmp_path, max_cohort_n=5000, extra_hosts=("testserver",))
    with TestClient(create_app(settings)) as c:
        done = c.post("/api/jobs", json={"n": 300, "years": 1, "chunks": 2, "arms": ["baseline"]}).json()
        _wait(c, done["id"])
        cut = c.post("/api/jobs", json={"n": 2000, "years": 3, "chunks": 40, "arms": ["baseline"]}).json()
        while c.get(f"/api/jobs/{cut['id']}").json()["done"] < 1:
            time.sleep(0.02)
        c.post(f"/api/jobs/{cut['id']}/cancel")
        _wait(c, cut["id"], ("cancelled", "finished"))
    (tmp_path / "jobs" / "job-bogus.json").write_text("{not json")  # a damaged record is skipped
    with TestClient(create_app(settings)) as c:
        jobs = {j["id"]: j for j in c.get("/api/jobs").json()}
        assert set(jobs) == {done["id"], cut["id"]}
        assert jobs[done["id"]]["state"] == "finished"
        assert c.get(f"/api/jobs/{done['id']}/results").json()["summary"]["n_persons"] == 300
        assert jobs[cut["id"]]["state"] == "cancelled"
        assert c.post(f"/api/jobs/{cut['id']}/resume").status_code == 200
        assert _wait(c, cut["id"])["state"] == "finished"
        assert c.get(f"/api/jobs/{cut['id']}/results").json()["summary"]["resumed"] is True
