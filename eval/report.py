"""Write an eval run as markdown (tables + failure list), JSON (everything) and a PNG chart (modes × tags).

Files are named by the time of the run (eval-20261129-140501.md/.json/.png) so earlier runs stay;
zhengce.paths.latest_eval_report() reads the newest markdown for the web app's report tab.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

from zhengce.eval.run import ItemResult, tag_order

TABLE_COLUMNS = ("n", "hit@1", "hit@3", "hit@5", "recall@k", "mrr@10", "ndcg@10", "oos_flagged", "false_flags", "oos_flagged_or_hedged", "hedged", "wrong_doc", "latency_ms_p50", "latency_ms_p95")
CHART_METRICS = ("hit@5", "mrr@10")


def fmt(value) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else (f"{value:.0f}" if value >= 10 else f"{value:.3f}")
    return str(value)


def summary_table(per_tag: dict) -> list[str]:
    lines = ["| tag | " + " | ".join(TABLE_COLUMNS) + " |", "| --- |" + " ---: |" * len(TABLE_COLUMNS)]
    for tag, row in per_tag.items():
        n = row["n"] if tag not in ("out_of_scope", "near", "far") else row["n_out_of_scope"]
        if not n and not row["n_out_of_scope"]:
            continue  # no question of this tag in this half: no row rather than a row of dashes
        cells = [fmt(n)] + [fmt(row[c]) for c in TABLE_COLUMNS[1:]]
        lines.append(f"| {tag} | " + " | ".join(cells) + " |")
    return lines


def failure_lines(results: list[ItemResult]) -> list[str]:
    lines: list[str] = []
    for r in results:
        if not r.failed:
            continue
        if not r.answerable:
            why = f"out of scope but judged answerable ({r.reason})"
        elif r.hit[5] == 0.0:
            why = f"gold not in top 5 (first at rank {r.first_rank})" if r.first_rank else "gold not in the top k"
            why += "; also flagged unanswerable" if r.flagged else ""
        elif r.flagged:
            why = f"gold at rank {r.first_rank} but flagged unanswerable ({r.reason})"
        else:
            why = f"answer quoted {', '.join(r.answer_docs)}, not the gold document"
        lines.append(f"- **{r.id}** [{r.mode}, {r.split}, {', '.join(r.tags)}] {r.query} — {why}")
        for p in r.top:
            scores = ", ".join(
                f"{name} {value:.3f}" for name, value in (("cos", p.dense_score), ("bm25", p.bm25_score)) if value is not None
            )
            mark = "✓" if p.relevant else "✗"
            lines.append(f"    {p.rank}. {mark} ({scores}) § {p.section}: {p.text[:80]}…")
    return lines or ["(none)"]


def render_markdown(summary: dict, results: list[ItemResult], meta: dict, chart_name: str | None) -> str:
    lines = [
        f"# Retrieval evaluation — {meta['created']}",
        "",
        f"Test set `{meta['testset']}`: {meta['items']} questions ({meta['answerable']} answerable, "
        f"{meta['out_of_scope']} out of scope). Index: {meta['chunks']} chunks, chunker {meta['chunker']}, "
        f"model `{meta['model']}`, embedded text `{meta['embed_text']}`; k = {meta['k']}.",
        "",
        *([f"Gold matching {meta['gold_match']} (--fuzzy-gold): {meta['approximate_golds']} gold substring(s) "
           f"matched only approximately, {meta['unfound_golds']} not found (counted as misses).", ""] if meta.get("gold_match", "exact") != "exact" else []),
        "hit@n: a passage covering a gold substring is among the top n; recall@k: share of gold substrings "
        "covered by the top k; oos_flagged: out-of-scope questions judged unanswerable; false_flags: "
        "answerable questions judged unanswerable; oos_flagged_or_hedged: out-of-scope questions judged "
        "unanswerable or answered with a caution (把握不大); hedged: answerable questions answered with a caution; "
        "wrong_doc: answers (hybrid) quoting another document than the question's gold document. "
        "Tune on dev, report held-out.",
        "",
    ]
    if chart_name:
        lines += [f"![hit@5 and MRR@10 per mode and tag]({chart_name})", ""]
    for mode, splits in summary.items():
        for split in ("heldout", "dev", "all"):
            if split in splits:
                lines += [f"## {mode} — {split}", "", *summary_table(splits[split]), ""]
    lines += ["## Failures", "", "Answerable questions whose gold is not in the top 5, wrong flags, answers from another document, with the top 3 passages (✓ covers gold).", ""]
    for mode in sorted(summary, key=lambda m: m != "hybrid"):  # hybrid first: it is what people use
        lines += [f"### {mode}", "", *failure_lines([r for r in results if r.mode == mode]), ""]
    return "\n".join(lines) + "\n"


def render_chart(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; must precede pyplot
    import matplotlib.pyplot as plt

    modes = list(summary)
    split = "heldout" if all("heldout" in summary[m] for m in modes) else "all"  # the targets are on held-out
    per_tag = {m: summary[m][split] for m in modes}
    tags = [t for t in sorted({t for m in modes for t in per_tag[m]}, key=tag_order) if t != "out_of_scope"]
    tags = ["all"] + [t for t in tags if t != "all"]
    fig, axes = plt.subplots(1, len(CHART_METRICS), figsize=(6 * len(CHART_METRICS), 4), sharey=True)
    width = 0.8 / max(1, len(modes))
    for ax, metric in zip(axes, CHART_METRICS):
        for i, mode in enumerate(modes):
            values = [per_tag[mode].get(t, {}).get(metric, float("nan")) for t in tags]
            ax.bar([x + i * width for x in range(len(tags))], values, width, label=mode)
        ax.set_xticks([x + width * (len(modes) - 1) / 2 for x in range(len(tags))], tags, rotation=30)
        ax.set_title(f"{metric} ({split})")
        ax.set_ylim(0, 1.05)
        ax.axhline(1.0, color="grey", linewidth=0.5)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(summary: dict, results: list[ItemResult], meta: dict, out_dir: Path) -> dict[str, Path]:
    """Write eval-<time>.md/.json/.png into out_dir; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = "eval-" + time.strftime("%Y%m%d-%H%M%S")
    paths = {"markdown": out_dir / f"{stem}.md", "json": out_dir / f"{stem}.json", "chart": out_dir / f"{stem}.png"}
    render_chart(summary, paths["chart"])
    paths["json"].write_text(
        json.dumps({"meta": meta, "summary": summary, "items": [r.to_json() for r in results]}, ensure_ascii=False, indent=1, default=str),
        encoding="utf-8",
    )
    # markdown last: latest_eval_report() only ever sees a report whose chart and JSON already exist
    paths["markdown"].write_text(render_markdown(summary, results, meta, paths["chart"].name), encoding="utf-8")
    return paths


