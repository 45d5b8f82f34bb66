"""OCR benchmark: read every drawn screenshot and print how often the right symptom comes out.

    python3 benchmarks/ocr.py                  # drawn samples, light + dark, plus photo variants
    python3 benchmarks/ocr.py --corpus         # also short texts from tests/corpus/*.tsv
    python3 benchmarks/ocr.py --no-crop --psm 3  # compare preprocessing / page segmentation choices
    python3 benchmarks/ocr.py --verbose        # every miss with what was read

Prints, per set: key-phrase hit rate (the phrase a person would quote, after normalisation), right
symptom rate (the OCR text diagnosed by the same engine the bot uses), seconds per screenshot.
Target: >= 90 % right symptom. Wall-clock figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from bot import ocr
from bot.text import normalise
from tests.screenshots import PHOTO_EFFECTS, SAMPLES, Sample, corpus_samples, draw, photo_of_screen, png_bytes

Case = tuple[str, Sample, Callable[[], Image.Image]]


def diagnoser() -> Callable[[str], str] | None:
    """The bot's own classifier + tree walk, when the knowledge loads; else None (key phrases only)."""
    try:
        from bot.knowledge import load
        from bot.triage import Triage

        triage = Triage(load(Path(__file__).resolve().parent.parent / "knowledge"))
    except Exception as exc:  # the engine may be mid-change; the key-phrase figure still stands
        print(f"(diagnosis engine unavailable: {exc}; printing key-phrase hits only)")
        return None
    return lambda text: triage.handle(text).diagnosis.symptom.id


def cases(samples: tuple[Sample, ...], photos: bool) -> Iterator[Case]:
    for sample in samples:
        for dark in (False, True):
            yield f"{'dark' if dark else 'light'}", sample, lambda s=sample, d=dark: draw(s, dark=d)
        if photos:
            for i, effect in enumerate(PHOTO_EFFECTS):
                yield (
                    f"photo-{effect}",
                    sample,
                    lambda s=sample, e=effect, i=i: photo_of_screen(draw(s), e, i),
                )


def run(
    name: str, cases_: list[Case], args: argparse.Namespace, diagnose: Callable[[str], str] | None
) -> None:
    hits = right = baseline = 0
    seconds = 0.0
    by_variant: dict[str, list[int]] = {}
    for variant, sample, make in cases_:
        data = png_bytes(make(), "JPEG" if variant.startswith("photo") else "PNG")
        started = time.perf_counter()
        result = ocr.read_image(
            data, crop=not args.no_crop, binarise=args.binarise, psm=args.psm, languages=args.lang
        )
        seconds += time.perf_counter() - started
        hit = normalise(sample.key) in normalise(result.text)
        got = diagnose(result.text) if diagnose else None
        ok = got == sample.symptom if diagnose else hit
        hits += hit
        right += got == sample.symptom
        if diagnose:  # the same text typed instead of photographed: what OCR could at best reach
            baseline += diagnose(f"{sample.title}\n{sample.body}") == sample.symptom
        stats = by_variant.setdefault(variant, [0, 0])
        stats[0] += ok
        stats[1] += 1
        if args.verbose and not (hit and ok):
            print(f"  MISS {sample.id} [{variant}] key={hit} symptom={got} want={sample.symptom} "
                  f"steps={','.join(result.steps)}\n    read: {result.text!r}")  # fmt: skip
    n = len(cases_)
    print(f"{name}: {n} screenshots")
    print(f"  key phrase read     {hits}/{n} = {hits / n:.0%}")
    if diagnose:
        print(f"  right symptom       {right}/{n} = {right / n:.0%}   (target >= 90%)")
        print(f"  same text typed     {baseline}/{n} = {baseline / n:.0%}   (the classifier alone)")
    print(f"  seconds/screenshot  {seconds / n:.2f}")
    print("  by variant: " + ", ".join(f"{v} {a}/{b}" for v, (a, b) in by_variant.items()))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", action="store_true", help="also draw short texts from tests/corpus")
    parser.add_argument("--no-photos", action="store_true", help="skip the photo-of-a-screen variants")
    parser.add_argument("--no-crop", action="store_true", help="do not crop to the alert box")
    parser.add_argument("--binarise", action=argparse.BooleanOptionalAction, default=None,
                        help="cut to black and white before Tesseract (default: only a cropped alert)")  # fmt: skip
    parser.add_argument(
        "--psm", type=int, help="Tesseract page segmentation mode (default: 6 for a cropped alert, else 3)"
    )
    parser.add_argument(
        "--lang", default=ocr.LANGUAGES, help=f"Tesseract languages (default {ocr.LANGUAGES})"
    )
    parser.add_argument("--only", help="only samples whose id contains this")
    parser.add_argument("--verbose", action="store_true", help="show every miss")
    args = parser.parse_args()
    if not ocr.available():
        print(f"tesseract is not installed: {ocr.INSTALL_HINT}")
        return 2
    diagnose = diagnoser()
    samples = tuple(s for s in SAMPLES if not args.only or args.only in s.id)
    print(f"crop={'off' if args.no_crop else 'on'} binarise={args.binarise} psm={args.psm} lang={args.lang}")
    run("drawn screenshots", list(cases(samples, photos=False)), args, diagnose)
    if not args.no_photos:
        photo_cases = [c for c in cases(samples, photos=True) if c[0].startswith("photo")]
        run("photos of a screen", photo_cases, args, diagnose)
    if args.corpus:
        extra = corpus_samples()
        if extra:
            run("corpus texts, drawn", list(cases(extra, photos=False)), args, diagnose)
        else:
            print("corpus texts: none yet in tests/corpus/*.tsv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
