"""Runs schemathesis's CLI (`st`), after one workaround.

Hypothesis describes the lambda of a `.filter(...)` by parsing the whole source file it comes from, and caches the
parse. For schemathesis's coverage module (thousands of lines) CPython 3.11 can fail that parse when it happens deep
in the stack ("SystemError: AST constructor recursion depth mismatch"), which aborts the run with no finding about the
server. Parsing that module here, at the top of the stack, fills Hypothesis's cache (made large enough to keep it),
so the deep parse never runs.
"""
import ast
import inspect
import sys


def warm_lambda_source_cache():
    try:
        from hypothesis.internal import lambda_sources
        from hypothesis.internal.cache import LRUCache
        import schemathesis.specs.openapi.coverage._schema as coverage_schema

        # The stock cache holds 100 files and a run describes lambdas of more than that, evicting this entry.
        lambda_sources.AST_LAMBDAS_CACHE = LRUCache(max_size=100_000)
        lines = tuple(inspect.findsource(coverage_schema)[0])
        lambda_sources.AST_LAMBDAS_CACHE[lines] = lambda_sources.extract_all_lambdas(ast.parse("".join(lines)))
    except Exception as e:  # a newer Hypothesis or schemathesis without these internals: nothing to warm
        print(f"note: lambda-source warm-up skipped ({e!r})", file=sys.stderr)


warm_lambda_source_cache()

from schemathesis.cli import schemathesis  # noqa: E402

sys.exit(schemathesis())
