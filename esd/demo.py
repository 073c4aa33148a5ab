"""`flask esd seed-demo`: a believable installation to try the app on."""
import click

from .cli import esd_cli


@esd_cli.command("seed-demo")
def seed_demo():
    """Fill an empty database with demo agencies, dogs, training, deployments and certifications."""
    raise click.ClickException("seed-demo is not written yet")
