"""
Zip archives: .docx and .epub. Before anything is read from one, its
members' declared sizes are checked against the limits below (no zip
bombs). A Word document becomes HTML through mammoth; an EPUB's chapters,
XHTML already, are read in the order of its OPF package's spine, without
its contents page, and an e-book with encrypted chapters (DRM) is refused.
"""

import codecs
import io
import posixpath
import zipfile
from urllib.parse import unquote
from xml.etree import ElementTree

import mammoth

from .base import (
    ConversionError,
    Progress,
    _check_length,
    _damaged,
    _Extracted,
)
from .html import _Blocks, _read_html

# Zip archives: .docx and .epub.

# A .docx or .epub is a zip archive. Before anything is read from one, its
# members' declared sizes are checked (zipfile never unpacks more than a
# member declares, so the declaration is a real bound). Word's XML of real
# prose packs 4-5 times, its styles some 30; deflate's most is about 1,000,
# which is what a zip bomb uses. 100 MB of XML holds more than MAX_TEXT_CHARS
# of text, and mammoth holds a document's XML in memory as a tree.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
# Members smaller than this may pack tighter (a run of spaces, an empty part).
RATIO_CHECKED_ABOVE = 1024 * 1024
MAX_ZIP_MEMBERS = 10_000

_ZIP_BOMB = (
    "This file unpacks to far more data than a real document holds (it may be a "
    "“zip bomb”), so it was not opened."
)


def _open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """The archive in `data`, once its members' sizes show it is no zip bomb."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as error:
        raise ConversionError(_damaged(kind)) from error
    if len(members) > MAX_ZIP_MEMBERS:
        raise ConversionError(_ZIP_BOMB)
    if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise ConversionError(_ZIP_BOMB)
    for member in members:
        if (
            member.file_size > RATIO_CHECKED_ABOVE
            and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
        ):
            raise ConversionError(_ZIP_BOMB)
    return archive


def _read_member(archive: zipfile.ZipFile, name: str, kind: str) -> bytes | None:
    """A member of `archive`, or None if there is none by that name."""
    try:
        return archive.read(name)
    except KeyError:
        return None
    except Exception as error:  # a damaged member: BadZipFile (CRC), zlib.error, EOFError, ...
        raise ConversionError(_damaged(kind)) from error


def _parse_xml(archive: zipfile.ZipFile, name: str, kind: str) -> ElementTree.Element | None:
    """
    A member of `archive` parsed as XML, or None if it is missing or broken.
    Expat (2.4 and later) refuses entity expansion bombs, and ElementTree
    fetches no external entities.
    """
    member = _read_member(archive, name, kind)
    try:
        return ElementTree.fromstring(member) if member is not None else None
    except ElementTree.ParseError:
        return None


# Word's own names for the title and subtitle styles; mammoth maps only headings.
_DOCX_STYLE_MAP = "p[style-name='Title'] => h1:fresh\np[style-name='Subtitle'] => h2:fresh"


def _read_docx(archive: zipfile.ZipFile, data: bytes, progress: Progress | None) -> _Extracted:
    core = _parse_xml(archive, "docProps/core.xml", "docx")
    title = core.findtext("{http://purl.org/dc/elements/1.1/}title") if core is not None else None
    try:
        result = mammoth.convert_to_html(
            io.BytesIO(data),
            # An <img> without its picture: _Blocks counts it, and the
            # picture's bytes are never read.
            convert_image=mammoth.images.img_element(lambda image: {}),
            style_map=_DOCX_STYLE_MAP,
        )
    except Exception as error:  # mammoth raises whatever a broken part makes it raise
        raise ConversionError(_damaged("docx")) from error
    return _read_html(result.value, titles=[title])


_EPUB_DRM = "This e-book is protected by DRM (copy protection), so its text cannot be read."


def _read_epub(archive: zipfile.ZipFile, data: bytes, progress: Progress | None) -> _Extracted:
    """The book's chapters in reading order (the OPF package's spine), without its contents page."""
    container = _parse_xml(archive, "META-INF/container.xml", "epub")
    rootfile = container.find(".//{*}rootfile") if container is not None else None
    package_path = rootfile.get("full-path", "") if rootfile is not None else ""
    package = _parse_xml(archive, package_path, "epub")
    if package is None:
        raise ConversionError(_damaged("epub"))
    title = package.findtext("{*}metadata/{*}title")
    base = posixpath.dirname(package_path)
    manifest = {item.get("id"): item for item in package.iterfind("{*}manifest/{*}item")}
    encrypted = _epub_encrypted_members(archive)
    chapters = []
    for itemref in package.iterfind("{*}spine/{*}itemref"):
        item = manifest.get(itemref.get("idref"))
        if (
            item is None
            or itemref.get("linear") == "no"
            or "nav" in (item.get("properties") or "").split()
            or item.get("media-type") not in ("application/xhtml+xml", "text/html")
        ):
            continue
        chapters.append(posixpath.normpath(posixpath.join(base, unquote(item.get("href", "")))))
    blocks = _Blocks()
    warnings = []
    for done, path in enumerate(chapters, start=1):
        if path in encrypted:
            raise ConversionError(_EPUB_DRM)
        markup = _read_member(archive, path, "epub")
        if markup is None:
            warnings.append(f"Part of the book ({path}) is missing from the file and was left out.")
            continue
        blocks.read(_decode_markup(markup))
        _check_length(sum(len(paragraph) for paragraph in blocks.paragraphs))
        if progress:
            progress(done, len(chapters))
    extracted = blocks.extracted([title])
    extracted.warnings[:0] = warnings
    return extracted


def _epub_encrypted_members(archive: zipfile.ZipFile) -> set[str]:
    """
    Members that META-INF/encryption.xml lists: DRM when chapters are among
    them; fonts alone are only obfuscated, which does not hide the text.
    """
    encryption = _parse_xml(archive, "META-INF/encryption.xml", "epub")
    if encryption is None:
        return set()
    return {
        posixpath.normpath(unquote(reference.get("URI", "")))
        for reference in encryption.iterfind(".//{*}CipherReference")
    }


def _decode_markup(markup: bytes) -> str:
    """An EPUB chapter's XHTML, which the EPUB rules require be UTF-8 or UTF-16."""
    if markup.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return markup.decode("utf-16", errors="replace")
    return markup.decode("utf-8-sig", errors="replace")
