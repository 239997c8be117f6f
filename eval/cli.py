"""The evaluation's commands of the zhengce CLI: eval (retrieval quality on a test set) and bench (speed and
memory). Parsing and printing only; zhengce/cli.py puts these beside the people's commands."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from zhengce.cli import chunk_config, dirs


def add_commands(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("bench", parents=[common], help="measure speed and memory (corpus size, 10k and 100k chunks; --sizes 1000000), ONNX vs torch; "
                                   "--backend milvus: search/ask latency in milvus-lite beside FAISS")
    p.add_argument("--sizes", default="10000,100000", help="synthetic corpus sizes in chunks (default 10000,100000)")
    p.add_argument("--repeats", type=int, default=3, help="passes over the query list per measurement (default 3)")
    p.add_argument("--no-cold-start", action="store_true", help="skip the serve → first answer measurement")
    p.add_argument("--no-runtimes", action="store_true", help="skip the default runtime vs torch fp32 side by side")
    p.add_argument("--out", type=Path, default=None, help="where bench.md / bench.json go (default <data dir>/bench)")
    p.set_defaults(run=cmd_bench)

    p = sub.add_parser("eval", parents=[common], help="measure retrieval on a test set: report, chart, failure list")
    p.add_argument("--testset", type=Path, default=None, help="JSON Lines test set (default: eval/testset_2018.jsonl)")
    p.add_argument("--modes", default="bm25,dense,hybrid", help="comma-separated search modes (default bm25,dense,hybrid)")
    p.add_argument("--k", type=int, default=10, help="passages retrieved per question (default 10)")
    p.add_argument("--split", choices=["all", "dev", "heldout"], default="all", help="which half of the test set (default all)")
    p.add_argument("--chunk-size", type=int, default=None, help="chunk size of the fresh index (default 300)")
    p.add_argument("--chunk-overlap", type=int, default=None)
    p.add_argument("--out", type=Path, default=None, help="report folder (default: <data dir>/eval)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--suite", action="store_true", help="every bundled test set on its corpus, hybrid: one line per set and half (in a checkout)")
    p.add_argument("--fuzzy-gold", action="store_true",
                   help="for OCRed or re-typed corpora: a gold substring may match with one misread Chinese character in 17 (counted in the output)")
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("eval-metadata", help="measure title/year/issuer/date/文号/type inference against a truth file")
    p.add_argument("folder", type=Path, help="folder of documents (read without a catalog)")
    p.add_argument("--truth", type=Path, required=True, help="JSON list of {file, title, year, issuer, date, doc_number, doc_type}")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_eval_metadata)

    p = sub.add_parser("eval-ocr", parents=[common], help="measure OCR: render a corpus document as a scan, read it back, character error rate")
    p.add_argument("--doc", default=None, help="document id to render (default: the corpus's first document)")
    p.add_argument("--variants", default="clean,noisy,pdf", help="comma-separated: clean (200 dpi PNG pages), noisy (150 dpi, skewed, grainy JPEG), pdf (PDF of 150 dpi page images)")
    p.add_argument("--pages", type=int, default=None, help="only the first N pages (a quick check)")
    p.add_argument("--out", type=Path, default=None, help="where the page images, OCR text and the scan corpus go (default <data dir>/eval-ocr)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_eval_ocr)

    p = sub.add_parser("eval-compare", parents=[common], help="measure compare against labelled changes within a series")
    p.add_argument("--labels", type=Path, required=True, help="JSON with changes and not_changes (see eval/compare_eval.py)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_eval_compare)


def cmd_bench(args) -> int:
    from zhengce.paths import default_data_dir
    from zhengce.eval.bench import run_bench, save, to_markdown
    from zhengce.errors import ZhengceError

    try:
        sizes = tuple(int(s) for s in args.sizes.split(",") if s.strip())
    except ValueError:
        raise ZhengceError("--sizes takes chunk counts separated by commas, e.g. 10000,100000") from None
    if args.milvus_uri:
        raise ZhengceError("zhengce bench --backend milvus measures milvus-lite in a temporary file of its own; "
                           "drop --milvus-uri (a Milvus server is not benchmarked)")
    corpus_dir, _ = dirs(args)
    out_dir = args.out or default_data_dir() / "bench"
    result = run_bench(corpus_dir, out_dir, sizes=sizes, repeats=args.repeats, cold_start=not args.no_cold_start,
                       runtimes=not args.no_runtimes, backend=os.environ.get("ZHENGCE_BACKEND") or "faiss")
    print(to_markdown(result))
    md, js = save(result, out_dir)
    print(f"saved {md} and {js}")
    return 0


def cmd_eval(args) -> int:
    """Without --index-dir the eval builds a fresh index of the corpus, so it measures the current code."""
    if args.suite:
        return run_suite(args)
    from zhengce.paths import default_eval_dir
    from zhengce.eval.report import summary_table, write_report
    from zhengce.eval.run import run_eval
    from zhengce.eval.testset import DEFAULT_TESTSET

    corpus_dir, _ = dirs(args)
    splits = ("dev", "heldout") if args.split == "all" else (args.split,)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    summary, results, meta = run_eval(
        args.testset or DEFAULT_TESTSET, corpus_dir, modes, k=args.k, index_dir=args.index_dir,
        chunk_config=chunk_config(args), splits=splits, fuzzy_gold=args.fuzzy_gold,
    )
    paths = write_report(summary, results, meta, args.out or default_eval_dir())
    if args.json:
        print(json.dumps({"meta": meta, "summary": summary, "files": {k: str(v) for k, v in paths.items()}}, ensure_ascii=False, indent=2))
        return 0
    for mode, per_split in summary.items():
        for split in ("heldout", "dev") if args.split == "all" else (args.split,):
            if split not in per_split:
                continue  # a test set with only held-out (or only dev) questions
            print(f"{mode} — {split}")
            print("\n".join(summary_table(per_split[split])))
            print()
    if args.fuzzy_gold:
        print(f"gold matching {meta['gold_match']}: {meta['approximate_golds']} gold substring(s) matched only approximately, "
              f"{meta['unfound_golds']} not found (counted as misses)")
    failed = sum(1 for r in results if r.failed)
    print(f"{failed} failed (query, mode) pairs listed in the report")
    for name, path in paths.items():
        print(f"{name:9s} {path}")
    return 0


def cmd_eval_metadata(args) -> int:
    from dataclasses import asdict

    from zhengce.eval.metadata import metadata_accuracy

    accuracy, mismatches = metadata_accuracy(args.folder, args.truth)
    if args.json:
        print(json.dumps({"accuracy": accuracy, "mismatches": [asdict(m) for m in mismatches]}, ensure_ascii=False, indent=2))
        return 0
    for field, share in accuracy.items():
        print(f"{field:13s} {share:.3f}")
    for m in mismatches:
        print(f"  {m.file}: {m.field} inferred {m.inferred!r}, truth {m.truth!r}")
    return 0


def cmd_eval_ocr(args) -> int:
    import resource

    from zhengce.eval.ocr import run_ocr_eval, to_markdown
    from zhengce.paths import default_data_dir

    corpus_dir, _ = dirs(args)
    out_dir = args.out or default_data_dir() / "eval-ocr"
    variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
    results = run_ocr_eval(corpus_dir, out_dir, doc_id=args.doc, variants=variants, max_pages=args.pages)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports kB
    if args.json:
        print(json.dumps({"variants": [r.to_json() for r in results], "peak_memory_mb": round(peak_mb)}, ensure_ascii=False, indent=2))
        return 0
    print(to_markdown(results, peak_mb))
    print(f"page images and OCR text in {out_dir}; the PDF as a corpus: zhengce eval --corpus {out_dir / 'corpus'}")
    return 0


def cmd_eval_compare(args) -> int:
    from zhengce.eval.compare_eval import compare_accuracy
    from zhengce.library import Library

    corpus_dir, index_dir = dirs(args)
    score = compare_accuracy(Library.open(corpus_dir, index_dir, progress=True), args.labels)
    if args.json:
        print(json.dumps({"found": score.found, "labelled": score.labelled, "recall": score.recall,
                          "cross_series": score.cross_series, "missed": list(score.missed)}, ensure_ascii=False, indent=2))
        return 0
    print(f"changed figures found: {score.found}/{score.labelled} ({score.recall:.2f}); changes reported across series: {score.cross_series}")
    for line in score.missed:
        print(f"  missed: {line}")
    return 0


SUITE_COLUMNS = ("n", "hit@1", "hit@5", "mrr@10", "oos_flagged", "false_flags", "wrong_doc")


def run_suite(args) -> int:
    """The bundled test sets, each on its own corpus (a fresh index each): the numbers of docs/retrieval.md."""
    from zhengce.errors import ZhengceError
    from zhengce.eval.report import fmt
    from zhengce.eval.run import run_eval
    from zhengce.eval.testset import SUITE
    from zhengce.paths import REPO_ROOT

    if REPO_ROOT is None:
        raise ZhengceError("--suite runs the test sets of a checkout (tests/collection/); run it in the repository")
    rows = []
    print("| set | half | " + " | ".join(SUITE_COLUMNS) + " | year hit@1 | place hit@1 |")
    print("| --- | --- |" + " ---: |" * (len(SUITE_COLUMNS) + 2))
    for name, testset, corpus in SUITE:
        summary, _, _ = run_eval(REPO_ROOT / testset, REPO_ROOT / corpus, ["hybrid"], k=args.k, chunk_config=chunk_config(args))
        for half, per_tag in summary["hybrid"].items():
            if half == "all" and len(summary["hybrid"]) > 1:
                continue
            row = per_tag["all"]
            extra = [fmt(per_tag.get(tag, {}).get("hit@1", float("nan"))) for tag in ("year_specific", "place_specific")]
            print(f"| {name} | {half} | " + " | ".join(fmt(row[c]) for c in SUITE_COLUMNS) + " | " + " | ".join(extra) + " |", flush=True)
            rows.append({"set": name, "half": half, **{c: row[c] for c in SUITE_COLUMNS}})
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    return 0
