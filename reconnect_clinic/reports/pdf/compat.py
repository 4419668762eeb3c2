"""Every use of a private WeasyPrint or pydyf internal, in one place.

The rest of ``reports/pdf`` uses only WeasyPrint's documented API (``HTML``, ``CSS``,
``URLFetcher``, ``URLFetcherResponse``, ``write_pdf(finisher=...)``, a document's
``metadata.attachments``). What follows reaches further, each for a reason given beside
it, and is checked against :data:`SUPPORTED`: ``tests/test_pdf_compat.py`` asserts that
the installed versions are in that range and that every internal named in
:data:`INTERNALS` still exists and behaves as relied on. ``setup.cfg`` bounds
``weasyprint`` and ``pydyf`` to the same range; widen all three together, after the
tests pass on the new version.

Only render workers import this module's WeasyPrint side (lazily, inside functions).
"""

from __future__ import annotations

import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Any

#: The versions this module is written and tested against: (lowest, first unsupported).
SUPPORTED: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "weasyprint": ((70,), (71,)),
    "pydyf": ((0, 13), (0, 14)),
}

#: The internals relied on, as ``module:attribute.path``; checked by
#: :func:`missing_internals`.
INTERNALS: tuple[str, ...] = (
    "weasyprint.text.ffi:ffi",
    "weasyprint.text.ffi:fontconfig.FcConfigGetFonts",
    "weasyprint.text.ffi:fontconfig.FcConfigDestroy",
    "weasyprint.text.ffi:fontconfig.FcSetApplication",
    "weasyprint.text.ffi:gobject.g_object_unref",
    "weasyprint.text.ffi:pangoft2.pango_ft2_font_map_new",
    "weasyprint.text.ffi:pangoft2.pango_fc_font_map_set_config",
    "weasyprint.text.ffi:harfbuzz.hb_version_atleast",
    "weasyprint.text.ffi:harfbuzz_subset",
    "weasyprint.text.fonts:FontConfiguration._folder",
    "weasyprint.text.fonts:FontConfiguration.__del__",
    "pydyf:_to_bytes",
    "pydyf:Stream",
)
#: The attributes ``FontConfiguration.__init__`` sets, which
#: :func:`packaged_font_configuration` sets in its place.
FONT_CONFIGURATION_ATTRIBUTES = frozenset(
    {"_config", "font_map", "_folder", "strut_layouts", "font_features"}
)
#: The attributes of a ``pydyf.Stream`` that :func:`compress_streams_once` rewrites.
STREAM_ATTRIBUTES = frozenset({"stream", "compress", "extra"})
#: The zlib level pydyf (0.13) compresses streams with (``Stream.data``).
PYDYF_COMPRESSION_LEVEL = 9

_FONTCONFIG_NAMES = (
    "libfontconfig.so.1",
    "libfontconfig.1.dylib",
    "libfontconfig-1.dll",
    "fontconfig",
)


def version_tuple(version: str) -> tuple[int, ...]:
    """``"70.0"`` -> ``(70, 0)``; stops at the first part that is not a number."""
    parts = []
    for part in version.split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def is_supported(name: str, version: str) -> bool:
    """Whether ``version`` of ``name`` ("weasyprint", "pydyf") is in :data:`SUPPORTED`."""
    lowest, first_unsupported = SUPPORTED[name]
    return lowest <= version_tuple(version) < first_unsupported


def packaged_font_configuration(folder_prefix: str) -> Any:
    """A ``FontConfiguration`` whose Fontconfig knows no system font: only the fonts that
    ``@font-face`` rules load from the package.

    Why private: WeasyPrint's ``FontConfiguration.__init__`` always loads the system's
    fonts (``FcInitLoadConfigAndFonts``) and has no option not to. This subclass repeats
    its ``__init__`` (the attributes of :data:`FONT_CONFIGURATION_ATTRIBUTES`) with an
    empty Fontconfig configuration, through WeasyPrint's own cffi bindings
    (``weasyprint.text.ffi``), and gives ``_folder``, where WeasyPrint copies the
    ``@font-face`` files, a name with ``folder_prefix`` so that the parent process can
    remove it after killing the worker.
    """
    import cffi
    from weasyprint.text.ffi import ffi, fontconfig, gobject, pangoft2
    from weasyprint.text.fonts import FontConfiguration

    # FcConfigCreate is not among WeasyPrint's bindings: bind it ourselves, then cast
    # the pointer into WeasyPrint's ffi.
    own = cffi.FFI()
    own.cdef("typedef struct _FcConfig FcConfig; FcConfig * FcConfigCreate (void);")
    for name in _FONTCONFIG_NAMES:
        try:
            library = own.dlopen(name)
            break
        except OSError:
            continue
    else:
        raise RuntimeError("Fontconfig cannot be loaded")

    # misc: WeasyPrint ships no types, so its class is Any to mypy.
    class PackagedFontsOnly(FontConfiguration):  # type: ignore[misc]
        def __init__(self) -> None:
            # As FontConfiguration.__init__, with an empty Fontconfig configuration
            # instead of the system's (FcInitLoadConfigAndFonts).
            empty = library.FcConfigCreate()
            if empty == own.NULL:
                raise RuntimeError("Fontconfig could not create a configuration")
            self._config = ffi.cast("FcConfig *", int(own.cast("uintptr_t", empty)))
            self.font_map = ffi.gc(pangoft2.pango_ft2_font_map_new(), gobject.g_object_unref)
            pangoft2.pango_fc_font_map_set_config(
                ffi.cast("PangoFcFontMap *", self.font_map), self._config
            )
            fontconfig.FcConfigDestroy(self._config)  # the font map keeps its reference
            # Where WeasyPrint copies @font-face files; the parent removes it if it has to
            # kill this process, WeasyPrint when the configuration is collected.
            self._folder = Path(tempfile.mkdtemp(prefix=folder_prefix))
            self.strut_layouts: dict[Any, Any] = {}
            self.font_features: dict[Any, Any] = {}

    return PackagedFontsOnly()


