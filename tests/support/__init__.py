"""What the tests import: builders (one per kind of object) and helpers.

Fixtures live in ``conftest.py`` files (``tests/conftest.py``: personas, Redis, Celery
workers; ``tests/unit/conftest.py``: the permission matrix's world, a course); test
modules import from here and never from one another.

- ``datasets``: ``make_dataset``, a small data set of random arrays on disk.
- ``jobs``: training jobs without a worker: ``make_queued_job``, ``dispatch_job`` (sent
  to the train queue), ``make_running_job``, ``make_evaluated_job`` (finished, with
  epochs and evaluation arrays), ``write_metadata_model``.
- ``handwriting``: ``make_font_dataset`` and ``make_trained_job`` (a real model that
  reads Hangul), photos and canvas drawings of characters.
- ``courses``: ``make_grader`` (a grading model without weights), ``graded_submission``.
- ``predictions``: ``make_stored_prediction`` (with its images on disk), ``white_png``.
- ``world``: the permission matrix's world (``build_world``) and its stub figures.
- ``phd08``: small, real PHD08 files and bitmaps.
- ``labelled``: scans of characters zipped in the layouts the lab imports.
- ``fonts``: tiny TrueType fonts built on the spot.
- ``i18n``: ``korean()``, the expected Korean looked up in the catalogue.
- ``clients``: ``flash_messages`` of a response, ``token_client`` for the API.
- ``schema``: ``SchemaCheck``, whether an API answer is one its OpenAPI schema documents.
- ``browser``: logging in, drawing on the canvas and screenshots in the browser tests.
- ``workers``: what the tests share with their Celery workers (``TERMINAL``,
  ``database_env``).
- ``paths``: ``REPO``, the repository's root.
"""
