import secrets

from django.contrib.auth import get_user_model

from her2db.commands import Command as BaseCommand


class Command(BaseCommand):
    help = (
        "Make sure a local superuser exists. On first run it is created with a "
        "generated password, printed once; later runs change nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(
                f"Admin login: {username} (password as printed on the first run; "
                f"reset it with: python manage.py changepassword {username})"
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created admin login: {username} / {password}  (shown only this once)"
            )
        )
