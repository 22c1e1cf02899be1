"""``config.settings`` unchanged, except that collected static files go to the
benchmark's temp dir instead of the repository's ``static_collected/``.

With DEBUG off the static storage is whitenoise's CompressedManifestStaticFilesStorage,
so every ``{% static %}`` needs the manifest that ``collectstatic`` writes; without
it every page is a 500 ("Missing staticfiles manifest entry"). The benchmark runs
``collectstatic`` like a deployment would, into ``BENCH_STATIC_ROOT``.
"""

import os
from pathlib import Path

from config.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
