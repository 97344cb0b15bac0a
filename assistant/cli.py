"""Command line: ingest, ask, chat, sources, serve, audit, eval.

Every command parses input, calls the core and prints; errors become `Type: message`
and exit code 1.
"""

from __future__ import annotations

import json
import sys
from functools import wraps
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import AssistantError
from .settings import Settings

console = Console()
err_console = Console(stderr=True)


def _handle_errors(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AssistantError as exc:
            err_console.print(f"[red]{type(exc).__name__}[/red]: {exc}")
            sys.exit(1)

    return wrapper


@click.group()
def main() -> None:
    """Arbeidsmarkt-assistent: grounded answers from approved labour-market sources."""


def run_ingest(settings: Settings, quiet: bool = False, warm_sentences: bool = False):
    """Ingest with a progress bar; returns the IngestReport."""
    from .index import ingest

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet,
    ) as bar:
        task = bar.add_task("Bronnen indexeren", total=None)

        def progress(source_id: str, n: int, total: int) -> None:
            bar.update(task, total=total, completed=n - 1, description=f"Indexeren: {source_id}")

        report = ingest(settings, progress=progress, warm_sentences=warm_sentences)
        bar.update(task, completed=bar.tasks[0].total or 0, description="Klaar")
    return report


@main.command()
@click.option(
    "--warm-sentences",
    is_flag=True,
    help="Embed every sentence now (slower ingest), not when a question first needs it.",
)
@_handle_errors
def ingest(warm_sentences: bool) -> None:
    """Index the approved sources in corpus/ (incremental; safe to interrupt).

    \b
    assistant ingest
    assistant ingest --warm-sentences
    ASSISTANT_CHROMA_URL=http://localhost:8000 assistant ingest
    """
    settings = Settings()
    report = run_ingest(settings, warm_sentences=warm_sentences)
    for label, ids in (
        ("added", report.added),
        ("replaced", report.replaced),
        ("unchanged", report.unchanged),
        ("removed", report.removed),
    ):
        if ids:
            console.print(f"{label}: {', '.join(ids)}")
    for sid, status in report.skipped.items():
        console.print(f"[yellow]skipped[/yellow] {sid}: {status}")
    for sid, error in report.failed.items():
        console.print(f"[red]failed[/red] {sid}: {error}")
    console.print(f"{sum(report.chunks.values())} passages from {len(report.chunks)} sources in {report.seconds:.1f}s")
    if report.failed:
        sys.exit(1)


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract instead of text.")
@click.option("--explain", is_flag=True, help="Also show why: signals, evidence, guard decision (the trace).")
@click.option("--kind", multiple=True, help="Only sources of this kind (report, factsheet, table).")
@click.option("--publisher", multiple=True, help="Only sources of this publisher.")
@click.option("--year", multiple=True, type=int, help="Only sources published in this year.")
@_handle_errors
def ask(
    question: str,
    as_json: bool,
    explain: bool,
    kind: tuple[str, ...],
    publisher: tuple[str, ...],
    year: tuple[int, ...],
) -> None:
    """Ask one question.

    \b
    assistant ask "Hoeveel vacatures stonden er open in Groningen?"
    assistant ask --json "Wat is een onderbenutte deeltijder?"
    assistant ask --kind table "Hoeveel werklozen telde Groningen in 2024?"
    assistant ask --explain "Hoeveel vacatures waren er medio 2025 bij ons?"
    """
    from .core import Assistant
    from .retrieve import Filters

    answer = Assistant.open().ask(question, filters=Filters(list(kind), list(publisher), list(year)))
    if as_json:
        click.echo(json.dumps(answer.to_json(explain=explain), ensure_ascii=False, indent=2))
        return
    _print_answer(answer)
    if explain and answer.trace is not None:
        _print_trace(answer.trace)


