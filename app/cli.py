"""The people's commands of the zhengce CLI: index, add, search, ask, compare, serve, chunks, info, demo.
Parsing and printing only: each command calls the Library API (zhengce/library.py); heavy imports happen
inside the commands, so `zhengce --help` is instant. zhengce/cli.py puts these and eval's commands together.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from zhengce.cli import chunk_config, dirs

EXAMPLE_QUERY = "积分入学政策"


def add_commands(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("index", parents=[common], help="build or update the index from the corpus")
    p.add_argument("--model", default=None, help="sentence-transformers id or local folder (env ZHENGCE_MODEL; default: bundled multilingual-e5-small)")
    p.add_argument("--chunk-size", type=int, default=None, help="maximum characters per chunk (default 300)")
    p.add_argument("--chunk-overlap", type=int, default=None, help="characters shared by neighbouring chunks (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("add", parents=[common], help="copy documents into the corpus, catalog them and update the index")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help=".txt .md .html .docx .pdf .doc .wps")
    p.add_argument("--year", type=int, default=None, help="the documents' year (default: inferred from title, first lines or file name)")
    p.add_argument("--title", default=None, help="the document's title (one file only)")
    p.add_argument("--replace", action="store_true", help="replace a corpus file of the same name")
    p.add_argument("--model", default=None, help="model for a new index (default: the index's own / bundled model)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_add)

    p = sub.add_parser("remove", parents=[common], help="take documents out of the corpus (kept in corpus/.removed/) and update the index")
    p.add_argument("docs", nargs="+", metavar="DOC", help="document id or file name (see zhengce info)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_remove)

    p = sub.add_parser("edit", parents=[common], help="correct a document's title, year, issuer, date or 文号 (written to catalog.toml)")
    p.add_argument("doc", metavar="DOC", help="document id or file name")
    p.add_argument("--title", default=None)
    p.add_argument("--year", default=None)
    p.add_argument("--issuer", default=None)
    p.add_argument("--date", default=None, help="成文日期 as the document writes it, e.g. 2019年3月")
    p.add_argument("--doc-number", default=None, help="文号, e.g. 晋教〔2019〕12号")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_edit)

    p = sub.add_parser("changes", parents=[common], help="who added, edited or removed which document, newest first")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_changes)

    # search and ask take the same filters and the same batch/JSON options
    querying = argparse.ArgumentParser(add_help=False)
    querying.add_argument("--k", type=int, default=5, help="number of passages (default 5)")
    querying.add_argument("--year", type=int, action="append", help="only documents of this year (repeatable)")
    querying.add_argument("--doc", action="append", help="only this document id (repeatable)")
    querying.add_argument("--batch", type=Path, help="file with one query per line (text, or JSON with a 'query' field)")
    querying.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("search", parents=[common, querying], help="search the index")
    p.add_argument("query", nargs="?", help="question or keywords")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    p.set_defaults(run=cmd_search)

    p = sub.add_parser("compare", parents=[common], help="compare a topic across years: passages per year and what changed")
    p.add_argument("topic", help="policy topic, e.g. 学前教育")
    p.add_argument("--years", default=None, help="comma-separated years, e.g. 2018,2019 (default: all indexed years)")
    p.add_argument("--k", type=int, default=3, help="passages per year (default 3)")
    p.add_argument("--series", default=None, help="which series, e.g. 临澜市教育局·要点 (default: the topic's best; see the note)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_compare)

    p = sub.add_parser("ask", parents=[common, querying], help="answer a question from cited passages")
    p.add_argument("question", nargs="?", help="the question, e.g. 积分入学政策是什么？")
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser("serve", parents=[common], help="start the web chat (builds the index first if there is none)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for the network)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("chunks", parents=[common], help="show how the corpus documents are split into chunks")
    p.add_argument("--doc", help="only this document id")
    p.add_argument("--chunk-size", type=int, default=None)
    p.add_argument("--chunk-overlap", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_chunks)

    p = sub.add_parser("info", parents=[common], help="corpus, index and model facts")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_info)

    p = sub.add_parser("demo", parents=[common], help="build the index if needed and run a sample search")
    p.add_argument("query", nargs="?", default=EXAMPLE_QUERY)
    p.set_defaults(run=cmd_demo)


def cmd_index(args) -> int:
    from zhengce.library import index_corpus

    corpus_dir, index_dir = dirs(args)
    result = index_corpus(corpus_dir, index_dir, model_id=args.model, chunk_config=chunk_config(args), show_progress=not args.quiet)
    report = result.report
    for problem in result.problems:
        print(f"zhengce: skipped {problem.file}: {problem.reason}", file=sys.stderr)
    for note in result.notes:
        print(f"note: {note.line()}")
    print(
        f"indexed {report.documents} document(s), {report.chunks} chunks "
        f"({report.embedded} embedded, {report.reused} reused) in {report.seconds:.1f}s → {index_dir} [{report.generation}]"
    )
    if result.published:
        print(f"published → {result.published}")
    return 1 if result.problems else 0


def cmd_add(args) -> int:
    from zhengce.add import add_documents
    from zhengce.app.present import issuer_label, year_label

    corpus_dir, index_dir = dirs(args)
    result = add_documents(
        args.files, corpus_dir, index_dir, year=args.year, title=args.title, replace=args.replace,
        model_id=args.model, show_progress=not args.quiet,
    )
    for problem in result.problems:
        print(f"zhengce: not added: {problem.reason}", file=sys.stderr)
    for meta in result.added:
        year = year_label(meta.year) + ("" if meta.year else " (set it with --year or in catalog.toml)")
        print(f"added {meta.file}: 《{meta.title}》 {year} {issuer_label(meta.issuer)} {meta.date}".rstrip())
    for note in result.notes:
        print(f"note: {note.line()}")
    if result.index is not None:
        for problem in result.index.problems:
            print(f"zhengce: skipped {problem.file}: {problem.reason}", file=sys.stderr)
        report = result.index.report
        print(
            f"indexed {report.documents} document(s), {report.chunks} chunks "
            f"({report.embedded} embedded, {report.reused} reused) in {report.seconds:.1f}s → {index_dir} [{report.generation}]"
        )
    return 1 if result.problems or not result.added else 0


def print_index_report(result, index_dir: Path) -> None:
    report = result.report
    for problem in result.problems:
        print(f"zhengce: skipped {problem.file}: {problem.reason}", file=sys.stderr)
    print(
        f"indexed {report.documents} document(s), {report.chunks} chunks "
        f"({report.embedded} embedded, {report.reused} reused) in {report.seconds:.1f}s → {index_dir} [{report.generation}]"
    )


def cmd_remove(args) -> int:
    from zhengce.manage import REMOVED_DIR, remove_documents

    corpus_dir, index_dir = dirs(args)
    result = remove_documents(args.docs, corpus_dir, index_dir, show_progress=not args.quiet)
    for name in result.files:
        print(f"removed {name} (kept in {corpus_dir / REMOVED_DIR})")
    print_index_report(result.index, index_dir)
    return 0


def cmd_edit(args) -> int:
    from zhengce.manage import edit_document

    corpus_dir, index_dir = dirs(args)
    changes = {"title": args.title, "year": args.year, "issuer": args.issuer, "date": args.date, "doc_number": args.doc_number}
    result = edit_document(args.doc, changes, corpus_dir, index_dir, show_progress=not args.quiet)
    print(f"edited {result.files[0]} in {corpus_dir / 'catalog.toml'}")
    print_index_report(result.index, index_dir)
    return 0


def cmd_changes(args) -> int:
    from zhengce.manage import read_changes

    corpus_dir, _ = dirs(args)
    changes = read_changes(corpus_dir, limit=args.limit)
    for change in changes:
        print(json.dumps(change.__dict__, ensure_ascii=False) if args.json else change.line())
    if not changes and not args.json:
        print(f"no changes recorded in {corpus_dir}")
    return 0


def read_batch(path: Path) -> list[str]:
    from zhengce.errors import ZhengceError

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ZhengceError(f"cannot read batch file {path} ({exc})") from None
    queries = []
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                line = str(json.loads(line)["query"])
            except (json.JSONDecodeError, KeyError, TypeError):
                raise ZhengceError(f"{path}:{number}: a JSON line needs a \"query\" field") from None
        queries.append(line)
    return queries


def print_batch(path: Path, key: str, run) -> int:
    """One JSON line per line of the batch file; a bad line gets an "error" field and the rest go on."""
    from zhengce.errors import ZhengceError

    for query in read_batch(path):
        try:
            row = run(query)
        except ZhengceError as exc:
            row = {key: query, "error": str(exc)}
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return 0


def open_library(args):
    """The index of --index-dir, built from --corpus first when there is none yet (progress on stderr)."""
    from zhengce.library import Library

    corpus_dir, index_dir = dirs(args)
    return Library.open(corpus_dir, index_dir, progress=True)


def cmd_search(args) -> int:
    from zhengce.errors import ZhengceError

    if args.batch is None and not (args.query or "").strip():
        raise ZhengceError("empty query; usage: zhengce search \"积分入学政策\"")
    lib = open_library(args)
    options = dict(k=args.k, mode=args.mode, years=args.year, docs=args.doc)
    if args.batch is not None:
        return print_batch(args.batch, "query", lambda q: {"query": q, "hits": [h.to_json() for h in lib.search(q, **options)]})
    hits = lib.search(args.query, **options)
    if args.json:
        print(json.dumps([h.to_json() for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("no matching passages")
    for hit in hits:
        print_hit(hit)
    return 0


def parse_years(text: str | None) -> list[int] | None:
    from zhengce.errors import ZhengceError

    if not text:
        return None
    try:
        return [int(part) for part in text.replace("，", ",").split(",") if part.strip()]
    except ValueError:
        raise ZhengceError(f"--years takes comma-separated years such as 2018,2019, not {text!r}") from None


def cmd_compare(args) -> int:
    result = open_library(args).compare(args.topic, years=parse_years(args.years), k=args.k, series=args.series)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return 0
    print_comparison(result)
    return 0


def print_comparison(result) -> None:
    if result.series and len(result.years) >= 2:
        print(f"series: {result.series}")
    if result.notice:
        print(f"note: {result.notice}\n")
    for year_passages in result.passages:
        print(f"== {year_passages.year}年 ==")
        for hit in year_passages.hits:
            print(f"  [{hit.rank}] 《{hit.title}》 § {hit.section}")
            print(f"      {hit.text}")
        print()
    if len(result.years) < 2:
        return
    print("== 变化 changes ==")
    if not result.numbers and not result.measures:
        print("  no changed figures or measures found in these passages")
    for change in result.numbers:
        print(f"  {change.year_before}→{change.year_after}  {change.subject}: {change.before} → {change.after}   § {change.section_after}")
    for change in result.measures:
        label = f"新增 new in {change.year}" if change.kind == "new" else f"未再提及 dropped after {change.year}"
        print(f"  {change.year_before}→{change.year_after}  {label}: {change.clause}   § {change.section}")


def print_hit(hit) -> None:
    from zhengce.app.present import mark_terms, place_label, year_label

    color = sys.stdout.isatty()
    similarity = f"  similarity {hit.dense_score:.3f}" if hit.dense_score is not None else ""
    print(f"[{hit.rank}] score {hit.score:.4f}{similarity}  《{hit.title}》 {year_label(hit.year)}")
    print(f"    {place_label(hit.section, hit.pages)}")
    print(f"    {mark_terms(hit.text, hit.matched, ansi=color)}")
    print()


def cmd_ask(args) -> int:
    from zhengce.app.present import place_label, year_label
    from zhengce.errors import ZhengceError
    from zhengce.generate import generator_from_env

    if args.batch is None and not (args.question or "").strip():
        raise ZhengceError("empty question; usage: zhengce ask \"积分入学政策是什么？\"")
    lib = open_library(args)
    generator, name = generator_from_env()
    options = dict(k=args.k, years=args.year, docs=args.doc, generator=generator, generator_name=name)
    if args.batch is not None:
        return print_batch(args.batch, "question", lambda q: lib.ask(q, **options).to_json())
    answer = lib.ask(args.question, **options)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return 0
    for notice in answer.notices:  # before the answer: a caution (把握不大) must be read first
        print(f"! {notice}")
    print(answer.text)
    print()
    for citation in answer.citations:
        hit = citation.hit
        print(f"[{citation.marker}] 《{hit.title}》 {year_label(hit.year)}  {place_label(hit.section, hit.pages)}")
    if answer.possibly_related and not answer.answerable:
        print(f"({answer.reason})")
        print("possibly related:")
        for hit in answer.possibly_related:
            print(f"  《{hit.title}》 {place_label(hit.section, hit.pages)}")
    return 0


def cmd_serve(args) -> int:
    from zhengce.app.web import serve

    corpus_dir, index_dir = dirs(args)
    serve(corpus_dir, index_dir, args.host, args.port)
    return 0


def cmd_chunks(args) -> int:
    from zhengce.app.present import place_label
    from zhengce.library import check_corpus_dir
    from zhengce.ingest.chunk import chunk_document
    from zhengce.errors import ZhengceError
    from zhengce.ingest.pipeline import ingest_corpus

    corpus_dir, _ = dirs(args)
    check_corpus_dir(corpus_dir)
    documents, problems = ingest_corpus(corpus_dir)
    for problem in problems:
        print(f"zhengce: skipped {problem.file}: {problem.reason}", file=sys.stderr)
    if args.doc:
        documents = [d for d in documents if d.meta.doc_id == args.doc]
        if not documents:
            raise ZhengceError(f"no document {args.doc!r} in {corpus_dir}; document ids are file names without extension")
    config = chunk_config(args)
    rows = [c.to_json() for d in documents for c in chunk_document(d, config)]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        print(f"{row['chunk_id']}  {row['doc_id']}  #{row['position']}  {len(row['text'])} chars")
        print(f"    {place_label(row['section'], row.get('pages'))}")
        print(f"    {row['text']}")
        print()
    return 0


def cmd_info(args) -> int:
    from zhengce.app.present import UNSTATED, issuer_label, year_label
    from zhengce.library import describe

    corpus_dir, index_dir = dirs(args)
    info = describe(corpus_dir, index_dir)
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0
    print(f"corpus   {info['corpus']['path']}  ({len(info['corpus'].get('files', []))} files)")
    print(f"index    {info['index']['path']}")
    index = info["index"]
    if index.get("status") != "ok":
        print(f"         {index['status']}")
    else:
        print(f"         {index['generation']} built {index['created']}, {index['chunks']} chunks, schema {index['schema_version']}")
        print(f"         chunker {index['chunker']}")
        dense = index["dense"]
        kind = "exact" if dense.get("exact", True) else f"approximate {dense.get('params')}"
        print(f"         dense {dense['faiss']} ({kind}; exact up to {dense.get('exact_search_max_chunks', '?')} chunks); keyword {index['keyword']['tokenizer']}")
        per_year = ", ".join(f"{UNSTATED if y == 'None' else y}: {n}" for y, n in index["documents_per_year"].items())
        print(f"         documents per year: {per_year}")
        for d in index["documents"]:
            issuers = issuer_label(d["issuer"]) + (f"、{d['co_issuers']}" if d.get("co_issuers") else "")
            facts = " ".join(x for x in (year_label(d["year"]), issuers, d["date"], d.get("doc_number"), d.get("doc_type")) if x)
            print(f"         - {d['doc_id']}: 《{d['title']}》 {facts} ({d['chunk_count']} chunks)")
            if d.get("notice_title"):
                print(f"           印发通知: 《{d['notice_title']}》")
    model = info["model"]
    print(f"model    {model.get('index_model', model['configured'])}" + (f", dimension {model['dimension']}" if "dimension" in model else ""))
    print(f"         cache {model['cache']}")
    return 0


def cmd_demo(args) -> int:
    from zhengce.library import Library, ensure_index

    corpus_dir, index_dir = dirs(args)
    built = ensure_index(corpus_dir, index_dir)
    if built:
        print(f"built the index: {built.report.chunks} chunks → {index_dir}")
    lib = Library.open(corpus_dir, index_dir, build=False)
    print(f"zhengce search \"{args.query}\"\n")
    for hit in lib.search(args.query, k=3):
        print_hit(hit)
    return 0
