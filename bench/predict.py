"""Benchmark predictions: upload-to-result latency through the HTTP endpoint.

    python bench/predict.py [--requests 60] [--port 8765]

Starts a throw-away lab exactly as ``make run`` does (``manage.py runlab``: the embedded
Redis, the train worker, the data+predict worker and gunicorn) on its own database and
media folder, trains the Tutorial MLP (28x28) on the tutorial's 8 characters rendered
from the installed fonts, logs in over HTTP and posts images to the API
(``/api/predictions/``). A request's latency runs from sending the upload to having
the result: the answer itself when the worker finished within the request's wait,
otherwise after polling the prediction's status JSON.

Three kinds of image are timed, interleaved: a 640x480 phone-like JPEG, a 280x280 canvas
drawing, and a 12-megapixel (4032x3024) JPEG. The first requests, which load TensorFlow
and the model into the worker, are reported apart ("cold"). Beside them, the same work
done in this process without HTTP or the queue (``services.predict_image`` with the
model loaded) gives the baseline, and the ratio shows what the web and the queue add.
Target: p95 <= 300 ms for the 28x28 model with the model loaded.

The photos are the 8 characters written in a handwriting-like font the model never saw,
so the run also prints how many it read right.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from lab import (
    lab_memory,
    percentile,
    post_prediction,
    prediction_status,
    setup_django,
    start_lab,
    stop_lab,
)
from lab import login as log_in

PASSWORD = "bench-password"
TARGET_P95_MS = 300
COLD_REQUESTS = 3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60, help="timed requests of each kind")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as var_dir:
        setup_django(Path(var_dir))
        job = trained_job()
        images = bench_images()
        baseline = in_process(job, images)
        # One user sends every request, which the lab's per-user limits would refuse
        # after 30 a minute: this measures the answers' latency, not the limits.
        unlimited = {"LAB_WORK_RATE": "1000000/minute", "LAB_API_RATE": "1000000/minute"}
        lab = start_lab(Path(var_dir), args.port, env=unlimited)
        try:
            base = f"http://127.0.0.1:{args.port}"
            session = login(base)
            cold = [
                timed_predict(session, base, job, images["photo 640x480"][0])
                for _ in range(COLD_REQUESTS)
            ]
            results = over_http(session, base, job, images, args.requests)
            memory = lab_memory(lab)
        finally:
            stop_lab(lab)
    report(cold, results, baseline, memory)


def trained_job():
    from django.contrib.auth.models import User

    from tests.support.handwriting import make_font_dataset, make_trained_job

    user = User.objects.create_user("bench", password=PASSWORD)
    started = time.perf_counter()
    job = make_trained_job(user, make_font_dataset("bench-fonts", per_font=10))
    print(
        f"model: job #{job.pk}, {job.model_spec} {job.dataset.size_label}, "
        f"validation accuracy {job.val_accuracy:.3f}, trained in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return job


def bench_images() -> dict[str, list[tuple[str, bytes, str]]]:
    """Per kind, ``(field, payload, expected character)`` for each tutorial character."""
    from tests.support.handwriting import TUTORIAL_CHARS, drawing_of, photo_of

    return {
        "photo 640x480": [("image", photo_of(c), c) for c in TUTORIAL_CHARS],
        "canvas 280x280": [("canvas", drawing_of(c), c) for c in TUTORIAL_CHARS],
        "photo 4032x3024": [("image", photo_of(c, size=(3024, 4032)), c) for c in TUTORIAL_CHARS],
    }


def in_process(job, images) -> dict[str, list[float]]:
    """Seconds to preprocess and classify each image here, the model already loaded."""
    from classifier import services
    from classifier.ml import preprocess

    def payload(field, data):
        if field == "canvas":
            return preprocess.decode_data_url(data, max_bytes=10**7)
        return data

    services.predict_image(job, payload(*images["photo 640x480"][0][:2]))  # loads the model
    timings = {}
    for kind, items in images.items():
        timings[kind] = []
        for field, data, _ in items * 3:
            started = time.perf_counter()
            services.predict_image(job, payload(field, data))
            timings[kind].append(time.perf_counter() - started)
    return timings


def login(base: str) -> requests.Session:
    """A session logged in as the benchmark's user."""
    session = requests.Session()
    response = log_in(base, "bench", PASSWORD, session)
    if "sessionid" not in session.cookies:
        sys.exit(f"could not log in (HTTP {response.status_code})")
    return session


def timed_predict(session, base, job, item) -> tuple[float, dict]:
    """Upload one image and wait for its result: (seconds, the result JSON)."""
    started = time.perf_counter()
    response = post_prediction(session, base, job.pk, item)
    if response.status_code != 201:
        sys.exit(f"predict failed: HTTP {response.status_code}: {response.text[:500]}")
    result = response.json()
    while result["status"] not in ("SUCCEEDED", "FAILED"):
        time.sleep(0.02)
        result = prediction_status(session, base, result["id"]).json()
    elapsed = time.perf_counter() - started
    if result["status"] != "SUCCEEDED":
        sys.exit(f"prediction {result['id']} failed: {result['error']}")
    return elapsed, result


def over_http(session, base, job, images, count) -> dict[str, list[tuple[float, dict]]]:
    results = {kind: [] for kind in images}
    for number in range(count):
        for kind, items in images.items():  # interleaved, so drift hits every kind alike
            results[kind].append(timed_predict(session, base, job, items[number % len(items)]))
    return results


def report(cold, results, baseline, memory):
    print(
        f"cold (TensorFlow and the model loading in the worker): "
        f"{', '.join(f'{t * 1000:.0f} ms' for t, _ in cold)}"
    )
    print(
        f"{'image':<18}{'n':>5}{'median':>10}{'p95':>10}{'max':>10}"
        f"{'in-process':>13}{'ratio':>8}{'read right':>12}"
    )
    worst_p95 = 0.0
    for kind, rows in results.items():
        seconds = [t for t, _ in rows]
        right = sum(r["correct"] for _, r in rows)
        local = statistics.median(baseline[kind])
        p95 = percentile(seconds, 95)
        worst_p95 = max(worst_p95, p95)
        print(
            f"{kind:<18}{len(rows):>5}{statistics.median(seconds) * 1000:>8.0f}ms"
            f"{p95 * 1000:>8.0f}ms{max(seconds) * 1000:>8.0f}ms{local * 1000:>11.1f}ms"
            f"{statistics.median(seconds) / local:>8.1f}{right / len(rows):>11.0%}"
        )
    verdict = "meets" if worst_p95 * 1000 <= TARGET_P95_MS else "MISSES"
    print(f"worst p95 {worst_p95 * 1000:.0f} ms: {verdict} the {TARGET_P95_MS} ms target")
    print("memory: " + ", ".join(f"{role} {mib:.0f} MiB" for role, mib in sorted(memory.items())))


if __name__ == "__main__":
    main()
