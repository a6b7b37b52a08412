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
    workers: Annotated[int, typer.Option(
        help="Calls transcribed at once, in separate processes sharing the threads (0: one per core, at most 4).")] = 0,
    lexicon: Annotated[Path | None, typer.Option(help="Domain lexicon file (hot-words).")] = None,
    channel_roles: Annotated[
        str, typer.Option(help="Roles of stereo channels 0,1 (e.g. customer,agent).")
    ] = "agent,customer",
    beam_size: Annotated[int, typer.Option(help="Beam width for decoding.")] = 5,
    prompt_chars: Annotated[
        int, typer.Option(help="Prime Whisper with this many characters of lexicon hot-words (0: off).")
    ] = 0,
    no_homophones: Annotated[
        bool, typer.Option("--no-homophones", help="Skip the general sound-alike correction (依下 -> 一下).")
    ] = False,
    warp: Annotated[
        bool, typer.Option("--warp", help="Retry unsure windows at a vocal-tract warp: better text for voices "
                           "pitched low (customer CER 13.4 -> 12.3 % on the shared calls), about 1.4x the time.")
    ] = False,
    force: Annotated[bool, typer.Option(help="Transcribe again calls already in --out.")] = False,
) -> None:
    """Transcribe call recordings into timed, speaker-labelled transcripts with acoustic features."""
    from speech.batch import already_done, find_recordings, transcribe_batch, worker_plan
    from speech.lexicon import LexiconError, load_lexicon
    from speech.model import ModelNotFoundError, ModelSpec, resolve_model
    from speech.pipeline import PipelineOptions
    from speech.transcribe import WARP, AsrOptions, Transcriber

    roles = tuple(r.strip() for r in channel_roles.split(","))
    if sorted(roles) != ["agent", "customer"]:
        _fail(f"--channel-roles must name agent and customer once each, got {channel_roles!r}")
    recordings, problems = find_recordings(paths)
    for path, reason in problems:
        typer.echo(f"skipped {path}: {reason}", err=True)
    if not recordings:
        _fail("no recordings found in the given paths")
    done = already_done(recordings, out, force=force)
    processes, per_process = worker_plan(len(recordings) - len(done), threads, workers, device)
    try:
        spec = ModelSpec(resolve_model(model), device=device, compute_type=compute_type, cpu_threads=per_process)
        lex = load_lexicon(lexicon)
    except (ModelNotFoundError, LexiconError) as exc:
        _fail(str(exc))
    asr = AsrOptions(
        beam_size=beam_size, prompt_chars=prompt_chars, correct_homophones=not no_homophones,
        warps=(WARP,) if warp else (),
    )
    transcriber = Transcriber(spec, asr, lex)
    with _progress(len(recordings), initial=len(done)) as bar:   # calls already done do not count as speed
        report = transcribe_batch(
            recordings, out, transcriber,
            options=PipelineOptions(channel_roles=roles),  # type: ignore[arg-type]
            force=force, workers=processes,
            on_progress=lambda path, rep: _advance(bar, path, rep, counted=path not in done),
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


@app.command()
def analyze(
    paths: Annotated[list[Path], typer.Argument(help="Transcript JSON files, recordings, or folders of either.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for <call_id>.analysis.json.")] = Path("out/analysis"),
    taxonomy: Annotated[Path | None, typer.Option(help="Taxonomy file (default: the bundled one).")] = None,
    models: Annotated[Path | None, typer.Option(help="Model folder from `callscope train` (default: the bundled model).")] = None,
    untrained: Annotated[bool, typer.Option("--untrained", help="Use the taxonomy's cue phrases only, no trained model.")] = False,
    rulebook: Annotated[list[Path] | None, typer.Option(help="QA rule book(s) (default: the bundled ones; repeatable).")] = None,
    lexicon: Annotated[Path | None, typer.Option(help="Domain lexicon file.")] = None,
    transcribe: Annotated[bool, typer.Option("--transcribe", help="Transcribe recordings even where a transcript lies beside them.")] = False,
    model: Annotated[Path | None, typer.Option(help="CTranslate2 Whisper folder, for recordings.")] = None,
    threads: Annotated[int, typer.Option(help="CPU threads for Whisper (0: all cores; with --engine ray, "
                                              "0 means 1 per worker).")] = 0,
    engine: Annotated[str, typer.Option(help="local: in this process; ray: spread over Ray workers.")] = "local",
    address: Annotated[str | None, typer.Option(help="Ray cluster address host:port for --engine ray "
                                                     "(default: start a Ray on this machine).")] = None,
    ray_workers: Annotated[int, typer.Option(help="Ray workers, each holding its own models "
                                                  "(0: one per CPU of the cluster; this machine: all cores).")] = 0,
) -> None:
    """Find reasons, script points, competitors, leads, sentiment and PII in calls."""
    from api.analysis import Analyzer, analysis_inputs, analyze_paths
    from models.store import ModelError
    from nlp.taxonomy import TaxonomyError
    from qa_rules.errors import RuleBookError

    try:
        analyzer = Analyzer.load(taxonomy=taxonomy, models=models, lexicon=lexicon, untrained=untrained,
                                 rulebooks=rulebook)
    except (TaxonomyError, ModelError, RuleBookError, ValueError) as exc:
        _fail(str(exc))
    inputs, problems = analysis_inputs(paths, transcribe=transcribe)
    for path, reason in problems:
        typer.echo(f"skipped {path}: {reason}", err=True)
    if not inputs:
        _fail("nothing to analyse in the given paths (transcript .json files or recordings)")
    if engine not in ("local", "ray"):
        _fail(f"--engine must be local or ray, got {engine!r}")
    if engine == "ray":
        report = _analyze_on_ray(inputs, out, address, ray_workers, {
            "taxonomy": taxonomy, "models": models, "lexicon": lexicon, "untrained": untrained,
            "rulebooks": rulebook, "whisper_model": model, "threads": threads or 1})
        _analyze_summary(report, problems, out)
        return

    def transcriber():
        from speech.lexicon import load_lexicon
        from speech.model import ModelSpec, resolve_model
        from speech.transcribe import AsrOptions, Transcriber

        return Transcriber(ModelSpec(resolve_model(model), cpu_threads=threads), AsrOptions(), load_lexicon(lexicon))

    with _progress(len(inputs), "analysing") as bar:
        report = analyze_paths(inputs, analyzer, out, transcriber_factory=transcriber,
                               on_progress=lambda path, rep: (bar.set_postfix_str(f"last: {path.name}"), bar.update(1)))
    _analyze_summary(report, problems, out)


def _analyze_on_ray(inputs: list[Path], out: Path, address: str | None, workers: int, options: dict):
    """`analyze --engine ray`: inputs fanned out to Ray workers, analyses written here as they come."""
    from api.jobs.ray_engine import RayEngineError, RayExecutor, analysis_settings, analyze_paths_ray

    if address is None and workers <= 0:
        import os

        workers = os.cpu_count() or 1
    try:
        executor = RayExecutor(address, workers)
    except RayEngineError as exc:
        _fail(str(exc))
    try:
        with _progress(len(inputs), f"analysing on {executor.workers} Ray workers") as bar:
            return analyze_paths_ray(inputs, analysis_settings(**options), out, executor,
                                     on_progress=lambda path, rep: (bar.set_postfix_str(f"last: {path.name}"),
                                                                    bar.update(1)))
    finally:
        executor.shutdown()


def _analyze_summary(report, problems: list, out: Path) -> None:
    """Print failures and the one-line summary of an analyze run; exit 1 if anything failed."""
    for path, reason in report.failed:
        typer.echo(f"FAILED {path}: {reason}", err=True)
    rate = len(report.written) / report.seconds if report.seconds else 0.0
    typer.echo(f"{len(report.written)} analysed, {len(report.failed) + len(problems)} failed "
               f"({rate:.1f} calls/s); output in {out.resolve()}")
    if report.failed or problems:
        raise typer.Exit(1)


@app.command("eval")
def eval_(
    pred: Annotated[Path | None, typer.Argument(help="Folder of <call_id>.analysis.json (same as --pred).")] = None,
    corpus: Annotated[Path, typer.Option(help="Labelled calls (corpus format).")] = Path("../shared/corpus/calls"),
    pred_opt: Annotated[Path | None, typer.Option("--pred", help="Folder of <call_id>.analysis.json.")] = None,
    taxonomy: Annotated[Path | None, typer.Option(help="Taxonomy the labels use (default: bundled).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Compare analyses with corpus labels: per-task and per-code precision, recall and F1."""
    import json

    from models.corpus import load_corpus
    from models.evaluate import evaluate, realign, summary_lines
    from nlp.taxonomy import TaxonomyError, load_taxonomy

    folder = pred_opt or pred
    if folder is None or not folder.is_dir():
        _fail(f"--pred must be a folder of analyses (got {folder})")
    try:
        calls = load_corpus(corpus, load_taxonomy(taxonomy))
    except (TaxonomyError, ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
    pairs, missing = [], []
    for call in calls:
        path = folder / f"{call.conversation.call_id}.analysis.json"
        if not path.is_file():
            missing.append(call.conversation.call_id)
            continue
        gold_turns = [t.to_dict() for t in call.conversation.turns]
        pairs.append((realign(json.loads(path.read_text(encoding="utf-8")), gold_turns), call.labels))
    if missing:
        typer.echo(f"warning: {len(missing)} labelled calls have no analysis in {folder} and are left out: "
                   f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}", err=True)
    if not pairs:
        _fail(f"no analyses in {folder} match the calls of {corpus}")
    metrics = evaluate(pairs)
    typer.echo(json.dumps(metrics, ensure_ascii=False, indent=1) if as_json else "\n".join(summary_lines(metrics)))


@app.command()
def train(
    corpus: Annotated[Path, typer.Option(help="Labelled calls (corpus format).")] = Path("../shared/corpus/calls"),
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")] = Path("out/model"),
    taxonomy: Annotated[Path | None, typer.Option(help="Taxonomy file (default: bundled).")] = None,
    cv: Annotated[int, typer.Option(help="Cross-validation folds to report (0: skip).")] = 5,
    transcripts: Annotated[Path | None, typer.Option(help="Our own transcripts of the corpus recordings "
                                                          "(from `callscope transcribe`): also learn from them and report CV figures on them.")] = None,
    extra: Annotated[list[Path] | None, typer.Option(help="More labelled calls (repeatable), for the script-point "
                                                     "head, the reasons' turn attribution and the per-reason text "
                                                     "heads; never scored in CV.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the cross-validated metrics as JSON.")] = False,
) -> None:
    """Learn reason and script-point heads from labelled calls; save a versioned model folder."""
    import json

    from models.corpus import load_corpus
    from models.crossval import cross_validate
    from models.evaluate import summary_lines
    from models.heard import training_set, with_extra
    from models.outcome import save_outcome
    from models.risk import save_risk
    from models.store import new_version, save_model
    from models.trained import fit_scorer
    from nlp.taxonomy import TaxonomyError, load_taxonomy
    from nlp.text import call_text

    try:
        tax = load_taxonomy(taxonomy)
        calls = load_corpus(corpus, tax)
        more = [call for folder in extra or [] for call in load_corpus(folder, tax)]
    except (TaxonomyError, ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
    info: dict = {"corpus": str(corpus), "calls": len(calls)}
    if extra:
        info["extra"] = {"folders": [str(f) for f in extra], "calls": len(more)}
    heard_conversations = _transcripts(transcripts)
    if cv:
        with _progress(cv, "cross-validating", unit="fold") as bar:
            metrics = cross_validate(calls, tax, folds=cv, transcripts=heard_conversations, extra=more,
                                     on_fold=lambda k: bar.update(1))
        info["cross_validation"] = metrics
        if as_json:
            typer.echo(json.dumps(metrics, ensure_ascii=False, indent=1))
        else:
            typer.echo(f"cross-validated ({metrics['folds']} folds), trained model on unseen calls:")
            typer.echo("\n".join(summary_lines(metrics["trained_cv"], per_code=False)))
            typer.echo("untrained default (cues) on the same calls:")
            typer.echo("\n".join(summary_lines(metrics["untrained"], per_code=False)))
            if "trained_cv_own_transcripts" in metrics:
                typer.echo("trained model on unseen calls, from our own transcripts of their recordings:")
                typer.echo("\n".join(summary_lines(metrics["trained_cv_own_transcripts"], per_code=False)))
    heard = {cid: call_text(conv) for cid, conv in heard_conversations.items()}
    texts, labels, weights = training_set(calls, [call_text(c.conversation) for c in calls], heard)
    if heard:
        info["own_transcripts"] = {"folder": str(transcripts), "calls": len(heard)}
    scorer = fit_scorer(taxonomy=tax, version=new_version(),
                        **with_extra(texts, labels, weights, [call_text(c.conversation) for c in more], more))
    outcome_model = _train_outcome(calls, cv, info)
    risk_info = _train_risk(scorer, calls, cv, outcome_model)
    risk_model = risk_info.pop("_model") if risk_info else None
    if risk_info:
        info["complaint_risk"] = risk_info
    folder = save_model(scorer, out, info=info)
    if risk_model is not None:
        save_risk(risk_model, folder)
    if outcome_model is not None:
        save_outcome(outcome_model, folder)
    typer.echo(f"model {scorer.version} trained on {len(calls)} calls"
               + (f" and {len(more)} extra" if more else "") + f", saved to {folder.resolve()}")


def _train_outcome(calls, cv: int, info: dict):
    """Fit the call-outcome model (how each call ended) when the labels carry ``outcome``,
    recording its cross-validated accuracy in ``info``; None when they do not."""
    from models.outcome import cross_validate_outcome, fit_outcome, outcome_examples

    labelled = [c for c in calls if c.labels.get("outcome")]
    if not labelled:
        typer.echo("call outcome: no labels.outcome in the corpus; the cue rules stay in use")
        return None
    if cv:
        figures = cross_validate_outcome(labelled, folds=cv)
        info["outcome_cross_validation"] = figures
        for direction, m in figures.items():
            typer.echo(f"call outcome, {direction} ({m['calls']} calls): accuracy {m['trained_cv']['accuracy']:.3f} "
                       f"learnt (CV), {m['untrained']['accuracy']:.3f} cue rules")
    return fit_outcome(*outcome_examples(labelled))


def _train_risk(scorer, calls, cv: int, outcome_model=None) -> dict | None:
    """Fit the complaint-risk weights on analyses of the labelled calls (printing CV figures);
    None when the labels have no ``complained_later`` of both kinds."""
    from api.analysis import Analyzer
    from models.crossval import cross_validate_risk
    from models.outcome import load_outcome_cues
    from models.risk import fit_risk
    from qa_rules.loader import default_rulebooks

    labelled = [c for c in calls if "complained_later" in c.labels]
    complained = [bool(c.labels["complained_later"]) for c in labelled]
    if len(set(complained)) < 2:
        typer.echo("complaint risk: no calls labelled both ways with complained_later; default weights kept")
        return None
    analyzer = Analyzer(scorer, rulebooks=default_rulebooks(), outcome=outcome_model or load_outcome_cues())
    analyses = [analyzer.analyze(c.conversation) for c in labelled]
    info: dict = {"calls": len(labelled), "complaints": sum(complained)}
    if cv:
        figures = cross_validate_risk(analyses, complained, folds=cv)
        info["cross_validation"] = figures
        for name, label in (("default", "default weights"), ("trained_cv", "learnt weights, CV")):
            if name in figures:
                m = figures[name]
                typer.echo(f"complaint risk ({label}): ROC AUC {m['roc_auc']}, precision in top 10% "
                           f"{m['precision_top10']} ({m['complaints']} of {m['calls']} complained)")
    info["_model"] = fit_risk(analyses, complained)
    return info


@app.command()
def report(
    name: Annotated[str, typer.Argument(help="voice, handle-time, script-map, risk, leads, competitors, ivr, or all.")],
    calls: Annotated[Path, typer.Option(help="Folder of <call_id>.analysis.json (from `callscope analyze`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the report files.")] = Path("out/reports"),
    date: Annotated[str | None, typer.Option(help="Day (YYYY-MM-DD) of the lists; last day of the voice period "
                                                  "(default: the latest day in the data).")] = None,
    dnd: Annotated[Path | None, typer.Option(help="Do-not-disturb rules for the lead list (YAML).")] = None,
    models: Annotated[Path | None, typer.Option(help="Model folder whose complaint-risk weights score analyses "
                                                      "that have none (default: bundled).")] = None,
) -> None:
    """Build reports over a folder of analyses: JSON, CSV (XLSX for lists) and an HTML chart page each."""
    _write_reports(name, calls, out, date, {"dnd": dnd, "models": models})


@app.command()
def risk(
    calls: Annotated[Path, typer.Option(help="Folder of <call_id>.analysis.json (from `callscope analyze`).")],
    date: Annotated[str | None, typer.Option(help="Day (YYYY-MM-DD); default: the latest day in the data.")] = None,
    top: Annotated[int | None, typer.Option(help="How many customers to list (default: risk.yaml top_n).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the list files.")] = Path("out/reports"),
    models: Annotated[Path | None, typer.Option(help="Model folder (default: bundled).")] = None,
) -> None:
    """The day's top-risk complaint list: customer, call, score, drivers, suggested action."""
    rows = _write_reports("risk", calls, out, date, {"top": top, "models": models})
    for row in rows.get("risk", [])[:top or 10]:
        typer.echo(f"{row['rank']:>3}. {row['customer_id']:<12} {row['call_id']:<16} {row['score']:.2f}  "
                   f"{'; '.join(row['drivers'])}  -> {row['action']}")


def _write_reports(name: str, calls_dir: Path, out: Path, day_text: str | None, options: dict) -> dict:
    """Load analyses, build the named reports (or all), write them; returns each report's first table rows."""
    import time
    from datetime import date as date_type

    from api.reports import report_builders, write_report
    from models.insights.calls import load_calls
    from models.risk import RiskError, load_risk
    from models.store import DEFAULT_MODEL

    builders = report_builders()
    names = list(builders) if name == "all" else [name]
    if names[0] not in builders:
        _fail(f"unknown report {name!r}; choose from {', '.join(builders)} or all")
    if not calls_dir.is_dir():
        _fail(f"{calls_dir}: not a folder of analyses")
    try:
        day = date_type.fromisoformat(day_text) if day_text else None
    except ValueError:
        _fail(f"--date {day_text!r} is not a date like 2026-10-31")
    started = time.perf_counter()
    records, problems = load_calls(calls_dir)
    for path, reason in problems:
        typer.echo(f"skipped {path}: {reason}", err=True)
    if not records:
        _fail(f"{calls_dir}: no readable *.analysis.json")
    try:
        options["risk_model"] = load_risk(options.pop("models", None) or DEFAULT_MODEL)
    except RiskError as exc:
        _fail(str(exc))
    first_rows = {}
    for report_name in names:
        try:
            built = builders[report_name](records, day, options)
        except ValueError as exc:  # a bad settings or rules file: named in the message
            _fail(f"{report_name}: {exc}")
        paths = write_report(built, out)
        first_rows[report_name] = built.tables[0].rows if built.tables else []
        typer.echo(f"{report_name}: {built.title} -> {', '.join(p.name for p in paths)}")
    typer.echo(f"{len(names)} report(s) from {len(records)} calls in {time.perf_counter() - started:.1f} s; "
               f"output in {out.resolve()}")
    if problems:
        raise typer.Exit(1)
    return first_rows


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    data: Annotated[Path | None, typer.Option(help="Folder for the database file and uploads "
                                                    "(default ./callscope-data).")] = None,
    db: Annotated[str | None, typer.Option(help="Database URL (default: SQLite in --data; "
                                                "postgresql+psycopg://... for production).")] = None,
    workers: Annotated[int | None, typer.Option(help="Pipeline worker processes (default 1).")] = None,
    demo: Annotated[bool, typer.Option(help="Load the bundled demo calls on start.")] = False,
) -> None:
    """Run the Callscope service (REST API, agent assist, job workers) until stopped."""
    import uvicorn

    from api.app import create_app
    from api.config import config_from_env

    config = config_from_env().with_(host=host, port=port, data_dir=data, db_url=db, workers=workers)
    application = create_app(config)
    _bootstrap_admin(application, config)
    if demo:
        _load_demo(application, config)
    typer.echo(f"Callscope is serving at http://{config.host}:{config.port}/  (API docs: /docs)")
    uvicorn.run(application, host=config.host, port=config.port, log_level="warning")


def _bootstrap_admin(application, config) -> None:
    """Make sure an admin token exists: CALLSCOPE_ADMIN_TOKEN if set, else a new one, printed and kept
    in ``<data>/admin-token.txt`` (readable by the owner only) so a restarted service can say where it is."""
    from sqlalchemy import select

    from api.storage.models import ApiToken
    from api.storage.tokens import create_token, find_token

    with application.state.db.session() as session:
        if config.admin_token:
            if find_token(session, config.admin_token) is None:
                create_token(session, f"admin-{len(config.admin_token)}-{config.admin_token[:4]}", "admin",
                             secret=config.admin_token)
            return
        kept = config.data_dir / "admin-token.txt"
        if session.scalar(select(ApiToken).where(ApiToken.role == "admin", ApiToken.active)) is None:
            secret = create_token(session, "admin", "admin")
            kept.write_text(secret + "\n", encoding="utf-8")
            kept.chmod(0o600)
            typer.echo(f"admin API token: {secret}  (kept in {kept.resolve()})")
        elif kept.is_file():
            typer.echo(f"admin API token: in {kept.resolve()}")


def _load_demo(application, config) -> None:
    """Queue the bundled demo calls (demo/calls) as upload jobs the workers then analyse.

    Each ``<call_id>.json`` transcript is queued as a transcript job (fast: no transcription at
    start-up) with its ``.mp3`` kept as the call's audio, both copied into the upload folder. Jobs
    are keyed by content hash, so starting with --demo again queues nothing twice.
    """
    from api.jobs.intake import enqueue_path

    folder = Path(__file__).resolve().parents[1] / "demo" / "calls"
    transcripts = sorted(p for p in folder.glob("*.json") if not p.name.endswith(".analysis.json"))
    if not transcripts:
        typer.echo(f"warning: no demo calls in {folder}", err=True)
        return
    queued = 0
    for path in transcripts:
        audio = path.with_suffix(".mp3")
        try:
            _, duplicate = enqueue_path(application.state.db, config, path, actor="demo", batch="demo",
                                        audio=audio if audio.is_file() else None)
        except (ValueError, OSError) as exc:
            typer.echo(f"warning: demo call not loaded: {exc}", err=True)
            continue
        queued += not duplicate
    typer.echo(f"demo: {queued} call(s) queued, {len(transcripts) - queued} already loaded or skipped")


qa_app = typer.Typer(help="Quality-inspection rule books.", no_args_is_help=True)
app.add_typer(qa_app, name="qa")


@qa_app.command("check")
def qa_check(
    rulebooks: Annotated[list[Path], typer.Argument(help="Rule book YAML files to validate.")],
    taxonomy: Annotated[Path | None, typer.Option(help="Taxonomy the rule codes refer to (default: bundled).")] = None,
) -> None:
    """Validate rule books completely: every problem with its file, line and rule."""
    from nlp.taxonomy import TaxonomyError, load_taxonomy
    from qa_rules.loader import validate_rulebook

    try:
        tax = load_taxonomy(taxonomy)
    except TaxonomyError as exc:
        _fail(str(exc))
    bad = 0
    for path in rulebooks:
        problems = validate_rulebook(path, taxonomy=tax)
        for problem in problems:
            typer.echo(f"error: {problem}", err=True)
        bad += bool(problems)
        typer.echo(f"{path}: {f'{len(problems)} problem(s)' if problems else 'ok'}")
    if bad:
        raise typer.Exit(1)


def _transcripts(folder: Path | None) -> dict:
    """Our own transcripts by call id (``<call_id>.json`` files written by `callscope transcribe`)."""
    from models.corpus import load_transcripts

    if folder is None:
        return {}
    if not folder.is_dir():
        _fail(f"--transcripts {folder}: no such folder")
    try:
        return load_transcripts(folder)
    except ValueError as exc:
        _fail(f"--transcripts: {exc}")


def _progress(total: int, desc: str = "transcribing", initial: int = 0, unit: str = "call"):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True)


def _advance(bar, path: Path, report, *, counted: bool = True) -> None:
    """Show the batch's progress; a call not ``counted`` (already done, in the bar's start) only updates the text."""
    bar.set_postfix_str(f"{report.audio_s / 3600:.2f} h audio, {report.speed:.1f}x, last: {path.name}")
    if counted:
        bar.update(1)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def main() -> None:
    """Console-script entry point."""
    app()
