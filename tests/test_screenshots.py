"""`make test` leaves tracked files alone; `make screenshots` refreshes the README's pictures."""
import subprocess

from tests.browser import ROOT, screenshot_dir


def git_ignores(path) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT).returncode == 0


def make_dry_run(target: str) -> str:
    return subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_test_runs_save_screenshots_in_a_git_ignored_folder():
    folder = screenshot_dir({})
    assert git_ignores(folder / "status-board.png")
    assert "ESD_SCREENSHOTS_DIR" not in make_dry_run("test")


def test_make_screenshots_refreshes_the_readmes_folder():
    assert f"ESD_SCREENSHOTS_DIR={ROOT}/docs/screenshots" in make_dry_run("screenshots")
    assert screenshot_dir({"ESD_SCREENSHOTS_DIR": str(ROOT / "docs" / "screenshots")}) == ROOT / "docs" / "screenshots"
    assert not git_ignores(ROOT / "docs" / "screenshots" / "status-board.png")
