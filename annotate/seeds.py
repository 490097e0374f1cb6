"""
Seed texts: plain files under seeds/ that a teacher can edit.

A seed file is a few `Field: value` lines (Title is required; Subtitle,
Citation and Source are optional), a blank line, then the text itself with a
blank line between paragraphs. The file name without `.txt` is the
document's slug, so its URL never changes when the title does.
"""

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from .models import Document, normalize_text
from .revisions import revise_document

FIELDS = {"title", "subtitle", "citation", "source"}


class SeedError(ValueError):
    pass


@dataclass(frozen=True)
class Seed:
    slug: str
    title: str
    subtitle: str
    citation: str
    source: str
    text: str


def _header_field(line: str) -> tuple[str, str] | None:
    name, colon, value = line.partition(":")
    name = name.strip().lower()
    return (name, value.strip()) if colon and name in FIELDS else None


def parse_seed(path: Path) -> Seed:
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise SeedError(
            f"{path.name}: not UTF-8 text ({error.reason} at byte {error.start})."
        ) from error
    header, separator, body = normalize_text(raw).partition("\n\n")
    if not separator:
        # Trailing blank lines are stripped, so a header with nothing after it
        # lands here too: say what is really missing.
        if all(_header_field(line) for line in header.split("\n")):
            raise SeedError(f"{path.name}: the text after the header is empty.")
        raise SeedError(f"{path.name}: expected header lines, a blank line, then the text.")
    fields: dict[str, str] = {}
    for number, line in enumerate(header.split("\n"), start=1):
        field = _header_field(line)
        if field is None:
            raise SeedError(
                f"{path.name}, line {number}: expected one of "
                f"{', '.join(sorted(f.title() for f in FIELDS))} followed by a colon, got {line!r}."
            )
        name, value = field
        fields[name] = value
    if not fields.get("title"):
        raise SeedError(f"{path.name}: the Title line is missing or empty.")
    text = normalize_text(body)
    if not text.strip():
        raise SeedError(f"{path.name}: the text after the header is empty.")
    slug = slugify(path.stem)
    if not slug:
        raise SeedError(f"{path.name}: the file name must contain letters or digits.")
    return Seed(
        slug=slug,
        title=fields["title"],
        subtitle=fields.get("subtitle", ""),
        citation=fields.get("citation", ""),
        source=fields.get("source", ""),
        text=text,
    )


@transaction.atomic
def load_seed(seed: Seed) -> str:
    """Create or update the seed's document. Returns "created", "updated" or "unchanged"."""
    metadata = {
        "title": seed.title,
        "subtitle": seed.subtitle,
        "citation": seed.citation,
        "source": seed.source,
    }
    document, created = Document.objects.select_for_update().get_or_create(
        slug=seed.slug, defaults=metadata
    )
    changed_fields = [name for name, value in metadata.items() if getattr(document, name) != value]
    for name in changed_fields:
        setattr(document, name, metadata[name])
    if changed_fields:
        document.save(update_fields=[*changed_fields, "updated_at"])
    revision = revise_document(document, seed.text, note="Loaded from seed file")
    if created:
        return "created"
    return "updated" if changed_fields or revision else "unchanged"
