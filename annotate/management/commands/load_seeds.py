from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from annotate.seeds import SeedError, load_seed, parse_seed


class Command(BaseCommand):
    help = "Load every seeds/*.txt file into a document; unchanged files change nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "folder", nargs="?", default=str(settings.BASE_DIR / "seeds"), help="default: seeds/"
        )

    def handle(self, folder: str, **options) -> None:
        paths = sorted(Path(folder).glob("*.txt"))
        if not paths:
            raise CommandError(f"No .txt seed files in {folder}.")
        try:
            seeds = [parse_seed(path) for path in paths]
        except SeedError as error:
            raise CommandError(str(error)) from error
        for seed in seeds:
            outcome = load_seed(seed)
            self.stdout.write(f"{seed.slug}: {outcome}")
