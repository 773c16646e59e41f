"""Faults really happen here: a worker process is killed mid-epoch, the Redis server is
stopped while students submit, the disk fills up. Every job ends telling the truth, and
nothing finished is lost."""

import os
import resource
import signal
import subprocess
import sys
import time
from datetime import timedelta

import psutil
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from classifier import services
from classifier.ml import store
from classifier.models import Dataset, EpochMetric, JobStatus, Prediction, TrainingJob
from classifier.services.recovery import sweep
from labsite import embedded_redis
from tests.support.datasets import make_dataset
from tests.support.handwriting import make_font_dataset, make_trained_job, photo_of
from tests.support.jobs import dispatch_job, make_queued_job
from tests.support.paths import REPO
from tests.support.phd08 import write_phd08_files

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_until(condition, timeout=60, what="the condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_training_worker_killed_mid_epoch_resumes_from_its_last_epoch(
    train_worker, student_a, settings
):
    settings.LAB_HEARTBEAT_SECONDS = 1  # this process sweeps: 3 s of silence is death
    dataset = make_dataset("long", chars="가나다라", per_char=300, size=(28, 28))
    job = dispatch_job(student_a, dataset, epochs=10, batch_size=8)
    _wait_until(
        lambda: TrainingJob.objects.get(pk=job.pk).epochs_done >= 2, 120, "two finished epochs"
    )
    before = {m.epoch: m.pk for m in EpochMetric.objects.filter(job=job)}
    # The prefork child runs the task: the operating system's OOM killer would pick it.
    (child,) = psutil.Process(train_worker.process.pid).children()
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING  # nobody told the row: only the sweeper will

    _wait_until(lambda: sweep().requeued, 30, "the sweeper to see the stale heartbeat")
    job = train_worker.wait_for(job, timeout=180)
    assert job.status == JobStatus.SUCCEEDED, job.error_text
    assert job.attempts == 2 and job.resumed_from_epoch >= 1
    metrics = list(EpochMetric.objects.filter(job=job))
    assert [m.epoch for m in metrics] == list(range(1, 11))
    # The epochs the first attempt checkpointed are the same rows, not trained again.
    kept = {m.epoch: m.pk for m in metrics if m.epoch <= job.resumed_from_epoch}
    assert kept == {e: pk for e, pk in before.items() if e <= job.resumed_from_epoch}
    assert job.model_path.exists() and not job.checkpoint_path.exists()
    assert "went on from the end of epoch" in _page(job, student_a)


def _page(job, user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.get(job.get_absolute_url()).content.decode()


KILLED_BUILD_FONTS = [
    "NanumGothic",
    "NanumMyeongjo",
    "NanumSquare",
    "UnBatang",
    "UnDotum",
    "UnGungseo",
    "BaekmukBatang",
    "BaekmukGulim",
]


def test_a_data_worker_killed_mid_build_is_replaced_and_the_build_resumes(worker, staff, settings):
    from classifier.ml.render import RenderSettings

    settings.LAB_HEARTBEAT_SECONDS = 1
    # Named fonts from the packages the set-up installs: with every installed font the
    # build's length would follow whatever else the machine has (the handwriting fonts
    # a benchmark installs doubled it and ran it past the deadline in CI).
    dataset = services.create_font_dataset(
        name="killed-build",
        chars="라호댜밟자꺅갠아",
        font_specs=KILLED_BUILD_FONTS,
        user=staff,
        rendering=RenderSettings(height=48, width=48, per_font=40, seed=3),
    )
    _wait_until(
        lambda: Dataset.objects.get(pk=dataset.pk).files_done >= 8, 120, "some fonts rendered"
    )
    # Only the worker is killed, as the OOM killer would: its build's pool processes
    # must end with it, not go on rendering for nobody.
    pool = psutil.Process(worker.process.pid).children(recursive=True)
    assert pool, "the build renders in a pool of processes"
    worker.process.send_signal(signal.SIGKILL)
    worker.process.wait(10)
    _wait_until(lambda: not any(_alive(process) for process in pool), 30, "the pool to end")
    dataset.refresh_from_db()
    assert dataset.status == JobStatus.RUNNING and not dataset.store_dir.exists()

    worker.restart()
    _wait_until(lambda: sweep().requeued, 30, "the sweeper to see the stale heartbeat")
    dataset = worker.wait_for(dataset, timeout=600)
    assert dataset.status == JobStatus.SUCCEEDED, dataset.error_text
    assert dataset.attempts == 2
    assert dataset.num_samples == 8 * len(dataset.group_names) * 40
    assert len(dataset.open_store()) == dataset.num_samples
    # The parts rendered before the kill were kept and not rendered again.
    worker.wait_for_log("units were built before", timeout=1)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_job_whose_worker_keeps_dying_fails_with_the_reason(db, student_a, settings):
    dataset = make_dataset("tiny")
    # Not sent to the broker: a training worker left running by earlier tests would take
    # it and fail it (its data set is in this test's media folder) before the sweep.
    job = make_queued_job(student_a, dataset)
    EpochMetric.objects.create(
        job=job, epoch=1, loss=1, accuracy=0.5, seconds=1, samples_per_second=10
    )
    stale = timezone.now() - timedelta(minutes=5)
    TrainingJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=settings.LAB_MAX_ATTEMPTS, heartbeat_at=stale
    )
    # Judged on the row, not on this sweep's report: any sweeper that gets there first
    # (another one may run on this machine) does the same, and does it once.
    sweep()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "stopped responding, 3 times" in job.error_text
    assert job.metrics.count() == 1  # what was finished is kept
    assert job.pk not in {pk for _model, pk in sweep().failed}  # left alone from then on