def _print_trace(trace) -> None:
    """The trace as an advisor's supporter reads it: what was asked, what scored, why the guard decided."""
    console.print("\n[bold]Waarom dit antwoord[/bold]")
    if trace.follow_up:
        console.print(
            f"vervolgvraag, gelezen als: {trace.rewritten}  (overgenomen: {', '.join(trace.carried)})", markup=False
        )
    s = trace.signals
    asked = [
        f"{k}: {v}"
        for k, v in (
            ("periode", (s.get("period") or {}).get("label")),
            ("plaats", s.get("place")),
            ("vorm", s.get("form")),
            ("telt", ", ".join(s.get("measure", []))),
        )
        if v
    ]
    flags = [k for k in ("asks_quantity", "now", "forecast", "own_view", "off_domain", "personal") if s.get(k)]
    console.print(f"vraag: {'; '.join(asked) or '-'}  [{', '.join(flags)}]", markup=False)
    g = trace.guard
    console.print(
        f"besluit: {'weigeren (' + str(g.get('reason')) + ')' if g.get('refuse') else 'beantwoorden'}; "
        f"{'; '.join(g.get('reasons', []))}; in-scope log-odds {g.get('scope_logit')}",
        markup=False,
    )
    cov = trace.coverage
    if cov.get("period_covered") is not None or cov.get("place_covered") is not None:
        console.print(
            f"dekking: periode {cov.get('period_covered')}, plaats {cov.get('place_covered')}; "
            f"cijfers voor {', '.join(cov.get('periods', []))}",
            markup=False,
        )
    table = Table("score", "bron, p.", "zin", "kenmerken")
    for e in trace.evidence[:5]:
        top = sorted(e["features"].items(), key=lambda kv: -abs(kv[1]))[:4]
        table.add_row(
            f"{e['score']:.2f}",
            f"{e['source_id']} {e['page']}",
            e["text"][:90],
            ", ".join(f"{k} {v:g}" for k, v in top),
        )
    console.print(table)
    p = trace.params
    console.print(
        f"parameters: {p.get('file')} ({p.get('version')}, {p.get('embedder')}, {p.get('created')})",
        markup=False,
        style="dim",
    )


def _print_answer(answer) -> None:
    style = "yellow" if answer.refused else "green"
    label = f"Geweigerd ({answer.refusal_reason})" if answer.refused else "Antwoord"
    console.print(f"[bold {style}]{label}[/bold {style}]")
    console.print(answer.answer, markup=False)
    if answer.citations:
        console.print("\n[bold]Bronnen[/bold]")
        for c in answer.citations:
            console.print(f"[{c.n}] {c.title} ({c.publisher}), p. {c.page} — {c.section}", markup=False)
            console.print(f'    "{c.quote}"', markup=False, style="dim")


@main.command()
@_handle_errors
def chat() -> None:
    """Interactive conversation in the terminal; follow-ups use earlier turns. Empty line or Ctrl-D ends.

    \b
    assistant chat
    """
    from .core import Assistant
    from .errors import QuestionError

    assistant = Assistant.open()
    history: list[str] = []
    console.print("Stel je vraag over de arbeidsmarkt (lege regel om te stoppen).")
    while True:
        try:
            question = console.input("[bold]> [/bold]")
        except (EOFError, KeyboardInterrupt):
            break
        if not question.strip():
            break
        try:
            answer = assistant.ask(question, history=history)
        except QuestionError as exc:
            console.print(exc.message_nl)
            continue
        _print_answer(answer)
        history.append(question)
        console.print()


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_handle_errors
def sources(as_json: bool) -> None:
    """List every source in the manifest with its status and indexed passage count.

    \b
    assistant sources
    assistant sources --json
    """
    from .backends import get_store
    from .index import state_summary
    from .sources import load_manifest

    settings = Settings()
    statuses = load_manifest(settings.manifest_path, settings.effective_today())
    try:
        counts = state_summary(get_store(settings))
    except AssistantError:
        counts = {}
    if as_json:
        rows = [
            {
                **st.source.model_dump(mode="json"),
                "status": st.status,
                "passages": counts.get(st.source.id, 0),
                "warning": st.warning,
            }
            for st in statuses
        ]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("id", "kind", "title", "status", "passages", "valid until", "let op")
    for st in statuses:
        table.add_row(
            st.source.id,
            st.source.kind,
            st.source.title,
            st.status,
            str(counts.get(st.source.id, 0)),
            str(st.source.valid_until or "-"),
            st.warning,
        )
    console.print(table)


