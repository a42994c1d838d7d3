from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from knox.models import AuthToken
from knox.settings import knox_settings

from her2db.commands import Command as BaseCommand


class Command(BaseCommand):
    help = (
        "Issue an API token for a user and print it, once: only a hash is kept. "
        "Clients send it as `Authorization: Token <key>`; it acts with the "
        "user's permissions until it expires."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Days until the token expires (default: the API_TOKEN_DAYS "
            "setting, 90 unless set).",
        )

    def handle(self, *args, username, days, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"{username} is not active.")
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        expiry = timedelta(days=days) if days else knox_settings.TOKEN_TTL
        token, key = AuthToken.objects.create(user=user, expiry=expiry)
        self.stdout.write(key)
        self.stderr.write(
            f"Token for {username}, expires {token.expiry:%Y-%m-%d %H:%M} UTC. "
            "It is shown only this once."
        )