def loaded_font_count(font_config: Any) -> int:
    """How many fonts the configuration's ``@font-face`` rules have loaded.

    Why private: WeasyPrint reports a font that fails to load only as a log line; the
    count comes from Fontconfig's application font set, through ``_config`` and
    WeasyPrint's bindings."""
    from weasyprint.text.ffi import ffi, fontconfig

    fonts = fontconfig.FcConfigGetFonts(font_config._config, fontconfig.FcSetApplication)
    return 0 if fonts == ffi.NULL else int(fonts.nfont)


def font_folder(font_config: Any) -> Path | None:
    """The folder WeasyPrint copies the configuration's ``@font-face`` files into.

    Why private: ``_folder`` is where they go, and nothing public names it."""
    folder = font_config._folder
    return Path(folder) if folder else None


def remove_font_folder(font_config: Any) -> None:
    """Remove the configuration's font folder now, before interpreter teardown, when
    WeasyPrint's own ``__del__`` (which removes ``_folder``) can no longer run.

    Why private: ``__del__`` removes ``_folder`` if set; it is emptied here so that
    ``__del__`` has nothing left to do."""
    folder, font_config._folder = font_config._folder, None
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def font_subsetter() -> str:
    """ "harfbuzz" or "fonttools": the library WeasyPrint subsets embedded fonts with.

    Why private: WeasyPrint decides it from its bindings (HarfBuzz-Subset present, and
    HarfBuzz 4.1 or later) and does not say which it chose."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    if harfbuzz_subset is not None and harfbuzz.hb_version_atleast(4, 1, 0):
        return "harfbuzz"
    return "fonttools"


def compress_streams_once(document: Any, pdf: Any) -> None:
    """WeasyPrint's finisher: compress each stream of the PDF now, once, as pydyf would.

    pydyf compresses a stream every time the stream's bytes are asked for, and writing a
    PDF with an identifier (PDF/A needs one) asks twice: to write the object, then to
    hash the whole file for the identifier. Handing pydyf streams that are already
    compressed, at its own level, gives the same bytes for half the work
    (``tests/test_pdf_engine.py`` checks that no byte changes; ``bench/README.md`` says
    what it saves).

    Why private: it joins a stream's parts as pydyf does, with ``pydyf._to_bytes``, and
    compresses them at pydyf's level (:data:`PYDYF_COMPRESSION_LEVEL`)."""
    import pydyf

    for item in pdf.objects:
        if isinstance(item, pydyf.Stream) and item.compress:
            compressor = zlib.compressobj(level=PYDYF_COMPRESSION_LEVEL)
            raw = b"\n".join(pydyf._to_bytes(part) for part in item.stream)
            item.stream = [compressor.compress(raw) + compressor.flush()]
            item.compress = False
            item.extra["Filter"] = "/FlateDecode"


def missing_internals() -> list[str]:
    """What of the above the installed WeasyPrint and pydyf lack or do differently: an
    empty list when all is as relied on. Imports WeasyPrint: call it in a worker-like
    process (the tests run it in a child)."""
    import importlib

    missing = []
    for spec in INTERNALS:
        module_name, _, path = spec.partition(":")
        try:
            target: Any = importlib.import_module(module_name)
            for part in path.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError):
            missing.append(spec)

    from weasyprint.text.fonts import FontConfiguration

    # The subclass must set exactly what FontConfiguration.__init__ sets.
    stock = set(vars(FontConfiguration()))
    if stock != FONT_CONFIGURATION_ATTRIBUTES:
        missing.append(f"FontConfiguration() sets {sorted(stock)}")

    import pydyf

    stream = pydyf.Stream([b"q", 1.5, b"Q"], compress=True)
    if not set(vars(stream)) >= STREAM_ATTRIBUTES:
        missing.append(f"pydyf.Stream() sets {sorted(vars(stream))}")
    compressor = zlib.compressobj(level=PYDYF_COMPRESSION_LEVEL)
    ours = compressor.compress(b"q\n1.5\nQ") + compressor.flush()
    if ours not in stream.data:
        missing.append(f"pydyf does not compress at level {PYDYF_COMPRESSION_LEVEL}")
    return missing