@main.command()
@click.option("--host", default=None, help="Bind address (default from ASSISTANT_WEB__HOST, 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default 8000).")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=int,
    help="Server processes. More than 1 needs ASSISTANT_REDIS_URL (shared replay protection and rate limits); "
    "several machines also need ASSISTANT_DATABASE_URL and ASSISTANT_CHROMA_URL.",
)
@_handle_errors
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Build the index if it is missing, then serve the chat page and the API.

    \b
    assistant serve
    assistant serve --host 0.0.0.0 --port 8080
    ASSISTANT_REDIS_URL=redis://localhost:6379/0 assistant serve --workers 2
    """
    from .channels.web import serve as serve_web

    settings = Settings()
    serve_web(settings, host or settings.web.host, port or settings.web.port, workers)


@main.command()
@click.option("--limit", default=20, help="How many recent records.")
@click.option("--export", "fmt", type=click.Choice(["csv", "jsonl"]), default=None, help="Export instead of listing.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the export to this file."
)
@_handle_errors
def audit(limit: int, fmt: str | None, out: Path | None) -> None:
    """List or export recent questions, answers and feedback.

    \b
    assistant audit --limit 10
    assistant audit --export csv --out audit.csv
    """
    from .audit import AuditLog

    log = AuditLog.from_settings(Settings())
    if fmt:
        data = log.export(fmt, limit)
        if out:
            out.write_text(data, encoding="utf-8")
            console.print(f"{limit} records max written to {out}")
        else:
            click.echo(data, nl=False)
        return
    table = Table("time", "channel", "question", "refused", "sources", "feedback")
    for r in log.recent(limit):
        srcs = ", ".join(f"{c['source_id']} p.{c['page']}" for c in r["citations"])
        fb = ", ".join(f["rating"] for f in r["feedback"])
        table.add_row(r["created_at"][:19], r["channel"], r["question"][:60], r["refusal_reason"] or "", srcs, fb)
    console.print(table)


@main.command()
@click.option("--train", multiple=True, help="Question file PATH[:tune|holdout|odd|even][@CORPUS]; repeatable.")
@click.option("--test", multiple=True, help="Question file to measure on (same form); repeatable.")
@click.option("--dry-run", is_flag=True, help="Fit and measure, but do not write the parameters file.")
@_handle_errors
def tune(train: tuple[str, ...], test: tuple[str, ...], dry_run: bool) -> None:
    """Fit the evidence weights and the guard's models; write params/<embedder>.json.

    \b
    assistant tune
    assistant tune --dry-run --test evals/questions/own_questions.jsonl:even
    ASSISTANT_EMBEDDER=sentence-transformers assistant tune
    """
    from .params import params_file, save_params
    from .tuning import tune as run_tune

    settings = Settings()
    params = run_tune(settings, list(train) or None, list(test) if test else None, log=err_console.print)
    if dry_run:
        click.echo(params.model_dump_json(indent=2))
        return
    save_params(params, params_file(settings))
    console.print(f"wrote {params_file(settings)} ({params.version})")


@main.command()
@click.option(
    "--check",
    "check_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Validate this language file instead of the configured one.",
)
@_handle_errors
def lexicon(check_file: Path | None) -> None:
    """Validate the language file (synonyms, periods, places, forecast and question words).

    \b
    assistant lexicon
    assistant lexicon --check my-lexicon.toml
    """
    from .lexicon import Lexicon

    path = check_file or Settings().lexicon_file
    lx = Lexicon.load(path)
    d = lx.data
    console.print(
        f"{path}: valid ({lx.digest}); {len(d.terms.synonyms)} synonym groups, "
        f"{len(d.places.place)} places, {len(d.forecast.words)} forecast words"
    )


@main.command(name="eval")
@click.option(
    "--questions",
    "questions_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSONL question set.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for results, summary, report and charts.",
)
@click.option("--k", default=5, help="Passages scored for retrieval metrics.")
@click.option(
    "--baseline", "baselines", multiple=True, help="Also run a baseline: langchain-naive, bm25-only, dense-only."
)
@click.option("--judge", default=None, help="Support judge: lexical (default) or nli (ASSISTANT_EVAL_NLI_MODEL=/path).")
@click.option(
    "--answers",
    "answers_file",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSONL answers another system gave to these questions: scored beside ours, with our verifier.",
)
@click.option(
    "--gate",
    "gate_file",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Thresholds TOML; exit 1 when a metric crosses one.",
)
@_handle_errors
def eval_command(
    questions_file: Path,
    out_dir: Path,
    k: int,
    baselines: tuple[str, ...],
    judge: str | None,
    answers_file: Path | None,
    gate_file: Path | None,
) -> None:
    """Score grounding, citations, refusals and latency on a question set.

    \b
    assistant eval --questions evals/dev_questions.jsonl --out evals/runs/dev
    assistant eval --questions evals/questions/own_questions.jsonl --out evals/runs/own --baseline naive-top3
    assistant eval --questions evals/dev_questions.jsonl --out evals/runs/dev --gate evals/thresholds.toml
    assistant eval --questions evals/dev_questions.jsonl --answers theirs.jsonl --out evals/runs/theirs
    """
    from .core import Assistant
    from .evaluation.external import ExternalAnswers
    from .evaluation.harness import run_eval

    settings = Settings()
    assistant = Assistant.open(settings)
    extra = [ExternalAnswers(answers_file, assistant)] if answers_file else []
    summary = run_eval(
        settings,
        questions_file,
        out_dir,
        k=k,
        baselines=list(baselines),
        judge=judge,
        assistant=assistant,
        extra_systems=extra,
    )
    console.print_json(json.dumps(summary.get("headline", summary), ensure_ascii=False))
    if gate_file:
        from .evaluation.gate import check, load_thresholds

        checks = check(summary, load_thresholds(gate_file))
        for c in checks:
            console.print(str(c), markup=False)
        if any(not c.ok for c in checks):
            sys.exit(1)


if __name__ == "__main__":
    main()
