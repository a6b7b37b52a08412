"""The ``callscope`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Callscope: offline conversation intelligence for Mandarin contact centres.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Callscope: offline conversation intelligence for Mandarin contact centres."""


@app.command()
def transcribe(
    paths: Annotated[list[Path], typer.Argument(help="Recordings or folders of recordings.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for <call_id>.json transcripts.")],
    model: Annotated[
        Path | None, typer.Option(help="CTranslate2 Whisper folder (default: Whisper base from PyPI).")
    ] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda or auto (passed to CTranslate2).")] = "cpu",
    compute_type: Annotated[str, typer.Option(help="int8, int8_float16, float16, float32...")] = "int8",
    threads: Annotated[int, typer.Option(help="CPU threads for the model (0: all cores).")] = 0,
    lexicon: Annotated[Path | None, typer.Option(help="Domain lexicon file (hot-words).")] = None,
    channel_roles: Annotated[
        str, typer.Option(help="Roles of stereo channels 0,1 (e.g. customer,agent).")
    ] = "agent,customer",
    beam_size: Annotated[int, typer.Option(help="Beam width for decoding.")] = 5,
    prompt_chars: Annotated[
        int, typer.Option(help="Prime Whisper with this many characters of lexicon hot-words (0: off).")
    ] = 0,
    force: Annotated[bool, typer.Option(help="Transcribe again calls already in --out.")] = False,
) -> None:
    """Transcribe call recordings into timed, speaker-labelled transcripts with acoustic features."""
    from speech.batch import find_recordings, transcribe_batch
    from speech.lexicon import LexiconError, load_lexicon
    from speech.model import ModelNotFoundError, ModelSpec, resolve_model
    from speech.pipeline import PipelineOptions
    from speech.transcribe import AsrOptions, Transcriber

    roles = tuple(r.strip() for r in channel_roles.split(","))
    if sorted(roles) != ["agent", "customer"]:
        _fail(f"--channel-roles must name agent and customer once each, got {channel_roles!r}")
    try:
        spec = ModelSpec(resolve_model(model), device=device, compute_type=compute_type, cpu_threads=threads)
        lex = load_lexicon(lexicon)
    except (ModelNotFoundError, LexiconError) as exc:
        _fail(str(exc))
    recordings, problems = find_recordings(paths)
    for path, reason in problems:
        typer.echo(f"skipped {path}: {reason}", err=True)
    if not recordings:
        _fail("no recordings found in the given paths")
    transcriber = Transcriber(spec, AsrOptions(beam_size=beam_size, prompt_chars=prompt_chars), lex)
    with _progress(len(recordings)) as bar:
        report = transcribe_batch(
            recordings, out, transcriber,
            options=PipelineOptions(channel_roles=roles),  # type: ignore[arg-type]
            force=force,
            on_progress=lambda path, rep: _advance(bar, path, rep),
        )
    for path, reason in report.failed:
        typer.echo(f"FAILED {path}: {reason}", err=True)
    typer.echo(
        f"{len(report.written)} transcribed, {len(report.skipped)} already done (use --force to redo), "
        f"{len(report.failed) + len(problems)} failed; {report.audio_s / 3600:.2f} h of audio at "
        f"{report.speed:.1f}x real time; output in {out.resolve()}"
    )
    if report.failed or problems:
        raise typer.Exit(1)


def _progress(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="call", desc="transcribing", file=sys.stderr, dynamic_ncols=True)


def _advance(bar, path: Path, report) -> None:
    bar.set_postfix_str(f"{report.audio_s / 3600:.2f} h audio, {report.speed:.1f}x, last: {path.name}")
    bar.update(1)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def main() -> None:
    """Console-script entry point."""
    app()
