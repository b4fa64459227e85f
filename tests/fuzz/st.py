"""Runs schemathesis's CLI (`st`), after one workaround.

Hypothesis describes the lambda of a `.filter(...)` by parsing the whole source file it comes from, and caches the
parse. For schemathesis's coverage module (thousands of lines) CPython 3.11 can fail that parse when it happens deep
in the stack ("SystemError: AST constructor recursion depth mismatch"), which aborts the run with no finding about the
server. Parsing that module here, at the top of the stack, fills Hypothesis's cache (a dict that keeps it),
so the deep parse never runs.

With several workers (threads) the warm-up alone is not enough: Hypothesis's `LRUCache` is not thread-safe, and a
concurrent insert can lose the warmed entry, after which the deep parse runs again and crashes (seen here with
`--workers 4`; the likely cause of a CI run that failed with `--workers 2`). So the cache becomes a plain dict
(atomic under the GIL), and a description that still fails with that SystemError falls back to Hypothesis's own
"<unknown>" form: descriptions only name strategies in reports.
"""
import ast
import inspect
import sys


def warm_lambda_source_cache():
    try:
        from hypothesis.internal import lambda_sources
        import schemathesis.specs.openapi.coverage._schema as coverage_schema

        # The stock cache holds 100 files and a run describes lambdas of more than that, evicting this entry.
        lambda_sources.AST_LAMBDAS_CACHE = {}
        lines = tuple(inspect.findsource(coverage_schema)[0])
        lambda_sources.AST_LAMBDAS_CACHE[lines] = lambda_sources.extract_all_lambdas(ast.parse("".join(lines)))

        describe = lambda_sources._lambda_description

        def describe_or_unknown(f, *args, **kwargs):
            try:
                return describe(f, *args, **kwargs)
            except SystemError:
                return "lambda: <unknown>"

        lambda_sources._lambda_description = describe_or_unknown
    except Exception as e:  # a newer Hypothesis or schemathesis without these internals: nothing to warm
        print(f"note: lambda-source warm-up skipped ({e!r})", file=sys.stderr)


warm_lambda_source_cache()

from schemathesis.cli import schemathesis  # noqa: E402

sys.exit(schemathesis())
