from django.core.management.base import BaseCommand

from annotate.tasks import run_maintenance


class Command(BaseCommand):
    requires_system_checks = []  # cron output stays quiet
    help = (
        "Retry due spam checks, Akismet reports and emails; delete expired spam; erase "
        "expired personal data. Run it from cron every few minutes on a server."
    )

    def handle(self, **options) -> None:
        done = run_maintenance.call()
        self.stdout.write(", ".join(f"{name}: {count}" for name, count in done.items()))
