"""
`manage.py register_lti_platform`: register an LMS (or update its
registration) and print what to paste into it.
"""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator
from django.db import transaction
from lti_tool.models import LtiDeployment, LtiRegistration

from annotate.lti.configuration import canvas_configuration, tool_urls
from annotate.lti.keys import signing_key
from annotate.models import LmsPlatform, origin_of


class Command(BaseCommand):
    help = (
        "Register an LMS for LTI 1.3 launches, or update the registration of the same issuer "
        "and client ID, then print the tool's URLs and Canvas's developer key JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="e.g. “Canvas at Example School”")
        parser.add_argument("--issuer", required=True, help="the LMS's issuer (iss)")
        parser.add_argument("--client-id", required=True, help="the client ID the LMS gave")
        parser.add_argument("--auth-url", required=True, help="its OIDC authorization endpoint")
        parser.add_argument("--token-url", required=True, help="its OAuth2 access token URL")
        parser.add_argument("--keyset-url", required=True, help="its public keys (JWKS) URL")
        parser.add_argument("--audience", default="", help="its token audience, if not the URL")
        parser.add_argument(
            "--deployment",
            action="append",
            default=[],
            metavar="ID",
            help="a deployment ID the LMS shows for the tool (repeat for several)",
        )
        parser.add_argument(
            "--frame-origin",
            action="append",
            default=[],
            metavar="ORIGIN",
            help="another origin that opens the site in a frame, e.g. https://school.instructure.com",
        )

    def handle(self, *args, **options):
        check = URLValidator(schemes=["http", "https"])
        for option in ("auth_url", "token_url", "keyset_url"):
            try:
                check(options[option])
            except ValidationError:
                flag = "--" + option.replace("_", "-")
                raise CommandError(f"{flag} {options[option]!r} is not a URL.") from None
        origins = [origin_of(origin) for origin in options["frame_origin"]]
        if "" in origins:
            raise CommandError("Each --frame-origin is a scheme and host, e.g. https://lms.edu.")
        registration, created = self.save(options, origins)
        signing_key()  # the tool's first key, if it has none yet

        verb = "Registered" if created else "Updated"
        self.stdout.write(f"{verb} “{registration.name}” (issuer {registration.issuer}).")
        deployments = list(
            registration.deployments.filter(is_active=True).values_list("deployment_id", flat=True)
        )
        if deployments:
            self.stdout.write("Active deployments: " + ", ".join(deployments))
        else:
            self.stdout.write(
                "No deployment yet: launches are refused until one is added "
                "(--deployment ID, or in the admin)."
            )
        self.stdout.write("\nThe tool's URLs, to paste into the LMS:")
        for name, url in tool_urls(registration=registration).items():
            self.stdout.write(f"  {name}: {url}")
        self.stdout.write(
            "  (The login initiation URL without the registration's ID works as well "
            f"when the LMS sends its client ID: {tool_urls()['login initiation']})"
        )
        self.stdout.write("\nCanvas developer key (Admin › Developer Keys › LTI Key › Paste JSON):")
        self.stdout.write(json.dumps(canvas_configuration(), indent=2))

    @transaction.atomic
    def save(self, options, origins):
        registration, created = LtiRegistration.objects.update_or_create(
            issuer=options["issuer"].strip(),
            client_id=options["client_id"].strip(),
            defaults={
                "name": options["name"].strip(),
                "auth_url": options["auth_url"],
                "token_url": options["token_url"],
                "keyset_url": options["keyset_url"],
                "audience": options["audience"],
                "is_active": True,
            },
        )
        for deployment_id in options["deployment"]:
            LtiDeployment.objects.update_or_create(
                registration=registration,
                deployment_id=deployment_id.strip(),
                defaults={"is_active": True},
            )
        platform, _ = LmsPlatform.objects.get_or_create(registration=registration)
        if origins:
            known = platform.frame_origins.splitlines()
            platform.frame_origins = "\n".join(dict.fromkeys([*known, *origins]))
            platform.save(update_fields=["frame_origins"])
        return registration, created
