"""What the knowledge base's life looks like to an admin and a curious member: reload and rollback reports, the
kept versions, /kb status, and "Why this answer?". Rendering only, within Discord's limits and mention-safe."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import discord

from knowledge import Cluster, Explanation, KnowledgeBase

from . import render
from .render import clip, content, fit, quote, safe
from .usage import Usage

if TYPE_CHECKING:
    from .store import KnowledgeStore, ReloadResult
    from .versions import Version

FAILING_SHOWN = 10  # failing checks named in a report; the count is always whole
FIELD_LIMIT = 1024
OK_COLOUR = discord.Colour.green()
REFUSED_COLOUR = discord.Colour.red()
OUT_OF_DATE = "⚠ Out of date: the knowledge base has changed since this answer (now version `{version}`)."


def bot_version() -> str:
    try:
        return importlib.metadata.version("iom-bot")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def rollback_summary(result: ReloadResult) -> str:
    if not result.ok:
        return content(f"Rollback failed: {safe(result.error or 'unknown error')}")
    return content(
        f"Rolled back the knowledge base: version `{result.version}` (was `{result.previous_version}`), "
        f"{result.documents} documents, {result.passages} passages, in {result.seconds * 1000:.0f} ms."
    )


def reload_embed(result: ReloadResult, knowledge: KnowledgeBase) -> discord.Embed | None:
    """The checks and the named changes of a reload or rollback (None when it never got that far)."""
    if result.checks is None and result.changes is None:
        return None
    refused = bool(result.refused) and not result.forced
    title = "Refused: the new version failed its checks" if refused else "Checks and changes"
    embed = discord.Embed(title=title, colour=REFUSED_COLOUR if refused else OK_COLOUR)
    if result.forced:
        embed.description = "Forced past the checks: " + safe("; ".join(result.refused))
    elif refused:
        embed.description = safe("; ".join(result.refused)) + f". Still serving `{result.version}`."
    if result.checks is not None:
        embed.add_field(name="Checks", value=result.checks.summary(), inline=False)
    if result.failing_checks:
        embed.add_field(name="Failing checks", value=_bullets(result.failing_checks), inline=False)
    if result.changes is not None:
        lines = result.changes.lines(knowledge)
        if not result.rollback:
            lines.append(f"Answers to the checks that changed: {result.changed_answers}")
        embed.add_field(name="Changes", value=clip("\n".join(safe(line) for line in lines), FIELD_LIMIT), inline=False)
    return fit(embed)


def versions_embed(versions: Sequence[Version], serving: str) -> discord.Embed:
    """The kept versions, newest first: when and by whom loaded, source hash, counts, checks."""
    embed = discord.Embed(title="Knowledge-base versions", colour=render.LOOKUP_COLOUR)
    for version in versions:
        knowledge = version.knowledge
        marks = " (serving)" if version.id == serving else ""
        marks += " (forced)" if version.forced else ""
        embed.add_field(
            name=f"{version.id}{marks}",
            value=clip(
                f"{render._when(version.loaded_at)} by {safe(version.loaded_by)}\n"
                f"sources sha256 `{version.id}`, {len(knowledge.documents)} documents, "
                f"{len(knowledge.passages)} passages, {knowledge.sentence_count} sentences\n"
                f"{version.checks.summary()}",
                FIELD_LIMIT,
            ),
            inline=False,
        )
    if not versions:
        embed.description = "No version recorded."
    embed.set_footer(text="/kb rollback [version] serves a kept version again")
    return fit(embed)


def status_embed(
    store: KnowledgeStore,
    usage: Usage,
    *,
    gateway_latency_s: float,
    index_state: str,
    storage_state: str | None = None,
) -> discord.Embed:
    """Everything an admin checks first: versions, age, size, use, latency, scorer, saved index, last reload."""
    knowledge = store.current
    embed = render.status_embed(knowledge, store.last_reload, reloading=store.reloading)
    embed.insert_field_at(0, name="Bot", value=f"iom-bot {bot_version()}, up {_duration(usage.uptime_s)}")
    embed.add_field(name="Sentences", value=str(knowledge.sentence_count))
    embed.add_field(name="Answers since start", value=f"{usage.answers} ({usage.abstentions} abstentions)")
    p50, p95 = usage.percentile(0.5), usage.percentile(0.95)
    latency = "no answers yet" if p50 is None or p95 is None else f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"
    embed.add_field(name="Answer latency", value=latency)
    gateway = "unknown" if gateway_latency_s != gateway_latency_s else f"{gateway_latency_s * 1000:.0f} ms"  # NaN
    embed.add_field(name="Gateway latency", value=gateway)
    embed.add_field(name="Scorer", value=_scorer(knowledge))
    embed.add_field(name="Saved index", value=safe(index_state), inline=False)
    if storage_state is not None:
        embed.add_field(name="Storage", value=clip(safe(storage_state), FIELD_LIMIT), inline=False)
    serving = store.serving
    if serving is not None:
        embed.add_field(name="Checks of the serving version", value=_checks_value(serving), inline=False)
    return fit(embed)


def index_state(knowledge: KnowledgeBase, directory: Path | None) -> str:
    """Whether the saved index (knowledge.index) was written for the serving version, or why not (a thread)."""
    if directory is None:
        return "not configured (knowledge.index is null): the sources are indexed at every start"
    matches = knowledge.saved_index_matches(directory)
    if matches:
        return f"written at {directory}, for this version"
    if matches is None:
        return f"not written at {directory} (no readable index there: see the log for why the save failed)"
    return f"{directory} holds an index of other sources (saved by another version)"


def explain_embed(explanation: Explanation, knowledge: KnowledgeBase, version_note: str | None) -> discord.Embed:
    """ "Why this answer?": the confidence, what matched, the runner-up, and the passage."""
    answer = explanation.answer
    embed = discord.Embed(title="Why this answer?", colour=render.LOOKUP_COLOUR)
    lines = []
    if version_note:
        lines.append(version_note)
    if answer.abstained:
        lines.append(
            f"Today I would not answer this: {safe(answer.reason or 'no sentence answers it with confidence')}."
        )
    else:
        lines.append(f"Confidence that the quoted sentence answers it: {explanation.probability:.0%}.")
    embed.description = "\n".join(lines)
    if explanation.matched_terms:
        embed.add_field(name="Matched words", value=safe(", ".join(explanation.matched_terms)), inline=False)
    if explanation.concepts:
        concepts = ", ".join(c.replace("_", " ") for c in explanation.concepts)
        embed.add_field(name="Glossary concepts", value=safe(concepts), inline=False)
    if explanation.asked_before:
        asked = "\n".join(f"• {safe(question)}" for question in explanation.asked_before)
        embed.add_field(name="Asked before, answered with this sentence", value=clip(asked, FIELD_LIMIT), inline=False)
    if explanation.runner_up:
        embed.add_field(
            name=f"Runner-up ({explanation.runner_up_probability:.0%})",
            value=clip(quote(explanation.runner_up), FIELD_LIMIT),
            inline=False,
        )
    if explanation.passage is not None:
        embed.add_field(name="Passage", value=clip(quote(explanation.passage.text), FIELD_LIMIT), inline=False)
    embed.set_footer(text=f"knowledge base {knowledge.version}")
    return fit(embed)


def _checks_value(version: Version) -> str:
    report = version.checks
    text = report.summary()
    if report.failed:
        text += "\nFailing:\n" + _bullets([r.question for r in report.failed])
    return clip(text, FIELD_LIMIT)


def _bullets(items: Sequence[str]) -> str:
    shown = [f"• {safe(item)}" for item in items[:FAILING_SHOWN]]
    if len(items) > FAILING_SHOWN:
        shown.append(f"… and {len(items) - FAILING_SHOWN} more")
    return clip("\n".join(shown), FIELD_LIMIT)


def _scorer(knowledge: KnowledgeBase) -> str:
    index = getattr(knowledge.retriever, "unit_index", None)
    scorer = getattr(index, "scorer", None)
    engine = getattr(scorer, "engine", None)
    return {"numba": "compiled (numba)", "numpy": "numpy"}.get(str(engine), str(engine or "unknown"))


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h {minutes}m" if days else f"{hours}h {minutes}m {secs}s"


# -- learning from use (issue 15) ------------------------------------------------------------------------------------

CLUSTERS_SHOWN = 10
FEEDBACK_SHOWN = 5


def unanswered_embed(clusters: Sequence[Cluster], days: int, *, record_questions: bool) -> discord.Embed:
    """The doubtful questions of the last days, grouped, most frequent first, with an example each."""
    what = "questions" if record_questions else "questions (their analysed terms: storage.record_questions is off)"
    embed = discord.Embed(title=f"Unanswered and doubtful {what}, last {days} days", colour=render.LOOKUP_COLOUR)
    lines = [f"**{c.count}×** {safe(clip(c.example, 200))}" for c in clusters[:CLUSTERS_SHOWN]]
    embed.description = "\n".join(lines) if lines else "None recorded."
    if len(clusters) > CLUSTERS_SHOWN:
        embed.set_footer(text=f"{len(clusters) - CLUSTERS_SHOWN} more groups in the CSV export")
    return fit(embed)


def feedback_embed(rows: Sequence[dict[str, object]], days: int, knowledge: KnowledgeBase) -> discord.Embed:
    """The worst-rated answers of the last days, with their passages."""
    embed = discord.Embed(title=f"Worst-rated answers, last {days} days", colour=render.LOOKUP_COLOUR)
    for row in rows[:FEEDBACK_SHOWN]:
        ids = str(row["passage_ids"] or "").split()
        passage = knowledge.passage(ids[0]) if ids else None
        text = quote(passage.text) if passage is not None else "*(passage not in the current version)*"
        wrong = f", {row['wrong_article']} wrong article" if row["wrong_article"] else ""
        embed.add_field(
            name=clip(f"👍 {row['up']} 👎 {row['down']}{wrong} · {ids[0] if ids else 'no passage'}", 256),
            value=clip(f"{text}\n{safe(str(row['articles'] or ''))} · version `{row['kb_version']}`", FIELD_LIMIT),
            inline=False,
        )
    if not rows:
        embed.description = "No votes recorded."
    return fit(embed)


def csv_file(name: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> discord.File:
    """A CSV attachment of rows."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return discord.File(io.BytesIO(buffer.getvalue().encode()), filename=name)
