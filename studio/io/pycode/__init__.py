"""Python code -> graph specs: functional-API code is read with the ``ast`` module and never run.

``parse_code(source)`` returns a :class:`ParseResult`: the models the code defines (each with its spec and
the training settings its ``compile``/``fit`` give), notes on skipped lines and assumptions, and errors
with their line and column for what is not supported.
"""

from studio.io.pycode.reader import MAX_NESTING, MAX_SOURCE_BYTES, parse_code
from studio.io.pycode.result import CodeNote, CodeProblem, ParsedModel, ParseResult

__all__ = ["MAX_NESTING", "MAX_SOURCE_BYTES", "CodeNote", "CodeProblem", "ParseResult", "ParsedModel", "parse_code"]