@pytest.fixture
def redis_down(embedded_broker):
    """Stop the tests' Redis server; start it again afterwards, whatever happened."""
    if embedded_broker is None:
        pytest.skip("REDIS_URL names a server these tests may not stop")
    embedded_broker.stop()
    try:
        yield embedded_broker
    finally:
        if embedded_broker.process.poll() is not None:
            embedded_broker.start()


def test_submissions_while_redis_is_down_are_kept_and_run_once_it_is_back(
    redis_down, train_worker, worker, client, student_a, settings
):
    dataset = make_dataset("queued", chars="가나", per_char=20, size=(16, 16))
    model = make_trained_job(student_a, make_font_dataset())
    client.force_login(student_a)
    response = client.post(
        reverse("classifier:job-new"),
        {
            "dataset": dataset.pk,
            "chars": "",
            "model": "mlp",
            "optimizer": "adam",
            "learning_rate": "0.003",
            "epochs": "2",
            "batch_size": "16",
            "seed": "1",
            "split_kind": "stratified",
            "val_fraction": "0.25",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    job = TrainingJob.objects.get(dataset=dataset)
    assert job.status == JobStatus.QUEUED and job.dispatched_at is None
    assert "queue cannot be reached" in client.get(job.get_absolute_url()).content.decode()
    # A script is told the same through the API.
    answer = client.post(
        "/api/jobs/",
        {"dataset": dataset.pk, "epochs": 1, "batch_size": 16},
        content_type="application/json",
    )
    assert answer.status_code == 201 and "queue cannot be reached" in answer.json()["queue_notice"]
    api_job = TrainingJob.objects.get(pk=answer.json()["id"])
    response = client.post(
        reverse("classifier:predict"),
        {"model": model.pk, "image": SimpleUploadedFile("a.jpg", photo_of("아"))},
    )
    prediction = Prediction.objects.get()
    assert response.status_code == 302 and prediction.status == JobStatus.QUEUED
    assert "queue cannot be reached" in client.get(response["Location"]).content.decode()
    # While Redis is down the sweeper finds the rows (once their grace period is over)
    # but cannot send them either.
    _wait_until(lambda: len(sweep().resent) == 3, 30, "the sweeper to find the three rows")
    assert not TrainingJob.objects.get(pk=job.pk).dispatched_at

    redis_down.start()
    _wait_until(lambda: not sweep().resent, 30, "the sweeper to send the rows")
    assert train_worker.wait_for(job).status == JobStatus.SUCCEEDED, job.error_text
    assert worker.wait_for(prediction).status == JobStatus.SUCCEEDED, prediction.error_text
    assert job.attempts == 1 and prediction.attempts == 1
    assert train_worker.wait_for(api_job).status == JobStatus.SUCCEEDED
    assert client.get(f"/api/jobs/{api_job.pk}/").json()["queue_notice"] == ""


def test_a_message_delivered_twice_runs_the_job_once(train_worker, student_a):
    from labsite.celery import app

    dataset = make_dataset("twice", chars="가나", per_char=20, size=(16, 16))
    job = dispatch_job(student_a, dataset)
    app.send_task(job.task_name, args=[job.pk])  # a second delivery of the same job
    job = train_worker.wait_for(job)
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1
    train_worker.wait_for_log(f"Training job {job.pk} is not queued")


def _limited(max_bytes):
    """Start a process that may write no file larger than ``max_bytes`` (ulimit -f)."""

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return limit


def _run_command(worker_env, *args, max_bytes):
    _, env = worker_env
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limited(max_bytes),
        check=False,
    )


def test_a_full_disk_fails_a_build_and_a_training_job_and_removes_their_files(
    _worker_env, transactional_db, staff, settings
):
    media, _ = _worker_env
    settings.MEDIA_ROOT = media
    # 4 characters x ~28 fonts x 20 samples of 64x64 is about 9 MB of images: more than
    # the 3 MB the command may write.
    result = _run_command(
        _worker_env,
        "render_dataset",
        "--name",
        "too-big",
        "--chars",
        "가나다라",
        "--size",
        "64x64",
        "--per-font",
        "20",
        max_bytes=3 * 2**20,
    )
    dataset = Dataset.objects.get(name="too-big")
    assert dataset.status == JobStatus.FAILED, result.stdout + result.stderr
    assert "disk is full" in dataset.error_text
    assert not dataset.store_dir.exists() or not any(dataset.store_dir.iterdir())

    small = make_dataset("fits", chars="가나", per_char=20, size=(28, 28))
    # dense1024-dense1024 on 28x28 is a 7 MB model: its first checkpoint cannot be written.
    result = _run_command(
        _worker_env,
        "train",
        "--dataset",
        small.name,
        "--model",
        "dense1024-dense1024",
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--user",
        staff.username,
        max_bytes=3 * 2**20,
    )
    job = TrainingJob.objects.filter(dataset=small).first()
    assert job is not None, result.stdout + result.stderr
    assert job.status == JobStatus.FAILED, result.stdout + result.stderr
    assert "disk is full" in job.error_text
    assert not job.artifact_dir.exists()
    assert media.exists()  # the rest of the media folder is untouched


def _import_in_a_terminal(command, folder, env):
    """Start ``command`` on ``folder`` and return once it has converted a few files."""
    # Its own session, like a terminal's foreground job: a signal to the group reaches
    # every process of it, the conversion pool's too. And Ctrl-C acts, as in a terminal,
    # even when this test runs in the background (nohup, an `&` job), whose children
    # inherit SIGINT ignored: Python then never raises KeyboardInterrupt.
    importing = subprocess.Popen(
        [*command, str(folder)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    rows = Dataset.objects.filter(name=command[command.index("--name") + 1])
    _wait_until(
        lambda: rows.filter(files_done__gte=3).exists() or importing.poll() is not None,
        what="the import to convert a few files",
    )
    return importing


def test_ctrl_c_on_an_import_keeps_the_files_done_and_resume_goes_on_from_them(
    _worker_env, transactional_db, settings, tmp_path
):
    media, env = _worker_env
    settings.MEDIA_ROOT = media
    folder = tmp_path / "phd08"
    # 300 full-size files (2,187 samples each): seconds of converting, time to press Ctrl-C.
    sources = write_phd08_files(folder, "".join(chr(0xAC00 + n) for n in range(300)), per_group=243)
    command = [sys.executable, "manage.py", "import_phd08", "--name", "big", "--size", "16x16"]
    importing = _import_in_a_terminal(command, folder, env)
    rows = Dataset.objects.filter(name="big")
    # Frozen first, so the Ctrl-C lands mid-import however busy the machine is (a busy
    # machine once let it convert all 100 files of an earlier version of this test
    # before the signal arrived); it is delivered the moment the group runs again.
    os.killpg(importing.pid, signal.SIGSTOP)
    os.killpg(importing.pid, signal.SIGINT)
    os.killpg(importing.pid, signal.SIGCONT)
    _, err = importing.communicate(timeout=120)

    dataset = rows.get()
    assert importing.returncode != 0 and "Interrupted after" in err, err
    assert "import_phd08 --name big --resume" in err
    assert dataset.status == JobStatus.CANCELLED and 0 < dataset.files_done < len(sources)
    parts = sorted((store.building_dir(dataset.store_dir) / "parts").glob("*.npz"))
    assert len(parts) >= dataset.files_done
    # The files converted before Ctrl-C are never read again: spoiled (same size, so
    # the build is still recognised), the resumed import still succeeds from their parts.
    for part in parts:
        source = folder / f"{chr(int(part.stem, 16))}.txt"
        source.write_bytes(b"x" * source.stat().st_size)

    again = subprocess.run(
        [*command, str(folder)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode != 0 and "--resume" in again.stderr  # the name is taken
    resumed = subprocess.run(
        [*command, "--resume"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    dataset.refresh_from_db()
    assert resumed.returncode == 0, resumed.stderr
    assert dataset.status == JobStatus.SUCCEEDED
    assert dataset.num_samples == len(sources) * 9 * 243
    assert not store.building_dir(dataset.store_dir).exists()


def test_an_import_whose_process_was_killed_resumes_from_the_command_line(
    _worker_env, transactional_db, settings, tmp_path
):
    """No worker, no sweeper: the row says RUNNING, and only its heartbeat tells."""
    media, env = _worker_env
    settings.MEDIA_ROOT = media
    env = {**env, "LAB_HEARTBEAT_SECONDS": "1"}  # 3 s of silence is death
    folder = tmp_path / "phd08"
    sources = write_phd08_files(folder, "".join(chr(0xAC00 + n) for n in range(300)), per_group=243)
    command = [sys.executable, "manage.py", "import_phd08", "--name", "killed", "--size", "16x16"]
    importing = _import_in_a_terminal(command, folder, env)
    # Frozen at once, so that it cannot finish the files while the test looks at it
    # (a busy machine once let it convert all 60 before the kill).
    os.killpg(importing.pid, signal.SIGSTOP)
    settings.LAB_HEARTBEAT_SECONDS = 30  # judged generously here: it is not dead yet
    with pytest.raises(CommandError, match="being built right now"):
        call_command("import_phd08", "--name", "killed", "--resume")  # it is alive
    os.killpg(importing.pid, signal.SIGKILL)  # the OOM killer, a closed SSH session
    importing.communicate(timeout=30)
    dataset = Dataset.objects.get(name="killed")
    assert dataset.status == JobStatus.RUNNING and dataset.files_done < len(sources)

    # The resuming command beats every second, so three missed beats are death: waited
    # for on the row itself, however long the machine takes to get there.
    rows = Dataset.objects.filter(pk=dataset.pk)
    _wait_until(
        lambda: rows.filter(heartbeat_at__lt=timezone.now() - timedelta(seconds=3.5)).exists(),
        what="the killed import's heartbeat to go stale",
    )
    resumed = subprocess.run(
        [*command[:-2], "--resume"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    dataset.refresh_from_db()
    assert dataset.status == JobStatus.SUCCEEDED and dataset.attempts == 2
    assert dataset.num_samples == len(sources) * 9 * 243


def _read_only_media_command(worker_env, *args):
    """Run ``manage.py args`` in a mount namespace of its own in which the media folder
    is read-only, as a volume mounted read-only (or a lost NFS export) leaves it; root
    ignores permission bits, so only a read-only mount really refuses it."""
    media, env = worker_env
    remount = 'mount --bind -o ro "$0" "$0" && exec "$@"'
    return subprocess.run(
        ["unshare", "--mount", "sh", "-c", remount, str(media), sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_read_only_media_folder_fails_a_build_and_a_training_job_with_the_reason(
    _worker_env, transactional_db, staff, settings, tmp_path
):
    media, _ = _worker_env
    settings.MEDIA_ROOT = media
    trial = subprocess.run(
        ["unshare", "--mount", "mount", "--bind", "-o", "ro", "/tmp", "/tmp"],
        capture_output=True,
        check=False,
    )
    if trial.returncode != 0:
        pytest.skip("this machine does not let tests mount a folder read-only")
    write_phd08_files(tmp_path / "phd08", "가나", per_group=3)
    result = _read_only_media_command(
        _worker_env, "import_phd08", "--name", "ro-set", str(tmp_path / "phd08")
    )
    dataset = Dataset.objects.get(name="ro-set")
    assert dataset.status == JobStatus.FAILED, result.stdout + result.stderr
    assert "media folder is not writable" in dataset.error_text
    assert result.returncode != 0 and str(media / "datasets") in result.stderr  # the folder

    small = make_dataset("ro-train", chars="가나", per_char=20, size=(16, 16))
    result = _read_only_media_command(
        _worker_env,
        "train",
        "--dataset",
        small.name,
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--user",
        staff.username,
    )
    job = TrainingJob.objects.get(dataset=small)
    assert job.status == JobStatus.FAILED, result.stdout + result.stderr
    assert "media folder is not writable" in job.error_text
    assert not job.artifact_dir.exists() and len(small.open_store()) == 40  # its data intact


def test_the_train_command_keeps_its_job_alive_so_the_sweeper_never_runs_it_twice(
    _worker_env, transactional_db, student_a, settings
):
    settings.LAB_HEARTBEAT_SECONDS = 1  # this process sweeps: 3 s of silence is death
    media, env = _worker_env
    settings.MEDIA_ROOT = media  # the command's
    make_dataset("long", chars="가나다라", per_char=300, size=(28, 28))
    command = [sys.executable, "manage.py", "train", "--dataset", "long", "--user", "student_a"]
    training = subprocess.Popen(
        [*command, "--epochs", "8", "--batch-size", "8"],
        cwd=REPO,
        env={**env, "LAB_HEARTBEAT_SECONDS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The lab's sweeper, run here while the command trains (it loads TensorFlow, then
    # trains for many times the 3 s after which a silent job is taken for dead).
    requeued, started = [], time.monotonic()
    while training.poll() is None and time.monotonic() - started < 300:
        requeued += sweep().requeued
        time.sleep(0.5)
    _out, err = training.communicate(timeout=60)
    assert training.returncode == 0, err[-3000:]
    job = TrainingJob.objects.get()
    assert time.monotonic() - started > 3 * settings.LAB_HEARTBEAT_SECONDS
    assert requeued == [] and job.attempts == 1
    assert job.status == JobStatus.SUCCEEDED and job.epochs_done == 8, job.error_text


HUNG_BROKER_JOB = """
from django.contrib.auth.models import User
from classifier.models import Dataset
from tests.support.jobs import make_queued_job
job = make_queued_job(User.objects.get(username="student_a"), Dataset.objects.get(), dispatch=True)
print(job.pk)
"""


def test_a_broker_that_hangs_never_blocks_the_work_it_is_sent(
    _worker_env, transactional_db, student_a, settings, tmp_path
):
    media, env = _worker_env
    settings.MEDIA_ROOT = media
    make_dataset("tiny")
    # A Redis that accepts connections and never answers: stopped, as SIGSTOP does.
    broker = embedded_redis.start(tmp_path / "hung.sock", tmp_path / "hung.log")
    broker.send_signal(signal.SIGSTOP)
    try:
        queued = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", HUNG_BROKER_JOB],
            cwd=REPO,
            env={**env, "CELERY_BROKER_URL": f"redis+socket://{tmp_path / 'hung.sock'}"},
            capture_output=True,
            text=True,
            timeout=120,  # it never returned at all before: the publish waited for ever
        )
    finally:
        broker.send_signal(signal.SIGCONT)
        broker.terminate()
        broker.wait(30)
    assert queued.returncode == 0, queued.stderr[-3000:]
    job = TrainingJob.objects.get(pk=int(queued.stdout.split()[-1]))
    # Saved, and waiting for the sweeper to send it once the broker answers again.
    assert job.status == JobStatus.QUEUED and job.dispatched_at is None
    assert "cannot be reached" in job.queue_notice


def test_a_database_that_cannot_be_written_is_said_in_words_not_a_traceback(
    _worker_env, transactional_db, staff, settings
):
    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.skip("the file-size limit reaches SQLite's files only, not a database server")
    media, _ = _worker_env
    settings.MEDIA_ROOT = media
    make_dataset("fits", chars="가나", per_char=20, size=(28, 28))
    # 8 KiB: less than SQLite's shared-memory index of its journal (32 KiB), so not even
    # the connection can be set up.
    args = ("train", "--dataset", "fits", "--user", staff.username)
    result = _run_command(_worker_env, *args, max_bytes=8 * 2**10)
    assert result.returncode == 1
    assert "CommandError: The database could not be read or written" in result.stderr
    assert "Traceback" not in result.stderr
