"""`make run` on a fresh machine: with no mail server configured, the reminder e-mails of the run at
start are printed to the console instead of failing against localhost:25."""
from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading

from esd.config import development_mail_backend
from tests.browser import free_port
from tests.test_scheduler import ROOT, _read_until, _stop, due_certification  # noqa: F401  (fixture)


def test_without_a_mail_server_development_prints_e_mail_and_with_one_sends_it():
    assert development_mail_backend({}) == "console"
    assert development_mail_backend({"MAIL_SERVER": "smtp.agency.gov"}) is None
    assert development_mail_backend({"MAIL_BACKEND": "smtp"}) is None


def test_make_run_prints_reminder_e_mails_instead_of_failing(due_certification, database_url):  # noqa: F811
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAIL_")}
    env.update(DATABASE_URL=database_url, FLASK_APP="app", PYTHONUNBUFFERED="1",
               MPLCONFIGDIR=str(ROOT / "instance" / "mplconfig"))
    process = subprocess.Popen([sys.executable, "-m", "flask", "esd", "run-dev", "--port", str(free_port())],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        output = _read_until(lines, "reminder run:")
    finally:
        _stop(process)
    assert "e-mails are printed here" in output, output
    assert f"To: {due_certification.email}" in output and "Subject:" in output and "Rex" in output, output
    assert "reminder run: 2 sent, 0 failed" in output, output
    assert "ConnectionRefusedError" not in output and "e-mail to" not in output, output
